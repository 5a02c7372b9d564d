/*
 * tests/test_ext2.c - host tests for fsd's ext2 reader (user/fsd/ext2.c).
 *
 * Each case that needs an image makes one the way the build makes
 * build/disk.img: a folder of files written here (known bytes, a hard link,
 * fast and slow symbolic links, a directory of 300 entries, a file reaching
 * double indirect blocks and a sparse one reaching triple indirect blocks at
 * 1 KiB blocks), then Debian's `mke2fs -t ext2 -d`, at 1 KiB and at 4 KiB
 * blocks. The reader must give back every byte and name; then thousands of
 * seeded mutations of the image's metadata are mounted and walked whole,
 * every file read. The reader's callback copies each piece it asks for
 * into a buffer malloc'ed at exactly that size, so AddressSanitizer reports
 * any read past a block (or past the piece of one that was asked for).
 *
 * argv[1] (the DTB path make test passes) is not used.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kernel/ktest.h"
#include "user/fsd/ext2.h"

#define MANY            300         /* entries of /many: a directory of several blocks */
#define BIG_SIZE        (300u * 1024 + 123)     /* past 12 + 256 blocks of 1 KiB: double indirect */
#define SPARSE_AT       (70ull << 20)           /* past 12 + 256 + 65536 KiB: triple indirect */
#define HOLEY           4096                    /* "holey": data, a hole, data, each this long */
static const uint8_t zeros8[8];
#define SLOW_TARGET     "a/target/that/is/longer/than/sixty/bytes/so/it/needs/a/block/of/its/own/x"

static char tree[64];           /* the folder given to mke2fs */

/* Byte i of file `seed`'s contents. */
static uint8_t pattern(unsigned seed, uint64_t i)
{
    uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ seed * 0xbf58476d1ce4e5b9ull;
    return (uint8_t)(x >> 29 ^ x >> 47);
}

static int write_file(const char *rel, unsigned seed, uint64_t size)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tree, rel);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    for (uint64_t i = 0; i < size; i++)
        fputc(pattern(seed, i), f);
    return fclose(f);
}

static int sub(const char *fmt, const char *arg)
{
    char path[256];
    snprintf(path, sizeof path, fmt, tree, arg);
    return mkdir(path, 0755);
}

/* The folder: made once, for every image. 0 or -1. */
static int make_tree(void)
{
    if (tree[0])
        return 0;
    snprintf(tree, sizeof tree, "/tmp/test_ext2.XXXXXX");
    if (!mkdtemp(tree))
        return -1;
    char path[256], target[256];
    int bad = sub("%s/%s", "dir") | sub("%s/%s", "dir/sub") | sub("%s/%s", "many");
    bad |= write_file("hello.txt", 1, 13) | write_file("dir/sub/deep.txt", 2, 5000) |
           write_file("big", 3, BIG_SIZE) | write_file("empty", 4, 0);
    for (int i = 0; i < MANY; i++) {
        snprintf(path, sizeof path, "many/entry-with-a-long-name-%04d", i);
        bad |= write_file(path, 100 + (unsigned)i, (uint64_t)i);
    }
    snprintf(path, sizeof path, "%s/sparse", tree);
    FILE *f = fopen(path, "wb");
    bad |= !f || fseek(f, (long)SPARSE_AT, SEEK_SET) || fputc('Z', f) == EOF || fclose(f);
    snprintf(path, sizeof path, "%s/holey", tree);     /* 4 KiB, a 4 KiB hole, 4 KiB: the two */
    f = fopen(path, "wb");                              /* data runs lie next to each other on the disk */
    for (int i = 0; f && i < HOLEY; i++)
        fputc(pattern(5, (uint64_t)i), f);
    bad |= !f || fseek(f, 2 * HOLEY, SEEK_SET);
    for (int i = 0; f && i < HOLEY; i++)
        fputc(pattern(6, (uint64_t)i), f);
    bad |= !f || fclose(f);
    snprintf(path, sizeof path, "%s/fast", tree);
    bad |= symlink("hello.txt", path);
    snprintf(path, sizeof path, "%s/slow", tree);
    bad |= symlink(SLOW_TARGET, path);
    snprintf(path, sizeof path, "%s/hello.txt", tree);
    snprintf(target, sizeof target, "%s/dir/hard", tree);
    bad |= link(path, target);
    return bad ? -1 : 0;
}

