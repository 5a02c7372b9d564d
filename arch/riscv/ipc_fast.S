/*
 * arch/riscv/ipc_fast.S - the IPC fast path: call, and reply-and-receive, with
 * the message's words in registers and a partner already waiting, switch
 * straight from one thread to the other. No scheduler, and the eight message registers
 * (a2-a6, t0-t2) are never saved or loaded: they simply stay in the registers
 * while tp, satp and the user frame change underneath them.
 *
 * Descriptors may be involved: a call may carry a buffer (no handles), as
 * long as the receiver, which returns straight to user mode, needs nothing
 * written back to its descriptor; a reply-and-receive may move handles (no
 * buffer) and give the descriptor for its next receive. Then the last check
 * of the ladder is one C call, ipc_fast_call_desc or ipc_fast_reply_desc
 * (kernel/ipc.c; but a server's descriptor that only receives, replying
 * words, is taken in by ipc_reply_rdesc below without one), which checks the
 * descriptors with the C path's own code, and
 * for a call delivers the buffer (a send buffer that is not cut is checked by
 * that copy itself: if any of it cannot be read, the call goes to the C path
 * with nothing delivered, though the waiting receiver's buffer may hold the
 * bytes the copy got to, as include/kestrel/ipc.h allows), for a reply the
 * handles. A caller whose descriptor outputs the reply changed has them
 * written once it runs (ipc_fast_switch_outputs).
 *
 * Entered from ipc_entry (entry.S) with: tp = current thread, the user's sp,
 * ra, gp, tp, sepc and s0-s11 in its frame, a0 = port handle, a1 = descriptor,
 * t3 = listener (reply-and-receive). Scratch: ra, gp, t4-t6, s0-s11, and a7
 * after the descriptor test (see ipc_bail). The
 * user's sp is still in sp and sscratch still holds the user's tp: the paths
 * neither use a stack nor trap, and anything that might (a C call, a copy
 * from user memory, the C path) is preceded by kernel_stack (entry_asm.h).
 *
 * Each path is a ladder of checks that change nothing (but for the receive
 * buffer just described), one line and one reason each; any
 * failure jumps to ipc_bail, which puts back the user's s0-s4 (used as scratch
 * here) and hands the whole call to the C path (ipc_slow in entry.S), which
 * starts over with its own checks in its own order and so gives the result the
 * call would have had without the fast path. After "point of no return" the
 * path only commits. The thread left behind is blocked exactly as the C path
 * would block it, with a context that resumes in ipc_call_resume /
 * ipc_recv_resume, so the C path can wake it later too.
 */
/*
 * Not assembled alone: entry.S includes this file at its end, so that
 * ipc_entry's two branches into the paths are one instruction each (GAS
 * makes a branch to another object's symbol a branch over a `j`) and the
 * paths' branches back to ipc_slow are short too. entry.S's definitions
 * (UREG, asm-offsets.h, entry_asm.h) are in scope.
 */
#include "uaccess_asm.h"

#define SSTATUS_FS  (3 << 13)

/* The values the paths below store as zero or compare as one register. */
/*
 * A thread's state and ipc_state are a halfword (kernel/thread.h), written
 * with one sh and checked, with the rest of the doubleword, with one ld:
 * C_HW_RECEIVING (blocked in a receive), C_REPLY_ARMED (whose value is that
 * of a caller blocked waiting for a reply, kernel/ipc.h), 0 (runnable, idle).
 */
#if C_REPLY_ARMED != (C_THREAD_BLOCKED | C_IPC_WAIT_REPLY << 8)
#error "ipc_fast.S: REPLY_ARMED must be a waiting caller's state halfword"
#endif
#if C_THREAD_RUNNABLE != 0 || C_IPC_IDLE != 0
#error "ipc_fast.S: THREAD_RUNNABLE and IPC_IDLE must be 0 (stored as zero)"
#endif

/*
 * Resolve handle `h` of the current process to its object in `obj`, with type
 * `type` and right `right`, or jump to ipc_bail; `entry` is left at its slot.
 * Clobbers t4, t5.
 */
