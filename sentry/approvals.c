/* SPDX-License-Identifier: MIT */
/*
 * Approvals, the sentry's side (ask.h). A call that needs a right the
 * policy gives only on request is parked: left pending in the platform,
 * unanswered, while the serving thread goes on with other calls. The
 * question goes to the launcher's asker; when the answer comes back (on
 * the reader thread here), the parked calls are queued and the serving
 * thread decides each again from the start, with the answer at hand as a
 * token for that very call and object. So nothing of a first decision is
 * trusted later: an object that changed meanwhile (a rename, a thread
 * rewriting the path) is a different object, and asks again; and an
 * answer "once" is spent on one call only.
 *
 * Standing answers ("always", "deny always") hold for the right on the
 * object for the rest of the session.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "secrets.h"
#include "sentry.h"
#include "util.h"

/* A standing answer's key: kind, right, object (at most what a question
 * can show: longer names are never asked). A question's and a token's
 * add the call as shown, for an exec (its argv). */
#define KEY_MAX                                                                       \
        (sizeof(((struct ask_msg *)0)->kind) + sizeof(((struct ask_msg *)0)->right) + \
         sizeof(((struct ask_msg *)0)->object) + sizeof(((struct ask_msg *)0)->call) + 3)
#define QUESTIONS_MAX 256 /* waiting at once; past it asks are refused */
#define STANDING_MAX 4096 /* standing answers kept; past it, refusals with nobody to ask are not kept */

/* A call waiting for an answer. */
struct parked {
        struct platform_event ev;
        struct parked *next;
};

struct question {
        uint32_t id;
        char key[KEY_MAX];  /* for a standing answer */
        char qkey[KEY_MAX]; /* for the question and its tokens */
        struct ask_msg msg;
        struct parked *calls;
        struct question *next;
};

/* An answer for one call (ev.id, ev.tid) on one key. */
struct token {
        uint64_t ev_id;
        pid_t tid;
        char key[KEY_MAX];
        uint32_t verdict, qid;
        char by[160];
        struct token *next;
};

/* A standing answer: always, or deny always. */
struct standing {
        char key[KEY_MAX];
        uint32_t verdict, qid;
        char by[160];
        struct standing *next;
};

static struct {
        pthread_mutex_t lock;
        struct sentry *s;
        int fd; /* to the launcher's asker; -1: nobody to ask */
        const char *nobody_why;
        struct question *questions;
        unsigned nquestions;
        struct token *tokens;
        struct standing *standing;
        unsigned nstanding;
        struct parked *redo; /* answered: to decide again */
        uint32_t next_id;
} A = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

static void make_key(char *key, const char *kind, const char *right, const char *object)
{
        snprintf(key, KEY_MAX, "%s\x1f%s\x1f%s", kind, right, object);
}

/* Write an audit record the serving thread does not make: an answer, a
 * question withdrawn. */
static void audit_answer(const struct ask_msg *q, const char *decision, const char *verdict, const char *by)
{
        char extra[2048];
        size_t len;

        len = (size_t)snprintf(extra, sizeof(extra), "\"ask_id\":%u,\"answer\":\"%s\",\"by\":\"", q->id,
                               verdict);
        len = audit_json_escape(extra, len, sizeof(extra) / 4, by);
        len += (size_t)snprintf(extra + len, sizeof(extra) - len,
                                "\",\"kind\":\"%s\",\"right\":\"%s\",\"object\":\"", q->kind, q->right);
        len = audit_json_escape(extra, len, sizeof(extra) - 2, q->object);
        extra[len++] = '"';
        extra[len] = '\0';
        struct audit_record r = {
                .pid = q->pid,
                .exe = q->exe,
                .syscall = q->syscall,
                .decision = decision,
                .rule = q->rule,
                .extra = extra,
        };
        if (audit_write(&A.s->audit, &r) < 0) {
                static const char msg[] =
                        "interpose: sentry: cannot write the audit log; stopping the guest\n";
                write_all(2, msg, sizeof(msg) - 1);
                sentry_kill_descendants(A.s->self, 0);
                _exit(125);
        }
        sentry_audit_grew(A.s);
}

static void wake_server(void)
{
        uint64_t one = 1;

        /* The eventfd first: redo set after it is always followed by a
         * read of it (sentry_ask_redo); the other order could leave the
         * count up with redo clear, and the serving thread polling a
         * readable fd for ever without taking calls. */
        (void)!write(A.s->plat.wake_fd, &one, sizeof(one));
        __atomic_store_n(&A.s->plat.redo, 1, __ATOMIC_RELEASE);
}

