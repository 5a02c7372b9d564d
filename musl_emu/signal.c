/*
 * musl_emu/signal.c - POSIX signals on the kernel's upcalls
 * (include/kestrel/upcall.h): signal n is upcall bit n - 1.
 *
 * The kernel keeps what must be exact across threads and processes: the
 * pending bits (per process and per thread), each thread's mask, and the
 * diversion itself, with the interrupted registers saved on the thread's
 * stack. Everything else is here: the actions (sigaction), the default
 * actions, calling the handler with the mask sigaction asked for, and how a
 * kill reaches its processes and threads:
 *   - this process and its threads (KS_PROCESS_SELF, the threads' handles);
 *   - its children (the handles fork keeps, process.c);
 *   - its parent (a handle with KS_RIGHT_SIGNAL only, inherited over fork);
 *   - any other pid, a process group, and -1, by number (KS_SYS_PROCESS_SIGNAL),
 *     where the kernel's rule decides: the processes below this one (its
 *     children's children, orphans it made) are in reach, the rest is EPERM.
 *
 * SIGKILL to a child is a kernel kill; everything else, SIGKILL to the
 * parent included, is raised and acted on by the receiver's own musl_emu.
 * A blocked call the signal interrupts returns KS_ERR_INTERRUPTED; after the
 * handler (or an ignored signal) the call starts again if the action had
 * SA_RESTART (emu_restart), else it fails with EINTR.
 */
#include <pthread.h>
#include "musl_emu/internal.h"

#define SIG_BIT(s)  (1ull << ((s) - 1))
#define SIGCANCEL_MUSL 33               /* musl's internal SIGCANCEL (src/internal/pthread_impl.h) */
#define UNBLOCKABLE (SIG_BIT(SIGKILL) | SIG_BIT(SIGSTOP))
/*
 * Default action "ignore": SIGCHLD, SIGURG, SIGWINCH, which the kernel drops;
 * and SIGCONT, which comes to the entry (a stopped thread waits for it) and
 * is dropped there. The stop signals' default stops the process (stop_here).
 */
#define DEFAULT_IGNORED (SIG_BIT(SIGCHLD) | SIG_BIT(SIGURG) | SIG_BIT(SIGWINCH))
#define STOP_SIGNALS    (SIG_BIT(SIGSTOP) | SIG_BIT(SIGTSTP) | SIG_BIT(SIGTTIN) | SIG_BIT(SIGTTOU))

__thread int emu_restart_ok;        /* the last upcall on this thread allows a restart */
__thread unsigned long emu_handlers_run;
__thread unsigned emu_crit;
__thread uint64_t emu_deferred;

/*
 * Signals this thread raised again on itself or its process (see
 * raise_again), with the pids of the raises that brought them first: the
 * upcall that then delivers one, or sigtimedwait taking it, shows that pid
 * instead of our own. (The pids are the process's, one per signal: in the
 * thread's own storage they would outgrow the static TLS musl sets up
 * before there is memory to map.)
 */
static __thread uint64_t resent;
static uint32_t resent_from[65];

/* Raise sig again on target (ourselves), for later, keeping `sender` as who sent it. */
static void raise_again(ks_handle_t target, int sig, uint64_t sender)
{
    if (!(resent & SIG_BIT(sig))) {
        resent_from[sig] = (uint32_t)sender;
        resent |= SIG_BIT(sig);
    }
    ks_upcall_raise(target, SIG_BIT(sig));
}

/* The pid that sent sig, taken now as `got` says: the first sender if we raised it again. */
static uint32_t sender_of(int sig, uint64_t got)
{
    if (!(resent & SIG_BIT(sig)))
        return (uint32_t)got;
    resent &= ~SIG_BIT(sig);
    return resent_from[sig];
}

/* The bits the kernel may drop when raised: ignored, explicitly or by default. */
static uint64_t ignored_bits(void)
{
    uint64_t bits = 0;
    for (int s = 1; s <= 64; s++) {
        void (*h)(int) = emu.sigact[s].handler;
        if (h == SIG_IGN || (h == SIG_DFL && (DEFAULT_IGNORED & SIG_BIT(s))))
            bits |= SIG_BIT(s);
    }
    return bits & ~UNBLOCKABLE;
}

/* Tell the kernel where upcalls go and what to drop. */
static void upcall_register(void)
{
    ks_upcall_set((uintptr_t)emu_upcall, ignored_bits());
}

