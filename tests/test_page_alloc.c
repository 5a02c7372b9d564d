/*
 * tests/test_page_alloc.c - host tests for the buddy page allocator (kernel/page_alloc.c).
 *
 * "RAM" is a 4 MiB-aligned host buffer (the fake arch maps physical to virtual
 * as the identity), described to the allocator by a hand-built struct platform.
 * Every case builds its own RAM and re-initialises the allocator.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/ktest.h"
#include <kestrel/errors.h>
#include "kernel/page_alloc.h"
#include "kernel/platform.h"
#include "tests/host.h"

#define BLOCK_BYTES(o)  ((uint64_t)PAGE_SIZE << (o))
#define MAX_BLOCK       BLOCK_BYTES(PAGE_MAX_ORDER)
#define MAX_BLOCKS      8192    /* more than any case's RAM has pages */

static uint8_t *arena;          /* host memory standing in for RAM */
static size_t arena_bytes;
static struct platform plat;
static int test_nreserved;      /* reserved ranges the case added itself */
static void *blocks[MAX_BLOCKS];
static void *blocks2[MAX_BLOCKS];

/* ---- fixture ---- */

static void arena_release(void)
{
    free(arena);
    arena = NULL;
    arena_bytes = 0;
}

/* Fresh RAM buffer of at least `bytes` (a multiple of 4 MiB, 4 MiB aligned), empty platform. */
static int arena_new(size_t bytes)
{
    arena_release();
    arena_bytes = (bytes + MAX_BLOCK - 1) / MAX_BLOCK * MAX_BLOCK;
    arena = aligned_alloc(MAX_BLOCK, arena_bytes);
    memset(&plat, 0, sizeof plat);
    test_nreserved = 0;
    return arena != NULL;
}

static uint64_t at(uint64_t off) { return (uint64_t)(uintptr_t)arena + off; }

static void add_ram(uint64_t off, uint64_t size)
{
    plat.ram[plat.nram].base = at(off);
    plat.ram[plat.nram].size = size;
    plat.nram++;
}

static void add_reserved(uint64_t off, uint64_t size)
{
    plat.reserved[plat.nreserved].base = at(off);
    plat.reserved[plat.nreserved].size = size;
    plat.nreserved++;
    test_nreserved = plat.nreserved;
}

static void init(void)
{
    page_alloc_init(&plat);
}

/* The common case: 8 MiB of RAM, nothing reserved, the allocator set up over it. 0 if no arena. */
static int init_8mib(void)
{
    if (!arena_new(8 << 20))
        return 0;
    add_ram(0, 8 << 20);
    init();
    return 1;
}

/* Each case runs guarded: a panic fails it, and the RAM buffer is freed even after a KT_ASSERT. */
#define CASE(name) GUARDED_CASE(name, arena_release)

/* ---- independent bookkeeping ---- */

static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* Pages lying wholly inside a RAM range and clear of the ranges the case reserved. */
static size_t expected_usable_pages(void)
{
    size_t n = 0;
    for (int i = 0; i < plat.nram; i++) {
        uint64_t first = (plat.ram[i].base + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
        uint64_t end = (plat.ram[i].base + plat.ram[i].size) / PAGE_SIZE * PAGE_SIZE;
        for (uint64_t pa = first; pa < end; pa += PAGE_SIZE) {
            int clear = 1;
            for (int r = 0; r < test_nreserved; r++)
                if (overlaps(pa, PAGE_SIZE, plat.reserved[r].base, plat.reserved[r].size))
                    clear = 0;
            n += clear;
        }
    }
    return n;
}

/*
 * Size of the page array: one struct page for every frame from the 4 MiB-aligned
 * frame at or below the lowest RAM address up to the end of the highest range,
 * rounded up to whole pages.
 */
static uint64_t expected_array_bytes(void)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < plat.nram; i++) {
        if (plat.ram[i].base < lo)
            lo = plat.ram[i].base;
        if (plat.ram[i].base + plat.ram[i].size > hi)
            hi = plat.ram[i].base + plat.ram[i].size;
    }
    uint64_t frames = hi / PAGE_SIZE - (lo & ~(MAX_BLOCK - 1)) / PAGE_SIZE;
    uint64_t bytes = frames * sizeof(struct page);
    return (bytes + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
}

