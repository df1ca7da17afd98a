/* SPDX-License-Identifier: MIT */
/* Rules, profiles and decisions; the file format is in load.c. */
#include "policy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../sentry/util.h"

static const struct {
        unsigned bit;
        const char *name;
} right_names[] = {
        { PR_READ, "read" },     { PR_WRITE, "write" }, { PR_CREATE, "create" },
        { PR_DELETE, "delete" }, { PR_EXEC, "exec" },   { PR_LIST, "list" },
};

const char *policy_rights_str(unsigned rights, char *buf, size_t cap)
{
        size_t len = 0;

        buf[0] = '\0';
        if (rights == PR_ALL) {
                snprintf(buf, cap, "all");
                return buf;
        }
        for (size_t i = 0; i < ARRAY_SIZE(right_names); i++)
                if (rights & right_names[i].bit)
                        len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s%s", len ? "," : "",
                                                right_names[i].name);
        if (!len)
                snprintf(buf, cap, "-");
        return buf;
}

unsigned policy_right_by_name(const char *name)
{
        if (!strcmp(name, "all"))
                return PR_ALL;
        for (size_t i = 0; i < ARRAY_SIZE(right_names); i++)
                if (!strcmp(name, right_names[i].name))
                        return right_names[i].bit;
        return 0;
}

void policy_init(struct policy *p)
{
        memset(p, 0, sizeof(*p));
        net_policy_init(&p->net);
}

void policy_free(struct policy *p)
{
        for (size_t i = 0; i < p->n; i++) {
                free(p->rules[i].path);
                free(p->rules[i].origin);
                free(p->rules[i].pins);
        }
        free(p->rules);
        free(p->profile);
        free(p->home);
        free(p->workspace);
        free(p->tmpdir);
        free(p->shmdir);
        net_policy_free(&p->net);
        for (size_t i = 0; i < p->n_env_allow; i++)
                free(p->env_allow[i]);
        for (size_t i = 0; i < p->n_env_set; i++)
                free(p->env_set[i]);
        for (size_t i = 0; i < p->n_secrets; i++)
                free(p->secrets[i]);
        free(p->env_allow);
        free(p->env_set);
        free(p->secrets);
        policy_init(p);
}

static void set_err(struct policy_error *err, const char *fmt, ...)
{
        va_list ap;

        if (!err)
                return;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
}

/* The real path of the directory the last rule was in, kept while a
 * profile adds rules below it (it names many files in /etc, /dev and ~):
 * resolved once, then each name in it costs one readlinkat instead of an
 * open, a readlink and a close. */
struct canon_dir {
        int fd;
        char dir[PATH_MAX];  /* as the rules name it */
        char real[PATH_MAX]; /* where it is */
};

static void canon_dir_release(struct canon_dir *cd)
{
        if (cd->fd >= 0)
                close(cd->fd);
        cd->fd = -1;
}

/* Where path really is, in out (PATH_MAX), or NULL when it cannot be
 * resolved; *missing when nothing is there, *is_link when path's last
 * component is a symlink (the name itself, before it is followed). A name not yet there in a
 * directory that is counts as that directory's real path and the name: a
 * rule for ~/.aws holds when it is made later, home a symlink or not. A
 * symlink is resolved whole: the kernel's own name for what an O_PATH open
 * reached (realpath(3) would readlink every component); where /proc does
 * not answer, realpath. */
static char *canonical(const char *path, char *out, struct canon_dir *cd, bool *missing, bool *is_link)
{
        const char *slash = strrchr(path, '/');
        char target[1];
        struct stat st;
        int fd, r;

        *missing = false;
        *is_link = false;
        if (slash && slash[1] && (size_t)(slash - path) < sizeof(cd->dir)) {
                size_t dl = slash == path ? 1 : (size_t)(slash - path); /* "/" for /usr */
                if (cd->fd < 0 || strncmp(cd->dir, path, dl) || cd->dir[dl]) {
                        canon_dir_release(cd);
                        memcpy(cd->dir, path, dl);
                        cd->dir[dl] = '\0';
                        cd->fd = open(cd->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (cd->fd >= 0 &&
                            (fd_path(cd->fd, cd->real, sizeof(cd->real)) < 0 || cd->real[0] != '/'))
                                canon_dir_release(cd);
                }
                /* Not a symlink (EINVAL), or not there: the directory's
                 * real path and the name. A symlink: resolved whole. */
                if (cd->fd >= 0) {
                        if (readlinkat(cd->fd, slash + 1, target, sizeof(target)) >= 0) {
                                *is_link = true;
                        } else if ((errno == EINVAL || errno == ENOENT) &&
                                   strlen(cd->real) + strlen(slash) < PATH_MAX) {
                                *missing = errno == ENOENT;
                                snprintf(out, PATH_MAX, "%s%s", strcmp(cd->real, "/") ? cd->real : "", slash);
                                return out;
                        }
                }
        } else {
                *is_link = lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
        }
        fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0) {
                *missing = errno == ENOENT;
                return NULL;
        }
        r = fd_path(fd, out, PATH_MAX);
        close(fd);
        if (r < 0 || out[0] != '/')
                return realpath(path, out);
        return out;
}

/* Normalise an absolute path in place: no "//", no "." and ".." resolved
 * textually (rule paths are configuration, not guest input). */
