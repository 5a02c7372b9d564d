/*
 * user/vblk.c - the virtio block driver: a user process, so that a driver that
 * crashes takes nothing else down.
 *
 * It gets the device's registers (a device memobj with KS_RIGHT_DMA), its
 * interrupt and a listener (inherited handles 0, 1, 2), drives the device
 * through the virtio-mmio transport (version 2), one split virtqueue and DMA
 * memory from KS_SYS_DMA_CREATE, and serves the block protocol
 * (user/lib/blkproto.h) on the listener. Up to NSLOT requests are in flight
 * at once: a read or write is put in the queue and its caller's reply port
 * kept ("parked") while the driver receives the next call; the device's
 * interrupt, a notification on the same listener, ends them. A write's data
 * is received straight into the request's DMA buffer, and a read's is sent
 * from there: one copy each way, the IPC's. A READ_PAGES or WRITE_PAGES
 * request copies nothing: the caller's memobj comes with it, its pages are
 * pinned (KS_SYS_DMA_PIN) and named to the device one by one through the
 * slot's indirect descriptor table, and unpinned when the device is done.
 *
 * If the driver dies, the kernel resets the device before it frees the DMA
 * memory (kernel/memobj.c), and callers waiting on it get KS_ERR_PEER_CLOSED.
 */
#include <kestrel/syscall.h>
#include "user/lib/blkproto.h"
#include "user/lib/ipc.h"
#include "user/lib/ks.h"
#include "user/lib/ulib.h"
#include "user/lib/virtio.h"
#include "kernel/string.h"

#define NSLOT   8                       /* requests in flight */
#define QSIZE   32                      /* descriptors: three a request */

/*
 * The ring memory: descriptors, the two rings, the request headers and status
 * bytes in the first page; each slot's indirect table in the second.
 */
#define RING_DESC       0
#define RING_AVAIL      512
#define RING_USED       1024
#define RING_HEADERS    2048
#define RING_STATUS     (RING_HEADERS + NSLOT * 16)
#define RING_TABLES     4096
#define PAGES_MAX       (BLK_MAX_BYTES / KS_PAGE_SIZE)
#define TABLE_BYTES     ((PAGES_MAX + 2) * 16)      /* header, the pages, status */
#define RING_BYTES      (RING_TABLES + NSLOT * TABLE_BYTES)
_Static_assert(RING_BYTES <= 2 * KS_PAGE_SIZE, "the ring memory is two pages");

struct slot {
    int busy;
    ks_handle_t reply;                  /* the caller's parked reply port */
    uint32_t type;                      /* VIRTIO_BLK_T_* */
    uint32_t bytes;
    uint32_t npages;                    /* READ_ or WRITE_PAGES: the pages pinned, at pa */
    uint64_t pa[PAGES_MAX];
};

static struct {
    volatile uint32_t *regs;
    ks_handle_t irq, listener;
    uint8_t *ring, *data;               /* the two DMA memobjs, mapped */
    uint64_t ring_pa, data_pa;
    ks_handle_t ring_mo;                /* the ring's DMA memobj: pins are made through it */
    int indirect;                       /* VIRTIO_RING_F_INDIRECT_DESC: the _PAGES requests are offered */
    uint64_t capacity;                  /* sectors */
    int read_only, can_flush;
    uint16_t last_used;
    struct slot slot[NSLOT];
    uint64_t finished, in_flight, most_in_flight;
} dev;

static uint32_t reg(uint32_t off) { return dev.regs[off / 4]; }
static void reg_set(uint32_t off, uint32_t v) { dev.regs[off / 4] = v; }

static struct virtq_desc *descs(void) { return (struct virtq_desc *)(dev.ring + RING_DESC); }
static struct virtq_avail *avail(void) { return (struct virtq_avail *)(dev.ring + RING_AVAIL); }
static struct virtq_used *used(void) { return (struct virtq_used *)(dev.ring + RING_USED); }

