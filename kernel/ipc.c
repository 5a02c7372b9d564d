/*
 * kernel/ipc.c - the C path of call/reply IPC (see ipc.h and <kestrel/ipc.h>).
 *
 * A call: the caller's words sit in its thread (ipc.mr); its buffer and
 * handles stay in its own address space and handle table until delivery.
 * Delivery (deliver_call) happens in whichever thread completes the rendezvous:
 * the caller, if a receiver was already waiting, or the receiver, if the caller
 * was queued. It copies the words, copies the buffer once from the caller's
 * memory into the receiver's, installs the handles in the receiver's table,
 * and arms the receiver's reply port with the caller. A reply does the same in
 * the other direction and wakes the caller.
 *
 * Blocking is sched_block(NULL): only the IPC code (or an interrupt) wakes a
 * thread waiting here, and a woken thread always cleans up its own IPC state.
 * A thread that was interrupted but has not run yet is not BLOCKED any more,
 * and is skipped by anyone looking for a partner, so a message is never handed
 * to a thread that is about to report KS_ERR_INTERRUPTED.
 */
#include <arch/memlayout.h>
#include <kestrel/errors.h>
#include "debug.h"
#include "handle.h"
#include "heap.h"
#include "ipc.h"
#include "process.h"
#include "sched.h"
#include "string.h"
#include "syscall.h"
#include "thread.h"
#include "uaccess.h"
#include "vm.h"

uint64_t ipc_fastpath_on = 1;
struct ks_ipc_stats ipc_stats;

#define LISTENER_RIGHTS (KS_RIGHT_READ | KS_RIGHT_MANAGE | KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE)
#define CLIENT_RIGHTS   (KS_RIGHT_WRITE | KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE)
#define REPLY_RIGHTS    (KS_RIGHT_WRITE)

static struct listener *listener_of(struct object *o)
{
    return OBJECT_CAST(o, KS_OBJ_LISTENER, struct listener, obj);
}

static struct client_port *client_of(struct object *o)
{
    return OBJECT_CAST(o, KS_OBJ_CLIENT, struct client_port, obj);
}

static struct reply_port *reply_of(struct object *o)
{
    return OBJECT_CAST(o, KS_OBJ_REPLY, struct reply_port, obj);
}

static struct thread *ipc_owner(struct thread_ipc *ipc)
{
    return (struct thread *)((char *)ipc - __builtin_offsetof(struct thread, ipc));
}

/* The calling process (current_process(), inline: the IPC path asks often). */
static inline struct process *caller_process(void)
{
    return current_thread()->proc;
}

/* Copy n words (a small constant: unrolled in place instead of a call to memcpy). */
static inline __attribute__((always_inline)) void copy_words(uint64_t *dst, const uint64_t *src, int n)
{
#pragma GCC unroll 8
    for (int i = 0; i < n; i++)
        dst[i] = src[i];
}

/* ---- objects ---- */

static void listener_destroy(struct object *o)
{
    struct listener *l = listener_of(o);
    BUG_ON(!list_empty(&l->notifications));
    kfree(l);
}

/* Wake every blocked thread on list l with `result`, taking them off it. */
static void fail_all(struct list *l, long result)
{
    LIST_FOR_EACH(n, tmp, l) {
        struct thread_ipc *ipc = LIST_ENTRY(n, struct thread_ipc, link);
        struct thread *t = ipc_owner(ipc);
        if (t->state != THREAD_BLOCKED)
            continue;           /* interrupted already: it cleans up itself */
        list_remove(&ipc->link);
        ipc->state = IPC_IDLE;
        object_put(&ipc->listener->obj);
        ipc->listener = NULL;
        sched_wake(t, result);
    }
}

static void listener_last_handle(struct object *o)
{
    struct listener *l = listener_of(o);
    l->closed = 1;
    LIST_FOR_EACH(n, tmp, &l->close_hooks) {    /* an irq unbinds, dropping its notification */
        struct ipc_close_hook *h = LIST_ENTRY(n, struct ipc_close_hook, link);
        h->fn(h, l);
    }
    fail_all(&l->callers, KS_ERR_PEER_CLOSED);
    fail_all(&l->receivers, KS_ERR_PEER_CLOSED);
}

