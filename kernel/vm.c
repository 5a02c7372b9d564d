/*
 * kernel/vm.c - user address spaces (see vm.h).
 *
 * Page references: every mapped page-table entry holds one reference on its
 * page (page_ref). A private mapping maps the memobj's page read-only until the
 * first write; the write fault then copies it, unless this mapping holds the only
 * reference (the memobj dropped it), in which case the page is simply made
 * writable. Untouched private pages read as the shared zero page.
 *
 * Device memobjs (memobj.h) are the exception: their pages are device
 * registers, mapped shared only, never executable, with arch_pte_set_device
 * and without page references (nor are any dropped when they are unmapped),
 * and the kernel never touches them through the direct map (vm_copy refuses).
 * A DMA memobj is a device memobj whose pages are RAM the memobj holds: mapped
 * the same way but with arch_pte_set, so copies reach them.
 */
#include <arch/arch.h>
#include <arch/memlayout.h>
#include <kestrel/errors.h>
#include <kestrel/syscall.h>
#include "account.h"
#include "heap.h"
#include "memobj.h"
#include "page_alloc.h"
#include "pager.h"
#include "sched.h"
#include "string.h"
#include "trace.h"
#include "uaccess.h"
#include "vm.h"

#define PROT_MASK   (KS_PROT_READ | KS_PROT_WRITE | KS_PROT_EXEC)
#define MAP_BASE    0x0000000100000000ul    /* where non-fixed mappings are placed from */

static void *zero_page;

static int page_aligned(uint64_t v) { return (v & (PAGE_SIZE - 1)) == 0; }

/* Sv48 cannot express write-only: a writable page is readable too. Execute-only can be. */
static int access_allowed(uint32_t prot, int access)
{
    if (access == VM_WRITE)
        return prot & KS_PROT_WRITE;
    if (access == VM_EXEC)
        return prot & KS_PROT_EXEC;
    return prot & (KS_PROT_READ | KS_PROT_WRITE);
}

/* prot without write, as a private page is mapped until its copy-on-write fault. */
static uint32_t read_only(uint32_t prot)
{
    return (prot & (KS_PROT_READ | KS_PROT_WRITE) ? KS_PROT_READ : 0) | (prot & KS_PROT_EXEC);
}

struct vm_space *vm_space_create(struct account *acct)
{
    if (!zero_page) {
        if (!(zero_page = page_zalloc(0)))
            return NULL;
        memobj_set_unmap_hook(vm_unmap_memobj_pages);     /* truncation reaches mappings */
    }
    struct vm_space *vs = account_kzalloc(acct, sizeof *vs);
    if (!vs)
        return NULL;
    if (arch_aspace_init(&vs->as, acct) != 0) {
        account_kfree(acct, vs);
        return NULL;
    }
    list_init(&vs->areas);
    return vs;
}

static void unref_pa(paddr_t pa, void *arg)
{
    (void)arg;
    page_unref(phys_to_virt(pa));
    sched_long_window();        /* a huge unmap keeps no interrupt waiting */
}

/* Device pages are not RAM: no reference was taken, none is dropped. */
static void forget_pa(paddr_t pa, void *arg)
{
    (void)pa;
    (void)arg;
}

static void area_free(struct vm_area *a)
{
    a->vs->last_area = NULL;
    arch_unmap_range(&a->vs->as, a->start, a->end, a->mo->device ? forget_pa : unref_pa, NULL);
    list_remove(&a->link);
    list_remove(&a->mo_link);
    memobj_user_gone(a->mo);
    object_put(&a->mo->obj);
    account_kfree(a->vs->as.acct, a);
}

void vm_space_destroy(struct vm_space *vs)
{
    LIST_FOR_EACH(n, tmp, &vs->areas) {
        area_free(LIST_ENTRY(n, struct vm_area, link));
        sched_long_window();    /* nor do a great many small areas */
    }
    struct account *acct = vs->as.acct;
    arch_aspace_destroy(&vs->as);
    account_kfree(acct, vs);
}

long vm_space_clone(struct vm_space *dst, struct vm_space *src)
{
    LIST_FOR_EACH(n, tmp, &src->areas) {
        struct vm_area *a = LIST_ENTRY(n, struct vm_area, link);
        struct vm_area *b = account_kzalloc(dst->as.acct, sizeof *b);
        if (!b)
            return KS_ERR_NO_MEMORY;
        *b = *a;
        b->vs = dst;
        object_get(&b->mo->obj);
        list_push_back(&dst->areas, &b->link);      /* src's order is address order */
        list_push_back(&b->mo->mappings, &b->mo_link);
        if (a->flags == KS_MAP_PRIVATE && arch_copy_cow(&dst->as, &src->as, a->start, a->end) != 0)
            return KS_ERR_NO_MEMORY;
    }
    return 0;
}

