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

/*
 * The kernel log: the last CONSOLE_LOG_SIZE bytes written to the console
 * (kprintf's, and the debug writes of programs), kept for KS_SYS_KLOG (dmesg).
 * Copy the newest min(max, kept) of them to dst, oldest first: how many.
 */
#define CONSOLE_LOG_SIZE 16384u
unsigned long console_log_copy(char *dst, unsigned long max);

/* Forget what the log holds (dmesg -c). */
void console_log_clear(void);

#endif
