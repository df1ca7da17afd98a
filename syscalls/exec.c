/* SPDX-License-Identifier: MIT */
/* Process lifetime events, audited: every exec with its argv, every exit
 * with its status. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../sentry/audit.h"
#include "../sentry/sentry.h"
#include "handlers.h"

static long exec_event(struct sentry_call *c, uint64_t path)
{
        char p[PATH_MAX];
        size_t len;
        ssize_t n = sentry_read_str(c, p, path, sizeof(p));

        if (n == -ESRCH)
                return SENTRY_DONE; /* the caller is gone */
        if (n < 0)
                return n; /* EFAULT or ENAMETOOLONG, as the kernel would say */
        len = (size_t)snprintf(c->detail, sizeof(c->detail), "\"path\":\"");
        len = audit_json_escape(c->detail, len, sizeof(c->detail) - 2, p);
        c->detail[len++] = '"';
        c->detail[len] = '\0';
        sentry_decide(c, "exec", "audit");
        /* The kernel reads the path again: which file runs is not decided
         * here yet (the gofer's exec right is), only recorded. */
        return SENTRY_CONTINUE;
}

long sys_execve(struct sentry_call *c, uint64_t path, uint64_t argv, uint64_t envp)
{
        (void)argv, (void)envp;
        return exec_event(c, path);
}

long sys_execveat(struct sentry_call *c, int dirfd, uint64_t path, uint64_t argv, uint64_t envp,
                  uint64_t flags)
{
        (void)dirfd, (void)argv, (void)envp, (void)flags;
        return exec_event(c, path);
}

long sys_exit_group(struct sentry_call *c, int status)
{
        snprintf(c->detail, sizeof(c->detail), "\"status\":%d", status & 0xff);
        sentry_decide(c, "exit", "audit");
        return SENTRY_CONTINUE;
}
