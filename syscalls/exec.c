/* SPDX-License-Identifier: MIT */
/* Process lifetime events, audited: every exec with its argv, every exit
 * with its status. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>

#include "../sentry/audit.h"
#include "../sentry/sentry.h"
#include "../sentry/util.h"
#include "handlers.h"

/* Execs in flight: what the path named when the sentry looked, checked
 * against what the process runs at its first trapped call afterwards
 * (DESIGN.md invariant 2: the kernel reads the path again, so a guest
 * thread could swap it in between). */
#define EXEC_PENDING_MAX 256

struct exec_pending {
        pid_t tgid;
        pid_t tid;          /* the thread that called exec */
        uint64_t start;     /* the process's start time: a reused pid is not it */
        uint64_t when;      /* when the exec was judged, in clock ticks since boot */
        dev_t dev, old_dev; /* what the path named; what the process ran before */
        ino_t ino, old_ino;
        dev_t ld_dev; /* its ELF interpreter as judged (ld_ino 0: none) */
        ino_t ld_ino;
        int dirfd; /* where a relative path was looked up, to look again */
        char path[PATH_MAX];
};

static struct exec_pending pending[EXEC_PENDING_MAX];
static unsigned npending;
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER; /* the sentry serves from several threads */

/* The object that runs when path is executed: the file, or for a #!
 * script its interpreter (one level, as far as the audit needs). Only a
 * regular file is opened (opening a device has effects of its own), and
 * never so as to wait: a FIFO swapped in has no writer and would hold the
 * sentry. */
static int exec_target(int dirfd, const char *path, struct stat *st)
{
        _cleanup_close_ int fd = -1;
        char head[PATH_MAX + 2];
        const char *interp;

        if (fstatat(dirfd, path, st, 0) < 0)
                return -errno;
        if (!S_ISREG(st->st_mode))
                return 0; /* the kernel runs only regular files */
        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return 0; /* exec-only: no #! to read */
        interp = exec_shebang(fd, head, sizeof(head));
        if (interp && *interp == '/' && stat(interp, st) < 0)
                return -errno;
        return 0;
}

const char *exec_shebang(int fd, char *buf, size_t cap)
{
        ssize_t n = pread(fd, buf, cap - 1, 0);
        char *p;

        if (n <= 2 || buf[0] != '#' || buf[1] != '!')
                return NULL;
        buf[n] = '\0';
        for (p = buf + 2; *p == ' ' || *p == '\t'; p++)
                ;
        p[strcspn(p, " \t\n")] = '\0';
        return p;
}

static void drop(unsigned i)
{
        if (pending[i].dirfd >= 0)
                close(pending[i].dirfd);
        pending[i] = pending[--npending];
}

/* Now, in the unit /proc/PID/stat gives start times in: clock ticks since
 * boot. */
static uint64_t boot_ticks(void)
{
        uint64_t hz = (uint64_t)sysconf(_SC_CLK_TCK);
        struct timespec now;

        clock_gettime(CLOCK_BOOTTIME, &now);
        return (uint64_t)now.tv_sec * hz + (uint64_t)now.tv_nsec * hz / 1000000000u;
}

static bool interp_as_judged(const struct exec_pending *e);

