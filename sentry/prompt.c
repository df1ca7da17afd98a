/* SPDX-License-Identifier: MIT */
/*
 * The asker's terminal prompt (asker.c), one child process per question.
 *
 * The person's keystrokes must reach the prompt and not the guest, and
 * nothing typed earlier, or made to be typed, may answer. So the prompter
 * moves into a process group of its own and takes the terminal's
 * foreground: job control then keeps the guest off the terminal (a guest
 * that reads it stops on SIGTTIN). It drops the typeahead, reads a line in
 * canonical mode, and takes only an exact answer of printable characters: a
 * terminal's answer-back (a reply to an escape sequence the guest wrote)
 * starts with ESC and is refused. Whatever happens, it gives the terminal
 * back as it found it: its modes, its foreground group, and the processes
 * of that group that stopped because the prompt had the terminal are
 * continued.
 *
 * The child runs after fork() in a threaded process: it makes system calls
 * on text the asker prepared before the fork, and allocates nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "asker_int.h"
#include "sentry.h"
#include "util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define STOPPED_MAX 1024 /* stopped processes of the foreground group remembered */
#define ANSWER_MAX 64    /* a longer line is no answer */

/* --- the processes of a group, from /proc --- */

static pid_t pid_of_name(const char *s)
{
        long v = 0;

        if (!*s)
                return 0;
        for (; *s; s++) {
                if (*s < '0' || *s > '9' || v > INT_MAX / 10)
                        return 0;
                v = v * 10 + (*s - '0');
        }
        return v > INT_MAX ? 0 : (pid_t)v;
}

/* Call fn(pid, state, arg) for each process of group pgrp until one call
 * returns true; true when one did. */
static bool each_in_group(pid_t pgrp, bool (*fn)(pid_t, char, void *), void *arg)
{
        char buf[4096];
        bool hit = false;
        int dfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dfd < 0)
                return false;
        while (!hit) {
                long n = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
                if (n <= 0)
                        break;
                for (long off = 0; off < n && !hit;) {
                        struct dirent64 *d = (struct dirent64 *)(buf + off);
                        pid_t pid = pid_of_name(d->d_name), group;
                        char state;

                        off += d->d_reclen;
                        if (pid > 0 && sentry_proc_stat(-1, pid, NULL, NULL, &group, &state) == 0 &&
                            group == pgrp)
                                hit = fn(pid, state, arg);
                }
        }
        close(dfd);
        return hit;
}

static bool in_tree(pid_t pid, char state, void *arg)
{
        return sentry_descends_from(pid, *(pid_t *)arg) == 1;
}

/* Is pgrp a process group of the guest's tree? */
static bool group_in_tree(pid_t pgrp, pid_t sentry)
{
        if (sentry <= 0)
                return false;
        if (sentry_descends_from(pgrp, sentry) == 1)
                return true;
        /* Its leader may be gone while the group lives on. */
        return each_in_group(pgrp, in_tree, &sentry);
}

struct stopped {
        pid_t pid[STOPPED_MAX];
        size_t n;
        bool full;
};

/* Stopped: by a signal (T) or, under the ptrace platform, in a group-stop
 * the sentry holds (t). */
static bool is_stopped(char state)
{
        return state == 'T' || state == 't';
}

static bool note_stopped(pid_t pid, char state, void *arg)
{
        struct stopped *s = arg;

        if (!is_stopped(state))
                return false;
        if (s->n < STOPPED_MAX)
                s->pid[s->n++] = pid;
        else
                s->full = true;
        return false;
}

/* Continue a process that stopped while the prompt had the terminal
 * (SIGTTIN, SIGTTOU): one that was stopped before stays so. */
static bool continue_new(pid_t pid, char state, void *arg)
{
        const struct stopped *before = arg;

        if (!is_stopped(state) || before->full)
                return false;
        for (size_t i = 0; i < before->n; i++)
                if (before->pid[i] == pid)
                        return false;
        kill(pid, SIGCONT);
        return false;
}

/* --- the prompter --- */

struct prompter {
        const struct prompt_ctx *c;
        const struct prompt_text *t;
        int cancel_fd, sig_fd;
        int in; /* the terminal for reading, O_NONBLOCK */
        pid_t saved_fg;
        struct termios saved;
        struct stopped before;
        int err;
};

