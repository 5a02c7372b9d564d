/*
 * user/ublk.c - the tests of the virtio block driver (user/vblk.c) and of DMA
 * memory, run by init for "-append blk" when QEMU has a block device (make
 * test attaches build/test-disk.img, TEST_DISK_SECTORS long; on a disk of
 * another size the cases that write refuse to run, so a real disk is safe).
 *
 * It gets the device's registers (with KS_RIGHT_DMA) and interrupt from init,
 * starts the driver itself (so that it can kill and restart it), and checks:
 * every sector written with a known pattern and read back, requests in
 * flight together from several threads, malformed requests refused with the
 * driver still serving, DMA memory's rules, and a driver killed while
 * requests are under way: every caller comes back, the memory comes back, and
 * a new driver finds the device and the data as they were.
 */
#include <kestrel/syscall.h>
#include "user/lib/blkproto.h"
#include "user/lib/ipc.h"
#include "user/lib/ks.h"
#include "user/lib/loader.h"
#include "user/lib/testlib.h"
#include "user/lib/ulib.h"
#include "kernel/ktest.h"
#include "kernel/string.h"

#define TEST_DISK_SECTORS   8192        /* the Makefile's build/test-disk.img: 4 MiB */
#define THREADS             8

static ks_handle_t mmio, irq;
static int test_disk;       /* the driver started and the disk is the test disk: the cases may write it */
static ks_handle_t driver = KS_HANDLE_NONE, port = KS_HANDLE_NONE;
static uint8_t buf[THREADS][BLK_MAX_BYTES], back[THREADS][BLK_MAX_BYTES];

/* Start a driver on a listener of our own; port becomes its client port. 0 or an error. */
static long start_driver(void)
{
    long l = ks_ipc_listener_create();
    long c = l > 0 ? ks_ipc_client_create((ks_handle_t)l, 1) : l;
    if (c < 0)
        return c;
    const char *argv[] = { "vblk", NULL };
    const ks_handle_t given[] = { mmio, irq, (ks_handle_t)l };
    long p = ulib_spawn((ks_handle_t)ulib_auxv(KS_AT_BOOTIMAGE), "vblk", argv, given, 3);
    ks_handle_close((ks_handle_t)l);    /* the driver holds the listener now */
    if (p < 0) {
        ks_handle_close((ks_handle_t)c);
        return p;
    }
    driver = (ks_handle_t)p;
    port = (ks_handle_t)c;
    return 0;
}

/* One request: MR0 = op, MR1, MR2; data out of `out` (out_len bytes), into `in`. The status, or a KS_ERR_*. */
static long blk(uint64_t op, uint64_t a, uint64_t b, const void *out, uint64_t out_len, void *in, uint64_t in_cap,
                uint64_t w[KS_IPC_WORDS])
{
    uint64_t words[KS_IPC_WORDS] = { op, a, b };
    struct ks_ipc_desc d = { .send_buf = out, .send_len = out_len, .recv_buf = in, .recv_cap = in_cap };
    long r = ks_ipc_call(port, &d, words, NULL);
    if (w)
        memcpy(w, words, sizeof words);
    return r < 0 ? r : (long)words[0];
}

static long blk_read(uint64_t sector, uint64_t count, void *into)
{
    return blk(BLK_OP_READ, sector, count, NULL, 0, into, count * BLK_SECTOR, NULL);
}

static long blk_write(uint64_t sector, uint64_t count, const void *from)
{
    return blk(BLK_OP_WRITE, sector, count, from, count * BLK_SECTOR, NULL, 0, NULL);
}

/* The pattern of a sector for a given seed: every byte depends on both and on its offset. */
static void pattern(uint8_t *p, uint64_t sector, uint64_t count, uint32_t seed)
{
    for (uint64_t s = 0; s < count; s++)
        for (uint32_t i = 0; i < BLK_SECTOR; i++)
            p[s * BLK_SECTOR + i] = (uint8_t)((sector + s) * 131 + i * 7 + seed * 29 + (i >> 8));
}

/* ---- the driver ---- */