.macro lookup h, type, right, obj, entry
    li      t4, 256
    bltu    \h, t4, ipc_bail                /* pseudo-handle or not a handle */
    srli    t5, \h, 31
    bnez    t5, ipc_bail                    /* above INT32_MAX */
    ld      \entry, TH_PROC(tp)
    ld      \entry, PROC_HANDLES(\entry)
    andi    t4, \h, 255
    slli    t4, t4, HT_SLOT_SHIFT
    add     \entry, \entry, t4              /* the slot */
    ld      \obj, HE_OBJ(\entry)
    beqz    \obj, ipc_bail                  /* closed */
    lwu     t4, HE_GEN(\entry)
    srli    t5, \h, 8
    bne     t4, t5, ipc_bail                /* stale generation */
    lw      t4, OBJ_TYPE(\obj)
    li      t5, \type
    bne     t4, t5, ipc_bail                /* wrong type */
    lw      t4, HE_RIGHTS(\entry)
    andi    t4, t4, \right
    beqz    t4, ipc_bail                    /* missing right */
.endm

/*
 * `lookup` through this thread's handle cache entry at `slot` (struct
 * ipc_hcache, kernel/ipc_thread.h): if `h` is the register value the entry
 * holds, `obj` is its object. A value stays there only while its handle is
 * live (emptying a slot forgets it in every cache of the process first) and a
 * live handle's type and rights do not change, so the lookup would give the
 * same. Else look up, fill the entry and set the slot's bit in the table's
 * `cached`, which tells the slot's end to forget it (out of line, after the
 * paths). `entry` is set on a miss only. Clobbers t4-t6.
 */
.macro cached h, type, right, obj, entry, slot
    ld      t4, (\slot + HC_HANDLE)(tp)
    bne     t4, \h, .Lmiss\@
    ld      \obj, (\slot + HC_OBJ)(tp)
    .pushsection .text.ipc_fast_miss, "ax", @progbits
.Lmiss\@:
    lookup  \h, \type, \right, \obj, \entry
    sd      \h, (\slot + HC_HANDLE)(tp)
    sd      \obj, (\slot + HC_OBJ)(tp)
    ld      t4, TH_PROC(tp)                 /* table->cached[h / 64 % 4] |= 1 << h % 64 */
    ld      t4, PROC_HANDLES(t4)
    li      t5, HT_CACHED
    add     t4, t4, t5
    srli    t5, \h, 6
    andi    t5, t5, 3
    slli    t5, t5, 3
    add     t4, t4, t5
    ld      t5, 0(t4)
    li      t6, 1
    sll     t6, t6, \h                      /* (sll takes the low 6 bits of h) */
    or      t5, t5, t6
    sd      t5, 0(t4)
    j       .Lhit\@
    .popsection
.Lhit\@:
.endm

/*
 * Checks both paths start with: state, interrupt_pending, ipc_fast_off and
 * flags are one doubleword (kernel/thread.h), all zero for a running thread
 * with nothing due. No s-register is used yet: a failure goes straight to
 * the C path, with nothing for ipc_bail to put back.
 */
.macro common_checks
    ld      t4, TH_STATEWORD(tp)
    bnez    t4, ipc_slow                    /* being killed, an upcall due, an interrupt would end the
                                               wait at once, or the fast path is off (KS_SYS_IPC_CONTROL,
                                               the trace kernel) */
.endm

/*
 * Block the current thread so that a normal switch to it runs the code at
 * `resume`, the listener s2's field that holds ipc_call_resume or
 * ipc_recv_resume (kernel/ipc.h). Its descriptor (ipc.desc_user) is written
 * apart, and only where it has one: a thread from user mode has none
 * (kernel/ipc_thread.h). Its state is
 * written with its ipc_state, before. The wait is interruptible without a write: a running
 * thread's `uninterruptible` is 0 (kernel/sched.h). Its saved kernel sp is left as it
 * is: `resume` starts on an empty kernel stack and loads sp itself
 * (arch_switch's `ld sp` and `ret` touch no stack before it). Its wait queue
 * (waiting_on) is NULL already, as an IPC wait's must be: every wake clears
 * it (unblock, kernel/sched.c), and a thread runs only after one.
 */
