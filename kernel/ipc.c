/*
 * kernel/ipc.c - the message path of call/reply IPC (see ipc.h and
 * <kestrel/ipc.h>): descriptors and what a message carries, the rendezvous,
 * and the C helpers of the assembly fast path. They share one file because
 * the slow path's cost is mostly these small steps inlined into each other.
 * The port objects are in ipc_port.c, notifications in ipc_notify.c, the
 * system calls (which resolve the port handles) in sys_ipc.c. Handle tables
 * are touched here only for what a message itself moves: the handles it
 * carries (taken from the sender's table by take_desc, installed in the
 * receiver's) and the reply port handle a receive hands out.
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
#include <kestrel/errors.h>
#include "debug.h"
#include "handle.h"
#include "ipc_internal.h"
#include "pager.h"
#include "process.h"
#include "sched.h"
#include "string.h"
#include "syscall.h"
#include "trace.h"
#include "uaccess.h"
#include "vm.h"

#ifdef KESTREL_TRACE
int ipc_fastpath_on = 0;                /* the trace kernel records IPC in the C path (trace.h) */
#else
int ipc_fastpath_on = 1;
#endif
struct ks_ipc_stats ipc_stats;

static void set_fast_off(struct thread *t, void *off)
{
    t->ipc_fast_off = off != NULL;
}

void ipc_fastpath_set(int on)
{
    ipc_fastpath_on = on;               /* (sys_ipc_control reports it: ipc_stats keeps no copy) */
    process_each_thread(set_fast_off, on ? NULL : (void *)1);
}

void drop_outgoing_handles(struct thread_ipc *ipc)
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

/* ---- descriptors, buffers, handles ---- */

/*
 * 0 if object o, through a handle with rights `have` (o NULL: no live handle),
 * may be sent as a new view with send_handle_flags `flags`
 * (KS_IPC_HANDLE_VIEW, include/kestrel/ipc.h); else the error the message
 * fails with. Changes nothing.
 */
static inline __attribute__((always_inline)) long view_check(const struct object *o, uint32_t have, uint32_t flags)
{
    uint32_t want = KS_IPC_VIEW_RIGHTS(flags) | KS_RIGHT_TRANSFER;
    if ((flags & KS_IPC_HANDLE_MOVE) || (KS_IPC_VIEW_RIGHTS(flags) & ~(uint32_t)VIEW_RIGHTS))
        return KS_ERR_INVALID;
    if (!o)
        return KS_ERR_BAD_HANDLE;
    if (o->type != KS_OBJ_MEMOBJ)
        return KS_ERR_WRONG_TYPE;
    if ((have & want) != want)
        return KS_ERR_ACCESS;
    return memobj_is_device(memobj_from_object((struct object *)o)) ? KS_ERR_INVALID : 0;
}

/*
 * A new view not yet bound to a memobj (view_new), charged to a, made a
 * taken handle: counted as one handle, with its reference, as handle_take
 * leaves a moved one (handle_install_taken installs it, handle_release_taken
 * lets it go). NULL without memory.
 */
static inline struct view *taken_view_new(struct account *a)
{
    struct view *v = view_new(a);
    if (v)
        v->obj.handles = 1;
    return v;
}

/*
 * The C path's KS_IPC_HANDLE_VIEW: the object just looked up for an outgoing
 * handle (*o, with the lookup's reference; *rights, its handle's) becomes a
 * new view of it charged to the current process, which travels as a taken
 * handle (counted as one handle, with its reference: handle_install_taken
 * installs it, handle_release_taken lets it go), with the rights flags name.
 * 0; or the error, with the lookup's reference dropped.
 */
static __attribute__((noinline)) long view_instead(struct object **o, uint32_t *rights, uint32_t flags)
{
    long r = view_check(*o, *rights, flags);
    struct view *v = r ? NULL : taken_view_new(current_process()->acct);
    if (v)
        view_bind(v, memobj_from_object(*o));
    object_put(*o);
    if (r)
        return r;
    if (!v)
        return KS_ERR_NO_MEMORY;
    *o = &v->obj;
    *rights = KS_IPC_VIEW_RIGHTS(flags);
    return 0;
}

/* What take_desc checks and takes: the part that sends, the part that receives. */
enum { DESC_SEND = 1, DESC_RECV = 2 };

/* Check the receive part of the copied descriptor: a buffer we can write (*paged: in a paged mapping). */
static inline __attribute__((always_inline)) long check_recv_part(const struct ks_ipc_desc *d, int *paged)
{
    if (d->recv_cap > KS_IPC_MAX_BUF)
        return KS_ERR_INVALID;
    if (!d->recv_cap)
        return 0;       /* nothing to receive into (the common case for a caller) */
    return vm_check_access_paged(current_process()->vm, (uintptr_t)d->recv_buf, d->recv_cap, VM_WRITE, paged);
}

/*
 * Copy the descriptor at user address desc into ipc->desc, noting its outputs
 * as memory holds them. may_wait: for a page a pager has not supplied yet
 * (the C path; the fast path may not sleep).
 */
