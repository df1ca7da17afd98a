/* SPDX-License-Identifier: MIT */
/*
 * symrace DIR SECRETDIR N: open DIR/id_ed25519 N times while a second
 * thread keeps swapping DIR between a real directory (whose id_ed25519
 * says "public") and a symlink to SECRETDIR (whose id_ed25519 says
 * SECRET): the classic race on a path component during lookup. Prints
 * LEAK if the secret was ever read. Under interpose the object reached is
 * judged, whatever the path did meanwhile. Driven by tests/e2e/paths.sh.
 */
#include <stdio.h>
#include <stdlib.h>

#include "race.h"

static const char *dir, *secret;
static char real[4096];

static void swap(void)
{
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

int main(int argc, char **argv)
{
        char file[4096];

        if (argc < 3)
                return 99;
        dir = argv[1];
        secret = argv[2];
        snprintf(real, sizeof(real), "%s.real", dir);
        snprintf(file, sizeof(file), "%s/id_ed25519", dir);
        race_open(file, argc > 3 ? atoi(argv[3]) : 3000, swap);
        return 0;
}
