/*
 * kernel/ipc.h - ports with call/reply semantics (see <kestrel/ipc.h>).
 *
 * Three object types: a listener (the server's end: callers waiting for a
 * receiver, receivers waiting for a caller), client ports (a listener and a
 * userdata value; what clients call through) and reply ports (one pending
 * caller each, re-armed by every receive). A message in flight lives in its
 * sender's struct thread (struct thread_ipc), so steady-state calls allocate
 * nothing.
 */
#ifndef KERNEL_IPC_H
#define KERNEL_IPC_H

#include <stdint.h>
#include <kestrel/ipc.h>
#include "ipc_thread.h"
#include "thread.h"
#include "list.h"
#include "wait.h"
#include "object.h"

/*
 * A notification: a message the kernel posts to a listener with no caller
 * behind it (an interrupt; see kernel/irq.c). A receiver gets it as a0 =
 * KS_HANDLE_NONE (nothing to reply to), a1 = userdata, MR0 = word, the other
 * MRs 0, info 0, before any queued caller. It is pending at most once: posting
 * one that is pending does nothing (notifications coalesce). Its owner embeds
 * it and cancels it before it goes away or the listener's last handle closes.
 */
struct ipc_notification {
    struct list_node link;      /* in listener->notifications while pending */
    uint64_t userdata, word;
};

/* The three port objects; arch/riscv/ipc_fast.S reads them through asm-offsets. */
struct listener {
    struct object obj;
    struct list callers;        /* threads in IPC_QUEUED, FIFO */
    struct thread *receivers;   /* threads in IPC_RECEIVING, a stack through
                                   ipc.next_receiver (NULL: none): the last to wait
                                   takes the next call (ipc_internal.h) */
    /* closed to spare are one doubleword: ipc_fast.S tests them with one ld. */
    uint8_t closed;             /* the last handle went: calls fail with PEER_CLOSED */
    uint8_t notified;           /* `notifications` is not empty */
    uint8_t queued;             /* `callers` is not empty (callers_changed, ipc_internal.h) */
    uint8_t spare[5];
    struct list notifications;  /* pending struct ipc_notification, FIFO */
    struct list close_hooks;    /* struct ipc_close_hook: told when the last handle closes */
    struct wait_queue note_waiters;     /* threads in KS_SYS_LISTENER_WAIT */
    struct ipc_notification orphaned;   /* what client ports closed with still pending
                                           (client_destroy): a notify-then-close is not lost */
    uint64_t fast_calls, fast_replies;  /* the fast path's counts here (ipc_stats_now) */
    const void *call_resume, *recv_resume;  /* the arch's ipc_call_resume and ipc_recv_resume
                                           (arch/thread.h): the fast path, which holds the
                                           listener in a register, loads the one where a
                                           thread it blocks resumes, where building the
                                           address costs an instruction more */
    struct list_node all_link;  /* in the list of every listener (ipc_port.c) */
};

/*
 * Something bound to a listener that must let go when the listener's last
 * handle closes: an interrupt object (kernel/irq.c), which sits above IPC and
 * so is not known to it. The owner embeds the hook, registers it with
 * ipc_listener_watch and takes it off with ipc_listener_unwatch; at the close
 * ipc.c calls fn, which may unwatch.
 */
struct ipc_close_hook {
    struct list_node link;      /* in listener->close_hooks while watching */
    void (*fn)(struct ipc_close_hook *h, struct listener *l);
};

void ipc_listener_watch(struct listener *l, struct ipc_close_hook *h);
void ipc_listener_unwatch(struct ipc_close_hook *h);


struct client_port {
    struct object obj;
    struct listener *listener;  /* holds a reference */
    uint64_t userdata;
    struct ipc_notification note;   /* KS_SYS_IPC_NOTIFY's, posted to the listener */
};

/*
 * ARMED's value is the state halfword (kernel/thread.h) of the caller such a
 * port answers, blocked waiting for a reply: ipc_fast.S checks the port and
 * its caller against one register.
 */
enum reply_state {
    REPLY_IDLE,
    REPLY_ARMED = THREAD_BLOCKED | IPC_WAIT_REPLY << 8,
    REPLY_CALLER_GONE,
};

struct reply_port {
    struct object obj;
    enum reply_state state;
    struct thread *caller;      /* ARMED: the caller waiting for this reply (else
                                   meaningless: the fast path leaves it) */
    struct thread *owner;       /* the thread whose reusable port this is (its
                                   ipc.rport), or NULL: the port's last handle
                                   takes it from the thread (reply_last_handle) */
};

struct thread;

/*
 * The C path's call, receive and reply on resolved ports (kernel/sys_ipc.c
 * resolves the handles; entry.S saved the message registers in
 * current->ipc.mr). Each takes over the caller's reference to the port and
 * returns what the system call returns.
 */
