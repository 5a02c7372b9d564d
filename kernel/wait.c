/*
 * kernel/wait.c - wait queues and mutexes on top of the scheduler's block/wake.
 */
#include "sched.h"
#include "thread.h"
#include "wait.h"

long wait_on(struct wait_queue *wq, int interruptible)
{
    return sched_block(wq, interruptible);
}

int wake_one(struct wait_queue *wq, long result)
{
    struct list_node *n = list_first(&wq->waiters);
    if (!n)
        return 0;
    sched_wake(LIST_ENTRY(n, struct thread, sched_link), result);
    return 1;
}

void wake_all(struct wait_queue *wq, long result)
{
    while (wake_one(wq, result))
        ;
}

void kmutex_init(struct kmutex *m)
{
    m->owner = NULL;
    wait_queue_init(&m->waiters);
}

void kmutex_lock(struct kmutex *m)
{
    struct thread *t = current_thread();
    BUG_ON(m->owner == t);
    while (m->owner) {
        wait_on(&m->waiters, 0);
        t->uninterruptible = 0;         /* 0 out of the wait (kernel/sched.h) */
    }
    m->owner = t;
}

void kmutex_unlock(struct kmutex *m)
{
    BUG_ON(m->owner != current_thread());
    m->owner = NULL;
    wake_one(&m->waiters, 0);
}
