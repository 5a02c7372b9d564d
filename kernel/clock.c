/*
 * kernel/clock.c - counts timer ticks and converts platform time to nanoseconds.
 * The scheduler will hang its time slice off clock_tick().
 */
#include <arch/arch.h>
#include "clock.h"
#include "platform.h"

static volatile uint64_t ticks;
static uint64_t timebase_hz = 1;

void clock_init(const struct platform *p)
{
    timebase_hz = p->timebase_hz;
    arch_timer_start(p, timebase_hz / CLOCK_HZ);
}

void clock_tick(void)
{
    ticks++;
}

uint64_t clock_ticks(void)
{
    return ticks;
}

uint64_t clock_ns(void)
{
    uint64_t t = arch_time_now();
    return t / timebase_hz * 1000000000ull + t % timebase_hz * 1000000000ull / timebase_hz;
}
