/* SPDX-License-Identifier: MIT */
/*
 * The notification loop and the dispatcher. The dispatcher takes each call
 * to the handler its table row names, with arguments typed as the row says
 * (through libffi, from the row's types, so handlers keep natural C
 * signatures), answers, and writes the trace line and the audit record.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <ffi.h>
#include <linux/audit.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../syscalls/decode.h"
#include "../syscalls/filter.h"
#include "../syscalls/handlers.h"
#include "backtrace.h"
#include "secrets.h"
#include "sentry.h"
#include "session.h"
#include "util.h"

#ifndef AUDIT_ARCH_X86_64
#define AUDIT_ARCH_X86_64 0xc000003e
#endif
#define X32_SYSCALL_BIT 0x40000000

void sentry_decide(struct sentry_call *c, const char *decision, const char *rule)
{
        c->decision = decision;
        c->rule = rule;
}

int sentry_read(struct sentry_call *c, void *dst, uint64_t addr, size_t n)
{
        /* Bytes of a string argument already read (an empty path, say). */
        for (unsigned i = 0; c->pre && i < c->pre->n; i++) {
                uint64_t start = c->pre->str[i].addr;

                if (c->pre->str[i].len >= 0 && addr >= start && n <= (size_t)c->pre->str[i].len + 1 &&
                    addr - start <= (size_t)c->pre->str[i].len + 1 - n) {
                        memcpy(dst, c->pre->str[i].text + (addr - start), n);
                        return 0;
                }
        }
        return platform_read(&c->s->plat, &c->ev, dst, addr, n);
}

ssize_t sentry_read_str(struct sentry_call *c, char *dst, uint64_t addr, size_t cap)
{
        for (unsigned i = 0; c->pre && i < c->pre->n; i++) {
                ssize_t got = c->pre->str[i].len;
                size_t len = (size_t)got;

                if (c->pre->str[i].addr != addr || cap == 0)
                        continue;
                /* Its failure is the answer too, as the kernel's one read
                 * of it would be; only a fault read with another room than
                 * PATH_MAX could end otherwise (too long first). */
                if (got == -ESRCH || (got == -EFAULT && cap == PATH_MAX))
                        return got;
                if (got < 0 && (got != -ENAMETOOLONG || cap > PATH_MAX))
                        continue;
                if (got >= 0 && len < cap) {
                        memcpy(dst, c->pre->str[i].text, len + 1);
                        return (ssize_t)len;
                }
                /* Longer than the caller's room: as platform_read_str. */
                memcpy(dst, c->pre->str[i].text, cap - 1);
                dst[cap - 1] = '\0';
                return -ENAMETOOLONG;
        }
        return platform_read_str(&c->s->plat, &c->ev, dst, addr, cap);
}

/* The table's row for a call, or NULL for another ABI's number or one the
 * table does not know. */
static const struct sys_entry *row_of(const struct platform_event *ev)
{
        return ev->arch == AUDIT_ARCH_X86_64 && !(ev->nr & X32_SYSCALL_BIT) ? sys_lookup(ev->nr) : NULL;
}

/* Read the string arguments of a call its row knows (paths, names), before
 * the serving lock is taken: reading another process's memory is much of
 * what a path call costs, and needs nothing of the sentry's. */
static void prefetch(struct sentry *s, const struct platform_event *ev, struct sentry_prefetch *pre)
{
        const struct sys_entry *e = row_of(ev);

        pre->n = 0;
        if (!e || e->disposition == D_KERNEL)
                return;
        for (unsigned i = 0; i < e->nargs && pre->n < SENTRY_PREFETCH; i++) {
                if (e->args[i] != T_STR)
                        continue;
                pre->str[pre->n].addr = ev->args[i];
                pre->str[pre->n].len = platform_read_str(&s->plat, ev, pre->str[pre->n].text, ev->args[i],
                                                         PATH_MAX);
                pre->n++;
        }
}

int sentry_write(struct sentry_call *c, uint64_t addr, const void *src, size_t n)
{
        return platform_write(&c->s->plat, &c->ev, addr, src, n);
}

/* pidfds of recent callers, by tid, so a call on an fd does not open one
 * each time. A cached pidfd names its process forever: if that process
 * died and its tid now belongs to another, pidfd_getfd on it fails with
 * ESRCH and a fresh one is opened for the caller. */
