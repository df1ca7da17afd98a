#!/bin/sh
# Path mediation, as far as it goes (issue 4, in progress): with a policy
# in force, open, the stat family, access, readlink and the calls that
# change the tree or an object are resolved by the gofer and judged on the
# object reached. Symlinks, "..", hard links and
# /proc are decided on what they reach; a guest thread rewriting the path
# during open never gets the kernel to open the other file. Every case is
# checked natively first (where the secret is readable).
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

o=$T/out e=$T/err
home=$T/home ws=$T/ws
mkdir -p "$home/.ssh" "$ws/src" "$ws/private" "$T/outside"
cp /bin/true "$T/outside/tool"
cp /bin/true "$ws/mytool"
printf '#!%s\n' "$T/outside/tool" >"$ws/wrapped"
printf '#!/bin/sh\necho hi\n' >"$ws/script"
chmod +x "$ws/wrapped" "$ws/script"
echo SECRET >"$home/.ssh/id_ed25519"
echo public >"$ws/src/main.c"
echo hidden >"$ws/private/notes"
mkdir -p "$ws/conf/private" "$ws/vault/private"
echo TOKEN=1 >"$ws/conf/.env"
echo hidden >"$ws/conf/private/key"
echo hidden >"$ws/vault/private/key"
ln -s "$home/.ssh/id_ed25519" "$ws/key"
ln "$home/.ssh/id_ed25519" "$ws/hardlink"
cd "$ws" || exit 99
I="$INTERPOSE --audit=$T/audit.jsonl --profile=agent --deny=$ws/private --deny=$ws/conf/private --deny=$ws/vault/private"
export HOME="$home"

cat >"$ws/slash.py" <<'PY'
import os, sys
open("tsf2", "w").close()
try:
    os.rename("tsf2", "tsf3/")
except NotADirectoryError:
    os.unlink("tsf2")
    sys.exit(0)
os.rename("tsf3", "tsf2")
os.unlink("tsf2")
sys.exit(1)
PY
# guest: one line per probe, "name ok" or "name refused"
probe='
try() { n=$1; shift; if "$@" >/dev/null 2>&1; then echo "$n ok"; else echo "$n refused"; fi; }
try workspace cat src/main.c
try credential cat "$HOME/.ssh/id_ed25519"
try symlink cat key
try dotdot cat ../home/.ssh/id_ed25519
try hardlink cat hardlink
try deny-flag cat private/notes
try stat-credential stat "$HOME/.ssh/id_ed25519"
try exists-credential test -e "$HOME/.ssh/id_ed25519"
try readlink readlink key
try proc-self cat /proc/self/status
try proc-init cat /proc/1/environ
try proc-list-init sh -c "ls /proc | grep -qx 1"
try dev-stdin sh -c "cat /dev/stdin <src/main.c"
try dev-links ls -l /dev/stdin /dev/stdout /dev/stderr /dev/fd
try process-substitution bash -c "cat <(echo hi)"
try proc-self-root-passwd cat /proc/self/root/etc/passwd
try proc-self-root-shadow cat /proc/self/root/etc/shadow
try proc-self-cwd-credential sh -c "cd \$HOME/.ssh 2>/dev/null; cat /proc/self/cwd/id_ed25519"
try proc-list-self sh -c "ls /proc | grep -qx \$\$"
try shadow cat /etc/shadow
try usr cat /usr/include/stdio.h
try write-workspace sh -c "echo new >src/new.c"
try tree-workspace sh -c "mkdir d && touch d/f && mv d/f d/g && ln d/g d/h && ln -s g d/l && chmod 600 d/g && rm -r d"
try mkdir-home mkdir "$HOME/new"
try rm-credential rm -f "$HOME/.ssh/id_ed25519"
try mv-out mv src/main.c "$HOME/main.c"
try mv-in mv src/new.c "$HOME/.ssh/new.c"
try chmod-credential chmod 644 "$HOME/.ssh/id_ed25519"
try link-credential ln "$HOME/.ssh/id_ed25519" stolen
try symlink-home ln -s x "$HOME/sym"
try truncate-credential truncate -s0 "$HOME/.ssh/id_ed25519"
try mknod-device mknod dev c 1 3
try utime-credential touch "$HOME/.ssh/id_ed25519"
try utime-workspace touch src/main.c
try xattr-credential /usr/bin/python3.11 -c "import os, sys; os.listxattr(sys.argv[1])" "$HOME/.ssh/id_ed25519"
try xattr-workspace /usr/bin/python3.11 -c "import os; os.listxattr(\"src/main.c\")"
try inotify-credential /usr/bin/python3.11 -c "import ctypes, sys; c = ctypes.CDLL(None); sys.exit(c.inotify_add_watch(c.inotify_init(), sys.argv[1].encode(), 1) < 0)" "$HOME/.ssh"
try fchmod-etc /usr/bin/python3.11 -c "import os; fd = os.open(\"/etc/passwd\", os.O_RDONLY); os.fchmod(fd, os.fstat(fd).st_mode & 0o7777)"
try mmap-exec-outside /usr/bin/python3.11 -c "import mmap, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); mmap.mmap(fd, 0, prot=mmap.PROT_READ | mmap.PROT_EXEC)" "$HOME/../outside/tool"
try mmap-exec-workspace /usr/bin/python3.11 -c "import mmap, os; fd = os.open(\"mytool\", os.O_RDONLY); mmap.mmap(fd, 0, prot=mmap.PROT_READ | mmap.PROT_EXEC)"
try exec-workspace ./mytool
try exec-script ./script
try exec-outside "$HOME/../outside/tool"
try exec-interpreter-outside ./wrapped
try fexecve-workspace /usr/bin/python3.11 -c "import os; os.execve(os.open(\"mytool\", os.O_RDONLY), [\"t\"], {})"
try fexecve-memfd /usr/bin/python3.11 -c "import os; fd = os.memfd_create(\"t\"); os.write(fd, open(\"mytool\", \"rb\").read()); os.execve(fd, [\"t\"], {})"
try dotenv cat conf/.env
try rename-dotenv sh -c "mv conf/.env conf/env.txt && cat conf/env.txt"
try rename-denied sh -c "mv private notes-dir && cat notes-dir/notes"
try rename-holder sh -c "mv conf conf2 && cat conf2/private/key"
try rename-exchange-holder /usr/bin/python3.11 -c "import ctypes, os; os.mkdir(\"swap2\"); libc = ctypes.CDLL(None, use_errno=True); r = libc.renameat2(-100, b\"vault\", -100, b\"swap2\", 2); open(\"swap2/private/key\").read() if r == 0 else exit(1)"
try rm-denied rm -rf private
try rename-over-linked sh -c "rm -f a a2 b; echo A >a; ln a a2; cat a >/dev/null; echo B >b; mv b a; [ \"\$(cat a)\" = B ]"
try unlink-linked sh -c "rm -f a a2; echo A >a; ln a a2; cat a >/dev/null; rm a; ! cat a; rm a2"
try proc-cpuinfo cat /proc/cpuinfo /proc/meminfo /proc/uptime /proc/loadavg /proc/version /proc/sys/kernel/pid_max
try sys-cpu cat /sys/devices/system/cpu/online
try proc-kallsyms cat /proc/kallsyms
try proc-keys cat /proc/keys
try proc-modules cat /proc/modules
try proc-timer-list cat /proc/timer_list
try sys-class-net ls /sys/class/net
try proc-self-mem-write /usr/bin/python3.11 -c "open(\"/proc/self/mem\", \"r+b\")"
try exec-proc-fd bash -c "exec 3<mytool; /proc/self/fd/3"
try exec-dev-fd bash -c "exec 3<mytool; /dev/fd/3"
try exec-proc-fd-memfd /usr/bin/python3.11 -c "import os; fd = os.memfd_create(\"t\", 0); os.write(fd, open(\"mytool\", \"rb\").read()); os.execv(\"/proc/self/fd/%d\" % fd, [\"t\"])"
try fchdir-relative /usr/bin/python3.11 -c "import os; os.makedirs(\"fcd/sub\", exist_ok=True); open(\"fcd/sub/only-here\", \"w\").close(); os.chdir(\"fcd\"); [os.stat(\".\") for _ in range(3)]; os.fchdir(os.open(\"sub\", os.O_RDONLY)); os.stat(\"only-here\")"
try cwd-renamed-dotenv /usr/bin/python3.11 -c "import os, shutil; shutil.rmtree(\"cwdr\", True); shutil.rmtree(\".env-cwdr\", True); os.mkdir(\"cwdr\"); open(\"cwdr/f\", \"w\").write(\"TOKEN\"); os.chdir(\"cwdr\"); [open(\"f\").read() for _ in range(3)]; os.rename(\"../cwdr\", \"../.env-cwdr\"); open(\"f\").read()"
try unlink-file-slash sh -c "rm -f tsf; touch tsf; ! rm tsf/ 2>/dev/null && test -e tsf && rm tsf"
try rename-file-slash /usr/bin/python3.11 slash.py
try create-dotenv sh -c "echo x >conf/.env.local"
try fifo-rendezvous sh -c "rm -f fifo; mkfifo fifo; (echo hello >fifo) & x=\$(cat fifo); wait \$! && [ \"\$x\" = hello ]"
try fchmod-pipe /usr/bin/python3.11 -c "import os; r, w = os.pipe(); os.fchmod(r, 0o600)"
'
run "$o" "$e" sh -c "$probe"
cp "$o" "$T/native"
check_match "natively the credential is readable" "^credential ok" "$T/native"
check_match "natively /proc lists pid 1" "^proc-list-init ok" "$T/native"
check_match "natively the hard link is readable" "^hardlink ok" "$T/native"
check_match "natively the home directory is writable" "^mkdir-home ok" "$T/native"
check_match "natively a tool outside runs" "^exec-outside ok" "$T/native"
check_match "natively the credential store can be watched" "^inotify-credential ok" "$T/native"
check_match "natively the credential's attributes can be listed" "^xattr-credential ok" "$T/native"
[ "$(id -u)" != 0 ] || check_match "natively (as the owner) /etc/passwd's mode can be set" "^fchmod-etc ok" "$T/native"
check_match "natively a file outside can be mapped executable" "^mmap-exec-outside ok" "$T/native"
check_match "natively a program written to a memfd runs" "^fexecve-memfd ok" "$T/native"
check_match "natively a memfd runs by its /proc/self/fd name" "^exec-proc-fd-memfd ok" "$T/native"
for m in rename-dotenv rename-denied rename-holder rename-exchange-holder rm-denied proc-kallsyms cwd-renamed-dotenv \
    sys-class-net proc-self-mem-write; do
  check_match "natively $m works" "^$m ok" "$T/native"