/* The driver starts (here, after the DMA cases, whose memory counts it would disturb) and answers. */
static void blk_info(void)
{
    uint64_t w[KS_IPC_WORDS];
    long r = start_driver();
    KT_EXPECT_EQ(r, 0);
    KT_ASSERT(driver != KS_HANDLE_NONE);
    KT_EXPECT_EQ(blk(BLK_OP_INFO, 0, 0, NULL, 0, NULL, 0, w), 0);
    KT_EXPECT_EQ(w[1], TEST_DISK_SECTORS);
    test_disk = w[1] == TEST_DISK_SECTORS;     /* another disk is left as it is (see the cases) */
    KT_EXPECT_EQ(w[2], 0);              /* writable */
    KT_EXPECT(w[3] >= 2);               /* several requests in flight */
}

/* Every sector written with a pattern in 64 KiB requests, flushed, and read back the same. */
static void blk_every_sector(void)
{
    KT_ASSERT(test_disk);            /* writes the disk: only the test disk's size */
    const uint64_t per = BLK_MAX_BYTES / BLK_SECTOR;
    for (uint64_t s = 0; s < TEST_DISK_SECTORS; s += per) {
        pattern(buf[0], s, per, 1);
        KT_ASSERT((blk_write(s, per, buf[0])) == ((long)BLK_MAX_BYTES));
    }
    KT_EXPECT_EQ(blk(BLK_OP_FLUSH, 0, 0, NULL, 0, NULL, 0, NULL), 0);
    for (uint64_t s = 0; s < TEST_DISK_SECTORS; s += per) {
        pattern(buf[0], s, per, 1);
        memset(back[0], 0, BLK_MAX_BYTES);
        KT_ASSERT((blk_read(s, per, back[0])) == ((long)BLK_MAX_BYTES));
        KT_ASSERT(memcmp(buf[0], back[0], BLK_MAX_BYTES) == 0);
    }
    /* Single sectors at both ends, and an odd-sized request across a 64 KiB boundary. */
    KT_EXPECT_EQ(blk_read(0, 1, back[0]), (long)BLK_SECTOR);
    pattern(buf[0], 0, 1, 1);
    KT_EXPECT(memcmp(buf[0], back[0], BLK_SECTOR) == 0);
    KT_EXPECT_EQ(blk_read(TEST_DISK_SECTORS - 1, 1, back[0]), (long)BLK_SECTOR);
    pattern(buf[0], TEST_DISK_SECTORS - 1, 1, 1);
    KT_EXPECT(memcmp(buf[0], back[0], BLK_SECTOR) == 0);
    pattern(buf[0], 120, 17, 2);
    KT_EXPECT_EQ(blk_write(120, 17, buf[0]), 17 * (long)BLK_SECTOR);
    KT_EXPECT_EQ(blk_read(120, 17, back[0]), 17 * (long)BLK_SECTOR);
    KT_EXPECT(memcmp(buf[0], back[0], 17 * BLK_SECTOR) == 0);
}

static volatile long thread_bad[THREADS], requests_made;

/* Thread k: its own 1/THREADS of the disk, written and read back in requests of varied sizes. */
static void hammer(long k)
{
    uint64_t region = TEST_DISK_SECTORS / THREADS, first = (uint64_t)k * region;
    for (uint32_t round = 0; round < 4 && !thread_bad[k]; round++)
        for (uint64_t s = first; s < first + region; ) {
            uint64_t count = 1 + (s * 7 + round) % 64;
            if (count > first + region - s)
                count = first + region - s;
            pattern(buf[k], s, count, 10 + round);
            __atomic_fetch_add(&requests_made, 2, __ATOMIC_RELAXED);
            if (blk_write(s, count, buf[k]) != (long)(count * BLK_SECTOR) ||
                blk_read(s, count, back[k]) != (long)(count * BLK_SECTOR) ||
                memcmp(buf[k], back[k], count * BLK_SECTOR) != 0)
                thread_bad[k] = (long)s + 1;
            s += count;
        }
    ks_thread_exit(0);
}

