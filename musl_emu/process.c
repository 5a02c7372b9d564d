/*
 * musl_emu/process.c - processes: musl_emu_spawn (a program from the boot image
 * in a new process with the FS root port; see musl_emu.h), fork, posix_spawn's
 * vfork, wait, limits and the CPU set. execve is exec.c's.
 */
#include "musl_emu/internal.h"

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

/* ---- fork and wait ---- */

/*
 * fork's two returns. emu_fork_save stores what a C call keeps (ra, sp, gp,
 * tp, s0-s11, fs0-fs11) and returns 0; the child's first thread starts at
 * emu_fork_resume(ctx) on the copy of the same stack, restores them and
 * returns 1 from that same emu_fork_save call, as setjmp and longjmp would.
 */
struct fork_ctx {
    uint64_t ra, sp, gp, tp, s[12], fs[12];
};
int emu_fork_save(struct fork_ctx *c) __attribute__((returns_twice));
void emu_fork_resume(struct fork_ctx *c);

__asm__(
    ".text\n"
    ".globl emu_fork_save\n"
    ".type emu_fork_save, @function\n"
    "emu_fork_save:\n"
    "    sd ra, 0(a0)\n    sd sp, 8(a0)\n    sd gp, 16(a0)\n    sd tp, 24(a0)\n"
    "    sd s0, 32(a0)\n    sd s1, 40(a0)\n    sd s2, 48(a0)\n    sd s3, 56(a0)\n"
    "    sd s4, 64(a0)\n    sd s5, 72(a0)\n    sd s6, 80(a0)\n    sd s7, 88(a0)\n"
    "    sd s8, 96(a0)\n    sd s9, 104(a0)\n    sd s10, 112(a0)\n    sd s11, 120(a0)\n"
    "    fsd fs0, 128(a0)\n    fsd fs1, 136(a0)\n    fsd fs2, 144(a0)\n    fsd fs3, 152(a0)\n"
    "    fsd fs4, 160(a0)\n    fsd fs5, 168(a0)\n    fsd fs6, 176(a0)\n    fsd fs7, 184(a0)\n"
    "    fsd fs8, 192(a0)\n    fsd fs9, 200(a0)\n    fsd fs10, 208(a0)\n    fsd fs11, 216(a0)\n"
    "    li a0, 0\n"
    "    ret\n"
    ".size emu_fork_save, . - emu_fork_save\n"
    ".globl emu_fork_resume\n"
    ".type emu_fork_resume, @function\n"
    "emu_fork_resume:\n"
    "    ld ra, 0(a0)\n    ld sp, 8(a0)\n    ld gp, 16(a0)\n    ld tp, 24(a0)\n"
    "    ld s0, 32(a0)\n    ld s1, 40(a0)\n    ld s2, 48(a0)\n    ld s3, 56(a0)\n"
    "    ld s4, 64(a0)\n    ld s5, 72(a0)\n    ld s6, 80(a0)\n    ld s7, 88(a0)\n"
    "    ld s8, 96(a0)\n    ld s9, 104(a0)\n    ld s10, 112(a0)\n    ld s11, 120(a0)\n"
    "    fld fs0, 128(a0)\n    fld fs1, 136(a0)\n    fld fs2, 144(a0)\n    fld fs3, 152(a0)\n"
    "    fld fs4, 160(a0)\n    fld fs5, 168(a0)\n    fld fs6, 176(a0)\n    fld fs7, 184(a0)\n"
    "    fld fs8, 192(a0)\n    fld fs9, 200(a0)\n    fld fs10, 208(a0)\n    fld fs11, 216(a0)\n"
    "    li a0, 1\n"
    "    ret\n"
    ".size emu_fork_resume, . - emu_fork_resume\n");

/*
 * The child's side, before it returns 0: it is its own process now (pid,
 * parent), with one thread (the records of the others, and any lock they
 * held, are dropped), and no children (their handles came with the copy).
 */
