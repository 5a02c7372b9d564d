/*
 * kernel/sys_irq.c - system calls on interrupt objects (KS_SYS_IRQ_*): resolve
 * the handles, then call kernel/irq.c. Both calls need MANAGE on the irq;
 * binding needs READ on the listener (the right to receive from it).
 */
#include "irq.h"
#include "syscall.h"

/* Resolve h as an irq with MANAGE: 0 with a reference in *q (the caller puts it), or KS_ERR_*. */
static long with_irq(sysarg_t h, struct irq **q)
{
    struct object *o;
    long r = sys_lookup(h, KS_OBJ_IRQ, KS_RIGHT_MANAGE, &o, NULL);
    if (r == 0)
        *q = irq_from_object(o);
    return r;
}

long sys_irq_bind(sysarg_t irq, sysarg_t listener, sysarg_t userdata)
{
    struct irq *q;
    struct object *lo = NULL;
    long r = with_irq(irq, &q);
    if (r)
        return r;
    if (listener != KS_HANDLE_NONE &&
        (r = sys_lookup(listener, KS_OBJ_LISTENER, KS_RIGHT_READ, &lo, NULL)) != 0) {
        object_put(&q->obj);
        return r;
    }
    irq_bind(q, lo ? listener_from_object(lo) : NULL, userdata);
    if (lo)
        object_put(lo);
    object_put(&q->obj);
    return 0;
}

long sys_irq_ack(sysarg_t irq)
{
    struct irq *q;
    long r = with_irq(irq, &q);
    if (r)
        return r;
    r = irq_ack(q);
    object_put(&q->obj);
    return r;
}
