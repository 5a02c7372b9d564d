/*
 * musl_emu/fs.c - the calls that go to the FS server or to a file's view: open, close,
 * read and write (a view, the console's ports), readv/writev, lseek, stat,
 * getdents64, ftruncate, dup, fcntl, ioctl, mkdir, unlink, rename, and the
 * client side of user/lib/fsproto.h's protocol. See internal.h.
 */
#include "musl_emu/internal.h"
#include "user/lib/fstermios.h"

/* ---- talking to the FS server ---- */

/*
 * One call: words w (MR0 = op in, status out), optional send and receive
 * buffers, call flags (KS_IPC_CALL_*). Returns the server's status (MR0 of
 * the reply; its other words stay in w) or the errno for an IPC failure.
 * Handles received go to hs (up to KS_IPC_MAX_HANDLES; *nh says how many), or
 * are closed if hs is NULL. A signal ends the call only while it waits for
 * fsd to take it (so fsd never did it): the call is sent again, as a Linux
 * file system call is not interrupted either. With KS_IPC_CALL_INTERRUPTIBLE
 * (a console read, which may wait for ever) it ends the call while fsd holds
 * it too, which then starts again if the signal's action had SA_RESTART and
 * else fails with EINTR.
 */
static long fs_call_flags(ks_handle_t port, uint64_t w[KS_IPC_WORDS], const void *send, size_t send_len,
                          void *recv, size_t recv_cap, ks_handle_t hs[KS_IPC_MAX_HANDLES],
                          uint32_t *nh, uint32_t flags)
{
    long r;
    if (!send_len && !recv_cap && !hs && !nh && !flags) {   /* words only: no descriptor at all */
        while ((r = ks_ipc_call(port, NULL, w, NULL)) == KS_ERR_INTERRUPTED)
            ;                           /* still queued: w is the request as sent (kestrel/ipc.h) */
        return r < 0 ? linux_err(r) : (long)w[0];
    }
    struct ks_ipc_desc d = { 0 };
    d.send_buf = send;
    d.send_len = send_len;
    d.recv_buf = recv;
    d.recv_cap = recv_cap;
    d.call_flags = flags;
    while ((r = ks_ipc_call(port, &d, w, NULL)) == KS_ERR_INTERRUPTED && !(flags & KS_IPC_CALL_INTERRUPTIBLE))
        ;                               /* as above; an interruptible one is the caller's to resend */
    if (r < 0)
        return linux_err(r);
    if (nh)
        *nh = d.recv_nhandles;
    for (uint32_t i = 0; i < d.recv_nhandles; i++) {
        if (hs)
            hs[i] = d.recv_handles[i];
        else
            ks_handle_close(d.recv_handles[i]);
    }
    return (long)w[0];
}

static inline long fs_call(ks_handle_t port, uint64_t w[KS_IPC_WORDS], const void *send, size_t send_len,
                           void *recv, size_t recv_cap, ks_handle_t hs[KS_IPC_MAX_HANDLES], uint32_t *nh)
{
    return fs_call_flags(port, w, send, send_len, recv, recv_cap, hs, nh, 0);
}

/*
 * The absolute form of `path` relative to dirfd, in out (FS_PATH_MAX bytes).
 * Only "/"-rooted and dirfd-relative paths; "." and ".." are left to the server.
 */
static long abs_path(long dirfd, const char *path, char *out)
{
    size_t n = strnlen(path, FS_PATH_MAX);
    if (n == FS_PATH_MAX)
        return -ENAMETOOLONG;
    if (n == 0)
        return -ENOENT;
    if (path[0] == '/') {
        memcpy(out, path, n + 1);
        return (long)n;
    }
    char base[FS_PATH_MAX] = "/";
    if (dirfd != AT_FDCWD) {
        long r = fd_dir_path(dirfd, base);
        if (r < 0)
            return r;
    } else if (emu.cwd[0]) {
        lock(&emu.fd_lock);                     /* chdir changes it under the same lock */
        strcpy(base, emu.cwd);
        unlock(&emu.fd_lock);
    }
    size_t b = strlen(base);
    int slash = b > 0 && base[b - 1] != '/';
    if (b + slash + n >= FS_PATH_MAX)
        return -ENAMETOOLONG;
    memcpy(out, base, b);
    if (slash)
        out[b++] = '/';
    memcpy(out + b, path, n + 1);
    return (long)(b + n);
}

/*
 * Put the n-byte path in MR3..MR7 if it fits (FS_PATH_INLINE, fsproto.h; the
 * words must be zero there) and return 0 bytes left to send, else n.
 */
static size_t path_inline(uint64_t w[KS_IPC_WORDS], const char *path, size_t n)
{
    if (n > FS_PATH_INLINE_MAX)
        return n;
    memcpy(&w[3], path, n);
    w[0] |= FS_PATH_INLINE | (uint64_t)n << FS_PATH_INLINE_SHIFT;
    return 0;
}

/*
 * path_inline for an absolute path of at most FS_PATH_INLINE_MAX bytes, in
 * one pass that finds its length as it copies (no strnlen, no memcpy): 1 if
 * it went into the words, else 0 (relative or longer), with MR3..MR7 zero
 * again as path_inline wants them.
 */
static inline int path_inline_short(uint64_t w[KS_IPC_WORDS], const char *path)
{
    if (path[0] != '/')
        return 0;
    char *to = (char *)&w[3];
    size_t n = 0;
    for (; path[n]; n++) {
        if (n == FS_PATH_INLINE_MAX) {
            w[3] = w[4] = w[5] = w[6] = w[7] = 0;
            return 0;
        }
        to[n] = path[n];
    }
    w[0] |= FS_PATH_INLINE | (uint64_t)n << FS_PATH_INLINE_SHIFT;
    return 1;
}