static inline __attribute__((always_inline)) long desc_copy_in(struct thread_ipc *ipc, uint64_t desc, int may_wait)
{
    struct ks_ipc_desc *d = &ipc->desc;
    _Static_assert(sizeof *d == ARCH_COPY_USER_WORDS13, "a descriptor is the arch's 13-word copy");
    long r = copy_words13_from_user_nowait(d, desc);
    if (r && may_wait) {
        uaccess_miss_forget();          /* (the copy that waits looks again) */
        r = copy_from_user(d, desc, sizeof *d);
    }
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

/* 1 if the send part of the copied descriptor is within the limits. */
static inline int send_part_in_limits(const struct ks_ipc_desc *d)
{
    return d->send_len <= KS_IPC_MAX_BUF && d->send_nhandles <= KS_IPC_MAX_HANDLES;
}

/*
 * Check the copied descriptor for a message that sends (DESC_SEND) and/or
 * receives (DESC_RECV): limits, and buffers mapped for the access they need.
 */
static long check_desc(const struct ks_ipc_desc *d, int use, int *paged)
{
    long r;
    if ((use & DESC_RECV) && (r = check_recv_part(d, paged)) != 0)
        return r;
    if (!send_part_in_limits(d))
        return KS_ERR_INVALID;
    if (d->send_len && vm_check_access_paged(current_process()->vm, (uintptr_t)d->send_buf, d->send_len, VM_READ,
                                             paged))
        return KS_ERR_FAULT;
    return 0;
}

/*
 * The current thread's buffers that lie in a paged memobj's mapping, faulted
 * in now, at the start of the call, where waiting for their pager is safe
 * (nothing taken yet but the descriptor): 0 or the error the call fails with.
 * The transfer later never waits; a page evicted in between arrives as an
 * unreadable buffer does (nothing, marked truncated).
 */
static __attribute__((noinline)) long prefault_bufs(const struct ks_ipc_desc *d)
{
    struct vm_space *vs = current_process()->vm;
    long r = d->send_len ? vm_prefault(vs, (uintptr_t)d->send_buf, d->send_len, VM_READ) : 0;
    if (r == 0 && d->recv_cap)
        r = vm_prefault(vs, (uintptr_t)d->recv_buf, d->recv_cap, VM_WRITE);
    return r;
}

/*
 * Look up the handles the copied descriptor d sends, into ipc->handles with a
 * reference each (it needs TRANSFER; a pseudo-handle cannot travel), or for a
 * KS_IPC_HANDLE_VIEW a new view as a taken handle (view_instead). 0, or the
 * error the call fails with, with nothing kept.
 */
static inline __attribute__((always_inline)) long lookup_handles(struct thread_ipc *ipc, const struct ks_ipc_desc *d)
{
    for (uint32_t i = 0; i < d->send_nhandles; i++) {
        struct object *o;
        uint32_t rights;
        long r = sys_lookup((uint64_t)(uint32_t)d->send_handles[i], 0, KS_RIGHT_TRANSFER, &o, &rights);
        if (!r && (d->send_handles[i] == KS_PROCESS_SELF || d->send_handles[i] == KS_THREAD_SELF)) {
            object_put(o);              /* a pseudo-handle resolves, but cannot travel */
            r = KS_ERR_INVALID;
        }
        uint32_t flags = d->send_handle_flags[i];
        if (!r && (flags & KS_IPC_HANDLE_VIEW))
            r = view_instead(&o, &rights, flags);
        if (r) {
            drop_outgoing_handles(ipc);
            return r;
        }
        ipc->handles[ipc->nhandles] = o;
        ipc->handle_moved[ipc->nhandles] = !!(flags & KS_IPC_HANDLE_VIEW);     /* a new view travels as taken */
        ipc->handle_rights[ipc->nhandles++] = rights;
    }
    return 0;
}

/*
 * Take the moved ones of the handles lookup_handles found out of the current
 * process's table. Until they arrive they stay counted as handles, so no
 * "last handle" fires; they leave the sender now, whatever becomes of the
 * message.
 */
static inline __attribute__((always_inline)) void take_moved_handles(struct thread_ipc *ipc,
                                                                     const struct ks_ipc_desc *d)
{
    struct handle_table *table = current_process()->handles;
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
}

/* Both: the handles d sends, looked up and the moved ones taken. 0, or the error (nothing taken). */
static inline __attribute__((always_inline)) long take_handles(struct thread_ipc *ipc, const struct ks_ipc_desc *d)
{
    long r = lookup_handles(ipc, d);
    if (r == 0)
        take_moved_handles(ipc, d);
    return r;
}

/*
 * Copy the caller's descriptor in, check the parts `use` names and, for
 * DESC_SEND, take its outgoing handles. A buffer that is not mapped is the
 * caller's error, now, not the peer's later.
 */
static __attribute__((noinline)) long take_desc_copy(uint64_t desc, int use)
{
    struct thread_ipc *ipc = &current_thread()->ipc;
    struct ks_ipc_desc *d = &ipc->desc;
    long r = desc_copy_in(ipc, desc, 1);
    if (r)
        return r;
    if (!(use & DESC_SEND)) {
        d->send_len = 0;
        d->send_nhandles = 0;
    }
    int paged = 0;
    if ((r = check_desc(d, use, &paged)) != 0)
        return r;
    if (__builtin_expect(paged, 0) && (r = prefault_bufs(d)) != 0)
        return r;
    return d->send_nhandles ? take_handles(ipc, d) : 0;
}

/* take_desc_copy's common case first: no descriptor (words only) costs two stores. */
static inline long take_desc(uint64_t desc, int use)
{
    struct thread_ipc *ipc = &current_thread()->ipc;
    ipc->desc_user = desc;
    ipc->nhandles = 0;
    return desc ? take_desc_copy(desc, use) : 0;
}

/* put_desc when there is a descriptor: write its outputs back unless memory has them already. */
static __attribute__((noinline)) long put_desc_outputs(void)
{
    struct thread_ipc *ipc = &current_thread()->ipc;
    if (!desc_outputs_changed(ipc))
        return 0;       /* the caller's memory says so already (steady state) */
    /* No wait here: the message is delivered already (the descriptor was read at the start). */
    long r = copy_to_user_nowait(ipc->desc_user + KS_IPC_DESC_OUT, (const uint8_t *)&ipc->desc + KS_IPC_DESC_OUT,
                                 sizeof ipc->desc - KS_IPC_DESC_OUT);
    if (r)
        uaccess_miss_forget();
    return r;
}

/* Write the descriptor's outputs back to the current thread's memory (none: nothing to do). */
static inline long put_desc(void)
{
    return current_thread()->ipc.desc_user ? put_desc_outputs() : 0;
}


/*
 * Copy n bytes of from's send buffer into to's receive buffer. When the sender
 * runs now and the receiver is another process, the sender's bytes are read in
 * place; otherwise both sides are found through their page tables.
 */
static inline __attribute__((always_inline)) long copy_payload(struct thread *from, struct thread *to, uint64_t n)
{
    uintptr_t dst = (uintptr_t)to->ipc.desc.recv_buf, src = (uintptr_t)from->ipc.desc.send_buf;
    if (from == current_thread() && from->proc->vm != to->proc->vm)
        return vm_copy_from_user(to->proc->vm, dst, src, n);
    return vm_copy(to->proc->vm, dst, from->proc->vm, src, n);
}

/*
 * The buffer part of a transfer: copy what fits, set `to`'s recv_len and the
 * bytes and truncation of *info, mark the sender's descriptor if cut.
 */
static inline __attribute__((always_inline)) long move_buffer(struct thread *from, struct thread *to, int may_stop,
                                                              uint64_t *info)
{
    struct thread_ipc *s = &from->ipc, *r = &to->ipc;
    uint64_t len = s->desc_user ? s->desc.send_len : 0;
    uint64_t cap = r->desc_user ? r->desc.recv_cap : 0;
    if (len) {
        uint64_t n = len < cap ? len : cap;
        if (n && copy_payload(from, to, n) < 0) {
            uaccess_miss_forget();
            if (may_stop)
                return KS_ERR_FAULT;
            n = 0;      /* unmapped memory on either side: nothing arrives */
        }
        *info |= n;
        if (n < len) {
            *info |= KS_IPC_INFO_TRUNCATED;
            s->desc.flags |= KS_IPC_PEER_TRUNCATED;
        }
    }
    if (r->desc_user)
        r->desc.recv_len = len;
    return 0;
}

/*
 * Move what a message carries beyond its words from thread `from` to thread
 * `to`: buffer (copied once, address space to address space), handles. Sets
 * to's info word and descriptor outputs; notes truncation on both sides.
 *
 * KS_ERR_FAULT, with nothing delivered, if may_stop (the fast path) and the
 * buffer copy failed: at a page a pager has not supplied yet (the C path then
 * faults the current thread's buffers in first), or at an unmapped page on
 * either side (the fast path did not check the sender's buffer; the C path
 * does, and reports it). Only the receiver's buffer may have changed, as far
 * as the copy got: bytes it was lent for this receive. Else 0. The C path
 * never stops here: a page it did not fault in (the peer's, or one evicted
 * since) arrives as an unreadable buffer does. Nobody waits here for a page in
 * another process's memory: a client could make a server wait for ever.
 */
/*
 * The handles part of a transfer: install from's outgoing handles in to's
 * table and list them in to's descriptor; those that find no room are closed
 * (KS_IPC_INFO_TRUNCATED in *info). Sets to's recv_nhandles; the handles count
 * of its info word is the caller's to add.
 */
static inline __attribute__((always_inline)) uint32_t deliver_handles(struct thread_ipc *s, struct thread *to,
                                                                      uint64_t *info)
{
    struct thread_ipc *r = &to->ipc;
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
            *info |= KS_IPC_INFO_TRUNCATED;     /* no room: the handle is closed */
        }
    }
    drop_outgoing_handles(s);                   /* the copies' lookup references, the closed ones */
    if (r->desc_user)
        r->desc.recv_nhandles = got;
    return got;
}