/* A block of `order` at b: aligned to its size, inside one RAM range, clear of every reservation. */
static int block_ok(const void *b, unsigned order)
{
    uint64_t a = (uint64_t)(uintptr_t)b, len = BLOCK_BYTES(order);
    if (!b || a % len)
        return 0;
    int inside = 0;
    for (int i = 0; i < plat.nram; i++)
        if (a >= plat.ram[i].base && a + len <= plat.ram[i].base + plat.ram[i].size)
            inside = 1;
    if (!inside)
        return 0;
    for (int r = 0; r < plat.nreserved; r++)
        if (overlaps(a, len, plat.reserved[r].base, plat.reserved[r].size))
            return 0;
    return 1;
}

/* Write a tag into the first and last word of every page of a block, and check it. */
static void tag_block(void *b, unsigned order, uint64_t tag)
{
    for (uint64_t off = 0; off < BLOCK_BYTES(order); off += PAGE_SIZE) {
        uint64_t *w = (uint64_t *)((uint8_t *)b + off);
        w[0] = tag;
        w[PAGE_SIZE / 8 - 1] = ~tag;
    }
}

static int tag_intact(const void *b, unsigned order, uint64_t tag)
{
    for (uint64_t off = 0; off < BLOCK_BYTES(order); off += PAGE_SIZE) {
        const uint64_t *w = (const uint64_t *)((const uint8_t *)b + off);
        if (w[0] != tag || w[PAGE_SIZE / 8 - 1] != ~tag)
            return 0;
    }
    return 1;
}

/* Allocate blocks of `order` until page_alloc fails (or cap is reached). */
static size_t exhaust(unsigned order, void **out, size_t cap)
{
    size_t n = 0;
    void *p;
    while (n < cap && (p = page_alloc(order)) != NULL)
        out[n++] = p;
    return n;
}

static void free_all(void **bl, size_t n, unsigned order)
{
    for (size_t i = 0; i < n; i++)
        page_free(bl[i], order);
}

/* How many blocks of the largest order can be had right now (they are given back). */
static size_t max_blocks_available(void)
{
    void *big[64];
    size_t n = exhaust(PAGE_MAX_ORDER, big, 64);
    free_all(big, n, PAGE_MAX_ORDER);
    return n;
}

static void fill_canary(uint64_t pa, uint64_t len) { memset((void *)(uintptr_t)pa, 0x5a, len); }

static int canary_intact(uint64_t pa, uint64_t len)
{
    const uint8_t *b = (const uint8_t *)(uintptr_t)pa;
    for (uint64_t i = 0; i < len; i++)
        if (b[i] != 0x5a)
            return 0;
    return 1;
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
    return x < y ? -1 : x > y;
}

/* ---- cases ---- */

/* Check the counts and the page array placement of the platform set up in `plat`. */
static void check_init_counts(void)
{
    size_t usable = expected_usable_pages();
    uint64_t array_bytes = expected_array_bytes();
    init();
    size_t expect = usable - array_bytes / PAGE_SIZE;
    KT_EXPECT_EQ(page_free_count(), expect);
    KT_EXPECT_EQ(page_total_count(), expect);

    /* The page array was added to the reserved ranges, in RAM, clear of the others. */
    KT_ASSERT(plat.nreserved == test_nreserved + 1);
    const struct mem_range *arr = &plat.reserved[test_nreserved];
    KT_EXPECT_EQ(arr->size, array_bytes);
    KT_EXPECT_EQ(arr->base % PAGE_SIZE, 0);
    int in_ram = 0;
    for (int i = 0; i < plat.nram; i++)
        if (arr->base >= plat.ram[i].base && arr->base + arr->size <= plat.ram[i].base + plat.ram[i].size)
            in_ram = 1;
    KT_EXPECT(in_ram);
    for (int r = 0; r < test_nreserved; r++)
        KT_EXPECT(!overlaps(arr->base, arr->size, plat.reserved[r].base, plat.reserved[r].size));

    /* The counts are real: exactly that many pages can be allocated, all of them good. */
    size_t n = exhaust(0, blocks, MAX_BLOCKS), bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += !block_ok(blocks[i], 0);
    KT_EXPECT_EQ(n, expect);
    KT_EXPECT_EQ(bad, 0);
    free_all(blocks, n, 0);
    KT_EXPECT_EQ(page_free_count(), expect);
}

