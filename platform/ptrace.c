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
#include <limits.h>
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
#include <sys/stat.h>
#include <sys/time.h>
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

/* Real options on every thread; a guest tracer's PTRACE_O_TRACEEXIT and
 * TRACEVFORKDONE are added on its tracees only. */
#define REAL_OPTS                                                                                 \
        (PTRACE_O_TRACESECCOMP | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | \
         PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL)
#define GUEST_OPTS                                                                                \
        (PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | \
         PTRACE_O_TRACEEXEC | PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL)
#ifndef ERESTARTSYS
#define ERESTARTSYS 512
#define ERESTARTNOHAND 514
#endif

enum tstate {
        T_RUNNING,
        T_SECCOMP, /* stopped at the trap, the call not made */
        T_EXIT,    /* stopped after a call injected in place of the trapped one */
        T_PARKED,  /* a guest tracer's wait, parked in a call of ours (see guest_wait) */
};

/* The kind of stop a thread is held in for its guest tracer. */
enum ekind {
        EK_SIGNAL,  /* signal-delivery-stop */
        EK_SYSCALL, /* syscall-entry or -exit stop */
        EK_EVENT,   /* PTRACE_EVENT_* stop, an interrupt, a new child's first stop */
        EK_FAKESIG, /* an event shown as a signal (the SIGTRAP after exec): no signal to deliver */
        EK_GROUP,   /* group-stop */
};

struct tracee {
        pid_t tid;
        pid_t tgid; /* 0 until asked */
        enum tstate state;
        uint64_t id;                   /* the event the stop belongs to */
        struct user_regs_struct saved; /* the trapped call's registers, in T_EXIT and T_PARKED */
        bool started;                  /* its first stop was seen */
        bool held;                     /* its first stop waits for its parent's fork event */
        pid_t hold_parent;             /* ... from this process, released if it dies first */
        int fate;    /* a new thread: 1 traced by its parent's guest tracer, -1 not, 0 unknown */
        int last_nr; /* the trapped call the sentry answered, for its exit stop */
        /* The guest's own tracing of this thread (emulated: see "the guest's
         * own tracing"). etracer is the tracer's process, 0 for none. */
        pid_t etracer;
        bool eseized, estopped, ereported, einterrupt, elisten, eskip_entry, echild;
        unsigned long eopts, emsg;
        unsigned long rextra; /* the guest tracer's options among the thread's real ones */
        int emode;            /* PTRACE_CONT, PTRACE_SYSCALL or PTRACE_SINGLESTEP */
        int estatus;
        enum ekind ekind;
        /* A parked wait (T_PARKED): what it waits in, and its next turn. */
        bool park_waitid, park_pass, park_pause;
        pid_t parked_for;
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
#define EREPORTS_MAX 65536

/* A tracee's end, for its guest tracer's wait (one the kernel would not
 * tell it of: a thread, or a process that is not its child). */
struct ereport {
        pid_t tracer, tid;
        int status;
        struct ereport *next;
};

/* Wait statuses kept for later, in the order taken. */
struct waits {
        struct {
                pid_t pid;
                int status;
        } * v;
        size_t n, cap;
};

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
        struct waits exits;       /* ends seen while waiting for one thread, reported by next() */
        struct waits ready;       /* stops collected by next(), served in the order taken */
        size_t rhead;             /* the next of ready to serve */
        unsigned etraced;         /* threads a guest tracer holds */
        unsigned nparked;         /* threads in T_PARKED */
        struct ereport *ereports; /* ends of tracees for their guest tracers' waits */
        unsigned nereports;
        unsigned nheld; /* new threads whose first stop waits for their parent's event */
} T = { .lock = PTHREAD_MUTEX_INITIALIZER,
        .rlock = PTHREAD_MUTEX_INITIALIZER,
        .rcond = PTHREAD_COND_INITIALIZER,
        .sigfd = -1,
        .evfd = -1,
        .sender = -1 };

/* Asked on every answer (on_tracer): a thread's id, kept per thread. */
static pid_t gettid_(void)
{
        static __thread pid_t tid;

        if (!tid)
                tid = (pid_t)syscall(SYS_gettid);
        return tid;
}

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- the tracee table --- */

/* How a thread runs on: as its guest tracer last resumed it (with
 * PTRACE_SYSCALL the kernel stops it at each call's entry and exit), or
 * plainly. */
static int resume_req(const struct tracee *t)
{
        return t && t->etracer ? t->emode : PTRACE_CONT;
}

static void ereport(struct tracee *t, int status, enum ekind kind, unsigned long msg);

static int syscall_status(const struct tracee *t)
{
        return (((t->eopts & PTRACE_O_TRACESYSGOOD) ? SIGTRAP | 0x80 : SIGTRAP) << 8) | 0x7f;
}

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
        t->last_nr = -1;
        t->next = *b;
        *b = t;
        return t;
}

/* Take tid's record out of the table (T.lock held); it, or NULL. */
static struct tracee *unlink_tracee(pid_t tid)
{
        struct tracee **b = &T.tracees[(unsigned)tid % BUCKETS];

        for (struct tracee *t = *b; t; b = &t->next, t = t->next)
                if (t->tid == tid) {
                        *b = t->next;
                        return t;
                }
        return NULL;
}

