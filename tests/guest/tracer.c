/* SPDX-License-Identifier: MIT */
/*
 * The guest as a tracer of its own children (a debugger, strace): the
 * same expectations natively and on every platform. On the ptrace
 * platform the sentry traces every guest thread, so all of this is its
 * emulation; on seccomp-unotify it is the kernel's.
 *
 *   syscalls  PTRACE_SYSCALL stops at each entry and exit, also of calls
 *             the sentry answers (an open that gets an fd, uname)
 *   memory    PEEKDATA/POKEDATA, GETREGS/SETREGS, GETREGSET, GETFPREGS
 *   signals   signal-delivery-stops: suppressed, injected, GETSIGINFO
 *   events    fork/clone/exec events, a followed grandchild and thread,
 *             their ends told to the tracer
 *   seize     SEIZE, INTERRUPT, group-stop and LISTEN, DETACH; WNOHANG
 *             on a tracee that is not our child
 *   rewrite   a call rewritten at its entry is decided as rewritten: an
 *             open of a denied file stays denied (escape)
 *   seccomp   a tracer's seccomp powers: PTRACE_O_SUSPEND_SECCOMP and
 *             PTRACE_SECCOMP_GET_FILTER are refused (they need
 *             CAP_SYS_ADMIN); a call rewritten at a PTRACE_EVENT_SECCOMP
 *             stop of the tracee's own filter (seccomp-unotify; the ptrace
 *             platform refuses PTRACE_O_TRACESECCOMP) and a call made under
 *             syscall user dispatch are still decided (escape)
 *   exec-held a thread held in a stop for us is replaced by an exec from
 *             another thread of its process: the new image is not ours to
 *             resume (ESRCH), and its calls are still decided (escape)
 *   exec-parked  a tracer blocked in a wait while its other thread execs:
 *             the new image runs as natively
 *   wait-einval  waits with bad options fail at once (EINVAL)
 *   interrupt-parked  PTRACE_INTERRUPT of a tracer blocked in a wait
 *   orphans   new processes of a parent killed while it forks are never
 *             left stopped
 */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "guest.h"

static volatile long target = 0x1111;

/* A child that stops itself for us, as a debugger's does. */
static pid_t traced_child(void (*body)(void))
{
        int status;
        pid_t child = fork();

        if (child < 0)
                exit(EXIT_HARD);
        if (child == 0) {
                if (raw(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0, 0, 0) != 0)
                        _exit(90);
                raise(SIGSTOP);
                body();
                _exit(0);
        }
        if (waitpid(child, &status, 0) != child || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
                fprintf(stderr, "first stop of the traced child: status %#x\n", status);
                exit(EXIT_FAIL);
        }
        return child;
}

static void finish(pid_t child, int want_code)
{
        int status;

        CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == want_code,
              "traced child's end: status %#x, want exit %d", status, want_code);
}

/* --- syscalls --- */

static void syscalls_body(void)
{
        struct utsname u;
        int fd = (int)raw(SYS_openat, AT_FDCWD, (long)"/etc/hostname", O_RDONLY | O_CLOEXEC, 0, 0, 0);
        char c;

        if (fd < 0 || read(fd, &c, 1) != 1)
                _exit(91);
        close(fd);
        if (raw(SYS_uname, (long)&u, 0, 0, 0, 0, 0) != 0)
                _exit(92);
        if (raw(SYS_getppid, 0, 0, 0, 0, 0, 0) <= 0)
                _exit(93);
        _exit(7);
}

