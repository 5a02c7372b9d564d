/*
 * kernel/thread.c - creating, ending, joining, sleeping and interrupting threads.
 *
 * References: a live thread holds one on itself (dropped by the reaper after it
 * dies, see sched.c) and one on its process (dropped when the thread object is
 * destroyed). Handles hold their own.
 */
#include <arch/arch.h>
#include <kestrel/errors.h>
#include "account.h"
#include "clock.h"
#include "futex.h"
#include "heap.h"
#include "page_alloc.h"
#include "process.h"
#include "sched.h"
#include "string.h"
#include "thread.h"
#include "trace.h"
#include "vm.h"

static uint32_t next_tid = 1;
static struct thread boot_thread;

static void thread_destroy(struct object *o)
{
    struct thread *t = thread_from_object(o);
    ipc_thread_release(t);
    if (t->proc)
        object_put(&t->proc->obj);
    account_kfree(account_of(o), t);
}

static const struct object_ops thread_ops = { .destroy = thread_destroy };

static void thread_fields_init(struct thread *t)
{
    list_node_init(&t->sched_link);
    list_node_init(&t->sleep_link);
    list_node_init(&t->proc_link);
    wait_queue_init(&t->joiners);
    ipc_thread_init(t);
    t->tid = next_tid++;
    t->state = THREAD_RUNNABLE;
}

void thread_init_boot(void)
{
    struct thread *t = &boot_thread;
    thread_fields_init(t);
    object_init(&t->obj, KS_OBJ_THREAD, &thread_ops);
    memcpy(t->name, "idle", 5);
    arch_set_current(t);
    trace_start(t);
    sched_init(t);
}

/* A new thread object with its kernel stack, named `name`, charged to a; NULL without memory. */
static struct thread *thread_alloc(const char *name, struct account *a)
{
    void *kstack = account_page_alloc(a, KSTACK_ORDER, 0);
    if (!kstack)
        return NULL;
    struct thread *t = ACCOUNT_OBJECT_NEW(a, struct thread, obj, KS_OBJ_THREAD, &thread_ops);
    if (!t) {
        page_free(kstack, KSTACK_ORDER);
        return NULL;
    }
    t->kstack = kstack;
    thread_fields_init(t);
    size_t n = strlen(name);
    memcpy(t->name, name, n < sizeof t->name ? n : sizeof t->name - 1);
    return t;
}

static uint64_t kstack_top(const struct thread *t)
{
    return (uint64_t)t->kstack + (PAGE_SIZE << KSTACK_ORDER);
}

long thread_create_user(struct process *proc, uint64_t pc, uint64_t sp, uint64_t arg,
                        struct thread **out)
{
    long r = account_charge(proc->acct, ACCOUNT_THREADS, 1);
    if (r)
        return r;
    struct thread *t = thread_alloc(proc->name, proc->acct);
    if (!t) {
        account_uncharge(proc->acct, ACCOUNT_THREADS, 1);
        return KS_ERR_NO_MEMORY;
    }
    t->proc = proc;
    trace_name(t);
    if (current_thread()->proc == proc)
        t->up_mask = current_thread()->up_mask;     /* a new thread starts with its creator's mask */
    object_get(&proc->obj);
    list_push_back(&proc->threads, &t->proc_link);
    proc->nthreads++;
    arch_thread_init_user(t, kstack_top(t), &proc->vm->as, pc, sp, arg);
    *out = t;
    return 0;
}

struct thread *thread_create_kernel(const char *name, long (*fn)(void *), void *arg)
{
    struct thread *t = thread_alloc(name, NULL);
    if (!t)
        return NULL;
    arch_thread_init_kernel(t, kstack_top(t), fn, arg);
    trace_name(t);
    sched_enqueue(t);
    return t;
}

void thread_start_running(struct thread *t)
{
    sched_enqueue(t);
}

void thread_exit(long code)
{
    struct thread *t = current_thread();
    trace_event(TR_EXIT, (uint64_t)code, 0, 0, 0);
    sched_long_begin();         /* the last thread out tears the process down (never ended) */
    t->exit_code = code;
    t->exited = 1;
    wake_all(&t->joiners, code);
    if (t->robust_head)
        futex_robust_release(t);
    ipc_thread_exit(t);
    arch_fp_forget(t);
    if (t->proc) {
        list_remove(&t->proc_link);
        process_thread_gone(t->proc, code);
    }
    t->state = THREAD_DEAD;
    schedule();
    panic("thread_exit: dead thread %u (%s) was scheduled", t->tid, t->name);
}

void thread_charge_tick(struct thread *t, int user)
{
    if (!t->proc)
        return;
    if (user)
        t->utime_ns += 1000000000u / CLOCK_HZ;
    else
        t->stime_ns += 1000000000u / CLOCK_HZ;
}

void thread_interrupt(struct thread *t)
{
    if (t->state == THREAD_BLOCKED && !t->uninterruptible)
        sched_wake(t, KS_ERR_INTERRUPTED);
    else
        t->interrupt_pending = 1;
}

long thread_join(struct thread *t)
{
    if (t == current_thread())
        return KS_ERR_BAD_STATE;
    while (!t->exited) {
        long r = wait_on(&t->joiners, 1);
        if (r == KS_ERR_INTERRUPTED)
            return r;
    }
    return t->exit_code;
}

long thread_sleep(uint64_t ns)
{
    struct thread *t = current_thread();
    sched_add_sleeper(t, arch_time_now() + clock_ns_to_time(ns));
    long r = sched_block(NULL, 1);
    sched_remove_sleeper(t);
    return r;
}

void thread_discard(struct thread *t)
{
    BUG_ON(list_linked(&t->sched_link));
    list_remove(&t->proc_link);
    t->proc->nthreads--;
    page_free(t->kstack, KSTACK_ORDER);
    t->kstack = NULL;
    account_uncharge(account_of(&t->obj), ACCOUNT_THREADS, 1);
    object_put(&t->obj);
}
