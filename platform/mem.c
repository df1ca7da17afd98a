/* SPDX-License-Identifier: MIT */
/*
 * Guest memory access. Every read is followed by a validity check of the
 * call: the tid in a notification may have exited and been reused between
 * the trap and the read, and only a still-pending call proves the bytes came
 * from the task that made it.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "platform.h"

#define PAGE 4096u

static int vm_read(pid_t tid, void *dst, uint64_t addr, size_t n)
{
        struct iovec l = { dst, n }, r = { (void *)(uintptr_t)addr, n };
        ssize_t got = process_vm_readv(tid, &l, 1, &r, 1, 0);

        if (got < 0)
                return errno == ESRCH ? -ESRCH : -EFAULT;
        return (size_t)got == n ? 0 : -EFAULT;
}

int platform_read(struct platform *p, const struct platform_event *ev, void *dst, uint64_t addr, size_t n)
{
        int r;

        if (n == 0)
                return 0;
        if (addr + n < addr)
                return -EFAULT;
        r = vm_read(ev->tid, dst, addr, n);
        if (!p->ops->valid(p, ev))
                return -ESRCH;
        return r;
}

ssize_t platform_read_str(struct platform *p, const struct platform_event *ev, char *dst, uint64_t addr,
                          size_t cap)
{
        size_t len = 0;

        if (cap == 0)
                return -ENAMETOOLONG;
        /* Page by page, so a string that ends just before an unmapped page
         * reads as it would in the kernel. */
        while (len < cap) {
                size_t chunk = PAGE - (size_t)((addr + len) % PAGE);
                char *nul;
                int r;

                if (chunk > cap - len)
                        chunk = cap - len;
                r = vm_read(ev->tid, dst + len, addr + len, chunk);
                if (r < 0) {
                        if (!p->ops->valid(p, ev))
                                return -ESRCH;
                        return r;
                }
                nul = memchr(dst + len, '\0', chunk);
                if (nul) {
                        if (!p->ops->valid(p, ev))
                                return -ESRCH;
                        return nul - dst;
                }
                len += chunk;
        }
        dst[cap - 1] = '\0';
        return p->ops->valid(p, ev) ? -ENAMETOOLONG : -ESRCH;
}

int platform_write(struct platform *p, const struct platform_event *ev, uint64_t addr, const void *src,
                   size_t n)
{
        struct iovec l = { (void *)src, n }, r = { (void *)(uintptr_t)addr, n };
        ssize_t put;

        if (n == 0)
                return 0;
        /* Check first: writing into a reused tid would hit another task. */
        if (!p->ops->valid(p, ev))
                return -ESRCH;
        put = process_vm_writev(ev->tid, &l, 1, &r, 1, 0);
        if (put < 0)
                return errno == ESRCH ? -ESRCH : -EFAULT;
        return (size_t)put == n ? 0 : -EFAULT;
}
