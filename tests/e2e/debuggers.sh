#!/bin/sh
# The real debuggers inside the guest, on its own tree: strace (following
# forks, and attached to a running process) and gdb (run to a crash and a
# backtrace; a breakpoint in a threaded program). On the ptrace platform
# all of it is the sentry's emulation of ptrace; the traced program's
# calls are still the sentry's to decide.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

need strace gdb gcc

cat >"$T/crash.c" <<'EOF'
#include <stdio.h>
int depth(int n) { if (n == 0) { volatile int *p = 0; return *p; } return depth(n - 1) + 1; }
int main(void) { printf("before\n"); fflush(stdout); return depth(3); }
EOF
cat >"$T/thr.c" <<'EOF'
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>
static int counter;
static void *run(void *a) { for (int i = 0; i < 1000; i++) __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED); return a; }
int work(int x) { return x * 2; }
int main(void) {
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], 0, run, 0);
  for (int i = 0; i < 4; i++) pthread_join(t[i], 0);
  pid_t c = fork();
  if (c == 0) { execlp("true", "true", (char *)0); _exit(127); }
  int st;
  waitpid(c, &st, 0);
  printf("counter=%d child=%d\n", counter, WEXITSTATUS(st));
  return work(counter) == 8000 ? 0 : 1;
}
EOF
cat >"$T/threxec.c" <<'EOF'
#include <pthread.h>
#include <unistd.h>
static void *run(void *a) { execl("/bin/echo", "echo", "from the new image", (char *)0); return a; }
int main(void) { pthread_t t; pthread_create(&t, 0, run, 0); for (;;) pause(); }
EOF
gcc -g -O0 -o "$T/crash" "$T/crash.c" && gcc -g -O0 -pthread -o "$T/thr" "$T/thr.c" &&
  gcc -O1 -pthread -o "$T/threxec" "$T/threxec.c" || { fail "gcc"; finish; }

# strace's calls of one run, without pids, addresses and timing.
calls() {
  sed -E 's/^[0-9]+ +//; s/0x[0-9a-f]+/ADDR/g; s/<unfinished ...>//; s/<\.\.\. [a-z0-9_]+ resumed>//' "$1" |
    sed -E 's/\(.*//' | grep -E '^[a-z_0-9]+$' | sort | uniq
}

# --- strace -f of a pipeline: the same calls, the same output -------------------
script='echo traced | tr a-z A-Z; ls / >/dev/null; (exit 3)'
run "$T/n.out" "$T/n.err" strace -f -qq -o "$T/n.trace" sh -c "$script"
nrc=$rc
run "$T/g.out" "$T/g.err" "$INTERPOSE" --audit="$T/audit.jsonl" -- strace -f -qq -o "$T/g.trace" sh -c "$script"
check_eq "strace -f: the traced program's status" "$nrc" "$rc"
check_same_file "strace -f: the traced program's output" "$T/n.out" "$T/g.out"
check_nomatch "strace -f: strace complained" '^strace:' "$T/g.err"
calls "$T/n.trace" >"$T/n.calls"
calls "$T/g.trace" >"$T/g.calls"
check_same_file "strace -f: the set of calls seen" "$T/n.calls" "$T/g.calls"
check_match "strace -f: the children's execs" 'execve\("/usr/bin/tr"' "$T/g.trace"
check_match "strace -f: the exit status of the subshell" 'exit_group\(3\)' "$T/g.trace"

# --- strace -f of an exec from a second thread (the first goes with it) -----------
run "$T/g.out" "$T/g.err" "$INTERPOSE" --audit="$T/audit6.jsonl" -- strace -f -qq -e trace=execve -o "$T/x.trace" "$T/threxec"
check_eq "strace -f, exec from a thread: status" 0 "$rc"
check_eq "strace -f, exec from a thread: output" "from the new image" "$(cat "$T/g.out")"
check_match "strace -f, exec from a thread: the exec" 'execve\("/bin/echo"' "$T/x.trace"

# --- a denied call, as strace shows it: refused by the sentry ----------------------
mkdir -p "$T/home/.ssh" && echo secret >"$T/home/.ssh/id_rsa"
run "$T/g.out" "$T/g.err" env HOME="$T/home" "$INTERPOSE" --audit="$T/audit2.jsonl" -- \
  strace -qq -e trace=openat -o "$T/d.trace" cat "$T/home/.ssh/id_rsa"
check_ne "strace of a denied read: cat failed" 0 "$rc"
check_nomatch "strace of a denied read: no secret" 'secret' "$T/g.out"
check_match "strace of a denied read: the open failed" 'openat\(AT_FDCWD, ".*id_rsa", O_RDONLY\) = -1 E' "$T/d.trace"
check_match "strace of a denied read: the sentry's decision" '"decision":"deny".*id_rsa' "$T/audit2.jsonl"

# --- strace -p: attach to a running process, detach on SIGINT ---------------------
cat >"$T/attach.sh" <<'EOF'
sleep 60 &
p=$!
timeout -s INT 1 strace -p "$p" -o attach.trace
echo "strace status $?"
kill "$p"
wait "$p"
echo "sleep status $?"
EOF
run "$T/g.out" "$T/g.err" "$INTERPOSE" --audit="$T/audit3.jsonl" -- sh "$T/attach.sh"
check_eq "strace -p: session status" 0 "$rc"
check_match "strace -p: attached" 'Process [0-9]+ attached' "$T/g.err"
check_match "strace -p: detached" 'Process [0-9]+ detached' "$T/g.err"
check_nomatch "strace -p: no wait error" 'wait4|No child' "$T/g.err"
check_match "strace -p: the sleeper's call" 'restart_syscall|nanosleep' "$T/attach.trace"
check_match "strace -p: the sleeper lived on to be killed" 'sleep status 143' "$T/g.out"

# --- gdb: run to a crash, backtrace ------------------------------------------------
run "$T/n.gdb" "$T/n.gdb.err" gdb -q -nx -batch -ex run -ex bt "$T/crash"
run "$T/g.gdb" "$T/g.gdb.err" "$INTERPOSE" --audit="$T/audit4.jsonl" -- gdb -q -nx -batch -ex run -ex bt "$T/crash"
check_eq "gdb: status" 0 "$rc"
check_match "gdb: the fault" 'Program received signal SIGSEGV' "$T/g.gdb"
grep -E '^#[0-9]' "$T/n.gdb" | sed -E 's/0x[0-9a-f]+ in //' >"$T/n.bt"
grep -E '^#[0-9]' "$T/g.gdb" | sed -E 's/0x[0-9a-f]+ in //' >"$T/g.bt"
check_same_file "gdb: the same backtrace" "$T/n.bt" "$T/g.bt"
check_match "gdb: five frames down to main" '^#4 +main \(\)' "$T/g.bt"

# --- gdb: a breakpoint in a threaded program that forks and execs -------------------
run "$T/g.gdb" "$T/g.gdb.err" "$INTERPOSE" --audit="$T/audit5.jsonl" -- gdb -q -nx -batch \
  -ex 'break work' -ex run -ex 'print x' -ex 'info threads' -ex continue "$T/thr"
check_eq "gdb break: status" 0 "$rc"
check_match "gdb break: stopped in work" 'hit Breakpoint 1, work \(x=4000\)' "$T/g.gdb"
check_match "gdb break: the argument" '^\$1 = 4000' "$T/g.gdb"
check_match "gdb break: the threads came and went" 'Thread .* exited' "$T/g.gdb"
check_match "gdb break: the program's own output" 'counter=4000 child=0' "$T/g.gdb"
check_match "gdb break: it ended normally" 'exited normally' "$T/g.gdb"

finish
