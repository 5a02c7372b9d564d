/*
 * user/utest.c - the user-space test program: exercises the system call ABI
 * from a native process and prints KTAP (kernel/ktest.h). init runs it when the
 * bootargs say "utest"; its exit status (0: all passed) becomes QEMU's.
 *
 * Suites: thread, sched, process, memobj, vm, view, bad, limits. Cases that need
 * a second process spawn user/uchild.c from the boot image; the byte patterns
 * shared with it (parent_byte/child_byte) are documented there. Some cases
 * build tiny processes by hand (process_create, vm_map and thread_create into
 * them, with a few hand-assembled instructions).
 *
 * Every case closes its handles and unmaps what it mapped; many compare
 * ks_kstat (kernel objects, heap objects, free pages) before and after, and the
 * last case (leak.whole_run) compares the end of the run with main's start.
 * main first settles the memory this process keeps until it exits (stack, its
 * writable segments, page tables under the mapping area) so that those counts
 * are exact.
 */
#include <kestrel/bootimg.h>
#include <kestrel/upcall.h>
#include "kernel/elf.h"
#include "kernel/ktest.h"
#include "user/lib/ipc.h"
#include "user/lib/long_end.h"
#include "user/lib/testlib.h"
#include "user/lib/ulib.h"

#define MS (1000000ull)                         /* nanoseconds */
#define PATTERN_LEN (2 * KS_PAGE_SIZE + 1000)   /* as in uchild.c */
#define KERNEL_ADDR 0xffffffff80200000ul
#define UNMAPPED_ADDR 0x0000500000000000ul

static uint8_t parent_byte(uint64_t i) { return (uint8_t)(i * 7 + 3); }
static uint8_t child_byte(uint64_t i) { return (uint8_t)((i * 13 + 5) ^ 0x5a); }

/* ---- helpers ---- */

static ks_handle_t bootimg(void)
{
    return (ks_handle_t)ulib_auxv(KS_AT_BOOTIMAGE);
}

static long elapsed_ns(long t0)
{
    return ks_clock_ns() - t0;
}

/* Spawn uchild with the given arguments (after "uchild") and handles. */
static long spawn_child(const char *a1, const char *a2, const ks_handle_t *given, unsigned ngiven)
{
    const char *argv[] = { "uchild", a1, a2, NULL };
    return ulib_spawn(bootimg(), "uchild", argv, given, ngiven);
}

/* Wait for and close a process; its status, or ~0 on failure. */
static uint64_t wait_close(long proc)
{
    uint64_t status = ~0ull;
    if (proc < 0)
        return status;
    if (ks_process_wait((ks_handle_t)proc, &status) != 0)
        status = ~0ull;
    ks_handle_close((ks_handle_t)proc);
    return status;
}

/* Run uchild to its end; its status, or ~0 if it could not be spawned. */
static uint64_t run_child(const char *a1, const char *a2, const ks_handle_t *given, unsigned ngiven)
{
    long p = spawn_child(a1, a2, given, ngiven);
    if (p < 0)
        ktest_fail(__FILE__, __LINE__, "spawn uchild %s: %ld", a1, p);
    return wait_close(p);
}

/* A memobj of len bytes holding parent_byte(i); a negative error on failure. */
static long pattern_memobj(uint64_t len)
{
    long m = ks_memobj_create(0);
    if (m < 0)
        return m;
    uint8_t chunk[256];
    for (uint64_t off = 0; off < len; off += sizeof chunk) {
        uint64_t n = len - off < sizeof chunk ? len - off : sizeof chunk;
        for (uint64_t i = 0; i < n; i++)
            chunk[i] = parent_byte(off + i);
        if (ks_memobj_write((ks_handle_t)m, off, chunk, n) != (long)n) {
            ks_handle_close((ks_handle_t)m);
            return KS_ERR_NO_MEMORY;
        }
    }
    return m;
}

/* The first i in [from, to) where p[i] != want(i), or ~0 if none. */
static uint64_t first_mismatch(const volatile uint8_t *p, uint64_t from, uint64_t to,
                               uint8_t (*want)(uint64_t))
{
    for (uint64_t i = from; i < to; i++)
        if (p[i] != want(i))
            return i;
    return ~0ull;
}

/* The first i in [from, to) where memobj byte i != want(i) (~0 if none, ~1 on a short read). */
static uint64_t memobj_mismatch(ks_handle_t m, uint64_t from, uint64_t to, uint8_t (*want)(uint64_t))
{
    uint8_t chunk[256];
    for (uint64_t off = from; off < to; off += sizeof chunk) {
        uint64_t n = to - off < sizeof chunk ? to - off : sizeof chunk;
        if (ks_memobj_read(m, off, chunk, n) != (long)n)
            return ~1ull;
        for (uint64_t i = 0; i < n; i++)
            if (chunk[i] != want(off + i))
                return off + i;
    }
    return ~0ull;
}

static uint8_t zero_byte(uint64_t i) { return 0; }


#define KILLED(cause) (KS_STATUS_KILLED | (cause))
/*
 * What cases that found a leak they cannot clean up measured (objects and heap
 * objects that stayed, pages that did not come back), for leak.whole_run.
 */
static struct ks_kstat known_leak;

#define NOT_YET 0x7777          /* "no result yet" in variables threads fill in */

/* ---- thread ---- */

static volatile long joiner_target_h;

static volatile long thread_seen[8];

static void exit_with_arg(long arg)
{
    thread_seen[arg & 7] = arg;
    ks_thread_exit(arg);
}

static void thread_create_join_8(void)
{
    struct uthread t[8];
    for (int i = 0; i < 8; i++)
        thread_seen[i] = -1;
    for (int i = 0; i < 8; i++) {
        t[i] = thread_start(exit_with_arg, 0x100 + i);
        KT_EXPECT(t[i].h > 0);
    }
    for (int i = 0; i < 8; i++) {
        KT_EXPECT_EQ(thread_finish(&t[i]), 0x100 + i);
        KT_EXPECT_EQ(thread_seen[i], 0x100 + i);
    }
}

static void thread_join_exited(void)
{
    thread_seen[0] = -1;
    struct uthread t = thread_start(exit_with_arg, 0x208);
    KT_ASSERT(t.h > 0);
    /* Give it ample time to run and exit before we join. */
    for (int i = 0; i < 100 && thread_seen[0] != 0x208; i++)
        ks_thread_sleep(10 * MS);
    ks_thread_sleep(20 * MS);
    KT_EXPECT_EQ(thread_seen[0], 0x208);
    KT_EXPECT_EQ(thread_finish(&t), 0x208);
}

static void thread_join_needs_wait(void)
{
    struct uthread t = thread_start(exit_with_arg, 0x33);
    KT_ASSERT(t.h > 0);
    long info = ks_handle_info((ks_handle_t)t.h);
    KT_EXPECT_EQ(info, KS_OBJ_THREAD << 16 | KS_RIGHTS_ALL);
    long dup = ks_handle_duplicate((ks_handle_t)t.h, KS_RIGHTS_ALL & ~KS_RIGHT_WAIT);
    KT_EXPECT(dup > 0);
    KT_EXPECT_EQ(ks_handle_info((ks_handle_t)dup), KS_OBJ_THREAD << 16 | (KS_RIGHTS_ALL & ~KS_RIGHT_WAIT));
    KT_EXPECT_EQ(ks_thread_join((ks_handle_t)dup), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)dup), 0);
    KT_EXPECT_EQ(thread_finish(&t), 0x33);
}

static void thread_join_self(void)
{
    KT_EXPECT_EQ(ks_thread_join(KS_THREAD_SELF), KS_ERR_BAD_STATE);
}

/* A real handle to ourselves is ourselves too. */
static void thread_join_self_handle(void)
{
    long me = ks_handle_duplicate(KS_THREAD_SELF, KS_RIGHTS_ALL);
    KT_ASSERT(me > 0);
    KT_EXPECT_EQ(ks_handle_info((ks_handle_t)me), KS_OBJ_THREAD << 16 | KS_RIGHTS_ALL);
    KT_EXPECT_EQ(ks_thread_join((ks_handle_t)me), KS_ERR_BAD_STATE);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)me), 0);
}

/* The exit code is a whole long. */
static void thread_exit_code(void)
{
    struct uthread t = thread_start(exit_with_arg, 0x123456789a0l);
    KT_ASSERT(t.h > 0);
    KT_EXPECT_EQ(thread_finish(&t), 0x123456789a0l);
}

static volatile long release_flag;
static volatile long joined[3];

static void wait_for_release(long arg)
{
    while (!release_flag)
        ks_thread_sleep(1 * MS);
    ks_thread_exit(arg);
}

static void join_target(long i)
{
    joined[i] = ks_thread_join((ks_handle_t)joiner_target_h);
    ks_thread_exit(i);
}

/* Several threads joining one: all of them get its code. */
static void thread_many_joiners(void)
{
    release_flag = 0;
    struct uthread target = thread_start(wait_for_release, 0x44);
    KT_ASSERT(target.h > 0);
    joiner_target_h = target.h;
    struct uthread j[3];
    for (int i = 0; i < 3; i++) {
        joined[i] = NOT_YET;
        j[i] = thread_start(join_target, i);
        KT_EXPECT(j[i].h > 0);
    }
    KT_EXPECT_EQ(ks_thread_sleep(20 * MS), 0);
    for (int i = 0; i < 3; i++)
        KT_EXPECT_EQ(joined[i], NOT_YET);
    release_flag = 1;
    for (int i = 0; i < 3; i++) {
        KT_EXPECT_EQ(thread_finish(&j[i]), i);
        KT_EXPECT_EQ(joined[i], 0x44);
    }
    KT_EXPECT_EQ(thread_finish(&target), 0x44);
}

/* A thread whose handle is closed at once still runs, and leaves nothing behind. */
static void thread_detached(void)
{
    struct ks_kstat k = kstat_now();
    thread_seen[2] = -1;
    struct uthread t = thread_start(exit_with_arg, 0x402);
    KT_ASSERT(t.h > 0);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)t.h), 0);
    for (int i = 0; i < 100 && thread_seen[2] != 0x402; i++)
        ks_thread_sleep(1 * MS);
    KT_EXPECT_EQ(thread_seen[2], 0x402);
    ks_thread_sleep(10 * MS);           /* past its exit and the reaping of its stack */
    UNMAP(t.stack, TEST_STACK_SIZE);
    EXPECT_SAME_KSTAT(&k);
}

static const struct ktest_case thread_cases[] = {
    { "create_join_8", thread_create_join_8 },
    { "join_exited", thread_join_exited },
    { "join_needs_wait_right", thread_join_needs_wait },
    { "join_self", thread_join_self },
    { "join_self_handle", thread_join_self_handle },
    { "exit_code", thread_exit_code },
    { "many_joiners", thread_many_joiners },
    { "detached", thread_detached },
};
KTEST_SUITE(thread_suite, "thread", thread_cases);

/* ---- sched ---- */

static volatile long spin_flag;
static volatile uint64_t spin_counter;

/* Count until spin_flag is set; never yields or makes a system call. */
static void spinner(long arg)
{
    while (!spin_flag)
        spin_counter++;
    ks_thread_exit(arg);
}

static void sched_preemption(void)
{
    spin_flag = 0;
    spin_counter = 0;
    struct uthread t = thread_start(spinner, 5);
    KT_ASSERT(t.h > 0);
    /* We get back from the sleep only if the spinner is preempted. */
    long t0 = ks_clock_ns();
    KT_EXPECT_EQ(ks_thread_sleep(30 * MS), 0);
    uint64_t c1 = spin_counter;
    KT_EXPECT(c1 > 0);
    /* Both runnable: time slices alternate, so the counter moves while we spin too. */
    long t1 = ks_clock_ns();
    while (ks_clock_ns() - t1 < 50 * (long)MS)
        ;
    uint64_t c2 = spin_counter;
    KT_EXPECT(c2 > c1);
    spin_flag = 1;
    KT_EXPECT_EQ(thread_finish(&t), 5);
    KT_EXPECT(elapsed_ns(t0) < 1000 * (long)MS);
}

static void sched_sleep_clock(void)
{
    long t0 = ks_clock_ns();
    KT_EXPECT(t0 > 0);
    KT_EXPECT_EQ(ks_thread_sleep(30 * MS), 0);
    long dt = elapsed_ns(t0);
    KT_EXPECT(dt >= 30 * (long)MS);
    KT_EXPECT(dt < 1000 * (long)MS);
    /* The clock is monotonic. */
    long a = ks_clock_ns(), b = ks_clock_ns();
    KT_EXPECT(b >= a);
    /* A zero sleep returns at once. */
    t0 = ks_clock_ns();
    KT_EXPECT_EQ(ks_thread_sleep(0), 0);
    KT_EXPECT(elapsed_ns(t0) < 100 * (long)MS);
}

static volatile long sleeper_result, sleeper_elapsed;

static void long_sleeper(long arg)
{
    long t0 = ks_clock_ns();
    sleeper_result = ks_thread_sleep(10000 * MS);
    sleeper_elapsed = elapsed_ns(t0);
    ks_thread_exit(arg);
}

static void sched_interrupt_sleep(void)
{
    sleeper_result = NOT_YET;
    struct uthread t = thread_start(long_sleeper, 6);
    KT_ASSERT(t.h > 0);
    KT_EXPECT_EQ(ks_thread_sleep(20 * MS), 0);
    KT_EXPECT_EQ(sleeper_result, NOT_YET);         /* still asleep */
    long t0 = ks_clock_ns();
    KT_EXPECT_EQ(ks_thread_interrupt((ks_handle_t)t.h), 0);
    KT_EXPECT_EQ(thread_finish(&t), 6);
    KT_EXPECT(elapsed_ns(t0) < 1000 * (long)MS);
    KT_EXPECT_EQ(sleeper_result, KS_ERR_INTERRUPTED);
    KT_EXPECT(sleeper_elapsed < 1000 * (long)MS);
}

/* An interrupt that arrives while not blocked is kept for the next blocking call. */
static void sched_interrupt_pending(void)
{
    KT_EXPECT_EQ(ks_thread_interrupt(KS_THREAD_SELF), 0);
    long t0 = ks_clock_ns();
    KT_EXPECT_EQ(ks_thread_sleep(10000 * MS), KS_ERR_INTERRUPTED);
    KT_EXPECT(elapsed_ns(t0) < 1000 * (long)MS);
    /* Consumed: the next sleep runs its course. */
    t0 = ks_clock_ns();
    KT_EXPECT_EQ(ks_thread_sleep(10 * MS), 0);
    KT_EXPECT(elapsed_ns(t0) >= 10 * (long)MS);
    /* Interrupting needs MANAGE. */
    struct uthread t = thread_start(long_sleeper, 4);
    KT_ASSERT(t.h > 0);
    long dup = ks_handle_duplicate((ks_handle_t)t.h, KS_RIGHTS_ALL & ~KS_RIGHT_MANAGE);
    KT_EXPECT(dup > 0);
    KT_EXPECT_EQ(ks_thread_interrupt((ks_handle_t)dup), KS_ERR_ACCESS);
    ks_handle_close((ks_handle_t)dup);
    KT_EXPECT_EQ(ks_thread_interrupt((ks_handle_t)t.h), 0);
    KT_EXPECT_EQ(thread_finish(&t), 4);
}

static volatile long joiner_target, joiner_result;

static void joiner(long arg)
{
    joiner_result = ks_thread_join((ks_handle_t)joiner_target);
    ks_thread_exit(arg);
}

/* A thread blocked in thread_join on a thread that does not end (spinning or asleep). */
static void interrupt_join(int target_sleeps)
{
    spin_flag = 0;
    sleeper_result = NOT_YET;
    joiner_result = NOT_YET;
    struct uthread a = target_sleeps ? thread_start(long_sleeper, 11) : thread_start(spinner, 11);
    KT_ASSERT(a.h > 0);
    joiner_target = a.h;
    struct uthread b = thread_start(joiner, 12);
    KT_EXPECT(b.h > 0);
    KT_EXPECT_EQ(ks_thread_sleep(30 * MS), 0);
    KT_EXPECT_EQ(joiner_result, NOT_YET);           /* still joining */
    long t0 = ks_clock_ns();
    KT_EXPECT_EQ(ks_thread_interrupt((ks_handle_t)b.h), 0);
    KT_EXPECT_EQ(thread_finish(&b), 12);
    KT_EXPECT(elapsed_ns(t0) < 1000 * (long)MS);
    KT_EXPECT_EQ(joiner_result, KS_ERR_INTERRUPTED);
    /* The target was not disturbed: still running or asleep. */
    KT_EXPECT_EQ(sleeper_result, NOT_YET);
    if (target_sleeps)
        KT_EXPECT_EQ(ks_thread_interrupt((ks_handle_t)a.h), 0);
    spin_flag = 1;
    KT_EXPECT_EQ(thread_finish(&a), 11);
    if (target_sleeps)
        KT_EXPECT_EQ(sleeper_result, KS_ERR_INTERRUPTED);
}

static void sched_interrupt_join_spinning(void)
{
    interrupt_join(0);
}

static void sched_interrupt_join_sleeping(void)
{
    interrupt_join(1);
}

static volatile long wake_seq, wake_order[3];

static void timed_sleeper(long ms)
{
    ks_thread_sleep((uint64_t)ms * MS);
    wake_order[__atomic_fetch_add(&wake_seq, 1, __ATOMIC_SEQ_CST)] = ms;
    ks_thread_exit(ms);
}

/* Sleepers wake in deadline order, not in the order they went to sleep. */
static void sched_sleep_order(void)
{
    static const long ms[3] = { 60, 20, 40 };
    wake_seq = 0;
    struct uthread t[3];
    for (int i = 0; i < 3; i++)
        t[i] = thread_start(timed_sleeper, ms[i]);
    for (int i = 0; i < 3; i++)
        KT_EXPECT_EQ(thread_finish(&t[i]), ms[i]);
    KT_EXPECT_EQ(wake_seq, 3);
    KT_EXPECT_EQ(wake_order[0], 20);
    KT_EXPECT_EQ(wake_order[1], 40);
    KT_EXPECT_EQ(wake_order[2], 60);
}

static void set_flag(long arg)
{
    spin_flag = arg;
    ks_thread_exit(0);
}

/* Yielding lets a runnable thread run before the next tick. */
static void sched_yield(void)
{
    spin_flag = 0;
    struct uthread t = thread_start(set_flag, 9);
    KT_ASSERT(t.h > 0);
    int n = 0;
    while (spin_flag != 9 && n < 1000) {
        KT_EXPECT_EQ(ks_thread_yield(), 0);
        n++;
    }
    KT_EXPECT_EQ(spin_flag, 9);
    KT_EXPECT(n < 10);
    KT_EXPECT_EQ(thread_finish(&t), 0);
}

static volatile long waiter_result;

static void process_waiter(long proc)
{
    uint64_t st = 0;
    waiter_result = ks_process_wait((ks_handle_t)proc, &st);
    ks_thread_exit(13);
}

/* process_wait is interruptible too, and the interrupt leaves the child alone. */
static void sched_interrupt_process_wait(void)
{
    long p = spawn_child("sleep", NULL, NULL, 0);
    KT_ASSERT(p > 0);
    waiter_result = NOT_YET;
    struct uthread t = thread_start(process_waiter, p);
    KT_EXPECT(t.h > 0);
    KT_EXPECT_EQ(ks_thread_sleep(20 * MS), 0);
    KT_EXPECT_EQ(waiter_result, NOT_YET);
    KT_EXPECT_EQ(ks_thread_interrupt((ks_handle_t)t.h), 0);
    KT_EXPECT_EQ(thread_finish(&t), 13);
    KT_EXPECT_EQ(waiter_result, KS_ERR_INTERRUPTED);
    KT_EXPECT_EQ(ks_process_kill((ks_handle_t)p), 0);
    KT_EXPECT_EQ(wait_close(p), KILLED(KS_KILL_BY_REQUEST));
}

static const struct ktest_case sched_cases[] = {
    { "preemption", sched_preemption },
    { "sleep_clock", sched_sleep_clock },
    { "sleep_order", sched_sleep_order },
    { "yield", sched_yield },
    { "interrupt_sleep", sched_interrupt_sleep },
    { "interrupt_pending", sched_interrupt_pending },
    { "interrupt_join_spinning", sched_interrupt_join_spinning },
    { "interrupt_join_sleeping", sched_interrupt_join_sleeping },
    { "interrupt_process_wait", sched_interrupt_process_wait },
};
KTEST_SUITE(sched_suite, "sched", sched_cases);

/* ---- process ---- */

static void process_exit_status(void)
{
    KT_EXPECT_EQ(run_child("exit", "42", NULL, 0), 42);
    KT_EXPECT_EQ(run_child("exit", "0", NULL, 0), 0);
    /* The whole 32-bit status comes through. */
    KT_EXPECT_EQ(run_child("exit", "-1", NULL, 0), 0xffffffffull);
}

static void process_killed_faults(void)
{
    static const char *const modes[] = { "fault", "fault-read", "fault-kernel", "exec-nx" };
    for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        uint64_t st = run_child(modes[i], NULL, NULL, 0);
        if (st != KILLED(KS_KILL_PAGE_FAULT))
            ktest_fail(__FILE__, __LINE__, "uchild %s: status 0x%lx, expected 0x%lx", modes[i],
                       (unsigned long)st, (unsigned long)KILLED(KS_KILL_PAGE_FAULT));
    }
}

static void process_killed_illegal(void)
{
    KT_EXPECT_EQ(run_child("illegal", NULL, NULL, 0), KILLED(KS_KILL_ILLEGAL));
    KT_EXPECT_EQ(run_child("ebreak", NULL, NULL, 0), KILLED(KS_KILL_ACCESS));
}

/* Start uchild `mode`, let it run or block, kill it. */
static void kill_child(const char *mode)
{
    long p = spawn_child(mode, NULL, NULL, 0);
    KT_ASSERT(p > 0);
    KT_EXPECT_EQ(ks_thread_sleep(20 * MS), 0);
    /* Killing needs MANAGE, waiting WAIT. */
    long dup = ks_handle_duplicate((ks_handle_t)p, KS_RIGHTS_ALL & ~(KS_RIGHT_MANAGE | KS_RIGHT_WAIT));
    KT_EXPECT(dup > 0);
    uint64_t st = 0;
    KT_EXPECT_EQ(ks_process_kill((ks_handle_t)dup), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_process_wait((ks_handle_t)dup, &st), KS_ERR_ACCESS);
    ks_handle_close((ks_handle_t)dup);
    long t0 = ks_clock_ns();
    KT_EXPECT_EQ(ks_process_kill((ks_handle_t)p), 0);
    KT_EXPECT_EQ(ks_process_wait((ks_handle_t)p, &st), 0);
    KT_EXPECT_EQ(st, KILLED(KS_KILL_BY_REQUEST));
    KT_EXPECT(elapsed_ns(t0) < 1000 * (long)MS);
    /* Killing the dead changes nothing. */
    KT_EXPECT_EQ(ks_process_kill((ks_handle_t)p), 0);
    st = 0;
    KT_EXPECT_EQ(ks_process_wait((ks_handle_t)p, &st), 0);
    KT_EXPECT_EQ(st, KILLED(KS_KILL_BY_REQUEST));
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)p), 0);
}

static void process_kill_spinning(void)
{
    kill_child("spin");
}

static void process_kill_sleeping(void)
{
    kill_child("sleep");
}

static void process_threads(void)
{
    KT_EXPECT_EQ(run_child("thread-fault", NULL, NULL, 0), KILLED(KS_KILL_PAGE_FAULT));
    KT_EXPECT_EQ(run_child("thread-last", NULL, NULL, 0), 77);
    KT_EXPECT_EQ(run_child("exit-multi", NULL, NULL, 0), 9);
}

/* After all those deaths we are still here, with working threads. */
static void process_survivor(void)
{
    KT_EXPECT_EQ(ks_null(), 0);
    thread_seen[1] = -1;
    struct uthread t = thread_start(exit_with_arg, 0x301);
    KT_EXPECT_EQ(thread_finish(&t), 0x301);
    KT_EXPECT_EQ(thread_seen[1], 0x301);
    uint64_t st;
    KT_EXPECT_EQ(ks_process_wait(KS_PROCESS_SELF, &st), KS_ERR_BAD_STATE);
    KT_EXPECT_EQ(ks_handle_info(KS_PROCESS_SELF), KS_OBJ_PROCESS << 16 | KS_RIGHTS_ALL);
}

static void process_wait_bad_status(void)
{
    long p = spawn_child("exit", "3", NULL, 0);
    KT_ASSERT(p > 0);
    KT_EXPECT_EQ(ks_process_wait((ks_handle_t)p, NULL), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_process_wait((ks_handle_t)p, (uint64_t *)KERNEL_ADDR), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_process_wait((ks_handle_t)p, (uint64_t *)(KS_USER_TOP - 4)), KS_ERR_FAULT);
    /* Mapped-looking but unmapped: found only when the status is stored. */
    KT_EXPECT_EQ(ks_process_wait((ks_handle_t)p, (uint64_t *)UNMAPPED_ADDR), KS_ERR_FAULT);
    /* A read-only page is no good either. */
    long m = ks_memobj_create(KS_PAGE_SIZE);
    long ro = m > 0 ? ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, KS_PAGE_SIZE,
                                KS_PROT_READ | KS_MAP_SHARED) : -1;
    KT_EXPECT(ro > 0);
    if (ro > 0) {
        KT_EXPECT_EQ(ks_process_wait((ks_handle_t)p, (uint64_t *)ro), KS_ERR_FAULT);
        UNMAP((uintptr_t)ro, KS_PAGE_SIZE);
    }
    ks_handle_close((ks_handle_t)m);
    uint64_t st = 0;
    KT_EXPECT_EQ(ks_process_wait((ks_handle_t)p, &st), 0);
    KT_EXPECT_EQ(st, 3);
    ks_handle_close((ks_handle_t)p);
}

static void process_spawn_missing(void)
{
    const char *argv[] = { "no-such-program", NULL };
    struct ks_kstat k = kstat_now();
    KT_EXPECT_EQ(ulib_spawn(bootimg(), "no-such-program", argv, NULL, 0), KS_ERR_RANGE);
    KT_EXPECT_EQ(ulib_spawn(bootimg(), "", argv, NULL, 0), KS_ERR_RANGE);
    EXPECT_SAME_KSTAT(&k);
}

/* A fake boot image in a memobj: files of one page each, at page offsets 1, 2, ... */
static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A minimal static RISC-V executable: one R+X PT_LOAD of the whole page at vaddr. */
static void make_elf(uint8_t *f, uint64_t vaddr, uint64_t entry_off)
{
    memset(f, 0, KS_PAGE_SIZE);
    memcpy(f, "\177ELF\2\1\1", 7);
    put_le(f + 16, 2, 2);               /* ET_EXEC */
    put_le(f + 18, 243, 2);             /* EM_RISCV */
    put_le(f + 20, 1, 4);
    put_le(f + 24, vaddr + entry_off, 8);
    put_le(f + 32, 64, 8);              /* phoff */
    put_le(f + 52, 64, 2);
    put_le(f + 54, 56, 2);
    put_le(f + 56, 1, 2);
    uint8_t *ph = f + 64;
    put_le(ph, 1, 4);                   /* PT_LOAD */
    put_le(ph + 4, 5, 4);               /* R X */
    put_le(ph + 8, 0, 8);
    put_le(ph + 16, vaddr, 8);
    put_le(ph + 24, vaddr, 8);
    put_le(ph + 32, KS_PAGE_SIZE, 8);
    put_le(ph + 40, KS_PAGE_SIZE, 8);
    put_le(ph + 48, KS_PAGE_SIZE, 8);
}

enum { FAKE_GOOD, FAKE_GARBAGE, FAKE_BADPHDR, FAKE_CLASH, FAKE_SHORT, FAKE_COUNT };