static int syscalls(void)
{
        pid_t child = traced_child(syscalls_body);
        int status, entries = 0, exits = 0;
        bool in = false, seen_open = false, seen_uname = false, seen_getppid = false;
        long nr = -1;

        CHECK(raw(SYS_ptrace, PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACESYSGOOD, 0, 0) == 0, "SETOPTIONS");
        for (;;) {
                struct __ptrace_syscall_info si;
                struct user_regs_struct regs;

                if (raw(SYS_ptrace, PTRACE_SYSCALL, child, 0, 0, 0, 0) != 0)
                        break;
                if (waitpid(child, &status, 0) != child)
                        break;
                if (WIFEXITED(status))
                        break;
                if (!WIFSTOPPED(status) || WSTOPSIG(status) != (SIGTRAP | 0x80)) {
                        CHECK(false, "a stop that is not a syscall stop: %#x", status);
                        continue;
                }
                long n = raw(SYS_ptrace, PTRACE_GET_SYSCALL_INFO, child, sizeof(si), (long)&si, 0, 0);
                CHECK(n > 0, "GET_SYSCALL_INFO = %ld", n);
                CHECK(raw(SYS_ptrace, PTRACE_GETREGS, child, 0, (long)&regs, 0, 0) == 0, "GETREGS");
                if (!in) {
                        CHECK(si.op == PTRACE_SYSCALL_INFO_ENTRY, "entry expected, op %d", si.op);
                        nr = (long)si.entry.nr;
                        CHECK((long)regs.orig_rax == nr, "entry: orig_rax %lld, nr %ld", regs.orig_rax, nr);
                        entries++;
                } else {
                        CHECK(si.op == PTRACE_SYSCALL_INFO_EXIT, "exit expected, op %d", si.op);
                        /* The number stays the call's at its exit, also when
                         * the sentry answered it in place of the kernel. */
                        CHECK((long)regs.orig_rax == nr, "exit: orig_rax %lld, entry nr %ld", regs.orig_rax,
                              nr);
                        if (nr == SYS_openat) {
                                seen_open = true;
                                CHECK(si.exit.rval >= 0, "openat's exit: %lld", (long long)si.exit.rval);
                        }
                        if (nr == SYS_uname) {
                                seen_uname = true;
                                CHECK(si.exit.rval == 0, "uname's exit: %lld", (long long)si.exit.rval);
                        }
                        if (nr == SYS_getppid) {
                                seen_getppid = true;
                                CHECK(si.exit.rval == getpid(), "getppid's exit: %lld, want %d",
                                      (long long)si.exit.rval, (int)getpid());
                        }
                        exits++;
                }
                in = !in;
        }
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "child's end: %#x", status);
        CHECK(seen_open && seen_uname && seen_getppid, "calls seen: openat %d uname %d getppid %d", seen_open,
              seen_uname, seen_getppid);
        /* exit_group has an entry and no exit. */
        CHECK(entries == exits + 1 && entries > 3, "%d entries, %d exits", entries, exits);
        return guest_result();
}

/* --- memory and registers --- */

static void memory_body(void)
{
        /* The tracer wrote 0x2222 into target while we were stopped, and
         * sets rbx to 42 at our next stop (a getpid's entry). */
        long rbx;
        if (target != 0x2222)
                _exit(94);
        raise(SIGSTOP);
        __asm__ volatile("mov $39, %%eax\n\tsyscall\n\tmov %%rbx, %0"
                         : "=r"(rbx)
                         :
                         : "rax", "rcx", "r11", "memory");
        _exit(rbx == 42 ? 0 : 95);
}

static int memory(void)
{
        pid_t child = traced_child(memory_body);
        struct user_regs_struct regs, regs2;
        struct user_fpregs_struct fp;
        struct iovec iov = { &regs2, sizeof(regs2) };
        int status;
        long word = 0;

        CHECK(raw(SYS_ptrace, PTRACE_PEEKDATA, child, (long)&target, (long)&word, 0, 0) == 0 &&
                      word == 0x1111,
              "PEEKDATA: %#lx", word);
        CHECK(raw(SYS_ptrace, PTRACE_POKEDATA, child, (long)&target, 0x2222, 0, 0) == 0, "POKEDATA");
        word = 0;
        CHECK(raw(SYS_ptrace, PTRACE_PEEKDATA, child, (long)&target, (long)&word, 0, 0) == 0 &&
                      word == 0x2222,
              "PEEKDATA after POKEDATA: %#lx", word);
        /* PEEKTEXT of our code (the same in the child): the first bytes of main. */
        CHECK(raw(SYS_ptrace, PTRACE_PEEKTEXT, child, (long)&memory, (long)&word, 0, 0) == 0 &&
                      memcmp(&word, (void *)&memory, sizeof(word)) == 0,
              "PEEKTEXT");
        CHECK(raw(SYS_ptrace, PTRACE_GETREGS, child, 0, (long)&regs, 0, 0) == 0, "GETREGS");
        CHECK(raw(SYS_ptrace, PTRACE_GETREGSET, child, NT_PRSTATUS, (long)&iov, 0, 0) == 0 &&
                      iov.iov_len == sizeof(regs2) && regs2.rip == regs.rip && regs2.rsp == regs.rsp,
              "GETREGSET(NT_PRSTATUS): len %zu", iov.iov_len);
        CHECK(raw(SYS_ptrace, PTRACE_GETFPREGS, child, 0, (long)&fp, 0, 0) == 0 && fp.mxcsr != 0,
              "GETFPREGS");
        CHECK(raw(SYS_ptrace, PTRACE_SETREGS, child, 0, (long)&regs, 0, 0) == 0, "SETREGS");
        word = 0;
        CHECK(raw(SYS_ptrace, PTRACE_PEEKUSER, child, offsetof(struct user_regs_struct, rip), (long)&word, 0,
                  0) == 0 &&
                      (unsigned long)word == regs.rip,
              "PEEKUSER(rip)");
        CHECK(raw(SYS_ptrace, PTRACE_CONT, child, 0, 0, 0, 0) == 0, "CONT");
        CHECK(waitpid(child, &status, 0) == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP,
              "second stop: %#x", status);
        CHECK(raw(SYS_ptrace, PTRACE_SYSCALL, child, 0, 0, 0, 0) == 0, "SYSCALL");
        CHECK(waitpid(child, &status, 0) == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP,
              "getpid's entry: %#x", status);
        CHECK(raw(SYS_ptrace, PTRACE_POKEUSER, child, offsetof(struct user_regs_struct, rbx), 42, 0, 0) == 0,
              "POKEUSER(rbx)");
        CHECK(raw(SYS_ptrace, PTRACE_CONT, child, 0, 0, 0, 0) == 0, "CONT");
        finish(child, 0);
        /* Gone: ESRCH. */
        CHECK(raw(SYS_ptrace, PTRACE_PEEKDATA, child, (long)&target, (long)&word, 0, 0) == -ESRCH,
              "PEEKDATA of a reaped tracee");
        return guest_result();
}

