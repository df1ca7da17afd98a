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

int main(int argc, char **argv)
{
        if (!race_args(argc, argv, path, a, b, sizeof(a), &flip_len))
                return 99;
        race_open(path, argc > 3 ? atoi(argv[3]) : 2000, flip);
        return 0;
}
