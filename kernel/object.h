/*
 * kernel/object.h - the header every kernel object starts with.
 *
 * Objects are reference counted. A reference is held by every handle to the
 * object, and by any kernel structure that points at it (a thread's process, a
 * mapping's memobj). `handles` counts the handles alone: when it drops to zero
 * the object's on_last_handle hook runs (where "peer closed" comes from); when
 * refs drops to zero, destroy frees it. Downcasts check the type tag.
 */
#ifndef KERNEL_OBJECT_H
#define KERNEL_OBJECT_H

#include <stdint.h>
#include <kestrel/handle.h>
#include "panic.h"

struct object;
struct account;

struct object_ops {
    void (*destroy)(struct object *o);          /* free it: no references remain */
    void (*on_last_handle)(struct object *o);   /* optional: the last handle was closed */
    void (*on_one_handle)(struct object *o);    /* optional: a handle was closed, one is left */
};

/*
 * The counts are 64 bits so that they cannot wrap: one increment per
 * instruction would take centuries to reach 2^64. (At 32 bits, a loop of
 * system calls leaking one reference each wrapped a live thread's count to
 * zero in about 2^32 calls, and the next lookup freed it.)
 */
struct object {
    uint32_t type;              /* KS_OBJ_* */
    uint32_t acct_id;           /* the account charged for its memory (kernel/account.h:
                                   account_of); 0: the kernel's own */
    uint64_t refs;
    uint64_t handles;
    const struct object_ops *ops;
};

/* Live objects of all types (object_count; object.c's, kept here for the inline object_init). */
extern uint64_t object_live;

/* Initialise the header of a new object with one reference (the creator's), charged to no account. */
static inline void object_init(struct object *o, uint32_t type, const struct object_ops *ops)
{
    o->type = type;
    o->refs = 1;
    o->handles = 0;
    o->ops = ops;
    o->acct_id = 0;
    object_live++;
}

static inline void object_get(struct object *o)
{
    o->refs++;
}

/* object_put's last reference (or a kernel bug: none left): the object is destroyed. */
void object_put_last(struct object *o);

/* Drop a reference; the last one destroys the object. */
static inline void object_put(struct object *o)
{
    if (o->refs <= 1) {
        object_put_last(o);
        return;
    }
    o->refs--;
}

/* Live objects of all types (for leak checks). */
uint64_t object_count(void);

/* Checked downcast: the containing struct, or a panic on a wrong type tag (a kernel bug). */
#define OBJECT_CAST(o, type_tag, T, member) \
    ((T *)object_check((o), (type_tag), __builtin_offsetof(T, member)))

static inline void *object_check(struct object *o, uint32_t type, unsigned long offset)
{
    if (o->type != type)
        panic("object_check: object %p has type %u, expected %u", (void *)o, o->type, type);
    return (char *)o - offset;
}

#endif
