/* SPDX-License-Identifier: MIT */
/*
 * guest-threads CASE: the process family behaves as natively.
 *
 *   threads    32 threads making trapped calls at once, every answer right
 *   fork       fork, vfork, raw clone(SIGCHLD), exit codes and signals
 *              through wait4 and waitid
 *   clone3     natively it works; confined it says ENOSYS and glibc's
 *              pthread_create falls back to clone
 *   exec       execve from a thread of a multithreaded process; an exec
 *              of a missing file fails with ENOENT, the caller lives on
 *   affinity   a thread's CPU mask is its own: the sentry holds a caller to
 *              one CPU while it installs an fd (platform/unotify.c); the
 *              caller never sees that mask, and keeps one it set itself
 *   affinity-other  another thread sets and reads back the mask of one
 *              that keeps opening files: every setting holds
 *   sigchld    children exit while their parent, with a SIGCHLD handler
 *              without SA_RESTART, stats, reads links and opens: no call
 *              fails with EINTR
 *   fair       40 threads making trapped calls without end: each gets its
 *              calls answered, however busy the others (the main thread
 *              waits for every one's first answer, then exits); on ptrace
 *              the first few threads took every answer and the rest
 *              waited for ever (CPython's test_threading hung)
 */
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "guest.h"

#define NTHREADS 32
#define CALLS 300

static char expect_node[65];

static void *hammer(void *arg)
{
        struct utsname u;
        long bad = 0;

        for (int i = 0; i < CALLS; i++) {
                /* uname is trapped; kill(getpid(), 0) is trapped and checked. */
                if (raw(SYS_uname, (long)&u, 0, 0, 0, 0, 0) != 0 || strcmp(u.nodename, expect_node))
                        bad++;
                if (raw(SYS_kill, getpid(), 0, 0, 0, 0, 0) != 0)
                        bad++;
                if (raw(SYS_getppid, 0, 0, 0, 0, 0, 0) <= 0)
                        bad++;
        }
        (void)arg;
        return (void *)bad;
}

static int threads(void)
{
        pthread_t t[NTHREADS];
        struct utsname u;

        uname(&u);
        snprintf(expect_node, sizeof(expect_node), "%s", u.nodename);
        for (int i = 0; i < NTHREADS; i++)
                CHECK(pthread_create(&t[i], NULL, hammer, NULL) == 0, "pthread_create %d", i);
        for (int i = 0; i < NTHREADS; i++) {
                void *bad;
                CHECK(pthread_join(t[i], &bad) == 0 && bad == NULL, "thread %d: %ld wrong answers", i,
                      (long)(intptr_t)bad);
        }
        return guest_result();
}

static int wait_status(pid_t pid)
{
        int status;

        if (waitpid(pid, &status, 0) != pid)
                return -1;
        return status;
}

static int fork_family(void)
{
        siginfo_t si;
        pid_t pid;
        int st;
        long r;

        pid = fork();
        if (pid == 0)
                _exit(42);
        st = wait_status(pid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42, "fork: status %#x", st);

        volatile int touched = 0;
        pid = vfork();
        if (pid == 0) {
                touched = 1; /* vfork shares our memory until _exit */
                _exit(7);
        }
        st = wait_status(pid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7 && touched == 1, "vfork: status %#x touched %d", st,
              touched);

        r = raw(SYS_clone, SIGCHLD, 0, 0, 0, 0, 0);
        if (r == 0)
                _exit(9);
        CHECK(r > 0, "clone(SIGCHLD) = %ld", r);
        st = wait_status((pid_t)r);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 9, "clone: status %#x", st);

        pid = fork();
        if (pid == 0) {
                raise(SIGUSR2); /* not SEGV: sanitizers catch that */
                _exit(0);
        }
        CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED) == 0 && si.si_code == CLD_KILLED &&
                      si.si_status == SIGUSR2 && si.si_pid == pid,
              "waitid: code %d status %d", si.si_code, si.si_status);

        /* Grandchildren are reaped by their own parent, not by us. */
        pid = fork();
        if (pid == 0) {
                pid_t g = fork();
                if (g == 0)
                        _exit(5);
                int gs = wait_status(g);
                _exit(WIFEXITED(gs) && WEXITSTATUS(gs) == 5 ? 0 : 1);
        }
        st = wait_status(pid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "grandchild: status %#x", st);
        CHECK(waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD, "a stray child is left");
        return guest_result();
}

