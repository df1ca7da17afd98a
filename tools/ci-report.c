/* SPDX-License-Identifier: MIT */
/*
 * `interpose ci`'s reports: the audit log read once, each line checked
 * against the hash chain before it is parsed, into findings (refusals
 * grouped by area, object and right), the commands run and the hosts
 * contacted; then the summary on stderr, and the Markdown, JUnit and
 * learned policy (ci-report-out.c, ci-learn.c).
 *
 * Everything shown comes from the guest and goes through ci_text(): a
 * path with a newline or an escape sequence could otherwise forge lines
 * in a CI log (GitHub reads "::command::" lines from it) or a terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "../sentry/util.h"
#include "audit-read.h"
#include "ci-report-int.h"

#define TOP_N 8
#define CALL_SHOWN 120 /* bytes of a decoded call shown */

const char *const ci_area_names[CI_AREAS] = { "files", "network", "processes", "environment" };

char *ci_raw(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        char *out = xmalloc(strlen(s) + 1), *o = out;

        while (*p) {
                if ((p[0] == 0xc2 || p[0] == 0xc3) && (p[1] & 0xc0) == 0x80) {
                        *o++ = (char)(((p[0] & 0x1f) << 6) | (p[1] & 0x3f));
                        p += 2;
                } else {
                        *o++ = (char)*p++;
                }
        }
        *o = '\0';
        return out;
}

/* The code point of the UTF-8 sequence at p (len bytes), or -1 when it is
 * not one (overlong, a surrogate, past U+10FFFF, cut short). */
static long utf8_at(const unsigned char *p, size_t *len)
{
        long cp;
        size_t n;

        if (p[0] < 0x80) {
                *len = 1;
                return p[0];
        }
        n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 0;
        if (!n || p[0] > 0xf4)
                return -1;
        cp = p[0] & (0x7f >> n);
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return -1;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return -1;
        *len = n;
        return cp;
}

/* Characters shown escaped though valid: controls (C0, DEL, C1), those
 * that reorder or hide text (bidi controls, zero-width ones, the BOM),
 * line and paragraph separators, and the non-characters XML refuses. */
static bool hidden(long cp)
{
        return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0xad || (cp >= 0x200b && cp <= 0x200f) ||
               (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
               (cp >= 0xfff9 && cp <= 0xfffb) || cp == 0xfffe || cp == 0xffff;
}

char *ci_text_bytes(const char *raw, size_t max)
{
        const unsigned char *p = (const unsigned char *)raw;
        char *out = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&out, &size);

        if (!m)
                abort();
        while (*p) {
                size_t len = 1;
                long cp = utf8_at(p, &len);

                if (max && (size_t)ftell(m) >= max) {
                        fputs("...", m);
                        break;
                }
                if (cp < 0)
                        fprintf(m, "\\x%02x", *p);
                else if (cp == '\\')
                        fputs("\\\\", m);
                else if (cp == '\n')
                        fputs("\\n", m);
                else if (cp == '\t')
                        fputs("\\t", m);
                else if (cp == '\r')
                        fputs("\\r", m);
                else if (hidden(cp))
                        fprintf(m, cp < 0x80 ? "\\x%02lx" : "\\u%04lx", cp);
                else
                        fwrite(p, 1, len, m);
                p += len;
        }
        fclose(m);
        return out;
}

char *ci_text(const char *s)
{
        _cleanup_free_ char *raw = ci_raw(s);
        return ci_text_bytes(raw, 0);
}

char *ci_path_text(const struct ci_ctx *x, const char *s)
{
        _cleanup_free_ char *raw = ci_raw(s);
        size_t n = x->home ? strlen(x->home) : 0;

        while (n > 1 && x->home[n - 1] == '/')
                n--;
        if (n > 1 && !strncmp(raw, x->home, n) && (raw[n] == '/' || !raw[n])) {
                raw[n - 1] = '~';
                return ci_text_bytes(raw + n - 1, 0);
        }
        return ci_text_bytes(raw, 0);
}

