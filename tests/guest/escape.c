/* SPDX-License-Identifier: MIT */
/*
 * guest-escape CASE: one escape hatch per run (DESIGN.md invariant 7).
 *
 * Each case makes the raw call with arguments that make it fail harmlessly
 * on the host (bad pointers, bad fds, invalid flags: bubblewrap's
 * try-syscall.c trick), so the native run proves nothing is touched and
 * records what the kernel says. Confined, the call must fail with the
 * errno the syscall table gives, and tests/run-guest checks that the audit
 * log shows the sentry's "deny": a protection that is removed (the kernel
 * answering on its own) fails on the errno, or on the missing record.
 *
 * Cases that a native run cannot make harmless (vhangup; namespaces, which
 * only affect a child we throw away) are noted where they appear.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pty.h>
#include <sched.h>
#include <sys/syscall.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include "guest.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define BAD ((long)1) /* an unmapped address: EFAULT wherever it is read */

enum { NATIVE_FAILS = 0, NATIVE_ANY = 1, NATIVE_SKIP = 2 };

struct hatch {
        const char *name;
        long nr;
        long a[6];
        int err;    /* errno under interpose */
        int native; /* what the native run may do */
};

/* Arguments chosen to fail on the host: see each comment. */
static const struct hatch hatches[] = {
        { "io_uring_setup", 425, { 1, BAD }, ENOSYS, NATIVE_FAILS },            /* EFAULT */
        { "io_uring_enter", 426, { -1, 0, 0, 0, 0, 0 }, ENOSYS, NATIVE_FAILS }, /* EBADF */
        { "io_uring_register", 427, { -1, 0, 0, 0 }, ENOSYS, NATIVE_FAILS },
        { "bpf", 321, { 0, BAD, 8 }, ENOSYS, NATIVE_FAILS },   /* EFAULT / EPERM */
        { "userfaultfd", 323, { ~0L }, ENOSYS, NATIVE_FAILS }, /* EINVAL */
        { "perf_event_open", 298, { BAD, 0, -1, -1, 0 }, ENOSYS, NATIVE_FAILS },
        { "keyctl", 250, { -1 }, ENOSYS, NATIVE_FAILS }, /* EOPNOTSUPP */
        { "add_key", 248, { BAD, BAD, 0, 0, 0 }, ENOSYS, NATIVE_FAILS },
        { "request_key", 249, { BAD, BAD, 0, 0 }, ENOSYS, NATIVE_FAILS },
        { "mount", 165, { BAD, BAD, BAD, 0, 0 }, EPERM, NATIVE_FAILS },
        { "umount2", 166, { BAD, 0 }, EPERM, NATIVE_FAILS },
        { "pivot_root", 155, { BAD, BAD }, EPERM, NATIVE_FAILS },
        { "open_tree", 428, { -1, BAD, 0 }, EPERM, NATIVE_FAILS },
        { "move_mount", 429, { -1, BAD, -1, BAD, 0 }, EPERM, NATIVE_FAILS },
        { "fsopen", 430, { BAD, 0 }, EPERM, NATIVE_FAILS },
        { "fsconfig", 431, { -1, 0, 0, 0, 0 }, EPERM, NATIVE_FAILS },
        { "fsmount", 432, { -1, 0, 0 }, EPERM, NATIVE_FAILS },
        { "fspick", 433, { -1, BAD, 0 }, EPERM, NATIVE_FAILS },
        { "mount_setattr", 442, { -1, BAD, 0, BAD, 0 }, EPERM, NATIVE_FAILS },
        { "open_tree_attr", 467, { -1, BAD, 0, BAD, 0 }, EPERM, NATIVE_FAILS },
        { "statmount", 457, { BAD, BAD, 0, 0 }, EPERM, NATIVE_FAILS },
        { "listmount", 458, { BAD, BAD, 0, 0 }, EPERM, NATIVE_FAILS },
        { "setns", 308, { -1, 0 }, EPERM, NATIVE_FAILS },                /* EBADF */
        { "kexec_load", 246, { 0, 1000, BAD, 0 }, EPERM, NATIVE_FAILS }, /* EINVAL: > 16 segments */
        { "kexec_file_load", 320, { -1, -1, 0, BAD, ~0L }, EPERM, NATIVE_FAILS },
        { "init_module", 175, { BAD, 0, BAD }, EPERM, NATIVE_FAILS },
        { "finit_module", 313, { -1, BAD, 0 }, EPERM, NATIVE_FAILS },
        { "delete_module", 176, { BAD, 0 }, EPERM, NATIVE_FAILS },
        { "open_by_handle_at", 304, { -1, BAD, 0 }, EPERM, NATIVE_FAILS },
        { "name_to_handle_at", 303, { -1, BAD, BAD, BAD, 0 }, EOPNOTSUPP, NATIVE_FAILS },
        { "chroot", 161, { BAD }, EPERM, NATIVE_FAILS },
        { "iopl", 172, { 4 }, EPERM, NATIVE_FAILS },               /* EINVAL: level > 3 */
        { "ioperm", 173, { 0x10000, 1, 1 }, EPERM, NATIVE_FAILS }, /* EINVAL: past the ports */
        { "swapon", 167, { BAD, 0 }, EPERM, NATIVE_FAILS },
        { "swapoff", 168, { BAD }, EPERM, NATIVE_FAILS },
        { "reboot", 169, { 0, 0, 0, 0 }, EPERM, NATIVE_FAILS }, /* EINVAL: no magic */
        { "settimeofday", 164, { BAD, 0 }, EPERM, NATIVE_FAILS },
        { "clock_settime", 227, { CLOCK_MONOTONIC, BAD }, EPERM, NATIVE_FAILS },
        { "syslog", 103, { 10, 0, 0 }, EPERM, NATIVE_ANY },           /* SIZE_BUFFER: a read */
        { "sethostname", 170, { BAD, 100000 }, EPERM, NATIVE_FAILS }, /* EINVAL: too long */
        { "setdomainname", 171, { BAD, 100000 }, EPERM, NATIVE_FAILS },
        { "acct", 163, { BAD }, EPERM, NATIVE_FAILS },
        { "quotactl", 179, { 0, BAD, 0, 0 }, EPERM, NATIVE_FAILS },
        { "quotactl_fd", 443, { -1, 0, 0, 0 }, EPERM, NATIVE_FAILS },
        { "fanotify_init", 300, { ~0L, 0 }, EPERM, NATIVE_FAILS },
        { "fanotify_mark", 301, { -1, 0, 0, -1, 0 }, EPERM, NATIVE_FAILS },
        { "lsm_set_self_attr", 460, { 0, BAD, 0, 0 }, EPERM, NATIVE_FAILS },
        { "modify_ldt", 154, { 1, BAD, 16 }, ENOSYS, NATIVE_FAILS }, /* write: EFAULT */
        { "lookup_dcookie", 212, { 0, BAD, 0 }, ENOSYS, NATIVE_FAILS },
        { "vhangup", 153, { 0 }, EPERM, NATIVE_SKIP }, /* would hang up the host's terminal */
        { "uselib", 134, { BAD }, ENOSYS, NATIVE_FAILS },
        { "mq_open", 240, { BAD, 0, 0, 0 }, ENOSYS, NATIVE_FAILS }, /* EFAULT: a host-wide name */
        { "mq_unlink", 241, { BAD }, ENOSYS, NATIVE_FAILS },
        /* userfaultfd by the other door: ioctl(open("/dev/userfaultfd"),
         * USERFAULTFD_IOC_NEW); probed on a bad fd (EBADF natively). */
        { "uffd-ioctl", 16, { -1, 0xaa00, 0 }, EPERM, NATIVE_FAILS },
        /* pidfds of a socket's peer or of senders: other processes by
         * another door. Probed on a bad fd (EBADF natively). */
        { "so-peerpidfd", 55, { -1, 1 /* SOL_SOCKET */, 77, BAD, BAD }, ENOPROTOOPT, NATIVE_FAILS },
        { "so-passpidfd", 54, { -1, 1, 76, BAD, 4 }, ENOPROTOOPT, NATIVE_FAILS },
        /* Core scheduling cookies of other processes: PR_SCHED_CORE_SHARE_TO
         * a pid no process has (ESRCH natively; EINVAL without the
         * feature). */
        { "sched-core", 157, { 62, 2, 0x3fffffff, 0, 0 }, EINVAL, NATIVE_FAILS },
        /* A multicast join: the host announces the group (IGMP, MLD) to
         * its network, bits of the guest's choosing past the network
         * policy (--net=none here). Probed on a bad fd (EBADF natively). */
        { "ip-add-membership",
          54,
          { -1, 0 /* IPPROTO_IP */, 35 /* IP_ADD_MEMBERSHIP */, BAD, 12 },
          EPERM,
          NATIVE_FAILS },
        { "mcast-join-group",
          54,
          { -1, 41 /* IPPROTO_IPV6 */, 42 /* MCAST_JOIN_GROUP */, BAD, 136 },
          EPERM,
          NATIVE_FAILS },
        /* A TCP socket's upper-layer protocol (TCP_ULP "tls": the kTLS of
         * CVE-2023-0461) and a UDP socket's IPsec encapsulation
         * (UDP_ENCAP): refused as by a kernel built without them. Probed
         * on a bad fd (EBADF natively). */
        { "tcp-ulp", 54, { -1, 6 /* SOL_TCP */, 31 /* TCP_ULP */, BAD, 4 }, ENOENT, NATIVE_FAILS },
        /* An IPv6 socket turned IPv4 (IPV6_ADDRFORM): its protocol swapped
         * under its other users. Probed on a bad fd (EBADF natively). */
        { "ipv6-addrform",
          54,
          { -1, 41 /* IPPROTO_IPV6 */, 1 /* IPV6_ADDRFORM */, BAD, 4 },
          ENOPROTOOPT,
          NATIVE_FAILS },
        /* Memory taken out of the kernel's direct map, which the sentry
         * cannot read (EINVAL natively: no such flags). */
        { "memfd_secret", 447, { ~0L }, ENOSYS, NATIVE_FAILS },
        { "udp-encap", 54, { -1, 17 /* SOL_UDP */, 100 /* UDP_ENCAP */, BAD, 4 }, ENOPROTOOPT, NATIVE_FAILS },
};

