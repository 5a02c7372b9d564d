/*
 * kernel/ipc_port.c - the three port objects of call/reply IPC (see ipc.h):
 * listeners, client ports and reply ports, their creation and destruction,
 * what a listener's last handle closing does (its waiters fail, its close
 * hooks run), and each thread's IPC state from creation to release.
 */
#include <kestrel/errors.h>
#include <kestrel/syscall.h>
#include "account.h"
#include "debug.h"
#include "heap.h"
#include "ipc_internal.h"
#include "process.h"
#include "sched.h"

/* Every listener, for ipc_stats_now: a listener's counts go to ipc_stats when it goes. */
static struct list all_listeners = LIST_INIT(all_listeners);

void ipc_stats_now(struct ks_ipc_stats *out)
{
    *out = ipc_stats;
    LIST_FOR_EACH(n, tmp, &all_listeners) {
        const struct listener *l = LIST_ENTRY(n, struct listener, all_link);
        out->fast_calls += l->fast_calls;
        out->fast_replies += l->fast_replies;
    }
}

static void listener_destroy(struct object *o)
{
    struct listener *l = listener_from_object(o);
    ipc_notification_cancel(l, &l->orphaned);   /* its own; every other owner cancelled first */
    BUG_ON(!list_empty(&l->notifications));
    ipc_stats.fast_calls += l->fast_calls;
    ipc_stats.fast_replies += l->fast_replies;
    list_remove(&l->all_link);
    account_kfree(account_of(o), l);
}

/*
 * Take every caller off l and wake the blocked ones with `result`. One that
 * was woken already (interrupted, not yet run) keeps its state for its own
 * clean-up, which then finds it off (leave_listener): none may point at the
 * listener after its last handle, since none holds a reference.
 */
static void fail_callers(struct listener *l, long result)
{
    LIST_FOR_EACH(n, tmp, &l->callers) {
        struct thread_ipc *ipc = LIST_ENTRY(n, struct thread_ipc, link);
        struct thread *t = ipc_owner(ipc);
        list_remove(&ipc->link);
        ipc->listener = NULL;
        if (t->state != THREAD_BLOCKED)
            continue;
        t->ipc_state = IPC_IDLE;
        sched_wake(t, result);
    }
    callers_changed(l);
}

void receivers_remove_below(struct listener *l, struct thread *t)
{
    struct thread *above = l->receivers;
    ASSERT(above);
    while (above->ipc.next_receiver != t) {
        above = above->ipc.next_receiver;
        ASSERT(above);
    }
    above->ipc.next_receiver = t->ipc.next_receiver;
}

/* The same for the receivers: each leaves the stack with its `listener` NULL. */
static void fail_receivers(struct listener *l, long result)
{
    struct thread *t;
    while ((t = l->receivers) != NULL) {
        l->receivers = t->ipc.next_receiver;
        t->ipc.listener = NULL;
        if (t->state != THREAD_BLOCKED)
            continue;
        t->ipc_state = IPC_IDLE;
        sched_wake(t, result);
    }
}

static void listener_last_handle(struct object *o)
{
    struct listener *l = listener_from_object(o);
    l->closed = 1;
    LIST_FOR_EACH(n, tmp, &l->close_hooks) {    /* an irq unbinds, dropping its notification */
        struct ipc_close_hook *h = LIST_ENTRY(n, struct ipc_close_hook, link);
        h->fn(h, l);
    }
    fail_callers(l, KS_ERR_PEER_CLOSED);
    fail_receivers(l, KS_ERR_PEER_CLOSED);
    wake_all(&l->note_waiters, 0);      /* they see `closed` */
}

static const struct object_ops listener_ops = {
    .destroy = listener_destroy,
    .on_last_handle = listener_last_handle,
};

static void client_destroy(struct object *o)
{
    struct client_port *c = client_from_object(o);
    struct listener *l = c->listener;
    if (list_linked(&c->note.link)) {
        /*
         * Notified, not yet taken, and now closed (a server notifies a
         * poller's port and lets it go at once): the listener's own
         * notification carries it on, so the waiter still wakes.
         */
        ipc_notification_cancel(l, &c->note);
        l->orphaned.word = list_linked(&l->orphaned.link) ? l->orphaned.word | c->note.word : c->note.word;
        l->orphaned.userdata = c->note.userdata;
        ipc_notify(l, &l->orphaned);
    }
    object_put(&c->listener->obj);
    account_kfree(account_of(o), c);
}

static const struct object_ops client_ops = { .destroy = client_destroy };

/*
 * The pending caller (if any) of a reply port that nobody will use again gets
 * PEER_CLOSED. This is what lets a caller wait without a reference on the
 * port: an armed port is disarmed here before its handle's reference goes.
 */
