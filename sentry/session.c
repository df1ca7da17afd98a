/* SPDX-License-Identifier: MIT */
/*
 * The launcher's side of a session: audit log, gofer, sentry, signals,
 * fail-closed watch, exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sentry.h"
#include "session_int.h"
#include "util.h"
#include "../gofer/gofer.h"
#include "../policy/policy.h"

void session_complain(const char *fmt, ...)
{
        char buf[1024];
        va_list ap;
        int n = snprintf(buf, sizeof(buf), "interpose: ");

        va_start(ap, fmt);
        n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
        va_end(ap);
        if (n >= (int)sizeof(buf) - 1)
                n = (int)sizeof(buf) - 2;
        buf[n++] = '\n';
        write_all(2, buf, (size_t)n);
}

int session_resolve_program(const char *prog, char *buf, size_t cap)
{
        const char *path = getenv("PATH");
        struct stat st;
        int found_noexec = 0;

        if (!*prog)
                return -ENOENT;
        if (strchr(prog, '/')) {
                if (snprintf(buf, cap, "%s", prog) >= (int)cap)
                        return -ENAMETOOLONG;
                if (stat(buf, &st) < 0)
                        return -errno;
                if (S_ISDIR(st.st_mode))
                        return -EISDIR;
                return access(buf, X_OK) < 0 ? -EACCES : 0;
        }
        if (!path)
                path = "/usr/local/bin:/usr/bin:/bin";
        while (*path) {
                const char *end = strchrnul(path, ':');
                int dl = (int)(end - path);
                if (snprintf(buf, cap, "%.*s%s%s", dl, path, dl ? "/" : "", prog) < (int)cap &&
                    stat(buf, &st) == 0 && !S_ISDIR(st.st_mode)) {
                        if (access(buf, X_OK) == 0)
                                return 0;
                        found_noexec = 1;
                }
                path = *end ? end + 1 : end;
        }
        return found_noexec ? -EACCES : -ENOENT;
}

static int mkdir_p(char *path, mode_t mode)
{
        for (char *p = path + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(path, mode) < 0 && errno != EEXIST) {
                        *p = '/';
                        return -errno;
                }
                *p = '/';
        }
        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* Where a session's log goes by default: STATE/sessions/ID. */
static int session_dir(char *buf, size_t cap, const char *session_id)
{
        char base[PATH_MAX];
        int r = interpose_state_dir(base, sizeof(base));

        if (r < 0)
                return r;
        snprintf(buf, cap, "%s/sessions/%s", base, session_id);
        return 0;
}

/* A second name for the log while it is written, in interpose's own
 * state directory, which no guest may reach: if the launcher and the
 * sentry are both killed at once (kill -9 of the process group, the OOM
 * killer), nobody gives the log its name, and this one keeps it, whole up
 * to the last record written. Removed once the log has its name. Where
 * the state directory is on another filesystem, there is none. */
static void keep_live(const struct session_ctx *ctx, struct audit_place *ap, int fd)
{
        char dir[PATH_MAX], proc[64];

        ap->live_dirfd = -1;
        if (session_dir(dir, sizeof(dir), ctx->session_id) < 0 || mkdir_p(dir, 0700) < 0)
                return;
        ap->live_dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        if (ap->live_dirfd >= 0 &&
            linkat(AT_FDCWD, proc, ap->live_dirfd, "audit.jsonl.live", AT_SYMLINK_FOLLOW) < 0) {
                close(ap->live_dirfd);
                ap->live_dirfd = -1;
        }
}

/* The log is written to an unnamed file (O_TMPFILE) in its final
 * directory and only given its name when the session ends: while the guest
 * runs, there is no path by which it could open it (but keep_live's). */