/* THREADS threads at once: all data right, and the driver had several requests in flight. */
static void blk_in_flight(void)
{
    KT_ASSERT(test_disk);            /* writes the disk: only the test disk's size */
    uint64_t w[KS_IPC_WORDS];
    KT_EXPECT_EQ(blk(BLK_OP_STATS, 0, 0, NULL, 0, NULL, 0, w), 0);
    uint64_t finished_before = w[1];
    requests_made = 0;
    struct uthread t[THREADS];
    for (long k = 0; k < THREADS; k++) {
        thread_bad[k] = 0;
        t[k] = thread_start(hammer, k);
    }
    for (int k = 0; k < THREADS; k++)
        thread_finish(&t[k]);
    for (int k = 0; k < THREADS; k++)
        KT_EXPECT_EQ(thread_bad[k], 0);
    KT_EXPECT_EQ(blk(BLK_OP_STATS, 0, 0, NULL, 0, NULL, 0, w), 0);
    KT_EXPECT_EQ(w[1] - finished_before, (uint64_t)requests_made);    /* each went to the device */
    KT_EXPECT(w[2] >= 2);               /* requests were in flight together */
}

/* Malformed requests get -EINVAL and never reach the device; the driver serves on. */
static void blk_refused(void)
{
    KT_ASSERT(test_disk);            /* writes the disk: only the test disk's size */
    uint8_t *b = buf[0];
    KT_EXPECT_EQ(blk(0, 0, 1, NULL, 0, b, BLK_SECTOR, NULL), -BLK_EINVAL);
    KT_EXPECT_EQ(blk(99, 0, 1, NULL, 0, b, BLK_SECTOR, NULL), -BLK_EINVAL);
    KT_EXPECT_EQ(blk_read(0, 0, b), -BLK_EINVAL);
    KT_EXPECT_EQ(blk(BLK_OP_READ, 0, BLK_MAX_BYTES / BLK_SECTOR + 1, NULL, 0, b, BLK_MAX_BYTES, NULL), -BLK_EINVAL);
    KT_EXPECT_EQ(blk_read(TEST_DISK_SECTORS, 1, b), -BLK_EINVAL);
    KT_EXPECT_EQ(blk_read(TEST_DISK_SECTORS - 1, 2, b), -BLK_EINVAL);
    KT_EXPECT_EQ(blk_read(~0ull - 1, 2, b), -BLK_EINVAL);     /* would wrap */
    KT_EXPECT_EQ(blk(BLK_OP_WRITE, 0, 2, b, BLK_SECTOR, NULL, 0, NULL), -BLK_EINVAL);    /* short data */
    KT_EXPECT_EQ(blk(BLK_OP_WRITE, 0, 1, NULL, 0, NULL, 0, NULL), -BLK_EINVAL);         /* no data */
    KT_EXPECT_EQ(blk(BLK_OP_WRITE, 0, 1, b, BLK_MAX_BYTES, NULL, 0, NULL), -BLK_EINVAL); /* too much */
    /* Handles sent along are closed, not kept: more calls with one than a handle table holds. */
    for (int i = 0; i < KS_HANDLE_MAX + 44; i++) {
        uint64_t words[KS_IPC_WORDS] = { BLK_OP_INFO };
        struct ks_ipc_desc d = { .send_nhandles = 1 };
        d.send_handles[0] = port;       /* a copy */
        KT_ASSERT(ks_ipc_call(port, &d, words, NULL) == 0);
    }
    /* A write whose data cannot be read (the mapping runs past its 1-page memobj) writes nothing. */
    KT_ASSERT(blk_read(7, 2, back[0]) == 2 * (long)BLK_SECTOR);
    long m = ks_memobj_create(KS_PAGE_SIZE);
    long at = m > 0 ? ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, 2 * KS_PAGE_SIZE,
                                KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED) : m;
    KT_ASSERT(at > 0);
    long r = blk(BLK_OP_WRITE, 7, 2, (const void *)(at + KS_PAGE_SIZE - BLK_SECTOR), 2 * BLK_SECTOR, NULL, 0, NULL);
    KT_EXPECT(r == -BLK_EINVAL || r == KS_ERR_FAULT);
    KT_ASSERT(blk_read(7, 2, back[1]) == 2 * (long)BLK_SECTOR);
    KT_EXPECT(memcmp(back[0], back[1], 2 * BLK_SECTOR) == 0);
    UNMAP(at, 2 * KS_PAGE_SIZE);
    ks_handle_close((ks_handle_t)m);
    /* A read into too small a buffer is cut, and says so. */
    uint64_t words[KS_IPC_WORDS] = { BLK_OP_READ, 0, 2 };
    struct ks_ipc_desc d = { .recv_buf = b, .recv_cap = 100 };
    KT_EXPECT_EQ(ks_ipc_call(port, &d, words, NULL), 0);
    KT_EXPECT_EQ(words[0], 2 * BLK_SECTOR);
    KT_EXPECT(d.flags & KS_IPC_PEER_TRUNCATED || d.recv_len > d.recv_cap);
    /* Still serving. */
    KT_EXPECT_EQ(blk_read(5, 1, b), (long)BLK_SECTOR);
}