long ipc_call(struct client_port *cp, uint64_t desc);
long ipc_receive(struct listener *l, uint64_t desc);
long ipc_reply(struct reply_port *rp, uint64_t desc);

/*
 * Reply-and-receive in two halves, so that the listener is resolved after the
 * reply (which may move handles away). ipc_reply_half: the reply, as
 * ipc_reply, but leaving the answered caller, if any, in *answered (not NULL)
 * for the second half to wake, and the descriptor's outputs for it to write;
 * its errors are ipc_reply's (the system call goes on to the receive after
 * KS_ERR_PEER_CLOSED and KS_ERR_BAD_STATE: a caller gone is no reason to stop
 * serving). ipc_receive_after_reply: the receive, as ipc_receive.
 */
long ipc_reply_half(struct reply_port *rp, uint64_t desc, struct thread **answered);
long ipc_receive_after_reply(struct listener *l, uint64_t desc, struct thread *answered);

/* End an IPC system call that failed before blocking with err: clear the outputs, wake `answered`. */
long ipc_fail(long err, struct thread *answered);

/* How a thread the fast path blocked continues when it is scheduled normally. */
long ipc_call_resumed(void);
long ipc_receive_resumed(void);

/*
 * New port objects with one reference, charged to a (kernel/account.h), or
 * NULL (no memory, or over a's limit). A client port holds a reference to l.
 */
struct account;
struct listener *ipc_listener_new(struct account *a);
struct client_port *ipc_client_new(struct account *a, struct listener *l, uint64_t userdata);

/*
 * Post n to l: a receiver blocked on l gets it now, else it waits on l (if not
 * pending already). May be called from an interrupt (trap from user mode or
 * the idle loop).
 */
void ipc_notify(struct listener *l, struct ipc_notification *n);

/*
 * KS_SYS_LISTENER_WAIT: take the first notification pending on l (its word
 * and userdata), waiting up to timeout_ns (KS_FOREVER: no limit) for one.
 * 0, KS_ERR_TIMED_OUT, KS_ERR_INTERRUPTED, or KS_ERR_PEER_CLOSED (l closed).
 */
long ipc_wait_notification(struct listener *l, uint64_t timeout_ns, uint64_t *word, uint64_t *userdata);

/* Withdraw n if it is pending on l. */
void ipc_notification_cancel(struct listener *l, struct ipc_notification *n);

static inline void ipc_notification_init(struct ipc_notification *n)
{
    list_node_init(&n->link);
}

static inline struct listener *listener_from_object(struct object *o)
{
    return OBJECT_CAST(o, KS_OBJ_LISTENER, struct listener, obj);
}

static inline struct client_port *client_from_object(struct object *o)
{
    return OBJECT_CAST(o, KS_OBJ_CLIENT, struct client_port, obj);
}

static inline struct reply_port *reply_from_object(struct object *o)
{
    return OBJECT_CAST(o, KS_OBJ_REPLY, struct reply_port, obj);
}

/*
 * The fast path's call and reply-and-receive when a descriptor is involved
 * (either side's): 0 if it may go on (see kernel/ipc.c), IPC_FAST_BAIL if the
 * C path must take the call. For a call, the buffer has then been delivered;
 * for a reply, its handles, and IPC_FAST_OUTPUTS says the caller's descriptor
 * outputs are to be written by ipc_fast_caller_outputs once it runs.
 */
enum { IPC_FAST_BAIL = 1, IPC_FAST_OUTPUTS = 2 };
long ipc_fast_call_desc(struct thread *rcv, uint64_t desc);
long ipc_fast_reply_desc(struct thread *caller, uint64_t desc);
/* ipc_fast_reply_desc when ipc_fast.S has copied our descriptor in already, as desc_copy_in would. */
long ipc_fast_reply_desc_copied(struct thread *caller);
long ipc_fast_caller_outputs(void);

/*
 * The fast path's switch (KS_SYS_IPC_CONTROL; the trace kernel starts with it
 * off): ipc_fastpath_on, and each thread's ipc_fast_off, which the fast path
 * reads with the thread's flags (thread.h) so that the switch costs it
 * nothing. ipc_fastpath_set sets every live process's threads; a thread
 * created later takes it from ipc_thread_init.
 */
extern int ipc_fastpath_on;
void ipc_fastpath_set(int on);

/*
 * The counters KS_SYS_IPC_CONTROL reads. The fast path counts in the
 * listener it holds in a register (struct listener's fast_calls and
 * fast_replies), which costs it a load and a store less than a global;
 * ipc_stats keeps the C path's counts and those of listeners gone, and
 * ipc_stats_now adds every live listener's to them.
 */
extern struct ks_ipc_stats ipc_stats;
void ipc_stats_now(struct ks_ipc_stats *out);

#endif