static bool is_verb(const char *right)
{
        static const char *const verbs[] = { "connect", "send", "resolve", "bind", "listen" };
        for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
                if (!strcmp(right, verbs[i]))
                        return true;
        return false;
}

char *ci_describe(const struct ci_ctx *x, const struct ci_finding *f, bool stable)
{
        _cleanup_free_ char *what = NULL, *how = NULL;
        char *out;

        if (f->area == CI_FILES || (f->area == CI_NETWORK && is_verb(f->right))) {
                what = f->area == CI_FILES ? ci_path_text(x, f->object) : ci_text(f->object);
                how = ci_text(f->right);
                if (asprintf(&out, "%s %s", how, what) < 0)
                        abort();
                return out;
        }
        if (!stable && f->call && *f->call) {
                _cleanup_free_ char *raw = ci_raw(f->call);
                what = ci_text_bytes(raw, CALL_SHOWN);
        } else {
                what = ci_text(f->object);
        }
        how = ci_text(f->rule);
        if (asprintf(&out, "%s (%s)", what, how) < 0)
                abort();
        return out;
}

/* A word a shell would take as it is. */
static bool plain_word(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=@%+,-", *s))
                        return false;
        return true;
}

char *ci_command(const struct ci_ctx *x)
{
        char *out = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&out, &size);

        if (!m)
                abort();
        for (size_t i = 0; x->o->argv && x->o->argv[i]; i++) {
                _cleanup_free_ char *a = ci_text_bytes(x->o->argv[i], 0);
                if (i)
                        fputc(' ', m);
                if (plain_word(a)) {
                        fputs(a, m);
                        continue;
                }
                fputc('\'', m);
                for (const char *p = a; *p; p++)
                        *p == '\'' ? fputs("'\\''", m) : fputc(*p, m);
                fputc('\'', m);
        }
        fclose(m);
        return out;
}

const char *ci_status_text(int status, char *buf, size_t cap)
{
        const char *sig = status > 128 && status < 128 + 65 ? sigabbrev_np(status - 128) : NULL;

        if (sig)
                snprintf(buf, cap, "exit %d (SIG%s)", status, sig);
        else
                snprintf(buf, cap, "exit %d", status);
        return buf;
}

static int by_count(const void *a, const void *b)
{
        const struct ci_tally *x = a, *y = b;
        return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->name, y->name);
}

struct ci_tally *ci_ranked(json_t *counts, size_t *n)
{
        struct ci_tally *t = xcalloc(json_object_size(counts) + 1, sizeof(*t));
        const char *key;
        json_t *v;
        size_t i = 0;

        json_object_foreach(counts, key, v)
        {
                t[i].name = key;
                t[i++].count = (unsigned long)json_integer_value(v);
        }
        qsort(t, i, sizeof(*t), by_count);
        *n = i;
        return t;
}

static int finding_order(const void *a, const void *b)
{
        const struct ci_finding *x = *(const struct ci_finding *const *)a,
                                *y = *(const struct ci_finding *const *)b;
        if (x->area != y->area)
                return x->area < y->area ? -1 : 1;
        if (x->count != y->count)
                return x->count < y->count ? 1 : -1;
        return x < y ? -1 : x > y;
}

const struct ci_finding **ci_sorted(const struct ci_log *log)
{
        const struct ci_finding **v = xcalloc(log->nf + 1, sizeof(*v));

        for (size_t i = 0; i < log->nf; i++)
                v[i] = &log->f[i];
        qsort(v, log->nf, sizeof(*v), finding_order);
        return v;
}