static long exec_event(struct sentry_call *c, int dirfd, uint64_t path, int flags)
{
        char p[PATH_MAX];
        size_t len;
        ssize_t n = sentry_read_str(c, p, path, sizeof(p));
        struct exec_pending e = { .dirfd = -1 };
        char proc[64];
        struct stat st, ran = { 0 }, ld = { 0 };

        if (n == -ESRCH)
                return SENTRY_DONE; /* the caller is gone */
        if (n < 0)
                return n; /* EFAULT or ENAMETOOLONG, as the kernel would say */
        /* A thread's exec takes the leader's tid, with its own cwd. */
        sys_path_forget_cwds();
        sentry_forget_exes();
        /* With a policy, the exec right on what would run. */
        n = sys_path_check_exec(c, dirfd, p, flags, &ran, &ld);
        if (n < 0)
                return n;
        /* An exec a person approved keeps what says so (the question, the
         * answer, who gave it; the path is in it). */
        bool approved = c->decision && c->rule && !strcmp(c->rule, "ask");
        if (!approved) {
                len = (size_t)snprintf(c->detail, sizeof(c->detail), "\"path\":\"");
                len = audit_json_escape(c->detail, len, sizeof(c->detail) - 2, p);
                c->detail[len++] = '"';
                c->detail[len] = '\0';
        }
        sentry_decide(c, "exec", approved ? "ask" : "audit");

        /* Remember what the path names now, to check what ran. */
        e.tgid = sentry_caller_tgid(c);
        e.tid = c->ev.tid;
        if (e.tgid <= 0 || sentry_proc_stat(-1, e.tgid, NULL, &e.start, NULL, NULL) < 0)
                return SENTRY_CONTINUE;
        e.when = boot_ticks();
        snprintf(proc, sizeof(proc), "/proc/%d/exe", (int)e.tgid);
        if (stat(proc, &st) == 0)
                e.old_dev = st.st_dev, e.old_ino = st.st_ino;
        e.ld_dev = ld.st_dev;
        e.ld_ino = ld.st_ino;
        if (ran.st_ino) {
                /* What the policy judged, found as the guest sees it. If the
                 * kernel, which reads the path again, runs anything else
                 * (the path rewritten; or a name the guest sees elsewhere,
                 * like its private /tmp), the process dies. */
                e.dev = ran.st_dev, e.ino = ran.st_ino;
        } else if (p[0] == '/') {
                e.dirfd = AT_FDCWD;
        } else if (dirfd == AT_FDCWD) {
                snprintf(proc, sizeof(proc), "/proc/%d/cwd", (int)c->ev.tid);
                e.dirfd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
        } else {
                e.dirfd = sentry_caller_fd(c, dirfd);
        }
        if (ran.st_ino) {
                /* known */
        } else if (!p[0] && (flags & AT_EMPTY_PATH) && e.dirfd >= 0) {
                if (fstat(e.dirfd, &st) == 0)
                        e.dev = st.st_dev, e.ino = st.st_ino;
        } else if (e.dirfd >= 0 || e.dirfd == AT_FDCWD) {
                if (exec_target(e.dirfd, p, &st) == 0)
                        e.dev = st.st_dev, e.ino = st.st_ino;
        }
        if (e.dirfd == AT_FDCWD)
                e.dirfd = -1;
        snprintf(e.path, sizeof(e.path), "%s", p);
        pthread_mutex_lock(&pending_lock);
        for (unsigned i = 0; i < npending; i++)
                if (pending[i].tgid == e.tgid) {
                        /* Another thread's exec was waiting for its check.
                         * If its image already runs (the exe is no longer
                         * the one it replaced), it must be what was judged:
                         * this entry replaces it, and would take what runs
                         * now for the image before. */
                        bool ran_other = (e.old_dev != pending[i].old_dev ||
                                          e.old_ino != pending[i].old_ino) &&
                                         (e.old_dev != pending[i].dev || e.old_ino != pending[i].ino ||
                                          !interp_as_judged(&pending[i]));
                        drop(i);
                        if (ran_other) {
                                pthread_mutex_unlock(&pending_lock);
                                if (e.dirfd >= 0)
                                        close(e.dirfd);
                                sentry_kill_descendants(e.tgid, 0);
                                sentry_decide(c, "kill", "exec-verify");
                                return SENTRY_KILL;
                        }
                        break;
                }
        if (npending == EXEC_PENDING_MAX) {
                /* Full: forget the entries of processes that are gone (or
                 * whose pid is another's now); never one still waiting, or
                 * a flood of execs could evict the one to be checked. */
                for (unsigned i = 0; i < npending;) {
                        uint64_t start;
                        if (sentry_proc_stat(-1, pending[i].tgid, NULL, &start, NULL, NULL) < 0 ||
                            start != pending[i].start)
                                drop(i);
                        else
                                i++;
                }
        }
        if (npending == EXEC_PENDING_MAX) {
                pthread_mutex_unlock(&pending_lock);
                if (e.dirfd >= 0)
                        close(e.dirfd);
                sentry_decide(c, "deny", "exec-pending-full");
                return -EAGAIN;
        }
        pending[npending++] = e;
        pthread_mutex_unlock(&pending_lock);
        return SENTRY_CONTINUE;
}

/* struct procmap_query and PROCMAP_QUERY (linux/fs.h, 6.11), which older
 * headers lack. */
struct map_query {
        uint64_t size, query_flags, query_addr;
        uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
        uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
        uint64_t vma_name_addr, build_id_addr;
};
#define MAP_QUERY _IOWR('f', 17, struct map_query)
_Static_assert(sizeof(struct map_query) == 104, "struct map_query");

/* Is the judged interpreter (dev, ino) mapped in process tgid? */
static bool mapped(pid_t tgid, dev_t dev, ino_t ino)
{
        char path[64], line[512];
        bool found = false;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/maps", (int)tgid);
        if (!(f = fopen(path, "re")))
                return false;
        while (!found && fgets(line, sizeof(line), f)) {
                unsigned long long inode;
                unsigned maj, min;
                found = sscanf(line, "%*x-%*x %*s %*x %x:%x %llu", &maj, &min, &inode) == 3 && inode == ino &&
                        maj == major(dev) && min == minor(dev);
        }
        fclose(f);
        return found;
}

