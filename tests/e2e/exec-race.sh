#!/bin/sh
# The audit log never says one program ran while another did: a guest
# thread rewrites the exec path while the call is in flight, so the kernel
# may read another path than the sentry did (DESIGN.md invariant 2). For
# every process, the program its exit record shows must be the one its
# last exec record named, unless the sentry killed it for running
# something else (rule exec-verify). The race is won by chance (natively
# about one exec in four reads the other path); 300 tries make a miss of
# the protection all but certain to show.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

RACER=$GUEST_DIR/guest-execrace
[ -x "$RACER" ] || { fail "$RACER is not built"; finish; }
# ("leader": the exec from a second thread while the first makes trapped
# calls in a loop, which must not make the sentry forget the check.)
for mode in first leader; do
run "$T/out" "$T/err" "$INTERPOSE" --audit="$T/audit-$mode.jsonl" "$RACER" 300 $mode
check_eq "the racer ran ($mode): status" 0 "$rc"
check_true "every exit record shows the program its exec record named ($mode)" "$PY" - "$T/audit-$mode.jsonl" "$RACER" <<'PY'
import json, os, sys
racer = os.path.realpath(sys.argv[2])  # still running it: the exec failed (a torn path)
last_exec, lies, verified, exits, top = {}, [], 0, 0, None
for line in open(sys.argv[1]):
    r = json.loads(line)
    pid = r.get("pid")
    if r.get("decision") == "exec" and r.get("rule") == "audit":
        if top is None:
            top = pid  # the racer itself
        last_exec[pid] = os.path.realpath(r["path"])
    elif r.get("decision") == "exit" and pid not in last_exec and pid != top and \
            os.path.realpath(r["exe"]) == racer:
        exits += 1  # a torn path the sentry found no file for: the exec failed before any record
    elif r.get("rule") == "exec-verify":
        verified += 1
        last_exec.pop(pid, None)
    elif r.get("decision") == "exit" and pid in last_exec:
        exits += 1
        if os.path.realpath(r["exe"]) == racer:
            continue
        if os.path.realpath(r["exe"]) != last_exec[pid]:
            lies.append((pid, last_exec[pid], r["exe"]))
print("exits checked", exits, "killed by exec-verify", verified, "records that lied", len(lies))
for l in lies[:5]:
    print("  pid %s: exec record %s, but %s ran" % l)
sys.exit(1 if lies or exits + verified < 300 else 0)
PY
done

# The race won, the image the kernel ran (outside the exec rights) forks
# at once, before any trapped call of its own: its children are the
# image's, and die with it when it is found out; none of theirs is served.
mkdir -p "$T/ws2/noexec"
cat >"$T/payload.c" <<'C'
#include "nolibc.h"
void _start(void)
{
        long p = sc(57, 0, 0, 0); /* fork */
        if (p == 0) {
                sc(257, -100, (long)"PROOF", 01101); /* openat(AT_FDCWD, O_WRONLY|O_CREAT|O_TRUNC) */
                sc(60, 0, 0, 0);
        }
        sc(61, p, 0, 0); /* wait4 */
        sc(60, 0, 0, 0);
}
C
cat >"$T/forkrace.c" <<'C'
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;
static char path[64];
static volatile int flipping;
static const char good[] = "./good", bad[] = "./noexec/payload";
static void *flip(void *a)
{
        for (;;) {
                memcpy(path, good, sizeof(good));
                __asm__ volatile("" ::: "memory"); /* each store made, in order */
                flipping = 1;
                for (volatile int i = 0; i < 50; i++)
                        ;
                memcpy(path, bad, sizeof(bad));
                __asm__ volatile("" ::: "memory");
                for (volatile int i = 0; i < 50; i++)
                        ;
        }
        return a;
}
int main(int argc, char **argv)
{
        if (argc > 1)
                _exit(0); /* the allowed program, run */
        for (int tries = 0; tries < 100; tries++) {
                pid_t p = fork();
                if (p == 0) {
                        pthread_t t;
                        pthread_create(&t, NULL, flip, NULL);
                        /* Not before the path is a name: on a loaded machine
                         * the thread may start after 1000 execs of "". */
                        while (!flipping)
                                sched_yield();
                        for (int k = 0; k < 1000; k++) {
                                char *av[] = { path, "good", NULL };
                                syscall(SYS_execve, path, av, environ);
                        }
                        _exit(3);
                }
                waitpid(p, NULL, 0);
                if (access("PROOF", F_OK) == 0) {
                        printf("PROOF after %d tries\n", tries + 1);
                        fflush(stdout);
                        _exit(0);
                }
        }
        printf("no PROOF\n");
        fflush(stdout);
        _exit(0);
}
C
cat >"$T/noexec.json" <<'J'
{ "profile": "agent", "rules": [ { "path": "noexec", "allow": ["read", "write", "create", "delete", "list"] } ] }
J
if gcc -O1 -nostdlib -static -fno-stack-protector -I"$SRC_DIR/e2e" -o "$T/ws2/noexec/payload" "$T/payload.c" 2>"$T/err" &&
  gcc -O2 -pthread -static -o "$T/ws2/good" "$T/forkrace.c" 2>"$T/err"; then
  (cd "$T/ws2" && run "$T/out" "$T/err" ./good)
  check_match "natively the racing exec runs the other program, whose child writes" "^PROOF after" "$T/out"
  rm -f "$T/ws2/PROOF"
  (cd "$T/ws2" && run "$T/out" "$T/err" "$INTERPOSE" --audit="$T/forkrace.jsonl" \
    --policy="$T/noexec.json" -- ./good)
  check_match "under interpose no child of an image outside the exec rights is served" "^no PROOF" "$T/out"
