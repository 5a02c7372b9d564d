/*
 * kernel/syscall.h - what the system call entry points share.
 *
 * entry.S calls syscall_table[a7](a0, ..., a5) for any a7 below
 * KS_SYS_IPC_FIRST (a number with no call of its own gives KS_ERR_NOSYS), and
 * ipc_syscall_table's entries from its IPC entry. Entry points take every
 * argument as a full 64-bit register value (sysarg_t) and narrow it themselves,
 * so no handler relies on user space having sign-extended a 32-bit value. They
 * live in kernel/sys_*.c, one file per object family: copy the arguments in,
 * resolve handles with sys_lookup, call the object's code in kernel/.
 */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

#include <stdint.h>
#include <kestrel/errors.h>
#include <kestrel/handle.h>
#include <kestrel/syscall.h>
#include "object.h"
#include "thread.h"

typedef uint64_t sysarg_t;
typedef long (*syscall_fn)(sysarg_t, sysarg_t, sysarg_t, sysarg_t, sysarg_t, sysarg_t);

extern const syscall_fn syscall_table[KS_SYS_IPC_FIRST];
extern const syscall_fn ipc_syscall_table[KS_SYS_IPC_LAST - KS_SYS_IPC_FIRST + 1];

/* The calling thread's process. */
static inline struct process *current_process(void)
{
    return current_thread()->proc;
}

/*
 * Resolve a handle of the calling process (including KS_PROCESS_SELF and
 * KS_THREAD_SELF) to an object of `type` (0: any) with `rights`. On success
 * *out holds a reference the caller drops with object_put.
 */
long sys_lookup(sysarg_t h, uint32_t type, uint32_t rights, struct object **out, uint32_t *rights_out);

/* Install a handle to o in the calling process; its value or KS_ERR_NO_HANDLES. */
long sys_install(struct object *o, uint32_t rights);

/* Number of KS_SYS_DEBUG_WRITE calls since boot. */
uint64_t sys_debug_write_calls(void);

#endif
