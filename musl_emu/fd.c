/*
 * musl_emu/fd.c - the file descriptor table: slots read without a lock as a consistent
 * copy (a sequence count per slot), changed under emu.fd_lock. See internal.h.
 */
#include "musl_emu/internal.h"

int fd_get(long fd, struct fd *out)
{
    if ((unsigned long)fd >= MAX_FDS)
        return 0;
    while (!fd_snapshot(fd, out))
        ks_thread_yield();              /* a writer was preempted half-way: let it finish */
    return out->kind != FD_FREE;
}

/* A slot's change begins: its sequence count goes odd (fd_snapshot's readers retry). The old count. */
static inline uint32_t slot_change_begin(struct fd *f)
{
    uint32_t seq = f->seq;
    __atomic_store_n(&f->seq, seq + 1, __ATOMIC_RELAXED);
    SEQ_BARRIER();
    return seq;
}

/* ...and ends with the slot *val, its count even again. */
static inline void slot_change_end(struct fd *f, const struct fd *val, uint32_t seq)
{
    *f = *val;
    f->seq = seq + 1;
    SEQ_BARRIER();
    __atomic_store_n(&f->seq, seq + 2, __ATOMIC_RELAXED);
}

/* fd_set_locked for a DIR slot, whose path changes with it. */
static __attribute__((noinline)) void set_dir_slot(long fd, const struct fd *val, const char *path)
{
    struct fd *f = &emu.fds[fd];
    uint32_t seq = slot_change_begin(f);
    strcpy(emu.dir_path[fd], path);
    slot_change_end(f, val, seq);
}

/* Set slot fd to *val (fd_lock held); path: a DIR slot's path, else NULL. (Without one: no call, no frame.) */
void fd_set_locked(long fd, const struct fd *val, const char *path)
{
    if (path) {
        set_dir_slot(fd, val, path);
        return;
    }
    struct fd *f = &emu.fds[fd];
    slot_change_end(f, val, slot_change_begin(f));
}

/* The directory path of slot fd (a DIR) into out (FS_PATH_MAX): 0, or -EBADF / -ENOTDIR. */
long fd_dir_path(long fd, char *out)
{
    struct fd d;
    for (;;) {
        if (!fd_get(fd, &d))
            return -EBADF;
        if (d.kind != FD_DIR)
            return -ENOTDIR;
        size_t i = 0;           /* bounded: a path being rewritten may lack its NUL for a moment */
        for (; i < FS_PATH_MAX - 1 && emu.dir_path[fd][i]; i++)
            out[i] = emu.dir_path[fd][i];
        out[i] = 0;
        SEQ_BARRIER();
        if (__atomic_load_n(&emu.fds[fd].seq, __ATOMIC_RELAXED) == d.seq)
            return 0;
    }
}

/* The lowest free fd at or above `from` (fd_lock held), or -EMFILE. */
long fd_alloc_locked(long from)
{
    long limit = emu.nofile ? emu.nofile : MAX_FDS;     /* RLIMIT_NOFILE */
    for (long i = from < 0 ? 0 : from; i < limit; i++)
        if (emu.fds[i].kind == FD_FREE)
            return i;
    return -EMFILE;
}

/* Close the handles of a slot's copy that is no longer in the table. */
void fd_release_handles(struct fd *f)
{
    if (fd_kind_has_handles(f->kind)) {
        ks_handle_close(f->h);
        if (f->h2)
            ks_handle_close(f->h2);
    }
}

long fd_memobj(long fd, struct fd *f)
{
    if (f->h2)
        return f->h2;
    long m = ks_view_memobj(f->h);
    if (m < 0)
        return linux_err(m);
    lock(&emu.fd_lock);
    struct fd now = emu.fds[fd];        /* (slots change only under the lock) */
    if (now.kind != FD_FILE || now.h != f->h) {
        unlock(&emu.fd_lock);
        ks_handle_close((ks_handle_t)m);
        return -EBADF;                  /* closed, and maybe reused, since the copy was taken */
    }
    if (now.h2) {
        ks_handle_close((ks_handle_t)m);        /* another thread fetched it first */
        m = now.h2;
    } else {
        now.h2 = (ks_handle_t)m;
        fd_set_locked(fd, &now, NULL);
    }
    unlock(&emu.fd_lock);
    f->h2 = (ks_handle_t)m;
    return m;
}

/*
 * Make slot `to` a copy of slot `from` (f: its open copy) with close-on-exec
 * as given (fd_lock held): the same objects, so a file's position is shared,
 * and a directory's path. 0, or -errno with slot `to` untouched.
 */
long fd_copy_locked(long from, const struct fd *f, long to, int cloexec)
{
    struct fd copy = *f;
    char path[FS_PATH_MAX];
    if (f->kind == FD_DIR) {
        long r = fd_dir_path(from, path);
        if (r < 0)
            return r;
    }
    copy.cloexec = !!cloexec;
    if (fd_kind_has_handles(f->kind)) {
        long h = ks_handle_duplicate(f->h, (uint32_t)ks_handle_info(f->h) & KS_RIGHTS_ALL);
        if (h < 0)
            return linux_err(h);
        copy.h = (ks_handle_t)h;
        if (f->h2) {
            long m = ks_handle_duplicate(f->h2, (uint32_t)ks_handle_info(f->h2) & KS_RIGHTS_ALL);
            if (m < 0) {
                ks_handle_close(copy.h);
                return linux_err(m);
            }
            copy.h2 = (ks_handle_t)m;
        }
    }
    fd_set_locked(to, &copy, f->kind == FD_DIR ? path : NULL);
    return 0;
}

