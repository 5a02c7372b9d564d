/*
 * user/uipc.c - tests of call/reply IPC from user space (KTAP), run by init
 * after utest when the bootargs say "utest".
 *
 * Suites: ipc_basic (what a call carries), ipc_fast (the assembly fast path
 * against the C path, row by row), ipc_fail (servers and callers going away),
 * ipc_bad (bad arguments), ipc_stress (many threads, many calls), ipc_leaks.
 *
 * The same program is also its own helper: started with argv[1] naming a mode
 * (see helper_main) it serves, calls, or dies as a test needs. Only the main
 * thread prints (the output buffer is not shared safely between threads);
 * other threads leave their results in memory for the main thread to check.
 */
#include "kernel/ktest.h"
#include "user/lib/ipc.h"
#include "user/lib/ulib.h"

#define MS 1000000ull
#define DBGK(tag) do { struct ks_kstat k_; ks_kstat(&k_); printf("# %s: free %lu heap %lu obj %lu\n", tag, (unsigned long)k_.free_pages, (unsigned long)k_.heap_objects, (unsigned long)k_.objects); } while (0)

static ks_handle_t g_image;

/* ---- one IPC system call with every output register ---- */

struct ipcres {
    long a0;
    uint64_t a1, a7;
    uint64_t w[KS_IPC_WORDS];
    uint64_t t[4];              /* t3..t6, which the kernel must return zeroed */
};

/*
 * Like ks_ipc_raw, but t3..t6 go in holding non-zero values (t3 = `t3`) and
 * come back out, so the test can see that the kernel zeroes them.
 */
static __attribute__((noinline)) long ipc_full(long num, long handle, struct ks_ipc_desc *desc, long t3,
                                               const uint64_t win[KS_IPC_WORDS], struct ipcres *o)
{
    register long r_a0 __asm__("a0") = handle;
    register long r_a1 __asm__("a1") = (long)desc;
    register uint64_t m0 __asm__("a2") = win[0];
    register uint64_t m1 __asm__("a3") = win[1];
    register uint64_t m2 __asm__("a4") = win[2];
    register uint64_t m3 __asm__("a5") = win[3];
    register uint64_t m4 __asm__("a6") = win[4];
    register uint64_t m5 __asm__("t0") = win[5];
    register uint64_t m6 __asm__("t1") = win[6];
    register uint64_t m7 __asm__("t2") = win[7];
    register long r_t3 __asm__("t3") = t3;
    register long r_t4 __asm__("t4") = 0x4444;
    register long r_t5 __asm__("t5") = 0x5555;
    register long r_t6 __asm__("t6") = 0x6666;
    register long r_a7 __asm__("a7") = num;
    __asm__ volatile("ecall"
                     : "+r"(r_a0), "+r"(r_a1), "+r"(m0), "+r"(m1), "+r"(m2), "+r"(m3), "+r"(m4),
                       "+r"(m5), "+r"(m6), "+r"(m7), "+r"(r_t3), "+r"(r_t4), "+r"(r_t5), "+r"(r_t6),
                       "+r"(r_a7)
                     :
                     : "memory");
    o->a0 = r_a0;
    o->a1 = (uint64_t)r_a1;
    o->a7 = (uint64_t)r_a7;
    o->w[0] = m0, o->w[1] = m1, o->w[2] = m2, o->w[3] = m3;
    o->w[4] = m4, o->w[5] = m5, o->w[6] = m6, o->w[7] = m7;
    o->t[0] = (uint64_t)r_t3, o->t[1] = (uint64_t)r_t4, o->t[2] = (uint64_t)r_t5, o->t[3] = (uint64_t)r_t6;
    return r_a0;
}

static long call_full(ks_handle_t port, struct ks_ipc_desc *d, const uint64_t w[KS_IPC_WORDS], struct ipcres *o)
{
    return ipc_full(KS_SYS_IPC_CALL, port, d, 0x3333, w, o);
}

static long recv_full(ks_handle_t listener, struct ks_ipc_desc *d, struct ipcres *o)
{
    static const uint64_t junk[KS_IPC_WORDS] = { 11, 12, 13, 14, 15, 16, 17, 18 };
    return ipc_full(KS_SYS_IPC_RECEIVE, listener, d, 0x3333, junk, o);
}

