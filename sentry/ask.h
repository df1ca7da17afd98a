/* SPDX-License-Identifier: MIT */
/*
 * Approvals (issue 7): a call that needs a right the policy gives only on
 * request ("ask") waits while a person decides.
 *
 * The sentry parks the call and sends the launcher a question on a
 * SOCK_SEQPACKET socketpair; the launcher's asker (asker.c) puts it to a
 * person, on interpose's controlling terminal and on the session's control
 * socket (`interpose pending`, `interpose approve ID`, `interpose deny ID`),
 * and answers; unanswered, it answers ASK_DENY by "timeout" after
 * --ask-timeout. The sentry then decides the parked call again, with the
 * answer, on its serving thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Who may answer (--approver). */
enum approver {
        /* the terminal when interpose has one, and the control socket; none without a terminal */
        APPROVER_AUTO,
        APPROVER_TTY,    /* the terminal (required) and the control socket */
        APPROVER_SOCKET, /* the control socket only: wait for `interpose approve` */
        APPROVER_NONE,   /* nobody: every ask is denied at once, with the reason */
};

enum ask_msg_type {
        ASK_QUESTION = 1, /* sentry -> launcher: a new question */
        ASK_WITHDRAW,     /* sentry -> launcher: nobody waits for it any more (the caller died) */
        ASK_ANSWER,       /* launcher -> sentry */
};

enum ask_verdict {
        ASK_ONCE = 1,    /* this call only */
        ASK_ALWAYS,      /* this right on this object, for the rest of the session */
        ASK_DENY,        /* refuse this call */
        ASK_DENY_ALWAYS, /* refuse this right on this object for the rest of the session, without asking */
};

/* One message, either way. Strings are NUL-terminated (and already
 * redacted of secrets by the sentry). */
struct ask_msg {
        uint32_t type;     /* ask_msg_type */
        uint32_t id;       /* the question, numbered from 1 in the session */
        uint32_t verdict;  /* ASK_ANSWER: ask_verdict */
        int32_t pid;       /* ASK_QUESTION: the calling process */
        char kind[8];      /* "file", "exec", "net" */
        char right[32];    /* "read", "write", "create", "exec", "connect", ... */
        char syscall[32];  /* "openat" */
        char exe[256];     /* the calling program */
        char object[1024]; /* the host object: a canonical path, or "93.184.216.34:443 (example.com)" */
        char call[512];    /* the call as decoded, for the prompt: openat(AT_FDCWD, "x", O_RDONLY) */
        char rule[128];    /* the rule that asks: "--ask-read", "policy.json:4:5" */
        /* ASK_ANSWER: who answered ("tty", "socket uid=1000 pid=42 name=alice", "timeout") */
        char by[160];
};

/* Verdict names, as the audit log and the control socket spell them:
 * "once", "always", "deny", "deny-always"; NULL for another value. */
const char *ask_verdict_name(uint32_t v);

/* The verdict by name (also "approve" for once); 0 when unknown. */
uint32_t ask_verdict_by_name(const char *name);

/* --- the launcher's side (asker.c) --- */

struct asker_opts {
        enum approver mode;  /* never APPROVER_NONE or AUTO without a terminal: no asker then */
        uint64_t timeout_ms; /* --ask-timeout; 0: wait for ever */
        const char *control; /* the control socket's path */
        const char *session_id;
        int tty; /* interpose's controlling terminal (O_RDWR), or -1: socket only */
        /* The sentry's pid: a client that descends from it (the guest) is
         * refused, and the terminal is taken only from the launcher's job
         * or one of the guest's; 0: no such check. */
        pid_t sentry;
};

/* Start the asker thread, serving questions that arrive on sentry_fd
 * (which it owns from now: closed on failure too). The control socket is
 * bound before this returns. The calling thread blocks SIGTTIN and
 * SIGTTOU from now on (any other thread of the launcher must too): a guest
 * reading the terminal while the prompt has it stops its process group,
 * and the launcher must not stop with it. 0 or -errno (-EADDRINUSE: a live
 * session's socket is at o->control; -EBUSY: an asker runs already). */
int asker_start(const struct asker_opts *o, int sentry_fd);

/* At the session's end: close any prompt (the terminal as it was), stop
 * the thread, remove the control socket. */
void asker_stop(void);

/* --- for clients of the control socket (interpose pending/approve/deny) --- */

/* Connect to a session's control socket (a path of any length). The
 * connected socket (O_CLOEXEC), or -errno (-ECONNREFUSED: nobody listens,
 * the session is gone). */
int ask_control_connect(const char *path);

/* Copy s for display on a terminal: printable characters stay, any other
 * byte (controls, escapes, invalid UTF-8, bidirectional overrides) is
 * shown as \xNN, so a name the guest chose cannot rewrite the screen.
 * Truncated with "..." to fit cap (> 4). Returns out. */
char *ask_printable(char *out, size_t cap, const char *s);
