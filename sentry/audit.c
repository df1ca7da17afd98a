/* SPDX-License-Identifier: MIT */
#include "audit.h"
#include "secrets.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define RECORD_MAX 16384
/* A record's members stop short of RECORD_MAX by the room of the mark. */
#define TRUNCATED ",\"truncated\":true"
#define BODY_MAX (RECORD_MAX - sizeof(TRUNCATED))
/* A member of a shortened record: small enough that redaction (at most
 * doubling it) cannot outgrow RECORD_MAX. */
#define FIELD_SHORT 1024
/* After the body: its link and its hash, the newline and a NUL. */
#define TAIL_MAX (sizeof(",\"prev\":\"\"") + sizeof(",\"hash\":\"\"}\n") + 2 * (AUDIT_HASH_HEX - 1))

static void hex(const uint8_t *d, size_t n, char *out)
{
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[d[i] >> 4];
                out[2 * i + 1] = digits[d[i] & 15];
        }
        out[2 * n] = '\0';
}

void audit_sha256_hex(const char *buf, size_t n, char out[AUDIT_HASH_HEX])
{
        struct sha256_ctx ctx;
        uint8_t digest[SHA256_DIGEST_SIZE];

        sha256_init(&ctx);
        sha256_update(&ctx, n, (const uint8_t *)buf);
        sha256_digest(&ctx, sizeof(digest), digest);
        hex(digest, sizeof(digest), out);
}

int audit_init(struct audit *a, int fd, const char *session)
{
        a->fd = fd;
        a->sink = -1;
        a->seq = 0;
        snprintf(a->session, sizeof(a->session), "%s", session ? session : "");
        memset(a->prev, '0', AUDIT_HASH_HEX - 1);
        a->prev[AUDIT_HASH_HEX - 1] = '\0';
        return -pthread_mutex_init(&a->lock, NULL);
}

size_t audit_json_escape(char *buf, size_t len, size_t cap, const char *s)
{
        size_t n = s ? strlen(s) : 0, room = 2 * n + 16;
        _cleanup_free_ char *clear = xmalloc(room);

        /* Secrets out before the text is cut to fit: a secret the cut
         * splits would be recognised in neither half (secrets.h). */
        n = secrets_copy(clear, room, s ? s : "");
        for (size_t i = 0; i < n && len + 7 < cap; i++) {
                unsigned char ch = (unsigned char)clear[i];
                if (ch == '"' || ch == '\\') {
                        buf[len++] = '\\';
                        buf[len++] = (char)ch;
                } else if (ch < 0x20 || ch >= 0x7f) {
                        /* Bytes, not code points: the log must round-trip any
                         * byte string a guest can pass, valid UTF-8 or not. */
                        len += (size_t)snprintf(buf + len, cap - len, "\\u%04x", ch);
                } else {
                        buf[len++] = (char)ch;
                }
        }
        if (len < cap)
                buf[len] = '\0';
        return len;
}

/* snprintf's count is what it would have written: never past cap. */
static size_t grown(size_t len, int n, size_t cap)
{
        return n < 0 ? len : len + (size_t)n < cap ? len + (size_t)n : cap - 1;
}

/* One string member, taking at most max bytes and leaving the room of the
 * "truncated" mark. */
static size_t add(char *buf, size_t len, size_t max, const char *key, const char *val)
{
        size_t end = len + max < BODY_MAX ? len + max : BODY_MAX;

        if (!val || len + strlen(key) + 16 >= end)
                return len;
        len = grown(len, snprintf(buf + len, end - len, ",\"%s\":\"", key), end);
        len = audit_json_escape(buf, len, end - 1, val);
        buf[len++] = '"';
        return len;
}

/* The record's members before its link (no closing brace). Whole, or
 * shortened: no args nor extra members, every string bounded, marked
 * "truncated" (as is a whole record whose extra members did not fit). */
static size_t body(const struct audit *a, const struct audit_record *r, const char *stamp, bool whole,
                   char *buf)
{
        size_t max = whole ? RECORD_MAX : FIELD_SHORT, len;
        bool cut = !whole;

        len = grown(
                0,
                snprintf(buf, BODY_MAX, "{\"seq\":%llu,\"time\":\"%s\"", (unsigned long long)a->seq, stamp),
                BODY_MAX);
        len = add(buf, len, max, "session", a->session);
        if (r->pid)
                len = grown(len,
                            snprintf(buf + len, BODY_MAX - len, ",\"pid\":%d,\"tid\":%d", (int)r->pid,
                                     (int)r->tid),
                            BODY_MAX);
        len = add(buf, len, max, "exe", r->exe);
        len = add(buf, len, max, "syscall", r->syscall);
        if (whole)
                len = add(buf, len, max, "args", r->args);
        len = add(buf, len, max, "decision", r->decision);
        len = add(buf, len, max, "rule", r->rule);
        len = add(buf, len, max, "result", r->result);
        if (whole && r->extra && *r->extra) {
                size_t n = strlen(r->extra);
                cut = len + n + 1 >= BODY_MAX;
                if (!cut) {
                        buf[len++] = ',';
                        memcpy(buf + len, r->extra, n);
                        len += n;
                }
        }
        if (cut) {
                memcpy(buf + len, TRUNCATED, sizeof(TRUNCATED) - 1);
                len += sizeof(TRUNCATED) - 1;
        }
        buf[len] = '\0';
        return len;
}

