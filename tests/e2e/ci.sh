#!/bin/sh
# interpose ci (issue 8): a CI job under the ci profile, gated on what it
# tried. A passing job passes; a failing job keeps its status; a job that
# reads a credential store or reaches an unlisted host trips
# --fail-on=denied (exit 112, one line saying why) and shows in the JUnit
# file (valid against the JUnit schema) and the Markdown summary; --learn
# writes the policy that, used as the policy, lets the same job pass with
# no denials. The runner's workspace variable, the repository's
# .interpose.json (and a runner forbidding it), --artifacts, and asks (never
# prompted: denied, and counted for --fail-on=asked).
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

need setsid
XSD=$SRC_DIR/ci/junit-10.xsd
HOME=$T/home
export HOME
mkdir -p "$HOME/.ssh" "$T/ws"
echo "PRIVATE KEY" >"$HOME/.ssh/id_rsa"
# Outside /tmp: the guest's /tmp is its own (only a rule naming a path there
# keeps it the host's), and a job that meets nothing learns nothing.
O=$(mktemp -d /var/tmp/interpose-e2e-ci-out.XXXXXX) || exit 99
at_exit "rm -rf '$O'"
echo data >"$O/data.txt"
unset GITHUB_WORKSPACE CI_PROJECT_DIR BUILD_SOURCESDIRECTORY ZUUL_PROJECT_SRC_DIR WORKSPACE GITHUB_STEP_SUMMARY

cat >"$T/server.py" <<'PY'
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    s.accept()[0].close()
PY
"$PY" "$T/server.py" "$T/port" &
at_exit "kill $! 2>/dev/null"
poll "the loopback server" file_nonempty "$T/port" || finish
PORT=$(cat "$T/port")

valid_junit() {
  if ! command -v xmllint >/dev/null 2>&1; then
    fail "xmllint is not installed (tools/setup.sh installs libxml2-utils)"
    return
  fi
  if xmllint --noout --schema "$XSD" "$1" >"$T/xmllint.out" 2>&1; then pass; else
    fail "$1 is not valid JUnit:"; sed 's/^/    | /' "$T/xmllint.out" >&2
  fi
}

# --- a passing job passes, a failing one keeps its status ---------------------
run "$T/out" "$T/err" setsid -w "$INTERPOSE" ci -- sh -c 'echo built > out.txt'
check_eq "a passing job: status" 0 "$rc"
check_eq "a passing job: it ran in the workspace" built "$(cat "$T/out.txt" 2>/dev/null)"
run "$T/out" "$T/err" setsid -w "$INTERPOSE" ci --fail-on=denied -- sh -c 'cat ~/.ssh/id_rsa; exit 3'
check_eq "a failing job keeps its status (with denials too)" 3 "$rc"

# --- the gate ---------------------------------------------------------------------
JOB="cat ~/.ssh/id_rsa; $PY -c 'import socket; socket.create_connection((\"127.0.0.1\", $PORT))'; exit 0"
run "$T/out" "$T/err" setsid -w "$INTERPOSE" ci --junit="$T/j0.xml" -- sh -c "$JOB"
check_eq "--fail-on=never (the default): the job's status" 0 "$rc"
check_match "--junit=FILE: the denial is there" '\.ssh/id_rsa' "$T/j0.xml"
valid_junit "$T/j0.xml"
GITHUB_STEP_SUMMARY=$T/summary.md
export GITHUB_STEP_SUMMARY
echo "# earlier step" >"$GITHUB_STEP_SUMMARY"
run "$T/out" "$T/err" setsid -w "$INTERPOSE" ci --fail-on=denied --artifacts="$T/art" \
  -- sh -c "$JOB"
unset GITHUB_STEP_SUMMARY
check_eq "--fail-on=denied: a passing job with denials fails" 112 "$rc"
check_match "--fail-on=denied: one line says why" 'interpose ci: --fail-on=denied' "$T/err"
check_match "stderr summary: the denied object" '\.ssh/id_rsa' "$T/err"
check_match "stderr summary: the head hash" '[0-9a-f]{64}' "$T/err"
check_match "JUnit: a test case for the credential store, in the file area" \
  '<testcase classname="interpose.files" name="read ~/\.ssh/id_rsa"' "$T/art/junit.xml"
