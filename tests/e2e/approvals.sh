#!/bin/sh
# Approvals (issue 7): a right the policy gives only on request (--ask-read,
# --ask-write, --ask-exec, --ask-net, "ask" in a policy file) suspends the
# call until a person answers, here over the control socket with
# `interpose pending/approve/deny`. While it waits, the rest of the guest
# runs (the sentry serves others). An answer "once" is spent on one call: a
# second call, or another object, asks again; "always" holds for the object;
# a denied read fails with EACCES and a denied connect with ECONNREFUSED,
# which the program handles as it would natively. Unanswered asks are denied
# after --ask-timeout; with no terminal and no approver, at once, saying why.
# The guest cannot answer its own questions. Every question, answer and who
# answered is in the audit log, which verifies.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

O=$(mktemp -d "${TMPDIR:-/tmp}/interpose-e2e-ask-out.XXXXXX") || exit 99
at_exit "rm -rf '$O'"
echo alpha >"$O/a.txt"
echo beta >"$O/b.txt"
CTL=$T/ctl.sock

need setsid
# A server on loopback for the network asks (a host service: refused
# unless a rule names it, here an ask rule).
cat >"$T/server.py" <<'PY'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    c.close()
PY
"$PY" "$T/server.py" "$T/port" &
SERVER=$!
at_exit "kill $SERVER 2>/dev/null"
poll "the loopback server" file_nonempty "$T/port" || finish
PORT=$(cat "$T/port")

# The guest: a thread that keeps making trapped calls (it writes a file in
# the workspace) while the main thread's calls wait for answers.
cat >"$T/guest.py" <<'PY'
import errno, os, socket, sys, threading, time
out, port = sys.argv[1], int(sys.argv[2])
stop = False
def tick():
    n = 0
    while not stop:
        n += 1
        with open("ticks.tmp", "w") as f:
            f.write(str(n))
        os.rename("ticks.tmp", "ticks")
        time.sleep(0.01)
threading.Thread(target=tick, daemon=True).start()
def read(tag, path):
    try:
        with open(path) as f:
            print(tag, "ok", f.read().strip(), flush=True)
    except OSError as e:
        print(tag, errno.errorcode[e.errno], flush=True)
read("a1", out + "/a.txt")
read("a2", out + "/a.txt")
read("b1", out + "/b.txt")
read("b2", out + "/b.txt")
s = socket.socket()
try:
    s.connect(("127.0.0.1", port))
    print("net ok", flush=True)
except OSError as e:
    print("net", errno.errorcode[e.errno], flush=True)
stop = True
PY

# Natively (the control): everything works.
run "$T/native" "$T/ne" "$PY" "$T/guest.py" "$O" "$PORT"
check_match "natively: a.txt is read" '^a1 ok alpha$' "$T/native"
check_match "natively: the connect works" '^net ok$' "$T/native"

pending() { "$INTERPOSE" pending --control="$CTL" --json 2>/dev/null; }
# question_for TEXT: the id of the pending question whose object has TEXT.
question_for() {
  pending | "$PY" -c '
import json, sys
want = sys.argv[1]
for q in json.load(sys.stdin)["pending"]:
    if want in q["object"]:
        print(q["id"]); break' "$1" 2>/dev/null
}
has_question() { [ -n "$(question_for "$1")" ]; }
ticks() { cat "$T/ticks" 2>/dev/null || echo 0; }
ticks_past() { [ "$(ticks)" -gt "$1" ]; }
no_questions() { [ "$(pending | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["pending"]))')" = 0 ]; }

# --- over the control socket ------------------------------------------------
setsid -w "$INTERPOSE" --approver=socket --control="$CTL" --ask-timeout=0 --audit="$T/a.jsonl" \
  --ask-read="$O" --ask-net="127.0.0.1:$PORT" -- "$PY" "$T/guest.py" "$O" "$PORT" \
  </dev/null >"$T/out" 2>"$T/err" &
G=$!
if poll "the first question (a.txt)" has_question a.txt; then
  id=$(question_for a.txt)
  pending >"$T/p1"
  check_match "pending: names the program" '"exe": *"[^"]*python3' "$T/p1"
  check_match "pending: names the right" '"right": *"read' "$T/p1"
  check_match "pending: names the syscall" '"syscall": *"open' "$T/p1"
  "$INTERPOSE" pending --control="$CTL" >"$T/p1.txt" 2>&1
  check_match "pending (table): the object" "$O/a.txt" "$T/p1.txt"
  # The sentry serves the rest of the guest while this call waits.
  t0=$(ticks)
  poll "the guest's other thread to go on while a call waits" ticks_past $((t0 + 20))
  check_eq "still waiting: no answer yet" "" "$(cat "$T/out")"
  "$INTERPOSE" approve "$id" --control="$CTL" --by=e2e-tester >"$T/ap" 2>&1
  check_eq "approve: status" 0 "$?"
