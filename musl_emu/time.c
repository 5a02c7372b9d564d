/*
 * musl_emu/time.c - clocks and sleeping: clock_gettime, clock_getres, nanosleep and
 * clock_nanosleep on the kernel's clock. See internal.h.
 */
#include "musl_emu/internal.h"

long sys_clock_gettime(long clk, struct timespec *ts)
{
    uint64_t ns = (uint64_t)ks_clock_ns();
    switch (clk) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE:
        ns += emu.realtime_base_ns;
        break;
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME:
    case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID:
        break;
    default:
        return -EINVAL;
    }
    ts->tv_sec = (time_t)(ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
    return 0;
}

/* Sleep ns: 0, or -EINTR with what was left in *rem (if not NULL). */
static long sleep_ns(uint64_t ns, struct timespec *rem)
{
    uint64_t start = (uint64_t)ks_clock_ns();
    long r = ks_thread_sleep(ns);
    if (r == KS_ERR_INTERRUPTED) {
        if (rem) {
            uint64_t gone = (uint64_t)ks_clock_ns() - start, left = gone < ns ? ns - gone : 0;
            rem->tv_sec = (time_t)(left / 1000000000);
            rem->tv_nsec = (long)(left % 1000000000);
        }
        return -EINTR;
    }
    return ret_or_err(r);
}

/* *ts in nanoseconds into *ns (KS_FOREVER if it does not fit): 0, or -EINVAL if malformed. */
int ts_to_ns(const struct timespec *ts, uint64_t *ns)
{
    if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
        return -EINVAL;
    if ((uint64_t)ts->tv_sec >= UINT64_MAX / 1000000000u)
        *ns = KS_FOREVER;           /* beyond 584 years: as good as forever, never wrapped */
    else
        *ns = (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
    return 0;
}

long sys_clock_nanosleep(long clk, long flags, const struct timespec *req, struct timespec *rem)
{
    uint64_t ns;
    if (ts_to_ns(req, &ns))
        return -EINVAL;
    if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
        return -EINVAL;
    if (flags & TIMER_ABSTIME) {
        struct timespec now;
        uint64_t now_ns = 0;
        sys_clock_gettime(clk, &now);
        ts_to_ns(&now, &now_ns);
        return ns <= now_ns ? 0 : sleep_ns(ns - now_ns, NULL);
    }
    return sleep_ns(ns, rem);
}

long sys_clock_getres(long clk, struct timespec *ts)
{
    if (ts)
        *ts = (struct timespec){ 0, 100 };      /* the 10 MHz platform timer */
    return 0;
}

