/*
 * kernel/upcall.c - upcalls (see upcall.h): raising, masking, taking and
 * delivering bits, and their system calls.
 */
#include <arch/arch.h>
#include <arch/memlayout.h>
#include <kestrel/errors.h>
#include <kestrel/upcall.h>
#include "clock.h"
#include "kprintf.h"
#include "process.h"
#include "sched.h"
#include "syscall.h"
#include "thread.h"
#include "trace.h"
#include "uaccess.h"
#include "upcall.h"

#define TAKE_WOKEN 1            /* a raise's wake of a taker (a deadline's wake gives 0) */

/*
 * The number of the lowest set bit of v (not 0); no libgcc, no Zbb. v & -v
 * is that bit alone; times a de Bruijn sequence (every 6-bit window of it
 * differs), its top 6 bits name the bit: a multiply and a table read.
 */
static int lowest_bit(uint64_t v)
{
    static const uint8_t at[64] = {
        0, 1, 2, 53, 3, 7, 54, 27, 4, 38, 41, 8, 34, 55, 48, 28, 62, 5, 39, 46, 44, 42,
        22, 9, 24, 35, 59, 56, 49, 18, 29, 11, 63, 52, 6, 26, 37, 40, 33, 47, 61, 45, 43,
        21, 23, 58, 17, 10, 51, 25, 36, 32, 60, 20, 57, 16, 50, 31, 19, 15, 30, 14, 13, 12,
    };
    return at[((v & -v) * 0x022fdd63cc95386dull) >> 58];
}

static inline uint64_t pending_of(const struct thread *t)
{
    return t->up_raised | t->proc->up_raised;
}

/* What t would be diverted for now: raised on it or its process, not masked (none without an entry). */
static inline uint64_t due_of(const struct thread *t)
{
    return t->proc->upcall_pc ? pending_of(t) & ~t->up_mask : 0;
}

/*
 * May an upcall end t's wait? Any interruptible wait, except a call whose
 * request the server already holds, unless the call asked for it
 * (KS_IPC_CALL_INTERRUPTIBLE): the upcall then waits for the reply.
 */
static int wait_ends_for_upcall(const struct thread *t)
{
    if (t->state != THREAD_BLOCKED || t->uninterruptible)
        return 0;
    return t->ipc_state != IPC_WAIT_REPLY ||
           (t->ipc.desc_user && (t->ipc.desc.call_flags & KS_IPC_CALL_INTERRUPTIBLE));
}

/* t has something due: flag it, and end its wait if an upcall may. */
static void flag_due(struct thread *t)
{
    t->flags |= THREAD_UPCALL;
    if (wait_ends_for_upcall(t))
        sched_wake(t, KS_ERR_INTERRUPTED);
}

void upcall_update(struct thread *t)
{
    if (due_of(t))
        flag_due(t);
    else
        t->flags &= ~THREAD_UPCALL;
    if (t->up_take && (pending_of(t) & t->up_take) && t->state == THREAD_BLOCKED)
        sched_wake(t, TAKE_WOKEN);
}

/* A process bit was taken: threads flagged for it alone have nothing due any more. */
static void settle_flags(struct process *p)
{
    LIST_FOR_EACH(n, tmp, &p->threads) {
        struct thread *t = LIST_ENTRY(n, struct thread, proc_link);
        if ((t->flags & THREAD_UPCALL) && !due_of(t))
            t->flags &= ~THREAD_UPCALL;
    }
}

/*
 * Process bits `bits` (pending on p) need a taker: the current thread if it
 * is p's and takes one, else the first thread that does; threads waiting in
 * KS_SYS_UPCALL_TAKE for one of them are woken.
 */
static void process_pick(struct process *p, uint64_t bits)
{
    struct thread *self = current_thread(), *pick = NULL;
    if (self->proc == p && (bits & ~self->up_mask))
        pick = self;
    LIST_FOR_EACH(n, tmp, &p->threads) {
        struct thread *t = LIST_ENTRY(n, struct thread, proc_link);
        if (!pick && (bits & ~t->up_mask))
            pick = t;
        else if (t != pick && (t->up_take & bits) && t->state == THREAD_BLOCKED)
            sched_wake(t, TAKE_WOKEN);
    }
    if (pick)
        upcall_update(pick);
}

/* Bits `fresh` became pending on p or one of its threads: sender made them so. */
static void note_sender(struct process *p, uint64_t fresh, uint32_t sender)
{
    for (; fresh; fresh &= fresh - 1)
        p->up_sender[lowest_bit(fresh)] = sender;
}

void upcall_raise_thread(struct thread *t, uint64_t bits, uint32_t sender)
{
    struct process *p = t->proc;
    if (!p || p->state != PROCESS_ALIVE || t->state == THREAD_DEAD)
        return;
    bits &= ~(p->up_ignore & ~t->up_mask);
    note_sender(p, bits & ~t->up_raised, sender);
    t->up_raised |= bits;
    upcall_update(t);
}

