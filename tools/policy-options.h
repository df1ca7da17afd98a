/* SPDX-License-Identifier: MIT */
/* The policy options of the command line, shared by `interpose policy` and
 * (once the gofer enforces them) the launcher. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "../policy/policy.h"

#define POLICY_MAX_FLAGS 256

struct policy_flag {
        const char *name; /* "--allow-read", ...: the rule's origin */
        const char *path;
        unsigned allow, deny;
};

struct policy_options {
        const char *profile;     /* --profile, or NULL for agent */
        const char *policy_file; /* --policy */
        bool policy_untrusted;   /* it is the repository's own (interpose ci): it may not widen much */
        const char *workspace;   /* --workspace, or NULL for the current directory */
        const char *tmpdir;      /* the session's private temp directory, or NULL */
        const char *shmdir;      /* the session's private /dev/shm, or NULL */
        const char *audit_path;  /* --audit, --trace-file: interpose's own records, */
        const char *trace_path;  /* denied to the guest wherever they are */
        const char *control;     /* --control: the approvals socket, likewise */
        const char *audit_sink;  /* --audit-sink=unix:PATH: the collector's socket, likewise */
        struct policy_flag flags[POLICY_MAX_FLAGS];
        size_t n_flags;
        const char *net;          /* --net=none|host, or NULL */
        const char *dns_upstream; /* --dns-upstream */
};

/* Record one of --allow-read, --allow-write, --allow-exec, --deny,
 * --allow-net, --deny-net, --net, --dns-upstream. 0,
 * -ENOENT when name is none of them, -E2BIG when there are too many. */
int policy_parse_flag(struct policy_options *o, const char *name, const char *value);

/* Build the effective policy: profile, then file, then flags. 0 or -errno
 * with err naming the problem (FILE:LINE:COL for files). */
int policy_from_options(struct policy *p, const struct policy_options *o, struct policy_error *err);
