/*
 * kernel/kprintf.h - formatted output: the console, a buffer, or any sink.
 *
 * Conversions: %s %c %d %i %u %x %X %p %% with the length modifiers l, ll and z
 * (so %lx %lu %ld %zu %zx), a field width (number or *), and the flags '-'
 * (left-justify) and '0' (zero padding). %p prints 0x and 16 hex digits.
 * An unknown conversion is printed as is, so a mistake shows instead of vanishing.
 */
#ifndef KERNEL_KPRINTF_H
#define KERNEL_KPRINTF_H

#include <stdarg.h>
#include <stddef.h>

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/* Print to the console. Returns the number of bytes printed. */
int kprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
int kvprintf(const char *fmt, va_list ap);

/*
 * Format into buf (size bytes, always NUL-terminated when size > 0). Returns the
 * length the whole output would have had, like C's snprintf, so truncation shows.
 */
int ksnprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* The formatting engine: calls put(c, arg) for every output byte. */
int kformat(void (*put)(char c, void *arg), void *arg, const char *fmt, va_list ap);

#endif
