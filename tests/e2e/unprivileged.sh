#!/bin/sh
# No privilege (security invariant 5): the guest has no capabilities and
# NO_NEW_PRIVS, even when interpose runs as root; setuid and file-capability
# binaries do not elevate it; and interpose works for an unprivileged user,
# with user namespaces disabled too (it needs none).
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"
need setpriv

o=$T/out e=$T/err
chmod 0777 "$T"
mkdir -m 0777 "$T/state"
# The build may sit under a directory only root may enter (/root): give
# the unprivileged user a copy it can run.
cp "$INTERPOSE" "$T/interpose" && chmod 0755 "$T/interpose" || exit 99
INTERPOSE=$T/interpose
cd "$T" || exit 99

ROOT=0
[ "$(id -u)" = 0 ] && ROOT=1

# What an unprivileged user runs through: as root, setpriv to nobody; as
# anyone else, themselves. The same clean environment either way.
if [ "$ROOT" = 1 ]; then
  getent passwd nobody >/dev/null || skip "no user 'nobody'"
  grp=nogroup
  getent group nogroup >/dev/null || grp=nobody
  AS_USER="setpriv --reuid=nobody --regid=$grp --clear-groups --inh-caps=-all"
  USER_UID=$(id -u nobody)
else
  AS_USER=""
  USER_UID=$(id -u)
fi
ENVU="env -i HOME=$T XDG_STATE_HOME=$T/state TMPDIR=$T PATH=/usr/local/bin:/usr/bin:/bin LANG=C INTERPOSE_PLATFORM=${INTERPOSE_PLATFORM:-auto}"
I="$INTERPOSE --audit=$T/audit.jsonl"

# The guest's privileges as /proc tells them, one "Key value" per line.
privs='grep -E "^(Uid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status | tr -s "\t " " "'
# privs_ok DESCRIPTION FILE [bounding]: no capabilities at all; with
# "bounding", the bounding set too (only a privileged launcher can empty it).
privs_ok() {
  _keys="CapInh CapPrm CapEff CapAmb"
  [ "${3:-}" = bounding ] && _keys="$_keys CapBnd"
  for k in $_keys; do
    check_match "$1: $k is empty" "^$k: 0+\$" "$2"
  done
  check_match "$1: NoNewPrivs" '^NoNewPrivs: 1$' "$2"
  check_match "$1: under a seccomp filter" '^Seccomp: 2$' "$2"
}

# --- as root: the guest is not root in any way that matters --------------------------
if [ "$ROOT" = 1 ]; then
  run "$T/root.privs" "$e" $I sh -c "$privs"
  check_eq "root guest: status" 0 "$rc"
  check_match "root guest: still uid 0" '^Uid: 0 0 0 0$' "$T/root.privs"
  privs_ok "root guest" "$T/root.privs" bounding
  # ...and a child it starts, after an exec, has no more.
  run "$T/root.privs2" "$e" $I sh -c "sh -c '$privs'"
  privs_ok "root guest's child after exec" "$T/root.privs2" bounding
  # Root without capabilities cannot do what only capabilities allow.
  run "$o" "$e" $I sh -c 'cat /proc/1/environ >/dev/null 2>&1 && echo read-pid1 || echo refused'
  run "$T/n.out" "$T/n.err" sh -c 'cat /proc/1/environ >/dev/null 2>&1 && echo read-pid1 || echo refused'
  if [ "$(cat "$T/n.out")" = read-pid1 ]; then
    check_eq "root guest reading /proc/1/environ (needs CAP_SYS_PTRACE)" refused "$(cat "$o")"
  fi
  run "$o" "$e" $I sh -c 'touch /tmp/.cap-probe-$$ && chown 1:1 /tmp/.cap-probe-$$ 2>/dev/null && echo chowned || echo refused; rm -f /tmp/.cap-probe-$$'
  check_eq "root guest chown to another user (needs CAP_CHOWN)" refused "$(cat "$o")"
else
  say "SKIP part: not root, the root-guest checks need root"
fi

