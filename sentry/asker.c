/* SPDX-License-Identifier: MIT */
/*
 * The launcher's asker (issue 7): puts the sentry's questions to a person,
 * on the terminal (prompt.c) and on the session's control socket, and sends
 * the sentry the first answer; unanswered, a question is denied at its
 * deadline (--ask-timeout).
 *
 * One thread owns everything: the socketpair to the sentry, the control
 * socket and its clients, the prompter child and the deadlines. It sleeps
 * in poll until one of them has something or the nearest deadline comes.
 *
 * The control socket speaks one JSON object per line each way:
 *   {"op":"pending"}
 *     -> {"session":ID,"pending":[{"id":N,"pid":P,"exe":..,"syscall":..,
 *         "kind":..,"right":..,"object":..,"call":..,"rule":..,
 *         "age_ms":N,"timeout_ms":N}, ...]}
 *   {"op":"answer","id":N,"verdict":"once|always|deny|deny-always","by":NAME}
 *     -> {"ok":true}
 *   anything refused -> {"ok":false,"error":"..."}
 * Strings from the guest are bytes: each is one code point, as in the
 * audit log. The guest must never answer its own questions: the socket
 * lives in the state directory the guest's policy denies, and a client of
 * another user, or that descends from the sentry, is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ask.h"
#include "asker_int.h"
#include "sentry.h"
#include "util.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

#define ASKER_PENDING_MAX 1024  /* questions waiting at once; past that, denied at once */
#define ASKER_CLIENTS_MAX 32    /* control socket connections at once */
#define ASKER_LINE_MAX 4096     /* one request */
#define ASKER_NAME_MAX 64       /* a client's name for itself, in "by" */
#define ASKER_STOP_WAIT_MS 5000 /* for the prompter to give the terminal back */

struct question {
        struct ask_msg msg;
        uint64_t arrived, deadline; /* CLOCK_MONOTONIC ms; deadline 0: none */
        bool prompted;              /* the terminal has had its turn */
};

struct client {
        int fd;
        uid_t uid;
        pid_t pid;
        const char *refusal; /* why this peer may not ask anything, or NULL */
        bool eof, fatal;     /* no more requests: close once the replies are out */
        size_t in_len;
        char in[ASKER_LINE_MAX + 2]; /* a request, its newline, and a NUL */
        char *out;                   /* replies not yet sent; while any, no request is read */
        size_t out_len, out_off;
};

struct asker {
        struct asker_opts o; /* o.control, o.session_id: the copies below */
        char *control, *session;
        dev_t sock_dev; /* the socket we bound, to remove only that */
        ino_t sock_ino;
        char tty_by[64];
        struct prompt_ctx pctx;
        bool tty_ok;
        int sentry_fd, listen_fd, wake_fd;
        struct question *q; /* in arrival order */
        size_t n_q, cap_q;
        struct client *clients[ASKER_CLIENTS_MAX];
        size_t n_clients;
        struct prompt prompt;
        struct prompt_text text;
        pthread_t thread;
};

static struct asker *the_asker;

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- verdicts and text --- */

static const char *const verdict_names[] = {
        [ASK_ONCE] = "once",
        [ASK_ALWAYS] = "always",
        [ASK_DENY] = "deny",
        [ASK_DENY_ALWAYS] = "deny-always",
};

const char *ask_verdict_name(uint32_t v)
{
        return v < ARRAY_SIZE(verdict_names) ? verdict_names[v] : NULL;
}

uint32_t ask_verdict_by_name(const char *name)
{
        if (!name)
                return 0;
        if (!strcmp(name, "approve"))
                return ASK_ONCE;
        for (uint32_t v = ASK_ONCE; v < ARRAY_SIZE(verdict_names); v++)
                if (!strcmp(name, verdict_names[v]))
                        return v;
        return 0;
}

/* The length of a valid UTF-8 sequence at p for a code point that is safe
 * to show (no C1 control, no invisible or direction-changing format
 * character); 0 for anything else. */
static size_t utf8_shown(const unsigned char *p)
{
        uint32_t cp;
        size_t n = utf8_decode(p, &cp);

        if (n < 2 || cp <= 0x9f || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
            (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb))
                return 0;
        return n;
}

