/*
 * kernel/panic.c - the kernel's last words: message, registers, backtrace, power off.
 */
#include <stdarg.h>
#include <arch/arch.h>
#include "panic.h"
#include "kprintf.h"
#include "ksyms.h"
#include "power.h"

static int panicking;

static void print_frame_line(uintptr_t pc, int exact)
{
    /* A return address points after the call; look up the call itself. */
    uintptr_t off, where = exact ? pc : pc - 1;
    const char *name = ksym_lookup(where, &off);
    if (name)
        kprintf("  %p  %s+0x%lx\n", (void *)pc, name, (unsigned long)(off + (exact ? 0 : 1)));
    else
        kprintf("  %p  ?\n", (void *)pc);
}

static __attribute__((noreturn)) void panic_common(const struct trap_frame *f, const char *fmt,
                                                   va_list ap)
{
    arch_irq_disable();
    if (panicking++) {
        kprintf("\npanic: nested panic: ");
        kvprintf(fmt, ap);
        kprintf("\n");
        shutdown(EXIT_PANIC);
    }
    kprintf("\npanic: ");
    kvprintf(fmt, ap);
    kprintf("\n");
    arch_dump_frame(f);
    kprintf("backtrace:\n");
    arch_backtrace(f, print_frame_line);
    kprintf("panic: powering off (exit status %d)\n", EXIT_PANIC);
    shutdown(EXIT_PANIC);
}

void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    panic_common(NULL, fmt, ap);
}

void panic_trap(const struct trap_frame *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    panic_common(f, fmt, ap);
}