void upcall_raise_process(struct process *p, uint64_t bits, uint32_t sender)
{
    if (p->state != PROCESS_ALIVE)
        return;
    uint64_t masked_by_all = ~0ull;
    LIST_FOR_EACH(n, tmp, &p->threads)
        masked_by_all &= LIST_ENTRY(n, struct thread, proc_link)->up_mask;
    bits &= ~(p->up_ignore & ~masked_by_all);
    if (!bits)
        return;
    note_sender(p, bits & ~p->up_raised, sender);
    p->up_raised |= bits;
    process_pick(p, bits);
}

/* The lowest due bit of t, taken off its pending set; -1 if none (the flag is cleared). */
static int take_due(struct thread *t)
{
    uint64_t due = due_of(t);
    if (!due) {
        t->flags &= ~THREAD_UPCALL;
        return -1;
    }
    int bit = lowest_bit(due);
    if (t->up_raised & (1ull << bit)) {
        t->up_raised &= ~(1ull << bit);
    } else {
        t->proc->up_raised &= ~(1ull << bit);
        settle_flags(t->proc);
    }
    return bit;
}

int upcall_fault(uint32_t cause, uint64_t addr)
{
    struct thread *t = current_thread();
    struct process *p = t->proc;
    if (!p || !p->upcall_pc || cause < KS_KILL_PAGE_FAULT || cause > KS_KILL_ACCESS ||
        !p->fault_bit[cause - KS_KILL_PAGE_FAULT])
        return 0;
    unsigned bit = p->fault_bit[cause - KS_KILL_PAGE_FAULT] - 1u;
    if (t->up_mask & (1ull << bit))
        return 0;                       /* it cannot take it (inside its handler, say): the end */
    uint64_t mask = t->up_suspended ? t->up_saved_mask : t->up_mask;
    t->up_suspended = 0;
    if (arch_upcall_push_fault(t, p->upcall_pc, bit, mask, addr, cause) != 0)
        return 0;                       /* no room for the frame either */
    trace_event(TR_UPCALL, bit, p->upcall_pc, 1, 0);
    t->up_mask = ~0ull;
    upcall_update(t);
    return 1;
}

long sys_upcall_fault(sysarg_t cause, sysarg_t bit1)
{
    struct process *p = current_process();
    if (cause < KS_KILL_PAGE_FAULT || cause > KS_KILL_ACCESS || bit1 > 64)
        return KS_ERR_INVALID;
    p->fault_bit[cause - KS_KILL_PAGE_FAULT] = (uint8_t)bit1;
    return 0;
}

struct upcall_ret thread_return_slow(long a0, long from)
{
    struct thread *t = current_thread();
    struct upcall_ret r = { a0, from == UPCALL_FROM_TRAP };
    if (t->flags & THREAD_KILLED)
        thread_exit(0);
    if (t->flags & THREAD_FULL_RETURN) {
        t->flags &= ~THREAD_FULL_RETURN;
        r.full = 1;
    }
    if (!(t->flags & THREAD_UPCALL))
        return r;
    int bit = take_due(t);
    if (bit < 0) {
        if (t->up_suspended) {          /* (not reached while flags are exact; kept safe) */
            t->up_mask = t->up_saved_mask;
            t->up_suspended = 0;
        }
        return r;
    }
    if (!r.full)
        arch_upcall_complete_frame(t, from == UPCALL_FROM_IPC, a0);
    uint64_t mask = t->up_suspended ? t->up_saved_mask : t->up_mask;
    t->up_suspended = 0;
    if (arch_upcall_push(t, t->proc->upcall_pc, (unsigned)bit, mask, t->proc->up_sender[bit]) != 0) {
        process_kill_fault(t->proc, KS_KILL_PAGE_FAULT, "no room for an upcall frame", arch_user_sp(t),
                           t->proc->upcall_pc);
        thread_exit(0);
    }
    t->up_mask = ~0ull;
    upcall_update(t);
    trace_event(TR_UPCALL, (uint64_t)bit, t->proc->upcall_pc, 0, 0);
    r.full = 1;
    return r;
}

/* ---- system calls ---- */

long sys_upcall_set(sysarg_t pc, sysarg_t ignore)
{
    if (pc && (pc < USER_BASE || pc >= USER_TOP))
        return KS_ERR_RANGE;
    struct process *p = current_process();
    p->upcall_pc = pc;
    p->up_ignore = ignore;
    LIST_FOR_EACH(n, tmp, &p->threads) {     /* each its own bits; the process's to one of them */
        struct thread *t = LIST_ENTRY(n, struct thread, proc_link);
        if (pc && (t->up_raised & ~t->up_mask))
            flag_due(t);
        else
            t->flags &= ~THREAD_UPCALL;
    }
    if (pc && p->up_raised)
        process_pick(p, p->up_raised);
    return 0;
}

