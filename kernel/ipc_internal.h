/*
 * kernel/ipc_internal.h - what the IPC files share and nothing else includes:
 * kernel/ipc.c (descriptors, the rendezvous, the fast path's C helpers),
 * kernel/ipc_port.c (the port objects) and kernel/ipc_notify.c.
 */
#ifndef KERNEL_IPC_INTERNAL_H
#define KERNEL_IPC_INTERNAL_H

#include "debug.h"
#include "handle.h"
#include "ipc.h"
#include "thread.h"

/* The rights a new reply port handle has (what a server needs to answer). */
#define IPC_REPLY_RIGHTS (KS_RIGHT_WRITE)

static inline struct thread *ipc_owner(struct thread_ipc *ipc)
{
    return (struct thread *)((char *)ipc - __builtin_offsetof(struct thread, ipc));
}

/* Copy n words (a small constant: unrolled in place instead of a call to memcpy). */
static inline __attribute__((always_inline)) void copy_words(uint64_t *dst, const uint64_t *src, int n)
{
#pragma GCC unroll 8
    for (int i = 0; i < n; i++)
        dst[i] = src[i];
}

/* Release what the message still holds: a moved handle that never arrived ends here (ipc.c). */
void drop_outgoing_handles(struct thread_ipc *ipc);

/* The first thread on list l that is still blocked (interrupted ones are skipped). */
static inline struct thread *first_blocked(struct list *l)
{
    LIST_FOR_EACH(n, tmp, l) {
        struct thread *t = ipc_owner(LIST_ENTRY(n, struct thread_ipc, link));
        if (t->state == THREAD_BLOCKED)
            return t;
    }
    return NULL;
}

/* l->callers changed: say in l->queued whether anyone is on it (ipc_fast.S reads that). */
static inline void callers_changed(struct listener *l)
{
    l->queued = !list_empty(&l->callers);
}

/*
 * Take a queued caller or waiting receiver off its listener (unless the
 * listener's close did). An IDLE thread's link means nothing: the fast path
 * takes a receiver off without pointing its link at itself.
 */
static inline void leave_listener(struct thread_ipc *ipc)
{
    ASSERT(ipc->state == IPC_QUEUED || ipc->state == IPC_RECEIVING);
    if (list_linked(&ipc->link)) {      /* (the listener's last handle took it off: not) */
        list_remove(&ipc->link);
        if (ipc->state == IPC_QUEUED)
            callers_changed(ipc->listener);
    }
    ipc->listener = NULL;
    ipc->state = IPC_IDLE;
}

/* A new idle reply port with one reference, charged to a (ipc_port.c), or NULL. */
struct reply_port *ipc_reply_port_new(struct account *a);

/* Take l's first pending notification as the message of receiver r (current, or blocked in receive). */
void ipc_take_notification(struct listener *l, struct thread *r);

#endif
