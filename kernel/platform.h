/*
 * kernel/platform.h - what the kernel learns about the machine from the device tree.
 *
 * platform_parse() fills a struct platform from the DTB OpenSBI hands over, and
 * panics with a one-line reason when the DTB lacks something the kernel cannot
 * run without (RAM, a 16550 console, the timebase). Nothing else in the kernel
 * reads the DTB. An interrupt controller is optional: without a usable PLIC
 * (plic_pa 0) the kernel runs on, polling its console, and offers no interrupts
 * to user space.
 */
#ifndef KERNEL_PLATFORM_H
#define KERNEL_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#define PLATFORM_MAX_RANGES 16
#define PLATFORM_MAX_VIRTIO 8

/* A memory-mapped device: its registers and its interrupt at the PLIC (0: none usable). */
struct platform_device {
    uint64_t pa, size;
    uint32_t irq;
};

struct mem_range {
    uint64_t base;
    uint64_t size;
};

struct platform {
    unsigned long hartid;
    uint64_t dtb_pa, dtb_size;
    struct mem_range ram[PLATFORM_MAX_RANGES];
    int nram;
    struct mem_range reserved[PLATFORM_MAX_RANGES];     /* RAM the kernel must not hand out */
    int nreserved;
    const char *uart_path;      /* device tree path of the console UART */
    uint64_t uart_pa, uart_size;
    uint32_t uart_reg_shift;
    uint32_t uart_clock;        /* Hz; 0 if the DTB does not say */
    uint32_t uart_irq;          /* the console's interrupt source at the PLIC; 0: none known */
    uint64_t plic_pa, plic_size;    /* "riscv,plic0" / "sifive,plic-1.0.0"; 0: none usable */
    uint32_t plic_ndev;         /* riscv,ndev: sources are numbered 1 .. plic_ndev */
    uint32_t plic_context;      /* the boot hart's supervisor-mode context */
    uint64_t poweroff_pa;       /* "sifive,test0" device, 0 if none */
    uint64_t timebase_hz;       /* rate of the time CSR */
    const char *isa;            /* boot hart's riscv,isa string ("" if absent) */
    const char *bootargs;       /* /chosen/bootargs, "" if none */
    const void *rng_seed;       /* /chosen/rng-seed (QEMU: 32 random bytes), or NULL */
    uint32_t rng_seed_len;
    struct platform_device virtio[PLATFORM_MAX_VIRTIO];     /* "virtio,mmio" slots, by address */
    int nvirtio;
};

/*
 * Parse the DTB at `dtb` (kernel-readable, physical address dtb_pa, at most
 * `avail` bytes readable). Panics on a DTB the kernel cannot boot with.
 */
void platform_parse(struct platform *p, const void *dtb, uint64_t dtb_pa, size_t avail,
                    unsigned long hartid);

/* Add [base, base+size) to the reserved ranges (panics when the table is full). */
void platform_reserve(struct platform *p, uint64_t base, uint64_t size);

/* 1 if the whitespace-separated bootargs contain `word`. */
int platform_has_arg(const struct platform *p, const char *word);

#endif
