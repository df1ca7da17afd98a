/* SPDX-License-Identifier: MIT */
/* Internal to a session: what the launcher hands the sentry process. */
#pragma once

#include <limits.h>
#include <signal.h>
#include <stdbool.h>

#include "audit.h"
#include "session.h"

enum session_msg_type {
        MSG_GUEST_PID = 1, /* value: the first guest process */
        MSG_GUEST_EXIT,    /* value: its wait status; the session is over */
        MSG_LIMIT,         /* value: LIMIT_* (sentry.h); the tree is being stopped */
};

struct session_msg {
        int type;
        int value;
        unsigned long denials;
        unsigned long trapped;
        char head[AUDIT_HASH_HEX];
};

struct audit_place {
        int dirfd;
        char dir[PATH_MAX];
        char name[NAME_MAX + 1];
        bool linked;    /* the fallback: a named file from the start */
        bool moved;     /* saved somewhere else than asked: always say where */
        int live_dirfd; /* the state directory holding audit.jsonl.live, or -1 */
};

/* "interpose: MESSAGE" on stderr, in one write. */
__attribute__((format(printf, 1, 2))) void session_complain(const char *fmt, ...);

/* Give the finished log its name, or another when the guest got in the
 * way; ap says where it went. 0 or -errno when it could not be saved. */
int session_audit_publish(struct audit_place *ap, int fd, const char *session_id);

struct session_ctx {
        const struct session_opts *o;
        struct platform plat;
        char session_id[40];
        pid_t launcher;
        int audit_fd;                    /* the session's log, unlinked until the end */
        int audit_sink;                  /* --audit-sink: a connected stream socket, or -1 */
        struct audit_place *audit_place; /* where it goes (the sentry saves it if the launcher dies) */
        int trace_fd;                    /* -1 without --trace */
        int status_fd;                   /* sentry -> launcher messages */
        int exec_err_fd;                 /* guest -> launcher: errno of a failed exec */
        int gofer_fd;                    /* the sentry's socket to the gofer */
        sigset_t orig_mask;              /* the signal mask interpose started with */
        sigset_t orig_ignored;           /* signals ignored when interpose started */
        char cgroup[PATH_MAX];           /* the session's pids cgroup, or "" */
        int ask_fd;                      /* the sentry's end of the approvals socket (ask.h), or -1 */
        const char *ask_nobody;          /* without one, when the policy asks: why nobody is asked */
        bool ask_tty;                    /* the asker prompts on interpose's terminal */
};

/* The sentry process: forks the guest, serves it, never returns. */
__attribute__((noreturn)) void sentry_process(struct session_ctx *ctx);
