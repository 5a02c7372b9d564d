/*
 * arch/riscv/include/arch/arch.h - what the portable kernel may ask of the
 * architecture. kernel/ includes this and <arch/memlayout.h>, nothing else from
 * arch/; a fake version in tests/fake/ lets host tests build the portable kernel files unchanged.
 */
#ifndef ARCH_ARCH_H
#define ARCH_ARCH_H

#include <stdint.h>
#include <stddef.h>

struct platform;
struct trap_frame;

/* Interrupts on this hart. arch_irq_save() disables and returns the old state. */
static inline void arch_irq_enable(void)  { __asm__ volatile("csrsi sstatus, 2" ::: "memory"); }
static inline void arch_irq_disable(void) { __asm__ volatile("csrci sstatus, 2" ::: "memory"); }
static inline unsigned long arch_irq_save(void)
{
    unsigned long old;
    __asm__ volatile("csrrci %0, sstatus, 2" : "=r"(old) :: "memory");
    return old & 2;
}
/* 1 if an interrupt this hart takes (enabled in sie) is pending in sip. */
static inline int arch_irq_pending(void)
{
    unsigned long ip, ie;
    __asm__ volatile("csrr %0, sip" : "=r"(ip));
    __asm__ volatile("csrr %0, sie" : "=r"(ie));
    return (ip & ie) != 0;
}

static inline int arch_irq_enabled(void)
{
    unsigned long s;
    __asm__ volatile("csrr %0, sstatus" : "=r"(s));
    return (s & 2) != 0;
}
static inline void arch_irq_restore(unsigned long flags)
{
    if (flags)
        arch_irq_enable();
}

/* Sleep until an interrupt is pending (it may already be). */
static inline void arch_wait_for_interrupt(void) { __asm__ volatile("wfi" ::: "memory"); }

/*
 * The idle loop's wait: wfi with interrupts off (it ends when one is pending;
 * the caller turns them on to take it). Returns how far the instruction
 * counter moved beyond the two instructions it counts between its reads
 * (the first read and the wfi): the time the hart
 * slept, which under QEMU -icount is the virtual clock's jump to its next
 * timer, counted by rdinstret as if instructions had run.
 */
#define ARCH_IDLE_WAIT_INSNS 2
static inline uint64_t arch_idle_wait(void)
{
    uint64_t before, after;
    __asm__ volatile("rdinstret %0\n\twfi\n\trdinstret %1" : "=r"(before), "=r"(after) :: "memory");
    return after - before > ARCH_IDLE_WAIT_INSNS ? after - before - ARCH_IDLE_WAIT_INSNS : 0;
}

/* The platform clock (the `time` CSR), in ticks of the DTB's timebase-frequency. */
/* The retired-instruction counter when the kernel was entered (saved by boot.S). */
extern uint64_t boot_instret;

static inline uint64_t arch_time_now(void)
{
    uint64_t t;
    __asm__ volatile("rdtime %0" : "=r"(t));
    return t;
}

/* Instructions retired (exact under QEMU -icount, host ticks otherwise). */
static inline uint64_t arch_instret(void)
{
    uint64_t n;
    __asm__ volatile("rdinstret %0" : "=r"(n));
    return n;
}

/* Write one byte through the firmware console (SBI); usable before any driver. */
void arch_early_putc(char c);

/* Install the trap vector; timer interrupts stay masked until arch_timer_start(). */
void arch_trap_init(void);

/* Start the periodic timer interrupt; each tick calls clock_tick(). */
void arch_timer_start(const struct platform *plat, uint64_t period);

/* Program the next timer interrupt for absolute time `deadline`. */
void arch_timer_set(uint64_t deadline);

/* 1 if the timer is programmed directly (Sstc), 0 if through SBI calls. */
int arch_timer_uses_sstc(void);

/*
 * The platform interrupt controller (arch/riscv/plic.c). Lines are numbered as
 * the controller numbers its sources, from 1. arch_intc_init sets it up with
 * every line disabled and turns on external interrupts for this hart; it
 * returns the highest line number (0: no controller, nothing is ever delivered).
 * Call it after arch_vm_init. Each interrupt taken calls irq_dispatch(line)
 * (kernel/irq.h) and then tells the controller it was handled; a line delivers
 * interrupts only while unmasked.
 */
uint32_t arch_intc_init(const struct platform *plat);
void arch_irq_line_unmask(uint32_t line);
void arch_irq_line_mask(uint32_t line);

/* Build the kernel's final page tables (W^X image, direct map of RAM) and switch to them. */
void arch_vm_init(const struct platform *plat);

/* Map `size` bytes of device registers at physical `pa`; returns their virtual address. */
void *arch_map_device(uint64_t pa, uint64_t size);

/* Ask the firmware to power off. Does not return. */
__attribute__((noreturn)) void arch_system_reset(int status);

/*
 * Read or write 8 bytes at an address that may not be mapped. Returns 0, or -1 if
 * the access faulted (the trap handler resumes at a fixup; see arch/riscv/uaccess.S).
 */
int arch_probe_read64(uintptr_t addr, uint64_t *out);
int arch_probe_write64(uintptr_t addr, uint64_t val);

/*
 * Copy between kernel and user memory with user access enabled; 0, or -1 if an
 * address faulted (lazily mapped user pages are faulted in first). Callers
 * check the range (kernel/uaccess.c).
 */
int arch_copy_user(void *dst, const void *src, size_t len);
int arch_clear_user(void *dst, size_t len);

/*
 * arch_copy_user of ARCH_COPY_USER_WORDS13 bytes (13 words, both addresses
 * 8-byte aligned) in a line, without the general copy's dispatch: an IPC
 * descriptor (struct ks_ipc_desc), which the IPC fast path reads on every
 * message that has one.
 */
#define ARCH_COPY_USER_WORDS13 104
int arch_copy_user_words13(void *dst, const void *src);

/* Print the registers of a trap frame (f may be NULL: print the trap CSRs). */
void arch_dump_frame(const struct trap_frame *f);

/*
 * Walk the frame-pointer chain and call fn(pc, exact) for each frame, innermost
 * first. With a trap frame the walk starts at the trapped pc (exact = 1);
 * without one, at the caller of arch_backtrace. Other pcs are return addresses
 * (exact = 0). Frame reads go through arch_probe_read64, so a corrupt chain
 * ends the walk instead of faulting.
 */
void arch_backtrace(const struct trap_frame *f, void (*fn)(uintptr_t pc, int exact));

#endif
