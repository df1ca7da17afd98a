/* SPDX-License-Identifier: MIT */
/*
 * seccomp user-notification: the guest's filter returns
 * SECCOMP_RET_USER_NOTIF for trapped calls; the sentry receives them on the
 * listener fd, answers with a value, an errno or CONTINUE, and installs fds
 * with SECCOMP_IOCTL_NOTIF_ADDFD.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <poll.h>
#include <linux/audit.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <unistd.h>

#include "../sentry/util.h"
#include "../syscalls/filter.h"
#include "platform.h"
#include "seccomp_compat.h"

static long seccomp_raw(unsigned int op, unsigned int flags, void *arg)
{
        return syscall(SYS_seccomp, op, flags, arg);
}

int platform_prepare(struct platform *p, const struct platform_ops *ops, bool paths)
{
        struct seccomp_notif_sizes sizes;
        uint32_t action = ops == &platform_ptrace_ops ? SCMP_ACT_TRACE(0) : SCMP_ACT_NOTIFY;

        memset(p, 0, sizeof(*p));
        p->ops = ops;
        p->listener = -1;
        p->wake_fd = -1;
        p->paths = paths;
        if (ops == &platform_unotify_ops) {
                if (seccomp_raw(SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
                        return -errno;
                p->notif_size = sizes.seccomp_notif > sizeof(struct seccomp_notif)
                                        ? sizes.seccomp_notif
                                        : sizeof(struct seccomp_notif);
                p->resp_size = sizes.seccomp_notif_resp > sizeof(struct seccomp_notif_resp)
                                       ? sizes.seccomp_notif_resp
                                       : sizeof(struct seccomp_notif_resp);
        }
        return sys_filter_prebuilt(action, p->paths, &p->fprog);
}

static int unotify_guest_install(struct platform *p, int *ret_listener)
{
        unsigned int flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        long fd;

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        fd = seccomp_raw(SECCOMP_SET_MODE_FILTER, flags, p->fprog);
        if (fd < 0 && errno == EINVAL) {
                /* Kernels before 5.19 lack WAIT_KILLABLE_RECV. */
                flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
                fd = seccomp_raw(SECCOMP_SET_MODE_FILTER, flags, p->fprog);
        }
        if (fd < 0)
                return -errno;
        *ret_listener = (int)fd;
        return 0;
}

