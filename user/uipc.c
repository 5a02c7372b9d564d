/*
 * user/uipc.c - tests of call/reply IPC from user space (KTAP), run by init
 * after utest when the bootargs say "utest".
 *
 * Suites: ipc_basic (what a call carries), ipc_fast (the assembly fast path
 * against the C path, row by row), ipc_fail (servers and callers going away),
 * ipc_bad (bad arguments), ipc_stress (many threads, many calls), ipc_leaks
 * (kernel counters), and last ipc_hazard (a case that, when the bug it looks
 * for is present, has taken the whole kernel down).
 *
 * The same program is also its own helper: started with argv[1] naming a mode
 * (see helper_main) it serves, calls, or dies as a test needs. Only the main
 * thread prints (the output buffer is not shared safely between threads);
 * other threads leave their results in memory for the main thread to check.
 * Every blocking call of the main thread runs under a watchdog thread that
 * interrupts it, and every helper thread or process is waited for with a
 * deadline, so a kernel that loses a wake-up fails a case instead of hanging.
 *
 * Leak checks compare ks_kstat counters (see expect_no_leak): per fast-path
 * row, per suite (the suite's last case, no_leaks), and for the whole run
 * (ipc_leaks.total). warm_up() first makes what the process keeps for good
 * (its data pages, the main thread's reply port, kernel caches).
 *
 * To run only some cases while debugging, build with -DUIPC_ONLY='"prefix"'.
 */
#include "kernel/ktest.h"
#include <kestrel/upcall.h>
#include "user/lib/ipc.h"
#include "user/lib/testlib.h"
#include "user/lib/ulib.h"

#define MS 1000000ull
#define UNMAPPED_ADDR   0x0000500000000000ull   /* user space, nothing mapped there */

static ks_handle_t g_image;

/* ---- one IPC system call with every output register ---- */

struct ipcres {
    long a0;
    uint64_t a1, a7;
    uint64_t w[KS_IPC_WORDS];
    uint64_t t[4];              /* t3..t6, which the kernel must return zeroed */
};

static volatile int sregs_bad;           /* an IPC call changed one of s0-s11 (ipc_full) */

/* The value s<i> holds across every IPC system call ipc_full makes. */
#define SREG_MARK(i) (0x5e00000000000000ull ^ (0x1111111111ull * (uint64_t)((i) + 1)))

/*
 * Like ks_ipc_raw, but t3..t6 go in holding non-zero values (t3 = `t3`) and
 * come back out, so the test can see that the kernel zeroes them; and s0-s11
 * go in holding SREG_MARK(i) and are recorded as they come back (sregs_bad
 * counts calls that changed one), since the IPC ABI keeps them as a function
 * call does, on every path: fast, slow, and a fast one that hands over to the
 * slow one half way. The asm saves the program's own s0-s11 around the call.
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
    uint64_t io[24];            /* s0-s11 as they go in, then as they came back */
    for (int i = 0; i < 12; i++)
        io[i] = SREG_MARK(i);
    register long r_t6 __asm__("t6") = (long)io;     /* (non-zero too) */
    register long r_a7 __asm__("a7") = num;
    __asm__ volatile("addi sp, sp, -112\n"
                     "sd s0, 0(sp)\n sd s1, 8(sp)\n sd s2, 16(sp)\n sd s3, 24(sp)\n"
                     "sd s4, 32(sp)\n sd s5, 40(sp)\n sd s6, 48(sp)\n sd s7, 56(sp)\n"
                     "sd s8, 64(sp)\n sd s9, 72(sp)\n sd s10, 80(sp)\n sd s11, 88(sp)\n"
                     "sd t6, 96(sp)\n"
                     "mv s0, t6\n"
                     "ld s1, 8(s0)\n ld s2, 16(s0)\n ld s3, 24(s0)\n ld s4, 32(s0)\n"
                     "ld s5, 40(s0)\n ld s6, 48(s0)\n ld s7, 56(s0)\n ld s8, 64(s0)\n"
                     "ld s9, 72(s0)\n ld s10, 80(s0)\n ld s11, 88(s0)\n ld s0, 0(s0)\n"
                     "ecall\n"
                     "sd s0, 104(sp)\n"
                     "ld s0, 96(sp)\n"
                     "sd s1, 104(s0)\n sd s2, 112(s0)\n sd s3, 120(s0)\n sd s4, 128(s0)\n"
                     "sd s5, 136(s0)\n sd s6, 144(s0)\n sd s7, 152(s0)\n sd s8, 160(s0)\n"
                     "sd s9, 168(s0)\n sd s10, 176(s0)\n sd s11, 184(s0)\n"
                     "ld s1, 104(sp)\n sd s1, 96(s0)\n"
                     "ld s0, 0(sp)\n ld s1, 8(sp)\n ld s2, 16(sp)\n ld s3, 24(sp)\n"
                     "ld s4, 32(sp)\n ld s5, 40(sp)\n ld s6, 48(sp)\n ld s7, 56(sp)\n"
                     "ld s8, 64(sp)\n ld s9, 72(sp)\n ld s10, 80(sp)\n ld s11, 88(sp)\n"
                     "addi sp, sp, 112"
                     : "+r"(r_a0), "+r"(r_a1), "+r"(m0), "+r"(m1), "+r"(m2), "+r"(m3), "+r"(m4),
                       "+r"(m5), "+r"(m6), "+r"(m7), "+r"(r_t3), "+r"(r_t4), "+r"(r_t5), "+r"(r_t6),
                       "+r"(r_a7)
                     :
                     : "memory");
    for (int i = 0; i < 12; i++)
        if (io[12 + i] != io[i]) {
            sregs_bad++;
            break;
        }
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

static long reply_recv_full(ks_handle_t reply, ks_handle_t listener, struct ks_ipc_desc *d,
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
    return i < 0 ? 0 : KS_INFO_TYPE(i);
}

static uint32_t hrights(long h)
{
    long i = ks_handle_info((ks_handle_t)h);
    return i < 0 ? 0 : KS_INFO_RIGHTS(i);
}

/* ---- threads ---- */

/* Threads are testlib's (user/lib/testlib.h), on larger stacks: the servers keep whole messages there. */
#define STACK_SIZE (64 * 1024)

/* Start fn(arg) into *t; t->h: the handle or a negative error, which it also returns. */
static long thread_start_into(struct uthread *t, void (*fn)(long), long arg)
{
    *t = thread_start_sized(fn, arg, STACK_SIZE);
    return t->h;
}

/* Let other threads run until they block (the tick is 10 ms). */
static void settle(void)
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

/* What the echo servers here reply: each word changed, and the userdata in it. */
static void echo_f(const uint64_t w[KS_IPC_WORDS], uint64_t userdata, uint64_t out[KS_IPC_WORDS])
{
    for (int i = 0; i < KS_IPC_WORDS; i++)
        out[i] = w[i] * 3 + userdata + (uint64_t)i;
}

struct job {
    ks_handle_t port;
    struct ks_ipc_desc *desc;
    uint64_t w[KS_IPC_WORDS];   /* the (first) call's words */
    uint64_t delay_ns;          /* sleep first */
    int ncalls;                 /* > 1: calls with words fill_words(seed + k) ... */
    uint64_t seed, echo_ud;     /* ... each reply checked against echo_f(words, echo_ud) */
    struct ipcres res;          /* the last call's */
    volatile int started, done, ok_calls, bad_calls;
};

static void caller_thread(long arg)
{
    struct job *j = (struct job *)arg;
    j->started = 1;
    if (j->delay_ns)
        ks_thread_sleep(j->delay_ns);
    if (j->ncalls <= 1) {
        call_full(j->port, j->desc, j->w, &j->res);
    } else {
        for (int k = 0; k < j->ncalls; k++) {
            uint64_t w[KS_IPC_WORDS], want[KS_IPC_WORDS];
            fill_words(w, j->seed + (uint64_t)k);
            echo_f(w, j->echo_ud, want);
            if (call_full(j->port, j->desc, w, &j->res) == 0 && words_eq(j->res.w, want))
                j->ok_calls++;
            else
                j->bad_calls++;
        }
    }
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

/* ---- a watchdog for the main thread's blocking calls ---- */

static ks_handle_t g_main_thread;      /* a real handle to the main thread (interruptible) */

static struct {
    struct uthread t;
    volatile int fired;
} wd = { .t = { .h = -1 } };

static void watchdog_thread(long ms)
{
    if (ks_thread_sleep((uint64_t)ms * MS) == 0) {
        wd.fired = 1;
        ks_thread_interrupt(g_main_thread);
    }
    ks_thread_exit(0);
}

/* Interrupt the main thread after ms milliseconds unless disarmed first. */
static void watchdog_arm(unsigned ms)
{
    wd.fired = 0;
    thread_start_into(&wd.t, watchdog_thread, (long)ms);
}

/* 1 if the watchdog did not fire; a pending interrupt it left is consumed. */
static int watchdog_disarm(void)
{
    if (wd.t.h >= 0)
        ks_thread_interrupt((ks_handle_t)wd.t.h);
    thread_finish(&wd.t);
    if (wd.fired) {
        ks_thread_sleep(1);     /* returns at once, taking the pending interrupt */
        return 0;
    }
    return 1;
}

/* ---- helper processes ---- */

static long spawn_helper(const char *mode, const char *arg, const ks_handle_t *give, unsigned ngive)
{
    const char *argv[] = { "uipc", mode, arg, NULL };
    return ulib_spawn(g_image, "uipc", argv, give, ngive);
}

/*
 * Wait at most ms for process p to end and close its handle. Returns its
 * status, or -1 if it had to be killed.
 */
static long child_reap(long p, unsigned ms)
{
    if (p < 0)
        return -2;
    uint64_t status = 0;
    watchdog_arm(ms);
    long r = ks_process_wait((ks_handle_t)p, &status);
    int in_time = watchdog_disarm();
    if (r != 0) {
        ks_process_kill((ks_handle_t)p);
        ks_process_wait((ks_handle_t)p, &status);
    }
    ks_handle_close((ks_handle_t)p);
    return r == 0 && in_time ? (long)status : -1;
}

static long child_kill(long p)
{
    if (p < 0)
        return -2;
    uint64_t status = 0;
    ks_process_kill((ks_handle_t)p);
    long r = ks_process_wait((ks_handle_t)p, &status);
    ks_handle_close((ks_handle_t)p);
    return r == 0 ? (long)status : r;
}

/* A page shared with helper processes (KS_MAP_SHARED), for progress and results. */
struct shared {
    volatile uint64_t v[KS_PAGE_SIZE / 8];
};

static struct shared *shared_map(ks_handle_t mo)
{
    long a = ks_vm_map(KS_PROCESS_SELF, mo, 0, 0, KS_PAGE_SIZE,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    return a < 0 ? NULL : (struct shared *)a;
}

static struct shared *shared_create(long *mo)
{
    *mo = ks_memobj_create(KS_PAGE_SIZE);
    if (*mo < 0)
        return NULL;
    struct shared *sh = shared_map((ks_handle_t)*mo);
    if (!sh) {
        ks_handle_close((ks_handle_t)*mo);
        *mo = -1;
    }
    return sh;
}

static void shared_destroy(struct shared *sh, long mo)
{
    if (sh)
        ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)sh, KS_PAGE_SIZE);
    if (mo >= 0)
        ks_handle_close((ks_handle_t)mo);
}

/* Wait until sh->v[i] >= want, at most ms. */
static int shared_wait(struct shared *sh, int i, uint64_t want, unsigned ms)
{
    uint64_t end = (uint64_t)ks_clock_ns() + ms * MS;
    while (sh->v[i] < want) {
        if ((uint64_t)ks_clock_ns() > end)
            return 0;
        ks_thread_sleep(2 * MS);
    }
    return 1;
}

/*
 * Serve n calls on listener l as an echo server (receive, then
 * reply-and-receive), under a watchdog. Returns the number of calls served;
 * the last reply port is replied with a plain reply.
 */
static int serve_echo(ks_handle_t l, int n, unsigned ms)
{
    int served = 0;
    struct ipcres r;
    uint64_t w[KS_IPC_WORDS];
    watchdog_arm(ms);
    long rp = recv_full(l, 0, &r);
    while (rp >= 0) {
        echo_f(r.w, r.a1, w);
        served++;
        if (served == n) {
            reply_full((ks_handle_t)rp, 0, w, &r);
            break;
        }
        rp = reply_recv_full((ks_handle_t)rp, l, 0, w, &r);
    }
    watchdog_disarm();
    return served;
}

/* Serve calls on listener l with reply-and-receive, echoing (echo_f), until it fails: that result. */
static long echo_until_fails(ks_handle_t l)
{
    struct ipcres r;
    uint64_t w[KS_IPC_WORDS];
    long rp = recv_full(l, 0, &r);
    while (rp >= 0) {
        echo_f(r.w, r.a1, w);
        rp = reply_recv_full((ks_handle_t)rp, l, 0, w, &r);
    }
    return rp;
}

static uint64_t atou(const char *s)
{
    uint64_t v = 0;
    while (s && *s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t)(*s++ - '0');
    return v;
}

/* ---- leak checks ---- */

static struct ks_kstat main_start, suite_start;

static void snap(struct ks_kstat *k)
{
    ks_kstat(k);
}

/*
 * Kernel objects and heap objects must be back exactly. Free pages may differ
 * by at most PAGE_SLACK: the kernel heap keeps up to one empty slab per size
 * class and its slabs fragment differently from run to run, so the same live
 * objects can occupy a few more or fewer pages. (ipc_leaks.repeat checks
 * free pages exactly, in a steady state, where a real page leak shows.)
 */
#define PAGE_SLACK 8

static void expect_no_leak(const struct ks_kstat *before, const char *what)
{
    struct ks_kstat now;
    snap(&now);
    int64_t dpages = (int64_t)now.free_pages - (int64_t)before->free_pages;
    if (dpages)
        printf("# %s: free pages changed by %ld (kernel heap slabs)\n", what, (long)dpages);
    if (dpages < -PAGE_SLACK || dpages > PAGE_SLACK || now.heap_objects != before->heap_objects ||
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
        KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j) >= 0);
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
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j) >= 0);
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


/*
 * Four handles in a call (two copied, two moved) and one back in the reply:
 * types and rights arrive as sent, moved ones leave the sender, all usable.
 */
static void basic_handles(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 1);
    long l2 = ks_ipc_listener_create();
    long p2 = ks_ipc_client_create((ks_handle_t)l2, 0xabc);
    long m = ks_memobj_create(KS_PAGE_SIZE);
    long m2 = ks_memobj_create(KS_PAGE_SIZE);
    KT_ASSERT(l >= 256 && c >= 256 && l2 >= 256 && p2 >= 256 && m >= 256 && m2 >= 256);
    KT_ASSERT(ks_memobj_write((ks_handle_t)m, 0, "hello", 5) == 5);
    KT_ASSERT(ks_memobj_write((ks_handle_t)m2, 0, "world", 5) == 5);
    long mro = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_TRANSFER | KS_RIGHT_MAP);
    KT_ASSERT(mro >= 256);
    uint32_t m_rights = hrights(m);

    struct ks_ipc_desc cd = {
        .send_handles = { (ks_handle_t)m, (ks_handle_t)p2, (ks_handle_t)mro, (ks_handle_t)m2 },
        .send_handle_flags = { 0, KS_IPC_HANDLE_MOVE, 0, KS_IPC_HANDLE_MOVE },
        .send_nhandles = 4,
    };
    struct job j = { .port = (ks_handle_t)c, .desc = &cd };
    fill_words(j.w, 77);
    struct uthread t;
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j) >= 0);
    struct ks_ipc_desc sd = { .recv_handles = { -5, -5, -5, -5 } };
    struct ipcres r;
    watchdog_arm(2000);
    long rp = recv_full((ks_handle_t)l, &sd, &r);
    watchdog_disarm();
    KT_EXPECT(rp >= 256);
    KT_EXPECT_EQ(KS_IPC_INFO_HANDLES(r.a7), 4);
    KT_EXPECT_EQ(KS_IPC_INFO_BYTES(r.a7), 0);
    KT_EXPECT(!(r.a7 & KS_IPC_INFO_TRUNCATED));
    KT_EXPECT_EQ(sd.recv_nhandles, 4);
    /* moved: gone from the sender already (the caller is still waiting) */
    KT_EXPECT_EQ(ks_handle_info((ks_handle_t)p2), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_handle_info((ks_handle_t)m2), KS_ERR_BAD_HANDLE);
    /* copied: still there */
    KT_EXPECT_EQ(htype(m), KS_OBJ_MEMOBJ);
    KT_EXPECT_EQ(htype(mro), KS_OBJ_MEMOBJ);
    ks_handle_t *h = sd.recv_handles;
    for (int i = 0; i < 4; i++)
        KT_EXPECT(h[i] >= 256);
    KT_EXPECT_EQ(htype(h[0]), KS_OBJ_MEMOBJ);
    KT_EXPECT_EQ(hrights(h[0]), m_rights);
    KT_EXPECT_EQ(htype(h[1]), KS_OBJ_CLIENT);
    KT_EXPECT_EQ(hrights(h[1]), KS_RIGHT_WRITE | KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE);
    KT_EXPECT_EQ(htype(h[2]), KS_OBJ_MEMOBJ);
    KT_EXPECT_EQ(hrights(h[2]), KS_RIGHT_READ | KS_RIGHT_TRANSFER | KS_RIGHT_MAP);
    KT_EXPECT_EQ(htype(h[3]), KS_OBJ_MEMOBJ);
    char buf[8] = { 0 };
    KT_EXPECT_EQ(ks_memobj_read(h[0], 0, buf, 5), 5);
    KT_EXPECT(memcmp(buf, "hello", 5) == 0);
    KT_EXPECT_EQ(ks_memobj_write(h[0], 5, "!", 1), 1);     /* the same object as m */
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 5, buf, 1), 1);
    KT_EXPECT_EQ(buf[0], '!');
    KT_EXPECT_EQ(ks_memobj_write(h[2], 0, "x", 1), KS_ERR_ACCESS);   /* rights as sent */
    KT_EXPECT_EQ(ks_memobj_read(h[3], 0, buf, 5), 5);
    KT_EXPECT(memcmp(buf, "world", 5) == 0);

    /* the reply moves a handle back: the received m2 */
    struct ks_ipc_desc sr = { .send_handles = { h[3] }, .send_handle_flags = { KS_IPC_HANDLE_MOVE },
                              .send_nhandles = 1 };
    uint64_t rw[KS_IPC_WORDS] = { 0 };
    struct ipcres rr;
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, &sr, rw, &rr), 0);
    KT_EXPECT_EQ(ks_handle_info(h[3]), KS_ERR_BAD_HANDLE);
    KT_EXPECT(job_wait(&j, &t, 2000));
    KT_EXPECT_EQ(j.res.a0, 0);
    KT_EXPECT_EQ(KS_IPC_INFO_HANDLES(j.res.a7), 1);
    KT_EXPECT_EQ(cd.recv_nhandles, 1);
    KT_EXPECT_EQ(htype(cd.recv_handles[0]), KS_OBJ_MEMOBJ);
    KT_EXPECT_EQ(ks_memobj_read(cd.recv_handles[0], 0, buf, 5), 5);
    KT_EXPECT(memcmp(buf, "world", 5) == 0);

    /* the received client port works: a call through it reaches l2 with p2's userdata */
    struct job j2 = { .port = h[1] };
    fill_words(j2.w, 78);
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j2) >= 0);
    watchdog_arm(2000);
    rp = recv_full((ks_handle_t)l2, 0, &r);
    watchdog_disarm();
    KT_EXPECT(rp >= 256);
    KT_EXPECT_EQ(r.a1, 0xabc);
    KT_EXPECT(words_eq(r.w, j2.w));
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &rr), 0);
    KT_EXPECT(job_wait(&j2, &t, 2000));
    KT_EXPECT_EQ(j2.res.a0, 0);
    ks_handle_close((ks_handle_t)rp);

    ks_handle_close(cd.recv_handles[0]);
    for (int i = 0; i < 3; i++)
        ks_handle_close(h[i]);
    ks_handle_close((ks_handle_t)mro);
    ks_handle_close((ks_handle_t)m);
    ks_handle_close((ks_handle_t)l2);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
}

/*
 * Moving the only handle of a listener: in flight it still counts as a handle,
 * so the listener is not closed on the way, and it works at the other end.
 */
static void basic_move_only_listener(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 1);
    long l2 = ks_ipc_listener_create();
    long p2 = ks_ipc_client_create((ks_handle_t)l2, 0x5150);   /* keeps l2's object alive */
    KT_ASSERT(l >= 256 && c >= 256 && l2 >= 256 && p2 >= 256);
    struct ks_ipc_desc cd = { .send_handles = { (ks_handle_t)l2 },
                              .send_handle_flags = { KS_IPC_HANDLE_MOVE }, .send_nhandles = 1 };
    struct job j = { .port = (ks_handle_t)c, .desc = &cd };
    fill_words(j.w, 90);
    struct uthread t;
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j) >= 0);
    struct ks_ipc_desc sd = { 0 };
    struct ipcres r;
    watchdog_arm(2000);
    long rp = recv_full((ks_handle_t)l, &sd, &r);
    watchdog_disarm();
    KT_ASSERT(rp >= 256);
    KT_ASSERT(sd.recv_nhandles == 1);
    ks_handle_t moved = sd.recv_handles[0];
    KT_EXPECT_EQ(htype(moved), KS_OBJ_LISTENER);
    KT_EXPECT_EQ(ks_handle_info((ks_handle_t)l2), KS_ERR_BAD_HANDLE);
    uint64_t rw[KS_IPC_WORDS] = { 0 };
    struct ipcres rr;
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &rr), 0);
    KT_EXPECT(job_wait(&j, &t, 2000));
    /* The moved listener is open: a call through p2 reaches it. */
    struct job j2 = { .port = (ks_handle_t)p2 };
    fill_words(j2.w, 91);
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j2) >= 0);
    watchdog_arm(2000);
    long rp2 = recv_full(moved, 0, &r);
    watchdog_disarm();
    KT_EXPECT(rp2 >= 256);
    KT_EXPECT_EQ(r.a1, 0x5150);
    if (rp2 >= 256)
        KT_EXPECT_EQ(reply_full((ks_handle_t)rp2, 0, rw, &rr), 0);
    KT_EXPECT(job_wait(&j2, &t, 2000));
    KT_EXPECT_EQ(j2.res.a0, 0);
    ks_handle_close((ks_handle_t)rp);
    if (rp2 >= 256 && rp2 != rp)
        ks_handle_close((ks_handle_t)rp2);
    ks_handle_close(moved);
    ks_handle_close((ks_handle_t)p2);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
}

/*
 * Make sure this thread has its reusable reply port: a receive makes it before
 * it waits (here one that an interrupt ends at once). A case that counts
 * objects around its own receive calls this first, since closing the port's
 * handle (as a case may, to tidy up) frees it.
 */
static void ensure_own_reply_port(void)
{
    long l = ks_ipc_listener_create();
    ks_thread_interrupt(KS_THREAD_SELF);
    uint64_t w[KS_IPC_WORDS] = { 0 };
    long r = ks_ipc_receive((ks_handle_t)l, 0, w, 0, 0);
    if (r != KS_ERR_INTERRUPTED)
        printf("# uipc: a receive to make the reply port returned %ld, not KS_ERR_INTERRUPTED\n", r);
    ks_handle_close((ks_handle_t)l);
}

/* One call on listener l, answered with zero words: the reply port handle it came with. */
static long serve_one_call(ks_handle_t l, ks_handle_t c)
{
    struct job j = { .port = c };
    struct uthread t;
    if (thread_start_into(&t, caller_thread, (long)&j) < 0)
        return -1;
    struct ipcres r;
    watchdog_arm(2000);
    long rp = recv_full(l, 0, &r);
    watchdog_disarm();
    uint64_t rw[KS_IPC_WORDS] = { 0 };
    if (rp >= 256)
        KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &r), 0);
    KT_EXPECT(job_wait(&j, &t, 2000));
    return rp;
}

