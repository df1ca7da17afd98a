/* SPDX-License-Identifier: MIT */
/*
 * The gofer: the one process that turns guest paths into host objects. It
 * is started with every session, before the guest, with the policy; it
 * confines itself and answers on its socket. The launcher treats its death
 * like the sentry's (fail closed).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "../sentry/sentry.h"
#include "../sentry/util.h"
#include "../syscalls/filter.h"
#include "gofer.h"
#include "walk.h"

static int gofer_confine(void)
{
        return sys_own_filter_load(OWN_GOFER);
}

/* Landlock (where the kernel has it): the gofer opens O_PATH fds, stats
 * and reads links, none of which Landlock governs; it never needs to read,
 * write, list or execute a file, except /proc, where it checks process
 * ancestry. So every filesystem right is handled and none granted but
 * reading /proc; and, from ABI 6, it may not signal or reach abstract
 * sockets outside itself. 0, or -errno; no Landlock is not an error. */
static int gofer_landlock(void)
{
        struct {
                uint64_t fs, net, scoped;
        } attr = { 0 };
        struct {
                uint64_t allowed;
                int32_t parent_fd;
        } __attribute__((packed)) beneath;
        long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1U /* VERSION */);
        size_t size = 8;
        int ruleset, r;

        if (abi < 1)
                return 0;
        attr.fs = (1ULL << 13) - 1; /* ABI 1: execute .. make_sym */
        if (abi >= 2)
                attr.fs |= 1ULL << 13; /* refer */
        if (abi >= 3)
                attr.fs |= 1ULL << 14; /* truncate */
        if (abi >= 5)
                attr.fs |= 1ULL << 15; /* ioctl_dev */
        if (abi >= 4)
                attr.net = 3, size = 16; /* bind_tcp, connect_tcp */
        if (abi >= 6)
                attr.scoped = 3, size = 24; /* abstract unix sockets, signals */
        ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
        if (ruleset < 0)
                return -errno;
        beneath.allowed = (1ULL << 2) | (1ULL << 3); /* read_file, read_dir */
        beneath.parent_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        r = beneath.parent_fd < 0 ? -errno : 0;
        if (r == 0 && syscall(SYS_landlock_add_rule, ruleset, 1 /* PATH_BENEATH */, &beneath, 0) < 0)
                r = -errno;
        if (beneath.parent_fd >= 0)
                close(beneath.parent_fd);
        if (r == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
                r = -errno;
        close(ruleset);
        return r;
}

/* Receive one request and the fd that may come with it. */
static ssize_t recv_req(int sock, struct gofer_req *req, int *fd)
{
        ssize_t n = recv_with_fd(sock, req, sizeof(*req), fd);

        if (n < 0)
                errno = (int)-n; /* the caller tells EINTR apart */
        return n < 0 ? -1 : n;
}

static int send_resp(int sock, const struct gofer_resp *resp, int fd)
{
        return send_with_fd(sock, resp, sizeof(*resp), fd) == (ssize_t)sizeof(*resp) ? 0 : -EPIPE;
}

struct gofer {
        const struct policy *policy;
        pid_t sentry;
};

static int in_tree(void *opaque, pid_t pid)
{
        struct gofer *g = opaque;
        return g->sentry > 0 && sentry_descends_from(pid, g->sentry) == 1;
}

static void do_walk(struct gofer *g, const struct gofer_req *req, int dirfd, struct gofer_resp *resp, int *fd)
{
        struct walk_ctx ctx;
        struct walk_result res;
        const struct policy_rule *rule = NULL;
        char path[PATH_MAX];
        int r;

        memcpy(path, req->path, sizeof(path));
        path[sizeof(path) - 1] = '\0';
        /* Only the sentry asks (the service socket is its alone), for the
         * thread whose call it holds, which its filter proves is a guest
         * thread: no need to walk /proc for that on every call. */
        if (req->tid <= 0 || req->tgid <= 0) {
                resp->result = -ESRCH;
                return;
        }
        r = walk_ctx_init(&ctx, req->tgid, req->tid);
        if (r < 0) {
                resp->result = r;
                return;
        }
        ctx.in_tree = in_tree;
        ctx.opaque = g;
        if (path[0] != '/' && dirfd < 0)
                r = -EBADF;
        else
                r = walk(&ctx, dirfd, path, req->flags, &res);
        walk_ctx_release(&ctx);
        if (r < 0) {
                resp->result = r;
                return;
        }
        resp->exists = res.exists;
        snprintf(resp->name, sizeof(resp->name), "%s", res.name);
        snprintf(resp->path, sizeof(resp->path), "%s", res.path);
        resp->st = res.st;
        resp->rights = g->policy ? policy_judge(g->policy, res.path, &res.st, &rule) : 0;
        snprintf(resp->rule, sizeof(resp->rule), "%s", rule ? rule->origin : "");
        *fd = res.fd;
}

/* Answer one request on sock; 1 when the peer hung up, 0, or -errno. The
 * control socket (the launcher's) may say who the sentry is; only the
 * sentry's socket may ask for walks. */
