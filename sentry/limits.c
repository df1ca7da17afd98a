/* SPDX-License-Identifier: MIT */
/*
 * Resource limits of a session (--max-procs, --max-memory, --max-fds,
 * --max-write, --timeout), by the sentry's own accounting and rlimits,
 * which work as any user and inside any container (no cgroups):
 *
 *  - tasks: every clone, fork and vfork is trapped and counted; when the
 *    count nears the limit, a scan of /proc gives the true number (the
 *    sentry does not see every end; zombies count, as they hold pids),
 *    and a call past it fails with EAGAIN, as under a cgroup's pids.max;
 *  - memory: each process's data segment is capped by RLIMIT_DATA (an
 *    allocation past it fails at once); a monitor thread adds up, every
 *    100 ms, the tree's resident memory and the memory no process maps:
 *    memfds and deleted files on tmpfs that it holds open, files in the
 *    session's private /tmp and /dev/shm when they are on tmpfs, and the
 *    System V segments it made. Resident memory is read from the cheap
 *    RSS first, and only when that sum is past the limit, from each
 *    process's proportional share (Pss), so pages shared between the
 *    tree's processes count once;
 *  - writes: the disk blocks of every file the guest opened for writing
 *    (the sentry opens each one), of deleted files it still holds, and a
 *    fixed 4 KiB per name it makes; an open for writing, a new name or a
 *    fallocate once the quota is spent fails with EDQUOT;
 *  - fds: RLIMIT_NOFILE;
 *  - time: the monitor's deadline.
 *
 * Past a limit the whole tree is killed (again each tick until none is
 * left), the reason goes to the audit log and the launcher, which says
 * which limit and exits with 124 (timeout) or 137.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "sentry.h"
#include "session_int.h"
#include "util.h"

#define MONITOR_MS 100
#define NAME_COST 4096 /* what a directory entry, symlink or inode is charged */
#define MEASURE_FAILURES_MAX 5

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- the tree, from one pass over /proc --- */

struct proc_row {
        pid_t pid, ppid;
        unsigned threads;
        uint64_t rss_pages;
        bool in, live;
};

struct tree {
        struct proc_row *rows;
        size_t n;
};

static void tree_free(struct tree *t)
{
        free(t->rows);
        t->rows = NULL;
        t->n = 0;
}

static int tree_scan(pid_t root, struct tree *t)
{
        DIR *d = opendir("/proc");
        struct dirent *de;
        size_t cap = 0;
        bool grew;

        t->rows = NULL;
        t->n = 0;
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char path[64], buf[1024], state;
                const char *p;
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                int ppid = 0;
                unsigned threads = 0;
                unsigned long long rss = 0;

                if (*end || pid <= 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
                if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')))
                        continue;
                if (sscanf(p + 1,
                           " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %u %*d %*u "
                           "%*u %llu",
                           &state, &ppid, &threads, &rss) != 4 ||
                    state == 'X')
                        continue;
                if (t->n == cap) {
                        cap = cap ? cap * 2 : 256;
                        struct proc_row *r = realloc(t->rows, cap * sizeof(*t->rows));
                        if (!r) {
                                closedir(d);
                                tree_free(t);
                                return -ENOMEM;
                        }
                        t->rows = r;
                }
                /* A zombie holds its pid until reaped; a zombie leader whose
                 * other threads run is a live process. */
                t->rows[t->n++] = (struct proc_row){ (pid_t)pid, (pid_t)ppid, threads ? threads : 1,
                                                     rss,        pid == root, state != 'Z' || threads > 1 };
        }
        closedir(d);
        do {
                grew = false;
                for (size_t i = 0; i < t->n; i++) {
                        if (t->rows[i].in)
                                continue;
                        for (size_t j = 0; j < t->n; j++)
                                if (t->rows[j].in && t->rows[j].pid == t->rows[i].ppid) {
                                        t->rows[i].in = grew = true;
                                        break;
                                }
                }
        } while (grew);
        return 0;
}

