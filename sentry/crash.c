/* SPDX-License-Identifier: MIT */
/*
 * A crashing interpose process (the sentry, the launcher, the gofer) must
 * not leave the guest running: print a backtrace of itself (libunwind,
 * async-signal-safe local unwinding) on stderr and into a report beside
 * the audit log, and exit: the guest goes with it (a dead sentry's by the
 * launcher or the kernel, a dead launcher's by the sentry, a dead gofer's
 * by the launcher).
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sentry.h"
#include "util.h"

static int report_dirfd = -1;
static char report_name[300];
static int report_fd = -1;
static const char *crash_who = "sentry";

static void say(const char *s)
{
        (void)!write(2, s, strlen(s));
        if (report_fd >= 0)
                (void)!write(report_fd, s, strlen(s));
}

static void backtrace_to_stderr(void)
{
        unw_cursor_t cursor;
        unw_context_t ctx;
        char name[128], line[256];

        if (unw_getcontext(&ctx) < 0 || unw_init_local(&cursor, &ctx) < 0)
                return;
        for (int depth = 0; depth < 64 && unw_step(&cursor) > 0; depth++) {
                unw_word_t ip = 0, off = 0;
                unw_get_reg(&cursor, UNW_REG_IP, &ip);
                if (unw_get_proc_name(&cursor, name, sizeof(name), &off) < 0)
                        snprintf(name, sizeof(name), "?");
                snprintf(line, sizeof(line), "  #%d %#lx %s+%#lx\n", depth, (unsigned long)ip, name,
                         (unsigned long)off);
                say(line);
        }
}

/* A thread that runs code which may fault on input it does not trust
 * (the guest backtrace's unwinder) leaves through here instead. */
static __thread sigjmp_buf *escape;

void interpose_crash_escape(sigjmp_buf *jb)
{
        escape = jb;
}

static void on_crash(int sig);

static void on_crash(int sig)
{
        char msg[128];

        if (escape) {
                sigjmp_buf *jb = escape;
                struct sigaction sa = { .sa_handler = on_crash, .sa_flags = SA_ONSTACK | SA_RESETHAND };
                escape = NULL;
                sigemptyset(&sa.sa_mask);
                sigaction(sig, &sa, NULL); /* SA_RESETHAND took it away */
                siglongjmp(*jb, sig);
        }

        if (report_dirfd >= 0)
                report_fd = openat(report_dirfd, report_name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        snprintf(msg, sizeof(msg), "interpose: %s crashed (signal %d); stopping the guest. Backtrace:\n",
                 crash_who, sig);
        say(msg);
        backtrace_to_stderr();
        /* Nothing more here: a fault may have left the heap or a lock in
         * any state. The guest goes with us: the launcher kills the tree
         * when the sentry dies (on ptrace, the kernel does: EXITKILL). */
        _exit(125);
}

static const int fault_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS };

void interpose_fault_signals(sigset_t *set)
{
        sigemptyset(set);
        for (size_t i = 0; i < ARRAY_SIZE(fault_signals); i++)
                sigaddset(set, fault_signals[i]);
}

/* The alternate stacks of the threads that live as long as their process
 * (the sentry's serving, reaper, resolver, monitor and approvals
 * threads), held here so a leak checker sees them in use. Not for a
 * thread that returns: AddressSanitizer unmaps a thread's alternate stack
 * when it ends, taking it for its own. */
#define CRASH_THREADS 16
static void *thread_stacks[CRASH_THREADS];

void interpose_crash_thread(void)
{
        /* The alternate stack is per thread: without one, a thread whose
         * stack overflowed dies without a report. */
        stack_t ss = { .ss_size = 64 * 1024 };
        static unsigned used;
        unsigned slot = __atomic_fetch_add(&used, 1, __ATOMIC_RELAXED);

        if (slot >= CRASH_THREADS)
                return; /* reports on its own stack then, all but an overflow */
        ss.ss_sp = malloc(ss.ss_size);
        if (!ss.ss_sp)
                return;
        if (sigaltstack(&ss, NULL) < 0) {
                free(ss.ss_sp);
                return;
        }
        thread_stacks[slot] = ss.ss_sp;
}

void interpose_crash_handlers(const char *who, int dirfd, const char *audit_name)
{
        static char altstack[64 * 1024];
        stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
        struct sigaction sa = { .sa_handler = on_crash, .sa_flags = SA_ONSTACK | SA_RESETHAND };
        sigset_t crash;

        crash_who = who;
        report_dirfd = -1;
        if (dirfd >= 0 && audit_name) {
                report_dirfd = dirfd;
                snprintf(report_name, sizeof(report_name), "%s.crash.txt", audit_name);
        }
        /* libunwind sets itself up on first use (a pipe to probe memory
         * with, the unwind tables): now, before a seccomp filter of ours
         * would refuse it, not in the handler. */
        {
                unw_cursor_t cursor;
                unw_context_t uc;
                if (unw_getcontext(&uc) == 0 && unw_init_local(&cursor, &uc) == 0)
                        while (unw_step(&cursor) > 0)
                                ;
        }
        sigaltstack(&ss, NULL);
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ARRAY_SIZE(fault_signals); i++)
                sigaction(fault_signals[i], &sa, NULL);
        interpose_fault_signals(&crash);
        /* The sentry blocks every signal; a fault signal that is blocked
         * kills at once, without the handler. Threads started after this
         * inherit the mask. */
        pthread_sigmask(SIG_UNBLOCK, &crash, NULL);
}
