#!/bin/sh
# The house style is .clang-format's: every C source and header must be
# formatted by it. Fix with: clang-format -i FILE
set -u
cd "${SRC_DIR:?}/.." || exit 99
command -v clang-format >/dev/null || { echo "clang-format missing: run tools/setup.sh" >&2; exit 1; }
bad=0
for f in $(find gofer platform sentry syscalls tests tools -name '*.[ch]' | sort); do
  if ! clang-format --dry-run -Werror "$f" 2>/dev/null; then
    echo "not formatted: $f (clang-format -i $f)" >&2
    bad=1
  fi
done
exit $bad