/* --- signals --- */

static volatile sig_atomic_t usr2;

static void on_usr2(int sig)
{
        (void)sig;
        usr2++;
}

static void signals_body(void)
{
        signal(SIGUSR2, on_usr2);
        raise(SIGUSR1); /* the tracer suppresses it: we live on */
        raise(SIGUSR2); /* the tracer delivers it */
        _exit(usr2 == 1 ? 0 : 96);
}

static int signals(void)
{
        pid_t child = traced_child(signals_body);
        siginfo_t si;
        int status;

        CHECK(raw(SYS_ptrace, PTRACE_CONT, child, 0, 0, 0, 0) == 0, "CONT");
        CHECK(waitpid(child, &status, 0) == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGUSR1,
              "SIGUSR1 stop: %#x", status);
        memset(&si, 0, sizeof(si));
        CHECK(raw(SYS_ptrace, PTRACE_GETSIGINFO, child, 0, (long)&si, 0, 0) == 0 && si.si_signo == SIGUSR1 &&
                      si.si_pid == child,
              "GETSIGINFO: signo %d pid %d", si.si_signo, si.si_pid);
        CHECK(raw(SYS_ptrace, PTRACE_CONT, child, 0, 0, 0, 0) == 0, "CONT, SIGUSR1 suppressed");
        CHECK(waitpid(child, &status, 0) == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGUSR2,
              "SIGUSR2 stop: %#x", status);
        CHECK(raw(SYS_ptrace, PTRACE_CONT, child, 0, SIGUSR2, 0, 0) == 0, "CONT with SIGUSR2");
        finish(child, 0);
        return guest_result();
}

/* --- events --- */

static void *thread_body(void *arg)
{
        return arg;
}

static void events_body(void)
{
        pthread_t t;
        pid_t gc = fork();

        if (gc == 0)
                _exit(3);
        if (gc < 0 || pthread_create(&t, NULL, thread_body, NULL) != 0)
                _exit(97);
        pthread_join(t, NULL);
        /* The grandchild is ours to reap once its tracer has seen its end. */
        int status;
        if (waitpid(gc, &status, 0) != gc || !WIFEXITED(status) || WEXITSTATUS(status) != 3)
                _exit(98);
        execl("/bin/true", "true", (char *)NULL);
        _exit(99);
}

static int events(void)
{
        pid_t child = traced_child(events_body), gc = 0, thread = 0;
        int status, forks = 0, clones = 0, execs = 0, gc_stops = 0, thread_stops = 0;
        bool gc_end = false, thread_end = false, child_end = false;
        unsigned long msg;

        CHECK(raw(SYS_ptrace, PTRACE_SETOPTIONS, child, 0,
                  PTRACE_O_TRACEFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL, 0,
                  0) == 0,
              "SETOPTIONS");
        CHECK(raw(SYS_ptrace, PTRACE_CONT, child, 0, 0, 0, 0) == 0, "CONT");
        while (!child_end) {
                pid_t pid = waitpid(-1, &status, __WALL);
                int event = status >> 16;
                if (pid < 0) {
                        CHECK(false, "waitpid: %s", strerror(errno));
                        break;
                }
                if (WIFEXITED(status) || WIFSIGNALED(status)) {
                        if (pid == child) {
                                child_end = true;
                                CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child's end %#x",
                                      status);
                        } else if (pid == gc) {
                                gc_end = true;
                                CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3, "grandchild's end %#x",
                                      status);
                        } else if (pid == thread) {
                                thread_end = true;
                        } else {
                                CHECK(false, "the end of %d, unknown", (int)pid);
                        }
                        continue;
                }
                CHECK(WIFSTOPPED(status), "status %#x", status);
                if (pid == child && (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_CLONE)) {
                        CHECK(raw(SYS_ptrace, PTRACE_GETEVENTMSG, child, 0, (long)&msg, 0, 0) == 0 && msg > 0,
                              "GETEVENTMSG");
                        if (event == PTRACE_EVENT_FORK)
                                forks++, gc = (pid_t)msg;
                        else
                                clones++, thread = (pid_t)msg;
                } else if (pid == child && event == PTRACE_EVENT_EXEC) {
                        execs++;
                        CHECK(raw(SYS_ptrace, PTRACE_GETEVENTMSG, child, 0, (long)&msg, 0, 0) == 0 &&
                                      (pid_t)msg == child,
                              "exec's former tid %lu", msg);
                } else if (pid != child && WSTOPSIG(status) == SIGSTOP && event == 0) {
                        /* A followed new thread's first stop (attached by
                         * TRACEME, not SEIZE: SIGSTOP). Its id may come
                         * before its parent's event does. */
                        if (pid == thread || (thread == 0 && pid != gc && gc != 0))
                                thread_stops++;
                        else
                                gc_stops++;
                } else if (event == 0 && WSTOPSIG(status) != SIGSTOP) {
                        /* A signal (the child's SIGCHLD): delivered. */
                        raw(SYS_ptrace, PTRACE_CONT, pid, 0, WSTOPSIG(status), 0, 0);
                        continue;
                } else if (pid == child) {
                        CHECK(false, "unexpected stop of the child: %#x", status);
                }
                raw(SYS_ptrace, PTRACE_CONT, pid, 0, 0, 0, 0);
        }
        CHECK(forks == 1 && clones == 1 && execs == 1, "events: %d forks, %d clones, %d execs", forks, clones,
              execs);
        CHECK(gc_stops + thread_stops == 2, "first stops: %d + %d", gc_stops, thread_stops);
        CHECK(gc_end && thread_end, "ends told: grandchild %d, thread %d", gc_end, thread_end);
        return guest_result();
}

