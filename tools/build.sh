#!/bin/sh
# Install what is missing (tools/setup.sh) and build into ./build.
# Used by tools/demo.sh and tools/check.sh; safe to run again.
set -eu
cd "$(dirname "$0")/.."
sh tools/setup.sh "$@"
if [ -f build/build.ninja ]; then
  meson setup --reconfigure build >/dev/null
else
  meson setup build >/dev/null
fi
ninja -C build >/dev/null