/* A standing answer for key; A.lock held. */
__attribute__((format(printf, 4, 5))) static void add_standing(const char *key, uint32_t verdict,
                                                               uint32_t qid, const char *fmt, ...)
{
        struct standing *st = xcalloc(1, sizeof(*st));
        va_list ap;

        snprintf(st->key, sizeof(st->key), "%s", key);
        st->verdict = verdict;
        st->qid = qid;
        va_start(ap, fmt);
        vsnprintf(st->by, sizeof(st->by), fmt, ap);
        va_end(ap);
        st->next = A.standing;
        A.standing = st;
        A.nstanding++;
}

/* An answer from the launcher: the question's calls are decided again. */
static void apply(const struct ask_msg *m)
{
        struct question **pq, *q;
        struct ask_msg copy;
        const char *vname = ask_verdict_name(m->verdict);

        if (!vname)
                return;
        pthread_mutex_lock(&A.lock);
        for (pq = &A.questions; *pq && (*pq)->id != m->id; pq = &(*pq)->next)
                ;
        q = *pq;
        if (!q) {
                pthread_mutex_unlock(&A.lock);
                return; /* withdrawn meanwhile */
        }
        *pq = q->next;
        A.nquestions--;
        if (m->verdict == ASK_ALWAYS || m->verdict == ASK_DENY_ALWAYS) {
                add_standing(q->key, m->verdict, q->id, "%s", m->by);
        } else {
                /* Once: the first call asking only; deny: all of them. */
                for (struct parked *p = q->calls; p; p = p->next) {
                        struct token *t = xcalloc(1, sizeof(*t));
                        t->ev_id = p->ev.id;
                        t->tid = p->ev.tid;
                        snprintf(t->key, sizeof(t->key), "%s", q->qkey);
                        t->verdict = m->verdict;
                        t->qid = q->id;
                        snprintf(t->by, sizeof(t->by), "%s", m->by);
                        t->next = A.tokens;
                        A.tokens = t;
                        if (m->verdict == ASK_ONCE)
                                break;
                }
        }
        /* The calls in the order they came. */
        struct parked **tail = &A.redo;
        while (*tail)
                tail = &(*tail)->next;
        *tail = q->calls;
        copy = q->msg;
        free(q);
        pthread_mutex_unlock(&A.lock);
        audit_answer(&copy, "answer", vname, m->by);
        wake_server();
}

/* Has tid a signal pending that kills it (no handler, not ignored, not
 * blocked, a default action that ends the process)? On a tracing platform
 * the caller waits stopped and would die only once answered: a SIGTERM to
 * interpose must not wait for a person. */
static bool dying(pid_t tid)
{
        /* Signals whose default action does not end the process. */
        static const uint64_t harmless = (1ULL << (SIGCHLD - 1)) | (1ULL << (SIGCONT - 1)) |
                                         (1ULL << (SIGURG - 1)) | (1ULL << (SIGWINCH - 1)) |
                                         (1ULL << (SIGSTOP - 1)) | (1ULL << (SIGTSTP - 1)) |
                                         (1ULL << (SIGTTIN - 1)) | (1ULL << (SIGTTOU - 1));
        char path[64], buf[4096];
        uint64_t v[5] = { 0 };
        static const char *const keys[5] = { "\nSigPnd:", "\nShdPnd:", "\nSigBlk:", "\nSigIgn:", "\nSigCgt:" };

        snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
        if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0)
                return false;
        for (int i = 0; i < 5; i++) {
                const char *at = strstr(buf, keys[i]);
                if (!at)
                        return false;
                v[i] = strtoull(at + strlen(keys[i]), NULL, 16);
        }
        return ((v[0] | v[1]) & ~v[2] & ~v[3] & ~v[4] & ~harmless) != 0;
}

/* Questions whose every caller is gone (killed while it waited) are
 * withdrawn: the asker stops asking them. A caller a fatal signal waits
 * for is answered EINTR at once, so the signal takes it. */