done
# The native run changed things; put them back for the confined one.
rm -rf "$HOME/new" "$HOME/sym" "$HOME/main.c" "$HOME/.ssh/new.c" "$ws/stolen" "$ws/dev" "$ws/src/new.c"
# (and the moves of denied trees)
rm -rf "$ws/conf" "$ws/conf2" "$ws/swap2" "$ws/notes-dir" "$ws/private" "$ws/vault" "$ws/cwdr" "$ws/.env-cwdr" "$ws/fcd"
mkdir -p "$ws/conf/private" "$ws/private" "$ws/vault/private"
echo hidden >"$ws/vault/private/key"
echo TOKEN=1 >"$ws/conf/.env"
echo hidden >"$ws/conf/private/key"
echo hidden >"$ws/private/notes"
echo SECRET >"$home/.ssh/id_ed25519"
echo public >"$ws/src/main.c"
chmod 600 "$home/.ssh/id_ed25519"
rm -f "$ws/hardlink" && ln "$home/.ssh/id_ed25519" "$ws/hardlink"

run "$o" "$e" $I sh -c "$probe"
check_eq "the probes ran: status" 0 "$rc"
for ok in workspace readlink proc-self proc-list-self dev-stdin dev-links process-substitution proc-self-root-passwd usr \
    write-workspace tree-workspace exec-workspace exec-script \
    utime-workspace xattr-workspace mmap-exec-workspace fexecve-workspace fchmod-pipe fifo-rendezvous \
    rename-over-linked unlink-linked proc-cpuinfo sys-cpu exec-proc-fd exec-dev-fd fchdir-relative \
    unlink-file-slash rename-file-slash; do
  check_match "$ok: allowed" "^$ok ok" "$o"
done
for no in credential symlink dotdot hardlink deny-flag stat-credential exists-credential proc-init proc-list-init shadow \
    proc-self-root-shadow proc-self-cwd-credential \
    mkdir-home rm-credential mv-out mv-in chmod-credential link-credential symlink-home truncate-credential \
    mknod-device exec-outside exec-interpreter-outside utime-credential xattr-credential inotify-credential \
    fchmod-etc mmap-exec-outside fexecve-memfd dotenv rename-dotenv rename-denied rename-holder \
    rename-exchange-holder proc-kallsyms proc-keys proc-modules proc-timer-list sys-class-net create-dotenv \
    proc-self-mem-write exec-proc-fd-memfd cwd-renamed-dotenv; do
  check_match "$no: refused" "^$no refused" "$o"
done
check_true "the denied tree was not removed" test -s "$ws/private/notes"
check_match "a refusal records the path given, the object reached and the rule" \
  "\"path\":\"key\",\"object\":\"$home/.ssh/id_ed25519\",\"right\":\"read\",\"policy_rule\":\"profile agent\"" \
  "$T/audit.jsonl"

# The program named on the command line runs wherever it is; what it
# starts from outside the allowed trees does not.
run "$o" "$e" $I "$T/outside/tool"
check_eq "the named program outside the allowed trees runs" 0 "$rc"

# race_check WHAT WORD RACER ARGS...: natively the racer leaks (the race
# is won often, but not every time on a busy machine: up to 20 tries, to show
# it is real here); confined it runs and never does.
race_check() {
  _what=$1 _word=$2; shift 2
  for try in $(seq 1 20); do
    run "$o" "$e" "$@"
    grep -q "^LEAK" "$o" && break
  done
  check_match "natively $_what reads the secret" "^LEAK" "$o"
  run "$o" "$e" $I --allow-exec="$GUEST_DIR" "$@"
  check_match "$_what: the racer ran" "^$_word [0-9]+ leaked 0" "$o"
  check_nomatch "under interpose $_what never reads the secret" "^LEAK" "$o"
}

# A guest thread rewriting the path while open is in flight.
race_check "the path race" opened "$GUEST_DIR/guest-openrace" src/main.c "$home/.ssh/id_ed25519" 2000

# chdir is made by the kernel after the sentry's check, reading the path
# again: natively the racer lands in the denied directory; under interpose
# a process whose cwd ends up where it has no right dies at its next call.
for try in $(seq 1 20); do
  run "$o" "$e" "$GUEST_DIR/guest-chdirrace" "$ws/src" "$home/.ssh" 2000
  grep -q "^LEAK" "$o" && break
done
check_match "natively the chdir race lands in the denied directory" "^LEAK" "$o"
run "$o" "$e" $I --allow-exec="$GUEST_DIR" "$GUEST_DIR/guest-chdirrace" "$ws/src" "$home/.ssh" 2000
check_nomatch "under interpose the chdir race never leaves the cwd in a denied directory" "^LEAK" "$o"
if [ "$rc" = 137 ]; then
  check_match "a raced chdir is caught and audited" '"decision":"kill","rule":"chdir-verify"' "$T/audit.jsonl"
else
  check_match "the chdir racer ran" "^chdirs [0-9]+ leaked 0" "$o"
fi

# The guest's /tmp is the session's: what it writes there does not reach
# the host's /tmp, and the host's files there are not visible to it (a
# workspace under /tmp stays reachable: the policy names it).
name=interpose-e2e-tmp-$$
echo host >"/tmp/$name.host"
at_exit "rm -f /tmp/$name.host /tmp/$name.guest"
run "$o" "$e" $I sh -c "echo guest >/tmp/$name.guest && cat /tmp/$name.guest && ls /tmp; cat /tmp/$name.host || echo host-hidden"
check_eq "the guest's /tmp works: status" 0 "$rc"
check_match "the guest reads back what it wrote in /tmp" "^guest$" "$o"
check_match "the host's /tmp file is not there for the guest" "^host-hidden$" "$o"
check_true "the guest's /tmp file did not land in the host's /tmp" test ! -e "/tmp/$name.guest"
# exec is made by the kernel, which reads the path itself and knows nothing
# of the mapping: a host file under the same name must not run in place of
# the guest's (the exec right was judged on the guest's file).
cp /bin/true "/tmp/$name.run"
at_exit "rm -f /tmp/$name.run"
run "$o" "$e" $I sh -c "cp /bin/false /tmp/$name.run; /tmp/$name.run && echo ran-host-file; echo done"
check_match "the guest went on after the exec" "^done$" "$o"
check_nomatch "the host's file did not run for the guest's" "ran-host-file" "$o"
check_match "exec of a private /tmp path is refused with the reason" '"rule":"private-tmp".*use \$TMPDIR' "$T/audit.jsonl"
check_match "...and interpose says what to do" "use \\\$TMPDIR" "$e"
run "$o" "$e" $I sh -c 'cp /bin/true "$TMPDIR/t" && "$TMPDIR/t" && mkdir "$TMPDIR/d" && cd "$TMPDIR/d" && echo tmpdir-ok'
check_match "exec and chdir by \$TMPDIR's real path work" "^tmpdir-ok$" "$o"

# Making a name that is there already is EEXIST, as natively, where the
# guest may see it, also without the create right ("mkdir() < 0 && errno !=
# EEXIST"); a denied one (the credential) stays EACCES: its existence is
# not told.
cat >"$ws/mkexist.py" <<'PY'
import errno, os, sys
def err(f, *a):
    try:
        f(*a)
        return "made"
    except OSError as e:
        return errno.errorcode[e.errno]
for what, f, p in (("mkdir", os.mkdir, "/usr/bin"), ("mkdir", os.mkdir, "/tmp"),
                   ("mkdir", os.mkdir, os.environ.get("TMPDIR", "/tmp")), ("symlink", lambda p: os.symlink("x", p), "/usr/bin/env"),
                   ("link", lambda p: os.link("src/main.c", p), "/etc/passwd"), ("mkfifo", os.mkfifo, "/etc/hostname"),
                   ("mkdir", os.mkdir, sys.argv[1]), ("symlink", lambda p: os.symlink("x", p), sys.argv[1]),
                   ("mkdir", os.mkdir, "/usr/interpose-new-dir"),
                   ("excl", lambda p: os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY), "/etc/passwd"),
                   ("excl", lambda p: os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY), sys.argv[1])):
    print(what, p, err(f, p))
