/* SPDX-License-Identifier: MIT */
/*
 * The gofer process and its wire protocol: one request, one answer, on a
 * SOCK_SEQPACKET socket; fds travel as SCM_RIGHTS.
 *
 *   GOFER_PING   liveness
 *   GOFER_HELLO  the sentry's pid: the guest's tree is what descends from it
 *   GOFER_WALK   resolve a guest path (absolute, or relative to the dirfd
 *                that comes with the request) for a guest thread, and judge
 *                the object reached against the policy: the answer carries
 *                the rights granted, the deciding rule, the object's kernel
 *                path and stat, and an O_PATH fd of it (or of its parent,
 *                for a name that does not exist yet).
 */
#pragma once

#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct policy;

enum gofer_op {
        GOFER_PING = 1,
        GOFER_HELLO = 2,
        GOFER_WALK = 3,
};

struct gofer_req {
        uint32_t op;
        uint32_t flags;    /* WALK_*, for GOFER_WALK */
        int32_t tgid, tid; /* GOFER_WALK: the guest thread; GOFER_HELLO: tgid is the sentry */
        uint32_t dirfd;    /* an fd comes with the request (relative paths start there) */
        char path[PATH_MAX];
};

struct gofer_resp {
        int32_t result;  /* 0 or -errno */
        uint32_t rights; /* PR_* granted on the object, or on the parent when !exists */
        uint32_t exists; /* the object exists: the fd is it, not its parent */
        char name[NAME_MAX + 1];
        char path[PATH_MAX];
        char rule[128]; /* the deciding rule's origin, "" when none matched */
        struct stat st;
};

/* Start the gofer, with the policy it enforces. Returns its pid, or
 * -errno, and two sockets: *ret_control for the launcher (HELLO, PING; its
 * closing ends the gofer) and *ret_service for the sentry (WALK, PING). */
pid_t gofer_spawn(const struct policy *policy, int *ret_control, int *ret_service);

/* Round trip to the gofer: 0 or -errno. */
int gofer_ping(int sock);

/* Tell the gofer the sentry's pid. 0 or -errno. */
int gofer_hello(int sock, pid_t sentry);

/* Ask for a walk. dirfd may be -1 for absolute paths. On success *ret_fd
 * is the O_PATH fd (the caller owns it) and resp is filled. 0 or -errno;
 * -EIO when the gofer is gone (never a pass). */
int gofer_walk(int sock, pid_t tgid, pid_t tid, int dirfd, const char *path, unsigned flags,
               struct gofer_resp *resp, int *ret_fd);
