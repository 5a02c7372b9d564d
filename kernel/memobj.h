/*
 * kernel/memobj.h - memory objects and views.
 *
 * A memobj is a sparse, resizable array of pages: pages that were never written
 * read as zeros and take no memory. It can be read and written at an offset,
 * truncated, and mapped into address spaces (kernel/vm.h). A view adds a
 * position to a memobj, so that read/write/seek behave like POSIX calls on a
 * regular file; the view handle's rights limit what it may do.
 *
 * A device memobj is different: its pages are a fixed range of physical device
 * registers, not RAM. They are never allocated, zero-filled, copied or freed,
 * and no page reference is taken on them; it can only be mapped shared and
 * never executable (kernel/vm.c), and read/write/truncate/views refuse it.
 */
#ifndef KERNEL_MEMOBJ_H
#define KERNEL_MEMOBJ_H

#include <stdint.h>
#include <arch/arch.h>
#include "list.h"
#include "object.h"
#include "radix.h"

#define MEMOBJ_MAX_SIZE (1ull << 40)    /* 1 TiB: offsets beyond are KS_ERR_RANGE */

struct memobj {
    struct object obj;
    uint64_t size;
    struct radix pages;         /* page index -> kernel address of the page */
    struct list mappings;       /* struct vm_area.mo_link */
    int device;                 /* a device memobj: pages are device_pa + index * PAGE_SIZE */
    int fixed_size;             /* a paged memobj whose size never changes (KS_PAGED_FIXED_SIZE) */
    uint64_t device_pa;
    void *dma_block;            /* a DMA memobj (also `device`): its RAM, 2^dma_order pages */
    unsigned dma_order;
    struct memobj *dma_device;  /* the device memobj it was made for (held) */
    void **dma_pins;            /* a DMA memobj: pages of other memobjs pinned through it (dma.h) */
    volatile uint32_t *reset_reg;   /* a device memobj: writing 0 there stops the device's DMA
                                       (virtio's status register), or NULL */
    struct pager *pager;        /* a paged memobj (kernel/pager.h): who supplies missing pages */
    uint64_t views;             /* views of it (each holds a reference) */
    uint64_t changed;           /* arch_time_now() at the last change (KS_SYS_MEMOBJ_STAT), 0: none */
    /* The last page looked up (hint_page NULL: none), so that small reads and writes at
       one place skip the radix walk. Pages only leave a memobj by truncation, which
       clears it. */
    uint64_t hint_index;
    void *hint_page;
};

struct pager;

struct view {
    struct object obj;
    struct memobj *mo;          /* holds a reference */
    uint64_t pos;
};

/*
 * A new memobj of `size` zero bytes charged to a (kernel/account.h), as its
 * pages will be, or NULL without memory (or over a's limit).
 */
struct memobj *memobj_create(struct account *a, uint64_t size);

/* memobj_user_gone's work, for a paged memobj. */
void memobj_paged_user_gone(struct memobj *mo);

/*
 * A view or a mapping of mo is going (its reference not yet dropped), or a
 * handle was closed: if mo is paged and nothing but one handle holds it now,
 * its pager hears of it (pager_unused).
 */
static inline void memobj_user_gone(struct memobj *mo)
{
    if (mo->pager)
        memobj_paged_user_gone(mo);
}

/*
 * A device memobj over the physical range [pa, pa + size), widened to whole
 * pages, charged to no account; NULL without memory.
 */
struct memobj *memobj_create_device(uint64_t pa, uint64_t size);

static inline int memobj_is_device(const struct memobj *mo) { return mo->device; }

/*
 * A DMA memobj of at least `size` bytes (1..KS_DMA_MAX_SIZE) for the device
 * of device memobj `device`: physically contiguous zeroed RAM, charged to a,
 * held until the memobj is destroyed. It behaves as a device memobj (fixed
 * size, mapped shared only, no read/write/truncate) whose pages are RAM. When
 * it is destroyed, the device is reset first (its reset_reg, which must be
 * set), so that no DMA reaches the pages after they are free: a driver makes
 * its DMA memory once, since freeing any of it stops the device. If the
 * device does not reset, the pages are never freed. NULL without memory.
 */
struct memobj *memobj_create_dma(struct account *a, uint64_t size, struct memobj *device);
static inline int memobj_is_dma(const struct memobj *mo) { return mo->dma_block != NULL; }

/*
 * The kernel address of page `index` (not of a device memobj), allocating a zeroed page if `create` and
 * it is missing. NULL if missing (and !create) or out of memory.
 */
