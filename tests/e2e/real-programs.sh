#!/bin/sh
# Real programs under interpose give what they give natively: shell
# pipelines, coreutils, a threaded Python, the user's pyenv python3, gcc,
# and a parallel make.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

# same DESCRIPTION CMD...: CMD natively and under interpose, in the same
# working directory, must give the same stdout and status; the guest's
# stderr must not hold anything from interpose.
same() {
  _d=$1; shift
  run "$T/n.out" "$T/n.err" "$@"
  _nrc=$rc
  run "$T/g.out" "$T/g.err" "$INTERPOSE" --audit="$T/audit.jsonl" -- "$@"
  check_eq "$_d: status (native $_nrc)" "$_nrc" "$rc"
  check_same_file "$_d: output" "$T/n.out" "$T/g.out"
  check_nomatch "$_d: interpose complained" '^interpose:' "$T/g.err"
  if [ "$_nrc" != 0 ]; then
    say "$_d: native run failed ($_nrc):"; sed 's/^/    | /' "$T/n.err" >&2
  fi
}

cd "$T" || exit 99

# --- shell and coreutils ---------------------------------------------------------
same "sh pipeline" sh -c 'seq 1 5000 | grep 7 | sort -r | head -n 20 | tr 0-9 a-j | paste -sd,'
same "sh subshells, here-doc, command substitution" sh -c '
x=$(echo a; (echo b; echo c) | tr a-z A-Z)
cat <<EOT
got $x
EOT
for i in 1 2 3; do (exit $i) || echo "status $?"; done'
same "ls /usr/include" ls /usr/include
same "ls -la of a stable tree" sh -c 'ls -la --time-style=+ /usr/include/linux | head -n 40'
same "sort | uniq -c" sh -c 'cat /usr/include/stdio.h /usr/include/stdlib.h | tr -s " " "\n" | sort | uniq -c | sort -rn | head -n 30'
same "wc" wc -lwc /usr/include/stdio.h /usr/include/stdlib.h /usr/include/string.h
same "sha256sum" sha256sum /usr/include/stdio.h /usr/bin/sh
same "find /usr/include | head" sh -c 'find /usr/include -name "*.h" | sort | head -n 200'
same "xargs with parallel children" sh -c 'seq 1 40 | xargs -P 4 -n 5 sh -c "echo \$# \$((\$1 * 2))" sh | sort -n'
same "tar round trip" sh -c 'mkdir -p src && echo data >src/f && tar cf - src | (mkdir -p dst && cd dst && tar xf -) && cat dst/src/f && rm -rf src dst'

# --- Python: 32 threads ------------------------------------------------------------
cat >threads.py <<'EOF'
import hashlib, threading
N = 32
results = [None] * N
def work(i):
    h = hashlib.sha256(str(i).encode())
    for _ in range(2000):
        h = hashlib.sha256(h.digest())
    results[i] = (i, sum(x * x for x in range(i * 1000)), h.hexdigest()[:16],
                  threading.current_thread().name)
ts = [threading.Thread(target=work, args=(i,), name="worker-%d" % i) for i in range(N)]
for t in ts:
    t.start()
for t in ts:
    t.join()
for r in results:
    print(*r)
print("threads alive after join:", sum(t.is_alive() for t in ts))
EOF
same "python3.11 with 32 threads" "$PY" threads.py
check_eq "python3.11 threads: one line per thread" 33 "$(wc -l <"$T/g.out")"
check_match "python3.11 threads: last worker" '^31 9929852838500 [0-9a-f]{16} worker-31$' "$T/g.out"
check_match "python3.11 threads: all joined" '^threads alive after join: 0$' "$T/g.out"
same "python3.11 subprocess and json" "$PY" -c '
import json, subprocess, sys
out = subprocess.run(["sh", "-c", "echo $((6 * 7))"], capture_output=True, text=True).stdout
print(json.dumps({"answer": int(out), "argv": sys.argv}))' x y

