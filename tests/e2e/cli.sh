#!/bin/sh
# The command line: help and version, option errors and the 125/126/127
# codes, `interpose syscalls` (text and JSON), --trace and --trace-file,
# the default audit log place and the session summary.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

o=$T/out e=$T/err

# --- help and version ------------------------------------------------------
for opt in --help -h; do
  run "$o" "$e" "$INTERPOSE" "$opt"
  check_eq "interpose $opt: exit status" 0 "$rc"
  check_match "interpose $opt: usage on stdout" '^Usage: interpose ' "$o"
  for w in --trace --trace-file= --audit= --summary --version 'interpose syscalls' 'interpose audit verify'; do
    check_match "interpose $opt: documents '$w'" "$w" "$o"
  done
done
for opt in --version -V; do
  run "$o" "$e" "$INTERPOSE" "$opt"
  check_eq "interpose $opt: exit status" 0 "$rc"
  check_match "interpose $opt: prints the version" '^interpose [0-9]+\.[0-9]+' "$o"
done

# --- option errors: 125, naming the option, pointing at --help -------------
for bad in --bogus-option --nope=1 -Z; do
  run "$o" "$e" "$INTERPOSE" "$bad" true
  check_eq "interpose $bad: exit status" 125 "$rc"
  name=${bad%%=*}; name=${name#-}; name=${name#-}
  check_match "interpose $bad: message names the option" "$name" "$e"
  check_match "interpose $bad: message suggests --help" "interpose --help" "$e"
done
run "$o" "$e" "$INTERPOSE" --trace-file
check_eq "interpose --trace-file (no argument): exit status" 125 "$rc"
check_match "interpose --trace-file (no argument): message names it" 'trace-file' "$e"
# An unknown platform, by option or by INTERPOSE_PLATFORM: refused, never
# run on a guess.
run "$o" "$e" "$INTERPOSE" --platform=bogus -- sh -c 'echo ran'
check_eq "--platform=bogus: exit status" 125 "$rc"
check_match "--platform=bogus: names it and the choices" "unknown platform 'bogus'.*ptrace" "$e"
check_nomatch "--platform=bogus: nothing ran" '^ran$' "$o"
run "$o" "$e" env INTERPOSE_PLATFORM=bogus "$INTERPOSE" -- sh -c 'echo ran'
check_eq "INTERPOSE_PLATFORM=bogus: exit status" 125 "$rc"
check_match "INTERPOSE_PLATFORM=bogus: names it" 'INTERPOSE_PLATFORM=bogus is not a platform' "$e"
check_nomatch "INTERPOSE_PLATFORM=bogus: nothing ran" '^ran$' "$o"
run "$o" "$e" "$INTERPOSE"
check_eq "interpose with no program: exit status" 125 "$rc"
check_match "interpose with no program: message" 'no program' "$e"

# Options after the program name are the program's own.
run "$o" "$e" "$INTERPOSE" echo --bogus-option --help
check_eq "interpose echo --bogus-option --help: exit status" 0 "$rc"
check_eq "interpose echo --bogus-option --help: echo got its options" "--bogus-option --help" "$(cat "$o")"
run "$o" "$e" "$INTERPOSE" -- echo -- x
check_eq "interpose -- echo -- x: output" "-- x" "$(cat "$o")"

# --- programs that cannot run: 127 not found, 126 not executable ----------
run "$o" "$e" "$INTERPOSE" interpose-no-such-program-$$
check_eq "missing program on PATH: exit status" 127 "$rc"
check_match "missing program on PATH: message names it" "interpose-no-such-program-$$.*not found" "$e"
run "$o" "$e" "$INTERPOSE" "$T/no/such/file"
check_eq "missing program by path: exit status" 127 "$rc"
check_match "missing program by path: message names it" "$T/no/such/file" "$e"

printf 'echo should not run\n' >"$T/notexec"
chmod 0644 "$T/notexec"
run "$o" "$e" "$INTERPOSE" "$T/notexec"
check_eq "non-executable file: exit status" 126 "$rc"
check_match "non-executable file: message names it" "$T/notexec.*(cannot execute|ermission)" "$e"
check_nomatch "non-executable file: did not run" 'should not run' "$o"
run "$o" "$e" "$INTERPOSE" "$T"
check_eq "a directory as the program: exit status" 126 "$rc"

# Executable, but the kernel's execve fails inside the guest: the code is
# what env(1) gives for the same file.
printf '#!%s/no-such-interpreter\n' "$T" >"$T/badinterp"
chmod 0755 "$T/badinterp"
run "$o" "$e" env "$T/badinterp"
native=$rc
run "$o" "$e" "$INTERPOSE" "$T/badinterp"
check_eq "script with a missing interpreter: exit status as env(1)" "$native" "$rc"
check_match "script with a missing interpreter: message" 'badinterp' "$e"

# --- interpose syscalls ----------------------------------------------------
run "$T/table" "$e" "$INTERPOSE" syscalls
check_eq "interpose syscalls: exit status" 0 "$rc"
awk '/^$/ { exit } NR > 1 && $1 ~ /^[0-9]+$/ { print $1, $2 }' "$T/table" >"$T/rows"
# One row per number, no duplicates.
cut -d' ' -f1 "$T/rows" | sort -n | uniq -d >"$T/dups"
check_eq "interpose syscalls: duplicate numbers" "" "$(cat "$T/dups")"
missing=""
for nr in $(seq 0 334) $(seq 424 469); do
  grep -q "^$nr " "$T/rows" || missing="$missing $nr"
done
check_eq "interpose syscalls: numbers without a row" "" "$missing"
# Every syscall the installed kernel headers know has a row, by name.
hdr=/usr/include/x86_64-linux-gnu/asm/unistd_64.h
[ -r "$hdr" ] || hdr=/usr/include/asm/unistd_64.h
if [ -r "$hdr" ]; then
  sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9]*\)$/\2 \1/p' "$hdr" | sort -n >"$T/hdr"
  bad=$(while read -r nr name; do
          grep -qx "$nr $name" "$T/rows" || echo "$nr:$name"
        done <"$T/hdr" | tr '\n' ' ')
  check_eq "interpose syscalls: rows disagreeing with $hdr" "" "$bad"
