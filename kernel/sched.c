/*
 * kernel/sched.c - run queue, blocking and waking, sleeping, the idle loop.
 *
 * schedule() is the only place that switches threads. A thread that exits is
 * switched away from as THREAD_DEAD; since it cannot free the stack it is
 * running on, the next thread to run frees it (reap_zombie).
 */
#include <arch/arch.h>
#include <kestrel/errors.h>
#include "account.h"
#include "clock.h"
#include "debug.h"
#include "page_alloc.h"
#include "sched.h"
#include "thread.h"
#include "trace.h"
#include "upcall.h"

static struct list run_queue;
static struct list sleepers;            /* sorted by deadline */
static struct thread *idle_thread;
static struct thread *zombie;           /* a dead thread whose stack awaits freeing */
static int need_resched;
static uint64_t switches;
static uint64_t idle_instret;           /* see sched_idle_instret() */

void sched_init(struct thread *idle)
{
    list_init(&run_queue);
    list_init(&sleepers);
    idle_thread = idle;
}

void sched_enqueue(struct thread *t)
{
    if (list_linked(&t->sched_link))
        panic("sched_enqueue: thread %u (%s) is already on a queue (state %d)", t->tid, t->name,
              t->state);
    t->state = THREAD_RUNNABLE;
    list_push_back(&run_queue, &t->sched_link);
}

/* Free what the dead thread z could not free itself. Runs on the next thread's stack. */
static __attribute__((noinline)) void reap(struct thread *z)
{
    zombie = NULL;
    page_free(z->kstack, KSTACK_ORDER);
    z->kstack = NULL;
    account_uncharge(account_of(&z->obj), ACCOUNT_THREADS, 1);     /* NULL for a kernel thread */
    object_put(&z->obj);        /* the reference the thread held on itself while alive */
}

/* After every switch: a test, inline; the freeing out of line (switches with no zombie are most). */
static inline void reap_zombie(void)
{
    if (zombie)
        reap(zombie);
}

void schedule(void)
{
    struct thread *prev = current_thread();
    struct list_node *n = list_pop_front(&run_queue);
    struct thread *next = n ? LIST_ENTRY(n, struct thread, sched_link) : idle_thread;
    need_resched = 0;
    if (next->state != THREAD_RUNNABLE)
        panic("schedule: thread %u (%s) is on the run queue in state %d", next->tid, next->name,
              next->state);
    if (next == prev)
        return;
    if (prev->state == THREAD_DEAD)
        zombie = prev;
    switches++;
    trace_event(TR_SWITCH, next->tid, 0, 0, 0);
    arch_switch_aspace(&next->arch);
    arch_switch(prev, next);
    reap_zombie();
}

/* After a switch that did not return through schedule() (see ipc_fast.S). */
void sched_switch_done(void)
{
    reap_zombie();
}

/* A new thread's first code in the kernel (from thread_trampoline and kthread_trampoline). */
void thread_start(void)
{
    reap_zombie();
    if (current_thread()->flags & THREAD_KILLED)
        thread_exit(0);         /* its process ended before it ever ran */
}

/*
 * A new user thread's first code in the kernel (thread_trampoline), before
 * user_return_full. Interrupts must be off there: one taken between that
 * path's `csrw sscratch, tp` and its sret would be taken as a trap from user
 * mode with a kernel pc as the user's. Every way into user_return* comes from
 * a trap (which turns interrupts off) or from schedule(), which nothing calls
 * with interrupts on (the idle loop turns them on only around wfi).
 */
void thread_start_user(void)
{
    BUG_ON(arch_irq_enabled());
    thread_start();
    if (current_thread()->flags)    /* killed, or an upcall due, before it ever ran */
        thread_return_slow(0, UPCALL_FROM_TRAP);
}

void sched_yield(void)
{
    struct thread *t = current_thread();
    if (t != idle_thread)
        sched_enqueue(t);
    schedule();
}

