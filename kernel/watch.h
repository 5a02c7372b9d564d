/*
 * kernel/watch.h - readiness watches: an object that can become ready (a pipe
 * end today; KS_WATCH_* in include/kestrel/syscall.h) keeps a list of
 * listeners that asked to be told, and posts each a notification
 * (kernel/ipc.h) when it becomes ready for what that listener asked. This is
 * how poll waits for many descriptors with one receive: every descriptor
 * reports to the poller's listener, as an interrupt does.
 *
 * A watch is one-shot: it fires once, then stays unarmed until armed again.
 * One record per (object, listener), made at the first arm (that is the only
 * allocation: firing needs none); records go when the listener's last handle
 * closes or the object goes.
 */
#ifndef KERNEL_WATCH_H
#define KERNEL_WATCH_H

#include <stdint.h>
#include "list.h"

struct account;
struct listener;

struct watch_list {
    struct list records;
};

static inline void watch_list_init(struct watch_list *wl) { list_init(&wl->records); }
static inline int watch_list_empty(const struct watch_list *wl) { return list_empty(&wl->records); }

/*
 * Arm l's watch on the object wl belongs to, for `events`, to post userdata
 * and the events that happened (a record charged to a, made if l has none
 * here yet). 0 or KS_ERR_NO_MEMORY. The caller checks readiness first: a watch
 * is for what has not happened yet.
 */
long watch_arm(struct watch_list *wl, struct account *a, struct listener *l, uint64_t userdata,
               uint32_t events);

/* The object is now ready for `ready`: fire every armed watch that asked for any of it. */
void watch_fire(struct watch_list *wl, uint32_t ready);

/* The object is going: drop every record (pending notifications withdrawn). */
void watch_list_release(struct watch_list *wl);

#endif
