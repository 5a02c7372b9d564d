/*
 * arch/riscv/trap.c - decoding supervisor traps.
 *
 * From user mode (trap_user): timer and external (PLIC) interrupts (and
 * preemption), page faults resolved by the VM, and everything else kills the
 * process with one line on the console. From the kernel (trap_kernel): timer
 * and external interrupts in the idle loop (the only kernel code that runs
 * with interrupts on), faults inside the exception table's ranges (user copies
 * and probes), and a panic naming the cause for anything else.
 */
#include <arch/arch.h>
#include <arch/memlayout.h>
#include <arch/trapframe.h>
#include <kestrel/errors.h>
#include <kestrel/syscall.h>
#include "kernel/page_alloc.h"
#include "kernel/panic.h"
#include "kernel/kprintf.h"
#include "kernel/pager.h"
#include "kernel/process.h"
#include "kernel/sched.h"
#include "kernel/thread.h"
#include "kernel/trace.h"
#include "kernel/upcall.h"
#include "kernel/vm.h"
#include "csr.h"
#include "fp.h"
#include "plic.h"
#include "timer.h"

extern char trap_vector[];

struct extable_entry {
    uint64_t start, end;        /* a fault with the pc in [start, end) ... */
    uint64_t fixup;             /* ... resumes here */
};
extern const struct extable_entry __extable_start[], __extable_end[];

void arch_trap_init(void)
{
    csr_write(stvec, (uintptr_t)trap_vector);
    /* Floating point starts off; user threads get it lazily (arch/riscv/fp.c). */
    csr_clear(sstatus, SSTATUS_FS);
}

static const char *exception_name(uint64_t cause)
{
    static const char *const names[] = {
        [EXC_INSN_MISALIGNED] = "instruction address misaligned",
        [EXC_INSN_ACCESS] = "instruction access fault",
        [EXC_ILLEGAL_INSN] = "illegal instruction",
        [EXC_BREAKPOINT] = "breakpoint",
        [EXC_LOAD_MISALIGNED] = "load address misaligned",
        [EXC_LOAD_ACCESS] = "load access fault",
        [EXC_STORE_MISALIGNED] = "store address misaligned",
        [EXC_STORE_ACCESS] = "store access fault",
        [EXC_ECALL_U] = "ecall from U-mode",
        [EXC_ECALL_S] = "ecall from S-mode",
        [EXC_INSN_PAGE_FAULT] = "instruction page fault",
        [EXC_LOAD_PAGE_FAULT] = "load page fault",
        [EXC_STORE_PAGE_FAULT] = "store page fault",
    };
    if (cause < sizeof names / sizeof names[0] && names[cause])
        return names[cause];
    return "unknown exception";
}

static int is_memory_fault(uint64_t cause)
{
    return cause == EXC_LOAD_PAGE_FAULT || cause == EXC_STORE_PAGE_FAULT ||
           cause == EXC_LOAD_ACCESS || cause == EXC_STORE_ACCESS ||
           cause == EXC_LOAD_MISALIGNED || cause == EXC_STORE_MISALIGNED;
}

static const struct extable_entry *extable_find(uint64_t pc)
{
    for (const struct extable_entry *e = __extable_start; e < __extable_end; e++)
        if (pc >= e->start && pc < e->end)
            return e;
    return NULL;
}

static int fault_access(uint64_t cause)
{
    if (cause == EXC_STORE_PAGE_FAULT || cause == EXC_STORE_ACCESS)
        return VM_WRITE;
    if (cause == EXC_INSN_PAGE_FAULT)
        return VM_EXEC;
    return VM_READ;
}

static int is_page_fault(uint64_t cause)
{
    return cause == EXC_LOAD_PAGE_FAULT || cause == EXC_STORE_PAGE_FAULT ||
           cause == EXC_INSN_PAGE_FAULT;
}

/*
 * A fault inside a listed range: a user copy touching a lazily mapped page is
 * retried after the VM maps it; anything else resumes at the fixup.
 */
static int fault_fixup(struct trap_frame *f)
{
    const struct extable_entry *e = extable_find(f->sepc);
    if (!e)
        return 0;
    struct thread *t = current_thread();
    if (is_page_fault(f->scause) && f->stval < USER_TOP && t->proc && t->proc->vm &&
        vm_fault(t->proc->vm, f->stval, fault_access(f->scause)) == 0)
        return 1;
    f->sepc = e->fixup;
    return 1;
}

