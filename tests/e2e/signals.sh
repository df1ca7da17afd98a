#!/bin/sh
# Signals: those sent to the interpose process reach the guest; a terminal's
# signals (^C, ^\, window changes) reach it as they would natively. Every
# case runs natively first and must end the same way under interpose.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"
need env stty
env --default-signal=INT true 2>/dev/null || skip "env(1) lacks --default-signal (coreutils < 8.31)"

A="--audit=$T/audit.jsonl"
PTY="$SRC_DIR/e2e/pty-run.py"

# The guest for trapped signals: traps SIG, says it is ready, waits; on
# SIG it writes a marker, stops its child and exits 7.
trap_script='
sig=$1 ready=$2 marker=$3
sleep 1000 </dev/null >/dev/null 2>&1 &
child=$!
trap "echo got-\$sig >\"\$marker\"; kill \$child; exit 7" "$sig"
echo ready >"$ready"
wait "$child"
echo "wait returned without the signal" >"$marker"
exit 3'

# The guest for untrapped signals: records its pid and becomes sleep.
plain_script='echo $$ >"$2"; exec sleep 1000'

# All cases run at once, natively and under interpose: start each in the
# background (with default signal dispositions restored: a background job of
# a script starts with SIGINT and SIGQUIT ignored), wait until every one is
# ready, signal the process we started (interpose itself, or the native
# shell), then wait until every one has exited.
cases=""
start_case() {
  kind=$1 mode=$2 sig=$3
  d=$T/$kind-$mode-$sig
  mkdir -p "$d"
  eval "script=\$${kind}_script"
  if [ "$mode" = native ]; then
    env --default-signal sh -c "$script" sh "$sig" "$d/ready" "$d/marker" </dev/null >"$d/out" 2>"$d/err" &
  else
    env --default-signal "$INTERPOSE" --audit="$d/audit.jsonl" sh -c "$script" sh "$sig" "$d/ready" "$d/marker" \
      </dev/null >"$d/out" 2>"$d/err" &
  fi
  echo $! >"$d/pid"
  proc_start $! >"$d/start"
  at_exit "kill -9 $! 2>/dev/null"
  cases="$cases $d"
}
case_ready() {
  [ -s "$1/ready" ] || return 1
  case $1 in
    # Past the exec, so the signal meets sleep's default action.
    */plain-*) [ "$(cat "/proc/$(cat "$1/ready")/comm" 2>/dev/null)" = sleep ] ;;
  esac
}
all_ready() { for c in $cases; do case_ready "$c" || return 1; done; }
all_exited() { for c in $cases; do proc_dead "$(cat "$c/pid")" "$(cat "$c/start")" || return 1; done; }

TRAPPED="TERM INT HUP USR1 USR2 QUIT WINCH ALRM"
PLAIN="TERM INT HUP USR1"
for sig in $TRAPPED; do start_case trap native "$sig"; start_case trap guest "$sig"; done
for sig in $PLAIN; do start_case plain native "$sig"; start_case plain guest "$sig"; done
poll "every case ready" all_ready
for c in $cases; do
  if case_ready "$c"; then kill -s "${c##*-}" "$(cat "$c/pid")"; fi
done
if ! poll "every case to exit after its signal" all_exited; then
  for c in $cases; do kill -9 "$(cat "$c/pid")" 2>/dev/null; done
fi
for c in $cases; do
  wait "$(cat "$c/pid")"
  echo "$? $(cat "$c/marker" 2>/dev/null)" >"$c/result"
done
for sig in $TRAPPED; do
  check_eq "native run of the trapped $sig case" "7 got-$sig" "$(cat "$T/trap-native-$sig/result")"
  check_eq "SIG$sig sent to interpose reaches the guest (status marker)" \
    "$(cat "$T/trap-native-$sig/result")" "$(cat "$T/trap-guest-$sig/result")"
done
for sig in $PLAIN; do
  check_eq "untrapped SIG$sig to interpose: status as native" \
    "$(cat "$T/plain-native-$sig/result")" "$(cat "$T/plain-guest-$sig/result")"
done

# Signals ignored, and the signal mask, as they were when interpose started.
mask='grep -E "^Sig(Ign|Blk):" /proc/self/status'
env --ignore-signal=USR1,TERM sh -c "$mask" >"$T/mask.native" 2>&1
env --ignore-signal=USR1,TERM "$INTERPOSE" "$A" sh -c "$mask" >"$T/mask.guest" 2>&1
check_same_file "ignored and blocked signals inherited by the guest" "$T/mask.native" "$T/mask.guest"

# --- job control: only the guest's own process groups -------------------------
# A guest may join any process group of its session natively, and the
# session is the user's: a group of the user's shell or of another job.
# From there a write to the terminal from the background stops that job
# (SIGTTOU), and an orphaned stopped group is hung up.
cat >"$T/joinpg.py" <<'EOF'
import os, sys, time
if sys.argv[1] == "own":
    first = os.fork()
    if first == 0:
        os.setpgid(0, 0)
        time.sleep(30)
        os._exit(0)
    while os.getpgid(first) != first:
        time.sleep(0.01)
    pg = first
else:
    pg = int(sys.argv[1])
try:
    os.setpgid(0, pg)
    print("joined", flush=True)
except OSError as e:
    print("refused", e.errno, flush=True)
if sys.argv[1] == "own":
    os.kill(first, 9)
