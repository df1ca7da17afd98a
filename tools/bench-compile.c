/* SPDX-License-Identifier: MIT */
/*
 * bench-compile: the source that tools/bench compiles with `gcc -O1 -c` as
 * its build workload. Not part of the build.
 *
 * It is an ordinary small program (an INI-style configuration reader with
 * a hash table, includes and a query command line) rather than generated
 * filler, so that the compiler does what it does on real code: parse a
 * dozen system headers, inline, allocate registers. Keep it stable: every
 * change to it changes the benchmark's figures.
 *
 *   bench-compile [-s SECTION] [-k KEY] FILE...
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINE 4096
#define MAX_DEPTH 8
#define MAX_ENTRIES 65536

struct entry {
        struct entry *next;
        uint64_t hash;
        char *section;
        char *key;
        char *value;
        const char *file;
        unsigned line;
};

struct table {
        struct entry **buckets;
        size_t nbuckets;
        size_t count;
};

struct parser {
        struct table *t;
        const char *file;
        unsigned line;
        char section[256];
        int depth;
        int errors;
};

static void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);

        if (!p) {
                fputs("bench-compile: out of memory\n", stderr);
                abort();
        }
        return p;
}

static char *xstrdup(const char *s)
{
        size_t n = strlen(s) + 1;

        return memcpy(xmalloc(n), s, n);
}

/* FNV-1a over section and key, with a separator so "a.b"+"c" != "a"+"b.c". */
static uint64_t hash_pair(const char *section, const char *key)
{
        uint64_t h = 1469598103934665603ULL;
        const unsigned char *p;

        for (p = (const unsigned char *)section; *p; p++)
                h = (h ^ *p) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
        for (p = (const unsigned char *)key; *p; p++)
                h = (h ^ (unsigned char)tolower(*p)) * 1099511628211ULL;
        return h;
}

static void table_init(struct table *t, size_t nbuckets)
{
        t->nbuckets = nbuckets;
        t->count = 0;
        t->buckets = calloc(nbuckets, sizeof(*t->buckets));
        if (!t->buckets) {
                fputs("bench-compile: out of memory\n", stderr);
                abort();
        }
}

static void table_grow(struct table *t)
{
        struct table n;
        size_t i;

        table_init(&n, t->nbuckets * 2);
        for (i = 0; i < t->nbuckets; i++) {
                struct entry *e = t->buckets[i], *next;

                for (; e; e = next) {
                        struct entry **b = &n.buckets[e->hash % n.nbuckets];

                        next = e->next;
                        e->next = *b;
                        *b = e;
                        n.count++;
                }
        }
        free(t->buckets);
        *t = n;
}

static struct entry *table_find(const struct table *t, const char *section, const char *key)
{
        uint64_t h = hash_pair(section, key);
        struct entry *e;

        for (e = t->buckets[h % t->nbuckets]; e; e = e->next)
                if (e->hash == h && strcmp(e->section, section) == 0 && strcasecmp(e->key, key) == 0)
                        return e;
        return NULL;
}

/* Later definitions win, as in git-config; returns -ENOSPC past the cap. */
static int table_set(struct table *t, const char *section, const char *key, const char *value,
                     const char *file, unsigned line)
{
        struct entry *e = table_find(t, section, key);
        struct entry **b;

        if (e) {
                free(e->value);
                e->value = xstrdup(value);
                e->file = file;
                e->line = line;
                return 0;
        }
        if (t->count >= MAX_ENTRIES)
                return -ENOSPC;
        if (t->count * 4 >= t->nbuckets * 3)
                table_grow(t);
        e = xmalloc(sizeof(*e));
        e->hash = hash_pair(section, key);
        e->section = xstrdup(section);
        e->key = xstrdup(key);
        e->value = xstrdup(value);
        e->file = file;
        e->line = line;
        b = &t->buckets[e->hash % t->nbuckets];
        e->next = *b;
        *b = e;
        t->count++;
        return 0;
}

static void table_free(struct table *t)
{
        size_t i;

        for (i = 0; i < t->nbuckets; i++) {
                struct entry *e = t->buckets[i], *next;

                for (; e; e = next) {
                        next = e->next;
                        free(e->section);
                        free(e->key);
                        free(e->value);
                        free(e);
                }
        }
        free(t->buckets);
}

__attribute__((format(printf, 2, 3))) static void parse_error(struct parser *p, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "%s:%u: ", p->file, p->line);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        p->errors++;
}

static char *trim(char *s)
{
        char *end;

        while (isspace((unsigned char)*s))
                s++;
        end = s + strlen(s);
        while (end > s && isspace((unsigned char)end[-1]))
                *--end = '\0';
        return s;
}

/* Undo the escapes a quoted value may hold, in place. */
static int unquote(char *s)
{
        char *w = s, *r = s + 1;
        size_t n = strlen(s);

        if (n < 2 || s[n - 1] != '"')
                return -EINVAL;
        s[n - 1] = '\0';
        for (; *r; r++) {
                if (*r != '\\') {
                        *w++ = *r;
                        continue;
                }
                switch (*++r) {
                case 'n':
                        *w++ = '\n';
                        break;
                case 't':
                        *w++ = '\t';
                        break;
                case '"':
                        *w++ = '"';
                        break;
                case '\\':
                        *w++ = '\\';
                        break;
                default:
                        return -EINVAL;
                }
        }
        *w = '\0';
        return 0;
}

