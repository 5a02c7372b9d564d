/*
 * user/fsd/ext2_write.c - changing an ext2 file system: inodes written back,
 * blocks and inodes taken from and given back to the groups' bitmaps (with
 * the group and superblock counts e2fsck compares), block maps grown through
 * indirect blocks and cut back on truncation, file bytes written, and
 * directory records added (in a record's slack, else in a new block) and
 * removed (merged into the one before). See ext2.h for the contracts.
 *
 * A small change (an inode, a count, a bitmap bit, a record's header) is
 * made where the bytes lie when fs->edit can give them (fsd's cache of the
 * disk), else as a read of the piece, a change to a copy and a write of the
 * copy through fs->write; larger pieces (a directory block, file bytes) are
 * written through fs->write. The callers hold whatever lock keeps two writers
 * apart. The order of writes within one call puts what points
 * to something after what it points to (a block is zeroed and its bitmap bit
 * set before a map names it; a directory record is written after its inode),
 * so that a crash between two writes leaves something e2fsck repairs by
 * freeing, never a pointer to garbage.
 */
#include <errno.h>
#include <string.h>
#include "user/fsd/ext2.h"
#include "user/fsd/ext2_layout.h"

#define MAX_BLOCK 4096

static _Alignas(8) uint8_t scratch[MAX_BLOCK];     /* one piece being changed (callers serialise) */
static const uint8_t zeros[MAX_BLOCK];

static int writable(const struct ext2 *fs)
{
    return fs->write && !fs->read_only ? 0 : -EROFS;
}

/* Copy len bytes at byte `at` of block b into scratch: 0, or -EIO. */
static int load(const struct ext2 *fs, uint64_t b, uint32_t at, uint32_t len)
{
    const uint8_t *p = ext2_block_part(fs, b, at, len);
    if (!p)
        return -EIO;
    memcpy(scratch, p, len);
    return 0;
}

/* Write len bytes of buf at byte `at` of block b: 0, or -EIO. */
static int store(const struct ext2 *fs, uint64_t b, uint32_t at, const void *buf, uint32_t len)
{
    if (b == 0 || b >= fs->blocks_count || at + len > fs->block_size)
        return -EIO;
    return fs->write(fs->ctx, b * fs->block_size + at, buf, len);
}

static _Alignas(8) uint8_t piece[256];  /* change()'s copy, when fs->edit cannot give the bytes */

/*
 * Begin changing len (at most 256) bytes at byte off of the disk, inside one
 * block: a pointer to them where they lie (fs->edit) or to a copy in `piece`,
 * aligned as the bytes are on the disk up to 8; NULL if unreadable. End
 * with changed().
 */
static uint8_t *change(const struct ext2 *fs, uint64_t off, uint32_t len)
{
    uint8_t *p = fs->edit ? fs->edit(fs->ctx, off, len) : NULL;
    if (p)
        return p;
    const uint8_t *from = len <= sizeof piece ? fs->read(fs->ctx, off, len) : NULL;
    return from ? memcpy(piece, from, len) : NULL;
}

/* End a change begun with change() (p its pointer): 0, or -EIO if the copy could not be written. */
static int changed(const struct ext2 *fs, uint64_t off, const uint8_t *p, uint32_t len)
{
    return p == piece ? fs->write(fs->ctx, off, piece, len) : 0;
}

/* change() of len bytes at byte `at` of block b (0, or past the file system: NULL). */
static uint8_t *change_in(const struct ext2 *fs, uint64_t b, uint32_t at, uint32_t len)
{
    if (b == 0 || b >= fs->blocks_count || at + len > fs->block_size)
        return NULL;
    return change(fs, b * fs->block_size + at, len);
}

/* Add delta to the 16-bit field `field` of group g's descriptor: 0 or -EIO. */
static int group_add(const struct ext2 *fs, uint32_t g, int field, int delta)
{
    uint64_t at = (uint64_t)g * GD_SIZE + (uint64_t)field;
    uint64_t b = fs->gdt_block + at / fs->block_size;
    uint8_t *p = change_in(fs, b, (uint32_t)(at % fs->block_size), 2);
    if (!p)
        return -EIO;
    put16(p, (uint32_t)(le16(p) + delta));
    return changed(fs, b * fs->block_size + at % fs->block_size, p, 2);
}

