/*
 * arch/riscv/include/arch/thread.h - the per-thread state the RISC-V code keeps.
 *
 * struct arch_thread is the first member of struct thread (kernel/thread.h), and
 * the kernel's tp register points at the running thread, so entry.S reaches
 * these fields, the user register frame among them, at fixed offsets from tp
 * (build/gen/asm-offsets.h) without any address arithmetic.
 *
 * Invariant: sscratch holds the current thread while the hart runs in user
 * mode, and 0 while it runs in the kernel (but in the IPC fast path, which
 * cannot trap and clears it before any way out that might: entry.S). A trap
 * swaps tp with sscratch: a non-zero result means the trap came from user mode.
 */
#ifndef ARCH_THREAD_H
#define ARCH_THREAD_H

#include <stdint.h>
#include <arch/trapframe.h>

struct thread;

/* Callee-saved registers of a thread switched out inside the kernel. */
struct arch_context {
    uint64_t ra, sp;
    uint64_t s[12];
};

struct arch_thread {
    uint64_t kstack_top;        /* the kernel sp on entry from user mode */
    uint64_t satp;              /* address space the thread runs in (0: kernel thread) */
    struct arch_context ctx;
    struct trap_frame frame;    /* user registers while the thread is in the kernel */
    uint64_t *fp;               /* f0-f31 and fcsr while another thread owns the FPU;
                                   allocated at the thread's first FP use (arch/riscv/fp.c) */
};

/* The running thread (tp in the kernel). */
static inline struct thread *arch_current(void)
{
    struct thread *t;
    __asm__("mv %0, tp" : "=r"(t));
    return t;
}

/* Make t the running thread for arch_current(); used once, for the boot thread. */
static inline void arch_set_current(struct thread *t)
{
    __asm__ volatile("mv tp, %0" :: "r"(t));
}

/*
 * Prepare a new thread so that the first switch to it runs thread_start() and
 * then enters user mode at pc with sp and a0 = arg.
 */
struct arch_aspace;
void arch_thread_init_user(struct thread *t, uint64_t kstack_top, const struct arch_aspace *as,
                           uint64_t pc, uint64_t sp, uint64_t arg);

/*
 * Where a thread the IPC fast path blocked resumes when a normal switch
 * reaches it (arch/riscv/ipc_fast.S): after a call, after a receive. Each
 * listener keeps both for the fast path (struct listener, kernel/ipc.h).
 */
extern const char ipc_call_resume[], ipc_recv_resume[];

/*
 * exec: the running thread t, inside a system call, will return to user mode
 * at pc with sp in address space `as` (now active), its other user registers
 * zero (but s0-s11, which an ecall return leaves as they are) and no FP state.
 */
void arch_thread_exec(struct thread *t, const struct arch_aspace *as, uint64_t pc, uint64_t sp);

/*
 * Upcalls (kernel/upcall.c). complete_frame: the running thread t is
 * returning from a system call (an IPC one if from_ipc) with result a0, and
 * its frame is to describe that return in full: the pc past the ecall, the
 * results, zeroed scratch registers (s0-s11 are already there). push: save
 * the frame (and FP state) as a struct ks_upcall_frame, recording `mask`,
 * `bit` and `sender`, just below the user sp, and make the frame start pc(bit, frame)
 * on it; 0 or KS_ERR_FAULT if the stack cannot take it. pop: the reverse,
 * from the frame at user address uaddr; its mask into *mask; 0, KS_ERR_FAULT,
 * KS_ERR_RANGE (its pc is not user space) or KS_ERR_NO_MEMORY (FP state).
 */
void arch_upcall_complete_frame(struct thread *t, int from_ipc, long a0);
int arch_upcall_push(struct thread *t, uint64_t pc, unsigned bit, uint64_t mask, uint32_t sender);
/* arch_upcall_push for a fault: the frame records it (KS_UPCALL_FAULT, addr, cause) and resumes
   at the faulting instruction. */
int arch_upcall_push_fault(struct thread *t, uint64_t pc, unsigned bit, uint64_t mask, uint64_t addr,
                           uint32_t cause);
long arch_upcall_pop(struct thread *t, uint64_t uaddr, uint64_t *mask);

/* The user stack pointer t had when it entered the kernel (struct arch_thread comes first). */
static inline uint64_t arch_user_sp(const struct thread *t)
{
    return ((const struct arch_thread *)(const void *)t)->frame.x[REG_SP];
}

/* A new user thread t starts with tp (its thread pointer) and, if `from` (a thread of the
   same process) is given, from's gp, as a Linux clone child would. */
void arch_thread_set_tls(struct thread *t, const struct thread *from, uint64_t tp);

/* A forked child's thread starts with from's thread and global pointers (tp, gp). */
void arch_thread_copy_tls(struct thread *t, const struct thread *from);

/* Prepare a kernel thread: its first switch runs thread_start(), then fn(arg), then
   thread_exit with fn's result. */
void arch_thread_init_kernel(struct thread *t, uint64_t kstack_top, long (*fn)(void *), void *arg);

/* Save the running thread's registers in prev, continue as next (tp becomes next). */
void arch_switch(struct thread *prev, struct thread *next);

/*
 * Switch the hart to the address space of the thread whose arch part is next,
 * if it has one (ASIDs: no TLB flush, and writing the value satp holds
 * changes nothing); FP goes off, so its first use traps (arch/riscv/fp.c).
 */
static inline void arch_switch_aspace(const struct arch_thread *next)
{
    __asm__ volatile("csrc sstatus, %0" :: "r"(3ul << 13) : "memory");      /* sstatus.FS */
    if (next->satp)
        __asm__ volatile("csrw satp, %0" :: "r"(next->satp) : "memory");
}

/* t has exited: its FP registers (if loaded) are nobody's now, its save area goes. */
void arch_fp_forget(struct thread *t);

#endif
