/*
 * arch/riscv/fp.c - lazy floating-point state for user threads.
 *
 * sstatus.FS is Off whenever a thread starts running (every switch turns it
 * off). A user thread's first FP instruction after that traps as an illegal
 * instruction; arch_fp_trap then makes the registers that thread's: if another
 * thread's values are in them (fp_owner), they are saved into that thread
 * first, and the thread's own are loaded (or cleared, on its first use ever),
 * so no thread ever sees another's registers. Threads that never use FP never
 * pay for it (not even the 264-byte save area), and switching threads costs
 * one CSR write.
 */
#include <arch/arch.h>
#include <arch/trapframe.h>
#include "kernel/account.h"
#include "kernel/heap.h"
#include "kernel/thread.h"
#include "csr.h"
#include "fp.h"

#define FS_INITIAL  (1ul << 13)
#define FS_CLEAN    (2ul << 13)

static struct thread *fp_owner;     /* whose values the FP registers hold, or NULL */

int arch_fp_trap(struct trap_frame *f)
{
    struct thread *t = current_thread();
    if (f->sstatus & SSTATUS_FS)
        return 0;                   /* FP was on: a real illegal instruction */
    int first_use = !t->arch.fp;
    if (first_use && !(t->arch.fp = account_kzalloc(account_of(&t->obj), 33 * sizeof(uint64_t))))
        return 0;                   /* no memory for its FP state: it cannot have FP */
    csr_set(sstatus, FS_INITIAL);   /* the kernel may touch the registers now */
    if (fp_owner != t) {
        if (fp_owner)
            arch_fp_save(fp_owner->arch.fp);
        if (first_use)
            arch_fp_zero();
        else
            arch_fp_load(t->arch.fp);
        fp_owner = t;
    }
    csr_clear(sstatus, SSTATUS_FS);
    csr_set(sstatus, FS_CLEAN);     /* retry the instruction with FP on */
    return 1;
}

void arch_fp_forget(struct thread *t)
{
    if (fp_owner == t)
        fp_owner = NULL;
    account_kfree(account_of(&t->obj), t->arch.fp);
    t->arch.fp = NULL;
}

void arch_fp_sync(struct thread *t)
{
    if (fp_owner != t || !t->arch.fp)
        return;
    uint64_t fs = csr_read(sstatus) & SSTATUS_FS;
    csr_set(sstatus, FS_INITIAL);       /* the kernel may read the registers */
    arch_fp_save(t->arch.fp);
    csr_clear(sstatus, SSTATUS_FS);
    csr_set(sstatus, fs);
}

void arch_fp_reload(struct thread *t)
{
    if (fp_owner == t)
        fp_owner = NULL;
    csr_clear(sstatus, SSTATUS_FS);     /* its next FP instruction traps and loads t->arch.fp */
}
