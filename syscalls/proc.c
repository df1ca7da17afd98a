/* SPDX-License-Identifier: MIT */
/*
 * Signals and other processes. The guest may act on processes of its own
 * tree only; anything outside looks as if it did not exist (ESRCH). The
 * sentry acts itself, on a pidfd it checked, so a pid that dies and is
 * reused between the check and the act is never reached.
 */
#include <errno.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/fsverity.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../sentry/sentry.h"
#include "../sentry/util.h"
#include "handlers.h"

#ifndef PIDFD_SIGNAL_PROCESS_GROUP
#define PIDFD_SIGNAL_PROCESS_GROUP (1UL << 2)
#endif
#ifndef PIDFD_SIGNAL_THREAD
#define PIDFD_SIGNAL_THREAD (1UL << 0)
#endif

static long refuse(struct sentry_call *c, const char *rule, long err)
{
        sentry_decide(c, "deny", rule);
        return err;
}

long sys_refuse(struct sentry_call *c)
{
        return refuse(c, "table", -c->e->err);
}

long sys_unknown(struct sentry_call *c)
{
        unsigned nr = (unsigned)c->ev.nr;
        uint8_t bit = (uint8_t)(1u << (nr % 8));

        /* One audit record per syscall: a program probing for a missing
         * call in a loop must not flood the log. */
        if (nr / 8 < sizeof(c->s->unknown_seen) &&
            !(__atomic_fetch_or(&c->s->unknown_seen[nr / 8], bit, __ATOMIC_RELAXED) & bit))
                sentry_decide(c, "enosys", "unimplemented");
        return -ENOSYS;
}

/* Is the call aimed at the caller's own process? Then the kernel may act:
 * the caller is alive and blocked in this call, so its pid cannot be
 * reused. */
static bool is_self(struct sentry_call *c, pid_t pid)
{
        pid_t tgid = sentry_caller_tgid(c);
        return pid == c->ev.tid || (tgid > 0 && pid == tgid);
}

static long signal_pidfd(int pidfd, int sig, unsigned int flags)
{
        if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, flags) < 0)
                return -errno;
        return 0;
}

/*
 * A SIGCHLD handler is installed with SA_RESTART. On seccomp-unotify a
 * trapped call waits for the sentry interruptibly until the sentry has
 * received it (WAIT_KILLABLE_RECV covers only the time after), and a
 * signal caught in that window ends the call with -ERESTARTSYS: a handler
 * without SA_RESTART makes that EINTR, from a stat or an open that
 * natively cannot fail so. A busy process's calls spend about a third of
 * their time there, and a child's exit signals its parent: dash (no
 * SA_RESTART), looking a command up along PATH, skipped the directory
 * whose stat failed (tests/guest/threads.c: 111 of 936 calls). With
 * SA_RESTART the kernel runs the call again. What changes:
 * slow calls (a read of a pipe, wait4) interrupted by SIGCHLD restart
 * instead of failing with EINTR, on every platform alike; poll, select,
 * nanosleep and sigsuspend fail with EINTR still, as SA_RESTART never
 * restarts them.
 */
long sys_rt_sigaction(struct sentry_call *c, int sig, uint64_t act, uint64_t oldact, uint64_t size)
{
        struct {
                uint64_t handler, flags;
        } k;

        (void)sig, (void)oldact, (void)size;
        if (!act || sentry_read(c, &k, act, sizeof(k)) < 0)
                return SENTRY_CONTINUE; /* the kernel says EFAULT */
        if (k.handler == (uint64_t)(uintptr_t)SIG_DFL || k.handler == (uint64_t)(uintptr_t)SIG_IGN ||
            (k.flags & SA_RESTART))
                return SENTRY_CONTINUE;
        k.flags |= SA_RESTART;
        /* The guest's own struct (another of its threads may change it
         * back: its loss alone). Read-only memory stays as it is. */
        sentry_write(c, act + offsetof(__typeof__(k), flags), &k.flags, sizeof(k.flags));
        return SENTRY_CONTINUE;
}

/*
 * A stop signal sent to the job's own process group (vim's ^Z, bash's
 * `suspend`, `kill -TSTP 0`) stops, natively, every process of the group,
 * the program the user's shell started included, and the shell sees its
 * job stopped and takes the terminal back. Under interpose that program
 * is the launcher, outside the tree: it stops too, as it would had the
 * terminal sent the signal, so the shell's fg or bg continues the whole
 * job. Nothing else outside the tree is signalled.
 */
static void stop_launcher(struct sentry_call *c, pid_t pgrp, int sig)
{
        if (sig != SIGSTOP && sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)
                return;
        if (c->s->launcher > 0 && pgrp > 0 && getpgid(c->s->launcher) == pgrp)
                sentry_signal_launcher(sig);
}