static int unotify_attach(struct platform *p, int listener)
{
        p->listener = listener;
        /* 6.6+: wake the guest on the sentry's CPU, which roughly halves the
         * round trip. Older kernels answer EINVAL; that is not an error. */
        p->sync_wakeup = ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
                               (unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0;
        return 0;
}

static int unotify_next(struct platform *p, struct platform_event *ev)
{
        union {
                struct seccomp_notif n;
                char pad[256];
        } buf;
        struct seccomp_notif *n = &buf.n;

        if (p->notif_size > sizeof(buf))
                return -EOVERFLOW;
        memset(&buf, 0, p->notif_size);
        if (__atomic_load_n(&p->asks_waiting, __ATOMIC_RELAXED) > 0) {
                /* Calls wait for a person's answer (approvals.c): their
                 * answer may come before the next call does. */
                struct pollfd pfd[2] = { { .fd = p->listener, .events = POLLIN },
                                         { .fd = p->wake_fd, .events = POLLIN } };
                if (poll(pfd, 2, -1) < 0 && errno != EINTR)
                        return -errno;
                if ((pfd[1].revents & POLLIN) || !(pfd[0].revents & (POLLIN | POLLHUP)))
                        return -EINTR;
        }
        while (ioctl(p->listener, SECCOMP_IOCTL_NOTIF_RECV, n) < 0) {
                struct pollfd pfd = { .fd = p->listener, .events = POLLIN };

                if (errno != ENOENT)
                        return -errno;
                /* ENOENT: the caller died before we got to it, or nobody
                 * uses the filter any more, and then RECV fails at once
                 * forever. Block until there is a notification; a hang-up
                 * without one means the guest is gone. */
                if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                        return -errno;
                if ((pfd.revents & POLLHUP) && !(pfd.revents & POLLIN))
                        return -ESHUTDOWN;
        }
        ev->id = n->id;
        ev->tid = (pid_t)n->pid;
        ev->arch = n->data.arch;
        ev->nr = n->data.nr;
        ev->ip = n->data.instruction_pointer;
        memcpy(ev->args, n->data.args, sizeof(ev->args));
        return 0;
}

static int unotify_respond(struct platform *p, const struct platform_event *ev, enum platform_answer how,
                           long value)
{
        struct seccomp_notif_resp r = { .id = ev->id };

        if (how == PLATFORM_CONTINUE)
                r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        else if (value < 0 && value >= -4095)
                r.error = (int32_t)value;
        else
                r.val = value;
        if (ioctl(p->listener, SECCOMP_IOCTL_NOTIF_SEND, &r) < 0)
                return -errno;
        return 0;
}

static bool unotify_valid(struct platform *p, const struct platform_event *ev)
{
        uint64_t id = ev->id;
        return ioctl(p->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/*
 * ADDFD wakes the caller with a plain wake-up, not the synchronous one an
 * answer uses, and then sleeps until the caller has installed the fd. This
 * CPU is busy with us, so the scheduler puts the caller on an idle CPU and
 * later wakes us back there: two cross-CPU wake-ups, each ~20 us in a VM
 * whose idle vCPUs halt (ADDFD took 45 us, 5 us with both on one CPU; an
 * open 58 us before, 23 us after). So for the ADDFD both threads are held
 * to the CPU we run on, the fd is added without answering, both masks are
 * put back, and the answer goes out with the synchronous wake-up. The
 * caller stays in the kernel until that answer (WAIT_KILLABLE_RECV), so
 * its user code never runs with the narrowed mask. A caller whose mask
 * excludes this CPU (taskset, cpuset) is left alone: plain ADDFD. A
 * serving thread already held to its CPU (sentry/serve.c) holds only the
 * caller.
 */
static __thread cpu_set_t own_mask;
static __thread int own_mask_gen = -1;

static bool hold_on_this_cpu(struct platform *p, pid_t tid, cpu_set_t *caller_mask)
{
        int gen = __atomic_load_n(&p->affinity_gen, __ATOMIC_ACQUIRE);
        cpu_set_t one;
        int cpu = sched_getcpu();

        if (cpu < 0 || cpu >= CPU_SETSIZE)
                return false;
        if (own_mask_gen != gen) {
                if (sched_getaffinity(0, sizeof(own_mask), &own_mask) < 0)
                        return false;
                own_mask_gen = gen;
        }
        if (sched_getaffinity(tid, sizeof(*caller_mask), caller_mask) < 0 || !CPU_ISSET(cpu, caller_mask))
                return false;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (sched_setaffinity(tid, sizeof(one), &one) < 0)
                return false;
        if (CPU_COUNT(&own_mask) > 1 && sched_setaffinity(0, sizeof(one), &one) < 0) {
                sched_setaffinity(tid, sizeof(*caller_mask), caller_mask);
                return false;
        }
        return true;
}

static void release_cpu(pid_t tid, const cpu_set_t *caller_mask)
{
        sched_setaffinity(tid, sizeof(*caller_mask), caller_mask);
        if (CPU_COUNT(&own_mask) > 1)
                sched_setaffinity(0, sizeof(own_mask), &own_mask);
}

static int unotify_install_fd(struct platform *p, const struct platform_event *ev, int fd,
                              unsigned int fd_flags, bool send)
{
        struct seccomp_notif_addfd a = {
                .id = ev->id,
                .flags = send ? SECCOMP_ADDFD_FLAG_SEND : 0,
                .srcfd = (uint32_t)fd,
                .newfd = 0,
                .newfd_flags = fd_flags,
        };
        cpu_set_t caller_mask;
        bool held = false;
        int r, err;

        /* The caller still waits (its tid is not another's by now): the
         * hold changes a thread's CPU mask. */
        if (send && p->sync_wakeup && unotify_valid(p, ev)) {
                pthread_rwlock_rdlock(&p->affinity_lock);
                held = hold_on_this_cpu(p, ev->tid, &caller_mask);
                if (!held)
                        pthread_rwlock_unlock(&p->affinity_lock);
        }
        if (held)
                a.flags = 0;
        r = ioctl(p->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
        err = errno;
        if (held) {
                release_cpu(ev->tid, &caller_mask);
                pthread_rwlock_unlock(&p->affinity_lock);
                if (r >= 0) {
                        int s = unotify_respond(p, ev, PLATFORM_RETURN, r);
                        if (s < 0)
                                return s;
                }
        }
        return r < 0 ? -err : r;
}

static void unotify_destroy(struct platform *p)
{
        if (p->listener >= 0)
                close(p->listener);
        p->listener = -1;
        sys_filter_free(p->fprog);
        p->fprog = NULL;
}

const struct platform_ops platform_unotify_ops = {
        .name = "seccomp-unotify",
        .guest_install = unotify_guest_install,
        .attach = unotify_attach,
        .next = unotify_next,
        .respond = unotify_respond,
        .valid = unotify_valid,
        .install_fd = unotify_install_fd,
        .destroy = unotify_destroy,
};

/* How many seccomp filters this process runs under, or -1 when the
 * kernel does not say. */
static int own_filters(void)
{
        char buf[4096];
        const char *p;

        if (read_file_at(AT_FDCWD, "/proc/self/status", buf, sizeof(buf)) <= 0)
                return -1;
        p = strstr(buf, "\nSeccomp_filters:");
        return p ? atoi(p + 17) : -1;
}

/* Why no platform can run beneath a filter that holds a listener. */
static int outer_listener(char *why, size_t cap)
{
        /* The kernel allows no second listener in a chain, and the outer
         * one's "notify" outranks our trace, so calls it notifies would
         * never reach our sentry: a policy of ours would silently not
         * hold. */
        snprintf(why, cap,
                 "an outer sandbox holds this process's seccomp listener (interpose inside interpose?): the "
                 "calls it traps would never reach this sentry, so no platform can confine here; run "
                 "interpose outside it");
        return -EBUSY;
}

/* In a child (which inherits whatever filters and listener run us), try
 * to install a listener: 0, or the errno it was refused with. */
static int listener_probe(void)
{
        struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
        struct sock_fprog prog = { .len = 1, .filter = allow };
        int st = 0;
        pid_t pid = fork();

        if (pid == 0) {
                long fd = -1;
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
                        fd = seccomp_raw(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
                _exit(fd >= 0 ? 0 : errno & 0x7f);
        }
        if (pid < 0)
                return errno;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return errno;
        return WIFEXITED(st) ? WEXITSTATUS(st) : EIO;
}

int platform_choose(const struct platform_ops **ret, char *why, size_t cap)
{
        unsigned int act = SECCOMP_RET_USER_NOTIF;
        int err;

        *ret = &platform_ptrace_ops;
        if (seccomp_raw(SECCOMP_GET_ACTION_AVAIL, 0, &act) < 0) {
                snprintf(why, cap, "this kernel has no seccomp user notification (%s)", strerror(errno));
                return 0;
        }
        /* No filter on us at all: nothing outside can hold a listener or
         * refuse one, and the kernel has the action. (The probe forks.) */
        if (own_filters() == 0) {
                *ret = &platform_unotify_ops;
                return 0;
        }
        err = listener_probe();
        if (err == 0) {
                *ret = &platform_unotify_ops;
                return 0;
        }
        if (err == EBUSY)
                return outer_listener(why, cap);
        snprintf(why, cap, "seccomp user notification is refused here (%s)", strerror(err));
        return 0;
}

int platform_outer_listener(char *why, size_t cap)
{
        if (own_filters() == 0 || listener_probe() != EBUSY)
                return 0;
        return outer_listener(why, cap);
}

int platform_probe(char *buf, size_t cap)
{
        struct seccomp_notif_sizes sizes;
        unsigned int act = SECCOMP_RET_USER_NOTIF;
        bool notif = seccomp_raw(SECCOMP_GET_ACTION_AVAIL, 0, &act) == 0 &&
                     seccomp_raw(SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0;
        int n = snprintf(buf, cap, "seccomp user notification: %s", notif ? "available" : "unavailable");
        return n < 0 ? -EINVAL : (notif ? 0 : -ENOSYS);
}
