/*
 * user/lib/bench.h - what the benchmark programs share (user/ubench.c on the
 * native ABI, user/mbench.c on musl, and init's boot_to_hello): the guest
 * instruction counter, the cost of an empty loop (measured, then subtracted),
 * and the "bench NAME VALUE UNIT" line tools/run-bench collects.
 *
 * The includer provides printf (musl's, or ulib's kprintf) and may define
 * BENCH_FLUSH() to push each line out (musl's stdout is line-buffered only on
 * a terminal it can see; ulib sends a line at its newline).
 */
#ifndef USER_BENCH_H
#define USER_BENCH_H

#include <stdint.h>

#ifndef BENCH_FLUSH
#define BENCH_FLUSH() ((void)0)
#endif

/* Instructions retired: exact under `make bench` (QEMU -icount, one hart). */
static inline uint64_t instret(void)
{
    uint64_t n;
    __asm__ volatile("rdinstret %0" : "=r"(n));
    return n;
}

/* Print "bench NAME value/divisor UNIT": three decimals if it has a fraction and is below 100. */
static inline void report(const char *name, uint64_t value, uint64_t divisor, const char *unit)
{
    uint64_t milli = (value * 1000 + divisor / 2) / divisor;
    if (milli % 1000 == 0 || milli >= 100000)
        printf("bench %s %lu %s\n", name, (unsigned long)((milli + 500) / 1000), unit);
    else
        printf("bench %s %lu.%03lu %s\n", name, (unsigned long)(milli / 1000),
               (unsigned long)(milli % 1000), unit);
    BENCH_FLUSH();
}

/* Instructions of an empty loop of n iterations (the overhead to subtract). */
static __attribute__((noinline, unused)) uint64_t empty_loop(long n)
{
    uint64_t t0 = instret();
    for (long i = 0; i < n; i++)
        __asm__ volatile("" ::: "memory");
    return instret() - t0;
}

#endif
