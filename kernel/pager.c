/*
 * kernel/pager.c - paged memobjs: requests, waits, supplied and failed pages,
 * and the pager's death (see pager.h).
 */
#include <arch/memlayout.h>
#include <kestrel/errors.h>
#include <kestrel/syscall.h>
#include "account.h"
#include "page_alloc.h"
#include "pager.h"
#include "radix.h"
#include "sched.h"
#include "string.h"
#include "trace.h"
#include "uaccess.h"
#include "vm.h"

static struct list all_pagers = LIST_INIT(all_pagers);     /* every pager, for pager_reclaim */

/* The pager's listener lost its last handle: every wait ends, every later request fails. */
static void pager_gone(struct ipc_close_hook *h, struct listener *l)
{
    struct pager *pg = (struct pager *)((char *)h - __builtin_offsetof(struct pager, on_close));
    ipc_listener_unwatch(h);
    ipc_notification_cancel(l, &pg->note);
    ipc_notification_cancel(l, &pg->resized);
    ipc_notification_cancel(l, &pg->clean);
    ipc_notification_cancel(l, &pg->unused);
    pg->l = NULL;
    pg->npending = 0;
    object_put(&l->obj);
    wake_all(&pg->waiters, 0);
}

long pager_attach(struct memobj *mo, struct listener *l, uint64_t userdata)
{
    struct pager *pg = account_kzalloc(account_of(&mo->obj), sizeof *pg);
    if (!pg)
        return KS_ERR_NO_MEMORY;
    object_get(&l->obj);
    pg->l = l;
    ipc_notification_init(&pg->note);
    pg->note.userdata = userdata;
    pg->note.word = KS_PAGER_NOTE;
    ipc_notification_init(&pg->resized);
    pg->resized.userdata = userdata;
    pg->resized.word = KS_PAGER_NOTE_SIZE;
    ipc_notification_init(&pg->clean);
    pg->clean.userdata = userdata;
    pg->clean.word = KS_PAGER_NOTE_CLEAN;
    ipc_notification_init(&pg->unused);
    pg->unused.userdata = userdata;
    pg->unused.word = KS_PAGER_NOTE_UNUSED;
    list_node_init(&pg->on_close.link);
    pg->on_close.fn = pager_gone;
    wait_queue_init(&pg->waiters);
    pg->limit = (mo->size + PAGE_SIZE - 1) >> PAGE_SHIFT;
    pg->low_size = mo->size;
    pg->mo = mo;
    list_push_back(&all_pagers, &pg->all_link);
    ipc_listener_watch(l, &pg->on_close);
    mo->pager = pg;
    return 0;
}

void pager_detach(struct memobj *mo)
{
    struct pager *pg = mo->pager;
    if (!pg)
        return;
    if (pg->l) {
        ipc_listener_unwatch(&pg->on_close);
        ipc_notification_cancel(pg->l, &pg->note);
        ipc_notification_cancel(pg->l, &pg->resized);
        ipc_notification_cancel(pg->l, &pg->clean);
        ipc_notification_cancel(pg->l, &pg->unused);
        object_put(&pg->l->obj);
    }
    list_remove(&pg->all_link);
    account_kfree(account_of(&mo->obj), pg);
    mo->pager = NULL;
}

long pager_users(struct memobj *mo, int notify)
{
    long n = (long)(mo->obj.handles - 1 + mo->views);
    LIST_FOR_EACH(l, tmp, &mo->mappings)
        n++;
    if (notify)
        mo->pager->unused_armed = n > 0;
    return n;
}

void pager_unused(struct memobj *mo)
{
    struct pager *pg = mo->pager;
    if (!pg->unused_armed || !pg->l)
        return;
    pg->unused_armed = 0;
    ipc_notify(pg->l, &pg->unused);
}

static int has_failed(const struct pager *pg, uint64_t index)
{
    if (pg->all_failed)
        return 1;
    for (uint32_t i = 0; i < pg->nfailed; i++)
        if (index - pg->failed[i].first < pg->failed[i].count)
            return 1;
    return 0;
}

static int is_pending(const struct pager *pg, uint64_t index)
{
    for (uint32_t i = 0; i < pg->npending; i++)
        if (pg->pending[i] == index)
            return 1;
    return 0;
}