/* Add delta to the superblock's 32-bit count at `field`. */
static int super_add(const struct ext2 *fs, int field, int delta)
{
    uint8_t *p = change(fs, SB_OFFSET + field, 4);
    if (!p)
        return -EIO;
    put32(p, le32(p) + (uint32_t)delta);
    return changed(fs, SB_OFFSET + field, p, 4);
}

/* Find a clear bit among the first `bits` of bitmap block bm from `from` on (wrapping), set it: its index, or -1. */
static int64_t bitmap_take(const struct ext2 *fs, uint32_t bm, uint32_t bits, uint32_t from)
{
    const uint8_t *map = ext2_block_part(fs, bm, 0, fs->block_size);     /* (read in place: no copy) */
    if (!map)
        return -EIO;
    for (uint32_t k = 0; k < bits; k++) {
        uint32_t i = (from + k) % bits;
        if (map[i / 8] & (1u << (i % 8)))
            continue;
        uint8_t *p = change_in(fs, bm, i / 8, 1);
        if (!p)
            return -EIO;
        *p |= (uint8_t)(1u << (i % 8));
        return changed(fs, (uint64_t)bm * fs->block_size + i / 8, p, 1) < 0 ? -EIO : (int64_t)i;
    }
    return -1;
}

/* Clear bit i of bitmap block bm: 1 if it was set, 0 if not (a double free: left alone), -EIO. */
static int bitmap_give(const struct ext2 *fs, uint32_t bm, uint32_t i)
{
    uint8_t *p = change_in(fs, bm, i / 8, 1);
    if (!p)
        return -EIO;
    if (!(*p & (1u << (i % 8))))
        return 0;               /* (nothing changed: a copy is not written) */
    *p &= (uint8_t)~(1u << (i % 8));
    return changed(fs, (uint64_t)bm * fs->block_size + i / 8, p, 1) < 0 ? -EIO : 1;
}

/* The blocks group g holds (the last group may hold fewer). */
static uint32_t group_blocks(const struct ext2 *fs, uint32_t g)
{
    uint64_t first = fs->first_data_block + (uint64_t)g * fs->blocks_per_group;
    uint64_t left = fs->blocks_count - first;
    return left < fs->blocks_per_group ? (uint32_t)left : fs->blocks_per_group;
}

/*
 * A block-number field of group g's descriptor (a bitmap or the inode
 * table), or 0 if unreadable or not a data-area block: callers say EIO then
 * (block 0 is never a group's, so a failed read never names the superblock).
 */
static uint32_t group_field(const struct ext2 *fs, uint32_t g, int field)
{
    const uint8_t *gd = ext2_group_desc(fs, g);
    uint32_t b = gd ? le32(gd + field) : 0;
    return b > fs->first_data_block && b < fs->blocks_count ? b : 0;
}

/*
 * A free block, taken and zeroed, as near after `goal` as the bitmaps allow:
 * its number, -ENOSPC, or -EIO.
 */
static int64_t block_new(struct ext2 *fs, uint64_t goal)
{
    if (goal < fs->first_data_block || goal >= fs->blocks_count)
        goal = fs->first_data_block;
    uint32_t g0 = (uint32_t)((goal - fs->first_data_block) / fs->blocks_per_group);
    for (uint32_t k = 0; k < fs->groups; k++) {
        uint32_t g = (g0 + k) % fs->groups;
        const uint8_t *gd = ext2_group_desc(fs, g);
        if (!gd)
            return -EIO;
        if (le16(gd + GD_FREE_BLOCKS) == 0)
            continue;
        uint32_t bm = le32(gd + GD_BLOCK_BITMAP);
        uint32_t from = k == 0 ? (uint32_t)((goal - fs->first_data_block) % fs->blocks_per_group) : 0;
        int64_t i = bitmap_take(fs, bm, group_blocks(fs, g), from);
        if (i == -EIO)
            return -EIO;
        if (i < 0)
            continue;           /* (the count said free, the bitmap did not: look on) */
        uint64_t b = fs->first_data_block + (uint64_t)g * fs->blocks_per_group + (uint64_t)i;
        if (group_add(fs, g, GD_FREE_BLOCKS, -1) < 0 || super_add(fs, SB_FREE_BLOCKS, -1) < 0 ||
            store(fs, b, 0, zeros, fs->block_size) < 0)
            return -EIO;
        return (int64_t)b;
    }
    return -ENOSPC;
}

