/* SPDX-License-Identifier: MIT */
/*
 * The gofer: the one process that will turn guest paths into host objects.
 * For now it is started with every session, confines itself, and answers
 * on its socket; the launcher treats its death like the sentry's (fail
 * closed). Path resolution against the policy comes with the next issue.
 */
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gofer.h"

static int gofer_confine(void)
{
        static const int allowed[] = {
                SCMP_SYS(read),    SCMP_SYS(write), SCMP_SYS(recvmsg),    SCMP_SYS(sendmsg),
                SCMP_SYS(close),   SCMP_SYS(exit),  SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn),
                SCMP_SYS(brk),     SCMP_SYS(mmap),  SCMP_SYS(munmap),     SCMP_SYS(futex),
                SCMP_SYS(openat2), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(readlinkat),
        };
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
        int r = ctx ? 0 : -ENOMEM;

        for (size_t i = 0; r == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
        if (r == 0)
                r = seccomp_load(ctx);
        if (ctx)
                seccomp_release(ctx);
        return r;
}

/* Serve requests until the launcher closes the socket. */
static int gofer_serve(int sock)
{
        struct gofer_msg m;

        for (;;) {
                ssize_t n = read(sock, &m, sizeof(m));
                if (n == 0)
                        return 0;
                if (n != sizeof(m))
                        return -EBADMSG;
                switch (m.op) {
                case GOFER_PING:
                        m.result = 0;
                        break;
                default:
                        m.result = -EOPNOTSUPP;
                        break;
                }
                if (write(sock, &m, sizeof(m)) != sizeof(m))
                        return -EPIPE;
        }
}

pid_t gofer_spawn(int *ret_sock)
{
        int socks[2];
        pid_t pid;
        sigset_t none;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int e = errno;
                close(socks[0]);
                close(socks[1]);
                return -e;
        }
        if (pid == 0) {
                close(socks[0]);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                prctl(PR_SET_DUMPABLE, 0);
                /* Terminal signals are for the guest, not for us. */
                signal(SIGINT, SIG_IGN);
                signal(SIGQUIT, SIG_IGN);
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                if (dup2(socks[1], 3) < 0)
                        _exit(125);
                syscall(SYS_close_range, 4, ~0U, 0);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || gofer_confine() < 0)
                        _exit(125);
                _exit(gofer_serve(3) < 0 ? 125 : 0);
        }
        close(socks[1]);
        *ret_sock = socks[0];
        return pid;
}

int gofer_ping(int sock)
{
        struct gofer_msg m = { .op = GOFER_PING };

        if (write(sock, &m, sizeof(m)) != sizeof(m) || read(sock, &m, sizeof(m)) != sizeof(m))
                return -EPIPE;
        return (int)m.result;
}
