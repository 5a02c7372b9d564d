/*
 * kernel/vm.h - user address spaces: mappings of memobjs and page faults.
 *
 * A vm_space is a sorted list of non-overlapping areas over an architecture page
 * table. Pages are mapped lazily: the page-fault handler (vm_fault) finds the
 * area and maps the memobj's page (shared), or the memobj's page read-only
 * until the first write and then a private copy (private, copy-on-write).
 * Every page-table entry holds a reference on its page.
 */
#ifndef KERNEL_VM_H
#define KERNEL_VM_H

#include <stdint.h>
#include <arch/mmu.h>
#include <kestrel/syscall.h>
#include "list.h"
#include "memobj.h"
#include "uaccess.h"

struct vm_area {
    struct list_node link;      /* in vm_space.areas, by address */
    struct list_node mo_link;   /* in memobj.mappings */
    struct vm_space *vs;
    uintptr_t start, end;       /* page-aligned, end exclusive */
    struct memobj *mo;          /* holds a reference */
    uint64_t offset;            /* memobj offset mapped at start */
    uint32_t prot;              /* KS_PROT_* */
    uint32_t max_prot;          /* what vm_protect may grant (from the memobj handle's rights) */
    uint32_t flags;             /* KS_MAP_SHARED or KS_MAP_PRIVATE */
};

struct vm_space {
    struct arch_aspace as;      /* as.acct: charged for tables, areas and private copies */
    struct list areas;
    struct vm_area *last_area;  /* the area the last lookup found (faults come in runs) */
};

/*
 * What names the futex word at addr: in a shared mapping, the memobj and the
 * offset in it (so every process mapping it finds the same futex); anywhere
 * else, the address space and the address (private to the process).
 */
void vm_futex_key(struct vm_space *vs, uintptr_t addr, const void **owner, uint64_t *key);

/* Access kinds for vm_fault. */
enum { VM_READ = 1, VM_WRITE = 2, VM_EXEC = 4 };

/* A new empty address space charged to a (kernel/account.h); NULL without memory or over a's limit. */
struct vm_space *vm_space_create(struct account *a);

/* Unmap everything and free the page tables. */
void vm_space_destroy(struct vm_space *vs);

/*
 * Make the empty dst a copy of src (fork): every mapping again, of the same
 * memobj; a shared one shares its pages, a private one gets src's pages
 * copy-on-write (arch_copy_cow: read-only on both sides until written).
 * 0, or KS_ERR_NO_MEMORY with dst part-made (the caller destroys it).
 */
long vm_space_clone(struct vm_space *dst, struct vm_space *src);

/*
 * Map len bytes of mo from `offset` at addr (KS_MAP_FIXED) or wherever there is
 * room (addr is then a hint). flags: KS_PROT_* | KS_MAP_SHARED or KS_MAP_PRIVATE
 * [| KS_MAP_FIXED]; max_prot bounds the protection now and after vm_protect.
 * Returns the address, or KS_ERR_INVALID (alignment, flags), KS_ERR_ACCESS
 * (prot beyond max_prot), KS_ERR_RANGE (outside user space or the memobj's
 * maximum size), KS_ERR_EXISTS (FIXED over a mapping), KS_ERR_NO_MEMORY.
 */
long vm_map(struct vm_space *vs, struct memobj *mo, uint64_t offset, uintptr_t addr, uint64_t len,
            uint32_t flags, uint32_t max_prot);

#define VM_PROT_ALL (KS_PROT_READ | KS_PROT_WRITE | KS_PROT_EXEC)

/* Remove mappings in [addr, addr+len); parts outside stay. 0 or KS_ERR_INVALID/RANGE. */
long vm_unmap(struct vm_space *vs, uintptr_t addr, uint64_t len);

/* Set the protection of the range (which must be fully mapped); KS_ERR_ACCESS beyond max_prot. */
long vm_protect(struct vm_space *vs, uintptr_t addr, uint64_t len, uint32_t prot);

/*
 * msync's part (KS_SYS_VM_SYNC): the memobjs mapped shared and writable in
 * the range (which must be fully mapped: else KS_ERR_RANGE, nothing done)
 * have changed now (memobj_note_change). 0 or KS_ERR_INVALID/RANGE.
 */
long vm_sync(struct vm_space *vs, uintptr_t addr, uint64_t len);

/* Resolve a fault at addr for `access`: 0 if the access may now be retried, else an error. */
long vm_fault(struct vm_space *vs, uintptr_t addr, int access);

