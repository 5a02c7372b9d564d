/*
 * user/ubench.c - benchmarks, run by init when the bootargs say "bench".
 *
 * `make bench` boots QEMU with -icount shift=0,sleep=off -seed 1 -smp 1, where
 * rdinstret counts guest instructions exactly and two runs are identical. Each
 * figure is printed as "bench NAME VALUE UNIT"; tools/run-bench collects them.
 * Every loop's own cost (the same loop without the operation) is measured and
 * subtracted, so a figure is the operation alone, kernel and user side together.
 */
#include "user/lib/ipc.h"
#include "user/lib/ulib.h"

static inline uint64_t instret(void)
{
    uint64_t n;
    __asm__ volatile("rdinstret %0" : "=r"(n));
    return n;
}

/* Print value/divisor with three decimals. */
static void report(const char *name, uint64_t value, uint64_t divisor, const char *unit)
{
    uint64_t milli = (value * 1000 + divisor / 2) / divisor;
    if (milli % 1000 == 0 || milli >= 100000)
        printf("bench %s %lu %s\n", name, (unsigned long)((milli + 500) / 1000), unit);
    else
        printf("bench %s %lu.%03lu %s\n", name, (unsigned long)(milli / 1000),
               (unsigned long)(milli % 1000), unit);
}

/* Instructions of an empty loop of n iterations (the overhead to subtract). */
static __attribute__((noinline)) uint64_t empty_loop(long n)
{
    uint64_t t0 = instret();
    for (long i = 0; i < n; i++)
        __asm__ volatile("" ::: "memory");
    return instret() - t0;
}

static void bench_null_syscall(void)
{
    enum { N = 10000 };
    uint64_t t0 = instret();
    for (long i = 0; i < N; i++)
        ks_null();
    uint64_t total = instret() - t0;
    report("null_syscall", total - empty_loop(N), N, "insn/op");
}

/* Both sides yield N times; every yield switches to the other process. */
static void bench_yield_switch(ks_handle_t image)
{
    enum { N = 2000 };
    const char *argv[] = { "ubench", "yield-partner", NULL };
    long child = ulib_spawn(image, "ubench", argv, NULL, 0);
    if (child < 0) {
        printf("ubench: cannot spawn the yield partner (%ld)\n", child);
        return;
    }
    for (int i = 0; i < 10; i++)        /* let the partner start and settle */
        ks_thread_yield();
    uint64_t t0 = instret();
    for (long i = 0; i < N; i++)
        ks_thread_yield();
    uint64_t total = instret() - t0;
    ks_process_kill((ks_handle_t)child);
    uint64_t status;
    ks_process_wait((ks_handle_t)child, &status);
    ks_handle_close((ks_handle_t)child);
    /* N yields here and N there: 2N switches, each with one yield call. */
    report("yield_switch", total - 2 * empty_loop(N), 2 * N, "insn/switch");
}

static void bench_anon_fault(void)
{
    enum { PAGES = 256 };
    long mo = ks_memobj_create(PAGES * KS_PAGE_SIZE);
    long addr = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)mo, 0, 0, PAGES * KS_PAGE_SIZE,
                          KS_PROT_READ | KS_PROT_WRITE | KS_MAP_PRIVATE);
    if (mo < 0 || addr < 0) {
        printf("ubench: anon_fault setup failed (%ld, %ld)\n", mo, addr);
        return;
    }
    volatile uint8_t *p = (volatile uint8_t *)addr;
    uint64_t t0 = instret();
    for (long i = 0; i < PAGES; i++)
        p[i * KS_PAGE_SIZE] = 1;            /* first touch: a fault each */
    uint64_t faulting = instret() - t0;
    t0 = instret();
    for (long i = 0; i < PAGES; i++)
        p[i * KS_PAGE_SIZE] = 2;            /* the same loop, no faults */
    uint64_t plain = instret() - t0;
    report("anon_fault", faulting - plain, PAGES, "insn/fault");
    ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)addr, PAGES * KS_PAGE_SIZE);
    ks_handle_close((ks_handle_t)mo);
}