/* No AT_BASE: no interpreter, or one the kernel loaded at its own fixed
 * address (an ET_EXEC interpreter gets AT_BASE 0). The binary that runs
 * (no longer writable) says which: none, or the judged one, mapped. */
static bool no_interp_base(const struct exec_pending *e)
{
        char path[64], interp[PATH_MAX + 3];
        int fd, r;

        snprintf(path, sizeof(path), "/proc/%d/exe", (int)e->tgid);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return false;
        r = sys_elf_interp(fd, interp, sizeof(interp));
        close(fd);
        if (r < 0)
                return false; /* a 32-bit or malformed image: nothing we judged */
        return !interp[0] || (e->ld_ino && mapped(e->tgid, e->ld_dev, e->ld_ino));
}

/* The ELF interpreter the kernel mapped (at AT_BASE) is the one the policy
 * judged: a thread could have rewritten the binary's PT_INTERP between the
 * sentry's read and the kernel's, and /proc/PID/exe names only the binary.
 * True when it matches, or when none was judged and none was mapped. */
static bool interp_as_judged(const struct exec_pending *e)
{
        char path[64], buf[4096];
        unsigned long long base = 0, a_type, a_val;
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/auxv", (int)e->tgid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof(buf));
        close(fd);
        for (ssize_t off = 0; off + 16 <= n; off += 16) {
                memcpy(&a_type, buf + off, 8);
                memcpy(&a_val, buf + off + 8, 8);
                if (a_type == 7) /* AT_BASE */
                        base = a_val;
        }
        if (!base)
                return no_interp_base(e);
        if (!e->ld_ino)
                return false; /* an interpreter nobody judged */
        snprintf(path, sizeof(path), "/proc/%d/maps", (int)e->tgid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        struct map_query q = { .size = sizeof(q), .query_addr = base };
        if (ioctl(fd, MAP_QUERY, &q) == 0) {
                /* Linux 6.11+: the one mapping asked for, not the text of
                 * all of them (a third of the cost of an exec's check). */
                close(fd);
                return q.vma_start == base && q.inode == e->ld_ino && q.dev_major == major(e->ld_dev) &&
                       q.dev_minor == minor(e->ld_dev);
        }
        FILE *f = errno == ENOTTY || errno == EINVAL ? fdopen(fd, "re") : NULL;
        char line[512];
        bool ok = false;
        if (!f) {
                close(fd);
                return false;
        }
        while (fgets(line, sizeof(line), f)) {
                unsigned long long start, end, offset, inode;
                unsigned maj, min;
                if (sscanf(line, "%llx-%llx %*s %llx %x:%x %llu", &start, &end, &offset, &maj, &min,
                           &inode) != 6)
                        continue;
                if (start == base) {
                        ok = inode == e->ld_ino && maj == major(e->ld_dev) && min == minor(e->ld_dev);
                        break;
                }
        }
        fclose(f);
        return ok;
}

static long exec_verify_locked(struct sentry_call *c);

long sys_exec_verify(struct sentry_call *c)
{
        long r;

        if (!__atomic_load_n(&npending, __ATOMIC_RELAXED))
                return 0;
        pthread_mutex_lock(&pending_lock);
        r = exec_verify_locked(c);
        pthread_mutex_unlock(&pending_lock);
        return r;
}

/* A process started after an exec was judged, and descended from the
 * process that made it, is the new image's child (fork is the kernel's,
 * and an image that forks before any trapped call of its own would
 * otherwise run children unchecked): that exec's entry, found by walking
 * up from the caller, with its index in *at. NULL if none. */
static struct exec_pending *pending_ancestor(struct sentry_call *c, unsigned *at)
{
        uint64_t oldest = UINT64_MAX, start;
        pid_t p = sentry_caller_tgid(c), pp;

        for (unsigned i = 0; i < npending; i++)
                oldest = pending[i].when < oldest ? pending[i].when : oldest;
        if (p <= 0 || sentry_proc_stat(-1, p, &pp, &start, NULL, NULL) < 0 || start + 1 < oldest)
                return NULL; /* started before every pending exec: no new image's */
        for (int depth = 0; depth < 16 && pp > 1; depth++) {
                for (unsigned i = 0; i < npending; i++)
                        if (pending[i].tgid == pp) {
                                *at = i;
                                return &pending[i];
                        }
                if (sentry_proc_stat(-1, pp, &pp, NULL, NULL, NULL) < 0)
                        break;
        }
        return NULL;
}

static long exec_verify_locked(struct sentry_call *c)
{
        char proc[64], exe[PATH_MAX];
        struct exec_pending *e = NULL;
        struct stat st;
        uint64_t start;
        ssize_t n;
        unsigned i;

        /* After an exec the process has one thread, whose id is the
         * process's: its first call is the one we wait for. */
        for (i = 0; i < npending; i++)
                if (pending[i].tgid == c->ev.tid) {
                        e = &pending[i];
                        break;
                }
        if (!e) {
                /* A thread the new image started, its first thread never
                 * making a trapped call, must not be a way around the check. */
                pid_t tgid = sentry_caller_tgid(c);
                for (i = 0; tgid > 0 && tgid != c->ev.tid && i < npending; i++)
                        if (pending[i].tgid == tgid) {
                                e = &pending[i];
                                break;
                        }
        }
        bool ancestor = false;
        if (!e && (e = pending_ancestor(c, &i)))
                ancestor = true;
        if (!e)
                return 0;
        /* The new image's first call: what its tid's cwd was before (the
         * leader's, if another thread made the exec) is not its cwd, nor
         * its executable the one cached for the records. */
        sys_path_forget_cwds();
        sentry_forget_exes();
        snprintf(proc, sizeof(proc), "/proc/%d/exe", (int)e->tgid);
        if (sentry_proc_stat(-1, e->tgid, NULL, &start, NULL, NULL) < 0 || start != e->start) {
                drop(i); /* the process is gone (or its pid another's) */
                return 0;
        }
        /* A first thread that exited while another runs, or one on its way
         * out while another execs, has no exe to show: no answer yet, and
         * nothing to drop (the new image's first call is still to come). */
        if (stat(proc, &st) < 0)
                return 0;
        if (st.st_dev == e->old_dev && st.st_ino == e->old_ino) {
                /* The exec has not happened yet (the old image runs until
                 * the kernel replaces it), or it failed: only the thread
                 * that called it can say that, by calling again. */
                if (c->ev.tid == e->tid)
                        drop(i);
                return 0;
        }
        if (st.st_dev == e->dev && st.st_ino == e->ino && interp_as_judged(e)) {
                if (!ancestor)
                        drop(i); /* ran what was checked, with the interpreter checked */
                return 0;
        }
        if (ancestor) {
                /* The image that forked the caller ran something else: it
                 * dies too, as it would at its own next call. */
                _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, e->tgid, 0);
                if (pidfd >= 0 && sentry_proc_stat(-1, e->tgid, NULL, &start, NULL, NULL) == 0 &&
                    start == e->start)
                        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        }
        /* Something else runs than what the path named when we looked: a
         * guest thread rewrote the path between our read and the kernel's
         * (or swapped the file). The record says what ran, and the process
         * dies before the new image gets any call answered. (An interpreter
         * we cannot foresee, a binfmt_misc handler, dies too: security
         * first.) */
        n = readlink(proc, exe, sizeof(exe) - 1);
        exe[n > 0 ? n : 0] = '\0';
        size_t len = (size_t)snprintf(c->detail, sizeof(c->detail), "\"path\":\"");
        len = audit_json_escape(c->detail, len, sizeof(c->detail) - 40, e->path);
        len += (size_t)snprintf(c->detail + len, sizeof(c->detail) - len, "\",\"ran\":\"");
        len = audit_json_escape(c->detail, len, sizeof(c->detail) - 2, exe);
        c->detail[len++] = '"';
        c->detail[len] = '\0';
        /* And whatever it forked meanwhile (fork is the kernel's): the
         * children of an image that ran unchecked are unchecked too. */
        sentry_kill_descendants(e->tgid, 0);
        drop(i);
        sentry_decide(c, "kill", "exec-verify");
        return SENTRY_KILL;
}

long sys_execve(struct sentry_call *c, uint64_t path, uint64_t argv, uint64_t envp)
{
        (void)argv, (void)envp;
        return exec_event(c, AT_FDCWD, path, 0);
}

long sys_execveat(struct sentry_call *c, int dirfd, uint64_t path, uint64_t argv, uint64_t envp,
                  uint64_t flags)
{
        (void)argv, (void)envp;
        return exec_event(c, dirfd, path, (int)flags);
}

/* exit(2) ends a thread; the last one ends the process, which is audited
 * like exit_group. */
long sys_exit(struct sentry_call *c, int status)
{
        char path[64], buf[2048];
        const char *p;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)c->ev.tid);
        if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "\nThreads:")) ||
            strtol(p + 9, NULL, 10) != 1)
                return SENTRY_CONTINUE;
        snprintf(c->detail, sizeof(c->detail), "\"status\":%d", status & 0xff);
        sentry_decide(c, "exit", "audit");
        return SENTRY_CONTINUE;
}

long sys_exit_group(struct sentry_call *c, int status)
{
        snprintf(c->detail, sizeof(c->detail), "\"status\":%d", status & 0xff);
        sentry_decide(c, "exit", "audit");
        return SENTRY_CONTINUE;
}
