#!/bin/sh
# Earlier sessions' audit logs, kept in the state directory, must be out of
# a later guest's reach: it must not read them (they record what earlier
# commands did) or rewrite them.
# Here the state directory is inside the workspace (the scratch directory),
# so only the policy's own deny rule for it keeps the guest out.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

o=$T/out e=$T/err
mkdir "$T/prev-state"
XDG_STATE_HOME=$T/prev-state run "$o" "$e" "$INTERPOSE" sh -c 'kill -0 1 2>/dev/null; exit 0'
old=$(find "$T/prev-state" -name audit.jsonl | head -n 1)
if [ -n "$old" ]; then
  cp "$old" "$T/prev.copy"
  XDG_STATE_HOME=$T/prev-state run "$o" "$e" "$INTERPOSE" sh -c '
    if cat "$1" >/dev/null 2>&1; then echo "LEAK read $1"; fi
    if echo forged >>"$1" 2>/dev/null; then echo "LEAK wrote $1"; fi' sh "$old"
  check_nomatch "a guest reached an earlier session's audit log" 'LEAK' "$o"
  check_same_file "an earlier session's audit log is untouched" "$T/prev.copy" "$old"
  # Nor can it move the directory away, or take it apart.
  XDG_STATE_HOME=$T/prev-state run "$o" "$e" "$INTERPOSE" sh -c '
    mv "$1/interpose" "$1/moved" 2>/dev/null && echo "LEAK moved"
    mv "$1" "$1.moved" 2>/dev/null && echo "LEAK moved parent"
    rm -rf "$1/interpose" 2>/dev/null
    exit 0' sh "$T/prev-state"
  check_nomatch "a guest moved or removed the state directory" 'LEAK' "$o"
  check_same_file "the earlier log survived" "$T/prev.copy" "$old"
else
  fail "the first session left no audit log in $T/prev-state"
fi

finish
