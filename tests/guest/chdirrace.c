/* SPDX-License-Identifier: MIT */
/*
 * chdirrace ALLOWED DENIED N: chdir(2) to a path that a second thread
 * keeps rewriting between two directories, ALLOWED and DENIED (absolute),
 * N times, and ask where it landed. Prints "LEAK" if the cwd was ever the
 * denied directory. The kernel makes a chdir itself after the sentry's
 * check, reading the path again: under interpose the cwd it left is
 * checked at the thread's next call, and a process whose cwd is somewhere
 * it has no right dies (137). Driven by tests/e2e/paths.sh.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "race.h"

static char path[256] __attribute__((aligned(8)));
static char a[256], b[256];
static size_t flip_len;

static void flip(void)
{
        race_flip(path, a, b, flip_len);
}

static int attempt(void)
{
        char cwd[PATH_MAX];
        int leaked;

        if (chdir(path) < 0)
                return -1;
        leaked = getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, b);
        if (chdir(a) < 0)
                exit(3);
        return leaked;
}

int main(int argc, char **argv)
{
        if (!race_args(argc, argv, path, a, b, sizeof(a), &flip_len))
                return 99;
        race_run(argc > 3 ? atoi(argv[3]) : 2000, flip, attempt, "chdirs");
        return 0;
}
