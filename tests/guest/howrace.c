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
        how.flags = O_PATH | O_CLOEXEC;
        flip_len = strlen(a) > strlen(b) ? strlen(a) + 1 : strlen(b) + 1;
        race_step = flip;
        race_pin(0);
        pthread_create(&t, NULL, race_mutator, NULL);
        for (int i = 0; i < n; i++) {
                int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
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
        return 0;
}
