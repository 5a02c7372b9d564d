/*
 * kernel/handle.c - handle tables (see handle.h).
 */
#include <kestrel/errors.h>
#include "account.h"
#include "debug.h"
#include "handle.h"
#include "heap.h"
#include "string.h"

#define SLOT_BITS 8
#define GEN_LIMIT (1u << (31 - SLOT_BITS))      /* keeps handle values positive */

_Static_assert(KS_HANDLE_MAX == 1 << SLOT_BITS, "slot bits match the table size");

struct handle_table *handle_table_create(struct account *a)
{
    struct handle_table *t = account_kzalloc(a, sizeof *t);
    if (!t)
        return NULL;
    t->acct = a;
    for (int i = 0; i < KS_HANDLE_MAX; i++)
        t->slots[i].gen = 1;
    return t;
}

/* Empty slot e (a new generation); its object and handle count go to the caller. */
static struct object *unlink_entry(struct handle_entry *e)
{
    struct object *o = e->obj;
    e->obj = NULL;
    e->rights = 0;
    e->gen = e->gen + 1 < GEN_LIMIT ? e->gen + 1 : 1;
    return o;
}

/*
 * Slot e of t is being emptied while its owner's threads run: forget it in
 * their IPC handle caches if one may hold it (its bit in `cached`). A table
 * being destroyed needs none of this (no thread uses it again), and so
 * handle_table_destroy's drops do not call it.
 */
static void forget_cached(struct handle_table *t, const struct handle_entry *e)
{
    uint32_t i = (uint32_t)(e - t->slots);
    uint64_t bit = 1ull << (i % 64);
    if (t->cached[i / 64] & bit) {
        t->cached[i / 64] &= ~bit;
        if (t->owner)
            handle_cache_forget(t, i);
    }
}

void handle_release_taken(struct object *o)
{
    ASSERT(o->handles > 0);             /* one handle more released than made */
    uint64_t left = --o->handles;
    if (left == 0 && o->ops->on_last_handle)
        o->ops->on_last_handle(o);
    else if (left == 1 && o->ops->on_one_handle)
        o->ops->on_one_handle(o);
    object_put(o);
}

static void drop(struct handle_entry *e)
{
    handle_release_taken(unlink_entry(e));
}

static struct handle_table *dying;     /* tables waiting to be emptied */
static int destroying;

void handle_table_destroy(struct handle_table *t)
{
    t->next_dying = dying;
    dying = t;
    if (destroying)
        return;                 /* the outermost call empties it */
    destroying = 1;
    while ((t = dying) != NULL) {
        dying = t->next_dying;
        for (int i = 0; i < KS_HANDLE_MAX; i++)
            if (t->slots[i].obj)
                drop(&t->slots[i]);
        account_kfree(t->acct, t);
    }
    destroying = 0;
}

/*
 * Put o in the lowest free slot of t (searched from first_free, below which
 * none is free); with `counted`, the caller's reference and handle count go
 * with it.
 */
static ks_handle_t install(struct handle_table *t, struct object *o, uint32_t rights, int counted)
{
    for (uint32_t i = t->first_free; i < KS_HANDLE_MAX; i++) {
        struct handle_entry *e = &t->slots[i];
        if (e->obj)
            continue;
        t->first_free = i + 1;
        if (!counted) {
            object_get(o);
            o->handles++;
        }
        e->obj = o;
        e->rights = rights;
        t->used++;
        return (ks_handle_t)(e->gen << SLOT_BITS | (uint32_t)i);
    }
    t->first_free = KS_HANDLE_MAX;
    return KS_ERR_NO_HANDLES;
}

void handle_table_clone(struct handle_table *dst, const struct handle_table *src, uint32_t skip_type)
{
    for (int i = 0; i < KS_HANDLE_MAX; i++) {
        const struct handle_entry *s = &src->slots[i];
        struct handle_entry *d = &dst->slots[i];
        d->gen = s->gen;                /* the same values, free slots' next ones too */
        if (!s->obj || s->obj->type == skip_type)
            continue;
        object_get(s->obj);
        s->obj->handles++;
        d->obj = s->obj;
        d->rights = s->rights;
        dst->used++;
    }
}

ks_handle_t handle_install(struct handle_table *t, struct object *o, uint32_t rights)
{
    return install(t, o, rights, 0);
}

ks_handle_t handle_install_taken(struct handle_table *t, struct object *o, uint32_t rights)
{
    return install(t, o, rights, 1);
}

static struct handle_entry *entry_of(struct handle_table *t, ks_handle_t h)
{
    if (h < (1 << SLOT_BITS))
        return NULL;
    struct handle_entry *e = &t->slots[(uint32_t)h & (KS_HANDLE_MAX - 1)];
    if (!e->obj || e->gen != (uint32_t)h >> SLOT_BITS)
        return NULL;
    return e;
}

int handle_lookup(struct handle_table *t, ks_handle_t h, uint32_t type, uint32_t rights,
                  struct object **out, uint32_t *rights_out)
{
    struct handle_entry *e = entry_of(t, h);
    if (!e)
        return KS_ERR_BAD_HANDLE;
    if (type && e->obj->type != type)
        return KS_ERR_WRONG_TYPE;
    if ((e->rights & rights) != rights)
        return KS_ERR_ACCESS;
    object_get(e->obj);
    *out = e->obj;
    if (rights_out)
        *rights_out = e->rights;
    return 0;
}

/* Slot e of t is about to be emptied: one handle fewer, and install's search may have to start there. */
static void slot_emptied(struct handle_table *t, struct handle_entry *e)
{
    uint32_t i = (uint32_t)(e - t->slots);
    t->used--;
    if (i < t->first_free)
        t->first_free = i;
}

int handle_take(struct handle_table *t, ks_handle_t h, struct object **out, uint32_t *rights)
{
    struct handle_entry *e = entry_of(t, h);
    if (!e)
        return KS_ERR_BAD_HANDLE;
    *rights = e->rights;
    slot_emptied(t, e);
    forget_cached(t, e);
    *out = unlink_entry(e);
    return 0;
}

int handle_close(struct handle_table *t, ks_handle_t h)
{
    struct handle_entry *e = entry_of(t, h);
    if (!e)
        return KS_ERR_BAD_HANDLE;
    slot_emptied(t, e);
    forget_cached(t, e);
    drop(e);
    return 0;
}