static __attribute__((noinline)) long transfer_payload_all(struct thread *from, struct thread *to, int may_stop)
{
    uint64_t info = 0;
    if (move_buffer(from, to, may_stop, &info))
        return KS_ERR_FAULT;
    uint32_t got = deliver_handles(&from->ipc, to, &info);
    to->ipc.out_info = info | (uint64_t)got << 32;
    return 0;
}

/* transfer_payload_all for a message with a buffer and no handles: the common case with a buffer. */
static inline __attribute__((always_inline)) long move_buffer_only(struct thread *from, struct thread *to,
                                                                   int may_stop)
{
    uint64_t info = 0;
    if (move_buffer(from, to, may_stop, &info))
        return KS_ERR_FAULT;
    if (to->ipc.desc_user)
        to->ipc.desc.recv_nhandles = 0;
    to->ipc.out_info = info;
    return 0;
}

/* move_buffer_only, out of line for the C path's transfers. */
static __attribute__((noinline)) long transfer_buffer_only(struct thread *from, struct thread *to, int may_stop)
{
    return move_buffer_only(from, to, may_stop);
}

/*
 * transfer_payload_all's common cases first: a message of words only (no
 * buffer bytes, no handles) sets to's outputs to zero and moves nothing; one
 * with a buffer and no handles skips the handles' loop.
 */