static const struct object_ops listener_ops = {
    .destroy = listener_destroy,
    .on_last_handle = listener_last_handle,
};

static void client_destroy(struct object *o)
{
    struct client_port *c = client_of(o);
    object_put(&c->listener->obj);
    kfree(c);
}

static const struct object_ops client_ops = { .destroy = client_destroy };

/* The pending caller (if any) of a reply port that nobody will use again gets PEER_CLOSED. */
static void reply_last_handle(struct object *o)
{
    struct reply_port *r = reply_of(o);
    if (r->state == REPLY_ARMED) {
        struct thread *c = r->caller;
        r->state = REPLY_IDLE;
        r->caller = NULL;
        c->ipc.reply = NULL;
        c->ipc.state = IPC_IDLE;
        object_put(&r->obj);                    /* the caller's reference */
        sched_wake(c, KS_ERR_PEER_CLOSED);
    }
}

static void reply_destroy(struct object *o)
{
    kfree(reply_of(o));
}

static const struct object_ops reply_ops = {
    .destroy = reply_destroy,
    .on_last_handle = reply_last_handle,
};

long ipc_listener_create(void)
{
    struct listener *l = kzalloc(sizeof *l);
    if (!l)
        return KS_ERR_NO_MEMORY;
    object_init(&l->obj, KS_OBJ_LISTENER, &listener_ops);
    list_init(&l->callers);
    list_init(&l->receivers);
    list_init(&l->notifications);
    list_init(&l->close_hooks);
    long r = sys_install(&l->obj, LISTENER_RIGHTS);
    object_put(&l->obj);
    return r;
}

long ipc_client_create(uint64_t listener, uint64_t userdata)
{
    struct object *o;
    long r = sys_lookup(listener, KS_OBJ_LISTENER, KS_RIGHT_MANAGE, &o, NULL);
    if (r)
        return r;
    struct client_port *c = kzalloc(sizeof *c);
    if (!c) {
        object_put(o);
        return KS_ERR_NO_MEMORY;
    }
    object_init(&c->obj, KS_OBJ_CLIENT, &client_ops);
    c->listener = listener_of(o);       /* keeps the lookup's reference */
    c->userdata = userdata;
    r = sys_install(&c->obj, CLIENT_RIGHTS);
    object_put(&c->obj);
    return r;
}

/*
 * What an empty handle cache entry points at: no object, and a generation no
 * handle value that matches the empty entry's (0) can have, so it never hits.
 */
static struct handle_entry hcache_none = { .obj = NULL, .gen = 1 };

void ipc_thread_init(struct thread *t)
{
    list_node_init(&t->ipc.link);
    t->ipc.rport_handle = KS_HANDLE_NONE;
    for (int i = 0; i < IPC_HC_COUNT; i++)
        t->ipc.hc[i] = (struct ipc_hcache){ .handle = 0, .entry = &hcache_none, .obj = NULL };
}

/* Release what the message still holds: a moved handle that never arrived ends here. */
static void drop_outgoing_handles(struct thread_ipc *ipc)
{
    for (uint32_t i = 0; i < ipc->nhandles; i++) {
        struct object *o = ipc->handles[i];
        if (!o)
            continue;
        if (ipc->handle_moved[i])
            handle_release_taken(o);
        else
            object_put(o);
    }
    ipc->nhandles = 0;
}

void ipc_thread_exit(struct thread *t)
{
    struct reply_port *rp = t->ipc.rport;
    /* The idle reply port the kernel made for this thread's receives goes with it. */
    if (rp && rp->state != REPLY_ARMED && rp->obj.handles && t->proc && t->proc->handles)
        handle_close(t->proc->handles, t->ipc.rport_handle);
}

void ipc_thread_release(struct thread *t)
{
    drop_outgoing_handles(&t->ipc);
    if (t->ipc.rport)
        object_put(&t->ipc.rport->obj);
    t->ipc.rport = NULL;
}

/* ---- descriptors, buffers, handles ---- */

/* What take_desc checks and takes: the part that sends, the part that receives. */
enum { DESC_SEND = 1, DESC_RECV = 2 };

