/*
 * arch/riscv/thread.c - a new thread's first context: the kernel stack and
 * callee-saved registers that its first switch (arch_switch, entry.S) loads,
 * so that it starts in thread_trampoline (a user thread, from the user frame
 * set up here) or kthread_trampoline (a kernel thread, fn(arg)).
 */
#include <arch/arch.h>
#include <arch/mmu.h>
#include <arch/thread.h>
#include <arch/trapframe.h>
#include "kernel/string.h"
#include "kernel/thread.h"

extern char thread_trampoline[], kthread_trampoline[];

void arch_thread_set_tls(struct thread *t, const struct thread *from, uint64_t tp)
{
    t->arch.frame.x[REG_TP] = tp;
    if (from)
        t->arch.frame.x[REG_GP] = from->arch.frame.x[REG_GP];
}

void arch_thread_copy_tls(struct thread *t, const struct thread *from)
{
    t->arch.frame.x[REG_TP] = from->arch.frame.x[REG_TP];
    t->arch.frame.x[REG_GP] = from->arch.frame.x[REG_GP];
}

void arch_thread_exec(struct thread *t, const struct arch_aspace *as, uint64_t pc, uint64_t sp)
{
    struct trap_frame *f = &t->arch.frame;
    memset(f->x, 0, sizeof f->x);
    f->x[REG_SP] = sp;
    f->sepc = pc - 4;               /* the ecall return (entry.S) steps over 4 bytes */
    t->arch.satp = as->satp;
    arch_fp_forget(t);              /* the new program's first FP use starts from zero */
    arch_switch_aspace(&t->arch);
}

void arch_thread_init_kernel(struct thread *t, uint64_t kstack_top, long (*fn)(void *), void *arg)
{
    memset(&t->arch, 0, sizeof t->arch);
    t->arch.kstack_top = kstack_top;
    t->arch.ctx.ra = (uint64_t)kthread_trampoline;
    t->arch.ctx.sp = kstack_top;
    t->arch.ctx.s[1] = (uint64_t)fn;
    t->arch.ctx.s[2] = (uint64_t)arg;
}

void arch_thread_init_user(struct thread *t, uint64_t kstack_top, const struct arch_aspace *as,
                           uint64_t pc, uint64_t sp, uint64_t arg)
{
    struct trap_frame *f = &t->arch.frame;
    memset(f, 0, sizeof *f);
    f->sepc = pc;
    f->x[REG_SP] = sp;
    f->x[REG_A0] = arg;
    memset(&t->arch.ctx, 0, sizeof t->arch.ctx);
    t->arch.kstack_top = kstack_top;
    t->arch.satp = as->satp;
    t->arch.ctx.ra = (uint64_t)thread_trampoline;
    t->arch.ctx.sp = kstack_top;
}