static int parse_file(struct parser *p, const char *path);

static void parse_line(struct parser *p, char *line)
{
        char *s = trim(line), *eq, *key, *value;

        if (*s == '\0' || *s == '#' || *s == ';')
                return;
        if (*s == '[') {
                char *end = strchr(s, ']');

                if (!end || end[1] != '\0') {
                        parse_error(p, "unterminated section header");
                        return;
                }
                *end = '\0';
                snprintf(p->section, sizeof(p->section), "%s", trim(s + 1));
                return;
        }
        if (strncmp(s, "include ", 8) == 0) {
                int r = parse_file(p, trim(s + 8));

                if (r < 0)
                        parse_error(p, "include %s: %s", trim(s + 8), strerror(-r));
                return;
        }
        eq = strchr(s, '=');
        if (!eq) {
                parse_error(p, "expected key = value");
                return;
        }
        *eq = '\0';
        key = trim(s);
        value = trim(eq + 1);
        if (*key == '\0') {
                parse_error(p, "empty key");
                return;
        }
        if (*value == '"' && unquote(value) < 0) {
                parse_error(p, "bad quoted value for %s", key);
                return;
        }
        if (table_set(p->t, p->section, key, *value == '"' ? value + 1 : value, p->file, p->line) < 0)
                parse_error(p, "too many entries");
}

/* Returns 0 or -errno; syntax errors are counted in p->errors instead. */
static int parse_file(struct parser *p, const char *path)
{
        const char *saved_file = p->file;
        unsigned saved_line = p->line;
        char line[MAX_LINE];
        struct stat st;
        FILE *f;
        int fd;

        if (p->depth >= MAX_DEPTH)
                return -ELOOP;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return -EINVAL;
        }
        f = fdopen(fd, "r");
        if (!f) {
                close(fd);
                return -errno;
        }
        p->file = xstrdup(path); /* entries point at it: kept until exit */
        p->line = 0;
        p->depth++;
        while (fgets(line, sizeof(line), f)) {
                p->line++;
                if (!strchr(line, '\n') && !feof(f)) {
                        parse_error(p, "line longer than %d bytes", MAX_LINE - 1);
                        break;
                }
                parse_line(p, line);
        }
        p->depth--;
        fclose(f);
        p->file = saved_file;
        p->line = saved_line;
        return 0;
}

static bool parse_bool(const char *v, bool *ret)
{
        static const char *const yes[] = { "1", "yes", "true", "on" };
        static const char *const no[] = { "0", "no", "false", "off" };
        size_t i;

        for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                if (strcasecmp(v, yes[i]) == 0) {
                        *ret = true;
                        return true;
                }
                if (strcasecmp(v, no[i]) == 0) {
                        *ret = false;
                        return true;
                }
        }
        return false;
}

static void print_entry(const struct entry *e)
{
        long long n;
        char *end;
        bool b;

        errno = 0;
        n = strtoll(e->value, &end, 0);
        if (*e->value && *end == '\0' && errno == 0)
                printf("%s.%s = %lld (int, %s:%u)\n", e->section, e->key, n, e->file, e->line);
        else if (parse_bool(e->value, &b))
                printf("%s.%s = %s (bool, %s:%u)\n", e->section, e->key, b ? "true" : "false", e->file,
                       e->line);
        else
                printf("%s.%s = \"%s\" (%s:%u)\n", e->section, e->key, e->value, e->file, e->line);
}

int main(int argc, char **argv)
{
        const char *section = NULL, *key = NULL;
        struct table t;
        struct parser p;
        size_t i;
        int c, r, status = 0;

        while ((c = getopt(argc, argv, "s:k:")) != -1) {
                switch (c) {
                case 's':
                        section = optarg;
                        break;
                case 'k':
                        key = optarg;
                        break;
                default:
                        fprintf(stderr, "usage: bench-compile [-s SECTION] [-k KEY] FILE...\n");
                        return 2;
                }
        }
        table_init(&t, 64);
        memset(&p, 0, sizeof(p));
        p.t = &t;
        for (; optind < argc; optind++) {
                r = parse_file(&p, argv[optind]);
                if (r < 0) {
                        fprintf(stderr, "bench-compile: %s: %s\n", argv[optind], strerror(-r));
                        status = 1;
                }
        }
        if (section && key) {
                struct entry *e = table_find(&t, section, key);

                if (e)
                        print_entry(e);
                else
                        status = 1;
        } else {
                for (i = 0; i < t.nbuckets; i++) {
                        const struct entry *e;

                        for (e = t.buckets[i]; e; e = e->next)
                                if (!section || strcmp(e->section, section) == 0)
                                        print_entry(e);
                }
        }
        table_free(&t);
        return status || p.errors ? 1 : 0;
}
