/*
 * tests/test_account.c - host tests for resource accounts (kernel/account.c).
 *
 * Each case gives the page allocator a fresh 4 MiB-aligned host buffer as RAM
 * (identity "direct map" on the fake arch) and resets the heap, as
 * tests/test_heap.c does. The account table itself is static in account.c and
 * is not reset between cases, so every case must put back every account it
 * made: the leak checks at its end say so, and the cleanup fails a case that
 * leaves accounts behind (which would otherwise point into a freed arena).
 * Counts of accounts are taken relative to the count at the case's start.
 *
 * Limits are set by writing a->limit[kind], as KS_SYS_PROCESS_LIMIT does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <kestrel/errors.h>
#include "kernel/account.h"
#include "kernel/heap.h"
#include "kernel/ktest.h"
#include "kernel/page_alloc.h"
#include "kernel/platform.h"
#include "tests/host.h"

#define MAX_BLOCK ((size_t)PAGE_SIZE << PAGE_MAX_ORDER)
#define MEM ACCOUNT_MEMORY
#define THR ACCOUNT_THREADS
#define PROC ACCOUNT_PROCESSES

static uint32_t accounts0;      /* account_count() when the case started */
static size_t live0, free0;     /* heap objects and free pages when the case started */

/* RAM of `pages` pages (host_ram_fresh); start values for the leak checks. */
static int setup(size_t pages)
{
    if (!host_ram_fresh(pages))
        return 0;
    accounts0 = account_count();
    live0 = heap_live_objects();
    free0 = page_free_count();
    return 1;
}

/* After every case, pass or fail: no account may outlive it (see the top of the file). */
static void case_cleanup(void)
{
    if (account_count() != accounts0) {
        ktest_fail(__FILE__, __LINE__, "%u accounts left behind by the case",
                   account_count() - accounts0);
        accounts0 = account_count();
    }
    host_ram_release();
}

#define CASE(name) GUARDED_CASE(name, case_cleanup)

/* Accounts, heap objects and free pages all back where the case started. */
#define EXPECT_NO_LEAKS() \
    do { \
        KT_EXPECT_EQ(account_count(), accounts0); \
        KT_EXPECT_EQ(heap_live_objects(), live0); \
        KT_EXPECT_EQ(page_free_count(), free0); \
    } while (0)

static const char *const kind_name[] = { "memory", "threads", "processes" };

/* used[kind] of each of lv[0..n) is want[0..n); else fail, naming the account and `what`. */
static int check_used(struct account *const *lv, int n, enum account_kind kind, const uint64_t *want,
                      const char *what, int line)
{
    int ok = 1;
    for (int i = 0; i < n; i++)
        if (lv[i]->used[kind] != want[i]) {
            ktest_fail(__FILE__, line, "%s: %s used at level %d is %lu, expected %lu", what,
                       kind_name[kind], i, (unsigned long)lv[i]->used[kind], (unsigned long)want[i]);
            ok = 0;
        }
    return ok;
}

static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

/* ---- creation and charging ---- */

/* account_is_below: descendants only (not itself, an ancestor, a sibling or NULL). */
CASE(is_below)
{
    KT_ASSERT(setup(256));
    struct account *r = account_create(NULL), *c = account_create(r), *s = account_create(r);
    struct account *g = account_create(c);
    KT_ASSERT(r && c && s && g);
    KT_EXPECT(account_is_below(c, r));
    KT_EXPECT(account_is_below(g, r));
    KT_EXPECT(account_is_below(g, c));
    KT_EXPECT(!account_is_below(r, r));
    KT_EXPECT(!account_is_below(r, c));
    KT_EXPECT(!account_is_below(s, c));
    KT_EXPECT(!account_is_below(g, s));
    KT_EXPECT(!account_is_below(NULL, r));
    KT_EXPECT(!account_is_below(r, NULL));
    account_put(g);
    account_put(s);
    account_put(c);
    account_put(r);
    EXPECT_NO_LEAKS();
}

CASE(create_fresh)
{
    KT_ASSERT(setup(256));
    struct account *r = account_create(NULL);
    KT_ASSERT(r != NULL);
    KT_EXPECT_EQ(account_count(), accounts0 + 1);
    KT_EXPECT(r->parent == NULL);
    KT_EXPECT_EQ(r->refs, 1);
    KT_EXPECT(r->id >= 1 && r->id < ACCOUNT_MAX);
    for (int k = 0; k < ACCOUNT_KINDS; k++) {
        KT_EXPECT_EQ(r->used[k], 0);
        KT_EXPECT_EQ(r->limit[k], ACCOUNT_UNLIMITED);
    }
    KT_EXPECT_EQ(heap_live_objects(), live0 + 1);       /* the account is a heap object */

    struct account *c = account_create(r);
    KT_ASSERT(c != NULL);
    KT_EXPECT(c->parent == r);
    KT_EXPECT(c->id != r->id);
    KT_EXPECT_EQ(c->refs, 1);
    KT_EXPECT_EQ(r->refs, 2);
    KT_EXPECT_EQ(account_count(), accounts0 + 2);
    account_put(c);
    KT_EXPECT_EQ(r->refs, 1);
    KT_EXPECT_EQ(account_count(), accounts0 + 1);
    account_put(r);
    EXPECT_NO_LEAKS();
}