/* Give block b back: 0 or -EIO. A block outside the data area, or free already, is left alone. */
static int block_free(struct ext2 *fs, uint64_t b)
{
    if (b < fs->first_data_block || b >= fs->blocks_count)
        return 0;
    uint32_t g = (uint32_t)((b - fs->first_data_block) / fs->blocks_per_group);
    uint32_t i = (uint32_t)((b - fs->first_data_block) % fs->blocks_per_group);
    uint32_t bm = group_field(fs, g, GD_BLOCK_BITMAP);
    int r = bm ? bitmap_give(fs, bm, i) : -EIO;
    if (r <= 0)
        return r;
    return group_add(fs, g, GD_FREE_BLOCKS, 1) < 0 || super_add(fs, SB_FREE_BLOCKS, 1) < 0 ? -EIO : 0;
}

/* ext2_inode_put, and i_dtime set to *dtime if dtime is not NULL (a freed inode's, in the same write). */
static int inode_write(struct ext2 *fs, const struct ext2_inode *in, const uint32_t *dtime);

int ext2_inode_put(struct ext2 *fs, const struct ext2_inode *in)
{
    return inode_write(fs, in, NULL);
}

static int inode_write(struct ext2 *fs, const struct ext2_inode *in, const uint32_t *dtime)
{
    if (writable(fs) < 0)
        return -EROFS;
    if (in->ino == 0 || in->ino > fs->inodes_count)
        return -EIO;
    uint32_t g = (in->ino - 1) / fs->inodes_per_group, idx = (in->ino - 1) % fs->inodes_per_group;
    uint64_t at = (uint64_t)idx * fs->inode_size;
    uint32_t table = group_field(fs, g, GD_INODE_TABLE);
    uint64_t b = table + at / fs->block_size;
    /* The fields the writer keeps end with the gid's high half: the rest (the extra fields) stays. */
    uint32_t off = (uint32_t)(at % fs->block_size), n = IN_GID_HIGH + 2;
    uint8_t *p = table ? change_in(fs, b, off, n) : NULL;
    if (!p)
        return -EIO;
    p = __builtin_assume_aligned(p, 8);     /* (an inode's record is: each field is one store) */
    put16(p + IN_MODE, in->mode);
    put16(p + IN_UID, in->uid);
    put16(p + IN_UID_HIGH, in->uid >> 16);
    put16(p + IN_GID, in->gid);
    put16(p + IN_GID_HIGH, in->gid >> 16);
    put32(p + IN_SIZE, (uint32_t)in->size);
    if ((in->mode & EXT2_S_IFMT) == EXT2_S_IFREG)
        put32(p + IN_SIZE_HIGH, (uint32_t)(in->size >> 32));
    put32(p + IN_ATIME, in->atime);
    put32(p + IN_CTIME, in->ctime);
    put32(p + IN_MTIME, in->mtime);
    put16(p + IN_LINKS, in->links);
    put32(p + IN_BLOCKS, in->blocks512);
    put32(p + IN_FLAGS, in->flags);
    put32(p + IN_FILE_ACL, in->file_acl);
    for (int i = 0; i < 15; i++)
        put32(p + IN_BLOCK + 4 * i, in->block[i]);
    if (dtime)
        put32(p + IN_DTIME, *dtime);
    return changed(fs, b * fs->block_size + off, p, n);
}