/* A path call on the root port: MR0 = op (| FS_NOFOLLOW), MR1 = arg; the status. */
static long fs_path_op(uint64_t op, long dirfd, const char *path, uint64_t arg,
                       uint64_t w[KS_IPC_WORDS])
{
    char abs[FS_PATH_MAX];
    if (!emu.root)
        return -ENOENT;
    _Static_assert(KS_IPC_WORDS == 8, "fs_path_op sets each message word");
    w[0] = op;                          /* every word, one by one (no memset call) */
    w[1] = arg;
    w[2] = w[3] = w[4] = w[5] = w[6] = w[7] = 0;
    if (path_inline_short(w, path))     /* absolute and short: straight into the words */
        return fs_call(emu.root, w, NULL, 0, NULL, 0, NULL, NULL);
    long len = abs_path(dirfd, path, abs);
    if (len < 0)
        return len;
    size_t send = path_inline(w, abs, (size_t)len);
    return fs_call(emu.root, w, abs, send, NULL, 0, NULL, NULL);
}

/* ---- files ---- */

long sys_openat(long dirfd, const char *path, long flags, long mode)
{
    char abs[FS_PATH_MAX];
    uint64_t w[KS_IPC_WORDS] = { FS_OP_OPEN, (uint64_t)flags, (uint64_t)(mode & ~(long)emu.umask) };
    ks_handle_t hs[KS_IPC_MAX_HANDLES] = { 0 };
    uint32_t nh = 0;
    if (!emu.root)
        return -ENOENT;
    /* absolute and short: straight into the words, as fs_path_op does (abs made only for a directory) */
    const char *sent = path;
    size_t send = 0;
    if (!path_inline_short(w, path)) {
        long r = abs_path(dirfd, path, abs);
        if (r < 0)
            return r;
        sent = abs;
        send = path_inline(w, abs, (size_t)r);
    }
    long kind = fs_call(emu.root, w, sent, send, NULL, 0, hs, &nh);
    if (kind < 0) {
        for (uint32_t i = 0; i < nh; i++)
            ks_handle_close(hs[i]);
        return kind;
    }
    lock(&emu.fd_lock);
    long fd = fd_alloc_locked(0);
    if (fd < 0) {
        unlock(&emu.fd_lock);
        for (uint32_t i = 0; i < nh; i++)
            ks_handle_close(hs[i]);
        return fd;
    }
    struct fd f = { 0 };
    f.kind = kind == FS_KIND_FILE ? FD_FILE : kind == FS_KIND_DIR ? FD_DIR :
             kind == FS_KIND_CONSOLE ? FD_CONSOLE : FD_DEV;
    if (f.kind == FD_DEV)
        f.pos = (uint32_t)kind;
    f.flags = (int)(flags & (O_ACCMODE | O_APPEND | O_NONBLOCK));
    f.cloexec = !!(flags & O_CLOEXEC);
    f.h = hs[0];
    f.h2 = kind == FS_KIND_CONSOLE ? hs[1] : 0;  /* a file's memobj handle comes later (fd_memobj) */
    f.ino = w[1];
    if (f.kind == FD_DIR && sent != abs)
        strcpy(abs, sent);              /* (short: at most FS_PATH_INLINE_MAX bytes) */
    fd_set_locked(fd, &f, f.kind == FD_DIR ? abs : NULL);
    unlock(&emu.fd_lock);
    if (f.kind == FD_CONSOLE && !(flags & O_NOCTTY) && emu.sid == emu.pid && !emu.ctty) {
        emu.ctty = 1;           /* a session leader opening a terminal makes it its controlling one */
        emu_tty_join(KS_PROCESS_SELF, emu.pid, emu.pgid);
    }
    return fd;
}

void emu_tty_join(ks_handle_t h, uint32_t pid, uint32_t pgid)
{
    if (!emu.ctty || !emu.root)
        return;
    long s = pgid ? ks_handle_duplicate(h, KS_RIGHT_SIGNAL | KS_RIGHT_WAIT | KS_RIGHT_READ |
                                                KS_RIGHT_TRANSFER) : 0;
    if (s < 0)
        return;
    struct ks_ipc_desc d = { 0 };
    d.send_handles[0] = (ks_handle_t)s;
    d.send_nhandles = s ? 1 : 0;
    uint64_t w[KS_IPC_WORDS] = { FS_OP_TTYJOIN, pid, pgid };
    while (ks_ipc_call(emu.root, &d, w, NULL) == KS_ERR_INTERRUPTED)
        ;
}

