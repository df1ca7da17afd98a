/* SPDX-License-Identifier: MIT */
/*
 * The asker (sentry/asker.c) and the client commands (tools/approve.c),
 * over a real control socket. The test plays the sentry on the other end
 * of the socketpair; the interpose binary (INTERPOSE) is the client. No
 * terminal here: tests/unit/asker-pty.py tests the prompt.
 *
 *   test-asker                           the tests
 *   test-asker serve PATH SESSION ID     a second session for them: asks
 *                                        question ID, prints the answer
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "sentry/ask.h"

#define WAIT_MS 20000 /* a deadline for a hang, not a measure of speed */

static const char *interpose;
static char state[256]; /* XDG_STATE_HOME: STATE/interpose/sessions/ID/control.sock */
static int sentry = -1; /* our end of the socketpair: we are the sentry */
static const char *session_id = "S1";

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void session_path(char *buf, size_t cap, const char *id)
{
        snprintf(buf, cap, "%s/interpose/sessions/%s/control.sock", state, id);
}

/* Start an asker as the launcher would; 0 or -errno. */
static int start(const char *control, uint64_t timeout_ms, pid_t sentry_pid, enum approver mode)
{
        struct asker_opts o = {
                .mode = mode,
                .timeout_ms = timeout_ms,
                .control = control,
                .session_id = session_id,
                .tty = -1,
                .sentry = sentry_pid,
        };
        int sp[2], r;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                exit(EXIT_HARD);
        r = asker_start(&o, sp[1]);
        if (r < 0) {
                close(sp[0]);
                return r;
        }
        sentry = sp[0];
        return 0;
}

static void stop(void)
{
        asker_stop();
        close(sentry);
        sentry = -1;
}

static void ask(uint32_t id, pid_t pid, const char *exe, const char *object)
{
        struct ask_msg m = { .type = ASK_QUESTION, .id = id, .pid = pid };

        snprintf(m.kind, sizeof(m.kind), "file");
        snprintf(m.right, sizeof(m.right), "read");
        snprintf(m.syscall, sizeof(m.syscall), "openat");
        snprintf(m.exe, sizeof(m.exe), "%s", exe);
        snprintf(m.object, sizeof(m.object), "%s", object);
        snprintf(m.call, sizeof(m.call), "openat(AT_FDCWD, \"%s\", O_RDONLY)", object);
        snprintf(m.rule, sizeof(m.rule), "--ask-read=/home/u");
        if (send(sentry, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m))
                exit(EXIT_HARD);
}

static void withdraw(uint32_t id)
{
        struct ask_msg m = { .type = ASK_WITHDRAW, .id = id };

        if (send(sentry, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m))
                exit(EXIT_HARD);
}

/* The next answer from the asker, within WAIT_MS. False if none came. */
static bool answer(struct ask_msg *m)
{
        struct pollfd p = { sentry, POLLIN, 0 };

        memset(m, 0, sizeof(*m));
        if (poll(&p, 1, WAIT_MS) != 1)
                return false;
        return recv(sentry, m, sizeof(*m), 0) == sizeof(*m) && m->type == ASK_ANSWER;
}

/* Read one line from fd within WAIT_MS into buf. Its length, or -1. */
static ssize_t read_line(int fd, char *buf, size_t cap)
{
        size_t len = 0;
        uint64_t end = now_ms() + WAIT_MS;

        while (len + 1 < cap) {
                struct pollfd p = { fd, POLLIN, 0 };
                uint64_t now = now_ms();
                ssize_t n;

                if (now >= end || poll(&p, 1, (int)(end - now)) != 1)
                        break;
                n = read(fd, buf + len, 1);
                if (n <= 0)
                        break;
                if (buf[len] == '\n') {
                        buf[len] = '\0';
                        return (ssize_t)len;
                }
                len++;
        }
        buf[len] = '\0';
        return -1;
}