static int audit_open(const struct session_ctx *ctx, struct audit_place *ap)
{
        int fd, r;

        if (ctx->o->audit_path) {
                const char *slash = strrchr(ctx->o->audit_path, '/');
                if (slash)
                        snprintf(ap->dir, sizeof(ap->dir), "%.*s", (int)(slash - ctx->o->audit_path),
                                 ctx->o->audit_path);
                else
                        snprintf(ap->dir, sizeof(ap->dir), ".");
                if (!ap->dir[0])
                        snprintf(ap->dir, sizeof(ap->dir), "/");
                snprintf(ap->name, sizeof(ap->name), "%s", slash ? slash + 1 : ctx->o->audit_path);
                if (!ap->name[0])
                        return -EISDIR;
        } else {
                r = session_dir(ap->dir, sizeof(ap->dir), ctx->session_id);
                if (r < 0)
                        return r;
                r = mkdir_p(ap->dir, 0700);
                if (r < 0)
                        return r;
                snprintf(ap->name, sizeof(ap->name), "audit.jsonl");
        }
        ap->dirfd = open(ap->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ap->dirfd < 0)
                return -errno;
        fd = openat(ap->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0) {
                keep_live(ctx, ap, fd);
                return fd;
        }
        if (errno != EOPNOTSUPP && errno != EISDIR)
                return -errno;
        session_complain(
                "warning: %s does not support unnamed files; the audit log is visible while the guest runs",
                ap->dir);
        ap->linked = true;
        fd = openat(ap->dirfd, ap->name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        return fd < 0 ? -errno : fd;
}

/* Copy the log (still open, perhaps unlinked) into a new file at dir/name. */
static int copy_log(int fd, const char *dir, const char *name)
{
        _cleanup_close_ int src = -1, dst = -1, dirfd = -1;
        char proc[64], buf[65536];
        ssize_t n;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        src = open(proc, O_RDONLY | O_CLOEXEC);
        dirfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (src < 0 || dirfd < 0)
                return -errno;
        dst = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (dst < 0)
                return -errno;
        while ((n = read(src, buf, sizeof(buf))) > 0)
                if (write_all(dst, buf, (size_t)n) < 0)
                        return -errno;
        if (n < 0 || fsync(dst) < 0)
                return -errno;
        return 0;
}

/* Give the finished log its name (replacing an older file of that name).
 * If something is in the way (a directory where the file goes, the
 * directory removed by the host), the log goes beside it under a name with
 * the session id, else into interpose's state directory, else into a new
 * private directory under /tmp, and ap says where. 0 or -errno when it
 * could not be saved at all. */

static int publish(struct audit_place *ap, int fd, const char *session_id);

int session_audit_publish(struct audit_place *ap, int fd, const char *session_id)
{
        int r;

        if (ap->linked)
                return 0;
        r = publish(ap, fd, session_id);
        if (r == 0 && ap->live_dirfd >= 0)
                unlinkat(ap->live_dirfd, "audit.jsonl.live", 0);
        return r;
}

static int publish(struct audit_place *ap, int fd, const char *session_id)
{
        char proc[64], tmp[NAME_MAX + 1], alt[NAME_MAX + 1], dir[PATH_MAX];
        unsigned long long nonce = 0;
        bool linked;
        int r;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        /* The link is made under a name the guest cannot guess, random now
         * (the session id is no secret: the guest's own cgroup shows it): a
         * name planted there would turn the log away from its place, and a
         * file planted there would be renamed into place as the log. */
        if (getrandom(&nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
                nonce ^= (unsigned long long)getpid() << 32 ^ (unsigned long long)time(NULL);
        snprintf(tmp, sizeof(tmp), ".%.150s.%s.%016llx.part", ap->name, session_id, nonce);
        /* An unnamed file can be linked once only: keep that link until a
         * name is found for it. */
        r = linkat(AT_FDCWD, proc, ap->dirfd, tmp, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
        linked = r == 0;
        if (linked) {
                if (renameat(ap->dirfd, tmp, ap->dirfd, ap->name) == 0)
                        return 0;
                r = -errno;
        }
        session_complain("cannot save the audit log as %s/%s: %s", ap->dir, ap->name, strerror(-r));
        ap->moved = true;
        snprintf(alt, sizeof(alt), "%.200s.%s", ap->name, session_id);
        /* Only our own link is renamed: if linking failed, tmp is not ours. */
        if (linked && renameat2(ap->dirfd, tmp, ap->dirfd, alt, RENAME_NOREPLACE) == 0) {
                snprintf(ap->name, sizeof(ap->name), "%s", alt);
                return 0;
        }
        if (linked)
                unlinkat(ap->dirfd, tmp, 0);
        /* Else a copy in interpose's own state directory, which no guest
         * may touch; failing that, a new private directory. */
        if (session_dir(dir, sizeof(dir), session_id) == 0 && mkdir_p(dir, 0700) == 0) {
                r = copy_log(fd, dir, "audit.jsonl.saved");
                if (r == 0) {
                        snprintf(ap->dir, sizeof(ap->dir), "%s", dir);
                        snprintf(ap->name, sizeof(ap->name), "audit.jsonl.saved");
                        return 0;
                }
        }
        /* (Not $TMPDIR: in the launcher that is the session's own temp
         * directory, removed when it ends.) */
        snprintf(dir, sizeof(dir), "/tmp/interpose-%s-XXXXXX", session_id);
        if (!mkdtemp(dir))
                return -errno;
        r = copy_log(fd, dir, "audit.jsonl");
        if (r < 0)
                return r;
        snprintf(ap->dir, sizeof(ap->dir), "%s", dir);
        snprintf(ap->name, sizeof(ap->name), "audit.jsonl");
        return 0;
}

static void make_session_id(char *buf, size_t cap)
{
        uint8_t rnd[8];
        time_t now = time(NULL);
        struct tm tm;
        char stamp[32];

        if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
                memset(rnd, 0, sizeof(rnd));
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
        snprintf(buf, cap, "%s-%02x%02x%02x%02x", stamp, rnd[0], rnd[1], rnd[2], rnd[3]);
}

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM };

struct launcher {
        struct session_ctx *ctx;
        pid_t sentry, gofer, guest;
        int guest_pidfd;
        int exec_errno;
        bool have_status;
        struct session_msg last;
        int status_fd; /* sentry -> launcher messages */
        sigset_t held; /* signals to forward once the guest exists */
        bool failed;   /* sentry or gofer died: fail closed */
        int limit;     /* LIMIT_* that stopped the session, or 0 */
        const char *failure;
};

static void fail_closed(struct launcher *l, const char *why)
{
        if (l->failed)
                return;
        l->failed = true;
        l->failure = why;
        if (l->sentry > 0)
                kill(l->sentry, SIGKILL);
        /* Guest processes reparent to us (a subreaper) once the sentry is
         * gone; kill everything below us but the gofer. */
        sentry_kill_descendants(getpid(), l->gofer);
}

static bool on_status(struct launcher *l, int fd);

/* Read every message the sentry has written so far. */
static void drain_status(struct launcher *l)
{
        struct pollfd p = { l->status_fd, POLLIN, 0 };

        /* Until nothing is left: a limit's message (which sets no status)
         * comes just before the guest's exit, and both may wait here. */
        while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN))
                if (!on_status(l, l->status_fd))
                        break;
}

static void on_signal(struct launcher *l, const struct signalfd_siginfo *si)
{
        if (si->ssi_signo == SIGCHLD) {
                int st;
                pid_t pid;
                while ((pid = waitpid(-1, &st, WNOHANG | __WALL)) > 0) {
                        if (pid == l->sentry) {
                                l->sentry = -1;
                                drain_status(l);
                                if (!l->have_status || l->last.type != MSG_GUEST_EXIT)
                                        fail_closed(l, "the sentry died");
                        } else if (pid == l->gofer) {
                                /* The sentry fails every path call with EIO
                                 * from now on (never lets one through); the
                                 * guest goes on with what it holds. */
                                l->gofer = -1;
                                if (l->sentry > 0)
                                        kill(l->sentry, SIGUSR2); /* it says so once it holds */
                        }
                }
                return;
        }
        /* Signals the terminal sends reach the whole foreground group, the
         * guest included; forward only those sent to us by kill(2). */
        if (si->ssi_code != SI_USER && si->ssi_code != SI_QUEUE && si->ssi_code != SI_TKILL)
                return;
        /* Before the guest exists, hold the signal (as the kernel would
         * hold a pending one) and deliver it when it does. */
        if (l->guest_pidfd < 0)
                sigaddset(&l->held, (int)si->ssi_signo);
        else
                syscall(SYS_pidfd_send_signal, l->guest_pidfd, si->ssi_signo, NULL, 0);
}

/* A message as the sentry writes them: a type it sends, a chain head of
 * hex digits (printed in the summary), the guest's pid only once. */
static bool status_valid(const struct launcher *l, const struct session_msg *m)
{
        size_t n = strnlen(m->head, sizeof(m->head));

        if (n == sizeof(m->head) || strspn(m->head, "0123456789abcdef") != n)
                return false;
        switch (m->type) {
        case MSG_GUEST_PID:
                return l->guest <= 0 && m->value > 0;
        case MSG_GUEST_EXIT:
        case MSG_LIMIT:
                return true;
        default:
                return false;
        }
}

/* Take one message; false when there was none to read. */
static bool on_status(struct launcher *l, int fd)
{
        struct session_msg m;
        ssize_t n = read(fd, &m, sizeof(m));

        if (n != sizeof(m))
                return false;
        if (!status_valid(l, &m))
                return true;
        if (m.type == MSG_LIMIT) {
                l->limit = m.value;
                return true;
        }
        l->last = m;
        l->have_status = true;
        if (m.type == MSG_GUEST_PID) {
                l->guest = m.value;
                l->guest_pidfd = (int)syscall(SYS_pidfd_open, l->guest, 0);
                for (int sig = 1; sig < NSIG && l->guest_pidfd >= 0; sig++)
                        if (sigismember(&l->held, sig))
                                syscall(SYS_pidfd_send_signal, l->guest_pidfd, sig, NULL, 0);
                sigemptyset(&l->held);
        }
        return true;
}

static int exit_code(struct launcher *l)
{
        int st;

        if (l->failed) {
                session_complain("%s; the guest was stopped (fail closed)", l->failure);
                return EXIT_INTERPOSE_FAILED;
        }
        if (!l->have_status || l->last.type != MSG_GUEST_EXIT) {
                session_complain("the sentry ended without reporting the guest's status");
                return EXIT_INTERPOSE_FAILED;
        }
        st = l->last.value;
        if (l->limit) {
                const struct session_limits *lim = &l->ctx->o->limits;
                switch (l->limit) {
                case LIMIT_TIMEOUT:
                        session_complain(
                                "the guest ran past --timeout (%llu ms); every guest process was stopped",
                                (unsigned long long)lim->timeout_ms);
                        return EXIT_TIMEOUT;
                case LIMIT_MEMORY:
                        session_complain("the guest used more than --max-memory (%llu bytes resident); every "
                                         "guest process was stopped",
                                         (unsigned long long)lim->max_memory);
                        return EXIT_LIMIT_KILLED;
                case LIMIT_PROCS:
                        session_complain("the guest ran more than --max-procs=%u processes (a fork "
                                         "bomb?); every guest process was stopped",
                                         lim->max_procs);
                        return EXIT_LIMIT_KILLED;
                case LIMIT_AUDIT:
                        session_complain("the audit log grew past --max-audit (%llu bytes: the guest made "
                                         "refused calls in a loop?); every guest process was stopped",
                                         (unsigned long long)lim->max_audit);
                        return EXIT_LIMIT_KILLED;
                default:
                        session_complain("the guest's files grew past --max-write (%llu bytes); every guest "
                                         "process was stopped",
                                         (unsigned long long)lim->max_write);
                        return EXIT_LIMIT_KILLED;
                }
        }
        if (l->exec_errno) {
                session_complain("cannot execute %s: %s", l->ctx->o->exe, strerror(l->exec_errno));
                return l->exec_errno == ENOENT ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE;
        }
        if (WIFSIGNALED(st))
                return 128 + WTERMSIG(st);
        return WEXITSTATUS(st);
}

static void launcher_loop(struct launcher *l, int sfd, int status_fd, int err_fd)
{
        struct pollfd p[3] = { { sfd, POLLIN, 0 }, { status_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 } };

        /* Until the sentry reports the guest's end (it has stopped the
         * tree and written the log by then; its own exit is reaped at the
         * end, while we publish) or dies. */
        while (l->sentry > 0 && !(l->have_status && l->last.type == MSG_GUEST_EXIT)) {
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        fail_closed(l, "poll failed");
                        break;
                }
                if (p[1].revents & POLLIN)
                        on_status(l, status_fd);
                else if (p[1].revents)
                        p[1].fd = -1;
                if (p[2].revents & POLLIN) {
                        int e;
                        if (read(err_fd, &e, sizeof(e)) == sizeof(e))
                                l->exec_errno = e;
                        else
                                p[2].fd = -1;
                } else if (p[2].revents)
                        p[2].fd = -1;
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof(si)) == sizeof(si))
                                on_signal(l, &si);
                }
        }
        drain_status(l);
}