static void normalise(char *path)
{
        char *out = path, *in = path;

        while (*in) {
                while (*in == '/')
                        in++;
                if (!*in)
                        break;
                char *end = strchrnul(in, '/');
                size_t n = (size_t)(end - in);
                if (n == 1 && in[0] == '.') {
                        /* skip */
                } else if (n == 2 && in[0] == '.' && in[1] == '.') {
                        while (out > path && *--out != '/')
                                ;
                } else {
                        *out++ = '/';
                        memmove(out, in, n);
                        out += n;
                }
                in = end;
        }
        if (out == path)
                *out++ = '/';
        *out = '\0';
}

static bool has_glob(const char *s)
{
        return strpbrk(s, "*?[") != NULL;
}

#define PIN_SCAN_MAX 4096 /* entries looked at below one deny rule */
#define PIN_DEPTH_MAX 6

static void pin(struct policy_rule *r, const struct stat *st)
{
        r->pins = xrealloc(r->pins, (r->npins + 1) * sizeof(*r->pins));
        r->pins[r->npins++] = (struct policy_pin){ st->st_dev, st->st_ino };
}

/* Pin the files below a denied directory that have other names (st_nlink
 * > 1): those names may be anywhere, and must be denied too. Bounded: a
 * credential store is small; a huge denied tree is pinned in part. */
static void pin_below(struct policy_rule *r, const char *dir, int depth, int *budget)
{
        DIR *d = depth < PIN_DEPTH_MAX ? opendir(dir) : NULL;
        struct dirent *de;
        char path[PATH_MAX];
        struct stat st;

        if (!d)
                return;
        while ((de = readdir(d)) && --*budget > 0) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path) ||
                    lstat(path, &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode))
                        pin_below(r, path, depth + 1, budget);
                else if (!S_ISLNK(st.st_mode) && st.st_nlink > 1)
                        pin(r, &st);
        }
        closedir(d);
}

static int add_rule(struct policy *p, const char *path, unsigned allow, unsigned deny, const char *origin,
                    bool relative_ok, struct policy_error *err, struct canon_dir *cd)
{
        char buf[PATH_MAX], real[PATH_MAX], named[PATH_MAX] = "";
        struct policy_rule *r;
        struct stat st;
        bool glob, missing = false, is_link = false;
        int n;

        if (!path || !*path) {
                set_err(err, "%s: empty path", origin);
                return -EINVAL;
        }
        if (!strncmp(path, "**/", 3)) {
                /* A pattern that applies in every directory. */
                n = snprintf(buf, sizeof(buf), "%s", path);
        } else if (path[0] == '~' && (path[1] == '/' || !path[1])) {
                if (!p->home) {
                        set_err(err, "%s: %s: no home directory to expand ~ against (set HOME)", origin,
                                path);
                        return -EINVAL;
                }
                n = snprintf(buf, sizeof(buf), "%s/%s", p->home, path[1] ? path + 2 : "");
        } else if (path[0] == '/') {
                n = snprintf(buf, sizeof(buf), "%s", path);
        } else if (relative_ok && p->workspace) {
                n = snprintf(buf, sizeof(buf), "%s/%s", p->workspace, path);
        } else {
                set_err(err, "%s: %s: give an absolute path (or one starting with ~/)", origin, path);
                return -EINVAL;
        }
        if (n < 0 || (size_t)n >= sizeof(buf)) {
                set_err(err, "%s: path too long", origin);
                return -ENAMETOOLONG;
        }
        bool exact = allow & PR_EXACT, link = allow & PR_LINK, scan = !(allow & PR_NOSCAN),
             asked = allow & PR_ASKED;

        allow &= ~(PR_EXACT | PR_LINK | PR_NOSCAN | PR_ASKED);
        if ((allow & ~PR_ALL) || (deny & ~PR_ALL)) {
                set_err(err, "%s: unknown rights", origin);
                return -EINVAL;
        }
        if (allow & deny) {
                char a[64];
                set_err(err, "%s: %s: %s both allowed and denied", origin, path,
                        policy_rights_str(allow & deny, a, sizeof(a)));
                return -EINVAL;
        }
        glob = has_glob(buf);
        if (glob) {
                /* The patterns match() knows: **\/NAME (a name at any
                 * depth) and DIR/NAME, with * ? [ ] in NAME alone. Any
                 * other would load and never match: a deny that denies
                 * nothing. Refused, with what is meant. */
                const char *last = strrchr(buf, '/');
                bool ok;
                if (!strncmp(buf, "**/", 3))
                        ok = !strchr(buf + 3, '/') && buf[3];
                else
                        ok = last && strcspn(buf, "*?[") > (size_t)(last - buf);
                if (!ok) {
                        set_err(err,
                                "%s: %s: a pattern is **/NAME (a name in any directory) or DIR/NAME, with "
                                "* ? [ ] in NAME only",
                                origin, path);
                        return -EINVAL;
                }
        }
        /* procfs's links name the process that looks (/proc/self would be
         * the launcher's pid): its rules mean the names as written. */
        if (buf[0] == '/')
                normalise(buf);
        if (buf[0] == '/' && strncmp(buf, "/proc/", 6)) {
                /* The gofer decides on where objects really are, so rules
                 * name that too: /lib is /usr/lib on a merged-/usr system. */
                char *slash = strrchr(buf, '/');
                if (link && slash && slash != buf) {
                        /* The link's directory, resolved; the link, kept. */
                        *slash = '\0';
                        if (canonical(buf, real, cd, &missing, &is_link) &&
                            strlen(real) + strlen(slash + 1) + 2 <= sizeof(buf))
                                snprintf(buf, sizeof(buf), "%s/%s", strcmp(real, "/") ? real : "", slash + 1);
                        else
                                *slash = '/';
                        missing = is_link = false;
                } else if (!glob && !link && canonical(buf, real, cd, &missing, &is_link)) {
                        snprintf(named, sizeof(named), "%s", buf);
                        snprintf(buf, sizeof(buf), "%s", real);
                }
        }
        if (p->n == p->cap) {
                p->cap = p->cap ? 2 * p->cap : 32;
                p->rules = xrealloc(p->rules, p->cap * sizeof(*p->rules));
        }
        r = &p->rules[p->n++];
        memset(r, 0, sizeof(*r));
        r->path = xstrdup(buf);
        r->allow = asked ? 0 : allow;
        r->ask = asked ? allow : 0;
        r->deny = deny;
        r->glob = glob;
        p->asks |= asked && allow;
        r->exact = exact;
        r->origin = xstrdup(origin);
        if (deny && !glob && !missing && stat(r->path, &st) == 0) {
                pin(r, &st);
                if (S_ISDIR(st.st_mode) && scan) {
                        int budget = PIN_SCAN_MAX;
                        pin_below(r, r->path, 0, &budget);
                }
        }
        /* The rule names a symlink (/lib on a merged-/usr system, a
         * ~/.gitconfig kept in a dotfiles tree): the rule decides for
         * what it points to, and the link itself may be read too (lstat,
         * readlink, realpath through it), as the name the rule was given
         * by. Its text says no more than the rule already gives. */
        if (is_link && (allow & PR_READ) && !asked && *named)
                return add_rule(p, named, PR_READ | PR_EXACT | PR_LINK, 0, origin, false, err, cd);
        return 0;
}

