/*
 * tests/test_heap.c - host tests for kmalloc/kfree (kernel/heap.c).
 *
 * Each case gives the page allocator a fresh 4 MiB-aligned host buffer as RAM
 * (identity "direct map" on the fake arch) and resets the heap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/heap.h"
#include "kernel/ktest.h"
#include "kernel/page_alloc.h"
#include "kernel/platform.h"
#include "tests/host.h"

#define MAX_BLOCK ((size_t)PAGE_SIZE << PAGE_MAX_ORDER)
#define NCLASS 8                /* 16 .. 2048 */

static uint8_t *arena;          /* the RAM of the case (host_ram_fresh) */
static size_t ram_bytes;

static void arena_release(void)
{
    host_ram_release();
    arena = NULL;
}

/* RAM of `pages` pages; page allocator and heap initialised. */
static int heap_setup(size_t pages)
{
    ram_bytes = pages * PAGE_SIZE;
    arena = host_ram_fresh(pages);
    return arena != NULL;
}

/* Each case runs guarded: a panic fails it, and the RAM buffer is freed even after a KT_ASSERT. */
#define CASE(name) GUARDED_CASE(name, arena_release)

/* The alignment kmalloc(n) promises: its class size, at most a page. */
static size_t expected_align(size_t n)
{
    if (n > HEAP_MAX_SLAB)
        return PAGE_SIZE;
    size_t c = HEAP_MIN_SLAB;
    while (c < n)
        c <<= 1;
    return c;
}

/* p .. p+n inside RAM and suitably aligned. */
static int placement_ok(const void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p;
    return p && a % expected_align(n) == 0 && a >= (uintptr_t)arena &&
           a + n <= (uintptr_t)arena + ram_bytes;
}

static uint8_t pattern(uint64_t tag, size_t i)
{
    return (uint8_t)(tag * 0x9d + i * 31 + (i >> 8) + 1);
}

static void fill(void *p, size_t n, uint64_t tag)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = pattern(tag, i);
}

static int intact(const void *p, size_t n, uint64_t tag)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != pattern(tag, i))
            return 0;
    return 1;
}

static int overlaps(const void *a, size_t alen, const void *b, size_t blen)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return x < y + blen && y < x + alen;
}

/* Allocate and free one object of every class (each slab page goes straight back). */
static void warm_up(void)
{
    for (size_t s = HEAP_MIN_SLAB; s <= HEAP_MAX_SLAB; s <<= 1)
        kfree(kmalloc(s));
}

static uintptr_t page_base(const void *p) { return (uintptr_t)p & ~(uintptr_t)(PAGE_SIZE - 1); }

/* ---- cases ---- */

CASE(sizes_aligned)
{
    static const size_t large[] = { HEAP_MAX_SLAB + 1, 3000, PAGE_SIZE - 1, PAGE_SIZE, PAGE_SIZE + 1,
                                    2 * PAGE_SIZE, 3 * PAGE_SIZE + 5, 65536, 100000, 1 << 20 };
    enum { NSMALL = HEAP_MAX_SLAB, NLARGE = sizeof large / sizeof large[0] };
    static void *obj[NSMALL + NLARGE];
    static size_t len[NSMALL + NLARGE];
    KT_ASSERT(heap_setup(2048));
    size_t live0 = heap_live_objects(), misplaced = 0, nulls = 0, corrupt = 0, n = 0;

    /* All of them live at once, each filled with its own pattern. */
    for (size_t s = 1; s <= HEAP_MAX_SLAB; s++)
        len[n++] = s;
    for (size_t i = 0; i < NLARGE; i++)
        len[n++] = large[i];
    for (size_t i = 0; i < n; i++) {
        obj[i] = kmalloc(len[i]);
        nulls += obj[i] == NULL;
        misplaced += !placement_ok(obj[i], len[i]);
        if (obj[i])
            fill(obj[i], len[i], i);
    }
    KT_EXPECT_EQ(nulls, 0);
    KT_EXPECT_EQ(misplaced, 0);
    KT_EXPECT_EQ(heap_live_objects(), live0 + n - nulls);
    for (size_t i = 0; i < n; i++)
        corrupt += obj[i] && !intact(obj[i], len[i], i);
    KT_EXPECT_EQ(corrupt, 0);
    for (size_t i = 0; i < n; i++)
        kfree(obj[i]);
    KT_EXPECT_EQ(heap_live_objects(), live0);
}

