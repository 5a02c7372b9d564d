/*
 * user/fsd/pager.c - files paged on demand: the boot image's, the disk's
 * (/dev/vda), and the files of the disk's ext2 file system (mount.c).
 *
 * A program in the boot image is a file whose bytes stay in the boot image
 * until someone reads them: its first open makes its memobj a paged one
 * (KS_SYS_MEMOBJ_CREATE_PAGED) and copies nothing. A thread of its own, the
 * pager, waits on a listener of its own; each notification names a slot of
 * `files` (the userdata), and the pager reads the pages asked for out of the
 * boot image and supplies them, READ_AHEAD pages from the first one asked
 * (pages present already are left as they are), copied. (Not shared with
 * KS_SYS_PAGER_SUPPLY_FROM: fsd's handle of the image is read-only, rightly,
 * since a write to /bin/NAME would then reach the image init starts drivers
 * from; a copy-on-write share would be the way.)
 *
 * Out of memory, a supply is tried again a few times (2 ms apart); then the
 * page is failed (the toucher gets EIO, or is killed for a fault) and kept in
 * `owed`, supplied when memory allows, at the pager's next wake-up (at most
 * 100 ms later), so that a moment without memory does not fail the page for
 * good.
 *
 * The disk (/dev/vda, disk_attach) is paged the same way by a second thread on
 * a listener of its own, from the block driver (user/vblk.c, over IPC), so
 * that a slow or stuck driver holds up the disk's readers only. FS_OP_SYNC
 * writes its dirty pages back (disk_sync).
 *
 * A file on the disk's ext2 is paged by the first thread, from its blocks
 * (mount_read_file, which reads the disk's memobj: it may wait for the
 * second thread, never the other way round). Its dirty pages go back into
 * its blocks at FS_OP_SYNC, when the kernel asks to clean, and before its
 * memobj is let go (disk_slot_flush).
 *
 * The pager answers no IPC call and touches no file mapping, so it never
 * waits for a page itself (nor does the main thread: the kernel never makes a
 * server wait for a page of its client's). A boot-image file's slot is never
 * freed: it holds its own handle of the memobj, since clients may touch pages
 * after the file is removed; there is at most one slot per boot-image file.
 * A disk file's slot is freed when nobody but fsd holds its memobj
 * (disk_slots_sweep), and used again.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <kestrel/syscall.h>
#include <string.h>
#include "user/fsd/fsd.h"
#include "user/lib/blkproto.h"

#define READ_AHEAD 16           /* pages supplied for one asked (64 KiB) */
#define WANT_MAX 32             /* page numbers fetched per KS_SYS_PAGER_REQUESTS */
#define OWED_MAX 16             /* failed for want of memory, to supply later */
#define RETRIES 10

enum source { FROM_IMAGE, FROM_DRIVER, FROM_EXT2 };

struct paged_file {
    ks_handle_t mo;             /* with KS_RIGHT_PAGER (0: a free slot) */
    uint64_t off, size;         /* where its bytes are in the boot image (or on the disk) */
    uint8_t src;                /* enum source: the boot image, the block driver (the disk's own
                                   memobj), or an ext2 file's blocks (mount.c, through that memobj) */
    uint32_t e2ino;             /* FROM_EXT2: the file's inode (mo is also the handle of every node
                                   naming it: disk_nodes_unloaded resets them when it goes) */
    uint8_t orphan;             /* FROM_EXT2: unlinked while open: its inode goes when the memobj does */
    uint64_t changed_written;   /* FROM_EXT2: the memobj's change time (KS_SYS_MEMOBJ_STAT) its inode
                                   was last given, so that a flush reads the inode only for news */
    uint8_t hidden;             /* FROM_EXT2: a name was removed while the inode kept others, which
                                   fsd may show only later (pager_disk_hidden); counted in hidden_slots */
};

/*
 * Disk files' memobjs are let go when nobody else holds them (KS_SYS_PAGER_USERS
 * 0) once more than DISK_KEPT are made, so that a walk over a thousand files
 * does not fill fsd's handle table (KS_HANDLE_MAX): their slots are used again.
 * The pager thread holds slots_lock while it serves a slot, so a slot is never
 * freed (and its handle number given to another memobj) under it.
 */