else
  say "no unistd_64.h; name check against the headers skipped"
fi
row() { awk -v n="$1" '$2 == n' "$T/table"; }
check_match "io_uring_setup row" '^425 +io_uring_setup +denied ' "$T/table"
check_match "io_uring_enter row" '^426 +io_uring_enter +denied ' "$T/table"
# clone3 must answer ENOSYS (so libc falls back to clone): "enosys" as
# handling, or "denied" with errno ENOSYS.
case $(row clone3) in
  *' enosys '*|*' denied '*ENOSYS*) pass ;;
  *) fail "clone3 row does not answer ENOSYS: '$(row clone3)'" ;;
esac
check_match "bpf row is denied" '^321 +bpf +denied ' "$T/table"
check_match "uname row is emulated" '^63 +uname +emulated ' "$T/table"
check_match "read row runs in the kernel" '^0 +read +kernel ' "$T/table"
# The footer's totals add up to the rows.
rows=$(wc -l <"$T/rows")
total=$(sed -n 's/^\([0-9]*\) in the kernel, \([0-9]*\) path.*, \([0-9]*\) emulated, \([0-9]*\) denied, \([0-9]*\) not implemented.*/\1 \2 \3 \4 \5/p' "$T/table" |
        awk '{ print $1 + $2 + $3 + $4 + $5 }')
check_eq "interpose syscalls: footer totals equal the row count" "$rows" "$total"

run "$T/json" "$e" "$INTERPOSE" syscalls --json
check_eq "interpose syscalls --json: exit status" 0 "$rc"
if "$PY" -c '
import json, sys
rows = json.load(open(sys.argv[1]))
text = {}
for line in open(sys.argv[2]):
    nr, name = line.split()
    text[int(nr)] = name
assert isinstance(rows, list), "not a list"
for r in rows:
    for k in ("nr", "name", "args", "disposition", "errno", "note"):
        assert k in r, "row %r lacks %s" % (r, k)
got = {r["nr"]: r["name"] for r in rows}
assert len(got) == len(rows), "duplicate numbers"
assert got == text, "JSON and text tables differ: %r" % (set(got.items()) ^ set(text.items()))
by = {r["name"]: r for r in rows}
assert by["io_uring_setup"]["disposition"] == "denied", by["io_uring_setup"]
c3 = by["clone3"]
assert c3["disposition"] == "enosys" or c3["errno"] == "ENOSYS", c3
' "$T/json" "$T/rows" 2>"$e"; then pass; else
  fail "interpose syscalls --json is not valid JSON agreeing with the text table: $(cat "$e")"
fi
run "$o" "$e" "$INTERPOSE" syscalls --bogus
check_eq "interpose syscalls --bogus: exit status" 125 "$rc"