CASE(charge_counts_at_every_level)
{
    KT_ASSERT(setup(256));
    struct account *r = account_create(NULL), *c = account_create(r), *g = account_create(c);
    struct account *other = account_create(r);      /* a sibling of c: never charged */
    KT_ASSERT(r && c && g && other);
    struct account *lv[4] = { g, c, r, other };

    for (int k = 0; k < ACCOUNT_KINDS; k++) {
        uint64_t base = 1000 * (uint64_t)(k + 1);
        KT_EXPECT_EQ(account_charge(g, k, base), 0);
        check_used(lv, 4, k, (const uint64_t[]){ base, base, base, 0 }, "charge g", __LINE__);
        KT_EXPECT_EQ(account_charge(c, k, 7), 0);
        check_used(lv, 4, k, (const uint64_t[]){ base, base + 7, base + 7, 0 }, "charge c", __LINE__);
        KT_EXPECT_EQ(account_charge(r, k, 3), 0);
        check_used(lv, 4, k, (const uint64_t[]){ base, base + 7, base + 10, 0 }, "charge r", __LINE__);
        KT_EXPECT_EQ(account_charge(other, k, 5), 0);
        check_used(lv, 4, k, (const uint64_t[]){ base, base + 7, base + 15, 5 }, "charge other", __LINE__);
    }
    /* Kinds are counted apart. */
    KT_EXPECT_EQ(g->used[MEM], 1000);
    KT_EXPECT_EQ(g->used[THR], 2000);
    KT_EXPECT_EQ(g->used[PROC], 3000);

    /* Uncharging takes back from every level, in any order. */
    for (int k = 0; k < ACCOUNT_KINDS; k++) {
        uint64_t base = 1000 * (uint64_t)(k + 1);
        account_uncharge(r, k, 3);
        account_uncharge(g, k, base - 1);
        check_used(lv, 4, k, (const uint64_t[]){ 1, 8, 13, 5 }, "partial uncharge", __LINE__);
        account_uncharge(other, k, 5);
        account_uncharge(c, k, 7);
        account_uncharge(g, k, 1);
        check_used(lv, 4, k, (const uint64_t[]){ 0, 0, 0, 0 }, "full uncharge", __LINE__);
    }
    /* Still there: each holds its process's reference. */
    KT_EXPECT_EQ(account_count(), accounts0 + 4);
    account_put(g);
    account_put(other);
    account_put(c);
    account_put(r);
    EXPECT_NO_LEAKS();
}

/*
 * For each kind, and with the limit at the grandchild, the child or the root:
 * the charge that fits exactly succeeds, one more fails with the kind's error,
 * and a failed charge leaves every level as it was.
 */
CASE(over_limit_rolls_back)
{
    KT_ASSERT(setup(256));
    for (int k = 0; k < ACCOUNT_KINDS; k++) {
        int want = k == MEM ? KS_ERR_NO_MEMORY : KS_ERR_LIMIT;
        for (int level = 0; level < 3; level++) {
            struct account *r = account_create(NULL), *c = account_create(r), *g = account_create(c);
            KT_ASSERT(r && c && g);
            struct account *lv[3] = { g, c, r };
            KT_EXPECT_EQ(account_charge(r, k, 10), 0);
            KT_EXPECT_EQ(account_charge(c, k, 20), 0);
            KT_EXPECT_EQ(account_charge(g, k, 30), 0);
            uint64_t used[3] = { 30, 50, 60 };
            check_used(lv, 3, k, used, "set-up", __LINE__);
            lv[level]->limit[k] = used[level] + 5;      /* room for 5 more at that level only */

            KT_EXPECT_EQ(account_charge(g, k, 6), want);
            check_used(lv, 3, k, used, "failed charge of 6", __LINE__);
            KT_EXPECT_EQ(account_charge(g, k, ACCOUNT_CHARGE_MAX), want);
            check_used(lv, 3, k, used, "failed charge of ACCOUNT_CHARGE_MAX", __LINE__);
            for (int other = 0; other < ACCOUNT_KINDS; other++)
                if (other != k)
                    KT_EXPECT_EQ(g->used[other], 0);

            /* Exactly up to the limit fits. */
            KT_EXPECT_EQ(account_charge(g, k, 5), 0);
            for (int i = 0; i < 3; i++)
                used[i] += 5;
            check_used(lv, 3, k, used, "charge up to the limit", __LINE__);
            KT_EXPECT_EQ(account_charge(g, k, 1), want);
            check_used(lv, 3, k, used, "failed charge of 1 at the limit", __LINE__);

            /* A charge lower down than the limited level does not count there. */
            if (level == 0) {
                KT_EXPECT_EQ(account_charge(c, k, 100), 0);
                account_uncharge(c, k, 100);
            } else {
                KT_EXPECT_EQ(account_charge(lv[level], k, 1), want);
            }
            check_used(lv, 3, k, used, "after the charge beside the limit", __LINE__);

            account_uncharge(g, k, 35);
            account_uncharge(c, k, 20);
            account_uncharge(r, k, 10);
            check_used(lv, 3, k, (const uint64_t[]){ 0, 0, 0 }, "uncharged", __LINE__);
            account_put(g);
            account_put(c);
            account_put(r);
        }
    }
    EXPECT_NO_LEAKS();
}

