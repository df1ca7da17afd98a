/* SPDX-License-Identifier: MIT */
/*
 * The file policy: rules granting rights on host path trees, built from a
 * profile, a policy file and command-line flags, and the decision for a
 * host object.
 *
 * A rule names a tree (an absolute path and everything below it) or a
 * pattern (a glob in the last component, "**" for any directory: the
 * .env* files anywhere). Deny beats allow: a right denied by any rule that
 * matches is denied. Otherwise the most specific matching rule that allows
 * anything gives the rights; on equal paths the later source wins (flags
 * over the policy file over the profile).
 *
 * Paths given to policy_decide() are host paths of objects the gofer has
 * already reached (after symlinks, "..", dirfds and the cwd), never the
 * guest's text; the policy itself only compares strings. Deny rules also
 * pin the (device, inode) of what they name when it exists, so a hard link
 * elsewhere to a denied file is denied too (policy_decide_object()).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "net.h"

enum policy_right {
        PR_READ = 1 << 0,   /* read a file, stat it, read a link */
        PR_WRITE = 1 << 1,  /* change an existing file: contents, mode, times */
        PR_CREATE = 1 << 2, /* create an entry in a directory */
        PR_DELETE = 1 << 3, /* remove an entry, or rename it away */
        PR_EXEC = 1 << 4,   /* execute a file, or mmap it PROT_EXEC */
        PR_LIST = 1 << 5,   /* list a directory's entries */
};
#define PR_ALL (PR_READ | PR_WRITE | PR_CREATE | PR_DELETE | PR_EXEC | PR_LIST)
/* Not a right: passed with the rights to policy_add(), makes the rule
 * apply to the object it names only, not to what is below it ("/" may be
 * listed; that grants nothing under it). */
#define PR_EXACT (1u << 8)
/* Not a right: passed with PR_EXACT, the rule names a symlink itself (its
 * directory is resolved, the link is not followed). */
#define PR_LINK (1u << 10)
/* Not a right: with a deny rule on a directory, pin the directory only, not
 * the multiply-linked files below it (no scan: for a large tree whose files
 * the guest cannot have linked elsewhere, like interpose's own state). */
#define PR_NOSCAN (1u << 11)
#define PR_NET (1u << 12) /* a --allow-net/--deny-net flag, not a file right */
/* Not a right: passed with the rights to policy_add(), gives them on
 * request only (the right "ask": a person approves each use, sentry/ask.h). */
#define PR_ASKED (1u << 13)
/* In what the decisions return, the rights given on request sit above the
 * granted ones: (rights >> PR_ASK_SHIFT) & PR_ALL. A check for a granted
 * right never matches them. */
#define PR_ASK_SHIFT 16
#define PR_ASK_RIGHTS(rights) (((rights) >> PR_ASK_SHIFT) & PR_ALL)
/* Not a right a rule grants: the gofer's answer for a directory above an
 * allowed tree, which may be looked up (stat, walked through) only. */
#define PR_LOOKUP (1u << 9)
#define PR_RO (PR_READ | PR_LIST)
#define PR_RX (PR_READ | PR_LIST | PR_EXEC)
#define PR_RW (PR_READ | PR_LIST | PR_WRITE | PR_CREATE | PR_DELETE)

struct policy_pin {
        dev_t dev;
        ino_t ino;
};

struct policy_rule {
        char *path;     /* absolute and normalised; a pattern when glob is set */
        unsigned allow; /* PR_* */
        unsigned deny;  /* PR_* */
        unsigned ask;   /* PR_*: given on request (PR_ASKED) */
        bool glob;      /* last component (or "**" prefix) is an fnmatch pattern */
        bool exact;     /* the object itself only (PR_EXACT) */
        char *origin;   /* where it came from: "profile agent", "--deny", "FILE:LINE:COL" */
        /* For deny rules: the identities (device, inode) of what the rule
         * names and of the multiply-linked files below it, so another name
         * for one of them (a hard link elsewhere) is denied too. */
        struct policy_pin *pins;
        size_t npins;
};

struct policy {
        char *profile;           /* agent, strict, ci */
        char *home;              /* the user's home, for "~" */
        char *workspace;         /* absolute */
        char *tmpdir;            /* the session's private temp directory, or NULL */
        char *shmdir;            /* the session's private /dev/shm, or NULL */
        bool profile_explicit;   /* --profile given: a file may not change it */
        bool workspace_explicit; /* --workspace given: likewise */
        struct policy_rule *rules;
        size_t n, cap;
        struct net_policy net; /* destinations (net.h) */
        /* "env": the globs of secret-looking variables to pass, and
         * NAME=VALUE pairs to set; "secrets": values to redact. */
        char **env_allow, **env_set, **secrets;
        size_t n_env_allow, n_env_set, n_secrets;
        bool asks; /* some rule (file or network) gives rights on request */
};

