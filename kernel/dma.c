/*
 * kernel/dma.c - pins: pages of ordinary memobjs lent to a device through a
 * driver's DMA memobj (see dma.h).
 */
#include <arch/memlayout.h>
#include <kestrel/errors.h>
#include "account.h"
#include "dma.h"
#include "page_alloc.h"

/* dma's pin table, made at its first pin; NULL without memory. */
static void **pin_table(struct memobj *dma)
{
    if (!dma->dma_pins)
        dma->dma_pins = account_kzalloc(account_of(&dma->obj), DMA_PINS_MAX * sizeof(void *));
    return dma->dma_pins;
}

/* The slot holding page (NULL: a free slot), or -1. */
static int pin_slot(void **pins, const void *page)
{
    for (int i = 0; i < DMA_PINS_MAX; i++)
        if (pins[i] == page)
            return i;
    return -1;
}

long dma_pin(struct memobj *dma, struct memobj *src, uint64_t first, uint64_t count, uint64_t pa[])
{
    if (memobj_is_device(src) || src->pager)
        return KS_ERR_INVALID;
    if (count == 0 || count > DMA_PIN_BATCH || first + count < first ||
        first + count > (src->size + PAGE_SIZE - 1) >> PAGE_SHIFT)
        return KS_ERR_RANGE;
    void **pins = pin_table(dma);
    if (!pins)
        return KS_ERR_NO_MEMORY;
    uint64_t done = 0;
    long err = 0;
    for (; done < count; done++) {
        void *page = memobj_page(src, first + done, 1);
        int slot = pin_slot(pins, NULL);
        if (!page || slot < 0 || page_ref(page)) {
            err = slot < 0 ? KS_ERR_LIMIT : KS_ERR_NO_MEMORY;
            break;
        }
        pins[slot] = page;
        pa[done] = virt_to_phys(page);
    }
    if (!err)
        return (long)count;
    dma_unpin(dma, pa, done);           /* all or nothing */
    return err;
}

long dma_unpin(struct memobj *dma, const uint64_t pa[], uint64_t count)
{
    uint64_t i = 0;
    for (; i < count && dma->dma_pins; i++) {
        void *page = phys_to_virt(pa[i]);
        int slot = page ? pin_slot(dma->dma_pins, page) : -1;
        if (slot < 0)
            break;
        page_unref(dma->dma_pins[slot]);
        dma->dma_pins[slot] = NULL;
    }
    return i || !count ? (long)i : KS_ERR_INVALID;
}

void dma_unpin_all(struct memobj *dma)
{
    if (!dma->dma_pins)
        return;
    for (int i = 0; i < DMA_PINS_MAX; i++)
        if (dma->dma_pins[i])
            page_unref(dma->dma_pins[i]);
    account_kfree(account_of(&dma->obj), dma->dma_pins);
    dma->dma_pins = NULL;
}
