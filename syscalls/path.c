/* SPDX-License-Identifier: MIT */
/*
 * Path calls, decided on the object they reach (DESIGN.md invariants 2, 3).
 *
 * The sentry reads the guest's path once, into its own memory; the gofer
 * resolves it for the calling thread (from its cwd or dirfd, which the
 * sentry sends along) and judges the object reached; the sentry then makes
 * the call itself on the fd the gofer returned and hands the result back
 * (an fd installed with ADDFD, a struct written to guest memory). Nothing
 * the guest can change after the check reaches the kernel.
 *
 * So far: open, openat, creat, the stat family, access and readlink. The
 * other path calls still run in the kernel (issue 4).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stddef.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <utime.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "../gofer/gofer.h"
#include "../gofer/walk.h"
#include "../policy/policy.h"
#include "../sentry/audit.h"
#include "../sentry/sentry.h"
#include "../sentry/util.h"
#include "dcache.h"
#include "handlers.h"

struct target {
        int fd;          /* O_PATH: the object, or its parent when !r.exists */
        bool borrowed;   /* fd is the dentry cache's: not ours to close */
        bool per_caller; /* the walk went through /proc: not for the cache */
        bool mapped;     /* ... or through the guest's private /tmp (walk.h) */
        struct gofer_resp r;
        char given[PATH_MAX];
};

static void target_release(struct target *t)
{
        if (t->fd >= 0 && !t->borrowed)
                close(t->fd);
        t->fd = -1;
}

/* --- what in /dev is the session's own -------------------------------- */

/* /dev/shm and /dev/pts are host-wide: another process's shared memory
 * and the user's other terminals are there. The guest gets the objects it
 * made in /dev/shm (shm_open, sem_open) and the terminals it started on or
 * opened through /dev/ptmx; nothing else there. */
#define OWN_SHM_MAX 4096
#define OWN_PTS_MAX 256
static struct {
        dev_t dev;
        ino_t ino;
} own_shm[OWN_SHM_MAX];
static unsigned own_shm_n;
static int own_pts[OWN_PTS_MAX];
static unsigned own_pts_n;
static bool own_pts_ready;

static void own_shm_add(const struct stat *st)
{
        if (own_shm_n < OWN_SHM_MAX)
                own_shm[own_shm_n++] = (typeof(own_shm[0])){ st->st_dev, st->st_ino };
}

static void own_pts_add(int n)
{
        for (unsigned i = 0; i < own_pts_n; i++)
                if (own_pts[i] == n)
                        return;
        if (own_pts_n < OWN_PTS_MAX)
                own_pts[own_pts_n++] = n;
}

/* A pty the guest opened through /dev/ptmx: its number is the session's
 * only while the pty exists, and the kernel gives a freed number to the
 * next host terminal. The sentry keeps a copy of the master (master, which
 * it takes), so the pty, and its number, live as long as the session. */
static void own_pts_master(int master)
{
        unsigned n;

        if (own_pts_n >= OWN_PTS_MAX || ioctl(master, TIOCGPTN, &n) < 0) {
                close(master);
                return;
        }
        own_pts_add((int)n);
        /* kept open on purpose, for the session: see above */
}

/* The terminals the session started on: the sentry's stdio is the
 * launcher's, which is the guest's. */
static void own_pts_init(void)
{
        char name[64];

        if (own_pts_ready)
                return;
        own_pts_ready = true;
        for (int fd = 0; fd < 3; fd++)
                if (ttyname_r(fd, name, sizeof(name)) == 0 && !strncmp(name, "/dev/pts/", 9))
                        own_pts_add(atoi(name + 9));
}

/* The rights on an object in /dev/shm or /dev/pts, given those the policy
 * gave: none unless it is the session's own. */
static unsigned own_dev_rights(const char *path, const struct stat *st, unsigned rights, char *rule,
                               size_t cap, const char *rule_from)
{
        if (!strncmp(path, "/dev/shm/", 9) && !(rule_from && strlen(rule_from) > 8)) {
                /* (A rule for a tree inside /dev/shm, a TMPDIR there, is
                 * the user's word and stands.) What is decided is the entry
                 * directly in /dev/shm that the object is, or is under. */
                struct stat top;
                const char *slash = strchr(path + 9, '/');
                if (slash) {
                        char first[PATH_MAX];
                        snprintf(first, sizeof(first), "%.*s", (int)(slash - path), path);
                        if (lstat(first, &top) < 0)
                                return 0;
                        st = &top;
                }
                for (unsigned i = 0; i < own_shm_n; i++)
                        if (own_shm[i].dev == st->st_dev && own_shm[i].ino == st->st_ino)
                                return rights;
                snprintf(rule, cap, "/dev/shm: not made by this session");
                return 0;
        }
        if (!strncmp(path, "/dev/pts/", 9) && path[9] >= '0' && path[9] <= '9') {
                int n = atoi(path + 9);
                own_pts_init();
                for (unsigned i = 0; i < own_pts_n; i++)
                        if (own_pts[i] == n)
                                return rights;
                snprintf(rule, cap, "/dev/pts: not a terminal of this session");
                return 0;
        }
        return rights;
}

/* Fill t from t->fd, the sentry's copy of the guest's fd guest_fd (-1:
 * keep t->given), and
 * judge it: what it is, its kernel path, "fd N" for the audit, and the
 * rights the policy gives that path, or unlisted for an object with no
 * path (a pipe, a socket, a memfd). 0 or -errno. */
/* The device memfds live on (the kernel's internal shmem mount), learnt
 * before the sentry confines itself; (dev_t)-1 until then. */
static dev_t memfd_dev = (dev_t)-1;

void sys_path_prepare(void)
{
        struct stat st;
        int fd = memfd_create("interpose-probe", MFD_CLOEXEC);

        if (fd >= 0 && fstat(fd, &st) == 0)
                memfd_dev = st.st_dev;
        if (fd >= 0)
                close(fd);
}

/* A memfd: "/memfd:NAME (deleted)", no link, on the internal mount. Like
 * a pipe, it is the guest's own and in no tree of the host. */
static bool is_memfd(const char *path, const struct stat *st)
{
        return !strncmp(path, "/memfd:", 7) && st->st_nlink == 0 && st->st_dev == memfd_dev;
}

/* Is fd (a procfs object, path its name) in /proc/<pid> of a process
 * outside the caller's tree? The profile's /proc/[0-9]* rule reads every
 * pid; which ones the guest sees is the tree's (gofer/walk.c). */
