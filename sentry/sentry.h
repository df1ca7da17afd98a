/* SPDX-License-Identifier: MIT */
/*
 * The sentry: the guest's kernel for every trapped syscall. It receives the
 * calls from the platform, runs the handler the syscall table names,
 * answers, and writes the audit log and the trace.
 */
#pragma once

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../gofer/walk.h"
#include "../platform/platform.h"
#include "../syscalls/filter.h"
#include "../syscalls/table.h"
#include "audit.h"
#include "dns.h"
#include "session.h"

struct policy;

/* Handler results beyond values and negative errnos. */
#define SENTRY_CONTINUE (-(1L << 20)) /* let the kernel run the call as made */
#define SENTRY_DONE (-(1L << 20) - 1) /* the handler answered already (ADDFD send) */
#define SENTRY_KILL (-(1L << 20) - 2) /* kill the calling process */

#define SENTRY_IPC_MAX 1024 /* System V IPC objects of the tree, per kind */

struct sentry {
        struct platform plat;
        struct audit audit;
        pid_t self;                      /* the sentry's pid: every guest process descends from it */
        pid_t guest;                     /* the first guest process */
        pid_t launcher;                  /* our parent; its death ends the session */
        pid_t initial_pgrp;              /* the process group the guest started in (the shell's job) */
        const char *hostname;            /* what uname(2) reports as nodename */
        int trace_fd;                    /* -1: no --trace */
        bool backtrace;                  /* --backtrace: refusals record the guest's stack */
        bool ask_tty;                    /* approvals may prompt on interpose's terminal */
        int gofer_fd;                    /* our socket to the gofer */
        int gofer_gone;                  /* the gofer died: path calls fail with EIO (atomic) */
        bool paths;                      /* path calls are trapped and decided (a policy is in force) */
        const struct policy *policy;     /* the file policy, or NULL */
        int root_fd;                     /* O_PATH "/" the walks start from (from the gofer) */
        dev_t proc_dev;                  /* st_dev of /proc */
        struct walk_map maps[WALK_MAPS]; /* the guest's /tmp and /dev/shm: the session's directories */
        pthread_mutex_t trace_lock;
        uint8_t unknown_seen[SYS_FILTER_TRAP_LIMIT / 8 + 1]; /* ENOSYS audited once per number */
        unsigned long denials;                               /* decisions other than allow, for the summary */
        unsigned long trapped;                               /* calls handled */
        int ipc_ids[3][SENTRY_IPC_MAX];                      /* shm, sem, msg ids the tree made */
        unsigned ipc_n[3];
        struct dns_server dns; /* the session's resolver (dns.h) */
        struct session_limits limits;
};

/* A call's string arguments, read from the caller before the serving
 * lock is taken (sentry/serve.c). sentry_read_str answers from here: one
 * copy, read once, however often a handler or the trace asks. */
#define SENTRY_PREFETCH 2
struct sentry_prefetch {
        unsigned n;
        struct {
                uint64_t addr;
                ssize_t len; /* the string's length, or -errno (text: its first PATH_MAX - 1 bytes if too
                                long) */
                char text[PATH_MAX];
        } str[SENTRY_PREFETCH];
};

/* What a handler leaves for the answer to carry: made after the serving
 * lock is released (sentry/serve.c). */
struct sentry_reply {
        int install;            /* with SENTRY_DONE: an fd (ours) the answer installs, or -1 */
        unsigned install_flags; /* ... with these fd flags (O_CLOEXEC) */
        uint64_t out_addr;      /* with a result: bytes the answer writes to the caller first ... */
        size_t out_len;         /* ... (0: none) */
        unsigned char out[256];
};

/* One trapped call while a handler decides it. */
struct sentry_call {
        struct sentry *s;
        struct platform_event ev;
        const struct sys_entry *e;         /* NULL for a number the table does not know */
        const struct sentry_prefetch *pre; /* its strings, or NULL */
        pid_t tgid;                        /* the caller's process, once asked (sentry_caller_tgid) */
        int slot1;            /* 1 + the caller's pidfd cache slot, once this call proved it the caller's */
        const char *decision; /* audit decision; NULL means a plain allow */
        const char *rule;     /* what decided it */
        char detail[6144];    /* extra JSON members for the audit record, or "" (room for a whole path) */
        long done;            /* with SENTRY_DONE: what the call returned (an fd installed) */
        bool done_known;      /* ... if the handler says (else it is answered later) */
        struct sentry_reply reply; /* what the answer carries (sentry_answer_fd, _write) */
        bool parked;               /* waits for a person's answer (sentry_ask): not answered now */
        bool ask_new;              /* ... to a question this call raised */
        uint32_t ask_id;
};