/* --- seize --- */

static int seize(void)
{
        int status, p[2];
        pid_t child, gc = 0;
        long r;

        /* A grandchild, not our child: only its tracer hears of it. */
        if (pipe(p) < 0)
                return EXIT_HARD;
        child = fork();
        if (child == 0) {
                pid_t g = fork();
                if (g == 0) {
                        for (;;)
                                pause();
                }
                if (write(p[1], &g, sizeof(g)) != (ssize_t)sizeof(g))
                        _exit(1);
                waitpid(g, &status, 0);
                _exit(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : 2);
        }
        if (read(p[0], &gc, sizeof(gc)) != (ssize_t)sizeof(gc))
                return EXIT_HARD;
        r = raw(SYS_ptrace, PTRACE_SEIZE, gc, 0, PTRACE_O_TRACESYSGOOD, 0, 0);
        CHECK(r == 0, "SEIZE = %ld", r);
        if (r != 0) {
                kill(gc, SIGKILL);
                finish(child, 0);
                return guest_result();
        }
        /* Running: nothing to tell, and not ECHILD. */
        r = raw(SYS_wait4, gc, (long)&status, WNOHANG | __WALL, 0, 0, 0);
        CHECK(r == 0, "wait4(WNOHANG) on a running tracee = %ld", r);
        r = raw(SYS_wait4, -1, (long)&status, WNOHANG | __WALL, 0, 0, 0);
        CHECK(r == 0, "wait4(-1, WNOHANG) with a running tracee = %ld", r);
        CHECK(raw(SYS_ptrace, PTRACE_GETREGS, gc, 0, (long)&(struct user_regs_struct){ 0 }, 0, 0) == -ESRCH,
              "GETREGS of a running tracee");
        CHECK(raw(SYS_ptrace, PTRACE_INTERRUPT, gc, 0, 0, 0, 0) == 0, "INTERRUPT");
        CHECK(waitpid(gc, &status, __WALL) == gc && WIFSTOPPED(status) && status >> 16 == PTRACE_EVENT_STOP,
              "interrupt stop: %#x", status);
        siginfo_t si;
        memset(&si, 0, sizeof(si));
        CHECK(raw(SYS_waitid, P_PID, gc, (long)&si, WEXITED | WNOHANG | __WALL, 0, 0) == 0 && si.si_pid == 0,
              "waitid(WNOHANG) after the stop was told: pid %d", si.si_pid);
        /* A group-stop: reported, then listened in. */
        CHECK(kill(gc, SIGSTOP) == 0, "kill(STOP)");
        CHECK(raw(SYS_ptrace, PTRACE_CONT, gc, 0, 0, 0, 0) == 0, "CONT");
        CHECK(waitpid(gc, &status, __WALL) == gc && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP &&
                      status >> 16 == 0,
              "SIGSTOP's delivery stop: %#x", status);
        CHECK(raw(SYS_ptrace, PTRACE_CONT, gc, 0, SIGSTOP, 0, 0) == 0, "CONT with SIGSTOP");
        CHECK(waitpid(gc, &status, __WALL) == gc && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP &&
                      status >> 16 == PTRACE_EVENT_STOP,
              "group-stop: %#x", status);
        r = raw(SYS_ptrace, PTRACE_GETSIGINFO, gc, 0, (long)&si, 0, 0);
        CHECK(r == 0 && si.si_signo == SIGSTOP, "GETSIGINFO in a group-stop = %ld, signo %d", r, si.si_signo);
        CHECK(raw(SYS_ptrace, PTRACE_LISTEN, gc, 0, 0, 0, 0) == 0, "LISTEN");
        CHECK(raw(SYS_wait4, gc, (long)&status, WNOHANG | __WALL, 0, 0, 0) == 0, "nothing while listening");
        /* The end of a tracee that is not our child is ours to hear of. */
        CHECK(kill(gc, SIGKILL) == 0, "kill(KILL)");
        CHECK(waitpid(gc, &status, __WALL) == gc && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "the tracee's end: %#x", status);
        finish(child, 0);
        /* And detaching: a new tracee, interrupted, let go. */
        child = fork();
        if (child == 0) {
                for (;;)
                        pause();
        }
        CHECK(raw(SYS_ptrace, PTRACE_SEIZE, child, 0, 0, 0, 0) == 0, "SEIZE 2");
        CHECK(raw(SYS_ptrace, PTRACE_DETACH, child, 0, 0, 0, 0) == -ESRCH, "DETACH of a running tracee");
        CHECK(raw(SYS_ptrace, PTRACE_INTERRUPT, child, 0, 0, 0, 0) == 0, "INTERRUPT 2");
        CHECK(waitpid(child, &status, __WALL) == child && status >> 16 == PTRACE_EVENT_STOP, "stop 2: %#x",
              status);
        CHECK(raw(SYS_ptrace, PTRACE_DETACH, child, 0, 0, 0, 0) == 0, "DETACH");
        CHECK(raw(SYS_ptrace, PTRACE_GETREGS, child, 0, (long)&(struct user_regs_struct){ 0 }, 0, 0) ==
                      -ESRCH,
              "GETREGS after DETACH");
        kill(child, SIGTERM);
        CHECK(waitpid(child, &status, 0) == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
              "detached child's end: %#x", status);
        return guest_result();
}

