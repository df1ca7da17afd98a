#!/bin/sh
# Resource limits (issue 6): --max-procs, --max-memory, --max-fds,
# --max-write and --timeout. A runaway guest ends with a clear message and
# a status that says why, every guest process is gone afterwards, and the
# machine stays usable meanwhile. Runs on the platform INTERPOSE_PLATFORM
# names, as root and (where the suite runs as root) as "nobody", where the
# kernel's per-user task limit backs the count.
. "${SRC_DIR:-$(dirname "$0")/..}/e2e/lib.sh"

o=$T/out e=$T/err

# No guest process of session AUDIT left (by the pids the log names).
no_guest_left() {
  _left=0
  for p in $(grep -o '"pid":[0-9]*' "$1" | sort -u | cut -d: -f2); do
    st=$(proc_state "$p")
    [ -n "$st" ] && [ "$st" != Z ] && grep -qa interpose-limits-marker "/proc/$p/environ" 2>/dev/null && _left=1
  done
  return $_left
}
export INTERPOSE_LIMITS_MARKER=interpose-limits-marker

# --- --timeout: the whole tree, 124, and why ----------------------------------
run "$o" "$e" "$INTERPOSE" --audit="$T/t.jsonl" --timeout=1s -- sh -c 'sleep 60 & sleep 60 & wait; echo finished'
check_eq "timeout: status 124" 124 "$rc"
check_match "timeout: says which limit" 'ran past --timeout \(1000 ms\)' "$e"
check_nomatch "timeout: the guest did not finish" finished "$o"
check_match "timeout: audited" '"decision":"kill","rule":"limit:timeout"' "$T/t.jsonl"
check_true "timeout: no guest process is left" no_guest_left "$T/t.jsonl"
run "$o" "$e" "$INTERPOSE" --timeout=30s -- true
check_eq "timeout: a quick guest keeps its own status" 0 "$rc"

# --- --max-procs: past it the tree is stopped ------------------------------------------
cat >"$T/forks.py" <<'EOF'
import os, sys, time
n = 0
for i in range(int(sys.argv[1])):
    if os.fork() == 0:
        time.sleep(30)
        os._exit(0)
    n += 1
    time.sleep(0.005)
