#!/bin/sh
# The audit log: JSON Lines with the fields the design names, exec and exit
# records, a hash chain that `interpose audit verify` checks and that breaks
# on any edit; and it stays out of the guest's reach while the guest runs.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

o=$T/out e=$T/err
log=$T/audit.jsonl

# --- a session with a denial -----------------------------------------------------
run "$o" "$e" "$INTERPOSE" --summary --audit="$log" sh -c 'kill -0 1; exit 3'
check_eq "sh -c 'kill -0 1; exit 3': status" 3 "$rc"
check_match "kill -0 1 was refused as if pid 1 did not exist" 'No such process' "$e"
summary_head=$(sed -n 's/.*(chain head \([0-9a-f]*\))$/\1/p' "$e")
check_ne "summary prints the chain head" "" "$summary_head"
check_true "audit log written at --audit=FILE" test -s "$log"
check_eq "audit log mode" 600 "$(stat -c %a "$log" 2>/dev/null)"
# With the log elsewhere, the session leaves nothing in the state directory
# (its directory held only the log's second name while it ran).
left=$(find "$XDG_STATE_HOME/interpose/sessions" -mindepth 1 2>/dev/null | head -3)
check_eq "a session with --audit=FILE leaves no directory in \$XDG_STATE_HOME" "" "$left"

# Structure, checked record by record. The design names: time, session id,
# pid, tid, executable, syscall, decoded arguments, decision, rule, result.
if "$PY" - "$log" >"$T/py.out" 2>&1 <<'EOF'
import hashlib, json, re, sys

lines = open(sys.argv[1], "rb").read().decode().split("\n")
assert lines[-1] == "", "the log does not end with a newline"
recs = []
for i, line in enumerate(lines[:-1], 1):
    try:
        recs.append(json.loads(line))
    except ValueError as e:
        sys.exit("line %d is not JSON (%s): %s" % (i, e, line))
errors = []
def need(cond, what):
    if not cond:
        errors.append(what)

sessions = {r.get("session") for r in recs}
need(len(sessions) == 1 and None not in sessions and "" not in sessions,
     "one non-empty session id in every record: %r" % sessions)
