/*
 * user/fsd/ext2.h - the ext2 file system format (revision 1) as fsd reads it:
 * the superblock, group descriptors, inodes, block maps and directories,
 * read through a callback that gives the bytes of one block (or part of one)
 * at a time: fsd's reads the disk's memobj (the disk pager brings each page
 * in when it is first read); the host tests' copies out of an image file
 * into a buffer of exactly the size asked, so that a read past it is caught.
 *
 * Nothing here trusts the image: every block number, inode number, length and
 * directory record is checked against the file system's bounds before it is
 * used, and a bad one is -EIO, never a read outside the file system. Mounting
 * checks the superblock and every group descriptor and says what is wrong.
 *
 * No system calls and no allocation: the code builds for the host too
 * (tests/test_ext2.c runs it under AddressSanitizer on mke2fs images and on
 * mutations of them).
 */
#ifndef USER_FSD_EXT2_H
#define USER_FSD_EXT2_H

#include <stddef.h>
#include <stdint.h>

#define EXT2_ROOT_INO       2
#define EXT2_NDIR           12          /* direct block pointers in an inode */
#define EXT2_NAME_MAX       255

/* Inode modes (i_mode's type bits) and directory entry file types. */
#define EXT2_S_IFMT         0170000
#define EXT2_S_IFREG        0100000
#define EXT2_S_IFDIR        0040000
#define EXT2_S_IFLNK        0120000

/*
 * The bytes [off, off + len) of the disk: a pointer valid until the next call,
 * or NULL if they cannot be read (an I/O error). Calls never cross a 1 KiB
 * boundary before mounting (the superblock) or a block boundary after it.
 */
typedef const uint8_t *(*ext2_read_fn)(void *ctx, uint64_t off, uint32_t len);

/*
 * Write len bytes of buf at byte off of the disk (never across a block
 * boundary): 0, or -EIO. NULL in struct ext2: the file system is read only.
 */
typedef int (*ext2_write_fn)(void *ctx, uint64_t off, const void *buf, uint32_t len);

/*
 * The bytes [off, off + len) of the disk (never across a block boundary), to
 * be changed where they lie: a pointer valid until the next call, aligned as
 * the bytes are on the disk up to 8, whose bytes count as written from then
 * on; or NULL if they cannot be had that way (the
 * writer then reads them, changes a copy and writes it with ext2_write_fn,
 * which says whether the bytes could be read). May be NULL in struct ext2.
 */
typedef uint8_t *(*ext2_edit_fn)(void *ctx, uint64_t off, uint32_t len);

/*
 * Copy the len bytes at byte off of the disk into buf (any length, across
 * blocks): 0, or -EIO. Optional in struct ext2: when set, ext2_read reads a
 * file's blocks through it, a run of consecutive blocks in one call, so that
 * a caller whose ext2_read_fn keeps a cache of the file system's own blocks
 * need not pass file data through it.
 */
typedef int (*ext2_copy_fn)(void *ctx, uint64_t off, void *buf, uint64_t len);

/* One mounted file system: geometry from the superblock, checked. */
struct ext2 {
    ext2_read_fn read;
    ext2_write_fn write;        /* set by the caller after ext2_mount to change it (ext2_write.c) */
    ext2_edit_fn edit;          /* optional, with write: small changes made in place */
    ext2_copy_fn copy;          /* optional, set after ext2_mount: file bytes read so */
    void *ctx;
    uint64_t disk_size;
    uint32_t block_size;        /* 1024 << s_log_block_size: 1, 2 or 4 KiB */
    uint32_t blocks_count;
    uint32_t inodes_count;
    uint32_t first_data_block;
    uint32_t blocks_per_group, inodes_per_group;
    uint32_t inode_size;        /* 128 for revision 0, else s_inode_size */
    uint32_t groups;
    uint32_t first_ino;         /* the first inode for ordinary files (11) */
    uint32_t gdt_block;         /* where the group descriptors start */
    uint32_t ptrs;              /* block numbers per indirect block (block_size / 4) */
    int filetype;               /* INCOMPAT_FILETYPE: directory entries carry the type */
    int read_only;              /* a read-only-compatible feature fsd does not know */
};