.macro block_current resume
    ld      t4, \resume(s2)
    sd      t4, TH_CTX_RA(tp)
.endm

/*
 * Call fn(s3, a1) (kernel/ipc.c) from a ladder, before the point of no return,
 * after kernel_stack;
 * its result lands in t4. The message registers wait in their slots of our
 * frame, which a system call leaves unused; a0 and a1 wait in s5 and s6 (C
 * keeps them: a1 comes back at once, a0 only if we bail), and t3 (the
 * listener, for a reply-and-receive) in s7. A bail after it goes through
 * c_bail_call or c_bail_reply, which put a0 and t3 back, a7 (the call's
 * number, a constant) and the user's s5-s7.
 */
.macro call_c fn
    .irp n, 5,6,7,12,13,14,15,16
    sd      x\n, UREG(\n)(tp)
    .endr
    mv      s5, a0
    mv      s6, a1
    mv      s7, t3
    mv      a0, s3                          /* the partner thread */
    call    \fn
    mv      t4, a0
    mv      a1, s6                          /* our descriptor, for the commit */
    .irp n, 5,6,7,12,13,14,15,16
    ld      x\n, UREG(\n)(tp)
    .endr
.endm

/* Count a fast call or reply in the listener s2 (kernel/ipc.h, ipc_stats_now). Clobbers t4. */
.macro count counter
    ld      t4, \counter(s2)
    addi    t4, t4, 1
    sd      t4, \counter(s2)
.endm

/*
 * The reply-and-receive's commit, from its point of no return: the reply port
 * idle, the caller runnable with a0 = a1 = 0 (a7 is set before), we wait on
 * the listener; s3 = the caller, to switch to. With `words_only` (neither
 * side has a descriptor) a1, our descriptor, is 0 already, and so is our
 * desc_user. Else a1 (0 or not) goes to our desc_user, and the caller's is
 * cleared as it goes back to user mode, unless `outputs` (its descriptor's
 * outputs are to be written first, ipc_fast_switch_outputs, which clears it).
 * The port's `caller` and the caller's `reply` are left as they
 * are: they mean something only while ARMED and WAIT_REPLY (kernel/ipc.h,
 * ipc_thread.h).
 */
.macro reply_commit words_only=0, outputs=0
    /* ---- point of no return ---- */
    sw      zero, RP_STATE(s1)              /* C_REPLY_IDLE */
    sh      zero, TH_STATE(s3)              /* the caller: runnable, IPC idle */
    li      t4, C_HW_RECEIVING
    sh      t4, TH_STATE(tp)                /* we: blocked, receiving on the listener */
    sd      s2, TH_IPC_LISTENER(tp)           /* (no reference: kernel/ipc_thread.h) */
    ld      t6, L_RECEIVERS(s2)             /* on top of its receivers (receivers_push) */
    sd      t6, TH_IPC_NEXT_RECEIVER(tp)
    sd      tp, L_RECEIVERS(s2)
    block_current L_RECV_RESUME
    .if !\words_only
    sd      a1, TH_IPC_DESC_USER(tp)
    .if !\outputs
    sd      zero, TH_IPC_DESC_USER(s3)
    .endif
    li      a1, 0
    .endif
    li      a0, 0                           /* the caller's results (a7 set before) */
    count   L_FAST_REPLIES
.endm

/*
 * Become thread s3 and return to its user mode, from its frame, with
 * a0, a1 and a7 (info) as set, and the message registers as they are. The
 * frame is read through s3 itself, which is loaded last: tp need not hold
 * the thread on the way out (sscratch gets s3; tools/profile knows this
 * `csrw sscratch, s3` as a return to user mode). The call's commit has its
 * own copy (ipc_call_switch), the reply's falls into ipc_fast_switch.
 */
