/* SPDX-License-Identifier: MIT */
/* The guest's seccomp filter, generated from the syscall table. */
#pragma once

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>

/* Build the guest filter: every row that is not D_KERNEL/D_PATH (and every
 * guarded row, when its guard holds), every number the table does not know
 * below SYS_FILTER_TRAP_LIMIT, and every call of another ABI (i386, x32) get
 * trap_action (SCMP_ACT_NOTIFY, or SCMP_ACT_TRACE for ptrace); everything
 * else is allowed in the kernel. On success *ret is a malloc'd program with
 * its filter (free with sys_filter_free). 0 or -errno. */
int sys_filter_build(uint32_t trap_action, bool paths, struct sock_fprog **ret);

/* Rows a tracing platform (trap_action SCMP_ACT_TRACE) traps and user
 * notification leaves to the kernel: wait4 and waitid, through which a
 * guest tracer's tracees report when the sentry emulates ptrace. */
bool sys_filter_tracer_only(int nr);

/* The same program, built by syscalls/gen-filter at build time with
 * SYS_FILTER_TRAP_MARK as its trap action: a copy with trap_action put in
 * its place. Same conventions as sys_filter_build; microseconds instead of
 * milliseconds. */
int sys_filter_prebuilt(uint32_t trap_action, bool paths, struct sock_fprog **ret);

/* The trap action the prebuilt program is generated with: the user
 * notification return (no other return in the program uses it). */
#define SYS_FILTER_TRAP_MARK 0x7fc00000U /* SECCOMP_RET_USER_NOTIF */

extern const unsigned short sys_filter_prebuilt_len;
extern const struct sock_filter sys_filter_prebuilt_insns[];
extern const unsigned short sys_filter_prebuilt_paths_len;
extern const struct sock_filter sys_filter_prebuilt_paths_insns[];
extern const unsigned short sys_filter_prebuilt_tracing_len;
extern const struct sock_filter sys_filter_prebuilt_tracing_insns[];
extern const unsigned short sys_filter_prebuilt_paths_tracing_len;
extern const struct sock_filter sys_filter_prebuilt_paths_tracing_insns[];

void sys_filter_free(struct sock_fprog *prog);

/* A libseccomp context as a program (malloc'd; sys_filter_free). 0 or
 * -errno. The context is libseccomp's scmp_filter_ctx. */
int sys_filter_export(void *ctx, struct sock_fprog **ret);

/* interpose's own filters (syscalls/own-filters.c). */
enum sys_own_filter {
        OWN_SENTRY,        /* the sentry on seccomp-unotify */
        OWN_SENTRY_TRACER, /* the sentry on ptrace (ptrace and kcmp allowed) */
        OWN_GOFER,
        OWN_FILTERS,
};

/* Build one with libseccomp (gen-filter, the tests). 0 or -errno. */
int sys_own_filter_build(enum sys_own_filter which, struct sock_fprog **ret);

/* Load the prebuilt one on the calling thread (no_new_privs set first),
 * as libseccomp's seccomp_load would. 0 or -errno. */
int sys_own_filter_load(enum sys_own_filter which);

extern const unsigned short sys_own_prebuilt_len[OWN_FILTERS];
extern const struct sock_filter *const sys_own_prebuilt_insns[OWN_FILTERS];

/* Numbers at or above this are rejected by the kernel itself (ENOSYS) on
 * every kernel in sight, so the filter need not name them. */
#define SYS_FILTER_TRAP_LIMIT 1024

/* Run a classic BPF seccomp program on (arch, nr, args) the way the kernel
 * would, for offline filter tests. Returns the SECCOMP_RET_* action word. */
uint32_t sys_filter_eval(const struct sock_fprog *prog, uint32_t arch, int nr, const uint64_t args[6]);