CASE(init_counts)
{
    const uint64_t MiB = 1 << 20, P = PAGE_SIZE;

    /* Plain RAM, 8 MiB. */
    KT_ASSERT(arena_new(8 * MiB));
    add_ram(0, 8 * MiB);
    check_init_counts();

    /* Unaligned reservations, one at the very start of RAM, one a single byte. */
    KT_ASSERT(arena_new(8 * MiB));
    add_ram(0, 8 * MiB);
    add_reserved(0, 2 * P);
    add_reserved(1 * MiB + 100, 3 * P);         /* touches 4 pages */
    add_reserved(5 * MiB + 7, 1);               /* touches 1 page */
    add_reserved(8 * MiB - P - 1, 1);           /* last byte of the last-but-one page */
    check_init_counts();

    /* RAM starting and ending off any 4 MiB (and page) boundary. */
    KT_ASSERT(arena_new(8 * MiB));
    add_ram(3 * P + 17, 8 * MiB - 9 * P + 123);
    add_reserved(6 * MiB + 5, 2 * P);
    check_init_counts();

    /* Two RAM ranges with a gap, starting above the 4 MiB boundary below them. */
    KT_ASSERT(arena_new(16 * MiB));
    add_ram(40 * P, 5 * MiB);
    add_ram(9 * MiB + 3 * P, 6 * MiB);
    add_reserved(12 * MiB + 1000, 5000);
    check_init_counts();
}

CASE(exhaust_and_merge)
{
    KT_ASSERT(init_8mib());
    size_t nfree = page_free_count();
    size_t big0 = max_blocks_available();
    KT_ASSERT(big0 >= 1);
    KT_EXPECT_EQ(page_free_count(), nfree);

    size_t n = exhaust(0, blocks, MAX_BLOCKS);
    KT_EXPECT_EQ(n, nfree);
    KT_EXPECT_EQ(page_free_count(), 0);
    KT_EXPECT(page_alloc(0) == NULL);
    for (unsigned o = 0; o <= PAGE_MAX_ORDER; o++)
        KT_EXPECT(page_alloc(o) == NULL);
    KT_EXPECT(page_zalloc(0) == NULL);

    /* Distinct pages: tag each with its index, then read all tags back. */
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        bad += !block_ok(blocks[i], 0);
        tag_block(blocks[i], 0, i);
    }
    for (size_t i = 0; i < n; i++)
        bad += !tag_intact(blocks[i], 0, i);
    KT_EXPECT_EQ(bad, 0);

    free_all(blocks, n, 0);
    KT_EXPECT_EQ(page_free_count(), nfree);
    KT_EXPECT_EQ(page_total_count(), nfree);
    /* Merging rebuilt every largest block. */
    KT_EXPECT_EQ(max_blocks_available(), big0);
    void *big = page_alloc(PAGE_MAX_ORDER);
    KT_EXPECT(block_ok(big, PAGE_MAX_ORDER));
    if (big)
        page_free(big, PAGE_MAX_ORDER);
}

CASE(reuse)
{
    KT_ASSERT(arena_new(8 << 20));
    add_ram(0, 8 << 20);
    add_reserved(3 << 20, 10 * PAGE_SIZE);
    init();
    size_t nfree = page_free_count();

    size_t n1 = exhaust(0, blocks, MAX_BLOCKS);
    KT_EXPECT_EQ(n1, nfree);
    /* With everything else taken, a freed page is the only one to hand out again. */
    for (size_t i = 0; i < n1; i += 97) {
        page_free(blocks[i], 0);
        KT_EXPECT_EQ(page_free_count(), 1);
        void *again = page_alloc(0);
        KT_EXPECT(again == blocks[i]);
        if (again != blocks[i]) {
            if (again)
                page_free(again, 0);
            blocks[i] = page_alloc(0);
        }
    }
    free_all(blocks, n1, 0);
    KT_EXPECT_EQ(page_free_count(), nfree);

    /* A second round hands out exactly the same set of pages. */
    size_t n2 = exhaust(0, blocks2, MAX_BLOCKS);
    KT_EXPECT_EQ(n2, n1);
    qsort(blocks, n1, sizeof blocks[0], cmp_ptr);
    qsort(blocks2, n2, sizeof blocks2[0], cmp_ptr);
    KT_EXPECT(n1 == n2 && memcmp(blocks, blocks2, n1 * sizeof blocks[0]) == 0);
    free_all(blocks2, n2, 0);
    KT_EXPECT_EQ(page_free_count(), nfree);
}