# --- --trace and --trace-file ---------------------------------------------
run "$o" "$e" "$INTERPOSE" --audit="$T/a1.jsonl" --trace uname -n
check_eq "--trace uname -n: exit status" 0 "$rc"
check_eq "--trace uname -n: stdout is the guest's alone" "interpose" "$(cat "$o")"
check_match "--trace: strace-like uname line on stderr" '^\[pid [0-9]+\] uname\(0x[0-9a-f]+\) = 0$' "$e"
check_match "--trace: execve line on stderr" '^\[pid [0-9]+\] execve\("[^"]*uname", \["uname", "-n"\]' "$e"
run "$o" "$e" "$INTERPOSE" --audit="$T/a2.jsonl" --trace-file="$T/trace" uname -n
check_eq "--trace-file: exit status" 0 "$rc"
check_eq "--trace-file: stdout" "interpose" "$(cat "$o")"
check_match "--trace-file: uname line in the file" '^\[pid [0-9]+\] uname\(0x[0-9a-f]+\) = 0$' "$T/trace"
check_nomatch "--trace-file: nothing traced on stderr" 'uname\(' "$e"
run "$o" "$e" "$INTERPOSE" --audit="$T/a3.jsonl" uname -n
check_eq "without --trace: stderr is empty" "" "$(cat "$e")"
run "$o" "$e" "$INTERPOSE" --audit="$T/a4.jsonl" --trace sh -c 'kill -0 1'
check_match "--trace: a denied call is marked" '^\[pid [0-9]+\] kill\(1, 0\) = -1 ESRCH .*# deny own-tree$' "$e"

# --hostname is what uname shows.
run "$o" "$e" "$INTERPOSE" --audit="$T/a5.jsonl" --hostname=box-42 uname -n
check_eq "--hostname=box-42: uname -n" "box-42" "$(cat "$o")"

# --- the audit log's default place and the summary -------------------------
state=$T/state
mkdir "$state"
XDG_STATE_HOME=$state run "$o" "$e" "$INTERPOSE" --summary sh -c 'exit 4'
check_eq "--summary sh -c 'exit 4': exit status" 4 "$rc"
check_eq "--summary: one line on stderr" 1 "$(wc -l <"$e")"
check_match "--summary: line names the exit code and the audit log" \
  "^interpose: session [^ ]+: exit 4, .*audit log $state/interpose/sessions/[^/ ]+/audit\.jsonl " "$e"
sid=$(sed -n 's/^interpose: session \([^ :]*\):.*/\1/p' "$e")
log=$state/interpose/sessions/$sid/audit.jsonl
if [ -n "$sid" ] && [ -f "$log" ]; then
  pass
  check_eq "default audit log: only file in the sessions directory" "$sid" "$(ls "$state/interpose/sessions")"
  check_match "default audit log: records carry the session id" "\"session\":\"$sid\"" "$log"
  run "$o" "$e" "$INTERPOSE" audit verify "$log"
  check_eq "default audit log: audit verify" 0 "$rc"
  head=$(sed -n 's/.*, head \([0-9a-f]*\)$/\1/p' "$o")
  XDG_STATE_HOME=$state run "$o" "$e" "$INTERPOSE" --summary true
  check_match "--summary: chain head printed" "chain head [0-9a-f]{64}\)$" "$e"
  check_ne "verify head" "" "$head"
else
  fail "no audit log at $log (session id '$sid'); state dir holds: $(find "$state" | tr '\n' ' ')"
fi
# Mode of what was created: the log is the user's alone.
perm=$(stat -c %a "$log" 2>/dev/null)
check_eq "default audit log: mode" 600 "$perm"
perm=$(stat -c %a "$state/interpose/sessions/$sid" 2>/dev/null)
check_eq "default audit log directory: mode" 700 "$perm"

# Without XDG_STATE_HOME, $HOME/.local/state.
mkdir "$T/home"
(unset XDG_STATE_HOME; HOME=$T/home run "$o" "$e" "$INTERPOSE" --summary true; exit $rc)
check_eq "HOME fallback: exit status" 0 "$?"
check_match "HOME fallback: summary names \$HOME/.local/state" \
  "audit log $T/home/\.local/state/interpose/sessions/[^/ ]+/audit\.jsonl " "$e"
n=$(find "$T/home/.local/state/interpose/sessions" -name audit.jsonl 2>/dev/null | wc -l)
check_eq "HOME fallback: one log written" 1 "$n"

