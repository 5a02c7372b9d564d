/*
 * user/fsd/ext2.c - reading ext2 (revision 0 and 1) from an image in memory:
 * mount checks, inodes, block maps through single, double and triple
 * indirect blocks, file bytes, directory records and symbolic links. See
 * ext2.h for the contracts; every number read from the image is checked
 * before it is used as an offset.
 */
#include <errno.h>
#include <string.h>
#include "user/fsd/ext2.h"
#include "user/fsd/ext2_layout.h"

/* Copy a reason into why, if there is room for one. */
static int refuse(char *why, size_t whylen, const char *reason)
{
    if (why && whylen) {
        size_t n = strlen(reason);
        if (n >= whylen)
            n = whylen - 1;
        memcpy(why, reason, n);
        why[n] = 0;
    }
    return -EINVAL;
}

const uint8_t *ext2_block_part(const struct ext2 *fs, uint64_t b, uint32_t at, uint32_t len)
{
    if (b == 0 || b >= fs->blocks_count || at + len > fs->block_size)
        return NULL;
    return fs->read(fs->ctx, b * fs->block_size + at, len);
}

static const uint8_t *block_at(const struct ext2 *fs, uint64_t b)
{
    return ext2_block_part(fs, b, 0, fs->block_size);
}

/* Is block b one a group may name for its bitmaps or inode table (count blocks from b)? */
static int blocks_inside(const struct ext2 *fs, uint64_t b, uint64_t count)
{
    return b >= fs->first_data_block && b + count <= fs->blocks_count && b + count >= b;
}

const uint8_t *ext2_group_desc(const struct ext2 *fs, uint32_t g)
{
    uint64_t at = (uint64_t)g * GD_SIZE;
    return ext2_block_part(fs, fs->gdt_block + at / fs->block_size, (uint32_t)(at % fs->block_size), GD_SIZE);
}

int ext2_mount(struct ext2 *fs, ext2_read_fn read, void *ctx, uint64_t size, char *why, size_t whylen)
{
    memset(fs, 0, sizeof *fs);
    if (size < SB_OFFSET + 1024)
        return refuse(why, whylen, "the disk is smaller than a superblock");
    const uint8_t *sb = read(ctx, SB_OFFSET, 1024);
    if (!sb) {
        refuse(why, whylen, "the superblock could not be read");
        return -EIO;
    }
    if (le16(sb + SB_MAGIC_OFF) != SB_MAGIC)
        return refuse(why, whylen, "no ext2 superblock (bad magic)");
    uint32_t log = le32(sb + SB_LOG_BLOCK_SIZE);
    if (log > 2)
        return refuse(why, whylen, "a block size above 4 KiB");
    fs->read = read;
    fs->ctx = ctx;
    fs->disk_size = size;
    fs->block_size = 1024u << log;
    fs->ptrs = fs->block_size / 4;
    fs->blocks_count = le32(sb + SB_BLOCKS_COUNT);
    fs->inodes_count = le32(sb + SB_INODES_COUNT);
    fs->first_data_block = le32(sb + SB_FIRST_DATA_BLOCK);
    fs->blocks_per_group = le32(sb + SB_BLOCKS_PER_GROUP);
    fs->inodes_per_group = le32(sb + SB_INODES_PER_GROUP);
    uint32_t rev = le32(sb + SB_REV_LEVEL);
    if (rev > 1)
        return refuse(why, whylen, "a revision newer than 1");
    fs->inode_size = rev == 0 ? 128 : le16(sb + SB_INODE_SIZE);
    fs->first_ino = rev == 0 ? 11 : le32(sb + SB_FIRST_INO);
    uint32_t incompat = rev == 0 ? 0 : le32(sb + SB_FEATURE_INCOMPAT);
    uint32_t ro_compat = rev == 0 ? 0 : le32(sb + SB_FEATURE_RO_COMPAT);
    if (incompat & ~INCOMPAT_FILETYPE)
        return refuse(why, whylen, "incompatible features (extents, 64bit, flex_bg, journal recovery, ...)");
    fs->filetype = !!(incompat & INCOMPAT_FILETYPE);
    fs->read_only = !!(ro_compat & ~RO_COMPAT_KNOWN);
    if (fs->inode_size < 128 || fs->inode_size > fs->block_size || (fs->inode_size & (fs->inode_size - 1)))
        return refuse(why, whylen, "an inode size that is not a power of two from 128 to the block size");
    if (fs->first_data_block != (fs->block_size == 1024 ? 1u : 0u))
        return refuse(why, whylen, "s_first_data_block does not match the block size");
    if (fs->blocks_count <= fs->first_data_block || (uint64_t)fs->blocks_count * fs->block_size > size)
        return refuse(why, whylen, "the file system is larger than the disk");
    if (fs->blocks_per_group == 0 || fs->blocks_per_group > 8 * fs->block_size ||
        fs->inodes_per_group == 0 || fs->inodes_per_group > 8 * fs->block_size)
        return refuse(why, whylen, "more blocks or inodes in a group than a bitmap block holds");
    if (fs->first_ino <= EXT2_ROOT_INO || fs->first_ino > fs->inodes_count)
        return refuse(why, whylen, "s_first_ino out of range");
    fs->groups = (fs->blocks_count - fs->first_data_block + fs->blocks_per_group - 1) / fs->blocks_per_group;
    if ((uint64_t)fs->groups * fs->inodes_per_group < fs->inodes_count)
        return refuse(why, whylen, "s_inodes_count is more than the groups hold");
    fs->gdt_block = fs->first_data_block + 1;
    uint64_t gdt_blocks = ((uint64_t)fs->groups * GD_SIZE + fs->block_size - 1) / fs->block_size;
    if (!blocks_inside(fs, fs->gdt_block, gdt_blocks))
        return refuse(why, whylen, "the group descriptors do not fit the file system");
    uint64_t table_blocks = ((uint64_t)fs->inodes_per_group * fs->inode_size + fs->block_size - 1) / fs->block_size;
    for (uint32_t g = 0; g < fs->groups; g++) {
        const uint8_t *gd = ext2_group_desc(fs, g);
        if (!gd) {
            refuse(why, whylen, "a group descriptor could not be read");
            return -EIO;
        }
        if (!blocks_inside(fs, le32(gd + GD_BLOCK_BITMAP), 1) || !blocks_inside(fs, le32(gd + GD_INODE_BITMAP), 1) ||
            !blocks_inside(fs, le32(gd + GD_INODE_TABLE), table_blocks))
            return refuse(why, whylen, "a group descriptor names blocks outside the file system");
    }
    return 0;
}

