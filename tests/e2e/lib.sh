# Shared helpers for the end-to-end tests; sourced, not run.
#
# Every check prints what it checked when it fails and records the failure;
# a script ends with `finish`, which exits 1 if any check failed. Waits are
# bounded polls for a condition, never a sleep standing in for one.

set -u

: "${SRC_DIR:=$(cd "$(dirname "$0")/.." && pwd)}"
if [ -z "${INTERPOSE:-}" ]; then
  INTERPOSE=$(cd "$SRC_DIR/.." && pwd)/build/tools/interpose
fi
PY=/usr/bin/python3.11
# How long a poll waits before it declares the condition never came. This
# is a deadline for a hang, not a measure of speed.
POLL_LIMIT=${POLL_LIMIT:-30}

failures=0
checks=0
TEST_NAME=$(basename "$0" .sh)

say() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }

fail() {
  failures=$((failures + 1))
  printf 'FAIL: %s\n' "$*" >&2
}

pass() { checks=$((checks + 1)); }

skip() {
  printf 'SKIP: %s\n' "$*" >&2
  exit 77
}

need() {
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || skip "'$t' is not installed"
  done
}

[ -x "$INTERPOSE" ] || { echo "FAIL: interpose binary '$INTERPOSE' is not executable" >&2; exit 1; }
[ -x "$PY" ] || skip "$PY is not installed (needed to drive the tests)"

# check DESCRIPTION EXPECTED ACTUAL
check_eq() {
  if [ "$2" = "$3" ]; then pass; else fail "$1: expected '$2', got '$3'"; fi
}

# check_ne DESCRIPTION UNEXPECTED ACTUAL
check_ne() {
  if [ "$2" != "$3" ]; then pass; else fail "$1: got '$3', which it must not be"; fi
}

# check_match DESCRIPTION ERE FILE: some line of FILE matches ERE
check_match() {
  if grep -Eq -- "$2" "$3"; then pass; else
    fail "$1: no line matching /$2/ in $3:"; sed 's/^/    | /' "$3" >&2
  fi
}

# check_nomatch DESCRIPTION ERE FILE: no line of FILE matches ERE
check_nomatch() {
  if ! grep -Eq -- "$2" "$3"; then pass; else
    fail "$1: unexpected line matching /$2/ in $3:"; sed 's/^/    | /' "$3" >&2
  fi
}

# check_true DESCRIPTION COMMAND...: the command succeeds
check_true() {
  _ct=$1; shift
  if "$@"; then pass; else fail "$_ct (command: $*)"; fi
}

check_same_file() {
  if cmp -s "$2" "$3"; then pass; else
    fail "$1: $2 and $3 differ:"; diff -u "$2" "$3" | head -40 | sed 's/^/    | /' >&2
  fi
}

# A scratch directory removed on exit; extra cleanup can be added with
# `at_exit 'command'`.
T=$(mktemp -d "${TMPDIR:-/tmp}/interpose-e2e-$TEST_NAME.XXXXXX") || exit 99
_cleanups=""
at_exit() { _cleanups="$1
$_cleanups"; }
_on_exit() {
  rc=$?
  trap - EXIT
  # Stop anything this test started in the background that is still up.
  eval "$_cleanups"
  rm -rf "$T"
  exit "$rc"
}
trap _on_exit EXIT
trap 'exit 1' INT TERM HUP
# Sessions run without --audit keep their logs here, not in the user's home.
XDG_STATE_HOME=$T/xdg-state
export XDG_STATE_HOME
# Every session has a file policy (the agent profile unless a test gives
# another), whose workspace is the current directory: the scratch
# directory, where the tests leave what the guest must write.
cd "$T" || exit 99

# run OUT ERR CMD...: run CMD with stdin from /dev/null, capture stdout and
# stderr into files, set $rc. A hang is bounded (timeout kills it, rc 124).
run() {
  _o=$1 _e=$2; shift 2
  timeout -k 5 "$POLL_LIMIT" "$@" </dev/null >"$_o" 2>"$_e"
  rc=$?
}

# poll DESCRIPTION COMMAND...: wait until COMMAND succeeds, bounded; returns
# 1 (and records a failure) if it never did.
poll() {
  _d=$1; shift
  _n=0 _max=$((POLL_LIMIT * 50))
  while ! "$@"; do
    _n=$((_n + 1))
    if [ "$_n" -ge "$_max" ]; then
      fail "gave up after ${POLL_LIMIT}s waiting for: $_d"
      return 1
    fi
    sleep 0.02
  done
  return 0
}

# Process liveness that does not trust kill -0: a zombie (possibly never
# reaped, if it was reparented to a pid 1 that does not reap) is dead, and
# a pid reused by another process is not the one we recorded.
#   proc_start PID   -> prints the start time (stat field 22)
#   proc_alive PID START
proc_start() {
  sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $20}'
}
proc_state() {
  sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $1}'
}
proc_ppid() {
  sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $2}'
}
proc_alive() {
  _st=$(proc_state "$1")
  [ -n "$_st" ] || return 1
  case $_st in Z|X|x) return 1 ;; esac
  [ "$(proc_start "$1")" = "$2" ]
}
proc_dead() { ! proc_alive "$@"; }

# Children of PID (by scanning /proc, which needs no kernel option).
proc_children() {
  if [ -r "/proc/$1/task/$1/children" ]; then
    tr ' ' '\n' <"/proc/$1/task/$1/children" | grep .
    return 0
  fi
  for _s in /proc/[0-9]*/stat; do
    _p=${_s#/proc/}; _p=${_p%/stat}
    [ "$(proc_ppid "$_p")" = "$1" ] && echo "$_p"
  done 2>/dev/null
}

# wait_child PID DESCRIPTION: wait for a background child of this shell,
# bounded: if it has not exited by the deadline it is killed (and the
# failure recorded). Sets $rc to its status.
wait_child() {
  _s=$(proc_start "$1")
  if [ -n "$_s" ] && ! poll "$2 (pid $1) to exit" proc_dead "$1" "$_s"; then
    kill -9 "$1" 2>/dev/null
  fi
  wait "$1"
  rc=$?
}

file_nonempty() { [ -s "$1" ]; }

finish() {
  if [ "$failures" -gt 0 ]; then
    echo "$TEST_NAME: $failures check(s) failed, $checks passed" >&2
    exit 1
  fi
  echo "$TEST_NAME: all $checks checks passed"
  exit 0
}
