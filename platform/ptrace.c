/* SPDX-License-Identifier: MIT */
/*
 * The ptrace platform, for hosts where seccomp user notification is
 * missing or refused (an older kernel, an outer sandbox that holds a
 * listener already). The guest's filter is the same program with
 * SECCOMP_RET_TRACE for the trapped calls, so the calls the kernel runs
 * cost nothing; a trapped call stops its thread, and the sentry's tracer
 * thread sees it with waitpid.
 *
 * An answer skips the call (orig_rax -1) with rax as its result. CONTINUE
 * resumes the thread: the kernel runs the filter again, allows a traced
 * call the second time, and makes the call as it stands.
 *
 * Installing an fd has no ADDFD here. Every guest process holds a channel:
 * an AF_UNIX datagram socket, connected to the sentry's sender so only the
 * sentry can reach it, kept high among its fds and closed on exec. The
 * sentry sends the fd with SCM_RIGHTS, makes the stopped thread run
 * recvmsg on the channel in place of its own call (one injected syscall),
 * checks with kcmp that what arrived is the sentry's file, and answers the
 * call with its number. A process gets its channel when it first makes a
 * call that may be answered with an fd: each step (the socket, its move
 * above the guest's fds, the close of the low number) is one injected
 * call, after which the guest's own call is restarted and traps again, so
 * nothing has been decided or done for it yet.
 *
 * Only the thread that attached may use ptrace on a tracee: every
 * operation on a tracee is the tracer thread's, and other sentry threads
 * (the waiters) hand theirs to it and wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../sentry/util.h"
#include "../syscalls/filter.h"
#include "platform.h"
#include "seccomp_compat.h"

#ifndef AUDIT_ARCH_X86_64
#define AUDIT_ARCH_X86_64 0xc000003e
#endif
#define X32_SYSCALL_BIT 0x40000000
#define SYSCALL_INSN_LEN 2 /* "syscall", the only way an x86-64 call reaches a handler */
#define REDZONE 128
#define CHANNEL_TOP 1024 /* the channel sits just below this (or the fd limit) */
#define SPIN_NS 25000    /* how long the tracer looks for the next stop before it sleeps */

enum tstate {
        T_RUNNING,
        T_SECCOMP, /* stopped at the trap, the call not made */
        T_EXIT,    /* stopped after a call injected in place of the trapped one */
};

struct tracee {
        pid_t tid;
        pid_t tgid; /* 0 until asked */
        enum tstate state;
        uint64_t id;                   /* the event the stop belongs to */
        struct user_regs_struct saved; /* the trapped call's registers, in T_EXIT */
        struct tracee *next;
};

struct channel {
        pid_t tgid;
        int gfd;                 /* the guest's number for it */
        int low;                 /* its first number, still to close, or -1 */
        bool moved;              /* the move above the guest's fds was tried */
        int gcopy;               /* our copy of the guest's socket, for kcmp */
        struct sockaddr_un addr; /* its autobound name */
        socklen_t addrlen;
        struct channel *next;
};

struct remote_op {
        const struct platform_event *ev;
        bool install;
        enum platform_answer how;
        long value;
        int fd;
        unsigned fd_flags;
        long result;
        bool done;
        struct remote_op *next;
};

#define BUCKETS 1024

static struct {
        pid_t tracer; /* the thread that attached */
        int sigfd, evfd, sender;
        struct sockaddr_un sender_addr; /* the sender's autobound name */
        socklen_t sender_len;
        uint64_t seq;
        pthread_mutex_t lock; /* the tracee table, for valid() from other threads */
        struct tracee *tracees[BUCKETS];
        struct channel *channels[BUCKETS];
        pthread_mutex_t rlock;
        pthread_cond_t rcond;
        struct remote_op *remote;
        struct {
                pid_t pid;
                int status;
        } * exits; /* ends seen while waiting for one thread, reported by next() */
        size_t nexits, capexits;
} T = { .lock = PTHREAD_MUTEX_INITIALIZER,
        .rlock = PTHREAD_MUTEX_INITIALIZER,
        .rcond = PTHREAD_COND_INITIALIZER,
        .sigfd = -1,
        .evfd = -1,
        .sender = -1 };

