/*
 * user/ubench.c - benchmarks, run by init when the bootargs say "bench".
 *
 * `make bench` boots QEMU with -icount shift=0,sleep=off -seed 1 -smp 1, where
 * rdinstret counts guest instructions exactly and two runs are identical. Each
 * figure is printed as "bench NAME VALUE UNIT"; tools/run-bench collects them.
 * A figure is the whole operation as this program sees it (its own code, the
 * kernel, the server it calls); only a bare loop's cost is subtracted
 * (user/lib/bench.h says what may be, tools/profile checks it).
 */
#include "user/lib/ipc.h"
#include "user/lib/long_end.h"
#include "user/lib/ulib.h"
#include "user/lib/bench.h"

/*
 * The profiler's check by construction: rdinstret, 999 nops, rdinstret in one
 * asm block is 1,000 instructions, counted from the first read to the second.
 */
static void bench_rdinstret_check(void)
{
    long n = bench_n(10);
    uint64_t total = 0;
    for (long i = 0; i < n; i++) {
        uint64_t a, b;
        __asm__ volatile("rdinstret %0\n\t.rept 999\n\tnop\n\t.endr\n\trdinstret %1"
                         : "=r"(a), "=&r"(b));
        total += b - a;
    }
    report("rdinstret_check", total, n, "insn");
}

static void bench_null_syscall(void)
{
    long N = bench_n(10000);
    uint64_t t0 = instret();
    for (long i = 0; i < N; i++)
        ks_null();
    uint64_t total = instret() - t0;
    report("null_syscall", total - empty_loop(N), N, "insn/op");
}

/* Both sides yield N times; every yield switches to the other process. */
static void bench_yield_switch(ks_handle_t image)
{
    long N = bench_n(2000);
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
    /* N yields here and N there: 2N switches, each with one yield call and a loop's overhead. */
    report("yield_switch", total - empty_loop(N) - empty_loop(N), 2 * N, "insn/switch");
}

/*
 * pipe_rt_1b / pipe_rt_64b: two processes, two pipes; this side writes len
 * bytes into one and reads them back from the other, which the partner
 * (ubench pipe-echo) fills with what it read from the first: a round trip
 * is a write and a read on each side and two switches, as in ANCHORS.md's
 * Linux loop. Native calls (ks_pipe_*): a musl program's read and write add
 * musl_emu's dispatch on top.
 */
static void bench_pipe_rt(ks_handle_t image, const char *name, size_t len)
{
    long N = bench_n(2000);
    static uint8_t buf[64];
    ks_handle_t to[2], from[2];
    if (ks_pipe_create(to) != 0 || ks_pipe_create(from) != 0) {
        printf("ubench: %s: no pipes\n", name);
        return;
    }
    const char *argv[] = { "ubench", "pipe-echo", NULL };
    ks_handle_t give[2] = { to[0], from[1] };
    long child = ulib_spawn(image, "ubench", argv, give, 2);
    ks_handle_close(to[0]);
    ks_handle_close(from[1]);
    long ok = child > 0;
    for (int i = 0; ok && i < 10; i++)          /* the partner starts and settles */
        ok = ks_pipe_write(to[1], buf, len, 0) == (long)len && ks_pipe_read(from[0], buf, len, 0) == (long)len;
    uint64_t t0 = instret();
    for (long i = 0; ok && i < N; i++) {
        ks_pipe_write(to[1], buf, len, 0);
        ks_pipe_read(from[0], buf, len, 0);
    }
    uint64_t total = instret() - t0;
    ks_handle_close(to[1]);                     /* end of file: the partner ends */
    ks_handle_close(from[0]);
    if (child > 0) {
        uint64_t status;
        ks_process_wait((ks_handle_t)child, &status);
        ks_handle_close((ks_handle_t)child);
    }
    if (!ok) {
        printf("ubench: %s: the partner did not echo\n", name);
        return;
    }
    /* Each side's loop overhead, once per round trip. */
    report(name, total - empty_loop(N) - empty_loop(N), N, "insn/rt");
}

/* ubench pipe-echo: read from inherited handle 0, write it to 1, until end of file. */
static int pipe_echo(void)
{
    static uint8_t buf[64];
    ks_handle_t in = ulib_inherited(0), out = ulib_inherited(1);
    long n;
    while ((n = ks_pipe_read(in, buf, sizeof buf, 0)) > 0)
        ks_pipe_write(out, buf, (size_t)n, 0);
    return 0;
}

