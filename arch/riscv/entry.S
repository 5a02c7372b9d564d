/*
 * arch/riscv/entry.S - the supervisor trap vector, system call entry, the return
 * to user mode, and the context switch; the IPC fast path (ipc_fast.S) is
 * included at the end, in the same object.
 *
 * Invariants (see arch/thread.h):
 *   - in user mode sscratch holds the current thread; in the kernel it holds 0;
 *   - in the kernel tp holds the current thread; sp is on its kernel stack;
 *   - but for the IPC fast path (ipc_fast.S), which runs on the user's sp with
 *     sscratch still the user's tp, neither calls nor traps, and sets both
 *     (kernel_stack, entry_asm.h) before any way out that might;
 *   - a user thread's registers are saved in its struct thread (arch.frame),
 *     addressed from tp, and its kernel stack starts empty at kstack_top.
 *
 * A trap swaps tp and sscratch. From user mode that yields the thread; then:
 *   - an ecall (scause 8) is a function call as far as user registers go
 *     (include/kestrel/syscall.h): only sp, ra, gp, tp and sepc are saved; C
 *     keeps s0..s11 by its own convention, and on return the clobbered t and a
 *     registers are zeroed so no kernel value leaks;
 *   - anything else (interrupt, fault) saves the whole frame and calls trap_user.
 * From the kernel (tp was 0 after the swap) the whole frame goes on the current
 * kernel stack and trap_kernel handles it.
 */
#include "asm-offsets.h"
#include "entry_asm.h"

#define SSTATUS_SPP     (1 << 8)
#define SSTATUS_SPIE    (1 << 5)
#define EXC_ECALL_U     8
#define REG(n)          (TF_X0 + (n) * 8)
#define UREG(n)         (TH_FRAME + REG(n))     /* user register n, relative to tp */

/* Registers a full frame saves beyond ra/sp/gp/tp: t0-t2, s0-s1, a0-a7, s2-s11, t3-t6. */
#define FULL_REGS 5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31

/* The message registers MR0..MR7 (a2-a6, t0-t2), in order. */
#define MR_REGS 12,13,14,15,16,5,6,7

/* \op (sd or ld) each message register at its slot in current->ipc.mr. */
.macro ipc_mrs op
    .set .Lmr, 0
    .irp n, MR_REGS
    \op     x\n, (TH_IPC_MR + .Lmr * 8)(tp)
    .set .Lmr, .Lmr + 1
    .endr
.endm

/*
 * Return from an ecall to the instruction after it, with the user's ra, gp, sp
 * and tp from the frame and t3-t6 zeroed (t3 is the scratch); every other
 * register is as the caller left it.
 */
.macro ecall_return
    ld      t3, (TH_FRAME + TF_SEPC)(tp)
    addi    t3, t3, 4                   /* past the ecall */
    csrw    sepc, t3
    li      t3, SSTATUS_SPP             /* return to user mode, whatever trapped since */
    csrc    sstatus, t3
    li      t3, 0
    li      t4, 0
    li      t5, 0
    li      t6, 0
    ld      ra, UREG(1)(tp)
    ld      gp, UREG(3)(tp)
    ld      sp, UREG(2)(tp)
    csrw    sscratch, tp
    ld      tp, UREG(4)(tp)
    sret
.endm

    .section .text
    .balign 4
    .globl trap_vector
trap_vector:
    csrrw   tp, sscratch, tp
    beqz    tp, trap_from_kernel

    /* ---- from user mode: tp = current thread, sscratch = user tp ---- */
    sd      sp, UREG(2)(tp)
    sd      ra, UREG(1)(tp)
    sd      gp, UREG(3)(tp)
    csrr    ra, sscratch
    sd      ra, UREG(4)(tp)
    csrr    ra, sepc
    sd      ra, (TH_FRAME + TF_SEPC)(tp)
    csrr    ra, scause
    li      gp, EXC_ECALL_U
    bne     ra, gp, user_trap

    /*
     * ---- system call: number in a7, arguments in a0..a5 ----
     * One bound check: the table has an entry for every number below the
     * IPC calls' (kernel/syscall.c), so a plain call pays nothing for them,
     * and the IPC entry finds that first number in gp. The IPC entry goes on
     * with the user's sp and sscratch still holding the user's tp: its fast
     * path neither uses a stack nor can trap, and every way out of it that
     * might sets both as below first (kernel_stack).
     */
    li      gp, SYSCALL_IPC_FIRST
    bgeu    a7, gp, ipc_entry
    kernel_stack