CASE(orders_aligned)
{
    KT_ASSERT(arena_new(16 << 20));
    add_ram(0, 16 << 20);
    add_reserved((5 << 20) + 300, 3 * PAGE_SIZE);
    init();
    size_t nfree = page_free_count();

    /* One block of every order at once: aligned, in RAM, pairwise disjoint. */
    void *one[PAGE_MAX_ORDER + 1];
    for (int o = PAGE_MAX_ORDER; o >= 0; o--) {
        one[o] = page_alloc((unsigned)o);
        KT_EXPECT(block_ok(one[o], (unsigned)o));
    }
    for (unsigned a = 0; a <= PAGE_MAX_ORDER; a++)
        for (unsigned b = a + 1; b <= PAGE_MAX_ORDER; b++)
            KT_EXPECT(!one[a] || !one[b] ||
                      !overlaps((uintptr_t)one[a], BLOCK_BYTES(a), (uintptr_t)one[b], BLOCK_BYTES(b)));
    KT_EXPECT_EQ(page_free_count(), nfree - ((2u << PAGE_MAX_ORDER) - 1));
    for (unsigned o = 0; o <= PAGE_MAX_ORDER; o++)
        if (one[o])
            page_free(one[o], o);
    KT_EXPECT_EQ(page_free_count(), nfree);

    /* Exhausting each order: every block aligned to its size and the count adds up. */
    for (unsigned o = 0; o <= PAGE_MAX_ORDER; o++) {
        size_t n = exhaust(o, blocks, MAX_BLOCKS), bad = 0;
        KT_EXPECT(n >= 1);
        for (size_t i = 0; i < n; i++)
            bad += !block_ok(blocks[i], o);
        KT_EXPECT_EQ(bad, 0);
        KT_EXPECT_EQ(page_free_count(), nfree - (n << o));
        free_all(blocks, n, o);
        KT_EXPECT_EQ(page_free_count(), nfree);
    }

    /* Orders beyond the largest are refused and change nothing. */
    KT_EXPECT(page_alloc(PAGE_MAX_ORDER + 1) == NULL);
    KT_EXPECT(page_alloc(PAGE_MAX_ORDER + 5) == NULL);
    KT_EXPECT(page_alloc(64) == NULL);
    KT_EXPECT(page_alloc(~0u) == NULL);
    KT_EXPECT(page_zalloc(PAGE_MAX_ORDER + 1) == NULL);
    KT_EXPECT_EQ(page_free_count(), nfree);
}

CASE(reserved_never_handed_out)
{
    const uint64_t MiB = 1 << 20;
    KT_ASSERT(arena_new(8 * MiB));
    add_ram(0, 8 * MiB);
    /* In the middle of the second 4 MiB block, unaligned at both ends: pages 1792..1797. */
    uint64_t rs = 7 * MiB + 100, rlen = 5 * PAGE_SIZE;
    add_reserved(rs, rlen);
    uint64_t page_lo = at(rs) / PAGE_SIZE * PAGE_SIZE;
    uint64_t page_hi = (at(rs + rlen) + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
    fill_canary(page_lo, page_hi - page_lo);
    init();
    size_t nfree = page_free_count();
    KT_EXPECT_EQ(nfree, expected_usable_pages() - expected_array_bytes() / PAGE_SIZE);

    /* A reservation inside the only otherwise whole 4 MiB block: none of that order is left. */
    KT_EXPECT_EQ(max_blocks_available(), 0);

    for (int o = PAGE_MAX_ORDER; o >= 0; o--) {
        size_t n = exhaust((unsigned)o, blocks, MAX_BLOCKS), bad = 0;
        int before = 0, after = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t a = (uintptr_t)blocks[i], len = BLOCK_BYTES(o);
            bad += overlaps(a, len, page_lo, page_hi - page_lo);
            bad += !block_ok(blocks[i], (unsigned)o);
            before |= a + len == page_lo;
            after |= a == page_hi;
            tag_block(blocks[i], (unsigned)o, ~(uint64_t)i);
        }
        KT_EXPECT_EQ(bad, 0);
        if (o == 0) {
            /* The pages right next to the reservation are handed out: nothing is over-reserved. */
            KT_EXPECT(before);
            KT_EXPECT(after);
            KT_EXPECT_EQ(n, nfree);
        }
        free_all(blocks, n, (unsigned)o);
        KT_EXPECT_EQ(page_free_count(), nfree);
    }
    KT_EXPECT(canary_intact(page_lo, page_hi - page_lo));
}