/* The anon_fault loop without faults (the pages are there): its bare overhead. */
static __attribute__((noipa)) uint64_t bare_store_loop(volatile uint8_t *p, long pages)
{
    uint64_t t0 = instret();
    for (long i = 0; i < pages; i++)
        p[i * KS_PAGE_SIZE] = 2;
    return instret() - t0;
}

static void bench_anon_fault(void)
{
    long PAGES = bench_n(256);
    uintptr_t addr = ulib_map_anon(PAGES * KS_PAGE_SIZE);
    if (!addr) {
        printf("ubench: anon_fault setup failed\n");
        return;
    }
    volatile uint8_t *p = (volatile uint8_t *)addr;
    uint64_t t0 = instret();
    for (long i = 0; i < PAGES; i++)
        p[i * KS_PAGE_SIZE] = 1;            /* first touch: a fault each */
    uint64_t faulting = instret() - t0;
    report("anon_fault", faulting - bare_store_loop(p, PAGES), PAGES, "insn/fault");
    ks_vm_unmap(KS_PROCESS_SELF, addr, PAGES * KS_PAGE_SIZE);
}

/*
 * A pager in its own process (as fsd would be): on each notification it asks
 * which pages are wanted and supplies each from a page of its own.
 */
static int pager_server(ks_handle_t listener, ks_handle_t mo)
{
    static uint8_t page[KS_PAGE_SIZE] __attribute__((aligned(4096)));
    uint64_t want[8], note[2];
    memset(page, 7, sizeof page);
    for (;;) {
        if (ks_listener_wait(listener, KS_FOREVER, note) != 0)
            return 1;
        long n = ks_pager_requests(mo, want, 8);
        for (long i = 0; i < n; i++)
            ks_pager_supply(mo, want[i], page, 1);
    }
}

/*
 * pager_fault: the first touch of a page of a paged memobj whose pager is
 * another process, as the toucher sees it: the fault, the request, the
 * switch to the pager, its notification, its requests and supply calls, the
 * wake-up and the return to the faulting store. Less the bare store loop.
 */
static void bench_pager_fault(ks_handle_t image)
{
    long PAGES = bench_n(64);
    long l = ks_ipc_listener_create();
    long m = l > 0 ? ks_memobj_create_paged((uint64_t)PAGES * KS_PAGE_SIZE, (ks_handle_t)l, 1) : l;
    const char *argv[] = { "ubench", "pager-server", NULL };
    const ks_handle_t given[] = { (ks_handle_t)l, (ks_handle_t)m };
    long server = m > 0 ? ulib_spawn(image, "ubench", argv, given, 2) : m;
    long at = server > 0 ? ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, (uint64_t)PAGES * KS_PAGE_SIZE,
                                     KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED) : server;
    if (at <= 0) {
        printf("ubench: pager_fault setup failed (%ld)\n", at);
        return;
    }
    volatile uint8_t *p = (volatile uint8_t *)at;
    uint64_t t0 = instret();
    for (long i = 0; i < PAGES; i++)
        p[i * KS_PAGE_SIZE] = 1;            /* first touch: the pager supplies each page */
    uint64_t faulting = instret() - t0;
    report("pager_fault", faulting - bare_store_loop(p, PAGES), PAGES, "insn/fault");
    uint64_t status;
    ks_process_kill((ks_handle_t)server);
    ks_process_wait((ks_handle_t)server, &status);
    ks_handle_close((ks_handle_t)server);
    ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)at, (uint64_t)PAGES * KS_PAGE_SIZE);
    ks_handle_close((ks_handle_t)m);
    ks_handle_close((ks_handle_t)l);
}

/*
 * The worst time a timer interrupt waited for its handler while one system
 * call wrote 64 MiB into a memobj (from a buffer of zero pages, faulted in
 * on the way): the kernel runs with interrupts off, so that is the longest
 * stretch it kept them off. In ns of virtual time, which under make bench's
 * -icount shift=0 is instructions. Not an instruction count of a window: the
 * profiler's audit lists it and does not recount it.
 */
/*
 * The worst time a timer interrupt waited for its handler while the kernel
 * ended 64 MiB things (user/lib/long_end.h: killing a process holding 2 x 64
 * MiB, an unmap, a truncate, a last close), the largest of the four; in ns of
 * virtual time, instructions under -icount. Not a window's count either.
 */
