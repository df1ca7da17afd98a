#!/bin/sh
# The guest's exit status reaches the caller as the shell would report it
# (the code, or 128+N for signal N), and stdin, stdout and stderr pass
# through, each to its own place.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

o=$T/out e=$T/err
A="--audit=$T/audit.jsonl"

# native_and_guest DESCRIPTION CMD...: run CMD natively and under interpose;
# sets $nrc and $grc and leaves outputs in $T/n.{out,err} and $T/g.{out,err}.
native_and_guest() {
  _d=$1; shift
  run "$T/n.out" "$T/n.err" "$@"
  nrc=$rc
  run "$T/g.out" "$T/g.err" "$INTERPOSE" "$A" -- "$@"
  grc=$rc
  check_eq "$_d: exit status (native $nrc)" "$nrc" "$grc"
}

# --- plain exit codes ------------------------------------------------------
for code in 0 1 42 255; do
  native_and_guest "sh -c 'exit $code'" sh -c "exit $code"
  check_eq "sh -c 'exit $code': status" "$code" "$grc"
done
native_and_guest "true" true
native_and_guest "false" false
check_eq "false: status" 1 "$grc"
# exit(256) is 0, as the kernel keeps the low byte.
native_and_guest "python exit(256)" "$PY" -c 'import os; os._exit(256)'
check_eq "python os._exit(256): status" 0 "$grc"

# --- death by signal: 128+N --------------------------------------------------
for sig in KILL SEGV TERM; do
  native_and_guest "sh -c 'kill -$sig \$\$'" sh -c "kill -$sig \$\$"
  case $sig in KILL) want=137 ;; SEGV) want=139 ;; TERM) want=143 ;; esac
  check_eq "sh -c 'kill -$sig \$\$': status" "$want" "$grc"
done
# A real fault, not a kill(2) the sentry sees: a null dereference.
native_and_guest "python null dereference" "$PY" -c 'import ctypes; ctypes.string_at(0)'
check_eq "python null dereference: status" 139 "$grc"
# abort(3): SIGABRT raised by the process on itself.
native_and_guest "python os.abort()" "$PY" -c 'import os; os.abort()'
check_eq "python os.abort(): status" 134 "$grc"

# A guest killed from outside (SIGKILL by its pid, from the host).
rm -f "$T/pid"
"$INTERPOSE" "$A" sh -c 'echo $$ > "$1"; exec sleep 1000' sh "$T/pid" </dev/null >"$o" 2>"$e" &
ip=$!
at_exit "kill -9 $ip 2>/dev/null"
if poll "guest wrote its pid" file_nonempty "$T/pid"; then
  gp=$(cat "$T/pid")
  # The pid file is written by sh before exec; wait for the exec so the
  # signal reaches sleep, not the shell.
  poll "guest $gp runs sleep" sh -c "[ \"\$(cat /proc/$gp/comm 2>/dev/null)\" = sleep ]"
  kill -KILL "$gp"
fi
wait_child "$ip" "interpose after its guest was killed"
check_eq "guest killed by SIGKILL from the host: status" 137 "$rc"

# --- the first process's status, whatever its children do -----------------
# The session ends with its first process (as a container with its init):
# the status is the first process's, and the child is not left behind.
bg='sleep 1000 </dev/null >/dev/null 2>&1 & echo $! > "$1"; exit 5'
run "$o" "$e" sh -c "$bg" sh "$T/bg.native"
check_eq "native: exit 5 with a background child" 5 "$rc"
kill "$(cat "$T/bg.native")"
run "$o" "$e" "$INTERPOSE" "$A" sh -c "$bg" sh "$T/bg.guest"
check_eq "exit 5 with a background child: status" 5 "$rc"
bgp=$(cat "$T/bg.guest" 2>/dev/null)
if [ -n "$bgp" ]; then
  st=$(proc_state "$bgp")
  case $st in ''|Z|X) pass ;; *) fail "background child $bgp of the guest outlived the session (state $st)"; kill "$bgp" ;; esac
else
  fail "the guest did not record its background child's pid"
fi

# --- stdin, stdout, stderr -----------------------------------------------------
echo hi | "$INTERPOSE" "$A" cat >"$o" 2>"$e"
check_eq "echo hi | interpose cat: status" 0 "$?"
check_eq "echo hi | interpose cat: output" "hi" "$(cat "$o")"
check_eq "echo hi | interpose cat: stderr" "" "$(cat "$e")"

seq 1 200000 | sort -R >"$T/in"
sort -n <"$T/in" | sha256sum >"$T/native.sum"
"$INTERPOSE" "$A" sort -n <"$T/in" 2>"$e" | sha256sum >"$T/guest.sum"
check_same_file "200000 lines through interpose sort -n" "$T/native.sum" "$T/guest.sum"

"$INTERPOSE" "$A" sh -c 'echo to-out; echo to-err >&2; echo more-out' >"$o" 2>"$e"
check_eq "stdout and stderr: status" 0 "$?"
check_eq "stdout holds stdout only" "to-out
more-out" "$(cat "$o")"
check_eq "stderr holds stderr only" "to-err" "$(cat "$e")"

# Extra descriptors the caller leaves open are not the guest's (a file
# its policy would refuse by path): only with --keep-fds.
"$INTERPOSE" "$A" sh -c 'echo on-fd-3 >&3' 3>"$T/fd3" >"$o" 2>"$e"
check_ne "fd 3 not passed: status" 0 "$?"
check_eq "fd 3 not passed: content" "" "$(cat "$T/fd3")"
"$INTERPOSE" "$A" --keep-fds sh -c 'echo on-fd-3 >&3' 3>"$T/fd3" >"$o" 2>"$e"
check_eq "fd 3 passed with --keep-fds: status" 0 "$?"
check_eq "fd 3 passed with --keep-fds: content" "on-fd-3" "$(cat "$T/fd3")"

# Closed standard descriptors stay closed in the guest: interpose's own
# descriptors must not land there.
for fd in 0 1 2; do
  probe="if [ -e /proc/self/fd/$fd ]; then echo open; else echo closed; fi >&9"
  eval "sh -c \"\$probe\" 9>\"\$T/n.fd\" </dev/null >/dev/null 2>/dev/null $fd>&-"
  eval "\"\$INTERPOSE\" \"\$A\" --keep-fds sh -c \"\$probe\" 9>\"\$T/g.fd\" </dev/null >/dev/null 2>/dev/null $fd>&-"
  check_eq "fd $fd closed by the caller: as seen inside (native: $(cat "$T/n.fd"))" "$(cat "$T/n.fd")" "$(cat "$T/g.fd")"
done

finish
