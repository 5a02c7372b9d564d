/*
 * kernel/sys_ipc.c - system calls on IPC ports (KS_SYS_IPC_*): resolve the
 * handles, then call kernel/ipc.c (the message path) or kernel/ipc_port.c
 * (creation). Creating a client port needs MANAGE on the listener, calling
 * WRITE on the client port, receiving READ on the listener, replying WRITE on
 * the reply port. The fast path (arch/riscv/ipc_fast.S) resolves its handles
 * through the per-thread cache and comes here for everything else.
 */
#include "ipc.h"
#include "process.h"
#include "syscall.h"
#include "uaccess.h"

#define LISTENER_RIGHTS (KS_RIGHT_READ | KS_RIGHT_MANAGE | KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE)
#define CLIENT_RIGHTS   (KS_RIGHT_WRITE | KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE)

long sys_ipc_listener_create(void)
{
    struct listener *l = ipc_listener_new(current_process()->acct);
    if (!l)
        return KS_ERR_NO_MEMORY;
    long r = sys_install(&l->obj, LISTENER_RIGHTS);
    object_put(&l->obj);
    return r;
}

long sys_ipc_client_create(sysarg_t listener, sysarg_t userdata, sysarg_t flags)
{
    struct object *o;
    if (flags & ~(sysarg_t)KS_CLIENT_NOTIFY)
        return KS_ERR_INVALID;
    long r = sys_lookup(listener, KS_OBJ_LISTENER, KS_RIGHT_MANAGE, &o, NULL);
    if (r)
        return r;
    struct client_port *c =
        ipc_client_new(current_process()->acct, listener_from_object(o), userdata);
    object_put(o);
    if (!c)
        return KS_ERR_NO_MEMORY;
    r = sys_install(&c->obj, CLIENT_RIGHTS | (flags & KS_CLIENT_NOTIFY ? KS_RIGHT_SIGNAL : 0));
    object_put(&c->obj);
    return r;
}

long sys_ipc_notify(sysarg_t client, sysarg_t word)
{
    struct object *o;
    long r = sys_lookup(client, KS_OBJ_CLIENT, KS_RIGHT_SIGNAL, &o, NULL);
    if (r)
        return r;
    struct client_port *c = client_from_object(o);
    c->note.word = list_linked(&c->note.link) ? c->note.word | word : word;
    ipc_notify(c->listener, &c->note);
    object_put(o);
    return 0;
}

/*
 * sys_lookup's common case for the calls that carry messages, inline: the
 * object a live handle h of `type` with `rights` names, with a new reference
 * (a table read and an increment), or NULL (then sys_lookup says why).
 */
static inline struct object *ipc_peek(sysarg_t h, uint32_t type, uint32_t rights)
{
    struct object *o = h <= INT32_MAX ? handle_peek(current_process()->handles, (ks_handle_t)h, type, rights) : NULL;
    if (o)
        object_get(o);
    return o;
}

/* sys_lookup, ipc_peek first. */
static inline long ipc_lookup(sysarg_t h, uint32_t type, uint32_t rights, struct object **out)
{
    *out = ipc_peek(h, type, rights);
    return *out ? 0 : sys_lookup(h, type, rights, out, NULL);
}

/* sys_ipc_call for a port handle that is not a live client port with the write right (its error). */
static __attribute__((noinline)) long call_lookup_slow(sysarg_t port, sysarg_t desc)
{
    struct object *o;
    long r = sys_lookup(port, KS_OBJ_CLIENT, KS_RIGHT_WRITE, &o, NULL);
    return r ? ipc_fail(r, NULL) : ipc_call(client_from_object(o), desc);
}

long sys_ipc_call(sysarg_t port, sysarg_t desc)
{
    ipc_stats.slow_calls++;
    struct object *o = ipc_peek(port, KS_OBJ_CLIENT, KS_RIGHT_WRITE);
    /* The error path out of line: no object on our stack, so no frame for the common case. */
    return o ? ipc_call(client_from_object(o), desc) : call_lookup_slow(port, desc);
}

long sys_ipc_receive(sysarg_t listener, sysarg_t desc)
{
    struct object *o;
    long r = ipc_lookup(listener, KS_OBJ_LISTENER, KS_RIGHT_READ, &o);
    return r ? ipc_fail(r, NULL) : ipc_receive(listener_from_object(o), desc);
}

long sys_ipc_reply(sysarg_t reply, sysarg_t desc)
{
    struct object *o;
    ipc_stats.slow_replies++;
    long r = ipc_lookup(reply, KS_OBJ_REPLY, KS_RIGHT_WRITE, &o);
    return r ? ipc_fail(r, NULL) : ipc_reply(reply_from_object(o), desc);
}

/* The listener to receive on came in t3 (current->ipc.listener_arg); it is resolved after the reply. */
long sys_ipc_reply_receive(sysarg_t reply, sysarg_t desc)
{
    struct thread *answered = NULL;
    struct object *o;
    ipc_stats.slow_replies++;
    long r = ipc_lookup(reply, KS_OBJ_REPLY, KS_RIGHT_WRITE, &o);
    if (r == 0)
        r = ipc_reply_half(reply_from_object(o), desc, &answered);
    if (r == KS_ERR_PEER_CLOSED || r == KS_ERR_BAD_STATE)
        r = 0;          /* a reply that finds its caller gone does not stop the server serving */
    if (r == 0)
        r = ipc_lookup(current_thread()->ipc.listener_arg, KS_OBJ_LISTENER, KS_RIGHT_READ, &o);
    return r ? ipc_fail(r, answered) : ipc_receive_after_reply(listener_from_object(o), desc, answered);
}

/* Switch the IPC fast path on or off (for tests and ipc_rt_regs_slow) and read the counters. */
long sys_ipc_control(sysarg_t on, sysarg_t out)
{
    if (on > 1)
        return KS_ERR_INVALID;
#ifdef KESTREL_TRACE
    if (on)
        return KS_ERR_BAD_STATE;        /* the trace kernel keeps it off (kernel/trace.h) */
#endif
    struct ks_ipc_stats now;
    ipc_stats_now(&now);
    now.fastpath_on = on;
    if (out && copy_to_user(out, &now, sizeof now))
        return KS_ERR_FAULT;            /* a failed call switches nothing */
    ipc_fastpath_set((int)on);
    return 0;
}

long sys_listener_wait(sysarg_t listener, sysarg_t timeout_ns, sysarg_t out)
{
    struct object *o;
    uint64_t v[2];
    if (!user_range_ok(out, sizeof v))
        return KS_ERR_FAULT;
    long r = sys_lookup(listener, KS_OBJ_LISTENER, KS_RIGHT_READ, &o, NULL);
    if (r)
        return r;
    r = ipc_wait_notification(listener_from_object(o), timeout_ns, &v[0], &v[1]);
    object_put(o);
    return r ? r : copy_to_user(out, v, sizeof v);
}
