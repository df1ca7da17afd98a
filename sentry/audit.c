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
        for (; s && *s && len + 7 < cap; s++) {
                unsigned char ch = (unsigned char)*s;
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

static size_t add(char *buf, size_t len, const char *key, const char *val)
{
        if (!val || len + 16 >= RECORD_MAX)
                return len;
        len += (size_t)snprintf(buf + len, RECORD_MAX - len, ",\"%s\":\"", key);
        len = audit_json_escape(buf, len, RECORD_MAX - 8, val);
        buf[len++] = '"';
        return len;
}

int audit_write(struct audit *a, const struct audit_record *r)
{
        _cleanup_free_ char *buf = NULL;
        struct timespec ts;
        struct tm tm;
        char stamp[48], hash[AUDIT_HASH_HEX];
        size_t len;
        int ret;

        if (a->fd < 0)
                return 0;
        buf = xmalloc(RECORD_MAX + 128);
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

        pthread_mutex_lock(&a->lock);
        len = (size_t)snprintf(buf, RECORD_MAX, "{\"seq\":%llu,\"time\":\"%s.%06ldZ\"",
                               (unsigned long long)a->seq, stamp, ts.tv_nsec / 1000);
        len = add(buf, len, "session", a->session);
        if (r->pid)
                len += (size_t)snprintf(buf + len, RECORD_MAX - len, ",\"pid\":%d,\"tid\":%d", (int)r->pid,
                                        (int)r->tid);
        len = add(buf, len, "exe", r->exe);
        len = add(buf, len, "syscall", r->syscall);
        len = add(buf, len, "args", r->args);
        len = add(buf, len, "decision", r->decision);
        len = add(buf, len, "rule", r->rule);
        len = add(buf, len, "result", r->result);
        if (r->extra && *r->extra && len + strlen(r->extra) + 2 < RECORD_MAX) {
                buf[len++] = ',';
                memcpy(buf + len, r->extra, strlen(r->extra));
                len += strlen(r->extra);
        }
        /* No secret in clear (secrets.h): redacted before the hash. */
        len = secrets_redact_json(buf, len, RECORD_MAX);
        len += (size_t)snprintf(buf + len, RECORD_MAX + 128 - len, ",\"prev\":\"%s\"", a->prev);
        audit_sha256_hex(buf, len, hash);
        len += (size_t)snprintf(buf + len, RECORD_MAX + 128 - len, ",\"hash\":\"%s\"}\n", hash);
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