/* The kernel's kill cause for the faults signal sig stands for, or 0. */
static uint32_t fault_cause(int sig)
{
    switch (sig) {
    case SIGSEGV: return KS_KILL_PAGE_FAULT;
    case SIGILL: return KS_KILL_ILLEGAL;
    case SIGBUS: return KS_KILL_MISALIGNED;
    case SIGTRAP: return KS_KILL_ACCESS;
    default: return 0;
    }
}

/* sig's action changed: if it stands for faults, they become it (a handler) or kill (else). */
static void fault_sync(int sig)
{
    uint32_t cause = fault_cause(sig);
    void (*h)(int) = emu.sigact[sig].handler;
    if (cause)
        ks_upcall_fault(cause, h != SIG_DFL && h != SIG_IGN ? (uint32_t)sig : 0);
}

void signal_init(uint64_t ignored)
{
    for (int s = 1; s <= 64; s++)
        if (ignored & SIG_BIT(s))
            emu.sigact[s].handler = SIG_IGN;
    upcall_register();
}

uint64_t signal_ignored(void)
{
    uint64_t bits = 0;
    for (int s = 1; s <= 64; s++)
        if (emu.sigact[s].handler == SIG_IGN)
            bits |= SIG_BIT(s);
    return bits;
}

/* This process ends as killed by signal sig (what wait reports as WTERMSIG). */
static __attribute__((noreturn)) void die_of(int sig)
{
    ks_process_kill_cause(KS_PROCESS_SELF, KS_KILL_SIGNAL(sig));
    ks_thread_exit_clear(0, NULL);      /* not reached: the kill ends this thread on its way out */
}

/* ---- sigaltstack: each thread's alternate stack for SA_ONSTACK handlers ---- */

static __thread stack_t altstack = { .ss_flags = SS_DISABLE };
static __thread int on_altstack;

/* Call fn(a, b, c) with sp at top (16-byte aligned), back on this stack after. */
void emu_call_on_stack(void *fn, long a, long b, long c, uintptr_t top);
__asm__(".text\n.align 2\n.type emu_call_on_stack, %function\nemu_call_on_stack:\n"
        "\taddi sp, sp, -16\n\tsd ra, 8(sp)\n\tsd s0, 0(sp)\n"
        "\tmv s0, sp\n"                    /* our stack, kept in s0 across the call */
        "\tandi a4, a4, -16\n\tmv sp, a4\n"
        "\tmv t0, a0\n\tmv a0, a1\n\tmv a1, a2\n\tmv a2, a3\n"
        "\tjalr t0\n"
        "\tmv sp, s0\n\tld s0, 0(sp)\n\tld ra, 8(sp)\n\taddi sp, sp, 16\n\tret\n"
        ".size emu_call_on_stack, . - emu_call_on_stack\n");

long sys_sigaltstack(const stack_t *ss, stack_t *old)
{
    if (old) {
        *old = altstack;
        old->ss_flags = on_altstack ? SS_ONSTACK : altstack.ss_flags & SS_DISABLE;
    }
    if (ss) {
        if (on_altstack)
            return -EPERM;              /* not while running on it */
        if (ss->ss_flags & ~SS_DISABLE)
            return -EINVAL;
        if (!(ss->ss_flags & SS_DISABLE) && ss->ss_size < MINSIGSTKSZ)
            return -ENOMEM;
        altstack = *ss;
    }
    return 0;
}

/* Call the handler h(sig, b, c) on the alternate stack if the action asks and there is one. */
static void run_handler(const struct kact *a, void *h, int sig, long b, long c)
{
    if ((a->flags & SA_ONSTACK) && !(altstack.ss_flags & SS_DISABLE) && !on_altstack) {
        on_altstack = 1;
        emu_call_on_stack(h, sig, b, c, (uintptr_t)altstack.ss_sp + altstack.ss_size);
        on_altstack = 0;
        return;
    }
    ((void (*)(int, long, long))h)(sig, b, c);
}