static pid_t gettid_(void)
{
        return (pid_t)syscall(SYS_gettid);
}

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- the tracee table --- */

static struct tracee *find(pid_t tid, bool create)
{
        struct tracee **b = &T.tracees[(unsigned)tid % BUCKETS], *t;

        for (t = *b; t; t = t->next)
                if (t->tid == tid)
                        return t;
        if (!create)
                return NULL;
        t = xcalloc(1, sizeof(*t));
        t->tid = tid;
        t->next = *b;
        *b = t;
        return t;
}

static void forget(pid_t tid)
{
        struct tracee **b = &T.tracees[(unsigned)tid % BUCKETS];

        pthread_mutex_lock(&T.lock);
        for (struct tracee *t = *b; t; b = &t->next, t = t->next)
                if (t->tid == tid) {
                        *b = t->next;
                        free(t);
                        break;
                }
        pthread_mutex_unlock(&T.lock);
}

static void set_state(struct tracee *t, enum tstate s, uint64_t id)
{
        pthread_mutex_lock(&T.lock);
        t->state = s;
        t->id = id;
        pthread_mutex_unlock(&T.lock);
}

static pid_t tgid_of(struct tracee *t)
{
        char path[64], buf[1024];
        const char *p;

        if (t->tgid > 0)
                return t->tgid;
        snprintf(path, sizeof(path), "/proc/%d/status", (int)t->tid);
        if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "\nTgid:")))
                return -ESRCH;
        t->tgid = (pid_t)strtol(p + 6, NULL, 10);
        return t->tgid;
}

/* --- channels --- */

static struct channel *channel_of(pid_t tgid, bool create)
{
        struct channel **b = &T.channels[(unsigned)tgid % BUCKETS], *c;

        for (c = *b; c; c = c->next)
                if (c->tgid == tgid)
                        return c;
        if (!create)
                return NULL;
        c = xcalloc(1, sizeof(*c));
        c->tgid = tgid;
        c->gfd = c->low = c->gcopy = -1;
        c->next = *b;
        *b = c;
        return c;
}

static void channel_drop(pid_t tgid)
{
        struct channel **b = &T.channels[(unsigned)tgid % BUCKETS];

        for (struct channel *c = *b; c; b = &c->next, c = c->next)
                if (c->tgid == tgid) {
                        *b = c->next;
                        if (c->gcopy >= 0)
                                close(c->gcopy);
                        free(c);
                        return;
                }
}

/* Is the guest's fd gfd of thread tid our file? */
static bool same_file(pid_t tid, int gfd, int ours)
{
        return gfd >= 0 && ours >= 0 &&
               syscall(SYS_kcmp, tid, getpid(), KCMP_FILE, (unsigned long)gfd, (unsigned long)ours) == 0;
}

/* --- stops and injected calls --- */

static void defer_exit(pid_t pid, int status)
{
        if (T.nexits == T.capexits) {
                T.capexits = T.capexits ? T.capexits * 2 : 16;
                T.exits = realloc(T.exits, T.capexits * sizeof(*T.exits));
                if (!T.exits)
                        abort();
        }
        T.exits[T.nexits].pid = pid;
        T.exits[T.nexits].status = status;
        T.nexits++;
}