#define CALLER_PIDFD_SLOTS 256
static struct {
        pid_t tid;
        int pidfd;
        /* What the audit record names, known once asked: the process and
         * its executable (forgotten at every exec: good while exe_gen is
         * exes_gen, so forgetting touches no slot). */
        pid_t tgid;
        unsigned exe_gen;
        char exe[256];
} caller_pidfds[CALLER_PIDFD_SLOTS];
static unsigned exes_gen = 1;

void sentry_forget_exes(void)
{
        if (++exes_gen == 0) /* 0 is a slot's "never" */
                exes_gen = 1;
}

pid_t sentry_caller_tgid(struct sentry_call *c)
{
        char path[64], buf[2048];
        const char *p;

        if (c->tgid > 0)
                return c->tgid; /* asked before during this call */
        if (c->slot1 && caller_pidfds[c->slot1 - 1].tgid > 0)
                return c->tgid = caller_pidfds[c->slot1 - 1].tgid;
        /* Most callers lead their process, and pidfd_open without
         * PIDFD_THREAD accepts only a leader: two calls, not the text of
         * /proc/TID/status (an exec's checks asked three times). */
        int pidfd = (int)syscall(SYS_pidfd_open, c->ev.tid, 0);
        if (pidfd >= 0) {
                close(pidfd);
                if (!c->s->plat.ops->valid(&c->s->plat, &c->ev))
                        return -ESRCH;
                c->tgid = c->ev.tid;
                if (c->slot1)
                        caller_pidfds[c->slot1 - 1].tgid = c->tgid;
                return c->tgid;
        }
        snprintf(path, sizeof(path), "/proc/%d/status", (int)c->ev.tid);
        if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0)
                return -ESRCH;
        p = strstr(buf, "\nTgid:");
        if (!p || !c->s->plat.ops->valid(&c->s->plat, &c->ev))
                return -ESRCH;
        c->tgid = (pid_t)strtol(p + 6, NULL, 10);
        if (c->slot1)
                caller_pidfds[c->slot1 - 1].tgid = c->tgid;
        return c->tgid;
}

int sentry_kill_caller(struct sentry_call *c)
{
        _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, c->ev.tid, O_EXCL /* PIDFD_THREAD */);

        if (pidfd < 0)
                pidfd = (int)syscall(SYS_pidfd_open, c->ev.tid, 0);
        if (pidfd < 0)
                return -errno;
        /* The pidfd was opened while the call was pending, so it names the
         * caller; SIGKILL to any thread ends the whole process. */
        if (!c->s->plat.ops->valid(&c->s->plat, &c->ev))
                return -ESRCH;
        if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0)
                return -errno;
        return 0;
}

/* --- typed dispatch --- */

static ffi_type *ffi_type_of(int t)
{
        switch (t) {
        case T_INT:
        case T_PID:
        case T_SIG:
        case T_FD:
        case T_DIRFD:
        case T_OFLAGS:
                return &ffi_type_sint32;
        case T_UINT:
        case T_MODE:
                return &ffi_type_uint32;
        case T_LONG:
                return &ffi_type_sint64;
        default:
                return &ffi_type_uint64;
        }
}

struct cif_slot {
        ffi_cif cif;
        ffi_type *types[7];
        pthread_once_t once;
        int ok;
};

static struct cif_slot cifs[SYS_TABLE_SIZE];
static pthread_mutex_t cif_lock = PTHREAD_MUTEX_INITIALIZER;

static ffi_cif *cif_for(const struct sys_entry *e)
{
        struct cif_slot *s = &cifs[e->nr];

        pthread_mutex_lock(&cif_lock);
        if (!s->ok) {
                s->types[0] = &ffi_type_pointer;
                for (int i = 0; i < e->nargs; i++)
                        s->types[i + 1] = ffi_type_of(e->args[i]);
                if (ffi_prep_cif(&s->cif, FFI_DEFAULT_ABI, e->nargs + 1u, &ffi_type_sint64, s->types) ==
                    FFI_OK)
                        s->ok = 1;
        }
        pthread_mutex_unlock(&cif_lock);
        return s->ok ? &s->cif : NULL;
}