/* READ_ or WRITE_PAGES: the sectors, into or from a memobj the call carries. */
static long pages_call(uint64_t op, uint64_t sector, uint64_t count, ks_handle_t m, uint64_t page)
{
    uint64_t words[KS_IPC_WORDS] = { op, sector, count, page };
    struct ks_ipc_desc d = { .send_handles = { m }, .send_nhandles = m ? 1 : 0 };
    long r = ks_ipc_call(port, &d, words, NULL);
    return r < 0 ? r : (long)words[0];
}

/*
 * READ_PAGES: the device writes straight into the caller's memobj, at the
 * page asked, the same bytes READ gives for every sector of the disk; the
 * refusals; and the driver keeps no page (the memory is back after).
 */
static void blk_read_pages(void)
{
    KT_ASSERT(test_disk);
    uint64_t w[KS_IPC_WORDS];
    KT_ASSERT(blk(BLK_OP_INFO, 0, 0, NULL, 0, NULL, 0, w) == 0);
    KT_ASSERT(w[4] == 1);               /* QEMU's device has indirect descriptors */
    const uint64_t per = BLK_MAX_BYTES / BLK_SECTOR;
    long m = ks_memobj_create(BLK_MAX_BYTES + KS_PAGE_SIZE);
    KT_ASSERT(m > 0);
    KT_ASSERT(pages_call(BLK_OP_READ_PAGES, 0, 8, (ks_handle_t)m, 0) == 8 * (long)BLK_SECTOR);  /* the driver's pin table made */
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)m, 0), 0);
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)m, BLK_MAX_BYTES + KS_PAGE_SIZE), 0);
    struct ks_kstat k = kstat_now();
    pattern(buf[0], 256, per, 13);      /* (as blk_in_flight left it: killed_under_load expects that) */
    KT_ASSERT(blk_write(256, per, buf[0]) == (long)BLK_MAX_BYTES);
    KT_EXPECT_EQ(pages_call(BLK_OP_READ_PAGES, 256, per, (ks_handle_t)m, 1), (long)BLK_MAX_BYTES);
    memset(back[0], 0, BLK_MAX_BYTES);
    KT_ASSERT(ks_memobj_read((ks_handle_t)m, KS_PAGE_SIZE, back[0], BLK_MAX_BYTES) == (long)BLK_MAX_BYTES);
    KT_EXPECT(memcmp(buf[0], back[0], BLK_MAX_BYTES) == 0);
    uint8_t first = 1;
    KT_EXPECT(ks_memobj_read((ks_handle_t)m, 0, &first, 1) == 1 && first == 0);     /* page 0 untouched */
    int wrong = 0;
    for (uint64_t s = 0; s < TEST_DISK_SECTORS; s += per) {
        KT_ASSERT(blk_read(s, per, buf[0]) == (long)BLK_MAX_BYTES);
        KT_ASSERT(pages_call(BLK_OP_READ_PAGES, s, per, (ks_handle_t)m, 0) == (long)BLK_MAX_BYTES);
        KT_ASSERT(ks_memobj_read((ks_handle_t)m, 0, back[0], BLK_MAX_BYTES) == (long)BLK_MAX_BYTES);
        wrong += memcmp(buf[0], back[0], BLK_MAX_BYTES) != 0;
    }
    KT_EXPECT_EQ(wrong, 0);
    KT_EXPECT_EQ(pages_call(BLK_OP_READ_PAGES, 0, 8, (ks_handle_t)m, 8), (long)(8 * BLK_SECTOR));     /* its last page */
    KT_EXPECT_EQ(pages_call(BLK_OP_READ_PAGES, 0, 12, (ks_handle_t)m, 0), -BLK_EINVAL);  /* not whole pages */
    KT_EXPECT_EQ(pages_call(BLK_OP_READ_PAGES, 0, 8, 0, 0), -BLK_EINVAL);                /* no memobj */
    KT_EXPECT_EQ(pages_call(BLK_OP_READ_PAGES, 0, 16, (ks_handle_t)m, 16), -BLK_EINVAL); /* past its end */
    long ro = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_TRANSFER);
    KT_ASSERT(ro > 0);
    KT_EXPECT_EQ(pages_call(BLK_OP_READ_PAGES, 0, 8, (ks_handle_t)ro, 0), -BLK_EINVAL); /* the device may not write it */
    ks_handle_close((ks_handle_t)ro);
    KT_EXPECT_EQ(pages_call(BLK_OP_READ_PAGES, TEST_DISK_SECTORS - 8, 16, (ks_handle_t)m, 0), -BLK_EINVAL);  /* past the disk */
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)m, 0), 0);
    KT_EXPECT_EQ(blk_read(5, 1, back[0]), (long)BLK_SECTOR);       /* still serving */
    EXPECT_SAME_KSTAT(&k);              /* no page kept pinned */
    ks_handle_close((ks_handle_t)m);
}

