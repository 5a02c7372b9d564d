/*
 * kernel/thread.h - threads: the unit the scheduler runs.
 *
 * A thread belongs to a process (kernel threads, like the idle thread, to none)
 * and has its own kernel stack; its user registers are saved in the thread
 * itself (arch.frame, reached from tp at trap entry) while it is in the kernel. A thread object outlives the thread: handles keep it for
 * thread_join, and it is freed when the last reference goes.
 */
#ifndef KERNEL_THREAD_H
#define KERNEL_THREAD_H

#include <stdint.h>
#include <arch/thread.h>
#include "ipc_thread.h"
#include "list.h"
#include "object.h"
#include "wait.h"

struct process;
struct vm_space;

enum thread_state {
    THREAD_RUNNABLE,    /* on the run queue, or running */
    THREAD_BLOCKED,     /* on a wait queue (waiting_on) */
    THREAD_DEAD,        /* exited; its stack is freed by the next thread to run */
};

/* thread.flags: anything set makes the return to user mode call thread_return_slow (upcall.h). */
#define THREAD_KILLED   (1u << 0)   /* its process is ending: exit at the next chance */
#define THREAD_UPCALL   (1u << 1)   /* an upcall is due (kernel/upcall.h): divert it on return */
#define THREAD_FULL_RETURN (1u << 2) /* its whole user frame is set (KS_SYS_UPCALL_RETURN):
                                       return through it, not as from an ecall */

struct thread {
    struct arch_thread arch;        /* first: entry.S finds it through tp */
    /*
     * state to flags are one doubleword, which the IPC fast path tests with
     * one ld: all zero for the thread that enters (runnable, as a running
     * thread is, IPC idle, nothing due); for a partner it would switch to,
     * blocked in the IPC state it expects, and nothing else (nothing due that
     * its return to user mode should run). It writes state and ipc_state
     * together, as a halfword.
     */
    uint8_t state;                  /* enum thread_state */
    uint8_t ipc_state;              /* enum ipc_state (kernel/ipc_thread.h) */
    uint8_t interrupt_pending;      /* thread_interrupt came while it was not blocked */
    uint8_t ipc_fast_off;           /* its IPC takes the C path (ipc_fastpath_set, kernel/ipc.h) */
    uint32_t flags;
    uint32_t tid;
    /*
     * The page a kernel copy of this thread stopped at because its pager has
     * not supplied it yet (set by vm_fault, taken by uaccess_pager_wait; see
     * kernel/uaccess.h). miss_vs NULL: none.
     */
    struct vm_space *miss_vs;
    uintptr_t miss_addr;
    struct object obj;
    struct process *proc;           /* NULL for kernel threads (holds a reference) */
    struct list_node sched_link;    /* run queue or a wait queue */
    struct wait_queue *waiting_on;
    int uninterruptible;            /* BLOCKED in a wait an interrupt does not end (kmutex_lock,
                                       which sets it back to 0 once it runs again); 0 at any
                                       other time, so the IPC fast path blocks a thread
                                       interruptibly without writing it (sched.h) */
    long wake_result;
    uint64_t sleep_deadline;        /* platform time; valid while on the sleep list */
    struct list_node sleep_link;
    struct list_node proc_link;     /* in proc->threads */
    void *kstack;                   /* base of the kernel stack (KSTACK_ORDER pages) */
    long exit_code;
    int exited;
    struct wait_queue joiners;
    struct thread_ipc ipc;
    const void *futex_owner;        /* while blocked in futex_wait: the word waited on, as
                                       vm_futex_key names it (memobj and offset, or address
                                       space and address) */
    uint64_t futex_key;
    uint64_t up_raised;             /* upcall bits raised on this thread alone */
    uint64_t up_mask;               /* the upcall bits it does not take now */
    uint64_t up_saved_mask;         /* while up_suspended: the mask to restore */
    uint64_t up_take;               /* while blocked in KS_SYS_UPCALL_TAKE: the bits it waits for */
    int up_suspended;               /* in KS_SYS_UPCALL_SUSPEND: up_mask is temporary */
    uint64_t utime_ns, stime_ns;    /* CPU time, sampled by the tick (thread_charge_tick) */
    uintptr_t robust_head;          /* KS_SYS_THREAD_ROBUST: its robust list (0: none) */
    uint32_t robust_owner;          /* the owner value its lock words carry */
    uint32_t long_op;               /* inside sched_long_begin/end: page loops take pending
                                       interrupts (sched_long_window) */
    char name[24];
};

#define KSTACK_ORDER 2              /* 16 KiB kernel stacks */

static inline struct thread *current_thread(void) { return arch_current(); }

/* Adopt the boot context as the first (kernel) thread; it becomes the idle thread. */
void thread_init_boot(void);

/*
 * A new thread in proc that will enter user mode at pc with sp and a0 = arg,
 * in *out. It is not yet runnable: call thread_start_running. Its object,
 * kernel stack and FP state are charged to proc's account, which counts it
 * as a thread until it is reaped. 0, KS_ERR_NO_MEMORY or KS_ERR_LIMIT.
 */
long thread_create_user(struct process *proc, uint64_t pc, uint64_t sp, uint64_t arg,
                        struct thread **out);

/* A runnable kernel thread running fn(arg); its result is the exit code. NULL without memory. */
struct thread *thread_create_kernel(const char *name, long (*fn)(void *), void *arg);

/* Undo thread_create_user for a thread that never ran. */
void thread_discard(struct thread *t);

/* Put a created thread on the run queue. */
void thread_start_running(struct thread *t);

/*
 * The tick found t running: charge it a tick's time, as user time if the
 * tick interrupted user mode, else as system time (kernel threads, the idle
 * one among them, keep none). CPU time is sampled, as classic Unix did: exact
 * for long runs, a tick's grain for short ones, and free on every other path.
 */
void thread_charge_tick(struct thread *t, int user);

/* End the current thread with `code`. */
__attribute__((noreturn)) void thread_exit(long code);


/* Interrupt t: if blocked interruptibly, it wakes with KS_ERR_INTERRUPTED. */
void thread_interrupt(struct thread *t);

/* Wait for t to exit; its exit code, or KS_ERR_INTERRUPTED. */
long thread_join(struct thread *t);

/* Sleep for ns nanoseconds; 0, or KS_ERR_INTERRUPTED. */
long thread_sleep(uint64_t ns);

static inline struct thread *thread_from_object(struct object *o)
{
    return OBJECT_CAST(o, KS_OBJ_THREAD, struct thread, obj);
}

#endif