static void say(int tty, const char *s)
{
        write_all(tty, s, strlen(s));
}

static void __attribute__((noreturn)) report(int fd, int outcome, int err)
{
        struct prompt_result r = { outcome, err };

        write_all(fd, &r, sizeof(r));
        _exit(0);
}

/* Close every descriptor but the four the prompter needs (and 0-2). */
static void close_others(int keep[4])
{
        unsigned from = 3;

        for (int i = 0; i < 4; i++)
                for (int j = i + 1; j < 4; j++)
                        if (keep[j] < keep[i]) {
                                int t = keep[i];
                                keep[i] = keep[j];
                                keep[j] = t;
                        }
        for (int i = 0; i < 4; i++) {
                if (keep[i] < (int)from)
                        continue;
                if ((unsigned)keep[i] > from)
                        close_range(from, (unsigned)keep[i] - 1, 0);
                from = (unsigned)keep[i] + 1;
        }
        close_range(from, ~0U, 0);
}

/* Canonical mode with echo and the usual keys, whatever the guest left:
 * ^C and ^\ interrupt, ^D ends, ^Z does nothing. */
static void prompt_mode(struct termios *t)
{
        t->c_iflag |= ICRNL;
        t->c_iflag &= ~(tcflag_t)(INLCR | IGNCR);
        t->c_oflag |= OPOST | ONLCR;
        t->c_lflag |= ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ISIG | IEXTEN;
        t->c_lflag &= ~(tcflag_t)(ECHONL | NOFLSH);
        t->c_cc[VINTR] = 003;
        t->c_cc[VQUIT] = 034;
        t->c_cc[VEOF] = 004;
        t->c_cc[VSUSP] = _POSIX_VDISABLE;
        if (t->c_cc[VERASE] == _POSIX_VDISABLE)
                t->c_cc[VERASE] = 0177;
        if (t->c_cc[VKILL] == _POSIX_VDISABLE)
                t->c_cc[VKILL] = 025;
        t->c_cc[VMIN] = 1;
        t->c_cc[VTIME] = 0;
}

/* The verdict an answer names: exact words only. 0 for none. */
static int parse_answer(const char *s)
{
        static const struct {
                const char *word;
                int verdict;
        } words[] = {
                { "o", ASK_ONCE },
                { "once", ASK_ONCE },
                { "a", ASK_ALWAYS },
                { "always", ASK_ALWAYS },
                { "d", ASK_DENY },
                { "deny", ASK_DENY },
                { "w", ASK_DENY_ALWAYS },
                { "never", ASK_DENY_ALWAYS },
                { "deny always", ASK_DENY_ALWAYS },
        };

        for (size_t i = 0; i < ARRAY_SIZE(words); i++)
                if (!strcmp(s, words[i].word))
                        return words[i].verdict;
        return 0;
}

static bool printable(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
                        return false;
        return true;
}

/* A whole line was read (without its newline): the verdict, or 0 to ask
 * again. */
static int on_line(struct prompter *p, const char *line, size_t len, bool overlong)
{
        static const char *const done[] = {
                [ASK_ONCE] = "  allowed once\n",
                [ASK_ALWAYS] = "  allowed for the rest of the session\n",
                [ASK_DENY] = "  denied\n",
                [ASK_DENY_ALWAYS] = "  denied for the rest of the session\n",
        };
        int tty = p->c->tty, v;

        if (!printable(line, len)) {
                /* Perhaps the terminal's answer-back to an escape sequence:
                 * drop whatever else of it is queued. */
                tcflush(tty, TCIFLUSH);
                say(tty, "  ignored: the answer holds control characters\n");
                say(tty, p->t->again);
                return 0;
        }
        v = overlong ? 0 : parse_answer(line);
        if (!v) {
                say(tty, "  answer o (once), a (always), d (deny) or w (deny always)\n");
                say(tty, p->t->again);
                return 0;
        }
        say(tty, done[v]);
        return v;
}

/* The prompt was cancelled: show why, if the asker said. */
static int cancelled(struct prompter *p)
{
        char why[256];
        ssize_t n = read(p->cancel_fd, why, sizeof(why) - 1);

        if (n > 0) {
                why[n] = '\0';
                say(p->c->tty, "\n  ");
                say(p->c->tty, why);
                say(p->c->tty, "\n");
        }
        return PROMPT_CANCELLED;
}