/* An inode as fsd uses it (decoded from the disk's little-endian record). */
struct ext2_inode {
    uint32_t ino;
    uint16_t mode;              /* type | permissions */
    uint16_t links;
    uint32_t uid, gid;
    uint64_t size;              /* i_size | i_size_high << 32 (regular files) */
    uint32_t atime, ctime, mtime;
    uint32_t blocks512;         /* i_blocks: 512-byte units held, metadata included */
    uint32_t flags;
    uint32_t file_acl;
    uint32_t block[15];         /* 12 direct, single, double, triple indirect */
};

/* One directory entry as ext2_dir_next gives it. */
struct ext2_dirent {
    uint32_t ino;
    uint8_t type;               /* EXT2_FT_* (0 without the filetype feature) */
    uint8_t namelen;
    char name[EXT2_NAME_MAX + 1];   /* NUL-terminated */
};

enum { EXT2_FT_UNKNOWN, EXT2_FT_REG, EXT2_FT_DIR, EXT2_FT_CHR, EXT2_FT_BLK, EXT2_FT_FIFO,
       EXT2_FT_SOCK, EXT2_FT_SYMLINK };

/*
 * Mount the file system on a disk of `size` bytes read through read(ctx, ...):
 * 0, or -EINVAL with a one-line reason in why (at most whylen bytes): not
 * ext2, a revision, feature or block size fsd cannot read, geometry that does
 * not fit the disk, a group descriptor pointing outside its file system; -EIO
 * if the disk could not be read.
 */
int ext2_mount(struct ext2 *fs, ext2_read_fn read, void *ctx, uint64_t size, char *why, size_t whylen);

/* Inode ino decoded into *out: 0, or -EIO (ino 0 or past s_inodes_count, or unreadable). */
int ext2_inode_get(const struct ext2 *fs, uint32_t ino, struct ext2_inode *out);

/*
 * The disk block holding block `index` of the inode's data: 0 for a hole, a
 * block number, or -EIO (a pointer outside the file system, or an index past
 * what triple indirection reaches).
 */
int64_t ext2_bmap(const struct ext2 *fs, const struct ext2_inode *in, uint64_t index);

/*
 * Read len bytes at off of a regular file, directory or slow symlink into buf:
 * the bytes read (short at the end of the file; holes read as zeros), or -EIO.
 */
int64_t ext2_read(const struct ext2 *fs, const struct ext2_inode *in, uint64_t off, void *buf, uint64_t len);

/*
 * The next entry of directory `dir` from *pos (a byte offset; start at 0),
 * skipping unused records: 1 with *out filled and *pos past it, 0 at the end,
 * -EIO for a malformed record (a length that is short, unaligned, or crosses
 * its block; a name longer than the record; an inode number past the file
 * system's). Records are walked block by block, so a bad block ends the walk.
 */
int ext2_dir_next(const struct ext2 *fs, const struct ext2_inode *dir, uint64_t *pos, struct ext2_dirent *out);

/* What statfs reports: the superblock's counts. */
struct ext2_counts {
    uint64_t blocks, free_blocks, inodes, free_inodes;
};

/* The superblock's block and inode counts (free ones as last written): 0, or -EIO. */
int ext2_counts(const struct ext2 *fs, struct ext2_counts *out);

/* The inode number of `name` (len bytes) in directory dir: > 0, -ENOENT, or -EIO. */
int64_t ext2_lookup(const struct ext2 *fs, const struct ext2_inode *dir, const char *name, size_t len);

/*
 * A symbolic link's target into buf (cap bytes, not NUL-terminated): its
 * length, or -EIO (longer than cap or than a block, or unreadable). Fast links
 * keep the target in i_block itself.
 */
