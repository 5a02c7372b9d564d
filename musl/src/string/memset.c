/*
 * musl/src/string/memset.c - kestrel's memset, in place of musl's.
 *
 * Programs here clear structures of a few dozen to a few hundred bytes far
 * more often than they fill large buffers (a stat buffer before every
 * stat, stdio's state), and musl's portable memset spends on such sizes as
 * much on its careful ends as on the middle (78 instructions for 128
 * bytes). This one aligns the destination a byte at a time, stores 8-byte
 * words 32 bytes an iteration, and ends a byte at a time; short fills are
 * byte stores. No misaligned access. tests/test_memcpy.c checks it too.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint64_t __attribute__((__may_alias__)) word;

void *memset(void *dest, int c, size_t n)
{
    unsigned char *d = dest;
    if (n >= 16) {
        for (; (uintptr_t)d & 7; n--)
            *d++ = (unsigned char)c;
        word v = (unsigned char)c * 0x0101010101010101ull;
        word *w = (word *)d;
        for (; n >= 32; n -= 32, w += 4)
            w[0] = v, w[1] = v, w[2] = v, w[3] = v;
        for (; n >= 8; n -= 8)
            *w++ = v;
        d = (unsigned char *)w;
    }
    for (; n; n--)
        *d++ = (unsigned char)c;
    return dest;
}
