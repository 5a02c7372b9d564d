/*
 * kernel/page_alloc.c - binary buddy allocator over all of RAM (see page_alloc.h).
 *
 * free_lists[o] holds the free blocks of order o. A block of order o at page
 * index i has its buddy at i ^ 2^o; freeing merges with the buddy while the
 * buddy is a free block of the same order. Only the first page of a block has
 * a state; all other pages are PAGE_UNUSABLE, so a pointer into the middle of
 * a block, or a block freed twice, is caught. Free single pages may also sit
 * in a small cache in front of the lists (PAGE_CACHED; see pcache below).
 */
#include <kestrel/errors.h>
#include "debug.h"
#include "account.h"
#include "page_alloc.h"
#include "panic.h"
#include "platform.h"
#include "string.h"

struct page *frame_pages;           /* see page_alloc.h */

/*
 * A 4 MiB block of RAM that is free from boot to its first use has had only
 * its head's state written: its other 1,023 descriptors are cleared (made
 * PAGE_UNUSABLE) when buddy_alloc first splits or hands it out. Clearing all of
 * a 256 MiB machine's descriptors at boot took 74,000 instructions of the
 * 600,000 boot_to_hello may spend; most of RAM is not used before "Hello world.".
 * Bit b of untouched marks block b as not cleared yet; blocks past the first
 * UNTOUCHED_MAX (16 GiB of RAM) are cleared at boot.
 */
#define BIG_PAGES (1u << PAGE_MAX_ORDER)
#define UNTOUCHED_MAX 4096
static uint64_t untouched[UNTOUCHED_MAX / 64];

/*
 * Every page starts PAGE_UNUSABLE. Only the word holding state, order, inuse
 * and refcount is cleared (one store per page, not a memset of the whole 1 MiB
 * array for 256 MiB of RAM): the links and the owner are written whenever a
 * page becomes the head of a block, before anyone reads them.
 */
static void clear_states(struct page *pg, uint32_t n)
{
    _Static_assert(__builtin_offsetof(struct page, state) == 8, "state, order, inuse and refcount share word 1");
    uint64_t *w = (uint64_t *)pg + 1, *end = w + 2 * (uint64_t)n;
    for (; end - w >= 16; w += 16) {
#pragma GCC unroll 8
        for (int k = 0; k < 16; k += 2)
            w[k] = 0;
    }
    for (; w < end; w += 2)
        *w = 0;
}

uint64_t frame_base_pfn;
uint32_t frame_count;
static struct page_list free_lists[PAGE_MAX_ORDER + 1];
static size_t nfree, ntotal;            /* nfree counts cached pages too */

/*
 * Single pages come and go all the time (page faults, page tables, slabs), so a
 * small stack of free single pages sits in front of the buddy lists: taking
 * one is a few instructions instead of a split. It is refilled a 16-page block
 * at a time and spills to the buddy lists when full; a larger allocation that
 * fails drains it first, so cached pages never make an allocation fail.
 */
#define PCACHE_SIZE 64
#define PCACHE_REFILL_ORDER 4
static uint32_t pcache[PCACHE_SIZE];
static unsigned npcache;

/* Put a block on the free lists, merging it with its buddies. */
static void free_block(uint32_t i, unsigned order)
{
    while (order < PAGE_MAX_ORDER) {
        uint32_t b = i ^ (1u << order);
        if (b >= frame_count || frame_pages[b].state != PAGE_FREE || frame_pages[b].order != order)
            break;
        page_list_remove(&free_lists[order], &frame_pages[b]);
        frame_pages[b].state = PAGE_UNUSABLE;
        frame_pages[i].state = PAGE_UNUSABLE;     /* neither half heads a block any more */
        i &= ~(1u << order);
        order++;
    }
    frame_pages[i].state = PAGE_FREE;
    frame_pages[i].order = (uint8_t)order;
    page_list_push(&free_lists[order], &frame_pages[i]);
}

/* Take a block of exactly `order` off the buddy lists (splitting a larger one), or NULL. */
static struct page *buddy_alloc(unsigned order)
{
    unsigned o = order;
    while (o <= PAGE_MAX_ORDER && page_list_empty(&free_lists[o]))
        o++;
    if (o > PAGE_MAX_ORDER)
        return NULL;
    struct page *pg = page_list_first(&free_lists[o]);
    page_list_remove(&free_lists[o], pg);
    uint32_t i = page_index(pg);
    if (o == PAGE_MAX_ORDER && i / BIG_PAGES < UNTOUCHED_MAX &&
        (untouched[i / BIG_PAGES / 64] >> (i / BIG_PAGES % 64) & 1)) {
        untouched[i / BIG_PAGES / 64] &= ~(1ull << (i / BIG_PAGES % 64));
        clear_states(pg, BIG_PAGES);
    }
    while (o > order) {         /* split, keeping the lower half */
        o--;
        struct page *upper = &frame_pages[i + (1u << o)];
        upper->state = PAGE_FREE;
        upper->order = (uint8_t)o;
        page_list_push(&free_lists[o], upper);
    }
    pg->state = PAGE_UNUSABLE;
    return pg;
}

