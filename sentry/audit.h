/* SPDX-License-Identifier: MIT */
/*
 * The audit log: JSON Lines, one record per decision that is not a plain
 * allow. Each record carries the hash of the one before it ("prev") and its
 * own ("hash", SHA-256 over the record up to that member), so any edit,
 * insertion or deletion breaks the chain.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define AUDIT_HASH_HEX 65

struct audit {
        int fd;   /* -1: audit off */
        int sink; /* a stream socket that gets a copy of each record, or -1 */
        char session[40];
        uint64_t seq;
        uint64_t bytes;            /* written so far */
        char prev[AUDIT_HASH_HEX]; /* hex hash of the last record */
        pthread_mutex_t lock;
};

/* One record. Strings may be NULL (omitted). args is decoded text; extra is
 * raw JSON members to append (already escaped), without a leading comma. */
struct audit_record {
        pid_t pid, tid;
        const char *exe;
        const char *syscall;
        const char *args;
        const char *decision;
        const char *rule;
        const char *result;
        const char *extra;
};

/* Start writing to fd (owned by the caller). 0 or -errno. */
int audit_init(struct audit *a, int fd, const char *session);

/* Append one record. 0 or -errno (the caller decides what a failed write
 * means; the sentry treats it as fatal). A record too long for the log
 * (16 KiB), also once its secrets are redacted, loses its args and extra
 * members and says "truncated":true. */
int audit_write(struct audit *a, const struct audit_record *r);

/* Copy the hash of the last record (the chain head) into out. */
void audit_head(struct audit *a, char out[AUDIT_HASH_HEX]);

/* Append s to buf as a JSON string body (no quotes), escaping as needed,
 * its secrets redacted before it is cut to fit (secrets.h); never writes
 * past cap. Returns the new length. */
size_t audit_json_escape(char *buf, size_t len, size_t cap, const char *s);

/* SHA-256 of buf in hex (the chain's hash). */
void audit_sha256_hex(const char *buf, size_t n, char out[AUDIT_HASH_HEX]);

/* Checking a log one line at a time, as it is read, so that what a reader
 * goes on to parse is the very text that was checked: the hash of the last
 * good record and the sequence number the next one should carry. */
struct audit_chain {
        char prev[AUDIT_HASH_HEX];
        long long want_seq;
        long records; /* checked so far */
};

/* Start before a log's first line. */
void audit_chain_init(struct audit_chain *c);

/* Check the next line (n bytes, without its newline): its hash, and its
 * link to the record before. 0, or -EBADMSG with *ret_why saying what the
 * line looks like (edited, records dropped before it, ...); c->prev is
 * then the chain head so far. */
int audit_chain_next(struct audit_chain *c, const char *line, size_t n, const char **ret_why);

/* Verify a log read from fd: every hash and link. Returns the number of
 * records, or -EBADMSG with *ret_line set to the first bad line. */
long audit_verify(int fd, long *ret_line, char head[AUDIT_HASH_HEX], const char **ret_why);
