/*
 * kernel/boot_tests.c - in-kernel tests of the boot floor, run when the bootargs
 * say "ktest": the final page tables, a user page table's leaf hint, memset, the
 * page allocator, the heap, the timer and the symbol table, on the real machine.
 * "ktest.panic" instead triggers a kernel fault on purpose so the harness can
 * check the panic report.
 */
#include <arch/arch.h>
#include <arch/mmu.h>
#include "boot_tests.h"
#include "clock.h"
#include "heap.h"
#include "kprintf.h"
#include "ksyms.h"
#include "ktest.h"
#include "page_alloc.h"
#include "sched_tests.h"
#include "string.h"

void kmain(unsigned long hartid, uint64_t dtb_pa);

static const uint64_t some_rodata = 0x0123456789abcdefull;

static void vm_identity_map_gone(void)
{
    uint64_t v, direct;
    /* The image is still at its link address and in the direct map... */
    KT_ASSERT(arch_probe_read64(KERNEL_VIRT_BASE, &v) == 0);
    KT_ASSERT(arch_probe_read64((uintptr_t)phys_to_virt(KERNEL_PHYS_BASE), &direct) == 0);
    KT_EXPECT_EQ(v, direct);
    /* ...but no longer at its physical address, where OpenSBI started it. */
    KT_EXPECT(arch_probe_read64(KERNEL_PHYS_BASE, &v) == -1);
    KT_EXPECT(arch_probe_read64(0, &v) == -1);
}

static void vm_image_is_w_xor_x(void)
{
    uint64_t v;
    KT_ASSERT(arch_probe_read64((uintptr_t)kmain, &v) == 0);
    KT_EXPECT(arch_probe_write64((uintptr_t)kmain, v) == -1);
    KT_EXPECT(arch_probe_write64((uintptr_t)&some_rodata, some_rodata) == -1);
    static uint64_t data_word;
    KT_EXPECT(arch_probe_write64((uintptr_t)&data_word, 42) == 0);
    KT_EXPECT_EQ(data_word, 42);
}

/* Allocate every free page (chained through the pages themselves); return how many. */
static size_t alloc_all(void **chain)
{
    size_t n = 0;
    void *p;
    *chain = NULL;
    while ((p = page_alloc(0)) != NULL) {
        *(void **)p = *chain;
        *chain = p;
        n++;
    }
    return n;
}

static void free_chain(void *chain)
{
    while (chain) {
        void *next = *(void **)chain;
        page_free(chain, 0);
        chain = next;
    }
}

static void page_alloc_exhaust_and_reuse(void)
{
    size_t before = page_free_count();
    void *chain;
    size_t n = alloc_all(&chain);
    KT_EXPECT_EQ(n, before);
    KT_EXPECT_EQ(page_free_count(), 0);
    KT_EXPECT(page_alloc(0) == NULL);
    free_chain(chain);
    KT_EXPECT_EQ(page_free_count(), before);
    /* Freed pages merge back: every order is available again. */
    void *big = page_alloc(PAGE_MAX_ORDER);
    KT_EXPECT(big != NULL);
    if (big)
        page_free(big, PAGE_MAX_ORDER);
    n = alloc_all(&chain);
    KT_EXPECT_EQ(n, before);
    free_chain(chain);
    KT_EXPECT_EQ(page_free_count(), before);
}

static void page_alloc_orders_aligned(void)
{
    size_t before = page_free_count();
    for (unsigned o = 0; o <= PAGE_MAX_ORDER; o++) {
        uint8_t *p = page_alloc(o);
        KT_ASSERT(p != NULL);
        size_t bytes = (size_t)PAGE_SIZE << o;
        KT_EXPECT_EQ(virt_to_phys(p) % bytes, 0);
        p[0] = 1;
        p[bytes - 1] = 2;
        KT_EXPECT_EQ(page_free_count(), before - (bytes / PAGE_SIZE));
        page_free(p, o);
    }
    KT_EXPECT(page_alloc(PAGE_MAX_ORDER + 1) == NULL);
    KT_EXPECT_EQ(page_free_count(), before);
}