.macro fast_switch
    ld      t4, TH_SATP(s3)
    csrw    satp, t4                        /* ASIDs: no TLB flush; the same value changes nothing */
    li      t4, SSTATUS_FS              /* FP off: the thread's first use traps (fp.c) */
    csrc    sstatus, t4
    /*
     * sstatus.SPP is 0 (user) already: the ecall that entered set it, and a
     * trap taken since (in a C helper) returned with sret, which sets it to 0.
     */
    ld      t4, (TH_FRAME + TF_SEPC)(s3)
    addi    t4, t4, 4
    csrw    sepc, t4
    .irp n, 8,9,18,20,21,22,23,24,25,26,27
    ld      x\n, UREG(\n)(s3)
    .endr
    ld      ra, UREG(1)(s3)
    ld      gp, UREG(3)(s3)
    ld      sp, UREG(2)(s3)
    li      t3, 0
    li      t4, 0
    li      t5, 0
    li      t6, 0
    csrw    sscratch, s3
    ld      tp, UREG(4)(s3)
    ld      s3, UREG(19)(s3)
    sret
.endm

    .section .text

/* ---- call: a0 = client port ---- */
    .globl ipc_fast_call
ipc_fast_call:
    common_checks
    cached  a0, C_OBJ_CLIENT, C_RIGHT_WRITE, s1, s0, TH_HC_CALL     /* s1 = client port */
    ld      s2, CP_LISTENER(s1)                         /* s2 = listener */
    /*
     * A closed listener has no receivers (its last handle's close took them
     * all off, and a receive checks `closed` before it queues), and a pending
     * notification none blocked (see ipc_notify.c): neither needs a check of its own.
     */
    ld      s3, L_RECEIVERS(s2)             /* s3 = the receiver on top of the stack */
    beqz    s3, ipc_bail                    /* none waiting (or closed): the C path */
    ld      t4, TH_STATEWORD(s3)
    li      t5, C_HW_RECEIVING
    bne     t4, t5, ipc_bail                /* not blocked receiving (interrupted, has not run
                                               yet), or anything due: its C-path return runs that */
    /*
     * s4 = its reply port, idle: a receive makes it so before it queues, and
     * only a delivery, which takes the receiver off first, arms it. A
     * thread's port has its handle: closing that lets the port go
     * (reply_last_handle).
     */
    ld      s4, TH_IPC_RPORT(s3)
    beqz    s4, ipc_bail                    /* its handle was closed meanwhile */
    ld      a7, TH_IPC_DESC_USER(s3)        /* (in a7: where it falls through, a7 is 0, */
    or      a7, a7, a1                      /* the receiver's info for words only; */
    bnez    a7, ipc_call_desc               /* a descriptor on either side: see there, which
                                               sets a7 again whichever way it goes) */
ipc_call_commit:
    /* ---- point of no return ---- */
    ld      t4, TH_IPC_NEXT_RECEIVER(s3)    /* the receiver leaves the stack (`listener` */
    sd      t4, L_RECEIVERS(s2)             /* is left: an IDLE thread's means nothing) */
    sh      zero, TH_STATE(s3)              /* the receiver: runnable, IPC idle */
    li      t5, C_REPLY_ARMED               /* (also our state halfword: blocked, waiting
                                               for the reply) */
    sw      t5, RP_STATE(s4)                /* its reply port now answers us */
    sd      tp, RP_CALLER(s4)
    sd      s4, TH_IPC_REPLY(tp)
    sh      t5, TH_STATE(tp)
    block_current L_CALL_RESUME
    ld      a1, CP_USERDATA(s1)             /* the receiver's results */
    lw      a0, TH_IPC_RPORT_HANDLE(s3)
    count   L_FAST_CALLS
    .globl ipc_call_switch
ipc_call_switch:                            /* (its own name, for tools/profile) */
    fast_switch

/*
 * A call with a descriptor on either side: kernel/ipc.c checks ours (a
 * buffer, no handles; the buffer itself by copying it, unless it is cut) and
 * that the receiver's outputs need no writing back, and if so delivers the
 * buffer, which commits the call. The receiver's info
 * word (bytes received, truncation) comes from there.
 */