int64_t ext2_inode_new(struct ext2 *fs, uint32_t near, uint16_t mode, uint32_t now, struct ext2_inode *out)
{
    if (writable(fs) < 0)
        return -EROFS;
    int dir = (mode & EXT2_S_IFMT) == EXT2_S_IFDIR;
    uint32_t g0 = near ? (near - 1) / fs->inodes_per_group : 0;
    for (uint32_t k = 0; k < fs->groups; k++) {
        uint32_t g = (g0 + k) % fs->groups;
        const uint8_t *gd = ext2_group_desc(fs, g);
        if (!gd)
            return -EIO;
        if (le16(gd + GD_FREE_INODES) == 0)
            continue;
        uint32_t bm = le32(gd + GD_INODE_BITMAP);
        uint32_t first = g == 0 ? fs->first_ino - 1 : 0;    /* (the reserved inodes are never given) */
        int64_t i = bitmap_take(fs, bm, fs->inodes_per_group, first);
        if (i == -EIO)
            return -EIO;
        if (i < 0)
            continue;
        uint32_t ino = g * fs->inodes_per_group + (uint32_t)i + 1;
        if ((g == 0 && i < first) || ino > fs->inodes_count) {
            bitmap_give(fs, bm, (uint32_t)i);      /* (taken by the wrap-around: not one to give) */
            continue;
        }
        if (group_add(fs, g, GD_FREE_INODES, -1) < 0 || super_add(fs, SB_FREE_INODES, -1) < 0 ||
            (dir && group_add(fs, g, GD_USED_DIRS, 1) < 0))
            return -EIO;
        /* A clean record: zeros, and the extra field size mke2fs gives new inodes. */
        uint32_t idx = (ino - 1) % fs->inodes_per_group;
        uint64_t at = (uint64_t)idx * fs->inode_size;
        uint32_t table = group_field(fs, g, GD_INODE_TABLE);
        uint64_t b = table + at / fs->block_size;
        _Alignas(8) uint8_t rec[MAX_BLOCK];
        if (!table)
            return -EIO;
        memset(rec, 0, fs->inode_size);
        if (fs->inode_size > 128) {
            const uint8_t *sb = fs->read(fs->ctx, SB_OFFSET + SB_WANT_EXTRA_ISIZE, 2);
            uint32_t extra = sb ? le16(sb) : 0;
            put16(rec + IN_EXTRA_ISIZE, extra && extra <= fs->inode_size - 128 ? extra : 0);
        }
        if (store(fs, b, (uint32_t)(at % fs->block_size), rec, fs->inode_size) < 0)
            return -EIO;
        memset(out, 0, sizeof *out);
        out->ino = ino;
        out->mode = mode;
        out->links = dir ? 2 : 1;
        out->atime = out->ctime = out->mtime = now;
        return ext2_inode_put(fs, out) < 0 ? -EIO : (int64_t)ino;
    }
    return -ENOSPC;
}

/* Blocks reached through one pointer at each level of indirection (level 0: a data block). */
static uint64_t span(const struct ext2 *fs, int level)
{
    uint64_t s = 1;
    while (level-- > 0)
        s *= fs->ptrs;
    return s;
}

/*
 * Free what *ptr (a level-`level` pointer covering blocks from `base` of the
 * file) holds at or past file block `keep`: 1 if *ptr changed (to 0: all of
 * it went), 0 if not, -EIO. blocks512 loses what is freed.
 */
static int cut(struct ext2 *fs, uint32_t *ptr, int level, uint64_t base, uint64_t keep, uint32_t *blocks512)
{
    if (*ptr == 0)
        return 0;
    if (level == 0) {
        if (base < keep)
            return 0;
        if (block_free(fs, *ptr) < 0)
            return -EIO;
        *ptr = 0;
        *blocks512 -= fs->block_size / 512;
        return 1;
    }
    static uint32_t entries[4][MAX_BLOCK / 4];     /* one a level: a level's frame is alone on it */
    uint32_t *e = entries[level];
    const uint8_t *p = ext2_block_part(fs, *ptr, 0, fs->block_size);
    if (!p)
        return -EIO;
    for (uint32_t i = 0; i < fs->ptrs; i++)
        e[i] = le32(p + 4 * i);
    uint64_t child = span(fs, level - 1);
    int changed = 0, left = 0;
    for (uint32_t i = 0; i < fs->ptrs; i++) {
        uint64_t cbase = base + i * child;
        if (e[i] && cbase + child > keep) {
            uint32_t v = e[i];
            int r = cut(fs, &v, level - 1, cbase, keep, blocks512);
            if (r < 0)
                return -EIO;
            if (r) {
                uint8_t w[4];
                put32(w, v);
                if (store(fs, *ptr, 4 * i, w, 4) < 0)
                    return -EIO;
                e[i] = v;
                changed = 1;
            }
        }
        left |= e[i] != 0;
    }
    if (left)
        return 0;
    if (block_free(fs, *ptr) < 0)
        return -EIO;
    *ptr = 0;
    *blocks512 -= fs->block_size / 512;
    return 1 | changed;
}