int sentry_tree_usage(pid_t root, struct tree_usage *u)
{
        struct tree t;
        int r = tree_scan(root, &t);

        memset(u, 0, sizeof(*u));
        if (r < 0)
                return r;
        for (size_t i = 0; i < t.n; i++)
                if (t.rows[i].in && t.rows[i].pid != root) {
                        u->procs++;
                        u->tasks += t.rows[i].threads;
                        u->rss += t.rows[i].rss_pages * (uint64_t)sysconf(_SC_PAGESIZE);
                }
        tree_free(&t);
        return 0;
}

/* --- tasks --- */

static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long spawned; /* tasks counted since the last scan */
static bool procs_told;

long sentry_may_spawn(struct sentry_call *c)
{
        const struct session_limits *l = &c->s->limits;
        struct tree_usage u;
        long r = SENTRY_CONTINUE;

        if (!l->max_procs)
                return SENTRY_CONTINUE;
        pthread_mutex_lock(&spawn_lock);
        if (spawned + 1 >= l->max_procs) {
                /* The count only grows here: ends are not seen. Ask /proc. */
                if (sentry_tree_usage(c->s->self, &u) == 0)
                        spawned = u.tasks;
        }
        if (spawned + 1 > l->max_procs) {
                sentry_decide(c, "deny", "limit:procs");
                snprintf(c->detail, sizeof(c->detail), "\"limit\":%u", l->max_procs);
                if (!procs_told) {
                        procs_told = true;
                        char msg[160];
                        int n = snprintf(
                                msg, sizeof(msg),
                                "interpose: the guest reached --max-procs=%u (processes and threads); "
                                "further forks fail with EAGAIN\n",
                                l->max_procs);
                        write_all(2, msg, (size_t)n);
                }
                r = -EAGAIN;
        } else {
                spawned++;
        }
        pthread_mutex_unlock(&spawn_lock);
        return r;
}

/* --- what the tree holds open: memfds, deleted files --- */

struct held {
        dev_t dev;
        ino_t ino;
        uint64_t bytes; /* disk or memory blocks */
        bool memory;    /* on tmpfs or a memfd */
};

struct held_set {
        struct held *v;
        size_t n, cap;
};

static dev_t memfd_dev = (dev_t)-1; /* the kernel's internal mount for memfds */

static bool is_memory_dev(dev_t dev, const struct stat *st)
{
        (void)st;
        return dev == memfd_dev;
}

static void held_add(struct held_set *h, const struct stat *st, bool memory)
{
        for (size_t i = 0; i < h->n; i++)
                if (h->v[i].dev == st->st_dev && h->v[i].ino == st->st_ino)
                        return;
        if (h->n == h->cap) {
                h->cap = h->cap ? h->cap * 2 : 64;
                struct held *v = realloc(h->v, h->cap * sizeof(*h->v));
                if (!v)
                        return;
                h->v = v;
        }
        h->v[h->n++] = (struct held){ st->st_dev, st->st_ino, (uint64_t)st->st_blocks * 512, memory };
}

static bool held_has(const struct held_set *h, dev_t dev, ino_t ino)
{
        for (size_t i = 0; i < h->n; i++)
                if (h->v[i].dev == dev && h->v[i].ino == ino)
                        return true;
        return false;
}

/* Every regular file the tree's live processes hold with no name left (a
 * memfd, an unlinked or O_TMPFILE file), and, in open_all, every file. */