EOF
"$PY" -c 'import os, time; os.setpgid(0, 0); time.sleep(1000)' </dev/null >/dev/null 2>&1 &
outsider=$!
at_exit "kill $outsider 2>/dev/null"
leads_group() { [ "$(ps -o pgid= -p "$1" | tr -d ' ')" = "$1" ]; }
if poll "the outsider to lead its own group" leads_group "$outsider"; then
  "$PY" "$T/joinpg.py" "$outsider" >"$T/pg-native.out" 2>&1
  check_match "native: a process joins another job's group of its session" '^joined$' "$T/pg-native.out"
  run "$T/pg-guest.out" "$T/pg-guest.err" "$INTERPOSE" "$A" "$PY" "$T/joinpg.py" "$outsider"
  check_match "under interpose the guest cannot join an outsider's process group" '^refused 1$' "$T/pg-guest.out"
  check_match "the refused setpgid is audited" '"syscall":"setpgid".*"decision":"deny"' "$T/audit.jsonl"
fi
run "$T/pg-own.out" "$T/pg-own.err" "$INTERPOSE" "$A" "$PY" "$T/joinpg.py" own
check_match "the guest joins a group of its own tree" '^joined$' "$T/pg-own.out"

# --- on a terminal ------------------------------------------------------------
# The window size the guest sees, and SIGWINCH when the size changes.
winch='trap "echo WINCH \$(stty size); kill \$child; exit 0" WINCH
sleep 1000 </dev/null >/dev/null 2>&1 &
child=$!
echo "size $(stty size)"
echo ready
wait $child
exit 3'
"$PY" "$PTY" winch 24 80 33 111 -- sh -c "$winch" >"$T/winch.native" 2>&1
"$PY" "$PTY" winch 24 80 33 111 -- "$INTERPOSE" "$A" sh -c "$winch" >"$T/winch.guest" 2>&1
check_match "native: stty size on the pty" '^size 24 80$' "$T/winch.native"
check_match "native: SIGWINCH with the new size" '^WINCH 33 111$' "$T/winch.native"
check_match "guest sees the terminal's size" '^size 24 80$' "$T/winch.guest"
check_match "guest gets SIGWINCH and sees the new size" '^WINCH 33 111$' "$T/winch.guest"
check_eq "window change: status as native" \
  "$(tail -n 1 "$T/winch.native")" "$(tail -n 1 "$T/winch.guest")"
check_match "window change: status 0" '^status 0$' "$T/winch.guest"

# ^C and ^\ typed at the terminal while the guest reads it.
for key in intr quit; do
  "$PY" "$PTY" "$key" 24 80 hello-there -- sh -c 'echo ready; cat' >"$T/$key.native" 2>&1
  "$PY" "$PTY" "$key" 24 80 hello-there -- "$INTERPOSE" "$A" sh -c 'echo ready; cat' >"$T/$key.guest" 2>&1
  case $key in intr) want=130 ;; quit) want=131 ;; esac
  check_match "native: $key ends sh -c cat with $want" "^status $want\$" "$T/$key.native"
  check_match "guest: cat echoed what was typed" '^hello-there$' "$T/$key.guest"
  check_eq "$key typed at the terminal: status as native" \
    "$(tail -n 1 "$T/$key.native")" "$(tail -n 1 "$T/$key.guest")"
done

# ^C when the guest catches SIGINT itself: it decides, and interpose survives
# to report what it decided.
catch='trap "echo caught; exit 9" INT; echo ready; while read line; do echo "$line"; done'
"$PY" "$PTY" intr 24 80 abc -- sh -c "$catch" >"$T/catch.native" 2>&1
"$PY" "$PTY" intr 24 80 abc -- "$INTERPOSE" "$A" sh -c "$catch" >"$T/catch.guest" 2>&1
check_match "native: caught ^C" 'caught$' "$T/catch.native"
check_match "guest caught ^C" 'caught$' "$T/catch.guest"
check_eq "^C caught by the guest: status as native" \
  "$(tail -n 1 "$T/catch.native")" "$(tail -n 1 "$T/catch.guest")"
check_match "^C caught by the guest: status 9" '^status 9$' "$T/catch.guest"
check_nomatch "interpose itself says nothing on ^C" '^interpose:' "$T/catch.guest"

# A signal to the whole process group (what `timeout` and a shell's kill of
# a job send) reaches the guest's handler; interpose's own processes ignore
# it, and the session is not failed closed.
pg_guest='trap "echo got-term >\"$2\"; exit 7" TERM; echo ready >"$1"; while :; do sleep 0.05; done'
rm -f "$T/pg.ready" "$T/pg.marker"
setsid env --default-signal "$INTERPOSE" "$A" sh -c "$pg_guest" sh "$T/pg.ready" "$T/pg.marker" >"$T/pg.out" 2>"$T/pg.err" &
pg=$!
if poll "the process-group guest to be ready" file_nonempty "$T/pg.ready"; then
  kill -TERM "-$pg"
  wait_child "$pg" "interpose"
  check_eq "SIGTERM to the process group: the guest's own status" 7 "$rc"
  check_match "the guest's handler ran" "^got-term" "$T/pg.marker"
  check_nomatch "the session was not failed closed" "fail closed" "$T/pg.err"
fi

# A guest may stop the job it started in (the launcher with it, as the
# shell expects), but not hold the session: a process of its own session
# stops that group, then kills the first guest process; the session must
# end (the sentry continues the launcher) rather than wait for a fg that
# never comes. Not run natively: it would stop this script's own group.
cat >"$T/stopjob.py" <<'PY'
import os, signal
pg, first = os.getpgrp(), os.getpid()
if os.fork() == 0:
    os.setsid()
    os.kill(-pg, signal.SIGSTOP)
    os.kill(first, signal.SIGKILL)
    os._exit(0)
signal.pause()
PY
run "$T/stopjob.out" "$T/stopjob.err" setsid -w "$INTERPOSE" "$A" "$PY" "$T/stopjob.py"
check_eq "a guest that stopped its job and ended: the session ends (SIGKILL, 137)" 137 "$rc"

finish