static struct vm_area *area_search(struct vm_space *vs, uintptr_t addr)
{
    LIST_FOR_EACH(n, tmp, &vs->areas) {
        struct vm_area *a = LIST_ENTRY(n, struct vm_area, link);
        if (addr < a->start)
            return NULL;
        if (addr < a->end)
            return vs->last_area = a;
    }
    return NULL;
}

static inline struct vm_area *area_at(struct vm_space *vs, uintptr_t addr)
{
    struct vm_area *c = vs->last_area;
    if (c && addr >= c->start && addr < c->end)
        return c;
    return area_search(vs, addr);
}

void vm_futex_key(struct vm_space *vs, uintptr_t addr, const void **owner, uint64_t *key)
{
    struct vm_area *a = area_at(vs, addr);
    if (a && (a->flags & KS_MAP_SHARED)) {
        *owner = a->mo;
        *key = a->offset + (addr - a->start);
    } else {
        *owner = vs;
        *key = addr;
    }
}

/* Is [start, end) free of areas? Sets *after to the area to insert before (NULL: at the end). */
static int range_free(struct vm_space *vs, uintptr_t start, uintptr_t end, struct list_node **before)
{
    LIST_FOR_EACH(n, tmp, &vs->areas) {
        struct vm_area *a = LIST_ENTRY(n, struct vm_area, link);
        if (a->end <= start)
            continue;
        *before = n;
        return a->start >= end;
    }
    *before = &vs->areas.head;
    return 1;
}

/* The lowest gap of len bytes at or above hint. 0 if none. */
static uintptr_t find_gap(struct vm_space *vs, uintptr_t hint, uint64_t len)
{
    uintptr_t at = hint;
    LIST_FOR_EACH(n, tmp, &vs->areas) {
        struct vm_area *a = LIST_ENTRY(n, struct vm_area, link);
        if (a->end <= at)
            continue;
        if (a->start >= at + len)
            break;
        at = a->end;
    }
    return at + len <= USER_TOP && at + len > at ? at : 0;
}