static void *idle(void *arg)
{
        return arg;
}

static int clone3_case(void)
{
        struct clone_args a = { .exit_signal = SIGCHLD };
        pthread_t t;
        long r;

        r = raw(SYS_clone3, (long)&a, sizeof(a), 0, 0, 0, 0);
        if (r == 0)
                _exit(11);
        if (guest_confined()) {
                CHECK(r == -ENOSYS, "clone3 = %ld, want -ENOSYS", r);
        } else {
                CHECK(r > 0, "clone3 natively = %ld", r);
                if (r > 0) {
                        int st = wait_status((pid_t)r);
                        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 11, "clone3 child: %#x", st);
                }
        }
        CHECK(pthread_create(&t, NULL, idle, NULL) == 0 && pthread_join(t, NULL) == 0,
              "pthread_create after clone3");
        return guest_result();
}

static void *exec_from_thread(void *arg)
{
        char *argv[] = { "sh", "-c", "exit 33", NULL };

        (void)arg;
        execv("/bin/sh", argv);
        _exit(98);
}

static void *spin(void *arg)
{
        for (;;)
                pause();
        return arg;
}

static int exec_case(void)
{
        pid_t pid;
        int st;
        long r;

        r = raw(SYS_execve, (long)"/nonexistent/interpose-test", (long)(char *[]){ "x", NULL },
                (long)(char *[]){ NULL }, 0, 0, 0);
        CHECK(r == -ENOENT, "execve(missing) = %ld", r);
        r = raw(SYS_execve, 1, 0, 0, 0, 0, 0);
        CHECK(r == -EFAULT, "execve(bad pointer) = %ld", r);

        pid = fork();
        if (pid == 0) {
                pthread_t t[4];
                for (int i = 0; i < 3; i++)
                        pthread_create(&t[i], NULL, spin, NULL);
                pthread_create(&t[3], NULL, exec_from_thread, NULL);
                for (;;)
                        pause();
        }
        st = wait_status(pid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 33, "exec from a thread: status %#x", st);
        return guest_result();
}

#define NFAIR 40
static int fair_answered;

static void *fair_worker(void *arg)
{
        struct utsname u;
        bool first = true;

        (void)arg;
        for (;;) {
                /* An open's answer is an fd installed: much for the sentry
                 * to do while the other threads trap again. */
                long fd = raw(SYS_openat, AT_FDCWD, (long)"/dev/null", O_RDONLY | O_CLOEXEC, 0, 0, 0);
                if (fd >= 0)
                        raw(SYS_close, fd, 0, 0, 0, 0, 0);
                raw(SYS_uname, (long)&u, 0, 0, 0, 0, 0);
                if (first)
                        __atomic_add_fetch(&fair_answered, 1, __ATOMIC_SEQ_CST);
                first = false;
        }
        return NULL;
}

/* Busy threads do not starve the others of answers. Unfair, this hangs
 * (the run's timeout says so); there is no deadline of its own. */
static int fair_case(void)
{
        pthread_t t;

        for (int i = 0; i < NFAIR; i++)
                CHECK(pthread_create(&t, NULL, fair_worker, NULL) == 0, "pthread_create %d", i);
        while (__atomic_load_n(&fair_answered, __ATOMIC_SEQ_CST) < NFAIR)
                sched_yield();
        fflush(stdout);
        raw(SYS_exit_group, guest_result(), 0, 0, 0, 0, 0);
        return EXIT_HARD;
}