static int run_hatch(const struct hatch *h)
{
        bool confined = guest_confined();
        long r;

        if (!confined && h->native == NATIVE_SKIP) {
                NOTE("%s: not made natively (no harmless arguments)", h->name);
                return guest_result();
        }
        r = raw(h->nr, h->a[0], h->a[1], h->a[2], h->a[3], h->a[4], h->a[5]);
        NOTE("%s = %ld (%s)", h->name, r, r < 0 ? strerror((int)-r) : "ok");
        if (confined)
                CHECK(r == -h->err, "%s: want -%s, got %ld", h->name, strerrorname_np(h->err), r);
        else if (h->native == NATIVE_FAILS)
                /* (int): modify_ldt returns an int the kernel does not
                 * sign-extend, as the man page warns. */
                CHECK((int)r < 0, "%s: the harmless native probe succeeded (%ld)", h->name, r);
        return guest_result();
}

/* TIOCSTI/TIOCLINUX push input into a terminal another process reads (the
 * classic sandbox escape: type commands into the user's shell). Probed on
 * a pty of our own, and with junk in the upper 32 bits of the command,
 * which the kernel ignores (cmd is an unsigned int) and a 64-bit compare
 * in the filter would miss. */
static int run_tiocsti(unsigned long cmd, const char *what)
{
        int master, slave;
        char c = 'x';
        long r;

        if (openpty(&master, &slave, NULL, NULL, NULL) < 0) {
                NOTE("openpty: %m");
                return EXIT_SKIP;
        }
        r = raw(SYS_ioctl, slave, (long)cmd, (long)&c, 0, 0, 0);
        NOTE("ioctl(pty, %s) = %ld", what, r);
        if (guest_confined())
                CHECK(r == -EPERM, "%s: want -EPERM, got %ld", what, r);
        return guest_result();
}