char *ask_printable(char *out, size_t cap, const char *s)
{
        const unsigned char *p = (const unsigned char *)(s ? s : "");
        size_t k = 0;

        while (*p) {
                char piece[8];
                size_t in = utf8_shown(p), len;

                if (*p >= 0x20 && *p < 0x7f) {
                        piece[0] = (char)*p;
                        in = len = 1;
                } else if (in) {
                        memcpy(piece, p, in);
                        len = in;
                } else {
                        snprintf(piece, sizeof(piece), "\\x%02x", *p);
                        in = 1, len = 4;
                }
                if (k + len + 4 > cap) {
                        if (k + 4 <= cap)
                                memcpy(out + k, "...", 3), k += 3;
                        break;
                }
                memcpy(out + k, piece, len);
                k += len;
                p += in;
        }
        if (cap)
                out[k < cap ? k : cap - 1] = '\0';
        return out;
}

/* "60s" or "1500ms". */
static void duration(char *buf, size_t cap, uint64_t ms)
{
        if (ms % 1000 == 0)
                snprintf(buf, cap, "%llus", (unsigned long long)(ms / 1000));
        else
                snprintf(buf, cap, "%llums", (unsigned long long)ms);
}

/* What the terminal shows for q. */
static void question_text(struct asker *a, const struct question *q, struct prompt_text *t)
{
        char exe[256], obj[1024], call[1024], rule[256], right[64], left[48] = "", later[96] = "";
        const char *base = strrchr(q->msg.exe, '/');
        const struct ask_msg *m = &q->msg;

        ask_printable(exe, sizeof(exe), base && base[1] ? base + 1 : m->exe);
        ask_printable(obj, sizeof(obj), m->object);
        ask_printable(call, sizeof(call), m->call[0] ? m->call : m->syscall);
        ask_printable(rule, sizeof(rule), m->rule);
        ask_printable(right, sizeof(right), m->right);
        if (q->deadline) {
                uint64_t now = now_ms(), ms = q->deadline > now ? q->deadline - now : 0;
                snprintf(left, sizeof(left), " (%llu s)", (unsigned long long)(ms + 999) / 1000);
                snprintf(later, sizeof(later), "; unanswered, it is denied in %llu s",
                         (unsigned long long)(ms + 999) / 1000);
        }
        snprintf(t->again, sizeof(t->again), "  allow [o]nce, [a]lways, [d]eny, deny al[w]ays?%s ", left);
        snprintf(t->text, sizeof(t->text), "\ninterpose: [%u] %s (pid %d) asks to %s %s\n  %s   rule: %s\n%s",
                 m->id, exe, m->pid, right, obj, call, rule, t->again);
        snprintf(
                t->notice, sizeof(t->notice),
                "\ninterpose: [%u] %s (pid %d) asks to %s %s\n  interpose is in the background: answer with "
                "`interpose approve %u` or `interpose deny %u` (`interpose pending` lists the questions)%s\n",
                m->id, exe, m->pid, right, obj, m->id, m->id, later);
        snprintf(t->lost, sizeof(t->lost),
                 "\ninterpose: the terminal was taken from the prompt: answer question %u with `interpose "
                 "approve %u` or `interpose deny %u`\n",
                 m->id, m->id, m->id);
}

/* --- questions --- */

static ssize_t find_question(const struct asker *a, uint32_t id)
{
        for (size_t i = 0; i < a->n_q; i++)
                if (a->q[i].msg.id == id)
                        return (ssize_t)i;
        return -1;
}

static void drop_question(struct asker *a, size_t i)
{
        memmove(&a->q[i], &a->q[i + 1], (a->n_q - i - 1) * sizeof(*a->q));
        a->n_q--;
}

static void send_answer(struct asker *a, const struct ask_msg *q, uint32_t verdict, const char *by)
{
        struct ask_msg m = *q;

        m.type = ASK_ANSWER;
        m.verdict = verdict;
        snprintf(m.by, sizeof(m.by), "%s", by);
        /* A sentry that is gone shows as EOF on the next poll. */
        send(a->sentry_fd, &m, sizeof(m), MSG_NOSIGNAL);
}

/* Answer question i (first answer wins: it leaves the table) and close
 * its prompt if one is up. */
static void answer(struct asker *a, size_t i, uint32_t verdict, const char *by)
{
        char why[256];

        send_answer(a, &a->q[i].msg, verdict, by);
        if (a->prompt.pid && a->prompt.id == a->q[i].msg.id) {
                snprintf(why, sizeof(why), "answered: %s, by %s", ask_verdict_name(verdict), by);
                prompt_cancel(&a->prompt, why);
        }
        drop_question(a, i);
}

