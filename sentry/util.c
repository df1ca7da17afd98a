/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <fcntl.h>
#include <stdio.h>

static void oom(void)
{
        static const char msg[] = "interpose: out of memory\n";
        (void)!write(2, msg, sizeof(msg) - 1);
        abort();
}

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                oom();
        return p;
}

void *xcalloc(size_t n, size_t m)
{
        void *p = calloc(n ? n : 1, m ? m : 1);
        if (!p)
                oom();
        return p;
}

void *xrealloc(void *old, size_t n)
{
        void *p = realloc(old, n ? n : 1);
        if (!p)
                oom();
        return p;
}

char *xstrdup(const char *s)
{
        char *p = strdup(s);
        if (!p)
                oom();
        return p;
}

int write_all(int fd, const void *buf, size_t n)
{
        const char *p = buf;
        while (n > 0) {
                ssize_t w = write(fd, p, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

ssize_t read_file_at(int dirfd, const char *path, char *buf, size_t cap)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        size_t len = 0;

        if (fd < 0)
                return -errno;
        while (len + 1 < cap) {
                ssize_t r = read(fd, buf + len, cap - 1 - len);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0)
                        break;
                len += (size_t)r;
        }
        buf[len] = '\0';
        return (ssize_t)len;
}