int64_t ext2_readlink(const struct ext2 *fs, const struct ext2_inode *in, char *buf, size_t cap);

/*
 * ---- Changing it (ext2_write.c) ----
 *
 * Each call needs fs->write (else -EROFS, as for a read-only-compatible
 * feature fsd does not know) and writes what it changed before it returns;
 * one caller at a time. Inodes are changed in memory and written with
 * ext2_inode_put (the calls below that change an inode write it themselves).
 * -ENOSPC: no free block or inode; -EIO: a malformed map or record on the
 * way, or a failed read or write.
 */

/* Write the fields struct ext2_inode holds back into in->ino's record (the others stay). */
int ext2_inode_put(struct ext2 *fs, const struct ext2_inode *in);

/*
 * A free inode, taken (from near's group on: the parent's, for locality), its
 * record cleared and given mode, links (2 for a directory, else 1) and the
 * time now: its number (*out filled), -ENOSPC or -EIO.
 */
int64_t ext2_inode_new(struct ext2 *fs, uint32_t near, uint16_t mode, uint32_t now, struct ext2_inode *out);

/*
 * Take the blocks (and indirect blocks) [off, off + len) of in needs, without
 * writing data, so that a later ext2_write there cannot fail for space: 0,
 * -ENOSPC (what was taken stays, named), or -EIO.
 */
int ext2_reserve(struct ext2 *fs, struct ext2_inode *in, uint64_t off, uint64_t len);

/* Give in's blocks and then the inode back (links 0, dtime now): 0 or -EIO. */
int ext2_inode_free(struct ext2 *fs, struct ext2_inode *in, uint32_t now);

/*
 * Write len bytes of buf at off of a regular file (or a slow link's target),
 * taking blocks (and indirect blocks) for holes: the bytes written (short if
 * the disk filled up, -ENOSPC if none), or -EIO. The size grows to cover them.
 */
int64_t ext2_write(struct ext2 *fs, struct ext2_inode *in, uint64_t off, const void *buf, uint64_t len);

/*
 * Make in `size` bytes long: shrinking frees every block (and indirect block)
 * past the new end and zeroes the rest of the last block; growing leaves a
 * hole. 0, or -EIO.
 */
int ext2_truncate(struct ext2 *fs, struct ext2_inode *in, uint64_t size);

/*
 * Add the record (name, len bytes) -> ino of file type `type` (EXT2_FT_*) to
 * directory dir: in the first record with room to spare, else in a new block.
 * The caller knows the name is not there. 0, -ENOSPC, -EINVAL (a bad name), -EIO.
 */
int ext2_dir_add(struct ext2 *fs, struct ext2_inode *dir, const char *name, size_t len, uint32_t ino, uint8_t type);

/* Take the record `name` out of dir (its space goes to the record before it): 0, -ENOENT, -EIO. */
int ext2_dir_remove(struct ext2 *fs, struct ext2_inode *dir, const char *name, size_t len);

/*
 * Point dir's record `name` at inode ino of file type `type` (a rename over
 * an existing name: nothing to allocate, so nothing can run out). 0,
 * -ENOENT, -EIO.
 */
int ext2_dir_set_ino(struct ext2 *fs, struct ext2_inode *dir, const char *name, size_t len, uint32_t ino,
                     uint8_t type);

/* A new directory's first block: "." (itself) and ".." (parent). 0, -ENOSPC, -EIO. */
int ext2_dir_init(struct ext2 *fs, struct ext2_inode *dir, uint32_t parent);

/* Point directory dir's ".." at parent (a rename into another directory): 0 or -EIO. */
int ext2_dir_set_parent(struct ext2 *fs, const struct ext2_inode *dir, uint32_t parent);

/* A symbolic link's target: in the block map if shorter than 60 bytes, else in a block. 0 or -errno. */
int ext2_symlink_set(struct ext2 *fs, struct ext2_inode *in, const char *target, size_t len);

#endif