/* The console's terminal requests (termios, window size, flush, controlling terminal). */
static long console_ioctl(const struct fd *f, unsigned long req, void *arg)
{
    uint64_t w[KS_IPC_WORDS] = { FS_OP_TCATTR };
    switch (req) {
    case TCGETS: {
        w[1] = FS_TCATTR_GET;
        long r = fs_call(f->h, w, NULL, 0, NULL, 0, NULL, NULL);
        if (r == 0)
            fs_termios_from_words((struct termios *)arg, w);
        return r;
    }
    case TCSETS: case TCSETSW: case TCSETSF:
        w[1] = req == TCSETSF ? FS_TCATTR_SET_FLUSH : FS_TCATTR_SET;
        fs_termios_to_words((const struct termios *)arg, w);
        return fs_call(f->h, w, NULL, 0, NULL, 0, NULL, NULL);
    case TCFLSH:
        if ((long)arg != TCIFLUSH && (long)arg != TCOFLUSH && (long)arg != TCIOFLUSH)
            return -EINVAL;
        if ((long)arg == TCOFLUSH)
            return 0;           /* output is never queued */
        w[1] = FS_TCATTR_FLUSH;
        return fs_call(f->h, w, NULL, 0, NULL, 0, NULL, NULL);
    case TCSBRK: case TCXONC:
        return 0;               /* tcdrain (output goes out at once), tcflow */
    case TIOCGWINSZ: case TIOCSWINSZ: {
        struct winsize *ws = arg;
        w[0] = FS_OP_WINSZ;
        w[1] = req == TIOCSWINSZ;
        w[2] = req == TIOCSWINSZ ? ws->ws_row : 0;
        w[3] = req == TIOCSWINSZ ? ws->ws_col : 0;
        long r = fs_call(f->h, w, NULL, 0, NULL, 0, NULL, NULL);
        if (r == 0 && req == TIOCGWINSZ)
            *ws = (struct winsize){ .ws_row = (unsigned short)w[1], .ws_col = (unsigned short)w[2] };
        return r;
    }
    case TIOCSCTTY:
        if (emu.sid != emu.pid)
            return -EPERM;
        if (!emu.ctty) {
            emu.ctty = 1;
            emu_tty_join(KS_PROCESS_SELF, emu.pid, emu.pgid);
        }
        return 0;
    case TIOCNOTTY:
        if (emu.ctty) {
            emu_tty_join(KS_PROCESS_SELF, emu.pid, 0);
            emu.ctty = 0;
        }
        return 0;
    default:
        return -ENOTTY;
    }
}

long sys_close(long fd)
{
    static const struct fd free_slot;
    struct fd old;
    lock(&emu.fd_lock);
    if (!fd_get(fd, &old)) {
        unlock(&emu.fd_lock);
        return -EBADF;
    }
    fd_set_locked(fd, &free_slot, NULL);
    unlock(&emu.fd_lock);
    if (old.kind == FD_FILE)
        locks_closing(old.ino);
    fd_release_handles(&old);
    return 0;
}

/*
 * Console write: a short one in registers through the write port (served by a
 * thread that receives without a descriptor: the IPC fast path both ways), a
 * longer one as a buffer through the console port, which also takes a short
 * one when there is no write port (h2 0). Bytes written, or -errno.
 * (The optimize attribute keeps GCC from turning the byte loop back into a
 * memcpy call, which costs more for a few bytes.)
 */
static __attribute__((noinline, optimize("no-tree-loop-distribute-patterns")))
long console_write(ks_handle_t h, ks_handle_t h2, const void *buf, size_t len)
{
    uint64_t w[KS_IPC_WORDS] = { FS_OP_WRITE, len };
    if (len <= FS_INLINE_MAX) {
        const uint8_t *src = buf;
        uint8_t *dst = (uint8_t *)&w[2];
        for (size_t i = 0; i < len; i++)    /* a few bytes: cheaper than calling memcpy */
            dst[i] = src[i];
        long r;
        while ((r = ks_ipc_call(h2 ? h2 : h, NULL, w, NULL)) == KS_ERR_INTERRUPTED)
            ;                           /* still queued: fsd never saw it, w is as sent */
        return r < 0 ? linux_err(r) : (long)w[0];
    }
    if (len > KS_IPC_MAX_BUF)
        w[1] = len = KS_IPC_MAX_BUF;
    return fs_call(h, w, buf, len, NULL, 0, NULL, NULL);
}

/*
 * Console read through the console port: blocks until input; bytes read (at
 * least 1), or -errno. A signal ends the wait: the read starts again if the
 * handler had SA_RESTART, else EINTR.
 */
static long console_read(ks_handle_t port, void *buf, size_t len)
{
    long r;
    do {
        uint64_t w[KS_IPC_WORDS] = { FS_OP_READ, len > KS_IPC_MAX_BUF ? KS_IPC_MAX_BUF : len };
        emu_restart_ok = 0;
        r = fs_call_flags(port, w, NULL, 0, buf, w[1], NULL, NULL, KS_IPC_CALL_INTERRUPTIBLE);
    } while (r == -EINTR && emu_restart());
    return r;
}

/* write() other than to a plain file: appending, the console, the debug console. */
static __attribute__((noinline)) long write_other(const struct fd *f, const void *buf, size_t len)
{
    switch (f->kind) {
    case FD_FILE:
        ks_view_seek(f->h, 0, KS_SEEK_END);     /* O_APPEND (not atomic: one process) */
        return ret_or_err(ks_view_write(f->h, buf, len));
    case FD_CONSOLE:
        return console_write(f->h, f->h2, buf, len);
    case FD_DEBUG:
        return ret_or_err(ks_debug_write(buf, len));
    case FD_PIPE:
        return pipe_write(f, buf, len);
    case FD_DEV:
        return f->pos == FS_KIND_FULL ? -ENOSPC : (long)len;     /* the others swallow it all */
    default:
        return -EISDIR;
    }
}

/* write() when sys_write's quick look did not decide: any kind, any flags, a busy slot. */
static __attribute__((noinline)) long write_slow(long fd, const void *buf, size_t len)
{
    struct fd f;
    if (!fd_get(fd, &f) || (f.flags & O_ACCMODE) == O_RDONLY)
        return -EBADF;
    if (f.kind != FD_FILE || (f.flags & O_APPEND))
        return write_other(&f, buf, len);
    return ret_or_err(ks_view_write(f.h, buf, len));
}

