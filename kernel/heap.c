/*
 * kernel/heap.c - the kernel heap (see heap.h).
 *
 * A slab is one page cut into objects of one size class. Its free objects form a
 * list threaded through the objects (first word: offset of the next free object
 * + 1); a freed object's second word holds FREE_MARK, which is how a double free
 * is caught. Each class keeps a list of slabs that have free objects. A slab
 * whose last object is freed goes back to the page allocator at once: with the
 * page allocator's single-page cache in front, that is cheap, and it keeps the
 * count of free pages exact whatever the order of frees (the leak checks in the
 * tests rely on that).
 */
#include <stdint.h>
#include "debug.h"
#include "heap.h"
#include "page_alloc.h"
#include "panic.h"
#include "string.h"

#define NCLASSES 8                  /* 16, 32, ..., 2048 */
#define FREE_MARK 0xfee1f4eef4eeb10cull

static struct page_list partial[NCLASSES];
static size_t live_objects;

static unsigned class_size(unsigned c) { return HEAP_MIN_SLAB << c; }

/* The class of a request of 1..256 bytes, by its 16-byte step: most kernel objects are that small. */
static const uint8_t small_class[16] = { 0, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4 };

/* The smallest class that holds size bytes (1..HEAP_MAX_SLAB). */
static unsigned class_of(size_t size)
{
    if (size <= 256)
        return small_class[(size - 1) >> 4];
    unsigned c = 5;
    while (class_size(c) < size)
        c++;
    return c;
}

void heap_init(void)
{
    for (unsigned c = 0; c < NCLASSES; c++)
        partial[c].head = PAGE_NIL;
    live_objects = 0;
}

/* Turn a fresh page into a slab of class c with every object free. */
static struct page *slab_create(unsigned c)
{
    uint8_t *base = page_alloc(0);
    if (!base)
        return NULL;
    struct page *pg = page_of(base);
    unsigned size = class_size(c);
    for (unsigned off = 0; off < PAGE_SIZE; off += size) {
        uint64_t *obj = (uint64_t *)(base + off);
        obj[0] = off + size < PAGE_SIZE ? off + size + 1 : 0;
        obj[1] = FREE_MARK;
    }
    pg->state = PAGE_SLAB;
    pg->order = (uint8_t)c;
    pg->inuse = 0;
    pg->freelist = 1;
    page_list_push(&partial[c], pg);
    return pg;
}

/* slab_alloc's other case: no slab of class c has a free object (and the debug kernel's checks). */
static __attribute__((noinline)) void *slab_alloc_slow(unsigned c)
{
    struct page *pg = page_list_first(&partial[c]);
    if (!pg && !(pg = slab_create(c)))
        return NULL;
    uint64_t *obj = (uint64_t *)((uint8_t *)page_address(pg) + pg->freelist - 1);
    long broken = poison_broken(obj + 2, class_size(c) - 16);
    if (broken >= 0)                    /* the debug kernel: the freed object was written */
        panic("kmalloc: a free %u-byte object at %p was written after it was freed (word %ld)",
              class_size(c), (void *)obj, broken + 2);
    pg->freelist = (uint32_t)obj[0];
    obj[1] = 0;
    pg->inuse++;
    if (!pg->freelist)
        page_list_remove(&partial[c], pg);
    live_objects++;
    return obj;
}

/*
 * An object of class c. The common case (a slab with a free object) makes no
 * call, so kmalloc has no frame; a new slab is slab_alloc_slow's.
 */
static inline void *slab_alloc(unsigned c)
{
    struct page *pg = page_list_first(&partial[c]);
    if (!pg || KDEBUG)
        return slab_alloc_slow(c);      /* (the debug kernel checks the poison there) */
    uint64_t *obj = (uint64_t *)((uint8_t *)page_address(pg) + pg->freelist - 1);
    pg->freelist = (uint32_t)obj[0];
    obj[1] = 0;
    pg->inuse++;
    if (!pg->freelist)
        page_list_remove(&partial[c], pg);      /* its last free object: the slab is full */
    live_objects++;
    return obj;
}