ipc_call_desc:
    kernel_stack
    call_c  ipc_fast_call_desc
    bnez    t4, c_bail_call                 /* handles to send, a bad descriptor, outputs to write */
    ld      a7, TH_IPC_INFO(s3)
    sd      a1, TH_IPC_DESC_USER(tp)        /* ours, for the wait (the commit writes none) */
    sd      zero, TH_IPC_DESC_USER(s3)      /* the receiver goes back to user mode */
    j       ipc_call_commit

/*
 * A reply-and-receive with a descriptor on either side. Ours (for the receive
 * that follows) must send no buffer and have a good receive part, and the
 * handles it sends must be good: kernel/ipc.c decides, takes ours in and, if
 * all is well, moves the handles to the caller, which commits the reply. Its
 * result says whether the caller's descriptor outputs are to be written once
 * it runs.
 */
ipc_reply_desc:
    call_c  ipc_fast_reply_desc
    j       .Lreply_desc_said
/* The same, with our descriptor already in (ipc_reply_rdesc copied it). */
ipc_reply_desc_copied:
    call_c  ipc_fast_reply_desc_copied
.Lreply_desc_said:
    bnez    t4, 1f
    li      a7, 0                           /* the caller's info: words only */
    reply_commit
    j       ipc_fast_switch
1:  li      t5, C_IPC_FAST_BAIL
    beq     t4, t5, c_bail_reply            /* a buffer to send, a bad receive part or handle */
    ld      a7, TH_IPC_INFO(s3)             /* the caller's info: handles received */
    reply_commit outputs=1
    j       ipc_fast_switch_outputs

/*
 * A reply-and-receive with a descriptor, in the common case without the C
 * call: ours only receives (the buffer for the next request; nothing sent),
 * and the caller's, if it has one, only gets its outputs zeroed (words
 * arrive, nothing else). This is ipc_fast_reply_desc's work for that case
 * (kernel/ipc.c): our descriptor copied into the thread as desc_copy_in
 * does it (13 words; the outputs as memory holds them noted, then cleared),
 * its receive buffer found writable, and not paged, in the area the last
 * lookup found (vm_check_access_paged's inline case). Anything else or any
 * doubt (no descriptor of ours, an unaligned one, one that sends, another
 * area) goes to the C helper: ipc_reply_desc before the copy, and after it
 * ipc_reply_desc_copied, which starts where the copy ends. A fault while
 * copying goes to the C path, whose copy (which may wait) finds the same
 * fault or waits for the page. Scratch: t4-t6
 * and s5-s7 (the user's are in the frame; ipc_reply_desc's call_c uses them
 * too). The message registers, a0, a1 and t3 are not touched.
 */
ipc_reply_rdesc:
    kernel_stack                            /* (for the copy, which may fault, and the C calls) */
    beqz    a1, ipc_reply_desc              /* only the caller has one */
    andi    t4, a1, 7
    bnez    t4, ipc_reply_desc              /* unaligned: the general copy */
    li      t4, C_USER_BASE
    sub     t4, a1, t4
    li      t5, C_DESC_ROOM
    bltu    t5, t4, ipc_reply_desc          /* not all in user space: C says FAULT */
    li      t6, SSTATUS_SUM
    csrs    sstatus, t6
.Lrdesc_copy:
    copy_words13 tp, TH_IPC_DESC, a1, t4