static bool proc_outsider(struct sentry_call *c, int fd, const char *path)
{
        struct statfs sf;
        char *end;

        if (strncmp(path, "/proc/", 6) || path[6] < '0' || path[6] > '9')
                return false;
        pid_t pid = (pid_t)strtol(path + 6, &end, 10);
        if ((*end != '/' && *end) || fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
                return false;
        return pid != sentry_caller_tgid(c) && sentry_in_tree(c->s, pid) != 1;
}

static int target_of_fd(struct sentry_call *c, struct target *t, int guest_fd, unsigned unlisted)
{
        const struct policy_rule *rule = NULL;
        char proc[64];
        ssize_t n;

        if (fstat(t->fd, &t->r.st) < 0)
                return -errno;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
        n = readlink(proc, t->r.path, sizeof(t->r.path) - 1);
        if (guest_fd >= 0)
                snprintf(t->given, sizeof(t->given), "fd %d", guest_fd);
        t->r.exists = 1;
        if (n <= 0 || (size_t)n >= sizeof(t->r.path) - 1) {
                /* A path too long to tell (or none given): nothing is
                 * decided on a truncated name; no right at all. */
                snprintf(t->r.path, sizeof(t->r.path), "(path unknown or longer than %d)", PATH_MAX - 2);
                t->r.rights = 0;
                snprintf(t->r.rule, sizeof(t->r.rule), "path too long to judge");
                return 0;
        }
        t->r.path[n] = '\0';
        if (t->r.path[0] == '/' && !is_memfd(t->r.path, &t->r.st))
                t->r.rights = policy_decide_object(c->s->policy, t->r.path, t->r.st.st_dev, t->r.st.st_ino,
                                                   &rule);
        else
                t->r.rights = unlisted; /* pipe:[N], socket:[N], anon_inode:..., /memfd: */
        snprintf(t->r.rule, sizeof(t->r.rule), "%s", rule ? rule->origin : "");
        t->r.rights = own_dev_rights(t->r.path, &t->r.st, t->r.rights, t->r.rule, sizeof(t->r.rule),
                                     rule ? rule->path : NULL);
        if (proc_outsider(c, t->fd, t->r.path)) {
                /* An fd the kernel opened in an outsider's /proc/<pid> (an
                 * O_PATH open whose path was raced): no right there. */
                t->r.rights = 0;
                snprintf(t->r.rule, sizeof(t->r.rule), "own-tree");
        }
        return 0;
}

/* The object behind the caller's fd: a copy of the fd, or for an O_PATH
 * fd (which pidfd_getfd does not copy) the object reopened O_PATH through
 * /proc. Either way the sentry then acts on what it holds. An O_PATH fd
 * (made by the kernel from a path it read again) of an object in another
 * mount namespace is none of the guest's: -EXDEV. fd or -errno. */
static int caller_object_fd(struct sentry_call *c, int fd)
{
        char proc[64];
        int r = sentry_caller_fd(c, fd);

        if (r != -EBADF) {
                /* (pidfd_getfd copies O_PATH fds on recent kernels.) */
                if (r >= 0 && (fcntl(r, F_GETFL) & O_PATH) && !walk_own_mount(r)) {
                        close(r);
                        return -EXDEV;
                }
                return r;
        }
        snprintf(proc, sizeof(proc), "/proc/%d/fd/%d", (int)c->ev.tid, fd);
        r = open(proc, O_PATH | O_CLOEXEC);
        if (r < 0)
                return -EBADF;
        if (!walk_own_mount(r)) {
                close(r);
                return -EXDEV;
        }
        return r;
}

/* The caller's cwd, remembered per thread: opening /proc/TID/cwd and
 * asking its path cost more than the lookup that needs them. A thread's
 * cwd changes only by chdir and fchdir, which the sentry sees (any of them
 * forgets every entry: threads and CLONE_FS children share a cwd), and
 * its path only by a rename or removal (the dentry cache's generation);
 * and an exec by a thread that is not the leader hands it the leader's
 * tid with its own cwd, so every exec forgets too.
 * An entry holds a pidfd of its thread (PIDFD_THREAD, Linux 6.9+): a
 * caller with that tid is that thread while the pidfd's thread lives, so
 * a recycled tid is never given another's cwd. Without thread pidfds
 * nothing is cached. */
#define CWD_SLOTS 256
static struct {
        pid_t tid;
        int pidfd, fd; /* -1 / 0: empty */
        unsigned gen, dgen;
        char *path;
        struct stat st; /* of fd: an fd's object never changes */
} cwds[CWD_SLOTS];
static unsigned cwd_gen = 1;
static int thread_pidfds = -1; /* -1 unknown, 0 no, 1 yes */

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

void sys_path_forget_cwds(void)
{
        cwd_gen++;
}

/* chdir and fchdir are made by the kernel after the sentry answers: until
 * that thread's chdir is done, another thread sharing its cwd could still
 * see the old one, so no cwd is remembered meanwhile. A pending chdir is
 * done when its thread makes its next trapped call, or when its cwd is
 * seen to be the directory it asked for. At that next call the cwd is
 * checked too: the kernel read the path again, and a guest thread may
 * have rewritten it after our check (sys_path_call_seen). */
#define CHDIR_PENDING_MAX 64
static struct {
        pid_t tid;
        dev_t dev;
        ino_t ino;
} chdir_pending[CHDIR_PENDING_MAX];
static unsigned chdir_npending;
static bool chdir_overflow; /* more than that at once: cache off for good */

static bool cwd_settled(void);

/* A chdir refused because too many are in flight to check each. */
static long refuse_busy(struct sentry_call *c, const char *rule)
{
        sentry_decide(c, "deny", rule);
        return -ENOMEM;
}

/* false when no more chdirs can be followed at once (then refused). */
static bool cwd_changing(pid_t tid, const struct stat *to)
{
        sys_path_forget_cwds();
        for (unsigned i = 0; i < chdir_npending; i++)
                if (chdir_pending[i].tid == tid) {
                        chdir_pending[i].dev = to->st_dev;
                        chdir_pending[i].ino = to->st_ino;
                        return true;
                }
        if (chdir_npending == CHDIR_PENDING_MAX)
                cwd_settled(); /* those done meanwhile go */
        if (chdir_npending == CHDIR_PENDING_MAX) {
                chdir_overflow = true;
                return false;
        }
        chdir_pending[chdir_npending].tid = tid;
        chdir_pending[chdir_npending].dev = to->st_dev;
        chdir_pending[chdir_npending].ino = to->st_ino;
        chdir_npending++;
        return true;
}

static void chdir_done(unsigned i)
{
        chdir_pending[i] = chdir_pending[--chdir_npending];
        sys_path_forget_cwds();
}

/* The cwd a chdir of tid left, now that the call is done: the directory
 * judged, or (another thread's chdir since) one the policy gives a right
 * on. Anywhere else, the path was rewritten between our read and the
 * kernel's: the process dies, as for an exec that ran something else. */
static long chdir_verify(struct sentry_call *c, dev_t dev, ino_t ino)
{
        const struct policy_rule *rule = NULL;
        char proc[64], path[PATH_MAX];
        _cleanup_close_ int fd = -1;
        struct stat st;
        size_t len;

        if (!c->s->policy)
                return 0;
        path[0] = '\0';
        snprintf(proc, sizeof(proc), "/proc/%d/cwd", (int)c->ev.tid);
        fd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return 0; /* gone */
        if (st.st_dev == dev && st.st_ino == ino)
                return 0;
        if (fd_path(fd, path, sizeof(path)) == 0 && path[0] == '/' && !proc_outsider(c, fd, path) &&
            walk_own_mount(fd) && policy_judge(c->s->policy, path, &st, &rule) != 0)
                return 0;
        if (path[0] != '/')
                snprintf(path, sizeof(path), "?");
        len = (size_t)snprintf(c->detail, sizeof(c->detail), "\"cwd\":\"");
        len = audit_json_escape(c->detail, len, sizeof(c->detail) - 2, path);
        c->detail[len++] = '"';
        c->detail[len] = '\0';
        sentry_decide(c, "kill", "chdir-verify");
        return SENTRY_KILL;
}

long sys_path_call_seen(struct sentry_call *c)
{
        for (unsigned i = 0; i < chdir_npending; i++)
                if (chdir_pending[i].tid == c->ev.tid) {
                        dev_t dev = chdir_pending[i].dev;
                        ino_t ino = chdir_pending[i].ino;
                        chdir_done(i);
                        return chdir_verify(c, dev, ino);
                }
        return 0;
}

/* true if no chdir is in flight, so the cache may be used. */
static bool cwd_settled(void)
{
        char proc[64];
        struct stat st;

        for (unsigned i = 0; i < chdir_npending;) {
                snprintf(proc, sizeof(proc), "/proc/%d/cwd", (int)chdir_pending[i].tid);
                if (stat(proc, &st) < 0 ||
                    (st.st_dev == chdir_pending[i].dev && st.st_ino == chdir_pending[i].ino))
                        chdir_done(i); /* gone, or there: done */
                else
                        i++;
        }
        return !chdir_npending && !chdir_overflow;
}

/* An O_PATH fd of the caller's cwd (ours to close; with borrow, the
 * cache's own when it has one, *borrow then set: not to be closed, and
 * good only until the next caller_cwd), its path, which stays valid during
 * this call (NULL if unknown), and its stat (st_ino 0 if not known without
 * asking). -ESRCH if the caller is gone. */
static int caller_cwd(struct sentry_call *c, const char **path, struct stat *st, bool *borrow)
{
        bool may_borrow = borrow && *borrow;
        unsigned i = (unsigned)c->ev.tid % CWD_SLOTS;
        char proc[64], buf[PATH_MAX];
        int fd, pidfd;

        *path = NULL;
        st->st_ino = 0;
        if (borrow)
                *borrow = false;
        if (!cwd_settled()) {
                snprintf(proc, sizeof(proc), "/proc/%d/cwd", (int)c->ev.tid);
                fd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
                return fd < 0 ? -ESRCH : fd;
        }
        if (cwds[i].fd > 0 && cwds[i].tid == c->ev.tid && cwds[i].gen == cwd_gen &&
            cwds[i].dgen == dcache_generation() &&
            syscall(SYS_pidfd_send_signal, cwds[i].pidfd, 0, NULL, 0) == 0) {
                *path = cwds[i].path;
                *st = cwds[i].st;
                if (may_borrow) {
                        *borrow = true;
                        return cwds[i].fd;
                }
                return fcntl(cwds[i].fd, F_DUPFD_CLOEXEC, 3);
        }
        snprintf(proc, sizeof(proc), "/proc/%d/cwd", (int)c->ev.tid);
        fd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -ESRCH;
        if (!thread_pidfds)
                return fd;
        pidfd = (int)syscall(SYS_pidfd_open, c->ev.tid, PIDFD_THREAD);
        if (pidfd < 0) {
                if (errno == EINVAL)
                        thread_pidfds = 0;
                return fd;
        }
        thread_pidfds = 1;
        if (fd_path(fd, buf, sizeof(buf)) < 0 || buf[0] != '/') {
                close(pidfd);
                return fd;
        }
        if (strstr(buf, " (deleted)") || fstat(fd, st) < 0) {
                st->st_ino = 0;
                close(pidfd);
                return fd;
        }
        if (cwds[i].fd > 0) {
                close(cwds[i].fd);
                close(cwds[i].pidfd);
                free(cwds[i].path);
        }
        cwds[i].tid = c->ev.tid;
        cwds[i].pidfd = pidfd;
        cwds[i].fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        cwds[i].gen = cwd_gen;
        cwds[i].dgen = dcache_generation();
        cwds[i].path = xstrdup(buf);
        cwds[i].st = *st;
        if (cwds[i].fd < 0) {
                close(pidfd);
                free(cwds[i].path);
                cwds[i].fd = 0;
                cwds[i].path = NULL;
                return fd;
        }
        *path = cwds[i].path;
        return fd;
}

static int start_dir(struct sentry_call *c, int dirfd);

/* Where a relative path starts: the caller's cwd or its dirfd; *path is
 * set to the start's kernel path when it is known, *st to its stat
 * (st_ino 0 when not known without asking: each fstat or dup here is a
 * syscall of every path call). borrow as caller_cwd's. */
static int start_dir_path(struct sentry_call *c, int dirfd, const char **path, struct stat *st, bool *borrow)
{
        int fd;

        if (dirfd == AT_FDCWD)
                return caller_cwd(c, path, st, borrow);
        *path = NULL;
        if (borrow)
                *borrow = false;
        fd = caller_object_fd(c, dirfd);
        if (fd < 0)
                return fd == -ESRCH ? -ESRCH : -EBADF;
        if (fstat(fd, st) < 0 || !S_ISDIR(st->st_mode)) {
                close(fd);
                return -ENOTDIR;
        }
        return fd;
}

static int start_dir(struct sentry_call *c, int dirfd)
{
        const char *unused;
        struct stat st;

        return start_dir_path(c, dirfd, &unused, &st, NULL);
}

static int in_tree_cb(void *opaque, pid_t pid)
{
        struct sentry_call *c = opaque;
        return sentry_in_tree(c->s, pid);
}

static pid_t tgid_cb(void *opaque)
{
        return sentry_caller_tgid(opaque);
}

/* Is st a host directory the session stands in for (/tmp, /dev/shm)? */
static bool is_mapped_dir(const struct sentry *s, const struct stat *st)
{
        for (int i = 0; i < WALK_MAPS; i++)
                if (s->maps[i].fd >= 0 && S_ISDIR(st->st_mode) && st->st_dev == s->maps[i].dev &&
                    st->st_ino == s->maps[i].ino)
                        return true;
        return false;
}

/* A host path in /tmp or /dev/shm that a rule of its own names (a
 * workspace there, the session's own directories by their real paths)
 * stays the host's; the rest is the session's. A rule for the mapped
 * directory itself (the profile's /dev/shm) or above it names nothing in
 * particular. */
static bool keep_host_cb(void *opaque, const char *path)
{
        struct sentry_call *c = opaque;
        const struct policy_rule *rule = NULL;
        const char *slash = strrchr(path, '/');
        size_t dir_len = slash ? (size_t)(slash - path) : 0;

        if (policy_is_ancestor(c->s->policy, path))
                return true;
        return policy_decide(c->s->policy, path, &rule) != 0 && rule && !rule->glob &&
               strlen(rule->path) > dir_len;
}

/* A directory a deny rule covers: its names are not told apart. */
static bool hides_cb(void *opaque, const char *dir)
{
        struct sentry_call *c = opaque;
        const struct policy_rule *rule = NULL;

        return policy_decide(c->s->policy, dir, &rule) == 0 && rule && rule->deny;
}

static int allowed(struct sentry_call *c, const struct target *t, unsigned need, const char *what);

/* The gofer's walk and decision (gofer/gofer.c do_walk), in the sentry. */
static int walk_local(struct sentry_call *c, int start, const char *start_path, const struct stat *start_st,
                      const char *path, unsigned flags, struct target *t)
{
        struct walk_ctx ctx = {
                .root = c->s->root_fd,
                .tid = c->ev.tid,
                .proc_dev = c->s->proc_dev,
                .in_tree = in_tree_cb,
                .get_tgid = tgid_cb,
                .maps = { c->s->maps[0], c->s->maps[1] },
                .keep_host = keep_host_cb,
                .hides = hides_cb,
                .start_path = start_path,
                .start_st = start_st && start_st->st_ino ? start_st : NULL,
                .opaque = c,
        };
        const struct policy_rule *rule = NULL;
        struct walk_result res;
        int r;

        r = walk(&ctx, start, path, flags, &res);
        if (r == -EACCES && res.path[0]) {
                /* Nothing there, in a hidden directory: refused as if
                 * there were, and recorded. */
                memset(&t->r, 0, sizeof(t->r));
                snprintf(t->r.path, sizeof(t->r.path), "%s", res.path);
                policy_decide(c->s->policy, res.path, &rule);
                snprintf(t->r.rule, sizeof(t->r.rule), "%s", rule ? rule->origin : "");
                return allowed(c, t, 0, "lookup");
        }
        if (r < 0)
                return r;
        memset(&t->r, 0, sizeof(t->r));
        t->r.exists = res.exists;
        snprintf(t->r.name, sizeof(t->r.name), "%s", res.name);
        snprintf(t->r.path, sizeof(t->r.path), "%s", res.path);
        t->r.st = res.st;
        t->per_caller = res.per_caller;
        t->mapped = res.mapped;
        t->r.rights = policy_judge(c->s->policy, res.path, &res.st, &rule);
        snprintf(t->r.rule, sizeof(t->r.rule), "%s", rule ? rule->origin : "");
        t->r.rights = own_dev_rights(res.path, &res.st, t->r.rights, t->r.rule, sizeof(t->r.rule),
                                     rule ? rule->path : NULL);
        t->fd = res.fd;
        return 0;
}

/* Read the path at addr and resolve it. 0 or -errno. */
static int resolve_given(struct sentry_call *c, int dirfd, unsigned flags, struct target *t);

static int resolve(struct sentry_call *c, int dirfd, uint64_t addr, unsigned flags, struct target *t)
{
        ssize_t n;

        t->fd = -1;
        n = sentry_read_str(c, t->given, addr, sizeof(t->given));
        if (n < 0)
                return (int)n;
        return resolve_given(c, dirfd, flags, t);
}

/* The gofer died: every path call fails (EIO), whichever way it would
 * be resolved, and none goes through. */
static bool gofer_gone(struct sentry_call *c)
{
        if (!__atomic_load_n(&c->s->gofer_gone, __ATOMIC_ACQUIRE))
                return false;
        sentry_decide(c, "deny", "gofer-gone");
        return true;
}

static int resolve_from(struct sentry_call *c, int start, const char *start_path, struct stat *sst,
                        unsigned flags, struct target *t);

/* Resolve t->given, already read from the guest. */
static int resolve_given(struct sentry_call *c, int dirfd, unsigned flags, struct target *t)
{
        _cleanup_close_ int start = -1;
        const char *start_path = NULL;
        struct stat sst = { 0 };
        /* The cwd cache's fd is used as it is: nothing below looks up
         * another cwd, and start goes with this function. */
        bool borrowed = true;
        int r;

        t->fd = -1;
        if (gofer_gone(c))
                return -EIO;
        if (!t->given[0])
                return -ENOENT;
        if (t->given[0] != '/') {
                start = start_dir_path(c, dirfd, &start_path, &sst, &borrowed);
                if (start < 0)
                        return start;
        }
        r = resolve_from(c, start, start_path, &sst, flags, t);
        if (borrowed)
                start = -1; /* the cache's */
        return r;
}

/* The rest of resolve_given, from start (-1 for an absolute path), whose
 * stat is *sst (st_ino 0: not known yet). */
static int resolve_from(struct sentry_call *c, int start, const char *start_path, struct stat *sst,
                        unsigned flags, struct target *t)
{
        int r;

        if (c->s->policy) {
                /* directfs (DESIGN.md): the walk and the judgement the gofer
                 * would make, made here on the same code and the root the
                 * gofer handed over, without a round trip per call; and
                 * for a lookup made before, not even that (dcache.h). */
                struct dcache_hit hit;
                /* ".." depends on the mount the start was reached by,
                 * which its (device, inode) key does not tell. */
                bool cacheable = !(flags & (WALK_CREATE | WALK_PARENT)) && !strstr(t->given, "..");

                if (cacheable && start >= 0 && !sst->st_ino && fstat(start, sst) < 0)
                        return -errno;
                if (cacheable && sst->st_dev != c->s->proc_dev &&
                    dcache_lookup(sst->st_dev, sst->st_ino, flags, t->given, &hit)) {
                        memset(&t->r, 0, sizeof(t->r));
                        t->fd = hit.fd;
                        t->borrowed = true;
                        t->r.exists = true;
                        t->r.st = hit.st;
                        t->r.rights = hit.rights;
                        snprintf(t->r.path, sizeof(t->r.path), "%s", hit.path);
                        snprintf(t->r.rule, sizeof(t->r.rule), "%s", hit.rule);
                        return 0;
                }
                r = walk_local(c, start, start_path, sst, t->given, flags, t);
                if (r == 0 && cacheable && t->r.exists && !t->per_caller && !t->mapped &&
                    sst->st_dev != c->s->proc_dev && t->r.st.st_dev != c->s->proc_dev)
                        t->borrowed = dcache_fill(sst->st_dev, sst->st_ino, flags, t->given, t->fd, &t->r.st,
                                                  t->r.path, t->r.rights, t->r.rule);
        } else {
                r = gofer_walk(c->s->gofer_fd, sentry_caller_tgid(c), c->ev.tid, start, t->given, flags,
                               &t->r, &t->fd);
        }
        if (r == -EIO) {
                /* The gofer is gone: fail the call, never let it through. */
                sentry_decide(c, "deny", "gofer-gone");
        }
        return r;
}

/* Files the guest gave another name itself (link, linkat): writing them
 * through either name is its own business. A ring: the oldest go first. */
#define OWN_LINKS 1024
static struct {
        dev_t dev;
        ino_t ino;
} own_links[OWN_LINKS];
static unsigned n_own_links;

static bool own_link(dev_t dev, ino_t ino)
{
        for (unsigned i = 0; i < n_own_links && i < OWN_LINKS; i++)
                if (own_links[i].dev == dev && own_links[i].ino == ino)
                        return true;
        return false;
}

static void own_link_add(dev_t dev, ino_t ino)
{
        unsigned i = n_own_links++ % OWN_LINKS;

        own_links[i].dev = dev;
        own_links[i].ino = ino;
}

/* Does the policy grant need? If not, audit the refusal with what the
 * guest named, what it reached, and the rule. A right the policy gives on
 * request is asked (approvals.c): granted by an answer, or refused, or
 * the call waits (c->parked; the handler fails, and its answer is left to
 * the sentry). */
static int allowed(struct sentry_call *c, const struct target *t, unsigned need, const char *what)
{
        char rights[64];
        size_t len;

        /* A regular file with another name the guest did not make: the
         * rights it reached by this name may be more than the other gives
         * (a package cache that uv, pnpm or git --local hard-link into the
         * workspace: writing there would change what every project linked
         * to it runs). Decided on the object, as every name of it can be
         * seen from none: no write through any. */
        if ((need & PR_WRITE) && (t->r.rights & PR_WRITE) && t->r.exists && S_ISREG(t->r.st.st_mode) &&
            t->r.st.st_nlink > 1 && !own_link(t->r.st.st_dev, t->r.st.st_ino)) {
                struct target h = *t;
                h.r.rights &= ~(unsigned)(PR_WRITE | PR_WRITE << PR_ASK_SHIFT);
                snprintf(h.r.rule, sizeof(h.r.rule), "hard link: another name of the file may give less");
                return allowed(c, &h, need, what);
        }
        if ((t->r.rights & need) == need && need)
                return 0;
        if (!need && t->r.rights)
                return 0; /* any right (or lookup) will do */
        len = (size_t)snprintf(c->detail, sizeof(c->detail), "\"path\":\"");
        len = audit_json_escape(c->detail, len, sizeof(c->detail) / 2, t->given);
        len += (size_t)snprintf(c->detail + len, sizeof(c->detail) - len, "\",\"object\":\"");
        len = audit_json_escape(c->detail, len, sizeof(c->detail) - 160, t->r.path);
        /* A name too long for the record is marked: what it names cannot
         * be told from it (interpose ci --learn leaves it out). */
        bool cut = len + 8 >= sizeof(c->detail) - 160;
        len += (size_t)snprintf(c->detail + len, sizeof(c->detail) - len,
                                "\"%s,\"right\":\"%s\",\"policy_rule\":\"", cut ? ",\"cut\":true" : "",
                                need ? policy_rights_str(need, rights, sizeof(rights)) : what);
        len = audit_json_escape(c->detail, len, sizeof(c->detail) - 2,
                                t->r.rule[0] ? t->r.rule : "default deny");
        c->detail[len++] = '"';
        c->detail[len] = '\0';
        unsigned missing = need & ~t->r.rights & PR_ALL;
        if (missing && c->s->policy && !(missing & ~PR_ASK_RIGHTS(t->r.rights))) {
                /* Asked: the object as a person would name it (a new
                 * name with its directory). */
                char object[PATH_MAX + NAME_MAX + 2];
                if (t->r.exists || !t->r.name[0])
                        snprintf(object, sizeof(object), "%s", t->r.path);
                else
                        snprintf(object, sizeof(object), "%s/%s", strcmp(t->r.path, "/") ? t->r.path : "",
                                 t->r.name);
                /* The detail's "right" is what is missing, for the ask's. */
                char *at = strstr(c->detail, "\",\"right\":\"");
                if (at)
                        at[1] = '\0';
                len = strlen(c->detail);
                if (len && c->detail[len - 1] == ',')
                        c->detail[--len] = '\0';
                if (sentry_ask(c, (missing & PR_EXEC) ? "exec" : "file",
                               policy_rights_str(missing, rights, sizeof(rights)), object,
                               t->r.rule[0] ? t->r.rule : "ask") == SENTRY_ASK_GRANTED)
                        return 0;
                return -EACCES;
        }
        sentry_decide(c, "deny", "policy");
        return -EACCES;
}

/* The path of the name t->r.name in the directory t (from
 * resolve_parent or a creating walk) into path. 0, or -ENAMETOOLONG. */
static int name_path(const struct target *t, char *path, size_t cap)
{
        if ((size_t)snprintf(path, cap, "%s/%s", strcmp(t->r.path, "/") ? t->r.path : "", t->r.name) >= cap)
                return -ENAMETOOLONG;
        return 0;
}

/* A new name in the directory t (t->r.name in t->fd): the create right
 * in the directory, and the new object's own path must not be one a rule
 * denies (a .env file, interpose's own records): what may not be reached
 * may not be made either. Nor one a rule of its own (not the directory's)
 * keeps from being written: making it writes it (a ~/.bashrc or
 * ~/.gitconfig not there yet, with the workspace the home, which the
 * profile keeps read-only). 0 or -EACCES, audited. */
static int allowed_create(struct sentry_call *c, const struct target *t)
{
        struct target u = *t;
        const struct policy_rule *rule = NULL, *dir_rule = NULL;
        unsigned rights;
        int r = allowed(c, t, PR_CREATE, "create");

        if (r < 0 || !c->s->policy || t->r.path[0] != '/')
                return r;
        u.fd = -1;
        r = name_path(t, u.r.path, sizeof(u.r.path));
        if (r < 0)
                return r;
        rights = policy_decide(c->s->policy, u.r.path, &rule);
        policy_decide(c->s->policy, t->r.path, &dir_rule);
        if (rule && !rule->deny && rule != dir_rule && !(rights & PR_WRITE)) {
                /* Asked for write on the new name, or refused with its rule. */
                u.r.rights = rights;
                u.r.exists = false;
                u.r.name[0] = '\0';
                snprintf(u.r.rule, sizeof(u.r.rule), "%s", rule->origin);
                r = allowed(c, &u, PR_WRITE, "write");
                if (r < 0)
                        return r;
        }
        if (!rule || !rule->deny) {
                /* A name costs room too (--max-write). */
                r = sentry_charge_name(c->s);
                if (r < 0)
                        sentry_decide(c, "deny", "limit:write");
                return r;
        }
        u.r.rights = 0;
        snprintf(u.r.rule, sizeof(u.r.rule), "%s", rule->origin);
        return allowed(c, &u, PR_CREATE, "create");
}

/* The object st (a directory moved or swapped in, or a symlink made,
 * moved or linked) would get the name t->r.name in the directory t: a name above a
 * tree some rule names (~/.local, with ~/.local/bin kept read-only in a
 * home that is the workspace; ~/.docker, above a denied config.json). The
 * object's entries, or what the link points to, would be what the rule's
 * path names for the host's own programs (a PATH entry, a credential file
 * a client reads), made by the guest past the rule. Refused, as a
 * directory holding such a tree may not be moved away (check_victim). A
 * new empty directory (mkdir) holds nothing: its entries meet the rules.
 * 0 or -EACCES, audited. */
static int holder_made(struct sentry_call *c, const struct target *t, const struct stat *st)
{
        struct target u = *t;
        const struct policy_rule *rule;

        if (!c->s->policy || t->r.path[0] != '/' || !(S_ISDIR(st->st_mode) || S_ISLNK(st->st_mode)))
                return 0;
        u.fd = -1;
        if (name_path(t, u.r.path, sizeof(u.r.path)) < 0)
                return -EACCES;
        rule = policy_holds_rule(c->s->policy, u.r.path);
        if (!rule)
                return 0;
        u.r.rights = t->r.rights & ~(PR_CREATE | PR_CREATE << PR_ASK_SHIFT);
        u.r.exists = false;
        u.r.name[0] = '\0';
        snprintf(u.r.rule, sizeof(u.r.rule), "%s (holds %s)", rule->origin, rule->path);
        return allowed(c, &u, PR_CREATE, "create");
}

/* For calls that make a name (mkdir, mknod, link, symlink) where the
 * directory gives no create right: a name that is there already, and that
 * the guest may see (stat would show it), is EEXIST, as the kernel says
 * before it asks for any permission. mkdir of /tmp or of an existing
 * system directory said EACCES, and C's "mkdir() < 0 && errno != EEXIST"
 * failed on it. A name it may not see stays EACCES: its existence is not
 * told. Nobody is asked to approve a name that cannot be made. */
static bool name_taken(struct sentry_call *c, int dirfd, const struct target *t)
{
        struct target u __attribute__((cleanup(target_release))) = { .fd = -1 };

        if (!c->s->policy || (t->r.rights & PR_CREATE) || !t->r.name[0])
                return false;
        memcpy(u.given, t->given, sizeof(u.given));
        return resolve_given(c, dirfd, WALK_NOFOLLOW, &u) == 0 && u.r.exists && u.r.rights;
}

/* For calls that remove or move a name (unlink, rmdir, rename) where the
 * policy gives no right to: a name that is not there, in a directory the
 * guest may see, is ENOENT, as the kernel says (its lookup of the name
 * comes before any permission check). The unlink of a missing file in a
 * system directory said EACCES, and "unlink, ignore ENOENT" failed on it
 * (CPython's import_helper.forget, on every sys.path entry). Told only
 * where the guest's own lookup (stat) says ENOENT as well; in a hidden
 * directory it stays EACCES. Nobody is asked to approve removing nothing. */
static bool name_missing(struct sentry_call *c, int dirfd, const struct target *t)
{
        struct target u __attribute__((cleanup(target_release))) = { .fd = -1 };

        if (!c->s->policy || !t->r.rights || !t->r.name[0])
                return false;
        memcpy(u.given, t->given, sizeof(u.given));
        return resolve_given(c, dirfd, WALK_NOFOLLOW, &u) == -ENOENT;
}

/* Resolve t->given (already read), require that it exists and that the
 * policy grants need on it (audited if not). 0 or -errno. */
static int existing_given(struct sentry_call *c, int dirfd, unsigned flags, struct target *t, unsigned need,
                          const char *what)
{
        int r = resolve_given(c, dirfd, flags, t);

        if (r < 0)
                return r;
        if (!t->r.exists)
                return -ENOENT;
        return allowed(c, t, need, what);
}

/* The same for a path still in guest memory. */
static int existing(struct sentry_call *c, int dirfd, uint64_t addr, unsigned flags, struct target *t,
                    unsigned need, const char *what)
{
        ssize_t n;

        t->fd = -1;
        n = sentry_read_str(c, t->given, addr, sizeof(t->given));
        if (n < 0)
                return (int)n;
        return existing_given(c, dirfd, flags, t, need, what);
}

/* existing, where an empty path with AT_EMPTY_PATH is dirfd's own object
 * (the cwd's, for AT_FDCWD): judged like an fd's, by what it is. */
static int existing_at(struct sentry_call *c, int dirfd, uint64_t addr, int atflags, struct target *t,
                       unsigned need, const char *what)
{
        char first;
        int r;

        if (!(atflags & AT_EMPTY_PATH) || sentry_read(c, &first, addr, 1) < 0 || first)
                return existing(c, dirfd, addr, (atflags & AT_SYMLINK_NOFOLLOW) ? WALK_NOFOLLOW : 0, t, need,
                                what);
        r = dirfd == AT_FDCWD ? start_dir(c, AT_FDCWD) : caller_object_fd(c, dirfd);
        if (r < 0)
                return r == -ESRCH ? r : -EBADF;
        t->fd = r;
        r = target_of_fd(c, t, dirfd == AT_FDCWD ? -1 : dirfd, 0);
        if (r < 0)
                return r;
        if (dirfd == AT_FDCWD)
                snprintf(t->given, sizeof(t->given), ".");
        return allowed(c, t, need, what);
}

/* The caller's umask, for what the sentry creates on its behalf. */
static mode_t caller_umask(struct sentry_call *c)
{
        char path[64], buf[2048];
        const char *p;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)c->ev.tid);
        if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "\nUmask:")))
                return 022;
        return (mode_t)strtol(p + 7, NULL, 8);
}