int ci_write_file(const struct ci_ctx *x, int given, const char *path, const char *what, const char *text,
                  size_t size, bool append)
{
        _cleanup_close_ int fd = given > 2 ? -1
                                           : open(path,
                                                  O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
                                                          (append ? O_APPEND : O_TRUNC),
                                                  0644);
        int r = 0;

        if (given > 2 && !append && (ftruncate(given, 0) < 0 || lseek(given, 0, SEEK_SET) < 0))
                r = -errno;
        if (r == 0)
                r = given <= 2 && fd < 0 ? -errno : write_all(given > 2 ? given : fd, text, size);
        if (r == 0 && fd >= 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r < 0) {
                _cleanup_free_ char *name = ci_text_bytes(path, 0);
                fprintf(x->o->out, "interpose ci: cannot write the %s to %s: %s\n", what, name, strerror(-r));
        }
        return r;
}

/* --- reading ------------------------------------------------------------ */

struct reader {
        const struct ci_ctx *x;
        struct ci_log *log;
};

/* Where a record's refusal belongs, and what it is about. */
struct key {
        enum ci_area area;
        const char *object, *right, *rule;
        char buf[512];
};

static bool file_rule(const char *rule)
{
        return !strcmp(rule, "policy") || !strcmp(rule, "private-tmp") || !strcmp(rule, "devices") ||
               !strncmp(rule, "openat2", 7) || !strcmp(rule, "gofer-gone") || !strcmp(rule, "limit:write");
}

static const char *net_verb(const char *syscall)
{
        if (!strcmp(syscall, "connect"))
                return "connect";
        if (!strncmp(syscall, "send", 4))
                return "send";
        return syscall;
}

/* "name:port" for a destination the record names, else the address. */
static const char *host_of(json_t *rec, char *buf, size_t cap)
{
        const char *dest = audit_str(rec, "dest"), *name = audit_str(rec, "name");
        const char *port = strrchr(dest, ':');

        if (*name && port) {
                snprintf(buf, cap, "%s%s", name, port);
                return buf;
        }
        return dest;
}

static void classify(json_t *rec, struct key *k)
{
        const char *decision = audit_str(rec, "decision"), *rule = audit_str(rec, "rule"),
                   *kind = audit_str(rec, "kind"), *syscall = audit_str(rec, "syscall"),
                   *policy_rule = audit_str(rec, "policy_rule");

        k->rule = *policy_rule ? policy_rule : rule;
        if (!strcmp(kind, "net") || *audit_str(rec, "dest") || *audit_str(rec, "local") ||
            !strcmp(syscall, "dns") || !strncmp(rule, "net", 3)) {
                k->area = CI_NETWORK;
                if (!strcmp(syscall, "dns")) {
                        k->object = audit_str(rec, "name");
                        k->right = "resolve";
                } else if (*audit_str(rec, "dest")) {
                        k->object = host_of(rec, k->buf, sizeof(k->buf));
                        k->right = net_verb(syscall);
                } else if (*audit_str(rec, "local")) {
                        k->object = audit_str(rec, "local");
                        k->right = syscall;
                } else {
                        k->object = syscall;
                        k->right = "";
                }
                return;
        }
        if (strcmp(decision, "kill") && (*audit_str(rec, "object") || *audit_str(rec, "path") ||
                                         !strcmp(kind, "file") || !strcmp(kind, "exec") || file_rule(rule))) {
                k->area = CI_FILES;
                k->object = *audit_str(rec, "object") ? audit_str(rec, "object")
                            : *audit_str(rec, "path") ? audit_str(rec, "path")
                                                      : syscall;
                k->right = *audit_str(rec, "right") ? audit_str(rec, "right") : syscall;
                return;
        }
        k->area = CI_PROCESSES;
        k->object = *syscall ? syscall : "session";
        k->right = "";
        k->rule = rule;
}

static char *dup_str(json_t *rec, const char *key)
{
        return xstrdup(audit_str(rec, key));
}

static struct ci_finding *finding(struct ci_log *log, json_t *rec, const struct key *k)
{
        _cleanup_free_ char *id = NULL;
        struct ci_finding *f;
        json_t *at;