static const struct {
        const char *name;
        unsigned long flag;
} ns_flags[] = {
        { "CLONE_NEWNS", CLONE_NEWNS },         { "CLONE_NEWUTS", CLONE_NEWUTS },
        { "CLONE_NEWIPC", CLONE_NEWIPC },       { "CLONE_NEWUSER", CLONE_NEWUSER },
        { "CLONE_NEWPID", CLONE_NEWPID },       { "CLONE_NEWNET", CLONE_NEWNET },
        { "CLONE_NEWCGROUP", CLONE_NEWCGROUP }, { "CLONE_NEWTIME", CLONE_NEWTIME },
};

/* Each namespace flag, to clone and to unshare. Natively the namespace is
 * made in a throwaway child, so the host is untouched either way. */
static int run_namespaces(bool use_clone)
{
        for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++) {
                unsigned long f = ns_flags[i].flag;
                int status;
                long r;
                pid_t pid;

                if (use_clone && f == CLONE_NEWTIME)
                        continue; /* 0x80 is the exit signal field for clone(2) */
                if (use_clone) {
                        r = raw(SYS_clone, (long)(f | SIGCHLD), 0, 0, 0, 0, 0);
                        if (r == 0)
                                _exit(0);
                        if (r > 0)
                                waitpid((pid_t)r, &status, 0);
                } else {
                        pid = fork();
                        if (pid == 0) {
                                r = raw(SYS_unshare, (long)f, 0, 0, 0, 0, 0);
                                _exit(r == 0 ? 0 : r == -EPERM ? 1 : 2);
                        }
                        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
                                return EXIT_HARD;
                        r = WEXITSTATUS(status) == 0 ? 0 : WEXITSTATUS(status) == 1 ? -EPERM : -EINVAL;
                }
                NOTE("%s(%s) = %ld", use_clone ? "clone" : "unshare", ns_flags[i].name, r);
                if (guest_confined())
                        CHECK(r == -EPERM, "%s(%s) not refused: %ld", use_clone ? "clone" : "unshare",
                              ns_flags[i].name, r);
        }
        return guest_result();
}

