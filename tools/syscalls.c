/* SPDX-License-Identifier: MIT */
/* `interpose syscalls`: the compatibility table, printed from the syscall
 * table, like `runsc help syscalls`. */
#include <stdio.h>
#include <string.h>

#include "../sentry/audit.h"
#include "../syscalls/decode.h"
#include "../syscalls/table.h"
#include "verbs.h"

static const char *guard_text(const struct sys_entry *e, char *buf, size_t cap)
{
        size_t len = 0;

        buf[0] = '\0';
        for (int i = 0; i < SYS_GUARDS; i++) {
                const struct sys_guard *g = &e->guard[i];
                const char *op = g->kind == G_ANYBIT ? "&"
                                 : g->kind == G_EQ32 ? "=="
                                 : g->kind == G_GT   ? ">"
                                 : g->kind == G_LOW4 ? "& 0xf =="
                                                     : "!=";
                if (g->kind == G_NONE)
                        continue;
                if (len >= cap - 1)
                        break; /* cut short rather than write past the end */
                len += (size_t)snprintf(buf + len, cap - len, "%sarg%d %s %#llx", i ? " || " : "", g->arg, op,
                                        (unsigned long long)g->value);
                if (len >= cap - 1)
                        break;
                if (g->mask2)
                        len += (size_t)snprintf(buf + len, cap - len, " && arg%d & %#llx", g->arg2,
                                                (unsigned long long)g->mask2);
        }
        return buf;
}

static const char *errname(int e)
{
        const char *n = e ? sys_errno_name(e) : NULL;
        return n ? n : "";
}

static void print_json(void)
{
        char gb[512], esc[1024];
        int first = 1;

        printf("[\n");
        for (int nr = 0; nr < SYS_TABLE_SIZE; nr++) {
                const struct sys_entry *e = sys_lookup(nr);
                if (!e)
                        continue;
                printf("%s  {\"nr\":%d,\"name\":\"%s\",\"args\":[", first ? "" : ",\n", nr, e->name);
                for (int i = 0; i < e->nargs; i++)
                        printf("%s\"%s\"", i ? "," : "", sys_arg_type_name(e->args[i]));
                audit_json_escape(esc, 0, sizeof(esc), e->note);
                printf("],\"disposition\":\"%s\",\"errno\":\"%s\",\"trapped_when\":\"%s\",\"note\":\"%s\"}",
                       sys_disposition_name(e->disposition), errname(e->err), guard_text(e, gb, sizeof(gb)),
                       esc);
                first = 0;
        }
        printf("\n]\n");
}

static void print_text(void)
{
        char gb[512];
        int counts[D_KILL + 1] = { 0 };

        printf("%-4s %-24s %-9s %-10s %s\n", "NR", "NAME", "HANDLING", "ERRNO", "NOTE");
        for (int nr = 0; nr < SYS_TABLE_SIZE; nr++) {
                const struct sys_entry *e = sys_lookup(nr);
                if (!e)
                        continue;
                counts[e->disposition]++;
                guard_text(e, gb, sizeof(gb));
                printf("%-4d %-24s %-9s %-10s %s", nr, e->name,
                       e->guard[0].kind ? "guarded" : sys_disposition_name(e->disposition), errname(e->err),
                       e->note);
                if (gb[0])
                        printf("%s[trapped when %s]", e->note[0] ? " " : "", gb);
                printf("\n");
        }
        printf("\n%d in the kernel, %d path (resolved and judged on the object), %d emulated, %d denied, %d "
               "not "
               "implemented.\n"
               "Any other number: ENOSYS, audited once. i386 and x32 calls: the process is killed.\n",
               counts[D_KERNEL], counts[D_PATH], counts[D_TRAP], counts[D_DENY], counts[D_ENOSYS]);
}

int verb_syscalls(int argc, char **argv)
{
        if (argc > 2 || (argc == 2 && strcmp(argv[1], "--json") != 0)) {
                fprintf(stderr, "usage: interpose syscalls [--json]\n");
                return 125;
        }
        if (argc == 2)
                print_json();
        else
                print_text();
        return 0;
}