/* Call the handler of action a for sig, the interrupted state being f. */
static void call_handler(const struct kact *a, int sig, struct ks_upcall_frame *f)
{
    if (!(a->flags & SA_SIGINFO)) {
        run_handler(a, (void *)a->handler, sig, 0, 0);
        return;
    }
    siginfo_t si;
    ucontext_t uc;
    memset(&si, 0, sizeof si);
    memset(&uc, 0, sizeof uc);
    si.si_signo = sig;
    si.si_code = SI_USER;
    si.si_pid = (pid_t)f->sender;               /* who raised it (a fault: si_addr instead) */
    if (f->flags & KS_UPCALL_FAULT) {           /* a fault: where, and what kind */
        si.si_addr = (void *)(uintptr_t)f->fault_addr;
        si.si_code = sig == SIGSEGV ? SEGV_MAPERR : sig == SIGBUS ? BUS_ADRALN : sig == SIGILL ? ILL_ILLOPC : TRAP_BRKPT;
    } else if (sig == SIGCHLD) {
        emu_child_info(&si);                    /* a child's end, stop or continue */
    }
    _Static_assert(sizeof uc.uc_mcontext >= sizeof f->x + sizeof f->f + sizeof f->fcsr, "mcontext");
    memcpy(&uc.uc_mcontext, f, sizeof f->x + sizeof f->f + sizeof f->fcsr);
    memcpy(&uc.uc_sigmask, &f->mask, sizeof f->mask);
    run_handler(a, (void *)a->handler, sig, (long)&si, (long)&uc);
    /* What the handler changed in the context is what the thread returns to (as on Linux). */
    memcpy(f, &uc.uc_mcontext, sizeof f->x + sizeof f->f + sizeof f->fcsr);
    memcpy(&f->mask, &uc.uc_sigmask, sizeof f->mask);
}

/*
 * A stop signal's default action: report the stop (the parent's wait with
 * WUNTRACED sees it, and SIGCHLD comes), then wait, every signal masked, for
 * SIGCONT; report the continue. The kernel halts nothing: this thread waits,
 * and a process's other threads run on (a single-threaded program, which is
 * what job control stops in practice, is stopped whole). SIGKILL still kills.
 */
static void stop_here(int sig)
{
    ks_upcall_mask(KS_MASK_SET, ~UNBLOCKABLE, NULL);
    ks_process_stopped((uint32_t)sig);
    long r;
    while ((r = ks_upcall_take(SIG_BIT(SIGCONT), KS_FOREVER)) < 0)
        ;
    ks_process_stopped(0);
    void (*h)(int) = emu.sigact[SIGCONT].handler;
    if (h != SIG_DFL && h != SIG_IGN)
        raise_again(KS_PROCESS_SELF, SIGCONT, (uint64_t)r >> 8);  /* its handler runs after all */
}

/*
 * SIGCANCEL on a thread whose cancel type is asynchronous: it is cancelled
 * here and now, wherever it was (musl's own handler does the same), with the
 * interrupted mask and SIGCANCEL blocked while its cleanup handlers run.
 * musl keeps the type in its thread structure; pthread_setcanceltype tells
 * it (and setting ASYNCHRONOUS again is itself a cancellation point, which
 * acts if the cancel is pending and not disabled). Returns if not cancelled.
 * (musl's own handler also ends a thread whose cancellation is "masked", the
 * state musl's condition variable waits use; here such a thread runs on: an
 * asynchronous cancel during a condition wait is undefined in POSIX.)
 */
static void cancel_if_async(const struct ks_upcall_frame *f)
{
    int type;
    pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, &type);
    if (type != PTHREAD_CANCEL_ASYNCHRONOUS)
        return;
    ks_upcall_mask(KS_MASK_SET, (f->mask | SIG_BIT(SIGCANCEL_MUSL)) & ~UNBLOCKABLE, NULL);
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);     /* (disabled: back here, still async) */
}