# --- setuid and file capabilities do not elevate ----------------------------------
if [ "$ROOT" = 1 ]; then
  cp /usr/bin/id "$T/suid-id"
  chown root:root "$T/suid-id"
  chmod 4755 "$T/suid-id"
  run "$o" "$e" $AS_USER $ENVU "$T/suid-id" -u
  if [ "$(cat "$o")" = 0 ]; then
    run "$o" "$e" $AS_USER $ENVU $I "$T/suid-id" -u
    check_eq "setuid-root id run by $USER_UID under interpose: status" 0 "$rc"
    check_eq "setuid-root id run by $USER_UID under interpose: euid" "$USER_UID" "$(cat "$o")"
    # The real setuid programs on the system, too.
    run "$o" "$e" $AS_USER $ENVU $I sh -c '/usr/bin/su -c id root </dev/null; echo "su status $?"'
    check_nomatch "su under interpose did not become root" '^uid=0' "$o"
  else
    say "SKIP part: setuid does not elevate here natively ($T is on a nosuid mount?)"
  fi
  if command -v setcap >/dev/null; then
    cp /bin/cat "$T/cap-cat"
    if setcap cap_dac_read_search,cap_sys_ptrace+ep "$T/cap-cat" 2>/dev/null; then
      run "$o" "$e" $AS_USER $ENVU "$T/cap-cat" /proc/self/status
      if grep -Eq '^CapEff:[[:space:]]*0*[1-9a-f]' "$o"; then
        run "$o" "$e" $AS_USER $ENVU $I "$T/cap-cat" /proc/self/status
        check_eq "file-capability cat under interpose: status" 0 "$rc"
        check_match "file-capability cat under interpose: no capabilities" '^CapEff:[[:space:]]*0+$' "$o"
        # As root the guest's bounding set is empty, so the kernel refuses
        # to run a binary whose file capabilities it could not grant
        # (EPERM, as natively with an empty bounding set); either way,
        # nothing is gained.
        run "$o" "$e" $I "$T/cap-cat" /proc/self/status
        if [ "$rc" = 0 ]; then
          check_match "file-capability cat run by root under interpose: no capabilities" '^CapEff:[[:space:]]*0+$' "$o"
        else
          check_match "file-capability cat run by root under interpose: refused" 'Operation not permitted' "$e"
        fi
      else
        say "SKIP part: file capabilities do not take effect here natively"
      fi
    else
      say "SKIP part: cannot set file capabilities in $T"
    fi
  fi
fi

# --- an unprivileged user runs real programs -----------------------------------------
# same_as_user DESCRIPTION CMD...: natively and under interpose, as the user.
same_as_user() {
  _d=$1; shift
  run "$T/n.out" "$T/n.err" $AS_USER $ENVU "$@"
  _nrc=$rc
  run "$T/g.out" "$T/g.err" $AS_USER $ENVU $I "$@"
  check_eq "as uid $USER_UID: $_d: status (native $_nrc)" "$_nrc" "$rc"
  [ "$_nrc" = "$rc" ] || sed "s/^/    | /" "$T/g.err" >&2
  check_same_file "as uid $USER_UID: $_d: output" "$T/n.out" "$T/g.out"
  check_nomatch "as uid $USER_UID: $_d: interpose complained" '^interpose:' "$T/g.err"
}

run "$T/user.privs" "$e" $AS_USER $ENVU $I sh -c "$privs"
check_eq "unprivileged guest: status" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/    | /' "$e" >&2
check_match "unprivileged guest: uid" "^Uid: $USER_UID $USER_UID $USER_UID $USER_UID\$" "$T/user.privs"
privs_ok "unprivileged guest" "$T/user.privs"

same_as_user "sh pipeline" sh -c 'seq 1 3000 | grep 3 | sort -rn | head -n 15 | paste -sd+ | bc'
same_as_user "coreutils" sh -c 'ls /usr/include | wc -l; sha256sum /usr/include/stdio.h; find /usr/include -name "std*.h" | sort | head'
cat >"$T/threads.py" <<'EOF'
import threading
out = [0] * 32
def work(i):
    out[i] = sum(x * i for x in range(20000))
ts = [threading.Thread(target=work, args=(i,)) for i in range(32)]
for t in ts: t.start()
for t in ts: t.join()
print(len(ts), sum(out), all(not t.is_alive() for t in ts))
EOF
chmod 0644 "$T/threads.py"
same_as_user "python3.11 with 32 threads" "$PY" "$T/threads.py"
check_eq "as uid $USER_UID: python threads output" "32 99195040000 True" "$(cat "$T/g.out")"
# A directory the user takes search permission from (chmod 0, by path or
# by fd) shuts the files below it, also those looked up before: the
# sentry's dentry cache must not answer for them past the kernel's check
# (CPython's test_httpservers serves a directory it made unreadable).
mkdir -m 0777 "$T/dac"
cat >"$T/dac.py" <<'EOF'
import os, sys
d = os.path.join(sys.argv[1], "d%d" % os.getpid())
os.mkdir(d)
f = os.path.join(d, "f")
open(f, "w").close()
def probe(tag):
    for _ in range(3):
        r = []
        for name, call in (("stat", lambda: os.stat(f)), ("open", lambda: open(f).close()), ("list", lambda: os.listdir(d))):
            try:
                call()
                r.append(name + " ok")
            except OSError as e:
                r.append(name + " " + e.strerror)
    print(tag, ", ".join(r))