print("made", n, flush=True)
time.sleep(30)
print("finished")
EOF
mkdir -m 0777 "$T/u"
cp "$INTERPOSE" "$T/u/interpose" && cp "$T/forks.py" "$T/u/" && chmod 0755 "$T" "$T/u/interpose" "$T/u/forks.py"
for who in root nobody; do
  if [ "$who" = nobody ]; then
    [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 || continue
    as="setpriv --reuid=$(id -u nobody) --regid=$(id -g nobody) --clear-groups --inh-caps=-all"
  else
    as=""
  fi
  # shellcheck disable=SC2086 # $as is a command prefix
  (cd "$T/u" && run "$o" "$e" $as "$T/u/interpose" --audit="$T/u/p-$who.jsonl" --max-procs=40 -- "$PY" forks.py 200
   echo "$rc" >"$T/u/rc")
  rc=$(cat "$T/u/rc")
  check_eq "max-procs ($who): the tree is stopped (137)" 137 "$rc"
  check_match "max-procs ($who): says which limit" 'more than --max-procs=40 processes' "$e"
  check_nomatch "max-procs ($who): the guest did not finish" finished "$o"
  check_match "max-procs ($who): audited" '"decision":"kill","rule":"limit:procs"' "$T/u/p-$who.jsonl"
  check_true "max-procs ($who): no guest process is left" no_guest_left "$T/u/p-$who.jsonl"
done
# Within it, processes come and go: three rounds of 30 under a limit of 40.
cat >"$T/rounds.py" <<'EOF'
import os, time
for r in range(3):
    kids = []
    for _ in range(30):
        pid = os.fork()
        if pid == 0:
            time.sleep(0.3)
            os._exit(0)
        kids.append(pid)
    for k in kids:
        os.waitpid(k, 0)
print("ok")
EOF
run "$o" "$e" "$INTERPOSE" --max-procs=40 -- "$PY" "$T/rounds.py"
check_eq "max-procs: places come back" "0 ok" "$rc $(cat "$o")"
# A shell pipeline forks while its children exit (SIGCHLD): fork never
# fails (a trapped fork could fail with EINTR on seccomp-unotify).
cat >"$T/pipes.sh" <<'EOF'
i=0
while [ $i -lt 100 ]; do
  r=$(seq 1 300 | grep 3 | sort -rn | head -n 5 | paste -sd+ | bc) || exit 9
  [ "$r" = "$1" ] || { echo "wrong $r"; exit 8; }
  i=$((i + 1))
done
echo ok
EOF
want=$(seq 1 300 | grep 3 | sort -rn | head -n 5 | paste -sd+ | bc)
run "$o" "$e" "$INTERPOSE" -- dash "$T/pipes.sh" "$want"
check_eq "100 dash pipelines, each forking as its children exit" "0 ok" "$rc $(cat "$o")"

# A fork bomb: stopped at its limit, and the machine answers meanwhile.
start=$(date +%s)
"$INTERPOSE" --audit="$T/bomb.jsonl" --max-procs=100 -- bash -c 'b() { b | b & }; b; sleep 60' \
  </dev/null >/dev/null 2>"$T/bomb.err" &
bomb=$!
check_true "fork bomb: the host still runs programs" sh -c 'for i in 1 2 3 4 5; do /bin/true || exit 1; done'
wait "$bomb"
brc=$?
check_eq "fork bomb: stopped (137)" 137 "$brc"
check_match "fork bomb: says which limit" 'more than --max-procs=100 processes' "$T/bomb.err"
check_true "fork bomb: stopped at once ($(($(date +%s) - start)) s)" test $(($(date +%s) - start)) -le 10
check_true "fork bomb: no guest process is left" no_guest_left "$T/bomb.jsonl"

# The session's pids cgroup (root): the guest cannot move itself out.
if [ "$(id -u)" = 0 ] && grep -q ':pids:' /proc/self/cgroup; then
  run "$o" "$e" "$INTERPOSE" -- sh -c '
    before=$(grep :pids: /proc/self/cgroup)
    echo $$ > /sys/fs/cgroup/pids/cgroup.procs 2>/dev/null && echo moved
    echo 0 > /sys/fs/cgroup/pids/tasks 2>/dev/null && echo moved
    after=$(grep :pids: /proc/self/cgroup)
    echo "$before"; echo "$after"'
  check_match "the guest is in a pids cgroup of the session's" ':pids:/.*interpose-' "$o"
  check_nomatch "the guest cannot move itself out of it" '^moved$' "$o"
  check_eq "...and is still in it" 1 "$(sed -n 1,2p "$o" | sort -u | wc -l)"
fi

# --- --max-memory ---------------------------------------------------------------
# One process: its allocation fails (RLIMIT_DATA) and it says so itself.
run "$o" "$e" "$INTERPOSE" --max-memory=200M -- "$PY" -c '
a = []
try:
    while True:
        a.append(bytearray(10**7))
except MemoryError:
    print("MemoryError at", len(a) * 10, "MB")'
check_eq "max-memory: one process: runs on" 0 "$rc"
check_match "max-memory: one process: its allocation failed under 200 MB" '^MemoryError at (20[0-9]|1[0-9]{2}|[0-9]{1,2}) MB' "$o"
# Several processes: the sum is watched; past it the tree is stopped.
cat >"$T/hog.sh" <<'EOF'
for i in 1 2 3 4; do "$1" -c 'import time; a = bytearray(120 * 2**20); time.sleep(30)' & done
wait
echo finished
EOF
run "$o" "$e" "$INTERPOSE" --audit="$T/m.jsonl" --max-memory=300M -- sh "$T/hog.sh" "$PY"
check_eq "max-memory: the tree is stopped (137)" 137 "$rc"
check_match "max-memory: says which limit" 'more than --max-memory \(314572800 bytes' "$e"
check_match "max-memory: audited" '"rule":"limit:memory"' "$T/m.jsonl"
check_nomatch "max-memory: the guest did not finish" finished "$o"
check_true "max-memory: no guest process is left" no_guest_left "$T/m.jsonl"
run "$o" "$e" "$INTERPOSE" --max-memory=300M -- "$PY" -c 'a = bytearray(50 * 2**20); print("ok")'
check_eq "max-memory: within it, a guest runs" "0 ok" "$rc $(cat "$o")"

# --- --max-fds ------------------------------------------------------------------
run "$o" "$e" "$INTERPOSE" --max-fds=64 -- "$PY" -c '
import os
fds = []
try:
    while True:
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e:
    print(e.errno, max(fds))'
check_eq "max-fds: runs" 0 "$rc"
check_match "max-fds: EMFILE below 64" '^24 ([0-9]|[1-5][0-9]|6[0-3])$' "$o"

# --- --max-write ------------------------------------------------------------------
# One big file, written faster than the monitor looks: the last look at
# the end still says the quota was passed.
run "$o" "$e" "$INTERPOSE" --audit="$T/w1.jsonl" --max-write=5M -- sh -c 'head -c 10000000 /dev/zero > big; echo $?'
check_eq "max-write: one file past it: stopped (137)" 137 "$rc"
check_match "max-write: one file past it: says which limit" 'grew past --max-write \(5242880 bytes' "$e"
rm -f big
# Many files: their sum is watched; past it the tree is stopped.
run "$o" "$e" "$INTERPOSE" --audit="$T/w.jsonl" --max-write=30M -- sh -c \
  'for i in $(seq 40); do head -c 4000000 /dev/zero > f$i || exit 3; done; echo finished'
check_eq "max-write: the tree is stopped (137)" 137 "$rc"
[ "$rc" = 137 ] || sed "s/^/    | /" "$e" >&2
check_match "max-write: says which limit" 'grew past --max-write \(31457280 bytes' "$e"
check_match "max-write: audited" '"rule":"limit:write"' "$T/w.jsonl"
check_nomatch "max-write: the guest did not finish" finished "$o"
rm -f f[0-9]*
run "$o" "$e" "$INTERPOSE" --max-write=30M -- sh -c 'head -c 1000000 /dev/zero > small && echo ok'
check_eq "max-write: within it, writes work" "0 ok" "$rc $(cat "$o")"
rm -f small
# Rewriting a byte deep inside a big file the guest found: no growth, no
# limit (a per-file size cap would refuse it).
head -c 50000000 /dev/zero >bigold
run "$o" "$e" "$INTERPOSE" --max-write=10M -- "$PY" -c '
import os
fd = os.open("bigold", os.O_RDWR)
os.pwrite(fd, b"x", 40000000)
print("ok")'
check_eq "max-write: an in-place write to a big file works" "0 ok" "$rc $(cat "$o")"
rm -f bigold
# Bytes that are not in a named file the guest opened for writing still
# count: fallocate (refused at once), a file unlinked while written, an
# O_TMPFILE linked later, and many small names.
run "$o" "$e" "$INTERPOSE" --max-write=10M -- "$PY" -c '
import os
fd = os.open("pre", os.O_CREAT | os.O_RDWR)
try:
    os.posix_fallocate(fd, 0, 3 << 30)
    print("allocated")
except OSError as e:
    print("refused", e.errno)'
check_match "max-write: fallocate past it is refused (EDQUOT)" '^refused 122$' "$o"
rm -f pre
# fallocates in a burst, faster than the monitor looks (one call takes
# gigabytes in a millisecond): each is charged as it is made.
run "$o" "$e" "$INTERPOSE" --max-write=100M -- "$PY" -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("burst", os.O_CREAT | os.O_RDWR)
n = 0
for i in range(20):
    if libc.fallocate(fd, 0, ctypes.c_long(i * (30 << 20)), ctypes.c_long(30 << 20)) < 0:
        print("refused", ctypes.get_errno())
        break
    n += 1
print("allocated", n)'
check_eq "max-write: a burst of fallocates is refused at the quota (EDQUOT)" "0 refused 122 allocated 3" \
  "$rc $(tr '\n' ' ' <"$o" | sed 's/ $//')"
rm -f burst
# The files the user hands the guest to write (its output redirected to
# a file, an fd kept with --keep-fds) count like those it opens.
run "$T/big.out" "$e" "$INTERPOSE" --max-write=1M -- head -c 5000000 /dev/zero
check_eq "max-write: an output file the guest inherits counts (137)" 137 "$rc"
timeout -k 5 "$POLL_LIMIT" "$INTERPOSE" --max-write=1M --keep-fds -- sh -c 'head -c 5000000 /dev/zero >&3' \
  </dev/null >"$o" 2>"$e" 3>>"$T/kept.out"
check_eq "max-write: a file kept with --keep-fds counts (137)" 137 "$?"
rm -f "$T/big.out" "$T/kept.out"
# A file passed in a message that is never received, then closed and
# unlinked: no name, no fd, no mapping, but the socket keeps its blocks.
run "$o" "$e" "$INTERPOSE" --max-write=10M -- "$PY" -c '
import array, os, socket
a, b = socket.socketpair()
buf = b"x" * (4 << 20)
for i in range(8):
    fd = os.open("parked%d" % i, os.O_CREAT | os.O_WRONLY)
    os.write(fd, buf)
    a.sendmsg([b"f"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
    os.close(fd)
    os.unlink("parked%d" % i)
print("finished")'
check_eq "max-write: files parked in a message in flight count (137)" 137 "$rc"
# Extended attributes take disk space outside any file's blocks: a value
# on each of many files the guest may write (by path and by fd).
mkdir "$T/xa" && (cd "$T/xa" && touch $(seq -f f%g 300))
# (Told by the exit status, not on stdout: the output file is the
# guest's too, and its first block would pass the limit the values fill.)
run "$o" "$e" "$INTERPOSE" --max-write=1M -- "$PY" -c '
import os, sys
pad = b"p" * 4000
refused = None
for i in range(1, 301):
    try:
        if i % 2:
            os.setxattr("xa/f%d" % i, "user.pad", pad)
        else:
            fd = os.open("xa/f%d" % i, os.O_RDONLY)
            os.setxattr(fd, "user.pad", pad)
            os.close(fd)
    except OSError as e:
        refused = e.errno
        break
if refused != 122:
    sys.exit(3)
for j in range(1000):
    os.setxattr("xa/f1", "user.pad", pad)
sys.exit(0)'
check_ne "max-write: extended attributes are charged: refused with EDQUOT" 3 "$rc"
check_eq "max-write: rewriting the same attribute is charged once" 0 "$rc"
rm -rf "$T/xa"
for how in unlinked tmpfile names; do
  run "$o" "$e" "$INTERPOSE" --max-write=10M -- "$PY" -c '
import os, sys, time, ctypes
how = sys.argv[1]
buf = b"x" * (4 << 20)
held = []
for i in range(12):
    if how == "unlinked":
        fd = os.open("u%d" % i, os.O_CREAT | os.O_RDWR)
        os.unlink("u%d" % i)
        os.write(fd, buf)
        held.append(fd)
    elif how == "tmpfile":
        fd = os.open(".", os.O_TMPFILE | os.O_RDWR, 0o600)
        time.sleep(0.15)
        os.write(fd, buf)
        libc = ctypes.CDLL(None)
        libc.linkat(-100, b"/proc/self/fd/%d" % fd, -100, b"t%d" % i, 0x400)
        os.close(fd)
    else:
        for j in range(400):
            os.symlink("x" * 100, "s%d-%d" % (i, j))
    time.sleep(0.15)
print("finished")' "$how"
  if [ "$how" = names ]; then
    # Names are charged as they are made: refused at once once spent.
    check_match "max-write: names: refused with EDQUOT" 'Disk quota exceeded' "$e"
  else
    check_eq "max-write: $how: stopped (137)" 137 "$rc"
  fi
  check_nomatch "max-write: $how: the guest did not finish" finished "$o"
  rm -f t[0-9]* s[0-9]*
done

# --- evasions of every limit, and memory outside any process ------------------------
# A process whose first thread exits shows as a zombie while its other
# threads run: it must still count, be stopped, and not outlive the session.
cat >"$T/zl.py" <<'EOF'
import ctypes, mmap, os, sys, threading, time
def work():
    time.sleep(0.3)
    if sys.argv[1] == "mem-self":
        # Shared memory: past RLIMIT_DATA's reach, the monitor's alone.
        m = mmap.mmap(-1, 300 << 20, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
        for i in range(0, 300 << 20, 4096):
            m[i] = 1
    if sys.argv[1] == "memfd":
        # In no process's memory: found by the fds that hold it.
        fd = os.memfd_create("x")
        for i in range(300):
            os.write(fd, b"x" * (1 << 20))
    if sys.argv[1] == "mem":
        kids = []
        for i in range(8):
            pid = os.fork()
            if pid == 0:
                b = bytearray(60 << 20)
                time.sleep(20)
                os._exit(0)
            kids.append(pid)
    print("working", flush=True)
    time.sleep(20)
    print("outlived", flush=True)
    os._exit(0)
threading.Thread(target=work).start()
ctypes.CDLL(None).syscall(60, 0)  # exit(2): only the first thread ends
EOF
run "$o" "$e" "$INTERPOSE" --audit="$T/zl.jsonl" --timeout=2s -- "$PY" "$T/zl.py" time
check_eq "a thread outliving its leader: --timeout still stops it" 124 "$rc"
check_nomatch "...it did not outlive the session" outlived "$o"
check_true "...no guest process is left" no_guest_left "$T/zl.jsonl"
run "$o" "$e" "$INTERPOSE" --audit="$T/zlm.jsonl" --max-memory=200M -- "$PY" "$T/zl.py" mem
check_eq "a thread outliving its leader: its children's memory counts (137)" 137 "$rc"
check_true "...no guest process is left" no_guest_left "$T/zlm.jsonl"
run "$o" "$e" "$INTERPOSE" --audit="$T/zls.jsonl" --max-memory=200M -- "$PY" "$T/zl.py" mem-self
check_eq "a thread outliving its leader: its own memory counts (137)" 137 "$rc"
check_nomatch "...it did not outlive the limit" outlived "$o"
run "$o" "$e" "$INTERPOSE" --max-memory=200M -- "$PY" "$T/zl.py" memfd
check_eq "a thread outliving its leader: a memfd it holds counts (137)" 137 "$rc"
# memfds and System V segments are in no process's RSS.
run "$o" "$e" "$INTERPOSE" --max-memory=200M -- "$PY" -c '
import os, time
fd = os.memfd_create("x")
for i in range(400):
    os.write(fd, b"x" * (1 << 20))
time.sleep(2)
print("finished")'
check_eq "max-memory: a memfd counts (137)" 137 "$rc"
check_nomatch "max-memory: memfd: the guest did not finish" finished "$o"
# Data written into a socket and not yet read is kernel memory no process
# maps: socket pairs filled to their buffers held a GiB past the limit.
cat >"$T/sockbuf.py" <<'EOF'
import resource, socket, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
want, total, keep = int(sys.argv[1]) << 20, 0, []
chunk = b"x" * 65536
while total < want:
    a, b = socket.socketpair()
    keep.append((a, b))
    for s in (a, b):
        s.setblocking(False)
        try:
            while True:
                total += s.send(chunk)
        except BlockingIOError:
            pass
print("parked", total >> 20, "MiB", flush=True)
time.sleep(float(sys.argv[2]))
print("finished")
EOF
"$PY" "$T/sockbuf.py" 300 0 >"$o" 2>&1
check_match "natively socket buffers hold 300 MiB" '^parked [0-9]+ MiB$' "$o"
run "$o" "$e" "$INTERPOSE" --audit="$T/sock.jsonl" --max-memory=64M -- "$PY" "$T/sockbuf.py" 300 2
check_eq "max-memory: data queued in sockets counts (137)" 137 "$rc"
check_nomatch "max-memory: sockets: the guest did not finish" finished "$o"
check_match "max-memory: sockets: audited" '"rule":"limit:memory"' "$T/sock.jsonl"
# UDP-Lite too: the guest's own servers on loopback take its datagrams,
# each socket's receive queue up to its buffer.
cat >"$T/litebuf.py" <<'EOF'
import resource, socket, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
want, total, keep = int(sys.argv[1]) << 20, 0, []
chunk = b"x" * 32768
while total < want:
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 136)
    srv.bind(("127.0.0.1", 0))
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 136)
    keep.append((srv, c))
    for _ in range(8):
        c.sendto(chunk, srv.getsockname())
    total += 6 * len(chunk)
print("parked", total >> 20, "MiB", flush=True)
time.sleep(float(sys.argv[2]))
print("finished")
EOF
run "$o" "$e" "$INTERPOSE" --audit="$T/lite.jsonl" --max-memory=64M -- "$PY" "$T/litebuf.py" 300 2
check_eq "max-memory: data queued in UDP-Lite sockets counts (137)" 137 "$rc"
check_nomatch "max-memory: UDP-Lite: the guest did not finish" finished "$o"
# A socket whose only reference is a message in flight: in no process's
# fds, its queue still holds kernel memory. The kernel bounds the fds in
# flight by the sender's fd limit, and every sendmsg is the sentry's (its
# limit is its hard one; root has none): 8,000 such sockets held 1.8 GiB
# past --max-memory=64M and --max-fds=64.
cat >"$T/inflight.py" <<'EOF'
import array, socket, sys, time
carriers = [socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)]
sent, refused, queued = 0, None, 0
while sent < int(sys.argv[1]) and refused is None:
    w, r = socket.socketpair()
    w.setblocking(False)
    try:
        while True:
            queued += w.send(b"x" * 65536)
    except BlockingIOError:
        pass
    while True:
        try:
            carriers[-1][0].sendmsg([b"f"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [r.fileno()]))],
                                    socket.MSG_DONTWAIT)
            sent += 1
            break
        except BlockingIOError:
            carriers.append(socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM))
        except OSError as e:
            refused = e.errno
            break
    w.close()
    r.close()