long sched_block(struct wait_queue *wq, int interruptible)
{
    struct thread *t = current_thread();
    ASSERT(!t->uninterruptible);    /* 0 out of an uninterruptible wait (sched.h) */
    if (!interruptible)
        t->uninterruptible = 1;     /* (an interruptible wait finds it 0: nothing to write) */
    else if (t->interrupt_pending || (t->flags & (THREAD_KILLED | THREAD_UPCALL))) {
        t->interrupt_pending = 0;
        return KS_ERR_INTERRUPTED;
    }
    ASSERT(!t->waiting_on);         /* (the IPC fast path blocks without writing it) */
    t->state = THREAD_BLOCKED;
    t->waiting_on = wq;
    if (wq)
        list_push_back(&wq->waiters, &t->sched_link);
    schedule();
    return t->wake_result;
}

/* Take blocked t off its wait queue and the sleepers, with `result` for sched_block to return. */
static inline void unblock(struct thread *t, long result)
{
    ASSERT(t->state == THREAD_BLOCKED);
    if (t->waiting_on)
        list_remove(&t->sched_link);
    sched_remove_sleeper(t);
    t->waiting_on = NULL;
    t->wake_result = result;
}

void sched_wake(struct thread *t, long result)
{
    if (t->state != THREAD_BLOCKED)
        return;
    unblock(t, result);
    sched_enqueue(t);
}

long sched_block_handoff(struct thread *next, long next_result, int interruptible)
{
    struct thread *t = current_thread();
    if (next->state != THREAD_BLOCKED)
        return sched_block(NULL, interruptible);
    ASSERT(!t->uninterruptible);
    if (!interruptible)
        t->uninterruptible = 1;
    else if (t->interrupt_pending || (t->flags & (THREAD_KILLED | THREAD_UPCALL))) {
        sched_wake(next, next_result);
        t->interrupt_pending = 0;
        return KS_ERR_INTERRUPTED;
    }
    unblock(next, next_result);
    next->state = THREAD_RUNNABLE;
    t->state = THREAD_BLOCKED;
    t->waiting_on = NULL;
    switches++;
    trace_event(TR_SWITCH, next->tid, 0, 0, 0);
    arch_switch_aspace(&next->arch);
    arch_switch(t, next);
    reap_zombie();
    return t->wake_result;
}

void sched_add_sleeper(struct thread *t, uint64_t deadline)
{
    t->sleep_deadline = deadline;
    struct list_node *pos = sleepers.head.next;
    while (pos != &sleepers.head &&
           LIST_ENTRY(pos, struct thread, sleep_link)->sleep_deadline <= deadline)
        pos = pos->next;
    list_insert_before(pos, &t->sleep_link);
}

void sched_remove_sleeper(struct thread *t)
{
    if (list_linked(&t->sleep_link))
        list_remove(&t->sleep_link);
}

void sched_tick(void)
{
    uint64_t now = arch_time_now();
    struct list_node *n;
    while ((n = list_first(&sleepers)) != NULL) {
        struct thread *t = LIST_ENTRY(n, struct thread, sleep_link);
        if (t->sleep_deadline > now)
            break;
        sched_wake(t, 0);
    }
    if (!list_empty(&run_queue))
        need_resched = 1;
}

void sched_take_interrupts(void)
{
    if (arch_irq_pending()) {
        arch_irq_enable();              /* the pending interrupt is taken here */
        arch_irq_disable();
    }
}

void sched_preempt_long(void)
{
    sched_take_interrupts();
    if (need_resched)
        sched_yield();
}


void sched_preempt_point(void)
{
    if (need_resched)
        sched_yield();
}

/*
 * Nothing to run: wait for an interrupt (the tick at the latest). The tick
 * stays on: under QEMU -icount sleep=off a wait with no timer armed at all
 * never ends (QEMU 7.2 spins without serving its devices).
 */
void sched_idle_once(void)
{
    if (!list_empty(&run_queue)) {
        schedule();
        return;
    }
    __atomic_fetch_add(&idle_instret, arch_idle_wait(), __ATOMIC_RELAXED);
    arch_irq_enable();                  /* the pending interrupt is taken here */
    arch_irq_disable();
}

void sched_idle_loop(void)
{
    for (;;)
        sched_idle_once();
}

uint64_t sched_idle_instret(void)
{
    return idle_instret;
}

uint64_t sched_switch_count(void)
{
    return switches;
}
