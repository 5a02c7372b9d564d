/*
 * musl_emu/time.c - clocks and sleeping: clock_gettime, clock_getres, nanosleep and
 * clock_nanosleep on the kernel's clock; CPU time (the CPU clocks, times,
 * getrusage) from KS_SYS_PROCESS_TIMES. See internal.h.
 */
#include "musl_emu/internal.h"

/* The kernel's CPU times of this process (KS_SYS_PROCESS_TIMES); zeros if it says no. */
static struct ks_times cpu_times(void)
{
    struct ks_times t;
    if (ks_process_times(KS_PROCESS_SELF, &t) < 0)
        memset(&t, 0, sizeof t);
    return t;
}

static void ns_to_tv(uint64_t ns, struct timeval *tv)
{
    tv->tv_sec = (time_t)(ns / 1000000000u);
    tv->tv_usec = (suseconds_t)(ns % 1000000000u / 1000u);
}

long sys_clock_gettime(long clk, struct timespec *ts)
{
    uint64_t ns;
    switch (clk) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE:
        ns = (uint64_t)ks_clock_ns() + emu.realtime_base_ns;
        break;
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME:
        ns = (uint64_t)ks_clock_ns();
        break;
    case CLOCK_PROCESS_CPUTIME_ID: {        /* sampled by the kernel's tick: 10 ms grains */
        struct ks_times t = cpu_times();
        ns = t.user_ns + t.system_ns;
        break;
    }
    case CLOCK_THREAD_CPUTIME_ID: {
        struct ks_times t = cpu_times();
        ns = t.thread_user_ns + t.thread_system_ns;
        break;
    }
    default:
        return -EINVAL;     /* other clocks, and other threads' and processes' CPU clocks */
    }
    ts->tv_sec = (time_t)(ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
    return 0;
}

/* Sleep ns: 0, or -EINTR with what was left in *rem (if not NULL). */
static long sleep_ns(uint64_t ns, struct timespec *rem)
{
    uint64_t start = (uint64_t)ks_clock_ns();
    unsigned long handlers = emu_handlers_run;
    long r = ks_thread_sleep(ns);
    /*
     * A signal that ran no handler (ignored, or a stop and its continue) does
     * not end a sleep, as on Linux: it goes on for what is left. A handler
     * ends it with EINTR, SA_RESTART or not.
     */
    while (r == KS_ERR_INTERRUPTED && emu_handlers_run == handlers) {
        uint64_t gone = (uint64_t)ks_clock_ns() - start;
        if (gone >= ns)
            return 0;
        r = ks_thread_sleep(ns - gone);
    }
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
    if (clk < 0 || clk > CLOCK_BOOTTIME)
        return -EINVAL;
    if (ts)     /* the CPU clocks: the tick; the others: the 10 MHz platform timer */
        *ts = clk == CLOCK_PROCESS_CPUTIME_ID || clk == CLOCK_THREAD_CPUTIME_ID
                  ? (struct timespec){ 0, 10000000 } : (struct timespec){ 0, 100 };
    return 0;
}

/* times: CPU times in clock ticks (sysconf(_SC_CLK_TCK), 100); the result is ticks since boot. */
long sys_times(struct tms *buf)
{
    if (buf) {
        struct ks_times t = cpu_times();
        buf->tms_utime = (clock_t)(t.user_ns / 10000000u);
        buf->tms_stime = (clock_t)(t.system_ns / 10000000u);
        buf->tms_cutime = (clock_t)(t.children_user_ns / 10000000u);
        buf->tms_cstime = (clock_t)(t.children_system_ns / 10000000u);
    }
    return (long)((uint64_t)ks_clock_ns() / 10000000u);
}

/* getrusage: the CPU times the kernel keeps; the other fields are 0. */
long sys_getrusage(long who, struct rusage *ru)
{
    if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD)
        return -EINVAL;
    struct ks_times t = cpu_times();
    memset(ru, 0, sizeof *ru);
    uint64_t u = who == RUSAGE_SELF ? t.user_ns : who == RUSAGE_CHILDREN ? t.children_user_ns : t.thread_user_ns;
    uint64_t s = who == RUSAGE_SELF ? t.system_ns : who == RUSAGE_CHILDREN ? t.children_system_ns
                                                                           : t.thread_system_ns;
    ns_to_tv(u, &ru->ru_utime);
    ns_to_tv(s, &ru->ru_stime);
    return 0;
}

void rusage_of(ks_handle_t proc, struct rusage *ru)
{
    struct ks_times t;
    memset(ru, 0, sizeof *ru);
    if (ks_process_times(proc, &t) == 0) {   /* a child's own, and its children's */
        ns_to_tv(t.user_ns + t.children_user_ns, &ru->ru_utime);
        ns_to_tv(t.system_ns + t.children_system_ns, &ru->ru_stime);
    }
}

