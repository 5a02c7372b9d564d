/*
 * user/lib/virtio.h - the parts of the virtio 1.x specification a driver in
 * user space needs: the virtio-mmio register layout (version 2, "modern"),
 * device status and feature bits, and the split virtqueue's rings. Drivers
 * map the device memobj init gives them (KS_AT_DEVICE_MMIO) and read and write
 * these registers through the mapping.
 */
#ifndef USER_LIB_VIRTIO_H
#define USER_LIB_VIRTIO_H

#include <stdint.h>

/* virtio-mmio registers (byte offsets; every register is 32 bits wide). */
enum {
    VIRTIO_MMIO_MAGIC = 0x000,              /* "virt" */
    VIRTIO_MMIO_VERSION = 0x004,            /* 2: modern; 1: legacy (not driven here) */
    VIRTIO_MMIO_DEVICE_ID = 0x008,
    VIRTIO_MMIO_DEVICE_FEATURES = 0x010,
    VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014,
    VIRTIO_MMIO_DRIVER_FEATURES = 0x020,
    VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024,
    VIRTIO_MMIO_QUEUE_SEL = 0x030,
    VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034,
    VIRTIO_MMIO_QUEUE_NUM = 0x038,
    VIRTIO_MMIO_QUEUE_READY = 0x044,
    VIRTIO_MMIO_QUEUE_NOTIFY = 0x050,
    VIRTIO_MMIO_INTERRUPT_STATUS = 0x060,
    VIRTIO_MMIO_INTERRUPT_ACK = 0x064,
    VIRTIO_MMIO_STATUS = 0x070,
    VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080,
    VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084,
    VIRTIO_MMIO_QUEUE_DRIVER_LOW = 0x090,   /* the available ring */
    VIRTIO_MMIO_QUEUE_DRIVER_HIGH = 0x094,
    VIRTIO_MMIO_QUEUE_DEVICE_LOW = 0x0a0,   /* the used ring */
    VIRTIO_MMIO_QUEUE_DEVICE_HIGH = 0x0a4,
    VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc,  /* changes when the configuration does */
    VIRTIO_MMIO_CONFIG = 0x100,             /* the device's own configuration */
};

#define VIRTIO_MMIO_MAGIC_VALUE 0x74726976u

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE   1u
#define VIRTIO_STATUS_DRIVER        2u
#define VIRTIO_STATUS_DRIVER_OK     4u
#define VIRTIO_STATUS_FEATURES_OK   8u
#define VIRTIO_STATUS_NEEDS_RESET   64u
#define VIRTIO_STATUS_FAILED        128u

/* Feature bits (as bit numbers of the 64-bit feature set). */
#define VIRTIO_F_VERSION_1          32
#define VIRTIO_RING_F_INDIRECT_DESC 28  /* a descriptor may name a table of descriptors */

/* Device IDs. */
#define VIRTIO_ID_BLOCK             2

/* virtio-blk: feature bits, configuration, requests. */
#define VIRTIO_BLK_F_RO             5
#define VIRTIO_BLK_F_FLUSH          9
#define VIRTIO_BLK_CONFIG_CAPACITY  0x00        /* 64 bits: 512-byte sectors */
#define VIRTIO_BLK_SECTOR           512u

enum { VIRTIO_BLK_T_IN = 0, VIRTIO_BLK_T_OUT = 1, VIRTIO_BLK_T_FLUSH = 4 };
enum { VIRTIO_BLK_S_OK = 0, VIRTIO_BLK_S_IOERR = 1, VIRTIO_BLK_S_UNSUPP = 2 };

struct virtio_blk_req_header {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

/* The split virtqueue. */
#define VIRTQ_DESC_F_NEXT   1u
#define VIRTQ_DESC_F_WRITE  2u          /* the device writes this buffer */
#define VIRTQ_DESC_F_INDIRECT 4u        /* the buffer is a table of descriptors (INDIRECT_DESC) */

struct virtq_desc {
    uint64_t addr;                      /* physical */
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];                    /* then uint16_t used_event */
};

struct virtq_used_elem {
    uint32_t id;                        /* the head of the chain the device finished */
    uint32_t len;                       /* bytes it wrote */
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];      /* then uint16_t avail_event */
};

/* Order memory and device register accesses (the rings live in ordinary memory). */
static inline void virtio_fence(void)
{
    __asm__ volatile("fence iorw, iorw" ::: "memory");
}

#endif
