/*
 * arch/riscv/mmu.c - user address spaces on Sv48 (see arch/mmu.h).
 *
 * A user root table copies the kernel's upper-half entries (which point at
 * tables shared by every address space) and owns its lower half. Leaves are
 * always 4 KiB pages here. Each address space gets its own ASID, so switching
 * between processes does not flush the TLB.
 */
#include <arch/arch.h>
#include <arch/mmu.h>
#include <arch/thread.h>
#include <arch/trapframe.h>
#include <kestrel/errors.h>
#include <kestrel/syscall.h>
#include "kernel/debug.h"
#include "kernel/page_alloc.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#include "kernel/thread.h"
#include "csr.h"
#include "pagetable.h"

#define ASID_COUNT 65536
static uint8_t asid_used[ASID_COUNT / 8];

static int asid_alloc(void)
{
    for (int a = 1; a < ASID_COUNT; a++) {
        if (!(asid_used[a / 8] & (1 << (a % 8)))) {
            asid_used[a / 8] |= (uint8_t)(1 << (a % 8));
            return a;
        }
    }
    return -1;
}

static void asid_free(int a)
{
    asid_used[a / 8] &= (uint8_t)~(1 << (a % 8));
}

static inline void sfence_asid(uint64_t asid)
{
    __asm__ volatile("sfence.vma zero, %0" :: "r"(asid) : "memory");
}

static inline void sfence_page(uintptr_t va, uint64_t asid)
{
    __asm__ volatile("sfence.vma %0, %1" :: "r"(va), "r"(asid) : "memory");
}

int arch_aspace_init(struct arch_aspace *as, struct account *a)
{
    int asid = asid_alloc();
    if (asid < 0)
        return KS_ERR_NO_MEMORY;
    pte_t *root = account_page_alloc(a, 0, 1);
    if (!root) {
        asid_free(asid);
        return KS_ERR_NO_MEMORY;
    }
    memcpy(root + PT_ENTRIES / 2, kernel_root_table() + PT_ENTRIES / 2, PAGE_SIZE / 2);
    as->root = root;
    as->leaf_region = ARCH_NO_REGION;
    as->asid = (uint16_t)asid;
    as->acct = a;
    as->satp = SATP_MODE_SV48 | (uint64_t)asid << 44 | virt_to_phys(root) >> PAGE_SHIFT;
    sfence_asid((uint64_t)asid);
    return 0;
}

/*
 * Free the tables under `table` (at `level`) and it. Every page is unmapped by
 * now, so a leaf table holds nothing to follow: only the debug kernel reads
 * its 512 entries, to check that (it saves most of a teardown's table work).
 */
static void free_tables(pte_t *table, int level)
{
    int entries = level == PT_LEVELS - 1 ? PT_ENTRIES / 2 : level > 0 || KDEBUG ? PT_ENTRIES : 0;
    for (int i = 0; i < entries; i++) {
        pte_t e = table[i];
        if (!(e & PTE_V))
            continue;
        if (pte_is_leaf(e) || level == 0)
            panic("arch_aspace_destroy: page still mapped at level %d", level);
        free_tables(phys_to_virt(pte_addr(e)), level - 1);
    }
    page_unref(table);
}

void arch_aspace_destroy(struct arch_aspace *as)
{
    BUG_ON(csr_read(satp) == as->satp);
    free_tables(as->root, PT_LEVELS - 1);
    sfence_asid(as->asid);
    asid_free(as->asid);
    as->root = NULL;
    as->leaf_region = ARCH_NO_REGION;
}

_Static_assert(ARCH_PTE_USER_BASE == (PTE_V | PTE_U | PTE_A | PTE_D), "arch/mmu.h's PTE bits");
_Static_assert(KS_PROT_READ == 1 && KS_PROT_WRITE == 2 && KS_PROT_EXEC == 4, "arch/mmu.h's prot bits");

static uint64_t prot_bits(uint32_t prot)
{
    uint64_t f = PTE_V | PTE_U | PTE_A | PTE_D;
    if (prot & KS_PROT_READ)
        f |= PTE_R;
    if (prot & KS_PROT_WRITE)
        f |= PTE_R | PTE_W;         /* W without R is reserved in Sv48 */
    if (prot & KS_PROT_EXEC)
        f |= PTE_X;
    return f;
}

/* pt_walk making tables, out of line so that arch_pte_slot stays a leaf function without spills. */
static __attribute__((noinline)) pte_t *leaf_create(struct arch_aspace *as, uintptr_t va)
{
    return pt_walk(as->root, va, 0, 1, as->acct);
}

