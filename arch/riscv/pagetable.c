/*
 * arch/riscv/pagetable.c - Sv48 page-table building and the kernel's own address space.
 *
 * boot.S runs kmain on three early tables built of 1 GiB pages. arch_vm_init()
 * replaces them with the final kernel tables:
 *   - the image with W^X: text R+X, rodata R, data and bss R+W;
 *   - RAM (every range the DTB lists) at DIRECT_MAP_BASE + physical, R+W;
 *   - device registers that drivers asked for with arch_map_device(), R+W.
 * Nothing else is mapped: the identity map and the rest of physical space are gone.
 * Every user address space (arch/riscv/mmu.c) shares the kernel half of this root.
 */
#include <arch/arch.h>
#include "kernel/page_alloc.h"
#include "kernel/panic.h"
#include "kernel/platform.h"
#include "kernel/string.h"
#include "csr.h"
#include "pagetable.h"

extern char __kernel_start[], __text_end[], __rodata_end[], __kernel_end[];

static pte_t *kernel_root;

pte_t *kernel_root_table(void)
{
    return kernel_root;
}

#define MAX_EARLY_DEVICES 8
static struct { paddr_t pa; size_t size; } early_devices[MAX_EARLY_DEVICES];
static int n_early_devices;

static pte_t *table_at(pte_t pte)
{
    return phys_to_virt(pte_addr(pte));
}


int pt_map(pte_t *root, uintptr_t va, paddr_t pa, size_t size, uint64_t flags)
{
    while (size) {
        int level = 0;
        for (int l = 2; l > 0; l--) {
            uint64_t span = 1ul << (12 + 9 * l);
            if (va % span == 0 && pa % span == 0 && size >= span) {
                level = l;
                break;
            }
        }
        pte_t *e = pt_walk(root, va, level, 1, NULL);
        if (!e)
            return -1;
        /* 4 KiB pages: the rest of this leaf table too, without walking again. */
        uint64_t step = 1ul << (12 + 9 * level);
        size_t n = level ? 1 : 512 - pt_index(va, 0);
        if (n > size / step)
            n = size / step;
        if (n == 0)
            return -1;                  /* size is not a whole number of pages */
        for (size_t k = 0; k < n; k++, e++) {
            if (*e & PTE_V)
                panic("pt_map: 0x%lx is already mapped", (unsigned long)va);
            *e = pte_make(pa, flags | PTE_V | PTE_A | PTE_D);
            va += step;
            pa += step;
            size -= step;
        }
    }
    return 0;
}

pte_t *pt_lookup(pte_t *root, uintptr_t va)
{
    pte_t *table = root;
    for (int l = PT_LEVELS - 1; l >= 0; l--) {
        pte_t *e = &table[pt_index(va, l)];
        if (!(*e & PTE_V))
            return NULL;
        if (pte_is_leaf(*e))
            return e;
        table = table_at(*e);
    }
    return NULL;
}

static void map_or_panic(uintptr_t va, paddr_t pa, size_t size, uint64_t flags, const char *what)
{
    if (pt_map(kernel_root, va, pa, size, flags) != 0)
        panic("vm: out of memory mapping %s", what);
}

static void map_image_part(char *start, char *end, uint64_t flags, const char *what)
{
    map_or_panic((uintptr_t)start, virt_to_phys(start), (size_t)(end - start), flags | PTE_G, what);
}

void arch_vm_init(const struct platform *plat)
{
    kernel_root = page_zalloc(0);
    if (!kernel_root)
        panic("vm: no page for the kernel root table");
    map_image_part(__kernel_start, __text_end, PTE_R | PTE_X, "kernel text");
    map_image_part(__text_end, __rodata_end, PTE_R, "kernel rodata");
    map_image_part(__rodata_end, __kernel_end, PTE_R | PTE_W, "kernel data");
    for (int i = 0; i < plat->nram; i++) {
        paddr_t base = (plat->ram[i].base + PAGE_SIZE - 1) & ~(paddr_t)(PAGE_SIZE - 1);
        paddr_t end = (plat->ram[i].base + plat->ram[i].size) & ~(paddr_t)(PAGE_SIZE - 1);
        if (end > DIRECT_MAP_SIZE)
            panic("vm: RAM at 0x%lx lies beyond the direct map", (unsigned long)base);
        if (end > base)
            map_or_panic((uintptr_t)phys_to_virt(base), base, end - base, PTE_R | PTE_W | PTE_G, "RAM");
    }
    for (int i = 0; i < n_early_devices; i++)
        map_or_panic((uintptr_t)phys_to_virt(early_devices[i].pa), early_devices[i].pa,
                     early_devices[i].size, PTE_R | PTE_W | PTE_G, "a device");

    sfence_vma_all();
    csr_write(satp, SATP_MODE_SV48 | virt_to_phys(kernel_root) >> PAGE_SHIFT);
    sfence_vma_all();
}

void *arch_map_device(uint64_t pa, uint64_t size)
{
    paddr_t base = pa & ~(paddr_t)(PAGE_SIZE - 1);
    size_t len = (pa + size - base + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);
    if (kernel_root) {
        for (size_t off = 0; off < len; off += PAGE_SIZE)
            if (!pt_lookup(kernel_root, (uintptr_t)phys_to_virt(base + off)))
                map_or_panic((uintptr_t)phys_to_virt(base + off), base + off, PAGE_SIZE,
                             PTE_R | PTE_W | PTE_G, "a device");
        sfence_vma_all();
    } else {
        /* Early tables map all of the low 4 GiB; remember it for arch_vm_init. */
        if (n_early_devices == MAX_EARLY_DEVICES)
            panic("arch_map_device: too many devices before arch_vm_init");
        early_devices[n_early_devices].pa = base;
        early_devices[n_early_devices].size = len;
        n_early_devices++;
    }
    return phys_to_virt(pa);
}
