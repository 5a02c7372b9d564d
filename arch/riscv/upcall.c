/*
 * arch/riscv/upcall.c - the RISC-V half of upcalls (kernel/upcall.c): the
 * user frame made whole at a system call's return, and saved to and restored
 * from a struct ks_upcall_frame on the user stack.
 */
#include <arch/memlayout.h>
#include <arch/thread.h>
#include <arch/trapframe.h>
#include <kestrel/errors.h>
#include <kestrel/upcall.h>
#include "kernel/account.h"
#include "kernel/heap.h"
#include "kernel/string.h"
#include "kernel/thread.h"
#include "kernel/uaccess.h"
#include "fp.h"

#define FP_WORDS 33                 /* f0-f31 and fcsr, as t->arch.fp holds them */

/* The message registers MR0..MR7, as entry.S's MR_REGS. */
static const uint8_t mr_regs[KS_IPC_WORDS] = { 12, 13, 14, 15, 16, 5, 6, 7 };

void arch_upcall_complete_frame(struct thread *t, int from_ipc, long a0)
{
    static const uint8_t scratch[] = { 5, 6, 7, 11, 12, 13, 14, 15, 16, 17, 28, 29, 30, 31 };
    struct trap_frame *f = &t->arch.frame;
    f->sepc += 4;                   /* resume past the ecall */
    for (unsigned i = 0; i < sizeof scratch; i++)
        f->x[scratch[i]] = 0;       /* as the ecall return leaves them */
    f->x[REG_A0] = (uint64_t)a0;
    if (from_ipc) {
        f->x[11] = t->ipc.out_a1;
        f->x[REG_A7] = t->ipc.out_info;
        for (unsigned i = 0; i < KS_IPC_WORDS; i++)
            f->x[mr_regs[i]] = t->ipc.mr[i];
    }
}

static int push(struct thread *t, uint64_t pc, unsigned bit, uint64_t mask, uint64_t flags,
                uint64_t addr, uint32_t cause, uint32_t sender)
{
    struct trap_frame *f = &t->arch.frame;
    struct ks_upcall_frame k;
    k.x[0] = f->sepc;
    for (int i = 1; i < 32; i++)
        k.x[i] = f->x[i];
    k.flags = flags;
    if (t->arch.fp) {
        arch_fp_sync(t);
        memcpy(k.f, t->arch.fp, FP_WORDS * sizeof(uint64_t));
        k.flags |= KS_UPCALL_FP;
    } else {
        memset(k.f, 0, FP_WORDS * sizeof(uint64_t));
    }
    k.mask = mask;
    k.bit = bit;
    k.fault_addr = addr;
    k.fault_cause = cause;
    k.sender = sender;
    uint64_t sp = (f->x[REG_SP] - sizeof k) & ~15ull;
    if (sp > f->x[REG_SP] || !user_range_ok(sp, sizeof k) || copy_to_user_nowait(sp, &k, sizeof k)) {
        uaccess_miss_forget();
        return KS_ERR_FAULT;
    }
    f->sepc = pc;
    f->x[REG_SP] = sp;
    f->x[REG_A0] = bit;
    f->x[11] = sp;
    f->x[REG_RA] = 0;
    return 0;
}

int arch_upcall_push(struct thread *t, uint64_t pc, unsigned bit, uint64_t mask, uint32_t sender)
{
    return push(t, pc, bit, mask, 0, 0, 0, sender);
}

int arch_upcall_push_fault(struct thread *t, uint64_t pc, unsigned bit, uint64_t mask, uint64_t addr,
                           uint32_t cause)
{
    return push(t, pc, bit, mask, KS_UPCALL_FAULT, addr, cause, 0);   /* x[0]: the faulting pc */
}

long arch_upcall_pop(struct thread *t, uint64_t uaddr, uint64_t *mask)
{
    struct trap_frame *f = &t->arch.frame;
    struct ks_upcall_frame k;
    if (!user_range_ok(uaddr, sizeof k) || copy_from_user_nowait(&k, uaddr, sizeof k)) {
        uaccess_miss_forget();
        return KS_ERR_FAULT;
    }
    if (k.x[0] < USER_BASE || k.x[0] >= USER_TOP)
        return KS_ERR_RANGE;
    if (k.flags & KS_UPCALL_FP) {
        if (!t->arch.fp && !(t->arch.fp = account_kzalloc(account_of(&t->obj), FP_WORDS * sizeof(uint64_t))))
            return KS_ERR_NO_MEMORY;
        memcpy(t->arch.fp, k.f, FP_WORDS * sizeof(uint64_t));
        arch_fp_reload(t);
    } else if (t->arch.fp) {
        arch_fp_forget(t);          /* the handler's FP use is not the interrupted code's */
        arch_fp_reload(t);
    }
    f->sepc = k.x[0];
    for (int i = 1; i < 32; i++)
        f->x[i] = k.x[i];
    *mask = k.mask;
    return 0;
}