/* Send text on a new connection to path and read one reply line. */
static void rpc(const char *path, const char *text, char *reply, size_t cap)
{
        int fd = ask_control_connect(path);

        reply[0] = '\0';
        if (fd < 0) {
                snprintf(reply, cap, "connect: %s", strerror(-fd));
                return;
        }
        if (write(fd, text, strlen(text)) < 0 || read_line(fd, reply, cap) < 0)
                snprintf(reply + strlen(reply), cap - strlen(reply), " (no whole reply)");
        close(fd);
}

/* Run interpose ARGS... with XDG_STATE_HOME=state; its stdout and stderr
 * in out. The exit status, or -1. */
static int run(char *out, size_t cap, ...)
{
        const char *argv[16] = { interpose };
        size_t n = 1, len = 0;
        uint64_t end = now_ms() + WAIT_MS;
        va_list ap;
        int p[2], st;
        pid_t pid;

        va_start(ap, cap);
        while (n < 15 && (argv[n] = va_arg(ap, const char *)))
                n++;
        va_end(ap);
        argv[n] = NULL;
        if (pipe2(p, O_CLOEXEC) < 0)
                exit(EXIT_HARD);
        pid = fork();
        if (pid == 0) {
                dup2(p[1], 1);
                dup2(p[1], 2);
                execv(interpose, (char **)argv);
                _exit(127);
        }
        close(p[1]);
        for (;;) {
                struct pollfd pf = { p[0], POLLIN, 0 };
                uint64_t now = now_ms();
                ssize_t k;

                if (now >= end || poll(&pf, 1, (int)(end - now)) != 1) {
                        kill(pid, SIGKILL);
                        break;
                }
                k = read(p[0], out + len, cap - 1 - len);
                if (k <= 0)
                        break;
                len += (size_t)k;
                if (len + 1 == cap)
                        break;
        }
        out[len] = '\0';
        close(p[0]);
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
                return -1;
        return WEXITSTATUS(st);
}

static void names(void)
{
        char buf[64];

        CHECK(!strcmp(ask_verdict_name(ASK_ONCE), "once"), "once");
        CHECK(!strcmp(ask_verdict_name(ASK_DENY_ALWAYS), "deny-always"), "deny-always");
        CHECK(ask_verdict_name(0) == NULL && ask_verdict_name(99) == NULL, "no name for 0 or 99");
        for (uint32_t v = ASK_ONCE; v <= ASK_DENY_ALWAYS; v++)
                CHECK(ask_verdict_by_name(ask_verdict_name(v)) == v, "verdict %u round-trips", v);
        CHECK(ask_verdict_by_name("approve") == ASK_ONCE, "approve is once");
        CHECK(ask_verdict_by_name("Once") == 0 && ask_verdict_by_name("") == 0 &&
                      ask_verdict_by_name(NULL) == 0,
              "unknown names");
        ask_printable(buf, sizeof(buf), "a\x1b[2Jb\xc3\xa9\xff\xe2\x80\xaez");
        CHECK(!strcmp(buf, "a\\x1b[2Jb\xc3\xa9\\xff\\xe2\\x80\\xaez"), "printable: %s", buf);
        ask_printable(buf, 12, "0123456789abcdef");
        CHECK(!strcmp(buf, "01234567..."), "truncated: %s", buf);
}

