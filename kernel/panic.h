/*
 * kernel/panic.h - stopping the kernel on a kernel bug.
 *
 * panic() is for kernel bugs and unbootable machines only; mistakes by user space
 * fail the call or kill the caller instead. It prints "panic: <message>", the
 * trap registers, a backtrace with symbol names, and powers off with
 * EXIT_PANIC. Messages start with the subsystem or function name.
 */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

struct trap_frame;

__attribute__((noreturn, format(printf, 1, 2)))
void panic(const char *fmt, ...);

/* Panic on behalf of a trap: registers and backtrace come from the frame. */
__attribute__((noreturn, format(printf, 2, 3)))
void panic_trap(const struct trap_frame *f, const char *fmt, ...);

/* Kernel bug check that stays on in every build. */
#define BUG_ON(cond) \
    do { if (cond) panic("%s: BUG_ON(%s) at %s:%d", __func__, #cond, __FILE__, __LINE__); } while (0)

#endif