static void scan_fds(const struct tree *t, pid_t root, struct held_set *unnamed, struct held_set *open_all)
{
        for (size_t i = 0; i < t->n; i++) {
                char dir[64];
                DIR *d;
                struct dirent *de;

                if (!t->rows[i].in || !t->rows[i].live || t->rows[i].pid == root)
                        continue;
                snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)t->rows[i].pid);
                d = opendir(dir);
                if (!d)
                        continue;
                while ((de = readdir(d))) {
                        char path[96];
                        struct stat st;
                        if (de->d_name[0] == '.')
                                continue;
                        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
                                continue;
                        if (open_all)
                                held_add(open_all, &st, false);
                        if (st.st_nlink == 0)
                                held_add(unnamed, &st, is_memory_dev(st.st_dev, &st));
                }
                closedir(d);
        }
}

/* --- writes --- */

static struct {
        pthread_mutex_t lock;
        struct written {
                dev_t dev;
                ino_t ino;
                int fd;          /* O_PATH, to see it grow */
                uint64_t before; /* its blocks when first opened */
        } * files;
        size_t n, cap, max;
        uint64_t names; /* NAME_COST per name made */
        uint64_t used;  /* at the last tick, names included */
} W = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool write_spent(const struct sentry *s)
{
        return W.used + W.names >= s->limits.max_write;
}

int sentry_track_write(struct sentry *s, int fd)
{
        struct stat st;
        int r = 0;

        if (!s->limits.max_write)
                return 0;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return 0;
        pthread_mutex_lock(&W.lock);
        if (write_spent(s)) {
                r = -EDQUOT;
                goto out;
        }
        for (size_t i = 0; i < W.n; i++)
                if (W.files[i].dev == st.st_dev && W.files[i].ino == st.st_ino)
                        goto out;
        if (W.n == W.max) {
                r = -EDQUOT; /* more files than we can watch: refused, not unwatched */
                goto out;
        }
        if (W.n == W.cap) {
                W.cap = W.cap ? W.cap * 2 : 64;
                W.files = realloc(W.files, W.cap * sizeof(*W.files));
                if (!W.files)
                        abort();
        }
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        int path = open(proc, O_PATH | O_CLOEXEC);
        if (path < 0) {
                r = -EDQUOT;
                goto out;
        }
        /* A file the guest creates counts whole; one it finds, by growth. */
        W.files[W.n++] = (struct written){ st.st_dev, st.st_ino, path,
                                           st.st_size == 0 ? 0 : (uint64_t)st.st_blocks * 512 };
out:
        pthread_mutex_unlock(&W.lock);
        return r;
}

int sentry_charge_name(struct sentry *s)
{
        int r = 0;

        if (!s->limits.max_write)
                return 0;
        pthread_mutex_lock(&W.lock);
        if (write_spent(s))
                r = -EDQUOT;
        else
                W.names += NAME_COST;
        pthread_mutex_unlock(&W.lock);
        return r;
}

long sentry_may_allocate(struct sentry_call *c, uint64_t len)
{
        long r = SENTRY_CONTINUE;

        if (!c->s->limits.max_write)
                return SENTRY_CONTINUE;
        pthread_mutex_lock(&W.lock);
        if (W.used + W.names + len > c->s->limits.max_write) {
                sentry_decide(c, "deny", "limit:write");
                r = -EDQUOT;
        }
        pthread_mutex_unlock(&W.lock);
        return r;
}

/* Bytes the watched files grew by, plus unnamed disk files still held
 * open (in held: what the tree holds open). A watched file that lost its
 * last name and that no guest process holds stops counting (our O_PATH
 * fd would keep its blocks allocated). */
static uint64_t written_now(const struct held_set *open_all, const struct held_set *unnamed)
{
        uint64_t total = 0;

        pthread_mutex_lock(&W.lock);
        for (size_t i = 0; i < W.n;) {
                struct stat st;
                if (fstat(W.files[i].fd, &st) < 0 ||
                    (st.st_nlink == 0 && !held_has(open_all, st.st_dev, st.st_ino))) {
                        close(W.files[i].fd);
                        W.files[i] = W.files[--W.n];
                        continue;
                }
                uint64_t now = (uint64_t)st.st_blocks * 512;
                total += now > W.files[i].before ? now - W.files[i].before : 0;
                i++;
        }
        /* Unnamed disk files the tree holds that it did not open through us
         * (inherited, received): counted whole. */
        for (size_t i = 0; i < unnamed->n; i++) {
                bool watched = false;
                if (unnamed->v[i].memory)
                        continue;
                for (size_t j = 0; j < W.n && !watched; j++)
                        watched = W.files[j].dev == unnamed->v[i].dev && W.files[j].ino == unnamed->v[i].ino;
                if (!watched)
                        total += unnamed->v[i].bytes;
        }
        W.used = total;
        total += W.names;
        pthread_mutex_unlock(&W.lock);
        return total;
}