int audit_write(struct audit *a, const struct audit_record *r)
{
        _cleanup_free_ char *buf = NULL;
        struct timespec ts;
        struct tm tm;
        char stamp[64], hash[AUDIT_HASH_HEX];
        size_t len, n;
        int ret;

        if (a->fd < 0)
                return 0;
        buf = xmalloc(RECORD_MAX + TAIL_MAX);
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(stamp + n, sizeof(stamp) - n, ".%06ldZ", ts.tv_nsec / 1000);

        pthread_mutex_lock(&a->lock);
        /* No secret in clear (secrets.h): redacted before the hash. A short
         * secret becomes the longer mark: a record that redaction would
         * make too long is shortened, never cut in its structure. */
        len = body(a, r, stamp, true, buf);
        n = secrets_redact_json(buf, len, RECORD_MAX);
        if (!n) {
                len = body(a, r, stamp, false, buf);
                n = secrets_redact_json(buf, len, RECORD_MAX);
        }
        len = grown(n, snprintf(buf + n, RECORD_MAX + TAIL_MAX - n, ",\"prev\":\"%s\"", a->prev),
                    RECORD_MAX + TAIL_MAX);
        audit_sha256_hex(buf, len, hash);
        len = grown(len, snprintf(buf + len, RECORD_MAX + TAIL_MAX - len, ",\"hash\":\"%s\"}\n", hash),
                    RECORD_MAX + TAIL_MAX);
        ret = write_all(a->fd, buf, len);
        if (ret == 0 && a->sink >= 0 && write_all(a->sink, buf, len) < 0) {
                /* The collector went away or stalled (a 2 s send timeout):
                 * the file is the record; say so once and stop streaming. */
                static const char msg[] =
                        "interpose: sentry: the --audit-sink collector stopped taking records; the audit "
                        "file has them all\n";
                write_all(2, msg, sizeof(msg) - 1);
                close(a->sink);
                a->sink = -1;
        }
        if (ret == 0) {
                memcpy(a->prev, hash, AUDIT_HASH_HEX);
                a->seq++;
                a->bytes += len;
        }
        pthread_mutex_unlock(&a->lock);
        return ret;
}

void audit_head(struct audit *a, char out[AUDIT_HASH_HEX])
{
        pthread_mutex_lock(&a->lock);
        memcpy(out, a->prev, AUDIT_HASH_HEX);
        pthread_mutex_unlock(&a->lock);
}

static long long seq_of(const char *line)
{
        return strncmp(line, "{\"seq\":", 7) ? -1 : strtoll(line + 7, NULL, 10);
}

/* Check one line: returns 0 and updates prev when its link and hash hold;
 * else says what is wrong with it in why. */
static int verify_line(const char *line, size_t n, char prev[AUDIT_HASH_HEX], long long want_seq,
                       const char **why)
{
        static const char hkey[] = ",\"hash\":\"";
        static const char pkey[] = ",\"prev\":\"";
        char want[AUDIT_HASH_HEX];
        size_t body = n - (sizeof(hkey) - 1) - 64 - 2;
        long long seq;

        if (n < sizeof(hkey) + 64 + 2 + sizeof(pkey) + 64 || line[n - 1] != '}' || line[n - 2] != '"' ||
            memcmp(line + body, hkey, sizeof(hkey) - 1) != 0 ||
            memcmp(line + body - 64 - 1 - (sizeof(pkey) - 1), pkey, sizeof(pkey) - 1) != 0) {
                *why = "not a record of an audit log (cut short, or written by hand)";
                return -EBADMSG;
        }
        audit_sha256_hex(line, body, want);
        if (memcmp(want, line + body + sizeof(hkey) - 1, 64) != 0) {
                *why = "the record was edited (its hash does not match its content)";
                return -EBADMSG;
        }
        if (memcmp(line + body - 64 - 1, prev, 64) != 0) {
                seq = seq_of(line);
                *why = seq > want_seq   ? "records are missing before it (dropped)"
                       : seq < want_seq ? "it is out of order (records reordered or repeated)"
                                        : "the record before it was replaced, or this one inserted";
                return -EBADMSG;
        }
        memcpy(prev, want, AUDIT_HASH_HEX);
        return 0;
}

void audit_chain_init(struct audit_chain *c)
{
        memset(c->prev, '0', AUDIT_HASH_HEX - 1);
        c->prev[AUDIT_HASH_HEX - 1] = '\0';
        c->want_seq = 0;
        c->records = 0;
}

int audit_chain_next(struct audit_chain *c, const char *line, size_t n, const char **ret_why)
{
        const char *why = "";
        int r = verify_line(line, n, c->prev, c->want_seq, &why);

        if (r < 0) {
                if (ret_why)
                        *ret_why = why;
                return r;
        }
        c->want_seq = seq_of(line) + 1;
        c->records++;
        return 0;
}

long audit_verify(int fd, long *ret_line, char head[AUDIT_HASH_HEX], const char **ret_why)
{
        _cleanup_free_ char *line = NULL;
        FILE *f = fdopen(dup(fd), "r");
        struct audit_chain c;
        size_t cap = 0;
        ssize_t n;

        if (!f)
                return -errno;
        audit_chain_init(&c);
        while ((n = getline(&line, &cap, f)) > 0) {
                if (line[n - 1] == '\n')
                        line[--n] = '\0';
                if (audit_chain_next(&c, line, (size_t)n, ret_why) < 0) {
                        fclose(f);
                        *ret_line = c.records + 1;
                        return -EBADMSG;
                }
        }
        fclose(f);
        if (head)
                memcpy(head, c.prev, AUDIT_HASH_HEX);
        return c.records;
}