static long make_fake_image(uint8_t *page)
{
    static const char *const names[FAKE_COUNT] = { "good", "garbage", "badphdr", "clash", "short" };
    long m = ks_memobj_create(0);
    if (m < 0)
        return m;
    memset(page, 0, KS_PAGE_SIZE);
    struct ks_bootimg_header h = { .count = FAKE_COUNT };
    memcpy(h.magic, KS_BOOTIMG_MAGIC, 8);
    memcpy(page, &h, sizeof h);
    for (int i = 0; i < FAKE_COUNT; i++) {
        struct ks_bootimg_entry e;
        memset(&e, 0, sizeof e);
        memcpy(e.name, names[i], strlen(names[i]) + 1);
        e.offset = (uint64_t)(i + 1) * KS_PAGE_SIZE;
        e.size = i == FAKE_SHORT ? 100 * KS_PAGE_SIZE : KS_PAGE_SIZE;      /* past the image */
        memcpy(page + sizeof h + i * sizeof e, &e, sizeof e);
    }
    long r = ks_memobj_write((ks_handle_t)m, 0, page, KS_PAGE_SIZE);
    /* good: li a0, 61; li a7, KS_SYS_PROCESS_EXIT; ecall -- after the headers */
    make_elf(page, 0x10000, 128);
    put_le(page + 128, 0x03d00513, 4);
    put_le(page + 132, 0x00000893 | (uint32_t)KS_SYS_PROCESS_EXIT << 20, 4);
    put_le(page + 136, 0x00000073, 4);
    if (r >= 0)
        r = ks_memobj_write((ks_handle_t)m, (1 + FAKE_GOOD) * KS_PAGE_SIZE, page, KS_PAGE_SIZE);
    for (int i = 0; i < KS_PAGE_SIZE; i++)
        page[i] = (uint8_t)(i * 151 + 17);
    if (r >= 0)
        r = ks_memobj_write((ks_handle_t)m, (1 + FAKE_GARBAGE) * KS_PAGE_SIZE, page, KS_PAGE_SIZE);
    make_elf(page, 0x10000, 128);
    put_le(page + 32, 5000, 8);         /* program headers beyond the file */
    if (r >= 0)
        r = ks_memobj_write((ks_handle_t)m, (1 + FAKE_BADPHDR) * KS_PAGE_SIZE, page, KS_PAGE_SIZE);
    /* Parses, but its segment sits where the loader puts the stack: fails after process_create. */
    make_elf(page, KS_STACK_TOP - KS_STACK_SIZE, 128);
    if (r >= 0)
        r = ks_memobj_write((ks_handle_t)m, (1 + FAKE_CLASH) * KS_PAGE_SIZE, page, KS_PAGE_SIZE);
    if (r >= 0)
        r = ks_memobj_write((ks_handle_t)m, (1 + FAKE_SHORT) * KS_PAGE_SIZE, page, KS_PAGE_SIZE);
    if (r < 0) {
        ks_handle_close((ks_handle_t)m);
        return r;
    }
    return m;
}

static void process_bad_elf(void)
{
    const char *argv[] = { "fake", NULL };
    uintptr_t page = ulib_map_anon(KS_PAGE_SIZE);
    KT_ASSERT(page);
    long img = make_fake_image((uint8_t *)page);
    KT_ASSERT(img > 0);
    /* The good one runs: the image is sound, so the failures below are the files'. */
    long p = ulib_spawn((ks_handle_t)img, "good", argv, NULL, 0);
    KT_EXPECT(p > 0);
    KT_EXPECT_EQ(wait_close(p), 61);
    struct ks_kstat k = kstat_now();
    KT_EXPECT_EQ(ulib_spawn((ks_handle_t)img, "garbage", argv, NULL, 0), ELF_ERR_MAGIC);
    EXPECT_SAME_KSTAT(&k);
    KT_EXPECT_EQ(ulib_spawn((ks_handle_t)img, "badphdr", argv, NULL, 0), ELF_ERR_PHDRS);
    EXPECT_SAME_KSTAT(&k);
    KT_EXPECT_EQ(ulib_spawn((ks_handle_t)img, "short", argv, NULL, 0), ELF_ERR_TRUNCATED);
    EXPECT_SAME_KSTAT(&k);
    KT_EXPECT_EQ(ulib_spawn((ks_handle_t)img, "clash", argv, NULL, 0), KS_ERR_EXISTS);
    EXPECT_SAME_KSTAT(&k);
    /* Not a boot image at all. */
    long m = ks_memobj_create(KS_PAGE_SIZE);
    KT_EXPECT(m > 0);
    k = kstat_now();
    KT_EXPECT_EQ(ulib_spawn((ks_handle_t)m, "good", argv, NULL, 0), ELF_ERR_MAGIC);
    EXPECT_SAME_KSTAT(&k);
    ks_handle_close((ks_handle_t)m);
    ks_handle_close((ks_handle_t)img);
    UNMAP(page, KS_PAGE_SIZE);
}

/* li a0, 61; li a7, KS_SYS_PROCESS_EXIT; ecall */
static const uint32_t exit61_code[] = {
    0x03d00513, 0x00000893 | (uint32_t)KS_SYS_PROCESS_EXIT << 20, 0x00000073,
};

/* A process built by hand: process_create, vm_map into it, thread_create in it. */
static void process_handmade(void)
{
    struct ks_kstat k = kstat_now();
    long code = ks_memobj_create(0);
    KT_ASSERT(code > 0);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)code, 0, exit61_code, sizeof exit61_code), sizeof exit61_code);
    long q = ks_process_create("handmade", 8);
    KT_ASSERT(q > 0);
    KT_EXPECT_EQ(ks_vm_map((ks_handle_t)q, (ks_handle_t)code, 0, 0x10000, KS_PAGE_SIZE,
                           KS_PROT_READ | KS_PROT_EXEC | KS_MAP_PRIVATE | KS_MAP_FIXED), 0x10000);
    /* Not mapped here: the mapping went into the other address space. */
    KT_EXPECT_EQ(ks_vm_protect(KS_PROCESS_SELF, 0x10000000, KS_PAGE_SIZE, KS_PROT_READ), KS_ERR_RANGE);
    long t = ks_thread_create((ks_handle_t)q, (void *)0x10000, (void *)0x20000, 0);
    KT_EXPECT(t > 0);
    if (t > 0) {
        KT_EXPECT_EQ(ks_thread_join((ks_handle_t)t), 61);
        ks_handle_close((ks_handle_t)t);
    }
    KT_EXPECT_EQ(wait_close(q), 61);

    /* A thread started where nothing is mapped dies of it. */
    q = ks_process_create("nocode", 6);
    KT_ASSERT(q > 0);
    t = ks_thread_create((ks_handle_t)q, (void *)0x10000, (void *)0x20000, 0);
    KT_EXPECT(t > 0);
    ks_handle_close((ks_handle_t)t);
    KT_EXPECT_EQ(wait_close(q), KILLED(KS_KILL_PAGE_FAULT));

    /* An empty process can be killed; a dead one takes no threads or mappings. */
    q = ks_process_create("empty", 5);
    KT_ASSERT(q > 0);
    KT_EXPECT_EQ(ks_process_kill((ks_handle_t)q), 0);
    uint64_t st = 0;
    KT_EXPECT_EQ(ks_process_wait((ks_handle_t)q, &st), 0);
    KT_EXPECT_EQ(st, KILLED(KS_KILL_BY_REQUEST));
    KT_EXPECT_EQ(ks_thread_create((ks_handle_t)q, (void *)0x10000, (void *)0x20000, 0), KS_ERR_BAD_STATE);
    KT_EXPECT_EQ(ks_vm_map((ks_handle_t)q, (ks_handle_t)code, 0, 0x10000, KS_PAGE_SIZE,
                           KS_PROT_READ | KS_MAP_PRIVATE | KS_MAP_FIXED), KS_ERR_BAD_STATE);
    KT_EXPECT_EQ(ks_vm_unmap((ks_handle_t)q, 0x10000, KS_PAGE_SIZE), KS_ERR_BAD_STATE);
    KT_EXPECT_EQ(ks_handle_transfer((ks_handle_t)q, (ks_handle_t)code, KS_RIGHT_READ, 0), KS_ERR_BAD_STATE);
    ks_handle_close((ks_handle_t)q);
    ks_handle_close((ks_handle_t)code);
    EXPECT_SAME_KSTAT(&k);
}

static void process_transfer(void)
{
    struct ks_kstat k = kstat_now();
    long q = ks_process_create("holder", 6);
    KT_ASSERT(q > 0);
    long m = ks_memobj_create(0);
    KT_ASSERT(m > 0);
    /* Copy: both hold it; the rights asked for must be a subset. */
    long in = ks_handle_transfer((ks_handle_t)q, (ks_handle_t)m, KS_RIGHT_READ, 0);
    KT_EXPECT(in > 0);
    KT_EXPECT_EQ(ks_handle_transfer((ks_handle_t)q, (ks_handle_t)m, 1u << 12, 0), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_handle_transfer((ks_handle_t)q, (ks_handle_t)m, KS_RIGHT_READ, 2), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_handle_transfer((ks_handle_t)q, KS_THREAD_SELF, KS_RIGHT_READ, 0), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_handle_transfer((ks_handle_t)q, KS_PROCESS_SELF, KS_RIGHT_READ, 0), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 0);
    /* Move: ours is gone. */
    long in2 = ks_handle_transfer((ks_handle_t)q, (ks_handle_t)m, KS_RIGHTS_ALL & 0x3f, KS_TRANSFER_MOVE);
    KT_EXPECT(in2 > 0 && in2 != in);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), KS_ERR_BAD_HANDLE);
    /* Into our own table: a duplicate by another name. */
    long v = ks_memobj_create(0);
    KT_ASSERT(v > 0);
    long mine = ks_handle_transfer(KS_PROCESS_SELF, (ks_handle_t)v, KS_RIGHT_READ, 0);
    KT_EXPECT(mine > 0 && mine != v);
    KT_EXPECT_EQ(ks_handle_info((ks_handle_t)mine), KS_OBJ_MEMOBJ << 16 | KS_RIGHT_READ);
    KT_EXPECT_EQ(ks_handle_transfer((ks_handle_t)q, (ks_handle_t)mine, KS_RIGHT_READ, 0), KS_ERR_ACCESS);
    ks_handle_close((ks_handle_t)mine);
    ks_handle_close((ks_handle_t)v);
    /* Transfers need MANAGE on the process. */
    long weak = ks_handle_duplicate((ks_handle_t)q, KS_RIGHTS_ALL & ~KS_RIGHT_MANAGE);
    KT_EXPECT(weak > 0);
    long v2 = ks_memobj_create(0);
    KT_EXPECT_EQ(ks_handle_transfer((ks_handle_t)weak, (ks_handle_t)v2, KS_RIGHT_READ, 0), KS_ERR_ACCESS);
    ks_handle_close((ks_handle_t)v2);
    ks_handle_close((ks_handle_t)weak);
    /* The memobj lives in q's table until q ends. */
    ks_handle_close((ks_handle_t)q);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * A process may not receive a handle to itself (it could then never be freed:
 * the handle would keep it alive); KS_PROCESS_SELF serves instead.
 */
static void process_self_handle(void)
{
    struct ks_kstat k = kstat_now();
    long q = ks_process_create("selfref", 7);
    KT_ASSERT(q > 0);
    KT_EXPECT_EQ(ks_handle_transfer((ks_handle_t)q, (ks_handle_t)q, KS_RIGHTS_ALL, 0), KS_ERR_INVALID);
    ks_handle_close((ks_handle_t)q);
    struct ks_kstat after = kstat_now();
    /* If it stays, nothing can free it: leak.whole_run is told how much that is. */
    known_leak.objects += after.objects - k.objects;
    known_leak.heap_objects += after.heap_objects - k.heap_objects;
    known_leak.free_pages += k.free_pages - after.free_pages;
    EXPECT_SAME_KSTAT(&k);
}

/*
 * Run a hand-made process whose code (at 0x10000) loads a word from 0x20000,
 * where a page is mapped with `flags` (prot and sharing), then exits with 61. We give it 300 ms,
 * then kill it (a no-op if it has ended); its status.
 */
static uint64_t run_load_probe(uint32_t flags)
{
    static const uint32_t code[] = {
        0x00020537,                     /* lui a0, 0x20 */
        0x00052583,                     /* lw a1, 0(a0) */
        0x03d00513,                     /* li a0, 61 */
        0x00000893 | (uint32_t)KS_SYS_PROCESS_EXIT << 20,
        0x00000073,                     /* ecall */
    };
    uint64_t st = ~0ull;
    long text = ks_memobj_create(0), data = ks_memobj_create(KS_PAGE_SIZE);
    long q = ks_process_create("probe", 5);
    if (text > 0 && data > 0 && q > 0 &&
        ks_memobj_write((ks_handle_t)text, 0, code, sizeof code) == sizeof code &&
        ks_vm_map((ks_handle_t)q, (ks_handle_t)text, 0, 0x10000, KS_PAGE_SIZE,
                  KS_PROT_READ | KS_PROT_EXEC | KS_MAP_PRIVATE | KS_MAP_FIXED) == 0x10000 &&
        ks_vm_map((ks_handle_t)q, (ks_handle_t)data, 0, 0x20000, KS_PAGE_SIZE,
                  flags | KS_MAP_FIXED) == 0x20000) {
        long t = ks_thread_create((ks_handle_t)q, (void *)0x10000, (void *)0x30000, 0);
        if (t > 0) {
            ks_handle_close((ks_handle_t)t);
            ks_thread_sleep(300 * MS);
            ks_process_kill((ks_handle_t)q);
            ks_process_wait((ks_handle_t)q, &st);
        }
    }
    ks_handle_close((ks_handle_t)q);
    ks_handle_close((ks_handle_t)text);
    ks_handle_close((ks_handle_t)data);
    return st;
}

/*
 * Loads from pages mapped without PROT_READ. vm_fault lets any mapping be read
 * (access_allowed: READ, WRITE or EXEC will do), and a shared PROT_WRITE page is
 * mapped readable (W needs R in Sv48), so a load must work -- or, if a mapping
 * is meant not to be readable, kill the process with a page fault. It must not
 * fault forever, and it must not depend on whether the mapping is private.
 */
static void process_write_only_read(void)
{
    struct ks_kstat k = kstat_now();
    /* The probe itself works. */
    KT_EXPECT_EQ(run_load_probe(KS_PROT_READ | KS_MAP_PRIVATE), 61);
    KT_EXPECT_EQ(run_load_probe(KS_PROT_READ | KS_PROT_EXEC | KS_MAP_SHARED), 61);
    /* Write-only: readable when shared, so when private too. */
    KT_EXPECT_EQ(run_load_probe(KS_PROT_WRITE | KS_MAP_SHARED), 61);
    KT_EXPECT_EQ(run_load_probe(KS_PROT_WRITE | KS_MAP_PRIVATE), 61);
    EXPECT_SAME_KSTAT(&k);
}

static void process_exec_only_read(void)
{
    struct ks_kstat k = kstat_now();
    for (int shared = 0; shared < 2; shared++) {
        uint64_t st = run_load_probe(KS_PROT_EXEC | (shared ? KS_MAP_SHARED : KS_MAP_PRIVATE));
        if (st != 61 && st != KILLED(KS_KILL_PAGE_FAULT))
            ktest_fail(__FILE__, __LINE__, "exec-only %s: status 0x%lx%s", shared ? "shared" : "private",
                       (unsigned long)st, st == KILLED(KS_KILL_BY_REQUEST) ?
                       " (still faulting on the load after 300 ms: livelock)" : "");
    }
    EXPECT_SAME_KSTAT(&k);
}

/* A child whose handle we close at once runs to its end and leaves nothing behind. */
static void process_orphan(void)
{
    struct ks_kstat k = kstat_now();
    long m = ks_memobj_create(KS_PAGE_SIZE);
    KT_ASSERT(m > 0);
    ks_handle_t given = (ks_handle_t)m;
    long p = spawn_child("share", NULL, &given, 1);         /* it fails (no pattern), but runs */
    KT_ASSERT(p > 0);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)p), 0);
    uint8_t c = 0;
    for (int i = 0; i < 100 && c == 0; i++) {
        ks_thread_sleep(2 * MS);
        ks_memobj_read((ks_handle_t)m, 0, &c, 1);
    }
    ks_thread_sleep(20 * MS);
    ks_handle_close((ks_handle_t)m);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * Killing a process whose thread has been created but has not run yet: once
 * process_kill has returned, the process must not run user code any more. Its
 * code makes a system call we can see from here -- debug_write(NULL, 0), which
 * prints nothing but counts in ks_kstat's debug_write_calls -- then exits with 61.
 */
static void process_kill_before_start(void)
{
    static const uint32_t code[] = {
        0x00000513,                     /* li a0, 0 */
        0x00000593,                     /* li a1, 0 */
        0x00000893 | (uint32_t)KS_SYS_DEBUG_WRITE << 20,
        0x00000073,                     /* ecall */
        0x03d00513,                     /* li a0, 61 */
        0x00000893 | (uint32_t)KS_SYS_PROCESS_EXIT << 20,
        0x00000073,                     /* ecall */
    };
    ulib_flush();
    struct ks_kstat k = kstat_now();
    long text = ks_memobj_create(0);
    KT_ASSERT(text > 0);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)text, 0, code, sizeof code), sizeof code);
    for (int kill = 0; kill < 2; kill++) {
        long q = ks_process_create("victim", 6);
        KT_ASSERT(q > 0);
        KT_EXPECT_EQ(ks_vm_map((ks_handle_t)q, (ks_handle_t)text, 0, 0x10000, KS_PAGE_SIZE,
                               KS_PROT_READ | KS_PROT_EXEC | KS_MAP_PRIVATE | KS_MAP_FIXED), 0x10000);
        struct ks_kstat before = kstat_now();
        long t = ks_thread_create((ks_handle_t)q, (void *)0x10000, (void *)0x30000, 0);
        KT_EXPECT(t > 0);
        ks_handle_close((ks_handle_t)t);
        if (kill)       /* at once: the new thread has not been scheduled yet */
            KT_EXPECT_EQ(ks_process_kill((ks_handle_t)q), 0);
        uint64_t st = wait_close(q);
        uint64_t calls = kstat_now().debug_write_calls - before.debug_write_calls;
        if (!kill) {            /* the control: left alone, it makes the call and exits */
            KT_EXPECT_EQ(st, 61);
            KT_EXPECT_EQ(calls, 1);
        } else {
            KT_EXPECT_EQ(st, KILLED(KS_KILL_BY_REQUEST));
            if (calls != 0)
                ktest_fail(__FILE__, __LINE__, "killed before it ran, it still made %lu system call(s)",
                           (unsigned long)calls);
        }
    }
    ks_handle_close((ks_handle_t)text);
    EXPECT_SAME_KSTAT(&k);
}
/* (Today the new thread's first instruction fetch faults -- pages are mapped on
 * first touch -- and the fault path notices the kill, so the call is never made.) */

static void process_killed_misaligned(void)
{
    KT_EXPECT_EQ(run_child("misaligned", NULL, NULL, 0), KILLED(KS_KILL_MISALIGNED));
}

/* A forked child's start: it reports in the page both see (shared) and in its own copy, and exits. */
static volatile uint64_t fork_private = 1;

static void forked_child(long shared)
{
    volatile uint64_t *word = (volatile uint64_t *)shared;
    word[0] = fork_private;                     /* what the parent had: 7 */
    fork_private = 99;                          /* its own copy: the parent keeps 7 */
    struct ks_ids ids;
    word[1] = ks_self_ids(&ids) == 0 ? ids.parent_pid : 0;
    ks_process_exit(5);
}

/* A forked child that reports a stop by SIGSTOP, then waits to be killed. */
static void stopping_child(long unused)
{
    ks_process_stopped(19);
    for (;;)
        ks_thread_sleep(1000 * MS);
}

/*
 * KS_SYS_PROCESS_ON_EXIT after the child already reported a stop (a fork's
 * child can run before its parent asks): the bits are raised at once, as
 * for a stop after the call; KS_WAIT_PEEK leaves the report to a wait.
 */
static void process_on_exit_after_stop(void)
{
    struct ks_kstat k = kstat_now();
    uintptr_t stack = ulib_map_anon(16 << 10);
    KT_ASSERT(stack);
    uint64_t bit = 1ull << 40, old[2], status = 0;
    KT_ASSERT(ks_upcall_mask(KS_MASK_BLOCK, bit, old) == 0);
    long p = ks_process_fork((void *)stopping_child, (void *)(stack + (16 << 10)), 0, NULL);
    KT_ASSERT(p > 0);
    KT_EXPECT_EQ(ks_process_wait_flags((ks_handle_t)p, &status, KS_WAIT_STOPPED | KS_WAIT_PEEK), 0);
    KT_EXPECT_EQ(status, KS_STATUS_STOPPED | 19);
    KT_EXPECT_EQ(ks_upcall_take(bit, 0), KS_ERR_TIMED_OUT);    /* nobody asked yet */
    KT_EXPECT_EQ(ks_process_on_exit((ks_handle_t)p, bit), 0);
    KT_EXPECT_EQ(ks_upcall_take(bit, 0) & 0xff, 40);           /* told now */
    KT_EXPECT_EQ(ks_process_wait_flags((ks_handle_t)p, &status, KS_WAIT_STOPPED | KS_WAIT_NOHANG), 0);
    KT_EXPECT_EQ(status, KS_STATUS_STOPPED | 19);              /* (the peek left it) */
    KT_EXPECT_EQ(ks_process_kill((ks_handle_t)p), 0);
    KT_EXPECT_EQ(ks_process_wait((ks_handle_t)p, &status), 0);
    KT_EXPECT_EQ(ks_upcall_take(bit, 0) & 0xff, 40);           /* and its end */
    ks_upcall_mask(KS_MASK_SET, old[0], NULL);
    ks_handle_close((ks_handle_t)p);
    UNMAP(stack, 16 << 10);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * KS_SYS_PROCESS_FORK natively: the child sees the parent's memory as it
 * was, a shared mapping stays shared, a private write stays its own, the
 * pid comes back, its parent is us, its handles are ours at the same values;
 * bad arguments are refused with nothing made.
 */
static void process_fork(void)
{
    struct ks_kstat k = kstat_now();
    long m = ks_memobj_create(KS_PAGE_SIZE);
    KT_ASSERT(m > 0);
    long at = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, KS_PAGE_SIZE,
                        KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    KT_ASSERT(at > 0);
    volatile uint64_t *word = (volatile uint64_t *)at;
    uintptr_t stack = ulib_map_anon(16 << 10);
    KT_ASSERT(stack);
    fork_private = 7;
    uint32_t pid = 0;
    struct ks_ids me;
    KT_ASSERT(ks_self_ids(&me) == 0);
    long p = ks_process_fork((void *)forked_child, (void *)(stack + (16 << 10)), at, &pid);
    KT_ASSERT(p > 0);
    uint64_t status = 0;
    KT_EXPECT_EQ(ks_process_wait((ks_handle_t)p, &status), 0);
    KT_EXPECT_EQ(status, 5);
    KT_EXPECT_EQ(word[0], 7);
    KT_EXPECT_EQ(word[1], me.pid);
    KT_EXPECT_EQ(fork_private, 7);
    KT_EXPECT(pid > me.pid);
    ks_handle_close((ks_handle_t)p);
    KT_EXPECT_EQ(ks_process_fork((void *)0, (void *)stack, 0, NULL), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_process_fork((void *)0xffffffff80200000ul, (void *)stack, 0, NULL), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_process_fork((void *)forked_child, (void *)stack, 0, (uint32_t *)0x1000), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_process_wait_flags(KS_PROCESS_SELF, &status, 1u << 4), KS_ERR_INVALID);  /* (the first flag there is not) */
    KT_EXPECT_EQ(ks_process_stopped(65), KS_ERR_INVALID);    /* signals are 1..64 */
    KT_EXPECT_EQ(ks_process_stopped(0), 0);                  /* a continue with no stop: nothing */
    UNMAP(stack, 16 << 10);
    UNMAP(at, KS_PAGE_SIZE);
    ks_handle_close((ks_handle_t)m);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * The exec'ing child: first it tries its parent's image (made under the
 * parent, not under it: refused), then makes its own (exit61_code mapped at
 * 0x10000) and becomes it, ending with status 61. arg: the shared page, where
 * word 0 gets the refusal and word 1 the handle it inherited is taken from.
 */
static void exec_child(long shared)
{
    volatile uint64_t *word = (volatile uint64_t *)shared;
    word[0] = (uint64_t)ks_process_exec((ks_handle_t)word[1], 0x10000, 0x20000);
    long code = ks_memobj_create(0), q = ks_process_create("exec61", 6);
    if (code < 0 || q < 0 ||
        ks_memobj_write((ks_handle_t)code, 0, exit61_code, sizeof exit61_code) != sizeof exit61_code ||
        ks_vm_map((ks_handle_t)q, (ks_handle_t)code, 0, 0x10000, KS_PAGE_SIZE,
                  KS_PROT_READ | KS_PROT_EXEC | KS_MAP_PRIVATE | KS_MAP_FIXED) != 0x10000)
        ks_process_exit(1);
    ks_process_exec((ks_handle_t)q, 0x10000, 0x20000);
    ks_process_exit(2);                 /* exec failed */
}

/*
 * KS_SYS_PROCESS_EXEC natively: a forked child becomes a hand-made image and
 * ends with its status; the refusals leave everything as it was.
 */
static void process_exec(void)
{
    struct ks_kstat k = kstat_now();
    long m = ks_memobj_create(KS_PAGE_SIZE), q = ks_process_create("unrun", 5);
    KT_ASSERT(m > 0 && q > 0);
    long at = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, KS_PAGE_SIZE,
                        KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    KT_ASSERT(at > 0);
    volatile uint64_t *word = (volatile uint64_t *)at;
    word[1] = (uint64_t)q;
    uintptr_t stack = ulib_map_anon(16 << 10);
    KT_ASSERT(stack);
    long c = ks_process_fork((void *)exec_child, (void *)(stack + (16 << 10)), at, NULL);
    KT_ASSERT(c > 0);
    KT_EXPECT_EQ(wait_close(c), 61);
    KT_EXPECT_EQ(word[0], (uint64_t)KS_ERR_BAD_STATE);     /* not made under the child */
    KT_EXPECT_EQ(ks_process_exec(KS_PROCESS_SELF, 0x10000, 0x20000), KS_ERR_BAD_STATE);
    KT_EXPECT_EQ(ks_process_exec((ks_handle_t)m, 0x10000, 0x20000), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_process_exec((ks_handle_t)q, 0, 0x20000), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_process_exec((ks_handle_t)q, 0x10000, 0xffffffff80200000ul), KS_ERR_RANGE);
    long weak = ks_handle_duplicate((ks_handle_t)q, KS_RIGHT_READ | KS_RIGHT_WAIT);
    KT_EXPECT(weak > 0);
    KT_EXPECT_EQ(ks_process_exec((ks_handle_t)weak, 0x10000, 0x20000), KS_ERR_ACCESS);
    ks_handle_close((ks_handle_t)weak);
    KT_EXPECT_EQ(ks_process_kill((ks_handle_t)q), 0);      /* dead: no longer an image */
    KT_EXPECT_EQ(ks_process_exec((ks_handle_t)q, 0x10000, 0x20000), KS_ERR_BAD_STATE);
    ks_handle_close((ks_handle_t)q);
    UNMAP(stack, 16 << 10);
    UNMAP(at, KS_PAGE_SIZE);
    ks_handle_close((ks_handle_t)m);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * Signals by number and group numbers: every argument the kernel refuses, a
 * pid nobody has, and the caller itself in its own reach with its group as
 * KS_SYS_SELF_IDS reports it (a fresh child's kill tests are mproc's).
 */
static void process_signal_by_number(void)
{
    KT_EXPECT_EQ(ks_process_signal(3, 1, 0, 0), KS_ERR_INVALID);                   /* no such kind */
    KT_EXPECT_EQ(ks_process_signal(KS_SIGNAL_PID, 1, 0, 2), KS_ERR_INVALID);       /* no such flag */
    KT_EXPECT_EQ(KS4(KS_SYS_PROCESS_SIGNAL, KS_SIGNAL_PID, 1ull << 32, 0, 0), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_process_signal(KS_SIGNAL_PID, 1, 7, KS_SIGNAL_KILL), KS_ERR_INVALID);  /* no cause */
    KT_EXPECT_EQ(ks_process_signal(KS_SIGNAL_PID, 0xfffffff0u, 0, 0), KS_ERR_NO_PROCESS);
    struct ks_ids ids;
    KT_ASSERT(ks_self_ids(&ids) == 0);
    KT_EXPECT_EQ(ks_process_signal(KS_SIGNAL_PID, ids.pid, 0, 0), 1);               /* ourselves */
    KT_EXPECT_EQ(ks_process_group(KS_PROCESS_SELF, 0), KS_ERR_INVALID);
    KT_EXPECT_EQ(KS2(KS_SYS_PROCESS_GROUP, KS_PROCESS_SELF, 1ull << 32), KS_ERR_INVALID);
    long weak = ks_handle_duplicate(KS_PROCESS_SELF, KS_RIGHT_SIGNAL);
    KT_ASSERT(weak > 0);
    KT_EXPECT_EQ(ks_process_group((ks_handle_t)weak, 12345), KS_ERR_ACCESS);        /* needs MANAGE */
    ks_handle_close((ks_handle_t)weak);
    uint32_t was = ids.group;
    KT_EXPECT_EQ(ks_process_group(KS_PROCESS_SELF, 12345), 0);
    KT_EXPECT(ks_self_ids(&ids) == 0 && ids.group == 12345);
    KT_EXPECT_EQ(ks_process_signal(KS_SIGNAL_GROUP, 0, 0, 0), 1);                  /* 0: our group */
    KT_EXPECT_EQ(ks_process_signal(KS_SIGNAL_GROUP, 12345, 0, 0), 1);
    KT_EXPECT_EQ(ks_process_group(KS_PROCESS_SELF, was), 0);
    KT_EXPECT_EQ(ks_process_signal(KS_SIGNAL_GROUP, 12345, 0, 0), KS_ERR_NO_PROCESS);
}

static const struct ktest_case process_cases[] = {
    { "fork", process_fork },
    { "on_exit_after_stop", process_on_exit_after_stop },
    { "exec", process_exec },
    { "exit_status", process_exit_status },
    { "killed_page_fault", process_killed_faults },
    { "killed_illegal", process_killed_illegal },
    { "killed_misaligned", process_killed_misaligned },
    { "kill_spinning", process_kill_spinning },
    { "kill_sleeping", process_kill_sleeping },
    { "threads", process_threads },
    { "survivor", process_survivor },
    { "wait_bad_status", process_wait_bad_status },
    { "spawn_missing", process_spawn_missing },
    { "bad_elf", process_bad_elf },
    { "handmade", process_handmade },
    { "transfer", process_transfer },
    { "orphan", process_orphan },
    { "kill_before_start", process_kill_before_start },
    { "self_handle", process_self_handle },
    { "write_only_read", process_write_only_read },
    { "exec_only_read", process_exec_only_read },
    { "signal_by_number", process_signal_by_number },
};
KTEST_SUITE(process_suite, "process", process_cases);

/* ---- memobj ---- */

static void memobj_basic(void)
{
    static uint8_t buf[300];
    long m = ks_memobj_create(100);
    KT_ASSERT(m > 0);
    KT_EXPECT_EQ(KS_INFO_TYPE(ks_handle_info((ks_handle_t)m)), KS_OBJ_MEMOBJ);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 100);
    /* A fresh memobj reads as zeros. */
    memset(buf, 0xee, sizeof buf);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, buf, 100), 100);
    for (int i = 0; i < 100; i++)
        if (buf[i] != 0) {
            KT_EXPECT_EQ(buf[i], 0);
            break;
        }
    KT_EXPECT_EQ(buf[100], 0xee);
    /* Write inside, read back. */
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 10, "hello", 5), 5);
    memset(buf, 0, sizeof buf);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 8, buf, 10), 10);
    KT_EXPECT(memcmp(buf, "\0\0hello\0\0\0", 10) == 0);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 100);
    /* Reads at or past the end give 0 bytes; across the end, the rest. */
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 100, buf, 10), 0);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 5000, buf, 10), 0);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 95, buf, 10), 5);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, buf, 0), 0);
    /* A write past the end grows it; the gap reads as zeros. */
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 150, "world", 5), 5);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 155);
    memset(buf, 0xee, sizeof buf);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 98, buf, 200), 57);
    int gap_zero = 1;
    for (int i = 0; i < 52; i++)
        gap_zero &= buf[i] == 0;
    KT_EXPECT(gap_zero);
    KT_EXPECT(memcmp(buf + 52, "world", 5) == 0);
    KT_EXPECT_EQ(buf[57], 0xee);
    /* A write crossing a page boundary, far out. */
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 3 * KS_PAGE_SIZE - 2, "abcd", 4), 4);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 3 * KS_PAGE_SIZE + 2);
    memset(buf, 0, sizeof buf);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 3 * KS_PAGE_SIZE - 2, buf, 16), 4);
    KT_EXPECT(memcmp(buf, "abcd", 4) == 0);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
}