        /* Refusals not of a right (processes, ...) are told apart by rule. */
        if (asprintf(&id, "%d\x1f%s\x1f%s", (int)k->area, k->object, *k->right ? k->right : k->rule) < 0)
                abort();
        at = json_object_get(log->f_index, id);
        if (at)
                return &log->f[json_integer_value(at)];
        if (log->nf >= CI_KEEP_MAX)
                return NULL;
        if (log->nf == log->cap) {
                log->cap = log->cap ? 2 * log->cap : 64;
                log->f = xrealloc(log->f, log->cap * sizeof(*log->f));
        }
        f = &log->f[log->nf];
        *f = (struct ci_finding){
                .area = k->area,
                .object = xstrdup(k->object),
                .right = xstrdup(k->right),
                .rule = xstrdup(k->rule),
                .by = dup_str(rec, "rule"),
                .decision = dup_str(rec, "decision"),
                .syscall = dup_str(rec, "syscall"),
                .exe = dup_str(rec, "exe"),
                .call = dup_str(rec, "args"),
                .path = dup_str(rec, "path"),
                .why = dup_str(rec, "why"),
                .dest = dup_str(rec, "dest"),
                .name = dup_str(rec, "name"),
                .result = dup_str(rec, "result"),
                .asked = !strcmp(audit_str(rec, "rule"), "ask"),
                .cut = json_is_true(json_object_get(rec, "cut")),
        };
        json_object_set_new(log->f_index, id, json_integer((json_int_t)log->nf++));
        return f;
}

static void tally(json_t *counts, const char *name)
{
        json_t *v;

        if (!*name)
                return;
        v = json_object_get(counts, name);
        if (v)
                json_integer_set(v, json_integer_value(v) + 1);
        else if (json_object_size(counts) < CI_KEEP_MAX)
                json_object_set_new(counts, name, json_integer(1));
}

/* What a record refused or asked, in a few words. */
static char *describe_record(const struct ci_ctx *x, json_t *rec)
{
        struct key k;
        struct ci_finding f = { 0 };

        classify(rec, &k);
        f.area = k.area;
        f.object = (char *)k.object;
        f.right = (char *)k.right;
        f.rule = (char *)k.rule;
        f.call = (char *)audit_str(rec, "args");
        return ci_describe(x, &f, false);
}

/* An asked call leaves an "ask" record, and once answered the record of
 * its decision ("rule":"ask", the same tid and ask_id): one call, asked
 * once. A call refused or allowed by a standing answer, or at once with
 * nobody to ask, leaves the decision only. */
static void count_ask(struct reader *rd, json_t *rec, const char *decision)
{
        struct ci_log *log = rd->log;
        char id[64];

        snprintf(id, sizeof(id), "%lld/%lld", (long long)json_integer_value(json_object_get(rec, "tid")),
                 (long long)json_integer_value(json_object_get(rec, "ask_id")));
        if (strcmp(decision, "ask")) {
                if (json_object_get(log->pending, id)) {
                        json_object_del(log->pending, id);
                        return;
                }
        } else if (json_object_size(log->pending) < CI_KEEP_MAX) {
                json_object_set_new(log->pending, id, json_true());
        }
        log->asked++;
        if (!log->first_asked)
                log->first_asked = describe_record(rd->x, rec);
}

static void read_start(struct ci_log *log, json_t *rec)
{
        const char *t = audit_str(rec, "time");

        log->started_seen = true;
        snprintf(log->session, sizeof(log->session), "%s", audit_str(rec, "session"));
        /* JUnit's timestamp, as Ant writes it: to the second, no zone. */
        snprintf(log->started, sizeof(log->started), "%.19s", t);
        snprintf(log->platform, sizeof(log->platform), "%s", audit_str(rec, "platform"));
        snprintf(log->policy_hash, sizeof(log->policy_hash), "%s", audit_str(rec, "policy_hash"));
        free(log->env_removed);
        log->env_removed = dup_str(rec, "env_removed");
}