/*
 * Closing a thread's reusable reply port handle frees the port at once (the
 * thread lets it go); the thread's next receive makes a new one.
 */
static void basic_reply_port_closed(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 1);
    KT_ASSERT(l >= 256 && c >= 256);
    long rp = serve_one_call((ks_handle_t)l, (ks_handle_t)c);
    KT_ASSERT(rp >= 256);
    struct ks_kstat before, closed, again;
    snap(&before);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)rp), 0);
    snap(&closed);
    KT_EXPECT_EQ(closed.objects + 1, before.objects);  /* the port is gone */
    long rp2 = serve_one_call((ks_handle_t)l, (ks_handle_t)c);
    KT_EXPECT(rp2 >= 256);
    snap(&again);
    KT_EXPECT_EQ(again.objects, before.objects);        /* and a new one made */
    KT_EXPECT_EQ(htype(rp2), KS_OBJ_REPLY);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
}

/* Handles sent to a receiver without a descriptor are dropped (and the objects freed). */
static void basic_handles_dropped(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 1);
    long m = ks_memobj_create(KS_PAGE_SIZE);
    KT_ASSERT(l >= 256 && c >= 256 && m >= 256);
    ensure_own_reply_port();            /* (the receive below makes none, then) */
    struct ks_kstat before;
    snap(&before);
    long m3 = ks_memobj_create(KS_PAGE_SIZE);
    KT_ASSERT(m3 >= 256);
    struct ks_ipc_desc cd = {
        .send_handles = { (ks_handle_t)m, (ks_handle_t)m3 },
        .send_handle_flags = { 0, KS_IPC_HANDLE_MOVE },
        .send_nhandles = 2,
    };
    struct job j = { .port = (ks_handle_t)c, .desc = &cd };
    struct uthread t;
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j) >= 0);
    struct ipcres r;
    watchdog_arm(2000);
    long rp = recv_full((ks_handle_t)l, 0, &r);
    watchdog_disarm();
    KT_EXPECT(rp >= 256);
    KT_EXPECT_EQ(KS_IPC_INFO_HANDLES(r.a7), 0);
    KT_EXPECT(r.a7 & KS_IPC_INFO_TRUNCATED);
    uint64_t rw[KS_IPC_WORDS] = { 0 };
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &r), 0);
    KT_EXPECT(job_wait(&j, &t, 2000));
    KT_EXPECT_EQ(j.res.a0, 0);
    KT_EXPECT_EQ(htype(m), KS_OBJ_MEMOBJ);
    KT_EXPECT_EQ(ks_handle_info((ks_handle_t)m3), KS_ERR_BAD_HANDLE);
    struct ks_kstat after;
    snap(&after);
    KT_EXPECT_EQ(after.objects, before.objects);       /* m3 is gone for good */
    ks_handle_close((ks_handle_t)m);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
}

/*
 * A handle without KS_RIGHT_TRANSFER cannot be sent (call or reply fails
 * KS_ERR_ACCESS, nothing moves); handles of a call that fails after they were
 * taken (listener gone) are consumed: moved ones are closed, copies stay.
 */
static void basic_handle_rights(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 1);
    long m = ks_memobj_create(KS_PAGE_SIZE);
    KT_ASSERT(l >= 256 && c >= 256 && m >= 256);
    long mnt = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_DUPLICATE);
    long mv = ks_handle_duplicate((ks_handle_t)m, KS_RIGHTS_ALL & ~0u);
    KT_ASSERT(mnt >= 256);
    if (mv < 0)
        mv = ks_handle_duplicate((ks_handle_t)m, (uint32_t)hrights(m));
    KT_ASSERT(mv >= 256);
    uint64_t w[KS_IPC_WORDS] = { 1 };
    struct ipcres r;
    struct ks_ipc_desc d = { .send_handles = { (ks_handle_t)mv, (ks_handle_t)mnt },
                             .send_handle_flags = { KS_IPC_HANDLE_MOVE, KS_IPC_HANDLE_MOVE },
                             .send_nhandles = 2 };
    KT_EXPECT_EQ(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_ACCESS);
    KT_EXPECT(words_zero(&r));
    KT_EXPECT_EQ(htype(mv), KS_OBJ_MEMOBJ);        /* nothing was moved */
    KT_EXPECT_EQ(htype(mnt), KS_OBJ_MEMOBJ);

    /* the same in a reply: it fails, the reply port stays armed, a good reply follows */
    struct job j = { .port = (ks_handle_t)c };
    fill_words(j.w, 5);
    struct uthread t;
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j) >= 0);
    watchdog_arm(2000);
    long rp = recv_full((ks_handle_t)l, 0, &r);
    watchdog_disarm();
    KT_EXPECT(rp >= 256);
    struct ks_ipc_desc bad = { .send_handles = { (ks_handle_t)mnt }, .send_nhandles = 1 };
    uint64_t rw[KS_IPC_WORDS];
    fill_words(rw, 6);
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, &bad, rw, &r), KS_ERR_ACCESS);
    KT_EXPECT(!j.done);
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &r), 0);
    KT_EXPECT(job_wait(&j, &t, 2000));
    KT_EXPECT_EQ(j.res.a0, 0);
    KT_EXPECT(words_eq(j.res.w, rw));

    /* taken, then the call fails: the moved handle is consumed, the copied one stays */
    long mc = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_TRANSFER);
    KT_ASSERT(mc >= 256);
    ks_handle_close((ks_handle_t)l);
    struct ks_ipc_desc d2 = { .send_handles = { (ks_handle_t)mv, (ks_handle_t)mc },
                              .send_handle_flags = { KS_IPC_HANDLE_MOVE, 0 }, .send_nhandles = 2 };
    KT_EXPECT_EQ(call_full((ks_handle_t)c, &d2, w, &r), KS_ERR_PEER_CLOSED);
    KT_EXPECT_EQ(ks_handle_info((ks_handle_t)mv), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(htype(mc), KS_OBJ_MEMOBJ);
    ks_handle_close((ks_handle_t)rp);
    ks_handle_close((ks_handle_t)mc);
    ks_handle_close((ks_handle_t)mnt);
    ks_handle_close((ks_handle_t)m);
    ks_handle_close((ks_handle_t)c);
}

/* A client port given to a third process (at spawn) lets it call the server. */
static void basic_third_process_spawn(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 0x77);
    KT_ASSERT(l >= 256 && c >= 256);
    ks_handle_t give[1] = { (ks_handle_t)c };
    long p = spawn_helper("caller", "5", give, 1);
    KT_ASSERT(p >= 0);
    ks_handle_close((ks_handle_t)c);
    KT_EXPECT_EQ(serve_echo((ks_handle_t)l, 5, 5000), 5);
    KT_EXPECT_EQ(child_reap(p, 5000), 0);
    ks_handle_close((ks_handle_t)l);
}

/* A client port moved to a third process in a reply lets it call the server. */
static void basic_third_process_ipc(void)
{
    long l0 = ks_ipc_listener_create();
    long c0 = ks_ipc_client_create((ks_handle_t)l0, 1);
    long l1 = ks_ipc_listener_create();
    long c1 = ks_ipc_client_create((ks_handle_t)l1, 0x99);
    KT_ASSERT(l0 >= 256 && c0 >= 256 && l1 >= 256 && c1 >= 256);
    ks_handle_t give[1] = { (ks_handle_t)c0 };
    long p = spawn_helper("caller-ipc", 0, give, 1);
    KT_ASSERT(p >= 0);
    ks_handle_close((ks_handle_t)c0);
    struct ipcres r;
    watchdog_arm(5000);
    long rp = recv_full((ks_handle_t)l0, 0, &r);
    KT_EXPECT(rp >= 256);
    KT_EXPECT_EQ(r.a1, 1);
    struct ks_ipc_desc sr = { .send_handles = { (ks_handle_t)c1 }, .send_handle_flags = { KS_IPC_HANDLE_MOVE },
                              .send_nhandles = 1 };
    uint64_t rw[KS_IPC_WORDS] = { 0 };
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, &sr, rw, &r), 0);
    KT_EXPECT_EQ(ks_handle_info((ks_handle_t)c1), KS_ERR_BAD_HANDLE);
    watchdog_disarm();
    KT_EXPECT_EQ(serve_echo((ks_handle_t)l1, 1, 5000), 1);
    KT_EXPECT_EQ(child_reap(p, 5000), 0);
    ks_handle_close((ks_handle_t)rp);
    ks_handle_close((ks_handle_t)l0);
    ks_handle_close((ks_handle_t)l1);
}

/* Callers queued on a listener are received in the order they called. */
static void basic_fifo(void)
{
    enum { N = 5 };
    long l = ks_ipc_listener_create();
    KT_ASSERT(l >= 256);
    long c[N];
    struct job j[N];
    struct uthread t[N];
    memset(j, 0, sizeof j);
    static const int order[N] = { 3, 0, 4, 1, 2 };     /* call order: not that of the ports */
    for (int i = 0; i < N; i++) {
        c[i] = ks_ipc_client_create((ks_handle_t)l, 100 + (uint64_t)i);
        KT_ASSERT(c[i] >= 256);
    }
    for (int k = 0; k < N; k++) {
        int i = order[k];
        j[i].port = (ks_handle_t)c[i];
        fill_words(j[i].w, 500 + (uint64_t)i);
        KT_ASSERT(thread_start_into(&t[i], caller_thread, (long)&j[i]) >= 0);
        settle();                       /* it has called, and waits in the queue */
        KT_EXPECT(j[i].started && !j[i].done);
    }
    struct ipcres r;
    long rp = -1;
    watchdog_arm(5000);
    for (int k = 0; k < N; k++) {
        int i = order[k];
        if (k == 0) {
            rp = recv_full((ks_handle_t)l, 0, &r);
        } else {
            uint64_t rw[KS_IPC_WORDS];
            echo_f(r.w, r.a1, rw);
            rp = reply_recv_full((ks_handle_t)rp, (ks_handle_t)l, 0, rw, &r);
        }
        KT_EXPECT(rp >= 256);
        KT_EXPECT_EQ(r.a1, 100 + (uint64_t)i);
        KT_EXPECT(words_eq(r.w, j[i].w));
    }
    uint64_t rw[KS_IPC_WORDS];
    echo_f(r.w, r.a1, rw);
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &r), 0);
    watchdog_disarm();
    for (int i = 0; i < N; i++) {
        KT_EXPECT(job_wait(&j[i], &t[i], 2000));
        uint64_t want[KS_IPC_WORDS];
        echo_f(j[i].w, 100 + (uint64_t)i, want);
        KT_EXPECT_EQ(j[i].res.a0, 0);
        KT_EXPECT(words_eq(j[i].res.w, want));
        ks_handle_close((ks_handle_t)c[i]);
    }
    ks_handle_close((ks_handle_t)l);
}

/* One receive on j->port; a call is answered with its words echoed (j->echo_ud). */
static void lifo_receiver(long arg)
{
    struct job *j = (struct job *)arg;
    j->started = 1;
    long rp = recv_full(j->port, 0, &j->res);
    if (rp >= 256) {
        uint64_t rw[KS_IPC_WORDS];
        struct ipcres r;
        echo_f(j->res.w, j->echo_ud, rw);
        reply_full((ks_handle_t)rp, 0, rw, &r);
        ks_handle_close((ks_handle_t)rp);
    }
    j->done = 1;
    ks_thread_exit(0);
}

/*
 * Receivers waiting on one listener take calls last in, first out (the thread
 * that waited last is the warmest), with the fast path on and off. One below
 * the top is interrupted first: it leaves from the middle of the stack, and
 * the calls go to the others, above and below it.
 */
static void basic_receivers_lifo(void)
{
    enum { N = 4, GONE = 1 };           /* the second to wait is interrupted */
    static const int order[N - 1] = { 3, 2, 0 };   /* who should take calls 0, 1, 2 */
    for (int fast = 1; fast >= 0; fast--) {
        struct ks_ipc_stats st;
        ks_ipc_control(fast, &st);      /* (the trace kernel keeps it off: both runs are slow) */
        long l = ks_ipc_listener_create();
        long c = l >= 0 ? ks_ipc_client_create((ks_handle_t)l, 77) : l;
        KT_ASSERT(c >= 256);
        struct job j[N];
        struct uthread t[N];
        memset(j, 0, sizeof j);
        for (int i = 0; i < N; i++) {
            j[i].port = (ks_handle_t)l;
            KT_ASSERT(thread_start_into(&t[i], lifo_receiver, (long)&j[i]) >= 0);
            settle();                   /* it waits, on top of the ones before */
            KT_EXPECT(j[i].started && !j[i].done);
        }
        ks_thread_interrupt((ks_handle_t)t[GONE].h);
        KT_EXPECT(job_wait(&j[GONE], &t[GONE], 2000));
        KT_EXPECT_EQ(j[GONE].res.a0, KS_ERR_INTERRUPTED);
        watchdog_arm(2000);
        for (int k = 0; k < N - 1; k++) {
            uint64_t w[KS_IPC_WORDS], want[KS_IPC_WORDS];
            struct ipcres r;
            fill_words(w, 900 + (uint64_t)k);
            KT_EXPECT_EQ(call_full((ks_handle_t)c, 0, w, &r), 0);
            int i = order[k];
            KT_EXPECT(job_wait(&j[i], &t[i], 2000));
            KT_EXPECT_EQ(j[i].res.a1, 77);
            KT_EXPECT(words_eq(j[i].res.w, w));         /* it took this call */
            echo_f(w, 0, want);
            KT_EXPECT(words_eq(r.w, want));
        }
        watchdog_disarm();
        ks_handle_close((ks_handle_t)c);
        ks_handle_close((ks_handle_t)l);
    }
    struct ks_ipc_stats st;
    ks_ipc_control(1, &st);             /* back on, as the suite runs */
}

/* echo_until_fails on listener j->port, in a thread; its result in j->res.a0. */
static void rr_echo_thread(long arg)
{
    struct job *j = (struct job *)arg;
    j->started = 1;
    j->res.a0 = echo_until_fails(j->port);
    j->done = 1;
    ks_thread_exit(0);
}

/*
 * The fast path counts in the listener; what a listener counted stays in the
 * totals KS_SYS_IPC_CONTROL reports once the listener is gone.
 */
static void basic_counts_outlive_listener(void)
{
    enum { N = 16 };
    struct ks_ipc_stats s0, s1;
    int counting = ks_ipc_control(1, &s0) == 0;     /* (the trace kernel keeps it off) */
    long l = ks_ipc_listener_create();
    long c = l >= 0 ? ks_ipc_client_create((ks_handle_t)l, 5) : l;
    KT_ASSERT(c >= 256);
    struct job j;
    struct uthread t;
    memset(&j, 0, sizeof j);
    j.port = (ks_handle_t)l;
    KT_ASSERT(thread_start_into(&t, rr_echo_thread, (long)&j) >= 0);
    settle();
    watchdog_arm(2000);
    for (int k = 0; k < N; k++) {
        uint64_t w[KS_IPC_WORDS], want[KS_IPC_WORDS];
        struct ipcres r;
        fill_words(w, 1200 + (uint64_t)k);
        KT_EXPECT_EQ(call_full((ks_handle_t)c, 0, w, &r), 0);
        echo_f(w, 5, want);
        KT_EXPECT(words_eq(r.w, want));
    }
    watchdog_disarm();
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);    /* the server's wait ends: PEER_CLOSED */
    KT_EXPECT(job_wait(&j, &t, 2000));
    KT_EXPECT_EQ(j.res.a0, KS_ERR_PEER_CLOSED);
    if (counting) {
        KT_ASSERT(ks_ipc_control(1, &s1) == 0);
        KT_EXPECT((int64_t)(s1.fast_calls - s0.fast_calls) >= N - 1);  /* all but the first */
        KT_EXPECT((int64_t)(s1.fast_replies - s0.fast_replies) >= N - 1);
    }
}

/*
 * Steady state: every receive hands out the same reply handle. A receive while
 * a call is still unanswered gets a fresh one (and that becomes the one reused);
 * the older handle stays open until closed, answering BAD_STATE once used.
 */
static void basic_reply_reuse(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 3);
    KT_ASSERT(l >= 256 && c >= 256);
    struct job j = { .port = (ks_handle_t)c, .ncalls = 6, .seed = 40, .echo_ud = 3 };
    struct uthread t;
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j) >= 0);
    struct ipcres r;
    uint64_t rw[KS_IPC_WORDS];
    long first, rp;
    watchdog_arm(5000);
    first = rp = recv_full((ks_handle_t)l, 0, &r);
    KT_EXPECT(first >= 256);
    for (int k = 1; k < 6; k++) {
        echo_f(r.w, r.a1, rw);
        if (k % 2) {
            rp = reply_recv_full((ks_handle_t)rp, (ks_handle_t)l, 0, rw, &r);
        } else {
            KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &r), 0);
            rp = recv_full((ks_handle_t)l, 0, &r);
        }
        KT_EXPECT_EQ(rp, first);
    }
    echo_f(r.w, r.a1, rw);
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &r), 0);
    watchdog_disarm();
    KT_EXPECT(job_wait(&j, &t, 2000));
    KT_EXPECT_EQ(j.ok_calls, 6);
    KT_EXPECT_EQ(j.bad_calls, 0);

    /* two calls held at once */
    struct job a = { .port = (ks_handle_t)c }, b = { .port = (ks_handle_t)c };
    fill_words(a.w, 1);
    fill_words(b.w, 2);
    struct uthread ta, tb;
    KT_ASSERT(thread_start_into(&ta, caller_thread, (long)&a) >= 0);
    KT_ASSERT(thread_start_into(&tb, caller_thread, (long)&b) >= 0);
    watchdog_arm(5000);
    long ha = recv_full((ks_handle_t)l, 0, &r);
    int a_first = words_eq(r.w, a.w);
    long hb = recv_full((ks_handle_t)l, 0, &r);
    watchdog_disarm();
    KT_EXPECT_EQ(ha, first);
    KT_EXPECT(hb >= 256 && hb != ha);
    KT_EXPECT_EQ(reply_full((ks_handle_t)ha, 0, rw, &r), 0);
    KT_EXPECT_EQ(reply_full((ks_handle_t)ha, 0, rw, &r), KS_ERR_BAD_STATE);
    KT_EXPECT_EQ(reply_full((ks_handle_t)hb, 0, rw, &r), 0);
    KT_EXPECT(job_wait(&a, &ta, 2000));
    KT_EXPECT(job_wait(&b, &tb, 2000));
    KT_EXPECT_EQ(a.res.a0, 0);
    KT_EXPECT_EQ(b.res.a0, 0);
    KT_EXPECT(a_first);
    KT_EXPECT_EQ(htype(ha), KS_OBJ_REPLY);         /* still open */
    /* the newer port is the one reused now */
    struct job d = { .port = (ks_handle_t)c };
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&d) >= 0);
    watchdog_arm(5000);
    rp = recv_full((ks_handle_t)l, 0, &r);
    watchdog_disarm();
    KT_EXPECT_EQ(rp, hb);
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &r), 0);
    KT_EXPECT(job_wait(&d, &t, 2000));
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)ha), 0);
    KT_EXPECT_EQ(reply_full((ks_handle_t)ha, 0, rw, &r), KS_ERR_BAD_HANDLE);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
}

static const struct ktest_case basic_cases[] = {
    { "words_userdata", basic_words },
    { "buf_64", basic_buf_64 },
    { "buf_64k", basic_buf_64k },
    { "trunc_request", basic_trunc_request },
    { "trunc_reply", basic_trunc_reply },
    { "handles", basic_handles },
    { "move_only_listener", basic_move_only_listener },
    { "handles_dropped", basic_handles_dropped },
    { "reply_port_closed", basic_reply_port_closed },
    { "handle_rights", basic_handle_rights },
    { "third_process_spawn", basic_third_process_spawn },
    { "third_process_ipc", basic_third_process_ipc },
    { "fifo", basic_fifo },
    { "receivers_lifo", basic_receivers_lifo },
    { "counts_outlive_listener", basic_counts_outlive_listener },
    { "reply_reuse", basic_reply_reuse },
    { "no_leaks", suite_no_leaks },
};
KTEST_SUITE(basic_suite, "ipc_basic", basic_cases);


/* ======================= ipc_fast ======================= */

/*
 * Each row is a small scenario with a caller (the main thread) and a server
 * (a scripted thread, sometimes two, or another process), built so that
 * exactly one of the fast path's conditions fails (or none: the baseline).
 * Every row runs twice, fast path on and off; everything observable (results,
 * a1, info, the eight words, t3..t6, descriptor outputs, on both sides) is
 * recorded and compared bit for bit, handle values being replaced by the order
 * of first appearance plus their type and rights. The ks_ipc_stats deltas
 * prove which path ran: with the fast path on, exactly the row's expected
 * numbers of fast calls and fast replies; with it off, none; and the same
 * total of calls and replies either way.
 */

#define ROW_MAX 256

struct rec {
    uint64_t v[ROW_MAX];
    int n;
    long seen[16];              /* handle values, for normalising */
    int nseen;
};

static void rec(struct rec *o, uint64_t x)
{
    if (o->n < ROW_MAX)
        o->v[o->n++] = x;
}

/* A handle value becomes "H", its order of appearance, and its type and rights now. */
static uint64_t norm_handle(struct rec *o, long h)
{
    if (h < 256 || h > INT32_MAX)
        return (uint64_t)h;
    int i;
    for (i = 0; i < o->nseen; i++)
        if (o->seen[i] == h)
            break;
    if (i == o->nseen && o->nseen < 16)
        o->seen[o->nseen++] = h;
    long info = ks_handle_info((ks_handle_t)h);
    return 0x4800000000000000ull | (uint64_t)i << 24 | (uint64_t)(info < 0 ? 0xffffff : info);
}

static volatile int scratch_bad;        /* t3..t6 came back non-zero somewhere */

static void rec_res(struct rec *o, const struct ipcres *r, int a0_is_handle)
{
    rec(o, a0_is_handle ? norm_handle(o, r->a0) : (uint64_t)r->a0);
    rec(o, r->a1);
    rec(o, r->a7);
    for (int i = 0; i < KS_IPC_WORDS; i++)
        rec(o, r->w[i]);
    for (int i = 0; i < 4; i++)
        rec(o, r->t[i]);
    if (!regs_zero(r))
        scratch_bad++;
}

static void rec_desc(struct rec *o, const struct ks_ipc_desc *d)
{
    rec(o, d->recv_len);
    rec(o, d->recv_nhandles);
    rec(o, d->flags);
    rec(o, (uint64_t)d->send_len);
}

/* ---- the scripted server thread ---- */

enum sop {
    OP_END,             /* close every reply handle seen, exit */
    OP_RECV,            /* receive on the listener */
    OP_RR,              /* reply-and-receive (reply: echo of the last words) */
    OP_REPLY,           /* plain reply */
    OP_SLEEP,           /* ms */
    OP_INTR_MAIN,       /* interrupt the main thread */
    OP_RAISE_MAIN,      /* raise upcall bit ROW_UP_BIT on the main thread */
    OP_WAIT_EXT,        /* wait until *ext is a handle */
    OP_WAIT_TEARDOWN,   /* wait until the row tears down */
    OP_CALL,            /* call through callport */
    OP_CLOSE,           /* close the current reply handle */
};

enum { RH_CUR, RH_FIRST, RH_SECOND, RH_BAD, RH_WRONG, RH_EXT };   /* which reply handle */

/* The upcall bit OP_RAISE_MAIN raises. */
#define ROW_UP_BIT 5

