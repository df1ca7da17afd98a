/* SPDX-License-Identifier: MIT */
/*
 * System V IPC, own tree only (DESIGN.md invariant 6). Shared memory,
 * semaphores and message queues live in the host's IPC namespace, where a
 * guest could read, block or remove those of other processes, and we may
 * not always make a namespace of its own (that needs privilege). So the
 * sentry makes every *get itself and remembers the ids it handed out; every
 * other call must name one of them. Objects outside are, to the guest, not
 * there.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../sentry/sentry.h"
#include "handlers.h"

enum { SHM, SEM, MSG };

/* The sentry serves from several threads. */
static pthread_mutex_t ipc_lock = PTHREAD_MUTEX_INITIALIZER;

/* The index of id in the tree's table, or -1. Under ipc_lock. */
static int find(const struct sentry *s, int kind, int id)
{
        for (unsigned i = 0; i < s->ipc_n[kind]; i++)
                if (s->ipc_ids[kind][i] == id)
                        return (int)i;
        return -1;
}

static bool owned(struct sentry *s, int kind, int id)
{
        pthread_mutex_lock(&ipc_lock);
        bool yes = find(s, kind, id) >= 0;
        pthread_mutex_unlock(&ipc_lock);
        return yes;
}

static void disown(struct sentry *s, int kind, int id)
{
        pthread_mutex_lock(&ipc_lock);
        int i = find(s, kind, id);
        if (i >= 0)
                s->ipc_ids[kind][i] = s->ipc_ids[kind][--s->ipc_n[kind]];
        pthread_mutex_unlock(&ipc_lock);
}

static long get(int kind, long key, long arg, int flags)
{
        long r = kind == SHM   ? syscall(SYS_shmget, key, arg, flags)
                 : kind == SEM ? syscall(SYS_semget, key, arg, flags)
                               : syscall(SYS_msgget, key, flags);
        return r < 0 ? -errno : r;
}

/* A new object, made and recorded under the lock so that none is made
 * without room for its record (by one thread or by two at once): an
 * object not recorded would not count for --max-memory and would outlive
 * the session. A full table says ENOSPC, as the kernel does at its own
 * limit. */
static long make(struct sentry *s, int kind, long key, long arg, int flags)
{
        long r = -ENOSPC;

        pthread_mutex_lock(&ipc_lock);
        if (s->ipc_n[kind] < SENTRY_IPC_MAX) {
                r = get(kind, key, arg, flags);
                /* An id can come back only if its object was removed
                 * outside the session: recorded once still. */
                if (r >= 0 && find(s, kind, (int)r) < 0)
                        s->ipc_ids[kind][s->ipc_n[kind]++] = (int)r;
        }
        pthread_mutex_unlock(&ipc_lock);
        return r;
}

/* The object under key, if the tree made it. The key is looked up first
 * asking nothing (no size, no permission), which any object gives, and the
 * guest's own get is made only on an object of ours: on another's it would
 * fail by what that object is (EINVAL for a size or a count it lacks,
 * EACCES for a permission) and tell the guest that the key is taken. */
static long lookup(struct sentry_call *c, int kind, long key, long arg, int flags)
{
        long r = get(kind, key, 0, 0);
        if (r >= 0 && owned(c->s, kind, (int)r))
                r = get(kind, key, arg, flags & ~(IPC_CREAT | IPC_EXCL));
        if (r < 0 || owned(c->s, kind, (int)r))
                return r;
        /* Someone else's object under that key: as if it were not there
         * (and, when asked to create, as if we may not). */
        sentry_decide(c, "deny", "own-tree");
        return flags & IPC_CREAT ? -EACCES : -ENOENT;
}

/* The *get calls, made by the sentry: a new object is the tree's; an
 * existing one only if the tree made it. */