/* Start serving: the listener came from the guest. Runs the notification
 * loop until the platform reports the guest gone; returns 0, or -errno on a
 * platform failure (the caller kills the tree: fail closed). */
int sentry_serve(struct sentry *s);

/* Mark the call as a refusal (or another audited decision). */
void sentry_decide(struct sentry_call *c, const char *decision, const char *rule);

/* An exec changed some process's executable: forget the ones cached for
 * the audit records. */
void sentry_forget_exes(void);

/* Answer the call with a new fd in the caller, fd_flags (O_CLOEXEC) on
 * it: the handler's last word, returning SENTRY_DONE. Takes fd. The fd
 * goes in after the serving lock is released (sentry/serve.c), or at once
 * when the call's record needs the number. */
long sentry_answer_fd(struct sentry_call *c, int fd, unsigned fd_flags);

/* Answer the call with value after writing n bytes of src to the caller at
 * addr (a stat buffer): the handler's last word. The bytes go out after
 * the serving lock is released (sentry/serve.c), or at once when the
 * call's record must hold the result or n is large. value, or the write's
 * -errno when it is made at once and fails. */
long sentry_answer_write(struct sentry_call *c, uint64_t addr, const void *src, size_t n, long value);

/* Guest memory of the calling task: see platform_read and friends. */
int sentry_read(struct sentry_call *c, void *dst, uint64_t addr, size_t n);
ssize_t sentry_read_str(struct sentry_call *c, char *dst, uint64_t addr, size_t cap);
int sentry_write(struct sentry_call *c, uint64_t addr, const void *src, size_t n);

/* The call decoded as the trace shows it (its strings read now). */
size_t sentry_format_call(struct sentry_call *c, char *buf, size_t cap);

/* A copy of the caller's fd number fd, checked to be taken while the call
 * was still pending. The caller of this owns it. fd or -errno. */
int sentry_caller_fd(struct sentry_call *c, int fd);

/* Thread-group id of the caller, or -ESRCH. */
pid_t sentry_caller_tgid(struct sentry_call *c);

/* Kill the calling task's whole process with SIGKILL. 0 or -errno. */
int sentry_kill_caller(struct sentry_call *c);

/* --- approvals.c: rights given on request (ask.h) --- */

#define SENTRY_ASK_GRANTED 0
#define SENTRY_ASK_REFUSED (-1)
#define SENTRY_ASK_PARKED 1

/* Start answering asks: fd is the socket to the launcher's asker, or -1
 * when nobody may be asked (every ask is then refused, nobody_why saying
 * why); with fd, s->plat.wake_fd is an eventfd made before the sentry
 * confined itself. Starts a thread. 0 or -errno. */
int sentry_ask_start(struct sentry *s, int fd, const char *nobody_why);

/* The call needs right (by name) on object (a canonical host path, or a
 * destination), which rule gives only on request. GRANTED (an answer for
 * this very call, or a standing one, allows it), REFUSED (decided deny:
 * the caller fails as the policy would refuse), or PARKED: the call waits
 * for a person and must not be answered now (the handler returns at once,
 * and the call is decided again from the start once answered). The call's
 * decision and audit details are set in every case. */
int sentry_ask(struct sentry_call *c, const char *kind, const char *right, const char *object,
               const char *rule);

/* After a call was parked and decoded: send the question it raised. */
void sentry_ask_park(struct sentry_call *c, const char *decoded, const char *exe);

/* The session ends: questions still waiting get their record. */
void sentry_ask_end(void);

/* After a call was answered: forget its tokens. */
void sentry_ask_done(struct sentry_call *c);

/* On the serving thread: decide again each answered call (with handle). */
void sentry_ask_redo(struct sentry *s, void (*handle)(struct sentry *s, const struct platform_event *ev));

/* --- tree.c: the guest's own process tree --- */

/* Does pid descend from root (by the parent chain in /proc)? 1 yes, 0 no.
 * For processes other than the sentry (the gofer) that know its pid. */
int sentry_descends_from(pid_t pid, pid_t root);

/* 1 when pid (a process or thread) descends from the sentry, 0 when it does
 * not or is gone. */
int sentry_in_tree(struct sentry *s, pid_t pid);