/* A call with this first word ends a server's wait at teardown: it is answered at once. */
#define QUIT_WORD 0x9017900d
enum { LH_L, LH_BAD, LH_WRONG, LH_NOREAD };                 /* which listener handle */
/*
 * Which descriptor: none; receive into rbuf; also send 8 bytes; receive-only
 * ones that fail in some way; a handle (or too many) to send; an unreadable
 * descriptor; receive into rbuf through the server's one kept descriptor,
 * whose outputs stay in memory from one receive to the next (as a real
 * server's would); two handles to send, a new memobj moved and a copy; a bad
 * handle to send; a new handle to the listener, moved.
 */
enum { D_NONE, D_RECV, D_SEND, D_RECV_HUGE, D_RECV_UNMAPPED, D_HANDLE, D_MANY_HANDLES, D_FAULT, D_RECV_KEEP,
       D_HANDLES_MOVED, D_BAD_HANDLE, D_LISTENER_MOVED, D_NO_TRANSFER, D_MOVED_TWICE, D_PSEUDO_HANDLE,
       D_VIEW, D_VIEW_AND_COPY, D_VIEW_MOVED, D_VIEW_OF_LISTENER, D_VIEW_NO_TRANSFER, D_VIEW_BAD_RIGHTS,
       D_VIEW_BAD_HANDLE, D_RECV_ODD, D_RECV_READONLY };

/*
 * The KS_IPC_HANDLE_VIEW kinds (D_VIEW...): a new memobj whose first byte is
 * VIEW_BYTE, sent as a view with VIEW_SENT_RIGHTS; with a copy of the
 * listener's handle as well; and the ones that fail: with MOVE too
 * (INVALID), of a listener (WRONG_TYPE), through a memobj handle without
 * TRANSFER (ACCESS), asking a right no view has (INVALID), of a closed
 * handle (BAD_HANDLE).
 */
#define VIEW_BYTE 0x5a
#define VIEW_SENT_RIGHTS (KS_RIGHT_READ | KS_RIGHT_WRITE | KS_RIGHT_TRANSFER)

/* Fill d's first handle as descriptor kind `desc` (a D_VIEW... kind) says; the memobj made, if any, or 0. */
static long view_desc(struct ks_ipc_desc *d, int desc, ks_handle_t listener, ks_handle_t closed)
{
    long m = 0;
    uint32_t rights = desc == D_VIEW_BAD_RIGHTS ? KS_RIGHT_READ | KS_RIGHT_MANAGE : VIEW_SENT_RIGHTS;
    d->send_nhandles = 1;
    d->send_handle_flags[0] = KS_IPC_HANDLE_AS_VIEW(rights) | (desc == D_VIEW_MOVED ? KS_IPC_HANDLE_MOVE : 0);
    if (desc == D_VIEW_OF_LISTENER || desc == D_VIEW_BAD_HANDLE) {
        d->send_handles[0] = desc == D_VIEW_OF_LISTENER ? listener : closed;
        return 0;
    }
    m = ks_memobj_create(KS_PAGE_SIZE);
    uint8_t b = VIEW_BYTE;
    ks_memobj_write((ks_handle_t)m, 0, &b, 1);
    d->send_handles[0] = (ks_handle_t)m;
    if (desc == D_VIEW_NO_TRANSFER)
        d->send_handles[0] = (ks_handle_t)ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_WRITE);
    if (desc == D_VIEW_AND_COPY) {
        d->send_nhandles = 2;
        d->send_handles[1] = listener;
    }
    return m;
}

struct sstep {
    uint8_t op, rh, lh, desc;
    uint16_t ms;
};

struct srv {
    const struct sstep *script;
    ks_handle_t l, bad, wrong, noread, callport;
    volatile long *ext;
    volatile long cur, first, second;
    volatile int done, teardown, receiving;
    struct rec out;
    uint8_t rbuf[64];
    struct ks_ipc_desc keep;    /* D_RECV_KEEP */
    uint8_t odd[sizeof(struct ks_ipc_desc) + 8];    /* D_RECV_ODD: the descriptor at odd + 1 */
    long ro_mo;                 /* D_RECV_READONLY: the memobj of ro_page's mapping, until the op ends */
    long stray, stray2;         /* D_NO_TRANSFER, D_MOVED_TWICE, D_VIEW...: closed after the op if still ours */
    uint64_t w[KS_IPC_WORDS], ud;
    struct uthread t;
};

/*
 * A fresh page mapped read-only (its memobj in *mo), read once: that first
 * touch faults, and so the kernel's last area looked up is its mapping, the
 * one the fast path's receive check (ipc_reply_rdesc) tries first.
 */
static uint8_t *ro_page(long *mo)
{
    *mo = ks_memobj_create(KS_PAGE_SIZE);
    long at = *mo < 0 ? *mo : ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)*mo, 0, 0, KS_PAGE_SIZE,
                                         KS_PROT_READ | KS_MAP_SHARED);
    KT_EXPECT(at > 0);
    if (at <= 0)
        return (uint8_t *)UNMAPPED_ADDR;
    (void)*(volatile uint8_t *)at;
    return (uint8_t *)at;
}

/*
 * What a reply-and-receive sending view_desc's kind `desc` must return (the
 * rows compare the two paths; this checks both are right): the next call's
 * reply port for the good kinds, else the kind's error.
 */
static void view_result_check(int desc, long a0)
{
    static const long want[] = { [D_VIEW_MOVED] = KS_ERR_INVALID, [D_VIEW_OF_LISTENER] = KS_ERR_WRONG_TYPE,
                                 [D_VIEW_NO_TRANSFER] = KS_ERR_ACCESS, [D_VIEW_BAD_RIGHTS] = KS_ERR_INVALID,
                                 [D_VIEW_BAD_HANDLE] = KS_ERR_BAD_HANDLE };
    if (desc == D_VIEW || desc == D_VIEW_AND_COPY)
        KT_EXPECT(a0 >= 256);
    else
        KT_EXPECT_EQ(a0, want[desc]);
}

static void srv_thread(long arg)
{
    struct srv *s = (struct srv *)arg;
    struct rec *o = &s->out;
    long handles[16];
    int nh = 0;
    s->cur = s->first = s->second = -1;
    for (const struct sstep *st = s->script;; st++) {
        rec(o, 0x5000 + st->op);
        if (st->op == OP_END)
            break;
        if (st->op == OP_SLEEP) {
            ks_thread_sleep(st->ms * MS);
            continue;
        }
        if (st->op == OP_INTR_MAIN) {
            ks_thread_interrupt(g_main_thread);
            continue;
        }
        if (st->op == OP_RAISE_MAIN) {
            rec(o, (uint64_t)ks_upcall_raise(g_main_thread, 1ull << ROW_UP_BIT));
            continue;
        }
        if (st->op == OP_WAIT_EXT) {
            while (*s->ext < 256)
                ks_thread_sleep(MS);
            continue;
        }
        if (st->op == OP_WAIT_TEARDOWN) {
            while (!s->teardown)
                ks_thread_sleep(MS);
            continue;
        }
        if (st->op == OP_CLOSE) {
            rec(o, (uint64_t)ks_handle_close((ks_handle_t)s->cur));
            continue;
        }
        if (st->op == OP_CALL) {
            uint64_t cw[KS_IPC_WORDS];
            struct ipcres r;
            fill_words(cw, 0x7000);
            call_full(s->callport, 0, cw, &r);
            rec_res(o, &r, 0);
            continue;
        }
        static const uint8_t payload[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
        struct ks_ipc_desc d = { 0 };
        if (st->desc == D_RECV) {
            d.recv_buf = s->rbuf;
            d.recv_cap = sizeof s->rbuf;
        } else if (st->desc == D_SEND) {
            d.send_buf = payload;
            d.send_len = sizeof payload;
            d.recv_buf = s->rbuf;
            d.recv_cap = sizeof s->rbuf;
        } else if (st->desc == D_RECV_HUGE) {
            d.recv_buf = s->rbuf;
            d.recv_cap = KS_IPC_MAX_BUF + 1;
        } else if (st->desc == D_RECV_UNMAPPED) {
            d.recv_buf = (void *)UNMAPPED_ADDR;
            d.recv_cap = sizeof s->rbuf;
        } else if (st->desc == D_HANDLE || st->desc == D_MANY_HANDLES) {
            d.send_nhandles = st->desc == D_HANDLE ? 1 : KS_IPC_MAX_HANDLES + 1;
            d.send_handles[0] = s->l;           /* a copy of the listener handle */
            d.recv_buf = s->rbuf;
            d.recv_cap = sizeof s->rbuf;
        } else if (st->desc == D_HANDLES_MOVED || st->desc == D_LISTENER_MOVED) {
            int mo = st->desc == D_HANDLES_MOVED;
            long h = mo ? ks_memobj_create(KS_PAGE_SIZE) : ks_handle_duplicate(s->l, KS_RIGHT_READ | KS_RIGHT_TRANSFER);
            d.send_nhandles = mo ? 2 : 1;
            d.send_handles[0] = (ks_handle_t)h;         /* moved: it leaves our table */
            d.send_handle_flags[0] = KS_IPC_HANDLE_MOVE;
            d.send_handles[1] = s->l;
            d.recv_buf = s->rbuf;
            d.recv_cap = sizeof s->rbuf;
        } else if (st->desc == D_BAD_HANDLE) {
            d.send_nhandles = 1;
            d.send_handles[0] = s->bad;
        } else if (st->desc == D_NO_TRANSFER || st->desc == D_MOVED_TWICE) {
            long m = ks_memobj_create(KS_PAGE_SIZE);
            long h = st->desc == D_NO_TRANSFER ? ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ) : m;
            if (h != m)
                ks_handle_close((ks_handle_t)m);
            d.send_nhandles = st->desc == D_MOVED_TWICE ? 2 : 1;
            d.send_handles[0] = d.send_handles[1] = (ks_handle_t)h;     /* moved (twice: once, then a copy) */
            d.send_handle_flags[0] = d.send_handle_flags[1] = KS_IPC_HANDLE_MOVE;
            d.recv_buf = s->rbuf;
            d.recv_cap = sizeof s->rbuf;
            s->stray = h;
        } else if (st->desc == D_PSEUDO_HANDLE) {
            d.send_nhandles = 1;
            d.send_handles[0] = KS_THREAD_SELF;                         /* cannot travel */
            d.send_handle_flags[0] = KS_IPC_HANDLE_MOVE;
        } else if (st->desc == D_RECV_ODD || st->desc == D_RECV_READONLY) {
            d.recv_buf = st->desc == D_RECV_ODD ? s->rbuf : (void *)ro_page(&s->ro_mo);
            d.recv_cap = 8;
        } else if (st->desc >= D_VIEW && st->desc <= D_VIEW_BAD_HANDLE) {
            s->stray = view_desc(&d, st->desc, s->l, s->bad);           /* the memobj stays ours */
            if (st->desc == D_VIEW_NO_TRANSFER)
                s->stray2 = d.send_handles[0];
            d.recv_buf = s->rbuf;
            d.recv_cap = sizeof s->rbuf;
        }
        s->keep.recv_buf = s->rbuf;
        s->keep.recv_cap = sizeof s->rbuf;
        struct ks_ipc_desc *dp = st->desc == D_NONE ? 0 : st->desc == D_FAULT ?
                                 (struct ks_ipc_desc *)UNMAPPED_ADDR : st->desc == D_RECV_KEEP ? &s->keep : &d;
        if (st->desc == D_RECV_ODD) {           /* a copy of d one byte in: the kernel reads it unaligned */
            memcpy(s->odd + 1, &d, sizeof d);
            dp = (struct ks_ipc_desc *)(s->odd + 1);
        }
        ks_handle_t rh = (ks_handle_t)(st->rh == RH_CUR ? s->cur : st->rh == RH_FIRST ? s->first :
                                       st->rh == RH_SECOND ? s->second : st->rh == RH_BAD ? s->bad :
                                       st->rh == RH_WRONG ? s->wrong : *s->ext);
        ks_handle_t lh = st->lh == LH_L ? s->l : st->lh == LH_BAD ? s->bad :
                         st->lh == LH_WRONG ? s->wrong : s->noread;
        uint64_t rw[KS_IPC_WORDS];
        echo_f(s->w, s->ud, rw);
        struct ipcres r;
        long a0;
        int is_receive = st->op != OP_REPLY;
        s->receiving = is_receive;
        if (st->op == OP_RECV)
            a0 = recv_full(lh, dp, &r);
        else if (st->op == OP_RR)
            a0 = reply_recv_full(rh, lh, dp, rw, &r);
        else
            a0 = reply_full(rh, dp, rw, &r);
        s->receiving = 0;
        if (s->stray) {
            ks_handle_close((ks_handle_t)s->stray);     /* (gone already if it was moved) */
            s->stray = 0;
        }
        if (s->stray2) {
            ks_handle_close((ks_handle_t)s->stray2);
            s->stray2 = 0;
        }
        if (s->ro_mo) {
            ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)d.recv_buf, KS_PAGE_SIZE);
            ks_handle_close((ks_handle_t)s->ro_mo);
            s->ro_mo = 0;
        }
        if (st->desc >= D_VIEW && st->desc <= D_VIEW_BAD_HANDLE)
            view_result_check(st->desc, a0);
        rec_res(o, &r, is_receive);
        if (st->desc == D_RECV_ODD)
            memcpy(&d, s->odd + 1, sizeof d);   /* what the kernel wrote back there */
        if (dp == &d || dp == &s->keep || st->desc == D_RECV_ODD)
            rec_desc(o, &d == dp || st->desc == D_RECV_ODD ? &d : dp);
        if (is_receive && a0 >= 256) {
            int k;
            for (k = 0; k < nh && handles[k] != a0; k++)
                ;
            if (k == nh && nh < 16)
                handles[nh++] = a0;
            if (r.w[0] == QUIT_WORD) {          /* teardown: answer, go on with the script */
                uint64_t qw[KS_IPC_WORDS] = { QUIT_WORD };
                rec(o, 0x9017);
                rec(o, (uint64_t)reply_full((ks_handle_t)a0, 0, qw, &r));
                continue;
            }
            memcpy(s->w, r.w, sizeof s->w);
            s->ud = r.a1;
            s->cur = a0;
            if (s->first < 0)
                s->first = a0;
            else if (s->second < 0 && a0 != s->first)
                s->second = a0;
        }
    }
    for (int k = 0; k < nh; k++)
        ks_handle_close((ks_handle_t)handles[k]);
    s->done = 1;
    ks_thread_exit(0);
}

/* ---- a row: listener, client port, server thread(s), the main thread's record ---- */

struct row {
    ks_handle_t l, c;
    struct srv s, s2;
    int has_s2, no_quit;
    struct rec out;             /* the main thread's */
    uint64_t seed;
};

static struct row R;
static uint64_t ipc_mode = 1;           /* the fast path switch while a row runs */
static struct ks_ipc_stats row_s0, row_s1;
static int row_window_closed;

/* Start counting here (default: at the row's start). */
static void row_window(void)
{
    ks_ipc_control((int)ipc_mode, &row_s0);
}

/* Stop counting here (default: at the row's end). */
static void row_window_end(void)
{
    ks_ipc_control((int)ipc_mode, &row_s1);
    row_window_closed = 1;
}

static void srv_prepare(struct srv *s, const struct sstep *script)
{
    memset(s, 0, sizeof *s);
    s->script = script;
    s->l = R.l;
    s->bad = R.s.bad;
    s->wrong = R.c;
    s->noread = R.s.noread;
    s->t.h = -1;
}

/* Listener, client port, server thread with `script` (settled in its first receive if `settle_it`). */
static void row_setup(const struct sstep *script, int settle_it)
{
    memset(&R, 0, sizeof R);
    R.l = (ks_handle_t)ks_ipc_listener_create();
    R.c = (ks_handle_t)ks_ipc_client_create(R.l, 0x5eed0000feedull);
    long dead = ks_handle_duplicate(R.c, KS_RIGHT_WRITE);
    ks_handle_close((ks_handle_t)dead);
    R.s.bad = (ks_handle_t)dead;                /* closed: BAD_HANDLE */
    R.s.noread = (ks_handle_t)ks_handle_duplicate(R.l, KS_RIGHT_MANAGE | KS_RIGHT_DUPLICATE);
    ks_handle_t bad = R.s.bad, noread = R.s.noread;
    srv_prepare(&R.s, script);
    R.s.bad = bad;
    R.s.noread = noread;
    if (script)
        thread_start_into(&R.s.t, srv_thread, (long)&R.s);
    if (settle_it)
        settle();
}

static void row_start_s2(const struct sstep *script)
{
    srv_prepare(&R.s2, script);
    R.s2.bad = R.s.bad;
    R.s2.noread = R.s.noread;
    R.s2.ext = &R.s.cur;
    R.has_s2 = 1;
    thread_start_into(&R.s2.t, srv_thread, (long)&R.s2);
}

/* One call from the main thread (at most 1 s), recorded. */
static long row_call(ks_handle_t port, struct ks_ipc_desc *d)
{
    uint64_t w[KS_IPC_WORDS];
    fill_words(w, 0x1000 + R.seed++);
    struct ipcres r;
    watchdog_arm(1000);
    long a0 = call_full(port, d, w, &r);
    watchdog_disarm();
    rec(&R.out, 0xca11);
    rec_res(&R.out, &r, 0);
    if (d)
        rec_desc(&R.out, d);
    for (uint32_t i = 0; d && a0 == 0 && i < d->recv_nhandles && i < KS_IPC_MAX_HANDLES; i++) {
        long info = ks_handle_info(d->recv_handles[i]);     /* what arrived (values differ run to run) */
        uint8_t b = 0;
        rec(&R.out, (uint64_t)info);
        if (info >= 0 && KS_INFO_TYPE(info) == KS_OBJ_MEMOBJ)
            rec(&R.out, (uint64_t)ks_memobj_read(d->recv_handles[i], 0, &b, 1) << 8 | b);
        if (info >= 0 && KS_INFO_TYPE(info) == KS_OBJ_VIEW) {     /* only view_desc's are sent: check it */
            long got = ks_view_read(d->recv_handles[i], &b, 1);
            KT_EXPECT_EQ(KS_INFO_RIGHTS(info), VIEW_SENT_RIGHTS);
            KT_EXPECT_EQ(got, 1);
            KT_EXPECT_EQ(b, VIEW_BYTE);         /* from position 0 */
            rec(&R.out, (uint64_t)got << 16 | b << 8 | (uint64_t)ks_view_seek(d->recv_handles[i], 0, KS_SEEK_CUR));
        }
        ks_handle_close(d->recv_handles[i]);
    }
    return a0;
}

static void srv_finish(struct srv *s)
{
    if (s->t.h < 0)
        return;
    s->teardown = 1;
    if (!wait_flag(&s->done, 1000)) {
        ks_thread_interrupt((ks_handle_t)s->t.h);
        rec(&R.out, 0xdead);
        wait_flag(&s->done, 1000);
    }
    thread_finish(&s->t);
    for (int i = 0; i < s->out.n; i++)
        rec(&R.out, s->out.v[i]);
}

/* A server still waiting in a receive gets a QUIT call (so that it learns its reply port's handle). */
static void row_quit(struct srv *s)
{
    if (s->t.h < 0 || s->done || !s->receiving)
        return;
    uint64_t w[KS_IPC_WORDS] = { QUIT_WORD };
    struct ipcres r;
    watchdog_arm(1000);
    call_full(R.c, 0, w, &r);
    watchdog_disarm();
    rec(&R.out, 0x9017);
    rec_res(&R.out, &r, 0);
}

/*
 * End the row (outside the counting window): servers waiting in a receive are
 * sent QUIT, the listener is closed, the servers' records are collected.
 */
static void row_teardown(void)
{
    settle();
    if (!row_window_closed)
        row_window_end();
    if (!R.no_quit) {
        row_quit(&R.s);
        if (R.has_s2)
            row_quit(&R.s2);
    }
    ks_handle_close(R.l);
    ks_handle_close(R.s.noread);
    srv_finish(&R.s);
    if (R.has_s2)
        srv_finish(&R.s2);
    ks_handle_close(R.c);
}

/* ---- the rows ---- */

/* The commonest row: a server running `script` (settled first), one call without a descriptor. */
static void row_one_call(const struct sstep *script)
{
    row_setup(script, 1);
    row_call(R.c, 0);
    row_teardown();
}

/* As row_one_call, the call with an empty descriptor: room for handles the reply sends. */
static void row_one_desc_call(const struct sstep *script)
{
    struct ks_ipc_desc d = { 0 };
    row_setup(script, 1);
    row_call(R.c, &d);
    row_teardown();
}

/*
 * The server receives, then replies-and-receives with descriptor kind `desc`
 * (and answers with a plain reply if `reply_after`, when that reply-and-
 * receive is to fail); one call, with an empty descriptor if `caller_desc`.
 */
enum { RR_THEN_END, RR_THEN_REPLY };
enum { CALL_WORDS, CALL_DESC };

static void row_rr_desc_kind(int desc, int reply_after, int caller_desc)
{
    const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_RR, .desc = desc },
                               { .op = reply_after ? OP_REPLY : OP_END }, { .op = OP_END } };
    if (caller_desc)
        row_one_desc_call(s);
    else
        row_one_call(s);
}

static const struct sstep S_RECV_RR[] = { { .op = OP_RECV }, { .op = OP_RR }, { .op = OP_END } };

static void row_baseline(void)
{
    row_one_call(S_RECV_RR);
}

/* A call with a descriptor (all zero): both ways go fast (no handles, no outputs change). */
static void row_call_desc(void)
{
    row_setup(S_RECV_RR, 1);
    struct ks_ipc_desc d = { 0 };
    row_call(R.c, &d);
    row_teardown();
}

static void row_no_receiver(void)
{
    static const struct sstep s[] = { { .op = OP_SLEEP, .ms = 30 }, { .op = OP_RECV }, { .op = OP_RR }, { .op = OP_END } };
    row_setup(s, 0);
    row_call(R.c, 0);
    row_teardown();
}

/* A call with words only into a receive with a descriptor (nothing to write back: recv_len stays 0). */
static void row_receiver_desc(void)
{
    static const struct sstep s[] = { { .op = OP_RECV, .desc = D_RECV }, { .op = OP_RR }, { .op = OP_END } };
    row_one_call(s);
}

static void row_listener_closed(void)
{
    row_setup(0, 0);
    ks_handle_close(R.l);
    row_call(R.c, 0);
    row_teardown();
}

static void row_bad_handle(void)
{
    row_setup(S_RECV_RR, 1);
    row_call(R.s.bad, 0);
    row_teardown();
}

/* A closed handle whose slot holds another object now (the generation differs). */
static void row_stale_handle(void)
{
    row_setup(S_RECV_RR, 1);
    long a = ks_handle_duplicate(R.c, KS_RIGHT_WRITE);
    ks_handle_close((ks_handle_t)a);
    long b = ks_handle_duplicate(R.c, KS_RIGHT_WRITE);
    rec(&R.out, (a & 255) == (b & 255) && a != b);      /* the slot was reused */
    row_call((ks_handle_t)a, 0);
    ks_handle_close((ks_handle_t)b);
    row_teardown();
}

static void row_pseudo_handle(void)
{
    row_setup(S_RECV_RR, 1);
    row_call(KS_THREAD_SELF, 0);
    row_teardown();
}

static void row_huge_handle(void)
{
    row_setup(S_RECV_RR, 1);
    uint64_t w[KS_IPC_WORDS] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    struct ipcres r;
    ipc_full(KS_SYS_IPC_CALL, (long)R.c | (1l << 32), 0, 0, w, &r);
    rec_res(&R.out, &r, 0);
    row_teardown();
}

static void row_wrong_type(void)
{
    row_setup(S_RECV_RR, 1);
    row_call(R.l, 0);
    row_teardown();
}

static void row_no_write_right(void)
{
    row_setup(S_RECV_RR, 1);
    long h = ks_handle_duplicate(R.c, KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE);
    row_call((ks_handle_t)h, 0);
    ks_handle_close((ks_handle_t)h);
    row_teardown();
}

