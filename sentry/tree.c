/* SPDX-License-Identifier: MIT */
/*
 * The guest's own process tree. Every guest process descends from the
 * sentry (the sentry forks the first guest process and is a child
 * subreaper, so orphans come back to it), so "in the tree" is "has the
 * sentry as an ancestor". Checks are made on a pidfd and confirmed after
 * the check, so a pid that died and was reused in between is never acted
 * on: the pidfd names one process forever.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <xxhash.h>

#include "sentry.h"
#include "util.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

#define TREE_DEPTH_MAX 4096
#define CACHE_SLOTS 4096

/* Processes known to be in the tree, keyed by (pid, start time): a process
 * never leaves the tree while the sentry lives, and the start time tells a
 * reused pid from the process we saw. */
static struct {
        pid_t pid;
        uint64_t start;
} known[CACHE_SLOTS];
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t slot(pid_t pid, uint64_t start)
{
        uint64_t key[2] = { (uint64_t)pid, start };
        return XXH3_64bits(key, sizeof(key)) % CACHE_SLOTS;
}

static bool cache_has(pid_t pid, uint64_t start)
{
        size_t i = slot(pid, start);
        bool hit;

        pthread_mutex_lock(&known_lock);
        hit = known[i].pid == pid && known[i].start == start;
        pthread_mutex_unlock(&known_lock);
        return hit;
}

static void cache_add(pid_t pid, uint64_t start)
{
        size_t i = slot(pid, start);

        pthread_mutex_lock(&known_lock);
        known[i].pid = pid;
        known[i].start = start;
        pthread_mutex_unlock(&known_lock);
}

int sentry_proc_stat(int dirfd, pid_t pid, pid_t *ret_ppid, uint64_t *ret_start, pid_t *ret_pgrp,
                     char *ret_state)
{
        char path[64], buf[1024];
        const char *p;
        unsigned long long start = 0;
        int ppid = 0, pgrp = 0;
        char state = '?';
        ssize_t n;

        if (dirfd >= 0)
                n = read_file_at(dirfd, "stat", buf, sizeof(buf));
        else {
                snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
                n = read_file_at(AT_FDCWD, path, buf, sizeof(buf));
        }
        if (n < 0)
                return n == -ENOENT ? -ESRCH : (int)n;
        /* comm may hold spaces and parentheses: parse after the last ')'. */
        p = strrchr(buf, ')');
        if (!p ||
            sscanf(p + 1, " %c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                   &state, &ppid, &pgrp, &start) != 4)
                return -EIO;
        if (ret_ppid)
                *ret_ppid = ppid;
        if (ret_start)
                *ret_start = start;
        if (ret_pgrp)
                *ret_pgrp = pgrp;
        if (ret_state)
                *ret_state = state;
        return 0;
}

/* Walk the parent chain of pid up to root. 1: descends from root. */
static int descends_from(pid_t pid, pid_t root, int dirfd)
{
        pid_t cur = pid, ppid;
        uint64_t start;

        if (pid <= 1 || pid == root)
                return 0;
        for (int depth = 0; depth < TREE_DEPTH_MAX; depth++) {
                if (sentry_proc_stat(depth == 0 ? dirfd : -1, cur, &ppid, &start, NULL, NULL) < 0)
                        return 0;
                if (depth == 0 && cache_has(cur, start))
                        return 1;
                if (ppid == root) {
                        if (depth == 0)
                                cache_add(cur, start);
                        return 1;
                }
                if (ppid <= 1)
                        return 0;
                cur = ppid;
        }
        return 0;
}

int sentry_descends_from(pid_t pid, pid_t root)
{
        return descends_from(pid, root, -1);
}

int sentry_in_tree(struct sentry *s, pid_t pid)
{
        return descends_from(pid, s->self, -1);
}

/* The thread group a task belongs to, from /proc; 0 when unknown. */
static pid_t tgid_of(pid_t tid)
{
        char path[64], buf[2048];
        const char *p;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
        if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "\nTgid:")))
                return 0;
        return (pid_t)strtol(p + 6, NULL, 10);
}

static int pidfd_open_any(pid_t pid, bool thread)
{
        int fd = (int)syscall(SYS_pidfd_open, pid, thread ? PIDFD_THREAD : 0);
        if (fd < 0 && thread && errno == EINVAL)
                fd = (int)syscall(SYS_pidfd_open, pid, 0); /* before 6.9: leaders only */
        if (fd < 0 && !thread && (errno == EINVAL || errno == ENOENT)) {
                /* A thread that leads nothing: kill(2) with its id means
                 * its process, as it does natively. */
                pid_t tgid = tgid_of(pid);
                if (tgid > 0 && tgid != pid)
                        fd = (int)syscall(SYS_pidfd_open, tgid, 0);
        }
        return fd < 0 ? -errno : fd;
}