/* exit(2) in a process's only thread ends the process: natively and
 * confined the parent sees the status, and the log has an exit record. */
static int exit_thread(void)
{
        int status;
        pid_t pid = fork();

        if (pid == 0) {
                raw(SYS_exit, 5, 0, 0, 0, 0, 0);
                _exit(99);
        }
        CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 5,
              "exit(5): status %#x", status);
        return guest_result();
}

/* Opens are answered with an installed fd, the call the sentry makes on
 * one CPU; after each, the mask is the caller's own again. */
static int affinity_case(void)
{
        cpu_set_t all, one, now;
        int last = -1;

        CHECK(sched_getaffinity(0, sizeof(all), &all) == 0, "sched_getaffinity: %s", strerror(errno));
        if (CPU_COUNT(&all) < 2) {
                NOTE("one CPU: nothing to narrow");
                return EXIT_SKIP;
        }
        for (int i = 0; i < 2000; i++) {
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                CHECK(fd >= 0, "open /dev/null: %s", strerror(errno));
                close(fd);
                if (sched_getaffinity(0, sizeof(now), &now) != 0 || !CPU_EQUAL(&now, &all)) {
                        CHECK(0, "after open %d the mask has %d CPUs, not %d", i, CPU_COUNT(&now),
                              CPU_COUNT(&all));
                        break;
                }
        }
        for (int c = 0; c < CPU_SETSIZE; c++)
                if (CPU_ISSET(c, &all))
                        last = c;
        CPU_ZERO(&one);
        CPU_SET(last, &one);
        CHECK(sched_setaffinity(0, sizeof(one), &one) == 0, "sched_setaffinity: %s", strerror(errno));
        for (int i = 0; i < 500; i++) {
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                CHECK(fd >= 0, "open /dev/null: %s", strerror(errno));
                close(fd);
                if (sched_getaffinity(0, sizeof(now), &now) != 0 || !CPU_EQUAL(&now, &one) ||
                    sched_getcpu() != last) {
                        CHECK(0, "after open %d: %d CPUs in the mask, on CPU %d, want only CPU %d", i,
                              CPU_COUNT(&now), sched_getcpu(), last);
                        break;
                }
        }
        return guest_result();
}

static volatile int opener_go = 1;
static volatile pid_t opener_tid;

static void *opener(void *arg)
{
        opener_tid = (pid_t)syscall(SYS_gettid);
        while (opener_go) {
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd >= 0)
                        close(fd);
        }
        return arg;
}

/* sets[0]: every CPU this thread may use, sets[1]: the first of them
 * alone. False (the case is skipped) with one CPU: nothing to narrow. */
static bool two_masks(cpu_set_t sets[2])
{
        int first = -1;

        CHECK(sched_getaffinity(0, sizeof(sets[0]), &sets[0]) == 0, "sched_getaffinity");
        if (CPU_COUNT(&sets[0]) < 2) {
                NOTE("one CPU: nothing to narrow");
                return false;
        }
        for (int c = 0; c < CPU_SETSIZE && first < 0; c++)
                if (CPU_ISSET(c, &sets[0]))
                        first = c;
        CPU_ZERO(&sets[1]);
        CPU_SET(first, &sets[1]);
        return true;
}

/* Set target's mask to sets[0] and sets[1] in turn, 2,000 times, reading
 * each back: how many did not hold. */
static int toggle_mask(pid_t target, const cpu_set_t sets[2])
{
        cpu_set_t now;
        int lost = 0;

        for (int i = 0; i < 2000; i++) {
                const cpu_set_t *want = &sets[i & 1];
                if (sched_setaffinity(target, sizeof(*want), want) != 0 ||
                    sched_getaffinity(target, sizeof(now), &now) != 0 || !CPU_EQUAL(&now, want))
                        lost++;
        }
        return lost;
}