/* The receiver was interrupted but has not run yet: it is still listed, not blocked. */
static void row_receiver_interrupted(void)
{
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_RECV }, { .op = OP_RR }, { .op = OP_END } };
    row_setup(s, 1);
    ks_thread_interrupt((ks_handle_t)R.s.t.h);
    row_call(R.c, 0);
    row_teardown();
}

/* The caller has an interrupt pending: the message is delivered, the wait ends at once. */
static void row_caller_intr_pending(void)
{
    row_setup(S_RECV_RR, 1);
    ks_thread_interrupt(KS_THREAD_SELF);
    row_call(R.c, 0);
    row_teardown();
}

/* Reply-and-receive to a caller interrupted a moment ago (not blocked, has not run). */
static void row_caller_interrupted(void)
{
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_INTR_MAIN }, { .op = OP_RR }, { .op = OP_END } };
    row_one_call(s);
}

static volatile uint64_t row_up_seen;   /* bits (+1) the upcall entry saw, in base 64 */

static void row_upcall_entry(long bit, struct ks_upcall_frame *f)
{
    row_up_seen = row_up_seen * 64 + (uint64_t)bit + 1;
    ks_upcall_return(f);
}

/*
 * The caller has an upcall due when the reply comes (raised while the server
 * held its call, so its wait went on): the fast reply must leave it to the C
 * path, whose return to user mode runs the upcall, so that the upcall has run
 * by the time the call returns, before the program makes another system call.
 */
static void row_caller_upcall_due(void)
{
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_RAISE_MAIN }, { .op = OP_RR }, { .op = OP_END } };
    row_up_seen = 0;
    ks_upcall_set((uintptr_t)row_upcall_entry, 0);
    row_setup(s, 1);
    uint64_t w[KS_IPC_WORDS];
    fill_words(w, 0x1000 + R.seed++);
    struct ipcres r;
    watchdog_arm(1000);
    call_full(R.c, 0, w, &r);
    uint64_t seen = row_up_seen;        /* no system call since the call's own */
    watchdog_disarm();
    rec(&R.out, 0xc0de);
    rec_res(&R.out, &r, 0);
    rec(&R.out, seen);
    KT_EXPECT_EQ(seen, ROW_UP_BIT + 1);
    row_teardown();
    ks_upcall_set(0, 0);
}

/* Reply-and-receive carrying a buffer. */
static void row_reply_desc(void)
{
    row_rr_desc_kind(D_SEND, RR_THEN_END, CALL_WORDS);
}

/* Reply-and-receive with a descriptor that only receives (into rbuf): the reply goes fast. */
static void row_rr_recv_desc(void)
{
    row_rr_desc_kind(D_RECV, RR_THEN_END, CALL_WORDS);
}

/* A call carrying a buffer into a receive with a descriptor, answered by one (ipc_rt_4k's case). */
static void row_rr_both_desc(void)
{
    static const struct sstep s[] = { { .op = OP_RECV, .desc = D_RECV }, { .op = OP_RR, .desc = D_RECV },
                                      { .op = OP_RR, .desc = D_RECV }, { .op = OP_END } };
    row_setup(s, 1);
    static const uint8_t msg[8] = "8 bytes";
    struct ks_ipc_desc d = { .send_buf = msg, .send_len = sizeof msg };
    row_call(R.c, &d);
    row_call(R.c, &d);
    row_teardown();
}

/* Reply-and-receive whose descriptor sends a handle (a copy of the listener's). */
static void row_rr_desc_handle(void)
{
    row_rr_desc_kind(D_HANDLE, RR_THEN_END, CALL_WORDS);
}

/*
 * A caller with a descriptor, answered by a reply-and-receive that sends it a
 * handle (a copy of the listener's): the reply goes fast, and the caller's
 * descriptor outputs (one handle) are written once it runs.
 */
static void row_rr_handle_to_caller(void)
{
    row_rr_desc_kind(D_HANDLE, RR_THEN_END, CALL_DESC);
}

/* As rr_handle_to_caller with two handles, the first (a new memobj) moved out of the server's table. */
static void row_rr_handles_moved(void)
{
    row_rr_desc_kind(D_HANDLES_MOVED, RR_THEN_END, CALL_DESC);
}

/*
 * A reply-and-receive moving a handle to a listener: the C path's (a listener
 * or reply port moved may be the one the receive that follows needs, which
 * only the C path looks at again).
 */
static void row_rr_listener_moved(void)
{
    row_rr_desc_kind(D_LISTENER_MOVED, RR_THEN_END, CALL_DESC);
}

/* A reply-and-receive sending a handle that is not one: BAD_HANDLE, nothing sent, then a plain reply. */
static void row_rr_bad_handle_to_caller(void)
{
    row_rr_desc_kind(D_BAD_HANDLE, RR_THEN_REPLY, CALL_DESC);
}

/*
 * Reply-and-receive rows whose handles the fast path must leave to the C
 * path: a moved handle without TRANSFER (ACCESS, nothing sent, then a plain
 * reply), one handle moved twice in one descriptor (it moves once, then
 * travels as a copy), a pseudo-handle (INVALID, then a plain reply).
 */
static void row_rr_no_transfer(void)
{
    row_rr_desc_kind(D_NO_TRANSFER, RR_THEN_REPLY, CALL_DESC);
}

static void row_rr_moved_twice(void)
{
    row_rr_desc_kind(D_MOVED_TWICE, RR_THEN_END, CALL_DESC);
}

static void row_rr_pseudo_handle(void)
{
    row_rr_desc_kind(D_PSEUDO_HANDLE, RR_THEN_REPLY, CALL_DESC);
}

/*
 * Reply-and-receive rows with KS_IPC_HANDLE_VIEW (view_desc): the reply makes
 * the caller a view of a memobj that stays the server's (the caller reads
 * its first byte through it), alone (the fast path's one-handle case) or
 * with a copied handle; and the ones the message fails with, each then
 * answered with a plain reply.
 */
static void row_rr_view(void)
{
    row_rr_desc_kind(D_VIEW, RR_THEN_END, CALL_DESC);
}

static void row_rr_view_and_copy(void)
{
    row_rr_desc_kind(D_VIEW_AND_COPY, RR_THEN_END, CALL_DESC);
}

static void row_rr_view_moved(void)
{
    row_rr_desc_kind(D_VIEW_MOVED, RR_THEN_REPLY, CALL_DESC);
}

static void row_rr_view_of_listener(void)
{
    row_rr_desc_kind(D_VIEW_OF_LISTENER, RR_THEN_REPLY, CALL_DESC);
}

static void row_rr_view_no_transfer(void)
{
    row_rr_desc_kind(D_VIEW_NO_TRANSFER, RR_THEN_REPLY, CALL_DESC);
}

static void row_rr_view_bad_rights(void)
{
    row_rr_desc_kind(D_VIEW_BAD_RIGHTS, RR_THEN_REPLY, CALL_DESC);
}

static void row_rr_view_bad_handle(void)
{
    row_rr_desc_kind(D_VIEW_BAD_HANDLE, RR_THEN_REPLY, CALL_DESC);
}

/*
 * A call that sends views (always the C path, as any call with handles): to
 * a receiver without a descriptor, where the view finds nowhere to go and is
 * closed (the row's object count checks it is freed); and one of a listener,
 * which fails WRONG_TYPE at once.
 */
static void row_call_desc_view(void)
{
    row_setup(S_RECV_RR, 1);
    struct ks_ipc_desc d = { 0 };
    long m = view_desc(&d, D_VIEW, R.l, R.s.bad);
    KT_EXPECT_EQ(row_call(R.c, &d), 0);
    struct ks_ipc_desc d2 = { 0 };
    view_desc(&d2, D_VIEW_OF_LISTENER, R.l, R.s.bad);
    KT_EXPECT_EQ(row_call(R.c, &d2), KS_ERR_WRONG_TYPE);
    ks_handle_close((ks_handle_t)m);
    row_teardown();
}

/*
 * Reply-and-receive with a receive-only descriptor where the fast path's own
 * copy and check (ipc_reply_rdesc) leave it to C: the descriptor at an odd
 * address (the reply goes fast all the same, the next call arrives in
 * rbuf), and a receive buffer in a read-only mapping, the area the fast
 * path looks at (FAULT, then a plain reply).
 */
static void row_rr_desc_odd(void)
{
    row_rr_desc_kind(D_RECV_ODD, RR_THEN_END, CALL_DESC);
}

static void row_rr_recv_readonly(void)
{
    /* Twice, each into a fresh read-only page that ro_page touched just before: its area is the last found. */
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_RR, .desc = D_RECV_READONLY },
                                      { .op = OP_RR, .desc = D_RECV_READONLY }, { .op = OP_REPLY },
                                      { .op = OP_END } };
    row_one_call(s);
}

/*
 * A caller whose descriptor is readable but not writable, with stale outputs
 * in it: the reply is delivered, and writing the outputs back fails FAULT,
 * which is what the call returns, the words as replied.
 */
static void row_caller_outputs_readonly(void)
{
    row_setup(S_RECV_RR, 1);
    long m = ks_memobj_create(KS_PAGE_SIZE);
    long at = m > 0 ? ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, KS_PAGE_SIZE,
                                KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED) : m;
    KT_ASSERT(at > 0);
    struct ks_ipc_desc *d = (struct ks_ipc_desc *)at;
    memset(d, 0, sizeof *d);
    d->recv_len = 77;
    KT_EXPECT_EQ(ks_vm_protect(KS_PROCESS_SELF, (uintptr_t)at, KS_PAGE_SIZE, KS_PROT_READ), 0);
    row_call(R.c, d);
    KT_EXPECT_EQ(d->recv_len, 77);
    ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)at, KS_PAGE_SIZE);
    ks_handle_close((ks_handle_t)m);
    row_teardown();
}

/* Reply-and-receive whose descriptor lists too many handles: INVALID, nothing sent, then a plain reply. */
static void row_rr_desc_many_handles(void)
{
    row_rr_desc_kind(D_MANY_HANDLES, RR_THEN_REPLY, CALL_WORDS);
}

/* Reply-and-receive with an unreadable descriptor: FAULT, nothing sent, then a plain reply. */
static void row_rr_desc_fault(void)
{
    row_rr_desc_kind(D_FAULT, RR_THEN_REPLY, CALL_WORDS);
}

/* Reply-and-receive with a receive capacity over the limit: the reply goes, the receive fails INVALID. */
static void row_rr_recv_cap_huge(void)
{
    row_rr_desc_kind(D_RECV_HUGE, RR_THEN_END, CALL_WORDS);
}

/* Reply-and-receive into an unmapped buffer: the reply goes, the receive fails FAULT. */
static void row_rr_recv_unmapped(void)
{
    row_rr_desc_kind(D_RECV_UNMAPPED, RR_THEN_END, CALL_WORDS);
}

/* A caller whose descriptor outputs in memory are stale: the reply has them to write back. */
static void row_caller_outputs_stale(void)
{
    row_setup(S_RECV_RR, 1);
    struct ks_ipc_desc d = { .recv_len = 77, .recv_nhandles = 3, .flags = KS_IPC_PEER_TRUNCATED };
    row_call(R.c, &d);
    row_teardown();
}

/* A caller whose buffer was cut (PEER_TRUNCATED): the reply has the flag to write back. */
static void row_caller_truncated(void)
{
    static const struct sstep s[] = { { .op = OP_RECV, .desc = D_RECV }, { .op = OP_RR, .desc = D_RECV },
                                      { .op = OP_END } };
    row_setup(s, 1);
    static uint8_t big[100];
    struct ks_ipc_desc d = { .send_buf = big, .send_len = sizeof big };
    row_call(R.c, &d);
    row_teardown();
}

/*
 * Two calls carrying a buffer into a server whose kept descriptor says, from
 * the first receive on, what the second brings (8 bytes): only the second
 * call goes fast (the first has the receiver's recv_len to write back).
 */
static void row_call_buf_kept(void)
{
    static const struct sstep s[] = { { .op = OP_RECV, .desc = D_RECV_KEEP }, { .op = OP_RR, .desc = D_RECV_KEEP },
                                      { .op = OP_RR, .desc = D_RECV_KEEP }, { .op = OP_END } };
    row_setup(s, 1);
    static const uint8_t msg[8] = "8 bytes";
    struct ks_ipc_desc d = { .send_buf = msg, .send_len = sizeof msg };
    row_call(R.c, &d);
    row_call(R.c, &d);
    row_teardown();
}

/*
 * As call_buf_kept with 100 bytes into 64, the caller's descriptor kept too:
 * the second call goes fast, cut (the receiver's info, the caller's
 * PEER_TRUNCATED), and its reply too, PEER_TRUNCATED being in memory already.
 */
static void row_call_buf_cut_kept(void)
{
    static const struct sstep s[] = { { .op = OP_RECV, .desc = D_RECV_KEEP }, { .op = OP_RR, .desc = D_RECV_KEEP },
                                      { .op = OP_RR, .desc = D_RECV_KEEP }, { .op = OP_END } };
    row_setup(s, 1);
    static uint8_t big[100];
    struct ks_ipc_desc d = { .send_buf = big, .send_len = sizeof big };
    row_call(R.c, &d);
    row_call(R.c, &d);
    row_teardown();
}

/*
 * The page below UNMAPPED_ADDR, mapped, so that a buffer may start in it and
 * run into unmapped memory; its memobj handle, for straddle_unmap, or -1.
 */
static long straddle_map(void)
{
    long mo = ks_memobj_create(KS_PAGE_SIZE);
    long at = mo < 0 ? mo : ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)mo, 0, UNMAPPED_ADDR - KS_PAGE_SIZE,
                                       KS_PAGE_SIZE, KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED | KS_MAP_FIXED);
    if (at != (long)(UNMAPPED_ADDR - KS_PAGE_SIZE)) {
        ks_handle_close((ks_handle_t)mo);
        return -1;
    }
    return mo;
}

static void straddle_unmap(long mo)
{
    ks_vm_unmap(KS_PROCESS_SELF, UNMAPPED_ADDR - KS_PAGE_SIZE, KS_PAGE_SIZE);
    ks_handle_close((ks_handle_t)mo);
}

/*
 * As call_buf_kept with, between the two calls, one whose 64 bytes run from
 * a mapped page into an unmapped one: the fast path's copy fails part-way
 * and it hands the call to the C path, which finds the bad buffer (FAULT,
 * nothing delivered) as it would have alone; the last call still goes fast.
 */
static void row_call_buf_straddle(void)
{
    static const struct sstep s[] = { { .op = OP_RECV, .desc = D_RECV_KEEP }, { .op = OP_RR, .desc = D_RECV_KEEP },
                                      { .op = OP_RR, .desc = D_RECV_KEEP }, { .op = OP_END } };
    row_setup(s, 1);
    long mo = straddle_map();
    KT_ASSERT(mo >= 0);
    static uint8_t good[64] = { 0x64 };
    struct ks_ipc_desc d = { .send_buf = good, .send_len = sizeof good };
    row_call(R.c, &d);
    struct ks_ipc_desc bad = { .send_buf = (const void *)(UNMAPPED_ADDR - 32), .send_len = 64 };
    KT_EXPECT_EQ(row_call(R.c, &bad), KS_ERR_FAULT);
    row_call(R.c, &d);
    straddle_unmap(mo);
    row_teardown();
}

/*
 * Descriptors where the kernel's 13-word copy of one cannot simply go: at
 * addresses 4- and 1-byte aligned (the copy takes the general path; the
 * calls succeed and their outputs are written back there), and running from
 * a mapped page into an unmapped one, aligned and not (FAULT, nothing
 * delivered: the fast path's copy fails part-way and the C path says so);
 * then an aligned one still goes. (The first call takes the C path, as in
 * call_buf_kept: the server's kept descriptor has a recv_len to change.)
 */
static void row_call_desc_placement(void)
{
    static const struct sstep s[] = { { .op = OP_RECV, .desc = D_RECV_KEEP }, { .op = OP_RR, .desc = D_RECV_KEEP },
                                      { .op = OP_RR, .desc = D_RECV_KEEP }, { .op = OP_RR, .desc = D_RECV_KEEP },
                                      { .op = OP_END } };
    row_setup(s, 1);
    long mo = straddle_map();
    KT_ASSERT(mo >= 0);
    static const uint8_t msg[8] = "placed";
    static uint64_t space[16];
    struct ks_ipc_desc want = { .send_buf = msg, .send_len = sizeof msg };
    for (int off = 4; off >= 1; off -= 3) {
        struct ks_ipc_desc *odd = (struct ks_ipc_desc *)((uint8_t *)space + off);
        memcpy(odd, &want, sizeof want);
        KT_EXPECT_EQ(row_call(R.c, odd), 0);
        struct ks_ipc_desc back;
        memcpy(&back, odd, sizeof back);
        KT_EXPECT_EQ(back.recv_nhandles, 0);
        KT_EXPECT_EQ(back.send_len, sizeof msg);
    }
    for (int off = 48; off >= 45; off -= 3) {
        struct ks_ipc_desc *edge = (struct ks_ipc_desc *)(UNMAPPED_ADDR - off);
        memcpy(edge, &want, (size_t)off);                       /* its first words, up to the hole */
        uint64_t w[KS_IPC_WORDS] = { 1, 2, 3, 4, 5, 6, 7, 8 };
        struct ipcres r;
        ipc_full(KS_SYS_IPC_CALL, R.c, edge, 0, w, &r);
        rec_res(&R.out, &r, 0);
        KT_EXPECT_EQ(r.a0, KS_ERR_FAULT);
    }
    KT_EXPECT_EQ(row_call(R.c, &want), 0);
    straddle_unmap(mo);
    row_teardown();
}

/* A call whose descriptor sends a handle (a copy; the receiver takes none, so it is dropped). */
static void row_call_desc_handle(void)
{
    row_setup(S_RECV_RR, 1);
    struct ks_ipc_desc d = { .send_nhandles = 1, .send_handles = { R.c } };
    row_call(R.c, &d);
    row_teardown();
}

/* Calls with bad descriptors: each fails at once (FAULT or INVALID), the server still waiting. */
static void row_call_desc_bad(void)
{
    row_setup(S_RECV_RR, 1);
    uint64_t w[KS_IPC_WORDS] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    struct ipcres r;
    ipc_full(KS_SYS_IPC_CALL, R.c, (struct ks_ipc_desc *)UNMAPPED_ADDR, 0, w, &r);    /* unreadable */
    rec_res(&R.out, &r, 0);
    struct ks_ipc_desc d = { .send_buf = (const void *)UNMAPPED_ADDR, .send_len = 8 };
    row_call(R.c, &d);                                                  /* unmapped send buffer */
    struct ks_ipc_desc d2 = { .send_len = KS_IPC_MAX_BUF + 1 };
    row_call(R.c, &d2);                                                 /* too long */
    struct ks_ipc_desc d3 = { .recv_buf = (void *)UNMAPPED_ADDR, .recv_cap = 8 };
    row_call(R.c, &d3);                                                 /* unmapped receive buffer */
    struct ks_ipc_desc d4 = { .recv_cap = KS_IPC_MAX_BUF + 1 };
    row_call(R.c, &d4);                                                 /* too large */
    row_call(R.c, 0);                                                   /* and the server still answers */
    row_teardown();
}

/*
 * Calls whose descriptor, send buffer or receive buffer is not user memory (in
 * the kernel, across the top of user space, wrapping): FAULT at once, on the
 * fast path's descriptor check as on the C path, the server still waiting.
 */
static void row_call_desc_hostile(void)
{
    row_setup(S_RECV_RR, 1);
    static const uintptr_t hostile[] = { 0xffffffff80200000ull, KS_USER_TOP - 50, ~0ull - 50 };
    for (unsigned i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        uint64_t w[KS_IPC_WORDS] = { 1, 2, 3, 4, 5, 6, 7, 8 };
        struct ipcres r;
        ipc_full(KS_SYS_IPC_CALL, R.c, (struct ks_ipc_desc *)hostile[i], 0, w, &r);
        rec_res(&R.out, &r, 0);
        KT_EXPECT_EQ(r.a0, KS_ERR_FAULT);
        struct ks_ipc_desc ds = { .send_buf = (const void *)hostile[i], .send_len = 64 };
        KT_EXPECT_EQ(row_call(R.c, &ds), KS_ERR_FAULT);
        struct ks_ipc_desc dr = { .recv_buf = (void *)hostile[i], .recv_cap = 64 };
        KT_EXPECT_EQ(row_call(R.c, &dr), KS_ERR_FAULT);
    }
    row_call(R.c, 0);                                                   /* and the server still answers */
    row_teardown();
}

/* Reply-and-receive while another call is queued on the listener. */
static void row_queued_caller(void)
{
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_SLEEP, .ms = 40 }, { .op = OP_RR }, { .op = OP_RR }, { .op = OP_END } };
    row_setup(s, 1);
    struct job j = { .port = R.c, .delay_ns = 15 * MS };
    fill_words(j.w, 0x2000);
    struct uthread t;
    thread_start_into(&t, caller_thread, (long)&j);
    row_call(R.c, 0);
    job_wait(&j, &t, 1000);
    rec(&R.out, 0xc2);
    rec_res(&R.out, &j.res, 0);
    row_teardown();
}

static void row_rr_bad_listener(void)
{
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_RR, .lh = LH_BAD }, { .op = OP_END } };
    row_one_call(s);
}

static void row_rr_listener_wrong_type(void)
{
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_RR, .lh = LH_WRONG }, { .op = OP_END } };
    row_one_call(s);
}

static void row_rr_listener_no_read(void)
{
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_RR, .lh = LH_NOREAD }, { .op = OP_END } };
    row_one_call(s);
}

static void row_rr_bad_reply(void)
{
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_RR, .rh = RH_BAD }, { .op = OP_REPLY }, { .op = OP_END } };
    row_one_call(s);
}

static void row_rr_reply_wrong_type(void)
{
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_RR, .rh = RH_WRONG }, { .op = OP_REPLY }, { .op = OP_END } };
    row_one_call(s);
}

/* Reply-and-receive on a reply port that was replied already (then a second call). */
static void row_rr_replied(void)
{
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_REPLY }, { .op = OP_RR }, { .op = OP_REPLY }, { .op = OP_END } };
    row_setup(s, 1);
    row_call(R.c, 0);
    settle();
    row_call(R.c, 0);
    row_teardown();
}

/* Reply-and-receive on an older port while the thread's current one is still armed. */
static void row_rr_own_port_armed(void)
{
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_RECV }, { .op = OP_RR, .rh = RH_FIRST },
                                      { .op = OP_REPLY, .rh = RH_SECOND }, { .op = OP_END } };
    row_setup(s, 1);
    struct job j = { .port = R.c, .delay_ns = 20 * MS };
    fill_words(j.w, 0x3000);
    struct uthread t;
    thread_start_into(&t, caller_thread, (long)&j);
    row_call(R.c, 0);
    row_teardown();                     /* QUIT ends the server's wait; it answers j */
    job_wait(&j, &t, 1000);
    rec(&R.out, 0xc2);
    rec_res(&R.out, &j.res, 0);
}

/*
 * A receiver whose previous receive went through the C path, blocked again by
 * a fast reply-and-receive, is woken by the listener closing: a1 must read 0
 * (the C path clears it when a receive starts).
 */
static void row_receiver_closed(void)
{
    static const struct sstep s[] = { { .op = OP_SLEEP, .ms = 30 }, { .op = OP_RECV }, { .op = OP_RR },
                                      { .op = OP_END } };
    row_setup(s, 0);
    row_call(R.c, 0);                   /* queued: the server's receive is the C path's */
    R.no_quit = 1;                      /* the listener's closing ends the server's wait */
    row_teardown();
}

/*
 * A server whose earlier receive went through the C path, then replied and
 * received on the fast path, calls another server (fast) and is answered by a
 * plain reply (C path): a1 must read 0, as after a C-path call.
 */
