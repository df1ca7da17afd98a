/* SPDX-License-Identifier: MIT */
/*
 * interpose pending [--session=ID | --control=PATH] [--json]
 * interpose approve [--always] [--by=NAME] [--session=ID | --control=PATH] [--json] QUESTION
 * interpose deny [--always] [--by=NAME] [--session=ID | --control=PATH] [--json] QUESTION
 *
 * The questions sessions wait on (approvals, issue 7) and their answers,
 * through each session's control socket, STATE/sessions/ID/control.sock
 * (sentry/asker.c): so a person at another terminal, a chat bot or a web
 * service can answer. Without --session or --control, every live session
 * is asked; sockets nobody listens on are those of sessions that ended.
 *
 * Exit status: 0 done; 1 the answer was refused (no such question) or no
 * session could be reached; 2 a usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "../sentry/ask.h"
#include "../sentry/util.h"
#include "approve.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define REPLY_MAX (64u << 20) /* one reply line; a session has at most ~1000 questions */
#define SESSIONS_MAX 4096

struct approve_opts {
        const char *verb;
        const char *session, *control, *by;
        bool json, always;
};

/* A session's control socket. */
struct live {
        char id[NAME_MAX + 1];
        char path[PATH_MAX];
        json_t *pending; /* its reply to "pending", or NULL */
};

static int usage(FILE *f, int code)
{
        fprintf(f, "usage: interpose pending [--session=ID | --control=PATH] [--json]\n"
                   "       interpose approve [--always] [--by=NAME] [--session=ID | --control=PATH] [--json] "
                   "QUESTION\n"
                   "       interpose deny [--always] [--by=NAME] [--session=ID | --control=PATH] [--json] "
                   "QUESTION\n"
                   "  pending: the questions running sessions wait on\n"
                   "  approve: allow the call once (--always: this right on this object, for the session)\n"
                   "  deny: refuse the call (--always: refuse it for the session without asking)\n"
                   "  --session: the session (as `interpose pending` shows it); --control: its socket\n"
                   "  --by: who answers, for the audit log (your uid and pid are recorded anyway)\n"
                   "  --json: print the session's JSON reply\n");
        return code;
}

/* --- talking to a session --- */

static const char *field(json_t *j, const char *key)
{
        return json_string_value(json_object_get(j, key));
}

static int send_all(int fd, const char *buf, size_t n)
{
        while (n) {
                ssize_t k = send(fd, buf, n, MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                buf += k;
                n -= (size_t)k;
        }
        return 0;
}

/* One line, up to REPLY_MAX. The line (the caller frees) or NULL with
 * errno set. */
static char *read_line(int fd)
{
        size_t len = 0, cap = 4096;
        char *buf = xmalloc(cap);

        for (;;) {
                ssize_t n;
                char *nl;

                if (len + 1 == cap) {
                        if (cap >= REPLY_MAX) {
                                free(buf);
                                errno = EMSGSIZE;
                                return NULL;
                        }
                        cap *= 2;
                        buf = xrealloc(buf, cap);
                }
                n = recv(fd, buf + len, cap - 1 - len, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        free(buf);
                        errno = n == 0 ? ECONNRESET : errno == EAGAIN ? ETIMEDOUT : errno;
                        return NULL;
                }
                nl = memchr(buf + len, '\n', (size_t)n);
                len += (size_t)n;
                if (nl) {
                        *nl = '\0';
                        return buf;
                }
        }
}

/* Send req (taken) to the session at path; its reply in *ret. 0 or
 * -errno (-ECONNREFUSED, -ENOENT: the session has ended). */
static int exchange(const char *path, json_t *req, json_t **ret)
{
        struct timeval tv = { .tv_sec = 10 };
        _cleanup_close_ int fd = ask_control_connect(path);
        _cleanup_free_ char *line = NULL, *text = json_dumps(req, JSON_COMPACT);
        json_t *reply;
        int r;

        json_decref(req);
        if (fd < 0)
                return fd;
        if (!text)
                return -ENOMEM;
        /* A wedged session must not hang the command. */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if ((r = send_all(fd, text, strlen(text))) < 0 || (r = send_all(fd, "\n", 1)) < 0)
                return r;
        line = read_line(fd);
        if (!line)
                return -errno;
        reply = json_loads(line, 0, NULL);
        if (!json_is_object(reply)) {
                json_decref(reply);
                return -EPROTO;
        }
        *ret = reply;
        return 0;
}

static void print_json(json_t *j)
{
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);

        if (s)
                printf("%s\n", s);
        free(s);
}