/* --- rewrite --- */

static const char denied[] = "/etc/shadow";

static void rewrite_body(void)
{
        long r = raw(SYS_getpid, 0, 0, 0, 0, 0, 0);
        /* The tracer made it openat(AT_FDCWD, denied, O_RDONLY). */
        _exit(r >= 0 ? 10 : r == -EACCES || r == -EPERM || r == -ENOENT ? 11 : 12);
}

/* Let the child whose call was rewritten into an open of denied run to
 * its end: confined the open is refused (exit 11); natively it opens
 * (10) where the caller may read the file. */
static void rewritten_open_end(pid_t child, const char *what)
{
        int status;

        CHECK(raw(SYS_ptrace, PTRACE_DETACH, child, 0, 0, 0, 0) == 0, "DETACH");
        CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status), "end: %#x", status);
        if (guest_confined())
                CHECK(WEXITSTATUS(status) == 11, "%s of %s: exit %d (10: it opened)", what, denied,
                      WEXITSTATUS(status));
        else
                CHECK(WEXITSTATUS(status) == (geteuid() == 0 ? 10 : 11), "natively: exit %d",
                      WEXITSTATUS(status));
}

static int rewrite(void)
{
        pid_t child = traced_child(rewrite_body);
        struct user_regs_struct regs;
        int status;
        bool done = false;

        while (!done) {
                if (raw(SYS_ptrace, PTRACE_SYSCALL, child, 0, 0, 0, 0) != 0 ||
                    waitpid(child, &status, 0) != child || !WIFSTOPPED(status))
                        break;
                if (raw(SYS_ptrace, PTRACE_GETREGS, child, 0, (long)&regs, 0, 0) != 0)
                        break;
                if (regs.orig_rax != SYS_getpid)
                        continue;
                regs.orig_rax = SYS_openat;
                regs.rdi = (unsigned long long)AT_FDCWD;
                regs.rsi = (unsigned long long)(uintptr_t)denied;
                regs.rdx = O_RDONLY;
                CHECK(raw(SYS_ptrace, PTRACE_SETREGS, child, 0, (long)&regs, 0, 0) == 0, "SETREGS");
                done = true;
        }
        CHECK(done, "never saw the getpid");
        rewritten_open_end(child, "the rewritten open");
        return guest_result();
}

/* --- seccomp --- */

#ifndef PTRACE_O_SUSPEND_SECCOMP
#define PTRACE_O_SUSPEND_SECCOMP (1 << 21)
#endif
#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif

static void own_trace_body(void)
{
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            raw(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&prog, 0, 0, 0) < 0)
                _exit(13);
        long r = raw(SYS_getppid, AT_FDCWD, (long)denied, O_RDONLY, 0, 0, 0);
        /* The tracer made it openat(AT_FDCWD, denied, O_RDONLY) at its
         * seccomp stop. */
        _exit(r >= 0 && r != getppid() ? 10 : r == -EACCES || r == -EPERM || r == -ENOENT ? 11 : 12);
}