/*
 * WRITE_PAGES: the device reads the caller's pages, which READ then gives
 * back (a pattern of our own, then the one blk_in_flight left, which
 * killed_under_load expects); a handle without WRITE is refused; no page
 * stays pinned.
 */
static void blk_write_pages(void)
{
    KT_ASSERT(test_disk);
    const uint64_t per = BLK_MAX_BYTES / BLK_SECTOR;
    struct ks_kstat k = kstat_now();
    long m = ks_memobj_create(BLK_MAX_BYTES + KS_PAGE_SIZE);
    KT_ASSERT(m > 0);
    for (uint32_t seed = 99; seed; seed = seed == 99 ? 13 : 0) {
        pattern(buf[0], 512, per, seed);
        KT_ASSERT(ks_memobj_write((ks_handle_t)m, KS_PAGE_SIZE, buf[0], BLK_MAX_BYTES) == (long)BLK_MAX_BYTES);
        KT_EXPECT_EQ(pages_call(BLK_OP_WRITE_PAGES, 512, per, (ks_handle_t)m, 1), (long)BLK_MAX_BYTES);
        memset(back[0], 0, BLK_MAX_BYTES);
        KT_ASSERT(blk_read(512, per, back[0]) == (long)BLK_MAX_BYTES);
        KT_EXPECT(memcmp(buf[0], back[0], BLK_MAX_BYTES) == 0);
    }
    long ro = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_TRANSFER);
    KT_ASSERT(ro > 0);
    KT_EXPECT_EQ(pages_call(BLK_OP_WRITE_PAGES, 512, 8, (ks_handle_t)ro, 1), -BLK_EINVAL);
    ks_handle_close((ks_handle_t)ro);
    KT_EXPECT_EQ(pages_call(BLK_OP_WRITE_PAGES, 512, 4, (ks_handle_t)m, 1), -BLK_EINVAL);  /* not whole pages */
    KT_EXPECT_EQ(blk(BLK_OP_FLUSH, 0, 0, NULL, 0, NULL, 0, NULL), 0);
    ks_handle_close((ks_handle_t)m);
    EXPECT_SAME_KSTAT(&k);              /* no page kept pinned: the memobj's went with it */
}

/* ---- DMA memory ---- */

