/*
 * kernel/handle.h - per-process handle tables.
 *
 * A table maps handle values (see <kestrel/handle.h>: slot in the low 8 bits,
 * generation above) to (object, rights). Every syscall resolves handles as
 * handle_lookup does (sys_lookup and the IPC calls inline its common case),
 * checking, in this order: the value names a live slot of
 * the right generation (else KS_ERR_BAD_HANDLE), the object has the expected
 * type (KS_ERR_WRONG_TYPE), the handle has every right asked for (KS_ERR_ACCESS).
 */
#ifndef KERNEL_HANDLE_H
#define KERNEL_HANDLE_H

#include <stddef.h>
#include <stdint.h>
#include <kestrel/handle.h>
#include "object.h"

struct handle_entry {
    struct object *obj;     /* NULL: free slot */
    uint32_t rights;
    uint32_t gen;           /* bumped on every close, so old values go stale */
};

struct account;
struct process;

struct handle_table {
    struct handle_entry slots[KS_HANDLE_MAX];
    uint32_t used;
    uint32_t first_free;                /* no free slot below it: where install's search starts */
    struct account *acct;               /* charged for the table (kernel/account.h) */
    struct handle_table *next_dying;    /* handle_table_destroy's worklist */
    struct process *owner;              /* whose threads use it (NULL: none yet) */
    uint64_t cached[KS_HANDLE_MAX / 64];    /* slots an owner's thread may have in its IPC
                                           handle cache (bit per slot; set by the fast path) */
};

/*
 * Slot `slot` of t (whose owner is set) is being emptied and its bit in
 * `cached` was: forget it in every IPC handle cache of the owner's threads,
 * which trust a cached value without looking at the table (kernel/ipc_port.c).
 */
void handle_cache_forget(const struct handle_table *t, uint32_t slot);

/* How many handles t has room for now. */
static inline uint32_t handle_room(const struct handle_table *t)
{
    return KS_HANDLE_MAX - t->used;
}

/* A new, empty table charged to a, or NULL without memory (or over a's limit). */
struct handle_table *handle_table_create(struct account *a);

/*
 * Close every handle and free the table. Closing a handle can end an object
 * that owns another table (a process holding the last handle to a process
 * ...): such tables are queued and emptied by the outermost call, one after
 * another, so the kernel stack does not grow with the length of the chain.
 */
void handle_table_destroy(struct handle_table *t);

/*
 * Make the empty table dst hold what src holds (fork): every handle at the
 * same value with the same rights (a reference and a handle count each),
 * except those to objects of type skip_type (0: none skipped).
 */
void handle_table_clone(struct handle_table *dst, const struct handle_table *src, uint32_t skip_type);

/* Add a handle to o with `rights`; takes its own reference. Returns it, or KS_ERR_NO_HANDLES. */
ks_handle_t handle_install(struct handle_table *t, struct object *o, uint32_t rights);

/*
 * Resolve h. type 0 accepts any type. On success *out holds the object with a
 * new reference (drop it with object_put) and, if rights_out, the handle's rights.
 */
int handle_lookup(struct handle_table *t, ks_handle_t h, uint32_t type, uint32_t rights,
                  struct object **out, uint32_t *rights_out);

/* The live entry h names in t, or NULL (a pseudo-handle, a free slot, a stale generation). */
static inline const struct handle_entry *handle_entry_of(const struct handle_table *t, ks_handle_t h)
{
    const struct handle_entry *e = &t->slots[(uint32_t)h & (KS_HANDLE_MAX - 1)];
    if (h < KS_HANDLE_MAX || !e->obj || e->gen != (uint32_t)h >> 8)
        return NULL;
    return e;
}

/*
 * handle_lookup's common case inline, without taking a reference: the object
 * if h is live, of `type`, with `rights`, else NULL (then call handle_lookup
 * for the error). The object stays alive only while the caller neither blocks
 * nor returns to user mode (no other thread of the process can run and close
 * the handle until then: one hart, a kernel that is not preempted).
 */
static inline struct object *handle_peek(const struct handle_table *t, ks_handle_t h, uint32_t type,
                                         uint32_t rights)
{
    const struct handle_entry *e = handle_entry_of(t, h);
    if (!e || e->obj->type != type || (e->rights & rights) != rights)
        return NULL;
    return e->obj;
}

/* Remove h from the table (0 or KS_ERR_BAD_HANDLE); drops the handle's reference. */
int handle_close(struct handle_table *t, ks_handle_t h);

/*
 * Moving a handle between tables (IPC): handle_take removes h from t but the
 * handle lives on in flight, still counted in obj->handles (so no "last handle"
 * fires) and still holding its reference, both now the caller's. It ends in
 * another table with handle_install_taken (which consumes both; a negative
 * result leaves them with the caller) or with handle_release_taken.
 */
int handle_take(struct handle_table *t, ks_handle_t h, struct object **out, uint32_t *rights);
ks_handle_t handle_install_taken(struct handle_table *t, struct object *o, uint32_t rights);
void handle_release_taken(struct object *o);

/* Number of open handles. */
static inline uint32_t handle_count(const struct handle_table *t) { return t->used; }

#endif
