/*
 * kernel/dma.h - pinning ordinary memory for a device's DMA.
 *
 * A driver's DMA memobj (memobj_create_dma) is memory the device may reach.
 * A pin lends the device, for the length of one request, pages of another
 * memobj instead: the driver asks for the physical addresses of pages of a
 * memobj its client sent it, the device reads or writes them, and the driver
 * unpins them. Each pin holds a reference to its page, recorded in the DMA
 * memobj the pin is made through, so a page the device may still write is
 * never freed: not when its memobj is truncated or destroyed, and not when
 * the driver dies, since the DMA memobj's end resets the device first and
 * only then lets the pins go. The pinned pages are the memobj's own (not a
 * copy): whoever shares them sees what the device writes.
 */
#ifndef KERNEL_DMA_H
#define KERNEL_DMA_H

#include <stdint.h>
#include "memobj.h"

#define DMA_PINS_MAX 256        /* pins one DMA memobj holds at once */
#define DMA_PIN_BATCH 64        /* pages one call pins or unpins */

/*
 * Pin pages [first, first + count) of src (made zeroed where missing) through
 * DMA memobj dma, writing each page's physical address to pa[i]: count, or
 * KS_ERR_INVALID (src is a device, DMA or paged memobj: a pager may take its
 * pages away), KS_ERR_RANGE (count 0 or over DMA_PIN_BATCH, or a page past
 * src's size), KS_ERR_LIMIT (dma holds DMA_PINS_MAX pins), KS_ERR_NO_MEMORY.
 * All or nothing.
 */
long dma_pin(struct memobj *dma, struct memobj *src, uint64_t first, uint64_t count, uint64_t pa[]);

/*
 * Unpin the pages at physical addresses pa[0..count) pinned through dma: how
 * many, stopping at the first that is not (KS_ERR_INVALID if that is pa[0]).
 */
long dma_unpin(struct memobj *dma, const uint64_t pa[], uint64_t count);

/* dma is ending and its device is reset: every pin goes. */
void dma_unpin_all(struct memobj *dma);

#endif
