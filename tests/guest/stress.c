/* SPDX-License-Identifier: MIT */
/*
 * Many callers at once: 64 processes (and, in "threads", 8 threads in each
 * of 8 processes) make 1,000 trapped calls each in parallel, alternating an
 * answer the sentry writes into memory (uname), an fd it installs (open of
 * /dev/null) and one the kernel makes after a check (getcwd is in memory;
 * close is the kernel's). Every answer must be right and none lost: each
 * worker counts its own and reports through its exit status.
 *
 * "paths": 16 processes of 4 threads resolve names at once, each process
 * from a cwd of its own and each thread from a directory fd of its own,
 * among 16 directories holding a file f and a link l -> f: stat, open and
 * fstat, readlink, relative and absolute. Each answer must be the object
 * of the caller's own directory (its inode, learnt before), so a sentry
 * serving several callers at once that mixed up their cwds, directory fds
 * or cached names fails here. A stat into a bad buffer is EFAULT.
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

#define CALLS 1000

static char want_node[65];

/* 0 when every call was answered right, else how many were not. */
static int work(void)
{
        int bad = 0;

        for (int i = 0; i < CALLS; i++) {
                if (i % 2 == 0) {
                        struct utsname u;
                        memset(&u, 0, sizeof(u));
                        if (raw(SYS_uname, (long)&u, 0, 0, 0, 0, 0) != 0 ||
                            strcmp(u.nodename, want_node) != 0)
                                bad++;
                } else {
                        long fd = raw(SYS_openat, AT_FDCWD, (long)"/dev/null", O_RDONLY | O_CLOEXEC, 0, 0, 0);
                        char b;
                        if (fd < 0 || read((int)fd, &b, 1) != 0)
                                bad++;
                        if (fd >= 0)
                                close((int)fd);
                }
        }
        return bad;
}

static void *thread_main(void *arg)
{
        (void)arg;
        return (void *)(long)work();
}

/* The wrong answers the threads t[0..n) counted. */
static long joined(pthread_t *t, int n)
{
        long bad = 0;

        for (int i = 0; i < n; i++) {
                void *r;
                pthread_join(t[i], &r);
                bad += (long)r;
        }
        return bad;
}

/* A worker process ends with its count of wrong answers as its status. */
static void worker_exit(long bad)
{
        _exit(bad > 249 ? 249 : (int)bad);
}

static void wait_workers(const pid_t *pids, int n)
{
        for (int p = 0; p < n; p++) {
                int st;
                CHECK(waitpid(pids[p], &st, 0) == pids[p] && WIFEXITED(st) && WEXITSTATUS(st) == 0,
                      "worker %d: status %#x (exit code = wrong answers)", p, st);
        }
}

static int run(int procs, int threads)
{
        pid_t pids[64];
        struct utsname u;

        uname(&u);
        snprintf(want_node, sizeof(want_node), "%s", u.nodename);
        for (int p = 0; p < procs; p++) {
                pids[p] = fork();
                if (pids[p] < 0)
                        return EXIT_HARD;
                if (pids[p] == 0) {
                        long bad = 0;
                        pthread_t t[8];
                        for (int i = 0; i < threads; i++)
                                pthread_create(&t[i], NULL, thread_main, NULL);
                        bad += work();
                        worker_exit(bad + joined(t, threads));
                }
        }
        wait_workers(pids, procs);
        return guest_result();
}

#define DIRS 16
static char top[PATH_MAX];
static ino_t inos[DIRS];

/* The wrong answers among CALLS path calls from dir (this process's cwd)
 * and other (a directory fd of this thread's). */