check_match "JUnit: it failed" '<failure type="denied" message="read ~/\.ssh/id_rsa' "$T/art/junit.xml"
check_match "JUnit: the network area, the host" "<testcase classname=\"interpose.network\" name=\"connect 127\.0\.0\.1:$PORT" "$T/art/junit.xml"
valid_junit "$T/art/junit.xml"
check_match "Markdown: appended to the step summary" '^# earlier step' "$T/summary.md"
check_match "Markdown: the credential store" '\.ssh/id_rsa' "$T/summary.md"
check_match "Markdown: the unlisted host" "127\.0\.0\.1:$PORT" "$T/summary.md"
check_true "--artifacts: the audit log, which verifies" "$INTERPOSE" audit verify "$T/art/audit.jsonl"
run "$T/out" "$T/err" setsid -w "$INTERPOSE" ci --fail-on=maybe -- true
check_eq "--fail-on=maybe: refused" 125 "$rc"
run "$T/out" "$T/err" setsid -w "$INTERPOSE" --fail-on=denied -- true
check_eq "--fail-on outside ci: refused" 125 "$rc"

# --- asks are never prompted: denied, and --fail-on=asked trips ---------------
run "$T/out" "$T/err" setsid -w "$INTERPOSE" ci --fail-on=asked --ask-read="$O" -- sh -c "cat '$O/data.txt'; exit 0"
check_eq "--fail-on=asked: trips" 112 "$rc"
check_nomatch "asks: the file was not read" '^data$' "$T/out"
run "$T/out" "$T/err" setsid -w "$INTERPOSE" ci --fail-on=asked -- sh -c "cat ~/.ssh/id_rsa; exit 0"
check_eq "--fail-on=asked: a plain denial does not trip it" 0 "$rc"

# --- --learn ----------------------------------------------------------------------------
LJOB="cat '$O/data.txt' && $PY -c 'import socket; socket.create_connection((\"127.0.0.1\", $PORT)); print(\"connected\")'"
# (the learning run goes on past each refusal, to meet them all)
run "$T/out" "$T/err" setsid -w "$INTERPOSE" ci --learn="$T/learned.json" -- sh -c "$(echo "$LJOB" | sed 's/ && /; /'); exit 0"
check_true "--learn: a policy file" test -s "$T/learned.json"
check_true "--learn: it loads" "$INTERPOSE" policy check "$T/learned.json"
run "$T/out" "$T/err" setsid -w "$INTERPOSE" ci --policy="$T/learned.json" --fail-on=denied -- sh -c "$LJOB"
check_eq "--learn: with it, the same job passes the gate" 0 "$rc"
check_match "--learn: the file was read" '^data$' "$T/out"
check_match "--learn: the host was reached" '^connected$' "$T/out"
check_match "--learn: no denial left" ' 0 denied, 0 asked' "$T/err"

# --- the runner's workspace and the repository's policy ------------------------------
run "$T/out" "$T/err" env GITHUB_WORKSPACE="$T/ws" setsid -w "$INTERPOSE" ci -- sh -c \
  "echo a > '$T/ws/made'; echo b > '$T/not-ws' 2>/dev/null; exit 0"
check_eq "GITHUB_WORKSPACE: written" a "$(cat "$T/ws/made" 2>/dev/null)"
check_true "GITHUB_WORKSPACE: the current directory is not the workspace" test ! -s "$T/not-ws"
mkdir -p "$T/ws/private" && echo hidden >"$T/ws/private/x"
cat >"$T/ws/.interpose.json" <<JSON
{"rules": [{"path": "private", "deny": "read"}]}
JSON
run "$T/out" "$T/err" env CI_PROJECT_DIR="$T/ws" setsid -w "$INTERPOSE" ci --fail-on=denied -- cat "$T/ws/private/x"
check_ne "the repository's .interpose.json: used" 0 "$rc"
check_match "the repository's policy: said" "using the repository's policy" "$T/err"
run "$T/out" "$T/err" env CI_PROJECT_DIR="$T/ws" INTERPOSE_CI_NO_REPO_POLICY=1 setsid -w "$INTERPOSE" ci \
  --fail-on=denied -- cat "$T/ws/private/x"
