/* SPDX-License-Identifier: MIT */
/* The sentry's dentry cache: see dcache.h. Used by the serving thread only. */
#include "dcache.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "../sentry/util.h"

/* Direct-mapped: a new entry replaces whatever had its slot. Each entry
 * holds an fd, so the size stays well inside the sentry's fd limit. */
#define DCACHE_SLOTS 512
#define DCACHE_SEEN 4096

struct dcache_entry {
        uint64_t hash;
        unsigned gen;
        dev_t sdev;
        ino_t sino;
        unsigned flags;
        int fd;     /* -1: empty */
        dev_t odev; /* the object's, when filled */
        ino_t oino;
        char *given;
        char *path;
        char *rule;
        unsigned rights;
};

static struct dcache_entry slots[DCACHE_SLOTS];
static uint64_t seen[DCACHE_SEEN]; /* hashes of lookups made once */
static unsigned generation = 1;
static bool ready;
static unsigned long n_lookups, n_hits;

static uint64_t key_hash(dev_t sdev, ino_t sino, unsigned flags, const char *given)
{
        XXH64_hash_t seed = (XXH64_hash_t)sdev * 0x9e3779b97f4a7c15ull ^ (XXH64_hash_t)sino ^
                            ((XXH64_hash_t)flags << 56);
        return XXH3_64bits_withSeed(given, strlen(given), seed);
}

static void entry_clear(struct dcache_entry *e)
{
        if (e->fd >= 0)
                close(e->fd);
        free(e->given); /* path and rule share its block */
        memset(e, 0, sizeof(*e));
        e->fd = -1;
}

static void init_once(void)
{
        if (ready)
                return;
        for (size_t i = 0; i < DCACHE_SLOTS; i++)
                slots[i].fd = -1;
        ready = true;
}

bool dcache_lookup(dev_t sdev, ino_t sino, unsigned flags, const char *given, struct dcache_hit *hit)
{
        uint64_t h;
        struct dcache_entry *e;

        init_once();
        n_lookups++;
        h = key_hash(sdev, sino, flags, given);
        e = &slots[h % DCACHE_SLOTS];
        if (e->fd < 0 || e->gen != generation || e->hash != h || e->sdev != sdev || e->sino != sino ||
            e->flags != flags || strcmp(e->given, given))
                return false;
        /* The object as it is now, looked up again by its path: gone
         * (deleted, or replaced under its name by a rename over it, or a
         * directory above it moved), or out of reach of the kernel's own
         * check of search permission (a directory above it chmod'ed by the
         * host: the guest's own changes empty the cache) means the name
         * must be walked again. */
        if (fstatat(AT_FDCWD, e->path, &hit->st, AT_SYMLINK_NOFOLLOW) < 0 || hit->st.st_dev != e->odev ||
            hit->st.st_ino != e->oino || hit->st.st_nlink == 0) {
                entry_clear(e);
                return false;
        }
        hit->fd = e->fd;
        hit->path = e->path;
        hit->rights = e->rights;
        hit->rule = e->rule;
        n_hits++;
        return true;
}

bool dcache_fill(dev_t sdev, ino_t sino, unsigned flags, const char *given, int fd, const struct stat *st,
                 const char *path, unsigned rights, const char *rule)
{
        uint64_t h = key_hash(sdev, sino, flags, given);
        struct dcache_entry *e;
        size_t lg, lp, lr;

        init_once();
        /* Kept the second time a lookup is seen: a path looked up once (git
         * status stats each file of a tree once) costs no more than a
         * hash, and the entries go to what repeats. */
        if (seen[h % DCACHE_SEEN] != h) {
                seen[h % DCACHE_SEEN] = h;
                return false;
        }
        if (st->st_nlink == 0)
                return false;
        e = &slots[h % DCACHE_SLOTS];
        entry_clear(e);
        lg = strlen(given) + 1;
        lp = strlen(path) + 1;
        lr = strlen(rule) + 1;
        e->hash = h;
        e->gen = generation;
        e->sdev = sdev;
        e->sino = sino;
        e->flags = flags;
        e->fd = fd;
        e->odev = st->st_dev;
        e->oino = st->st_ino;
        e->given = xmalloc(lg + lp + lr); /* one block: given, path, rule */
        e->path = e->given + lg;
        e->rule = e->path + lp;
        memcpy(e->given, given, lg);
        memcpy(e->path, path, lp);
        memcpy(e->rule, rule, lr);
        e->rights = rights;
        return true;
}

void dcache_invalidate(void)
{
        /* Entries of older generations are dead; their slots are reused
         * (and their fds closed) as new walks fill them. */
        generation++;
}

unsigned dcache_generation(void)
{
        return generation;
}

void dcache_stats(unsigned long *lookups, unsigned long *hits)
{
        *lookups = n_lookups;
        *hits = n_hits;
}