void emu_upcall(long bit, struct ks_upcall_frame *f)
{
    int sig = (int)bit + 1;
    if (emu_crit) {                             /* inside musl_emu's own lock: later (see lock()) */
        emu_deferred |= SIG_BIT(sig);
        f->mask |= SIG_BIT(sig);
        raise_again(KS_THREAD_SELF, sig, f->sender);
        emu_restart_ok = 1;
        ks_upcall_return(f);
    }
    f->sender = sender_of(sig, f->sender);
    if (sig == SIGCANCEL_MUSL) {                /* pthread_cancel's: end the wait (see syscall_cp.s) */
        cancel_if_async(f);
        emu_restart_ok = 0;
        ks_upcall_return(f);
    }
    struct kact a = emu.sigact[sig];
    emu_restart_ok = 1;                         /* an ignored signal restarts what it interrupted */
    if (emu.pid == 1 && a.handler == SIG_DFL)  /* init takes only what it handles, as on Linux */
        ks_upcall_return(f);
    if (a.handler == SIG_DFL && (STOP_SIGNALS & SIG_BIT(sig))) {
        stop_here(sig);
        ks_upcall_return(f);                    /* its mask back; what it interrupted restarts */
    }
    if (a.handler == SIG_DFL && sig == SIGCONT)
        ks_upcall_return(f);
    if (a.handler == SIG_DFL && !(DEFAULT_IGNORED & SIG_BIT(sig)))
        die_of(sig);
    if (a.handler != SIG_DFL && a.handler != SIG_IGN) {
        uint64_t mask = f->mask | a.mask | (a.flags & SA_NODEFER ? 0 : SIG_BIT(sig));
        ks_upcall_mask(KS_MASK_SET, mask & ~UNBLOCKABLE, NULL);
        if (a.flags & SA_RESETHAND) {
            emu.sigact[sig].handler = SIG_DFL;
            emu.sigact[sig].flags &= ~(unsigned long)SA_SIGINFO;
            upcall_register();
            fault_sync(sig);
        }
        emu_handlers_run++;
        call_handler(&a, sig, f);
        emu_restart_ok = !!(a.flags & SA_RESTART);
    }
    ks_upcall_return(f);
    die_of(SIGSEGV);                            /* the frame was damaged: nowhere to go back to */
}

/* ---- the calls ---- */

long sys_rt_sigaction(long sig, const void *act, void *old, size_t size)
{
    if (sig < 1 || sig > 64 || size != 8)
        return -EINVAL;
    if (act && (sig == SIGKILL || sig == SIGSTOP))
        return -EINVAL;
    struct kact *cur = &emu.sigact[sig];
    if (old)
        memcpy(old, cur, sizeof *cur);
    if (act) {
        memcpy(cur, act, sizeof *cur);
        cur->mask &= ~UNBLOCKABLE;
        upcall_register();
        fault_sync((int)sig);
    }
    return 0;
}

long sys_rt_sigprocmask(long how, const uint64_t *set, uint64_t *old, size_t size)
{
    static const int hows[] = { [SIG_BLOCK] = KS_MASK_BLOCK, [SIG_UNBLOCK] = KS_MASK_UNBLOCK,
                                [SIG_SETMASK] = KS_MASK_SET };
    uint64_t out[2];
    if (size != 8)
        return -EINVAL;
    if (set && (how < 0 || how > SIG_SETMASK))
        return -EINVAL;
    long r = set ? ks_upcall_mask(hows[how], how == SIG_UNBLOCK ? *set : *set & ~UNBLOCKABLE, out)
                 : ks_upcall_mask(KS_MASK_BLOCK, 0, out);
    if (r < 0)
        return linux_err(r);
    if (old)
        *old = out[0];
    return 0;
}

long sys_rt_sigpending(uint64_t *set, size_t size)
{
    uint64_t out[2];
    if (size != 8)
        return -EINVAL;
    long r = ks_upcall_mask(KS_MASK_BLOCK, 0, out);
    if (r < 0)
        return linux_err(r);
    *set = out[1] & out[0];             /* pending and blocked: what is waiting */
    return 0;
}

long sys_rt_sigsuspend(const uint64_t *mask, size_t size)
{
    if (size != 8)
        return -EINVAL;
    long r = ks_upcall_suspend(*mask & ~UNBLOCKABLE);
    return r == KS_ERR_INTERRUPTED ? -EINTR : linux_err(r);
}

long sys_rt_sigtimedwait(const uint64_t *set, siginfo_t *info, const struct timespec *ts, size_t size)
{
    uint64_t ns = KS_FOREVER;
    if (size != 8)
        return -EINVAL;
    if (ts && ts_to_ns(ts, &ns))
        return -EINVAL;
    long r = ks_upcall_take(*set & ~UNBLOCKABLE, ns);
    if (r == KS_ERR_TIMED_OUT)
        return -EAGAIN;
    if (r < 0)
        return r == KS_ERR_INTERRUPTED ? -EINTR : linux_err(r);
    long sig = (r & 0xff) + 1;                  /* the bit, and above it who raised it */
    uint32_t from = sender_of((int)sig, (uint64_t)r >> 8);
    if (info) {
        memset(info, 0, sizeof *info);
        info->si_signo = (int)sig;
        info->si_code = SI_USER;
        info->si_pid = (pid_t)from;
        if (sig == SIGCHLD)
            emu_child_info(info);
    }
    return sig;
}

