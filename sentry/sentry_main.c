/* SPDX-License-Identifier: MIT */
/*
 * The sentry process and the guest's first moments. The sentry is a child
 * subreaper and the parent of the first guest process, so every guest
 * process descends from it; it kills them all when the first one exits,
 * when the launcher dies, or when it fails itself.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/close_range.h>

#include "../policy/policy.h"
#include "../syscalls/handlers.h"
#include "sentry.h"
#include "session_int.h"
#include "util.h"

extern char **environ;

static void die_guest(const char *what, int err)
{
        char msg[256];
        int n = snprintf(msg, sizeof(msg), "interpose: cannot start the guest: %s: %s\n", what,
                         strerror(err));
        write_all(2, msg, (size_t)n);
        _exit(EXIT_INTERPOSE_FAILED);
}

static struct sentry S;
static struct session_ctx *CTX;

/* The guest's listener, whose number it wrote to sock, into *ret: our
 * copy, or -1 on a tracing platform (the filter is loaded, and there is no
 * listener to take). 0, or -errno (the guest failed first and said why on
 * exec_err_fd). */
static int take_listener(int sock, pid_t guest, int *ret)
{
        int n, pidfd;

        *ret = -1;
        if (read(sock, &n, sizeof(n)) != (ssize_t)sizeof(n))
                return -EPIPE;
        if (n == -1 && CTX->plat.ops->tracer)
                return 0;
        pidfd = (int)syscall(SYS_pidfd_open, guest, 0);
        if (pidfd < 0)
                return -errno;
        *ret = (int)syscall(SYS_pidfd_getfd, pidfd, n, 0);
        n = *ret < 0 ? -errno : 0;
        close(pidfd);
        return n;
}

/* The first guest process, between fork and exec. */
__attribute__((noreturn)) static void guest_process(struct session_ctx *ctx, int sock, pid_t sentry)
{
        int listener, r, err;
        char go;

        /* Die with the sentry: a guest must never outlive its kernel. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != sentry)
                _exit(EXIT_INTERPOSE_FAILED);
        /* The sentry made itself non-dumpable and we inherited that; the
         * guest must be readable by the sentry (exec would reset it too). */
        prctl(PR_SET_DUMPABLE, 1);
        for (int sig = 1; sig < NSIG; sig++) {
                struct sigaction sa = { .sa_handler = sigismember(&ctx->orig_ignored, sig) ? SIG_IGN
                                                                                           : SIG_DFL };
                if (sig != SIGKILL && sig != SIGSTOP)
                        sigaction(sig, &sa, NULL);
        }
        /* Into the session's pids cgroup (where there is one), while we
         * may still write there. */
        r = session_cgroup_join(ctx->cgroup);
        if (r < 0)
                die_guest("joining the session's cgroup", -r);
        r = session_drop_privileges();
        if (r < 0)
                die_guest("dropping privileges", -r);
        r = session_apply_rlimits(&ctx->o->limits);
        if (r < 0)
                die_guest("setting its limits", -r);
        /* Ready to be traced (dumpable, our own credentials); then wait
         * until the sentry has taken us on (a tracing platform must,
         * before the filter's first trapped call). */
        go = 'R';
        if (write(sock, &go, 1) != 1 || read(sock, &go, 1) != 1)
                _exit(EXIT_INTERPOSE_FAILED);
        r = ctx->plat.ops->guest_install(&ctx->plat, &listener);
        if (r < 0)
                die_guest("loading the seccomp filter", -r);
        /* From here on every call this process makes is the sentry's, and
         * sendmsg is one the sentry makes (syscalls/path.c): the sentry
         * takes the listener with pidfd_getfd, told only its number by a
         * write, which stays in the kernel. */
        if (write(sock, &listener, sizeof(listener)) != (ssize_t)sizeof(listener))
                _exit(EXIT_INTERPOSE_FAILED);
        if (read(sock, &go, 1) != 1)
                _exit(EXIT_INTERPOSE_FAILED);
        close(listener);
        close(sock);
        /* Only stdin, stdout and stderr pass to the guest: an fd the user's
         * shell or a CI runner left open (a credentials file, a socket)
         * would hand it what its policy refuses by path (--keep-fds keeps
         * them). */
        if (!ctx->o->keep_fds)
                syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
        sigprocmask(SIG_SETMASK, &ctx->orig_mask, NULL);
        execve(ctx->o->exe, ctx->o->argv, environ);
        err = errno;
        (void)!write(ctx->exec_err_fd, &err, sizeof(err));
        _exit(err == ENOENT ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE);
}