static void bench_irq_latency_end(ks_handle_t image)
{
    uint64_t waits[LONG_END_OPS], worst = 0;
    if (long_end_run(image, 64, waits) != 0) {
        printf("ubench: irq_latency_end setup failed\n");
        return;
    }
    for (int i = 0; i < LONG_END_OPS; i++)
        worst = waits[i] > worst ? waits[i] : worst;
    report("irq_latency_end", worst, 1, "ns");
}

static void bench_irq_latency_copy(void)
{
    enum { SIZE = 64 << 20 };
    long mo = ks_memobj_create(SIZE);
    uintptr_t src = ulib_map_anon(SIZE);
    struct ks_kstat k;
    if (mo < 0 || !src || ks_kstat_flags(&k, KS_KSTAT_RESET_LATENCY) != 0) {
        printf("ubench: irq_latency_64m setup failed\n");
        return;
    }
    long r = ks_memobj_write((ks_handle_t)mo, 0, (const void *)src, SIZE);
    ks_kstat(&k);
    if (r != SIZE)
        printf("ubench: the 64 MiB write returned %ld\n", r);
    else
        report("irq_latency_64m", k.irq_latency_max_ns, 1, "ns");
    ks_vm_unmap(KS_PROCESS_SELF, src, SIZE);
    ks_handle_close((ks_handle_t)mo);
}