CASE(ram_gap)
{
    const uint64_t MiB = 1 << 20, P = PAGE_SIZE;
    KT_ASSERT(arena_new(12 * MiB));
    /* The gap [5 MiB + 3 pages, 6 MiB - 2 pages) sits inside the 4 MiB block at 4 MiB. */
    add_ram(0, 5 * MiB + 3 * P);
    add_ram(6 * MiB - 2 * P, 6 * MiB + 2 * P);
    uint64_t gap = at(5 * MiB + 3 * P), gap_len = MiB - 5 * P;
    fill_canary(gap, gap_len);
    init();
    size_t nfree = page_free_count();
    KT_EXPECT_EQ(nfree, expected_usable_pages() - expected_array_bytes() / PAGE_SIZE);

    for (unsigned o = 0; o <= PAGE_MAX_ORDER; o++) {
        size_t n = exhaust(o, blocks, MAX_BLOCKS), bad = 0;
        for (size_t i = 0; i < n; i++) {
            /* block_ok: wholly inside one RAM range, so it does not span the gap. */
            bad += !block_ok(blocks[i], o);
            bad += overlaps((uintptr_t)blocks[i], BLOCK_BYTES(o), gap, gap_len);
            tag_block(blocks[i], o, i);
        }
        KT_EXPECT_EQ(bad, 0);
        if (o == 0)
            KT_EXPECT_EQ(n, nfree);
        free_all(blocks, n, o);
        KT_EXPECT_EQ(page_free_count(), nfree);
    }
    /* Only the 4 MiB block at 8 MiB is whole; the ones at 0 and 4 MiB hold the array and the gap. */
    KT_EXPECT_EQ(max_blocks_available(), 1);
    KT_EXPECT(canary_intact(gap, gap_len));
}

CASE(zalloc_zeroes)
{
    KT_ASSERT(init_8mib());
    size_t nfree = page_free_count();
    for (unsigned o = 0; o <= 4; o++) {
        /* Dirty every free page first, so whatever page_zalloc returns was dirty. */
        size_t n = exhaust(0, blocks, MAX_BLOCKS);
        for (size_t i = 0; i < n; i++)
            memset(blocks[i], 0xa5, PAGE_SIZE);
        free_all(blocks, n, 0);

        uint8_t *z = page_zalloc(o);
        KT_ASSERT(z != NULL);
        KT_EXPECT(block_ok(z, o));
        size_t nonzero = 0;
        for (uint64_t i = 0; i < BLOCK_BYTES(o); i++)
            nonzero += z[i] != 0;
        KT_EXPECT_EQ(nonzero, 0);
        page_free(z, o);
    }
    KT_EXPECT_EQ(page_free_count(), nfree);
}

struct live_block {
    void *p;
    unsigned order;
    uint64_t tag;
};

