/* SPDX-License-Identifier: MIT */
/*
 * Guest backtraces (--backtrace): where in the guest a denied call came
 * from, unwound by libunwind's remote unwinder from the stopped thread's
 * instruction and stack pointers (/proc/TID/syscall, which the kernel
 * fills for a thread blocked in a call), reading its memory with
 * process_vm_readv and its binaries' unwind tables through libunwind's
 * ptrace helpers (which only read /proc/TID/maps and the files; no
 * attach). Frames whose unwinding would need a register the stop does not
 * show end the trace.
 */
#include "backtrace.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <fcntl.h>
#include <libunwind-ptrace.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>

#include "audit.h"
#include "util.h"

struct target {
        pid_t tid;
        unw_word_t ip, sp;
        void *upt; /* libunwind's per-process state (maps, ELF images) */
};

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg)
{
        struct target *t = arg;
        struct iovec l = { val, sizeof(*val) }, r = { (void *)(uintptr_t)addr, sizeof(*val) };

        (void)as;
        if (write)
                return -UNW_EINVAL;
        return process_vm_readv(t->tid, &l, 1, &r, 1, 0) == (ssize_t)sizeof(*val) ? 0 : -UNW_EINVAL;
}

static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write, void *arg)
{
        struct target *t = arg;

        (void)as;
        if (write)
                return -UNW_EINVAL;
        if (reg == UNW_REG_IP || reg == UNW_X86_64_RIP)
                *val = t->ip;
        else if (reg == UNW_REG_SP || reg == UNW_X86_64_RSP)
                *val = t->sp;
        else
                return -UNW_EBADREG;
        return 0;
}

static int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need, void *arg)
{
        return _UPT_find_proc_info(as, ip, pi, need, ((struct target *)arg)->upt);
}

static void put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
        _UPT_put_unwind_info(as, pi, ((struct target *)arg)->upt);
}

static int get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr, void *arg)
{
        return _UPT_get_dyn_info_list_addr(as, addr, ((struct target *)arg)->upt);
}

static int get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf, size_t len, unw_word_t *off,
                         void *arg)
{
        return _UPT_get_proc_name(as, addr, buf, len, off, ((struct target *)arg)->upt);
}

/* The stack and instruction pointers of a thread blocked in a call:
 * "NR ARG... SP PC" in /proc/TID/syscall. */
static int stopped_regs(pid_t tid, unw_word_t *sp, unw_word_t *ip)
{
        char path[64], buf[512];
        unsigned long long v[9];

        snprintf(path, sizeof(path), "/proc/%d/syscall", (int)tid);
        if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0)
                return -ESRCH;
        if (sscanf(buf, "%llu %llx %llx %llx %llx %llx %llx %llx %llx", &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6], &v[7], &v[8]) != 9)
                return -EAGAIN; /* "running", or no call */
        *sp = v[7];
        *ip = v[8];
        return 0;
}

/* Do the names of the thread's mappings still name the files
 * mapped (device and inode as the maps say)? The unwinder opens them by
 * name; a guest that put something else there (a FIFO, a crafted file
 * named "X (deleted)") gets no backtrace. */
static bool maps_name_their_files(pid_t tid)
{
        _cleanup_free_ char *line = NULL;
        char path[64];
        size_t cap = 0;
        bool ok = true;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/maps", (int)tid);
        if (!(f = fopen(path, "re")))
                return false;
        while (ok && getline(&line, &cap, f) > 0) {
                char file[4096];
                unsigned maj, min;
                unsigned long long ino;
                struct stat st;
                file[0] = '\0';
                if (sscanf(line, "%*x-%*x %*s %*x %x:%x %llu %4095[^\n]", &maj, &min, &ino, file) < 3)
                        continue;
                if (file[0] != '/')
                        continue;
                /* Any mapping may hold a frame's address, and the unwinder
                 * then opens its name: gone (a deleted file's name, a
                 * memfd's) it cannot open; there, it must be that file. */
                if (lstat(file, &st) < 0) {
                        ok = errno == ENOENT;
                        continue;
                }
                ok = S_ISREG(st.st_mode) && st.st_ino == ino && major(st.st_dev) == maj &&
                     minor(st.st_dev) == min;
        }
        fclose(f);
        return ok;
}

