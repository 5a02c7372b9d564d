/*
 * arch/riscv/entry.S - the supervisor trap vector.
 *
 * Invariant: sscratch is 0 while the hart runs kernel code (set in boot.S).
 * Only kernel-mode traps exist so far: an interrupt or exception taken in the
 * kernel saves the whole frame on the current kernel stack, calls
 * trap_kernel(frame) and returns with sret to frame->sepc, which the C code may
 * have changed (an exception-table fixup does). User mode entry joins here later
 * and is the one that will use sscratch to find the thread's kernel stack.
 */
#include "asm-offsets.h"

    .section .text
    .balign 4
    .globl trap_vector
trap_vector:
    addi    sp, sp, -TF_SIZE
    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd      x\n, (TF_X0 + \n * 8)(sp)
    .endr
    addi    t0, sp, TF_SIZE             /* the interrupted sp */
    sd      t0, (TF_X0 + 2 * 8)(sp)
    csrr    t0, sepc
    csrr    t1, sstatus
    csrr    t2, scause
    csrr    t3, stval
    sd      t0, TF_SEPC(sp)
    sd      t1, TF_SSTATUS(sp)
    sd      t2, TF_SCAUSE(sp)
    sd      t3, TF_STVAL(sp)

    mv      a0, sp
    call    trap_kernel

    ld      t0, TF_SEPC(sp)
    ld      t1, TF_SSTATUS(sp)
    csrw    sepc, t0
    csrw    sstatus, t1
    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld      x\n, (TF_X0 + \n * 8)(sp)
    .endr
    addi    sp, sp, TF_SIZE
    sret
