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

struct arch_aspace {
    uint64_t *root;
    uint64_t satp;          /* mode | ASID | root PPN */
    uint16_t asid;
};

/* 0, or KS_ERR_NO_MEMORY. */
int arch_aspace_init(struct arch_aspace *as);

/* Free the page tables (all user pages must already be unmapped). */
void arch_aspace_destroy(struct arch_aspace *as);

/*
 * The page-table slot for va: one walk serves both looking at a mapping and
 * changing it (the page-fault path does both). With `create`, missing tables are
 * allocated; NULL if they are missing (or out of memory).
 */
typedef uint64_t arch_pte_t;
arch_pte_t *arch_pte_slot(struct arch_aspace *as, uintptr_t va, int create);

/* 1 and *pa, *prot if the slot maps a page, else 0. */
int arch_pte_get(const arch_pte_t *slot, paddr_t *pa, uint32_t *prot);

/* Map the slot's page (at va) to pa with prot (KS_PROT_*), replacing what was there. */
void arch_pte_set(struct arch_aspace *as, arch_pte_t *slot, uintptr_t va, paddr_t pa, uint32_t prot);

/* Unmap every page in [start, end), calling fn(pa, arg) for each one that was mapped. */
void arch_unmap_range(struct arch_aspace *as, uintptr_t start, uintptr_t end,
                      void (*fn)(paddr_t pa, void *arg), void *arg);

/* Set prot on every mapped page in [start, end). */
void arch_protect_range(struct arch_aspace *as, uintptr_t start, uintptr_t end, uint32_t prot);

/* Run on the kernel's own page tables (before freeing the current address space). */
void arch_aspace_activate_kernel(void);

#endif