#define DISK_KEPT 32
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t disk_files;     /* FROM_EXT2 slots in use */
static uint32_t hidden_slots;   /* of them, those marked hidden (read without the lock: 0 is the rule) */

static ks_handle_t disk_port;  /* the block driver's client port (KS_HANDLE_NONE: no disk) */
static uint32_t disk_slot;
static int disk_pages_ok;       /* the driver offers BLK_OP_READ_PAGES (its BLK_OP_INFO's MR4) */
static ks_handle_t landing;     /* READ_PAGES's memobj: the device fills its pages, the disk's
                                   memobj takes them (KS_SYS_PAGER_SUPPLY_FROM), it lets them go */
static ks_handle_t outgoing;    /* WRITE_PAGES's memobj, mapped at outgoing_at: a sync's write-back
                                   copies the disk's dirty pages there, the device reads them */
static uint8_t *outgoing_at;

static struct paged_file files[MAX_PAGED];
static uint32_t nfiles;         /* slots in use; written by the main thread only */
static ks_handle_t pager_listener;
static struct { uint32_t slot; uint64_t page; } owed[OWED_MAX];
static unsigned nowed;

/* Is slot i (slots_lock held) a disk file's, of inode ino? */
static int slot_of(uint32_t i, uint32_t ino)
{
    return files[i].mo && files[i].src == FROM_EXT2 && files[i].e2ino == ino;
}

/* Disk inode ino's memobj that its names share (slots_lock held): not an orphan's; 0 if none. */
static ks_handle_t live_memobj(uint32_t ino)
{
    for (uint32_t i = 0; i < nfiles; i++)
        if (slot_of(i, ino) && !files[i].orphan)
            return files[i].mo;
    return 0;
}

/* One block request (user/lib/blkproto.h): the status, or a KS_ERR_* if the driver is gone. */
static long blk_call(uint64_t op, uint64_t sector, uint64_t count, const void *out, uint64_t out_len, void *in,
                     uint64_t in_cap)
{
    uint64_t w[KS_IPC_WORDS] = { op, sector, count };
    struct ks_ipc_desc d = { .send_buf = out, .send_len = out_len, .recv_buf = in, .recv_cap = in_cap };
    long r = ks_ipc_call(disk_port, &d, w, NULL);
    return r < 0 ? r : (long)w[0];
}

/*
 * A READ_ or WRITE_PAGES request on memobj m's pages from its first: the
 * status, or a KS_ERR_* if the driver is gone.
 */
static long blk_call_pages(uint64_t op, uint64_t sector, uint64_t count, ks_handle_t m)
{
    uint64_t w[KS_IPC_WORDS] = { op, sector, count, 0 };
    struct ks_ipc_desc d = { .send_handles = { m }, .send_nhandles = 1 };
    long r = ks_ipc_call(disk_port, &d, w, NULL);
    return r < 0 ? r : (long)w[0];
}

/* Read `bytes` (whole sectors, at most BLK_MAX_BYTES) at byte `off` of the disk: bytes, or < 0. */
static long disk_read(uint64_t off, void *buf, uint64_t bytes)
{
    uint64_t sectors = (bytes + BLK_SECTOR - 1) / BLK_SECTOR;
    long r = blk_call(BLK_OP_READ, off / BLK_SECTOR, sectors, NULL, 0, buf, sectors * BLK_SECTOR);
    return r == (long)(sectors * BLK_SECTOR) ? (long)bytes : -1;
}

/*
 * Supply the disk's pages [first, first + n) with no copy: the driver has the
 * device write them into `landing`'s pages, which the disk's memobj then
 * shares and `landing` lets go. 1 if supplied, 0 if not done this way (the
 * driver or memory would not: read them the copying way), -1 if the device
 * failed the read.
 */