int policy_add(struct policy *p, const char *path, unsigned allow, unsigned deny, const char *origin,
               bool relative_ok, struct policy_error *err)
{
        struct canon_dir cd = { .fd = -1 };
        int r = add_rule(p, path, allow, deny, origin, relative_ok, err, &cd);

        canon_dir_release(&cd);
        return r;
}

/* How much of path the rule covers (its specificity), or -1. */
static long match(const struct policy_rule *r, const char *path)
{
        size_t n;

        if (r->exact)
                return strcmp(path, r->path) ? -1 : (long)strlen(path);
        if (!r->glob) {
                n = strlen(r->path);
                if (n == 1)
                        return 1; /* "/" */
                if (!strncmp(path, r->path, n) && (path[n] == '/' || !path[n]))
                        return (long)n;
                return -1;
        }
        if (!strncmp(r->path, "**/", 3)) {
                /* Any component, and what is below it. */
                const char *pat = r->path + 3, *c = path;
                while (*c == '/') {
                        const char *end = strchrnul(c + 1, '/');
                        char comp[NAME_MAX + 1];
                        size_t len = (size_t)(end - c - 1);
                        if (len > 0 && len <= NAME_MAX) {
                                memcpy(comp, c + 1, len);
                                comp[len] = '\0';
                                if (fnmatch(pat, comp, FNM_PERIOD) == 0)
                                        return (long)(end - path);
                        }
                        c = end;
                }
                return -1;
        }
        /* A glob in the last component: dir/pattern, and what is below. */
        const char *slash = strrchr(r->path, '/');
        size_t dl = (size_t)(slash - r->path);
        if (strncmp(path, r->path, dl) || path[dl] != '/')
                return -1;
        const char *comp = path + dl + 1, *end = strchrnul(comp, '/');
        char name[NAME_MAX + 1];
        if ((size_t)(end - comp) > NAME_MAX)
                return -1;
        memcpy(name, comp, (size_t)(end - comp));
        name[end - comp] = '\0';
        if (fnmatch(slash + 1, name, FNM_PERIOD) == 0)
                return (long)(end - path);
        return -1;
}

unsigned policy_decide_object(const struct policy *p, const char *path, dev_t dev, ino_t ino,
                              const struct policy_rule **rule)
{
        const struct policy_rule *best = NULL, *denier = NULL, *asker = NULL;
        long best_len = -1, ask_len[ARRAY_SIZE(right_names)];
        unsigned deny = 0, allow, ask = 0;

        for (size_t i = 0; i < p->n; i++) {
                const struct policy_rule *r = &p->rules[i];
                long m = match(r, path);
                bool same = false;

                for (size_t k = 0; ino && k < r->npins && !same; k++)
                        same = r->pins[k].dev == dev && r->pins[k].ino == ino;

                if (m < 0 && !same)
                        continue;
                if (r->deny) {
                        if (!denier || (r->deny & ~deny))
                                denier = denier ? denier : r;
                        deny |= r->deny;
                }
                if (r->allow && m >= best_len) {
                        best = r;
                        best_len = m;
                }
                /* Each right asked by its most specific asking rule. */
                for (size_t b = 0; r->ask && b < ARRAY_SIZE(right_names); b++) {
                        if (!(r->ask & right_names[b].bit))
                                continue;
                        if (!(ask & right_names[b].bit) || m >= ask_len[b]) {
                                ask |= right_names[b].bit;
                                ask_len[b] = m;
                                if (!asker || m >= match(asker, path))
                                        asker = r;
                        }
                }
        }
        allow = best ? best->allow : 0;
        /* An allow more specific than the ask wins; an equal one does not. */
        for (size_t b = 0; ask && b < ARRAY_SIZE(right_names); b++)
                if ((ask & right_names[b].bit) && (allow & right_names[b].bit) && best_len > ask_len[b])
                        ask &= ~right_names[b].bit;
        allow &= ~ask;
        if (rule) {
                *rule = (allow & deny) || !best ? (denier ? denier : best) : best;
                if ((ask & ~deny) && !(allow & deny))
                        *rule = asker;
        }
        return (allow & ~deny) | ((ask & ~deny) << PR_ASK_SHIFT);
}

