/*
 * kernel/sched_tests.c - in-kernel tests of threads, the scheduler, wait queues,
 * sleeping, interrupts and mutexes, with kernel threads (boot "ktest").
 *
 * The boot thread is the idle thread: it never blocks, so it waits for the test
 * threads by running rounds of the idle loop (sched_idle_once).
 */
#include <arch/arch.h>
#include <kestrel/errors.h>
#include "clock.h"
#include "ktest.h"
#include "sched.h"
#include "sched_tests.h"
#include "thread.h"
#include "wait.h"

#define MAX_THREADS 8

static struct thread *spawn(long (*fn)(void *), void *arg)
{
    struct thread *t = thread_create_kernel("ktest", fn, arg);
    if (t)
        object_get(&t->obj);        /* keep it to read the exit code */
    return t;
}

/* Wait (as the idle thread) until t has exited; its exit code. */
static long reap(struct thread *t)
{
    while (!t->exited)
        sched_idle_once();
    long code = t->exit_code;
    object_put(&t->obj);
    return code;
}

static volatile int counter;

static long count_and_yield(void *arg)
{
    for (int i = 0; i < 10; i++) {
        counter++;
        sched_yield();
    }
    return (long)arg;
}

static void threads_run_and_exit(void)
{
    struct thread *t[MAX_THREADS];
    uint64_t objects = object_count();
    counter = 0;
    for (long i = 0; i < MAX_THREADS; i++)
        KT_ASSERT((t[i] = spawn(count_and_yield, (void *)(100 + i))) != NULL);
    for (long i = 0; i < MAX_THREADS; i++)
        KT_EXPECT_EQ(reap(t[i]), 100 + i);
    KT_EXPECT_EQ(counter, 10 * MAX_THREADS);
    sched_idle_once();              /* let the last zombie be reaped */
    KT_EXPECT_EQ(object_count(), objects);
}

static struct wait_queue wq;
static int wake_order[MAX_THREADS], nwoken;

static long wait_then_record(void *arg)
{
    long r = wait_on(&wq, 1);
    wake_order[nwoken++] = (int)(long)arg;
    return r;
}

static void wait_queue_fifo(void)
{
    struct thread *t[4];
    wait_queue_init(&wq);
    nwoken = 0;
    for (long i = 0; i < 4; i++)
        KT_ASSERT((t[i] = spawn(wait_then_record, (void *)i)) != NULL);
    while (list_empty(&wq.waiters) || t[3]->state != THREAD_BLOCKED)
        sched_idle_once();          /* all four are waiting */
    KT_EXPECT_EQ(wake_one(&wq, 7), 1);
    KT_EXPECT_EQ(reap(t[0]), 7);
    wake_all(&wq, 9);
    for (int i = 1; i < 4; i++)
        KT_EXPECT_EQ(reap(t[i]), 9);
    for (int i = 0; i < 4; i++)
        KT_EXPECT_EQ(wake_order[i], i);
    KT_EXPECT_EQ(wake_one(&wq, 0), 0);
}

static long sleep_ms(void *arg)
{
    return thread_sleep((uint64_t)(long)arg * 1000000ull);
}

static void sleep_and_interrupt(void)
{
    uint64_t start = clock_ns();
    struct thread *sleeper = spawn(sleep_ms, (void *)20L);
    struct thread *long_sleeper = spawn(sleep_ms, (void *)10000L);
    KT_ASSERT(sleeper && long_sleeper);
    KT_EXPECT_EQ(reap(sleeper), 0);
    uint64_t slept = clock_ns() - start;
    KT_EXPECT(slept >= 20000000ull && slept < 200000000ull);
    KT_EXPECT(long_sleeper->state == THREAD_BLOCKED);
    thread_interrupt(long_sleeper);
    KT_EXPECT_EQ(reap(long_sleeper), KS_ERR_INTERRUPTED);
    KT_EXPECT(clock_ns() - start < 1000000000ull);
}

static struct kmutex mutex;
static volatile int inside, max_inside, total;

static long locked_increment(void *arg)
{
    for (int i = 0; i < 3; i++) {
        kmutex_lock(&mutex);
        if (++inside > max_inside)
            max_inside = inside;
        int v = total;
        sched_yield();              /* others run, and must queue on the mutex */
        total = v + 1;
        inside--;
        kmutex_unlock(&mutex);
    }
    return 0;
}

static void mutex_excludes(void)
{
    struct thread *t[4];
    kmutex_init(&mutex);
    inside = max_inside = total = 0;
    for (int i = 0; i < 4; i++)
        KT_ASSERT((t[i] = spawn(locked_increment, NULL)) != NULL);
    for (int i = 0; i < 4; i++)
        KT_EXPECT_EQ(reap(t[i]), 0);
    KT_EXPECT_EQ(max_inside, 1);
    KT_EXPECT_EQ(total, 12);
    KT_EXPECT(mutex.owner == NULL);
}

static const struct ktest_case sched_cases[] = {
    { "threads_run_and_exit", threads_run_and_exit },
    { "wait_queue_fifo", wait_queue_fifo },
    { "sleep_and_interrupt", sleep_and_interrupt },
    { "mutex_excludes", mutex_excludes },
};
KTEST_SUITE(sched_suite, "sched", sched_cases);