/* Questions, the JSON protocol, and the client, without a deadline. */
static void basics(void)
{
        char path[512], reply[8192], out[8192], want[64];
        struct ask_msg m;
        struct stat st;
        int fd;

        session_path(path, sizeof(path), "S1");
        CHECK(start(path, 0, 0, APPROVER_AUTO) == 0, "asker_start");
        CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600,
              "the control socket is there, mode 0600 (%o)", st.st_mode & 0777);
        ask(1, 4242, "/usr/bin/python3.11", "/home/u/notes\x1b[2J\xc3\xa9.txt");

        rpc(path, "{\"op\":\"pending\"}\n", reply, sizeof(reply));
        CHECK(strstr(reply, "\"session\":\"S1\"") && strstr(reply, "\"id\":1,") &&
                      strstr(reply, "\"pid\":4242") && strstr(reply, "\"exe\":\"/usr/bin/python3.11\"") &&
                      strstr(reply, "\"right\":\"read\"") &&
                      strstr(reply, "\"rule\":\"--ask-read=/home/u\"") && strstr(reply, "\"timeout_ms\":0") &&
                      strstr(reply, "\"age_ms\":"),
              "pending lists the question: %s", reply);
        CHECK(strstr(reply, "notes\\u001B[2J\\u00C3\\u00A9.txt"),
              "bytes as code points, as in the audit log: %s", reply);

        CHECK(run(out, sizeof(out), "pending", "--json", "--control", path, NULL) == 0 &&
                      strstr(out, "\"id\":1,"),
              "interpose pending --control --json: %s", out);
        CHECK(run(out, sizeof(out), "pending", NULL) == 0 && strstr(out, "SESSION") && strstr(out, "S1") &&
                      strstr(out, "python3.11") && strstr(out, "notes\\x1b[2J\xc3\xa9.txt") &&
                      !strchr(out, '\x1b'),
              "interpose pending finds the session, and shows the name safely: %s", out);

        /* Answered with no session named: found by its question. */
        CHECK(run(out, sizeof(out), "approve", "--by=te\x01ster", "1", NULL) == 0, "approve 1: %s", out);
        snprintf(want, sizeof(want), "socket uid=%u pid=", (unsigned)getuid());
        CHECK(answer(&m) && m.id == 1 && m.verdict == ASK_ONCE && !strncmp(m.by, want, strlen(want)) &&
                      strstr(m.by, " name=te?ster") && !strcmp(m.object, "/home/u/notes\x1b[2J\xc3\xa9.txt"),
              "the sentry gets once, by the socket's peer: %u %u '%s'", m.id, m.verdict, m.by);
        CHECK(run(out, sizeof(out), "approve", "--control", path, "1", NULL) == 1 &&
                      strstr(out, "no question 1"),
              "answered already: refused, exit 1: %s", out);
        CHECK(run(out, sizeof(out), "deny", "--session=S1", "1", NULL) == 1, "by --session too: %s", out);
        rpc(path, "{\"op\":\"answer\",\"id\":99,\"verdict\":\"once\"}\n", reply, sizeof(reply));
        CHECK(strstr(reply, "\"ok\":false") && strstr(reply, "no question 99"), "unknown id: %s", reply);

        /* Withdrawn: gone from the list, and no longer answerable. */
        ask(2, 4243, "/bin/cat", "/etc/hostname");
        rpc(path, "{\"op\":\"pending\"}\n", reply, sizeof(reply));
        CHECK(strstr(reply, "\"id\":2,"), "question 2 pending: %s", reply);
        withdraw(2);
        rpc(path, "{\"op\":\"pending\"}\n", reply, sizeof(reply));
        CHECK(strstr(reply, "\"pending\":[]"), "withdrawn: %s", reply);
        rpc(path, "{\"op\":\"answer\",\"id\":2,\"verdict\":\"deny\"}\n", reply, sizeof(reply));
        CHECK(strstr(reply, "\"ok\":false"), "a withdrawn question cannot be answered: %s", reply);

        /* deny --always; first answer wins (a second on another
         * connection is refused, and the sentry hears one answer). */
        ask(3, 4244, "/bin/cat", "/etc/shadow");
        CHECK(run(out, sizeof(out), "deny", "--always", "--control", path, "--json", "3", NULL) == 0 &&
                      strstr(out, "{\"ok\":true}"),
              "deny --always: %s", out);
        rpc(path, "{\"op\":\"answer\",\"id\":3,\"verdict\":\"once\"}\n", reply, sizeof(reply));
        CHECK(strstr(reply, "\"ok\":false"), "a second answer is refused: %s", reply);
        CHECK(answer(&m) && m.id == 3 && m.verdict == ASK_DENY_ALWAYS, "deny-always: %u %u", m.id, m.verdict);
        ask(4, 4245, "/bin/cat", "/etc/passwd");
        rpc(path, "{\"op\":\"answer\",\"id\":4,\"verdict\":\"always\",\"by\":\"bot\"}\n", reply,
            sizeof(reply));
        CHECK(strstr(reply, "{\"ok\":true}"), "answer over JSON: %s", reply);
        CHECK(answer(&m) && m.id == 4 && m.verdict == ASK_ALWAYS && strstr(m.by, "name=bot"),
              "the next answer is question 4's, not another for 3: %u %u %s", m.id, m.verdict, m.by);

        /* Bad requests get an error; the connection goes on serving. */
        fd = ask_control_connect(path);
        CHECK(fd >= 0, "connect");
        {
                static const char *const bad[] = {
                        "{nope\n",
                        "[1]\n",
                        "{\"op\":\"launch\"}\n",
                        "{\"op\":\"answer\",\"id\":\"1\",\"verdict\":\"once\"}\n",
                        "{\"op\":\"answer\",\"id\":1,\"verdict\":\"yes\"}\n",
                        "{\"op\":\"answer\",\"id\":1,\"verdict\":\"once\",\"by\":7}\n",
                        "{\"op\":\"pending\",\"op\":\"pending\"}\n",
                };
                for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                        CHECK(write(fd, bad[i], strlen(bad[i])) > 0, "write");
                        CHECK(read_line(fd, reply, sizeof(reply)) > 0 && strstr(reply, "\"ok\":false") &&
                                      strstr(reply, "\"error\":"),
                              "%s -> %s", bad[i], reply);
                }
                /* Two requests in one write: two replies, in order. */
                const char *two = "{\"op\":\"pending\"}\n\n{\"op\":\"nope\"}\n";
                CHECK(write(fd, two, strlen(two)) == (ssize_t)strlen(two), "write");
                CHECK(read_line(fd, reply, sizeof(reply)) > 0 && strstr(reply, "\"pending\":[]"), "then: %s",
                      reply);
                CHECK(read_line(fd, reply, sizeof(reply)) > 0 && strstr(reply, "unknown"), "and: %s", reply);
        }
        close(fd);
        /* Too long a line: an error, and the connection ends. */
        fd = ask_control_connect(path);
        {
                static char big[10000];
                memset(big, 'x', sizeof(big));
                CHECK(write(fd, big, sizeof(big)) > 0, "write");
                CHECK(read_line(fd, reply, sizeof(reply)) > 0 && strstr(reply, "longer than"), "too long: %s",
                      reply);
                CHECK(read_line(fd, reply, sizeof(reply)) < 0, "then the connection ends");
        }
        close(fd);
        rpc(path, "{\"op\":\"pending\"}\n", reply, sizeof(reply));
        CHECK(strstr(reply, "\"pending\":[]"), "the asker still serves: %s", reply);

        stop();
        CHECK(lstat(path, &st) < 0 && errno == ENOENT, "asker_stop removes the socket");
}

