/*
 * arch/riscv/trap.c - decoding supervisor traps: timer interrupts, exception-table
 * fixups, and a panic naming the cause for anything else the kernel did not expect.
 */
#include <arch/arch.h>
#include <arch/trapframe.h>
#include "kernel/panic.h"
#include "csr.h"
#include "timer.h"

extern char trap_vector[];

struct extable_entry {
    uint64_t insn;
    uint64_t fixup;
};
extern const struct extable_entry __extable_start[], __extable_end[];

void arch_trap_init(void)
{
    csr_write(stvec, (uintptr_t)trap_vector);
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

/* A faulting access listed in the exception table resumes at its fixup. */
static int extable_fixup(struct trap_frame *f)
{
    for (const struct extable_entry *e = __extable_start; e < __extable_end; e++) {
        if (e->insn == f->sepc) {
            f->sepc = e->fixup;
            return 1;
        }
    }
    return 0;
}

void trap_kernel(struct trap_frame *f)
{
    uint64_t cause = f->scause;
    if (cause & SCAUSE_INTERRUPT) {
        cause &= ~SCAUSE_INTERRUPT;
        if (cause == IRQ_S_TIMER) {
            timer_interrupt();
            return;
        }
        panic_trap(f, "trap: unexpected interrupt %lu in the kernel", (unsigned long)cause);
    }
    if (is_memory_fault(cause) && extable_fixup(f))
        return;
    panic_trap(f, "trap: kernel %s at 0x%lx, pc 0x%lx", exception_name(cause),
               (unsigned long)f->stval, (unsigned long)f->sepc);
}