static void withdraw_gone(void)
{
        struct question **pq = &A.questions;
        struct ask_msg *gone = NULL;
        struct parked *doomed = NULL;
        unsigned ngone = 0;

        pthread_mutex_lock(&A.lock);
        while (*pq) {
                struct question *q = *pq;
                struct parked **pp = &q->calls;
                while (*pp) {
                        struct parked *p = *pp;
                        bool valid = A.s->plat.ops->valid(&A.s->plat, &p->ev);
                        if (valid && !dying(p->ev.tid)) {
                                pp = &p->next;
                                continue;
                        }
                        *pp = p->next;
                        __atomic_sub_fetch(&A.s->plat.asks_waiting, 1, __ATOMIC_RELAXED);
                        if (valid) {
                                p->next = doomed;
                                doomed = p;
                        } else {
                                free(p);
                        }
                }
                if (q->calls) {
                        pq = &q->next;
                        continue;
                }
                *pq = q->next;
                A.nquestions--;
                gone = xrealloc(gone, (ngone + 1) * sizeof(*gone));
                gone[ngone++] = q->msg;
                free(q);
        }
        pthread_mutex_unlock(&A.lock);
        /* Answered outside the lock: a tracing platform answers on its
         * own thread, which may be waiting for the lock. */
        while (doomed) {
                struct parked *next = doomed->next;
                A.s->plat.ops->respond(&A.s->plat, &doomed->ev, PLATFORM_RETURN, -EINTR);
                free(doomed);
                doomed = next;
        }
        for (unsigned i = 0; i < ngone; i++) {
                struct ask_msg w = { .type = ASK_WITHDRAW, .id = gone[i].id };
                send(A.fd, &w, sizeof(w), MSG_NOSIGNAL);
                audit_answer(&gone[i], "answer", "withdrawn", "nobody: the caller is gone or dying");
        }
        free(gone);
}

/* Reads the launcher's answers, and every second looks for questions
 * nobody waits for any more (a question comes from the serving thread,
 * which does not wake us: the second is also how long a question of a
 * caller killed at once may stay up). */
static void *reader(void *arg)
{
        (void)arg;
        interpose_crash_thread();
        for (;;) {
                struct pollfd p = { .fd = A.fd, .events = POLLIN };
                int n = poll(&p, 1, 1000);
                bool waiting = __atomic_load_n(&A.nquestions, __ATOMIC_RELAXED) > 0;
                if (n < 0 && errno != EINTR)
                        break;
                if (n > 0) {
                        struct ask_msg m;
                        ssize_t got = recv(A.fd, &m, sizeof(m), 0);
                        if (got <= 0 && errno != EINTR)
                                break; /* the launcher is gone: so is the session */
                        if (got == (ssize_t)sizeof(m) && m.type == ASK_ANSWER) {
                                m.by[sizeof(m.by) - 1] = '\0';
                                apply(&m);
                        }
                }
                if (waiting)
                        withdraw_gone();
        }
        return NULL;
}

int sentry_ask_start(struct sentry *s, int fd, const char *nobody_why)
{
        A.s = s;
        A.fd = fd;
        A.nobody_why = nobody_why;
        if (fd < 0)
                return 0;
        if (s->plat.wake_fd < 0)
                return -EBADF;
        return start_thread(NULL, 256 * 1024, reader, NULL);
}

/* Fill c->detail for the record of an asked call. */
static void ask_detail(struct sentry_call *c, uint32_t id, const char *kind, const char *right,
                       const char *object, const char *rule, const char *answer, const char *by)
{
        size_t len = strlen(c->detail);

        /* What the handler put there (the path the guest gave, ...) stays. */
        if (len && len < sizeof(c->detail) - 2)
                c->detail[len++] = ',';
        len += (size_t)snprintf(c->detail + len, sizeof(c->detail) - len,
                                "\"ask_id\":%u,\"kind\":\"%s\",\"right\":\"%s\"", id, kind, right);
        if (!strstr(c->detail, "\"object\":")) {
                len += (size_t)snprintf(c->detail + len, sizeof(c->detail) - len, ",\"object\":\"");
                len = audit_json_escape(c->detail, len, sizeof(c->detail) - 200, object);
                len += (size_t)snprintf(c->detail + len, sizeof(c->detail) - len, "\"");
        }
        if (!strstr(c->detail, "\"policy_rule\":")) {
                len += (size_t)snprintf(c->detail + len, sizeof(c->detail) - len, ",\"policy_rule\":\"");
                len = audit_json_escape(c->detail, len, sizeof(c->detail) - 120, rule);
                len += (size_t)snprintf(c->detail + len, sizeof(c->detail) - len, "\"");
        }
        if (answer) {
                len += (size_t)snprintf(c->detail + len, sizeof(c->detail) - len,
                                        ",\"answer\":\"%s\",\"by\":\"", answer);
                len = audit_json_escape(c->detail, len, sizeof(c->detail) - 2, by);
                if (len < sizeof(c->detail) - 1)
                        c->detail[len++] = '"';
                c->detail[len] = '\0';
        }
}