# A name not there in a denied directory is refused like one that is
# there, directly and through a symlink: which keys exist is not told.
if os.path.lexists("sshdir"):
    os.unlink("sshdir")
os.symlink(os.path.dirname(sys.argv[1]), "sshdir")
for p in (sys.argv[1], os.path.dirname(sys.argv[1]) + "/id_missing", "sshdir/id_missing", "sshdir/no/such"):
    print("stat", p, err(os.stat, p))
# Nor by the type a call would find there (EINVAL, ENOTDIR).
for what, f in (("readlink", os.readlink), ("chdir", os.chdir), ("through", lambda p: os.stat(p + "/x"))):
    print(what, "present", err(f, sys.argv[1]), "missing", err(f, os.path.dirname(sys.argv[1]) + "/id_missing"))
os.unlink("sshdir")
PY
run "$o" "$e" $I /usr/bin/python3.11 mkexist.py "$home/.ssh/id_ed25519"
check_eq "making existing names: status" 0 "$rc"
for m in "mkdir /usr/bin EEXIST" "mkdir /tmp EEXIST" "symlink /usr/bin/env EEXIST" "link /etc/passwd EEXIST" \
    "mkfifo /etc/hostname EEXIST" "mkdir $home/.ssh/id_ed25519 EACCES" "symlink $home/.ssh/id_ed25519 EACCES" \
    "mkdir /usr/interpose-new-dir EACCES" "excl /etc/passwd EEXIST"; do
  check_match "$m" "^$m\$" "$o"
done
check_match "a missing name in a denied directory is refused like a present one" "^stat $home/.ssh/id_missing EACCES\$" "$o"
check_match "...through a symlink too" "^stat sshdir/id_missing EACCES\$" "$o"
check_match "...and below a missing directory there" "^stat sshdir/no/such EACCES\$" "$o"
check_match "...nor told by readlink's EINVAL" "^readlink present EACCES missing EACCES\$" "$o"
check_match "...nor by chdir's ENOTDIR" "^chdir present EACCES missing EACCES\$" "$o"
check_match "...nor by walking through it" "^through present EACCES missing EACCES\$" "$o"
check_match "an exclusive create does not tell that a denied name exists" "^excl $home/.ssh/id_ed25519 EACCES\$" "$o"
check_match "mkdir \$TMPDIR: EEXIST" "^mkdir /tmp/interpose-tmp-[^ ]* EEXIST\$" "$o"

# Removing or moving a name that is not there is ENOENT, as natively (the
# kernel's lookup comes before its permission check), also without the
# delete right: "unlink, ignore ENOENT" (CPython's import_helper.forget on
# each sys.path entry) failed on EACCES. In a denied directory it stays
# EACCES, as stat does there.
cat >"$ws/rmmissing.py" <<'PY'
import errno, os, sys
def err(f, *a):
    try:
        f(*a)
        return "done"
    except OSError as e:
        return errno.errorcode[e.errno]
for p in ("/usr/lib/interpose-missing.pyc", "/etc/interpose-missing", sys.argv[1] + "/id_missing"):
    print("unlink", p, err(os.unlink, p), "rmdir", err(os.rmdir, p), "rename", err(os.rename, p, "moved"))
print("rename-into", err(os.rename, "interpose-missing", "/usr/lib/interpose-missing"))
print("unlink-present", err(os.unlink, "/etc/hostname"))
PY
run "$o" "$e" $I /usr/bin/python3.11 rmmissing.py "$home/.ssh"
check_eq "removing missing names: status" 0 "$rc"
check_match "unlink, rmdir, rename of a missing system name: ENOENT" \
  "^unlink /usr/lib/interpose-missing.pyc ENOENT rmdir ENOENT rename ENOENT\$" "$o"
check_match "...in /etc too" "^unlink /etc/interpose-missing ENOENT rmdir ENOENT rename ENOENT\$" "$o"
check_match "...a missing name moved into a system directory: ENOENT" "^rename-into ENOENT\$" "$o"
check_match "a present system file is still refused" "^unlink-present EACCES\$" "$o"
check_match "a missing name in a denied directory stays EACCES" \
  "^unlink $home/.ssh/id_missing EACCES rmdir EACCES rename EACCES\$" "$o"

# A setuid or setgid file left in the workspace would give whoever runs it
# after the session its owner's rights (root's, when interpose ran as
# root): the bits are dropped from every mode the guest sets (chmod,
# fchmod, an open that creates, O_TMPFILE, mknod); setgid on a directory
# stays. An O_TMPFILE file gets the guest's umask too.
cat >"$ws/suid.py" <<'PY'
import os, shutil, stat
def bits(p):
    return "%04o" % (os.stat(p).st_mode & 0o7777)
for p in ("suid-a", "suid-b", "suid-c", "suid-d", "sgid-dir"):
    shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else (os.path.exists(p) and os.unlink(p))
shutil.copy("/bin/true", "suid-a")
os.chmod("suid-a", 0o4755)
os.close(os.open("suid-b", os.O_CREAT | os.O_WRONLY, 0o6755))
shutil.copy("/bin/true", "suid-c")
fd = os.open("suid-c", os.O_RDONLY)
os.fchmod(fd, 0o2711)
os.close(fd)
os.mkfifo("suid-d", 0o4644)
os.mkdir("sgid-dir")
os.chmod("sgid-dir", 0o2775)
for p in ("suid-a", "suid-b", "suid-c", "suid-d", "sgid-dir"):
    print(p, bits(p))
fd = os.open(".", os.O_TMPFILE | os.O_WRONLY, 0o4777)
print("tmpfile", "%04o" % (os.fstat(fd).st_mode & 0o7777))
PY
old_umask=$(umask)
umask 022
run "$o" "$e" /usr/bin/python3.11 suid.py
check_match "natively chmod 4755 makes a setuid file" "^suid-a 4755$" "$o"
run "$o" "$e" $I /usr/bin/python3.11 suid.py
umask "$old_umask"
check_eq "setuid bits: status" 0 "$rc"
for m in "suid-a 0755" "suid-b 0755" "suid-c 0711" "suid-d 0644" "sgid-dir 2775" "tmpfile 0755"; do
  check_match "mode bits the guest set: $m" "^$m\$" "$o"
done
check_match "the dropped bits are in the audit log" '"rule":"setuid".*"path":"suid-a","mode":"4755","dropped":"4000"' \
  "$T/audit.jsonl"
rm -rf "$ws"/suid-? "$ws/sgid-dir"

# A unix socket the sentry binds keeps, in the kernel, the name the sentry
# gave it (/proc/self/fd/N/NAME); getsockname and getpeername show the
# guest's path, as natively: multiprocessing's Manager hands its server's
# getsockname to its clients.
cat >"$ws/unixname.py" <<'PY'
import ctypes, multiprocessing as mp, os, socket
def names(d):
    p = os.path.join(d, "srv.sock")
    if os.path.exists(p):
        os.unlink(p)
    s = socket.socket(socket.AF_UNIX); s.bind(p); s.listen(1)
    c = socket.socket(socket.AF_UNIX); c.connect(p)
    a, _ = s.accept()
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(8); ln = ctypes.c_uint32(8)
    libc.getsockname(s.fileno(), buf, ctypes.byref(ln))
    print(d == os.getcwd() and "ws" or "tmp", s.getsockname() == p, c.getpeername() == p, a.getsockname() == p,
          ln.value - len(p), buf.raw[2:8] == p.encode()[:6])
    os.unlink(p)
if __name__ == "__main__":
    names(os.getcwd())
    names(os.environ.get("TMPDIR", "/tmp"))
    mp.set_start_method("fork")
    with mp.Manager() as m:
        d = m.dict(); d["k"] = 1
        print("manager", dict(d))
PY
run "$o" "$e" /usr/bin/python3.11 unixname.py
check_match "natively getsockname and getpeername show the path bound" "^ws True True True 3 True$" "$o"
run "$o" "$e" $I /usr/bin/python3.11 unixname.py
check_eq "unix socket names: status" 0 "$rc"
check_match "getsockname and getpeername show the path the guest bound" "^ws True True True 3 True$" "$o"
check_match "...in the private /tmp too" "^tmp True True True 3 True$" "$o"
check_match "multiprocessing's Manager reaches its server" "^manager \{'k': 1\}$" "$o"

# A credential store bind-mounted into the workspace is the same tree: it
# stays denied there (root only: an ordinary user cannot mount).
mkdir -p "$ws/bound"
echo SECRET-CONFIG >"$home/.ssh/config" # one link only: no identity pin
if mount --bind "$home/.ssh" "$ws/bound" 2>/dev/null; then
  at_exit "umount '$ws/bound' 2>/dev/null"
  run "$o" "$e" cat "$ws/bound/config"
  check_match "natively the bind-mounted credential is readable" "^SECRET" "$o"
  run "$o" "$e" $I cat bound/config
  check_nomatch "the bind-mounted credential is denied" "SECRET" "$o"
  check_match "the refusal names the rule and the mount" '"policy_rule":"profile agent \(mounted again: ' "$T/audit.jsonl"
  umount "$ws/bound"