CASE(zero_size_is_null)
{
    KT_ASSERT(heap_setup(2048));       /* one whole largest block is free */
    size_t live0 = heap_live_objects(), free0 = page_free_count();
    KT_EXPECT(kmalloc(0) == NULL);
    KT_EXPECT(kzalloc(0) == NULL);
    /* More than the largest page block can never be had either, even with one free. */
    KT_EXPECT(kmalloc(MAX_BLOCK + 1) == NULL);
    KT_EXPECT(kmalloc(SIZE_MAX) == NULL);
    KT_EXPECT_EQ(heap_live_objects(), live0);
    KT_EXPECT_EQ(page_free_count(), free0);
    /* Real requests still work afterwards, up to the largest block. */
    void *p = kmalloc(1), *big = kmalloc(MAX_BLOCK);
    KT_EXPECT(p != NULL);
    KT_EXPECT(big != NULL && (uintptr_t)big % MAX_BLOCK == 0);
    kfree(p);
    kfree(big);
    KT_EXPECT_EQ(heap_live_objects(), live0);
}

CASE(kzalloc_zeroes)
{
    static const size_t sizes[] = { 1, 15, 16, 17, 100, 255, 1000, 2047, 2048, 2049,
                                    PAGE_SIZE, 10000, 20000 };
    enum { DIRTY = 40 };
    KT_ASSERT(heap_setup(1024));
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        /* Dirty a batch of same-size objects and free them; kzalloc reuses dirty memory. */
        void *dirty[DIRTY];
        for (int i = 0; i < DIRTY; i++) {
            dirty[i] = kmalloc(n);
            KT_ASSERT(dirty[i] != NULL);
            memset(dirty[i], 0xcd, n);
        }
        for (int i = DIRTY - 1; i >= 0; i--)
            kfree(dirty[i]);
        uint8_t *z = kzalloc(n);
        KT_ASSERT(z != NULL);
        KT_EXPECT(placement_ok(z, n));
        int was_dirty = 0;
        for (int i = 0; i < DIRTY; i++)
            was_dirty |= dirty[i] == (void *)z;
        KT_EXPECT(was_dirty);
        size_t nonzero = 0;
        for (size_t i = 0; i < n; i++)
            nonzero += z[i] != 0;
        KT_EXPECT_EQ(nonzero, 0);
        kfree(z);
    }
    KT_EXPECT_EQ(heap_live_objects(), 0);
}

struct live_obj {
    void *p;
    size_t n;
    uint64_t tag;
};

CASE(random_stress)
{
    enum { OPS = 20000, LIVE_MAX = 500 };
    static struct live_obj live[LIVE_MAX];
    KT_ASSERT(heap_setup(4096));
    warm_up();
    size_t live0 = heap_live_objects(), free0 = page_free_count();
    size_t nlive = 0, nulls = 0, misplaced = 0, overlap = 0, corrupt = 0, miscount = 0, nlarge = 0;
    test_srand(0xbeef5eed);

    for (uint64_t op = 0; op < OPS; op++) {
        if (nlive == 0 || (nlive < LIVE_MAX && test_rand() % 100 < 55)) {
            unsigned r = test_rand() % 100;
            size_t n;
            if (r < 45)
                n = 1 + test_rand() % 64;
            else if (r < 80)
                n = 1 + test_rand() % HEAP_MAX_SLAB;
            else
                n = HEAP_MAX_SLAB + 1 + test_rand() % (20 * 1024 - HEAP_MAX_SLAB);
            void *p = kmalloc(n);
            if (!p) {
                nulls++;
                continue;
            }
            nlarge += n > HEAP_MAX_SLAB;
            misplaced += !placement_ok(p, n);
            for (size_t i = 0; i < nlive; i++)
                overlap += overlaps(p, n, live[i].p, live[i].n);
            fill(p, n, op);
            live[nlive++] = (struct live_obj){ p, n, op };
        } else {
            size_t i = test_rand() % nlive;
            corrupt += !intact(live[i].p, live[i].n, live[i].tag);
            kfree(live[i].p);
            live[i] = live[--nlive];
        }
        miscount += heap_live_objects() != live0 + nlive;
    }
    while (nlive) {
        nlive--;
        corrupt += !intact(live[nlive].p, live[nlive].n, live[nlive].tag);
        kfree(live[nlive].p);
    }
    KT_EXPECT_EQ(nulls, 0);
    KT_EXPECT_EQ(misplaced, 0);
    KT_EXPECT_EQ(overlap, 0);
    KT_EXPECT_EQ(corrupt, 0);
    KT_EXPECT_EQ(miscount, 0);
    KT_EXPECT(nlarge > 1000);
    KT_EXPECT_EQ(heap_live_objects(), live0);
    KT_EXPECT_EQ(page_free_count(), free0);
}

