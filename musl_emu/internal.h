/*
 * musl_emu/internal.h - what the parts of musl_emu share: the process's state
 * (descriptor slots, thread records, brk), the error translation, the small
 * futex lock, and the functions one part calls in another. musl_emu.c is the
 * entry point (dispatch on Linux system call numbers); the parts are in this
 * folder. Not for use outside musl_emu (its interface is musl_emu.h).
 */
#ifndef MUSL_EMU_INTERNAL_H
#define MUSL_EMU_INTERNAL_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <ucontext.h>
#include <kestrel/upcall.h>
#include "musl_emu.h"
#include "user/lib/fsproto.h"
#include "user/lib/ipc.h"
#include "user/lib/ks.h"
#include "user/lib/loader.h"

#define MAX_FDS         64
#define MAX_THREADS     64
#define MAX_KIDS        1024        /* children a process may have unreaped (the kernel limits them first) */
#define BRK_MAX         (64ull << 20)

struct emu_lock { volatile uint32_t v; };     /* 0 free, 1 held, 2 held with waiters */

enum fd_kind { FD_FREE, FD_FILE, FD_DIR, FD_CONSOLE, FD_DEBUG, FD_PIPE,
               FD_DEV };        /* /dev/null, zero or full (pos: FS_KIND_*): served here */

/* Does a slot of this kind hold handles (h, and h2 if set)? */
static inline int fd_kind_has_handles(int kind) { return kind != FD_DEBUG && kind != FD_DEV; }

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
    ks_handle_t h;              /* FILE: view; DIR: directory port; CONSOLE: console port;
                                   PIPE: its end */
    ks_handle_t h2;             /* FILE: the file's memobj, once fd_memobj fetched it (else 0);
                                   CONSOLE: write port (or 0) */
    uint32_t pos;               /* DIR: the next readdir position (as fsd numbers entries);
                                   DEV: which device (FS_KIND_NULL, _ZERO, _FULL) */
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
    ks_handle_t h;              /* a handle to it (for tkill), or 0 */
    volatile uint32_t *clear_tid;
};