/* The largest charges allowed, up to a limit near them: counted exactly, refused past it. */
CASE(unlimited_does_not_wrap)
{
    /* The largest charges the contract allows (ACCOUNT_CHARGE_MAX each), against a limit near it. */
    const uint64_t big = ACCOUNT_CHARGE_MAX;
    KT_ASSERT(setup(256));
    struct account *r = account_create(NULL), *c = account_create(r);
    KT_ASSERT(r && c);
    r->limit[MEM] = 3 * big + 100;
    KT_EXPECT_EQ(account_charge(r, MEM, 100), 0);
    KT_EXPECT_EQ(account_charge(c, MEM, big), 0);
    KT_EXPECT_EQ(account_charge(c, MEM, big), 0);
    KT_EXPECT_EQ(account_charge(c, MEM, big), 0);                  /* exactly fills the root */
    KT_EXPECT_EQ(r->used[MEM], 3 * big + 100);
    KT_EXPECT_EQ(c->used[MEM], 3 * big);
    KT_EXPECT_EQ(account_charge(c, MEM, 1), KS_ERR_NO_MEMORY);
    KT_EXPECT_EQ(account_charge(c, MEM, big), KS_ERR_NO_MEMORY);
    KT_EXPECT_EQ(r->used[MEM], 3 * big + 100);
    KT_EXPECT_EQ(c->used[MEM], 3 * big);
    c->limit[THR] = big;
    KT_EXPECT_EQ(account_charge(c, THR, big), 0);                  /* an empty kind takes it all */
    KT_EXPECT_EQ(account_charge(c, THR, 1), KS_ERR_LIMIT);
    KT_EXPECT_EQ(c->used[THR], big);
    KT_EXPECT_EQ(account_charge(r, THR, big), 0);                  /* the root's own limit is apart */
    account_uncharge(r, THR, big);
    account_uncharge(c, THR, big);
    account_uncharge(c, MEM, 3 * big);
    account_uncharge(r, MEM, 100);
    KT_EXPECT_EQ(r->used[MEM], 0);
    KT_EXPECT_EQ(r->used[THR], 0);
    account_put(c);
    account_put(r);
    EXPECT_NO_LEAKS();
}

/* A limit lowered below what is already used refuses every further charge; uncharging still works. */
CASE(limit_below_usage)
{
    KT_ASSERT(setup(256));
    for (int k = 0; k < ACCOUNT_KINDS; k++) {
        int want = k == MEM ? KS_ERR_NO_MEMORY : KS_ERR_LIMIT;
        struct account *r = account_create(NULL), *c = account_create(r);
        KT_ASSERT(r && c);
        struct account *lv[2] = { c, r };
        KT_EXPECT_EQ(account_charge(c, k, 1000), 0);

        /* At the account itself: limit - used would wrap to a huge number. */
        c->limit[k] = 500;
        KT_EXPECT_EQ(account_charge(c, k, 1), want);
        KT_EXPECT_EQ(account_charge(c, k, 1000), want);
        check_used(lv, 2, k, (const uint64_t[]){ 1000, 1000 }, "own limit below usage", __LINE__);
        account_uncharge(c, k, 600);
        check_used(lv, 2, k, (const uint64_t[]){ 400, 400 }, "uncharge over the limit", __LINE__);
        KT_EXPECT_EQ(account_charge(c, k, 101), want);
        KT_EXPECT_EQ(account_charge(c, k, 100), 0);
        KT_EXPECT_EQ(account_charge(c, k, 1), want);
        check_used(lv, 2, k, (const uint64_t[]){ 500, 500 }, "back at the limit", __LINE__);
        c->limit[k] = ACCOUNT_UNLIMITED;

        /* At the parent. */
        KT_EXPECT_EQ(account_charge(r, k, 300), 0);
        r->limit[k] = 100;
        KT_EXPECT_EQ(account_charge(c, k, 1), want);
        KT_EXPECT_EQ(account_charge(r, k, 1), want);
        check_used(lv, 2, k, (const uint64_t[]){ 500, 800 }, "parent's limit below usage", __LINE__);
        account_uncharge(c, k, 500);
        account_uncharge(r, k, 250);
        check_used(lv, 2, k, (const uint64_t[]){ 0, 50 }, "uncharge under a lowered parent", __LINE__);
        KT_EXPECT_EQ(account_charge(c, k, 50), 0);
        KT_EXPECT_EQ(account_charge(c, k, 1), want);
        check_used(lv, 2, k, (const uint64_t[]){ 50, 100 }, "up to the parent's limit", __LINE__);
        account_uncharge(c, k, 50);
        account_uncharge(r, k, 50);

        /* A zero limit refuses everything. */
        c->limit[k] = 0;
        KT_EXPECT_EQ(account_charge(c, k, 1), want);
        check_used(lv, 2, k, (const uint64_t[]){ 0, 0 }, "zero limit", __LINE__);
        account_put(c);
        account_put(r);
    }
    EXPECT_NO_LEAKS();
}

/* The kernel's own account (NULL) charges nothing and never fails. */
CASE(null_account)
{
    KT_ASSERT(setup(256));
    for (int k = 0; k < ACCOUNT_KINDS; k++) {
        KT_EXPECT_EQ(account_charge(NULL, k, UINT64_MAX), 0);
        KT_EXPECT_EQ(account_charge(NULL, k, UINT64_MAX), 0);
        account_uncharge(NULL, k, UINT64_MAX);
    }
    account_put(NULL);
    KT_EXPECT_EQ(account_count(), accounts0);

    void *p = account_kzalloc(NULL, 100);
    KT_ASSERT(p != NULL);
    KT_EXPECT_EQ(heap_live_objects(), live0 + 1);
    account_kfree(NULL, p);
    account_kfree(NULL, NULL);

    void *pg = account_page_alloc(NULL, 2, 1);
    KT_ASSERT(pg != NULL);
    KT_EXPECT_EQ(page_of(pg)->owner, 0);
    KT_EXPECT(all_zero(pg, 4 * PAGE_SIZE));
    KT_EXPECT_EQ(page_free_count(), free0 - 4);
    page_free(pg, 2);
    KT_EXPECT_EQ(account_count(), accounts0);
    EXPECT_NO_LEAKS();
}

/* ---- pages ---- */

