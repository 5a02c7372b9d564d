/*
 * musl_emu/thread.c - threads: clone for pthread_create, futexes on the kernel's,
 * set_tid_address, gettid, and the clear-tid wake at thread exit. See
 * internal.h.
 */
#include "musl_emu/internal.h"

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

long sys_futex(volatile uint32_t *addr, long op, uint32_t val, const struct timespec *timeout,
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

long sys_set_tid_address(volatile uint32_t *clear)
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
        long h = ks_handle_duplicate(KS_THREAD_SELF, KS_RIGHT_SIGNAL);    /* for tkill from others */
        t->h = h > 0 ? (ks_handle_t)h : 0;
    }
    t->clear_tid = clear;
    long tid = t->tid;
    unlock(&emu.thread_lock);
    return tid;
}

ks_handle_t emu_thread_handle(uint32_t tid)
{
    ks_handle_t h = 0;
    lock(&emu.thread_lock);
    struct emu_thread *self = self_locked();
    if (self && self->tid == tid)
        h = KS_THREAD_SELF;
    for (int i = 0; i < MAX_THREADS && !h; i++)
        if (emu.threads[i].tid == tid)
            h = emu.threads[i].h;
    unlock(&emu.thread_lock);
    if (!h && !self && tid == emu.pid)
        h = KS_THREAD_SELF;     /* the main thread before set_tid_address */
    return h;
}

long sys_gettid(void)
{
    lock(&emu.thread_lock);
    struct emu_thread *t = self_locked();
    long tid = t ? t->tid : emu.pid;
    unlock(&emu.thread_lock);
    return tid;
}

/* Forget the calling thread; returns its clear-tid address. */
volatile uint32_t *thread_leaving(void)
{
    poll_thread_exit();
    lock(&emu.thread_lock);
    struct emu_thread *t = self_locked();
    volatile uint32_t *clear = NULL;
    if (t) {
        clear = t->clear_tid;
        t->tid = 0;
        if (t->h)
            ks_handle_close(t->h);
        t->h = 0;
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
 * __clone (musl/src/thread/riscv64/clone.s): threads, and posix_spawn's
 * vfork (emu_vfork_call). For a thread it leaves the child's
 * start record (func, arg, tp; clone.s reads it) just below `stack` and starts
 * a native thread there at musl_emu_thread_start. The child's tid, or -errno.
 */
int musl_emu_clone(int (*func)(void *), void *stack, int flags, void *arg, int *ptid, void *tls,
                   int *ctid)
{
    const int need = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
    if ((flags & (CLONE_VM | CLONE_VFORK | CLONE_THREAD)) == (CLONE_VM | CLONE_VFORK))
        return emu_vfork_call(func, arg);       /* posix_spawn's */
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
    t->h = 0;
    t->clear_tid = flags & CLONE_CHILD_CLEARTID ? (volatile uint32_t *)ctid : NULL;
    int tid = (int)t->tid;
    if (flags & CLONE_PARENT_SETTID)
        *ptid = tid;
    if (flags & CLONE_CHILD_SETTID)
        *ctid = tid;
    /* tp from the start: a signal may be delivered before its first instruction */
    long h = ks_thread_create_tls(KS_PROCESS_SELF, (void *)musl_emu_thread_start, rec, 0, rec[2]);
    if (h < 0)
        t->tid = 0;
    else
        t->h = (ks_handle_t)h;      /* kept for tkill; closed when the thread leaves */
    unlock(&emu.thread_lock);
    return h < 0 ? -EAGAIN : tid;
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