static void fork_child_setup(void)
{
    uint32_t grandparent = emu.ppid;    /* the parent's parent, as the copy knows it */
    struct ks_ids ids;
    if (ks_self_ids(&ids) == 0) {
        emu.pid = ids.pid;
        emu.ppid = ids.parent_pid;
    }
    /* Every page written here is copied (copy-on-write): write only what changes. */
    for (int i = 0; i < MAX_THREADS; i++)
        if (emu.threads[i].tid) {
            if (emu.threads[i].h)
                ks_handle_close(emu.threads[i].h);  /* the copies name the parent's threads */
            memset(&emu.threads[i], 0, sizeof emu.threads[i]);  /* set_tid_address makes ours */
        }
    /*
     * The grandparent's handle goes, unless it is init's: that one stays as
     * init_h, for kill(1, ...) (busybox's poweroff); a child of init shares
     * its parent handle as init_h.
     */
    if (emu.parent && !emu.init_h && grandparent == 1)
        emu.init_h = emu.parent;
    else if (emu.parent && emu.parent != emu.init_h)
        ks_handle_close(emu.parent);
    emu.parent = emu.self_signal;                   /* the copy names the parent */
    emu.self_signal = 0;
    if (!emu.init_h && emu.ppid == 1)
        emu.init_h = emu.parent;
    signal_fork_child();
    poll_fork_child();
    locks_fork_child();
    emu.thread_lock.v = 0;
    emu.fd_lock.v = 0;
    for (int i = 0; i < MAX_FDS; i++)
        if (emu.fds[i].seq & 1)
            emu.fds[i].seq &= ~1u;                  /* a writer that was half-way is gone */
    for (int i = 0; i < MAX_KIDS; i++)
        if (emu.kids[i].pid) {
            ks_handle_close(emu.kids[i].h);
            emu.kids[i].pid = 0;
        }
    if (emu.ctty)                   /* a new process of the console's session (its group: the */
        emu_tty_join(KS_PROCESS_SELF, emu.pid, emu_own_pgid());     /* parent may have moved it) */
}

/* fork (clone with no flags but the exit signal): a copy-on-write copy of this process. */
long emu_fork(void)
{
    struct fork_ctx ctx;
    uint32_t pid = 0;
    if (emu_fork_save(&ctx)) {
        fork_child_setup();
        return 0;
    }
    int slot = -1;
    lock(&emu.fd_lock);             /* the kids table's lock too: fds and kids change rarely */
    for (int i = 0; i < MAX_KIDS && slot < 0; i++)
        if (!emu.kids[i].pid)
            slot = i;
    unlock(&emu.fd_lock);
    if (slot < 0)
        return -EAGAIN;
    if (!emu.self_signal) {         /* what the child will know its parent by (kill, SIGCHLD's sender) */
        long s = ks_handle_duplicate(KS_PROCESS_SELF, KS_RIGHT_SIGNAL | KS_RIGHT_TRANSFER);
        emu.self_signal = s > 0 ? (ks_handle_t)s : 0;
    }
    emu_own_pgid();                 /* the child's copy of emu.pgid is the kernel's group */
    long h = ks_process_fork((void *)emu_fork_resume, (void *)ctx.sp, (long)&ctx, &pid);
    if (h < 0)
        return h == KS_ERR_LIMIT || h == KS_ERR_NO_MEMORY || h == KS_ERR_NO_HANDLES ? -EAGAIN : linux_err(h);
    emu.kids[slot].h = (ks_handle_t)h;
    emu.kids[slot].pid = pid;
    emu.kids[slot].pgid = emu.pgid;     /* a child starts in our group */
    ks_process_on_exit((ks_handle_t)h, 1ull << (SIGCHLD - 1));     /* SIGCHLD when it ends */
    return pid;
}

ks_handle_t musl_emu_child_handle(int pid)
{
    return pid > 0 ? emu_kid_handle((uint32_t)pid) : 0;
}

ks_handle_t emu_kid_handle(uint32_t pid)
{
    for (int i = 0; i < MAX_KIDS && pid; i++)
        if (emu.kids[i].pid == pid)
            return emu.kids[i].h;
    return 0;
}

