/*
 * kernel/upcall.h - upcalls: bits raised on a process or thread that divert
 * one of its threads to a user handler and back (include/kestrel/upcall.h
 * has the rules as user space sees them). The policy, which bit is which
 * signal and what a handler does, is user space's (musl_emu/signal.c); the
 * kernel keeps the pending and masked bits, picks the thread, and the arch
 * code saves and restores the registers (arch_upcall_push, arch_upcall_pop).
 */
#ifndef KERNEL_UPCALL_H
#define KERNEL_UPCALL_H

#include <stdint.h>

struct process;
struct thread;

/*
 * Raise bits on process p (it picks the thread) or on thread t alone, for the
 * process whose pid is `sender` (recorded for the bits this makes pending).
 */
void upcall_raise_process(struct process *p, uint64_t bits, uint32_t sender);
void upcall_raise_thread(struct thread *t, uint64_t bits, uint32_t sender);

/*
 * Set t's THREAD_UPCALL flag if a bit raised on it or its process is not
 * masked (and the process has an entry), else clear it; a thread that now
 * has one and waits interruptibly is woken with KS_ERR_INTERRUPTED. Called
 * whenever its mask, its bits or its process's entry change.
 */
void upcall_update(struct thread *t);

/*
 * The current thread faulted (cause KS_KILL_*, about addr): deliver it as
 * its process's fault bit if there is one it can take, and return 1 (the
 * frame is set to go to the handler); 0 if the fault must kill.
 */
int upcall_fault(uint32_t cause, uint64_t addr);

/* How a slow return to user mode was reached (entry.S passes it). */
enum upcall_from {
    UPCALL_FROM_ECALL,      /* a plain system call: result in a0, s0-s11 saved in the frame */
    UPCALL_FROM_IPC,        /* an IPC call: results in the thread's IPC state */
    UPCALL_FROM_TRAP,       /* an interrupt or exception: the frame is whole */
};

/* What entry.S does next: return `a0`, and through the whole frame if `full`. */
struct upcall_ret {
    long a0;
    long full;
};

/*
 * The slow way back to user mode, taken whenever the thread's flags are set:
 * a killed thread exits here; an upcall that is due is delivered (the frame
 * made whole, pushed onto the user stack, the thread sent to the entry).
 */
struct upcall_ret thread_return_slow(long a0, long from);

#endif
