/*
 * kernel/memobj.c - memory objects and views (see memobj.h).
 *
 * The memobj holds one reference on each of its pages; each page-table entry
 * mapping a page holds another (kernel/vm.c), so truncating a memobj that is
 * mapped privately leaves the private copies intact.
 */
#include <arch/arch.h>
#include <arch/memlayout.h>
#include <kestrel/errors.h>
#include <kestrel/syscall.h>
#include "account.h"
#include "dma.h"
#include "heap.h"
#include "kprintf.h"
#include "memobj.h"
#include "page_alloc.h"
#include "pager.h"
#include "sched.h"
#include "thread.h"
#include "string.h"
#include "uaccess.h"

static void put_page(uint64_t index, void *page, void *arg)
{
    (void)index;
    (void)arg;
    page_unref(page);
    sched_long_window();        /* a huge memobj's end keeps no interrupt waiting */
}

/*
 * Stop the device's DMA before memory made for it is freed: write 0 to its
 * reset register and wait until it reads 0 (virtio: the reset is done). 1 if
 * it did, 0 if it would not (the memory must then stay out of use).
 */
static int device_reset(struct memobj *device)
{
    *device->reset_reg = 0;
    for (int i = 0; i < 100000; i++)
        if (*device->reset_reg == 0)
            return 1;
    return 0;
}

static void memobj_destroy(struct object *o)
{
    struct memobj *mo = memobj_from_object(o);
    radix_remove_from(&mo->pages, 0, put_page, NULL);
    pager_detach(mo);
    if (mo->dma_block) {
        if (device_reset(mo->dma_device)) {
            page_unref(mo->dma_block);  /* gives the account its charge back */
            dma_unpin_all(mo);          /* (the device can no longer reach them either) */
        } else
            kprintf("memobj: a device did not reset; its DMA memory (%lu pages) is kept out of use\n",
                    1ul << mo->dma_order);
        object_put(&mo->dma_device->obj);
    }
    account_kfree(account_of(o), mo);
}

/* One handle left (a paged memobj's pager may have asked to hear when nothing else holds it). */
static void memobj_one_handle(struct object *o)
{
    memobj_user_gone(memobj_from_object(o));
}

static const struct object_ops memobj_ops = { .destroy = memobj_destroy, .on_one_handle = memobj_one_handle };

void memobj_paged_user_gone(struct memobj *mo)
{
    if (mo->obj.handles <= 1 && mo->views == 0 && list_empty(&mo->mappings))
        pager_unused(mo);
}

struct memobj *memobj_create(struct account *a, uint64_t size)
{
    if (size > MEMOBJ_MAX_SIZE)
        return NULL;
    struct memobj *mo = ACCOUNT_OBJECT_NEW(a, struct memobj, obj, KS_OBJ_MEMOBJ, &memobj_ops);
    if (!mo)
        return NULL;
    mo->size = size;
    radix_init(&mo->pages, a);
    list_init(&mo->mappings);
    return mo;
}