/* ---- ids, process groups, sessions ---- */

long sys_getppid(void)
{
    struct ks_ids ids;      /* the kernel's: 1 once the parent has died (orphans go to init) */
    return ks_self_ids(&ids) == 0 ? (long)ids.parent_pid : (long)emu.ppid;
}

/* The kids-table slot of child pid, or -1. */
static int kid_slot(long pid)
{
    for (int i = 0; i < MAX_KIDS && pid > 0; i++)
        if (emu.kids[i].pid == (uint32_t)pid)
            return i;
    return -1;
}

uint32_t emu_own_pgid(void)
{
    struct ks_ids ids;
    if (ks_self_ids(&ids) == 0 && ids.group && ids.group != emu.pgid)
        emu.pgid = ids.group;       /* (our parent's setpgid on us changes the kernel's alone; no
                                       store otherwise: a fork child's page stays shared) */
    return emu.pgid;
}

long sys_getpgid(long pid)
{
    if (pid == 0 || pid == (long)emu.pid)
        return emu_own_pgid();
    int i = kid_slot(pid);
    return i < 0 ? -ESRCH : (long)emu.kids[i].pgid;
}

long sys_setpgid(long pid, long pgid)
{
    if (pgid < 0)
        return -EINVAL;
    if (pid == 0 || pid == (long)emu.pid) {
        if (emu.sid == emu.pid)
            return -EPERM;          /* a session leader stays in its group */
        /*
         * Told even when nothing seems to change: our parent may have moved
         * us already, and fsd may have heard our fork's join (the old group)
         * after its word, so ours comes last.
         */
        emu.pgid = pgid ? (uint32_t)pgid : emu.pid;
        ks_process_group(KS_PROCESS_SELF, emu.pgid);         /* what kill(-pgrp) finds it by */
        emu_tty_join(KS_PROCESS_SELF, emu.pid, emu.pgid);
        return 0;
    }
    int i = kid_slot(pid);
    if (i < 0)
        return -ESRCH;
    uint32_t was = emu.kids[i].pgid;
    emu.kids[i].pgid = pgid ? (uint32_t)pgid : (uint32_t)pid;
    if (emu.kids[i].pgid != was) {  /* the child may exec before it moves itself (shells race both) */
        ks_process_group(emu.kids[i].h, emu.kids[i].pgid);
        emu_tty_join(emu.kids[i].h, emu.kids[i].pid, emu.kids[i].pgid);
    }
    return 0;
}

long sys_getsid(long pid)
{
    if (pid == 0 || pid == (long)emu.pid)
        return emu.sid;
    return kid_slot(pid) < 0 ? -ESRCH : (long)emu.sid;   /* a child is in our session */
}

long sys_setsid(void)
{
    if (emu_own_pgid() == emu.pid)
        return -EPERM;              /* a group leader cannot start a session */
    if (emu.ctty) {                 /* a new session has no controlling terminal */
        emu_tty_join(KS_PROCESS_SELF, emu.pid, 0);
        emu.ctty = 0;
    }
    emu.sid = emu.pgid = emu.pid;
    ks_process_group(KS_PROCESS_SELF, emu.pid);
    return emu.pid;
}

/*
 * The child is a copy-on-write copy, not a borrower of this address space as
 * a Linux vfork child is, so nothing it does can disturb the parent, and the
 * parent need not be held until it execs (posix_spawn waits for that itself,
 * on a close-on-exec pipe). The child calls func on the stack it already
 * stands on, not on the small stack clone was given: execve here runs in
 * user space and needs more room than posix_spawn sets aside for a system call.
 */
long emu_vfork_call(int (*func)(void *), void *arg)
{
    long pid = emu_fork();
    if (pid == 0)
        ks_process_exit(func(arg));
    return pid;
}

