/* SPDX-License-Identifier: MIT */
/* Expands syscalls.def into the table every other part reads. */
#include "table.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <string.h>
#include <linux/fs.h>
#include <linux/fsverity.h>
#include <linux/sockios.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "handlers.h"

/* Linux 6.5; Debian 12's headers predate them. */
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

#ifdef SYS_TABLE_NO_HANDLERS
/* For syscalls/gen-filter, which needs the rows but not the sentry. */
#define H_REFUSE NULL
#define H_PID0 NULL
#define HANDLER(h) NULL
#else
#define H_REFUSE sys_refuse
#define H_PID0 sys_pid0
#define HANDLER(h) (sys_handler_fn)(h)
#endif

/* clang-format off */
#define ARGS(...) { __VA_ARGS__ }
#define NOGUARD { { 0 } }
#define GUARD1(k, a, v) { G(k, a, v) }
#define GUARD2(k, a, v, k2, a2, v2) { G(k, a, v), G(k2, a2, v2) }
#define GUARD4(k, a, v, k2, a2, v2, k3, a3, v3, k4, a4, v4) \
        { G(k, a, v), G(k2, a2, v2), G(k3, a3, v3), G(k4, a4, v4) }
#define GUARDN(...) { __VA_ARGS__ }
#define G(k, a, v) { .kind = k, .arg = a, .value = v }
#define GAND(k, a, v, a2, m2) { .kind = k, .arg = a, .value = v, .arg2 = a2, .mask2 = m2 }
#define SYSCALL(nr_, name_, nargs_, args_, disp_, err_, guard_, handler_, note_) \
        [nr_] = { .name = #name_, .nr = nr_, .nargs = nargs_, .args = args_,    \
                  .disposition = disp_, .err = err_, .guard = guard_,           \
                  .handler = HANDLER(handler_), .note = note_ },
/* clang-format on */

const struct sys_entry sys_table[SYS_TABLE_SIZE] = {
#include "syscalls.def"
};

const struct sys_entry *sys_lookup(long nr)
{
        if (nr < 0 || nr >= SYS_TABLE_SIZE || !sys_table[nr].name)
                return NULL;
        return &sys_table[nr];
}

const struct sys_entry *sys_lookup_name(const char *name)
{
        for (int i = 0; i < SYS_TABLE_SIZE; i++)
                if (sys_table[i].name && strcmp(sys_table[i].name, name) == 0)
                        return &sys_table[i];
        return NULL;
}

const char *sys_disposition_name(int d)
{
        static const char *const names[] = {
                [D_KERNEL] = "kernel", [D_PATH] = "path",     [D_TRAP] = "emulated",
                [D_DENY] = "denied",   [D_ENOSYS] = "enosys", [D_KILL] = "kill",
        };
        return d >= 0 && d < (int)(sizeof(names) / sizeof(names[0])) ? names[d] : "?";
}

const char *sys_arg_type_name(int t)
{
        static const char *const names[T__MAX] = {
                [T_NONE] = "-",          [T_INT] = "int",
                [T_UINT] = "uint",       [T_LONG] = "long",
                [T_ULONG] = "ulong",     [T_HEX] = "flags",
                [T_PTR] = "ptr",         [T_STR] = "str",
                [T_FD] = "fd",           [T_DIRFD] = "dirfd",
                [T_PID] = "pid",         [T_SIG] = "sig",
                [T_OFLAGS] = "oflags",   [T_MODE] = "mode",
                [T_SIZE] = "size",       [T_CLONEFLAGS] = "cloneflags",
                [T_NSFLAGS] = "nsflags", [T_ARGV] = "argv",
        };
        return t >= 0 && t < T__MAX && names[t] ? names[t] : "?";
}

bool sys_guard_matches(const struct sys_entry *e, const uint64_t args[6])
{
        bool any = false;

        for (int i = 0; i < SYS_GUARDS; i++) {
                const struct sys_guard *g = &e->guard[i];
                uint64_t a = g->arg < 6 ? args[g->arg] : 0;
                switch (g->kind) {
                case G_NONE:
                        continue;
                case G_ANYBIT:
                        if (a & g->value)
                                return true;
                        break;
                case G_EQ32:
                        if ((uint32_t)a == (uint32_t)g->value && (!g->mask2 || (args[g->arg2] & g->mask2)))
                                return true;
                        break;
                case G_NE:
                        if (a != g->value)
                                return true;
                        break;
                case G_GT:
                        if (a > g->value)
                                return true;
                        break;
                case G_LOW4:
                        if ((a & 0xf) == g->value)
                                return true;
                        break;
                }
                any = true;
        }
        return !any; /* no guard: always traps */
}