.Lrdesc_copied:
    csrc    sstatus, t6
    ld      t4, (TH_IPC_DESC + D_OUT)(tp)   /* the outputs as memory holds them, */
    ld      t5, (TH_IPC_DESC + D_OUT + 8)(tp)
    ld      t6, (TH_IPC_DESC + D_OUT + 16)(tp)
    ld      s5, (TH_IPC_DESC + D_OUT + 24)(tp)
    sd      t4, TH_IPC_DESC_OUT_WAS(tp)
    sd      t5, (TH_IPC_DESC_OUT_WAS + 8)(tp)
    sd      t6, (TH_IPC_DESC_OUT_WAS + 16)(tp)
    sd      s5, (TH_IPC_DESC_OUT_WAS + 24)(tp)
    sd      zero, (TH_IPC_DESC + D_RECV_LEN)(tp)        /* then cleared: recv_len, */
    sd      zero, (TH_IPC_DESC + D_RECV_NHANDLES)(tp)   /* recv_nhandles and flags */
    sd      a1, TH_IPC_DESC_USER(tp)
    sw      zero, TH_IPC_NHANDLES(tp)
    /* from here the descriptor is in as desc_copy_in leaves it: C goes on from there */
    ld      t4, (TH_IPC_DESC + D_SEND_LEN)(tp)
    lwu     t5, (TH_IPC_DESC + D_SEND_NHANDLES)(tp)
    or      t4, t4, t5
    bnez    t4, ipc_reply_desc_copied       /* it sends: C */
    ld      t4, (TH_IPC_DESC + D_RECV_CAP)(tp)
    beqz    t4, 2f                          /* nothing to receive into */
    li      t5, C_IPC_MAX_BUF
    bltu    t5, t4, ipc_reply_desc_copied   /* too large: C says no */
    ld      t5, TH_PROC(tp)
    ld      t5, PROC_VM(t5)
    ld      t5, VS_LAST_AREA(t5)
    beqz    t5, ipc_reply_desc_copied
    ld      t6, (TH_IPC_DESC + D_RECV_BUF)(tp)
    ld      s5, VA_START(t5)
    ld      s6, VA_END(t5)
    sub     s7, t6, s5
    sub     s5, s6, s5
    bgeu    s7, s5, ipc_reply_desc_copied   /* the buffer starts outside that area */
    sub     s6, s6, t6
    bltu    s6, t4, ipc_reply_desc_copied   /* or runs past its end */
    lw      s7, VA_PROT(t5)
    andi    s7, s7, C_PROT_WRITE
    beqz    s7, ipc_reply_desc_copied       /* not writable */
    ld      s7, VA_MO(t5)
    ld      s7, MO_PAGER(s7)
    bnez    s7, ipc_reply_desc_copied       /* paged */
2:
    li      a7, 0                           /* the caller's info: words only */
    ld      t4, TH_IPC_DESC_USER(s3)
    beqz    t4, 3f
    sd      zero, (TH_IPC_DESC + D_RECV_LEN)(s3)        /* its outputs: nothing received */
    sw      zero, (TH_IPC_DESC + D_RECV_NHANDLES)(s3)
    .irp off, 0, 8, 16, 24
    ld      t4, (TH_IPC_DESC + D_OUT + \off)(s3)
    ld      t5, (TH_IPC_DESC_OUT_WAS + \off)(s3)
    bne     t4, t5, 4f                      /* they differ from its memory's */
    .endr
3:  reply_commit
    j       ipc_fast_switch
4:  sd      zero, TH_IPC_INFO(s3)
    reply_commit outputs=1
    j       ipc_fast_switch_outputs

    extable .Lrdesc_copy, .Lrdesc_copied, .Lrdesc_fault
.Lrdesc_fault:                              /* (t6 still holds the SUM bit) */
    csrc    sstatus, t6
    li      a7, C_SYS_IPC_REPLY_RECEIVE     /* (the descriptor test used it) */
    j       ipc_bail

/* ---- reply-and-receive: a0 = reply port, t3 = listener ---- */
    .globl ipc_fast_reply_recv