/*
 * KS_SYS_MEMOBJ_STAT: the size, and when the bytes or the size last changed.
 * A write (memobj or view) or a truncate moves that time; a read, a write of
 * nothing or one that fails does not; CLEAR forgets it, and needs WRITE.
 */
static void memobj_changed(void)
{
    struct ks_kstat k = kstat_now();
    long m = ks_memobj_create(100);
    KT_ASSERT(m > 0);
    ks_handle_t h = (ks_handle_t)m;
    struct ks_memobj_stat st = { 1, 1 };
    KT_EXPECT_EQ(ks_memobj_stat(h, &st, 0), 0);
    KT_EXPECT_EQ(st.size, 100);
    KT_EXPECT_EQ(st.changed_ns, 0);             /* made, not changed */
    uint64_t t0 = (uint64_t)ks_clock_ns();
    KT_EXPECT_EQ(ks_memobj_write(h, 10, "abc", 3), 3);
    uint64_t t1 = (uint64_t)ks_clock_ns();
    KT_EXPECT_EQ(ks_memobj_stat(h, &st, 0), 0);
    KT_EXPECT(st.changed_ns >= t0 && st.changed_ns <= t1);
    uint64_t was = st.changed_ns;
    ks_thread_sleep(1 * MS);
    char buf[4];
    KT_EXPECT_EQ(ks_memobj_read(h, 0, buf, 4), 4);
    KT_EXPECT_EQ(ks_memobj_write(h, 0, buf, 0), 0);
    KT_EXPECT_EQ(ks_memobj_write(h, 0, (void *)UNMAPPED_ADDR, 4), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_memobj_stat(h, &st, 0), 0);
    KT_EXPECT_EQ(st.changed_ns, was);           /* none of those changed it */
    long v = ks_view_create(h, KS_RIGHT_READ | KS_RIGHT_WRITE);
    KT_ASSERT(v > 0);
    KT_EXPECT_EQ(ks_view_write((ks_handle_t)v, "x", 1), 1);
    KT_EXPECT_EQ(ks_memobj_stat(h, &st, 0), 0);
    KT_EXPECT(st.changed_ns > was);             /* a view's write */
    was = st.changed_ns;
    ks_thread_sleep(1 * MS);
    KT_EXPECT_EQ(ks_memobj_truncate(h, 100), 0);
    KT_EXPECT_EQ(ks_memobj_stat(h, &st, 0), 0);
    KT_EXPECT(st.changed_ns > was);             /* a truncate, even to the size it had */
    KT_EXPECT_EQ(ks_memobj_truncate(h, 5000), 0);
    KT_EXPECT_EQ(ks_memobj_stat(h, &st, KS_MEMOBJ_STAT_CLEAR), 0);
    KT_EXPECT_EQ(st.size, 5000);
    KT_EXPECT(st.changed_ns > was);             /* what CLEAR forgets, it gives first */
    KT_EXPECT_EQ(ks_memobj_stat(h, &st, 0), 0);
    KT_EXPECT_EQ(st.changed_ns, 0);
    /* Rights, flags, types. */
    long ro = ks_handle_duplicate(h, KS_RIGHT_READ);
    long wo = ks_handle_duplicate(h, KS_RIGHT_WRITE);
    KT_ASSERT(ro > 0 && wo > 0);
    KT_EXPECT_EQ(ks_memobj_stat((ks_handle_t)ro, &st, 0), 0);
    KT_EXPECT_EQ(ks_memobj_stat((ks_handle_t)ro, &st, KS_MEMOBJ_STAT_CLEAR), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_memobj_stat((ks_handle_t)wo, &st, 0), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_memobj_stat(h, &st, 2), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_memobj_stat((ks_handle_t)v, &st, 0), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_memobj_write(h, 0, "y", 1), 1);
    KT_EXPECT_EQ(ks_memobj_stat(h, (void *)UNMAPPED_ADDR, KS_MEMOBJ_STAT_CLEAR), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_memobj_stat(h, &st, 0), 0);
    KT_EXPECT(st.changed_ns != 0);              /* a CLEAR that could not answer forgot nothing */
    ks_handle_close((ks_handle_t)ro);
    ks_handle_close((ks_handle_t)wo);
    ks_handle_close((ks_handle_t)v);
    ks_handle_close(h);
    EXPECT_SAME_KSTAT(&k);
}

static void memobj_truncate(void)
{
    static uint8_t buf[3 * KS_PAGE_SIZE];
    long m = ks_memobj_create(0);
    KT_ASSERT(m > 0);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 0);
    for (uint64_t i = 0; i < sizeof buf; i++)
        buf[i] = parent_byte(i);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 0, buf, sizeof buf), sizeof buf);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), sizeof buf);
    /* Down to the middle of the first page, then back up past the old end. */
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)m, 1000), 0);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 1000);
    memset(buf, 0xee, sizeof buf);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, buf, sizeof buf), 1000);
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)m, 4 * KS_PAGE_SIZE), 0);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 4 * KS_PAGE_SIZE);
    memset(buf, 0xee, sizeof buf);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, buf, sizeof buf), sizeof buf);
    uint64_t bad = ~0ull;
    for (uint64_t i = 0; i < sizeof buf && bad == ~0ull; i++)
        if (buf[i] != (i < 1000 ? parent_byte(i) : 0))
            bad = i;
    KT_EXPECT_EQ(bad, ~0ull);
    /* Truncate to zero: nothing left to read. */
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)m, 0), 0);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, buf, 10), 0);
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)m, 10), 0);
    memset(buf, 0xee, 10);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, buf, 10), 10);
    KT_EXPECT_EQ(buf[0] | buf[9], 0);
    /* Beyond the 1 TiB limit. */
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)m, (1ull << 40) + 1), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_memobj_create((1ull << 40) + 1), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
}

/* memobj_read into a large mapped buffer whose pages are not faulted in yet. */
/*
 * memobj_read into a big page-aligned buffer: first into pages never touched
 * (the kernel's copy faults them in), then into pages that were only read, so
 * map the shared zero page read-only (the copy must get private pages, not
 * write into the zero page: a fresh mapping still reads zeros afterwards).
 */
static void memobj_read_big(void)
{
    enum { LEN = 64 * KS_PAGE_SIZE };
    long m = ks_memobj_create(0);
    KT_ASSERT(m > 0);
    uintptr_t src = ulib_map_anon(LEN), dst = ulib_map_anon(LEN), dst2 = ulib_map_anon(LEN);
    KT_ASSERT(src && dst && dst2);
    uint8_t *s = (uint8_t *)src, *d = (uint8_t *)dst;
    for (uint64_t i = 0; i < LEN; i++)
        s[i] = parent_byte(i);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 0, s, LEN), LEN);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, d, LEN), LEN);
    KT_EXPECT(memcmp(s, d, LEN) == 0);
    /* Unaligned offset and length, into the middle of the buffer. */
    memset(d, 0, LEN);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 4095, d + 1, LEN - 5000), LEN - 5000);
    KT_EXPECT(memcmp(s + 4095, d + 1, LEN - 5000) == 0);
    KT_EXPECT_EQ(d[0], 0);
    KT_EXPECT_EQ(d[LEN - 5000 + 1], 0);
    /* Into read-faulted (zero page) memory. */
    const volatile uint8_t *z = (const volatile uint8_t *)dst2;
    uint64_t nonzero = ~0ull;
    for (uint64_t i = 0; i < LEN; i += KS_PAGE_SIZE)
        if (z[i] != 0)
            nonzero = i;
    KT_EXPECT_EQ(nonzero, ~0ull);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, (void *)dst2, LEN), LEN);
    KT_EXPECT(memcmp(s, (const void *)dst2, LEN) == 0);
    uintptr_t fresh = ulib_map_anon(LEN);
    KT_EXPECT(fresh);
    if (fresh) {
        KT_EXPECT_EQ(first_mismatch((const volatile uint8_t *)fresh, 0, LEN, zero_byte), ~0ull);
        UNMAP(fresh, LEN);
    }
    UNMAP(src, LEN);
    UNMAP(dst, LEN);
    UNMAP(dst2, LEN);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
}

/*
 * A write whose source runs into unmapped memory partway fails (or comes up
 * short), and what it did not report writing must not be in the memobj: the
 * bytes past the memobj's size must still read as zeros once it grows.
 */
static void memobj_failed_write(void)
{
    /* Two pages, the second unmapped: src is 4 good bytes, then nothing. */
    uintptr_t a = ulib_map_anon(2 * KS_PAGE_SIZE);
    KT_ASSERT(a);
    UNMAP(a + KS_PAGE_SIZE, KS_PAGE_SIZE);
    uint8_t *src = (uint8_t *)(a + KS_PAGE_SIZE - 4);
    memcpy(src, "AAAA", 4);
    long m = ks_memobj_create(0);
    KT_ASSERT(m > 0);
    long r = ks_memobj_write((ks_handle_t)m, 0, src, 8);
    KT_EXPECT(r == KS_ERR_FAULT || (r >= 0 && r <= 4));
    long reported = r > 0 ? r : 0;
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), reported);
    /* Grow it, by a write further on and by truncate. */
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 100, "x", 1), 1);
    uint8_t b[8];
    memset(b, 0xee, sizeof b);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, b, 8), 8);
    uint64_t bad = ~0ull;
    for (long i = reported; i < 8 && bad == ~0ull; i++)
        if (b[i] != 0)
            bad = (uint64_t)i;
    if (bad != ~0ull)
        ktest_fail(__FILE__, __LINE__, "write returned %ld, but byte %lu reads 0x%x after growing", r,
                   (unsigned long)bad, b[bad]);
    /* The same through a view, at an offset past the end. */
    long v = ks_view_create((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_WRITE);
    KT_EXPECT(v > 0);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 3 * KS_PAGE_SIZE, KS_SEEK_SET), 3 * KS_PAGE_SIZE);
    r = ks_view_write((ks_handle_t)v, src, 8);
    KT_EXPECT(r == KS_ERR_FAULT || (r >= 0 && r <= 4));
    reported = r > 0 ? r : 0;
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)m, 4 * KS_PAGE_SIZE), 0);
    memset(b, 0xee, sizeof b);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 3 * KS_PAGE_SIZE, b, 8), 8);
    bad = ~0ull;
    for (long i = reported; i < 8 && bad == ~0ull; i++)
        if (b[i] != 0)
            bad = (uint64_t)i;
    if (bad != ~0ull)
        ktest_fail(__FILE__, __LINE__, "view write returned %ld, but byte %lu reads 0x%x after truncate up",
                   r, (unsigned long)bad, b[bad]);
    ks_handle_close((ks_handle_t)v);
    ks_handle_close((ks_handle_t)m);
    UNMAP(a, KS_PAGE_SIZE);
}

/*
 * A copy whose user side starts in a page that cannot be touched and runs on
 * into one that can: it fails with nothing done, so nothing past the fault
 * may change, on either side (the user copy must not do the far end first).
 */
static void memobj_fault_first(void)
{
    uintptr_t a = ulib_map_anon(2 * KS_PAGE_SIZE);
    KT_ASSERT(a);
    UNMAP(a, KS_PAGE_SIZE);
    uint8_t *good = (uint8_t *)(a + KS_PAGE_SIZE);     /* src - 8 .. src: unmapped */
    uint8_t *src = good - 8;
    memcpy(good, "BBBBBBBB", 8);
    long m = ks_memobj_create(0);
    KT_ASSERT(m > 0);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 0, "AAAAAAAAAAAAAAAA", 16), 16);
    /* memobj <- user: the second word must stay 'A' */
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 0, src, 16), KS_ERR_FAULT);
    uint8_t b[16];
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, b, 16), 16);
    KT_EXPECT(memcmp(b, "AAAAAAAAAAAAAAAA", 16) == 0);
    /* user <- memobj: the good page must stay 'B' */
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 0, "AAAAAAAAAAAAAAAA", 16), 16);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, src, 16), KS_ERR_FAULT);
    KT_EXPECT(memcmp(good, "BBBBBBBB", 8) == 0);
    ks_handle_close((ks_handle_t)m);
    UNMAP(a + KS_PAGE_SIZE, KS_PAGE_SIZE);
}

/* Writing nothing changes nothing: not even the size, wherever the offset. */
static void memobj_empty_write(void)
{
    long m = ks_memobj_create(0);
    KT_ASSERT(m > 0);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 0, "x", 1), 1);     /* page 0 is the one written last */
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 100, "y", 0), 0);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 1);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 3 * KS_PAGE_SIZE, "y", 0), 0);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 1);
    long v = ks_view_create((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_WRITE);
    KT_EXPECT(v > 0);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 200, KS_SEEK_SET), 200);
    KT_EXPECT_EQ(ks_view_write((ks_handle_t)v, "z", 0), 0);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 1);
    ks_handle_close((ks_handle_t)v);
    ks_handle_close((ks_handle_t)m);
}

/* A byte near the 1 TiB limit: a tall, sparse radix tree, all of it freed again. */
static void far_round(void)
{
    const uint64_t far = (1ull << 40) - 3;
    long m = ks_memobj_create(0);
    KT_ASSERT(m > 0);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, far, "far", 3), 3);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 1ull << 40);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, far, "far!", 4), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 12345, "near", 4), 4);
    char b[4] = { 0 };
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, far, b, 4), 3);
    KT_EXPECT(memcmp(b, "far", 3) == 0);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 1ull << 39, b, 4), 4);
    KT_EXPECT_EQ(b[0] | b[1] | b[2] | b[3], 0);
    /* Mapped at its last page. */
    long a = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, (1ull << 40) - KS_PAGE_SIZE, 0, KS_PAGE_SIZE,
                       KS_PROT_READ | KS_MAP_SHARED);
    KT_EXPECT(a > 0);
    if (a > 0) {
        KT_EXPECT(memcmp((const void *)(a + KS_PAGE_SIZE - 3), "far", 3) == 0);
        UNMAP((uintptr_t)a, KS_PAGE_SIZE);
    }
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)m, 20000), 0);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 12345, b, 4), 4);
    KT_EXPECT(memcmp(b, "near", 4) == 0);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
}

/*
 * The first round may leave a 512-byte slab (radix nodes) cached by the heap
 * (kernel/heap.c keeps a class's only partial slab); the second must give back
 * every page it took.
 */
static void memobj_far(void)
{
    far_round();
    struct ks_kstat k = kstat_now();
    far_round();
    EXPECT_SAME_KSTAT(&k);
}

/*
 * A 64 MiB write into a memobj and a 64 MiB read back through a view, from
 * and into buffers faulted in on the way: while they run, no timer interrupt
 * waits 20 ms for its handler (the copies take interrupts between pages;
 * before, the whole copy kept them waiting, well over 20 ms here). And the
 * bytes arrive, in order.
 */
static void memobj_long_copy_latency(void)
{
    enum { SIZE = 64 << 20 };
    long mo = ks_memobj_create(SIZE);
    uintptr_t buf = ulib_map_anon(SIZE);
    KT_ASSERT(mo > 0 && buf);
    for (uintptr_t off = 0; off < SIZE; off += 1 << 20)
        *(volatile uint64_t *)(buf + off) = off;            /* a mark per MiB */
    struct ks_kstat k;
    KT_ASSERT(ks_kstat_flags(&k, KS_KSTAT_RESET_LATENCY) == 0);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)mo, 0, (const void *)buf, SIZE), SIZE);
    memset((void *)buf, 0, 1 << 20);                        /* the first MiB, to be read back */
    long v = ks_view_create((ks_handle_t)mo, KS_RIGHT_READ);
    KT_ASSERT(v > 0);
    KT_EXPECT_EQ(ks_view_read((ks_handle_t)v, (void *)buf, SIZE), SIZE);
    KT_ASSERT(ks_kstat(&k) == 0);
    KT_EXPECT(k.irq_latency_max_ns < 20000000);
    int marks_ok = 1;
    for (uintptr_t off = 0; off < SIZE; off += 1 << 20)
        marks_ok &= *(volatile uint64_t *)(buf + off) == off;
    KT_EXPECT(marks_ok);
    KT_EXPECT_EQ(ks_kstat_flags(&k, 2), KS_ERR_INVALID);   /* an unknown flag */
    ks_handle_close((ks_handle_t)v);
    UNMAP(buf, SIZE);
    ks_handle_close((ks_handle_t)mo);
}

/*
 * Ending big things keeps no interrupt waiting for more than 20 ms
 * (user/lib/long_end.h): killing a process that holds 2 x 64 MiB, unmapping a
 * touched 64 MiB mapping, truncating a full 64 MiB memobj to 0, closing the
 * last handle to another. Before the kernel took interrupts between the pages
 * it freed, the kill kept one waiting about 31 ms here (the others 9 to 16);
 * now each is well under 1 ms. make bench gives the exact worst
 * (irq_latency_end).
 */
static void memobj_long_end_latency(void)
{
    static const char *const names[LONG_END_OPS] = { "kill", "unmap", "truncate", "close" };
    uint64_t waits[LONG_END_OPS];
    KT_EXPECT_EQ(long_end_run(bootimg(), 64, waits), 0);
    for (int i = 0; i < LONG_END_OPS; i++) {
        printf("# %s of 64 MiB: the worst interrupt wait %lu us\n", names[i], (unsigned long)(waits[i] / 1000));
        if (waits[i] >= 20000000)
            ktest_fail(__FILE__, __LINE__, "%s of 64 MiB kept an interrupt waiting %lu us", names[i],
                       (unsigned long)(waits[i] / 1000));
    }
}

static const struct ktest_case memobj_cases[] = {
    { "far", memobj_far },
    { "long_copy_latency", memobj_long_copy_latency },
    { "long_end_latency", memobj_long_end_latency },
    { "failed_write", memobj_failed_write },
    { "fault_first", memobj_fault_first },
    { "empty_write", memobj_empty_write },
    { "basic", memobj_basic },
    { "truncate", memobj_truncate },
    { "changed", memobj_changed },
    { "read_big", memobj_read_big },
};
KTEST_SUITE(memobj_suite, "memobj", memobj_cases);

/* ---- vm ---- */

static void vm_shared(void)
{
    enum { LEN = 3 * KS_PAGE_SIZE };
    long m = pattern_memobj(LEN);
    KT_ASSERT(m > 0);
    long a = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, LEN,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    KT_ASSERT(a > 0);
    KT_EXPECT_EQ(a & (KS_PAGE_SIZE - 1), 0);
    volatile uint8_t *p = (volatile uint8_t *)a;
    KT_EXPECT_EQ(first_mismatch(p, 0, LEN, parent_byte), ~0ull);
    /* Stores through the mapping reach the memobj ... */
    for (uint64_t i = 0; i < LEN; i++)
        p[i] = child_byte(i);
    KT_EXPECT_EQ(memobj_mismatch((ks_handle_t)m, 0, LEN, child_byte), ~0ull);
    /* ... and memobj writes show in the mapping. */
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, KS_PAGE_SIZE + 5, "shared", 6), 6);
    KT_EXPECT_EQ(p[KS_PAGE_SIZE + 5], 's');
    KT_EXPECT_EQ(p[KS_PAGE_SIZE + 10], 'd');
    /* A second mapping of the same memobj sees the same bytes, at an offset. */
    long b = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, KS_PAGE_SIZE, 0, KS_PAGE_SIZE,
                       KS_PROT_READ | KS_MAP_SHARED);
    KT_EXPECT(b > 0 && b != a);
    if (b > 0) {
        KT_EXPECT_EQ(((volatile uint8_t *)b)[5], 's');
        p[KS_PAGE_SIZE + 100] = 0xa5;
        KT_EXPECT_EQ(((volatile uint8_t *)b)[100], 0xa5);
        UNMAP((uintptr_t)b, KS_PAGE_SIZE);
    }
    UNMAP((uintptr_t)a, LEN);
    /* The memobj keeps the data after the mapping is gone. */
    uint8_t c = 0;
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, KS_PAGE_SIZE + 100, &c, 1), 1);
    KT_EXPECT_EQ(c, 0xa5);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
}

static void vm_private(void)
{
    enum { LEN = 3 * KS_PAGE_SIZE };
    long m = pattern_memobj(LEN);
    KT_ASSERT(m > 0);
    long a = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, LEN,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_PRIVATE);
    KT_ASSERT(a > 0);
    volatile uint8_t *p = (volatile uint8_t *)a;
    KT_EXPECT_EQ(first_mismatch(p, 0, LEN, parent_byte), ~0ull);
    for (uint64_t i = 0; i < LEN; i++)
        p[i] = child_byte(i);
    KT_EXPECT_EQ(first_mismatch(p, 0, LEN, child_byte), ~0ull);
    /* The memobj and a second private mapping still have the original. */
    KT_EXPECT_EQ(memobj_mismatch((ks_handle_t)m, 0, LEN, parent_byte), ~0ull);
    long b = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, LEN, KS_PROT_READ | KS_MAP_PRIVATE);
    KT_EXPECT(b > 0);
    if (b > 0) {
        KT_EXPECT_EQ(first_mismatch((volatile uint8_t *)b, 0, LEN, parent_byte), ~0ull);
        UNMAP((uintptr_t)b, LEN);
    }
    /* Our copies survive the memobj's truncation (they are ours now). */
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)m, 0), 0);
    KT_EXPECT_EQ(first_mismatch(p, 0, LEN, child_byte), ~0ull);
    UNMAP((uintptr_t)a, LEN);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
}

static void vm_fixed(void)
{
    enum { LEN = 2 * KS_PAGE_SIZE };
    long m = ks_memobj_create(LEN);
    KT_ASSERT(m > 0);
    const uint32_t rw = KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED;
    long a = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, LEN, rw);
    KT_ASSERT(a > 0);
    ((volatile uint8_t *)a)[0] = 'F';
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, (uintptr_t)a, LEN, rw | KS_MAP_FIXED),
                 KS_ERR_EXISTS);
    /* Partial overlaps, from either side. */
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, (uintptr_t)a + KS_PAGE_SIZE, LEN,
                           rw | KS_MAP_FIXED), KS_ERR_EXISTS);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, (uintptr_t)a - KS_PAGE_SIZE, LEN,
                           rw | KS_MAP_FIXED), KS_ERR_EXISTS);
    /* A hint at a taken address goes elsewhere. */
    long h = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, (uintptr_t)a, LEN, rw);
    KT_EXPECT(h > 0 && (h >= a + LEN || h + LEN <= a));
    if (h > 0)
        UNMAP((uintptr_t)h, LEN);
    UNMAP((uintptr_t)a, LEN);
    long b = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, (uintptr_t)a, LEN, rw | KS_MAP_FIXED);
    KT_EXPECT_EQ(b, a);
    if (b == a) {
        KT_EXPECT_EQ(((volatile uint8_t *)a)[0], 'F');
        /* Unmap one page of two: the other stays. */
        UNMAP((uintptr_t)a, KS_PAGE_SIZE);
        KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, KS_PAGE_SIZE, (uintptr_t)a + KS_PAGE_SIZE,
                               KS_PAGE_SIZE, rw | KS_MAP_FIXED), KS_ERR_EXISTS);
        KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, (uintptr_t)a, KS_PAGE_SIZE,
                               rw | KS_MAP_FIXED), a);
        UNMAP((uintptr_t)a, LEN);
    }
    /* Unmapping what is not mapped is fine. */
    KT_EXPECT_EQ(ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)a, LEN), 0);
    /* Our own code and stack are mappings like any other. */
    uintptr_t code = (uintptr_t)vm_fixed & ~(uintptr_t)(KS_PAGE_SIZE - 1);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, code, KS_PAGE_SIZE, rw | KS_MAP_FIXED),
                 KS_ERR_EXISTS);
    uintptr_t stack = (uintptr_t)&code & ~(uintptr_t)(KS_PAGE_SIZE - 1);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, stack, KS_PAGE_SIZE, rw | KS_MAP_FIXED),
                 KS_ERR_EXISTS);
    KT_EXPECT_EQ(*(volatile uintptr_t *)&code, (uintptr_t)vm_fixed & ~(uintptr_t)(KS_PAGE_SIZE - 1));
    /* Without FIXED the address is only a hint: one outside user space is ignored ... */
    long k = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, KERNEL_ADDR & ~0xffful, LEN, rw);
    KT_EXPECT(k > 0 && (uint64_t)k + LEN <= KS_USER_TOP);
    if (k > 0)
        UNMAP((uintptr_t)k, LEN);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
}

