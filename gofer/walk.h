/* SPDX-License-Identifier: MIT */
/*
 * Path resolution for the guest, one component at a time (DESIGN.md
 * invariant 3: decide on the object, not the string).
 *
 * Each component is opened with O_PATH|O_NOFOLLOW relative to the directory
 * fd reached so far; symlinks are read and their text substituted, so the
 * walk sees every step and never trusts the guest's string. What it ends on
 * is an fd of the object itself, whose kernel path (d_path) and identity
 * (device, inode) the policy then judges.
 *
 * /proc is the guest's, not ours: /proc/self and /proc/thread-self mean the
 * calling guest thread, /proc/<pid> exists only for the guest's own tree,
 * and the magic links (fd/N, cwd, root, exe, map_files) are never followed
 * as paths.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

enum walk_flags {
        WALK_NOFOLLOW = 1 << 0, /* the last component may be a symlink: return the link itself */
        WALK_CREATE = 1 << 1,   /* the last component may not exist: return its parent and name */
        WALK_PARENT = 1 << 2,   /* return the parent and the last name, whatever is there */
        WALK_DIRECTORY = 1 << 3 /* the result must be a directory (a trailing '/') */
};

/* A host directory the guest sees as a directory of the session's. */
struct walk_map {
        int fd;    /* O_PATH of the session's directory; -1: no mapping */
        dev_t dev; /* the host directory it stands for */
        ino_t ino;
        const char *path; /* the host directory's path: "/tmp", "/dev/shm" */
        const char *word; /* its last component (a path without it cannot reach it by name) */
};
#define WALK_MAPS 2 /* /tmp, /dev/shm */

struct walk_ctx {
        int root;        /* O_PATH fd of the gofer's "/" */
        pid_t tgid, tid; /* the calling guest thread: /proc/self, /proc/thread-self */
        dev_t proc_dev;  /* st_dev of /proc, to know when the walk is in it */
        /* 1 when pid belongs to the guest's tree, else 0. */
        int (*in_tree)(void *opaque, pid_t pid);
        /* When tgid is 0: asked for it the first time /proc needs it
         * (finding a thread's process costs a /proc read). */
        pid_t (*get_tgid)(void *opaque);
        /* The guest's /tmp and /dev/shm: names in those host directories
         * are looked up in the session's private ones instead, unless
         * keep_host says the policy names that host path (a workspace
         * under /tmp). */
        struct walk_map maps[WALK_MAPS];
        bool (*keep_host)(void *opaque, const char *path);
        /* True for a directory whose names the guest may not tell apart
         * (a deny rule covers it): a lookup that fails there is refused
         * like one that succeeds, EACCES with the directory in the
         * result's path, not ENOENT. NULL: every ENOENT stays. */
        bool (*hides)(void *opaque, const char *dir);
        /* The kernel path of the dirfd a relative walk starts from, when
         * the caller knows it (it spares asking /proc for the result's); or
         * NULL. */
        const char *start_path;
        /* The stat of that dirfd when the caller has it, or NULL. */
        const struct stat *start_st;
        void *opaque;
};

struct walk_result {
        int fd;                  /* O_PATH, O_CLOEXEC: the object, or (CREATE, PARENT) its directory */
        bool exists;             /* CREATE: the last component exists (fd is the object) */
        char name[NAME_MAX + 1]; /* CREATE/PARENT without an object: the last component */
        char path[PATH_MAX];     /* the kernel's path of fd */
        struct stat st;          /* of fd */
        bool per_caller; /* went through /proc (self, a magic link): means something else for another thread */
        bool mapped;     /* a name in the host's /tmp was looked up in the session's instead */
};

/* Prepare ctx for a guest thread: opens "/" and finds /proc's device.
 * 0 or -errno. */
int walk_ctx_init(struct walk_ctx *ctx, pid_t tgid, pid_t tid);
void walk_ctx_release(struct walk_ctx *ctx);

/* Resolve path (absolute, or relative to dirfd: an O_PATH directory fd)
 * under ctx with flags. On success the caller owns res->fd. 0 or -errno
 * with the errno the kernel would give (ENOENT, ENOTDIR, ELOOP,
 * ENAMETOOLONG), or EACCES for a magic link. */
int walk(const struct walk_ctx *ctx, int dirfd, const char *path, unsigned flags, struct walk_result *res);

/* Is fd's object on a mount of our own mount namespace? The kernel makes
 * an O_PATH open and a chdir itself, reading the path again after the
 * check: a raced path reaches /proc/<pid>/root of any process of the same
 * user, a rootless container's files among them, whose names there are
 * not the host's. */
bool walk_own_mount(int fd);