static int read_one(json_t *rec, long line, void *ctx)
{
        struct reader *rd = ctx;
        struct ci_log *log = rd->log;
        const char *decision = audit_str(rec, "decision"), *rule = audit_str(rec, "rule");
        char buf[512];

        log->records++;
        if (!strcmp(decision, "start") && line == 1)
                read_start(log, rec);
        else if (!strcmp(decision, "end"))
                log->ended = true;
        else if (!strcmp(decision, "exec"))
                tally(log->commands,
                      *audit_str(rec, "path") ? audit_str(rec, "path") : audit_str(rec, "exe"));
        else if (!strcmp(decision, "allow") && !strcmp(rule, "net") && *audit_str(rec, "dest"))
                tally(log->hosts, host_of(rec, buf, sizeof(buf)));
        else if (!strcmp(decision, "allow") && !strcmp(audit_str(rec, "syscall"), "dns") &&
                 !strcmp(audit_str(rec, "result"), "answered") &&
                 json_object_size(log->resolved) < CI_KEEP_MAX)
                json_object_set_new(log->resolved, audit_str(rec, "name"), json_true());

        if (!strcmp(decision, "ask") || (!strcmp(rule, "ask") && strcmp(decision, "answer")))
                count_ask(rd, rec, decision);
        if (!strcmp(decision, "deny") || !strcmp(decision, "kill")) {
                struct key k;
                struct ci_finding *f;

                log->denied++;
                classify(rec, &k);
                f = finding(log, rec, &k);
                if (f)
                        f->count++;
                else
                        log->f_over[k.area]++;
                if (!log->first_denied)
                        log->first_denied = f ? ci_describe(rd->x, f, false) : describe_record(rd->x, rec);
        }
        return 0;
}

/* Names the resolver answered that no connection went to are hosts
 * contacted too (count 0: resolved only). */
static void add_resolved(struct ci_log *log)
{
        json_t *connected = json_object(), *v;
        const char *name;

        json_object_foreach(log->hosts, name, v)
        {
                _cleanup_free_ char *host = xstrdup(name);
                char *colon = strrchr(host, ':');
                if (colon)
                        *colon = '\0';
                json_object_set_new(connected, host, json_true());
        }
        json_object_foreach(log->resolved, name, v)
        {
                if (!json_object_get(connected, name) && json_object_size(log->hosts) < CI_KEEP_MAX)
                        json_object_set_new(log->hosts, name, json_integer(0));
        }
        json_decref(connected);
}

static void log_free(struct ci_log *log)
{
        for (size_t i = 0; i < log->nf; i++) {
                struct ci_finding *f = &log->f[i];
                char *s[] = { f->object, f->right, f->rule, f->by,   f->decision, f->syscall, f->exe,
                              f->call,   f->path,  f->why,  f->dest, f->name,     f->result };
                for (size_t j = 0; j < ARRAY_SIZE(s); j++)
                        free(s[j]);
        }
        free(log->f);
        free(log->env_removed);
        free(log->first_denied);
        free(log->first_asked);
        json_decref(log->f_index);
        json_decref(log->commands);
        json_decref(log->hosts);
        json_decref(log->resolved);
        json_decref(log->pending);
}