void *memobj_page(struct memobj *mo, uint64_t index, int create);

/*
 * Copy kernel bytes into a memobj (growing it): for the boot image. New pages
 * are zeroed only where the copy does not cover them. 0 or KS_ERR_NO_MEMORY
 * (what was copied stays), KS_ERR_INVALID for a device memobj or a range past
 * MEMOBJ_MAX_SIZE.
 */
long memobj_fill(struct memobj *mo, uint64_t off, const void *src, uint64_t len);

/*
 * Make the len bytes at `start` (page-aligned kernel memory in a reserved range,
 * zero after len to the end of its last page) the contents of the empty
 * memobj mo, taking their pages over (page_adopt) instead of copying them.
 * 0, or KS_ERR_NO_MEMORY (radix nodes) or KS_ERR_INVALID (not such memory).
 */
long memobj_adopt(struct memobj *mo, const void *start, uint64_t len);

/* The page at index if present (a memobj that was never written has none). */
static inline void *memobj_lookup(struct memobj *mo, uint64_t index)
{
    if (mo->hint_page && mo->hint_index == index)
        return mo->hint_page;
    void *page = mo->pages.height ? radix_lookup(&mo->pages, index) : NULL;
    if (page) {
        mo->hint_index = index;
        mo->hint_page = page;
    }
    return page;
}

/*
 * Copy to/from user memory. Bytes done (reads stop at the size; writes grow it)
 * or an error; KS_ERR_INVALID on a device memobj (as for truncate).
 */
/*
 * (Of a paged memobj, a page the pager has not supplied stops these copies:
 * KS_ERR_PAGER_WAIT if nothing was copied yet, after pager_request; else the
 * bytes copied up to it. The caller waits (pager_wait) and goes on.)
 */
long memobj_read(struct memobj *mo, uint64_t offset, uintptr_t ubuf, uint64_t len);
long memobj_write(struct memobj *mo, uint64_t offset, uintptr_t ubuf, uint64_t len);

/*
 * memobj_read and memobj_write for a long copy: between pages, a pending
 * interrupt is taken and another thread may run (sched_preempt_long), so
 * interrupts never wait for more than a page's copy. The caller must hold a
 * reference on mo (other threads may close handles meanwhile) and may see
 * the memobj change between pages; a thread being killed stops early.
 */
long memobj_read_long(struct memobj *mo, uint64_t offset, uintptr_t ubuf, uint64_t len);
long memobj_write_long(struct memobj *mo, uint64_t offset, uintptr_t ubuf, uint64_t len);

/* Set the size; pages beyond it are freed and unmapped, the tail of the last page zeroed. */
long memobj_truncate(struct memobj *mo, uint64_t size);

/*
 * Who unmaps a truncated memobj's pages from the address spaces that map
 * them: the VM (kernel/vm.c), which sits above memobjs, registers itself here
 * when it makes its first address space. Called by memobj_truncate with the
 * first page index that goes, before the pages are freed.
 */
void memobj_set_unmap_hook(void (*unmap)(struct memobj *mo, uint64_t first_page));

/* A view of mo at position 0, or NULL without memory. */
struct view *view_create(struct account *a, struct memobj *mo);

/*
 * view_create in two steps, for a caller that must not fail, nor run the
 * memobj's hooks, once it has started (the IPC fast path's reply that makes
 * a view, kernel/ipc.c): view_new allocates (NULL without memory), and its
 * last reference frees it without touching any memobj; view_bind makes it a
 * view of mo, which then counts it among its users.
 */
struct view *view_new(struct account *a);
void view_bind(struct view *v, struct memobj *mo);

/* The rights a view may have: its own (READ, WRITE), a handle's, and MAP and EXECUTE, which only its memobj handle uses. */
#define VIEW_RIGHTS (KS_RIGHT_READ | KS_RIGHT_WRITE | KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE | KS_RIGHT_MAP | \
                     KS_RIGHT_EXECUTE)

/* mo's bytes or size changed just now (struct ks_memobj_stat's changed_ns). */
static inline void memobj_note_change(struct memobj *mo)
{
    mo->changed = arch_time_now();
}

static inline struct memobj *memobj_from_object(struct object *o)
{
    return OBJECT_CAST(o, KS_OBJ_MEMOBJ, struct memobj, obj);
}

static inline struct view *view_from_object(struct object *o)
{
    return OBJECT_CAST(o, KS_OBJ_VIEW, struct view, obj);
}

#endif
