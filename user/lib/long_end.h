/*
 * user/lib/long_end.h - ending big things, timed: how long a timer interrupt
 * waited for its handler while the kernel freed a lot of memory at once. Used
 * by utest (a bound in make test) and ubench (irq_latency_end, exact under
 * make bench). Native programs only (ulib).
 *
 * Four endings, each of `mib` MiB whose every page exists: killing a uchild
 * that holds 2 x mib MiB (a touched mapping and a written memobj), unmapping a
 * touched mapping, truncating a full memobj to 0, and closing the last handle
 * to another.
 */
#ifndef USER_LONG_END_H
#define USER_LONG_END_H

#include <stdint.h>
#include "user/lib/ulib.h"

enum { LONG_END_KILL, LONG_END_UNMAP, LONG_END_TRUNCATE, LONG_END_CLOSE, LONG_END_OPS };

/* Start a measurement; long_end_stop gives the worst timer-interrupt wait since, in ns (~0 on failure). */
static inline void long_end_start(void)
{
    struct ks_kstat k;
    ks_kstat_flags(&k, KS_KSTAT_RESET_LATENCY);
}

static inline uint64_t long_end_stop(void)
{
    struct ks_kstat k;
    return ks_kstat(&k) == 0 ? k.irq_latency_max_ns : ~0ull;
}

/* A uchild holding 2 x mib MiB, once it has taken it all; a negative error if not. */
static inline long long_end_child(ks_handle_t bootimg, uint64_t mib)
{
    char arg[24];
    ksnprintf(arg, sizeof arg, "%lu", (unsigned long)mib);
    const char *argv[] = { "uchild", "fill", arg, NULL };
    long p = ulib_spawn(bootimg, "uchild", argv, NULL, 0);
    struct ks_limits used = { 0 };
    for (int i = 0; p >= 0 && i < 20000 && used.memory < 2 * (mib << 20); i++) {
        ks_thread_sleep(1000000);
        if (ks_process_limit((ks_handle_t)p, NULL, &used, NULL) != 0)
            break;
    }
    if (p >= 0 && used.memory < 2 * (mib << 20)) {
        ks_process_kill((ks_handle_t)p);
        ks_handle_close((ks_handle_t)p);
        return KS_ERR_NO_MEMORY;
    }
    return p;
}

/* A memobj of len bytes with every page made (written from buf, zero pages), or an error. */
static inline long long_end_memobj(uintptr_t buf, uint64_t len)
{
    long mo = ks_memobj_create(len);
    if (mo >= 0 && ks_memobj_write((ks_handle_t)mo, 0, (const void *)buf, len) != (long)len) {
        ks_handle_close((ks_handle_t)mo);
        return KS_ERR_NO_MEMORY;
    }
    return mo;
}

/*
 * Run the four endings; waits[i] gets each one's worst interrupt wait in ns
 * (~0 if it could not be set up or its call failed). 0 if all ran.
 */
static inline int long_end_run(ks_handle_t bootimg, uint64_t mib, uint64_t waits[LONG_END_OPS])
{
    uint64_t len = mib << 20, status = 0;
    int bad = 0;
    for (int i = 0; i < LONG_END_OPS; i++)
        waits[i] = ~0ull;
    long p = long_end_child(bootimg, mib);
    if (p >= 0) {
        long_end_start();
        int ok = ks_process_kill((ks_handle_t)p) == 0 && ks_process_wait((ks_handle_t)p, &status) == 0;
        uint64_t w = long_end_stop();
        waits[LONG_END_KILL] = ok ? w : ~0ull;
        ks_handle_close((ks_handle_t)p);
    }
    uintptr_t buf = ulib_map_anon(len);
    if (buf) {
        for (uint64_t off = 0; off < len; off += KS_PAGE_SIZE)
            ((volatile uint8_t *)buf)[off] = 1;
        long_end_start();
        long r = ks_vm_unmap(KS_PROCESS_SELF, buf, len);
        uint64_t w = long_end_stop();
        waits[LONG_END_UNMAP] = r == 0 ? w : ~0ull;
    }
    buf = ulib_map_anon(len);               /* untouched: zero pages, the fills' source */
    long mo = buf ? long_end_memobj(buf, len) : KS_ERR_NO_MEMORY;
    if (mo >= 0) {
        long_end_start();
        long r = ks_memobj_truncate((ks_handle_t)mo, 0);
        uint64_t w = long_end_stop();
        waits[LONG_END_TRUNCATE] = r == 0 ? w : ~0ull;
        ks_handle_close((ks_handle_t)mo);
    }
    mo = buf ? long_end_memobj(buf, len) : KS_ERR_NO_MEMORY;
    if (mo >= 0) {
        long_end_start();
        long r = ks_handle_close((ks_handle_t)mo);
        uint64_t w = long_end_stop();
        waits[LONG_END_CLOSE] = r == 0 ? w : ~0ull;
    }
    if (buf)
        ks_vm_unmap(KS_PROCESS_SELF, buf, len);
    for (int i = 0; i < LONG_END_OPS; i++)
        bad |= waits[i] == ~0ull;
    return bad ? -1 : 0;
}

#endif