static long call_handler(struct sentry_call *c)
{
        const struct sys_entry *e = c->e;
        union {
                int32_t i32;
                uint32_t u32;
                int64_t i64;
                uint64_t u64;
        } vals[6];
        void *argp[7];
        struct sentry_call *cp = c;
        ffi_arg ret = 0;
        ffi_cif *cif;

        if (e->handler == (sys_handler_fn)sys_refuse)
                return sys_refuse(c);
        if (e->handler == (sys_handler_fn)sys_pid0)
                return sys_pid0(c);
        if (e->handler == (sys_handler_fn)sys_path_enosys)
                return sys_path_enosys(c);
        cif = cif_for(e);
        if (!cif)
                return SENTRY_KILL;
        argp[0] = &cp;
        for (int i = 0; i < e->nargs; i++) {
                ffi_type *t = cif->arg_types[i + 1];
                if (t == &ffi_type_sint32)
                        vals[i].i32 = (int32_t)c->ev.args[i];
                else if (t == &ffi_type_uint32)
                        vals[i].u32 = (uint32_t)c->ev.args[i];
                else
                        vals[i].u64 = c->ev.args[i];
                argp[i + 1] = &vals[i];
        }
        ffi_call(cif, FFI_FN(e->handler), &ret, argp);
        return (long)ret;
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

static int caller_pidfd(struct sentry_call *c, bool fresh)
{
        unsigned i = (unsigned)c->ev.tid % CALLER_PIDFD_SLOTS;
        int fd;

        if (!fresh && caller_pidfds[i].tid == c->ev.tid && caller_pidfds[i].pidfd > 0)
                return caller_pidfds[i].pidfd;
        /* A thread's own pidfd (Linux 6.9+), else its process's. */
        fd = (int)syscall(SYS_pidfd_open, c->ev.tid, PIDFD_THREAD);
        if (fd < 0)
                fd = (int)syscall(SYS_pidfd_open, c->ev.tid, 0);
        if (fd < 0)
                fd = (int)syscall(SYS_pidfd_open, sentry_caller_tgid(c), 0);
        if (fd < 0)
                return -ESRCH;
        if (caller_pidfds[i].pidfd > 0)
                close(caller_pidfds[i].pidfd);
        caller_pidfds[i].tid = c->ev.tid;
        caller_pidfds[i].pidfd = fd;
        caller_pidfds[i].tgid = 0;
        caller_pidfds[i].exe_gen = 0;
        return fd;
}

int sentry_caller_fd(struct sentry_call *c, int fd)
{
        int pidfd = caller_pidfd(c, false), copy;

        if (pidfd < 0)
                return -ESRCH;
        copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
        if (copy < 0 && errno == ESRCH) {
                /* The cached pidfd was of an earlier holder of this tid. */
                pidfd = caller_pidfd(c, true);
                if (pidfd < 0)
                        return -ESRCH;
                copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
        }
        if (copy < 0)
                return -errno;
        if (!c->s->plat.ops->valid(&c->s->plat, &c->ev)) {
                close(copy);
                return -ESRCH;
        }
        /* The cached pidfd reached the caller while its call is pending:
         * the slot is the caller's for the rest of this call. */
        c->slot1 = (int)((unsigned)c->ev.tid % CALLER_PIDFD_SLOTS) + 1;
        return copy;
}

/* An x32 call: the x32 bit and a number the kernel would dispatch as one.
 * Past that (syscall(0x7fffffff), say) every kernel answers ENOSYS, and so
 * do we. */
static bool is_x32(int nr)
{
        return ((uint32_t)nr & X32_SYSCALL_BIT) && (uint32_t)nr - X32_SYSCALL_BIT < SYS_FILTER_TRAP_LIMIT;
}

/* The decision for one call, before any side effect of the answer. */
static long dispatch(struct sentry_call *c)
{
        const struct sys_entry *e = c->e;

        if (c->ev.arch != AUDIT_ARCH_X86_64 || is_x32(c->ev.nr)) {
                sentry_decide(c, "kill", c->ev.arch != AUDIT_ARCH_X86_64 ? "abi:i386" : "abi:x32");
                return SENTRY_KILL;
        }
        if (!e)
                return sys_unknown(c);
        switch (e->disposition) {
        case D_DENY:
                sentry_decide(c, "deny", "table");
                return -e->err;
        case D_ENOSYS:
                return sys_unknown(c);
        case D_KILL:
                sentry_decide(c, "kill", "table");
                return SENTRY_KILL;
        default:
                break;
        }
        if (!e->handler && e->disposition == D_PATH)
                return SENTRY_CONTINUE; /* a path call not mediated yet (issue 4) */
        if (!e->handler) {
                /* A kernel row trapped only by a guard we do not know of: the
                 * filter and the table disagree. Refuse rather than guess. */
                sentry_decide(c, "deny", "table-mismatch");
                return -ENOSYS;
        }
        return call_handler(c);
}

static ssize_t rd_str(void *ctx, char *dst, uint64_t addr, size_t cap)
{
        return sentry_read_str(ctx, dst, addr, cap);
}

static int rd_mem(void *ctx, void *dst, uint64_t addr, size_t n)
{
        return sentry_read(ctx, dst, addr, n);
}

size_t sentry_format_call(struct sentry_call *c, char *buf, size_t cap)
{
        struct sys_reader rd = { rd_str, rd_mem, c };

        return sys_format_call(c->e, c->ev.nr, c->ev.args, &rd, buf, cap);
}

/* The caller's executable, its secrets redacted before it is cut to cap
 * (a program under a directory named after a secret). */
static void exe_of(pid_t tid, char *buf, size_t cap)
{
        char path[64], full[PATH_MAX];
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/exe", (int)tid);
        n = readlink(path, full, sizeof(full) - 1);
        full[n > 0 ? n : 0] = '\0';
        secrets_copy(buf, cap, full);
}

/* Trace and audit one call. Arguments are decoded before the answer, while
 * the caller's memory still holds what it passed. */
static void report(struct sentry_call *c, const char *decoded, long result, bool continued)
{
        struct sentry *s = c->s;
        char res[96], line[4096 + 128], exe[256];

        sys_format_result(result, continued, res, sizeof(res));
        if (c->parked)
                snprintf(res, sizeof(res), "? (asked)");
        if (s->trace_fd >= 0) {
                /* A decision's rule and details (for a path: the object
                 * reached, the right, the policy rule) as in the audit log. */
                int n = snprintf(line, sizeof(line), "[pid %d] %s = %s%s%s%s%s%s%s\n", (int)c->ev.tid,
                                 decoded, res, c->decision ? " # " : "", c->decision ? c->decision : "",
                                 c->decision && c->rule ? " " : "", c->decision && c->rule ? c->rule : "",
                                 c->decision && c->detail[0] ? " " : "", c->decision ? c->detail : "");
                size_t len = secrets_redact(line, (size_t)(n < (int)sizeof(line) ? n : (int)sizeof(line) - 1),
                                            sizeof(line));
                pthread_mutex_lock(&s->trace_lock);
                write_all(s->trace_fd, line, len);
                pthread_mutex_unlock(&s->trace_lock);
        }
        if (c->decision) {
                char pidbuf[16];
                pid_t tgid = sentry_caller_tgid(c);
                struct audit_record r = {
                        .pid = tgid > 0 ? tgid : c->ev.tid,
                        .tid = c->ev.tid,
                        .syscall = c->e ? c->e->name : NULL,
                        .args = decoded,
                        .decision = c->decision,
                        .rule = c->rule,
                        .result = res,
                        .extra = c->detail,
                };
                if (c->slot1 && caller_pidfds[c->slot1 - 1].exe_gen == exes_gen) {
                        snprintf(exe, sizeof(exe), "%s", caller_pidfds[c->slot1 - 1].exe);
                } else {
                        exe_of(c->ev.tid, exe, sizeof(exe));
                        if (c->slot1) {
                                snprintf(caller_pidfds[c->slot1 - 1].exe, sizeof(caller_pidfds[0].exe), "%s",
                                         exe);
                                caller_pidfds[c->slot1 - 1].exe_gen = exes_gen;
                        }
                }
                r.exe = exe;
                if (!c->e) {
                        /* Numbers of another ABI mean other calls: say which. */
                        if (c->ev.arch != AUDIT_ARCH_X86_64)
                                snprintf(pidbuf, sizeof(pidbuf), "i386:%d", c->ev.nr);
                        else if (is_x32(c->ev.nr))
                                snprintf(pidbuf, sizeof(pidbuf), "x32:%d", c->ev.nr & ~X32_SYSCALL_BIT);
                        else
                                snprintf(pidbuf, sizeof(pidbuf), "%d", c->ev.nr);
                        r.syscall = pidbuf;
                }
                /* Only refusals count as denials: exec, exit and "enosys" (a
                 * call we do not implement, as an older kernel) are not the
                 * policy saying no, and must not raise the summary line. */
                __atomic_add_fetch(&s->denials, !strcmp(c->decision, "deny") || !strcmp(c->decision, "kill"),
                                   __ATOMIC_RELAXED);
                /* --backtrace: where in the guest a refusal or a question
                 * came from (the caller is still stopped in its call). */
                char withbt[sizeof(c->detail) + 4096];
                if (s->backtrace && (!strcmp(c->decision, "deny") || !strcmp(c->decision, "kill") ||
                                     !strcmp(c->decision, "ask"))) {
                        size_t dl = (size_t)snprintf(withbt, sizeof(withbt), "%s%s", c->detail,
                                                     c->detail[0] ? "," : "");
                        if (guest_backtrace_json_bounded(c->ev.tid, withbt + dl, sizeof(withbt) - dl, 500) >
                            0)
                                r.extra = withbt;
                }
                int aw = audit_write(&s->audit, &r);
                sentry_audit_grew(s);
                if (aw < 0) {
                        /* An audit log we cannot write is a session we cannot
                         * vouch for: stop here, failing closed. */
                        static const char msg[] =
                                "interpose: sentry: cannot write the audit log; stopping the guest\n";
                        write_all(2, msg, sizeof(msg) - 1);
                        sentry_kill_descendants(s->self, 0);
                        _exit(125);
                }
        }
}

/* How a call is answered once its handler is done: the answer itself goes
 * out after the serving lock is released (sentry_serve). */
struct answer {
        bool due;
        enum platform_answer how;
        long value;
        struct sentry_reply reply;
};

long sentry_answer_write(struct sentry_call *c, uint64_t addr, const void *src, size_t n, long value)
{
        int r;

        if (n && n <= sizeof(c->reply.out)) {
                memcpy(c->reply.out, src, n);
                c->reply.out_addr = addr;
                c->reply.out_len = n;
                return value;
        }
        r = sentry_write(c, addr, src, n);
        return r < 0 ? r : value;
}

long sentry_answer_fd(struct sentry_call *c, int fd, unsigned fd_flags)
{
        c->reply.install = fd;
        c->reply.install_flags = fd_flags;
        return SENTRY_DONE;
}

/* Install fd in the caller as its answer; closes fd. The new number, or
 * -errno: -ENOENT when the caller is gone (nothing to answer). */
static int install_answer(struct sentry *s, const struct platform_event *ev, int fd, unsigned fd_flags)
{
        int r = s->plat.ops->install_fd(&s->plat, ev, fd, fd_flags, true);

        close(fd);
        return r;
}

static void handle_call(struct sentry *s, const struct platform_event *ev, const struct sentry_prefetch *pre,
                        bool again, struct answer *a)
{
        struct sentry_call c = { .s = s, .ev = *ev, .pre = pre, .reply.install = -1 };
        struct sys_reader rd = { rd_str, rd_mem, &c };
        char decoded[4096];
        long r;

        c.e = row_of(ev);
        __atomic_add_fetch(&s->trapped, 1, __ATOMIC_RELAXED);
        /* A chdir the kernel made for this thread since its last call is
         * done now (the cwd cache may trust what it sees again). */
        r = sys_path_call_seen(&c);
        /* An exec in flight is checked before the new image gets anything
         * from us. */
        if (r == 0)
                r = sys_exec_verify(&c);
        if (r == 0) {
                if (c.decision) {
                        /* Record the check on its own; then decide the call. */
                        sys_format_call(c.e, ev->nr, ev->args, &rd, decoded, sizeof(decoded));
                        report(&c, decoded, 0, true);
                        c.decision = NULL;
                        c.rule = NULL;
                        c.detail[0] = '\0';
                }
                /* Traced calls are decoded before they are answered: once
                 * a handler has answered (an fd installed), the caller runs
                 * on and its strings can no longer be read. */
                /* A call decided again after a person's answer is decoded
                 * now too: its record is certain. */
                if (s->trace_fd >= 0 || again)
                        sys_format_call(c.e, ev->nr, ev->args, &rd, decoded, sizeof(decoded));
                else
                        decoded[0] = '\0';
                r = dispatch(&c);
                if (!decoded[0] && c.decision)
                        sys_format_call(c.e, ev->nr, ev->args, &rd, decoded, sizeof(decoded));
        } else if (s->trace_fd >= 0 || c.decision) {
                sys_format_call(c.e, ev->nr, ev->args, &rd, decoded, sizeof(decoded));
        } else {
                decoded[0] = '\0';
        }

        if (c.parked) {
                /* It waits for a person (approvals.c): no answer now;
                 * decided again from the start once there is one. */
                char exe[256];
                sentry_decide(&c, "ask", "ask");
                if (!decoded[0])
                        sys_format_call(c.e, ev->nr, ev->args, &rd, decoded, sizeof(decoded));
                exe_of(ev->tid, exe, sizeof(exe));
                /* The question's record before the question: its answer
                 * may come back at once. */
                report(&c, decoded, 0, true);
                sentry_ask_park(&c, decoded, exe);
                return;
        }
        /* What the handler left goes with the answer, after the serving
         * lock; at once when the call's record must hold it (the fd's
         * number, a write that failed). */
        bool now = c.decision || s->trace_fd >= 0;
        if (r == SENTRY_DONE && c.reply.install >= 0 && now) {
                int fd = install_answer(s, ev, c.reply.install, c.reply.install_flags);
                c.reply.install = -1;
                if (fd >= 0) {
                        c.done = fd;
                        c.done_known = true;
                } else if (fd != -ENOENT) {
                        r = fd; /* refused (EMFILE): answered as an error below */
                }
        }
        if (c.reply.out_len && r >= 0 && now) {
                int w = sentry_write(&c, c.reply.out_addr, c.reply.out, c.reply.out_len);
                if (w < 0)
                        r = w;
        }
        if (now || r < 0)
                c.reply.out_len = 0;
        a->reply = c.reply;
        if (r == SENTRY_CONTINUE) {
                report(&c, decoded, 0, true);
                a->due = true;
                a->how = PLATFORM_CONTINUE;
                a->value = 0;
        } else if (r == SENTRY_DONE) {
                /* Answered by the handler (an fd installed); or later, by a
                 * thread that waits (a FIFO): "?" like a call the kernel makes. */
                report(&c, decoded, c.done_known ? c.done : 0, !c.done_known);
        } else if (r == SENTRY_KILL) {
                if (!c.decision)
                        sentry_decide(&c, "kill", "sentry");
                report(&c, decoded, -ENOSYS, false);
                sentry_kill_caller(&c);
                /* Never let the call run: the answer is an error even if the
                 * kill races with the caller's exit. */
                s->plat.ops->respond(&s->plat, ev, PLATFORM_RETURN, -ENOSYS);
        } else {
                report(&c, decoded, r, false);
                a->due = true;
                a->how = PLATFORM_RETURN;
                a->value = r;
        }
        sentry_ask_done(&c);
}

/* Send the answer handle_call left. */
static void answer(struct sentry *s, const struct platform_event *ev, const struct answer *a)
{
        if (a->reply.install >= 0) {
                int r = install_answer(s, ev, a->reply.install, a->reply.install_flags);
                if (r < 0 && r != -ENOENT)
                        s->plat.ops->respond(&s->plat, ev, PLATFORM_RETURN, r);
        } else if (a->due) {
                long value = a->value;
                if (a->reply.out_len) {
                        int w = platform_write(&s->plat, ev, a->reply.out_addr, a->reply.out,
                                               a->reply.out_len);
                        if (w < 0)
                                value = w;
                }
                s->plat.ops->respond(&s->plat, ev, a->how, value);
        }
}

/* A call decided again after a person's answer (approvals.c), under the
 * serving lock: answered at once. */
static void handle_again(struct sentry *s, const struct platform_event *ev)
{
        struct answer a = { .reply.install = -1 };

        handle_call(s, ev, NULL, true, &a);
        answer(s, ev, &a);
}

/*
 * Serving threads. A trapped call wakes the sentry on the caller's CPU and
 * the answer wakes the caller on the sentry's (SYNC_WAKE_UP). With one
 * serving thread, callers on different CPUs all end up on the CPU it runs
 * on while the others idle: a parallel build of four compiles left a third
 * of the CPU time idle. So while calls come from several guest threads at
 * once, there is one serving thread per CPU (up to SERVE_MAX), each held
 * to its CPU, and a caller is served on the CPU it trapped on.
 *
 * Only then: every thread waiting for a call is woken by each one (the
 * kernel's wait is not exclusive), and for a lone caller those wake-ups
 * on other CPUs cost more than they serve (a sequential build 1.43x ->
 * 1.68x, Python 1.41x -> 1.58x, measured with helpers always on). So the
 * helpers sleep, and the first thread serves alone and unpinned (as it
 * always did) until calls from different guest threads interleave; they
 * sleep again once one thread's calls have run alone for a while.
 *
 * Handlers run one at a time, under serve_lock: the dentry, cwd, pidfd and
 * process caches and everything else a handler touches stay as they were
 * with one thread. What runs outside it needs none of that, and is where
 * most of the time of a trapped call goes: the platform's waiting for the
 * next call, reading the call's strings (prefetch), and the answer that
 * wakes the caller, with the fd an open installs or the bytes a stat
 * writes (struct answer), unless the call's record must hold them.
 */
#define SERVE_MAX 4
/* Interleaving score: a call from another thread than the last adds
 * SWITCH_GAIN, one from the same thread takes one away; helpers wake at
 * WAKE_AT and sleep at 0. A shell waiting for one child switches a few
 * times a second; four compilers switch every few calls. */
#define SWITCH_GAIN 8
#define SCORE_MAX 256
#define WAKE_AT 64

static pthread_mutex_t serve_lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
        struct sentry *s;
        int n;               /* serving threads, the first included */
        int started;         /* of which running (helpers start when first needed) */
        int cpus[SERVE_MAX]; /* the CPU each is held to while helpers serve */
        cpu_set_t mask;      /* the CPUs the sentry may run on */
        int helping;         /* helpers serve (a futex word) */
        bool first_held;     /* the first thread is held to cpus[0] */
        pid_t last_tid;      /* under serve_lock: the last caller ... */
        int score;           /* ... and how much callers interleave */
} pool;