static void row_server_calls_out(void)
{
    static const struct sstep s[] = { { .op = OP_SLEEP, .ms = 30 }, { .op = OP_RECV }, { .op = OP_RR },
                                      { .op = OP_CALL }, { .op = OP_REPLY }, { .op = OP_END } };
    static const struct sstep s2[] = { { .op = OP_RECV }, { .op = OP_REPLY }, { .op = OP_END } };
    row_setup(s, 0);
    long l2 = ks_ipc_listener_create();
    R.s.callport = (ks_handle_t)ks_ipc_client_create((ks_handle_t)l2, 0x2222);
    srv_prepare(&R.s2, s2);
    R.s2.l = (ks_handle_t)l2;
    R.s2.bad = R.s.bad;
    R.has_s2 = 1;
    thread_start_into(&R.s2.t, srv_thread, (long)&R.s2);
    row_call(R.c, 0);                   /* queued: the C path delivers it */
    settle();
    row_call(R.c, 0);                   /* fast; the server calls out, then answers */
    row_teardown();
    ks_handle_close(R.s.callport);
    ks_handle_close((ks_handle_t)l2);
}

/*
 * A server that received a buffer (C path: info 8, a1 its caller's userdata)
 * calls another server (fast), which closes the reply port unanswered: the
 * call fails PEER_CLOSED with a1 = 0 and info = 0, as on the C path.
 */
static void row_caller_error_after_receive(void)
{
    static const struct sstep s[] = { { .op = OP_RECV, .desc = D_RECV }, { .op = OP_CALL }, { .op = OP_REPLY },
                                      { .op = OP_END } };
    static const struct sstep s2[] = { { .op = OP_RECV }, { .op = OP_CLOSE }, { .op = OP_END } };
    row_setup(s, 1);
    long l2 = ks_ipc_listener_create();
    R.s.callport = (ks_handle_t)ks_ipc_client_create((ks_handle_t)l2, 0x2222);
    srv_prepare(&R.s2, s2);
    R.s2.l = (ks_handle_t)l2;
    R.s2.bad = R.s.bad;
    R.has_s2 = 1;
    thread_start_into(&R.s2.t, srv_thread, (long)&R.s2);
    settle();
    static const uint8_t msg[8] = "8 bytes";
    struct ks_ipc_desc d = { .send_buf = msg, .send_len = sizeof msg };
    row_call(R.c, &d);
    row_teardown();
    ks_handle_close(R.s.callport);
    ks_handle_close((ks_handle_t)l2);
}

/*
 * A thread whose last receive went through the C path calls (fast) and is
 * answered by a plain reply (C path): a1 must read 0, as after a C-path call.
 */
static void row_caller_after_receive(void)
{
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_REPLY }, { .op = OP_END } };
    row_setup(s, 1);
    long l2 = ks_ipc_listener_create();
    long c2 = ks_ipc_client_create((ks_handle_t)l2, 0xc2c2);
    struct job j = { .port = (ks_handle_t)c2 };
    fill_words(j.w, 0x4000);
    struct uthread t;
    thread_start_into(&t, caller_thread, (long)&j);
    settle();                           /* queued on l2: the receive below is the C path's */
    struct ipcres r;
    watchdog_arm(1000);
    long rp = recv_full((ks_handle_t)l2, 0, &r);
    watchdog_disarm();
    rec_res(&R.out, &r, 1);
    uint64_t rw[KS_IPC_WORDS] = { 9 };
    rec(&R.out, (uint64_t)reply_full((ks_handle_t)rp, 0, rw, &r));
    job_wait(&j, &t, 1000);
    row_call(R.c, 0);
    ks_handle_close((ks_handle_t)c2);
    ks_handle_close((ks_handle_t)l2);
    row_teardown();
}

/* Reply-and-receive by a thread that has no reply port of its own yet. */
static void row_rr_no_own_port(void)
{
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_WAIT_TEARDOWN }, { .op = OP_END } };
    static const struct sstep s2[] = { { .op = OP_WAIT_EXT }, { .op = OP_RR, .rh = RH_EXT }, { .op = OP_END } };
    row_setup(s, 1);
    row_start_s2(s2);
    row_call(R.c, 0);
    settle();
    row_teardown();
}

/* A call when the waiting receiver's reply port handle was closed meanwhile. */
static void row_rport_handle_closed(void)
{
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_RR }, { .op = OP_REPLY }, { .op = OP_END } };
    row_setup(s, 1);
    row_call(R.c, 0);
    settle();
    rec(&R.out, ks_handle_close((ks_handle_t)R.s.cur));
    row_call(R.c, 0);
    row_teardown();
}

/*
 * A client handle the fast path has cached (a call went through it), closed,
 * then called again: BAD_HANDLE, not the port it named, because emptying the
 * slot forgets it in the thread's handle cache. The slot's next handle, a
 * new value, works.
 */
static void row_cached_handle_closed(void)
{
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_RR }, { .op = OP_RR }, { .op = OP_END } };
    row_setup(s, 1);
    long a = ks_handle_duplicate(R.c, KS_RIGHT_WRITE);
    row_call((ks_handle_t)a, 0);
    rec(&R.out, (uint64_t)ks_handle_close((ks_handle_t)a));
    row_call((ks_handle_t)a, 0);
    long b = ks_handle_duplicate(R.c, KS_RIGHT_WRITE);
    rec(&R.out, (a & 255) == (b & 255) && a != b);      /* the same slot, another value */
    row_call((ks_handle_t)b, 0);
    ks_handle_close((ks_handle_t)b);
    row_teardown();
}

/*
 * The same for a listener handle: the server receives through it (cached),
 * the main thread closes it, keeping the listener alive through a duplicate,
 * and the server's next reply-and-receive names the closed value. Without
 * the forgetting the fast path would receive on the listener through it.
 */
static void row_cached_listener_closed(void)
{
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_RR }, { .op = OP_RR }, { .op = OP_END } };
    row_setup(s, 1);
    row_call(R.c, 0);
    settle();                                   /* the server waits in its first OP_RR's receive */
    long l2 = ks_handle_duplicate(R.l, KS_RIGHT_READ | KS_RIGHT_MANAGE);
    rec(&R.out, l2 >= 256);
    rec(&R.out, (uint64_t)ks_handle_close(R.l));
    R.l = (ks_handle_t)l2;                      /* row_teardown closes it */
    row_call(R.c, 0);
    row_teardown();
}

/* The baseline with the fast path switched off inside the row. */
static void row_switched_off(void)
{
    struct ks_ipc_stats st;
    ks_ipc_control(0, &st);
    row_one_call(S_RECV_RR);
    ks_ipc_control((int)ipc_mode, &st);
}

/* A row whose server is helper `mode` in another process, given the listener (recorded: it started). */
static long row_spawn_server(const char *mode)
{
    row_setup(0, 0);
    ks_handle_t give[1] = { R.l };
    long p = spawn_helper(mode, 0, give, 1);
    ks_handle_close(R.l);
    rec(&R.out, p >= 0);
    return p;
}

/* End a row_spawn_server row: the server killed (recorded), the row torn down. */
static void row_server_end(long p)
{
    rec(&R.out, (uint64_t)child_kill(p));
    R.l = R.s.bad;
    row_teardown();
}

/* The baseline across processes (an echo server in a child; the address space switches). */
static void row_cross_process(void)
{
    long p = row_spawn_server("echo");
    row_call(R.c, 0);                   /* the server may not be waiting yet: not counted */
    settle();
    row_window();
    row_call(R.c, 0);
    settle();
    row_call(R.c, 0);
    row_window_end();
    row_server_end(p);
}

/*
 * fsd's open across processes: each reply moves a new memobj (its first byte
 * the call's MR0) into the caller's table, through its descriptor.
 */
static void row_cross_process_handles(void)
{
    long p = row_spawn_server("give-memobj");
    struct ks_ipc_desc d = { 0 };
    row_call(R.c, &d);                  /* the server may not be waiting yet: not counted */
    settle();
    row_window();
    row_call(R.c, &d);
    settle();
    row_call(R.c, &d);
    row_window_end();
    row_server_end(p);
}

/*
 * A server in another process whose reply would make the caller a view, with
 * no memory left for one (helper_give_view_limited): the fast reply's
 * allocation fails and hands the reply to the C path, whose own fails too;
 * nothing reaches the caller but the plain reply that says NO_MEMORY, and
 * the server and the kernel go on (the row counts the objects left).
 */
static void row_cross_process_view_no_memory(void)
{
    long p = row_spawn_server("give-view-limited");
    struct ks_ipc_desc d = { 0 };
    row_call(R.c, &d);                  /* the server may not be waiting yet: not counted */
    settle();
    row_window();
    for (int i = 0; i < 2; i++) {
        uint64_t w[KS_IPC_WORDS];
        fill_words(w, 0x3000 + (uint64_t)i);
        struct ipcres r;
        struct ks_ipc_desc dd = { 0 };
        watchdog_arm(1000);
        KT_EXPECT_EQ(call_full(R.c, &dd, w, &r), 0);
        watchdog_disarm();
        KT_EXPECT_EQ(r.w[0], (uint64_t)KS_ERR_NO_MEMORY);
        KT_EXPECT_EQ(dd.recv_nhandles, 0);
        rec_res(&R.out, &r, 0);
        settle();
    }
    row_window_end();
    row_server_end(p);
}

/*
 * As cross_process_handles into a caller whose handle table is full: the
 * reply goes down the C path (the fast path moves handles only where all fit),
 * where the memobj finds no room and is closed, and the caller's info says
 * so (KS_IPC_INFO_TRUNCATED).
 */
static void row_cross_process_handles_full(void)
{
    static long fill[KS_HANDLE_MAX];
    long p = row_spawn_server("give-memobj");
    struct ks_ipc_desc d = { 0 };
    row_call(R.c, &d);                  /* the server may not be waiting yet: not counted */
    settle();
    long m = ks_memobj_create(0);
    int n = 0;
    long h;
    while (m > 0 && n < KS_HANDLE_MAX && (h = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ)) > 0)
        fill[n++] = h;
    rec(&R.out, (uint64_t)(m > 0 ? ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ) : m));    /* full */
    row_window();
    row_call(R.c, &d);
    row_window_end();
    while (n > 0)
        ks_handle_close((ks_handle_t)fill[--n]);
    if (m > 0)
        ks_handle_close((ks_handle_t)m);
    row_server_end(p);
}

/*
 * call_buf_straddle with the server in another process, where the sender's
 * bytes are read in place (vm_copy_from_user): a good call, one whose buffer
 * runs into an unmapped page (FAULT, nothing delivered: the fast path's copy
 * fails part-way and the C path finds the bad buffer), a good call again.
 */
static void row_cross_process_straddle(void)
{
    long p = row_spawn_server("echo-buf");
    long mo = straddle_map();
    KT_ASSERT(mo >= 0);
    static uint8_t good[64];
    good[0] = 0x5e;                     /* (each run of the row starts alike) */
    good[1] = 0x4d;
    struct ks_ipc_desc d = { .send_buf = good, .send_len = sizeof good };
    row_call(R.c, &d);                  /* the server may not be waiting yet: not counted */
    settle();
    row_window();
    row_call(R.c, &d);
    settle();
    struct ks_ipc_desc bad = { .send_buf = (const void *)(UNMAPPED_ADDR - 32), .send_len = 64 };
    KT_EXPECT_EQ(row_call(R.c, &bad), KS_ERR_FAULT);
    good[0] = 0x6f;
    row_call(R.c, &d);
    row_window_end();
    straddle_unmap(mo);
    row_server_end(p);
}

/* ---- running rows ---- */

struct row_result {
    struct rec out;
    struct ks_ipc_stats d;
};

static struct row_result res_on, res_off;

static void run_row_mode(void (*fn)(void), int mode, struct row_result *res)
{
    struct ks_ipc_stats st;
    ipc_mode = (uint64_t)mode;
    ks_ipc_control(mode, &st);
    row_window_closed = 0;
    row_window();
    fn();
    if (!row_window_closed)
        row_window_end();
    res->out = R.out;
    res->d.fast_calls = row_s1.fast_calls - row_s0.fast_calls;
    res->d.fast_replies = row_s1.fast_replies - row_s0.fast_replies;
    res->d.slow_calls = row_s1.slow_calls - row_s0.slow_calls;
    res->d.slow_replies = row_s1.slow_replies - row_s0.slow_replies;
    res->d.fastpath_on = row_s0.fastpath_on;
    ipc_mode = 1;
    ks_ipc_control(1, &st);
}

/* Run a row with the fast path on and off; compare; check the path counters. */
static void fast_row(void (*fn)(void), uint64_t fast_calls, uint64_t fast_replies)
{
    struct ks_kstat k0, k1;
    scratch_bad = 0;
    sregs_bad = 0;
    snap(&k0);
    run_row_mode(fn, 1, &res_on);
    run_row_mode(fn, 0, &res_off);
    snap(&k1);
    if (k1.objects != k0.objects || k1.heap_objects != k0.heap_objects)
        ktest_fail(__FILE__, __LINE__, "kernel objects %ld, heap objects %ld left behind by the row (both runs)",
                   (long)(k1.objects - k0.objects), (long)(k1.heap_objects - k0.heap_objects));
    KT_EXPECT(res_on.out.n < ROW_MAX);
    KT_EXPECT_EQ(res_on.out.n, res_off.out.n);
    int ndiff = 0;
    for (int i = 0; i < res_on.out.n && i < res_off.out.n; i++) {
        if (res_on.out.v[i] != res_off.out.v[i] && ndiff++ < 4)
            ktest_fail(__FILE__, __LINE__, "fast/slow differ at record %d: 0x%lx (fast on) != 0x%lx (off)", i,
                       (unsigned long)res_on.out.v[i], (unsigned long)res_off.out.v[i]);
    }
    KT_EXPECT_EQ(res_on.d.fastpath_on, 1);
    KT_EXPECT_EQ(res_off.d.fastpath_on, 0);
    KT_EXPECT_EQ(res_on.d.fast_calls, fast_calls);
    KT_EXPECT_EQ(res_on.d.fast_replies, fast_replies);
    KT_EXPECT_EQ(res_off.d.fast_calls, 0);
    KT_EXPECT_EQ(res_off.d.fast_replies, 0);
    KT_EXPECT(res_off.d.slow_calls > 0);
    KT_EXPECT_EQ(res_on.d.fast_calls + res_on.d.slow_calls, res_off.d.slow_calls);
    KT_EXPECT_EQ(res_on.d.fast_replies + res_on.d.slow_replies, res_off.d.slow_replies);
    KT_EXPECT_EQ(scratch_bad, 0);
    KT_EXPECT_EQ(sregs_bad, 0);
}

#define FAST_ROW(name, fc, fr) \
    static void fast_##name(void) { fast_row(row_##name, fc, fr); }

FAST_ROW(baseline, 1, 1)
FAST_ROW(call_desc, 1, 1)
FAST_ROW(no_receiver, 0, 1)
FAST_ROW(receiver_desc, 1, 1)
FAST_ROW(listener_closed, 0, 0)
FAST_ROW(bad_handle, 0, 0)
FAST_ROW(stale_handle, 0, 0)
FAST_ROW(pseudo_handle, 0, 0)
FAST_ROW(huge_handle, 0, 0)
FAST_ROW(wrong_type, 0, 0)
FAST_ROW(no_write_right, 0, 0)
FAST_ROW(receiver_interrupted, 0, 1)
FAST_ROW(caller_intr_pending, 0, 0)
FAST_ROW(caller_interrupted, 1, 0)
FAST_ROW(caller_upcall_due, 1, 0)
FAST_ROW(reply_desc, 1, 0)
FAST_ROW(rr_recv_desc, 1, 1)
FAST_ROW(rr_both_desc, 0, 2)
FAST_ROW(rr_desc_handle, 1, 0)
FAST_ROW(rr_desc_many_handles, 1, 0)
FAST_ROW(rr_desc_fault, 1, 0)
FAST_ROW(rr_recv_cap_huge, 1, 0)
FAST_ROW(rr_recv_unmapped, 1, 0)
FAST_ROW(rr_handle_to_caller, 1, 1)
FAST_ROW(rr_handles_moved, 1, 1)
FAST_ROW(rr_listener_moved, 1, 0)
FAST_ROW(rr_bad_handle_to_caller, 1, 0)
FAST_ROW(rr_no_transfer, 1, 0)
FAST_ROW(rr_moved_twice, 1, 0)
FAST_ROW(rr_pseudo_handle, 1, 0)
FAST_ROW(rr_view, 1, 1)
FAST_ROW(rr_view_and_copy, 1, 1)
FAST_ROW(rr_view_moved, 1, 0)
FAST_ROW(rr_view_of_listener, 1, 0)
FAST_ROW(rr_view_no_transfer, 1, 0)
FAST_ROW(rr_view_bad_rights, 1, 0)
FAST_ROW(rr_view_bad_handle, 1, 0)
FAST_ROW(call_desc_view, 0, 1)
FAST_ROW(rr_desc_odd, 1, 1)
FAST_ROW(rr_recv_readonly, 1, 0)
FAST_ROW(caller_outputs_readonly, 1, 1)
FAST_ROW(caller_outputs_stale, 1, 1)
FAST_ROW(caller_truncated, 0, 1)
FAST_ROW(call_buf_kept, 1, 2)
FAST_ROW(call_buf_cut_kept, 1, 2)
FAST_ROW(call_buf_straddle, 1, 2)
FAST_ROW(call_desc_handle, 0, 1)
FAST_ROW(call_desc_placement, 2, 3)
FAST_ROW(call_desc_bad, 1, 1)
FAST_ROW(call_desc_hostile, 1, 1)
FAST_ROW(queued_caller, 1, 1)
FAST_ROW(rr_bad_listener, 1, 0)
FAST_ROW(rr_listener_wrong_type, 1, 0)
FAST_ROW(rr_listener_no_read, 1, 0)
FAST_ROW(rr_bad_reply, 1, 0)
FAST_ROW(rr_reply_wrong_type, 1, 0)
FAST_ROW(rr_replied, 2, 0)
FAST_ROW(rr_own_port_armed, 2, 0)
FAST_ROW(rr_no_own_port, 1, 0)
FAST_ROW(caller_after_receive, 1, 0)
FAST_ROW(receiver_closed, 0, 1)
FAST_ROW(server_calls_out, 2, 1)
FAST_ROW(caller_error_after_receive, 1, 0)
FAST_ROW(rport_handle_closed, 1, 1)
FAST_ROW(cached_handle_closed, 2, 2)
FAST_ROW(cached_listener_closed, 2, 1)
FAST_ROW(switched_off, 0, 0)
FAST_ROW(cross_process, 2, 2)
FAST_ROW(cross_process_straddle, 2, 2)
FAST_ROW(cross_process_handles, 2, 2)
FAST_ROW(cross_process_handles_full, 1, 0)
FAST_ROW(cross_process_view_no_memory, 2, 0)

/* The switch itself: only 0 and 1, and the counters report it. */
static void fast_control(void)
{
    suite_begin();
    struct ks_ipc_stats st;
    KT_EXPECT_EQ(ks_ipc_control(2, &st), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_ipc_control(0, &st), 0);
    KT_EXPECT_EQ(st.fastpath_on, 0);
    KT_EXPECT_EQ(ks_ipc_control(1, &st), 0);
    KT_EXPECT_EQ(st.fastpath_on, 1);
    KT_EXPECT_EQ(ks_ipc_control(1, (struct ks_ipc_stats *)0x10), KS_ERR_FAULT);
}

/* A control call whose output pointer faults changes nothing: the fast path stays on. */
static void fast_control_fault(void)
{
    struct ks_ipc_stats s0, s1;
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 0x58);
    KT_ASSERT(l >= 256 && c >= 256);
    KT_EXPECT_EQ(ks_ipc_control(1, &s0), 0);
    KT_EXPECT_EQ(ks_ipc_control(0, (struct ks_ipc_stats *)0x10), KS_ERR_FAULT);
    struct job j = { .port = (ks_handle_t)c };
    fill_words(j.w, 98);
    struct uthread t;
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j) >= 0);
    struct ipcres r;
    watchdog_arm(3000);
    long rp = recv_full((ks_handle_t)l, 0, &r);        /* we wait first: its call can go fast */
    KT_EXPECT(rp >= 256);
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, r.w, &r), 0);
    watchdog_disarm();
    KT_EXPECT(job_wait(&j, &t, 2000));
    KT_EXPECT_EQ(ks_ipc_control(1, &s1), 0);
    KT_EXPECT_EQ(s1.fast_calls - s0.fast_calls, 1);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
}

static const struct ktest_case fast_cases[] = {
    { "control", fast_control },
    { "control_fault", fast_control_fault },
    { "baseline", fast_baseline },
    { "call_desc", fast_call_desc },
    { "no_receiver", fast_no_receiver },
    { "receiver_desc", fast_receiver_desc },
    { "listener_closed", fast_listener_closed },
    { "bad_handle", fast_bad_handle },
    { "stale_handle", fast_stale_handle },
    { "pseudo_handle", fast_pseudo_handle },
    { "huge_handle", fast_huge_handle },
    { "wrong_type", fast_wrong_type },
    { "no_write_right", fast_no_write_right },
    { "receiver_interrupted", fast_receiver_interrupted },
    { "caller_intr_pending", fast_caller_intr_pending },
    { "caller_interrupted", fast_caller_interrupted },
    { "caller_upcall_due", fast_caller_upcall_due },
    { "reply_desc", fast_reply_desc },
    { "rr_recv_desc", fast_rr_recv_desc },
    { "rr_both_desc", fast_rr_both_desc },
    { "rr_desc_handle", fast_rr_desc_handle },
    { "rr_desc_many_handles", fast_rr_desc_many_handles },
    { "rr_desc_fault", fast_rr_desc_fault },
    { "rr_recv_cap_huge", fast_rr_recv_cap_huge },
    { "rr_recv_unmapped", fast_rr_recv_unmapped },
    { "rr_handle_to_caller", fast_rr_handle_to_caller },
    { "rr_handles_moved", fast_rr_handles_moved },
    { "rr_listener_moved", fast_rr_listener_moved },
    { "rr_bad_handle_to_caller", fast_rr_bad_handle_to_caller },
    { "rr_no_transfer", fast_rr_no_transfer },
    { "rr_moved_twice", fast_rr_moved_twice },
    { "rr_pseudo_handle", fast_rr_pseudo_handle },
    { "rr_view", fast_rr_view },
    { "rr_view_and_copy", fast_rr_view_and_copy },
    { "rr_view_moved", fast_rr_view_moved },
    { "rr_view_of_listener", fast_rr_view_of_listener },
    { "rr_view_no_transfer", fast_rr_view_no_transfer },
    { "rr_view_bad_rights", fast_rr_view_bad_rights },
    { "rr_view_bad_handle", fast_rr_view_bad_handle },
    { "call_desc_view", fast_call_desc_view },
    { "call_desc_placement", fast_call_desc_placement },
    { "rr_desc_odd", fast_rr_desc_odd },
    { "rr_recv_readonly", fast_rr_recv_readonly },
    { "caller_outputs_readonly", fast_caller_outputs_readonly },
    { "caller_outputs_stale", fast_caller_outputs_stale },
    { "caller_truncated", fast_caller_truncated },
    { "call_buf_kept", fast_call_buf_kept },
    { "call_buf_cut_kept", fast_call_buf_cut_kept },
    { "call_buf_straddle", fast_call_buf_straddle },
    { "call_desc_handle", fast_call_desc_handle },
    { "call_desc_bad", fast_call_desc_bad },
    { "call_desc_hostile", fast_call_desc_hostile },
    { "queued_caller", fast_queued_caller },
    { "rr_bad_listener", fast_rr_bad_listener },
    { "rr_listener_wrong_type", fast_rr_listener_wrong_type },
    { "rr_listener_no_read", fast_rr_listener_no_read },
    { "rr_bad_reply", fast_rr_bad_reply },
    { "rr_reply_wrong_type", fast_rr_reply_wrong_type },
    { "rr_replied", fast_rr_replied },
    { "rr_own_port_armed", fast_rr_own_port_armed },
    { "rr_no_own_port", fast_rr_no_own_port },
    { "caller_after_receive", fast_caller_after_receive },
    { "receiver_closed", fast_receiver_closed },
    { "server_calls_out", fast_server_calls_out },
    { "caller_error_after_receive", fast_caller_error_after_receive },
    { "rport_handle_closed", fast_rport_handle_closed },
    { "cached_handle_closed", fast_cached_handle_closed },
    { "cached_listener_closed", fast_cached_listener_closed },
    { "switched_off", fast_switched_off },
    { "cross_process", fast_cross_process },
    { "cross_process_straddle", fast_cross_process_straddle },
    { "cross_process_handles", fast_cross_process_handles },
    { "cross_process_handles_full", fast_cross_process_handles_full },
    { "cross_process_view_no_memory", fast_cross_process_view_no_memory },
    { "no_leaks", suite_no_leaks },
};
KTEST_SUITE(fast_suite, "ipc_fast", fast_cases);

