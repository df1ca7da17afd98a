/* SPDX-License-Identifier: MIT */
/* Internal to a session: what the launcher hands the sentry process. */
#pragma once

#include <signal.h>
#include <stdbool.h>

#include "audit.h"
#include "session.h"

enum session_msg_type {
        MSG_GUEST_PID = 1, /* value: the first guest process */
        MSG_GUEST_EXIT,    /* value: its wait status; the session is over */
};

struct session_msg {
        int type;
        int value;
        unsigned long denials;
        unsigned long trapped;
        char head[AUDIT_HASH_HEX];
};

struct session_ctx {
        const struct session_opts *o;
        struct platform plat;
        char session_id[40];
        pid_t launcher;
        int audit_fd;          /* the session's log, unlinked until the end */
        int trace_fd;          /* -1 without --trace */
        int status_fd;         /* sentry -> launcher messages */
        int exec_err_fd;       /* guest -> launcher: errno of a failed exec */
        int gofer_fd;          /* the sentry's socket to the gofer */
        sigset_t orig_mask;    /* the signal mask interpose started with */
        sigset_t orig_ignored; /* signals ignored when interpose started */
};

/* The sentry process: forks the guest, serves it, never returns. */
__attribute__((noreturn)) void sentry_process(struct session_ctx *ctx);
