#!/usr/bin/python3.11
"""System V IPC probes for ipc.sh, made with raw syscalls so that libc
cannot add or drop command bits. Each prints what the calls answered
(an id, or the errno's name); KIND is m, s or q (shm, sem, msg).

  rmid64            one object of each kind, then ctl(id, IPC_RMID|IPC_64)
"""
import ctypes
import errno
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


if sys.argv[1] == "rmid64":
    rmid64()
