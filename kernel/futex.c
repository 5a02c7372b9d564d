/*
 * kernel/futex.c - futexes: wait on a 32-bit user word, be woken by address.
 *
 * A thread calls futex_wait(addr, expected) after seeing *addr == expected in
 * user space; the kernel reads the word again and blocks only if it still
 * holds `expected`. The kernel runs on one hart and is not preempted, so the
 * read and the block are atomic with respect to any futex_wake: a waker that
 * changed the word either ran before the read (the wait returns KS_ERR_AGAIN)
 * or runs after the block (and finds the waiter). This is the primitive under
 * musl's mutexes, condition variables and pthread_join (through musl_emu.c).
 *
 * A futex is named by what vm_futex_key says: in a shared mapping, the
 * memobj and the offset, so processes sharing memory (shm_open, a shared
 * anonymous mapping kept over fork) share its futexes, and musl's
 * process-shared mutexes, condition variables and semaphores work across
 * them; anywhere else, the address space and the address. Waiters sit in one
 * of a few hashed wait queues; the thread records what it waits on.
 */
#include <kestrel/errors.h>
#include <kestrel/syscall.h>
#include <arch/arch.h>
#include "clock.h"
#include "futex.h"
#include "process.h"
#include "sched.h"
#include "thread.h"
#include "uaccess.h"
#include "vm.h"

#define FUTEX_BUCKETS 32
#define WOKEN 1                 /* futex_wake's wake result (a deadline's wake gives 0) */

static struct wait_queue buckets[FUTEX_BUCKETS];

void futex_init(void)
{
    for (int i = 0; i < FUTEX_BUCKETS; i++)
        wait_queue_init(&buckets[i]);
}

static struct wait_queue *bucket(uint64_t key)
{
    return &buckets[(key >> 2) % FUTEX_BUCKETS];
}

/* KS_ERR_INVALID (misaligned), KS_ERR_FAULT (outside user space), or 0. */
static long check_word(uintptr_t addr)
{
    if (addr & 3)
        return KS_ERR_INVALID;
    return user_range_ok(addr, 4) ? 0 : KS_ERR_FAULT;
}

long futex_wait(uintptr_t addr, uint32_t expected, uint64_t timeout_ns)
{
    struct thread *t = current_thread();
    uint32_t now;
    long r = check_word(addr);
    if (r)
        return r;
    if ((r = copy_from_user(&now, addr, sizeof now)) != 0)
        return r;               /* (a wait for a pager ends before the word is compared) */
    if (now != expected)
        return KS_ERR_AGAIN;
    if (timeout_ns == 0)
        return KS_ERR_TIMED_OUT;
    vm_futex_key(t->proc->vm, addr, &t->futex_owner, &t->futex_key);
    if (timeout_ns != KS_FOREVER)
        sched_add_sleeper(t, arch_time_now() + clock_ns_to_time(timeout_ns));
    r = sched_block(bucket(t->futex_key), 1);
    sched_remove_sleeper(t);
    t->futex_owner = NULL;
    if (r == WOKEN)
        return 0;
    return r == KS_ERR_INTERRUPTED ? r : KS_ERR_TIMED_OUT;
}

long futex_wake(struct vm_space *vm, uintptr_t addr, uint32_t count)
{
    const void *owner;
    uint64_t key;
    long woken = 0, r = check_word(addr);
    if (r)
        return r;
    vm_futex_key(vm, addr, &owner, &key);
    struct wait_queue *wq = bucket(key);
    LIST_FOR_EACH(n, tmp, &wq->waiters) {
        if ((uint32_t)woken == count)
            break;
        struct thread *t = LIST_ENTRY(n, struct thread, sched_link);
        if (t->futex_owner != owner || t->futex_key != key)
            continue;
        sched_wake(t, WOKEN);
        woken++;
    }
    return woken;
}

#define ROBUST_OWNER_DIED   0x40000000u
#define ROBUST_WAITERS      0x80000000u
#define ROBUST_OWNER_MASK   0x3fffffffu
#define ROBUST_MAX_ENTRIES  256

/* The lock word of robust-list entry `entry` (at entry + off): owner died, a waiter woken. */
static void robust_mark(struct thread *t, uintptr_t entry, int64_t off)
{
    uintptr_t addr = entry + (uintptr_t)off;
    uint32_t word;
    if (check_word(addr) || copy_from_user_nowait(&word, addr, sizeof word))
        return;                 /* (the thread is leaving: nothing waits for a pager here) */
    if ((word & ROBUST_OWNER_MASK) != t->robust_owner)
        return;
    word = (word & ROBUST_WAITERS) | ROBUST_OWNER_DIED;
    if (copy_to_user_nowait(addr, &word, sizeof word) == 0)
        futex_wake(t->proc->vm, addr, 1);
}

void futex_robust_release(struct thread *t)
{
    uintptr_t head[3];              /* next, futex_offset, list_op_pending (Linux's layout) */
    uintptr_t h = t->robust_head;
    t->robust_head = 0;
    if (!h || !t->proc || !t->proc->vm || copy_from_user_nowait(head, h, sizeof head))
        return;
    int64_t off = (int64_t)head[1];
    uintptr_t entry = head[0];
    for (int n = 0; entry && entry != h && n < ROBUST_MAX_ENTRIES; n++) {
        uintptr_t next;
        if (copy_from_user_nowait(&next, entry, sizeof next))
            break;
        if (entry != head[2])
            robust_mark(t, entry, off);
        entry = next;
    }
    if (head[2])
        robust_mark(t, head[2], off);   /* the one it was taking or letting go of */
    uaccess_miss_forget();
}
