/* SPDX-License-Identifier: MIT */
/*
 * `interpose ci [OPTIONS] -- COMMAND...` (issue 8): run a CI job under the
 * ci profile, never asking anyone, and report what it tried beyond its
 * policy in the CI system's formats (ci-report.c); a gate turns a passing
 * job with findings into a failing one.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>

#include "../sentry/session.h"
#include "ci-report.h"
#include "policy-options.h"

/* A passing job whose gate tripped (--fail-on) exits with this. */
#define EXIT_CI_GATE 112

struct ci_opts {
        bool on; /* `interpose ci` */
        enum ci_gate fail_on;
        const char *junit;      /* --junit=FILE */
        const char *artifacts;  /* --artifacts=DIR */
        const char *learn;      /* --learn[=FILE] */
        bool no_repo_policy;    /* --no-repo-policy (or INTERPOSE_CI_NO_REPO_POLICY=1) */
        const char *run_policy; /* the policy file the job ran under (--policy, the repository's), or NULL */
        char *run_policy_text;  /* its text as read before the job (--learn), or NULL */
        char audit[PATH_MAX];
        char junit_buf[PATH_MAX];
        char workspace[PATH_MAX];
        char repo_policy[PATH_MAX];
        char audit_saved[PATH_MAX + NAME_MAX + 2];
        int junit_fd, step_fd, learn_fd; /* the reports' files, opened before the job */
};

/* The ci options getopt returned (codes CI_OPT_*); 0, or 125 with a
 * message for a bad value. */
enum {
        CI_OPT_FAIL_ON = 1100,
        CI_OPT_JUNIT,
        CI_OPT_ARTIFACTS,
        CI_OPT_LEARN,
        CI_OPT_NO_REPO_POLICY,
};
int ci_option(struct ci_opts *ci, int code, const char *arg);

/* Before the policy is built: the CI defaults (the ci profile, the
 * runner's workspace, the repository's .interpose.json, nobody to ask,
 * the audit log where reports can read it). 0, or 125 with a message. */
int ci_prepare(struct ci_opts *ci, struct policy_options *po, struct session_opts *o);

/* After the session: the reports and the gate. The exit status: the
 * job's own when it failed; EXIT_CI_GATE when it passed and the gate
 * tripped; 125 when the log could not be read. */
int ci_finish(struct ci_opts *ci, const struct session_opts *o, int code);