/*
 * write(). The common cases, a plain file (one view_write system call) and a
 * short console write (one IPC round trip), are decided here on fields read
 * straight from the slot (checked against its sequence count), with nothing
 * on the stack; everything else is write_slow's.
 */
__attribute__((noinline)) long sys_write(long fd, const void *buf, size_t len)
{
    struct fd s;
    if (fd_snapshot(fd, &s) && (s.flags & O_ACCMODE) != O_RDONLY && !(s.flags & O_APPEND)) {
        if (s.kind == FD_FILE)
            return ret_or_err(ks_view_write(s.h, buf, len));
        if (s.kind == FD_CONSOLE)
            return console_write(s.h, s.h2, buf, len);
    }
    return write_slow(fd, buf, len);
}

/* read() other than from a plain file: the console, the debug console (end of file). */
static __attribute__((noinline)) long read_other(const struct fd *f, void *buf, size_t len)
{
    switch (f->kind) {
    case FD_CONSOLE:
        return console_read(f->h, buf, len);
    case FD_DEBUG:
        return 0;
    case FD_PIPE:
        return pipe_read(f, buf, len);
    case FD_DEV:
        if (f->pos == FS_KIND_NULL)
            return 0;                   /* end of file at once */
        memset(buf, 0, len);            /* zero and full read as zeros */
        return (long)len;
    default:
        return -EISDIR;
    }
}

/* read() when sys_read's quick look did not decide, as write_slow. */
static __attribute__((noinline)) long read_slow(long fd, void *buf, size_t len)
{
    struct fd f;
    if (!fd_get(fd, &f) || (f.flags & O_ACCMODE) == O_WRONLY)
        return -EBADF;
    if (f.kind != FD_FILE)
        return read_other(&f, buf, len);
    return ret_or_err(ks_view_read(f.h, buf, len));
}

/* read(): a plain file is one view_read system call, decided as in sys_write. */
__attribute__((noinline)) long sys_read(long fd, void *buf, size_t len)
{
    struct fd s;
    if (fd_snapshot(fd, &s) && s.kind == FD_FILE && (s.flags & O_ACCMODE) != O_WRONLY)
        return ret_or_err(ks_view_read(s.h, buf, len));
    return read_slow(fd, buf, len);
}

/*
 * writev/readv: the fd and its access mode first (as Linux: even with nothing
 * to transfer), then one call per piece, stopping at a short transfer. A
 * console writev whose pieces fit in registers together (musl's stdio flushes
 * its buffer and the new data as two pieces) is sent as one message.
 */
__attribute__((noinline)) long sys_rwv(long fd, const struct iovec *iov, long n, int writing)
{
    struct fd f;
    if (!fd_get(fd, &f) || (f.flags & O_ACCMODE) == (writing ? O_RDONLY : O_WRONLY))
        return -EBADF;
    if (n < 0 || n > 1024)
        return -EINVAL;
    for (long i = 0; i < n; i++)
        if (iov[i].iov_len > (size_t)SSIZE_MAX)
            return -EINVAL;     /* as Linux: a length that is negative as an ssize_t */
    if (writing && f.kind == FD_CONSOLE) {
        char small[FS_INLINE_MAX];
        size_t total = 0;
        long i;
        for (i = 0; i < n && iov[i].iov_len <= sizeof small - total; i++) {
            memcpy(small + total, iov[i].iov_base, iov[i].iov_len);
            total += iov[i].iov_len;
        }
        if (i == n)
            return console_write(f.h, f.h2, small, total);
    }
    long done = 0;
    for (long i = 0; i < n; i++) {
        if (iov[i].iov_len == 0)
            continue;
        long r = writing ? sys_write(fd, iov[i].iov_base, iov[i].iov_len)
                         : sys_read(fd, iov[i].iov_base, iov[i].iov_len);
        if (r < 0)
            return done ? done : r;
        done += r;
        if ((size_t)r < iov[i].iov_len)
            break;
    }
    return done;
}

/*
 * pread64 / pwrite64: at an offset, the position untouched. A file's bytes
 * are its memobj's (memobj_read / memobj_write, no view); a device behaves as
 * in read and write; anything else cannot seek (ESPIPE) or is a directory.
 */
long sys_prw(long fd, void *buf, size_t len, long off, int writing)
{
    struct fd f;
    if (!fd_get(fd, &f) || (f.flags & O_ACCMODE) == (writing ? O_RDONLY : O_WRONLY))
        return -EBADF;
    if (off < 0)
        return -EINVAL;
    switch (f.kind) {
    case FD_FILE: {
        long m = fd_memobj(fd, &f);
        if (m < 0)
            return m;
        return ret_or_err(writing ? ks_memobj_write((ks_handle_t)m, (uint64_t)off, buf, len)
                                  : ks_memobj_read((ks_handle_t)m, (uint64_t)off, buf, len));
    }
    case FD_DEV:
        return writing ? write_other(&f, buf, len) : read_other(&f, buf, len);
    case FD_DIR:
        return -EISDIR;
    default:
        return -ESPIPE;
    }
}

/* Set a directory slot's readdir position, if the slot still holds the same open directory. */
static void dir_set_pos(long fd, ks_handle_t h, uint64_t pos)
{
    struct fd f;
    lock(&emu.fd_lock);
    if (fd_get(fd, &f) && f.kind == FD_DIR && f.h == h) {
        f.pos = (uint32_t)pos;
        fd_set_locked(fd, &f, NULL);
    }
    unlock(&emu.fd_lock);
}