# No summary without --summary when nothing was denied...
XDG_STATE_HOME=$state run "$o" "$e" "$INTERPOSE" sh -c 'echo quiet'
check_eq "no --summary, nothing denied: exit status" 0 "$rc"
check_eq "no --summary, nothing denied: stderr" "" "$(cat "$e")"
# ...and one when something was.
XDG_STATE_HOME=$state run "$o" "$e" "$INTERPOSE" sh -c 'kill -0 1 2>/dev/null; exit 0'
check_match "no --summary, a denial: summary line reports it" '^interpose: session .*, 1 denied; audit log ' "$e"

# --audit=FILE overrides the state directory and --summary names it.
XDG_STATE_HOME=$state run "$o" "$e" "$INTERPOSE" --summary --audit="$T/explicit.jsonl" true
check_match "--audit=FILE: summary names FILE" "audit log $T/explicit\.jsonl " "$e"
check_true "--audit=FILE: file written" test -s "$T/explicit.jsonl"
# An audit log that cannot be created: nothing runs, 125.
run "$o" "$e" "$INTERPOSE" --audit="$T/no/such/dir/a.jsonl" sh -c 'echo ran'
check_eq "--audit in a missing directory: exit status" 125 "$rc"
check_nomatch "--audit in a missing directory: guest did not run" '^ran$' "$o"
check_match "--audit in a missing directory: message" 'audit' "$e"

# What the launcher writes or connects to for the user goes through no
# symlink a guest could have planted where it makes names (an earlier
# session, or a repository in interpose ci): --trace-file truncated the
# file the link named, outside the workspace.
mkdir -p "$T/pl/ws" "$T/pl/else" && echo PRECIOUS >"$T/pl/victim"
here=$(pwd) && cd "$T/pl/ws" || exit 99
run "$o" "$e" "$INTERPOSE" -- sh -c "ln -s '$T/pl/victim' trace.log && ln -s '$T/pl/else' d"
check_true "the guest planted the links" test -L "$T/pl/ws/trace.log" -a -L "$T/pl/ws/d"
run "$o" "$e" "$INTERPOSE" --trace-file=trace.log -- true
check_eq "--trace-file through a planted link: exit status" 125 "$rc"
check_match "--trace-file through a planted link: says why" 'trace-file=trace.log: a symlink where the guest may make names' "$e"
check_eq "the file the link names is untouched" PRECIOUS "$(cat "$T/pl/victim")"
"$PY" - "$T/pl/else/s.sock" "$T/pl/sunk" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
open(sys.argv[2], "wb").write(c.recv(65536))
PY
collector=$!
at_exit "kill $collector 2>/dev/null"
poll "the collector listens" test -S "$T/pl/else/s.sock"
for opt in --audit=d/a.jsonl --trace-file=d/t.log --audit-sink=unix:"$T/pl/ws/d/s.sock" \
    "--control=$T/pl/ws/d/c.sock --approver=socket --ask-read=."; do
  # shellcheck disable=SC2086 # the options are words
  run "$o" "$e" "$INTERPOSE" $opt -- true
  check_eq "$opt through a planted directory link: exit status" 125 "$rc"
done
check_eq "nothing was made through the planted directory link" "s.sock" "$(ls "$T/pl/else")"
check_true "nothing connected through it" test ! -e "$T/pl/sunk"
rm d && mkfifo d
run "$o" "$e" "$INTERPOSE" --trace-file=d -- true
check_eq "--trace-file on a FIFO nobody reads: refused, not waited on" 125 "$rc"
run "$o" "$e" "$INTERPOSE" --trace-file=t.log -- true
check_true "--trace-file of a new file in the workspace still works" test -s "$T/pl/ws/t.log"
cd "$here" || exit 99
# The log is renamed into place at the end: never over what is not a file
# (as root, --audit=/dev/null replaced the host's /dev/null with the log).
mkfifo "$T/pl/fifo"
run "$o" "$e" "$INTERPOSE" --audit="$T/pl/fifo" -- true
check_eq "--audit on a FIFO: refused" 125 "$rc"
check_true "...and the FIFO is still one" test -p "$T/pl/fifo"
if [ "$(id -u)" = 0 ] && mknod -m 666 "$T/pl/null" c 1 3 2>/dev/null; then
  run "$o" "$e" "$INTERPOSE" --audit="$T/pl/null" -- true
  check_eq "--audit on a device: refused" 125 "$rc"
  check_true "...and the device is still one" test -c "$T/pl/null"
fi

# audit verb usage errors
run "$o" "$e" "$INTERPOSE" audit
check_eq "interpose audit: exit status" 125 "$rc"
run "$o" "$e" "$INTERPOSE" audit verify "$T/no-such.jsonl"
check_eq "interpose audit verify MISSING: exit status" 125 "$rc"

finish