prev = "0" * 64
last_time = ""
for i, r in enumerate(recs):
    need(r.get("seq") == i, "line %d: seq %r, expected %d" % (i + 1, r.get("seq"), i))
    t = r.get("time", "")
    need(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", t), "line %d: time %r" % (i + 1, t))
    need(t >= last_time, "line %d: time goes backwards" % (i + 1))
    last_time = t
    need(r.get("prev") == prev, "line %d: prev is not the previous record's hash" % (i + 1))
    line = lines[i]
    body = line[: line.rindex(',"hash":"')]
    need(hashlib.sha256(body.encode()).hexdigest() == r.get("hash"),
         "line %d: hash is not SHA-256 of the record up to it" % (i + 1))
    prev = r.get("hash")
    need(r.get("decision") and r.get("rule"), "line %d: no decision or rule" % (i + 1))

# The denial: every field the design lists.
deny = [r for r in recs if r.get("decision") == "deny"]
need(len(deny) == 1, "one deny record, got %d" % len(deny))
if deny:
    d = deny[0]
    for k in ("time", "session", "pid", "tid", "exe", "syscall", "args", "decision", "rule", "result"):
        need(k in d, "deny record lacks %r: %r" % (k, d))
    need(d.get("syscall") == "kill", "deny: syscall %r" % d.get("syscall"))
    need(d.get("args") == "kill(1, 0)", "deny: decoded args %r" % d.get("args"))
    need(d.get("rule") == "own-tree", "deny: rule %r" % d.get("rule"))
    need("ESRCH" in str(d.get("result")), "deny: result %r" % d.get("result"))
    need(isinstance(d.get("pid"), int) and d.get("pid") > 1 and d.get("tid") == d.get("pid"),
         "deny: pid %r tid %r" % (d.get("pid"), d.get("tid")))
    need(str(d.get("exe")).startswith("/") and re.search(r"/(da|ba)?sh$", str(d.get("exe"))),
         "deny: exe %r is not the shell's path" % d.get("exe"))

# exec, with the program's argv; exit with status 3; session start and end.
execs = [r for r in recs if r.get("decision") == "exec"]
need(any(r.get("syscall") == "execve"
         and '["sh", "-c", "kill -0 1; exit 3"]' in r.get("args", "")
         and r.get("path", "").endswith("/sh") for r in execs),
     "no exec record carrying the argv: %r" % execs)
exits = [r for r in recs if r.get("decision") == "exit"]
need(any(r.get("status") == 3 and deny and r.get("pid") == deny[0].get("pid") for r in exits),
     "no exit record with status 3 from the shell: %r" % exits)
need(recs[0].get("decision") == "start" and recs[0].get("exe", "").endswith("/sh"),
     "first record is not the session start: %r" % recs[0])
need(recs[-1].get("decision") == "end" and recs[-1].get("status") == 3,
     "last record is not the session end with status 3: %r" % recs[-1])
print(prev)
if errors:
    sys.exit("\n".join(errors))
EOF
then
  pass
  check_eq "summary chain head is the log's last hash" "$summary_head" "$(tail -n 1 "$T/py.out")"
else
  fail "audit log structure:"; sed 's/^/    | /' "$T/py.out" >&2
fi

run "$o" "$e" "$INTERPOSE" audit verify "$log"
check_eq "audit verify on the untouched log: status" 0 "$rc"
n=$(wc -l <"$log")
check_match "audit verify counts the records" "^$log: $n records, chain intact, head $summary_head" "$o"

# --- tampering ---------------------------------------------------------------------
# tampered NAME LINE: verify must fail on $T/NAME and name line LINE.
# A third argument: what verify must say was done.
tampered() {
  run "$o" "$e" "$INTERPOSE" audit verify "$T/$1"
  check_eq "audit verify after $1: status" 1 "$rc"
  check_match "audit verify after $1: names line $2" "line $2:" "$e"
  [ -n "${3:-}" ] && check_match "audit verify after $1: says it was $3" "line $2: hash chain broken: .*$3" "$e"
}
dl=$(grep -n '"decision":"deny"' "$log" | cut -d: -f1)
sed "${dl}s/ESRCH/EPERM/" "$log" >"$T/edited"
check_true "swap changed the log" sh -c "! cmp -s '$log' '$T/swapped'"
check_true "edit changed the log" sh -c "! cmp -s '$log' '$T/edited'"
tampered edited "$dl" edited
sed "${dl}s/\"pid\":\\([0-9]\\)/\"pid\":1\\1/" "$log" >"$T/pid-edited"
tampered pid-edited "$dl"
sed "${n}s/\"status\":3/\"status\":0/" "$log" >"$T/status-edited"
tampered status-edited "$n"
sed "${dl}d" "$log" >"$T/deleted"
tampered deleted "$dl" dropped
sed '1d' "$log" >"$T/first-deleted"
tampered first-deleted 1 dropped
awk 'NR == 2 { two = $0; next } NR == 3 { print; print two; next } { print }' "$log" >"$T/swapped"
tampered swapped 2 dropped
{ cat "$log"; tail -n 1 "$log"; } >"$T/duplicated"
tampered duplicated $((n + 1)) "out of order"
# An edit whose record hash is recomputed still breaks the next link.
"$PY" - "$log" "$dl" >"$T/rehashed" <<'EOF'
import hashlib, sys
lines = open(sys.argv[1]).read().split("\n")[:-1]
i = int(sys.argv[2]) - 1
body = lines[i][: lines[i].rindex(',"hash":"')].replace("ESRCH", "EPERM")
lines[i] = body + ',"hash":"%s"}' % hashlib.sha256(body.encode()).hexdigest()
print("\n".join(lines))
EOF
tampered rehashed $((dl + 1)) replaced
# Dropping the tail, or rewriting the whole chain from an edit on, leaves a
# chain that holds together: only the head the summary printed tells.
head -n $((n - 1)) "$log" >"$T/truncated"
run "$o" "$e" "$INTERPOSE" audit verify "$T/truncated"
th=$(sed -n 's/.*, head \([0-9a-f]*\)$/\1/p' "$o" | cut -c1-16)
check_ne "truncated log: its head differs from the summary's" "$summary_head" "$th"

# --- show and summary ---------------------------------------------------------------
run "$o" "$e" "$INTERPOSE" audit show --decision=deny "$log"
check_eq "audit show: status" 0 "$rc"
check_match "audit show --decision=deny: the refused kill" ' deny .* kill +kill\(1, 0\) -> -1 ESRCH' "$o"
check_nomatch "audit show --decision=deny: nothing else" ' (exec|exit|start|end) ' "$o"
run "$o" "$e" "$INTERPOSE" audit show --syscall=execve --since=2000-01-01 "$log"
check_match "audit show --syscall=execve: the exec" ' exec .* execve ' "$o"
check_nomatch "audit show --syscall=execve: only execs" ' kill ' "$o"
run "$o" "$e" "$INTERPOSE" audit show --since=2999 "$log"
check_eq "audit show --since in the future: nothing" "" "$(cat "$o")"
run "$o" "$e" "$INTERPOSE" audit show --bogus "$log"
check_eq "audit show with an unknown filter: refused" 125 "$rc"
run "$o" "$e" "$INTERPOSE" audit summary --json "$log"
check_eq "audit summary --json: status" 0 "$rc"
check_true "audit summary --json: counts, denials, programs, head" "$PY" -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["decisions"]["deny"] >= 1 and s["decisions"]["start"] == 1, s["decisions"]
assert any(d["name"] == "kill" for d in s["top_denied"]), s["top_denied"]
assert any(p["name"].endswith("/sh") or p["name"].endswith("/dash") for p in s["programs"]), s["programs"]
assert s["head"].startswith(sys.argv[2]) and len(s["policy_hash"]) == 64, (s["head"], s["policy_hash"])
' "$o" "$summary_head"
run "$o" "$e" "$INTERPOSE" audit summary "$log"
check_match "audit summary: decisions" '^decisions:.* deny [0-9]+' "$o"
check_match "audit summary: most denied" '^most denied:' "$o"
check_match "the first record binds the session and the policy" '"decision":"start".*"policy_hash":"[0-9a-f]{64}"' "$log"

# `audit show` on a terminal: a name the guest chose holds escape
# sequences (retitle, clear the line) and a newline that forges a record
# line; shown as \xNN, never raw.
mkdir -p "$T/showws/priv"
nasty=$(printf 'x\033]0;PWNED\007\033[2K\rFORGED\nfake line')
echo s >"$T/showws/priv/$nasty"
(cd "$T/showws" && NASTY="$nasty" run "$o" "$e" "$INTERPOSE" --workspace="$T/showws" --deny="$T/showws/priv" \
  --audit="$T/show.jsonl" -- sh -c 'cat "priv/$NASTY" 2>/dev/null; true')
"$INTERPOSE" audit show "$T/show.jsonl" >"$T/show.out" 2>&1
check_eq "audit show writes no control character of the guest's" 0 "$(tr -d '\n\t' <"$T/show.out" | tr -dc '\000-\037\177' | wc -c)"
check_match "...it shows them escaped" 'x\\x1b\]0;PWNED\\x07' "$T/show.out"

# --- --backtrace: where in the guest a refusal came from -----------------------------
if command -v gcc >/dev/null; then
  cat >"$T/bt.c" <<'EOF'
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
__attribute__((noinline)) int read_ssh_key(const char *p) { int fd = open(p, O_RDONLY); if (fd >= 0) close(fd); return fd; }
__attribute__((noinline)) int gather_credentials(void) { return read_ssh_key("/etc/shadow"); }
int main(void) { printf("%d\n", gather_credentials()); return 0; }
EOF
  gcc -O1 -o "$T/bt" "$T/bt.c"
  run "$o" "$e" "$INTERPOSE" --backtrace --audit="$T/bt.jsonl" -- "$T/bt"
  check_eq "--backtrace: the program ran" "-1" "$(cat "$o")"
  check_match "--backtrace: the refusal's stack, innermost first" \
    '"decision":"deny".*"backtrace":\["0x[0-9a-f]+ [^"]*open[^"]*","0x[0-9a-f]+ read_ssh_key\+0x[0-9a-f]+","0x[0-9a-f]+ gather_credentials\+0x[0-9a-f]+","0x[0-9a-f]+ main\+' "$T/bt.jsonl"
  check_true "--backtrace: the log verifies" "$INTERPOSE" audit verify "$T/bt.jsonl"
  run "$o" "$e" "$INTERPOSE" audit show --decision=deny "$T/bt.jsonl"
  check_match "--backtrace: audit show prints the frames" '^ +at 0x[0-9a-f]+ gather_credentials' "$o"
  run "$o" "$e" "$INTERPOSE" --audit="$T/nobt.jsonl" -- "$T/bt"
  check_nomatch "without --backtrace: no stack" '"backtrace"' "$T/nobt.jsonl"
  # The unwinder opens the files the maps name: a guest that puts a FIFO
  # where its own binary was cannot wedge the sentry with it.
  cat >"$T/fifo.c" <<'EOF'
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv) {
  char self[PATH_MAX], fake[PATH_MAX + 16];
  if (!realpath(argv[0], self)) return 2;
  /* Its maps now say "SELF (deleted)": a FIFO of that name waits there. */
  snprintf(fake, sizeof(fake), "%s (deleted)", self);
  if (unlink(self) || mkfifo(fake, 0600)) { perror("setup"); return 2; }
  for (int i = 0; i < 3; i++) open("/etc/shadow", O_RDONLY);
  printf("alive\n");
  return 0;
}
EOF
  gcc -O1 -o "$T/fifo" "$T/fifo.c"
  run "$o" "$e" "$INTERPOSE" --backtrace --audit="$T/fifo.jsonl" -- "$T/fifo"
  check_eq "--backtrace and a FIFO where the binary was: the guest goes on" "0 alive" "$rc $(cat "$o")"
  check_eq "--backtrace and a FIFO: each refusal recorded" 3 "$(grep -c '"decision":"deny".*shadow' "$T/fifo.jsonl")"
  rm -f "$T/fifo (deleted)"