static inline long transfer_payload(struct thread *from, struct thread *to, int may_stop)
{
    const struct thread_ipc *s = &from->ipc;
    struct thread_ipc *r = &to->ipc;
    if (s->nhandles)
        return transfer_payload_all(from, to, may_stop);
    if (s->desc_user && s->desc.send_len)
        return transfer_buffer_only(from, to, may_stop);
    if (r->desc_user) {
        r->desc.recv_len = 0;
        r->desc.recv_nhandles = 0;
    }
    r->out_info = 0;
    return 0;
}

/* Move a whole message from thread `from` to thread `to`: the buffer and handles, then words. */
static inline __attribute__((always_inline)) void transfer(struct thread *from, struct thread *to)
{
    transfer_payload(from, to, 0);
    copy_words(to->ipc.mr, from->ipc.mr, KS_IPC_WORDS);
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
 * Give thread t a new idle reply port with a handle in its process (an armed
 * old one lives on through its handle until it is answered).
 */
static __attribute__((noinline)) long new_reply_port(struct thread *t)
{
    struct thread_ipc *ipc = &t->ipc;
    if (!t->proc->handles)
        return KS_ERR_BAD_STATE;
    struct reply_port *rp = ipc_reply_port_new(t->proc->acct);
    if (!rp)
        return KS_ERR_NO_MEMORY;
    long h = handle_install(t->proc->handles, &rp->obj, IPC_REPLY_RIGHTS);
    if (h < 0) {
        object_put(&rp->obj);
        return h;
    }
    if (ipc->rport) {                   /* the armed one lives on through its handle */
        ipc->rport->owner = NULL;
        object_put(&ipc->rport->obj);
    }
    ipc->rport = rp;                    /* keeps the creation reference */
    ipc->rport_handle = (int32_t)h;
    rp->owner = t;
    return 0;
}

/*
 * Make sure thread t (a receiver: the current thread, or one blocked in
 * receive) has an idle reply port with a handle in its process.
 */
static inline long ensure_reply_port(struct thread *t)
{
    const struct reply_port *rp = t->ipc.rport;
    if (rp && rp->state != REPLY_ARMED) {
        ASSERT(rp->obj.handles);        /* (its last handle takes it from the thread) */
        return 0;       /* reuse: same port, same handle value */
    }
    return new_reply_port(t);
}

/* Hand caller c's message (sent to listener l) to receiver r (both blocked or current); arm r's reply port. */
static inline __attribute__((always_inline)) void deliver_call(struct thread *c, struct thread *r, struct listener *l)
{
    struct reply_port *rp = r->ipc.rport;
    trace_event(TR_IPC_DELIVER, c->tid, r->tid, (uintptr_t)l, c->ipc.mr[0]);
    ASSERT(rp && rp->state != REPLY_ARMED);     /* ensure_reply_port left it idle */
    ASSERT(c->ipc_state == IPC_IDLE && r->ipc_state == IPC_IDLE);   /* both off the listener */
    transfer(c, r);
    rp->state = REPLY_ARMED;
    rp->caller = c;
    c->ipc.reply = rp;                  /* no reference: an armed port has a handle (ipc_thread.h) */
    c->ipc_state = IPC_WAIT_REPLY;
    r->ipc.out_a1 = c->ipc.userdata;
    r->ipc_state = IPC_IDLE;
}

/*
 * After a call's block ended: clean up and produce the call's result
 * (inlined where the fast path's blocked caller resumes; ipc_call's two
 * blocks share finish_call_all).
 */
static inline __attribute__((always_inline)) long finish_call_inline(long woke)
{
    struct thread *t = current_thread();
    struct thread_ipc *ipc = &t->ipc;
    if (woke < 0) {
        int delivered = t->ipc_state != IPC_QUEUED;
        ipc->out_a1 = ipc->out_info = 0;
        if (!delivered) {
            leave_listener(ipc);
        } else if (t->ipc_state == IPC_WAIT_REPLY && ipc->reply) {
            ipc->reply->state = REPLY_CALLER_GONE;      /* a late reply is dropped */
            ipc->reply->caller = NULL;
            ipc->reply = NULL;
        }
        drop_outgoing_handles(ipc);
        t->ipc_state = IPC_IDLE;
        if (delivered)                  /* never taken: the caller's own words go back, to resend */
            memset(ipc->mr, 0, sizeof ipc->mr);
        return woke;
    }
    return put_desc();
}


static __attribute__((noinline)) long finish_call_all(long woke)
{
    return finish_call_inline(woke);
}

/* finish_call_all's common case first: answered, with no descriptor to write back. */
static inline long finish_call(long woke)
{
    if (woke >= 0 && !current_thread()->ipc.desc_user)
        return 0;
    return finish_call_all(woke);
}

long ipc_call(struct client_port *cp, uint64_t desc)
{
    struct thread *t = current_thread();
    struct thread_ipc *ipc = &t->ipc;
    struct listener *l = cp->listener;
    long r;
    ipc->out_a1 = ipc->out_info = 0;
    ipc->userdata = cp->userdata;
    if (t->interrupt_pending || (t->flags & (THREAD_KILLED | THREAD_UPCALL))) {
        /* It would be interrupted at once: say so before a receiver takes the message (after,
           the server may act on a call its caller is told failed). Not sent: its words go
           back as they were. */
        t->interrupt_pending = 0;
        object_put(&cp->obj);
        return KS_ERR_INTERRUPTED;
    }
    if ((r = take_desc(desc, DESC_SEND | DESC_RECV)) != 0)
        goto fail;
    if (l->closed) {
        drop_outgoing_handles(ipc);
        r = KS_ERR_PEER_CLOSED;
        goto fail;
    }
    struct thread *rcv;
    while ((rcv = first_blocked_receiver(l)) != NULL) {
        receiver_leave(l, rcv);
        /* Its reply handle may have been closed while it waited: it gets a new one. */
        long err = ensure_reply_port(rcv);
        if (err == 0)
            break;
        rcv->ipc_state = IPC_IDLE;
        sched_wake(rcv, err);       /* that receiver fails; try the next one */
    }
    if (rcv) {
        deliver_call(t, rcv, l);
        object_put(&cp->obj);
        return finish_call(sched_block_handoff(rcv, rcv->ipc.rport_handle, 1));
    }
    t->ipc_state = IPC_QUEUED;
    ipc->listener = l;                  /* no reference (ipc_thread.h) */
    list_push_back(&l->callers, &ipc->link);
    callers_changed(l);
    object_put(&cp->obj);
    return finish_call(sched_block(NULL, 1));
fail:
    object_put(&cp->obj);
    return ipc_fail(r, NULL);
}

/* After a receive's block ended: the reply port handle, or the error. */
static __attribute__((noinline)) long finish_receive_all(long woke)
{
    struct thread *t = current_thread();
    struct thread_ipc *ipc = &t->ipc;
    if (woke == KS_ERR_INTERRUPTED && t->ipc_state == IPC_RECEIVING)
        leave_listener(ipc);
    if (woke >= 0) {
        long r = put_desc();
        if (r == 0)
            return woke;
        woke = r;
    }
    t->ipc_state = IPC_IDLE;
    ipc->out_a1 = ipc->out_info = 0;
    memset(ipc->mr, 0, sizeof ipc->mr);
    return woke;
}

/* finish_receive_all's common case first: a call taken, with no descriptor to write back. */
static inline long finish_receive(long woke)
{
    if (woke >= 0 && !current_thread()->ipc.desc_user)
        return woke;
    return finish_receive_all(woke);
}

long ipc_call_resumed(void)
{
    return finish_call_inline(current_thread()->wake_result);
}

long ipc_receive_resumed(void)
{
    return finish_receive(current_thread()->wake_result);
}

/*
 * Receive on listener l (taking the caller's reference): take a queued call or block until one comes. With
 * `have_desc` the descriptor was copied in already (by the reply half of
 * reply-and-receive) and only its send part is cleared.
 */
static long do_receive(struct listener *l, uint64_t desc, int have_desc, struct thread *answered)
{
    struct thread *t = current_thread();
    struct thread_ipc *ipc = &t->ipc;
    long r;
    ipc->out_a1 = ipc->out_info = 0;
    if (have_desc) {
        int paged = 0;
        ipc->desc.send_len = 0;
        ipc->desc.send_nhandles = 0;
        if ((r = check_recv_part(&ipc->desc, &paged)) != 0)
            goto fail;
        if (__builtin_expect(paged, 0)) {
            /* The reply is delivered: its caller runs on before this thread may wait for a page. */
            if (answered)
                sched_wake(answered, 0);
            answered = NULL;
            if ((r = prefault_bufs(&ipc->desc)) != 0)
                goto fail;
        }
    } else if ((r = take_desc(desc, DESC_RECV)) != 0) {
        goto fail;
    }
    if ((r = ensure_reply_port(t)) != 0)
        goto fail;
    if (l->closed) {
        r = KS_ERR_PEER_CLOSED;
        goto fail;
    }
    if (l->notified) {                  /* notifications come before callers */
        ipc_take_notification(l, t);
        object_put(&l->obj);
        if (answered)
            sched_wake(answered, 0);
        r = put_desc();
        return r ? r : KS_HANDLE_NONE;
    }
    struct thread *c = first_blocked_caller(l);
    if (c) {
        leave_listener(&c->ipc);
        deliver_call(c, t, l);
        object_put(&l->obj);
        if (answered)
            sched_wake(answered, 0);
        r = put_desc();
        return r ? r : ipc->rport_handle;
    }
    t->ipc_state = IPC_RECEIVING;
    ipc->listener = l;                  /* no reference (ipc_thread.h): ours goes */
    receivers_push(l, t);
    object_put(&l->obj);                /* (not the last: an open listener has a handle,
                                           which holds one, and `closed` was checked after
                                           the last wait above) */
    if (answered)       /* the caller just answered runs next, straight away */
        return finish_receive(sched_block_handoff(answered, 0, 1));
    return finish_receive(sched_block(NULL, 1));
fail:
    object_put(&l->obj);
    return ipc_fail(r, answered);
}

long ipc_receive(struct listener *l, uint64_t desc)
{
    return do_receive(l, desc, 0, NULL);
}

/*
 * Send the reply in current->ipc (words, descriptor) through reply port rp
 * (taking the caller's reference). With `answered` a receive follows: the
 * caller is not woken but left in *answered, and the descriptor's outputs are
 * not written back (the receive writes them once, at its end).
 */
long ipc_reply_half(struct reply_port *rp, uint64_t desc, struct thread **answered)
{
    struct thread *t = current_thread();
    long r;
    if ((r = take_desc(desc, DESC_SEND)) != 0)
        goto out;
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
    }
    if (rp->state != REPLY_ARMED) {
        r = rp->state == REPLY_IDLE ? KS_ERR_BAD_STATE : KS_ERR_PEER_CLOSED;
        if (rp->state == REPLY_CALLER_GONE)
            rp->state = REPLY_IDLE;
        drop_outgoing_handles(&t->ipc);
        goto out;
    }
    struct thread *c = rp->caller;
    trace_event(TR_IPC_REPLY, t->tid, c->tid, (uintptr_t)rp, t->ipc.mr[0]);
    transfer(t, c);
    c->ipc.out_a1 = 0;                      /* a call returns no userdata */
    rp->state = REPLY_IDLE;
    rp->caller = NULL;
    c->ipc.reply = NULL;
    c->ipc_state = IPC_IDLE;
    if (answered)
        *answered = c;                      /* the receive that follows wakes it */
    else
        sched_wake(c, 0);
    r = answered ? 0 : put_desc();
out:
    object_put(&rp->obj);
    return r;
}

