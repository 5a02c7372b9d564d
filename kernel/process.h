/*
 * kernel/process.h - processes: an address space, a handle table, threads.
 *
 * A process lives while it has threads, or, before its first thread starts,
 * while someone holds a handle to it. It ends when its last thread exits,
 * when a thread calls process_exit, or when it is killed (a fault, or
 * KS_SYS_PROCESS_KILL): then every thread is told to exit, and the last one out frees
 * the address space and closes the handles. The process object itself stays
 * until its last reference goes, so a waiter can still read the status.
 */
#ifndef KERNEL_PROCESS_H
#define KERNEL_PROCESS_H

#include <stdint.h>
#include "handle.h"
#include "list.h"
#include "object.h"
#include "wait.h"
#include "watch.h"

struct vm_space;
struct account;

enum process_state {
    PROCESS_ALIVE,
    PROCESS_EXITING,    /* told to end; threads are leaving */
    PROCESS_DEAD,       /* resources freed; status final */
};

/*
 * Laid out to fill 512 bytes, a heap class (kernel/heap.c), with one byte to spare:
 * 16 more would make every process take 1,024 and fork zero twice as much.
 */
struct process {
    struct object obj;
    uint32_t pid;
    uint32_t parent_pid;
    char name[32];
    uint64_t status;                /* KS_STATUS_* once exiting */
    struct account *acct;           /* its own account (kernel/account.h); NULL once dead */
    struct vm_space *vm;
    struct handle_table *handles;
    struct list threads;            /* live threads (struct thread.proc_link) */
    uint32_t nthreads;
    uint32_t pgid;                  /* its group, for KS_SIGNAL_GROUP (KS_SYS_PROCESS_GROUP) */
    struct wait_queue exit_waiters;
    uint64_t upcall_pc;             /* where upcalls start (0: none; kernel/upcall.h) */
    uint64_t up_raised;             /* upcall bits raised on the process, not yet taken */
    uint64_t up_ignore;             /* bits a raise drops unless masked */
    uint32_t up_sender[64];         /* per bit: the pid whose raise made it pending (upcall.h) */
    uint8_t fault_bit[4];           /* [cause - KS_KILL_PAGE_FAULT] for KS_KILL_PAGE_FAULT.._ACCESS:
                                       upcall bit + 1 (0: a fault kills) */
    uint8_t stop_signal;            /* stopped by it (job control), 0: running */
    uint8_t stop_report;            /* KS_WAIT_STOPPED or _CONTINUED not yet waited for, or 0 */
    uint8_t state;                  /* enum process_state */
    struct process *exit_notify;    /* raise exit_bits on it when this process ends (a reference) */
    uint64_t exit_bits;
    struct list_node all_link;      /* in the list of processes not yet dead (orphans' reparenting) */
    uint64_t utime_ns, stime_ns;    /* CPU time of its threads that have ended (thread.h) */
    uint64_t cutime_ns, cstime_ns;  /* of its dead children, theirs included */
    struct watch_list end_watch;    /* listeners waiting for its end or a stop (KS_SYS_WATCH) */
};

/*
 * KS_SYS_WATCH on a process: KS_WATCH_HANGUP (> 0) if p has ended or l is
 * NULL and it has not (then 0); else arm l's one-shot watch for its end and
 * 0; or KS_ERR_NO_MEMORY.
 */
struct listener;
long process_watch(struct process *p, struct account *a, struct listener *l, uint64_t userdata,
                   uint32_t events);

/*
 * KS_SYS_PROCESS_STOPPED: p reports a stop by signal sig (1..64) or, with 0, a
 * continue after one. Wakes waiters, fires READABLE watches, raises the
 * PROCESS_ON_EXIT bits.
 */
void process_report_stop(struct process *p, uint32_t sig);

/*
 * process_wait with KS_WAIT_* flags: a reported stop or continue that
 * `flags` asks for (taken: reported once, unless KS_WAIT_PEEK), or the end. KS_ERR_AGAIN with
 * KS_WAIT_NOHANG when neither is there; KS_ERR_INTERRUPTED.
 */
long process_wait_flags(struct process *p, uint32_t flags, uint64_t *status);

/* 1 if a process with this pid has not ended (is not dead), else 0. */
int process_pid_alive(uint32_t pid);

/*
 * KS_SYS_PROCESS_SIGNAL: raise upcall bits `value` on (or, with
 * KS_SIGNAL_KILL, end with status KS_STATUS_KILLED | value) every living
 * process that matches kind/who and is in the caller's reach: the caller,
 * the processes below it in the account tree and, for a raise, its parent
 * (not for a kill: init is some process's parent). How many are in reach (> 0),
 * KS_ERR_ACCESS if every match is out of it, KS_ERR_NO_PROCESS if none matches.
 * Between sched_long_begin and _end: a thread-less process ends here.
 */
long process_signal(struct process *caller, uint32_t kind, uint32_t who, uint64_t value,
                    uint32_t flags);

/* Call fn(t, arg) for every thread of every process not yet dead (fn may not end any). */
void process_each_thread(void (*fn)(struct thread *t, void *arg), void *arg);

/* KS_SYS_PROCESS_TIMES: p's CPU time so far, its live threads' included, and its dead children's. */
void process_times(const struct process *p, uint64_t *user, uint64_t *system, uint64_t *cuser,
                   uint64_t *csystem);

/*
 * A new process with an empty address space and handle table, in *out. Its
 * account is a child of `creator` (the maker's account; NULL for init), which
 * is charged for the process object and counts it as one of its processes
 * until it is dead. 0, KS_ERR_NO_MEMORY, or KS_ERR_LIMIT (a process limit).
 */
long process_create(const char *name, uint32_t parent_pid, struct account *creator,
                    struct process **out);

/* Begin ending p with `status` (KS_STATUS_* encoding). Idempotent: the first status wins. */
void process_exit(struct process *p, uint64_t status);

/* Called by thread_exit when a thread of p has finished with `code`. */
void process_thread_gone(struct process *p, long code);

/* Wait until p is dead; its status in *status. 0 or KS_ERR_INTERRUPTED. */
long process_wait(struct process *p, uint64_t *status);

/*
 * exec's kernel half (KS_SYS_PROCESS_EXEC): the current thread's process p
 * takes `image`'s address space, handle table and name, after its other
 * threads have ended, and frees its own; image is left dead. The calling
 * thread restarts at pc with sp in the new address space. image must be a
 * process made under p that never had a thread. 0, or KS_ERR_BAD_STATE
 * (image unsuitable), or KS_ERR_INTERRUPTED (p was killed meanwhile);
 * nothing has changed on an error.
 */
long process_exec(struct process *p, struct process *image, uint64_t pc, uint64_t sp);

/* Print "killed: ..." and end p with KS_STATUS_KILLED | cause. */
void process_kill_fault(struct process *p, uint32_t cause, const char *what, uint64_t addr,
                        uint64_t pc);

static inline struct process *process_from_object(struct object *o)
{
    return OBJECT_CAST(o, KS_OBJ_PROCESS, struct process, obj);
}

#endif
