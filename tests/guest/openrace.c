/* SPDX-License-Identifier: MIT */
/*
 * openrace ALLOWED DENIED N: open(2) a path that a second thread keeps
 * rewriting between ALLOWED and DENIED, N times, and read what was opened.
 * Prints "LEAK" if the denied file's contents were ever read. Under
 * interpose the sentry reads the path once and opens its own copy, so the
 * kernel never sees the other string (DESIGN.md invariant 2); natively, or
 * with a check-then-continue, the race is won often. Driven by
 * tests/e2e/paths.sh.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[256] __attribute__((aligned(8)));
static char a[256], b[256];
static volatile int go = 1;

/* Pin the calling thread to one CPU, so the flipper and the opener run
 * at the same time rather than by turns. */
static void pin(int cpu)
{
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof(set), &set);
}

static void *flip(void *arg)
{
        size_t n = strlen(a) > strlen(b) ? strlen(a) + 1 : strlen(b) + 1;

        if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
                pin(1);
        while (go) {
                memcpy(path, a, n);
                __atomic_thread_fence(__ATOMIC_SEQ_CST);
                for (volatile int i = 0; i < 30; i++)
                        ;
                memcpy(path, b, n);
                __atomic_thread_fence(__ATOMIC_SEQ_CST);
                for (volatile int i = 0; i < 30; i++)
                        ;
        }
        return arg;
}

int main(int argc, char **argv)
{
        int n = argc > 3 ? atoi(argv[3]) : 2000, leaks = 0, opened = 0;
        pthread_t t;
        char buf[64];

        if (argc < 3 || strlen(argv[1]) >= sizeof(a) || strlen(argv[2]) >= sizeof(b))
                return 99;
        strcpy(a, argv[1]);
        strcpy(b, argv[2]);
        strcpy(path, a);
        if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
                pin(0);
        pthread_create(&t, NULL, flip, NULL);
        for (int i = 0; i < n; i++) {
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                opened++;
                ssize_t r = read(fd, buf, sizeof(buf) - 1);
                buf[r > 0 ? r : 0] = '\0';
                if (strstr(buf, "SECRET"))
                        leaks++;
                close(fd);
        }
        go = 0;
        pthread_join(t, NULL);
        printf("opened %d leaked %d\n", opened, leaks);
        if (leaks)
                printf("LEAK\n");
        return 0;
}