/* The sessions that have a control socket, by name. */
static size_t find_sessions(struct live **ret)
{
        char state[PATH_MAX], dir[PATH_MAX + 16];
        struct live *l = NULL;
        size_t n = 0;
        struct dirent *e;
        DIR *d;

        *ret = NULL;
        if (interpose_state_dir(state, sizeof(state)) < 0)
                return 0;
        snprintf(dir, sizeof(dir), "%s/sessions", state);
        d = opendir(dir);
        if (!d)
                return 0;
        while ((e = readdir(d)) && n < SESSIONS_MAX) {
                struct stat st;
                char path[PATH_MAX];

                if (e->d_name[0] == '.' ||
                    snprintf(path, sizeof(path), "%s/%s/control.sock", dir, e->d_name) >= (int)sizeof(path) ||
                    lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
                        continue;
                l = xrealloc(l, (n + 1) * sizeof(*l));
                snprintf(l[n].id, sizeof(l[n].id), "%s", e->d_name);
                snprintf(l[n].path, sizeof(l[n].path), "%s", path);
                l[n++].pending = NULL;
        }
        closedir(d);
        for (size_t i = 1; i < n; i++) /* few: insertion sort */
                for (size_t j = i; j > 0 && strcmp(l[j - 1].id, l[j].id) > 0; j--) {
                        struct live t = l[j];
                        l[j] = l[j - 1];
                        l[j - 1] = t;
                }
        *ret = l;
        return n;
}

/* Ask every session found for its questions; those that do not answer
 * have ended (or are broken: said on stderr) and are left out. */
static size_t ask_all(struct live *l, size_t n)
{
        size_t k = 0;

        for (size_t i = 0; i < n; i++) {
                json_t *reply = NULL;
                int r = exchange(l[i].path, json_pack("{s:s}", "op", "pending"), &reply);

                if (r == -ECONNREFUSED || r == -ENOENT)
                        continue;
                if (r < 0 || !json_is_array(json_object_get(reply, "pending"))) {
                        const char *err = r < 0 ? strerror(-r) : field(reply, "error");
                        fprintf(stderr, "interpose: session %s: %s; skipped\n", l[i].id,
                                err ? err : "no list of questions in its reply");
                        json_decref(reply);
                        continue;
                }
                l[k] = l[i];
                l[k++].pending = reply;
        }
        return k;
}

static void free_live(struct live *l, size_t n)
{
        for (size_t i = 0; i < n; i++)
                json_decref(l[i].pending);
        free(l);
}

/* The socket --session or --control names, or NULL. */
static const char *chosen(const struct approve_opts *o, char *buf, size_t cap)
{
        char state[PATH_MAX];

        if (o->control)
                return o->control;
        if (!o->session)
                return NULL;
        if (interpose_state_dir(state, sizeof(state)) < 0) {
                fprintf(stderr, "interpose: --session: neither XDG_STATE_HOME nor HOME names the state "
                                "directory; give --control=PATH\n");
                return "";
        }
        snprintf(buf, cap, "%s/sessions/%s/control.sock", state, o->session);
        return buf;
}

static void complain_unreachable(const char *path, int r)
{
        if (r == -ECONNREFUSED || r == -ENOENT)
                fprintf(stderr,
                        "interpose: no session listens on %s: it has ended (`interpose pending` lists "
                        "the running ones)\n",
                        path);
        else
                fprintf(stderr, "interpose: cannot ask the session at %s: %s\n", path, strerror(-r));
}

/* --- pending --- */

/* The guest's strings come as one code point per byte (as in the audit
 * log): back to bytes, then made safe for the terminal. */
static void shown(char *out, size_t cap, const char *u)
{
        char bytes[2048];
        const unsigned char *p = (const unsigned char *)(u ? u : "");
        size_t k = 0;

        while (*p && k + 1 < sizeof(bytes)) {
                if (*p < 0x80) {
                        bytes[k++] = (char)*p++;
                } else if ((*p & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80 && *p <= 0xc3) {
                        bytes[k++] = (char)((*p & 0x1f) << 6 | (p[1] & 0x3f));
                        p += 2;
                } else {
                        bytes[k++] = '?';
                        for (p++; (*p & 0xc0) == 0x80; p++)
                                ;
                }
        }
        bytes[k] = '\0';
        ask_printable(out, cap, bytes);
}

#define COLS 8

static void print_table(struct live *l, size_t n)
{
        static const char *const head[COLS] = { "SESSION", "ID",    "PID",    "PROGRAM",
                                                "SYSCALL", "RIGHT", "OBJECT", "AGE" };
        size_t rows = 0, w[COLS], k = 0;
        char(*cell)[COLS][256];

        for (size_t i = 0; i < n; i++)
                rows += json_array_size(json_object_get(l[i].pending, "pending"));
        if (!rows) {
                printf("no questions pending\n");
                return;
        }
        cell = xcalloc(rows, sizeof(*cell));
        for (size_t i = 0; i < n; i++) {
                json_t *list = json_object_get(l[i].pending, "pending"), *q;
                const char *session = field(l[i].pending, "session");
                size_t j;

                json_array_foreach(list, j, q)
                {
                        const char *exe = field(q, "exe") ? field(q, "exe") : "", *base = strrchr(exe, '/');
                        long long age = json_integer_value(json_object_get(q, "age_ms")) / 1000;

                        shown(cell[k][0], 256, session && *session ? session : l[i].id);
                        snprintf(cell[k][1], 256, "%lld",
                                 (long long)json_integer_value(json_object_get(q, "id")));
                        snprintf(cell[k][2], 256, "%lld",
                                 (long long)json_integer_value(json_object_get(q, "pid")));
                        shown(cell[k][3], 256, base && base[1] ? base + 1 : exe);
                        shown(cell[k][4], 256, field(q, "syscall"));
                        shown(cell[k][5], 256, field(q, "right"));
                        shown(cell[k][6], 256, field(q, "object"));
                        if (age >= 60)
                                snprintf(cell[k][7], 256, "%lldm%02llds", age / 60, age % 60);
                        else
                                snprintf(cell[k][7], 256, "%llds", age);
                        k++;
                }
        }
        for (int c = 0; c < COLS; c++) {
                w[c] = strlen(head[c]);
                for (size_t r = 0; r < rows; r++)
                        if (strlen(cell[r][c]) > w[c])
                                w[c] = strlen(cell[r][c]);
        }
        for (size_t r = 0; r <= rows; r++)
                for (int c = 0; c < COLS; c++) {
                        const char *s = r ? cell[r - 1][c] : head[c];
                        if (c == COLS - 1)
                                printf("%s\n", s);
                        else if (c == 1 || c == 2) /* numbers, to the right */
                                printf("%*s  ", (int)w[c], s);
                        else
                                printf("%-*s  ", (int)w[c], s);
                }
        free(cell);
}

static int cmd_pending(const struct approve_opts *o)
{
        char buf[PATH_MAX];
        const char *path = chosen(o, buf, sizeof(buf));
        struct live *l;
        size_t n;

        if (path && !*path)
                return EXIT_USAGE;
        if (path) {
                json_t *reply = NULL;
                int r = exchange(path, json_pack("{s:s}", "op", "pending"), &reply);
                if (r < 0) {
                        complain_unreachable(path, r);
                        return EXIT_REFUSED;
                }
                if (!json_is_array(json_object_get(reply, "pending"))) {
                        const char *err = field(reply, "error");
                        if (o->json)
                                print_json(reply);
                        fprintf(stderr, "interpose: the session at %s refused: %s\n", path,
                                err ? err : "(no reason given)");
                        json_decref(reply);
                        return EXIT_REFUSED;
                }
                l = xcalloc(1, sizeof(*l));
                snprintf(l->id, sizeof(l->id), "%s", o->session ? o->session : "-");
                l->pending = reply;
                n = 1;
        } else {
                n = find_sessions(&l);
                n = ask_all(l, n);
        }
        for (size_t i = 0; i < n && o->json; i++)
                print_json(l[i].pending);
        if (!o->json)
                print_table(l, n);
        free_live(l, n);
        return 0;
}

/* --- approve, deny --- */

static bool has_question(json_t *reply, json_int_t id)
{
        json_t *q;
        size_t i;

        json_array_foreach(json_object_get(reply, "pending"), i, q)
        {
                if (json_integer_value(json_object_get(q, "id")) == id)
                        return true;
        }
        return false;
}

/* The one live session with question id pending, in buf. 0, or an exit
 * status after saying what is wrong. */
static int which_session(json_int_t id, char *buf, size_t cap, char *name, size_t name_cap)
{
        struct live *l;
        size_t n = find_sessions(&l), hits = 0;
        char names[1024] = "";

        n = ask_all(l, n);
        for (size_t i = 0; i < n; i++) {
                if (!has_question(l[i].pending, id))
                        continue;
                if (!hits++) {
                        snprintf(buf, cap, "%s", l[i].path);
                        snprintf(name, name_cap, "%s", l[i].id);
                }
                snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", hits > 1 ? ", " : "",
                         l[i].id);
        }
        free_live(l, n);
        if (hits == 1)
                return 0;
        if (hits > 1) {
                fprintf(stderr,
                        "interpose: question %lld is pending in %zu sessions (%s): choose one with "
                        "--session=ID\n",
                        (long long)id, hits, names);
                return EXIT_USAGE;
        }
        if (!n)
                fprintf(stderr, "interpose: no session is running (none listens under the state directory); "
                                "nothing to answer\n");
        else
                fprintf(stderr,
                        "interpose: no question %lld is pending in any session (`interpose pending` "
                        "lists them)\n",
                        (long long)id);
        return EXIT_REFUSED;
}

static int cmd_answer(const struct approve_opts *o, const char *arg)
{
        bool approve = !strcmp(o->verb, "approve");
        const char *verdict = approve ? (o->always ? "always" : "once")
                                      : (o->always ? "deny-always" : "deny");
        char buf[PATH_MAX], name[PATH_MAX + 32], by[65];
        const char *path = chosen(o, buf, sizeof(buf)), *err;
        json_t *req, *reply = NULL;
        json_int_t id;
        char *end;
        int r;

        errno = 0;
        id = strtoll(arg, &end, 10);
        if (errno || end == arg || *end || id < 1 || id > UINT32_MAX) {
                fprintf(stderr,
                        "interpose %s: '%s' is not a question's number (`interpose pending` shows "
                        "them in column ID)\n",
                        o->verb, arg);
                return EXIT_USAGE;
        }
        if (path && !*path)
                return EXIT_USAGE;
        if (o->control)
                snprintf(name, sizeof(name), "at %s", o->control);
        else
                snprintf(name, sizeof(name), "%s", o->session ? o->session : "");
        if (!path) {
                r = which_session(id, buf, sizeof(buf), name, sizeof(name));
                if (r)
                        return r;
                path = buf;
        }
        req = json_pack("{s:s,s:I,s:s}", "op", "answer", "id", id, "verdict", verdict);
        if (o->by) {
                /* As the session will record it: printable ASCII. */
                size_t k = 0;
                for (const char *c = o->by; *c && k + 1 < sizeof(by); c++)
                        by[k++] = *c >= 0x20 && *c < 0x7f ? *c : '?';
                by[k] = '\0';
                json_object_set_new(req, "by", json_string(by));
        }
        r = exchange(path, req, &reply);
        if (r < 0) {
                complain_unreachable(path, r);
                return EXIT_REFUSED;
        }
        if (o->json)
                print_json(reply);
        r = json_is_true(json_object_get(reply, "ok")) ? 0 : EXIT_REFUSED;
        err = field(reply, "error");
        if (r)
                fprintf(stderr, "interpose: session %s refused the answer: %s\n", name,
                        err ? err : "(no reason given)");
        else if (!o->json)
                printf("question %lld of session %s: %s\n", (long long)id, name,
                       approve ? (o->always ? "allowed for the rest of the session" : "allowed once")
                               : (o->always ? "denied for the rest of the session" : "denied"));
        json_decref(reply);
        return r;
}

int approve_main(int argc, char **argv)
{
        static const struct option longopts[] = {
                { "session", required_argument, NULL, 's' },
                { "control", required_argument, NULL, 'c' },
                { "json", no_argument, NULL, 'j' },
                { "always", no_argument, NULL, 'a' },
                { "by", required_argument, NULL, 'b' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        struct approve_opts o = { .verb = argv[0] };
        bool pending = !strcmp(o.verb, "pending");
        int c;

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                switch (c) {
                case 's':
                        if (!*optarg || strchr(optarg, '/') || !strcmp(optarg, ".") ||
                            !strcmp(optarg, "..")) {
                                fprintf(stderr, "interpose %s: --session: '%s' is not a session's name\n",
                                        o.verb, optarg);
                                return EXIT_USAGE;
                        }
                        o.session = optarg;
                        break;
                case 'c':
                        o.control = optarg;
                        break;
                case 'j':
                        o.json = true;
                        break;
                case 'a':
                        o.always = true;
                        break;
                case 'b':
                        o.by = optarg;
                        break;
                case 'h':
                        return usage(stdout, 0);
                default:
                        return usage(stderr, EXIT_USAGE);
                }
        }
        if (o.session && o.control) {
                fprintf(stderr, "interpose %s: give --session or --control, not both\n", o.verb);
                return EXIT_USAGE;
        }
        if (pending && (o.always || o.by)) {
                fprintf(stderr, "interpose pending: --always and --by are for approve and deny\n");
                return EXIT_USAGE;
        }
        if (pending && optind < argc) {
                fprintf(stderr, "interpose pending: takes no arguments\n");
                return usage(stderr, EXIT_USAGE);
        }
        if (!pending && argc - optind != 1) {
                fprintf(stderr, "interpose %s: name one question (its ID in `interpose pending`)\n", o.verb);
                return usage(stderr, EXIT_USAGE);
        }
        return pending ? cmd_pending(&o) : cmd_answer(&o, argv[optind]);
}