/* Only one user-notification listener may exist in a filter chain: a guest
 * that installs its own would otherwise answer its own calls. The kernel
 * refuses it with EBUSY because ours is there; natively it works. */
static int run_nested_listener(void)
{
        struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
        struct sock_fprog prog = { .len = 1, .filter = allow };
        long r;

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return EXIT_HARD;
        r = raw(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, (long)&prog, 0, 0, 0);
        NOTE("seccomp(NEW_LISTENER) = %ld", r);
        if (guest_confined())
                CHECK(r == -EBUSY, "a second listener was installed: %ld", r);
        else
                CHECK(r >= 0, "natively a listener can be installed: %ld", r);
        return guest_result();
}

/* A filter of the guest's own that allows everything cannot undo ours:
 * the kernel runs every filter and takes the strictest answer. */
static int run_own_filter(void)
{
        struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
        struct sock_fprog prog = { .len = 1, .filter = allow };
        long r;

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return EXIT_HARD;
        r = raw(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&prog, 0, 0, 0);
        CHECK(r == 0, "installing an allow-all filter: %ld", r);
        r = raw(SYS_sethostname, BAD, 100000, 0, 0, 0, 0);
        NOTE("sethostname after own filter = %ld", r);
        if (guest_confined())
                CHECK(r == -EPERM, "own filter undid the sentry's: %ld", r);
        return guest_result();
}

/* The listener is created in the guest before it execs and handed to the
 * sentry: no copy may stay behind, or the guest could answer its own
 * calls. Nor may any other fd of the sandbox's plumbing. The ptrace
 * platform's fd channel is the one exception (platform/ptrace.c): a
 * datagram socket that only the sentry can send to, high among the fds
 * and closed on exec. */
static int run_leaked_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        char path[64], target[256];
        int channels = 0;

        if (!d)
                return EXIT_HARD;
        /* An open is what makes a process's channel. */
        close(open("/dev/null", O_RDONLY | O_CLOEXEC));
        while ((de = readdir(d))) {
                ssize_t n;
                int fd = atoi(de->d_name);
                snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
                n = readlink(path, target, sizeof(target) - 1);
                if (n < 0)
                        continue;
                target[n] = '\0';
                CHECK(!strstr(target, "seccomp"), "fd %s is %s", de->d_name, target);
                if (guest_traced() && strstr(target, "socket:") && fd != dirfd(d)) {
                        int type = 0, fl = fcntl(fd, F_GETFD);
                        struct sockaddr_un peer;
                        socklen_t len = sizeof(type), plen = sizeof(peer);
                        char b;
                        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
                        CHECK(type == SOCK_DGRAM && (fl & FD_CLOEXEC) && fd >= 64 &&
                                      getpeername(fd, (struct sockaddr *)&peer, &plen) == 0,
                              "fd %d (%s) is not the platform's channel", fd, target);
                        /* Nothing but the sentry may send to it. */
                        int s = socket(AF_UNIX, SOCK_DGRAM, 0);
                        struct sockaddr_un me;
                        socklen_t mlen = sizeof(me);
                        CHECK(getsockname(fd, (struct sockaddr *)&me, &mlen) == 0 &&
                                      sendto(s, "x", 1, 0, (struct sockaddr *)&me, mlen) < 0,
                              "a guest socket could send to the channel");
                        close(s);
                        CHECK(recv(fd, &b, 1, MSG_DONTWAIT) < 0, "something waited in the channel");
                        channels++;
                        continue;
                }
                if (guest_confined())
                        CHECK(!strstr(target, "socket:") && !strstr(target, "pidfd") &&
                                      !strstr(target, "signalfd"),
                              "fd %s is %s: left over from the sandbox?", de->d_name, target);
        }
        CHECK(channels <= 1, "%d channels", channels);
        closedir(d);
        return guest_result();
}

