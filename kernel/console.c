/*
 * kernel/console.c - routes kernel output to the UART, or to the SBI firmware
 * console before the UART is known (early boot and DTB errors).
 */
#include <arch/arch.h>
#include "console.h"
#include "uart16550.h"

static int use_uart;
static unsigned long bytes_written;

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
    bytes_written++;
}

void console_use_uart(void)
{
    use_uart = 1;
}

unsigned long console_bytes_written(void)
{
    return bytes_written;
}