static void on_question(struct asker *a, const struct ask_msg *m)
{
        struct question *q;
        char by[96];

        if (a->o.mode == APPROVER_NONE) {
                send_answer(a, m, ASK_DENY, "nobody may answer (--approver=none)");
                return;
        }
        if (find_question(a, m->id) >= 0)
                return; /* the sentry asks each once */
        if (a->n_q >= ASKER_PENDING_MAX) {
                snprintf(by, sizeof(by), "too many questions waiting (%d)", ASKER_PENDING_MAX);
                send_answer(a, m, ASK_DENY, by);
                return;
        }
        if (a->n_q == a->cap_q) {
                a->cap_q = a->cap_q ? 2 * a->cap_q : 16;
                a->q = xrealloc(a->q, a->cap_q * sizeof(*a->q));
        }
        q = &a->q[a->n_q++];
        *q = (struct question){ .msg = *m, .arrived = now_ms() };
        if (a->o.timeout_ms)
                q->deadline = q->arrived + a->o.timeout_ms;
}

static void on_withdraw(struct asker *a, uint32_t id)
{
        ssize_t i = find_question(a, id);

        if (i < 0)
                return;
        if (a->prompt.pid && a->prompt.id == id)
                prompt_cancel(&a->prompt, "withdrawn: the program that asked is gone");
        drop_question(a, (size_t)i);
}

/* Messages from the sentry. -EPIPE when the session has ended. */
static int on_sentry(struct asker *a)
{
        for (int k = 0; k < 64; k++) {
                struct ask_msg m;
                ssize_t n = recv(a->sentry_fd, &m, sizeof(m), MSG_DONTWAIT);

                if (n == 0)
                        return -EPIPE;
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -EPIPE;
                if (n != sizeof(m))
                        continue;
                m.kind[sizeof(m.kind) - 1] = m.right[sizeof(m.right) - 1] = '\0';
                m.syscall[sizeof(m.syscall) - 1] = m.exe[sizeof(m.exe) - 1] = '\0';
                m.object[sizeof(m.object) - 1] = m.call[sizeof(m.call) - 1] = '\0';
                m.rule[sizeof(m.rule) - 1] = m.by[sizeof(m.by) - 1] = '\0';
                if (m.type == ASK_QUESTION)
                        on_question(a, &m);
                else if (m.type == ASK_WITHDRAW)
                        on_withdraw(a, m.id);
        }
        return 0;
}

/* Deny what waited past its deadline. */
static void expire(struct asker *a)
{
        uint64_t now = now_ms();
        char by[80], d[32];

        duration(d, sizeof(d), a->o.timeout_ms);
        snprintf(by, sizeof(by), "timeout (--ask-timeout=%s)", d);
        for (size_t i = 0; i < a->n_q;) {
                if (a->q[i].deadline && a->q[i].deadline <= now)
                        answer(a, i, ASK_DENY, by);
                else
                        i++;
        }
}