static int serve_one(struct gofer *g, int sock, bool control)
{
        struct gofer_req req;
        struct gofer_resp resp;
        int in = -1, out = -1, r;
        ssize_t n = recv_req(sock, &req, &in);

        if (n == 0)
                return 1;
        if (n != sizeof(req)) {
                if (in >= 0)
                        close(in);
                return n < 0 && errno == EINTR ? 0 : -EBADMSG;
        }
        memset(&resp, 0, sizeof(resp));
        switch (req.op) {
        case GOFER_PING:
                break;
        case GOFER_HELLO:
                /* Once, from the launcher: nobody else says who the sentry is. */
                if (!control || g->sentry)
                        resp.result = -EPERM;
                else
                        g->sentry = req.tgid;
                break;
        case GOFER_WALK:
                if (control)
                        resp.result = -EPERM;
                else
                        do_walk(g, &req, in, &resp, &out);
                break;
        default:
                resp.result = -EOPNOTSUPP;
                break;
        }
        if (in >= 0)
                close(in);
        r = send_resp(sock, &resp, out);
        if (out >= 0)
                close(out);
        return r;
}

/* Serve both sockets until the launcher closes its own. */
static int gofer_serve(struct gofer *g, int control, int service)
{
        struct pollfd p[2] = { { control, POLLIN, 0 }, { service, POLLIN, 0 } };

        for (;;) {
                int r;

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[0].revents) {
                        r = serve_one(g, control, true);
                        if (r != 0)
                                return r < 0 ? r : 0;
                }
                if (p[1].revents) {
                        r = serve_one(g, service, false);
                        if (r < 0)
                                return r;
                        if (r == 1)
                                p[1].fd = -1; /* the sentry is gone; the launcher ends us */
                }
        }
}

pid_t gofer_spawn(const struct policy *policy, int *ret_control, int *ret_service)
{
        int ctl[2], svc[2];
        pid_t pid;
        sigset_t none;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0)
                return -errno;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, svc) < 0) {
                int e = errno;
                close(ctl[0]);
                close(ctl[1]);
                return -e;
        }
        pid = fork();
        if (pid < 0) {
                int e = errno;
                close(ctl[0]);
                close(ctl[1]);
                close(svc[0]);
                close(svc[1]);
                return -e;
        }
        if (pid == 0) {
                struct gofer g = { .policy = policy };
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                prctl(PR_SET_DUMPABLE, 0);
                /* Signals to the job (^C, a `timeout` or `kill` of the
                 * process group) are for the guest, which the launcher
                 * forwards them to; the gofer ends when the launcher closes
                 * its socket, or dies with it (SIGKILL, which no mask stops). */
                sigfillset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                if (dup2(ctl[1], 3) < 0 || dup2(svc[1], 4) < 0)
                        _exit(125);
                syscall(SYS_close_range, 5, ~0U, 0);
                interpose_crash_handlers("gofer", -1, NULL);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || gofer_landlock() < 0 || gofer_confine() < 0)
                        _exit(125);
                _exit(gofer_serve(&g, 3, 4) < 0 ? 125 : 0);
        }
        close(ctl[1]);
        close(svc[1]);
        *ret_control = ctl[0];
        *ret_service = svc[0];
        return pid;
}

static int round_trip(int sock, const struct gofer_req *req, int dirfd, struct gofer_resp *resp, int *ret_fd)
{
        *ret_fd = -1;
        /* A gone gofer fails the call, never passes it. */
        if (send_with_fd(sock, req, sizeof(*req), dirfd) != (ssize_t)sizeof(*req))
                return -EIO;
        if (recv_with_fd(sock, resp, sizeof(*resp), ret_fd) != (ssize_t)sizeof(*resp)) {
                if (*ret_fd >= 0)
                        close(*ret_fd);
                *ret_fd = -1;
                return -EIO;
        }
        return resp->result;
}

int gofer_ping(int sock)
{
        struct gofer_req req = { .op = GOFER_PING };
        struct gofer_resp resp;
        int fd;

        return round_trip(sock, &req, -1, &resp, &fd);
}

int gofer_hello(int sock, pid_t sentry)
{
        struct gofer_req req = { .op = GOFER_HELLO, .tgid = sentry };
        struct gofer_resp resp;
        int fd;

        return round_trip(sock, &req, -1, &resp, &fd);
}

int gofer_walk(int sock, pid_t tgid, pid_t tid, int dirfd, const char *path, unsigned flags,
               struct gofer_resp *resp, int *ret_fd)
{
        struct gofer_req req = {
                .op = GOFER_WALK, .flags = flags, .tgid = tgid, .tid = tid, .dirfd = dirfd >= 0
        };
        size_t n = strlen(path);
        int r;

        *ret_fd = -1;
        if (n >= sizeof(req.path))
                return -ENAMETOOLONG;
        memcpy(req.path, path, n + 1);
        r = round_trip(sock, &req, dirfd, resp, ret_fd);
        if (r < 0 && *ret_fd >= 0) {
                close(*ret_fd);
                *ret_fd = -1;
        }
        return r;
}