long vm_map(struct vm_space *vs, struct memobj *mo, uint64_t offset, uintptr_t addr, uint64_t len,
            uint32_t flags, uint32_t max_prot)
{
    uint32_t sharing = flags & (KS_MAP_SHARED | KS_MAP_PRIVATE);
    if (flags & ~(PROT_MASK | KS_MAP_SHARED | KS_MAP_PRIVATE | KS_MAP_FIXED) ||
        (sharing != KS_MAP_SHARED && sharing != KS_MAP_PRIVATE))
        return KS_ERR_INVALID;
    if (len == 0 || !page_aligned(offset) || !page_aligned(addr))
        return KS_ERR_INVALID;
    if (mo->device) {
        if (sharing != KS_MAP_SHARED)
            return KS_ERR_INVALID;      /* nothing to copy on write: registers */
        max_prot &= ~KS_PROT_EXEC;
    }
    if (flags & PROT_MASK & ~max_prot)
        return KS_ERR_ACCESS;
    len = (len + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    if (len == 0 || offset > MEMOBJ_MAX_SIZE || len > MEMOBJ_MAX_SIZE - offset)
        return KS_ERR_RANGE;
    if (mo->device && (offset > mo->size || len > mo->size - offset))
        return KS_ERR_RANGE;            /* a device does not grow */
    if (flags & KS_MAP_FIXED) {
        if (addr < USER_BASE || addr >= USER_TOP || len > USER_TOP - addr)
            return KS_ERR_RANGE;
    } else {
        /* addr is a hint: the lowest gap above it, else the lowest above MAP_BASE. */
        uintptr_t at = addr >= MAP_BASE && addr < USER_TOP ? find_gap(vs, addr, len) : 0;
        addr = at ? at : find_gap(vs, MAP_BASE, len);
        if (!addr)
            return KS_ERR_NO_MEMORY;
    }
    struct list_node *before;
    if (!range_free(vs, addr, addr + len, &before))
        return KS_ERR_EXISTS;
    struct vm_area *a = account_kzalloc(vs->as.acct, sizeof *a);
    if (!a)
        return KS_ERR_NO_MEMORY;
    a->vs = vs;
    a->start = addr;
    a->end = addr + len;
    a->mo = mo;
    object_get(&mo->obj);
    a->offset = offset;
    a->prot = flags & PROT_MASK;
    a->max_prot = max_prot & PROT_MASK;
    a->flags = sharing;
    list_insert_before(before, &a->link);
    list_push_back(&mo->mappings, &a->mo_link);
    return (long)addr;
}

/* Split a at addr (strictly inside it): a keeps [start, addr), the new area [addr, end). */
static struct vm_area *area_split(struct vm_area *a, uintptr_t addr)
{
    struct vm_area *b = account_kzalloc(a->vs->as.acct, sizeof *b);
    if (!b)
        return NULL;
    *b = *a;
    a->vs->last_area = NULL;
    b->start = addr;
    b->offset = a->offset + (addr - a->start);
    object_get(&a->mo->obj);
    a->end = addr;
    list_insert_before(a->link.next, &b->link);
    list_push_back(&a->mo->mappings, &b->mo_link);
    return b;
}

/* Split areas so that start and end fall on area boundaries. 0 or KS_ERR_NO_MEMORY. */
static long split_at_edges(struct vm_space *vs, uintptr_t start, uintptr_t end)
{
    struct vm_area *a = area_at(vs, start);
    if (a && a->start < start && !area_split(a, start))
        return KS_ERR_NO_MEMORY;
    a = area_at(vs, end);
    if (a && a->start < end && !area_split(a, end))
        return KS_ERR_NO_MEMORY;
    return 0;
}

/* A page-aligned, non-empty range inside user space; its page-rounded end in *end. */
static long check_range(uintptr_t addr, uint64_t len, uintptr_t *end)
{
    if (!page_aligned(addr) || len == 0)
        return KS_ERR_INVALID;
    if (addr < USER_BASE || addr >= USER_TOP || len > USER_TOP - addr)
        return KS_ERR_RANGE;
    *end = (addr + len + PAGE_SIZE - 1) & ~(uintptr_t)(PAGE_SIZE - 1);
    return 0;
}

/* Split areas at addr and end, then call fn(area, arg) on each area inside [addr, end). */
static long each_area_in(struct vm_space *vs, uintptr_t addr, uintptr_t end,
                         void (*fn)(struct vm_area *a, void *arg), void *arg)
{
    long r = split_at_edges(vs, addr, end);
    if (r)
        return r;
    LIST_FOR_EACH(n, tmp, &vs->areas) {
        struct vm_area *a = LIST_ENTRY(n, struct vm_area, link);
        if (a->start >= end)
            break;
        if (a->start >= addr)
            fn(a, arg);
    }
    return 0;
}

static void unmap_area(struct vm_area *a, void *arg)
{
    (void)arg;
    area_free(a);
}

long vm_unmap(struct vm_space *vs, uintptr_t addr, uint64_t len)
{
    uintptr_t end;
    long r = check_range(addr, len, &end);
    return r ? r : each_area_in(vs, addr, end, unmap_area, NULL);
}

static void protect_area(struct vm_area *a, void *arg)
{
    uint32_t prot = *(uint32_t *)arg;
    a->prot = prot;
    /* Private pages stay read-only until their copy-on-write fault, a paged memobj's until their
       store makes them dirty. */
    arch_protect_range(&a->vs->as, a->start, a->end,
                       a->flags == KS_MAP_PRIVATE || a->mo->pager ? read_only(prot) : prot);
}

long vm_protect(struct vm_space *vs, uintptr_t addr, uint64_t len, uint32_t prot)
{
    uintptr_t end;
    long r = check_range(addr, len, &end);
    if (r)
        return r;
    if (prot & ~PROT_MASK)
        return KS_ERR_INVALID;
    /* The whole range must be mapped, and allow prot. */
    for (uintptr_t at = addr; at < end;) {
        struct vm_area *a = area_at(vs, at);
        if (!a)
            return KS_ERR_RANGE;
        if (prot & ~a->max_prot)
            return KS_ERR_ACCESS;
        at = a->end;
    }
    return each_area_in(vs, addr, end, protect_area, &prot);
}

long vm_sync(struct vm_space *vs, uintptr_t addr, uint64_t len)
{
    uintptr_t end;
    long r = check_range(addr, len, &end);
    for (uintptr_t at = addr; r == 0 && at < end;) {
        struct vm_area *a = area_at(vs, at);
        if (!a)
            return KS_ERR_RANGE;
        at = a->end;
    }
    for (uintptr_t at = addr; r == 0 && at < end;) {
        struct vm_area *a = area_at(vs, at);
        if (a->flags == KS_MAP_SHARED && (a->prot & KS_PROT_WRITE) && !a->mo->device)
            memobj_note_change(a->mo);
        at = a->end;
    }
    return r;
}

/* Map a private copy of `src` (NULL: zeros) at va, writable. */
static long map_private_copy(struct vm_area *a, arch_pte_t *slot, uintptr_t va, const void *src)
{
    void *copy = account_page_alloc(a->vs->as.acct, 0, !src);
    if (!copy)
        return KS_ERR_NO_MEMORY;
    if (src)
        memcpy(copy, src, PAGE_SIZE);
    arch_pte_set(&a->vs->as, slot, va, virt_to_phys(copy), a->prot);
    return 0;
}

/* A store to a page of a paged memobj mapped shared and read-only: dirty now, writable. */
static __attribute__((noinline)) long shared_paged_write(struct vm_area *a, arch_pte_t *slot, uintptr_t va, paddr_t pa)
{
    pager_dirtied(a->mo, phys_to_virt(pa));
    arch_pte_set(&a->vs->as, slot, va, pa, a->prot);
    return 0;
}

/*
 * A fault on a page mo's pager has not supplied: ask for it (KS_ERR_PAGER_WAIT;
 * see vm_fault_wait), noting where in the thread, for a kernel copy that stops
 * here (kernel/uaccess.h).
 */
static __attribute__((noinline)) long fault_pager(struct vm_space *vs, uintptr_t addr, struct memobj *mo,
                                                  uint64_t index)
{
    long r = pager_request(mo, index);
    if (r == KS_ERR_PAGER_WAIT) {
        struct thread *t = current_thread();
        t->miss_vs = vs;
        t->miss_addr = addr;
    }
    return r;
}

static inline __attribute__((always_inline)) long fault_in(struct vm_space *vs, uintptr_t addr,
                                                           int access)
{
    struct vm_area *a = area_at(vs, addr);
    if (!a || !access_allowed(a->prot, access))
        return KS_ERR_FAULT;
    uintptr_t va = addr & ~(uintptr_t)(PAGE_SIZE - 1);
    uint64_t index = (a->offset + (va - a->start)) >> PAGE_SHIFT;
    arch_pte_t *slot = arch_pte_slot(&vs->as, va, 1);
    paddr_t pa;
    uint32_t prot;
    if (!slot)
        return KS_ERR_NO_MEMORY;

    if (arch_pte_get(slot, &pa, &prot)) {
        if (access_allowed(prot, access))
            return 0;                   /* another thread got here first */
        if (access == VM_WRITE && a->flags == KS_MAP_SHARED && a->mo->pager && (a->prot & KS_PROT_WRITE))
            return shared_paged_write(a, slot, va, pa);
        if (access != VM_WRITE || a->flags != KS_MAP_PRIVATE)
            return KS_ERR_FAULT;
        void *page = phys_to_virt(pa);
        if (page != zero_page && page_refcount(page) == 1) {
            arch_pte_set(&vs->as, slot, va, pa, a->prot);      /* only we see it: no copy */
            return 0;
        }
        long r = map_private_copy(a, slot, va, page == zero_page ? NULL : page);
        if (r == 0)
            page_unref(page);
        return r;
    }

    if (index >= (a->mo->size + PAGE_SIZE - 1) >> PAGE_SHIFT)
        return KS_ERR_FAULT;            /* past the end of the memobj */
    if (pager_backs(a->mo, index) && !memobj_lookup(a->mo, index))
        return fault_pager(vs, addr, a->mo, index);
    if (a->flags == KS_MAP_SHARED) {
        if (a->mo->device) {    /* no page references: the memobj holds its pages (a DMA one, RAM) */
            paddr_t dev = a->mo->device_pa + (index << PAGE_SHIFT);
            if (a->mo->dma_block)
                arch_pte_set(&vs->as, slot, va, dev, a->prot);
            else
                arch_pte_set_device(&vs->as, slot, va, dev, a->prot);
            return 0;
        }
        void *page = memobj_page(a->mo, index, 1);
        if (!page || page_ref(page))
            return KS_ERR_NO_MEMORY;
        uint32_t prot = a->prot;
        if (__builtin_expect(a->mo->pager != NULL, 0)) {
            if (access == VM_WRITE) {
                pager_dirtied(a->mo, page);
            } else {
                pager_accessed(page);
                prot = read_only(prot);     /* the first store faults, and makes it dirty */
            }
        }
        arch_pte_set(&vs->as, slot, va, virt_to_phys(page), prot);
        return 0;
    }
    void *page = memobj_lookup(a->mo, index);
    if (__builtin_expect(a->mo->pager != NULL, 0) && page)
        pager_accessed(page);           /* (a private mapping reads it, or copies it) */
    if (access == VM_WRITE)
        return map_private_copy(a, slot, va, page);
    if (!page)
        page = zero_page;
    if (page_ref(page))
        return KS_ERR_NO_MEMORY;
    arch_pte_set(&vs->as, slot, va, virt_to_phys(page), read_only(a->prot));
    return 0;
}

long vm_fault(struct vm_space *vs, uintptr_t addr, int access)
{
    trace_event(TR_FAULT_BEGIN, addr, (uint64_t)access, 0, 0);
    long r = fault_in(vs, addr, access);
    trace_event(TR_FAULT_END, (uint64_t)r, 0, 0, 0);
    return r;
}

long vm_pager_wait(struct vm_space *vs, uintptr_t addr)
{
    struct vm_area *a = area_at(vs, addr);
    if (!a || !a->mo || !a->mo->pager)
        return KS_ERR_FAULT;
    uint64_t index = (a->offset + ((addr & ~(uintptr_t)(PAGE_SIZE - 1)) - a->start)) >> PAGE_SHIFT;
    struct memobj *mo = a->mo;
    object_get(&mo->obj);               /* the area may go while this thread waits */
    long r = pager_wait(mo, index);
    object_put(&mo->obj);
    return r;
}

long vm_fault_wait(struct vm_space *vs, uintptr_t addr, int access, long r, uint64_t *offset)
{
    current_thread()->miss_vs = NULL;   /* (a user-mode fault's: this waits for it itself) */
    for (;; r = vm_fault(vs, addr, access)) {
        struct vm_area *a = r == KS_ERR_PAGER_WAIT || r == KS_ERR_IO ? area_at(vs, addr) : NULL;
        if (!a)
            return r == KS_ERR_PAGER_WAIT ? KS_ERR_FAULT : r;
        uint64_t index = (a->offset + ((addr & ~(uintptr_t)(PAGE_SIZE - 1)) - a->start)) >> PAGE_SHIFT;
        *offset = index << PAGE_SHIFT;
        if (r == KS_ERR_IO)
            return r;
        struct memobj *mo = a->mo;
        object_get(&mo->obj);           /* the area may go while this thread waits */
        r = pager_wait(mo, index);
        object_put(&mo->obj);
        current_thread()->miss_vs = NULL;   /* (vm_fault noted it again: not a copy's) */
        if (r == KS_ERR_INTERRUPTED)
            return 0;
        if (r)
            return r;
    }
}

/*
 * The kernel address of user byte addr if its page is mapped for `access`, else
 * NULL. Never for a device page: the direct map holds RAM only.
 */
static inline uint8_t *vm_kaddr_mapped(struct vm_space *vs, uintptr_t addr, int access)
{
    uintptr_t va = addr & ~(uintptr_t)(PAGE_SIZE - 1);
    arch_pte_t *slot = arch_pte_slot(&vs->as, va, 0);
    paddr_t pa;
    uint32_t prot;
    if (slot && arch_pte_get(slot, &pa, &prot) && access_allowed(prot, access) &&
        !(prot & ARCH_PROT_DEVICE))
        return (uint8_t *)phys_to_virt(pa) + (addr - va);
    return NULL;
}

/* As vm_kaddr, for a page that has to be faulted in first. */
static __attribute__((noinline)) uint8_t *vm_kaddr_fault(struct vm_space *vs, uintptr_t addr, int access)
{
    return vm_fault(vs, addr, access) == 0 ? vm_kaddr_mapped(vs, addr, access) : NULL;
}

/* The kernel address of user byte addr in vs, faulting its page in for `access`; NULL if it cannot be. */
static inline uint8_t *vm_kaddr(struct vm_space *vs, uintptr_t addr, int access)
{
    uint8_t *k = vm_kaddr_mapped(vs, addr, access);
    return k ? k : vm_kaddr_fault(vs, addr, access);
}

long vm_check_access_areas(struct vm_space *vs, uintptr_t addr, uint64_t len, int access, int *paged)
{
    if (!user_range_ok(addr, len))
        return KS_ERR_FAULT;
    for (uintptr_t at = addr; at < addr + len;) {
        struct vm_area *a = area_at(vs, at);
        if (!a || !access_allowed(a->prot, access))
            return KS_ERR_FAULT;
        if (a->mo->pager)
            *paged = 1;
        at = a->end;
    }
    return 0;
}

long vm_check_access(struct vm_space *vs, uintptr_t addr, uint64_t len, int access)
{
    int paged;
    return vm_check_access_paged(vs, addr, len, access, &paged);
}

long vm_prefault(struct vm_space *vs, uintptr_t addr, uint64_t len, int access)
{
    if (!user_range_ok(addr, len))
        return KS_ERR_FAULT;
    for (uintptr_t at = addr & ~(uintptr_t)(PAGE_SIZE - 1); at < addr + len;) {
        if (vm_kaddr_mapped(vs, at, access)) {
            at += PAGE_SIZE;
            continue;
        }
        long r = vm_fault(vs, at, access);
        if (r == KS_ERR_PAGER_WAIT)
            r = uaccess_pager_wait();   /* then the same page again */
        else if (r == 0)
            at += PAGE_SIZE;
        if (r)
            return r == KS_ERR_IO || r == KS_ERR_INTERRUPTED || r == KS_ERR_NO_MEMORY ? r : KS_ERR_FAULT;
    }
    return 0;
}

long vm_copy(struct vm_space *dst, uintptr_t d, struct vm_space *src, uintptr_t s, uint64_t len)
{
    if (!user_range_ok(d, len) || !user_range_ok(s, len))
        return KS_ERR_FAULT;
    while (len) {
        uint64_t n = PAGE_SIZE - (d & (PAGE_SIZE - 1));
        uint64_t m = PAGE_SIZE - (s & (PAGE_SIZE - 1));
        if (m < n)
            n = m;
        if (len < n)
            n = len;
        uint8_t *kd = vm_kaddr(dst, d, VM_WRITE);
        const uint8_t *ks = vm_kaddr(src, s, VM_READ);
        if (!kd || !ks)
            return KS_ERR_FAULT;
        memmove(kd, ks, n);
        d += n;
        s += n;
        len -= n;
    }
    return 0;
}

long vm_copy_from_user_pages(struct vm_space *dst, uintptr_t d, uintptr_t s, uint64_t len)
{
    if (!user_range_ok(d, len) || !user_range_ok(s, len))
        return KS_ERR_FAULT;
    while (len) {
        uint64_t n = PAGE_SIZE - (d & (PAGE_SIZE - 1));
        if (len < n)
            n = len;
        uint8_t *kd = vm_kaddr(dst, d, VM_WRITE);
        if (!kd || arch_copy_user(kd, (const void *)s, n))
            return KS_ERR_FAULT;
        d += n;
        s += n;
        len -= n;
    }
    return 0;
}

void vm_unmap_memobj_range(struct memobj *mo, uint64_t first_page, uint64_t count)
{
    LIST_FOR_EACH(n, tmp, &mo->mappings) {
        struct vm_area *a = LIST_ENTRY(n, struct vm_area, mo_link);
        if (a->flags != KS_MAP_SHARED)
            continue;           /* private mappings keep what they already see */
        uint64_t first = a->offset >> PAGE_SHIFT, pages = (a->end - a->start) >> PAGE_SHIFT;
        uint64_t lo = first_page > first ? first_page : first;
        uint64_t hi = first_page + count < first + pages ? first_page + count : first + pages;
        if (lo < hi)
            arch_unmap_range(&a->vs->as, a->start + ((lo - first) << PAGE_SHIFT),
                             a->start + ((hi - first) << PAGE_SHIFT), unref_pa, NULL);
    }
}

void vm_unmap_memobj_pages(struct memobj *mo, uint64_t first_page)
{
    LIST_FOR_EACH(n, tmp, &mo->mappings) {
        struct vm_area *a = LIST_ENTRY(n, struct vm_area, mo_link);
        if (a->flags != KS_MAP_SHARED)
            continue;           /* private mappings keep what they already see */
        uint64_t first = a->offset >> PAGE_SHIFT, count = (a->end - a->start) >> PAGE_SHIFT;
        if (first + count <= first_page)
            continue;
        uintptr_t from = first_page > first ? a->start + ((first_page - first) << PAGE_SHIFT) : a->start;
        arch_unmap_range(&a->vs->as, from, a->end, unref_pa, NULL);
    }
}
