/* SPDX-License-Identifier: MIT */
/*
 * interpose's own filters, for the sentry and the gofer: built with
 * libseccomp by syscalls/gen-filter at build time, like the guest's, so a
 * session loads ready programs (sys_own_filter).
 *
 * The sentry's: it reads guest memory and acts on guest processes; if a
 * guest ever subverted it, this filter bounds what it could do: no exec,
 * no new processes (threads only), no network, no mounts, no tracing.
 * Anything not listed fails with EPERM; the worst calls kill it, which the
 * launcher sees and answers by killing the guest.
 *
 * The gofer's: it opens O_PATH fds, stats and reads links and answers on
 * its socket; anything else kills it.
 */
#include <errno.h>
#include <sys/socket.h>
#include <linux/fs.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>

#include "filter.h"

static const int allowed[] = {
        SCMP_SYS(read),
        SCMP_SYS(write),
        SCMP_SYS(pread64),
        SCMP_SYS(pwrite64),
        SCMP_SYS(pwritev2), /* syscalls/path.c: RWF_NOAPPEND, on the guest's judged fd */
        SCMP_SYS(readv),
        SCMP_SYS(writev),
        SCMP_SYS(close),
        SCMP_SYS(openat),
        SCMP_SYS(open),
        SCMP_SYS(fstat),
        SCMP_SYS(newfstatat),
        SCMP_SYS(statx),
        SCMP_SYS(lseek),
        SCMP_SYS(getdents64),
        SCMP_SYS(readlink),
        SCMP_SYS(readlinkat),
        SCMP_SYS(linkat),
        SCMP_SYS(fchmod),
        SCMP_SYS(fchown),
        SCMP_SYS(ftruncate),
        SCMP_SYS(fallocate), /* syscalls/path.c: the guest's, on its judged fd */
        SCMP_SYS(fsetxattr),
        SCMP_SYS(fremovexattr),
        SCMP_SYS(getxattr),
        SCMP_SYS(listxattr),
        SCMP_SYS(setxattr),
        SCMP_SYS(removexattr),
        SCMP_SYS(utimensat),
        SCMP_SYS(inotify_add_watch),
        SCMP_SYS(openat2),
        SCMP_SYS(mkdirat),
        SCMP_SYS(mknodat),
        SCMP_SYS(symlinkat),
        SCMP_SYS(fchmodat),
        SCMP_SYS(fchownat),
        SCMP_SYS(truncate),
        SCMP_SYS(fstatfs),
        SCMP_SYS(umask),
        SCMP_SYS(renameat),
        SCMP_SYS(renameat2),
        SCMP_SYS(unlinkat),
        SCMP_SYS(mkdir),
        SCMP_SYS(fsync),
        SCMP_SYS(access),
        SCMP_SYS(faccessat),
        SCMP_SYS(faccessat2),
        SCMP_SYS(fcntl),
        SCMP_SYS(dup),
        SCMP_SYS(dup3),
        SCMP_SYS(mmap),
        SCMP_SYS(munmap),
        SCMP_SYS(mprotect),
        SCMP_SYS(mremap),
        SCMP_SYS(brk),
        SCMP_SYS(madvise),
        SCMP_SYS(mincore),
        SCMP_SYS(msync),
        SCMP_SYS(futex),
        SCMP_SYS(set_robust_list),
        SCMP_SYS(get_robust_list),
        SCMP_SYS(rseq),
        SCMP_SYS(rt_sigprocmask),
        SCMP_SYS(rt_sigaction),
        SCMP_SYS(rt_sigreturn),
        SCMP_SYS(setitimer), /* platform/ptrace.c: a release the guest made slow is cut short */
        SCMP_SYS(sigaltstack),
        SCMP_SYS(signalfd4),
        SCMP_SYS(poll),
        SCMP_SYS(ppoll),
        SCMP_SYS(sched_yield),
        SCMP_SYS(nanosleep),
        SCMP_SYS(clock_nanosleep),
        SCMP_SYS(clock_gettime),
        SCMP_SYS(capget),
        SCMP_SYS(process_madvise),
        SCMP_SYS(process_mrelease),
        SCMP_SYS(shmget),
        SCMP_SYS(shmctl), /* limits.c: a segment's size; ipc.c and sentry_main.c: IPC_RMID */
        SCMP_SYS(semctl), /* limits.c: a set's size; ipc.c and sentry_main.c: IPC_RMID */
        SCMP_SYS(msgctl), /* ipc.c and sentry_main.c: IPC_RMID */
        SCMP_SYS(semget),
        SCMP_SYS(msgget),
        SCMP_SYS(gettimeofday),
        SCMP_SYS(getpid),
        SCMP_SYS(gettid),
        SCMP_SYS(getppid),
        SCMP_SYS(getpgid),
        SCMP_SYS(getuid),
        SCMP_SYS(geteuid),
        SCMP_SYS(getgid),
        SCMP_SYS(getegid),
        SCMP_SYS(uname),
        SCMP_SYS(adjtimex),
        SCMP_SYS(clock_adjtime),
        SCMP_SYS(getrandom),
        SCMP_SYS(prlimit64),
        SCMP_SYS(sched_getaffinity),
        SCMP_SYS(sched_setaffinity), /* platform/unotify.c: ADDFD on one CPU */
        SCMP_SYS(exit),
        SCMP_SYS(exit_group),
        SCMP_SYS(wait4),
        SCMP_SYS(waitid),
        SCMP_SYS(kill),
        SCMP_SYS(tgkill),
        SCMP_SYS(tkill),
        SCMP_SYS(pidfd_open),
        SCMP_SYS(pidfd_send_signal),
        SCMP_SYS(pidfd_getfd),
        SCMP_SYS(process_vm_readv),
        SCMP_SYS(process_vm_writev),
        SCMP_SYS(sendmsg),
        SCMP_SYS(recvmsg),
        SCMP_SYS(fsync),
        SCMP_SYS(fdatasync),
        SCMP_SYS(prctl),
        SCMP_SYS(restart_syscall),
        SCMP_SYS(close_range),
        SCMP_SYS(sched_getparam),
        SCMP_SYS(sched_getscheduler),
        SCMP_SYS(getpriority),
        /* On copies of the guest's own AF_UNIX sockets, with the sentry's
         * copy of a judged address (syscalls/path.c); it makes no socket. */
        SCMP_SYS(connect),
        SCMP_SYS(bind),
        SCMP_SYS(listen),      /* syscalls/path.c sys_listen, on the guest's socket */
        SCMP_SYS(getsockname), /* syscalls/net.c: what a bind reached */
        SCMP_SYS(getpeername), /* syscalls/path.c: the guest's getpeername, on the sentry's copy */
        SCMP_SYS(sendto),      /* syscalls/net.c: a datagram with an address, judged */
        SCMP_SYS(recvfrom),    /* sentry/dns.c: the guest's queries, the upstream's answers */
        SCMP_SYS(accept4),     /* sentry/dns.c: DNS over TCP */
        SCMP_SYS(getsockopt),
};