/* ======================= ipc_fail ======================= */

/*
 * A server process holds two received calls unanswered and a third caller
 * waits in the queue; then it dies (killed, or exits). Every waiting caller
 * and every later one gets PEER_CLOSED, and nobody waits forever.
 */
static void server_dies(const char *how)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 0x51);
    long mo;
    struct shared *sh = shared_create(&mo);
    KT_ASSERT(l >= 256 && c >= 256 && sh);
    ks_handle_t give[2] = { (ks_handle_t)l, (ks_handle_t)mo };
    long p = spawn_helper("hold", how, give, 2);
    ks_handle_close((ks_handle_t)l);            /* the server's handle is the only one */
    KT_ASSERT(p >= 0);
    struct job j[3];
    struct uthread t[3];
    memset(j, 0, sizeof j);
    for (int i = 0; i < 3; i++) {
        j[i].port = (ks_handle_t)c;
        fill_words(j[i].w, 60 + (uint64_t)i);
    }
    KT_ASSERT(thread_start_into(&t[0], caller_thread, (long)&j[0]) >= 0);
    KT_ASSERT(thread_start_into(&t[1], caller_thread, (long)&j[1]) >= 0);
    KT_EXPECT(shared_wait(sh, 0, 2, 5000));     /* both received */
    KT_ASSERT(thread_start_into(&t[2], caller_thread, (long)&j[2]) >= 0);
    settle();                                   /* the third is queued */
    KT_EXPECT(!j[0].done && !j[1].done && !j[2].done);
    long status;
    if (strcmp(how, "kill") == 0) {
        status = child_kill(p);
        KT_EXPECT_EQ(status, KS_STATUS_KILLED | KS_KILL_BY_REQUEST);
    } else {
        sh->v[1] = 1;                           /* exit now */
        status = child_reap(p, 5000);
        KT_EXPECT_EQ(status, 0);
    }
    for (int i = 0; i < 3; i++) {
        KT_EXPECT(job_wait(&j[i], &t[i], 2000));
        KT_EXPECT_EQ(j[i].res.a0, KS_ERR_PEER_CLOSED);
        KT_EXPECT(words_zero(&j[i].res));
    }
    uint64_t w[KS_IPC_WORDS] = { 1 };
    struct ipcres r;
    KT_EXPECT_EQ(call_full((ks_handle_t)c, 0, w, &r), KS_ERR_PEER_CLOSED);
    struct ks_ipc_desc d = { 0 };
    KT_EXPECT_EQ(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_PEER_CLOSED);
    ks_handle_close((ks_handle_t)c);
    shared_destroy(sh, mo);
}

static void fail_server_killed(void)
{
    suite_begin();
    server_dies("kill");
}

static void fail_server_exits(void)
{
    server_dies("exit");
}

/*
 * The server closes its listener: queued callers and receivers get
 * PEER_CLOSED, and so does every later call; a call it had received already
 * can still be answered.
 */
static void fail_listener_closed(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 0x52);
    KT_ASSERT(l >= 256 && c >= 256);
    struct job j[3];
    struct uthread t[3];
    memset(j, 0, sizeof j);
    for (int i = 0; i < 3; i++) {
        j[i].port = (ks_handle_t)c;
        fill_words(j[i].w, 70 + (uint64_t)i);
    }
    KT_ASSERT(thread_start_into(&t[0], caller_thread, (long)&j[0]) >= 0);
    struct ipcres r;
    watchdog_arm(2000);
    long rp = recv_full((ks_handle_t)l, 0, &r);
    watchdog_disarm();
    KT_EXPECT(rp >= 256);
    KT_ASSERT(thread_start_into(&t[1], caller_thread, (long)&j[1]) >= 0);
    KT_ASSERT(thread_start_into(&t[2], caller_thread, (long)&j[2]) >= 0);
    settle();
    KT_EXPECT(!j[1].done && !j[2].done);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)l), 0);
    for (int i = 1; i < 3; i++) {
        KT_EXPECT(job_wait(&j[i], &t[i], 2000));
        KT_EXPECT_EQ(j[i].res.a0, KS_ERR_PEER_CLOSED);
    }
    uint64_t w[KS_IPC_WORDS] = { 2 };
    KT_EXPECT_EQ(call_full((ks_handle_t)c, 0, w, &r), KS_ERR_PEER_CLOSED);
    KT_EXPECT_EQ(recv_full((ks_handle_t)l, 0, &r), KS_ERR_BAD_HANDLE);
    KT_EXPECT(!j[0].done);
    uint64_t rw[KS_IPC_WORDS];
    fill_words(rw, 79);
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &r), 0);
    KT_EXPECT(job_wait(&j[0], &t[0], 2000));
    KT_EXPECT_EQ(j[0].res.a0, 0);
    KT_EXPECT(words_eq(j[0].res.w, rw));
    ks_handle_close((ks_handle_t)c);
}

/*
 * Receivers blocked on a listener whose last handle goes get PEER_CLOSED. Each
 * first serves one call (so it knows its reply port's handle, and closes it at
 * the end: a reply port made by a receive that fails is ipc_leaks' business).
 */
static volatile int receivers_go;

static void recv_thread(long arg)
{
    struct job *j = (struct job *)arg;
    struct ipcres r;
    long rp = recv_full(j->port, 0, &r);
    if (rp >= 256) {
        uint64_t rw[KS_IPC_WORDS] = { 0 };
        reply_full((ks_handle_t)rp, 0, rw, &r);
    }
    while (!receivers_go)
        ks_thread_sleep(MS);
    j->started = 1;
    recv_full(j->port, 0, &j->res);
    if (rp >= 256)
        ks_handle_close((ks_handle_t)rp);
    j->done = 1;
    ks_thread_exit(0);
}

static void fail_receivers_woken(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 1);
    KT_ASSERT(l >= 256 && c >= 256);
    struct job j[2];
    struct uthread t[2];
    memset(j, 0, sizeof j);
    receivers_go = 0;
    for (int i = 0; i < 2; i++) {
        j[i].port = (ks_handle_t)l;
        KT_ASSERT(thread_start_into(&t[i], recv_thread, (long)&j[i]) >= 0);
        settle();
        uint64_t w[KS_IPC_WORDS] = { 0 };
        struct ipcres r;
        watchdog_arm(1000);
        KT_EXPECT_EQ(call_full((ks_handle_t)c, 0, w, &r), 0);
        watchdog_disarm();
    }
    receivers_go = 1;
    settle();
    KT_EXPECT(j[0].started && j[1].started && !j[0].done && !j[1].done);
    ks_handle_close((ks_handle_t)l);
    for (int i = 0; i < 2; i++) {
        KT_EXPECT(job_wait(&j[i], &t[i], 2000));
        KT_EXPECT_EQ(j[i].res.a0, KS_ERR_PEER_CLOSED);
        KT_EXPECT_EQ(j[i].res.a1, 0);
        KT_EXPECT_EQ(j[i].res.a7, 0);
        KT_EXPECT(words_zero(&j[i].res));
    }
    ks_handle_close((ks_handle_t)c);
}

static void recv_once_thread(long arg)
{
    struct job *j = (struct job *)arg;
    j->started = 1;
    recv_full(j->port, 0, &j->res);
    j->done = 1;
    ks_thread_exit(0);
}

/*
 * A receiver, then a queued caller, interrupted and not yet run when the
 * listener's last handle goes and the listener with it (no client port is
 * left; a waiting thread holds no reference). The close takes the thread off
 * the listener's list, so its clean-up, which runs after the listener is
 * freed, writes nothing there: the debug kernel's heap poison, checked by the
 * allocations that follow, would show it. Both get INTERRUPTED.
 */
static void fail_interrupted_listener_gone(void)
{
    for (int queued = 0; queued < 2; queued++) {
        long l = ks_ipc_listener_create();
        long c = ks_ipc_client_create((ks_handle_t)l, 0x58);
        KT_ASSERT(l >= 256 && c >= 256);
        struct job j = { .port = (ks_handle_t)(queued ? c : l) };
        struct uthread t;
        KT_ASSERT(thread_start_into(&t, queued ? caller_thread : recv_once_thread, (long)&j) >= 0);
        settle();                                   /* it waits: receiving, or queued */
        KT_EXPECT(j.started && !j.done);
        KT_EXPECT_EQ(ks_thread_interrupt((ks_handle_t)t.h), 0);    /* runnable, has not run */
        KT_EXPECT_EQ(ks_handle_close((ks_handle_t)c), 0);
        KT_EXPECT_EQ(ks_handle_close((ks_handle_t)l), 0);          /* the listener goes */
        KT_EXPECT(job_wait(&j, &t, 2000));
        KT_EXPECT_EQ(j.res.a0, KS_ERR_INTERRUPTED);
        long more[8];
        for (int i = 0; i < 8; i++)                 /* the freed listener's slab, checked */
            more[i] = ks_ipc_listener_create();
        for (int i = 0; i < 8; i++)
            KT_EXPECT_EQ(ks_handle_close((ks_handle_t)more[i]), 0);
    }
}

/* The server closes a reply port without answering: the caller gets PEER_CLOSED; serving goes on. */
static void fail_reply_closed(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 0x53);
    KT_ASSERT(l >= 256 && c >= 256);
    struct job j = { .port = (ks_handle_t)c };
    struct uthread t;
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j) >= 0);
    struct ipcres r;
    watchdog_arm(2000);
    long rp = recv_full((ks_handle_t)l, 0, &r);
    watchdog_disarm();
    KT_EXPECT(rp >= 256);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)rp), 0);
    KT_EXPECT(job_wait(&j, &t, 2000));
    KT_EXPECT_EQ(j.res.a0, KS_ERR_PEER_CLOSED);
    KT_EXPECT(words_zero(&j.res));
    /* the next call gets a new reply port, and an answer */
    struct job j2 = { .port = (ks_handle_t)c, .ncalls = 3, .seed = 80, .echo_ud = 0x53 };
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j2) >= 0);
    KT_EXPECT_EQ(serve_echo((ks_handle_t)l, 3, 2000), 3);
    KT_EXPECT(job_wait(&j2, &t, 2000));
    KT_EXPECT_EQ(j2.ok_calls, 3);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
}

/*
 * A caller interrupted after its call was received: the call returns
 * INTERRUPTED, the late reply PEER_CLOSED (plain reply, and reply-and-receive,
 * which goes on to receive), and the server carries on.
 */
static void fail_caller_interrupted(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 0x54);
    KT_ASSERT(l >= 256 && c >= 256);
    for (int variant = 0; variant < 2; variant++) {
        struct job j = { .port = (ks_handle_t)c };
        fill_words(j.w, 90);
        struct uthread t;
        KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j) >= 0);
        struct ipcres r;
        watchdog_arm(3000);
        long rp = recv_full((ks_handle_t)l, 0, &r);
        KT_EXPECT(rp >= 256);
        KT_EXPECT(words_eq(r.w, j.w));
        KT_EXPECT_EQ(ks_thread_interrupt((ks_handle_t)t.h), 0);
        KT_EXPECT(wait_flag(&j.done, 2000));
        KT_EXPECT_EQ(j.res.a0, KS_ERR_INTERRUPTED);
        KT_EXPECT(words_zero(&j.res));
        uint64_t rw[KS_IPC_WORDS];
        fill_words(rw, 91);
        struct job j2 = { .port = (ks_handle_t)c };
        fill_words(j2.w, 92);
        struct uthread t2;
        if (variant == 0) {
            KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &r), KS_ERR_PEER_CLOSED);
            KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &r), KS_ERR_BAD_STATE);
            KT_ASSERT(thread_start_into(&t2, caller_thread, (long)&j2) >= 0);
            long rp2 = recv_full((ks_handle_t)l, 0, &r);
            KT_EXPECT_EQ(rp2, rp);              /* the same port, reusable again */
            rp = rp2;
        } else {
            KT_ASSERT(thread_start_into(&t2, caller_thread, (long)&j2) >= 0);
            long rp2 = reply_recv_full((ks_handle_t)rp, (ks_handle_t)l, 0, rw, &r);
            KT_EXPECT_EQ(rp2, rp);
            rp = rp2;
        }
        KT_EXPECT(words_eq(r.w, j2.w));
        KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &r), 0);
        watchdog_disarm();
        thread_finish(&t);
        KT_EXPECT(job_wait(&j2, &t2, 2000));
        KT_EXPECT_EQ(j2.res.a0, 0);
        KT_EXPECT(words_eq(j2.res.w, rw));
    }
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
}

/*
 * A reply to a caller that was interrupted a moment ago and has not run yet:
 * the reply fails (PEER_CLOSED), and the reply port is free again at once, so
 * the receive that follows hands out the same handle (no new port, nothing
 * left open in the server's table).
 */
static void fail_caller_interrupted_unrun(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 0x57);
    KT_ASSERT(l >= 256 && c >= 256);
    struct job j = { .port = (ks_handle_t)c }, j2 = { .port = (ks_handle_t)c };
    fill_words(j.w, 95);
    fill_words(j2.w, 96);
    struct uthread t, t2;
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j) >= 0);
    struct ipcres r;
    watchdog_arm(3000);
    long rp = recv_full((ks_handle_t)l, 0, &r);
    KT_EXPECT(rp >= 256);
    KT_EXPECT_EQ(ks_thread_interrupt((ks_handle_t)t.h), 0);     /* runnable, has not run */
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, r.w, &r), KS_ERR_PEER_CLOSED);
    KT_ASSERT(thread_start_into(&t2, caller_thread, (long)&j2) >= 0);
    long rp2 = recv_full((ks_handle_t)l, 0, &r);
    KT_EXPECT_EQ(rp2, rp);
    KT_EXPECT(words_eq(r.w, j2.w));
    uint64_t rw[KS_IPC_WORDS];
    fill_words(rw, 97);
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp2, 0, rw, &r), 0);
    watchdog_disarm();
    KT_EXPECT(job_wait(&j, &t, 2000));
    KT_EXPECT_EQ(j.res.a0, KS_ERR_INTERRUPTED);
    KT_EXPECT(job_wait(&j2, &t2, 2000));
    KT_EXPECT_EQ(j2.res.a0, 0);
    KT_EXPECT(words_eq(j2.res.w, rw));
    if (rp2 != rp)
        ks_handle_close((ks_handle_t)rp2);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
}

/* A caller interrupted while still queued: its call is gone; the next receive gets the next caller. */
static void fail_caller_interrupted_queued(void)
{
    long l = ks_ipc_listener_create();
    long c1 = ks_ipc_client_create((ks_handle_t)l, 0x55);
    long c2 = ks_ipc_client_create((ks_handle_t)l, 0x56);
    KT_ASSERT(l >= 256 && c1 >= 256 && c2 >= 256);
    struct job j = { .port = (ks_handle_t)c1 }, j2 = { .port = (ks_handle_t)c2 };
    fill_words(j.w, 93);
    fill_words(j2.w, 94);
    struct uthread t, t2;
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j) >= 0);
    settle();
    KT_EXPECT(j.started && !j.done);
    KT_EXPECT_EQ(ks_thread_interrupt((ks_handle_t)t.h), 0);
    KT_EXPECT(job_wait(&j, &t, 2000));
    KT_EXPECT_EQ(j.res.a0, KS_ERR_INTERRUPTED);
    KT_ASSERT(thread_start_into(&t2, caller_thread, (long)&j2) >= 0);
    settle();
    struct ipcres r;
    watchdog_arm(2000);
    long rp = recv_full((ks_handle_t)l, 0, &r);
    watchdog_disarm();
    KT_EXPECT(rp >= 256);
    KT_EXPECT_EQ(r.a1, 0x56);
    KT_EXPECT(words_eq(r.w, j2.w));
    uint64_t rw[KS_IPC_WORDS] = { 5 };
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &r), 0);
    KT_EXPECT(job_wait(&j2, &t2, 2000));
    KT_EXPECT_EQ(j2.res.a0, 0);
    ks_handle_close((ks_handle_t)c1);
    ks_handle_close((ks_handle_t)c2);
    ks_handle_close((ks_handle_t)l);
}

/*
 * A caller process killed while the server holds its reply port: the reply
 * fails (PEER_CLOSED) and the server carries on. Killed while still queued:
 * its call is never received.
 */
static void fail_caller_killed(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 0x57);
    long c2 = ks_ipc_client_create((ks_handle_t)l, 0x58);
    long mo;
    struct shared *sh = shared_create(&mo);
    KT_ASSERT(l >= 256 && c >= 256 && c2 >= 256 && sh);
    ks_handle_t give[2] = { (ks_handle_t)c, (ks_handle_t)mo };
    /* received, then killed */
    long p = spawn_helper("call-block", 0, give, 2);
    KT_ASSERT(p >= 0);
    struct ipcres r;
    watchdog_arm(5000);
    long rp = recv_full((ks_handle_t)l, 0, &r);
    watchdog_disarm();
    KT_EXPECT(rp >= 256);
    KT_EXPECT_EQ(r.a1, 0x57);
    KT_EXPECT_EQ(child_kill(p), KS_STATUS_KILLED | KS_KILL_BY_REQUEST);
    uint64_t rw[KS_IPC_WORDS] = { 6 };
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &r), KS_ERR_PEER_CLOSED);
    struct job j = { .port = (ks_handle_t)c2, .ncalls = 2, .seed = 95, .echo_ud = 0x58 };
    struct uthread t;
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j) >= 0);
    KT_EXPECT_EQ(serve_echo((ks_handle_t)l, 2, 2000), 2);
    KT_EXPECT(job_wait(&j, &t, 2000));
    KT_EXPECT_EQ(j.ok_calls, 2);

    /* queued, then killed */
    sh->v[0] = 0;
    p = spawn_helper("call-block", 0, give, 2);
    KT_ASSERT(p >= 0);
    KT_EXPECT(shared_wait(sh, 0, 1, 5000));
    settle();                                   /* it is in its call now */
    KT_EXPECT_EQ(child_kill(p), KS_STATUS_KILLED | KS_KILL_BY_REQUEST);
    struct job j2 = { .port = (ks_handle_t)c2, .ncalls = 2, .seed = 97, .echo_ud = 0x58 };
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j2) >= 0);
    watchdog_arm(2000);
    rp = recv_full((ks_handle_t)l, 0, &r);
    watchdog_disarm();
    KT_EXPECT_EQ(r.a1, 0x58);                   /* not the dead caller's */
    echo_f(r.w, r.a1, rw);
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &r), 0);
    KT_EXPECT_EQ(serve_echo((ks_handle_t)l, 1, 2000), 1);
    KT_EXPECT(job_wait(&j2, &t, 2000));
    KT_EXPECT_EQ(j2.ok_calls, 2);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)c2);
    ks_handle_close((ks_handle_t)l);
    shared_destroy(sh, mo);
}

/*
 * The handle of a server thread's idle reply port is closed (by another
 * thread of its process) while it waits in a receive. The next call must
 * still be answerable: the receive returns a reply handle that works, and the
 * caller gets its answer (it must not wait forever).
 */
static void fail_idle_reply_handle_closed(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 0x59);
    KT_ASSERT(l >= 256 && c >= 256);
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_RR }, { .op = OP_REPLY }, { .op = OP_END } };
    static struct srv sv;
    memset(&sv, 0, sizeof sv);
    sv.script = s;
    sv.l = (ks_handle_t)l;
    KT_ASSERT(thread_start_into(&sv.t, srv_thread, (long)&sv) >= 0);
    settle();
    uint64_t w[KS_IPC_WORDS], want[KS_IPC_WORDS];
    struct ipcres r;
    fill_words(w, 1);
    echo_f(w, 0x59, want);
    watchdog_arm(1000);
    KT_EXPECT_EQ(call_full((ks_handle_t)c, 0, w, &r), 0);
    watchdog_disarm();
    KT_EXPECT(words_eq(r.w, want));
    settle();                                   /* the server waits in its reply-and-receive */
    long idle = sv.cur;
    KT_EXPECT_EQ(htype(idle), KS_OBJ_REPLY);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)idle), 0);
    fill_words(w, 2);
    echo_f(w, 0x59, want);
    watchdog_arm(1000);
    long a0 = call_full((ks_handle_t)c, 0, w, &r);
    int in_time = watchdog_disarm();
    KT_EXPECT(in_time);
    KT_EXPECT_EQ(a0, 0);
    KT_EXPECT(words_eq(r.w, want));
    KT_EXPECT(wait_flag(&sv.done, 1000));
    /* the server's records: RECV, RR (a0 = the handle it got for the second call), REPLY (a0) */
    KT_EXPECT_EQ(sv.out.v[1 + 15 + 1 + 15 + 1], 0);     /* the reply through that handle worked */
    ks_handle_close((ks_handle_t)l);
    if (!sv.done)
        ks_thread_interrupt((ks_handle_t)sv.t.h);
    thread_finish(&sv.t);
    ks_handle_close((ks_handle_t)c);
}

/*
 * A server process is killed while its thread waits in a receive that the
 * fast path set up (its reply-and-receive went fast). Its thread must leave
 * the listener as the C path's would: reference dropped, off the receivers
 * list. Here the listener is closed afterwards, so a stale entry is never
 * walked; what shows is whether everything is freed.
 */
static void kill_fast_receiver(ks_handle_t l, ks_handle_t c, uint64_t ud)
{
    ks_handle_t give[1] = { l };
    long p = spawn_helper("echo", 0, give, 1);
    KT_ASSERT(p >= 0);
    uint64_t w[KS_IPC_WORDS], want[KS_IPC_WORDS];
    struct ipcres r;
    struct ks_ipc_stats s0, s1;
    watchdog_arm(5000);
    for (int i = 0; i < 3; i++) {
        fill_words(w, (uint64_t)i);
        echo_f(w, ud, want);
        if (i == 2)
            ks_ipc_control(1, &s0);
        KT_EXPECT_EQ(call_full(c, 0, w, &r), 0);
        KT_EXPECT(words_eq(r.w, want));
        settle();
    }
    watchdog_disarm();
    ks_ipc_control(1, &s1);
    /* the last answer was a fast reply-and-receive: the server waits in a fast-path receive */
    KT_EXPECT_EQ(s1.fast_replies - s0.fast_replies, 1);
    KT_EXPECT_EQ(child_kill(p), KS_STATUS_KILLED | KS_KILL_BY_REQUEST);
}

static void fail_killed_fast_receiver(void)
{
    struct ks_kstat before, after;
    snap(&before);
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 0x5a);
    KT_ASSERT(l >= 256 && c >= 256);
    kill_fast_receiver((ks_handle_t)l, (ks_handle_t)c, 0x5a);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
    snap(&after);
    KT_EXPECT_EQ(after.objects, before.objects);
    KT_EXPECT_EQ(after.heap_objects, before.heap_objects);
}

