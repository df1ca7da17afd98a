#!/bin/sh
# Fail closed (security invariant 1): when the sentry, the gofer or the
# launcher dies, every guest process dies with it -- the first one, a busy
# worker making trapped calls, and a daemon that left with setsid and a
# double fork -- and interpose reports a failure instead of a guest status.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"
need setsid

# The guest. Records the pids of its three kinds of process, then waits.
guest='
d=$1
setsid sh -c "sh -c '\''echo \$\$ >\"\$1\"/daemon.pid.tmp; mv \"\$1\"/daemon.pid.tmp \"\$1\"/daemon.pid; exec sleep 1000'\'' sh \"\$1\" &" sh "$d" </dev/null >/dev/null 2>&1
sh -c "echo \$\$ >\"\$1\"/worker.pid; while :; do kill -0 \$\$ 2>/dev/null; done" sh "$d" &
echo "$TMPDIR" >"$d/tmpdir"
echo $$ >"$d/main.pid"
wait'

# Every live process carrying this session's marker in its environment
# (the whole guest tree, and interpose's own processes, inherit it).
marked() {
  for e in /proc/[0-9]*/environ; do
    p=${e#/proc/}; p=${p%/environ}
    [ "$p" = "$$" ] && continue
    if { tr '\0' '\n' <"$e"; } 2>/dev/null | grep -qx "INTERPOSE_E2E_MARK=$1"; then
      case $(proc_state "$p") in ''|Z|X) ;; *) echo "$p" ;; esac
    fi
  done
}
all_dead() {
  for v in main worker daemon sentry gofer; do
    eval "proc_dead \"\$$v\" \"\$${v}_s\"" || return 1
  done
}
no_marked() { [ -z "$(marked "$1")" ]; }
proc_sid() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $4}'; }
can_scan=0
[ "$(id -u)" = 0 ] && can_scan=1

