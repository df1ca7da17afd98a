/* SPDX-License-Identifier: MIT */
/*
 * The sentry confines itself with its own filter (syscalls/own-filters.c,
 * built at build time): no exec, no new processes, no network, no mounts.
 */
#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../syscalls/filter.h"
#include "session.h"

int session_confine_sentry(bool tracer)
{
        return sys_own_filter_load(tracer ? OWN_SENTRY_TRACER : OWN_SENTRY);
}
