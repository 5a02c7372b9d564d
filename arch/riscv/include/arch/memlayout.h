/*
 * arch/riscv/include/arch/memlayout.h - where things live in an Sv48 address space.
 *
 * Every address space shares the kernel's upper half, so a trap never switches
 * satp. Included from C and from assembly.
 *
 *   0x0000000000001000 .. 0x00007fffffffffff   user space (lower half)
 *   0xffff800000000000 .. +64 TiB              direct map: physical address P at
 *                                              DIRECT_MAP_BASE + P (RAM and the
 *                                              device pages the kernel maps)
 *   0xffffffff80200000 ..                      kernel image (physical 0x80200000)
 */
#ifndef ARCH_MEMLAYOUT_H
#define ARCH_MEMLAYOUT_H

#define PAGE_SHIFT          12
#define PAGE_SIZE           (1 << PAGE_SHIFT)

#define USER_BASE           0x0000000000001000      /* = KS_USER_BASE (include/kestrel/layout.h) */
#define USER_TOP            0x0000800000000000      /* = KS_USER_TOP: first address above user space */

#define DIRECT_MAP_BASE     0xffff800000000000
#define DIRECT_MAP_SIZE     0x0000400000000000      /* 64 TiB */

#define KERNEL_VIRT_BASE    0xffffffff80200000
#define KERNEL_PHYS_BASE    0x80200000

#ifndef __ASSEMBLER__
#include <stdint.h>

typedef uint64_t paddr_t;

/* Physical address -> its kernel virtual address in the direct map. */
static inline void *phys_to_virt(paddr_t pa)
{
    return (void *)(uintptr_t)(pa + DIRECT_MAP_BASE);
}

/* Kernel virtual address (direct map or image) -> physical address. */
static inline paddr_t virt_to_phys(const void *va)
{
    uintptr_t v = (uintptr_t)va;
    extern char __kernel_start[];
    if (v >= (uintptr_t)__kernel_start)
        return v - (uintptr_t)__kernel_start + KERNEL_PHYS_BASE;
    return v - DIRECT_MAP_BASE;
}
#endif

#endif
