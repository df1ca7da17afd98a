/* SPDX-License-Identifier: MIT */
/*
 * Reading an audit log's records (JSON Lines) with jansson, for the
 * commands that read logs: `interpose audit show|summary` and the CI
 * reports. With a chain, each line is checked against the hash chain
 * before it is parsed, so a record is only ever read from checked text.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "../sentry/audit.h"

/* Where reading stopped, and why. */
struct audit_read_error {
        long line;     /* 1-based */
        bool chain;    /* the hash chain broke there (else: not JSON) */
        char why[200]; /* what the line looks like, or jansson's message */
};

/* Call fn for each record of f, in order, with its line number; rec is
 * borrowed for the call. fn returns 0 to go on; anything else stops the
 * reading and is returned. With chain (initialised by the caller), every
 * line is first checked against it, and the chain is left at the last
 * good record. 0 at the end of f; -EBADMSG with err filled for a line
 * that breaks the chain or is not a JSON object; -errno on a read error. */
int audit_read_records(FILE *f, struct audit_chain *chain, int (*fn)(json_t *rec, long line, void *ctx),
                       void *ctx, struct audit_read_error *err);

/* The string member key of rec, or "" (never NULL). */
const char *audit_str(json_t *rec, const char *key);