/* Refill the single-page cache with one block of up to PCACHE_REFILL_ORDER. */
static int pcache_refill(void)
{
    for (int o = PCACHE_REFILL_ORDER; o >= 0; o--) {
        struct page *pg = buddy_alloc((unsigned)o);
        if (!pg)
            continue;
        uint32_t first = page_index(pg);
        for (uint32_t k = 1u << o; k-- > 0;) {
            frame_pages[first + k].state = PAGE_CACHED;
            pcache[npcache++] = first + k;
        }
        return 1;
    }
    return 0;
}

/* Give every cached page back to the buddy lists (so that they can merge). */
static void pcache_drain(void)
{
    while (npcache)
        free_block(pcache[--npcache], 0);
}

static void *hand_out(struct page *pg, unsigned order, uint32_t owner)
{
    long broken = poison_broken(page_address(pg), (size_t)PAGE_SIZE << order);
    if (broken >= 0)                    /* the debug kernel: freed memory was written */
        panic("page_alloc: free page %p was written after it was freed (word %ld)",
              page_address(pg), broken);
    pg->state = PAGE_ALLOCATED;
    pg->order = (uint8_t)order;
    pg->refcount = 1;
    pg->owner = owner;
    nfree -= 1ul << order;
    return page_address(pg);
}

void *page_alloc_owned(unsigned order, uint32_t owner)
{
    if (order == 0) {
        if (!npcache && !pcache_refill())
            return NULL;
        return hand_out(&frame_pages[pcache[--npcache]], 0, owner);
    }
    if (order > PAGE_MAX_ORDER)
        return NULL;
    struct page *pg = buddy_alloc(order);
    if (!pg && npcache) {       /* cached single pages may complete a block */
        pcache_drain();
        pg = buddy_alloc(order);
    }
    return pg ? hand_out(pg, order, owner) : NULL;
}

void *page_alloc(unsigned order)
{
    return page_alloc_owned(order, 0);
}

void *page_zalloc(unsigned order)
{
    void *p = page_alloc(order);
    if (p)
        memset(p, 0, (size_t)PAGE_SIZE << order);
    return p;
}

void *page_adopt(uint64_t pa)
{
    struct page *pg = (pa & (PAGE_SIZE - 1)) ? NULL : page_of(phys_to_virt(pa));
    if (!pg || pg->state != PAGE_UNUSABLE)
        return NULL;
    pg->state = PAGE_ALLOCATED;
    pg->order = 0;
    pg->refcount = 1;
    pg->owner = 0;
    ntotal++;
    return page_address(pg);
}

void page_free(void *va, unsigned order)
{
    struct page *pg = page_of(va);
    if (!pg || ((uintptr_t)va & (PAGE_SIZE - 1)))
        panic("page_free: %p is not a page the allocator manages", va);
    if (pg->state != PAGE_ALLOCATED)
        panic("page_free: %p is not allocated (double free?)", va);
    if (pg->order != order)
        panic("page_free: %p was allocated with order %u, freed with order %u", va, pg->order, order);
    if (pg->owner) {
        account_page_freed(pg->owner, order);
        pg->owner = 0;
    }
    poison(va, (size_t)PAGE_SIZE << order);    /* the debug kernel checks it at hand_out */
    nfree += 1ul << order;
    if (order == 0 && npcache < PCACHE_SIZE) {
        pg->state = PAGE_CACHED;
        pcache[npcache++] = page_index(pg);
    } else {
        free_block(page_index(pg), order);
    }
}

/* The allocated block starting at va; panics (naming `who`) if va is not one. */
static struct page *allocated_block(const void *va, const char *who)
{
    struct page *pg = page_of(va);
    if (!pg || pg->state != PAGE_ALLOCATED || ((uintptr_t)va & (PAGE_SIZE - 1)))
        panic("%s: %p is not an allocated block", who, va);
    return pg;
}

int page_ref(void *va)
{
    struct page *pg = allocated_block(va, "page_ref");
    if (pg->refcount >= PAGE_REF_MAX)
        return KS_ERR_NO_MEMORY;
    pg->refcount++;
    return 0;
}

void page_unref(void *va)
{
    struct page *pg = allocated_block(va, "page_unref");
    if (--pg->refcount == 0)
        page_free(va, pg->order);
}

int page_flag(void *va, uint16_t flag)
{
    return (allocated_block(va, "page_flag")->inuse & flag) != 0;
}

void page_flag_set(void *va, uint16_t flag, int on)
{
    struct page *pg = allocated_block(va, "page_flag_set");
    pg->inuse = on ? pg->inuse | flag : pg->inuse & (uint16_t)~flag;
}

uint32_t page_refcount(void *va)
{
    return allocated_block(va, "page_refcount")->refcount;
}

size_t page_free_count(void) { return nfree; }
size_t page_total_count(void) { return ntotal; }

/* Does [a, a+len) overlap any reserved range? */
static int overlaps_reserved(const struct platform *p, uint64_t a, uint64_t len)
{
    for (int i = 0; i < p->nreserved; i++) {
        const struct mem_range *r = &p->reserved[i];
        if (a < r->base + r->size && r->base < a + len)
            return 1;
    }
    return 0;
}

