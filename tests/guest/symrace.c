/* SPDX-License-Identifier: MIT */
/*
 * symrace DIR SECRETDIR N: open DIR/id_ed25519 N times while a second
 * thread keeps swapping DIR between a real directory (whose id_ed25519
 * says "public") and a symlink to SECRETDIR (whose id_ed25519 says
 * SECRET): the classic race on a path component during lookup. Prints
 * LEAK if the secret was ever read. Under interpose the object reached is
 * judged, whatever the path did meanwhile. Driven by tests/e2e/paths.sh.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *dir, *secret;
static char real[4096], file[4096];
static volatile int go = 1;

static void pin(int cpu)
{
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof(set), &set);
}

static void *swap(void *arg)
{
        if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
                pin(1);
        while (go) {
                if (rename(dir, real) == 0) {
                        if (symlink(secret, dir) == 0) {
                                for (volatile int i = 0; i < 200; i++)
                                        ;
                                unlink(dir);
                        }
                        rename(real, dir);
                }
                for (volatile int i = 0; i < 200; i++)
                        ;
        }
        return arg;
}

int main(int argc, char **argv)
{
        int n = argc > 3 ? atoi(argv[3]) : 3000, leaks = 0, opened = 0;
        pthread_t t;
        char buf[64];

        if (argc < 3)
                return 99;
        dir = argv[1];
        secret = argv[2];
        snprintf(real, sizeof(real), "%s.real", dir);
        snprintf(file, sizeof(file), "%s/id_ed25519", dir);
        if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
                pin(0);
        pthread_create(&t, NULL, swap, NULL);
        for (int i = 0; i < n; i++) {
                int fd = open(file, O_RDONLY | O_CLOEXEC);
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
