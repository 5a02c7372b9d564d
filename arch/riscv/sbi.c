/*
 * arch/riscv/sbi.c - the SBI firmware interface: console byte, timer, system reset.
 */
#include <arch/arch.h>
#include "sbi.h"

struct sbiret sbi_call(long ext, long fid, long arg0, long arg1, long arg2)
{
    register long a0 __asm__("a0") = arg0;
    register long a1 __asm__("a1") = arg1;
    register long a2 __asm__("a2") = arg2;
    register long a6 __asm__("a6") = fid;
    register long a7 __asm__("a7") = ext;
    __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a6), "r"(a7) : "memory");
    return (struct sbiret){ a0, a1 };
}

int sbi_probe_extension(long ext)
{
    struct sbiret r = sbi_call(SBI_EXT_BASE, 3, ext, 0, 0);
    return r.error == 0 && r.value != 0;
}

void arch_early_putc(char c)
{
    sbi_call(SBI_EXT_LEGACY_PUTCHAR, 0, (unsigned char)c, 0, 0);
}

void sbi_set_timer(uint64_t deadline)
{
    sbi_call(SBI_EXT_TIME, 0, (long)deadline, 0, 0);
}

/*
 * SRST: type 0 = shutdown, reason 0 = none, 1 = system failure. Debian's OpenSBI
 * 1.1 makes QEMU exit 0 either way, which is why kernel/power.c prefers the test
 * device and only falls back to this.
 */
void arch_system_reset(int status)
{
    sbi_call(SBI_EXT_SRST, 0, 0, status ? 1 : 0, 0);
    for (;;)
        arch_wait_for_interrupt();
}
