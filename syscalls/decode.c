/* SPDX-License-Identifier: MIT */
#include "decode.h"

#include "../sentry/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define STR_SHOWN 256
#define ARGV_SHOWN 32

struct out {
        char *buf;
        size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (o->len >= o->cap)
                return;
        va_start(ap, fmt);
        n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n > 0)
                o->len = o->len + (size_t)n < o->cap ? o->len + (size_t)n : o->cap - 1;
}

static void put_quoted(struct out *o, const char *raw, size_t n, int truncated)
{
        /* Secrets out before escaping (the escaped text hides them). */
        char s[STR_SHOWN + 32];
        if (n >= STR_SHOWN)
                n = STR_SHOWN - 1;
        memcpy(s, raw, n);
        s[n] = '\0';
        n = secrets_redact_raw(s, n, sizeof(s), truncated);
        put(o, "\"");
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c == '"' || c == '\\')
                        put(o, "\\%c", c);
                else if (c == '\n')
                        put(o, "\\n");
                else if (c < 0x20 || c >= 0x7f)
                        put(o, "\\x%02x", c);
                else
                        put(o, "%c", c);
        }
        put(o, truncated ? "\"..." : "\"");
}

static const char *const signames[] = {
        [SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",       [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
        [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",     [SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",
        [SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1",     [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
        [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM",     [SIGTERM] = "SIGTERM", [SIGSTKFLT] = "SIGSTKFLT",
        [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",     [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP",
        [SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",     [SIGURG] = "SIGURG",   [SIGXCPU] = "SIGXCPU",
        [SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
        [SIGIO] = "SIGIO",     [SIGPWR] = "SIGPWR",       [SIGSYS] = "SIGSYS",
};

const char *sys_signal_name(int sig)
{
        if (sig > 0 && sig < (int)(sizeof(signames) / sizeof(signames[0])))
                return signames[sig];
        return NULL;
}

const char *sys_errno_name(int err)
{
        const char *n = strerrorname_np(err);
        return n;
}

static void put_oflags(struct out *o, uint64_t v)
{
        static const struct {
                int bit;
                const char *name;
        } bits[] = {
                { O_CREAT, "O_CREAT" },
                { O_EXCL, "O_EXCL" },
                { O_NOCTTY, "O_NOCTTY" },
                { O_TRUNC, "O_TRUNC" },
                { O_APPEND, "O_APPEND" },
                { O_NONBLOCK, "O_NONBLOCK" },
                { O_DIRECTORY, "O_DIRECTORY" },
                { O_NOFOLLOW, "O_NOFOLLOW" },
                { O_CLOEXEC, "O_CLOEXEC" },
                { O_PATH, "O_PATH" },
                { O_TMPFILE & ~O_DIRECTORY, "O_TMPFILE" },
        };
        int acc = (int)(v & O_ACCMODE);

        put(o, "%s",
            acc == O_RDONLY   ? "O_RDONLY"
            : acc == O_WRONLY ? "O_WRONLY"
            : acc == O_RDWR   ? "O_RDWR"
                              : "O_ACCMODE");
        v &= ~(uint64_t)O_ACCMODE;
        for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
                if (v & (uint64_t)bits[i].bit) {
                        put(o, "|%s", bits[i].name);
                        v &= ~(uint64_t)bits[i].bit;
                }
        if (v)
                put(o, "|%#llx", (unsigned long long)v);
}

static void put_argv(struct out *o, uint64_t addr, const struct sys_reader *rd)
{
        char s[STR_SHOWN];

        if (!addr) {
                put(o, "NULL");
                return;
        }
        if (!rd || !rd->mem || !rd->str) {
                put(o, "%#llx", (unsigned long long)addr);
                return;
        }
        put(o, "[");
        for (int i = 0; i < ARGV_SHOWN; i++) {
                uint64_t p;
                ssize_t n;
                if (rd->mem(rd->ctx, &p, addr + 8 * (uint64_t)i, sizeof(p)) < 0) {
                        put(o, "%s%#llx", i ? ", " : "", (unsigned long long)addr);
                        break;
                }
                if (!p)
                        break;
                if (i == ARGV_SHOWN - 1) {
                        put(o, ", ...");
                        break;
                }
                n = rd->str(rd->ctx, s, p, sizeof(s));
                if (i)
                        put(o, ", ");
                if (n >= 0)
                        put_quoted(o, s, (size_t)n, 0);
                else if (n == -ENAMETOOLONG)
                        put_quoted(o, s, strlen(s), 1);
                else
                        put(o, "%#llx", (unsigned long long)p);
        }
        put(o, "]");
}

/* clone(2)/unshare(2) flags by name, the exit signal of clone last, so a
 * refused namespace reads as CLONE_NEWUSER in the log, not 0x10000000.
 * For unshare the low byte holds CLONE_NEWTIME, not a signal. */
static void put_cloneflags(struct out *o, uint64_t v, bool with_signal)
{
        static const struct {
                uint64_t bit;
                const char *name;
        } bits[] = {
                { CLONE_VM, "CLONE_VM" },
                { CLONE_FS, "CLONE_FS" },
                { CLONE_FILES, "CLONE_FILES" },
                { CLONE_SIGHAND, "CLONE_SIGHAND" },
                { CLONE_PIDFD, "CLONE_PIDFD" },
                { CLONE_PTRACE, "CLONE_PTRACE" },
                { CLONE_VFORK, "CLONE_VFORK" },
                { CLONE_PARENT, "CLONE_PARENT" },
                { CLONE_THREAD, "CLONE_THREAD" },
                { CLONE_NEWNS, "CLONE_NEWNS" },
                { CLONE_SYSVSEM, "CLONE_SYSVSEM" },
                { CLONE_SETTLS, "CLONE_SETTLS" },
                { CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID" },
                { CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID" },
                { CLONE_UNTRACED, "CLONE_UNTRACED" },
                { CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID" },
                { CLONE_NEWCGROUP, "CLONE_NEWCGROUP" },
                { CLONE_NEWUTS, "CLONE_NEWUTS" },
                { CLONE_NEWIPC, "CLONE_NEWIPC" },
                { CLONE_NEWUSER, "CLONE_NEWUSER" },
                { CLONE_NEWPID, "CLONE_NEWPID" },
                { CLONE_NEWNET, "CLONE_NEWNET" },
                { CLONE_IO, "CLONE_IO" },
                { 0x80, "CLONE_NEWTIME" },
        };
        uint64_t rest = with_signal ? v & ~(uint64_t)CSIGNAL : v;
        bool first = true;

        for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
                if (!(rest & bits[i].bit) || (with_signal && bits[i].bit == 0x80))
                        continue;
                put(o, "%s%s", first ? "" : "|", bits[i].name);
                rest &= ~bits[i].bit;
                first = false;
        }
        if (rest) {
                put(o, "%s%#llx", first ? "" : "|", (unsigned long long)rest);
                first = false;
        }
        if (with_signal && (v & CSIGNAL)) {
                const char *sig = sys_signal_name((int)(v & CSIGNAL));
                if (sig)
                        put(o, "%s%s", first ? "" : "|", sig);
                else
                        put(o, "%s%#llx", first ? "" : "|", (unsigned long long)(v & CSIGNAL));
                first = false;
        }
        if (first)
                put(o, "0");
}

static void put_arg(struct out *o, int type, uint64_t v, const struct sys_reader *rd)
{
        char s[STR_SHOWN];
        const char *name;
        ssize_t n;

        switch (type) {
        case T_INT:
        case T_PID:
        case T_FD:
                put(o, "%d", (int)v);
                break;
        case T_DIRFD:
                if ((int)v == AT_FDCWD)
                        put(o, "AT_FDCWD");
                else
                        put(o, "%d", (int)v);
                break;
        case T_UINT:
                put(o, "%u", (unsigned)v);
                break;
        case T_LONG:
                put(o, "%lld", (long long)v);
                break;
        case T_ULONG:
        case T_SIZE:
                put(o, "%llu", (unsigned long long)v);
                break;
        case T_MODE:
                put(o, "0%llo", (unsigned long long)v);
                break;
        case T_SIG:
                name = sys_signal_name((int)v);
                if (name)
                        put(o, "%s", name);
                else if ((int)v >= SIGRTMIN && (int)v <= SIGRTMAX)
                        put(o, "SIGRT_%d", (int)v - SIGRTMIN);
                else
                        put(o, "%d", (int)v);
                break;
        case T_OFLAGS:
                put_oflags(o, v);
                break;
        case T_CLONEFLAGS:
        case T_NSFLAGS:
                put_cloneflags(o, v, type == T_CLONEFLAGS);
                break;
        case T_STR:
                if (!v) {
                        put(o, "NULL");
                        break;
                }
                n = rd && rd->str ? rd->str(rd->ctx, s, v, sizeof(s)) : -EFAULT;
                if (n >= 0)
                        put_quoted(o, s, (size_t)n, 0);
                else if (n == -ENAMETOOLONG)
                        put_quoted(o, s, strlen(s), 1);
                else
                        put(o, "%#llx", (unsigned long long)v);
                break;
        case T_ARGV:
                put_argv(o, v, rd);
                break;
        case T_PTR:
                put(o, v ? "%#llx" : "NULL", (unsigned long long)v);
                break;
        default:
                put(o, "%#llx", (unsigned long long)v);
                break;
        }
}

size_t sys_format_call(const struct sys_entry *e, int nr, const uint64_t args[6], const struct sys_reader *rd,
                       char *buf, size_t cap)
{
        struct out o = { buf, 0, cap };

        if (cap == 0)
                return 0;
        buf[0] = '\0';
        if (!e) {
                put(&o, "syscall_%d(%#llx, %#llx, %#llx, %#llx, %#llx, %#llx)", nr,
                    (unsigned long long)args[0], (unsigned long long)args[1], (unsigned long long)args[2],
                    (unsigned long long)args[3], (unsigned long long)args[4], (unsigned long long)args[5]);
                return o.len;
        }
        put(&o, "%s(", e->name);
        for (int i = 0; i < e->nargs && i < 6; i++) {
                if (i)
                        put(&o, ", ");
                put_arg(&o, e->args[i], args[i], rd);
        }
        put(&o, ")");
        return o.len;
}

size_t sys_format_result(long value, int continued, char *buf, size_t cap)
{
        int n;

        if (continued)
                n = snprintf(buf, cap, "? (kernel)");
        else if (value < 0 && value >= -4095) {
                const char *name = sys_errno_name((int)-value);
                n = snprintf(buf, cap, "-1 %s (%s)", name ? name : "E?", strerror((int)-value));
        } else
                n = snprintf(buf, cap, "%ld", value);
        return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}