/* Check the receive part of the copied descriptor: a buffer we can write. */
static long check_recv_part(const struct ks_ipc_desc *d)
{
    if (d->recv_cap > KS_IPC_MAX_BUF)
        return KS_ERR_INVALID;
    if (!d->recv_cap)
        return 0;       /* nothing to receive into (the common case for a caller) */
    return vm_check_access(caller_process()->vm, (uintptr_t)d->recv_buf, d->recv_cap, VM_WRITE);
}

/* Copy the descriptor at user address desc into ipc->desc, noting its outputs as memory holds them. */
static long desc_copy_in(struct thread_ipc *ipc, uint64_t desc)
{
    struct ks_ipc_desc *d = &ipc->desc;
    long r = copy_from_user(d, desc, sizeof *d);
    if (r)
        return r;
    _Static_assert(sizeof(struct ks_ipc_desc) - KS_IPC_DESC_OUT == sizeof ipc->desc_out_was,
                   "the output block is 4 words");
    copy_words(ipc->desc_out_was, (const uint64_t *)((const uint8_t *)d + KS_IPC_DESC_OUT), 4);
    d->recv_len = 0;
    d->recv_nhandles = 0;
    d->flags = 0;
    return 0;
}

/* 1 if the output block of d differs from was (the 4 words the user's memory holds). */
static int outputs_differ(const struct ks_ipc_desc *d, const uint64_t was[4])
{
    const uint64_t *out = (const uint64_t *)((const uint8_t *)d + KS_IPC_DESC_OUT);
    return out[0] != was[0] || out[1] != was[1] || out[2] != was[2] || out[3] != was[3];
}

/* 1 if the descriptor outputs in ipc->desc differ from what the user's memory holds. */
static int desc_outputs_changed(const struct thread_ipc *ipc)
{
    return outputs_differ(&ipc->desc, ipc->desc_out_was);
}

/*
 * Check the copied descriptor for a message that sends (DESC_SEND) and/or
 * receives (DESC_RECV): limits, and buffers mapped for the access they need.
 */
static long check_desc(const struct ks_ipc_desc *d, int use)
{
    long r;
    if ((use & DESC_RECV) && (r = check_recv_part(d)) != 0)
        return r;
    if (d->send_len > KS_IPC_MAX_BUF || d->send_nhandles > KS_IPC_MAX_HANDLES)
        return KS_ERR_INVALID;
    if (d->send_len && vm_check_access(caller_process()->vm, (uintptr_t)d->send_buf, d->send_len, VM_READ))
        return KS_ERR_FAULT;
    return 0;
}

/*
 * Copy the caller's descriptor in, check the parts `use` names and, for
 * DESC_SEND, take its outgoing handles. A buffer that is not mapped is the
 * caller's error, now, not the peer's later.
 */
static long take_desc(uint64_t desc, int use)
{
    struct thread_ipc *ipc = &current_thread()->ipc;
    ipc->desc_user = desc;
    ipc->nhandles = 0;
    if (!desc)
        return 0;
    struct ks_ipc_desc *d = &ipc->desc;
    long r = desc_copy_in(ipc, desc);
    if (r)
        return r;
    if (!(use & DESC_SEND)) {
        d->send_len = 0;
        d->send_nhandles = 0;
    }
    if ((r = check_desc(d, use)) != 0)
        return r;
    struct handle_table *table = caller_process()->handles;
    for (uint32_t i = 0; i < d->send_nhandles; i++) {
        struct object *o;
        uint32_t rights;
        r = sys_lookup((uint64_t)(uint32_t)d->send_handles[i], 0, KS_RIGHT_TRANSFER, &o, &rights);
        if (!r && (d->send_handles[i] == KS_PROCESS_SELF || d->send_handles[i] == KS_THREAD_SELF)) {
            object_put(o);              /* a pseudo-handle resolves, but cannot travel */
            r = KS_ERR_INVALID;
        }
        if (r) {
            drop_outgoing_handles(ipc);
            return r;
        }
        ipc->handles[ipc->nhandles] = o;
        ipc->handle_moved[ipc->nhandles] = 0;
        ipc->handle_rights[ipc->nhandles++] = rights;
    }
    /*
     * Moved handles leave the sender now, whatever becomes of the message; until
     * they arrive they stay counted as handles, so no "last handle" fires.
     */
    for (uint32_t i = 0; i < d->send_nhandles; i++) {
        struct object *o;
        uint32_t rights;
        if (!(d->send_handle_flags[i] & KS_IPC_HANDLE_MOVE) ||
            handle_take(table, d->send_handles[i], &o, &rights) != 0)
            continue;           /* copied, or listed twice and taken already */
        object_put(ipc->handles[i]);            /* the lookup's reference */
        ipc->handles[i] = o;                    /* now the taken handle's */
        ipc->handle_moved[i] = 1;
    }
    return 0;
}

