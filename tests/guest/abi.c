/* SPDX-License-Identifier: MIT */
/*
 * guest-abi CASE: foreign syscall ABIs (DESIGN.md invariant 1).
 *
 * A 64-bit process can still make i386 calls (int 0x80) and x32 calls
 * (nr | 0x40000000). Their numbers mean other calls, so a filter written
 * for x86_64 numbers would let them slip by: the sentry kills the caller.
 *
 * What the host does natively differs from kernel to kernel (int 0x80
 * works or gets SIGSEGV, x32 works or says ENOSYS), so the test asks:
 * run-guest runs "guest-abi probe" natively first and passes its answer in
 * GUEST_NATIVE ("int80=works x32=enosys"). Under interpose the caller must
 * die of SIGKILL wherever the kernel would have run the call, and must
 * never get an answer from the kernel.
 */
#include <signal.h>
#include <sys/wait.h>

#include "guest.h"

#define X32_BIT 0x40000000L

/* i386 getpid (20) through int 0x80; exits 0 when the kernel answered
 * with our pid. */
static void child_int80(void)
{
        long r;

        __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
        _exit(r == getpid() ? 0 : r == -ENOSYS ? 38 : 3);
}

/* x32 getpid (39 | X32_BIT); exits 0 when answered, 38 on ENOSYS. */
static void child_x32(void)
{
        long r;

        __asm__ volatile("syscall" : "=a"(r) : "a"(39L | X32_BIT) : "rcx", "r11", "memory");
        _exit(r == getpid() ? 0 : r == -ENOSYS ? 38 : 3);
}

/* Run fn in a child; describe how it ended. */
static const char *outcome(void (*fn)(void), char *buf, size_t cap)
{
        int status;
        pid_t pid = fork();

        if (pid == 0)
                fn();
        if (pid < 0 || waitpid(pid, &status, 0) != pid)
                exit(EXIT_HARD);
        if (WIFEXITED(status))
                snprintf(buf, cap, "%s",
                         WEXITSTATUS(status) == 0    ? "works"
                         : WEXITSTATUS(status) == 38 ? "enosys"
                                                     : "other");
        else
                snprintf(buf, cap, "%s",
                         WTERMSIG(status) == SIGKILL   ? "killed"
                         : WTERMSIG(status) == SIGSEGV ? "segv"
                                                       : "signal");
        return buf;
}

/* What the native probe said for key, or NULL. */
static const char *native_says(const char *key)
{
        static char val[32];
        const char *n = getenv("GUEST_NATIVE"), *p;
        size_t k = strlen(key);

        for (p = n; p && (p = strstr(p, key)); p++) {
                if ((p == n || p[-1] == ' ') && p[k] == '=') {
                        sscanf(p + k + 1, "%31s", val);
                        return val;
                }
        }
        return NULL;
}

static int check(const char *key, void (*fn)(void))
{
        char buf[32];
        const char *got = outcome(fn, buf, sizeof(buf)), *native;

        if (!guest_confined()) {
                NOTE("%s natively: %s", key, got);
                CHECK(strcmp(got, "other") && strcmp(got, "signal"), "%s natively: unexpected %s", key, got);
                return guest_result();
        }
        native = native_says(key);
        if (!native) {
                fprintf(stderr, "GUEST_NATIVE does not say what %s does natively\n", key);
                return EXIT_HARD;
        }
        NOTE("%s: natively %s, confined %s", key, native, got);
        /* A kernel that faults int 0x80 before any filter runs leaves
         * nothing to decide; anything it would have answered, we kill. */
        if (!strcmp(native, "segv"))
                CHECK(!strcmp(got, "segv") || !strcmp(got, "killed"), "%s: %s", key, got);
        else
                CHECK(!strcmp(got, "killed"), "%s: the call was not killed but %s", key, got);
        return guest_result();
}

int main(int argc, char **argv)
{
        const char *c = argc > 1 ? argv[1] : "";
        char a[32], b[32];

        setvbuf(stderr, NULL, _IONBF, 0);
        if (!strcmp(c, "probe")) {
                printf("int80=%s x32=%s\n", outcome(child_int80, a, sizeof(a)),
                       outcome(child_x32, b, sizeof(b)));
                return 0;
        }
        if (!strcmp(c, "int80"))
                return check("int80", child_int80);
        if (!strcmp(c, "x32"))
                return check("x32", child_x32);
        fprintf(stderr, "guest-abi: unknown case '%s'\n", c);
        return EXIT_HARD;
}