static void timeouts(void)
{
        char path[512], reply[4096];
        struct ask_msg m;
        uint64_t t0;

        session_path(path, sizeof(path), "S1");
        CHECK(start(path, 200, 0, APPROVER_SOCKET) == 0, "asker_start");
        t0 = now_ms();
        ask(1, 100, "/bin/cat", "/a");
        ask(2, 101, "/bin/cat", "/b");
        rpc(path, "{\"op\":\"answer\",\"id\":2,\"verdict\":\"once\"}\n", reply, sizeof(reply));
        CHECK(strstr(reply, "{\"ok\":true}"), "answered before its deadline: %s", reply);
        CHECK(answer(&m) && m.id == 2 && m.verdict == ASK_ONCE, "2 once: %u %u", m.id, m.verdict);
        CHECK(answer(&m) && m.id == 1 && m.verdict == ASK_DENY &&
                      !strcmp(m.by, "timeout (--ask-timeout=200ms)"),
              "1 denied at its deadline: %u %u '%s'", m.id, m.verdict, m.by);
        CHECK(now_ms() - t0 >= 200, "not before it (%llu ms)", (unsigned long long)(now_ms() - t0));
        rpc(path, "{\"op\":\"pending\"}\n", reply, sizeof(reply));
        CHECK(strstr(reply, "\"pending\":[]"), "nothing left: %s", reply);
        ask(3, 102, "/bin/cat", "/c");
        rpc(path, "{\"op\":\"pending\"}\n", reply, sizeof(reply));
        CHECK(strstr(reply, "\"timeout_ms\":200"), "the timeout is listed: %s", reply);
        CHECK(answer(&m) && m.id == 3 && m.verdict == ASK_DENY, "3 denied too: %u %u", m.id, m.verdict);
        stop();
}