CASE(page_alloc_charges_owner)
{
    KT_ASSERT(setup(256));
    struct account *r = account_create(NULL), *a = account_create(r), *b = account_create(r);
    KT_ASSERT(r && a && b);
    for (unsigned order = 0; order <= 4; order++) {
        uint64_t bytes = (uint64_t)PAGE_SIZE << order;
        /* Dirty a block of that order first, so that `zero` is seen to work. */
        void *d = page_alloc(order);
        KT_ASSERT(d != NULL);
        memset(d, 0xa5, bytes);
        page_free(d, order);

        size_t nfree = page_free_count();
        void *p = account_page_alloc(a, order, 1);
        KT_ASSERT(p != NULL);
        KT_EXPECT_EQ((uintptr_t)p % bytes, 0);
        KT_EXPECT_EQ(page_free_count(), nfree - (1u << order));
        KT_EXPECT_EQ(page_of(p)->owner, a->id);
        KT_EXPECT_EQ(page_of(p)->state, PAGE_ALLOCATED);
        KT_EXPECT_EQ(page_of(p)->order, order);
        KT_EXPECT_EQ(page_refcount(p), 1);
        KT_EXPECT(all_zero(p, bytes));
        KT_EXPECT_EQ(a->used[MEM], bytes);
        KT_EXPECT_EQ(r->used[MEM], bytes);
        KT_EXPECT_EQ(b->used[MEM], 0);
        KT_EXPECT_EQ(a->used[THR] + a->used[PROC], 0);

        /* Extra references keep the charge; the last unref gives it back. */
        KT_EXPECT_EQ(page_ref(p), 0);
        KT_EXPECT_EQ(page_ref(p), 0);
        page_unref(p);
        page_unref(p);
        KT_EXPECT_EQ(a->used[MEM], bytes);
        KT_EXPECT_EQ(page_free_count(), nfree - (1u << order));
        page_unref(p);
        KT_EXPECT_EQ(a->used[MEM], 0);
        KT_EXPECT_EQ(r->used[MEM], 0);
        KT_EXPECT_EQ(page_free_count(), nfree);

        /* page_free directly, unzeroed, charged to the other child. */
        p = account_page_alloc(b, order, 0);
        KT_ASSERT(p != NULL);
        KT_EXPECT_EQ(page_of(p)->owner, b->id);
        KT_EXPECT_EQ(b->used[MEM], bytes);
        KT_EXPECT_EQ(r->used[MEM], bytes);
        KT_EXPECT_EQ(a->used[MEM], 0);
        page_free(p, order);
        KT_EXPECT_EQ(b->used[MEM], 0);
        KT_EXPECT_EQ(r->used[MEM], 0);
        KT_EXPECT_EQ(page_free_count(), nfree);
    }

    /* Several at once, freed in another order. */
    void *p[5];
    uint64_t total = 0;
    for (unsigned o = 0; o < 5; o++) {
        p[o] = account_page_alloc(a, o, 0);
        KT_ASSERT(p[o] != NULL);
        total += (uint64_t)PAGE_SIZE << o;
    }
    KT_EXPECT_EQ(a->used[MEM], total);
    for (unsigned o = 0; o < 5; o += 2) {
        page_free(p[o], o);
        total -= (uint64_t)PAGE_SIZE << o;
    }
    KT_EXPECT_EQ(a->used[MEM], total);
    KT_EXPECT_EQ(r->used[MEM], total);
    page_unref(p[3]);
    page_unref(p[1]);
    KT_EXPECT_EQ(a->used[MEM], 0);
    KT_EXPECT_EQ(r->used[MEM], 0);

    account_put(a);
    account_put(b);
    account_put(r);
    EXPECT_NO_LEAKS();
}

/* A page from plain page_alloc has no owner, and freeing it touches no account. */
CASE(plain_page_has_no_owner)
{
    KT_ASSERT(setup(256));
    struct account *a = account_create(NULL);
    KT_ASSERT(a != NULL);
    KT_EXPECT_EQ(account_charge(a, MEM, 12345), 0);
    /* Reuse a block an account owned: the owner must not stick to it. */
    void *q = account_page_alloc(a, 0, 0);
    KT_ASSERT(q != NULL);
    page_free(q, 0);
    KT_EXPECT_EQ(a->used[MEM], 12345);
    for (unsigned order = 0; order <= 3; order++) {
        void *p = order ? page_alloc(order) : page_zalloc(order);
        KT_ASSERT(p != NULL);
        KT_EXPECT_EQ(page_of(p)->owner, 0);
        KT_EXPECT_EQ(a->used[MEM], 12345);
        KT_EXPECT_EQ(page_ref(p), 0);
        page_unref(p);
        page_unref(p);
        KT_EXPECT_EQ(a->used[MEM], 12345);
    }
    /* Nor do heap objects, small or page-sized. */
    void *s = kmalloc(100), *l = kmalloc(3 * PAGE_SIZE);
    KT_ASSERT(s && l);
    KT_EXPECT_EQ(page_of(l)->owner, 0);
    kfree(s);
    kfree(l);
    KT_EXPECT_EQ(a->used[MEM], 12345);
    account_uncharge(a, MEM, 12345);
    account_put(a);
    EXPECT_NO_LEAKS();
}