/* A KS_STATUS_* value as wait's status word: an exit code, or the signal a kill stands for. */
static int wait_status(uint64_t s)
{
    if (s & KS_STATUS_STOPPED)
        return (int)((s & 0xff) << 8) | 0x7f;                 /* WIFSTOPPED, WSTOPSIG */
    if (s & KS_STATUS_CONTINUED)
        return 0xffff;                                         /* WIFCONTINUED */
    if (!(s & KS_STATUS_KILLED))
        return (int)(s & 0xff) << 8;
    if ((uint32_t)s >= KS_KILL_SIGNAL(1) && (uint32_t)s <= KS_KILL_SIGNAL(64))
        return (int)((uint32_t)s - KS_KILL_SIGNAL(0));     /* a signal's default action */
    switch ((uint32_t)s) {
    case KS_KILL_PAGE_FAULT: return SIGSEGV;
    case KS_KILL_ILLEGAL: return SIGILL;
    case KS_KILL_MISALIGNED: return SIGBUS;
    case KS_KILL_ACCESS: return SIGTRAP;
    default: return SIGKILL;
    }
}

/* Reap kid i if it has ended (or wait until it has): its pid, 0 if not ended (nohang), or -errno. */
static long reap(int i, int *status, struct rusage *ru, uint32_t flags)
{
    uint64_t s = 0;
    long r;
    emu.kids[i].reaping = emu_tp();     /* a signal handler's wait4 passes it by meanwhile */
    do {
        emu_restart_ok = 0;
        r = ks_process_wait_flags(emu.kids[i].h, &s, flags);
    } while (r == KS_ERR_INTERRUPTED && emu_restart());
    emu.kids[i].reaping = 0;
    if (r == KS_ERR_AGAIN)
        return 0;
    if (r < 0)
        return linux_err(r);
    long pid = emu.kids[i].pid;
    if (ru && !(s & (KS_STATUS_STOPPED | KS_STATUS_CONTINUED)))
        rusage_of(emu.kids[i].h, ru);
    if ((s & (KS_STATUS_STOPPED | KS_STATUS_CONTINUED)) || (flags & KS_WAIT_PEEK)) {
        if (status)
            *status = wait_status(s);   /* a stop or continue, or WNOWAIT: the child stays ours */
        return pid;
    }
    ks_handle_close(emu.kids[i].h);
    emu.kids[i].pid = 0;
    if (status)
        *status = wait_status(s);
    return pid;
}

/*
 * Wait until one of the children wait4(pid) could take ends (or, with
 * KS_WATCH_READABLE in `watch`, reports a stop or continue): each reports to
 * this thread's listener (KS_SYS_WATCH), and the thread waits there.
 * 0 (look again), or -EINTR (a signal whose action had no SA_RESTART).
 */
static long wait_for_an_end(long pid, uint32_t watch)
{
    uint64_t note[2];
    ks_handle_t l = emu_thread_listener();
    if (!l)
        return ks_thread_sleep(1000000) == KS_ERR_INTERRUPTED && !emu_restart() ? -EINTR : 0;
    uint32_t own = pid == 0 ? emu_own_pgid() : 0;
    for (int i = 0; i < MAX_KIDS; i++) {
        if (!emu.kids[i].pid || (pid == 0 && emu.kids[i].pgid != own) ||
            (pid < -1 && emu.kids[i].pgid != (uint32_t)-pid))
            continue;
        long w = ks_watch(emu.kids[i].h, watch, l, emu.kids[i].pid);
        if (w > 0)
            return 0;           /* ended already: look again now */
        if (w < 0)              /* cannot be watched (no memory for the record): a tick, then look */
            return ks_thread_sleep(1000000) == KS_ERR_INTERRUPTED && !emu_restart() ? -EINTR : 0;
    }
    emu_restart_ok = 0;
    long r = ks_listener_wait(l, KS_FOREVER, note);
    return r == KS_ERR_INTERRUPTED && !emu_restart() ? -EINTR : 0;
}

/*
 * wait4: a given child (pid > 0), any (-1), one of our process group (0) or
 * of group -pid, with WNOHANG. Waiting for any child looks at each in turn
 * and, while none has ended, waits for the first end (wait_for_an_end).
 * rusage: the child's CPU times (its children's included).
 */