/* Write the descriptor's outputs back to the current thread's memory. */
static long put_desc(void)
{
    struct thread_ipc *ipc = &current_thread()->ipc;
    if (!ipc->desc_user || !desc_outputs_changed(ipc))
        return 0;       /* the caller's memory says so already (steady state) */
    return copy_to_user(ipc->desc_user + KS_IPC_DESC_OUT, (const uint8_t *)&ipc->desc + KS_IPC_DESC_OUT,
                        sizeof ipc->desc - KS_IPC_DESC_OUT);
}


/*
 * Move what a message carries beyond its words from thread `from` to thread
 * `to`: buffer (copied once, address space to address space), handles. Sets
 * to's info word and descriptor outputs; notes truncation on both sides.
 */
/*
 * Copy n bytes of from's send buffer into to's receive buffer. When the sender
 * runs now and the receiver is another process, the sender's bytes are read in
 * place; otherwise both sides are found through their page tables.
 */
static long copy_payload(struct thread *from, struct thread *to, uint64_t n)
{
    uintptr_t dst = (uintptr_t)to->ipc.desc.recv_buf, src = (uintptr_t)from->ipc.desc.send_buf;
    if (from == current_thread() && from->proc->vm != to->proc->vm)
        return vm_copy_from_user(to->proc->vm, dst, src, n);
    return vm_copy(to->proc->vm, dst, from->proc->vm, src, n);
}

static void transfer_payload(struct thread *from, struct thread *to)
{
    struct thread_ipc *s = &from->ipc, *r = &to->ipc;
    uint64_t info = 0;
    uint64_t len = s->desc_user ? s->desc.send_len : 0;
    uint64_t cap = r->desc_user ? r->desc.recv_cap : 0;
    if (len) {
        uint64_t n = len < cap ? len : cap;
        if (n && copy_payload(from, to, n) < 0)
            n = 0;      /* unmapped memory on either side: nothing arrives */
        info |= n;
        if (n < len) {
            info |= KS_IPC_INFO_TRUNCATED;
            s->desc.flags |= KS_IPC_PEER_TRUNCATED;
        }
    }
    if (r->desc_user)
        r->desc.recv_len = len;
    uint32_t got = 0;
    for (uint32_t i = 0; i < s->nhandles; i++) {
        struct object *o = s->handles[i];
        long h = -1;
        if (r->desc_user && to->proc->handles)
            h = s->handle_moved[i] ? handle_install_taken(to->proc->handles, o, s->handle_rights[i])
                                   : handle_install(to->proc->handles, o, s->handle_rights[i]);
        if (h >= 0) {
            r->desc.recv_handles[got++] = (ks_handle_t)h;
            if (s->handle_moved[i])
                s->handles[i] = NULL;           /* it lives in the receiver's table now */
        } else {
            info |= KS_IPC_INFO_TRUNCATED;      /* no room: the handle is closed */
        }
    }
    drop_outgoing_handles(s);
    if (r->desc_user)
        r->desc.recv_nhandles = got;
    r->out_info = info | (uint64_t)got << 32;
}

/* Move a whole message from thread `from` to thread `to`: words, then the rest. */
static void transfer(struct thread *from, struct thread *to)
{
    copy_words(to->ipc.mr, from->ipc.mr, KS_IPC_WORDS);
    transfer_payload(from, to);
}

/*
 * 1 if receiving a message of len bytes and no handles leaves r's descriptor
 * outputs as its memory holds them (transfer_payload() sets recv_len and
 * recv_nhandles, nothing else).
 */
static int outputs_stay(const struct thread_ipc *r, uint64_t len)
{
    struct ks_ipc_desc after;
    copy_words((uint64_t *)((uint8_t *)&after + KS_IPC_DESC_OUT),
               (const uint64_t *)((const uint8_t *)&r->desc + KS_IPC_DESC_OUT), 4);
    after.recv_len = len;
    after.recv_nhandles = 0;
    return !outputs_differ(&after, r->desc_out_was);
}

