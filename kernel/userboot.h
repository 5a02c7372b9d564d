/*
 * kernel/userboot.h - starting init, the only process the kernel starts itself.
 */
#ifndef KERNEL_USERBOOT_H
#define KERNEL_USERBOOT_H

#include <stdint.h>

struct object;

/* The console UART, as init gets it for a user-space driver (objects may be NULL: none). */
struct userboot_console {
    struct object *mmio;        /* device memobj of its registers */
    struct object *irq;         /* its interrupt (kernel/irq.h) */
    uint64_t reg_offset;        /* register 0 within the memobj */
    uint32_t reg_shift;         /* register n at reg_offset + (n << reg_shift) */
};

/* A virtio-mmio device for init to hand to a driver (KS_AT_DEVICE_*). */
struct userboot_device {
    struct object *mmio;        /* device memobj of its registers (init's handle has KS_RIGHT_DMA) */
    struct object *irq;         /* its interrupt, or NULL */
    uint32_t virtio_id;         /* the device's virtio device ID (2: block) */
};

/*
 * Make the embedded boot image a memobj (its pages, not a copy), load "init" from it with the
 * kernel's ELF loader, give init a handle to the boot image, handles to the
 * console's objects (KS_AT_CONSOLE_*) and to the ndev devices' (KS_AT_DEVICE_*,
 * at most KS_DEVICE_MAX), and `args` (the bootargs, split at spaces) as argv,
 * and start its first thread. Returns init's process (with a reference), or
 * panics: without init there is nothing to run.
 */
struct process *userboot_start_init(const char *args, const struct userboot_console *console,
                                    const struct userboot_device *devs, int ndev);

#endif
