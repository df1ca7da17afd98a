/* SPDX-License-Identifier: MIT */
/*
 * cwdexec PID: a thread that is not the leader unshares its fs, moves to
 * /proc and execs stage 2, which takes over the leader's tid with that
 * cwd. Meanwhile the leader makes relative lookups from its own cwd (the
 * workspace, where a directory named PID waits as a decoy), so a sentry
 * that remembered "this tid's cwd" would judge stage 2's chdir("PID") in
 * the workspace while the kernel makes it in /proc. Stage 2 prints "LEAK"
 * if it can read /proc/PID/status of that outsider, else "refused".
 * Natively the chdir reaches /proc/PID. Driven by tests/e2e/paths.sh.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *self, *pid;
static volatile int stage;

static void *thread_main(void *arg)
{
        if (unshare(CLONE_FS) < 0 || chdir("/proc") < 0)
                _exit(98);
        stage = 1;
        while (stage != 2)
                ;
        execl(self, self, "stage2", pid, (char *)NULL);
        _exit(97);
        return arg;
}

int main(int argc, char **argv)
{
        char want[64], buf[1024];
        pthread_t t;
        struct stat st;

        if (argc > 2 && !strcmp(argv[1], "stage2")) {
                int fd;
                ssize_t n;
                if (chdir(argv[2]) < 0) {
                        printf("refused chdir\n");
                        return 0;
                }
                fd = open("status", O_RDONLY);
                n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
                buf[n > 0 ? n : 0] = '\0';
                snprintf(want, sizeof(want), "\nPid:\t%s\n", argv[2]);
                printf("%s\n", strstr(buf, want) ? "LEAK" : "refused read");
                return 0;
        }
        if (argc < 2)
                return 99;
        self = realpath(argv[0], NULL);
        pid = argv[1];
        mkdir(pid, 0755);
        pthread_create(&t, NULL, thread_main, NULL);
        while (!stage)
                ;
        for (int i = 0; i < 3; i++)
                stat(pid, &st);
        stage = 2;
        pthread_join(t, NULL);
        return 0;
}
