/* SPDX-License-Identifier: MIT */
/*
 * bench-syscall: time one syscall in a tight loop, for tools/bench.
 *
 *   bench-syscall uname|getppid N
 *
 * prints "NAME N NS_PER_CALL". uname is trapped and emulated by the
 * sentry; getppid is allowed by the filter and runs in the kernel, so the
 * two together separate the round-trip cost from the filter's cost.
 * Raw syscall(2) so that libc cannot cache or batch anything.
 *
 * A tenth of N (at most WARMUP_MAX) runs untimed first, so that one-off
 * costs (faulting in the buffer, a supervisor's first-trap setup and
 * caches) do not land in the per-call figure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define WARMUP_MAX 1000L

static long long now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Returns 0, or -errno of the first failing call. */
static int loop_uname(long n)
{
        struct utsname buf;
        long i;

        for (i = 0; i < n; i++)
                if (syscall(SYS_uname, &buf) < 0)
                        return -errno;
        return 0;
}

/* getppid cannot fail; the result is kept so the loop is not dropped. */
static int loop_getppid(long n)
{
        volatile long sink = 0;
        long i;

        for (i = 0; i < n; i++)
                sink += syscall(SYS_getppid);
        (void)sink;
        return 0;
}

static int usage(void)
{
        fprintf(stderr, "usage: bench-syscall uname|getppid N\n");
        return 2;
}

int main(int argc, char **argv)
{
        int (*loop)(long);
        long long t0, t1;
        long n, warmup;
        char *end;
        int r;

        if (argc != 3)
                return usage();
        if (strcmp(argv[1], "uname") == 0)
                loop = loop_uname;
        else if (strcmp(argv[1], "getppid") == 0)
                loop = loop_getppid;
        else
                return usage();
        n = strtol(argv[2], &end, 10);
        if (*end != '\0' || n <= 0)
                return usage();

        warmup = n / 10 + 1;
        if (warmup > WARMUP_MAX)
                warmup = WARMUP_MAX;
        r = loop(warmup);
        t0 = now_ns();
        if (r == 0)
                r = loop(n);
        t1 = now_ns();
        if (r < 0) {
                fprintf(stderr, "bench-syscall: %s: %s\n", argv[1], strerror(-r));
                return 1;
        }
        printf("%s %ld %.1f\n", argv[1], n, (double)(t1 - t0) / (double)n);
        return 0;
}