static long ipc_get(struct sentry_call *c, int kind, long key, long arg, int flags)
{
        long r, found;

        if (key == IPC_PRIVATE)
                return make(c->s, kind, key, arg, flags);
        if (!(flags & IPC_CREAT))
                return lookup(c, kind, key, arg, flags);
        r = make(c->s, kind, key, arg, flags | IPC_EXCL);
        if ((r != -EEXIST && r != -ENOSPC) || (flags & IPC_EXCL))
                return r;
        /* Taken, or a full table, which does not say whether it is. */
        found = lookup(c, kind, key, arg, flags);
        return r == -ENOSPC && found == -ENOENT ? r : found;
}

long sys_shmget(struct sentry_call *c, int key, uint64_t size, uint64_t flags)
{
        return ipc_get(c, SHM, key, (long)size, (int)flags);
}

long sys_semget(struct sentry_call *c, int key, int nsems, uint64_t flags)
{
        return ipc_get(c, SEM, key, nsems, (int)flags);
}

long sys_msgget(struct sentry_call *c, int key, uint64_t flags)
{
        return ipc_get(c, MSG, key, 0, (int)flags);
}

static long by_id(struct sentry_call *c, int kind, int id)
{
        if (owned(c->s, kind, id))
                return SENTRY_CONTINUE; /* the id is a register: no race */
        sentry_decide(c, "deny", "own-tree");
        return -EINVAL; /* what the kernel says for an id that is not there */
}

long sys_shm_id(struct sentry_call *c, int id)
{
        return by_id(c, SHM, id);
}

long sys_sem_id(struct sentry_call *c, int id)
{
        return by_id(c, SEM, id);
}

long sys_msg_id(struct sentry_call *c, int id)
{
        return by_id(c, MSG, id);
}

/* IPC_RMID is made here, not let through, so that an object is forgotten
 * only once it is gone: a record dropped for a call the kernel then
 * refused would leave an object that no longer counts for --max-memory
 * and outlives the session. */
static long rmid(struct sentry *s, int kind, int id)
{
        long r = kind == SHM   ? shmctl(id, IPC_RMID, NULL)
                 : kind == SEM ? semctl(id, 0, IPC_RMID)
                               : msgctl(id, IPC_RMID, NULL);
        if (r < 0)
                return -errno;
        disown(s, kind, id);
        return 0;
}

/* The *ctl calls: the global INFO commands tell counts only and pass; the
 * STAT-by-index commands would show anyone's objects and are refused; the
 * rest need an id of ours. cmd is compared whole, as x86_64's kernel does:
 * it does not parse the IPC_64 bit of other ABIs, and a command with it is
 * one the kernel refuses. */
static long ipc_ctl(struct sentry_call *c, int kind, int id, int cmd, int info1, int info2, int stat1,
                    int stat2)
{
        long r;

        if (cmd == IPC_INFO || cmd == info1 || cmd == info2)
                return SENTRY_CONTINUE;
        if (cmd == stat1 || cmd == stat2) {
                sentry_decide(c, "deny", "own-tree");
                return -EINVAL;
        }
        r = by_id(c, kind, id);
        if (r == SENTRY_CONTINUE && cmd == IPC_RMID)
                return rmid(c->s, kind, id);
        return r;
}

long sys_shmctl(struct sentry_call *c, int id, int cmd, uint64_t buf)
{
        (void)buf;
        return ipc_ctl(c, SHM, id, cmd, SHM_INFO, SHM_INFO, SHM_STAT, SHM_STAT_ANY);
}

long sys_semctl(struct sentry_call *c, int id, int num, int cmd, uint64_t arg)
{
        (void)num, (void)arg;
        return ipc_ctl(c, SEM, id, cmd, SEM_INFO, SEM_INFO, SEM_STAT, SEM_STAT_ANY);
}

long sys_msgctl(struct sentry_call *c, int id, int cmd, uint64_t buf)
{
        (void)buf;
        return ipc_ctl(c, MSG, id, cmd, MSG_INFO, MSG_INFO, MSG_STAT, MSG_STAT_ANY);
}