unsigned policy_decide(const struct policy *p, const char *path, const struct policy_rule **rule)
{
        return policy_decide_object(p, path, 0, 0, rule);
}

const struct policy_rule *policy_move_widens(const struct policy *p, const char *from, const char *to,
                                             const struct stat *st)
{
        const struct policy_rule *decider = NULL;
        unsigned here = policy_decide_object(p, from, st->st_dev, st->st_ino, &decider);
        /* A directory's pin goes with it, but not to what is below it:
         * that is judged by the new path alone. */
        ino_t ino = S_ISDIR(st->st_mode) ? 0 : st->st_ino;
        unsigned there = policy_decide_object(p, to, st->st_dev, ino, NULL) & PR_ALL;
        unsigned asked = PR_ASK_RIGHTS(here);

        if (asked & there)
                return decider;
        /* A right denied here is withheld whatever allows it. (A rule that
         * pins the object denies there too, so is not among them.) */
        for (size_t i = 0; i < p->n; i++)
                if ((p->rules[i].deny & there) && match(&p->rules[i], from) >= 0)
                        return &p->rules[i];
        return NULL;
}

bool policy_is_ancestor(const struct policy *p, const char *path)
{
        size_t n = strlen(path);

        for (size_t i = 0; i < p->n; i++) {
                const struct policy_rule *r = &p->rules[i];
                if (!(r->allow | r->ask) || r->glob || r->exact)
                        continue;
                if (n == 1 && path[0] == '/')
                        return true;
                if (!strncmp(r->path, path, n) && r->path[n] == '/')
                        return true;
        }
        return false;
}

const struct policy_rule *policy_holds_rule(const struct policy *p, const char *path)
{
        size_t n = strlen(path);

        for (size_t i = 0; i < p->n; i++) {
                const struct policy_rule *r = &p->rules[i];
                /* A pattern in the last component (dir/ *.pem) is held by
                 * dir and what is above it, like a path; "**" patterns match
                 * wherever the names go. */
                if (r->glob && !strncmp(r->path, "**/", 3))
                        continue;
                if ((n == 1 && path[0] == '/') || (!strncmp(r->path, path, n) && r->path[n] == '/'))
                        return r;
        }
        return NULL;
}

/* --- bind mounts -------------------------------------------------------- */

struct mount_line {
        const char *dev;
        const char *root; /* the mount's root, as a path in its file system */
        const char *point;
};

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
        char *o = s;

        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
                    s[3] <= '7') {
                        *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 3;
                } else {
                        *o++ = *s;
                }
        }
        *o = '\0';
}

/* Is a an ancestor of b, or b itself (component-wise)? */
static bool path_within(const char *b, const char *a)
{
        size_t n = strlen(a);

        if (n == 1 && a[0] == '/')
                return true;
        return !strncmp(a, b, n) && (b[n] == '/' || !b[n]);
}

/* The mounts in mountinfo text: fields of a copy of it (*copy, freed
 * with the lines), not 8 KiB of buffers a line. */
static size_t parse_mountinfo(const char *text, struct mount_line **out, char **copy)
{
        size_t n = 0, cap = 0;
        char *line = *copy = xstrdup(text);

        *out = NULL;
        while (line && *line) {
                char *nl = strchr(line, '\n'), *f[5], *rest = line, *tok;
                int k = 0;

                if (nl)
                        *nl = '\0';
                while (k < 5 && (tok = strsep(&rest, " ")))
                        if (*tok)
                                f[k++] = tok;
                if (k == 5) {
                        if (n == cap) {
                                cap = cap ? 2 * cap : 64;
                                *out = xrealloc(*out, cap * sizeof(**out));
                        }
                        unescape(f[3]);
                        unescape(f[4]);
                        (*out)[n++] = (struct mount_line){ f[2], f[3], f[4] };
                }
                line = nl ? nl + 1 : NULL;
        }
        return n;
}