/* Raise sig on the process or thread handle h: 0 or -errno (0 for sig 0: it exists). */
static long raise_on(ks_handle_t h, long sig)
{
    if (sig == 0)
        return 0;
    long r = ks_upcall_raise(h, SIG_BIT(sig));
    return r < 0 ? (r == KS_ERR_ACCESS ? -EPERM : -ESRCH) : 0;
}

/*
 * sig on what the kernel finds by number (KS_SIGNAL_PID, _GROUP, _BELOW):
 * 0, -EPERM if all of it is out of this process's reach, -ESRCH if nothing
 * matches. SIGKILL ends them in the kernel, as for a child.
 */
static long signal_by_number(uint32_t kind, uint32_t who, long sig)
{
    long r = sig == SIGKILL ? ks_process_signal(kind, who, KS_KILL_SIGNAL(SIGKILL), KS_SIGNAL_KILL)
                            : ks_process_signal(kind, who, sig ? SIG_BIT(sig) : 0, 0);
    return r > 0 ? 0 : r == KS_ERR_ACCESS ? -EPERM : -ESRCH;
}

/* kill for one pid: by the handles this process keeps where it has one, else by number. */
static long kill_one(long pid, long sig)
{
    if (pid == (long)emu.pid)
        return raise_on(KS_PROCESS_SELF, sig);
    ks_handle_t kid = emu_kid_handle((uint32_t)pid);
    if (kid) {
        if (sig == SIGKILL)         /* even a child that masks everything, or never set an entry */
            return ks_process_kill_cause(kid, KS_KILL_SIGNAL(SIGKILL)) < 0 ? -ESRCH : 0;
        return raise_on(kid, sig);
    }
    if (pid == (long)emu.ppid && emu.parent)
        return raise_on(emu.parent, sig);
    if (pid == 1 && emu.init_h)
        return raise_on(emu.init_h, sig);
    return pid > UINT32_MAX ? -ESRCH : signal_by_number(KS_SIGNAL_PID, (uint32_t)pid, sig);
}

long sys_kill(long pid, long sig)
{
    if (sig < 0 || sig > 64)
        return -EINVAL;
    if (pid > 0)
        return kill_one(pid, sig);
    if (pid == -1)                      /* every process below us */
        return signal_by_number(KS_SIGNAL_BELOW, 0, sig);
    if (pid < -(long)UINT32_MAX)
        return -ESRCH;
    return signal_by_number(KS_SIGNAL_GROUP, pid == 0 ? 0 : (uint32_t)-pid, sig);   /* 0: the kernel's ours */
}

long sys_tgkill(long tgid, long tid, long sig)
{
    if (sig < 0 || sig > 64)
        return -EINVAL;
    if (tgid != -1 && tgid != (long)emu.pid)
        return -ESRCH;
    ks_handle_t h = emu_thread_handle((uint32_t)tid);
    return h ? raise_on(h, sig) : -ESRCH;
}

/* ---- setitimer(ITIMER_REAL) and alarm: a helper thread raises SIGALRM ---- */

static struct {
    struct emu_lock lock;
    uint64_t deadline;          /* KS_SYS_CLOCK_NS time it fires at; 0: off */
    uint64_t interval;          /* then every interval ns (0: once) */
    volatile uint32_t change;   /* bumped at every change: the helper's futex */
    int started;
} itimer;

