/*
 * include/kestrel/upcall.h - upcalls: how the kernel diverts a thread to a
 * user handler and back (KS_SYS_UPCALL_*, include/kestrel/syscall.h).
 *
 * A process or thread has 64 bits that anyone holding it with
 * KS_RIGHT_SIGNAL can raise. Each thread has a mask. A raised bit that some
 * thread does not mask (the raising thread first, if it is one of the
 * process's) makes that thread leave any interruptible wait with
 * KS_ERR_INTERRUPTED, and at its next return to user mode (from a system
 * call, an interrupt or a fault it survived) the kernel takes the lowest such
 * bit, saves the thread's whole user state in a struct ks_upcall_frame just
 * below its stack pointer, masks every bit, and starts it at the process's
 * upcall entry with sp and a1 the frame's address and a0 the bit's number.
 * KS_SYS_UPCALL_RETURN(frame) puts back every register, floating point
 * included, and the mask the frame records. A thread whose stack cannot take
 * the frame is killed with one line.
 *
 * A fault that would kill the process (KS_KILL_PAGE_FAULT, _ILLEGAL,
 * _MISALIGNED, _ACCESS) is delivered instead as the bit
 * KS_SYS_UPCALL_FAULT named for its cause, if the process has an entry and
 * the faulting thread does not mask that bit; the frame's pc is the faulting
 * instruction's. A fault the thread cannot take so (masked: inside the
 * handler, say) kills as before.
 *
 * The process's `ignore` bits are dropped when raised, unless the thread
 * (for a thread raise) or every thread (for a process raise) masks them.
 * A bit records the pid of the raise that made it pending (the frame's
 * `sender`, and KS_SYS_UPCALL_TAKE's answer); there is one such record per bit
 * per process, so a bit pending on a thread and on its process at once
 * shows the later sender for both.
 *
 * Without an entry (pc 0) raised bits stay pending. fork copies the entry,
 * the ignore bits and the forking thread's mask; exec keeps the ignore bits,
 * the mask and what is pending, and clears the entry.
 */
#ifndef KESTREL_UPCALL_H
#define KESTREL_UPCALL_H

#include <stdint.h>

/* KS_SYS_UPCALL_MASK's how. */
#define KS_MASK_BLOCK   0   /* mask |= bits */
#define KS_MASK_UNBLOCK 1   /* mask &= ~bits */
#define KS_MASK_SET     2   /* mask = bits */

/* The saved state (RISC-V): the layout of Linux's riscv64 mcontext, so a
   ucontext can be made by copying. */
struct ks_upcall_frame {
    uint64_t x[32];             /* x[0]: the pc to resume at; x[1..31] the registers */
    uint64_t f[32];             /* f0-f31, if flags has KS_UPCALL_FP */
    uint64_t fcsr;
    uint64_t mask;              /* the thread's mask to restore */
    uint64_t bit;               /* the bit delivered */
    uint64_t flags;
    uint64_t fault_addr;        /* KS_UPCALL_FAULT: the address the fault was about */
    uint64_t fault_cause;       /* KS_UPCALL_FAULT: its KS_KILL_* cause */
    uint64_t sender;            /* the pid of the process whose raise made the bit pending (a
                                   raise by the kernel for KS_SYS_PROCESS_ON_EXIT: the pid of
                                   the process that ended or stopped); 0 for a fault */
};
#define KS_UPCALL_FP    (1u << 0)   /* the thread had floating-point state */
#define KS_UPCALL_FAULT (1u << 1)   /* delivered for a fault (KS_SYS_UPCALL_FAULT): returning
                                       runs the faulting instruction again */

_Static_assert(sizeof(struct ks_upcall_frame) == 568, "ks_upcall_frame layout is ABI");

#endif