static bool pidfd_alive(int pidfd)
{
        return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0;
}

int sentry_tree_procfd(struct sentry *s, pid_t pid, int *ret_procfd)
{
        _cleanup_close_ int pidfd = -1, procfd = -1;
        char path[32];

        if (pid <= 0)
                return -ESRCH;
        pidfd = pidfd_open_any(pid, true);
        if (pidfd < 0)
                return -ESRCH;
        snprintf(path, sizeof(path), "/proc/%d", (int)pid);
        procfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (procfd < 0)
                return -ESRCH;
        /* Alive now means /proc/<pid> was opened on the process the pidfd
         * names: its pid could not be reused while it lived. */
        if (!pidfd_alive(pidfd) || descends_from(pid, s->self, procfd) != 1 || !pidfd_alive(pidfd))
                return -ESRCH;
        if (ret_procfd)
                *ret_procfd = TAKE_FD(procfd);
        return TAKE_FD(pidfd);
}

int sentry_tree_pidfd(struct sentry *s, pid_t pid, bool thread)
{
        _cleanup_close_ int pidfd = -1;

        if (pid <= 0)
                return -ESRCH;
        pidfd = pidfd_open_any(pid, thread);
        if (pidfd < 0)
                return -ESRCH;
        if (descends_from(pid, s->self, -1) != 1 || !pidfd_alive(pidfd))
                return -ESRCH;
        return TAKE_FD(pidfd);
}

/* Call fn for every numeric entry of /proc. */
static int for_each_pid(int (*fn)(pid_t pid, void *arg), void *arg)
{
        DIR *d = opendir("/proc");
        struct dirent *de;
        int n = 0;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                if (*end || pid <= 0)
                        continue;
                n += fn((pid_t)pid, arg);
        }
        closedir(d);
        return n;
}

struct group_arg {
        struct sentry *s;
        pid_t pgid, skip;
        int sig;
        int outside; /* members of the group (or anyone, for pgid 0) not in the tree */
};

static int signal_one(pid_t pid, void *arg)
{
        struct group_arg *g = arg;
        pid_t pgrp;
        _cleanup_close_ int pidfd = -1;

        if (pid == g->skip)
                return 0;
        if (g->pgid && (sentry_proc_stat(-1, pid, NULL, NULL, &pgrp, NULL) < 0 || pgrp != g->pgid))
                return 0;
        pidfd = sentry_tree_pidfd(g->s, pid, false);
        if (pidfd < 0) {
                if (pid != 1 && pid != getpid())
                        g->outside++;
                return 0;
        }
        if (g->pgid) {
                /* Re-check the group on the process the pidfd names. */
                if (sentry_proc_stat(-1, pid, NULL, NULL, &pgrp, NULL) < 0 || pgrp != g->pgid)
                        return 0;
        }
        return syscall(SYS_pidfd_send_signal, pidfd, g->sig, NULL, 0) == 0;
}

int sentry_signal_group(struct sentry *s, pid_t pgid, pid_t skip, int sig, int *ret_outside)
{
        struct group_arg g = { s, pgid, skip, sig, 0 };
        int n = for_each_pid(signal_one, &g);

        if (ret_outside)
                *ret_outside = g.outside;
        return n;
}

/* Not a zombie, or a zombie leader whose other threads still run. */
static bool proc_live(pid_t pid)
{
        char path[64], buf[1024], state;
        const char *p;
        unsigned threads = 0;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')) ||
            sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %u", &state,
                   &threads) != 2)
                return false;
        return state != 'X' && (state != 'Z' || threads > 1);
}

struct sweep_arg {
        pid_t root, spare;
};

static int kill_one(pid_t pid, void *arg)
{
        struct sweep_arg *w = arg;
        _cleanup_close_ int pidfd = -1;

        if (pid == w->spare || pid == getpid())
                return 0;
        /* Zombies are dead already; their reaper collects them. But a
         * process whose first thread exited shows as a zombie while its
         * other threads run on: that one is alive. */
        if (!proc_live(pid))
                return 0;
        pidfd = pidfd_open_any(pid, false);
        if (pidfd < 0 || descends_from(pid, w->root, -1) != 1)
                return 0;
        return syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == 0;
}

int sentry_kill_descendants(pid_t root, pid_t spare)
{
        struct sweep_arg w = { root, spare };
        int total = 0;

        /* A process forked during a scan is seen by the next one; each scan
         * kills the parents, so the tree cannot outgrow the sweep. */
        for (int round = 0; round < 1000; round++) {
                int n = for_each_pid(kill_one, &w);
                if (n <= 0)
                        return total;
                total += n;
        }
        return total;
}