__attribute__((noinline)) long sys_lseek(long fd, long off, long whence)
{
    struct fd f;
    if (!fd_get(fd, &f))
        return -EBADF;
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
        return -EINVAL;
    if (f.kind == FD_FILE)
        return ret_or_err(ks_view_seek(f.h, off, (int)whence));
    if (f.kind == FD_DEV)
        return 0;                       /* as Linux: the devices have no position */
    if (f.kind == FD_DIR && whence == SEEK_SET && off >= 0 && off <= UINT32_MAX) {
        dir_set_pos(fd, f.h, (uint64_t)off);
        return off;
    }
    return f.kind == FD_DIR ? -EINVAL : -ESPIPE;
}

/* Fill *st from a STAT or FSTAT reply's words (struct fs_stat in MR1..MR6). */
static void stat_from_fs(struct stat *st, const uint64_t w[KS_IPC_WORDS])
{
    const struct fs_stat *s = (const struct fs_stat *)&w[1];
    /* Every field and pad set one by one: cheaper than a memset call before them. */
    st->st_uid = st->st_gid = 0;
    st->st_rdev = 0;
    st->__pad = 0;
    st->__pad2 = 0;
    st->__unused[0] = st->__unused[1] = 0;
    st->st_dev = 1;
    st->st_ino = s->ino;
    st->st_mode = (mode_t)s->mode;
    st->st_nlink = (nlink_t)s->nlink;
    st->st_size = (off_t)s->size;
    st->st_blksize = 4096;
    st->st_blocks = (blkcnt_t)((s->size + 511) / 512);
    st->st_mtim.tv_sec = (time_t)(s->mtime_ns / 1000000000);
    st->st_mtim.tv_nsec = (long)(s->mtime_ns % 1000000000);
    st->st_ctim.tv_sec = (time_t)(s->ctime_ns / 1000000000);
    st->st_ctim.tv_nsec = (long)(s->ctime_ns % 1000000000);
    st->st_atim = st->st_mtim;
    if (S_ISCHR(st->st_mode))
        st->st_rdev = (5 << 8) | 1;     /* like Linux's /dev/console, 5:1 */
}

long sys_fstat(long fd, struct stat *st)
{
    uint64_t w[KS_IPC_WORDS] = { 0 };
    struct fd slot, *f = &slot;
    long r;
    if (!fd_get(fd, &slot))
        return -EBADF;
    if (f->kind == FD_DEBUG) {
        memset(st, 0, sizeof *st);
        st->st_mode = S_IFCHR | 0620;
        return 0;
    }
    if (f->kind == FD_PIPE) {
        pipe_stat(f, st);
        return 0;
    }
    if (f->kind == FD_DEV) {            /* Linux's numbers: (1, 3), (1, 5), (1, 7) */
        memset(st, 0, sizeof *st);
        st->st_mode = S_IFCHR | 0666;
        st->st_ino = f->ino;
        st->st_nlink = 1;
        st->st_rdev = 1 << 8 | (f->pos == FS_KIND_NULL ? 3 : f->pos == FS_KIND_ZERO ? 5 : 7);
        return 0;
    }
    if (f->kind == FD_FILE) {           /* by inode on the root port: the server knows times */
        w[0] = FS_OP_STAT;
        w[1] = f->ino;
        r = emu.root ? fs_call(emu.root, w, NULL, 0, NULL, 0, NULL, NULL) : -EBADF;
        if (r == -ENOENT) {             /* unlinked while open: what the memobj says */
            memset(w, 0, sizeof w);
            w[1] = f->ino;
            w[2] = S_IFREG | 0644;
            long m = fd_memobj(fd, f);
            if (m < 0)
                return m;
            struct ks_memobj_stat ms;
            if (ks_memobj_stat((ks_handle_t)m, &ms, 0) == 0) {
                w[3] = ms.size;
                if (ms.changed_ns)      /* (else its times went with its name) */
                    w[5] = w[6] = ms.changed_ns + emu.realtime_base_ns;
            }
            r = 0;
        }
    } else {
        w[0] = FS_OP_FSTAT;
        r = fs_call(f->h, w, NULL, 0, NULL, 0, NULL, NULL);
    }
    if (r < 0)
        return r;
    stat_from_fs(st, w);
    return 0;
}

long sys_fstatat(long dirfd, const char *path, struct stat *st, long flags)
{
    if ((flags & AT_EMPTY_PATH) && path[0] == 0)
        return sys_fstat(dirfd, st);
    if (flags & ~(long)(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT))
        return -EINVAL;
    uint64_t w[KS_IPC_WORDS];
    long r = fs_path_op(FS_OP_STAT | ((flags & AT_SYMLINK_NOFOLLOW) ? FS_NOFOLLOW : 0), dirfd, path, 0, w);
    if (r < 0)
        return r;
    stat_from_fs(st, w);
    return 0;
}

long sys_getdents64(long fd, void *buf, size_t len)
{
    struct fd f;
    if (!fd_get(fd, &f))
        return -EBADF;
    if (f.kind != FD_DIR)
        return -ENOTDIR;
    uint64_t cap = len > KS_IPC_MAX_BUF ? KS_IPC_MAX_BUF : len;
    uint64_t w[KS_IPC_WORDS] = { FS_OP_READDIR, f.pos, cap };
    long r = fs_call(f.h, w, NULL, 0, buf, cap, NULL, NULL);
    if (r > 0)
        dir_set_pos(fd, f.h, w[1]);
    return r;
}

long fs_sync(void)
{
    uint64_t w[KS_IPC_WORDS] = { FS_OP_SYNC };
    return emu.root ? fs_call(emu.root, w, NULL, 0, NULL, 0, NULL, NULL) : 0;
}

