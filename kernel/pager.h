/*
 * kernel/pager.h - paged memobjs: memobjs whose pages a user-space server,
 * the pager, supplies on demand (KS_SYS_MEMOBJ_CREATE_PAGED, KS_SYS_PAGER_*).
 *
 * Nothing here waits inside a fault or a copy. A fault or a memobj copy that
 * finds a page the pager has not supplied records a request (pager_request,
 * which notifies the pager's listener) and returns KS_ERR_PAGER_WAIT; the
 * callers that may wait (a user-mode fault in trap_user, the memobj and view
 * system calls) hold a reference on the memobj, call pager_wait, and try again
 * from the start. So a kernel path never sleeps holding a pointer it did not
 * count, and the fault path keeps its promise of never blocking. Kernel copies
 * elsewhere (other system calls' arguments, IPC buffers) fail with
 * KS_ERR_FAULT on such a page, after requesting it.
 */
#ifndef KERNEL_PAGER_H
#define KERNEL_PAGER_H

#include <stdint.h>
#include "ipc.h"
#include "list.h"
#include "memobj.h"
#include "page_alloc.h"
#include "wait.h"

#define KS_ERR_PAGER_WAIT   (-1000)     /* kernel-internal: never returned to user space */
#define PAGER_PENDING_MAX   32          /* requests listed at once (more wait their turn) */
#define PAGER_FAILED_MAX    8           /* failed ranges kept (more: the whole memobj fails) */
#define PAGER_SUPPLY_MAX    256         /* pages one KS_SYS_PAGER_SUPPLY installs (interrupts wait) */

struct pager {
    struct listener *l;                 /* held; NULL once its last handle closed */
    struct ipc_notification note;       /* posted at each new request (coalesces) */
    struct ipc_notification resized;    /* posted when the memobj's size changes (coalesces) */
    struct ipc_notification clean;      /* posted when reclaim met dirty pages (coalesces) */
    struct ipc_notification unused;     /* posted when the memobj's other users are gone, if armed */
    int unused_armed;                   /* KS_USERS_NOTIFY asked for that notice, not yet posted */
    struct ipc_close_hook on_close;
    struct wait_queue waiters;          /* threads waiting for any of its pages */
    uint64_t limit;                     /* pages [0, limit) come from the pager */
    uint64_t pending[PAGER_PENDING_MAX];
    uint32_t npending;
    uint32_t nfailed;
    int all_failed;
    struct { uint64_t first, count; } failed[PAGER_FAILED_MAX];
    struct memobj *mo;                  /* whose pager this is */
    struct list_node all_link;          /* in the list of every pager (pager_reclaim) */
    uint64_t reclaim_next;              /* where pager_reclaim looks next */
    uint64_t low_size;                  /* the least size since the pager last asked (pager_low_size) */
};

/* Make mo (new, empty) paged by listener l with userdata: 0 or KS_ERR_NO_MEMORY. */
long pager_attach(struct memobj *mo, struct listener *l, uint64_t userdata);

/* mo is being destroyed: let go of its pager. */
void pager_detach(struct memobj *mo);

/* 1 if page `index` of mo, when missing, must come from mo's pager. */
static inline int pager_backs(const struct memobj *mo, uint64_t index)
{
    return mo->pager && index < mo->pager->limit;
}

/* Ask for page index (missing, pager_backs): KS_ERR_PAGER_WAIT, or KS_ERR_IO if it failed or the pager is gone. */
long pager_request(struct memobj *mo, uint64_t index);

/*
 * Wait (interruptibly) until page index is there or no longer paged: 0 (try
 * again), KS_ERR_IO, or KS_ERR_INTERRUPTED. The caller holds a reference on mo.
 */
long pager_wait(struct memobj *mo, uint64_t index);

/* mo was truncated to `size` bytes: pages past it are not paged any more; the pager is told. */
void pager_truncated(struct memobj *mo, uint64_t size);

/* mo (paged) grew by a write: the pager is told (KS_PAGER_NOTE_SIZE). */
void pager_resized(struct memobj *mo);

/*
 * KS_SYS_PAGER_USERS: how many handles (the caller's not counted, those in
 * flight in a message counted), views and mappings hold mo; with notify, a
 * one-shot KS_PAGER_NOTE_UNUSED is armed if that is more than 0.
 */
long pager_users(struct memobj *mo, int notify);

/* Nothing but one handle holds mo (paged) now: post KS_PAGER_NOTE_UNUSED if armed (memobj_user_gone). */
void pager_unused(struct memobj *mo);

/* KS_SYS_PAGER_LOW_SIZE: the least size mo had since the last call (or since made); starts over. */
long pager_low_size(struct memobj *mo);

/* KS_SYS_PAGER_REQUESTS, _SUPPLY and _FAIL on mo (the caller checked KS_RIGHT_PAGER). */
long pager_requests(struct memobj *mo, uintptr_t out, uint64_t max);
long pager_supply(struct memobj *mo, uint64_t first, uintptr_t buf, uint64_t count);
long pager_fail(struct memobj *mo, uint64_t first, uint64_t count);

/* KS_SYS_PAGER_SUPPLY_FROM: pages of src (not a device memobj) shared into mo, without a copy. */
long pager_supply_from(struct memobj *mo, uint64_t first, struct memobj *src, uint64_t src_first,
                       uint64_t count);

/* KS_SYS_PAGER_DIRTY, _WRITEBACK and _EVICT on mo (the caller checked KS_RIGHT_PAGER). */
long pager_dirty(struct memobj *mo, uint64_t first, uint64_t count, uintptr_t out);
long pager_writeback(struct memobj *mo, uint64_t index, uintptr_t buf);
long pager_evict(struct memobj *mo, uint64_t first, uint64_t count);

/*
 * KS_SYS_PAGER_ACCESSED: which present pages of [first, first + count) were
 * accessed (bits into out[4]), how many; with reset (after the bits are out),
 * they are not any more, and leave mo's shared mappings so that the next
 * touch there marks them again (a private mapping keeps its page).
 */
long pager_accessed_query(struct memobj *mo, uint64_t first, uint64_t count, int reset, uintptr_t out);

/* KS_SYS_PAGER_REDIRTY: the present pages of [first, first + count) dirty again; how many. */
long pager_redirty(struct memobj *mo, uint64_t first, uint64_t count);

/* Page `page` of mo (paged) was written: dirty until written back, and mo changed. */
static inline void pager_dirtied(struct memobj *mo, void *page)
{
    memobj_note_change(mo);
    page_flag_set(page, PAGE_DIRTY | PAGE_ACCESSED, 1);
}

/* Page `page` of mo (paged) was read, or mapped: accessed (KS_SYS_PAGER_ACCESSED). */
static inline void pager_accessed(void *page)
{
    page_flag_set(page, PAGE_ACCESSED, 1);
}

/*
 * Memory is short: evict up to `want` clean pages of paged memobjs (their
 * pagers can give them again), round-robin over every pager, looking at no
 * more than PAGER_RECLAIM_LOOK pages, and not at pages [skip_first,
 * skip_first + skip_count) of skip (being supplied). Pages freed.
 * Called only where no page pointer is held (a pager's supply, a user-mode
 * fault): never inside a copy.
 */
uint64_t pager_reclaim(uint64_t want, struct memobj *skip, uint64_t skip_first, uint64_t skip_count);

/* Below this many free pages a supply first reclaims PAGER_RECLAIM_BATCH pages. */
#define PAGER_FREE_LOW      512
#define PAGER_RECLAIM_BATCH 64
#define PAGER_RECLAIM_LOOK  4096            /* pages looked at, at most, by one reclaim */

#endif
