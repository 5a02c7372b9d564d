/*
 * kernel/watch.c - readiness watches (see watch.h).
 */
#include <kestrel/errors.h>
#include "account.h"
#include "ipc.h"
#include "watch.h"

struct watch_record {
    struct list_node link;          /* in the object's watch_list */
    struct listener *listener;      /* a reference */
    struct ipc_notification note;   /* word: the events that happened */
    struct ipc_close_hook on_close;
    uint32_t events;                /* armed for these; 0: unarmed */
    struct account *acct;
};

static void record_free(struct watch_record *w)
{
    list_remove(&w->link);
    ipc_listener_unwatch(&w->on_close);
    ipc_notification_cancel(w->listener, &w->note);
    object_put(&w->listener->obj);
    account_kfree(w->acct, w);
}

/* The listener's last handle went: nobody will receive what this watch posts. */
static void listener_closed(struct ipc_close_hook *h, struct listener *l)
{
    record_free((struct watch_record *)((char *)h - __builtin_offsetof(struct watch_record, on_close)));
}

long watch_arm(struct watch_list *wl, struct account *a, struct listener *l, uint64_t userdata,
               uint32_t events)
{
    struct watch_record *w = NULL;
    LIST_FOR_EACH(n, tmp, &wl->records) {
        struct watch_record *x = LIST_ENTRY(n, struct watch_record, link);
        if (x->listener == l)
            w = x;
    }
    if (!w) {
        if (!(w = account_kzalloc(a, sizeof *w)))
            return KS_ERR_NO_MEMORY;
        w->acct = a;
        object_get(&l->obj);
        w->listener = l;
        ipc_notification_init(&w->note);
        list_node_init(&w->on_close.link);
        w->on_close.fn = listener_closed;
        ipc_listener_watch(l, &w->on_close);
        list_push_back(&wl->records, &w->link);
    }
    w->note.userdata = userdata;
    w->events |= events;                /* two descriptors of one object in one poll: both */
    return 0;
}

void watch_fire(struct watch_list *wl, uint32_t ready)
{
    LIST_FOR_EACH(n, tmp, &wl->records) {
        struct watch_record *w = LIST_ENTRY(n, struct watch_record, link);
        if (!(w->events & ready))
            continue;
        w->note.word = ready;
        w->events = 0;
        ipc_notify(w->listener, &w->note);
    }
}

void watch_list_release(struct watch_list *wl)
{
    LIST_FOR_EACH(n, tmp, &wl->records)
        record_free(LIST_ENTRY(n, struct watch_record, link));
}
