/* SPDX-License-Identifier: MIT */
/*
 * A platform traps the guest's syscalls and gives the sentry a uniform way
 * to see them, read and write the calling task's memory, answer them and
 * install file descriptors. seccomp-unotify is the default; a ptrace
 * platform implements the same operations where user notification is
 * missing.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One trapped syscall, as the platform saw it. */
struct platform_event {
        uint64_t id;      /* platform cookie for this call */
        pid_t tid;        /* the calling thread */
        uint32_t arch;    /* AUDIT_ARCH_* of the call */
        int nr;           /* syscall number as the filter saw it */
        uint64_t args[6]; /* register snapshot: immutable, safe to decide on */
        uint64_t ip;
};

/* What a tracing platform's guest_ptrace and guest_wait may return beyond
 * values and negative errnos. */
#define PLATFORM_PASS (-(1L << 20))       /* let the kernel run the call as made */
#define PLATFORM_PARKED (-(1L << 20) - 1) /* answered later, by the platform */

enum platform_answer {
        PLATFORM_RETURN,   /* complete the call with a value or -errno */
        PLATFORM_CONTINUE, /* let the kernel run the call as made */
};

struct platform;

struct platform_ops {
        const char *name;
        bool tracer; /* the sentry traces the guest (ptrace): it reaps and waits through the platform */
        /* Guest side, after fork and before exec: load the filter. For
         * seccomp-unotify *ret_listener gets the notification fd. 0 or -errno. */
        int (*guest_install)(struct platform *p, int *ret_listener);
        /* Sentry side, right after forking the first guest process and
         * before it loads the filter (may be NULL). 0 or -errno. */
        int (*adopt)(struct platform *p, pid_t guest);
        /* Sentry side: adopt the listener received from the guest (-1 for
         * a platform without one). */
        int (*attach)(struct platform *p, int listener);
        /* Block for the next trapped call. 0, -EINTR, -ENOENT (caller gone;
         * try again) or -errno (platform dead: fail closed). */
        int (*next)(struct platform *p, struct platform_event *ev);
        /* Answer a call. 0 or -errno; -ENOENT when the caller is gone. */
        int (*respond)(struct platform *p, const struct platform_event *ev, enum platform_answer how,
                       long value);
        /* True while the call is still pending (the tid is still the caller). */
        bool (*valid)(struct platform *p, const struct platform_event *ev);
        /* Install host fd into the caller; with send, this also answers the
         * call with the new fd number. New fd number or -errno. */
        int (*install_fd)(struct platform *p, const struct platform_event *ev, int fd, unsigned int fd_flags,
                          bool send);
        /* A tracing platform emulates the guest's own ptrace (NULL
         * elsewhere, where the kernel's works): ev is the guest's ptrace
         * call. The value or -errno to answer with. */
        long (*guest_ptrace)(struct platform *p, const struct platform_event *ev);
        /* ev is a guest's wait4 or waitid: PLATFORM_PASS (the kernel's
         * wait will do), or the answer; with *answered set the platform
         * gave it already (PLATFORM_PARKED: it will, later). */
        long (*guest_wait)(struct platform *p, const struct platform_event *ev, bool *answered);
        void (*destroy)(struct platform *p);
};

struct platform {
        const struct platform_ops *ops;
        int listener;
        bool sync_wakeup;  /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP in effect */
        size_t notif_size; /* kernel's struct seccomp_notif size */
        size_t resp_size;
        struct sock_fprog *fprog; /* the guest filter, built before fork */
        bool paths;               /* path calls trapped for the gofer (a policy is in force) */
        /* Approvals (sentry/approvals.c): while asks_waiting calls are
         * parked, next() also returns -EINTR when wake_fd (an eventfd, or
         * -1) is readable; redo is set when answered calls wait to be
         * decided again. */
        int wake_fd;
        int asks_waiting;
        int redo;
        /* A tracing platform reports each child's end here (from next()). */
        void (*on_exit)(void *ctx, pid_t pid, int status);
        void *on_exit_ctx;
        /* Bumped when a serving thread's CPU affinity changes (sentry/
         * serve.c): what the platform remembered of it is stale. */
        int affinity_gen;
        /* Held shared while an fd is installed with the caller held to one
         * CPU (unotify), exclusive by whoever sets or reads another
         * thread's CPU mask: never inside that instant (sys_sched_affinity). */
        pthread_rwlock_t affinity_lock;
};

/* The seccomp user-notification platform. */
extern const struct platform_ops platform_unotify_ops;
/* The ptrace platform (SECCOMP_RET_TRACE): where user notification is
 * missing or refused. */
extern const struct platform_ops platform_ptrace_ops;

/* The platform for --platform=auto: seccomp-unotify when this kernel has
 * it and a process here may install a listener, else ptrace, with the
 * reason in why. -EBUSY (why says it) when an outer filter holds a
 * listener: see platform_outer_listener. */
int platform_choose(const struct platform_ops **ret, char *why, size_t cap);

/* 0, or -EBUSY with the reason in why when a seccomp filter outside us has
 * a listener. Its "notify" answers outrank a trace, and it allows no second
 * listener: calls it traps would never reach our sentry, so neither
 * platform may run beneath it. */
int platform_outer_listener(char *why, size_t cap);

/* Build the filter for platform p (before forking the guest). 0 or -errno. */
int platform_prepare(struct platform *p, const struct platform_ops *ops, bool paths);

/* Report what the running kernel offers ("seccomp-unotify: yes, sync
 * wake-up: yes ..."), for --version and error messages. */
int platform_probe(char *buf, size_t cap);

/* Read n bytes at addr in the calling task, then confirm the call is still
 * pending, so the bytes belong to the task that made it. 0, -EFAULT, or
 * -ESRCH when the call went away. */
int platform_read(struct platform *p, const struct platform_event *ev, void *dst, uint64_t addr, size_t n);

/* Read a NUL-terminated string of at most cap-1 bytes. Length, -EFAULT,
 * -ENAMETOOLONG or -ESRCH. */
ssize_t platform_read_str(struct platform *p, const struct platform_event *ev, char *dst, uint64_t addr,
                          size_t cap);

/* Write n bytes at addr in the calling task. 0 or -EFAULT/-ESRCH. */
int platform_write(struct platform *p, const struct platform_event *ev, uint64_t addr, const void *src,
                   size_t n);
