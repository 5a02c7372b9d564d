/*
 * kernel/sys_misc.c - the null call, the debug console, the clock, kernel counters.
 */
#include <arch/arch.h>
#include "clock.h"
#include "console.h"
#include "heap.h"
#include "page_alloc.h"
#include "random.h"
#include "sched.h"
#include "string.h"
#include "syscall.h"
#include "uaccess.h"

static uint64_t debug_write_calls;

/* A leaf with nothing to trace: no frame, so the measured null call is the entry path alone. */
__attribute__((optimize("omit-frame-pointer"))) long sys_null(void)
{
    return 0;
}

/* Write user bytes to the kernel console (until the FS server owns the console). */
long sys_debug_write(sysarg_t buf, sysarg_t len)
{
    char chunk[128];
    if (!user_range_ok(buf, len))
        return KS_ERR_FAULT;
    debug_write_calls++;
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < sizeof chunk ? len - done : sizeof chunk;
        if (copy_from_user(chunk, buf + done, n))
            return done ? (long)done : KS_ERR_FAULT;
        for (uint64_t i = 0; i < n; i++)
            console_putc(chunk[i]);
        done += n;
        if (done < len) {
            sched_preempt_long();       /* a long write holds up no one */
            if (current_thread()->flags)
                return (long)done;      /* killed meanwhile */
        }
    }
    return (long)len;
}

long sys_klog(sysarg_t op, sysarg_t buf, sysarg_t len)
{
    static char copy[CONSOLE_LOG_SIZE];
    switch (op) {
    case KS_KLOG_SIZE:
        return CONSOLE_LOG_SIZE;
    case KS_KLOG_CLEAR:
        console_log_clear();
        return 0;
    case KS_KLOG_READ: case KS_KLOG_READ_CLEAR: {
        if (!user_range_ok(buf, len))
            return KS_ERR_FAULT;
        unsigned long n = console_log_copy(copy, len < sizeof copy ? len : sizeof copy);
        if (copy_to_user_nowait(buf, copy, n)) {   /* copy is shared: no waiting for a pager */
            uaccess_miss_forget();
            return KS_ERR_FAULT;
        }
        if (op == KS_KLOG_READ_CLEAR)
            console_log_clear();
        return (long)n;
    }
    default:
        return KS_ERR_INVALID;
    }
}

uint64_t sys_debug_write_calls(void)
{
    return debug_write_calls;
}

long sys_clock_ns(void)
{
    return (long)clock_ns();
}

long sys_kstat(sysarg_t out, sysarg_t flags)
{
    if (flags & ~(sysarg_t)KS_KSTAT_RESET_LATENCY)
        return KS_ERR_INVALID;
    struct ks_kstat k = {
        .free_pages = page_free_count(),
        .total_pages = page_total_count(),
        .heap_objects = heap_live_objects(),
        .objects = object_count(),
        .debug_write_calls = debug_write_calls,
        .context_switches = sched_switch_count(),
        .boot_instret = boot_instret,
        .idle_instret = sched_idle_instret(),
        .irq_latency_max_ns = clock_latency_max_ns(),
    };
    long r = copy_to_user(out, &k, sizeof k);
    if (r == 0 && (flags & KS_KSTAT_RESET_LATENCY))
        clock_latency_reset();
    return r;
}

long sys_random(sysarg_t buf, sysarg_t len)
{
    uint8_t b[64];                  /* one ChaCha20 block: an interrupt window after each */
    if (len > 4096)
        len = 4096;
    if (!user_range_ok(buf, len))
        return KS_ERR_FAULT;
    long r = (long)len;
    sched_long_begin();             /* 4,096 bytes are 64 blocks: take interrupts between them */
    for (sysarg_t done = 0; done < len;) {
        size_t n = len - done < sizeof b ? len - done : sizeof b;
        random_bytes(b, n);
        long c = copy_to_user_nowait(buf + done, b, n);    /* (inside a long operation) */
        if (c) {
            uaccess_miss_forget();
            r = done ? (long)done : c;
            break;
        }
        done += n;
        sched_long_window();
    }
    sched_long_end();
    memset(b, 0, sizeof b);
    return r;
}