static const struct ktest_case fail_cases[] = {
    { "server_killed", fail_server_killed },
    { "server_exits", fail_server_exits },
    { "listener_closed", fail_listener_closed },
    { "receivers_woken", fail_receivers_woken },
    { "interrupted_listener_gone", fail_interrupted_listener_gone },
    { "reply_closed", fail_reply_closed },
    { "caller_interrupted", fail_caller_interrupted },
    { "caller_interrupted_queued", fail_caller_interrupted_queued },
    { "caller_interrupted_unrun", fail_caller_interrupted_unrun },
    { "caller_killed", fail_caller_killed },
    { "idle_reply_handle_closed", fail_idle_reply_handle_closed },
    { "killed_fast_receiver", fail_killed_fast_receiver },
    { "no_leaks", suite_no_leaks },
};
KTEST_SUITE(fail_suite, "ipc_fail", fail_cases);

/* ======================= ipc_bad ======================= */

#define KERNEL_ADDR     0xffffffc000000000ull

/* A failed IPC call returns only its error: no words, a1, info or scratch. */
static int clean_failure(const struct ipcres *r)
{
    return words_zero(r) && r->a1 == 0 && r->a7 == 0 && regs_zero(r);
}

#define EXPECT_FAIL(expr, err, r) \
    do { \
        KT_EXPECT_EQ((expr), (err)); \
        KT_EXPECT(clean_failure(&(r))); \
    } while (0)

/* Bad, closed, wrong-type and right-less handles for call, receive, reply, reply-and-receive. */
static void bad_handles(void)
{
    suite_begin();
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 1);
    long m = ks_memobj_create(KS_PAGE_SIZE);
    long closed = ks_ipc_client_create((ks_handle_t)l, 2);
    KT_ASSERT(l >= 256 && c >= 256 && m >= 256 && closed >= 256);
    ks_handle_close((ks_handle_t)closed);
    long c_nowrite = ks_handle_duplicate((ks_handle_t)c, KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE);
    long l_noread = ks_handle_duplicate((ks_handle_t)l, KS_RIGHT_MANAGE);
    long l_nomanage = ks_handle_duplicate((ks_handle_t)l, KS_RIGHT_READ);
    KT_ASSERT(c_nowrite >= 256 && l_noread >= 256 && l_nomanage >= 256);
    uint64_t w[KS_IPC_WORDS] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    struct ipcres r;
    /* a reply port, idle (never armed): our own, from a receive that was interrupted */
    ks_thread_interrupt(KS_THREAD_SELF);
    long idle = recv_full((ks_handle_t)l, 0, &r);
    KT_EXPECT_EQ(idle, KS_ERR_INTERRUPTED);

    /* call */
    EXPECT_FAIL(call_full((ks_handle_t)closed, 0, w, &r), KS_ERR_BAD_HANDLE, r);
    EXPECT_FAIL(call_full(0, 0, w, &r), KS_ERR_BAD_HANDLE, r);
    EXPECT_FAIL(call_full(300, 0, w, &r), KS_ERR_BAD_HANDLE, r);
    EXPECT_FAIL(call_full(-5, 0, w, &r), KS_ERR_BAD_HANDLE, r);
    EXPECT_FAIL(ipc_full(KS_SYS_IPC_CALL, (long)c + (1l << 32), 0, 0, w, &r), KS_ERR_BAD_HANDLE, r);
    EXPECT_FAIL(call_full((ks_handle_t)l, 0, w, &r), KS_ERR_WRONG_TYPE, r);
    EXPECT_FAIL(call_full((ks_handle_t)m, 0, w, &r), KS_ERR_WRONG_TYPE, r);
    EXPECT_FAIL(call_full(KS_PROCESS_SELF, 0, w, &r), KS_ERR_WRONG_TYPE, r);
    EXPECT_FAIL(call_full((ks_handle_t)c_nowrite, 0, w, &r), KS_ERR_ACCESS, r);
    /* receive */
    EXPECT_FAIL(recv_full((ks_handle_t)closed, 0, &r), KS_ERR_BAD_HANDLE, r);
    EXPECT_FAIL(recv_full(0, 0, &r), KS_ERR_BAD_HANDLE, r);
    EXPECT_FAIL(recv_full((ks_handle_t)c, 0, &r), KS_ERR_WRONG_TYPE, r);
    EXPECT_FAIL(recv_full((ks_handle_t)m, 0, &r), KS_ERR_WRONG_TYPE, r);
    EXPECT_FAIL(recv_full(KS_THREAD_SELF, 0, &r), KS_ERR_WRONG_TYPE, r);
    EXPECT_FAIL(recv_full((ks_handle_t)l_noread, 0, &r), KS_ERR_ACCESS, r);
    /* reply */
    EXPECT_FAIL(reply_full((ks_handle_t)closed, 0, w, &r), KS_ERR_BAD_HANDLE, r);
    EXPECT_FAIL(reply_full(0, 0, w, &r), KS_ERR_BAD_HANDLE, r);
    EXPECT_FAIL(reply_full((ks_handle_t)c, 0, w, &r), KS_ERR_WRONG_TYPE, r);
    EXPECT_FAIL(reply_full((ks_handle_t)l, 0, w, &r), KS_ERR_WRONG_TYPE, r);
    /* reply-and-receive: a bad reply handle fails before any receive */
    EXPECT_FAIL(reply_recv_full((ks_handle_t)closed, (ks_handle_t)l, 0, w, &r), KS_ERR_BAD_HANDLE, r);
    EXPECT_FAIL(reply_recv_full((ks_handle_t)c, (ks_handle_t)l, 0, w, &r), KS_ERR_WRONG_TYPE, r);
    /* client ports come from listeners with MANAGE */
    KT_EXPECT_EQ(ks_ipc_client_create((ks_handle_t)c, 1), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_ipc_client_create((ks_handle_t)l_nomanage, 1), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_ipc_client_create((ks_handle_t)closed, 1), KS_ERR_BAD_HANDLE);
    /* IPC numbers past the last */
    EXPECT_FAIL(ipc_full(KS_SYS_IPC_LAST + 1, (ks_handle_t)c, 0, 0, w, &r), KS_ERR_NOSYS, r);
    EXPECT_FAIL(ipc_full(0x1ff, (ks_handle_t)c, 0, 0, w, &r), KS_ERR_NOSYS, r);
    ks_handle_close((ks_handle_t)c_nowrite);
    ks_handle_close((ks_handle_t)l_noread);
    ks_handle_close((ks_handle_t)l_nomanage);
    ks_handle_close((ks_handle_t)m);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
}

/* Replying twice, or through a port that was never armed: BAD_STATE. */
static void bad_reply_twice(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 1);
    KT_ASSERT(l >= 256 && c >= 256);
    struct job j = { .port = (ks_handle_t)c };
    struct uthread t;
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j) >= 0);
    struct ipcres r;
    watchdog_arm(2000);
    long rp = recv_full((ks_handle_t)l, 0, &r);
    watchdog_disarm();
    KT_EXPECT(rp >= 256);
    uint64_t rw[KS_IPC_WORDS] = { 42 };
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, rw, &r), 0);
    EXPECT_FAIL(reply_full((ks_handle_t)rp, 0, rw, &r), KS_ERR_BAD_STATE, r);
    struct ks_ipc_desc d = { 0 };
    EXPECT_FAIL(reply_full((ks_handle_t)rp, &d, rw, &r), KS_ERR_BAD_STATE, r);
    KT_EXPECT(job_wait(&j, &t, 2000));
    KT_EXPECT_EQ(j.res.a0, 0);
    KT_EXPECT_EQ(j.res.w[0], 42);
    KT_EXPECT_EQ(htype(rp), KS_OBJ_REPLY);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
}

/* Descriptor pointers that do not name user memory: FAULT, on every call that takes one. */
static void bad_desc_pointer(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 1);
    KT_ASSERT(l >= 256 && c >= 256);
    static const uintptr_t bad[] = {
        1, 0x10, 0xfff, KERNEL_ADDR, UNMAPPED_ADDR, KS_USER_TOP - 50, ~0ull - 50,
    };
    uint64_t w[KS_IPC_WORDS] = { 1 };
    struct ipcres r;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ks_ipc_desc *d = (struct ks_ipc_desc *)bad[i];
        EXPECT_FAIL(call_full((ks_handle_t)c, d, w, &r), KS_ERR_FAULT, r);
        EXPECT_FAIL(recv_full((ks_handle_t)l, d, &r), KS_ERR_FAULT, r);
    }
    /* a reply with a bad descriptor fails, and leaves the port armed for a good one */
    struct job j = { .port = (ks_handle_t)c };
    struct uthread t;
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j) >= 0);
    watchdog_arm(2000);
    long rp = recv_full((ks_handle_t)l, 0, &r);
    watchdog_disarm();
    KT_EXPECT(rp >= 256);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ks_ipc_desc *d = (struct ks_ipc_desc *)bad[i];
        EXPECT_FAIL(reply_full((ks_handle_t)rp, d, w, &r), KS_ERR_FAULT, r);
    }
    KT_EXPECT(!j.done);
    w[0] = 77;
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, w, &r), 0);
    KT_EXPECT(job_wait(&j, &t, 2000));
    KT_EXPECT_EQ(j.res.a0, 0);
    KT_EXPECT_EQ(j.res.w[0], 77);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
}

/* Oversized lengths, too many handles, pseudo-handles: INVALID (nothing sent, nothing queued). */
static void bad_sizes(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 1);
    long m = ks_memobj_create(KS_PAGE_SIZE);
    KT_ASSERT(l >= 256 && c >= 256 && m >= 256);
    uint64_t w[KS_IPC_WORDS] = { 1 };
    struct ipcres r;
    struct ks_ipc_desc d;
    memset(&d, 0, sizeof d);
    d.send_buf = big_req;
    d.send_len = KS_IPC_MAX_BUF + 1;
    EXPECT_FAIL(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_INVALID, r);
    memset(&d, 0, sizeof d);
    d.recv_buf = big_a;
    d.recv_cap = KS_IPC_MAX_BUF + 1;
    EXPECT_FAIL(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_INVALID, r);
    EXPECT_FAIL(recv_full((ks_handle_t)l, &d, &r), KS_ERR_INVALID, r);
    memset(&d, 0, sizeof d);
    d.send_len = ~0ull;
    EXPECT_FAIL(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_INVALID, r);
    memset(&d, 0, sizeof d);
    d.send_nhandles = KS_IPC_MAX_HANDLES + 1;
    for (int i = 0; i < KS_IPC_MAX_HANDLES; i++)
        d.send_handles[i] = (ks_handle_t)m;
    EXPECT_FAIL(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_INVALID, r);
    d.send_nhandles = 0xffffffffu;
    EXPECT_FAIL(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_INVALID, r);
    /* pseudo-handles cannot be sent; a closed handle is BAD_HANDLE */
    memset(&d, 0, sizeof d);
    d.send_nhandles = 1;
    d.send_handles[0] = KS_PROCESS_SELF;
    EXPECT_FAIL(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_INVALID, r);
    d.send_handles[0] = KS_THREAD_SELF;
    EXPECT_FAIL(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_INVALID, r);
    d.send_handles[0] = (ks_handle_t)m;
    d.send_handles[1] = KS_PROCESS_SELF;
    d.send_handle_flags[0] = KS_IPC_HANDLE_MOVE;
    d.send_nhandles = 2;
    EXPECT_FAIL(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_INVALID, r);
    KT_EXPECT_EQ(htype(m), KS_OBJ_MEMOBJ);      /* the valid one before it was not moved */
    long dead = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_TRANSFER);
    ks_handle_close((ks_handle_t)dead);
    d.send_handles[1] = (ks_handle_t)dead;
    EXPECT_FAIL(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_BAD_HANDLE, r);
    KT_EXPECT_EQ(htype(m), KS_OBJ_MEMOBJ);
    /* the same limits in a reply; the port stays armed */
    struct job j = { .port = (ks_handle_t)c };
    struct uthread t;
    KT_ASSERT(thread_start_into(&t, caller_thread, (long)&j) >= 0);
    watchdog_arm(2000);
    long rp = recv_full((ks_handle_t)l, 0, &r);
    watchdog_disarm();
    KT_EXPECT(rp >= 256);
    memset(&d, 0, sizeof d);
    d.send_buf = big_req;
    d.send_len = KS_IPC_MAX_BUF + 1;
    EXPECT_FAIL(reply_full((ks_handle_t)rp, &d, w, &r), KS_ERR_INVALID, r);
    memset(&d, 0, sizeof d);
    d.send_nhandles = KS_IPC_MAX_HANDLES + 1;
    EXPECT_FAIL(reply_full((ks_handle_t)rp, &d, w, &r), KS_ERR_INVALID, r);
    d.send_nhandles = 1;
    d.send_handles[0] = KS_PROCESS_SELF;
    EXPECT_FAIL(reply_full((ks_handle_t)rp, &d, w, &r), KS_ERR_INVALID, r);
    KT_EXPECT(!j.done);
    KT_EXPECT_EQ(reply_full((ks_handle_t)rp, 0, w, &r), 0);
    KT_EXPECT(job_wait(&j, &t, 2000));
    KT_EXPECT_EQ(j.res.a0, 0);
    ks_handle_close((ks_handle_t)m);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
}

/*
 * A server thread that receives into its descriptor's buffer, notes what came,
 * answers with 16 bytes; it ends when a receive fails, closing its reply port.
 */
struct sink {
    ks_handle_t l;
    struct ks_ipc_desc d;       /* its receive descriptor (the test may point it anywhere) */
    volatile int calls, done;
    struct ipcres last;
};

static void sink_thread(long arg)
{
    struct sink *k = (struct sink *)arg;
    long known = -1;
    for (;;) {
        struct ks_ipc_desc d = k->d;
        long rp = recv_full(k->l, &d, &k->last);
        if (rp < 0)
            break;
        known = rp;
        k->calls++;
        uint64_t w[KS_IPC_WORDS] = { 0 };
        struct ks_ipc_desc rd = { .send_buf = big_rep, .send_len = 16 };
        struct ipcres r;
        reply_full((ks_handle_t)rp, &rd, w, &r);
    }
    if (known >= 0)
        ks_handle_close((ks_handle_t)known);
    k->done = 1;
    ks_thread_exit(0);
}

static const uint8_t rodata_buf[256] = { 0x5a, 0x5a, 0x5a };

/*
 * Buffers that do not name user memory: below user space, in the kernel, past
 * its top (refused when the descriptor is read), unmapped (found before or
 * by the copy) or read-only: FAULT for the call that names them, nothing
 * written where it may not be, and nobody left waiting.
 */
static void bad_buffers(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 1);
    KT_ASSERT(l >= 256 && c >= 256);
    static struct sink k;
    memset(&k, 0, sizeof k);
    k.l = (ks_handle_t)l;
    k.d.recv_buf = big_a;
    k.d.recv_cap = KS_IPC_MAX_BUF;
    struct uthread t;
    KT_ASSERT(thread_start_into(&t, sink_thread, (long)&k) >= 0);
    settle();
    uint64_t w[KS_IPC_WORDS] = { 1 };
    struct ipcres r;
    struct ks_ipc_desc d;
    /* refused up front: nothing reaches the server */
    static const uintptr_t refused[] = { 0x10, KERNEL_ADDR, KS_USER_TOP - 8 };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        memset(&d, 0, sizeof d);
        d.send_buf = (const void *)refused[i];
        d.send_len = 64;
        EXPECT_FAIL(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_FAULT, r);
        memset(&d, 0, sizeof d);
        d.recv_buf = (void *)refused[i];
        d.recv_cap = 64;
        EXPECT_FAIL(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_FAULT, r);
    }
    KT_EXPECT_EQ(k.calls, 0);
    /* an unmapped send buffer */
    memset(&d, 0, sizeof d);
    d.send_buf = (const void *)UNMAPPED_ADDR;
    d.send_len = 64;
    watchdog_arm(1000);
    KT_EXPECT_EQ(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_FAULT);
    KT_EXPECT(watchdog_disarm());
    /*
     * A send buffer whose last bytes run into an unmapped page. The sink's
     * outputs would change, so this call takes the C path, which looks at
     * the whole buffer before copying (call_buf_straddle and
     * cross_process_straddle in ipc_fast cover the fast path's copy).
     */
    long mo = straddle_map();
    KT_ASSERT(mo >= 0);
    memset(&d, 0, sizeof d);
    d.send_buf = (const void *)(UNMAPPED_ADDR - 32);
    d.send_len = 64;
    watchdog_arm(1000);
    KT_EXPECT_EQ(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_FAULT);
    KT_EXPECT(watchdog_disarm());
    KT_EXPECT_EQ(k.calls, 0);
    straddle_unmap(mo);
    /* an unmapped receive buffer for the reply */
    memset(&d, 0, sizeof d);
    d.recv_buf = (void *)UNMAPPED_ADDR;
    d.recv_cap = 64;
    watchdog_arm(1000);
    KT_EXPECT_EQ(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_FAULT);
    KT_EXPECT(watchdog_disarm());
    /* a read-only receive buffer for the reply: FAULT, and it stays as it was */
    memset(&d, 0, sizeof d);
    d.recv_buf = (void *)rodata_buf;
    d.recv_cap = sizeof rodata_buf;
    watchdog_arm(1000);
    KT_EXPECT_EQ(call_full((ks_handle_t)c, &d, w, &r), KS_ERR_FAULT);
    KT_EXPECT(watchdog_disarm());
    KT_EXPECT_EQ(rodata_buf[0], 0x5a);
    KT_EXPECT(all_bytes(rodata_buf + 3, sizeof rodata_buf - 3, 0));
    /* a receive into an unmapped buffer fails FAULT at once (it takes no call) */
    uint64_t ok_w[KS_IPC_WORDS] = { 2 };
    k.d.recv_buf = (void *)UNMAPPED_ADDR;       /* for its next receive (it is waiting in one now) */
    k.d.recv_cap = 64;
    int calls = k.calls;
    watchdog_arm(1000);
    KT_EXPECT_EQ(call_full((ks_handle_t)c, 0, ok_w, &r), 0);   /* answered; then it receives again */
    KT_EXPECT(watchdog_disarm());
    KT_EXPECT(wait_flag(&k.done, 1000));
    KT_EXPECT_EQ(k.last.a0, KS_ERR_FAULT);
    KT_EXPECT(clean_failure(&k.last));
    KT_EXPECT_EQ(k.calls, calls + 1);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
    if (!k.done)
        ks_thread_interrupt((ks_handle_t)t.h);
    thread_finish(&t);
}

static const struct ktest_case bad_cases[] = {
    { "handles", bad_handles },
    { "reply_twice", bad_reply_twice },
    { "desc_pointer", bad_desc_pointer },
    { "sizes", bad_sizes },
    { "buffers", bad_buffers },
    { "no_leaks", suite_no_leaks },
};
KTEST_SUITE(bad_suite, "ipc_bad", bad_cases);

/* ======================= ipc_stress ======================= */

/*
 * STRESS_SERVERS threads of a child process receive on one listener;
 * STRESS_CLIENTS threads here each make STRESS_CALLS calls through their own
 * client port. A request carries (client, sequence) and words derived from
 * them; the reply is echo_f of the request with the port's userdata, so a
 * reply meant for another call cannot pass. Every 16th call also carries a
 * 32-byte buffer (the servers take none: it is cut, and both sides must say
 * so), so fast and slow paths interleave: its reply takes the C path, which
 * has the caller's PEER_TRUNCATED to write back. The servers check the requests too,
 * and count per thread in a shared page: [8 + s] calls, [16 + s] bad ones.
 * At the end each server thread answers one QUIT call and ends.
 */
#define STRESS_SERVERS  4
#define STRESS_CLIENTS  8
#define STRESS_CALLS    10000

static uint64_t mix(uint64_t a, uint64_t b)
{
    uint64_t x = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull);
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    return x ^ (x >> 32);
}

static void stress_request(uint64_t w[KS_IPC_WORDS], uint64_t client, uint64_t seq)
{
    w[0] = client;
    w[1] = seq;
    for (int i = 2; i < KS_IPC_WORDS; i++)
        w[i] = mix(client << 32 | seq, (uint64_t)i);
}

struct stress_client {
    ks_handle_t port;
    uint64_t id, ud;
    volatile int done;
    volatile uint64_t ok, bad, errors;
    volatile long first_error;
};

static void stress_client_thread(long arg)
{
    struct stress_client *sc = (struct stress_client *)arg;
    static const uint8_t payload[32] = "thirty-two bytes of payload....";
    for (uint64_t seq = 0; seq < STRESS_CALLS; seq++) {
        uint64_t w[KS_IPC_WORDS], want[KS_IPC_WORDS];
        struct ipcres r;
        stress_request(w, sc->id, seq);
        echo_f(w, sc->ud, want);
        int with_buf = (seq % 16) == 15;    /* and a handle (a copy of our port): the C path */
        struct ks_ipc_desc d = { .send_buf = payload, .send_len = sizeof payload, .send_nhandles = 1,
                                 .send_handles = { sc->port } };
        long a0 = call_full(sc->port, with_buf ? &d : 0, w, &r);
        if (a0 != 0) {
            if (!sc->errors)
                sc->first_error = a0;
            sc->errors++;
            continue;
        }
        int good = words_eq(r.w, want) && r.a1 == 0 && r.a7 == 0 && regs_zero(&r);
        if (with_buf)
            good = good && d.flags == KS_IPC_PEER_TRUNCATED && d.recv_len == 0;
        if (good)
            sc->ok++;
        else
            sc->bad++;
    }
    sc->done = 1;
    ks_thread_exit(0);
}

