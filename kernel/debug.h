/*
 * kernel/debug.h - what the debug kernel (build/kernel-debug.elf, built with
 * KESTREL_DEBUG; make test and make fuzz boot it) checks beyond the kernel
 * make bench measures, and what costs nothing in the latter:
 *
 *   ASSERT(c)       a BUG_ON(!c) in the debug kernel, nothing otherwise: the
 *                   invariants of state changes on hot paths, where even a
 *                   compare and a branch would change a benchmark figure;
 *   poisoning       freed heap objects and pages are filled with POISON_BYTE
 *                   and checked when they are handed out again, so a write
 *                   after free is a panic naming the allocator, not a silent
 *                   corruption (kernel/heap.c, kernel/page_alloc.c).
 *
 * Checks that are cheap stay on in both kernels (BUG_ON, panics on double
 * frees and on reference counts going below zero).
 */
#ifndef KERNEL_DEBUG_H
#define KERNEL_DEBUG_H

#include "panic.h"

#ifdef KESTREL_DEBUG
#define KDEBUG 1
#define ASSERT(c) BUG_ON(!(c))
#else
#define KDEBUG 0
#define ASSERT(c) ((void)sizeof(!(c)))      /* type-checked, never evaluated */
#endif

#define POISON_BYTE 0x6b
#define POISON_WORD 0x6b6b6b6b6b6b6b6bull

/* Fill [p, p + len) with POISON_BYTE (debug kernel only; len a multiple of 8). */
static inline void poison(void *p, unsigned long len)
{
    if (!KDEBUG)
        return;
    for (unsigned long i = 0; i < len / 8; i++)
        ((volatile unsigned long long *)p)[i] = POISON_WORD;
}

/* The first word of [p, p + len) that is not POISON_WORD, or -1 (always -1 outside the debug kernel). */
static inline long poison_broken(const void *p, unsigned long len)
{
    if (!KDEBUG)
        return -1;
    for (unsigned long i = 0; i < len / 8; i++)
        if (((const volatile unsigned long long *)p)[i] != POISON_WORD)
            return (long)i;
    return -1;
}

#endif