/* The lowest place in RAM for `len` bytes that avoids every reserved range. */
static uint64_t find_space(const struct platform *p, uint64_t len)
{
    for (int i = 0; i < p->nram; i++) {
        const struct mem_range *ram = &p->ram[i];
        /* Candidates: the range's start and the end of every reservation. */
        for (int c = -1; c < p->nreserved; c++) {
            uint64_t a = c < 0 ? ram->base : p->reserved[c].base + p->reserved[c].size;
            a = (a + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
            if (a >= ram->base && a + len <= ram->base + ram->size && !overlaps_reserved(p, a, len))
                return a;
        }
    }
    return 0;
}

/* Is [a, a+len) inside one RAM range and clear of every reservation? */
static int range_usable(const struct platform *p, uint64_t a, uint64_t len)
{
    for (int i = 0; i < p->nram; i++)
        if (a >= p->ram[i].base && a + len <= p->ram[i].base + p->ram[i].size)
            return !overlaps_reserved(p, a, len);
    return 0;
}

/* The frame after unusable frame i: past the reservation holding it, if one does. */
static uint32_t skip_reserved(const struct platform *p, uint32_t i)
{
    uint64_t pa = (frame_base_pfn + i) << PAGE_SHIFT;
    for (int k = 0; k < p->nreserved; k++) {
        const struct mem_range *r = &p->reserved[k];
        if (pa >= r->base && pa - r->base < r->size) {
            uint64_t end = (r->base + r->size + PAGE_SIZE - 1) >> PAGE_SHIFT;
            return end - frame_base_pfn < frame_count ? (uint32_t)(end - frame_base_pfn) : frame_count;
        }
    }
    return i + 1;
}

void page_alloc_init(struct platform *p)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < p->nram; i++) {
        if (p->ram[i].base < lo)
            lo = p->ram[i].base;
        if (p->ram[i].base + p->ram[i].size > hi)
            hi = p->ram[i].base + p->ram[i].size;
    }
    /* Align the first frame to the largest block so that buddies are aligned in RAM too. */
    frame_base_pfn = (lo >> PAGE_SHIFT) & ~(uint64_t)((1u << PAGE_MAX_ORDER) - 1);
    uint64_t span = (hi >> PAGE_SHIFT) - frame_base_pfn;
    if (lo >= hi || span >= PAGE_NIL)
        panic("page_alloc_init: cannot manage RAM 0x%lx-0x%lx", (unsigned long)lo, (unsigned long)hi);
    frame_count = (uint32_t)span;

    uint32_t nbig = (frame_count + BIG_PAGES - 1) / BIG_PAGES;
    uint64_t array_bytes = ((uint64_t)frame_count * sizeof(struct page) + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    uint64_t array_pa = find_space(p, array_bytes);
    if (!array_pa)
        panic("page_alloc_init: no room in RAM for %lu bytes of page descriptors",
              (unsigned long)array_bytes);
    platform_reserve(p, array_pa, array_bytes);
    frame_pages = phys_to_virt(array_pa);
    for (uint32_t b = 0; b < nbig; b++) {
        uint64_t pa = (frame_base_pfn + (uint64_t)b * BIG_PAGES) << PAGE_SHIFT;
        int whole = b < UNTOUCHED_MAX && (b + 1) * BIG_PAGES <= frame_count &&
                    range_usable(p, pa, (uint64_t)PAGE_SIZE * BIG_PAGES);
        if (b < UNTOUCHED_MAX)
            untouched[b / 64] = whole ? untouched[b / 64] | 1ull << (b % 64)
                                      : untouched[b / 64] & ~(1ull << (b % 64));
        if (!whole)
            clear_states(&frame_pages[b * BIG_PAGES],
                         frame_count - b * BIG_PAGES < BIG_PAGES ? frame_count - b * BIG_PAGES : BIG_PAGES);
    }
    for (int o = 0; o <= PAGE_MAX_ORDER; o++)
        free_lists[o].head = PAGE_NIL;
    nfree = ntotal = 0;
    npcache = 0;

    /*
     * Free the usable frames as the largest aligned blocks that fit: at each
     * usable frame, try the largest block its alignment allows and halve it
     * until it is usable (most of RAM goes in 4 MiB blocks, one check each); an
     * unusable frame skips to the end of the reservation holding it.
     */
    for (uint32_t i = 0; i < frame_count;) {
        uint64_t pa = (frame_base_pfn + i) << PAGE_SHIFT;
        if (!range_usable(p, pa, PAGE_SIZE)) {
            i = skip_reserved(p, i);
            continue;
        }
        unsigned order = 0;
        while (order < PAGE_MAX_ORDER && i % (2u << order) == 0)
            order++;
        while (order > 0 && (frame_count - i < (1u << order) ||
                             !range_usable(p, pa, (uint64_t)PAGE_SIZE << order)))
            order--;
        poison(page_address(&frame_pages[i]), (size_t)PAGE_SIZE << order);
        free_block(i, order);
        nfree += 1ul << order;
        ntotal += 1ul << order;
        i += 1u << order;
    }
}
