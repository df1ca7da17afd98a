/* SPDX-License-Identifier: MIT */
/*
 * Resource limits of a session (--max-procs, --max-memory, --max-fds,
 * --max-write, --timeout), by the sentry's own accounting and rlimits,
 * which work as any user and inside any container (no cgroups):
 *
 *  - processes: the monitor counts the tree's processes every 100 ms
 *    (zombies count: they hold pids), walking it down from the
 *    sentry by /proc/PID/task/TID/children, so the cost is the tree's,
 *    not the host's; past the limit the tree is stopped. (Trapping fork
 *    and clone would answer EAGAIN like pids.max, but a trapped call can
 *    be interrupted by a signal before the sentry takes it, and fork would
 *    then fail with EINTR, which it never does natively: dash's pipelines
 *    did. For users other than root, RLIMIT_NPROC backs the count.)
 *  - memory: each process's data segment is capped by RLIMIT_DATA (an
 *    allocation past it fails at once); a monitor thread adds up, every
 *    100 ms, the tree's resident memory and the memory no process maps:
 *    memfds and deleted files on tmpfs that it holds open, files in the
 *    session's private /tmp and /dev/shm when they are on tmpfs, the
 *    System V segments it made, and the data queued in the sockets it
 *    holds or has passed in a message (sock_diag). What it holds open is
 *    found by a pass over every fd of the tree, which a guest can make
 *    long (its fd limit raised, and forks), so the pass is spread over
 *    the ticks and bounded (PASS_FDS_MAX). Resident memory is read from
 *    the cheap RSS first, and only when that sum is past the limit, from
 *    each process's proportional share (Pss), so pages shared between
 *    the tree's processes count once;
 *  - writes: the disk blocks of every file the guest opened for writing
 *    (the sentry opens each one) or inherited, of deleted files it still
 *    holds or has passed in a message, a fixed 4 KiB per name it makes and
 *    the values of the extended attributes it sets; an open for writing, a
 *    new name, an attribute or a fallocate past the quota fails with
 *    EDQUOT;
 *  - fds: RLIMIT_NOFILE, and with --max-memory, the sockets passed in
 *    messages that are in flight (the kernel bounds those by the
 *    sender's fd limit, and the sender is the sentry);
 *  - time: the monitor's deadline, looked at each tick however long the
 *    pass over the fds.
 *
 * Past a limit the whole tree is killed (again each tick until none is
 * left), the reason goes to the audit log and the launcher, which says
 * which limit and exits with 124 (timeout) or 137.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "sentry.h"
#include "session_int.h"
#include "util.h"

#define MONITOR_MS 100
#define NAME_COST 4096   /* what a directory entry, symlink or inode is charged */
#define NAME_MEMORY 1024 /* what a name on the private tmpfs takes of kernel memory */
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
        /* A thread that holds the memory and fds, whose /proc/PID/task/TID
         * tells them: pid, or a live one of a zombie leader's. */
        pid_t mm_tid;
        unsigned threads;
        uint64_t rss_pages;
        unsigned long long start; /* to know the pid still names it */
        bool live;
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

/* The RSS of a live thread of pid (a zombie leader's), its tid in *tid;
 * 0 when none is left. */
static unsigned long long live_thread_rss(pid_t pid, pid_t *tid)
{
        char path[64], buf[1024];
        const char *p;
        struct dirent *de;
        unsigned long long rss = 0;
        char state;
        DIR *d;

        snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
        if (!(d = opendir(path)))
                return 0;
        while ((de = readdir(d))) {
                long t = strtol(de->d_name, NULL, 10);
                if (t <= 0 || t == pid)
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/task/%ld/stat", (int)pid, t);
                if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')) ||
                    sscanf(p + 1,
                           " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*u %*d %*u "
                           "%*u %llu",
                           &state, &rss) != 2 ||
                    state == 'Z' || state == 'X' || !rss)
                        continue;
                *tid = (pid_t)t;
                break;
        }
        closedir(d);
        return *tid == pid ? 0 : rss;
}

static int row_add(struct tree *t, size_t *cap, pid_t pid)
{
        char path[64], buf[1024], state;
        const char *p;
        int ppid = 0;
        unsigned threads = 0;
        unsigned long long rss = 0, start = 0;

        /* (A child is in its parent thread's children file only: no
         * process is met twice.) */
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')))
                return 0; /* gone meanwhile */
        if (sscanf(p + 1,
                   " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %u %*d %llu %*u %llu",
                   &state, &ppid, &threads, &start, &rss) != 5 ||
            state == 'X')
                return 0;
        if (t->n == *cap) {
                *cap = *cap ? *cap * 2 : 64;
                struct proc_row *r = realloc(t->rows, *cap * sizeof(*t->rows));
                if (!r)
                        return -ENOMEM;
                t->rows = r;
        }
        /* A zombie holds its pid until reaped; a zombie leader whose other
         * threads run is a live process, and its memory is theirs: the
         * leader's own files show none (a thread mapping 300 MiB after its
         * leader's exit(2) went past --max-memory unseen). */
        pid_t mm_tid = pid;
        if (state == 'Z' && threads > 1)
                rss = live_thread_rss(pid, &mm_tid);
        t->rows[t->n++] = (struct proc_row){ .pid = pid,
                                             .mm_tid = mm_tid,
                                             .ppid = (pid_t)ppid,
                                             .threads = threads ? threads : 1,
                                             .rss_pages = rss,
                                             .start = start,
                                             .live = state != 'Z' || threads > 1 };
        return 0;
}

/* A whole /proc file (a children list may be long: a fork bomb's parent,
 * or the sentry with every orphan). Malloc'd, NUL-terminated, or NULL. */
static char *read_all(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t len = 0, cap = 4096;
        char *buf;

        if (fd < 0)
                return NULL;
        buf = malloc(cap);
        while (buf) {
                ssize_t n;
                if (len + 1 >= cap) {
                        char *b = realloc(buf, cap *= 2);
                        if (!b) {
                                free(buf);
                                buf = NULL;
                                break;
                        }
                        buf = b;
                }
                n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        close(fd);
        if (buf)
                buf[len] = '\0';
        return buf;
}

/* The tree below root, walked down by each thread's children file, so
 * its cost is the tree's size, not the host's. Orphans are reparented to
 * the sentry (a subreaper), so every descendant is found. */
static int tree_scan(pid_t root, struct tree *t)
{
        size_t cap = 0;
        int r;

        t->rows = NULL;
        t->n = 0;
        r = row_add(t, &cap, root);
        for (size_t i = 0; r == 0 && i < t->n; i++) {
                char dir[64];
                DIR *d;
                struct dirent *de;

                snprintf(dir, sizeof(dir), "/proc/%d/task", (int)t->rows[i].pid);
                d = opendir(dir);
                if (!d)
                        continue;
                while (r == 0 && (de = readdir(d))) {
                        char path[96], *buf;
                        if (de->d_name[0] == '.')
                                continue;
                        snprintf(path, sizeof(path), "%s/%s/children", dir, de->d_name);
                        if (!(buf = read_all(path)))
                                continue;
                        for (char *p = buf, *end; *p && r == 0; p = end) {
                                long child = strtol(p, &end, 10);
                                if (end == p)
                                        break;
                                if (child > 0)
                                        r = row_add(t, &cap, (pid_t)child);
                        }
                        free(buf);
                }
                closedir(d);
        }
        if (r < 0)
                tree_free(t);
        return r;
}

/* The state and start time (to know the pid still names the process
 * found) of pid. 0 or -ESRCH. */
static int read_start(pid_t pid, char *state, unsigned long long *start)
{
        char path[64], buf[1024];
        const char *p;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')) ||
            sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*u %*d %llu",
                   state, start) != 2)
                return -ESRCH;
        return 0;
}

