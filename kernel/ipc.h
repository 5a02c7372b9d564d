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
#include "list.h"
#include "object.h"

/* The three port objects; arch/riscv/ipc_fast.S reads them through asm-offsets. */
struct listener {
    struct object obj;
    struct list callers;        /* threads in IPC_QUEUED, FIFO */
    struct list receivers;      /* threads in IPC_RECEIVING, FIFO */
    int closed;                 /* the last handle went: calls fail with PEER_CLOSED */
    uint32_t notified;          /* `notifications` is not empty (ipc_fast.S reads it with
                                   `closed` as one doubleword) */
    struct list notifications;  /* pending struct ipc_notification, FIFO */
};

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

struct client_port {
    struct object obj;
    struct listener *listener;  /* holds a reference */
    uint64_t userdata;
};

enum reply_state { REPLY_IDLE, REPLY_ARMED, REPLY_CALLER_GONE };

struct reply_port {
    struct object obj;
    enum reply_state state;
    struct thread *caller;      /* ARMED: the caller waiting for this reply */
};

enum ipc_state {
    IPC_IDLE,
    IPC_QUEUED,         /* a call waiting on listener->callers for a receiver */
    IPC_WAIT_REPLY,     /* a call delivered; `reply` will answer it */
    IPC_RECEIVING,      /* waiting on listener->receivers for a call */
};

/* Per-thread IPC state (part of struct thread). */
struct handle_entry;

/*
 * One handle the IPC fast path resolved for this thread: the register value,
 * the handle table slot it named and the object it held. The fast path uses it
 * while the slot still holds that object under that generation (then it is the
 * same live handle, and a lookup would give the same result) and fills it
 * after a full lookup; nothing else reads it.
 */
struct ipc_hcache {
    uint64_t handle;                /* the 64-bit register value that was resolved (0: empty) */
    struct handle_entry *entry;     /* its slot in the process's handle table */
    struct object *obj;             /* what it named, with the type and right asked for */
};

enum { IPC_HC_CALL, IPC_HC_REPLY, IPC_HC_LISTENER, IPC_HC_COUNT };

struct thread_ipc {
    uint64_t mr[KS_IPC_WORDS];      /* message registers: saved at entry, loaded at exit */
    uint64_t out_a1, out_info;      /* a1 and a7 on return */
    uint64_t listener_arg;          /* t3 at entry (reply-and-receive) */
    enum ipc_state state;
    struct listener *listener;      /* QUEUED or RECEIVING: where (holds a reference) */
    struct list_node link;          /* in listener->callers or ->receivers */
    uint64_t userdata;              /* QUEUED: the client port's */
    struct reply_port *reply;       /* WAIT_REPLY: the port that will answer */
    struct reply_port *rport;       /* server side: this thread's reusable reply port */
    int32_t rport_handle;
    struct ipc_hcache hc[IPC_HC_COUNT];  /* the fast path's handle cache (see above) */
    uintptr_t desc_user;            /* the caller's struct ks_ipc_desc (0: registers only) */
    struct ks_ipc_desc desc;        /* a copy; its outputs are written back on return */
    uint64_t desc_out_was[4];       /* the outputs as the caller's memory holds them */
    struct object *handles[KS_IPC_MAX_HANDLES];   /* outgoing handles, held (NULL: delivered) */
    uint32_t handle_rights[KS_IPC_MAX_HANDLES];
    uint8_t handle_moved[KS_IPC_MAX_HANDLES];     /* taken from the sender's table (handle_take) */
    uint32_t nhandles;
};

struct thread;

void ipc_thread_init(struct thread *t);

/* A thread is exiting (its process still has its handle table): close its idle reply port. */
void ipc_thread_exit(struct thread *t);

/* Drop what a thread holds for IPC when it is destroyed. */
void ipc_thread_release(struct thread *t);

/* System calls (C slow path; entry.S saved the message registers in current->ipc.mr). */
long ipc_call(uint64_t port, uint64_t desc);
long ipc_receive(uint64_t listener, uint64_t desc);
long ipc_reply(uint64_t reply, uint64_t desc);
long ipc_reply_receive(uint64_t reply, uint64_t desc);

/* How a thread the fast path blocked continues when it is scheduled normally. */
long ipc_call_resumed(void);
long ipc_receive_resumed(void);

long ipc_listener_create(void);
long ipc_client_create(uint64_t listener, uint64_t userdata);

/*
 * Post n to l: a receiver blocked on l gets it now, else it waits on l (if not
 * pending already). May be called from an interrupt (trap from user mode or
 * the idle loop).
 */
void ipc_notify(struct listener *l, struct ipc_notification *n);

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

/*
 * The fast path's call and reply-and-receive when a descriptor is involved
 * (either side's): 0 if it may go on (see kernel/ipc.c). For a call, the
 * buffer has then been delivered.
 */
long ipc_fast_call_desc(struct thread *rcv, uint64_t desc);
long ipc_fast_reply_desc(struct thread *caller, uint64_t desc);

/* Fast path switch and counters (KS_SYS_IPC_CONTROL). */
extern uint64_t ipc_fastpath_on;
extern struct ks_ipc_stats ipc_stats;

#endif