/* Is thread tid still running (not a zombie, not gone)? */
static bool thread_alive(pid_t tid)
{
        char path[64], buf[512];
        const char *p;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
        if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')))
                return false;
        return p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* Wait for tid's stop after the call injected into it. 0, or -ESRCH when
 * it died (its end is reported later by next()). Never blocks on tid
 * alone: a thread group's first thread that dies while others run is not
 * reported (its filter of its own may kill it in the injected call), and
 * the tracer would wait for ever. */
static int wait_exit_stop(pid_t tid)
{
        for (;;) {
                int st;
                pid_t pid = waitpid(tid, &st, __WALL | WNOHANG);
                if (pid < 0) {
                        if (errno == EINTR)
                                continue;
                        return -ESRCH;
                }
                if (pid == 0) {
                        struct pollfd pfd = { .fd = T.sigfd, .events = POLLIN };
                        struct signalfd_siginfo si;
                        if (!thread_alive(tid))
                                return -ESRCH;
                        poll(&pfd, 1, 1);
                        while (read(T.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                                ;
                        continue;
                }
                if (WIFEXITED(st) || WIFSIGNALED(st)) {
                        defer_exit(pid, st);
                        return -ESRCH;
                }
                if (WSTOPSIG(st) == (SIGTRAP | 0x80))
                        return 0;
                /* Nothing else should stop it inside one call; if it does,
                 * let it go on to the call's end. */
                int sig = (st >> 16) == 0 && WSTOPSIG(st) != SIGTRAP ? WSTOPSIG(st) : 0;
                if (ptrace(PTRACE_SYSCALL, tid, 0, sig) < 0)
                        return -ESRCH;
        }
}

/*
 * Make the thread, stopped at its trap, run call nr(a...) instead, its
 * registers already in t->saved. On return it is stopped after that call
 * (T_EXIT): the answer (finish) or a restart must follow. The injected
 * call's result, or -ESRCH when the thread died.
 */
static long inject_saved(struct tracee *t, long nr, long a0, long a1, long a2, long a3)
{
        struct user_regs_struct regs;
        int r;

        if (t->state != T_SECCOMP)
                return -EIO;
        regs = t->saved;
        regs.orig_rax = (unsigned long long)nr;
        regs.rdi = (unsigned long long)a0;
        regs.rsi = (unsigned long long)a1;
        regs.rdx = (unsigned long long)a2;
        regs.r10 = (unsigned long long)a3;
        if (ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0 || ptrace(PTRACE_SYSCALL, t->tid, 0, 0) < 0)
                return -ESRCH;
        set_state(t, T_EXIT, t->id);
        r = wait_exit_stop(t->tid);
        if (r < 0)
                return r;
        if (ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0)
                return -ESRCH;
        return (long)regs.rax;
}

/* inject_saved, the registers read first. */
static long inject(struct tracee *t, long nr, long a0, long a1, long a2, long a3)
{
        if (ptrace(PTRACE_GETREGS, t->tid, 0, &t->saved) < 0)
                return -ESRCH;
        return inject_saved(t, nr, a0, a1, a2, a3);
}

/* After an injected call: return value from the trapped call. */
static int finish_call(struct tracee *t, long value)
{
        struct user_regs_struct regs = t->saved;

        regs.rax = (unsigned long long)value;
        regs.orig_rax = (unsigned long long)-1;
        set_state(t, T_RUNNING, 0);
        if (ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0 || ptrace(PTRACE_CONT, t->tid, 0, 0) < 0)
                return -ENOENT;
        return 0;
}

/* After an injected call: make the thread issue its trapped call again,
 * as the kernel restarts an interrupted one (a signal pending now is
 * handled first, and the call made when its handler returns). */
static int restart_call(struct tracee *t)
{
        struct user_regs_struct regs = t->saved;

        regs.rip -= SYSCALL_INSN_LEN;
        regs.rax = regs.orig_rax;
        regs.orig_rax = (unsigned long long)-1;
        set_state(t, T_RUNNING, 0);
        if (ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0 || ptrace(PTRACE_CONT, t->tid, 0, 0) < 0)
                return -ENOENT;
        return 0;
}

/* Where injected calls keep their arguments: below the red zone of the
 * thread's stack, which the ABI leaves free (a signal frame goes there). */
static uint64_t scratch(const struct tracee *t, size_t n)
{
        return ((uint64_t)t->saved.rsp - REDZONE - n) & ~(uint64_t)15;
}

static int poke(pid_t tid, uint64_t addr, const void *src, size_t n)
{
        struct iovec l = { (void *)src, n }, r = { (void *)(uintptr_t)addr, n };
        return process_vm_writev(tid, &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -EFAULT;
}

static int peek(pid_t tid, uint64_t addr, void *dst, size_t n)
{
        struct iovec l = { dst, n }, r = { (void *)(uintptr_t)addr, n };
        return process_vm_readv(tid, &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -EFAULT;
}

/* The lowest number the channel moves to: below the fd limit and the
 * numbers programs use, above those they do. */
static int channel_floor(pid_t tgid)
{
        struct rlimit rl;
        rlim_t top = CHANNEL_TOP;

        if (prlimit(tgid, RLIMIT_NOFILE, NULL, &rl) == 0 && rl.rlim_cur < top)
                top = rl.rlim_cur;
        return top >= 64 ? (int)top - 32 : -1;
}

/* The socket the guest just made (number gfd), adopted: our copy bound
 * to a name of its own and connected to the sender, so nothing but the
 * sender can send to it. */
static int channel_adopt(struct channel *c, pid_t tid, int gfd)
{
        _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, tid, O_EXCL /* PIDFD_THREAD */);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        socklen_t len = sizeof(sa);
        int copy;

        if (pidfd < 0)
                pidfd = (int)syscall(SYS_pidfd_open, c->tgid, 0);
        if (pidfd < 0)
                return -ESRCH;
        copy = (int)syscall(SYS_pidfd_getfd, pidfd, gfd, 0);
        if (copy < 0)
                return -errno;
        /* The number came back from the guest's register, which a filter
         * of its own may have forged: only a unix datagram socket will do. */
        int dom = 0, type = 0;
        socklen_t dl = sizeof(dom), tl = sizeof(type);
        if (getsockopt(copy, SOL_SOCKET, SO_DOMAIN, &dom, &dl) < 0 ||
            getsockopt(copy, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || dom != AF_UNIX || type != SOCK_DGRAM) {
                close(copy);
                return -EPROTO;
        }
        if (bind(copy, (struct sockaddr *)&sa, sizeof(sa_family_t)) < 0 ||
            getsockname(copy, (struct sockaddr *)&sa, &len) < 0 || len <= sizeof(sa_family_t) ||
            sa.sun_path[0] != '\0') {
                close(copy);
                return -EPROTO; /* bound under us to another name: not ours to trust */
        }
        if (connect(copy, (struct sockaddr *)&T.sender_addr, T.sender_len) < 0) {
                close(copy);
                return -errno;
        }
        if (c->gcopy >= 0)
                close(c->gcopy);
        c->gcopy = copy;
        c->gfd = gfd;
        c->low = -1;
        c->moved = false;
        c->addr = sa;
        c->addrlen = len;
        return 0;
}

/*
 * The thread is stopped at a call that may be answered with an fd: make
 * sure its process has a channel, one step per trap. 0: ready (or cannot
 * be made; the install will fail): deliver the call. 1: a step was taken
 * and the call restarted. The thread may be left in T_EXIT on failure.
 */
static int channel_step(struct tracee *t)
{
        pid_t tgid = tgid_of(t);
        struct channel *c;
        long r;

        if (tgid <= 0)
                return 0;
        c = channel_of(tgid, true);
        if (c->gfd >= 0 && same_file(t->tid, c->gfd, c->gcopy)) {
                if (!c->moved) {
                        int floor = channel_floor(tgid);
                        c->moved = true;
                        if (floor > c->gfd) {
                                r = inject(t, SYS_fcntl, c->gfd, F_DUPFD_CLOEXEC, floor, 0);
                                if (r == -ESRCH)
                                        return 0;
                                if (r >= 0) {
                                        c->low = c->gfd;
                                        c->gfd = (int)r;
                                }
                                return restart_call(t) == 0 ? 1 : 0;
                        }
                }
                if (c->low >= 0) {
                        int low = c->low;
                        c->low = -1;
                        /* Only if it is still ours: another thread of the
                         * guest may have closed it and reused the number. */
                        if (same_file(t->tid, low, c->gcopy)) {
                                r = inject(t, SYS_close, low, 0, 0, 0);
                                if (r == -ESRCH)
                                        return 0;
                                return restart_call(t) == 0 ? 1 : 0;
                        }
                }
                return 0;
        }
        /* None yet, or the guest closed it (exec, close_range): a new one. */
        r = inject(t, SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0);
        if (r == -ESRCH)
                return 0;
        if (r < 0 || channel_adopt(c, t->tid, (int)r) < 0) {
                c->gfd = -1;
                return 0; /* delivered in T_EXIT: the install fails */
        }
        return restart_call(t) == 0 ? 1 : 0;
}

/* Calls whose handlers may answer with a new fd (syscalls/path.c open,
 * syscalls/proc.c pidfd_open and pidfd_getfd). */
static bool may_install(int nr)
{
        switch (nr) {
        case SYS_open:
        case SYS_openat:
        case SYS_creat:
        case SYS_openat2:
        case SYS_pidfd_open:
        case SYS_pidfd_getfd:
                return true;
        default:
                return false;
        }
}

/* --- the platform operations --- */

static int ptrace_guest_install(struct platform *p, int *ret_listener)
{
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, p->fprog) < 0)
                return -errno;
        *ret_listener = -1;
        return 0;
}

static int ptrace_adopt(struct platform *p, pid_t guest)
{
        long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                    PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL;
        (void)p;
        T.tracer = gettid_();
        if (ptrace(PTRACE_SEIZE, guest, 0, opts) < 0)
                return -errno;
        pthread_mutex_lock(&T.lock);
        find(guest, true)->tgid = guest;
        pthread_mutex_unlock(&T.lock);
        return 0;
}

static int ptrace_attach(struct platform *p, int listener)
{
        sigset_t chld;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        (void)p;
        if (listener >= 0)
                close(listener);
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        T.sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
        T.evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        T.sender = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (T.sigfd < 0 || T.evfd < 0 || T.sender < 0)
                return -errno;
        T.sender_len = sizeof(T.sender_addr);
        if (bind(T.sender, (struct sockaddr *)&sa, sizeof(sa_family_t)) < 0 ||
            getsockname(T.sender, (struct sockaddr *)&T.sender_addr, &T.sender_len) < 0)
                return -errno;
        return 0;
}

/* Run one operation handed over by another thread. */
static long run_op(struct platform *p, struct remote_op *op);

static void run_remote(struct platform *p)
{
        struct remote_op *list;
        uint64_t n;

        (void)!read(T.evfd, &n, sizeof(n));
        pthread_mutex_lock(&T.rlock);
        list = T.remote;
        T.remote = NULL;
        pthread_mutex_unlock(&T.rlock);
        while (list) {
                struct remote_op *next = list->next;
                long r = run_op(p, list);
                pthread_mutex_lock(&T.rlock);
                list->result = r;
                list->done = true;
                pthread_cond_broadcast(&T.rcond);
                pthread_mutex_unlock(&T.rlock);
                list = next;
        }
}

static long hand_over(struct remote_op *op)
{
        uint64_t one = 1;

        pthread_mutex_lock(&T.rlock);
        op->next = T.remote;
        T.remote = op;
        pthread_mutex_unlock(&T.rlock);
        (void)!write(T.evfd, &one, sizeof(one));
        pthread_mutex_lock(&T.rlock);
        while (!op->done)
                pthread_cond_wait(&T.rcond, &T.rlock);
        pthread_mutex_unlock(&T.rlock);
        return op->result;
}

static void report_exit(struct platform *p, pid_t pid, int status)
{
        struct tracee *t;
        pid_t tgid = 0;

        pthread_mutex_lock(&T.lock);
        t = find(pid, false);
        if (t)
                tgid = t->tgid;
        pthread_mutex_unlock(&T.lock);
        forget(pid);
        if (tgid == pid)
                channel_drop(pid);
        if (p->on_exit)
                p->on_exit(p->on_exit_ctx, pid, status);
}

/* One wait status. 1 when it is a trapped call for the sentry (in ev). */
static int on_status(struct platform *p, pid_t pid, int st, struct platform_event *ev)
{
        int sig = WSTOPSIG(st), event = st >> 16;
        struct tracee *t;

        if (WIFEXITED(st) || WIFSIGNALED(st)) {
                report_exit(p, pid, st);
                return 0;
        }
        if (!WIFSTOPPED(st))
                return 0;
        pthread_mutex_lock(&T.lock);
        t = find(pid, true);
        pthread_mutex_unlock(&T.lock);
        switch (event) {
        case PTRACE_EVENT_SECCOMP: {
                struct __ptrace_syscall_info si;
                if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(si), &si) <= 0 ||
                    si.op != PTRACE_SYSCALL_INFO_SECCOMP) {
                        ptrace(PTRACE_CONT, pid, 0, 0);
                        return 0;
                }
                set_state(t, T_SECCOMP, ++T.seq);
                if (si.arch == AUDIT_ARCH_X86_64 && !(si.seccomp.nr & X32_SYSCALL_BIT) &&
                    may_install((int)si.seccomp.nr) && channel_step(t) == 1)
                        return 0; /* restarted: it traps again */
                ev->id = t->id;
                ev->tid = pid;
                ev->arch = si.arch;
                ev->nr = (int)si.seccomp.nr;
                ev->ip = si.instruction_pointer;
                for (int i = 0; i < 6; i++)
                        ev->args[i] = si.seccomp.args[i];
                return 1;
        }
        case PTRACE_EVENT_EXEC:
                /* A new image: its thread is the process now, and the
                 * channel went with the old image (close-on-exec). */
                t->tgid = pid;
                set_state(t, T_RUNNING, 0); /* a call the old image was in is over */
                ptrace(PTRACE_CONT, pid, 0, 0);
                return 0;
        case PTRACE_EVENT_FORK:
        case PTRACE_EVENT_VFORK:
        case PTRACE_EVENT_CLONE: {
                /* The new thread's process is asked when needed: an entry
                 * left by an earlier holder of its tid must not answer. */
                unsigned long child = 0;
                if (ptrace(PTRACE_GETEVENTMSG, pid, 0, &child) == 0 && child > 0) {
                        pthread_mutex_lock(&T.lock);
                        struct tracee *n = find((pid_t)child, true);
                        n->tgid = event == PTRACE_EVENT_CLONE ? 0 : (pid_t)child;
                        pthread_mutex_unlock(&T.lock);
                }
                ptrace(PTRACE_CONT, pid, 0, 0);
                return 0;
        }
        case PTRACE_EVENT_STOP:
                /* A group-stop (job control) stays a stop, as natively;
                 * anything else (a new child's first stop) runs on. */
                if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
                        ptrace(PTRACE_LISTEN, pid, 0, 0);
                else
                        ptrace(PTRACE_CONT, pid, 0, 0);
                return 0;
        default:
                break;
        }
        if (event == 0 && sig != (SIGTRAP | 0x80)) {
                ptrace(PTRACE_CONT, pid, 0, sig); /* a signal: delivered as it came */
                return 0;
        }
        ptrace(PTRACE_CONT, pid, 0, 0);
        return 0;
}

static int ptrace_next(struct platform *p, struct platform_event *ev)
{
        uint64_t spin_until = 0;

        for (;;) {
                struct pollfd pfd[2] = { { .fd = T.sigfd, .events = POLLIN },
                                         { .fd = T.evfd, .events = POLLIN } };
                struct signalfd_siginfo si;
                int st;
                pid_t pid;

                if (T.nexits) {
                        T.nexits--;
                        report_exit(p, T.exits[T.nexits].pid, T.exits[T.nexits].status);
                        continue;
                }
                pid = waitpid(-1, &st, __WALL | WNOHANG);
                if (pid < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == ECHILD ? -ESHUTDOWN : -errno;
                }
                if (pid > 0) {
                        spin_until = 0;
                        if (on_status(p, pid, st, ev) == 1)
                                return 0;
                        continue;
                }
                /* A stop wakes a sleeping tracer on another CPU, which in
                 * a VM whose idle vCPUs halt costs ~20 us each way: a
                 * guest that traps again soon finds us still looking (a
                 * trapped uname 54 -> 20 us here; no loss on the build). */
                if (spin_until == 0)
                        spin_until = now_ns() + SPIN_NS;
                if (now_ns() < spin_until)
                        continue;
                spin_until = 0;
                if (poll(pfd, 2, -1) < 0 && errno != EINTR)
                        return -errno;
                while (read(T.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                        ;
                if (pfd[1].revents & POLLIN)
                        run_remote(p);
        }
}

static bool on_tracer(void)
{
        return gettid_() == T.tracer;
}

static struct tracee *pending(const struct platform_event *ev)
{
        struct tracee *t;

        pthread_mutex_lock(&T.lock);
        t = find(ev->tid, false);
        if (t && (t->id != ev->id || t->state == T_RUNNING))
                t = NULL;
        pthread_mutex_unlock(&T.lock);
        return t;
}

static int respond_here(const struct platform_event *ev, enum platform_answer how, long value)
{
        struct tracee *t = pending(ev);

        if (!t)
                return -ENOENT;
        if (t->state == T_EXIT)
                return how == PLATFORM_CONTINUE ? restart_call(t) : finish_call(t, value);
        set_state(t, T_RUNNING, 0);
        if (how == PLATFORM_RETURN &&
            (ptrace(PTRACE_POKEUSER, t->tid, offsetof(struct user_regs_struct, orig_rax), -1L) < 0 ||
             ptrace(PTRACE_POKEUSER, t->tid, offsetof(struct user_regs_struct, rax), value) < 0))
                return -ENOENT;
        if (ptrace(PTRACE_CONT, t->tid, 0, 0) < 0)
                return -ENOENT;
        return 0;
}

/* Drop whatever waits in the channel (an install that failed halfway). */
static void channel_drain(int gcopy)
{
        for (;;) {
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(sizeof(int) * 16)];
                } u;
                char b;
                struct iovec iov = { &b, 1 };
                struct msghdr m = { .msg_iov = &iov,
                                    .msg_iovlen = 1,
                                    .msg_control = u.buf,
                                    .msg_controllen = sizeof(u.buf) };
                if (recvmsg(gcopy, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) < 0)
                        return;
                for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
                        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
                                for (size_t i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                                        int fd;
                                        memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
                                        close(fd);
                                }
        }
}

static int install_here(const struct platform_event *ev, int fd, unsigned fd_flags)
{
        struct tracee *t = pending(ev);
        struct channel *c;
        struct {
                struct msghdr m;
                struct iovec iov;
                char byte;
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(sizeof(int))];
                } ctl;
        } s;
        uint64_t at;
        long r;
        int got;

        if (!t)
                return -ENOENT;
        if (t->state != T_SECCOMP || tgid_of(t) <= 0)
                return -EIO;
        c = channel_of(t->tgid, false);
        if (!c || !same_file(t->tid, c->gfd, c->gcopy))
                return -EMFILE; /* the guest closed it under us, or none could be made */
        channel_drain(c->gcopy);
        {
                char one = 0;
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(sizeof(int))];
                } ctl = { 0 };
                struct iovec iov = { &one, 1 };
                struct msghdr m = { .msg_name = &c->addr,
                                    .msg_namelen = c->addrlen,
                                    .msg_iov = &iov,
                                    .msg_iovlen = 1,
                                    .msg_control = ctl.buf,
                                    .msg_controllen = sizeof(ctl.buf) };
                struct cmsghdr *h = CMSG_FIRSTHDR(&m);
                h->cmsg_level = SOL_SOCKET;
                h->cmsg_type = SCM_RIGHTS;
                h->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(h), &fd, sizeof(int));
                if (sendmsg(T.sender, &m, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                        return errno == EAGAIN ? -EIO : -errno;
        }
        /* The message header for the guest's recvmsg, in its memory (below
         * its stack pointer: the registers are read once, for this and for
         * the call). */
        if (ptrace(PTRACE_GETREGS, t->tid, 0, &t->saved) < 0)
                return -ENOENT;
        at = scratch(t, sizeof(s));
        memset(&s, 0, sizeof(s));
        s.iov.iov_base = (void *)(uintptr_t)(at + offsetof(__typeof__(s), byte));
        s.iov.iov_len = 1;
        s.m.msg_iov = (struct iovec *)(uintptr_t)(at + offsetof(__typeof__(s), iov));
        s.m.msg_iovlen = 1;
        s.m.msg_control = (void *)(uintptr_t)(at + offsetof(__typeof__(s), ctl));
        s.m.msg_controllen = sizeof(s.ctl.buf);
        if (poke(t->tid, at, &s, sizeof(s)) < 0) {
                channel_drain(c->gcopy);
                return -EIO;
        }
        r = inject_saved(t, SYS_recvmsg, c->gfd, (long)at,
                         MSG_DONTWAIT | ((fd_flags & O_CLOEXEC) ? MSG_CMSG_CLOEXEC : 0), 0);
        if (r == -ESRCH)
                return -ENOENT;
        if (r < 0 || peek(t->tid, at, &s, sizeof(s)) < 0) {
                channel_drain(c->gcopy);
                return -EIO;
        }
        /* What arrived must be the file we sent: the guest's other threads
         * share this memory and this channel. */
        if (s.ctl.h.cmsg_level != SOL_SOCKET || s.ctl.h.cmsg_type != SCM_RIGHTS ||
            s.ctl.h.cmsg_len != CMSG_LEN(sizeof(int)))
                /* No room in its fd table (the kernel drops the fd and says
                 * MSG_CTRUNC): what ADDFD would have answered. */
                return (s.m.msg_flags & MSG_CTRUNC) ? -EMFILE : -EIO;
        memcpy(&got, CMSG_DATA(&s.ctl.h), sizeof(got));
        if (!same_file(t->tid, got, fd))
                return -EIO;
        return finish_call(t, got) < 0 ? -ENOENT : got;
}