long sys_ftruncate(long fd, long size)
{
    struct fd f;
    if (!fd_get(fd, &f))
        return -EBADF;
    if (size < 0)
        return -EINVAL;
    if (f.kind != FD_FILE || (f.flags & O_ACCMODE) == O_RDONLY)
        return -EINVAL;
    long m = fd_memobj(fd, &f);
    return m < 0 ? m : ret_or_err(ks_memobj_truncate((ks_handle_t)m, (uint64_t)size));
}

/* dup3: newfd becomes a copy of oldfd (closing what it held); newfd, or -errno. */
long sys_dup3(long oldfd, long newfd, long flags)
{
    if (flags & ~O_CLOEXEC)
        return -EINVAL;
    lock(&emu.fd_lock);
    struct fd f, old = { 0 };
    long r = 0;
    if (!fd_get(oldfd, &f) || newfd < 0 || newfd >= (emu.nofile ? emu.nofile : MAX_FDS)) {
        r = -EBADF;                     /* (at or past RLIMIT_NOFILE too, as Linux) */
    } else if (oldfd == newfd) {
        r = -EINVAL;                    /* as Linux's dup3; musl's dup2 checks this case itself */
    } else {
        fd_get(newfd, &old);
        r = fd_copy_locked(oldfd, &f, newfd, flags & O_CLOEXEC);
        if (r == 0)
            r = newfd;
        else
            old.kind = FD_FREE;         /* nothing replaced */
    }
    unlock(&emu.fd_lock);
    if (old.kind != FD_FREE)
        fd_release_handles(&old);
    return r;
}

/* dup and F_DUPFD: a copy of oldfd in the lowest free slot at or above `from`; the fd, or -errno. */
long sys_dup_from(long oldfd, long from, int cloexec)
{
    lock(&emu.fd_lock);
    struct fd f;
    long r = fd_get(oldfd, &f) ? fd_alloc_locked(from) : -EBADF;
    if (r >= 0) {
        long e = fd_copy_locked(oldfd, &f, r, cloexec);
        if (e < 0)
            r = e;
    }
    unlock(&emu.fd_lock);
    return r;
}

long sys_fcntl(long fd, long cmd, long arg)
{
    struct fd f;
    if (!fd_get(fd, &f))
        return -EBADF;
    switch (cmd) {
    case F_DUPFD: case F_DUPFD_CLOEXEC:
        if (arg < 0 || arg >= (emu.nofile ? emu.nofile : MAX_FDS))
            return -EINVAL;     /* as Linux for an arg at or past the fd limit */
        return sys_dup_from(fd, arg, cmd == F_DUPFD_CLOEXEC);
    case F_GETFD: return f.cloexec ? FD_CLOEXEC : 0;
    case F_GETFL: return f.flags;
    case F_SETFD: case F_SETFL: {
        long r = 0;
        lock(&emu.fd_lock);     /* read again under the lock: change only what this call sets */
        if (!fd_get(fd, &f)) {
            r = -EBADF;
        } else {
            if (cmd == F_SETFD)
                f.cloexec = !!(arg & FD_CLOEXEC);
            else
                f.flags = (f.flags & O_ACCMODE) | (int)(arg & (O_APPEND | O_NONBLOCK));
            fd_set_locked(fd, &f, NULL);
        }
        unlock(&emu.fd_lock);
        return r;
    }
    case F_GETPIPE_SZ: case F_SETPIPE_SZ:
        return f.kind == FD_PIPE ? pipe_fcntl(&f, cmd, arg) : -EBADF;
    case F_GETLK: case F_SETLK: case F_SETLKW:
        return sys_fcntl_lock(fd, cmd, (struct flock *)arg);
    default: return -EINVAL;
    }
}

long sys_ioctl(long fd, unsigned long req, void *arg)
{
    struct fd f;
    if (!fd_get(fd, &f))
        return -EBADF;
    if (f.kind == FD_PIPE)
        return pipe_ioctl(&f, req, arg);
    if (f.kind != FD_CONSOLE && f.kind != FD_DEBUG)
        return -ENOTTY;
    if (req == TIOCGWINSZ && f.kind == FD_DEBUG) {
        struct winsize ws = { .ws_row = 24, .ws_col = 80 };
        memcpy(arg, &ws, sizeof ws);
        return 0;
    }
    if ((req == TIOCGPGRP || req == TIOCSPGRP) && f.kind == FD_CONSOLE) {
        /* tcgetpgrp / tcsetpgrp: fsd keeps the console's foreground group */
        uint64_t w[KS_IPC_WORDS] = { FS_OP_TCPGRP, req == TIOCSPGRP, req == TIOCSPGRP ? (uint64_t)*(int *)arg : 0 };
        long r = fs_call(f.h, w, NULL, 0, NULL, 0, NULL, NULL);
        if (r < 0)
            return r;
        if (req == TIOCGPGRP)
            *(int *)arg = r ? (int)r : (int)emu_own_pgid();   /* none set yet: ours */
        return 0;
    }
    if (f.kind == FD_CONSOLE)
        return console_ioctl(&f, req, arg);
    return -ENOTTY;         /* the kernel's debug console is no terminal */
}

/* ---- names ---- */

long sys_mkdirat(long dirfd, const char *path, long mode)
{
    uint64_t w[KS_IPC_WORDS];
    return fs_path_op(FS_OP_MKDIR, dirfd, path, (uint64_t)(mode & ~(long)emu.umask), w);
}