CASE(pages_restored)
{
    KT_ASSERT(heap_setup(2048));
    size_t total = page_free_count();
    warm_up();
    /* Empty slabs go back at once: warming up costs nothing. */
    KT_EXPECT_EQ(page_free_count(), total);
    size_t free0 = page_free_count();

    /* Several slabs of every class, and page blocks, all freed again. */
    static void *obj[4096];
    size_t n = 0;
    for (size_t s = HEAP_MIN_SLAB; s <= HEAP_MAX_SLAB; s <<= 1)
        for (size_t k = 0; k < 3 * PAGE_SIZE / s + 1; k++)
            obj[n++] = kmalloc(s - k % 7);
    for (size_t k = 0; k < 20; k++)
        obj[n++] = kmalloc(HEAP_MAX_SLAB + 1 + k * 3000);
    size_t nulls = 0;
    for (size_t i = 0; i < n; i++)
        nulls += obj[i] == NULL;
    KT_EXPECT_EQ(nulls, 0);
    KT_EXPECT(page_free_count() < free0 - 3 * NCLASS);
    /* Free in an interleaved order, so slabs empty out in a mixed sequence. */
    for (size_t i = 0; i < n; i += 2)
        kfree(obj[i]);
    for (size_t i = 1; i < n; i += 2)
        kfree(obj[i]);
    KT_EXPECT_EQ(heap_live_objects(), 0);
    KT_EXPECT_EQ(page_free_count(), free0);
}

CASE(empty_slab_returned)
{
    enum { SIZE = 256, PER_PAGE = PAGE_SIZE / SIZE, N = 2 * PER_PAGE + 1 };
    void *obj[N];
    KT_ASSERT(heap_setup(256));
    for (int i = 0; i < N; i++) {
        obj[i] = kmalloc(SIZE);
        KT_ASSERT(obj[i] != NULL);
    }
    /* Two full slab pages and one holding a single object. */
    uintptr_t pg[3];
    int count[3] = { 0 }, npg = 0;
    for (int i = 0; i < N; i++) {
        int k = 0;
        while (k < npg && pg[k] != page_base(obj[i]))
            k++;
        KT_ASSERT(k < 3);
        if (k == npg)
            pg[npg++] = page_base(obj[i]);
        count[k]++;
    }
    KT_ASSERT(npg == 3);
    int single = count[0] == 1 ? 0 : count[1] == 1 ? 1 : 2;
    KT_ASSERT(count[single] == 1 && count[(single + 1) % 3] == PER_PAGE && count[(single + 2) % 3] == PER_PAGE);

    size_t f = page_free_count();
    for (int round = 1; round <= 2; round++) {
        /* Empty out a full slab: its page goes back on the last free, not before. */
        uintptr_t full = pg[(single + round) % 3];
        int left = PER_PAGE;
        for (int i = 0; i < N; i++) {
            if (!obj[i] || page_base(obj[i]) != full)
                continue;
            KT_EXPECT_EQ(page_free_count(), f + (size_t)round - 1);
            kfree(obj[i]);
            obj[i] = NULL;
            left--;
        }
        KT_EXPECT_EQ(left, 0);
        KT_EXPECT_EQ(page_free_count(), f + (size_t)round);
        struct page *p = page_of((void *)full);
        KT_EXPECT(p != NULL && p->state != PAGE_SLAB);
    }
    /* The last slab of the class goes too when it empties; a new object takes a page again. */
    for (int i = 0; i < N; i++)
        if (obj[i])
            kfree(obj[i]);
    KT_EXPECT_EQ(page_free_count(), f + 3);
    KT_EXPECT(page_of((void *)pg[single])->state != PAGE_SLAB);
    void *again = kmalloc(SIZE);
    KT_EXPECT(again != NULL);
    KT_EXPECT_EQ(page_free_count(), f + 2);
    kfree(again);
    KT_EXPECT_EQ(page_free_count(), f + 3);
    KT_EXPECT_EQ(heap_live_objects(), 0);
}