static int seccomp_powers(void)
{
        pid_t child = traced_child(own_trace_body);
        int status;
        long r;

        r = raw(SYS_ptrace, PTRACE_SETOPTIONS, child, 0, PTRACE_O_SUSPEND_SECCOMP, 0, 0);
        NOTE("SETOPTIONS(SUSPEND_SECCOMP) = %ld", r);
        if (guest_confined())
                CHECK(r == -EPERM || r == -EINVAL, "PTRACE_O_SUSPEND_SECCOMP under interpose: %ld", r);
        r = raw(SYS_ptrace, PTRACE_SECCOMP_GET_FILTER, child, 0, 0, 0, 0);
        NOTE("SECCOMP_GET_FILTER = %ld", r);
        if (guest_confined())
                CHECK(r == -EACCES, "PTRACE_SECCOMP_GET_FILTER under interpose: %ld", r);
        r = raw(SYS_ptrace, PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACESECCOMP, 0, 0);
        if (guest_traced()) {
                CHECK(r == -EINVAL, "PTRACE_O_TRACESECCOMP on ptrace: %ld", r);
                kill(child, SIGKILL);
                waitpid(child, &status, 0);
        } else {
                CHECK(r == 0, "PTRACE_O_TRACESECCOMP: %ld", r);
                bool done = false;
                while (!done) {
                        struct user_regs_struct regs;
                        if (raw(SYS_ptrace, PTRACE_CONT, child, 0, 0, 0, 0) != 0 ||
                            waitpid(child, &status, 0) != child || !WIFSTOPPED(status))
                                break;
                        if (status >> 8 != (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8)) ||
                            raw(SYS_ptrace, PTRACE_GETREGS, child, 0, (long)&regs, 0, 0) != 0 ||
                            regs.orig_rax != SYS_getppid)
                                continue;
                        regs.orig_rax = SYS_openat;
                        CHECK(raw(SYS_ptrace, PTRACE_SETREGS, child, 0, (long)&regs, 0, 0) == 0, "SETREGS");
                        done = true;
                }
                CHECK(done, "never saw the getppid at its seccomp stop");
                rewritten_open_end(child, "rewritten at the seccomp stop, the open");
        }
        /* Syscall user dispatch runs before seccomp: a call it lets through
         * (here every call: the selector says allow) is still trapped. */
        child = fork();
        if (child == 0) {
                static volatile char selector = 0; /* SYSCALL_DISPATCH_FILTER_ALLOW */
                if (raw(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH, 1, 0, 0, (long)&selector, 0) != 0)
                        _exit(13);
                r = raw(SYS_openat, AT_FDCWD, (long)denied, O_RDONLY, 0, 0, 0);
                _exit(r >= 0 ? 10 : r == -EACCES || r == -EPERM || r == -ENOENT ? 11 : 12);
        }
        CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status), "dispatch child: %#x", status);
        if (guest_confined())
                CHECK(WEXITSTATUS(status) == 11, "under syscall user dispatch, the open of %s: exit %d",
                      denied, WEXITSTATUS(status));
        else
                CHECK(WEXITSTATUS(status) == (geteuid() == 0 ? 10 : 11), "natively: exit %d",
                      WEXITSTATUS(status));
        return guest_result();
}

/* --- exec-held --- */

struct held_shm {
        volatile int thread_up, go_exec, ready, fire, done;
        volatile long result;
};

static struct held_shm *held_map(int fd)
{
        void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED)
                exit(EXIT_HARD);
        return m;
}

static struct held_shm *H;
static int held_fd;

static void *held_exec_thread(void *arg)
{
        char fd[16];
        (void)arg;
        H->thread_up = 1;
        while (!H->go_exec)
                sched_yield();
        snprintf(fd, sizeof(fd), "%d", held_fd);
        execl("/proc/self/exe", "guest-tracer", "exec-held-stage2", fd, (char *)NULL);
        _exit(99);
}

/* The new image: says it runs, then opens a denied file when told. */
static int held_stage2(const char *fd)
{
        struct held_shm *h = held_map(atoi(fd));
        long r;

        h->ready = 1;
        while (!h->fire)
                sched_yield();
        r = raw(SYS_openat, AT_FDCWD, (long)denied, O_RDONLY, 0, 0, 0);
        h->result = r;
        h->done = 1;
        return 0;
}

