/*
 * arch/riscv/plic.c - the RISC-V Platform-Level Interrupt Controller: the
 * mechanism half of interrupt delivery (kernel/irq.c decides what an interrupt
 * means).
 *
 * Written against the RISC-V PLIC specification (v1.0.0). A source (line) n
 * has a priority word at base + 4n; each context (a hart's privilege level)
 * has enable bits at base + 0x2000 + 0x80 * context, and a threshold and a
 * claim/complete register at base + 0x200000 + 0x1000 * context. This kernel
 * uses one context, the boot hart's supervisor-mode one, which platform.c finds
 * from the DTB (the interrupts-extended entry with cause 9), and maps just the
 * three register pages it needs. Every line starts disabled; an enabled line has
 * priority 1 over a threshold of 0.
 */
#include <arch/arch.h>
#include "kernel/irq.h"
#include "kernel/platform.h"
#include "csr.h"
#include "plic.h"

#define PLIC_PRIORITY       0x0
#define PLIC_ENABLE         0x2000
#define PLIC_ENABLE_STRIDE  0x80
#define PLIC_CONTEXT        0x200000
#define PLIC_CONTEXT_STRIDE 0x1000

static volatile uint32_t *priority;     /* priority[n]: line n */
static volatile uint32_t *enable;       /* this context's enable bits, 32 lines a word */
static volatile uint32_t *context;      /* [0] threshold, [1] claim/complete */
static uint32_t nlines;                 /* lines are 1 .. nlines; 0: no PLIC */

static int line_ok(uint32_t line)
{
    return line >= 1 && line <= nlines;
}

uint32_t arch_intc_init(const struct platform *plat)
{
    uint64_t ctx_off = PLIC_CONTEXT + (uint64_t)PLIC_CONTEXT_STRIDE * plat->plic_context;
    if (!plat->plic_pa || plat->plic_size < ctx_off + 8)
        return 0;
    uint32_t n = plat->plic_ndev;
    priority = arch_map_device(plat->plic_pa + PLIC_PRIORITY, 4ul * (n + 1));
    enable = arch_map_device(plat->plic_pa + PLIC_ENABLE + (uint64_t)PLIC_ENABLE_STRIDE * plat->plic_context,
                             4ul * (n / 32 + 1));
    context = arch_map_device(plat->plic_pa + ctx_off, 8);
    for (uint32_t w = 0; w <= n / 32; w++)
        enable[w] = 0;
    context[0] = 0;                     /* threshold: any priority above 0 interrupts */
    nlines = n;
    csr_set(sie, SIE_SEIE);
    return n;
}

void arch_irq_line_unmask(uint32_t line)
{
    if (!line_ok(line))
        return;
    priority[line] = 1;
    enable[line / 32] |= 1u << (line % 32);
}

void arch_irq_line_mask(uint32_t line)
{
    if (line_ok(line))
        enable[line / 32] &= ~(1u << (line % 32));
}

void plic_interrupt(void)
{
    uint32_t line;
    /* Claim until nothing is pending; irq_dispatch masks each line it is given. */
    while (nlines && (line = context[1]) != 0) {
        irq_dispatch(line);
        context[1] = line;              /* complete: the gateway may forward it again */
    }
}