/* The lock is held for microseconds: spin up to SPIN_NS before sleeping.
 * A thread that sleeps on it is woken on another CPU, tens of us in a VM:
 * sleeping at once made a parallel build 1.89x native, a 1 us spin 1.83x,
 * 5 us 1.72x, 25 us 1.65x, and no better beyond (git status 13.6x, 7.5x at
 * 25 us). Timed, not counted: a pause takes 25 ns here, 1 ns elsewhere. */
#define SPIN_NS 50000

static long long now_ns(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void serve_lock_take(void)
{
        long long until = 0;

        for (unsigned i = 1; pthread_mutex_trylock(&serve_lock) != 0; i++) {
                __builtin_ia32_pause();
                if (i % 64)
                        continue;
                if (!until) {
                        until = now_ns() + SPIN_NS;
                } else if (now_ns() > until) {
                        pthread_mutex_lock(&serve_lock);
                        return;
                }
        }
}

static void hold_to(int cpu)
{
        cpu_set_t one;

        if (cpu < 0) {
                sched_setaffinity(0, sizeof(pool.mask), &pool.mask);
                return;
        }
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        sched_setaffinity(0, sizeof(one), &one);
}

static void *serve_thread(void *arg);

/* Under serve_lock: start the helpers, the first time they are needed (a
 * session whose calls never interleave never makes them: a thread costs
 * its start). False if none would start. */
static bool start_helpers(void)
{
        while (pool.started < pool.n &&
               start_thread(NULL, 256 << 10, serve_thread, (void *)(intptr_t)pool.started) == 0)
                pool.started++;
        if (pool.started < 2)
                pool.n = 1; /* serve alone, as before */
        return pool.started > 1;
}

/* Under serve_lock: one more call, from tid. */
static void note_caller(pid_t tid)
{
        if (tid != pool.last_tid) {
                pool.last_tid = tid;
                pool.score = pool.score + SWITCH_GAIN > SCORE_MAX ? SCORE_MAX : pool.score + SWITCH_GAIN;
        } else if (pool.score > 0) {
                pool.score--;
        }
        if (!pool.helping && pool.score >= WAKE_AT) {
                if (!start_helpers())
                        return;
                __atomic_store_n(&pool.helping, 1, __ATOMIC_RELEASE);
                syscall(SYS_futex, &pool.helping, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
        } else if (pool.helping && pool.score == 0) {
                __atomic_store_n(&pool.helping, 0, __ATOMIC_RELEASE);
        }
}

static int serve_loop(struct sentry *s, int index)
{
        struct sentry_prefetch pre;
        struct platform_event ev;
        struct answer a;

        for (;;) {
                int helping = __atomic_load_n(&pool.helping, __ATOMIC_ACQUIRE);

                if (index > 0 && !helping && !__atomic_load_n(&s->plat.asks_waiting, __ATOMIC_ACQUIRE)) {
                        /* A helper sleeps until callers interleave again;
                         * not while calls wait for a person: a thread that
                         * entered next() before they did waits for calls
                         * alone, and their answers (wake_fd) would wait
                         * for the next call. */
                        syscall(SYS_futex, &pool.helping, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
                        continue;
                }
                if (index == 0 && helping != pool.first_held) {
                        /* The first thread is held to its CPU while the
                         * helpers serve, and free to follow a lone caller
                         * otherwise. */
                        pool.first_held = helping;
                        hold_to(helping ? pool.cpus[0] : -1);
                        __atomic_add_fetch(&s->plat.affinity_gen, 1, __ATOMIC_RELEASE);
                }
                /* Calls a person answered meanwhile, decided again. */
                if (__atomic_load_n(&s->plat.redo, __ATOMIC_ACQUIRE)) {
                        serve_lock_take();
                        sentry_ask_redo(s, handle_again);
                        pthread_mutex_unlock(&serve_lock);
                }
                int r = s->plat.ops->next(&s->plat, &ev);
                if (r == -EINTR || r == -ENOENT)
                        continue;
                if (r == -ESHUTDOWN)
                        return 0;
                if (r < 0)
                        return r;
                a.due = false;
                a.reply.install = -1;
                a.reply.out_len = 0;
                prefetch(s, &ev, &pre);
                serve_lock_take();
                if (pool.n > 1)
                        note_caller(ev.tid);
                handle_call(s, &ev, &pre, false, &a);
                pthread_mutex_unlock(&serve_lock);
                answer(s, &ev, &a);
        }
}

static void *serve_thread(void *arg)
{
        int index = (int)(intptr_t)arg;
        int r;

        interpose_crash_thread();
        hold_to(pool.cpus[index]);
        r = serve_loop(pool.s, index);
        if (r < 0) {
                /* The listener failed under us: fail closed, as the first
                 * serving thread's caller does. */
                static const char msg[] =
                        "interpose: sentry: the notification listener failed; stopping the guest\n";
                write_all(2, msg, sizeof(msg) - 1);
                sentry_kill_descendants(pool.s->self, 0);
                _exit(EXIT_INTERPOSE_FAILED);
        }
        return NULL;
}

/* How many serving threads, on which CPUs: one when the platform serves
 * from one thread (ptrace) or the answer does not wake the caller on the
 * sentry's CPU (no SYNC_WAKE_UP), else one per CPU we may run on, up to
 * SERVE_MAX. INTERPOSE_SENTRY_THREADS=N caps it (1: one thread). */
static int serve_cpus(const struct sentry *s, int cpus[SERVE_MAX], cpu_set_t *mask)
{
        const char *cap = getenv("INTERPOSE_SENTRY_THREADS");
        int max = SERVE_MAX, n = 0;

        if (cap && *cap >= '1' && *cap <= '9' && !cap[1])
                max = *cap - '0' < SERVE_MAX ? *cap - '0' : SERVE_MAX;
        if (strcmp(s->plat.ops->name, platform_unotify_ops.name) || !s->plat.sync_wakeup || max < 2 ||
            sched_getaffinity(0, sizeof(*mask), mask) < 0)
                return 1;
        for (int c = 0; c < CPU_SETSIZE && n < max; c++)
                if (CPU_ISSET(c, mask))
                        cpus[n++] = c;
        return n < 2 ? 1 : n;
}

int sentry_serve(struct sentry *s)
{
        pool.s = s;
        pool.n = serve_cpus(s, pool.cpus, &pool.mask);
        pool.started = 1;
        return serve_loop(s, 0);
}
