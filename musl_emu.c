/*
 * musl_emu.c - the Linux system calls musl makes, served by kestrel's native
 * ABI. Linked into every musl program: musl's syscall_arch.h (musl/) turns each
 * system call into a call of musl_emu_syscall(number, args...).
 *
 * This file is the entry point: musl_emu_syscall dispatches on the Linux
 * number (the hot calls as tail calls with no stack frame), and here are the
 * process's state, start-up (the standard streams), ids, uname, the signal
 * calls (accepted; nothing is ever delivered) and the one-time report of an
 * unsupported call, which returns -ENOSYS. The parts are in musl_emu/:
 *   - fd.c: the file descriptor table. An fd is a memobj view (regular files:
 *     read, write and lseek go straight to the kernel, no IPC), or ports of
 *     the FS server (a directory port; the console port and write port);
 *   - fs.c: the calls that need the FS server (open, stat, mkdir, unlink,
 *     rename, getdents64, console read/write) as IPC calls in
 *     user/lib/fsproto.h's protocol, and read/write/lseek on views;
 *   - mem.c: brk, mmap, munmap, mprotect on memobjs and vm_map;
 *   - thread.c: clone for pthread_create, futexes, set_tid_address and the
 *     clear-tid wake at thread exit;
 *   - time.c: clocks and sleeping; process.c: musl_emu_spawn; pipe.c: pipes;
 *   - internal.h: what they share.
 *
 * Errors: kestrel's KS_ERR_* codes become Linux errno values (linux_err).
 * Nothing here uses stdio or malloc: musl may call in with its own locks held.
 */
#include "musl_emu/internal.h"

struct emu_state emu;

/* ---- small helpers ---- */

/* Linux errno (negative) for a kestrel error code. */
__attribute__((noinline, cold)) long linux_err(long ks)
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
    case KS_ERR_AGAIN: case KS_ERR_LIMIT: return -EAGAIN;
    case KS_ERR_TIMED_OUT: return -ETIMEDOUT;
    case KS_ERR_IO: return -EIO;
    case KS_ERR_NO_SPACE: return -ENOSPC;
    default: return -EIO;
    }
}