else
  fail "gcc cannot build the fork racer: $(cat "$T/err")"
fi

# The ELF interpreter is what runs first, and the kernel reads every program
# header for it (up to 64 KiB of them): a launcher that names the payload
# above (outside the exec rights) in its 70th header. And a 32-bit ELF,
# which runs only to make calls that are killed or to jump to 64-bit code
# nothing of ours has read (invariant 4): not run at all.
cat >"$T/mkelf.py" <<'PY'
import os, struct, sys
out, kind = sys.argv[1], sys.argv[2]
base = 0x400000
if kind == "interp70":
    interp, nph = sys.argv[3].encode() + b"\0", 70
    phoff, istr = 64, 64 + 70 * 56
    code_off = (istr + len(interp) + 15) // 16 * 16
    code = b"\x31\xff\xb8\x3c\x00\x00\x00\x0f\x05"  # exit(0): only if no interpreter ran
    size = code_off + len(code)
    phs = [struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)]
    phs += [bytes(56)] * (nph - 2)
    phs.append(struct.pack("<IIQQQQQQ", 3, 4, istr, base + istr, base + istr, len(interp), len(interp), 1))
    eh = b"\x7fELF\x02\x01\x01" + bytes(9)
    eh += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, base + code_off, phoff, 0, 0, 64, 56, nph, 64, 0, 0)
    data = eh + b"".join(phs) + interp
    data += bytes(code_off - len(data)) + code
else:  # i386: exit(42) by int 0x80
    base, code = 0x8048000, b"\xb8\x01\x00\x00\x00\xbb\x2a\x00\x00\x00\xcd\x80"
    size = 52 + 32 + len(code)
    eh = b"\x7fELF\x01\x01\x01" + bytes(9)
    eh += struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, base + 84, 52, 0, 0, 52, 32, 1, 40, 0, 0)
    data = eh + struct.pack("<IIIIIIII", 1, 0, base, base, size, size, 5, 0x1000) + code
open(out, "wb").write(data)
os.chmod(out, 0o755)
PY
cat >"$T/ws2/exec.py" <<'PY'
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[1], [sys.argv[1]])
    except OSError as e:
        print("exec refused", e.strerror, flush=True)
        os._exit(0)
_, st = os.waitpid(pid, 0)
print("status", os.waitstatus_to_exitcode(st), flush=True)
PY
"$PY" "$T/mkelf.py" "$T/ws2/launch70" interp70 "$T/ws2/noexec/payload" &&
  "$PY" "$T/mkelf.py" "$T/ws2/elf32" i386 || fail "cannot write the test ELFs"
rm -f "$T/ws2/PROOF"
(cd "$T/ws2" && run "$T/out" "$T/err" "$PY" exec.py ./launch70)
check_true "natively the interpreter named in the 70th header runs (its child writes)" test -e "$T/ws2/PROOF"
rm -f "$T/ws2/PROOF"
(cd "$T/ws2" && run "$T/out" "$T/err" "$INTERPOSE" --audit="$T/launch70.jsonl" --policy="$T/noexec.json" -- \
  "$PY" exec.py ./launch70)
check_match "an interpreter named past the 64th header, outside the exec rights, is refused" \
  "^exec refused Permission denied" "$T/out"
check_true "...and never ran" test ! -e "$T/ws2/PROOF"
(cd "$T/ws2" && run "$T/out" "$T/err" "$PY" exec.py ./elf32)
native32=$(cat "$T/out")
(cd "$T/ws2" && run "$T/out" "$T/err" "$INTERPOSE" --audit="$T/elf32.jsonl" -- "$PY" exec.py ./elf32)
check_match "a 32-bit ELF is not run (natively: $native32)" "^exec refused Exec format error" "$T/out"
# A program that cannot be read (mode 0111) names an interpreter nobody can
# see before the kernel loads it: not run.
cp /bin/true "$T/ws2/xonly" && chmod 0111 "$T/ws2/xonly"
(cd "$T/ws2" && run "$T/out" "$T/err" "$INTERPOSE" --audit="$T/xonly.jsonl" -- "$PY" exec.py ./xonly)
check_match "a program the sentry cannot read is not run" "^exec refused Permission denied" "$T/out"
check_match "...and the refusal says why" '"rule":"exec-unreadable"' "$T/xonly.jsonl"

# What the guest names is never opened so as to hold the sentry: exec of a
# FIFO (no writer: an open for reading would wait) fails as natively, and
# the session goes on.
# (In a workspace of its own, so that the agent profile reaches it.)
mkdir "$T/ws" && cd "$T/ws" || exit 99
mkfifo fifo
chmod +x fifo
probe='./fifo; echo "exec status $?"'
run "$T/native" "$T/err" sh -c "$probe"
check_match "natively exec of a FIFO fails" "^exec status 126" "$T/native"
for opt in --audit="$T/fifo.jsonl" --profile=agent; do
  run "$T/out" "$T/err" "$INTERPOSE" "$opt" sh -c "$probe"
  check_eq "exec of a FIFO under interpose ($opt) returns: status" 0 "$rc"
  check_match "exec of a FIFO under interpose ($opt) fails as natively" "^exec status 126" "$T/out"
done
finish