/*
 * After vm_fault gave r = KS_ERR_PAGER_WAIT or KS_ERR_IO for a fault from user
 * mode: wait for the paged memobj's pager (kernel/pager.h) and fault again,
 * until the page is mapped (0), or a wait was interrupted (0 too: the access
 * faults again after the upcall), or KS_ERR_IO (the pager failed the page or
 * is gone; *offset: where in its memobj), or another vm_fault error.
 */
long vm_fault_wait(struct vm_space *vs, uintptr_t addr, int access, long r, uint64_t *offset);

/*
 * Wait (interruptibly) for the pager of the memobj mapped at addr in vs to
 * supply that page or fail it: 0 (try again), KS_ERR_IO, KS_ERR_INTERRUPTED,
 * or KS_ERR_FAULT (nothing paged is mapped there). Holds only a reference on
 * the memobj while it waits; vs must be alive when it is called.
 */
long vm_pager_wait(struct vm_space *vs, uintptr_t addr);

/* vm_check_access_paged's general case: area by area. */
long vm_check_access_areas(struct vm_space *vs, uintptr_t addr, uint64_t len, int access, int *paged);

/*
 * vm_check_access, also setting *paged if the range lies (partly) in a paged
 * memobj's mapping. Inline, without a call, when the range lies inside the
 * area the last lookup found and that area allows the access (an IPC
 * receive buffer, checked at each receive, is the case it is for).
 */
static inline long vm_check_access_paged(struct vm_space *vs, uintptr_t addr, uint64_t len, int access,
                                         int *paged)
{
    const struct vm_area *a = vs->last_area;
    uint32_t need = access == VM_WRITE ? KS_PROT_WRITE : access == VM_EXEC ? KS_PROT_EXEC
                                                                           : KS_PROT_READ | KS_PROT_WRITE;
    if (a && addr - a->start < a->end - a->start && len <= a->end - addr && (a->prot & need)) {
        if (a->mo->pager)
            *paged = 1;
        return 0;
    }
    return vm_check_access_areas(vs, addr, len, access, paged);
}

/*
 * Fault in every page of [addr, addr+len) of vs (the current thread's own)
 * for `access`, waiting for pagers: 0, KS_ERR_FAULT, KS_ERR_IO or
 * KS_ERR_INTERRUPTED. May sleep: the caller holds nothing uncounted.
 */
long vm_prefault(struct vm_space *vs, uintptr_t addr, uint64_t len, int access);

/*
 * 0 if [addr, addr+len) lies in user space and inside mappings of vs that
 * allow `access` (VM_READ or VM_WRITE), else KS_ERR_FAULT. Faults nothing in.
 */
long vm_check_access(struct vm_space *vs, uintptr_t addr, uint64_t len, int access);

/*
 * Copy len bytes from address s of address space src to address d of dst,
 * through the direct map (neither needs to be the current one); pages are
 * faulted in as a user access would. 0 or KS_ERR_FAULT.
 */
long vm_copy(struct vm_space *dst, uintptr_t d, struct vm_space *src, uintptr_t s, uint64_t len);

/*
 * As vm_copy, from the running address space's user memory at s, which is
 * read where it is (the fault-tolerant user copy) instead of being found
 * through the page tables; dst must be another address space. Results are
 * vm_copy's, for one page table walk less per page. (Page by page; the
 * inline vm_copy_from_user below is the same for callers.)
 */
long vm_copy_from_user_pages(struct vm_space *dst, uintptr_t d, uintptr_t s, uint64_t len);

/* vm_copy_from_user_pages, inline (no call, no frame) for the common case: an IPC buffer within one page. */
static inline long vm_copy_from_user(struct vm_space *dst, uintptr_t d, uintptr_t s, uint64_t len)
{
    if (len && (d & (PAGE_SIZE - 1)) + len <= PAGE_SIZE && user_range_ok(d, len) && user_range_ok(s, len)) {
        uint8_t *kd = arch_user_kaddr_writable(&dst->as, d);
        if (kd)
            return arch_copy_user(kd, (const void *)s, len) ? KS_ERR_FAULT : 0;
    }
    return vm_copy_from_user_pages(dst, d, s, len);
}

/* Unmap pages of mo from index `first` on, in every area mapping it (memobj truncation). */
void vm_unmap_memobj_pages(struct memobj *mo, uint64_t first_page);

/* Unmap pages [first, first + count) of mo from every shared area mapping them (write-back, eviction). */
void vm_unmap_memobj_range(struct memobj *mo, uint64_t first_page, uint64_t count);

#endif
