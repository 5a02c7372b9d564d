/*
 * kernel/futex.h - futexes: wait on a 32-bit user word, wake by address (see
 * futex.c). Reached from KS_SYS_FUTEX_WAIT/WAKE and thread exit's clear-and-wake
 * (kernel/sys_process.c).
 */
#ifndef KERNEL_FUTEX_H
#define KERNEL_FUTEX_H

#include <stdint.h>

struct vm_space;

/* Set up the wait queues. Once at boot, before any thread can wait. */
void futex_init(void);

/*
 * Block the current thread while its process's word at addr holds `expected`,
 * for at most timeout_ns (KS_FOREVER: no deadline). 0 when woken by futex_wake;
 * KS_ERR_AGAIN (the word differs), KS_ERR_TIMED_OUT (also at once for 0),
 * KS_ERR_INTERRUPTED, KS_ERR_INVALID (misaligned) or KS_ERR_FAULT.
 */
long futex_wait(uintptr_t addr, uint32_t expected, uint64_t timeout_ns);

/*
 * Wake up to `count` threads waiting on (vm, addr), oldest first: the number
 * woken, or KS_ERR_INVALID (misaligned) / KS_ERR_FAULT (not a user address).
 */
long futex_wake(struct vm_space *vm, uintptr_t addr, uint32_t count);

/*
 * The current thread is ending with a robust list registered
 * (KS_SYS_THREAD_ROBUST): mark every lock word it still owns "owner died"
 * and wake a waiter of each, so another thread or process can take the lock
 * (EOWNERDEAD). Walks at most 256 entries of user memory; a bad list stops
 * the walk, nothing else.
 */
struct thread;
void futex_robust_release(struct thread *t);

#endif