/* The helper thread: sleeps until the deadline (or a change), raises SIGALRM on the process. */
static __attribute__((noreturn, used)) void itimer_main(void)
{
    for (;;) {                                  /* masking everything since it was made */
        uint32_t seen = itimer.change;
        SEQ_BARRIER();
        uint64_t dl = itimer.deadline, now = (uint64_t)ks_clock_ns();
        if (!dl || now < dl) {
            ks_futex_wait(&itimer.change, seen, dl ? dl - now : KS_FOREVER);
            continue;
        }
        /* no lock() here: this thread has no thread pointer (lock counts in thread-local storage) */
        uint64_t next = itimer.interval ? dl + itimer.interval : 0;
        if (__atomic_compare_exchange_n(&itimer.deadline, &dl, next, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            ks_upcall_raise(KS_PROCESS_SELF, SIG_BIT(SIGALRM));
    }
}

/* Its first instruction: gp for the globals (threads start with gp 0), then C. */
void emu_itimer_start(void);
__asm__(".text\n.align 2\n.type emu_itimer_start, %function\nemu_itimer_start:\n"
        ".option push\n.option norelax\n\tlla gp, __global_pointer$\n.option pop\n"
        "\ttail itimer_main\n.size emu_itimer_start, . - emu_itimer_start\n");

/* Start the helper (itimer.lock held): 0 or -errno. */
static long itimer_start_locked(void)
{
    enum { STACK = 16384 };
    if (itimer.started)
        return 0;
    long stack = sys_mmap(0, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack < 0)
        return stack;
    uint64_t old[2];
    ks_upcall_mask(KS_MASK_SET, ~0ull, old);   /* it is born masking everything (it has no TLS) */
    long t = ks_thread_create(KS_PROCESS_SELF, (void *)emu_itimer_start, (void *)(stack + STACK), 0);
    ks_upcall_mask(KS_MASK_SET, old[0], NULL);
    if (t < 0) {
        sys_munmap((uintptr_t)stack, STACK);
        return -EAGAIN;
    }
    ks_handle_close((ks_handle_t)t);
    itimer.started = 1;
    return 0;
}

static uint64_t tv_ns(const struct timeval *tv)
{
    return (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u;
}

static void ns_tv(uint64_t ns, struct timeval *tv)
{
    tv->tv_sec = (time_t)(ns / 1000000000u);
    tv->tv_usec = (suseconds_t)(ns % 1000000000u / 1000u);
}

/* What is left of the timer, and its interval, into *v (itimer.lock held). */
static void itimer_get_locked(struct itimerval *v)
{
    uint64_t now = (uint64_t)ks_clock_ns(), left = 0;
    if (itimer.deadline)
        left = itimer.deadline > now ? itimer.deadline - now : 1000;
    ns_tv(left, &v->it_value);
    ns_tv(itimer.interval, &v->it_interval);
}

long sys_getitimer(long which, struct itimerval *val)
{
    if (which != ITIMER_REAL)
        return -EINVAL;             /* the CPU-time timers are not kept */
    lock(&itimer.lock);
    itimer_get_locked(val);
    unlock(&itimer.lock);
    return 0;
}

long sys_setitimer(long which, const struct itimerval *val, struct itimerval *old)
{
    if (which != ITIMER_REAL)
        return -EINVAL;
    if (val->it_value.tv_usec < 0 || val->it_value.tv_usec >= 1000000 || val->it_value.tv_sec < 0 ||
        val->it_interval.tv_usec < 0 || val->it_interval.tv_usec >= 1000000 || val->it_interval.tv_sec < 0)
        return -EINVAL;
    long r = 0;
    lock(&itimer.lock);
    if (old)
        itimer_get_locked(old);
    uint64_t v = tv_ns(&val->it_value);
    if (v && (r = itimer_start_locked()) == 0) {
        itimer.deadline = (uint64_t)ks_clock_ns() + v;
        itimer.interval = tv_ns(&val->it_interval);
    } else if (!v) {
        itimer.deadline = 0;
    }
    itimer.change++;
    unlock(&itimer.lock);
    ks_futex_wake(&itimer.change, 1);
    return r;
}

void itimer_for_exec(uint64_t *deadline, uint64_t *interval)
{
    *deadline = *interval = 0;
    if (!itimer.started)                /* never set: nothing to take (and no store: a fork child's
                                           page of this state stays shared) */
        return;
    lock(&itimer.lock);
    /* Taken in one step: the helper moves the deadline on with a compare-and-swap, unlocked. */
    *deadline = __atomic_exchange_n(&itimer.deadline, 0, __ATOMIC_SEQ_CST);
    *interval = itimer.interval;        /* the new program fires it (or this one again, if exec fails) */
    itimer.change++;
    unlock(&itimer.lock);
    ks_futex_wake(&itimer.change, 1);
}

void itimer_after_exec(uint64_t deadline, uint64_t interval)
{
    if (!deadline)
        return;
    lock(&itimer.lock);
    if (itimer_start_locked() == 0) {   /* (no memory for its thread: the timer is lost, as it would be) */
        itimer.deadline = deadline;     /* (the clock is the system's: a deadline means the same here) */
        itimer.interval = interval;
        itimer.change++;
    }
    unlock(&itimer.lock);
    ks_futex_wake(&itimer.change, 1);
}

void signal_fork_child(void)
{
    if (itimer.started)                 /* (written only if used: the page is copied on write) */
        memset(&itimer, 0, sizeof itimer);  /* timers are not inherited; the helper was the parent's */
}