static void finish(int status);

static void send_msg(int type, int value)
{
        struct session_msg m = { .type = type, .value = value };

        m.denials = __atomic_load_n(&S.denials, __ATOMIC_RELAXED);
        m.trapped = __atomic_load_n(&S.trapped, __ATOMIC_RELAXED);
        audit_head(&S.audit, m.head);
        write_all(CTX->status_fd, &m, sizeof(m));
        /* A guest may stop the launcher with its job (syscalls/proc.c,
         * stop_launcher): the session's end must not wait for a fg that
         * never comes (a --timeout in CI). */
        if (type != MSG_GUEST_PID)
                sentry_signal_launcher(SIGCONT);
}

void sentry_signal_launcher(int sig)
{
        _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, S.launcher, 0);

        if (S.launcher > 0 && pidfd >= 0 && getppid() == S.launcher)
                syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

void sentry_report_limit(int which)
{
        send_msg(MSG_LIMIT, which);
}

static void audit_session(const char *decision, const char *extra)
{
        struct audit_record r = { .decision = decision, .rule = "session", .extra = extra };
        audit_write(&S.audit, &r);
}

/* The session ends once, by whichever thread sees its end first (the
 * tracer thread reaps on a tracing platform while the reaper thread may
 * see the launcher die); the other waits here until the process exits. */
static pthread_mutex_t ending = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noreturn)) static void finish(int status)
{
        char extra[128];

        pthread_mutex_lock(&ending);

        if (WIFSIGNALED(status))
                snprintf(extra, sizeof(extra), "\"pid\":%d,\"signal\":%d", (int)S.guest, WTERMSIG(status));
        else
                snprintf(extra, sizeof(extra), "\"pid\":%d,\"status\":%d", (int)S.guest, WEXITSTATUS(status));
        sentry_limits_final(&S);
        sentry_ask_end();
        audit_session("end", extra);
        /* The session ends with its first process, as a container ends with
         * its init: nothing the guest started may linger unwatched. */
        /* We are a subreaper: a live descendant has a live parent chain up
         * to us, so no child at all means nothing left to sweep. */
        pid_t left;
        while ((left = waitpid(-1, NULL, WNOHANG | __WALL)) > 0)
                ;
        if (!(left < 0 && errno == ECHILD))
                sentry_kill_descendants(S.self, 0);
        while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
                ;
        /* The tree's System V objects go with it, as with an IPC
         * namespace of its own: a segment left behind would hold memory
         * past the session (and past --max-memory). */
        for (unsigned i = 0; i < S.ipc_n[0]; i++)
                shmctl(S.ipc_ids[0][i], IPC_RMID, NULL);
        for (unsigned i = 0; i < S.ipc_n[1]; i++)
                semctl(S.ipc_ids[1][i], 0, IPC_RMID);
        for (unsigned i = 0; i < S.ipc_n[2]; i++)
                msgctl(S.ipc_ids[2][i], IPC_RMID, NULL);
        send_msg(MSG_GUEST_EXIT, status);
        _exit(0);
}

/* A tracing platform reaps: the first guest process's end ends the session. */
static void traced_exit(void *ctx, pid_t pid, int status)
{
        (void)ctx;
        if (pid == S.guest)
                finish(status);
}

/* A stop reported without WUNTRACED is a ptrace-stop: we are the thread's
 * tracer, which we never asked to be (a tracing platform reaps on its
 * tracer thread, never here). PTRACE_TRACEME makes the caller's parent its
 * tracer when the kernel runs it, not when sys_ptrace looked: a process
 * whose parent exits in between is reparented to us, the subreaper, and
 * becomes our tracee. Its process dies at its first stop; until then
 * being traced changed nothing it can do. The thread cannot be reaped, so
 * its id is not reused, before we wait for its end. */