static int exec_held(void)
{
        int status;
        pid_t p;
        long r, msg;

        held_fd = (int)raw(SYS_memfd_create, (long)"held", 0, 0, 0, 0, 0);
        if (held_fd < 0 || ftruncate(held_fd, 4096) < 0)
                return EXIT_HARD;
        H = held_map(held_fd);
        p = fork();
        if (p == 0) {
                pthread_t t;
                pthread_create(&t, NULL, held_exec_thread, NULL);
                for (;;)
                        pause();
        }
        while (!H->thread_up)
                sched_yield();
        /* Its first thread, held in a stop for us. */
        CHECK(raw(SYS_ptrace, PTRACE_SEIZE, p, 0, 0, 0, 0) == 0, "SEIZE");
        CHECK(raw(SYS_ptrace, PTRACE_INTERRUPT, p, 0, 0, 0, 0) == 0, "INTERRUPT");
        CHECK(waitpid(p, &status, __WALL) == p && WIFSTOPPED(status), "interrupt stop: %#x", status);
        /* Its other thread execs: the held thread is gone, the exec'ing
         * one (which we never traced) takes the process's id. */
        H->go_exec = 1;
        while (!H->ready)
                sched_yield();
        r = raw(SYS_ptrace, PTRACE_GETEVENTMSG, p, 0, (long)&msg, 0, 0);
        CHECK(r == -ESRCH, "GETEVENTMSG on the new image = %ld, want -ESRCH", r);
        r = raw(SYS_ptrace, PTRACE_CONT, p, 0, 0, 0, 0);
        CHECK(r == -ESRCH, "CONT of the new image = %ld, want -ESRCH", r);
        /* And while it makes a call the sentry has still to decide, our
         * resumes of it keep failing: none may let the call through. */
        int resumed = 0;
        H->fire = 1;
        while (!H->done)
                if (raw(SYS_ptrace, PTRACE_CONT, p, 0, 0, 0, 0) != -ESRCH)
                        resumed++;
        CHECK(resumed == 0, "%d resumes of the new image's thread did not fail", resumed);
        if (guest_confined())
                CHECK(H->result < 0, "the new image's open of %s = %ld: undecided", denied, H->result);
        kill(p, SIGKILL);
        while (waitpid(-1, &status, __WALL) > 0)
                ;
        return guest_result();
}

/* --- exec-parked --- */

/* Wait until thread tid sleeps in a call (its wait). */
static void wait_blocked(pid_t tid)
{
        char path[64], buf[256];
        for (;;) {
                snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)tid, (int)tid);
                FILE *f = fopen(path, "r");
                char *p = NULL;
                if (f) {
                        p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
                        fclose(f);
                }
                if (p && p[2] == 'S')
                        return;
                sched_yield();
        }
}

static pid_t parked_leader;

static void *parked_execer(void *arg)
{
        (void)arg;
        wait_blocked(parked_leader);
        execl("/proc/self/exe", "guest-tracer", "exec-parked-stage2", (char *)NULL);
        _exit(99);
}

static int exec_parked(void)
{
        int status, p[2];
        pid_t top, c = 0;

        if (pipe(p) < 0)
                return EXIT_HARD;
        top = fork();
        if (top == 0) {
                pthread_t t;
                c = fork();
                if (c == 0) {
                        for (;;)
                                pause();
                }
                /* Its tracee outlives it: ours to end. */
                if (write(p[1], &c, sizeof(c)) != (ssize_t)sizeof(c))
                        _exit(2);
                if (raw(SYS_ptrace, PTRACE_SEIZE, c, 0, 0, 0, 0) != 0)
                        _exit(2);
                parked_leader = getpid();
                pthread_create(&t, NULL, parked_execer, NULL);
                waitpid(c, &status, 0); /* blocks, until the exec ends it */
                _exit(3);
        }
        close(p[1]);
        CHECK(waitpid(top, &status, 0) == top && WIFEXITED(status) && WEXITSTATUS(status) == 42,
              "the image after the exec: status %#x, want exit 42", status);
        if (read(p[0], &c, sizeof(c)) == (ssize_t)sizeof(c) && c > 0)
                kill(c, SIGKILL);
        close(p[0]);
        return guest_result();
}

/* --- wait-einval --- */

static int wait_einval(void)
{
        siginfo_t si;
        int status;
        pid_t c = fork();
        long r;

        if (c == 0) {
                for (;;)
                        pause();
        }
        CHECK(raw(SYS_ptrace, PTRACE_SEIZE, c, 0, 0, 0, 0) == 0, "SEIZE");
        r = raw(SYS_waitid, P_ALL, 0, (long)&si, 0, 0, 0);
        CHECK(r == -EINVAL, "waitid with no event asked = %ld, want -EINVAL", r);
        r = raw(SYS_wait4, -1, (long)&status, 0x01000000, 0, 0, 0);
        CHECK(r == -EINVAL, "wait4 with an unknown option = %ld, want -EINVAL", r);
        r = raw(SYS_waitid, 7, 0, (long)&si, WEXITED, 0, 0);
        CHECK(r == -EINVAL, "waitid of an unknown id type = %ld, want -EINVAL", r);
        kill(c, SIGKILL);
        CHECK(waitpid(c, &status, __WALL) == c && WIFSIGNALED(status), "end: %#x", status);
        return guest_result();
}