/* ---- the rendezvous ---- */

/*
 * Make sure thread t (a receiver: the current thread, or one blocked in
 * receive) has an idle reply port with a handle in its process.
 */
static long ensure_reply_port(struct thread *t)
{
    struct thread_ipc *ipc = &t->ipc;
    if (ipc->rport && ipc->rport->state != REPLY_ARMED && ipc->rport->obj.handles)
        return 0;       /* reuse: same port, same handle value */
    if (!t->proc->handles)
        return KS_ERR_BAD_STATE;
    struct reply_port *rp = kzalloc(sizeof *rp);
    if (!rp)
        return KS_ERR_NO_MEMORY;
    object_init(&rp->obj, KS_OBJ_REPLY, &reply_ops);
    long h = handle_install(t->proc->handles, &rp->obj, REPLY_RIGHTS);
    if (h < 0) {
        object_put(&rp->obj);
        return h;
    }
    if (ipc->rport)
        object_put(&ipc->rport->obj);   /* the armed one lives on through its handle */
    ipc->rport = rp;                    /* keeps the creation reference */
    ipc->rport_handle = (int32_t)h;
    return 0;
}

/* Hand caller c's message to receiver r (both blocked or current); arm r's reply port. */
static void deliver_call(struct thread *c, struct thread *r)
{
    struct reply_port *rp = r->ipc.rport;
    ASSERT(rp && rp->state != REPLY_ARMED);     /* ensure_reply_port left it idle */
    ASSERT(c->ipc.state == IPC_IDLE && r->ipc.state == IPC_IDLE);   /* both off the listener */
    transfer(c, r);
    rp->state = REPLY_ARMED;
    rp->caller = c;
    object_get(&rp->obj);               /* held by the caller while armed */
    c->ipc.reply = rp;
    c->ipc.state = IPC_WAIT_REPLY;
    r->ipc.out_a1 = c->ipc.userdata;
    r->ipc.state = IPC_IDLE;
}

/* The first thread on list l that is still blocked (interrupted ones are skipped). */
static struct thread *first_blocked(struct list *l)
{
    LIST_FOR_EACH(n, tmp, l) {
        struct thread *t = ipc_owner(LIST_ENTRY(n, struct thread_ipc, link));
        if (t->state == THREAD_BLOCKED)
            return t;
    }
    return NULL;
}

static void leave_listener(struct thread_ipc *ipc)
{
    ASSERT(ipc->state == IPC_QUEUED || ipc->state == IPC_RECEIVING);
    if (list_linked(&ipc->link))
        list_remove(&ipc->link);
    if (ipc->listener)
        object_put(&ipc->listener->obj);
    ipc->listener = NULL;
    ipc->state = IPC_IDLE;
}

/* After a call's block ended: clean up and produce the call's result. */
static long finish_call(long woke)
{
    struct thread_ipc *ipc = &current_thread()->ipc;
    if (woke < 0) {
        ipc->out_a1 = ipc->out_info = 0;
        if (ipc->state == IPC_QUEUED) {
            leave_listener(ipc);
        } else if (ipc->state == IPC_WAIT_REPLY && ipc->reply) {
            ipc->reply->state = REPLY_CALLER_GONE;      /* a late reply is dropped */
            ipc->reply->caller = NULL;
            object_put(&ipc->reply->obj);
            ipc->reply = NULL;
        }
        drop_outgoing_handles(ipc);
        ipc->state = IPC_IDLE;
        memset(ipc->mr, 0, sizeof ipc->mr);
        return woke;
    }
    return put_desc();
}