long sys_kill(struct sentry_call *c, int pid, int sig)
{
        _cleanup_close_ int pidfd = -1;
        int n, outside = 0;

        if (sig < 0 || sig > _NSIG)
                return -EINVAL;
        if (pid > 0) {
                if (is_self(c, pid))
                        return SENTRY_CONTINUE;
                pidfd = sentry_tree_pidfd(c->s, pid, false);
                if (pidfd < 0)
                        return refuse(c, "own-tree", -ESRCH);
                return signal_pidfd(pidfd, sig, 0);
        }
        /* Groups and "everyone" may include processes outside the tree
         * (the shell's job shares our process group): signal members one by
         * one, in the tree only. */
        if (pid == 0) {
                pid_t pgrp = (pid_t)syscall(SYS_getpgid, sentry_caller_tgid(c));
                n = pgrp > 0 ? sentry_signal_group(c->s, pgrp, 0, sig, &outside) : 0;
                if (n > 0)
                        stop_launcher(c, pgrp, sig);
        } else if (pid == -1) {
                /* As kill(2): everyone we may signal but the caller. */
                n = sentry_signal_group(c->s, 0, sentry_caller_tgid(c), sig, &outside);
        } else {
                n = sentry_signal_group(c->s, -pid, 0, sig, &outside);
                if (n > 0)
                        stop_launcher(c, -pid, sig);
        }
        /* Spared members are a refusal too, and the log says so. */
        if (outside > 0)
                sentry_decide(c, "deny", "own-tree");
        return n > 0 ? 0 : -ESRCH;
}

static long thread_signal(struct sentry_call *c, int tgid, int tid, int sig)
{
        _cleanup_close_ int pidfd = -1;
        pid_t caller = sentry_caller_tgid(c);
        char path[64];

        if (sig < 0 || sig > _NSIG || tid <= 0 || (tgid != -1 && tgid <= 0))
                return -EINVAL;
        /* A thread of the caller's own process: the kernel checks that tid
         * belongs to tgid, and tgid is alive because it is calling. */
        if (tgid > 0 && tgid == caller)
                return SENTRY_CONTINUE;
        pidfd = sentry_tree_pidfd(c->s, tid, true);
        if (pidfd < 0)
                return refuse(c, "own-tree", -ESRCH);
        if (tgid > 0) {
                snprintf(path, sizeof(path), "/proc/%d/task/%d", tgid, tid);
                if (access(path, F_OK) < 0)
                        return -ESRCH;
        }
        if (signal_pidfd(pidfd, sig, PIDFD_SIGNAL_THREAD) == 0)
                return 0;
        /* Before 6.9 a pidfd names a whole process only. */
        return signal_pidfd(pidfd, sig, 0);
}

long sys_tkill(struct sentry_call *c, int tid, int sig)
{
        if (tid == c->ev.tid)
                return SENTRY_CONTINUE;
        return thread_signal(c, -1, tid, sig);
}

long sys_tgkill(struct sentry_call *c, int tgid, int tid, int sig)
{
        return thread_signal(c, tgid, tid, sig);
}

/* Queue a signal with the caller's siginfo, on a pidfd of the tree. */
static long queue_info(struct sentry_call *c, int pid, int tid, int sig, uint64_t uinfo)
{
        _cleanup_close_ int pidfd = -1;
        siginfo_t info;
        int r;

        if (pid == sentry_caller_tgid(c))
                return SENTRY_CONTINUE;
        r = sentry_read(c, &info, uinfo, sizeof(info));
        if (r < 0)
                return r == -ESRCH ? SENTRY_DONE : r;
        pidfd = sentry_tree_pidfd(c->s, tid > 0 ? tid : pid, tid > 0);
        if (pidfd < 0)
                return refuse(c, "own-tree", -ESRCH);
        /* The kernel applies the same rule to us as to the caller: a sender
         * other than the target may not forge SI_USER or kernel codes. */
        if (syscall(SYS_pidfd_send_signal, pidfd, sig, &info, tid > 0 ? PIDFD_SIGNAL_THREAD : 0) < 0)
                return -errno;
        return 0;
}

long sys_rt_sigqueueinfo(struct sentry_call *c, int pid, int sig, uint64_t info)
{
        return queue_info(c, pid, 0, sig, info);
}

long sys_rt_tgsigqueueinfo(struct sentry_call *c, int tgid, int tid, int sig, uint64_t info)
{
        if (tgid == sentry_caller_tgid(c))
                return SENTRY_CONTINUE;
        return queue_info(c, tgid, tid, sig, info);
}

/* The pid a pidfd names, from fdinfo; -1 when it has exited, -errno when fd
 * is not a pidfd. */
static pid_t pidfd_pid(int pidfd)
{
        char path[64], buf[1024];
        const char *p;

        snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
        if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0)
                return -EBADF;
        p = strstr(buf, "\nPid:");
        if (!p)
                return -EBADF;
        return (pid_t)strtol(p + 5, NULL, 10);
}

/* The process a /proc/PID directory names (what pidfd_send_signal takes
 * in place of a pidfd, as the kernel's own procfs does: not a task
 * directory below it), or -EBADF. */
static pid_t proc_dir_pid(int fd)
{
        char target[64], *end;
        struct statfs sf;
        long pid;

        if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC ||
            fd_path(fd, target, sizeof(target)) < 0 || strncmp(target, "/proc/", 6) || target[6] < '1' ||
            target[6] > '9')
                return -EBADF;
        pid = strtol(target + 6, &end, 10);
        return *end || pid <= 0 || pid > INT32_MAX ? -EBADF : (pid_t)pid;
}

/* Take the caller's pidfd (or, with proc_dir, a /proc/PID directory) and
 * check that it names a process of the tree, whose pid goes in *ret_pid
 * if that is not NULL. Returns the sentry's copy, or -errno (EBADF,
 * ESRCH). */