static void reply_last_handle(struct object *o)
{
    struct reply_port *r = reply_from_object(o);
    if (r->state == REPLY_ARMED) {
        struct thread *c = r->caller;
        r->state = REPLY_IDLE;
        r->caller = NULL;
        c->ipc.reply = NULL;
        c->ipc_state = IPC_IDLE;
        sched_wake(c, KS_ERR_PEER_CLOSED);
    }
    struct thread *t = r->owner;
    if (t) {        /* a thread's port: it lets it go, and its next receive makes another */
        r->owner = NULL;
        t->ipc.rport = NULL;
        t->ipc.rport_handle = KS_HANDLE_NONE;
        object_put(&r->obj);            /* (the closing handle's reference outlives this) */
    }
}

static void reply_destroy(struct object *o)
{
    account_kfree(account_of(o), reply_from_object(o));
}

static const struct object_ops reply_ops = {
    .destroy = reply_destroy,
    .on_last_handle = reply_last_handle,
};

struct listener *ipc_listener_new(struct account *a)
{
    struct listener *l = ACCOUNT_OBJECT_NEW(a, struct listener, obj, KS_OBJ_LISTENER, &listener_ops);
    if (!l)
        return NULL;
    list_init(&l->callers);
    l->receivers = NULL;
    list_init(&l->notifications);
    list_init(&l->close_hooks);
    wait_queue_init(&l->note_waiters);
    ipc_notification_init(&l->orphaned);
    l->call_resume = ipc_call_resume;
    l->recv_resume = ipc_recv_resume;
    list_push_back(&all_listeners, &l->all_link);
    return l;
}

struct client_port *ipc_client_new(struct account *a, struct listener *l, uint64_t userdata)
{
    struct client_port *c = ACCOUNT_OBJECT_NEW(a, struct client_port, obj, KS_OBJ_CLIENT, &client_ops);
    if (!c)
        return NULL;
    object_get(&l->obj);
    c->listener = l;
    c->userdata = userdata;
    ipc_notification_init(&c->note);
    c->note.userdata = userdata;
    return c;
}

struct reply_port *ipc_reply_port_new(struct account *a)
{
    return ACCOUNT_OBJECT_NEW(a, struct reply_port, obj, KS_OBJ_REPLY, &reply_ops);
}

/*
 * What an empty handle cache entry names: for each path a stand-in that its
 * next check turns away (a client port whose listener has no receivers, an
 * idle reply port, a closed listener). An empty entry holds the value 0, which a caller
 * may pass too; it then goes to the C path as any bad handle does, without a
 * test of its own on the fast path's hit. The fast path never writes them.
 */
static struct listener hcache_closed_listener = {
    .closed = 1,
    .callers = LIST_INIT(hcache_closed_listener.callers),
    .receivers = NULL,          /* none: turns a call away */
};
static struct client_port hcache_no_client = { .listener = &hcache_closed_listener };
static struct reply_port hcache_no_reply = { .state = REPLY_IDLE };
static struct object *const hcache_stand_in[IPC_HC_COUNT] = {
    [IPC_HC_CALL] = &hcache_no_client.obj,
    [IPC_HC_REPLY] = &hcache_no_reply.obj,
    [IPC_HC_LISTENER] = &hcache_closed_listener.obj,
};

static void hcache_empty(struct thread *t, int i)
{
    t->ipc.hc[i] = (struct ipc_hcache){ .handle = 0, .obj = hcache_stand_in[i] };
}

void ipc_thread_init(struct thread *t)
{
    t->ipc_fast_off = !ipc_fastpath_on;
    list_node_init(&t->ipc.link);
    t->ipc.rport_handle = KS_HANDLE_NONE;
    for (int i = 0; i < IPC_HC_COUNT; i++)
        hcache_empty(t, i);
}

void handle_cache_forget(const struct handle_table *table, uint32_t slot)
{
    struct process *owner = table->owner;
    ASSERT(owner->handles == table);    /* process_create and process_exec set it */
    LIST_FOR_EACH(n, tmp, &owner->threads) {
        struct thread *t = LIST_ENTRY(n, struct thread, proc_link);
        for (int i = 0; i < IPC_HC_COUNT; i++)
            if (t->ipc.hc[i].handle && (t->ipc.hc[i].handle & (KS_HANDLE_MAX - 1)) == slot)
                hcache_empty(t, i);
    }
}

void ipc_thread_exit(struct thread *t)
{
    struct reply_port *rp = t->ipc.rport;
    /* The idle reply port the kernel made for this thread's receives goes with it. */
    if (rp && rp->state != REPLY_ARMED && t->proc && t->proc->handles)
        handle_close(t->proc->handles, t->ipc.rport_handle);
}

void ipc_thread_release(struct thread *t)
{
    drop_outgoing_handles(&t->ipc);
    if (t->ipc.rport) {                 /* (an armed one, whose handle lives on) */
        t->ipc.rport->owner = NULL;
        object_put(&t->ipc.rport->obj);
    }
    t->ipc.rport = NULL;
}

void ipc_thread_exec(struct thread *t)
{
    ipc_thread_exit(t);
    ipc_thread_release(t);
    ipc_thread_init(t);
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