static void stress_calls(void)
{
    suite_begin();
    long l = ks_ipc_listener_create();
    long mo;
    struct shared *sh = shared_create(&mo);
    KT_ASSERT(l >= 256 && sh);
    static struct stress_client sc[STRESS_CLIENTS];
    struct uthread t[STRESS_CLIENTS];
    memset(sc, 0, sizeof sc);
    for (int i = 0; i < STRESS_CLIENTS; i++) {
        sc[i].id = (uint64_t)i;
        sc[i].ud = 0x5000 + (uint64_t)i;
        sc[i].port = (ks_handle_t)ks_ipc_client_create((ks_handle_t)l, sc[i].ud);
        KT_ASSERT(sc[i].port >= 256);
    }
    ks_handle_t give[2] = { (ks_handle_t)l, (ks_handle_t)mo };
    long p = spawn_helper("stress-server", 0, give, 2);
    KT_ASSERT(p >= 0);
    KT_EXPECT(shared_wait(sh, 0, STRESS_SERVERS, 5000));    /* all servers started */
    struct ks_ipc_stats s0, s1;
    ks_ipc_control(1, &s0);
    uint64_t t0 = (uint64_t)ks_clock_ns();
    for (int i = 0; i < STRESS_CLIENTS; i++)
        KT_ASSERT(thread_start_into(&t[i], stress_client_thread, (long)&sc[i]) >= 0);
    uint64_t ok = 0, bad = 0, errors = 0;
    for (int i = 0; i < STRESS_CLIENTS; i++) {
        if (!wait_flag(&sc[i].done, 60000)) {
            ktest_fail(__FILE__, __LINE__, "client %d still calling after 60 s (%lu done)", i,
                       (unsigned long)(sc[i].ok + sc[i].bad + sc[i].errors));
            ks_thread_interrupt((ks_handle_t)t[i].h);
        }
        thread_finish(&t[i]);
        ok += sc[i].ok;
        bad += sc[i].bad;
        errors += sc[i].errors;
        if (sc[i].errors)
            ktest_fail(__FILE__, __LINE__, "client %d: %lu calls failed, the first with %ld", i,
                       (unsigned long)sc[i].errors, sc[i].first_error);
    }
    uint64_t ns = (uint64_t)ks_clock_ns() - t0;
    ks_ipc_control(1, &s1);
    KT_EXPECT_EQ(bad, 0);
    KT_EXPECT_EQ(errors, 0);
    KT_EXPECT_EQ(ok, (uint64_t)STRESS_CLIENTS * STRESS_CALLS);
    uint64_t served = 0, server_bad = 0;
    for (int sid = 0; sid < STRESS_SERVERS; sid++) {
        KT_EXPECT(sh->v[8 + sid] > 0);          /* every server thread took calls */
        served += sh->v[8 + sid];
        server_bad += sh->v[16 + sid];
    }
    KT_EXPECT_EQ(served, (uint64_t)STRESS_CLIENTS * STRESS_CALLS);
    KT_EXPECT_EQ(server_bad, 0);
    /* both paths were exercised (every buffer call, which carries a handle, on the C path) */
    KT_EXPECT(s1.fast_calls - s0.fast_calls > 0);
    KT_EXPECT(s1.fast_replies - s0.fast_replies > 0);
    KT_EXPECT(s1.slow_calls - s0.slow_calls >= (uint64_t)STRESS_CLIENTS * STRESS_CALLS / 16);
    printf("# stress: %lu calls, %lu mismatches, %lu errors in %lu ms; fast calls %lu, fast replies %lu, "
           "slow calls %lu, slow replies %lu; per server %lu %lu %lu %lu\n",
           (unsigned long)ok, (unsigned long)bad, (unsigned long)errors, (unsigned long)(ns / MS),
           (unsigned long)(s1.fast_calls - s0.fast_calls), (unsigned long)(s1.fast_replies - s0.fast_replies),
           (unsigned long)(s1.slow_calls - s0.slow_calls), (unsigned long)(s1.slow_replies - s0.slow_replies),
           (unsigned long)sh->v[8], (unsigned long)sh->v[9], (unsigned long)sh->v[10], (unsigned long)sh->v[11]);
    /* each server thread answers one QUIT and ends */
    for (int sid = 0; sid < STRESS_SERVERS; sid++) {
        uint64_t w[KS_IPC_WORDS] = { QUIT_WORD };
        struct ipcres r;
        watchdog_arm(1000);
        KT_EXPECT_EQ(call_full(sc[0].port, 0, w, &r), 0);
        watchdog_disarm();
    }
    for (int i = 0; i < STRESS_CLIENTS; i++)
        ks_handle_close(sc[i].port);
    ks_handle_close((ks_handle_t)l);
    long status = child_reap(p, 5000);
    KT_EXPECT_EQ(status, 0);
    shared_destroy(sh, mo);
}

static const struct ktest_case stress_cases[] = {
    { "calls", stress_calls },
    { "no_leaks", suite_no_leaks },
};
KTEST_SUITE(stress_suite, "ipc_stress", stress_cases);

/* ======================= ipc_leaks ======================= */


/* A receiver thread whose only receive fails (interrupted) and which then exits. */
static void failed_receiver_thread(long l)
{
    struct ipcres r;
    ks_thread_interrupt(KS_THREAD_SELF);
    long rp = recv_full((ks_handle_t)l, 0, &r);
    ks_thread_exit(rp == KS_ERR_INTERRUPTED ? 0 : 1);
}

/*
 * A thread whose receive failed exits: whatever that receive set up for it
 * (a reply port, with a handle the thread never saw) must go with it.
 */
static void leaks_failed_receive_thread_exit(void)
{
    long l = ks_ipc_listener_create();
    KT_ASSERT(l >= 256);
    struct ks_kstat before;
    snap(&before);
    for (int i = 0; i < 3; i++) {
        struct uthread t;
        KT_ASSERT(thread_start_into(&t, failed_receiver_thread, l) >= 0);
        KT_EXPECT_EQ(thread_finish(&t), 0);
    }
    struct ks_kstat after;
    snap(&after);
    KT_EXPECT_EQ(after.objects, before.objects);
    KT_EXPECT_EQ(after.heap_objects, before.heap_objects);
    ks_handle_close((ks_handle_t)l);
}

/* A receiver thread that serves one call, closes its reply handle and exits: nothing stays. */
static void leaks_served_thread_exit(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 1);
    KT_ASSERT(l >= 256 && c >= 256);
    struct ks_kstat before;
    snap(&before);
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_REPLY }, { .op = OP_END } };
    static struct srv sv;
    for (int i = 0; i < 3; i++) {
        memset(&sv, 0, sizeof sv);
        sv.script = s;
        sv.l = (ks_handle_t)l;
        KT_ASSERT(thread_start_into(&sv.t, srv_thread, (long)&sv) >= 0);
        settle();
        uint64_t w[KS_IPC_WORDS] = { 1 };
        struct ipcres r;
        watchdog_arm(1000);
        KT_EXPECT_EQ(call_full((ks_handle_t)c, 0, w, &r), 0);
        watchdog_disarm();
        KT_EXPECT(wait_flag(&sv.done, 1000));
        thread_finish(&sv.t);
    }
    struct ks_kstat after;
    snap(&after);
    KT_EXPECT_EQ(after.objects, before.objects);
    KT_EXPECT_EQ(after.heap_objects, before.heap_objects);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
}

/*
 * A mixed workload (buffers, handles both ways, a helper process, a closed
 * reply port, an interrupted caller) once to fill the kernel's caches, then
 * four more times: afterwards every counter, free pages included, must be
 * exactly where it was after the first round. A leak grows with rounds.
 */
static void leaks_repeat(void)
{
    struct ks_kstat first, now;
    for (int round = 0; round < 5; round++) {
        basic_buf_64k();
        basic_handles();
        basic_third_process_spawn();
        fail_reply_closed();
        fail_caller_interrupted();
        if (round == 0)
            snap(&first);
    }
    snap(&now);
    KT_EXPECT_EQ(now.objects, first.objects);
    KT_EXPECT_EQ(now.heap_objects, first.heap_objects);
    KT_EXPECT_EQ(now.free_pages, first.free_pages);
}

/*
 * Calls (and a reply) whose descriptor names a pseudo-handle among the handles
 * to send fail with INVALID, and give back the reference their lookup took: a
 * helper makes 1,000 of them from its own thread and exits, and everything it
 * had is freed. (The leak kept the helper's thread, reply port and process
 * allocated for good; at 2^32 calls the thread's count wrapped.)
 */
static void leaks_pseudo_handle_send(void)
{
    struct ks_kstat before;
    snap(&before);
    KT_EXPECT_EQ(child_reap(spawn_helper("pseudo-send", "1000", 0, 0), 10000), 0);
    expect_no_leak(&before, "pseudo-handle sends");
}

static void leaks_total(void)
{
    expect_no_leak(&main_start, "whole run");
}

static const struct ktest_case leaks_cases[] = {
    { "served_thread_exit", leaks_served_thread_exit },
    { "failed_receive_thread_exit", leaks_failed_receive_thread_exit },
    { "repeat", leaks_repeat },
    { "pseudo_handle_send", leaks_pseudo_handle_send },
    { "total", leaks_total },
};
KTEST_SUITE(leaks_suite, "ipc_leaks", leaks_cases);

/* ======================= ipc_hazard (runs last) ======================= */

/*
 * As ipc_fail.killed_fast_receiver, but the listener lives on (we hold it) and
 * a new server thread of ours (whose struct thread may reuse the dead one's
 * memory) waits on it: the next call must be served. If the dead thread is
 * left on the receivers list, the kernel walks freed memory here; it has been
 * seen to hang the whole machine, which is why this runs after everything else.
 */
static void hazard_killed_fast_receiver_reuse(void)
{
    long l = ks_ipc_listener_create();
    long c = ks_ipc_client_create((ks_handle_t)l, 0x5b);
    KT_ASSERT(l >= 256 && c >= 256);
    kill_fast_receiver((ks_handle_t)l, (ks_handle_t)c, 0x5b);
    static const struct sstep s[] = { { .op = OP_RECV }, { .op = OP_REPLY }, { .op = OP_END } };
    static struct srv sv;
    memset(&sv, 0, sizeof sv);
    sv.script = s;
    sv.l = (ks_handle_t)l;
    KT_ASSERT(thread_start_into(&sv.t, srv_thread, (long)&sv) >= 0);
    settle();
    uint64_t w[KS_IPC_WORDS], want[KS_IPC_WORDS];
    struct ipcres r;
    fill_words(w, 7);
    echo_f(w, 0x5b, want);
    watchdog_arm(1000);
    long a0 = call_full((ks_handle_t)c, 0, w, &r);
    int in_time = watchdog_disarm();
    KT_EXPECT(in_time);
    KT_EXPECT_EQ(a0, 0);
    KT_EXPECT(words_eq(r.w, want));
    KT_EXPECT(wait_flag(&sv.done, 1000));
    if (!sv.done)
        ks_thread_interrupt((ks_handle_t)sv.t.h);
    thread_finish(&sv.t);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
}

static const struct ktest_case hazard_cases[] = {
    { "killed_fast_receiver_reuse", hazard_killed_fast_receiver_reuse },
};
KTEST_SUITE(hazard_suite, "ipc_hazard", hazard_cases);

/* ======================= helper modes ======================= */

/*
 * What the process keeps for good once used, made before the first kstat
 * snapshot: the pages of the static buffers, and the main thread's reply port
 * (a receive makes it before blocking; a pending interrupt ends the wait).
 */
static void (*const warm_cases[])(void) = {
    basic_third_process_ipc, basic_reply_reuse,
};

static __attribute__((noinline)) void touch_stack(void)
{
    volatile uint8_t deep[32 * 1024];
    for (size_t i = 0; i < sizeof deep; i += 512)
        deep[i] = 1;
}

static volatile int warm_go;

static void nop_thread(long arg)
{
    while (!warm_go)
        ks_thread_sleep(MS);
    ks_thread_exit(arg);
}

/*
 * Write every page of this program's data and bss once (each page's first
 * write allocates it), from the page of a .data variable up to the end of
 * the mapping. (Only upwards: the text below would accept the probe too.)
 */
static void touch_data(void)
{
    for (uintptr_t p = (uintptr_t)&ipc_mode & ~(uintptr_t)(KS_PAGE_SIZE - 1);; p += KS_PAGE_SIZE) {
        if (ks_vm_protect(KS_PROCESS_SELF, p, KS_PAGE_SIZE, KS_PROT_READ | KS_PROT_WRITE) != 0)
            break;              /* not mapped: the segment ends */
        volatile uint8_t *b = (volatile uint8_t *)p;
        *b = *b;
    }
}

static void warm_up(void)
{
    touch_data();               /* before any thread stack is mapped next to it */
    touch_stack();
    g_main_thread = (ks_handle_t)ks_handle_duplicate(KS_THREAD_SELF, KS_RIGHTS_ALL);
    struct uthread t[16];               /* page tables where thread stacks go */
    for (int i = 0; i < 16; i++)
        thread_start_into(&t[i], nop_thread, 0);
    warm_go = 1;
    for (int i = 0; i < 16; i++)
        thread_finish(&t[i]);
    ensure_own_reply_port();
    /*
     * A few cases once, unreported, for the kernel's caches: the heap keeps a
     * slab per size class, page tables stay. A real leak grows with every
     * repetition, which ipc_leaks.repeat checks.
     */
    for (size_t i = 0; i < sizeof warm_cases / sizeof warm_cases[0]; i++)
        warm_cases[i]();
}

/* Calls through inherited port 0, argv[2] times, checking echo replies (userdata 0x77). */
static int helper_caller(int n)
{
    ks_handle_t port = ulib_inherited(0);
    int bad = 0;
    for (int k = 0; k < n; k++) {
        uint64_t w[KS_IPC_WORDS], want[KS_IPC_WORDS];
        struct ipcres r;
        fill_words(w, 1000 + (uint64_t)k);
        echo_f(w, 0x77, want);
        if (call_full(port, 0, w, &r) != 0 || !words_eq(r.w, want))
            bad++;
    }
    return bad;
}

/* Asks inherited port 0 for a client port, then calls through that (userdata 0x99). */
static int helper_caller_ipc(void)
{
    ks_handle_t port = ulib_inherited(0);
    struct ks_ipc_desc d = { 0 };
    uint64_t w[KS_IPC_WORDS] = { 0 }, want[KS_IPC_WORDS];
    struct ipcres r;
    if (call_full(port, &d, w, &r) != 0)
        return 2;
    if (d.recv_nhandles != 1 || htype(d.recv_handles[0]) != KS_OBJ_CLIENT)
        return 3;
    fill_words(w, 5);
    echo_f(w, 0x99, want);
    if (call_full(d.recv_handles[0], 0, w, &r) != 0 || !words_eq(r.w, want))
        return 4;
    return 0;
}

/*
 * n calls through a port of our own listener, each sending KS_THREAD_SELF or
 * KS_PROCESS_SELF: 0 if every one failed with KS_ERR_INVALID. (Replies check
 * their descriptor with the same take_desc.)
 */
static int helper_pseudo_send(unsigned n)
{
    long l = ks_ipc_listener_create();
    long c = l >= 0 ? ks_ipc_client_create((ks_handle_t)l, 1) : l;
    if (c < 0)
        return 2;
    int bad = 0;
    for (unsigned i = 0; i < n; i++) {
        struct ks_ipc_desc d = { .send_nhandles = 1 };
        d.send_handles[0] = i & 1 ? KS_PROCESS_SELF : KS_THREAD_SELF;
        uint64_t w[KS_IPC_WORDS] = { 0 };
        bad |= ks_ipc_call((ks_handle_t)c, &d, w, 0) != KS_ERR_INVALID;
    }
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
    return bad;
}

/* Echo server on inherited listener 0 until it fails; 0 if that was PEER_CLOSED. */
static int helper_echo(void)
{
    return echo_until_fails(ulib_inherited(0)) == KS_ERR_PEER_CLOSED ? 0 : 10;
}

/*
 * As helper_echo, receiving into a 64-byte buffer through one kept
 * descriptor (its outputs stay in memory from one receive to the next, as a
 * real server's), and answering with the buffer's first word in MR7.
 */
static int helper_echo_buf(void)
{
    ks_handle_t l = ulib_inherited(0);
    static uint8_t buf[64];
    static struct ks_ipc_desc d = { .recv_buf = buf, .recv_cap = sizeof buf };
    struct ipcres r;
    uint64_t w[KS_IPC_WORDS];
    long rp = recv_full(l, &d, &r);
    while (rp >= 0) {
        echo_f(r.w, r.a1, w);
        memcpy(&w[7], buf, sizeof w[7]);
        rp = reply_recv_full((ks_handle_t)rp, l, &d, w, &r);
    }
    return rp == KS_ERR_PEER_CLOSED ? 0 : 10;
}

/*
 * As helper_echo_buf, answering each call as fsd answers an open: with a
 * handle moved, to a new one-page memobj whose first byte is the call's MR0.
 */
static int helper_give_memobj(void)
{
    ks_handle_t l = ulib_inherited(0);
    static uint8_t buf[64];
    static struct ks_ipc_desc d = { .recv_buf = buf, .recv_cap = sizeof buf };
    struct ipcres r;
    uint64_t w[KS_IPC_WORDS];
    long rp = recv_full(l, &d, &r);
    while (rp >= 0) {
        echo_f(r.w, r.a1, w);
        long m = ks_memobj_create(KS_PAGE_SIZE);
        uint8_t b = (uint8_t)r.w[0];
        if (m < 0 || ks_memobj_write((ks_handle_t)m, 0, &b, 1) != 1)
            return 11;
        d.send_handles[0] = (ks_handle_t)m;
        d.send_handle_flags[0] = KS_IPC_HANDLE_MOVE;
        d.send_nhandles = 1;
        rp = reply_recv_full((ks_handle_t)rp, l, &d, w, &r);
    }
    return rp == KS_ERR_PEER_CLOSED ? 0 : 10;
}

/*
 * Serves inherited listener 0 as give-memobj does, but each reply sends a view
 * of one memobj (KS_IPC_HANDLE_VIEW) after the first receive has lowered the
 * process's own memory limit to what it uses: the view finds no memory (the
 * fast reply's allocation, then the C path's), the reply-and-receive fails
 * NO_MEMORY, and a plain reply carries that error in MR0 instead.
 */
static int helper_give_view_limited(void)
{
    ks_handle_t l = ulib_inherited(0);
    static uint8_t buf[64];
    static struct ks_ipc_desc d = { .recv_buf = buf, .recv_cap = sizeof buf };
    long m = ks_memobj_create(KS_PAGE_SIZE);
    struct ipcres r;
    uint64_t w[KS_IPC_WORDS];
    long rp = m < 0 ? m : recv_full(l, &d, &r);
    d.send_handles[0] = (ks_handle_t)m;     /* (written now: a first write copies the page, a charge) */
    d.send_handle_flags[0] = KS_IPC_HANDLE_AS_VIEW(KS_RIGHT_READ | KS_RIGHT_TRANSFER);
    struct ks_limits used, lim;
    if (rp < 0 || ks_process_limit(KS_PROCESS_SELF, NULL, &used, &lim) != 0)
        return 30;
    lim.memory = used.memory;           /* nothing more may be charged */
    if (ks_process_limit(KS_PROCESS_SELF, &lim, NULL, NULL) != 0)
        return 31;
    while (rp >= 0) {
        echo_f(r.w, r.a1, w);
        d.send_nhandles = 1;
        long rr = reply_recv_full((ks_handle_t)rp, l, &d, w, &r);
        if (rr >= 0)
            return 32;                  /* a view was made after all */
        w[0] = (uint64_t)rr;
        d.send_nhandles = 0;
        if (reply_full((ks_handle_t)rp, 0, w, &r) != 0)
            return 33;
        rp = recv_full(l, &d, &r);
    }
    return rp == KS_ERR_PEER_CLOSED ? 0 : 34;
}

/*
 * Receives two calls on inherited listener 0 without answering (progress in
 * the shared page, inherited 1: v[0] = calls held), then per argv[2]: "kill"
 * waits to be killed, "exit" exits once v[1] is set.
 */
static int helper_hold(const char *how)
{
    ks_handle_t l = ulib_inherited(0);
    struct shared *sh = shared_map(ulib_inherited(1));
    if (!sh)
        return 20;
    for (int i = 0; i < 2; i++) {
        struct ipcres r;
        if (recv_full(l, 0, &r) < 256)
            return 21;
        sh->v[0]++;
    }
    if (strcmp(how, "exit") == 0) {
        while (!sh->v[1])
            ks_thread_sleep(MS);
        return 0;
    }
    for (;;)
        ks_thread_sleep(1000 * MS);
}

/* Sets v[0] of the shared page (inherited 1), then calls inherited port 0 and waits. */
static int helper_call_block(void)
{
    struct shared *sh = shared_map(ulib_inherited(1));
    if (!sh)
        return 20;
    sh->v[0] = 1;
    uint64_t w[KS_IPC_WORDS] = { 0xb10c };
    struct ipcres r;
    call_full(ulib_inherited(0), 0, w, &r);
    return 22;          /* nobody answers: it is killed first */
}

/*
 * The stress servers: STRESS_SERVERS threads (this one and more) on inherited
 * listener 0, counting in the shared page (inherited 1): v[0] threads started,
 * v[8 + s] calls served, v[16 + s] bad requests. A thread answers a QUIT call
 * and ends; so it does if its receive fails.
 */
static ks_handle_t stress_l;
static struct shared *stress_sh;

static void stress_server_thread(long sid)
{
    ks_handle_t l = stress_l;
    struct shared *sh = stress_sh;
    struct ipcres r;
    uint64_t w[KS_IPC_WORDS];
    __atomic_fetch_add(&sh->v[0], 1, __ATOMIC_SEQ_CST);
    long rp = recv_full(l, 0, &r), known = rp;
    while (rp >= 0) {
        known = rp;
        if (r.w[0] == QUIT_WORD) {
            uint64_t q[KS_IPC_WORDS] = { QUIT_WORD };
            reply_full((ks_handle_t)rp, 0, q, &r);
            break;
        }
        uint64_t want[KS_IPC_WORDS];
        stress_request(want, r.w[0], r.w[1]);
        int with_buf = (r.w[1] % 16) == 15;
        uint64_t info_want = with_buf ? KS_IPC_INFO_TRUNCATED : 0;
        if (!words_eq(r.w, want) || r.a1 != 0x5000 + r.w[0] || r.a7 != info_want || !regs_zero(&r))
            sh->v[16 + sid]++;
        sh->v[8 + sid]++;
        echo_f(r.w, r.a1, w);
        rp = reply_recv_full((ks_handle_t)rp, l, 0, w, &r);
    }
    if (known >= 256)
        ks_handle_close((ks_handle_t)known);
    if (sid)
        ks_thread_exit(0);
}

static int helper_stress_server(void)
{
    stress_l = ulib_inherited(0);
    stress_sh = shared_map(ulib_inherited(1));
    if (!stress_sh)
        return 20;
    struct uthread t[STRESS_SERVERS];
    for (int i = 1; i < STRESS_SERVERS; i++)
        if (thread_start_into(&t[i], stress_server_thread, i) < 0)
            return 21;
    stress_server_thread(0);
    for (int i = 1; i < STRESS_SERVERS; i++)
        thread_finish(&t[i]);
    return 0;
}

static int helper_main(int argc, char **argv)
{
    const char *mode = argv[1];
    if (strcmp(mode, "echo") == 0)
        return helper_echo();
    if (strcmp(mode, "echo-buf") == 0)
        return helper_echo_buf();
    if (strcmp(mode, "give-memobj") == 0)
        return helper_give_memobj();
    if (strcmp(mode, "give-view-limited") == 0)
        return helper_give_view_limited();
    if (strcmp(mode, "caller") == 0)
        return helper_caller((int)atou(argc > 2 ? argv[2] : "1"));
    if (strcmp(mode, "caller-ipc") == 0)
        return helper_caller_ipc();
    if (strcmp(mode, "hold") == 0)
        return helper_hold(argc > 2 ? argv[2] : "kill");
    if (strcmp(mode, "call-block") == 0)
        return helper_call_block();
    if (strcmp(mode, "stress-server") == 0)
        return helper_stress_server();
    if (strcmp(mode, "pseudo-send") == 0)
        return helper_pseudo_send((unsigned)atou(argc > 2 ? argv[2] : "1"));
    return 100;
}

/*
 * For debugging: build with -DUIPC_ONLY='"suite.case"' (or a prefix such as
 * "ipc_fail.") to run just the matching cases, as one KTAP stream.
 */
#ifndef UIPC_ONLY
#define UIPC_ONLY ""
#endif

static int run_only(const struct ktest_suite *const *suites, size_t n, const char *prefix)
{
    static struct ktest_case picked[128];
    static char names[128][64];
    size_t np = 0, plen = strlen(prefix);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < suites[i]->ncases && np < 128; k++) {
            ksnprintf(names[np], sizeof names[np], "%s.%s", suites[i]->name, suites[i]->cases[k].name);
            if (strncmp(names[np], prefix, plen) == 0) {
                picked[np].name = names[np];
                picked[np].fn = suites[i]->cases[k].fn;
                np++;
            }
        }
    }
    struct ktest_suite only = { "only", picked, np };
    const struct ktest_suite *one[1] = { &only };
    return ktest_run(one, 1);
}

int main(int argc, char **argv)
{
    g_image = (ks_handle_t)ulib_auxv(KS_AT_BOOTIMAGE);
    if (argc > 1)
        return helper_main(argc, argv);
    warm_up();
    snap(&main_start);
    static const struct ktest_suite *const suites[] = {
        &basic_suite, &fast_suite, &fail_suite, &bad_suite, &stress_suite, &leaks_suite, &hazard_suite,
    };
    int failures;
    if (UIPC_ONLY[0])
        failures = run_only(suites, sizeof suites / sizeof suites[0], UIPC_ONLY);
    else
        failures = ktest_run(suites, sizeof suites / sizeof suites[0]);
    return failures ? 1 : 0;
}
