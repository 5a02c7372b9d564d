/*
 * arch/riscv/pagetable.h - Sv48 page tables (private to arch/riscv/).
 *
 * Four levels of 512 eight-byte entries; a leaf may sit at level 2 (1 GiB),
 * level 1 (2 MiB) or level 0 (4 KiB). A PTE holds the physical page number
 * in bits 10..53 and the flags below in bits 0..7.
 */
#ifndef RISCV_PAGETABLE_H
#define RISCV_PAGETABLE_H

#include <stddef.h>
#include <stdint.h>
#include <arch/memlayout.h>
#include "kernel/account.h"
#include "kernel/page_alloc.h"
#include "kernel/panic.h"

typedef uint64_t pte_t;

#define PTE_V (1ul << 0)
#define PTE_R (1ul << 1)
#define PTE_W (1ul << 2)
#define PTE_X (1ul << 3)
#define PTE_U (1ul << 4)
#define PTE_G (1ul << 5)
#define PTE_A (1ul << 6)
#define PTE_D (1ul << 7)

#define PT_LEVELS   4
#define PT_ENTRIES  512

static inline paddr_t pte_addr(pte_t pte) { return (pte >> 10) << 12; }
static inline pte_t pte_make(paddr_t pa, uint64_t flags) { return (pa >> 12) << 10 | flags; }
static inline int pte_is_leaf(pte_t pte) { return (pte & (PTE_R | PTE_W | PTE_X)) != 0; }
static inline unsigned pt_index(uintptr_t va, int level) { return (va >> (12 + 9 * level)) & 511; }

/*
 * Map [va, va+size) to [pa, pa+size) with `flags` (PTE_R/W/X/U/G; V, A and D are
 * added), using 1 GiB and 2 MiB pages where alignment allows. Everything must be
 * page-aligned and not yet mapped. Returns 0, or -1 if a table could not be allocated.
 */
int pt_map(pte_t *root, uintptr_t va, paddr_t pa, size_t size, uint64_t flags);

/* The kernel's root table (set up by arch_vm_init); user roots copy its upper half. */
pte_t *kernel_root_table(void);

/*
 * The page-table walker: the entry at `level` (0: a 4 KiB leaf) for va under
 * root. Missing tables on the way are allocated (zeroed, charged to `acct`,
 * kernel/account.h) with `create`, else the result is NULL; NULL too if an
 * allocation fails. A large page on the
 * way is a kernel bug (user tables never have them): a panic. Every walk that
 * makes tables goes through it (pt_map, arch_pte_slot); mmu.c's leaf_lookup
 * is its no-create level-0 case unrolled, for the page fault path.
 */
static inline pte_t *pt_walk(pte_t *root, uintptr_t va, int level, int create, struct account *acct)
{
    pte_t *table = root;
    for (int l = PT_LEVELS - 1; l > level; l--) {
        pte_t *e = &table[pt_index(va, l)];
        if (!(*e & PTE_V)) {
            if (!create)
                return NULL;
            pte_t *next = account_page_alloc(acct, 0, 1);
            if (!next)
                return NULL;
            *e = pte_make(virt_to_phys(next), PTE_V);
        } else if (pte_is_leaf(*e)) {
            panic("pt_walk: 0x%lx is mapped by a large page", (unsigned long)va);
        }
        table = phys_to_virt(pte_addr(*e));
    }
    return &table[pt_index(va, level)];
}


/* The leaf PTE mapping va at whatever level (the kernel's large pages too), or NULL. */
pte_t *pt_lookup(pte_t *root, uintptr_t va);

#endif
