/* SPDX-License-Identifier: MIT */
/*
 * The loop the path-race programs (openrace, symrace) share: one thread
 * keeps changing what a path names, the other opens the path and reads
 * what it got, each pinned to its own CPU when there are two so they run
 * at the same time rather than by turns.
 */
#pragma once

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile int race_go = 1;
static void (*race_step)(void);

static inline void race_pin(int cpu)
{
        cpu_set_t set;

        if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
                return;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof(set), &set);
}

static void *race_mutator(void *arg)
{
        race_pin(1);
        while (race_go)
                race_step();
        return arg;
}

/* Open path n times while step() runs over and over in a second thread,
 * and read each file opened. Prints "opened N leaked M", and "LEAK" when
 * any read saw "SECRET". */
static inline void race_open(const char *path, int n, void (*step)(void))
{
        int leaks = 0, opened = 0;
        pthread_t t;
        char buf[64];

        race_step = step;
        race_pin(0);
        pthread_create(&t, NULL, race_mutator, NULL);
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
        race_go = 0;
        pthread_join(t, NULL);
        printf("opened %d leaked %d\n", opened, leaks);
        if (leaks)
                printf("LEAK\n");
}
