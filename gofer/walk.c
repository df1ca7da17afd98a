/* SPDX-License-Identifier: MIT */
/* The component walk: see walk.h. */
#include "walk.h"
#include "../sentry/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "../sentry/util.h"

#define MAX_SYMLINKS 40 /* as the kernel's MAXSYMLINKS */

int walk_ctx_init(struct walk_ctx *ctx, pid_t tgid, pid_t tid)
{
        struct stat st;

        memset(ctx, 0, sizeof(*ctx));
        ctx->root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ctx->root < 0)
                return -errno;
        ctx->proc_dev = stat("/proc", &st) == 0 ? st.st_dev : (dev_t)-1;
        ctx->tgid = tgid;
        ctx->tid = tid;
        for (int i = 0; i < WALK_MAPS; i++)
                ctx->maps[i].fd = -1;
        return 0;
}

void walk_ctx_release(struct walk_ctx *ctx)
{
        if (ctx->root >= 0)
                close(ctx->root);
        ctx->root = -1;
}

static bool all_digits(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

/* Is fd (with st) on a procfs? Any instance counts, not only /proc. */
/* Devices already asked about: whether a file system is a procfs does not
 * change while it is mounted, and asking (fstatfs) costs a call per walk. */
#define FS_SEEN 64
static struct {
        dev_t dev;
        bool proc;
} fs_seen[FS_SEEN];
static unsigned fs_nseen;
static pthread_mutex_t fs_lock = PTHREAD_MUTEX_INITIALIZER;

static bool on_proc(const struct walk_ctx *ctx, int fd, const struct stat *st)
{
        struct statfs fs;
        bool proc;

        if (st->st_dev == ctx->proc_dev)
                return true;
        pthread_mutex_lock(&fs_lock);
        for (unsigned i = 0; i < fs_nseen; i++)
                if (fs_seen[i].dev == st->st_dev) {
                        proc = fs_seen[i].proc;
                        pthread_mutex_unlock(&fs_lock);
                        return proc;
                }
        pthread_mutex_unlock(&fs_lock);
        if (fstatfs(fd, &fs) < 0)
                return false;
        proc = fs.f_type == PROC_SUPER_MAGIC;
        pthread_mutex_lock(&fs_lock);
        if (fs_nseen < FS_SEEN)
                fs_seen[fs_nseen++] = (typeof(fs_seen[0])){ st->st_dev, proc };
        pthread_mutex_unlock(&fs_lock);
        return proc;
}

/* The root directory of a procfs (its inode is always PROC_ROOT_INO, 1). */
static bool proc_root(const struct walk_ctx *ctx, int fd, const struct stat *st)
{
        return st->st_ino == 1 && on_proc(ctx, fd, st);
}

/* The mapping of a host directory the session stands in for, or NULL. */
static const struct walk_map *map_of(const struct walk_ctx *ctx, const struct stat *st)
{
        if (!S_ISDIR(st->st_mode))
                return NULL;
        for (int i = 0; i < WALK_MAPS; i++)
                if (ctx->maps[i].fd >= 0 && st->st_dev == ctx->maps[i].dev && st->st_ino == ctx->maps[i].ino)
                        return &ctx->maps[i];
        return NULL;
}

static bool any_map(const struct walk_ctx *ctx)
{
        for (int i = 0; i < WALK_MAPS; i++)
                if (ctx->maps[i].fd >= 0)
                        return true;
        return false;
}

/* Might the walk of rest from start meet a mapped directory: it names one
 * (or has a ".."), or starts in one (a cwd there)? */
static bool may_meet_map(const struct walk_ctx *ctx, int start, const char *rest)
{
        struct stat st;

        if (!any_map(ctx))
                return false;
        if (strstr(rest, ".."))
                return true;
        for (int i = 0; i < WALK_MAPS; i++)
                if (ctx->maps[i].fd >= 0 && strstr(rest, ctx->maps[i].word))
                        return true;
        if (start != ctx->root && ctx->start_st)
                return map_of(ctx, ctx->start_st) != NULL;
        return fstat(start, &st) == 0 && map_of(ctx, &st);
}

/* The kernel's path of what a lookup with no symlink (openat2 refused any)
 * and no "." or ".." reached, when the start's own path is known (base: ""
 * for "/"): base and the names, slashes collapsed. The object was found by
 * exactly those names, so that is its path, without asking /proc for it
 * (d_path), which costs as much as the lookup. False when the path is not
 * of that kind. */
static bool lexical_path(const char *base, const char *path, char *out, size_t cap)
{
        size_t o;

        if (!base || (!base[0] && path[0] != '/'))
                return false;
        o = strlen(base);
        if (o == 1 && base[0] == '/')
                o = 0;
        if (o + 2 > cap)
                return false;
        memcpy(out, base, o);
        for (const char *p = path; *p;) {
                const char *end;
                size_t n;

                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                end = strchrnul(p, '/');
                n = (size_t)(end - p);
                if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                if (o + 1 + n + 1 > cap)
                        return false;
                out[o++] = '/';
                memcpy(out + o, p, n);
                o += n;
                p = end;
        }
        if (!o)
                out[o++] = '/';
        out[o] = '\0';
        return true;
}

/* Replace the remaining path by target + "/" + rest. */
static int substitute(char *rest, size_t cap, const char *target, const char *after)
{
        char tmp[PATH_MAX];
        int n = snprintf(tmp, sizeof(tmp), "%s%s%s", target, *after ? "/" : "", after);

        if (n < 0 || (size_t)n >= sizeof(tmp) || (size_t)n >= cap)
                return -ENAMETOOLONG;
        memcpy(rest, tmp, (size_t)n + 1);
        return 0;
}

/* Is the directory fd (or, with parent, the one holding fd) one whose
 * names are hidden? Then its path is in res->path, for the refusal's
 * record. */
static bool hidden_dir(const struct walk_ctx *ctx, int fd, bool parent, struct walk_result *res)
{
        char *slash = NULL;
        bool hidden = ctx->hides && fd_path(fd, res->path, sizeof(res->path)) == 0;

        /* A file's directory; "/" holds nothing hidden. */
        if (hidden && parent) {
                slash = strrchr(res->path, '/');
                hidden = slash && slash != res->path;
                if (hidden)
                        *slash = '\0';
        }
        if (hidden && ctx->hides(ctx->opaque, res->path))
                return true;
        res->path[0] = '\0';
        return false;
}

/* May a lookup of rest from start that found nothing have stopped in a
 * hidden directory? The fast path met no symlink, so the names as given
 * are where it went: only if their parent is hidden (or the path cannot
 * be told from the names) does the walk need to find out where. */
static bool hidden_below(const struct walk_ctx *ctx, int start, const char *rest)
{
        char lex[PATH_MAX], *slash;

        if (!lexical_path(start == ctx->root ? "" : ctx->start_path, rest, lex, sizeof(lex)))
                return true;
        slash = strrchr(lex, '/');
        if (!slash || slash == lex)
                return false;
        *slash = '\0';
        return ctx->hides(ctx->opaque, lex);
}

/* The mounts of our mount namespace (the guest's), by id, as
 * /proc/self/mountinfo lists them: read again when an id is not there. */
static struct {
        pthread_mutex_t lock;
        unsigned long long *ids;
        size_t n;
} own_mounts = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool own_mount_listed(unsigned long long id)
{
        for (size_t i = 0; i < own_mounts.n; i++)
                if (own_mounts.ids[i] == id)
                        return true;
        return false;
}

bool walk_own_mount(int fd)
{
        char info[64], buf[512], where[PATH_MAX];
        unsigned long long id;
        bool found;
        ssize_t n;
        int f;

        /* A pipe, a socket, a memfd, a namespace: on a mount of the
         * kernel's own that no namespace lists. */
        if (fd_path(fd, where, sizeof(where)) < 0 || where[0] != '/' || !strncmp(where, "/memfd:", 7))
                return true;
        /* fdinfo, not statx: the gofer's filter has no statx. */
        snprintf(info, sizeof(info), "/proc/self/fdinfo/%d", fd);
        if ((f = open(info, O_RDONLY | O_CLOEXEC)) < 0)
                return true; /* no /proc to ask: the walk's other checks hold */
        n = read(f, buf, sizeof(buf) - 1);
        close(f);
        buf[n > 0 ? n : 0] = '\0';
        const char *m = strstr(buf, "mnt_id:");
        if (!m || sscanf(m + 7, "%llu", &id) != 1)
                return true;
        pthread_mutex_lock(&own_mounts.lock);
        found = own_mount_listed(id);
        if (!found) {
                FILE *mi = fopen("/proc/self/mountinfo", "re");
                char line[4096];
                own_mounts.n = 0;
                while (mi && fgets(line, sizeof(line), mi)) {
                        unsigned long long one;
                        if (sscanf(line, "%llu", &one) != 1)
                                continue;
                        own_mounts.ids = xrealloc(own_mounts.ids, (own_mounts.n + 1) * sizeof(one));
                        own_mounts.ids[own_mounts.n++] = one;
                }
                if (mi)
                        fclose(mi);
                found = own_mount_listed(id);
        }
        pthread_mutex_unlock(&own_mounts.lock);
        return found;
}

/* Is the link comp of the fd directory cur an O_PATH fd (flags in
 * fdinfo) of an object with no path (a pipe, a socket, a memfd; obj is
 * that object)? The kernel makes O_PATH opens itself, after the sentry's
 * check and reading the path again, so a raced path gets such an fd of
 * another process's pipe or memfd (/proc/<outsider>/fd/N); reached
 * through this link it would be opened for real, and no path rule covers
 * it. A program has no other use for one. */
static bool path_fd_of_anon(int cur, const char *comp, int obj)
{
        char info[NAME_MAX + 16], buf[256], where[PATH_MAX];
        unsigned long flags = 0;
        ssize_t n;
        int fd;

        if (fd_path(obj, where, sizeof(where)) == 0 && where[0] == '/' && strncmp(where, "/memfd:", 7))
                return false; /* a path the policy judges */
        snprintf(info, sizeof(info), "../fdinfo/%s", comp);
        if ((fd = openat(cur, info, O_RDONLY | O_CLOEXEC)) < 0)
                return false; /* not an fd directory (cwd, exe, ns/...) */
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[n > 0 ? n : 0] = '\0';
        char *f = strstr(buf, "flags:");
        return f && sscanf(f + 6, "%lo", &flags) == 1 && (flags & O_PATH);
}

/* path (on a procfs) names /proc/<pid> or below: is that process the
 * caller or of its tree? Any other path is ours. */
static bool proc_pid_ours(const struct walk_ctx *ctx, const char *path, pid_t *tgid, struct walk_result *res)
{
        char *end;

        if (strncmp(path, "/proc/", 6) || path[6] < '0' || path[6] > '9')
                return true;
        pid_t pid = (pid_t)strtol(path + 6, &end, 10);
        if (*end != '/' && *end)
                return true;
        res->per_caller = true;
        if (!*tgid && ctx->get_tgid)
                *tgid = ctx->get_tgid(ctx->opaque);
        return pid == *tgid || (ctx->in_tree && ctx->in_tree(ctx->opaque, pid) == 1);
}

int walk(const struct walk_ctx *ctx, int dirfd, const char *path, unsigned flags, struct walk_result *res)
{
        char rest[PATH_MAX], comp[NAME_MAX + 1], target[PATH_MAX];
        _cleanup_close_ int cur = -1;
        bool trailing_slash;
        int links = 0, r;
        struct stat st, cst;
        bool in_proc_root;
        int start;
        pid_t tgid = ctx->tgid;
        size_t len = strlen(path);

        memset(res, 0, sizeof(*res));
        res->fd = -1;
        if (!len)
                return -ENOENT;
        if (len >= sizeof(rest))
                return -ENAMETOOLONG;
        memcpy(rest, path, len + 1);
        trailing_slash = path[len - 1] == '/';
        if (trailing_slash)
                flags |= WALK_DIRECTORY;
        start = rest[0] == '/' ? ctx->root : dirfd;

        /* Fast path: most paths have no symlink in them and stay out of
         * /proc. openat2 with RESOLVE_NO_SYMLINKS resolves them in one call
         * (".." included), and refuses any symlink, in which case the walk
         * below does it a component at a time. */
        if (!(flags & (WALK_CREATE | WALK_PARENT)) && !strstr(rest, "proc") &&
            !may_meet_map(ctx, start, rest)) {
                struct open_how how = {
                        .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                        .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
                };
                int fd = (int)syscall(SYS_openat2, start, rest, &how, sizeof(how));
                if (fd >= 0) {
                        struct stat fst;
                        /* A symlink at the end (O_NOFOLLOW opened the link
                         * itself) is the walk's to follow. */
                        if (fstat(fd, &fst) == 0 && !on_proc(ctx, fd, &fst) && !map_of(ctx, &fst) &&
                            (!S_ISLNK(fst.st_mode) || (flags & WALK_NOFOLLOW)) &&
                            (!(flags & WALK_DIRECTORY) || S_ISDIR(fst.st_mode)) &&
                            (lexical_path(start == ctx->root ? "" : ctx->start_path, rest, res->path,
                                          sizeof(res->path)) ||
                             fd_path(fd, res->path, sizeof(res->path)) == 0)) {
                                res->st = fst;
                                res->exists = true;
                                res->fd = fd;
                                return 0;
                        }
                        close(fd);
                } else if ((errno == ENOENT || errno == ENOTDIR) && ctx->hides &&
                           hidden_below(ctx, start, rest)) {
                        /* Not there, perhaps in a hidden directory: the
                         * walk below finds out where it stopped. */
                } else if (errno != ELOOP && errno != EXDEV && errno != ENOSYS && errno != EAGAIN) {
                        /* ENOENT, ENOTDIR, ENAMETOOLONG, EACCES: the walk
                         * would say the same. */
                        return -errno;
                }
        }

        /* The walk owns its current directory: a copy of where it starts. */
        cur = fcntl(start, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        for (;;) {
                char *p = rest, *end;
                bool last;
                size_t n;
                _cleanup_close_ int next = -1;

                while (*p == '/')
                        p++;
                if (!*p)
                        break; /* "/" or trailing slashes: cur is the object */
                end = strchrnul(p, '/');
                n = (size_t)(end - p);
                if (n > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(comp, p, n);
                comp[n] = '\0';
                while (*end == '/')
                        end++;
                memmove(rest, end, strlen(end) + 1);
                last = !rest[0];

                if (!strcmp(comp, "."))
                        continue;
                /* A name in the host's /tmp (/dev/shm) is looked up in the
                 * session's. */
                const struct walk_map *m;
                if (any_map(ctx) && strcmp(comp, "..") && fstat(cur, &cst) == 0 && (m = map_of(ctx, &cst))) {
                        char host[PATH_MAX];
                        snprintf(host, sizeof(host), "%s/%s", m->path, comp);
                        if (!ctx->keep_host || !ctx->keep_host(ctx->opaque, host)) {
                                res->mapped = true;
                                close(cur);
                                cur = fcntl(m->fd, F_DUPFD_CLOEXEC, 3);
                                if (cur < 0)
                                        return -errno;
                        }
                }
                if (last && (flags & WALK_PARENT) && strcmp(comp, "..")) {
                        snprintf(res->name, sizeof(res->name), "%s", comp);
                        goto done;
                }
                if (fstat(cur, &cst) < 0)
                        return -errno;
                if (!S_ISDIR(cst.st_mode))
                        return -ENOTDIR;
                in_proc_root = proc_root(ctx, cur, &cst);
                if (in_proc_root)
                        res->per_caller = true;
                /* The guest's /proc: self and thread-self are the caller,
                 * <pid> only for its tree. */
                if (in_proc_root && !tgid && ctx->get_tgid)
                        tgid = ctx->get_tgid(ctx->opaque);
                if (in_proc_root) {
                        if (!strcmp(comp, "self") || !strcmp(comp, "thread-self")) {
                                char sub[64];
                                if (!strcmp(comp, "self"))
                                        snprintf(sub, sizeof(sub), "%d", (int)tgid);
                                else
                                        snprintf(sub, sizeof(sub), "%d/task/%d", (int)tgid, (int)ctx->tid);
                                if (++links > MAX_SYMLINKS)
                                        return -ELOOP;
                                if (last && (flags & WALK_NOFOLLOW)) {
                                        /* lstat("/proc/self"): the link itself, which
                                         * is ours; fine to show, it is a symlink
                                         * in /proc with no content of its own. */
                                } else {
                                        r = substitute(rest, sizeof(rest), sub, rest);
                                        if (r < 0)
                                                return r;
                                        continue;
                                }
                        } else if (all_digits(comp)) {
                                pid_t pid = (pid_t)strtol(comp, NULL, 10);
                                if (pid != tgid && (!ctx->in_tree || ctx->in_tree(ctx->opaque, pid) != 1))
                                        return -ENOENT;
                        }
                }
                next = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0) {
                        int e = errno;
                        if (e == ENOENT && last && (flags & WALK_CREATE) && strcmp(comp, "..")) {
                                snprintf(res->name, sizeof(res->name), "%s", comp);
                                goto done;
                        }
                        if (e == ENOENT && hidden_dir(ctx, cur, false, res))
                                return -EACCES;
                        return -e;
                }
                if (fstat(next, &st) < 0)
                        return -errno;
                if (S_ISLNK(st.st_mode) && !(last && (flags & WALK_NOFOLLOW) && !(flags & WALK_DIRECTORY))) {
                        ssize_t tl;
                        if (on_proc(ctx, next, &st) && !in_proc_root) {
                                /* fd/N, cwd, root, exe, ns/, map_files/: a magic
                                 * link is an object, not a path: its text would
                                 * name something else. For a process of the
                                 * guest's tree, jump to the object itself (what /dev/stdin and <(...)
                                 * need), which is then judged like any other.
                                 * (The links in /proc itself, mounts ->
                                 * self/mounts, are plain text and are followed.) */
                                int obj;
                                char here[PATH_MAX];
                                res->per_caller = true;
                                if (last && (flags & WALK_NOFOLLOW) && !(flags & WALK_DIRECTORY))
                                        goto plain; /* lstat, readlink: the link */
                                /* The walk may have started in /proc/<pid>
                                 * (a dirfd, the cwd) of a process outside the
                                 * tree, which the check at /proc's root never
                                 * saw: the link is that process's, not ours. */
                                if (fd_path(cur, here, sizeof(here)) < 0 ||
                                    !proc_pid_ours(ctx, here, &tgid, res))
                                        return -ENOENT;
                                if (++links > MAX_SYMLINKS)
                                        return -ELOOP;
                                obj = openat(cur, comp, O_PATH | O_CLOEXEC);
                                if (obj < 0)
                                        return -errno;
                                if (path_fd_of_anon(cur, comp, obj)) {
                                        close(obj);
                                        return -ENXIO;
                                }
                                /* Nor one in another mount namespace (a
                                 * rootless container's root, which the kernel
                                 * reached for a raced O_PATH open): its names
                                 * are not the host's the policy judges. */
                                if (!walk_own_mount(obj)) {
                                        close(obj);
                                        return -EXDEV;
                                }
                                if (fstat(obj, &st) < 0 || (!last && !S_ISDIR(st.st_mode))) {
                                        close(obj);
                                        return -ENOTDIR;
                                }
                                close(next);
                                next = obj;
                                goto plain;
                        }
                        if (++links > MAX_SYMLINKS)
                                return -ELOOP;
                        tl = readlinkat(next, "", target, sizeof(target) - 1);
                        if (tl < 0)
                                return -errno;
                        if ((size_t)tl >= sizeof(target) - 1)
                                return -ENAMETOOLONG;
                        target[tl] = '\0';
                        if (!tl)
                                return -ENOENT;
                        r = substitute(rest, sizeof(rest), target, rest);
                        if (r < 0)
                                return r;
                        if (target[0] == '/') {
                                close(cur);
                                cur = fcntl(ctx->root, F_DUPFD_CLOEXEC, 3);
                                if (cur < 0)
                                        return -errno;
                        }
                        continue;
                }
        plain:
                /* A file in a hidden directory, walked through: not told
                 * from a name that is not there. */
                if (!last && !S_ISDIR(st.st_mode))
                        return hidden_dir(ctx, cur, false, res) ? -EACCES : -ENOTDIR;
                close(cur);
                cur = TAKE_FD(next);
                if (last) {
                        res->exists = true;
                        break;
                }
        }
        if (!res->name[0])
                res->exists = true;
done:
        if (fstat(cur, &res->st) < 0)
                return -errno;
        /* /tmp (/dev/shm) itself is the session's directory. */
        const struct walk_map *m = res->exists && !res->name[0] ? map_of(ctx, &res->st) : NULL;
        if (m) {
                close(cur);
                cur = fcntl(m->fd, F_DUPFD_CLOEXEC, 3);
                if (cur < 0 || fstat(cur, &res->st) < 0)
                        return -errno;
        }
        if ((flags & WALK_DIRECTORY) && res->exists && !res->name[0] && !S_ISDIR(res->st.st_mode)) {
                /* Nor a file there asked for as a directory (chdir, "name/"). */
                return hidden_dir(ctx, cur, true, res) ? -EACCES : -ENOTDIR;
        }
        r = fd_path(cur, res->path, sizeof(res->path));
        if (r < 0)
                return r;
        /* Whatever the walk started from (a dirfd or cwd already inside
         * /proc/<pid>, which no check at /proc's root saw), a process's
         * directory is there only for the guest's own tree. */
        if (on_proc(ctx, cur, &res->st) && !proc_pid_ours(ctx, res->path, &tgid, res))
                return -ENOENT;
        res->fd = TAKE_FD(cur);
        return 0;
}
