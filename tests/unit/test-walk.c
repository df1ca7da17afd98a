/* SPDX-License-Identifier: MIT */
/* The gofer's component walk: symlinks, "..", dirfds and /proc are decided
 * on what they reach. Runs on a scratch tree in /tmp. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gofer/walk.h"
#include "guest.h"

static char top[64];
static pid_t child;

static int child_only(void *opaque, pid_t pid)
{
        (void)opaque;
        return pid == child;
}

/* walk path (relative to top when dirfd is -2) and return the kernel path
 * of the result or the errno name. */
static const char *resolve(const struct walk_ctx *ctx, int dirfd, const char *path, unsigned flags)
{
        static char out[PATH_MAX + 64];
        struct walk_result res;
        int r = walk(ctx, dirfd, path, flags, &res);

        if (r < 0) {
                snprintf(out, sizeof(out), "%s", strerrorname_np(-r));
                return out;
        }
        if (res.name[0])
                snprintf(out, sizeof(out), "%s + %s", res.path, res.name);
        else
                snprintf(out, sizeof(out), "%s", res.path);
        close(res.fd);
        return out;
}

#define EXPECT(ctx, dirfd, path, flags, want)                                                          \
        do {                                                                                           \
                const char *got_ = resolve(ctx, dirfd, path, flags);                                   \
                CHECK(!strcmp(got_, want), "walk(%s, %s): got %s, want %s", #dirfd, path, got_, want); \
        } while (0)

/* Make top/rel as kind ("dir", "file", or a symlink to target). */
static void mk(const char *rel, const char *kind, const char *target)
{
        char path[256];

        snprintf(path, sizeof(path), "%s/%s", top, rel);
        if (!strcmp(kind, "dir"))
                mkdir(path, 0755);
        else if (!strcmp(kind, "file"))
                close(open(path, O_CREAT | O_WRONLY, 0644));
        else
                symlink(target, path);
}

int main(void)
{
        struct walk_ctx ctx = { .root = -1 };
        char p[512], want[512], q[512];
        int ws;

        snprintf(top, sizeof(top), "/tmp/interpose-walk-XXXXXX");
        if (!mkdtemp(top))
                return EXIT_HARD;
        mk("ws", "dir", NULL);
        mk("ws/src", "dir", NULL);
        mk("ws/src/a.c", "file", NULL);
        mk("secret", "dir", NULL);
        mk("secret/key", "file", NULL);
        snprintf(q, sizeof(q), "%s/secret/key", top);
        mk("ws/abs", "link", q);                    /* absolute symlink out */
        mk("ws/rel", "link", "../secret/key");      /* relative symlink out */
        mk("ws/dirlink", "link", "../secret");      /* to a directory */
        mk("ws/loop", "link", "loop");              /* ELOOP */
        mk("ws/dangling", "link", "../secret/new"); /* create through it */
        mk("ws/procself", "link", "/proc/self/status");

        child = fork();
        if (child == 0) {
                pause();
                _exit(0);
        }
        if (walk_ctx_init(&ctx, child, child) < 0)
                return EXIT_HARD;
        ctx.in_tree = child_only;
        snprintf(p, sizeof(p), "%s/ws", top);
        ws = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);

        /* Plain, dotted, and relative to a dirfd. */
        snprintf(want, sizeof(want), "%s/ws/src/a.c", top);
        EXPECT(&ctx, ws, "src/a.c", 0, want);
        EXPECT(&ctx, ws, "./src//./a.c", 0, want);
        EXPECT(&ctx, ws, "src/../src/a.c", 0, want);
        snprintf(p, sizeof(p), "%s/ws/src/a.c", top);
        EXPECT(&ctx, ws, p, 0, want);
        /* Out of the workspace, by "..", symlinks absolute and relative, a
         * symlinked directory: the result is the real object outside, which
         * the policy then judges. */
        snprintf(want, sizeof(want), "%s/secret/key", top);
        EXPECT(&ctx, ws, "../secret/key", 0, want);
        EXPECT(&ctx, ws, "abs", 0, want);
        EXPECT(&ctx, ws, "rel", 0, want);
        EXPECT(&ctx, ws, "dirlink/key", 0, want);
        EXPECT(&ctx, ws, "dirlink/../secret/key", 0, want);
        EXPECT(&ctx, ws, "../../../../../../..", 0, "/");
        /* NOFOLLOW gets the link; a trailing slash follows it anyway. */
        snprintf(want, sizeof(want), "%s/ws/rel", top);
        EXPECT(&ctx, ws, "rel", WALK_NOFOLLOW, want);
        snprintf(want, sizeof(want), "%s/secret", top);
        EXPECT(&ctx, ws, "dirlink/", WALK_NOFOLLOW, want);
        EXPECT(&ctx, ws, "src/a.c/", 0, "ENOTDIR");
        EXPECT(&ctx, ws, "src/a.c/x", 0, "ENOTDIR");
        EXPECT(&ctx, ws, "nope/x", 0, "ENOENT");
        EXPECT(&ctx, ws, "loop", 0, "ELOOP");
        EXPECT(&ctx, ws, "", 0, "ENOENT");
        /* Creating through a dangling symlink creates where it points. */
        snprintf(want, sizeof(want), "%s/secret + new", top);
        EXPECT(&ctx, ws, "dangling", WALK_CREATE, want);
        snprintf(want, sizeof(want), "%s/ws + fresh", top);
        EXPECT(&ctx, ws, "fresh", WALK_CREATE, want);
        snprintf(want, sizeof(want), "%s/ws + rel", top);
        EXPECT(&ctx, ws, "rel", WALK_PARENT, want);

        /* /proc is the guest's: self is the caller, other pids are absent,
         * magic links are not followed; the plain links of /proc are. */
        snprintf(want, sizeof(want), "/proc/%d/status", (int)child);
        EXPECT(&ctx, ws, "/proc/self/status", 0, want);
        EXPECT(&ctx, ws, "procself", 0, want);
        snprintf(want, sizeof(want), "/proc/%d/task/%d/status", (int)child, (int)child);
        EXPECT(&ctx, ws, "/proc/thread-self/status", 0, want);
        snprintf(want, sizeof(want), "/proc/%d/mounts", (int)child);
        EXPECT(&ctx, ws, "/proc/mounts", 0, want);
        EXPECT(&ctx, ws, "/proc/1/environ", 0, "ENOENT");
        snprintf(p, sizeof(p), "/proc/%d/environ", (int)getpid());
        EXPECT(&ctx, ws, p, 0, "ENOENT");
        snprintf(p, sizeof(p), "/proc/%d/../1/environ", (int)child);
        EXPECT(&ctx, ws, p, 0, "ENOENT");
        /* Magic links of the guest's own processes are objects: the walk
         * jumps to what they name (which the policy then judges). */
        EXPECT(&ctx, ws, "/proc/self/root/etc/passwd", 0, "/etc/passwd");
        if (!getcwd(p, sizeof(p)))
                return EXIT_HARD;
        EXPECT(&ctx, ws, "/proc/self/cwd", 0, p);
        snprintf(q, sizeof(q), "/proc/%d/fd/0", (int)child);
        ssize_t n = readlink(q, want, sizeof(want) - 1);
        want[n > 0 ? n : 0] = '\0';
        EXPECT(&ctx, ws, "/proc/self/fd/0", 0, want);
        EXPECT(&ctx, ws, "/dev/stdin", 0, want);
        snprintf(q, sizeof(q), "/proc/%d/exe", (int)child);
        n = readlink(q, want, sizeof(want) - 1);
        want[n > 0 ? n : 0] = '\0';
        EXPECT(&ctx, ws, "/proc/self/exe", 0, want);
        /* ...but not of anyone else's. */
        EXPECT(&ctx, ws, "/proc/1/root/etc/passwd", 0, "ENOENT");
        snprintf(want, sizeof(want), "/proc/%d/exe", (int)child);
        EXPECT(&ctx, ws, "/proc/self/exe", WALK_NOFOLLOW, want);
        EXPECT(&ctx, ws, "/proc/cpuinfo", 0, "/proc/cpuinfo");

        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        close(ws);
        walk_ctx_release(&ctx);
        snprintf(p, sizeof(p), "rm -rf %s", top);
        if (system(p) != 0)
                return EXIT_HARD;
        printf("walk: %s\n", guest_failures ? "FAIL" : "ok");
        return guest_result();
}