int ext2_truncate(struct ext2 *fs, struct ext2_inode *in, uint64_t size)
{
    if (writable(fs) < 0)
        return -EROFS;
    if (size < in->size) {
        uint64_t keep = (size + fs->block_size - 1) / fs->block_size;
        for (int i = 0; i < EXT2_NDIR; i++)
            if (cut(fs, &in->block[i], 0, (uint64_t)i, keep, &in->blocks512) < 0)
                return -EIO;
        uint64_t base = EXT2_NDIR;
        for (int level = 1; level <= 3; level++) {
            if (cut(fs, &in->block[EXT2_NDIR + level - 1], level, base, keep, &in->blocks512) < 0)
                return -EIO;
            base += span(fs, level);
        }
        uint32_t tail = (uint32_t)(size % fs->block_size);
        int64_t b = tail ? ext2_bmap(fs, in, size / fs->block_size) : 0;
        if (b < 0 || (b > 0 && store(fs, (uint64_t)b, tail, zeros, fs->block_size - tail) < 0))
            return -EIO;        /* (the tail zeroed: growing again later reads zeros there) */
    }
    in->size = size;
    return ext2_inode_put(fs, in);
}

/*
 * The block holding file block `index` of in, made if missing (with the
 * indirect blocks on the way): its number, -ENOSPC or -EIO. in's block map and
 * blocks512 change in memory; the caller writes the inode.
 */
static int64_t bmap_make(struct ext2 *fs, struct ext2_inode *in, uint64_t index, uint64_t goal)
{
    int64_t b;
    if (index < EXT2_NDIR) {
        if (in->block[index])
            return in->block[index] < fs->blocks_count ? (int64_t)in->block[index] : -EIO;
        if ((b = block_new(fs, goal)) < 0)
            return b;
        in->block[index] = (uint32_t)b;
        in->blocks512 += fs->block_size / 512;
        return b;
    }
    index -= EXT2_NDIR;
    int level = 1;
    while (level <= 3 && index >= span(fs, level))
        index -= span(fs, level++);
    if (level > 3)
        return -EFBIG;
    uint32_t *top = &in->block[EXT2_NDIR + level - 1];
    if (*top == 0) {
        if ((b = block_new(fs, goal)) < 0)
            return b;
        *top = (uint32_t)b;
        in->blocks512 += fs->block_size / 512;
    }
    uint64_t at = *top;
    for (; level > 0; level--) {
        if (at >= fs->blocks_count)
            return -EIO;
        uint64_t slot = index / span(fs, level - 1) % fs->ptrs;
        const uint8_t *p = ext2_block_part(fs, at, (uint32_t)(4 * slot), 4);
        if (!p)
            return -EIO;
        uint32_t v = le32(p);
        if (v == 0) {
            if ((b = block_new(fs, goal)) < 0)
                return b;
            v = (uint32_t)b;
            in->blocks512 += fs->block_size / 512;
            uint8_t w[4];
            put32(w, v);
            if (store(fs, at, (uint32_t)(4 * slot), w, 4) < 0)
                return -EIO;
        }
        at = v;
    }
    return at < fs->blocks_count ? (int64_t)at : -EIO;
}

/* The first block of the group inode ino is in: where its blocks are best put. */
static uint64_t home(const struct ext2 *fs, uint32_t ino)
{
    return fs->first_data_block + (uint64_t)((ino - 1) / fs->inodes_per_group) * fs->blocks_per_group;
}

int64_t ext2_write(struct ext2 *fs, struct ext2_inode *in, uint64_t off, const void *buf, uint64_t len)
{
    if (writable(fs) < 0)
        return -EROFS;
    const uint8_t *src = buf;
    uint64_t done = 0, goal = home(fs, in->ino);
    int err = 0;
    while (done < len) {
        uint64_t at = off + done, inb = at % fs->block_size;
        uint64_t n = fs->block_size - inb < len - done ? fs->block_size - inb : len - done;
        int64_t b = bmap_make(fs, in, at / fs->block_size, goal);
        if (b < 0) {
            err = (int)b;
            break;
        }
        if (store(fs, (uint64_t)b, (uint32_t)inb, src + done, (uint32_t)n) < 0) {
            err = -EIO;
            break;
        }
        goal = (uint64_t)b + 1;
        done += n;
    }
    if (off + done > in->size)
        in->size = off + done;
    if (ext2_inode_put(fs, in) < 0)
        return -EIO;
    return done ? (int64_t)done : err;
}