print("in flight", sent, "queued", queued >> 20, "MiB refused", refused, flush=True)
time.sleep(float(sys.argv[2]))
print("finished")
EOF
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
  (ulimit -n 64 && setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups --inh-caps=-all \
    "$PY" "$T/inflight.py" 2000 0) >"$o" 2>&1
  check_match "natively (nobody, 64 fds) 65 sockets in flight, then ETOOMANYREFS" '^in flight 65 .* refused 109$' "$o"
fi
run "$o" "$e" "$INTERPOSE" --max-memory=64M --max-fds=64 -- "$PY" "$T/inflight.py" 2000 0
check_match "max-fds: sockets in flight are refused past it (ETOOMANYREFS)" '^in flight (6[0-5]|[1-5]?[0-9]) .* refused 109$' \
  "$o"
# ...but sockets passed and received at once are never many in flight,
# however many go by between two looks of the monitor.
cat >"$T/passfd.py" <<'EOF'
import array, os, socket, sys
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
if os.fork() == 0:
    a.close()
    while True:
        msg, anc, _, _ = b.recvmsg(1, socket.CMSG_SPACE(4))
        if not msg:
            os._exit(0)
        for _, _, data in anc:
            os.close(array.array("i", data)[0])
        b.send(b"k")
b.close()
n = int(sys.argv[1])
for i in range(n):
    x, y = socket.socketpair()
    try:
        a.sendmsg([b"f"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [x.fileno()]))])
    except OSError as e:
        print("refused at", i, e.errno)
        break
    x.close()
    y.close()
    a.recv(1)