/* The mode bits the sentry sets for the guest: no setuid, and no setgid
 * but on a directory (where it only passes the group on). A file made or
 * changed in the workspace would give whoever runs it after the session
 * the rights of its owner: root's, when interpose ran as root. The call
 * goes on with the rest, as chmod on a nosuid mount does; the bits
 * dropped are a refusal in the audit log. */
static mode_t guest_mode(struct sentry_call *c, mode_t mode, bool dir, const char *given)
{
        mode_t drop = mode & (dir ? S_ISUID : S_ISUID | S_ISGID);
        size_t len;

        if (drop) {
                len = 0;
                if (given) {
                        len = (size_t)snprintf(c->detail, sizeof(c->detail), "\"path\":\"");
                        len = audit_json_escape(c->detail, len, sizeof(c->detail) - 64, given);
                        len += (size_t)snprintf(c->detail + len, sizeof(c->detail) - len, "\",");
                }
                snprintf(c->detail + len, sizeof(c->detail) - len, "\"mode\":\"%04o\",\"dropped\":\"%04o\"",
                         (unsigned)(mode & 07777), (unsigned)drop);
                sentry_decide(c, "deny", "setuid");
        }
        return mode & 07777 & ~drop;
}

/* Calls that may wait long (a FIFO open waiting for its peer, a blocking
 * connect), each in a thread of its own that answers when it is done.
 * Their number is bounded (EAGAIN past it); once a quarter of the table is
 * in use, the threads whose callers are gone (killed while waiting) are
 * interrupted with WAITER_WAKE_SIG, and their call fails with EINTR. */
#define WAITERS_MAX 64
#define WAITER_WAKE_SIG (SIGRTMIN + 2)

struct waiter {
        struct platform *plat;
        struct platform_event ev;
        unsigned slot;
        int fd;    /* O_PATH of the FIFO; or the sentry's copy of the socket */
        int flags; /* FIFO: the open's flags; -1: a connect; -2: a connect under way; -3: a send */
        struct sockaddr_storage addr;
        socklen_t addrlen;
        int hold;              /* the socket file a unix address names (/proc/self/fd/N), or -1 */
        struct send_job *send; /* -3 */
};

/* A send the sentry makes (sendto, sendmsg, sendmmsg): the copies it
 * sends from. */
struct send_job {
        struct msghdr m;
        struct iovec iov;
        struct sockaddr_storage ss;
        char *data, *control;
        int fds[253]; /* SCM_MAX_FD: the sentry's copies of the fds passed */
        size_t nfds;
        int hold; /* the socket file the address names, or -1 */
        int flags;
        uint64_t len_at; /* sendmmsg: the guest's msg_len to fill in, or 0 */
};

static struct waiter *new_waiter(void)
{
        struct waiter *w = xcalloc(1, sizeof(*w));

        w->hold = -1;
        return w;
}

static void send_job_free(struct send_job *j)
{
        if (!j)
                return;
        for (size_t i = 0; i < j->nfds; i++)
                close(j->fds[i]);
        if (j->hold >= 0)
                close(j->hold);
        free(j->data);
        free(j->control);
        free(j);
}

static struct {
        bool busy;
        pthread_t th;
        struct platform *plat;
        struct platform_event ev;
} waiters[WAITERS_MAX];
static pthread_mutex_t waiters_lock = PTHREAD_MUTEX_INITIALIZER;

static void waiter_wake(int sig)
{
        (void)sig; /* only to make the call return EINTR */
}

static void *waiter_main(void *arg)
{
        struct waiter *w = arg;
        char proc[64];
        sigset_t wake;
        int fd;

        sigemptyset(&wake);
        sigaddset(&wake, WAITER_WAKE_SIG);
        pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
        if (w->flags == -2) {
                /* A connect under way: its outcome, when there is one. */
                struct pollfd pfd = { .fd = w->fd, .events = POLLOUT };
                int err = 0;
                socklen_t len = sizeof(err);
                while (poll(&pfd, 1, -1) < 0 && errno == EINTR && w->plat->ops->valid(w->plat, &w->ev))
                        ;
                if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        err = errno;
                w->plat->ops->respond(w->plat, &w->ev, PLATFORM_RETURN, -err);
        } else if (w->flags == -3) {
                /* A send on a blocking socket that had no room: made when
                 * there is room, and only while the caller still waits (a
                 * caller killed meanwhile sends nothing, as natively). */
                struct send_job *j = w->send;
                ssize_t n = -1;
                errno = EINTR;
                while (w->plat->ops->valid(w->plat, &w->ev)) {
                        struct pollfd pfd = { .fd = w->fd, .events = POLLOUT };
                        if (poll(&pfd, 1, 1000) <= 0 || !w->plat->ops->valid(w->plat, &w->ev))
                                continue; /* (the loop's test ends it if the caller is gone) */
                        n = sendmsg(w->fd, &j->m, j->flags | MSG_DONTWAIT | MSG_NOSIGNAL);
                        if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                                break;
                }
                long r = n < 0 ? -errno : n;
                if (n >= 0 && j->len_at) {
                        unsigned len = (unsigned)n;
                        r = platform_write(w->plat, &w->ev, j->len_at, &len, sizeof(len)) < 0 ? -EFAULT : 1;
                }
                w->plat->ops->respond(w->plat, &w->ev, PLATFORM_RETURN, r);
                send_job_free(j);
        } else if (w->flags < 0) {
                int r = connect(w->fd, (struct sockaddr *)&w->addr, w->addrlen);
                w->plat->ops->respond(w->plat, &w->ev, PLATFORM_RETURN, r < 0 ? -errno : 0);
        } else {
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
                fd = open(proc, (w->flags | O_CLOEXEC) & ~(O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY));
                if (fd < 0)
                        w->plat->ops->respond(w->plat, &w->ev, PLATFORM_RETURN, -errno);
                else if (w->plat->ops->install_fd(w->plat, &w->ev, fd, (w->flags & O_CLOEXEC) ? O_CLOEXEC : 0,
                                                  true) < 0)
                        w->plat->ops->respond(w->plat, &w->ev, PLATFORM_RETURN, -EIO);
                if (fd >= 0)
                        close(fd);
        }
        close(w->fd);
        if (w->hold >= 0)
                close(w->hold);
        pthread_mutex_lock(&waiters_lock);
        waiters[w->slot].busy = false;
        pthread_mutex_unlock(&waiters_lock);
        free(w);
        return NULL;
}

/* A free slot, or -1; past a quarter in use, the waiters of callers that
 * are gone are interrupted, so only live callers can fill the table.
 * waiters_lock held. */
static int waiter_slot(void)
{
        unsigned busy = 0;
        int free_slot = -1;

        for (unsigned i = 0; i < WAITERS_MAX; i++) {
                if (waiters[i].busy)
                        busy++;
                else if (free_slot < 0)
                        free_slot = (int)i;
        }
        if (busy >= WAITERS_MAX / 4)
                for (unsigned i = 0; i < WAITERS_MAX; i++)
                        if (waiters[i].busy && !waiters[i].plat->ops->valid(waiters[i].plat, &waiters[i].ev))
                                pthread_kill(waiters[i].th, WAITER_WAKE_SIG);
        return free_slot;
}

static void waiter_free(struct waiter *w)
{
        close(w->fd);
        if (w->hold >= 0)
                close(w->hold);
        send_job_free(w->send);
        free(w);
}

/* Start w (its fd and what it does filled in) in a thread; takes w. */
static long waiter_start(struct sentry_call *c, struct waiter *w)
{
        static bool handler;
        int r, slot;

        if (!handler) {
                struct sigaction sa = { .sa_handler = waiter_wake }; /* no SA_RESTART */
                sigaction(WAITER_WAKE_SIG, &sa, NULL);
                handler = true;
        }
        w->plat = &c->s->plat;
        w->ev = c->ev;
        pthread_mutex_lock(&waiters_lock);
        slot = waiter_slot();
        if (slot < 0) {
                pthread_mutex_unlock(&waiters_lock);
                waiter_free(w);
                sentry_decide(c, "deny", "waiters");
                return -EAGAIN;
        }
        w->slot = (unsigned)slot;
        waiters[slot].plat = w->plat;
        waiters[slot].ev = c->ev;
        r = start_thread(&waiters[slot].th, 64 * 1024, waiter_main, w);
        if (r != 0) {
                pthread_mutex_unlock(&waiters_lock);
                waiter_free(w);
                return -EAGAIN;
        }
        waiters[slot].busy = true;
        pthread_mutex_unlock(&waiters_lock);
        return SENTRY_DONE;
}

/* Open t as the caller would, in a waiter: a FIFO waiting for the other
 * end, a regular file waiting for a lease to be broken. */
static long open_later(struct sentry_call *c, struct target *t, int flags)
{
        struct waiter *w = new_waiter();

        w->flags = flags;
        w->fd = fcntl(t->fd, F_DUPFD_CLOEXEC, 3);
        if (w->fd < 0) {
                free(w);
                return -EMFILE;
        }
        return waiter_start(c, w);
}

/* A blocking connect on the sentry's copy of the socket, in a waiter.
 * hold: the socket file a unix address names (/proc/self/fd/N), kept open
 * until then, or -1. Takes copy and hold. */
static long connect_later(struct sentry_call *c, int copy, const void *addr, socklen_t len, int hold)
{
        struct waiter *w = new_waiter();

        w->flags = -1;
        w->fd = copy;
        memcpy(&w->addr, addr, len);
        w->addrlen = len;
        w->hold = hold;
        return waiter_start(c, w);
}

/* connect on the guest's blocking socket (its file status flags fl)
 * without waiting: O_NONBLOCK for this one call. The socket is not
 * connected yet, so no other thread has a use for it meanwhile. 0, or -1
 * with errno as connect's; 1 when the flags would not change (no connect
 * made: the caller's is a blocking one). */
static int connect_now(int copy, int fl, const void *addr, socklen_t len)
{
        int r, e;

        if (fcntl(copy, F_SETFL, fl | O_NONBLOCK) < 0)
                return 1;
        r = connect(copy, addr, len);
        e = errno;
        fcntl(copy, F_SETFL, fl);
        errno = e;
        return r;
}

/* A blocking connect, made without blocking the sentry: started with the
 * socket made non-blocking for the call (the guest's file, so only for
 * that instant; the socket is not connected yet, so no other thread has a
 * use for it), and if the handshake is still under way once it returned
 * (a loopback one is done by then), waited for in a thread of its own.
 * Setting up a thread for every connect made one cost 4x native. Takes
 * copy. */
static bool to_loopback(const struct sockaddr_storage *ss, socklen_t len)
{
        struct net_addr a;

        return net_addr_from_sockaddr(&a, ss, len) == 0 && net_is_loopback(&a);
}