/* ... and so is one where the length does not fit below the top: there is room elsewhere. */
static void vm_hint_near_top(void)
{
    enum { LEN = 2 * KS_PAGE_SIZE };
    long m = ks_memobj_create(LEN);
    KT_ASSERT(m > 0);
    long k = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, KS_USER_TOP - KS_PAGE_SIZE, LEN,
                       KS_PROT_READ | KS_MAP_SHARED);
    if (!(k > 0 && (uint64_t)k + LEN <= KS_USER_TOP))
        ktest_fail(__FILE__, __LINE__, "vm_map with hint 0x%lx, len 0x%x: %ld", KS_USER_TOP - KS_PAGE_SIZE,
                   LEN, k);
    if (k > 0)
        UNMAP((uintptr_t)k, LEN);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
}

/* Unmapping and protecting the middle of a mapping splits it. */
static void vm_split(void)
{
    enum { LEN = 4 * KS_PAGE_SIZE };
    long m = pattern_memobj(LEN);
    KT_ASSERT(m > 0);
    long a = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, LEN,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    KT_ASSERT(a > 0);
    volatile uint8_t *p = (volatile uint8_t *)a;
    KT_EXPECT_EQ(first_mismatch(p, 0, LEN, parent_byte), ~0ull);
    /* Read-only in the middle, then back: the pages keep their data. */
    KT_EXPECT_EQ(ks_vm_protect(KS_PROCESS_SELF, (uintptr_t)a + KS_PAGE_SIZE, KS_PAGE_SIZE, KS_PROT_READ), 0);
    KT_EXPECT_EQ(first_mismatch(p, 0, LEN, parent_byte), ~0ull);
    p[0] = child_byte(0);
    p[3 * KS_PAGE_SIZE] = child_byte(3 * KS_PAGE_SIZE);
    KT_EXPECT_EQ(ks_vm_protect(KS_PROCESS_SELF, (uintptr_t)a + KS_PAGE_SIZE, KS_PAGE_SIZE,
                               KS_PROT_READ | KS_PROT_WRITE), 0);
    p[KS_PAGE_SIZE] = child_byte(KS_PAGE_SIZE);
    /* Punch out pages 1 and 2. */
    KT_EXPECT_EQ(ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)a + KS_PAGE_SIZE, 2 * KS_PAGE_SIZE), 0);
    KT_EXPECT_EQ(p[0], child_byte(0));
    KT_EXPECT_EQ(p[3 * KS_PAGE_SIZE], child_byte(3 * KS_PAGE_SIZE));
    KT_EXPECT_EQ(first_mismatch(p, 1, KS_PAGE_SIZE, parent_byte), ~0ull);
    KT_EXPECT_EQ(ks_vm_protect(KS_PROCESS_SELF, (uintptr_t)a, LEN, KS_PROT_READ), KS_ERR_RANGE);
    /* The hole takes a new mapping, of other memobj pages. */
    long b = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 2 * KS_PAGE_SIZE, (uintptr_t)a + KS_PAGE_SIZE,
                       2 * KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_SHARED | KS_MAP_FIXED);
    KT_EXPECT_EQ(b, a + KS_PAGE_SIZE);
    KT_EXPECT_EQ(p[KS_PAGE_SIZE + 5], parent_byte(2 * KS_PAGE_SIZE + 5));
    KT_EXPECT_EQ(p[2 * KS_PAGE_SIZE], child_byte(3 * KS_PAGE_SIZE));
    /* Now all four pages are mapped again, in three areas: one protect covers them. */
    KT_EXPECT_EQ(ks_vm_protect(KS_PROCESS_SELF, (uintptr_t)a, LEN, KS_PROT_READ), 0);
    KT_EXPECT_EQ(p[0], child_byte(0));
    UNMAP((uintptr_t)a, LEN);
    KT_EXPECT_EQ(memobj_mismatch((ks_handle_t)m, 1, KS_PAGE_SIZE, parent_byte), ~0ull);
    uint8_t c = 0;
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, KS_PAGE_SIZE, &c, 1), 1);
    KT_EXPECT_EQ(c, child_byte(KS_PAGE_SIZE));
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
}

static void vm_rights(void)
{
    long m = ks_memobj_create(KS_PAGE_SIZE);
    KT_ASSERT(m > 0);
    long ro = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_MAP);
    KT_ASSERT(ro > 0);
    /* Read-only shared mapping: fine; adding WRITE later is not. */
    long a = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)ro, 0, 0, KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_SHARED);
    KT_EXPECT(a > 0);
    if (a > 0) {
        KT_EXPECT_EQ(ks_vm_protect(KS_PROCESS_SELF, (uintptr_t)a, KS_PAGE_SIZE,
                                   KS_PROT_READ | KS_PROT_WRITE), KS_ERR_ACCESS);
        KT_EXPECT_EQ(ks_vm_protect(KS_PROCESS_SELF, (uintptr_t)a, KS_PAGE_SIZE,
                                   KS_PROT_READ | KS_PROT_EXEC), KS_ERR_ACCESS);
        KT_EXPECT_EQ(ks_vm_protect(KS_PROCESS_SELF, (uintptr_t)a, KS_PAGE_SIZE, KS_PROT_READ), 0);
        UNMAP((uintptr_t)a, KS_PAGE_SIZE);
    }
    /* Writable shared and executable mappings need WRITE and EXECUTE. */
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)ro, 0, 0, KS_PAGE_SIZE,
                           KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)ro, 0, 0, KS_PAGE_SIZE,
                           KS_PROT_READ | KS_PROT_EXEC | KS_MAP_PRIVATE), KS_ERR_ACCESS);
    /* A private writable mapping only needs READ: its writes stay here. */
    long b = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)ro, 0, 0, KS_PAGE_SIZE,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_PRIVATE);
    KT_EXPECT(b > 0);
    if (b > 0) {
        ((volatile uint8_t *)b)[0] = 1;
        UNMAP((uintptr_t)b, KS_PAGE_SIZE);
    }
    /* Without MAP nothing maps. */
    long nomap = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_WRITE);
    KT_EXPECT(nomap > 0);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)nomap, 0, 0, KS_PAGE_SIZE,
                           KS_PROT_READ | KS_MAP_SHARED), KS_ERR_ACCESS);
    uint8_t c = 0xff;
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, &c, 1), 1);
    KT_EXPECT_EQ(c, 0);
    ks_handle_close((ks_handle_t)nomap);
    ks_handle_close((ks_handle_t)ro);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
}

static void vm_cow_child(void)
{
    long m = pattern_memobj(PATTERN_LEN);
    KT_ASSERT(m > 0);
    /* Our own private mapping, read before and after the child. */
    long a = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, PATTERN_LEN, KS_PROT_READ | KS_MAP_PRIVATE);
    KT_EXPECT(a > 0);
    if (a > 0)
        KT_EXPECT_EQ(first_mismatch((volatile uint8_t *)a, 0, PATTERN_LEN, parent_byte), ~0ull);
    ks_handle_t given = (ks_handle_t)m;
    KT_EXPECT_EQ(run_child("cow", NULL, &given, 1), 0);
    KT_EXPECT_EQ(memobj_mismatch((ks_handle_t)m, 0, PATTERN_LEN, parent_byte), ~0ull);
    if (a > 0) {
        KT_EXPECT_EQ(first_mismatch((volatile uint8_t *)a, 0, PATTERN_LEN, parent_byte), ~0ull);
        UNMAP((uintptr_t)a, PATTERN_LEN);
    }
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
}

static void vm_share_child(void)
{
    long m = pattern_memobj(PATTERN_LEN);
    KT_ASSERT(m > 0);
    long a = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, PATTERN_LEN, KS_PROT_READ | KS_MAP_SHARED);
    KT_ASSERT(a > 0);
    volatile uint8_t *p = (volatile uint8_t *)a;
    KT_EXPECT_EQ(first_mismatch(p, 0, PATTERN_LEN, parent_byte), ~0ull);
    ks_handle_t given = (ks_handle_t)m;
    KT_EXPECT_EQ(run_child("share", NULL, &given, 1), 0);
    /* The child's stores are in the memobj and in our mapping. */
    KT_EXPECT_EQ(memobj_mismatch((ks_handle_t)m, 0, PATTERN_LEN, child_byte), ~0ull);
    KT_EXPECT_EQ(first_mismatch(p, 0, PATTERN_LEN, child_byte), ~0ull);
    UNMAP((uintptr_t)a, PATTERN_LEN);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
}

static void vm_write_ro_child(void)
{
    long m = ks_memobj_create(KS_PAGE_SIZE);
    KT_ASSERT(m > 0);
    ks_handle_t given = (ks_handle_t)m;
    KT_EXPECT_EQ(run_child("write-ro", NULL, &given, 1), KILLED(KS_KILL_PAGE_FAULT));
    uint8_t c[2] = { 0, 0 };
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, c, 2), 2);
    KT_EXPECT_EQ(c[0], 'W');        /* its write before vm_protect arrived */
    KT_EXPECT_EQ(c[1], 0);          /* the one after did not */
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
}

static void vm_truncate_mapped(void)
{
    long m = pattern_memobj(PATTERN_LEN);
    KT_ASSERT(m > 0);
    long a = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, PATTERN_LEN,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    KT_ASSERT(a > 0);
    volatile uint8_t *p = (volatile uint8_t *)a;
    KT_EXPECT_EQ(first_mismatch(p, 0, PATTERN_LEN, parent_byte), ~0ull);     /* all pages mapped */
    /* Down to one page: a child that maps the whole length, checks the pattern
     * and so reads past the new end is killed (we do not try it ourselves). */
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)m, KS_PAGE_SIZE), 0);
    ks_handle_t given = (ks_handle_t)m;
    KT_EXPECT_EQ(run_child("share", NULL, &given, 1), KILLED(KS_KILL_PAGE_FAULT));
    KT_EXPECT_EQ(first_mismatch(p, 0, KS_PAGE_SIZE, parent_byte), ~0ull);
    /* Down to 1000 bytes: the rest of page 0 reads zero. */
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)m, 1000), 0);
    KT_EXPECT_EQ(first_mismatch(p, 0, 1000, parent_byte), ~0ull);
    KT_EXPECT_EQ(first_mismatch(p, 1000, KS_PAGE_SIZE, zero_byte), ~0ull);
    uint8_t c;
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 1000, &c, 1), 0);
    /* Grown back, the old data is gone for good. */
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)m, PATTERN_LEN), 0);
    KT_EXPECT_EQ(first_mismatch(p, 1000, PATTERN_LEN, zero_byte), ~0ull);
    KT_EXPECT_EQ(memobj_mismatch((ks_handle_t)m, 1000, PATTERN_LEN, zero_byte), ~0ull);
    KT_EXPECT_EQ(first_mismatch(p, 0, 1000, parent_byte), ~0ull);
    /* The mapping writes through to the new pages again. */
    p[2 * KS_PAGE_SIZE] = 0x5c;
    c = 0;
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 2 * KS_PAGE_SIZE, &c, 1), 1);
    KT_EXPECT_EQ(c, 0x5c);
    UNMAP((uintptr_t)a, PATTERN_LEN);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
}

/*
 * A handle that may write and map but not read must not get a mapping it could
 * read through (Sv48 has no write-only pages).
 */
static void vm_write_only_handle(void)
{
    struct ks_kstat k = kstat_now();
    long m = ks_memobj_create(KS_PAGE_SIZE);
    KT_ASSERT(m > 0);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 0, "SECRET", 6), 6);
    long wo = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_WRITE | KS_RIGHT_MAP);
    KT_ASSERT(wo > 0);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)wo, 0, 0, KS_PAGE_SIZE,
                           KS_PROT_WRITE | KS_MAP_SHARED), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)wo, 0, 0, KS_PAGE_SIZE,
                           KS_PROT_WRITE | KS_MAP_PRIVATE), KS_ERR_ACCESS);
    ks_handle_close((ks_handle_t)wo);
    ks_handle_close((ks_handle_t)m);
    EXPECT_SAME_KSTAT(&k);
}

/* When m last changed (KS_SYS_MEMOBJ_STAT), 0 for never. */
static uint64_t changed_at(long m)
{
    struct ks_memobj_stat st = { 0, 0 };
    ks_memobj_stat((ks_handle_t)m, &st, 0);
    return st.changed_ns;
}

/*
 * KS_SYS_VM_SYNC: the memobjs mapped shared and writable in the range have
 * changed now; a read-only or private mapping's do not; a range not wholly
 * mapped changes nothing and says so.
 */
static void vm_sync(void)
{
    struct ks_kstat k = kstat_now();
    long rw = ks_memobj_create(2 * KS_PAGE_SIZE), ro = ks_memobj_create(KS_PAGE_SIZE);
    long priv = ks_memobj_create(KS_PAGE_SIZE);
    KT_ASSERT(rw > 0 && ro > 0 && priv > 0);
    long a = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)rw, 0, 0, 2 * KS_PAGE_SIZE,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    long b = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)ro, 0, (uintptr_t)a + 2 * KS_PAGE_SIZE, KS_PAGE_SIZE,
                       KS_PROT_READ | KS_MAP_SHARED | KS_MAP_FIXED);
    long c = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)priv, 0, (uintptr_t)a + 3 * KS_PAGE_SIZE, KS_PAGE_SIZE,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_PRIVATE | KS_MAP_FIXED);
    KT_ASSERT(a > 0 && b == a + 2 * KS_PAGE_SIZE && c == a + 3 * KS_PAGE_SIZE);
    ((volatile char *)a)[5] = 1;                /* a store: nothing traps it */
    ((volatile char *)c)[5] = 1;
    KT_EXPECT_EQ(changed_at(rw), 0);
    /* Not all mapped (the page past c): nothing changes. Bad ranges. */
    KT_EXPECT_EQ(ks_vm_sync(KS_PROCESS_SELF, (uintptr_t)a, 5 * KS_PAGE_SIZE), KS_ERR_RANGE);
    KT_EXPECT_EQ(changed_at(rw), 0);
    KT_EXPECT_EQ(ks_vm_sync(KS_PROCESS_SELF, (uintptr_t)a + 1, KS_PAGE_SIZE), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_vm_sync(KS_PROCESS_SELF, (uintptr_t)a, 0), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_vm_sync(KS_PROCESS_SELF, KERNEL_ADDR, KS_PAGE_SIZE), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_vm_sync((ks_handle_t)rw, (uintptr_t)a, KS_PAGE_SIZE), KS_ERR_WRONG_TYPE);
    uint64_t t0 = (uint64_t)ks_clock_ns();
    KT_EXPECT_EQ(ks_vm_sync(KS_PROCESS_SELF, (uintptr_t)a + KS_PAGE_SIZE, 3 * KS_PAGE_SIZE - 1), 0);
    KT_EXPECT(changed_at(rw) >= t0);            /* a part of its mapping is enough */
    KT_EXPECT_EQ(changed_at(ro), 0);
    KT_EXPECT_EQ(changed_at(priv), 0);
    KT_EXPECT_EQ(ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)a, 4 * KS_PAGE_SIZE), 0);
    ks_handle_close((ks_handle_t)rw);
    ks_handle_close((ks_handle_t)ro);
    ks_handle_close((ks_handle_t)priv);
    EXPECT_SAME_KSTAT(&k);
}

static const struct ktest_case vm_cases[] = {
    { "sync", vm_sync },
    { "write_only_handle", vm_write_only_handle },
    { "shared", vm_shared },
    { "private", vm_private },
    { "fixed", vm_fixed },
    { "hint_near_top", vm_hint_near_top },
    { "split", vm_split },
    { "rights", vm_rights },
    { "cow_child", vm_cow_child },
    { "share_child", vm_share_child },
    { "write_ro_child", vm_write_ro_child },
    { "truncate_mapped", vm_truncate_mapped },
};
KTEST_SUITE(vm_suite, "vm", vm_cases);

/* ---- view ---- */

static void view_basic(void)
{
    static char buf[64];
    long m = ks_memobj_create(0);
    KT_ASSERT(m > 0);
    long v = ks_view_create((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_WRITE);
    KT_ASSERT(v > 0);
    KT_EXPECT_EQ(ks_handle_info((ks_handle_t)v), KS_OBJ_VIEW << 16 | KS_RIGHT_READ | KS_RIGHT_WRITE);
    KT_EXPECT_EQ(ks_view_write((ks_handle_t)v, "0123456789", 10), 10);
    KT_EXPECT_EQ(ks_view_write((ks_handle_t)v, "abcdef", 6), 6);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 16);
    /* The position is at the end: nothing more to read. */
    KT_EXPECT_EQ(ks_view_read((ks_handle_t)v, buf, sizeof buf), 0);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 0, KS_SEEK_SET), 0);
    memset(buf, 0, sizeof buf);
    KT_EXPECT_EQ(ks_view_read((ks_handle_t)v, buf, 4), 4);
    KT_EXPECT(memcmp(buf, "0123", 4) == 0);
    KT_EXPECT_EQ(ks_view_read((ks_handle_t)v, buf, 4), 4);
    KT_EXPECT(memcmp(buf, "4567", 4) == 0);
    /* SEEK_CUR forwards and backwards, SEEK_END. */
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 2, KS_SEEK_CUR), 10);
    KT_EXPECT_EQ(ks_view_read((ks_handle_t)v, buf, 2), 2);
    KT_EXPECT(memcmp(buf, "ab", 2) == 0);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, -12, KS_SEEK_CUR), 0);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, -3, KS_SEEK_END), 13);
    memset(buf, 0, sizeof buf);
    KT_EXPECT_EQ(ks_view_read((ks_handle_t)v, buf, sizeof buf), 3);
    KT_EXPECT(memcmp(buf, "def", 3) == 0);
    /* Seeking past the end and writing leaves a zero gap. */
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 4, KS_SEEK_END), 20);
    KT_EXPECT_EQ(ks_view_write((ks_handle_t)v, "Z", 1), 1);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 21);
    memset(buf, 0xee, sizeof buf);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 16, buf, sizeof buf), 5);
    KT_EXPECT(memcmp(buf, "\0\0\0\0Z", 5) == 0);
    /* Bad seeks leave the position alone. */
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 5, KS_SEEK_SET), 5);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, -6, KS_SEEK_CUR), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, -22, KS_SEEK_END), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, -1, KS_SEEK_SET), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 0, 7), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 0, -1), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, INT64_MAX, KS_SEEK_END), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 0, KS_SEEK_CUR), 5);
    /* The 1 TiB limit: a position there is fine, beyond it is not, and nothing is written there. */
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, (1ll << 40) + 1, KS_SEEK_SET), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 0, KS_SEEK_CUR), 5);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 1ll << 40, KS_SEEK_SET), 1ll << 40);
    KT_EXPECT_EQ(ks_view_write((ks_handle_t)v, "x", 1), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_view_read((ks_handle_t)v, buf, 1), 0);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 0, KS_SEEK_CUR), 1ll << 40);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 21);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 5, KS_SEEK_SET), 5);
    memset(buf, 0, sizeof buf);
    KT_EXPECT_EQ(ks_view_read((ks_handle_t)v, buf, 1), 1);
    KT_EXPECT_EQ(buf[0], '5');
    /* The view keeps the memobj alive after its handle is closed. */
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 0, KS_SEEK_SET), 0);
    KT_EXPECT_EQ(ks_view_read((ks_handle_t)v, buf, 3), 3);
    KT_EXPECT(memcmp(buf, "012", 3) == 0);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)v), 0);
}

static void view_rights(void)
{
    char buf[8];
    long m = ks_memobj_create(0);
    KT_ASSERT(m > 0);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 0, "rights", 6), 6);
    /* A read-only view reads but refuses to write. */
    long ro = ks_view_create((ks_handle_t)m, KS_RIGHT_READ);
    KT_ASSERT(ro > 0);
    KT_EXPECT_EQ(ks_view_write((ks_handle_t)ro, "x", 1), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_view_read((ks_handle_t)ro, buf, 6), 6);
    KT_EXPECT(memcmp(buf, "rights", 6) == 0);
    /* A write-only view writes but cannot read. */
    long wo = ks_view_create((ks_handle_t)m, KS_RIGHT_WRITE);
    KT_ASSERT(wo > 0);
    KT_EXPECT_EQ(ks_view_read((ks_handle_t)wo, buf, 1), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_view_write((ks_handle_t)wo, "R", 1), 1);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, buf, 1), 1);
    KT_EXPECT_EQ(buf[0], 'R');
    /* A view cannot have rights beyond the memobj handle's. */
    long mro = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_DUPLICATE);
    KT_ASSERT(mro > 0);
    KT_EXPECT_EQ(ks_view_create((ks_handle_t)mro, KS_RIGHT_READ | KS_RIGHT_WRITE), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_view_create((ks_handle_t)mro, KS_RIGHT_WRITE), KS_ERR_ACCESS);
    long ok = ks_view_create((ks_handle_t)mro, KS_RIGHT_READ);
    KT_EXPECT(ok > 0);
    KT_EXPECT_EQ(ks_view_write((ks_handle_t)ok, "x", 1), KS_ERR_ACCESS);
    /* Rights a view cannot have at all; MAP only if the memobj handle has it. */
    KT_EXPECT_EQ(ks_view_create((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_MANAGE), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_view_create((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_PAGER), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_view_create((ks_handle_t)mro, KS_RIGHT_READ | KS_RIGHT_MAP), KS_ERR_ACCESS);
    /* Views and memobjs are different types. */
    KT_EXPECT_EQ(ks_view_create((ks_handle_t)ro, KS_RIGHT_READ), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)ro, 0, buf, 1), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_view_read((ks_handle_t)m, buf, 1), KS_ERR_WRONG_TYPE);
    if (ok > 0)
        KT_EXPECT_EQ(ks_handle_close((ks_handle_t)ok), 0);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)mro), 0);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)wo), 0);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)ro), 0);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
}

/* A view gets no right its memobj handle lacks (not even TRANSFER), and seeking needs one. */
static void view_rights_not_widened(void)
{
    struct ks_kstat k = kstat_now();
    long m = ks_memobj_create(KS_PAGE_SIZE);
    KT_ASSERT(m > 0);
    long ro = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ);
    KT_ASSERT(ro > 0);
    KT_EXPECT_EQ(ks_view_create((ks_handle_t)ro, KS_RIGHT_READ | KS_RIGHT_TRANSFER), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_view_create((ks_handle_t)ro, KS_RIGHT_READ | KS_RIGHT_DUPLICATE), KS_ERR_ACCESS);
    long v = ks_view_create((ks_handle_t)m, 0);
    KT_ASSERT(v > 0);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 0, KS_SEEK_END), KS_ERR_ACCESS);
    ks_handle_close((ks_handle_t)v);
    ks_handle_close((ks_handle_t)ro);
    ks_handle_close((ks_handle_t)m);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * KS_SYS_VIEW_MEMOBJ: a view gives a handle to its memobj with the view
 * handle's rights, MAP and EXECUTE included, and nothing more.
 */
static void view_memobj(void)
{
    struct ks_kstat k = kstat_now();
    long m = ks_memobj_create(KS_PAGE_SIZE);
    KT_ASSERT(m > 0);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 0, "memobj", 6), 6);
    uint32_t vr = KS_RIGHT_READ | KS_RIGHT_MAP | KS_RIGHT_DUPLICATE;
    long v = ks_view_create((ks_handle_t)m, vr);
    KT_ASSERT(v > 0);
    long mo = ks_view_memobj((ks_handle_t)v);
    KT_ASSERT(mo > 0);
    long info = ks_handle_info((ks_handle_t)mo);
    KT_EXPECT_EQ(KS_INFO_TYPE(info), KS_OBJ_MEMOBJ);
    KT_EXPECT_EQ(info & KS_RIGHTS_ALL, vr);
    /* The same memobj: what the first handle writes, the new one reads and maps. */
    char buf[8] = { 0 };
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 0, "M", 1), 1);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)mo, 0, buf, 6), 6);
    KT_EXPECT(memcmp(buf, "Memobj", 6) == 0);
    long at = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)mo, 0, 0, KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_SHARED);
    KT_EXPECT(at > 0);
    if (at > 0) {
        KT_EXPECT_EQ(*(volatile char *)at, 'M');
        KT_EXPECT_EQ(ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)at, KS_PAGE_SIZE), 0);
    }
    /* Not one right more than the view's: no WRITE, no EXECUTE, no TRANSFER. */
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)mo, 0, "x", 1), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)mo, 0, 0, KS_PAGE_SIZE, KS_PROT_READ | KS_PROT_EXEC |
                                                                                KS_MAP_PRIVATE),
                 KS_ERR_ACCESS);
    /* A view handle with fewer rights gives a memobj handle with fewer. */
    long vro = ks_handle_duplicate((ks_handle_t)v, KS_RIGHT_READ);
    KT_ASSERT(vro > 0);
    long mro = ks_view_memobj((ks_handle_t)vro);
    KT_ASSERT(mro > 0);
    KT_EXPECT_EQ(ks_handle_info((ks_handle_t)mro) & KS_RIGHTS_ALL, KS_RIGHT_READ);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)mro, 0, 0, KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_SHARED),
                 KS_ERR_ACCESS);
    /* Only a view will do. */
    KT_EXPECT_EQ(ks_view_memobj((ks_handle_t)m), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_view_memobj(KS_PROCESS_SELF), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_view_memobj((ks_handle_t)0x7fffff00), KS_ERR_BAD_HANDLE);
    /* It holds the memobj like any handle: it outlives the view and the first handle. */
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)v), 0);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)vro), 0);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)mo, 1, buf, 5), 5);
    KT_EXPECT(memcmp(buf, "emobj", 5) == 0);
    ks_handle_close((ks_handle_t)mro);
    ks_handle_close((ks_handle_t)mo);
    EXPECT_SAME_KSTAT(&k);
}

static const struct ktest_case view_cases[] = {
    { "rights_not_widened", view_rights_not_widened },
    { "memobj", view_memobj },
    { "basic", view_basic },
    { "rights", view_rights },
};
KTEST_SUITE(view_suite, "view", view_cases);

/* ---- bad: hostile arguments ---- */

/* Bad user pointers every pointer-taking call must refuse with KS_ERR_FAULT. */
struct bad_ptr {
    uintptr_t addr;
    uint64_t len;
    const char *what;
};

static const struct bad_ptr bad_ptrs[] = {
    { 0, 16, "NULL" },
    { KERNEL_ADDR, 16, "kernel" },
    { UNMAPPED_ADDR, 16, "unmapped" },
    { 0x1000, UINT64_MAX, "wrapping" },
    { KS_USER_TOP - 8, 16, "across the top" },
};
#define NBAD (sizeof bad_ptrs / sizeof bad_ptrs[0])

#define EXPECT_FAULT(call, what) \
    do { \
        long r_ = (call); \
        if (r_ != KS_ERR_FAULT) \
            ktest_fail(__FILE__, __LINE__, "%s with a %s pointer: %ld, expected KS_ERR_FAULT", #call, \
                       what, r_); \
    } while (0)