static int paths_work(int dir, int other)
{
        char name[PATH_MAX + 16], link[8];
        struct stat st;
        int bad = 0, dfd;

        snprintf(name, sizeof(name), "%s/d%d", top, other);
        dfd = open(name, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return CALLS;
        for (int i = 0; i < CALLS; i++) {
                int k = (i / 4) % DIRS;
                long fd, n;

                switch (i % 4) {
                case 0:
                        if (raw(SYS_newfstatat, AT_FDCWD, (long)"f", (long)&st, 0, 0, 0) != 0 ||
                            st.st_ino != inos[dir])
                                bad++;
                        break;
                case 1:
                        if (raw(SYS_newfstatat, dfd, (long)"l", (long)&st, 0, 0, 0) != 0 ||
                            st.st_ino != inos[other])
                                bad++;
                        break;
                case 2:
                        fd = raw(SYS_openat, AT_FDCWD, (long)"l", O_RDONLY | O_CLOEXEC, 0, 0, 0);
                        if (fd < 0 || fstat((int)fd, &st) != 0 || st.st_ino != inos[dir])
                                bad++;
                        if (fd >= 0)
                                close((int)fd);
                        break;
                default:
                        snprintf(name, sizeof(name), "%s/d%d/l", top, k);
                        n = raw(SYS_readlink, (long)name, (long)link, sizeof(link), 0, 0, 0);
                        if (n != 1 || link[0] != 'f')
                                bad++;
                        snprintf(name, sizeof(name), "%s/d%d/f", top, k);
                        if (raw(SYS_newfstatat, AT_FDCWD, (long)name, (long)&st, AT_SYMLINK_NOFOLLOW, 0, 0) !=
                                    0 ||
                            st.st_ino != inos[k])
                                bad++;
                }
        }
        close(dfd);
        return bad;
}

struct paths_arg {
        int dir, other;
};

static void *paths_thread(void *arg)
{
        struct paths_arg *a = arg;
        return (void *)(long)paths_work(a->dir, a->other);
}

static int paths(void)
{
        char name[PATH_MAX + 16];
        pid_t pids[DIRS];
        struct stat st;
        int fd;

        const char *tmp = getenv("TMPDIR");

        /* $TMPDIR: a cwd in the guest's /tmp is refused (README). */
        snprintf(top, sizeof(top), "%s/guest-stress.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(top))
                return EXIT_HARD;
        for (int d = 0; d < DIRS; d++) {
                snprintf(name, sizeof(name), "%s/d%d", top, d);
                if (mkdir(name, 0755) != 0)
                        return EXIT_HARD;
                snprintf(name, sizeof(name), "%s/d%d/f", top, d);
                fd = open(name, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
                if (fd < 0 || fstat(fd, &st) != 0)
                        return EXIT_HARD;
                close(fd);
                inos[d] = st.st_ino;
                snprintf(name, sizeof(name), "%s/d%d/l", top, d);
                if (symlink("f", name) != 0)
                        return EXIT_HARD;
        }
        /* A stat answer that cannot be written is EFAULT, whenever the
         * sentry writes it. */
        snprintf(name, sizeof(name), "%s/d0/f", top);
        CHECK(raw(SYS_newfstatat, AT_FDCWD, (long)name, 16, 0, 0, 0) == -EFAULT, "stat into a bad buffer");
        CHECK(raw(SYS_newfstatat, 1, (long)"", 16, AT_EMPTY_PATH, 0, 0) == -EFAULT,
              "fstat into a bad buffer");
        CHECK(raw(SYS_statx, AT_FDCWD, (long)name, 0, STATX_BASIC_STATS, 16, 0) == -EFAULT,
              "statx into a bad buffer");
        for (int p = 0; p < DIRS; p++) {
                pids[p] = fork();
                if (pids[p] < 0)
                        return EXIT_HARD;
                if (pids[p] == 0) {
                        struct paths_arg a[3];
                        pthread_t t[3];
                        long bad = 0;

                        snprintf(name, sizeof(name), "%s/d%d", top, p);
                        if (chdir(name) != 0)
                                _exit(250);
                        for (int i = 0; i < 3; i++) {
                                a[i] = (struct paths_arg){ p, (p + 1 + i) % DIRS };
                                pthread_create(&t[i], NULL, paths_thread, &a[i]);
                        }
                        bad += paths_work(p, (p + 5) % DIRS);
                        worker_exit(bad + joined(t, 3));
                }
        }
        wait_workers(pids, DIRS);
        for (int d = 0; d < DIRS; d++) {
                snprintf(name, sizeof(name), "%s/d%d/f", top, d);
                unlink(name);
                snprintf(name, sizeof(name), "%s/d%d/l", top, d);
                unlink(name);
                snprintf(name, sizeof(name), "%s/d%d", top, d);
                rmdir(name);
        }
        rmdir(top);
        return guest_result();
}

int main(int argc, char **argv)
{
        const char *c = argc > 1 ? argv[1] : "";

        if (!strcmp(c, "procs"))
                return run(64, 0);
        if (!strcmp(c, "threads"))
                return run(8, 7);
        if (!strcmp(c, "paths"))
                return paths();
        fprintf(stderr, "guest-stress: unknown case '%s'\n", c);
        return EXIT_HARD;
}
