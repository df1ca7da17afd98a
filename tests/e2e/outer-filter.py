#!/usr/bin/python3.11
"""Write the seccomp programs tests/e2e/nested.sh runs interpose beneath,
as a host's own sandbox would load them (compiled with libseccomp):

    outer-filter.py PLAIN NOLISTENER

PLAIN allows every call but acct(2) (EPERM). NOLISTENER also refuses
SECCOMP_FILTER_FLAG_NEW_LISTENER (EPERM), as a stricter sandbox might.
"""
import ctypes
import os
import sys

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_ACT_EPERM = 0x00050000 | 1
SCMP_CMP_MASKED_EQ = 7
NEW_LISTENER = 8


class Cmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


lib = ctypes.CDLL("libseccomp.so.2")
lib.seccomp_init.restype = ctypes.c_void_p
for path, listeners in ((sys.argv[1], True), (sys.argv[2], False)):
    ctx = ctypes.c_void_p(lib.seccomp_init(ctypes.c_uint32(SCMP_ACT_ALLOW)))
    assert lib.seccomp_rule_add(ctx, ctypes.c_uint32(SCMP_ACT_EPERM),
                                lib.seccomp_syscall_resolve_name(b"acct"), 0) == 0
    if not listeners:
        cmp = Cmp(1, SCMP_CMP_MASKED_EQ, NEW_LISTENER, NEW_LISTENER)
        assert lib.seccomp_rule_add_array(ctx, ctypes.c_uint32(SCMP_ACT_EPERM),
                                          lib.seccomp_syscall_resolve_name(b"seccomp"),
                                          1, ctypes.byref(cmp)) == 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    assert lib.seccomp_export_bpf(ctx, fd) == 0
    os.close(fd)