/* --- interrupt-parked --- */

static int interrupt_parked(void)
{
        int status, p[2];
        pid_t y, z = 0;

        if (pipe(p) < 0)
                return EXIT_HARD;
        y = fork();
        if (y == 0) {
                z = fork();
                if (z == 0) {
                        for (;;)
                                pause();
                }
                raw(SYS_ptrace, PTRACE_SEIZE, z, 0, 0, 0, 0);
                if (write(p[1], &z, sizeof(z)) != (ssize_t)sizeof(z))
                        _exit(2);
                waitpid(z, &status, 0); /* blocks */
                _exit(0);
        }
        close(p[1]);
        if (read(p[0], &z, sizeof(z)) != (ssize_t)sizeof(z))
                return EXIT_HARD;
        close(p[0]);
        wait_blocked(y);
        CHECK(raw(SYS_ptrace, PTRACE_SEIZE, y, 0, 0, 0, 0) == 0, "SEIZE the tracer");
        CHECK(raw(SYS_ptrace, PTRACE_INTERRUPT, y, 0, 0, 0, 0) == 0, "INTERRUPT it");
        CHECK(waitpid(y, &status, __WALL) == y && WIFSTOPPED(status) && status >> 16 == PTRACE_EVENT_STOP,
              "its interrupt stop: %#x", status);
        kill(y, SIGKILL);
        kill(z, SIGKILL); /* its tracee, which outlives it */
        while (waitpid(-1, &status, __WALL) > 0)
                ;
        return guest_result();
}

/* --- orphans --- */

static void *orphan_forker(void *arg)
{
        (void)arg;
        prctl(PR_SET_NAME, "orphan-forker");
        for (;;)
                if (fork() == 0)
                        _exit(0);
        return NULL;
}

/* Our descendants stopped in a trace stop, by the name the forker gives. */
static int stuck_forkers(void)
{
        DIR *d = opendir("/proc");
        struct dirent *e;
        int n = 0;

        while (d && (e = readdir(d))) {
                char path[300], buf[512];
                snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
                FILE *f = fopen(path, "r");
                if (!f)
                        continue;
                if (fgets(buf, sizeof(buf), f) && strstr(buf, "(orphan-forker) t"))
                        n++;
                fclose(f);
        }
        if (d)
                closedir(d);
        return n;
}

static int orphans(void)
{
        int status, stuck = 0;
        pid_t idle = fork();

        if (idle == 0) {
                for (;;)
                        pause();
        }
        /* A tracer in the session: new threads may be held for their
         * parent's fork event. */
        CHECK(raw(SYS_ptrace, PTRACE_SEIZE, idle, 0, 0, 0, 0) == 0, "SEIZE");
        srandom(7);
        for (int i = 0; i < 60; i++) {
                pid_t p = fork();
                if (p == 0) {
                        pthread_t t;
                        pthread_create(&t, NULL, orphan_forker, NULL);
                        /* Killed at some moment of its forking. */
                        for (long spin = random() % 400000; spin > 0; spin--)
                                __asm__ volatile("" ::: "memory");
                        kill(getpid(), SIGKILL);
                }
                waitpid(p, &status, 0);
        }
        /* A held one would stay stopped for ever; one in flight leaves. */
        for (int round = 0; round < 2000 && (stuck = stuck_forkers()) > 0; round++)
                usleep(5000);
        CHECK(stuck == 0, "%d new processes left stopped", stuck);
        kill(idle, SIGKILL);
        while (waitpid(-1, &status, __WALL) > 0)
                ;
        return guest_result();
}

int main(int argc, char **argv)
{
        const char *c = argc > 1 ? argv[1] : "";

        setvbuf(stderr, NULL, _IONBF, 0);
        if (!strcmp(c, "syscalls"))
                return syscalls();
        if (!strcmp(c, "memory"))
                return memory();
        if (!strcmp(c, "signals"))
                return signals();
        if (!strcmp(c, "events"))
                return events();
        if (!strcmp(c, "seize"))
                return seize();
        if (!strcmp(c, "rewrite"))
                return rewrite();
        if (!strcmp(c, "seccomp"))
                return seccomp_powers();
        if (!strcmp(c, "exec-held"))
                return exec_held();
        if (!strcmp(c, "exec-held-stage2") && argc > 2)
                return held_stage2(argv[2]);
        if (!strcmp(c, "exec-parked"))
                return exec_parked();
        if (!strcmp(c, "exec-parked-stage2"))
                return 42;
        if (!strcmp(c, "wait-einval"))
                return wait_einval();
        if (!strcmp(c, "interrupt-parked"))
                return interrupt_parked();
        if (!strcmp(c, "orphans"))
                return orphans();
        fprintf(stderr, "guest-tracer: unknown case '%s'\n", c);
        return EXIT_HARD;
}
