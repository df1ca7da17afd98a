/* SPDX-License-Identifier: MIT */
/*
 * guest-proc CASE: process calls reach the guest's own tree and nothing
 * else (DESIGN.md invariant 4).
 *
 *   own-tree   every pid-taking call works on a child of ours, as natively
 *   outside    the same calls aimed at the sentry (our parent) and at pid 1
 *              fail with ESRCH; confined, the signals sent are SIGKILL, so
 *              a protection that is removed kills the sentry and the run
 *   kill-all   kill(-1) and kill(0) reach the tree only; kill(-1) spares the
 *              caller as kill(2) does; the launcher, in the same process
 *              group when run from a shell, is not signalled
 *   traceme-race  PTRACE_TRACEME while the parent exits: the kernel makes
 *              the parent of the moment the tracer, which after the
 *              reparenting is the sentry (the subreaper); such a tracee
 *              dies at its first stop instead of hanging in it (escape)
 *
 * The native run of "outside" and "kill-all" only probes with signal 0:
 * the real thing would signal the test runner.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <time.h>
#include <pthread.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "guest.h"

#ifndef NS_GET_TGID_IN_PIDNS
#define NS_GET_TGID_IN_PIDNS _IOR(0xb7, 0x9, int)
#endif

static volatile int marker = 0x5eed;

static pid_t spawn_sleeper(void)
{
        int p[2];
        char c;
        pid_t pid;

        if (pipe(p) < 0)
                exit(EXIT_HARD);
        pid = fork();
        if (pid == 0) {
                close(p[0]);
                signal(SIGUSR1, SIG_DFL);
                marker = 0xc41d;
                if (write(p[1], "r", 1) != 1)
                        _exit(99);
                for (;;)
                        pause();
        }
        close(p[1]);
        /* Wait until the child has run, so its memory holds its own value. */
        if (pid < 0 || read(p[0], &c, 1) != 1)
                exit(EXIT_HARD);
        close(p[0]);
        return pid;
}

static void reap_killed(pid_t pid, int sig)
{
        int status;

        CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %m");
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == sig, "child %d: status %#x, want signal %d", pid,
              status, sig);
}