/* Freeing DMA memory resets its device first (no DMA into freed pages): the status reads 0 after. */
static void dma_resets_device(void)
{
    long at = ks_vm_map(KS_PROCESS_SELF, mmio, 0, 0, KS_PAGE_SIZE, KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    KT_ASSERT(at > 0);
    volatile uint32_t *status = (volatile uint32_t *)(at + 0x70);
    *status = 1;                        /* ACKNOWLEDGE: a device someone is talking to */
    KT_EXPECT_EQ(*status, 1);
    long m = ks_dma_create(mmio, KS_PAGE_SIZE);
    KT_ASSERT(m > 0);
    KT_EXPECT_EQ(*status, 1);
    ks_handle_close((ks_handle_t)m);
    KT_EXPECT_EQ(*status, 0);
    UNMAP(at, KS_PAGE_SIZE);
}

static void dma_rules(void)
{
    long warm = ks_memobj_create(4 * KS_PAGE_SIZE);     /* the page tables where the mappings go */
    long at = warm > 0 ? ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)warm, 0, 0, 4 * KS_PAGE_SIZE,
                                   KS_PROT_READ | KS_MAP_SHARED) : warm;
    KT_ASSERT(at > 0);
    for (int i = 0; i < 4; i++)
        (void)*(volatile uint8_t *)(at + i * KS_PAGE_SIZE);
    UNMAP(at, 4 * KS_PAGE_SIZE);
    ks_handle_close((ks_handle_t)warm);
    struct ks_kstat k = kstat_now();
    KT_EXPECT_EQ(ks_dma_create(mmio, 0), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_dma_create(mmio, KS_DMA_MAX_SIZE + 1), KS_ERR_RANGE);
    long m = ks_dma_create(mmio, 5000);         /* rounded up to two pages */
    KT_ASSERT(m > 0);
    KT_EXPECT_EQ(ks_memobj_size((ks_handle_t)m), 2 * KS_PAGE_SIZE);
    long pa = ks_dma_addr((ks_handle_t)m, 0);
    KT_EXPECT(pa > 0 && (pa & (KS_PAGE_SIZE - 1)) == 0);
    KT_EXPECT_EQ(ks_dma_addr((ks_handle_t)m, KS_PAGE_SIZE + 5), pa + KS_PAGE_SIZE + 5);    /* contiguous */
    KT_EXPECT_EQ(ks_dma_addr((ks_handle_t)m, 2 * KS_PAGE_SIZE), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_dma_create((ks_handle_t)m, KS_PAGE_SIZE), KS_ERR_INVALID);  /* not a device's registers */
    uint8_t x = 1;
    KT_EXPECT_EQ(ks_memobj_read((ks_handle_t)m, 0, &x, 1), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, 0, &x, 1), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)m, 0), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_PRIVATE),
                 KS_ERR_INVALID);
    /* A copy without KS_RIGHT_DMA maps it but cannot learn where it is. */
    long ro = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_WRITE | KS_RIGHT_MAP);
    KT_ASSERT(ro > 0);
    KT_EXPECT_EQ(ks_dma_addr((ks_handle_t)ro, 0), KS_ERR_ACCESS);
    long a = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)ro, 0, 0, 2 * KS_PAGE_SIZE,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    long a2 = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, 2 * KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_SHARED);
    KT_ASSERT(a > 0 && a2 > 0);
    volatile uint8_t *p = (volatile uint8_t *)a, *q = (volatile uint8_t *)a2;
    KT_EXPECT_EQ(p[KS_PAGE_SIZE + 9], 0);       /* zeroed */
    p[KS_PAGE_SIZE + 9] = 0x5a;
    KT_EXPECT_EQ(q[KS_PAGE_SIZE + 9], 0x5a);    /* the same RAM */
    UNMAP(a, 2 * KS_PAGE_SIZE);
    UNMAP(a2, 2 * KS_PAGE_SIZE);
    ks_handle_close((ks_handle_t)ro);
    ks_handle_close((ks_handle_t)m);
    EXPECT_SAME_KSTAT(&k);
    /* The largest size works, and gives its 256 pages back. */
    m = ks_dma_create(mmio, KS_DMA_MAX_SIZE);
    KT_EXPECT(m > 0);
    KT_EXPECT_EQ(ks_dma_addr((ks_handle_t)m, KS_DMA_MAX_SIZE - 1), ks_dma_addr((ks_handle_t)m, 0) + KS_DMA_MAX_SIZE - 1);
    ks_handle_close((ks_handle_t)m);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * Pins: pages of an ordinary memobj lent through a DMA memobj, each with its
 * physical address; the refusals; a pinned page outlives its memobj; at most
 * 256 pins; the DMA memobj's end lets every pin go, and the memory comes back.
 */
