/*
 * tests/host.h - helpers shared by the host unit tests.
 */
#ifndef TESTS_HOST_H
#define TESTS_HOST_H

#include <stddef.h>

/*
 * Run fn(arg). If it calls panic(), return 1 and keep the message (see
 * last_panic_message()); if it returns normally, return 0. The fake panic()
 * longjmps out, so memory fn allocated is not freed: keep such calls small.
 */
int catch_panic(void (*fn)(void *arg), void *arg);
const char *last_panic_message(void);

/*
 * Run a test case's body under catch_panic, so an unexpected panic fails the
 * case instead of ending the run; then `cleanup` (if any), either way.
 * GUARDED_CASE(name, cleanup) { ... } defines such a case.
 */
void run_guarded(void (*body)(void), void (*cleanup)(void));

#define GUARDED_CASE(name, cleanup) \
    static void name##_body(void); \
    static void name(void) { run_guarded(name##_body, cleanup); } \
    static void name##_body(void)

/*
 * Fresh host "RAM" of `pages` pages (the previous one freed), aligned for the
 * largest block, with the page allocator and the heap initialised on it
 * (tests/host_ram.c). Its start, or NULL. host_ram_release frees it (a
 * case's cleanup).
 */
void *host_ram_fresh(size_t pages);
void host_ram_release(void);

/* The platform host_ram_fresh described to the page allocator (its reserved ranges: the page array). */
struct platform;
const struct platform *host_ram_platform(void);

/* Read a whole file into a malloc'ed buffer of exactly its size; NULL on error. */
void *read_file(const char *path, size_t *size);

/* Deterministic pseudo-random numbers (xorshift64*), so failures reproduce. */
unsigned long test_rand(void);
void test_srand(unsigned long seed);

/*
 * The fake handle_cache_forget (kernel/handle.h; the kernel's is the IPC
 * handle cache's, in kernel/ipc_port.c) counts its calls and keeps the last.
 */
struct process;
struct host_forgets {
    unsigned calls;
    struct process *owner;
    uint32_t slot;
};
extern struct host_forgets host_forgets;

#endif
