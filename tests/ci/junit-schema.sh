#!/bin/sh
# The JUnit reports of `interpose ci` validate against the schema CI
# systems read (Jenkins' junit-10.xsd, tests/ci/junit-10.xsd), hostile
# paths and all; and each learned policy passes `interpose policy check`.
# The reports come from test-ci-report (its logs: a job that tried
# everything, denials only, a clean job, more objects than are kept).
#   junit-schema.sh TEST-CI-REPORT    (SRC_DIR: tests/, INTERPOSE: the binary)
set -u
command -v xmllint >/dev/null 2>&1 || {
  echo "SKIP: xmllint is not installed (Debian: libxml2-utils; sh tools/setup.sh)" >&2
  exit 77
}
prog=${1:?usage: junit-schema.sh TEST-CI-REPORT}
xsd=${SRC_DIR:?}/ci/junit-10.xsd
T=$(mktemp -d "${TMPDIR:-/tmp}/ci-junit-schema.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

"$prog" samples "$T" >"$T/out" 2>&1 || { sed 's/^/    | /' "$T/out" >&2; fail "test-ci-report samples"; }

n=0
for f in "$T"/*/junit.xml; do
  [ -e "$f" ] || continue
  n=$((n + 1))
  xmllint --noout --schema "$xsd" "$f" 2>"$T/err" || { sed 's/^/    | /' "$T/err" >&2; fail "$f does not validate"; }
done
[ "$n" -ge 6 ] || fail "only $n JUnit reports written"

# The check must be able to fail: a report without a suite's required
# "tests" attribute, and one with a malformed time, are refused.
main=$T/main/junit.xml
sed '0,/<testsuite name="interpose.files" tests="[0-9]*"/s//<testsuite name="interpose.files"/' "$main" >"$T/bad1.xml"
sed '0,/<testsuites name="interpose" \(.*\) time="0"/s//<testsuites name="interpose" \1 time="0s"/' "$main" >"$T/bad2.xml"
for b in bad1 bad2; do
  if cmp -s "$main" "$T/$b.xml"; then
    fail "$b.xml is the same as the report: the test's sed no longer matches it"
  elif xmllint --noout --schema "$xsd" "$T/$b.xml" 2>/dev/null; then
    fail "xmllint accepted $b.xml, which the schema forbids"
  fi
done

if [ -n "${INTERPOSE:-}" ]; then
  for f in "$T"/main/learned.json "$T"/plain/learned.json "$T"/many/learned.json; do
    (cd "$T" && "$INTERPOSE" policy check "$f") >"$T/out" 2>&1 || {
      sed 's/^/    | /' "$T/out" >&2; fail "interpose policy check $f"
    }
  done
fi

[ "$failures" -eq 0 ] || exit 1
echo "ci-junit-schema: $n reports validate"
