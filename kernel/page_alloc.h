/*
 * kernel/page_alloc.h - the physical page allocator (a binary buddy allocator).
 *
 * Blocks are 2^order contiguous pages, order 0..PAGE_MAX_ORDER, aligned to their
 * size. Every page of RAM has a struct page; the array sits in RAM itself and is
 * indexed by page frame number minus the first frame. Pages are handed out as
 * kernel virtual addresses in the direct map.
 */
#ifndef KERNEL_PAGE_ALLOC_H
#define KERNEL_PAGE_ALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <arch/memlayout.h>

struct platform;

#define PAGE_MAX_ORDER 10       /* largest block: 1024 pages, 4 MiB */
#define PAGE_NIL UINT32_MAX     /* "no page" in the list links below */

enum page_state {
    PAGE_UNUSABLE = 0,  /* not RAM, reserved, or inside a larger block */
    PAGE_FREE,          /* first page of a free block of `order` */
    PAGE_ALLOCATED,     /* first page of an allocated block of `order` */
    PAGE_SLAB,          /* a kmalloc slab page (kernel/heap.c owns the fields below) */
    PAGE_CACHED,        /* a free single page in the allocator's page cache */
};

struct page {
    union {
        struct {
            uint32_t next, prev;    /* list links (page indices), for whichever list holds it */
        };
        uint32_t owner;     /* allocated block: the account charged for it, 0 if none
                               (kernel/account.h); page_free gives the charge back */
    };
    uint8_t state;          /* enum page_state */
    uint8_t order;          /* block order; for a slab, its size class */
    uint16_t inuse;         /* slab: objects handed out */
    union {
        uint32_t freelist;  /* slab: offset of the first free object + 1 (0: none) */
        uint32_t refcount;  /* allocated block: references (page_ref/page_unref) */
    };
};
_Static_assert(sizeof(struct page) == 16, "struct page stays small: one per 4 KiB of RAM");

/* A doubly linked list of pages threaded through struct page next/prev. */
struct page_list {
    uint32_t head;
};

/*
 * Take over all RAM the platform lists except its reserved ranges; the page
 * array itself is placed in RAM and added to the reserved ranges. Panics if
 * there is not enough RAM for it.
 */
void page_alloc_init(struct platform *p);

/* A block of 2^order pages (contents undefined), or NULL if none is free. */
void *page_alloc(unsigned order);

/* As page_alloc, the block charged to account `owner` (kernel/account.h's account_page_alloc). */
void *page_alloc_owned(unsigned order, uint32_t owner);

/* As page_alloc, zero-filled. */
void *page_zalloc(unsigned order);

/*
 * Hand the allocator a frame of a reserved range that holds data to keep (the
 * boot image inside the kernel's image): it becomes an allocated page with one
 * reference, charged to no account, and free RAM once its last reference goes.
 * The frame must be in managed RAM and outside every block the allocator has
 * ever had; its kernel (direct map) address, or NULL if pa is not such a frame.
 */
void *page_adopt(uint64_t pa);

/* Return a block from page_alloc with the same order. Panics on a double free. */
void page_free(void *va, unsigned order);

/*
 * Reference counts on allocated blocks: page_alloc returns a block with one
 * reference; page_unref frees it when the last one goes. Memobjs and page
 * tables share pages this way. The count is 32 bits (struct page stays 16
 * bytes), so page_ref refuses to pass PAGE_REF_MAX: it returns
 * KS_ERR_NO_MEMORY and leaves the count as it was (a page mapped that many
 * times, the shared zero page say, is "out of references"); else 0.
 */
#define PAGE_REF_MAX 0xfffff000u
int page_ref(void *va);
void page_unref(void *va);
uint32_t page_refcount(void *va);

/*
 * A flag of allocated page va, kept in its descriptor's `inuse` (which only
 * slabs use otherwise): PAGE_DIRTY and PAGE_ACCESSED, for a paged memobj's
 * pages (kernel/pager.h). flag may name several. Whoever sets one first sets
 * it to a known value.
 */
#define PAGE_DIRTY 1u
#define PAGE_ACCESSED 2u        /* (a paged memobj's page was read or written since the pager asked) */
int page_flag(void *va, uint16_t flag);
void page_flag_set(void *va, uint16_t flag, int on);

/* Free pages now, and pages managed in all. */
size_t page_free_count(void);
size_t page_total_count(void);

/*
 * The frame table: frame_pages[i] describes frame frame_base_pfn + i, for
 * frame_count frames (set once at boot). Public only for the lookups below,
 * which every kfree and page fault makes and which cost more as calls.
 */
extern struct page *frame_pages;
extern uint64_t frame_base_pfn;
extern uint32_t frame_count;

/* The struct page of the page holding va (NULL if va is not managed RAM), and back. */
static inline struct page *page_of(const void *va)
{
    uint64_t pfn = virt_to_phys(va) >> PAGE_SHIFT;
    if (pfn < frame_base_pfn || pfn - frame_base_pfn >= frame_count)
        return NULL;
    return &frame_pages[pfn - frame_base_pfn];
}

/* pg's index in frame_pages. */
static inline uint32_t page_index(const struct page *pg)
{
    return (uint32_t)(pg - frame_pages);
}

static inline void *page_address(const struct page *pg)
{
    return phys_to_virt((frame_base_pfn + (uint64_t)(pg - frame_pages)) << PAGE_SHIFT);   /* (no 32-bit cut) */
}

static inline void page_list_push(struct page_list *l, struct page *pg)
{
    uint32_t i = page_index(pg);
    pg->prev = PAGE_NIL;
    pg->next = l->head;
    if (l->head != PAGE_NIL)
        frame_pages[l->head].prev = i;
    l->head = i;
}

static inline void page_list_remove(struct page_list *l, struct page *pg)
{
    if (pg->prev != PAGE_NIL)
        frame_pages[pg->prev].next = pg->next;
    else
        l->head = pg->next;
    if (pg->next != PAGE_NIL)
        frame_pages[pg->next].prev = pg->prev;
    pg->next = pg->prev = PAGE_NIL;
}
static inline int page_list_empty(const struct page_list *l) { return l->head == PAGE_NIL; }
static inline struct page *page_list_first(const struct page_list *l)
{
    return l->head == PAGE_NIL ? NULL : &frame_pages[l->head];
}

#endif
