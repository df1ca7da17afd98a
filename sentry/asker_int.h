/* SPDX-License-Identifier: MIT */
/*
 * Inside the asker: the terminal prompt (prompt.c), which runs in a child
 * process of its own so that it can take the terminal's foreground without
 * moving the launcher out of its job.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ask.h"

/* What the terminal shows for one question. */
struct prompt_text {
        char text[4096];   /* the whole question, up to the "allow [o]nce...?" line */
        char again[512];   /* that last line alone, to ask again after a wrong answer */
        char notice[2048]; /* one line when the terminal is not ours to take */
        char lost[512];    /* one line when the terminal is taken from the prompt */
};

/* Where the prompter may take the terminal from. */
struct prompt_ctx {
        int tty;             /* interpose's controlling terminal */
        pid_t launcher_pgrp; /* the launcher's process group (interpose's job) */
        pid_t sentry;        /* the guest's groups descend from it; 0: none known */
};

/* How a prompt ended: an ask_verdict (the person's answer), or: */
enum {
        PROMPT_CANCELLED = 100, /* the asker cancelled it (answered elsewhere, withdrawn, timed out) */
        PROMPT_BACKGROUND,      /* the terminal belongs to another job: the notice was shown instead */
        PROMPT_LOST,            /* something else took the terminal while it asked */
        PROMPT_FAILED,          /* the terminal cannot be used (err says why) */
};

struct prompt_result {
        int outcome; /* an ask_verdict or PROMPT_* */
        int err;     /* PROMPT_FAILED: the errno */
};

/* One prompter child. pid 0: none. */
struct prompt {
        pid_t pid;
        int pidfd;     /* to reap and, at worst, kill it */
        uint32_t id;   /* the question it asks */
        int cancel_fd; /* a reason line, then closed: stop asking */
        int result_fd; /* one struct prompt_result, then EOF */
};

/* Fork a prompter for question id showing t. 0 or -errno. */
int prompt_start(struct prompt *p, const struct prompt_ctx *c, uint32_t id, const struct prompt_text *t);

/* Tell the prompter to stop, showing reason (may be NULL) under the
 * question. It restores the terminal and reports PROMPT_CANCELLED, unless
 * it had its answer already. Idempotent. */
void prompt_cancel(struct prompt *p, const char *reason);

/* Collect the outcome once result_fd is readable (or, with wait_ms > 0,
 * wait that long for it; past that the prompter is killed), reap the
 * prompter and reset p. */
struct prompt_result prompt_finish(struct prompt *p, int wait_ms);