long sys_upcall_mask(sysarg_t how, sysarg_t bits, sysarg_t out)
{
    struct thread *t = current_thread();
    uint64_t v[2] = { t->up_mask, 0 };
    if (out && !user_range_ok(out, sizeof v))
        return KS_ERR_FAULT;
    switch (how) {
    case KS_MASK_BLOCK: t->up_mask |= bits; break;
    case KS_MASK_UNBLOCK: t->up_mask &= ~bits; break;
    case KS_MASK_SET: t->up_mask = bits; break;
    default: return KS_ERR_INVALID;
    }
    upcall_update(t);
    v[1] = pending_of(t);
    return out ? copy_to_user(out, v, sizeof v) : 0;
}

long sys_upcall_raise(sysarg_t target, sysarg_t bits)
{
    struct object *o;
    if (!bits)
        return KS_ERR_INVALID;
    long r = sys_lookup(target, KS_OBJ_PROCESS, KS_RIGHT_SIGNAL, &o, NULL);
    if (r == KS_ERR_WRONG_TYPE && (r = sys_lookup(target, KS_OBJ_THREAD, KS_RIGHT_SIGNAL, &o, NULL)) == 0) {
        upcall_raise_thread(thread_from_object(o), bits, current_process()->pid);
        object_put(o);
        return 0;
    }
    if (r)
        return r;
    upcall_raise_process(process_from_object(o), bits, current_process()->pid);
    object_put(o);
    return 0;
}

long sys_upcall_return(sysarg_t frame)
{
    struct thread *t = current_thread();
    uint64_t mask;
    long r = arch_upcall_pop(t, frame, &mask);
    if (r)
        return r;
    t->up_mask = mask;
    t->flags |= THREAD_FULL_RETURN;
    upcall_update(t);
    return 0;
}

long sys_upcall_take(sysarg_t bits, sysarg_t timeout_ns)
{
    struct thread *t = current_thread();
    if (!bits)
        return KS_ERR_INVALID;
    uint64_t deadline = timeout_ns == KS_FOREVER ? 0 : arch_time_now() + clock_ns_to_time(timeout_ns);
    for (;;) {
        uint64_t have = pending_of(t) & bits;
        if (have) {
            int bit = lowest_bit(have);
            if (t->up_raised & (1ull << bit)) {
                t->up_raised &= ~(1ull << bit);
            } else {
                t->proc->up_raised &= ~(1ull << bit);
                settle_flags(t->proc);
            }
            upcall_update(t);
            return bit | (long)t->proc->up_sender[bit] << 8;
        }
        if (timeout_ns == 0 || (deadline && arch_time_now() >= deadline))
            return KS_ERR_TIMED_OUT;
        t->up_take = bits;
        if (deadline)
            sched_add_sleeper(t, deadline);
        long w = sched_block(NULL, 1);
        sched_remove_sleeper(t);
        t->up_take = 0;
        if (w == KS_ERR_INTERRUPTED && !(pending_of(t) & bits))
            return w;
    }
}

long sys_upcall_suspend(sysarg_t mask)
{
    struct thread *t = current_thread();
    if (!t->proc->upcall_pc)
        return KS_ERR_BAD_STATE;        /* nothing could ever end the wait */
    t->up_saved_mask = t->up_mask;
    t->up_suspended = 1;
    t->up_mask = mask;
    upcall_update(t);
    while (!due_of(t) && !(t->flags & THREAD_KILLED))
        sched_block(NULL, 1);           /* woken by a raise (or a stale wake: look again) */
    if (!due_of(t)) {                   /* killed, not diverted: put the mask back */
        t->up_mask = t->up_saved_mask;
        t->up_suspended = 0;
    }
    return KS_ERR_INTERRUPTED;
}

long sys_process_on_exit(sysarg_t proc, sysarg_t bits)
{
    struct object *o;
    long r = sys_lookup(proc, KS_OBJ_PROCESS, KS_RIGHT_WAIT, &o, NULL);
    if (r)
        return r;
    struct process *p = process_from_object(o), *me = current_process();
    if (p == me)
        r = KS_ERR_BAD_STATE;
    else if (p->state == PROCESS_DEAD)
        upcall_raise_process(me, bits, p->pid);
    else {
        if (p->exit_notify)
            object_put(&p->exit_notify->obj);
        object_get(&me->obj);
        p->exit_notify = me;
        p->exit_bits = bits;
        if (p->stop_report)             /* a stop or continue before we asked: told now, as later ones */
            upcall_raise_process(me, bits, p->pid);
    }
    object_put(o);
    return r;
}