/* poll's timeout: until the nearest deadline. */
static int next_timeout(const struct asker *a)
{
        uint64_t now = now_ms(), next = 0;

        for (size_t i = 0; i < a->n_q; i++)
                if (a->q[i].deadline && (!next || a->q[i].deadline < next))
                        next = a->q[i].deadline;
        if (!next)
                return -1;
        if (next <= now)
                return 0;
        return next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

/* --- the terminal --- */

static void prompt_next(struct asker *a)
{
        int r;

        if (!a->tty_ok || a->prompt.pid)
                return;
        for (size_t i = 0; i < a->n_q; i++) {
                if (a->q[i].prompted)
                        continue;
                a->q[i].prompted = true;
                question_text(a, &a->q[i], &a->text);
                r = prompt_start(&a->prompt, &a->pctx, a->q[i].msg.id, &a->text);
                if (r < 0) {
                        a->tty_ok = false;
                        fprintf(stderr,
                                "interpose: cannot ask on the terminal: %s; questions wait for `interpose "
                                "approve ID`\n",
                                strerror(-r));
                }
                return;
        }
}

static void on_prompt(struct asker *a)
{
        uint32_t id = a->prompt.id;
        struct prompt_result r = prompt_finish(&a->prompt, 0);
        ssize_t i = find_question(a, id);

        if (r.outcome >= ASK_ONCE && r.outcome <= ASK_DENY_ALWAYS) {
                if (i >= 0)
                        answer(a, (size_t)i, (uint32_t)r.outcome, a->tty_by);
        } else if (r.outcome == PROMPT_FAILED) {
                a->tty_ok = false;
                fprintf(stderr,
                        "interpose: cannot ask on the terminal: %s; questions wait for `interpose approve "
                        "ID`\n",
                        strerror(r.err));
        }
}

/* --- the control socket --- */

/* The address of the socket at path; one too long for sun_path is reached
 * through its directory, opened in *ret_dirfd (for the caller to close). */
static int control_addr(const char *path, struct sockaddr_un *sa, int *ret_dirfd)
{
        _cleanup_free_ char *dir = xstrdup(path);
        const char *name = strrchr(path, '/');
        int dfd;

        *sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
        *ret_dirfd = -1;
        if (strlen(path) < sizeof(sa->sun_path)) {
                memcpy(sa->sun_path, path, strlen(path) + 1);
                return 0;
        }
        if (!name || strlen(name + 1) > 64)
                return -ENAMETOOLONG;
        dir[name - path] = '\0';
        dfd = open(name == path ? "/" : dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", dfd, name + 1);
        *ret_dirfd = dfd;
        return 0;
}

int ask_control_connect(const char *path)
{
        struct sockaddr_un sa;
        _cleanup_close_ int dfd = -1, fd = -1;
        int r = control_addr(path, &sa, &dfd);

        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        return TAKE_FD(fd);
}

static int control_listen(struct asker *a)
{
        _cleanup_free_ char *dir = xstrdup(a->control);
        _cleanup_close_ int dfd = -1, fd = -1;
        struct sockaddr_un sa;
        struct stat st;
        int r;

        if (mkdir(dirname(dir), 0700) < 0 && errno != EEXIST)
                return -errno;
        r = control_addr(a->control, &sa, &dfd);
        if (r < 0)
                return r;
        if (lstat(a->control, &st) == 0) {
                int probe;
                if (!S_ISSOCK(st.st_mode))
                        return -EEXIST;
                probe = ask_control_connect(a->control);
                if (probe >= 0) {
                        close(probe);
                        return -EADDRINUSE; /* a live session's */
                }
                if (unlink(a->control) < 0 && errno != ENOENT)
                        return -errno;
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        if (chmod(a->control, 0600) < 0 || lstat(a->control, &st) < 0 || listen(fd, 16) < 0) {
                r = -errno;
                unlink(a->control);
                return r;
        }
        a->sock_dev = st.st_dev;
        a->sock_ino = st.st_ino;
        return TAKE_FD(fd);
}

/* Who the client is, and whether it may ask: never a process of the
 * guest's, whatever else failed to keep it out. */
static void check_peer(struct asker *a, struct client *c)
{
        struct ucred cr;
        socklen_t len = sizeof(cr);
        int pidfd = -1;

        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
                c->refusal = "refused: cannot tell who the client is";
                return;
        }
        c->uid = cr.uid;
        c->pid = cr.pid;
        if (cr.uid != getuid() && cr.uid != 0) {
                c->refusal = "refused: the client runs as another user";
                return;
        }
        if (a->o.sentry <= 0)
                return;
        if (cr.pid <= 0) {
                c->refusal = "refused: cannot tell where the client runs (another pid namespace?)";
                return;
        }
        /* The pidfd names the process that connected: alive after the
         * check, it is the one checked, not a reuse of its pid. */
        len = sizeof(pidfd);
        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
                pidfd = -1;
        if (cr.pid == a->o.sentry || sentry_descends_from(cr.pid, a->o.sentry) == 1) {
                c->refusal = "refused: the client runs inside the sandbox";
                fprintf(stderr, "interpose: refused an approval from pid %d: it runs inside the sandbox\n",
                        (int)cr.pid);
        } else if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0 && errno == ESRCH) {
                c->refusal = "refused: the client ended before it could be checked";
        }
        if (pidfd >= 0)
                close(pidfd);
}

static void on_accept(struct asker *a)
{
        static const char busy[] = "{\"ok\":false,\"error\":\"too many clients at once: try again\"}\n";
        struct client *c;
        int fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0)
                return;
        if (a->n_clients == ASKER_CLIENTS_MAX) {
                send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                close(fd);
                return;
        }
        c = xcalloc(1, sizeof(*c));
        c->fd = fd;
        check_peer(a, c);
        a->clients[a->n_clients++] = c;
}

