/*
 * user/fsd/pager.c - boot-image files paged on demand.
 *
 * A program in the boot image is a file whose bytes stay in the boot image
 * until someone reads them: its first open makes its memobj a paged one
 * (KS_SYS_MEMOBJ_CREATE_PAGED) and copies nothing. A thread of its own, the
 * pager, waits on a listener of its own; each notification names a slot of
 * `files` (the userdata), and the pager reads the pages asked for out of the
 * boot image and supplies them, READ_AHEAD pages from the first one asked
 * (pages present already are left as they are).
 *
 * Out of memory, a supply is tried again a few times (2 ms apart); then the
 * page is failed (the toucher gets EIO, or is killed for a fault) and kept in
 * `owed`, supplied when memory allows, at the pager's next wake-up (at most
 * 100 ms later), so that a moment without memory does not fail the page for
 * good.
 *
 * The pager answers no IPC call and touches no file mapping, so it never
 * waits for a page itself; the main thread may (a reply into a client's
 * buffer that lies in a file mapping waits for that page), and the pager
 * supplies it meanwhile. A slot is never freed: it holds its own handle of
 * the memobj, since clients may touch pages after the file is removed; there
 * is at most one slot per boot-image file.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <kestrel/syscall.h>
#include "user/fsd/fsd.h"

#define READ_AHEAD 16           /* pages supplied for one asked (64 KiB) */
#define WANT_MAX 32             /* page numbers fetched per KS_SYS_PAGER_REQUESTS */
#define OWED_MAX 16             /* failed for want of memory, to supply later */
#define RETRIES 10

struct paged_file {
    ks_handle_t mo;             /* with KS_RIGHT_PAGER */
    uint64_t off, size;         /* where its bytes are in the boot image */
};

static struct paged_file files[BOOT_MAX_FILES];
static uint32_t nfiles;         /* slots in use; written by the main thread only */
static ks_handle_t pager_listener;
static struct { uint32_t slot; uint64_t page; } owed[OWED_MAX];
static unsigned nowed;

/*
 * Supply pages from `first` of f, read ahead: 1 if done, 0 without memory
 * (tries == 1: once; more: with sleeps between), -1 if the boot image could
 * not be read (the page is failed).
 */
static int supply_once(const struct paged_file *f, uint64_t first, int tries)
{
    static uint8_t buf[READ_AHEAD * KS_PAGE_SIZE];
    uint64_t npages = (f->size + KS_PAGE_SIZE - 1) / KS_PAGE_SIZE;
    if (first >= npages) {
        ks_pager_fail(f->mo, first, 1);     /* (the kernel asks only below the size) */
        return -1;
    }
    uint64_t n = npages - first < READ_AHEAD ? npages - first : READ_AHEAD;
    uint64_t start = first * KS_PAGE_SIZE;
    uint64_t bytes = f->size - start < n * KS_PAGE_SIZE ? f->size - start : n * KS_PAGE_SIZE;
    if (ks_memobj_read(fs.bootimg, f->off + start, buf, bytes) != (long)bytes) {
        ks_pager_fail(f->mo, first, 1);
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

/* Supply a page asked for; out of memory, fail it for now and owe it. */
static void supply(uint32_t slot, uint64_t first)
{
    const struct paged_file *f = &files[slot];
    if (supply_once(f, first, RETRIES) != 0)
        return;
    ks_pager_fail(f->mo, first, 1);
    if (nowed < OWED_MAX)
        owed[nowed++].slot = slot, owed[nowed - 1].page = first;
}

/* Supply what was failed for want of memory, where memory allows now. */
static void pay_owed(void)
{
    for (unsigned i = 0; i < nowed;) {
        if (supply_once(&files[owed[i].slot], owed[i].page, 1) == 0) {
            i++;
            continue;
        }
        owed[i] = owed[--nowed];
    }
}

static void *pager_main(void *arg)
{
    (void)arg;
    for (;;) {
        uint64_t note[2];
        long r = ks_listener_wait(pager_listener, nowed ? 100000000 : KS_FOREVER, note);
        if (nowed)
            pay_owed();
        if (r != 0 || note[0] != KS_PAGER_NOTE)
            continue;
        uint32_t slot = (uint32_t)note[1];
        if (slot >= __atomic_load_n(&nfiles, __ATOMIC_ACQUIRE))
            continue;
        const struct paged_file *f = &files[slot];
        uint64_t want[WANT_MAX];
        long n;
        while ((n = ks_pager_requests(f->mo, want, WANT_MAX)) > 0)   /* notifications coalesce */
            for (long i = 0; i < n; i++)
                supply(slot, want[i]);
    }
    return NULL;
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
    if (pthread_create(&t, NULL, pager_main, NULL) != 0) {
        ks_handle_close(pager_listener);
        pager_listener = 0;
    }
}

long pager_file(struct node *n)
{
    uint32_t slot = nfiles;
    pager_start();
    if (!pager_listener || slot == BOOT_MAX_FILES)
        return -ENOSYS;
    long mo = ks_memobj_create_paged(n->boot_size, pager_listener, slot);
    if (mo < 0)
        return mo == KS_ERR_NO_HANDLES ? -ENFILE : -ENOMEM;
    long mine = ks_handle_duplicate((ks_handle_t)mo, KS_RIGHT_PAGER);
    if (mine < 0) {
        ks_handle_close((ks_handle_t)mo);
        return mine == KS_ERR_NO_HANDLES ? -ENFILE : -ENOMEM;
    }
    files[slot] = (struct paged_file){ (ks_handle_t)mine, n->boot_off, n->boot_size };
    __atomic_store_n(&nfiles, slot + 1, __ATOMIC_RELEASE);
    n->mo = (ks_handle_t)mo;
    n->lazy = 0;
    return 0;
}
