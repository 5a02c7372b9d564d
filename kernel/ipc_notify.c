/*
 * kernel/ipc_notify.c - notifications: kernel-made messages without a caller
 * (an interrupt, for one), posted to a listener and received like a call
 * that needs no reply (see ipc.h).
 */
#include <arch/arch.h>
#include <kestrel/errors.h>
#include <kestrel/syscall.h>
#include "clock.h"
#include "ipc_internal.h"
#include "sched.h"
#include "string.h"

/*
 * Why ipc_fast.S needs only one change for them: a notification is pending
 * only while no receiver is blocked on the listener (ipc_notify hands it to a
 * blocked receiver at once, and do_receive takes a pending one instead of
 * blocking). So ipc_fast_call, which needs a blocked receiver, can never serve
 * a call ahead of a pending notification. ipc_fast_reply_recv is the one way a
 * receiver could block past a pending notification; it reads `closed`,
 * `notified` and `queued` as one doubleword and leaves those cases to the C path
 * (do_receive in ipc.c, which takes the notification with the function below).
 */
_Static_assert(__builtin_offsetof(struct listener, notified) ==
               __builtin_offsetof(struct listener, closed) + 1 &&
               __builtin_offsetof(struct listener, queued) ==
               __builtin_offsetof(struct listener, closed) + 2 &&
               __builtin_offsetof(struct listener, spare) + 5 ==
               __builtin_offsetof(struct listener, closed) + 8 &&
               __builtin_offsetof(struct listener, closed) % 8 == 0,
               "ipc_fast.S reads closed, notified and queued with one ld");

void ipc_take_notification(struct listener *l, struct thread *r)
{
    struct ipc_notification *n = LIST_ENTRY(list_first(&l->notifications), struct ipc_notification, link);
    ipc_notification_cancel(l, n);
    memset(r->ipc.mr, 0, sizeof r->ipc.mr);
    r->ipc.mr[0] = n->word;
    r->ipc.out_a1 = n->userdata;
    r->ipc.out_info = 0;
    r->ipc_state = IPC_IDLE;
}

/*
 * The notification just posted on l, which has receivers: the topmost still
 * blocked takes it, or a waiter in KS_SYS_LISTENER_WAIT is told (out of line,
 * so that ipc_notify's common case needs no frame).
 */
static __attribute__((noinline)) void notify_receivers(struct listener *l)
{
    struct thread *r = first_blocked_receiver(l);
    if (!r) {
        wake_one(&l->note_waiters, 0);
        return;
    }
    receiver_leave(l, r);
    ipc_take_notification(l, r);
    sched_wake(r, KS_HANDLE_NONE);
}

/* (It only ever tail-calls: without a frame pointer it needs no frame at all.) */
__attribute__((optimize("omit-frame-pointer"))) void ipc_notify(struct listener *l, struct ipc_notification *n)
{
    if (list_linked(&n->link) || l->closed)
        return;                         /* pending already: they coalesce */
    list_push_back(&l->notifications, &n->link);
    l->notified = 1;
    if (l->receivers)
        notify_receivers(l);
    else
        wake_one(&l->note_waiters, 0);
}

long ipc_wait_notification(struct listener *l, uint64_t timeout_ns, uint64_t *word, uint64_t *userdata)
{
    struct thread *t = current_thread();
    uint64_t deadline = timeout_ns == KS_FOREVER ? 0 : arch_time_now() + clock_ns_to_time(timeout_ns);
    for (;;) {
        if (!list_empty(&l->notifications)) {
            struct ipc_notification *n = LIST_ENTRY(list_first(&l->notifications), struct ipc_notification, link);
            ipc_notification_cancel(l, n);
            *word = n->word;
            *userdata = n->userdata;
            return 0;
        }
        if (l->closed)
            return KS_ERR_PEER_CLOSED;
        if (timeout_ns == 0 || (deadline && arch_time_now() >= deadline))
            return KS_ERR_TIMED_OUT;
        if (deadline)
            sched_add_sleeper(t, deadline);
        long r = sched_block(&l->note_waiters, 1);
        sched_remove_sleeper(t);
        if (r == KS_ERR_INTERRUPTED)
            return r;
    }
}

void ipc_notification_cancel(struct listener *l, struct ipc_notification *n)
{
    if (!list_linked(&n->link))
        return;
    list_remove(&n->link);
    l->notified = !list_empty(&l->notifications);
}

