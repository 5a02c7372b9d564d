/*
 * tests/host_ram.c - the "RAM" host tests run the page allocator and heap on:
 * a host buffer aligned for the largest block (see host.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/heap.h"
#include "kernel/page_alloc.h"
#include "kernel/platform.h"
#include "tests/host.h"

static uint8_t *ram;
static struct platform plat;

void *host_ram_fresh(size_t pages)
{
    size_t align = (size_t)PAGE_SIZE << PAGE_MAX_ORDER;
    host_ram_release();
    ram = aligned_alloc(align, (pages * PAGE_SIZE + align - 1) / align * align);
    if (!ram)
        return NULL;
    memset(&plat, 0, sizeof plat);
    plat.ram[0].base = (uintptr_t)ram;
    plat.ram[0].size = pages * PAGE_SIZE;
    plat.nram = 1;
    page_alloc_init(&plat);
    heap_init();
    return ram;
}

const struct platform *host_ram_platform(void)
{
    return &plat;
}

void host_ram_release(void)
{
    free(ram);
    ram = NULL;
}
