/*
 * user/ufp.c - tests of floating-point state (KTAP), run by init with "utest".
 *
 * This program alone is compiled with the F and D extensions (the Makefile
 * gives it its own -march; the ABI stays lp64). Threads that fill all 32 FP
 * registers with their own patterns, yield and sleep, must find them intact;
 * a new thread, or another process, must never see someone else's values.
 */
#include "kernel/ktest.h"
#include "user/lib/ulib.h"

#define NTHREADS 4

/* Fill f0-f31 with base + i and fcsr's rounding mode with rm. */
static void fill(uint64_t base, uint64_t rm)
{
    register uint64_t b __asm__("t0") = base;
    __asm__ volatile(
        ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        "fmv.d.x f\\n, t0\n"
        "addi t0, t0, 1\n"
        ".endr\n"
        : "+r"(b) : : "memory");
    __asm__ volatile("fsrm %0" :: "r"(rm));
}

/* 1 if f0-f31 still hold base + i and the rounding mode is rm. */
static int check(uint64_t base, uint64_t rm)
{
    uint64_t v[32], mode;
    __asm__ volatile(
        ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        "fsd f\\n, (\\n * 8)(%0)\n"
        ".endr\n"
        : : "r"(v) : "memory");
    __asm__ volatile("frrm %0" : "=r"(mode));
    for (int i = 0; i < 32; i++)
        if (v[i] != base + (uint64_t)i)
            return 0;
    return mode == rm;
}

/* 1 if every FP register reads +0.0 and fcsr is 0. */
static int all_zero(void)
{
    uint64_t v[32], csr;
    __asm__ volatile(
        ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        "fsd f\\n, (\\n * 8)(%0)\n"
        ".endr\n"
        : : "r"(v) : "memory");
    __asm__ volatile("frcsr %0" : "=r"(csr));
    for (int i = 0; i < 32; i++)
        if (v[i])
            return 0;
    return csr == 0;
}

static volatile int thread_failures;

/* Keep a pattern across yields and sleeps (other threads use the FPU in between). */
static void keeper(long id)
{
    uint64_t base = 0x1000000000ull * (uint64_t)(id + 1);
    uint64_t rm = (uint64_t)(id % 5);
    fill(base, rm);
    for (int round = 0; round < 50; round++) {
        if (round % 10 == 9)
            ks_thread_sleep(2 * 1000000ull);
        else
            ks_thread_yield();
        if (!check(base, rm))
            thread_failures++;
    }
    ks_thread_exit(0);
}

static long start(void (*fn)(long), long arg)
{
    enum { STACK = 16384 };
    uintptr_t stack = ulib_map_anon(STACK);
    return stack ? ks_thread_create(KS_PROCESS_SELF, (void *)fn, (void *)(stack + STACK), arg)
                 : KS_ERR_NO_MEMORY;
}

static void fp_arithmetic(void)
{
    volatile double x = 0;
    for (int i = 1; i <= 100; i++)
        x += 1.0 / i;
    /* The harmonic number H(100) = 5.18737751763962..., computed exactly as this loop does. */
    KT_EXPECT(x > 5.1873775176 && x < 5.1873775177);
    volatile float y = 3.0f;
    KT_EXPECT(y * y == 9.0f);
}

static void fp_threads_keep_registers(void)
{
    long t[NTHREADS];
    thread_failures = 0;
    fill(0x77, 1);
    for (long i = 0; i < NTHREADS; i++)
        KT_ASSERT((t[i] = start(keeper, i)) > 0);
    for (int i = 0; i < NTHREADS; i++) {
        KT_EXPECT_EQ(ks_thread_join((ks_handle_t)t[i]), 0);
        ks_handle_close((ks_handle_t)t[i]);
    }
    KT_EXPECT_EQ(thread_failures, 0);
    KT_EXPECT(check(0x77, 1));          /* ours too, after all that */
}

static volatile int zero_seen;

static void fresh(long arg)
{
    zero_seen = all_zero();
    ks_thread_exit(0);
}

static void fp_new_thread_starts_clean(void)
{
    fill(0x5555, 2);                    /* leave a pattern behind */
    long t = start(fresh, 0);
    KT_ASSERT(t > 0);
    KT_EXPECT_EQ(ks_thread_join((ks_handle_t)t), 0);
    ks_handle_close((ks_handle_t)t);
    KT_EXPECT(zero_seen);
    KT_EXPECT(check(0x5555, 2));
}

static void fp_other_process(void)
{
    ks_handle_t image = (ks_handle_t)ulib_auxv(KS_AT_BOOTIMAGE);
    const char *argv[] = { "ufp", "child", NULL };
    fill(0x9999, 3);
    uint64_t status;
    KT_ASSERT(ulib_run(image, "ufp", argv, &status) == 0);
    KT_EXPECT_EQ(status, 0);            /* it saw zeros, then kept its own pattern */
    KT_EXPECT(check(0x9999, 3));
}

static const struct ktest_case fp_cases[] = {
    { "arithmetic", fp_arithmetic },
    { "threads_keep_registers", fp_threads_keep_registers },
    { "new_thread_starts_clean", fp_new_thread_starts_clean },
    { "other_process", fp_other_process },
};
static KTEST_SUITE(fp_suite, "fp", fp_cases);

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        if (!all_zero())
            return 1;
        fill(0x4242, 4);
        for (int i = 0; i < 20; i++)
            ks_thread_yield();
        return check(0x4242, 4) ? 0 : 2;
    }
    const struct ktest_suite *suites[] = { &fp_suite };
    return ktest_run(suites, 1) ? 1 : 0;
}