static void client_free(struct asker *a, size_t i)
{
        struct client *c = a->clients[i];

        close(c->fd);
        free(c->out);
        free(c);
        a->clients[i] = a->clients[--a->n_clients];
}

static void reply(struct client *c, json_t *j)
{
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
        size_t n;

        json_decref(j);
        if (!s) {
                fprintf(stderr, "interpose: out of memory\n");
                abort();
        }
        n = strlen(s);
        c->out = xrealloc(c->out, c->out_len + n + 1);
        memcpy(c->out + c->out_len, s, n);
        c->out[c->out_len + n] = '\n';
        c->out_len += n + 1;
        free(s);
}

static void reply_error(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_error(struct client *c, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        reply(c, json_pack("{s:b,s:s}", "ok", 0, "error", msg));
}

/* A guest's byte string for JSON: each byte one code point, as the audit
 * log writes them, so that any name round-trips. */
static json_t *jbytes(const char *s)
{
        size_t n = strlen(s), k = 0;
        _cleanup_free_ char *u = xmalloc(2 * n + 1);

        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p < 0x80) {
                        u[k++] = (char)*p;
                } else {
                        u[k++] = (char)(0xc0 | *p >> 6);
                        u[k++] = (char)(0x80 | (*p & 0x3f));
                }
        }
        return json_stringn(u, k);
}

static void op_pending(struct asker *a, struct client *c)
{
        json_t *list = json_array();
        uint64_t now = now_ms();

        for (size_t i = 0; i < a->n_q; i++) {
                const struct ask_msg *m = &a->q[i].msg;
                json_t *e = json_pack("{s:I,s:i,s:I,s:I}", "id", (json_int_t)m->id, "pid", (int)m->pid,
                                      "age_ms", (json_int_t)(now - a->q[i].arrived), "timeout_ms",
                                      (json_int_t)a->o.timeout_ms);
                json_object_set_new(e, "exe", jbytes(m->exe));
                json_object_set_new(e, "syscall", jbytes(m->syscall));
                json_object_set_new(e, "kind", jbytes(m->kind));
                json_object_set_new(e, "right", jbytes(m->right));
                json_object_set_new(e, "object", jbytes(m->object));
                json_object_set_new(e, "call", jbytes(m->call));
                json_object_set_new(e, "rule", jbytes(m->rule));
                json_array_append_new(list, e);
        }
        reply(c, json_pack("{s:o,s:o}", "session", jbytes(a->session), "pending", list));
}

static void op_answer(struct asker *a, struct client *c, json_t *req)
{
        json_t *jid = json_object_get(req, "id"), *jby = json_object_get(req, "by");
        const char *vname = json_string_value(json_object_get(req, "verdict"));
        uint32_t verdict = ask_verdict_by_name(vname);
        char by[sizeof(((struct ask_msg *)0)->by)];
        json_int_t id;
        ssize_t i;
        int len;

        if (!json_is_integer(jid) || (id = json_integer_value(jid)) < 1 || id > UINT32_MAX) {
                reply_error(c, "\"id\" must be the number of a question (see {\"op\":\"pending\"})");
                return;
        }
        if (!verdict) {
                reply_error(c, "\"verdict\" must be \"once\", \"always\", \"deny\" or \"deny-always\"");
                return;
        }
        if (jby && !json_is_string(jby)) {
                reply_error(c, "\"by\" must be a string");
                return;
        }
        i = find_question(a, (uint32_t)id);
        if (i < 0) {
                reply_error(c, "no question %lld is pending (answered already, withdrawn, or never asked)",
                            (long long)id);
                return;
        }
        len = snprintf(by, sizeof(by), "socket uid=%u pid=%d", (unsigned)c->uid, (int)c->pid);
        if (jby && *json_string_value(jby)) {
                /* Printable ASCII only: it goes to the audit log and to
                 * terminals. */
                const char *n = json_string_value(jby);
                len += snprintf(by + len, sizeof(by) - (size_t)len, " name=");
                for (int k = 0; n[k] && k < ASKER_NAME_MAX && len + 1 < (int)sizeof(by); k++)
                        by[len++] = n[k] >= 0x20 && n[k] < 0x7f ? n[k] : '?';
                by[len] = '\0';
        }
        answer(a, (size_t)i, verdict, by);
        reply(c, json_pack("{s:b}", "ok", 1));
}