fi
# Once is once: the same file read again asks again.
if poll "a second question for a.txt" has_question a.txt; then
  id2=$(question_for a.txt)
  check_ne "a second call asks anew" "$id" "$id2"
  "$INTERPOSE" deny "$id2" --control="$CTL" >/dev/null 2>&1
  check_eq "deny: status" 0 "$?"
  "$INTERPOSE" deny "$id2" --control="$CTL" >"$T/again" 2>&1
  check_eq "answering twice: refused" 1 "$?"
fi
# Another object asks on its own; "always" answers it for the session.
if poll "a question for b.txt" has_question b.txt; then
  "$INTERPOSE" approve "$(question_for b.txt)" --always --control="$CTL" >/dev/null 2>&1
fi
if poll "a question for the connect" has_question "127.0.0.1:$PORT"; then
  check_nomatch "b.txt was not asked again after always" 'b.txt' "$T/p1"
  pending >"$T/p2"
  check_nomatch "always: no second question for b.txt" 'b.txt' "$T/p2"
  "$INTERPOSE" deny "$(question_for "127.0.0.1:$PORT")" --control="$CTL" >/dev/null 2>&1
fi
wait_child "$G" "the guest"
check_eq "socket: status" 0 "$rc"
check_match "once: the first read works" '^a1 ok alpha$' "$T/out"
check_match "denied: EACCES, handled" '^a2 EACCES$' "$T/out"
check_match "always: read" '^b1 ok beta$' "$T/out"
check_match "always: and again without asking" '^b2 ok beta$' "$T/out"
check_match "a denied connect: ECONNREFUSED, handled" '^net ECONNREFUSED$' "$T/out"
check_match "audit: a question" '"decision":"ask".*"ask_id":1,"kind":"file","right":"read"' "$T/a.jsonl"
check_match "audit: who answered" '"decision":"answer".*"answer":"once","by":"socket uid=[0-9]+ pid=[0-9]+ name=e2e-tester"' "$T/a.jsonl"
check_match "audit: the approved call" '"decision":"allow","rule":"ask".*"answer":"once"' "$T/a.jsonl"
check_match "audit: the denied call" '"decision":"deny","rule":"ask".*"answer":"deny"' "$T/a.jsonl"
check_match "audit: the standing answer" '"answer":"always"' "$T/a.jsonl"
check_match "audit: the network question" '"decision":"ask".*"kind":"net","right":"connect"' "$T/a.jsonl"
check_true "audit: the chain verifies" "$INTERPOSE" audit verify "$T/a.jsonl"

# --- an answer is for the object asked about --------------------------------------
# The call waits on a symlink to a.txt; the link is pointed at b.txt before
# the answer. The call is decided again on what it reaches now: b.txt asks
# on its own, and the "once" given for a.txt is not spent on it.
ln -s "$O/a.txt" "$T/lnk"
setsid -w "$INTERPOSE" --approver=socket --control="$CTL" --ask-timeout=0 --audit="$T/l.jsonl" \
  --ask-read="$O" -- "$PY" -c "
import errno
try:
    print('read', open('lnk').read().strip())
except OSError as e:
    print('read', errno.errorcode[e.errno])" </dev/null >"$T/out" 2>"$T/err" &
G=$!
if poll "the question for the link's first target" has_question a.txt; then
  ln -sfn "$O/b.txt" "$T/lnk"
  "$INTERPOSE" approve "$(question_for a.txt)" --control="$CTL" >/dev/null 2>&1
  if poll "a question for the link's new target" has_question b.txt; then
    "$INTERPOSE" deny "$(question_for b.txt)" --control="$CTL" >/dev/null 2>&1
  fi
fi
wait_child "$G" "the guest reading through a link"
check_match "retargeted: the approval for a.txt did not open b.txt" '^read EACCES$' "$T/out"

# --- on interpose's terminal ---------------------------------------------------------
# A real pty: the prompt names the program, the right and the object; a
# wrong answer is asked again; "o" allows once, ^C denies; the keystrokes
# answer the prompt, not the guest reading the same terminal.
if "$PY" "$SRC_DIR/e2e/approvals-tty.py" "$INTERPOSE" "$O" >"$T/tty.out" 2>&1; then pass; else
  fail "the terminal prompt:"; sed 's/^/    | /' "$T/tty.out" >&2
fi

