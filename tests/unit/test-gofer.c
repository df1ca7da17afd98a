/* SPDX-License-Identifier: MIT */
/* The gofer process: walks for a guest thread, judged by the policy on
 * the object reached; a dead gofer fails the call. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gofer/gofer.h"
#include "gofer/walk.h"
#include "guest.h"
#include "policy/policy.h"

static char top[64], ws[128], home[128];
static int sock, control;
static pid_t guest;

static void mk(const char *path, const char *link_to)
{
        if (link_to) {
                if (symlink(link_to, path) < 0)
                        exit(EXIT_HARD);
        } else if (path[strlen(path) - 1] == '/') {
                if (mkdir(path, 0755) < 0)
                        exit(EXIT_HARD);
        } else {
                close(open(path, O_CREAT | O_WRONLY, 0644));
        }
}

/* Walk for the guest; "rights rule path" or the errno name. */
static const char *ask(int dirfd, const char *path, unsigned flags, pid_t tid)
{
        static char out[PATH_MAX + 256];
        struct gofer_resp resp;
        char rights[64];
        int fd, r = gofer_walk(sock, tid, tid, dirfd, path, flags, &resp, &fd);

        if (r < 0) {
                snprintf(out, sizeof(out), "%s", strerrorname_np(-r));
                return out;
        }
        snprintf(out, sizeof(out), "%s [%s] %s%s%s", policy_rights_str(resp.rights, rights, sizeof(rights)),
                 resp.rule, resp.path, resp.exists ? "" : " + ", resp.exists ? "" : resp.name);
        CHECK(fd >= 0, "no fd with the answer for %s", path);
        close(fd);
        return out;
}

#define EXPECT(dirfd, path, flags, want)                                                     \
        do {                                                                                 \
                const char *got_ = ask(dirfd, path, flags, guest);                           \
                CHECK(!strcmp(got_, want), "%s:\n   got  %s\n   want %s", path, got_, want); \
        } while (0)

int main(void)
{
        struct policy p;
        struct policy_error err;
        char path[512], want[768], secret[256];
        pid_t gofer;
        int wsfd, status;

        snprintf(top, sizeof(top), "/tmp/interpose-gofer-XXXXXX");
        if (!mkdtemp(top))
                return EXIT_HARD;
        snprintf(ws, sizeof(ws), "%s/ws", top);
        snprintf(home, sizeof(home), "%s/home", top);
        snprintf(path, sizeof(path), "%s/", ws), mk(path, NULL);
        snprintf(path, sizeof(path), "%s/", home), mk(path, NULL);
        snprintf(path, sizeof(path), "%s/.ssh/", home), mk(path, NULL);
        snprintf(secret, sizeof(secret), "%s/.ssh/id_ed25519", home), mk(secret, NULL);
        snprintf(path, sizeof(path), "%s/main.c", ws), mk(path, NULL);
        snprintf(path, sizeof(path), "%s/key", ws), mk(path, secret);
        snprintf(path, sizeof(path), "%s/hard", ws);
        if (link(secret, path) < 0)
                return EXIT_HARD;

        policy_init(&p);
        if (policy_profile(&p, "agent", home, ws, NULL, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                return EXIT_HARD;
        }
        gofer = gofer_spawn(&p, &control, &sock);
        CHECK(gofer > 0, "gofer_spawn: %d", gofer);
        CHECK(gofer_ping(sock) == 0, "ping");
        /* We stand for the sentry: the guest is our child. */
        guest = fork();
        if (guest == 0) {
                pause();
                _exit(0);
        }
        CHECK(gofer_hello(sock, getpid()) == -EPERM, "hello on the sentry's socket must be refused");
        CHECK(gofer_hello(control, getpid()) == 0, "hello");
        CHECK(gofer_hello(control, 1) == -EPERM, "a second hello must be refused");
        CHECK(gofer_walk(control, guest, guest, -1, "/etc/passwd", 0, &(struct gofer_resp){ 0 },
                         &(int){ -1 }) == -EPERM,
              "walks on the control socket must be refused");
        wsfd = open(ws, O_PATH | O_DIRECTORY | O_CLOEXEC);

        snprintf(want, sizeof(want), "all [profile agent] %s/main.c", ws);
        EXPECT(wsfd, "main.c", 0, want);
        snprintf(path, sizeof(path), "%s/main.c", ws);
        EXPECT(-1, path, 0, want);
        snprintf(want, sizeof(want), "all [profile agent] %s + new.c", ws);
        EXPECT(wsfd, "new.c", WALK_CREATE, want);
        /* A symlink in the workspace to a credential, and a hard link to it:
         * judged on the object, denied by the profile. */
        snprintf(want, sizeof(want), "- [profile agent] %s", secret);
        EXPECT(wsfd, "key", 0, want);
        snprintf(want, sizeof(want), "- [profile agent] %s/hard", ws);
        EXPECT(wsfd, "hard", 0, want);
        snprintf(want, sizeof(want), "- [profile agent] %s", secret);
        EXPECT(wsfd, "../home/.ssh/id_ed25519", 0, want);
        /* /proc: the guest's own, read-only; others absent. */
        snprintf(want, sizeof(want), "read,list [profile agent] /proc/%d/status", (int)guest);
        EXPECT(-1, "/proc/self/status", 0, want);
        EXPECT(-1, "/proc/1/status", 0, "ENOENT");
        EXPECT(-1, "/etc/shadow", 0, "- [profile agent] /etc/shadow");
        EXPECT(-1, "/usr/bin/env", 0, "read,exec,list [profile agent] /usr/bin/env");
        /* Relative without a dirfd is EBADF. (Which thread asks is the
         * sentry's word: only it holds the service socket.) */
        EXPECT(-1, "main.c", 0, "EBADF");

        /* A dead gofer: the call fails with EIO, it is never let through. */
        kill(gofer, SIGKILL);
        waitpid(gofer, &status, 0);
        EXPECT(wsfd, "main.c", 0, "EIO");

        kill(guest, SIGKILL);
        waitpid(guest, NULL, 0);
        close(wsfd);
        policy_free(&p);
        snprintf(path, sizeof(path), "rm -rf %s", top);
        if (system(path) != 0)
                return EXIT_HARD;
        printf("gofer: %s\n", guest_failures ? "FAIL" : "ok");
        return guest_result();
}