/* Round-robin over sizes until no size can be had; returns the number of objects. */
static size_t exhaust_heap(void **obj, size_t cap)
{
    static const size_t sizes[] = { 3 * PAGE_SIZE, 8192, 4096, 3000, 2048, 1500, 1024, 512,
                                    300, 256, 128, 100, 64, 32, 17, 16, 1 };
    size_t n = 0;
    for (;;) {
        int any = 0;
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0] && n < cap; k++) {
            void *p = kmalloc(sizes[k]);
            if (p) {
                memset(p, (int)k + 1, sizes[k]);
                obj[n++] = p;
                any = 1;
            }
        }
        if (!any || n >= cap)
            return n;
    }
}

CASE(exhaustion_recovers)
{
    enum { CAP = 20000 };
    static void *obj[CAP];
    KT_ASSERT(heap_setup(64));
    size_t total = page_free_count();
    KT_ASSERT(total >= 60);

    for (int round = 0; round < 2; round++) {
        size_t n = exhaust_heap(obj, CAP);
        KT_EXPECT(n > 0 && n < CAP);
        KT_EXPECT_EQ(heap_live_objects(), n);
        KT_EXPECT_EQ(page_free_count(), 0);
        KT_EXPECT(kmalloc(1) == NULL);
        KT_EXPECT(kmalloc(HEAP_MAX_SLAB + 1) == NULL);
        KT_EXPECT(kzalloc(16) == NULL);
        KT_EXPECT_EQ(heap_live_objects(), n);
        /* Free in a scrambled order. */
        test_srand(77 + (unsigned long)round);
        for (size_t i = n; i > 1; i--) {
            size_t j = test_rand() % i;
            void *t = obj[i - 1];
            obj[i - 1] = obj[j];
            obj[j] = t;
        }
        for (size_t i = 0; i < n; i++)
            kfree(obj[i]);
        KT_EXPECT_EQ(heap_live_objects(), 0);
        /* Everything is back. */
        KT_EXPECT_EQ(page_free_count(), total);
        void *a = kmalloc(100), *b = kmalloc(PAGE_SIZE);
        KT_EXPECT(a != NULL);
        KT_EXPECT(b != NULL);
        kfree(a);
        kfree(b);
    }
}

/* ---- panics ---- */

static void kfree_ignoring_size(void *p)
{
    kfree(p);
}

static int kfree_panics(void *p, const char *what)
{
    return catch_panic(kfree_ignoring_size, p) && strstr(last_panic_message(), what) != NULL;
}

CASE(panic_double_free_small)
{
    KT_ASSERT(heap_setup(256));
    size_t caught = 0, tried = 0;
    for (size_t s = 1; s <= HEAP_MAX_SLAB; s = s * 2 + 1) {
        void *keep = kmalloc(s), *p = kmalloc(s);
        KT_ASSERT(keep && p);
        kfree(p);
        size_t live = heap_live_objects();
        tried++;
        caught += kfree_panics(p, "double free");
        KT_EXPECT_EQ(heap_live_objects(), live);
        kfree(keep);
    }
    KT_EXPECT_EQ(caught, tried);
    KT_EXPECT_EQ(heap_live_objects(), 0);
}

