/*
 * musl_emu.c - the Linux system calls musl makes, served by kestrel's native
 * ABI. Linked into every musl program: musl's syscall_arch.h (musl/) turns each
 * system call into a call of musl_emu_syscall(number, args...).
 *
 * What lives here:
 *   - the file descriptor table. An fd is a memobj view (regular files: read,
 *     write and lseek go straight to the kernel, no IPC), or ports of the FS
 *     server (a directory port; the console port and write port), plus flags;
 *   - the calls that need the FS server (open, stat, mkdir, unlink, rename,
 *     getdents64, console read/write) as IPC calls in user/lib/fsproto.h's
 *     protocol;
 *   - memory (brk, mmap, munmap, mprotect) on memobjs and vm_map;
 *   - threads: clone for pthread_create, futexes, set_tid_address and the
 *     clear-tid wake at thread exit;
 *   - time, sleeping, ids, uname; signal calls are accepted and do nothing.
 * Anything else returns -ENOSYS and says which call, once, on stderr.
 *
 * Errors: kestrel's KS_ERR_* codes become Linux errno values (linux_err).
 * Nothing here uses stdio or malloc: musl may call in with its own locks held.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include "musl_emu.h"
#include "user/lib/fsproto.h"
#include "user/lib/ipc.h"
#include "user/lib/ks.h"
#include "user/lib/loader.h"

#define MAX_FDS         64
#define MAX_THREADS     64
#define BRK_MAX         (64ull << 20)

/* ---- small helpers ---- */

/* Linux errno (negative) for a kestrel error code. */
static __attribute__((noinline, cold)) long linux_err(long ks)
{
    switch (ks) {
    case KS_ERR_INVALID: return -EINVAL;
    case KS_ERR_FAULT: return -EFAULT;
    case KS_ERR_RANGE: return -EINVAL;
    case KS_ERR_NOSYS: return -ENOSYS;
    case KS_ERR_BAD_HANDLE: case KS_ERR_WRONG_TYPE: case KS_ERR_ACCESS: return -EBADF;
    case KS_ERR_NO_MEMORY: return -ENOMEM;
    case KS_ERR_NO_HANDLES: return -EMFILE;
    case KS_ERR_EXISTS: return -EEXIST;
    case KS_ERR_INTERRUPTED: return -EINTR;
    case KS_ERR_PEER_CLOSED: return -EIO;
    case KS_ERR_AGAIN: return -EAGAIN;
    case KS_ERR_TIMED_OUT: return -ETIMEDOUT;
    default: return -EIO;
    }
}

static inline long ret_or_err(long r) { return __builtin_expect(r < 0, 0) ? linux_err(r) : r; }

/* A tiny lock on a futex: 0 free, 1 held, 2 held with waiters. */
struct emu_lock { volatile uint32_t v; };

static void lock(struct emu_lock *l)
{
    uint32_t c = __sync_val_compare_and_swap(&l->v, 0, 1);
    if (c == 0)
        return;
    if (c != 2)
        c = __atomic_exchange_n(&l->v, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        ks_futex_wait(&l->v, 2, KS_FOREVER);
        c = __atomic_exchange_n(&l->v, 2, __ATOMIC_ACQUIRE);
    }
}

static void unlock(struct emu_lock *l)
{
    if (__atomic_exchange_n(&l->v, 0, __ATOMIC_RELEASE) == 2)
        ks_futex_wake(&l->v, 1);
}

/* ---- process state ---- */

enum fd_kind { FD_FREE, FD_FILE, FD_DIR, FD_CONSOLE, FD_DEBUG };

/*
 * One descriptor slot. Slots change only under emu.fd_lock, and every change
 * is bracketed by two increments of `seq` (odd while it is under way), so a
 * call reads a consistent copy without the lock (fd_get: a sequence lock).
 * A call works on that copy: if another thread closes the fd meanwhile, the
 * handles in the copy are closed too, and the kernel refuses them (handle
 * values carry a generation, so a reopened slot never matches): the call
 * fails with EBADF rather than reaching a file opened later.
 */
struct fd {
    uint32_t seq;
    uint8_t kind;
    uint8_t cloexec;
    int flags;                  /* O_ACCMODE | O_APPEND | O_NONBLOCK as opened */
    ks_handle_t h;              /* FILE: view; DIR: directory port; CONSOLE: console port */
    ks_handle_t h2;             /* FILE: the file's memobj; CONSOLE: write port (or 0) */
    uint32_t pos;               /* DIR: the next readdir position (an entry index) */
    uint64_t ino;
};
_Static_assert(sizeof(struct fd) == 32, "a slot is found with a shift");

/*
 * The sequence lock's ordering. Every thread of a process runs on the one
 * hart the kernel uses, which sees its own loads and stores in program
 * order, so keeping the compiler from moving them is all that is needed.
 * (On several harts these would be fence instructions.)
 */
#define SEQ_BARRIER() __atomic_signal_fence(__ATOMIC_SEQ_CST)

struct emu_thread {
    uintptr_t tp;               /* musl's thread pointer: names the thread */
    uint32_t tid;
    volatile uint32_t *clear_tid;
};

static struct {
    int ready;
    ks_handle_t root;           /* the FS server's root port, or 0 */
    uint32_t pid, ppid;
    uint32_t next_tid;
    struct emu_lock fd_lock, thread_lock;
    struct fd fds[MAX_FDS];
    char dir_path[MAX_FDS][FS_PATH_MAX];    /* a DIR slot's absolute path (for openat) */
    struct emu_thread threads[MAX_THREADS];
    uintptr_t brk_base, brk_cur, brk_mapped;
    uint64_t realtime_base_ns;
    uint64_t warned[512 / 64];              /* call numbers unsupported() has reported */
} emu;

static uintptr_t current_tp(void)
{
    uintptr_t tp;
    __asm__ volatile("mv %0, tp" : "=r"(tp));
    return tp;
}