/* A signal's action, as musl's rt_sigaction passes it (struct k_sigaction, riscv64). */
struct kact {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

struct emu_state {
    int ready;
    ks_handle_t root;           /* the FS server's root port, or 0 */
    uint32_t pid, ppid;
    ks_handle_t parent;         /* the parent, KS_RIGHT_SIGNAL and TRANSFER only (0: none) */
    ks_handle_t self_signal;    /* ourselves, the same rights: our children's `parent` (made at
                                   the first fork; near pid, so a fork's child writes one page) */
    uint32_t next_tid;
    struct emu_lock fd_lock, thread_lock;
    struct fd fds[MAX_FDS];
    char dir_path[MAX_FDS][FS_PATH_MAX];    /* a DIR slot's absolute path (for openat) */
    char cwd[FS_PATH_MAX];                  /* the working directory, canonical ("" means "/") */
    uint32_t umask;                         /* taken off new files' and directories' modes */
    struct emu_thread threads[MAX_THREADS];
    struct { uint32_t pid, pgid; ks_handle_t h; uintptr_t reaping; } kids[MAX_KIDS];
                                            /* forked, not yet reaped; its process group as
                                               we know it; `reaping`: the thread (its tp)
                                               whose wait4 waits for it */
    uint32_t pgid, sid;                     /* our process group and session (process.c) */
    int ctty;                               /* our session has the console as its controlling
                                               terminal, and we joined it (FS_OP_TTYJOIN) */
    ks_handle_t init_h;                     /* init (pid 1), KS_RIGHT_SIGNAL: kill(1, ...) */
    uint32_t nofile;                        /* RLIMIT_NOFILE (0: MAX_FDS): fds at or above fail */
    uint64_t stack_limit;                   /* RLIMIT_STACK as set, plus one (0: never set, the
                                               default), reported and given to exec */
    struct kact sigact[65];                 /* signal n's action (signal.c) */
    uint64_t exec_ignored;                  /* the signals the program before exec ignored */
    uintptr_t brk_base, brk_cur, brk_mapped;
    uint64_t realtime_base_ns;
    uint64_t warned[512 / 64];              /* call numbers unsupported() has reported */
};
extern struct emu_state emu;

/*
 * The one lock-free read of descriptor slot fd: its fields copied into *out
 * between two reads of the slot's sequence count. 1: *out is a consistent
 * copy (kind FD_FREE: fd is not open); 0: no copy, because fd is out of range
 * or a writer was part-way through (fd_get tells the two apart and waits for
 * the writer; the read and write fast paths take their slow way). Inlined:
 * a caller that uses only a few of the copy's fields loads only those.
 */
static inline __attribute__((always_inline)) int fd_snapshot(long fd, struct fd *out)
{
    if ((unsigned long)fd >= MAX_FDS)
        return 0;
    const struct fd *f = &emu.fds[fd];
    uint32_t seq = __atomic_load_n(&f->seq, __ATOMIC_RELAXED);
    SEQ_BARRIER();
    *out = *f;
    SEQ_BARRIER();
    return !(seq & 1) && __atomic_load_n(&f->seq, __ATOMIC_RELAXED) == seq;
}

/* The calling thread's thread pointer: what names it here, at no cost. */
static inline uintptr_t emu_tp(void)
{
    uintptr_t tp;
    __asm__ volatile("mv %0, tp" : "=r"(tp));
    return tp;
}

/* ---- musl_emu.c ---- */

/* Linux errno (negative) for a kestrel error code. */
long linux_err(long ks);

void lock(struct emu_lock *l);

void unlock(struct emu_lock *l);

long unsupported(long nr);

void emu_init(void);

/* ---- pipe.c (f: an FD_PIPE slot's copy) ---- */

long sys_pipe2(int *fds, long flags);
long pipe_read(const struct fd *f, void *buf, size_t len);
long pipe_write(const struct fd *f, const void *buf, size_t len);
void pipe_stat(const struct fd *f, struct stat *st);
long pipe_fcntl(const struct fd *f, long cmd, long arg);   /* F_GETPIPE_SZ, F_SETPIPE_SZ */
long pipe_ioctl(const struct fd *f, unsigned long req, void *arg);

/* ---- fs.c: the working directory ---- */

long sys_prw(long fd, void *buf, size_t len, long off, int writing);     /* pread64, pwrite64 */
long sys_chdir(const char *path);
long sys_faccessat(long dirfd, const char *path, long mode);
long sys_utimensat(long dirfd, const char *path, const struct timespec *times, long flags);
long sys_fchmodat(long dirfd, const char *path, long mode, long flags);
long sys_fchmod(long fd, long mode);
long sys_statfs_any(struct statfs *sf);

/*
 * statfs / fstatfs: the disk's ext2 counts for what is on it (FS_OP_STATFS),
 * else sys_statfs_any's answer for fsd's memory. 0 or -errno.
 */
long sys_statfs(const char *path, struct statfs *sf);
long sys_fstatfs(long fd, struct statfs *sf);
long sys_fchdir(long fd);
long sys_getcwd(char *buf, size_t size);

/* ---- process.c: ids and limits, fork and wait ---- */

long sys_prlimit64(long pid, long resource, const struct rlimit *new, struct rlimit *old);
long sys_sched_getaffinity(long pid, size_t size, void *mask);

long emu_fork(void);

/* ---- thread.c: the thread handle for tid (KS_THREAD_SELF for the caller), or 0 ---- */
ks_handle_t emu_thread_handle(uint32_t tid);

/*
 * clone(CLONE_VM | CLONE_VFORK), as musl's posix_spawn makes it: a fork
 * whose child calls func(arg) and exits with its result. The child's pid,
 * or -errno.
 */
long emu_vfork_call(int (*func)(void *), void *arg);

/* The process handle of child pid, or 0 if it is not ours. */
ks_handle_t emu_kid_handle(uint32_t pid);

/*
 * Process groups and sessions, as far as one process can know them: its own,
 * and its children's (from fork, or a setpgid on them). A shell calls setpgid
 * in the child too, which is what makes it true in the child.
 */
long sys_getppid(void);
/* Our process group, as the kernel has it (a parent's setpgid on us changes it there), kept in emu.pgid. */
uint32_t emu_own_pgid(void);
long sys_getpgid(long pid);
long sys_setpgid(long pid, long pgid);
long sys_getsid(long pid);
long sys_setsid(void);

/* ---- signal.c ---- */

/* At start: register the upcall entry; `ignored` (bit n - 1: signal n) start as SIG_IGN. */
void signal_init(uint64_t ignored);

/* The signals whose action is SIG_IGN (what exec keeps). */
uint64_t signal_ignored(void);

/* In a fork's child: what is not inherited (the interval timer) is dropped. */
void signal_fork_child(void);

/*
 * The ITIMER_REAL timer (alarm), taken for exec to pass on: its deadline (0:
 * off) and interval, in ns; it is off here from now on, so that it fires
 * once, in the new program (a failed exec gives it back: itimer_after_exec).
 */
void itimer_for_exec(uint64_t *deadline, uint64_t *interval);

/* In the program exec started, or after a failed exec: the timer goes on (deadline 0: none). */
void itimer_after_exec(uint64_t deadline, uint64_t interval);

/* After a blocking call failed with KS_ERR_INTERRUPTED: 1 if it should start again
   (the upcall that interrupted it was ignored, or its action had SA_RESTART). */
extern __thread int emu_restart_ok;
/* Signal handlers this thread has run (a sleep goes on after a signal that ran none). */
extern __thread unsigned long emu_handlers_run;
static inline int emu_restart(void)
{
    int r = emu_restart_ok;
    emu_restart_ok = 0;
    return r;
}

/*
 * musl_emu's own critical sections (its locks): an upcall that comes while
 * the thread holds one is deferred (re-raised on the thread and masked) and
 * unmasked when the last lock goes, so no handler runs on a half-changed
 * table or on a lock its own thread holds. lock() and unlock() count.
 */
extern __thread unsigned emu_crit;
extern __thread uint64_t emu_deferred;

/* The upcall entry: the kernel diverts a thread here (include/kestrel/upcall.h). */
struct ks_upcall_frame;
void emu_upcall(long bit, struct ks_upcall_frame *f);

long sys_rt_sigaction(long sig, const void *act, void *old, size_t size);
long sys_rt_sigprocmask(long how, const uint64_t *set, uint64_t *old, size_t size);
long sys_rt_sigpending(uint64_t *set, size_t size);
long sys_rt_sigsuspend(const uint64_t *mask, size_t size);
long sys_rt_sigtimedwait(const uint64_t *set, siginfo_t *info, const struct timespec *ts, size_t size);
long sys_kill(long pid, long sig);
long sys_sigaltstack(const stack_t *ss, stack_t *old);
long sys_tgkill(long tgid, long tid, long sig);
long sys_setitimer(long which, const struct itimerval *val, struct itimerval *old);
long sys_getitimer(long which, struct itimerval *val);

/* ---- locks.c ---- */

long sys_fcntl_lock(long fd, long cmd, struct flock *fl);     /* F_GETLK, F_SETLK, F_SETLKW */
long sys_flock(long fd, long op);

/* A descriptor of file ino is closing: drop this process's locks on it (if it asked for any). */
void locks_closing(uint64_t ino);

/* In a fork's child: the parent's locks are not its. */
void locks_fork_child(void);

/* Has this process asked for a lock (exec passes it on)? After an exec that had: every close
   of a file tells fsd, since which files were locked is not known any more. */
int locks_any(void);
void locks_after_exec(void);

/* ---- poll.c ---- */

long sys_ppoll(struct pollfd *fds, unsigned long n, const struct timespec *ts, const uint64_t *mask,
               size_t mask_size);
long sys_pselect6(long nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *ts,
                  const void *sigdata);

/* The calling thread's own listener, nobody calls (poll's, wait4's), made at first use; 0 if
   none could be made. */
ks_handle_t emu_thread_listener(void);

/* The calling thread is leaving: its poll listener goes. */
void poll_thread_exit(void);

/* In a fork's child: the poll listener was the parent's thread's. */
void poll_fork_child(void);

/* ---- exec.c ---- */

#define EXEC_AT_STATE   0x4b5321    /* auxv: the exec state memobj (exec.c), after an execve */

long sys_execve(const char *path, char *const argv[], char *const envp[]);

/* A program started by execve: its descriptors, children, cwd and umask from the state. */
int exec_restore(ks_handle_t state);

/* After exec_restore and signal_init: the alarm the program before had goes on here. */
void exec_restore_timer(void);
long sys_wait4(long pid, int *status, long options, struct rusage *ru);
long sys_waitid(long idtype, long id, siginfo_t *info, long options, struct rusage *ru);

/*
 * A SIGCHLD's si_code and si_status (CLD_EXITED, ...) from the child si_pid
 * names, as a wait would report it but leaving it to be waited for; si
 * unchanged if si_pid is not a child or a wait took the report already.
 */
void emu_child_info(siginfo_t *si);

/* ---- fd.c ---- */

/* fd_snapshot, waiting out a busy writer: 1 if fd is open (*out its copy), else 0. */
int fd_get(long fd, struct fd *out);

/* Set slot fd to *val (fd_lock held); path: a DIR slot's path, else NULL. */
void fd_set_locked(long fd, const struct fd *val, const char *path);

/* The directory path of slot fd (a DIR) into out (FS_PATH_MAX): 0, or -EBADF / -ENOTDIR. */
long fd_dir_path(long fd, char *out);

/* The lowest free fd at or above `from` (fd_lock held), or -EMFILE. */
long fd_alloc_locked(long from);

/* Close the handles of a slot's copy that is no longer in the table. */
void fd_release_handles(struct fd *f);

/*
 * The memobj handle of FILE slot fd, whose copy is *f: f->h2, or, the first
 * time one is needed, the one its view gives (KS_SYS_VIEW_MEMOBJ), kept in
 * the slot and in *f from then on. Open does not fetch it: most files are
 * only read and written. A handle, or -errno (EBADF if the slot was closed or
 * reopened meanwhile). Not with fd_lock held.
 */
long fd_memobj(long fd, struct fd *f);

/*
 * Make slot `to` a copy of slot `from` (f: its open copy) with close-on-exec
 * as given (fd_lock held): the same objects, so a file's position is shared,
 * and a directory's path. 0, or -errno with slot `to` untouched.
 */
long fd_copy_locked(long from, const struct fd *f, long to, int cloexec);

/* ---- fs.c ---- */

long sys_openat(long dirfd, const char *path, long flags, long mode);

long sys_close(long fd);

/*
 * write(). The common cases, a plain file (one view_write system call) and a
 * short console write (one IPC round trip), are decided here on fields read
 * straight from the slot (checked against its sequence count), with nothing
 * on the stack; everything else is write_slow's.
 */
long sys_write(long fd, const void *buf, size_t len);

/* read(): a plain file is one view_read system call, decided as in sys_write. */
long sys_read(long fd, void *buf, size_t len);

/*
 * writev/readv: the fd and its access mode first (as Linux: even with nothing
 * to transfer), then one call per piece, stopping at a short transfer. A
 * console writev whose pieces fit in registers together (musl's stdio flushes
 * its buffer and the new data as two pieces) is sent as one message.
 */
long sys_rwv(long fd, const struct iovec *iov, long n, int writing);

long sys_lseek(long fd, long off, long whence);

long sys_fstat(long fd, struct stat *st);

long sys_fstatat(long dirfd, const char *path, struct stat *st, long flags);

long sys_getdents64(long fd, void *buf, size_t len);

long sys_ftruncate(long fd, long size);

/* fsync, fdatasync, sync, syncfs: fsd writes the disk's dirty pages back (FS_OP_SYNC). 0 or -errno. */
long fs_sync(void);

/* dup3: newfd becomes a copy of oldfd (closing what it held); newfd, or -errno. */
long sys_dup3(long oldfd, long newfd, long flags);

/* dup and F_DUPFD: a copy of oldfd in the lowest free slot at or above `from`; the fd, or -errno. */
long sys_dup_from(long oldfd, long from, int cloexec);

long sys_fcntl(long fd, long cmd, long arg);

long sys_ioctl(long fd, unsigned long req, void *arg);

long sys_mkdirat(long dirfd, const char *path, long mode);

long sys_unlinkat(long dirfd, const char *path, long flags);
/*
 * Tell the console that process h (a handle with KS_RIGHT_SIGNAL, or
 * KS_PROCESS_SELF for ourselves) of this pid is in process group pgid (0: it
 * leaves), so that ^C and the like reach it while its group is in the
 * foreground (FS_OP_TTYJOIN). Nothing unless our session has the console.
 */
void emu_tty_join(ks_handle_t h, uint32_t pid, uint32_t pgid);

/* syslog(2) (klogctl): read, read and clear, clear, or size the kernel log. */
long sys_syslog(long type, char *buf, long len);

/* symlinkat and readlinkat (fsd's FS_OP_SYMLINK, FS_OP_READLINK). */
long sys_symlinkat(const char *target, long dirfd, const char *path);
long sys_readlinkat(long dirfd, const char *path, char *buf, size_t size);

long sys_renameat2(long olddirfd, const char *old, long newdirfd, const char *new, long flags);

/* linkat: a second name for a file on the disk (FS_OP_LINK); AT_SYMLINK_FOLLOW is not offered. */
long sys_linkat(long olddirfd, const char *old, long newdirfd, const char *new, long flags);

/* ---- mem.c ---- */

long sys_brk(uintptr_t want);

long sys_mmap(uintptr_t addr, size_t len, long prot, long flags, long fd, long off);

long sys_munmap(uintptr_t addr, size_t len);

long sys_mprotect(uintptr_t addr, size_t len, long prot);

/*
 * msync: 0, -EINVAL (addr not page-aligned, unknown flags, MS_ASYNC with
 * MS_SYNC) or -ENOMEM (part of the range not mapped). Every file mapped
 * shared and writable there has changed now; MS_SYNC writes the disk back.
 */
long sys_msync(uintptr_t addr, size_t len, long flags);

/* ---- time.c ---- */

long sys_clock_gettime(long clk, struct timespec *ts);

/* *ts in nanoseconds into *ns (KS_FOREVER if it does not fit): 0, or -EINVAL if malformed. */
int ts_to_ns(const struct timespec *ts, uint64_t *ns);

long sys_clock_nanosleep(long clk, long flags, const struct timespec *req, struct timespec *rem);

long sys_clock_getres(long clk, struct timespec *ts);
long sys_times(struct tms *buf);
long sys_getrusage(long who, struct rusage *ru);

/* wait4's rusage for the child whose process handle is proc (before it is closed). */
void rusage_of(ks_handle_t proc, struct rusage *ru);

/* ---- thread.c ---- */

long sys_futex(volatile uint32_t *addr, long op, uint32_t val, const struct timespec *timeout,
                      volatile uint32_t *addr2, uint32_t val3);

long sys_set_tid_address(volatile uint32_t *clear);

long sys_gettid(void);

/* Forget the calling thread; returns its clear-tid address. */
volatile uint32_t *thread_leaving(void);

/* r, or the Linux errno for it if it is a kestrel error. */
static inline long ret_or_err(long r) { return __builtin_expect(r < 0, 0) ? linux_err(r) : r; }

#endif