long ipc_reply(struct reply_port *rp, uint64_t desc)
{
    long r = ipc_reply_half(rp, desc, NULL);
    memset(current_thread()->ipc.mr, 0, sizeof current_thread()->ipc.mr);
    current_thread()->ipc.out_a1 = current_thread()->ipc.out_info = 0;
    return r;
}

long ipc_receive_after_reply(struct listener *l, uint64_t desc, struct thread *answered)
{
    /* The descriptor came in with the reply unless the reply failed before reading it. */
    int have_desc = desc && current_thread()->ipc.desc_user == desc;
    return do_receive(l, desc, have_desc, answered);
}

long ipc_fail(long err, struct thread *answered)
{
    struct thread *t = current_thread();
    struct thread_ipc *ipc = &t->ipc;
    t->ipc_state = IPC_IDLE;
    ipc->out_a1 = ipc->out_info = 0;
    memset(ipc->mr, 0, sizeof ipc->mr);
    if (answered)
        sched_wake(answered, 0);
    return err;
}

/* ---- for the fast path (arch/riscv/ipc_fast.S) ---- */

/*
 * For the fast path's call (arch/riscv/ipc_fast.S) to receiver rcv when a
 * descriptor is involved, ours or the receiver's. The receiver returns
 * straight to user mode, so its descriptor outputs must need no writing back;
 * ours, if any, must send no handles, and is copied in and checked as
 * ipc_call's take_desc would, except that the copy itself checks a send buffer
 * it reads whole. If all is well the buffer is delivered here,
 * exactly as deliver_call would (the words travel in registers), and 0 says
 * the call is past its point of no return. Otherwise nothing was delivered,
 * and the fast path hands the whole call to the C path, which starts over
 * (what this wrote is the current thread's scratch, which take_desc rewrites,
 * and after a copy that failed part-way, bytes in the receiver's buffer,
 * which include/kestrel/ipc.h leaves unspecified while it waits).
 */
