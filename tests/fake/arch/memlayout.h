/*
 * tests/fake/arch/memlayout.h - the host tests' stand-in for arch/riscv's memory
 * layout: "physical" addresses are plain host addresses (the direct map is the
 * identity), so kernel code that manages RAM can run on malloc'ed buffers.
 */
#ifndef ARCH_MEMLAYOUT_H
#define ARCH_MEMLAYOUT_H

#include <stdint.h>

#define PAGE_SHIFT          12
#define PAGE_SIZE           (1 << PAGE_SHIFT)
#define USER_BASE           0x0000000000001000
#define USER_TOP            0x0000800000000000
#define DIRECT_MAP_BASE     0
#define DIRECT_MAP_SIZE     0x0000800000000000
#define KERNEL_VIRT_BASE    0xffffffff80200000
#define KERNEL_PHYS_BASE    0x80200000

typedef uint64_t paddr_t;

static inline void *phys_to_virt(paddr_t pa) { return (void *)(uintptr_t)pa; }
static inline paddr_t virt_to_phys(const void *va) { return (uintptr_t)va; }

#endif