CASE(random_stress)
{
    enum { OPS = 20000, LIVE_MAX = 600 };
    static struct live_block live[LIVE_MAX];
    const uint64_t MiB = 1 << 20;
    KT_ASSERT(arena_new(16 * MiB));
    add_ram(0, 16 * MiB);
    add_reserved(7 * MiB + 50, 10 * PAGE_SIZE);
    init();
    test_srand(0x5eed1234);
    size_t nfree = page_free_count(), big0 = max_blocks_available();
    size_t nlive = 0, live_pages = 0, bad_block = 0, overlap = 0, corrupt = 0, miscount = 0;
    size_t ok_by_order[PAGE_MAX_ORDER + 1] = { 0 };

    for (uint64_t op = 0; op < OPS; op++) {
        if (nlive == 0 || (nlive < LIVE_MAX && test_rand() % 100 < 55)) {
            unsigned r = test_rand() % 100, order;
            if (r < 60)
                order = r % 3;
            else if (r < 90)
                order = 3 + r % 4;
            else
                order = 7 + r % 4;
            void *p = page_alloc(order);
            if (!p)
                continue;
            ok_by_order[order]++;
            bad_block += !block_ok(p, order);
            for (size_t i = 0; i < nlive; i++)
                overlap += overlaps((uintptr_t)p, BLOCK_BYTES(order),
                                    (uintptr_t)live[i].p, BLOCK_BYTES(live[i].order));
            tag_block(p, order, op);
            live[nlive++] = (struct live_block){ p, order, op };
            live_pages += 1u << order;
        } else {
            size_t i = test_rand() % nlive;
            corrupt += !tag_intact(live[i].p, live[i].order, live[i].tag);
            page_free(live[i].p, live[i].order);
            live_pages -= 1u << live[i].order;
            live[i] = live[--nlive];
        }
        miscount += page_free_count() != nfree - live_pages;
    }
    while (nlive) {
        nlive--;
        corrupt += !tag_intact(live[nlive].p, live[nlive].order, live[nlive].tag);
        page_free(live[nlive].p, live[nlive].order);
    }
    KT_EXPECT_EQ(bad_block, 0);
    KT_EXPECT_EQ(overlap, 0);
    KT_EXPECT_EQ(corrupt, 0);
    KT_EXPECT_EQ(miscount, 0);
    for (unsigned o = 0; o <= PAGE_MAX_ORDER; o++)
        KT_EXPECT(ok_by_order[o] > 0);
    KT_EXPECT_EQ(page_free_count(), nfree);
    KT_EXPECT_EQ(max_blocks_available(), big0);
}

/* ---- panics ---- */

struct free_args {
    void *p;
    unsigned order;
};

static void call_page_free(void *arg)
{
    struct free_args *a = arg;
    page_free(a->p, a->order);
}

/* 1 if page_free(p, order) panics with a message containing `what`. */
static int free_panics(void *p, unsigned order, const char *what)
{
    struct free_args a = { p, order };
    return catch_panic(call_page_free, &a) && strstr(last_panic_message(), what) != NULL;
}

CASE(panic_double_free)
{
    KT_ASSERT(init_8mib());
    size_t nfree = page_free_count();

    void *p = page_alloc(0);
    KT_ASSERT(p != NULL);
    page_free(p, 0);
    KT_EXPECT(free_panics(p, 0, "double free"));

    /* Freed blocks that merged with their buddies, whichever half they were. */
    for (unsigned o = 0; o <= 3; o++) {
        size_t n = 16;
        for (size_t i = 0; i < n; i++)
            blocks[i] = page_alloc(o);
        free_all(blocks, n, o);
        size_t caught = 0;
        for (size_t i = 0; i < n; i++)
            caught += free_panics(blocks[i], o, "double free");
        KT_EXPECT_EQ(caught, n);
    }
    KT_EXPECT_EQ(page_free_count(), nfree);
}

CASE(panic_wrong_order)
{
    KT_ASSERT(init_8mib());
    size_t nfree = page_free_count();
    void *p = page_alloc(2);
    KT_ASSERT(p != NULL);
    KT_EXPECT(free_panics(p, 1, "order"));
    KT_EXPECT(free_panics(p, 3, "order"));
    KT_EXPECT(free_panics(p, 0, "order"));
    KT_EXPECT_EQ(page_free_count(), nfree - 4);
    /* The block is still intact and frees with the right order. */
    KT_EXPECT(catch_panic(call_page_free, &(struct free_args){ p, 2 }) == 0);
    KT_EXPECT_EQ(page_free_count(), nfree);
}