int ext2_inode_get(const struct ext2 *fs, uint32_t ino, struct ext2_inode *out)
{
    if (ino == 0 || ino > fs->inodes_count)
        return -EIO;
    uint32_t g = (ino - 1) / fs->inodes_per_group, idx = (ino - 1) % fs->inodes_per_group;
    const uint8_t *gd = ext2_group_desc(fs, g);
    if (!gd)
        return -EIO;
    uint64_t at = (uint64_t)idx * fs->inode_size;   /* (inode_size divides the block size) */
    const uint8_t *p = ext2_block_part(fs, le32(gd + GD_INODE_TABLE) + at / fs->block_size,
                                  (uint32_t)(at % fs->block_size), fs->inode_size);
    if (!p)
        return -EIO;            /* (mount checked the tables; the image may have changed since) */
    uint32_t local[IN_GID_HIGH / 4 + 1];
    if ((uintptr_t)p & 3)       /* (never from fsd's cache, whose records are aligned) */
        p = memcpy(local, p, sizeof local);
    p = __builtin_assume_aligned(p, 4);     /* every field below is then one load */
    out->ino = ino;
    out->mode = le16(p + IN_MODE);
    out->links = le16(p + IN_LINKS);
    out->uid = le16(p + IN_UID) | (uint32_t)le16(p + IN_UID_HIGH) << 16;
    out->gid = le16(p + IN_GID) | (uint32_t)le16(p + IN_GID_HIGH) << 16;
    out->size = le32(p + IN_SIZE);
    if ((out->mode & EXT2_S_IFMT) == EXT2_S_IFREG)
        out->size |= (uint64_t)le32(p + IN_SIZE_HIGH) << 32;
    out->atime = le32(p + IN_ATIME);
    out->ctime = le32(p + IN_CTIME);
    out->mtime = le32(p + IN_MTIME);
    out->blocks512 = le32(p + IN_BLOCKS);
    out->flags = le32(p + IN_FLAGS);
    out->file_acl = le32(p + IN_FILE_ACL);
    for (int i = 0; i < 15; i++)
        out->block[i] = le32(p + IN_BLOCK + 4 * i);
    return 0;
}

/* Entry i of indirect block b: 0 (a hole), a block number, or -EIO. */
static int64_t indirect(const struct ext2 *fs, uint32_t b, uint64_t i)
{
    if (b == 0)
        return 0;
    const uint8_t *p = ext2_block_part(fs, b, (uint32_t)(4 * i), 4);
    if (!p)
        return -EIO;
    uint32_t v = le32(p);
    return v == 0 ? 0 : v >= fs->blocks_count ? -EIO : (int64_t)v;
}

int64_t ext2_bmap(const struct ext2 *fs, const struct ext2_inode *in, uint64_t index)
{
    uint64_t p = fs->ptrs;
    int64_t b;
    if (index < EXT2_NDIR) {
        b = in->block[index];
        return b >= fs->blocks_count ? -EIO : b;
    }
    index -= EXT2_NDIR;
    if (index < p)
        return indirect(fs, in->block[12], index);
    index -= p;
    if (index < p * p) {
        b = indirect(fs, in->block[13], index / p);
        return b <= 0 ? b : indirect(fs, (uint32_t)b, index % p);
    }
    index -= p * p;
    if (index >= p * p * p)
        return -EIO;
    b = indirect(fs, in->block[14], index / (p * p));
    if (b > 0)
        b = indirect(fs, (uint32_t)b, index / p % p);
    return b <= 0 ? b : indirect(fs, (uint32_t)b, index % p);
}