/* Take the requests for pages [first, first + count) off the list. */
static void unlist(struct pager *pg, uint64_t first, uint64_t count)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < pg->npending; i++)
        if (pg->pending[i] - first >= count)
            pg->pending[kept++] = pg->pending[i];
    pg->npending = kept;
}

long pager_request(struct memobj *mo, uint64_t index)
{
    struct pager *pg = mo->pager;
    if (!pg->l || has_failed(pg, index))
        return KS_ERR_IO;
    if (!is_pending(pg, index) && pg->npending < PAGER_PENDING_MAX) {
        pg->pending[pg->npending++] = index;    /* (a full list: asked again after a supply) */
        trace_event(TR_PAGER_REQUEST, index, pg->note.userdata, 0, 0);
        ipc_notify(pg->l, &pg->note);   /* only for a new request: waking waiters re-ask quietly */
    }
    return KS_ERR_PAGER_WAIT;
}

long pager_wait(struct memobj *mo, uint64_t index)
{
    for (;;) {
        if (!pager_backs(mo, index) || memobj_lookup(mo, index))
            return 0;
        long r = pager_request(mo, index);
        if (r != KS_ERR_PAGER_WAIT)
            return r;
        if (wait_on(&mo->pager->waiters, 1) == KS_ERR_INTERRUPTED)
            return KS_ERR_INTERRUPTED;
    }
}

void pager_resized(struct memobj *mo)
{
    if (mo->pager && mo->pager->l)
        ipc_notify(mo->pager->l, &mo->pager->resized);
}

void pager_truncated(struct memobj *mo, uint64_t size)
{
    struct pager *pg = mo->pager;
    uint64_t pages = (size + PAGE_SIZE - 1) >> PAGE_SHIFT;
    pager_resized(mo);
    if (pg && size < pg->low_size)
        pg->low_size = size;
    if (!pg || pages >= pg->limit)
        return;
    pg->limit = pages;
    unlist(pg, pages, UINT64_MAX - pages);
    wake_all(&pg->waiters, 0);          /* waiters past the end find nothing to wait for */
}

long pager_low_size(struct memobj *mo)
{
    uint64_t low = mo->pager->low_size;
    mo->pager->low_size = mo->size;
    return (long)low;
}

long pager_requests(struct memobj *mo, uintptr_t out, uint64_t max)
{
    struct pager *pg = mo->pager;
    uint64_t n = pg->npending < max ? pg->npending : max;
    if (n && copy_to_user_nowait(out, pg->pending, n * sizeof pg->pending[0])) {
        uaccess_miss_forget();
        return KS_ERR_FAULT;
    }
    return (long)n;
}

/* Bytes of page index past the memobj's end read as zeros, whatever the pager sent. */
static void zero_past_end(const struct memobj *mo, uint64_t index, uint8_t *page)
{
    uint64_t start = index << PAGE_SHIFT;
    if (mo->size < start + PAGE_SIZE)
        memset(page + (mo->size > start ? mo->size - start : 0), 0,
               PAGE_SIZE - (mo->size > start ? mo->size - start : 0));
}

static int evict_page(struct memobj *mo, uint64_t index);

/*
 * Pages [first, first + count) were supplied: failed ranges inside it are
 * forgotten, and ones that overlap an end are cut back, so that a page the
 * pager failed and supplied later (fsd, after a moment without memory) is not
 * failed again when it is evicted. (A range the supply falls strictly inside
 * stays whole.)
 */
static void unfail(struct pager *pg, uint64_t first, uint64_t count)
{
    uint64_t end = first + count;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < pg->nfailed; i++) {
        uint64_t f = pg->failed[i].first, e = f + pg->failed[i].count;
        if (f >= first && e <= end)
            continue;                           /* all supplied */
        if (f < first && e > first && e <= end)
            e = first;                          /* its tail supplied */
        else if (f >= first && f < end && e > end)
            f = end;                            /* its head supplied */
        pg->failed[kept].first = f;
        pg->failed[kept++].count = e - f;
    }
    pg->nfailed = kept;
}