static void summary(const struct session_ctx *ctx, const struct launcher *l, const struct audit_place *ap,
                    int code, bool published)
{
        char path[PATH_MAX + NAME_MAX + 2];

        snprintf(path, sizeof(path), "%s/%s", ap->dir, ap->name);
        if (!ctx->o->summary && !ap->moved && (!l->have_status || l->last.denials == 0))
                return;
        session_complain("session %s: exit %d, %lu trapped, %lu denied; audit log %s%s (chain head %s)",
                         ctx->session_id, code, l->have_status ? l->last.trapped : 0UL,
                         l->have_status ? l->last.denials : 0UL, path, published ? "" : " (not saved)",
                         l->have_status ? l->last.head : "-");
}

/* The policy asks (ask.h): who answers. With someone, the socket to the
 * launcher's asker (started here) is ctx->ask_fd, the sentry's end; with
 * nobody, ctx->ask_nobody says why. 0, or -1 when the choice cannot be
 * honoured (said). */
static int approvals_prepare(struct session_ctx *ctx, struct asker_opts *ret_ao, int *ret_asker_fd)
{
        const struct session_opts *o = ctx->o;
        static char control[PATH_MAX];
        struct asker_opts ao = {
                .mode = o->approver, .timeout_ms = o->ask_timeout_ms, .session_id = ctx->session_id, .tty = -1
        };
        int sv[2], r;

        *ret_asker_fd = -1;
        if (o->approver == APPROVER_NONE) {
                ctx->ask_nobody = "--approver=none";
                return 0;
        }
        if (o->approver == APPROVER_AUTO || o->approver == APPROVER_TTY) {
                /* interpose's controlling terminal, never the guest's stdin. */
                ao.tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (ao.tty < 0 && o->approver == APPROVER_TTY) {
                        session_complain("--approver=tty: interpose has no controlling terminal (%s); use "
                                         "--approver=socket and answer with `interpose approve`",
                                         strerror(errno));
                        return -1;
                }
                if (ao.tty < 0) {
                        ctx->ask_nobody = "no terminal to ask on, and no --approver=socket";
                        return 0;
                }
        }
        if (o->control) {
                snprintf(control, sizeof(control), "%s", o->control);
        } else {
                char dir[PATH_MAX];
                if ((r = session_dir(dir, sizeof(dir), ctx->session_id)) < 0 ||
                    (r = mkdir_p(dir, 0700)) < 0) {
                        session_complain("cannot make the session's directory for the control socket: %s "
                                         "(give --control=PATH)",
                                         strerror(-r));
                        goto fail;
                }
                if ((size_t)snprintf(control, sizeof(control), "%s/control.sock", dir) >=
                    sizeof(((struct sockaddr_un *)0)->sun_path)) {
                        session_complain("the control socket's path %s/control.sock is too long for a unix "
                                         "socket; give a shorter one with --control=PATH",
                                         dir);
                        goto fail;
                }
        }
        ao.control = control;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                session_complain("cannot set up approvals: %s", strerror(errno));
                goto fail;
        }
        /* The asker starts once the sentry is forked (it checks that no
         * one answering descends from it). */
        *ret_ao = ao;
        *ret_asker_fd = sv[0];
        ctx->ask_fd = sv[1];
        ctx->ask_tty = ao.tty >= 0;
        if (ao.tty < 0 && o->ask_timeout_ms)
                session_complain("approvals wait for `interpose approve ID` (see `interpose pending "
                                 "--session=%s`); unanswered ones are denied after %llu ms",
                                 ctx->session_id, (unsigned long long)o->ask_timeout_ms);
        else if (ao.tty < 0)
                session_complain("approvals wait for `interpose approve ID` (see `interpose pending "
                                 "--session=%s`)",
                                 ctx->session_id);
        return 0;