static long reply_full(ks_handle_t reply, struct ks_ipc_desc *d, const uint64_t w[KS_IPC_WORDS], struct ipcres *o)
{
    return ipc_full(KS_SYS_IPC_REPLY, reply, d, 0x3333, w, o);
}

static __attribute__((unused)) long reply_recv_full(ks_handle_t reply, ks_handle_t listener, struct ks_ipc_desc *d,
                            const uint64_t w[KS_IPC_WORDS], struct ipcres *o)
{
    return ipc_full(KS_SYS_IPC_REPLY_RECEIVE, reply, d, listener, w, o);
}

/* The words a test sends: distinct in every bit position that matters. */
static void fill_words(uint64_t w[KS_IPC_WORDS], uint64_t seed)
{
    for (int i = 0; i < KS_IPC_WORDS; i++)
        w[i] = (seed + (uint64_t)i) * 0x9e3779b97f4a7c15ull ^ ((uint64_t)i << 56);
}

static void fill_bytes(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
}

static int check_bytes(const uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        if (p[i] != (uint8_t)(x >> 16))
            return 0;
    }
    return 1;
}

static int all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

static int words_eq(const uint64_t a[KS_IPC_WORDS], const uint64_t b[KS_IPC_WORDS])
{
    return memcmp(a, b, KS_IPC_WORDS * sizeof(uint64_t)) == 0;
}

static int regs_zero(const struct ipcres *r)
{
    return r->t[0] == 0 && r->t[1] == 0 && r->t[2] == 0 && r->t[3] == 0;
}

static int words_zero(const struct ipcres *r)
{
    for (int i = 0; i < KS_IPC_WORDS; i++)
        if (r->w[i])
            return 0;
    return 1;
}

static uint32_t htype(long h)
{
    long i = ks_handle_info((ks_handle_t)h);
    return i < 0 ? 0 : (uint32_t)i >> 8;
}

static uint32_t hrights(long h)
{
    long i = ks_handle_info((ks_handle_t)h);
    return i < 0 ? 0 : (uint32_t)i & 0xff;
}

/* ---- threads ---- */

#define STACK_SIZE (64 * 1024)

struct uthread {
    long h;
    uintptr_t stack;
};

static long thread_start(struct uthread *t, void (*fn)(long), long arg)
{
    t->h = -1;
    t->stack = 0;
    long mo = ks_memobj_create(STACK_SIZE);
    if (mo < 0)
        return mo;
    long a = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)mo, 0, 0, STACK_SIZE,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_PRIVATE);
    ks_handle_close((ks_handle_t)mo);
    if (a < 0)
        return a;
    t->stack = (uintptr_t)a;
    t->h = ks_thread_create(KS_PROCESS_SELF, (void *)fn, (void *)(t->stack + STACK_SIZE), arg);
    if (t->h < 0) {
        ks_vm_unmap(KS_PROCESS_SELF, t->stack, STACK_SIZE);
        t->stack = 0;
    }
    return t->h;
}

/* Join (if started), free the stack and the handle. Returns the exit code. */
static long thread_finish(struct uthread *t)
{
    long r = -1;
    if (t->h >= 0) {
        r = ks_thread_join((ks_handle_t)t->h);
        ks_handle_close((ks_handle_t)t->h);
    }
    if (t->stack)
        ks_vm_unmap(KS_PROCESS_SELF, t->stack, STACK_SIZE);
    t->h = -1;
    t->stack = 0;
    return r;
}

/* Let other threads run until they block (the tick is 10 ms). */
static __attribute__((unused)) void settle(void)
{
    for (int i = 0; i < 4; i++)
        ks_thread_yield();
    ks_thread_sleep(15 * MS);
}

/* Wait until *flag is set, at most ms milliseconds; 1 if it was. */
static int wait_flag(volatile int *flag, unsigned ms)
{
    uint64_t end = (uint64_t)ks_clock_ns() + ms * MS;
    while (!*flag) {
        if ((uint64_t)ks_clock_ns() > end)
            return 0;
        ks_thread_sleep(2 * MS);
    }
    return 1;
}

/* ---- a caller thread: one or more calls through a port, results kept ---- */

struct job {
    ks_handle_t port;
    struct ks_ipc_desc *desc;
    uint64_t w[KS_IPC_WORDS];
    uint64_t delay_ns;          /* sleep first */
    struct ipcres res;
    volatile int started, done;
};