/* sys_wait4 after its check of options, which may hold WNOWAIT too (waitid's). */
static long wait_kids(long pid, int *status, long options, struct rusage *ru)
{
    if (ru)
        memset(ru, 0, sizeof *ru);
    int nohang = !!(options & WNOHANG);
    uint32_t jobs = (options & WUNTRACED ? KS_WAIT_STOPPED : 0) | (options & WCONTINUED ? KS_WAIT_CONTINUED : 0) |
                    (options & WNOWAIT ? KS_WAIT_PEEK : 0);
    uintptr_t me = emu_tp();
    uint32_t own = pid == 0 ? emu_own_pgid() : 0;     /* waitpid(0): our group */
    for (;;) {
        int any = 0, waited = 0;
        for (int i = 0; i < MAX_KIDS; i++) {
            if (!emu.kids[i].pid || (pid > 0 && emu.kids[i].pid != (uint32_t)pid))
                continue;
            if ((pid == 0 && emu.kids[i].pgid != own) || (pid < -1 && emu.kids[i].pgid != (uint32_t)-pid))
                continue;       /* not in the process group asked for */
            if (emu.kids[i].reaping) {
                any |= emu.kids[i].reaping != me;   /* our own interrupted wait4 will have it */
                continue;
            }
            any = 1;
            waited = !nohang && pid > 0;
            long r = reap(i, status, ru, jobs | (nohang || pid <= 0 ? KS_WAIT_NOHANG : 0));
            if (r != 0)
                return r;
        }
        if (!any)
            return -ECHILD;
        if (nohang)
            return 0;
        if (waited)
            continue;           /* reap waited (interrupted or not): look again */
        long r = wait_for_an_end(pid, KS_WATCH_HANGUP | (jobs & ~KS_WAIT_PEEK ? KS_WATCH_READABLE : 0));
        if (r < 0)
            return r;
    }
}

long sys_wait4(long pid, int *status, long options, struct rusage *ru)
{
    if (options & ~(long)(WNOHANG | WUNTRACED | WCONTINUED))
        return -EINVAL;
    return wait_kids(pid, status, options, ru);
}

/* si_code and si_status of a SIGCHLD or waitid for wait status st. */
static void child_code(siginfo_t *info, int st)
{
    info->si_code = WIFEXITED(st) ? CLD_EXITED : WIFSTOPPED(st) ? CLD_STOPPED :
                    WIFCONTINUED(st) ? CLD_CONTINUED : WCOREDUMP(st) ? CLD_DUMPED : CLD_KILLED;
    info->si_status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSTOPPED(st) ? WSTOPSIG(st) :
                      WIFCONTINUED(st) ? SIGCONT : WTERMSIG(st);
}

/*
 * waitid, on wait4: P_ALL, P_PID, P_PGID; WEXITED is required (waiting for
 * stops and continues alone is not done); WSTOPPED and WCONTINUED also report
 * those; WNOWAIT leaves what it reports to be waited for again.
 */
long sys_waitid(long idtype, long id, siginfo_t *info, long options, struct rusage *ru)
{
    int st = 0;
    long pid;
    if (!(options & WEXITED) || (options & ~(long)(WEXITED | WNOHANG | WSTOPPED | WCONTINUED | WNOWAIT)))
        return -EINVAL;
    switch (idtype) {
    case P_ALL: pid = -1; break;
    case P_PID: pid = id > 0 ? id : -ECHILD; break;
    case P_PGID: pid = id > 0 ? -id : 0; break;
    default: return -EINVAL;
    }
    if (pid == -ECHILD)
        return -ECHILD;
    long r = wait_kids(pid, &st, options & (WNOHANG | WSTOPPED | WCONTINUED | WNOWAIT), ru);
    if (r < 0)
        return r;
    if (info) {
        memset(info, 0, sizeof *info);
        if (r > 0) {
            info->si_signo = SIGCHLD;
            info->si_pid = (pid_t)r;
            child_code(info, st);
        }
    }
    return 0;
}