/*
 * Let go of in's extended-attribute block (i_file_acl): a shared block's
 * reference count drops, the last reference frees it. 0 or -EIO.
 */
static int xattr_put(struct ext2 *fs, struct ext2_inode *in)
{
    uint32_t b = in->file_acl;
    in->file_acl = 0;
    in->blocks512 -= in->blocks512 >= fs->block_size / 512 ? fs->block_size / 512 : in->blocks512;
    if (b <= fs->first_data_block || b >= fs->blocks_count || load(fs, b, 0, 8) < 0)
        return 0;               /* (not a block of the file system: nothing to let go of) */
    if (le32(scratch) != 0xEA020000u)
        return 0;               /* not an attribute block: leave it to e2fsck */
    uint32_t refs = le32(scratch + 4);
    if (refs > 1) {
        uint8_t v[4];
        put32(v, refs - 1);
        return store(fs, b, 4, v, 4);
    }
    return block_free(fs, b);
}

int ext2_reserve(struct ext2 *fs, struct ext2_inode *in, uint64_t off, uint64_t len)
{
    if (writable(fs) < 0)
        return -EROFS;
    int64_t b = 0;
    uint64_t goal = home(fs, in->ino);
    for (uint64_t k = off / fs->block_size; len && k <= (off + len - 1) / fs->block_size && b >= 0; k++)
        if ((b = bmap_make(fs, in, k, goal)) > 0)
            goal = (uint64_t)b + 1;
    int r = ext2_inode_put(fs, in);     /* (what was taken stays named, even after a failure) */
    return b < 0 ? (int)b : r;
}

int ext2_inode_free(struct ext2 *fs, struct ext2_inode *in, uint32_t now)
{
    if (writable(fs) < 0)
        return -EROFS;
    int dir = (in->mode & EXT2_S_IFMT) == EXT2_S_IFDIR;
    uint32_t acl_blocks = in->file_acl ? fs->block_size / 512 : 0;
    int fast_link = (in->mode & EXT2_S_IFMT) == EXT2_S_IFLNK && in->blocks512 == acl_blocks;
    int holds = in->blocks512 > acl_blocks;         /* data or map blocks to give back */
    if (!fast_link && holds && ext2_truncate(fs, in, 0) < 0)
        return -EIO;
    if (fast_link)
        memset(in->block, 0, sizeof in->block);
    if (in->file_acl && xattr_put(fs, in) < 0)
        return -EIO;
    in->links = 0;
    in->size = 0;
    if (inode_write(fs, in, &now) < 0)  /* (its deletion time in the same write) */
        return -EIO;
    uint32_t g = (in->ino - 1) / fs->inodes_per_group, i = (in->ino - 1) % fs->inodes_per_group;
    uint32_t bm = group_field(fs, g, GD_INODE_BITMAP);
    if (!bm)
        return -EIO;
    int r = bitmap_give(fs, bm, i);
    if (r <= 0)
        return r;
    if (group_add(fs, g, GD_FREE_INODES, 1) < 0 || super_add(fs, SB_FREE_INODES, 1) < 0 ||
        (dir && group_add(fs, g, GD_USED_DIRS, -1) < 0))
        return -EIO;
    return 0;
}

/* The bytes a record with a name of len bytes needs. */
static uint32_t rec_need(uint32_t len)
{
    return (8 + len + 3) & ~3u;
}

/* Write a record at byte `at` of scratch (a directory block). */
static void rec_put(uint32_t at, uint32_t ino, uint32_t rec_len, const char *name, size_t len, uint8_t type)
{
    put32(scratch + at, ino);
    put16(scratch + at + 4, rec_len);
    scratch[at + 6] = (uint8_t)len;
    scratch[at + 7] = type;
    memcpy(scratch + at + 8, name, len);
}

