/* SPDX-License-Identifier: MIT */
/*
 * The sentry's dentry cache (DESIGN.md "Performance"): what a guest path
 * resolved to, so a repeated lookup (gcc's realpath() asks readlink of
 * /usr, /usr/lib, ... thousands of times) skips the walk and the policy.
 *
 * An entry maps (where the walk started, walk flags, the guest's path
 * text) to the object the walk reached: an O_PATH fd of it, its kernel
 * path and its rights. What the cache saves is the resolution and the
 * decision, never the object's state: every hit re-stats the object by
 * its kernel path, so sizes, times and modes are current, and an object
 * deleted since (st_nlink 0: unlinked, or replaced by an editor's atomic
 * save), moved, or no longer within the caller's reach (the kernel's walk
 * checks search permission on each directory, which the host may have
 * taken away) is a miss.
 *
 * The guest changes what a name resolves to only by removing or renaming
 * (creating a name does not change an existing one, and negative answers
 * are never cached): the sentry makes those calls, and empties the cache
 * first (dcache_invalidate). It does so too when the guest changes a
 * directory's mode, owner or ACL: a hit skips the kernel's check of search
 * permission along the path, which that may now refuse. Walks whose meaning depends on the caller
 * (anything through /proc: self, fd/N, cwd) are never cached.
 */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

struct policy_rule;

struct dcache_hit {
        int fd; /* borrowed: the cache's O_PATH fd; do not close. Valid until the next dcache_fill */
        const char *path;
        struct stat st; /* fresh */
        unsigned rights;
        const char *rule; /* the deciding rule's origin, or "" */
};

/* Look up a walk from the start directory (sdev, sino; both 0 for "/").
 * true on a hit, with *hit filled. */
bool dcache_lookup(dev_t sdev, ino_t sino, unsigned flags, const char *given, struct dcache_hit *hit);

/* Remember a walk's result (path and rule are copied). true when the
 * cache took fd, which the caller then only borrows; false when it did not
 * keep the entry (the first time a lookup is seen, for one). */
bool dcache_fill(dev_t sdev, ino_t sino, unsigned flags, const char *given, int fd, const struct stat *st,
                 const char *path, unsigned rights, const char *rule);

/* A name may now resolve to something else: forget everything. */
void dcache_invalidate(void);

/* Bumped by every dcache_invalidate: what else depends on names (the cwd
 * cache's paths) compares it. */
unsigned dcache_generation(void);

/* Counters for tests and the summary: lookups, hits. */
void dcache_stats(unsigned long *lookups, unsigned long *hits);