check_eq "a runner forbidding repository policies: not used" 0 "$rc"
run "$T/out" "$T/err" env CI_PROJECT_DIR="$T/ws" setsid -w "$INTERPOSE" ci --no-repo-policy --fail-on=denied \
  -- cat "$T/ws/private/x"
check_eq "--no-repo-policy: not used" 0 "$rc"
# Learning under the repository's policy starts from it: the learned file
# is that policy and what the job still met.
run "$T/out" "$T/err" env CI_PROJECT_DIR="$T/ws" setsid -w "$INTERPOSE" ci --learn="$T/learned2.json" \
  -- sh -c "$(echo "$LJOB" | sed 's/ && /; /'); exit 0"
run "$T/out" "$T/err" env CI_PROJECT_DIR="$T/ws" setsid -w "$INTERPOSE" ci --no-repo-policy \
  --policy="$T/learned2.json" --fail-on=denied -- sh -c "$LJOB"
check_eq "--learn over the repository's policy: the job passes with it alone" 0 "$rc"
check_match "--learn over the repository's policy: its rule kept" '"private"' "$T/learned2.json"

# --- what the repository or the job plants ----------------------------------------------
# A learned file committed in the repository is not a policy: with
# --no-repo-policy, --learn does not read it.
mkdir -p "$T/pr"
echo "{\"profile\": \"ci\", \"rules\": [{\"path\": \"$O\", \"allow\": \"read\"}]}" >"$T/pr/interpose-learned.json"
( cd "$T/pr" && run "$T/out" "$T/err" env INTERPOSE_CI_NO_REPO_POLICY=1 setsid -w "$INTERPOSE" ci --workspace="$T/pr" \
  --fail-on=denied --learn -- cat "$O/data.txt"; echo "$rc" >"$T/rc" )
check_ne "a committed learned file: not the run's policy" 0 "$(cat "$T/rc")"
check_nomatch "a committed learned file: the file was not read" '^data$' "$T/out"
# Report files are never written through a symlink the repository or the
# job put in their place.
echo victim >"$T/victim"
ln -s "$T/victim" "$T/pr/report.xml"
( cd "$T/pr" && run "$T/out" "$T/err" setsid -w "$INTERPOSE" ci --workspace="$T/pr" --junit=report.xml -- true
  echo "$rc" >"$T/rc" )
check_eq "a committed symlink for --junit: refused" 125 "$(cat "$T/rc")"
check_match "a committed symlink for --junit: said" 'symlink inside the workspace' "$T/err"
check_eq "a committed symlink for --junit: its target untouched" victim "$(cat "$T/victim")"
( cd "$T/pr" && run "$T/out" "$T/err" setsid -w "$INTERPOSE" ci --workspace="$T/pr" --junit=late.xml \
  --learn=late.json -- sh -c "rm -f late.xml late.json; ln -s '$T/victim' late.xml; ln -s '$T/victim' late.json"
  echo "$rc" >"$T/rc" )
check_eq "symlinks the job made: the job passes" 0 "$(cat "$T/rc")"
check_eq "symlinks the job made: their target untouched" victim "$(cat "$T/victim")"
# A FIFO committed where a report goes is refused, not waited on (the
# unconfined launcher blocked opening it, and the job hung).
mkfifo "$T/pr/fifo.xml"
( cd "$T/pr" && run "$T/out" "$T/err" setsid -w "$INTERPOSE" ci --workspace="$T/pr" --junit=fifo.xml -- true
  echo "$rc" >"$T/rc" )
check_eq "a committed FIFO for --junit: refused" 125 "$(cat "$T/rc")"
check_match "a committed FIFO for --junit: said" 'junit=fifo.xml: ' "$T/err"
rm "$T/pr/fifo.xml"

# --learn merges into the policy the job ran under as it was read before
# the job: the repository's file, swapped during the job for a link to a
# credential, would otherwise put the credential in the learned file.
mkdir -p "$T/pl/home/.docker"
echo '{"auths":{"x":{"auth":"TOPSECRETVALUE"}}}' >"$T/pl/home/.docker/config.json"
echo '{"profile":"ci","rules":[]}' >"$T/pl/.interpose.json"
( cd "$T/pl" && HOME="$T/pl/home" run "$T/out" "$T/err" setsid -w "$INTERPOSE" ci --workspace="$T/pl" \
  --learn="$T/pl-learned.json" -- sh -c 'rm .interpose.json; ln -s "$HOME/.docker/config.json" .interpose.json; cat /nonexistent/x; exit 0' )
