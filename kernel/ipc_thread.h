/*
 * kernel/ipc_thread.h - the IPC state every thread carries (struct
 * thread_ipc, part of struct thread): a message in flight stays in its
 * sender's thread, so steady-state calls allocate nothing. Kept apart from
 * ipc.h so that thread.h needs nothing of the port objects (kernel/ipc.h).
 */
#ifndef KERNEL_IPC_THREAD_H
#define KERNEL_IPC_THREAD_H

#include <stdint.h>
#include <kestrel/ipc.h>
#include "list.h"

struct listener;
struct reply_port;
struct object;

/* A thread's IPC state: thread.ipc_state, a byte beside its state (kernel/thread.h). */
enum ipc_state {         /* (ipc_fast.S: IDLE is 0; REPLY_ARMED, kernel/ipc.h, is built on WAIT_REPLY) */
    IPC_IDLE,
    IPC_WAIT_REPLY,     /* a call delivered; `reply` will answer it */
    IPC_QUEUED,         /* a call waiting on listener->callers for a receiver */
    IPC_RECEIVING,      /* waiting on listener->receivers for a call */
};

/* Per-thread IPC state (part of struct thread). */
struct handle_entry;

/*
 * One handle the IPC fast path resolved for this thread: the register value
 * and the object it named, with the type and right that path asks for. The
 * fast path trusts an entry whose value is the register's without looking at
 * the table: emptying the slot (close, move, the table's end) forgets the
 * value in every cache of the process first (handle_cache_forget, through the
 * table's `cached` bits, which a fill sets), and a live handle's type and
 * rights never change. Nothing else reads it.
 */
struct ipc_hcache {
    uint64_t handle;                /* the 64-bit register value that was resolved (0: empty) */
    struct object *obj;             /* what it named (empty: a stand-in the path turns away) */
};

enum { IPC_HC_CALL, IPC_HC_REPLY, IPC_HC_LISTENER, IPC_HC_COUNT };

struct thread_ipc {
    uint64_t mr[KS_IPC_WORDS];      /* message registers: saved at entry, loaded at exit */
    uint64_t out_a1, out_info;      /* a1 and a7 on return */
    uint64_t listener_arg;          /* t3 at entry (reply-and-receive) */
    struct listener *listener;      /* QUEUED or RECEIVING: where, NULL once the
                                       listener's close took it off (else meaningless:
                                       the fast path leaves it). No reference: the
                                       listener has a handle while anyone waits on it,
                                       and its last handle's close takes every thread
                                       off (fail_callers, fail_receivers), clearing this */
    union {                         /* (a thread waits on one list at a time) */
        struct list_node link;      /* QUEUED: in listener->callers (or off it, pointing
                                       at itself, once the listener's close took it
                                       off); else meaningless */
        struct thread *next_receiver;   /* RECEIVING with `listener` set: the thread
                                       below on listener->receivers (NULL: the
                                       bottom); else meaningless */
    };
    uint64_t userdata;              /* QUEUED: the client port's */
    struct reply_port *reply;       /* WAIT_REPLY: the port that will answer (else
                                       meaningless: the fast path leaves it). No reference:
                                       an armed port has a handle, and its last handle's
                                       close disarms it, clearing this, before it can go */
    struct reply_port *rport;       /* server side: this thread's reusable reply port,
                                       which has its handle (NULL: none, or its
                                       handle was closed, reply_last_handle) */
    int32_t rport_handle;
    struct ipc_hcache hc[IPC_HC_COUNT];  /* the fast path's handle cache (see above) */
    uintptr_t desc_user;            /* the caller's struct ks_ipc_desc (0: registers only);
                                       0 whenever the thread runs in user mode (ipc_return
                                       and the fast path clear it), so the fast path
                                       blocks a thread without one without writing it */
    struct ks_ipc_desc desc;        /* a copy; its outputs are written back on return */
    uint64_t desc_out_was[4];       /* the outputs as the caller's memory holds them */
    struct object *handles[KS_IPC_MAX_HANDLES];   /* outgoing handles, held (NULL: delivered) */
    uint32_t handle_rights[KS_IPC_MAX_HANDLES];
    uint8_t handle_moved[KS_IPC_MAX_HANDLES];     /* a taken handle: from the sender's table
                                                     (handle_take), or a new view */
    uint32_t nhandles;
};

struct thread;

/* A new thread's IPC state: idle, no reply port, an empty handle cache. */
void ipc_thread_init(struct thread *t);

/* A thread is exiting (its process still has its handle table): close its idle reply port. */
void ipc_thread_exit(struct thread *t);

/* The thread's process is exec'ing (its handle table is about to change):
   close its idle reply port and start again as ipc_thread_init leaves it. */
void ipc_thread_exec(struct thread *t);

/* Drop what a thread holds for IPC when it is destroyed. */
void ipc_thread_release(struct thread *t);

#endif