static void bad_pointers_io(void)
{
    long m = pattern_memobj(2 * KS_PAGE_SIZE);
    KT_ASSERT(m > 0);
    long v = ks_view_create((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_WRITE);
    KT_ASSERT(v > 0);
    for (unsigned i = 0; i < NBAD; i++) {
        void *p = (void *)bad_ptrs[i].addr;
        uint64_t len = bad_ptrs[i].len;
        const char *what = bad_ptrs[i].what;
        EXPECT_FAULT(ks_debug_write(p, len), what);
        EXPECT_FAULT(ks_memobj_read((ks_handle_t)m, 0, p, len), what);
        EXPECT_FAULT(ks_memobj_write((ks_handle_t)m, 0, p, len), what);
        EXPECT_FAULT(ks_memobj_write((ks_handle_t)m, 1ul << 30, p, len), what);
        EXPECT_FAULT(ks_view_read((ks_handle_t)v, p, len), what);
        EXPECT_FAULT(ks_view_write((ks_handle_t)v, p, len), what);
        EXPECT_FAULT(ks_kstat((struct ks_kstat *)p), what);
        EXPECT_FAULT(ks_memobj_stat((ks_handle_t)m, (struct ks_memobj_stat *)p, 0), what);
    }
    /* Nothing moved: no growth, no view position change, no data change. */
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 2 * KS_PAGE_SIZE);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 0, KS_SEEK_CUR), 0);
    KT_EXPECT_EQ(memobj_mismatch((ks_handle_t)m, 0, 2 * KS_PAGE_SIZE, parent_byte), ~0ull);
    ks_handle_close((ks_handle_t)v);
    ks_handle_close((ks_handle_t)m);
    KT_EXPECT_EQ(ks_null(), 0);         /* and we live on */
}

/* Memory we may read but not write: the kernel must not store into it for us. */
static void bad_pointers_readonly(void)
{
    long m = pattern_memobj(KS_PAGE_SIZE);
    KT_ASSERT(m > 0);
    long ro = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_SHARED);
    KT_ASSERT(ro > 0);
    long other = pattern_memobj(64);
    KT_EXPECT(other > 0);
    uint8_t before = ((volatile uint8_t *)ro)[0];
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 100, (void *)ro, 64), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_kstat((struct ks_kstat *)ro), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_memobj_stat((ks_handle_t)m, (struct ks_memobj_stat *)ro, 0), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_klog(KS_KLOG_READ, (void *)ro, 64), KS_ERR_FAULT);
    /* Our own code is read-only too. */
    uintptr_t code = (uintptr_t)bad_pointers_readonly & ~(uintptr_t)7;
    uint64_t insn = *(volatile uint64_t *)code;
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, (void *)code, 8), KS_ERR_FAULT);
    KT_EXPECT_EQ(*(volatile uint64_t *)code, insn);
    KT_EXPECT_EQ(((volatile uint8_t *)ro)[0], before);
    KT_EXPECT_EQ(memobj_mismatch((ks_handle_t)m, 0, KS_PAGE_SIZE, parent_byte), ~0ull);
    /* Reading from it is fine. */
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)other, 0, (void *)ro, 64), 64);
    KT_EXPECT_EQ(ks_debug_write((void *)ro, 0), 0);
    UNMAP((uintptr_t)ro, KS_PAGE_SIZE);
    ks_handle_close((ks_handle_t)other);
    ks_handle_close((ks_handle_t)m);
}

/*
 * The kernel log (KS_SYS_KLOG): it holds what the kernel printed at boot, a
 * read gets the newest bytes, a clear empties it, and bad requests fail.
 */
#define KLOG_BYTES 16384        /* the capacity syscall.h documents for KS_SYS_KLOG */

/* Does buf (n bytes) hold the string s anywhere? */
static int holds(const char *buf, long n, const char *s)
{
    long k = (long)strlen(s);
    for (long i = 0; i + k <= n; i++)
        if (memcmp(buf + i, s, (size_t)k) == 0)
            return 1;
    return 0;
}

static void klog_read_clear(void)
{
    static char buf[KLOG_BYTES];
    KT_EXPECT_EQ(ks_klog(KS_KLOG_SIZE, NULL, 0), KLOG_BYTES);
    long n = ks_klog(KS_KLOG_READ, buf, sizeof buf - 1);
    KT_ASSERT(n > 0);
    KT_EXPECT(holds(buf, n, "kestrel: RISC-V Sv48 kernel"));
    KT_EXPECT_EQ(ks_klog(KS_KLOG_READ, buf, 10), 10);
    KT_EXPECT_EQ(ks_klog(KS_KLOG_READ, (void *)0x10, 64), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_klog(99, buf, 64), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_klog(KS_KLOG_CLEAR, NULL, 0), 0);
    KT_EXPECT_EQ(ks_klog(KS_KLOG_READ, buf, sizeof buf), 0);
    ks_debug_write("klog\n", 5);
    KT_EXPECT_EQ(ks_klog(KS_KLOG_READ, buf, sizeof buf), 5);
    KT_EXPECT(memcmp(buf, "klog\n", 5) == 0);
}

static void bad_pointers_process(void)
{
    struct ks_kstat k = kstat_now();
    EXPECT_FAULT(ks_process_create(NULL, 5), "NULL");
    EXPECT_FAULT(ks_process_create((const char *)KERNEL_ADDR, 5), "kernel");
    EXPECT_FAULT(ks_process_create((const char *)UNMAPPED_ADDR, 5), "unmapped");
    EXPECT_FAULT(ks_process_create((const char *)(KS_USER_TOP - 4), 8), "across the top");
    EXPECT_FAULT(ks_process_create((const char *)0x1000, 31), "low unmapped");
    /* A length no name can have is refused as such, before the pointer is looked at. */
    KT_EXPECT_EQ(ks_process_create((const char *)0x1000, UINT64_MAX), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_process_create((const char *)0x1000, KS_NAME_MAX + 1), KS_ERR_INVALID);
    /* A long name is cut (as Linux's comm), not refused. */
    static const char longname[] = "a-program-whose-name-is-longer-than-thirty-two-bytes";
    long named = ks_process_create(longname, sizeof longname - 1);
    KT_EXPECT(named > 0);
    if (named > 0)
        ks_handle_close((ks_handle_t)named);
    EXPECT_SAME_KSTAT(&k);
    /* process_wait's status pointer, on a process that has ended. */
    long p = spawn_child("exit", "8", NULL, 0);
    KT_ASSERT(p > 0);
    uint64_t st = 0;
    KT_EXPECT_EQ(ks_process_wait((ks_handle_t)p, &st), 0);
    KT_EXPECT_EQ(st, 8);
    for (unsigned i = 0; i < NBAD; i++)
        if (bad_ptrs[i].len != UINT64_MAX)
            EXPECT_FAULT(ks_process_wait((ks_handle_t)p, (uint64_t *)bad_ptrs[i].addr), bad_ptrs[i].what);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)p), 0);
    /* A process made by hand is empty; closing its only handle ends it. */
    long q = ks_process_create("empty", 5);
    KT_EXPECT(q > 0);
    KT_EXPECT_EQ(ks_handle_info((ks_handle_t)q), KS_OBJ_PROCESS << 16 | KS_RIGHTS_ALL);
    ks_handle_close((ks_handle_t)q);
    EXPECT_SAME_KSTAT(&k);
}

/* Raw handle values: stale, out of range, with high bits set. */
static void bad_handles(void)
{
    long m = ks_memobj_create(16);
    KT_ASSERT(m > 0);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
    /* Stale: closed, and still stale once its slot is reused. */
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), KS_ERR_BAD_HANDLE);
    long m2 = ks_memobj_create(16);
    KT_ASSERT(m2 > 0);
    KT_EXPECT_EQ(m2 & (KS_HANDLE_MAX - 1), m & (KS_HANDLE_MAX - 1));
    KT_EXPECT(m2 != m);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_handle_info((ks_handle_t)m), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m2), 16);
    /* Values that are never handles; a live handle with high bits set is not that handle. */
    const long bogus[] = { 0, 3, 255, 0x7fffffff, -1, 0xffffffffl, m2 | 1l << 32, 1l << 32 | 1,
                           (long)INT32_MIN };
    for (unsigned i = 0; i < sizeof bogus / sizeof bogus[0]; i++) {
        long h = bogus[i];
        const long got[] = {
            ks_syscall(KS_SYS_HANDLE_CLOSE, h, 0, 0, 0, 0, 0),
            ks_syscall(KS_SYS_HANDLE_INFO, h, 0, 0, 0, 0, 0),
            ks_syscall(KS_SYS_HANDLE_DUPLICATE, h, 0, 0, 0, 0, 0),
            ks_syscall(KS_SYS_MEMOBJ_SIZE, h, 0, 0, 0, 0, 0),
            ks_syscall(KS_SYS_THREAD_JOIN, h, 0, 0, 0, 0, 0),
            ks_syscall(KS_SYS_PROCESS_KILL, h, 0, 0, 0, 0, 0),
            ks_syscall(KS_SYS_VIEW_SEEK, h, 0, 0, 0, 0, 0),
            ks_syscall(KS_SYS_VM_UNMAP, h, 0x10000000, KS_PAGE_SIZE, 0, 0, 0),
            ks_syscall(KS_SYS_VM_MAP, KS_PROCESS_SELF, h, 0, 0, KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_SHARED),
        };
        for (unsigned j = 0; j < sizeof got / sizeof got[0]; j++)
            if (got[j] != KS_ERR_BAD_HANDLE)
                ktest_fail(__FILE__, __LINE__, "handle 0x%lx, call %u: %ld, expected KS_ERR_BAD_HANDLE",
                           (unsigned long)h, j, got[j]);
    }
    /* Pseudo-handles are not closable table entries. */
    KT_EXPECT_EQ(ks_handle_close(KS_PROCESS_SELF), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_handle_close(KS_THREAD_SELF), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m2), 16);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m2), 0);
}

/* The right type is checked before the rights, the handle before both. */
static void bad_handle_types(void)
{
    uint8_t b[4];
    long m = ks_memobj_create(16);
    KT_ASSERT(m > 0);
    long none = ks_handle_duplicate(KS_THREAD_SELF, 0);     /* a thread handle without rights */
    KT_ASSERT(none > 0);
    KT_EXPECT_EQ(ks_handle_info((ks_handle_t)none), KS_OBJ_THREAD << 16);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)none, 0, b, 1), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_memobj_size(KS_PROCESS_SELF), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_memobj_write(KS_THREAD_SELF, 0, b, 1), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_thread_join((ks_handle_t)m), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_thread_interrupt(KS_PROCESS_SELF), KS_ERR_WRONG_TYPE);
    uint64_t st;
    KT_EXPECT_EQ(ks_process_wait(KS_THREAD_SELF, &st), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_process_wait((ks_handle_t)m, &st), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_process_kill((ks_handle_t)none), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_vm_map((ks_handle_t)m, (ks_handle_t)m, 0, 0, KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_SHARED),
                 KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, KS_PROCESS_SELF, 0, 0, KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_SHARED),
                 KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_vm_unmap(KS_THREAD_SELF, 0x10000000, KS_PAGE_SIZE), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_view_create((ks_handle_t)none, KS_RIGHT_READ), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_thread_create((ks_handle_t)m, (void *)exit_with_arg, (void *)0x10000, 0),
                 KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_handle_transfer((ks_handle_t)m, (ks_handle_t)m, KS_RIGHT_READ, 0), KS_ERR_WRONG_TYPE);
    /* Wrong type and no rights: the type is reported. */
    KT_EXPECT_EQ(ks_thread_join((ks_handle_t)none), KS_ERR_ACCESS);
    long mnone = ks_handle_duplicate((ks_handle_t)m, 0);
    KT_ASSERT(mnone > 0);
    KT_EXPECT_EQ(ks_thread_join((ks_handle_t)mnone), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)mnone, 0, b, 1), KS_ERR_ACCESS);
    /* Missing rights, one at a time. */
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)mnone, 0, b, 1), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)mnone, 0), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)mnone), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_handle_duplicate((ks_handle_t)mnone, 0), KS_ERR_ACCESS);
    long rd = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_DUPLICATE);
    KT_ASSERT(rd > 0);
    KT_EXPECT_EQ(ks_handle_duplicate((ks_handle_t)rd, KS_RIGHT_READ | KS_RIGHT_WRITE), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)rd, 0, b, 1), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)rd, 100), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)rd), 16);
    KT_EXPECT_EQ(ks_handle_transfer(KS_PROCESS_SELF, (ks_handle_t)rd, KS_RIGHT_READ, 0), KS_ERR_ACCESS);
    long rd2 = ks_handle_duplicate((ks_handle_t)rd, KS_RIGHT_READ);
    KT_EXPECT(rd2 > 0);
    KT_EXPECT_EQ(ks_handle_info((ks_handle_t)rd2), KS_OBJ_MEMOBJ << 16 | KS_RIGHT_READ);
    /* Bad handle first: a stale handle is just that, whatever the call wants. */
    ks_handle_close((ks_handle_t)rd2);
    KT_EXPECT_EQ(ks_thread_join((ks_handle_t)rd2), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)rd2, 0, b, 1), KS_ERR_BAD_HANDLE);
    ks_handle_close((ks_handle_t)rd);
    ks_handle_close((ks_handle_t)mnone);
    ks_handle_close((ks_handle_t)none);
    ks_handle_close((ks_handle_t)m);
}

static void bad_syscall_numbers(void)
{
    KT_EXPECT_EQ(ks_syscall(999, 1, 2, 3, 4, 5, 6), KS_ERR_NOSYS);
    KT_EXPECT_EQ(ks_syscall(KS_SYS_COUNT, 0, 0, 0, 0, 0, 0), KS_ERR_NOSYS);
    KT_EXPECT_EQ(ks_syscall(KS_SYS_IPC_FIRST - 1, 0, 0, 0, 0, 0, 0), KS_ERR_NOSYS);   /* the table's last */
    KT_EXPECT_EQ(ks_syscall(KS_SYS_IPC_LAST + 1, 0, 0, 0, 0, 0, 0), KS_ERR_NOSYS);
    KT_EXPECT_EQ(ks_syscall(-1, 0, 0, 0, 0, 0, 0), KS_ERR_NOSYS);
    KT_EXPECT_EQ(ks_syscall(1l << 32, 0, 0, 0, 0, 0, 0), KS_ERR_NOSYS);
    KT_EXPECT_EQ(ks_syscall(KS_SYS_NULL, 0, 0, 0, 0, 0, 0), 0);
}

/*
 * After an ecall, t0-t6 and a1-a7 are zero whatever they held and whatever the
 * call did (syscall.h): no kernel value reaches user space.
 */
static void regs_after_ecall(long nr, long a0, uint64_t out[14])
{
    __asm__ volatile(
        "li t0, -1\n li t1, -1\n li t2, -1\n li t3, -1\n li t4, -1\n li t5, -1\n li t6, -1\n"
        "mv a0, %[a0]\n li a1, -1\n li a2, -1\n li a3, -1\n li a4, -1\n li a5, -1\n li a6, -1\n"
        "mv a7, %[nr]\n"
        "ecall\n"
        "sd a1, 0(%[out])\n sd a2, 8(%[out])\n sd a3, 16(%[out])\n sd a4, 24(%[out])\n"
        "sd a5, 32(%[out])\n sd a6, 40(%[out])\n sd a7, 48(%[out])\n"
        "sd t0, 56(%[out])\n sd t1, 64(%[out])\n sd t2, 72(%[out])\n sd t3, 80(%[out])\n"
        "sd t4, 88(%[out])\n sd t5, 96(%[out])\n sd t6, 104(%[out])\n"
        : : [nr] "r"(nr), [a0] "r"(a0), [out] "r"(out)
        : "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "t0", "t1", "t2", "t3", "t4", "t5", "t6",
          "memory");
}

static void bad_ecall_regs(void)
{
    static const long calls[][2] = {
        { KS_SYS_NULL, 0 }, { KS_SYS_CLOCK_NS, 0 }, { KS_SYS_MEMOBJ_SIZE, 12345 },
        { KS_SYS_THREAD_YIELD, 0 }, { KS_SYS_THREAD_SLEEP, 1000 }, { 999, 0 },
    };
    for (unsigned c = 0; c < sizeof calls / sizeof calls[0]; c++) {
        uint64_t out[14];
        memset(out, 0x55, sizeof out);
        regs_after_ecall(calls[c][0], calls[c][1], out);
        for (int i = 0; i < 14; i++)
            if (out[i] != 0) {
                ktest_fail(__FILE__, __LINE__, "call %ld: %s%d = 0x%lx after ecall", calls[c][0],
                           i < 7 ? "a" : "t", i < 7 ? i + 1 : i - 7, (unsigned long)out[i]);
                break;
            }
    }
}

static void bad_vm_args(void)
{
    struct ks_kstat k = kstat_now();
    long m = ks_memobj_create(4 * KS_PAGE_SIZE);
    KT_ASSERT(m > 0);
    const ks_handle_t h = (ks_handle_t)m;
    const uint32_t r = KS_PROT_READ | KS_MAP_SHARED;
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, h, 0, 0x10000123, KS_PAGE_SIZE, r | KS_MAP_FIXED), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, h, 0, 0x10000123, KS_PAGE_SIZE, r), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, h, 100, 0, KS_PAGE_SIZE, r), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, h, 0, 0, 0, r), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, h, 0, KERNEL_ADDR, KS_PAGE_SIZE, r | KS_MAP_FIXED), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, h, 0, 0, KS_PAGE_SIZE, r | KS_MAP_FIXED), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, h, 0, KS_USER_TOP - KS_PAGE_SIZE, 2 * KS_PAGE_SIZE,
                           r | KS_MAP_FIXED), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, h, 0, KS_USER_TOP, KS_PAGE_SIZE, r | KS_MAP_FIXED), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, h, 0, 0, UINT64_MAX, r), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, h, 1ull << 40, 0, KS_PAGE_SIZE, r), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, h, 0, 0, KS_USER_TOP, r), KS_ERR_RANGE);     /* > 1 TiB */
    /* Flags: unknown bits, neither or both of SHARED/PRIVATE, beyond 32 bits. */
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, h, 0, 0, KS_PAGE_SIZE, r | 1u << 10), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, h, 0, 0, KS_PAGE_SIZE, KS_PROT_READ), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, h, 0, 0, KS_PAGE_SIZE, r | KS_MAP_PRIVATE), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_syscall(KS_SYS_VM_MAP, KS_PROCESS_SELF, h, 0, 0, KS_PAGE_SIZE, r | 1l << 32),
                 KS_ERR_INVALID);
    /* unmap and protect check their range the same way. */
    KT_EXPECT_EQ(ks_vm_unmap(KS_PROCESS_SELF, 0x10000123, KS_PAGE_SIZE), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_vm_unmap(KS_PROCESS_SELF, 0x10000000, 0), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_vm_unmap(KS_PROCESS_SELF, KERNEL_ADDR, KS_PAGE_SIZE), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_vm_unmap(KS_PROCESS_SELF, KS_USER_TOP - KS_PAGE_SIZE, UINT64_MAX), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_vm_protect(KS_PROCESS_SELF, KERNEL_ADDR, KS_PAGE_SIZE, KS_PROT_READ), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_vm_protect(KS_PROCESS_SELF, UNMAPPED_ADDR, KS_PAGE_SIZE, KS_PROT_READ), KS_ERR_RANGE);
    long a = ks_vm_map(KS_PROCESS_SELF, h, 0, 0, KS_PAGE_SIZE, r);
    KT_EXPECT(a > 0);
    if (a > 0) {
        KT_EXPECT_EQ(ks_vm_protect(KS_PROCESS_SELF, (uintptr_t)a, KS_PAGE_SIZE, KS_PROT_READ | 1u << 4),
                     KS_ERR_INVALID);
        KT_EXPECT_EQ(ks_syscall(KS_SYS_VM_PROTECT, KS_PROCESS_SELF, a, KS_PAGE_SIZE, KS_PROT_READ | 1l << 32,
                                0, 0), KS_ERR_INVALID);
        /* Partly unmapped range. */
        KT_EXPECT_EQ(ks_vm_protect(KS_PROCESS_SELF, (uintptr_t)a, 2 * KS_PAGE_SIZE, KS_PROT_READ),
                     KS_ERR_RANGE);
        UNMAP((uintptr_t)a, KS_PAGE_SIZE);
    }
    /* Memobj offsets beyond the 1 TiB limit. */
    KT_EXPECT_EQ(ks_memobj_write(h, 1ull << 40, "x", 1), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_memobj_write(h, UINT64_MAX, "x", 1), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_memobj_read(h, UINT64_MAX, (void *)0x10000, 1), 0);
    KT_EXPECT_EQ(ks_memobj_size(h), 4 * KS_PAGE_SIZE);
    /* Threads must start in user space. */
    uintptr_t stack = ulib_map_anon(TEST_STACK_SIZE);
    KT_ASSERT(stack);
    void *sp = (void *)(stack + TEST_STACK_SIZE);
    KT_EXPECT_EQ(ks_thread_create(KS_PROCESS_SELF, (void *)KERNEL_ADDR, sp, 0), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_thread_create(KS_PROCESS_SELF, NULL, sp, 0), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_thread_create(KS_PROCESS_SELF, (void *)KS_USER_TOP, sp, 0), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_thread_create(KS_PROCESS_SELF, (void *)exit_with_arg, (void *)KERNEL_ADDR, 0), KS_ERR_RANGE);
    ks_handle_close(h);
    UNMAP(stack, TEST_STACK_SIZE);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * A system call reading its buffer from an execute-only mapping: the kernel's
 * copy faults (no R in the PTE) and must fail with KS_ERR_FAULT rather than
 * retry forever (which once hung the machine, interrupts off).
 */
static void bad_exec_only_buffer(void)
{
    long m = ks_memobj_create(KS_PAGE_SIZE), dst = ks_memobj_create(0);
    KT_ASSERT(m > 0 && dst > 0);
    long a = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, KS_PAGE_SIZE, KS_PROT_EXEC | KS_MAP_PRIVATE);
    KT_ASSERT(a > 0);
    long r = ks_memobj_write((ks_handle_t)dst, 0, (const void *)a, 8);
    KT_EXPECT_EQ(r, KS_ERR_FAULT);
    UNMAP((uintptr_t)a, KS_PAGE_SIZE);
    ks_handle_close((ks_handle_t)dst);
    ks_handle_close((ks_handle_t)m);
}

/*
 * Every call that takes a pointer accepts a buffer whose last byte is the last
 * user byte (KS_USER_TOP - 1), in a page mapped at the very top of user
 * space: an off-by-one in the kernel's range check would refuse it with
 * KS_ERR_FAULT. The IPC descriptor and its buffers are checked on a call to a
 * closed listener, which reads and checks them before it finds it closed.
 */
static void bad_last_user_byte(void)
{
    const uintptr_t page = KS_USER_TOP - KS_PAGE_SIZE;
    uint8_t *end = (uint8_t *)KS_USER_TOP;     /* one past the last user byte */
    long mo = ks_memobj_create(KS_PAGE_SIZE), m = ks_memobj_create(64);
    KT_ASSERT(mo > 0 && m > 0);
    KT_ASSERT(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)mo, 0, page, KS_PAGE_SIZE,
                        KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED | KS_MAP_FIXED) == (long)page);
    memcpy(end - 16, "0123456789abcdef", 16);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 0, end - 16, 16), 16);
    memset(end - 16, 0, 16);
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, end - 16, 16), 16);
    KT_EXPECT(memcmp(end - 16, "0123456789abcdef", 16) == 0);
    long v = ks_view_create((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_WRITE);
    KT_ASSERT(v > 0);
    KT_EXPECT_EQ(ks_view_write((ks_handle_t)v, end - 16, 16), 16);
    KT_EXPECT_EQ(ks_view_seek((ks_handle_t)v, 0, 0), 0);
    KT_EXPECT_EQ(ks_view_read((ks_handle_t)v, end - 16, 16), 16);
    ks_handle_close((ks_handle_t)v);
    memcpy(end - 13, "# last byte\n", 12);
    end[-1] = '\n';
    KT_EXPECT_EQ(ks_debug_write(end - 13, 13), 13);
    KT_EXPECT_EQ(ks_kstat((struct ks_kstat *)(end - sizeof(struct ks_kstat))), 0);
    KT_EXPECT_EQ(ks_self_ids((struct ks_ids *)(end - sizeof(struct ks_ids))), 0);
    volatile uint32_t *word = (volatile uint32_t *)(end - 4);
    *word = 5;
    KT_EXPECT_EQ(ks_futex_wait(word, 6, 0), KS_ERR_AGAIN);
    KT_EXPECT_EQ(ks_futex_wake(word, 1), 0);
    memcpy(end - 5, "named", 5);
    long p = ks_process_create((const char *)end - 5, 5);
    KT_EXPECT(p > 0);
    if (p > 0) {
        KT_EXPECT_EQ(ks_process_kill((ks_handle_t)p), 0);
        KT_EXPECT_EQ(ks_process_wait((ks_handle_t)p, (uint64_t *)(end - 8)), 0);
        ks_handle_close((ks_handle_t)p);
    }
    KT_EXPECT_EQ(ks_ipc_control(1, (struct ks_ipc_stats *)(end - sizeof(struct ks_ipc_stats))), 0);
    long l = ks_ipc_listener_create();
    long c = l > 0 ? ks_ipc_client_create((ks_handle_t)l, 1) : l;
    KT_ASSERT(c > 0);
    ks_handle_close((ks_handle_t)l);            /* calls now fail, after their descriptor is checked */
    struct ks_ipc_desc *d = (struct ks_ipc_desc *)(end - sizeof *d);
    memset(d, 0, sizeof *d);
    d->send_buf = (const uint8_t *)d - 64;      /* 64 bytes just below the descriptor */
    d->send_len = 64;
    d->recv_buf = (uint8_t *)d - 128;
    d->recv_cap = 128 + sizeof *d;              /* up to the last user byte */
    uint64_t w[KS_IPC_WORDS] = { 0 };
    KT_EXPECT_EQ(ks_ipc_call((ks_handle_t)c, d, w, 0), KS_ERR_PEER_CLOSED);
    ks_handle_close((ks_handle_t)c);
    KT_EXPECT_EQ(ks_vm_unmap(KS_PROCESS_SELF, page, KS_PAGE_SIZE), 0);
    ks_handle_close((ks_handle_t)m);
    ks_handle_close((ks_handle_t)mo);
}

static const struct ktest_case bad_cases[] = {
    { "exec_only_buffer", bad_exec_only_buffer },
    { "last_user_byte", bad_last_user_byte },
    { "pointers_io", bad_pointers_io },
    { "pointers_readonly", bad_pointers_readonly },
    { "klog_read_clear", klog_read_clear },
    { "pointers_process", bad_pointers_process },
    { "handles", bad_handles },
    { "handle_types", bad_handle_types },
    { "syscall_numbers", bad_syscall_numbers },
    { "ecall_regs", bad_ecall_regs },
    { "vm_args", bad_vm_args },
};
KTEST_SUITE(bad_suite, "bad", bad_cases);

/* ---- futex: wait on a word, wake by address; thread exit's clear-and-wake; ids ---- */

static volatile uint32_t fx_word, fx_word2;
static volatile long fx_result[4];

/* Wait on fx_word while it is 0; the result in fx_result[arg]. */
static void fx_waiter(long arg)
{
    fx_result[arg] = ks_futex_wait(&fx_word, 0, KS_FOREVER);
    ks_thread_exit(0);
}

/* Exit at once, clearing (and waking a waiter on) the word at arg. */
static void fx_exit_clear(long arg)
{
    ks_thread_exit_clear(7, (volatile uint32_t *)arg);
}

/* Wait until n threads are blocked in fx_waiter (they cannot be observed: give them time). */
static void fx_settle(void)
{
    for (int i = 0; i < 5; i++)
        ks_thread_yield();
    ks_thread_sleep(20 * MS);
}

static void futex_value_differs(void)
{
    fx_word = 1;
    KT_EXPECT_EQ(ks_futex_wait(&fx_word, 0, KS_FOREVER), KS_ERR_AGAIN);
    KT_EXPECT_EQ(ks_futex_wake(&fx_word, 1), 0);       /* nobody waits */
    fx_word = 0;
}