long ipc_call(uint64_t port, uint64_t desc)
{
    struct thread *t = current_thread();
    struct thread_ipc *ipc = &t->ipc;
    struct object *o;
    ipc_stats.slow_calls++;
    ipc->out_a1 = ipc->out_info = 0;
    long r = sys_lookup(port, KS_OBJ_CLIENT, KS_RIGHT_WRITE, &o, NULL);
    if (r)
        goto fail;
    struct client_port *cp = client_of(o);
    struct listener *l = cp->listener;
    ipc->userdata = cp->userdata;
    if ((r = take_desc(desc, DESC_SEND | DESC_RECV)) != 0) {
        object_put(o);
        goto fail;
    }
    if (l->closed) {
        drop_outgoing_handles(ipc);
        object_put(o);
        r = KS_ERR_PEER_CLOSED;
        goto fail;
    }
    struct thread *rcv;
    while ((rcv = first_blocked(&l->receivers)) != NULL) {
        leave_listener(&rcv->ipc);
        /* Its reply handle may have been closed while it waited: it gets a new one. */
        long err = ensure_reply_port(rcv);
        if (err == 0)
            break;
        rcv->ipc.state = IPC_IDLE;
        sched_wake(rcv, err);       /* that receiver fails; try the next one */
    }
    if (rcv) {
        deliver_call(t, rcv);
        object_put(o);
        return finish_call(sched_block_handoff(rcv, rcv->ipc.rport_handle, 1));
    }
    ipc->state = IPC_QUEUED;
    ipc->listener = l;
    object_get(&l->obj);
    list_push_back(&l->callers, &ipc->link);
    object_put(o);
    return finish_call(sched_block(NULL, 1));
fail:
    memset(ipc->mr, 0, sizeof ipc->mr);
    return r;
}

static void take_notification(struct listener *l, struct thread *r);

/* After a receive's block ended: the reply port handle, or the error. */
static long finish_receive(long woke)
{
    struct thread_ipc *ipc = &current_thread()->ipc;
    if (woke == KS_ERR_INTERRUPTED && ipc->state == IPC_RECEIVING)
        leave_listener(ipc);
    if (woke >= 0) {
        long r = put_desc();
        if (r == 0)
            return woke;
        woke = r;
    }
    ipc->state = IPC_IDLE;
    ipc->out_a1 = ipc->out_info = 0;
    memset(ipc->mr, 0, sizeof ipc->mr);
    return woke;
}

long ipc_call_resumed(void)
{
    return finish_call(current_thread()->wake_result);
}

long ipc_receive_resumed(void)
{
    return finish_receive(current_thread()->wake_result);
}

/*
 * Receive on listener h: take a queued call or block until one comes. With
 * `have_desc` the descriptor was copied in already (by the reply half of
 * reply-and-receive) and only its send part is cleared.
 */
static long do_receive(uint64_t h, uint64_t desc, int have_desc, struct thread *answered)
{
    struct thread *t = current_thread();
    struct thread_ipc *ipc = &t->ipc;
    struct object *o;
    ipc->out_a1 = ipc->out_info = 0;
    long r = sys_lookup(h, KS_OBJ_LISTENER, KS_RIGHT_READ, &o, NULL);
    if (r)
        goto fail;
    struct listener *l = listener_of(o);
    if (have_desc) {
        ipc->desc.send_len = 0;
        ipc->desc.send_nhandles = 0;
        if ((r = check_recv_part(&ipc->desc)) != 0) {
            object_put(o);
            goto fail;
        }
    } else if ((r = take_desc(desc, DESC_RECV)) != 0) {
        object_put(o);
        goto fail;
    }
    if ((r = ensure_reply_port(t)) != 0) {
        object_put(o);
        goto fail;
    }
    if (l->closed) {
        object_put(o);
        r = KS_ERR_PEER_CLOSED;
        goto fail;
    }
    if (l->notified) {                  /* notifications come before callers */
        take_notification(l, t);
        object_put(o);
        if (answered)
            sched_wake(answered, 0);
        r = put_desc();
        return r ? r : KS_HANDLE_NONE;
    }
    struct thread *c = first_blocked(&l->callers);
    if (c) {
        leave_listener(&c->ipc);
        deliver_call(c, t);
        object_put(o);
        if (answered)
            sched_wake(answered, 0);
        r = put_desc();
        return r ? r : ipc->rport_handle;
    }
    ipc->state = IPC_RECEIVING;
    ipc->listener = l;                  /* keeps the lookup's reference */
    list_push_back(&l->receivers, &ipc->link);
    if (answered)       /* the caller just answered runs next, straight away */
        return finish_receive(sched_block_handoff(answered, 0, 1));
    return finish_receive(sched_block(NULL, 1));
fail:
    ipc->state = IPC_IDLE;
    memset(ipc->mr, 0, sizeof ipc->mr);
    if (answered)
        sched_wake(answered, 0);
    return r;
}

