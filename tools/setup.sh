#!/bin/sh
# Install every Debian package interpose needs to build, test and benchmark.
# Idempotent: packages already present are left alone. Run as root.
set -eu

BUILD="gcc make meson ninja-build pkg-config libseccomp-dev libunwind-dev
libxxhash-dev libffi-dev nettle-dev libjansson-dev"
TEST="python3.11 python3.11-venv python3-pip python3-pip-whl coreutils procps util-linux git rsync
clang-format valgrind curl iproute2 gdb strace libxml2-utils bubblewrap"
BENCH="proot firejail runsc hyperfine"

want="$BUILD $TEST"
SLOW="libpython3.11-testsuite"
case "${1:-}" in
  --bench) want="$want $BENCH" ;;
  --slow) want="$want $SLOW" ;;
  --all) want="$want $BENCH $SLOW" ;;
esac

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done

if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing packages:$missing; run this script as root (or: sudo apt-get install$missing)" >&2
    exit 1
  fi
  echo "setup: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
