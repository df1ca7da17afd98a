/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every library: ownership, allocation, errors. */
#pragma once

#include <setjmp.h>
#include <signal.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

static inline void freep(void *p)
{
        free(*(void **)p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))

/* Move ownership out of a cleanup variable: the variable becomes NULL / -1. */
#define TAKE_PTR(p)                        \
        ({                                 \
                __typeof__(p) *_pp = &(p); \
                __typeof__(p) _v = *_pp;   \
                *_pp = NULL;               \
                _v;                        \
        })
#define TAKE_FD(fd)                \
        ({                         \
                int *_pfd = &(fd); \
                int _v = *_pfd;    \
                *_pfd = -1;        \
                _v;                \
        })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation failure is not recoverable: abort with a message. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *old, size_t n);
char *xstrdup(const char *s);
/* The length of the valid UTF-8 sequence at s, its code point in *cp: 1
 * for ASCII, 0 for what is not one (an overlong form, a surrogate, past
 * U+10FFFF, cut short). */
size_t utf8_decode(const unsigned char *s, uint32_t *cp);

/* Write all of buf, retrying on EINTR and short writes; 0 or -errno. */
int write_all(int fd, const void *buf, size_t n);

/* A detached thread running fn(arg) on a stack of stack bytes (the
 * sentry's threads are small and many: the default 8 MiB each would be
 * its resident memory's worst case). Its id in *th if th is not NULL.
 * 0 or -errno. */
int start_thread(pthread_t *th, size_t stack, void *(*fn)(void *), void *arg);

/* The kernel's path of fd (a readlink of /proc/self/fd/N): 0 or -errno. */
int fd_path(int fd, char *buf, size_t cap);

struct nlmsghdr;
/* One sock_diag dump on the NETLINK_SOCK_DIAG socket fd: req (len bytes,
 * what follows the netlink header) sent, each answer handed to each. 0
 * once the dump is whole, -errno (-EIO for the kernel's error) else. */
int sock_diag_dump(int fd, const void *req, size_t len, void (*each)(const struct nlmsghdr *h, void *arg),
                   void *arg);

/* Read a small file (< cap bytes) into buf, NUL-terminated; length or -errno. */
ssize_t read_file_at(int dirfd, const char *path, char *buf, size_t cap);

/* interpose's state directory, where the sessions' audit logs go:
 * $XDG_STATE_HOME/interpose, else ~/.local/state/interpose. 0, or -ENOENT
 * when neither variable names an absolute path. */
int interpose_state_dir(char *buf, size_t cap);

/* One message on a unix socket, with fd passed as SCM_RIGHTS when it is
 * not -1. The bytes sent, or -errno. */
ssize_t send_with_fd(int sock, const void *buf, size_t len, int fd);

/* One message, and the one fd it may carry (O_CLOEXEC) in *ret_fd, or -1.
 * The bytes received (0: the peer is gone), or -errno. */
ssize_t recv_with_fd(int sock, void *buf, size_t len, int *ret_fd);

/* --- crash.c --- */

/* Install handlers that print a backtrace of this process (WHO: "sentry",
 * "launcher", "gofer"; libunwind) on a fatal signal, on stderr and into
 * AUDIT_NAME.crash.txt in dirfd (when dirfd >= 0), and exit 125. */
void interpose_crash_handlers(const char *who, int dirfd, const char *audit_name);
/* A thread started after interpose_crash_handlers: its own alternate
 * signal stack, so a fault in it is reported too. */
void interpose_crash_thread(void);

/* The fault signals those handlers take (nobody else may read them). */
void interpose_fault_signals(sigset_t *set);

/* This thread runs code that may fault on untrusted input: a fault
 * siglongjmps to jb (with the signal) instead of ending the process;
 * NULL: faults are crashes again. */
void interpose_crash_escape(sigjmp_buf *jb);
