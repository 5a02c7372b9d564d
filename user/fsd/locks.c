/*
 * user/fsd/locks.c - advisory record locks (fcntl F_SETLK, F_GETLK; flock is
 * built on them): per inode, byte ranges held for reading (shared) or writing
 * (exclusive) by a process. A fixed table: taking a lock allocates nothing.
 *
 * Owners are pids, and a lock outlives nothing: before every decision the
 * locks of processes that have ended are dropped (KS_SYS_PID_ALIVE), so a
 * client killed while holding one leaves no lock behind. fsd never waits:
 * F_SETLKW is the client asking again (musl_emu/fs.c).
 */
#include "user/fsd/fsd.h"

#define MAX_LOCKS 64

struct lock {
    uint64_t ino;               /* 0: a free slot */
    uint32_t pid;
    uint32_t write;
    uint64_t start, end;        /* bytes [start, end); end UINT64_MAX: to the end of the file */
};

static struct lock locks[MAX_LOCKS];

/* Drop the locks of processes that have ended. */
static void prune_dead(void)
{
    for (int i = 0; i < MAX_LOCKS; i++)
        if (locks[i].ino && ks_pid_alive(locks[i].pid) != 1)
            locks[i].ino = 0;
}

/* The first lock of another process that conflicts with (ino, pid, write, [start, end)), or NULL. */
static struct lock *conflict(uint64_t ino, uint32_t pid, int write, uint64_t start, uint64_t end)
{
    for (int i = 0; i < MAX_LOCKS; i++) {
        struct lock *l = &locks[i];
        if (l->ino == ino && l->pid != pid && l->start < end && start < l->end && (write || l->write))
            return l;
    }
    return NULL;
}

static struct lock *free_slot(void)
{
    for (int i = 0; i < MAX_LOCKS; i++)
        if (!locks[i].ino)
            return &locks[i];
    return NULL;
}

/* Take [start, end) out of pid's locks on ino (a lock in the middle splits in two). 0 or -ENOLCK. */
static long carve(uint64_t ino, uint32_t pid, uint64_t start, uint64_t end)
{
    for (int i = 0; i < MAX_LOCKS; i++) {
        struct lock *l = &locks[i];
        if (l->ino != ino || l->pid != pid || l->end <= start || end <= l->start)
            continue;
        if (l->start < start && end < l->end) {     /* the hole is inside: keep both sides */
            struct lock *r = free_slot();
            if (!r)
                return -ENOLCK;
            *r = *l;
            r->start = end;
            l->end = start;
        } else if (l->start < start) {
            l->end = start;
        } else if (end < l->end) {
            l->start = end;
        } else {
            l->ino = 0;
        }
    }
    return 0;
}

long op_lock(struct req *q)
{
    uint64_t op = q->in[1], type = q->in[2], start = q->in[3], len = q->in[4], ino = q->in[6];
    uint32_t pid = (uint32_t)q->in[5];
    uint64_t end = len == 0 || start + len < start ? UINT64_MAX : start + len;
    if (!ino || !ino_find(ino) || type > FS_LOCK_UNLOCK || op > FS_LOCK_RELEASE_ALL)
        return -EINVAL;
    prune_dead();
    if (op == FS_LOCK_RELEASE_ALL)
        return carve(ino, pid, 0, UINT64_MAX);
    struct lock *c = type == FS_LOCK_UNLOCK ? NULL : conflict(ino, pid, type == FS_LOCK_WRITE, start, end);
    if (op == FS_LOCK_TEST) {
        q->out[1] = c ? (c->write ? FS_LOCK_WRITE : FS_LOCK_READ) : FS_LOCK_UNLOCK;
        q->out[2] = c ? c->start : 0;
        q->out[3] = c && c->end != UINT64_MAX ? c->end - c->start : 0;
        q->out[4] = c ? c->pid : 0;
        return 0;
    }
    if (c)
        return -EAGAIN;
    int free = 0;                       /* room first: a failed request changes no lock */
    for (int i = 0; i < MAX_LOCKS; i++)
        free += !locks[i].ino;
    if (free < (type == FS_LOCK_UNLOCK ? 1 : 2))    /* a split, and the new lock */
        return -ENOLCK;
    long r = carve(ino, pid, start, end);
    if (r < 0 || type == FS_LOCK_UNLOCK)
        return r;
    struct lock *l = free_slot();
    if (!l)
        return -ENOLCK;
    *l = (struct lock){ ino, pid, type == FS_LOCK_WRITE, start, end };
    return 0;
}
