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

# The probes below are raw syscalls (sysv.py), so libc adds no bits.
cp "$SRC_DIR/e2e/sysv.py" "$T/sysv.py"
# ids FILE: the numbers in FILE (sysv.py's ids; errno names are not).
ids() { tr ' ' '\n' <"$1" | grep -E '^[0-9]+$'; }
# left KIND FILE: how many of the ids in FILE are still on the host.
left() { ipcs -"$1" | awk '/^0x/ {print $2}' | grep -cFx -f "$2"; }
# forget KIND FILE: remove what a failed check left behind.
forget() { for _i in $(ids "$2"); do ipcrm -"$1" "$_i" 2>/dev/null; done; }

# IPC_RMID with IPC_64 (0x100), the version bit other ABIs pass: x86_64's
# kernel does not parse it and refuses the command, so the object stays;
# if the sentry took it for IPC_RMID and forgot the object, it would
# outlive the session and no longer count for --max-memory.
run "$T/n64" "$e" "$PY" "$T/sysv.py" rmid64
while read -r kind id _; do ipcrm -"$kind" "$id"; done <"$T/n64"
run "$o" "$e" "$INTERPOSE" -- "$PY" "$T/sysv.py" rmid64
for kind in m s q; do
  grep "^$kind " "$o" | cut -d' ' -f2 >"$T/r64.$kind"
  at_exit "forget $kind $T/r64.$kind"
  check_eq "ctl(IPC_RMID with IPC_64) fails as natively ($kind)" "$(grep "^$kind " "$T/n64" | cut -d' ' -f3)" \
    "$(grep "^$kind " "$o" | cut -d' ' -f3)"
  check_eq "an object sent IPC_RMID with IPC_64 does not outlive the session ($kind)" 0 "$(left "$kind" "$T/r64.$kind")"
done

# The sentry records 1,024 objects of each kind. Past that a get fails
# with ENOSPC, as at the kernel's own limit, rather than make an object
# it would not remove; two processes making them at once too. The
# objects it holds, by key too, are still found.
for kind in m s q; do
  run "$T/fill" "$e" "$INTERPOSE" -- "$PY" "$T/sysv.py" fill "$kind" 600 2
  ids "$T/fill" >"$T/fill.$kind"
  at_exit "forget $kind $T/fill.$kind"
  check_eq "past the table's 1,024 objects a get fails with ENOSPC ($kind)" "1024 ENOSPC" \
    "$(wc -l <"$T/fill.$kind") $(awk '$(NF - 1) == "end" && $NF != "none" { print $NF }' "$T/fill" | sort -u)"
  check_eq "a full table still gives the tree's keyed object, and no new key ($kind)" "same ENOSPC" \
    "$(awk '$1 == "keyed" { print $3, $4 }' "$T/fill")"
  check_eq "no object of a full table outlives the session ($kind)" 0 "$(left "$kind" "$T/fill.$kind")"
done

# A get of another's key asking what the object cannot give (more bytes,
# more semaphores, a permission no one has without CAP_IPC_OWNER): the
# kernel's EINVAL or EACCES would say the key is taken. Not there.
for kind in "m $shm" "s $sem" "q $msg"; do
  set -- $kind
  key=$(ipcs -"$1" | awk -v id="$2" '$2 == id {print $1}')
  run "$T/pn" "$e" "$PY" "$T/sysv.py" probe "$1" "$key"
  check_ne "natively a probe of key $key ($1) tells it is taken" ENOENT "$(cat "$T/pn")"
  run "$o" "$e" "$INTERPOSE" --audit="$T/probe.jsonl" -- "$PY" "$T/sysv.py" probe "$1" "$key"
  check_eq "under interpose a probe of another's key ($1) finds nothing" ENOENT "$(cat "$o")"
done
check_match "the probes are audited" '"syscall":"(shmget|semget|msgget)".*"decision":"deny","rule":"own-tree"' "$T/probe.jsonl"
finish