static int own_tree(void)
{
        pid_t child = spawn_sleeper(), self = getpid();
        struct rlimit old;
        cpu_set_t set;
        int value = 0, pidfd;
        struct iovec l = { &value, sizeof(value) }, r = { (void *)&marker, sizeof(marker) };
        long x;

        CHECK(raw(SYS_kill, child, 0, 0, 0, 0, 0) == 0, "kill(child, 0)");
        CHECK(raw(SYS_tgkill, child, child, 0, 0, 0, 0) == 0, "tgkill(child, child, 0)");
        CHECK(raw(SYS_getpgid, child, 0, 0, 0, 0, 0) == raw(SYS_getpgid, 0, 0, 0, 0, 0, 0), "getpgid(child)");
        CHECK(raw(SYS_getsid, child, 0, 0, 0, 0, 0) == raw(SYS_getsid, 0, 0, 0, 0, 0, 0), "getsid(child)");
        CHECK(raw(SYS_setpriority, PRIO_PROCESS, child, 5, 0, 0, 0) == 0, "setpriority(child)");
        x = raw(SYS_getpriority, PRIO_PROCESS, child, 0, 0, 0, 0);
        CHECK(x == 20 - 5, "getpriority(child) = %ld, want 15 (nice 5)", x);
        CHECK(raw(SYS_sched_getaffinity, child, sizeof(set), (long)&set, 0, 0, 0) > 0, "getaffinity");
        CHECK(raw(SYS_prlimit64, child, RLIMIT_NOFILE, 0, (long)&old, 0, 0) == 0, "prlimit64(child)");
        x = raw(SYS_kcmp, self, child, KCMP_VM, 0, 0, 0);
        CHECK(x == 1 || x == 2, "kcmp(self, child, VM) = %ld", x);
        x = raw(SYS_process_vm_readv, child, (long)&l, 1, (long)&r, 1, 0);
        CHECK(x == sizeof(value) && value == 0xc41d, "process_vm_readv(child) = %ld, value %#x", x, value);
        value = 0x1234;
        x = raw(SYS_process_vm_writev, child, (long)&l, 1, (long)&r, 1, 0);
        CHECK(x == sizeof(value), "process_vm_writev(child) = %ld", x);
        value = 0;
        raw(SYS_process_vm_readv, child, (long)&l, 1, (long)&r, 1, 0);
        CHECK(value == 0x1234, "the write did not land: %#x", value);

        pidfd = (int)raw(SYS_pidfd_open, child, 0, 0, 0, 0, 0);
        CHECK(pidfd >= 0, "pidfd_open(child) = %d", pidfd);
        x = raw(SYS_pidfd_getfd, pidfd, 2, 0, 0, 0, 0);
        CHECK(x >= 0, "pidfd_getfd(child, 2) = %ld", x);
        if (x >= 0)
                close((int)x);
        CHECK(raw(SYS_pidfd_send_signal, pidfd, 0, 0, 0, 0, 0) == 0, "pidfd_send_signal(child, 0)");
        /* A /proc/PID directory stands for a pidfd there (CPython's
         * test_signal); a task's directory below it does not. */
        {
                char dir[64];
                snprintf(dir, sizeof(dir), "/proc/%d", (int)child);
                int pd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                CHECK(pd >= 0, "open(%s)", dir);
                x = raw(SYS_pidfd_send_signal, pd, 0, 0, 0, 0, 0);
                CHECK(x == 0, "pidfd_send_signal(/proc/child, 0) = %ld", x);
                close(pd);
                snprintf(dir, sizeof(dir), "/proc/self/task/%d", (int)self);
                pd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                CHECK(pd >= 0, "open(%s)", dir);
                x = raw(SYS_pidfd_send_signal, pd, 0, 0, 0, 0, 0);
                CHECK(x == -EBADF, "pidfd_send_signal(a task directory, 0) = %ld, not EBADF", x);
                close(pd);
                pd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
                x = raw(SYS_pidfd_send_signal, pd, 0, 0, 0, 0, 0);
                CHECK(x == -EBADF, "pidfd_send_signal(a /proc file, 0) = %ld, not EBADF", x);
                close(pd);
        }

        x = raw(SYS_ptrace, PTRACE_SEIZE, child, 0, 0, 0, 0);
        CHECK(x == 0, "ptrace(SEIZE, child) = %ld", x);
        if (x == 0) {
                CHECK(raw(SYS_ptrace, PTRACE_INTERRUPT, child, 0, 0, 0, 0) == 0, "PTRACE_INTERRUPT");
                int status;
                CHECK(waitpid(child, &status, __WALL) == child && WIFSTOPPED(status), "trace stop");
                CHECK(raw(SYS_ptrace, PTRACE_DETACH, child, 0, 0, 0, 0) == 0, "PTRACE_DETACH");
        }

        /* Owners of an fd (SIGIO/SIGURG go to them): our child may be one,
         * through fcntl and through the ioctl forms. */
        int sv[2], who = child;
        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
        CHECK(raw(SYS_fcntl, sv[0], F_SETOWN, child, 0, 0, 0) == 0, "fcntl(F_SETOWN, child)");
        CHECK(fcntl(sv[0], F_GETOWN) == child, "F_GETOWN after F_SETOWN: %d", fcntl(sv[0], F_GETOWN));
        CHECK(raw(SYS_ioctl, sv[1], FIOSETOWN, (long)&who, 0, 0, 0) == 0, "ioctl(FIOSETOWN, child)");
        CHECK(fcntl(sv[1], F_GETOWN) == child, "F_GETOWN after FIOSETOWN: %d", fcntl(sv[1], F_GETOWN));
        who = self;
        CHECK(raw(SYS_ioctl, sv[1], SIOCSPGRP, (long)&who, 0, 0, 0) == 0, "ioctl(SIOCSPGRP, self)");
        CHECK(fcntl(sv[1], F_GETOWN) == self, "F_GETOWN after SIOCSPGRP: %d", fcntl(sv[1], F_GETOWN));
        x = raw(SYS_ioctl, 2, SIOCSPGRP, (long)&who, 0, 0, 0);
        CHECK(x == -ENOTTY || x == -EINVAL, "SIOCSPGRP on a non-socket = %ld", x);
        close(sv[0]);
        close(sv[1]);

        /* The last signal goes through the pidfd; the child dies of it. */
        CHECK(raw(SYS_pidfd_send_signal, pidfd, SIGTERM, 0, 0, 0, 0) == 0, "pidfd_send_signal(TERM)");
        reap_killed(child, SIGTERM);
        close(pidfd);

        child = spawn_sleeper();
        CHECK(raw(SYS_kill, child, SIGKILL, 0, 0, 0, 0) == 0, "kill(child, KILL)");
        reap_killed(child, SIGKILL);
        return guest_result();
}