fail:
        if (ao.tty >= 0)
                close(ao.tty);
        return -1;
}

static void plat_release(struct platform **p)
{
        if (*p && (*p)->ops)
                (*p)->ops->destroy(*p);
}

/* The terminal the session runs on, as it was before: the guest shares
 * it with the user, and what it leaves set outlives the session (an
 * exclusive mode that makes every later open of it fail with EBUSY, so
 * ssh, sudo and gpg cannot prompt; echo or line editing off after a guest
 * that was killed mid-way). Put back when the session ends, if it still
 * holds the terminal's foreground (a session in the background must not
 * reset the settings of the program in front). Not the window size, which
 * the terminal itself may have changed meanwhile. */
struct tty_state {
        int fd;
        struct termios tio;
        int excl;
        bool foreground; /* the session's job held the terminal's foreground */
};

static void tty_save(struct tty_state *t)
{
        t->fd = -1;
        for (int fd = 0; fd <= 2; fd++)
                if (isatty(fd) && tcgetattr(fd, &t->tio) == 0 && ioctl(fd, TIOCGEXCL, &t->excl) == 0) {
                        t->fd = fd;
                        t->foreground = tcgetpgrp(fd) == getpgrp();
                        return;
                }
}

/* Called with SIGTTOU blocked (a background process may then set the
 * terminal). A guest that gave the foreground to a group of its own and
 * set TOSTOP had the rest of the job stopped when it wrote (the user's
 * `| cat` too): the job takes the foreground back and goes on, as it
 * would had the guest handed it back on its way out. */