int policy_deny_bind_mounts(struct policy *p, const char *mountinfo, struct policy_error *err)
{
        struct mount_line *m;
        _cleanup_free_ char *copy = NULL;
        size_t nm = parse_mountinfo(mountinfo, &m, &copy), nrules = p->n;
        int r = 0;

        for (size_t i = 0; i < nrules && r == 0; i++) {
                char path[PATH_MAX], fsrel[PATH_MAX], origin[PATH_MAX + 64], deny_path[PATH_MAX];
                const struct mount_line *home = NULL;
                size_t plen;
                unsigned deny;

                const char *pattern = NULL;

                if (!p->rules[i].deny || p->rules[i].path[0] != '/')
                        continue;
                snprintf(path, sizeof(path), "%s", p->rules[i].path);
                if (p->rules[i].glob) {
                        /* dir/pattern: the directory is what mounts show
                         * again; the pattern goes along. */
                        char *slash = strrchr(path, '/');
                        pattern = p->rules[i].path + (slash - path) + 1;
                        if (slash == path)
                                slash[1] = '\0';
                        else
                                *slash = '\0';
                }
                deny = p->rules[i].deny;
                /* The mount the denied path is on (the last of those whose
                 * mount point holds it: later mounts cover earlier ones). */
                for (size_t k = 0; k < nm; k++)
                        if (path_within(path, m[k].point) &&
                            (!home || strlen(m[k].point) >= strlen(home->point)))
                                home = &m[k];
                if (!home)
                        continue;
                plen = strlen(home->point) == 1 ? 0 : strlen(home->point);
                snprintf(fsrel, sizeof(fsrel), "%s%s", strcmp(home->root, "/") ? home->root : "",
                         path[plen] ? path + plen : "");
                if (!fsrel[0])
                        snprintf(fsrel, sizeof(fsrel), "/");
                /* Every other mount of the same file system that shows the
                 * denied tree, or a part of it, somewhere else. */
                for (size_t k = 0; k < nm && r == 0; k++) {
                        if (&m[k] == home || strcmp(m[k].dev, home->dev))
                                continue;
                        if (path_within(m[k].root, fsrel) && (!pattern || strcmp(m[k].root, fsrel))) {
                                /* The mount shows something inside the denied
                                 * tree: all of it is denied; for a pattern,
                                 * if the name it is under matches. */
                                if (pattern) {
                                        size_t fl = strlen(fsrel) == 1 ? 0 : strlen(fsrel);
                                        char first[NAME_MAX + 1];
                                        const char *c0 = m[k].root + fl + 1;
                                        size_t cl = strcspn(c0, "/");
                                        if (cl > NAME_MAX)
                                                continue;
                                        memcpy(first, c0, cl);
                                        first[cl] = '\0';
                                        if (fnmatch(pattern, first, FNM_PERIOD) != 0)
                                                continue;
                                }
                                snprintf(deny_path, sizeof(deny_path), "%s", m[k].point);
                        } else if (path_within(fsrel, m[k].root)) {
                                size_t rl = strlen(m[k].root) == 1 ? 0 : strlen(m[k].root);
                                int w = snprintf(deny_path, sizeof(deny_path), "%s%s%s%s",
                                                 strcmp(m[k].point, "/") ? m[k].point : "", fsrel + rl,
                                                 pattern ? "/" : "", pattern ? pattern : "");
                                if (w < 0 || (size_t)w >= sizeof(deny_path))
                                        continue;
                        } else {
                                continue;
                        }
                        if (!strcmp(deny_path, path))
                                continue;
                        snprintf(origin, sizeof(origin), "%s (mounted again: %s)", p->rules[i].origin, path);
                        r = policy_add(p, deny_path, 0, deny, origin, false, err);
                }
        }
        free(m);
        return r;
}

unsigned policy_judge(const struct policy *p, const char *path, const struct stat *st,
                      const struct policy_rule **rule)
{
        static const char deleted[] = " (deleted)";
        char live[PATH_MAX];
        size_t n = strlen(path);
        unsigned rights;

        /* No name in the tree: a pipe, a socket, a memfd. */
        if (path[0] != '/' || !strncmp(path, "/memfd:", 7))
                return PR_ALL;
        if (st->st_nlink == 0) {
                /* Deleted (or replaced under its name) while the guest held
                 * it: the rights it had where it was, no more; a file the
                 * guest could only read stays read-only, though other
                 * processes may still have it open. */
                if (n > sizeof(deleted) - 1 && !strcmp(path + n - (sizeof(deleted) - 1), deleted) &&
                    n - (sizeof(deleted) - 1) < sizeof(live)) {
                        memcpy(live, path, n - (sizeof(deleted) - 1));
                        live[n - (sizeof(deleted) - 1)] = '\0';
                        path = live;
                }
                return policy_decide(p, path, rule);
        }
        rights = policy_decide_object(p, path, st->st_dev, st->st_ino, rule);
        if (!rights && S_ISDIR(st->st_mode) && policy_is_ancestor(p, path))
                rights = PR_LOOKUP;
        return rights;
}

/* --- profiles -------------------------------------------------------------- */