int ext2_dir_add(struct ext2 *fs, struct ext2_inode *dir, const char *name, size_t len, uint32_t ino, uint8_t type)
{
    if (writable(fs) < 0)
        return -EROFS;
    if (len == 0 || len > EXT2_NAME_MAX)
        return -EINVAL;
    uint32_t need = rec_need((uint32_t)len);
    if (!fs->filetype)
        type = 0;
    uint64_t nblocks = dir->size / fs->block_size;
    for (uint64_t k = 0; k < nblocks; k++) {
        int64_t b = ext2_bmap(fs, dir, k);
        const uint8_t *blk = b > 0 ? ext2_block_part(fs, (uint64_t)b, 0, fs->block_size) : NULL;
        if (!blk)               /* (read in place; only the bytes that change are written) */
            return -EIO;
        for (uint32_t at = 0; at + 8 <= fs->block_size;) {
            uint32_t r_ino = le32(blk + at), r_len = le16(blk + at + 4);
            if (r_len < 8 || r_len % 4 || at + r_len > fs->block_size)
                return -EIO;
            uint32_t used = r_ino ? rec_need(blk[at + 6]) : 0;
            if (used > r_len)
                return -EIO;
            if (r_len >= used + need) {
                memset(scratch + at + used, 0, need);
                rec_put(at + used, ino, r_len - used, name, len, type);
                if (store(fs, (uint64_t)b, at + used, scratch + at + used, need) < 0)
                    return -EIO;
                if (used) {     /* the old record keeps what it needs: the new one is seen from now */
                    put16(scratch + at + 4, used);
                    if (store(fs, (uint64_t)b, at + 4, scratch + at + 4, 2) < 0)
                        return -EIO;
                }
                goto done;
            }
            at += r_len;
        }
    }
    {   /* no room: a new block, one record spanning it */
        int64_t b = bmap_make(fs, dir, nblocks, home(fs, dir->ino));
        if (b < 0) {
            ext2_inode_put(fs, dir);    /* (an indirect block it took on the way stays named) */
            return (int)b;
        }
        memset(scratch, 0, fs->block_size);
        rec_put(0, ino, fs->block_size, name, len, type);
        if (store(fs, (uint64_t)b, 0, scratch, fs->block_size) < 0)
            return -EIO;
        dir->size += fs->block_size;
    }
done:
    dir->flags &= ~EXT2_INDEX_FL;       /* (its hashed index, if any, no longer covers it: linear now) */
    return ext2_inode_put(fs, dir);
}

/*
 * Find the record `name` in dir: its block in *b, its offset in *at and the
 * offset of the record before it in the block in *prev (UINT32_MAX: the
 * block's first), to be changed; the two records' 8-byte headers are copied
 * to the same offsets of scratch (the blocks are read in place, not copied).
 * 0, -ENOENT, -EROFS (fs is read only), or -EIO.
 */
/* The 8-byte header of the record at byte `at` (a multiple of 4) of directory block blk, into scratch + at. */
static void header_copy(uint32_t at, const uint8_t *blk)
{
    put32(scratch + at, le32(blk + at));
    put32(scratch + at + 4, le32(blk + at + 4));
}

static int find_record(struct ext2 *fs, const struct ext2_inode *dir, const char *name, size_t len, int64_t *b,
                       uint32_t *at, uint32_t *prev)
{
    if (writable(fs) < 0)
        return -EROFS;
    uint64_t nblocks = dir->size / fs->block_size;
    for (uint64_t k = 0; k < nblocks; k++) {
        *b = ext2_bmap(fs, dir, k);
        const uint8_t *blk = *b > 0 ? ext2_block_part(fs, (uint64_t)*b, 0, fs->block_size) : NULL;
        if (!blk)
            return -EIO;
        *prev = UINT32_MAX;
        for (*at = 0; *at + 8 <= fs->block_size;) {
            uint32_t r_ino = le32(blk + *at), r_len = le16(blk + *at + 4);
            if (r_len < 8 || r_len % 4 || *at + r_len > fs->block_size || 8u + blk[*at + 6] > r_len)
                return -EIO;
            if (r_ino && blk[*at + 6] == len && memcmp(blk + *at + 8, name, len) == 0) {
                header_copy(*at, blk);          /* the two headers a caller changes */
                if (*prev != UINT32_MAX)
                    header_copy(*prev, blk);
                return 0;
            }
            *prev = *at;
            *at += r_len;
        }
    }
    return -ENOENT;
}