# --- unanswered: denied after --ask-timeout -------------------------------------
run "$T/out" "$T/err" setsid -w "$INTERPOSE" --approver=socket --control="$CTL" --ask-timeout=300ms \
  --audit="$T/t.jsonl" --ask-read="$O" -- "$PY" -c "
import errno
try:
    open('$O/a.txt').read(); print('read')
except OSError as e:
    print(errno.errorcode[e.errno])"
check_eq "timeout: status" 0 "$rc"
check_match "timeout: denied with EACCES" '^EACCES$' "$T/out"
check_match "timeout: the log says so" '"answer":"deny","by":"timeout' "$T/t.jsonl"

# --- nobody to ask: denied at once, and said why --------------------------------
run "$T/out" "$T/err" setsid -w "$INTERPOSE" --audit="$T/n.jsonl" --ask-read="$O" -- cat "$O/a.txt"
check_ne "no terminal, no approver: the read fails" 0 "$rc"
check_match "no terminal, no approver: said why" 'denied without asking \(no terminal' "$T/err"
check_match "no terminal, no approver: in the log" '"answer":"deny","by":"nobody: no terminal' "$T/n.jsonl"
run "$T/out" "$T/err" setsid -w "$INTERPOSE" --approver=tty --ask-read="$O" -- true
check_eq "--approver=tty without a terminal: refused" 125 "$rc"
check_match "--approver=tty without a terminal: says what to do" 'approver=socket' "$T/err"
run "$T/out" "$T/err" "$INTERPOSE" --approver=maybe -- true
check_eq "--approver=maybe: refused" 125 "$rc"

# --- exec and write asks, and "ask" in a policy file ------------------------------
run "$T/out" "$T/err" setsid -w "$INTERPOSE" --approver=none --ask-exec=/usr/bin/id -- sh -c 'id -u; echo rc=$?'
check_match "--ask-exec, nobody to ask: the program does not run" '^rc=126$' "$T/out"
check_match "--ask-exec: said" 'denied without asking \(--approver=none\): exec exec /usr/bin/id' "$T/err"
# An asked object may not be moved or linked where it would be given
# unasked what is asked where it is: renamed, the asked directory or tool
# would be outside the rule that asks.
mkdir -p "$T/mv/docs" && echo ASKED_DOC >"$T/mv/docs/plan.txt" && cp /bin/true "$T/mv/tool"
(cd "$T/mv" && run "$T/out" "$T/err" setsid -w "$INTERPOSE" --audit="$T/mv.jsonl" --approver=none --ask-read=docs --ask-exec=tool -- sh -c \
  'mv docs d2 && cat d2/plan.txt; mv docs/plan.txt p.txt && cat p.txt; mv tool t2 && ./t2 && echo RAN; ln tool t3 && ./t3 && echo RAN; cat docs/plan.txt; true')
check_nomatch "an asked directory or file renamed is not read unasked" 'ASKED_DOC' "$T/out"
check_nomatch "an asked tool renamed or linked does not run unasked" 'RAN' "$T/out"
check_true "the asked directory stayed" test -s "$T/mv/docs/plan.txt"
check_match "a refused move: the guest is told EACCES" "cannot move 'docs' to 'd2': Permission denied" "$T/err"
check_match "a refused move: the log names the rule" '"policy_rule":"--ask-read \(not moved out from under it\)"' "$T/mv.jsonl"
(cd "$T/mv" && run "$T/out" "$T/err" setsid -w "$INTERPOSE" --approver=none --ask-read=docs -- sh -c \
  'mkdir -p docs/sub && mv docs/plan.txt docs/sub/plan.txt && mv docs/sub/plan.txt docs/plan.txt && echo MOVED')
check_match "an asked file moves within what asks for it" '^MOVED$' "$T/out"
cat >"$T/ask.json" <<JSON
{"rules": [{"path": "$O", "allow": "read", "ask": ["write", "create"]}]}
JSON
run "$T/out" "$T/err" setsid -w "$INTERPOSE" --approver=none --policy="$T/ask.json" -- sh -c \
  "cat '$O/a.txt'; echo x > '$O/new.txt'; echo rc=\$?"
check_match "a policy file's ask: the allowed read works" '^alpha$' "$T/out"
check_match "a policy file's ask: the asked create is refused" '^rc=[1-9]' "$T/out"
check_true "a policy file's ask: nothing was made" test ! -e "$O/new.txt"
check_match "a policy file's ask: said" 'file create '"$O"'/new.txt' "$T/err"

# An exec approved once runs, and its record keeps the question and answer.
setsid -w "$INTERPOSE" --approver=socket --control="$CTL" --ask-timeout=0 --audit="$T/x.jsonl" \
  --ask-exec=/usr/bin/id -- sh -c 'id -u; echo rc=$?' </dev/null >"$T/out" 2>"$T/err" &
