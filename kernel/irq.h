/*
 * kernel/irq.h - interrupt objects: a device interrupt delivered to user space
 * as a notification on a listener port.
 *
 * The kernel makes one irq object per interrupt line it hands out (today the
 * console UART's) and keeps it for good. A handle holder binds it to a
 * listener with a userdata value. When the line fires, the kernel masks it at
 * the interrupt controller and posts one notification (kernel/ipc.h: a0 =
 * KS_HANDLE_NONE, a1 = userdata, MR0 = the line) to the listener; more firings
 * coalesce into that one. The line stays masked until the handler acknowledges
 * it (irq_ack), so a level-triggered device that is still asserting cannot
 * storm the kernel.
 *
 * References: a bound irq holds a reference on its listener. It lets go when
 * it is rebound or unbound, when the listener's last handle closes (its
 * ipc_close_hook, which IPC calls without knowing about irqs), and when the irq's own last handle closes; each of
 * these masks the line too, so nothing fires into a listener nobody serves.
 */
#ifndef KERNEL_IRQ_H
#define KERNEL_IRQ_H

#include <stdint.h>
#include "ipc.h"
#include "object.h"

struct platform;

struct irq {
    struct object obj;
    uint32_t line;                  /* the controller's source number */
    struct listener *listener;      /* bound to (holds a reference), or NULL */
    struct ipc_notification note;   /* userdata from the bind, word = line */
    struct ipc_close_hook on_close; /* while bound: the listener's last handle unbinds it */
};

/* Set up the interrupt controller (every line masked). Call once at boot; without a
   controller every later irq_get finds no line. */
void irq_init(const struct platform *plat);

/*
 * The kernel's irq object for `line`, made on first use and kept for good (the
 * pointer is borrowed: the kernel's table holds the reference). NULL if the
 * controller has no such line, IRQ_MAX objects exist already, or out of memory.
 */
struct irq *irq_get(uint32_t line);

/* Deliver an interrupt on `line` (from the arch's handler, between claim and complete):
   mask the line, post the notification if bound. */
void irq_dispatch(uint32_t line);

/*
 * Bind q to listener l with `userdata` (taking a reference on l), or unbind it
 * (l NULL). Any earlier binding ends first (its pending notification dropped);
 * the line is then unmasked if bound, masked if not.
 */
void irq_bind(struct irq *q, struct listener *l, uint64_t userdata);

/* Unmask q's line after a notification was handled. 0, or KS_ERR_BAD_STATE if q is unbound. */
long irq_ack(struct irq *q);

static inline struct irq *irq_from_object(struct object *o)
{
    return OBJECT_CAST(o, KS_OBJ_IRQ, struct irq, obj);
}

#endif