static void bench_memobj_read(void)
{
    enum { SIZE = 1 << 20 };
    long ROUNDS = bench_n(4);
    long mo = ks_memobj_create(SIZE);
    uintptr_t addr = ulib_map_anon(SIZE);
    if (mo < 0 || !addr) {
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
    ks_vm_unmap(KS_PROCESS_SELF, addr, SIZE);
    ks_handle_close((ks_handle_t)mo);
}

/*
 * IPC servers, run as child processes: "echo-server" takes register-only
 * messages (so calls can take the fast path); "buf-server" receives with a
 * descriptor (a 64 KiB buffer and handle slots) and closes the handles it gets.
 * Both reply with the words they received, each plus one.
 */
static int echo_server(ks_handle_t listener, int with_buffer)
{
    /* Page-aligned (as ipc_rt_4k's source): a layout change elsewhere must not move a figure. */
    static uint8_t buf[KS_IPC_MAX_BUF] __attribute__((aligned(4096)));
    struct ks_ipc_desc d = { .recv_buf = buf, .recv_cap = sizeof buf };
    struct ks_ipc_desc *dp = with_buffer ? &d : 0;
    uint64_t w[KS_IPC_WORDS], userdata, info;
    long reply = ks_ipc_receive(listener, dp, w, &userdata, &info);
    for (;;) {
        if (reply < 0)
            return 1;
        for (uint32_t i = 0; with_buffer && i < d.recv_nhandles; i++)
            ks_handle_close(d.recv_handles[i]);
        for (int i = 0; i < KS_IPC_WORDS; i++)
            w[i] += 1;
        reply = ks_ipc_reply_receive((ks_handle_t)reply, listener, dp, w, &userdata, &info);
    }
}

struct ipc_bench {
    ks_handle_t listener, client;
    long server;
};

static int ipc_bench_start(struct ipc_bench *b, ks_handle_t image, const char *mode)
{
    long l = ks_ipc_listener_create();
    long c = l >= 0 ? ks_ipc_client_create((ks_handle_t)l, 42) : l;
    if (c < 0)
        return -1;
    b->listener = (ks_handle_t)l;
    b->client = (ks_handle_t)c;
    const char *argv[] = { "ubench", mode, NULL };
    b->server = ulib_spawn(image, "ubench", argv, &b->listener, 1);
    if (b->server < 0)
        return -1;
    uint64_t w[KS_IPC_WORDS] = { 1, 2, 3, 4, 5, 6, 7, 8 };      /* the server is up, and right */
    long r = ks_ipc_call(b->client, 0, w, 0);
    if (r != 0 || w[0] != 2 || w[7] != 9) {
        printf("ubench: %s answered %ld, w0 %lu w7 %lu\n", mode, r, (unsigned long)w[0], (unsigned long)w[7]);
        return -1;
    }
    return 0;
}

static void ipc_bench_stop(struct ipc_bench *b)
{
    uint64_t status;
    ks_process_kill((ks_handle_t)b->server);
    ks_process_wait((ks_handle_t)b->server, &status);
    ks_handle_close((ks_handle_t)b->server);
    ks_handle_close(b->client);
    ks_handle_close(b->listener);
}

/* Round trips: n calls with desc (or none), each carrying the same words, minus the bare loop. */
static uint64_t ipc_round_trips(ks_handle_t client, struct ks_ipc_desc *desc, long n)
{
    uint64_t t0 = instret();
    for (long i = 0; i < n; i++) {
        uint64_t w[KS_IPC_WORDS] = { 0 };
        ks_ipc_call(client, desc, w, 0);
    }
    uint64_t total = instret() - t0;
    return total - empty_loop(n);
}

static void bench_ipc(ks_handle_t image)
{
    long N = bench_n(2000);
    static uint8_t buf[4096] __attribute__((aligned(4096)));   /* one whole page (see echo_server) */
    struct ipc_bench regs, bufs;
    struct ks_ipc_stats s0, s1;
    if (ipc_bench_start(&regs, image, "echo-server") || ipc_bench_start(&bufs, image, "buf-server")) {
        printf("ubench: ipc setup failed\n");
        return;
    }
    ks_ipc_control(1, &s0);
    if (bench_wanted("ipc_rt_regs"))
        report("ipc_rt_regs", ipc_round_trips(regs.client, 0, N), N, "insn/rt");
    struct ks_ipc_desc d = { .send_buf = buf, .send_len = 64 };
    if (bench_wanted("ipc_rt_64b"))
        report("ipc_rt_64b", ipc_round_trips(bufs.client, &d, N), N, "insn/rt");
    d.send_len = 4096;
    if (bench_wanted("ipc_rt_4k"))
        report("ipc_rt_4k", ipc_round_trips(bufs.client, &d, N), N, "insn/rt");
    d.send_len = 0;
    d.send_nhandles = 1;
    d.send_handles[0] = regs.client;        /* a copy; the server closes it */
    if (bench_wanted("ipc_rt_handle"))
        report("ipc_rt_handle", ipc_round_trips(bufs.client, &d, N), N, "insn/rt");
    ks_ipc_control(1, &s1);
    uint64_t fast = s1.fast_calls - s0.fast_calls + s1.fast_replies - s0.fast_replies;
    uint64_t slow = s1.slow_calls - s0.slow_calls + s1.slow_replies - s0.slow_replies;
    if (bench_wanted("ipc_fastpath_share") && fast + slow)
        report("ipc_fastpath_share", 100 * fast, fast + slow, "percent");

    ks_ipc_control(0, 0);
    if (bench_wanted("ipc_rt_regs_slow"))
        report("ipc_rt_regs_slow", ipc_round_trips(regs.client, 0, N), N, "insn/rt");
    ks_ipc_control(1, 0);
    ipc_bench_stop(&regs);
    ipc_bench_stop(&bufs);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "yield-partner") == 0) {
        for (;;)
            ks_thread_yield();
    }
    if (argc > 1 && strcmp(argv[1], "pipe-echo") == 0)
        return pipe_echo();
    if (argc > 1 && strcmp(argv[1], "echo-server") == 0)
        return echo_server(ulib_inherited(0), 0);
    if (argc > 1 && strcmp(argv[1], "buf-server") == 0)
        return echo_server(ulib_inherited(0), 1);
    if (argc > 1 && strcmp(argv[1], "pager-server") == 0)
        return pager_server(ulib_inherited(0), ulib_inherited(1));
    ks_handle_t image = (ks_handle_t)ulib_auxv(KS_AT_BOOTIMAGE);
    bench_options(argc, argv);
    if (bench_wanted("rdinstret_check"))
        bench_rdinstret_check();
    if (bench_wanted("null_syscall"))
        bench_null_syscall();
    if (bench_wanted("yield_switch"))
        bench_yield_switch(image);
    if (bench_wanted("anon_fault"))
        bench_anon_fault();
    if (bench_wanted("pager_fault"))
        bench_pager_fault(image);
    if (bench_wanted("memobj_read_1m"))
        bench_memobj_read();
    if (bench_wanted("irq_latency_64m") && !bench_cap)
        bench_irq_latency_copy();       /* not an instruction count: no short run for the profiler */
    if (bench_wanted("irq_latency_end") && !bench_cap)
        bench_irq_latency_end(image);
    if (!bench_only || strncmp(bench_only, "ipc_", 4) == 0)
        bench_ipc(image);
    if (bench_wanted("pipe_rt_1b"))
        bench_pipe_rt(image, "pipe_rt_1b", 1);
    if (bench_wanted("pipe_rt_64b"))
        bench_pipe_rt(image, "pipe_rt_64b", 64);
    return 0;
}