long sys_unlinkat(long dirfd, const char *path, long flags)
{
    uint64_t w[KS_IPC_WORDS];
    if (flags & ~AT_REMOVEDIR)
        return -EINVAL;
    return fs_path_op(FS_OP_UNLINK, dirfd, path, (flags & AT_REMOVEDIR) ? 1 : 0, w);
}

long sys_symlinkat(const char *target, long newdirfd, const char *path)
{
    char both[FS_PATH_MAX + FS_PATH_MAX];
    size_t tl = strnlen(target, FS_PATH_MAX);
    if (tl == FS_PATH_MAX)
        return -ENAMETOOLONG;
    if (tl == 0)
        return -ENOENT;
    memcpy(both, target, tl);
    long l = abs_path(newdirfd, path, both + tl);
    if (l < 0)
        return l;
    uint64_t w[KS_IPC_WORDS] = { FS_OP_SYMLINK, tl };
    return emu.root ? fs_call(emu.root, w, both, tl + (size_t)l, NULL, 0, NULL, NULL) : -ENOENT;
}

long sys_readlinkat(long dirfd, const char *path, char *buf, size_t size)
{
    char abs[FS_PATH_MAX], target[FS_PATH_MAX];
    if ((long)size <= 0)
        return -EINVAL;
    long l = abs_path(dirfd, path, abs);
    if (l < 0)
        return l;
    uint64_t w[KS_IPC_WORDS] = { FS_OP_READLINK };
    long r = emu.root ? fs_call(emu.root, w, abs, (size_t)l, target, sizeof target, NULL, NULL) : -ENOENT;
    if (r < 0)
        return r;
    size_t n = (size_t)r < size ? (size_t)r : size;     /* cut, as readlink does, no NUL */
    memcpy(buf, target, n);
    return (long)n;
}

/* A call naming two paths (rename, link): MR0 = op, MR1 = the first's length; buf = both. */
static long two_paths(uint64_t op, long olddirfd, const char *old, long newdirfd, const char *new)
{
    char both[2 * FS_PATH_MAX];
    long l1 = abs_path(olddirfd, old, both), l2;
    if (l1 < 0)
        return l1;
    if ((l2 = abs_path(newdirfd, new, both + l1)) < 0)
        return l2;
    uint64_t w[KS_IPC_WORDS] = { op, (uint64_t)l1 };
    return emu.root ? fs_call(emu.root, w, both, (size_t)(l1 + l2), NULL, 0, NULL, NULL) : -ENOENT;
}

long sys_renameat2(long olddirfd, const char *old, long newdirfd, const char *new, long flags)
{
    if (flags)
        return -EINVAL;         /* no RENAME_* flags */
    return two_paths(FS_OP_RENAME, olddirfd, old, newdirfd, new);
}

long sys_linkat(long olddirfd, const char *old, long newdirfd, const char *new, long flags)
{
    if (flags & ~(long)AT_SYMLINK_FOLLOW)
        return -EINVAL;
    if (flags & AT_SYMLINK_FOLLOW)
        return -EINVAL;         /* (link(2) itself does not follow: fsd links the name given) */
    return two_paths(FS_OP_LINK, olddirfd, old, newdirfd, new);
}


/* ---- the working directory ---- */

/*
 * path made canonical in place: no ".", "..", empty or trailing components
 * ("/" stays "/"). ".." above the root is the root, as in every Unix.
 */
static void canonical(char *path)
{
    char out[FS_PATH_MAX];
    size_t o = 0;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        const char *c = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - c);
        if (n == 0 || (n == 1 && c[0] == '.'))
            continue;
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            while (o > 0 && out[--o] != '/')
                ;
            continue;
        }
        out[o++] = '/';
        memcpy(out + o, c, n);
        o += n;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    strcpy(path, out);
}

/* Make abs (absolute) the working directory if it names a directory: 0 or -errno. */
static long set_cwd(char *abs)
{
    struct stat st;
    canonical(abs);
    long r = sys_fstatat(AT_FDCWD, abs, &st, 0);
    if (r < 0)
        return r;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    lock(&emu.fd_lock);
    strcpy(emu.cwd, strcmp(abs, "/") == 0 ? "" : abs);
    unlock(&emu.fd_lock);
    return 0;
}

long sys_chdir(const char *path)
{
    char abs[FS_PATH_MAX];
    long r = abs_path(AT_FDCWD, path, abs);
    return r < 0 ? r : set_cwd(abs);
}

long sys_fchdir(long fd)
{
    char abs[FS_PATH_MAX];
    long r = fd_dir_path(fd, abs);
    return r < 0 ? r : set_cwd(abs);
}

/* getcwd as Linux's system call: the length with its NUL, or -ERANGE if size is too small. */
long sys_getcwd(char *buf, size_t size)
{
    char cwd[FS_PATH_MAX];
    lock(&emu.fd_lock);
    strcpy(cwd, emu.cwd[0] ? emu.cwd : "/");
    unlock(&emu.fd_lock);
    size_t n = strlen(cwd) + 1;
    if (size < n)
        return -ERANGE;
    memcpy(buf, cwd, n);
    return (long)n;
}

/*
 * faccessat: one user, root, so every permission is granted, as Linux grants
 * them to root: what exists is readable and writable, and executable if it
 * is a directory or any of its execute bits is set.
 */
long sys_faccessat(long dirfd, const char *path, long mode)
{
    struct stat st;
    if (mode & ~(long)(R_OK | W_OK | X_OK))
        return -EINVAL;
    long r = sys_fstatat(dirfd, path, &st, 0);
    if (r < 0)
        return r;
    if ((mode & X_OK) && !S_ISDIR(st.st_mode) && !(st.st_mode & 0111))
        return -EACCES;
    return 0;
}