#ifdef KESTREL_TRACE
    call    trace_syscall               /* the trace kernel: the table's entry between two events */
#else
    lla     t0, syscall_table
    slli    t1, a7, 3
    add     t0, t0, t1
    ld      t0, 0(t0)
    jalr    t0
#endif

    .globl syscall_return
syscall_return:
    /* a0 = result. A thread whose process is dying does not go back. */
    lw      t0, TH_FLAGS(tp)
    bnez    t0, syscall_return_slow
syscall_return_fast:
    li      t0, 0
    li      t1, 0
    li      t2, 0
    li      a1, 0
    li      a2, 0
    li      a3, 0
    li      a4, 0
    li      a5, 0
    li      a6, 0
    li      a7, 0
    ecall_return

    /*
     * The thread's flags are set: it may be killed, or an upcall may be due
     * (kernel/upcall.c). An upcall needs the whole user frame, so the user's
     * s0-s11 go into it first, unless KS_SYS_UPCALL_RETURN has just set the
     * frame whole. thread_return_slow gives back a0, and a1 = 1 to return
     * through the frame.
     */
syscall_return_slow:
    lw      t0, TH_FLAGS(tp)
    andi    t0, t0, C_THREAD_FULL_RETURN
    bnez    t0, 1f
    .irp n, 8,9,18,19,20,21,22,23,24,25,26,27
    sd      x\n, UREG(\n)(tp)
    .endr
1:  li      a1, C_UPCALL_FROM_ECALL
    call    thread_return_slow
    bnez    a1, user_return_full
    j       syscall_return_fast

    /*
     * ---- IPC call (KS_SYS_IPC_*): the message is in a2-a6, t0-t2 ----
     * The user's s0-s11 go to the frame first: a thread blocked in IPC may be
     * resumed straight into user mode by the fast path (which discards its
     * kernel stack), and must then find them there.
     */
ipc_entry:                                  /* a7 >= SYSCALL_IPC_FIRST, held in gp */
    .irp n, 8,9,18,19,20,21,22,23,24,25,26,27
    sd      x\n, UREG(\n)(tp)
    .endr
    beq     a7, gp, ipc_fast_call           /* KS_SYS_IPC_CALL is the first */
    addi    ra, a7, -C_SYS_IPC_REPLY_RECEIVE
    beqz    ra, ipc_fast_reply_recv
    addi    gp, a7, -SYSCALL_IPC_FIRST      /* gp = the IPC call's index */
    li      ra, SYSCALL_IPC_LAST - SYSCALL_IPC_FIRST + 1
    bgeu    gp, ra, ipc_nosys               /* not an IPC number either (its s-registers saved for nothing) */
    .globl ipc_slow
ipc_slow:                                   /* the C path: save the message, call kernel/ipc.c */
    kernel_stack
    ipc_mrs sd
    sd      t3, TH_IPC_LISTENER_ARG(tp)
#ifdef KESTREL_TRACE
    call    trace_ipc_syscall           /* as above (kernel/trace.c) */
#else
    addi    t0, a7, -SYSCALL_IPC_FIRST
    slli    t0, t0, 3
    lla     t1, ipc_syscall_table
    add     t0, t0, t1
    ld      t0, 0(t0)
    jalr    t0
#endif

    /*
     * a0 = result; a1, a7 and the message registers come from current->ipc.
     * A thread in user mode has no descriptor (ipc.desc_user 0, which the
     * fast path counts on: kernel/ipc_thread.h).
     */
    .globl ipc_return