long ipc_fast_call_desc(struct thread *rcv, uint64_t desc)
{
    struct thread *t = current_thread();
    struct thread_ipc *ipc = &t->ipc;
    int paged = 0;
    if (desc && (desc_copy_in(ipc, desc, 0) || ipc->desc.send_nhandles || !send_part_in_limits(&ipc->desc) ||
                 check_recv_part(&ipc->desc, &paged) || paged)) {
        uaccess_miss_forget();          /* the C path copies it again (and faults paged buffers in) */
        return 1;
    }
    uint64_t len = desc ? ipc->desc.send_len : 0;
    if (rcv->ipc.desc_user && !outputs_stay(&rcv->ipc, len))
        return 1;
    if (len > (rcv->ipc.desc_user ? rcv->ipc.desc.recv_cap : 0) &&
        (vm_check_access_areas(t->proc->vm, (uintptr_t)ipc->desc.send_buf, len, VM_READ, &paged) || paged))
        return 1;                       /* truncated: the copy will not read all of our buffer (see below) */
    /*
     * Unless the message is cut, our send buffer is not looked up first, as
     * take_desc would: the copy reads all of it, and if any of it cannot be
     * read, nothing is delivered and the C path starts over, finds the bad
     * buffer and says so.
     */
    ipc->desc_user = desc;
    ipc->nhandles = 0;
    if (move_buffer_only(t, rcv, 1)) {  /* (transfer_payload's case, inline: no handles) */
        uaccess_miss_forget();          /* nothing delivered: the C path waits for the page, or fails */
        return 1;
    }
    return 0;
}