static int disk_supply_pages(const struct paged_file *f, uint64_t first, uint64_t n)
{
    uint64_t sectors = n * (KS_PAGE_SIZE / BLK_SECTOR);
    if (!landing) {
        long m = disk_pages_ok ? ks_memobj_create(READ_AHEAD * KS_PAGE_SIZE) : -1;
        if (m < 0)
            return disk_pages_ok = 0;
        landing = (ks_handle_t)m;
    }
    long r = blk_call_pages(BLK_OP_READ_PAGES, (f->off + first * KS_PAGE_SIZE) / BLK_SECTOR, sectors, landing);
    long done = r == (long)(sectors * BLK_SECTOR) ? ks_pager_supply_from(f->mo, first, landing, 0, n) : -1;
    ks_memobj_truncate(landing, 0);     /* its pages are the disk memobj's alone now (or nobody's: */
    ks_memobj_truncate(landing, READ_AHEAD * KS_PAGE_SIZE);    /* a failed request's are not used again) */
    if (r == -BLK_EIO || r == KS_ERR_PEER_CLOSED)
        return -1;                      /* the device failed it, or the driver is gone */
    return done >= 0;                   /* (anything else: the copying way may still work) */
}

/*
 * Supply pages from `first` of f, read ahead: 1 if done, 0 without memory
 * (tries == 1: once; more: with sleeps between), -1 if the boot image could
 * not be read (the page is failed).
 */
static int supply_once(const struct paged_file *f, uint64_t first, int tries, uint8_t *buf)
{
    uint64_t npages = (f->size + KS_PAGE_SIZE - 1) / KS_PAGE_SIZE;
    if (first >= npages) {
        ks_pager_fail(f->mo, first, 1);     /* (the kernel asks only below the size) */
        return -1;
    }
    uint64_t n = npages - first < READ_AHEAD ? npages - first : READ_AHEAD;
    uint64_t start = first * KS_PAGE_SIZE;
    uint64_t bytes = f->size - start < n * KS_PAGE_SIZE ? f->size - start : n * KS_PAGE_SIZE;
    long got;
    if (f->src == FROM_DRIVER && disk_pages_ok && bytes == n * KS_PAGE_SIZE) {
        int done = disk_supply_pages(f, first, n);
        if (done != 0) {
            if (done < 0)
                ks_pager_fail(f->mo, first, 1);     /* (EIO for the page asked) */
            return done;
        }
    }
    if (f->src == FROM_EXT2) {
        long low = ks_pager_low_size(f->mo);            /* a cut not yet applied to the inode: */
        if (low >= 0 && mount_file_cut(f->e2ino, (uint64_t)low) < 0)      /* now, so no old */
            got = -1;                                   /* bytes come back from past it */
        else if ((got = mount_read_file(f->e2ino, start, buf, bytes)) >= 0 && got < (long)bytes) {
            memset(buf + got, 0, bytes - (uint64_t)got);     /* past the inode's end (grown since, or */
            got = (long)bytes;                               /* cut): zeros */
        }
    } else {
        got = f->src == FROM_DRIVER ? disk_read(f->off + start, buf, bytes) :
              ks_memobj_read(fs.bootimg, f->off + start, buf, bytes);
    }
    if (got != (long)bytes) {
        ks_pager_fail(f->mo, first, 1);     /* (the driver failed the read, or is gone: EIO) */
        return -1;
    }
    for (int i = 0; i < tries; i++) {
        if (i)
            ks_thread_sleep(2000000);
        if (ks_pager_supply(f->mo, first, buf, i ? 1 : n) >= 0)    /* (after a failure: the one asked) */
            return 1;
    }
    return 0;
}

/* Supply a page asked for, through buf (the thread's own); out of memory, fail it for now and owe it. */
static void supply(uint32_t slot, uint64_t first, uint8_t *buf)
{
    const struct paged_file *f = &files[slot];
    if (supply_once(f, first, RETRIES, buf) != 0)
        return;
    ks_pager_fail(f->mo, first, 1);
    if (f->src != FROM_DRIVER && nowed < OWED_MAX)     /* (owed: the boot image's thread's alone) */
        owed[nowed++].slot = slot, owed[nowed - 1].page = first;
}

/* Supply what was failed for want of memory, where memory allows now. */
static void pay_owed(uint8_t *buf)
{
    for (unsigned i = 0; i < nowed;) {
        if (files[owed[i].slot].mo && supply_once(&files[owed[i].slot], owed[i].page, 1, buf) == 0) {
            i++;
            continue;
        }
        owed[i] = owed[--nowed];
    }
}

static void serve(ks_handle_t listener, long r, const uint64_t note[2], uint8_t *buf);
static long disk_slot_flush(uint32_t i);
static void disk_slots_sweep(void);
static void disk_slot_let_go(uint32_t i);

