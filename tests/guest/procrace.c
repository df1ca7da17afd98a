/* SPDX-License-Identifier: MIT */
/*
 * procrace PID N: race an O_PATH open of a path that a second thread keeps
 * flipping between "/proc/self" and "/proc/PID" (a process outside the
 * tree), N times; whenever the fd names /proc/PID, read "status" relative
 * to it. Prints "won W leaked M" and "LEAK" if PID's status was read. An
 * O_PATH open is made by the kernel after the sentry's check (ADDFD cannot
 * install O_PATH files), so the race can be won; what must never happen is
 * a lookup from that fd reaching the other process. Natively /proc/PID is
 * there for the taking. Driven by tests/e2e/paths.sh.
 */
#include <stdlib.h>
#include <sys/syscall.h>

#include "race.h"

static char path[64] __attribute__((aligned(8)));
static char a[64], b[64];
static size_t flip_len;

static void flip(void)
{
        memcpy(path, a, flip_len);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        for (volatile int i = 0; i < 30; i++)
                ;
        memcpy(path, b, flip_len);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        for (volatile int i = 0; i < 30; i++)
                ;
}

int main(int argc, char **argv)
{
        int n = argc > 2 ? atoi(argv[2]) : 2000, won = 0, leaks = 0;
        char want[64], link[256], proc[64], buf[512];
        pthread_t t;

        if (argc < 2)
                return 99;
        snprintf(a, sizeof(a), "/proc/self");
        snprintf(b, sizeof(b), "/proc/%s", argv[1]);
        snprintf(want, sizeof(want), "\nPid:\t%s\n", argv[1]);
        strcpy(path, a);
        flip_len = strlen(b) + 1 > strlen(a) + 1 ? strlen(b) + 1 : strlen(a) + 1;
        race_step = flip;
        race_pin(0);
        pthread_create(&t, NULL, race_mutator, NULL);
        for (int i = 0; i < n; i++) {
                int fd = (int)syscall(SYS_open, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                ssize_t m = readlink(proc, link, sizeof(link) - 1);
                link[m > 0 ? m : 0] = '\0';
                if (!strcmp(link, b)) {
                        int f;
                        won++;
                        f = openat(fd, "status", O_RDONLY | O_CLOEXEC);
                        if (f >= 0) {
                                ssize_t r = read(f, buf, sizeof(buf) - 1);
                                buf[r > 0 ? r : 0] = '\0';
                                if (strstr(buf, want))
                                        leaks++;
                                close(f);
                        }
                }
                close(fd);
        }
        race_go = 0;
        pthread_join(t, NULL);
        printf("won %d leaked %d\n", won, leaks);
        if (leaks)
                printf("LEAK\n");
        return 0;
}