else:
    print("passed", n)
a.close()
os.wait()
EOF
run "$o" "$e" "$INTERPOSE" --max-memory=1G --max-fds=256 -- "$PY" "$T/passfd.py" 3000
check_match "max-fds: 3,000 sockets passed and received one by one are not refused" '^passed 3000$' "$o"
run "$o" "$e" "$INTERPOSE" --audit="$T/inflight.jsonl" --max-memory=64M -- "$PY" "$T/inflight.py" 2000 "$POLL_LIMIT"
check_eq "max-memory: sockets kept only by a message in flight count (137)" 137 "$rc"
check_match "...audited" '"rule":"limit:memory"' "$T/inflight.jsonl"
# Memfds too: each written, passed in a message never received and
# closed, is held by the kernel alone.
cat >"$T/memfly.py" <<'EOF'
import array, os, socket, sys, time
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
chunk = b"m" * (1 << 20)
for i in range(8):
    fd = os.memfd_create("fly%d" % i)
    for _ in range(50):
        os.write(fd, chunk)
    a.sendmsg([b"f"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
    os.close(fd)
print("parked", flush=True)
time.sleep(float(sys.argv[1]))
print("finished")
EOF
# Memory on the private /dev/shm (a tmpfs) that the count must not miss:
# a file unlinked and kept open, a directory whose search right the guest
# took away (the sentry, without capabilities, cannot look in: stopped as
# not measurable), and a tree nested past where the count looks.
cat >"$T/shmhide.py" <<'EOF'
import os, sys, time
how, chunk = sys.argv[1], b"s" * (1 << 20)
def fill(fd):
    for _ in range(300):
        os.write(fd, chunk)
if how == "unlinked":
    fd = os.open("/dev/shm/big", os.O_RDWR | os.O_CREAT, 0o600)
    fill(fd)
    os.unlink("/dev/shm/big")
elif how == "blind":
    # (Whatever it holds: what cannot be looked into is not allowed.)
    os.mkdir("/dev/shm/d")
    fd = os.open("/dev/shm/d/f", os.O_RDWR | os.O_CREAT, 0o600)
    os.write(fd, chunk)
    os.close(fd)
    os.chmod("/dev/shm/d", 0)
else:
    d = os.open("/dev/shm", os.O_DIRECTORY)
    for i in range(300):
        name = sys.argv[3] if i == 0 else "n"  # the top one the test looks for
        os.mkdir(name, dir_fd=d)
        d = os.open(name, os.O_DIRECTORY, dir_fd=d)
    fd = os.open("f", os.O_RDWR | os.O_CREAT, 0o600, dir_fd=d)
    fill(fd)
    os.close(fd)
print("held", how, flush=True)
time.sleep(float(sys.argv[2]))
print("finished")
EOF
for how in unlinked blind deep; do
  run "$o" "$e" "$INTERPOSE" --audit="$T/shm-$how.jsonl" --max-memory=100M -- "$PY" "$T/shmhide.py" "$how" "$POLL_LIMIT" \
    "deep-$$"
  check_eq "max-memory: the private /dev/shm, $how: stopped (137)" 137 "$rc"
done
check_match "...a directory it cannot look into stops it as not measurable" '"rule":"limit:measure"' "$T/shm-blind.jsonl"
# (300 levels: deeper than the removal of the session's directories
# descended, which left it behind for every later start to walk.)
check_true "...and the deep tree went with its session" sh -c "! ls -d /dev/shm/interpose-shm-*/deep-$$ 2>/dev/null"
run "$o" "$e" "$PY" "$T/memfly.py" 0
check_match "natively 400 MB of memfds are parked in messages" '^parked$' "$o"
run "$o" "$e" "$INTERPOSE" --audit="$T/memfly.jsonl" --max-memory=100M -- "$PY" "$T/memfly.py" "$POLL_LIMIT"
check_eq "max-memory: memfds kept only by a message in flight count (137)" 137 "$rc"
check_nomatch "...the guest did not finish" finished "$o"
# Names on the private /dev/shm (a tmpfs) take kernel memory, blocks or
# not: a million symlinks took a GiB.
run "$o" "$e" "$INTERPOSE" --audit="$T/names.jsonl" --max-memory=64M -- "$PY" -c '
import os, time
os.makedirs("/dev/shm/names", exist_ok=True)
for i in range(200000):
    os.symlink("x", "/dev/shm/names/%d" % i)
time.sleep(2)
print("finished")'
check_eq "max-memory: names on the private /dev/shm count (137)" 137 "$rc"
check_nomatch "max-memory: names: the guest did not finish" finished "$o"
# A process the sentry cannot look into (not dumpable: an exec of a file it
# may run but not read) would hide what it holds: such a file is not run
# at all now (its ELF interpreter could not be known either), and the
# monitor would stop one it met anyway.
cat >"$T/hide.c" <<'C'
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(void)
{
        static char buf[1 << 20];
        int fd = memfd_create("hidden", 0);
        memset(buf, 1, sizeof(buf));
        for (int i = 0; i < 300; i++)
                if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
                        return 1;
        sleep(3);
        puts("finished");
        return 0;
}
C
if gcc -O1 -static -o "$T/hide" "$T/hide.c" 2>"$e"; then
  chmod 0111 "$T/hide"
  run "$o" "$e" "$INTERPOSE" --audit="$T/hide.jsonl" --max-memory=64M --allow-exec="$T/hide" -- sh -c '"$0"' "$T/hide"
  check_eq "max-memory: a process that cannot be looked into is not started (126)" 126 "$rc"
  check_match "...refused as a program the sentry cannot read" '"rule":"exec-unreadable"' "$T/hide.jsonl"
  check_nomatch "max-memory: not dumpable: the guest did not finish" finished "$o"
else
  fail "gcc cannot build the hiding probe: $(cat "$e")"
fi
# A file written, mapped, closed and unlinked: no name and no fd, but the
# mapping keeps its blocks on the disk. (In C: Python's mmap keeps an fd.)
cat >"$T/mapped.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(void)
{
        static char buf[1 << 20];
        memset(buf, 'x', sizeof(buf));
        for (int r = 0; r < 8; r++) {
                char name[32];
                snprintf(name, sizeof(name), "mapped-%d", r);
                int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0644);
                for (int i = 0; i < 4; i++)
                        if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
                                return 1;
                fsync(fd);
                if (mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED)
                        return 1;
                close(fd);
                unlink(name);
                usleep(300000); /* the monitor looks meanwhile */
        }
        puts("finished");
        return 0;
}
C
if gcc -O1 -o "$T/mapped" "$T/mapped.c" 2>"$e"; then
  run "$o" "$e" "$INTERPOSE" --max-write=10M --allow-exec="$T/mapped" -- "$T/mapped"
  check_eq "max-write: a file only a mapping holds counts (137)" 137 "$rc"
  check_nomatch "max-write: mapped: the guest did not finish" finished "$o"
else
  fail "gcc cannot build the mapping probe: $(cat "$e")"
fi
cat >"$T/sysv.py" <<'EOF'
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
for i in range(int(sys.argv[1])):
    sid = libc.shmget(0, 32 << 20, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
    a = libc.shmat(sid, None, 0)
    ctypes.memset(a, 1, 32 << 20)
    libc.shmdt(ctypes.c_void_p(a))
    if sys.argv[3:] == ["rmid64"]:  # IPC_RMID|IPC_64, which x86_64 refuses
        libc.syscall(31, sid, 0x100, None)
time.sleep(float(sys.argv[2]))
print("finished")
EOF
run "$o" "$e" "$INTERPOSE" --max-memory=200M -- "$PY" "$T/sysv.py" 12 2
check_eq "max-memory: detached System V segments count (137)" 137 "$rc"
# Until the monitor stops it: a segment the kernel did not remove counts.
run "$o" "$e" "$INTERPOSE" --max-memory=200M -- "$PY" "$T/sysv.py" 12 "$POLL_LIMIT" rmid64
check_eq "max-memory: a segment sent IPC_RMID with IPC_64 still counts (137)" 137 "$rc"
# Semaphores are kernel memory in no process: 32,000 (semmsl) take 2 MiB,
# and 1,024 sets of them 2 GiB. Made until the monitor stops it.
run "$o" "$e" "$INTERPOSE" --max-memory=64M -- "$PY" -c '
import ctypes, time
libc = ctypes.CDLL(None, use_errno=True)
for i in range(100):
    if libc.semget(0, 32000, 0o1600) < 0:  # IPC_PRIVATE, IPC_CREAT | 0600
        raise SystemExit("semget: errno %d" % ctypes.get_errno())
time.sleep('"$POLL_LIMIT"')
print("finished")'
check_eq "max-memory: System V semaphores count (137)" 137 "$rc"
before=$(ipcs -m | grep -c '^0x')
run "$o" "$e" "$INTERPOSE" -- "$PY" "$T/sysv.py" 3 0
check_eq "System V segments: the guest made them" "0 finished" "$rc $(tail -n 1 "$o")"
check_eq "System V segments: none outlives the session" "$before" "$(ipcs -m | grep -c '^0x')"
# Pages shared by a parent and its forked children count once.
run "$o" "$e" "$INTERPOSE" --max-memory=1G -- "$PY" -c '
import os, time
data = bytearray(300 << 20)
data[::4096] = b"\x01" * ((300 << 20) // 4096)
kids = []
for i in range(4):
    pid = os.fork()
    if pid == 0:
        time.sleep(1)
        os._exit(0)
    kids.append(pid)
for k in kids:
    os.waitpid(k, 0)
print("ok")'
# (5 x 300 MiB resident by RSS; about 330 MiB in fact.)
check_eq "max-memory: copy-on-write pages shared by 5 processes count once" "0 ok" "$rc $(cat "$o")"
# Zombies hold pids: they count as tasks.
run "$o" "$e" "$INTERPOSE" --max-procs=50 -- "$PY" -c '
import os, time
for i in range(500):
    if os.fork() == 0:
        os._exit(0)
    time.sleep(0.002)
time.sleep(2)
print("finished")'
check_eq "max-procs: unreaped zombies count (137)" 137 "$rc"

# Each fd the tree holds costs the monitor a stat in its pass over them,
# and a guest decides how many there are: one that raised its fd limit and
# forked made a pass last minutes, with no limit looked at meanwhile. A
# tree holding more than a pass may look at (131,072) is stopped as one
# that cannot be measured; one holding fewer, in a pass spread over the
# monitor's ticks, runs on.
cat >"$T/fds.py" <<'EOF'
import math, os, resource, signal, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
per = min(hard, 20000) - 64
resource.setrlimit(resource.RLIMIT_NOFILE, (per + 64, hard))
want = int(sys.argv[1])
for i in range(min(per, want)):
    os.dup(0)
for i in range(math.ceil(want / per) - 1):
    if os.fork() == 0:
        signal.pause()
print("holding", flush=True)
if sys.argv[2] == "forever":
    signal.pause()
time.sleep(float(sys.argv[2]))
print("finished")
EOF
run "$o" "$e" "$INTERPOSE" --audit="$T/fds.jsonl" --max-memory=1G -- "$PY" "$T/fds.py" 150000 forever
check_eq "max-memory: more fds than a pass may look at: stopped (137)" 137 "$rc"
check_match "...as a tree that cannot be measured" '"rule":"limit:measure","error":"the guest holds more than' \
  "$T/fds.jsonl"
check_true "...no guest process is left" no_guest_left "$T/fds.jsonl"
run "$o" "$e" "$INTERPOSE" --max-write=1G -- "$PY" "$T/fds.py" 60000 2
check_eq "max-write: 60,000 fds in a pass over many ticks: runs on" "0 holding finished" \
  "$rc $(tr '\n' ' ' <"$o" | sed 's/ $//')"

# --- --max-audit: refused calls in a loop do not fill the disk ---------------------------
run "$o" "$e" "$INTERPOSE" --audit="$T/a.jsonl" --max-audit=1M -- "$PY" -c '
import os
for i in range(200000):
    try:
        os.open("/etc/shadow", os.O_RDONLY)
    except OSError:
        pass
print("finished")'
check_eq "max-audit: the session is stopped (137)" 137 "$rc"
check_match "max-audit: says which limit" 'audit log grew past --max-audit \(1048576 bytes' "$e"
check_true "max-audit: the log stays near its limit" test "$(stat -c %s "$T/a.jsonl")" -lt 2000000
check_true "max-audit: and verifies" "$INTERPOSE" audit verify "$T/a.jsonl"
check_match "max-audit: its last word is why" '"rule":"limit:audit"' "$T/a.jsonl"

# --- core dumps: none, wherever the guest stands ----------------------------------
# The kernel writes a crashing process's core file into its cwd itself,
# past the sentry, the policy and --max-write. A guest that raises its core
# limit, enters a directory it may only read and crashes would write there.
cat >"$T/core.py" <<'EOF'
import os, resource, sys
try:
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    print("raised", flush=True)
except (ValueError, OSError):
    print("refused", flush=True)
os.chdir(sys.argv[1])
pid = os.fork()
if pid == 0:
    os.abort()
os.waitpid(pid, 0)
EOF
ro=$(mktemp -d /var/tmp/interpose-core.XXXXXX)
at_exit "rm -rf '$ro'"
chmod 0755 "$ro"
run "$o" "$e" "$INTERPOSE" --allow-read="$ro" -- "$PY" "$T/core.py" "$ro"
check_eq "core: the guest runs" 0 "$rc"
check_match "core: the guest cannot raise its core limit" '^refused$' "$o"
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
case $pattern in
  '|'* | */* | '')
    say "core_pattern is '$pattern' (a pipe or a path elsewhere): only the limit is checked here"
    ;;
  *)
    check_true "core: no core file in the read-only directory" test -z "$(ls -A "$ro")"
    # The control: natively the same program leaves one there (root may
    # raise its limit), so the check above can fail.
    if [ "$(id -u)" = 0 ]; then
      (cd "$T" && "$PY" "$T/core.py" "$ro" >/dev/null 2>&1)
      check_true "core: natively the crash leaves a core file there" test -n "$(ls -A "$ro")"
    fi
    ;;
esac

# --- malformed values ------------------------------------------------------------
for bad in --max-procs=0 --max-procs=x --max-memory=12Q --max-memory=-1 --max-fds= --max-write=0 --max-audit=1X \
  --timeout=5y --timeout=0 --timeout=-3; do
  run "$o" "$e" "$INTERPOSE" "$bad" -- true
  check_eq "$bad: refused" 125 "$rc"
  check_match "$bad: names the option" "${bad%%=*}" "$e"
done

finish