# scenario VICTIM: start a session, kill VICTIM (sentry, crash: a fault
# signal to the sentry, gofer, launcher, or
# none: the first guest process exits normally), check that nothing of the
# session is left and what interpose reported.
scenario() {
  victim=$1
  d=$T/$victim
  mkdir -p "$d"
  mark=$victim-$$-$(date +%s%N)
  INTERPOSE_E2E_MARK=$mark "$INTERPOSE" --audit="$d/audit.jsonl" sh -c "$guest" sh "$d" \
    </dev/null >"$d/out" 2>"$d/err" &
  L=$!
  at_exit "kill -9 $L 2>/dev/null"
  poll "$victim: guest recorded its pids" \
    sh -c "[ -s '$d/main.pid' ] && [ -s '$d/worker.pid' ] && [ -s '$d/daemon.pid' ]" || {
      kill -9 "$L"; wait "$L"; return; }
  main=$(cat "$d/main.pid") worker=$(cat "$d/worker.pid") daemon=$(cat "$d/daemon.pid")
  poll "$victim: daemon $daemon runs sleep" sh -c "[ \"\$(cat /proc/$daemon/comm 2>/dev/null)\" = sleep ]"
  sentry=$(proc_ppid "$main")
  gofer=$(proc_children "$L" | grep -vx "$sentry" | head -n 1)
  # Who is who: the sentry is the first guest process's parent and the
  # launcher's child; the gofer is the launcher's other child.
  check_eq "$victim: sentry $sentry is a child of the launcher" "$L" "$(proc_ppid "$sentry")"
  check_ne "$victim: gofer found" "" "$gofer"
  check_eq "$victim: sentry $sentry is an interpose process" interpose "$(cat /proc/$sentry/comm 2>/dev/null)"
  check_eq "$victim: gofer $gofer is an interpose process" interpose "$(cat /proc/$gofer/comm 2>/dev/null)"
  check_ne "$victim: daemon left the guest's session" "$(proc_sid "$main")" "$(proc_sid "$daemon")"
  check_ne "$victim: daemon is not the first process's child" "$main" "$(proc_ppid "$daemon")"
  # Start times, so a pid reused later is not taken for the one we saw.
  for v in main worker daemon sentry gofer; do
    eval "p=\$$v"
    eval "${v}_s=\$(proc_start \"\$p\")"
  done
  if [ "$can_scan" = 1 ]; then
    # The scan below must be able to see the session at all.
    before=$(marked "$mark" | tr '\n' ' ')
    for v in main worker daemon sentry gofer L; do
      eval "p=\$$v"
      case " $before" in *" $p "*) pass ;; *) fail "$victim: marker scan misses $v ($p): saw $before" ;; esac
    done
  fi
  # Every thread of the sentry (the server, the reaper, the resolver) is
  # confined and without capabilities: both are per thread.
  if [ "$victim" = none ]; then
    for st in /proc/"$sentry"/task/*/status; do
      check_match "sentry thread $st: under its seccomp filter" '^Seccomp:[[:space:]]*2$' "$st"
      check_match "sentry thread $st: no capabilities" '^CapEff:[[:space:]]*0+$' "$st"
    done
    check_ne "the sentry has its threads" 1 "$(ls /proc/"$sentry"/task | wc -l)"
  fi
  check_true "$victim: worker $worker alive before" proc_alive "$worker" "$worker_s"
  check_true "$victim: daemon $daemon alive before" proc_alive "$daemon" "$daemon_s"

  case $victim in
    sentry) kill -KILL "$sentry" ;;
    crash) kill -SEGV "$sentry" ;; # as a fault in the sentry would raise it
    gofer) kill -KILL "$gofer" ;;
    gofer-crash) kill -SEGV "$gofer" ;;
    launcher-crash) kill -SEGV "$L" ;;
    launcher) kill -KILL "$L" ;;
    none) kill -TERM "$L" ;; # forwarded to the first guest process: a normal end
  esac
  wait_child "$L" "$victim: interpose"

  poll "$victim killed: the guest's processes, the sentry and the gofer to die" all_dead
  for v in main worker daemon sentry gofer; do
    eval "p=\$$v s=\$${v}_s"
    if proc_dead "$p" "$s"; then pass; else
      fail "$victim killed: $v (pid $p) is still alive: $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)"
    fi
  done
  if [ "$can_scan" = 1 ]; then
    left=$(marked "$mark")
    if [ -z "$left" ]; then pass; else
      for p in $left; do
        fail "$victim: survivor $p: $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)"
        kill -9 "$p" 2>/dev/null
      done
    fi
  fi
  case $victim in
    sentry|gofer)
      check_eq "$victim killed: interpose exit status" 125 "$rc"
      check_match "$victim killed: interpose says so" "the $victim died.*fail closed" "$d/err"
      # Records are written one by one as decided: the log of a session
      # whose sentry was killed is whole up to its last decision.
      check_true "$victim killed: the audit log verifies" "$INTERPOSE" audit verify "$d/audit.jsonl"
      check_match "$victim killed: the log has the session's decisions" '"decision":"exit"' "$d/audit.jsonl"
      ;;
    gofer-crash)
      check_eq "gofer crash: interpose exit status" 125 "$rc"
      check_match "gofer crash: the gofer reports it, with a backtrace" 'gofer crashed \(signal 11\)' "$d/err"
      check_match "gofer crash: and the launcher stops the guest" 'the gofer died.*fail closed' "$d/err"
      ;;
    launcher-crash)
      check_match "launcher crash: the launcher reports it" 'launcher crashed \(signal 11\); stopping the guest' "$d/err"
      check_match "launcher crash: with a backtrace" '#[0-9]+ 0x[0-9a-f]+ [a-z_]+\+0x' "$d/err"
      poll "launcher crash: the audit log is saved" test -s "$d/audit.jsonl"
      check_true "launcher crash: the saved audit log verifies" "$INTERPOSE" audit verify "$d/audit.jsonl"
      check_match "launcher crash: the report is kept beside the log" 'launcher crashed' "$d/audit.jsonl.crash.txt"
      ;;
    crash)
      check_eq "sentry crash: interpose exit status" 125 "$rc"
      check_match "sentry crash: the sentry reports it" 'sentry crashed \(signal 11\); stopping the guest' "$d/err"
      # libunwind's backtrace, with the sentry's own function names.
      check_match "sentry crash: with a backtrace" '#[0-9]+ 0x[0-9a-f]+ [a-z_]+\+0x' "$d/err"
      check_match "sentry crash: the report is kept beside the log" 'sentry crashed' "$d/audit.jsonl.crash.txt"
      check_true "sentry crash: the audit log verifies" "$INTERPOSE" audit verify "$d/audit.jsonl"
      ;;
    launcher)
      check_eq "launcher killed: its status (SIGKILL)" 137 "$rc"
      # The sentry saves the log on its way out; every record up to the
      # end of the session is there and the chain is whole.
      poll "launcher killed: the audit log is saved" test -s "$d/audit.jsonl"
      check_true "launcher killed: the saved audit log verifies" "$INTERPOSE" audit verify "$d/audit.jsonl"
      check_match "launcher killed: the log records the end" '"decision":"end".*"launcher":"gone"' "$d/audit.jsonl"
      # A killed launcher cannot remove the session's private /tmp; the
      # next session does, once nothing holds it.
      priv=$(cat "$d/tmpdir")
      case $priv in /*/interpose-tmp-*) pass ;; *) fail "launcher killed: the guest's TMPDIR was '$priv'" ;; esac
      run "$d/out2" "$d/err2" env TMPDIR="$(dirname "$priv")" "$INTERPOSE" true
      check_true "launcher killed: the next session removes its private /tmp" test ! -e "$priv"
      ;;

    none)
      check_eq "normal end (SIGTERM to the first process): interpose exit status" 143 "$rc"
      ;;
  esac
}

