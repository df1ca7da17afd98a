/* SPDX-License-Identifier: MIT */
/*
 * `interpose audit verify [--head=HASH] FILE`: check an audit log's hash
 * chain (which record, and what was done to it), and with --head that it
 * ends where the session summary said.
 * `interpose audit show [FILTERS] FILE`: the records, one line each.
 * `interpose audit summary [--json] FILE`: counts by decision, the objects
 * most denied, the programs run and the hosts asked for.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sentry/audit.h"
#include "../sentry/util.h"
#include "audit-read.h"
#include "verbs.h"

static int usage(FILE *f, int code)
{
        fprintf(f,
                "usage: interpose audit verify [--head=HASH] FILE\n"
                "       interpose audit show [--decision=D] [--pid=N] [--syscall=NAME] [--since=TIME] FILE\n"
                "       interpose audit summary [--json] FILE\n"
                "  --head: the chain head the session summary printed (16 hex digits or more)\n"
                "  --since: records at or after this UTC time (2026-11-26T10:00:00, or a prefix of one)\n");
        return code;
}

/* Does the last line of the file record the session's end? */
static bool ends_with_end(int fd)
{
        char buf[4096];
        off_t size = lseek(fd, 0, SEEK_END);
        off_t off = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, off);
        char *last;

        if (n <= 0)
                return false;
        buf[n] = '\0';
        while (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        last = strrchr(buf, '\n');
        return strstr(last ? last : buf, "\"decision\":\"end\"") != NULL;
}

static int verify(const char *file, const char *want)
{
        char head[AUDIT_HASH_HEX];
        const char *why = "";
        long line = 0, n;
        int fd = open(file, O_RDONLY | O_CLOEXEC);

        if (fd < 0) {
                fprintf(stderr, "interpose: cannot open %s: %s\n", file, strerror(errno));
                return 125;
        }
        n = audit_verify(fd, &line, head, &why);
        if (n < 0) {
                close(fd);
                fprintf(stderr, "interpose: %s: line %ld: hash chain broken: %s\n", file, line, why);
                return 1;
        }
        if (want && strncmp(head, want, strlen(want)) != 0) {
                close(fd);
                fprintf(stderr,
                        "interpose: %s: the chain ends at %s, not at %s: records were removed from the end\n",
                        file, head, want);
                return 1;
        }
        if (!ends_with_end(fd))
                fprintf(stderr,
                        "interpose: %s: warning: no \"end\" record: the session did not finish, or the "
                        "log was cut short (check with --head=HASH from the summary)\n",
                        file);
        close(fd);
        printf("%s: %ld records, chain intact, head %s\n", file, n, head);
        return 0;
}

struct each {
        int (*fn)(json_t *rec, void *ctx);
        void *ctx;
};

static int each_one(json_t *rec, long line, void *ctx)
{
        const struct each *e = ctx;
        return e->fn(rec, e->ctx) ? 1 : 0;
}

/* Each record of the file, parsed; fn returns nonzero to stop. */
static int each_record(const char *file, int (*fn)(json_t *rec, void *ctx), void *ctx)
{
        struct each e = { fn, ctx };
        struct audit_read_error err;
        FILE *f = fopen(file, "re");
        int r;

        if (!f) {
                fprintf(stderr, "interpose: cannot open %s: %s\n", file, strerror(errno));
                return 125;
        }
        r = audit_read_records(f, NULL, each_one, &e, &err);
        fclose(f);
        if (r == -EBADMSG) {
                fprintf(stderr, "interpose: %s:%ld: not a record: %s\n", file, err.line, err.why);
                return 1;
        }
        return 0;
}

struct filters {
        const char *decision, *syscall, *since;
        long pid;
};

/* A string of the log for a terminal: what the guest chose (a path, a
 * name, an argv) may hold control characters, escape sequences that
 * retitle or repaint the reader's terminal, or a newline that forges a
 * line: shown as \xNN. UTF-8 passes, but for the C1 controls. Returns
 * one of eight rotating buffers (enough for one printf). */
static const char *shown(const char *s)
{
        static char bufs[8][8192];
        static unsigned next;
        char *out = bufs[next++ % 8];
        size_t n = 0, cap = sizeof(bufs[0]);

        for (; s && *s && n + 5 < cap; s++) {
                unsigned char c = (unsigned char)*s;
                bool c1 = c == 0xc2 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9f;
                if (c < 0x20 || c == 0x7f || c1) {
                        n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c1 ? (unsigned char)*++s : c);
                        continue;
                }
                out[n++] = (char)c;
        }
        out[n] = '\0';
        return out;
}

