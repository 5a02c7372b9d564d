/*
 * tests/test_radix.c - host tests for the radix tree (kernel/radix.c).
 *
 * Nodes come from kzalloc, so each case gets a fresh page allocator and heap
 * over an aligned host buffer and can count nodes with heap_live_objects().
 * Random cases compare the tree with a sorted array of (index, value) pairs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kernel/heap.h"
#include "kernel/ktest.h"
#include "kernel/page_alloc.h"
#include "kernel/platform.h"
#include "kernel/radix.h"
#include "tests/host.h"

/* ---- heap fixture ---- */

static size_t heap_at_start;

/* host_ram_fresh, noting the heap's live objects for the leak check. */
static int heap_fresh(size_t pages)
{
    if (!host_ram_fresh(pages))
        return 0;
    heap_at_start = heap_live_objects();
    return 1;
}

struct body {
    void (*fn)(void);
};

static void call_body(void *arg)
{
    ((struct body *)arg)->fn();
}

static void run_case(void (*fn)(void))
{
    if (!heap_fresh(4096)) {
        ktest_fail(__FILE__, __LINE__, "no memory for the RAM buffer");
        return;
    }
    struct body b = { fn };
    if (catch_panic(call_body, &b))
        ktest_fail(__FILE__, __LINE__, "unexpected panic: %s", last_panic_message());
    host_ram_release();
}

