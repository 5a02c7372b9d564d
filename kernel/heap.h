/*
 * kernel/heap.h - kmalloc/kfree: the kernel heap on top of the page allocator.
 *
 * Requests up to HEAP_MAX_SLAB bytes come from slab pages of power-of-two size
 * classes (16 .. 2048 bytes, each object aligned to its class size); larger ones
 * get a whole block of pages. kmalloc(0) returns NULL.
 */
#ifndef KERNEL_HEAP_H
#define KERNEL_HEAP_H

#include <stddef.h>

#define HEAP_MIN_SLAB 16
#define HEAP_MAX_SLAB 2048

void heap_init(void);

/* size bytes (contents undefined), or NULL when memory is exhausted. */
void *kmalloc(size_t size);

/* As kmalloc, zero-filled. */
void *kzalloc(size_t size);

/*
 * Free memory from kmalloc; NULL is ignored. Panics on a pointer kmalloc did
 * not return. Returns the bytes freed (kmalloc_size of the request; 0 for NULL).
 */
size_t kfree(void *p);

/* The bytes kmalloc(size) takes (its size class, or its block of pages); 0 if it cannot succeed. */
size_t kmalloc_size(size_t size);

/*
 * kmalloc_size, worked out by the compiler when size is a constant that a
 * slab takes (a kernel object's sizeof): the power of two from HEAP_MIN_SLAB
 * up that holds it. Otherwise the call.
 */
static inline size_t kmalloc_size_fixed(size_t size)
{
    if (__builtin_constant_p(size) && size && size <= HEAP_MAX_SLAB) {
        size_t c = HEAP_MIN_SLAB;
        while (c < size)
            c <<= 1;
        return c;
    }
    return kmalloc_size(size);
}

/* Objects currently allocated (for leak checks in tests). */
size_t heap_live_objects(void);

#endif
