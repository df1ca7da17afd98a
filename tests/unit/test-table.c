/* SPDX-License-Identifier: MIT */
/* The syscall table checks itself, as libseccomp's arch-syscall-check does:
 * every name resolves to its number, no duplicates, rows consistent. */
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

#include "guest.h"
#include "syscalls/table.h"

/* libseccomp 2.5.4 (Debian 12) knows numbers up to here. */
#define LIBSECCOMP_KNOWS_UP_TO 456

static void check_row(const struct sys_entry *e)
{
        int types = 0;
        int r = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, e->name);

        if (r >= 0)
                CHECK(r == e->nr, "%s: libseccomp says %d, table says %d", e->name, r, e->nr);
        else
                CHECK(e->nr > LIBSECCOMP_KNOWS_UP_TO, "%s (%d) unknown to libseccomp", e->name, e->nr);
        for (int i = 0; i < 6; i++)
                types += e->args[i] != T_NONE;
        CHECK(types == e->nargs, "%s: nargs %d but %d types", e->name, e->nargs, types);
        for (int i = 0; i < e->nargs; i++)
                CHECK(e->args[i] > T_NONE && e->args[i] < T__MAX, "%s: bad type of arg %d", e->name, i);
        CHECK(e->disposition <= D_KILL, "%s: bad disposition", e->name);
        CHECK(sys_lookup_name(e->name) == e, "%s: name lookup does not round-trip", e->name);
        if (e->disposition == D_TRAP)
                CHECK(e->handler, "%s: emulated without a handler", e->name);
        if (e->disposition == D_DENY || e->disposition == D_ENOSYS)
                CHECK(e->err > 0 && !e->handler, "%s: denial needs an errno and no handler", e->name);
        if (e->guard[0].kind != G_NONE)
                CHECK(e->handler && (e->disposition == D_KERNEL || e->disposition == D_PATH),
                      "%s: a guard needs a handler and a kernel disposition", e->name);
        else if (e->disposition == D_KERNEL)
                CHECK(!e->handler, "%s: kernel row with a handler that never runs", e->name);
        /* A path row's handler runs when a policy is in force (the filter
         * with path calls trapped); without one, the row runs in the kernel. */
        if (e->disposition != D_KERNEL)
                CHECK(e->note && e->note[0], "%s: no note says why", e->name);
        for (int i = 0; i < SYS_GUARDS; i++)
                CHECK(e->guard[i].arg < 6 &&
                              e->guard[i].arg < e->nargs + (e->guard[i].kind == G_NONE ? 6 : 0),
                      "%s: guard on a missing argument", e->name);
}

static void check_coverage(void)
{
        int rows = 0;
        for (int nr = 0; nr < SYS_TABLE_SIZE; nr++) {
                const struct sys_entry *e = sys_lookup(nr);
                bool hole = nr >= 335 && nr <= 423;
                if (nr <= 469)
                        CHECK(hole ? !e : e != NULL, "number %d: %s", nr,
                              hole ? "hole has a row" : "missing row");
                if (e) {
                        rows++;
                        CHECK(e->nr == nr, "row at %d says %d", nr, e->nr);
                        for (int k = 0; k < nr; k++)
                                if (sys_table[k].name)
                                        CHECK(strcmp(sys_table[k].name, e->name) != 0, "duplicate %s",
                                              e->name);
                }
        }
        CHECK(rows == 381, "expected 381 rows (0..334, 424..469), have %d", rows);
}

/* DESIGN.md invariant 7 and issue 3: every known escape hatch is refused. */
static void check_hatches(void)
{
        static const char *const denied[] = {
                "io_uring_setup",
                "io_uring_enter",
                "io_uring_register",
                "bpf",
                "userfaultfd",
                "perf_event_open",
                "keyctl",
                "add_key",
                "request_key",
                "mount",
                "umount2",
                "pivot_root",
                "move_mount",
                "open_tree",
                "fsopen",
                "fsmount",
                "fspick",
                "fsconfig",
                "mount_setattr",
                "setns",
                "kexec_load",
                "kexec_file_load",
                "init_module",
                "finit_module",
                "delete_module",
                "open_by_handle_at",
                "chroot",
                "iopl",
                "ioperm",
                "swapon",
                "swapoff",
                "reboot",
                "settimeofday",
                "clock_settime",
                "syslog",
                "sethostname",
                "setdomainname",
                "name_to_handle_at",
                "modify_ldt",
        };
        static const char *const guarded[] = { "clone", "unshare", "ioctl" };

        for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
                const struct sys_entry *e = sys_lookup_name(denied[i]);
                CHECK(e && e->disposition == D_DENY, "%s must be denied", denied[i]);
        }
        /* clone3 is not a hatch but must say ENOSYS, or glibc will not
         * fall back to clone, whose flags the filter can see. */
        CHECK(sys_lookup_name("clone3")->disposition == D_ENOSYS, "clone3 must be ENOSYS");
        for (size_t i = 0; i < sizeof(guarded) / sizeof(guarded[0]); i++) {
                const struct sys_entry *e = sys_lookup_name(guarded[i]);
                CHECK(e && e->guard[0].kind != G_NONE && e->err == EPERM, "%s must be guarded", guarded[i]);
        }
}

int main(void)
{
        for (int nr = 0; nr < SYS_TABLE_SIZE; nr++)
                if (sys_lookup(nr))
                        check_row(sys_lookup(nr));
        check_coverage();
        check_hatches();
        CHECK(sys_lookup(-1) == NULL && sys_lookup(SYS_TABLE_SIZE) == NULL, "out of range lookups");
        printf("table: %s\n", guest_failures ? "FAIL" : "ok");
        return guest_result();
}
