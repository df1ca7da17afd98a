/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
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

size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
        size_t n;

        if (s[0] < 0x80) {
                *cp = s[0];
                return 1;
        }
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2, *cp = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                n = 3, *cp = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                n = 4, *cp = s[0] & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                *cp = *cp << 6 | (s[i] & 0x3f);
        }
        if ((n == 3 && *cp < 0x800) || (n == 4 && *cp < 0x10000) || *cp > 0x10ffff ||
            (*cp >= 0xd800 && *cp <= 0xdfff))
                return 0;
        return n;
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

int start_thread(pthread_t *th, size_t stack, void *(*fn)(void *), void *arg)
{
        pthread_attr_t attr;
        pthread_t own;
        int r;

        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, stack);
        r = pthread_create(th ? th : &own, &attr, fn, arg);
        pthread_attr_destroy(&attr);
        return -r;
}

int fd_path(int fd, char *buf, size_t cap)
{
        char proc[64];
        ssize_t n;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = readlink(proc, buf, cap - 1);
        if (n < 0)
                return -errno;
        if ((size_t)n >= cap - 1)
                return -ENAMETOOLONG;
        buf[n] = '\0';
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

ssize_t send_with_fd(int sock, const void *buf, size_t len, int fd)
{
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } u;
        struct iovec iov = { (void *)buf, len };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        memset(&u, 0, sizeof(u));
        if (fd >= 0) {
                struct cmsghdr *c;
                m.msg_control = u.buf;
                m.msg_controllen = sizeof(u.buf);
                c = CMSG_FIRSTHDR(&m);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        n = sendmsg(sock, &m, MSG_NOSIGNAL);
        return n < 0 ? -errno : n;
}

ssize_t recv_with_fd(int sock, void *buf, size_t len, int *ret_fd)
{
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } u;
        struct iovec iov = { buf, len };
        struct msghdr m = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)
        };
        struct cmsghdr *c;
        ssize_t n;

        *ret_fd = -1;
        n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
        if (n < 0)
                return -errno;
        for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
                    c->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
        return n;
}

int interpose_state_dir(char *buf, size_t cap)
{
        const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

        if (state && *state == '/')
                snprintf(buf, cap, "%s/interpose", state);
        else if (home && *home == '/')
                snprintf(buf, cap, "%s/.local/state/interpose", home);
        else
                return -ENOENT;
        return 0;
}

int sock_diag_dump(int fd, const void *req, size_t len, void (*each)(const struct nlmsghdr *h, void *arg),
                   void *arg)
{
        struct {
                struct nlmsghdr h;
                char body[64];
        } m = { .h = { .nlmsg_len = (uint32_t)NLMSG_LENGTH(len),
                       .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP } };
        struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
        _cleanup_free_ char *buf = NULL;
        enum { BUF = 32768 };

        if (len > sizeof(m.body))
                return -EINVAL;
        memcpy(m.body, req, len);
        if (sendto(fd, &m, m.h.nlmsg_len, 0, (struct sockaddr *)&nl, sizeof(nl)) < 0)
                return -errno;
        buf = xmalloc(BUF);
        for (;;) {
                ssize_t n = recv(fd, buf, BUF, 0);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
                     h = NLMSG_NEXT(h, n)) {
                        if (h->nlmsg_type == NLMSG_DONE)
                                return 0;
                        if (h->nlmsg_type == NLMSG_ERROR)
                                return -EIO;
                        each(h, arg);
                }
        }
}
