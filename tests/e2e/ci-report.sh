#!/bin/sh
# interpose ci's reports on a real session's audit log (the ci profile):
# the counts, the summary, the JUnit file against Jenkins' schema, and the
# learned policy, which `interpose policy check` accepts and under which
# the same job, run again, is refused only what no policy can allow.
# CI_REPORT is tests/test-ci-report (its "report" mode calls ci_reports()).
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

[ -x "${CI_REPORT:-}" ] || { echo "FAIL: CI_REPORT is not set to test-ci-report" >&2; exit 1; }
o=$T/out e=$T/err
mkdir "$T/ws" && cd "$T/ws" || exit 99
# Outside the workspace, and not under /tmp (the guest's /tmp is its own).
OUT=$(mktemp -d /var/tmp/interpose-ci-report-outside.XXXXXX) || exit 99
at_exit 'rm -rf "$OUT"'
echo secret-data >"$OUT/in.txt"

job="cat '$OUT/in.txt'; echo new > '$OUT/new.txt'; ls '$OUT' >/dev/null; cat /etc/shadow; kill -0 1
$PY -c 'import socket; s = socket.socket(); s.setblocking(False); s.connect_ex((\"192.0.2.1\", 443))'
exit 0"

run "$o" "$e" "$INTERPOSE" --profile=ci --audit="$T/run1.jsonl" sh -c "$job"
check_eq "the job runs to its end" 0 "$rc"
mkdir "$T/r1" "$T/r2"
run "$o" "$e" "$CI_REPORT" report "$T/run1.jsonl" "$T/r1" denied 0 sh -c "$job"
check_eq "the reports: status" 0 "$rc"
check_match "denials counted, the gate trips" "^denied ([5-9]|[1-9][0-9]+) asked 0 tripped 1$" "$o"
check_match "the summary names the command" "^interpose ci: sh -c .*: exit 0$" "$e"
check_match "the summary names a read refused" "files +read $OUT/in.txt +\[default deny\]" "$e"
check_match "and the connect" "network +connect 192.0.2.1:443" "$e"
check_match "the gate's line" "^interpose ci: --fail-on=denied: the job passed but made [0-9]+ denied calls \(first: read $OUT/in.txt\)$" "$e"
check_match "the chain head is the log's" "head $(tail -1 "$T/run1.jsonl" | sed 's/.*"hash":"\([0-9a-f]*\)".*/\1/')$" "$e"
check_match "the Markdown has the table" "^\| files \| \` $OUT/in.txt \` \| \` read \` \| 1 \| \` default deny \` \|$" "$T/r1/summary.md"
check_match "and the own-tree refusal" "^\| processes \| \` kill \` \| — \| 1 \| \` own-tree \` \|$" "$T/r1/summary.md"
if command -v xmllint >/dev/null 2>&1; then
  check_true "the JUnit report validates against junit-10.xsd" \
    xmllint --noout --schema "$SRC_DIR/ci/junit-10.xsd" "$T/r1/junit.xml"
else
  say "xmllint missing: the JUnit report is not validated"
fi
check_match "a testcase per refused object" "<testcase classname=\"interpose.files\" name=\"read $OUT/in.txt\"" "$T/r1/junit.xml"

L=$T/r1/learned.json
run "$o" "$e" "$INTERPOSE" policy check "$L"
check_eq "interpose policy check accepts the learned policy" 0 "$rc"
check_true "the learned policy's rules" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
out = sys.argv[2]
rules = {r["path"]: set(r["allow"]) for r in d["rules"]}
assert d["profile"] == "ci", d
assert "read" in rules[out + "/in.txt"], rules
assert {"create", "list"} <= rules[out], rules
assert d["net"]["allow"] == ["192.0.2.1:443"], d["net"]
notes = "\n".join(d["comment"])
assert "read /etc/shadow" in notes and "no allow rule lifts a deny rule" in notes, notes
assert "own-tree" in notes, notes
' "$L" "$OUT"

# The same job under the learned policy: what it was refused before is
# allowed now, but for what no policy can allow.
run "$o" "$e" "$INTERPOSE" --profile=ci --policy="$L" --audit="$T/run2.jsonl" sh -c "$job"
check_eq "the job runs again" 0 "$rc"
check_true "and now writes outside the workspace" test -s "$OUT/new.txt"
run "$o" "$e" "$CI_REPORT" report "$T/run2.jsonl" "$T/r2" denied 0 sh -c "$job"
check_match "only the refusals no rule can lift remain" "^denied 2 asked 0 tripped 1$" "$o"
check_match "/etc/shadow" "files +read /etc/shadow +\[profile ci\]" "$e"
check_match "kill" "processes +kill\(1, 0\) \(own-tree\)" "$e"
check_nomatch "nothing refused of the outside directory or the address" \
  "^ +[0-9]+ +(files|network) +.*($OUT|192\.0\.2\.1)" "$e"
check_match "the address is a host contacted now" "^ +1 +192\.0\.2\.1:443$" "$e"

# A log edited afterwards gives no report.
sed 's/"exit_group"/"exit_groop"/' "$T/run1.jsonl" >"$T/edited.jsonl"
mkdir "$T/r3"
run "$o" "$e" "$CI_REPORT" report "$T/edited.jsonl" "$T/r3" denied 0 true
check_eq "an edited log: status" 2 "$rc"
check_match "says where the chain broke" "edited.jsonl: line [0-9]+: hash chain broken: the record was edited" "$e"
check_true "and writes no report" test ! -e "$T/r3/junit.xml"

finish