static void caller_thread(long arg)
{
    struct job *j = (struct job *)arg;
    j->started = 1;
    if (j->delay_ns)
        ks_thread_sleep(j->delay_ns);
    call_full(j->port, j->desc, j->w, &j->res);
    j->done = 1;
    ks_thread_exit(0);
}

/*
 * Wait for a caller thread to finish, at most ms; a caller still blocked then
 * is interrupted (so that a test never hangs) and the wait counts as failed.
 */
static int job_wait(struct job *j, struct uthread *t, unsigned ms)
{
    int ok = wait_flag(&j->done, ms);
    if (!ok && t->h >= 0)
        ks_thread_interrupt((ks_handle_t)t->h);
    thread_finish(t);
    return ok;
}

/* ---- leak checks ---- */

static struct ks_kstat main_start, suite_start;

static void snap(struct ks_kstat *k)
{
    ks_kstat(k);
}

static void expect_no_leak(const struct ks_kstat *before, const char *what)
{
    struct ks_kstat now;
    snap(&now);
    if (now.free_pages != before->free_pages || now.heap_objects != before->heap_objects ||
        now.objects != before->objects)
        ktest_fail(__FILE__, __LINE__, "%s: leak: free_pages %lu -> %lu, heap_objects %lu -> %lu, objects %lu -> %lu",
                   what, (unsigned long)before->free_pages, (unsigned long)now.free_pages,
                   (unsigned long)before->heap_objects, (unsigned long)now.heap_objects,
                   (unsigned long)before->objects, (unsigned long)now.objects);
}

static void suite_begin(void)
{
    snap(&suite_start);
}

static void suite_no_leaks(void)
{
    expect_no_leak(&suite_start, "suite");
}

/* ======================= ipc_basic ======================= */

static uint8_t big_a[KS_IPC_MAX_BUF + 64], big_b[KS_IPC_MAX_BUF + 64];
static uint8_t big_req[KS_IPC_MAX_BUF], big_rep[KS_IPC_MAX_BUF];

/* Words and userdata both ways; handle types and rights of the three port kinds. */
static void basic_words(void)
{
    snap(&main_start);      /* here rather than in main: ktest's own data pages are in use now */
    suite_begin();
    long l = ks_ipc_listener_create();
    KT_ASSERT(l >= 256);
    long c1 = ks_ipc_client_create((ks_handle_t)l, 0x123456789abcdef0ull);
    long c2 = ks_ipc_client_create((ks_handle_t)l, 7);
    KT_ASSERT(c1 >= 256 && c2 >= 256);
    KT_EXPECT_EQ(htype(l), KS_OBJ_LISTENER);
    KT_EXPECT((hrights(l) & (KS_RIGHT_READ | KS_RIGHT_MANAGE)) == (KS_RIGHT_READ | KS_RIGHT_MANAGE));
    KT_EXPECT(!(hrights(l) & KS_RIGHT_WRITE));
    KT_EXPECT_EQ(htype(c1), KS_OBJ_CLIENT);
    KT_EXPECT_EQ(hrights(c1), KS_RIGHT_WRITE | KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE);

    for (int k = 0; k < 2; k++) {
        struct job j = { .port = (ks_handle_t)(k ? c2 : c1) };
        fill_words(j.w, 100 + k);
        struct uthread t;
        KT_ASSERT(thread_start(&t, caller_thread, (long)&j) >= 0);
        struct ipcres r;
        long rp = recv_full((ks_handle_t)l, 0, &r);
        KT_EXPECT(rp >= 256);
        KT_EXPECT_EQ(htype(rp), KS_OBJ_REPLY);
        KT_EXPECT_EQ(hrights(rp), KS_RIGHT_WRITE);
        KT_EXPECT_EQ(r.a1, k ? 7 : 0x123456789abcdef0ull);
        KT_EXPECT_EQ(r.a7, 0);
        KT_EXPECT(words_eq(r.w, j.w));
        KT_EXPECT(regs_zero(&r));
        uint64_t rw[KS_IPC_WORDS];
        fill_words(rw, 900 + k);
        struct ipcres rr;
        KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &rr), 0);
        KT_EXPECT(words_zero(&rr));
        KT_EXPECT(regs_zero(&rr));
        KT_EXPECT_EQ(rr.a1, 0);
        KT_EXPECT_EQ(rr.a7, 0);
        KT_EXPECT(job_wait(&j, &t, 2000));
        KT_EXPECT_EQ(j.res.a0, 0);
        KT_EXPECT(words_eq(j.res.w, rw));
        KT_EXPECT_EQ(j.res.a1, 0);
        KT_EXPECT_EQ(j.res.a7, 0);
        KT_EXPECT(regs_zero(&j.res));
    }
    ks_handle_close((ks_handle_t)c1);
    ks_handle_close((ks_handle_t)c2);
    ks_handle_close((ks_handle_t)l);
}

