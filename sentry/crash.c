/* SPDX-License-Identifier: MIT */
/*
 * A crashing sentry must not leave the guest running: print a backtrace of
 * the sentry (libunwind, async-signal-safe local unwinding), kill every
 * guest process, and exit.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sentry.h"
#include "util.h"

static struct sentry *crash_sentry;

static void say(const char *s)
{
        (void)!write(2, s, strlen(s));
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

static void on_crash(int sig)
{
        char msg[128];

        snprintf(msg, sizeof(msg), "interpose: sentry crashed (signal %d); stopping the guest. Backtrace:\n",
                 sig);
        say(msg);
        backtrace_to_stderr();
        if (crash_sentry)
                sentry_kill_descendants(crash_sentry->self, 0);
        _exit(125);
}

void sentry_crash_handlers(struct sentry *s)
{
        static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS };
        static char altstack[64 * 1024];
        stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
        struct sigaction sa = { .sa_handler = on_crash, .sa_flags = SA_ONSTACK | SA_RESETHAND };

        crash_sentry = s;
        sigaltstack(&ss, NULL);
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
                sigaction(sigs[i], &sa, NULL);
}