long ipc_receive(uint64_t listener, uint64_t desc)
{
    return do_receive(listener, desc, 0, NULL);
}

/*
 * Send the reply in current->ipc (words, descriptor) through reply port h.
 * The descriptor's outputs are written back unless `then_receive` (the
 * receive writes them once, at its end).
 */
static long do_reply(uint64_t h, uint64_t desc, int then_receive, struct thread **answered)
{
    struct thread *t = current_thread();
    struct object *o;
    ipc_stats.slow_replies++;
    long r = sys_lookup(h, KS_OBJ_REPLY, KS_RIGHT_WRITE, &o, NULL);
    if (r)
        return r;
    struct reply_port *rp = reply_of(o);
    if ((r = take_desc(desc, DESC_SEND)) != 0) {
        object_put(o);
        return r;
    }
    if (rp->state == REPLY_ARMED && rp->caller->state != THREAD_BLOCKED) {
        /*
         * The caller was interrupted (or its process is ending) and has not run
         * yet. Let go of it now, as its own clean-up would (which then finds no
         * reply port), so the port is idle again for the receive that follows
         * and the server keeps its one handle instead of getting a new port.
         */
        struct thread *c = rp->caller;
        c->ipc.reply = NULL;
        rp->caller = NULL;
        rp->state = REPLY_CALLER_GONE;
        object_put(&rp->obj);               /* the caller's reference; ours (o) remains */
    }
    if (rp->state != REPLY_ARMED) {
        r = rp->state == REPLY_IDLE ? KS_ERR_BAD_STATE : KS_ERR_PEER_CLOSED;
        if (rp->state == REPLY_CALLER_GONE)
            rp->state = REPLY_IDLE;
        drop_outgoing_handles(&t->ipc);
        object_put(o);
        return r;
    }
    struct thread *c = rp->caller;
    transfer(t, c);
    c->ipc.out_a1 = 0;                      /* a call returns no userdata */
    rp->state = REPLY_IDLE;
    rp->caller = NULL;
    c->ipc.reply = NULL;
    c->ipc.state = IPC_IDLE;
    object_put(&rp->obj);                   /* the caller's reference */
    if (answered)
        *answered = c;                      /* the receive that follows wakes it */
    else
        sched_wake(c, 0);
    object_put(o);
    return then_receive ? 0 : put_desc();
}

long ipc_reply(uint64_t reply, uint64_t desc)
{
    long r = do_reply(reply, desc, 0, NULL);
    memset(current_thread()->ipc.mr, 0, sizeof current_thread()->ipc.mr);
    current_thread()->ipc.out_a1 = current_thread()->ipc.out_info = 0;
    return r;
}

long ipc_reply_receive(uint64_t reply, uint64_t desc)
{
    struct thread_ipc *ipc = &current_thread()->ipc;
    struct thread *answered = NULL;
    long r = do_reply(reply, desc, 1, &answered);
    /* A reply that finds its caller gone does not stop the server from serving. */
    if (r < 0 && r != KS_ERR_PEER_CLOSED && r != KS_ERR_BAD_STATE) {
        if (answered)
            sched_wake(answered, 0);
        memset(ipc->mr, 0, sizeof ipc->mr);
        ipc->out_a1 = ipc->out_info = 0;
        return r;
    }
    /* The descriptor came in with the reply unless the reply failed before reading it. */
    int have_desc = desc && ipc->desc_user == desc;
    return do_receive(ipc->listener_arg, desc, have_desc, answered);
}

void ipc_listener_watch(struct listener *l, struct ipc_close_hook *h)
{
    list_push_back(&l->close_hooks, &h->link);
}

void ipc_listener_unwatch(struct ipc_close_hook *h)
{
    if (list_linked(&h->link))
        list_remove(&h->link);
}

/* ---- notifications (kernel-made messages without a caller; see ipc.h) ---- */

/*
 * Why ipc_fast.S needs only one change for them: a notification is pending
 * only while no receiver is blocked on the listener (ipc_notify hands it to a
 * blocked receiver at once, and do_receive takes a pending one instead of
 * blocking). So ipc_fast_call, which needs a blocked receiver, can never serve
 * a call ahead of a pending notification. ipc_fast_reply_recv is the one way a
 * receiver could block past a pending notification; it reads `closed` and
 * `notified` as one doubleword and leaves both cases to this file.
 */