/* --- memory --- */

/* Blocks of the files under dirfd (the session's private tmpfs dirs). */
static uint64_t dir_blocks(int at, int depth)
{
        uint64_t total = 0;
        int fd = openat(at, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;

        if (!d) {
                if (fd >= 0)
                        close(fd);
                return 0;
        }
        while ((de = readdir(d))) {
                struct stat st;
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                total += (uint64_t)st.st_blocks * 512;
                if (S_ISDIR(st.st_mode) && depth < 64) {
                        int sub = openat(dirfd(d), de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0) {
                                total += dir_blocks(sub, depth + 1);
                                close(sub);
                        }
                }
        }
        closedir(d);
        return total;
}

/* Anonymous and shared-memory pages of one process, its proportional
 * share (Pss_Anon + Pss_Shmem), or its RSS when the kernel says no more. */
static uint64_t pss_of(pid_t pid, uint64_t rss_pages)
{
        char path[64], buf[4096];
        const char *p;
        uint64_t kb = 0;
        bool any = false;

        snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
        if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0)
                return rss_pages * (uint64_t)sysconf(_SC_PAGESIZE);
        static const char *const keys[] = { "\nPss_Anon:", "\nPss_Shmem:" };
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                if ((p = strstr(buf, keys[i]))) {
                        kb += strtoull(p + strlen(keys[i]), NULL, 10);
                        any = true;
                }
        }
        return any ? kb * 1024 : rss_pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* System V segments the tree made that no process has attached (those
 * attached are in its processes' memory). */
static uint64_t sysv_bytes(struct sentry *s)
{
        uint64_t total = 0;

        for (unsigned i = 0; i < s->ipc_n[0]; i++) {
                struct shmid_ds ds;
                if (shmctl(s->ipc_ids[0][i], IPC_STAT, &ds) == 0 && ds.shm_nattch == 0)
                        total += ds.shm_segsz;
        }
        return total;
}

struct memory_sources {
        int tmpfs_dirs[WALK_MAPS]; /* the private dirs that are on tmpfs, or -1 */
};

static uint64_t memory_now(struct sentry *s, const struct tree *t, const struct held_set *unnamed,
                           const struct memory_sources *m, bool precise)
{
        uint64_t total = sysv_bytes(s);
        long page = sysconf(_SC_PAGESIZE);

        for (size_t i = 0; i < unnamed->n; i++)
                if (unnamed->v[i].memory)
                        total += unnamed->v[i].bytes;
        for (int i = 0; i < WALK_MAPS; i++)
                if (m->tmpfs_dirs[i] >= 0)
                        total += dir_blocks(m->tmpfs_dirs[i], 0);
        for (size_t i = 0; i < t->n; i++)
                if (t->rows[i].in && t->rows[i].live && t->rows[i].pid != s->self)
                        total += precise ? pss_of(t->rows[i].pid, t->rows[i].rss_pages)
                                         : t->rows[i].rss_pages * (uint64_t)page;
        return total;
}

/* --- the audit log --- */

void sentry_audit_grew(struct sentry *s)
{
        static bool stopped;
        char extra[96];

        if (!s->limits.max_audit ||
            __atomic_load_n(&s->audit.bytes, __ATOMIC_RELAXED) <= s->limits.max_audit ||
            __atomic_exchange_n(&stopped, true, __ATOMIC_ACQ_REL))
                return;
        /* A guest that makes refused calls in a loop would fill the disk
         * with records; a log that cannot be kept is a session that cannot
         * be vouched for. The record saying so is the last one. */
        snprintf(extra, sizeof(extra), "\"limit\":%llu", (unsigned long long)s->limits.max_audit);
        struct audit_record r = { .decision = "kill", .rule = "limit:audit", .extra = extra };
        audit_write(&s->audit, &r);
        sentry_report_limit(LIMIT_AUDIT);
        sentry_kill_descendants(s->self, 0);
}

/* --- the monitor --- */

static void stop_session(struct sentry *s, int which, const char *rule, const char *extra)
{
        struct audit_record r = { .decision = "kill", .rule = rule, .extra = extra };

        audit_write(&s->audit, &r);
        sentry_report_limit(which);
        sentry_kill_descendants(s->self, 0);
}

static struct memory_sources M = { { -1, -1 } };

/* One look at every limit. Returns the LIMIT_* passed, or 0. */
static int check(struct sentry *s, uint64_t deadline, char *extra, size_t cap, const char **rule)
{
        const struct session_limits *l = &s->limits;
        static unsigned failures;
        struct held_set unnamed = { 0 }, open_all = { 0 };
        struct tree t;
        int which = 0;

        if (deadline && now_ms() >= deadline) {
                snprintf(extra, cap, "\"timeout_ms\":%llu", (unsigned long long)l->timeout_ms);
                *rule = "limit:timeout";
                return LIMIT_TIMEOUT;
        }
        if (!l->max_memory && !l->max_write)
                return 0;
        if (tree_scan(s->self, &t) < 0) {
                /* What cannot be measured cannot be allowed for long. */
                if (++failures >= MEASURE_FAILURES_MAX) {
                        snprintf(extra, cap, "\"error\":\"cannot measure the guest\"");
                        *rule = "limit:measure";
                        return l->max_memory ? LIMIT_MEMORY : LIMIT_WRITE;
                }
                return 0;
        }
        failures = 0;
        scan_fds(&t, s->self, &unnamed, l->max_write ? &open_all : NULL);
        if (l->max_memory) {
                uint64_t m = memory_now(s, &t, &unnamed, &M, false);
                /* RSS counts a page shared by several processes in each: past
                 * the limit, ask for the proportional shares. */
                if (m > l->max_memory)
                        m = memory_now(s, &t, &unnamed, &M, true);
                if (m > l->max_memory) {
                        snprintf(extra, cap, "\"limit\":%llu,\"memory\":%llu",
                                 (unsigned long long)l->max_memory, (unsigned long long)m);
                        *rule = "limit:memory";
                        which = LIMIT_MEMORY;
                }
        }
        if (!which && l->max_write) {
                uint64_t w = written_now(&open_all, &unnamed);
                if (w > l->max_write) {
                        snprintf(extra, cap, "\"limit\":%llu,\"written\":%llu",
                                 (unsigned long long)l->max_write, (unsigned long long)w);
                        *rule = "limit:write";
                        which = LIMIT_WRITE;
                }
        }
        free(unnamed.v);
        free(open_all.v);
        tree_free(&t);
        return which;
}

static void *monitor(void *arg)
{
        struct sentry *s = arg;
        uint64_t deadline = s->limits.timeout_ms ? now_ms() + s->limits.timeout_ms : 0;
        char extra[160];
        const char *rule = NULL;
        int which;

        for (;;) {
                struct timespec ts = { 0, MONITOR_MS * 1000000L };
                nanosleep(&ts, NULL);
                /* (Records the resolver thread writes, too.) */
                sentry_audit_grew(s);
                which = check(s, deadline, extra, sizeof(extra), &rule);
                if (which)
                        break;
        }
        stop_session(s, which, rule, extra);
        /* Until nothing of the tree is left: a process forked during the
         * sweep, or one the kernel was slow to end, is killed next time. */
        for (;;) {
                struct timespec ts = { 0, MONITOR_MS * 1000000L };
                nanosleep(&ts, NULL);
                sentry_kill_descendants(s->self, 0);
        }
        return NULL;
}

int sentry_limits_final(struct sentry *s)
{
        char extra[160];
        const char *rule = NULL;
        int which;

        if (!s->limits.max_write)
                return 0;
        /* The guest may have ended between two looks. */
        which = check(s, 0, extra, sizeof(extra), &rule);
        if (which == LIMIT_WRITE) {
                struct audit_record r = { .decision = "kill", .rule = rule, .extra = extra };
                audit_write(&s->audit, &r);
                sentry_report_limit(which);
        }
        return which;
}

int sentry_limits_start(struct sentry *s)
{
        const struct session_limits *l = &s->limits;
        pthread_attr_t attr;
        pthread_t t;
        struct rlimit rl;
        int r;

        if (!l->timeout_ms && !l->max_memory && !l->max_write && !l->max_audit)
                return 0;
        /* How many written files may be watched: one O_PATH fd each, well
         * inside the sentry's own fd limit (raised to its hard limit). */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
                getrlimit(RLIMIT_NOFILE, &rl);
        }
        W.max = rl.rlim_cur > 4096 ? (size_t)(rl.rlim_cur - 2048) : 1024;
        if (W.max > 65536)
                W.max = 65536;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 128 * 1024);
        r = pthread_create(&t, &attr, monitor, s);
        pthread_attr_destroy(&attr);
        return -r;
}