static long connect_blocking(struct sentry_call *c, int copy, int fl, const struct sockaddr_storage *ss,
                             socklen_t len)
{
        struct pollfd pfd = { .fd = copy, .events = POLLOUT };
        int r = connect_now(copy, fl, ss, len), e = errno;

        if (r == 1)
                return connect_later(c, copy, ss, len, -1);
        /* The port it was given, when the guest's own server will reply
         * to it: a datagram socket's connect is done at once, while a
         * stream's is under way (its replies come on the connection). */
        if (r == 0 && to_loopback(ss, len))
                net_note_bound(copy);
        if (r == 0 || e != EINPROGRESS) {
                close(copy);
                return r == 0 ? 0 : -e;
        }
        if (poll(&pfd, 1, 0) == 1) {
                int err = 0;
                socklen_t elen = sizeof(err);
                if (getsockopt(copy, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
                        err = errno;
                close(copy);
                return -err;
        }
        struct waiter *w = new_waiter();
        w->flags = -2;
        w->fd = copy;
        w->addrlen = 0;
        return waiter_start(c, w);
}

static long open_target(struct sentry_call *c, struct target *t, int flags, mode_t mode, bool exact_flags);

static long do_open(struct sentry_call *c, int dirfd, uint64_t addr, int flags, mode_t mode)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        unsigned walk_flags = 0;
        int r;

        if (flags & O_CREAT)
                walk_flags |= WALK_CREATE | ((flags & O_EXCL) ? WALK_NOFOLLOW : 0);
        if (flags & O_NOFOLLOW)
                walk_flags |= WALK_NOFOLLOW;
        if (flags & O_DIRECTORY)
                walk_flags |= WALK_DIRECTORY;
        r = resolve(c, dirfd, addr, walk_flags, &t);
        if (r < 0)
                return r;
        return open_target(c, &t, flags, mode, true);
}

/* The open itself, on what a resolution reached: t's object, or when
 * !t->r.exists the directory t->fd to create t->r.name in. */
static long open_target(struct sentry_call *c, struct target *t, int flags, mode_t mode, bool exact_flags)
{
        int acc = flags & O_ACCMODE, fd, r;
        unsigned need = 0;
        char proc[64];

        if (!t->r.exists) {
                /* "name/" cannot become a file. */
                if (t->given[strlen(t->given) - 1] == '/')
                        return -EISDIR;
                /* A new file in the directory t->fd, named t->r.name. */
                r = allowed_create(c, t);
                if (r < 0)
                        return r;
                fd = openat(t->fd, t->r.name, (flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC) & ~O_NOCTTY,
                            guest_mode(c, mode & ~caller_umask(c), false, t->given));
                if (fd < 0)
                        return -errno;
                if (!strcmp(t->r.path, "/dev/shm")) {
                        struct stat st;
                        if (fstat(fd, &st) == 0)
                                own_shm_add(&st); /* shm_open, sem_open: the session's own */
                }
        } else {
                /* EEXIST where the guest may see the name (name_taken); a
                 * denied one is refused, its existence not told. */
                if ((flags & O_CREAT) && (flags & O_EXCL))
                        return t->r.rights ? -EEXIST : allowed(c, t, PR_CREATE, "create");
                if (S_ISLNK(t->r.st.st_mode) && !(flags & O_PATH))
                        return -ELOOP;
                if (flags & O_PATH)
                        need = 0;
                else if (S_ISDIR(t->r.st.st_mode))
                        need = acc == O_RDONLY ? PR_LIST : PR_WRITE;
                else
                        need = (acc != O_WRONLY ? PR_READ : 0) |
                               (acc != O_RDONLY || (flags & O_TRUNC) ? PR_WRITE : 0);
                if ((flags & O_TMPFILE) == O_TMPFILE) /* O_TMPFILE includes O_DIRECTORY */
                        need = PR_CREATE;
                r = allowed(c, t, need, "lookup");
                if (r < 0)
                        return r;
                /* An O_PATH fd cannot be installed with ADDFD (it is not a
                 * file the kernel will hand across), so the kernel opens it
                 * after the check. It reads and writes nothing, and every
                 * use of it (as a dirfd, for exec) is decided again. That
                 * holds only when the flags are the registers the filter
                 * saw: openat2's are in guest memory, where a thread could
                 * turn O_PATH into O_RDWR before the kernel reads them, so
                 * there the sentry hands over a plain fd of what it
                 * judged, if the policy lets it be read, or refuses. So
                 * too for a name in the private /tmp or /dev/shm, which the
                 * kernel would look up in the host's. */
                if ((flags & O_PATH) && exact_flags && !t->mapped)
                        return SENTRY_CONTINUE;
                if (flags & O_PATH) {
                        int plain = S_ISDIR(t->r.st.st_mode) && (t->r.rights & PR_LIST)
                                            ? O_RDONLY | O_DIRECTORY
                                    : S_ISREG(t->r.st.st_mode) && (t->r.rights & PR_READ) ? O_RDONLY
                                                                                          : -1;
                        if (plain < 0) {
                                sentry_decide(c, "deny", "openat2-o-path");
                                return -EACCES;
                        }
                        flags = plain | (flags & O_CLOEXEC);
                        acc = O_RDONLY;
                }
                if (S_ISDIR(t->r.st.st_mode) && acc != O_RDONLY && (flags & O_TMPFILE) != O_TMPFILE)
                        return -EISDIR;
                /* A FIFO open waits for the other end: not with the whole
                 * sentry, but in a thread of its own. */
                if (S_ISFIFO(t->r.st.st_mode) && !(flags & O_NONBLOCK) && acc != O_RDWR)
                        return open_later(c, t, flags);
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
                /* The host's resolv.conf (and hosts, without a resolver)
                 * are read as the session's own (sentry/dns.h). */
                if (S_ISREG(t->r.st.st_mode) && acc == O_RDONLY &&
                    (fd = dns_substitute(&c->s->dns, t->r.st.st_dev, t->r.st.st_ino)) >= 0)
                        goto install;
                /* An O_TMPFILE file is made here: the guest's umask, no
                 * setuid bit (the sentry's own umask is 0). */
                if ((flags & O_TMPFILE) == O_TMPFILE)
                        mode = guest_mode(c, mode & ~caller_umask(c), false, t->given);
                /* A regular file under a lease would hold the whole sentry
                 * while the lease is broken (45 s by default): opened
                 * without waiting, and if a lease is in the way, in a
                 * thread of its own like a FIFO. */
                fd = open(proc,
                          (flags | O_CLOEXEC | (S_ISREG(t->r.st.st_mode) ? O_NONBLOCK : 0)) &
                                  ~(O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY),
                          mode);
                if (fd < 0 && errno == EWOULDBLOCK && S_ISREG(t->r.st.st_mode) && !(flags & O_NONBLOCK))
                        return open_later(c, t, flags);
                if (fd < 0)
                        return -errno;
                if (S_ISREG(t->r.st.st_mode) && !(flags & O_NONBLOCK))
                        fcntl(fd, F_SETFL, flags & (O_APPEND | O_DIRECT | O_NOATIME));
                if (S_ISCHR(t->r.st.st_mode) &&
                    (!strcmp(t->r.path, "/dev/ptmx") || !strcmp(t->r.path, "/dev/pts/ptmx"))) {
                        int keep = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                        if (keep >= 0)
                                own_pts_master(keep); /* a new pty: its slave is the session's */
                }
        }
        /* --max-write watches what the guest writes (sentry/limits.c). */
        if ((flags & O_ACCMODE) != O_RDONLY && (r = sentry_track_write(c->s, fd)) < 0) {
                close(fd);
                sentry_decide(c, "deny", "limit:write");
                return r;
        }
install:
        return sentry_answer_fd(c, fd, (flags & O_CLOEXEC) ? O_CLOEXEC : 0);
}

long sys_open(struct sentry_call *c, uint64_t path, int flags, unsigned mode)
{
        return do_open(c, AT_FDCWD, path, flags, mode);
}

long sys_openat(struct sentry_call *c, int dirfd, uint64_t path, int flags, unsigned mode)
{
        return do_open(c, dirfd, path, flags, mode);
}

/* openat2: the guest's RESOLVE_* restrictions are the kernel's to apply,
 * so the sentry resolves with openat2 itself (O_PATH, from its copy of the
 * guest's dirfd or cwd), then judges the object reached and opens it as
 * open does. A start in /proc or in the host's /tmp (whose names are the
 * guest's private ones) would be resolved differently from what the guest
 * sees: refused with EXDEV, as for a crossing the flags forbid. */
/* Is fd (with st) on any procfs? */
static bool on_procfs(int fd)
{
        struct statfs sf;

        return fstatfs(fd, &sf) < 0 || sf.f_type == PROC_SUPER_MAGIC;
}

/* Did a lookup the kernel made reach the host's /tmp or /dev/shm (the
 * directory, or a name in it: t's object, or the name it would create),
 * where the guest's names are its private directory's? A name a rule of
 * its own keeps the host's (keep_host_cb) is not the view's. */
static bool in_host_view(struct sentry_call *c, const struct target *t)
{
        char full[PATH_MAX];

        if (!t->r.exists)
                snprintf(full, sizeof(full), "%s/%s", t->r.path, t->r.name);
        else
                snprintf(full, sizeof(full), "%s", t->r.path);
        for (int i = 0; i < WALK_MAPS; i++) {
                const struct walk_map *m = &c->s->maps[i];
                size_t n = m->path ? strlen(m->path) : 0;
                if (m->fd < 0 || !n || strncmp(full, m->path, n) || (full[n] != '/' && full[n]))
                        continue;
                if (!full[n] || (t->r.exists && is_mapped_dir(c->s, &t->r.st)))
                        return true; /* the host's directory itself: its listing */
                /* As the walk asks: of the name right below the directory. */
                char *below = strchr(full + n + 1, '/');
                if (below)
                        *below = '\0';
                return !keep_host_cb(c, full);
        }
        return false;
}

long sys_openat2(struct sentry_call *c, int dirfd, uint64_t path, uint64_t howp, uint64_t size)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        _cleanup_close_ int start = -1;
        struct open_how how = { 0 }, kh;
        char extra[64];
        struct stat st;
        char *slash;
        int r;

        if (size < 24) /* OPEN_HOW_SIZE_VER0 */
                return -EINVAL;
        if (size > 4096)
                return -E2BIG;
        r = sentry_read(c, &how, howp, size < sizeof(how) ? size : sizeof(how));
        if (r < 0)
                return r;
        for (uint64_t off = sizeof(how); off < size; off += sizeof(extra)) {
                size_t n = size - off < sizeof(extra) ? size - off : sizeof(extra);
                r = sentry_read(c, extra, howp + off, n);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n; i++)
                        if (extra[i])
                                return -E2BIG;
        }
        if ((how.flags >> 32) ||
            (how.resolve & ~(uint64_t)(RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS |
                                       RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED)) ||
            ((how.resolve & RESOLVE_BENEATH) && (how.resolve & RESOLVE_IN_ROOT)) || (how.mode & ~07777ull) ||
            (how.mode && !(how.flags & O_CREAT) && (how.flags & O_TMPFILE) != O_TMPFILE))
                return -EINVAL;
        if ((how.resolve & RESOLVE_CACHED) && (how.flags & (O_CREAT | O_TRUNC | __O_TMPFILE)))
                return -EAGAIN;
        r = (int)sentry_read_str(c, t.given, path, sizeof(t.given));
        if (r < 0)
                return r;
        if (!t.given[0])
                return -ENOENT;
        if (gofer_gone(c))
                return -EIO;
        if (t.given[0] == '/' && !(how.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)))
                start = fcntl(c->s->root_fd, F_DUPFD_CLOEXEC, 3);
        else
                start = start_dir(c, dirfd);
        if (start < 0)
                return start == -ESRCH ? SENTRY_DONE : start;
        if (fstat(start, &st) < 0)
                return -errno;
        /* Magic links are never followed by the sentry's own lookups: in
         * its /proc they are its own fds (the audit log, its pipes). */
        kh = (struct open_how){
                .flags = O_PATH | O_CLOEXEC | (how.flags & (O_NOFOLLOW | O_DIRECTORY)),
                .resolve = (how.resolve & ~(uint64_t)RESOLVE_CACHED) | RESOLVE_NO_MAGICLINKS,
        };
        if (!(how.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT))) {
                /* Nothing confines the lookup to a tree: the walk the other
                 * calls use finds the object as the guest sees it (its
                 * /proc/self, its /tmp), and a lookup by the kernel first
                 * gives the errors the guest's restrictions call for
                 * (a symlink under RESOLVE_NO_SYMLINKS, a mount crossed
                 * under RESOLVE_NO_XDEV). */
                unsigned walk_flags = 0;
                if (how.resolve & (RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)) {
                        int probe = (int)syscall(SYS_openat2, start, t.given, &kh, sizeof(kh));
                        if (probe >= 0)
                                close(probe);
                        else if (errno == ELOOP || errno == EXDEV)
                                return -errno;
                }
                if (how.flags & O_CREAT)
                        walk_flags |= WALK_CREATE | ((how.flags & O_EXCL) ? WALK_NOFOLLOW : 0);
                if (how.flags & O_NOFOLLOW)
                        walk_flags |= WALK_NOFOLLOW;
                if (how.flags & O_DIRECTORY)
                        walk_flags |= WALK_DIRECTORY;
                r = resolve_given(c, dirfd, walk_flags, &t);
                if (r < 0)
                        return r;
                return open_target(c, &t, (int)how.flags, (mode_t)how.mode, false);
        }
        /* Confined to the start: the kernel resolves for us, from a start
         * that is neither in a /proc (seen differently by the sentry) nor
         * the host's /tmp (the guest's names there are its own). */
        if (on_procfs(start) || is_mapped_dir(c->s, &st)) {
                sentry_decide(c, "deny", "openat2-view");
                return -EXDEV;
        }
        if ((how.flags & O_CREAT) && (how.flags & O_EXCL))
                kh.flags |= O_NOFOLLOW;
        t.fd = (int)syscall(SYS_openat2, start, t.given, &kh, sizeof(kh));
        if (t.fd < 0 && errno == ENOENT && (how.flags & O_CREAT) && t.given[strlen(t.given) - 1] != '/') {
                /* A new name: its directory, resolved the same way. */
                char dir[PATH_MAX];
                snprintf(dir, sizeof(dir), "%s", t.given);
                slash = strrchr(dir, '/');
                if (slash == dir)
                        dir[1] = '\0';
                else if (slash)
                        *slash = '\0';
                else
                        snprintf(dir, sizeof(dir), ".");
                kh.flags = O_PATH | O_CLOEXEC | O_DIRECTORY;
                t.fd = (int)syscall(SYS_openat2, start, dir, &kh, sizeof(kh));
                if (t.fd < 0)
                        return -errno;
                r = target_of_fd(c, &t, -1, 0);
                if (r < 0)
                        return r;
                t.r.exists = false;
                snprintf(t.r.name, sizeof(t.r.name), "%s",
                         strrchr(t.given, '/') ? strrchr(t.given, '/') + 1 : t.given);
        } else if (t.fd < 0) {
                return -errno;
        } else {
                r = target_of_fd(c, &t, -1, 0);
                if (r < 0)
                        return r;
                if (on_procfs(t.fd)) {
                        sentry_decide(c, "deny", "openat2-view");
                        return -EXDEV;
                }
        }
        if (in_host_view(c, &t)) {
                sentry_decide(c, "deny", "openat2-view");
                return -EXDEV;
        }
        if (t.r.path[0] == '/') {
                const struct policy_rule *rule = NULL;
                t.r.rights = policy_judge(c->s->policy, t.r.path, &t.r.st, &rule);
                snprintf(t.r.rule, sizeof(t.r.rule), "%s", rule ? rule->origin : "");
        } else {
                t.r.rights = 0; /* no name in the tree (or too long): nothing to grant on */
        }
        return open_target(c, &t, (int)how.flags, (mode_t)how.mode, false);
}

long sys_creat(struct sentry_call *c, uint64_t path, unsigned mode)
{
        return do_open(c, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* The stat family: an empty path with AT_EMPTY_PATH is the fd itself, which
 * the guest already holds: answered from our copy of it. */
static long do_stat(struct sentry_call *c, int dirfd, uint64_t addr, int atflags, uint64_t buf,
                    bool statx_call, unsigned mask)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        _cleanup_close_ int own = -1;
        struct statx stx;
        struct stat st;
        char first;
        int r, fd;

        if ((atflags & AT_EMPTY_PATH) && sentry_read(c, &first, addr, 1) == 0 && !first) {
                own = dirfd == AT_FDCWD ? start_dir(c, AT_FDCWD) : caller_object_fd(c, dirfd);
                if (own < 0)
                        return own == -ESRCH ? SENTRY_DONE : -EBADF;
                fd = own;
        } else {
                r = resolve(c, dirfd, addr, (atflags & AT_SYMLINK_NOFOLLOW) ? WALK_NOFOLLOW : 0, &t);
                if (r < 0)
                        return r;
                if (!t.r.exists)
                        return -ENOENT;
                r = allowed(c, &t, 0, "lookup");
                if (r < 0)
                        return r;
                fd = t.fd;
        }
        if (statx_call) {
                if (statx(fd, "", AT_EMPTY_PATH | (atflags & AT_STATX_SYNC_TYPE), mask, &stx) < 0)
                        return -errno;
                return sentry_answer_write(c, buf, &stx, sizeof(stx), 0);
        }
        /* The walk has just stat'ed what it reached. */
        if (fd == t.fd)
                st = t.r.st;
        else if (fstatat(fd, "", &st, AT_EMPTY_PATH) < 0)
                return -errno;
        return sentry_answer_write(c, buf, &st, sizeof(st), 0);
}

long sys_stat(struct sentry_call *c, uint64_t path, uint64_t buf)
{
        return do_stat(c, AT_FDCWD, path, 0, buf, false, 0);
}

long sys_lstat(struct sentry_call *c, uint64_t path, uint64_t buf)
{
        return do_stat(c, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, buf, false, 0);
}

long sys_newfstatat(struct sentry_call *c, int dirfd, uint64_t path, uint64_t buf, uint64_t flags)
{
        return do_stat(c, dirfd, path, (int)flags, buf, false, 0);
}

long sys_statx(struct sentry_call *c, int dirfd, uint64_t path, uint64_t flags, uint64_t mask, uint64_t buf)
{
        return do_stat(c, dirfd, path, (int)flags, buf, true, (unsigned)mask);
}

static long do_access(struct sentry_call *c, int dirfd, uint64_t addr, int mode, int atflags)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        unsigned need = 0;
        char proc[64];
        int r;

        if (mode & ~(R_OK | W_OK | X_OK))
                return -EINVAL;
        r = resolve(c, dirfd, addr, (atflags & AT_SYMLINK_NOFOLLOW) ? WALK_NOFOLLOW : 0, &t);
        if (r < 0)
                return r;
        if (!t.r.exists)
                return -ENOENT;
        if (S_ISDIR(t.r.st.st_mode))
                need = ((mode & R_OK) ? PR_LIST : 0) | ((mode & W_OK) ? PR_CREATE : 0);
        else
                need = ((mode & R_OK) ? PR_READ : 0) | ((mode & W_OK) ? PR_WRITE : 0) |
                       ((mode & X_OK) ? PR_EXEC : 0);
        r = allowed(c, &t, need, "lookup");
        if (r < 0)
                return r;
        /* The policy allows it; the kernel's own permission check still
         * has its say (a read-only file system, the mode bits). */
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t.fd);
        if (faccessat(AT_FDCWD, proc, mode, atflags & AT_EACCESS) < 0)
                return -errno;
        return 0;
}

long sys_access(struct sentry_call *c, uint64_t path, int mode)
{
        return do_access(c, AT_FDCWD, path, mode, 0);
}

long sys_faccessat(struct sentry_call *c, int dirfd, uint64_t path, int mode)
{
        return do_access(c, dirfd, path, mode, 0);
}

long sys_faccessat2(struct sentry_call *c, int dirfd, uint64_t path, int mode, uint64_t flags)
{
        return do_access(c, dirfd, path, mode, (int)flags);
}

static long do_readlink(struct sentry_call *c, int dirfd, uint64_t addr, uint64_t buf, int size)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        char target[PATH_MAX];
        ssize_t n;
        int r;

        if (size <= 0)
                return -EINVAL;
        r = resolve(c, dirfd, addr, WALK_NOFOLLOW, &t);
        if (r < 0)
                return r;
        if (!t.r.exists)
                return -ENOENT;
        /* Judged before its type is told: EINVAL says a denied name is
         * there, and is not a link. */
        r = allowed(c, &t, 0, "lookup");
        if (r < 0)
                return r;
        if (!S_ISLNK(t.r.st.st_mode))
                return -EINVAL;
        /* /proc/self and /proc/thread-self are the caller's, not ours. */
        if (!strcmp(t.r.path, "/proc/self"))
                n = snprintf(target, sizeof(target), "%d", (int)sentry_caller_tgid(c));
        else if (!strcmp(t.r.path, "/proc/thread-self"))
                n = snprintf(target, sizeof(target), "%d/task/%d", (int)sentry_caller_tgid(c),
                             (int)c->ev.tid);
        else
                n = readlinkat(t.fd, "", target, sizeof(target));
        if (n < 0)
                return -errno;
        if (n > size)
                n = size;
        r = sentry_write(c, buf, target, (size_t)n);
        return r < 0 ? r : n;
}

long sys_readlink(struct sentry_call *c, uint64_t path, uint64_t buf, int size)
{
        return do_readlink(c, AT_FDCWD, path, buf, size);
}

long sys_readlinkat(struct sentry_call *c, int dirfd, uint64_t path, uint64_t buf, int size)
{
        return do_readlink(c, dirfd, path, buf, size);
}

/* --- calls that change the tree: decided on the directory they change ---- */

/* Resolve the parent directory of path and the last name in it. */
static int resolve_parent(struct sentry_call *c, int dirfd, uint64_t addr, struct target *t)
{
        int r = resolve(c, dirfd, addr, WALK_PARENT, t);

        if (r < 0)
                return r;
        if (!t->r.name[0])
                return -EBUSY; /* "/" or "..": not a name in a directory */
        return 0;
}

/* The entry name in the directory t (from resolve_parent) is about to be
 * removed, or moved to the path to: it needs the delete right on itself
 * too, so a denied object (a .env file, a --deny'd tree) cannot be renamed
 * out from under its rule; a directory holding a denied tree may not move
 * either; and nothing moves where it would be granted a right a rule
 * withholds from it where it is (policy_move_widens()). 0 (also when there
 * is no such entry: the kernel says so), or -EACCES. */