/* The guest must not answer its own questions. */
static void refusals(void)
{
        char path[512], reply[4096], out[4096];
        struct ask_msg m;
        pid_t other;
        int p[2];

        session_path(path, sizeof(path), "S1");
        /* Playing the sentry: this process, so its children are "the guest". */
        CHECK(start(path, 0, getpid(), APPROVER_AUTO) == 0, "asker_start");
        ask(1, 100, "/bin/cat", "/a");
        rpc(path, "{\"op\":\"answer\",\"id\":1,\"verdict\":\"always\"}\n", reply, sizeof(reply));
        CHECK(strstr(reply, "\"ok\":false") && strstr(reply, "inside the sandbox"), "the sentry itself: %s",
              reply);
        CHECK(run(out, sizeof(out), "approve", "--control", path, "1", NULL) == 1 &&
                      strstr(out, "inside the sandbox"),
              "a process of the tree: %s", out);
        CHECK(run(out, sizeof(out), "pending", "--control", path, NULL) == 1 &&
                      strstr(out, "inside the sandbox"),
              "nor may it list them: %s", out);
        stop();

        /* With the sentry another process, the same client is let in. */
        if (pipe2(p, O_CLOEXEC) < 0)
                exit(EXIT_HARD);
        other = fork();
        if (other == 0) {
                char c;
                close(p[1]);
                _exit(read(p[0], &c, 1) < 0);
        }
        close(p[0]);
        CHECK(start(path, 0, other, APPROVER_AUTO) == 0, "asker_start");
        ask(1, 100, "/bin/cat", "/a");
        CHECK(run(out, sizeof(out), "approve", "--control", path, "1", NULL) == 0, "outside the tree: %s",
              out);
        CHECK(answer(&m) && m.id == 1 && m.verdict == ASK_ONCE, "answered: %u %u", m.id, m.verdict);
        stop();
        close(p[1]);
        waitpid(other, NULL, 0);

        /* --approver=none: denied at once, saying why. */
        CHECK(start(path, 0, 0, APPROVER_NONE) == 0, "asker_start");
        ask(1, 100, "/bin/cat", "/a");
        CHECK(answer(&m) && m.id == 1 && m.verdict == ASK_DENY && strstr(m.by, "--approver=none"), "none: %s",
              m.by);
        stop();
}

/* A session that ends (the sentry's socket closes) stops serving. */
static void session_end(void)
{
        char path[512], buf[64];
        struct stat st;
        int fd, r;

        session_path(path, sizeof(path), "S1");
        CHECK(start(path, 0, 0, APPROVER_AUTO) == 0, "asker_start");
        ask(1, 100, "/bin/cat", "/a");
        fd = ask_control_connect(path);
        CHECK(fd >= 0, "connect");
        close(sentry);
        /* The thread closes its clients once it has stopped listening. */
        CHECK(read_line(fd, buf, sizeof(buf)) < 0, "the connection ends with the session");
        close(fd);
        r = ask_control_connect(path);
        CHECK(r == -ECONNREFUSED, "refused after the session: %s", r < 0 ? strerror(-r) : "connected");
        if (r >= 0)
                close(r);
        sentry = -1;
        asker_stop();
        CHECK(lstat(path, &st) < 0, "the socket is removed");
}