/* --- what the tree holds open: memfds, deleted files --- */

struct held {
        dev_t dev;
        ino_t ino;
        uint64_t bytes; /* disk or memory blocks */
        bool memory;    /* on tmpfs or a memfd */
};

struct held_set {
        struct held *v; /* in the order found */
        uint32_t *slot; /* open addressing: index in v + 1, or 0 */
        size_t n, cap, slots;
};

static dev_t memfd_dev = (dev_t)-1; /* the kernel's internal mount for memfds */

/* Is a file on dev (open at fd, or named by path) in memory: a memfd, or
 * any tmpfs (/dev/shm, a tmpfs /tmp: a deleted or O_TMPFILE file there
 * is memory no process maps)? Asked of the file system once per device. */
static bool is_memory_dev(dev_t dev, int fd, const char *path)
{
        static struct {
                dev_t dev;
                bool memory;
        } seen[32];
        static unsigned n;
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        struct statfs sf;
        bool memory;

        if (dev == memfd_dev)
                return true;
        pthread_mutex_lock(&lock);
        for (unsigned i = 0; i < n; i++)
                if (seen[i].dev == dev) {
                        memory = seen[i].memory;
                        pthread_mutex_unlock(&lock);
                        return memory;
                }
        pthread_mutex_unlock(&lock);
        /* (fstatfs: the sentry's own filter has no statfs.) */
        int own = fd >= 0 ? -1 : open(path, O_PATH | O_CLOEXEC);
        int r = fstatfs(fd >= 0 ? fd : own, &sf);
        if (own >= 0)
                close(own);
        if (r < 0)
                return false;
        memory = sf.f_type == TMPFS_MAGIC;
        pthread_mutex_lock(&lock);
        if (n < ARRAY_SIZE(seen))
                seen[n++] = (typeof(seen[0])){ dev, memory };
        pthread_mutex_unlock(&lock);
        return memory;
}

static size_t held_hash(const struct held_set *h, dev_t dev, ino_t ino)
{
        uint64_t key[2] = { (uint64_t)dev, (uint64_t)ino };
        return (size_t)XXH3_64bits(key, sizeof(key)) & (h->slots - 1);
}

/* The slot of (dev, ino), or of the empty one where it would go. A pass
 * meets every fd of the tree (a guest holds tens of thousands in each of
 * hundreds of processes): a lookup must not cost the set's size. */
static size_t held_find(const struct held_set *h, dev_t dev, ino_t ino)
{
        size_t i = held_hash(h, dev, ino);

        while (h->slot[i] && (h->v[h->slot[i] - 1].dev != dev || h->v[h->slot[i] - 1].ino != ino))
                i = (i + 1) & (h->slots - 1);
        return i;
}

static bool held_has(const struct held_set *h, dev_t dev, ino_t ino)
{
        return h->n && h->slot[held_find(h, dev, ino)];
}

/* Twice the slots, kept at most half full. */
static void held_grow(struct held_set *h)
{
        h->slots = h->slots ? h->slots * 2 : 128;
        free(h->slot);
        h->slot = xcalloc(h->slots, sizeof(*h->slot));
        for (size_t k = 0; k < h->n; k++)
                h->slot[held_find(h, h->v[k].dev, h->v[k].ino)] = (uint32_t)(k + 1);
}

static void held_add(struct held_set *h, const struct stat *st, bool memory)
{
        if (held_has(h, st->st_dev, st->st_ino))
                return;
        if (h->n == h->cap) {
                h->cap = h->cap ? h->cap * 2 : 64;
                h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
        }
        h->v[h->n++] = (struct held){ st->st_dev, st->st_ino, (uint64_t)st->st_blocks * 512, memory };
        if (h->n * 2 > h->slots)
                held_grow(h);
        else
                h->slot[held_find(h, st->st_dev, st->st_ino)] = (uint32_t)h->n;
}

static void held_free(struct held_set *h)
{
        free(h->v);
        free(h->slot);
        *h = (struct held_set){ 0 };
}

/* Socket inodes, sorted once collected. */
struct ino_set {
        uint64_t *v;
        size_t n, cap;
};

static void ino_add(struct ino_set *s, uint64_t ino)
{
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 64;
                uint64_t *v = realloc(s->v, cap * sizeof(*v));
                if (!v)
                        return;
                s->v = v;
                s->cap = cap;
        }
        s->v[s->n++] = ino;
}

static int ino_cmp(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static bool ino_has(const struct ino_set *s, uint64_t ino)
{
        return s->n && bsearch(&ino, s->v, s->n, sizeof(*s->v), ino_cmp);
}

/* Files of pid's mappings that have lost their last name (" (deleted)"
 * in /proc/PID/maps: device and inode): a mapping keeps their blocks. */
static void scan_mapped(pid_t pid, pid_t tid, struct held_set *mapped)
{
        char path[64], line[PATH_MAX + 128];
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/task/%d/maps", (int)pid, (int)tid);
        f = fopen(path, "re");
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                unsigned maj, min;
                unsigned long long ino;
                size_t n = strlen(line);
                struct stat st = { 0 };
                if (n < 11 || strcmp(line + n - 11, " (deleted)\n"))
                        continue;
                if (sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min, &ino) != 3 || !ino)
                        continue;
                st.st_dev = makedev(maj, min);
                st.st_ino = (ino_t)ino;
                held_add(mapped, &st, false);
        }
        fclose(f);
}

/* Most fds one pass may look at. Each look is a stat of
 * /proc/P/task/T/fd/N, some microseconds, and a guest that raises its fd
 * limit and forks decides how many there are: 19,000 in each of 200
 * processes made a pass of 48 s. A build holds far fewer (a compiler
 * tens, a JVM with its jars a thousand); a tree holding more cannot be
 * measured in time, and is stopped as one that hides what it holds. */
#define PASS_FDS_MAX 131072
/* How long one tick may spend on the pass: the rest waits for the next
 * tick, so that the deadline and every other limit are looked at each
 * tick however long the pass is. */
#define PASS_SLICE_MS 50

/* One pass over what the tree's live processes hold, spread over the
 * monitor's ticks: every regular file with no name left (a memfd, an
 * unlinked or O_TMPFILE file) in unnamed; with want_all, every file in
 * open_all and every nameless file still mapped in mapped; with
 * want_socks, every socket in socks. */
