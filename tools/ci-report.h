/* SPDX-License-Identifier: MIT */
/*
 * `interpose ci`'s reports: after the job, its audit log turned into what
 * the CI system reads. A summary on stderr, Markdown for GitHub's step
 * summary, JUnit XML, and (--learn) the policy that would have allowed
 * what the job was refused. Findings are sorted into four areas: files,
 * network, processes and environment.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

struct policy;

enum ci_gate { CI_GATE_NEVER, CI_GATE_DENIED, CI_GATE_ASKED };

struct ci_report_opts {
        const char *audit_log;    /* the finished session's audit log (JSONL) */
        char *const *argv;        /* the job's command, for the reports */
        int job_status;           /* the job's exit status as interpose reports it (128+N for signal N) */
        enum ci_gate fail_on;     /* --fail-on */
        const char *junit;        /* --junit=FILE, or NULL */
        const char *step_summary; /* $GITHUB_STEP_SUMMARY (append Markdown), or NULL */
        const char
                *learn; /* --learn=FILE, or NULL: write the policy that would have allowed what the job did */
        FILE *out;      /* the summary on stderr */
        /* The policy the session ran under, or NULL. It tells a refusal a
         * deny rule made (no allow can lift it) from one no rule allowed,
         * gives the rights a learned rule must keep, and "~" and the
         * workspace for paths. NULL: the ci profile with $HOME and the
         * current directory as the workspace. */
        const struct policy *policy;
        /* Files opened before the job ran (so nothing the job did to their
         * paths decides where the reports go): when above 2, the report is
         * written to that fd (truncated first, but the step summary's,
         * which appends) and its path only names it in messages. */
        int junit_fd, step_summary_fd, learn_fd;
};

struct ci_result {
        unsigned long denied; /* refusals by the policy (decision "deny" or "kill") */
        /* calls that were asked (decision "ask"; in CI asks are denied at
         * once: "deny" records with "rule":"ask") */
        unsigned long asked;
        /* the gate trips: fail_on DENIED and denied > 0, or ASKED and
         * asked > 0 (a denied ask counts as asked, and as denied) */
        bool tripped;
};

/* Read the log, fill r, write every report asked for. 0, or -errno with a
 * message on o->out naming the problem: -EBADMSG for a log whose hash
 * chain does not verify or that is not an audit log (then no report is
 * written), -errno for a log that cannot be read or a report that cannot
 * be written (the others are still written). r is written only on 0. */
int ci_reports(const struct ci_report_opts *o, struct ci_result *r);