static void untrace(pid_t tid, int status)
{
        _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, tid, O_EXCL /* PIDFD_THREAD */);
        char extra[64];

        if (pidfd < 0)
                pidfd = (int)syscall(SYS_pidfd_open, tid, 0);
        snprintf(extra, sizeof(extra), "\"stop\":%d", WSTOPSIG(status));
        struct audit_record r = {
                .pid = tid, .tid = tid, .decision = "kill", .rule = "own-tree:tracer", .extra = extra
        };
        audit_write(&S.audit, &r);
        if (pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0)
                kill(tid, SIGKILL);
}

/* Reaps children (but a tracing platform's), watches for the launcher's
 * death. */
static void *reaper(void *arg)
{
        int sfd = *(int *)arg;
        struct signalfd_siginfo si;

        interpose_crash_thread();
        for (;;) {
                ssize_t n = read(sfd, &si, sizeof(si));
                if (n != sizeof(si)) {
                        if (n < 0 && errno == EINTR)
                                continue;
                        break;
                }
                if (si.ssi_signo == SIGHUP && getppid() != CTX->launcher) {
                        /* The launcher is gone: nobody would report or
                         * watch, so the session ends now; and nobody would
                         * give the log its name, so we do. */
                        pthread_mutex_lock(&ending);
                        sentry_kill_descendants(S.self, 0);
                        audit_session("end", "\"launcher\":\"gone\"");
                        if (CTX->audit_place &&
                            session_audit_publish(CTX->audit_place, CTX->audit_fd, CTX->session_id) == 0)
                                session_complain(
                                        "the launcher died; the guest was stopped and the audit log saved "
                                        "in %s/%s",
                                        CTX->audit_place->dir, CTX->audit_place->name);
                        _exit(EXIT_INTERPOSE_FAILED);
                }
                if (si.ssi_signo == SIGUSR2 && (pid_t)si.ssi_pid == CTX->launcher) {
                        /* The launcher saw the gofer die: from now on every
                         * path call fails with EIO (syscalls/path.c). */
                        __atomic_store_n(&S.gofer_gone, 1, __ATOMIC_RELEASE);
                        audit_session("gofer-gone", "\"files\":\"EIO\"");
                        session_complain("the gofer died; the guest's file calls fail with EIO from now on");
                        continue;
                }
                if (si.ssi_signo != SIGCHLD)
                        continue;
                for (;;) {
                        int st;
                        pid_t pid = waitpid(-1, &st, WNOHANG | __WALL);
                        if (pid <= 0)
                                break;
                        /* Only an end is an end: a stop or a continue of a
                         * traced child is not the guest exiting. */
                        if (pid == S.guest && (WIFEXITED(st) || WIFSIGNALED(st)))
                                finish(st);
                        if (WIFSTOPPED(st))
                                untrace(pid, st);
                }
        }
        sentry_kill_descendants(S.self, 0);
        _exit(EXIT_INTERPOSE_FAILED);
}

/* Grow the fd table once, now, while this is the only thread. The caches
 * hold up to ~800 fds (dentries, cwds, pidfds), and each time the kernel
 * grows the table of a process with more than one thread it waits for an
 * RCU grace period (expand_fdtable): 30 ms of a 160 ms Python start here,
 * depending on which fds the user's shell happened to leave open. */
static void presize_fd_table(int any_fd)
{
        struct rlimit rl;
        int top = 2047;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur <= (rlim_t)top)
                top = (int)rl.rlim_cur - 1;
        if (top > any_fd && dup2(any_fd, top) == top)
                close(top);
}