struct fd_pass {
        struct tree t; /* the processes when the pass began */
        size_t next;   /* the row to look into next */
        DIR *d;        /* the fds of the row before it, being read */
        char dir[64];
        struct held_set unnamed, open_all, mapped;
        struct ino_set socks;
        unsigned hidden; /* live processes whose fds cannot be seen */
        size_t fds;      /* looked at so far */
        bool on, want_all, want_socks;
};

static void pass_begin(struct fd_pass *p, const struct tree *t, bool want_all, bool want_socks)
{
        *p = (struct fd_pass){ .on = true, .want_all = want_all, .want_socks = want_socks };
        p->t.n = t->n;
        p->t.rows = xmalloc(t->n * sizeof(*t->rows));
        memcpy(p->t.rows, t->rows, t->n * sizeof(*t->rows));
}

static void pass_end(struct fd_pass *p)
{
        if (p->d)
                closedir(p->d);
        tree_free(&p->t);
        held_free(&p->unnamed);
        held_free(&p->open_all);
        held_free(&p->mapped);
        free(p->socks.v);
        *p = (struct fd_pass){ 0 };
}

/* Open the fds of the next process worth a look; false when none is
 * left. A pass spans ticks: a pid that no longer names the process found
 * (by its start time) may be anyone's now. */
static bool pass_next_process(struct fd_pass *p, pid_t root)
{
        while (p->next < p->t.n) {
                const struct proc_row *row = &p->t.rows[p->next++];
                unsigned long long start;
                char state;
                if (!row->live || row->pid == root || read_start(row->pid, &state, &start) < 0 ||
                    start != row->start)
                        continue;
                if (p->want_all)
                        scan_mapped(row->pid, row->mm_tid, &p->mapped);
                snprintf(p->dir, sizeof(p->dir), "/proc/%d/task/%d/fd", (int)row->pid, (int)row->mm_tid);
                /* Not dumpable (an exec of a file it may not read): what it
                 * holds cannot be seen, its fd directory or its fds. */
                if ((p->d = opendir(p->dir)))
                        return true;
                if (errno == EACCES || errno == EPERM)
                        p->hidden++;
        }
        return false;
}

static void pass_look(struct fd_pass *p, const char *name)
{
        char path[96];
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", p->dir, name);
        if (stat(path, &st) < 0) {
                if (errno == EACCES || errno == EPERM) {
                        p->hidden++;
                        closedir(p->d);
                        p->d = NULL;
                }
                return;
        }
        if (S_ISSOCK(st.st_mode) && p->want_socks)
                ino_add(&p->socks, st.st_ino);
        if (!S_ISREG(st.st_mode))
                return;
        if (p->want_all)
                held_add(&p->open_all, &st, false);
        if (st.st_nlink == 0)
                held_add(&p->unnamed, &st, is_memory_dev(st.st_dev, -1, path));
}

/* The fds of the directory being read: 1 once it is read to its end, 0
 * when the clock reads until first, -E2BIG past PASS_FDS_MAX. */
static int pass_read_dir(struct fd_pass *p, uint64_t until)
{
        struct dirent *de;

        while (p->d && (de = readdir(p->d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (++p->fds > PASS_FDS_MAX)
                        return -E2BIG;
                pass_look(p, de->d_name);
                if (p->fds % 64 == 0 && now_ms() >= until)
                        return 0;
        }
        if (p->d) {
                closedir(p->d);
                p->d = NULL;
        }
        return 1;
}

/* Look on until the pass is done (1), until the clock reads until (0,
 * after some progress), or past PASS_FDS_MAX (-E2BIG). */
static int pass_step(struct fd_pass *p, pid_t root, uint64_t until)
{
        int r = 1;

        while (r > 0 && (p->d || pass_next_process(p, root))) {
                r = pass_read_dir(p, until);
                if (r > 0 && now_ms() >= until)
                        r = 0;
        }
        /* Each tick sums what the pass found so far: sorted for lookups. */
        if (p->socks.n)
                qsort(p->socks.v, p->socks.n, sizeof(*p->socks.v), ino_cmp);
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
                uint64_t seen;   /* its blocks when last measured */
                bool in_flight;  /* passed in a message: counts to the end */
        } * files;
        size_t n, cap, max;
        uint64_t names;    /* NAME_COST per name made, and extended attributes */
        uint64_t used;     /* at the last measure, names excluded */
        uint64_t reserved; /* by the fallocates under way */
} W = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t write_charged(void)
{
        return W.used + W.names + W.reserved;
}

static bool write_spent(const struct sentry *s)
{
        return write_charged() >= s->limits.max_write;
}

/* What a watched file counts for, at blocks bytes. */
static uint64_t growth(const struct written *w, uint64_t blocks)
{
        return blocks > w->before ? blocks - w->before : 0;
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
        uint64_t before = st.st_size == 0 ? 0 : (uint64_t)st.st_blocks * 512;
        W.files[W.n++] = (struct written){ st.st_dev, st.st_ino, path, before, before };
out:
        pthread_mutex_unlock(&W.lock);
        return r;
}

/* Whether the guest inherits fd for writing: 0 to 2, and with --keep-fds
 * every other fd not closed on exec. */
static bool inherited_writable(int fd, bool keep_fds)
{
        int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);

        if (fl < 0 || fdfl < 0 || (fl & O_PATH) || (fl & O_ACCMODE) == O_RDONLY)
                return false;
        return fd <= 2 || (keep_fds && !(fdfl & FD_CLOEXEC));
}

void sentry_watch_inherited(struct sentry *s, bool keep_fds)
{
        DIR *d;
        struct dirent *de;

        if (!s->limits.max_write || !(d = opendir("/proc/self/fd")))
                return;
        /* The guest is our child and has not run yet: our fds are its. The
         * files the user gave it (`> big.out`, a kept fd) count by their
         * growth from now, as a file it finds does. */
        while ((de = readdir(d))) {
                int fd = atoi(de->d_name);
                if (de->d_name[0] != '.' && fd != dirfd(d) && inherited_writable(fd, keep_fds))
                        sentry_track_write(s, fd);
        }
        closedir(d);
}