static void heap_patterns(void)
{
    enum { N = 300 };
    static uint8_t *objs[N];
    static size_t sizes[N];
    /* Warm up every size class once, then count from here. */
    for (size_t s = HEAP_MIN_SLAB; s <= HEAP_MAX_SLAB; s *= 2)
        kfree(kmalloc(s));
    size_t pages_before = page_free_count(), live_before = heap_live_objects();

    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            if (objs[i])
                continue;
            sizes[i] = 1 + (size_t)(i * 37 + round * 101) % 6000;
            objs[i] = kmalloc(sizes[i]);
            KT_ASSERT(objs[i] != NULL);
            KT_EXPECT_EQ((uintptr_t)objs[i] % 8, 0);
            memset(objs[i], (uint8_t)i, sizes[i]);
        }
        for (int i = round % 2; i < N; i += 2) {
            for (size_t k = 0; k < sizes[i]; k++)
                if (objs[i][k] != (uint8_t)i) {
                    KT_EXPECT(!"object contents intact");
                    break;
                }
            kfree(objs[i]);
            objs[i] = NULL;
        }
    }
    for (int i = 0; i < N; i++) {
        kfree(objs[i]);
        objs[i] = NULL;
    }
    KT_EXPECT(kmalloc(0) == NULL);
    KT_EXPECT_EQ(heap_live_objects(), live_before);
    KT_EXPECT_EQ(page_free_count(), pages_before);
}

static void timer_ticks_advance(void)
{
    /*
     * First one tick, to start on a tick: one overdue from the cases before
     * (interrupts wait while the kernel runs) comes at once, and the next is
     * due less than a period after it, since deadlines keep to the first one's
     * grid (arch/riscv/timer.c).
     */
    uint64_t t = clock_ticks(), s0 = clock_ns();
    while (clock_ticks() == t && clock_ns() - s0 < 1000000000ull)
        arch_wait_for_interrupt();
    uint64_t t0 = clock_ticks(), start = arch_time_now(), ns0 = clock_ns();
    /* Wait for three ticks, sleeping in wfi; give up after a (virtual) second. */
    while (clock_ticks() < t0 + 3 && clock_ns() - ns0 < 1000000000ull)
        arch_wait_for_interrupt();
    uint64_t elapsed_ns = clock_ns() - ns0;
    KT_EXPECT(clock_ticks() >= t0 + 3);
    KT_EXPECT(arch_time_now() > start);
    /*
     * Three ticks of 10 ms: at least 20 ms of platform time. Without -icount the
     * platform clock is the host's, and a busy host can deliver a tick late, so
     * the upper bound only rules out a wrong rate (a 1 Hz tick would take 2 s).
     */
    KT_EXPECT(elapsed_ns >= 20000000ull && elapsed_ns <= 200000000ull);
    kprintf("# timer: %s, %lu ns for 3 ticks\n", arch_timer_uses_sstc() ? "sstc" : "sbi",
            (unsigned long)elapsed_ns);
}

static void ksyms_names_functions(void)
{
    uintptr_t off = 0;
    KT_EXPECT_STREQ(ksym_lookup((uintptr_t)kmain + 4, &off), "kmain");
    KT_EXPECT_EQ(off, 4);
    KT_EXPECT_EQ(ksym_address("ktest_panic_fault"), (uintptr_t)ktest_panic_fault);
    KT_EXPECT(ksym_lookup(0x1000, &off) == NULL);
}

/*
 * arch_copy_user at every pair of source and destination offsets in a word, for
 * lengths around each of its paths' edges: the bytes arrive, nothing around
 * them changes.
 */
static void copy_user_alignments(void)
{
    static const size_t lens[] = { 0, 1, 7, 8, 9, 15, 16, 17, 31, 63, 64, 65, 511, 512, 513, 600, 1031 };
    uint8_t *src = page_alloc(0), *dst = page_alloc(0);
    KT_ASSERT(src && dst);
    for (int i = 0; i < PAGE_SIZE; i++)
        src[i] = (uint8_t)(i * 7 + 3);
    int bad = 0;
    for (size_t so = 0; so < 8; so++)
        for (size_t d = 0; d < 8; d++)
            for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
                size_t len = lens[k];
                memset(dst, 0xa5, 1100);
                bad |= arch_copy_user(dst + 8 + d, src + 8 + so, len) != 0;
                bad |= memcmp(dst + 8 + d, src + 8 + so, len) != 0;
                for (size_t j = 0; j < 1100; j++)
                    bad |= (j < 8 + d || j >= 8 + d + len) && dst[j] != 0xa5;
            }
    KT_EXPECT(!bad);
    page_free(src, 0);
    page_free(dst, 0);
}

