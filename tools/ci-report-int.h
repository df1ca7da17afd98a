/* SPDX-License-Identifier: MIT */
/*
 * Between the parts of the CI reports: ci-report.c reads the log into a
 * struct ci_log and writes the summary, ci-report-out.c the Markdown and
 * the JUnit XML, ci-learn.c the learned policy.
 *
 * Strings taken from the log are kept as jansson decoded them. The sentry
 * writes every byte outside printable ASCII as \u00XX, so such a byte
 * arrives as the code point U+00XX; ci_raw() turns the string back into
 * the bytes the guest used, and ci_text() into text safe to show.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "../sentry/audit.h"
#include "ci-report.h"

/* Distinct denials, commands and hosts kept; past that they are counted
 * only (a guest can make as many distinct objects as it likes). */
#define CI_KEEP_MAX 4096

enum ci_area { CI_FILES, CI_NETWORK, CI_PROCESSES, CI_ENVIRONMENT, CI_AREAS };

/* The refusals of one right on one object in one area. */
struct ci_finding {
        enum ci_area area;
        char *object; /* files: the object reached; network: HOST:PORT or a name; else the call's name */
        char *right;  /* files: the right; network: connect, send, resolve, bind; else "" */
        char *rule;   /* the rule that refused (policy_rule, or the record's rule) */
        char *by;     /* the record's rule: policy, net, net-dns, ask, own-tree, ... */
        /* From the first such record: */
        char *decision, *syscall, *exe, *call, *path, *why, *dest, *name, *result;
        bool asked; /* an ask refused ("rule":"ask") */
        bool cut;   /* the record's object was cut short ("cut":true): it names nothing for sure */
        unsigned long count;
};

/* name -> count */
struct ci_tally {
        const char *name;
        unsigned long count;
};

struct ci_log {
        char session[64], started[40], platform[40], policy_hash[80];
        char head[AUDIT_HASH_HEX];
        char *env_removed; /* "NAME,NAME" */
        long records;
        bool started_seen, ended;

        struct ci_finding *f;
        size_t nf, cap;
        unsigned long f_over[CI_AREAS]; /* calls refused past CI_KEEP_MAX findings */
        json_t *f_index;                /* "area\x1fobject\x1fright" -> index into f */
        json_t *commands, *hosts;       /* name -> count */
        json_t *resolved;               /* names the resolver answered */
        json_t *pending;                /* asks not yet decided: "tid/ask_id" */
        unsigned long denied, asked;
        char *first_denied, *first_asked; /* what the first one was, for the gate's line */
};

/* What the reports need besides the log: the options, the home and the
 * workspace (for "~" and relative paths), the policy. */
struct ci_ctx {
        const struct ci_report_opts *o;
        const struct policy *policy;  /* o->policy, or one built for the report */
        const char *home, *workspace; /* NULL when unknown */
};

extern const char *const ci_area_names[CI_AREAS];

/* The bytes s stands for (see above). Owned by the caller. */
char *ci_raw(const char *s);

/* s as text safe to show anywhere: valid UTF-8 without control or
 * direction-changing characters (they become \n, \x1b, \u202e), a
 * backslash doubled, bytes that are not UTF-8 as \xff. Owned by the
 * caller. */
char *ci_text(const char *s);

/* The same for bytes that did not come through JSON (the command, a file
 * name); at most about max bytes of them when max is not 0. */
char *ci_text_bytes(const char *raw, size_t max);

/* A path from the log for people: safe text, with the home as "~". */
char *ci_path_text(const struct ci_ctx *x, const char *s);

/* A finding in a few words, safe text: what was refused on what ("read
 * ~/.ssh/id_rsa", "connect 1.1.1.1:443"), else the call and the rule
 * ("kill(1, SIGKILL) (own-tree)"). stable: the call's name rather than
 * the call ("kill (own-tree)"), for names that stay the same from run to
 * run. Owned by the caller. */
char *ci_describe(const struct ci_ctx *x, const struct ci_finding *f, bool stable);

/* The job's command as one line of safe text, quoted as a shell would
 * need it. Owned by the caller. */
char *ci_command(const struct ci_ctx *x);

/* "exit 0", "exit 137 (SIGKILL)". */
const char *ci_status_text(int status, char *buf, size_t cap);

/* A tally's entries, most first (then by name); *n set. Owned by the
 * caller (the names are the tally's). */
struct ci_tally *ci_ranked(json_t *counts, size_t *n);

/* The findings in report order: by area, then most refused first, then
 * as they came. An array of pointers into log->f, owned by the caller. */
const struct ci_finding **ci_sorted(const struct ci_log *log);

/* Write size bytes of text to path (what: "JUnit report", for the
 * message), appending or replacing it. 0, or -errno with a message. */
int ci_write_file(const struct ci_ctx *x, int fd, const char *path, const char *what, const char *text,
                  size_t size, bool append);

/* The Markdown summary, appended to o->step_summary. 0 or -errno. */
int ci_write_markdown(const struct ci_ctx *x, const struct ci_log *log, const struct ci_result *r);

/* The JUnit XML report, to o->junit. 0 or -errno. */
int ci_write_junit(const struct ci_ctx *x, const struct ci_log *log);

/* The learned policy, to o->learn. 0 or -errno. */
int ci_write_learned(const struct ci_ctx *x, const struct ci_log *log);