ipc_fast_reply_recv:
    common_checks
    cached  a0, C_OBJ_REPLY, C_RIGHT_WRITE, s1, s0, TH_HC_REPLY     /* s1 = reply port */
    cached  t3, C_OBJ_LISTENER, C_RIGHT_READ, s2, s0, TH_HC_LISTENER /* s2 = listener */
    lw      t4, RP_STATE(s1)
    li      t5, C_REPLY_ARMED
    bne     t4, t5, ipc_bail                /* replied already, or the caller is gone */
    ld      s3, RP_CALLER(s1)               /* s3 = the caller */
    ld      t4, TH_STATEWORD(s3)
    bne     t4, t5, ipc_bail                /* not blocked waiting for the reply (interrupted,
                                               has not run yet), or an upcall or a kill due,
                                               which its C-path return runs (t5: ARMED is that
                                               state halfword, the rest 0) */
    ld      t4, L_CLOSED(s2)
    bnez    t4, ipc_bail                    /* closed, a notification pending or a call queued
                                               (one ld: kernel/ipc.h): the C path */
    ld      s4, TH_IPC_RPORT(tp)            /* our reply port for the next call: */
    beq     s4, s1, 1f                      /* this one, idle after the reply, or */
    beqz    s4, ipc_bail                    /* another one (which has its handle), */
    lw      t4, RP_STATE(s4)
    beq     t4, t5, ipc_bail                /* and idle (t5: ARMED) */
1:  ld      a7, TH_IPC_DESC_USER(s3)        /* (in a7, as the call side does: 0, the */
    or      a7, a7, a1                      /* caller's info for words only, where it */
    bnez    a7, ipc_reply_rdesc             /* falls through; a descriptor on either side:
                                               see there, which sets a7 again every way) */
    reply_commit words_only=1
    /* fall through */

/* Become the caller s3 and return to its user mode (fast_switch). */
ipc_fast_switch:
    fast_switch

/*
 * ipc_fast_switch for a caller whose descriptor outputs the reply changed:
 * become it, write them back from its own address space on its own (empty)
 * kernel stack, as finish_call would, with its result in a0, then return to
 * user mode as ipc_fast_switch does (its satp write again is the same value).
 * The message registers and a1, a7 wait in the caller's frame meanwhile.
 */
ipc_fast_switch_outputs:
    ld      t4, TH_SATP(s3)
    csrw    satp, t4
    mv      tp, s3
    kernel_stack
    .irp n, 5,6,7,11,12,13,14,15,16,17
    sd      x\n, UREG(\n)(tp)
    .endr
    call    ipc_fast_caller_outputs         /* a0 = the call's result */
    sd      zero, TH_IPC_DESC_USER(tp)      /* (back to user mode: no descriptor) */
    .irp n, 5,6,7,11,12,13,14,15,16,17
    ld      x\n, UREG(\n)(tp)
    .endr
    j       ipc_fast_switch                 /* (s3 is the caller still: C keeps it) */

/*
 * A thread the fast path blocked, switched to by schedule() after the C path
 * (or an interrupt) woke it: finish as the C path would, then return to user
 * mode with the user's s0-s11 from the frame.
 */
    .globl ipc_call_resume, ipc_recv_resume
ipc_call_resume:
    ld      sp, TH_KSTACK_TOP(tp)           /* block_current left the saved sp as it was */
    call    sched_switch_done
    call    ipc_call_resumed
    j       1f
ipc_recv_resume:
    ld      sp, TH_KSTACK_TOP(tp)
    call    sched_switch_done
    call    ipc_receive_resumed
1:  .irp n, 8,9,18,19,20,21,22,23,24,25,26,27
    ld      x\n, UREG(\n)(tp)
    .endr
    j       ipc_return

/* A C helper said no (call_c): a0, a1, a7 and t3 back, and the user's s5-s7. */
c_bail_call:
    li      a7, SYSCALL_IPC_FIRST           /* KS_SYS_IPC_CALL */
    j       1f
c_bail_reply:
    li      a7, C_SYS_IPC_REPLY_RECEIVE
1:  mv      a0, s5
    mv      t3, s7
    .irp n, 21,22,23
    ld      x\n, UREG(\n)(tp)
    .endr
    /* fall through */

/*
 * A check failed: the user's s0-s4 back from the frame, then the C path. a7
 * must hold the call's number: the descriptor tests use it, and every way
 * from them to here sets it again.
 */
ipc_bail:
    .irp n, 8,9,18,19,20
    ld      x\n, UREG(\n)(tp)
    .endr
    j       ipc_slow