CASE(panic_interior_pointer)
{
    KT_ASSERT(heap_setup(256));
    size_t caught = 0, tried = 0;
    for (size_t s = 32; s <= HEAP_MAX_SLAB; s <<= 1) {
        uint8_t *p = kmalloc(s);
        KT_ASSERT(p != NULL);
        size_t offs[] = { 8, 16, s / 2, s - 8 };
        for (size_t k = 0; k < 4; k++) {
            tried++;
            caught += kfree_panics(p + offs[k], "not the start");
        }
        KT_EXPECT_EQ(heap_live_objects(), 1);
        kfree(p);
    }
    uint8_t *p = kmalloc(16);
    tried++;
    caught += kfree_panics(p + 8, "not the start");
    kfree(p);

    /* Inside a page block, after churn has made every page a block head at some point. */
    void *pages[64];
    size_t n = 0;
    while (n < 64 && (pages[n] = kmalloc(PAGE_SIZE)) != NULL)
        n++;
    for (size_t i = 0; i < n; i++)
        kfree(pages[i]);
    uint8_t *big = kmalloc(4 * PAGE_SIZE);
    KT_ASSERT(big != NULL);
    for (size_t off = PAGE_SIZE; off < 4 * PAGE_SIZE; off += PAGE_SIZE) {
        tried++;
        caught += kfree_panics(big + off, "kfree");
    }
    tried++;
    caught += kfree_panics(big + 64, "was not returned by kmalloc");
    KT_EXPECT_EQ(caught, tried);
    kfree(big);
    KT_EXPECT_EQ(heap_live_objects(), 0);
}

CASE(panic_foreign_pointer)
{
    KT_ASSERT(heap_setup(256));
    void *p = kmalloc(100);
    size_t live = heap_live_objects();
    int local;
    KT_EXPECT(kfree_panics(&local, "not heap memory"));
    void *host = malloc(64);
    KT_ASSERT(host != NULL);
    KT_EXPECT(kfree_panics(host, "not heap memory"));
    free(host);
    /* Inside RAM, but a page nobody allocated, and the page array. */
    KT_EXPECT(kfree_panics(arena + 128 * PAGE_SIZE, "was not returned by kmalloc"));
    KT_EXPECT(kfree_panics((void *)(uintptr_t)host_ram_platform()->reserved[0].base, "was not returned by kmalloc"));
    KT_EXPECT_EQ(heap_live_objects(), live);
    kfree(p);
}

CASE(panic_double_free_large)
{
    KT_ASSERT(heap_setup(256));
    size_t free0 = page_free_count(), caught = 0, tried = 0;
    static const size_t sizes[] = { HEAP_MAX_SLAB + 1, PAGE_SIZE, 2 * PAGE_SIZE, 3 * PAGE_SIZE, 16 * PAGE_SIZE };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        /* Several neighbours, so some merge with their buddy as the upper half. */
        void *p[6];
        for (int i = 0; i < 6; i++) {
            p[i] = kmalloc(sizes[k]);
            KT_ASSERT(p[i] != NULL);
        }
        for (int i = 0; i < 6; i++)
            kfree(p[i]);
        for (int i = 0; i < 6; i++) {
            tried++;
            caught += kfree_panics(p[i], "kfree");
        }
    }
    KT_EXPECT_EQ(caught, tried);
    KT_EXPECT_EQ(heap_live_objects(), 0);
    KT_EXPECT_EQ(page_free_count(), free0);
}

CASE(kfree_null)
{
    KT_ASSERT(heap_setup(256));
    void *p = kmalloc(40);
    size_t live = heap_live_objects(), nfree = page_free_count();
    KT_EXPECT(catch_panic(kfree_ignoring_size, NULL) == 0);
    KT_EXPECT_EQ(kfree(NULL), 0);
    KT_EXPECT_EQ(heap_live_objects(), live);
    KT_EXPECT_EQ(page_free_count(), nfree);
    kfree(p);
    KT_EXPECT_EQ(heap_live_objects(), live - 1);
}

static const struct ktest_case heap_cases[] = {
    { "sizes_aligned", sizes_aligned },
    { "zero_size_is_null", zero_size_is_null },
    { "kzalloc_zeroes", kzalloc_zeroes },
    { "random_stress", random_stress },
    { "pages_restored", pages_restored },
    { "empty_slab_returned", empty_slab_returned },
    { "exhaustion_recovers", exhaustion_recovers },
    { "panic_double_free_small", panic_double_free_small },
    { "panic_interior_pointer", panic_interior_pointer },
    { "panic_foreign_pointer", panic_foreign_pointer },
    { "panic_double_free_large", panic_double_free_large },
    { "kfree_null", kfree_null },
};
KTEST_SUITE(heap_suite, "heap", heap_cases);

int main(void)
{
    const struct ktest_suite *suites[] = { &heap_suite };
    return ktest_run(suites, 1) ? 1 : 0;
}