static void tty_restore(const struct tty_state *t)
{
        struct termios now;
        int excl;

        if (t->fd < 0 || !t->foreground)
                return;
        if (tcgetpgrp(t->fd) != getpgrp() && tcsetpgrp(t->fd, getpgrp()) == 0)
                kill(0, SIGCONT);
        if (ioctl(t->fd, TIOCGEXCL, &excl) == 0 && !excl != !t->excl)
                ioctl(t->fd, t->excl ? TIOCEXCL : TIOCNXCL);
        if (tcgetattr(t->fd, &now) == 0 && memcmp(&now, &t->tio, sizeof(now)))
                tcsetattr(t->fd, TCSADRAIN, &t->tio);
        tcflow(t->fd, TCOON); /* output a guest suspended (^S, TCOOFF) */
}

/* --- the paths interpose writes or connects to for the user ---------------- */

/* May the guest make names in the directory that holds link (by the
 * policy: the workspace, a cache, /dev/shm)? One it cannot tell is taken
 * as the guest's. */
static bool guest_creates_in(const struct policy *p, const char *link)
{
        char dir[PATH_MAX], real[PATH_MAX];
        const char *slash = strrchr(link, '/');

        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - link), link);
        if (!realpath(dir[0] ? dir : "/", real))
                return true;
        return policy_decide(p, real, NULL) & (PR_CREATE | PR_CREATE << PR_ASK_SHIFT);
}

