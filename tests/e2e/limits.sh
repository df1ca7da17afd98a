#!/bin/sh
# Resource limits (issue 6): --max-procs, --max-memory, --max-fds,
# --max-write and --timeout. A runaway guest ends with a clear message and
# a status that says why, every guest process is gone afterwards, and the
# machine stays usable meanwhile. Runs on the platform INTERPOSE_PLATFORM
# names, as root and (where the suite runs as root) as "nobody", where the
# kernel's per-user task limit backs the count.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

o=$T/out e=$T/err

# No guest process of session AUDIT left (by the pids the log names).
no_guest_left() {
  _left=0
  for p in $(grep -o '"pid":[0-9]*' "$1" | sort -u | cut -d: -f2); do
    st=$(proc_state "$p")
    [ -n "$st" ] && [ "$st" != Z ] && grep -qa interpose-limits-marker "/proc/$p/environ" 2>/dev/null && _left=1
  done
  return $_left
}
export INTERPOSE_LIMITS_MARKER=interpose-limits-marker

# --- --timeout: the whole tree, 124, and why ----------------------------------
run "$o" "$e" "$INTERPOSE" --audit="$T/t.jsonl" --timeout=1s -- sh -c 'sleep 60 & sleep 60 & wait; echo finished'
check_eq "timeout: status 124" 124 "$rc"
check_match "timeout: says which limit" 'ran past --timeout \(1000 ms\)' "$e"
check_nomatch "timeout: the guest did not finish" finished "$o"
check_match "timeout: audited" '"decision":"kill","rule":"limit:timeout"' "$T/t.jsonl"
check_true "timeout: no guest process is left" no_guest_left "$T/t.jsonl"
run "$o" "$e" "$INTERPOSE" --timeout=30s -- true
check_eq "timeout: a quick guest keeps its own status" 0 "$rc"

# --- --max-procs: forks past it fail with EAGAIN ------------------------------
cat >"$T/forks.py" <<'EOF'
import os, sys, time
n = 0
kids = []
while n < 500:
    try:
        pid = os.fork()
    except BlockingIOError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    kids.append(pid)
    n += 1
print(n)
for k in kids:
    os.kill(k, 9)
for k in kids:
    os.waitpid(k, 0)