ipc_return:
    sd      zero, TH_IPC_DESC_USER(tp)
    lw      t0, TH_FLAGS(tp)
    bnez    t0, ipc_return_slow
ipc_return_fast:
    ld      a1, TH_IPC_A1(tp)
    ld      a7, TH_IPC_INFO(tp)
    ipc_mrs ld
    ecall_return

ipc_return_slow:                            /* as syscall_return_slow; s0-s11 are in the frame */
    li      a1, C_UPCALL_FROM_IPC
    call    thread_return_slow
    bnez    a1, user_return_full
    j       ipc_return_fast

ipc_nosys:
    kernel_stack
    li      a0, SYSCALL_ENOSYS
    j       syscall_return

    /* ---- interrupt or exception from user mode: save the rest ---- */
user_trap:
    kernel_stack
    .irp n, FULL_REGS
    sd      x\n, UREG(\n)(tp)
    .endr
    csrr    t0, sstatus
    csrr    t1, scause
    csrr    t2, stval
    sd      t0, (TH_FRAME + TF_SSTATUS)(tp)
    sd      t1, (TH_FRAME + TF_SCAUSE)(tp)
    sd      t2, (TH_FRAME + TF_STVAL)(tp)
    addi    a0, tp, TH_FRAME
    call    trap_user

    /* Return to user mode from the thread's full frame (also how new threads start). */
    .globl user_return_full
user_return_full:
    ld      t0, (TH_FRAME + TF_SEPC)(tp)
    csrw    sepc, t0
    li      t0, SSTATUS_SPP
    csrc    sstatus, t0
    csrw    sscratch, tp
    addi    sp, tp, TH_FRAME            /* the frame is the base from here on */
    .irp n, 1,3,4,FULL_REGS
    ld      x\n, REG(\n)(sp)
    .endr
    ld      sp, REG(2)(sp)
    sret

    /* ---- trap taken in the kernel ---- */
trap_from_kernel:
    csrrw   tp, sscratch, zero          /* tp back, sscratch stays 0 */
    addi    sp, sp, -TF_SIZE
    .irp n, 1,3,4,FULL_REGS
    sd      x\n, REG(\n)(sp)
    .endr
    addi    t0, sp, TF_SIZE             /* the interrupted sp */
    sd      t0, REG(2)(sp)
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
    .irp n, 1,3,4,FULL_REGS
    ld      x\n, REG(\n)(sp)
    .endr
    addi    sp, sp, TF_SIZE
    sret

/*
 * void arch_switch(struct thread *prev, struct thread *next)
 * Save prev's callee-saved registers, load next's, and return as next.
 */
    .globl arch_switch
arch_switch:
    sd      ra, TH_CTX_RA(a0)
    sd      sp, TH_CTX_SP(a0)
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11
    sd      s\n, (TH_CTX_S + \n * 8)(a0)
    .endr
    ld      ra, TH_CTX_RA(a1)
    ld      sp, TH_CTX_SP(a1)
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11
    ld      s\n, (TH_CTX_S + \n * 8)(a1)
    .endr
    mv      tp, a1
    /* tools/profile reads tp here: the thread the kernel goes on in from now on. */
    .globl arch_switch_done
arch_switch_done:
    ret

/*
 * A new thread's first switch lands here (arch_thread_init_user set ra to it,
 * sp to the top of its kernel stack and filled in its user frame): finish the
 * switch in C, then enter user mode.
 */
    .globl thread_trampoline
thread_trampoline:
    call    thread_start_user
    j       user_return_full

/* A kernel thread's first switch lands here with fn in s1 and its argument in s2. */
    .globl kthread_trampoline
kthread_trampoline:
    call    thread_start
    mv      a0, s2
    jalr    s1
    call    thread_exit                 /* with fn's result in a0 */

/* The IPC fast path, in this object (see there why). */
#include "ipc_fast.S"
