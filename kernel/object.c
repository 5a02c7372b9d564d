/*
 * kernel/object.c - reference counting shared by all kernel objects.
 */
#include <stddef.h>
#include "object.h"

uint64_t object_live;

void object_put_last(struct object *o)
{
    BUG_ON(o->refs == 0);
    o->refs = 0;
    object_live--;
    o->ops->destroy(o);
}

uint64_t object_count(void)
{
    return object_live;
}