static int show_one(json_t *rec, void *ctx)
{
        const struct filters *f = ctx;
        const char *decision = audit_str(rec, "decision"), *syscall = audit_str(rec, "syscall"),
                   *time = audit_str(rec, "time");
        const char *what = NULL;
        long pid = (long)json_integer_value(json_object_get(rec, "pid"));

        if ((f->decision && strcmp(f->decision, decision)) || (f->syscall && strcmp(f->syscall, syscall)) ||
            (f->pid && f->pid != pid) || (f->since && strcmp(time, f->since) < 0))
                return 0;
        /* What the decision was about, when the record says more than
         * the call: the object a path reached, a host's name. */
        if (*audit_str(rec, "object"))
                what = audit_str(rec, "object");
        else if (*audit_str(rec, "name"))
                what = audit_str(rec, "name");
        printf("%s %-6s %-8ld %-10s %s -> %s", shown(time), shown(decision), pid, shown(syscall),
               shown(*audit_str(rec, "args") ? audit_str(rec, "args") : audit_str(rec, "exe")),
               shown(*audit_str(rec, "result") ? audit_str(rec, "result") : "-"));
        if (*audit_str(rec, "rule"))
                printf("  [%s]", shown(audit_str(rec, "rule")));
        putchar('\n');
        if (what)
                printf("        object: %s%s%s\n", shown(what), *audit_str(rec, "right") ? "  right: " : "",
                       shown(audit_str(rec, "right")));
        json_t *bt = json_object_get(rec, "backtrace"), *fr;
        size_t i;
        json_array_foreach(bt, i, fr)
        {
                printf("        at %s\n", shown(json_string_value(fr) ? json_string_value(fr) : "?"));
        }
        return 0;
}

static void bump(json_t *counts, const char *key)
{
        json_t *v;

        if (!key || !*key)
                return;
        v = json_object_get(counts, key);
        json_object_set_new(counts, key, json_integer(v ? json_integer_value(v) + 1 : 1));
}

struct summary {
        json_t *decisions, *denied, *programs, *hosts;
        char session[64], policy_hash[80], head[80];
        long records;
};

/* The host part of a connect's decoded address: "{AF_INET, 1.2.3.4:443}". */
static void host_of_args(const char *args, char *out, size_t cap)
{
        const char *p = strstr(args, "AF_INET");
        const char *comma, *end;

        out[0] = '\0';
        if (!p || !(comma = strchr(p, ',')))
                return;
        comma++;
        while (*comma == ' ')
                comma++;
        end = strchr(comma, '}');
        if (end && (size_t)(end - comma) < cap)
                snprintf(out, cap, "%.*s", (int)(end - comma), comma);
}

static int summarise_one(json_t *rec, void *ctx)
{
        struct summary *s = ctx;
        const char *decision = audit_str(rec, "decision"), *syscall = audit_str(rec, "syscall");

        s->records++;
        bump(s->decisions, decision);
        if (!s->session[0])
                snprintf(s->session, sizeof(s->session), "%s", audit_str(rec, "session"));
        if (!strcmp(decision, "start"))
                snprintf(s->policy_hash, sizeof(s->policy_hash), "%s", audit_str(rec, "policy_hash"));
        snprintf(s->head, sizeof(s->head), "%s", audit_str(rec, "hash"));
        if (!strcmp(decision, "deny") || !strcmp(decision, "kill"))
                bump(s->denied, *audit_str(rec, "object") ? audit_str(rec, "object")
                                : *audit_str(rec, "name") ? audit_str(rec, "name")
                                                          : syscall);
        if (!strcmp(decision, "exec"))
                bump(s->programs, *audit_str(rec, "path") ? audit_str(rec, "path") : audit_str(rec, "exe"));
        if (!strcmp(syscall, "dns") || *audit_str(rec, "name"))
                bump(s->hosts, audit_str(rec, "name"));
        else if ((!strcmp(syscall, "connect") || !strcmp(syscall, "sendto") || !strcmp(syscall, "sendmsg")) &&
                 strcmp(decision, "deny")) {
                char host[128];
                host_of_args(audit_str(rec, "args"), host, sizeof(host));
                bump(s->hosts, host);
        }
        return 0;
}

static int by_count(const void *a, const void *b)
{
        const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
        json_int_t cx = json_integer_value(json_object_get(x, "count")),
                   cy = json_integer_value(json_object_get(y, "count"));
        return cx < cy   ? 1
               : cx > cy ? -1
                         : strcmp(json_string_value(json_object_get(x, "name")),
                                  json_string_value(json_object_get(y, "name")));
}