/*
 * Evict up to PAGER_RECLAIM_BATCH clean pages of mo itself, from where its
 * reclaim stopped last, not those of [first, first + count) being supplied:
 * pages freed. What an allocation failed for may be mo's account's limit,
 * which only pages charged to it can help.
 */
static uint64_t reclaim_own(struct memobj *mo, uint64_t first, uint64_t count)
{
    struct pager *pg = mo->pager;
    uint64_t before = page_free_count(), evicted = 0;
    int dirty = 0;
    for (uint64_t looked = 0; looked < pg->limit && looked < PAGER_RECLAIM_LOOK && evicted < PAGER_RECLAIM_BATCH;
         looked++) {
        if (pg->reclaim_next >= pg->limit)
            pg->reclaim_next = 0;
        uint64_t i = pg->reclaim_next++;
        int r = i - first >= count ? evict_page(mo, i) : 0;
        evicted += r > 0;
        dirty |= r < 0;
    }
    if (dirty && pg->l)
        ipc_notify(pg->l, &pg->clean);          /* its dirty pages could go once written back */
    return page_free_count() > before ? page_free_count() - before : 0;
}

long pager_supply(struct memobj *mo, uint64_t first, uintptr_t buf, uint64_t count)
{
    struct pager *pg = mo->pager;
    if (count > PAGER_SUPPLY_MAX || count > pg->limit || first > pg->limit - count)
        return KS_ERR_RANGE;
    long done = 0;
    uint64_t covered = 0;               /* pages looked at: installed, or there already */
    if (page_free_count() < PAGER_FREE_LOW)     /* file pages never take the last free memory */
        pager_reclaim(PAGER_RECLAIM_BATCH, mo, first, count);
    for (uint64_t i = 0; i < count; i++, covered = i) {
        if (memobj_lookup(mo, first + i))
            continue;                   /* present already: left as it is */
        void *page = account_page_alloc(account_of(&mo->obj), 0, 0);
        if (!page && reclaim_own(mo, first, count))    /* (over its account's limit, say) */
            page = account_page_alloc(account_of(&mo->obj), 0, 0);
        if (!page && pager_reclaim(PAGER_RECLAIM_BATCH, mo, first, count))
            page = account_page_alloc(account_of(&mo->obj), 0, 0);
        if (!page) {
            done = done ? done : KS_ERR_NO_MEMORY;
            break;
        }
        long err = copy_from_user_nowait(page, buf + i * PAGE_SIZE, PAGE_SIZE) != 0 ? KS_ERR_FAULT : 0;
        if (err)
            uaccess_miss_forget();      /* (a pager supplying from a page of its own it lacks) */
        if (!err) {
            zero_past_end(mo, first + i, page);
            page_flag_set(page, PAGE_DIRTY | PAGE_ACCESSED, 0);    /* as the pager has it */
            err = radix_insert(&mo->pages, first + i, page) != 0 ? KS_ERR_NO_MEMORY : 0;
            /*
             * The page fitted the account but its radix node did not: evict
             * clean pages (this memobj's first, its account's), or if they are
             * dirty have their pagers asked to clean them, or every later try
             * fails the same (a pager that never hears KS_PAGER_NOTE_CLEAN, a
             * writer waiting for ever; or fsd at its limit while a private
             * mapping holds every page of the file it supplies).
             */
            if (err && reclaim_own(mo, first, count))
                err = radix_insert(&mo->pages, first + i, page) != 0 ? KS_ERR_NO_MEMORY : 0;
            if (err && pager_reclaim(PAGER_RECLAIM_BATCH, mo, first, count))
                err = radix_insert(&mo->pages, first + i, page) != 0 ? KS_ERR_NO_MEMORY : 0;
        }
        if (err) {
            page_unref(page);
            done = done ? done : err;
            break;
        }
        done++;
    }
    if (covered > 0)
        unfail(pg, first, covered);
    unlist(pg, first, count);
    wake_all(&pg->waiters, 0);
    return done;
}

