/* SPDX-License-Identifier: MIT */
/* Offline filter tests: export the BPF the guest gets and evaluate it for
 * (arch, nr, args) the way the kernel would. */
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "guest.h"
#include "syscalls/filter.h"
#include "syscalls/table.h"

#define NOTIFY SECCOMP_RET_USER_NOTIF
#define ALLOW SECCOMP_RET_ALLOW

static struct sock_fprog *prog;
static uint32_t trap;
static bool paths; /* the program with path calls trapped (a policy in force) */

static uint32_t eval(uint32_t arch, int nr, const uint64_t args[6])
{
        uint32_t r = sys_filter_eval(prog, arch, nr, args);
        return (r & SECCOMP_RET_ACTION_FULL) == (trap & SECCOMP_RET_ACTION_FULL) ? NOTIFY : r;
}

static const uint64_t zero[6];

static void check_unguarded(const struct sys_entry *e)
{
        bool tracing = (trap & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_TRACE;
        uint32_t want = (e->disposition == D_KERNEL || (e->disposition == D_PATH && !paths) ||
                         (sys_filter_tracer_only(e->nr) && !tracing))
                                ? ALLOW
                                : NOTIFY;
        uint64_t junk[6] = { ~0ULL, 1, 2, 3, 4, 5 };

        CHECK(eval(AUDIT_ARCH_X86_64, e->nr, zero) == want, "%s: want %s", e->name,
              want == ALLOW ? "allow" : "trap");
        CHECK(eval(AUDIT_ARCH_X86_64, e->nr, junk) == want, "%s with other args", e->name);
}

/* The filter traps exactly when the table's guard says so, for random
 * arguments and for the edge values of each guard (a 32-bit command with
 * garbage in the high half must still trap: the kernel truncates it). */
static void check_guarded(const struct sys_entry *e)
{
        for (int g = 0; g < SYS_GUARDS; g++) {
                const struct sys_guard *gd = &e->guard[g];
                uint64_t a[6] = { 0 };
                if (gd->kind == G_NONE)
                        continue;
                if (gd->kind == G_ANYBIT) {
                        for (int bit = 0; bit < 64; bit++) {
                                if (!(gd->value & (1ULL << bit)))
                                        continue;
                                a[gd->arg] = 1ULL << bit;
                                CHECK(eval(AUDIT_ARCH_X86_64, e->nr, a) == NOTIFY, "%s bit %d", e->name, bit);
                        }
                        a[gd->arg] = ~gd->value;
                } else if (gd->kind == G_EQ32) {
                        if (gd->mask2) {
                                /* Without the second condition it must not trap. */
                                a[gd->arg] = gd->value;
                                CHECK(eval(AUDIT_ARCH_X86_64, e->nr, a) ==
                                              (sys_guard_matches(e, a) ? NOTIFY : ALLOW),
                                      "%s: == value without the bit", e->name);
                                a[gd->arg2] = gd->mask2;
                        }
                        a[gd->arg] = gd->value;
                        CHECK(eval(AUDIT_ARCH_X86_64, e->nr, a) == NOTIFY, "%s == value", e->name);
                        a[gd->arg] = gd->value | (0xdeadULL << 32);
                        CHECK(eval(AUDIT_ARCH_X86_64, e->nr, a) == NOTIFY, "%s high garbage", e->name);
                        a[gd->arg] = gd->value + 1;
                } else if (gd->kind == G_LOW4) {
                        /* The type with flags above it (SOCK_CLOEXEC...). */
                        a[gd->arg] = gd->value | 0x80800 | (0xdeadULL << 32);
                        CHECK(eval(AUDIT_ARCH_X86_64, e->nr, a) == NOTIFY, "%s low bits == value", e->name);
                        a[gd->arg] = gd->value ^ 1;
                } else {
                        a[gd->arg] = gd->value + 1;
                        CHECK(eval(AUDIT_ARCH_X86_64, e->nr, a) == NOTIFY, "%s != value", e->name);
                        a[gd->arg] = gd->value;
                }
                CHECK(eval(AUDIT_ARCH_X86_64, e->nr, a) == (sys_guard_matches(e, a) ? NOTIFY : ALLOW),
                      "%s: filter and table disagree", e->name);
        }
        for (int i = 0; i < 2000; i++) {
                uint64_t a[6];
                for (int k = 0; k < 6; k++)
                        a[k] = (uint64_t)random() << 33 ^ (uint64_t)random() ^ (i & 1 ? 0 : ~0ULL);
                if (i % 3 == 0)
                        a[e->guard[0].arg] = 0;
                CHECK(eval(AUDIT_ARCH_X86_64, e->nr, a) == (sys_guard_matches(e, a) ? NOTIFY : ALLOW),
                      "%s: random args disagree", e->name);
        }
}

/* socket: unix and TCP with a plain type and protocol 0 run in the
 * kernel; IP datagram sockets (made by the sentry with their reply filter)
 * and everything the broker refuses or must look at are trapped. */
static void check_socket(void)
{
        static const struct {
                uint64_t domain, type, protocol;
                bool trapped;
        } cases[] = {
                { AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0, false },
                { AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0, true },
                { AF_INET, SOCK_DGRAM, 0, true },
                { AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, false },
                { AF_UNIX, SOCK_SEQPACKET, 0, true },
                { AF_INET, SOCK_STREAM, IPPROTO_TCP, true },
                { AF_INET, SOCK_RAW, IPPROTO_ICMP, true },
                { AF_INET, SOCK_SEQPACKET, 0, true },
                { AF_PACKET, SOCK_DGRAM, 0, true },
                { AF_NETLINK, SOCK_RAW, 0, true },
                { AF_VSOCK, SOCK_STREAM, 0, true },
                { AF_INET | (1ULL << 32), SOCK_STREAM, 0, true },
                { 0, SOCK_STREAM, 0, true },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                uint64_t a[6] = { cases[i].domain, cases[i].type, cases[i].protocol };
                CHECK(eval(AUDIT_ARCH_X86_64, SYS_socket, a) == (cases[i].trapped ? NOTIFY : ALLOW),
                      "socket case %zu: want %s", i, cases[i].trapped ? "trapped" : "in the kernel");
        }
}

static void check_abis(void)
{
        /* i386 and x32: trapped, so the sentry kills the caller. */
        for (int nr = 0; nr < 460; nr += 7)
                CHECK(eval(AUDIT_ARCH_I386, nr, zero) == NOTIFY, "i386 %d not trapped", nr);
        CHECK(eval(AUDIT_ARCH_X86_64, 0x40000000 | 39, zero) == NOTIFY, "x32 getpid not trapped");
        CHECK(eval(AUDIT_ARCH_X86_64, 0x40000000 | 0, zero) == NOTIFY, "x32 read not trapped");
        CHECK(eval(AUDIT_ARCH_X86_64, 0x40000000 | 512, zero) == NOTIFY, "x32 512 not trapped");
}

static void check_unknown(void)
{
        CHECK(eval(AUDIT_ARCH_X86_64, 400, zero) == NOTIFY, "hole 400 must trap (ENOSYS + audit)");
        CHECK(eval(AUDIT_ARCH_X86_64, 470, zero) == NOTIFY, "future 470 must trap");
        CHECK(eval(AUDIT_ARCH_X86_64, SYS_FILTER_TRAP_LIMIT - 1, zero) == NOTIFY, "1023 must trap");
        /* Every number no row names, each edge of the runs tested as
         * ranges included; past the limit the kernel answers ENOSYS. */
        for (int nr = 0; nr < SYS_FILTER_TRAP_LIMIT + 64; nr++) {
                if (sys_lookup(nr))
                        continue;
                CHECK(eval(AUDIT_ARCH_X86_64, nr, zero) == (nr < SYS_FILTER_TRAP_LIMIT ? NOTIFY : ALLOW),
                      "unknown %d: want %s", nr,
                      nr < SYS_FILTER_TRAP_LIMIT ? "trapped" : "the kernel's ENOSYS");
                CHECK(eval(AUDIT_ARCH_I386, nr, zero) == NOTIFY, "i386 %d not trapped", nr);
        }
        CHECK(eval(AUDIT_ARCH_X86_64, -1, zero) == ALLOW, "-1 (a tracer's skipped call) is the kernel's");
        CHECK(eval(AUDIT_ARCH_X86_64, 0x40000000 | 400, zero) == NOTIFY, "x32 in a hole not trapped");
}

static void run(uint32_t action, const char *name, bool prebuilt)
{
        int r = prebuilt ? sys_filter_prebuilt(action, paths, &prog) : sys_filter_build(action, paths, &prog);

        trap = action;
        if (r < 0) {
                fprintf(stderr, "building the %s filter: %s\n", name, strerror(-r));
                exit(EXIT_HARD);
        }
        CHECK(prog->len > 0 && prog->len <= BPF_MAXINSNS, "program length %u", prog->len);
        for (int nr = 0; nr < SYS_TABLE_SIZE; nr++) {
                const struct sys_entry *e = sys_lookup(nr);
                if (!e)
                        continue;
                /* Without a policy a path row runs in the kernel, guard or not. */
                if (e->guard[0].kind == G_NONE || (e->disposition == D_PATH && !paths))
                        check_unguarded(e);
                else
                        check_guarded(e);
        }
        check_abis();
        if (paths)
                check_socket();
        check_unknown();
        printf("filter (%s%s): %u instructions\n", name, prebuilt ? ", prebuilt" : "", prog->len);
        sys_filter_free(prog);
}

/* The prebuilt program, patched, is instruction for instruction what
 * libseccomp builds now. */
static void same_as_built(uint32_t action)
{
        struct sock_fprog *a, *b;

        for (int paths = 0; paths <= 1; paths++) {
                if (sys_filter_build(action, paths, &a) < 0 || sys_filter_prebuilt(action, paths, &b) < 0)
                        exit(EXIT_HARD);
                CHECK(a->len == b->len && !memcmp(a->filter, b->filter, a->len * sizeof(*a->filter)),
                      "prebuilt filter differs from a fresh build (action %#x, paths %d)", action, paths);
                sys_filter_free(a);
                sys_filter_free(b);
        }
}

/* interpose's own filters, as loaded (prebuilt): what each must refuse,
 * and the same as a fresh build. */
static void own_filters(void)
{
        static const uint64_t thread[6] = { 0x50f00 /* CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM */ };
        struct sock_fprog p, *fresh;

        for (int w = 0; w < OWN_FILTERS; w++) {
                p.len = sys_own_prebuilt_len[w];
                p.filter = (struct sock_filter *)sys_own_prebuilt_insns[w];
                CHECK(sys_own_filter_build((enum sys_own_filter)w, &fresh) == 0 && fresh->len == p.len &&
                              !memcmp(fresh->filter, p.filter, p.len * sizeof(*p.filter)),
                      "own filter %d: prebuilt differs from a fresh build", w);
                sys_filter_free(fresh);
#define ACT(nr, a) (sys_filter_eval(&p, AUDIT_ARCH_X86_64, (nr), (a)) & SECCOMP_RET_ACTION_FULL)
                CHECK(ACT(SYS_read, zero) == SECCOMP_RET_ALLOW, "own filter %d: read", w);
                CHECK(ACT(SYS_execve, zero) == SECCOMP_RET_KILL_PROCESS, "own filter %d: execve", w);
                CHECK(ACT(SYS_socket, zero) ==
                              (w == OWN_GOFER ? SECCOMP_RET_KILL_PROCESS : SECCOMP_RET_ERRNO),
                      "own filter %d: socket", w);
                CHECK(ACT(SYS_mount, zero) == SECCOMP_RET_KILL_PROCESS, "own filter %d: mount", w);
                CHECK(sys_filter_eval(&p, AUDIT_ARCH_I386, 11, zero) != SECCOMP_RET_ALLOW,
                      "own filter %d: i386 calls", w);
                if (w == OWN_GOFER) {
                        CHECK(ACT(SYS_clone, thread) == SECCOMP_RET_KILL_PROCESS, "gofer: clone");
                        CHECK(ACT(SYS_ptrace, zero) == SECCOMP_RET_KILL_PROCESS, "gofer: ptrace");
                        continue;
                }
                /* The sentry: threads only; ptrace on the ptrace platform only. */
                CHECK(ACT(SYS_clone, thread) == SECCOMP_RET_ALLOW, "sentry %d: clone of a thread", w);
                CHECK(ACT(SYS_clone, zero) == SECCOMP_RET_ERRNO, "sentry %d: clone of a process", w);
                CHECK(ACT(SYS_fork, zero) == SECCOMP_RET_KILL_PROCESS, "sentry %d: fork", w);
                CHECK(ACT(SYS_ptrace, zero) ==
                              (w == OWN_SENTRY_TRACER ? SECCOMP_RET_ALLOW : SECCOMP_RET_KILL_PROCESS),
                      "sentry %d: ptrace", w);
                CHECK(ACT(SYS_setns, zero) == SECCOMP_RET_KILL_PROCESS, "sentry %d: setns", w);
                /* Sockets: the guest's IP datagram sockets only (syscalls/net.c). */
                static const uint64_t udp[6] = { AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC };
                static const uint64_t tcp[6] = { AF_INET, SOCK_STREAM };
                CHECK(ACT(SYS_socket, udp) == SECCOMP_RET_ALLOW, "sentry %d: a UDP socket", w);
                CHECK(ACT(SYS_socket, tcp) == SECCOMP_RET_ERRNO, "sentry %d: a TCP socket", w);
#undef ACT
        }
}

int main(void)
{
        srandom(1);
        own_filters();
        run(SCMP_ACT_NOTIFY, "seccomp-unotify", false);
        run(SCMP_ACT_TRACE(1), "ptrace", false);
        /* What sessions load: generated at build time, action patched in. */
        run(SCMP_ACT_NOTIFY, "seccomp-unotify", true);
        run(SCMP_ACT_TRACE(1), "ptrace", true);
        /* With a policy in force every path call traps too. */
        paths = true;
        run(SCMP_ACT_NOTIFY, "seccomp-unotify, paths", false);
        run(SCMP_ACT_NOTIFY, "seccomp-unotify, paths", true);
        paths = false;
        same_as_built(SCMP_ACT_NOTIFY);
        same_as_built(SCMP_ACT_TRACE(1));
        return guest_result();
}