static void forget(pid_t tid)
{
        pthread_mutex_lock(&T.lock);
        free(unlink_tracee(tid));
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

/* --- releasing what the guest may have chosen ---
 *
 * The channel is a socket the guest made (or put where we took it from:
 * a filter of its own can fake the injected socket's number), and what
 * waits in it is whatever was queued before we connected it. When we drop
 * the last reference to such a file, or to one received from it, its
 * release runs in our thread, on the way back from the close: a TCP socket
 * with SO_LINGER and data its peer does not read waits there for as long
 * as the guest asked (days), the tracer thread with it, and the session
 * never ends (its timeout neither). The wait ends on a signal, so each such
 * call runs with SIGALRM unblocked in this thread and a timer set. */
#define RELEASE_BOUND_US 200000

static void on_release_alarm(int sig)
{
        (void)sig;
}

static long bounded(long nr, long a0, long a1, long a2)
{
        static bool ready;
        struct itimerval on = { .it_value = { 0, RELEASE_BOUND_US } }, off = { { 0, 0 }, { 0, 0 } };
        sigset_t alrm;
        long r;
        int err;

        if (!ready) {
                struct sigaction sa = { .sa_handler = on_release_alarm }; /* no SA_RESTART */
                sigemptyset(&sa.sa_mask);
                sigaction(SIGALRM, &sa, NULL);
                ready = true;
        }
        sigemptyset(&alrm);
        sigaddset(&alrm, SIGALRM);
        setitimer(ITIMER_REAL, &on, NULL);
        pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
        r = syscall(nr, a0, a1, a2);
        err = errno;
        pthread_sigmask(SIG_BLOCK, &alrm, NULL);
        setitimer(ITIMER_REAL, &off, NULL);
        errno = err;
        return r;
}

static void release(int fd)
{
        if (fd >= 0)
                bounded(SYS_close, fd, 0, 0);
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
                        release(c->gcopy);
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

static void waits_push(struct waits *w, pid_t pid, int status)
{
        if (w->n == w->cap) {
                w->cap = w->cap ? w->cap * 2 : 16;
                w->v = realloc(w->v, w->cap * sizeof(*w->v));
                if (!w->v)
                        abort();
        }
        w->v[w->n].pid = pid;
        w->v[w->n].status = status;
        w->n++;
}

static void defer_exit(pid_t pid, int status)
{
        waits_push(&T.exits, pid, status);
}

/* Is thread tid still running (not a zombie, not gone)? */
/* /proc/PID/stat of pid into buf, from the ')' that ends its name on
 * (") S PPID ..."), or NULL when it is gone. */
static const char *stat_after_name(pid_t pid, char *buf, size_t cap)
{
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        return read_file_at(AT_FDCWD, path, buf, cap) < 0 ? NULL : strrchr(buf, ')');
}

static bool thread_alive(pid_t tid)
{
        char buf[512];
        const char *p = stat_after_name(tid, buf, sizeof(buf));

        return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
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
static long inject_saved5(struct tracee *t, long nr, long a0, long a1, long a2, long a3, long a4)
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
        regs.r8 = (unsigned long long)a4;
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

static long inject_saved(struct tracee *t, long nr, long a0, long a1, long a2, long a3)
{
        return inject_saved5(t, nr, a0, a1, a2, a3, 0);
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
        if (t->etracer && t->emode == PTRACE_SYSCALL) {
                /* It stands at the exit of the injected call: the exit of
                 * its own call, for its guest tracer. */
                regs.orig_rax = t->saved.orig_rax;
                if (ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0)
                        return -ENOENT;
                ereport(t, syscall_status(t), EK_SYSCALL, t->emsg);
                return 0;
        }
        if (ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0 || ptrace(resume_req(t), t->tid, 0, 0) < 0)
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
        /* Its guest tracer saw the call's entry already. */
        t->eskip_entry = t->etracer && t->emode == PTRACE_SYSCALL;
        if (ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0 || ptrace(resume_req(t), t->tid, 0, 0) < 0)
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
                release(copy);
                return -EPROTO;
        }
        if (bind(copy, (struct sockaddr *)&sa, sizeof(sa_family_t)) < 0 ||
            getsockname(copy, (struct sockaddr *)&sa, &len) < 0 || len <= sizeof(sa_family_t) ||
            sa.sun_path[0] != '\0') {
                release(copy);
                return -EPROTO; /* bound under us to another name: not ours to trust */
        }
        /* Connecting drops what its old peer had queued: a release. */
        if (bounded(SYS_connect, copy, (long)&T.sender_addr, T.sender_len) < 0) {
                release(copy);
                return -errno;
        }
        release(c->gcopy);
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
        struct tracee *t;

        (void)p;
        T.tracer = gettid_();
        if (ptrace(PTRACE_SEIZE, guest, 0, REAL_OPTS) < 0)
                return -errno;
        pthread_mutex_lock(&T.lock);
        t = find(guest, true);
        t->tgid = guest;
        t->started = true;
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
        /* Its autobound name is there for any process to send to: it
         * only sends (a datagram to it fails with EPIPE). */
        if (bind(T.sender, (struct sockaddr *)&sa, sizeof(sa_family_t)) < 0 ||
            getsockname(T.sender, (struct sockaddr *)&T.sender_addr, &T.sender_len) < 0 ||
            shutdown(T.sender, SHUT_RD) < 0)
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

/* --- the guest's own tracing: stops ---
 *
 * The sentry traces every guest thread, so a guest tracer (gdb, strace)
 * cannot be the kernel's tracer of anything: its ptrace is emulated. Its
 * tracee stays the sentry's; the stops the sentry sees that are not its
 * own (signals, the entries and exits PTRACE_SYSCALL asks for, the events
 * and interrupts the guest asked for, group-stops) are held for the guest
 * tracer, which learns of them from its waits (syscalls wait4 and waitid,
 * trapped here) and a SIGCHLD, and acts on the held thread through us.
 * The kernel stops a thread for ptrace before it runs the seccomp filter,
 * so a guest tracer that rewrites a call at its entry changes what the
 * filter and the sentry then see, never what they saw.
 */

static int event_status(int event, int sig)
{
        return (event << 16) | (sig << 8) | 0x7f;
}

static pid_t ppid_of(pid_t pid)
{
        char buf[512];
        const char *p = stat_after_name(pid, buf, sizeof(buf));

        return p ? (pid_t)strtol(p + 4, NULL, 10) : -ESRCH; /* ") S ppid" */
}

/* Tell the guest tracer: its parked waits look again, and SIGCHLD. */
static void ewake(pid_t tracer)
{
        if (T.nparked)
                for (unsigned b = 0; b < BUCKETS; b++)
                        for (struct tracee *w = T.tracees[b]; w; w = w->next)
                                if (w->state == T_PARKED && w->parked_for == tracer)
                                        ptrace(PTRACE_INTERRUPT, w->tid, 0, 0);
        kill(tracer, SIGCHLD);
}

/* Hold the stopped thread for its guest tracer. */
static void ereport(struct tracee *t, int status, enum ekind kind, unsigned long msg)
{
        /* Any stop answers a PTRACE_INTERRUPT, as the kernel's do. */
        t->einterrupt = false;
        t->estopped = true;
        t->ereported = false;
        t->estatus = status;
        t->ekind = kind;
        t->emsg = msg;
        ewake(t->etracer);
}

/* The real options follow what the guest tracer asked for (its
 * PTRACE_O_TRACEEXIT and TRACEVFORKDONE) at the thread's next stop. */
static void sync_opts(struct tracee *t)
{
        unsigned long want = t->etracer ? t->eopts & (PTRACE_O_TRACEEXIT | PTRACE_O_TRACEVFORKDONE) : 0;

        if (want != t->rextra && ptrace(PTRACE_SETOPTIONS, t->tid, 0, REAL_OPTS | want) == 0)
                t->rextra = want;
}

static void eattach(struct tracee *t, pid_t tracer, bool seized, unsigned long opts)
{
        if (!t->etracer)
                T.etraced++;
        t->etracer = tracer;
        t->eseized = seized;
        t->eopts = opts;
        t->emode = PTRACE_CONT;
        t->estopped = t->ereported = t->einterrupt = t->elisten = t->eskip_entry = false;
        /* The kernel tells a parent of its child's end itself. */
        t->echild = tgid_of(t) == t->tid && ppid_of(t->tid) == tracer;
}

static void edetach(struct tracee *t)
{
        if (!t->etracer)
                return;
        T.etraced--;
        t->etracer = 0;
        t->estopped = false;
        t->eopts = 0;
}

/* A new child's first stop, for the guest tracer that follows it. */
static void efirst(struct tracee *t)
{
        if (t->eseized)
                ereport(t, event_status(PTRACE_EVENT_STOP, SIGTRAP), EK_EVENT, 0);
        else
                ereport(t, (SIGSTOP << 8) | 0x7f, EK_FAKESIG, 0);
}

/* A parked wait's call returned (at its exit stop): make the thread issue
 * its wait again, now or after a signal's handler (as the kernel restarts
 * an interrupted wait: EINTR for a handler without SA_RESTART). */
static void unpark(struct tracee *t)
{
        struct user_regs_struct regs;
        long r = -EINTR;

        if (ptrace(PTRACE_GETREGS, t->tid, 0, &regs) == 0)
                r = (long)regs.rax;
        regs = t->saved;
        /* The wait is made again: a guest tracer of this thread saw its
         * entry once already. */
        t->eskip_entry = t->etracer && t->emode == PTRACE_SYSCALL;
        if (r == -ERESTARTSYS || r == -ERESTARTNOHAND || r == -EINTR) {
                regs.rax = (unsigned long long)-ERESTARTSYS;
        } else if (r < 0 && r != -ECHILD) {
                /* The mirror failed as the wait itself would (bad options, a
                 * bad address): that is the wait's answer. */
                regs.rax = (unsigned long long)r;
                t->eskip_entry = false;
        } else {
                /* Something of the kernel's is there (0): let it run the wait
                 * once; no child at all (ECHILD): sleep in pause. */
                if (t->park_waitid && r == 0)
                        t->park_pass = true;
                else if (t->park_waitid && r == -ECHILD)
                        t->park_pause = true;
                regs.rip -= SYSCALL_INSN_LEN;
                regs.rax = regs.orig_rax;
                regs.orig_rax = (unsigned long long)-1;
        }
        T.nparked--;
        set_state(t, T_RUNNING, 0);
        if (ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0)
                return;
        /* A guest tracer's PTRACE_INTERRUPT of this thread ended the park:
         * the kernel counts this stop as the trap it asked for, so this is
         * its interrupt stop (the wait made again when it resumes us). */
        if (t->etracer && t->einterrupt) {
                ereport(t, event_status(PTRACE_EVENT_STOP, SIGTRAP), EK_EVENT, 0);
                return;
        }
        ptrace(resume_req(t), t->tid, 0, 0);
}

/* The guest tracer's process is gone: its tracees run on (or die, with
 * PTRACE_O_EXITKILL), and its unread ends are dropped. */
static void etracer_gone(pid_t tracer)
{
        for (unsigned b = 0; b < BUCKETS; b++)
                for (struct tracee *t = T.tracees[b]; t; t = t->next) {
                        if (t->etracer != tracer)
                                continue;
                        bool stopped = t->estopped && t->state == T_RUNNING,
                             kill_it = t->eopts & PTRACE_O_EXITKILL;
                        edetach(t);
                        if (kill_it)
                                syscall(SYS_tgkill, tgid_of(t), t->tid, SIGKILL);
                        else if (stopped)
                                ptrace(PTRACE_CONT, t->tid, 0, 0);
                }
        for (struct ereport **e = &T.ereports; *e;)
                if ((*e)->tracer == tracer) {
                        struct ereport *x = *e;
                        *e = x->next;
                        free(x);
                        T.nereports--;
                } else {
                        e = &(*e)->next;
                }
}

/* A thread ended: its guest tracer's wait hears of it (unless the kernel
 * tells it, its parent), and a tracer's end frees its tracees. */
static void eexit(struct tracee *t, pid_t pid, int status)
{
        if (t && t->state == T_PARKED)
                T.nparked--;
        if (t && t->held) {
                t->held = false;
                T.nheld--;
        }
        if (t && t->etracer) {
                pid_t tracer = t->etracer;
                /* Natively an unread end is a zombie, which the pid space
                 * bounds; ours are bounded here (a tracer that never waits
                 * does not hear of ends past this). */
                if (!t->echild && T.nereports < EREPORTS_MAX) {
                        struct ereport *e = xcalloc(1, sizeof(*e));
                        T.nereports++;
                        e->tracer = tracer;
                        e->tid = pid;
                        e->status = status;
                        e->next = T.ereports;
                        T.ereports = e;
                }
                edetach(t);
                ewake(tracer);
        }
        if (T.etraced && !thread_alive(pid))
                for (unsigned b = 0; b < BUCKETS; b++)
                        for (struct tracee *x = T.tracees[b]; x; x = x->next)
                                if (x->etracer == pid) {
                                        etracer_gone(pid);
                                        return;
                                }
}

static unsigned long event_option(int event)
{
        switch (event) {
        case PTRACE_EVENT_FORK:
                return PTRACE_O_TRACEFORK;
        case PTRACE_EVENT_VFORK:
                return PTRACE_O_TRACEVFORK;
        case PTRACE_EVENT_CLONE:
                return PTRACE_O_TRACECLONE;
        case PTRACE_EVENT_EXEC:
                return PTRACE_O_TRACEEXEC;
        case PTRACE_EVENT_VFORK_DONE:
                return PTRACE_O_TRACEVFORKDONE;
        case PTRACE_EVENT_EXIT:
                return PTRACE_O_TRACEEXIT;
        default:
                return 0;
        }
}

static bool group_stop_signal(int sig)
{
        return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Forget what a record held for the guest's tracing and its parked wait
 * (its thread is gone, or another took its id). */
static void drop_held_state(struct tracee *t)
{
        if (t->state == T_PARKED)
                T.nparked--;
        if (t->held)
                T.nheld--;
        t->held = false;
        edetach(t);
}

/* An exec: thread `former` is now the process's only thread, under the
 * process's id. Its record takes that id; the record of the old first
 * thread, which went with the old image, is dropped with all it held (a
 * parked wait, a stop held for a guest tracer), so nothing of it is ever
 * applied to the new image. The record returned is the new image's. */
static struct tracee *exec_takeover(pid_t pid)
{
        unsigned long former = 0;
        struct tracee *t, *old = NULL;

        ptrace(PTRACE_GETEVENTMSG, pid, 0, &former);
        pthread_mutex_lock(&T.lock);
        t = former > 0 && (pid_t)former != pid ? unlink_tracee((pid_t)former) : NULL;
        if (t) {
                old = unlink_tracee(pid);
                t->tid = pid;
                t->next = T.tracees[(unsigned)pid % BUCKETS];
                T.tracees[(unsigned)pid % BUCKETS] = t;
        } else {
                t = find(pid, true);
        }
        pthread_mutex_unlock(&T.lock);
        if (old) {
                drop_held_state(old);
                free(old);
        }
        if (t->state == T_PARKED)
                T.nparked--;
        t->state = T_RUNNING;
        t->id = 0;
        t->tgid = pid;
        t->started = true;
        t->park_pass = t->park_pause = t->eskip_entry = false;
        t->last_nr = -1;
        return t;
}

/* New threads held for their parent's fork event, whose parent died
 * before it came: they run on, untraced by any guest tracer. */
static void release_orphans(void)
{
        for (unsigned b = 0; T.nheld && b < BUCKETS; b++)
                for (struct tracee *t = T.tracees[b]; t; t = t->next)
                        if (t->held && !thread_alive(t->hold_parent)) {
                                t->held = false;
                                T.nheld--;
                                t->fate = -1;
                                ptrace(PTRACE_CONT, t->tid, 0, 0);
                        }
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
        eexit(t, pid, status);
        forget(pid);
        if (T.nheld)
                release_orphans();
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
        bool first;

        if (WIFEXITED(st) || WIFSIGNALED(st)) {
                report_exit(p, pid, st);
                return 0;
        }
        if (!WIFSTOPPED(st))
                return 0;
        if (event == PTRACE_EVENT_EXEC) {
                t = exec_takeover(pid);
        } else {
                pthread_mutex_lock(&T.lock);
                t = find(pid, true);
                pthread_mutex_unlock(&T.lock);
        }
        /* A new stop: the thread ran, so nothing of an earlier stop is
         * held for a guest tracer any more. */
        t->estopped = false;
        first = !t->started;
        t->started = true;
        if (t->rextra || t->etracer)
                sync_opts(t);
        if (t->state == T_PARKED) {
                if (event == 0 && sig == (SIGTRAP | 0x80))
                        unpark(t);
                else if (event == PTRACE_EVENT_SECCOMP)
                        /* A trapped call from a thread that is inside a call
                         * of ours: not expected (the parked call passes the
                         * filter untrapped), and resumed it would run with
                         * no decision. Its process dies instead. */
                        kill(pid, SIGKILL);
                else
                        ptrace(PTRACE_SYSCALL, pid, 0, event ? 0 : sig);
                return 0;
        }
        switch (event) {
        case PTRACE_EVENT_SECCOMP: {
                struct __ptrace_syscall_info si;
                if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(si), &si) <= 0 ||
                    si.op != PTRACE_SYSCALL_INFO_SECCOMP) {
                        ptrace(resume_req(t), pid, 0, 0);
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
                /* A new image: its thread is the process now (exec_takeover),
                 * and the channel went with the old image (close-on-exec). */
                if (t->etracer) {
                        unsigned long former = 0;
                        ptrace(PTRACE_GETEVENTMSG, pid, 0, &former);
                        if (t->eopts & PTRACE_O_TRACEEXEC) {
                                ereport(t, event_status(PTRACE_EVENT_EXEC, SIGTRAP), EK_EVENT, former);
                                return 0;
                        }
                        if (!t->eseized) {
                                /* What the kernel does for a tracer that did not ask for the event. */
                                ereport(t, (SIGTRAP << 8) | 0x7f, EK_FAKESIG, t->emsg);
                                return 0;
                        }
                }
                ptrace(resume_req(t), pid, 0, 0);
                return 0;
        case PTRACE_EVENT_FORK:
        case PTRACE_EVENT_VFORK:
        case PTRACE_EVENT_CLONE: {
                /* The new thread's process is asked when needed: an entry
                 * left by an earlier holder of its tid must not answer. */
                unsigned long child = 0;
                bool follow = t->etracer && (t->eopts & event_option(event));
                if (ptrace(PTRACE_GETEVENTMSG, pid, 0, &child) == 0 && child > 0) {
                        pthread_mutex_lock(&T.lock);
                        struct tracee *n = find((pid_t)child, true);
                        n->tgid = event == PTRACE_EVENT_CLONE ? 0 : (pid_t)child;
                        pthread_mutex_unlock(&T.lock);
                        n->fate = follow ? 1 : -1;
                        n->rextra = t->rextra; /* the kernel copies the options */
                        if (follow)
                                eattach(n, t->etracer, t->eseized, t->eopts);
                        if (n->held) {
                                n->held = false;
                                T.nheld--;
                                if (follow)
                                        efirst(n);
                                else
                                        ptrace(PTRACE_CONT, n->tid, 0, 0);
                        }
                }
                if (follow) {
                        ereport(t, event_status(event, SIGTRAP), EK_EVENT, child);
                        return 0;
                }
                ptrace(resume_req(t), pid, 0, 0);
                return 0;
        }
        case PTRACE_EVENT_VFORK_DONE:
        case PTRACE_EVENT_EXIT:
                if (t->etracer && (t->eopts & event_option(event))) {
                        unsigned long msg = 0;
                        ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg);
                        ereport(t, event_status(event, SIGTRAP), EK_EVENT, msg);
                        return 0;
                }
                ptrace(resume_req(t), pid, 0, 0);
                return 0;
        case PTRACE_EVENT_STOP:
                /* A new thread's first stop: its guest tracer's when its
                 * parent's is following it; kept until the parent's fork
                 * event says so when that has not come yet. */
                if (first && t->fate == 1 && t->etracer) {
                        efirst(t);
                        return 0;
                }
                if (first && t->fate == 0 && T.etraced) {
                        /* Its parent process: the thread group it joined, or
                         * the process that forked it. */
                        pid_t tg = tgid_of(t);
                        t->hold_parent = tg > 0 && tg != t->tid ? tg : ppid_of(t->tid);
                        /* (An orphan, reparented to the sentry, has no
                         * event coming.) */
                        if (t->hold_parent > 0 && t->hold_parent != getpid() &&
                            thread_alive(t->hold_parent)) {
                                t->held = true;
                                T.nheld++;
                                return 0;
                        }
                }
                if (t->etracer && group_stop_signal(sig)) {
                        ereport(t, t->eseized ? event_status(PTRACE_EVENT_STOP, sig) : (sig << 8) | 0x7f,
                                EK_GROUP, 0);
                        return 0;
                }
                if (t->etracer && (t->einterrupt || t->elisten)) {
                        t->einterrupt = t->elisten = false;
                        ereport(t, event_status(PTRACE_EVENT_STOP, sig),
                                group_stop_signal(sig) ? EK_GROUP : EK_EVENT, 0);
                        return 0;
                }
                /* A group-stop (job control) stays a stop, as natively;
                 * anything else (a new child's first stop) runs on. */
                if (group_stop_signal(sig))
                        ptrace(PTRACE_LISTEN, pid, 0, 0);
                else
                        ptrace(resume_req(t), pid, 0, 0);
                return 0;
        default:
                break;
        }
        if (event == 0 && sig != (SIGTRAP | 0x80)) {
                if (t->etracer && sig != SIGKILL) {
                        ereport(t, (sig << 8) | 0x7f, EK_SIGNAL, t->emsg);
                        return 0;
                }
                ptrace(resume_req(t), pid, 0, sig); /* a signal: delivered as it came */
                return 0;
        }
        if (event == 0 && t->etracer && t->emode == PTRACE_SYSCALL) {
                struct __ptrace_syscall_info si;
                bool entry = ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(si), &si) > 0 &&
                             si.op == PTRACE_SYSCALL_INFO_ENTRY;
                if (entry && t->eskip_entry) {
                        t->eskip_entry = false;
                        ptrace(PTRACE_SYSCALL, pid, 0, 0);
                        return 0;
                }
                t->eskip_entry = false;
                /* A call the sentry answered was skipped (orig_rax -1): its
                 * tracer sees its own number at the exit. */
                if (!entry && t->last_nr >= 0 &&
                    ptrace(PTRACE_PEEKUSER, pid, offsetof(struct user_regs_struct, orig_rax), 0) == -1L)
                        ptrace(PTRACE_POKEUSER, pid, offsetof(struct user_regs_struct, orig_rax),
                               (long)t->last_nr);
                t->last_nr = -1;
                ereport(t, syscall_status(t), EK_SYSCALL, t->emsg);
                return 0;
        }
        ptrace(resume_req(t), pid, 0, 0);
        return 0;
}

/*
 * Take every stop there is now into T.ready. waitpid(-1) reports the
 * tracees in the order the kernel lists them: taking one stop at a time,
 * a few busy threads at the front, stopped again by the time the tracer
 * looked, were served over and over and the others never (CPython's
 * test_threading: 40 threads opening files, 36 stopped for good). Served
 * a batch at a time, each stopped thread waits for one round at most.
 * 0 with stops taken, or what waitpid said: 0 (nothing) or -errno.
 */
static int take_stops(void)
{
        for (;;) {
                int st;
                pid_t pid = waitpid(-1, &st, __WALL | WNOHANG);
                if (pid < 0 && errno == EINTR)
                        continue;
                if (pid <= 0)
                        return T.ready.n ? 0 : pid < 0 ? -errno : 1;
                waits_push(&T.ready, pid, st);
        }
}

/* Is pid stopped at the exec event? A stop taken with others is served
 * after them, and meanwhile another thread of its process may have run
 * an exec, which ended every other thread and gave the thread that made
 * it the process's id: a stop of the old first thread, served then, would
 * resume the new image past its exec event unseen. Such a stop is
 * dropped; the exec event is taken next. */
static bool exec_taken_over(pid_t pid, int st)
{
        siginfo_t si;

        if (!WIFSTOPPED(st) || (st >> 16) == PTRACE_EVENT_EXEC)
                return false;
        return ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == 0 && si.si_signo == SIGTRAP &&
               si.si_code == (SIGTRAP | (PTRACE_EVENT_EXEC << 8));
}

static int ptrace_next(struct platform *p, struct platform_event *ev)
{
        uint64_t spin_until = 0;

        for (;;) {
                struct pollfd pfd[3] = { { .fd = T.sigfd, .events = POLLIN },
                                         { .fd = T.evfd, .events = POLLIN },
                                         { .fd = p->wake_fd, .events = POLLIN } };
                struct signalfd_siginfo si;
                int st;
                pid_t pid;

                if (T.exits.n) {
                        T.exits.n--;
                        report_exit(p, T.exits.v[T.exits.n].pid, T.exits.v[T.exits.n].status);
                        continue;
                }
                if (T.rhead == T.ready.n) {
                        int r;
                        T.rhead = T.ready.n = 0;
                        r = take_stops();
                        if (r < 0)
                                return r == -ECHILD ? -ESHUTDOWN : r;
                }
                if (T.rhead < T.ready.n) {
                        pid = T.ready.v[T.rhead].pid;
                        st = T.ready.v[T.rhead].status;
                        T.rhead++;
                        spin_until = 0;
                        if (T.rhead > 1 && exec_taken_over(pid, st))
                                continue;
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
                /* With calls waiting for a person's answer (approvals.c),
                 * the answer wakes us too. */
                if (poll(pfd, p->wake_fd >= 0 ? 3 : 2, -1) < 0 && errno != EINTR)
                        return -errno;
                while (read(T.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                        ;
                if (pfd[1].revents & POLLIN)
                        run_remote(p);
                if (p->wake_fd >= 0 && (pfd[2].revents & POLLIN))
                        return -EINTR;
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
        t->last_nr = how == PLATFORM_RETURN ? ev->nr : -1;
        if (ptrace(resume_req(t), t->tid, 0, 0) < 0)
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
                /* The kernel drops (releases, here) what does not fit. */
                if (bounded(SYS_recvmsg, gcopy, (long)&m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) < 0)
                        return;
                for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
                        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
                                for (size_t i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                                        int fd;
                                        memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
                                        release(fd);
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

/* --- the guest's own tracing: its requests and its waits --- */

/* A buffer of the guest tracer's, through the real request on its tracee. */
#define GUEST_BUF_MAX 65536

static long tracee_op(pid_t caller, int req, struct tracee *t, uint64_t addr, uint64_t data)
{
        union {
                struct user_regs_struct regs;
                struct user_fpregs_struct fpregs;
                siginfo_t si;
                struct __ptrace_syscall_info info;
                uint64_t word;
                char raw[512];
        } u;
        pid_t tid = t->tid;
        long r, w;

        memset(&u, 0, sizeof(u));
        switch (req) {
        case PTRACE_PEEKTEXT:
        case PTRACE_PEEKDATA:
        case PTRACE_PEEKUSER:
                errno = 0;
                w = ptrace(req, tid, addr, 0);
                if (w == -1 && errno)
                        return -errno;
                return poke(caller, data, &w, sizeof(w));
        case PTRACE_POKETEXT:
        case PTRACE_POKEDATA:
        case PTRACE_POKEUSER:
                return ptrace(req, tid, addr, data) < 0 ? -errno : 0;
        case PTRACE_GETREGS:
        case PTRACE_GETFPREGS: {
                size_t n = req == PTRACE_GETREGS ? sizeof(u.regs) : sizeof(u.fpregs);
                if (ptrace(req, tid, 0, &u) < 0)
                        return -errno;
                return poke(caller, data, &u, n);
        }
        case PTRACE_SETREGS:
        case PTRACE_SETFPREGS: {
                size_t n = req == PTRACE_SETREGS ? sizeof(u.regs) : sizeof(u.fpregs);
                if (peek(caller, data, &u, n) < 0)
                        return -EFAULT;
                return ptrace(req, tid, 0, &u) < 0 ? -errno : 0;
        }
        case PTRACE_GETREGSET:
        case PTRACE_SETREGSET: {
                struct iovec gv, lv;
                _cleanup_free_ void *buf = NULL;
                if (peek(caller, data, &gv, sizeof(gv)) < 0)
                        return -EFAULT;
                lv.iov_len = gv.iov_len < GUEST_BUF_MAX ? gv.iov_len : GUEST_BUF_MAX;
                buf = xcalloc(1, lv.iov_len + 1);
                lv.iov_base = buf;
                if (req == PTRACE_SETREGSET &&
                    peek(caller, (uint64_t)(uintptr_t)gv.iov_base, buf, lv.iov_len) < 0)
                        return -EFAULT;
                if (ptrace(req, tid, addr, &lv) < 0)
                        return -errno;
                if (req == PTRACE_GETREGSET &&
                    poke(caller, (uint64_t)(uintptr_t)gv.iov_base, buf, lv.iov_len) < 0)
                        return -EFAULT;
                gv.iov_len = lv.iov_len;
                return poke(caller, data, &gv, sizeof(gv));
        }
        case PTRACE_GETSIGINFO:
                /* A seized tracee's group-stop has the kernel's siginfo (ours
                 * always are seized); the old style has none. */
                if (t->ekind == EK_GROUP && !t->eseized)
                        return -EINVAL;
                if (ptrace(req, tid, 0, &u.si) < 0)
                        return -errno;
                return poke(caller, data, &u.si, sizeof(u.si));
        case PTRACE_SETSIGINFO:
                if (t->ekind == EK_GROUP && !t->eseized)
                        return -EINVAL;
                if (peek(caller, data, &u.si, sizeof(u.si)) < 0)
                        return -EFAULT;
                return ptrace(req, tid, 0, &u.si) < 0 ? -errno : 0;
        case PTRACE_GETEVENTMSG:
                w = (long)t->emsg;
                return poke(caller, data, &w, sizeof(w));
        case PTRACE_GET_SYSCALL_INFO:
                r = ptrace(req, tid, sizeof(u.info), &u.info);
                if (r < 0)
                        return -errno;
                if (poke(caller, data, &u.info, addr < (uint64_t)r ? addr : (uint64_t)r) < 0)
                        return -EFAULT;
                return r;
        case PTRACE_GETSIGMASK:
        case PTRACE_SETSIGMASK:
                if (addr != sizeof(uint64_t))
                        return -EINVAL;
                if (req == PTRACE_SETSIGMASK && peek(caller, data, &u.word, sizeof(u.word)) < 0)
                        return -EFAULT;
                if (ptrace(req, tid, addr, &u.word) < 0)
                        return -errno;
                return req == PTRACE_GETSIGMASK ? poke(caller, data, &u.word, sizeof(u.word)) : 0;
        case PTRACE_PEEKSIGINFO: {
                struct __ptrace_peeksiginfo_args pa;
                _cleanup_free_ siginfo_t *v = NULL;
                if (peek(caller, addr, &pa, sizeof(pa)) < 0)
                        return -EFAULT;
                if (pa.nr < 0)
                        return -EINVAL;
                if ((size_t)pa.nr > GUEST_BUF_MAX / sizeof(siginfo_t))
                        pa.nr = GUEST_BUF_MAX / sizeof(siginfo_t);
                v = xcalloc((size_t)pa.nr + 1, sizeof(*v));
                r = ptrace(req, tid, &pa, v);
                if (r < 0)
                        return -errno;
                return r && poke(caller, data, v, (size_t)r * sizeof(*v)) < 0 ? -EFAULT : r;
        }
        case PTRACE_GET_THREAD_AREA:
                if (ptrace(req, tid, addr, u.raw) < 0)
                        return -errno;
                return poke(caller, data, u.raw, 16 /* struct user_desc */);
        case PTRACE_SET_THREAD_AREA:
                if (peek(caller, data, u.raw, 16) < 0)
                        return -EFAULT;
                return ptrace(req, tid, addr, u.raw) < 0 ? -errno : 0;
        case PTRACE_ARCH_PRCTL:
                if (data == 0x1003 /* ARCH_GET_FS */ || data == 0x1004 /* ARCH_GET_GS */) {
                        if (ptrace(req, tid, &u.word, data) < 0)
                                return -errno;
                        return poke(caller, addr, &u.word, sizeof(u.word));
                }
                return ptrace(req, tid, addr, data) < 0 ? -errno : 0;
        default:
                return -EIO;
        }
}

/* Run the held thread on as its guest tracer says. */
static long eresume(struct tracee *t, int req, uint64_t sig)
{
        if (sig > 64)
                return -EIO;
        if (req == PTRACE_LISTEN) {
                if (!t->eseized || t->ekind != EK_GROUP)
                        return -EIO;
                t->estopped = false;
                t->elisten = true;
                return ptrace(PTRACE_LISTEN, t->tid, 0, 0) < 0 ? -errno : 0;
        }
        if (t->ekind == EK_FAKESIG)
                sig = 0; /* there was no signal to deliver */
        t->estopped = false;
        t->emode = req;
        return ptrace(req, t->tid, 0, sig) < 0 ? -errno : 0;
}

static long guest_ptrace_here(const struct platform_event *ev)
{
        struct tracee *me = pending(ev), *t;
        long req = (long)ev->args[0];
        pid_t pid = (pid_t)ev->args[1], tgid;
        uint64_t addr = ev->args[2], data = ev->args[3];

        if (!me)
                return -ESRCH;
        if ((tgid = tgid_of(me)) <= 0)
                return -ESRCH;
        if (req == PTRACE_TRACEME) {
                pid_t parent = ppid_of(tgid);
                /* Not us (an orphan reparented to the sentry), not outside. */
                if (me->etracer || parent <= 1 || parent == getpid())
                        return -EPERM;
                eattach(me, parent, false, 0);
                return 0;
        }
        pthread_mutex_lock(&T.lock);
        t = find(pid, req == PTRACE_ATTACH || req == PTRACE_SEIZE);
        pthread_mutex_unlock(&T.lock);
        if (req == PTRACE_ATTACH || req == PTRACE_SEIZE) {
                if (tgid_of(t) <= 0) {
                        forget(pid);
                        return -ESRCH;
                }
                if (t->tgid == tgid || t->etracer)
                        return -EPERM;
                if (req == PTRACE_SEIZE && addr)
                        return -EIO;
                if (req == PTRACE_SEIZE && (data & ~(unsigned long)GUEST_OPTS))
                        return -EINVAL; /* PTRACE_O_TRACESECCOMP among them: not emulated */
                eattach(t, tgid, req == PTRACE_SEIZE, req == PTRACE_SEIZE ? data : 0);
                if (req == PTRACE_ATTACH)
                        syscall(SYS_tgkill, t->tgid, t->tid, SIGSTOP);
                return 0;
        }
        if (!t || t->etracer != tgid)
                return -ESRCH;
        switch (req) {
        case PTRACE_KILL:
                syscall(SYS_tgkill, tgid_of(t), t->tid, SIGKILL);
                return 0;
        case PTRACE_INTERRUPT:
                if (!t->eseized)
                        return -EIO;
                if (!t->estopped) {
                        /* A parked wait is interrupted too: it is unparked
                         * (its wait to be made again) and then stops. */
                        t->einterrupt = true;
                        ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
                }
                return 0;
        default:
                break;
        }
        /* Everything else wants the thread held in a stop for its tracer;
         * and never, whatever our records say, a stop at the seccomp trap:
         * a thread resumed from there runs its call undecided. */
        if (!t->estopped || t->state != T_RUNNING)
                return -ESRCH;
        {
                struct __ptrace_syscall_info si;
                if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(si), &si) <= 0 ||
                    si.op == PTRACE_SYSCALL_INFO_SECCOMP)
                        return -ESRCH;
        }
        switch (req) {
        case PTRACE_CONT:
        case PTRACE_SYSCALL:
        case PTRACE_SINGLESTEP:
        case PTRACE_LISTEN:
                return eresume(t, (int)req, data);
        case PTRACE_DETACH: {
                long r;
                if (data > 64)
                        return -EIO;
                r = eresume(t, PTRACE_CONT, data);
                edetach(t);
                return r;
        }
        case PTRACE_SETOPTIONS:
                if (data & ~(unsigned long)GUEST_OPTS)
                        return -EINVAL;
                t->eopts = data;
                sync_opts(t);
                return 0;
        case PTRACE_SECCOMP_GET_FILTER:
        case PTRACE_SECCOMP_GET_METADATA:
                return -EACCES; /* the kernel's answer without CAP_SYS_ADMIN */
        default:
                return tracee_op(ev->tid, (int)req, t, addr, data);
        }
}

/* Does a tracee of the waiter's match what its wait asks for? */
static bool wait_match(pid_t tid, int kind, pid_t id)
{
        return kind == P_ALL || kind == P_PGID || (kind == P_PID && tid == id);
}

static int wait_write(pid_t caller, bool waitid, uint64_t where, uint64_t rusage, pid_t tid, int status,
                      bool trapped)
{
        if (rusage) {
                struct rusage ru = { 0 };
                if (poke(caller, rusage, &ru, sizeof(ru)) < 0)
                        return -EFAULT;
        }
        if (!where)
                return 0;
        if (!waitid)
                return poke(caller, where, &status, sizeof(status));
        siginfo_t si;
        struct stat st;
        char path[64];
        memset(&si, 0, sizeof(si));
        si.si_signo = SIGCHLD;
        si.si_pid = tid;
        snprintf(path, sizeof(path), "/proc/%d", (int)tid);
        si.si_uid = stat(path, &st) == 0 ? st.st_uid : getuid();
        if (trapped) {
                si.si_code = CLD_TRAPPED;
                si.si_status = status >> 8;
        } else if (WIFEXITED(status)) {
                si.si_code = CLD_EXITED;
                si.si_status = WEXITSTATUS(status);
        } else {
                si.si_code = WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED;
                si.si_status = WTERMSIG(status);
        }
        return poke(caller, where, &si, sizeof(si));
}

/*
 * A wait4 or waitid of a guest tracer: the stops and ends it is owed come
 * from us, its children's other news from the kernel. With WNOHANG the
 * kernel's wait is run for it when we have nothing. Without, the thread is
 * parked: it runs, in place of its wait, a waitid with WNOWAIT that
 * mirrors it (or pause, when it has no child the kernel knows of), which
 * the kernel ends when a child has news, a signal comes, or we interrupt
 * it for a stop of ours; then the wait is issued again (unpark).
 */
static long guest_wait_here(const struct platform_event *ev, bool *answered)
{
        struct tracee *me = pending(ev);
        bool waitid = ev->nr == SYS_waitid;
        uint64_t where, rusage;
        int kind, options;
        pid_t id, tgid;
        bool live = false, pass, pause;

        *answered = false;
        if (!me)
                return PLATFORM_PASS;
        /* What the last park learnt is for this wait only. */
        pass = me->park_pass;
        pause = me->park_pause;
        me->park_pass = me->park_pause = false;
        if ((!T.etraced && !T.ereports) || (tgid = tgid_of(me)) <= 0)
                return PLATFORM_PASS;
        if (waitid) {
                kind = (int)ev->args[0];
                id = (pid_t)ev->args[1];
                where = ev->args[2];
                options = (int)ev->args[3];
                rusage = ev->args[4];
                /* What the kernel refuses, it refuses itself. */
                if ((kind != P_ALL && kind != P_PID && kind != P_PGID) ||
                    (options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD |
                                 __WCLONE | __WALL)) ||
                    !(options & (WEXITED | WSTOPPED | WCONTINUED)))
                        return PLATFORM_PASS;
        } else {
                int pid = (int)ev->args[0];
                if (pid == INT_MIN || ((int)ev->args[2] &
                                       ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)))
                        return PLATFORM_PASS;
                kind = pid == -1 ? P_ALL : pid > 0 ? P_PID : P_PGID;
                id = pid > 0 ? pid : pid == -1 ? 0 : -pid;
                where = ev->args[1];
                options = (int)ev->args[2] | WEXITED;
                rusage = ev->args[3];
        }
        /* An end we owe it. */
        for (struct ereport **e = &T.ereports; *e; e = &(*e)->next) {
                struct ereport *x = *e;
                if (x->tracer != tgid || !wait_match(x->tid, kind, id) || !(options & WEXITED))
                        continue;
                if (wait_write(ev->tid, waitid, where, rusage, x->tid, x->status, false) < 0)
                        return -EFAULT;
                pid_t tid = x->tid;
                if (!(options & WNOWAIT)) {
                        *e = x->next;
                        free(x);
                        T.nereports--;
                }
                return waitid ? 0 : tid;
        }
        /* A stop. */
        for (unsigned b = 0; b < BUCKETS; b++)
                for (struct tracee *t = T.tracees[b]; t; t = t->next) {
                        if (t->etracer != tgid || !wait_match(t->tid, kind, id))
                                continue;
                        live = true;
                        if (!t->estopped || t->ereported || t->state != T_RUNNING)
                                continue;
                        if (wait_write(ev->tid, waitid, where, rusage, t->tid, t->estatus, true) < 0)
                                return -EFAULT;
                        if (!(options & WNOWAIT))
                                t->ereported = true;
                        return waitid ? 0 : t->tid;
                }
        if (!live)
                return PLATFORM_PASS;
        *answered = true;
        if (ptrace(PTRACE_GETREGS, me->tid, 0, &me->saved) < 0)
                return -ESRCH;
        if (options & WNOHANG) {
                long r = inject_saved5(me, ev->nr, (long)ev->args[0], (long)ev->args[1], (long)ev->args[2],
                                       (long)ev->args[3], (long)ev->args[4]);
                if (r == -ESRCH)
                        return r;
                if (r == -ECHILD) {
                        /* Its tracees are its children too, as far as a wait goes. */
                        siginfo_t zero;
                        memset(&zero, 0, sizeof(zero));
                        r = 0;
                        if (waitid && where)
                                poke(ev->tid, where, &zero, sizeof(zero));
                }
                finish_call(me, r);
                return r;
        }
        if (pass) {
                *answered = false;
                return PLATFORM_PASS;
        }
        struct user_regs_struct regs = me->saved;
        if (pause) {
                me->park_waitid = false;
                regs.orig_rax = SYS_pause;
        } else {
                int mirror = (options & ~WNOHANG) | WNOWAIT;
                if (!waitid)
                        mirror = WEXITED | WNOWAIT | ((options & WUNTRACED) ? WSTOPPED : 0) |
                                 (options & (WCONTINUED | __WNOTHREAD | __WCLONE | __WALL));
                me->park_waitid = true;
                regs.orig_rax = SYS_waitid;
                regs.rdi = (unsigned long long)kind;
                regs.rsi = (unsigned long long)id;
                regs.rdx = 0;
                regs.r10 = (unsigned long long)mirror;
                regs.r8 = 0;
        }
        if (ptrace(PTRACE_SETREGS, me->tid, 0, &regs) < 0 || ptrace(PTRACE_SYSCALL, me->tid, 0, 0) < 0)
                return -ESRCH;
        me->parked_for = tgid;
        T.nparked++;
        set_state(me, T_PARKED, 0);
        return PLATFORM_PARKED;
}

static long ptrace_guest_ptrace(struct platform *p, const struct platform_event *ev)
{
        (void)p;
        if (!on_tracer())
                return -EIO;
        return guest_ptrace_here(ev);
}

static long ptrace_guest_wait(struct platform *p, const struct platform_event *ev, bool *answered)
{
        (void)p;
        *answered = false;
        if (!on_tracer())
                return PLATFORM_PASS;
        return guest_wait_here(ev, answered);
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
        .guest_ptrace = ptrace_guest_ptrace,
        .guest_wait = ptrace_guest_wait,
        .destroy = ptrace_destroy,
};
