/*
 * kernel/uart16550.c - polled 16550 UART output.
 *
 * Only transmission is used here: wait for "transmit holding register empty"
 * in the line status register, then write the byte. The kernel clears IER at
 * boot and never takes the UART's interrupt itself; a user-space driver may
 * enable it through the console's device memobj (see README), which does not
 * affect this polled output.
 */
#include "uart16550.h"

enum {
    UART_THR = 0,       /* transmit holding (write) */
    UART_IER = 1,       /* interrupt enable */
    UART_DLL = 0,       /* divisor latch, low (with LCR.DLAB) */
    UART_DLM = 1,       /* divisor latch, high (with LCR.DLAB) */
    UART_FCR = 2,       /* FIFO control (write) */
    UART_LCR = 3,       /* line control */
    UART_LSR = 5,       /* line status */
};

#define LCR_8N1     0x03
#define LCR_DLAB    0x80
#define FCR_ENABLE  0x05    /* enable the FIFOs, clear the transmit one; the receive FIFO is
                               kept for the console's reader (turning the FIFOs on still
                               drops the byte in the holding register: 16550 behaviour) */
#define LSR_THRE    0x20

#define BAUD        115200

static volatile uint8_t *uart_regs;
static unsigned uart_shift;

static void reg_write(int reg, uint8_t v)
{
    uart_regs[reg << uart_shift] = v;
}

static uint8_t reg_read(int reg)
{
    return uart_regs[reg << uart_shift];
}

void uart_init(volatile uint8_t *regs, unsigned reg_shift, uint32_t clock_hz)
{
    uart_regs = regs;
    uart_shift = reg_shift;
    reg_write(UART_IER, 0);
    if (clock_hz) {
        uint32_t div = clock_hz / (16 * BAUD);
        if (div == 0)
            div = 1;
        reg_write(UART_LCR, LCR_DLAB);
        reg_write(UART_DLL, div & 0xff);
        reg_write(UART_DLM, (div >> 8) & 0xff);
    }
    reg_write(UART_LCR, LCR_8N1);
    reg_write(UART_FCR, FCR_ENABLE);
}

void uart_putc(char c)
{
    while (!(reg_read(UART_LSR) & LSR_THRE))
        ;
    reg_write(UART_THR, (uint8_t)c);
}