/*
 * take_reply_handles' views: a new unbound view as a taken handle
 * (taken_view_new) in ipc->handles[i] for each KS_IPC_HANDLE_VIEW of d.
 * 1; or 0 without memory, with every one made freed again.
 */
static __attribute__((noinline)) int new_views(struct thread_ipc *ipc, const struct ks_ipc_desc *d, struct account *a)
{
    for (uint32_t i = 0; i < d->send_nhandles; i++) {
        if (!(d->send_handle_flags[i] & KS_IPC_HANDLE_VIEW))
            continue;
        struct view *v = taken_view_new(a);
        if (!v) {
            while (i-- > 0)
                if (d->send_handle_flags[i] & KS_IPC_HANDLE_VIEW)
                    handle_release_taken(ipc->handles[i]);
            return 0;
        }
        ipc->handles[i] = &v->obj;
    }
    return 1;
}

/*
 * reply_handles' way to take the handles it sends: each a real handle with
 * TRANSFER, none listed twice, no listener or reply port moved (see below),
 * and a memobj handle that is to go as a new view fit for one. A moved one
 * leaves our table straight away (handle_take), without the reference
 * lookup_handles would take and take_moved_handles drop again; a copied one
 * gets a reference, as lookup_handles would give it; a view is made, charged
 * to account a, and travels as a taken handle. The views are allocated
 * before anything is taken, as the one step that can fail (no memory), and
 * bound to their memobjs only after it: an unbound view frees without a
 * memobj hook (view_new). 1; or 0, with nothing taken, and the C path does it
 * its way.
 */
static inline __attribute__((always_inline)) int take_reply_handles(struct thread_ipc *ipc,
                                                                    const struct ks_ipc_desc *d,
                                                                    struct handle_table *from,
                                                                    struct account *a)
{
    uint32_t n = d->send_nhandles, views = 0;
    for (uint32_t i = 0; i < n; i++) {
        ks_handle_t h = d->send_handles[i];
        uint32_t f = d->send_handle_flags[i];
        const struct handle_entry *e = handle_entry_of(from, h);    /* (NULL for a pseudo-handle) */
        if (f & KS_IPC_HANDLE_VIEW) {
            if (view_check(e ? e->obj : NULL, e ? e->rights : 0, f))
                return 0;
            views = 1;
        } else if (!e || !(e->rights & KS_RIGHT_TRANSFER) ||
                   ((f & KS_IPC_HANDLE_MOVE) && (e->obj->type == KS_OBJ_LISTENER || e->obj->type == KS_OBJ_REPLY))) {
            return 0;
        }
        for (uint32_t j = 0; j < i; j++)
            if (d->send_handles[j] == h)
                return 0;
    }
    if (views && !new_views(ipc, d, a))
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        ks_handle_t h = d->send_handles[i];
        uint32_t f = d->send_handle_flags[i];
        if (f & KS_IPC_HANDLE_VIEW) {
            view_bind(view_from_object(ipc->handles[i]), memobj_from_object(handle_entry_of(from, h)->obj));
            ipc->handle_rights[i] = KS_IPC_VIEW_RIGHTS(f);
            ipc->handle_moved[i] = 1;
        } else if (f & KS_IPC_HANDLE_MOVE) {
            handle_take(from, h, &ipc->handles[i], &ipc->handle_rights[i]);     /* (checked above) */
            ipc->handle_moved[i] = 1;
        } else {
            const struct handle_entry *e = handle_entry_of(from, h);
            object_get(e->obj);
            ipc->handles[i] = e->obj;
            ipc->handle_rights[i] = e->rights;
            ipc->handle_moved[i] = 0;
        }
    }
    ipc->nhandles = n;
    return 1;
}

/*
 * ipc_fast_reply_desc when our descriptor sends handles: take them, and move
 * them to the caller (IPC_FAST_OUTPUTS: its info word counts them).
 *
 * Nothing may happen here but the move itself: the fast path checked the
 * caller's state, our listener and our flags before this, and commits after
 * it without looking again. A moved handle that found no room in the
 * caller's table would be closed here, and its last-handle hooks (a process
 * ending, a watch firing) could wake the caller, raise an upcall or post to
 * our listener in between; so the caller's table must have room for every
 * handle. And a listener or reply port may not be moved: the receive that
 * follows may be on it (the C path's would find its handle gone and say so).
 * Either way the C path takes the reply, with its own order and checks.
 */
static __attribute__((noinline)) long reply_handles_many(struct thread *t, struct thread *caller)
{
    struct thread_ipc *ipc = &t->ipc;
    const struct ks_ipc_desc *d = &ipc->desc;
    if (!take_reply_handles(ipc, d, t->proc->handles, t->proc->acct))
        return IPC_FAST_BAIL;
    ipc->desc.send_nhandles = 0;        /* the receive that follows sends nothing */
    uint64_t info = 0;                  /* transfer_payload_all's, with no buffer: */
    caller->ipc.desc.recv_len = 0;
    uint32_t got = deliver_handles(ipc, caller, &info);     /* (every one finds room) */
    caller->ipc.out_info = info | (uint64_t)got << 32;
    return IPC_FAST_OUTPUTS;
}

/*
 * reply_handles_many for the common reply, one handle (an open's view, say),
 * in a line: the same checks, and the handle goes straight into the caller's
 * table (room was checked). A new view is allocated before anything else is
 * done, as in take_reply_handles.
 */
