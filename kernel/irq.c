/*
 * kernel/irq.c - interrupt objects (see irq.h): the policy half of interrupt
 * delivery. The controller is the architecture's (arch_intc_init and the line
 * masks in <arch/arch.h>; arch/riscv/plic.c on RISC-V), which calls
 * irq_dispatch for each interrupt it claims and completes it afterwards.
 *
 * The kernel is not preemptible and takes interrupts only from user mode and
 * the idle loop, so nothing here races with other kernel code.
 */
#include <arch/arch.h>
#include <kestrel/errors.h>
#include "heap.h"
#include "irq.h"
#include "trace.h"

#define IRQ_MAX 16                      /* irq objects the kernel hands out */

static struct irq *irqs[IRQ_MAX];
static uint32_t nlines;                 /* the controller's highest line; 0: none */

static void irq_unbind(struct irq *q)
{
    arch_irq_line_mask(q->line);
    if (!q->listener)
        return;
    ipc_listener_unwatch(&q->on_close);
    ipc_notification_cancel(q->listener, &q->note);
    object_put(&q->listener->obj);
    q->listener = NULL;
}

/* The listener q is bound to lost its last handle: nobody serves the line now. */
static void irq_listener_closed(struct ipc_close_hook *h, struct listener *l)
{
    irq_unbind((struct irq *)((char *)h - __builtin_offsetof(struct irq, on_close)));
}

/* The last handle went: nobody can acknowledge it any more. */
static void irq_last_handle(struct object *o)
{
    irq_unbind(irq_from_object(o));
}

/* Not reached while the kernel keeps its reference (irqs[]); here for completeness. */
static void irq_destroy(struct object *o)
{
    struct irq *q = irq_from_object(o);
    irq_unbind(q);
    kfree(q);
}

static const struct object_ops irq_ops = {
    .destroy = irq_destroy,
    .on_last_handle = irq_last_handle,
};

void irq_init(const struct platform *plat)
{
    nlines = arch_intc_init(plat);
}

static struct irq *irq_find(uint32_t line)
{
    for (int i = 0; i < IRQ_MAX; i++)
        if (irqs[i] && irqs[i]->line == line)
            return irqs[i];
    return NULL;
}

struct irq *irq_get(uint32_t line)
{
    if (line == 0 || line > nlines)
        return NULL;
    struct irq *q = irq_find(line);
    if (q)
        return q;
    for (int i = 0; i < IRQ_MAX; i++) {
        if (irqs[i])
            continue;
        if (!(q = kzalloc(sizeof *q)))
            return NULL;
        object_init(&q->obj, KS_OBJ_IRQ, &irq_ops);    /* the reference irqs[] keeps */
        q->line = line;
        ipc_notification_init(&q->note);
        q->note.word = line;
        list_node_init(&q->on_close.link);
        q->on_close.fn = irq_listener_closed;
        return irqs[i] = q;
    }
    return NULL;
}

void irq_dispatch(uint32_t line)
{
    struct irq *q = irq_find(line);
    trace_event(TR_IRQ_LINE, line, 0, 0, 0);
    arch_irq_line_mask(line);           /* until irq_ack, or for good if nobody listens */
    if (q && q->listener)
        ipc_notify(q->listener, &q->note);
}

void irq_bind(struct irq *q, struct listener *l, uint64_t userdata)
{
    irq_unbind(q);
    if (!l)
        return;
    object_get(&l->obj);
    q->listener = l;
    q->note.userdata = userdata;
    ipc_listener_watch(l, &q->on_close);
    arch_irq_line_unmask(q->line);
}

long irq_ack(struct irq *q)
{
    if (!q->listener)
        return KS_ERR_BAD_STATE;
    arch_irq_line_unmask(q->line);
    return 0;
}