size_t guest_backtrace_json(pid_t tid, char *out, size_t cap)
{
        unw_accessors_t acc = { .find_proc_info = find_proc_info,
                                .put_unwind_info = put_unwind_info,
                                .get_dyn_info_list_addr = get_dyn_info_list_addr,
                                .access_mem = access_mem,
                                .access_reg = access_reg,
                                .get_proc_name = get_proc_name };
        struct target t = { .tid = tid };
        unw_addr_space_t as;
        unw_cursor_t cur;
        size_t len;
        int frames = 0;

        if (cap < 32 || stopped_regs(tid, &t.sp, &t.ip) < 0 || !maps_name_their_files(tid))
                return 0;
        as = unw_create_addr_space(&acc, 0);
        if (!as)
                return 0;
        t.upt = _UPT_create(tid);
        len = (size_t)snprintf(out, cap, "\"backtrace\":[");
        if (t.upt && unw_init_remote(&cur, as, &t) == 0) {
                do {
                        unw_word_t ip = 0, off = 0;
                        char name[256], frame[400];
                        if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0)
                                break;
                        if (unw_get_proc_name(&cur, name, sizeof(name), &off) < 0)
                                snprintf(name, sizeof(name), "?");
                        snprintf(frame, sizeof(frame), "%#llx %s+%#llx", (unsigned long long)ip, name,
                                 (unsigned long long)off);
                        if (len + strlen(frame) + 8 >= cap)
                                break;
                        len += (size_t)snprintf(out + len, cap - len, "%s\"", frames ? "," : "");
                        len = audit_json_escape(out, len, cap - 4, frame);
                        out[len++] = '"';
                        frames++;
                } while (frames < BACKTRACE_FRAMES && unw_step(&cur) > 0);
        }
        if (t.upt)
                _UPT_destroy(t.upt);
        unw_destroy_addr_space(as);
        if (!frames)
                return 0;
        len += (size_t)snprintf(out + len, cap - len, "]");
        return len < cap ? len : 0;
}

/*
 * The unwinder opens the files the guest's maps name, by name: a guest
 * can put a FIFO there after mapping the file, and an open of it would
 * wait for a writer. So it runs on a thread of its own, and the sentry
 * waits for it a short while; one that does not come back is left to
 * itself, and no further backtraces are taken this session.
 */
struct bt_job {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool done, abandoned;
        pid_t tid;
        size_t len;
        char buf[4096];
};

static bool bt_stuck;

static void *bt_thread(void *arg)
{
        struct bt_job *j = arg;
        volatile size_t len = 0;
        sigjmp_buf jb;
        bool abandoned;

        /* The unwinder parses the guest's binaries: one crafted to make
         * it fault ends this backtrace, not the sentry (and libunwind,
         * whose state the fault may have broken, is not used again). */
        if (sigsetjmp(jb, 1) == 0) {
                interpose_crash_escape(&jb);
                len = guest_backtrace_json(j->tid, j->buf, sizeof(j->buf));
                interpose_crash_escape(NULL);
        } else {
                __atomic_store_n(&bt_stuck, true, __ATOMIC_RELAXED);
                len = 0;
        }

        pthread_mutex_lock(&j->lock);
        j->len = len;
        j->done = true;
        abandoned = j->abandoned;
        pthread_cond_signal(&j->cond);
        pthread_mutex_unlock(&j->lock);
        if (abandoned)
                free(j);
        return NULL;
}

size_t guest_backtrace_json_bounded(pid_t tid, char *out, size_t cap, unsigned timeout_ms)
{
        struct bt_job *j;
        struct timespec until;
        pthread_t t;
        pthread_attr_t attr;
        size_t len = 0;
        bool done;

        if (__atomic_load_n(&bt_stuck, __ATOMIC_RELAXED))
                return 0;
        j = xcalloc(1, sizeof(*j));
        pthread_mutex_init(&j->lock, NULL);
        pthread_cond_init(&j->cond, NULL);
        j->tid = tid;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, bt_thread, j) != 0) {
                pthread_attr_destroy(&attr);
                free(j);
                return 0;
        }
        pthread_attr_destroy(&attr);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&j->lock);
        while (!j->done)
                if (pthread_cond_timedwait(&j->cond, &j->lock, &until) == ETIMEDOUT)
                        break;
        done = j->done;
        if (done && j->len && j->len < cap) {
                memcpy(out, j->buf, j->len + 1);
                len = j->len;
        }
        if (!done) {
                j->abandoned = true;
                __atomic_store_n(&bt_stuck, true, __ATOMIC_RELAXED);
        }
        pthread_mutex_unlock(&j->lock);
        if (done)
                free(j);
        return len;
}
