#!/bin/sh
# CPython's own regression tests, natively and under interpose with its
# default policy, the agent profile (every path call mediated), on each
# platform (INTERPOSE_PLATFORM names one; unset, unotify and ptrace both),
# as an unprivileged user (as root, tests that need capabilities fail under
# interpose by design: it drops them all). Every run must succeed.
# Slow: not in the default run; `meson test -C build --suite slow`
# (about 8 minutes on the project's 2-core machine, both platforms).
#
# The modules are those that pass alike natively and confined. Left out,
# with the reason (the compat sweep of session 13):
#   test_socket, test_asyncio: a bind to 0.0.0.0 is narrowed to 127.0.0.1
#     (getsockname says so), and a datagram to a closed loopback port is
#     refused at once (README, "Network"): by design
#   test_signal: a trapped kill interrupted before the sentry took it fails
#     with EINTR on unotify (README, the EINTR window): a known limit
#   test_subprocess: on ptrace the channel fd (992) is open in the child
#     (README, "Platforms"): by design
#   test_site: $HOME is the workspace here, and ~/.local/lib is read-only
#     toolchain (the agent profile): setUpModule skips, confined only
#   test_compileall, test_venv, test_largefile, test_multiprocessing_*:
#     pass, but too slow for this run (20 s to 3.5 min each)
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

# Each run's deadline (run's timeout): for a hang, not a measure of speed;
# a module that hangs is ended sooner by the tests' own --timeout below.
POLL_LIMIT=900
[ -d /usr/lib/python3.11/test ] || skip "libpython3.11-testsuite is not installed (sh tools/setup.sh --slow)"
MODULES="test_os test_posix test_shutil test_tempfile test_glob test_pathlib
  test_getopt test_fnmatch test_stat test_posixpath test_genericpath test_ntpath test_shlex test_copy
  test_pwd test_grp test_getpass test_filecmp test_file test_fileio test_fcntl test_select test_mmap
  test_pty test_resource test_uuid test_platform test_sysconfig test_py_compile test_unicode_file
  test_thread test_gc test_time test_sys test_support test_import test_importlib test_tarfile
  test_zipfile test_httpservers test_urllib2_localnet test_eintr test_threading test_logging test_io"
# shellcheck disable=SC2086 # a list of words
set -- $MODULES
NMOD=$#
PLATFORMS=${INTERPOSE_PLATFORM:-unotify ptrace}
chmod 0777 "$T"
cp "$INTERPOSE" "$T/interpose" && chmod 0755 "$T/interpose" || exit 99
cd "$T" || exit 99
if [ "$(id -u)" = 0 ]; then
  AS="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all"
else
  AS=""
fi
ENVU="env -i HOME=$T TMPDIR=$T PATH=/usr/bin:/bin LANG=C.UTF-8"
# --timeout: a module that hangs is ended with its threads' stacks shown,
# and the others still run.
TEST="/usr/bin/python3.11 -m test --timeout 300 $MODULES"

run "$T/native.out" "$T/native.err" $AS $ENVU $TEST
check_eq "natively: python -m test ($NMOD modules)" 0 "$rc"
[ "$rc" = 0 ] || tail -40 "$T/native.out" >&2
say "natively: $(grep -E '^(All|[0-9]+ tests?) ' "$T/native.out" | tr '\n' ' ')"
for plat in $PLATFORMS; do
  run "$T/$plat.out" "$T/$plat.err" $AS $ENVU "$T/interpose" --platform="$plat" \
    --audit="$T/audit-$plat.jsonl" $TEST
  check_eq "under interpose --platform=$plat (the default agent profile): python -m test" 0 "$rc"
  check_match "every module passed under interpose --platform=$plat" "^All $NMOD tests OK" "$T/$plat.out"
  say "interpose --platform=$plat: $(grep -E '^(All|[0-9]+ tests?) ' "$T/$plat.out" | tr '\n' ' ')"
  [ "$rc" = 0 ] || tail -40 "$T/$plat.out" >&2
done
finish