static uint32_t kill_cause(uint64_t cause)
{
    switch (cause) {
    case EXC_LOAD_PAGE_FAULT:
    case EXC_STORE_PAGE_FAULT:
    case EXC_INSN_PAGE_FAULT:
        return KS_KILL_PAGE_FAULT;
    case EXC_ILLEGAL_INSN:
        return KS_KILL_ILLEGAL;
    case EXC_INSN_MISALIGNED:
    case EXC_LOAD_MISALIGNED:
    case EXC_STORE_MISALIGNED:
        return KS_KILL_MISALIGNED;
    default:
        return KS_KILL_ACCESS;
    }
}

/*
 * vm_fault did not map the page (r): a paged memobj's page to wait for, or a
 * fault to deliver as an upcall or to kill t's process for, with one line.
 */
static __attribute__((noinline)) void fault_not_served(struct thread *t, struct trap_frame *f, uint64_t cause,
                                                       long r)
{
    uint64_t off = 0;
    /*
     * Clean file pages make room, when memory is what is short: a process at
     * its own account's limit gains nothing from other processes' pages going.
     */
    if (r == KS_ERR_NO_MEMORY && page_free_count() < PAGER_FREE_LOW && pager_reclaim(PAGER_RECLAIM_BATCH, NULL, 0, 0))
        r = vm_fault(t->proc->vm, f->stval, fault_access(cause));
    if (r == KS_ERR_PAGER_WAIT || r == KS_ERR_IO)
        r = vm_fault_wait(t->proc->vm, f->stval, fault_access(cause), r, &off);
    if (!r || upcall_fault(kill_cause(cause), f->stval))
        return;
    char what[96];
    if (r == KS_ERR_IO)
        ksnprintf(what, sizeof what, "%s: the pager failed offset 0x%lx of the memobj mapped there",
                  exception_name(cause), (unsigned long)off);
    else
        ksnprintf(what, sizeof what, "%s", exception_name(cause));
    process_kill_fault(t->proc, kill_cause(cause), what, f->stval, f->sepc);
}

void trap_user(struct trap_frame *f)
{
    struct thread *t = current_thread();
    uint64_t cause = f->scause;
    if (cause & SCAUSE_INTERRUPT) {
        cause &= ~SCAUSE_INTERRUPT;
        trace_event(TR_IRQ_BEGIN, cause, 1, 0, 0);
        if (cause == IRQ_S_TIMER) {
            thread_charge_tick(t, 1);
            timer_interrupt();
        } else if (cause == IRQ_S_EXTERNAL)
            plic_interrupt();
        else
            panic_trap(f, "trap: unexpected interrupt %lu from user mode", (unsigned long)cause);
        trace_event(TR_IRQ_END, 0, 0, 0, 0);
        sched_preempt_point();
    } else if (cause == EXC_ILLEGAL_INSN && arch_fp_trap(f)) {
        /* the first FP instruction since it started running: retried with FP on */
    } else if (is_page_fault(cause)) {
        long r = vm_fault(t->proc->vm, f->stval, fault_access(cause));
        if (r)
            fault_not_served(t, f, cause, r);
    } else if (!upcall_fault(kill_cause(cause), f->stval)) {
        process_kill_fault(t->proc, kill_cause(cause), exception_name(cause), f->stval, f->sepc);
    }
    if (t->flags)
        thread_return_slow(0, UPCALL_FROM_TRAP);     /* killed, or an upcall due: the frame is whole */
}

void trap_kernel(struct trap_frame *f)
{
    uint64_t cause = f->scause;
    if (cause & SCAUSE_INTERRUPT) {
        cause &= ~SCAUSE_INTERRUPT;
        trace_event(TR_IRQ_BEGIN, cause, 0, 0, 0);
        if (cause == IRQ_S_TIMER) {
            thread_charge_tick(current_thread(), 0);
            timer_interrupt();
            trace_event(TR_IRQ_END, 0, 0, 0, 0);
            return;
        }
        if (cause == IRQ_S_EXTERNAL) {
            plic_interrupt();
            trace_event(TR_IRQ_END, 0, 0, 0, 0);
            return;
        }
        panic_trap(f, "trap: unexpected interrupt %lu in the kernel", (unsigned long)cause);
    }
    if (is_memory_fault(cause) && fault_fixup(f))
        return;
    panic_trap(f, "trap: kernel %s at 0x%lx, pc 0x%lx", exception_name(cause),
               (unsigned long)f->stval, (unsigned long)f->sepc);
}