int ext2_dir_remove(struct ext2 *fs, struct ext2_inode *dir, const char *name, size_t len)
{
    int64_t b;
    uint32_t at, prev;
    int r = find_record(fs, dir, name, len, &b, &at, &prev);
    if (r < 0)
        return r;
    uint32_t where = prev != UINT32_MAX ? prev + 4 : at, len2 = prev != UINT32_MAX ? 2 : 4;
    uint8_t *p = change_in(fs, (uint64_t)b, where, len2);
    if (!p)
        return -EIO;
    if (prev != UINT32_MAX)     /* merged back into the record before it */
        put16(p, le16(scratch + prev + 4) + le16(scratch + at + 4));
    else                        /* the block's first record: unused */
        put32(p, 0);
    if (changed(fs, (uint64_t)b * fs->block_size + where, p, len2) < 0)
        return -EIO;
    if (!(dir->flags & EXT2_INDEX_FL))
        return 0;               /* (nothing of the directory's inode changed) */
    dir->flags &= ~EXT2_INDEX_FL;
    return ext2_inode_put(fs, dir);
}

int ext2_dir_set_ino(struct ext2 *fs, struct ext2_inode *dir, const char *name, size_t len, uint32_t ino,
                     uint8_t type)
{
    int64_t b;
    uint32_t at, prev;
    int r = find_record(fs, dir, name, len, &b, &at, &prev);
    if (r < 0)
        return r;
    uint8_t rec[8];
    put32(rec, ino);
    memcpy(rec + 4, scratch + at + 4, 3);
    rec[7] = fs->filetype ? type : 0;
    return store(fs, (uint64_t)b, at, rec, 8);     /* one write: the old name, the new inode */
}

int ext2_dir_init(struct ext2 *fs, struct ext2_inode *dir, uint32_t parent)
{
    if (writable(fs) < 0)
        return -EROFS;
    int64_t b = bmap_make(fs, dir, 0, home(fs, dir->ino));
    if (b < 0)
        return (int)b;
    memset(scratch, 0, fs->block_size);
    rec_put(0, dir->ino, 12, ".", 1, EXT2_FT_DIR);
    rec_put(12, parent, fs->block_size - 12, "..", 2, EXT2_FT_DIR);
    if (!fs->filetype)
        scratch[7] = scratch[12 + 7] = 0;
    if (store(fs, (uint64_t)b, 0, scratch, fs->block_size) < 0)
        return -EIO;
    dir->size = fs->block_size;
    return ext2_inode_put(fs, dir);
}

int ext2_dir_set_parent(struct ext2 *fs, const struct ext2_inode *dir, uint32_t parent)
{
    if (writable(fs) < 0)
        return -EROFS;
    int64_t b = ext2_bmap(fs, dir, 0);
    if (b <= 0 || load(fs, (uint64_t)b, 0, fs->block_size) < 0)
        return -EIO;
    uint32_t first = le16(scratch + 4);
    if (first < 12 || first + 12 > fs->block_size || scratch[first + 6] != 2 || scratch[first + 8] != '.' ||
        scratch[first + 9] != '.')
        return -EIO;            /* ".." is not the second record, as mke2fs and fsd make it */
    uint8_t w[4];
    put32(w, parent);
    return store(fs, (uint64_t)b, first, w, 4);
}

int ext2_symlink_set(struct ext2 *fs, struct ext2_inode *in, const char *target, size_t len)
{
    if (writable(fs) < 0)
        return -EROFS;
    if (len == 0 || len >= fs->block_size)
        return -ENAMETOOLONG;
    if (len < sizeof in->block) {
        uint8_t fast[sizeof in->block] = { 0 };     /* a fast link: the target in the block map */
        memcpy(fast, target, len);
        for (int i = 0; i < 15; i++)
            in->block[i] = le32(fast + 4 * i);
        in->size = len;
        return ext2_inode_put(fs, in);
    }
    int64_t r = ext2_write(fs, in, 0, target, len);
    return r == (int64_t)len ? 0 : r < 0 ? (int)r : -EIO;
}
