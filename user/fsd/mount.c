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
 * where a mapping would fault), a page at a time into a small cache. Writes
 * change the cached page and go back into the memobj with KS_SYS_MEMOBJ_WRITE
 * when the page leaves the cache or at a sync (mount_flush), so the disk's
 * pager writes them to the disk at the next sync (disk_sync); once a client
 * has /dev/vda open, the cache is written through, so the client sees every
 * change at once.
 * Creating, unlinking and renaming change the file system at once (in the
 * cache); a file's bytes reach it when pager.c writes its dirty pages back
 * (FS_OP_SYNC, memory pressure, or its memobj let go). The main thread and the boot image's
 * pager thread (file pages) both use the file system, under one lock, taken
 * after pager.c's slots_lock when both are.
 */
#include <stdio.h>
#include "user/fsd/ext2.h"
#include "user/fsd/fsd.h"

#define CACHE_PAGES 256         /* 1 MiB of the disk's pages, direct-mapped by page number */

static struct ext2 e2;
static int mounted;
static ks_handle_t disk_mo;     /* fsd's read handle of the disk's memobj */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct cached {
    uint64_t page;              /* page number + 1 (0: empty) */
    uint32_t valid;             /* bytes read (less than a page at the disk's end) */
    uint16_t dirty_from, dirty_to;  /* bytes changed since the memobj had them (from == to: none) */
    uint8_t bytes[KS_PAGE_SIZE];
} *cache;                       /* CACHE_PAGES of them, allocated when a disk comes (not in fsd's bss,
                                   whose every page a boot without a disk would pass over) */
static int write_through;       /* a client has /dev/vda: changes go to the memobj at once */

/* The time for inodes: seconds. */
static uint32_t now_s(void)
{
    return (uint32_t)(now_ns() / 1000000000ull);
}

/*
 * c's changed bytes into the disk's memobj (lock held): 0, or -EIO, when they
 * stay changed in the cache (the page cannot leave it) for a later try.
 */
static int cache_flush(struct cached *c)
{
    if (c->dirty_from >= c->dirty_to)
        return 0;
    uint64_t page = c->page - 1;
    uint32_t len = (uint32_t)(c->dirty_to - c->dirty_from);
    long r = ks_memobj_write(disk_mo, page * KS_PAGE_SIZE + c->dirty_from, c->bytes + c->dirty_from, len);
    disk_page_written(page);            /* (even a short write may have dirtied it) */
    if (r != (long)len)
        return -EIO;
    c->dirty_from = c->dirty_to = 0;
    return 0;
}

/*
 * The cache's slot for page, holding it (lock held), or NULL if it cannot be
 * read. The page it held before goes back to the memobj first if changed. A
 * caller about to overwrite the whole page passes fill 0: nothing is read.
 */
static struct cached *cache_page(uint64_t page, int fill)
{
    struct cached *c = &cache[page % CACHE_PAGES];
    if (c->page == page + 1)
        return c;
    if (cache_flush(c) < 0)
        return NULL;            /* (its changes are kept: the caller says EIO) */
    c->page = 0;
    if (!fill) {
        c->valid = KS_PAGE_SIZE;
    } else {
        long r = ks_memobj_read(disk_mo, page * KS_PAGE_SIZE, c->bytes, KS_PAGE_SIZE);
        if (r <= 0)
            return NULL;
        c->valid = (uint32_t)r;
    }
    c->page = page + 1;
    return c;
}

/*
 * Bytes [at, at + len) of the cached page, which the caller is about to
 * change (counted as changed now): a pointer, or NULL if the page cannot be
 * read. fill as for cache_page.
 */
static uint8_t *cache_change(uint64_t page, uint32_t at, uint32_t len, int fill)
{
    struct cached *c = &cache[page % CACHE_PAGES];
    if (c->page != page + 1)
        c = cache_page(page, fill);
    if (!c || at + len > c->valid)
        return NULL;
    if (c->dirty_from >= c->dirty_to) {
        c->dirty_from = (uint16_t)at;
        c->dirty_to = (uint16_t)(at + len);
    } else {
        if (at < c->dirty_from)
            c->dirty_from = (uint16_t)at;
        if (at + len > c->dirty_to)
            c->dirty_to = (uint16_t)(at + len);
    }
    return c->bytes + at;
}

