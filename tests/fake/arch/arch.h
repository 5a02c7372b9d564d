/*
 * tests/fake/arch/arch.h - the host tests' stand-in for <arch/arch.h>.
 *
 * Interrupts are no-ops, time is the host's monotonic clock in nanoseconds, the
 * early console is stdout; see fake_arch.c. Only what the portable files that
 * host tests build need is here.
 */
#ifndef ARCH_ARCH_H
#define ARCH_ARCH_H

#include <stddef.h>
#include <stdint.h>

struct platform;
struct trap_frame;

static inline void arch_irq_enable(void) {}
static inline void arch_irq_disable(void) {}
static inline unsigned long arch_irq_save(void) { return 0; }
static inline void arch_irq_restore(unsigned long flags) { (void)flags; }
static inline void arch_wait_for_interrupt(void) {}

uint64_t arch_time_now(void);
void arch_early_putc(char c);
__attribute__((noreturn)) void arch_system_reset(int status);

#endif
