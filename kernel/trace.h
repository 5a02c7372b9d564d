/*
 * kernel/trace.h - the event trace of the trace kernel (build/kernel-trace.elf,
 * built with KESTREL_TRACE; `make trace` boots it).
 *
 * Each event is stamped with rdinstret and rdtime and goes into a ring of
 * TRACE_EVENTS entries; at shutdown the ring is printed on the console as
 * "ktrace:" lines, which tools/trace-json turns into Chrome trace-event JSON.
 * In the other kernels every function here is an empty inline, so the kernel
 * make bench measures has not one instruction more.
 *
 * The trace kernel also keeps the IPC fast path switched off: every call goes
 * through the C path (kernel/ipc.c), which records the events (the two paths
 * give the same results; the tests compare them). KS_SYS_IPC_CONTROL asked to
 * switch it on fails there with KS_ERR_BAD_STATE.
 */
#ifndef KERNEL_TRACE_H
#define KERNEL_TRACE_H

#include <stdint.h>

struct thread;

/* Event types; the dump prints the number, tools/trace-json names them. */
enum trace_type {
    TR_NAME = 1,        /* a thread's name: a = pid, b and c = up to 16 bytes of its name */
    TR_SWITCH,          /* the current thread gives the cpu to thread a */
    TR_SYS_ENTER,       /* system call a, first argument b */
    TR_SYS_EXIT,        /* system call a returns b */
    TR_IPC_DELIVER,     /* caller a's message goes to receiver b; c = the listener, d = word 0 */
    TR_IPC_REPLY,       /* server a answers caller b; c = the reply port, d = word 0 */
    TR_FAULT_BEGIN,     /* a user page fault at address a, access b (KS_PROT_*) */
    TR_FAULT_END,       /* its result: a = 0, or the error */
    TR_IRQ_BEGIN,       /* an interrupt, cause a (5 timer, 9 external); b = 1 from user mode */
    TR_IRQ_END,
    TR_IRQ_LINE,        /* external interrupt line a dispatched */
    TR_UPCALL,          /* an upcall (a signal) bit a delivered at pc b; c = 1 for a fault */
    TR_EXIT,            /* the current thread ends */
    TR_PAGER_REQUEST,   /* page a of a paged memobj asked of its pager (userdata b), first time */
};

#ifdef KESTREL_TRACE

#define TRACE_EVENTS 65536

/* Name the boot thread t, now current, and start recording (nothing is recorded before). */
void trace_start(const struct thread *t);

/* Record one event for the current thread. Safe with interrupts on or off. */
void trace_event(uint32_t type, uint64_t a, uint64_t b, uint64_t c, uint64_t d);

/* Record t's process id and name (at creation, and after exec). */
void trace_name(const struct thread *t);

/* Print the ring on the console ("ktrace:" lines, oldest first); called by shutdown.
   Once only (a panic inside the dump does not dump again), and only once started. */
void trace_dump(void);

#else

static inline void trace_event(uint32_t type, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    (void)type; (void)a; (void)b; (void)c; (void)d;
}
static inline void trace_start(const struct thread *t) { (void)t; }
static inline void trace_name(const struct thread *t) { (void)t; }
static inline void trace_dump(void) {}

#endif
#endif