else
  say "not root: the bind-mount case is covered by the unit test only"
fi

# openat2: the guest's RESOLVE_* flags behave as natively; what is reached
# is still judged (shadow, and a symlink out of the workspace, refused).
cat >"$T/o2.py" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
class How(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]
def o2(dirfd, path, flags, resolve, mode=0):
    h = How(flags, mode, resolve)
    r = libc.syscall(437, dirfd, path.encode(), ctypes.byref(h), ctypes.sizeof(h))
    if r < 0:
        return "err " + os.strerror(ctypes.get_errno())
    data = os.read(r, 64) if flags & 3 == os.O_RDONLY and os.path.isfile("/proc/self/fd/%d" % r) else b""
    os.close(r)
    return "ok" + (" SECRET" if b"SECRET" in data else "")
BENEATH, IN_ROOT, NO_SYMLINKS = 0x08, 0x10, 0x04
d = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
os.makedirs("o2/sub", exist_ok=True)
open("o2/sub/f", "w").write("x")
for name, to in (("o2/lnk", "sub/f"), ("o2/out", sys.argv[1])):
    if not os.path.lexists(name):
        os.symlink(to, name)
d = os.open("o2", os.O_RDONLY | os.O_DIRECTORY)
print("plain", o2(d, "sub/f", os.O_RDONLY, 0))
print("beneath-ok", o2(d, "sub/f", os.O_RDONLY, BENEATH))
print("beneath-dotdot", o2(d, "../x", os.O_RDONLY, BENEATH))
print("beneath-abs", o2(d, "/etc/passwd", os.O_RDONLY, BENEATH))
print("beneath-symlink-out", o2(d, "out", os.O_RDONLY, BENEATH))
print("nosym", o2(d, "lnk", os.O_RDONLY, NO_SYMLINKS))
print("inroot-abs", o2(d, "/sub/f", os.O_RDONLY, IN_ROOT))
print("create", o2(d, "sub/new", os.O_WRONLY | os.O_CREAT, BENEATH, 0o644))
print("abs-etc", o2(-100, "/etc/passwd", os.O_RDONLY, NO_SYMLINKS))
print("bad-resolve", o2(d, "sub/f", os.O_RDONLY, 0x1000))
print("mode-without-create", o2(d, "sub/f", os.O_RDONLY, BENEATH, 0o644))
print("symlink-out", o2(d, "out", os.O_RDONLY, 0))
print("shadow", o2(-100, "/etc/shadow", os.O_RDONLY, NO_SYMLINKS))
PY
cp "$T/o2.py" "$ws/o2.py"
run "$T/o2.native" "$e" /usr/bin/python3.11 o2.py "$home/.ssh/id_ed25519"
rm -rf "$ws/o2"
run "$o" "$e" $I /usr/bin/python3.11 o2.py "$home/.ssh/id_ed25519"
check_eq "openat2 probes ran" 0 "$rc"
check_match "natively the symlink out reads the secret" "^symlink-out ok SECRET" "$T/o2.native"
grep -v -e '^symlink-out' -e '^shadow' "$T/o2.native" >"$T/o2.n"
grep -v -e '^symlink-out' -e '^shadow' "$o" >"$T/o2.g"
check_same_file "openat2 with RESOLVE_* answers as natively" "$T/o2.n" "$T/o2.g"
check_match "openat2 through a symlink out of the workspace is refused" "^symlink-out err Permission denied" "$o"
check_match "openat2 of /etc/shadow is refused" "^shadow err Permission denied" "$o"

# A dirfd opened before its directory was renamed: ".." from it is
# resolved from where the directory is now, and what it reaches is judged.
cat >"$ws/dirfd.py" <<'PY'
import os, sys
os.makedirs("deep/er", exist_ok=True)
d = os.open("deep/er", os.O_RDONLY | os.O_DIRECTORY)
os.rename("deep", "moved")
try:
    fd = os.open(sys.argv[1], os.O_RDONLY, dir_fd=d)
    print("LEAK" if b"SECRET" in os.read(fd, 64) else "read-other")
except OSError as e:
    print("refused", e.strerror)
PY
rel=../../../home/.ssh/id_ed25519
rm -rf "$ws/deep" "$ws/moved"
run "$o" "$e" /usr/bin/python3.11 dirfd.py "$rel"
check_match "natively .. from a renamed dirfd reaches the secret" "^LEAK" "$o"
rm -rf "$ws/deep" "$ws/moved"
run "$o" "$e" $I /usr/bin/python3.11 dirfd.py "$rel"
check_match "under interpose .. from a renamed dirfd is refused" "^refused Permission denied" "$o"

# An O_PATH fd of a workspace file that the host then moves into the
# credential store: reopening it through /proc/self/fd is judged on where
# the object is now. The guest and the test take turns through FIFOs.
cat >"$ws/reopen.py" <<'PY'
import os, sys
fd = os.open("doc", os.O_PATH)
with open("ready", "w") as f:
    f.write("opened\n")
open("go").read()
try:
    r = os.open("/proc/self/fd/%d" % fd, os.O_RDONLY)
    print("LEAK" if b"SECRET" in os.read(r, 64) else "read-other")
except OSError as e:
    print("refused", e.strerror)
PY
reopen_round() {
  rm -f "$ws/ready" "$ws/go" "$home/.ssh/doc"
  echo SECRET-DOC >"$ws/doc"
  mkfifo "$ws/ready" "$ws/go"
  timeout -k 5 "$POLL_LIMIT" "$@" /usr/bin/python3.11 reopen.py </dev/null >"$o" 2>"$e" &
  _p=$!
  if timeout "$POLL_LIMIT" cat "$ws/ready" >/dev/null; then
    mv "$ws/doc" "$home/.ssh/doc"
    echo go >"$ws/go"
  fi
  wait "$_p"
}
reopen_round
check_match "natively the moved file reopens through /proc/self/fd" "^LEAK" "$o"
reopen_round $I
check_match "under interpose the reopen is judged where the file is now" "^refused Permission denied" "$o"
rm -f "$ws/ready" "$ws/go" "$home/.ssh/doc"

# openat2 keeps its flags in guest memory: a thread flipping (ALLOWED,
# O_PATH) and (the credential, O_RDONLY) must never get the kernel to open
# the credential for reading.
race_check "the openat2 flags race" opened "$GUEST_DIR/guest-howrace" src/main.c "$home/.ssh/id_ed25519" 3000

# The sentry's own /proc is never the guest's: openat2 with only
# RESOLVE_CACHED (no tree to stay in) of /proc/self/fd/N reaches the
# guest's own fds, not the sentry's (its audit log, its pipes).
cat >"$ws/cached.py" <<'PY'
import ctypes, os, struct
libc = ctypes.CDLL(None, use_errno=True)
found = []
for n in range(3, 40):
    how = ctypes.create_string_buffer(struct.pack("QQQ", os.O_RDONLY | os.O_NONBLOCK, 0, 0x20))
    fd = libc.syscall(437, -100, b"/proc/self/fd/%d" % n, how, 24)
    if fd >= 0:
        found.append(os.readlink("/proc/self/fd/%d" % fd))
        os.close(fd)
print("reached", found)
PY
run "$o" "$e" $I /usr/bin/python3.11 cached.py
check_match "openat2 RESOLVE_CACHED ran" "^reached" "$o"
check_nomatch "openat2 never reaches the sentry's fds" "sessions|audit|pipe:|socket:" "$o"

# A dirfd inside /proc/<pid> of a process outside the tree (obtainable by
# racing an O_PATH open, which the kernel makes): what is reached from it
# is still checked against the tree.
cat >"$ws/procdir.py" <<'PY'
import os, sys
d = os.open("/proc/self", os.O_PATH)
try:
    print("self-status", "ok" if os.open("status", os.O_RDONLY, dir_fd=d) >= 0 else "no")
except OSError as e:
    print("self-status", e.strerror)
PY
run "$o" "$e" $I /usr/bin/python3.11 procdir.py
check_match "relative opens from an own /proc/<pid> dirfd work" "^self-status ok" "$o"