/* Over a limit at any level: NULL, no page taken, nothing charged; exactly at it, fine. */
CASE(page_alloc_over_limit)
{
    KT_ASSERT(setup(256));
    struct account *r = account_create(NULL), *a = account_create(r);
    KT_ASSERT(r && a);
    size_t nfree = page_free_count();

    a->limit[MEM] = 3 * PAGE_SIZE;
    KT_EXPECT(account_page_alloc(a, 2, 1) == NULL);
    KT_EXPECT_EQ(page_free_count(), nfree);
    KT_EXPECT_EQ(a->used[MEM], 0);
    KT_EXPECT_EQ(r->used[MEM], 0);
    void *p1 = account_page_alloc(a, 1, 0), *p0 = account_page_alloc(a, 0, 0);
    KT_ASSERT(p1 && p0);
    KT_EXPECT_EQ(a->used[MEM], 3 * PAGE_SIZE);
    KT_EXPECT_EQ(page_free_count(), nfree - 3);
    KT_EXPECT(account_page_alloc(a, 0, 0) == NULL);
    KT_EXPECT_EQ(page_free_count(), nfree - 3);
    KT_EXPECT_EQ(a->used[MEM], 3 * PAGE_SIZE);
    KT_EXPECT_EQ(r->used[MEM], 3 * PAGE_SIZE);
    page_free(p0, 0);
    page_free(p1, 1);
    a->limit[MEM] = ACCOUNT_UNLIMITED;

    /* The parent's limit binds the child. */
    r->limit[MEM] = PAGE_SIZE;
    KT_EXPECT(account_page_alloc(a, 1, 0) == NULL);
    KT_EXPECT_EQ(page_free_count(), nfree);
    KT_EXPECT_EQ(a->used[MEM], 0);
    KT_EXPECT_EQ(r->used[MEM], 0);
    void *q = account_page_alloc(a, 0, 0);
    KT_ASSERT(q != NULL);
    KT_EXPECT(account_page_alloc(a, 0, 0) == NULL);
    KT_EXPECT_EQ(page_free_count(), nfree - 1);
    page_unref(q);
    KT_EXPECT_EQ(r->used[MEM], 0);
    account_put(a);
    account_put(r);
    EXPECT_NO_LEAKS();
}

/* Out of pages (no limit passed): NULL, and the charge made first is given back. */
CASE(page_alloc_out_of_memory)
{
    enum { CAP = 64 };
    void *held[CAP];
    KT_ASSERT(setup(48));
    struct account *r = account_create(NULL), *a = account_create(r);
    KT_ASSERT(r && a);
    size_t nfree = page_free_count(), n = 0;
    while (n < CAP && (held[n] = page_alloc(0)) != NULL)
        n++;
    KT_ASSERT(n < CAP);
    KT_EXPECT_EQ(page_free_count(), 0);
    for (unsigned o = 0; o <= 2; o++)
        KT_EXPECT(account_page_alloc(a, o, 1) == NULL);
    KT_EXPECT_EQ(a->used[MEM], 0);
    KT_EXPECT_EQ(r->used[MEM], 0);
    KT_EXPECT_EQ(account_count(), accounts0 + 2);

    /* Give one back: a charged page can be had again. */
    page_free(held[--n], 0);
    void *p = account_page_alloc(a, 0, 0);
    KT_EXPECT(p != NULL);
    KT_EXPECT_EQ(a->used[MEM], PAGE_SIZE);
    if (p)
        page_free(p, 0);
    while (n)
        page_free(held[--n], 0);
    KT_EXPECT_EQ(page_free_count(), nfree);
    KT_EXPECT_EQ(a->used[MEM], 0);
    account_put(a);
    account_put(r);
    EXPECT_NO_LEAKS();
}

/* A page charged to an account that does not exist is a panic, not a silent loss. */
static void call_page_freed(void *arg)
{
    account_page_freed((uint32_t)(uintptr_t)arg, 0);
}

CASE(panic_page_freed_unknown)
{
    KT_ASSERT(setup(256));
    struct account *a = account_create(NULL);
    KT_ASSERT(a != NULL);
    uint32_t id = a->id;
    account_put(a);         /* gone: its id names nothing now */
    KT_EXPECT(catch_panic(call_page_freed, (void *)(uintptr_t)id));
    KT_EXPECT(strstr(last_panic_message(), "does not exist") != NULL);
    KT_EXPECT(catch_panic(call_page_freed, (void *)(uintptr_t)ACCOUNT_MAX));
    KT_EXPECT(catch_panic(call_page_freed, (void *)(uintptr_t)UINT32_MAX));
    EXPECT_NO_LEAKS();
}

struct uncharge_args {
    struct account *a;
    uint64_t n;
};

static void call_uncharge(void *arg)
{
    struct uncharge_args *u = arg;
    account_uncharge(u->a, MEM, u->n);
}

/* Giving back more than was charged is a panic, and the account is as it was. */
CASE(panic_uncharge_too_much)
{
    KT_ASSERT(setup(256));
    struct account *r = account_create(NULL), *a = account_create(r);
    KT_ASSERT(r && a);
    KT_EXPECT_EQ(account_charge(a, MEM, 100), 0);
    struct uncharge_args u = { a, 101 };
    KT_EXPECT(catch_panic(call_uncharge, &u));
    KT_EXPECT(strstr(last_panic_message(), "account_uncharge") != NULL);
    KT_EXPECT_EQ(a->used[MEM], 100);
    KT_EXPECT_EQ(r->used[MEM], 100);
    account_uncharge(a, MEM, 100);
    account_put(a);
    account_put(r);
    EXPECT_NO_LEAKS();
}

/* ---- heap objects ---- */

static const struct {
    size_t size, charge;
} kz_sizes[] = {
    { 1, 16 },      { 15, 16 },     { 16, 16 },     { 17, 32 },       { 100, 128 },
    { 128, 128 },   { 129, 256 },   { 1000, 1024 }, { 2047, 2048 },   { 2048, 2048 },
    { 2049, 4096 }, { 3000, 4096 }, { 4096, 4096 }, { 4097, 8192 },   { 3 * 4096 + 5, 16384 },
    { 65536, 65536 }, { 100000, 131072 },
};
#define NKZ (sizeof kz_sizes / sizeof kz_sizes[0])

/* kmalloc_size_fixed of a constant (folded by the compiler, as for a sizeof) is kmalloc_size's answer. */
#define FIXED_AGREES(n) KT_EXPECT_EQ(kmalloc_size_fixed(n), kmalloc_size(n))

