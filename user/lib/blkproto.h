/*
 * user/lib/blkproto.h - the block server protocol: what a client (fsd, or the
 * ublk tests) sends a block driver (user/vblk.c) over IPC.
 *
 * A request is MR0 = the operation, MR1, MR2 as below; the reply's MR0 is a
 * status: 0 or a byte count, or a negative Linux errno (-EIO: the device
 * failed the request; -EINVAL: a malformed request, which the device never
 * sees). Sectors are 512 bytes. Data travels in the message's buffer: a
 * write's in the call's send buffer, a read's in the reply (the caller's
 * receive buffer), at most BLK_MAX_BYTES a request; or, for READ_PAGES, in
 * pages of a memobj the call carries, which the device fills itself.
 */
#ifndef USER_LIB_BLKPROTO_H
#define USER_LIB_BLKPROTO_H

/* The errors, as Linux numbers them (fsd passes them on as errno). */
#define BLK_EIO         5
#define BLK_EINVAL      22
#define BLK_EROFS       30

#define BLK_SECTOR      512u
#define BLK_MAX_BYTES   (64u << 10)     /* 128 sectors */

enum blk_op {
    BLK_OP_INFO = 1,    /* status 0; MR1 = capacity in sectors, MR2 = 1 if read-only,
                           MR3 = requests the driver keeps in flight at once, MR4 = 1 if it
                           serves READ_PAGES and WRITE_PAGES */
    BLK_OP_READ,        /* MR1 = first sector, MR2 = sectors (1..128): status = bytes read,
                           the data in the reply's buffer */
    BLK_OP_WRITE,       /* MR1 = first sector, MR2 = sectors; the data (sectors * 512
                           bytes exactly) in the call's buffer: status = bytes written */
    BLK_OP_FLUSH,       /* status 0 once what was written is on the disk */
    BLK_OP_STATS,       /* status 0; MR1 = requests the device has finished, MR2 = the most
                           it had in flight at once */
    BLK_OP_READ_PAGES,  /* MR1 = first sector, MR2 = sectors (8..128, a multiple of 8), MR3 =
                           a page number; the message's one handle: a memobj with READ, WRITE
                           and TRANSFER (ordinary: not paged). The device writes the data
                           straight into the memobj's pages from MR3 on (pinned for the
                           request: no copy anywhere); status = bytes read. -EINVAL also
                           when the device cannot (no indirect descriptors): use READ */
    BLK_OP_WRITE_PAGES, /* as READ_PAGES, the other way: the device reads the data straight
                           from the memobj's pages (the memobj still needs WRITE: a pin does);
                           status = bytes written */
};

#endif