# An O_PATH open is made by the kernel after the check, so a thread
# flipping its path between /proc/self and /proc/<outsider> wins the race
# at times; a lookup from such an fd must still never reach the outsider.
setsid sleep 1000 </dev/null >/dev/null 2>&1 &
outsider=$!
at_exit "kill $outsider 2>/dev/null"
run "$o" "$e" "$GUEST_DIR/guest-procrace" "$outsider" 2000
check_match "natively /proc/<outsider>/status is read" "^LEAK" "$o"
run "$o" "$e" $I --allow-exec="$GUEST_DIR" "$GUEST_DIR/guest-procrace" "$outsider" 20000
check_match "the /proc racer ran" "^won [0-9]+ leaked 0" "$o"
check_nomatch "under interpose a raced /proc/<outsider> fd reaches nothing" "^LEAK" "$o"
# The same through the outsider's magic links (fd/3: a memfd it holds,
# which no path rule covers), from the raced fd as a dirfd and as the cwd
# (fchdir), and by a raced chdir into /proc/<outsider>. The outsider has
# no capabilities, so the kernel lets a process of the same user (the
# sentry, too) follow its links: the refusal must be interpose's.
setsid setpriv --bounding-set=-all --inh-caps=-all "$PY" -c '
import os, time
m = os.memfd_create("vault")
os.write(m, b"OUTSIDER-SECRET\n")
os.dup2(m, 3)
time.sleep(1000)' </dev/null >/dev/null 2>&1 &
holder=$!
at_exit "kill $holder 2>/dev/null"
poll "the outsider to hold its file" test -e "/proc/$holder/fd/3"
for how in dirfd fchdir reopen; do
  for try in $(seq 1 20); do
    run "$o" "$e" "$GUEST_DIR/guest-procrace" "$holder" 2000 fd/3 OUTSIDER-SECRET $how
    grep -q "^LEAK" "$o" && break
  done
  check_match "natively the outsider's open file is read through /proc/<outsider>/fd ($how)" "^LEAK" "$o"
  run "$o" "$e" $I --allow-exec="$GUEST_DIR" "$GUEST_DIR/guest-procrace" "$holder" 20000 fd/3 OUTSIDER-SECRET $how
  check_match "the /proc magic-link racer ran ($how)" "^won [0-9]+ leaked 0" "$o"
  check_nomatch "under interpose a raced /proc/<outsider> fd reaches none of its files ($how)" "^LEAK" "$o"
