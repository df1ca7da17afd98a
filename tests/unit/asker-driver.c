/* SPDX-License-Identifier: MIT */
/*
 * Driver for tests/unit/asker-pty.py: runs the asker with its prompt on
 * the controlling terminal (a pty the Python side holds the master of), as
 * a job of a job-control shell, and plays both the launcher and the
 * sentry. Not a test by itself.
 *
 * It puts the terminal in a raw mode as a full-screen guest would, asks
 * questions phase by phase (printing "phase N" first, and what it must see
 * as "answer ID VERDICT by BY"), and after each prompt checks that the
 * terminal's foreground group and modes are back as they were ("restored
 * N yes"). Exit 0 when it got through, 1 on a failed check, 99 on an error.
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
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "sentry/ask.h"

#define WAIT_MS 20000 /* a deadline for a hang */

static int tty = -1, sentry = -1;
static char control[256];
static struct termios guest_mode;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n"); /* ONLCR stays on in the guest's modes */
        fflush(stdout);
}

static char dir[] = "/tmp/asker-pty-XXXXXX";

/* The control socket's directory goes however the driver ends. */
static void remove_dir(void)
{
        if (control[0])
                unlink(control);
        rmdir(dir);
}

static void die(const char *what)
{
        say("error: %s: %s", what, strerror(errno));
        exit(EXIT_HARD);
}

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait, bounded, until cond(arg) holds: a poll for a condition another
 * process brings about, which sends us no event. */
static bool wait_for(bool (*cond)(long), long arg)
{
        uint64_t end = now_ms() + WAIT_MS;
        struct timespec ms = { 0, 1000000 };

        while (!cond(arg)) {
                if (now_ms() > end)
                        return false;
                nanosleep(&ms, NULL);
        }
        return true;
}

static bool fg_is_not(long pgrp)
{
        return tcgetpgrp(tty) != (pid_t)pgrp;
}

static char state_of(pid_t pid)
{
        char path[64], buf[512], *p;
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        f = fopen(path, "r");
        if (!f)
                return '?';
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        p = strrchr(buf, ')');
        return p && p[1] == ' ' ? p[2] : '?';
}

static bool is_stopped(long pid)
{
        return state_of((pid_t)pid) == 'T';
}

static bool is_running(long pid)
{
        return state_of((pid_t)pid) != 'T';
}

static void start(void)
{
        struct asker_opts o = {
                .mode = APPROVER_AUTO,
                .control = control,
                .session_id = "pty",
                .tty = tty,
        };
        int sp[2], r;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                die("socketpair");
        r = asker_start(&o, sp[1]);
        if (r < 0) {
                errno = -r;
                die("asker_start");
        }
        sentry = sp[0];
}

static void ask(uint32_t id)
{
        struct ask_msg m = { .type = ASK_QUESTION, .id = id, .pid = 4242 };

        snprintf(m.kind, sizeof(m.kind), "file");
        snprintf(m.right, sizeof(m.right), "read");
        snprintf(m.syscall, sizeof(m.syscall), "openat");
        snprintf(m.exe, sizeof(m.exe), "/usr/bin/python3.11");
        snprintf(m.object, sizeof(m.object), "/home/u/notes-%u.txt", id);
        snprintf(m.call, sizeof(m.call), "openat(AT_FDCWD, \"/home/u/notes-%u.txt\", O_RDONLY)", id);
        snprintf(m.rule, sizeof(m.rule), "--ask-read=/home/u");
        if (send(sentry, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m))
                die("send");
}

/* Print the next answer as "answer ID VERDICT by BY". */
static void answer(void)
{
        struct pollfd p = { sentry, POLLIN, 0 };
        struct ask_msg m;

        if (poll(&p, 1, WAIT_MS) != 1 || recv(sentry, &m, sizeof(m), 0) != sizeof(m) ||
            m.type != ASK_ANSWER) {
                say("answer: none");
                return;
        }
        say("answer %u %s by %s", m.id, ask_verdict_name(m.verdict) ? ask_verdict_name(m.verdict) : "?",
            m.by);
}

static void check_restored(int phase)
{
        struct termios now;
        bool same = tcgetattr(tty, &now) == 0 && now.c_iflag == guest_mode.c_iflag &&
                    now.c_oflag == guest_mode.c_oflag && now.c_lflag == guest_mode.c_lflag &&
                    now.c_cflag == guest_mode.c_cflag && !memcmp(now.c_cc, guest_mode.c_cc, sizeof(now.c_cc));

        say("restored %d %s (foreground %s, modes %s)", phase,
            same && tcgetpgrp(tty) == getpgrp() ? "yes" : "no",
            tcgetpgrp(tty) == getpgrp() ? "back" : "not back", same ? "back" : "not back");
}