for v in sentry crash launcher launcher-crash none; do
  scenario "$v"
done

# The gofer killed (SIGKILL) or crashing (SIGSEGV): from then on every path
# call of the guest fails with EIO, none hangs and none goes through; the
# guest goes on with what it holds and its status is kept.
gofer_gone() {
  how=$1
  d=$T/gofer-$how
  mkdir -p "$d"
  mkfifo "$d/in"
  echo "in the workspace" >"$d/f"
  # Everything it needs is loaded before it says ready: after, no file of
  # the host may be opened, by any route (openat2 resolved beneath a
  # dirfd is the kernel's own lookup).
  cat >"$d/probe.py" <<'EOF'
import ctypes, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
class How(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]
def openat2(dirfd, path, resolve):
    how = How(os.O_RDONLY, 0, resolve)
    fd = libc.syscall(437, dirfd, path.encode(), ctypes.byref(how), ctypes.sizeof(how))
    return fd if fd >= 0 else -ctypes.get_errno()
here = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
print("ready", flush=True)
sys.stdin.readline()
try:
    os.open("/etc/hostname", os.O_RDONLY); print("read: something")
except OSError as e:
    print("read failed"); print(e.strerror, file=sys.stderr)
for name, resolve in (("beneath", 0x08), ("in-root", 0x10)):
    r = openat2(here, "f", resolve)
    print("openat2 %s: %s" % (name, "EIO" if r == -5 else "opened" if r >= 0 else "errno %d" % -r))
try:
    print("ls: %d" % subprocess.call(["/bin/ls", "/"]))
except OSError as e:
    print("ls: 127 (%s)" % e.strerror)
print("still here", flush=True)
sys.exit(7)
EOF
  "$INTERPOSE" --audit="$d/audit.jsonl" "$PY" "$d/probe.py" "$d" <"$d/in" >"$d/out" 2>"$d/err" &
  L=$!
  at_exit "kill -9 $L 2>/dev/null"
  exec 3>"$d/in"
  poll "gofer $how: the guest is ready" grep -q ready "$d/out" || { exec 3>&-; kill -9 "$L"; return; }
  sentry=$(proc_children "$L" | while read -r p; do [ -n "$(proc_children "$p")" ] && echo "$p"; done | head -n 1)
  gofer=$(proc_children "$L" | grep -vx "$sentry" | head -n 1)
  check_ne "gofer $how: gofer found" "" "$gofer"
  check_eq "gofer $how: gofer $gofer is an interpose process" interpose "$(cat /proc/$gofer/comm 2>/dev/null)"
  case $how in
    kill) kill -KILL "$gofer" ;;
    crash) kill -SEGV "$gofer" ;;
  esac
  poll "gofer $how: the launcher saw it" grep -q 'the gofer died; the guest.s file calls fail with EIO' "$d/err"
  echo go >&3
  exec 3>&-
  wait_child "$L" "gofer $how: interpose"
  check_eq "gofer $how: the guest's own status" 7 "$rc"
  check_match "gofer $how: a file read after it failed" '^read failed$' "$d/out"
  check_nomatch "gofer $how: nothing was read" '^read: ' "$d/out"
  check_match "gofer $how: with EIO" 'Input/output error' "$d/err"
  check_match "gofer $how: openat2 beneath a dirfd fails too" '^openat2 beneath: EIO$' "$d/out"
  check_match "gofer $how: openat2 in a root fails too" '^openat2 in-root: EIO$' "$d/out"
  check_match "gofer $how: a program could not be run" '^ls: [1-9][0-9]*' "$d/out"
  check_match "gofer $how: the guest went on" '^still here$' "$d/out"
  check_true "gofer $how: the audit log verifies" "$INTERPOSE" audit verify "$d/audit.jsonl"
  check_match "gofer $how: the log records it" '"decision":"gofer-gone"' "$d/audit.jsonl"
  check_match "gofer $how: and each refusal" '"rule":"gofer-gone"' "$d/audit.jsonl"
  [ "$how" = crash ] && check_match "gofer crash: the gofer reports it, with a backtrace" 'gofer crashed \(signal 11\)' "$d/err"
}
gofer_gone kill
gofer_gone crash