done
# The root of another mount namespace (a rootless container's, say: a
# process of the same user without capabilities), reached by the kernel
# following /proc/<pid>/root in a raced O_PATH open: its files are not
# the host's, though their names are (here a directory of its own over
# the workspace's path, which the policy would let the guest read).
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
  mkdir -p "$ws/nsdir"
  setsid unshare -m sh -c 'mount -t tmpfs ns "$1" && echo NS-SECRET >"$1/ns-secret" &&
    exec setpriv --bounding-set=-all --inh-caps=-all sleep 1000' sh "$ws/nsdir" </dev/null >/dev/null 2>&1 &
  nsholder=$!
  at_exit "kill $nsholder 2>/dev/null"
  poll "the namespace holder to mount its tmpfs" test -e "/proc/$nsholder/root$ws/nsdir/ns-secret"
  nsrel=${ws#/}/nsdir/ns-secret
  for try in $(seq 1 20); do
    run "$o" "$e" "$GUEST_DIR/guest-procrace" "$nsholder" 2000 "$nsrel" NS-SECRET root
    grep -q "^LEAK" "$o" && break
  done
  check_match "natively a raced O_PATH open reaches another mount namespace's files" "^LEAK" "$o"
  run "$o" "$e" $I --allow-exec="$GUEST_DIR" "$GUEST_DIR/guest-procrace" "$nsholder" 20000 "$nsrel" NS-SECRET root
  check_match "the namespace racer ran" "^won [0-9]+ leaked 0" "$o"
  check_nomatch "under interpose a raced O_PATH fd reaches no other mount namespace" "^LEAK" "$o"
else
  say "not root (or no unshare): the other mount namespace is not tried"
fi
for try in $(seq 1 20); do
  run "$o" "$e" "$GUEST_DIR/guest-chdirrace" "$ws/src" "/proc/$holder" 2000
  grep -q "^LEAK" "$o" && break
done
check_match "natively the chdir race lands in /proc/<outsider>" "^LEAK" "$o"
run "$o" "$e" $I --allow-exec="$GUEST_DIR" "$GUEST_DIR/guest-chdirrace" "$ws/src" "/proc/$holder" 2000
check_nomatch "under interpose no cwd stays in /proc/<outsider>" "^LEAK" "$o"
# An exec by a thread that is not the leader gives the leader's tid
# another cwd: nothing the sentry remembered about that tid may stand.
rm -rf "$ws/$outsider"
run "$o" "$e" "$GUEST_DIR/guest-cwdexec" "$outsider"
check_match "natively the exec'd thread reads /proc/<outsider> by its cwd" "^LEAK" "$o"
rm -rf "$ws/$outsider"
run "$o" "$e" $I --allow-exec="$GUEST_DIR" "$GUEST_DIR/guest-cwdexec" "$outsider"
check_match "the cwd-exec probe ran" "^refused" "$o"
check_nomatch "under interpose the exec'd thread's cwd is its own" "^LEAK" "$o"
rm -rf "$ws/$outsider"
kill "$outsider" 2>/dev/null

# A hard link gives a file a second name judged by where it is: a file the
# guest may only read (in /etc, in $HOME) linked into the workspace must
# not become writable through it. (Natively possible when /etc and the
# workspace share a file system.)
echo orig >"$T/ro-victim"
run "$o" "$e" $I --allow-read="$T/ro-victim" sh -c "ln '$T/ro-victim' ws-link && echo PWNED >ws-link"
check_eq "a read-only file linked into the workspace is not written" "orig" "$(cat "$T/ro-victim")"
check_match "the link is refused and audited" '"syscall":"linkat?".*"decision":"deny"' "$T/audit.jsonl"
rm -f "$ws/ws-link"
# Nor may a read-only fd change its file's times or inode flags.
touch -d @1700000000 "$T/ro-victim"
run "$o" "$e" /usr/bin/python3.11 -c "import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.utime(fd, (1, 1)); print('futimens ok')" "$T/ro-victim"
check_match "natively futimens through a read-only fd works" "^futimens ok" "$o"
touch -d @1700000000 "$T/ro-victim"
run "$o" "$e" $I --allow-read="$T/ro-victim" /usr/bin/python3.11 -c "import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.utime(fd, (1, 1)); print('futimens ok')" "$T/ro-victim"
check_eq "futimens through a read-only fd is refused" "1700000000" "$(stat -c %Y "$T/ro-victim")"
run "$o" "$e" $I --allow-read="$T/ro-victim" /usr/bin/python3.11 -c "
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    fcntl.ioctl(fd, 0x40086602, struct.pack('i', 0x40))  # FS_IOC_SETFLAGS: FS_NODUMP_FL
    print('setflags ok')
except OSError as e:
    print('setflags', e.strerror)" "$T/ro-victim"
check_match "FS_IOC_SETFLAGS through a read-only fd is refused" "^setflags Permission denied" "$o"
run "$o" "$e" $I --allow-read="$T/ro-victim" /usr/bin/python3.11 -c "
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    fcntl.ioctl(fd, 0x40087602, struct.pack('i', 12345))  # FS_IOC_SETVERSION
    print('setversion ok')
except OSError as e:
    print('setversion', e.strerror)
try:
    fcntl.ioctl(fd, 0x40086604, struct.pack('l', 12345))  # EXT4_IOC_SETVERSION, the same by ext4's number
    print('ext4-setversion ok')
except OSError as e:
    print('ext4-setversion', e.strerror)" "$T/ro-victim"
check_match "FS_IOC_SETVERSION through a read-only fd is refused" "^setversion Permission denied" "$o"
check_match "EXT4_IOC_SETVERSION, ext4's number for it, too" "^ext4-setversion Permission denied" "$o"

# A read-only part of the workspace stays so: the directory above it may
# not be renamed away and back with the part written meanwhile.
mkdir -p "$ws/sub/vendor"
echo orig >"$ws/sub/vendor/lib.txt"
run "$o" "$e" $I --allow-read="$ws/sub/vendor" sh -c 'echo PWNED >sub/vendor/lib.txt; mv sub sub2 && echo PWNED >sub2/vendor/lib.txt; mv sub2 sub; cat sub/vendor/lib.txt'
check_eq "a read-only subtree is not written by renaming its parent" "orig" "$(cat "$ws/sub/vendor/lib.txt" 2>/dev/null || cat "$ws/sub2/vendor/lib.txt")"
rm -rf "$ws/sub" "$ws/sub2"

# A path longer than PATH_MAX cannot be judged: it grants nothing (a .env
# moved deep enough that its kernel path no longer fits must stay denied).
cat >"$ws/deep.py" <<'PY'
import os
ws = os.getcwd()
fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
path, parts = ws, []
while len(path) < 4092 - len("/proj"):
    name = "d" * min(200, 4092 - len("/proj") - len(path) - 1)
    os.mkdir(name, dir_fd=fd)
    nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd, path = nfd, path + "/" + name
    parts.append(name)
os.rename(os.path.join(ws, "proj"), "proj", dst_dir_fd=fd)
pfd = os.open("proj", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
try:
    os.rename(".env", "x", src_dir_fd=pfd, dst_dir_fd=pfd)
    os.rename("proj", os.path.join(ws, "proj"), src_dir_fd=fd)
    print("LEAK" if "SECRET" in open("proj/x").read() else "read-other")
except OSError as e:
    print("refused", e.strerror)
PY
rm -rf "$ws/proj" "$ws"/ddd*
mkdir "$ws/proj" && echo SECRET=1 >"$ws/proj/.env"
run "$o" "$e" /usr/bin/python3.11 deep.py
check_match "natively the deep rename reads the .env" "^LEAK" "$o"
rm -rf "$ws/proj" "$ws"/ddd*
mkdir "$ws/proj" && echo SECRET=1 >"$ws/proj/.env"
run "$o" "$e" $I /usr/bin/python3.11 deep.py
check_match "a .env whose path is too long to judge is not renamed" "^refused" "$o"
rm -rf "$ws/proj" "$ws"/ddd*

# Unix sockets by path follow the file policy: a host daemon's socket in a
# credential store (an agent: ssh-agent, gpg-agent) cannot be reached, and
# no socket file can be made outside what the guest may create in; its own
# sockets in the workspace, in its /tmp and abstract ones work.
mkdir -p "$home/.gnupg"
cat >"$T/agent.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(4)
s.settimeout(float(sys.argv[2]))
print("listening", flush=True)
try:
    while True:
        c, _ = s.accept()
        print("accepted", flush=True)
        c.sendall(b"OK agent\n")
        c.close()
except socket.timeout:
    pass
PY
rm -f "$home/.gnupg/S.agent"
/usr/bin/python3.11 "$T/agent.py" "$home/.gnupg/S.agent" "$POLL_LIMIT" >"$T/agent.out" 2>&1 &
agent=$!
at_exit "kill $agent 2>/dev/null"
poll "the host agent to listen" file_nonempty "$T/agent.out"
cat >"$ws/sock.py" <<'PY'
import os, socket, sys
def attempt(name, f):
    try:
        f()
        print(name, "ok")
    except OSError as e:
        print(name, "refused", e.strerror)
def agent():
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    if not s.recv(16).startswith(b"OK"):
        raise OSError(0, "no answer")
attempt("connect-agent", agent)
attempt("bind-home", lambda: socket.socket(socket.AF_UNIX).bind(sys.argv[2]))
def own():
    for p in ("ws.sock", os.environ.get("TMPDIR", "/tmp") + "/t.sock", "/tmp/m.sock", "\0interpose-test"):
        s = socket.socket(socket.AF_UNIX)
        s.bind(p)
        s.listen(1)
        c = socket.socket(socket.AF_UNIX)
        c.connect(p)
        if p[0] != "\0":
            os.unlink(p)
attempt("own-sockets", own)
PY
run "$o" "$e" /usr/bin/python3.11 sock.py "$home/.gnupg/S.agent" "$home/rogue.sock"
check_match "natively the agent's socket answers" "^connect-agent ok" "$o"
check_match "natively a socket can be made in the home" "^bind-home ok" "$o"
rm -f "$home/rogue.sock"
run "$o" "$e" $I /usr/bin/python3.11 sock.py "$home/.gnupg/S.agent" "$home/rogue.sock"
check_match "an agent socket in a credential store is refused" "^connect-agent refused Permission denied" "$o"
check_match "a socket outside the workspace is not made" "^bind-home refused Permission denied" "$o"
check_true "no socket file landed in the home" test ! -e "$home/rogue.sock"
check_match "the guest's own unix sockets work" "^own-sockets ok" "$o"
# ...also when a thread swaps an IP socket and a unix one at the fd number
# while connect is in flight (the agent counts what reaches it; natively
# the plain connect above reached it).
accepted() { grep -c '^accepted' "$T/agent.out"; }
before=$(accepted)
run "$o" "$e" $I --allow-exec="$GUEST_DIR" "$GUEST_DIR/guest-sockrace" "$home/.gnupg/S.agent" 3000
check_match "the socket racer ran" "^tried 3000" "$o"
check_eq "under interpose the fd swap never reaches the agent" "$before" "$(accepted)"
kill "$agent" 2>/dev/null

# The exec right on an ELF's interpreter holds for a relative PT_INTERP too,
# which the kernel opens from the cwd: a binary whose interpreter is a
# program in the credential store must not get it run.
cat >"$T/tool.c" <<'C'
#include "nolibc.h"
void _start(void)
{
        static const char m[] = "DENIED TOOL RAN\n";
        sc(1, 1, (long)m, sizeof(m) - 1);
        sc(60, 0, 0, 0);
}
C
if gcc -O1 -nostdlib -static -I"$SRC_DIR/e2e" -o "$home/.ssh/tool" "$T/tool.c" 2>"$e"; then
  /usr/bin/python3.11 - "$ws/relinterp" <<'PY'
import shutil, sys
shutil.copy("/bin/true", sys.argv[1])
data = bytearray(open(sys.argv[1], "rb").read())
old = b"/lib64/ld-linux-x86-64.so.2\0"
new = b"../home/.ssh/tool".ljust(len(old), b"\0")
i = data.index(old)
data[i:i + len(old)] = new
open(sys.argv[1], "wb").write(bytes(data))
PY
  chmod +x "$ws/relinterp"
  run "$o" "$e" ./relinterp
  check_match "natively a relative PT_INTERP runs the denied program" "^DENIED TOOL RAN" "$o"
  run "$o" "$e" $I ./relinterp
  check_nomatch "under interpose a relative PT_INTERP in the credential store does not run" "DENIED TOOL RAN" "$o"
  rm -f "$ws/relinterp" "$home/.ssh/tool"
else
  fail "cannot build the static test program: $(cat "$e")"
fi

# A file the guest may only read, replaced by the host while the guest
# holds it open (sed -i, an editor, an upgrade): the old inode, still open
# elsewhere, keeps the rights its name had.
cat >"$ws/delwrite.py" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
with open("ready", "w") as f:
    f.write("opened\n")
open("go").read()
try:
    w = os.open("/proc/self/fd/%d" % fd, os.O_RDWR)
    os.write(w, b"GUEST WROTE")
    print("wrote")
except OSError as e:
    print("refused", e.strerror)
PY
echo original >"$T/ro2"
exec 7<"$T/ro2"
rm -f "$ws/ready" "$ws/go"
mkfifo "$ws/ready" "$ws/go"
timeout -k 5 "$POLL_LIMIT" $I --allow-read="$T/ro2" /usr/bin/python3.11 delwrite.py "$T/ro2" </dev/null >"$o" 2>"$e" &
dw=$!
if timeout "$POLL_LIMIT" cat "$ws/ready" >/dev/null; then
  echo new >"$T/ro2.new" && mv "$T/ro2.new" "$T/ro2"
  echo go >"$ws/go"
fi
wait "$dw"
check_match "a replaced read-only file is not reopened for writing" "^refused Permission denied" "$o"
check_eq "the old inode, still open on the host, is unchanged" "original" "$(cat <&7)"
exec 7<&-
rm -f "$ws/ready" "$ws/go"

# /dev/shm and /dev/pts are host-wide: another process's shared memory and
# the user's other terminals are not the guest's; what it makes itself is.
# The guest's /dev/shm is the session's own: the host's names are not in
# it, and the names the guest makes never appear in the host's (where a
# host program opening a name without O_EXCL would get the guest's).
shm=/dev/shm/interpose-e2e-$$
echo SECRET-SHM >"$shm"
at_exit "rm -f $shm $shm-squat $shm-squat2"
/usr/bin/python3.11 -c 'import os, pty, signal, sys; m, s = pty.openpty(); print(os.ttyname(s), flush=True); signal.pause()' >"$T/pty.out" &
ptyholder=$!
at_exit "kill $ptyholder 2>/dev/null"
poll "a host pty to be opened" file_nonempty "$T/pty.out"
hostpty=$(cat "$T/pty.out")
cat >"$ws/devs.py" <<'PY'
import os, sys
def attempt(name, f):
    try:
        print(name, "ok" if f() else "no")
    except OSError as e:
        print(name, "refused", e.strerror)
attempt("host-shm", lambda: "SECRET" in open(sys.argv[1]).read())
attempt("host-shm-listed", lambda: os.path.basename(sys.argv[1]) in os.listdir("/dev/shm"))
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def openat2(dirfd, path, flags, resolve):
    how = (ctypes.c_uint64 * 3)(flags, 0o600 if flags & os.O_CREAT else 0, resolve)
    fd = libc.syscall(437, dirfd, path.encode(), ctypes.byref(how), 24)
    if fd < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return fd
# Lookups the kernel confines to a start (RESOLVE_BENEATH 8, IN_ROOT 16)
# reach the host's directory, not the guest's view of it.
name = os.path.basename(sys.argv[1])
attempt("beneath-shm", lambda: b"SECRET" in os.read(openat2(os.open("/dev", os.O_PATH), "shm/" + name, os.O_RDONLY, 8), 64))
attempt("beneath-shm-dir", lambda: name in os.listdir(openat2(os.open("/dev", os.O_PATH), "shm", os.O_RDONLY | os.O_DIRECTORY, 8)))
attempt("inroot-squat", lambda: openat2(os.open("/", os.O_PATH), "dev/shm/" + name + "-squat2", os.O_CREAT | os.O_WRONLY, 16) >= 0)
def squat():
    with open(sys.argv[1] + "-squat", "w") as f:
        f.write("planted by the guest")
    return True
attempt("squat", squat)
def opath_private():
    # The guest's own object by that name; an O_PATH open of the name must
    # reach it, not the host's (the kernel would look in the host's).
    open(sys.argv[1], "w").close()
    fd = os.open(sys.argv[1], os.O_PATH)
    return os.readlink("/proc/self/fd/%d" % fd) != sys.argv[1]
attempt("opath-private", opath_private)
attempt("host-pty", lambda: os.open(sys.argv[2], os.O_RDWR | os.O_NOCTTY) >= 0)
from multiprocessing import shared_memory, Lock
def own_shm():
    a = shared_memory.SharedMemory(create=True, size=16)
    b = shared_memory.SharedMemory(name=a.name)
    a.buf[0] = 7
    ok = b.buf[0] == 7
    b.close(); a.close(); a.unlink()
    return ok
attempt("own-shm", own_shm)
attempt("own-lock", lambda: Lock().acquire())
import pty
attempt("own-pty", lambda: os.ttyname(pty.openpty()[1]).startswith("/dev/pts/"))
PY
run "$o" "$e" /usr/bin/python3.11 devs.py "$shm" "$hostpty"
check_match "natively another process's shared memory is readable" "^host-shm ok" "$o"
check_match "natively it is listed" "^host-shm-listed ok" "$o"
check_match "natively RESOLVE_BENEATH from /dev reaches the host's /dev/shm" "^beneath-shm ok" "$o"
check_match "natively it lists it" "^beneath-shm-dir ok" "$o"
check_match "natively RESOLVE_IN_ROOT creates a name there" "^inroot-squat ok" "$o"
rm -f "$shm-squat" "$shm-squat2"
check_match "natively another terminal can be opened" "^host-pty ok" "$o"
run "$o" "$e" $I /usr/bin/python3.11 devs.py "$shm" "$hostpty"
check_match "another process's shared memory is not there" "^host-shm refused No such file or directory" "$o"
check_match "...nor listed" "^host-shm-listed no" "$o"
check_match "the guest makes names in its /dev/shm" "^squat ok" "$o"
check_true "...which never appear in the host's" test ! -e "$shm-squat"
check_match "an O_PATH open of a name there reaches the guest's object, not the host's" "^opath-private ok" "$o"
check_match "openat2 confined to /dev does not reach the host's /dev/shm" "^beneath-shm refused Invalid cross-device link" "$o"
check_match "...nor list it" "^beneath-shm-dir refused Invalid cross-device link" "$o"
check_match "openat2 in root does not create a name there" "^inroot-squat refused Invalid cross-device link" "$o"
check_true "...which is not in the host's" test ! -e "$shm-squat2"
check_match "another terminal is refused" "^host-pty refused Permission denied" "$o"
check_match "the guest's own shared memory works" "^own-shm ok" "$o"
check_match "the guest's own semaphores work" "^own-lock ok" "$o"
check_match "the guest's own ptys work" "^own-pty ok" "$o"
kill "$ptyholder" 2>/dev/null

# A path component swapped for a symlink to the credential store while
# the guest opens through it: natively the race reads the secret, under
# interpose the object reached is judged and it never does.
mkdir -p "$ws/swap"
echo public >"$ws/swap/id_ed25519"
SYMRACER=$GUEST_DIR/guest-symrace
for try in $(seq 1 20); do
  run "$o" "$e" "$SYMRACER" swap "$home/.ssh" 5000
  grep -q "^LEAK" "$o" && break
done
check_match "natively the component race reads the secret" "^LEAK" "$o"
rm -rf "$ws/swap.real" "$ws/swap"; mkdir -p "$ws/swap"; echo public >"$ws/swap/id_ed25519"
run "$o" "$e" $I --allow-exec="$GUEST_DIR" "$SYMRACER" swap "$home/.ssh" 3000
check_match "the component racer ran" "^opened [0-9]+ leaked 0" "$o"
check_nomatch "under interpose the component race never reads the secret" "^LEAK" "$o"

# Real work under the profile: a compiler with temp files, python.
printf 'int main(void) { return 7; }\n' >"$ws/m.c"
run "$o" "$e" $I sh -c 'gcc -O1 m.c -o m && ./m'
check_eq "gcc builds and the program runs (status 7)" 7 "$rc"
run "$o" "$e" $I /usr/bin/python3.11 -c 'import json, tempfile, os; f = tempfile.NamedTemporaryFile(); print("ok", os.path.dirname(f.name) == os.environ["TMPDIR"])'
check_match "python with a private TMPDIR" "^ok True" "$o"
# A lease on a file holds every other opener, the host's processes too, for
# lease-break-time (45 s), and is taken again at will: one on a host file the
# guest may only read stalls whoever opens it.
cat >"$ws/lease.py" <<'EOF'
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    print("leased", flush=True)
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
except OSError as e:
    print("refused", e.errno, flush=True)
EOF
lro=$(mktemp -d /var/tmp/interpose-lease.XXXXXX)
at_exit "rm -rf '$lro'"
chmod 0755 "$lro"
echo "host data" >"$lro/f"
chmod 0644 "$lro/f"
if [ "$(id -u)" = 0 ]; then
  /usr/bin/python3.11 "$ws/lease.py" "$lro/f" >"$o" 2>&1
  check_match "natively the owner takes a lease on its read-only file" '^leased$' "$o"
fi
run "$o" "$e" $I --allow-read="$lro" /usr/bin/python3.11 "$ws/lease.py" "$lro/f"
check_match "under interpose a lease on a host file is refused" '^refused 13$' "$o"
check_match "the refused lease is audited" '"syscall":"fcntl".*"decision":"deny","rule":"lease"' "$T/audit.jsonl"

# The *at calls given an empty path and AT_EMPTY_PATH act on the fd's own
# object (coreutils, gnulib and Rust's std use them on fds they hold): as
# natively in the workspace, and by the fd's rights elsewhere.
cat >"$T/emptypath.c" <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
static void say(const char *what, long r)
{
        printf("%s %s\n", what, r == 0 ? "ok" : strerror(errno));
}
int main(int argc, char **argv)
{
        struct timespec now[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
        int fd = open(argv[1], O_RDONLY), pf = open(argv[1], O_PATH);
        say("fchownat", fchownat(fd, "", getuid(), getgid(), AT_EMPTY_PATH));
        say("fchownat-opath", fchownat(pf, "", getuid(), getgid(), AT_EMPTY_PATH));
        say("fchmodat2", syscall(452, fd, "", 0644, AT_EMPTY_PATH));
        say("utimensat", utimensat(pf, "", now, AT_EMPTY_PATH));
        return 0;
}
EOF
if gcc -O1 -o "$T/emptypath" "$T/emptypath.c" 2>"$e"; then
  echo data >"$ws/emptypath.txt"
  "$T/emptypath" "$ws/emptypath.txt" >"$T/emptypath.native" 2>&1
  run "$o" "$e" $I --allow-exec="$T/emptypath" "$T/emptypath" "$ws/emptypath.txt"
  check_eq "empty paths with AT_EMPTY_PATH act on the fd's object as natively" "$(cat "$T/emptypath.native")" "$(cat "$o")"
  check_match "natively fchownat(fd, \"\", AT_EMPTY_PATH) works" '^fchownat ok$' "$T/emptypath.native"
  run "$o" "$e" $I --allow-exec="$T/emptypath" --allow-read="$lro" "$T/emptypath" "$lro/f"
  for call in fchownat fchownat-opath fchmodat2 utimensat; do
    check_match "$call(fd, \"\", AT_EMPTY_PATH) of a read-only file is refused" "^$call Permission denied\$" "$o"
  done
else
  fail "gcc cannot build the AT_EMPTY_PATH probe: $(cat "$e")"
fi

# A #! script whose interpreter is a script too: the kernel follows up to
# four #! lines, and the last is what runs. One outside the exec rights
# that forks before any trapped call of its own would have children no
# check stopped (exec verification kills the image at its first call).
cat >"$T/forker.c" <<'C'
#include "nolibc.h"
void _start(void)
{
        static const char m[] = "FORKED CHILD RAN\n";
        long p = sc(57, 0, 0, 0); /* fork */
        if (p == 0) {
                long fd = sc(257, -100, (long)"forked-proof", 01101); /* openat O_WRONLY|O_CREAT|O_TRUNC */
                if (fd >= 0)
                        sc(1, fd, (long)m, sizeof(m) - 1);
                sc(1, 1, (long)m, sizeof(m) - 1);
                sc(60, 0, 0, 0);
        }
        sc(61, p, 0, 0); /* wait4 */
        sc(60, 0, 0, 0);
}
C
if gcc -O1 -nostdlib -static -fno-stack-protector -I"$SRC_DIR/e2e" -o "$T/outside/forker" "$T/forker.c" 2>"$e"; then
  printf '#!%s\n' "$T/outside/forker" >"$ws/mid"
  printf '#!%s\n' "$ws/mid" >"$ws/nested.sh"
  chmod +x "$ws/mid" "$ws/nested.sh"
  run "$o" "$e" ./nested.sh
  check_match "natively a nested #! runs its last interpreter" "^FORKED CHILD RAN" "$o"
  rm -f "$ws/forked-proof"
  run "$o" "$e" $I ./nested.sh
  check_eq "under interpose a nested #! ending outside the exec rights is refused (126)" 126 "$rc"
  check_true "...and nothing it would fork ran" test ! -e "$ws/forked-proof"
  rm -f "$ws/mid" "$ws/nested.sh" "$ws/forked-proof"
else
  fail "gcc cannot build the forking payload: $(cat "$e")"
fi

# precious N FILE: a log of N lines the guest must not lose.
precious() { "$PY" -c 'import sys; print("precious line\n" * int(sys.argv[1]), end="")' "$1" >"$2"; }

# An output file the user gave the guest (`>> build.log` outside the
# workspace): appending is what the fd allows, not destroying what is
# there (fallocate punching holes, O_APPEND cleared and a write at 0).
cat >"$ws/clobber.py" <<'PY'
import ctypes, fcntl, os, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.fallocate(1, 3, ctypes.c_long(0), ctypes.c_long(4096))  # PUNCH_HOLE | KEEP_SIZE
print("punch", "ok" if r == 0 else os.strerror(ctypes.get_errno()), file=sys.stderr)
try:
    fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) & ~os.O_APPEND)
    print("setfl ok", file=sys.stderr)
except OSError as e:
    print("setfl", e.strerror, file=sys.stderr)
os.pwrite(1, b"CLOBBERED\n", 0)
PY
precious 400 "$T/outside/build.log"
/usr/bin/python3.11 "$ws/clobber.py" >>"$T/outside/build.log" 2>"$e"
check_match "natively fallocate punches a hole in the output file" "^punch ok" "$e"
check_match "natively O_APPEND can be cleared" "^setfl ok" "$e"
precious 400 "$T/outside/build.log"
$I /usr/bin/python3.11 "$ws/clobber.py" >>"$T/outside/build.log" 2>"$e"
check_match "under interpose fallocate of an output file outside the write rights is refused" "^punch Permission denied" "$e"
check_match "...and clearing its O_APPEND" "^setfl Operation not permitted" "$e"
check_eq "...so what it held is whole" 400 "$(grep -c '^precious line$' "$T/outside/build.log")"

# The same overwrite without clearing O_APPEND: pwritev2's RWF_NOAPPEND,
# and an aio write's (whose flags the kernel reads from guest memory).
cat >"$ws/noappend.py" <<'PY'
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
data = ctypes.create_string_buffer(b"CLOBBERED\n")
iov = struct.pack("QQ", ctypes.addressof(data), 10)
r = libc.syscall(328, 1, iov, 1, ctypes.c_long(0), ctypes.c_long(0), 0x20)  # pwritev2, RWF_NOAPPEND
print("noappend", "ok" if r == 10 else os.strerror(ctypes.get_errno()), file=sys.stderr)
ctx = ctypes.c_ulong(0)
if libc.syscall(206, 1, ctypes.byref(ctx)) < 0:  # io_setup
    sys.exit(print("aio", os.strerror(ctypes.get_errno()), file=sys.stderr))
# struct iocb: IOCB_CMD_PWRITE of fd 1 at offset 0, aio_rw_flags RWF_NOAPPEND
iocb = ctypes.create_string_buffer(struct.pack("=QIiHhIQQqQII", 0, 0, 0x20, 1, 0, 1, ctypes.addressof(data), 10, 0, 0, 0, 0))
ev = ctypes.create_string_buffer(32)
ok = libc.syscall(209, ctx, 1, (ctypes.c_void_p * 1)(ctypes.addressof(iocb))) == 1 and \
     libc.syscall(208, ctx, 1, 1, ev, None) == 1 and struct.unpack("=QQqq", ev.raw)[2] == 10
print("aio", "ok" if ok else "failed", file=sys.stderr)
PY
precious 400 "$T/outside/build.log"
/usr/bin/python3.11 "$ws/noappend.py" >>"$T/outside/build.log" 2>"$e"
check_match "natively pwritev2(RWF_NOAPPEND) writes at offset 0 of an O_APPEND file" "^noappend ok" "$e"
check_match "natively an aio write with RWF_NOAPPEND does too" "^aio ok" "$e"
precious 400 "$T/outside/build.log"
$I /usr/bin/python3.11 "$ws/noappend.py" >>"$T/outside/build.log" 2>"$e"
check_match "under interpose RWF_NOAPPEND on an output file outside the write rights is refused" "^noappend Operation not permitted" "$e"
check_match "...and aio is a kernel without it" "^aio Function not implemented" "$e"
check_eq "...so what the output file held is whole" 400 "$(grep -c '^precious line$' "$T/outside/build.log")"
precious 400 "$ws/own.log"
$I /usr/bin/python3.11 "$ws/noappend.py" >>"$ws/own.log" 2>"$e"
check_eq "RWF_NOAPPEND on a file of the workspace still writes at offset 0" "CLOBBERED" "$(head -n 1 "$ws/own.log")"

# fallocate by the old XFS numbers, which the VFS serves for every file
# system: zero the output file's first 8 KiB, or punch them out.
cat >"$ws/xfsspace.py" <<'PY'
import fcntl, os, struct, sys
resv = struct.pack("=hh4xqqiI4i", 0, 0, 0, 8192, 0, 0, 0, 0, 0, 0)  # struct space_resv: [0, 8192)
for name, nr in (("resvsp", 40), ("unresvsp", 41), ("resvsp64", 42), ("unresvsp64", 43), ("zero_range", 57)):
    try:
        fcntl.ioctl(1, 0x40305800 | nr, resv)  # _IOW('X', nr, struct space_resv)
        print(name, "ok", file=sys.stderr)
    except OSError as e:
        print(name, e.strerror, file=sys.stderr)
PY
precious 1000 "$T/outside/build.log"
/usr/bin/python3.11 "$ws/xfsspace.py" >>"$T/outside/build.log" 2>"$e"
check_match "natively FS_IOC_UNRESVSP64 punches a hole in the output file" "^unresvsp64 ok" "$e"
check_match "natively FS_IOC_ZERO_RANGE zeroes it" "^zero_range ok" "$e"
check_ne "...so it lost lines" 1000 "$(grep -c '^precious line$' "$T/outside/build.log")"
precious 1000 "$T/outside/build.log"
$I /usr/bin/python3.11 "$ws/xfsspace.py" >>"$T/outside/build.log" 2>"$e"
check_eq "under interpose the XFS space ioctls are a kernel without them" 5 "$(grep -c ' Inappropriate ioctl for device$' "$e")"
check_eq "...so the output file is whole" 1000 "$(grep -c '^precious line$' "$T/outside/build.log")"

# A file of a read-only tree that the host hard-linked into the workspace
# (uv, pnpm and git clone --local do, from their caches): written through
# its workspace name, every project linked to it would run what the guest
# wrote. Links the guest makes itself stay writable.
mkdir -p "$home/.cache/pkgcache" "$ws/venv"
echo "print('cached module')" >"$home/.cache/pkgcache/mod.py"
ln "$home/.cache/pkgcache/mod.py" "$ws/venv/mod.py"
run "$o" "$e" $I sh -c '
  echo "import evil" >>venv/mod.py && echo append-ok || echo append-refused
  chmod 666 venv/mod.py && echo chmod-ok || echo chmod-refused
  echo mine >own-a && ln own-a own-b && echo more >>own-b && echo own-link-ok || echo own-link-refused'
check_match "under interpose a host-made hard link is not written through" "^append-refused$" "$o"
check_match "...nor its mode changed" "^chmod-refused$" "$o"
check_eq "...and the cached file is as it was" "print('cached module')" "$(cat "$home/.cache/pkgcache/mod.py")"
check_match "a hard link the guest made itself stays writable" "^own-link-ok$" "$o"
check_match "the refusal names the hard link" '"policy_rule":"hard link' "$T/audit.jsonl"
rm -rf "$home/.cache/pkgcache" "$ws/venv" "$ws/own-a" "$ws/own-b"

# Credential stores below the trees builds read (~/.config, ~/.local/share,
# ~/.cache): browsers' cookies and saved logins, chat apps' sessions, VS
# Code's secret storage, CLIs' tokens, vaults, shell history, Jupyter
# kernels' keys. The tools' own configuration beside them stays readable.
stores=".config/google-chrome/Default/Cookies .config/chromium/Default/Cookies
.config/BraveSoftware/Brave-Browser/Default/Cookies .config/Slack/Cookies .config/discord/Cookies
.config/Code/User/globalStorage/state.vscdb .config/mozilla/firefox/p.default/logins.json
.config/glab-cli/config.yml .config/stripe/config.toml .config/composer/auth.json
.config/helm/registry/config.json .config/pip/pip.conf .config/configstore/firebase-tools.json
.local/share/com.vercel.cli/auth.json .local/share/atuin/history.db
.local/share/jupyter/runtime/kernel-1.json .config/Bitwarden/data.json .config/netlify/config.json
.config/ngrok/ngrok.yml .local/share/kwalletd/kdewallet.kwl"
kept=".config/composer/config.json .config/configstore/update-notifier-npm.json
.local/share/jupyter/kernels/python3/kernel.json .cache/pip/http/x"
for f in $stores $kept; do mkdir -p "$home/${f%/*}" && echo CRED >"$home/$f"; done
readall='for f; do if out=$(cat "$HOME/$f" 2>&1); then echo "store $f read"; else echo "store $f $out"; fi; done'
run "$o" "$e" sh -c "$readall" sh $stores
check_eq "natively the stores under ~/.config, ~/.local/share and ~/.cache are read" \
  "$(echo $stores | wc -w)" "$(grep -c ' read$' "$o")"
run "$o" "$e" $I sh -c "$readall" sh $stores
check_eq "under interpose a credential store under ~/.config, ~/.local/share or ~/.cache: EACCES" \
  "$(echo $stores | wc -w)" "$(grep -c 'Permission denied$' "$o")"
run "$o" "$e" $I sh -c "$readall" sh $kept
check_eq "...and the tools' own configuration beside them stays readable" \
  "$(echo $kept | wc -w)" "$(grep -c ' read$' "$o")"
for f in $stores $kept; do rm -f "$home/$f"; done

finish