/* A message naming the problem, and for files where: "FILE:LINE:COL: ...". */
struct policy_error {
        char msg[1024];
};

/* Names of the rights, for messages and `policy show`: "read,write". */
const char *policy_rights_str(unsigned rights, char *buf, size_t cap);

/* One right by name; 0 when unknown. */
unsigned policy_right_by_name(const char *name);

void policy_init(struct policy *p);
void policy_free(struct policy *p);

/* Start from a built-in profile for home and workspace (absolute; tmpdir may
 * be NULL). 0, or -EINVAL with err set for an unknown profile. */
int policy_profile(struct policy *p, const char *name, const char *home, const char *workspace,
                   const char *tmpdir, struct policy_error *err);

/* Add a rule. path may start with "~/" (the policy's home) or be relative
 * to the workspace when relative_ok; origin is copied. 0 or -errno, with
 * err set. */
int policy_add(struct policy *p, const char *path, unsigned allow, unsigned deny, const char *origin,
               bool relative_ok, struct policy_error *err);

/* Apply a policy file (JSON, see README.md "Policy"). On a problem, err says
 * "FILE:LINE:COL: problem" and nothing of the file is applied. */
int policy_load_file(struct policy *p, const char *file, struct policy_error *err);

/* The same from a buffer; name is used in messages. */
int policy_load_buffer(struct policy *p, const char *name, const char *text, size_t len,
                       struct policy_error *err);

/* The rights on the host object at path (absolute, canonical), and the
 * rule that decided (the denying rule when one denies anything, else the
 * allowing one; NULL when no rule matches: nothing is granted).
 *
 * With rights given on request (PR_ASK_SHIFT): a right is asked when the
 * most specific rule asking it is at least as specific as the allowing
 * rule (an ask on the workspace itself asks what the profile's workspace
 * rule allows; an allow below an ask tree, a workspace in an asked home,
 * is not asked); deny beats both. *rule is then the asking rule when
 * something is asked and nothing denied. */
unsigned policy_decide(const struct policy *p, const char *path, const struct policy_rule **rule);

/* The same, also denying what a pinned deny rule names by identity. */
unsigned policy_decide_object(const struct policy *p, const char *path, dev_t dev, ino_t ino,
                              const struct policy_rule **rule);

/* Is path a proper ancestor of a tree some rule allows? Such directories
 * may be looked up (stat, walked through), never listed or read. */
bool policy_is_ancestor(const struct policy *p, const char *path);

/* A rule naming a tree strictly below path, or NULL: a directory that
 * holds one may not be moved or removed, or the rule would no longer name
 * what it decides (a denied tree, a read-only part of a workspace).
 * ("**" patterns, which match anywhere, do not count.) */
const struct policy_rule *policy_holds_rule(const struct policy *p, const char *path);

/* The object at from (st its stat) would get the name to, by a rename or
 * a link: the rule that withholds from it, or from what is below it, a
 * right (denies it, or gives it on request only) which the name to would
 * grant; or NULL. Such a move would take the object out from under its
 * rule (a file of a tree denied "read" but not "delete" renamed into the
 * workspace, an asked tool renamed and run unasked). Rights the object
 * merely lacks where it is (a build's output in the temp directory) may be
 * gained: nothing withholds them. (Rules strictly below a directory are
 * policy_holds_rule()'s.) */
const struct policy_rule *policy_move_widens(const struct policy *p, const char *from, const char *to,
                                             const struct stat *st);

/* The rights on the object a walk reached at path, with st its stat: a
 * pipe, socket or memfd (no name in the tree) is the guest's own and gets
 * PR_ALL; a deleted file gets what its former path had; a directory above an allowed tree gets
 * PR_LOOKUP; anything else is policy_decide_object(). */
unsigned policy_judge(const struct policy *p, const char *path, const struct stat *st,
                      const struct policy_rule **rule);

/* Deny rules name paths, but a bind mount shows the same files at another
 * path, where only identity pins (directories and multiply-linked files)
 * would catch them. For each deny rule, add one for every other place the
 * mount table (the text of /proc/self/mountinfo) shows the denied tree or
 * a part of it. 0 or -errno with err set. */
int policy_deny_bind_mounts(struct policy *p, const char *mountinfo, struct policy_error *err);

/* Print the effective rules, one per line, or as JSON. */
void policy_show(const struct policy *p, FILE *f, bool json);