long pager_supply_from(struct memobj *mo, uint64_t first, struct memobj *src, uint64_t src_first,
                       uint64_t count)
{
    struct pager *pg = mo->pager;
    if (count > PAGER_SUPPLY_MAX || count > pg->limit || first > pg->limit - count ||
        src_first + count < src_first)
        return KS_ERR_RANGE;
    if (src == mo || memobj_is_device(src) || src->pager)
        return KS_ERR_INVALID;          /* (a paged source's dirty marks are its own pager's) */
    long done = 0, err = 0;
    uint64_t i = 0;
    for (; i < count; i++) {
        if (memobj_lookup(mo, first + i))
            continue;                   /* present already: left as it is */
        void *page = memobj_lookup(src, src_first + i), *mine = page;
        if (!page) {
            err = KS_ERR_RANGE;         /* src has no such page: the supply stops there */
            break;
        }
        if (((first + i + 1) << PAGE_SHIFT) > mo->size) {
            /* The last page passes the size: a copy, whose tail reads as zeros. */
            if (!(mine = account_page_alloc(account_of(&mo->obj), 0, 0))) {
                err = KS_ERR_NO_MEMORY;
                break;
            }
            memcpy(mine, page, PAGE_SIZE);
            zero_past_end(mo, first + i, mine);
        } else if (page_ref(page)) {
            err = KS_ERR_NO_MEMORY;
            break;
        }
        if (radix_insert(&mo->pages, first + i, mine) != 0) {
            page_unref(mine);
            err = KS_ERR_NO_MEMORY;
            break;
        }
        page_flag_set(mine, PAGE_DIRTY | PAGE_ACCESSED, 0);  /* (the source is not paged: mo's marks) */
        done++;
    }
    if (i > 0)
        unfail(pg, first, i);
    unlist(pg, first, count);
    wake_all(&pg->waiters, 0);
    return done ? done : err;
}

long pager_fail(struct memobj *mo, uint64_t first, uint64_t count)
{
    struct pager *pg = mo->pager;
    if (count == 0 || first + count < first)
        return KS_ERR_RANGE;
    if (pg->nfailed < PAGER_FAILED_MAX) {
        pg->failed[pg->nfailed].first = first;
        pg->failed[pg->nfailed++].count = count;
    } else {
        pg->all_failed = 1;
    }
    unlist(pg, first, count);
    wake_all(&pg->waiters, 0);
    return 0;
}

/*
 * Which present pages of [first, first + count) (count <= 256) have `flag`:
 * bits into out[4] (the caller's), how many; KS_ERR_RANGE or KS_ERR_FAULT.
 */
static long flag_map(struct memobj *mo, uint64_t first, uint64_t count, uint16_t flag, uint64_t bits[4],
                     uintptr_t out)
{
    long n = 0;
    bits[0] = bits[1] = bits[2] = bits[3] = 0;
    if (count > 256 || first + count < first)
        return KS_ERR_RANGE;
    for (uint64_t i = 0; i < count; i++) {
        void *page = first + i <= MEMOBJ_MAX_SIZE / PAGE_SIZE ? memobj_lookup(mo, first + i) : NULL;
        if (page && page_flag(page, flag)) {    /* (past the limit too: grown since) */
            bits[i / 64] |= 1ull << (i % 64);
            n++;
        }
    }
    if (copy_to_user_nowait(out, bits, 4 * sizeof bits[0])) {
        uaccess_miss_forget();
        return KS_ERR_FAULT;
    }
    return n;
}

long pager_dirty(struct memobj *mo, uint64_t first, uint64_t count, uintptr_t out)
{
    uint64_t bits[4];
    return flag_map(mo, first, count, PAGE_DIRTY, bits, out);
}

static void unmap_page(struct memobj *mo, uint64_t index);

long pager_accessed_query(struct memobj *mo, uint64_t first, uint64_t count, int reset, uintptr_t out)
{
    uint64_t bits[4];
    long n = flag_map(mo, first, count, PAGE_ACCESSED, bits, out);
    if (n < 0)
        return n;               /* (nothing reset: the answer was not given) */
    for (uint64_t i = 0; reset && i < count; i++) {
        if (!(bits[i / 64] >> (i % 64) & 1))
            continue;
        page_flag_set(memobj_lookup(mo, first + i), PAGE_ACCESSED, 0);
        unmap_page(mo, first + i);      /* (a shared mapping's next touch faults, and marks it) */
    }
    return n;
}