/* A guest process of the foreground job that reads the terminal once
 * told to (by a byte on go). */
static pid_t reader(int *ret_go)
{
        int p[2];
        pid_t pid;

        if (pipe(p) < 0)
                die("pipe");
        pid = fork();
        if (pid == 0) {
                sigset_t none;
                char c;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                signal(SIGTTIN, SIG_DFL);
                close(p[1]);
                if (read(p[0], &c, 1) == 1)
                        read(tty, &c, 1);
                _exit(0);
        }
        close(p[0]);
        *ret_go = p[1];
        return pid;
}

/* The prompt, answered on the terminal: typeahead dropped, wrong answers
 * and escape sequences refused, a reader of the job stopped and
 * continued. */
static void phase1(void)
{
        struct pollfd p = { tty, POLLIN, 0 };
        int go;
        pid_t r = reader(&go);

        say("phase 1");
        /* The Python side types "d" for the guest before we ask. */
        if (poll(&p, 1, WAIT_MS) != 1)
                die("no typeahead");
        ask(1);
        if (!wait_for(fg_is_not, getpgrp()))
                die("the prompt did not take the terminal");
        if (write(go, "g", 1) != 1)
                die("write");
        say(wait_for(is_stopped, r) ? "reader stopped" : "reader not stopped");
        answer();
        say(wait_for(is_running, r) ? "reader continued" : "reader still stopped");
        kill(r, SIGKILL);
        waitpid(r, NULL, 0);
        close(go);
        check_restored(1);
}

/* Answered elsewhere while the prompt is up: the prompt goes. */
static void phase4(void)
{
        say("phase 4");
        ask(4);
        answer();
        /* The prompter ends after the answer: asker_stop waits for it. */
        asker_stop();
        close(sentry);
        check_restored(4);
        start();
}

/* interpose in the background (the shell has the terminal): the prompt
 * must not take it. */
static void phase5(void)
{
        pid_t shell = getsid(0);

        if (tcsetpgrp(tty, shell) < 0)
                die("tcsetpgrp");
        say("phase 5");
        ask(5);
        answer();
        say("foreground kept %s", tcgetpgrp(tty) == shell ? "yes" : "no");
        if (tcsetpgrp(tty, getpgrp()) < 0)
                die("tcsetpgrp");
}

/* The session ends while the prompt is up. */
static void phase6(void)
{
        say("phase 6");
        ask(6);
        if (!wait_for(fg_is_not, getpgrp()))
                die("the prompt did not take the terminal");
        close(sentry);
        asker_stop();
        check_restored(6);
}

int main(void)
{
        pid_t before;
        sigset_t ttou;

        /* As a launcher: terminal calls from the background are allowed. */
        sigemptyset(&ttou);
        sigaddset(&ttou, SIGTTOU);
        sigprocmask(SIG_BLOCK, &ttou, NULL);
        signal(SIGPIPE, SIG_IGN);
        tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (tty < 0)
                die("/dev/tty");
        if (!mkdtemp(dir))
                die("mkdtemp");
        atexit(remove_dir);
        snprintf(control, sizeof(control), "%s/control.sock", dir);
        before = tcgetpgrp(tty);
        if (before != getpgrp()) {
                say("error: not the foreground job (%d, we are %d)", (int)before, (int)getpgrp());
                return EXIT_HARD;
        }
        /* A full-screen guest's modes. */
        tcgetattr(tty, &guest_mode);
        cfmakeraw(&guest_mode);
        guest_mode.c_oflag |= OPOST;
        guest_mode.c_cc[VMIN] = 1;
        guest_mode.c_cc[VTIME] = 0;
        if (tcsetattr(tty, TCSANOW, &guest_mode) < 0 || tcgetattr(tty, &guest_mode) < 0)
                die("tcsetattr");
        start();
        say("control %s", control);
        say("ready");
        phase1();
        say("phase 2"); /* ^C */
        ask(2);
        answer();
        check_restored(2);
        say("phase 3"); /* the words; two questions at once, in turn */
        ask(3);
        ask(7);
        answer();
        answer();
        check_restored(3);
        phase4();
        phase5();
        phase6();
        say("done");
        return 0;
}