/* Credential stores and secrets: denied whatever else allows them. */
static const char *const home_secrets[] = {
        ".ssh",
        ".aws",
        ".config/gcloud",
        ".azure",
        ".kube",
        ".docker/config.json",
        ".netrc",
        ".git-credentials",
        ".gnupg",
        ".npmrc",
        ".pypirc",
        ".config/gh",
        ".password-store",
        ".local/share/keyrings",
        ".vault-token",
        ".terraform.d/credentials.tfrc.json",
        ".config/hub",
        ".cargo/credentials",
        ".cargo/credentials.toml",
        ".bash_history",
        ".zsh_history",
        ".history",
        ".python_history",
        ".node_repl_history",
        ".psql_history",
        ".mysql_history",
        ".sqlite_history",
        ".lesshst",
        ".local/share/fish/fish_history",
        ".config/zsh/.zsh_history", /* with ZDOTDIR there */
        ".config/git/credentials",  /* git's credential store, XDG place */
        ".config/github-copilot",
        ".config/containers/auth.json", /* podman, buildah, skopeo */
        ".config/op",                   /* 1Password CLI */
        ".config/doctl",
        ".config/rclone/rclone.conf",
        ".config/sops/age/keys.txt",
        ".cache/huggingface/token",
        ".gradle/gradle.properties",
        ".m2/settings.xml",
        ".m2/settings-security.xml",
        ".local/share/python_keyring",
        ".s3cfg",
        ".boto",
        ".oci",
        ".databrickscfg",
        /* Below the trees builds read (~/.config, ~/.local/share,
         * ~/.cache): browsers' and chat apps' profiles (cookies, saved
         * logins, session tokens), vaults, CLIs' tokens, shell history
         * and running Jupyter kernels' keys. */
        ".config/google-chrome",
        ".config/google-chrome-beta",
        ".config/google-chrome-unstable",
        ".config/chromium",
        ".config/BraveSoftware",
        ".config/microsoft-edge",
        ".config/vivaldi",
        ".config/opera",
        ".config/mozilla", /* Firefox's XDG place */
        ".cache/google-chrome",
        ".cache/chromium",
        ".cache/BraveSoftware",
        ".cache/mozilla",
        ".config/Slack",
        ".config/discord",
        ".config/Signal",
        ".config/Element",
        ".config/Code", /* VS Code: its secret storage, GitHub and Copilot sessions */
        ".config/Code - OSS",
        ".config/VSCodium",
        ".config/Cursor",
        ".config/Bitwarden",
        ".config/Bitwarden CLI",
        ".config/1Password",
        ".local/share/kwalletd",
        ".config/glab-cli",
        ".config/stripe",
        ".config/netlify",
        ".config/ngrok",
        ".config/.wrangler", /* Cloudflare */
        ".config/hcloud",
        ".config/linode-cli",
        ".config/kaggle",
        ".config/composer/auth.json",
        ".config/helm/registry",
        ".config/helm/repositories.yaml", /* a repository's password */
        ".config/pip/pip.conf",           /* an index URL's password, as in .npmrc */
        ".pip/pip.conf",
        ".config/configstore/firebase-tools.json",
        ".local/share/com.vercel.cli",
        ".local/share/atuin", /* shell history */
        ".local/share/jupyter/runtime",
};

static const char *const etc_secrets[] = {
        "/etc/shadow",
        "/etc/shadow-",
        "/etc/gshadow",
        "/etc/gshadow-",
        "/etc/sudoers",
        "/etc/sudoers.d",
        "/etc/ssh/ssh_host_*_key",
        "/etc/ssl/private",
        "/etc/security/opasswd",
        "/etc/apt/auth.conf",
        "/etc/apt/auth.conf.d",
        "/etc/wireguard",
        "/etc/NetworkManager/system-connections",
        "/etc/kubernetes",
        "/etc/containers/auth.json",
        /* Keys and passwords other services keep in /etc (0600 root, so a
         * root guest, the file's owner, reads them): k3s's kubeconfig and
         * token, Kerberos' keytab, PPP and IPsec secrets, TLS certificates'
         * keys, mail relays' passwords, Wi-Fi keys. */
        "/etc/rancher",
        "/etc/krb5.keytab",
        "/etc/ppp/chap-secrets",
        "/etc/ppp/pap-secrets",
        "/etc/ipsec.secrets",
        "/etc/ipsec.d/private",
        "/etc/swanctl",
        "/etc/openvpn",
        "/etc/letsencrypt",
        "/etc/pki/tls/private",
        "/etc/pki/CA/private",
        "/etc/cups/ssl",
        "/etc/mysql/debian.cnf",
        "/etc/docker/key.json",
        "/etc/ceph/*.keyring",
        "/etc/sssd",
        "/etc/postfix/sasl_passwd",
        "/etc/postfix/sasl_passwd.db",
        "/etc/exim4/passwd.client",
        "/etc/msmtprc",
        "/etc/ssmtp",
        "/etc/netplan",
        "/etc/wpa_supplicant",
};

/* $HOME's tool configuration and toolchains that builds read and run. */
static const char *const home_tools[] = {
        ".gitconfig", ".config/git",  ".pyenv",  ".nvm",    ".rustup",  ".cargo",   ".local/bin",
        ".local/lib", ".local/share", "go",      ".config", ".profile", ".bashrc",  ".cache",
        ".npm",       ".node-gyp",    ".gradle", ".m2",     ".pip",     ".condarc", ".editorconfig",
};

static const char *const system_rx[] = { "/usr",   "/bin",   "/sbin",   "/lib",
                                         "/lib32", "/lib64", "/libx32", "/opt" };

static const char *const dev_rw[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                                      "/dev/tty",  "/dev/ptmx", "/dev/pts",  "/dev/shm" };

/* The global /proc files the guest may read (read-only values: nothing
 * about other processes, no kernel addresses, no keys). self, thread-self,
 * mounts and net are links into the caller's own /proc/<pid>. */
