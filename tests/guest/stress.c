/* SPDX-License-Identifier: MIT */
/*
 * Many callers at once: 64 processes (and, in "threads", 8 threads in each
 * of 8 processes) make 1,000 trapped calls each in parallel, alternating an
 * answer the sentry writes into memory (uname), an fd it installs (open of
 * /dev/null) and one the kernel makes after a check (getcwd is in memory;
 * close is the kernel's). Every answer must be right and none lost: each
 * worker counts its own and reports through its exit status.
 */
#include <fcntl.h>
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
                        for (int i = 0; i < threads; i++) {
                                void *r;
                                pthread_join(t[i], &r);
                                bad += (long)r;
                        }
                        _exit(bad > 250 ? 250 : (int)bad);
                }
        }
        for (int p = 0; p < procs; p++) {
                int st;
                CHECK(waitpid(pids[p], &st, 0) == pids[p] && WIFEXITED(st) && WEXITSTATUS(st) == 0,
                      "worker %d: status %#x (exit code = wrong answers)", p, st);
        }
        return guest_result();
}

int main(int argc, char **argv)
{
        const char *c = argc > 1 ? argv[1] : "";

        if (!strcmp(c, "procs"))
                return run(64, 0);
        if (!strcmp(c, "threads"))
                return run(8, 7);
        fprintf(stderr, "guest-stress: unknown case '%s'\n", c);
        return EXIT_HARD;
}