_Static_assert(__builtin_offsetof(struct listener, notified) ==
               __builtin_offsetof(struct listener, closed) + 4 &&
               __builtin_offsetof(struct listener, closed) % 8 == 0,
               "ipc_fast.S reads closed and notified with one ld");

/* Take l's first pending notification as the message of receiver r (current, or blocked in receive). */
static void take_notification(struct listener *l, struct thread *r)
{
    struct ipc_notification *n = LIST_ENTRY(list_first(&l->notifications), struct ipc_notification, link);
    ipc_notification_cancel(l, n);
    memset(r->ipc.mr, 0, sizeof r->ipc.mr);
    r->ipc.mr[0] = n->word;
    r->ipc.out_a1 = n->userdata;
    r->ipc.out_info = 0;
    r->ipc.state = IPC_IDLE;
}

void ipc_notify(struct listener *l, struct ipc_notification *n)
{
    if (list_linked(&n->link) || l->closed)
        return;                         /* pending already: they coalesce */
    list_push_back(&l->notifications, &n->link);
    l->notified = 1;
    struct thread *r = first_blocked(&l->receivers);
    if (r) {
        leave_listener(&r->ipc);
        take_notification(l, r);
        sched_wake(r, KS_HANDLE_NONE);
    }
}

void ipc_notification_cancel(struct listener *l, struct ipc_notification *n)
{
    if (!list_linked(&n->link))
        return;
    list_remove(&n->link);
    l->notified = !list_empty(&l->notifications);
}

/* ---- for the fast path (arch/riscv/ipc_fast.S) ---- */

/*
 * For the fast path's call (arch/riscv/ipc_fast.S) to receiver rcv when a
 * descriptor is involved, ours or the receiver's. The receiver returns
 * straight to user mode, so its descriptor outputs must need no writing back;
 * ours, if any, must send no handles, and is copied in and checked as
 * ipc_call's take_desc would. If all is well the buffer is delivered here,
 * exactly as deliver_call would (the words travel in registers), and 0 says
 * the call is past its point of no return. Otherwise nothing was delivered,
 * and the fast path hands the whole call to the C path, which starts over
 * (what this wrote is the current thread's scratch, which take_desc rewrites).
 */
long ipc_fast_call_desc(struct thread *rcv, uint64_t desc)
{
    struct thread *t = current_thread();
    struct thread_ipc *ipc = &t->ipc;
    if (desc && (desc_copy_in(ipc, desc) || ipc->desc.send_nhandles ||
                 check_desc(&ipc->desc, DESC_SEND | DESC_RECV)))
        return 1;
    if (rcv->ipc.desc_user && !outputs_stay(&rcv->ipc, desc ? ipc->desc.send_len : 0))
        return 1;
    ipc->desc_user = desc;
    ipc->nhandles = 0;
    transfer_payload(t, rcv);
    return 0;
}

/*
 * For the fast path's reply-and-receive (arch/riscv/ipc_fast.S) when a
 * descriptor is involved, the caller's or ours. The reply carries words only,
 * so it may go fast if the caller's descriptor outputs would not change (the
 * caller returns straight to user mode: there is nothing to write back), and
 * our descriptor, if any, sends nothing and has a good receive part: copied in
 * and checked here as do_reply and do_receive would, it is what the receive
 * that follows uses. 0: go on. Otherwise the fast path hands the whole call to
 * the C path, which starts over (what this wrote is the current thread's
 * scratch, which take_desc rewrites).
 */
long ipc_fast_reply_desc(struct thread *caller, uint64_t desc)
{
    const struct thread_ipc *c = &caller->ipc;
    /* transfer() would set recv_len and recv_nhandles to 0, and nothing else */
    if (c->desc_user && (c->desc.recv_len || c->desc.recv_nhandles || desc_outputs_changed(c)))
        return 1;
    if (!desc)
        return 0;
    struct thread_ipc *ipc = &current_thread()->ipc;
    if (desc_copy_in(ipc, desc) || ipc->desc.send_len || ipc->desc.send_nhandles ||
        check_recv_part(&ipc->desc))
        return 1;
    ipc->desc_user = desc;
    ipc->nhandles = 0;
    return 0;
}