static void futex_timeout(void)
{
    fx_word = 0;
    KT_EXPECT_EQ(ks_futex_wait(&fx_word, 0, 0), KS_ERR_TIMED_OUT);
    long t0 = ks_clock_ns();
    KT_EXPECT_EQ(ks_futex_wait(&fx_word, 0, 20 * MS), KS_ERR_TIMED_OUT);
    KT_EXPECT(elapsed_ns(t0) >= (long)(20 * MS));
}

static void futex_wake_counts(void)
{
    struct uthread t[3];
    fx_word = 0;
    for (int i = 0; i < 3; i++) {
        fx_result[i] = 1;
        t[i] = thread_start(fx_waiter, i);
        KT_ASSERT(t[i].h > 0);
    }
    fx_settle();
    fx_word = 1;
    KT_EXPECT_EQ(ks_futex_wake(&fx_word, 2), 2);
    KT_EXPECT_EQ(ks_futex_wake(&fx_word2, 10), 0);     /* another word: no one */
    KT_EXPECT_EQ(ks_futex_wake(&fx_word, 10), 1);
    for (int i = 0; i < 3; i++) {
        KT_EXPECT_EQ(thread_finish(&t[i]), 0);
        KT_EXPECT_EQ(fx_result[i], 0);
    }
    fx_word = 0;
}

static void futex_interrupted(void)
{
    fx_word = 0;
    fx_result[0] = 1;
    struct uthread t = thread_start(fx_waiter, 0);
    KT_ASSERT(t.h > 0);
    fx_settle();
    KT_EXPECT_EQ(ks_thread_interrupt((ks_handle_t)t.h), 0);
    KT_EXPECT_EQ(thread_finish(&t), 0);
    KT_EXPECT_EQ(fx_result[0], KS_ERR_INTERRUPTED);
    KT_EXPECT_EQ(ks_futex_wake(&fx_word, 1), 0);        /* it left the queue */
}

static void futex_bad_addresses(void)
{
    static uint32_t words[2];
    volatile uint32_t *odd = (volatile uint32_t *)((uintptr_t)words + 2);
    KT_EXPECT_EQ(ks_futex_wait(odd, 0, KS_FOREVER), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_futex_wake(odd, 1), KS_ERR_INVALID);
    for (unsigned i = 0; i < NBAD; i++) {
        volatile uint32_t *p = (volatile uint32_t *)bad_ptrs[i].addr;
        if ((uintptr_t)p & 3)
            continue;
        EXPECT_FAULT(ks_futex_wait(p, 0, KS_FOREVER), bad_ptrs[i].what);
        long w = ks_futex_wake(p, 1);
        KT_EXPECT(w == 0 || w == KS_ERR_FAULT);         /* nobody can wait there */
    }
    KT_EXPECT_EQ(ks_futex_wait((volatile uint32_t *)KERNEL_ADDR, 0, 0), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_futex_wake((volatile uint32_t *)KERNEL_ADDR, 1), KS_ERR_FAULT);
    struct ks_ids ids;
    KT_EXPECT_EQ(ks_self_ids(&ids), 0);
    KT_EXPECT(ids.pid > 0 && ids.tid > 0 && ids.pid != ids.parent_pid);
    EXPECT_FAULT(ks_self_ids((struct ks_ids *)KERNEL_ADDR), "kernel");
    EXPECT_FAULT(ks_self_ids((struct ks_ids *)UNMAPPED_ADDR), "unmapped");
}

/* A thread's exit clears the word it names and wakes its waiter (pthread_join's way). */
static void futex_exit_clears(void)
{
    fx_word2 = 0x1234;
    struct uthread t = thread_start(fx_exit_clear, (long)&fx_word2);
    KT_ASSERT(t.h > 0);
    long r = ks_futex_wait(&fx_word2, 0x1234, KS_FOREVER);
    KT_EXPECT(r == 0 || r == KS_ERR_AGAIN);     /* woken, or it was quicker than us */
    KT_EXPECT_EQ(fx_word2, 0);
    KT_EXPECT_EQ(thread_finish(&t), 7);
}

/* A bad clear address does not stop the exit: kernel, unmapped, misaligned, read-only. */
static void futex_exit_bad_clear(void)
{
    static const uint32_t ro_word = 5;      /* .rodata: mapped read-only */
    const uintptr_t bad[] = { KERNEL_ADDR, UNMAPPED_ADDR, (uintptr_t)&fx_word2 + 1, (uintptr_t)&ro_word };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct uthread t = thread_start(fx_exit_clear, (long)bad[i]);
        KT_ASSERT(t.h > 0);
        KT_EXPECT_EQ(thread_finish(&t), 7);
    }
    KT_EXPECT_EQ(ro_word, 5);
}

static const struct ktest_case futex_cases[] = {
    { "value_differs", futex_value_differs },
    { "timeout", futex_timeout },
    { "wake_counts", futex_wake_counts },
    { "interrupted", futex_interrupted },
    { "bad_addresses", futex_bad_addresses },
    { "exit_clears", futex_exit_clears },
    { "exit_bad_clear", futex_exit_bad_clear },
};
KTEST_SUITE(futex_suite, "futex", futex_cases);

/* ---- limits ---- */

static volatile long limit_thread_ran;

static void limit_thread(long arg)
{
    limit_thread_ran = 1;
    ks_thread_exit(arg);
}

static void limits_handles(void)
{
    static long dups[KS_HANDLE_MAX];
    /* Between cases we hold one handle: the boot image's. */
    KT_EXPECT_EQ(KS_INFO_TYPE(ks_handle_info(bootimg())), KS_OBJ_MEMOBJ);
    struct ks_kstat k = kstat_now();
    long m = ks_memobj_create(KS_PAGE_SIZE);
    KT_ASSERT(m > 0);
    uintptr_t stack = ulib_map_anon(TEST_STACK_SIZE);     /* while memobj_create can still make a handle */
    KT_EXPECT(stack);
    int n = 0;
    long r;
    while (n < KS_HANDLE_MAX && (r = ks_handle_duplicate((ks_handle_t)m, KS_RIGHTS_ALL & 0x3f)) > 0)
        dups[n++] = r;
    KT_EXPECT_EQ(r, KS_ERR_NO_HANDLES);
    KT_EXPECT_EQ(n, KS_HANDLE_MAX - 2);
    /* Everything that makes a handle fails, and takes nothing with it. */
    struct ks_kstat full = kstat_now();
    KT_EXPECT_EQ(ks_memobj_create(KS_PAGE_SIZE), KS_ERR_NO_HANDLES);
    KT_EXPECT_EQ(ks_view_create((ks_handle_t)m, KS_RIGHT_READ), KS_ERR_NO_HANDLES);
    KT_EXPECT_EQ(ks_process_create("full", 4), KS_ERR_NO_HANDLES);
    KT_EXPECT_EQ(ks_handle_duplicate(KS_THREAD_SELF, 0), KS_ERR_NO_HANDLES);
    limit_thread_ran = 0;
    KT_EXPECT_EQ(ks_thread_create(KS_PROCESS_SELF, (void *)limit_thread, (void *)(stack + TEST_STACK_SIZE), 1),
                 KS_ERR_NO_HANDLES);
    KT_EXPECT_EQ(ks_thread_sleep(20 * MS), 0);
    KT_EXPECT_EQ(limit_thread_ran, 0);              /* the thread never started */
    const char *argv[] = { "uchild", "exit", "1", NULL };
    KT_EXPECT_EQ(ulib_spawn(bootimg(), "uchild", argv, NULL, 0), KS_ERR_NO_HANDLES);
    EXPECT_SAME_KSTAT(&full);
    /* One slot free: exactly one more. */
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)dups[--n]), 0);
    r = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ);
    KT_EXPECT(r > 0);
    if (r > 0)
        dups[n++] = r;
    KT_EXPECT_EQ(ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ), KS_ERR_NO_HANDLES);
    /* The lowest free slot is taken first, though the highest was closed last. */
    long lo = dups[0], hi = dups[n - 1];
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)lo), 0);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)hi), 0);
    dups[0] = ks_handle_duplicate((ks_handle_t)m, KS_RIGHTS_ALL & 0x3f);
    dups[n - 1] = ks_handle_duplicate((ks_handle_t)m, KS_RIGHTS_ALL & 0x3f);
    KT_EXPECT_EQ(dups[0] & 0xff, lo & 0xff);
    KT_EXPECT_EQ(dups[n - 1] & 0xff, hi & 0xff);
    KT_EXPECT(dups[0] != lo && dups[n - 1] != hi);        /* new generations */
    /* Every duplicate names the same memobj. */
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)dups[0], 0, "dup", 3), 3);
    char b[3] = { 0 };
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)dups[n - 1], 0, b, 3), 3);
    KT_EXPECT(memcmp(b, "dup", 3) == 0);
    while (n > 0)
        KT_EXPECT_EQ(ks_handle_close((ks_handle_t)dups[--n]), 0);
    r = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ);
    KT_EXPECT(r > 0);
    ks_handle_close((ks_handle_t)r);
    UNMAP(stack, TEST_STACK_SIZE);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)m), 0);
    EXPECT_SAME_KSTAT(&k);
}

#define CHUNK (1ul << 20)
#define PER_MEMOBJ (16ul << 20)
#define MAX_MEMOBJS 20                   /* 320 MiB: more than there is */

struct hog {
    long mo[MAX_MEMOBJS];
    int n;
    uint64_t bytes;
    long last;                          /* the last write's result */
};

/* Write CHUNK-sized pieces of buf into memobjs until `limit` bytes or an error. */
static void hog_fill(struct hog *h, const void *buf, uint64_t limit)
{
    memset(h, 0, sizeof *h);
    while (h->bytes < limit) {
        uint64_t off = h->bytes % PER_MEMOBJ;
        if (off == 0) {
            if (h->n == MAX_MEMOBJS)
                break;
            long m = ks_memobj_create(0);
            if (m < 0) {
                h->last = m;
                break;
            }
            h->mo[h->n++] = m;
        }
        long r = ks_memobj_write((ks_handle_t)h->mo[h->n - 1], off, buf, CHUNK);
        h->last = r;
        if (r <= 0)
            break;
        h->bytes += (uint64_t)r;
        if (r != (long)CHUNK)
            break;
    }
}

/*
 * Close in creation order. The order matters to the page count: kernel/heap.c
 * keeps a size class's only partial slab when its last object is freed. Closing
 * newest first would empty the newest memobj slab while the older one (which
 * also holds long-lived objects) is still full and off the partial list, so that
 * empty slab would stay cached: one page fewer free than before, every time
 * (measured). Oldest first puts the older slab back on the list first, and the
 * newer one, emptied last, goes back to the page allocator.
 */
static void hog_free(struct hog *h)
{
    for (int i = 0; i < h->n; i++)
        ks_handle_close((ks_handle_t)h->mo[i]);
    h->n = 0;
}

static void limits_memory(void)
{
    static struct hog hog;
    uintptr_t buf = ulib_map_anon(CHUNK);
    KT_ASSERT(buf);
    memset((void *)buf, 0x3c, CHUNK);
    /* Warm-up: the same work on a small scale, so the caches it fills are in the baseline. */
    hog_fill(&hog, (void *)buf, 2 * PER_MEMOBJ);
    KT_EXPECT_EQ(hog.bytes, 2 * PER_MEMOBJ);
    hog_free(&hog);
    struct ks_kstat base = kstat_now();

    hog_fill(&hog, (void *)buf, MAX_MEMOBJS * PER_MEMOBJ);
    uint64_t filled = hog.bytes;
    struct ks_kstat full = kstat_now();
    if (hog.last >= 0) {        /* a short write: the next one must find nothing */
        long r = ks_memobj_write((ks_handle_t)hog.mo[hog.n - 1], hog.bytes % PER_MEMOBJ, (void *)buf, CHUNK);
        hog.last = r > 0 ? 0 : r;
        if (r > 0)
            hog.bytes += (uint64_t)r;
    }
    KT_EXPECT_EQ(hog.last, KS_ERR_NO_MEMORY);
    KT_EXPECT(filled < MAX_MEMOBJS * PER_MEMOBJ);
    KT_EXPECT(filled > base.free_pages * KS_PAGE_SIZE / 2);
    printf("# limits.memory: %lu MiB filled, %lu pages were free, %lu left\n",
           (unsigned long)(filled >> 20), (unsigned long)base.free_pages, (unsigned long)full.free_pages);
    /* With no memory, calls that need some fail cleanly. */
    long t = ks_thread_create(KS_PROCESS_SELF, (void *)limit_thread, (void *)(buf + CHUNK), 2);
    KT_EXPECT_EQ(t, KS_ERR_NO_MEMORY);
    if (t > 0) {
        ks_thread_join((ks_handle_t)t);
        ks_handle_close((ks_handle_t)t);
    }
    long p = spawn_child("exit", "1", NULL, 0);
    KT_EXPECT(p < 0);
    if (p > 0)
        wait_close(p);
    hog_free(&hog);
    struct ks_kstat after = kstat_now();
    KT_EXPECT_EQ(after.objects, base.objects);
    KT_EXPECT_EQ(after.heap_objects, base.heap_objects);
    KT_EXPECT_EQ(after.free_pages, base.free_pages);
    /* And memory is usable again. */
    KT_EXPECT_EQ(run_child("exit", "5", NULL, 0), 5);
    UNMAP(buf, CHUNK);
}

/*
 * A chain of thread-less processes, each holding the only handle to the next:
 * closing the first ends them all, without the kernel's stack growing with
 * the chain (it once overflowed at a few hundred).
 */
static void limits_process_chain(void)
{
    enum { CHAIN = 1000 };
    struct ks_kstat k = kstat_now();
    long first = ks_process_create("chain", 5), cur = first;
    KT_ASSERT(first > 0);
    int made = 1;
    for (; made < CHAIN; made++) {
        long next = ks_process_create("chain", 5);
        if (next < 0)
            break;
        long copied = ks_handle_transfer((ks_handle_t)cur, (ks_handle_t)next, KS_RIGHTS_ALL, 0);
        if (cur != first)
            ks_handle_close((ks_handle_t)cur);  /* its only handle is now in its predecessor */
        cur = next;
        if (copied < 0)
            break;
    }
    if (cur != first)
        ks_handle_close((ks_handle_t)cur);
    KT_EXPECT_EQ(made, CHAIN);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)first), 0);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * KS_SYS_RANDOM: two requests differ and are not all zero; at most 4,096
 * bytes a call; a buffer that cannot be written is refused. AT_RANDOM's 16
 * bytes, which the loader filled from the same generator, are not zero.
 */
static void limits_random(void)
{
    static uint8_t a[8192], b[64];
    KT_EXPECT_EQ(ks_random(a, 64), 64);
    KT_EXPECT_EQ(ks_random(b, 64), 64);
    KT_EXPECT(memcmp(a, b, 64) != 0);
    int zeros = 0;
    for (int i = 0; i < 64; i++)
        zeros += a[i] == 0;
    KT_EXPECT(zeros < 16);
    KT_EXPECT_EQ(ks_random(a, sizeof a), 4096);
    KT_EXPECT_EQ(ks_random(a, 0), 0);
    KT_EXPECT_EQ(ks_random((void *)0x1000, 16), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_random((void *)0xffffffff80200000ul, 16), KS_ERR_FAULT);
    const uint8_t *at = (const uint8_t *)ulib_auxv(25);     /* AT_RANDOM */
    KT_ASSERT(at);
    uint8_t any = 0;
    for (int i = 0; i < 16; i++)
        any |= at[i];
    KT_EXPECT(any != 0);
}

/* KS_SYS_PROCESS_TIMES: this thread's time is within the process's; bad arguments refused. */
static void limits_times(void)
{
    struct ks_times t;
    for (volatile long i = 0; i < 3000000; i++)
        ;
    KT_EXPECT_EQ(ks_process_times(KS_PROCESS_SELF, &t), 0);
    KT_EXPECT(t.thread_user_ns + t.thread_system_ns <= t.user_ns + t.system_ns);
    KT_EXPECT_EQ(t.reserved[0] | t.reserved[1], 0);
    KT_EXPECT_EQ(ks_process_times(KS_PROCESS_SELF, (struct ks_times *)0x1000), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_process_times(KS_THREAD_SELF, &t), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_process_times(12345, &t), KS_ERR_BAD_HANDLE);
}

/*
 * A process may lower its own limits (setrlimit) but never raise one: init
 * gave utest limits, so there is something to raise.
 */
static void limits_own_lowered_only(void)
{
    struct ks_limits cur, l;
    KT_ASSERT(ks_process_limit(KS_PROCESS_SELF, NULL, NULL, &cur) == 0);
    KT_ASSERT(cur.memory != KS_UNLIMITED && cur.threads > 64);
    l = cur;
    l.memory += KS_PAGE_SIZE;
    KT_EXPECT_EQ(ks_process_limit(KS_PROCESS_SELF, &l, NULL, NULL), KS_ERR_ACCESS);
    l = cur;
    l.threads = cur.threads - 1;
    KT_EXPECT_EQ(ks_process_limit(KS_PROCESS_SELF, &l, NULL, NULL), 0);
    KT_EXPECT_EQ(ks_process_limit(KS_PROCESS_SELF, NULL, NULL, &l), 0);
    KT_EXPECT_EQ(l.threads, cur.threads - 1);
    l.threads = cur.threads;                    /* back up: refused */
    KT_EXPECT_EQ(ks_process_limit(KS_PROCESS_SELF, &l, NULL, NULL), KS_ERR_ACCESS);
}

/*
 * The upcall, watch and robust-list calls refuse what user space gets wrong:
 * bad pointers, out-of-range values, wrong handle types; nothing changes.
 */
static void limits_upcall_refusals(void)
{
    uint64_t out[2];
    struct ks_kstat k = kstat_now();
    KT_EXPECT_EQ(ks_upcall_set(0x10, 0), KS_ERR_RANGE);                 /* below user space */
    KT_EXPECT_EQ(ks_upcall_set(0xffffffff80200000ul, 0), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_upcall_mask(7, 0, out), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_upcall_mask(KS_MASK_BLOCK, 0, (uint64_t *)0x1000), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_upcall_raise(KS_PROCESS_SELF, 0), KS_ERR_INVALID);
    long m = ks_memobj_create(0);
    KT_ASSERT(m > 0);
    KT_EXPECT_EQ(ks_upcall_raise((ks_handle_t)m, 1), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_upcall_return((void *)0x1000), KS_ERR_FAULT);
    static struct ks_upcall_frame f;                /* readable, but its pc is no user address */
    f.x[0] = 0xffffffff80200000ul;
    KT_EXPECT_EQ(ks_upcall_return(&f), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_upcall_take(0, 0), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_upcall_take(1ull << 40, 0), KS_ERR_TIMED_OUT);  /* nothing pending */
    KT_EXPECT_EQ(ks_upcall_suspend(0), KS_ERR_BAD_STATE);            /* no entry: nothing could end it */
    KT_EXPECT_EQ(ks_upcall_fault(1, 11), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_upcall_fault(KS_KILL_PAGE_FAULT, 65), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_watch((ks_handle_t)m, KS_WATCH_READABLE, 0, 0), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_watch(KS_PROCESS_SELF, 1u << 5, 0, 0), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_listener_wait((ks_handle_t)m, 0, out), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_listener_wait(KS_PROCESS_SELF, 0, (uint64_t *)0xffffffff80200000ul), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_thread_robust((void *)0x1004, 1), KS_ERR_FAULT);  /* misaligned */
    KT_EXPECT_EQ(ks_thread_robust((void *)0xffffffff80200000ul, 1), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_ipc_notify((ks_handle_t)m, 1), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_process_kill_cause(KS_PROCESS_SELF, 7), KS_ERR_INVALID);
    ks_handle_close((ks_handle_t)m);
    EXPECT_SAME_KSTAT(&k);
}

static const struct ktest_case limits_cases[] = {
    { "random", limits_random },
    { "upcall_refusals", limits_upcall_refusals },
    { "own_lowered_only", limits_own_lowered_only },
    { "times", limits_times },
    { "process_chain", limits_process_chain },
    { "handles", limits_handles },
    { "memory", limits_memory },
};
KTEST_SUITE(limits_suite, "limits", limits_cases);

/* ---- leak: the whole run, from main's first line to here ---- */

static struct ks_kstat run_start;

static void leak_whole_run(void)
{
    struct ks_kstat now = kstat_now();
    if (known_leak.objects || known_leak.heap_objects || known_leak.free_pages)
        printf("# leak.whole_run: failed cases left %lu objects, %lu heap objects, %lu pages they cannot free\n",
               (unsigned long)known_leak.objects, (unsigned long)known_leak.heap_objects,
               (unsigned long)known_leak.free_pages);
    /* Beyond those, nothing: */
    KT_EXPECT_EQ(now.objects - known_leak.objects, run_start.objects);
    KT_EXPECT_EQ(now.heap_objects - known_leak.heap_objects, run_start.heap_objects);
    KT_EXPECT_EQ(now.free_pages + known_leak.free_pages, run_start.free_pages);
    /* and not even those. */
    KT_EXPECT_EQ(now.objects, run_start.objects);
    KT_EXPECT_EQ(now.heap_objects, run_start.heap_objects);
    KT_EXPECT_EQ(now.free_pages, run_start.free_pages);
    KT_EXPECT_EQ(now.total_pages, run_start.total_pages);
}

static const struct ktest_case leak_cases[] = {
    { "whole_run", leak_whole_run },
};
KTEST_SUITE(leak_suite, "leak", leak_cases);

/* ---- pager: paged memobjs (kernel/pager.c) ---- */

#define PAGED_PAGES 16

struct paged {
    ks_handle_t listener, mo;
    long supplied, supply_calls;        /* pages supplied, KS_SYS_PAGER_SUPPLY calls */
    uint64_t last_requests[8];
    long nlast;
};

/* Page p's bytes: each depends on the page and its offset. */
static uint8_t paged_byte(uint64_t p, uint64_t off) { return (uint8_t)(p * 37 + off * 11 + 5); }

static int paged_open(struct paged *pg, uint64_t size)
{
    memset(pg, 0, sizeof *pg);
    long l = ks_ipc_listener_create();
    long m = l > 0 ? ks_memobj_create_paged(size, (ks_handle_t)l, 77) : l;
    pg->listener = (ks_handle_t)l;
    pg->mo = (ks_handle_t)m;
    return l > 0 && m > 0;
}

static void paged_close(struct paged *pg)
{
    ks_handle_close(pg->mo);
    ks_handle_close(pg->listener);
}

/* Serve the pager's notifications for up to ms milliseconds (or until `until` is set): each wanted page supplied. */
static void paged_serve(struct paged *pg, long ms, volatile int *until)
{
    static uint8_t page[KS_PAGE_SIZE];
    uint64_t deadline = (uint64_t)ks_clock_ns() + (uint64_t)ms * 1000000ull;
    while ((uint64_t)ks_clock_ns() < deadline && !(until && *until)) {
        uint64_t note[2];
        if (ks_listener_wait(pg->listener, 5000000, note) != 0)
            continue;
        KT_EXPECT_EQ(note[0], KS_PAGER_NOTE);
        KT_EXPECT_EQ(note[1], 77);
        uint64_t want[8];
        long n = ks_pager_requests(pg->mo, want, 8);
        if (n > 0) {
            memcpy(pg->last_requests, want, sizeof want);
            pg->nlast = n;
        }
        for (long i = 0; i < n; i++) {
            for (uint64_t b = 0; b < KS_PAGE_SIZE; b++)
                page[b] = paged_byte(want[i], b);
            long r = ks_pager_supply(pg->mo, want[i], page, 1);
            KT_EXPECT(r == 0 || r == 1);
            pg->supplied += r > 0 ? r : 0;
            pg->supply_calls++;
        }
    }
}

static struct paged shared_pg;
static volatile int toucher_done;
static volatile long toucher_bad;

/* Touch pages 3, 7 (twice) and 12 of shared_pg through a mapping, and read page 5 with memobj_read. */
static void toucher(long arg)
{
    long a = ks_vm_map(KS_PROCESS_SELF, shared_pg.mo, 0, 0, PAGED_PAGES * KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_SHARED);
    static const uint64_t pages[] = { 3, 7, 7, 12 };
    for (unsigned i = 0; a > 0 && i < 4; i++)
        if (*(volatile uint8_t *)(a + pages[i] * KS_PAGE_SIZE + 100) != paged_byte(pages[i], 100))
            toucher_bad = 1 + i;
    uint8_t b[16];
    if (ks_memobj_read(shared_pg.mo, 5 * KS_PAGE_SIZE + 9, b, sizeof b) != (long)sizeof b ||
        b[0] != paged_byte(5, 9) || b[15] != paged_byte(5, 24))
        toucher_bad = 10;
    if (a > 0)
        ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)a, PAGED_PAGES * KS_PAGE_SIZE);
    else
        toucher_bad = 20;
    toucher_done = 1;
    ks_thread_exit(0);
}

/* Pages come only when touched: as many requests as distinct pages, with the pager's bytes. */
static void pager_lazy(void)
{
    struct ks_kstat k = kstat_now();
    KT_ASSERT(paged_open(&shared_pg, PAGED_PAGES * KS_PAGE_SIZE));
    toucher_done = 0;
    toucher_bad = 0;
    struct uthread t = thread_start(toucher, 0);
    paged_serve(&shared_pg, 5000, &toucher_done);
    thread_finish(&t);
    KT_EXPECT_EQ(toucher_bad, 0);
    KT_EXPECT(toucher_done);
    KT_EXPECT_EQ(shared_pg.supplied, 4);           /* pages 3, 7, 12 and 5: each once */
    uint8_t b[2];
    KT_EXPECT_EQ(ks_memobj_read(shared_pg.mo, 7 * KS_PAGE_SIZE, b, 2), 2);      /* there now: no request */
    KT_EXPECT_EQ(b[1], paged_byte(7, 1));
    uint64_t want[4];
    KT_EXPECT_EQ(ks_pager_requests(shared_pg.mo, want, 4), 0);
    paged_close(&shared_pg);
    EXPECT_SAME_KSTAT(&k);
}

static volatile int crowd_done, crowd_arrived;

static void crowd(long arg)
{
    long a = ks_vm_map(KS_PROCESS_SELF, shared_pg.mo, 0, 0, PAGED_PAGES * KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_SHARED);
    __atomic_fetch_add(&crowd_arrived, 1, __ATOMIC_RELAXED);
    if (a <= 0 || *(volatile uint8_t *)(a + 2 * KS_PAGE_SIZE + arg) != paged_byte(2, (uint64_t)arg))
        toucher_bad = 1;
    if (a > 0)
        ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)a, PAGED_PAGES * KS_PAGE_SIZE);
    __atomic_fetch_add(&crowd_done, 1, __ATOMIC_RELAXED);
    ks_thread_exit(0);
}

/* Four threads fault on one page at once: one request, one supply, all four resume. */
static void pager_one_request(void)
{
    struct ks_kstat k = kstat_now();
    KT_ASSERT(paged_open(&shared_pg, PAGED_PAGES * KS_PAGE_SIZE));
    crowd_done = crowd_arrived = 0;
    toucher_bad = 0;
    struct uthread t[4];
    for (long i = 0; i < 4; i++)
        t[i] = thread_start(crowd, i);
    uint64_t note[2], want[8];
    KT_ASSERT(ks_listener_wait(shared_pg.listener, 1000000000ull, note) == 0);
    for (int i = 0; i < 100 && crowd_arrived < 4; i++)
        ks_thread_sleep(1000000);
    KT_EXPECT_EQ(crowd_arrived, 4);     /* all four mapped it and went for the page */
    ks_thread_sleep(20000000);          /* and are at it (none can pass without the supply) */
    KT_EXPECT_EQ(crowd_done, 0);
    KT_EXPECT_EQ(ks_listener_wait(shared_pg.listener, 0, note), KS_ERR_TIMED_OUT);   /* one notification */
    KT_EXPECT_EQ(ks_pager_requests(shared_pg.mo, want, 8), 1);
    KT_EXPECT_EQ(want[0], 2);
    static uint8_t page[KS_PAGE_SIZE];
    for (uint64_t b = 0; b < KS_PAGE_SIZE; b++)
        page[b] = paged_byte(2, b);
    KT_EXPECT_EQ(ks_pager_supply(shared_pg.mo, 2, page, 1), 1);
    KT_EXPECT_EQ(ks_pager_supply(shared_pg.mo, 2, page, 1), 0);     /* there already */
    for (int i = 0; i < 4; i++)
        thread_finish(&t[i]);
    KT_EXPECT_EQ(crowd_done, 4);
    KT_EXPECT_EQ(toucher_bad, 0);
    paged_close(&shared_pg);
    EXPECT_SAME_KSTAT(&k);
}

