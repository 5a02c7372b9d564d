/*
 * kernel/object.c - reference counting shared by all kernel objects.
 */
#include <stddef.h>
#include "object.h"

static uint64_t live_objects;

void object_init(struct object *o, uint32_t type, const struct object_ops *ops)
{
    o->type = type;
    o->refs = 1;
    o->handles = 0;
    o->ops = ops;
    o->acct_id = 0;
    live_objects++;
}

void object_put_last(struct object *o)
{
    BUG_ON(o->refs == 0);
    o->refs = 0;
    live_objects--;
    o->ops->destroy(o);
}

uint64_t object_count(void)
{
    return live_objects;
}