arch_pte_t *arch_pte_slot(struct arch_aspace *as, uintptr_t va, int create)
{
    pte_t *e = arch_leaf_slot(as, va);     /* pt_walk(root, va, 0, 0), unrolled */
    if (e || !create)
        return e;
    return leaf_create(as, va);
}

_Static_assert(ARCH_PTE_DEVICE == 1ul << 8, "RSW bits are 8 and 9");

void arch_pte_set_device(struct arch_aspace *as, arch_pte_t *slot, uintptr_t va, paddr_t pa,
                         uint32_t prot)
{
    /* No Svpbmt on QEMU virt: the permission bits alone, plus our marker (see arch/mmu.h). */
    *slot = pte_make(pa, prot_bits(prot) | ARCH_PTE_DEVICE);
    sfence_page(va, as->asid);
}

/* Visit every valid leaf in [start, end) under table (covering `base`, at `level`). */
static void walk_leaves(pte_t *table, int level, uintptr_t base, uintptr_t start, uintptr_t end,
                        void (*visit)(pte_t *e, uintptr_t va, void *ctx), void *ctx)
{
    uint64_t span = 1ul << (PAGE_SHIFT + 9 * level);
    unsigned first = start > base ? (unsigned)((start - base) / span) : 0;
    for (unsigned i = first; i < PT_ENTRIES; i++) {
        uintptr_t lo = base + i * span;
        if (lo >= end)
            break;
        pte_t *e = &table[i];
        if (!(*e & PTE_V))
            continue;
        if (level == 0)
            visit(e, lo, ctx);
        else
            walk_leaves(phys_to_virt(pte_addr(*e)), level - 1, lo, start, end, visit, ctx);
    }
}

struct unmap_ctx {
    void (*fn)(paddr_t pa, void *arg);
    void *arg;
};

static void unmap_leaf(pte_t *e, uintptr_t va, void *ctx)
{
    (void)va;
    struct unmap_ctx *u = ctx;
    paddr_t pa = pte_addr(*e);
    *e = 0;
    u->fn(pa, u->arg);
}

void arch_unmap_range(struct arch_aspace *as, uintptr_t start, uintptr_t end,
                      void (*fn)(paddr_t pa, void *arg), void *arg)
{
    struct unmap_ctx u = { fn, arg };
    walk_leaves(as->root, PT_LEVELS - 1, 0, start, end, unmap_leaf, &u);
    sfence_asid(as->asid);
}

static void protect_leaf(pte_t *e, uintptr_t va, void *ctx)
{
    (void)va;
    uint32_t prot = *(uint32_t *)ctx;
    *e = pte_make(pte_addr(*e), prot_bits(prot) | (*e & ARCH_PTE_DEVICE));
}

void arch_protect_range(struct arch_aspace *as, uintptr_t start, uintptr_t end, uint32_t prot)
{
    walk_leaves(as->root, PT_LEVELS - 1, 0, start, end, protect_leaf, &prot);
    sfence_asid(as->asid);
}

struct cow_ctx {
    struct arch_aspace *dst;
    int err;
};

/* One leaf of arch_copy_cow: the same page in dst, read-only in both, one more reference. */
static void cow_leaf(pte_t *e, uintptr_t va, void *ctx)
{
    struct cow_ctx *c = ctx;
    if (c->err)
        return;
    BUG_ON(*e & ARCH_PTE_DEVICE);           /* device pages are only ever mapped shared */
    pte_t *d = pt_walk(c->dst->root, va, 0, 1, c->dst->acct);
    if (!d || page_ref(phys_to_virt(pte_addr(*e)))) {
        c->err = KS_ERR_NO_MEMORY;
        return;
    }
    *e &= ~(pte_t)PTE_W;                    /* the next write copies (or, alone again, keeps) */
    *d = *e;
}

int arch_copy_cow(struct arch_aspace *dst, struct arch_aspace *src, uintptr_t start, uintptr_t end)
{
    struct cow_ctx c = { dst, 0 };
    walk_leaves(src->root, PT_LEVELS - 1, 0, start, end, cow_leaf, &c);
    sfence_asid(src->asid);
    sfence_asid(dst->asid);
    return c.err;
}

static void write_satp(uint64_t satp)
{
    if (satp == csr_read(satp))
        return;
    csr_write(satp, satp);
}

void arch_aspace_activate_kernel(void)
{
    write_satp(SATP_MODE_SV48 | virt_to_phys(kernel_root_table()) >> PAGE_SHIFT);
}

