#!/bin/sh
# System V IPC is shared with the whole host: the guest may use the
# objects it makes, and no other (security invariant 6). Objects made
# outside are, to the guest, not there: it cannot remove, read or attach
# them, natively it can.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"
need ipcmk
need ipcrm
need ipcs

o=$T/out e=$T/err
mk() { _o=$(ipcmk "$@") || return 1; echo "${_o##* }"; }
shm=$(mk -M 4096) && sem=$(mk -S 1) && msg=$(mk -Q) || { fail "ipcmk failed"; finish; }
at_exit "ipcrm -m $shm -s $sem -q $msg 2>/dev/null"

# The guest's own objects work end to end.
run "$o" "$e" "$INTERPOSE" --audit="$T/own.jsonl" sh -c '
  s=$(ipcmk -M 4096) && q=$(ipcmk -Q) && m=$(ipcmk -S 2) || exit 1
  ipcs -m -i "${s##* }" >/dev/null && ipcrm -m "${s##* }" -q "${q##* }" -s "${m##* }"'
check_eq "the guest makes, inspects and removes its own objects" 0 "$rc"

# Others' objects: natively a process of the same user may remove them;
# the guest may not, and they survive.
for kind in "m $shm" "s $sem" "q $msg"; do
  set -- $kind
  run "$o" "$e" "$INTERPOSE" --audit="$T/other.jsonl" ipcrm -"$1" "$2"
  check_ne "ipcrm -$1 of an object made outside: refused" 0 "$rc"
  check_true "the object made outside ($1 $2) is still there" ipcs -"$1" -i "$2"
done
check_match "the refusals are audited" '"syscall":"(shmctl|semctl|msgctl)".*"decision":"deny","rule":"own-tree"' "$T/other.jsonl"
finish
