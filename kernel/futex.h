/*
 * kernel/futex.h - wait on a user word, wake by address (see futex.c).
 */
#ifndef KERNEL_FUTEX_H
#define KERNEL_FUTEX_H

#include <stdint.h>

struct vm_space;

void futex_init(void);

/* Block while the current process's word at addr holds `expected` (KS_FOREVER: no deadline). */
long futex_wait(uintptr_t addr, uint32_t expected, uint64_t timeout_ns);

/* Wake up to `count` threads waiting on (vm, addr); the number woken, or an error for a bad addr. */
long futex_wake(struct vm_space *vm, uintptr_t addr, uint32_t count);

#endif