EOF
mkdir -m 0777 "$T/u"
cp "$INTERPOSE" "$T/u/interpose" && cp "$T/forks.py" "$T/u/" && chmod 0755 "$T" "$T/u/interpose" "$T/u/forks.py"
for who in root nobody; do
  if [ "$who" = nobody ]; then
    [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 || continue
    as="setpriv --reuid=$(id -u nobody) --regid=$(id -g nobody) --clear-groups --inh-caps=-all"
  else
    as=""
  fi
  # shellcheck disable=SC2086 # $as is a command prefix
  (cd "$T/u" && run "$o" "$e" $as "$T/u/interpose" --audit="$T/u/p-$who.jsonl" --max-procs=40 -- "$PY" forks.py
   echo "$rc" >"$T/u/rc")
  rc=$(cat "$T/u/rc")
  check_eq "max-procs ($who): the guest ran" 0 "$rc"
  n=$(cat "$o")
  # The python itself is one task; 39 children fit.
  check_true "max-procs ($who): at most 39 children ($n)" test "${n:-999}" -le 39
  check_true "max-procs ($who): not refused early ($n)" test "${n:-0}" -ge 35
  check_match "max-procs ($who): says so once" 'reached --max-procs=40' "$e"
  check_match "max-procs ($who): audited" '"syscall":"clone".*"decision":"deny","rule":"limit:procs"' "$T/u/p-$who.jsonl"
done
# Ended processes give their places back: three rounds of 30.
cat >"$T/rounds.py" <<'EOF'
import os, time
for r in range(3):
    kids = []
    for _ in range(30):
        pid = os.fork()
        if pid == 0:
            time.sleep(0.2)
            os._exit(0)
        kids.append(pid)
    for k in kids:
        os.waitpid(k, 0)
print("ok")
EOF
run "$o" "$e" "$INTERPOSE" --max-procs=40 -- "$PY" "$T/rounds.py"
check_eq "max-procs: places come back" "0 ok" "$rc $(cat "$o")"

# A fork bomb: held at the limit, ended by the timeout, and the machine
# answers meanwhile.
start=$(date +%s)
"$INTERPOSE" --audit="$T/bomb.jsonl" --max-procs=100 --timeout=4s -- bash -c 'b() { b | b & }; b; sleep 60' \
  </dev/null >/dev/null 2>"$T/bomb.err" &
bomb=$!
poll "the bomb is at its limit" grep -q 'reached --max-procs=100' "$T/bomb.err"
check_true "fork bomb: the host still runs programs" sh -c 'for i in 1 2 3 4 5; do /bin/true || exit 1; done'
wait "$bomb"
brc=$?
check_eq "fork bomb: ended by the timeout" 124 "$brc"
check_true "fork bomb: within the timeout's reach ($(($(date +%s) - start)) s)" test $(($(date +%s) - start)) -le 20
check_true "fork bomb: no guest process is left" no_guest_left "$T/bomb.jsonl"

# --- --max-memory ---------------------------------------------------------------
# One process: its allocation fails (RLIMIT_DATA) and it says so itself.
run "$o" "$e" "$INTERPOSE" --max-memory=200M -- "$PY" -c '
a = []
try:
    while True:
        a.append(bytearray(10**7))
except MemoryError:
    print("MemoryError at", len(a) * 10, "MB")'
check_eq "max-memory: one process: runs on" 0 "$rc"
check_match "max-memory: one process: its allocation failed under 200 MB" '^MemoryError at (20[0-9]|1[0-9]{2}|[0-9]{1,2}) MB' "$o"
# Several processes: the sum is watched; past it the tree is stopped.
cat >"$T/hog.sh" <<'EOF'
for i in 1 2 3 4; do "$1" -c 'import time; a = bytearray(120 * 2**20); time.sleep(30)' & done
wait
echo finished
EOF
run "$o" "$e" "$INTERPOSE" --audit="$T/m.jsonl" --max-memory=300M -- sh "$T/hog.sh" "$PY"
check_eq "max-memory: the tree is stopped (137)" 137 "$rc"
check_match "max-memory: says which limit" 'more than --max-memory \(314572800 bytes' "$e"
check_match "max-memory: audited" '"rule":"limit:memory"' "$T/m.jsonl"
check_nomatch "max-memory: the guest did not finish" finished "$o"
check_true "max-memory: no guest process is left" no_guest_left "$T/m.jsonl"
run "$o" "$e" "$INTERPOSE" --max-memory=300M -- "$PY" -c 'a = bytearray(50 * 2**20); print("ok")'
check_eq "max-memory: within it, a guest runs" "0 ok" "$rc $(cat "$o")"

# --- --max-fds ------------------------------------------------------------------
run "$o" "$e" "$INTERPOSE" --max-fds=64 -- "$PY" -c '
import os
fds = []
try:
    while True:
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e:
    print(e.errno, max(fds))'
check_eq "max-fds: runs" 0 "$rc"
check_match "max-fds: EMFILE below 64" '^24 ([0-9]|[1-5][0-9]|6[0-3])$' "$o"

# --- --max-write ------------------------------------------------------------------
# One file: no bigger than the quota (SIGXFSZ, as the kernel's RLIMIT_FSIZE).
run "$o" "$e" "$INTERPOSE" --max-write=5M -- sh -c 'head -c 10000000 /dev/zero > big; echo $?'
check_eq "max-write: the file stops at the quota" 5242880 "$(stat -c %s big 2>/dev/null)"
check_match "max-write: the writer is told (SIGXFSZ, 128+25)" '^153$' "$o"
rm -f big
# Many files: their sum is watched; past it the tree is stopped.
run "$o" "$e" "$INTERPOSE" --audit="$T/w.jsonl" --max-write=30M -- sh -c \
  'for i in $(seq 40); do head -c 4000000 /dev/zero > f$i || exit 3; done; echo finished'
check_eq "max-write: the tree is stopped (137)" 137 "$rc"
check_match "max-write: says which limit" 'grew past --max-write \(31457280 bytes' "$e"
check_match "max-write: audited" '"rule":"limit:write"' "$T/w.jsonl"
check_nomatch "max-write: the guest did not finish" finished "$o"
# (At most 40 * 4 MB: the monitor looks every 100 ms.)
rm -f f[0-9]*
run "$o" "$e" "$INTERPOSE" --max-write=30M -- sh -c 'head -c 1000000 /dev/zero > small && echo ok'
check_eq "max-write: within it, writes work" "0 ok" "$rc $(cat "$o")"
rm -f small

# --- malformed values ------------------------------------------------------------
for bad in --max-procs=0 --max-procs=x --max-memory=12Q --max-memory=-1 --max-fds= --max-write=0 \
  --timeout=5y --timeout=0 --timeout=-3; do
  run "$o" "$e" "$INTERPOSE" "$bad" -- true
  check_eq "$bad: refused" 125 "$rc"
  check_match "$bad: names the option" "${bad%%=*}" "$e"
done

finish