/* A signal for the prompt: the outcome, or 0 to go on asking. */
static int on_signal(struct prompter *p)
{
        struct signalfd_siginfo si;

        if (read(p->sig_fd, &si, sizeof(si)) != sizeof(si))
                return 0;
        switch (si.ssi_signo) {
        case SIGINT:
        case SIGQUIT:
                say(p->c->tty, "\n  denied\n");
                return ASK_DENY;
        case SIGHUP:
        case SIGTERM:
                /* The launcher's thread is gone, or the terminal hung up. */
                return PROMPT_CANCELLED;
        default:
                return 0;
        }
}

/* Read from the terminal: the outcome, or 0 to go on. */
static int on_input(struct prompter *p, char *line, size_t *len, bool *overlong)
{
        int tty = p->c->tty;
        ssize_t n;

        if (tcgetpgrp(tty) != getpid()) {
                say(tty, p->t->lost);
                return PROMPT_LOST;
        }
        n = read(p->in, line + *len, ANSWER_MAX + 1 - *len);
        if (n < 0) {
                if (errno == EINTR || errno == EAGAIN)
                        return 0;
                p->err = errno;
                return PROMPT_FAILED;
        }
        if (n == 0) { /* ^D */
                say(tty, "\n  denied\n");
                return ASK_DENY;
        }
        *len += (size_t)n;
        if (line[*len - 1] != '\n') {
                if (*len > ANSWER_MAX) { /* keep reading to its end */
                        *overlong = true;
                        *len = 0;
                }
                return 0;
        }
        line[--*len] = '\0';
        n = on_line(p, line, *len, *overlong);
        *len = 0;
        *overlong = false;
        return (int)n;
}