void lock(struct emu_lock *l)
{
    emu_crit++;                 /* upcalls wait (signal.c), while we wait for it too */
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

void unlock(struct emu_lock *l)
{
    if (__atomic_exchange_n(&l->v, 0, __ATOMIC_RELEASE) == 2)
        ks_futex_wake(&l->v, 1);
    if (--emu_crit == 0 && __builtin_expect(emu_deferred != 0, 0)) {
        uint64_t bits = emu_deferred;
        emu_deferred = 0;
        ks_upcall_mask(KS_MASK_UNBLOCK, bits, NULL);    /* what came meanwhile runs now */
    }
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

/* syslog(2), that is klogctl: the kernel log through KS_SYS_KLOG (see internal.h). */
long sys_syslog(long type, char *buf, long len)
{
    long r;
    switch (type) {
    case 0: case 1: case 6: case 7: case 8:
        return 0;               /* close, open, console off and on, console level: nothing to do */
    case 3: case 4:             /* SYSLOG_ACTION_READ_ALL, READ_CLEAR */
        if (len < 0)
            return -EINVAL;
        r = ks_klog(type == 3 ? KS_KLOG_READ : KS_KLOG_READ_CLEAR, buf, (size_t)len);
        break;
    case 5:                     /* SYSLOG_ACTION_CLEAR */
        r = ks_klog(KS_KLOG_CLEAR, NULL, 0);
        break;
    case 9:                     /* SIZE_UNREAD (there is no read position: the capacity) */
    case 10:                    /* SIZE_BUFFER */
        r = ks_klog(KS_KLOG_SIZE, NULL, 0);
        break;
    default:
        return -EINVAL;         /* READ (2) waits for new messages on Linux: not offered */
    }
    return r < 0 ? linux_err(r) : r;
}

static const struct { short nr; const char *name; } sys_names[] = {
    { SYS_socket, "socket" },
    { SYS_fchownat, "fchownat" },
    { SYS_mremap, "mremap" },
    { SYS_statx, "statx" },
    { SYS_rt_sigreturn, "rt_sigreturn" },
};

static void write_stderr(const char *s, size_t n)
{
    struct fd f;
    if (fd_get(2, &f))
        sys_write(2, s, n);
    else
        ks_debug_write(s, n);
}

long unsupported(long nr)
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
    long fd = emu.root ? sys_openat(AT_FDCWD, "/dev/console", O_RDWR | O_NOCTTY, 0) : -ENOENT;
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

void emu_init(void)
{
    struct ks_ids ids;
    emu.ready = 1;
    ks_self_ids(&ids);
    emu.pid = ids.pid;
    emu.ppid = ids.parent_pid;
    emu.pgid = emu.sid = ids.pid;       /* a program started afresh leads a session of its own */
    emu.next_tid = ids.pid * 1000 + 1;
    emu.realtime_base_ns = MUSL_EMU_REALTIME_BASE_NS;
    emu.root = (ks_handle_t)getauxval(FS_AT_ROOT);
    emu.umask = 022;
    ks_handle_t exec_state = (ks_handle_t)getauxval(EXEC_AT_STATE);
    int restored = exec_state && exec_restore(exec_state) == 0;
    if (!restored)
        open_stdio();
    signal_init(emu.exec_ignored);
    if (restored)
        exec_restore_timer();
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

static long first_call(long n, long a, long b, long c, long d, long e, long f);

/*
 * Robust mutexes: musl keeps the list and walks it itself at pthread_exit;
 * the kernel walks it when the thread ends any other way (KS_SYS_THREAD_ROBUST,
 * given the thread's tid, which musl's lock words carry).
 */
static __thread void *robust_head;

static long sys_set_robust_list(void *head, size_t len)
{
    if (len != 3 * sizeof(long))
        return -EINVAL;
    long r = ks_thread_robust(head, (uint32_t)sys_gettid());
    if (r == 0)
        robust_head = head;
    return ret_or_err(r);
}

static long sys_get_robust_list(long tid, void **head, size_t *len)
{
    if (tid != 0 && tid != sys_gettid())
        return -EPERM;          /* another thread's: not offered */
    *head = robust_head;
    *len = 3 * sizeof(long);
    return 0;
}

/* getrandom: the kernel's generator (KS_SYS_RANDOM); it never blocks, so the flags change nothing. */
static long sys_getrandom(void *buf, size_t len, long flags)
{
    if (flags & ~(long)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
        return -EINVAL;
    size_t done = 0;
    while (done < len) {
        long r = ks_random((uint8_t *)buf + done, len - done);
        if (r <= 0)
            return done ? (long)done : r == 0 ? -EIO : linux_err(r);
        done += (size_t)r;
    }
    return (long)done;
}
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
    case SYS_pipe2: return sys_pipe2((int *)a, b);
    case SYS_chdir: return sys_chdir((const char *)a);
    case SYS_faccessat: return sys_faccessat(a, (const char *)b, c);
    case SYS_fchmodat: return sys_fchmodat(a, (const char *)b, c, 0);
    case SYS_fchmod: return sys_fchmod(a, b);
    case SYS_utimensat: return sys_utimensat(a, (const char *)b, (const struct timespec *)c, d);
    case SYS_statfs: return sys_statfs((const char *)a, (struct statfs *)b);
    case SYS_fstatfs: return sys_fstatfs(a, (struct statfs *)b);
    case SYS_pread64: return sys_prw(a, (void *)b, (size_t)c, d, 0);
    case SYS_pwrite64: return sys_prw(a, (void *)b, (size_t)c, d, 1);
    case SYS_fchdir: return sys_fchdir(a);
    case SYS_getcwd: return sys_getcwd((char *)a, (size_t)b);
    case SYS_clone:             /* a raw clone is fork's (musl's pthread_create goes through __clone) */
        return (a & ~0xffl) == 0 && !b ? emu_fork() : -ENOSYS;
    case SYS_execve: return sys_execve((const char *)a, (char *const *)b, (char *const *)c);
    case SYS_waitid: return sys_waitid(a, b, (siginfo_t *)c, d, (struct rusage *)e);
    case SYS_wait4: return sys_wait4(a, (int *)b, c, (struct rusage *)d);
    case SYS_fstat: return sys_fstat(a, (struct stat *)b);
    case SYS_newfstatat: return sys_fstatat(a, (const char *)b, (struct stat *)c, d);
    case SYS_getdents64: return sys_getdents64(a, (void *)b, (size_t)c);
    case SYS_mkdirat: return sys_mkdirat(a, (const char *)b, c);
    case SYS_unlinkat: return sys_unlinkat(a, (const char *)b, c);
    case SYS_symlinkat: return sys_symlinkat((const char *)a, b, (const char *)c);
    case SYS_readlinkat: return sys_readlinkat(a, (const char *)b, (char *)c, (size_t)d);
    case SYS_renameat2: return sys_renameat2(a, (const char *)b, c, (const char *)d, e);
    case SYS_linkat: return sys_linkat(a, (const char *)b, c, (const char *)d, e);
#ifdef SYS_renameat
    case SYS_renameat: return sys_renameat2(a, (const char *)b, c, (const char *)d, 0);
#endif
    case SYS_ftruncate: return sys_ftruncate(a, b);
    case SYS_fsync: case SYS_fdatasync: {
        struct fd f;
        return fd_get(a, &f) ? fs_sync() : -EBADF;
    }
    case SYS_dup: return sys_dup_from(a, 0, 0);
    case SYS_dup3: return sys_dup3(a, b, c);
    case SYS_fcntl: return sys_fcntl(a, b, c);
    case SYS_ioctl: return sys_ioctl(a, (unsigned long)b, (void *)c);
    case SYS_brk: return sys_brk((uintptr_t)a);
    case SYS_mmap: return sys_mmap((uintptr_t)a, (size_t)b, c, d, e, f);
    case SYS_munmap: return sys_munmap((uintptr_t)a, (size_t)b);
    case SYS_mprotect: return sys_mprotect((uintptr_t)a, (size_t)b, c);
    case SYS_msync: return sys_msync((uintptr_t)a, (size_t)b, c);
    case SYS_madvise: return 0;         /* advice only: MADV_FREE and friends may be ignored */
    case SYS_mremap: return -ENOMEM;    /* mappings never move or grow in place; musl's realloc
                                           then allocates, copies and frees, as Linux allows */
    case SYS_exit: ks_thread_exit_clear(a, thread_leaving());
    case SYS_exit_group: ks_process_exit(a);
    case SYS_getpid: return emu.pid;
    case SYS_getppid: return sys_getppid();
    case SYS_getpgid: return sys_getpgid(a);
    case SYS_setpgid: return sys_setpgid(a, b);
    case SYS_getsid: return sys_getsid(a);
    case SYS_setsid: return sys_setsid();
    case SYS_gettid: return sys_gettid();
    case SYS_set_tid_address: return sys_set_tid_address((volatile uint32_t *)a);
    case SYS_set_robust_list: return sys_set_robust_list((void *)a, (size_t)b);
    case SYS_get_robust_list: return sys_get_robust_list(a, (void **)b, (size_t *)c);
    case SYS_clock_gettime: return sys_clock_gettime(a, (struct timespec *)b);
    case SYS_clock_getres: return sys_clock_getres(a, (struct timespec *)b);
    case SYS_nanosleep: return sys_clock_nanosleep(CLOCK_MONOTONIC, 0, (const struct timespec *)a,
                                                   (struct timespec *)b);
    case SYS_clock_nanosleep: return sys_clock_nanosleep(a, b, (const struct timespec *)c, (struct timespec *)d);
    case SYS_sched_yield: return ret_or_err(ks_thread_yield());
    case SYS_futex: return sys_futex((volatile uint32_t *)a, b, (uint32_t)c, (const struct timespec *)d,
                                     (volatile uint32_t *)e, (uint32_t)f);
    case SYS_rt_sigprocmask: return sys_rt_sigprocmask(a, (const uint64_t *)b, (uint64_t *)c, (size_t)d);
    case SYS_rt_sigaction: return sys_rt_sigaction(a, (const void *)b, (void *)c, (size_t)d);
    case SYS_rt_sigpending: return sys_rt_sigpending((uint64_t *)a, (size_t)b);
    case SYS_rt_sigsuspend: return sys_rt_sigsuspend((const uint64_t *)a, (size_t)b);
    case SYS_rt_sigtimedwait: return sys_rt_sigtimedwait((const uint64_t *)a, (siginfo_t *)b,
                                                         (const struct timespec *)c, (size_t)d);
    case SYS_ppoll: return sys_ppoll((struct pollfd *)a, (unsigned long)b, (const struct timespec *)c,
                                     (const uint64_t *)d, (size_t)e);
    case SYS_pselect6: return sys_pselect6(a, (fd_set *)b, (fd_set *)c, (fd_set *)d,
                                           (const struct timespec *)e, (const void *)f);
    case SYS_flock: return sys_flock(a, b);
    case SYS_times: return sys_times((struct tms *)a);
    case SYS_getrusage: return sys_getrusage(a, (struct rusage *)b);
    case SYS_getrandom: return sys_getrandom((void *)a, (size_t)b, c);
    case SYS_kill: return sys_kill(a, b);
    case SYS_sigaltstack: return sys_sigaltstack((const stack_t *)a, (stack_t *)b);
    case SYS_tkill: return sys_tgkill(-1, a, b);
    case SYS_tgkill: return sys_tgkill(a, b, c);
    case SYS_setitimer: return sys_setitimer(a, (const struct itimerval *)b, (struct itimerval *)c);
    case SYS_getitimer: return sys_getitimer(a, (struct itimerval *)b);
    case SYS_uname: return sys_uname((struct utsname *)a);
    case SYS_getgroups:         /* root, in no supplementary group */
        return 0;
    case SYS_sync:
        fs_sync();
        return 0;
    case SYS_syncfs: return fs_sync();
    case SYS_syslog:            /* klogctl, for dmesg: the kernel log (KS_SYS_KLOG) */
        return sys_syslog(a, (char *)b, c);
    case SYS_getuid: case SYS_geteuid: case SYS_getgid: case SYS_getegid:
        return 0;               /* one user, root; modes are reported, not checked */
    case SYS_umask: {
        long old = emu.umask;
        emu.umask = (uint32_t)(a & 0777);
        return old;
    }
    case SYS_prlimit64: return sys_prlimit64(a, b, (const struct rlimit *)c, (struct rlimit *)d);
    case SYS_sched_getaffinity: return sys_sched_getaffinity(a, (size_t)b, (void *)c);
    default: return unsupported(n);
    }
}

/* The process's first system call (musl's set_tid_address, or whatever comes first). */
static __attribute__((noinline)) long first_call(long n, long a, long b, long c, long d, long e, long f)
{
    emu_init();
    return musl_emu_syscall(n, a, b, c, d, e, f);
}