static inline __attribute__((always_inline)) long reply_one_handle(struct thread *t, struct thread *caller,
                                                                   struct handle_table *to)
{
    struct ks_ipc_desc *d = &t->ipc.desc;
    struct handle_table *from = t->proc->handles;
    ks_handle_t h = d->send_handles[0];
    uint32_t f = d->send_handle_flags[0], rights;
    const struct handle_entry *e = handle_entry_of(from, h);
    struct object *o;
    long got;
    if (f & KS_IPC_HANDLE_VIEW) {
        struct view *v;
        if (view_check(e ? e->obj : NULL, e ? e->rights : 0, f) || !(v = taken_view_new(t->proc->acct)))
            return IPC_FAST_BAIL;
        view_bind(v, memobj_from_object(e->obj));
        got = handle_install_taken(to, &v->obj, KS_IPC_VIEW_RIGHTS(f));
    } else if (!e || !(e->rights & KS_RIGHT_TRANSFER)) {
        return IPC_FAST_BAIL;
    } else if (f & KS_IPC_HANDLE_MOVE) {
        if (e->obj->type == KS_OBJ_LISTENER || e->obj->type == KS_OBJ_REPLY)
            return IPC_FAST_BAIL;
        handle_take(from, h, &o, &rights);
        got = handle_install_taken(to, o, rights);
    } else {
        got = handle_install(to, e->obj, e->rights);
    }
    d->send_nhandles = 0;               /* the receive that follows sends nothing */
    caller->ipc.desc.recv_len = 0;
    caller->ipc.desc.recv_handles[0] = (ks_handle_t)got;
    caller->ipc.desc.recv_nhandles = 1;
    caller->ipc.out_info = 1ull << 32;
    return IPC_FAST_OUTPUTS;
}

static __attribute__((noinline)) long reply_handles(struct thread *t, struct thread *caller)
{
    const struct ks_ipc_desc *d = &t->ipc.desc;
    struct handle_table *to = caller->proc->handles;
    if (!send_part_in_limits(d) || !caller->ipc.desc_user || !to || handle_room(to) < d->send_nhandles)
        return IPC_FAST_BAIL;
    return d->send_nhandles == 1 ? reply_one_handle(t, caller, to) : reply_handles_many(t, caller);
}

/*
 * ipc_fast_reply_desc from where our descriptor, if `ours`, is in ipc->desc
 * as desc_copy_in leaves it: its checks, then the handles it sends or the
 * caller's outputs.
 */
static inline __attribute__((always_inline)) long reply_desc_rest(struct thread *t, struct thread *caller, int ours)
{
    struct thread_ipc *ipc = &t->ipc, *c = &caller->ipc;
    if (ours) {
        struct ks_ipc_desc *d = &ipc->desc;
        int paged = 0;
        if (d->send_len || check_recv_part(d, &paged) || paged)
            return IPC_FAST_BAIL;       /* (the C path checks it again, and may wait) */
        if (d->send_nhandles)
            return reply_handles(t, caller);
    }
    if (!c->desc_user)
        return 0;
    c->desc.recv_len = 0;               /* transfer() of words only: outputs zero, info 0 */
    c->desc.recv_nhandles = 0;
    if (!desc_outputs_changed(c))
        return 0;
    c->out_info = 0;
    return IPC_FAST_OUTPUTS;
}

/*
 * For the fast path's reply-and-receive (arch/riscv/ipc_fast.S) when a
 * descriptor is involved, the caller's or ours. The reply carries words and
 * handles, no buffer; our descriptor, if any, is copied in and checked here as
 * ipc_reply_half and do_receive would, and its receive part is what the
 * receive that follows uses. If all is well the handles are taken and moved
 * to the caller here, as ipc_reply_half's transfer would, and the caller's
 * outputs (recv_len, recv_nhandles, recv_handles) and info word set: past
 * this, the reply is committed. 0: go on, with info 0 and nothing to write
 * back; IPC_FAST_OUTPUTS: go on with the caller's info word, and write its
 * descriptor outputs back once it runs (ipc_fast_caller_outputs: they differ
 * from its memory's, or may, with handles moved). IPC_FAST_BAIL: the fast path
 * hands the whole call to the C path, which starts over (what this wrote is
 * the current thread's scratch, which take_desc rewrites; nothing was taken).
 */
long ipc_fast_reply_desc(struct thread *caller, uint64_t desc)
{
    struct thread *t = current_thread();
    struct thread_ipc *ipc = &t->ipc;
    if (desc) {
        ipc->desc_user = desc;
        ipc->nhandles = 0;
        if (desc_copy_in(ipc, desc, 0)) {
            uaccess_miss_forget();      /* the C path copies it again, and may wait */
            return IPC_FAST_BAIL;
        }
    }
    return reply_desc_rest(t, caller, desc != 0);
}

long ipc_fast_reply_desc_copied(struct thread *caller)
{
    return reply_desc_rest(current_thread(), caller, 1);
}

/*
 * The current thread is a caller the fast path's reply just switched to,
 * whose descriptor outputs changed (IPC_FAST_OUTPUTS): write them back, as
 * finish_call does for a caller the C path wakes. 0, or the error the call
 * returns (the reply was delivered all the same).
 */
long ipc_fast_caller_outputs(void)
{
    return put_desc_outputs();
}