CASE(kmalloc_size_fixed_agrees)
{
    FIXED_AGREES(1);
    FIXED_AGREES(15);
    FIXED_AGREES(16);
    FIXED_AGREES(17);
    FIXED_AGREES(33);
    FIXED_AGREES(64);
    FIXED_AGREES(65);
    FIXED_AGREES(100);
    FIXED_AGREES(255);
    FIXED_AGREES(257);
    FIXED_AGREES(1000);
    FIXED_AGREES(2047);
    FIXED_AGREES(2048);
    FIXED_AGREES(2049);             /* (a page block: the call) */
    FIXED_AGREES(sizeof(struct account));
    KT_EXPECT_EQ(kmalloc_size_fixed(48), 64);
}

CASE(kzalloc_charges_size_class)
{
    _Static_assert(PAGE_SIZE == 4096, "the table above assumes 4 KiB pages");
    static void *obj[NKZ];
    KT_ASSERT(setup(512));
    struct account *r = account_create(NULL), *a = account_create(r);
    KT_ASSERT(r && a);
    size_t live = heap_live_objects();

    /* Dirty memory of every size first, so that zero-filling is seen to work. */
    for (size_t i = 0; i < NKZ; i++) {
        obj[i] = kmalloc(kz_sizes[i].size);
        KT_ASSERT(obj[i] != NULL);
        memset(obj[i], 0x5a, kz_sizes[i].size);
    }
    for (size_t i = NKZ; i-- > 0;)
        KT_EXPECT_EQ(kfree(obj[i]), kz_sizes[i].charge);     /* what kfree says it freed */

    uint64_t total = 0;
    for (size_t i = 0; i < NKZ; i++) {
        size_t n = kz_sizes[i].size;
        KT_EXPECT_EQ(kmalloc_size(n), kz_sizes[i].charge);
        obj[i] = account_kzalloc(a, n);
        KT_ASSERT(obj[i] != NULL);
        KT_EXPECT(all_zero(obj[i], n));
        total += kz_sizes[i].charge;
        if (a->used[MEM] != total)
            ktest_fail(__FILE__, __LINE__, "account_kzalloc(%zu): used %lu, expected %lu", n,
                       (unsigned long)a->used[MEM], (unsigned long)total);
        KT_EXPECT_EQ(r->used[MEM], total);
    }
    KT_EXPECT_EQ(heap_live_objects(), live + NKZ);
    /* Free every other one, then the rest: each gives back exactly its own charge. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = (size_t)pass; i < NKZ; i += 2) {
            account_kfree(a, obj[i]);
            total -= kz_sizes[i].charge;
            if (a->used[MEM] != total)
                ktest_fail(__FILE__, __LINE__, "account_kfree(%zu bytes): used %lu, expected %lu",
                           kz_sizes[i].size, (unsigned long)a->used[MEM], (unsigned long)total);
            KT_EXPECT_EQ(r->used[MEM], total);
        }
    KT_EXPECT_EQ(a->used[MEM], 0);
    KT_EXPECT_EQ(heap_live_objects(), live);
    account_kfree(a, NULL);
    KT_EXPECT_EQ(a->used[MEM], 0);
    account_put(a);
    account_put(r);
    EXPECT_NO_LEAKS();
}

/* A request that cannot succeed, or would pass a limit, charges nothing and allocates nothing. */
CASE(kzalloc_refused)
{
    KT_ASSERT(setup(256));
    struct account *r = account_create(NULL), *a = account_create(r);
    KT_ASSERT(r && a);
    size_t live = heap_live_objects(), nfree = page_free_count();

    KT_EXPECT(account_kzalloc(a, 0) == NULL);
    KT_EXPECT(account_kzalloc(a, MAX_BLOCK + 1) == NULL);
    KT_EXPECT(account_kzalloc(a, SIZE_MAX) == NULL);
    KT_EXPECT_EQ(a->used[MEM], 0);

    /* 100 bytes cost 128: a limit of 127 refuses them, 128 takes them. */
    a->limit[MEM] = 127;
    KT_EXPECT(account_kzalloc(a, 100) == NULL);
    a->limit[MEM] = 128;
    KT_EXPECT_EQ(a->used[MEM], 0);
    KT_EXPECT_EQ(heap_live_objects(), live);
    void *p = account_kzalloc(a, 100);
    KT_ASSERT(p != NULL);
    KT_EXPECT_EQ(a->used[MEM], 128);
    KT_EXPECT(account_kzalloc(a, 1) == NULL);
    KT_EXPECT_EQ(a->used[MEM], 128);
    KT_EXPECT_EQ(heap_live_objects(), live + 1);
    account_kfree(a, p);
    a->limit[MEM] = ACCOUNT_UNLIMITED;

    /* The parent's limit: 3000 bytes cost a page. */
    r->limit[MEM] = PAGE_SIZE - 1;
    KT_EXPECT(account_kzalloc(a, 3000) == NULL);
    KT_EXPECT_EQ(a->used[MEM], 0);
    KT_EXPECT_EQ(r->used[MEM], 0);
    KT_EXPECT_EQ(page_free_count(), nfree);
    KT_EXPECT_EQ(heap_live_objects(), live);
    r->limit[MEM] = PAGE_SIZE;
    p = account_kzalloc(a, 3000);
    KT_ASSERT(p != NULL);
    KT_EXPECT_EQ(r->used[MEM], PAGE_SIZE);
    account_kfree(a, p);
    KT_EXPECT_EQ(r->used[MEM], 0);
    account_put(a);
    account_put(r);
    EXPECT_NO_LEAKS();
}

/* Out of heap memory (no limit passed): NULL, and the charge made first is given back. */
CASE(kzalloc_out_of_memory)
{
    enum { CAP = 64 };
    void *held[CAP];
    KT_ASSERT(setup(48));
    struct account *r = account_create(NULL), *a = account_create(r);
    KT_ASSERT(r && a);
    size_t n = 0;
    while (n < CAP && (held[n] = page_alloc(0)) != NULL)
        n++;
    KT_ASSERT(n < CAP);
    size_t live = heap_live_objects();
    KT_EXPECT(account_kzalloc(a, 3000) == NULL);
    KT_EXPECT(account_kzalloc(a, 200) == NULL);    /* no 256-byte slab yet, and no page for one */
    KT_EXPECT_EQ(a->used[MEM], 0);
    KT_EXPECT_EQ(r->used[MEM], 0);
    KT_EXPECT_EQ(heap_live_objects(), live);
    while (n)
        page_free(held[--n], 0);
    account_put(a);
    account_put(r);
    EXPECT_NO_LEAKS();
}

/* ---- lifetime ---- */

/* An account put while charged stays until the last charge goes, however it goes. */
CASE(put_while_charged_keeps)
{
    KT_ASSERT(setup(256));
    struct account *r = account_create(NULL);
    KT_ASSERT(r != NULL);
    uint32_t n0 = account_count();

    /* A plain charge. */
    struct account *a = account_create(r);
    KT_ASSERT(a != NULL);
    KT_EXPECT_EQ(account_charge(a, THR, 2), 0);
    account_put(a);
    KT_ASSERT(account_count() == n0 + 1);
    KT_EXPECT_EQ(a->refs, 0);
    KT_EXPECT_EQ(r->refs, 2);
    account_uncharge(a, THR, 1);
    KT_ASSERT(account_count() == n0 + 1);
    account_uncharge(a, THR, 1);
    KT_EXPECT_EQ(account_count(), n0);
    KT_EXPECT_EQ(r->refs, 1);

    /* Charges of two kinds: both must go. */
    a = account_create(r);
    KT_ASSERT(a != NULL);
    KT_EXPECT_EQ(account_charge(a, MEM, 10), 0);
    KT_EXPECT_EQ(account_charge(a, PROC, 1), 0);
    account_put(a);
    account_uncharge(a, MEM, 10);
    KT_ASSERT(account_count() == n0 + 1);
    account_uncharge(a, PROC, 1);
    KT_EXPECT_EQ(account_count(), n0);

    /* A page given away outlives its maker's process (a memobj, say). */
    a = account_create(r);
    KT_ASSERT(a != NULL);
    void *pg = account_page_alloc(a, 1, 0);
    KT_ASSERT(pg != NULL);
    KT_EXPECT_EQ(page_ref(pg), 0);
    account_put(a);
    KT_ASSERT(account_count() == n0 + 1);
    page_unref(pg);
    KT_ASSERT(account_count() == n0 + 1);
    KT_EXPECT_EQ(r->used[MEM], 2 * PAGE_SIZE);
    page_unref(pg);
    KT_EXPECT_EQ(account_count(), n0);
    KT_EXPECT_EQ(r->used[MEM], 0);
    KT_EXPECT_EQ(r->refs, 1);

    /* A heap object likewise. */
    a = account_create(r);
    KT_ASSERT(a != NULL);
    void *o = account_kzalloc(a, 500);
    KT_ASSERT(o != NULL);
    account_put(a);
    KT_ASSERT(account_count() == n0 + 1);
    account_kfree(a, o);
    KT_EXPECT_EQ(account_count(), n0);
    KT_EXPECT_EQ(r->used[MEM], 0);

    account_put(r);
    EXPECT_NO_LEAKS();
}

/* A put parent stays while a child lives; the child's going takes it along. */
CASE(parent_freed_with_child)
{
    KT_ASSERT(setup(256));
    struct account *r = account_create(NULL), *c = account_create(r);
    KT_ASSERT(r && c);
    account_put(r);
    KT_ASSERT(account_count() == accounts0 + 2);
    KT_EXPECT_EQ(r->refs, 1);
    account_put(c);
    KT_EXPECT_EQ(account_count(), accounts0);
    KT_EXPECT_EQ(heap_live_objects(), live0);

    /* A parent with two children goes with the second. */
    r = account_create(NULL);
    struct account *c1 = account_create(r), *c2 = account_create(r);
    KT_ASSERT(r && c1 && c2);
    account_put(r);
    account_put(c1);
    KT_ASSERT(account_count() == accounts0 + 2);
    KT_EXPECT_EQ(r->refs, 1);
    account_put(c2);
    KT_EXPECT_EQ(account_count(), accounts0);

    /* A parent that has its own charge stays after its last child goes. */
    r = account_create(NULL);
    c = account_create(r);
    KT_ASSERT(r && c);
    KT_EXPECT_EQ(account_charge(r, MEM, 5), 0);
    account_put(r);
    account_put(c);
    KT_ASSERT(account_count() == accounts0 + 1);
    KT_EXPECT_EQ(r->refs, 0);
    account_uncharge(r, MEM, 5);
    KT_EXPECT_EQ(account_count(), accounts0);

    /* Three levels, all put, the grandchild still charged: its last uncharge frees all three. */
    r = account_create(NULL);
    c = account_create(r);
    struct account *g = account_create(c);
    KT_ASSERT(r && c && g);
    KT_EXPECT_EQ(account_charge(g, MEM, 64), 0);
    account_put(r);
    account_put(c);
    account_put(g);
    KT_ASSERT(account_count() == accounts0 + 3);
    account_uncharge(g, MEM, 64);
    KT_EXPECT_EQ(account_count(), accounts0);
    EXPECT_NO_LEAKS();
}

/* A long chain goes in one call (a loop: no recursion depth). */
CASE(long_chain_freed)
{
    enum { DEPTH = 600 };
    static struct account *chain[DEPTH];
    KT_ASSERT(setup(256));
    for (int i = 0; i < DEPTH; i++) {
        chain[i] = account_create(i ? chain[i - 1] : NULL);
        KT_ASSERT(chain[i] != NULL);
    }
    KT_EXPECT_EQ(account_charge(chain[DEPTH - 1], PROC, 3), 0);
    KT_EXPECT_EQ(chain[0]->used[PROC], 3);
    for (int i = 0; i < DEPTH; i++)
        account_put(chain[i]);
    KT_ASSERT(account_count() == accounts0 + DEPTH);
    account_uncharge(chain[DEPTH - 1], PROC, 3);
    KT_EXPECT_EQ(account_count(), accounts0);
    EXPECT_NO_LEAKS();
}

/* ACCOUNT_MAX - 1 accounts at once, then NULL with nothing allocated; ids come back after frees. */
CASE(table_full_and_ids_reused)
{
    static struct account *all[ACCOUNT_MAX];
    static uint8_t seen[ACCOUNT_MAX];
    KT_ASSERT(setup(256));
    size_t room = ACCOUNT_MAX - 1 - accounts0, n = 0, bad_id = 0, dup = 0;
    memset(seen, 0, sizeof seen);
    for (; n < room; n++) {
        /* Families of three: a root (n % 3 == 0), its child, and a leaf under that. */
        all[n] = account_create(n % 3 ? all[n - 1] : NULL);
        if (!all[n])
            break;
        uint32_t id = all[n]->id;
        if (id == 0 || id >= ACCOUNT_MAX)
            bad_id++;
        else
            dup += seen[id]++ != 0;
    }
    KT_EXPECT_EQ(n, room);
    KT_EXPECT_EQ(bad_id, 0);
    KT_EXPECT_EQ(dup, 0);
    KT_EXPECT_EQ(account_count(), ACCOUNT_MAX - 1);

    size_t live = heap_live_objects(), nfree = page_free_count();
    KT_EXPECT(account_create(NULL) == NULL);
    KT_EXPECT(account_create(all[0]) == NULL);
    KT_EXPECT_EQ(all[0]->refs, n > 1 ? 2 : 1);      /* a refused create takes no reference */
    KT_EXPECT_EQ(account_count(), ACCOUNT_MAX - 1);
    KT_EXPECT_EQ(heap_live_objects(), live);
    KT_EXPECT_EQ(page_free_count(), nfree);

    /* Free three leaves: the next three creates get exactly their ids. */
    size_t victims[3] = { 5, room / 2 / 3 * 3 + 2, (room - 1) / 3 * 3 + 2 };
    if (victims[2] >= n)
        victims[2] -= 3;
    uint8_t freed[ACCOUNT_MAX] = { 0 };
    for (int v = 0; v < 3; v++) {
        KT_ASSERT(victims[v] < n && victims[v] % 3 == 2);   /* leaves: nobody's parent */
        freed[all[victims[v]]->id] = 1;
        account_put(all[victims[v]]);
        all[victims[v]] = NULL;
    }
    KT_EXPECT_EQ(account_count(), ACCOUNT_MAX - 4);
    for (int v = 0; v < 3; v++) {
        struct account *x = account_create(NULL);
        KT_ASSERT(x != NULL);
        KT_EXPECT(x->id < ACCOUNT_MAX && freed[x->id] == 1);
        if (x->id < ACCOUNT_MAX)
            freed[x->id] = 2;
        all[victims[v]] = x;
    }
    KT_EXPECT(account_create(NULL) == NULL);

    /* The slot handed out last, freed again, is found too: the search goes all the way round. */
    uint32_t last_id = all[victims[2]]->id;
    account_put(all[victims[2]]);
    all[victims[2]] = account_create(NULL);
    KT_ASSERT(all[victims[2]] != NULL);
    KT_EXPECT_EQ(all[victims[2]]->id, last_id);
    KT_EXPECT(account_create(NULL) == NULL);

    /* Put everything, leaves first (reverse order of creation). */
    for (size_t i = n; i-- > 0;)
        if (all[i])
            account_put(all[i]);
    KT_EXPECT_EQ(account_count(), accounts0);

    /* With the table empty again, a full set can be made once more. */
    size_t again = 0;
    for (; again < room; again++)
        if (!(all[again] = account_create(NULL)))
            break;
    KT_EXPECT_EQ(again, room);
    KT_EXPECT(account_create(NULL) == NULL);
    while (again)
        account_put(all[--again]);
    EXPECT_NO_LEAKS();
}

static const struct ktest_case account_cases[] = {
    { "create_fresh", create_fresh },
    { "is_below", is_below },
    { "charge_counts_at_every_level", charge_counts_at_every_level },
    { "over_limit_rolls_back", over_limit_rolls_back },
    { "unlimited_does_not_wrap", unlimited_does_not_wrap },
    { "limit_below_usage", limit_below_usage },
    { "null_account", null_account },
    { "page_alloc_charges_owner", page_alloc_charges_owner },
    { "plain_page_has_no_owner", plain_page_has_no_owner },
    { "page_alloc_over_limit", page_alloc_over_limit },
    { "page_alloc_out_of_memory", page_alloc_out_of_memory },
    { "panic_page_freed_unknown", panic_page_freed_unknown },
    { "panic_uncharge_too_much", panic_uncharge_too_much },
    { "kzalloc_charges_size_class", kzalloc_charges_size_class },
    { "kmalloc_size_fixed_agrees", kmalloc_size_fixed_agrees },
    { "kzalloc_refused", kzalloc_refused },
    { "kzalloc_out_of_memory", kzalloc_out_of_memory },
    { "put_while_charged_keeps", put_while_charged_keeps },
    { "parent_freed_with_child", parent_freed_with_child },
    { "long_chain_freed", long_chain_freed },
    { "table_full_and_ids_reused", table_full_and_ids_reused },
};
KTEST_SUITE(account_suite, "account", account_cases);

int main(void)
{
    const struct ktest_suite *suites[] = { &account_suite };
    return ktest_run(suites, 1) ? 1 : 0;
}