static const char *const proc_global[] = {
        "/proc/self",
        "/proc/thread-self",
        "/proc/mounts",
        "/proc/net",
        "/proc/cpuinfo",
        "/proc/meminfo",
        "/proc/stat",
        "/proc/uptime",
        "/proc/loadavg",
        "/proc/filesystems",
        "/proc/version",
        "/proc/cgroups",
        "/proc/swaps",
        "/proc/sys/kernel",
        "/proc/sys/fs",
        "/proc/sys/vm/overcommit_memory",
        "/proc/sys/net/core/somaxconn",
};

static const char *const sys_read[] = {
        "/sys/devices/system/cpu",
        "/sys/devices/system/node",
        "/sys/kernel/mm/transparent_hugepage",
};

/* The package manager's records (what is installed, the package lists):
 * `dpkg -l`, `dpkg -s`, `apt-cache policy` answer from them. Not the rest
 * of /var (logs, mail, spools, databases, debconf's answers). */
static const char *const var_read[] = {
        "/var/lib/dpkg",
        "/var/lib/apt/lists",
        "/var/cache/apt",
};

static const char *const dev_links[] = { "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr" };

int policy_profile(struct policy *p, const char *name, const char *home, const char *workspace,
                   const char *tmpdir, struct policy_error *err)
{
        char path[PATH_MAX], origin[64];
        bool strict = !strcmp(name, "strict"), ci = !strcmp(name, "ci");
        struct canon_dir cd = { .fd = -1 };
        int r = 0;

        if (strcmp(name, "agent") && !strict && !ci) {
                set_err(err, "unknown profile '%s': choose agent, strict or ci", name);
                return -EINVAL;
        }
        free(p->profile);
        p->profile = xstrdup(name);
        free(p->home);
        p->home = home && *home == '/' ? xstrdup(home) : NULL;
        free(p->workspace);
        p->workspace = xstrdup(workspace);
        free(p->tmpdir);
        p->tmpdir = tmpdir ? xstrdup(tmpdir) : NULL;
        snprintf(origin, sizeof(origin), "profile %s", name);

#define ADD(path_, allow_, deny_)                                                       \
        do {                                                                            \
                if (r == 0)                                                             \
                        r = add_rule(p, path_, allow_, deny_, origin, false, err, &cd); \
        } while (0)

        ADD("/", PR_LIST | PR_EXACT, 0);
        for (size_t i = 0; i < ARRAY_SIZE(system_rx); i++)
                ADD(system_rx[i], PR_RX, 0);
        ADD("/etc", PR_RO, 0);
        for (size_t i = 0; i < ARRAY_SIZE(etc_secrets); i++)
                ADD(etc_secrets[i], 0, PR_ALL);
        for (size_t i = 0; i < ARRAY_SIZE(dev_rw); i++)
                ADD(dev_rw[i],
                    PR_READ | PR_WRITE | PR_LIST |
                            (!strcmp(dev_rw[i], "/dev/shm") ? PR_CREATE | PR_DELETE : 0),
                    0);
        ADD("/dev", PR_LIST | PR_EXACT, 0);
        /* The links into the caller's /proc/self/fd (followed by the walk to
         * the object, which is judged on its own). */
        for (size_t i = 0; i < ARRAY_SIZE(dev_links); i++)
                ADD(dev_links[i], PR_READ | PR_EXACT | PR_LINK, 0);
        /* /proc: the guest's own processes (the walk shows no other pid),
         * and the global files programs need; /sys: what runtimes size
         * themselves by. Everything else there is refused. */
        ADD("/proc", PR_LIST | PR_EXACT, 0);
        ADD("/proc/[0-9]*", PR_RO, 0);
        for (size_t i = 0; i < ARRAY_SIZE(proc_global); i++)
                ADD(proc_global[i], PR_RO, 0);
        for (size_t i = 0; i < ARRAY_SIZE(sys_read); i++)
                ADD(sys_read[i], PR_RO, 0);
        for (size_t i = 0; i < ARRAY_SIZE(var_read); i++)
                ADD(var_read[i], PR_RO, 0);
        if (p->home) {
                for (size_t i = 0; i < ARRAY_SIZE(home_tools); i++) {
                        snprintf(path, sizeof(path), "~/%s", home_tools[i]);
                        ADD(path, PR_RX, 0);
                }
                if (ci) {
                        ADD("~/.cache", PR_RW | PR_EXEC, 0);
                        ADD("~/.npm", PR_RW, 0);
                        ADD("~/.cargo/registry", PR_RW, 0);
                }
        }
        ADD(workspace, strict ? PR_RX : PR_RW | PR_EXEC, 0);
        if (tmpdir)
                ADD(tmpdir, PR_RW | PR_EXEC, 0);
        if (p->home)
                for (size_t i = 0; i < ARRAY_SIZE(home_secrets); i++) {
                        snprintf(path, sizeof(path), "~/%s", home_secrets[i]);
                        ADD(path, 0, PR_ALL);
                }
        ADD("**/.env*", 0, PR_ALL);
#undef ADD
        canon_dir_release(&cd);
        return r;
}

/* --- showing --------------------------------------------------------------- */

static int by_path(const void *a, const void *b)
{
        const struct policy_rule *x = *(const struct policy_rule *const *)a;
        const struct policy_rule *y = *(const struct policy_rule *const *)b;
        int c = strcmp(x->path, y->path);
        return c ? c : (x < y ? -1 : 1);
}