static const int killed[] = {
        SCMP_SYS(execve),
        SCMP_SYS(execveat),
        SCMP_SYS(fork),
        SCMP_SYS(vfork),
        SCMP_SYS(mount),
        SCMP_SYS(umount2),
        SCMP_SYS(pivot_root),
        SCMP_SYS(unshare),
        SCMP_SYS(setns),
        SCMP_SYS(bpf),
        SCMP_SYS(io_uring_setup),
        SCMP_SYS(userfaultfd),
        SCMP_SYS(perf_event_open),
        SCMP_SYS(kexec_load),
        SCMP_SYS(init_module),
        SCMP_SYS(finit_module),
        SCMP_SYS(open_by_handle_at),
        SCMP_SYS(chroot),
};

static int build_sentry(bool tracer, struct sock_fprog **ret)
{
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        int r = ctx ? 0 : -ENOMEM;

        for (size_t i = 0; r == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
        for (size_t i = 0; r == 0 && i < sizeof(killed) / sizeof(killed[0]); i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, killed[i], 0);
        /* ptrace only on a tracing platform (platform/ptrace.c), where kcmp
         * tells whether an fd the guest holds is the sentry's file. */
        if (r == 0)
                r = seccomp_rule_add(ctx, tracer ? SCMP_ACT_ALLOW : SCMP_ACT_KILL_PROCESS, SCMP_SYS(ptrace),
                                     0);
        if (r == 0 && tracer)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kcmp), 0);
        /* Threads, never processes. clone3 is refused with ENOSYS so libc
         * falls back to clone, whose flags the filter can see. */
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
        /* socket only for the guest's IP datagram sockets, which the
         * sentry makes with their reply filter on (syscalls/net.c); any
         * other fails. */
        for (int fam = AF_INET; r == 0 && fam <= AF_INET6; fam += AF_INET6 - AF_INET)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2, SCMP_A0(SCMP_CMP_EQ, fam),
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM));
        /* setsockopt only for what the sentry sets for the guest
         * (syscalls/proc.c sys_sockopt): SO_REUSEPORT and SO_REUSEADDR, so
         * that they never change while it judges a bind, and socket
         * filters (the replies an IP datagram socket takes, syscalls/net.c,
         * and the guest's own on other sockets), and the loopback device
         * an IPv6 server on every address is bound to. */
        static const int sockopts[] = { SO_REUSEPORT,     SO_REUSEADDR,   SO_ATTACH_FILTER, SO_ATTACH_BPF,
                                        SO_DETACH_FILTER, SO_LOCK_FILTER, SO_BINDTODEVICE };
        for (size_t i = 0; r == 0 && i < sizeof(sockopts) / sizeof(sockopts[0]); i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
                                     SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET), SCMP_A2(SCMP_CMP_EQ, sockopts[i]));
        /* ioctl only for the seccomp listener's requests (type '!'), and
         * tcsetpgrp, which the sentry makes for the guest after checking. */
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0x0000ff00ULL, 0x2100ULL));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, TIOCSPGRP));
        if (r == 0) /* and the window size, made for the guest too */
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, TIOCSWINSZ));
        if (r == 0) /* whose foreground both look at first (tcgetpgrp) */
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, TIOCGPGRP));
        /* The number of a pty the guest opens through /dev/ptmx, so its
         * slave is the session's (syscalls/path.c); the inode ioctls it
         * makes on the guest's behalf after checking; and the query of one
         * mapping of a guest that has just exec'ed. */
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, TIOCGPTN));
        {
                static const unsigned long inode_ioctls[] = { FS_IOC_SETFLAGS, FS_IOC32_SETFLAGS,
                                                              FS_IOC_SETVERSION, FS_IOC32_SETVERSION,
                                                              FS_IOC_FSSETXATTR,
                                                              /* PROCMAP_QUERY, syscalls/exec.c */
                                                              0xc0686611UL };
                for (size_t i = 0; r == 0 && i < sizeof(inode_ioctls) / sizeof(inode_ioctls[0]); i++)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                             SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, inode_ioctls[i]));
        }
        if (r == 0)
                r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (r == 0)
                r = sys_filter_export(ctx, ret);
        if (ctx)
                seccomp_release(ctx);
        return r;
}