/* Is a component of path a symlink where the guest may make names? An
 * earlier session's guest, or a repository in interpose ci, could have put
 * it there to send what the unconfined launcher writes (--trace-file
 * truncating ~/.profile, or /etc/shadow as root) or connects to
 * elsewhere. Without a file policy the guest reaches all of it anyway. */
static bool guest_planted(const struct policy *p, const char *path)
{
        char abs[PATH_MAX], cwd[PATH_MAX];
        struct stat st;

        if (!p)
                return false;
        if (path[0] != '/' && !getcwd(cwd, sizeof(cwd)))
                return true;
        if ((size_t)snprintf(abs, sizeof(abs), "%s%s%s", path[0] == '/' ? "" : cwd, path[0] == '/' ? "" : "/",
                             path) >= sizeof(abs))
                return true;
        for (char *c = abs + 1;; c++) {
                if (*c != '/' && *c)
                        continue;
                char end = *c;
                *c = '\0';
                bool planted = lstat(abs, &st) == 0 && S_ISLNK(st.st_mode) && guest_creates_in(p, abs);
                *c = end;
                if (planted)
                        return true;
                if (!end)
                        return false;
        }
}

/* No path the user named for interpose's own output goes through a
 * symlink the guest may have planted. 0, or -1 (said). */
static int own_paths_check(const struct session_opts *o)
{
        const char *paths[] = { o->audit_path, o->trace_path, o->control, o->audit_sink };
        static const char *const names[] = { "--audit", "--trace-file", "--control", "--audit-sink=unix:" };

        for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
                if (!paths[i] || !guest_planted(o->policy, paths[i]))
                        continue;
                session_complain(
                        "%s%s%s: a symlink where the guest may make names is on the way (a session or "
                        "a repository may have planted it); name a path outside the trees the guest "
                        "writes, or remove the link",
                        names[i], i == 3 ? "" : "=", paths[i]);
                return -1;
        }
        /* The log is renamed into place at the end: over a device, a FIFO
         * or a directory's entry that is not a file (--audit=/dev/null as
         * root replaced the host's /dev/null with the log). */
        struct stat st;
        if (o->audit_path && lstat(o->audit_path, &st) == 0 && !S_ISREG(st.st_mode) &&
            !(S_ISLNK(st.st_mode) && stat(o->audit_path, &st) == 0 && S_ISREG(st.st_mode))) {
                session_complain("--audit=%s: not a regular file; the audit log is written to a file of "
                                 "its own (name a new file, or an existing log to replace)",
                                 o->audit_path);
                return -1;
        }
        return 0;
}

/* The trace file: a regular file of one name (truncated), a device or a
 * pipe (--trace-file=/dev/stderr), not another name of a file the user
 * did not mean; a FIFO nobody reads is refused, not waited on. fd, or -1
 * (said). */