/* The calling thread's record (thread_lock held), or NULL. */
static struct emu_thread *self_locked(void)
{
    uintptr_t tp = current_tp();
    for (int i = 0; i < MAX_THREADS; i++)
        if (emu.threads[i].tid && emu.threads[i].tp == tp)
            return &emu.threads[i];
    return NULL;
}

/* A free thread record (thread_lock held), or NULL. */
static struct emu_thread *thread_free_locked(void)
{
    for (int i = 0; i < MAX_THREADS; i++)
        if (!emu.threads[i].tid)
            return &emu.threads[i];
    return NULL;
}

static void emu_init(void);

/* ---- file descriptors ---- */

/* A consistent copy of slot fd in *out: 1 if it is open, else 0. */
static int fd_get(long fd, struct fd *out)
{
    if ((unsigned long)fd >= MAX_FDS)
        return 0;
    const struct fd *f = &emu.fds[fd];
    for (;;) {
        uint32_t seq = __atomic_load_n(&f->seq, __ATOMIC_RELAXED);
        if (seq & 1) {                  /* a writer was preempted half-way: let it finish */
            ks_thread_yield();
            continue;
        }
        SEQ_BARRIER();
        *out = *f;
        SEQ_BARRIER();
        if (__atomic_load_n(&f->seq, __ATOMIC_RELAXED) == seq)
            return out->kind != FD_FREE;
    }
}

/*
 * fd_get for the hot paths (read, write): only the fields they use, and no
 * retry loop. 1 with *io filled if fd is open and was read consistently, else
 * 0 (not open, or a writer was busy: the caller takes the fd_get path).
 */
struct fd_io {
    uint8_t kind;
    int flags;
    ks_handle_t h, h2;
};

static inline __attribute__((always_inline)) int fd_io(long fd, struct fd_io *io)
{
    if ((unsigned long)fd >= MAX_FDS)
        return 0;
    const struct fd *f = &emu.fds[fd];
    uint32_t seq = __atomic_load_n(&f->seq, __ATOMIC_RELAXED);
    SEQ_BARRIER();
    io->kind = f->kind;
    io->flags = f->flags;
    io->h = f->h;
    io->h2 = f->h2;
    SEQ_BARRIER();
    return !(seq & 1) && __atomic_load_n(&f->seq, __ATOMIC_RELAXED) == seq && io->kind != FD_FREE;
}

/* Set slot fd to *val (fd_lock held); path: a DIR slot's path, else NULL. */
static void fd_set_locked(long fd, const struct fd *val, const char *path)
{
    struct fd *f = &emu.fds[fd];
    uint32_t seq = f->seq;
    __atomic_store_n(&f->seq, seq + 1, __ATOMIC_RELAXED);
    SEQ_BARRIER();
    if (path)
        strcpy(emu.dir_path[fd], path);
    *f = *val;
    f->seq = seq + 1;
    SEQ_BARRIER();
    __atomic_store_n(&f->seq, seq + 2, __ATOMIC_RELAXED);
}

/* The directory path of slot fd (a DIR) into out (FS_PATH_MAX): 0, or -EBADF / -ENOTDIR. */
static long fd_dir_path(long fd, char *out)
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
static long fd_alloc_locked(long from)
{
    for (long i = from < 0 ? 0 : from; i < MAX_FDS; i++)
        if (emu.fds[i].kind == FD_FREE)
            return i;
    return -EMFILE;
}

/* Close the handles of a slot's copy that is no longer in the table. */
static void fd_release_handles(struct fd *f)
{
    if (f->kind != FD_DEBUG) {
        ks_handle_close(f->h);
        if (f->h2)
            ks_handle_close(f->h2);
    }
}

/*
 * Make slot `to` a copy of slot `from` (f: its open copy) with close-on-exec
 * as given (fd_lock held): the same objects, so a file's position is shared,
 * and a directory's path. 0, or -errno with slot `to` untouched.
 */
