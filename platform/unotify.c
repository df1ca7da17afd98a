/* SPDX-License-Identifier: MIT */
/*
 * seccomp user-notification: the guest's filter returns
 * SECCOMP_RET_USER_NOTIF for trapped calls; the sentry receives them on the
 * listener fd, answers with a value, an errno or CONTINUE, and installs fds
 * with SECCOMP_IOCTL_NOTIF_ADDFD.
 */
#include <errno.h>
#include <poll.h>
#include <linux/audit.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
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
        uint32_t action = SCMP_ACT_NOTIFY;

        memset(p, 0, sizeof(*p));
        p->ops = ops;
        p->listener = -1;
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
        int r = ioctl(p->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
        return r < 0 ? -errno : r;
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

int platform_probe(char *buf, size_t cap)
{
        struct seccomp_notif_sizes sizes;
        unsigned int act = SECCOMP_RET_USER_NOTIF;
        bool notif = seccomp_raw(SECCOMP_GET_ACTION_AVAIL, 0, &act) == 0 &&
                     seccomp_raw(SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0;
        int n = snprintf(buf, cap, "seccomp user notification: %s", notif ? "available" : "unavailable");
        return n < 0 ? -EINVAL : (notif ? 0 : -ENOSYS);
}