static int trace_open(const char *path)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0644);
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0) {
                session_complain("cannot open trace file %s: %s", path, strerror(errno));
                return -1;
        }
        if (S_ISREG(st.st_mode) ? st.st_nlink != 1 : !S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
                session_complain("trace file %s: not a regular file of one name, a device or a pipe; name "
                                 "another",
                                 path);
                return -1;
        }
        if ((S_ISREG(st.st_mode) && ftruncate(fd, 0) < 0) || fcntl(fd, F_SETFL, 0) < 0) {
                session_complain("cannot open trace file %s: %s", path, strerror(errno));
                return -1;
        }
        return TAKE_FD(fd);
}

int session_run(const struct session_opts *o)
{
        struct session_ctx ctx = { .o = o, .trace_fd = -1 };
        struct launcher l = { .ctx = &ctx, .guest_pidfd = -1, .gofer = -1 };
        struct audit_place ap = { .dirfd = -1, .live_dirfd = -1 };
        struct asker_opts ao = { .tty = -1 };
        int status_p[2], err_p[2], gofer_sock = -1, sfd, r, code, asker_fd = -1;
        struct tty_state tty;
        sigset_t fwd;

        tty_save(&tty);
        sigemptyset(&l.held);
        sigprocmask(SIG_SETMASK, NULL, &ctx.orig_mask);
        sigemptyset(&ctx.orig_ignored);
        for (int sig = 1; sig < NSIG; sig++) {
                struct sigaction sa;
                if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
                        sigaddset(&ctx.orig_ignored, sig);
        }
        ctx.launcher = getpid();
        make_session_id(ctx.session_id, sizeof(ctx.session_id));
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        prctl(PR_SET_DUMPABLE, 0);

        r = platform_prepare(&ctx.plat, o->platform, o->policy != NULL);
        if (r < 0) {
                session_complain(
                        "cannot build the seccomp filter for %s: %s (is seccomp enabled in this kernel?)",
                        o->platform->name, strerror(-r));
                return EXIT_INTERPOSE_FAILED;
        }
        /* Whatever path the launcher leaves by, the filter copy goes. */
        __attribute__((cleanup(plat_release))) struct platform *plat = &ctx.plat;
        (void)plat;
        if (own_paths_check(o) < 0)
                return EXIT_INTERPOSE_FAILED;
        ctx.audit_fd = audit_open(&ctx, &ap);
        ctx.audit_place = &ap;
        interpose_crash_handlers("launcher", ap.dirfd, ap.name[0] ? ap.name : NULL);
        if (ctx.audit_fd < 0) {
                session_complain(
                        "cannot create the audit log in %s: %s (choose another place with --audit=FILE)",
                        ap.dir[0] ? ap.dir : "$XDG_STATE_HOME", strerror(-ctx.audit_fd));
                return EXIT_INTERPOSE_FAILED;
        }
        if (o->trace_path) {
                ctx.trace_fd = trace_open(o->trace_path);
                if (ctx.trace_fd < 0)
                        return EXIT_INTERPOSE_FAILED;
        } else if (o->trace) {
                ctx.trace_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
        }

        sigemptyset(&fwd);
        sigaddset(&fwd, SIGCHLD);
        for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
                sigaddset(&fwd, forwarded[i]);
        /* Blocked, not read: never stopped by the terminal. The guest may
         * take the foreground and set TOSTOP, and the launcher still has a
         * summary to write and the terminal to put back. (The guest's mask
         * is orig_mask.) */
        sigaddset(&fwd, SIGTTOU);
        sigprocmask(SIG_BLOCK, &fwd, NULL);
        sigdelset(&fwd, SIGTTOU);
        signal(SIGPIPE, SIG_IGN);
        sfd = signalfd(-1, &fwd, SFD_CLOEXEC);
        /* Sockets, not pipes: a pipe can be opened again through
         * /proc/<sentry>/fd by any process that may look there, and its
         * writer could then speak for the sentry; a socket cannot (ENXIO). */
        if (sfd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, status_p) < 0 ||
            socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, err_p) < 0) {
                session_complain("cannot set up the session: %s", strerror(errno));
                return EXIT_INTERPOSE_FAILED;
        }
        l.gofer = gofer_spawn(o->policy, &gofer_sock, &ctx.gofer_fd);
        if (l.gofer < 0) {
                session_complain("cannot start the gofer: %s", strerror((int)-l.gofer));
                return EXIT_INTERPOSE_FAILED;
        }
        ctx.status_fd = status_p[1];
        ctx.exec_err_fd = err_p[1];
        session_cgroup_create(&o->limits, ctx.session_id, ctx.cgroup, sizeof(ctx.cgroup));
        ctx.audit_sink = -1;
        if (o->audit_sink) {
                /* The collector: connected now (the sentry may make no
                 * socket), given to the sentry alone. */
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                struct timeval tv = { .tv_sec = 2 };
                ctx.audit_sink = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", o->audit_sink);
                if (ctx.audit_sink < 0 || strlen(o->audit_sink) >= sizeof(sa.sun_path) ||
                    connect(ctx.audit_sink, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                        session_complain(
                                "--audit-sink=unix:%s: cannot connect: %s (start the collector first)",
                                o->audit_sink, strerror(errno));
                        /* Nothing runs: the gofer ends on EOF, the cgroup goes. */
                        close(gofer_sock);
                        while (waitpid(l.gofer, NULL, 0) < 0 && errno == EINTR)
                                ;
                        session_cgroup_remove(ctx.cgroup);
                        return EXIT_INTERPOSE_FAILED;
                }
                setsockopt(ctx.audit_sink, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        }
        ctx.ask_fd = -1;
        if (o->policy && o->policy->asks) {
                r = approvals_prepare(&ctx, &ao, &asker_fd);
                if (r < 0) {
                        close(gofer_sock);
                        while (waitpid(l.gofer, NULL, 0) < 0 && errno == EINTR)
                                ;
                        session_cgroup_remove(ctx.cgroup);
                        return EXIT_INTERPOSE_FAILED;
                }
        }
        l.sentry = fork();
        if (l.sentry < 0) {
                session_complain("cannot start the sentry: %s", strerror(errno));
                fail_closed(&l, "fork failed");
                return EXIT_INTERPOSE_FAILED;
        }
        if (l.sentry == 0) {
                close(status_p[0]);
                close(err_p[0]);
                close(sfd);
                close(gofer_sock);
                sentry_process(&ctx);
        }
        close(status_p[1]);
        close(err_p[1]);
        close(ctx.gofer_fd); /* the sentry's */
        if (ctx.ask_fd >= 0)
                close(ctx.ask_fd); /* the sentry's too */
        if (asker_fd >= 0) {
                ao.sentry = l.sentry;
                r = asker_start(&ao, asker_fd);
                if (r < 0) {
                        session_complain("cannot open the control socket %s: %s", ao.control, strerror(-r));
                        fail_closed(&l, "approvals could not start");
                }
        }
        if (ctx.audit_sink >= 0)
                close(ctx.audit_sink); /* the sentry's too */
        l.status_fd = status_p[0];
        /* The guest's tree is what descends from the sentry. */
        if (gofer_hello(gofer_sock, l.sentry) < 0)
                fail_closed(&l, "the gofer did not answer");
        /* While the sentry and the guest get going. */
        session_cgroup_sweep(ctx.cgroup);
        if (o->housekeeping)
                o->housekeeping();
        launcher_loop(&l, sfd, status_p[0], err_p[0]);
        asker_stop();
        code = exit_code(&l);
        /* EOF ends the gofer: it exits while we clean up and publish, and
         * is reaped last. */
        close(gofer_sock);
        session_cgroup_remove(ctx.cgroup);
        r = session_audit_publish(&ap, ctx.audit_fd, ctx.session_id);
        if (r < 0) {
                /* A session whose record is lost cannot be vouched for. */
                session_complain("the audit log could not be saved anywhere (%s); failing the session",
                                 strerror(-r));
                code = EXIT_INTERPOSE_FAILED;
        } else if (o->audit_path) {
                /* The log went elsewhere: the session's own directory held
                 * only its second name and the control socket, both gone
                 * now, and an empty directory a run would be litter. */
                char dir[PATH_MAX];
                if (session_dir(dir, sizeof(dir), ctx.session_id) == 0)
                        rmdir(dir);
        }
        tty_restore(&tty);
        summary(&ctx, &l, &ap, code, r == 0);
        if (o->audit_saved)
                snprintf(o->audit_saved, PATH_MAX + NAME_MAX + 2, "%s/%s", r == 0 ? ap.dir : "",
                         r == 0 ? ap.name : "");
        if (o->audit_saved && r < 0)
                o->audit_saved[0] = '\0';
        if (l.sentry > 0)
                while (waitpid(l.sentry, NULL, __WALL) < 0 && errno == EINTR)
                        ;
        if (l.gofer > 0)
                while (waitpid(l.gofer, NULL, 0) < 0 && errno == EINTR)
                        ;
        return code;
}