/*
 * A buffer of n bytes each way: the request arrives in a receive buffer of
 * `rcap` bytes, the reply (m bytes) in the caller's of `ccap`. Checks the
 * contents, recv_len, info and the truncation flags on both sides.
 */
static void buffer_round(uint64_t n, uint64_t rcap, uint64_t m, uint64_t ccap)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 5);
    KT_ASSERT(l >= 256 && c >= 256);
    uint8_t *req = big_req, *rep = big_rep;
    fill_bytes(req, n, (uint32_t)n);
    fill_bytes(rep, m, (uint32_t)m + 1);
    memset(big_a, 0xcc, sizeof big_a);  /* the server's receive buffer */
    memset(big_b, 0xdd, sizeof big_b);  /* the caller's */
    struct ks_ipc_desc cd = { .send_buf = req, .send_len = n, .recv_buf = big_b, .recv_cap = ccap,
                              .recv_len = 12345, .flags = 0xff00 };
    struct job j = { .port = (ks_handle_t)c, .desc = &cd };
    fill_words(j.w, n);
    struct uthread t;
    KT_ASSERT(thread_start(&t, caller_thread, (long)&j) >= 0);
    struct ks_ipc_desc sd = { .recv_buf = big_a, .recv_cap = rcap, .recv_len = 999, .flags = 0xff00 };
    struct ipcres r;
    long rp = recv_full((ks_handle_t)l, &sd, &r);
    KT_EXPECT(rp >= 256);
    KT_EXPECT_EQ(r.a1, 5);
    KT_EXPECT(words_eq(r.w, j.w));
    uint64_t got = n < rcap ? n : rcap;
    KT_EXPECT_EQ(KS_IPC_INFO_BYTES(r.a7), got);
    KT_EXPECT_EQ(KS_IPC_INFO_HANDLES(r.a7), 0);
    KT_EXPECT_EQ(!!(r.a7 & KS_IPC_INFO_TRUNCATED), n > rcap);
    KT_EXPECT_EQ(r.a7 & ~(KS_IPC_INFO_TRUNCATED | 0xffffffffull), 0);
    KT_EXPECT_EQ(sd.recv_len, n);
    KT_EXPECT_EQ(sd.recv_nhandles, 0);
    KT_EXPECT_EQ(sd.flags, 0);
    KT_EXPECT(check_bytes(big_a, got, (uint32_t)n));
    KT_EXPECT(all_bytes(big_a + got, sizeof big_a - got, 0xcc));
    /* reply with m bytes */
    struct ks_ipc_desc sr = { .send_buf = rep, .send_len = m, .flags = 0xff00 };
    uint64_t rw[KS_IPC_WORDS];
    fill_words(rw, m + 3);
    struct ipcres rr;
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, &sr, rw, &rr), 0);
    KT_EXPECT_EQ(!!(sr.flags & KS_IPC_PEER_TRUNCATED), m > ccap);
    KT_EXPECT_EQ(sr.flags & ~KS_IPC_PEER_TRUNCATED, 0);
    KT_EXPECT(job_wait(&j, &t, 2000));
    KT_EXPECT_EQ(j.res.a0, 0);
    KT_EXPECT(words_eq(j.res.w, rw));
    uint64_t cgot = m < ccap ? m : ccap;
    KT_EXPECT_EQ(KS_IPC_INFO_BYTES(j.res.a7), cgot);
    KT_EXPECT_EQ(!!(j.res.a7 & KS_IPC_INFO_TRUNCATED), m > ccap);
    KT_EXPECT_EQ(cd.recv_len, m);
    KT_EXPECT_EQ(cd.recv_nhandles, 0);
    /* the caller's flags: its request was cut, and only that */
    KT_EXPECT_EQ(cd.flags, n > rcap ? KS_IPC_PEER_TRUNCATED : 0);
    KT_EXPECT(check_bytes(big_b, cgot, (uint32_t)m + 1));
    KT_EXPECT(all_bytes(big_b + cgot, sizeof big_b - cgot, 0xdd));
    /* the send buffers are untouched */
    KT_EXPECT(check_bytes(req, n, (uint32_t)n));
    KT_EXPECT(check_bytes(rep, m, (uint32_t)m + 1));
    ks_handle_close((ks_handle_t)rp);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
}