static void on_request(struct asker *a, struct client *c, const char *line, size_t len)
{
        json_error_t err;
        json_t *req;
        const char *op;

        if (strspn(line, " \t\r") == len)
                return; /* a blank line */
        if (c->refusal) {
                reply_error(c, "%s", c->refusal);
                return;
        }
        req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
        if (!json_is_object(req)) {
                reply_error(c, "a request is one JSON object per line: %s",
                            req ? "this is not an object" : err.text);
                json_decref(req);
                return;
        }
        op = json_string_value(json_object_get(req, "op"));
        if (op && !strcmp(op, "pending"))
                op_pending(a, c);
        else if (op && !strcmp(op, "answer"))
                op_answer(a, c, req);
        else
                reply_error(c, "unknown \"op\": use \"pending\" or \"answer\"");
        json_decref(req);
}

/* Serve the requests read so far, one at a time: the next waits until the
 * reply to the last is out. */
static void client_serve(struct asker *a, struct client *c)
{
        while (!c->out && !c->fatal) {
                char *nl = memchr(c->in, '\n', c->in_len);
                size_t len = nl ? (size_t)(nl - c->in) : c->in_len;

                if (!nl && c->in_len > ASKER_LINE_MAX) {
                        reply_error(c, "a request longer than %d bytes", ASKER_LINE_MAX);
                        c->fatal = true;
                        break;
                }
                if (!nl && (!c->eof || !c->in_len))
                        break;
                c->in[len] = '\0'; /* the newline, or the spare byte at EOF */
                on_request(a, c, c->in, len);
                len += nl ? 1 : 0;
                memmove(c->in, c->in + len, c->in_len - len);
                c->in_len -= len;
        }
}

/* Send what the socket takes now. False when the client is gone. */
static bool client_flush(struct client *c)
{
        while (c->out && c->out_off < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR;
                c->out_off += (size_t)n;
        }
        free(c->out);
        c->out = NULL;
        c->out_len = c->out_off = 0;
        return true;
}

/* I/O for one client. False once it is done with. */
static bool client_io(struct asker *a, struct client *c, short revents)
{
        if (c->out && (revents & (POLLOUT | POLLERR | POLLHUP))) {
                if (!client_flush(c))
                        return false;
        } else if (!c->out && (revents & (POLLIN | POLLHUP | POLLERR))) {
                /* One byte spare for the terminating NUL of a last line. */
                ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, MSG_DONTWAIT);
                if (n > 0)
                        c->in_len += (size_t)n;
                else if (n == 0 || (errno != EAGAIN && errno != EINTR))
                        c->eof = true;
        }
        /* Each reply goes out as soon as it is made: the session may end
         * right after an answer, and the reply must not be lost with it. */
        for (client_serve(a, c); c->out; client_serve(a, c)) {
                if (!client_flush(c))
                        return false;
                if (c->out)
                        break; /* the rest when the socket takes it */
        }
        return c->out || !(c->fatal || (c->eof && !c->in_len));
}

/* --- the thread --- */

static short client_events(const struct client *c)
{
        if (c->out)
                return POLLOUT;
        return c->eof || c->fatal ? 0 : POLLIN;
}

static void *asker_thread(void *arg)
{
        struct asker *a = arg;
        struct pollfd pf[4 + ASKER_CLIENTS_MAX];
        bool done = false;

        while (!done) {
                size_t n = a->n_clients;

                prompt_next(a);
                pf[0] = (struct pollfd){ a->wake_fd, POLLIN, 0 };
                pf[1] = (struct pollfd){ a->sentry_fd, POLLIN, 0 };
                pf[2] = (struct pollfd){ a->listen_fd, POLLIN, 0 };
                pf[3] = (struct pollfd){ a->prompt.pid ? a->prompt.result_fd : -1, POLLIN, 0 };
                for (size_t i = 0; i < n; i++)
                        pf[4 + i] = (struct pollfd){ a->clients[i]->fd, client_events(a->clients[i]), 0 };
                if (poll(pf, 4 + n, next_timeout(a)) < 0 && errno != EINTR) {
                        fprintf(stderr, "interpose: the asker stops: poll: %s\n", strerror(errno));
                        break;
                }
                expire(a);
                /* The session has ended (asker_stop, or the sentry is
                 * gone): the rest of this round is served first. */
                done = pf[0].revents || (pf[1].revents && on_sentry(a) < 0);
                if (pf[3].revents)
                        on_prompt(a);
                /* Backwards: a client done with takes the last one's place. */
                for (size_t i = n; i-- > 0;)
                        if (!client_io(a, a->clients[i], pf[4 + i].revents))
                                client_free(a, i);
                if (pf[2].revents && !done)
                        on_accept(a);
        }
        if (a->prompt.pid) {
                prompt_cancel(&a->prompt, "the session ended before an answer");
                prompt_finish(&a->prompt, ASKER_STOP_WAIT_MS);
        }
        /* No new clients first: one that sees its connection end can count
         * on being refused from then on. */
        close(a->listen_fd);
        a->listen_fd = -1;
        while (a->n_clients) {
                client_flush(a->clients[a->n_clients - 1]); /* what the socket takes */
                client_free(a, a->n_clients - 1);
        }
        close(a->sentry_fd);
        a->sentry_fd = -1;
        return NULL;
}

