/* SPDX-License-Identifier: MIT */
/*
 * A session: the launcher starts the gofer and the sentry; the sentry forks
 * the guest, which loads the filter and execs the program. The launcher
 * waits, forwards signals, fails closed when the sentry or the gofer dies,
 * and reports the guest's exit status.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../platform/platform.h"
#include "ask.h"

/* Exit codes of interpose itself, as runc/env/sh use them. */
#define EXIT_INTERPOSE_FAILED 125
#define EXIT_NOT_EXECUTABLE 126
#define EXIT_NOT_FOUND 127

struct policy;

/* --max-* and --timeout; 0 means none. */
struct session_limits {
        unsigned max_procs;  /* tasks (processes and threads) of the tree */
        uint64_t max_memory; /* bytes resident, the whole tree */
        unsigned max_fds;    /* open files per process */
        uint64_t max_write;  /* bytes the files the guest writes may grow by, the whole session */
        uint64_t timeout_ms;
        uint64_t max_audit; /* bytes of audit log; past it the session is stopped */
};

/* Exit codes of a session stopped by a limit. */
#define EXIT_TIMEOUT 124      /* as timeout(1) */
#define EXIT_LIMIT_KILLED 137 /* 128 + SIGKILL, as the kernel's OOM killer leaves it */

struct session_opts {
        const char *exe;        /* resolved path of the program */
        char *const *argv;      /* argv as given (argv[0] is what the user typed) */
        const char *hostname;   /* uname nodename inside; NULL: "interpose" */
        const char *audit_path; /* --audit=FILE, or NULL for the state directory */
        const char *trace_path; /* --trace-file=FILE, or NULL */
        bool trace;             /* --trace */
        bool summary;           /* --summary */
        bool backtrace;         /* --backtrace */
        bool keep_fds;          /* --keep-fds: inherited fds above 2 pass to the guest */
        const char *audit_sink; /* --audit-sink=unix:PATH: the socket's path, or NULL */
        const struct platform_ops *platform;
        /* The file policy the gofer judges paths by; NULL: none yet (path
         * calls still run in the kernel, and the gofer grants nothing). */
        const struct policy *policy;
        struct session_limits limits;
        /* Run by the launcher once the sentry is started, off the path
         * to the guest's first instruction (sweeping what earlier
         * sessions left); may be NULL. */
        void (*housekeeping)(void);
        /* Environment variables removed as secrets, comma-separated, for
         * the audit log's start record (names only). */
        char *env_scrubbed;
        /* SHA-256 of the effective policy (as `policy show --json` prints
         * it), bound into the audit log's first record. */
        char policy_hash[65];
        /* Approvals (ask.h), when the policy asks anything. */
        enum approver approver;
        uint64_t ask_timeout_ms; /* 0: no timeout */
        const char *control;     /* --control=PATH, or NULL for the session's directory */
        /* Where the audit log was saved, filled by session_run when not
         * NULL (PATH_MAX + NAME_MAX + 2 bytes; "" when it was not). */
        char *audit_saved;
};

/* Run a whole session. Returns the exit code interpose should exit with:
 * the guest's status, 128+N for a signal, or 125/126/127. Prints its own
 * messages for 125-127. */
int session_run(const struct session_opts *o);

/* In the guest, before exec: drop every capability (bounding, ambient,
 * effective, permitted, inheritable), lock securebits when root, set
 * no_new_privs, and verify. 0 or -errno. */
int session_drop_privileges(void);

/* In the guest, before exec: the rlimits that back the limits (fds,
 * data segment, file size, and for users other than root tasks). */
int session_apply_rlimits(const struct session_limits *l);

/* Where this user may make a cgroup with the pids controller (v2, or v1
 * as on this project's machine): one for the session, whose pids.max
 * (a little above --max-procs) holds a fork bomb between two of the
 * sentry's counts. path gets its directory, or "" (0 or -errno). */
int session_cgroup_create(const struct session_limits *l, const char *session_id, char *path, size_t cap);

/* Remove the cgroups of earlier sessions that ended without removing
 * theirs, beside path (the session's; "": nothing). */
void session_cgroup_sweep(const char *path);

/* In the guest, before exec: move into it (path "" : nothing). */
int session_cgroup_join(const char *path);

/* At the end: remove it, killing anything left in it. */
void session_cgroup_remove(const char *path);

/* Confine the sentry itself with its own seccomp filter. 0 or -errno. */
int session_confine_sentry(bool tracer);

/* Find prog the way execvp would (PATH when it has no slash). Writes the
 * path into buf. 0, -ENOENT (not found), -EACCES (found, not executable),
 * -EISDIR. */
int session_resolve_program(const char *prog, char *buf, size_t cap);