static void bench_memobj_read(void)
{
    enum { SIZE = 1 << 20, ROUNDS = 4 };
    long mo = ks_memobj_create(SIZE);
    long buf = ks_memobj_create(SIZE);
    long addr = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)buf, 0, 0, SIZE,
                          KS_PROT_READ | KS_PROT_WRITE | KS_MAP_PRIVATE);
    if (mo < 0 || buf < 0 || addr < 0) {
        printf("ubench: memobj_read setup failed\n");
        return;
    }
    uint8_t *p = (uint8_t *)addr;
    memset(p, 0xa5, SIZE);                  /* fault the buffer in, and fill the source */
    ks_memobj_write((ks_handle_t)mo, 0, p, SIZE);
    uint64_t t0 = instret();
    for (int r = 0; r < ROUNDS; r++)
        ks_memobj_read((ks_handle_t)mo, 0, p, SIZE);
    uint64_t total = instret() - t0;
    report("memobj_read_1m", total, (uint64_t)ROUNDS * SIZE, "insn/byte");
    ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)addr, SIZE);
    ks_handle_close((ks_handle_t)buf);
    ks_handle_close((ks_handle_t)mo);
}

/* The echo server: replies to every call with its words, each plus one. */
static int echo_server(ks_handle_t listener)
{
    uint64_t w[KS_IPC_WORDS], userdata, info;
    long reply = ks_ipc_receive(listener, 0, w, &userdata, &info);
    for (;;) {
        if (reply < 0)
            return 1;
        for (int i = 0; i < KS_IPC_WORDS; i++)
            w[i] += 1;
        reply = ks_ipc_reply_receive((ks_handle_t)reply, listener, 0, w, &userdata, &info);
    }
}

/* Round trips through an echo server in another process. */
static void bench_ipc(ks_handle_t image)
{
    enum { N = 2000 };
    long listener = ks_ipc_listener_create();
    long client = ks_ipc_client_create((ks_handle_t)listener, 42);
    ks_handle_t give[1] = { (ks_handle_t)listener };
    const char *argv[] = { "ubench", "echo-server", NULL };
    long server = ulib_spawn(image, "ubench", argv, give, 1);
    if (listener < 0 || client < 0 || server < 0) {
        printf("ubench: ipc setup failed (%ld %ld %ld)\n", listener, client, server);
        return;
    }
    uint64_t w[KS_IPC_WORDS] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    long r = ks_ipc_call((ks_handle_t)client, 0, w, 0);       /* warm up, and check */
    if (r != 0 || w[0] != 2 || w[7] != 9)
        printf("ubench: echo call returned %ld, w0 %lu w7 %lu\n", r, (unsigned long)w[0], (unsigned long)w[7]);
    struct ks_ipc_stats s0, s1;
    ks_ipc_control(1, &s0);
    uint64_t t0 = instret();
    for (long i = 0; i < N; i++)
        ks_ipc_call((ks_handle_t)client, 0, w, 0);
    uint64_t total = instret() - t0;
    ks_ipc_control(1, &s1);
    report("ipc_rt_regs", total - empty_loop(N), N, "insn/rt");
    printf("# fast calls %lu replies %lu, slow calls %lu replies %lu\n",
           (unsigned long)(s1.fast_calls - s0.fast_calls), (unsigned long)(s1.fast_replies - s0.fast_replies),
           (unsigned long)(s1.slow_calls - s0.slow_calls), (unsigned long)(s1.slow_replies - s0.slow_replies));
    ks_process_kill((ks_handle_t)server);
    uint64_t status;
    ks_process_wait((ks_handle_t)server, &status);
    ks_handle_close((ks_handle_t)server);
    ks_handle_close((ks_handle_t)client);
    ks_handle_close((ks_handle_t)listener);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "yield-partner") == 0) {
        for (;;)
            ks_thread_yield();
    }
    if (argc > 1 && strcmp(argv[1], "echo-server") == 0)
        return echo_server(ulib_inherited(0));
    ks_handle_t image = (ks_handle_t)ulib_auxv(KS_AT_BOOTIMAGE);
    bench_null_syscall();
    bench_yield_switch(image);
    bench_anon_fault();
    bench_memobj_read();
    bench_ipc(image);
    return 0;
}
