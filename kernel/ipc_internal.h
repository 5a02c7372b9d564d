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

/* The first caller queued on l that is still blocked (interrupted ones are skipped). */
static inline struct thread *first_blocked_caller(struct listener *l)
{
    LIST_FOR_EACH(n, tmp, &l->callers) {
        struct thread *t = ipc_owner(LIST_ENTRY(n, struct thread_ipc, link));
        if (t->state == THREAD_BLOCKED)
            return t;
    }
    return NULL;
}

/*
 * l->receivers is a stack: a receive pushes, a call takes the topmost that is
 * still blocked, so the thread that waited last, whose caches are warmest,
 * takes the next call. The fast path pushes (a load and two stores) and pops
 * (a load and a store) the top in assembly (ipc_fast.S); a thread below the top leaves by
 * a walk (receivers_remove), which only an interrupted wait or a close needs.
 */
static inline void receivers_push(struct listener *l, struct thread *t)
{
    t->ipc.next_receiver = l->receivers;
    l->receivers = t;
}

/* The topmost receiver on l that is still blocked (interrupted ones are skipped). */
static inline struct thread *first_blocked_receiver(struct listener *l)
{
    for (struct thread *t = l->receivers; t; t = t->ipc.next_receiver)
        if (t->state == THREAD_BLOCKED)
            return t;
    return NULL;
}

/* Take t, which is on it below the top, off l->receivers (ipc_port.c). */
void receivers_remove_below(struct listener *l, struct thread *t);

/* Take t, which is on it, off l->receivers. */
static inline void receivers_remove(struct listener *l, struct thread *t)
{
    if (l->receivers == t)
        l->receivers = t->ipc.next_receiver;
    else
        receivers_remove_below(l, t);
}

/* l->callers changed: say in l->queued whether anyone is on it (ipc_fast.S reads that). */
static inline void callers_changed(struct listener *l)
{
    l->queued = !list_empty(&l->callers);
}

/*
 * Take a queued caller or waiting receiver off its listener (unless the
 * listener's close did: then its link points at itself, or its `listener` is
 * NULL). An IDLE thread's link, `listener` and next_receiver mean nothing:
 * the fast path takes a receiver off without touching them.
 */
static inline void leave_listener(struct thread_ipc *ipc)
{
    struct thread *t = ipc_owner(ipc);
    ASSERT(t->ipc_state == IPC_QUEUED || t->ipc_state == IPC_RECEIVING);
    if (t->ipc_state == IPC_QUEUED) {
        if (list_linked(&ipc->link)) {
            list_remove(&ipc->link);
            callers_changed(ipc->listener);
        }
    } else if (ipc->listener) {
        receivers_remove(ipc->listener, t);
    }
    ipc->listener = NULL;
    t->ipc_state = IPC_IDLE;
}

/* Take receiver t, blocked on l->receivers (first_blocked_receiver found it), off it. */
static inline void receiver_leave(struct listener *l, struct thread *t)
{
    ASSERT(t->ipc_state == IPC_RECEIVING && t->ipc.listener == l);
    receivers_remove(l, t);
    t->ipc.listener = NULL;
    t->ipc_state = IPC_IDLE;
}

/* A new idle reply port with one reference, charged to a (ipc_port.c), or NULL. */
struct reply_port *ipc_reply_port_new(struct account *a);

/* Take l's first pending notification as the message of receiver r (current, or blocked in receive). */
void ipc_take_notification(struct listener *l, struct thread *r);

#endif