int sentry_ask(struct sentry_call *c, const char *kind, const char *right, const char *object,
               const char *rule)
{
        char key[KEY_MAX], qkey[KEY_MAX], call[sizeof(((struct ask_msg *)0)->call)] = "";
        struct question *q;

        if (c->parked)
                return SENTRY_ASK_PARKED; /* one question at a time per call */
        if (strlen(object) >= sizeof(((struct ask_msg *)0)->object)) {
                /* A person cannot approve what cannot be shown whole. */
                ask_detail(c, 0, kind, right, object, rule, "deny",
                           "nobody: the object's name is too long to show");
                sentry_decide(c, "deny", "ask");
                return SENTRY_ASK_REFUSED;
        }
        make_key(key, kind, right, object);
        /* An exec's answer is for the argv shown: another argv (a thread
         * rewrote it, another process asks the same) asks on its own. */
        if (!strcmp(kind, "exec"))
                sentry_format_call(c, call, sizeof(call));
        snprintf(qkey, sizeof(qkey), "%s\x1f%s", key, call);
        /* An answer for this very call, else a standing one. */
        uint32_t v = 0, id = 0;
        char by[160];
        pthread_mutex_lock(&A.lock);
        for (struct token *t = A.tokens; t && !v; t = t->next)
                if (t->ev_id == c->ev.id && t->tid == c->ev.tid && !strcmp(t->key, qkey)) {
                        v = t->verdict, id = t->qid;
                        snprintf(by, sizeof(by), "%s", t->by);
                }
        for (struct standing *st = A.standing; st && !v; st = st->next)
                if (!strcmp(st->key, key)) {
                        v = st->verdict, id = st->qid;
                        snprintf(by, sizeof(by), "%s", st->by);
                }
        if (v) {
                bool allow = v == ASK_ONCE || v == ASK_ALWAYS;
                pthread_mutex_unlock(&A.lock);
                ask_detail(c, id, kind, right, object, rule, ask_verdict_name(v), by);
                sentry_decide(c, allow ? "allow" : "deny", "ask");
                return allow ? SENTRY_ASK_GRANTED : SENTRY_ASK_REFUSED;
        }
        if (A.fd < 0 || A.nquestions >= QUESTIONS_MAX) {
                /* Nobody to ask: refused, and said once per object. */
                bool full = A.fd >= 0, kept = !full && A.nstanding < STANDING_MAX;
                uint32_t id = ++A.next_id;
                if (kept)
                        add_standing(key, ASK_DENY_ALWAYS, id, "nobody: %s",
                                     A.nobody_why ? A.nobody_why : "no approver");
                pthread_mutex_unlock(&A.lock);
                char by[200], line[1600];
                snprintf(by, sizeof(by), "nobody: %s",
                         full           ? "too many questions waiting"
                         : A.nobody_why ? A.nobody_why
                                        : "no approver");
                ask_detail(c, id, kind, right, object, rule, "deny", by);
                sentry_decide(c, "deny", "ask");
                int n = snprintf(line, sizeof(line),
                                 "interpose: denied without asking (%s): %s %s %s (rule %s)\n",
                                 full           ? "too many questions waiting"
                                 : A.nobody_why ? A.nobody_why
                                                : "no approver",
                                 kind, right, object, rule);
                size_t len = secrets_redact(line, (size_t)(n < (int)sizeof(line) ? n : (int)sizeof(line) - 1),
                                            sizeof(line));
                /* The object is the guest's name for it: no control
                 * character of its reaches the user's terminal. */
                for (size_t i = 0; i + 1 < len; i++)
                        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
                                line[i] = '?';
                if (kept) /* a line per object, not per call */
                        write_all(2, line, len);
                return SENTRY_ASK_REFUSED;
        }
        for (q = A.questions; q && strcmp(q->qkey, qkey); q = q->next)
                ;
        if (!q) {
                q = xcalloc(1, sizeof(*q));
                q->id = ++A.next_id;
                snprintf(q->key, sizeof(q->key), "%s", key);
                snprintf(q->qkey, sizeof(q->qkey), "%s", qkey);
                q->msg.type = ASK_QUESTION;
                q->msg.id = q->id;
                snprintf(q->msg.kind, sizeof(q->msg.kind), "%s", kind);
                snprintf(q->msg.right, sizeof(q->msg.right), "%s", right);
                snprintf(q->msg.object, sizeof(q->msg.object), "%s", object);
                snprintf(q->msg.rule, sizeof(q->msg.rule), "%s", rule);
                snprintf(q->msg.syscall, sizeof(q->msg.syscall), "%s", c->e ? c->e->name : "?");
                q->next = A.questions;
                A.questions = q;
                A.nquestions++;
                c->ask_new = true; /* sent once the call is decoded (sentry_ask_park) */
        }
        struct parked *p = xcalloc(1, sizeof(*p)), **tail = &q->calls;
        p->ev = c->ev;
        while (*tail)
                tail = &(*tail)->next;
        *tail = p;
        c->parked = true;
        c->ask_id = q->id;
        pthread_mutex_unlock(&A.lock);
        __atomic_add_fetch(&c->s->plat.asks_waiting, 1, __ATOMIC_RELAXED);
        ask_detail(c, c->ask_id, kind, right, object, rule, NULL, NULL);
        sentry_decide(c, "ask", "ask");
        return SENTRY_ASK_PARKED;
}