static const int gofer_allowed[] = {
        SCMP_SYS(read),       SCMP_SYS(write),    SCMP_SYS(recvmsg),    SCMP_SYS(sendmsg),
        SCMP_SYS(close),      SCMP_SYS(exit),     SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn),
        SCMP_SYS(brk),        SCMP_SYS(mmap),     SCMP_SYS(munmap),     SCMP_SYS(futex),
        SCMP_SYS(openat),     SCMP_SYS(openat2),  SCMP_SYS(fstat),      SCMP_SYS(newfstatat),
        SCMP_SYS(readlinkat), SCMP_SYS(readlink), SCMP_SYS(fstatfs),    SCMP_SYS(statfs),
        SCMP_SYS(fcntl),      SCMP_SYS(lseek),    SCMP_SYS(getpid),     SCMP_SYS(getdents64),
        SCMP_SYS(poll),       SCMP_SYS(ppoll),
};

static int build_gofer(struct sock_fprog **ret)
{
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
        int r = ctx ? 0 : -ENOMEM;

        for (size_t i = 0; r == 0 && i < sizeof(gofer_allowed) / sizeof(gofer_allowed[0]); i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, gofer_allowed[i], 0);
        if (r == 0)
                r = sys_filter_export(ctx, ret);
        if (ctx)
                seccomp_release(ctx);
        return r;
}

int sys_own_filter_build(enum sys_own_filter which, struct sock_fprog **ret)
{
        switch (which) {
        case OWN_SENTRY:
                return build_sentry(false, ret);
        case OWN_SENTRY_TRACER:
                return build_sentry(true, ret);
        case OWN_GOFER:
                return build_gofer(ret);
        default:
                return -EINVAL;
        }
}