/* A mapped DMA memobj of `size` bytes, its physical address and handle; NULL on failure. */
static uint8_t *dma_map(ks_handle_t device, uint64_t size, uint64_t *pa, ks_handle_t *h)
{
    long m = ks_dma_create(device, size);
    if (m < 0)
        return NULL;
    *h = (ks_handle_t)m;
    long at = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, size,
                        KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    long addr = ks_dma_addr((ks_handle_t)m, 0);
    if (at <= 0 || addr <= 0)
        return NULL;
    *pa = (uint64_t)addr;
    return (uint8_t *)at;               /* the mapping keeps the memobj; the handle stays too */
}

static void set_queue_address(uint32_t low, uint64_t pa)
{
    reg_set(low, (uint32_t)pa);
    reg_set(low + 4, (uint32_t)(pa >> 32));
}

/* Negotiate features: VERSION_1 required; FLUSH, RO and INDIRECT_DESC taken if offered. NULL or why not. */
static const char *negotiate(void)
{
    reg_set(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    uint64_t offered = (uint64_t)reg(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    reg_set(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    offered |= reg(VIRTIO_MMIO_DEVICE_FEATURES);
    if (!(offered & (1ull << VIRTIO_F_VERSION_1)))
        return "the device does not offer VIRTIO_F_VERSION_1";
    uint64_t want = offered & (1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_RO |
                               1ull << VIRTIO_RING_F_INDIRECT_DESC);
    reg_set(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    reg_set(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)want);
    reg_set(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    reg_set(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(want >> 32));
    uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
    reg_set(VIRTIO_MMIO_STATUS, st);
    if (!(reg(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
        return "the device refused the features we asked for";
    dev.can_flush = !!(want & (1ull << VIRTIO_BLK_F_FLUSH));
    dev.read_only = !!(want & (1ull << VIRTIO_BLK_F_RO));
    dev.indirect = !!(want & (1ull << VIRTIO_RING_F_INDIRECT_DESC));
    return NULL;
}

/* Queue 0 in the ring page, ready. NULL or why not. */
static const char *setup_queue(void)
{
    reg_set(VIRTIO_MMIO_QUEUE_SEL, 0);
    if (reg(VIRTIO_MMIO_QUEUE_READY))
        return "queue 0 is in use already";
    if (reg(VIRTIO_MMIO_QUEUE_NUM_MAX) < QSIZE)
        return "queue 0 is too small";
    reg_set(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
    set_queue_address(VIRTIO_MMIO_QUEUE_DESC_LOW, dev.ring_pa + RING_DESC);
    set_queue_address(VIRTIO_MMIO_QUEUE_DRIVER_LOW, dev.ring_pa + RING_AVAIL);
    set_queue_address(VIRTIO_MMIO_QUEUE_DEVICE_LOW, dev.ring_pa + RING_USED);
    reg_set(VIRTIO_MMIO_QUEUE_READY, 1);
    return NULL;
}

/* Find, reset and start the device, with its memory and interrupt. NULL or why not. */
static const char *setup(ks_handle_t mmio)
{
    long at = ks_vm_map(KS_PROCESS_SELF, mmio, 0, 0, KS_PAGE_SIZE, KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    if (at <= 0)
        return "cannot map the device's registers";
    dev.regs = (volatile uint32_t *)at;
    if (reg(VIRTIO_MMIO_MAGIC) != VIRTIO_MMIO_MAGIC_VALUE)
        return "no virtio-mmio device there";
    if (reg(VIRTIO_MMIO_VERSION) != 2)
        return "a legacy (version 1) virtio device: give QEMU -global virtio-mmio.force-legacy=false";
    if (reg(VIRTIO_MMIO_DEVICE_ID) != VIRTIO_ID_BLOCK)
        return "not a block device";
    ks_handle_t data_mo;
    dev.ring = dma_map(mmio, RING_BYTES, &dev.ring_pa, &dev.ring_mo);
    dev.data = dma_map(mmio, (uint64_t)NSLOT * BLK_MAX_BYTES, &dev.data_pa, &data_mo);
    if (!dev.ring || !dev.data)
        return "no DMA memory";
    reg_set(VIRTIO_MMIO_STATUS, 0);     /* reset, done when the status reads 0 */
    for (int tries = 0; reg(VIRTIO_MMIO_STATUS) != 0; tries++)
        if (tries > 100000)
            return "the device does not reset";
    reg_set(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    reg_set(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    const char *why = negotiate();
    if (!why)
        why = setup_queue();
    if (why) {
        reg_set(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED);
        return why;
    }
    uint32_t gen;
    do {                                /* two 32-bit reads: again if the device changed it between */
        gen = reg(VIRTIO_MMIO_CONFIG_GENERATION);
        dev.capacity = reg(VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CONFIG_CAPACITY) |
                       (uint64_t)reg(VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CONFIG_CAPACITY + 4) << 32;
    } while (gen != reg(VIRTIO_MMIO_CONFIG_GENERATION));
    if (ks_irq_bind(dev.irq, dev.listener, 0) != 0)
        return "cannot bind the device's interrupt";
    reg_set(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
            VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    return NULL;
}

/* Slot i's request header and status byte, set for a request of `type` at `sector`. */
static void header_set(int i, uint32_t type, uint64_t sector)
{
    struct virtio_blk_req_header *h = (struct virtio_blk_req_header *)(dev.ring + RING_HEADERS) + i;
    h->type = type;
    h->reserved = 0;
    h->sector = sector;
    dev.ring[RING_STATUS + i] = 0xff;
}

static uint64_t header_pa(int i) { return dev.ring_pa + RING_HEADERS + 16u * (unsigned)i; }
static uint64_t status_pa(int i) { return dev.ring_pa + RING_STATUS + (unsigned)i; }

/* Offer the chain at slot i's first descriptor to the device and tell it. */
static void offer(int i)
{
    struct virtq_avail *a = avail();
    a->ring[a->idx % QSIZE] = (uint16_t)(3 * i);
    virtio_fence();                     /* the descriptors and the entry before the index */
    a->idx++;
    virtio_fence();
    reg_set(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

/* Put slot i's request in the queue: header, data in its DMA buffer (if any), status. */
static void submit(int i, uint32_t type, uint64_t sector, uint32_t bytes)
{
    struct virtq_desc *d = descs() + 3 * i;
    header_set(i, type, sector);
    d[0] = (struct virtq_desc){ header_pa(i), sizeof(struct virtio_blk_req_header), VIRTQ_DESC_F_NEXT,
                                (uint16_t)(3 * i + (bytes ? 1 : 2)) };
    d[1] = (struct virtq_desc){ dev.data_pa + (uint64_t)i * BLK_MAX_BYTES, bytes,
                                (uint16_t)(VIRTQ_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0)),
                                (uint16_t)(3 * i + 2) };
    d[2] = (struct virtq_desc){ status_pa(i), 1, VIRTQ_DESC_F_WRITE, 0 };
    offer(i);
}

/* Put slot i's READ_ or WRITE_PAGES in the queue: its indirect table names the header, each pinned page, the status. */
static void submit_pages(int i, uint32_t type, uint64_t sector)
{
    struct virtq_desc *t = (struct virtq_desc *)(dev.ring + RING_TABLES + (unsigned)i * TABLE_BYTES);
    uint32_t n = dev.slot[i].npages;
    uint16_t data_flags = (uint16_t)(VIRTQ_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0));
    header_set(i, type, sector);
    t[0] = (struct virtq_desc){ header_pa(i), sizeof(struct virtio_blk_req_header), VIRTQ_DESC_F_NEXT, 1 };
    for (uint32_t k = 0; k < n; k++)
        t[1 + k] = (struct virtq_desc){ dev.slot[i].pa[k], KS_PAGE_SIZE, data_flags, (uint16_t)(2 + k) };
    t[1 + n] = (struct virtq_desc){ status_pa(i), 1, VIRTQ_DESC_F_WRITE, 0 };
    descs()[3 * i] = (struct virtq_desc){ dev.ring_pa + RING_TABLES + (unsigned)i * TABLE_BYTES,
                                          (n + 2) * (uint32_t)sizeof(struct virtq_desc), VIRTQ_DESC_F_INDIRECT, 0 };
    offer(i);
}

static void answer(ks_handle_t reply, long status, const void *buf, uint64_t len)
{
    uint64_t w[KS_IPC_WORDS] = { (uint64_t)status };
    struct ks_ipc_desc d = { .send_buf = buf, .send_len = len };
    ks_ipc_reply(reply, len ? &d : NULL, w);
}

/* Slot i's request is done: answer its caller and free the slot. */
static void finish(int i)
{
    struct slot *s = &dev.slot[i];
    uint8_t st = dev.ring[RING_STATUS + i];
    int ok = st == VIRTIO_BLK_S_OK;
    const void *data = dev.data + (uint64_t)i * BLK_MAX_BYTES;
    int copy = ok && s->type == VIRTIO_BLK_T_IN && !s->npages;     /* (READ_PAGES: in place already) */
    if (s->npages)
        ks_dma_unpin(dev.ring_mo, s->pa, s->npages);
    answer(s->reply, ok ? (long)s->bytes : -BLK_EIO, copy ? data : NULL, copy ? s->bytes : 0);
    ks_handle_close(s->reply);          /* a parked port: the receive has another one by now */
    s->busy = 0;
    dev.finished++;
    dev.in_flight--;
}

/* The interrupt: acknowledge it, end every request the device has finished. */
static void interrupt(void)
{
    reg_set(VIRTIO_MMIO_INTERRUPT_ACK, reg(VIRTIO_MMIO_INTERRUPT_STATUS));
    virtio_fence();
    while (dev.last_used != *(volatile uint16_t *)&used()->idx) {
        virtio_fence();                 /* the entry, status byte and data after the index */
        uint32_t head = used()->ring[dev.last_used % QSIZE].id;
        dev.last_used++;
        if (head % 3 == 0 && head / 3 < NSLOT && dev.slot[head / 3].busy)
            finish((int)(head / 3));
    }
    ks_irq_ack(dev.irq);
}

/* A request whose data is in pages of a memobj it carries (pinned), not in the message. */
static int pages_op(uint64_t op)
{
    return op == BLK_OP_READ_PAGES || op == BLK_OP_WRITE_PAGES;
}

/* The request's error before the device sees it (0 if it may go), and its virtio type. */
static long check(const uint64_t w[KS_IPC_WORDS], uint64_t info, uint32_t *type)
{
    uint64_t sector = w[1], count = w[2];
    if (w[0] == BLK_OP_FLUSH) {
        *type = VIRTIO_BLK_T_FLUSH;
        return 0;
    }
    int pages = pages_op(w[0]);
    if (w[0] != BLK_OP_READ && w[0] != BLK_OP_WRITE && !pages)
        return -BLK_EINVAL;
    if (count == 0 || count > BLK_MAX_BYTES / BLK_SECTOR || sector >= dev.capacity || count > dev.capacity - sector)
        return -BLK_EINVAL;
    if (pages && (!dev.indirect || count % (KS_PAGE_SIZE / BLK_SECTOR)))
        return -BLK_EINVAL;
    *type = w[0] == BLK_OP_WRITE || w[0] == BLK_OP_WRITE_PAGES ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
    if (*type == VIRTIO_BLK_T_OUT && dev.read_only)
        return -BLK_EROFS;
    if (w[0] == BLK_OP_WRITE &&
        (KS_IPC_INFO_BYTES(info) != count * BLK_SECTOR || (info & KS_IPC_INFO_TRUNCATED)))
        return -BLK_EINVAL;             /* the data that arrived must be exactly the sectors named */
    return 0;
}

/* Pin pages [first, first + n) of memobj m for slot i: 0, or -EINVAL (not a memobj we may pin). */
static long pin(int i, ks_handle_t m, uint64_t first, uint32_t n)
{
    if (!m || ks_dma_pin(dev.ring_mo, m, first, n, dev.slot[i].pa) != (long)n)
        return -BLK_EINVAL;
    dev.slot[i].npages = n;
    return 0;
}

/*
 * A call received into slot i's buffer (info: what arrived, as the receive said;
 * not the length the caller claimed, whose copy may have failed; m: the first
 * handle it carried, or 0): answer it now, or start it and park its reply port.
 */
static void serve(int i, ks_handle_t reply, const uint64_t w[KS_IPC_WORDS], uint64_t info, ks_handle_t m)
{
    if (w[0] == BLK_OP_INFO || w[0] == BLK_OP_STATS) {
        uint64_t info[KS_IPC_WORDS] = { 0, dev.capacity, (uint64_t)dev.read_only, NSLOT, (uint64_t)dev.indirect };
        uint64_t stats[KS_IPC_WORDS] = { 0, dev.finished, dev.most_in_flight };
        ks_ipc_reply(reply, NULL, w[0] == BLK_OP_INFO ? info : stats);
        return;
    }
    uint32_t type;
    long err = check(w, info, &type);
    if (err || (type == VIRTIO_BLK_T_FLUSH && !dev.can_flush)) {
        answer(reply, err, NULL, 0);    /* without FLUSH the device writes through: nothing to do */
        return;
    }
    uint32_t bytes = type == VIRTIO_BLK_T_FLUSH ? 0 : (uint32_t)(w[2] * BLK_SECTOR);
    dev.slot[i].npages = 0;
    if (pages_op(w[0]) && (err = pin(i, m, w[3], bytes / KS_PAGE_SIZE)) != 0) {
        answer(reply, err, NULL, 0);
        return;
    }
    dev.slot[i].busy = 1;
    dev.slot[i].reply = reply;
    dev.slot[i].type = type;
    dev.slot[i].bytes = bytes;
    if (++dev.in_flight > dev.most_in_flight)
        dev.most_in_flight = dev.in_flight;
    if (dev.slot[i].npages)
        submit_pages(i, type, w[1]);
    else
        submit(i, type, type == VIRTIO_BLK_T_FLUSH ? 0 : w[1], bytes);
}

static int stop(const char *what, long err)
{
    printf("vblk: %s failed (error %ld); the driver stops\n", what, err);
    return 1;
}

static int free_slot(void)
{
    for (int i = 0; i < NSLOT; i++)
        if (!dev.slot[i].busy)
            return i;
    return -1;
}

/* Serve calls and interrupts until the listener is gone. */
static int serve_forever(void)
{
    for (;;) {
        int i = free_slot();
        if (i < 0) {                    /* every slot busy: only the interrupt can free one */
            uint64_t note[2];
            long r = ks_listener_wait(dev.listener, KS_FOREVER, note);
            if (r == 0)
                interrupt();
            else if (r != KS_ERR_INTERRUPTED)
                return stop("waiting for the device", r);
            continue;
        }
        uint64_t w[KS_IPC_WORDS] = { 0 }, userdata, info = 0;
        struct ks_ipc_desc d = { .recv_buf = dev.data + (uint64_t)i * BLK_MAX_BYTES, .recv_cap = BLK_MAX_BYTES };
        long r = ks_ipc_receive(dev.listener, &d, w, &userdata, &info);
        ks_handle_t m = r > 0 && d.recv_nhandles ? d.recv_handles[0] : 0;
        if (r == KS_HANDLE_NONE)
            interrupt();                /* the device's notification */
        else if (r > 0)
            serve(i, (ks_handle_t)r, w, info, m);
        else if (r != KS_ERR_INTERRUPTED && r != KS_ERR_NO_MEMORY)
            return stop("receiving", r);    /* (out of memory: try again, a request may end) */
        for (uint32_t k = 0; r >= 0 && k < d.recv_nhandles && k < KS_IPC_MAX_HANDLES; k++)
            ks_handle_close(d.recv_handles[k]);     /* none is kept: a _PAGES request's pins hold its pages */
    }
}

int main(int argc, char **argv)
{
    ks_handle_t mmio = ulib_inherited(0);
    dev.irq = ulib_inherited(1);
    dev.listener = ulib_inherited(2);
    if (mmio == KS_HANDLE_NONE || dev.irq == KS_HANDLE_NONE || dev.listener == KS_HANDLE_NONE) {
        printf("vblk: needs the device's registers, its interrupt and a listener\n");
        return 2;
    }
    const char *why = setup(mmio);
    if (why) {
        printf("vblk: %s\n", why);
        return 1;
    }
    return serve_forever();
}
