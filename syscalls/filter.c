/* SPDX-License-Identifier: MIT */
#include "filter.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../sentry/util.h"
#include "table.h"

static void ctx_release(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

/* The complement of a guard cannot be written as one libseccomp rule (there
 * is no masked not-equal), so the filter allows by default and traps the
 * guard's own conditions: one rule per condition, OR-ed by libseccomp. */
static int add_guard_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const struct sys_guard *g)
{
        struct scmp_arg_cmp cmp;

        switch (g->kind) {
        case G_ANYBIT:
                /* (arg & mask) != 0 is "not (arg & mask == 0)": trap on every
                 * single bit instead, which libseccomp can express. */
                for (int bit = 0; bit < 64; bit++) {
                        uint64_t m = 1ULL << bit;
                        int r;
                        if (!(g->value & m))
                                continue;
                        cmp = (struct scmp_arg_cmp){ g->arg, SCMP_CMP_MASKED_EQ, m, m };
                        r = seccomp_rule_add_array(ctx, action, nr, 1, &cmp);
                        if (r < 0)
                                return r;
                }
                return 0;
        case G_EQ32: {
                struct scmp_arg_cmp two[2] = {
                        { g->arg, SCMP_CMP_MASKED_EQ, 0xffffffffULL, g->value },
                        { g->arg2, SCMP_CMP_MASKED_EQ, g->mask2, g->mask2 },
                };
                /* The second condition is one bit: masked-equal is "set". */
                if (g->mask2 & (g->mask2 - 1))
                        return -EINVAL;
                return seccomp_rule_add_array(ctx, action, nr, g->mask2 ? 2 : 1, two);
        }
        case G_NE:
                cmp = (struct scmp_arg_cmp){ g->arg, SCMP_CMP_NE, g->value, 0 };
                return seccomp_rule_add_array(ctx, action, nr, 1, &cmp);
        case G_GT:
                cmp = (struct scmp_arg_cmp){ g->arg, SCMP_CMP_GT, g->value, 0 };
                return seccomp_rule_add_array(ctx, action, nr, 1, &cmp);
        case G_LOW4:
                cmp = (struct scmp_arg_cmp){ g->arg, SCMP_CMP_MASKED_EQ, 0xf, g->value };
                return seccomp_rule_add_array(ctx, action, nr, 1, &cmp);
        default:
                return -EINVAL;
        }
}

bool sys_filter_tracer_only(int nr)
{
        return nr == SYS_wait4 || nr == SYS_waitid;
}