struct memobj *memobj_create_device(uint64_t pa, uint64_t size)
{
    uint64_t base = pa & ~(uint64_t)(PAGE_SIZE - 1);
    uint64_t end = (pa + size + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    struct memobj *mo = end > base ? memobj_create(NULL, end - base) : NULL;
    if (mo) {
        mo->device = 1;
        mo->device_pa = base;
    }
    return mo;
}

struct memobj *memobj_create_dma(struct account *a, uint64_t size, struct memobj *device)
{
    if (size == 0 || size > KS_DMA_MAX_SIZE)
        return NULL;
    unsigned order = 0;
    while ((uint64_t)PAGE_SIZE << order < size)
        order++;
    struct memobj *mo = memobj_create(a, PAGE_SIZE << order);
    void *block = mo ? account_page_alloc(a, order, 1) : NULL;
    if (!block) {
        if (mo)
            object_put(&mo->obj);
        return NULL;
    }
    mo->device = 1;
    mo->device_pa = virt_to_phys(block);
    mo->dma_block = block;
    mo->dma_order = order;
    mo->dma_device = device;
    object_get(&device->obj);
    return mo;
}

/* A new zeroed page at index (missing there), or NULL without memory. */
static void *page_new(struct memobj *mo, uint64_t index)
{
    void *page = account_page_alloc(account_of(&mo->obj), 0, 1);
    if (!page)
        return NULL;
    if (radix_insert(&mo->pages, index, page) != 0) {
        page_unref(page);
        return NULL;
    }
    mo->hint_index = index;
    mo->hint_page = page;
    return page;
}

void *memobj_page(struct memobj *mo, uint64_t index, int create)
{
    void *page = memobj_lookup(mo, index);
    return page || !create ? page : page_new(mo, index);
}

long memobj_fill(struct memobj *mo, uint64_t off, const void *src, uint64_t len)
{
    const uint8_t *s = src;
    if (mo->device || off > MEMOBJ_MAX_SIZE || len > MEMOBJ_MAX_SIZE - off)
        return KS_ERR_INVALID;
    while (len) {
        uint64_t index = off >> PAGE_SHIFT, in_page = off & (PAGE_SIZE - 1);
        uint64_t n = PAGE_SIZE - in_page < len ? PAGE_SIZE - in_page : len;
        uint8_t *page = memobj_lookup(mo, index);
        if (!page) {
            /* A new page: zero only what the copy below does not cover. */
            if (!(page = account_page_alloc(account_of(&mo->obj), 0, 0)))
                return KS_ERR_NO_MEMORY;
            memset(page, 0, in_page);
            memset(page + in_page + n, 0, PAGE_SIZE - in_page - n);
            if (radix_insert(&mo->pages, index, page) != 0) {
                page_unref(page);
                return KS_ERR_NO_MEMORY;
            }
        }
        memcpy(page + in_page, s, n);
        s += n;
        off += n;
        len -= n;
        if (off > mo->size)
            mo->size = off;
    }
    return 0;
}

long memobj_adopt(struct memobj *mo, const void *start, uint64_t len)
{
    if (mo->device || mo->size || ((uintptr_t)start & (PAGE_SIZE - 1)) || len > MEMOBJ_MAX_SIZE)
        return KS_ERR_INVALID;
    uint64_t n = (len + PAGE_SIZE - 1) >> PAGE_SHIFT, room = 0;
    void **slot = NULL;
    for (uint64_t i = 0; i < n; i++, slot++, room--) {
        if (!room && !(slot = radix_slot(&mo->pages, i, &room)))
            return KS_ERR_NO_MEMORY;    /* one walk per leaf, not per page */
        void *page = page_adopt(virt_to_phys((const uint8_t *)start + (i << PAGE_SHIFT)));
        if (!page)
            return KS_ERR_INVALID;
        *slot = page;
    }
    mo->size = len;
    return 0;
}

/* One user copy (the range is checked already): 0, or nonzero on a fault. */
static inline __attribute__((always_inline)) int user_copy(int to_user, uintptr_t u, uint8_t *k, uint64_t n)
{
    if (!to_user)
        return arch_copy_user(k, (const void *)u, n);
    return k ? arch_copy_user((void *)u, k, n) : arch_clear_user((void *)u, n);
}

/*
 * Copy n bytes (within one memobj page) between user address u and kernel
 * address k (to_user says which way; k NULL sends zeroes). Returns the bytes
 * copied: n, or after a fault the exact count up to the first user page that
 * cannot be touched, found by copying again a user page at a time (the first
 * attempt stopped inside that page, so nothing past it was written). Copying
 * whole memobj pages in one go matters: a buffer that is not page-aligned would
 * otherwise cost two copies per page.
 */
static __attribute__((noinline)) uint64_t copy_piece_slow(int to_user, uintptr_t u, uint8_t *k, uint64_t n)
{
    uint64_t done = 0;
    while (done < n) {
        uint64_t m = PAGE_SIZE - ((u + done) & (PAGE_SIZE - 1));
        if (m > n - done)
            m = n - done;
        if (user_copy(to_user, u + done, k ? k + done : NULL, m))
            break;
        done += m;
    }
    return done;
}

/* copy_piece's common case, a copy that does not fault, inline in the loops. */
static inline __attribute__((always_inline)) uint64_t copy_piece(int to_user, uintptr_t u, uint8_t *k, uint64_t n)
{
    return user_copy(to_user, u, k, n) == 0 ? n : copy_piece_slow(to_user, u, k, n);
}

/*
 * Between two pages of a long copy, with an interrupt pending: take it, and
 * let another thread run if the tick says so (sched_preempt_long). 0 if the
 * thread is being killed meanwhile (the copy stops: nobody will see its
 * result), else 1. The page pointers of the loop are looked up again after it.
 */
static __attribute__((noinline)) int preempt_between_pages(void)
{
    sched_preempt_long();
    return !current_thread()->flags;
}

static long read_loop(struct memobj *mo, uint64_t offset, uintptr_t ubuf, uint64_t len, int preemptible)
{
    if (mo->device)
        return KS_ERR_INVALID;          /* registers are read through a mapping */
    if (!user_range_ok(ubuf, len))
        return KS_ERR_FAULT;
    if (offset >= mo->size)
        return 0;
    if (len > mo->size - offset)
        len = mo->size - offset;
    uint64_t done = 0;
    while (done < len) {
        uint64_t pos = offset + done, in_page = pos & (PAGE_SIZE - 1);
        uint64_t n = PAGE_SIZE - in_page < len - done ? PAGE_SIZE - in_page : len - done;
        uint8_t *page = memobj_lookup(mo, pos >> PAGE_SHIFT);
        if (!page && pager_backs(mo, pos >> PAGE_SHIFT))
            return done ? (long)done : pager_request(mo, pos >> PAGE_SHIFT);
        if (__builtin_expect(mo->pager != NULL, 0) && page)
            pager_accessed(page);
        uint64_t got = copy_piece(1, ubuf + done, page ? page + in_page : NULL, n);
        done += got;
        if (got < n)
            return done ? (long)done : KS_ERR_FAULT;
        if (preemptible && done < len && arch_irq_pending() && !preempt_between_pages())
            break;
    }
    return (long)done;
}

long memobj_read(struct memobj *mo, uint64_t offset, uintptr_t ubuf, uint64_t len)
{
    return read_loop(mo, offset, ubuf, len, 0);
}

long memobj_read_long(struct memobj *mo, uint64_t offset, uintptr_t ubuf, uint64_t len)
{
    return read_loop(mo, offset, ubuf, len, 1);
}

/* write_loop past its quick case: page by page (a paged memobj's, a new page, a long write). */
static __attribute__((noinline)) long write_pages(struct memobj *mo, uint64_t offset, uintptr_t ubuf,
                                                  uint64_t len, int preemptible)
{
    if (__builtin_expect(mo->fixed_size, 0) && offset + len > mo->size) {
        if (offset >= mo->size)
            return len ? KS_ERR_NO_SPACE : 0;   /* (a disk: nothing past its end, and no growth) */
        len = mo->size - offset;
    }
    uint64_t done = 0;
    while (done < len) {
        uint64_t pos = offset + done, in_page = pos & (PAGE_SIZE - 1);
        uint64_t n = PAGE_SIZE - in_page < len - done ? PAGE_SIZE - in_page : len - done;
        uint8_t *page = memobj_lookup(mo, pos >> PAGE_SHIFT);
        if (!page && pager_backs(mo, pos >> PAGE_SHIFT))
            return done ? (long)done : pager_request(mo, pos >> PAGE_SHIFT);     /* its old bytes first */
        if (!page && !(page = page_new(mo, pos >> PAGE_SHIFT))) {
            if (!done)
                return KS_ERR_NO_MEMORY;
            break;
        }
        uint64_t got = copy_piece(0, ubuf + done, page + in_page, n);
        if (got)
            memobj_note_change(mo);     /* (pager_dirtied's too, for a paged one) */
        if (__builtin_expect(mo->pager != NULL, 0) && got)
            pager_dirtied(mo, page);
        done += got;
        if (got && offset + done > mo->size) {
            mo->size = offset + done;
            if (__builtin_expect(mo->pager != NULL, 0))
                pager_resized(mo);      /* growth is reported */
        }
        if (got < n) {
            if (!done)
                return KS_ERR_FAULT;
            break;
        }
        if (preemptible && done < len && arch_irq_pending() && !preempt_between_pages())
            break;
    }
    return (long)done;
}

/*
 * The checks, then the common small write: inside the page written last
 * (write(fd, buf, 1) in a loop), with no frame beyond the copy's call;
 * anything else is write_pages'.
 */
static inline __attribute__((always_inline)) long write_loop(struct memobj *mo, uint64_t offset,
                                                            uintptr_t ubuf, uint64_t len, int preemptible)
{
    if (mo->device)
        return KS_ERR_INVALID;
    if (!user_range_ok(ubuf, len))
        return KS_ERR_FAULT;
    if (offset > MEMOBJ_MAX_SIZE || len > MEMOBJ_MAX_SIZE - offset)
        return KS_ERR_RANGE;
    uint64_t in_page = offset & (PAGE_SIZE - 1);
    if (len && mo->hint_page && mo->hint_index == offset >> PAGE_SHIFT && len <= PAGE_SIZE - in_page &&
        !mo->pager &&                   /* (a paged memobj's page turns dirty: write_pages) */
        arch_copy_user((uint8_t *)mo->hint_page + in_page, (const void *)ubuf, len) == 0) {
        if (offset + len > mo->size)
            mo->size = offset + len;
        memobj_note_change(mo);
        return (long)len;
    }
    return write_pages(mo, offset, ubuf, len, preemptible);
}

long memobj_write(struct memobj *mo, uint64_t offset, uintptr_t ubuf, uint64_t len)
{
    return write_loop(mo, offset, ubuf, len, 0);
}

long memobj_write_long(struct memobj *mo, uint64_t offset, uintptr_t ubuf, uint64_t len)
{
    return write_loop(mo, offset, ubuf, len, 1);
}

static void (*unmap_hook)(struct memobj *mo, uint64_t first_page);

void memobj_set_unmap_hook(void (*unmap)(struct memobj *mo, uint64_t first_page))
{
    unmap_hook = unmap;
}

long memobj_truncate(struct memobj *mo, uint64_t size)
{
    if (mo->device || mo->fixed_size)
        return KS_ERR_INVALID;          /* its size is the device's */
    if (size > MEMOBJ_MAX_SIZE)
        return KS_ERR_RANGE;
    uint64_t first_gone = (size + PAGE_SIZE - 1) >> PAGE_SHIFT;
    if (size < mo->size) {
        if (unmap_hook)                 /* no address space yet: nothing is mapped */
            unmap_hook(mo, first_gone);
        mo->hint_page = NULL;
        radix_remove_from(&mo->pages, first_gone, put_page, NULL);
        uint8_t *last = (size & (PAGE_SIZE - 1)) ? memobj_page(mo, size >> PAGE_SHIFT, 0) : NULL;
        if (last)
            memset(last + (size & (PAGE_SIZE - 1)), 0, PAGE_SIZE - (size & (PAGE_SIZE - 1)));
    }
    mo->size = size;
    memobj_note_change(mo);
    pager_truncated(mo, size);
    return 0;
}

static void view_destroy(struct object *o)
{
    struct view *v = view_from_object(o);
    if (v->mo) {                        /* (view_new's, never bound, has none) */
        v->mo->views--;
        memobj_user_gone(v->mo);
        object_put(&v->mo->obj);
    }
    account_kfree(account_of(o), v);
}

static const struct object_ops view_ops = { .destroy = view_destroy };

struct view *view_new(struct account *a)
{
    return ACCOUNT_OBJECT_NEW(a, struct view, obj, KS_OBJ_VIEW, &view_ops);
}

void view_bind(struct view *v, struct memobj *mo)
{
    v->mo = mo;
    object_get(&mo->obj);
    mo->views++;
}

struct view *view_create(struct account *a, struct memobj *mo)
{
    struct view *v = view_new(a);
    if (v)
        view_bind(v, mo);
    return v;
}
