/*
 * musl_emu/locks.c - advisory file locks: fcntl F_GETLK, F_SETLK, F_SETLKW
 * and flock, on fsd's lock table (FS_OP_LOCK; user/fsd/locks.c).
 *
 * Locks belong to the process (owner: its pid), as POSIX record locks do.
 * flock's are the same whole-file locks (on Linux they belong to the open
 * file description instead: a difference only when one process locks one
 * file through two descriptors). Closing any descriptor of a file drops the
 * process's locks on it, as POSIX says; a process that ends loses them in
 * fsd, which drops the locks of processes that have ended. F_SETLKW and a
 * blocking flock ask again every 10 ms until the lock is free or a signal
 * comes (EINTR, or again with SA_RESTART).
 */
#include "musl_emu/internal.h"

#define LOCKED_MAX 16

/* Inodes this process has asked fsd to lock: close tells fsd only for these. */
static uint64_t locked_inodes[LOCKED_MAX];
static struct emu_lock locked_lock;
static int any_locked;              /* ever asked: until then close and fork look no further */
static int overflowed;              /* an inode did not fit (or locks came over exec): every
                                       close of a file tells fsd */

static void remember(uint64_t ino)
{
    any_locked = 1;
    lock(&locked_lock);
    int free = -1, seen = 0;
    for (int i = 0; i < LOCKED_MAX; i++) {
        seen |= locked_inodes[i] == ino;
        if (!locked_inodes[i] && free < 0)
            free = i;
    }
    if (!seen && free >= 0)
        locked_inodes[free] = ino;
    else if (!seen)
        overflowed = 1;
    unlock(&locked_lock);
}

/* One FS_OP_LOCK: fsd's status; w gets its reply words. */
static long lock_call(uint64_t op, uint64_t type, uint64_t start, uint64_t len, uint64_t ino,
                      uint64_t w[KS_IPC_WORDS])
{
    w[0] = FS_OP_LOCK;
    w[1] = op;
    w[2] = type;
    w[3] = start;
    w[4] = len;
    w[5] = emu.pid;
    w[6] = ino;
    w[7] = 0;
    if (!emu.root)
        return -ENOLCK;
    long r = ks_ipc_call(emu.root, NULL, w, NULL);
    return r < 0 ? linux_err(r) : (long)w[0];
}

void locks_closing(uint64_t ino)
{
    uint64_t w[KS_IPC_WORDS];
    int held = overflowed;
    if (!any_locked)
        return;
    lock(&locked_lock);
    for (int i = 0; i < LOCKED_MAX && ino; i++)
        if (locked_inodes[i] == ino) {
            locked_inodes[i] = 0;
            held = 1;
        }
    unlock(&locked_lock);
    if (held)
        lock_call(FS_LOCK_RELEASE_ALL, FS_LOCK_UNLOCK, 0, 0, ino, w);
}

void locks_fork_child(void)
{
    if (!any_locked)
        return;                     /* (writing the page would copy it: only if it was used) */
    memset(locked_inodes, 0, sizeof locked_inodes);     /* locks are not inherited */
    locked_lock.v = 0;
    any_locked = overflowed = 0;
}

int locks_any(void)
{
    return any_locked;
}

void locks_after_exec(void)
{
    any_locked = overflowed = 1;    /* fsd keeps the pid's locks over exec; which files, we forgot */
}

/* Set a lock, asking again every 10 ms if `wait` while another process holds it. */
static long set_lock(uint64_t type, uint64_t start, uint64_t len, uint64_t ino, int wait)
{
    uint64_t w[KS_IPC_WORDS];
    if (type != FS_LOCK_UNLOCK)
        remember(ino);
    for (;;) {
        long r = lock_call(FS_LOCK_SET, type, start, len, ino, w);
        if (r != -EAGAIN || !wait)
            return r;
        emu_restart_ok = 0;
        if (ks_thread_sleep(10000000) == KS_ERR_INTERRUPTED && !emu_restart())
            return -EINTR;
    }
}

/* struct flock's range as [start, start + len) (len 0: to the end) for slot fd (*f its copy): 0, or -errno. */
static long flock_range(long fd, struct fd *f, const struct flock *fl, uint64_t *start, uint64_t *len)
{
    int64_t base = 0;
    if (fl->l_whence == SEEK_CUR) {
        base = ks_view_seek(f->h, 0, KS_SEEK_CUR);
    } else if (fl->l_whence == SEEK_END) {
        long m = fd_memobj(fd, f);
        if (m < 0)
            return m;
        base = ks_memobj_size((ks_handle_t)m);
    } else if (fl->l_whence != SEEK_SET) {
        return -EINVAL;
    }
    if (base < 0)
        return linux_err(base);
    int64_t s = base + fl->l_start, l = fl->l_len;
    if (l < 0) {                        /* [start + len, start) */
        s += l;
        l = -l;
    }
    if (s < 0)
        return -EINVAL;
    *start = (uint64_t)s;
    *len = (uint64_t)l;
    return 0;
}

long sys_fcntl_lock(long fd, long cmd, struct flock *fl)
{
    struct fd f;
    uint64_t start = 0, len = 0, w[KS_IPC_WORDS];
    static const short types[] = { [F_RDLCK] = FS_LOCK_READ, [F_WRLCK] = FS_LOCK_WRITE,
                                   [F_UNLCK] = FS_LOCK_UNLOCK };
    if (!fd_get(fd, &f))
        return -EBADF;
    if (f.kind != FD_FILE)
        return -EINVAL;                 /* only files have locks here */
    if (fl->l_type != F_RDLCK && fl->l_type != F_WRLCK && fl->l_type != F_UNLCK)
        return -EINVAL;
    long r = flock_range(fd, &f, fl, &start, &len);
    if (r < 0)
        return r;
    if (cmd == F_GETLK) {
        if ((r = lock_call(FS_LOCK_TEST, types[fl->l_type], start, len, f.ino, w)) < 0)
            return r;
        fl->l_type = w[1] == FS_LOCK_READ ? F_RDLCK : w[1] == FS_LOCK_WRITE ? F_WRLCK : F_UNLCK;
        if (fl->l_type != F_UNLCK) {
            fl->l_whence = SEEK_SET;
            fl->l_start = (off_t)w[2];
            fl->l_len = (off_t)w[3];
            fl->l_pid = (pid_t)w[4];
        }
        return 0;
    }
    if ((fl->l_type == F_RDLCK && (f.flags & O_ACCMODE) == O_WRONLY) ||
        (fl->l_type == F_WRLCK && (f.flags & O_ACCMODE) == O_RDONLY))
        return -EBADF;                  /* a read lock needs read access, a write lock write */
    return set_lock(types[fl->l_type], start, len, f.ino, cmd == F_SETLKW);
}

long sys_flock(long fd, long op)
{
    struct fd f;
    if (!fd_get(fd, &f))
        return -EBADF;
    if (f.kind != FD_FILE)
        return -EINVAL;
    uint64_t type;
    switch (op & ~(long)LOCK_NB) {
    case LOCK_SH: type = FS_LOCK_READ; break;
    case LOCK_EX: type = FS_LOCK_WRITE; break;
    case LOCK_UN: type = FS_LOCK_UNLOCK; break;
    default: return -EINVAL;
    }
    long r = set_lock(type, 0, 0, f.ino, !(op & LOCK_NB));
    return r == -EAGAIN ? -EWOULDBLOCK : r;
}
