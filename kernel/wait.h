/*
 * kernel/wait.h - wait queues and sleeping mutexes.
 *
 * The kernel runs on one hart and is not preempted: kernel code runs until it
 * blocks or returns to user mode, so no spinlocks are needed. A thread blocks
 * on a wait queue until another thread or an interrupt wakes it with a result.
 */
#ifndef KERNEL_WAIT_H
#define KERNEL_WAIT_H

#include "list.h"

struct wait_queue {
    struct list waiters;
};

static inline void wait_queue_init(struct wait_queue *wq) { list_init(&wq->waiters); }

/*
 * Block the current thread on wq until woken. Returns the wake result, or
 * KS_ERR_INTERRUPTED if `interruptible` and thread_interrupt (or the death of
 * the process) woke it instead. Without `interruptible` the caller sets its
 * thread's `uninterruptible` back to 0 once woken (kernel/sched.h; the debug
 * kernel's next block asserts it).
 */
long wait_on(struct wait_queue *wq, int interruptible);

/* Wake the longest waiter with `result`; returns 1 if there was one. */
int wake_one(struct wait_queue *wq, long result);

/* Wake every waiter with `result`. */
void wake_all(struct wait_queue *wq, long result);

/* A sleeping lock. The owner must not block on it again. */
struct kmutex {
    struct thread *owner;
    struct wait_queue waiters;
};

void kmutex_init(struct kmutex *m);
void kmutex_lock(struct kmutex *m);
void kmutex_unlock(struct kmutex *m);

#endif