static long run_op(struct platform *p, struct remote_op *op)
{
        (void)p;
        if (op->install)
                return install_here(op->ev, op->fd, op->fd_flags);
        return respond_here(op->ev, op->how, op->value);
}

static int ptrace_respond(struct platform *p, const struct platform_event *ev, enum platform_answer how,
                          long value)
{
        struct remote_op op = { .ev = ev, .how = how, .value = value };

        (void)p;
        if (on_tracer())
                return respond_here(ev, how, value);
        return (int)hand_over(&op);
}

static bool ptrace_valid(struct platform *p, const struct platform_event *ev)
{
        (void)p;
        return pending(ev) != NULL;
}

static int ptrace_install_fd(struct platform *p, const struct platform_event *ev, int fd,
                             unsigned int fd_flags, bool send)
{
        struct remote_op op = { .ev = ev, .install = true, .fd = fd, .fd_flags = fd_flags };

        (void)p;
        if (!send)
                return -EOPNOTSUPP; /* every caller answers with the fd */
        if (on_tracer())
                return install_here(ev, fd, fd_flags);
        return (int)hand_over(&op);
}

static void ptrace_destroy(struct platform *p)
{
        sys_filter_free(p->fprog);
        p->fprog = NULL;
}

const struct platform_ops platform_ptrace_ops = {
        .name = "ptrace",
        .tracer = true,
        .guest_install = ptrace_guest_install,
        .adopt = ptrace_adopt,
        .attach = ptrace_attach,
        .next = ptrace_next,
        .respond = ptrace_respond,
        .valid = ptrace_valid,
        .install_fd = ptrace_install_fd,
        .destroy = ptrace_destroy,
};
