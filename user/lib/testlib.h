/*
 * user/lib/testlib.h - helpers the native KTAP test programs (utest, udev,
 * uipc, uchild) share: ks_kstat snapshots and the "kstat unchanged" check,
 * an unmap that reports failure, and threads on a fresh stack of their own.
 *
 * Header only (static functions), like user/lib/ipc.h. Failures go to
 * ktest_fail (kernel/ktest.h), which fails the running case: call the
 * reporting helpers from the thread that prints (the main thread).
 */
#ifndef USER_TESTLIB_H
#define USER_TESTLIB_H

#include "kernel/ktest.h"
#include "user/lib/ulib.h"

/* ---- ks_kstat ---- */

/* The kernel's counters now (all zero, and the running case failed, if ks_kstat fails). */
static inline struct ks_kstat kstat_now(void)
{
    struct ks_kstat k;
    memset(&k, 0, sizeof k);
    if (ks_kstat(&k) != 0)
        ktest_fail(__FILE__, __LINE__, "ks_kstat failed");
    return k;
}

/* Fail (at file:line) unless objects, heap objects and free pages are as in *a. */
static inline void expect_same_kstat(const struct ks_kstat *a, const char *file, int line)
{
    struct ks_kstat b = kstat_now();
    if (a->objects != b.objects || a->heap_objects != b.heap_objects || a->free_pages != b.free_pages)
        ktest_fail(file, line, "kstat changed: objects %lu -> %lu, heap %lu -> %lu, free pages %lu -> %lu",
                   (unsigned long)a->objects, (unsigned long)b.objects,
                   (unsigned long)a->heap_objects, (unsigned long)b.heap_objects,
                   (unsigned long)a->free_pages, (unsigned long)b.free_pages);
}
#define EXPECT_SAME_KSTAT(k) expect_same_kstat(k, __FILE__, __LINE__)

/* ---- unmapping ---- */

/* Unmap [addr, addr + len) from this process (nothing if addr is 0); fail at file:line if it fails. */
static inline void unmap_at(uintptr_t addr, size_t len, const char *file, int line)
{
    if (addr && ks_vm_unmap(KS_PROCESS_SELF, addr, len) != 0)
        ktest_fail(file, line, "vm_unmap(0x%lx, 0x%lx) failed", (unsigned long)addr, (unsigned long)len);
}
#define UNMAP(addr, len) unmap_at((uintptr_t)(addr), (len), __FILE__, __LINE__)

/* ---- threads on a fresh stack ---- */

#define TEST_STACK_SIZE 16384

struct uthread {
    long h;                 /* thread handle or a negative error */
    uintptr_t stack;        /* 0 when there is none */
    size_t stack_size;
};

/*
 * Start fn(arg) in this process on a fresh stack of stack_size bytes. On
 * failure h is negative and no stack is kept; thread_finish is harmless.
 */
static inline struct uthread thread_start_sized(void (*fn)(long), long arg, size_t stack_size)
{
    struct uthread t = { KS_ERR_NO_MEMORY, ulib_map_anon(stack_size), stack_size };
    if (t.stack)
        t.h = ks_thread_create(KS_PROCESS_SELF, (void *)fn, (void *)(t.stack + stack_size), arg);
    if (t.h < 0 && t.stack) {
        ks_vm_unmap(KS_PROCESS_SELF, t.stack, stack_size);
        t.stack = 0;
    }
    return t;
}

/* Start fn(arg) on a fresh TEST_STACK_SIZE stack. */
static inline struct uthread thread_start(void (*fn)(long), long arg)
{
    return thread_start_sized(fn, arg, TEST_STACK_SIZE);
}

/*
 * Join (if started), close and unmap (a failed unmap fails the running case);
 * returns the join result, KS_ERR_BAD_HANDLE if the thread never started.
 */
static inline long thread_finish(struct uthread *t)
{
    long r = KS_ERR_BAD_HANDLE;
    if (t->h >= 0) {
        r = ks_thread_join((ks_handle_t)t->h);
        ks_handle_close((ks_handle_t)t->h);
    }
    UNMAP(t->stack, t->stack_size);
    t->h = KS_ERR_BAD_HANDLE;
    t->stack = 0;
    return r;
}

#endif
