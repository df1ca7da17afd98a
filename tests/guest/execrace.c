/* SPDX-License-Identifier: MIT */
/*
 * execrace N: N children each exec a path that a second thread keeps
 * rewriting between /bin/true and /bin/false, so the kernel may read
 * another path than the one the sentry read (DESIGN.md invariant 2).
 * Driven by tests/e2e/exec-race.sh, which checks that the audit log never
 * records one program while another ran. Prints how the children ended.
 *
 * execrace N leader: a thread other than the first makes the exec while
 * the first makes trapped calls in a loop, whose answers must not make the
 * sentry forget the exec it has still to check.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[16] __attribute__((aligned(8))) = "/bin/true";
static volatile int started;

/* Store 16 bytes as two 8-byte atomic stores: the compiler may neither
 * drop nor merge them, and the kernel sees one path or the other. */
static void put(const char s[16])
{
        uint64_t w[2];

        memcpy(w, s, 16);
        __atomic_store_n((uint64_t *)path, w[0], __ATOMIC_RELAXED);
        __atomic_store_n((uint64_t *)(path + 8), w[1], __ATOMIC_RELAXED);
}

static void *flip(void *arg)
{
        static const char a[16] = "/bin/false", b[16] = "/bin/true";

        started = 1;
        for (;;) {
                put(a);
                for (volatile int i = 0; i < 50; i++)
                        ;
                put(b);
                for (volatile int i = 0; i < 50; i++)
                        ;
        }
        return arg;
}

static void *exec_thread(void *arg)
{
        char *args[] = { "x", NULL };

        while (!started)
                ;
        execv(path, args);
        _exit(99);
        return arg;
}

int main(int argc, char **argv)
{
        int n = argc > 1 ? atoi(argv[1]) : 200, ended[3] = { 0 };
        bool leader = argc > 2 && !strcmp(argv[2], "leader");

        for (int i = 0; i < n; i++) {
                int status;
                pid_t pid = fork();
                if (pid == 0) {
                        pthread_t t;
                        char *args[] = { "x", NULL };
                        pthread_create(&t, NULL, flip, NULL);
                        if (leader) {
                                pthread_t x;
                                struct utsname u;
                                pthread_create(&x, NULL, exec_thread, NULL);
                                for (;;)
                                        syscall(SYS_uname, &u); /* trapped, again and again */
                        }
                        while (!started)
                                ;
                        execv(path, args);
                        _exit(99);
                }
                if (pid < 0 || waitpid(pid, &status, 0) != pid)
                        return 99;
                ended[WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 2
                      : WEXITSTATUS(status) == 0                         ? 0
                                                                         : 1]++;
        }
        printf("true %d false %d killed %d\n", ended[0], ended[1], ended[2]);
        return 0;
}
