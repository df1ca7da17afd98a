/* SPDX-License-Identifier: MIT */
/* Crash reports (sentry/crash.c): a thread of interpose's that overflows
 * its stack still leaves a report, from the alternate stack
 * interpose_crash_thread gave it; without one the kernel kills the process
 * silently with SIGSEGV. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "sentry/util.h"

static volatile int depth;

/* Deeper until the stack runs out (depth, which never falls below 0,
 * keeps the compiler from seeing an endless recursion). */
static int __attribute__((noinline)) recurse(int n)
{
        volatile char pad[1024];

        pad[0] = (char)n;
        if (++depth < 0)
                return pad[0];
        return recurse(n + 1) + pad[0];
}

static void *overflow(void *arg)
{
        if (arg)
                interpose_crash_thread();
        return (void *)(long)recurse(0);
}

/* A child whose thread overflows its stack: its exit status and what it
 * wrote on stderr. */
static int run(bool altstack, char *err, size_t cap)
{
        int p[2], st = 0;
        ssize_t n, got = 0;
        pid_t pid;

        if (pipe(p) < 0)
                return -1;
        pid = fork();
        if (pid == 0) {
                pthread_attr_t a;
                pthread_t t;
                dup2(p[1], 2);
                close(p[0]);
                interpose_crash_handlers("test", -1, NULL);
                pthread_attr_init(&a);
                pthread_attr_setstacksize(&a, 256 << 10);
                pthread_create(&t, &a, overflow, altstack ? &a : NULL);
                pthread_join(t, NULL);
                _exit(0);
        }
        close(p[1]);
        while (got < (ssize_t)cap - 1 && (n = read(p[0], err + got, cap - 1 - (size_t)got)) > 0)
                got += n;
        err[got] = '\0';
        close(p[0]);
        waitpid(pid, &st, 0);
        return st;
}

int main(void)
{
        char err[8192];
        int st;

        st = run(true, err, sizeof(err));
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 125, "a thread's stack overflow is reported: status %#x",
              st);
        CHECK(strstr(err, "interpose: test crashed (signal 11)") != NULL, "the report says what crashed: %s",
              err);
        CHECK(strstr(err, "recurse") != NULL, "with a backtrace through the thread's frames: %s", err);
#ifndef __SANITIZE_ADDRESS__
        /* The control: the same overflow in a thread without its own
         * alternate stack dies unreported. (AddressSanitizer gives every
         * thread one of its own.) */
        st = run(false, err, sizeof(err));
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
              "without an alternate stack: killed by SIGSEGV, status %#x", st);
#endif
        return guest_result();
}