static int affinity_other(void)
{
        cpu_set_t sets[2];
        pthread_t t;
        int lost;

        if (!two_masks(sets))
                return EXIT_SKIP;
        pthread_create(&t, NULL, opener, NULL);
        while (!opener_tid)
                sched_yield();
        lost = toggle_mask(opener_tid, sets);
        opener_go = 0;
        pthread_join(t, NULL);
        CHECK(lost == 0, "%d of 2000 settings of another thread's mask did not hold", lost);
        return guest_result();
}

/* The same with the roles swapped: the first thread opens, another sets
 * and reads the mask of the process id, which names the first thread. */
static volatile int setter_done;
static int setter_lost;

static void *setter(void *arg)
{
        setter_lost = toggle_mask(getpid(), arg);
        setter_done = 1;
        return NULL;
}

static int affinity_leader(void)
{
        cpu_set_t sets[2];
        pthread_t t;

        if (!two_masks(sets))
                return EXIT_SKIP;
        pthread_create(&t, NULL, setter, sets);
        while (!setter_done) {
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd >= 0)
                        close(fd);
        }
        pthread_join(t, NULL);
        sched_setaffinity(0, sizeof(sets[0]), &sets[0]);
        CHECK(setter_lost == 0,
              "%d of 2000 settings of the first thread's mask by the process id did not hold", setter_lost);
        return guest_result();
}

/* A child's exit signals its parent, which meanwhile makes calls that
 * never fail with EINTR natively (stat, readlink, open of a file). Under a
 * platform, a call still waiting for the sentry when the signal comes is
 * interrupted; with a handler that lacks SA_RESTART (dash's SIGCHLD), the
 * caller would see EINTR: "command not found" in a shell script. */
static volatile sig_atomic_t chld_seen;

static void on_chld(int sig)
{
        (void)sig;
        chld_seen++;
}

static int sigchld_case(void)
{
        struct sigaction sa = { .sa_handler = on_chld }; /* no SA_RESTART */
        char buf[64];
        int eintr = 0, calls = 0;

        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGCHLD, &sa, NULL) < 0)
                return EXIT_HARD;
        for (int i = 0; i < 300; i++) {
                pid_t pid = fork();
                if (pid < 0)
                        return EXIT_HARD;
                if (pid == 0)
                        _exit(0);
                for (;;) {
                        struct stat st;
                        int fd, st_r, rl_r;
                        st_r = stat("/usr/bin", &st);
                        eintr += st_r < 0 && errno == EINTR;
                        rl_r = (int)readlink("/proc/self/exe", buf, sizeof(buf));
                        eintr += rl_r < 0 && errno == EINTR;
                        fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
                        eintr += fd < 0 && errno == EINTR;
                        if (fd >= 0)
                                close(fd);
                        calls += 3;
                        int w = waitpid(pid, NULL, WNOHANG);
                        if (w == pid)
                                break;
                        if (w < 0 && errno != EINTR)
                                return EXIT_HARD;
                }
        }
        CHECK(eintr == 0, "%d of %d calls failed with EINTR when a child's exit signalled", eintr, calls);
        CHECK(chld_seen > 0, "no SIGCHLD was handled");
        return guest_result();
}

int main(int argc, char **argv)
{
        const char *c = argc > 1 ? argv[1] : "";

        setvbuf(stderr, NULL, _IONBF, 0);
        if (!strcmp(c, "threads"))
                return threads();
        if (!strcmp(c, "fork"))
                return fork_family();
        if (!strcmp(c, "clone3"))
                return clone3_case();
        if (!strcmp(c, "exec"))
                return exec_case();
        if (!strcmp(c, "exit"))
                return exit_thread();
        if (!strcmp(c, "affinity"))
                return affinity_case();
        if (!strcmp(c, "affinity-other"))
                return affinity_other();
        if (!strcmp(c, "affinity-leader"))
                return affinity_leader();
        if (!strcmp(c, "sigchld"))
                return sigchld_case();
        if (!strcmp(c, "fair"))
                return fair_case();
        fprintf(stderr, "guest-threads: unknown case '%s'\n", c);
        return EXIT_HARD;
}