/* A child made with CLONE_UNTRACED escapes a tracer's auto-attach: on the
 * ptrace platform its trapped calls would find no tracer (and fail, its
 * exit too), and a guest that could trace it would see, and could
 * rewrite, calls the kernel allows once a tracer has seen them. Refused
 * on every platform; natively it is an ordinary child. */
static int run_untraced(void)
{
        int status;
        pid_t child = (pid_t)raw(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0, 0);

        if (child == 0)
                _exit(0);
        if (guest_confined()) {
                CHECK(child == -EPERM, "clone(CLONE_UNTRACED) = %d, want -EPERM", child);
                if (child > 0)
                        waitpid(child, &status, 0);
                return guest_result();
        }
        CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status),
              "natively a CLONE_UNTRACED child is a child: %d", child);
        return guest_result();
}

static void *pause_forever(void *arg)
{
        for (;;)
                pause();
        return arg;
}

/* On the ptrace platform the sentry runs calls in the guest's threads (the
 * fd channel: socket, fcntl, close, recvmsg). A filter of the guest's own
 * that kills its first thread in such a call, while another thread lives
 * on, must not wedge the sentry: everyone else's calls go on being
 * answered, and the process can still be killed and reaped. */
/* A lingering TCP connection its peer never reads, queued (both ends) in
 * a datagram socket pair: whoever drops the last reference to the queue
 * releases the client, whose close waits (SO_LINGER, unsent data) until
 * the peer reads, which is never. Made the channel of the ptrace platform
 * (our filter fakes the injected socket's number: 0, where the lure is),
 * it was the sentry's tracer thread that released it when connecting the
 * channel or draining it: the tracer stuck, and the session, its timeout
 * too, never ended. Here the open just works (on ptrace after a short
 * wait), and the run ends. */
static int run_channel_release(void)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t sl = sizeof(sa);
        int small = 4096, l, c, s, sp[2];
        char buf[4096];
        struct linger lg = { 1, 1000000 };

        l = socket(AF_INET, SOCK_STREAM, 0);
        if (l < 0 || setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) < 0 ||
            bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0 ||
            getsockname(l, (struct sockaddr *)&sa, &sl) < 0)
                return EXIT_HARD;
        c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0 || setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) < 0 ||
            connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0 || (s = accept(l, NULL, NULL)) < 0)
                return EXIT_HARD;
        close(l);
        fcntl(c, F_SETFL, O_NONBLOCK);
        memset(buf, 'x', sizeof(buf));
        while (write(c, buf, sizeof(buf)) > 0)
                ;
        if (setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0 ||
            socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) < 0)
                return EXIT_HARD;
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(2 * sizeof(int))];
        } u;
        memset(&u, 0, sizeof(u));
        char one = 1;
        struct iovec iov = { &one, 1 };
        struct msghdr m = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)
        };
        struct cmsghdr *h = CMSG_FIRSTHDR(&m);
        int pass[2] = { c, s };
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(pass));
        memcpy(CMSG_DATA(h), pass, sizeof(pass));
        if (sendmsg(sp[1], &m, 0) < 0)
                return EXIT_HARD;
        close(c);
        close(s);
        close(sp[1]);
        if (dup2(sp[0], 0) < 0)
                return EXIT_HARD;
        close(sp[0]);
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 3),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog p = { sizeof(f) / sizeof(f[0]), f };
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            raw(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&p, 0, 0, 0) < 0)
                return EXIT_HARD;
        /* No channel left (ptrace): the next open makes one. */
        raw(SYS_close_range, 3, ~0U, 0, 0, 0, 0);
        long fd = raw(SYS_openat, AT_FDCWD, (long)"/dev/null", O_RDONLY, 0, 0, 0);
        CHECK(fd >= 0, "open after the lure: %ld", fd);
        return guest_result();
}