/* A JSON string, written as jansson's json_dumpf writes it: the policy
 * hash in each audit log is the SHA-256 of this text, and users check it
 * against `policy show --json`. \" \\ \b \f \n \r \t, other control
 * characters as \u00XX, the rest as it is. A byte that is not UTF-8
 * (jansson refuses the string, and the rule went missing) is \u00XX too:
 * the rule stays in the text and in the hash. NULL is null. */
static void json_put_str(FILE *f, const char *str)
{
        const unsigned char *s = (const unsigned char *)str, *run;
        char esc[8];

        if (!s) {
                fputs("null", f);
                return;
        }
        putc_unlocked('"', f);
        for (run = s; *s;) {
                uint32_t cp;
                size_t n = utf8_decode(s, &cp); /* as jansson checks it */
                if (n && *s >= 0x20 && *s != '"' && *s != '\\') {
                        s += n;
                        continue;
                }
                fwrite(run, 1, (size_t)(s - run), f);
                static const char named[] = "\"\\\b\f\n\r\t", as[] = "\"\\bfnrt";
                const char *e = strchr(named, *s);
                if (e) {
                        esc[0] = '\\';
                        esc[1] = as[e - named];
                        esc[2] = '\0';
                } else {
                        snprintf(esc, sizeof(esc), "\\u%04X", *s);
                }
                fputs(esc, f);
                run = ++s;
        }
        fwrite(run, 1, (size_t)(s - run), f);
        putc_unlocked('"', f);
}

/* "key": "value" at an indent, after a comma when it is not the first. */
static void json_member(FILE *f, int indent, bool first, const char *key, const char *value)
{
        fprintf(f, "%s\n%*s\"%s\": ", first ? "" : ",", indent, "", key);
        json_put_str(f, value);
}

/* The effective policy as JSON: the text jansson's json_dumpf(...,
 * JSON_INDENT(1)) made of it before (written by hand, as it is hashed at
 * every start: five times faster). */
static void policy_show_json(const struct policy *p, const struct policy_rule **sorted, FILE *f)
{
        char a[64], d[64];

        fputc('{', f);
        json_member(f, 1, true, "profile", p->profile);
        json_member(f, 1, false, "workspace", p->workspace);
        fputs(",\n \"rules\": [", f);
        for (size_t i = 0; i < p->n; i++) {
                const struct policy_rule *r = sorted[i];
                fputs(i ? ",\n  {" : "\n  {", f);
                json_member(f, 3, true, "path", r->path);
                json_member(f, 3, false, "allow", policy_rights_str(r->allow, a, sizeof(a)));
                json_member(f, 3, false, "deny", policy_rights_str(r->deny, d, sizeof(d)));
                json_member(f, 3, false, "from", r->origin);
                if (r->ask) /* only where there is one: the hash of a policy without stays */
                        json_member(f, 3, false, "ask", policy_rights_str(r->ask, a, sizeof(a)));
                fputs("\n  }", f);
        }
        fputs(p->n ? "\n ],\n \"net\": {" : "],\n \"net\": {", f);
        json_member(f, 2, true, "mode", p->net.mode == NET_HOST ? "host" : "none");
        fputs(",\n  \"rules\": [", f);
        for (size_t i = 0; i < p->net.n; i++) {
                const struct net_rule *r = &p->net.rules[i];
                char host[300];
                fputs(i ? ",\n   {" : "\n   {", f);
                json_member(f, 4, true, "host", net_rule_host(r, host, sizeof(host)));
                fprintf(f, ",\n    \"port_lo\": %d,\n    \"port_hi\": %d", (int)r->port_lo, (int)r->port_hi);
                json_member(f, 4, false, "decision", r->deny ? "deny" : r->ask ? "ask" : "allow");
                json_member(f, 4, false, "from", r->origin);
                fputs("\n   }", f);
        }
        fputs(p->net.n ? "\n  ]" : "]", f);
        json_member(f, 2, false, "dns_upstream", p->net.dns_upstream);
        fputs("\n }\n}\n", f);
}

void policy_show(const struct policy *p, FILE *f, bool json)
{
        _cleanup_free_ const struct policy_rule **sorted = xcalloc(p->n ? p->n : 1, sizeof(*sorted));
        char a[64], d[64];

        for (size_t i = 0; i < p->n; i++)
                sorted[i] = &p->rules[i];
        qsort(sorted, p->n, sizeof(*sorted), by_path);
        if (json) {
                policy_show_json(p, sorted, f);
                return;
        }
        fprintf(f, "profile %s, workspace %s\n", p->profile ? p->profile : "-",
                p->workspace ? p->workspace : "-");
        fprintf(f, "%-44s %-36s %-24s %s\n", "PATH", "ALLOW", "DENY", "FROM");
        for (size_t i = 0; i < p->n; i++) {
                const struct policy_rule *r = sorted[i];
                char shown[80];
                if (r->ask)
                        snprintf(shown, sizeof(shown), "ask %s", policy_rights_str(r->ask, a, sizeof(a)));
                else
                        policy_rights_str(r->allow, shown, sizeof(shown));
                fprintf(f, "%-44s %-36s %-24s %s\n", r->path, shown, policy_rights_str(r->deny, d, sizeof(d)),
                        r->origin);
        }
        net_policy_show(&p->net, f);
}