/* Every call aimed at pid, which must not be ours. */
static void aim_outside(pid_t pid, int sig, bool confined)
{
        struct iovec l = { &(int){ 0 }, sizeof(int) }, r = { (void *)0x10000, sizeof(int) };
        struct rlimit one = { 1, 1 }, old;
        cpu_set_t set;
        siginfo_t si = { .si_signo = sig, .si_code = SI_QUEUE };
        struct sched_param sp = { 0 };
        void *head;
        size_t len;
        long x;

#define OUTSIDE(call, ...)                                                      \
        do {                                                                    \
                x = raw(__VA_ARGS__);                                           \
                NOTE("%s on %d = %ld", call, pid, x);                           \
                if (confined)                                                   \
                        CHECK(x == -ESRCH || (pid == getppid() && x == -EPERM), \
                              "%s on %d: want -ESRCH, got %ld", call, pid, x);  \
        } while (0)

        OUTSIDE("kill", SYS_kill, pid, sig, 0, 0, 0, 0);
        OUTSIDE("tkill", SYS_tkill, pid, sig, 0, 0, 0, 0);
        OUTSIDE("tgkill", SYS_tgkill, pid, pid, sig, 0, 0, 0);
        OUTSIDE("rt_sigqueueinfo", SYS_rt_sigqueueinfo, pid, sig ? sig : SIGCONT, confined ? (long)&si : 1, 0,
                0, 0);
        OUTSIDE("rt_tgsigqueueinfo", SYS_rt_tgsigqueueinfo, pid, pid, sig ? sig : SIGCONT,
                confined ? (long)&si : 1, 0, 0);
        OUTSIDE("getpgid", SYS_getpgid, pid, 0, 0, 0, 0, 0);
        OUTSIDE("getsid", SYS_getsid, pid, 0, 0, 0, 0, 0);
        OUTSIDE("getpriority", SYS_getpriority, PRIO_PROCESS, pid, 0, 0, 0, 0);
        OUTSIDE("sched_getaffinity", SYS_sched_getaffinity, pid, sizeof(set), (long)&set, 0, 0, 0);
        OUTSIDE("sched_getscheduler", SYS_sched_getscheduler, pid, 0, 0, 0, 0, 0);
        OUTSIDE("get_robust_list", SYS_get_robust_list, pid, (long)&head, (long)&len, 0, 0, 0);
        OUTSIDE("kcmp", SYS_kcmp, pid, getpid(), KCMP_VM, 0, 0, 0);
        OUTSIDE("process_vm_readv", SYS_process_vm_readv, pid, (long)&l, 1, (long)&r, 1, 0);
        OUTSIDE("pidfd_open", SYS_pidfd_open, pid, 0, 0, 0, 0, 0);
        OUTSIDE("prlimit64", SYS_prlimit64, pid, RLIMIT_NOFILE, 0, (long)&old, 0, 0);
        /* Reading another process: its capabilities, its CPU clock. */
        struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, pid };
        struct __user_cap_data_struct caps[2];
        struct timespec ts;
        OUTSIDE("capget", SYS_capget, (long)&hdr, (long)caps, 0, 0, 0, 0);
        x = raw(SYS_clock_gettime, (int)((~(unsigned)pid << 3) | 2) /* CPUCLOCK_SCHED */, (long)&ts, 0, 0, 0,
                0);
        NOTE("clock_gettime(cpu clock of %d) = %ld", pid, x);
        if (confined)
                CHECK(x == -EINVAL, "clock_gettime(cpu clock of %d): want -EINVAL, got %ld", pid, x);
        /* Whether it exists, asked of a pid namespace fd (Linux 6.11). */
        int ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        x = ns < 0 ? -errno : raw(SYS_ioctl, ns, NS_GET_TGID_IN_PIDNS, pid, 0, 0, 0);
        NOTE("ioctl(ns/pid, NS_GET_TGID_IN_PIDNS, %d) = %ld", pid, x);
        if (confined)
                CHECK(x == -ENOTTY, "NS_GET_TGID_IN_PIDNS of %d: want -ENOTTY, got %ld", pid, x);
        if (ns >= 0)
                close(ns);
        if (!confined)
                return;
        /* Only confined: natively these would act on the test runner. */
        OUTSIDE("setpriority", SYS_setpriority, PRIO_PROCESS, pid, 19, 0, 0, 0);
        OUTSIDE("ioprio_set", SYS_ioprio_set, 1, pid, (3 << 13) | 7, 0, 0, 0);
        OUTSIDE("sched_setaffinity", SYS_sched_setaffinity, pid, sizeof(set), (long)&set, 0, 0, 0);
        OUTSIDE("sched_setscheduler", SYS_sched_setscheduler, pid, SCHED_IDLE, (long)&sp, 0, 0, 0);
        OUTSIDE("prlimit64(set)", SYS_prlimit64, pid, RLIMIT_NOFILE, (long)&one, 0, 0, 0);
        OUTSIDE("process_vm_writev", SYS_process_vm_writev, pid, (long)&l, 1, (long)&r, 1, 0);
        OUTSIDE("ptrace(ATTACH)", SYS_ptrace, PTRACE_ATTACH, pid, 0, 0, 0, 0);
        OUTSIDE("ptrace(SEIZE)", SYS_ptrace, PTRACE_SEIZE, pid, 0, 0, 0, 0);
        OUTSIDE("migrate_pages", SYS_migrate_pages, pid, 1, (long)&(long){ 1 }, (long)&(long){ 1 }, 0, 0);
        OUTSIDE("move_pages", SYS_move_pages, pid, 0, 0, 0, 0, 0);
        OUTSIDE("fcntl(F_SETOWN)", SYS_fcntl, 2, F_SETOWN, pid, 0, 0, 0);
        OUTSIDE("fcntl(F_SETOWN pgrp)", SYS_fcntl, 2, F_SETOWN, -pid, 0, 0, 0);
        /* The ioctl forms of F_SETOWN, on a socket (SIGURG, SIGIO). */
        int sv[2], who = pid, group = -pid;
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
                exit(EXIT_HARD);
        OUTSIDE("ioctl(FIOSETOWN)", SYS_ioctl, sv[0], FIOSETOWN, (long)&who, 0, 0, 0);
        OUTSIDE("ioctl(SIOCSPGRP)", SYS_ioctl, sv[0], SIOCSPGRP, (long)&who, 0, 0, 0);
        OUTSIDE("ioctl(SIOCSPGRP pgrp)", SYS_ioctl, sv[0], SIOCSPGRP, (long)&group, 0, 0, 0);
        OUTSIDE("ioctl(FIOSETOWN high bits)", SYS_ioctl, sv[0], 0x100000000L | FIOSETOWN, (long)&who, 0, 0,
                0);
        close(sv[0]);
        close(sv[1]);
