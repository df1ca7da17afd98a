#!/bin/sh
# CPython's own regression tests for the file APIs, natively and under
# interpose with its default policy, the agent profile (every path call mediated), as an
# unprivileged user (as root, tests that need capabilities fail under
# interpose by design: it drops them all). Both runs must succeed.
# Slow: not in the default run; `meson test -C build --suite slow`.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

[ -d /usr/lib/python3.11/test ] || skip "libpython3.11-testsuite is not installed (sh tools/setup.sh --slow)"
MODULES="test_os test_posix test_shutil test_tempfile test_glob test_pathlib"
chmod 0777 "$T"
cp "$INTERPOSE" "$T/interpose" && chmod 0755 "$T/interpose" || exit 99
cd "$T" || exit 99
if [ "$(id -u)" = 0 ]; then
  AS="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all"
else
  AS=""
fi
ENVU="env -i HOME=$T TMPDIR=$T PATH=/usr/bin:/bin LANG=C.UTF-8"

run "$T/native.out" "$T/native.err" $AS $ENVU /usr/bin/python3.11 -m test $MODULES
check_eq "natively: python -m test $MODULES" 0 "$rc"
run "$T/guest.out" "$T/guest.err" $AS $ENVU "$T/interpose" --audit="$T/audit.jsonl" \
  /usr/bin/python3.11 -m test $MODULES
check_eq "under interpose (the default agent profile): python -m test $MODULES" 0 "$rc"
check_match "every module passed under interpose" "^All 6 tests OK" "$T/guest.out"
say "natively: $(grep -E '^(All|[0-9]+ tests?) ' "$T/native.out" | tr '\n' ' ')"
say "interpose: $(grep -E '^(All|[0-9]+ tests?) ' "$T/guest.out" | tr '\n' ' ')"
[ "$rc" = 0 ] || tail -40 "$T/guest.out" >&2
finish