G=$!
if poll "the question for the exec" has_question /usr/bin/id; then
  "$INTERPOSE" approve "$(question_for /usr/bin/id)" --control="$CTL" >/dev/null 2>&1
fi
wait_child "$G" "the guest whose exec was asked"
check_match "--ask-exec, approved once: it ran" "^$(id -u)\$" "$T/out"
check_match "--ask-exec, approved once: the exec record keeps the answer" \
  '"decision":"exec","rule":"ask".*"kind":"exec".*"answer":"once"' "$T/x.jsonl"

# --- the guest cannot answer its own question -------------------------------------
# Its cat waits for an answer while the guest tries to give it: the control
# socket is denied to the guest (and the asker refuses peers from inside the
# sandbox too: tests/unit/test-asker.c).
# (A copy in the workspace: a build under /tmp is not in the guest's /tmp.)
cp "$INTERPOSE" "$T/interpose-copy"
cat >"$T/self.sh" <<SH
cat "$O/a.txt" >"$T/self-cat" 2>&1 &
while [ ! -e "$T/go" ]; do sleep 0.01; done
"$T/interpose-copy" approve 1 --control="$CTL" >"$T/self.out" 2>&1
echo "approve:\$?" >"$T/self.rc"
wait
SH
setsid -w "$INTERPOSE" --approver=socket --control="$CTL" --ask-timeout=0 --audit="$T/s.jsonl" \
  --ask-read="$O" -- sh "$T/self.sh" </dev/null >"$T/out" 2>"$T/err" &
G=$!
if poll "the guest's question" has_question a.txt; then
  : >"$T/go"
  poll "the guest's attempt to approve" file_nonempty "$T/self.rc"
  check_match "self-approval: refused" '^approve:[1-9]' "$T/self.rc"
  check_match "self-approval: the socket is out of the guest's reach" 'Permission denied' "$T/self.out"
  check_true "self-approval: the question still waits" has_question a.txt
  "$INTERPOSE" deny "$(question_for a.txt)" --control="$CTL" >/dev/null 2>&1
fi
wait_child "$G" "the self-approving guest"
check_nomatch "self-approval: the read did not happen" 'alpha' "$T/self-cat"

# --- SIGTERM to interpose while a call waits: the guest ends, as natively --------
# (On ptrace the caller waits stopped: the signal would wait for the
# answer; the sentry answers EINTR so the signal takes it.)
"$INTERPOSE" --approver=socket --control="$CTL" --ask-timeout=0 --audit="$T/k.jsonl" --ask-read="$O" \
  -- cat "$O/a.txt" </dev/null >"$T/out" 2>"$T/err" &
G=$!
if poll "the question of the cat to be terminated" has_question a.txt; then
  kill -TERM "$G"
fi
wait_child "$G" "interpose, sent SIGTERM while a call waits"
check_eq "SIGTERM while a call waits: the guest's status" 143 "$rc"

# --- a caller killed while it waits: its question is withdrawn -----------------------
setsid -w "$INTERPOSE" --approver=socket --control="$CTL" --ask-timeout=0 --audit="$T/w.jsonl" \
  --ask-read="$O" -- sh -c "cat '$O/a.txt' & echo \$! > '$T/catpid'; wait; echo waited;
    while [ ! -e '$T/done' ]; do sleep 0.01; done" \
  </dev/null >"$T/out" 2>"$T/err" &
G=$!
if poll "the question of the doomed cat" has_question a.txt; then
  kill -9 "$(cat "$T/catpid")"
  poll "the question to be withdrawn" no_questions
fi
: >"$T/done"
wait_child "$G" "the guest whose caller died"
check_match "withdrawn: the session went on" '^waited$' "$T/out"
check_match "withdrawn: in the log" '"answer":"withdrawn"' "$T/w.jsonl"

# The line saying a call was denied without asking names the guest's
# object: no control character of the guest's reaches the terminal.
mkdir -p "$T/ctl/priv"
nasty=$(printf 'x\033]0;PWNED\007y')
echo s >"$T/ctl/priv/$nasty"
(cd "$T/ctl" && NASTY="$nasty" run "$T/ctl.out" "$T/ctl.err" "$INTERPOSE" --workspace="$T/ctl" \
  --ask-read="$T/ctl/priv" --approver=none -- sh -c 'cat "priv/$NASTY" 2>/dev/null; true')
check_match "denied without asking: said" "denied without asking" "$T/ctl.err"
check_eq "...with no control character of the guest's" 0 "$(tr -d '\n' <"$T/ctl.err" | tr -dc '\000-\037\177' | wc -c)"

finish