static void basic_buf_64(void)
{
    buffer_round(64, 64, 64, 64);
    buffer_round(64, 100, 48, 4096);
}

static void basic_buf_64k(void)
{
    buffer_round(KS_IPC_MAX_BUF, KS_IPC_MAX_BUF, KS_IPC_MAX_BUF, KS_IPC_MAX_BUF);
    buffer_round(KS_IPC_MAX_BUF - 1, KS_IPC_MAX_BUF, 1, KS_IPC_MAX_BUF);
}

static void basic_trunc_request(void)
{
    buffer_round(100, 40, 10, 64);
    buffer_round(KS_IPC_MAX_BUF, 4095, 0, 0);
    buffer_round(77, 0, 0, 0);          /* a receiver with no room at all */
}

static void basic_trunc_reply(void)
{
    buffer_round(10, 64, 200, 50);
    buffer_round(0, 0, KS_IPC_MAX_BUF, 4097);
    buffer_round(0, 0, 33, 0);
}

static const struct ktest_case basic_cases[] = {
    { "words_userdata", basic_words },
    { "buf_64", basic_buf_64 },
    { "buf_64k", basic_buf_64k },
    { "trunc_request", basic_trunc_request },
    { "trunc_reply", basic_trunc_reply },
    { "no_leaks", suite_no_leaks },
};
KTEST_SUITE(basic_suite, "ipc_basic", basic_cases);

/* ======================= ipc_leaks ======================= */

static void leaks_total(void)
{
    expect_no_leak(&main_start, "whole run");
}

static const struct ktest_case leaks_cases[] = {
    { "total", leaks_total },
};
KTEST_SUITE(leaks_suite, "ipc_leaks", leaks_cases);

/* ======================= helper modes ======================= */

/*
 * What the process keeps for good once used, made before the first kstat
 * snapshot: the pages of the static buffers, and the main thread's reply port
 * (a receive makes it before blocking; a pending interrupt ends the wait).
 */
static __attribute__((noinline)) void touch_stack(void)
{
    volatile uint8_t deep[32 * 1024];
    for (size_t i = 0; i < sizeof deep; i += 512)
        deep[i] = 1;
}

static void nop_thread(long arg)
{
    ks_thread_exit(arg);
}

static void warm_up(void)
{
    touch_stack();
    struct uthread t;                   /* page tables where thread stacks go */
    if (thread_start(&t, nop_thread, 0) >= 0)
        thread_finish(&t);
    memset(big_a, 0, sizeof big_a);
    memset(big_b, 0, sizeof big_b);
    memset(big_req, 0, sizeof big_req);
    memset(big_rep, 0, sizeof big_rep);
    long l = ks_ipc_listener_create();
    ks_thread_interrupt(KS_THREAD_SELF);
    uint64_t w[KS_IPC_WORDS] = { 0 };
    long r = ks_ipc_receive((ks_handle_t)l, 0, w, 0, 0);
    if (r != KS_ERR_INTERRUPTED)
        printf("# uipc: warm-up receive returned %ld, not KS_ERR_INTERRUPTED\n", r);
    ks_handle_close((ks_handle_t)l);
}

static int helper_main(int argc, char **argv)
{
    return 100;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return helper_main(argc, argv);
    warm_up();
    g_image = (ks_handle_t)ulib_auxv(KS_AT_BOOTIMAGE);
    static const struct ktest_suite *const suites[] = {
        &basic_suite, &leaks_suite,
    };
    int failures = ktest_run(suites, sizeof suites / sizeof suites[0]);
    return failures ? 1 : 0;
}
