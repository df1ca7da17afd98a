/* SPDX-License-Identifier: MIT */
/*
 * howrace ALLOWED DENIED N: openat2 N times while a second thread keeps
 * flipping both the path and the flags in struct open_how between
 * (ALLOWED, O_PATH) and (DENIED, O_RDONLY), and read whatever was opened.
 * Prints "opened N leaked M", and "LEAK" if the denied file's contents
 * were read. openat2's flags live in guest memory, not in a register: a
 * sentry that approved "O_PATH of ALLOWED" and let the kernel make the
 * call would have the kernel read "O_RDONLY of DENIED". Driven by
 * tests/e2e/paths.sh.
 */
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "race.h"

static char path[256] __attribute__((aligned(8)));
static struct open_how how __attribute__((aligned(8)));
static char a[256], b[256];
static size_t flip_len;

static void flip(void)
{
        memcpy(path, a, flip_len);
        __atomic_store_n(&how.flags, (unsigned long long)(O_PATH | O_CLOEXEC), __ATOMIC_SEQ_CST);
        for (volatile int i = 0; i < 30; i++)
                ;
        memcpy(path, b, flip_len);
        __atomic_store_n(&how.flags, (unsigned long long)(O_RDONLY | O_CLOEXEC), __ATOMIC_SEQ_CST);
        for (volatile int i = 0; i < 30; i++)
                ;
}

static int attempt(void)
{
        int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
        return fd < 0 ? -1 : race_read_secret(fd);
}

int main(int argc, char **argv)
{
        if (!race_args(argc, argv, path, a, b, sizeof(a), &flip_len))
                return 99;
        how.flags = O_PATH | O_CLOEXEC;
        race_run(argc > 3 ? atoi(argv[3]) : 2000, flip, attempt, "opened");
        return 0;
}