#undef OUTSIDE
        /* Groups and users reach past the tree: refused outright. */
        x = raw(SYS_setpriority, PRIO_USER, 0, 19, 0, 0, 0);
        CHECK(x == -EPERM, "setpriority(PRIO_USER) = %ld", x);
        x = raw(SYS_setpriority, PRIO_PGRP, 0, 19, 0, 0, 0);
        CHECK(x == -EPERM, "setpriority(PRIO_PGRP, 0) = %ld", x);
        /* The pidfd of a process outside cannot be had, so a pidfd of our
         * own must still work after all that. */
}

static int outside(void)
{
        bool confined = guest_confined();
        pid_t parent = getppid();

        /* Confined, our parent is the sentry: SIGKILL it if you can. */
        aim_outside(parent, confined ? SIGKILL : 0, confined);
        aim_outside(1, 0, confined);
        CHECK(getppid() == parent, "our parent changed: it was killed");
        return guest_result();
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
        (void)sig;
        got_usr1++;
}

/* kill(-1, SIGUSR1) from a child: the sleeper dies of it, we catch it, the
 * sender is spared; outside the tree, the launcher (whose default action
 * for SIGUSR1 is to die) and the test runner are untouched. */
static int kill_all(void)
{
        int status;
        pid_t sleeper, sender;

        if (!guest_confined()) {
                NOTE("native: kill(-1) would signal the test runner; probing kill(0, 0) only");
                CHECK(raw(SYS_kill, 0, 0, 0, 0, 0, 0) == 0, "kill(0, 0)");
                return guest_result();
        }
        signal(SIGUSR1, on_usr1);
        for (int round = 0; round < 2; round++) {
                got_usr1 = 0;
                sleeper = spawn_sleeper();
                sender = fork();
                if (sender == 0) {
                        /* kill(-1) spares the caller; kill(0) does not. */
                        got_usr1 = 0;
                        if (raw(SYS_kill, round == 0 ? -1 : 0, SIGUSR1, 0, 0, 0, 0) != 0)
                                _exit(2);
                        _exit(got_usr1 == round ? 0 : 3);
                }
                CHECK(waitpid(sender, &status, 0) == sender && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "kill(%d, USR1) sender: status %#x", round == 0 ? -1 : 0, status);
                reap_killed(sleeper, SIGUSR1);
                CHECK(got_usr1 == 1, "kill(%d, USR1): the caller's parent got %d signals, want 1",
                      round == 0 ? -1 : 0, (int)got_usr1);
        }
        return guest_result();
}

