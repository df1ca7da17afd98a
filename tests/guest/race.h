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
#include <stdbool.h>
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

/* The ALLOWED and DENIED arguments the path racers take: copied into a
 * and b (cap bytes each), path starts as a, *len is what a flip writes.
 * false on bad arguments. */
static inline bool race_args(int argc, char **argv, char *path, char *a, char *b, size_t cap, size_t *len)
{
        if (argc < 3 || strlen(argv[1]) >= cap || strlen(argv[2]) >= cap)
                return false;
        strcpy(a, argv[1]);
        strcpy(b, argv[2]);
        strcpy(path, a);
        *len = strlen(a) > strlen(b) ? strlen(a) + 1 : strlen(b) + 1;
        return true;
}

/* Write a then b into path (len bytes each), with a pause after each, so
 * the other thread sees one or the other: the usual step(). */
static inline void race_flip(char *path, const char *a, const char *b, size_t len)
{
        memcpy(path, a, len);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        for (volatile int i = 0; i < 30; i++)
                ;
        memcpy(path, b, len);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        for (volatile int i = 0; i < 30; i++)
                ;
}

/* Make attempt() n times while step() runs over and over in a second
 * thread. attempt returns < 0 when it got nothing, 0 when it got an fd,
 * 1 when what it got leaked. Prints "WORD N leaked M" (WORD: what an
 * attempt that got something is called), and "LEAK" if any leaked. */
static inline void race_run(int n, void (*step)(void), int (*attempt)(void), const char *word)
{
        int leaks = 0, got = 0;
        pthread_t t;

        race_step = step;
        race_pin(0);
        pthread_create(&t, NULL, race_mutator, NULL);
        for (int i = 0; i < n; i++) {
                int r = attempt();
                got += r >= 0;
                leaks += r > 0;
        }
        race_go = 0;
        pthread_join(t, NULL);
        printf("%s %d leaked %d\n", word, got, leaks);
        if (leaks)
                printf("LEAK\n");
}

/* Read from fd (then close it): 1 if it says "SECRET", else 0. */
static inline int race_read_secret(int fd)
{
        char buf[64];
        ssize_t r = read(fd, buf, sizeof(buf) - 1);

        buf[r > 0 ? r : 0] = '\0';
        close(fd);
        return strstr(buf, "SECRET") != NULL;
}

static const char *race_path;

static int race_open_once(void)
{
        int fd = open(race_path, O_RDONLY | O_CLOEXEC);
        return fd < 0 ? -1 : race_read_secret(fd);
}

/* Open path n times while step() runs, and read each file opened. */
static inline void race_open(const char *path, int n, void (*step)(void))
{
        race_path = path;
        race_run(n, step, race_open_once, "opened");
}
