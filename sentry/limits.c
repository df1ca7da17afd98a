/* SPDX-License-Identifier: MIT */
/*
 * Resource limits of a session (--max-procs, --max-memory, --max-fds,
 * --max-write, --timeout), by the sentry's own accounting and rlimits,
 * which work as any user and inside any container:
 *
 *  - tasks: every clone, fork and vfork is trapped and counted; when the
 *    count reaches the limit, a scan of /proc gives the true number (the
 *    sentry does not see every end), and a call past it fails with EAGAIN,
 *    as under a cgroup's pids.max;
 *  - memory: each process's data segment is capped by RLIMIT_DATA (an
 *    allocation past it fails at once), and a monitor thread sums the
 *    resident memory of the tree every 100 ms and stops the session past
 *    the limit;
 *  - writes: each file is capped by RLIMIT_FSIZE, and the disk blocks of
 *    every file the guest opened for writing are summed by the monitor; an
 *    open for writing once the quota is spent fails with EDQUOT, and the
 *    session stops when the files outgrow it;
 *  - fds: RLIMIT_NOFILE;
 *  - time: the monitor's deadline.
 *
 * A stop kills the whole tree, records the reason in the audit log and
 * tells the launcher, which says which limit and exits with 124 (timeout)
 * or 137 (memory, writes).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sentry.h"
#include "session_int.h"
#include "util.h"

#define MONITOR_MS 100
#define WRITE_FILES_MAX 65536

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- the tree's size, from one pass over /proc --- */

struct proc_row {
        pid_t pid, ppid;
        unsigned threads;
        uint64_t rss_pages;
        bool in;
};

int sentry_tree_usage(pid_t root, struct tree_usage *u)
{
        DIR *d = opendir("/proc");
        struct dirent *de;
        struct proc_row *rows = NULL;
        size_t n = 0, cap = 0;
        bool grew;

        memset(u, 0, sizeof(*u));
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char path[64], buf[1024];
                const char *p;
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                int ppid = 0;
                unsigned threads = 0;
                unsigned long long rss = 0;
                char state;

                if (*end || pid <= 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
                if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')))
                        continue;
                if (sscanf(p + 1,
                           " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %u %*d %*u "
                           "%*u "
                           "%llu",
                           &state, &ppid, &threads, &rss) != 4 ||
                    state == 'Z' || state == 'X')
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 256;
                        rows = realloc(rows, cap * sizeof(*rows));
                        if (!rows) {
                                closedir(d);
                                return -ENOMEM;
                        }
                }
                rows[n++] = (struct proc_row){ (pid_t)pid, (pid_t)ppid, threads, rss, pid == root };
        }
        closedir(d);
        /* Descendants of root, by the parent links read above. */
        do {
                grew = false;
                for (size_t i = 0; i < n; i++) {
                        if (rows[i].in)
                                continue;
                        for (size_t j = 0; j < n; j++)
                                if (rows[j].in && rows[j].pid == rows[i].ppid) {
                                        rows[i].in = grew = true;
                                        break;
                                }
                }
        } while (grew);
        for (size_t i = 0; i < n; i++)
                if (rows[i].in && rows[i].pid != root) {
                        u->procs++;
                        u->tasks += rows[i].threads;
                        u->rss += rows[i].rss_pages * (uint64_t)sysconf(_SC_PAGESIZE);
                }
        free(rows);
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

/* --- writes --- */

static struct {
        pthread_mutex_t lock;
        struct written {
                dev_t dev;
                ino_t ino;
                int fd;          /* O_PATH, to see it grow */
                uint64_t before; /* its blocks when first opened */
        } * files;
        size_t n, cap;
        uint64_t used; /* at the last tick */
} W = { .lock = PTHREAD_MUTEX_INITIALIZER };

int sentry_track_write(struct sentry *s, int fd)
{
        struct stat st;
        int r = 0;

        if (!s->limits.max_write)
                return 0;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return 0;
        pthread_mutex_lock(&W.lock);
        if (W.used >= s->limits.max_write) {
                r = -EDQUOT;
                goto out;
        }
        for (size_t i = 0; i < W.n; i++)
                if (W.files[i].dev == st.st_dev && W.files[i].ino == st.st_ino)
                        goto out;
        if (W.n == WRITE_FILES_MAX) {
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

/* Bytes the watched files grew by; files removed by now stop counting. */
static uint64_t written_now(void)
{
        uint64_t total = 0;

        pthread_mutex_lock(&W.lock);
        for (size_t i = 0; i < W.n;) {
                struct stat st;
                if (fstat(W.files[i].fd, &st) < 0 || st.st_nlink == 0) {
                        close(W.files[i].fd);
                        W.files[i] = W.files[--W.n];
                        continue;
                }
                uint64_t now = (uint64_t)st.st_blocks * 512;
                total += now > W.files[i].before ? now - W.files[i].before : 0;
                i++;
        }
        W.used = total;
        pthread_mutex_unlock(&W.lock);
        return total;
}

/* --- the monitor --- */

static void stop_session(struct sentry *s, int which, const char *rule, const char *extra)
{
        struct audit_record r = { .decision = "kill", .rule = rule, .extra = extra };

        audit_write(&s->audit, &r);
        sentry_report_limit(which);
        sentry_kill_descendants(s->self, 0);
}

static void *monitor(void *arg)
{
        struct sentry *s = arg;
        const struct session_limits *l = &s->limits;
        uint64_t deadline = l->timeout_ms ? now_ms() + l->timeout_ms : 0;
        char extra[128];

        for (;;) {
                struct timespec ts = { 0, MONITOR_MS * 1000000L };
                struct tree_usage u;

                nanosleep(&ts, NULL);
                if (deadline && now_ms() >= deadline) {
                        snprintf(extra, sizeof(extra), "\"timeout_ms\":%llu",
                                 (unsigned long long)l->timeout_ms);
                        stop_session(s, LIMIT_TIMEOUT, "limit:timeout", extra);
                        return NULL;
                }
                if (l->max_memory && sentry_tree_usage(s->self, &u) == 0 && u.rss > l->max_memory) {
                        snprintf(extra, sizeof(extra), "\"limit\":%llu,\"rss\":%llu",
                                 (unsigned long long)l->max_memory, (unsigned long long)u.rss);
                        stop_session(s, LIMIT_MEMORY, "limit:memory", extra);
                        return NULL;
                }
                if (l->max_write) {
                        uint64_t w = written_now();
                        if (w > l->max_write) {
                                snprintf(extra, sizeof(extra), "\"limit\":%llu,\"written\":%llu",
                                         (unsigned long long)l->max_write, (unsigned long long)w);
                                stop_session(s, LIMIT_WRITE, "limit:write", extra);
                                return NULL;
                        }
                }
        }
}

int sentry_limits_start(struct sentry *s)
{
        const struct session_limits *l = &s->limits;
        pthread_attr_t attr;
        pthread_t t;
        int r;

        if (!l->timeout_ms && !l->max_memory && !l->max_write)
                return 0;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        r = pthread_create(&t, &attr, monitor, s);
        pthread_attr_destroy(&attr);
        return -r;
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
        if (l->max_write && r == 0)
                r = cap_limit(RLIMIT_FSIZE, l->max_write);
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