CASE(panic_middle_of_block)
{
    KT_ASSERT(init_8mib());
    size_t nfree = page_free_count();

    /* Churn first, so every page has been the head of some block before. */
    for (unsigned o = 0; o <= 3; o++) {
        size_t n = exhaust(o, blocks, MAX_BLOCKS);
        free_all(blocks, n, o);
    }
    size_t caught = 0, tried = 0;
    for (int round = 0; round < 64; round++) {
        uint8_t *b = page_alloc(3);
        KT_ASSERT(b != NULL);
        for (unsigned k = 1; k < 8; k++)
            for (unsigned o = 0; o <= 3; o++) {
                tried++;
                caught += free_panics(b + k * PAGE_SIZE, o, "page_free");
            }
        tried += 2;
        caught += free_panics(b + 100, 3, "not a page the allocator manages");
        caught += free_panics(b + PAGE_SIZE - 8, 0, "not a page the allocator manages");
        blocks[round] = b;
    }
    KT_EXPECT_EQ(caught, tried);
    free_all(blocks, 64, 3);
    KT_EXPECT_EQ(page_free_count(), nfree);
}

CASE(panic_unmanaged)
{
    const uint64_t MiB = 1 << 20;
    KT_ASSERT(arena_new(8 * MiB));
    add_ram(MiB, 6 * MiB);
    add_reserved(3 * MiB, 4 * PAGE_SIZE);
    init();
    size_t nfree = page_free_count();

    void *host = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
    KT_ASSERT(host != NULL);
    KT_EXPECT(free_panics(host, 0, "not a page the allocator manages"));
    free(host);
    /* Below and above RAM (inside the range the page array covers, or beyond it). */
    KT_EXPECT(free_panics((void *)(uintptr_t)at(MiB - PAGE_SIZE), 0, "page_free"));
    KT_EXPECT(free_panics((void *)(uintptr_t)at(7 * MiB), 0, "not a page the allocator manages"));
    /* A reserved page, the page array itself, and a free page nobody allocated. */
    KT_EXPECT(free_panics((void *)(uintptr_t)at(3 * MiB + PAGE_SIZE), 0, "not allocated"));
    void *array = (void *)(uintptr_t)plat.reserved[test_nreserved].base;
    KT_EXPECT(free_panics(array, 0, "not allocated"));
    KT_EXPECT(free_panics((void *)(uintptr_t)at(5 * MiB), 0, "not allocated"));
    KT_EXPECT(free_panics(NULL, 0, "not a page the allocator manages"));
    KT_EXPECT_EQ(page_free_count(), nfree);
}

static void call_init(void *arg)
{
    page_alloc_init(arg);
}

CASE(init_panics_without_room)
{
    const uint64_t MiB = 1 << 20, P = PAGE_SIZE;

    /* Every page reserved (two unaligned reservations that together cover RAM). */
    KT_ASSERT(arena_new(4 * MiB));
    add_ram(0, 64 * P);
    add_reserved(0, 30 * P + 5);
    add_reserved(30 * P + 5, 34 * P - 5);
    KT_EXPECT(catch_panic(call_init, &plat));
    KT_EXPECT(strstr(last_panic_message(), "no room") != NULL);

    /* Three pages just below a 4 MiB boundary: the array covers 1024 frames, 4 pages. */
    KT_ASSERT(arena_new(4 * MiB));
    add_ram(4 * MiB - 3 * P, 3 * P);
    KT_EXPECT(catch_panic(call_init, &plat));
    KT_EXPECT(strstr(last_panic_message(), "no room") != NULL);

    /* Plenty of RAM in all, but no run of it long enough for the array (15 pages). */
    KT_ASSERT(arena_new(16 * MiB));
    for (int i = 0; i < 15; i++)
        add_ram((uint64_t)i * 256 * P, 7 * P);
    KT_EXPECT(catch_panic(call_init, &plat));
    KT_EXPECT(strstr(last_panic_message(), "no room") != NULL);

    /* No RAM at all. */
    KT_ASSERT(arena_new(4 * MiB));
    KT_EXPECT(catch_panic(call_init, &plat));
    KT_EXPECT(strstr(last_panic_message(), "page_alloc_init") != NULL);

    /* Control: four pages just below the boundary are exactly enough (and leave none free). */
    KT_ASSERT(arena_new(4 * MiB));
    add_ram(4 * MiB - 4 * P, 4 * P);
    KT_EXPECT(catch_panic(call_init, &plat) == 0);
    KT_EXPECT_EQ(page_total_count(), 0);
    KT_EXPECT(page_alloc(0) == NULL);
}