static int run_inject_kill(void)
{
        int sync[2], status;
        char b;
        pid_t victim;

        if (pipe(sync) < 0)
                return EXIT_HARD;
        victim = fork();
        if (victim == 0) {
                pthread_t t;
                struct sock_filter f[] = {
                        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 1),
                        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_THREAD),
                        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                };
                struct sock_fprog p = { sizeof(f) / sizeof(f[0]), f };
                pthread_create(&t, NULL, pause_forever, NULL);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                    raw(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&p, 0, 0, 0) < 0)
                        _exit(EXIT_HARD);
                (void)!write(sync[1], "o", 1);
                /* No channel left: the next open makes one (ptrace). */
                raw(SYS_close_range, 3, ~0U, 0, 0, 0, 0);
                open("/dev/null", O_RDONLY);
                _exit(0);
        }
        close(sync[1]);
        /* A deadline for a hang, not a measure: a wedged sentry never
         * answers what follows. */
        alarm(20);
        CHECK(read(sync[0], &b, 1) == 1, "the victim got to its open");
        /* Until its open is over: it exited (natively, on seccomp-unotify)
         * or its first thread is dead (ptrace). */
        bool reaped = false;
        for (int i = 0; i < 5000; i++) {
                char path[64], stat[512] = "";
                if (waitpid(victim, &status, WNOHANG) == victim) {
                        reaped = true;
                        break;
                }
                snprintf(path, sizeof(path), "/proc/%d/stat", (int)victim);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                        (void)!read(fd, stat, sizeof(stat) - 1);
                        close(fd);
                }
                const char *p = strrchr(stat, ')');
                if (p && p[1] == ' ' && p[2] == 'Z')
                        break;
                struct timespec ms = { 0, 1000000 };
                nanosleep(&ms, NULL);
        }
        for (int i = 0; i < 20; i++) {
                struct utsname u;
                CHECK(raw(SYS_uname, (long)&u, 0, 0, 0, 0, 0) == 0, "uname %d after the victim's open", i);
        }
        if (!reaped) {
                CHECK(raw(SYS_kill, victim, SIGKILL, 0, 0, 0, 0) == 0, "kill the victim");
                CHECK(waitpid(victim, &status, 0) == victim, "reap the victim");
        }
        alarm(0);
        return guest_result();
}

/* A number no kernel has, and one in the gap between 334 and 424: ENOSYS
 * in both worlds, and one audit record under interpose. */
static int run_unknown(long nr)
{
        long r = raw(nr, 0, 0, 0, 0, 0, 0);
        long r2 = raw(nr, 0, 0, 0, 0, 0, 0);

        CHECK(r == -ENOSYS && r2 == -ENOSYS, "syscall %ld: want -ENOSYS, got %ld, %ld", nr, r, r2);
        return guest_result();
}

int main(int argc, char **argv)
{
        const char *c = argc > 1 ? argv[1] : "";

        setvbuf(stderr, NULL, _IONBF, 0);
        for (size_t i = 0; i < sizeof(hatches) / sizeof(hatches[0]); i++)
                if (!strcmp(c, hatches[i].name))
                        return run_hatch(&hatches[i]);
        if (!strcmp(c, "tiocsti"))
                return run_tiocsti(TIOCSTI, "TIOCSTI");
        if (!strcmp(c, "tiocsti-highbits"))
                return run_tiocsti(0xdead000000000000UL | TIOCSTI, "0xdead...|TIOCSTI");
        if (!strcmp(c, "tioclinux"))
                return run_tiocsti(TIOCLINUX, "TIOCLINUX");
        if (!strcmp(c, "tiocsetd")) /* natively: line discipline 'x' does not exist (EINVAL) */
                return run_tiocsti(TIOCSETD, "TIOCSETD");
        if (!strcmp(c, "clone-ns"))
                return run_namespaces(true);
        if (!strcmp(c, "unshare-ns"))
                return run_namespaces(false);
        if (!strcmp(c, "nested-listener"))
                return run_nested_listener();
        if (!strcmp(c, "own-filter"))
                return run_own_filter();
        if (!strcmp(c, "inject-kill"))
                return run_inject_kill();
        if (!strcmp(c, "channel-release"))
                return run_channel_release();
        if (!strcmp(c, "untraced"))
                return run_untraced();
        if (!strcmp(c, "leaked-fds"))
                return run_leaked_fds();
        if (!strcmp(c, "unknown-nr"))
                return run_unknown(1000);
        if (!strcmp(c, "gap-nr"))
                return run_unknown(400);
        /* Past any table, with and without the x32 bit: ENOSYS, not a
         * kill (only numbers the kernel would run as x32 are x32 calls). */
        if (!strcmp(c, "huge-nr"))
                return run_unknown(0x7fffffffL) || run_unknown(0x40000000L + 5000) || run_unknown(-1L);
        fprintf(stderr, "guest-escape: unknown case '%s'\n", c);
        return EXIT_HARD;
}
