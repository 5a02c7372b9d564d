/*
 * kernel/power.c - power-off through QEMU's test device, SBI reset as fallback.
 *
 * The "sifive,test0" device takes one 32-bit write: 0x5555 means pass (QEMU exits
 * 0), (code << 16) | 0x3333 means fail with exit code `code`.
 */
#include <arch/arch.h>
#include "power.h"
#include "platform.h"
#include "trace.h"

#define TEST_PASS 0x5555
#define TEST_FAIL 0x3333

static volatile uint32_t *poweroff_reg;

void power_init(const struct platform *p)
{
    if (p->poweroff_pa)
        poweroff_reg = arch_map_device(p->poweroff_pa, 4);
}

void shutdown(int status)
{
    arch_irq_disable();
    trace_dump();
    if (poweroff_reg)
        *poweroff_reg = status == 0 ? TEST_PASS : ((uint32_t)(status & 0xffff) << 16) | TEST_FAIL;
    arch_system_reset(status);
}
