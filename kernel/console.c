/*
 * kernel/console.c - routes kernel output to the UART, or to the SBI firmware
 * console before the UART is known (early boot and DTB errors), and keeps the
 * newest 16 KiB of it (the kernel log dmesg reads).
 */
#include <arch/arch.h>
#include "console.h"
#include "uart16550.h"

static int use_uart;
static unsigned long bytes_written;
static char log_ring[CONSOLE_LOG_SIZE];
static unsigned long log_start;     /* bytes_written when the log was last cleared */

static void put_raw(char c)
{
    if (use_uart)
        uart_putc(c);
    else
        arch_early_putc(c);
}

void console_putc(char c)
{
    if (c == '\n')
        put_raw('\r');
    put_raw(c);
    log_ring[bytes_written % CONSOLE_LOG_SIZE] = c;
    bytes_written++;
}

unsigned long console_log_copy(char *dst, unsigned long max)
{
    unsigned long kept = bytes_written - log_start;
    if (kept > CONSOLE_LOG_SIZE)
        kept = CONSOLE_LOG_SIZE;
    unsigned long n = kept < max ? kept : max;
    for (unsigned long i = 0, at = bytes_written - n; i < n; i++, at++)
        dst[i] = log_ring[at % CONSOLE_LOG_SIZE];
    return n;
}

void console_log_clear(void)
{
    log_start = bytes_written;
}

void console_use_uart(void)
{
    use_uart = 1;
}

unsigned long console_bytes_written(void)
{
    return bytes_written;
}