/* A run of the file's bytes that lie together on the disk, for ext2_copy_fn. */
struct run {
    uint64_t disk;              /* where it starts on the disk */
    uint64_t len;               /* 0: none yet */
    uint8_t *out;
};

/* Copy run r out (fs->copy) and start none: 0, or -EIO. */
static int run_flush(const struct ext2 *fs, struct run *r)
{
    int e = r->len ? fs->copy(fs->ctx, r->disk, r->out, r->len) : 0;
    r->len = 0;
    return e < 0 ? -EIO : 0;
}

int64_t ext2_read(const struct ext2 *fs, const struct ext2_inode *in, uint64_t off, void *buf, uint64_t len)
{
    if (off >= in->size)
        return 0;
    if (len > in->size - off)
        len = in->size - off;
    uint8_t *out = buf;
    struct run run = { 0, 0, NULL };
    for (uint64_t done = 0; done < len;) {
        uint64_t at = off + done, in_block = at % fs->block_size;
        uint64_t n = fs->block_size - in_block < len - done ? fs->block_size - in_block : len - done;
        int64_t b = ext2_bmap(fs, in, at / fs->block_size);
        if (b < 0)
            return -EIO;
        uint64_t disk = (uint64_t)b * fs->block_size + in_block;
        if (b && fs->copy && run.len && run.disk + run.len == disk && run.out + run.len == out + done &&
            (uint64_t)b < fs->blocks_count) {
            run.len += n;                           /* the next block, on the disk and in buf (no hole) */
        } else if (b && fs->copy) {
            if (run_flush(fs, &run) < 0 || (uint64_t)b >= fs->blocks_count)
                return -EIO;
            run = (struct run){ disk, n, out + done };
        } else {
            const uint8_t *p = b ? ext2_block_part(fs, (uint64_t)b, (uint32_t)in_block, (uint32_t)n) : NULL;
            if (b && !p)
                return -EIO;
            if (p)
                memcpy(out + done, p, n);
            else
                memset(out + done, 0, n);       /* a hole */
        }
        done += n;
    }
    return run_flush(fs, &run) < 0 ? -EIO : (int64_t)len;
}

int ext2_dir_next(const struct ext2 *fs, const struct ext2_inode *dir, uint64_t *pos, struct ext2_dirent *out)
{
    while (*pos < dir->size) {
        uint64_t in_block = *pos % fs->block_size;
        if (*pos % 4)
            return -EIO;
        int64_t b = ext2_bmap(fs, dir, *pos / fs->block_size);
        const uint8_t *blk = b > 0 ? block_at(fs, (uint64_t)b) : NULL;
        if (!blk)
            return -EIO;        /* (a directory has no holes) */
        const uint8_t *r = blk + in_block;
        if (fs->block_size - in_block < 8)
            return -EIO;
        uint32_t ino = le32(r);
        uint16_t rec_len = le16(r + 4);
        uint8_t namelen = r[6];
        if (rec_len < 8 || rec_len % 4 || rec_len > fs->block_size - in_block || 8u + namelen > rec_len)
            return -EIO;
        *pos += rec_len;
        if (ino == 0)
            continue;           /* an unused record */
        if (ino > fs->inodes_count || namelen == 0)
            return -EIO;
        out->ino = ino;
        out->type = fs->filetype ? r[7] : 0;
        out->namelen = namelen;
        memcpy(out->name, r + 8, namelen);
        out->name[namelen] = 0;
        return 1;
    }
    return 0;
}

int ext2_counts(const struct ext2 *fs, struct ext2_counts *out)
{
    const uint8_t *sb = fs->read(fs->ctx, SB_OFFSET, 32);
    if (!sb)
        return -EIO;
    out->inodes = le32(sb + SB_INODES_COUNT);
    out->blocks = le32(sb + SB_BLOCKS_COUNT);
    out->free_blocks = le32(sb + SB_FREE_BLOCKS);
    out->free_inodes = le32(sb + SB_FREE_INODES);
    return 0;
}

int64_t ext2_lookup(const struct ext2 *fs, const struct ext2_inode *dir, const char *name, size_t len)
{
    struct ext2_dirent e;
    uint64_t pos = 0;
    int r;
    while ((r = ext2_dir_next(fs, dir, &pos, &e)) > 0)
        if (e.namelen == len && memcmp(e.name, name, len) == 0)
            return e.ino;
    return r < 0 ? r : -ENOENT;
}

int64_t ext2_readlink(const struct ext2 *fs, const struct ext2_inode *in, char *buf, size_t cap)
{
    uint64_t acl_blocks = in->file_acl ? fs->block_size / 512 : 0;
    if (in->size > cap || in->size > fs->block_size)
        return -EIO;
    if (in->blocks512 == acl_blocks && in->size < sizeof in->block) {
        for (uint64_t i = 0; i < in->size; i++)     /* a fast link: the target is in i_block */
            buf[i] = (char)(in->block[i / 4] >> (8 * (i % 4)));
        return (int64_t)in->size;
    }
    return ext2_read(fs, in, 0, buf, in->size);
}