/*
 * Descriptors of a 4 MiB block free since boot are cleared at its first use,
 * not at init. With RAM (and so the page array) full of bytes that read as
 * allocated heads, every middle page of a block is still refused; full of bytes
 * that read as free heads of order 1, every block still merges back to what
 * init counted.
 */
CASE(untouched_blocks_cleared_on_first_use)
{
    KT_ASSERT(arena_new(16 << 20));
    memset(arena, PAGE_ALLOCATED, arena_bytes);         /* state PAGE_ALLOCATED, order 2 */
    add_ram(0, 16 << 20);
    init();
    size_t caught = 0, tried = 0;
    for (int round = 0; round < 2; round++) {
        uint8_t *b = page_alloc(PAGE_MAX_ORDER);
        KT_ASSERT(b != NULL);
        for (unsigned k = 1; k < (1u << PAGE_MAX_ORDER); k += 97, tried++)
            caught += free_panics(b + k * PAGE_SIZE, 2, "not allocated");
        blocks[round] = b;
    }
    KT_EXPECT_EQ(caught, tried);

    KT_ASSERT(arena_new(16 << 20));
    memset(arena, PAGE_FREE, arena_bytes);              /* state PAGE_FREE, order 1 */
    add_ram(0, 16 << 20);
    init();
    size_t nfree = page_free_count();
    size_t big = max_blocks_available();
    KT_EXPECT(big >= 2);
    for (unsigned o = 0; o <= 3; o++) {         /* split everything, then merge it all back */
        size_t n = exhaust(o, blocks, MAX_BLOCKS);
        KT_EXPECT_EQ(n, nfree >> o);
        free_all(blocks, n, o);
        KT_EXPECT_EQ(page_free_count(), nfree);
    }
    KT_EXPECT_EQ(max_blocks_available(), big);
}

/* page_ref refuses to pass PAGE_REF_MAX (the count is 32 bits) and never wraps. */
CASE(ref_refuses_overflow)
{
    KT_ASSERT(init_8mib());
    size_t nfree = page_free_count();
    void *p = page_alloc(0);
    KT_ASSERT(p != NULL);
    KT_EXPECT_EQ(page_ref(p), 0);
    KT_EXPECT_EQ(page_refcount(p), 2);
    page_of(p)->refcount = PAGE_REF_MAX - 1;
    KT_EXPECT_EQ(page_ref(p), 0);
    KT_EXPECT_EQ(page_refcount(p), PAGE_REF_MAX);
    KT_EXPECT_EQ(page_ref(p), KS_ERR_NO_MEMORY);
    KT_EXPECT_EQ(page_refcount(p), PAGE_REF_MAX);   /* unchanged */
    page_of(p)->refcount = 1;
    page_unref(p);
    KT_EXPECT_EQ(page_free_count(), nfree);
}

static const struct ktest_case page_alloc_cases[] = {
    { "ref_refuses_overflow", ref_refuses_overflow },
    { "init_counts", init_counts },
    { "exhaust_and_merge", exhaust_and_merge },
    { "reuse", reuse },
    { "orders_aligned", orders_aligned },
    { "reserved_never_handed_out", reserved_never_handed_out },
    { "ram_gap", ram_gap },
    { "zalloc_zeroes", zalloc_zeroes },
    { "random_stress", random_stress },
    { "panic_double_free", panic_double_free },
    { "panic_wrong_order", panic_wrong_order },
    { "panic_middle_of_block", panic_middle_of_block },
    { "panic_unmanaged", panic_unmanaged },
    { "init_panics_without_room", init_panics_without_room },
    { "untouched_blocks_cleared_on_first_use", untouched_blocks_cleared_on_first_use },
};
KTEST_SUITE(page_alloc_suite, "page_alloc", page_alloc_cases);

int main(void)
{
    const struct ktest_suite *suites[] = { &page_alloc_suite };
    return ktest_run(suites, 1) ? 1 : 0;
}