/* A pager thread, on listener *arg: the boot image's, or the disk's (whose driver may be slow or stuck). */
static void *pager_main(void *arg)
{
    ks_handle_t listener = *(const ks_handle_t *)arg;
    static uint8_t bufs[2][READ_AHEAD * KS_PAGE_SIZE];     /* one a thread: both may supply at once */
    uint8_t *buf = bufs[listener == pager_listener];
    for (;;) {
        uint64_t note[2];
        int mine = listener == pager_listener;     /* the owed pages are the boot image's */
        long r = ks_listener_wait(listener, mine && nowed ? 100000000 : KS_FOREVER, note);
        if (mine)
            pthread_mutex_lock(&slots_lock);
        if (mine && nowed)
            pay_owed(buf);
        serve(listener, r, note, buf);
        if (mine)
            pthread_mutex_unlock(&slots_lock);
    }
    return NULL;
}

/* One notification on a pager thread's listener (r: the wait's result). */
static void serve(ks_handle_t listener, long r, const uint64_t note[2], uint8_t *buf)
{
    int mine = listener == pager_listener;
    if (r != 0)
        return;
    if (note[0] == KS_PAGER_NOTE_CLEAN && !mine) {
        disk_sync();            /* memory is short and the disk's dirty pages hold it: write them back */
        return;
    }
    uint32_t slot = (uint32_t)note[1];
    if (slot >= __atomic_load_n(&nfiles, __ATOMIC_ACQUIRE) || !files[slot].mo)
        return;                 /* (a disk file's slot let go since: its memobj is gone) */
    if (note[0] == KS_PAGER_NOTE_CLEAN && files[slot].src == FROM_EXT2 && !files[slot].orphan) {
        disk_slot_flush(slot);  /* memory is short: its pages into the file system (mount.c's cache, */
        mount_flush();          /* then the disk's memobj), and the memobj's dirty pages to the disk */
        disk_sync();
        return;
    }
    if (note[0] == KS_PAGER_NOTE_UNUSED && mine) {
        if (files[slot].orphan && ks_pager_users(files[slot].mo) == 0)
            disk_slot_let_go(slot); /* an unlinked file's last close: its inode goes now */
        return;
    }
    if (note[0] != KS_PAGER_NOTE)
        return;
    const struct paged_file *f = &files[slot];
    uint64_t want[WANT_MAX];
    long n;
    while ((n = ks_pager_requests(f->mo, want, WANT_MAX)) > 0)   /* notifications coalesce */
        for (long i = 0; i < n; i++)
            supply(slot, want[i], buf);
}

/* Start the pager thread, once (at the first boot-image file opened: not on the way to "Hello world."). */
static void pager_start(void)
{
    static int tried;
    pthread_t t;
    if (tried++)
        return;
    long l = ks_ipc_listener_create();
    if (l < 0)
        return;
    pager_listener = (ks_handle_t)l;
    if (pthread_create(&t, NULL, pager_main, &pager_listener) != 0) {
        ks_handle_close(pager_listener);
        pager_listener = 0;
    }
}

/*
 * Let disk file slot i's memobj go (slots_lock held): its nodes are lazy
 * again, the slot free. An orphan's inode has no names left, so no node to
 * touch: the boot-image pager thread, which lets orphans go, never walks the
 * tree the main thread is changing.
 */
static void disk_slot_free(uint32_t i)
{
    struct ks_memobj_stat ms;
    if (ks_memobj_stat(files[i].mo, &ms, 0) < 0)
        ms = (struct ks_memobj_stat){ 0 };
    ks_handle_close(files[i].mo);
    if (!files[i].orphan)
        disk_nodes_unloaded(files[i].e2ino, ms.size, ms.changed_ns);    /* (its inode's size and mtime now) */
    if (files[i].hidden)
        __atomic_fetch_sub(&hidden_slots, 1, __ATOMIC_RELAXED);
    files[i] = (struct paged_file){ 0 };
    disk_files--;   /* (the owed pages of slot i go too) */
    for (unsigned k = 0; k < nowed;)
        if (owed[k].slot == i)
            owed[k] = owed[--nowed];
        else
            k++;
}