#define NOT_FSD_NODE 1         /* fd_node_call: a descriptor fsd has no node for */

/*
 * A root-port operation (MR1 = arg) on what descriptor fd names, for the
 * calls that take one instead of a path: a file by its inode (MR2), a
 * directory by its path; the reply's words in w. The status, or
 * NOT_FSD_NODE for the console, pipes and devices.
 */
static long fd_node_call(enum fs_op op, long fd, uint64_t arg, uint64_t w[KS_IPC_WORDS])
{
    struct fd f;
    if (!fd_get(fd, &f))
        return -EBADF;
    if (f.kind == FD_DIR) {
        char abs[FS_PATH_MAX];
        long r = fd_dir_path(fd, abs);
        return r < 0 ? r : fs_path_op(op, AT_FDCWD, abs, arg, w);
    }
    if (f.kind != FD_FILE || !emu.root)
        return NOT_FSD_NODE;
    memset(w, 0, KS_IPC_WORDS * sizeof w[0]);
    w[0] = op;
    w[1] = arg;
    w[2] = f.ino;
    return fs_call(emu.root, w, NULL, 0, NULL, 0, NULL, NULL);
}

/* fd_node_call for the calls that change a node: the console, pipes and devices have nothing to change (0). */
static long fd_node_op(enum fs_op op, long fd, uint64_t arg)
{
    uint64_t w[KS_IPC_WORDS];
    long r = fd_node_call(op, fd, arg, w);
    return r == NOT_FSD_NODE ? 0 : r;
}

/*
 * utimensat / futimens: fsd keeps one time per file, its mtime (reported as
 * the access time too); UTIME_NOW takes the server's clock, UTIME_OMIT keeps
 * it. With no path, dirfd itself: a file by its inode, a directory by its
 * path; other descriptors have no time to set.
 */
long sys_utimensat(long dirfd, const char *path, const struct timespec *times, long flags)
{
    uint64_t mt = FS_TIME_NOW, w[KS_IPC_WORDS];
    if (flags & ~(long)AT_SYMLINK_NOFOLLOW)
        return -EINVAL;
    if (times) {
        for (int i = 0; i < 2; i++)
            if (times[i].tv_nsec != UTIME_NOW && times[i].tv_nsec != UTIME_OMIT &&
                (times[i].tv_nsec < 0 || times[i].tv_nsec >= 1000000000))
                return -EINVAL;
        if (times[1].tv_nsec == UTIME_OMIT)
            return 0;
        if (times[1].tv_nsec != UTIME_NOW)
            mt = (uint64_t)times[1].tv_sec * 1000000000u + (uint64_t)times[1].tv_nsec;
    }
    return path ? fs_path_op(FS_OP_UTIMES, dirfd, path, mt, w) : fd_node_op(FS_OP_UTIMES, dirfd, mt);
}

/*
 * fchmodat / fchmod: fsd keeps the permission bits (07777) and reports them;
 * as root, nothing here checks them but execve and access(X_OK).
 */
long sys_fchmodat(long dirfd, const char *path, long mode, long flags)
{
    uint64_t w[KS_IPC_WORDS];
    if (flags & ~(long)AT_SYMLINK_NOFOLLOW)
        return -EINVAL;
    return fs_path_op(FS_OP_CHMOD, dirfd, path, (uint64_t)mode & 07777, w);
}

long sys_fchmod(long fd, long mode)
{
    return fd_node_op(FS_OP_CHMOD, fd, (uint64_t)mode & 07777);
}

/* Fill sf from FS_OP_STATFS's reply w (MR1 != 0: the disk's ext2). */
static long statfs_from_fs(struct statfs *sf, const uint64_t *w)
{
    if (w[1] == 0)
        return sys_statfs_any(sf);
    memset(sf, 0, sizeof *sf);
    sf->f_type = (long)w[1];
    sf->f_bsize = sf->f_frsize = (long)w[2];
    sf->f_blocks = w[3];
    sf->f_bfree = sf->f_bavail = w[4];
    sf->f_files = w[5];
    sf->f_ffree = w[6];
    sf->f_namelen = 255;
    return 0;
}

long sys_statfs(const char *path, struct statfs *sf)
{
    uint64_t w[KS_IPC_WORDS];
    long r = fs_path_op(FS_OP_STATFS, AT_FDCWD, path, 0, w);
    return r < 0 ? r : statfs_from_fs(sf, w);
}

long sys_fstatfs(long fd, struct statfs *sf)
{
    uint64_t w[KS_IPC_WORDS];
    long r = fd_node_call(FS_OP_STATFS, fd, 0, w);
    if (r == NOT_FSD_NODE)
        return sys_statfs_any(sf);      /* the console, pipes, devices: fsd's memory */
    return r < 0 ? r : statfs_from_fs(sf, w);
}

/* statfs / fstatfs: one tmpfs-like file system in memory; its free space is the kernel's. */
long sys_statfs_any(struct statfs *sf)
{
    struct ks_kstat k;
    memset(sf, 0, sizeof *sf);
    sf->f_type = 0x01021994;            /* TMPFS_MAGIC: files live in memory */
    sf->f_bsize = sf->f_frsize = 4096;
    if (ks_kstat(&k) == 0) {
        sf->f_blocks = k.total_pages;
        sf->f_bfree = sf->f_bavail = k.free_pages;
    }
    sf->f_files = 256;                  /* fsd's handle table bounds its files */
    sf->f_namelen = 255;
    return 0;
}
