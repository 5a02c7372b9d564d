/*
 * kernel/trace.c - the trace kernel's event ring (see trace.h), and the
 * system call wrappers entry.S calls in that kernel instead of the tables.
 * Compiled to nothing in the other kernels.
 */
#ifdef KESTREL_TRACE

#include <arch/arch.h>
#include "clock.h"
#include "kprintf.h"
#include "process.h"
#include "string.h"
#include "syscall.h"
#include "thread.h"
#include "trace.h"

struct trace_rec {
    uint64_t instret, time;
    uint32_t type, tid;
    uint64_t a, b, c, d;
};

static struct trace_rec ring[TRACE_EVENTS];
static uint64_t recorded;              /* events ever recorded; the ring holds the last TRACE_EVENTS */
static int started;                    /* current_thread() is valid (trace_start) */
static int dumped;

void trace_start(const struct thread *t)
{
    started = 1;
    trace_name(t);
}

/* Put one event of thread tid in the ring. */
static void record(uint32_t type, uint32_t tid, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    unsigned long flags = arch_irq_save();
    struct trace_rec *e = &ring[recorded++ % TRACE_EVENTS];
    e->instret = arch_instret();
    e->time = arch_time_now();
    e->type = type;
    e->tid = tid;
    e->a = a;
    e->b = b;
    e->c = c;
    e->d = d;
    arch_irq_restore(flags);
}

void trace_event(uint32_t type, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    if (started)                        /* (not before the boot thread exists: a panic that early) */
        record(type, current_thread()->tid, a, b, c, d);
}

void trace_name(const struct thread *t)
{
    uint64_t name[2] = { 0, 0 };
    size_t n = strlen(t->name);
    memcpy(name, t->name, n < sizeof name ? n : sizeof name);
    /* the thread named, which need not be the current one */
    record(TR_NAME, t->tid, t->proc ? t->proc->pid : 0, name[0], name[1], 0);
}

/* What one event costs: the instructions between two events recorded back to back. */
static uint64_t event_cost(void)
{
    struct trace_rec *a = &ring[recorded % TRACE_EVENTS], *b = &ring[(recorded + 1) % TRACE_EVENTS];
    struct trace_rec was[2] = { *a, *b };       /* the two oldest, once the ring has wrapped */
    trace_event(0, 0, 0, 0, 0);
    trace_event(0, 0, 0, 0, 0);
    uint64_t cost = b->instret - a->instret;
    *a = was[0];                        /* not part of the trace */
    *b = was[1];
    recorded -= 2;
    return cost;
}

void trace_dump(void)
{
    if (!started || dumped)
        return;
    dumped = 1;
    uint64_t cost = event_cost();
    uint64_t n = recorded < TRACE_EVENTS ? recorded : TRACE_EVENTS;
    kprintf("\nktrace: begin %lu events, %lu overwritten, timebase %lu Hz, %lu instructions an event\n",
            (unsigned long)n, (unsigned long)(recorded - n), (unsigned long)clock_timebase_hz(),
            (unsigned long)cost);
    for (uint64_t i = recorded - n; i < recorded; i++) {
        const struct trace_rec *e = &ring[i % TRACE_EVENTS];
        kprintf("ktrace: %u %u %lx %lx %lx %lx %lx %lx\n", e->type, e->tid, (unsigned long)e->instret,
                (unsigned long)e->time, (unsigned long)e->a, (unsigned long)e->b, (unsigned long)e->c,
                (unsigned long)e->d);
    }
    kprintf("ktrace: end\n");
}

/* entry.S: system call nr (a7) with arguments a0..a5, between its two events. */
long trace_syscall(sysarg_t a0, sysarg_t a1, sysarg_t a2, sysarg_t a3, sysarg_t a4, sysarg_t a5,
                   sysarg_t a6, sysarg_t nr)
{
    trace_event(TR_SYS_ENTER, nr, a0, 0, 0);
    long r = syscall_table[nr](a0, a1, a2, a3, a4, a5);
    trace_event(TR_SYS_EXIT, nr, (uint64_t)r, 0, 0);
    return r;
}

/* entry.S: IPC system call nr (a7; the message is saved in current->ipc already). */
long trace_ipc_syscall(sysarg_t a0, sysarg_t a1, sysarg_t a2, sysarg_t a3, sysarg_t a4, sysarg_t a5,
                       sysarg_t a6, sysarg_t nr)
{
    trace_event(TR_SYS_ENTER, nr, a0, 0, 0);
    long r = ipc_syscall_table[nr - KS_SYS_IPC_FIRST](a0, a1, a2, a3, a4, a5);
    trace_event(TR_SYS_EXIT, nr, (uint64_t)r, 0, 0);
    return r;
}

#endif