else
  say "SKIP part: gcc is not installed"
fi

# --- --audit-sink: each record streamed to a collector as it is written -------------
"$PY" - "$T/sink.sock" "$T/sink.out" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
with open(sys.argv[2], "wb") as out:
    while True:
        b = c.recv(65536)
        if not b:
            break
        out.write(b)
EOF
collector=$!
at_exit "kill $collector 2>/dev/null"
poll "the collector listens" test -S "$T/sink.sock"
run "$o" "$e" "$INTERPOSE" --audit-sink="unix:$T/sink.sock" --audit="$T/sunk.jsonl" -- sh -c '
  "$0" -c "
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); s.sendall(b\"{}\\n\"); print(\"sink connected\")
except OSError as e:
    print(\"sink refused\", e.strerror)
" "$1"; kill -0 1; exit 0' "$PY" "$T/sink.sock"
check_eq "--audit-sink: status" 0 "$rc"
check_match "--audit-sink: the guest cannot reach the collector's socket" '^sink refused' "$o"
wait "$collector"
check_same_file "--audit-sink: the collector got every record, as written" "$T/sunk.jsonl" "$T/sink.out"
check_true "--audit-sink: what it got verifies" "$INTERPOSE" audit verify "$T/sink.out"
run "$o" "$e" "$INTERPOSE" --audit-sink="unix:$T/nobody.sock" -- true
check_eq "--audit-sink to no collector: refused" 125 "$rc"
check_match "--audit-sink to no collector: says so" 'cannot connect.*start the collector first' "$e"
run "$o" "$e" "$INTERPOSE" --audit-sink="tcp:1.2.3.4:5" -- true
check_eq "--audit-sink not unix:PATH: refused" 125 "$rc"

# --- out of the guest's reach ---------------------------------------------------
# While the guest runs, the log has no name, interpose's processes are not
# in the guest's /proc, no descriptor of theirs can be opened through it,
# and they cannot be reached with pidfds. The guest cannot find their pids
# itself (that is the point), so the test tells it, through a FIFO, once
# it has found them from outside. Each probe prints one line
# "PROBE: ok|LEAK ...".
probe_script='
log=$1
say() { echo "$1: $2"; }
if cat "$log" >/dev/null 2>&1; then say open-by-name "LEAK read $log"; else say open-by-name ok; fi
if ls -a "$(dirname "$log")" | grep -q audit; then say listing "LEAK $(ls -a "$(dirname "$log")" | tr "\n" " ")"; else say listing ok; fi
read sentry launcher gofers <"$2"
say pids "sentry=$sentry launcher=$launcher children=$gofers"
for p in $sentry $launcher $gofers; do
  [ "$p" = "$$" ] && continue
  if [ -e /proc/$p ] || [ -n "$(ls /proc | grep -x "$p")" ]; then say "proc-visible $p" LEAK; else say "proc-visible $p" ok; fi
  for n in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do f=/proc/$p/fd/$n
    if (: <"$f") 2>/dev/null; then say "fd-open $f" "LEAK opened"; else say "fd-open $f" ok; fi
    t=$(readlink "$f" 2>/dev/null) && say "fd-readlink $f" "LEAK $t" || say "fd-readlink $f" ok
    if ln -L "$f" "$(dirname "$log")/stolen.$p.${f##*/}" 2>/dev/null; then say "fd-link $f" LEAK; else say "fd-link $f" ok; fi
  done
  for what in environ mem; do
    if (: <"/proc/$p/$what") 2>/dev/null; then say "proc-$what $p" LEAK; else say "proc-$what $p" ok; fi
  done
  for what in cwd root map_files; do
    if ls "/proc/$p/$what/" >/dev/null 2>&1; then say "proc-$what $p" LEAK; else say "proc-$what $p" ok; fi
  done
done
ls -l /proc/self/fd/ 2>/dev/null | grep -F "$(dirname "$log")" | sed "s/^/own-fd: LEAK /"
for p in $sentry $launcher; do
  /usr/bin/python3.11 -c "
import os, sys
try:
    fd = os.pidfd_open($p)
except OSError as e:
    print(\"pidfd_open $p: ok\", e.strerror)
    sys.exit()
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
got = [n for n in range(64) if libc.syscall(438, fd, n, 0) >= 0]
print(\"pidfd_open $p: LEAK opened; pidfd_getfd got\", got)
"
done
echo probes-done
'
mkdir "$T/guarded"
mkfifo "$T/pids"
timeout -k 5 "$POLL_LIMIT" "$INTERPOSE" --audit="$T/guarded/audit.jsonl" sh -c "$probe_script" sh "$T/guarded/audit.jsonl" "$T/pids" \
  </dev/null >"$T/probe.out" 2>"$T/probe.err" &
tpid=$!
# timeout's child is the launcher; its children are the gofer and sentry,
# and the sentry's child is the guest (which waits on the FIFO).
launcher_kids() { l=$(proc_children "$tpid" | head -n 1) && [ -n "$l" ] && [ "$(proc_children "$l" | wc -l)" -ge 2 ]; }
if poll "the launcher to start the gofer and sentry" launcher_kids; then
  launcher=$(proc_children "$tpid" | head -n 1)
  sentry="" gofers=""
  for k in $(proc_children "$launcher"); do
    if [ -n "$(proc_children "$k")" ]; then sentry=$k; else gofers="$gofers $k"; fi
  done
  echo "$sentry $launcher$gofers" >"$T/pids"
else
  kill "$tpid"
fi
wait "$tpid"
check_match "guest probes ran to the end" '^probes-done$' "$T/probe.out"
check_match "guest was told the sentry and launcher" '^pids: sentry=[0-9]+ launcher=[0-9]+ children= ?[0-9]+' "$T/probe.out"
check_match "the sentry is not in the guest's /proc" '^proc-visible [0-9]+: ok$' "$T/probe.out"
check_match "guest probed the sentry's descriptors" '^fd-open /proc/[0-9]+/fd/[0-9]+: ok$' "$T/probe.out"
check_match "guest probed pidfd_open" '^pidfd_open [0-9]+: ' "$T/probe.out"
check_nomatch "guest reached the audit log (or interpose's processes)" 'LEAK' "$T/probe.out"
check_eq "no stolen links left behind" "" "$(ls "$T/guarded" | grep stolen)"
check_true "the guarded session's log was saved" test -s "$T/guarded/audit.jsonl"
run "$o" "$e" "$INTERPOSE" audit verify "$T/guarded/audit.jsonl"
check_eq "the guarded session's log verifies" 0 "$rc"

# The guest cannot make the log disappear by putting something in the way of
# its final name (a directory there; the state directory removed): the
# records are saved somewhere else, the summary says where, and the saved
# log verifies up to the head the summary printed. Or the session fails.
saved_log() {
  # "audit log PATH (chain head H)" -> PATH H
  sed -n 's/.*audit log \(.*\) (chain head \([0-9a-f]*\))$/\1 \2/p' "$1" | tail -n 1
}
check_saved() {
  what=$1
  set -- $(saved_log "$e")
  if [ "$rc" = 0 ] && [ -n "${1:-}" ] && [ -f "$1" ] &&
     "$INTERPOSE" audit verify --head="$2" "$1" >/dev/null 2>&1 &&
     grep -q '"syscall":"kill".*"decision":"deny"' "$1"; then
    pass
  elif [ "$rc" = 125 ]; then
    pass
  else
    fail "$what: status $rc, log not saved whole; interpose said: $(cat "$e")"
  fi
}
mkdir "$T/blocked"
run "$o" "$e" "$INTERPOSE" --audit="$T/blocked/audit.jsonl" \
  sh -c 'mkdir "$1"; kill -0 1 2>/dev/null; exit 0' sh "$T/blocked/audit.jsonl"
check_saved "guest put a directory where the audit log goes"
mkdir "$T/state"
XDG_STATE_HOME=$T/state run "$o" "$e" "$INTERPOSE" \
  sh -c 'rm -rf "$1/interpose"; kill -0 1 2>/dev/null; exit 0' sh "$T/state"
check_saved "guest removed \$XDG_STATE_HOME/interpose"

# An --audit file inside the workspace: the guest can neither write it in
# advance nor plant something to be saved in its place.
mkdir -p "$T/wsaudit"
run "$o" "$e" "$INTERPOSE" --audit="$T/wsaudit/log.jsonl" sh -c '
  echo "{\"forged\":1}" >wsaudit/log.jsonl 2>/dev/null && echo LEAK-created
  for n in $(seq $(($$ - 64)) $(($$ + 64))); do echo "{\"forged\":1}" >"wsaudit/.log.jsonl.$n" 2>/dev/null; done
  cat /etc/shadow 2>/dev/null; exit 0'
check_nomatch "the guest could not create the audit file" "LEAK" "$o"
check_match "the real log was saved under its name" '"decision":"start"' "$T/wsaudit/log.jsonl"
check_match "with the denial in it" '"syscall":"openat".*"decision":"deny"' "$T/wsaudit/log.jsonl"
run "$o" "$e" "$INTERPOSE" audit verify "$T/wsaudit/log.jsonl"
check_eq "the saved log verifies" 0 "$rc"
# The session id is no secret (the guest's cgroup, as root, names it): a
# name planted where the log is linked before it is renamed into place
# must not turn the log away from its place.
mkdir -p "$T/wsaudit2"
run "$o" "$e" "$INTERPOSE" --audit="$T/wsaudit2/log.jsonl" sh -c '
  id=$(sed -n "s/.*interpose-\([0-9TZ]*-[0-9a-f]*\).*/\1/p" /proc/self/cgroup | head -n 1)
  [ -n "$id" ] || id=$(date +%Y%m%dT%H%M%SZ)-unknown
  : >"wsaudit2/.log.jsonl.$id.part" && echo "planted .log.jsonl.$id.part"
  cat /etc/shadow 2>/dev/null; exit 0'
check_match "a name planted for the link" "^planted" "$o"
check_match "the log is still saved under its name" '"decision":"start"' "$T/wsaudit2/log.jsonl"
check_nomatch "and no warning that it could not be" "cannot save the audit log" "$e"

finish