static void slab_free(struct page *pg, void *p)
{
    unsigned c = pg->order, size = class_size(c);
    uintptr_t off = (uintptr_t)p - (uintptr_t)page_address(pg);
    if (off % size)
        panic("kfree: %p is not the start of a %u-byte object", p, size);
    uint64_t *obj = p;
    if (obj[1] == FREE_MARK)
        panic("kfree: double free of %p (%u-byte object)", p, size);
    int was_full = pg->freelist == 0;
    obj[0] = pg->freelist;
    obj[1] = FREE_MARK;
    poison(obj + 2, size - 16);         /* the debug kernel checks it at slab_alloc */
    pg->freelist = (uint32_t)off + 1;
    pg->inuse--;
    if (was_full)
        page_list_push(&partial[c], pg);
    if (pg->inuse == 0) {
        page_list_remove(&partial[c], pg);
        pg->state = PAGE_ALLOCATED;
        pg->order = 0;
        pg->owner = 0;
        page_free(page_address(pg), 0);
    }
}

/* The order of the page block a request of size > HEAP_MAX_SLAB takes; > PAGE_MAX_ORDER if too big. */
static unsigned block_order(size_t size)
{
    unsigned order = 0;
    while (order <= PAGE_MAX_ORDER && ((size_t)PAGE_SIZE << order) < size)
        order++;
    return order;
}

/* kmalloc of more than HEAP_MAX_SLAB bytes: a block of pages. */
static __attribute__((noinline)) void *kmalloc_pages(size_t size)
{
    unsigned order = block_order(size);
    void *p = order <= PAGE_MAX_ORDER ? page_alloc(order) : NULL;
    if (p)
        live_objects++;
    return p;
}

void *kmalloc(size_t size)
{
    if (size == 0)
        return NULL;
    return size <= HEAP_MAX_SLAB ? slab_alloc(class_of(size)) : kmalloc_pages(size);
}

void *kzalloc(size_t size)
{
    void *p = kmalloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}

/* kfree's every case, checks and panics included. */
static __attribute__((noinline)) size_t kfree_slow(void *p)
{
    size_t bytes;
    struct page *pg = page_of(p);
    if (!pg)
        panic("kfree: %p is not heap memory", p);
    if (pg->state == PAGE_SLAB) {
        bytes = class_size(pg->order);
        slab_free(pg, p);
    } else if (pg->state == PAGE_ALLOCATED && ((uintptr_t)p & (PAGE_SIZE - 1)) == 0) {
        bytes = (size_t)PAGE_SIZE << pg->order;
        page_free(p, pg->order);
    } else {
        panic("kfree: %p was not returned by kmalloc (or was freed already)", p);
    }
    live_objects--;
    return bytes;
}

/*
 * The common case without a call (so without a frame): a well-formed slab
 * object whose slab it does not leave empty. Everything else, the debug
 * kernel's poisoning and every panic, is kfree_slow's.
 */
size_t kfree(void *p)
{
    if (!p)
        return 0;
    struct page *pg = page_of(p);
    if (KDEBUG || !pg || pg->state != PAGE_SLAB || pg->inuse <= 1)
        return kfree_slow(p);
    size_t size = class_size(pg->order);
    uintptr_t off = (uintptr_t)p - (uintptr_t)page_address(pg);
    uint64_t *obj = p;
    if ((off & (size - 1)) || obj[1] == FREE_MARK)
        return kfree_slow(p);           /* (which says what is wrong) */
    if (pg->freelist == 0)
        page_list_push(&partial[pg->order], pg);    /* it was full: it has a free object again */
    obj[0] = pg->freelist;
    obj[1] = FREE_MARK;
    pg->freelist = (uint32_t)off + 1;
    pg->inuse--;
    live_objects--;
    return size;
}

size_t kmalloc_size(size_t size)
{
    if (size == 0)
        return 0;
    if (size <= HEAP_MAX_SLAB)
        return class_size(class_of(size));
    unsigned order = block_order(size);
    return order <= PAGE_MAX_ORDER ? (size_t)PAGE_SIZE << order : 0;
}

size_t heap_live_objects(void)
{
    return live_objects;
}