void emu_child_info(siginfo_t *si)
{
    int i = si->si_pid > 0 ? kid_slot(si->si_pid) : -1;
    uint64_t s = 0;
    if (i < 0 || ks_process_wait_flags(emu.kids[i].h, &s, KS_WAIT_NOHANG | KS_WAIT_STOPPED |
                                                           KS_WAIT_CONTINUED | KS_WAIT_PEEK) != 0)
        return;                 /* not ours, or its report already taken by a wait */
    child_code(si, wait_status(s));
}

/* ---- limits and the CPU set ---- */

/* The limit the system has for `resource` now (soft and hard are the same here). */
static rlim_t limit_now(long resource, const struct ks_limits *lim, int have)
{
    switch (resource) {
    case RLIMIT_NOFILE: return emu.nofile ? emu.nofile : MAX_FDS;
    case RLIMIT_NPROC: return have && lim->processes != KS_UNLIMITED ? lim->processes : RLIM_INFINITY;
    case RLIMIT_AS: return have && lim->memory != KS_UNLIMITED ? lim->memory : RLIM_INFINITY;
    case RLIMIT_STACK: return emu.stack_limit ? emu.stack_limit - 1 : KS_STACK_SIZE;
    default: return RLIM_INFINITY;
    }
}

/*
 * prlimit64 for this process (pid 0 or ours), soft and hard limit alike.
 * RLIMIT_NOFILE is the descriptor table's size, enforced here; RLIMIT_NPROC
 * and RLIMIT_AS are the kernel account's process and memory limits
 * (KS_SYS_PROCESS_LIMIT, set by init; the memory one counts kernel objects
 * and page tables too), enforced by the kernel; RLIMIT_STACK is the size of
 * the stack exec gives a program (KS_STACK_SIZE, the size every stack has,
 * until lowered; the running program's stack stays as it was mapped). A limit can be
 * lowered, never raised (EPERM), as for a process without privileges;
 * children inherit it (the kernel's through the account tree).
 */
long sys_prlimit64(long pid, long resource, const struct rlimit *new, struct rlimit *old)
{
    if (pid != 0 && pid != (long)emu.pid)
        return -ESRCH;
    if (resource < 0 || resource >= RLIM_NLIMITS)
        return -EINVAL;
    struct ks_limits lim;
    int have = ks_process_limit(KS_PROCESS_SELF, NULL, NULL, &lim) == 0;
    rlim_t now = limit_now(resource, &lim, have);
    if (new) {
        rlim_t want = new->rlim_cur < new->rlim_max ? new->rlim_cur : new->rlim_max;
        if (new->rlim_cur > new->rlim_max)
            return -EINVAL;
        if (new->rlim_max > now)
            return -EPERM;              /* raising a limit needs privileges nobody has here */
        if (resource == RLIMIT_NOFILE) {
            emu.nofile = (uint32_t)(want ? want : 1);
        } else if (resource == RLIMIT_STACK) {
            emu.stack_limit = want + 1;         /* (want <= now: no overflow) */
        } else if ((resource == RLIMIT_NPROC || resource == RLIMIT_AS) && have) {
            struct ks_limits set = lim;
            if (resource == RLIMIT_NPROC)
                set.processes = want;
            else
                set.memory = want;
            long r = ks_process_limit(KS_PROCESS_SELF, &set, NULL, NULL);
            if (r < 0)
                return r == KS_ERR_ACCESS ? -EPERM : linux_err(r);
        }
    }
    if (old)
        old->rlim_cur = old->rlim_max = now;
    return 0;
}

/* One hart: CPU 0 alone. The bytes of mask written, as Linux's system call returns. */
long sys_sched_getaffinity(long pid, size_t size, void *mask)
{
    if (pid != 0 && pid != (long)emu.pid)
        return -ESRCH;
    if (size < sizeof(unsigned long))
        return -EINVAL;
    memset(mask, 0, size);
    *(unsigned long *)mask = 1;
    return sizeof(unsigned long);
}
