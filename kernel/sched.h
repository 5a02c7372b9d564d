/*
 * kernel/sched.h - the round-robin scheduler.
 *
 * One run queue, FIFO. A thread runs until it blocks, yields, or uses up its
 * time slice (one clock tick, 10 ms), at which point it goes to the back of the
 * queue on its next way out of the kernel. The idle thread runs when nothing else
 * can; it sleeps in wfi.
 */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include <stdint.h>
#include "thread.h"

struct thread;
struct wait_queue;

void sched_init(struct thread *idle);

/* Append t (RUNNABLE, not queued) to the run queue. */
void sched_enqueue(struct thread *t);

/* Give the hart to the next runnable thread. The current thread must already be
   queued (yield), blocked, or dead. */
void schedule(void);

/*
 * Block the current thread on wq (NULL: only a sleep or an interrupt wakes it)
 * until sched_wake. Returns the wake result; KS_ERR_INTERRUPTED at once if
 * interruptible and an interrupt is pending or the process is dying.
 */
long sched_block(struct wait_queue *wq, int interruptible);

/* Make a blocked thread runnable; its sched_block returns `result`. */
void sched_wake(struct thread *t, long result);

/*
 * sched_block(NULL, interruptible), handing the hart straight to the blocked
 * thread `next` as if sched_wake(next, next_result) had been called and it had
 * been picked, without a trip through the run queue (an IPC rendezvous).
 */
long sched_block_handoff(struct thread *next, long next_result, int interruptible);

/*
 * The state changes, as they are defined here; arch/riscv/ipc_fast.S makes
 * the same ones in assembly (block_current, the partner made RUNNABLE, the
 * switch) and must stay equal to them:
 *   - block the current thread t (sched_block): refuse with
 *     KS_ERR_INTERRUPTED if it is interruptible and t->interrupt_pending,
 *     THREAD_KILLED or THREAD_UPCALL is set (the fast path tests them all
 *     first and leaves such a call to C); else t->state = THREAD_BLOCKED, t->uninterruptible =
 *     !interruptible (the waiter sets it back to 0 once woken: it is 0 at
 *     any other time, which the fast path relies on), and
 *     t->waiting_on = wq. An IPC wait is interruptible with wq NULL, so it is
 *     on no wait queue and no sleep list: only the IPC code (or an interrupt)
 *     wakes it, through sched_wake;
 *   - hand the hart to a blocked `next` (sched_block_handoff): take next off
 *     its wait queue and the sleep list (an IPC-blocked thread is on neither),
 *     set its wake result, next->state = THREAD_RUNNABLE without queueing it,
 *     switch the address space (satp) and the context. The fast path gives
 *     the result in registers and returns to user mode itself, so it writes
 *     no wake_result; the context it leaves behind for the blocked thread
 *     resumes in ipc_call_resume/ipc_recv_resume, which C's switch can run.
 * user/uipc.c's fast-path table runs every case with the fast path on and off
 * and compares everything observable, and cases where C wakes a thread the
 * fast path blocked (and the other way round): a difference between the two
 * definitions fails there.
 */

/* Current thread to the back of the queue, and run the next one. */
void sched_yield(void);

/* Clock tick: wake sleepers whose time has come; ask for a switch if others wait. */
void sched_tick(void);

/* If the time slice is used up, yield (called on the way back to user mode). */
void sched_preempt_point(void);

/* Park the current thread on the sleep list until `deadline` (platform time). */
void sched_add_sleeper(struct thread *t, uint64_t deadline);
void sched_remove_sleeper(struct thread *t);

/* The idle loop: run whatever is runnable, else wait for an interrupt. */
__attribute__((noreturn)) void sched_idle_loop(void);

/* One round of the idle loop (for the boot thread waiting on in-kernel tests). */
void sched_idle_once(void);

/*
 * How far the instruction counter has moved while the hart slept in the idle
 * loop's wfi: under QEMU -icount, rdinstret counts the virtual clock's jumps
 * over idle time as instructions; a figure that waits for a device subtracts
 * this to count only instructions executed (struct ks_kstat.idle_instret).
 */
uint64_t sched_idle_instret(void);

/*
 * A point in a long system call (a big copy, a big console write) where
 * another thread may run: a pending interrupt is taken here (the kernel runs
 * with interrupts off otherwise), and if the tick asked for a switch, the
 * caller yields. Only where the caller holds a reference on everything it
 * uses next and has left no object half-changed.
 */
void sched_preempt_long(void);

/*
 * Operations that end things (closing a handle, unmapping, truncating,
 * killing, a process's teardown) can free hundreds of megabytes a page at a
 * time. Between sched_long_begin and sched_long_end, the loops that free or
 * unmap pages call sched_long_window once a page, which takes a pending
 * interrupt there (its handler runs; no other thread does: nothing yields), so
 * an interrupt never waits longer than a page's work. Only at the top of a
 * system call (or of a thread's exit), where nothing is half-changed; the
 * loops are then in objects that are going away, which no handler touches.
 */
void sched_take_interrupts(void);

static inline void sched_long_begin(void)
{
    current_thread()->long_op++;
}

static inline void sched_long_end(void)
{
    current_thread()->long_op--;
}

static inline void sched_long_window(void)
{
    if (current_thread()->long_op)
        sched_take_interrupts();
}

/*
 * Called from assembly (arch/riscv/entry.S, ipc_fast.S), never from C:
 *   thread_start       a new thread's first code (kthread_trampoline);
 *   thread_start_user  a new user thread's first code (thread_trampoline),
 *                      before user_return_full: checks interrupts are off,
 *                      then thread_start;
 *   sched_switch_done  after a switch that did not return through schedule()
 *                      (a thread the IPC fast path blocked, resumed by C).
 */
void thread_start(void);
void thread_start_user(void);
void sched_switch_done(void);

uint64_t sched_switch_count(void);

#endif
