/* SPDX-License-Identifier: MIT */
/* The --trace decoder, driven by the table's argument types. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "guest.h"
#include "syscalls/decode.h"

/* A fake guest memory: addresses are offsets into this string table. */
static const char *const strings[] = { "", "/etc/passwd", "ls", "-l" };
static const uint64_t argv_words[] = { 2, 3, 0 };

static ssize_t fake_str(void *ctx, char *dst, uint64_t addr, size_t cap)
{
        if (addr == 0 || addr >= 4)
                return -14;
        snprintf(dst, cap, "%s", strings[addr]);
        return (ssize_t)strlen(dst);
}

static int fake_mem(void *ctx, void *dst, uint64_t addr, size_t n)
{
        if (addr < 0x1000 || (addr - 0x1000) / 8 >= 3)
                return -14;
        memcpy(dst, &argv_words[(addr - 0x1000) / 8], n);
        return 0;
}

static void expect(int nr, const uint64_t a0, const uint64_t a1, const uint64_t a2, const uint64_t a3,
                   const char *want)
{
        struct sys_reader rd = { fake_str, fake_mem, NULL };
        uint64_t args[6] = { a0, a1, a2, a3, 0, 0 };
        char buf[512];

        sys_format_call(sys_lookup(nr), nr, args, &rd, buf, sizeof(buf));
        CHECK(strcmp(buf, want) == 0, "got %s, want %s", buf, want);
}

int main(void)
{
        char buf[128];

        expect(SYS_kill, 1234, SIGTERM, 0, 0, "kill(1234, SIGTERM)");
        expect(SYS_openat, (uint64_t)(int64_t)AT_FDCWD, 1, O_RDONLY | O_CLOEXEC, 0,
               "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC, 00)");
        expect(SYS_execve, 1, 0x1000, 0x7ff0, 0, "execve(\"/etc/passwd\", [\"ls\", \"-l\"], 0x7ff0)");
        expect(SYS_uname, 0, 0, 0, 0, "uname(NULL)");
        expect(1000, 1, 2, 0, 0, "syscall_1000(0x1, 0x2, 0, 0, 0, 0)");
        expect(SYS_unshare, CLONE_NEWUSER | CLONE_NEWNET | 0x80, 0, 0, 0,
               "unshare(CLONE_NEWUSER|CLONE_NEWNET|CLONE_NEWTIME)");
        expect(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0,
               "clone(CLONE_NEWPID|SIGCHLD, NULL, NULL, NULL, NULL)");
        expect(SYS_clone, 1ULL << 40, 0, 0, 0, "clone(0x10000000000, NULL, NULL, NULL, NULL)");
        sys_format_result(-3, 0, buf, sizeof(buf));
        CHECK(strcmp(buf, "-1 ESRCH (No such process)") == 0, "result %s", buf);
        sys_format_result(0, 1, buf, sizeof(buf));
        CHECK(strcmp(buf, "? (kernel)") == 0, "continued %s", buf);
        printf("decode: %s\n", guest_failures ? "FAIL" : "ok");
        return guest_result();
}