void sentry_limits_prepare(struct sentry *s)
{
        struct statfs sf;
        struct stat st;
        int fd;

        /* Where memfds live: make one and look. */
        fd = memfd_create("interpose-probe", MFD_CLOEXEC);
        if (fd >= 0) {
                if (fstat(fd, &st) == 0)
                        memfd_dev = st.st_dev;
                close(fd);
        }
        for (int i = 0; i < WALK_MAPS; i++)
                if (s->maps[i].fd >= 0 && fstatfs(s->maps[i].fd, &sf) == 0 && sf.f_type == TMPFS_MAGIC)
                        M.tmpfs_dirs[i] = s->maps[i].fd;
}

/* --- in the guest, before exec --- */

static int cap_limit(int resource, uint64_t value)
{
        struct rlimit rl;

        if (getrlimit(resource, &rl) < 0)
                return -errno;
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < value)
                value = rl.rlim_max;
        rl.rlim_cur = rl.rlim_max = value;
        return setrlimit(resource, &rl) < 0 ? -errno : 0;
}

int session_apply_rlimits(const struct session_limits *l)
{
        int r = 0;

        if (l->max_fds && r == 0)
                r = cap_limit(RLIMIT_NOFILE, l->max_fds);
        if (l->max_memory && r == 0)
                r = cap_limit(RLIMIT_DATA, l->max_memory);
        /* For a user other than root the kernel counts this user's tasks
         * too: a backstop a little above the limit, over what the user runs
         * already (root's tasks are not counted by the kernel). */
        if (l->max_procs && r == 0 && getuid() != 0) {
                unsigned long have = 0;
                DIR *d = opendir("/proc");
                struct dirent *de;
                char path[64];
                struct stat st;
                while (d && (de = readdir(d))) {
                        snprintf(path, sizeof(path), "/proc/%s/task", de->d_name);
                        if (de->d_name[0] >= '1' && de->d_name[0] <= '9' && stat(path, &st) == 0 &&
                            st.st_uid == getuid())
                                have += st.st_nlink > 2 ? st.st_nlink - 2 : 1;
                }
                if (d)
                        closedir(d);
                r = cap_limit(RLIMIT_NPROC, have + l->max_procs + 16);
        }
        return r;
}
