/*
 * arch/riscv/entry_asm.h - assembly shared by the trap entry (entry.S) and
 * the IPC fast path (ipc_fast.S): the last step of entering the kernel from
 * user mode, which the IPC entry puts off until it knows it needs it.
 */
#ifndef ARCH_RISCV_ENTRY_ASM_H
#define ARCH_RISCV_ENTRY_ASM_H

/*
 * Finish entering the kernel from user mode (tp = the current thread): its
 * kernel stack, and sscratch 0, which tells a trap taken from here on that it
 * came from the kernel. Until then nothing may call C, use the stack or trap.
 */
.macro kernel_stack
    ld      sp, TH_KSTACK_TOP(tp)
    csrw    sscratch, zero
.endm

#endif
