#!/bin/sh
# The demo, from a fresh Debian 12 machine (as root): install what is
# missing, build, and run a small "agent" under interpose that does some
# ordinary work and tries a few escapes. Then show what the audit log says.
set -eu
cd "$(dirname "$0")/.."
sh tools/build.sh
audit=$(mktemp -d)/audit.jsonl
echo "== interpose --summary -- sh tools/demo-agent.sh"
status=0
build/tools/interpose --summary --audit="$audit" -- sh tools/demo-agent.sh || status=$?
echo "== guest exit status: $status"
echo "== denied, as the audit log records it ($audit):"
grep '"decision":"deny"' "$audit" | sed 's/.*"pid":\([0-9]*\).*"syscall":"\([^"]*\)","args":"\(.*\)","decision":"deny","rule":"\([^"]*\)","result":"\([^"]*\)".*/  pid \1: \3 -> \5 [rule \4]/' | sed 's/\\"/"/g'
echo "== interpose audit verify"
build/tools/interpose audit verify "$audit"