__attribute__((noreturn)) void sentry_process(struct session_ctx *ctx)
{
        _cleanup_close_ int sock_s = -1, sock_g = -1;
        int socks[2], listener, sfd, r;
        sigset_t all;
        pthread_t t;
        char go = 'G', extra[2048];
        size_t len;

        CTX = ctx;
        if (prctl(PR_SET_PDEATHSIG, SIGHUP) < 0 || getppid() != ctx->launcher)
                _exit(EXIT_INTERPOSE_FAILED);
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        prctl(PR_SET_DUMPABLE, 0);
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) < 0)
                die_guest("socketpair", errno);
        sock_s = socks[0];
        sock_g = socks[1];
        S.self = getpid();
        S.launcher = ctx->launcher;
        S.initial_pgrp = getpgrp();
        S.hostname = ctx->o->hostname ? ctx->o->hostname : "interpose";
        S.trace_fd = ctx->trace_fd;
        S.backtrace = ctx->o->backtrace;
        S.ask_tty = ctx->ask_tty;
        S.gofer_fd = ctx->gofer_fd;
        S.paths = ctx->plat.paths;
        S.policy = ctx->o->policy;
        S.limits = ctx->o->limits;
        S.root_fd = -1;
        for (int i = 0; i < WALK_MAPS; i++)
                S.maps[i].fd = -1;
        if (S.policy) {
                struct stat pst;
                /* The root the walks start from, opened before the sentry
                 * confines itself: with a policy the sentry resolves paths
                 * itself with the gofer's code (directfs, DESIGN.md). */
                S.root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                S.proc_dev = stat("/proc", &pst) == 0 ? pst.st_dev : (dev_t)-1;
                /* The guest's /tmp is the session's directory. */
                if (S.policy->tmpdir && stat("/tmp", &pst) == 0)
                        S.maps[0] = (struct walk_map){ open(S.policy->tmpdir,
                                                            O_PATH | O_DIRECTORY | O_CLOEXEC),
                                                       pst.st_dev, pst.st_ino, "/tmp", "tmp" };
                /* And its /dev/shm (POSIX shared memory, semaphores): names
                 * there are the session's, unseen by the host and unseen
                 * by it. */
                if (S.policy->shmdir && stat("/dev/shm", &pst) == 0)
                        S.maps[1] = (struct walk_map){ open(S.policy->shmdir,
                                                            O_PATH | O_DIRECTORY | O_CLOEXEC),
                                                       pst.st_dev, pst.st_ino, "/dev/shm", "shm" };
        }
        pthread_mutex_init(&S.trace_lock, NULL);
        audit_init(&S.audit, ctx->audit_fd, ctx->session_id);
        S.audit.sink = ctx->audit_sink;
        S.dns.udp = S.dns.tcp = S.dns.upstream = S.dns.resolv_fd = S.dns.hosts_fd = -1;

        /* The guest is forked first: it joins its cgroup (a wait for an
         * RCU grace period) and sets its limits while we make the rest
         * ready, and it waits for our word before it loads its filter. */
        S.guest = fork();
        if (S.guest < 0)
                die_guest("fork", errno);
        if (S.guest == 0) {
                close(TAKE_FD(sock_s));
                guest_process(ctx, TAKE_FD(sock_g), S.self);
        }
        close(TAKE_FD(sock_g));
        close(ctx->exec_err_fd);
        send_msg(MSG_GUEST_PID, S.guest);
        if (S.policy) {
                /* The guest's resolver and the files that name it, made
                 * while the sentry may still open sockets and files. */
                char why[256];
                r = dns_prepare(&S.dns, S.policy, S.hostname, why, sizeof(why));
                if (r < 0) {
                        kill(S.guest, SIGKILL);
                        die_guest(why, -r);
                }
                net_prepare();
                sys_path_prepare();
        }
        if (read(sock_s, &go, 1) != 1) {
                /* It failed first and said why: its end is the session's. */
                int st = 0;
                while (waitpid(S.guest, &st, 0) < 0 && errno == EINTR)
                        ;
                finish(st);
        }
        go = 'G';
        if (ctx->plat.ops->adopt) {
                r = ctx->plat.ops->adopt(&ctx->plat, S.guest);
                if (r < 0) {
                        kill(S.guest, SIGKILL);
                        die_guest(
                                r == -EPERM
                                        ? "tracing it (is ptrace refused here? see kernel.yama.ptrace_scope)"
                                        : "tracing it",
                                -r);
                }
        }
        if (write(sock_s, &go, 1) != 1) {
                kill(S.guest, SIGKILL);
                die_guest("starting it", EPIPE);
        }

        presize_fd_table(sock_s);
        /* The reaper reads every signal but the fault signals, which are
         * the crash handler's (crash.c). */
        sigset_t watched = all, faults;
        pthread_rwlockattr_t rwa;
        interpose_fault_signals(&faults);
        for (int sig = 1; sig < NSIG; sig++)
                if (sigismember(&faults, sig))
                        sigdelset(&watched, sig);
        sfd = signalfd(-1, &watched, SFD_CLOEXEC);
        if (sfd < 0)
                die_guest("starting the reaper", errno);

        if (take_listener(sock_s, S.guest, &listener) < 0) {
                /* The guest failed before loading its filter and said why;
                 * the reaper reports its exit status (and never returns). */
                reaper(&sfd);
        }
        S.plat = ctx->plat;
        /* Writers first: a stream of opens never keeps a mask change out. */
        pthread_rwlockattr_init(&rwa);
        pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        pthread_rwlock_init(&S.plat.affinity_lock, &rwa);
        pthread_rwlockattr_destroy(&rwa);
        if (ctx->ask_fd >= 0) {
                /* Approvals: answers wake the serving thread (approvals.c). */
                S.plat.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                if (S.plat.wake_fd < 0)
                        die_guest("starting approvals", errno);
        }
        r = S.plat.ops->attach(&S.plat, listener);
        if (r < 0)
                die_guest("attaching to the seccomp listener", -r);
        if (S.plat.ops->tracer) {
                /* The tracer thread waits for every child; the reaper
                 * thread must not see SIGCHLD, or it would take their
                 * stops and ends. */
                sigset_t rest = watched;
                sigdelset(&rest, SIGCHLD);
                S.plat.on_exit = traced_exit;
                if (signalfd(sfd, &rest, 0) < 0)
                        die_guest("starting the reaper", errno);
        }
        interpose_crash_handlers("sentry", ctx->audit_place ? ctx->audit_place->dirfd : -1,
                                 ctx->audit_place ? ctx->audit_place->name : NULL);

        len = (size_t)snprintf(extra, sizeof(extra), "\"platform\":\"%s\",\"sync_wakeup\":%s,\"exe\":\"",
                               S.plat.ops->name, S.plat.sync_wakeup ? "true" : "false");
        len = audit_json_escape(extra, len, sizeof(extra) / 2, ctx->o->exe);
        len += (size_t)snprintf(extra + len, sizeof(extra) - len,
                                "\",\"policy_hash\":\"%s\",\"env_removed\":\"", ctx->o->policy_hash);
        len = audit_json_escape(extra, len, sizeof(extra) - 2,
                                ctx->o->env_scrubbed ? ctx->o->env_scrubbed : "");
        extra[len++] = '"';
        extra[len] = '\0';
        audit_session("start", extra);

        sentry_limits_prepare(&S);
        r = session_drop_privileges();
        if (r == 0)
                r = session_confine_sentry(S.plat.ops->tracer);
        if (r < 0) {
                sentry_kill_descendants(S.self, 0);
                die_guest("confining the sentry", -r);
        }
        /* Threads only now: capabilities, no_new_privs and the seccomp
         * filter are each thread's own, and a thread starts with its
         * creator's, so every thread of the sentry is as confined as this
         * one (the reaper and the resolver too; the waiters come later). */
        if (pthread_create(&t, NULL, reaper, &sfd) != 0) {
                sentry_kill_descendants(S.self, 0);
                die_guest("starting the reaper", errno);
        }
        r = dns_start(&S.dns, &S.audit, &S.denials, S.trace_fd, &S.trace_lock);
        if (r < 0) {
                sentry_kill_descendants(S.self, 0);
                die_guest("starting the resolver", -r);
        }
        r = sentry_limits_start(&S);
        if (r < 0) {
                sentry_kill_descendants(S.self, 0);
                die_guest("starting the limits monitor", -r);
        }
        sentry_watch_inherited(&S, ctx->o->keep_fds);
        r = sentry_ask_start(&S, ctx->ask_fd, ctx->ask_nobody);
        if (r < 0) {
                sentry_kill_descendants(S.self, 0);
                die_guest("starting approvals", -r);
        }
        if (write(sock_s, &go, 1) != 1) {
                sentry_kill_descendants(S.self, 0);
                _exit(EXIT_INTERPOSE_FAILED);
        }
        /* The sentry creates files for the guest with the guest's umask,
         * applied by hand; its own must not apply on top. (After the guest
         * is forked: it keeps the user's.) */
        umask(0);
        r = sentry_serve(&S);
        if (r == 0) {
                /* No process uses the filter any more: the guest is gone and
                 * the reaper thread is finishing the session. */
                for (;;)
                        poll(NULL, 0, -1);
        }
        /* The listener failed under us: fail closed. */
        sentry_kill_descendants(S.self, 0);
        _exit(EXIT_INTERPOSE_FAILED);
}