/* PTRACE_TRACEME makes the parent the tracer; for the first guest process
 * that is the sentry, which refuses. A child of ours may still ask it of
 * us, as a debugger's child does. */
static int traceme(void)
{
        int status;
        pid_t child;
        long r;

        /* Natively our parent is the test runner, which would then hold us
         * in a trace stop at the first signal: only the child part runs. */
        if (guest_confined()) {
                r = raw(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0, 0, 0);
                CHECK(r == -EPERM, "PTRACE_TRACEME to the sentry = %ld, want -EPERM", r);
        }
        child = fork();
        if (child == 0)
                _exit(raw(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0, 0, 0) == 0 ? 0 : 1);
        CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "TRACEME to a guest parent: status %#x", status);
        return guest_result();
}

static int tracer_pid(void)
{
        char buf[4096] = "";
        const char *p;
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -1;
        (void)!read(fd, buf, sizeof(buf) - 1);
        close(fd);
        p = strstr(buf, "\nTracerPid:");
        return p ? atoi(p + 11) : -1;
}

/* One try: P forks C and exits as soon as C is calling PTRACE_TRACEME in a
 * loop, so some TRACEME is in flight when C is reparented to the sentry
 * (natively: to the runner's subreaper). C reports what it became and
 * stops once for its tracer (a signal). 1: C was made the sentry's
 * tracee, 0: not this time, -1: error. */