static long fd_copy_locked(long from, const struct fd *f, long to, int cloexec)
{
    struct fd copy = *f;
    char path[FS_PATH_MAX];
    if (f->kind == FD_DIR) {
        long r = fd_dir_path(from, path);
        if (r < 0)
            return r;
    }
    copy.cloexec = !!cloexec;
    if (f->kind != FD_DEBUG) {
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

/* ---- talking to the FS server ---- */

/*
 * One call: words w (MR0 = op in, status out), optional send and receive
 * buffers. Returns the server's status (MR0 of the reply; its other words stay
 * in w) or the errno for an IPC failure. Handles received go to hs (up to
 * KS_IPC_MAX_HANDLES; *nh says how many), or are closed if hs is NULL.
 */
static long fs_call(ks_handle_t port, uint64_t w[KS_IPC_WORDS], const void *send, size_t send_len,
                    void *recv, size_t recv_cap, ks_handle_t hs[KS_IPC_MAX_HANDLES], uint32_t *nh)
{
    if (!send_len && !recv_cap && !hs && !nh) {     /* words only: no descriptor at all */
        long r = ks_ipc_call(port, NULL, w, NULL);
        return r < 0 ? linux_err(r) : (long)w[0];
    }
    struct ks_ipc_desc d = { 0 };
    d.send_buf = send;
    d.send_len = send_len;
    d.recv_buf = recv;
    d.recv_cap = recv_cap;
    long r = ks_ipc_call(port, &d, w, NULL);
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

/* A path call on the root port: MR0 = op, MR1 = arg; the status. */
static long fs_path_op(enum fs_op op, long dirfd, const char *path, uint64_t arg,
                       uint64_t w[KS_IPC_WORDS])
{
    char abs[FS_PATH_MAX];
    if (!emu.root)
        return -ENOENT;
    _Static_assert(KS_IPC_WORDS == 8, "fs_path_op sets each message word");
    w[0] = op;                          /* every word, one by one (no memset call) */
    w[1] = arg;
    w[2] = w[3] = w[4] = w[5] = w[6] = w[7] = 0;
    size_t n = path[0] == '/' ? strnlen(path, FS_PATH_INLINE_MAX + 1) : FS_PATH_INLINE_MAX + 1;
    if (n && n <= FS_PATH_INLINE_MAX)   /* absolute and short: straight into the words */
        return fs_call(emu.root, w, NULL, path_inline(w, path, n), NULL, 0, NULL, NULL);
    long len = abs_path(dirfd, path, abs);
    if (len < 0)
        return len;
    size_t send = path_inline(w, abs, (size_t)len);
    return fs_call(emu.root, w, abs, send, NULL, 0, NULL, NULL);
}

/* ---- files ---- */

static long sys_openat(long dirfd, const char *path, long flags, long mode)
{
    char abs[FS_PATH_MAX];
    uint64_t w[KS_IPC_WORDS] = { FS_OP_OPEN, (uint64_t)flags, (uint64_t)mode };
    ks_handle_t hs[KS_IPC_MAX_HANDLES] = { 0 };
    uint32_t nh = 0;
    if (!emu.root)
        return -ENOENT;
    long n = abs_path(dirfd, path, abs);
    if (n < 0)
        return n;
    long kind = fs_call(emu.root, w, abs, path_inline(w, abs, (size_t)n), NULL, 0, hs, &nh);
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
    f.kind = kind == FS_KIND_FILE ? FD_FILE : kind == FS_KIND_DIR ? FD_DIR : FD_CONSOLE;
    f.flags = (int)(flags & (O_ACCMODE | O_APPEND | O_NONBLOCK));
    f.cloexec = !!(flags & O_CLOEXEC);
    f.h = hs[0];
    f.h2 = kind == FS_KIND_FILE || kind == FS_KIND_CONSOLE ? hs[1] : 0;
    f.ino = w[1];
    fd_set_locked(fd, &f, f.kind == FD_DIR ? abs : NULL);
    unlock(&emu.fd_lock);
    return fd;
}

static long sys_close(long fd)
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
        long r = ks_ipc_call(h2 ? h2 : h, NULL, w, NULL);
        return r < 0 ? linux_err(r) : (long)w[0];
    }
    if (len > KS_IPC_MAX_BUF)
        w[1] = len = KS_IPC_MAX_BUF;
    return fs_call(h, w, buf, len, NULL, 0, NULL, NULL);
}

/* Console read through the console port: blocks until input; bytes read (at least 1), or -errno. */
static long console_read(ks_handle_t port, void *buf, size_t len)
{
    uint64_t w[KS_IPC_WORDS] = { FS_OP_READ, len > KS_IPC_MAX_BUF ? KS_IPC_MAX_BUF : len };
    return fs_call(port, w, NULL, 0, buf, w[1], NULL, NULL);
}

/* write() other than to a plain file: appending, the console, the debug console. */
static __attribute__((noinline)) long write_other(const struct fd_io *f, const void *buf, size_t len)
{
    switch (f->kind) {
    case FD_FILE:
        ks_view_seek(f->h, 0, KS_SEEK_END);     /* O_APPEND (not atomic: one process) */
        return ret_or_err(ks_view_write(f->h, buf, len));
    case FD_CONSOLE:
        return console_write(f->h, f->h2, buf, len);
    case FD_DEBUG:
        return ret_or_err(ks_debug_write(buf, len));
    default:
        return -EISDIR;
    }
}

/* fd_io, falling back on fd_get (which waits out a busy writer). */
static int fd_io_any(long fd, struct fd_io *io)
{
    struct fd f;
    if (fd_io(fd, io))
        return 1;
    if (!fd_get(fd, &f))
        return 0;
    *io = (struct fd_io){ f.kind, f.flags, f.h, f.h2 };
    return 1;
}

/* write() when sys_write's quick look did not decide: any kind, any flags, a busy slot. */
static __attribute__((noinline)) long write_slow(long fd, const void *buf, size_t len)
{
    struct fd_io f;
    if (!fd_io_any(fd, &f) || (f.flags & O_ACCMODE) == O_RDONLY)
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
static __attribute__((noinline)) long sys_write(long fd, const void *buf, size_t len)
{
    if ((unsigned long)fd < MAX_FDS) {
        const struct fd *f = &emu.fds[fd];
        uint32_t seq = __atomic_load_n(&f->seq, __ATOMIC_RELAXED);
        SEQ_BARRIER();
        uint8_t kind = f->kind;
        int flags = f->flags;
        ks_handle_t h = f->h, h2 = f->h2;
        SEQ_BARRIER();
        if (!(seq & 1) && __atomic_load_n(&f->seq, __ATOMIC_RELAXED) == seq &&
            (flags & O_ACCMODE) != O_RDONLY && !(flags & O_APPEND)) {
            if (kind == FD_FILE)
                return ret_or_err(ks_view_write(h, buf, len));
            if (kind == FD_CONSOLE)
                return console_write(h, h2, buf, len);
        }
    }
    return write_slow(fd, buf, len);
}

/* read() other than from a plain file: the console, the debug console (end of file). */
static __attribute__((noinline)) long read_other(const struct fd_io *f, void *buf, size_t len)
{
    switch (f->kind) {
    case FD_CONSOLE:
        return console_read(f->h, buf, len);
    case FD_DEBUG:
        return 0;
    default:
        return -EISDIR;
    }
}

/* read() when sys_read's quick look did not decide, as write_slow. */
static __attribute__((noinline)) long read_slow(long fd, void *buf, size_t len)
{
    struct fd_io f;
    if (!fd_io_any(fd, &f) || (f.flags & O_ACCMODE) == O_WRONLY)
        return -EBADF;
    if (f.kind != FD_FILE)
        return read_other(&f, buf, len);
    return ret_or_err(ks_view_read(f.h, buf, len));
}

/* read(): a plain file is one view_read system call, decided as in sys_write. */
static __attribute__((noinline)) long sys_read(long fd, void *buf, size_t len)
{
    if ((unsigned long)fd < MAX_FDS) {
        const struct fd *f = &emu.fds[fd];
        uint32_t seq = __atomic_load_n(&f->seq, __ATOMIC_RELAXED);
        SEQ_BARRIER();
        uint8_t kind = f->kind;
        int flags = f->flags;
        ks_handle_t h = f->h;
        SEQ_BARRIER();
        if (!(seq & 1) && __atomic_load_n(&f->seq, __ATOMIC_RELAXED) == seq &&
            kind == FD_FILE && (flags & O_ACCMODE) != O_WRONLY)
            return ret_or_err(ks_view_read(h, buf, len));
    }
    return read_slow(fd, buf, len);
}

/*
 * writev/readv: the fd and its access mode first (as Linux: even with nothing
 * to transfer), then one call per piece, stopping at a short transfer. A
 * console writev whose pieces fit in registers together (musl's stdio flushes
 * its buffer and the new data as two pieces) is sent as one message.
 */
static __attribute__((noinline)) long sys_rwv(long fd, const struct iovec *iov, long n, int writing)
{
    struct fd_io f;
    if (!fd_io_any(fd, &f) || (f.flags & O_ACCMODE) == (writing ? O_RDONLY : O_WRONLY))
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

static __attribute__((noinline)) long sys_lseek(long fd, long off, long whence)
{
    struct fd f;
    if (!fd_get(fd, &f))
        return -EBADF;
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
        return -EINVAL;
    if (f.kind == FD_FILE)
        return ret_or_err(ks_view_seek(f.h, off, (int)whence));
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

static long sys_fstat(long fd, struct stat *st)
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
    if (f->kind == FD_FILE) {           /* by inode on the root port: the server knows times */
        w[0] = FS_OP_STAT;
        w[1] = f->ino;
        r = emu.root ? fs_call(emu.root, w, NULL, 0, NULL, 0, NULL, NULL) : -EBADF;
        if (r == -ENOENT) {             /* unlinked while open: what the memobj says */
            memset(w, 0, sizeof w);
            w[1] = f->ino;
            w[2] = S_IFREG | 0644;
            long size = ks_memobj_size(f->h2);
            w[3] = size > 0 ? (uint64_t)size : 0;
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

static long sys_fstatat(long dirfd, const char *path, struct stat *st, long flags)
{
    if ((flags & AT_EMPTY_PATH) && path[0] == 0)
        return sys_fstat(dirfd, st);
    uint64_t w[KS_IPC_WORDS];
    long r = fs_path_op(FS_OP_STAT, dirfd, path, 0, w);
    if (r < 0)
        return r;
    stat_from_fs(st, w);
    return 0;
}

static long sys_getdents64(long fd, void *buf, size_t len)
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

static long sys_ftruncate(long fd, long size)
{
    struct fd f;
    if (!fd_get(fd, &f))
        return -EBADF;
    if (size < 0)
        return -EINVAL;
    if (f.kind != FD_FILE || (f.flags & O_ACCMODE) == O_RDONLY)
        return -EINVAL;
    return ret_or_err(ks_memobj_truncate(f.h2, (uint64_t)size));
}

/* dup3: newfd becomes a copy of oldfd (closing what it held); newfd, or -errno. */
static long sys_dup3(long oldfd, long newfd, long flags)
{
    if (flags & ~O_CLOEXEC)
        return -EINVAL;
    lock(&emu.fd_lock);
    struct fd f, old = { 0 };
    long r = 0;
    if (!fd_get(oldfd, &f) || newfd < 0 || newfd >= MAX_FDS) {
        r = -EBADF;
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
static long sys_dup_from(long oldfd, long from, int cloexec)
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

static long sys_fcntl(long fd, long cmd, long arg)
{
    struct fd f;
    if (!fd_get(fd, &f))
        return -EBADF;
    switch (cmd) {
    case F_DUPFD: case F_DUPFD_CLOEXEC:
        if (arg < 0 || arg >= MAX_FDS)
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
    default: return -EINVAL;
    }
}

static long sys_ioctl(long fd, unsigned long req, void *arg)
{
    struct fd f;
    if (!fd_get(fd, &f))
        return -EBADF;
    if (f.kind != FD_CONSOLE && f.kind != FD_DEBUG)
        return -ENOTTY;
    if (req == TIOCGWINSZ) {
        struct winsize ws = { .ws_row = 24, .ws_col = 80 };
        memcpy(arg, &ws, sizeof ws);
        return 0;
    }
    return -ENOTTY;         /* as Linux answers a request a terminal does not know (TCGETS here) */
}

/* ---- memory ---- */

static uint32_t ks_prot(long prot)
{
    return (prot & PROT_READ ? KS_PROT_READ : 0) | (prot & PROT_WRITE ? KS_PROT_WRITE : 0) |
           (prot & PROT_EXEC ? KS_PROT_EXEC : 0);
}

#define PAGE_UP(x) (((x) + KS_PAGE_SIZE - 1) & ~(uintptr_t)(KS_PAGE_SIZE - 1))

/* Map a fresh zero-filled memobj of len bytes at addr with KS_PROT_*|KS_MAP_* flags: the address, or KS_ERR_*. */
static long map_anon(uintptr_t addr, size_t len, uint32_t flags)
{
    long mo = ks_memobj_create(len);
    if (mo < 0)
        return mo;
    long r = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)mo, 0, addr, len, flags);
    ks_handle_close((ks_handle_t)mo);
    return r;
}

/*
 * brk: the heap starts at the first page after the program's bss (_end) and
 * grows by fresh mappings; it fails (returns the old break) once something
 * else is mapped in the way or it would pass BRK_MAX.
 */
extern char _end[];

static long sys_brk(uintptr_t want)
{
    if (!emu.brk_base)
        emu.brk_base = emu.brk_cur = emu.brk_mapped = PAGE_UP((uintptr_t)_end);
    if (want < emu.brk_base || want - emu.brk_base > BRK_MAX)
        return (long)emu.brk_cur;
    uintptr_t need = PAGE_UP(want);
    if (need > emu.brk_mapped) {
        long r = map_anon(emu.brk_mapped, need - emu.brk_mapped,
                          KS_PROT_READ | KS_PROT_WRITE | KS_MAP_PRIVATE | KS_MAP_FIXED);
        if (r < 0)
            return (long)emu.brk_cur;
        emu.brk_mapped = need;
    } else if (need < emu.brk_mapped) {
        ks_vm_unmap(KS_PROCESS_SELF, need, emu.brk_mapped - need);
        emu.brk_mapped = need;
    }
    emu.brk_cur = want;
    return (long)want;
}

static long sys_mmap(uintptr_t addr, size_t len, long prot, long flags, long fd, long off)
{
    if (len == 0 || (off & (KS_PAGE_SIZE - 1)) || (addr & (KS_PAGE_SIZE - 1)))
        return -EINVAL;
    int type = (int)(flags & MAP_TYPE);
    if (type != MAP_SHARED && type != MAP_PRIVATE)
        return -EINVAL;
    len = PAGE_UP(len);
    uint32_t kflags = ks_prot(prot) | (type == MAP_SHARED ? KS_MAP_SHARED : KS_MAP_PRIVATE);
    struct fd slot, *f = NULL;
    if (!(flags & MAP_ANONYMOUS)) {     /* checked before MAP_FIXED unmaps anything */
        if (!fd_get(fd, &slot))
            return -EBADF;
        f = &slot;
        if (f->kind != FD_FILE)
            return -ENODEV;
        if (type == MAP_SHARED && (prot & PROT_WRITE) && (f->flags & O_ACCMODE) == O_RDONLY)
            return -EACCES;
    }
    if (flags & MAP_FIXED) {
        ks_vm_unmap(KS_PROCESS_SELF, addr, len);    /* Linux replaces what was there */
        kflags |= KS_MAP_FIXED;
    }
    long r;
    if (!f) {
        r = map_anon(addr, len, kflags);
    } else {
        r = ks_vm_map(KS_PROCESS_SELF, f->h2, (uint64_t)off, addr, len, kflags);
        if (r == KS_ERR_ACCESS)
            return -EACCES;
    }
    return ret_or_err(r);
}

static long sys_munmap(uintptr_t addr, size_t len)
{
    if (addr & (KS_PAGE_SIZE - 1))
        return -EINVAL;
    return ret_or_err(ks_vm_unmap(KS_PROCESS_SELF, addr, PAGE_UP(len)));
}

static long sys_mprotect(uintptr_t addr, size_t len, long prot)
{
    if (addr & (KS_PAGE_SIZE - 1))
        return -EINVAL;
    long r = ks_vm_protect(KS_PROCESS_SELF, addr, PAGE_UP(len), ks_prot(prot));
    return r == KS_ERR_ACCESS ? -EACCES : ret_or_err(r);
}

/* ---- time ---- */

static long sys_clock_gettime(long clk, struct timespec *ts)
{
    uint64_t ns = (uint64_t)ks_clock_ns();
    switch (clk) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE:
        ns += emu.realtime_base_ns;
        break;
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME:
    case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID:
        break;
    default:
        return -EINVAL;
    }
    ts->tv_sec = (time_t)(ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
    return 0;
}

/* Sleep ns: 0, or -EINTR with what was left in *rem (if not NULL). */
static long sleep_ns(uint64_t ns, struct timespec *rem)
{
    uint64_t start = (uint64_t)ks_clock_ns();
    long r = ks_thread_sleep(ns);
    if (r == KS_ERR_INTERRUPTED) {
        if (rem) {
            uint64_t gone = (uint64_t)ks_clock_ns() - start, left = gone < ns ? ns - gone : 0;
            rem->tv_sec = (time_t)(left / 1000000000);
            rem->tv_nsec = (long)(left % 1000000000);
        }
        return -EINTR;
    }
    return ret_or_err(r);
}

/* *ts in nanoseconds into *ns (KS_FOREVER if it does not fit): 0, or -EINVAL if malformed. */
static int ts_to_ns(const struct timespec *ts, uint64_t *ns)
{
    if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
        return -EINVAL;
    if ((uint64_t)ts->tv_sec >= UINT64_MAX / 1000000000u)
        *ns = KS_FOREVER;           /* beyond 584 years: as good as forever, never wrapped */
    else
        *ns = (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
    return 0;
}

static long sys_clock_nanosleep(long clk, long flags, const struct timespec *req, struct timespec *rem)
{
    uint64_t ns;
    if (ts_to_ns(req, &ns))
        return -EINVAL;
    if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
        return -EINVAL;
    if (flags & TIMER_ABSTIME) {
        struct timespec now;
        uint64_t now_ns;
        sys_clock_gettime(clk, &now);
        ts_to_ns(&now, &now_ns);
        return ns <= now_ns ? 0 : sleep_ns(ns - now_ns, NULL);
    }
    return sleep_ns(ns, rem);
}

/* ---- threads ---- */

static long sys_futex(volatile uint32_t *addr, long op, uint32_t val, const struct timespec *timeout,
                      volatile uint32_t *addr2, uint32_t val3)
{
    switch (op & 127) {         /* FUTEX_PRIVATE_FLAG is 128: every futex here is private */
    case 0: {                   /* FUTEX_WAIT, timeout relative */
        uint64_t ns = KS_FOREVER;
        if (timeout && ts_to_ns(timeout, &ns))
            return -EINVAL;
        return ret_or_err(ks_futex_wait(addr, val, ns));
    }
    case 1:                     /* FUTEX_WAKE */
        return ret_or_err(ks_futex_wake(addr, val));
    case 3: case 4: {           /* FUTEX_REQUEUE, CMP_REQUEUE: wake instead of moving (waiters
                                   recheck their condition, so an early wake is harmless);
                                   val2, the number to move, comes in the timeout argument */
        if ((op & 127) == 4 && *addr != val3)
            return -EAGAIN;
        long a = ks_futex_wake(addr, val);
        long b = ks_futex_wake(addr, (uint32_t)(uintptr_t)timeout);
        return a < 0 ? ret_or_err(a) : a + (b > 0 ? b : 0);
    }
    default:
        return -ENOSYS;
    }
}

static long sys_set_tid_address(volatile uint32_t *clear)
{
    lock(&emu.thread_lock);
    struct emu_thread *t = self_locked();
    if (!t) {                   /* the main thread, the first time: it gets the pid as tid */
        t = thread_free_locked();
        if (!t) {               /* no slot (cannot happen for the main thread): no clear-tid */
            unlock(&emu.thread_lock);
            return emu.pid;
        }
        t->tid = emu.pid;
        t->tp = current_tp();
    }
    t->clear_tid = clear;
    long tid = t->tid;
    unlock(&emu.thread_lock);
    return tid;
}

static long sys_gettid(void)
{
    lock(&emu.thread_lock);
    struct emu_thread *t = self_locked();
    long tid = t ? t->tid : emu.pid;
    unlock(&emu.thread_lock);
    return tid;
}

/* Forget the calling thread; returns its clear-tid address. */
static volatile uint32_t *thread_leaving(void)
{
    lock(&emu.thread_lock);
    struct emu_thread *t = self_locked();
    volatile uint32_t *clear = NULL;
    if (t) {
        clear = t->clear_tid;
        t->tid = 0;
    }
    unlock(&emu.thread_lock);
    return clear;
}

void __kestrel_clone_start(void);

/*
 * A new thread's first instruction. The kernel starts threads with gp = 0, but
 * code linked with relaxation reaches globals near __global_pointer$ through
 * gp (a Linux clone child inherits it): set it, then go on to the child code.
 */
void musl_emu_thread_start(void);
__asm__(".text\n"
        ".align 2\n"
        ".type musl_emu_thread_start, %function\n"
        "musl_emu_thread_start:\n"
        ".option push\n"
        ".option norelax\n"
        "\tlla gp, __global_pointer$\n"
        ".option pop\n"
        "\ttail __kestrel_clone_start\n"
        ".size musl_emu_thread_start, . - musl_emu_thread_start\n");

/*
 * __clone (musl/src/thread/riscv64/clone.s): threads only. Leaves the child's
 * start record (func, arg, tp; clone.s reads it) just below `stack` and starts
 * a native thread there at musl_emu_thread_start. The child's tid, or -errno.
 */
int musl_emu_clone(int (*func)(void *), void *stack, int flags, void *arg, int *ptid, void *tls,
                   int *ctid)
{
    const int need = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
    if ((flags & need) != need)
        return -ENOSYS;         /* threads only: no fork */
    if (!emu.ready)
        emu_init();
    uintptr_t *rec = (uintptr_t *)(((uintptr_t)stack & ~(uintptr_t)15) - 32);
    rec[0] = (uintptr_t)func;
    rec[1] = (uintptr_t)arg;
    rec[2] = flags & CLONE_SETTLS ? (uintptr_t)tls : current_tp();

    lock(&emu.thread_lock);
    struct emu_thread *t = thread_free_locked();
    if (!t) {
        unlock(&emu.thread_lock);
        return -EAGAIN;
    }
    t->tid = emu.next_tid++;
    t->tp = rec[2];
    t->clear_tid = flags & CLONE_CHILD_CLEARTID ? (volatile uint32_t *)ctid : NULL;
    int tid = (int)t->tid;
    if (flags & CLONE_PARENT_SETTID)
        *ptid = tid;
    if (flags & CLONE_CHILD_SETTID)
        *ctid = tid;
    long h = ks_thread_create(KS_PROCESS_SELF, (void *)musl_emu_thread_start, rec, 0);
    if (h < 0)
        t->tid = 0;
    unlock(&emu.thread_lock);
    if (h < 0)
        return -EAGAIN;
    ks_handle_close((ks_handle_t)h);
    return tid;
}

/*
 * __unmapself: unmap the stack we stand on and exit, touching no memory in between.
 * The clear address waits in s1: a system call returns a1..a7 zeroed, s0..s11 kept.
 */
void musl_emu_unmapself(void *base, size_t size)
{
    volatile uint32_t *clear = thread_leaving();
    register long a0 __asm__("a0") = KS_PROCESS_SELF;
    register long a1 __asm__("a1") = (long)base;
    register long a2 __asm__("a2") = (long)size;
    register long s1 __asm__("s1") = (long)clear;
    __asm__ volatile("li a7, %[unmap]\n\t"
                     "ecall\n\t"
                     "li a0, 0\n\t"
                     "mv a1, s1\n\t"
                     "li a7, %[exit]\n\t"
                     "ecall"
                     : : "r"(a0), "r"(a1), "r"(a2), "r"(s1),
                       [unmap] "i"(KS_SYS_VM_UNMAP), [exit] "i"(KS_SYS_THREAD_EXIT)
                     : "memory");
    __builtin_unreachable();
}

/* ---- the rest ---- */

static long sys_uname(struct utsname *u)
{
    memset(u, 0, sizeof *u);
    strcpy(u->sysname, "kestrel");
    strcpy(u->nodename, "kestrel");
    strcpy(u->release, "0.1");
    strcpy(u->version, "kestrel on QEMU virt");
    strcpy(u->machine, "riscv64");
    return 0;
}

static const struct { short nr; const char *name; } sys_names[] = {
    { SYS_getcwd, "getcwd" }, { SYS_chdir, "chdir" }, { SYS_fchdir, "fchdir" },
    { SYS_pipe2, "pipe2" }, { SYS_kill, "kill" }, { SYS_tkill, "tkill" }, { SYS_tgkill, "tgkill" },
    { SYS_execve, "execve" }, { SYS_wait4, "wait4" }, { SYS_socket, "socket" },
    { SYS_getuid, "getuid" }, { SYS_geteuid, "geteuid" }, { SYS_getgid, "getgid" },
    { SYS_getegid, "getegid" }, { SYS_readlinkat, "readlinkat" }, { SYS_symlinkat, "symlinkat" },
    { SYS_linkat, "linkat" }, { SYS_fchmodat, "fchmodat" }, { SYS_fchownat, "fchownat" },
    { SYS_faccessat, "faccessat" }, { SYS_pread64, "pread64" }, { SYS_pwrite64, "pwrite64" },
    { SYS_mremap, "mremap" }, { SYS_getrandom, "getrandom" }, { SYS_prlimit64, "prlimit64" },
    { SYS_setitimer, "setitimer" }, { SYS_sigaltstack, "sigaltstack" }, { SYS_statx, "statx" },
    { SYS_rt_sigreturn, "rt_sigreturn" }, { SYS_utimensat, "utimensat" }, { SYS_umask, "umask" },
};

static void write_stderr(const char *s, size_t n)
{
    struct fd f;
    if (fd_get(2, &f))
        sys_write(2, s, n);
    else
        ks_debug_write(s, n);
}

static long unsupported(long nr)
{
    if (nr >= 0 && nr < 512) {
        uint64_t bit = 1ull << (nr % 64);
        if (emu.warned[nr / 64] & bit)
            return -ENOSYS;
        emu.warned[nr / 64] |= bit;
    }
    char msg[80] = "musl_emu: unsupported system call ";
    size_t n = strlen(msg);
    const char *name = NULL;
    for (size_t i = 0; i < sizeof sys_names / sizeof sys_names[0]; i++)
        if (sys_names[i].nr == nr)
            name = sys_names[i].name;
    if (name) {
        size_t l = strlen(name);
        memcpy(msg + n, name, l);
        n += l;
    } else {
        char digits[24];
        int d = 0;
        unsigned long v = (unsigned long)nr;
        do digits[d++] = (char)('0' + v % 10); while ((v /= 10) && d < 20);
        memcpy(msg + n, "number ", 7);
        n += 7;
        while (d)
            msg[n++] = digits[--d];
    }
    msg[n++] = '\n';
    write_stderr(msg, n);
    return -ENOSYS;
}

/* Standard streams: the console if there is an FS server, else the kernel's debug console. */
static void open_stdio(void)
{
    long fd = emu.root ? sys_openat(AT_FDCWD, "/dev/console", O_RDWR, 0) : -ENOENT;
    if (fd == 0) {
        sys_dup3(0, 1, 0);
        sys_dup3(0, 2, 0);
        return;
    }
    if (fd > 0)
        sys_close(fd);
    struct fd debug = { .kind = FD_DEBUG, .flags = O_RDWR };
    lock(&emu.fd_lock);
    for (int i = 0; i < 3; i++)
        fd_set_locked(i, &debug, NULL);
    unlock(&emu.fd_lock);
}

static void emu_init(void)
{
    struct ks_ids ids;
    emu.ready = 1;
    ks_self_ids(&ids);
    emu.pid = ids.pid;
    emu.ppid = ids.parent_pid;
    emu.next_tid = ids.pid * 1000 + 1;
    emu.realtime_base_ns = MUSL_EMU_REALTIME_BASE_NS;
    emu.root = (ks_handle_t)getauxval(FS_AT_ROOT);
    open_stdio();
}

int musl_emu_attach_fs(ks_handle_t root)
{
    if (!emu.ready)
        emu_init();
    for (int i = 0; i < 3; i++)
        sys_close(i);           /* EBADF for a slot that is free: fine */
    emu.root = root;
    open_stdio();
    struct fd out;
    return fd_get(1, &out) && out.kind == FD_CONSOLE ? 0 : -1;
}

ks_handle_t musl_emu_fs_root(void)
{
    return emu.root;
}

/* ---- small calls, dispatched from other_call ---- */

static long sys_mkdirat(long dirfd, const char *path, long mode)
{
    uint64_t w[KS_IPC_WORDS];
    return fs_path_op(FS_OP_MKDIR, dirfd, path, (uint64_t)mode, w);
}

static long sys_unlinkat(long dirfd, const char *path, long flags)
{
    uint64_t w[KS_IPC_WORDS];
    if (flags & ~AT_REMOVEDIR)
        return -EINVAL;
    return fs_path_op(FS_OP_UNLINK, dirfd, path, (flags & AT_REMOVEDIR) ? 1 : 0, w);
}

static long sys_renameat2(long olddirfd, const char *old, long newdirfd, const char *new, long flags)
{
    char both[2 * FS_PATH_MAX];
    if (flags)
        return -EINVAL;         /* no RENAME_* flags */
    long l1 = abs_path(olddirfd, old, both), l2;
    if (l1 < 0)
        return l1;
    if ((l2 = abs_path(newdirfd, new, both + l1)) < 0)
        return l2;
    uint64_t w[KS_IPC_WORDS] = { FS_OP_RENAME, (uint64_t)l1 };
    return emu.root ? fs_call(emu.root, w, both, (size_t)(l1 + l2), NULL, 0, NULL, NULL) : -ENOENT;
}

static long sys_clock_getres(long clk, struct timespec *ts)
{
    if (ts)
        *ts = (struct timespec){ 0, 100 };      /* the 10 MHz platform timer */
    return 0;
}

/* No signals are ever delivered: the mask is always empty, every action the default. */
static long sys_rt_sigprocmask(long how, const void *set, void *old, size_t size)
{
    if (old)
        memset(old, 0, size < 128 ? size : 128);
    return 0;
}

static long sys_rt_sigaction(long sig, const void *act, void *old)
{
    if (old)
        memset(old, 0, 32);
    return 0;
}

static long first_call(long n, long a, long b, long c, long d, long e, long f);
static long other_call(long n, long a, long b, long c, long d, long e, long f);

/*
 * The entry point. The calls stdio makes all the time are dispatched here,
 * each a tail call of its handler, so this function needs no stack frame and a
 * write costs a few instructions of dispatch; everything else goes on to
 * other_call.
 */
long musl_emu_syscall(long n, long a, long b, long c, long d, long e, long f)
{
    if (__builtin_expect(!emu.ready, 0))
        return first_call(n, a, b, c, d, e, f);
    switch (n) {
    case SYS_read: return sys_read(a, (void *)b, (size_t)c);
    case SYS_write: return sys_write(a, (const void *)b, (size_t)c);
    case SYS_readv: return sys_rwv(a, (const struct iovec *)b, c, 0);
    case SYS_writev: return sys_rwv(a, (const struct iovec *)b, c, 1);
    case SYS_lseek: return sys_lseek(a, b, c);
    default: return other_call(n, a, b, c, d, e, f);
    }
}

static __attribute__((noinline)) long other_call(long n, long a, long b, long c, long d, long e, long f)
{
    switch (n) {
    case SYS_openat: return sys_openat(a, (const char *)b, c, d);
    case SYS_close: return sys_close(a);
    case SYS_fstat: return sys_fstat(a, (struct stat *)b);
    case SYS_newfstatat: return sys_fstatat(a, (const char *)b, (struct stat *)c, d);
    case SYS_getdents64: return sys_getdents64(a, (void *)b, (size_t)c);
    case SYS_mkdirat: return sys_mkdirat(a, (const char *)b, c);
    case SYS_unlinkat: return sys_unlinkat(a, (const char *)b, c);
    case SYS_renameat2: return sys_renameat2(a, (const char *)b, c, (const char *)d, e);
#ifdef SYS_renameat
    case SYS_renameat: return sys_renameat2(a, (const char *)b, c, (const char *)d, 0);
#endif
    case SYS_ftruncate: return sys_ftruncate(a, b);
    case SYS_fsync: case SYS_fdatasync: {
        struct fd f;
        return fd_get(a, &f) ? 0 : -EBADF;
    }
    case SYS_dup: return sys_dup_from(a, 0, 0);
    case SYS_dup3: return sys_dup3(a, b, c);
    case SYS_fcntl: return sys_fcntl(a, b, c);
    case SYS_ioctl: return sys_ioctl(a, (unsigned long)b, (void *)c);
    case SYS_brk: return sys_brk((uintptr_t)a);
    case SYS_mmap: return sys_mmap((uintptr_t)a, (size_t)b, c, d, e, f);
    case SYS_munmap: return sys_munmap((uintptr_t)a, (size_t)b);
    case SYS_mprotect: return sys_mprotect((uintptr_t)a, (size_t)b, c);
    case SYS_madvise: return 0;         /* advice only: MADV_FREE and friends may be ignored */
    case SYS_mremap: return -ENOMEM;    /* mappings never move or grow in place; musl's realloc
                                           then allocates, copies and frees, as Linux allows */
    case SYS_exit: ks_thread_exit_clear(a, thread_leaving());
    case SYS_exit_group: ks_process_exit(a);
    case SYS_getpid: return emu.pid;
    case SYS_getppid: return emu.ppid;
    case SYS_gettid: return sys_gettid();
    case SYS_set_tid_address: return sys_set_tid_address((volatile uint32_t *)a);
    case SYS_set_robust_list: return 0;     /* musl walks its robust list itself at exit */
    case SYS_clock_gettime: return sys_clock_gettime(a, (struct timespec *)b);
    case SYS_clock_getres: return sys_clock_getres(a, (struct timespec *)b);
    case SYS_nanosleep: return sys_clock_nanosleep(CLOCK_MONOTONIC, 0, (const struct timespec *)a,
                                                   (struct timespec *)b);
    case SYS_clock_nanosleep: return sys_clock_nanosleep(a, b, (const struct timespec *)c, (struct timespec *)d);
    case SYS_sched_yield: return ret_or_err(ks_thread_yield());
    case SYS_futex: return sys_futex((volatile uint32_t *)a, b, (uint32_t)c, (const struct timespec *)d,
                                     (volatile uint32_t *)e, (uint32_t)f);
    case SYS_rt_sigprocmask: return sys_rt_sigprocmask(a, (const void *)b, (void *)c, (size_t)d);
    case SYS_rt_sigaction: return sys_rt_sigaction(a, (const void *)b, (void *)c);
    case SYS_uname: return sys_uname((struct utsname *)a);
    default: return unsupported(n);
    }
}


/* The process's first system call (musl's set_tid_address, or whatever comes first). */
static __attribute__((noinline)) long first_call(long n, long a, long b, long c, long d, long e, long f)
{
    emu_init();
    return musl_emu_syscall(n, a, b, c, d, e, f);
}

/* ---- starting programs ---- */

long musl_emu_spawn(const char *name, const char *const argv[], const ks_handle_t *extra,
                    unsigned nextra)
{
    ks_handle_t given[ULIB_MAX_GIVEN];
    uint64_t tags[ULIB_MAX_GIVEN];
    unsigned n = 0;
    if (nextra > ULIB_MAX_GIVEN - 1)
        return KS_ERR_INVALID;
    if (!emu.ready)
        emu_init();
    for (unsigned i = 0; i < nextra; i++) {
        tags[n] = KS_AT_HANDLE_0 + i;
        given[n++] = extra[i];
    }
    if (emu.root) {
        tags[n] = FS_AT_ROOT;
        given[n++] = emu.root;
    }
    return ulib_spawn_tagged((ks_handle_t)getauxval(KS_AT_BOOTIMAGE), name, argv, given, tags, n);
}