void sentry_ask_park(struct sentry_call *c, const char *decoded, const char *exe)
{
        struct ask_msg m;
        bool found = false;

        if (!c->ask_new)
                return;
        pthread_mutex_lock(&A.lock);
        for (struct question *q = A.questions; q; q = q->next)
                if (q->id == c->ask_id) {
                        pid_t tgid = sentry_caller_tgid(c);
                        q->msg.pid = tgid > 0 ? tgid : c->ev.tid;
                        snprintf(q->msg.exe, sizeof(q->msg.exe), "%s", exe);
                        snprintf(q->msg.call, sizeof(q->msg.call), "%s", decoded);
                        /* What a person sees is what the log may hold. */
                        secrets_redact(q->msg.call, strlen(q->msg.call), sizeof(q->msg.call));
                        secrets_redact(q->msg.object, strlen(q->msg.object), sizeof(q->msg.object));
                        secrets_redact(q->msg.exe, strlen(q->msg.exe), sizeof(q->msg.exe));
                        m = q->msg;
                        found = true;
                        break;
                }
        pthread_mutex_unlock(&A.lock);
        if (found && send(A.fd, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m)) {
                /* The asker is gone: nobody will answer. Deny now. */
                struct ask_msg d = { .type = ASK_ANSWER, .id = m.id, .verdict = ASK_DENY };
                snprintf(d.by, sizeof(d.by), "nobody: the asker is gone");
                apply(&d);
        }
}

void sentry_ask_end(void)
{
        pthread_mutex_lock(&A.lock);
        for (struct question *q = A.questions; q; q = q->next)
                audit_answer(&q->msg, "answer", "withdrawn", "nobody: the session ended");
        A.questions = NULL; /* (the process ends: nothing to free for) */
        A.nquestions = 0;
        pthread_mutex_unlock(&A.lock);
}

void sentry_ask_done(struct sentry_call *c)
{
        struct token **pt;

        if (c->parked || !__atomic_load_n(&A.tokens, __ATOMIC_RELAXED))
                return;
        pthread_mutex_lock(&A.lock);
        pt = &A.tokens;
        while (*pt) {
                struct token *t = *pt;
                if (t->ev_id == c->ev.id && t->tid == c->ev.tid) {
                        *pt = t->next;
                        free(t);
                } else {
                        pt = &t->next;
                }
        }
        pthread_mutex_unlock(&A.lock);
}

void sentry_ask_redo(struct sentry *s, void (*handle)(struct sentry *s, const struct platform_event *ev))
{
        struct parked *list;
        uint64_t n;

        if (!__atomic_exchange_n(&s->plat.redo, 0, __ATOMIC_ACQ_REL))
                return;
        (void)!read(s->plat.wake_fd, &n, sizeof(n));
        pthread_mutex_lock(&A.lock);
        list = A.redo;
        A.redo = NULL;
        pthread_mutex_unlock(&A.lock);
        while (list) {
                struct parked *next = list->next;
                __atomic_sub_fetch(&s->plat.asks_waiting, 1, __ATOMIC_RELAXED);
                if (s->plat.ops->valid(&s->plat, &list->ev)) {
                        handle(s, &list->ev);
                } else {
                        /* Gone while it waited: its tokens go too. */
                        struct sentry_call c = { .s = s, .ev = list->ev };
                        sentry_ask_done(&c);
                }
                free(list);
                list = next;
        }
}