# The launcher and the sentry killed at once (kill -9 of the process group,
# the OOM killer): nobody is left to give the log its name, and its second
# name in interpose's state directory keeps every record written.
d=$T/both
mkdir -p "$d"
mark=both-$$-$(date +%s%N)
INTERPOSE_E2E_MARK=$mark "$INTERPOSE" --audit="$d/audit.jsonl" sh -c "$guest" sh "$d" </dev/null >"$d/out" 2>"$d/err" &
L=$!
at_exit "kill -9 $L 2>/dev/null"
if poll "both: guest recorded its pids" sh -c "[ -s '$d/main.pid' ] && [ -s '$d/worker.pid' ]"; then
  sentry=$(proc_ppid "$(cat "$d/main.pid")")
  kill -KILL "$L" "$sentry"
  wait "$L" 2>/dev/null
  # The worker makes trapped calls: with its sentry gone they fail (on
  # ptrace the kernel kills it with its tracer); stop what is left.
  for p in $(marked "$mark"); do kill -9 "$p" 2>/dev/null; done
  live=$(ls "$XDG_STATE_HOME"/interpose/sessions/*/audit.jsonl.live 2>/dev/null | head -n 1)
  check_ne "both killed: the log's live copy is kept" "" "$live"
  if [ -n "$live" ]; then
    check_true "both killed: it verifies up to its last record" "$INTERPOSE" audit verify "$live"
    check_match "both killed: with the session's decisions" '"syscall":"execve"' "$live"
  fi
  check_true "both killed: the named log was never made" test ! -e "$d/audit.jsonl"
fi

finish
