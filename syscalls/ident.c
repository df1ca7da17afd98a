/* SPDX-License-Identifier: MIT */
/* Identity and host-wide state: the guest sees a host name of its own and
 * may read, never set, the host's clocks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#ifndef PR_SCHED_CORE
#define PR_SCHED_CORE 62
#endif
#include <sys/timex.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../sentry/sentry.h"
#include "handlers.h"

long sys_uname(struct sentry_call *c, uint64_t buf)
{
        struct utsname u;

        if (uname(&u) < 0)
                return -errno;
        snprintf(u.nodename, sizeof(u.nodename), "%s", c->s->hostname);
        return sentry_write(c, buf, &u, sizeof(u));
}

/* Read-only clock adjustment: the sentry makes the call itself with modes
 * forced to 0 on its own copy, so a guest thread cannot flip the modes
 * after the check. */
static long adjtime_readonly(struct sentry_call *c, int clk, uint64_t buf)
{
        struct timex t;
        int r = sentry_read(c, &t, buf, sizeof(t));

        if (r < 0)
                return r;
        if (t.modes != 0) {
                sentry_decide(c, "deny", "host-clock");
                return -EPERM;
        }
        r = clk < 0 ? adjtimex(&t) : clock_adjtime(clk, &t);
        if (r < 0)
                return -errno;
        t.modes = 0;
        return sentry_write(c, buf, &t, sizeof(t)) < 0 ? -EFAULT : r;
}

long sys_adjtimex(struct sentry_call *c, uint64_t buf)
{
        return adjtime_readonly(c, -1, buf);
}

long sys_clock_adjtime(struct sentry_call *c, int clk, uint64_t buf)
{
        if (clk < 0)
                return -EINVAL; /* dynamic (fd-based) clocks are not ours to read */
        return adjtime_readonly(c, clk, buf);
}

long sys_prctl(struct sentry_call *c, int option, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
        (void)a3, (void)a4, (void)a5;
        /* Core scheduling names other processes (a pid, its thread group
         * or its process group) and changes which tasks may share a core
         * with them: a kernel without it, as many are (EINVAL). */
        if (option == PR_SCHED_CORE) {
                sentry_decide(c, "deny", "table");
                return -EINVAL;
        }
        /* A non-dumpable guest could not be read by the sentry, which must
         * see the memory of every caller; and it gains nothing a sandbox
         * does not already give. Report success and keep it dumpable. */
        if (option == PR_SET_DUMPABLE && a2 == 0)
                return 0;
        return SENTRY_CONTINUE;
}