probe("open dir:")
os.chmod(d, 0)
probe("after chmod 0:")
os.chmod(d, 0o755)
probe("after chmod 755:")
fd = os.open(d, os.O_RDONLY)
os.fchmod(fd, 0o600)
probe("after fchmod 600:")
os.fchmod(fd, 0o755)
os.unlink(f)
os.rmdir(d)
EOF
chmod 0644 "$T/dac.py"
same_as_user "python3.11 chmod 0 of a directory shuts its files" "$PY" "$T/dac.py" "$T/dac"
check_match "as uid $USER_UID: after chmod 0 nothing below is reached" \
  "^after chmod 0: stat Permission denied, open Permission denied, list Permission denied\$" "$T/g.out"
check_match "as uid $USER_UID: after fchmod 600 nothing below is reached" \
  "^after fchmod 600: stat Permission denied, open Permission denied, list ok\$" "$T/g.out"
# The same when the host takes the search right away (root, owner of the
# directory, chmod 0700 while the session runs): the guest's next lookup is
# refused as natively, also of a file it looked up before. And a directory
# the host moves away (and makes anew) is not found where it was.
if [ "$ROOT" = 1 ]; then
  mkdir -p "$T/hostdac" && chmod 0777 "$T/hostdac"
  cat >"$T/hostdac.py" <<'EOF'
import os, sys
f = os.path.join(sys.argv[1], "d", "f")
m = os.path.join(sys.argv[1], "m", "f")
for _ in range(3):
    os.stat(f)
    open(f).close()
    open(m).close()
print("ready", flush=True)
sys.stdin.readline()
for name, call in (("stat", lambda: os.stat(f)), ("open", lambda: open(f).close())):
    try:
        call()
        print(name, "ok")
    except OSError as e:
        print(name, e.strerror)
print("moved:", open(m).read().strip())
EOF
  chmod 0644 "$T/hostdac.py"
  for how in native confined; do
    rm -rf "$T/hostdac/d" "$T/hostdac/m" "$T/hostdac/m.old"
    mkdir "$T/hostdac/d" "$T/hostdac/m" && echo data >"$T/hostdac/d/f" && echo old >"$T/hostdac/m/f"
    rm -f "$T/go.$how" && mkfifo "$T/go.$how"
    if [ "$how" = native ]; then
      $AS_USER $ENVU "$PY" "$T/hostdac.py" "$T/hostdac" <"$T/go.$how" >"$T/$how.out" 2>"$T/$how.err" &
    else
      $AS_USER $ENVU $I "$PY" "$T/hostdac.py" "$T/hostdac" <"$T/go.$how" >"$T/$how.out" 2>"$T/$how.err" &
    fi
    gpid=$!
    exec 7>"$T/go.$how"
    poll "$how: the guest looked the file up" grep -q '^ready$' "$T/$how.out"
    chmod 0700 "$T/hostdac/d"
    mv "$T/hostdac/m" "$T/hostdac/m.old" && mkdir "$T/hostdac/m" && echo new >"$T/hostdac/m/f"
    echo go >&7
    exec 7>&-
    wait "$gpid"
    check_match "as uid $USER_UID, $how: a directory the host shut: stat refused" '^stat Permission denied$' "$T/$how.out"
    check_match "as uid $USER_UID, $how: a directory the host shut: open refused" '^open Permission denied$' "$T/$how.out"
    check_match "as uid $USER_UID, $how: a directory the host moved away and made anew: the new file" '^moved: new$' "$T/$how.out"
  done
fi
if command -v gcc >/dev/null; then
  printf '#include <stdio.h>\nint main(void) { puts("hello from cc"); return 0; }\n' >"$T/hello.c"
  chmod 0644 "$T/hello.c"
  run "$o" "$e" $AS_USER $ENVU $I gcc -o "$T/hello" "$T/hello.c"
  check_eq "as uid $USER_UID: gcc under interpose: status" 0 "$rc"
  [ "$rc" = 0 ] || sed 's/^/    | /' "$e" >&2
  same_as_user "the compiled program" "$T/hello"
  check_eq "as uid $USER_UID: the compiled program's output" "hello from cc" "$(cat "$T/g.out")"
else
  say "SKIP part: gcc is not installed"
fi
# The default audit log went to the user's own state directory.
run "$o" "$e" $AS_USER $ENVU "$INTERPOSE" --summary true
check_eq "as uid $USER_UID: default audit log: status" 0 "$rc"
check_match "as uid $USER_UID: summary names a log in the user's state directory" \
  "audit log $T/state/interpose/sessions/[^/ ]+/audit\.jsonl \(chain" "$e"
