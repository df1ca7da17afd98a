/* SPDX-License-Identifier: MIT */
/*
 * Tracing and cross-process memory, own tree only. process_vm_readv and
 * process_vm_writev are performed by the sentry through /proc/<pid>/mem
 * opened on a checked pidfd, so a reused pid is never read or written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../sentry/sentry.h"
#include "../sentry/util.h"
#include "handlers.h"

#define IOV_MAX_GUEST 1024
#define VM_CHUNK (64 * 1024)

static long refuse(struct sentry_call *c, const char *rule, long err)
{
        sentry_decide(c, "deny", rule);
        return err;
}

/* On the ptrace platform the sentry traces every guest thread already,
 * so no guest can be the kernel's tracer of anything: the platform
 * emulates ptrace for the guest's own tree (platform/ptrace.c). */
static long emulated(struct sentry_call *c)
{
        const struct platform_ops *o = c->s->plat.ops;

        if (!o->guest_ptrace)
                return SENTRY_CONTINUE;
        return o->guest_ptrace(&c->s->plat, &c->ev);
}

long sys_ptrace(struct sentry_call *c, long request, int pid, uint64_t addr, uint64_t data)
{
        _cleanup_close_ int pidfd = -1;
        (void)addr, (void)data;

        /* TRACEME makes the parent the tracer: for the first guest process
         * that is the sentry, which is nobody's debugger. */
        if (request == PTRACE_TRACEME) {
                pid_t ppid = 0;
                if (sentry_proc_stat(-1, sentry_caller_tgid(c), &ppid, NULL, NULL, NULL) == 0 &&
                    ppid == c->s->self)
                        return refuse(c, "own-tree", -EPERM);
                return emulated(c);
        }
        /* Every other request needs the caller to be the tracer already,
         * which only ATTACH, SEIZE or TRACEME (to its own parent) make. */
        if (request != PTRACE_ATTACH && request != PTRACE_SEIZE)
                return emulated(c);
        pidfd = sentry_tree_pidfd(c->s, pid, true);
        if (pidfd < 0) {
                sentry_decide(c, "deny", "own-tree");
                return -ESRCH;
        }
        return emulated(c);
}

/* A guest tracer's waits: on the ptrace platform its tracees' stops come
 * from the emulation; elsewhere, and for everyone else, the kernel's. */
static long guest_wait(struct sentry_call *c)
{
        const struct platform_ops *o = c->s->plat.ops;
        bool answered = false;
        long r;

        if (!o->guest_wait)
                return SENTRY_CONTINUE;
        r = o->guest_wait(&c->s->plat, &c->ev, &answered);
        if (r == PLATFORM_PASS)
                return SENTRY_CONTINUE;
        if (!answered)
                return r;
        c->done = r;
        c->done_known = r != PLATFORM_PARKED;
        return SENTRY_DONE;
}

long sys_wait4(struct sentry_call *c, int pid, uint64_t status, uint64_t options, uint64_t rusage)
{
        (void)pid, (void)status, (void)options, (void)rusage;
        return guest_wait(c);
}

long sys_waitid(struct sentry_call *c, int idtype, int id, uint64_t info, uint64_t options, uint64_t rusage)
{
        (void)idtype, (void)id, (void)info, (void)options, (void)rusage;
        return guest_wait(c);
}

static int read_iov(struct sentry_call *c, uint64_t addr, uint64_t cnt, struct iovec **ret)
{
        struct iovec *v;
        int r;

        if (cnt > IOV_MAX_GUEST)
                return -EINVAL;
        v = xcalloc(cnt, sizeof(*v));
        r = sentry_read(c, v, addr, cnt * sizeof(*v));
        if (r < 0) {
                free(v);
                return r;
        }
        *ret = v;
        return 0;
}

/* Copy between the caller's local iovecs and the target's remote ones,
 * through the target's mem file. Returns bytes moved or -errno, with the
 * same partial-transfer rule as the kernel: stop at the first fault. */
static long vm_copy(struct sentry_call *c, int memfd, struct iovec *lv, uint64_t ln, struct iovec *rv,
                    uint64_t rn, bool write)
{
        _cleanup_free_ char *buf = xmalloc(VM_CHUNK);
        uint64_t li = 0, lo = 0, total = 0;

        for (uint64_t ri = 0; ri < rn; ri++) {
                uint64_t ro = 0;
                while (ro < rv[ri].iov_len) {
                        size_t n = rv[ri].iov_len - ro;
                        uint64_t raddr = (uint64_t)(uintptr_t)rv[ri].iov_base + ro;
                        ssize_t got;

                        while (li < ln && lo == lv[li].iov_len)
                                li++, lo = 0;
                        if (li == ln)
                                return (long)total;
                        if (n > lv[li].iov_len - lo)
                                n = lv[li].iov_len - lo;
                        if (n > VM_CHUNK)
                                n = VM_CHUNK;
                        uint64_t laddr = (uint64_t)(uintptr_t)lv[li].iov_base + lo;
                        if (write) {
                                if (sentry_read(c, buf, laddr, n) < 0)
                                        return total ? (long)total : -EFAULT;
                                got = pwrite(memfd, buf, n, (off_t)raddr);
                        } else {
                                got = pread(memfd, buf, n, (off_t)raddr);
                                if (got > 0 && sentry_write(c, laddr, buf, (size_t)got) < 0)
                                        return total ? (long)total : -EFAULT;
                        }
                        if (got <= 0)
                                return total ? (long)total : -EFAULT;
                        total += (uint64_t)got;
                        lo += (uint64_t)got;
                        ro += (uint64_t)got;
                        if ((size_t)got < n)
                                return (long)total;
                }
        }
        return (long)total;
}

static long vm_rw(struct sentry_call *c, int pid, uint64_t lvec, uint64_t ln, uint64_t rvec, uint64_t rn,
                  uint64_t flags, bool write)
{
        _cleanup_close_ int pidfd = -1, procfd = -1, memfd = -1;
        _cleanup_free_ struct iovec *lv = NULL, *rv = NULL;
        int r;

        if (flags)
                return -EINVAL;
        pidfd = sentry_tree_procfd(c->s, pid, &procfd);
        if (pidfd < 0) {
                sentry_decide(c, "deny", "own-tree");
                return -ESRCH;
        }
        memfd = openat(procfd, "mem", (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
        if (memfd < 0)
                return errno == ENOENT ? -ESRCH : -EPERM;
        r = read_iov(c, lvec, ln, &lv);
        if (r < 0)
                return r;
        r = read_iov(c, rvec, rn, &rv);
        if (r < 0)
                return r;
        return vm_copy(c, memfd, lv, ln, rv, rn, write);
}

long sys_process_vm_readv(struct sentry_call *c, int pid, uint64_t lvec, uint64_t liovcnt, uint64_t rvec,
                          uint64_t riovcnt, uint64_t flags)
{
        return vm_rw(c, pid, lvec, liovcnt, rvec, riovcnt, flags, false);
}

long sys_process_vm_writev(struct sentry_call *c, int pid, uint64_t lvec, uint64_t liovcnt, uint64_t rvec,
                           uint64_t riovcnt, uint64_t flags)
{
        return vm_rw(c, pid, lvec, liovcnt, rvec, riovcnt, flags, true);
}
