/* SPDX-License-Identifier: MIT */
/*
 * Helpers for guest test programs. A guest test makes raw syscalls and
 * checks itself; tests/run-guest runs it natively and under each platform
 * with INTERPOSE_TEST_MODE set, so one program states both the native
 * behaviour and the confined one. Exit 0 pass, 1 fail, 77 skip, 99 error.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXIT_PASS 0
#define EXIT_FAIL 1
#define EXIT_SKIP 77
#define EXIT_HARD 99

static int guest_failures;

/* True under interpose (any platform), false in the native run. */
static inline bool guest_confined(void)
{
        const char *m = getenv("INTERPOSE_TEST_MODE");
        if (!m) {
                fprintf(stderr, "INTERPOSE_TEST_MODE is not set; run through tests/run-guest\n");
                exit(EXIT_HARD);
        }
        return strcmp(m, "native") != 0;
}

/* True under the ptrace platform, where the sentry traces every guest
 * thread and no guest may become a tracer itself. */
static inline bool guest_traced(void)
{
        const char *m = getenv("INTERPOSE_TEST_MODE");
        return m && strcmp(m, "ptrace") == 0;
}

/* A raw syscall: returns the result or -errno, never touching libc's
 * wrappers (which may cache, emulate or refuse on their own). */
static inline long raw(long nr, long a, long b, long c, long d, long e, long f)
{
        long r = syscall(nr, a, b, c, d, e, f);
        return r < 0 ? -errno : r;
}

#define CHECK(cond, ...)                                                     \
        do {                                                                 \
                if (!(cond)) {                                               \
                        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
                        fprintf(stderr, __VA_ARGS__);                        \
                        fputc('\n', stderr);                                 \
                        guest_failures++;                                    \
                }                                                            \
        } while (0)

#define NOTE(...)                             \
        do {                                  \
                fprintf(stderr, "  ");        \
                fprintf(stderr, __VA_ARGS__); \
                fputc('\n', stderr);          \
        } while (0)

static inline int guest_result(void)
{
        return guest_failures ? EXIT_FAIL : EXIT_PASS;
}