n=$(find "$T/state/interpose/sessions" -name audit.jsonl -user "$USER_UID" 2>/dev/null | wc -l)
check_eq "as uid $USER_UID: log owned by the user" 1 "$n"

# --- user namespaces disabled ----------------------------------------------------------
# Host-wide, the switch is user.max_user_namespaces=0, which needs
# CAP_SYS_RESOURCE and would disturb whatever else runs on the host. The
# same limit is per user namespace, so: a child user namespace mapping root
# and nobody, its limit set to 0 (no namespace can be created below it),
# then nobody runs interpose there.
if [ "$ROOT" = 1 ]; then
  cat >"$T/nouserns.py" <<'EOF'
import ctypes, os, sys
CLONE_NEWUSER = 0x10000000
libc = ctypes.CDLL(None, use_errno=True)
ready_r, ready_w = os.pipe()
go_r, go_w = os.pipe()
pid = os.fork()
if pid == 0:
    if libc.unshare(CLONE_NEWUSER) != 0:
        os.write(2, b"unshare: %s\n" % os.strerror(ctypes.get_errno()).encode())
        os._exit(99)
    os.write(ready_w, b"1")
    if os.read(go_r, 1) != b"1":
        os._exit(99)
    with open("/proc/sys/user/max_user_namespaces", "w") as f:
        f.write("0")
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
    os.execvp(sys.argv[1], sys.argv[1:])
if os.read(ready_r, 1) != b"1":
    sys.exit(99)
for kind in ("uid", "gid"):
    with open("/proc/%d/%s_map" % (pid, kind), "w") as f:
        f.write("0 0 1\n65534 65534 1\n")
os.write(go_w, b"1")
_, st = os.waitpid(pid, 0)
sys.exit(128 + os.WTERMSIG(st) if os.WIFSIGNALED(st) else os.WEXITSTATUS(st))
EOF
  run "$o" "$e" "$PY" "$T/nouserns.py" env -i INTERPOSE_PLATFORM="${INTERPOSE_PLATFORM:-auto}" HOME="$T" XDG_STATE_HOME="$T/state" PATH=/usr/bin:/bin sh -c '
    id -u
    cat /proc/sys/user/max_user_namespaces
    if unshare -U true 2>/dev/null; then echo userns-created; else echo userns-refused; fi
    "$1" --audit="$2" sh -c "echo works; $3"
    echo "interpose status $?"' sh "$INTERPOSE" "$T/nouserns.jsonl" "$privs"
  if [ "$rc" = 99 ]; then
    say "SKIP part: cannot make a user namespace to disable user namespaces in: $(cat "$e")"
  else
    check_eq "no user namespaces: helper status" 0 "$rc"
    check_match "no user namespaces: runs as nobody" '^65534$' "$o"
    check_match "no user namespaces: the limit is 0" '^0$' "$o"
    check_match "no user namespaces: really none can be made (native unshare -U)" '^userns-refused$' "$o"
    check_match "no user namespaces: interpose status" '^interpose status 0$' "$o"
    check_match "no user namespaces: guest ran" '^works$' "$o"
    check_match "no user namespaces: guest confined" '^Seccomp: 2$' "$o"
    check_match "no user namespaces: guest without capabilities" '^CapEff: 0+$' "$o"
    [ "$rc" = 0 ] || sed 's/^/    | /' "$o" "$e" >&2
  fi
else
  say "SKIP part: not root, cannot make the namespace that disables user namespaces"
fi

# --- uid 0 without capabilities (a container run with every capability
# dropped): there is nothing left to drop, so the guest should run, as
# unprivileged as ever (NO_NEW_PRIVS keeps an exec from gaining any).
if [ "$ROOT" = 1 ]; then
  run "$o" "$e" setpriv --inh-caps=-all --bounding-set=-all \
    env -i INTERPOSE_PLATFORM="${INTERPOSE_PLATFORM:-auto}" HOME="$T" XDG_STATE_HOME="$T/state" PATH=/usr/bin:/bin \
    "$INTERPOSE" --audit="$T/capless.jsonl" sh -c "echo works; $privs"
  check_eq "uid 0 with no capabilities: interpose status" 0 "$rc"
  [ "$rc" = 0 ] || sed 's/^/    | /' "$e" >&2
  check_match "uid 0 with no capabilities: guest ran" '^works$' "$o"
  check_match "uid 0 with no capabilities: guest confined" '^Seccomp: 2$' "$o"
fi

finish