# --- the user's python3 (pyenv shim or whatever PATH finds) ----------------------------
if p3=$(command -v python3); then
  same "python3 on PATH ($p3)" python3 -c 'import sys; print(1, sys.version_info[0])'
  check_eq "python3 on PATH: prints 1 3" "1 3" "$(cat "$T/g.out")"
else
  say "SKIP part: no python3 on PATH"
fi

# --- gcc ---------------------------------------------------------------------------
if command -v gcc >/dev/null; then
  mkdir -p "$T/cc"
  cat >"$T/cc/hello.c" <<'EOF'
#include <stdio.h>
int main(int argc, char **argv) { printf("hello, %s\n", argc > 1 ? argv[1] : "world"); return 0; }
EOF
  run "$T/g.out" "$T/g.err" "$INTERPOSE" --audit="$T/audit.jsonl" gcc -O1 -Wall -o "$T/cc/hello" "$T/cc/hello.c"
  check_eq "gcc under interpose: status" 0 "$rc"
  [ "$rc" = 0 ] || sed 's/^/    | /' "$T/g.err" >&2
  same "the compiled program" "$T/cc/hello" there
  check_eq "the compiled program's output" "hello, there" "$(cat "$T/g.out")"
  gcc -O1 -Wall -o "$T/cc/hello.native" "$T/cc/hello.c"
  # Same compiler, same input: same code (ignore the build id note).
  objcopy -R .note.gnu.build-id -O binary -j .text "$T/cc/hello" "$T/cc/g.text" 2>/dev/null &&
    objcopy -R .note.gnu.build-id -O binary -j .text "$T/cc/hello.native" "$T/cc/n.text" 2>/dev/null &&
    check_same_file "gcc: same .text natively and under interpose" "$T/cc/n.text" "$T/cc/g.text"
else
  say "SKIP part: gcc is not installed"
fi

# --- make -j4 ---------------------------------------------------------------------
if command -v make >/dev/null && command -v gcc >/dev/null; then
  for mode in native guest; do
    d=$T/mk-$mode
    mkdir -p "$d"
    for i in 1 2 3 4 5 6 7 8; do
      printf 'int f%d(int x) { return x * %d + 1; }\n' "$i" "$i" >"$d/f$i.c"
    done
    {
      echo '#include <stdio.h>'
      for i in 1 2 3 4 5 6 7 8; do echo "int f$i(int);"; done
      printf 'int main(void) { int s = 0;'
      for i in 1 2 3 4 5 6 7 8; do printf ' s += f%d(%d);' "$i" "$i"; done
      printf ' printf("sum %%d\\n", s); return 0; }\n'
    } >"$d/main.c"
    printf 'OBJS = main.o f1.o f2.o f3.o f4.o f5.o f6.o f7.o f8.o\nprog: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n%%.o: %%.c\n\t$(CC) -O1 -c -o $@ $<\nclean:\n\trm -f prog $(OBJS)\n' >"$d/Makefile"
  done
  run "$T/n.out" "$T/n.err" make -s -j4 -C "$T/mk-native"
  check_eq "native make -j4" 0 "$rc"
  run "$T/g.out" "$T/g.err" "$INTERPOSE" --audit="$T/audit.jsonl" make -s -j4 -C "$T/mk-guest"
  check_eq "make -j4 under interpose: status" 0 "$rc"
  [ "$rc" = 0 ] || sed 's/^/    | /' "$T/g.err" >&2
  same "the program make built" "$T/mk-guest/prog"
  check_eq "the program make built: output" "sum 212" "$(cat "$T/g.out")"
  run "$T/g.out" "$T/g.err" "$INTERPOSE" --audit="$T/audit.jsonl" make -s -j4 -C "$T/mk-guest" -q prog
  check_eq "make -q: up to date after the build" 0 "$rc"
else
  say "SKIP part: make or gcc is not installed"
fi

finish