/*
 * Write disk file slot i's changes to its inode (slots_lock held): the size
 * first (a shrink frees blocks; a truncation since the last flush is applied
 * even if the file grew again, KS_SYS_PAGER_LOW_SIZE) and, if the memobj
 * changed since the last flush, the mtime; then each dirty page, its blocks
 * taken before it is cleaned: a page the file system has no room for (the
 * disk full) stays dirty for the next try. 0 or -errno.
 */
static long disk_slot_flush(uint32_t i)
{
    static uint8_t page[KS_PAGE_SIZE];
    struct paged_file *f = &files[i];
    struct ks_memobj_stat ms;
    long low = ks_pager_low_size(f->mo);
    if (ks_memobj_stat(f->mo, &ms, 0) < 0 || low < 0)
        return -EIO;
    uint64_t size = ms.size;
    int news = ms.changed_ns != f->changed_written;
    long err = (uint64_t)low < size ? mount_file_size(f->e2ino, (uint64_t)low, 0) : 0; /* cut, then grown again */
    if (err == 0)
        err = mount_file_size(f->e2ino, size, news ? f->mo : 0);    /* mtime: when it last changed */
    if (err == 0)
        f->changed_written = ms.changed_ns;
    uint64_t npages = (size + KS_PAGE_SIZE - 1) / KS_PAGE_SIZE;
    for (uint64_t base = 0; base < npages; base += 256) {
        uint64_t bits[4], n = npages - base < 256 ? npages - base : 256;
        if (ks_pager_dirty(f->mo, base, n, bits) <= 0)
            continue;
        for (uint64_t k = 0; k < n; k++) {
            uint64_t off = (base + k) * KS_PAGE_SIZE;
            uint64_t len = size - off < KS_PAGE_SIZE ? size - off : KS_PAGE_SIZE;
            if (!(bits[k / 64] >> (k % 64) & 1))
                continue;
            long r = mount_file_reserve(f->e2ino, off, len);   /* the blocks first: the page stays */
            if (r < 0) {                                        /* dirty if there are none */
                err = r;
                continue;
            }
            if (ks_pager_writeback(f->mo, base + k, page) != 1)
                continue;
            if (mount_file_write(f->e2ino, off, page, len) != (int64_t)len)
                err = -EIO;     /* (the disk's memobj refused: the page is clean, its bytes lost) */
        }
    }
    return err;
}

/* Let go every disk file's memobj that nobody but fsd holds, its changes written first (slots_lock held). */
/*
 * Disk file slot i, which nobody but fsd holds: its pages written back (an
 * orphan's go nowhere), the slot freed, and an orphan's inode released with
 * its last memobj. Kept if its bytes could not be written back.
 */
static void disk_slot_let_go(uint32_t i)
{
    uint32_t ino = files[i].e2ino;
    int orphan = files[i].orphan, others = 0;
    if (!orphan && disk_slot_flush(i) < 0)
        return;                 /* (kept: its bytes have nowhere else to be) */
    disk_slot_free(i);
    for (uint32_t k = 0; k < nfiles; k++)
        others |= slot_of(k, ino);
    if (orphan && !others)
        mount_orphan_release(ino);      /* the inode's last memobj gone */
}

static void disk_slots_sweep(void)
{
    for (uint32_t i = 0; i < nfiles; i++)
        if (files[i].mo && files[i].src == FROM_EXT2 && ks_pager_users(files[i].mo) == 0)
            disk_slot_let_go(i);
}

long pager_disk_sync(void)
{
    long err = 0;
    pthread_mutex_lock(&slots_lock);
    for (uint32_t i = 0; i < nfiles; i++) {
        long r = files[i].mo && files[i].src == FROM_EXT2 && !files[i].orphan ? disk_slot_flush(i) : 0;
        if (r < 0)
            err = r;
    }
    disk_slots_sweep();         /* (orphans whose last user went since) */
    pthread_mutex_unlock(&slots_lock);
    return err;
}

/* A slot for a new paged file (slots_lock held): a free one, else a new one; MAX_PAGED if none. */
static uint32_t slot_take(void)
{
    for (uint32_t i = 0; i < nfiles; i++)
        if (!files[i].mo)
            return i;
    return nfiles;
}