/* Ask until an answer, a cancel, a signal or the loss of the terminal. */
static int ask(struct prompter *p)
{
        char line[ANSWER_MAX + 2];
        size_t len = 0;
        bool overlong = false;
        int outcome = 0;

        say(p->c->tty, p->t->text);
        while (!outcome) {
                struct pollfd fds[3] = {
                        { p->in, POLLIN, 0 },
                        { p->cancel_fd, POLLIN, 0 },
                        { p->sig_fd, POLLIN, 0 },
                };
                if (poll(fds, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        p->err = errno;
                        return PROMPT_FAILED;
                }
                if (fds[1].revents)
                        outcome = cancelled(p);
                else if (fds[2].revents)
                        outcome = on_signal(p);
                else if (fds[0].revents & (POLLERR | POLLNVAL)) {
                        p->err = EIO;
                        outcome = PROMPT_FAILED;
                } else if (fds[0].revents)
                        outcome = on_input(p, line, &len, &overlong);
        }
        return outcome;
}

/* The terminal as it was: modes, foreground, the group's stopped
 * processes. What was typed for the prompt stays with it. */
static void give_back(struct prompter *p)
{
        int tty = p->c->tty;

        tcflush(tty, TCIFLUSH);
        tcsetattr(tty, TCSANOW, &p->saved);
        if (tcgetpgrp(tty) == getpid() && tcsetpgrp(tty, p->saved_fg) < 0)
                tcsetpgrp(tty, p->c->launcher_pgrp); /* that group is gone */
        each_in_group(p->saved_fg, continue_new, &p->before);
}

static void __attribute__((noreturn))
prompter(const struct prompt_ctx *c, const struct prompt_text *t, int cancel_fd, int result_fd, pid_t parent)
{
        static struct prompter p; /* big: not on the stack */
        struct termios mode;
        sigset_t sigs;
        int tty = c->tty, outcome, keep[4];
        char self[64];

        p = (struct prompter){ .c = c, .t = t, .cancel_fd = cancel_fd };
        /* The thread that forked us may end without cancelling (the
         * launcher killed): SIGHUP then, and the terminal goes back. */
        prctl(PR_SET_PDEATHSIG, SIGHUP);
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGINT);
        sigaddset(&sigs, SIGQUIT);
        sigaddset(&sigs, SIGTSTP);
        sigaddset(&sigs, SIGHUP);
        sigaddset(&sigs, SIGTERM);
        sigprocmask(SIG_BLOCK, &sigs, NULL);
        p.sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
        /* Terminal calls from the background must not stop us. */
        signal(SIGTTOU, SIG_IGN);
        signal(SIGTTIN, SIG_IGN);
        keep[0] = tty, keep[1] = cancel_fd, keep[2] = result_fd, keep[3] = p.sig_fd;
        close_others(keep);
        if (getppid() != parent)
                report(result_fd, PROMPT_CANCELLED, 0);
        if (p.sig_fd < 0 || setpgid(0, 0) < 0)
                report(result_fd, PROMPT_FAILED, errno);
        /* Reads of our own, that never block: a guest process blocked in
         * read() on the terminal before the prompt took it may still take
         * a line that poll showed us (the kernel checks job control when a
         * read starts), and the prompt must go on seeing cancels. */
        snprintf(self, sizeof(self), "/proc/self/fd/%d", tty);
        p.in = open(self, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (p.in < 0)
                report(result_fd, PROMPT_FAILED, errno);
        p.saved_fg = tcgetpgrp(tty);
        if (p.saved_fg < 0 || tcgetattr(tty, &p.saved) < 0)
                report(result_fd, PROMPT_FAILED, errno);
        /* Never take the terminal from another job (the user's shell):
         * only from interpose's own, or one of the guest's. */
        if (p.saved_fg != c->launcher_pgrp && !group_in_tree(p.saved_fg, c->sentry)) {
                say(tty, t->notice);
                report(result_fd, PROMPT_BACKGROUND, 0);
        }
        each_in_group(p.saved_fg, note_stopped, &p.before);
        if (tcsetpgrp(tty, getpid()) < 0)
                report(result_fd, PROMPT_FAILED, errno);
        /* Nothing typed before the question may answer it. */
        tcflush(tty, TCIFLUSH);
        mode = p.saved;
        prompt_mode(&mode);
        if (tcsetattr(tty, TCSANOW, &mode) < 0) {
                p.err = errno;
                outcome = PROMPT_FAILED;
        } else {
                outcome = ask(&p);
        }
        give_back(&p);
        report(result_fd, outcome, p.err);
}

int prompt_start(struct prompt *p, const struct prompt_ctx *c, uint32_t id, const struct prompt_text *t)
{
        int cp[2], rp[2];
        pid_t parent = getpid(), pid;

        if (pipe2(cp, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(rp, O_CLOEXEC) < 0) {
                int r = -errno;
                close(cp[0]);
                close(cp[1]);
                return r;
        }
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(cp[0]);
                close(cp[1]);
                close(rp[0]);
                close(rp[1]);
                return r;
        }
        if (pid == 0) {
                close(cp[1]);
                close(rp[0]);
                prompter(c, t, cp[0], rp[1], parent);
        }
        close(cp[0]);
        close(rp[1]);
        p->pid = pid;
        /* Reaped by pidfd: the launcher's own SIGCHLD loop may reap it
         * first, and then no reused pid is waited for. */
        p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        p->id = id;
        p->cancel_fd = cp[1];
        p->result_fd = rp[0];
        return 0;
}

void prompt_cancel(struct prompt *p, const char *reason)
{
        if (p->cancel_fd < 0)
                return;
        /* Short, into an empty pipe: never blocks. */
        if (reason)
                write_all(p->cancel_fd, reason, strnlen(reason, 255));
        close(p->cancel_fd);
        p->cancel_fd = -1;
}

struct prompt_result prompt_finish(struct prompt *p, int wait_ms)
{
        struct prompt_result r = { PROMPT_FAILED, EPIPE };
        struct pollfd pf = { p->result_fd, POLLIN, 0 };
        siginfo_t si;

        if (wait_ms > 0 && poll(&pf, 1, wait_ms) == 0) {
                /* Stuck (its terminal output stopped?): it cannot be let
                 * hold the terminal after the session. */
                if (p->pidfd >= 0)
                        syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
        }
        if (read(p->result_fd, &r, sizeof(r)) != sizeof(r))
                r = (struct prompt_result){ PROMPT_FAILED, EPIPE };
        close(p->result_fd);
        prompt_cancel(p, NULL);
        if (p->pidfd >= 0) {
                while (waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED | __WALL) < 0 && errno == EINTR)
                        ;
                close(p->pidfd);
        }
        *p = (struct prompt){ .pid = 0, .pidfd = -1, .cancel_fd = -1, .result_fd = -1 };
        return r;
}
