/*
 * user/fsd/mount.c - the ext2 file system on /dev/vda, read only, as part of
 * fsd's tree.
 *
 * When the disk is attached (disk_attach) and holds ext2, its root directory
 * becomes the backing of "/": the first lookup or readdir in a directory
 * with an inode on the disk reads its records (mount_dir_load) and adds a
 * node for each entry fsd's own tree does not have already, so /bin, /dev and
 * /tmp (the boot image's programs, the devices, memory) stay what they were
 * and everything else in "/" is the disk's. A regular file's bytes are read
 * when they are asked for: its memobj is paged (pager.c) from the file's
 * blocks (mount_read_file).
 *
 * The blocks come from the disk's memobj, read with KS_SYS_MEMOBJ_READ (which
 * waits for the disk's pager and says EIO if the driver failed the page,
 * where a mapping would fault), a page at a time into a small cache. The
 * main thread (lookups) and the boot image's pager thread (file pages) both
 * read, under one lock. Nothing is written to the disk yet: every change
 * under a disk directory is EROFS.
 */
#include <stdio.h>
#include "user/fsd/ext2.h"
#include "user/fsd/fsd.h"

#define CACHE_PAGES 64          /* 256 KiB of the disk's pages, direct-mapped by page number */

static struct ext2 e2;
static int mounted;
static ks_handle_t disk_mo;     /* fsd's read handle of the disk's memobj */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct cached {
    uint64_t page;              /* page number + 1 (0: empty) */
    uint32_t valid;             /* bytes read (less than a page at the disk's end) */
    uint8_t bytes[KS_PAGE_SIZE];
} *cache;                       /* CACHE_PAGES of them, allocated when a disk comes (not in fsd's bss,
                                   whose every page a boot without a disk would pass over) */

/* ext2_read_fn: through the cache (a block never crosses a page: blocks are at most 4 KiB). */
static const uint8_t *disk_piece(void *ctx, uint64_t off, uint32_t len)
{
    uint64_t page = off / KS_PAGE_SIZE, at = off % KS_PAGE_SIZE;
    struct cached *c = &cache[page % CACHE_PAGES];
    if (c->page != page + 1) {
        long r = ks_memobj_read(disk_mo, page * KS_PAGE_SIZE, c->bytes, KS_PAGE_SIZE);
        if (r <= 0) {
            c->page = 0;
            return NULL;
        }
        c->page = page + 1;
        c->valid = (uint32_t)r;
    }
    return at + len <= c->valid ? c->bytes + at : NULL;
}

static void say(const char *a, const char *b)
{
    char line[200];
    int n = snprintf(line, sizeof line, "fsd: /dev/vda: %s%s\n", a, b);
    ks_debug_write(line, n < (int)sizeof line ? (size_t)n : sizeof line - 1);
}

void mount_disk(ks_handle_t mo, uint64_t size)
{
    char why[120], what[120];
    disk_mo = mo;
    if (!(cache = calloc(CACHE_PAGES, sizeof *cache))) {
        say("no file system mounted: ", "out of memory");
        return;
    }
    pthread_mutex_lock(&lock);
    int r = ext2_mount(&e2, disk_piece, NULL, size, why, sizeof why);
    pthread_mutex_unlock(&lock);
    if (r < 0) {
        say("no file system mounted: ", why);
        return;
    }
    mounted = 1;
    fs.root->e2ino = EXT2_ROOT_INO;
    snprintf(what, sizeof what, "%u KiB blocks, %u inodes, %s", e2.block_size / 1024, e2.inodes_count,
             "read only) is /");
    say("ext2 (", what);
}

/* The node for directory entry e of d (its inode read), or NULL if it is not one fsd shows. -errno in *err. */
static struct node *entry_node(struct node *d, const struct ext2_dirent *e, long *err)
{
    struct ext2_inode in = { 0 };
    static char target[FS_PATH_MAX];
    *err = 0;
    if (ext2_inode_get(&e2, e->ino, &in) < 0) {
        *err = -EIO;
        return NULL;
    }
    uint16_t t = in.mode & EXT2_S_IFMT;
    enum node_type type = t == EXT2_S_IFDIR ? NODE_DIR : t == EXT2_S_IFREG ? NODE_FILE : NODE_SYMLINK;
    if (t != EXT2_S_IFDIR && t != EXT2_S_IFREG && t != EXT2_S_IFLNK)
        return NULL;            /* devices, fifos, sockets: not shown */
    if (t == EXT2_S_IFDIR && ino_find(e->ino)) {
        *err = -EIO;            /* a directory in two places: a loop, or a corrupt image */
        return NULL;
    }
    int64_t tlen = 0;
    if (t == EXT2_S_IFLNK && (tlen = ext2_readlink(&e2, &in, target, sizeof target - 1)) <= 0) {
        *err = -EIO;
        return NULL;
    }
    struct node *n = node_new_numbered(d, e->name, e->namelen, type, e->ino);
    if (!n) {
        *err = create_error();
        return NULL;
    }
    n->e2ino = e->ino;
    n->perm = (uint16_t)(PERM_SET | (in.mode & 07777));
    n->mtime_ns = in.mtime * 1000000000ull;
    n->ctime_ns = in.ctime * 1000000000ull;
    if (type == NODE_FILE) {
        n->lazy = LAZY_DISK;
        n->boot_size = in.size;
    } else if (type == NODE_SYMLINK && !(n->target = name_dup(target, (size_t)tlen))) {
        node_remove(n);
        *err = -ENOMEM;
        return NULL;
    } else {
        n->targetlen = (size_t)tlen;
    }
    return n;
}

long mount_dir_load(struct node *d)
{
    struct ext2_inode dir = { 0 };
    struct ext2_dirent e;
    long err = 0;
    if (d->e2loaded)
        return 0;
    pthread_mutex_lock(&lock);
    int r = ext2_inode_get(&e2, d->e2ino, &dir);
    if (r == 0 && (dir.mode & EXT2_S_IFMT) != EXT2_S_IFDIR)
        r = -EIO;
    uint64_t pos = 0;
    while (r == 0 && (r = ext2_dir_next(&e2, &dir, &pos, &e)) > 0) {
        r = 0;
        if ((e.namelen == 1 && e.name[0] == '.') || (e.namelen == 2 && e.name[0] == '.' && e.name[1] == '.'))
            continue;
        if (dir_find(d, e.name, e.namelen))
            continue;           /* fsd's own (/bin, /dev, /tmp), or added by an earlier try */
        long why;
        if (!entry_node(d, &e, &why) && why && why != -EIO)
            err = why;          /* out of nodes or memory: what there is stays, the lookup says so */
    }
    pthread_mutex_unlock(&lock);
    if (r < 0)
        return r;               /* a malformed directory: EIO now, tried again at the next lookup */
    if (err)
        return err;
    d->e2loaded = 1;
    return 0;
}

int64_t mount_read_file(uint32_t ino, uint64_t off, void *buf, uint64_t len)
{
    struct ext2_inode in = { 0 };
    pthread_mutex_lock(&lock);
    int64_t r = ext2_inode_get(&e2, ino, &in);
    if (r == 0)
        r = ext2_read(&e2, &in, off, buf, len);
    pthread_mutex_unlock(&lock);
    return r;
}
