#!/usr/bin/python3.11
"""System V IPC probes for ipc.sh, made with raw syscalls so that libc
cannot add or drop command bits. Each prints what the calls answered
(an id, or the errno's name); KIND is m, s or q (shm, sem, msg).

  rmid64            one object of each kind, then ctl(id, IPC_RMID|IPC_64)
  fill KIND N P     P processes at once each make up to N objects
  probe KIND KEY    a get of the object under KEY asking what it cannot give
"""
import ctypes
import errno
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
IPC_PRIVATE, IPC_CREAT, IPC_RMID, IPC_64 = 0, 0o1000, 0, 0x100


def sc(*args):
    r = libc.syscall(*[ctypes.c_long(a) for a in args])
    return r if r >= 0 else errno.errorcode[ctypes.get_errno()]


def get(kind, key, arg, flags):
    if kind == "m":
        return sc(29, key, arg, flags)  # shmget
    if kind == "s":
        return sc(64, key, arg, flags)  # semget
    return sc(68, key, flags)  # msgget


def ctl(kind, ident, cmd):
    if kind == "m":
        return sc(31, ident, cmd, 0)  # shmctl
    if kind == "s":
        return sc(66, ident, 0, cmd, 0)  # semctl
    return sc(71, ident, cmd, 0)  # msgctl


def make(kind):
    return get(kind, IPC_PRIVATE, 1 << 20 if kind == "m" else 1, IPC_CREAT | 0o600)


def rmid64():
    for kind in "msq":
        ident = make(kind)
        print(kind, ident, ctl(kind, ident, IPC_RMID | IPC_64))


def fill(kind, n, procs):
    """Each process prints the ids it made, then "end" and what stopped it.
    A keyed object made first must still be found once the rest is made,
    and no new key be made: a last line "keyed ID same ERRNO" says so."""
    key = 0x51500000 | (os.getpid() & 0xFFFF)
    mine = get(kind, key, 1, IPC_CREAT | 0o600)
    pids = []
    for _ in range(procs):
        pid = os.fork()
        if pid == 0:
            made = [make(kind) for _ in range(n)]
            ids = [r for r in made if isinstance(r, int)]
            errs = [r for r in made if not isinstance(r, int)]
            line = " ".join(map(str, ids + ["end", errs[0] if errs else "none"]))
            os.write(1, (line + "\n").encode())  # one write: the lines do not mix
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    again = get(kind, key, 1, IPC_CREAT | 0o600)
    new = get(kind, key + 1, 1, IPC_CREAT | 0o600)
    print("keyed", mine, "same" if again == mine else again, new)


def probe(kind, key):
    # More than the object has, and execute permission, which no one is
    # granted without CAP_IPC_OWNER.
    print(get(kind, key, 1 << 30 if kind == "m" else 1000, 0o001))


cmd = sys.argv[1]
if cmd == "rmid64":
    rmid64()
elif cmd == "fill":
    fill(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
else:
    probe(sys.argv[2], int(sys.argv[3], 0))