static int check_victim(struct sentry_call *c, const struct target *t, const char *to, const char *what)
{
        struct target v __attribute__((cleanup(target_release))) = { .fd = -1 };
        const struct policy_rule *rule = NULL;

        if (!c->s->policy)
                return 0;
        v.fd = openat(t->fd, t->r.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (v.fd < 0)
                return 0;
        snprintf(v.given, sizeof(v.given), "%s", t->given);
        if (target_of_fd(c, &v, -1, PR_ALL) < 0)
                return 0;
        if (v.r.path[0] == '/') {
                unsigned rights = policy_judge(c->s->policy, v.r.path, &v.r.st, &rule);
                snprintf(v.r.rule, sizeof(v.r.rule), "%s", rule ? rule->origin : "");
                v.r.rights = own_dev_rights(v.r.path, &v.r.st, rights, v.r.rule, sizeof(v.r.rule),
                                            rule ? rule->path : NULL);
        } else if (!v.r.rule[0]) {
                v.r.rights = PR_ALL; /* a pipe, a socket: not in the tree */
        }                            /* else: a path too long to judge, no rights (target_of_fd) */
        if (S_ISDIR(v.r.st.st_mode) && v.r.path[0] == '/' &&
            (rule = policy_holds_rule(c->s->policy, v.r.path))) {
                v.r.rights &= ~(PR_DELETE | PR_DELETE << PR_ASK_SHIFT);
                snprintf(v.r.rule, sizeof(v.r.rule), "%s (holds %s)", rule->origin, rule->path);
        }
        if (to && v.r.path[0] == '/' && (rule = policy_move_widens(c->s->policy, v.r.path, to, &v.r.st))) {
                v.r.rights &= ~(PR_DELETE | PR_DELETE << PR_ASK_SHIFT);
                snprintf(v.r.rule, sizeof(v.r.rule), "%s (not moved out from under it)", rule->origin);
        }
        return allowed(c, &v, PR_DELETE, what);
}

static long do_mkdir(struct sentry_call *c, int dirfd, uint64_t addr, mode_t mode)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        int r = resolve_parent(c, dirfd, addr, &t);

        if (r < 0)
                return r == -EBUSY ? -EEXIST : r;
        if (name_taken(c, dirfd, &t))
                return -EEXIST;
        r = allowed_create(c, &t);
        if (r < 0)
                return r;
        return mkdirat(t.fd, t.r.name, guest_mode(c, mode & ~caller_umask(c), true, t.given)) < 0 ? -errno
                                                                                                  : 0;
}

long sys_mkdir(struct sentry_call *c, uint64_t path, unsigned mode)
{
        return do_mkdir(c, AT_FDCWD, path, mode);
}

long sys_mkdirat(struct sentry_call *c, int dirfd, uint64_t path, unsigned mode)
{
        return do_mkdir(c, dirfd, path, mode);
}

static long do_mknod(struct sentry_call *c, int dirfd, uint64_t addr, mode_t mode, uint64_t dev)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        int r;

        /* Devices are the host's: no new door to them. */
        if (S_ISCHR(mode) || S_ISBLK(mode)) {
                sentry_decide(c, "deny", "devices");
                return -EPERM;
        }
        r = resolve_parent(c, dirfd, addr, &t);
        if (r < 0)
                return r == -EBUSY ? -EEXIST : r;
        if (name_taken(c, dirfd, &t))
                return -EEXIST;
        r = allowed_create(c, &t);
        if (r < 0)
                return r;
        (void)dev;
        return mknodat(t.fd, t.r.name,
                       (mode & S_IFMT) | guest_mode(c, mode & ~caller_umask(c), false, t.given), 0) < 0
                       ? -errno
                       : 0;
}

long sys_mknod(struct sentry_call *c, uint64_t path, unsigned mode, uint64_t dev)
{
        return do_mknod(c, AT_FDCWD, path, mode, dev);
}

long sys_mknodat(struct sentry_call *c, int dirfd, uint64_t path, unsigned mode, uint64_t dev)
{
        return do_mknod(c, dirfd, path, mode, dev);
}

/* "name/" names a directory: for a file there, ENOTDIR, as the kernel's
 * own lookup says (the walk stops at the name, slash or not). */
static int trailing_slash_check(const struct target *t)
{
        size_t n = strlen(t->given);
        struct stat st;

        if (!n || t->given[n - 1] != '/')
                return 0;
        if (fstatat(t->fd, t->r.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
                return -ENOTDIR;
        return 0;
}

static long do_unlink(struct sentry_call *c, int dirfd, uint64_t addr, int flags)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        int r;

        if (flags & ~AT_REMOVEDIR)
                return -EINVAL;
        r = resolve_parent(c, dirfd, addr, &t);
        if (r < 0)
                return r;
        r = trailing_slash_check(&t);
        if (r < 0)
                return r;
        if (!(t.r.rights & PR_DELETE) && name_missing(c, dirfd, &t))
                return -ENOENT;
        r = allowed(c, &t, PR_DELETE, "delete");
        if (r < 0)
                return r;
        r = check_victim(c, &t, NULL, "delete");
        if (r < 0)
                return r;
        dcache_invalidate();
        return unlinkat(t.fd, t.r.name, flags) < 0 ? -errno : 0;
}

long sys_unlink(struct sentry_call *c, uint64_t path)
{
        return do_unlink(c, AT_FDCWD, path, 0);
}

long sys_rmdir(struct sentry_call *c, uint64_t path)
{
        return do_unlink(c, AT_FDCWD, path, AT_REMOVEDIR);
}

long sys_unlinkat(struct sentry_call *c, int dirfd, uint64_t path, uint64_t flags)
{
        return do_unlink(c, dirfd, path, (int)flags);
}

/* rename: the name leaves one directory (delete) and enters another
 * (create; and delete there too when it replaces or exchanges). */
static long do_rename(struct sentry_call *c, int olddir, uint64_t oldp, int newdir, uint64_t newp,
                      unsigned flags)
{
        struct target a __attribute__((cleanup(target_release))) = { .fd = -1 };
        struct target b __attribute__((cleanup(target_release))) = { .fd = -1 };
        char from[PATH_MAX], to[PATH_MAX];
        struct stat st;
        unsigned need, need_b;
        int r = resolve_parent(c, olddir, oldp, &a);

        if (r < 0)
                return r;
        r = trailing_slash_check(&a);
        if (r < 0)
                return r;
        r = resolve_parent(c, newdir, newp, &b);
        if (r == 0 && b.given[strlen(b.given) - 1] == '/') {
                /* The new name with a slash: the old one must be a directory. */
                struct stat st;
                if (fstatat(a.fd, a.r.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                r = trailing_slash_check(&b);
        }
        if (r < 0)
                return r;
        need = PR_DELETE | ((flags & RENAME_EXCHANGE) ? PR_CREATE : 0);
        need_b = PR_CREATE | ((flags & RENAME_NOREPLACE) ? 0 : PR_DELETE);
        if (((a.r.rights & need) != need || (b.r.rights & need_b) != need_b) && name_missing(c, olddir, &a))
                return -ENOENT;
        r = allowed(c, &a, need, "delete");
        if (r < 0)
                return r;
        r = allowed(c, &b, need_b, "create");
        if (r == 0)
                r = allowed_create(c, &b);
        /* What moves gets the new name; swapped, the other the old one. */
        if (r == 0 && fstatat(a.fd, a.r.name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                r = holder_made(c, &b, &st);
        if (r == 0 && (flags & RENAME_EXCHANGE) && fstatat(b.fd, b.r.name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                r = holder_made(c, &a, &st);
        if (r < 0)
                return r;
        /* What moves, and what it replaces or trades places with. */
        r = name_path(&a, from, sizeof(from));
        if (r == 0)
                r = name_path(&b, to, sizeof(to));
        if (r == 0)
                r = check_victim(c, &a, to, "delete");
        if (r == 0 && !(flags & RENAME_NOREPLACE))
                r = check_victim(c, &b, (flags & RENAME_EXCHANGE) ? from : NULL, "delete");
        if (r < 0)
                return r;
        dcache_invalidate();
        return renameat2(a.fd, a.r.name, b.fd, b.r.name, flags) < 0 ? -errno : 0;
}

long sys_rename(struct sentry_call *c, uint64_t oldp, uint64_t newp)
{
        return do_rename(c, AT_FDCWD, oldp, AT_FDCWD, newp, 0);
}

long sys_renameat(struct sentry_call *c, int olddir, uint64_t oldp, int newdir, uint64_t newp)
{
        return do_rename(c, olddir, oldp, newdir, newp, 0);
}

long sys_renameat2(struct sentry_call *c, int olddir, uint64_t oldp, int newdir, uint64_t newp,
                   uint64_t flags)
{
        return do_rename(c, olddir, oldp, newdir, newp, (unsigned)flags);
}

/* The object a is to get the new name b (a directory and a name): not
 * where it would be granted a right a rule withholds from it where it is
 * (the asked tool linked to a name that runs unasked). 0 or -EACCES. */
static int check_link(struct sentry_call *c, const struct target *a, const struct target *b)
{
        const struct policy_rule *rule;
        struct target u = *b;
        int r;

        if (!c->s->policy || a->r.path[0] != '/')
                return 0;
        u.fd = -1;
        r = name_path(b, u.r.path, sizeof(u.r.path));
        if (r < 0)
                return r;
        rule = policy_move_widens(c->s->policy, a->r.path, u.r.path, &a->r.st);
        if (!rule)
                return 0;
        u.r.rights = 0;
        snprintf(u.r.rule, sizeof(u.r.rule), "%s (not linked out from under it)", rule->origin);
        return allowed(c, &u, PR_CREATE, "create");
}

/* link: a new name for an object the guest may read, in a directory it
 * may create in. Made through /proc/self/fd, which needs no capability. */
static long do_link(struct sentry_call *c, int olddir, uint64_t oldp, int newdir, uint64_t newp, int flags)
{
        struct target a __attribute__((cleanup(target_release))) = { .fd = -1 };
        struct target b __attribute__((cleanup(target_release))) = { .fd = -1 };
        char proc[64];
        int r;

        if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
                return -EINVAL;
        r = resolve(c, olddir, oldp, (flags & AT_SYMLINK_FOLLOW) ? 0 : WALK_NOFOLLOW, &a);
        if (r < 0)
                return r;
        if (!a.r.exists)
                return -ENOENT;
        /* The new name is judged by where it is: a link into the
         * workspace would make a read-only file (/etc/..., ~/.bashrc)
         * writable through it. Only what the guest may already write can
         * get another name. */
        r = allowed(c, &a, PR_READ | (S_ISLNK(a.r.st.st_mode) ? 0 : PR_WRITE), "write");
        if (r < 0)
                return r;
        r = resolve_parent(c, newdir, newp, &b);
        if (r < 0)
                return r == -EBUSY ? -EEXIST : r;
        if (name_taken(c, newdir, &b))
                return -EEXIST;
        r = allowed_create(c, &b);
        if (r == 0)
                r = check_link(c, &a, &b);
        if (r == 0)
                r = holder_made(c, &b, &a.r.st); /* a symlink's other name */
        if (r < 0)
                return r;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", a.fd);
        if (linkat(AT_FDCWD, proc, b.fd, b.r.name, AT_SYMLINK_FOLLOW) < 0)
                return -errno;
        own_link_add(a.r.st.st_dev, a.r.st.st_ino);
        return 0;
}

long sys_link(struct sentry_call *c, uint64_t oldp, uint64_t newp)
{
        return do_link(c, AT_FDCWD, oldp, AT_FDCWD, newp, 0);
}

long sys_linkat(struct sentry_call *c, int olddir, uint64_t oldp, int newdir, uint64_t newp, uint64_t flags)
{
        return do_link(c, olddir, oldp, newdir, newp, (int)flags);
}

/* symlink: the target is only text, judged when something follows it. */
static long do_symlink(struct sentry_call *c, uint64_t targetp, int newdir, uint64_t newp)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        char text[PATH_MAX];
        ssize_t n = sentry_read_str(c, text, targetp, sizeof(text));
        int r;

        if (n < 0)
                return n;
        if (!text[0])
                return -ENOENT;
        r = resolve_parent(c, newdir, newp, &t);
        if (r < 0)
                return r == -EBUSY ? -EEXIST : r;
        if (name_taken(c, newdir, &t))
                return -EEXIST;
        r = allowed_create(c, &t);
        if (r == 0)
                r = holder_made(c, &t, &(struct stat){ .st_mode = S_IFLNK });
        if (r < 0)
                return r;
        return symlinkat(text, t.fd, t.r.name) < 0 ? -errno : 0;
}

long sys_symlink(struct sentry_call *c, uint64_t target, uint64_t linkpath)
{
        return do_symlink(c, target, AT_FDCWD, linkpath);
}

long sys_symlinkat(struct sentry_call *c, uint64_t target, int newdir, uint64_t linkpath)
{
        return do_symlink(c, target, newdir, linkpath);
}

/* --- calls that change an object: write on the object ------------------ */

/* The mode, owner or ACL of a directory decide whether the kernel lets a
 * lookup through it (search permission), and a dcache hit skips that
 * walk: after chmod 0 of a directory the guest still opened and stat'ed
 * the files below it that it had looked up before (CPython's
 * test_httpservers serves a directory it made unreadable). A change to
 * one of the guest's directories empties the cache, so the next lookup
 * is the kernel's again. Files need nothing: an open through the
 * cache's fd checks the file's own mode. */
static void dir_attr_changed(const struct stat *st)
{
        if (S_ISDIR(st->st_mode))
                dcache_invalidate();
}

/* The same for the object of fd (the calls made on the sentry's copy). */
static void fd_attr_changed(int fd)
{
        struct stat st;

        if (fstat(fd, &st) == 0)
                dir_attr_changed(&st);
}

static long do_chmod(struct sentry_call *c, int dirfd, uint64_t addr, mode_t mode, int flags)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        char proc[64];
        int r = existing_at(c, dirfd, addr, flags, &t, PR_WRITE, "write");
        if (r < 0)
                return r;
        if (S_ISLNK(t.r.st.st_mode))
                return -EOPNOTSUPP; /* as Linux says for the mode of a symlink */
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t.fd);
        dir_attr_changed(&t.r.st);
        return fchmodat(AT_FDCWD, proc, guest_mode(c, mode, S_ISDIR(t.r.st.st_mode), t.given), 0) < 0 ? -errno
                                                                                                      : 0;
}

long sys_chmod(struct sentry_call *c, uint64_t path, unsigned mode)
{
        return do_chmod(c, AT_FDCWD, path, mode, 0);
}

long sys_fchmodat(struct sentry_call *c, int dirfd, uint64_t path, unsigned mode)
{
        return do_chmod(c, dirfd, path, mode, 0);
}

long sys_fchmodat2(struct sentry_call *c, int dirfd, uint64_t path, unsigned mode, uint64_t flags)
{
        return do_chmod(c, dirfd, path, mode, (int)flags);
}

static long do_chown(struct sentry_call *c, int dirfd, uint64_t addr, uid_t uid, gid_t gid, int flags)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        int r = existing_at(c, dirfd, addr, flags, &t, PR_WRITE, "write");
        if (r < 0)
                return r;
        dir_attr_changed(&t.r.st);
        return fchownat(t.fd, "", uid, gid, AT_EMPTY_PATH) < 0 ? -errno : 0;
}

long sys_chown(struct sentry_call *c, uint64_t path, unsigned uid, unsigned gid)
{
        return do_chown(c, AT_FDCWD, path, uid, gid, 0);
}

long sys_lchown(struct sentry_call *c, uint64_t path, unsigned uid, unsigned gid)
{
        return do_chown(c, AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

long sys_fchownat(struct sentry_call *c, int dirfd, uint64_t path, unsigned uid, unsigned gid, uint64_t flags)
{
        return do_chown(c, dirfd, path, uid, gid, (int)flags);
}

long sys_truncate(struct sentry_call *c, uint64_t path, long length)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        char proc[64];
        int r = existing(c, AT_FDCWD, path, 0, &t, PR_WRITE, "write");
        if (r < 0)
                return r;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t.fd);
        return truncate(proc, length) < 0 ? -errno : 0;
}

/* chdir and exec are made by the kernel, on the guest's own string: for a
 * name in the guest's private /tmp (other than /tmp itself, which the walk
 * maps whatever the cwd), the kernel would reach the host's /tmp instead.
 * Refused, with the reason in the audit log and once on stderr: what is
 * under $TMPDIR, which names the same directory by its real path, works. */
static bool kernel_sees_host_tmp(struct sentry_call *c, const struct target *t)
{
        static bool told;
        size_t len;

        if (!t->mapped)
                return false;
        len = (size_t)snprintf(c->detail, sizeof(c->detail), "\"path\":\"");
        len = audit_json_escape(c->detail, len, sizeof(c->detail) - 160, t->given);
        snprintf(c->detail + len, sizeof(c->detail) - len,
                 "\",\"why\":\"the kernel resolves this path in the host's /tmp; use $TMPDIR\"");
        sentry_decide(c, "deny", "private-tmp");
        if (!told) {
                told = true;
                fprintf(stderr,
                        "interpose: note: %s names the guest's private /tmp, which chdir and exec cannot "
                        "follow (the kernel reads the path itself); use $TMPDIR (%s), the same "
                        "directory by its real path\n",
                        t->given, c->s->policy && c->s->policy->tmpdir ? c->s->policy->tmpdir : "");
        }
        return true;
}

/* chdir: a starting point grants nothing by itself (every later path is
 * resolved and judged again), so after the check the kernel may do it. */
long sys_chdir(struct sentry_call *c, uint64_t path)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        int r = existing(c, AT_FDCWD, path, WALK_DIRECTORY, &t, 0, "lookup");
        if (r < 0)
                return r;
        if (kernel_sees_host_tmp(c, &t))
                return -EACCES;
        if (!cwd_changing(c->ev.tid, &t.r.st))
                return refuse_busy(c, "chdir-pending-full");
        return SENTRY_CONTINUE;
}

/* fchdir: to a directory the guest holds open, with some right on it (an
 * O_PATH fd may name anything: its open was the kernel's). The kernel
 * makes it, and the cwd it left is checked at the thread's next call, as
 * after chdir (the fd's number may be another file's by then). */
long sys_fchdir(struct sentry_call *c, int fd)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        int r;

        if (!c->s->policy) {
                _cleanup_close_ int copy = caller_object_fd(c, fd);
                struct stat st = { 0 };
                if (copy >= 0)
                        fstat(copy, &st);
                cwd_changing(c->ev.tid, &st);
                return SENTRY_CONTINUE;
        }
        t.fd = caller_object_fd(c, fd);
        if (t.fd == -ESRCH)
                return SENTRY_DONE;
        if (t.fd < 0)
                return -EBADF;
        r = target_of_fd(c, &t, fd, 0);
        if (r < 0)
                return r;
        if (!S_ISDIR(t.r.st.st_mode))
                return -ENOTDIR;
        r = allowed(c, &t, 0, "lookup");
        if (r < 0)
                return r;
        if (!cwd_changing(c->ev.tid, &t.r.st))
                return refuse_busy(c, "chdir-pending-full");
        return SENTRY_CONTINUE;
}

long sys_statfs(struct sentry_call *c, uint64_t path, uint64_t buf)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        struct statfs sf;
        int r = existing(c, AT_FDCWD, path, 0, &t, 0, "lookup");
        if (r < 0)
                return r;
        if (fstatfs(t.fd, &sf) < 0)
                return -errno;
        return sentry_write(c, buf, &sf, sizeof(sf));
}