#define CASE(name) \
    static void name##_body(void); \
    static void name(void) { run_case(name##_body); } \
    static void name##_body(void)

/* A distinct non-NULL pointer value for an index (never dereferenced). */
static void *val(uint64_t index, unsigned gen)
{
    return (void *)(uintptr_t)((index * 2654435761u) ^ ((uint64_t)gen << 56) ^ 0x1000);
}

static size_t nodes(void) { return heap_live_objects() - heap_at_start; }

/* Height a tree needs for indices up to max: smallest h >= 1 with max < 64^h. */
static unsigned height_for(uint64_t max)
{
    unsigned h = 1;
    while (h < 11 && (max >> (RADIX_BITS * h)) != 0)
        h++;
    return h;
}

/* ---- callback recording ---- */

struct visit {
    uint64_t *index;
    void **p;
    size_t n, cap;
    int arg_ok;
};

static const int cb_tag = 0;

static void record_cb(uint64_t index, void *p, void *arg)
{
    struct visit *v = arg;
    if (!v)
        return;
    if (v->n < v->cap) {
        v->index[v->n] = index;
        v->p[v->n] = p;
    }
    v->n++;
}

static void tagged_cb(uint64_t index, void *p, void *arg)
{
    (void)index;
    (void)p;
    if (arg != &cb_tag)
        ktest_fail(__FILE__, __LINE__, "callback got the wrong arg");
}

static void visit_init(struct visit *v, size_t cap)
{
    memset(v, 0, sizeof *v);
    v->cap = cap;
    v->index = malloc(cap * sizeof *v->index + 1);
    v->p = malloc(cap * sizeof *v->p + 1);
}

static void visit_free(struct visit *v)
{
    free(v->index);
    free(v->p);
}

/* ---- a sorted reference ---- */

struct ref {
    uint64_t *index;
    void **p;
    size_t n, cap;
};

static size_t ref_find(const struct ref *r, uint64_t index)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->index[mid] < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void *ref_get(const struct ref *r, uint64_t index)
{
    size_t i = ref_find(r, index);
    return i < r->n && r->index[i] == index ? r->p[i] : NULL;
}

static void ref_set(struct ref *r, uint64_t index, void *p)
{
    size_t i = ref_find(r, index);
    if (i < r->n && r->index[i] == index) {
        r->p[i] = p;
        return;
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->index = realloc(r->index, r->cap * sizeof *r->index);
        r->p = realloc(r->p, r->cap * sizeof *r->p);
    }
    memmove(r->index + i + 1, r->index + i, (r->n - i) * sizeof *r->index);
    memmove(r->p + i + 1, r->p + i, (r->n - i) * sizeof *r->p);
    r->index[i] = index;
    r->p[i] = p;
    r->n++;
}

static void ref_del(struct ref *r, uint64_t index)
{
    size_t i = ref_find(r, index);
    if (i < r->n && r->index[i] == index) {
        memmove(r->index + i, r->index + i + 1, (r->n - i - 1) * sizeof *r->index);
        memmove(r->p + i, r->p + i + 1, (r->n - i - 1) * sizeof *r->p);
        r->n--;
    }
}

static void ref_free(struct ref *r)
{
    free(r->index);
    free(r->p);
    memset(r, 0, sizeof *r);
}

/* Nodes a tree of height h holding exactly r's indices has (one per distinct prefix per level). */
static size_t ref_nodes(const struct ref *r, unsigned h)
{
    if (r->n == 0)
        return 0;
    size_t count = 0;
    for (unsigned level = 0; level < h; level++) {
        unsigned shift = RADIX_BITS * (level + 1);
        for (size_t i = 0; i < r->n; i++)
            count += i == 0 || (shift >= 64 ? 0 : (r->index[i] >> shift) != (r->index[i - 1] >> shift));
    }
    return count;
}

/* A random index: mostly small or clustered, sometimes anywhere below 2^60. */
static uint64_t rand_index(void)
{
    switch (test_rand() % 6) {
    case 0: return test_rand() % 64;
    case 1: return test_rand() % 4096;
    case 2: return test_rand() % (1u << 20);
    case 3: return (1ull << 30) + test_rand() % 300;
    case 4: return test_rand() & ((1ull << 40) - 1);
    default: return test_rand() & ((1ull << 60) - 1);
    }
}

/* Tree and reference agree on every stored index, and on neighbours and random misses. */
static unsigned mismatches(const struct radix *t, const struct ref *r)
{
    unsigned bad = 0;
    for (size_t i = 0; i < r->n; i++) {
        uint64_t x = r->index[i];
        bad += radix_lookup(t, x) != r->p[i];
        if (x > 0)
            bad += radix_lookup(t, x - 1) != ref_get(r, x - 1);
        if (x < UINT64_MAX)
            bad += radix_lookup(t, x + 1) != ref_get(r, x + 1);
    }
    for (unsigned i = 0; i < 2000; i++) {
        uint64_t x = rand_index();
        bad += radix_lookup(t, x) != ref_get(r, x);
    }
    return bad;
}

/* ---- cases ---- */

static const uint64_t edges[] = {
    0, 1, 62, 63, 64, 65, 4095, 4096, 4097, 262143, 262144, 1ull << 24, (1ull << 30) - 1, 1ull << 30,
    (1ull << 36) + 5, 1ull << 40, (1ull << 40) + 1, (1ull << 54) - 1, 1ull << 54, (1ull << 60) - 1,
};
#define NEDGES (sizeof edges / sizeof edges[0])

CASE(empty_tree)
{
    struct radix t;
    radix_init(&t, NULL);
    KT_EXPECT(radix_lookup(&t, 0) == NULL);
    KT_EXPECT(radix_lookup(&t, 12345) == NULL);
    KT_EXPECT(radix_lookup(&t, UINT64_MAX) == NULL);
    KT_EXPECT(radix_remove(&t, 0) == NULL);
    KT_EXPECT(radix_remove(&t, UINT64_MAX) == NULL);
    struct visit v;
    visit_init(&v, 4);
    radix_remove_from(&t, 0, record_cb, &v);
    KT_EXPECT_EQ(v.n, 0);
    visit_free(&v);
    KT_EXPECT_EQ(nodes(), 0);
}

/* Each edge index alone in a fresh tree: found there and nowhere else. */
CASE(single_index)
{
    unsigned bad = 0;
    for (unsigned i = 0; i < NEDGES; i++) {
        struct radix t;
        radix_init(&t, NULL);
        KT_ASSERT(radix_insert(&t, edges[i], val(edges[i], 0)) == 0);
        KT_EXPECT_EQ(t.height, height_for(edges[i]));
        KT_EXPECT(nodes() >= t.height);
        for (unsigned j = 0; j < NEDGES; j++)
            bad += radix_lookup(&t, edges[j]) != (i == j ? val(edges[i], 0) : NULL);
        KT_EXPECT(radix_remove(&t, edges[i]) == val(edges[i], 0));
        KT_EXPECT(radix_lookup(&t, edges[i]) == NULL);
        KT_EXPECT(radix_remove(&t, edges[i]) == NULL);
        radix_remove_from(&t, 0, record_cb, NULL);
        KT_EXPECT_EQ(nodes(), 0);
    }
    KT_EXPECT_EQ(bad, 0);
}

/*
 * A fresh tree holding one index costs one node per level on its path (the
 * header's "a small memobj costs one 512-byte node"), however the tree grew
 * to that height; growing while empty should not leave empty nodes behind.
 */
CASE(path_nodes_only)
{
    unsigned extra = 0;
    for (unsigned i = 0; i < NEDGES; i++) {
        struct radix t;
        radix_init(&t, NULL);
        KT_ASSERT(radix_insert(&t, edges[i], val(edges[i], 0)) == 0);
        if (nodes() != t.height && !extra)
            ktest_fail(__FILE__, __LINE__, "index 0x%lx alone: %zu nodes for height %u",
                       (unsigned long)edges[i], nodes(), t.height);
        extra += nodes() != t.height;
        radix_remove_from(&t, 0, record_cb, NULL);
    }
    KT_EXPECT_EQ(extra, 0);
    /* Growing a tree that holds something keeps the old root as slot 0: h nodes + 1 per new level. */
    struct radix t;
    radix_init(&t, NULL);
    KT_ASSERT(radix_insert(&t, 5, val(5, 0)) == 0);
    KT_ASSERT(radix_insert(&t, 4096, val(4096, 0)) == 0);
    KT_EXPECT_EQ(t.height, 3);
    KT_EXPECT_EQ(nodes(), 5);       /* root, two level-1 nodes, two leaves */
    radix_remove_from(&t, 0, record_cb, NULL);
}

/* All edge indices in one tree, inserted small-first and large-first. */
CASE(edge_indices)
{
    for (int order = 0; order < 2; order++) {
        struct radix t;
        radix_init(&t, NULL);
        for (unsigned k = 0; k < NEDGES; k++) {
            unsigned i = order ? NEDGES - 1 - k : k;
            KT_ASSERT(radix_insert(&t, edges[i], val(edges[i], 0)) == 0);
        }
        unsigned bad = 0;
        for (unsigned i = 0; i < NEDGES; i++)
            bad += radix_lookup(&t, edges[i]) != val(edges[i], 0);
        KT_EXPECT_EQ(bad, 0);
        /* Neighbours that were not inserted. */
        KT_EXPECT(radix_lookup(&t, 2) == NULL);
        KT_EXPECT(radix_lookup(&t, 128) == NULL);
        KT_EXPECT(radix_lookup(&t, 4098) == NULL);
        KT_EXPECT(radix_lookup(&t, (1ull << 30) + 1) == NULL);
        KT_EXPECT(radix_lookup(&t, (1ull << 40) + 2) == NULL);
        KT_EXPECT(radix_lookup(&t, (1ull << 60) - 2) == NULL);
        /* Remove every other one; the rest stay. */
        for (unsigned i = 0; i < NEDGES; i += 2)
            bad += radix_remove(&t, edges[i]) != val(edges[i], 0);
        for (unsigned i = 0; i < NEDGES; i++)
            bad += radix_lookup(&t, edges[i]) != (i % 2 ? val(edges[i], 0) : NULL);
        KT_EXPECT_EQ(bad, 0);
        radix_remove_from(&t, 0, record_cb, NULL);
        KT_EXPECT_EQ(nodes(), 0);
    }
}

/* Inserting at an occupied index replaces the pointer and allocates nothing. */
CASE(overwrite)
{
    struct radix t;
    radix_init(&t, NULL);
    KT_ASSERT(radix_insert(&t, 4096, val(4096, 0)) == 0);
    size_t n = nodes();
    KT_ASSERT(radix_insert(&t, 4096, val(4096, 1)) == 0);
    KT_EXPECT(radix_lookup(&t, 4096) == val(4096, 1));
    KT_EXPECT_EQ(nodes(), n);
    radix_remove_from(&t, 0, record_cb, NULL);
    KT_EXPECT_EQ(nodes(), 0);
}

/* A small tree says NULL for indices beyond its height, without growing. */
CASE(beyond_height)
{
    struct radix t;
    radix_init(&t, NULL);
    KT_ASSERT(radix_insert(&t, 5, val(5, 0)) == 0);
    KT_EXPECT_EQ(t.height, 1);
    size_t n = nodes();
    static const uint64_t far[] = { 64, 69, 4096 + 5, 1ull << 30, (1ull << 40) + 5, 1ull << 63,
                                    UINT64_MAX, UINT64_MAX - 58 };
    for (unsigned i = 0; i < sizeof far / sizeof far[0]; i++) {
        KT_EXPECT(radix_lookup(&t, far[i]) == NULL);
        KT_EXPECT(radix_remove(&t, far[i]) == NULL);
    }
    KT_EXPECT_EQ(t.height, 1);
    KT_EXPECT_EQ(nodes(), n);
    KT_EXPECT(radix_lookup(&t, 5) == val(5, 0));
    /* Height 2 now; a height-3 index is still beyond. */
    KT_ASSERT(radix_insert(&t, 100, val(100, 0)) == 0);
    KT_EXPECT_EQ(t.height, 2);
    KT_EXPECT(radix_lookup(&t, 4096 + 100) == NULL);
    KT_EXPECT(radix_lookup(&t, 4096 + 5) == NULL);
    KT_EXPECT(radix_lookup(&t, 5) == val(5, 0));
    radix_remove_from(&t, 0, record_cb, NULL);
    KT_EXPECT_EQ(nodes(), 0);
}

/* The whole 64-bit index range: indices that differ only above bit 59 are different. */
CASE(full_width_indices)
{
    static const uint64_t big[] = { 1ull << 60, (1ull << 60) + 1, 1ull << 62, 1ull << 63,
                                    (1ull << 63) + 7, UINT64_MAX - 1, UINT64_MAX };
    enum { NBIG = sizeof big / sizeof big[0] };
    unsigned bad = 0;
    for (unsigned i = 0; i < NBIG; i++) {
        struct radix t;
        radix_init(&t, NULL);
        KT_ASSERT(radix_insert(&t, big[i], val(big[i], 0)) == 0);
        bad += radix_lookup(&t, big[i]) != val(big[i], 0);
        bad += radix_lookup(&t, big[i] & ((1ull << 60) - 1)) != NULL;   /* the same low bits */
        bad += radix_lookup(&t, 0) != NULL;
        bad += radix_lookup(&t, 7) != NULL;
        if (bad)
            ktest_fail(__FILE__, __LINE__, "index 0x%lx alone in a tree is also found at 0x%lx",
                       (unsigned long)big[i], (unsigned long)(big[i] & ((1ull << 60) - 1)));
        radix_remove_from(&t, 0, record_cb, NULL);
        if (bad)
            break;
    }
    KT_EXPECT_EQ(bad, 0);

    /* All of them together, plus small ones with the same low bits. */
    struct radix t;
    radix_init(&t, NULL);
    for (unsigned i = 0; i < NBIG; i++) {
        KT_ASSERT(radix_insert(&t, big[i], val(big[i], 0)) == 0);
        KT_ASSERT(radix_insert(&t, big[i] & 0xffff, val(big[i] & 0xffff, 0)) == 0);
    }
    bad = 0;
    for (unsigned i = 0; i < NBIG; i++) {
        bad += radix_lookup(&t, big[i]) != val(big[i], 0);
        bad += radix_lookup(&t, big[i] & 0xffff) != val(big[i] & 0xffff, 0);
    }
    KT_EXPECT_EQ(bad, 0);
    struct visit v;
    visit_init(&v, 64);
    radix_remove_from(&t, 1ull << 60, record_cb, &v);
    KT_EXPECT_EQ(v.n, NBIG);
    for (unsigned i = 0; i < NBIG && i < v.n; i++)
        KT_EXPECT_EQ(v.index[i], big[i]);
    visit_free(&v);
    radix_remove_from(&t, 0, record_cb, NULL);
    KT_EXPECT_EQ(nodes(), 0);
}

/* Thousands of random inserts, overwrites and removes against the reference. */
CASE(random_vs_reference)
{
    test_srand(0x7ad1c5);
    for (unsigned round = 0; round < 4; round++) {
        struct radix t;
        struct ref r = { 0 };
        radix_init(&t, NULL);
        uint64_t max = 0;
        for (unsigned i = 0; i < 3000; i++) {
            uint64_t x = rand_index();
            void *p = val(x, i & 0xff);
            KT_ASSERT(radix_insert(&t, x, p) == 0);
            ref_set(&r, x, p);
            if (x > max)
                max = x;
        }
        KT_EXPECT_EQ(mismatches(&t, &r), 0);
        KT_EXPECT_EQ(t.height, height_for(max));
        KT_EXPECT_EQ(nodes(), ref_nodes(&r, t.height));
        /* Remove about half (and some that are not there). */
        unsigned wrong = 0;
        for (unsigned i = 0; i < 2000; i++) {
            uint64_t x = test_rand() % 2 && r.n ? r.index[test_rand() % r.n] : rand_index();
            void *want = ref_get(&r, x);
            wrong += radix_remove(&t, x) != want;
            ref_del(&r, x);
        }
        KT_EXPECT_EQ(wrong, 0);
        KT_EXPECT_EQ(mismatches(&t, &r), 0);
        /* Everything left comes back from remove_from(0), in order. */
        struct visit v;
        visit_init(&v, r.n + 1);
        radix_remove_from(&t, 0, record_cb, &v);
        KT_EXPECT_EQ(v.n, r.n);
        unsigned off = 0;
        for (size_t i = 0; i < r.n && i < v.n; i++)
            off += v.index[i] != r.index[i] || v.p[i] != r.p[i];
        KT_EXPECT_EQ(off, 0);
        KT_EXPECT_EQ(nodes(), 0);
        KT_EXPECT(t.root == NULL);
        KT_EXPECT_EQ(t.height, 0);
        visit_free(&v);
        ref_free(&r);
    }
}

/*
 * remove_from(first) for many `first`: the callback sees exactly the indices
 * >= first, increasing, each already removed; smaller ones stay; nodes left
 * are exactly those the survivors need.
 */
static struct radix *cb_tree;
static unsigned cb_still_there;

static void check_removed_cb(uint64_t index, void *p, void *arg)
{
    cb_still_there += radix_lookup(cb_tree, index) != NULL;
    record_cb(index, p, arg);
}

CASE(remove_from_suffix)
{
    test_srand(0xf1257);
    struct ref base = { 0 };
    for (unsigned i = 0; i < NEDGES; i++)
        ref_set(&base, edges[i], val(edges[i], 0));
    for (unsigned i = 0; i < 600; i++) {
        uint64_t x = rand_index();
        ref_set(&base, x, val(x, 0));
    }
    uint64_t firsts[40 + NEDGES];
    unsigned nf = 0;
    static const uint64_t fixed[] = { 1, 63, 64, 65, 4096, 1ull << 30, (1ull << 60) - 1, 1ull << 60,
                                      UINT64_MAX };
    for (unsigned i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        firsts[nf++] = fixed[i];
    for (unsigned i = 0; i < NEDGES; i++)
        firsts[nf++] = edges[i] + 1;
    while (nf < sizeof firsts / sizeof firsts[0])
        firsts[nf++] = rand_index();

    unsigned wrong_calls = 0, wrong_left = 0, wrong_nodes = 0;
    for (unsigned f = 0; f < nf; f++) {
        uint64_t first = firsts[f];
        struct radix t;
        radix_init(&t, NULL);
        for (size_t i = 0; i < base.n; i++)
            KT_ASSERT(radix_insert(&t, base.index[i], base.p[i]) == 0);
        unsigned h = t.height;
        struct visit v;
        visit_init(&v, base.n + 1);
        cb_tree = &t;
        cb_still_there = 0;
        radix_remove_from(&t, first, check_removed_cb, &v);
        size_t k = ref_find(&base, first);      /* the first index >= first */
        wrong_calls += v.n != base.n - k || cb_still_there != 0;
        for (size_t i = 0; i < v.n && k + i < base.n; i++)
            wrong_calls += v.index[i] != base.index[k + i] || v.p[i] != base.p[k + i];
        for (size_t i = 0; i < base.n; i++)
            wrong_left += radix_lookup(&t, base.index[i]) != (i < k ? base.p[i] : NULL);
        struct ref left = { base.index, base.p, k, k };
        wrong_nodes += nodes() != ref_nodes(&left, h);
        if (ktest_failed() || wrong_calls || wrong_left || wrong_nodes) {
            ktest_fail(__FILE__, __LINE__, "remove_from(0x%lx): %u bad calls, %u bad lookups, %zu nodes for %zu",
                       (unsigned long)first, wrong_calls, wrong_left, nodes(), ref_nodes(&left, h));
            f = nf;
        }
        /* The tree still works: insert beyond first again, then empty it. */
        if (first < (1ull << 60)) {
            KT_EXPECT(radix_insert(&t, first, val(first, 9)) == 0);
            KT_EXPECT(radix_lookup(&t, first) == val(first, 9));
        }
        radix_remove_from(&t, 0, record_cb, NULL);
        KT_EXPECT_EQ(nodes(), 0);
        visit_free(&v);
    }
    KT_EXPECT_EQ(wrong_calls, 0);
    KT_EXPECT_EQ(wrong_left, 0);
    KT_EXPECT_EQ(wrong_nodes, 0);
    ref_free(&base);
}

/* The callback may free what it is given, and gets arg unchanged. */
static void free_cb(uint64_t index, void *p, void *arg)
{
    (void)index;
    ++*(unsigned *)arg;
    free(p);
}

CASE(remove_from_zero_frees_all)
{
    struct radix t;
    radix_init(&t, NULL);
    unsigned freed = 0, stored = 0;
    for (uint64_t x = 0; x < 5000; x += 7) {
        KT_ASSERT(radix_insert(&t, x * 977, malloc(8)) == 0);
        stored++;
    }
    KT_ASSERT(radix_insert(&t, 1ull << 40, malloc(8)) == 0);
    stored++;
    /* Removed one by one: their nodes stay until remove_from. */
    for (uint64_t x = 0; x < 5000; x += 21) {
        free(radix_remove(&t, x * 977));
        stored--;
    }
    KT_EXPECT(nodes() > 0);
    radix_remove_from(&t, 0, free_cb, &freed);
    KT_EXPECT_EQ(freed, stored);
    KT_EXPECT_EQ(nodes(), 0);
    KT_EXPECT(t.root == NULL);
    KT_EXPECT_EQ(t.height, 0);
    KT_EXPECT(radix_lookup(&t, 0) == NULL);
    /* Usable again. */
    KT_ASSERT(radix_insert(&t, 70, val(70, 0)) == 0);
    KT_EXPECT(radix_lookup(&t, 70) == val(70, 0));
    KT_EXPECT_EQ(t.height, 2);
    radix_remove_from(&t, 0, tagged_cb, (void *)&cb_tag);
    KT_EXPECT_EQ(nodes(), 0);
    /* A tree whose entries were all removed one by one still frees its nodes. */
    KT_ASSERT(radix_insert(&t, 1ull << 35, val(1, 0)) == 0);
    KT_EXPECT(radix_remove(&t, 1ull << 35) == val(1, 0));
    KT_EXPECT(nodes() > 0);
    unsigned calls = 0;
    radix_remove_from(&t, 0, free_cb, &calls);
    KT_EXPECT_EQ(calls, 0);
    KT_EXPECT_EQ(nodes(), 0);
}

/* Out of memory: insert says -1, the tree keeps what it had, and works once memory is back. */
CASE(insert_no_memory)
{
    KT_ASSERT(heap_fresh(32));
    struct radix t;
    radix_init(&t, NULL);
    for (uint64_t x = 0; x < 100; x++)
        KT_ASSERT(radix_insert(&t, x, val(x, 0)) == 0);
    enum { MAXF = 4096 };
    static void *fill[MAXF];
    unsigned n = 0;
    while (n < MAXF && (fill[n] = kmalloc(sizeof(void *) * RADIX_FANOUT)) != NULL)
        n++;
    KT_ASSERT(n < MAXF);
    KT_EXPECT_EQ(radix_insert(&t, 1ull << 40, val(1, 0)), -1);
    KT_EXPECT_EQ(radix_insert(&t, 5000, val(2, 0)), -1);
    /* Slots in existing nodes need no memory. */
    KT_EXPECT_EQ(radix_insert(&t, 101, val(101, 0)), 0);
    unsigned bad = 0;
    for (uint64_t x = 0; x < 102; x++)
        bad += radix_lookup(&t, x) != (x == 100 ? NULL : val(x, 0));
    KT_EXPECT_EQ(bad, 0);
    KT_EXPECT(radix_lookup(&t, 1ull << 40) == NULL);
    KT_EXPECT(radix_lookup(&t, 5000) == NULL);
    for (unsigned i = 0; i < n; i++)
        kfree(fill[i]);
    KT_EXPECT_EQ(radix_insert(&t, 1ull << 40, val(1, 0)), 0);
    KT_EXPECT(radix_lookup(&t, 1ull << 40) == val(1, 0));
    KT_EXPECT(radix_lookup(&t, 99) == val(99, 0));
    radix_remove_from(&t, 0, record_cb, NULL);
    KT_EXPECT_EQ(nodes(), 0);
}

static const struct ktest_case radix_cases[] = {
    { "empty_tree", empty_tree },
    { "single_index", single_index },
    { "path_nodes_only", path_nodes_only },
    { "edge_indices", edge_indices },
    { "overwrite", overwrite },
    { "beyond_height", beyond_height },
    { "full_width_indices", full_width_indices },
    { "random_vs_reference", random_vs_reference },
    { "remove_from_suffix", remove_from_suffix },
    { "remove_from_zero_frees_all", remove_from_zero_frees_all },
    { "insert_no_memory", insert_no_memory },
};

KTEST_SUITE(radix_suite, "radix", radix_cases);

int main(void)
{
    alarm(60);      /* a hang fails the run instead of stalling it */
    const struct ktest_suite *suites[] = { &radix_suite };
    return ktest_run(suites, 1) ? 1 : 0;
}