/* An image of the folder at block size bs, malloc'ed at its exact size: its bytes (*size), or NULL. */
static uint8_t *make_image(unsigned bs, uint64_t *size)
{
    if (make_tree() < 0)
        return NULL;
    char img[96], cmd[512];
    snprintf(img, sizeof img, "%s.img%u", tree, bs);
    snprintf(cmd, sizeof cmd, "PATH=/usr/sbin:/sbin:$PATH mke2fs -q -F -t ext2 -b %u -N 512 -d %s %s 8M >/dev/null", bs, tree,
             img);
    if (system(cmd) != 0)
        return NULL;
    FILE *f = fopen(img, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *size = (uint64_t)ftell(f);
    rewind(f);
    uint8_t *p = malloc(*size);
    if (p && fread(p, 1, *size, f) != *size) {
        free(p);
        p = NULL;
    }
    fclose(f);
    unlink(img);
    return p;
}

/* The image the reader reads (make_image's) and its size. */
struct image {
    uint8_t *bytes;
    uint64_t size;
    uint8_t *piece;             /* the last piece handed out */
};

static const uint8_t *read_piece(void *ctx, uint64_t off, uint32_t len)
{
    struct image *im = ctx;
    free(im->piece);
    im->piece = NULL;
    if (off > im->size || len > im->size - off || len == 0)
        return NULL;
    im->piece = malloc(len);
    if (im->piece)
        memcpy(im->piece, im->bytes + off, len);
    return im->piece;
}

/* ext2_copy_fn from the image, counted; it fails once copy_fail_at calls have been made (0: never). */
static unsigned copy_calls, copy_fail_at;

static int copy_piece(void *ctx, uint64_t off, void *buf, uint64_t len)
{
    struct image *im = ctx;
    if (++copy_calls == copy_fail_at || off > im->size || len > im->size - off)
        return -EIO;
    memcpy(buf, im->bytes + off, len);
    return 0;
}

static int mount(struct ext2 *fs, struct image *im, char *why, size_t whylen)
{
    return ext2_mount(fs, read_piece, im, im->size, why, whylen);
}

/* ext2_write_fn into the image (a write across a block would be a writer's bug: refused). */
static int write_piece(void *ctx, uint64_t off, const void *buf, uint32_t len)
{
    struct image *im = ctx;
    if (off > im->size || len > im->size - off || len > 4096)
        return -EIO;
    memcpy(im->bytes + off, buf, len);
    return 0;
}

/*
 * ext2_edit_fn on the image: the bytes themselves, except every third call
 * when `some` is set (NULL: the writer copies and writes), so one run takes
 * both of the writer's ways of changing a piece.
 */
static int edit_some;

static uint8_t *edit_piece(void *ctx, uint64_t off, uint32_t len)
{
    static unsigned calls;
    struct image *im = ctx;
    if (off > im->size || len > im->size - off || len > 4096 || (edit_some && ++calls % 3 == 0))
        return NULL;
    return im->bytes + off;
}

/* Inode of path (from the root, no symlinks followed): its number, or < 0. */
static int64_t walk(const struct ext2 *fs, const char *path, struct ext2_inode *out)
{
    int64_t ino = EXT2_ROOT_INO;
    if (ext2_inode_get(fs, (uint32_t)ino, out) < 0)
        return -EIO;
    while (*path) {
        const char *slash = strchr(path, '/');
        size_t len = slash ? (size_t)(slash - path) : strlen(path);
        ino = ext2_lookup(fs, out, path, len);
        if (ino < 0 || ext2_inode_get(fs, (uint32_t)ino, out) < 0)
            return ino < 0 ? ino : -EIO;
        path += len + (slash != NULL);
    }
    return ino;
}

/* Does the file at path hold `size` bytes of pattern `seed`? */
static int file_is(const struct ext2 *fs, const char *path, unsigned seed, uint64_t size)
{
    struct ext2_inode in;
    if (walk(fs, path, &in) < 0 || in.size != size)
        return 0;
    uint8_t *buf = malloc(size + 1);
    int ok = buf && ext2_read(fs, &in, 0, buf, size + 1) == (int64_t)size;
    for (uint64_t i = 0; ok && i < size; i++)
        ok = buf[i] == pattern(seed, i);
    free(buf);
    return ok;
}

static void check_image(unsigned bs)
{
    static struct image im;
    im.bytes = make_image(bs, &im.size);
    KT_ASSERT(im.bytes != NULL);
    struct ext2 fs;
    char why[128] = "";
    KT_ASSERT(mount(&fs, &im, why, sizeof why) == 0);
    KT_EXPECT_EQ(fs.block_size, bs);
    KT_EXPECT(fs.filetype);
    KT_EXPECT(file_is(&fs, "hello.txt", 1, 13));
    KT_EXPECT(file_is(&fs, "dir/sub/deep.txt", 2, 5000));
    KT_EXPECT(file_is(&fs, "big", 3, BIG_SIZE));
    KT_EXPECT(file_is(&fs, "empty", 4, 0));
    KT_EXPECT(file_is(&fs, "many/entry-with-a-long-name-0299", 399, 299));

    struct ext2_inode a, b;
    KT_EXPECT(walk(&fs, "hello.txt", &a) == walk(&fs, "dir/hard", &b));   /* a hard link */
    KT_EXPECT_EQ(a.links, 2);

    /* The sparse file: a hole of 70 MiB (zeros), one byte, and only a few blocks held. */
    struct ext2_inode sp;
    KT_ASSERT(walk(&fs, "sparse", &sp) > 0);
    KT_EXPECT_EQ(sp.size, SPARSE_AT + 1);
    uint8_t tail[2] = { 1, 1 };
    KT_EXPECT(ext2_read(&fs, &sp, SPARSE_AT - 1, tail, 2) == 2 && tail[0] == 0 && tail[1] == 'Z');
    KT_EXPECT(ext2_bmap(&fs, &sp, 5) == 0);
    KT_EXPECT(ext2_bmap(&fs, &sp, SPARSE_AT / bs) > 0);
    KT_EXPECT(sp.blocks512 <= 5u * bs / 512);
    if (bs == 1024)
        KT_EXPECT(sp.block[14] != 0);   /* reached through triple indirection */

    char target[256];
    struct ext2_inode l;
    KT_ASSERT(walk(&fs, "fast", &l) > 0);
    KT_EXPECT((l.mode & EXT2_S_IFMT) == EXT2_S_IFLNK);
    KT_EXPECT(ext2_readlink(&fs, &l, target, sizeof target) == 9 && memcmp(target, "hello.txt", 9) == 0);
    KT_ASSERT(walk(&fs, "slow", &l) > 0);
    int64_t n = ext2_readlink(&fs, &l, target, sizeof target);
    KT_EXPECT(n == (int64_t)strlen(SLOW_TARGET) && memcmp(target, SLOW_TARGET, (size_t)n) == 0);
    KT_EXPECT(ext2_readlink(&fs, &l, target, 10) == -EIO);     /* longer than the buffer */

    /* /many: every name exactly once, in a directory of several blocks. */
    struct ext2_inode d;
    KT_ASSERT(walk(&fs, "many", &d) > 0);
    KT_EXPECT(d.size > bs);
    static uint8_t seen[MANY];
    memset(seen, 0, sizeof seen);
    struct ext2_dirent e;
    uint64_t pos = 0;
    int count = 0, r, i;
    while ((r = ext2_dir_next(&fs, &d, &pos, &e)) > 0) {
        count++;
        if (sscanf(e.name, "entry-with-a-long-name-%d", &i) == 1 && i >= 0 && i < MANY)
            seen[i]++;
    }
    KT_EXPECT_EQ(r, 0);
    KT_EXPECT_EQ(count, MANY + 2);      /* and "." and ".." */
    for (i = 0; i < MANY; i++)
        KT_EXPECT_EQ(seen[i], 1);
    KT_EXPECT(walk(&fs, "many/nothing", &d) == -ENOENT);
    KT_EXPECT(ext2_inode_get(&fs, 0, &d) == -EIO);
    KT_EXPECT(ext2_inode_get(&fs, fs.inodes_count + 1, &d) == -EIO);

    /* The same files read through ext2_copy_fn: the same bytes, a run of blocks a call. */
    fs.copy = copy_piece;
    copy_calls = copy_fail_at = 0;
    KT_EXPECT(file_is(&fs, "big", 3, BIG_SIZE));
    KT_EXPECT(copy_calls >= 1 && copy_calls <= 8);      /* (the indirect blocks break the runs) */
    KT_EXPECT(file_is(&fs, "hello.txt", 1, 13));
    KT_EXPECT(file_is(&fs, "dir/sub/deep.txt", 2, 5000));
    tail[0] = tail[1] = 1;
    KT_EXPECT(ext2_read(&fs, &sp, SPARSE_AT - 1, tail, 2) == 2 && tail[0] == 0 && tail[1] == 'Z');
    static uint8_t hb[3 * HOLEY];
    memset(hb, 0xee, sizeof hb);        /* (what a byte never written would show) */
    int holey_ok = walk(&fs, "holey", &a) > 0 && ext2_bmap(&fs, &a, 2 * HOLEY / bs) == ext2_bmap(&fs, &a, HOLEY / bs - 1) + 1;
    KT_EXPECT(holey_ok);                /* (mke2fs put the two runs together, as the case needs) */
    KT_EXPECT(ext2_read(&fs, &a, 0, hb, sizeof hb) == (int64_t)sizeof hb);
    for (int k = 0; k < HOLEY; k++)
        holey_ok &= hb[k] == pattern(5, (uint64_t)k) && hb[HOLEY + k] == 0 && hb[2 * HOLEY + k] == pattern(6, (uint64_t)k);
    KT_EXPECT(holey_ok);
    copy_calls = 0;
    copy_fail_at = 2;                   /* the second run cannot be read: the read fails */
    KT_EXPECT(walk(&fs, "big", &a) > 0);
    static uint8_t whole[BIG_SIZE];
    KT_EXPECT_EQ(ext2_read(&fs, &a, 0, whole, sizeof whole), -EIO);
    copy_fail_at = 0;
    free(im.bytes);
}

static void reads_1k(void)
{
    check_image(1024);
}

static void reads_4k(void)
{
    check_image(4096);
}

/* Mount refusals: each says why. */
static void refuses(void)
{
    uint64_t size;
    uint8_t *img = make_image(1024, &size);
    KT_ASSERT(img != NULL);
    struct ext2 fs;
    char why[128];
    struct image im = { .size = size };
    struct { uint32_t off, value, width; const char *reason; } cases[] = {
        { 1024 + 56, 0x1234, 2, "magic" },
        { 1024 + 24, 3, 4, "4 KiB" },
        { 1024 + 4, 1u << 30, 4, "larger than the disk" },
        { 1024 + 96, 0x40 | 0x2, 4, "incompatible" },
        { 1024 + 76, 2, 4, "revision" },
        { 1024 + 88, 100, 2, "inode size" },
        { 1024 + 32, 1u << 20, 4, "bitmap" },
        { 1024 + 84, 1, 4, "s_first_ino" },
        { 2048 + 8, 0xfffffff0u, 4, "group descriptor" },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t *copy = malloc(size);
        KT_ASSERT(copy != NULL);
        memcpy(copy, img, size);
        for (uint32_t k = 0; k < cases[c].width; k++)
            copy[cases[c].off + k] = (uint8_t)(cases[c].value >> (8 * k));
        why[0] = 0;
        im.bytes = copy;
        KT_EXPECT(mount(&fs, &im, why, sizeof why) == -EINVAL);
        KT_EXPECT(strstr(why, cases[c].reason) != NULL);
        free(copy);
    }
    im.bytes = img;
    im.size = 1500;
    KT_EXPECT(mount(&fs, &im, why, sizeof why) == -EINVAL);
    free(img);
    free(im.piece);
}

/* Where inode ino's record is in the image (as ext2_inode_get finds it). */
static uint8_t *inode_rec(const struct ext2 *fs, uint8_t *img, uint32_t ino)
{
    uint32_t g = (ino - 1) / fs->inodes_per_group, idx = (ino - 1) % fs->inodes_per_group;
    const uint8_t *gd = img + (uint64_t)fs->gdt_block * fs->block_size + g * 32u;
    uint32_t table = (uint32_t)gd[8] | (uint32_t)gd[9] << 8 | (uint32_t)gd[10] << 16 | (uint32_t)gd[11] << 24;
    return img + (uint64_t)table * fs->block_size + (uint64_t)idx * fs->inode_size;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Hostile records, each on its own: the reader says EIO and reads nothing outside the file system. */
static void hostile(void)
{
    uint64_t size;
    uint8_t *img = make_image(1024, &size);
    KT_ASSERT(img != NULL);
    struct ext2 fs;
    struct ext2_inode d, f;
    static struct image im;
    im.bytes = img;
    im.size = size;
    KT_ASSERT(mount(&fs, &im, NULL, 0) == 0);
    int64_t dino = walk(&fs, "dir", &d), fino = walk(&fs, "big", &f);
    KT_ASSERT(dino > 0 && fino > 0);
    uint8_t *rec = img + (uint64_t)d.block[0] * fs.block_size;     /* /dir's records: ".", "..", ... */
    uint8_t saved[1024], ino_saved[256];
    memcpy(saved, rec, sizeof saved);
    struct ext2_dirent e;
    uint64_t pos;

    rec[4 + 12] = 0xf0, rec[5 + 12] = 0x07;    /* ".." 's rec_len: 2032, past the block */
    pos = 0;
    KT_EXPECT(ext2_dir_next(&fs, &d, &pos, &e) == 1 && ext2_dir_next(&fs, &d, &pos, &e) == -EIO);
    memcpy(rec, saved, sizeof saved);
    rec[4 + 12] = 6;                            /* short and unaligned */
    pos = 12;
    KT_EXPECT(ext2_dir_next(&fs, &d, &pos, &e) == -EIO);
    memcpy(rec, saved, sizeof saved);
    rec[12 + 6] = 200;                          /* a name longer than its record */
    pos = 12;
    KT_EXPECT(ext2_dir_next(&fs, &d, &pos, &e) == -EIO);
    memcpy(rec, saved, sizeof saved);
    put32(rec + 12, fs.inodes_count + 1);       /* an inode number out of range */
    pos = 12;
    KT_EXPECT(ext2_dir_next(&fs, &d, &pos, &e) == -EIO);
    memcpy(rec, saved, sizeof saved);

    uint8_t *ir = inode_rec(&fs, img, (uint32_t)fino), buf[1024];
    memcpy(ino_saved, ir, fs.inode_size);
    put32(ir + 40, fs.blocks_count + 5);        /* a direct block past the file system */
    KT_EXPECT(ext2_inode_get(&fs, (uint32_t)fino, &f) == 0 && ext2_read(&fs, &f, 0, buf, 10) == -EIO);
    memcpy(ir, ino_saved, fs.inode_size);
    put32(ir + 40 + 4 * 13, 0xffffffffu);       /* the double indirect block's number */
    KT_EXPECT(ext2_inode_get(&fs, (uint32_t)fino, &f) == 0 &&
              ext2_read(&fs, &f, (12 + 256) * 1024ull, buf, 10) == -EIO);
    memcpy(ir, ino_saved, fs.inode_size);
    uint8_t *ind = img + (uint64_t)f.block[12] * fs.block_size;
    put32(ind + 8, fs.blocks_count);            /* an entry of the single indirect block */
    KT_EXPECT(ext2_read(&fs, &f, (12 + 2) * 1024ull, buf, 10) == -EIO);
    KT_EXPECT(ext2_read(&fs, &f, (12 + 1) * 1024ull, buf, 10) == 10);  /* its neighbour still reads */
    put32(ir + 4, 0xffffffffu);                 /* a size far past the blocks */
    put32(ir + 108, 0xffffffffu);
    KT_EXPECT(ext2_inode_get(&fs, (uint32_t)fino, &f) == 0 && ext2_read(&fs, &f, 1ull << 45, buf, 10) == -EIO);
    KT_EXPECT(ext2_bmap(&fs, &f, 1ull << 40) == -EIO);     /* past triple indirection */
    free(img);
}

/* ---- the writer ---- */

/* Run a shell command on the image saved to a file; its exit status, its output in out. */
static int on_image(const struct image *im, const char *fmt, char *out, size_t cap)
{
    char img[96], cmd[400];
    snprintf(img, sizeof img, "%s.w.img", tree);
    FILE *f = fopen(img, "wb");
    if (!f || fwrite(im->bytes, 1, im->size, f) != im->size || fclose(f) != 0)
        return -1;
    snprintf(cmd, sizeof cmd, fmt, img);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, cap - 1, p) : 0;
    out[n] = 0;
    int st = p ? pclose(p) : -1;
    unlink(img);
    return st;
}

/* A new inode of mode in dir (by its inode), linked as name: its number, or < 0. */
static int64_t make(struct ext2 *fs, struct ext2_inode *dir, const char *name, uint16_t mode, struct ext2_inode *out)
{
    int64_t ino = ext2_inode_new(fs, dir->ino, mode, 1700000000, out);
    if (ino < 0)
        return ino;
    int dirmode = (mode & EXT2_S_IFMT) == EXT2_S_IFDIR;
    if (dirmode && ext2_dir_init(fs, out, dir->ino) < 0)
        return -EIO;
    uint8_t type = dirmode ? EXT2_FT_DIR : (mode & EXT2_S_IFMT) == EXT2_S_IFLNK ? EXT2_FT_SYMLINK : EXT2_FT_REG;
    if (ext2_dir_add(fs, dir, name, strlen(name), (uint32_t)ino, type) < 0)
        return -EIO;
    if (dirmode) {
        dir->links++;
        if (ext2_inode_put(fs, dir) < 0)
            return -EIO;
    }
    return ino;
}

/* Unlink name from dir: the record goes, and the inode with its last link. */
static int drop(struct ext2 *fs, struct ext2_inode *dir, const char *name)
{
    struct ext2_inode in;
    int64_t ino = ext2_lookup(fs, dir, name, strlen(name));
    if (ino < 0 || ext2_inode_get(fs, (uint32_t)ino, &in) < 0 || ext2_dir_remove(fs, dir, name, strlen(name)) < 0)
        return -1;
    if ((in.mode & EXT2_S_IFMT) == EXT2_S_IFDIR) {
        dir->links--;
        if (ext2_inode_put(fs, dir) < 0)
            return -1;
        in.links = 0;
    } else {
        in.links--;
    }
    return in.links ? ext2_inode_put(fs, &in) : ext2_inode_free(fs, &in, 1700000001);
}

/* The writer's cases at block size bs; edit: 0 (copies written), 1 (in place), 2 (both, mixed). */
static void check_writes(unsigned bs, int edit)
{
    static struct image im;     /* (static, freed at the next call: a failed ASSERT leaks nothing) */
    free(im.piece);
    free(im.bytes);
    im.piece = NULL;
    im.bytes = make_image(bs, &im.size);
    KT_ASSERT(im.bytes != NULL);
    struct ext2 fs;
    struct ext2_inode root, nd, f, l, d, sub;
    KT_ASSERT(mount(&fs, &im, NULL, 0) == 0);
    fs.write = write_piece;
    fs.edit = edit ? edit_piece : NULL;
    edit_some = edit == 2;
    KT_ASSERT(ext2_inode_get(&fs, EXT2_ROOT_INO, &root) == 0);

    static uint8_t data[600 * 1024];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = pattern(50, i);
    KT_ASSERT(make(&fs, &root, "new.txt", EXT2_S_IFREG | 0644, &f) > 0);
    KT_EXPECT(ext2_write(&fs, &f, 0, data, 5000) == 5000);
    KT_ASSERT(make(&fs, &root, "newdir", EXT2_S_IFDIR | 0755, &nd) > 0);
    KT_ASSERT(make(&fs, &nd, "big", EXT2_S_IFREG | 0600, &f) > 0);
    KT_EXPECT(ext2_write(&fs, &f, 0, data, sizeof data) == (int64_t)sizeof data);      /* double indirect */
    KT_EXPECT(ext2_truncate(&fs, &f, 100 * 1024 + 7) == 0);                             /* shrunk */
    KT_EXPECT(ext2_write(&fs, &f, 3ull << 20, "tail", 4) == 4);                          /* a hole, then 4 bytes */
    char name[64];
    for (int i = 0; i < 150; i++) {        /* (the image has 512 inodes, 320 in use) */
        snprintf(name, sizeof name, "file-with-a-long-name-%03d", i);
        KT_ASSERT(make(&fs, &nd, name, EXT2_S_IFREG | 0644, &f) > 0);
        KT_EXPECT(ext2_write(&fs, &f, 0, name, strlen(name)) == (int64_t)strlen(name));
    }
    for (int i = 0; i < 150; i += 2) {
        snprintf(name, sizeof name, "file-with-a-long-name-%03d", i);
        KT_EXPECT(drop(&fs, &nd, name) == 0);
    }
    KT_ASSERT(make(&fs, &nd, "fast", EXT2_S_IFLNK | 0777, &l) > 0);
    KT_EXPECT(ext2_symlink_set(&fs, &l, "big", 3) == 0);
    KT_ASSERT(make(&fs, &nd, "slow", EXT2_S_IFLNK | 0777, &l) > 0);
    KT_EXPECT(ext2_symlink_set(&fs, &l, SLOW_TARGET, strlen(SLOW_TARGET)) == 0);
    KT_ASSERT(walk(&fs, "dir", &d) > 0);
    KT_EXPECT(drop(&fs, &d, "hard") == 0);              /* hello.txt keeps one link */
    KT_EXPECT(drop(&fs, &root, "big") == 0);            /* its blocks all go back */
    KT_EXPECT(drop(&fs, &root, "sparse") == 0);         /* triple indirect at 1 KiB blocks */
    /* rename /dir/sub to /newdir/sub2: a directory moving, with its ".." and both link counts */
    int64_t sino = walk(&fs, "dir/sub", &sub);
    KT_ASSERT(sino > 0 && walk(&fs, "dir", &d) > 0 && walk(&fs, "newdir", &nd) > 0);
    KT_EXPECT(ext2_dir_add(&fs, &nd, "sub2", 4, (uint32_t)sino, EXT2_FT_DIR) == 0);
    KT_EXPECT(ext2_dir_remove(&fs, &d, "sub", 3) == 0);
    KT_EXPECT(ext2_dir_set_parent(&fs, &sub, nd.ino) == 0);
    d.links--;
    nd.links++;
    KT_EXPECT(ext2_inode_put(&fs, &d) == 0 && ext2_inode_put(&fs, &nd) == 0);

    /* Read back through the reader... */
    KT_EXPECT(file_is(&fs, "hello.txt", 1, 13));
    KT_EXPECT(file_is(&fs, "newdir/sub2/deep.txt", 2, 5000));
    KT_EXPECT(walk(&fs, "dir/hard", &f) == -ENOENT && walk(&fs, "big", &f) == -ENOENT);
    KT_ASSERT(walk(&fs, "hello.txt", &f) > 0);
    KT_EXPECT_EQ(f.links, 1);
    KT_ASSERT(walk(&fs, "newdir/big", &f) > 0);
    KT_EXPECT_EQ(f.size, (3ull << 20) + 4);
    static uint8_t back[100 * 1024 + 7];
    uint8_t tail[8] = { 1 };
    KT_EXPECT(ext2_read(&fs, &f, 0, back, sizeof back) == (int64_t)sizeof back && memcmp(back, data, sizeof back) == 0);
    KT_EXPECT(ext2_read(&fs, &f, sizeof back, tail, 8) == 8 && memcmp(tail, zeros8, 8) == 0);   /* cut, then zeros */
    KT_EXPECT(ext2_read(&fs, &f, 3ull << 20, tail, 8) == 4 && memcmp(tail, "tail", 4) == 0);
    KT_ASSERT(walk(&fs, "newdir/slow", &l) > 0);
    char t[200];
    int64_t n = ext2_readlink(&fs, &l, t, sizeof t);
    KT_EXPECT(n == (int64_t)strlen(SLOW_TARGET) && memcmp(t, SLOW_TARGET, (size_t)n) == 0);
    KT_ASSERT(walk(&fs, "newdir/fast", &l) > 0);
    KT_EXPECT(ext2_readlink(&fs, &l, t, sizeof t) == 3 && memcmp(t, "big", 3) == 0);
    KT_EXPECT(walk(&fs, "newdir/file-with-a-long-name-149", &f) > 0 && walk(&fs, "newdir/file-with-a-long-name-148", &f) == -ENOENT);

    /* ...and by e2fsprogs: e2fsck finds nothing to fix, debugfs reads the same bytes. */
    static char out[8192];
    int st = on_image(&im, "PATH=/usr/sbin:/sbin:$PATH e2fsck -fn %s 2>&1", out, sizeof out);
    if (st != 0)
        printf("# e2fsck:\n%s", out);
    KT_EXPECT_EQ(st, 0);
    st = on_image(&im, "PATH=/usr/sbin:/sbin:$PATH debugfs -R 'cat /newdir/file-with-a-long-name-101' %s 2>/dev/null",
                  out, sizeof out);
    KT_EXPECT(st == 0 && strcmp(out, "file-with-a-long-name-101") == 0);
    free(im.bytes);
    im.bytes = NULL;
}

static void writes_1k(void)
{
    check_writes(1024, 0);
}

static void writes_4k(void)
{
    check_writes(4096, 0);
}

static void writes_1k_in_place(void)
{
    check_writes(1024, 1);
}

static void writes_4k_in_place_and_copied(void)
{
    check_writes(4096, 2);
}

/* ---- the fuzz ---- */

struct walk_counts {
    unsigned mounted, dirs, entries, files_read, eio;
};

/* Read everything under directory in (depth levels at most), touching every byte the reader gives. */
static void walk_all(const struct ext2 *fs, const struct ext2_inode *dir, int depth, struct walk_counts *c)
{
    static uint8_t buf[65536];
    struct ext2_dirent e;
    uint64_t pos = 0;
    int r, budget = 400;
    c->dirs++;
    while (budget-- > 0 && (r = ext2_dir_next(fs, dir, &pos, &e)) > 0) {
        c->entries++;
        struct ext2_inode in;
        if (e.name[0] == '.' || ext2_inode_get(fs, e.ino, &in) < 0)
            continue;
        uint16_t type = in.mode & EXT2_S_IFMT;
        if (type == EXT2_S_IFDIR && depth > 0) {
            walk_all(fs, &in, depth - 1, c);
        } else if (type == EXT2_S_IFLNK) {
            char t[256];
            if (ext2_readlink(fs, &in, t, sizeof t) < 0)
                c->eio++;
        } else {
            for (uint64_t off = 0; off < (1u << 20); off += sizeof buf) {
                int64_t n = ext2_read(fs, &in, off, buf, sizeof buf);
                if (n < 0)
                    c->eio++;
                if (n <= 0)
                    break;
            }
            c->files_read++;
        }
    }
    if (r < 0)
        c->eio++;
}

/* What one mutation changed, to put back. */
struct undo {
    int n;
    uint64_t at[4];
    uint8_t old[4];
};

/* Change a few bytes of the metadata (the first `span` bytes: superblock, groups, tables, directories). */
static void mutate(uint8_t *b, uint64_t span, unsigned *rng, struct undo *u)
{
    u->n = 1 + (int)(rand_r(rng) % 4);
    for (int i = 0; i < u->n; i++) {
        uint64_t at = (uint64_t)rand_r(rng) * 7919 % span;
        u->at[i] = at;
        u->old[i] = b[at];
        switch (rand_r(rng) % 4) {
        case 0: b[at] ^= (uint8_t)(1 << rand_r(rng) % 8); break;
        case 1: b[at] = (uint8_t)rand_r(rng); break;
        case 2: b[at] = 0xff; break;
        default: b[at] = 0; break;
        }
    }
}

static void undo(uint8_t *b, const struct undo *u)
{
    for (int i = u->n - 1; i >= 0; i--)
        b[u->at[i]] = u->old[i];
}

#define MUTATIONS 3000

static void fuzz(unsigned bs)
{
    uint64_t size;
    uint8_t *img = make_image(bs, &size);
    KT_ASSERT(img != NULL);
    struct ext2 fs;
    struct ext2_inode root;
    struct walk_counts c = { 0 };
    static struct image im;
    im.bytes = img;
    im.size = size;
    KT_ASSERT(mount(&fs, &im, NULL, 0) == 0 && ext2_inode_get(&fs, EXT2_ROOT_INO, &root) == 0);
    walk_all(&fs, &root, 8, &c);
    KT_EXPECT_EQ(c.eio, 0);             /* the intact image reads whole */
    uint64_t span = 160 * 1024;         /* where mke2fs puts the metadata and the small directories */
    unsigned rng = bs;
    memset(&c, 0, sizeof c);
    for (int m = 0; m < MUTATIONS; m++) {
        struct undo u;
        mutate(img, span, &rng, &u);
        if (mount(&fs, &im, NULL, 0) == 0 && ext2_inode_get(&fs, EXT2_ROOT_INO, &root) == 0) {
            c.mounted++;
            walk_all(&fs, &root, 8, &c);
        }
        undo(img, &u);
    }
    printf("# ext2 fuzz %u: %u of %d mutations mounted; %u dirs, %u entries, %u files read, %u EIO\n", bs,
           c.mounted, MUTATIONS, c.dirs, c.entries, c.files_read, c.eio);
    KT_EXPECT(c.mounted > MUTATIONS / 2);      /* most mutations leave it mountable: the walk ran */
    KT_EXPECT(c.eio > 0);                       /* and some of them were caught */
    free(img);
}

static void fuzz_1k(void)
{
    fuzz(1024);
}

static void fuzz_4k(void)
{
    fuzz(4096);
}

static const struct ktest_case ext2_cases[] = {
    { "reads_1k_blocks", reads_1k },
    { "reads_4k_blocks", reads_4k },
    { "refuses_bad_superblocks", refuses },
    { "hostile_records", hostile },
    { "writes_e2fsck_clean_1k", writes_1k },
    { "writes_e2fsck_clean_4k", writes_4k },
    { "writes_in_place_e2fsck_clean_1k", writes_1k_in_place },
    { "writes_in_place_and_copied_e2fsck_clean_4k", writes_4k_in_place_and_copied },
    { "mutations_1k", fuzz_1k },
    { "mutations_4k", fuzz_4k },
};

KTEST_SUITE(ext2_suite, "ext2", ext2_cases);

int main(int argc, char **argv)
{
    alarm(120);
    const struct ktest_suite *suites[] = { &ext2_suite };
    int r = ktest_run(suites, 1);
    if (tree[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tree);
        (void)!system(cmd);
    }
    return r ? 1 : 0;
}