static void dma_pins(void)
{
    struct ks_kstat k = kstat_now();
    long d = ks_dma_create(mmio, KS_PAGE_SIZE), m = ks_memobj_create(4 * KS_PAGE_SIZE);
    long l = ks_ipc_listener_create();
    long paged = l > 0 ? ks_memobj_create_paged(KS_PAGE_SIZE, (ks_handle_t)l, 0) : l;
    KT_ASSERT(d > 0 && m > 0 && paged > 0);
    uint64_t pa[64], again[64];
    KT_EXPECT_EQ(ks_memobj_write((ks_handle_t)m, KS_PAGE_SIZE + 3, "pin", 3), 3);
    KT_ASSERT(ks_dma_pin((ks_handle_t)d, (ks_handle_t)m, 0, 4, pa) == 4);   /* missing pages made */
    for (int i = 0; i < 4; i++)
        KT_EXPECT(pa[i] && (pa[i] & (KS_PAGE_SIZE - 1)) == 0 && (i == 0 || pa[i] != pa[i - 1]));
    KT_EXPECT_EQ(ks_dma_pin((ks_handle_t)d, (ks_handle_t)m, 1, 1, again), 1);
    KT_EXPECT_EQ(again[0], pa[1]);      /* the memobj's own page, not a copy */
    KT_EXPECT_EQ(ks_dma_unpin((ks_handle_t)d, again, 1), 1);
    KT_EXPECT_EQ(ks_dma_pin((ks_handle_t)d, (ks_handle_t)m, 3, 2, again), KS_ERR_RANGE);   /* past its size */
    KT_EXPECT_EQ(ks_dma_pin((ks_handle_t)d, (ks_handle_t)m, 0, 0, again), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_dma_pin((ks_handle_t)d, (ks_handle_t)m, 0, 65, again), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_dma_pin((ks_handle_t)d, (ks_handle_t)m, 0, 1, (uint64_t *)16), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_dma_pin((ks_handle_t)d, (ks_handle_t)d, 0, 1, again), KS_ERR_INVALID);    /* DMA */
    KT_EXPECT_EQ(ks_dma_pin((ks_handle_t)d, (ks_handle_t)paged, 0, 1, again), KS_ERR_INVALID);
    long r = ks_dma_pin((ks_handle_t)m, (ks_handle_t)m, 0, 1, again);    /* not through DMA memory */
    KT_EXPECT(r == KS_ERR_INVALID || r == KS_ERR_ACCESS);
    long ro = ks_handle_duplicate((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_MAP);
    KT_ASSERT(ro > 0);
    KT_EXPECT_EQ(ks_dma_pin((ks_handle_t)d, (ks_handle_t)ro, 0, 1, again), KS_ERR_ACCESS);
    ks_handle_close((ks_handle_t)ro);
    again[0] = (uint64_t)ks_dma_addr((ks_handle_t)d, 0);
    KT_EXPECT_EQ(ks_dma_unpin((ks_handle_t)d, again, 1), KS_ERR_INVALID);  /* never pinned */
    KT_EXPECT_EQ(ks_dma_unpin((ks_handle_t)d, (const uint64_t *)16, 1), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_dma_unpin((ks_handle_t)d, again, 65), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_dma_unpin((ks_handle_t)d, again, 0), 0);
    r = ks_dma_unpin((ks_handle_t)m, pa, 1);                              /* not DMA memory */
    KT_EXPECT(r == KS_ERR_INVALID || r == KS_ERR_ACCESS);
    /* Truncated and closed, the memobj's pages stay pinned until unpinned. */
    KT_EXPECT_EQ(ks_memobj_truncate((ks_handle_t)m, 0), 0);
    ks_handle_close((ks_handle_t)m);
    KT_EXPECT_EQ(ks_dma_unpin((ks_handle_t)d, pa, 4), 4);
    KT_EXPECT_EQ(ks_dma_unpin((ks_handle_t)d, pa, 1), KS_ERR_INVALID);    /* not twice */
    /* 256 pins at most; the DMA memobj's end takes them all back. */
    m = ks_memobj_create(64 * KS_PAGE_SIZE);
    KT_ASSERT(m > 0);
    for (int i = 0; i < 4; i++)
        KT_EXPECT_EQ(ks_dma_pin((ks_handle_t)d, (ks_handle_t)m, 0, 64, pa), 64);
    KT_EXPECT_EQ(ks_dma_pin((ks_handle_t)d, (ks_handle_t)m, 0, 1, again), KS_ERR_LIMIT);
    ks_handle_close((ks_handle_t)m);
    ks_handle_close((ks_handle_t)d);
    ks_handle_close((ks_handle_t)paged);
    ks_handle_close((ks_handle_t)l);
    EXPECT_SAME_KSTAT(&k);
}

/* ---- a driver killed under load ---- */

static volatile long done_ok, done_closed, done_other;

static void writer(long k)
{
    uint64_t region = TEST_DISK_SECTORS / THREADS, first = (uint64_t)k * region;
    for (uint64_t s = first; s < first + region; s += 8) {
        pattern(buf[k], s, 8, 40);
        long r = blk_write(s, 8, buf[k]);
        if (r == 8 * (long)BLK_SECTOR) {
            __atomic_fetch_add(&done_ok, 1, __ATOMIC_RELAXED);
        } else {
            __atomic_fetch_add(r == KS_ERR_PEER_CLOSED ? &done_closed : &done_other, 1, __ATOMIC_RELAXED);
            break;
        }
    }
    ks_thread_exit(0);
}

static void blk_killed_under_load(void)
{
    KT_ASSERT(test_disk);            /* writes the disk: only the test disk's size */
    struct ks_kstat before = kstat_now();      /* the driver alive, its DMA memory held */
    done_ok = done_closed = done_other = 0;
    struct uthread t[THREADS];
    for (long k = 0; k < THREADS; k++)
        t[k] = thread_start(writer, k);
    uint64_t deadline = (uint64_t)ks_clock_ns() + 10000000000ull;
    while (done_ok < 20 && done_other == 0 && (uint64_t)ks_clock_ns() < deadline)
        ks_thread_yield();
    KT_EXPECT(done_ok >= 20);
    KT_EXPECT_EQ(ks_process_kill(driver), 0);
    uint64_t status;
    KT_EXPECT_EQ(ks_process_wait(driver, &status), 0);
    for (int k = 0; k < THREADS; k++)
        thread_finish(&t[k]);           /* every caller came back */
    KT_EXPECT(done_closed > 0);
    KT_EXPECT_EQ(done_other, 0);
    ks_handle_close(driver);
    ks_handle_close(port);
    driver = port = KS_HANDLE_NONE;
    struct ks_kstat after = kstat_now();
    KT_EXPECT(after.free_pages >= before.free_pages + 130);  /* the driver's DMA memory (130 pages) came back */

    /*
     * A new driver resets and starts the device, and the data is there: every
     * sector as blk_in_flight's last round left it (seed 13) or as a writer
     * here wrote it (seed 40), never anything else.
     */
    KT_ASSERT((start_driver()) == (0));
    const uint64_t per = BLK_MAX_BYTES / BLK_SECTOR;
    uint64_t wrong = 0;
    for (uint64_t s = 0; s < TEST_DISK_SECTORS; s += per) {
        KT_ASSERT((blk_read(s, per, back[0])) == ((long)BLK_MAX_BYTES));
        pattern(buf[0], s, per, 13);
        pattern(buf[1], s, per, 40);
        for (uint64_t j = 0; j < per; j++) {
            const uint8_t *got = back[0] + j * BLK_SECTOR;
            if (memcmp(got, buf[0] + j * BLK_SECTOR, BLK_SECTOR) != 0 &&
                memcmp(got, buf[1] + j * BLK_SECTOR, BLK_SECTOR) != 0)
                wrong++;
        }
    }
    KT_EXPECT_EQ(wrong, 0);
    KT_EXPECT_EQ(blk(BLK_OP_FLUSH, 0, 0, NULL, 0, NULL, 0, NULL), 0);
}

static const struct ktest_case blk_cases[] = {
    { "info", blk_info },
    { "every_sector", blk_every_sector },
    { "in_flight", blk_in_flight },
    { "refused", blk_refused },
    { "read_pages", blk_read_pages },
    { "write_pages", blk_write_pages },
    { "killed_under_load", blk_killed_under_load },
};
KTEST_SUITE(blk_suite, "blk", blk_cases);

static const struct ktest_case dma_cases[] = {
    { "rules", dma_rules },
    { "resets_device", dma_resets_device },
    { "pins", dma_pins },
};
KTEST_SUITE(dma_suite, "dma", dma_cases);

int main(int argc, char **argv)
{
    mmio = ulib_inherited(0);
    irq = ulib_inherited(1);
    if (mmio == KS_HANDLE_NONE || irq == KS_HANDLE_NONE) {
        printf("ublk: needs a block device's registers and interrupt (init gives them)\n");
        return 2;
    }
    const struct ktest_suite *suites[] = { &dma_suite, &blk_suite };
    return ktest_run(suites, 2) ? 1 : 0;
}