static volatile long reader_result;

static void reader(long page)
{
    uint8_t b[4];
    reader_result = ks_memobj_read(shared_pg.mo, (uint64_t)page * KS_PAGE_SIZE, b, sizeof b);
    toucher_done = 1;
    ks_thread_exit(0);
}

/* A failed page: readers get KS_ERR_IO, a process touching it is killed with one line; others still page. */
static void pager_fail(void)
{
    struct ks_kstat k = kstat_now();
    KT_ASSERT(paged_open(&shared_pg, PAGED_PAGES * KS_PAGE_SIZE));
    toucher_done = 0;
    struct uthread t = thread_start(reader, 4);
    uint64_t note[2];
    KT_ASSERT(ks_listener_wait(shared_pg.listener, 1000000000ull, note) == 0);
    KT_EXPECT_EQ(ks_pager_fail(shared_pg.mo, 4, 2), 0);     /* pages 4 and 5 */
    thread_finish(&t);
    KT_EXPECT_EQ(reader_result, KS_ERR_IO);
    uint8_t b[4];
    KT_EXPECT_EQ(ks_memobj_read(shared_pg.mo, 5 * KS_PAGE_SIZE, b, 4), KS_ERR_IO);    /* at once, now */
    KT_EXPECT_EQ(ks_memobj_write(shared_pg.mo, 4 * KS_PAGE_SIZE + 1, b, 4), KS_ERR_IO);
    /* A child process that touches page 4 is killed (a page fault), not left waiting. */
    ks_handle_t given[] = { shared_pg.mo };
    long c = spawn_child("touch", "16400", given, 1);      /* 4 * 4096 + 16 */
    uint64_t status = wait_close(c);
    KT_EXPECT(status & KS_STATUS_KILLED);
    KT_EXPECT_EQ(status & 0xff, KS_KILL_PAGE_FAULT);
    /* A page the pager supplies after failing it is there after all. */
    static uint8_t page[KS_PAGE_SIZE];
    memset(page, 0x42, sizeof page);
    KT_EXPECT_EQ(ks_pager_supply(shared_pg.mo, 5, page, 1), 1);
    KT_EXPECT_EQ(ks_memobj_read(shared_pg.mo, 5 * KS_PAGE_SIZE, b, 4), 4);
    KT_EXPECT_EQ(b[3], 0x42);
    paged_close(&shared_pg);
    EXPECT_SAME_KSTAT(&k);
}

/* The pager's listener closes while a reader waits: the reader gets KS_ERR_IO; later touches too. */
static void pager_gone(void)
{
    struct ks_kstat k = kstat_now();
    KT_ASSERT(paged_open(&shared_pg, PAGED_PAGES * KS_PAGE_SIZE));
    toucher_done = 0;
    struct uthread t = thread_start(reader, 9);
    uint64_t note[2];
    KT_ASSERT(ks_listener_wait(shared_pg.listener, 1000000000ull, note) == 0);
    ks_handle_close(shared_pg.listener);
    thread_finish(&t);
    KT_EXPECT_EQ(reader_result, KS_ERR_IO);
    uint8_t b[4];
    KT_EXPECT_EQ(ks_memobj_read(shared_pg.mo, 0, b, 4), KS_ERR_IO);
    ks_handle_t given[] = { shared_pg.mo };
    uint64_t status = wait_close(spawn_child("touch", "100", given, 1));
    KT_EXPECT(status & KS_STATUS_KILLED);
    ks_handle_close(shared_pg.mo);
    EXPECT_SAME_KSTAT(&k);
}

/* Truncation: pages past the new size are not paged any more (zeros after growing again), nor asked for. */
static void pager_truncated(void)
{
    struct ks_kstat k = kstat_now();
    KT_ASSERT(paged_open(&shared_pg, PAGED_PAGES * KS_PAGE_SIZE));
    KT_EXPECT_EQ(ks_memobj_truncate(shared_pg.mo, 2 * KS_PAGE_SIZE), 0);
    KT_EXPECT_EQ(ks_memobj_truncate(shared_pg.mo, PAGED_PAGES * KS_PAGE_SIZE), 0);
    uint8_t b[4] = { 1, 1, 1, 1 };
    KT_EXPECT_EQ(ks_memobj_read(shared_pg.mo, 9 * KS_PAGE_SIZE, b, 4), 4);      /* no pager needed */
    KT_EXPECT_EQ(b[0] | b[1] | b[2] | b[3], 0);
    uint64_t want[4];
    KT_EXPECT_EQ(ks_pager_requests(shared_pg.mo, want, 4), 0);
    static uint8_t page[KS_PAGE_SIZE];
    KT_EXPECT_EQ(ks_pager_supply(shared_pg.mo, 2, page, 1), KS_ERR_RANGE);       /* not paged now */
    KT_EXPECT_EQ(ks_pager_supply(shared_pg.mo, 1, page, 1), 1);                  /* still paged */
    paged_close(&shared_pg);
    EXPECT_SAME_KSTAT(&k);
}

static volatile long view_result;
static ks_handle_t shared_view;

static void view_reader(long arg)
{
    uint8_t b[8];
    view_result = ks_view_read(shared_view, b, sizeof b);
    if (view_result == 8 && (b[0] != paged_byte(0, 100) || b[7] != paged_byte(0, 107)))
        view_result = -999;
    toucher_done = 1;
    ks_thread_exit(0);
}

/*
 * A view read of a paged page waits for it (the counted path), and a last page
 * past the memobj's size keeps zeros there whatever the pager sends.
 */
static void pager_view_and_tail(void)
{
    struct ks_kstat k = kstat_now();
    KT_ASSERT(paged_open(&shared_pg, KS_PAGE_SIZE + 100));     /* two pages, the second mostly past the end */
    long v = ks_view_create(shared_pg.mo, KS_RIGHT_READ);
    KT_ASSERT(v > 0);
    shared_view = (ks_handle_t)v;
    KT_EXPECT_EQ(ks_view_seek(shared_view, 100, 0), 100);
    toucher_done = 0;
    struct uthread t = thread_start(view_reader, 0);
    paged_serve(&shared_pg, 5000, &toucher_done);
    thread_finish(&t);
    KT_EXPECT_EQ(view_result, 8);
    static uint8_t page[KS_PAGE_SIZE];
    memset(page, 0xee, sizeof page);
    KT_EXPECT_EQ(ks_pager_supply(shared_pg.mo, 1, page, 1), 1);
    KT_EXPECT_EQ(ks_memobj_truncate(shared_pg.mo, 2 * KS_PAGE_SIZE), 0);
    uint8_t b[2];
    KT_EXPECT_EQ(ks_memobj_read(shared_pg.mo, KS_PAGE_SIZE + 99, b, 2), 2);
    KT_EXPECT_EQ(b[0], 0xee);           /* inside the old size: the pager's byte */
    KT_EXPECT_EQ(b[1], 0);              /* past it: zero */
    ks_handle_close(shared_view);
    paged_close(&shared_pg);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * Kernel copies wait for a pager too: every buffer below lies on its own page
 * of a mapping of the paged memobj that nothing has touched yet, and each
 * call behaves as with ordinary memory (memobj and view copies, a pipe both
 * ways, a futex word, an IPC call's buffers on both sides and the reply's).
 */
#define KC_PAGES 12
static volatile uintptr_t kc_map;
static volatile long kc_bad, kc_server_bad;      /* kc_bad: bit n for step n failed */
static ks_handle_t kc_listener;

static void kc_server(long arg)
{
    uint8_t buf[64];
    uint64_t w[KS_IPC_WORDS] = { 0 }, info = 0;
    struct ks_ipc_desc d = { .recv_buf = buf, .recv_cap = sizeof buf };
    long rp = ks_ipc_receive(kc_listener, &d, w, NULL, &info);
    if (rp < 0 || d.recv_len != 48)
        kc_server_bad = 1;
    for (int i = 0; rp >= 0 && i < 48; i++)
        if (buf[i] != paged_byte(7, (uint64_t)i))
            kc_server_bad = 2;
    struct ks_ipc_desc r = { .send_buf = (const void *)(kc_map + 8 * KS_PAGE_SIZE + 1), .send_len = 48 };
    if (rp >= 0 && ks_ipc_reply((ks_handle_t)rp, &r, w) != 0)
        kc_server_bad = 3;
    ks_thread_exit(0);
}

static void kc_copier(long arg)
{
    const uint64_t P = KS_PAGE_SIZE;
    uintptr_t a = kc_map;
    uint8_t b[128];
    /* 1: memobj write from the mapping; 2: memobj read into it */
    long plain = ks_memobj_create(P);
    if (plain < 0 || ks_memobj_write((ks_handle_t)plain, 0, (void *)(a + P + 10), 100) != 100 ||
        ks_memobj_read((ks_handle_t)plain, 0, b, 100) != 100)
        kc_bad |= 1 << 1;
    for (int i = 0; i < 100; i++)
        if (b[i] != paged_byte(1, 10 + (uint64_t)i))
            kc_bad |= 1 << 2;
    if (ks_memobj_read((ks_handle_t)plain, 0, (void *)(a + 2 * P + 20), 50) != 50 ||
        memcmp((void *)(a + 2 * P + 20), b, 50) != 0 || *(uint8_t *)(a + 2 * P + 19) != paged_byte(2, 19))
        kc_bad |= 1 << 3;
    /* 3: a view write (handle_peek's path) from the mapping */
    long v = plain > 0 ? ks_view_create((ks_handle_t)plain, KS_RIGHT_READ | KS_RIGHT_WRITE) : -1;
    if (v < 0 || ks_view_write((ks_handle_t)v, (void *)(a + 3 * P), 64) != 64 ||
        ks_memobj_read((ks_handle_t)plain, 0, b, 64) != 64 || b[63] != paged_byte(3, 63))
        kc_bad |= 1 << 4;
    /* 4 and 5: a pipe written from one page and read into another */
    ks_handle_t ends[2];
    if (ks_pipe_create(ends) != 0 || ks_pipe_write(ends[1], (void *)(a + 4 * P + 5), 32, 0) != 32 ||
        ks_pipe_read(ends[0], (void *)(a + 5 * P + 7), 32, 0) != 32 ||
        *(uint8_t *)(a + 5 * P + 7 + 31) != paged_byte(4, 5 + 31) || *(uint8_t *)(a + 5 * P + 6) != paged_byte(5, 6))
        kc_bad |= 1 << 5;
    /* 6: a futex word: compared (time-out), not a fault */
    uint32_t word = (uint32_t)paged_byte(6, 0) | (uint32_t)paged_byte(6, 1) << 8 |
                    (uint32_t)paged_byte(6, 2) << 16 | (uint32_t)paged_byte(6, 3) << 24;
    if (ks_futex_wait((volatile uint32_t *)(a + 6 * P), word, 1000000) != KS_ERR_TIMED_OUT)
        kc_bad |= 1 << 6;
    /* 7, 8, 9: an IPC call sending from page 7, the reply (from page 8) received on page 9 */
    long port = ks_ipc_client_create(kc_listener, 5);
    uint64_t w[KS_IPC_WORDS] = { 1 }, info = 0;
    struct ks_ipc_desc d = { .send_buf = (const void *)(a + 7 * P), .send_len = 48,
                             .recv_buf = (void *)(a + 9 * P + 3), .recv_cap = 48 };
    if (port < 0 || ks_ipc_call((ks_handle_t)port, &d, w, &info) != 0 || d.recv_len != 48 ||
        (info & KS_IPC_INFO_TRUNCATED))
        kc_bad |= 1 << 7;
    for (int i = 0; i < 48; i++)
        if (*(uint8_t *)(a + 9 * P + 3 + i) != paged_byte(8, 1 + (uint64_t)i))
            kc_bad |= 1 << 8;
    ks_handle_close((ks_handle_t)port);
    ks_handle_close(ends[0]);
    ks_handle_close(ends[1]);
    ks_handle_close((ks_handle_t)v);
    ks_handle_close((ks_handle_t)plain);
    toucher_done = 1;
    ks_thread_exit(0);
}

static void pager_kernel_copies(void)
{
    struct ks_kstat k = kstat_now();
    KT_ASSERT(paged_open(&shared_pg, KC_PAGES * KS_PAGE_SIZE));
    long a = ks_vm_map(KS_PROCESS_SELF, shared_pg.mo, 0, 0, KC_PAGES * KS_PAGE_SIZE,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    long l = ks_ipc_listener_create();
    KT_ASSERT(a > 0 && l > 0);
    kc_map = (uintptr_t)a;
    kc_listener = (ks_handle_t)l;
    kc_bad = kc_server_bad = 0;
    toucher_done = 0;
    struct uthread srv = thread_start(kc_server, 0);
    struct uthread t = thread_start(kc_copier, 0);
    paged_serve(&shared_pg, 5000, &toucher_done);
    thread_finish(&t);
    thread_finish(&srv);
    KT_EXPECT(toucher_done);
    KT_EXPECT_EQ(kc_bad, 0);
    KT_EXPECT_EQ(kc_server_bad, 0);
    KT_EXPECT_EQ(shared_pg.supplied, 9);        /* pages 1 to 9, each once */
    ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)a, KC_PAGES * KS_PAGE_SIZE);
    ks_handle_close((ks_handle_t)l);
    paged_close(&shared_pg);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * A pager that keeps its file: `store` holds every page as the pager has it
 * (the pattern at first); a supply gives the stored page, a write-back
 * stores the page the kernel hands over. Served by a thread of its own.
 */
#define ST_PAGES 16
static uint8_t store[ST_PAGES][KS_PAGE_SIZE];
static volatile int store_stop;
static volatile long store_supplies;

static void store_serve(long unused)
{
    while (!store_stop) {
        uint64_t note[2], want[8];
        if (ks_listener_wait(shared_pg.listener, 2000000, note) != 0)
            continue;
        long n = ks_pager_requests(shared_pg.mo, want, 8);
        for (long i = 0; i < n; i++)
            if (want[i] < ST_PAGES && ks_pager_supply(shared_pg.mo, want[i], store[want[i]], 1) == 1)
                store_supplies++;
    }
    ks_thread_exit(0);
}

static int store_open(struct uthread *t)
{
    for (uint64_t p = 0; p < ST_PAGES; p++)
        for (uint64_t b = 0; b < KS_PAGE_SIZE; b++)
            store[p][b] = paged_byte(p, b);
    store_stop = 0;
    store_supplies = 0;
    if (!paged_open(&shared_pg, ST_PAGES * KS_PAGE_SIZE))
        return 0;
    *t = thread_start(store_serve, 0);
    return 1;
}

static void store_close(struct uthread *t)
{
    store_stop = 1;
    thread_finish(t);
    paged_close(&shared_pg);
}

/* Write page p back into the store if it is dirty: what KS_SYS_PAGER_WRITEBACK said. */
static long store_writeback(uint64_t p)
{
    static uint8_t page[KS_PAGE_SIZE];
    long r = ks_pager_writeback(shared_pg.mo, p, page);
    if (r == 1)
        memcpy(store[p], page, KS_PAGE_SIZE);
    return r;
}

/*
 * Dirty pages, write-back and eviction: a store through a shared mapping and
 * a memobj write make their pages dirty (and nothing else); write-back hands
 * over the bytes and cleans, and the next store dirties again; eviction takes
 * clean pages only, and a page touched after its eviction comes back from
 * the pager with the bytes written back.
 */
static void pager_dirty_writeback(void)
{
    struct ks_kstat k = kstat_now();
    struct uthread t;
    KT_ASSERT(store_open(&t));
    long a = ks_vm_map(KS_PROCESS_SELF, shared_pg.mo, 0, 0, ST_PAGES * KS_PAGE_SIZE,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    KT_ASSERT(a > 0);
    volatile uint8_t *m = (volatile uint8_t *)a;
    uint64_t bits[4];
    KT_EXPECT_EQ(m[2 * KS_PAGE_SIZE + 5], paged_byte(2, 5));       /* read: supplied, clean */
    KT_EXPECT_EQ(ks_pager_dirty(shared_pg.mo, 0, ST_PAGES, bits), 0);
    m[2 * KS_PAGE_SIZE + 5] = 0xa1;                                  /* a store: dirty */
    uint8_t b = 0xb2;
    KT_EXPECT_EQ(ks_memobj_write(shared_pg.mo, 4 * KS_PAGE_SIZE + 9, &b, 1), 1);   /* a write: dirty */
    KT_EXPECT_EQ(ks_pager_dirty(shared_pg.mo, 0, ST_PAGES, bits), 2);
    KT_EXPECT_EQ(bits[0], (1u << 2) | (1u << 4));
    KT_EXPECT_EQ(store_writeback(2), 1);
    KT_EXPECT_EQ(store[2][5], 0xa1);
    KT_EXPECT_EQ(store[2][6], paged_byte(2, 6));
    KT_EXPECT_EQ(ks_pager_dirty(shared_pg.mo, 0, ST_PAGES, bits), 1);
    KT_EXPECT_EQ(store_writeback(2), 0);                             /* clean: nothing */
    m[2 * KS_PAGE_SIZE + 6] = 0xa2;                                  /* dirty again */
    KT_EXPECT_EQ(ks_pager_dirty(shared_pg.mo, 2, 1, bits), 1);
    KT_EXPECT_EQ(ks_pager_evict(shared_pg.mo, 0, ST_PAGES), 0);     /* both dirty: none taken */
    KT_EXPECT_EQ(store_writeback(4), 1);
    KT_EXPECT_EQ(store_writeback(2), 1);
    long supplies = store_supplies;
    KT_EXPECT_EQ(ks_pager_evict(shared_pg.mo, 0, ST_PAGES), 2);     /* clean now: both go */
    KT_EXPECT_EQ(m[2 * KS_PAGE_SIZE + 6], 0xa2);                     /* back, as written */
    uint8_t c[2];
    KT_EXPECT_EQ(ks_memobj_read(shared_pg.mo, 4 * KS_PAGE_SIZE + 8, c, 2), 2);
    KT_EXPECT_EQ(c[1], 0xb2);
    KT_EXPECT_EQ(c[0], paged_byte(4, 8));
    KT_EXPECT_EQ(store_supplies, supplies + 2);                      /* each asked for again */
    uint64_t huge[4];
    KT_EXPECT_EQ(ks_pager_dirty(shared_pg.mo, 0, 257, huge), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_pager_dirty(shared_pg.mo, 0, 1, (uint64_t *)16), KS_ERR_FAULT);
    m[2 * KS_PAGE_SIZE] = 1;
    KT_EXPECT_EQ(ks_pager_writeback(shared_pg.mo, 2, (void *)16), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_pager_dirty(shared_pg.mo, 2, 1, bits), 1);      /* still dirty after that */
    ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)a, ST_PAGES * KS_PAGE_SIZE);
    store_close(&t);
    EXPECT_SAME_KSTAT(&k);
}

static volatile int wb_writer_done;

static void wb_writer(long rounds)
{
    volatile uint64_t *word = (volatile uint64_t *)(kc_map + KS_PAGE_SIZE + 64);
    for (long i = 1; i <= rounds; i++) {
        *word = (uint64_t)i;
        if (i % 7 == 0)
            ks_thread_yield();
    }
    wb_writer_done = 1;
    ks_thread_exit(0);
}

/*
 * A writer racing with write-back loses nothing: a thread stores 1..N into a
 * page (yielding now and then) while this one writes the page back over and
 * over; once the writer is done, a last write-back, and the store holds N.
 * Forty rounds.
 */
static void pager_writeback_race(void)
{
    struct ks_kstat k = kstat_now();
    struct uthread t;
    KT_ASSERT(store_open(&t));
    long a = ks_vm_map(KS_PROCESS_SELF, shared_pg.mo, 0, 0, ST_PAGES * KS_PAGE_SIZE,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    KT_ASSERT(a > 0);
    kc_map = (uintptr_t)a;
    long lost = 0, taken = 0;
    for (int round = 0; round < 40; round++) {
        const long n = 300 + round;
        wb_writer_done = 0;
        struct uthread w = thread_start(wb_writer, n);
        while (!wb_writer_done) {
            taken += store_writeback(1) == 1;
            ks_thread_yield();
        }
        thread_finish(&w);
        store_writeback(1);
        uint64_t got;
        memcpy(&got, &store[1][64], sizeof got);
        lost += got != (uint64_t)n;
    }
    KT_EXPECT_EQ(lost, 0);
    KT_EXPECT(taken > 40);              /* write-backs did happen while the writer wrote */
    ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)a, ST_PAGES * KS_PAGE_SIZE);
    store_close(&t);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * A server never waits for a page in its client's memory: a client whose
 * receive buffer lies on a page of a paged memobj that nobody supplies (its
 * own pager never answers) waits alone, at the start of its call, while the
 * server serves another client; when the pager's listener goes, its call
 * fails with KS_ERR_IO, and the server never saw it.
 */
static ks_handle_t ns_listener, ns_port;
static volatile long ns_served, ns_stuck_result;
static volatile int ns_stop, ns_stuck_done;

static void ns_server(long unused)
{
    while (!ns_stop) {
        uint64_t w[KS_IPC_WORDS] = { 0 };
        uint8_t out[64];
        memset(out, 0x5c, sizeof out);
        long rp = ks_ipc_receive(ns_listener, NULL, w, NULL, NULL);
        if (rp < 0)
            continue;
        struct ks_ipc_desc r = { .send_buf = out, .send_len = sizeof out };
        if (w[0] == 7)
            ns_served++;
        ks_ipc_reply((ks_handle_t)rp, &r, w);
    }
    ks_thread_exit(0);
}

static void ns_stuck(long map)
{
    uint64_t w[KS_IPC_WORDS] = { 7 };
    struct ks_ipc_desc d = { .recv_buf = (void *)(map + KS_PAGE_SIZE), .recv_cap = 64 };
    ns_stuck_result = ks_ipc_call(ns_port, &d, w, NULL);
    ns_stuck_done = 1;
    ks_thread_exit(0);
}

static void pager_server_never_waits(void)
{
    struct ks_kstat k = kstat_now();
    KT_ASSERT(paged_open(&shared_pg, 4 * KS_PAGE_SIZE));       /* its listener: never served */
    long a = ks_vm_map(KS_PROCESS_SELF, shared_pg.mo, 0, 0, 4 * KS_PAGE_SIZE,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    long l = ks_ipc_listener_create();
    long c = l > 0 ? ks_ipc_client_create((ks_handle_t)l, 1) : l;
    KT_ASSERT(a > 0 && c > 0);
    ns_listener = (ks_handle_t)l;
    ns_port = (ks_handle_t)c;
    ns_served = 0;
    ns_stop = ns_stuck_done = 0;
    ns_stuck_result = 1;
    struct uthread srv = thread_start(ns_server, 0);
    struct uthread stuck = thread_start(ns_stuck, a);
    ks_thread_sleep(20000000);
    KT_EXPECT_EQ(ns_stuck_done, 0);                 /* waiting for its own pager */
    for (int i = 0; i < 3; i++) {                   /* the server answers others meanwhile */
        uint64_t w[KS_IPC_WORDS] = { 7 };
        uint8_t in[64];
        struct ks_ipc_desc d = { .recv_buf = in, .recv_cap = sizeof in };
        KT_EXPECT_EQ(ks_ipc_call(ns_port, &d, w, NULL), 0);
        KT_EXPECT_EQ(in[63], 0x5c);
    }
    KT_EXPECT_EQ(ns_served, 3);                     /* the stuck call never reached it */
    ks_handle_close(shared_pg.listener);            /* the pager goes: the wait ends */
    shared_pg.listener = 0;
    for (int i = 0; i < 100 && !ns_stuck_done; i++)
        ks_thread_sleep(1000000);
    KT_EXPECT(ns_stuck_done);
    KT_EXPECT_EQ(ns_stuck_result, KS_ERR_IO);
    thread_finish(&stuck);
    ns_stop = 1;
    uint64_t w[KS_IPC_WORDS] = { 0 };
    ks_ipc_call(ns_port, NULL, w, NULL);            /* wake the server to see ns_stop */
    thread_finish(&srv);
    ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)a, 4 * KS_PAGE_SIZE);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
    ks_handle_close(shared_pg.mo);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * A supply without a copy: the pager shares pages of a memobj of its own
 * (KS_SYS_PAGER_SUPPLY_FROM). A write through the file is seen in the source
 * (the same page), a last page past the file's size is a copy with a zero
 * tail, and a source without WRITE, missing pages, or the memobj itself are
 * refused.
 */
static void pager_supply_from(void)
{
    struct ks_kstat k = kstat_now();
    const uint64_t P = KS_PAGE_SIZE;
    KT_ASSERT(paged_open(&shared_pg, 3 * P + 100));          /* 4 pages, the last one partly */
    long src = ks_memobj_create(8 * P);
    KT_ASSERT(src > 0);
    static uint8_t fill[4 * KS_PAGE_SIZE];
    memset(fill, 0x3c, sizeof fill);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)src, 4 * P, fill, sizeof fill), (long)sizeof fill);
    long ro = ks_handle_duplicate((ks_handle_t)src, KS_RIGHT_READ);
    KT_ASSERT(ro > 0);
    KT_EXPECT_EQ(ks_pager_supply_from(shared_pg.mo, 0, (ks_handle_t)ro, 4, 4), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_pager_supply_from(shared_pg.mo, 0, shared_pg.mo, 0, 1), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_pager_supply_from(shared_pg.mo, 0, (ks_handle_t)src, 4, 5), KS_ERR_RANGE);   /* past 4 */
    KT_EXPECT_EQ(ks_pager_supply_from(shared_pg.mo, 0, (ks_handle_t)src, 4, 257), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_pager_supply_from(shared_pg.mo, 0, (ks_handle_t)src, 0, 1), KS_ERR_RANGE);  /* no page */
    KT_EXPECT_EQ(ks_pager_supply_from(shared_pg.mo, 0, (ks_handle_t)src, 4, 4), 4);
    uint8_t b[4];
    KT_EXPECT_EQ(ks_memobj_read(shared_pg.mo, 2 * P + 7, b, 1), 1);
    KT_EXPECT_EQ(b[0], 0x3c);
    b[0] = 0x77;
    KT_EXPECT_EQ(ks_memobj_write(shared_pg.mo, P + 5, b, 1), 1);          /* through the file ... */
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)src, 5 * P + 5, b + 1, 1), 1);
    KT_EXPECT_EQ(b[1], 0x77);                                              /* ... seen in the source */
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)src, 7 * P + 200, b + 2, 1), 1);
    KT_EXPECT_EQ(b[2], 0x3c);                                              /* the source's tail: its own */
    long a = ks_vm_map(KS_PROCESS_SELF, shared_pg.mo, 0, 0, 4 * P, KS_PROT_READ | KS_MAP_SHARED);
    KT_ASSERT(a > 0);
    KT_EXPECT_EQ(*(volatile uint8_t *)(a + 3 * P + 99), 0x3c);            /* inside the size */
    KT_EXPECT_EQ(*(volatile uint8_t *)(a + 3 * P + 100), 0);              /* the copy's zero tail */
    uint64_t want[4];
    KT_EXPECT_EQ(ks_pager_requests(shared_pg.mo, want, 4), 0);            /* nothing was asked */
    ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)a, 4 * P);
    ks_handle_close((ks_handle_t)ro);
    ks_handle_close((ks_handle_t)src);
    paged_close(&shared_pg);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * The pager hears of size changes: a truncation and a write past the end
 * each post KS_PAGER_NOTE_SIZE (coalescing while untaken), and the size it
 * reads then is the new one.
 */