static int traceme_race_try(void)
{
        int out[2], go[2];
        char buf[128] = "";
        ssize_t n = 0, k;
        pid_t p;

        if (pipe(out) < 0 || pipe(go) < 0)
                return -1;
        p = fork();
        if (p == 0) {
                pid_t c = fork();
                if (c == 0) {
                        pid_t parent = getppid();
                        /* Handled: untraced, the signal does no harm. */
                        signal(SIGUSR1, on_usr1);
                        close(out[0]);
                        close(go[0]);
                        if (write(go[1], "g", 1) != 1)
                                _exit(99);
                        for (;;) {
                                long r = raw(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0, 0, 0);
                                if (r == 0 && getppid() != parent) {
                                        /* Traced after our parent went: by
                                         * the parent we have now. Natively
                                         * (or on ptrace, where TracerPid is
                                         * always the sentry) nothing to try. */
                                        dprintf(out[1], "W%d %d\n", tracer_pid(), (int)getppid());
                                        raise(SIGUSR1);
                                        dprintf(out[1], "alive\n");
                                        _exit(0);
                                }
                                if (r == 0)
                                        while (getppid() == parent)
                                                ; /* traced by the parent: until it is gone */
                                else if (getppid() != parent)
                                        _exit(0);
                        }
                }
                char b;
                _exit(read(go[0], &b, 1) == 1 ? 0 : 99);
        }
        close(out[1]);
        close(go[0]);
        close(go[1]);
        waitpid(p, NULL, 0);
        while (n < (ssize_t)sizeof(buf) - 1 && (k = read(out[0], buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
                n += k;
        close(out[0]);
        if (buf[0] != 'W')
                return 0;
        int tracer = 0, parent = 0;
        sscanf(buf + 1, "%d %d", &tracer, &parent);
        bool alive = strstr(buf, "alive") != NULL;
        if (tracer != parent || tracer <= 0) {
                CHECK(alive, "a tracee whose tracer went runs on: %s", buf);
                return 0;
        }
        /* Its tracer is the sentry, which never resumes a stop. */
        CHECK(!alive, "the sentry's tracee was not stopped for good: %s", buf);
        return 1;
}

static int traceme_race(void)
{
        int won = 0;

        /* Natively the orphan goes to the runner's subreaper, which would
         * hold it in its stop; on ptrace TracerPid always names the sentry
         * (its tracing of the guest's is emulated) and there is no race. */
        if (!guest_confined() || guest_traced())
                return EXIT_SKIP;
        /* A deadline for a hang (the tracee held in its stop, the pipe never
         * closed), not a measure. */
        alarm(20);
        for (int i = 0; i < 5000 && won < 3; i++) {
                int r = traceme_race_try();
                if (r < 0)
                        return EXIT_HARD;
                won += r;
        }
        alarm(0);
        NOTE("won the race %d times", won);
        if (!won)
                return EXIT_SKIP;
        return guest_result();
}

static void *park(void *arg)
{
        for (;;)
                pause();
        return arg;
}

/* kill(2) with the id of a thread that leads nothing means its process. */
static int kill_thread_id(void)
{
        int p[2], status;
        pid_t child, tid = 0;

        if (pipe(p) < 0)
                return EXIT_HARD;
        child = fork();
        if (child == 0) {
                pthread_t t;
                pthread_create(&t, NULL, park, NULL);
                pid_t me = (pid_t)syscall(SYS_gettid);
                /* The new thread's id: ours is the process's; ask the
                 * kernel for the other entry of our task list. */
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/task", (int)getpid());
                DIR *d = opendir(path);
                struct dirent *de;
                pid_t other = 0;
                while (d && (de = readdir(d)))
                        if (atoi(de->d_name) > 0 && atoi(de->d_name) != me)
                                other = atoi(de->d_name);
                if (write(p[1], &other, sizeof(other)) != sizeof(other))
                        _exit(99);
                park(NULL);
        }
        if (read(p[0], &tid, sizeof(tid)) != sizeof(tid) || tid <= 0)
                return EXIT_HARD;
        CHECK(raw(SYS_kill, tid, 0, 0, 0, 0, 0) == 0, "kill(thread id %d, 0)", tid);
        CHECK(raw(SYS_kill, tid, SIGTERM, 0, 0, 0, 0) == 0, "kill(thread id %d, TERM)", tid);
        CHECK(waitpid(child, &status, 0) == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
              "the process of thread %d: status %#x", tid, status);
        return guest_result();
}

int main(int argc, char **argv)
{
        const char *c = argc > 1 ? argv[1] : "";

        setvbuf(stderr, NULL, _IONBF, 0);
        if (!strcmp(c, "own-tree"))
                return own_tree();
        if (!strcmp(c, "outside"))
                return outside();
        if (!strcmp(c, "kill-all"))
                return kill_all();
        if (!strcmp(c, "traceme"))
                return traceme();
        if (!strcmp(c, "kill-thread-id"))
                return kill_thread_id();
        if (!strcmp(c, "traceme-race"))
                return traceme_race();
        fprintf(stderr, "guest-proc: unknown case '%s'\n", c);
        return EXIT_HARD;
}