/* Open a pidfd for pid (a thread when thread is set), check that it belongs
 * to the guest's tree and that the pidfd still names the process checked.
 * Returns the pidfd, or -ESRCH for anything outside the tree or gone. */
int sentry_tree_pidfd(struct sentry *s, pid_t pid, bool thread);

/* Like sentry_tree_pidfd, but also open /proc/<pid> bound to that process.
 * Returns the pidfd and sets *ret_procfd. */
int sentry_tree_procfd(struct sentry *s, pid_t pid, int *ret_procfd);

/* Send sig to every process of process group pgid (or, with pgid 0, to every
 * process) in the tree, except the sentry and the process skip (0: none).
 * Returns how many were signalled or -errno; *ret_outside (may be NULL)
 * counts those spared because they are outside the tree. */
int sentry_signal_group(struct sentry *s, pid_t pgid, pid_t skip, int sig, int *ret_outside);

/* Kill (SIGKILL) every descendant of root except the pid in spare, until a
 * scan of /proc finds none. Used to fail closed. Returns how many died. */
int sentry_kill_descendants(pid_t root, pid_t spare);

/* Read ppid, start time, process group and state of pid from /proc/<pid>/stat, relative to dirfd
 * (a /proc/<pid> directory) when dirfd >= 0. 0 or -errno. */
int sentry_proc_stat(int dirfd, pid_t pid, pid_t *ret_ppid, uint64_t *ret_start, pid_t *ret_pgrp,
                     char *ret_state);

/* --- limits.c --- */

enum { LIMIT_TIMEOUT = 1, LIMIT_MEMORY, LIMIT_WRITE, LIMIT_AUDIT, LIMIT_PROCS };

/* fd was opened for writing for the guest: watch it for --max-write. 0,
 * or -EDQUOT when the quota is spent (the open must fail). */
int sentry_track_write(struct sentry *s, int fd);

/* Watch for --max-write the regular files the guest inherits open for
 * writing (fds 0 to 2; with keep_fds, all it keeps). Before the guest
 * runs. */
void sentry_watch_inherited(struct sentry *s, bool keep_fds);

/* fd (the sentry's copy) is passed in a message (SCM_RIGHTS): if its file
 * is watched for --max-write, it counts until the session ends, named or
 * not. */
void sentry_write_in_flight(struct sentry *s, int fd);

/* fd (the sentry's copy) is passed in a message for c: with --max-memory,
 * a socket is watched while it exists, and refused with -ETOOMANYREFS
 * once more than --max-fds (else 65,536) of those it passed are in flight,
 * as the kernel refuses a sender past its fd limit. 0 or -ETOOMANYREFS. */
long sentry_may_pass(struct sentry_call *c, int fd);

/* A new name (directory, symlink, node, link) is about to be made: 0, or
 * -EDQUOT when the --max-write quota is spent. */
int sentry_charge_name(struct sentry *s);

/* bytes stored outside any file's blocks (extended attributes) are about
 * to be: 0 with them charged to --max-write, or -EDQUOT past it.
 * sentry_refund_bytes gives back what a failed call charged. */
int sentry_charge_bytes(struct sentry *s, uint64_t bytes);
void sentry_refund_bytes(struct sentry *s, uint64_t bytes);

/* fallocate of len bytes on fd, the sentry's copy of the guest's: 0 with
 * len reserved of the --max-write quota (the caller makes the call, then
 * sentry_allocated), or -EDQUOT past it. */
long sentry_may_allocate(struct sentry_call *c, int fd, uint64_t len);

/* The fallocate sentry_may_allocate let through is made: what fd's file
 * took replaces the reservation. */
void sentry_allocated(struct sentry *s, int fd, uint64_t len);

/* Before the sentry confines itself: what the monitor needs to know. */
void sentry_limits_prepare(struct sentry *s);

/* Start the monitor thread (timeout, memory, writes) if a limit needs it. */
int sentry_limits_start(struct sentry *s);

/* At the session's end: a last look at --max-write (the guest may have
 * ended between two). LIMIT_WRITE (reported) or 0. */
int sentry_limits_final(struct sentry *s);

/* A record was written: past --max-audit, stop the session (once). */
void sentry_audit_grew(struct sentry *s);

/* Tell the launcher which limit stopped the session (sentry_main.c). */
void sentry_report_limit(int which);

/* Signal the launcher, our parent (sentry_main.c): a pidfd taken while it
 * is still our parent, so a pid it left behind is never reached. */
void sentry_signal_launcher(int sig);

/* --- crash.c --- */

/* interpose_crash_handlers: see util.h. */