/* memset at every alignment and around each of its length thresholds (16, 256): exactly its bytes. */
static void memset_alignments(void)
{
    static const size_t lens[] = { 0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 31, 255, 256, 257, 263, 300, 520, 1031 };
    uint8_t *buf = page_alloc(0);
    KT_ASSERT(buf != NULL);
    int bad = 0;
    for (size_t off = 0; off < 9; off++)
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            size_t len = lens[k];
            memset(buf, 0xa5, 1100);
            KT_ASSERT(memset(buf + 8 + off, 0x3c, len) == buf + 8 + off);
            for (size_t j = 0; j < 1100; j++)
                bad |= buf[j] != (j >= 8 + off && j < 8 + off + len ? 0x3c : 0xa5);
        }
    KT_EXPECT(!bad);
    page_free(buf, 0);
}

static void no_unref(paddr_t pa, void *arg)
{
    (void)pa;
    (void)arg;
}

/*
 * arch_pte_slot and arch_user_kaddr_writable go through the aspace's leaf
 * hint (the last leaf table a walk found): whatever order the addresses come
 * in, they must give the slot the walk that made the tables gave, and a
 * region without tables must say so without spoiling the hint.
 */
static void leaf_hint_matches_walk(void)
{
    static struct arch_aspace as;
    KT_ASSERT(arch_aspace_init(&as, NULL) == 0);
    const uintptr_t va[] = { 0x10000000, 0x10001000, 0x10200000, 0x40000000, 0x7f0000000000 };
    enum { N = sizeof va / sizeof va[0] };
    arch_pte_t *slot[N];
    uint8_t *page = page_alloc(0);
    KT_ASSERT(page != NULL);
    for (int i = 0; i < N; i++) {
        slot[i] = arch_pte_slot(&as, va[i], 1);
        KT_ASSERT(slot[i] != NULL);
        arch_pte_set(&as, slot[i], va[i], virt_to_phys(page), i == 2 ? 1 : 3);  /* va[2] read-only */
    }
    static const int order[] = { 0, 2, 1, 4, 3, 0, 1, 4, 2, 3, 3, 0 };
    int bad = 0;
    for (unsigned k = 0; k < sizeof order / sizeof order[0]; k++) {
        int i = order[k];
        bad |= arch_pte_slot(&as, va[i], 0) != slot[i];
        void *kd = arch_user_kaddr_writable(&as, va[i] + 8);
        bad |= i == 2 ? kd != NULL : kd != page + 8;
        bad |= arch_pte_slot(&as, 0x20000000, 0) != NULL;      /* no tables there */
        bad |= arch_user_kaddr_writable(&as, 0x20000000 + 8) != NULL;
    }
    KT_EXPECT(!bad);
    arch_unmap_range(&as, 0x1000, 0x7f0000001000, no_unref, NULL);
    arch_aspace_destroy(&as);
    page_free(page, 0);
}

static const struct ktest_case boot_cases[] = {
    { "leaf_hint_matches_walk", leaf_hint_matches_walk },
    { "memset_alignments", memset_alignments },
    { "copy_user_alignments", copy_user_alignments },
    { "identity_map_gone", vm_identity_map_gone },
    { "image_is_w_xor_x", vm_image_is_w_xor_x },
    { "exhaust_and_reuse", page_alloc_exhaust_and_reuse },
    { "orders_aligned", page_alloc_orders_aligned },
    { "heap_patterns", heap_patterns },
    { "timer_ticks_advance", timer_ticks_advance },
    { "ksyms_names_functions", ksyms_names_functions },
};
static KTEST_SUITE(boot_suite, "boot", boot_cases);

int boot_tests_run(void)
{
    const struct ktest_suite *suites[] = { &boot_suite, &sched_suite };
    return ktest_run(suites, 2);
}

/* Read through a pointer the compiler cannot see is bad, so this really faults. */
static volatile uintptr_t bad_address = 0x8;

__attribute__((noinline)) void ktest_use_after_free(void)
{
    void *keep = kmalloc(64);           /* keeps the slab page in use */
    volatile uint8_t *p = kmalloc(64);
    kfree((void *)p);
    p[40] = 1;                          /* after the free */
    void *again = kmalloc(64);          /* the same object (the last freed): its poison is broken */
    kprintf("ktest_use_after_free: not caught (%p, %p, %p)\n", keep, (void *)p, again);
}

__attribute__((noinline)) void ktest_panic_fault(void)
{
    *(volatile uint64_t *)bad_address = 0xdead;
    kprintf("ktest_panic_fault: the store did not fault\n");
}
