/*
 * kernel/string.c - memory and string functions for the freestanding kernel.
 *
 * Byte loops, plus unrolled word loops for aligned memcpy/memset: zeroing a
 * fresh page and copying a page for copy-on-write spend their time here.
 */
#include <stdint.h>
#include "string.h"

/*
 * An aligned copy of 512 bytes or more (an IPC buffer, a copy-on-write page):
 * 64 words per iteration, in groups of 16 loads then 16 stores; memcpy does the
 * rest. Out of line, so that small copies do not pay for its registers.
 */
static __attribute__((noinline)) void *copy_large(void *dst, const void *src, size_t n)
{
    uint64_t *dw = dst;
    const uint64_t *sw = src;
    for (; n >= 512; n -= 512, dw += 64, sw += 64) {
#pragma GCC unroll 4
        for (int h = 0; h < 64; h += 16) {
            uint64_t v[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++)
                v[i] = sw[h + i];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++)
                dw[h + i] = v[i];
        }
    }
    if (n)
        memcpy(dw, sw, n);
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if ((((uintptr_t)d | (uintptr_t)s) & 7) == 0) {
        if (n >= 512)
            return copy_large(dst, src, n);
        uint64_t *dw = (uint64_t *)d;
        const uint64_t *sw = (const uint64_t *)s;
        for (; n >= 64; n -= 64, dw += 8, sw += 8) {
#pragma GCC unroll 8
            for (int i = 0; i < 8; i++)
                dw[i] = sw[i];
        }
        for (; n >= 8; n -= 8)
            *dw++ = *sw++;
        d = (uint8_t *)dw;
        s = (const uint8_t *)sw;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    if (n >= 16) {
        for (; (uintptr_t)d & 7; n--)   /* bytes up to a word boundary (GCC trims a zeroing */
            *d++ = (uint8_t)c;          /* whose first field is stored next: p + 4, say) */
        uint64_t w = (uint8_t)c * 0x0101010101010101ull;
        uint64_t *dw = (uint64_t *)d;
        for (; n >= 256; n -= 256, dw += 32) {      /* page zeroing lives here */
#pragma GCC unroll 32
            for (int i = 0; i < 32; i++)
                dw[i] = w;
        }
        for (; n >= 8; n -= 8)
            *dw++ = w;
        d = (uint8_t *)dw;
    }
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] - y[i];
    return 0;
}

void *memchr(const void *s, int c, size_t n)
{
    const uint8_t *p = s;
    for (size_t i = 0; i < n; i++)
        if (p[i] == (uint8_t)c)
            return (void *)(p + i);
    return NULL;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b || !*a)
            return (unsigned char)*a - (unsigned char)*b;
    }
    return 0;
}
