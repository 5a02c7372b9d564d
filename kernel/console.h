/*
 * kernel/console.h - the kernel console: the firmware's until a UART driver takes over.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

/* Write one byte; '\n' goes out as "\r\n". */
void console_putc(char c);

/* From now on write through the 16550 UART (set up first with uart_init). */
void console_use_uart(void);

/* Bytes written since boot (for tests and counters). */
unsigned long console_bytes_written(void);

#endif