/* A paged memobj for lazy file n, filled by the pager thread from src: 0 or -errno (slots_lock held). */
static long page_file(struct node *n, enum source src)
{
    pager_start();
    uint32_t slot = slot_take();
    if (!pager_listener || slot == MAX_PAGED)
        return -ENOSYS;
    long mo = ks_memobj_create_paged(n->boot_size, pager_listener, slot);
    if (mo < 0)
        return mo == KS_ERR_NO_HANDLES ? -ENFILE : -ENOMEM;
    long mine = mo;             /* a disk file's slot and node share the one handle */
    if (src != FROM_EXT2 && (mine = ks_handle_duplicate((ks_handle_t)mo, KS_RIGHT_PAGER)) < 0) {
        ks_handle_close((ks_handle_t)mo);
        return mine == KS_ERR_NO_HANDLES ? -ENFILE : -ENOMEM;
    }
    files[slot] = (struct paged_file){ (ks_handle_t)mine, n->boot_off, n->boot_size, (uint8_t)src, n->e2ino, 0, 0, 0 };
    if (slot == nfiles)
        __atomic_store_n(&nfiles, slot + 1, __ATOMIC_RELEASE);
    disk_files += src == FROM_EXT2;
    n->mo = (ks_handle_t)mo;
    n->lazy = 0;
    return 0;
}

long pager_file(struct node *n)
{
    pthread_mutex_lock(&slots_lock);
    long r = page_file(n, FROM_IMAGE);
    pthread_mutex_unlock(&slots_lock);
    return r;
}

long pager_disk_file(struct node *n)
{
    pthread_mutex_lock(&slots_lock);
    ks_handle_t live = live_memobj(n->e2ino);
    if (live) {
        disk_nodes_loaded(n->e2ino, live);      /* another name's memobj: n's, and every name's */
        pthread_mutex_unlock(&slots_lock);
        return 0;
    }
    if (disk_files >= DISK_KEPT)
        disk_slots_sweep();
    long r = page_file(n, FROM_EXT2);
    if (r == -ENFILE || r == -ENOSYS) {
        disk_slots_sweep();     /* out of handles or slots: let idle ones go, and try again */
        r = page_file(n, FROM_EXT2);
    }
    if (r == 0)
        disk_nodes_loaded(n->e2ino, n->mo);     /* its other names (hard links) too */
    pthread_mutex_unlock(&slots_lock);
    return r == -ENOSYS ? -ENFILE : r;
}

int pager_disk_inode_has(uint32_t ino)
{
    int has = 0;
    pthread_mutex_lock(&slots_lock);
    for (uint32_t i = 0; i < nfiles && !has; i++)
        has = slot_of(i, ino);
    pthread_mutex_unlock(&slots_lock);
    return has;
}

void pager_disk_name_removed(uint32_t ino)
{
    pthread_mutex_lock(&slots_lock);
    for (uint32_t i = 0; i < nfiles; i++)
        if (slot_of(i, ino) && !files[i].orphan && !files[i].hidden) {
            files[i].hidden = 1;
            __atomic_fetch_add(&hidden_slots, 1, __ATOMIC_RELAXED);
        }
    pthread_mutex_unlock(&slots_lock);
}

ks_handle_t pager_disk_hidden(uint32_t ino)
{
    if (!__atomic_load_n(&hidden_slots, __ATOMIC_RELAXED))
        return 0;               /* (the common case: a directory's thousand names pay one load) */
    pthread_mutex_lock(&slots_lock);
    ks_handle_t mo = live_memobj(ino);
    pthread_mutex_unlock(&slots_lock);
    return mo;
}

int pager_disk_inode_orphaned(uint32_t ino)
{
    int kept = 0;
    pthread_mutex_lock(&slots_lock);
    for (uint32_t i = 0; i < nfiles; i++)
        if (slot_of(i, ino)) {
            files[i].orphan = 1;    /* every name's memobj: its pages are nobody's to write back */
            ks_pager_users_notify(files[i].mo);     /* (KS_PAGER_NOTE_UNUSED when its last user goes) */
            kept = 1;
        }
    if (kept)
        disk_slots_sweep();     /* (those nobody has open go now, the inode with the last) */
    pthread_mutex_unlock(&slots_lock);
    return kept;
}

static const struct node *disk_file;
static uint64_t *written;       /* the disk's pages fsd wrote (see disk_page_written) */

int disk_node(const struct node *n)
{
    return n && n == disk_file;
}

