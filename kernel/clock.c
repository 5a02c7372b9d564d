/*
 * kernel/clock.c - counts timer ticks and converts platform time to nanoseconds.
 * Each tick also drives the scheduler (sleepers, time slices).
 */
#include <arch/arch.h>
#include "clock.h"
#include "platform.h"
#include "sched.h"

static volatile uint64_t ticks;
static uint64_t timebase_hz = 1;

void clock_init(const struct platform *p)
{
    timebase_hz = p->timebase_hz;
    arch_timer_start(p, timebase_hz / CLOCK_HZ);
}

static uint64_t latency_max;           /* platform time units */

void clock_tick(uint64_t late)
{
    ticks++;
    if (late > latency_max)
        latency_max = late;
    sched_tick();
}

uint64_t clock_latency_max_ns(void)
{
    return latency_max / timebase_hz * 1000000000ull + latency_max % timebase_hz * 1000000000ull / timebase_hz;
}

void clock_latency_reset(void)
{
    latency_max = 0;
}

uint64_t clock_timebase_hz(void)
{
    return timebase_hz;
}

uint64_t clock_ticks(void)
{
    return ticks;
}

uint64_t clock_time_to_ns(uint64_t t)
{
    return t / timebase_hz * 1000000000ull + t % timebase_hz * 1000000000ull / timebase_hz;
}

uint64_t clock_ns(void)
{
    return clock_time_to_ns(arch_time_now());
}

uint64_t clock_ns_to_time(uint64_t ns)
{
    return ns / 1000000000ull * timebase_hz + ns % 1000000000ull * timebase_hz / 1000000000ull;
}
