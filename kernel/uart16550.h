/*
 * kernel/uart16550.h - polled driver for a 16550-compatible UART (QEMU virt's ns16550a).
 */
#ifndef KERNEL_UART16550_H
#define KERNEL_UART16550_H

#include <stdint.h>

/*
 * Take over the UART whose registers are mapped at `regs`; registers are
 * (1 << reg_shift) bytes apart. clock_hz 0 leaves the baud rate as it is.
 */
void uart_init(volatile uint8_t *regs, unsigned reg_shift, uint32_t clock_hz);

/* Write one byte, waiting until the transmitter has room. */
void uart_putc(char c);

#endif