/* --- exec: the exec right on what runs ---------------------------------- */

/* The ELF interpreter (PT_INTERP) of the file at fd, or "" if none. */
int sys_elf_interp(int fd, char *out, size_t cap)
{
        /* As the kernel's load_elf_binary reads it: every program header
         * (up to 64 KiB of them), the first PT_INTERP. */
        enum { PHDRS_MAX = 65536 };
        _cleanup_free_ Elf64_Phdr *ph = NULL;
        Elf64_Ehdr eh;
        size_t size;

        out[0] = '\0';
        if (pread(fd, &eh, sizeof(eh), 0) < (ssize_t)SELFMAG + 1 || memcmp(eh.e_ident, ELFMAG, SELFMAG))
                return 0; /* not an ELF (a script is read elsewhere) */
        /* One ABI: a 32-bit program (and its interpreter) runs only to make
         * calls that are killed, or to jump to 64-bit code that no check
         * of ours has read. */
        if (eh.e_ident[EI_CLASS] != ELFCLASS64)
                return -ENOEXEC;
        if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh))
                return -ENOEXEC;
        size = (size_t)eh.e_phnum * sizeof(*ph);
        if (eh.e_phentsize != sizeof(*ph) || !size || size > PHDRS_MAX)
                return -ENOEXEC; /* the kernel refuses it too */
        ph = xmalloc(size);
        if (pread(fd, ph, size, (off_t)eh.e_phoff) != (ssize_t)size)
                return -ENOEXEC;
        for (unsigned i = 0; i < eh.e_phnum; i++) {
                if (ph[i].p_type != PT_INTERP)
                        continue;
                if (ph[i].p_filesz < 2 || ph[i].p_filesz >= cap ||
                    pread(fd, out, ph[i].p_filesz, (off_t)ph[i].p_offset) != (ssize_t)ph[i].p_filesz) {
                        out[0] = '\0';
                        return -ENOEXEC;
                }
                out[ph[i].p_filesz - 1] = '\0';
                return 0;
        }
        return 0;
}

/* Resolve an interpreter path (absolute, as the kernel requires) and check
 * the exec right on it. */
static int check_interp(struct sentry_call *c, const char *path, int depth, struct stat *ran,
                        struct stat *its_ld)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        int r;

        if (!path[0] || depth > 4)
                return 0;
        /* A relative interpreter (a #! line, an ELF's PT_INTERP) is opened
         * by the kernel from the caller's cwd: resolved the same way. */
        snprintf(t.given, sizeof(t.given), "%s", path);
        r = resolve_given(c, AT_FDCWD, 0, &t);
        if (r < 0)
                return r;
        if (!t.r.exists)
                return -ENOENT;
        r = allowed(c, &t, PR_EXEC, "exec");
        if (r < 0)
                return r;
        /* The kernel would load the host's /tmp name, not the guest's. */
        if (kernel_sees_host_tmp(c, &t))
                return -EACCES;
        if (ran)
                *ran = t.r.st;
        if (its_ld && S_ISREG(t.r.st.st_mode)) {
                /* A script's interpreter may be a script too (the kernel
                 * follows up to four #! lines): then its interpreter is
                 * what runs, judged the same way. Else it is an ELF with
                 * an interpreter (ld.so) the kernel maps for it. */
                char proc[64], ld[PATH_MAX + 3];
                const char *next;
                _cleanup_close_ int rfd = -1;
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t.fd);
                rfd = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
                if (rfd >= 0) {
                        if ((next = exec_shebang(rfd, ld, sizeof(ld))))
                                return depth >= 4 ? -ELOOP : check_interp(c, next, depth + 1, ran, its_ld);
                        if ((r = sys_elf_interp(rfd, ld, sizeof(ld))) < 0)
                                return r;
                        if (ld[0])
                                return check_interp(c, ld, depth + 1, its_ld, NULL);
                } else {
                        return -EACCES; /* unreadable: what it would load is not known */
                }
        }
        return 0;
}

int sys_path_check_exec(struct sentry_call *c, int dirfd, const char *path, int atflags, struct stat *ran,
                        struct stat *elf_ld)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        _cleanup_close_ int rfd = -1;
        char head[PATH_MAX + 3], proc[64];
        const char *interp;
        int r;

        ran->st_ino = 0;
        elf_ld->st_ino = 0;
        if (!c->s->policy)
                return 0;
        if ((atflags & AT_EMPTY_PATH) && !path[0]) {
                /* fexecve: the object behind the fd, judged as a path would
                 * be (a memfd by its name, /memfd:NAME, which no rule
                 * lists); a pipe or socket has no path and no exec right. */
                t.fd = caller_object_fd(c, dirfd);
                if (t.fd < 0 || target_of_fd(c, &t, dirfd, 0) < 0)
                        return -EBADF;
        } else {
                snprintf(t.given, sizeof(t.given), "%s", path);
                r = resolve_given(c, dirfd, (atflags & AT_SYMLINK_NOFOLLOW) ? WALK_NOFOLLOW : 0, &t);
                if (r < 0)
                        return r;
        }
        if (!t.r.exists)
                return -ENOENT;
        /* A file with no name in the host's tree (a memfd, a deleted file)
         * is in no tree the policy could list: it does not run, however
         * it is named (fexecve, /proc/self/fd/N). */
        if (t.r.path[0] != '/' || t.r.st.st_nlink == 0) {
                t.r.rights &= ~(PR_EXEC | PR_EXEC << PR_ASK_SHIFT);
                snprintf(t.r.rule, sizeof(t.r.rule), "no path: anonymous or deleted file");
        }
        r = allowed(c, &t, PR_EXEC, "exec");
        if (r < 0)
                return r;
        if (kernel_sees_host_tmp(c, &t))
                return -EACCES;
        *ran = t.r.st;
        /* What else runs: a #! interpreter, the ELF interpreter. Only a
         * regular file runs; nothing else is opened (opening a device has
         * effects of its own: a watchdog arms, a tape rewinds). */
        if (!S_ISREG(t.r.st.st_mode))
                return 0;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t.fd);
        rfd = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (rfd < 0) {
                /* An exec-only file: the kernel reads it, we cannot, so the
                 * interpreter it names (any file at all) is not known. */
                snprintf(c->detail, sizeof(c->detail),
                         "\"why\":\"the program cannot be read to find its interpreter\"");
                sentry_decide(c, "deny", "exec-unreadable");
                return -EACCES;
        }
        interp = exec_shebang(rfd, head, sizeof(head));
        if (interp)
                return check_interp(c, interp, 1, ran, elf_ld); /* the interpreter is what runs */
        if ((r = sys_elf_interp(rfd, head, sizeof(head))) < 0)
                return r;
        return head[0] ? check_interp(c, head, 1, elf_ld, NULL) : 0;
}

/* --- extended attributes, times, watches -------------------------------- */

#define XATTR_VALUE_MAX 65536 /* XATTR_SIZE_MAX */
#define XATTR_LIST_MAX 65536
#define XATTR_BLOCK 4096

/* The blocks a value of size bytes is charged (-1: no value). */
static uint64_t xattr_blocks(ssize_t size)
{
        if (size < 0)
                return 0;
        return size ? ((uint64_t)size + XATTR_BLOCK - 1) / XATTR_BLOCK * XATTR_BLOCK : XATTR_BLOCK;
}

/* Set key to size bytes of buf on the object at proc (/proc/self/fd/N).
 * Values take disk space outside the file's blocks, so each counts for
 * --max-write, rounded up to a block, by what it adds to what the name
 * held: rewriting the same value costs nothing. 0 or -errno. */
static int set_xattr(struct sentry_call *c, const char *proc, const char *key, const char *buf, size_t size,
                     int flags)
{
        ssize_t had = c->s->limits.max_write ? getxattr(proc, key, NULL, 0) : -1;
        uint64_t was = xattr_blocks(had), now = xattr_blocks((ssize_t)size);
        uint64_t cost = now > was ? now - was : 0;
        int r = sentry_charge_bytes(c->s, cost);

        if (r < 0)
                return r;
        if (setxattr(proc, key, buf, size, flags) < 0) {
                r = -errno;
                sentry_refund_bytes(c->s, cost);
        }
        return r;
}

static long do_xattr(struct sentry_call *c, uint64_t addr, bool follow, int op, uint64_t name, uint64_t value,
                     uint64_t size, int flags)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        _cleanup_free_ char *buf = NULL;
        char proc[64], key[XATTR_NAME_MAX + 1];
        ssize_t n = 0;
        int r = resolve(c, AT_FDCWD, addr, follow ? 0 : WALK_NOFOLLOW, &t);

        if (r < 0)
                return r;
        if (!t.r.exists)
                return -ENOENT;
        if (op != 'l') {
                n = sentry_read_str(c, key, name, sizeof(key));
                if (n < 0)
                        return n == -ENAMETOOLONG ? -ERANGE : n;
        }
        /* A security label or an ACL is metadata, read wherever stat may
         * look (ls -l asks them of ".." at the workspace's root); user
         * attributes are the file's content. */
        bool meta = op == 'g' && (!strncmp(key, "security.", 9) || !strncmp(key, "system.", 7));
        r = allowed(c, &t,
                    op == 's' || op == 'r' ? PR_WRITE
                    : meta                 ? 0
                                           : PR_READ,
                    op == 's' || op == 'r' ? "write"
                    : meta                 ? "lookup"
                                           : "read");
        if (r < 0)
                return r;
        if (size > (op == 'l' ? XATTR_LIST_MAX : XATTR_VALUE_MAX))
                size = op == 'l' ? XATTR_LIST_MAX : XATTR_VALUE_MAX;
        buf = xmalloc(size ? size : 1);
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t.fd);
        switch (op) {
        case 'g':
                n = getxattr(proc, key, size ? buf : NULL, size);
                break;
        case 'l':
                n = listxattr(proc, size ? buf : NULL, size);
                break;
        case 's':
                r = size ? sentry_read(c, buf, value, size) : 0;
                if (r < 0)
                        return r;
                dir_attr_changed(&t.r.st); /* an ACL */
                return set_xattr(c, proc, key, buf, size, flags);
        case 'r':
                dir_attr_changed(&t.r.st);
                return removexattr(proc, key) < 0 ? -errno : 0;
        }
        if (n < 0)
                return -errno;
        if (size && n > 0) {
                r = sentry_write(c, value, buf, (size_t)n);
                if (r < 0)
                        return r;
        }
        return n;
}

long sys_getxattr(struct sentry_call *c, uint64_t path, uint64_t name, uint64_t value, uint64_t size)
{
        return do_xattr(c, path, true, 'g', name, value, size, 0);
}

long sys_lgetxattr(struct sentry_call *c, uint64_t path, uint64_t name, uint64_t value, uint64_t size)
{
        return do_xattr(c, path, false, 'g', name, value, size, 0);
}

long sys_listxattr(struct sentry_call *c, uint64_t path, uint64_t list, uint64_t size)
{
        return do_xattr(c, path, true, 'l', 0, list, size, 0);
}

long sys_llistxattr(struct sentry_call *c, uint64_t path, uint64_t list, uint64_t size)
{
        return do_xattr(c, path, false, 'l', 0, list, size, 0);
}

long sys_setxattr(struct sentry_call *c, uint64_t path, uint64_t name, uint64_t value, uint64_t size,
                  int flags)
{
        return do_xattr(c, path, true, 's', name, value, size, flags);
}

long sys_lsetxattr(struct sentry_call *c, uint64_t path, uint64_t name, uint64_t value, uint64_t size,
                   int flags)
{
        return do_xattr(c, path, false, 's', name, value, size, flags);
}

long sys_removexattr(struct sentry_call *c, uint64_t path, uint64_t name)
{
        return do_xattr(c, path, true, 'r', name, 0, 0, 0);
}

long sys_lremovexattr(struct sentry_call *c, uint64_t path, uint64_t name)
{
        return do_xattr(c, path, false, 'r', name, 0, 0, 0);
}

/* The times of an object: write. times NULL means "now". */
static long set_times(struct sentry_call *c, int dirfd, uint64_t addr, const struct timespec *ts, int flags)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        char proc[64];
        int r = existing_at(c, dirfd, addr, flags, &t, PR_WRITE, "write");
        if (r < 0)
                return r;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t.fd);
        return utimensat(AT_FDCWD, proc, ts, 0) < 0 ? -errno : 0;
}

static int judge_fd(struct sentry_call *c, int fd, unsigned need, const char *what, int *ret_copy);
static int judge_copy(struct sentry_call *c, int fd, int copy, unsigned need, const char *what);
static long read_iovecs(struct sentry_call *c, uint64_t vec, size_t vlen, char **ret);

long sys_utimensat(struct sentry_call *c, int dirfd, uint64_t path, uint64_t times, uint64_t flags)
{
        struct timespec ts[2];
        int r;

        if (times && (r = sentry_read(c, ts, times, sizeof(ts))) < 0)
                return r;
        if (!path) {
                /* futimens: the times of the fd's object, which need the
                 * write right on it like any other change (a read-only fd
                 * of a file the guest owns would do natively). */
                _cleanup_close_ int copy = -1;
                r = judge_fd(c, dirfd, PR_WRITE, "write", &copy);
                if (r < 0)
                        return r == -ESRCH ? SENTRY_DONE : r;
                return futimens(copy, times ? ts : NULL) < 0 ? -errno : 0;
        }
        return set_times(c, dirfd, path, times ? ts : NULL, (int)flags);
}

static long timeval_times(struct sentry_call *c, int dirfd, uint64_t path, uint64_t times)
{
        struct timeval tv[2];
        struct timespec ts[2];
        int r;

        if (!times)
                return set_times(c, dirfd, path, NULL, 0);
        r = sentry_read(c, tv, times, sizeof(tv));
        if (r < 0)
                return r;
        for (int i = 0; i < 2; i++)
                ts[i] = (struct timespec){ tv[i].tv_sec, tv[i].tv_usec * 1000 };
        return set_times(c, dirfd, path, ts, 0);
}

long sys_utimes(struct sentry_call *c, uint64_t path, uint64_t times)
{
        return timeval_times(c, AT_FDCWD, path, times);
}

long sys_futimesat(struct sentry_call *c, int dirfd, uint64_t path, uint64_t times)
{
        return timeval_times(c, dirfd, path, times);
}

long sys_utime(struct sentry_call *c, uint64_t path, uint64_t times)
{
        struct utimbuf ub;
        struct timespec ts[2];
        int r;

        if (!times)
                return set_times(c, AT_FDCWD, path, NULL, 0);
        r = sentry_read(c, &ub, times, sizeof(ub));
        if (r < 0)
                return r;
        ts[0] = (struct timespec){ ub.actime, 0 };
        ts[1] = (struct timespec){ ub.modtime, 0 };
        return set_times(c, AT_FDCWD, path, ts, 0);
}

/* A watch tells what happens to an object: read (or list) on it. Added to
 * the caller's own inotify instance, through our copy of its fd. */
long sys_inotify_add_watch(struct sentry_call *c, int fd, uint64_t path, uint64_t mask)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        _cleanup_close_ int ino = -1;
        char proc[64];
        int r = existing(c, AT_FDCWD, path, (mask & IN_DONT_FOLLOW) ? WALK_NOFOLLOW : 0, &t, 0, "lookup");

        if (r == 0) /* what it is decides the right: known only now */
                r = allowed(c, &t, S_ISDIR(t.r.st.st_mode) ? PR_LIST : PR_READ, "read");
        if (r < 0)
                return r;
        ino = sentry_caller_fd(c, fd);
        if (ino < 0)
                return ino == -ESRCH ? SENTRY_DONE : -EBADF;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t.fd);
        r = inotify_add_watch(ino, proc, (uint32_t)mask & ~IN_DONT_FOLLOW);
        return r < 0 ? -errno : r;
}

/* fallocate changes the file (a hole punched, a range collapsed), so it
 * needs the write right on the fd's object, as ftruncate does: an fd
 * opened for writing is not enough (the user's `>> build.log` outside the
 * workspace, handed to the guest as its output). Made on the sentry's
 * copy, and charged to --max-write as it is made. */
long sys_fallocate(struct sentry_call *c, int fd, uint64_t mode, long offset, long len)
{
        _cleanup_close_ int copy = -1;
        uint64_t want = len > 0 ? (uint64_t)len : 0;
        long r;

        if (c->s->policy) {
                r = judge_fd(c, fd, PR_WRITE, "write", &copy);
        } else if (c->s->limits.max_write) {
                copy = sentry_caller_fd(c, fd);
                r = copy == -ESRCH ? -ESRCH : copy < 0 ? -EBADF : 0;
        } else {
                return SENTRY_CONTINUE;
        }
        if (r < 0)
                return r == -ESRCH ? SENTRY_DONE : r;
        r = sentry_may_allocate(c, copy, want);
        if (r < 0)
                return r;
        r = fallocate(copy, (int)mode, offset, len) < 0 ? -errno : 0;
        sentry_allocated(c->s, copy, want);
        return r;
}

long sys_fd_may_clear_append(struct sentry_call *c, int fd, int copy)
{
        int fl = fcntl(copy, F_GETFL), r;

        if (fl < 0 || !(fl & O_APPEND) || !c->s->policy)
                return 0;
        /* The object judged is the one changed: the copy, not the fd
         * fetched again (another thread may have put another file there). */
        r = judge_copy(c, fd, copy, PR_WRITE, "write");
        return r == -EACCES ? -EPERM : r; /* EPERM: as for an append-only inode */
}

/* pwritev2 with RWF_NOAPPEND writes anywhere in a file opened for
 * appending (the user's `>> build.log`), as clearing O_APPEND would: on
 * such an fd it needs the same right. Made by the sentry on its copy of
 * the fd with its copy of the data, so neither can change after the
 * check; at most SEND_MAX bytes a call (a short write). */
long sys_pwritev2(struct sentry_call *c, int fd, uint64_t vec, uint64_t vlen, long off, uint64_t off_hi,
                  uint64_t flags)
{
        _cleanup_close_ int copy = sentry_caller_fd(c, fd);
        _cleanup_free_ char *data = NULL;
        struct iovec one;
        long r;

        if (copy < 0)
                return copy == -ESRCH ? SENTRY_DONE : -EBADF;
        if (vlen > UIO_MAXIOV)
                return -EINVAL;
        r = sys_fd_may_clear_append(c, fd, copy);
        if (r < 0)
                return r == -ESRCH ? SENTRY_DONE : r;
        r = read_iovecs(c, vec, vlen, &data);
        if (r < 0)
                return r;
        one = (struct iovec){ data, (size_t)r };
        r = syscall(SYS_pwritev2, copy, &one, 1, off, off_hi, (int)flags);
        return r < 0 ? -errno : r;
}