check_nomatch "--learn: a policy file swapped during the job does not reach the learned file" TOPSECRETVALUE "$T/pl-learned.json"
check_match "--learn: the learned file holds the policy as it was" '"profile": "ci"' "$T/pl-learned.json"

# A repository's policy is written by whoever opens a pull request: it may
# open reads the build needs, but not pass the runner's secrets, write
# outside the workspace (a ~/.profile on a self-hosted runner runs for
# every later job) or open the whole network.
mkdir -p "$T/rp" "$T/rphome"
# Nor may it reach the host's own services, link-local or metadata
# addresses, open much of the network, choose the resolver, blind the
# audit log with "secrets", or read outside the workspace what the
# profile does not (/proc/keys, the runner's home and its credentials).
for bad in '{"env": {"allow": ["*"]}}' '{"rules": [{"path": "~/.profile", "allow": ["write", "create"]}]}' \
  '{"net": {"mode": "host"}}' "{\"net\": {\"allow\": [\"127.0.0.1:$PORT\"]}}" \
  '{"net": {"allow": ["169.254.169.254:80"]}}' '{"net": {"allow": ["*"]}}' '{"net": {"allow": ["0.0.0.0/0"]}}' \
  '{"net": {"dns_upstream": "127.0.0.1:53"}}' '{"secrets": ["127.0.0.1", "/usr/bin"]}' \
  '{"rules": [{"path": "/proc", "allow": ["read", "list"]}]}' '{"rules": [{"path": "~", "allow": ["read"]}]}' \
  '{"rules": [{"path": "/", "allow": ["list"]}]}'; do
  echo "$bad" >"$T/rp/.interpose.json"
  run "$T/out" "$T/err" env HOME="$T/rphome" GITHUB_WORKSPACE="$T/rp" AWS_SECRET_ACCESS_KEY=topsecret \
    setsid -w "$INTERPOSE" ci -- sh -c 'echo "AWS=$AWS_SECRET_ACCESS_KEY"; echo x >>"$HOME/.profile"'
  check_eq "a repository's policy that widens too much is refused ($bad)" 125 "$rc"
  check_match "...saying what may not come from a repository ($bad)" "a repository's policy may not" "$T/err"
done
check_true "...and the runner's home was not written" test ! -e "$T/rphome/.profile"
# A name it allows does not reach the host's loopback services either.
echo "{\"net\": {\"allow\": [\"localhost:$PORT\"]}}" >"$T/rp/.interpose.json"
run "$T/out" "$T/err" env HOME="$T/rphome" GITHUB_WORKSPACE="$T/rp" setsid -w "$INTERPOSE" ci -- "$PY" -c "
import socket
try:
    socket.create_connection(('localhost', $PORT)); print('connected')
except OSError:
    print('refused')"
check_match "a repository's name for a host service on loopback: refused" '^refused$' "$T/out"
# The file itself, not what a link names (read unconfined, a credential's
# first word showed in the parse error), nor a FIFO (the job hung).
ln -sf "$HOME/.ssh/id_rsa" "$T/rp/.interpose.json"
run "$T/out" "$T/err" env GITHUB_WORKSPACE="$T/rp" setsid -w "$INTERPOSE" ci -- true
check_eq "a repository's policy that is a symlink: refused" 125 "$rc"
check_nomatch "...and what it names is not shown" 'PRIVATE' "$T/err"
rm "$T/rp/.interpose.json" && mkfifo "$T/rp/.interpose.json"
run "$T/out" "$T/err" env GITHUB_WORKSPACE="$T/rp" setsid -w "$INTERPOSE" ci -- true
check_eq "a repository's policy that is a FIFO: refused, not waited on" 125 "$rc"
rm "$T/rp/.interpose.json"
printf '{"workspace": "%s"}\n' "$T/rphome" >"$T/rp/.interpose.json"
run "$T/out" "$T/err" env HOME="$T/rphome" setsid -w sh -c 'cd "$1" && "$2" ci -- true' sh "$T/rp" "$INTERPOSE"
check_eq "a repository's policy may not choose the workspace" 125 "$rc"

finish
