/*
 * musl_emu/pipe.c - pipes: pipe2 makes a kernel pipe (KS_SYS_PIPE_*) and two
 * descriptors of kind FD_PIPE, one per end; read, write, fstat, fcntl and
 * ioctl(FIONREAD) on them come here from fs.c. O_NONBLOCK is the
 * descriptor's, passed to the kernel with each call.
 */
#include "musl_emu/internal.h"

#define PIPE_SIZE 65536             /* the kernel's ring (kernel/pipe.h) */

/* A pipe call's result as Linux has it: no readers is SIGPIPE, then (if that did not end us) EPIPE. */
static long pipe_ret(long r)
{
    if (r >= 0)
        return r;
    if (r == KS_ERR_PEER_CLOSED) {
        ks_upcall_raise(KS_THREAD_SELF, 1ull << (SIGPIPE - 1));
        return -EPIPE;
    }
    return linux_err(r);
}

long sys_pipe2(int *fds, long flags)
{
    if (flags & ~(long)(O_CLOEXEC | O_NONBLOCK))
        return -EINVAL;
    ks_handle_t ends[2];
    long r = ks_pipe_create(ends);
    if (r < 0)
        return linux_err(r);
    struct fd f = { .kind = FD_PIPE, .cloexec = !!(flags & O_CLOEXEC) };
    lock(&emu.fd_lock);
    long rd = fd_alloc_locked(0), wr = -EMFILE;
    if (rd >= 0) {
        f.flags = O_RDONLY | (int)(flags & O_NONBLOCK);
        f.h = ends[0];
        fd_set_locked(rd, &f, NULL);
        if ((wr = fd_alloc_locked(rd + 1)) >= 0) {
            f.flags = O_WRONLY | (int)(flags & O_NONBLOCK);
            f.h = ends[1];
            fd_set_locked(wr, &f, NULL);
        } else {
            fd_set_locked(rd, &(struct fd){ .kind = FD_FREE }, NULL);
        }
    }
    unlock(&emu.fd_lock);
    if (wr < 0) {
        ks_handle_close(ends[0]);
        ks_handle_close(ends[1]);
        return wr;
    }
    fds[0] = (int)rd;
    fds[1] = (int)wr;
    return 0;
}

/* A signal interrupting a wait restarts it (SA_RESTART) or fails it with EINTR. */
long pipe_read(const struct fd *f, void *buf, size_t len)
{
    long r;
    do {
        emu_restart_ok = 0;
        r = ks_pipe_read(f->h, buf, len, f->flags & O_NONBLOCK ? KS_PIPE_NONBLOCK : 0);
    } while (r == KS_ERR_INTERRUPTED && emu_restart());
    return r < 0 ? linux_err(r) : r;
}

long pipe_write(const struct fd *f, const void *buf, size_t len)
{
    long r;
    do {
        emu_restart_ok = 0;
        r = ks_pipe_write(f->h, buf, len, f->flags & O_NONBLOCK ? KS_PIPE_NONBLOCK : 0);
    } while (r == KS_ERR_INTERRUPTED && emu_restart());
    return pipe_ret(r);
}

void pipe_stat(const struct fd *f, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_dev = 2;                     /* not the FS server's device */
    st->st_ino = f->h;
    st->st_mode = S_IFIFO | 0600;
    st->st_nlink = 1;
    st->st_blksize = 4096;
}

long pipe_fcntl(const struct fd *f, long cmd, long arg)
{
    (void)f;
    if (cmd == F_GETPIPE_SZ)
        return PIPE_SIZE;
    return arg <= PIPE_SIZE ? PIPE_SIZE : -EPERM;   /* F_SETPIPE_SZ: the size is fixed */
}

long pipe_ioctl(const struct fd *f, unsigned long req, void *arg)
{
    if (req != FIONREAD)
        return -ENOTTY;
    long n = ks_pipe_info(f->h);
    if (n < 0)
        return linux_err(n);
    *(int *)arg = (int)n;
    return 0;
}