/* Read and check the whole log. 0, or -errno with a message. */
static int read_log(const struct ci_ctx *x, struct ci_log *log)
{
        const struct ci_report_opts *o = x->o;
        struct reader rd = { x, log };
        struct audit_read_error err;
        struct audit_chain chain;
        FILE *f = fopen(o->audit_log, "re");
        int r;

        if (!f) {
                r = -errno;
                fprintf(o->out, "interpose ci: cannot read the audit log %s: %s\n", o->audit_log,
                        strerror(-r));
                return r;
        }
        audit_chain_init(&chain);
        r = audit_read_records(f, &chain, read_one, &rd, &err);
        fclose(f);
        if (r == -EBADMSG) {
                fprintf(o->out, "interpose ci: %s: line %ld: %s: %s; no report written\n", o->audit_log,
                        err.line, err.chain ? "hash chain broken" : "not a record", err.why);
                return r;
        }
        if (r < 0) {
                fprintf(o->out, "interpose ci: cannot read the audit log %s: %s\n", o->audit_log,
                        strerror(-r));
                return r;
        }
        if (!log->started_seen) {
                fprintf(o->out,
                        "interpose ci: %s: no session start record: not an audit log; no report written\n",
                        o->audit_log);
                return -EBADMSG;
        }
        memcpy(log->head, chain.prev, AUDIT_HASH_HEX);
        add_resolved(log);
        return 0;
}

/* --- the summary --------------------------------------------------------- */

static void print_tally(FILE *out, const char *title, json_t *counts, bool hosts)
{
        size_t n;
        _cleanup_free_ struct ci_tally *t = ci_ranked(counts, &n);

        fprintf(out, "  %s (%zu):%s\n", title, n, n ? "" : " none");
        for (size_t i = 0; i < n && i < TOP_N; i++) {
                _cleanup_free_ char *name = ci_text(t[i].name);
                if (hosts && !t[i].count)
                        fprintf(out, "    %7s  %s\n", "resolved", name);
                else
                        fprintf(out, "    %7lu  %s\n", t[i].count, name);
        }
        if (n > TOP_N)
                fprintf(out, "    ... and %zu more\n", n - TOP_N);
}

static int most_refused(const void *a, const void *b)
{
        const struct ci_finding *x = *(const struct ci_finding *const *)a,
                                *y = *(const struct ci_finding *const *)b;
        if (x->count != y->count)
                return x->count < y->count ? 1 : -1;
        return x < y ? -1 : x > y;
}

static void print_denied(const struct ci_ctx *x, const struct ci_log *log)
{
        FILE *out = x->o->out;
        _cleanup_free_ const struct ci_finding **v = ci_sorted(log);
        size_t shown = 0;

        unsigned long over = 0;

        for (int a = 0; a < CI_AREAS; a++)
                over += log->f_over[a];
        fprintf(out, "  denied: %s", log->nf || over ? "" : "none\n");
        if (over)
                fprintf(out, "%lu calls on more than %d objects\n", log->denied, CI_KEEP_MAX);
        else if (log->nf)
                fprintf(out, "%lu %s on %zu %s\n", log->denied, log->denied == 1 ? "call" : "calls", log->nf,
                        log->nf == 1 ? "object" : "objects");
        /* Most refused first, whatever the area. */
        qsort(v, log->nf, sizeof(*v), most_refused);
        for (size_t i = 0; i < log->nf && shown < TOP_N; i++, shown++) {
                _cleanup_free_ char *what = ci_describe(x, v[i], false), *rule = ci_text(v[i]->rule);
                /* A refusal not of a right names its rule already. */
                if (*v[i]->right)
                        fprintf(out, "    %7lu  %-9s  %s  [%s%s]\n", v[i]->count, ci_area_names[v[i]->area],
                                what, v[i]->asked ? "asked: " : "", rule);
                else
                        fprintf(out, "    %7lu  %-9s  %s\n", v[i]->count, ci_area_names[v[i]->area], what);
        }
        if (log->nf > shown)
                fprintf(out, "    ... and %zu more\n", log->nf - shown);
        if (over)
                fprintf(out, "    ... and %lu calls on objects past the first %d\n", over, CI_KEEP_MAX);
}

static void print_environment(FILE *out, const struct ci_log *log)
{
        _cleanup_free_ char *names = ci_text(log->env_removed ? log->env_removed : "");

        if (*names)
                fprintf(out, "  environment: removed as secrets: %s (--allow-env=NAME passes one)\n", names);
        else
                fprintf(out, "  environment: no variable removed\n");
}