void disk_node_removed(const struct node *n)
{
    if (disk_node(n))
        disk_file = NULL;
}

long disk_attach(struct node *dev, ks_handle_t port)
{
    if (disk_port)
        return -EEXIST;
    uint64_t w[KS_IPC_WORDS] = { BLK_OP_INFO };
    if (ks_ipc_call(port, NULL, w, NULL) < 0 || w[0] != 0 || w[1] == 0 || w[1] > (UINT64_MAX >> 10))
        return -EIO;
    uint64_t size = w[1] * BLK_SECTOR;
    disk_pages_ok = w[4] == 1;
    static ks_handle_t disk_listener;
    pthread_t t;
    pthread_mutex_lock(&slots_lock);
    uint32_t slot = slot_take();
    pthread_mutex_unlock(&slots_lock);     /* (the main thread is the only one that takes slots) */
    if (slot == MAX_PAGED)
        return -ENOMEM;
    long l = ks_ipc_listener_create();
    if (l < 0)
        return -ENOMEM;
    disk_listener = (ks_handle_t)l;
    long mo = ks_memobj_create_paged(size | KS_PAGED_FIXED_SIZE, disk_listener, slot);
    long mine = mo < 0 ? mo : ks_handle_duplicate((ks_handle_t)mo, KS_RIGHT_PAGER);
    struct node *n = mine < 0 ? NULL : node_new(dev, "vda", 3, NODE_FILE);
    if (!n) {
        if (mo > 0)
            ks_handle_close((ks_handle_t)mo);
        if (mine > 0)
            ks_handle_close((ks_handle_t)mine);
        ks_handle_close(disk_listener);
        return -ENOMEM;
    }
    n->perm = PERM_SET | 0660;
    n->mo = (ks_handle_t)mo;
    disk_port = port;
    disk_file = n;
    files[slot] = (struct paged_file){ (ks_handle_t)mine, 0, size, FROM_DRIVER, 0, 0, 0, 0 };
    disk_slot = slot;
    written = calloc((size / KS_PAGE_SIZE + 1 + 255) / 256 * 4, sizeof *written);   /* (whole groups of 256) */
    if (slot == nfiles)
        __atomic_store_n(&nfiles, slot + 1, __ATOMIC_RELEASE);
    if (pthread_create(&t, NULL, pager_main, &disk_listener) != 0)
        return -ENOMEM;         /* (then /dev/vda's reads fail with EIO: nobody answers) */
    long rd = ks_handle_duplicate((ks_handle_t)mo, KS_RIGHT_READ | KS_RIGHT_WRITE);
    if (rd > 0)
        mount_disk((ks_handle_t)rd, size);     /* (its file system, if it has one, becomes "/") */
    return 0;
}

/*
 * Write back the disk's dirty pages, up to 16 in a row a request (the block
 * protocol's 64 KiB), then flush. A page written back is clean; a write
 * during this makes it dirty again, for the next sync (KS_SYS_PAGER_WRITEBACK).
 */
static long disk_sync_locked(void);

long disk_sync(void)
{
    static pthread_mutex_t one = PTHREAD_MUTEX_INITIALIZER;    /* the main thread's FS_OP_SYNC, or the
                                                                  disk pager's KS_PAGER_NOTE_CLEAN */
    pthread_mutex_lock(&one);
    long r = disk_sync_locked();
    pthread_mutex_unlock(&one);
    return r;
}

/*
 * The disk's pages fsd wrote (disk_store) since a sync last took them: one bit
 * a page, so a sync visits those pages alone. Asking the kernel instead
 * (KS_SYS_PAGER_DIRTY) looks up every page of the disk: about 40
 * instructions a page, 650,000 for 64 MiB, on every fsync. A client that
 * opens /dev/vda to write may dirty any page, and from then on every sync asks
 * the kernel about all of them (scan_all), as it does if the map could not be
 * allocated. Anything that comes to write the disk's memobj another way (its
 * pages shared into file memobjs, say) must mark them, or set scan_all.
 */
static int scan_all;

void disk_page_written(uint64_t page)
{
    if (written)
        __atomic_fetch_or(&written[page / 64], 1ull << (page % 64), __ATOMIC_RELAXED);
}

