/*
 * user/fsd/ext2_layout.h - where ext2's fields lie on the disk (byte offsets
 * into the superblock, a group descriptor, an inode), little-endian access,
 * and the helpers the reader (ext2.c) and the writer (ext2_write.c) share.
 * Internal to those two files.
 */
#ifndef USER_FSD_EXT2_LAYOUT_H
#define USER_FSD_EXT2_LAYOUT_H

#include <stdint.h>
#include "user/fsd/ext2.h"

#define SB_OFFSET           1024
#define SB_MAGIC            0xef53

/* Superblock fields (byte offsets into it). */
enum {
    SB_INODES_COUNT = 0, SB_BLOCKS_COUNT = 4, SB_FREE_BLOCKS = 12, SB_FREE_INODES = 16,
    SB_FIRST_DATA_BLOCK = 20, SB_LOG_BLOCK_SIZE = 24,
    SB_BLOCKS_PER_GROUP = 32, SB_INODES_PER_GROUP = 40, SB_MAGIC_OFF = 56, SB_REV_LEVEL = 76,
    SB_FIRST_INO = 84, SB_INODE_SIZE = 88, SB_FEATURE_INCOMPAT = 96, SB_FEATURE_RO_COMPAT = 100,
    SB_WTIME = 48, SB_WANT_EXTRA_ISIZE = 348,
};

#define INCOMPAT_FILETYPE   0x0002u
#define RO_COMPAT_KNOWN     0x0007u     /* sparse_super, large_file, btree_dir (unused by Linux) */

/* Group descriptor fields (32 bytes each). */
enum {
    GD_BLOCK_BITMAP = 0, GD_INODE_BITMAP = 4, GD_INODE_TABLE = 8, GD_FREE_BLOCKS = 12, GD_FREE_INODES = 14,
    GD_USED_DIRS = 16, GD_SIZE = 32,
};

/* Inode fields. */
enum {
    IN_MODE = 0, IN_UID = 2, IN_SIZE = 4, IN_ATIME = 8, IN_CTIME = 12, IN_MTIME = 16, IN_GID = 24,
    IN_LINKS = 26, IN_BLOCKS = 28, IN_FLAGS = 32, IN_BLOCK = 40, IN_FILE_ACL = 104, IN_SIZE_HIGH = 108,
    IN_UID_HIGH = 120, IN_GID_HIGH = 122, IN_DTIME = 20, IN_EXTRA_ISIZE = 128,
};

#define EXT2_INDEX_FL       0x1000u     /* a directory with a hashed index (dir_index) */

/*
 * Little-endian fields. ext2's fields lie at offsets that are multiples of
 * their size within records that lie so too, so on a little-endian machine an
 * aligned field is one load or store (an inode's 30 fields were about 300
 * instructions a byte at a time); a misaligned one (a damaged directory's
 * record) goes a byte at a time.
 */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define EXT2_NATIVE_LE 1
#else
#define EXT2_NATIVE_LE 0
#endif

static inline uint16_t le16(const uint8_t *p)
{
    if (EXT2_NATIVE_LE && !((uintptr_t)p & 1)) {
        uint16_t v;
        __builtin_memcpy(&v, __builtin_assume_aligned(p, 2), 2);   /* (one load; no aliasing question) */
        return v;
    }
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le32(const uint8_t *p)
{
    if (EXT2_NATIVE_LE && !((uintptr_t)p & 3)) {
        uint32_t v;
        __builtin_memcpy(&v, __builtin_assume_aligned(p, 4), 4);
        return v;
    }
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void put16(uint8_t *p, uint32_t v)
{
    if (EXT2_NATIVE_LE && !((uintptr_t)p & 1)) {
        uint16_t h = (uint16_t)v;
        __builtin_memcpy(__builtin_assume_aligned(p, 2), &h, 2);
        return;
    }
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void put32(uint8_t *p, uint32_t v)
{
    if (EXT2_NATIVE_LE && !((uintptr_t)p & 3)) {
        __builtin_memcpy(__builtin_assume_aligned(p, 4), &v, 4);
        return;
    }
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* len bytes at byte `at` of block b, or NULL if b is 0 or past the file system, or unreadable. */
const uint8_t *ext2_block_part(const struct ext2 *fs, uint64_t b, uint32_t at, uint32_t len);

/* Group g's descriptor (GD_SIZE bytes), or NULL if unreadable. */
const uint8_t *ext2_group_desc(const struct ext2 *fs, uint32_t g);

#endif