static bool is_tracing(uint32_t action)
{
        return (action & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_TRACE;
}

static int add_row(scmp_filter_ctx ctx, uint32_t action, const struct sys_entry *e, bool paths)
{
        if (e->disposition == D_PATH && !paths)
                return 0; /* path calls run in the kernel without a policy */
        if (sys_filter_tracer_only(e->nr) && !is_tracing(action))
                return 0; /* the kernel's own ptrace: its waits need nothing of us */
        if (e->guard[0].kind != G_NONE) {
                for (int i = 0; i < SYS_GUARDS; i++) {
                        int r;
                        if (e->guard[i].kind == G_NONE)
                                continue;
                        r = add_guard_rule(ctx, action, e->nr, &e->guard[i]);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (e->disposition == D_KERNEL || (e->disposition == D_PATH && !paths))
                return 0; /* the default action allows it */
        return seccomp_rule_add(ctx, action, e->nr, 0);
}

int sys_filter_export(void *ctx, struct sock_fprog **ret)
{
        _cleanup_close_ int fd = memfd_create("interpose-filter", MFD_CLOEXEC);
        struct sock_fprog *prog;
        struct stat st;
        int r;

        if (fd < 0)
                return -errno;
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size == 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
            st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return -E2BIG;
        prog = xmalloc(sizeof(*prog) + (size_t)st.st_size);
        prog->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
        prog->filter = (struct sock_filter *)(prog + 1);
        if (pread(fd, prog->filter, (size_t)st.st_size, 0) != st.st_size) {
                free(prog);
                return -EIO;
        }
        *ret = prog;
        return 0;
}

/* Runs of numbers no row names (335-423 and 470 up, on x86_64) are tested
 * as ranges ahead of libseccomp's program instead of one comparison per
 * number in its tree: 640 numbers were 1,000 of its 1,250 instructions,
 * which the kernel checks, converts and compiles at every start. Ahead of
 * the arch check is safe: a call of another ABI traps whatever its number.
 * Below SYS_FILTER_TRAP_LIMIT only, as before: -1 (a tracer's "skip this
 * call") and x32 numbers stay libseccomp's. */
#define GAP_MIN 16
#define GAPS_MAX 8

struct gap {
        uint32_t lo, hi;
};

static size_t find_gaps(struct gap *gaps)
{
        size_t n = 0;

        for (int nr = 0; nr < SYS_FILTER_TRAP_LIMIT;) {
                int lo = nr;
                if (sys_lookup(nr)) {
                        nr++;
                        continue;
                }
                while (nr < SYS_FILTER_TRAP_LIMIT && !sys_lookup(nr))
                        nr++;
                if (nr - lo >= GAP_MIN && n < GAPS_MAX)
                        gaps[n++] = (struct gap){ (uint32_t)lo, (uint32_t)nr };
        }
        return n;
}

static bool in_gap(const struct gap *gaps, size_t n, int nr)
{
        for (size_t i = 0; i < n; i++)
                if ((uint32_t)nr >= gaps[i].lo && (uint32_t)nr < gaps[i].hi)
                        return true;
        return false;
}

/* ld nr; per gap: nr >= hi? next gap : nr >= lo? trap; then over the trap
 * into libseccomp's program (which loads what it needs itself). */
static int prepend_gaps(struct sock_fprog **prog, const struct gap *gaps, size_t n, uint32_t trap_action)
{
        size_t head = 1 + 2 * n + 2, len = head + (*prog)->len, i = 0;
        struct sock_fprog *p;
        struct sock_filter *f;

        if (len > BPF_MAXINSNS)
                return -E2BIG;
        p = xmalloc(sizeof(*p) + len * sizeof(*f));
        f = (struct sock_filter *)(p + 1);
        f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
        for (size_t g = 0; g < n; g++) {
                f[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, gaps[g].hi, 1, 0);
                i++;
                f[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, gaps[g].lo,
                                                    (uint8_t)(head - 1 - (i + 1)), 0);
                i++;
        }
        f[i++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 1);
        f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, trap_action);
        memcpy(f + i, (*prog)->filter, (*prog)->len * sizeof(*f));
        p->len = (unsigned short)len;
        p->filter = f;
        free(*prog);
        *prog = p;
        return 0;
}

int sys_filter_build(uint32_t trap_action, bool paths, struct sock_fprog **ret)
{
        __attribute__((cleanup(ctx_release))) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        struct gap gaps[GAPS_MAX];
        size_t ngaps = find_gaps(gaps);
        int r;

        if (!ctx)
                return -ENOMEM;
        /* The program is exported, not loaded by libseccomp (we load it with
         * raw seccomp(2)): let it emit the notify action even where it
         * cannot probe the kernel (under valgrind, say). Loading still
         * fails where the kernel lacks user notification. */
        if (seccomp_api_get() < 5 && seccomp_api_set(5) < 0)
                return -ENOTSUP;
        /* i386 and x32 calls reach the sentry, which kills the caller. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, trap_action);
        if (r < 0)
                return r;
        /* We set no_new_privs ourselves and load the program with raw
         * seccomp(2), which lets us pass flags this libseccomp predates. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return r;
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (r < 0)
                return r;
        for (int nr = 0; nr < SYS_FILTER_TRAP_LIMIT; nr++) {
                const struct sys_entry *e = sys_lookup(nr);
                if (!e && in_gap(gaps, ngaps, nr))
                        continue;
                r = e ? add_row(ctx, trap_action, e, paths) : seccomp_rule_add(ctx, trap_action, nr, 0);
                if (r < 0)
                        return r;
        }
        r = sys_filter_export(ctx, ret);
        if (r < 0)
                return r;
        r = prepend_gaps(ret, gaps, ngaps, trap_action);
        if (r < 0) {
                free(*ret);
                *ret = NULL;
        }
        return r;
}

#ifndef SYS_TABLE_NO_HANDLERS /* gen-filter makes the prebuilt program */
int sys_filter_prebuilt(uint32_t trap_action, bool paths, struct sock_fprog **ret)
{
        bool tracing = is_tracing(trap_action);
        size_t n = paths ? (tracing ? sys_filter_prebuilt_paths_tracing_len : sys_filter_prebuilt_paths_len)
                         : (tracing ? sys_filter_prebuilt_tracing_len : sys_filter_prebuilt_len);
        const struct sock_filter *src = paths ? (tracing ? sys_filter_prebuilt_paths_tracing_insns
                                                         : sys_filter_prebuilt_paths_insns)
                                              : (tracing ? sys_filter_prebuilt_tracing_insns
                                                         : sys_filter_prebuilt_insns);
        struct sock_fprog *prog = xmalloc(sizeof(*prog) + n * sizeof(struct sock_filter));

        prog->len = (unsigned short)n;
        prog->filter = (struct sock_filter *)(prog + 1);
        memcpy(prog->filter, src, n * sizeof(struct sock_filter));
        for (size_t i = 0; i < n; i++) {
                struct sock_filter *f = &prog->filter[i];
                if (f->code == (BPF_RET | BPF_K) && f->k == SYS_FILTER_TRAP_MARK)
                        f->k = trap_action;
        }
        *ret = prog;
        return 0;
}

int sys_own_filter_load(enum sys_own_filter which)
{
        struct sock_fprog prog;

        if (which < 0 || which >= OWN_FILTERS)
                return -EINVAL;
        prog.len = sys_own_prebuilt_len[which];
        prog.filter = (struct sock_filter *)sys_own_prebuilt_insns[which];
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                return -errno;
        return 0;
}
#endif

void sys_filter_free(struct sock_fprog *prog)
{
        free(prog);
}

uint32_t sys_filter_eval(const struct sock_fprog *prog, uint32_t arch, int nr, const uint64_t args[6])
{
        struct seccomp_data d = { .nr = nr, .arch = arch };
        uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
        const uint8_t *data = (const uint8_t *)&d;

        for (int i = 0; i < 6; i++)
                d.args[i] = args ? args[i] : 0;

        for (unsigned pc = 0; pc < prog->len; pc++) {
                const struct sock_filter *f = &prog->filter[pc];
                uint32_t src = BPF_SRC(f->code) == BPF_X ? x : f->k;

                switch (BPF_CLASS(f->code)) {
                case BPF_LD:
                        if (BPF_MODE(f->code) == BPF_ABS && BPF_SIZE(f->code) == BPF_W &&
                            f->k + 4 <= sizeof(d))
                                memcpy(&a, data + f->k, 4);
                        else if (BPF_MODE(f->code) == BPF_IMM)
                                a = f->k;
                        else if (BPF_MODE(f->code) == BPF_MEM && f->k < BPF_MEMWORDS)
                                a = mem[f->k];
                        else if (BPF_MODE(f->code) == BPF_LEN)
                                a = sizeof(d);
                        else
                                return SECCOMP_RET_KILL_PROCESS;
                        break;
                case BPF_LDX:
                        if (BPF_MODE(f->code) == BPF_IMM)
                                x = f->k;
                        else if (BPF_MODE(f->code) == BPF_MEM && f->k < BPF_MEMWORDS)
                                x = mem[f->k];
                        else
                                return SECCOMP_RET_KILL_PROCESS;
                        break;
                case BPF_ST:
                        if (f->k < BPF_MEMWORDS)
                                mem[f->k] = a;
                        break;
                case BPF_STX:
                        if (f->k < BPF_MEMWORDS)
                                mem[f->k] = x;
                        break;
                case BPF_ALU:
                        switch (BPF_OP(f->code)) {
                        case BPF_ADD:
                                a += src;
                                break;
                        case BPF_SUB:
                                a -= src;
                                break;
                        case BPF_MUL:
                                a *= src;
                                break;
                        case BPF_DIV:
                                a = src ? a / src : 0;
                                break;
                        case BPF_AND:
                                a &= src;
                                break;
                        case BPF_OR:
                                a |= src;
                                break;
                        case BPF_XOR:
                                a ^= src;
                                break;
                        case BPF_LSH:
                                a <<= (src & 31);
                                break;
                        case BPF_RSH:
                                a >>= (src & 31);
                                break;
                        case BPF_NEG:
                                a = -a;
                                break;
                        default:
                                return SECCOMP_RET_KILL_PROCESS;
                        }
                        break;
                case BPF_JMP: {
                        bool t;
                        switch (BPF_OP(f->code)) {
                        case BPF_JA:
                                pc += f->k;
                                continue;
                        case BPF_JEQ:
                                t = a == src;
                                break;
                        case BPF_JGT:
                                t = a > src;
                                break;
                        case BPF_JGE:
                                t = a >= src;
                                break;
                        case BPF_JSET:
                                t = (a & src) != 0;
                                break;
                        default:
                                return SECCOMP_RET_KILL_PROCESS;
                        }
                        pc += t ? f->jt : f->jf;
                        break;
                }
                case BPF_RET:
                        return BPF_RVAL(f->code) == BPF_A ? a : f->k;
                case BPF_MISC:
                        if (BPF_MISCOP(f->code) == BPF_TAX)
                                x = a;
                        else
                                a = x;
                        break;
                }
        }
        return SECCOMP_RET_KILL_PROCESS; /* fell off the end: the kernel rejects such programs */
}
