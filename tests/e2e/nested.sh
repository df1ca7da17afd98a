#!/bin/sh
# Where users run interpose (issue 6): inside a container that forbids user
# namespaces and mounts (bwrap --unshare-all --disable-userns), as root
# and as an ordinary user there; under a seccomp filter of the host's own,
# also one that refuses listeners (--platform=auto falls back to ptrace);
# and inside interpose itself, where the outer sentry holds the listener
# and no platform can confine beneath it. Each time the guest
# is confined as usual (a denied file stays denied, uname is the
# sentry's), or interpose refuses to run and says why; never a guest whose
# policy does not hold.
# (user namespaces disabled by sysctl: unprivileged.sh.)
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"
need bwrap setpriv

o=$T/out e=$T/err
chmod 0755 "$T"
mkdir -m 0777 "$T/ws"
cp "$INTERPOSE" "$T/interpose" && chmod 0755 "$T/interpose" || exit 99
echo secret >"$T/ws/secret.txt"
chmod 0644 "$T/ws/secret.txt"
echo hello >"$T/ws/hello.txt"
chmod 0644 "$T/ws/hello.txt"
cd "$T/ws" || exit 99

# The probe every case runs: a workspace file is read, a denied one is not,
# and uname names the sentry's host.
PROBE='cat hello.txt; cat secret.txt 2>/dev/null || echo denied; uname -n'
want_probe() { # DESCRIPTION
  check_eq "$1: status" 0 "$rc"
  check_eq "$1: confined as usual" "hello denied interpose" "$(tr '\n' ' ' <"$o" | sed 's/ $//')"
}

BW="bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --bind $T $T --chdir $T/ws \
  --unshare-all --unshare-user --disable-userns --die-with-parent --new-session"

# --- a container without user namespaces or mounts ----------------------------
# shellcheck disable=SC2086 # $BW is a command line
run "$o" "$e" $BW -- "$T/interpose" --audit="$T/ws/a1.jsonl" --deny="$T/ws/secret.txt" -- sh -c "$PROBE"
want_probe "in bwrap --unshare-all --disable-userns, as root"
# shellcheck disable=SC2086
run "$o" "$e" $BW -- unshare -U true
check_ne "the container really forbids user namespaces" 0 "$rc"
if [ "$(id -u)" = 0 ]; then
  # An ordinary user's container (bwrap makes its user namespace).
  # shellcheck disable=SC2086
  run "$o" "$e" setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --inh-caps=-all \
    $BW -- "$T/interpose" --audit="$T/ws/a2.jsonl" --deny="$T/ws/secret.txt" -- sh -c "$PROBE"
  if grep -q 'No permission to create new namespace\|Creating new namespace failed' "$e"; then
    say "SKIP part: an ordinary user may not make the container here: $(cat "$e")"
  else
    want_probe "in bwrap --unshare-all --disable-userns, as nobody"
  fi
fi

# --- under a seccomp filter of the host's own ----------------------------------
# An outer filter (what systemd, docker or a CI runner load): allow all but
# acct(2). A second one also refuses seccomp listeners, as a stricter
# sandbox might (tests/e2e/outer-filter.py).
"$PY" "$SRC_DIR/e2e/outer-filter.py" "$T/outer.bpf" "$T/nolistener.bpf" ||
  skip "cannot build an outer seccomp filter with libseccomp"
# shellcheck disable=SC2086
run "$o" "$e" sh -c "exec 3<'$T/outer.bpf'; exec $BW --seccomp 3 -- '$T/interpose' --audit='$T/ws/a3.jsonl' --deny='$T/ws/secret.txt' -- sh -c '$PROBE'"
want_probe "under an outer seccomp filter"
# shellcheck disable=SC2086
run "$o" "$e" sh -c "exec 3<'$T/outer.bpf'; exec $BW --seccomp 3 -- grep Seccomp: /proc/self/status"
check_match "the outer filter is in force there" 'Seccomp:[[:space:]]*2' "$o"
# Where the outer filter refuses listeners, --platform=auto takes ptrace,
# says so in one line, and confines as usual.
# shellcheck disable=SC2086
run "$o" "$e" sh -c "exec 3<'$T/nolistener.bpf'; exec $BW --seccomp 3 -- env -u INTERPOSE_PLATFORM '$T/interpose' --audit='$T/ws/a4.jsonl' --deny='$T/ws/secret.txt' -- sh -c '$PROBE'"
want_probe "under a filter that refuses listeners (auto)"
check_match "... auto fell back to ptrace and said so" \
  'seccomp user notification is refused here \(Operation not permitted\); using the ptrace platform' "$e"
check_match "... the log names the platform" '"platform":"ptrace"' "$T/ws/a4.jsonl"

# --- interpose inside interpose ---------------------------------------------------
# The outer sentry (on seccomp-unotify) holds the listener: whatever it
# traps never reaches an inner sentry, on either platform, so the inner
# interpose refuses to run and says why, never running a guest whose
# policy silently does not hold. (Beneath the ptrace platform no guest may
# trace nor hold a listener: refused too.)
for plat in auto ptrace unotify; do
  run "$o" "$e" "$T/interpose" --audit="$T/ws/outer-$plat.jsonl" --allow-exec="$T/interpose" -- \
    env -u INTERPOSE_PLATFORM "$T/interpose" --platform=$plat --audit="$T/ws/inner-$plat.jsonl" \
    --deny="$T/ws/secret.txt" -- sh -c "$PROBE"
  check_eq "inside interpose (--platform=$plat): refused" 125 "$rc"
  check_eq "inside interpose (--platform=$plat): nothing ran" "" "$(cat "$o")"
  [ "$plat" = unotify ] ||
    check_match "inside interpose (--platform=$plat): says why" 'an outer sandbox holds this process.s seccomp listener' "$e"
done

finish