/* Path calls this sentry does not make yet, with a policy in force: as a
 * kernel without them (callers fall back to the older calls). */
long sys_path_enosys(struct sentry_call *c)
{
        return sys_unknown(c);
}

/* --- fd-based calls: decided by the object behind the fd ---------------- */

/* Judge the object behind the caller's fd, as if it were opened now: a
 * copy of the fd (the same open file), its kernel path and identity. On
 * success *ret_copy is ours to use and close. */
static int judge_fd(struct sentry_call *c, int fd, unsigned need, const char *what, int *ret_copy)
{
        _cleanup_close_ int copy = sentry_caller_fd(c, fd);
        int r;

        if (copy < 0)
                return copy == -ESRCH ? -ESRCH : -EBADF;
        r = judge_copy(c, fd, copy, need, what);
        if (r < 0)
                return r;
        *ret_copy = TAKE_FD(copy);
        return 0;
}

/* Judge the object behind copy, the sentry's copy of the caller's fd (fd
 * is its number, for the record). 0 or -errno. */
static int judge_copy(struct sentry_call *c, int fd, int copy, unsigned need, const char *what)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = copy, .borrowed = true };
        /* Pipes, sockets and anonymous files are the guest's own. */
        int r = target_of_fd(c, &t, fd, PR_ALL);

        return r < 0 ? r : allowed(c, &t, need, what);
}

long sys_fchmod(struct sentry_call *c, int fd, unsigned mode)
{
        _cleanup_close_ int copy = -1;
        int r = judge_fd(c, fd, PR_WRITE, "write", &copy);

        if (r < 0)
                return r == -ESRCH ? SENTRY_DONE : r;
        struct stat st;
        if (fstat(copy, &st) < 0)
                return -errno;
        dir_attr_changed(&st);
        return fchmod(copy, guest_mode(c, mode, S_ISDIR(st.st_mode), NULL)) < 0 ? -errno : 0;
}

long sys_fchown(struct sentry_call *c, int fd, unsigned uid, unsigned gid)
{
        _cleanup_close_ int copy = -1;
        int r = judge_fd(c, fd, PR_WRITE, "write", &copy);

        if (r < 0)
                return r == -ESRCH ? SENTRY_DONE : r;
        fd_attr_changed(copy);
        return fchown(copy, uid, gid) < 0 ? -errno : 0;
}

long sys_fd_setattr_ioctl(struct sentry_call *c, int fd, unsigned op, uint64_t arg)
{
        _cleanup_close_ int copy = -1;
        struct fsxattr x;
        int flags, r = judge_fd(c, fd, PR_WRITE, "write", &copy);

        if (r < 0)
                return r == -ESRCH ? SENTRY_DONE : r;
        if (op == FS_IOC_FSSETXATTR) {
                r = sentry_read(c, &x, arg, sizeof(x));
                if (r < 0)
                        return r;
                return ioctl(copy, op, &x) < 0 ? -errno : 0;
        }
        r = sentry_read(c, &flags, arg, sizeof(flags)); /* the kernel reads an int for both */
        if (r < 0)
                return r;
        return ioctl(copy, op, &flags) < 0 ? -errno : 0;
}

long sys_ftruncate(struct sentry_call *c, int fd, long length)
{
        _cleanup_close_ int copy = -1;
        int r = judge_fd(c, fd, PR_WRITE, "write", &copy);

        if (r < 0)
                return r == -ESRCH ? SENTRY_DONE : r;
        return ftruncate(copy, length) < 0 ? -errno : 0;
}

long sys_fsetxattr(struct sentry_call *c, int fd, uint64_t name, uint64_t value, uint64_t size,
                   uint64_t flags)
{
        _cleanup_close_ int copy = -1;
        _cleanup_free_ char *buf = NULL;
        char key[XATTR_NAME_MAX + 1], proc[64];
        ssize_t n;
        int r = judge_fd(c, fd, PR_WRITE, "write", &copy);

        if (r < 0)
                return r == -ESRCH ? SENTRY_DONE : r;
        n = sentry_read_str(c, key, name, sizeof(key));
        if (n < 0)
                return n == -ENAMETOOLONG ? -ERANGE : n;
        if (size > XATTR_VALUE_MAX)
                return -E2BIG;
        buf = xmalloc(size ? size : 1);
        if (size && (r = sentry_read(c, buf, value, size)) < 0)
                return r;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", copy);
        fd_attr_changed(copy); /* an ACL */
        return set_xattr(c, proc, key, buf, size, (int)flags);
}

long sys_fremovexattr(struct sentry_call *c, int fd, uint64_t name)
{
        _cleanup_close_ int copy = -1;
        char key[XATTR_NAME_MAX + 1];
        ssize_t n;
        int r = judge_fd(c, fd, PR_WRITE, "write", &copy);

        if (r < 0)
                return r == -ESRCH ? SENTRY_DONE : r;
        n = sentry_read_str(c, key, name, sizeof(key));
        if (n < 0)
                return n == -ENAMETOOLONG ? -ERANGE : n;
        fd_attr_changed(copy);
        return fremovexattr(copy, key) < 0 ? -errno : 0;
}

/* An executable mapping of a file needs the exec right on it. The mapping
 * must be made in the caller's address space, so the kernel makes it after
 * the check; and anonymous memory can be made executable anyway, so this
 * keeps honest programs from running what the policy does not list, it is
 * not a wall. */
long sys_mmap(struct sentry_call *c, uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags, int fd,
              uint64_t off)
{
        _cleanup_close_ int copy = -1;
        int r;

        (void)addr, (void)len, (void)prot, (void)off;
        if ((flags & MAP_ANONYMOUS) || fd < 0)
                return SENTRY_CONTINUE;
        r = judge_fd(c, fd, PR_EXEC, "exec", &copy);
        if (r < 0)
                return r == -ESRCH ? SENTRY_DONE : r;
        return SENTRY_CONTINUE;
}

/* --- /proc listings: the guest's own processes only ------------------- */

struct linux_dirent64_hdr {
        uint64_t d_ino;
        int64_t d_off;
        unsigned short d_reclen;
        unsigned char d_type;
        char d_name[];
};

/* getdents64, made on the sentry's copy of the fd (the same open file, so
 * the offset moves for the caller too); in /proc, the entries of processes
 * outside the tree are dropped, as if they did not exist. */
long sys_getdents64(struct sentry_call *c, int fd, uint64_t buf, unsigned count)
{
        _cleanup_close_ int copy = sentry_caller_fd(c, fd);
        _cleanup_free_ char *in = NULL;
        struct stat st;
        struct statfs sf;
        size_t out = 0;
        bool proc_root;
        long n;

        if (copy < 0)
                return copy == -ESRCH ? SENTRY_DONE : -EBADF;
        if (count > (1u << 20))
                count = 1u << 20;
        proc_root = fstat(copy, &st) == 0 && st.st_ino == 1 && fstatfs(copy, &sf) == 0 &&
                    sf.f_type == PROC_SUPER_MAGIC;
        in = xmalloc(count ? count : 1);
        for (;;) {
                n = syscall(SYS_getdents64, copy, in, count);
                if (n < 0)
                        return -errno;
                if (!proc_root) {
                        int r = n ? sentry_write(c, buf, in, (size_t)n) : 0;
                        return r < 0 ? r : n;
                }
                /* Compact in place: drop the pids that are not ours. */
                for (long off = 0; off < n;) {
                        struct linux_dirent64_hdr *d = (void *)(in + off);
                        char *end;
                        long pid = strtol(d->d_name, &end, 10);
                        bool keep = *end || pid <= 0 || sentry_in_tree(c->s, (pid_t)pid) == 1 ||
                                    pid == sentry_caller_tgid(c);
                        if (keep) {
                                if (out != (size_t)off)
                                        memmove(in + out, d, d->d_reclen);
                                out += d->d_reclen;
                        }
                        off += d->d_reclen;
                }
                /* All dropped but more may follow: read on, rather than
                 * answer 0, which means the end. */
                if (out || n == 0)
                        break;
        }
        int r = out ? sentry_write(c, buf, in, out) : 0;
        return r < 0 ? r : (long)out;
}

/* --- unix sockets by path: the file policy, on the socket file ---------- */

/* The domain of the caller's socket fd, through our copy of it; -errno. */
static int socket_domain(int copy)
{
        int domain;
        socklen_t len = sizeof(domain);

        if (getsockopt(copy, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
                return -errno;
        return domain;
}

/* A socket of another family (IP, netlink...): the call on the sentry's
 * copy of the socket with its copy of the address, judged by the network
 * broker (syscalls/net.c). A blocking connect may take long (a TCP
 * handshake to a silent host): it waits in a thread of its own, like a
 * FIFO open. Takes copy. */
static long ip_addr_call(struct sentry_call *c, int copy, int domain, uint64_t addrp, int addrlen,
                         bool is_bind)
{
        struct sockaddr_storage ss;
        int r, fl;

        if (addrlen < 0 || (size_t)addrlen > sizeof(ss)) {
                close(copy);
                return -EINVAL;
        }
        memset(&ss, 0, sizeof(ss));
        r = addrlen ? sentry_read(c, &ss, addrp, (size_t)addrlen) : 0;
        if (r == 0 && domain != AF_NETLINK)
                r = is_bind ? (int)net_judge_bind(c, copy, &ss, (unsigned)addrlen)
                            : (int)net_judge_connect(c, copy, &ss, (unsigned)addrlen);
        if (r < 0) {
                close(copy);
                return r;
        }
        if (is_bind) {
                r = bind(copy, (struct sockaddr *)&ss, (socklen_t)addrlen) < 0 ? -errno : 0;
                if (r == 0)
                        net_note_bound(copy);
                close(copy);
                return r;
        }
        if (addrlen >= (int)sizeof(sa_family_t) && ss.ss_family == AF_UNSPEC) {
                /* A dissolved association never waits. The kernel takes a
                 * datagram socket off its device with it: one the sentry
                 * put on the loopback device (an IPv6 server on every
                 * address) goes back there. */
                bool lo = net_on_loopback_device(copy);
                r = connect(copy, (struct sockaddr *)&ss, (socklen_t)addrlen) < 0 ? -errno : 0;
                if (lo && setsockopt(copy, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) < 0)
                        r = -errno;
                close(copy);
                return r;
        }
        fl = fcntl(copy, F_GETFL);
        if (fl >= 0 && !(fl & O_NONBLOCK))
                return connect_blocking(c, copy, fl, &ss, (socklen_t)addrlen);
        r = connect(copy, (struct sockaddr *)&ss, (socklen_t)addrlen) < 0 ? -errno : 0;
        if (r == 0 && to_loopback(&ss, (socklen_t)addrlen))
                net_note_bound(copy); /* a datagram socket's port: the guest's server replies to it */
        close(copy);
        return r;
}

/* Read the guest's address; for an AF_UNIX socket, the sentry makes the
 * call itself on its copy of the socket with its copy of the address: a
 * path is resolved and judged like any other (connect needs the write
 * right on the socket file, bind the create right in its directory) and
 * reached through the object the walk found, so a guest thread cannot
 * change it after the check. Other sockets cannot be given an AF_UNIX
 * address (the kernel refuses a family that is not the socket's), so they
 * go on to the kernel: the network broker (issue 5) decides those. */
/* t->given from the path of a unix address: plen bytes of sun_path, up
 * to its first NUL (a path that fills sun_path has none). */
static void given_of_sun_path(struct target *t, const struct sockaddr_un *ua, size_t plen)
{
        size_t n = plen < sizeof(ua->sun_path) ? plen : sizeof(ua->sun_path);

        memcpy(t->given, ua->sun_path, n);
        t->given[n] = '\0';
}

/* A unix socket file named by the address ua (plen bytes of path), to
 * connect or send to: the write right on it (as for connect), then ua
 * rewritten to reach the object the walk found (t), /proc/self/fd/HOLD,
 * and *hold that fd (the caller's to close). 0 or -errno. */
static long unix_socket_file(struct sentry_call *c, struct target *t, struct sockaddr_un *ua, size_t plen,
                             int *hold)
{
        long r;

        given_of_sun_path(t, ua, plen);
        if ((r = existing_given(c, AT_FDCWD, 0, t, PR_WRITE, "write")) < 0)
                return r;
        *hold = fcntl(t->fd, F_DUPFD_CLOEXEC, 3);
        if (*hold < 0)
                return -EMFILE;
        memset(ua->sun_path, 0, sizeof(ua->sun_path));
        snprintf(ua->sun_path, sizeof(ua->sun_path), "/proc/self/fd/%d", *hold);
        return 0;
}

/* The record of a unix socket file reached (bind or connect). */
static void unix_detail(struct sentry_call *c, const struct target *t)
{
        size_t len = (size_t)snprintf(c->detail, sizeof(c->detail), "\"path\":\"");

        len = audit_json_escape(c->detail, len, sizeof(c->detail) / 2, t->given);
        len += (size_t)snprintf(c->detail + len, sizeof(c->detail) - len, "\",\"object\":\"");
        len = audit_json_escape(c->detail, len, sizeof(c->detail) - 2, t->r.path);
        c->detail[len++] = '"';
        c->detail[len] = '\0';
        sentry_decide(c, "allow", "net-unix");
}

/* connect of a unix socket on the sentry's copy, never waiting in the
 * sentry: a listener whose backlog is full makes a blocking connect wait
 * (for as long as the listener likes), so it is tried without waiting and,
 * if it would wait, made in a waiter thread. hold: the socket file the
 * address names (/proc/self/fd/N), kept open until then, or -1. Takes copy
 * and hold. */
static long unix_connect(struct sentry_call *c, int copy, const void *addr, socklen_t len, int hold)
{
        int fl = fcntl(copy, F_GETFL);
        bool blocking = fl >= 0 && !(fl & O_NONBLOCK);
        int r = blocking ? connect_now(copy, fl, addr, len) : connect(copy, addr, len), e = errno;

        if (r == 1 || (r < 0 && e == EAGAIN && blocking))
                return connect_later(c, copy, addr, len, hold);
        close(copy);
        if (hold >= 0)
                close(hold);
        return r < 0 ? -e : 0;
}

/* Unix sockets the sentry bound for the guest: the kernel keeps the name
 * the sentry gave (/proc/self/fd/N/NAME, so the bind lands in the
 * directory it judged), and getsockname and getpeername would show that,
 * a name that means nothing to the guest (multiprocessing's Manager hands
 * its server's getsockname to its clients). So the guest's own path is
 * kept here, by the socket's inode and by the kernel's name, and given
 * back in their place. */
#define BOUND_NAMES 1024
static struct {
        ino_t ino;
        char kname[sizeof(((struct sockaddr_un *)0)->sun_path)];
        char given[sizeof(((struct sockaddr_un *)0)->sun_path)];
        size_t given_len;
} bound_names[BOUND_NAMES];
static unsigned bound_next;
static pthread_mutex_t bound_lock = PTHREAD_MUTEX_INITIALIZER;

static void bound_name_note(int sock, const char *kname, const char *given, size_t len)
{
        struct stat st;

        if (fstat(sock, &st) < 0 || len > sizeof(bound_names[0].given))
                return;
        pthread_mutex_lock(&bound_lock);
        unsigned i = bound_next++ % BOUND_NAMES;
        bound_names[i].ino = st.st_ino;
        snprintf(bound_names[i].kname, sizeof(bound_names[i].kname), "%s", kname);
        /* A path's name ends at its NUL, which the kernel counts. */
        len = strnlen(given, len);
        memset(bound_names[i].given, 0, sizeof(bound_names[i].given));
        memcpy(bound_names[i].given, given, len);
        bound_names[i].given_len = len < sizeof(bound_names[i].given) ? len + 1 : len;
        pthread_mutex_unlock(&bound_lock);
}

/* The guest's name for a unix address the kernel gave for sock (its own
 * name, peer false; its peer's, peer true): *un rewritten, its length in
 * *len. The socket's own inode decides where it has one (a listening
 * socket); else, for an accepted socket or a peer, the latest bind of that
 * kernel name. */
static void bound_name_given(int sock, bool peer, struct sockaddr_un *un, socklen_t *len)
{
        size_t klen = *len > offsetof(struct sockaddr_un, sun_path)
                              ? *len - offsetof(struct sockaddr_un, sun_path)
                              : 0;
        struct stat st;
        ino_t ino = 0;
        int best = -1;

        if (un->sun_family != AF_UNIX || klen < 15 || strncmp(un->sun_path, "/proc/self/fd/", 14))
                return;
        if (!peer && fstat(sock, &st) == 0)
                ino = st.st_ino;
        pthread_mutex_lock(&bound_lock);
        for (unsigned k = 1; k <= BOUND_NAMES && k <= bound_next; k++) {
                unsigned i = (bound_next - k) % BOUND_NAMES;
                if (strncmp(bound_names[i].kname, un->sun_path, sizeof(un->sun_path)))
                        continue;
                if (ino && bound_names[i].ino == ino) {
                        best = (int)i;
                        break;
                }
                if (best < 0)
                        best = (int)i;
        }
        if (best >= 0) {
                memset(un->sun_path, 0, sizeof(un->sun_path));
                memcpy(un->sun_path, bound_names[best].given, bound_names[best].given_len);
                *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + bound_names[best].given_len);
        }
        pthread_mutex_unlock(&bound_lock);
}

static long sock_name(struct sentry_call *c, int fd, uint64_t addr, uint64_t lenp, bool peer)
{
        _cleanup_close_ int copy = -1;
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int32_t cap;
        int r;

        r = sentry_read(c, &cap, lenp, sizeof(cap));
        if (r < 0)
                return r;
        if (cap < 0)
                return -EINVAL;
        copy = sentry_caller_fd(c, fd);
        if (copy < 0)
                return copy == -ESRCH ? SENTRY_DONE : -EBADF;
        if ((peer ? getpeername(copy, (struct sockaddr *)&ss, &len)
                  : getsockname(copy, (struct sockaddr *)&ss, &len)) < 0)
                return -errno;
        bound_name_given(copy, peer, (struct sockaddr_un *)&ss, &len);
        /* As the kernel: at most cap bytes, and the full length. */
        if (cap > 0 && (r = sentry_write(c, addr, &ss, (size_t)cap < len ? (size_t)cap : len)) < 0)
                return r;
        int32_t full = (int32_t)len;
        return sentry_write(c, lenp, &full, sizeof(full));
}

static long unix_addr_call(struct sentry_call *c, int fd, uint64_t addrp, int addrlen, bool is_bind)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        _cleanup_close_ int copy = -1;
        struct sockaddr_un ua = { 0 }, ours = { .sun_family = AF_UNIX };
        size_t plen;
        int r;

        /* The call is made on this copy, whatever the socket: letting it
         * through would have the kernel read the fd number and the address
         * again, which a thread could have changed (dup2 of an AF_UNIX
         * socket over an IP one) since. */
        copy = sentry_caller_fd(c, fd);
        if (copy < 0)
                return copy == -ESRCH ? SENTRY_DONE : -EBADF;
        r = socket_domain(copy);
        if (r < 0)
                return r; /* ENOTSOCK */
        if (r != AF_UNIX)
                return ip_addr_call(c, TAKE_FD(copy), r, addrp, addrlen, is_bind);
        if (addrlen < 0 || (size_t)addrlen > sizeof(ua))
                return -EINVAL;
        if (addrlen < (int)sizeof(sa_family_t))
                return -EINVAL;
        r = sentry_read(c, &ua, addrp, (size_t)addrlen);
        if (r < 0)
                return r;
        if (ua.sun_family != AF_UNIX)
                return -EINVAL;
        plen = (size_t)addrlen - offsetof(struct sockaddr_un, sun_path);
        if (plen == 0 || ua.sun_path[0] == '\0') {
                /* Unnamed (autobind) or abstract: no file. The guest may
                 * reach the names it bound itself (syscalls/net.c). */
                if (plen > 0 && (r = (int)net_judge_abstract(c, &ua, plen, is_bind)) < 0)
                        return r;
                if (!is_bind)
                        return unix_connect(c, TAKE_FD(copy), &ua, (socklen_t)addrlen, -1);
                if (plen == 0)
                        snprintf(c->detail, sizeof(c->detail), "\"abstract\":\"(a name the kernel picks)\"");
                if (!c->decision)
                        sentry_decide(c, "allow", "net-own");
                r = bind(copy, (struct sockaddr *)&ua, (socklen_t)addrlen);
                if (r == 0)
                        net_note_bound(copy);
                return r < 0 ? -errno : 0;
        }
        if (is_bind) {
                given_of_sun_path(&t, &ua, plen);
                r = resolve_given(c, AT_FDCWD, WALK_PARENT, &t);
                if (r < 0)
                        return r;
                if (!t.r.name[0])
                        return -EADDRINUSE;
                r = allowed_create(c, &t);
                if (r < 0)
                        return r;
                if ((size_t)snprintf(ours.sun_path, sizeof(ours.sun_path), "/proc/self/fd/%d/%s", t.fd,
                                     t.r.name) >= sizeof(ours.sun_path))
                        return -ENAMETOOLONG;
                {
                        mode_t old = umask(caller_umask(c));
                        r = bind(copy, (struct sockaddr *)&ours, sizeof(ours));
                        r = r < 0 ? -errno : 0;
                        umask(old);
                }
                if (r == 0)
                        bound_name_note(copy, ours.sun_path, ua.sun_path, plen);
                unix_detail(c, &t);
                return r;
        }
        int hold;
        r = (int)unix_socket_file(c, &t, &ua, plen, &hold);
        if (r < 0)
                return r;
        unix_detail(c, &t);
        return unix_connect(c, TAKE_FD(copy), &ua, sizeof(ua), hold);
}

