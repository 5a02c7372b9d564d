/*
 * kernel/clock.h - the periodic tick and kernel time.
 */
#ifndef KERNEL_CLOCK_H
#define KERNEL_CLOCK_H

#include <stdint.h>

struct platform;

#define CLOCK_HZ 100    /* ticks per second: a 10 ms time slice */

/* Start ticking CLOCK_HZ times a second. */
void clock_init(const struct platform *p);

/* Called by the architecture's timer interrupt, once per tick. */
void clock_tick(uint64_t late);

/*
 * The worst lateness of a tick's interrupt, in ns: from the moment the timer
 * fired to its handler, which is how long the kernel ran with interrupts off.
 * clock_latency_reset starts a new measurement.
 */
uint64_t clock_latency_max_ns(void);
void clock_latency_reset(void);

/* Ticks since clock_init. */
uint64_t clock_ticks(void);

/* Rate of arch_time_now(), in Hz. */
uint64_t clock_timebase_hz(void);

/* A duration in nanoseconds as platform time units (arch_time_now). */
uint64_t clock_ns_to_time(uint64_t ns);

/* Platform time units (arch_time_now) as nanoseconds. */
uint64_t clock_time_to_ns(uint64_t t);

/* Nanoseconds of platform time since boot. */
uint64_t clock_ns(void);

#endif