long pager_redirty(struct memobj *mo, uint64_t first, uint64_t count)
{
    long n = 0;
    if (count > 256 || first + count < first)
        return KS_ERR_RANGE;
    for (uint64_t i = 0; i < count; i++) {
        void *page = first + i <= MEMOBJ_MAX_SIZE / PAGE_SIZE ? memobj_lookup(mo, first + i) : NULL;
        if (page) {
            page_flag_set(page, PAGE_DIRTY, 1);     /* (not an access) */
            n++;
        }
    }
    return n;
}

/* Take page index out of mo's shared mappings (the next touch maps it again, and faults to write). */
static void unmap_page(struct memobj *mo, uint64_t index)
{
    vm_unmap_memobj_range(mo, index, 1);
}

long pager_writeback(struct memobj *mo, uint64_t index, uintptr_t buf)
{
    void *page = index <= MEMOBJ_MAX_SIZE / PAGE_SIZE ? memobj_lookup(mo, index) : NULL;
    if (!page || !page_flag(page, PAGE_DIRTY))
        return 0;
    /*
     * Copy and clean with nothing in between (no wait: the copy never sleeps),
     * and write-protect: a write after this makes the page dirty again.
     */
    if (copy_to_user_nowait(buf, page, PAGE_SIZE)) {
        uaccess_miss_forget();
        return KS_ERR_FAULT;
    }
    page_flag_set(page, PAGE_DIRTY, 0);
    unmap_page(mo, index);
    return 1;
}

/* Take clean page index out of mo: 1 if it was there to take. */
static int evict_page(struct memobj *mo, uint64_t index)
{
    void *page = memobj_lookup(mo, index);
    if (!page)
        return 0;
    if (page_flag(page, PAGE_DIRTY))
        return -1;
    unmap_page(mo, index);
    if (mo->hint_page == page)
        mo->hint_page = NULL;
    radix_remove(&mo->pages, index);
    page_unref(page);       /* (a private mapping that still maps it keeps it until it lets go) */
    return 1;
}

long pager_evict(struct memobj *mo, uint64_t first, uint64_t count)
{
    if (count > 256 || first + count < first)
        return KS_ERR_RANGE;
    uint64_t end = first + count > mo->pager->limit ? mo->pager->limit : first + count;
    long n = 0;
    for (uint64_t i = first; i < end; i++)
        n += evict_page(mo, i) > 0;
    return n;
}

uint64_t pager_reclaim(uint64_t want, struct memobj *skip, uint64_t skip_first, uint64_t skip_count)
{
    uint64_t before = page_free_count(), budget = PAGER_RECLAIM_LOOK;
    /*
     * The pager first in line looks at up to a quarter of the budget from where
     * it stopped last, then goes to the back of the line, whatever it gave: a
     * huge memobj with few pages can use no more than its share, and the next
     * pager is looked at in the same call.
     */
    while (budget && page_free_count() - before < want && !list_empty(&all_pagers)) {
        struct pager *pg = LIST_ENTRY(all_pagers.head.next, struct pager, all_link);
        uint64_t share = PAGER_RECLAIM_LOOK / 4 < budget ? PAGER_RECLAIM_LOOK / 4 : budget;
        int dirty = 0;
        for (uint64_t looked = 0; looked < pg->limit && looked < share && page_free_count() - before < want;
             looked++, budget--) {
            if (pg->reclaim_next >= pg->limit)
                pg->reclaim_next = 0;
            uint64_t i = pg->reclaim_next++;
            if ((pg->mo != skip || i - skip_first >= skip_count) && evict_page(pg->mo, i) < 0)
                dirty = 1;
        }
        if (dirty && pg->l)
            ipc_notify(pg->l, &pg->clean);      /* ask it to write them back: then they can go */
        if (pg->limit == 0)
            budget = budget > share ? budget - share : 0;    /* (an empty one costs its share too) */
        list_remove(&pg->all_link);
        list_push_back(&all_pagers, &pg->all_link);
    }
    return page_free_count() > before ? page_free_count() - before : 0;
}