static void asker_free(struct asker *a)
{
        struct stat st;

        if (a->listen_fd >= 0)
                close(a->listen_fd);
        if (a->sentry_fd >= 0)
                close(a->sentry_fd);
        if (a->wake_fd >= 0)
                close(a->wake_fd);
        /* Only the socket we bound: not one a later session put there. */
        if (a->sock_ino && lstat(a->control, &st) == 0 && st.st_dev == a->sock_dev &&
            st.st_ino == a->sock_ino)
                unlink(a->control);
        free(a->q);
        free(a->control);
        free(a->session);
        free(a);
}

int asker_start(const struct asker_opts *o, int sentry_fd)
{
        struct passwd *pw = getpwuid(getuid());
        sigset_t all, faults, old;
        struct asker *a;
        int r;

        if (the_asker || !o || !o->control || sentry_fd < 0) {
                if (sentry_fd >= 0)
                        close(sentry_fd);
                return the_asker ? -EBUSY : -EINVAL;
        }
        a = xcalloc(1, sizeof(*a));
        a->o = *o;
        a->control = xstrdup(o->control);
        a->session = xstrdup(o->session_id ? o->session_id : "");
        a->o.control = a->control;
        a->o.session_id = a->session;
        a->sentry_fd = sentry_fd;
        a->listen_fd = a->wake_fd = -1;
        a->prompt = (struct prompt){ .pid = 0, .pidfd = -1, .cancel_fd = -1, .result_fd = -1 };
        a->pctx = (struct prompt_ctx){ .tty = o->tty, .launcher_pgrp = getpgrp(), .sentry = o->sentry };
        a->tty_ok = o->tty >= 0 && o->mode != APPROVER_SOCKET && o->mode != APPROVER_NONE;
        if (pw && pw->pw_name)
                snprintf(a->tty_by, sizeof(a->tty_by), "tty %s", pw->pw_name);
        else
                snprintf(a->tty_by, sizeof(a->tty_by), "tty");
        r = control_listen(a);
        if (r < 0)
                goto fail;
        a->listen_fd = r;
        a->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (a->wake_fd < 0) {
                r = -errno;
                goto fail;
        }
        /* The launcher takes its signals on a signalfd: none for this
         * thread (nor its prompters), but the faults the crash handler
         * reports. */
        sigfillset(&all);
        interpose_fault_signals(&faults);
        for (int sig = 1; sig < NSIG; sig++)
                if (sigismember(&faults, sig) == 1)
                        sigdelset(&all, sig);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        r = -pthread_create(&a->thread, NULL, asker_thread, a);
        /* A guest of interpose's job that reads the terminal while the
         * prompt has it stops its whole process group with SIGTTIN (the
         * prompter continues the group afterwards). The launcher must not
         * stop with it, or deadlines and socket answers would wait for
         * the person at the terminal. */
        sigaddset(&old, SIGTTIN);
        sigaddset(&old, SIGTTOU);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0)
                goto fail;
        the_asker = a;
        return 0;
fail:
        asker_free(a);
        return r;
}

void asker_stop(void)
{
        struct asker *a = the_asker;
        uint64_t one = 1;

        if (!a)
                return;
        if (write(a->wake_fd, &one, sizeof(one)) < 0) {
                /* An eventfd at its limit wakes the thread all the same. */
        }
        pthread_join(a->thread, NULL);
        the_asker = NULL;
        asker_free(a);
}