static int checked_pidfd(struct sentry_call *c, int fd, bool proc_dir, pid_t *ret_pid)
{
        _cleanup_close_ int copy = sentry_caller_fd(c, fd);
        pid_t pid;

        if (copy < 0)
                return copy;
        pid = pidfd_pid(copy);
        if (pid == -EBADF && proc_dir)
                pid = proc_dir_pid(copy);
        if (pid == -EBADF)
                return -EBADF;
        if (pid <= 0)
                return -ESRCH;
        /* Checking the pid while our copy is alive checks the process the
         * pidfd names: the copy keeps that pid from being reused... unless
         * it exited, which the liveness check afterwards catches. */
        if (sentry_in_tree(c->s, pid) != 1 || syscall(SYS_pidfd_send_signal, copy, 0, NULL, 0) < 0)
                return -ESRCH;
        if (ret_pid)
                *ret_pid = pid;
        return TAKE_FD(copy);
}

long sys_pidfd_open(struct sentry_call *c, int pid, uint64_t flags)
{
        _cleanup_close_ int pidfd = -1;
        int r;

        if (pid <= 0)
                return -EINVAL;
        if (is_self(c, pid))
                return SENTRY_CONTINUE;
        if (sentry_in_tree(c->s, pid) != 1)
                return refuse(c, "own-tree", -ESRCH);
        pidfd = (int)syscall(SYS_pidfd_open, pid, (unsigned)flags);
        if (pidfd < 0)
                return -errno;
        if (sentry_in_tree(c->s, pid) != 1 || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
                return refuse(c, "own-tree", -ESRCH);
        r = c->s->plat.ops->install_fd(&c->s->plat, &c->ev, pidfd, O_CLOEXEC, true);
        if (r < 0)
                return r == -ENOENT ? SENTRY_DONE : r;
        c->done = r;
        c->done_known = true;
        return SENTRY_DONE;
}

long sys_pidfd_send_signal(struct sentry_call *c, int pidfd, int sig, uint64_t info, uint64_t flags)
{
        pid_t target = 0;
        _cleanup_close_ int copy = checked_pidfd(c, pidfd, true, &target);
        siginfo_t si;
        int r;

        if (copy == -ESRCH)
                return refuse(c, "own-tree", -ESRCH);
        if (copy < 0)
                return copy;
        if (info) {
                r = sentry_read(c, &si, info, sizeof(si));
                if (r < 0)
                        return r;
        }
        /* To the target's process group: members one by one, in the tree
         * only (a group may hold processes that joined it from outside). */
        if (flags & PIDFD_SIGNAL_PROCESS_GROUP) {
                int outside = 0, n;
                if (info)
                        return -EINVAL; /* not worth carrying a siginfo to each */
                /* The group the target leads (its pid is the group's id). */
                n = sentry_signal_group(c->s, target, 0, sig, &outside);
                if (outside > 0)
                        sentry_decide(c, "deny", "own-tree");
                return n > 0 ? 0 : -ESRCH;
        }
        if (syscall(SYS_pidfd_send_signal, copy, sig, info ? &si : NULL, (unsigned)flags) < 0)
                return -errno;
        return 0;
}

long sys_pidfd_getfd(struct sentry_call *c, int pidfd, int targetfd, uint64_t flags)
{
        _cleanup_close_ int copy = checked_pidfd(c, pidfd, false, NULL), fd = -1;
        int r;

        if (copy == -ESRCH)
                return refuse(c, "own-tree", -ESRCH);
        if (copy < 0)
                return copy;
        if (flags)
                return -EINVAL;
        fd = (int)syscall(SYS_pidfd_getfd, copy, targetfd, 0);
        if (fd < 0)
                return -errno;
        r = c->s->plat.ops->install_fd(&c->s->plat, &c->ev, fd, O_CLOEXEC, true);
        c->done = r;
        c->done_known = r >= 0;
        return r == -ENOENT || r >= 0 ? SENTRY_DONE : r;
}

/* Made by the sentry on its checked copy of the pidfd: letting the kernel
 * read the caller's fd number again would let another thread dup2 a pidfd
 * of an outside process over it in between. */
long sys_process_madvise(struct sentry_call *c, int pidfd, uint64_t iov, uint64_t vlen, int advice,
                         uint64_t flags)
{
        _cleanup_close_ int copy = checked_pidfd(c, pidfd, false, NULL);
        _cleanup_free_ struct iovec *v = NULL;
        int r;

        if (copy == -ESRCH)
                return refuse(c, "own-tree", -ESRCH);
        if (copy < 0)
                return copy;
        if (vlen > UIO_MAXIOV)
                return -EINVAL;
        /* The vectors name the target's memory; we only carry them. */
        v = xcalloc(vlen ? vlen : 1, sizeof(*v));
        r = vlen ? sentry_read(c, v, iov, vlen * sizeof(*v)) : 0;
        if (r < 0)
                return r;
        r = (int)syscall(SYS_process_madvise, copy, v, (size_t)vlen, advice, (unsigned)flags);
        return r < 0 ? -errno : r;
}

long sys_process_mrelease(struct sentry_call *c, int pidfd, uint64_t flags)
{
        _cleanup_close_ int copy = checked_pidfd(c, pidfd, false, NULL);

        if (copy == -ESRCH)
                return refuse(c, "own-tree", -ESRCH);
        if (copy < 0)
                return copy;
        if (syscall(SYS_process_mrelease, copy, (unsigned)flags) < 0)
                return -errno;
        return 0;
}

long sys_kcmp(struct sentry_call *c, int pid1, int pid2, int type, uint64_t idx1, uint64_t idx2)
{
        (void)type, (void)idx1, (void)idx2;
        if (sentry_in_tree(c->s, pid1) != 1 && !is_self(c, pid1))
                return refuse(c, "own-tree", -ESRCH);
        if (sentry_in_tree(c->s, pid2) != 1 && !is_self(c, pid2))
                return refuse(c, "own-tree", -ESRCH);
        return SENTRY_CONTINUE;
}

/* A call aimed at one pid of the tree: check, then let the kernel act.
 * These calls have no pidfd form; the window between check and act would
 * need the target to die, be reaped and its pid be handed out again. */
static long pid_target(struct sentry_call *c, pid_t pid)
{
        _cleanup_close_ int pidfd = -1;

        /* A negative pid names no process in these calls: the kernel
         * answers for it (ESRCH or EINVAL, depending on the call). */
        if (pid <= 0 || is_self(c, pid))
                return SENTRY_CONTINUE;
        /* The first guest process's parent is the sentry, which getppid()
         * names: it exists, so it answers as a process one may not touch. */
        if (pid == c->s->self)
                return refuse(c, "own-tree", -EPERM);
        pidfd = sentry_tree_pidfd(c->s, pid, true);
        if (pidfd < 0)
                return refuse(c, "own-tree", -ESRCH);
        return SENTRY_CONTINUE;
}

long sys_pid0(struct sentry_call *c)
{
        return pid_target(c, (pid_t)c->ev.args[0]);
}

/* sched_setaffinity/sched_getaffinity of another thread of the tree: made
 * by the sentry itself. The sentry narrows a caller's CPU mask for the
 * instant it installs an fd (platform/unotify.c); a change let through to
 * the kernel would land at any moment, inside that instant too, and be
 * undone by the restore, or read the narrowed mask. These calls wait for
 * every such instant to end (the platform's affinity_lock). */
long sys_sched_affinity(struct sentry_call *c, int pid, unsigned len, uint64_t mask)
{
        cpu_set_t set[8]; /* 8192 CPUs */
        long r = pid_target(c, pid);
        size_t n = len < sizeof(set) ? len : sizeof(set);

        /* Only the caller's own tid is the kernel's: the process id from
         * another thread names the first thread, which may be inside an
         * install's instant. */
        if (r != SENTRY_CONTINUE || pid <= 0 || pid == c->ev.tid)
                return r;
        bool set_it = c->ev.nr == SYS_sched_setaffinity;
        memset(set, 0, sizeof(set));
        if (set_it && n && (r = sentry_read(c, set, mask, n)) < 0)
                return r;
        pthread_rwlock_wrlock(&c->s->plat.affinity_lock);
        r = set_it ? sched_setaffinity(pid, n, set) : syscall(SYS_sched_getaffinity, pid, n, set);
        if (r < 0)
                r = -errno;
        pthread_rwlock_unlock(&c->s->plat.affinity_lock);
        if (set_it || r < 0)
                return r;
        long w = sentry_write(c, mask, set, (size_t)r);
        return w < 0 ? w : r; /* the bytes the kernel's mask takes */
}

/* setpriority/getpriority and ioprio: process targets are checked; groups
 * and users reach beyond the tree, so they are refused. */
static long prio_target(struct sentry_call *c, int which, int who, int process, int pgrp)
{
        if (which == process)
                return pid_target(c, who);
        if (which == pgrp && who == 0)
                return refuse(c, "own-tree", -EPERM);
        if (which == pgrp) {
                if (sentry_in_tree(c->s, who) != 1)
                        return refuse(c, "own-tree", -ESRCH);
                return SENTRY_CONTINUE;
        }
        return refuse(c, "own-tree", -EPERM);
}

long sys_setpriority(struct sentry_call *c, int which, int who, int prio)
{
        (void)prio;
        return prio_target(c, which, who, PRIO_PROCESS, PRIO_PGRP);
}

long sys_getpriority(struct sentry_call *c, int which, int who)
{
        return prio_target(c, which, who, PRIO_PROCESS, PRIO_PGRP);
}

long sys_ioprio_set(struct sentry_call *c, int which, int who, int ioprio)
{
        (void)ioprio;
        return prio_target(c, which, who, 1 /* IOPRIO_WHO_PROCESS */, 2 /* IOPRIO_WHO_PGRP */);
}

long sys_ioprio_get(struct sentry_call *c, int which, int who)
{
        return prio_target(c, which, who, 1, 2);
}

/* Make own the owner of the caller's fd (SIGIO, SIGURG and the F_SETSIG
 * signal go to the owner): only a process or group of the tree. */
static long set_owner(struct sentry_call *c, int fd, struct f_owner_ex *own, bool socket_only)
{
        _cleanup_close_ int copy = -1;
        struct stat st;

        /* The signals go with the setter's credentials: an owner outside
         * the tree would be a way to signal it. */
        if (own->pid != 0 && !is_self(c, own->pid) && sentry_in_tree(c->s, own->pid) != 1)
                return refuse(c, "own-tree", -ESRCH);
        copy = sentry_caller_fd(c, fd);
        if (copy < 0)
                return copy == -ESRCH ? SENTRY_DONE : -EBADF;
        if (socket_only && (fstat(copy, &st) < 0 || !S_ISSOCK(st.st_mode)))
                return -ENOTTY;
        /* Set it on our copy of the open file: the owner lives in the file
         * description, which the caller shares. */
        if (fcntl(copy, F_SETOWN_EX, own) < 0)
                return -errno;
        return 0;
}

/* Turn O_ASYNC on or off on the caller's fd. Turning it on lets the file
 * pick an owner for SIGIO when it has none: a terminal picks its
 * foreground process group, which may be the user's shell (and F_SETSIG can
 * make that SIGKILL). So the owner is made the caller first, and the flag
 * is set on our copy of the file description, which the caller shares.
 * An F_SETFL (setfl >= 0) that clears O_APPEND is judged first, on the
 * same copy. */
static long set_async(struct sentry_call *c, int fd, bool on, long setfl)
{
        _cleanup_close_ int copy = sentry_caller_fd(c, fd);
        struct f_owner_ex own = { 0 };
        pid_t tgid = sentry_caller_tgid(c);
        long r;
        int fl;

        if (copy < 0)
                return copy == -ESRCH ? SENTRY_DONE : -EBADF;
        if (setfl >= 0 && !(setfl & O_APPEND) && (r = sys_fd_may_clear_append(c, fd, copy)) < 0)
                return r == -ESRCH ? SENTRY_DONE : r;
        if (on) {
                if (fcntl(copy, F_GETOWN_EX, &own) < 0)
                        own.pid = 0;
                if (own.pid == 0 || (own.pid != tgid && sentry_in_tree(c->s, own.pid) != 1)) {
                        own = (struct f_owner_ex){ F_OWNER_PID, tgid };
                        if (fcntl(copy, F_SETOWN_EX, &own) < 0)
                                return -errno;
                }
        }
        if (setfl < 0) {
                fl = fcntl(copy, F_GETFL);
                if (fl < 0)
                        return -errno;
                setfl = on ? fl | O_ASYNC : fl & ~O_ASYNC;
        }
        if (fcntl(copy, F_SETFL, (int)setfl) < 0)
                return -errno;
        return 0;
}

long sys_fcntl(struct sentry_call *c, int fd, int cmd, uint64_t arg)
{
        struct f_owner_ex own;
        pid_t target = (pid_t)(int)arg;
        int r;

        if (cmd == F_SETFL)
                return set_async(c, fd, arg & O_ASYNC, (long)(int)arg);
        if (cmd == F_SETLEASE) {
                /* A lease holds every other opener of the file, the host's
                 * processes too, for lease-break-time (45 s), and is taken
                 * again at will: a read-only file of the host's stalls
                 * whoever opens it. Only letting one go is the kernel's. */
                if ((int)arg == F_UNLCK)
                        return SENTRY_CONTINUE;
                return refuse(c, "lease", -EACCES);
        }
        if (cmd == F_SETOWN_EX) {
                r = sentry_read(c, &own, arg, sizeof(own));
                if (r < 0)
                        return r;
        } else {
                own.type = target < 0 ? F_OWNER_PGRP : F_OWNER_PID;
                own.pid = target < 0 ? -target : target;
        }
        return set_owner(c, fd, &own, false);
}

/* A group of the guest's: the job it started in, one a tree process
 * leads, or one whose leader is gone and whose members are all the tree's. */
static bool group_ours(struct sentry_call *c, pid_t pgid)
{
        int outside = 0;

        if (pgid == c->s->initial_pgrp || sentry_in_tree(c->s, pgid) == 1)
                return true;
        return sentry_signal_group(c->s, pgid, 0, 0, &outside) > 0 && !outside;
}

/* setpgid into an existing group: one of the guest's. The kernel lets a
 * process join any group of its session, which is the user's: a guest
 * child that joined the group of the user's shell or of another job and
 * then wrote to the terminal from the background stopped that job with
 * SIGTTOU (and, once orphaned, hung it up). */
long sys_setpgid(struct sentry_call *c, int pid, int pgid)
{
        pid_t target = pid ? pid : sentry_caller_tgid(c);

        if (pid < 0 || pgid <= 0 || pgid == target || group_ours(c, pgid))
                return SENTRY_CONTINUE; /* EINVAL, a new group, one of ours: the kernel's */
        return refuse(c, "own-tree", -EPERM);
}

/* The groups the sentry made the foreground for the guest, the latest
 * few: when all of one's processes have ended (a job an interactive bash
 * ran), the terminal still names it, and its shell must take it back. */
static struct {
        pthread_mutex_t lock;
        pid_t v[16];
        unsigned next;
} fg_set = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void fg_remember(pid_t pgrp)
{
        pthread_mutex_lock(&fg_set.lock);
        fg_set.v[fg_set.next++ % ARRAY_SIZE(fg_set.v)] = pgrp;
        pthread_mutex_unlock(&fg_set.lock);
}

static bool fg_was_set(pid_t pgrp)
{
        bool found = false;

        pthread_mutex_lock(&fg_set.lock);
        for (unsigned i = 0; i < ARRAY_SIZE(fg_set.v) && !found; i++)
                found = fg_set.v[i] == pgrp;
        pthread_mutex_unlock(&fg_set.lock);
        return found;
}

/* Whether the foreground of the terminal tty is the guest's job (true too
 * for a terminal that has no foreground the sentry can see: not the
 * shared one), or a group the guest was given that has no process left
 * (nobody's keys to take). */
static bool foreground_ours(struct sentry_call *c, int tty)
{
        pid_t fg = tcgetpgrp(tty);
        int outside = 0;

        if (fg <= 0 || group_ours(c, fg))
                return true;
        return fg_was_set(fg) && sentry_signal_group(c->s, fg, 0, 0, &outside) == 0 && !outside;
}

/* TIOCSWINSZ: the kernel sends SIGWINCH to the terminal's foreground
 * group. From a guest in the background of the shared terminal that is
 * the user's shell or editor: refused then. Made on the sentry's copy of
 * the fd with its copy of the size. */
static long set_winsize(struct sentry_call *c, int fd, uint64_t arg)
{
        _cleanup_close_ int copy = -1;
        struct winsize ws;
        int r = sentry_read(c, &ws, arg, sizeof(ws));

        if (r < 0)
                return r;
        copy = sentry_caller_fd(c, fd);
        if (copy < 0)
                return copy == -ESRCH ? SENTRY_DONE : -EBADF;
        if (!foreground_ours(c, copy))
                return refuse(c, "own-tree", -EPERM);
        return ioctl(copy, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
}

/* tcsetpgrp: the terminal's foreground group decides who gets ^C, ^Z and
 * SIGTTOU/SIGTTIN. A group of the tree, or the one the guest started in
 * (the shell's job, which an interactive guest hands the terminal back to
 * on exit), but never the user's shell or another job. */
static long set_foreground(struct sentry_call *c, int fd, uint64_t arg)
{
        _cleanup_close_ int copy = -1;
        pid_t pgrp, tgid = sentry_caller_tgid(c);
        int r = sentry_read(c, &pgrp, arg, sizeof(pgrp));

        if (r < 0)
                return r;
        /* A session the guest made holds only its own processes: the
         * kernel's own check (same session) is enough there. */
        if (getsid(tgid) != getsid(0))
                return SENTRY_CONTINUE;
        /* A bad fd is EBADF before anything else, as natively. */
        copy = sentry_caller_fd(c, fd);
        if (copy < 0)
                return copy == -ESRCH ? SENTRY_DONE : -EBADF;
        if (pgrp != c->s->initial_pgrp && sentry_in_tree(c->s, pgrp) != 1)
                return refuse(c, "own-tree", -EPERM);
        /* And only while the guest's job holds it: from the background the
         * sentry's call (SIGTTOU blocked) would take the terminal, and the
         * keys typed for the user's shell, away from it. */
        if (!foreground_ours(c, copy))
                return refuse(c, "own-tree", -EPERM);
        /* While a question waits, its prompt may be up on the terminal,
         * holding the foreground: the guest may not take it (and read the
         * person's answer). Refused for the whole wait, not by who holds
         * the terminal now: the prompter takes it at a moment of its own,
         * which a check here could not order itself against. */
        if (c->s->ask_tty && __atomic_load_n(&c->s->plat.asks_waiting, __ATOMIC_RELAXED) > 0)
                return refuse(c, "prompt", -EPERM);
        /* Our copy of the value, on our copy of the fd: the guest cannot
         * change either after the check. */
        if (ioctl(copy, TIOCSPGRP, &pgrp) < 0)
                return -errno;
        fg_remember(pgrp);
        return 0;
}

long sys_ioctl(struct sentry_call *c, int fd, uint64_t cmd, uint64_t arg)
{
        uint32_t op = (uint32_t)cmd; /* the kernel reads an unsigned int */
        struct f_owner_ex own;
        int pid, on, r;

        switch (op) {
        case TIOCSTI:
        case TIOCLINUX:
        case TIOCSETD:            /* a line discipline: kernel code few programs reach (n_hdlc, n_gsm CVEs) */
        case USERFAULTFD_IOC_NEW: /* /dev/userfaultfd: the hatch by another door */
                return refuse(c, "table", -EPERM);
        case TIOCSPGRP:
                return set_foreground(c, fd, arg);
        case TIOCSWINSZ:
                return set_winsize(c, fd, arg);
        case FS_IOC_SETFLAGS:
        case FS_IOC32_SETFLAGS:
        case FS_IOC_FSSETXATTR:
        case FS_IOC_SETVERSION:
        case FS_IOC32_SETVERSION:
        case EXT4_IOC_SETVERSION: /* ext4's own number for the same (as e2fsprogs calls it) */
        case EXT4_IOC32_SETVERSION:
                return sys_fd_setattr_ioctl(c, fd, op, arg);
        case NS_GET_PID_FROM_PIDNS:
        case NS_GET_TGID_FROM_PIDNS:
        case NS_GET_PID_IN_PIDNS:
        case NS_GET_TGID_IN_PIDNS:
                /* Any host pid, translated: which processes exist outside
                 * the tree (kill says ESRCH for them). As a kernel before
                 * 6.11. */
                return refuse(c, "own-tree", -ENOTTY);
        case FS_IOC_ENABLE_VERITY:
        case FS_IOC_SET_ENCRYPTION_POLICY:
                /* Lasting changes to a file through any fd of it: as a
                 * file system without the feature. */
                return refuse(c, "table", -EOPNOTSUPP);
        case FS_IOC_RESVSP:
        case FS_IOC_UNRESVSP:
        case FS_IOC_RESVSP64:
        case FS_IOC_UNRESVSP64:
        case FS_IOC_ZERO_RANGE:
                /* fallocate by the old XFS numbers, which the VFS answers
                 * for any file system: holes punched or zeroed and space
                 * taken past its write-right check and --max-write. Only
                 * xfs_io uses them; everything else calls fallocate. As a
                 * kernel without them. */
                return refuse(c, "table", -ENOTTY);
        case FIOASYNC:
                r = sentry_read(c, &on, arg, sizeof(on));
                if (r < 0)
                        return r;
                return set_async(c, fd, on != 0, -1);
        case FIOSETOWN:
        case SIOCSPGRP:
                /* The ioctl forms of F_SETOWN: a pointer to the pid (negative
                 * for a process group), taken once and used on our copy. */
                r = sentry_read(c, &pid, arg, sizeof(pid));
                if (r < 0)
                        return r;
                own.type = pid < 0 ? F_OWNER_PGRP : F_OWNER_PID;
                own.pid = pid < 0 ? -pid : pid;
                return set_owner(c, fd, &own, op == SIOCSPGRP);
        default:
                return SENTRY_CONTINUE;
        }
}

/* capget(2) of another process: its capabilities are its business. The
 * sentry makes the call on its own copy of the header, naming the caller
 * explicitly when it asked about itself (pid 0), so a guest thread cannot
 * change the pid after the check. */
long sys_capget(struct sentry_call *c, uint64_t hdrp, uint64_t datap)
{
        struct __user_cap_header_struct h;
        struct __user_cap_data_struct d[2] = { 0 };
        int r = sentry_read(c, &h, hdrp, sizeof(h));
        long ret;

        if (r < 0)
                return r;
        if (h.pid < 0)
                return -EINVAL;
        if (h.pid == 0)
                h.pid = c->ev.tid;
        else if (!is_self(c, h.pid) && sentry_in_tree(c->s, h.pid) != 1)
                return refuse(c, "own-tree", -ESRCH);
        ret = syscall(SYS_capget, &h, datap ? d : NULL) < 0 ? -errno : 0;
        /* The kernel writes the version it prefers back, also on EINVAL. */
        r = sentry_write(c, hdrp + offsetof(struct __user_cap_header_struct, version), &h.version,
                         sizeof(h.version));
        if (r < 0)
                return r;
        if (ret == 0 && datap)
                r = sentry_write(c, datap, d,
                                 h.version == _LINUX_CAPABILITY_VERSION_1 ? sizeof(d[0]) : sizeof(d));
        return r < 0 ? r : ret;
}

/* A negative clock id names a process's or thread's CPU clock (or, with
 * the low bits 3, an fd's dynamic clock): reading another process's CPU
 * time, or arming a timer on it, is a side channel on it. */
long sys_cpuclock(struct sentry_call *c, int clock)
{
        pid_t pid = ~(clock >> 3);

        if (clock >= 0 || (clock & 7) == 3 || pid == 0 || is_self(c, pid))
                return SENTRY_CONTINUE;
        if (sentry_in_tree(c->s, pid) == 1)
                return SENTRY_CONTINUE;
        /* What the kernel says for a clock of a process that is not there. */
        return refuse(c, "own-tree", -EINVAL);
}

/* SO_PEERPIDFD hands out a pidfd of the socket's peer, and SO_PASSPIDFD
 * pidfds of senders: processes outside the tree, by another door. As a
 * kernel before 6.5 would say. */
/* setsockopt of a socket filter (SO_ATTACH_FILTER, SO_ATTACH_BPF,
 * SO_DETACH_FILTER, SO_LOCK_FILTER): refused on an IP datagram socket,
 * where the sentry's filter says whose replies it takes (syscalls/net.c);
 * else made by the sentry on its copy of the socket, so that another
 * thread cannot put such a socket at fd between the look and the call. */
static long sockopt_filter(struct sentry_call *c, int fd, int name, uint64_t val, uint64_t len)
{
        _cleanup_close_ int copy = sentry_caller_fd(c, fd), prog = -1;
        struct sock_filter *insns = NULL;
        struct sock_fprog fprog;
        int v = 0;
        long r;

        if (copy < 0)
                return copy == -ESRCH ? SENTRY_DONE : copy;
        if (!net_may_filter(c, copy))
                return refuse(c, "net-reply-filter", -EPERM);
        if (name == SO_DETACH_FILTER)
                return setsockopt(copy, SOL_SOCKET, name, &v, sizeof(v)) < 0 ? -errno : 0;
        if (name == SO_LOCK_FILTER || name == SO_ATTACH_BPF) {
                if ((int)len < (int)sizeof(v))
                        return -EINVAL;
                if ((r = sentry_read(c, &v, val, sizeof(v))) < 0)
                        return r;
                if (name == SO_ATTACH_BPF) {
                        if ((prog = sentry_caller_fd(c, v)) < 0)
                                return prog == -ESRCH ? SENTRY_DONE : prog;
                        v = prog;
                }
                return setsockopt(copy, SOL_SOCKET, name, &v, sizeof(v)) < 0 ? -errno : 0;
        }
        if ((int)len < (int)sizeof(fprog))
                return -EINVAL;
        if ((r = sentry_read(c, &fprog, val, sizeof(fprog))) < 0)
                return r;
        if (!fprog.len || fprog.len > BPF_MAXINSNS)
                return -EINVAL;
        insns = xmalloc(fprog.len * sizeof(*insns));
        r = sentry_read(c, insns, (uint64_t)(uintptr_t)fprog.filter, fprog.len * sizeof(*insns));
        if (r >= 0) {
                fprog.filter = insns;
                r = setsockopt(copy, SOL_SOCKET, name, &fprog, sizeof(fprog)) < 0 ? -errno : 0;
        }
        free(insns);
        return r;
}

long sys_sockopt(struct sentry_call *c, int fd, int level, int name, uint64_t val, uint64_t len)
{
        /* Routing headers (IPv6 segment routing, IPv4 source routes) send
         * a socket's packets by way of other addresses than the one the
         * network policy judged. Setting one on a socket is refused
         * (reading one back is harmless). */
        if (c->ev.nr == SYS_setsockopt &&
            ((level == IPPROTO_IPV6 &&
              (name == IPV6_RTHDR || name == IPV6_2292RTHDR || name == IPV6_2292PKTOPTIONS)) ||
             (level == IPPROTO_IP && (name == IP_OPTIONS || name == IP_RETOPTS))))
                return refuse(c, "net-routing-header", -EPERM);
        /* Whether a port may be shared is judged when the sentry binds
         * (net_judge_bind reads these options, then binds): set by the
         * kernel for a second guest thread in between, a port a host
         * service holds with SO_REUSEPORT was the guest's too. Set here,
         * by the sentry, so never while it judges a bind. */
        if (c->ev.nr == SYS_setsockopt && level == SOL_SOCKET &&
            (name == SO_REUSEPORT || name == SO_REUSEADDR)) {
                _cleanup_close_ int copy = -1;
                int on;
                long r;
                if ((int)len < (int)sizeof(on))
                        return -EINVAL;
                r = sentry_read(c, &on, val, sizeof(on));
                if (r < 0)
                        return r;
                copy = sentry_caller_fd(c, fd);
                if (copy < 0)
                        return copy == -ESRCH ? SENTRY_DONE : copy;
                return setsockopt(copy, level, name, &on, sizeof(on)) < 0 ? -errno : 0;
        }
        /* An upper-layer protocol under a TCP socket (TCP_ULP: "tls",
         * "espintcp", "smc") and an encapsulation on a UDP socket
         * (UDP_ENCAP: ESP in UDP, whose datagrams from any host go to the
         * kernel's IPsec input before the socket's filter sees them):
         * kernel code few programs reach, the seat of local privilege
         * escalations (CVE-2023-0461, a use after free through a listening
         * socket with the "tls" ULP). Refused as by a kernel built without
         * them: OpenSSL's kTLS falls back to TLS in user space. */
        if (c->ev.nr == SYS_setsockopt && level == IPPROTO_TCP && name == TCP_ULP)
                return refuse(c, "table", -ENOENT);
        if (c->ev.nr == SYS_setsockopt && level == IPPROTO_UDP && name == UDP_ENCAP)
                return refuse(c, "table", -ENOPROTOOPT);
        /* IPV6_ADDRFORM turns an IPv6 socket into an IPv4 one under its
         * other users (the protocol and its operations swapped on a live
         * socket: the seat of use-after-frees, CVE-2022-3567 among them),
         * for programs older than dual-stack sockets. As a kernel that
         * keeps it to IPv6 (ENOPROTOOPT). */
        if (c->ev.nr == SYS_setsockopt && level == IPPROTO_IPV6 && name == IPV6_ADDRFORM)
                return refuse(c, "table", -ENOPROTOOPT);
        /* Multicast joins: announced to the network by the host, past the
         * network policy (net_may_join). */
        if (c->ev.nr == SYS_setsockopt &&
            ((level == IPPROTO_IP && (name == IP_ADD_MEMBERSHIP || name == IP_ADD_SOURCE_MEMBERSHIP ||
                                      name == MCAST_JOIN_GROUP || name == MCAST_JOIN_SOURCE_GROUP)) ||
             (level == IPPROTO_IPV6 && (name == IPV6_ADD_MEMBERSHIP || name == IPV6_JOIN_ANYCAST ||
                                        name == MCAST_JOIN_GROUP || name == MCAST_JOIN_SOURCE_GROUP))) &&
            !net_may_join(c))
                return refuse(c, "net-multicast", -EPERM);
        if (c->ev.nr == SYS_setsockopt && level == SOL_SOCKET &&
            (name == SO_ATTACH_FILTER || name == SO_ATTACH_BPF || name == SO_DETACH_FILTER ||
             name == SO_LOCK_FILTER))
                return sockopt_filter(c, fd, name, val, len);
        /* The error queue takes ICMP errors from any host, with bytes the
         * sender chose, past the reply filter (net_may_filter). On IP
         * datagram sockets the option is taken and not set: glibc's
         * resolver fails a lookup when it cannot set it, and a program
         * that set it only hears of no error. */
        if (c->ev.nr == SYS_setsockopt &&
            ((level == IPPROTO_IP && (name == IP_RECVERR || name == IP_RECVERR_RFC4884)) ||
             (level == IPPROTO_IPV6 && (name == IPV6_RECVERR || name == IPV6_RECVERR_RFC4884)))) {
                _cleanup_close_ int copy = sentry_caller_fd(c, fd);
                if (copy < 0)
                        return copy == -ESRCH ? SENTRY_DONE : copy;
                if (!net_may_filter(c, copy)) {
                        sentry_decide(c, "deny", "net-recverr");
                        return 0;
                }
                return SENTRY_CONTINUE;
        }
        if (level != SOL_SOCKET || (name != 76 /* SO_PASSPIDFD */ && name != 77 /* SO_PEERPIDFD */))
                return SENTRY_CONTINUE;
        return refuse(c, "own-tree", -ENOPROTOOPT);
}
