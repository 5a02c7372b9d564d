/*
 * arch/riscv/timer.c - the periodic tick from the supervisor timer.
 *
 * With the Sstc extension (the DTB's riscv,isa lists "sstc"; QEMU 7.2 has it and
 * OpenSBI 1.1 enables S-mode access) the kernel writes stimecmp itself; otherwise
 * each deadline costs an SBI call. Deadlines advance by whole periods from the
 * first one, so the tick does not drift with interrupt latency.
 */
#include <arch/arch.h>
#include "kernel/clock.h"
#include "kernel/platform.h"
#include "kernel/string.h"
#include "csr.h"
#include "sbi.h"
#include "timer.h"

static uint64_t tick_period, next_deadline;
static int have_sstc;

/* 1 if the ISA string ("rv64imafdch_zicsr_..._sstc") names the extension `ext`. */
static int isa_has(const char *isa, const char *ext)
{
    size_t len = strlen(ext);
    for (const char *p = isa; (p = memchr(p, '_', strlen(p))) != NULL;) {
        p++;
        if (strncmp(p, ext, len) == 0 && (p[len] == '_' || p[len] == '\0'))
            return 1;
    }
    return 0;
}

void arch_timer_set(uint64_t deadline)
{
    if (have_sstc)
        __asm__ volatile("csrw %0, %1" :: "i"(CSR_STIMECMP), "r"(deadline));
    else
        sbi_set_timer(deadline);
}

void arch_timer_start(const struct platform *plat, uint64_t period)
{
    have_sstc = isa_has(plat->isa, "sstc");
    tick_period = period;
    next_deadline = arch_time_now() + period;
    arch_timer_set(next_deadline);
    csr_set(sie, SIE_STIE);
}

int arch_timer_uses_sstc(void)
{
    return have_sstc;
}

void timer_interrupt(void)
{
    uint64_t now = arch_time_now();
    uint64_t late = now > next_deadline ? now - next_deadline : 0;     /* how long it waited */
    next_deadline += tick_period;
    if (next_deadline <= now)   /* missed ticks (e.g. a debugger stop): do not replay them */
        next_deadline = now + tick_period;
    arch_timer_set(next_deadline);
    clock_tick(late);
}