/*
 * ext2_write_fn: into the cached page (a write never crosses a block, nor a
 * page), whose changed bytes reach the memobj later (cache_flush); straight
 * into the memobj too while a client has /dev/vda.
 */
static int disk_store(void *ctx, uint64_t off, const void *buf, uint32_t len)
{
    uint64_t page = off / KS_PAGE_SIZE;
    uint32_t at = (uint32_t)(off % KS_PAGE_SIZE);
    if (write_through) {
        long r = ks_memobj_write(disk_mo, off, buf, len);
        disk_page_written(page);
        if (r != (long)len)
            return -EIO;
        struct cached *c = &cache[page % CACHE_PAGES];
        if (c->page == page + 1 && at + len <= c->valid)
            memcpy(c->bytes + at, buf, len);
        return 0;
    }
    uint8_t *p = cache_change(page, at, len, !(at == 0 && len == KS_PAGE_SIZE));
    if (!p)
        return -EIO;
    memcpy(p, buf, len);
    return 0;
}

/* ext2_edit_fn: the bytes in the cached page, counted as changed; NULL while the cache is written through. */
static uint8_t *disk_edit(void *ctx, uint64_t off, uint32_t len)
{
    return write_through ? NULL : cache_change(off / KS_PAGE_SIZE, (uint32_t)(off % KS_PAGE_SIZE), len, 1);
}

/* ext2_read_fn: through the cache (a block never crosses a page: blocks are at most 4 KiB). */
static const uint8_t *disk_piece(void *ctx, uint64_t off, uint32_t len)
{
    uint64_t page = off / KS_PAGE_SIZE, at = off % KS_PAGE_SIZE;
    struct cached *c = &cache[page % CACHE_PAGES];
    if (c->page != page + 1)
        c = cache_page(page, 1);        /* (the common case, a hit, stays here) */
    return c && at + len <= c->valid ? c->bytes + at : NULL;
}

/*
 * ext2_copy_fn: a file's bytes, not through the cache (lock held). A page the
 * cache holds is copied from there (it may have changes the memobj has not);
 * each run of pages it does not hold is one read of the disk's memobj.
 */
static int disk_copy(void *ctx, uint64_t off, void *buf, uint64_t len)
{
    uint8_t *out = buf;
    while (len) {
        uint64_t page = off / KS_PAGE_SIZE, at = off % KS_PAGE_SIZE;
        uint64_t n = KS_PAGE_SIZE - at < len ? KS_PAGE_SIZE - at : len;
        const struct cached *c = &cache[page % CACHE_PAGES];
        if (c->page == page + 1) {
            if (at + n > c->valid)
                return -EIO;
            memcpy(out, c->bytes + at, n);
        } else {
            while (n < len && cache[(page + 1) % CACHE_PAGES].page != page + 2) {
                page++;                 /* the next page is not cached either: the same read */
                n += KS_PAGE_SIZE < len - n ? KS_PAGE_SIZE : len - n;
            }
            if (ks_memobj_read(disk_mo, off, out, n) != (long)n)
                return -EIO;
        }
        off += n;
        out += n;
        len -= n;
    }
    return 0;
}

/* Every cached change into the disk's memobj (lock held): 0, or -EIO if any was refused (and kept). */
static long flush_locked(void)
{
    long r = 0;
    for (uint32_t i = 0; cache && i < CACHE_PAGES; i++)
        if (cache[i].page && cache_flush(&cache[i]) < 0)
            r = -EIO;
    return r;
}

long mount_flush(void)
{
    pthread_mutex_lock(&lock);
    long r = flush_locked();
    pthread_mutex_unlock(&lock);
    return r;
}

void mount_disk_shared(void)
{
    pthread_mutex_lock(&lock);
    flush_locked();             /* (a refused change stays in the cache, for the next sync to try) */
    write_through = 1;
    pthread_mutex_unlock(&lock);
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
    e2.copy = disk_copy;
    if (!e2.read_only) {
        e2.write = disk_store;
        e2.edit = disk_edit;
    }
    fs.root->e2ino = EXT2_ROOT_INO;
    snprintf(what, sizeof what, "%u KiB blocks, %u inodes%s) is /", e2.block_size / 1024, e2.inodes_count,
             e2.read_only ? ", read only: a feature fsd does not know" : "");
    say("ext2 (", what);
}

