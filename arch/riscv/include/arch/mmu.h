/*
 * arch/riscv/include/arch/mmu.h - user page tables, as kernel/vm.c sees them.
 *
 * An arch_aspace is an Sv48 root table whose upper half is the kernel's (shared
 * with every address space) plus an ASID. Pages are mapped one 4 KiB page at a
 * time with KS_PROT_* protections; the functions flush the TLB as needed.
 */
#ifndef ARCH_MMU_H
#define ARCH_MMU_H

#include <stdint.h>
#include <arch/memlayout.h>

struct account;

struct arch_aspace {
    uint64_t *root;
    uint64_t satp;          /* mode | ASID | root PPN */
    uint16_t asid;
    struct account *acct;   /* charged for the page tables (kernel/account.h) */
    /*
     * The last leaf table a walk found, and the 2 MiB region (va >> 21) it
     * maps (ARCH_NO_REGION: none). Tables are freed only with the address
     * space, so a leaf table found once stays the one for its region: the
     * hint never needs invalidating, and what it saves is the walk, not the
     * reading of the PTE itself.
     */
    uintptr_t leaf_region;
    uint64_t *leaf_table;
};

#define ARCH_NO_REGION  (~(uintptr_t)0)

/* 0, or KS_ERR_NO_MEMORY (also over a's limit). The tables are charged to a. */
int arch_aspace_init(struct arch_aspace *as, struct account *a);

/* Free the page tables (all user pages must already be unmapped). */
void arch_aspace_destroy(struct arch_aspace *as);

/*
 * The page-table slot for va: one walk serves both looking at a mapping and
 * changing it (the page-fault path does both). With `create`, missing tables are
 * allocated; NULL if they are missing (or out of memory).
 */
typedef uint64_t arch_pte_t;
arch_pte_t *arch_pte_slot(struct arch_aspace *as, uintptr_t va, int create);

/* Sv48 leaf bits, for the two helpers below (arch/riscv/pagetable.h has the full set). */
#define ARCH_PTE_V  0x01u
#define ARCH_PTE_R  0x02u
#define ARCH_PTE_W  0x04u
#define ARCH_PTE_X  0x08u
#define ARCH_PTE_USER_BASE 0xd1u      /* V | U | A | D */
#define ARCH_PTE_DEVICE 0x100u          /* RSW bit 8, ours: the page is device memory */

/* In arch_pte_get's *prot, beside KS_PROT_*: the page is device memory (arch_pte_set_device). */
#define ARCH_PROT_DEVICE 8u

/*
 * 1 and *pa, *prot (KS_PROT_READ 1, WRITE 2, EXEC 4, | ARCH_PROT_DEVICE) if the
 * slot maps a page, else 0.
 */
static inline int arch_pte_get(const arch_pte_t *slot, paddr_t *pa, uint32_t *prot)
{
    arch_pte_t e = *slot;
    if (!(e & ARCH_PTE_V))
        return 0;
    *pa = (e >> 10) << 12;
    *prot = (e & ARCH_PTE_R ? 1u : 0) | (e & ARCH_PTE_W ? 2u : 0) | (e & ARCH_PTE_X ? 4u : 0) |
            (e & ARCH_PTE_DEVICE ? ARCH_PROT_DEVICE : 0);
    return 1;
}

/*
 * The level-0 slot for va if every table on the way to it exists, else NULL:
 * the Sv48 walk unrolled, a leaf with no call (the page fault and IPC copy
 * paths), or no walk at all when va lies in the region of the leaf table the
 * last walk found (as->leaf_region), which it then remembers. User page
 * tables hold 4 KiB leaves only (no superpages), which the walk relies on.
 */
static inline arch_pte_t *arch_leaf_slot(struct arch_aspace *as, uintptr_t va)
{
    uintptr_t region = va >> (PAGE_SHIFT + 9);
    uint64_t *table = as->leaf_table;
    if (region != as->leaf_region) {
        table = as->root;
#pragma GCC unroll 3
        for (int shift = PAGE_SHIFT + 27; shift > PAGE_SHIFT; shift -= 9) {     /* levels 3, 2, 1 */
            uint64_t e = table[(va >> shift) & 511];
            if (!(e & ARCH_PTE_V))
                return NULL;
            table = phys_to_virt((e >> 10) << PAGE_SHIFT);
        }
        as->leaf_table = table;
        as->leaf_region = region;
    }
    return &table[(va >> PAGE_SHIFT) & 511];
}

/*
 * The kernel (direct map) address of user byte va if its page is mapped and
 * writable, else NULL (then ask arch_pte_slot and the VM), for the IPC copy
 * into another address space. A device page never qualifies (it is not RAM
 * the kernel may write through the direct map).
 */
static inline void *arch_user_kaddr_writable(struct arch_aspace *as, uintptr_t va)
{
    const arch_pte_t *slot = arch_leaf_slot(as, va);
    if (!slot || (*slot & (ARCH_PTE_V | ARCH_PTE_W | ARCH_PTE_DEVICE)) != (ARCH_PTE_V | ARCH_PTE_W))
        return NULL;
    return (char *)phys_to_virt((*slot >> 10) << PAGE_SHIFT) + (va & (PAGE_SIZE - 1));
}

/* Map the slot's page (at va) to pa with prot (KS_PROT_*), replacing what was there. */
static inline void arch_pte_set(struct arch_aspace *as, arch_pte_t *slot, uintptr_t va, paddr_t pa,
                                uint32_t prot)
{
    arch_pte_t f = ARCH_PTE_USER_BASE;
    if (prot & 1)
        f |= ARCH_PTE_R;
    if (prot & 2)
        f |= ARCH_PTE_R | ARCH_PTE_W;   /* W without R is reserved */
    if (prot & 4)
        f |= ARCH_PTE_X;
    *slot = (pa >> 12) << 10 | f;
    __asm__ volatile("sfence.vma %0, %1" :: "r"(va), "r"((uint64_t)as->asid) : "memory");
}

/*
 * As arch_pte_set, for a page of device registers (not RAM). The kernel never
 * sees such a page through the direct map, and arch_pte_get reports it with
 * ARCH_PROT_DEVICE so that it can tell. Where Svpbmt exists this is where
 * PBMT=IO (non-cacheable, strongly ordered) would go; QEMU's virt machine has
 * no Svpbmt, and its PMAs already make the device ranges I/O, so the page is
 * mapped with plain permission bits.
 */
void arch_pte_set_device(struct arch_aspace *as, arch_pte_t *slot, uintptr_t va, paddr_t pa,
                         uint32_t prot);

/* Unmap every page in [start, end), calling fn(pa, arg) for each one that was mapped. */
void arch_unmap_range(struct arch_aspace *as, uintptr_t start, uintptr_t end,
                      void (*fn)(paddr_t pa, void *arg), void *arg);

/* Set prot on every mapped page in [start, end) (a device page stays one). */
void arch_protect_range(struct arch_aspace *as, uintptr_t start, uintptr_t end, uint32_t prot);

/*
 * Copy-on-write: every page mapped in src within [start, end) becomes mapped
 * in dst at the same address too, read-only in both (a page reference
 * each), so that the first write on either side copies it (kernel/vm.c).
 * 0, or KS_ERR_NO_MEMORY with what was copied so far left in dst (whose
 * teardown undoes it).
 */
int arch_copy_cow(struct arch_aspace *dst, struct arch_aspace *src, uintptr_t start, uintptr_t end);

/* Run on the kernel's own page tables (before freeing the current address space). */
void arch_aspace_activate_kernel(void);

#endif