/* Where the socket goes: a stale one is replaced, a live one or another
 * file is not; a path too long for sun_path works. */
static void places(void)
{
        char path[512], deep[512], reply[4096], out[4096];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        session_path(path, sizeof(path), "S9");
        snprintf(deep, sizeof(deep), "%s/interpose/sessions/S9", state);
        mkdir(deep, 0700);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 1) == 0, "a live socket");
        CHECK(start(path, 0, 0, APPROVER_AUTO) == -EADDRINUSE, "a live session's socket is left alone");
        close(fd); /* now stale */
        CHECK(start(path, 0, 0, APPROVER_AUTO) == 0, "a stale socket is replaced");
        CHECK(start(path, 0, 0, APPROVER_AUTO) == -EBUSY, "one asker at a time");
        stop();
        fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        close(fd);
        CHECK(start(path, 0, 0, APPROVER_AUTO) == -EEXIST, "a file that is no socket is left alone");
        unlink(path);

        snprintf(deep, sizeof(deep), "%s/interpose/sessions/%0150d", state, 7);
        CHECK(mkdir(deep, 0700) == 0, "mkdir %s", deep);
        strcat(deep, "/control.sock");
        CHECK(start(deep, 0, 0, APPROVER_AUTO) == 0, "a long path (%zu)", strlen(deep));
        ask(5, 100, "/bin/cat", "/a");
        rpc(deep, "{\"op\":\"pending\"}\n", reply, sizeof(reply));
        CHECK(strstr(reply, "\"id\":5,"), "served on a long path: %s", reply);
        CHECK(run(out, sizeof(out), "pending", "--control", deep, NULL) == 0 && strstr(out, "/a"),
              "the client too: %s", out);
        stop();
}

/* Past ASKER_PENDING_MAX questions, a new one is denied at once. */
static void cap(void)
{
        char path[512];
        struct ask_msg m;

        session_path(path, sizeof(path), "S1");
        CHECK(start(path, 0, 0, APPROVER_SOCKET) == 0, "asker_start");
        for (uint32_t id = 1; id <= 1025; id++)
                ask(id, 100, "/bin/cat", "/a");
        CHECK(answer(&m) && m.id == 1025 && m.verdict == ASK_DENY && strstr(m.by, "too many"), "%u %u %s",
              m.id, m.verdict, m.by);
        stop();
}