/* A tally as an array of {name, count}, most first, at most top. */
static json_t *ranked(json_t *counts, size_t top)
{
        size_t n = json_object_size(counts), i = 0;
        json_t **v = xcalloc(n + 1, sizeof(*v)), *out = json_array();
        const char *key;
        json_t *val;

        json_object_foreach(counts, key, val)
        {
                v[i] = json_object();
                json_object_set_new(v[i], "name", json_string(key));
                json_object_set_new(v[i], "count", json_integer(json_integer_value(val)));
                i++;
        }
        qsort(v, n, sizeof(*v), by_count);
        for (i = 0; i < n; i++) {
                if (i < top)
                        json_array_append(out, v[i]);
                json_decref(v[i]);
        }
        free(v);
        return out;
}

static void print_ranked(const char *title, json_t *arr)
{
        size_t i;
        json_t *e;

        printf("%s:%s\n", title, json_array_size(arr) ? "" : " none");
        json_array_foreach(arr, i, e)
        {
                printf("  %6lld  %s\n", (long long)json_integer_value(json_object_get(e, "count")),
                       shown(json_string_value(json_object_get(e, "name"))));
        }
}

static int summary(const char *file, bool as_json)
{
        struct summary s = { .decisions = json_object(),
                             .denied = json_object(),
                             .programs = json_object(),
                             .hosts = json_object() };
        int r = each_record(file, summarise_one, &s);
        json_t *out;

        if (r == 0) {
                out = json_object();
                json_object_set_new(out, "session", json_string(s.session));
                json_object_set_new(out, "records", json_integer(s.records));
                json_object_set_new(out, "policy_hash", json_string(s.policy_hash));
                json_object_set_new(out, "head", json_string(s.head));
                json_object_set(out, "decisions", s.decisions);
                json_object_set_new(out, "top_denied", ranked(s.denied, 10));
                json_object_set_new(out, "programs", ranked(s.programs, 50));
                json_object_set_new(out, "hosts", ranked(s.hosts, 50));
                if (as_json) {
                        json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
                        putchar('\n');
                } else {
                        const char *key;
                        json_t *val;
                        printf("session %s: %ld records, chain head %s\npolicy %s\ndecisions:",
                               shown(s.session), s.records, shown(s.head),
                               s.policy_hash[0] ? shown(s.policy_hash) : "(not recorded)");
                        json_object_foreach(s.decisions, key, val)
                        {
                                printf(" %s %lld", shown(key), (long long)json_integer_value(val));
                        }
                        putchar('\n');
                        print_ranked("most denied", json_object_get(out, "top_denied"));
                        print_ranked("programs run", json_object_get(out, "programs"));
                        print_ranked("hosts asked for or reached", json_object_get(out, "hosts"));
                }
                json_decref(out);
        }
        json_decref(s.decisions);
        json_decref(s.denied);
        json_decref(s.programs);
        json_decref(s.hosts);
        return r;
}

int verb_audit(int argc, char **argv)
{
        const char *sub = argc > 1 ? argv[1] : "", *file = argc > 2 ? argv[argc - 1] : NULL;

        if (!strcmp(sub, "--help") || !strcmp(sub, "-h"))
                return usage(stdout, 0);
        if (!file || file[0] == '-')
                return usage(stderr, 125);
        if (!strcmp(sub, "verify")) {
                const char *want = NULL;
                for (int i = 2; i < argc - 1; i++) {
                        if (strncmp(argv[i], "--head=", 7) || strlen(argv[i] + 7) < 16)
                                return usage(stderr, 125);
                        want = argv[i] + 7;
                }
                return verify(file, want);
        }
        if (!strcmp(sub, "show")) {
                struct filters f = { 0 };
                for (int i = 2; i < argc - 1; i++) {
                        if (!strncmp(argv[i], "--decision=", 11))
                                f.decision = argv[i] + 11;
                        else if (!strncmp(argv[i], "--syscall=", 10))
                                f.syscall = argv[i] + 10;
                        else if (!strncmp(argv[i], "--since=", 8))
                                f.since = argv[i] + 8;
                        else if (!strncmp(argv[i], "--pid=", 6) &&
                                 (f.pid = strtol(argv[i] + 6, NULL, 10)) > 0)
                                ;
                        else {
                                fprintf(stderr, "interpose: audit show: unknown filter %s\n", argv[i]);
                                return usage(stderr, 125);
                        }
                }
                return each_record(file, show_one, &f);
        }
        if (!strcmp(sub, "summary")) {
                bool as_json = false;
                for (int i = 2; i < argc - 1; i++) {
                        if (strcmp(argv[i], "--json"))
                                return usage(stderr, 125);
                        as_json = true;
                }
                return summary(file, as_json);
        }
        return usage(stderr, 125);
}