static void pager_resize_reported(void)
{
    struct ks_kstat k = kstat_now();
    uint64_t note[2];
    KT_ASSERT(paged_open(&shared_pg, 8 * KS_PAGE_SIZE));
    KT_EXPECT_EQ(ks_listener_wait(shared_pg.listener, 0, note), KS_ERR_TIMED_OUT);
    KT_EXPECT_EQ(ks_memobj_truncate(shared_pg.mo, 3 * KS_PAGE_SIZE), 0);
    KT_EXPECT_EQ(ks_memobj_truncate(shared_pg.mo, 2 * KS_PAGE_SIZE), 0);
    KT_EXPECT_EQ(ks_listener_wait(shared_pg.listener, 0, note), 0);
    KT_EXPECT_EQ(note[0], KS_PAGER_NOTE_SIZE);
    KT_EXPECT_EQ(note[1], 77);
    KT_EXPECT_EQ(ks_listener_wait(shared_pg.listener, 0, note), KS_ERR_TIMED_OUT);   /* one, coalesced */
    KT_EXPECT_EQ(ks_memobj_size(shared_pg.mo), 2 * KS_PAGE_SIZE);
    uint8_t b = 1;
    KT_EXPECT_EQ(ks_memobj_write(shared_pg.mo, 5 * KS_PAGE_SIZE, &b, 1), 1);   /* past the end: grows */
    KT_EXPECT_EQ(ks_listener_wait(shared_pg.listener, 0, note), 0);
    KT_EXPECT_EQ(note[0], KS_PAGER_NOTE_SIZE);
    KT_EXPECT_EQ(ks_memobj_size(shared_pg.mo), 5 * KS_PAGE_SIZE + 1);
    paged_close(&shared_pg);
    EXPECT_SAME_KSTAT(&k);
}

/* What the pager calls refuse. */
static void pager_refused(void)
{
    struct ks_kstat k = kstat_now();
    static uint8_t page[KS_PAGE_SIZE];
    uint64_t want[4];
    long plain = ks_memobj_create(KS_PAGE_SIZE);
    KT_ASSERT(plain > 0 && paged_open(&shared_pg, PAGED_PAGES * KS_PAGE_SIZE));
    KT_EXPECT_EQ(ks_pager_requests((ks_handle_t)plain, want, 4), KS_ERR_ACCESS);   /* no PAGER right */
    long no_pager = ks_handle_duplicate(shared_pg.mo, KS_RIGHT_READ | KS_RIGHT_WRITE | KS_RIGHT_MAP);
    KT_ASSERT(no_pager > 0);
    KT_EXPECT_EQ(ks_pager_supply((ks_handle_t)no_pager, 0, page, 1), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_pager_fail((ks_handle_t)no_pager, 0, 1), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_pager_supply(shared_pg.mo, PAGED_PAGES, page, 1), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_pager_supply(shared_pg.mo, PAGED_PAGES - 1, page, 2), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_pager_supply(shared_pg.mo, 0, (void *)16, 1), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_pager_supply(shared_pg.mo, 0, page, ~0ull), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_pager_supply(shared_pg.mo, 0, page, 257), KS_ERR_RANGE);       /* more than 256 a call */
    KT_EXPECT_EQ(ks_pager_requests(shared_pg.mo, (uint64_t *)16, 4), 0);         /* nothing to copy */
    KT_EXPECT_EQ(ks_pager_fail(shared_pg.mo, 3, 0), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_pager_fail(shared_pg.mo, ~0ull, 2), KS_ERR_RANGE);
    uint64_t bits[4];               /* write-back and eviction: the PAGER right, limits, buffers */
    KT_EXPECT_EQ(ks_pager_dirty((ks_handle_t)no_pager, 0, 1, bits), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_pager_writeback((ks_handle_t)no_pager, 0, page), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_pager_evict((ks_handle_t)no_pager, 0, 1), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_pager_supply_from((ks_handle_t)no_pager, 0, (ks_handle_t)plain, 0, 1), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_pager_dirty((ks_handle_t)plain, 0, 1, bits), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_pager_dirty(shared_pg.mo, ~0ull, 2, bits), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_pager_evict(shared_pg.mo, 0, 257), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_pager_evict(shared_pg.mo, ~0ull, 2), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_pager_writeback(shared_pg.mo, 0, (void *)(uintptr_t)-4096), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_pager_writeback(shared_pg.mo, ~0ull, page), 0);                /* no such page */
    KT_EXPECT_EQ(ks_pager_supply_from(shared_pg.mo, 0, KS_HANDLE_NONE, 0, 1), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_pager_supply_from(shared_pg.mo, 0, (ks_handle_t)plain, ~0ull, 2), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_memobj_create_paged(KS_PAGE_SIZE, (ks_handle_t)plain, 0), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_memobj_create_paged(KS_PAGE_SIZE, KS_HANDLE_NONE, 0), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_memobj_create_paged(~0ull, shared_pg.listener, 0), KS_ERR_RANGE);
    ks_handle_close((ks_handle_t)no_pager);
    ks_handle_close((ks_handle_t)plain);
    paged_close(&shared_pg);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * Pages a paged memobj grows by (past its size when made, so not the
 * pager's to supply) are reported dirty once written, and written back
 * like any other: a file that grows reaches its pager (fsd's disk files).
 */
static void pager_grown_pages_dirty(void)
{
    struct ks_kstat k = kstat_now();
    static uint8_t page[KS_PAGE_SIZE];
    uint64_t bits[4];
    KT_ASSERT(paged_open(&shared_pg, 0));
    uint8_t b = 0x5a;
    KT_EXPECT_EQ(ks_memobj_write(shared_pg.mo, 3 * KS_PAGE_SIZE + 7, &b, 1), 1);   /* grows to 4 pages */
    KT_EXPECT_EQ(ks_pager_dirty(shared_pg.mo, 0, 8, bits), 1);
    KT_EXPECT_EQ(bits[0], 1u << 3);
    KT_EXPECT_EQ(ks_pager_writeback(shared_pg.mo, 3, page), 1);
    KT_EXPECT_EQ(page[7], 0x5a);
    KT_EXPECT_EQ(ks_pager_dirty(shared_pg.mo, 0, 8, bits), 0);
    long a = ks_vm_map(KS_PROCESS_SELF, shared_pg.mo, 0, 0, 4 * KS_PAGE_SIZE, KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    KT_ASSERT(a > 0);
    KT_EXPECT_EQ(((volatile uint8_t *)a)[3 * KS_PAGE_SIZE + 7], 0x5a);   /* a read: still clean */
    KT_EXPECT_EQ(ks_pager_dirty(shared_pg.mo, 0, 8, bits), 0);
    ((volatile uint8_t *)a)[3 * KS_PAGE_SIZE + 8] = 0x6b;                 /* a store: dirty again */
    KT_EXPECT_EQ(ks_pager_dirty(shared_pg.mo, 0, 8, bits), 1);
    KT_EXPECT_EQ(ks_pager_writeback(shared_pg.mo, 3, page), 1);
    KT_EXPECT_EQ(ks_pager_evict(shared_pg.mo, 0, 8), 0);      /* clean, but never evicted: no pager could give it back */
    KT_EXPECT_EQ(((volatile uint8_t *)a)[3 * KS_PAGE_SIZE + 8], 0x6b);
    ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)a, 4 * KS_PAGE_SIZE);
    paged_close(&shared_pg);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * KS_SYS_PAGER_ACCESSED: a page read (memobj read), faulted on through a
 * mapping or written is reported, once reset not any more, and a mapping's
 * next touch marks it again (the reset took it out of the mapping).
 */
static void pager_accessed_bits(void)
{
    struct ks_kstat k = kstat_now();
    static uint8_t pages[4 * KS_PAGE_SIZE];
    uint64_t bits[4];
    uint8_t b;
    KT_ASSERT(paged_open(&shared_pg, 8 * KS_PAGE_SIZE));
    KT_EXPECT_EQ(ks_pager_supply(shared_pg.mo, 0, pages, 4), 4);         /* pages 0-3, not touched */
    KT_EXPECT_EQ(ks_pager_accessed(shared_pg.mo, 0, 8, bits), 0);
    KT_EXPECT_EQ(ks_memobj_read(shared_pg.mo, 2 * KS_PAGE_SIZE + 5, &b, 1), 1);
    KT_EXPECT_EQ(ks_pager_accessed(shared_pg.mo, 0, 8, bits), 1);
    KT_EXPECT_EQ(bits[0], 1u << 2);
    KT_EXPECT_EQ(ks_pager_accessed(shared_pg.mo, 0, 8 | KS_ACCESSED_RESET, bits), 1);
    KT_EXPECT_EQ(bits[0], 1u << 2);
    KT_EXPECT_EQ(ks_pager_accessed(shared_pg.mo, 0, 8, bits), 0);          /* reset */
    long a = ks_vm_map(KS_PROCESS_SELF, shared_pg.mo, 0, 0, 4 * KS_PAGE_SIZE, KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    KT_ASSERT(a > 0);
    b = ((volatile uint8_t *)a)[3 * KS_PAGE_SIZE];                          /* a fault maps it */
    KT_EXPECT_EQ(ks_pager_accessed(shared_pg.mo, 0, 8 | KS_ACCESSED_RESET, bits), 1);
    KT_EXPECT_EQ(bits[0], 1u << 3);
    b = ((volatile uint8_t *)a)[3 * KS_PAGE_SIZE + 1];                      /* faults again: marked */
    ((volatile uint8_t *)a)[KS_PAGE_SIZE] = 0x11;                           /* a store */
    KT_EXPECT_EQ(ks_pager_accessed(shared_pg.mo, 0, 8, bits), 2);
    KT_EXPECT_EQ(bits[0], (1u << 1) | (1u << 3));
    KT_EXPECT_EQ(ks_pager_dirty(shared_pg.mo, 0, 8, bits), 1);              /* (the store, dirty too) */
    KT_EXPECT_EQ(ks_pager_accessed(shared_pg.mo, 0, 257, bits), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_pager_accessed(shared_pg.mo, 0, 8 | KS_ACCESSED_RESET, NULL), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_pager_accessed(shared_pg.mo, 0, 8, bits), 2);          /* not given: not reset */
    long ro = ks_handle_duplicate(shared_pg.mo, KS_RIGHT_READ | KS_RIGHT_WRITE);
    KT_EXPECT_EQ(ks_pager_accessed((ks_handle_t)ro, 0, 8, bits), KS_ERR_ACCESS);
    ks_handle_close((ks_handle_t)ro);
    ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)a, 4 * KS_PAGE_SIZE);
    paged_close(&shared_pg);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * KS_SYS_PAGER_REDIRTY: a page written back (clean) is dirty again, so the next
 * write-back gives its bytes once more (what fsd does when the disk refuses a
 * write); an absent page is not counted; it needs PAGER and a sane range.
 */
static void pager_redirty(void)
{
    struct ks_kstat k = kstat_now();
    static uint8_t page[KS_PAGE_SIZE];
    uint64_t bits[4];
    KT_ASSERT(paged_open(&shared_pg, 0));
    uint8_t b = 0x3c;
    KT_EXPECT_EQ(ks_memobj_write(shared_pg.mo, KS_PAGE_SIZE + 9, &b, 1), 1);       /* page 1, dirty */
    KT_EXPECT_EQ(ks_pager_writeback(shared_pg.mo, 1, page), 1);
    KT_EXPECT_EQ(ks_pager_dirty(shared_pg.mo, 0, 8, bits), 0);                    /* clean now */
    KT_EXPECT_EQ(ks_pager_redirty(shared_pg.mo, 0, 8), 1);                        /* page 1 alone is there */
    KT_EXPECT_EQ(ks_pager_dirty(shared_pg.mo, 0, 8, bits), 1);
    KT_EXPECT_EQ(bits[0], 1u << 1);
    memset(page, 0, sizeof page);
    KT_EXPECT_EQ(ks_pager_writeback(shared_pg.mo, 1, page), 1);                   /* given again */
    KT_EXPECT_EQ(page[9], 0x3c);
    KT_EXPECT_EQ(ks_pager_redirty(shared_pg.mo, 0, 257), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_pager_redirty(shared_pg.mo, UINT64_MAX, 2), KS_ERR_RANGE);
    long ro = ks_handle_duplicate(shared_pg.mo, KS_RIGHT_READ | KS_RIGHT_WRITE);
    KT_EXPECT_EQ(ks_pager_redirty((ks_handle_t)ro, 0, 8), KS_ERR_ACCESS);
    ks_handle_close((ks_handle_t)ro);
    paged_close(&shared_pg);
    EXPECT_SAME_KSTAT(&k);
}

/* KS_SYS_PAGER_LOW_SIZE: the least size since the last ask, so a cut is seen even after a regrowth. */
static void pager_low_size(void)
{
    struct ks_kstat k = kstat_now();
    KT_ASSERT(paged_open(&shared_pg, 8 * KS_PAGE_SIZE));
    KT_EXPECT_EQ(ks_pager_low_size(shared_pg.mo), 8 * KS_PAGE_SIZE);
    KT_EXPECT_EQ(ks_memobj_truncate(shared_pg.mo, 100), 0);
    uint8_t b = 1;
    KT_EXPECT_EQ(ks_memobj_write(shared_pg.mo, 4999, &b, 1), 1);          /* grown again: 5000 */
    KT_EXPECT_EQ(ks_pager_low_size(shared_pg.mo), 100);
    KT_EXPECT_EQ(ks_pager_low_size(shared_pg.mo), 5000);                  /* started over */
    long ro = ks_handle_duplicate(shared_pg.mo, KS_RIGHT_READ);
    KT_EXPECT_EQ(ks_pager_low_size((ks_handle_t)ro), KS_ERR_ACCESS);
    ks_handle_close((ks_handle_t)ro);
    paged_close(&shared_pg);
    EXPECT_SAME_KSTAT(&k);
}

/* KS_SYS_PAGER_USERS counts what else holds the memobj: handles, views, mappings; and needs PAGER. */
static void pager_users(void)
{
    struct ks_kstat k = kstat_now();
    KT_ASSERT(paged_open(&shared_pg, PAGED_PAGES * KS_PAGE_SIZE));
    KT_EXPECT_EQ(ks_pager_users(shared_pg.mo), 0);
    long dup = ks_handle_duplicate(shared_pg.mo, KS_RIGHT_READ | KS_RIGHT_MAP | KS_RIGHT_DUPLICATE);
    KT_ASSERT(dup > 0);
    KT_EXPECT_EQ(ks_pager_users(shared_pg.mo), 1);
    KT_EXPECT_EQ(ks_pager_users((ks_handle_t)dup), KS_ERR_ACCESS);
    long view = ks_view_create((ks_handle_t)dup, KS_RIGHT_READ);
    KT_ASSERT(view > 0);
    KT_EXPECT_EQ(ks_pager_users(shared_pg.mo), 2);
    long at = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)dup, 0, 0, 2 * KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_SHARED);
    KT_ASSERT(at > 0);
    KT_EXPECT_EQ(ks_pager_users(shared_pg.mo), 3);
    ks_handle_close((ks_handle_t)dup);
    ks_handle_close((ks_handle_t)view);
    KT_EXPECT_EQ(ks_pager_users(shared_pg.mo), 1);     /* the mapping still holds it */
    ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)at, 2 * KS_PAGE_SIZE);
    KT_EXPECT_EQ(ks_pager_users(shared_pg.mo), 0);
    long plain = ks_memobj_create(KS_PAGE_SIZE);
    KT_EXPECT_EQ(ks_pager_users((ks_handle_t)plain), KS_ERR_ACCESS);
    ks_handle_close((ks_handle_t)plain);
    paged_close(&shared_pg);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * KS_USERS_NOTIFY: KS_PAGER_NOTE_UNUSED comes once when the last of the
 * memobj's other users goes (a handle, a view, a mapping), not before, and
 * not when nothing else held it at the arming.
 */
static void pager_unused_notice(void)
{
    struct ks_kstat k = kstat_now();
    uint64_t note[2];
    KT_ASSERT(paged_open(&shared_pg, PAGED_PAGES * KS_PAGE_SIZE));
    KT_EXPECT_EQ(ks_pager_users_notify(shared_pg.mo), 0);         /* nothing to wait for: not armed */
    KT_EXPECT_EQ(ks_listener_wait(shared_pg.listener, 0, note), KS_ERR_TIMED_OUT);
    long dup = ks_handle_duplicate(shared_pg.mo, KS_RIGHT_READ | KS_RIGHT_MAP | KS_RIGHT_DUPLICATE);
    KT_ASSERT(dup > 0);
    long view = ks_view_create((ks_handle_t)dup, KS_RIGHT_READ);
    long at = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)dup, 0, 0, KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_SHARED);
    KT_ASSERT(view > 0 && at > 0);
    KT_EXPECT_EQ(ks_pager_users_notify(shared_pg.mo), 3);
    KT_EXPECT_EQ(ks_pager_users(shared_pg.mo), 3);                 /* (the pager's own calls end nothing) */
    ks_handle_close((ks_handle_t)dup);
    ks_handle_close((ks_handle_t)view);
    KT_EXPECT_EQ(ks_listener_wait(shared_pg.listener, 0, note), KS_ERR_TIMED_OUT);   /* the mapping holds it */
    ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)at, KS_PAGE_SIZE);
    KT_EXPECT_EQ(ks_listener_wait(shared_pg.listener, 0, note), 0);
    KT_EXPECT_EQ(note[0], KS_PAGER_NOTE_UNUSED);
    KT_EXPECT_EQ(note[1], 77);
    dup = ks_handle_duplicate(shared_pg.mo, KS_RIGHT_READ);
    KT_ASSERT(dup > 0);
    ks_handle_close((ks_handle_t)dup);                             /* not armed again: no notice */
    KT_EXPECT_EQ(ks_listener_wait(shared_pg.listener, 0, note), KS_ERR_TIMED_OUT);
    KT_EXPECT_EQ(ks_pager_users_notify(shared_pg.mo) , 0);
    KT_EXPECT_EQ(ks_syscall(KS_SYS_PAGER_USERS, (long)shared_pg.mo, 2, 0, 0, 0, 0), KS_ERR_INVALID);
    paged_close(&shared_pg);
    EXPECT_SAME_KSTAT(&k);
}

static const struct ktest_case pager_cases[] = {
    { "lazy", pager_lazy },
    { "one_request", pager_one_request },
    { "fail", pager_fail },
    { "gone", pager_gone },
    { "truncated", pager_truncated },
    { "view_and_tail", pager_view_and_tail },
    { "kernel_copies", pager_kernel_copies },
    { "dirty_writeback", pager_dirty_writeback },
    { "writeback_race", pager_writeback_race },
    { "server_never_waits", pager_server_never_waits },
    { "supply_from", pager_supply_from },
    { "resize_reported", pager_resize_reported },
    { "refused", pager_refused },
    { "users", pager_users },
    { "unused_notice", pager_unused_notice },
    { "grown_pages_dirty", pager_grown_pages_dirty },
    { "low_size", pager_low_size },
    { "redirty", pager_redirty },
    { "accessed", pager_accessed_bits },
};
KTEST_SUITE(pager_suite, "pager", pager_cases);

/* ---- pressure: a paged file larger than RAM (utest pressure, on a -m 64M machine) ---- */

#define PR_PAGES (96u << 8)             /* 96 MiB */
static volatile int pr_stop;
static volatile long pr_supplied;

/* Word w of page p of the big file. */
static uint64_t pr_word(uint64_t p, uint64_t w) { return p << 20 | w << 3 | 5; }

/* Page p's word 0 as the writer of pressure.dirty_pages_cleaned leaves it (the rest stays pr_word's). */
static uint64_t pr_written(uint64_t p) { return p * 0x9e3779b97f4a7c15ull; }

static volatile long pr_cleaned, pr_clean_bad, pr_clean_notes;

/* KS_PAGER_NOTE_CLEAN: write every dirty page back ("to disk": checked against pr_written, dropped). */
static void pr_clean_all(uint64_t *page)
{
    pr_clean_notes++;
    for (uint64_t base = 0; base < PR_PAGES; base += 256) {
        uint64_t bits[4];
        if (ks_pager_dirty(shared_pg.mo, base, 256, bits) <= 0)
            continue;
        for (uint64_t i = 0; i < 256; i++)
            if ((bits[i / 64] >> (i % 64) & 1) && ks_pager_writeback(shared_pg.mo, base + i, page) == 1) {
                pr_cleaned++;
                pr_clean_bad += page[0] != pr_written(base + i) || page[9] != pr_word(base + i, 9);
            }
    }
}

/* The big file's pager: supplies pr_word's pages, and cleans when the kernel asks. */
static void pr_serve(long unused)
{
    static uint64_t page[KS_PAGE_SIZE / 8];
    while (!pr_stop) {
        uint64_t note[2], want[8];
        if (ks_listener_wait(shared_pg.listener, 2000000, note) != 0)
            continue;
        if (note[0] == KS_PAGER_NOTE_CLEAN) {
            pr_clean_all(page);
            continue;
        }
        long n = ks_pager_requests(shared_pg.mo, want, 8);
        for (long i = 0; i < n; i++) {
            for (uint64_t w = 0; w < KS_PAGE_SIZE / 8; w++)
                page[w] = pr_word(want[i], w);
            long r = ks_pager_supply(shared_pg.mo, want[i], page, 1);
            if (r > 0)
                pr_supplied += r;
            else if (r < 0)
                break;          /* no memory: see what else is asked first (to clean, likely) */
        }
    }
    ks_thread_exit(0);
}

/*
 * A 96 MiB paged memobj on a machine with 64 MiB of RAM, read through twice
 * (memobj reads of 64 KiB, three words of each page checked): the kernel
 * evicts clean pages as free memory runs low, the pager supplies them again,
 * and every read gives the pager's bytes.
 */
static void pressure_file_larger_than_ram(void)
{
    static uint64_t chunk[65536 / 8];
    struct ks_kstat k = kstat_now();
    uint64_t ram = k.total_pages;
    KT_ASSERT(ram < PR_PAGES);                  /* it does not fit */
    KT_ASSERT(paged_open(&shared_pg, (uint64_t)PR_PAGES * KS_PAGE_SIZE));
    pr_stop = 0;
    pr_supplied = 0;
    struct uthread t = thread_start(pr_serve, 0);
    long bad = 0, short_reads = 0;
    for (int pass = 0; pass < 2; pass++)
        for (uint64_t off = 0; off < (uint64_t)PR_PAGES * KS_PAGE_SIZE; off += sizeof chunk) {
            if (ks_memobj_read(shared_pg.mo, off, chunk, sizeof chunk) != (long)sizeof chunk) {
                short_reads++;
                continue;
            }
            for (uint64_t p = 0; p < sizeof chunk / KS_PAGE_SIZE; p++) {
                uint64_t page = off / KS_PAGE_SIZE + p, *w = &chunk[p * (KS_PAGE_SIZE / 8)];
                bad += w[0] != pr_word(page, 0) || w[200] != pr_word(page, 200) || w[511] != pr_word(page, 511);
            }
        }
    KT_EXPECT_EQ(short_reads, 0);
    KT_EXPECT_EQ(bad, 0);
    KT_EXPECT(pr_supplied > (long)PR_PAGES + (long)PR_PAGES / 2);   /* most pages twice: evicted */
    kprintf("# supplied %ld pages for 2 x %u read, %lu pages of RAM\n", pr_supplied, PR_PAGES,
            (unsigned long)ram);
    pr_stop = 1;
    thread_finish(&t);
    paged_close(&shared_pg);
}

/*
 * Every page of the 96 MiB paged memobj written once (a word of each): the
 * pages turn dirty, so the kernel cannot evict them; when memory runs short
 * it asks the pager to clean them (KS_PAGER_NOTE_CLEAN), the pager writes
 * them back (each with the word written), and then they can go. Every write
 * completes.
 */
static void pressure_dirty_pages_cleaned(void)
{
    KT_ASSERT(paged_open(&shared_pg, (uint64_t)PR_PAGES * KS_PAGE_SIZE));
    pr_stop = 0;
    pr_supplied = pr_cleaned = pr_clean_bad = pr_clean_notes = 0;
    struct uthread t = thread_start(pr_serve, 0);
    long failed = 0;
    for (uint64_t p = 0; p < PR_PAGES; p++) {
        uint64_t v = pr_written(p);
        failed += ks_memobj_write(shared_pg.mo, p * KS_PAGE_SIZE, &v, sizeof v) != (long)sizeof v;
    }
    KT_EXPECT_EQ(failed, 0);
    KT_EXPECT(pr_clean_notes > 0);
    KT_EXPECT(pr_cleaned > (long)PR_PAGES / 2);         /* most of them had to be written back */
    KT_EXPECT_EQ(pr_clean_bad, 0);
    kprintf("# %ld pages written back on %ld requests to clean\n", pr_cleaned, pr_clean_notes);
    pr_stop = 1;
    thread_finish(&t);
    paged_close(&shared_pg);
}

static const struct ktest_case pressure_cases[] = {
    { "file_larger_than_ram", pressure_file_larger_than_ram },
    { "dirty_pages_cleaned", pressure_dirty_pages_cleaned },
};
KTEST_SUITE(pressure_suite, "pressure", pressure_cases);

/* ---- main ---- */

static const struct ktest_suite *const suites[] = {
    &thread_suite,
    &sched_suite,
    &process_suite,
    &memobj_suite,
    &vm_suite,
    &view_suite,
    &bad_suite,
    &futex_suite,
    &limits_suite,
    &pager_suite,
    &leak_suite,        /* last */
};

/*
 * The test process's own memory, which only its exit gives back, settles before
 * the baseline: stack pages, its writable segments (first-touch copies) and the
 * page tables under the region where mappings go are all made now, so that any
 * difference at the end is the kernel's.
 */
static __attribute__((noinline)) void touch_stack(void)
{
    volatile uint8_t big[256 * 1024];
    for (size_t i = 0; i < sizeof big; i += KS_PAGE_SIZE)
        big[i] = 0;
}

static void touch_own_segments(const char *self)
{
    static uint8_t head[KS_PAGE_SIZE];
    ks_handle_t image = bootimg();
    struct ks_bootimg_header h;
    struct ks_bootimg_entry e;
    if (ks_memobj_read(image, 0, &h, sizeof h) != sizeof h)
        return;
    for (uint32_t i = 0; i < h.count; i++) {
        if (ks_memobj_read(image, sizeof h + i * sizeof e, &e, sizeof e) != sizeof e)
            return;
        if (strcmp(e.name, self) != 0)
            continue;
        long n = ks_memobj_read(image, e.offset, head, sizeof head);
        struct elf_image img;
        if (n < 0 || elf_parse(head, (size_t)n, e.size, &img) != 0)
            return;
        for (unsigned s = 0; s < img.nsegs; s++) {
            if (!(img.seg[s].prot & KS_PROT_WRITE))
                continue;
            uintptr_t a = img.seg[s].vaddr & ~(uintptr_t)(KS_PAGE_SIZE - 1);
            for (; a < img.seg[s].vaddr + img.seg[s].memsz; a += KS_PAGE_SIZE)
                *(volatile uint8_t *)a = *(volatile uint8_t *)a;
        }
        return;
    }
}

#define MAP_REGION (64ul << 20)     /* the tests map less than this at once */

static void make_page_tables(void)
{
    long m = ks_memobj_create(MAP_REGION);
    if (m < 0)
        return;
    long a = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, MAP_REGION,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_PRIVATE);
    ks_handle_close((ks_handle_t)m);
    if (a < 0)
        return;
    for (uintptr_t off = 0; off < MAP_REGION; off += 2ul << 20)
        *(volatile uint8_t *)(a + off) = 1;
    ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)a, MAP_REGION);
}

int main(int argc, char **argv)
{
    touch_stack();
    touch_own_segments(argc > 0 ? argv[0] : "utest");
    make_page_tables();
    run_start = kstat_now();
    if (argc > 1 && strcmp(argv[1], "pressure") == 0) {     /* its own boot: -m 64M */
        static const struct ktest_suite *const only[] = { &pressure_suite };
        return ktest_run(only, 1) ? 1 : 0;
    }
    return ktest_run(suites, sizeof suites / sizeof suites[0]) ? 1 : 0;
}