/* Two sessions, both asking question 1: the client must be told which. */
static void two_sessions(const char *self)
{
        char p1[512], p2[512], stale[512], out[4096], line[512];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct ask_msg m;
        int pipe_out[2], fd;
        pid_t pid;

        session_path(p1, sizeof(p1), "S1");
        session_path(p2, sizeof(p2), "S2");
        session_path(stale, sizeof(stale), "S0");
        CHECK(start(p1, 0, 0, APPROVER_AUTO) == 0, "asker_start");
        ask(1, 100, "/bin/cat", "/one");
        /* A session that ended without removing its socket. */
        *strrchr(stale, '/') = '\0';
        mkdir(stale, 0700);
        strcat(stale, "/control.sock");
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", stale);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind %s", stale);
        close(fd);

        if (pipe2(pipe_out, O_CLOEXEC) < 0)
                exit(EXIT_HARD);
        pid = fork();
        if (pid == 0) {
                dup2(pipe_out[1], 1);
                execl(self, self, "serve", p2, "S2", "1", (char *)NULL);
                _exit(127);
        }
        close(pipe_out[1]);
        CHECK(read_line(pipe_out[0], line, sizeof(line)) >= 0 && !strcmp(line, "ready"), "second session: %s",
              line);

        CHECK(run(out, sizeof(out), "pending", NULL) == 0 && strstr(out, "S1") && strstr(out, "S2") &&
                      !strstr(out, "S0") && strstr(out, "/one") && strstr(out, "/two"),
              "pending lists both live sessions, not the stale one: %s", out);
        CHECK(run(out, sizeof(out), "pending", "--json", NULL) == 0 && strstr(out, "\"session\":\"S1\"") &&
                      strstr(out, "\"session\":\"S2\""),
              "--json: one line per session: %s", out);
        CHECK(run(out, sizeof(out), "approve", "1", NULL) == 2 && strstr(out, "S1") && strstr(out, "S2") &&
                      strstr(out, "--session"),
              "ambiguous: exit 2, naming both: %s", out);
        CHECK(run(out, sizeof(out), "approve", "--session=S2", "--always", "1", NULL) == 0,
              "--session=S2: %s", out);
        CHECK(read_line(pipe_out[0], line, sizeof(line)) >= 0 &&
                      !strncmp(line, "answer 1 always socket uid=", 27),
              "the second session got it: %s", line);
        close(pipe_out[0]);
        waitpid(pid, NULL, 0);
        /* Now only S1 has question 1. */
        CHECK(run(out, sizeof(out), "deny", "1", NULL) == 0, "deny 1: %s", out);
        CHECK(answer(&m) && m.id == 1 && m.verdict == ASK_DENY, "S1 denied: %u %u", m.id, m.verdict);
        CHECK(run(out, sizeof(out), "deny", "1", NULL) == 1 && strstr(out, "no question 1"), "none left: %s",
              out);
        CHECK(run(out, sizeof(out), "approve", NULL) == 2 &&
                      run(out, sizeof(out), "approve", "x1", NULL) == 2 &&
                      run(out, sizeof(out), "pending", "--session=../x", NULL) == 2,
              "usage errors exit 2: %s", out);
        stop();
        unlink(stale);
}

/* The second session of two_sessions, in a process of its own. */
static int serve(const char *path, const char *id, const char *qid)
{
        struct ask_msg m;

        session_id = id;
        if (start(path, 0, 0, APPROVER_SOCKET) < 0)
                return EXIT_HARD;
        ask((uint32_t)atoi(qid), 200, "/bin/cat", "/two");
        printf("ready\n");
        fflush(stdout);
        if (!answer(&m))
                return EXIT_FAIL;
        printf("answer %u %s %s\n", m.id, ask_verdict_name(m.verdict), m.by);
        fflush(stdout);
        stop();
        return 0;
}

int main(int argc, char **argv)
{
        char dir[] = "/tmp/test-asker-XXXXXX", self[4096];

        signal(SIGPIPE, SIG_IGN);
        if (argc == 5 && !strcmp(argv[1], "serve"))
                return serve(argv[2], argv[3], argv[4]);
        interpose = getenv("INTERPOSE");
        if (!interpose || access(interpose, X_OK) < 0) {
                fprintf(stderr, "INTERPOSE must name the interpose binary (meson test sets it)\n");
                return EXIT_HARD;
        }
        if (!mkdtemp(dir))
                return EXIT_HARD;
        snprintf(state, sizeof(state), "%s", dir);
        setenv("XDG_STATE_HOME", state, 1);
        /* The sessions directory exists (the launcher made it for the log);
         * each session's own directory the asker makes. */
        {
                char p[512];
                snprintf(p, sizeof(p), "%s/interpose", state);
                mkdir(p, 0700);
                snprintf(p, sizeof(p), "%s/interpose/sessions", state);
                mkdir(p, 0700);
        }
        names();
        basics();
        timeouts();
        refusals();
        session_end();
        places();
        cap();
        two_sessions(realpath(argv[0], self) ? self : argv[0]);
        {
                char cmd[600];
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
                if (system(cmd) != 0)
                        NOTE("could not remove %s", state);
        }
        return guest_result();
}
