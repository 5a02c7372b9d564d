/*
 * user/lib/bench.h - what the benchmark programs share (user/ubench.c on the
 * native ABI, user/mbench.c on musl, and init's boot_to_hello): the guest
 * instruction counter, the bare loop whose cost may be subtracted, the run's
 * options, and the lines tools/run-bench and tools/profile read.
 *
 * The rule every figure follows: a figure is the whole operation as the calling
 * program sees it (its user code, the kernel, servers it calls, OpenSBI);
 * only a bare loop's overhead may be subtracted, and a bare loop is a function
 * named empty_loop or bare_* that makes no system call. (A figure that waits
 * for a device, mbench's ext2 ones, also takes out the time the hart slept in
 * the idle loop, ks_kstat.idle_instret: under -icount rdinstret counts it,
 * though no instruction ran; what is left is every instruction executed.) tools/profile checks
 * this from an instruction trace: it adds up every instruction between each
 * pair of rdinstret reads, subtracts the windows inside bare functions, and
 * must arrive at the total the program printed on its "bench-raw" line.
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

/*
 * The run's options, from init's arguments after "bench" (the kernel's
 * bootargs): "n=K" caps every loop at K iterations (tools/profile's short
 * runs), "only=NAME" runs that figure alone. Set by bench_options().
 */
static long bench_cap;
static const char *bench_only;

static __attribute__((unused)) void bench_options(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "n=", 2) == 0) {
            bench_cap = 0;
            for (const char *d = argv[i] + 2; *d >= '0' && *d <= '9'; d++)
                bench_cap = bench_cap * 10 + (*d - '0');
        } else if (strncmp(argv[i], "only=", 5) == 0)
            bench_only = argv[i] + 5;
    }
}

/* n iterations, or fewer when the run is capped. */
static __attribute__((unused)) long bench_n(long n)
{
    return bench_cap > 0 && bench_cap < n ? bench_cap : n;
}

/* Whether the figure called name runs (every figure unless only= names another). */
static __attribute__((unused)) int bench_wanted(const char *name)
{
    return !bench_only || strcmp(bench_only, name) == 0;
}

/*
 * Print "bench NAME value/divisor UNIT" (three decimals if it has a fraction
 * and is below 100), then "bench-raw NAME value divisor" with the exact
 * integers, which tools/profile compares with its trace. Never inlined or cloned (noipa): the
 * profiler takes a call of report() as the end of a figure's measurement.
 */
static __attribute__((noipa, unused)) void report(const char *name, uint64_t value,
                                                      uint64_t divisor, const char *unit)
{
    uint64_t milli = (value * 1000 + divisor / 2) / divisor;
    if (milli % 1000 == 0 || milli >= 100000)
        printf("bench %s %lu %s\n", name, (unsigned long)((milli + 500) / 1000), unit);
    else
        printf("bench %s %lu.%03lu %s\n", name, (unsigned long)(milli / 1000),
               (unsigned long)(milli % 1000), unit);
    printf("bench-raw %s %lu %lu\n", name, (unsigned long)value, (unsigned long)divisor);
    BENCH_FLUSH();
}

/* Instructions of an empty loop of n iterations: the one overhead a figure may subtract. */
static __attribute__((noipa, unused)) uint64_t empty_loop(long n)
{
    uint64_t t0 = instret();
    for (long i = 0; i < n; i++)
        __asm__ volatile("" ::: "memory");
    return instret() - t0;
}

#endif
