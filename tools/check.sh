#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine (as root): install
# what is missing, build, run `meson test`. Exit status is meson's.
set -eu
cd "$(dirname "$0")/.."
sh tools/build.sh
exec meson test -C build --print-errorlogs "$@"