void disk_written_by_client(void)
{
    __atomic_store_n(&scan_all, 1, __ATOMIC_RELAXED);  /* (read by the disk's pager thread) */
}

/*
 * The dirty pages among the n (at most 256) from base, a multiple of 256, into
 * bits: 1 if there are any. The pages fsd marked are unmarked first, so a
 * write from now on marks its page again for the next sync.
 */
static int dirty_pages(ks_handle_t mo, uint64_t base, uint64_t n, uint64_t bits[4])
{
    if (__atomic_load_n(&scan_all, __ATOMIC_RELAXED) || !written)
        return ks_pager_dirty(mo, base, n, bits) > 0;
    uint64_t any = 0;
    for (uint64_t w = 0; w < 4; w++)
        any |= bits[w] = w * 64 < n ? __atomic_exchange_n(&written[base / 64 + w], 0, __ATOMIC_RELAXED) : 0;
    return any != 0;
}

/*
 * Where a sync gathers the pages of one write: outgoing's mapping, if the
 * driver takes WRITE_PAGES (made at the first sync), else a buffer the write
 * request copies from.
 */
static uint8_t *sync_buffer(void)
{
    static uint8_t run[BLK_MAX_BYTES];
    if (!outgoing && disk_pages_ok) {
        long m = ks_memobj_create(BLK_MAX_BYTES);
        long at = m > 0 ? ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, 0, BLK_MAX_BYTES,
                                    KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED) : -1;
        if (at > 0) {
            outgoing = (ks_handle_t)m;
            outgoing_at = (uint8_t *)at;
        } else if (m > 0) {
            ks_handle_close((ks_handle_t)m);
        }
    }
    return outgoing ? outgoing_at : run;
}

/* Write `bytes` from the sync buffer `run` at page `page` of the disk: 1 if the disk took them. */
static int disk_write_run(const uint8_t *run, uint64_t page, uint64_t bytes)
{
    uint64_t sectors = (bytes + BLK_SECTOR - 1) / BLK_SECTOR, sector = page * (KS_PAGE_SIZE / BLK_SECTOR);
    long r = -BLK_EINVAL;
    if (run == outgoing_at && bytes % KS_PAGE_SIZE == 0)
        r = blk_call_pages(BLK_OP_WRITE_PAGES, sector, sectors, outgoing);  /* the device reads the pages */
    if (r == -BLK_EINVAL)               /* (not whole pages, or the driver could not pin them) */
        r = blk_call(BLK_OP_WRITE, sector, sectors, run, sectors * BLK_SECTOR, NULL, 0);
    return r == (long)(sectors * BLK_SECTOR);
}

static long disk_sync_locked(void)
{
    if (!disk_port)
        return 0;
    uint8_t *run = sync_buffer();
    const struct paged_file *f = &files[disk_slot];
    uint64_t npages = (f->size + KS_PAGE_SIZE - 1) / KS_PAGE_SIZE;
    long err = 0;
    for (uint64_t base = 0; base < npages; base += 256) {
        uint64_t bits[4], n = npages - base < 256 ? npages - base : 256;
        if (!dirty_pages(f->mo, base, n, bits))
            continue;
        for (uint64_t i = 0; i < n;) {
            uint64_t k = 0;
            while (i + k < n && k < BLK_MAX_BYTES / KS_PAGE_SIZE && (bits[(i + k) / 64] >> ((i + k) % 64) & 1) &&
                   ks_pager_writeback(f->mo, base + i + k, run + k * KS_PAGE_SIZE) == 1)
                k++;
            if (k == 0) {
                i++;
                continue;
            }
            uint64_t bytes = k * KS_PAGE_SIZE, at = (base + i) * KS_PAGE_SIZE;
            if (at + bytes > f->size)
                bytes = f->size - at;           /* the disk's last page: only what is on the disk */
            if (!disk_write_run(run, base + i, bytes)) {
                err = -EIO;     /* the disk did not take them: dirty again, for the next sync */
                ks_pager_redirty(f->mo, base + i, k);
                for (uint64_t j = 0; j < k; j++)
                    disk_page_written(base + i + j);
            }
            i += k;
        }
    }
    if (blk_call(BLK_OP_FLUSH, 0, 0, NULL, 0, NULL, 0) != 0)
        err = -EIO;
    return err;
}
