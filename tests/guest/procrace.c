/* SPDX-License-Identifier: MIT */
/*
 * procrace PID N [REL WANT [fchdir|reopen]]: race an O_PATH open of a path
 * that a second thread keeps flipping between "/proc/self" and "/proc/PID"
 * (a process outside the tree), N times; whenever the fd names /proc/PID,
 * read REL ("status") relative to it (with fchdir: fchdir to it, then
 * read REL relative to the cwd), looking for WANT (PID's "Pid:" line).
 * REL may go through a magic link: fd/3 is the outsider's open file. With
 * reopen, the path flips between "/proc/self/fd/0" and "/proc/PID/REL"
 * (the kernel follows the outsider's link itself), and a won fd is opened
 * again through /proc/self/fd to read WANT. With root, the path flips
 * between "/proc/self/cwd" and "/proc/PID/root" (the kernel follows the
 * link to the root of PID's mount namespace), and REL is read relative to
 * a won fd.
 * Prints "won W leaked M" and "LEAK" if WANT was read. An
 * O_PATH open is made by the kernel after the sentry's check (ADDFD cannot
 * install O_PATH files), so the race can be won; what must never happen is
 * a lookup from that fd reaching the other process. Natively /proc/PID is
 * there for the taking. Driven by tests/e2e/paths.sh.
 */
#include <limits.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "race.h"

static char path[64] __attribute__((aligned(8)));
static char a[64], b[64];
static size_t flip_len;

static char want[64];
static const char *rel = "status";
static bool by_cwd, reopen, root;
static char stdin_link[256];

static void flip(void)
{
        race_flip(path, a, b, flip_len);
}

/* An O_PATH open of path; when it names the outsider, read its status
 * through it. */
static int attempt(void)
{
        char link[256], proc[64];
        int fd = (int)syscall(SYS_open, path, O_PATH | (reopen ? 0 : O_DIRECTORY) | O_CLOEXEC), f, r = -1;
        ssize_t m;

        if (fd < 0)
                return -1;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        m = readlink(proc, link, sizeof(link) - 1);
        link[m > 0 ? m : 0] = '\0';
        if (reopen && strcmp(link, stdin_link)) {
                /* The outsider's object: opened for real through our own link. */
                char buf[512];
                ssize_t n;
                f = open(proc, O_RDONLY | O_CLOEXEC);
                n = f >= 0 ? read(f, buf, sizeof(buf) - 1) : -1;
                buf[n > 0 ? n : 0] = '\0';
                r = strstr(buf, want) != NULL;
                if (f >= 0)
                        close(f);
        } else if (root) {
                /* Either start: only the other namespace has REL. As a
                 * dirfd, and through our own link to it. */
                char buf[512], through[PATH_MAX];
                ssize_t n;
                f = openat(fd, rel, O_RDONLY | O_CLOEXEC);
                if (f < 0) {
                        snprintf(through, sizeof(through), "%s/%s", proc, rel);
                        f = open(through, O_RDONLY | O_CLOEXEC);
                }
                n = f >= 0 ? read(f, buf, sizeof(buf) - 1) : -1;
                buf[n > 0 ? n : 0] = '\0';
                r = f >= 0 ? strstr(buf, want) != NULL : -1;
                if (f >= 0)
                        close(f);
        } else if (!reopen && !strcmp(link, b)) {
                char buf[512];
                ssize_t n;
                r = 0;
                if (by_cwd)
                        (void)fchdir(fd); /* refused: REL below is looked up from the old cwd */
                f = openat(by_cwd ? AT_FDCWD : fd, rel, O_RDONLY | O_CLOEXEC);
                n = f >= 0 ? read(f, buf, sizeof(buf) - 1) : -1;
                buf[n > 0 ? n : 0] = '\0';
                r = strstr(buf, want) != NULL;
                if (f >= 0)
                        close(f);
        }
        close(fd);
        return r;
}

int main(int argc, char **argv)
{
        if (argc < 2)
                return 99;
        snprintf(a, sizeof(a), "/proc/self");
        snprintf(b, sizeof(b), "/proc/%s", argv[1]);
        snprintf(want, sizeof(want), "\nPid:\t%s\n", argv[1]);
        if (argc > 4) {
                rel = argv[3];
                snprintf(want, sizeof(want), "%s", argv[4]);
                by_cwd = argc > 5 && !strcmp(argv[5], "fchdir");
                reopen = argc > 5 && !strcmp(argv[5], "reopen");
                root = argc > 5 && !strcmp(argv[5], "root");
        }
        if (root) {
                snprintf(a, sizeof(a), "/proc/self/cwd");
                snprintf(b, sizeof(b), "/proc/%s/root", argv[1]);
        }
        if (reopen) {
                ssize_t m = readlink("/proc/self/fd/0", stdin_link, sizeof(stdin_link) - 1);
                stdin_link[m > 0 ? m : 0] = '\0';
                snprintf(a, sizeof(a), "/proc/self/fd/0");
                snprintf(b, sizeof(b), "/proc/%s/%s", argv[1], rel);
        }
        strcpy(path, a);
        flip_len = strlen(b) + 1 > strlen(a) + 1 ? strlen(b) + 1 : strlen(a) + 1;
        race_run(argc > 2 ? atoi(argv[2]) : 2000, flip, attempt, "won");
        return 0;
}