void sentry_write_in_flight(struct sentry *s, int fd)
{
        struct stat st;

        if (!s->limits.max_write || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return;
        pthread_mutex_lock(&W.lock);
        for (size_t i = 0; i < W.n; i++)
                if (W.files[i].dev == st.st_dev && W.files[i].ino == st.st_ino)
                        W.files[i].in_flight = true;
        pthread_mutex_unlock(&W.lock);
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

int sentry_charge_bytes(struct sentry *s, uint64_t bytes)
{
        int r = 0;

        if (!s->limits.max_write || !bytes)
                return 0;
        pthread_mutex_lock(&W.lock);
        if (write_charged() + bytes > s->limits.max_write)
                r = -EDQUOT;
        else
                W.names += bytes;
        pthread_mutex_unlock(&W.lock);
        return r;
}

void sentry_refund_bytes(struct sentry *s, uint64_t bytes)
{
        if (!s->limits.max_write)
                return;
        pthread_mutex_lock(&W.lock);
        W.names -= bytes < W.names ? bytes : W.names;
        pthread_mutex_unlock(&W.lock);
}

long sentry_may_allocate(struct sentry_call *c, int fd, uint64_t len)
{
        long r;

        if (!c->s->limits.max_write)
                return 0;
        /* Watched from now on, so what it takes is measured. */
        r = sentry_track_write(c->s, fd);
        pthread_mutex_lock(&W.lock);
        if (r == 0 && write_charged() + len > c->s->limits.max_write)
                r = -EDQUOT;
        if (r == 0)
                W.reserved += len;
        pthread_mutex_unlock(&W.lock);
        if (r < 0)
                sentry_decide(c, "deny", "limit:write");
        return r;
}

void sentry_allocated(struct sentry *s, int fd, uint64_t len)
{
        struct stat st;

        if (!s->limits.max_write)
                return;
        pthread_mutex_lock(&W.lock);
        W.reserved -= len;
        /* One call takes gigabytes in a millisecond: what it took counts
         * now, not at the monitor's next look. */
        for (size_t i = 0; fstat(fd, &st) == 0 && i < W.n; i++) {
                struct written *w = &W.files[i];
                if (w->dev != st.st_dev || w->ino != st.st_ino)
                        continue;
                uint64_t was = growth(w, w->seen), now = growth(w, (uint64_t)st.st_blocks * 512);
                W.used = W.used - (was < W.used ? was : W.used) + now;
                w->seen = (uint64_t)st.st_blocks * 512;
                break;
        }
        pthread_mutex_unlock(&W.lock);
}

/* Whether a watched file still counts: named, passed in a message (one
 * never received is held by the socket, which no look can see, and being
 * seen held again says nothing of the copies in flight), or held or
 * mapped by the tree. A file that lost its last name and that the tree
 * let go of stops counting (our O_PATH fd would keep its blocks
 * allocated), but only once a whole pass has not met it (complete). */
static bool still_counts(const struct written *w, const struct stat *st, const struct fd_pass *p,
                         bool complete)
{
        if (st->st_nlink > 0 || w->in_flight || !complete)
                return true;
        return held_has(&p->open_all, st->st_dev, st->st_ino) || held_has(&p->mapped, st->st_dev, st->st_ino);
}

/* Bytes the watched files grew by, plus unnamed disk files the pass found
 * held open (complete: the pass is whole). */
static uint64_t written_now(const struct fd_pass *p, bool complete)
{
        struct held_set watched = { 0 };
        uint64_t total = 0;

        pthread_mutex_lock(&W.lock);
        for (size_t i = 0; i < W.n;) {
                struct written *w = &W.files[i];
                struct stat st;
                if (fstat(w->fd, &st) < 0 || !still_counts(w, &st, p, complete)) {
                        close(w->fd);
                        *w = W.files[--W.n];
                        continue;
                }
                held_add(&watched, &st, false);
                w->seen = (uint64_t)st.st_blocks * 512;
                total += growth(w, w->seen);
                i++;
        }
        /* Unnamed disk files the tree holds that it did not open through us
         * (inherited, received): counted whole. */
        for (size_t i = 0; i < p->unnamed.n; i++)
                if (!p->unnamed.v[i].memory && !held_has(&watched, p->unnamed.v[i].dev, p->unnamed.v[i].ino))
                        total += p->unnamed.v[i].bytes;
        held_free(&watched);
        W.used = total;
        total += W.names;
        pthread_mutex_unlock(&W.lock);
        return total;
}

/* --- memory --- */

/* Blocks of the files under dirfd (the session's private tmpfs dirs). */
/* Blocks and names below the directory at (a private /tmp or /dev/shm on
 * tmpfs). UINT64_MAX when a directory there cannot be looked into (a
 * mode the guest took its own search right from: the sentry has no
 * capability to pass it) or is nested past DIR_DEPTH_MAX: what is below
 * would be memory nobody counts. */
#define DIR_DEPTH_MAX 256

static uint64_t dir_blocks(int at, int depth)
{
        uint64_t total = 0;
        int fd = openat(at, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;

        if (!d) {
                if (fd >= 0)
                        close(fd);
                return errno == EACCES || errno == EPERM ? UINT64_MAX : 0;
        }
        while ((de = readdir(d)) && total != UINT64_MAX) {
                struct stat st;
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                /* A name costs kernel memory (inode, dentry) whatever its
                 * blocks: a million symlinks in /dev/shm took a GiB. */
                total += (uint64_t)st.st_blocks * 512 + NAME_MEMORY;
                if (!S_ISDIR(st.st_mode))
                        continue;
                if (depth >= DIR_DEPTH_MAX) {
                        total = UINT64_MAX;
                        break;
                }
                int sub = openat(dirfd(d), de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0) {
                        uint64_t below = dir_blocks(sub, depth + 1);
                        total = below == UINT64_MAX ? UINT64_MAX : total + below;
                        close(sub);
                }
        }
        closedir(d);
        return total;
}

/* Anonymous and shared-memory pages of one process, its proportional
 * share (Pss_Anon + Pss_Shmem), or its RSS when the kernel says no more.
 * A process gone, or one that has let go of its memory (exiting, a
 * zombie: ESRCH), holds none: its RSS, read a moment before, would count
 * the pages it shared in full (four children of one parent ending
 * together counted four times over, and limits_ptrace saw a session of
 * 330 MiB killed at --max-memory=1G). */
static uint64_t pss_of(pid_t pid, pid_t tid, uint64_t rss_pages)
{
        char path[80], buf[4096];
        const char *p;
        uint64_t kb = 0;
        bool any = false;
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/task/%d/smaps_rollup", (int)pid, (int)tid);
        n = read_file_at(AT_FDCWD, path, buf, sizeof(buf));
        if (n == 0 || n == -ENOENT || n == -ESRCH)
                return 0;
        if (n < 0)
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

/* The kernel's memory for one semaphore: its struct sem, a cache line
 * (measured: 100 sets of 32,000 took 190 MiB). */
#define SEM_BYTES 64

/* System V objects the tree made in no process's memory: segments no
 * process has attached (those attached are in its processes' memory), and
 * semaphore sets, kernel memory only, which at the kernel's largest
 * (semmsl, 32,000) hold 2 MiB a set and 2 GiB in the sentry's 1,024. */
static uint64_t sysv_bytes(struct sentry *s)
{
        uint64_t total = 0;

        for (unsigned i = 0; i < s->ipc_n[0]; i++) {
                struct shmid_ds ds;
                if (shmctl(s->ipc_ids[0][i], IPC_STAT, &ds) == 0 && ds.shm_nattch == 0)
                        total += ds.shm_segsz;
        }
        for (unsigned i = 0; i < s->ipc_n[1]; i++) {
                struct semid_ds ds;
                if (semctl(s->ipc_ids[1][i], 0, IPC_STAT, &ds) == 0)
                        total += ds.sem_nsems * SEM_BYTES;
        }
        return total;
}

/* Bytes queued in the tree's sockets. Data written and not yet read sits
 * in kernel memory no process maps, up to each socket's buffers (a unix
 * pair some hundreds of KiB, a TCP connection on loopback megabytes): a
 * tree of socket pairs held a GiB past --max-memory=64M. sock_diag dumps
 * every unix, TCP and UDP socket of the host (the monitor's own netlink
 * socket, made before the sentry confines itself) with its memory, and
 * those whose inode the tree holds count: what they have received and
 * what they have sent that still waits. */
static int diag = -1;
static pthread_mutex_t diag_lock = PTHREAD_MUTEX_INITIALIZER;

/* The sockets the guest passed in messages (SCM_RIGHTS, which the sentry
 * sends). The kernel bounds the fds in flight by the sender's fd limit,
 * and the sender is the sentry, whose limit is its hard one: 8,000
 * sockets, each with 200 KiB queued and no fd left, held 1.8 GiB past
 * --max-memory=64M and --max-fds=64. A socket in flight is in no
 * process's fds but is in sock_diag's dump while it exists: the monitor
 * counts it, forgets it once it is gone, and says how many the tree does
 * not hold (in flight), which --max-fds bounds as the kernel would if
 * the guest sent them itself. */
#define PASSED_MAX 65536

static struct {
        pthread_mutex_t lock;
        struct held_set set; /* passed and not yet seen gone (dev 0, the inode) */
        size_t in_flight;    /* of them, held by no guest process at the last whole pass */
        size_t since;        /* passed since that pass */
} PS = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Memory files (memfds) the guest passed in messages: one whose only
 * reference is a message never received is in no process's fds (a
 * reviewer parked 400 MB past --max-memory=100M). Each is kept (a copy of
 * what the sentry sent) and counted while no guest process is seen
 * holding it; one received and closed between two looks is then kept,
 * and counted, until the session ends: over-counted, never under. */
#define PASSED_MEM_MAX 4096

static struct {
        pthread_mutex_t lock;
        struct passed_mem {
                dev_t dev;
                ino_t ino;
                int fd;
        } v[PASSED_MEM_MAX];
        size_t n;
} PM = { .lock = PTHREAD_MUTEX_INITIALIZER };

static long keep_passed_memory(struct sentry_call *c, int fd, const struct stat *st)
{
        long r = 0;

        pthread_mutex_lock(&PM.lock);
        for (size_t i = 0; i < PM.n; i++)
                if (PM.v[i].dev == st->st_dev && PM.v[i].ino == st->st_ino)
                        goto out;
        if (PM.n == PASSED_MEM_MAX) {
                r = -ETOOMANYREFS;
                goto out;
        }
        PM.v[PM.n] = (struct passed_mem){ st->st_dev, st->st_ino, fcntl(fd, F_DUPFD_CLOEXEC, 3) };
        if (PM.v[PM.n].fd < 0)
                r = -ENOMEM;
        else
                PM.n++;
out:
        pthread_mutex_unlock(&PM.lock);
        if (r < 0)
                sentry_decide(c, "deny", "limit:fds");
        return r;
}

/* What the kept memory files no guest process holds (by the pass so far)
 * take. */
static uint64_t passed_memory_bytes(const struct held_set *unnamed)
{
        uint64_t total = 0;
        struct stat st;

        pthread_mutex_lock(&PM.lock);
        for (size_t i = 0; i < PM.n; i++)
                if (!held_has(unnamed, PM.v[i].dev, PM.v[i].ino) && fstat(PM.v[i].fd, &st) == 0 &&
                    st.st_nlink == 0) /* (a named one is counted where its name is) */
                        total += (uint64_t)st.st_blocks * 512;
        pthread_mutex_unlock(&PM.lock);
        return total;
}

static void passed_recount(void);

long sentry_may_pass(struct sentry_call *c, int fd)
{
        size_t budget = c->s->limits.max_fds ? c->s->limits.max_fds : PASSED_MAX;
        struct stat st;
        long r = 0;

        if (!c->s->limits.max_memory || fstat(fd, &st) < 0)
                return 0;
        /* (Named or not: a tmpfs file passed and then unlinked is memory
         * only the message holds; counted once it has no name.) */
        if (S_ISREG(st.st_mode) && is_memory_dev(st.st_dev, fd, NULL))
                return keep_passed_memory(c, fd, &st);
        if (!S_ISSOCK(st.st_mode))
                return 0;
        st = (struct stat){ .st_ino = st.st_ino };
        pthread_mutex_lock(&PS.lock);
        if (PS.set.n >= PASSED_MAX || PS.in_flight + PS.since > budget) {
                /* Counted since the monitor last looked: ask again now. */
                pthread_mutex_unlock(&PS.lock);
                passed_recount();
                pthread_mutex_lock(&PS.lock);
        }
        /* (As the kernel: refused once more than the limit are in flight.) */
        if (PS.set.n >= PASSED_MAX || PS.in_flight + PS.since > budget) {
                r = -ETOOMANYREFS;
        } else if (!held_has(&PS.set, 0, st.st_ino)) {
                held_add(&PS.set, &st, false);
                PS.since++;
        }
        pthread_mutex_unlock(&PS.lock);
        if (r < 0)
                sentry_decide(c, "deny", "limit:fds");
        return r;
}

/* What one dump finds: the bytes of the sockets the tree holds or passed,
 * which of those passed are still there, and how many of them it does not
 * hold. */
struct sock_sum {
        const struct ino_set *held;
        const struct held_set *passed;
        struct held_set seen;
        uint64_t bytes;
        size_t in_flight;
        bool unix_family; /* of the dump under way */
};

/* The payload of attribute type of one dump message, or NULL. */
static const void *diag_attr(const struct nlmsghdr *h, size_t hdr, unsigned short type, size_t min)
{
        const struct rtattr *a = (const struct rtattr *)((const char *)NLMSG_DATA(h) + NLMSG_ALIGN(hdr));
        int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(NLMSG_ALIGN(hdr));

        for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
                if (a->rta_type == type && RTA_PAYLOAD(a) >= min)
                        return RTA_DATA(a);
        return NULL;
}

/* One socket of a dump: what it received and what it sent that still
 * waits, and for a unix socket in flight, its receive queue too (charged
 * to its peer, which may be gone). */
static void sum_socket(struct sock_sum *u, const struct nlmsghdr *h, uint64_t ino, bool unix_family)
{
        size_t hdr = unix_family ? sizeof(struct unix_diag_msg) : sizeof(struct inet_diag_msg);
        bool held = ino_has(u->held, ino), passed = held_has(u->passed, 0, ino);
        const uint32_t *m;
        const struct unix_diag_rqlen *q;

        if (!held && !passed)
                return;
        m = diag_attr(h, hdr, unix_family ? UNIX_DIAG_MEMINFO : INET_DIAG_SKMEMINFO,
                      SK_MEMINFO_WMEM_QUEUED * sizeof(uint32_t) + 4);
        if (m)
                u->bytes += (uint64_t)m[SK_MEMINFO_RMEM_ALLOC] + m[SK_MEMINFO_WMEM_ALLOC] +
                            m[SK_MEMINFO_WMEM_QUEUED];
        if (!passed)
                return;
        held_add(&u->seen, &(struct stat){ .st_ino = (ino_t)ino }, false);
        if (held)
                return;
        u->in_flight++;
        if (unix_family && (q = diag_attr(h, hdr, UNIX_DIAG_RQLEN, sizeof(*q))))
                u->bytes += q->udiag_rqueue;
}

/* One dump: req (len bytes, after the netlink header) of sock_diag. */
static void sum_dumped(const struct nlmsghdr *h, void *arg)
{
        struct sock_sum *u = arg;

        if (u->unix_family)
                sum_socket(u, h, ((const struct unix_diag_msg *)NLMSG_DATA(h))->udiag_ino, true);
        else
                sum_socket(u, h, ((const struct inet_diag_msg *)NLMSG_DATA(h))->idiag_inode, false);
}

static int diag_dump(const void *req, size_t len, struct sock_sum *u)
{
        u->unix_family = ((const unsigned char *)req)[0] == AF_UNIX;
        return sock_diag_dump(diag, req, len, sum_dumped, u);
}

/* Every unix, TCP, UDP and UDP-Lite socket of the host (the guest's
 * own UDP-Lite servers on loopback answer it: their queues hold memory
 * too). 0 when the unix dump,
 * where a socket in flight is, was whole: what it did not find is gone. */
static int diag_dump_all(struct sock_sum *u)
{
        struct unix_diag_req q = { .sdiag_family = AF_UNIX,
                                   .udiag_states = ~0U,
                                   .udiag_show = UDIAG_SHOW_MEMINFO | UDIAG_SHOW_RQLEN };
        static const unsigned char families[] = { AF_INET, AF_INET6 },
                                   protocols[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE };
        int r = diag_dump(&q, sizeof(q), u);

        for (size_t f = 0; f < sizeof(families); f++)
                for (size_t p = 0; p < sizeof(protocols); p++) {
                        struct inet_diag_req_v2 i = { .sdiag_family = families[f],
                                                      .sdiag_protocol = protocols[p],
                                                      .idiag_ext = 1 << (INET_DIAG_SKMEMINFO - 1),
                                                      .idiag_states = ~0U };
                        diag_dump(&i, sizeof(i), u);
                }
        return r;
}

/* Bytes queued in the sockets the tree holds (socks) or passed in
 * messages; the passed ones no dump finds are forgotten, and after a
 * whole pass (complete), those the tree does not hold are in flight. */
static uint64_t socket_bytes(const struct ino_set *socks, bool complete)
{
        struct held_set passed;
        struct sock_sum u = { .held = socks, .passed = &passed };
        size_t since;
        int r = -EAGAIN;

        /* Sockets passed during the dump go to a new set, kept whole.
         * (One dump at a time: the monitor's, or a sender's recount.) */
        pthread_mutex_lock(&diag_lock);
        pthread_mutex_lock(&PS.lock);
        passed = PS.set;
        since = PS.since;
        PS.set = (struct held_set){ 0 };
        pthread_mutex_unlock(&PS.lock);
        if (diag >= 0 && (socks->n || passed.n))
                r = diag_dump_all(&u);
        pthread_mutex_lock(&PS.lock);
        const struct held_set *keep = r < 0 ? &passed : &u.seen;
        for (size_t i = 0; i < keep->n; i++)
                held_add(&PS.set, &(struct stat){ .st_ino = keep->v[i].ino }, false);
        if (r == 0 && complete) {
                PS.in_flight = u.in_flight;
                PS.since -= since;
        }
        pthread_mutex_unlock(&PS.lock);
        pthread_mutex_unlock(&diag_lock);
        held_free(&passed);
        held_free(&u.seen);
        return u.bytes;
}

/* The passed sockets still there, asked now: those gone are forgotten,
 * and no more are in flight than are there. (A burst of sockets passed
 * and received at once outran the monitor's count.) */
static void passed_recount(void)
{
        struct ino_set none = { 0 };

        socket_bytes(&none, false);
        pthread_mutex_lock(&PS.lock);
        if (PS.since > PS.set.n)
                PS.since = PS.set.n;
        if (PS.in_flight > PS.set.n)
                PS.in_flight = PS.set.n;
        pthread_mutex_unlock(&PS.lock);
}

struct memory_sources {
        int tmpfs_dirs[WALK_MAPS]; /* the private dirs that are on tmpfs, or -1 */
};

static uint64_t memory_now(struct sentry *s, const struct tree *t, const struct held_set *unnamed,
                           uint64_t sockets, const struct memory_sources *m, bool precise)
{
        uint64_t total = sysv_bytes(s) + sockets + passed_memory_bytes(unnamed);
        long page = sysconf(_SC_PAGESIZE);

        for (size_t i = 0; i < unnamed->n; i++)
                if (unnamed->v[i].memory)
                        total += unnamed->v[i].bytes;
        for (int i = 0; i < WALK_MAPS; i++)
                if (m->tmpfs_dirs[i] >= 0) {
                        uint64_t b = dir_blocks(m->tmpfs_dirs[i], 0);
                        if (b == UINT64_MAX)
                                return UINT64_MAX; /* cannot be measured */
                        total += b;
                }
        for (size_t i = 0; i < t->n; i++)
                if (t->rows[i].live && t->rows[i].pid != s->self)
                        total += precise ? pss_of(t->rows[i].pid, t->rows[i].mm_tid, t->rows[i].rss_pages)
                                         : t->rows[i].rss_pages * (uint64_t)page;
        return total;
}

static void kill_tree(struct sentry *s);

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
        kill_tree(s);
}

/* --- the monitor --- */

/* Send sig to every live process the walk finds (each checked by its
 * start time to be the one found). How many were signalled. */
static unsigned signal_tree(struct sentry *s, int sig)
{
        struct tree t;
        unsigned n = 0;

        if (tree_scan(s->self, &t) < 0)
                return 0;
        for (size_t i = 0; i < t.n; i++) {
                unsigned long long start = 0;
                char state = '?';
                if (t.rows[i].pid == s->self || !t.rows[i].live)
                        continue;
                int pidfd = (int)syscall(SYS_pidfd_open, t.rows[i].pid, 0);
                if (pidfd < 0)
                        continue;
                if (read_start(t.rows[i].pid, &state, &start) == 0 && start == t.rows[i].start &&
                    !(sig == SIGSTOP && (state == 'T' || state == 't')) &&
                    syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) == 0)
                        n++;
                close(pidfd);
        }
        tree_free(&t);
        return n;
}

/* Stop the whole tree: first freeze it (a stopped process forks no more;
 * round after round, with no pause, until a walk finds none left to
 * stop), then kill it, found by the walk down the tree, whose cost is
 * the tree's where a sweep of /proc reads every process on the host for
 * each of a fork bomb's thousands. The sweep comes last, for one that
 * left the walk's sight in a reparenting. */
static void kill_tree(struct sentry *s)
{
        for (int round = 0; round < 1000 && signal_tree(s, SIGSTOP) > 0; round++)
                ;
        for (int round = 0; round < 1000 && signal_tree(s, SIGKILL) > 0; round++)
                ;
        sentry_kill_descendants(s->self, 0);
}

static void stop_session(struct sentry *s, int which, const char *rule, const char *extra)
{
        struct audit_record r = { .decision = "kill", .rule = rule, .extra = extra };

        audit_write(&s->audit, &r);
        sentry_report_limit(which);
        kill_tree(s);
}

static struct memory_sources M = { { -1, -1 } };

static int check_memory(struct sentry *s, const struct fd_pass *p, bool complete, const struct tree *t,
                        char *extra, size_t cap, const char **rule)
{
        const struct session_limits *l = &s->limits;
        uint64_t sockets = socket_bytes(&p->socks, complete);
        uint64_t m = memory_now(s, t, &p->unnamed, sockets, &M, false);

        /* RSS counts a page shared by several processes in each: past the
         * limit, ask for the proportional shares. */
        if (m > l->max_memory && m != UINT64_MAX)
                m = memory_now(s, t, &p->unnamed, sockets, &M, true);
        if (m <= l->max_memory)
                return 0;
        if (m == UINT64_MAX) {
                /* What cannot be measured cannot be allowed. */
                snprintf(extra, cap,
                         "\"error\":\"a directory of the private /tmp or /dev/shm cannot be looked into\"");
                *rule = "limit:measure";
                return LIMIT_MEMORY;
        }
        snprintf(extra, cap, "\"limit\":%llu,\"memory\":%llu", (unsigned long long)l->max_memory,
                 (unsigned long long)m);
        *rule = "limit:memory";
        return LIMIT_MEMORY;
}

static int check_write(struct sentry *s, const struct fd_pass *p, bool complete, char *extra, size_t cap,
                       const char **rule)
{
        uint64_t w = written_now(p, complete);

        if (w <= s->limits.max_write)
                return 0;
        snprintf(extra, cap, "\"limit\":%llu,\"written\":%llu", (unsigned long long)s->limits.max_write,
                 (unsigned long long)w);
        *rule = "limit:write";
        return LIMIT_WRITE;
}

/* Memory and writes, by this tick's tree and what the pass over the
 * tree's fds has found so far (its sums can only grow as it goes on),
 * after looking on until the clock reads until. The LIMIT_* passed, or 0. */
static int check_held(struct sentry *s, struct fd_pass *p, const struct tree *t, uint64_t until, char *extra,
                      size_t cap, const char **rule)
{
        const struct session_limits *l = &s->limits;
        static unsigned hidden_passes;
        int which = 0, r;

        if (!p->on)
                pass_begin(p, t, l->max_write, l->max_memory);
        r = pass_step(p, s->self, until);
        /* What cannot be measured cannot be allowed for long. */
        if (r == -E2BIG) {
                snprintf(extra, cap, "\"error\":\"the guest holds more than %d open files\"", PASS_FDS_MAX);
                which = -1;
        } else if (r > 0 && p->hidden && ++hidden_passes >= MEASURE_FAILURES_MAX) {
                snprintf(extra, cap, "\"error\":\"a guest process hides what it holds (not dumpable)\"");
                which = -1;
        }
        if (which < 0) {
                *rule = "limit:measure";
                return l->max_memory ? LIMIT_MEMORY : LIMIT_WRITE;
        }
        if (l->max_memory)
                which = check_memory(s, p, r > 0, t, extra, cap, rule);
        if (!which && l->max_write)
                which = check_write(s, p, r > 0, extra, cap, rule);
        if (r > 0)
                pass_end(p);
        return which;
}

static int check_procs(struct sentry *s, const struct tree *t, char *extra, size_t cap, const char **rule)
{
        unsigned long procs = 0, tasks = 0;

        /* Processes (zombies too: they hold pids). Threads are held by the
         * kernel backstop (8 per process allowed) and by --max-memory: a
         * build's compilers each run many. */
        for (size_t i = 0; i < t->n; i++)
                if (t->rows[i].pid != s->self) {
                        procs++;
                        tasks += t->rows[i].threads;
                }
        if (procs <= s->limits.max_procs)
                return 0;
        snprintf(extra, cap, "\"limit\":%u,\"processes\":%lu,\"tasks\":%lu", s->limits.max_procs, procs,
                 tasks);
        *rule = "limit:procs";
        return LIMIT_PROCS;
}

/* One look at every limit, with the pass over the tree's fds carried on
 * until the clock reads until. Returns the LIMIT_* passed, or 0. */
static int check(struct sentry *s, struct fd_pass *p, uint64_t deadline, uint64_t until, char *extra,
                 size_t cap, const char **rule)
{
        const struct session_limits *l = &s->limits;
        static unsigned failures;
        struct tree t;
        int which = 0;

        if (deadline && now_ms() >= deadline) {
                snprintf(extra, cap, "\"timeout_ms\":%llu", (unsigned long long)l->timeout_ms);
                *rule = "limit:timeout";
                return LIMIT_TIMEOUT;
        }
        if (!l->max_procs && !l->max_memory && !l->max_write)
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
        if (l->max_procs)
                which = check_procs(s, &t, extra, cap, rule);
        if (!which && (l->max_memory || l->max_write))
                which = check_held(s, p, &t, until, extra, cap, rule);
        tree_free(&t);
        return which;
}

static void *monitor(void *arg)
{
        struct sentry *s = arg;
        uint64_t deadline = s->limits.timeout_ms ? now_ms() + s->limits.timeout_ms : 0;
        struct fd_pass pass = { 0 };
        char extra[160];
        const char *rule = NULL;
        int which;

        interpose_crash_thread();
        for (;;) {
                struct timespec ts = { 0, MONITOR_MS * 1000000L };
                nanosleep(&ts, NULL);
                /* (Records the resolver thread writes, too.) */
                sentry_audit_grew(s);
                which = check(s, &pass, deadline, now_ms() + PASS_SLICE_MS, extra, sizeof(extra), &rule);
                if (which)
                        break;
        }
        stop_session(s, which, rule, extra);
        /* Until nothing of the tree is left: a process forked during the
         * sweep, or one the kernel was slow to end, is killed next time. */
        for (;;) {
                struct timespec ts = { 0, MONITOR_MS * 1000000L };
                nanosleep(&ts, NULL);
                kill_tree(s);
        }
        return NULL;
}

int sentry_limits_final(struct sentry *s)
{
        struct fd_pass pass = { 0 };
        char extra[160];
        const char *rule = NULL;
        int which;

        if (!s->limits.max_write)
                return 0;
        /* The guest may have ended between two looks: one whole pass. */
        which = check(s, &pass, 0, UINT64_MAX, extra, sizeof(extra), &rule);
        pass_end(&pass);
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
        struct rlimit rl;

        if (!l->timeout_ms && !l->max_procs && !l->max_memory && !l->max_write && !l->max_audit)
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
        return start_thread(NULL, 128 * 1024, monitor, s);
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
        /* The monitor's own: the handlers' netlink socket is theirs. */
        if (s->limits.max_memory) {
                struct timeval tv = { .tv_sec = 1 };
                diag = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
                if (diag >= 0)
                        setsockopt(diag, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        }
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
        /* No core files: the kernel writes a crashing process's core into
         * its cwd itself, past the sentry, the policy and --max-write, so
         * a guest that raised its limit and crashed in a directory it may
         * only enter (/usr, /etc, /) would write there. A hard limit of 0
         * the guest cannot raise (no CAP_SYS_RESOURCE). */
        struct rlimit none = { 0, 0 };
        int r = setrlimit(RLIMIT_CORE, &none) < 0 ? -errno : 0;

        if (l->max_fds && r == 0)
                r = cap_limit(RLIMIT_NOFILE, l->max_fds);
        if (l->max_memory && r == 0)
                r = cap_limit(RLIMIT_DATA, l->max_memory);
        /* For a user other than root the kernel counts this user's tasks
         * too: a backstop well above the limit (the sentry's count is the
         * limit), over what the user runs already, loose enough that the
         * user's other work, another session included, does not trip it
         * (root's tasks are not counted by the kernel). */
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
                r = cap_limit(RLIMIT_NPROC, have + 8ULL * l->max_procs + 1024);
        }
        return r;
}

/* --- a pids cgroup, where this user may make one --- */

/* The directory of this process's cgroup for the pids controller: cgroup
 * v2 (a "0::" line, with pids among the controllers there) or v1 (a
 * "N:pids:" line). 0 or -errno. */
static int own_pids_cgroup(char *dir, size_t cap, bool *v2)
{
        char self[4096], *line, *save = NULL;
        const char *v2path = NULL, *v1path = NULL;

        if (read_file_at(AT_FDCWD, "/proc/self/cgroup", self, sizeof(self)) < 0)
                return -ENOENT;
        for (line = strtok_r(self, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = '\0';
                if (!strcmp(c1 + 1, "") && !strncmp(line, "0", 1))
                        v2path = c2 + 1;
                else if (!strcmp(c1 + 1, "pids") || strstr(c1 + 1, ",pids") || !strncmp(c1 + 1, "pids,", 5))
                        v1path = c2 + 1;
        }
        if (v1path) {
                *v2 = false;
                snprintf(dir, cap, "/sys/fs/cgroup/pids%s", v1path);
                return access(dir, W_OK) == 0 ? 0 : -EACCES;
        }
        if (v2path) {
                char ctl[PATH_MAX], list[512];
                *v2 = true;
                snprintf(dir, cap, "/sys/fs/cgroup%s", v2path);
                snprintf(ctl, sizeof(ctl), "%s/cgroup.controllers", dir);
                if (read_file_at(AT_FDCWD, ctl, list, sizeof(list)) < 0 || !strstr(list, "pids"))
                        return -ENOENT;
                return access(dir, W_OK) == 0 ? 0 : -EACCES;
        }
        return -ENOENT;
}

static int write_str(const char *path, const char *s)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        int r = 0;

        if (fd < 0)
                return -errno;
        if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
                r = -errno;
        close(fd);
        return r;
}

/* The cgroups of sessions that ended without removing theirs (a launcher
 * killed with SIGKILL): an empty one is removed by the next session (a
 * cgroup in use cannot be removed; one younger than a minute may be
 * another session's, made but not yet joined). */
static void cgroup_sweep(const char *base)
{
        DIR *d = opendir(base);
        struct dirent *de;
        time_t now = time(NULL);

        if (!d)
                return;
        while ((de = readdir(d))) {
                struct stat st;
                if (strncmp(de->d_name, "interpose-", 10) != 0 ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
                    st.st_mtime > now - 60)
                        continue;
                unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
        }
        closedir(d);
}

int session_cgroup_create(const struct session_limits *l, const char *session_id, char *path, size_t cap)
{
        char base[PATH_MAX], file[PATH_MAX + 32], max[32];
        bool v2 = false;

        path[0] = '\0';
        /* Other users have RLIMIT_NPROC for a backstop; root has none but
         * this (joining a cgroup costs a wait for an RCU grace period,
         * 0.1 to 20 ms depending on what the host just did). */
        if (!l->max_procs || getuid() != 0 || own_pids_cgroup(base, sizeof(base), &v2) < 0)
                return -ENOENT;
        if (v2) {
                /* Enabling a controller for children fails in a cgroup
                 * that holds processes (other than the root): then none. */
                snprintf(file, sizeof(file), "%s/cgroup.subtree_control", base);
                if (write_str(file, "+pids") < 0)
                        return -EBUSY;
        }
        if ((size_t)snprintf(path, cap, "%s/interpose-%s", base, session_id) >= cap ||
            mkdir(path, 0755) < 0) {
                path[0] = '\0';
                return -errno;
        }
        /* Well above the limit, in tasks (threads count here): the monitor
         * stops the session past --max-procs processes; this holds a fork
         * bomb, or a thread bomb, between two of its looks. */
        snprintf(file, sizeof(file), "%s/pids.max", path);
        snprintf(max, sizeof(max), "%llu", 8ULL * l->max_procs + 1024);
        if (write_str(file, max) < 0) {
                rmdir(path);
                path[0] = '\0';
                return -EIO;
        }
        return 0;
}

void session_cgroup_sweep(const char *path)
{
        char base[PATH_MAX], *slash;

        if (!path || !path[0] || strlen(path) >= sizeof(base))
                return;
        strcpy(base, path);
        if ((slash = strrchr(base, '/')) && slash != base) {
                *slash = '\0';
                cgroup_sweep(base);
        }
}

int session_cgroup_join(const char *path)
{
        char file[PATH_MAX + 32];
        int r;

        if (!path || !path[0])
                return 0;
        /* cgroup v1: "0" written to tasks moves the calling thread alone,
         * which skips the write lock on every thread group's cgroup
         * membership that a move by cgroup.procs takes (an RCU grace
         * period: 5 to 30 ms of a 6 ms start, measured here). The caller
         * is a process of one thread (just forked), so the thread is the
         * whole process. v2 has no tasks file: cgroup.procs there. */
        snprintf(file, sizeof(file), "%s/tasks", path);
        if ((r = write_str(file, "0")) != -ENOENT)
                return r;
        snprintf(file, sizeof(file), "%s/cgroup.procs", path);
        return write_str(file, "0");
}

void session_cgroup_remove(const char *path)
{
        char file[PATH_MAX + 32], *pids;

        if (!path || !path[0])
                return;
        snprintf(file, sizeof(file), "%s/cgroup.procs", path);
        /* A process reaped a moment ago may still hold it: short waits. */
        for (int round = 0; round < 2000 && rmdir(path) < 0 && errno == EBUSY; round++) {
                /* Whatever is still in it (a process the sweep missed) dies. */
                if ((pids = read_all(file))) {
                        for (char *p = pids, *end; *p; p = end) {
                                long pid = strtol(p, &end, 10);
                                if (end == p)
                                        break;
                                if (pid > 0)
                                        kill((pid_t)pid, SIGKILL);
                        }
                        free(pids);
                }
                struct timespec ts = { 0, 100 * 1000L };
                nanosleep(&ts, NULL);
        }
}