static const char *gate_name(enum ci_gate g)
{
        return g == CI_GATE_DENIED ? "denied" : g == CI_GATE_ASKED ? "asked" : "never";
}

static void print_summary(const struct ci_ctx *x, const struct ci_log *log, const struct ci_result *r)
{
        FILE *out = x->o->out;
        _cleanup_free_ char *cmd = ci_command(x), *logname = NULL;
        char status[64];

        logname = ci_text_bytes(x->o->audit_log, 0);
        fprintf(out, "interpose ci: %s: %s\n", cmd, ci_status_text(x->o->job_status, status, sizeof(status)));
        fprintf(out,
                "interpose ci: %lu denied, %lu asked; audit log %s: %ld records, chain intact, head %s\n",
                r->denied, r->asked, logname, log->records, log->head);
        if (!log->ended)
                fprintf(out, "  warning: no \"end\" record: the session did not finish, or the log was cut "
                             "short\n");
        print_denied(x, log);
        print_tally(out, "commands run", log->commands, false);
        print_tally(out, "hosts contacted", log->hosts, true);
        print_environment(out, log);
        if (r->tripped) {
                bool asked = x->o->fail_on == CI_GATE_ASKED;
                unsigned long n = asked ? r->asked : r->denied;
                const char *first = asked ? log->first_asked : log->first_denied;
                char job[80];

                if (x->o->job_status == 0)
                        snprintf(job, sizeof(job), "the job passed but");
                else
                        snprintf(job, sizeof(job), "the job failed (%s) and",
                                 ci_status_text(x->o->job_status, status, sizeof(status)));
                fprintf(out, "interpose ci: --fail-on=%s: %s made %lu %s %s (first: %s)\n",
                        gate_name(x->o->fail_on), job, n, asked ? "asked" : "denied",
                        n == 1 ? "call" : "calls", first ? first : "?");
        }
}

/* --- the whole ----------------------------------------------------------- */

/* The policy a learned rule is measured against, when the caller has
 * none: the ci profile, as `interpose ci` starts from. */
static const struct policy *fallback_policy(struct policy *own)
{
        struct policy_error err;
        char cwd[PATH_MAX];

        policy_init(own);
        if (!getcwd(cwd, sizeof(cwd)) || policy_profile(own, "ci", getenv("HOME"), cwd, NULL, &err) < 0)
                return NULL;
        return own;
}

static int report(int r, int *first)
{
        if (r < 0 && !*first)
                *first = r;
        return r;
}

int ci_reports(const struct ci_report_opts *o, struct ci_result *ret)
{
        struct ci_ctx x = { .o = o, .policy = o->policy };
        struct ci_log log = { 0 };
        struct ci_result r = { 0 };
        struct policy own;
        int first = 0;

        if (!x.policy)
                x.policy = fallback_policy(&own);
        x.home = x.policy ? x.policy->home : getenv("HOME");
        x.workspace = x.policy ? x.policy->workspace : NULL;
        log.f_index = json_object();
        log.commands = json_object();
        log.hosts = json_object();
        log.resolved = json_object();
        log.pending = json_object();

        first = read_log(&x, &log);
        if (first == 0) {
                r.denied = log.denied;
                r.asked = log.asked;
                r.tripped = (o->fail_on == CI_GATE_DENIED && r.denied > 0) ||
                            (o->fail_on == CI_GATE_ASKED && r.asked > 0);
                print_summary(&x, &log, &r);
                if (o->step_summary)
                        report(ci_write_markdown(&x, &log, &r), &first);
                if (o->junit)
                        report(ci_write_junit(&x, &log), &first);
                if (o->learn)
                        report(ci_write_learned(&x, &log), &first);
        }
        log_free(&log);
        if (!o->policy)
                policy_free(&own);
        if (first == 0)
                *ret = r;
        return first;
}