long sys_getsockname(struct sentry_call *c, int fd, uint64_t addr, uint64_t lenp)
{
        return sock_name(c, fd, addr, lenp, false);
}

long sys_getpeername(struct sentry_call *c, int fd, uint64_t addr, uint64_t lenp)
{
        return sock_name(c, fd, addr, lenp, true);
}

long sys_connect(struct sentry_call *c, int fd, uint64_t addr, int addrlen)
{
        return unix_addr_call(c, fd, addr, addrlen, false);
}

long sys_bind(struct sentry_call *c, int fd, uint64_t addr, int addrlen)
{
        return unix_addr_call(c, fd, addr, addrlen, true);
}

/* Sends are made by the sentry on its copy of the socket, with copies of
 * the data (at most SEND_MAX a call: a short send, as a full socket
 * gives), the control messages and the address. A send the socket cannot
 * take now, on a blocking socket, is made in a waiter thread: the sentry
 * never waits for room. */
#define SEND_MAX (1u << 20)
#define SEND_CONTROL_MAX 65536
#define SEND_LATER (-(1L << 20) - 10) /* send_try: would block; hand the job to a waiter */

/* The sentry's copy of the caller's socket fd and its domain; or -1 with
 * SENTRY_DONE (the caller is gone), -EBADF or -ENOTSOCK in *err. */
static int caller_socket(struct sentry_call *c, int fd, int *domain, long *err)
{
        int copy = sentry_caller_fd(c, fd);

        if (copy < 0) {
                *err = copy == -ESRCH ? SENTRY_DONE : -EBADF;
                return -1;
        }
        *domain = socket_domain(copy);
        if (*domain < 0) {
                *err = *domain;
                close(copy);
                return -1;
        }
        return copy;
}

/* The destination of a send, j->ss (j->m.msg_namelen bytes, the sentry's
 * copy): judged like a connect for IP; for a unix path by the file policy
 * (the write right, as connect), and then reached through the object the
 * walk found (held in j->hold, the address rewritten to it); for an
 * abstract name, the guest's own. 0 or -errno. */
static long judge_destination(struct sentry_call *c, int sock, int domain, struct send_job *j)
{
        struct target t __attribute__((cleanup(target_release))) = { .fd = -1 };
        struct sockaddr_storage *ss = &j->ss;
        socklen_t *len = &j->m.msg_namelen;
        long r;

        if (domain == AF_INET || domain == AF_INET6) {
                if (*len >= sizeof(sa_family_t) && ss->ss_family == AF_UNSPEC) {
                        /* The kernel reads AF_UNSPEC as IPv4 on an IPv4
                         * socket (judged as such), and as no address at all
                         * (the socket's peer) on an IPv6 one. */
                        if (domain == AF_INET6) {
                                *len = 0;
                                return 0;
                        }
                        ss->ss_family = AF_INET;
                }
                return net_judge_connect(c, sock, ss, *len);
        }
        if (domain == AF_NETLINK)
                return 0; /* the kernel's, NETLINK_ROUTE only (syscalls/net.c) */
        if (domain != AF_UNIX || ss->ss_family != AF_UNIX)
                return -EINVAL;
        struct sockaddr_un *ua = (struct sockaddr_un *)ss;
        size_t plen = *len > offsetof(struct sockaddr_un, sun_path)
                              ? *len - offsetof(struct sockaddr_un, sun_path)
                              : 0;
        if (plen && ua->sun_path[0] == '\0')
                return net_judge_abstract(c, ua, plen, false);
        if (!plen)
                return 0;
        if ((r = unix_socket_file(c, &t, ua, plen, &j->hold)) < 0)
                return r;
        *len = sizeof(*ua);
        return 0;
}

static struct send_job *send_job_new(int flags)
{
        struct send_job *j = xcalloc(1, sizeof(*j));

        j->hold = -1;
        j->flags = flags;
        return j;
}

/* Read the destination at addrp (len bytes) into j and judge it. */
static long send_job_address(struct sentry_call *c, int sock, int domain, struct send_job *j, uint64_t addrp,
                             size_t len)
{
        long r;

        if (len > sizeof(j->ss))
                return -EINVAL;
        if (!addrp || !len)
                return 0;
        if ((r = sentry_read(c, &j->ss, addrp, len)) < 0)
                return r;
        j->m.msg_namelen = (socklen_t)len;
        if ((r = judge_destination(c, sock, domain, j)) < 0)
                return r;
        j->m.msg_name = j->m.msg_namelen ? &j->ss : NULL;
        return 0;
}

/* Try the send without waiting: bytes sent, -errno, or SEND_LATER when a
 * blocking socket has no room (the job is then the caller's to hand on). */
static long send_try(int copy, struct send_job *j)
{
        ssize_t n = sendmsg(copy, &j->m, j->flags | MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n >= 0)
                return n;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && !(j->flags & MSG_DONTWAIT) &&
            !(fcntl(copy, F_GETFL) & O_NONBLOCK))
                return SEND_LATER;
        return -errno;
}

/* Hand a send that must wait to a waiter thread; takes copy and j. */
static long send_later(struct sentry_call *c, int copy, struct send_job *j)
{
        struct waiter *w = new_waiter();

        w->flags = -3;
        w->fd = copy;
        w->send = j;
        return waiter_start(c, w);
}

/* Finish a single send (sendto, sendmsg): the result, or the job handed
 * to a waiter; takes copy and j. */
static long send_finish(struct sentry_call *c, int copy, int domain, struct send_job *j)
{
        long r = send_try(copy, j);

        if (r == SEND_LATER)
                return send_later(c, copy, j);
        /* A datagram's reply comes to the port it was sent from. */
        if (r >= 0 && (domain == AF_INET || domain == AF_INET6))
                net_note_bound(copy);
        send_job_free(j);
        close(copy);
        return r;
}

/* sendto with an address (the filter traps no other): the destination
 * judged like a connect's, the datagram sent by the sentry on its copy of
 * the socket to its copy of the address, so neither the fd nor the
 * address can change after the check. Without an address the call stays
 * in the kernel, where it can reach only the socket's peer. */
long sys_sendto(struct sentry_call *c, int fd, uint64_t buf, uint64_t len, int flags, uint64_t addrp,
                int addrlen)
{
        struct send_job *j;
        long r;
        int domain;
        int copy = caller_socket(c, fd, &domain, &r);

        if (copy < 0)
                return r;
        if (addrlen < 0) {
                close(copy);
                return -EINVAL;
        }
        j = send_job_new(flags);
        if (len > SEND_MAX)
                len = SEND_MAX;
        j->data = xmalloc(len ? len : 1);
        j->iov = (struct iovec){ j->data, len };
        j->m.msg_iov = &j->iov;
        j->m.msg_iovlen = 1;
        if ((r = send_job_address(c, copy, domain, j, addrp, (size_t)addrlen)) < 0 ||
            (len && (r = sentry_read(c, j->data, buf, len)) < 0)) {
                send_job_free(j);
                close(copy);
                return r;
        }
        return send_finish(c, copy, domain, j);
}

/* The data of the guest's vlen iovecs at vec (vlen at most UIO_MAXIOV),
 * gathered into a buffer of ours (*ret, malloc'd even when empty): at most
 * SEND_MAX bytes. Their length, or -errno. */
static long read_iovecs(struct sentry_call *c, uint64_t vec, size_t vlen, char **ret)
{
        struct iovec iov[UIO_MAXIOV];
        size_t total = 0, off = 0;
        char *data;
        long r;

        if (vlen && (r = sentry_read(c, iov, vec, vlen * sizeof(struct iovec))) < 0)
                return r;
        for (size_t i = 0; i < vlen; i++)
                total += iov[i].iov_len < SEND_MAX ? iov[i].iov_len : SEND_MAX;
        if (total > SEND_MAX)
                total = SEND_MAX;
        data = xmalloc(total ? total : 1);
        for (size_t i = 0; i < vlen && off < total; i++) {
                size_t n = iov[i].iov_len < total - off ? iov[i].iov_len : total - off;
                if (n && (r = sentry_read(c, data + off, (uint64_t)(uintptr_t)iov[i].iov_base, n)) < 0) {
                        free(data);
                        return r;
                }
                off += n;
        }
        *ret = data;
        return (long)total;
}

/* One message of sendmsg/sendmmsg, from the guest's struct msghdr at
 * mp: its destination judged as sendto's, its data and control copied,
 * the fds it passes (SCM_RIGHTS) replaced by the sentry's copies of them.
 * The job, or NULL with -errno in *err. */
static struct send_job *send_job_msg(struct sentry_call *c, int sock, int domain, uint64_t mp, int flags,
                                     long *err)
{
        struct send_job *j = send_job_new(flags);
        struct msghdr gm;
        long r;

        if ((r = sentry_read(c, &gm, mp, sizeof(gm))) < 0)
                goto fail;
        r = gm.msg_iovlen > UIO_MAXIOV ? -EMSGSIZE : gm.msg_controllen > SEND_CONTROL_MAX ? -ENOBUFS : 0;
        if (r < 0)
                goto fail;
        if (gm.msg_name &&
            (r = send_job_address(c, sock, domain, j, (uint64_t)(uintptr_t)gm.msg_name, gm.msg_namelen)) < 0)
                goto fail;
        if ((r = read_iovecs(c, (uint64_t)(uintptr_t)gm.msg_iov, gm.msg_iovlen, &j->data)) < 0)
                goto fail;
        j->iov = (struct iovec){ j->data, (size_t)r };
        j->m.msg_iov = &j->iov;
        j->m.msg_iovlen = 1;
        if (gm.msg_control && gm.msg_controllen) {
                j->control = xmalloc(gm.msg_controllen);
                if ((r = sentry_read(c, j->control, (uint64_t)(uintptr_t)gm.msg_control, gm.msg_controllen)) <
                    0)
                        goto fail;
                j->m.msg_control = j->control;
                j->m.msg_controllen = gm.msg_controllen;
                for (struct cmsghdr *h = CMSG_FIRSTHDR(&j->m); h; h = CMSG_NXTHDR(&j->m, h)) {
                        /* Every header within what was copied (the kernel
                         * refuses the same with EINVAL). */
                        if (h->cmsg_len < CMSG_LEN(0) ||
                            (char *)h + h->cmsg_len > j->control + gm.msg_controllen) {
                                r = -EINVAL;
                                goto fail;
                        }
                        /* A routing header (IPv6 segment routing, IPv4 source
                         * routes) would send the packet by another address
                         * than the one judged. */
                        if ((h->cmsg_level == IPPROTO_IPV6 &&
                             (h->cmsg_type == IPV6_RTHDR || h->cmsg_type == IPV6_2292RTHDR)) ||
                            (h->cmsg_level == IPPROTO_IP &&
                             (h->cmsg_type == IP_RETOPTS || h->cmsg_type == IP_OPTIONS))) {
                                sentry_decide(c, "deny", "net-routing-header");
                                r = -EPERM;
                                goto fail;
                        }
                        if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
                                continue;
                        /* The fds named are the guest's: send the same files. */
                        size_t n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        int *p = (int *)CMSG_DATA(h);
                        for (size_t i = 0; i < n; i++) {
                                int g, f;
                                memcpy(&g, p + i, sizeof(g));
                                f = j->nfds < sizeof(j->fds) / sizeof(j->fds[0]) ? sentry_caller_fd(c, g)
                                                                                 : -ETOOMANYREFS;
                                if (f < 0) {
                                        r = f == -ESRCH || f == -ETOOMANYREFS ? f : -EBADF;
                                        goto fail;
                                }
                                j->fds[j->nfds++] = f;
                                memcpy(p + i, &f, sizeof(f));
                                sentry_write_in_flight(c->s, f);
                                if ((r = sentry_may_pass(c, f)) < 0)
                                        goto fail;
                        }
                }
        }
        return j;
fail:
        send_job_free(j);
        *err = r;
        return NULL;
}

/* sendmsg: the destination (msg_name, in guest memory) cannot be judged
 * and left to the kernel, which would read it again; so every sendmsg is
 * made by the sentry on its copies. */
long sys_sendmsg(struct sentry_call *c, int fd, uint64_t msg, int flags)
{
        struct send_job *j;
        long r;
        int domain;
        int copy = caller_socket(c, fd, &domain, &r);

        if (copy < 0)
                return r;
        j = send_job_msg(c, copy, domain, msg, flags, &r);
        if (!j) {
                close(copy);
                return r;
        }
        return send_finish(c, copy, domain, j);
}

/* sendmmsg: message by message; one that would wait ends the call with
 * the count sent so far, or, the first, is sent by a waiter. */
long sys_sendmmsg(struct sentry_call *c, int fd, uint64_t vec, unsigned vlen, int flags)
{
        long r;
        int domain;
        unsigned i;
        _cleanup_close_ int copy = caller_socket(c, fd, &domain, &r);

        if (copy < 0)
                return r;
        if (vlen > UIO_MAXIOV)
                vlen = UIO_MAXIOV;
        for (i = 0; i < vlen; i++) {
                uint64_t mp = vec + i * sizeof(struct mmsghdr);
                struct send_job *j = send_job_msg(c, copy, domain, mp, flags, &r);
                if (!j)
                        return i ? (long)i : r;
                r = send_try(copy, j);
                if (r == SEND_LATER) {
                        if (i) {
                                send_job_free(j);
                                return (long)i;
                        }
                        j->len_at = mp + offsetof(struct mmsghdr, msg_len);
                        return send_later(c, TAKE_FD(copy), j);
                }
                send_job_free(j);
                if (r < 0)
                        return i ? (long)i : r;
                unsigned len = (unsigned)r;
                r = sentry_write(c, mp + offsetof(struct mmsghdr, msg_len), &len, sizeof(len));
                if (r < 0)
                        return i ? (long)i : r;
        }
        if (i && (domain == AF_INET || domain == AF_INET6))
                net_note_bound(copy);
        return (long)i;
}

/* listen, made on the sentry's copy: a socket not bound yet would be bound
 * by the kernel to every address of the host; it is bound to loopback
 * first (as a bind to every address would be), and the port remembered as
 * the guest's own. */
long sys_listen(struct sentry_call *c, int fd, int backlog)
{
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        long err;
        int domain;
        _cleanup_close_ int copy = caller_socket(c, fd, &domain, &err);

        if (copy < 0)
                return err;
        if (domain == AF_INET || domain == AF_INET6) {
                if (getsockname(copy, (struct sockaddr *)&ss, &len) < 0)
                        return -errno;
                if ((domain == AF_INET && ((struct sockaddr_in *)&ss)->sin_port == 0) ||
                    (domain == AF_INET6 && ((struct sockaddr_in6 *)&ss)->sin6_port == 0)) {
                        long r = net_judge_bind(c, copy, &ss, len);
                        if (r < 0)
                                return r;
                        if (bind(copy, (struct sockaddr *)&ss, len) < 0)
                                return -errno;
                } else {
                        long r = net_judge_listen(c, copy, &ss, len);
                        if (r < 0)
                                return r;
                }
        }
        if (listen(copy, backlog) < 0)
                return -errno;
        net_note_bound(copy);
        if (!c->decision)
                sentry_decide(c, "allow", "net-own");
        return 0;
}