/* A generation for a new disk node (its directory ports name it, not just its reusable inode number). */
static uint32_t next_gen(void)
{
    static uint32_t gen;
    gen = (gen + 1) & UD_GEN_MASK;
    return gen ? gen : (gen = 1);
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
    n->gen = next_gen();
    n->perm = (uint16_t)(PERM_SET | (in.mode & 07777));
    n->links_more = (uint16_t)(type != NODE_DIR && in.links > 1 ? in.links - 1 : 0);
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
    if (n->links_more)
        disk_node_join(n);      /* a hard link whose other name fsd shows already */
    ks_handle_t live;
    if (type == NODE_FILE && n->lazy && (live = pager_disk_hidden(e->ino)))
        disk_nodes_loaded(e->ino, live);    /* open through a name since removed: its size and bytes */
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

int64_t mount_file_write(uint32_t ino, uint64_t off, const void *buf, uint64_t len)
{
    struct ext2_inode in = { 0 };
    pthread_mutex_lock(&lock);
    int64_t r = ext2_inode_get(&e2, ino, &in);
    if (r == 0)
        r = ext2_write(&e2, &in, off, buf, len);
    pthread_mutex_unlock(&lock);
    return r;
}

long mount_file_reserve(uint32_t ino, uint64_t off, uint64_t len)
{
    struct ext2_inode in = { 0 };
    pthread_mutex_lock(&lock);
    long r = ext2_inode_get(&e2, ino, &in);
    if (r == 0)
        r = ext2_reserve(&e2, &in, off, len);
    pthread_mutex_unlock(&lock);
    return r;
}

long mount_file_cut(uint32_t ino, uint64_t size)
{
    struct ext2_inode in = { 0 };
    pthread_mutex_lock(&lock);
    long r = ext2_inode_get(&e2, ino, &in);
    if (r == 0 && size < in.size)
        r = ext2_truncate(&e2, &in, size);
    pthread_mutex_unlock(&lock);
    return r;
}

long mount_file_size(uint32_t ino, uint64_t size, ks_handle_t changes)
{
    struct ext2_inode in = { 0 };
    struct ks_memobj_stat ms = { 0 };
    pthread_mutex_lock(&lock);
    long r = ext2_inode_get(&e2, ino, &in);
    if (r == 0 && in.size != size)
        r = ext2_truncate(&e2, &in, size);
    if (r == 0 && changes && ks_memobj_stat(changes, &ms, 0) == 0 && ms.changed_ns) {
        uint32_t when = (uint32_t)(wall_ns(ms.changed_ns) / 1000000000ull);
        if (in.mtime != when || in.ctime < when) {
            in.mtime = when;
            in.ctime = in.ctime > when ? in.ctime : when;
            r = ext2_inode_put(&e2, &in);
        }
    }
    pthread_mutex_unlock(&lock);
    return r;
}

void mount_orphan_release(uint32_t ino)
{
    struct ext2_inode in = { 0 };
    pthread_mutex_lock(&lock);
    if (ext2_inode_get(&e2, ino, &in) == 0 && in.links == 0)
        ext2_inode_free(&e2, &in, now_s());
    pthread_mutex_unlock(&lock);
}

/* The file type a directory record gives a node of this type. */
static uint8_t ft_of(enum node_type t)
{
    return t == NODE_DIR ? EXT2_FT_DIR : t == NODE_SYMLINK ? EXT2_FT_SYMLINK : EXT2_FT_REG;
}

/* Add 1 or -1 to directory ino's link count (a subdirectory's ".." came or went). */
static int links_add(uint32_t ino, int delta)
{
    struct ext2_inode d = { 0 };
    if (ext2_inode_get(&e2, ino, &d) < 0)
        return -EIO;
    d.links = (uint16_t)(d.links + delta);
    d.mtime = d.ctime = now_s();
    return ext2_inode_put(&e2, &d);
}

/*
 * Is name free in directory dir on the disk (lock held)? 0, -EEXIST (a record
 * fsd shows no node for: a device, an unreadable inode), or -EIO.
 */
static long name_free(const struct ext2_inode *dir, const char *name, size_t len)
{
    int64_t r = ext2_lookup(&e2, dir, name, len);
    return r == -ENOENT ? 0 : r < 0 ? r : -EEXIST;
}

/* The inode, on the disk, of a new entry of type t in directory dino (lock held): its number or -errno. */
static int64_t inode_make(uint32_t dino, const char *name, size_t len, enum node_type t, uint16_t perm,
                          const char *target, size_t tlen)
{
    struct ext2_inode in = { 0 }, dir = { 0 };
    uint16_t type = t == NODE_DIR ? EXT2_S_IFDIR : t == NODE_SYMLINK ? EXT2_S_IFLNK : EXT2_S_IFREG;
    if (ext2_inode_get(&e2, dino, &dir) < 0)
        return -EIO;
    int64_t ino = ext2_inode_new(&e2, dino, (uint16_t)(type | (perm & 07777)), now_s(), &in);
    if (ino < 0)
        return ino;
    long r = t == NODE_DIR ? ext2_dir_init(&e2, &in, dino) :
             t == NODE_SYMLINK ? ext2_symlink_set(&e2, &in, target, tlen) : 0;
    dir.mtime = dir.ctime = now_s();
    if (r == 0)
        r = name_free(&dir, name, len);
    if (r == 0)
        r = ext2_dir_add(&e2, &dir, name, len, (uint32_t)ino, ft_of(t));
    if (r == 0 && t == NODE_DIR)
        r = links_add(dino, 1);
    if (r < 0) {
        ext2_inode_free(&e2, &in, now_s());     /* (not linked anywhere: it just goes back) */
        return r;
    }
    return ino;
}

struct node *mount_create(struct node *d, const char *name, size_t len, enum node_type type, uint16_t perm,
                          const char *target, size_t tlen, long *err)
{
    if (!e2.write) {
        *err = -EROFS;
        return NULL;
    }
    char *t = NULL;
    if (type == NODE_SYMLINK && !(t = name_dup(target, tlen))) {
        *err = -ENOMEM;
        return NULL;
    }
    pthread_mutex_lock(&lock);
    int64_t ino = inode_make(d->e2ino, name, len, type, perm, target, tlen);
    pthread_mutex_unlock(&lock);
    struct node *n = ino > 0 ? node_new_numbered(d, name, len, type, (uint64_t)ino) : NULL;
    if (!n) {
        free(t);
        *err = ino < 0 ? ino : create_error();  /* (out of nodes: on the disk, shown after a restart) */
        return NULL;
    }
    n->e2ino = (uint32_t)ino;
    n->gen = next_gen();
    n->perm = (uint16_t)(PERM_SET | (type == NODE_SYMLINK ? 0777 : perm & 07777));
    n->e2loaded = 1;                    /* a new directory has nothing to read */
    n->lazy = type == NODE_FILE ? LAZY_DISK : 0;
    n->boot_size = 0;
    n->target = t;
    n->targetlen = t ? tlen : 0;
    return n;
}

/* Is directory inode ino empty on the disk (only "." and "..")? 1, 0, or -EIO. */
static int dir_empty(uint32_t ino)
{
    struct ext2_inode d = { 0 };
    struct ext2_dirent e;
    uint64_t pos = 0;
    int r;
    if (ext2_inode_get(&e2, ino, &d) < 0)
        return -EIO;
    while ((r = ext2_dir_next(&e2, &d, &pos, &e)) > 0)
        if (!(e.namelen == 1 && e.name[0] == '.') && !(e.namelen == 2 && e.name[0] == '.' && e.name[1] == '.'))
            return 0;
    return r < 0 ? -EIO : 1;
}

/*
 * Drop the link n's name was (its record gone or renamed over; lock held): the
 * links left, or -errno. With free_now (no memobj has the inode), an inode left
 * with no link is freed here, in the same write, and *freed says so.
 */
static long link_drop(struct node *n, int free_now, int *freed)
{
    struct ext2_inode in = { 0 };
    if (ext2_inode_get(&e2, n->e2ino, &in) < 0)
        return -EIO;
    if (n->type == NODE_DIR) {
        if (links_add(n->parent->e2ino, -1) < 0)
            return -EIO;
        in.links = 0;           /* (its "." and its name) */
    } else if (in.links) {
        in.links--;
    }
    in.ctime = now_s();
    if (in.links == 0 && free_now) {
        *freed = 1;
        ext2_inode_free(&e2, &in, in.ctime);   /* (the name is gone whatever happens: a free the disk
                                                   stopped halfway, as a crash would, is e2fsck's) */
        return 0;
    }
    if (ext2_inode_put(&e2, &in) < 0)
        return -EIO;
    return in.links;
}

/* Take n's record out of its directory and drop the link (lock held; as link_drop). */
static long unlink_record(struct node *n, int free_now, int *freed)
{
    struct ext2_inode dir = { 0 };
    if (ext2_inode_get(&e2, n->parent->e2ino, &dir) < 0)
        return -EIO;
    long r = ext2_dir_remove(&e2, &dir, n->name, n->namelen);
    return r < 0 ? r : link_drop(n, free_now, freed);
}

/*
 * n's name is gone from the disk (left: its inode's links now; freed: the
 * inode went with it): out of the tree, the inode too if it was the last.
 */
static void forget(struct node *n, long left, int freed)
{
    uint32_t ino = n->e2ino;
    int file = n->type == NODE_FILE;
    node_remove(n);                     /* (its memobj, if any, stays its clients': the pager's slot has it) */
    if (left > 0)
        disk_nodes_links(ino, (uint32_t)left);     /* its other names say one link fewer */
    if (left > 0 && file)
        pager_disk_name_removed(ino);   /* (names not read yet must find its memobj) */
    if (left == 0 && !freed && !pager_disk_inode_orphaned(ino))
        mount_orphan_release(ino);      /* no link and nobody has it open: it goes now */
}

long mount_unlink(struct node *n)
{
    if (!e2.write)
        return -EROFS;
    int free_now = !pager_disk_inode_has(n->e2ino), freed = 0;     /* (only this thread makes memobjs) */
    pthread_mutex_lock(&lock);
    long r = n->type == NODE_DIR ? dir_empty(n->e2ino) : 1;
    if (r == 0)
        r = -ENOTEMPTY;
    if (r > 0)
        r = unlink_record(n, free_now, &freed);
    pthread_mutex_unlock(&lock);
    if (r < 0)
        return r;
    forget(n, r, freed);
    return 0;
}

long mount_rename(struct node *n, struct node *d, const char *name, size_t len, struct node *replaced)
{
    if (!e2.write)
        return -EROFS;
    struct ext2_inode to = { 0 }, from = { 0 }, in = { 0 };
    long r, left = 1;
    pthread_mutex_lock(&lock);
    r = ext2_inode_get(&e2, d->e2ino, &to) < 0 || ext2_inode_get(&e2, n->e2ino, &in) < 0 ? -EIO : 0;
    if (r == 0 && replaced && replaced->type == NODE_DIR && (r = dir_empty(replaced->e2ino)) >= 0)
        r = r ? 0 : -ENOTEMPTY;
    if (r == 0 && replaced) {
        /* The name stays and names n's inode now (Linux's way: nothing to allocate), then the replaced loses a link. */
        r = ext2_dir_set_ino(&e2, &to, name, len, n->e2ino, ft_of((enum node_type)n->type));
        if (r == 0 && (left = link_drop(replaced, 0, &(int){ 0 })) < 0)
            r = left;
    } else if (r == 0) {
        r = name_free(&to, name, len);
        if (r == 0)
            r = ext2_dir_add(&e2, &to, name, len, n->e2ino, ft_of((enum node_type)n->type));
    }
    if (r == 0 && ext2_inode_get(&e2, n->parent->e2ino, &from) < 0)
        r = -EIO;
    if (r == 0)
        r = ext2_dir_remove(&e2, &from, n->name, n->namelen);
    if (r == 0 && n->type == NODE_DIR && n->parent != d) {
        r = ext2_dir_set_parent(&e2, &in, d->e2ino);
        if (r == 0)
            r = links_add(n->parent->e2ino, -1);
        if (r == 0)
            r = links_add(d->e2ino, 1);
    }
    if (r == 0) {
        in.ctime = now_s();
        r = ext2_inode_put(&e2, &in);
    }
    pthread_mutex_unlock(&lock);
    if (replaced && r == 0)
        forget(replaced, left, 0);
    return r;
}

long mount_link(struct node *n, struct node *d, const char *name, size_t len)
{
    if (!e2.write)
        return -EROFS;
    struct ext2_inode dir = { 0 }, in = { 0 };
    pthread_mutex_lock(&lock);
    long r = ext2_inode_get(&e2, d->e2ino, &dir) < 0 || ext2_inode_get(&e2, n->e2ino, &in) < 0 ? -EIO : 0;
    if (r == 0 && in.links >= 65000)
        r = -EMLINK;
    if (r == 0)
        r = name_free(&dir, name, len);
    if (r == 0) {
        in.links++;
        in.ctime = now_s();
        r = ext2_inode_put(&e2, &in);       /* the count first: a crash leaves one too many, not too few */
    }
    if (r == 0) {
        dir.mtime = dir.ctime = now_s();
        r = ext2_dir_add(&e2, &dir, name, len, n->e2ino, ft_of((enum node_type)n->type));
        if (r < 0) {
            in.links--;
            ext2_inode_put(&e2, &in);
        }
    }
    pthread_mutex_unlock(&lock);
    if (r < 0)
        return r;
    struct node *m = node_new_numbered(d, name, len, (enum node_type)n->type, n->e2ino);
    if (!m)
        return 0;               /* (on the disk; fsd shows it after a restart) */
    m->e2ino = n->e2ino;
    m->perm = n->perm;
    m->mtime_ns = n->mtime_ns;
    m->ctime_ns = n->ctime_ns = now_ns();
    m->lazy = n->type == NODE_FILE && n->lazy ? LAZY_DISK : 0;
    m->boot_size = n->type == NODE_FILE && n->lazy ? n->boot_size : 0;
    m->mo = n->type == NODE_FILE && !n->lazy ? n->mo : 0;    /* the memobj every name shares */
    if (n->type == NODE_SYMLINK && (m->target = name_dup(n->target, n->targetlen)))
        m->targetlen = n->targetlen;
    disk_nodes_links(n->e2ino, in.links);
    node_attrs_changed(n);      /* every name: the new ctime */
    return 0;
}

long mount_setattr(struct node *n, int times)
{
    if (!e2.write)
        return -EROFS;
    struct ext2_inode in = { 0 };
    pthread_mutex_lock(&lock);
    long r = ext2_inode_get(&e2, n->e2ino, &in);
    if (r == 0) {
        in.mode = (uint16_t)((in.mode & EXT2_S_IFMT) | (node_mode(n) & 07777));
        if (times)              /* (else the inode's: a write-back may have moved it past the node's) */
            in.mtime = (uint32_t)(n->mtime_ns / 1000000000ull);
        in.ctime = (uint32_t)(n->ctime_ns / 1000000000ull);
        r = ext2_inode_put(&e2, &in);
    }
    if (r == 0 && times)
        file_times_set(n);      /* (under the lock, as a write-back's reading of it) */
    pthread_mutex_unlock(&lock);
    return r;
}

long mount_statfs(uint64_t out[KS_IPC_WORDS])
{
    struct ext2_counts c;
    pthread_mutex_lock(&lock);
    int r = ext2_counts(&e2, &c);
    pthread_mutex_unlock(&lock);
    if (r < 0)
        return r;
    out[1] = 0xef53;            /* EXT2_SUPER_MAGIC, as Linux's statfs gives it */
    out[2] = e2.block_size;
    out[3] = c.blocks;
    out[4] = c.free_blocks;
    out[5] = c.inodes;
    out[6] = c.free_inodes;
    return 0;
}

int mount_writable(void)
{
    return e2.write != NULL;
}

long mount_file_truncate(struct node *n)
{
    if (!e2.write)
        return -EROFS;
    if (n->mo && ks_memobj_truncate(n->mo, 0) < 0)
        return -EIO;
    n->boot_size = 0;
    n->mtime_ns = n->ctime_ns = now_ns();
    node_attrs_changed(n);
    long r = mount_file_size(n->e2ino, 0, 0);
    return r < 0 ? r : mount_setattr(n, 1);
}

long mount_sync(void)
{
    long r = mounted && e2.write ? pager_disk_sync() : 0;
    long f = mount_flush();
    long d = disk_sync();
    return r < 0 ? r : f < 0 ? f : d;
}
