/*
 * user/fsd.c - the FS server: a RAM file system and the console, served over
 * kestrel IPC in the protocol of user/lib/fsproto.h (musl_emu.c is the client).
 *
 * init starts it with three handles (auxv KS_AT_HANDLE_0 + i): the listener
 * its client ports come from, the console UART's device memobj and the UART's
 * irq; argv[1] and argv[2] say where the UART's registers are in that memobj
 * (register n at offset argv[1] + (n << argv[2]); both 0 if absent).
 *
 * The tree: directories, regular files and the console device. A regular file
 * is a memobj; opening it hands the client a view and a memobj handle, and
 * reads and writes never come back here. The tree is seeded at start with
 * /bin/<program> for every program in the boot image (copied into its memobj
 * only when first opened: boot time matters), /dev/console, /tmp and /etc/motd.
 *
 * Ports (named as in fsproto.h) and their userdata: a root port has
 * FS_PORT_ROOT (0), a console port UD_CONSOLE, a directory port UD_DIR | inode;
 * the UART's irq notifications come with UD_IRQ. A directory port keeps no
 * record here at all: it names the inode, and READDIR's position comes with
 * every request, so nothing has to be freed when the client closes the port
 * (which the server cannot see). Inode numbers are never reused, so a port of
 * a removed directory just finds nothing (READDIR: end, FSTAT: ENOENT).
 *
 * Two threads. The main one (serve) listens on fs.listener and serves every
 * port but the write ports, in one loop that replies and receives in one
 * system call; a console read with no input yet is parked (its reply port
 * kept) and answered when the UART's receive interrupt brings bytes. The
 * console writer (console_writer) serves the write ports, on a listener of its
 * own that it receives on without a descriptor, so short console writes go
 * through the kernel's IPC fast path (the main loop must receive with a
 * buffer, which the fast path can serve only in part). The UART's output and
 * its counters are shared under out_lock().
 *
 * No stdio: fsd's own stdout would be a call to itself. Fatal start-up errors
 * go to the kernel's debug console; nothing else does.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <kestrel/bootimg.h>
#include "musl_emu.h"
#include "user/lib/fsproto.h"
#include "user/lib/ipc.h"
#include "user/lib/ks.h"

#define NAME_MAX_LEN    255             /* longest name of one entry, as Linux's NAME_MAX */
#define MAX_NODES       65536           /* beyond this, creating anything is ENOSPC */
#define INO_BUCKETS     256
#define BOOT_MAX_FILES  256

/* Userdata of console and directory ports (besides FS_PORT_ROOT's), and of the irq binding. */
#define UD_CONSOLE      1ull
#define UD_IRQ          2ull
#define UD_DIR          (1ull << 63)    /* | inode number */

/* ---- the tree ---- */

enum node_type { NODE_DIR, NODE_FILE, NODE_CONSOLE };

/*
 * One file system object. Each directory keeps its entries in a doubly linked
 * list in creation order (READDIR positions are indexes into it: an entry
 * added while a reader walks the directory goes at the end); every node is
 * also in a hash chain by inode number, for STAT by inode and directory ports.
 */
struct node {
    uint64_t ino;
    uint8_t type;               /* enum node_type */
    uint8_t lazy;               /* FILE: contents still only in the boot image */
    char *name;                 /* malloc'd, NUL-terminated; "" for the root */
    size_t namelen;             /* strlen(name), so lookups compare lengths first */
    struct node *parent;        /* the directory it is in (the root: itself) */
    struct node *prev, *next;   /* siblings in parent's list */
    struct node *first, *last;  /* DIR: its entries */
    uint32_t nentries;          /* DIR: how many */
    uint64_t next_seq;          /* DIR: the seq its next entry gets */
    uint64_t seq;               /* its place in its directory: entries are in increasing seq,
                                   never reused, so a readdir position survives unlinks */
    uint32_t nsubdirs;          /* DIR: how many of them are directories (for nlink) */
    struct node *hash_next;     /* chain in ino_hash */
    ks_handle_t mo;             /* FILE: its memobj (0 while lazy) */
    uint64_t boot_off, boot_size;   /* FILE, lazy: where its bytes are in the boot image */
    uint64_t mtime_ns, ctime_ns;
};

static struct {
    ks_handle_t listener;
    ks_handle_t write_listener;     /* the write ports' (console_writer receives on it), or 0 */
    ks_handle_t bootimg;
    struct node *root;
    struct node *ino_hash[INO_BUCKETS];
    uint64_t next_ino;
    uint64_t nnodes;
} fs;

/* /dev/console: console ports answer FSTAT from it, so it is never removed (EBUSY). */
static struct node *console_node;

static uint64_t now_ns(void)
{
    return (uint64_t)ks_clock_ns() + MUSL_EMU_REALTIME_BASE_NS;
}

static struct node *ino_find(uint64_t ino)
{
    for (struct node *n = fs.ino_hash[ino % INO_BUCKETS]; n; n = n->hash_next)
        if (n->ino == ino)
            return n;
    return NULL;
}

static void ino_unhash(struct node *n)
{
    struct node **p = &fs.ino_hash[n->ino % INO_BUCKETS];
    while (*p && *p != n)
        p = &(*p)->hash_next;
    if (*p)
        *p = n->hash_next;
}

/* The entry `name` (len bytes) of directory d, or NULL. */
static struct node *dir_find(struct node *d, const char *name, size_t len)
{
    for (struct node *n = d->first; n; n = n->next)
        if (n->namelen == len && n->name[0] == name[0] && memcmp(n->name, name, len) == 0)
            return n;
    return NULL;
}

/* Append n to directory d's entries. */
static void dir_link(struct node *d, struct node *n)
{
    n->parent = d;
    n->seq = d->next_seq++;
    n->next = NULL;
    n->prev = d->last;
    if (d->last)
        d->last->next = n;
    else
        d->first = n;
    d->last = n;
    d->nentries++;
    if (n->type == NODE_DIR)
        d->nsubdirs++;
    d->mtime_ns = d->ctime_ns = now_ns();
}

/* Take n out of its directory's entries. */
static void dir_unlink(struct node *n)
{
    struct node *d = n->parent;
    if (n->prev)
        n->prev->next = n->next;
    else
        d->first = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        d->last = n->prev;
    n->prev = n->next = NULL;
    d->nentries--;
    if (n->type == NODE_DIR)
        d->nsubdirs--;
    d->mtime_ns = d->ctime_ns = now_ns();
}

static char *name_dup(const char *name, size_t len)
{
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, name, len);
        s[len] = 0;
    }
    return s;
}

/*
 * A new node of `type` named name (len bytes) in directory d (NULL: the root),
 * without contents. NULL if out of memory or nodes.
 */
static struct node *node_new(struct node *d, const char *name, size_t len, enum node_type type)
{
    if (fs.nnodes >= MAX_NODES)
        return NULL;
    struct node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->name = name_dup(name, len);
    if (!n->name) {
        free(n);
        return NULL;
    }
    n->namelen = len;
    n->type = (uint8_t)type;
    n->ino = fs.next_ino++;
    n->mtime_ns = n->ctime_ns = now_ns();
    n->hash_next = fs.ino_hash[n->ino % INO_BUCKETS];
    fs.ino_hash[n->ino % INO_BUCKETS] = n;
    fs.nnodes++;
    if (d)
        dir_link(d, n);
    else
        n->parent = n;
    return n;
}

static int out_of_handles;     /* the last failed create ran out of handles, not memory */

/* node_new, and a regular file gets an empty memobj. */
static struct node *node_create(struct node *d, const char *name, size_t len, enum node_type type)
{
    long mo = type == NODE_FILE ? ks_memobj_create(0) : 0;
    out_of_handles = mo == KS_ERR_NO_HANDLES;
    if (mo < 0)
        return NULL;
    struct node *n = node_new(d, name, len, type);
    if (!n) {
        if (mo)
            ks_handle_close((ks_handle_t)mo);
        return NULL;
    }
    n->mo = (ks_handle_t)mo;
    return n;
}

/*
 * Why creating a node failed. Every regular file holds a memobj handle here, so
 * fsd's handle table (KS_HANDLE_MAX) bounds the number of files: ENOSPC.
 */
static long create_error(void)
{
    return fs.nnodes >= MAX_NODES || out_of_handles ? -ENOSPC : -ENOMEM;
}

/* Remove n (a file, or an empty directory) for good. Clients holding its memobj keep it. */
static void node_remove(struct node *n)
{
    dir_unlink(n);
    ino_unhash(n);
    if (n->mo)
        ks_handle_close(n->mo);
    free(n->name);
    free(n);
    fs.nnodes--;
}

/* Copy a lazy boot-image file into its memobj. 0 or -errno. */
static long file_load(struct node *n)
{
    static uint8_t chunk[16384];
    if (!n->lazy)
        return 0;
    long mo = ks_memobj_create(n->boot_size);
    if (mo < 0)
        return -ENOMEM;
    for (uint64_t off = 0; off < n->boot_size;) {
        uint64_t want = n->boot_size - off < sizeof chunk ? n->boot_size - off : sizeof chunk;
        long r = ks_memobj_read(fs.bootimg, n->boot_off + off, chunk, want);
        if (r > 0)
            r = ks_memobj_write((ks_handle_t)mo, off, chunk, (size_t)r);
        if (r <= 0) {
            ks_handle_close((ks_handle_t)mo);
            return -EIO;
        }
        off += (uint64_t)r;
    }
    n->mo = (ks_handle_t)mo;
    n->lazy = 0;
    return 0;
}

static uint64_t file_size(const struct node *n)
{
    if (n->lazy)
        return n->boot_size;
    long s = ks_memobj_size(n->mo);
    return s > 0 ? (uint64_t)s : 0;
}

/* Truncate a file to 0 (O_TRUNC): a lazy one gets an empty memobj, nothing copied. */
static long file_truncate(struct node *n)
{
    if (n->lazy) {
        long mo = ks_memobj_create(0);
        if (mo < 0)
            return -ENOMEM;
        n->mo = (ks_handle_t)mo;
        n->lazy = 0;
    } else if (ks_memobj_truncate(n->mo, 0) < 0) {
        return -EIO;
    }
    n->mtime_ns = n->ctime_ns = now_ns();
    return 0;
}

/* ---- paths ---- */

/*
 * What a path names. Resolution walks from the root one component at a time,
 * so "." and ".." and repeated slashes come out as Linux would have them
 * (every component before the last must be an existing directory).
 */
struct lookup {
    struct node *dir;           /* the directory the last component is in */
    struct node *node;          /* what the path names; NULL if the last component is missing */
    const char *name;           /* the last component (not NUL-terminated) */
    size_t namelen;             /* 0 for "/" */
    int dotted;                 /* the last component is "." or ".." */
    int trailing_slash;         /* the path ends in "/" after a component */
};

/*
 * Resolve path (len bytes, absolute, no NUL) into *lk: 0, or -errno. A missing
 * last component is not an error (lk->node NULL, lk->dir where it would go).
 */
static long resolve(const char *path, size_t len, struct lookup *lk)
{
    memset(lk, 0, sizeof *lk);
    if (len == 0)
        return -ENOENT;
    if (len > FS_PATH_MAX)
        return -ENAMETOOLONG;
    if (path[0] != '/')
        return -EINVAL;         /* musl_emu sends absolute paths, without NUL */
    lk->dir = lk->node = fs.root;
    size_t i = 0;
    for (;;) {
        while (i < len && path[i] == '/')
            i++;
        if (i == len)
            break;
        size_t j = i;
        while (j < len && path[j] != '/' && path[j])
            j++;
        if (j < len && !path[j])
            return -EINVAL;     /* a NUL inside the path (the scan sees every byte) */
        if (j - i > NAME_MAX_LEN)
            return -ENAMETOOLONG;
        if (!lk->node)
            return -ENOENT;     /* a missing directory on the way */
        if (lk->node->type != NODE_DIR)
            return -ENOTDIR;
        struct node *d = lk->node;
        const char *c = path + i;
        size_t cl = j - i;
        lk->dir = d;
        lk->name = c;
        lk->namelen = cl;
        lk->dotted = (cl == 1 && c[0] == '.') || (cl == 2 && c[0] == '.' && c[1] == '.');
        if (lk->dotted)
            lk->node = cl == 1 ? d : d->parent;
        else
            lk->node = dir_find(d, c, cl);
        i = j;
    }
    lk->trailing_slash = lk->namelen > 0 && path[len - 1] == '/';
    if (lk->node && lk->trailing_slash && lk->node->type != NODE_DIR)
        return -ENOTDIR;
    return 0;
}

/* Is node a, or anything under it, the directory d? */
static int is_within(const struct node *d, const struct node *a)
{
    for (;;) {
        if (d == a)
            return 1;
        if (d == fs.root)
            return 0;
        d = d->parent;
    }
}

/* ---- a request and its reply ---- */

/*
 * One request as it came in, and the reply being built: MR0 of the reply is
 * the handler's return value (status); the handlers fill out[1..] and may
 * attach a buffer and handles (moved to the caller).
 */
struct req {
    uint64_t in[KS_IPC_WORDS];  /* the request's words */
    uint64_t userdata;          /* of the client port it came through */
    const uint8_t *buf;         /* the request's buffer */
    size_t len;                 /* its length (what arrived) */
    int truncated;              /* the caller sent more than our buffer holds */
    uint64_t out[KS_IPC_WORDS];
    const void *send_buf;
    size_t send_len;
    ks_handle_t handles[2];
    uint32_t nhandles;
};

#define DEFERRED    (1l << 62)  /* a handler's "no reply now": the reply port was kept */

/*
 * The main thread's buffers: recv_buf gets a request's bytes (a path, two for
 * RENAME, or a console write of up to KS_IPC_MAX_BUF); send_buf holds a
 * reply's (READDIR records, console input).
 */
static uint8_t recv_buf[KS_IPC_MAX_BUF];
static uint8_t send_buf[KS_IPC_MAX_BUF];

/* st_mode of a node of this type. */
static uint64_t type_mode(uint8_t type)
{
    return type == NODE_DIR ? S_IFDIR | 0755 : type == NODE_FILE ? S_IFREG | 0644 : S_IFCHR | 0620;
}

/* MR1..MR6 of a STAT or FSTAT reply (struct fs_stat). */
static void stat_words(const struct node *n, uint64_t out[KS_IPC_WORDS])
{
    struct fs_stat *s = (struct fs_stat *)&out[1];
    s->ino = n->ino;
    s->mode = type_mode(n->type);
    s->size = n->type == NODE_FILE ? file_size(n) : n->type == NODE_DIR ? 4096 : 0;
    s->nlink = n->type == NODE_DIR ? 2 + n->nsubdirs : 1;
    s->mtime_ns = n->mtime_ns;
    s->ctime_ns = n->ctime_ns;
}

/* ---- the console ---- */

/*
 * The UART (a 16550) through its MMIO page mapped shared into this process.
 * Without the device memobj (an old kernel, a failed mapping) output falls
 * back to the kernel's debug console.
 */
#define UART_RBR    0           /* receive buffer (read) */
#define UART_THR    0           /* transmit holding (write) */
#define UART_IER    1           /* interrupt enable: bit 0 received data available */
#define UART_LSR    5           /* line status: bit 0 data ready, bit 5 THR empty */
#define LSR_DR      0x01
#define LSR_THRE    0x20

#define RING_SIZE   4096        /* console input not yet read (a power of two) */
#define MAX_READERS 16          /* parked console reads */

/* A console read waiting for input: its reply port and how much it wants. */
struct reader {
    ks_handle_t reply;
    uint64_t max;
};

static struct {
    volatile uint8_t *regs;     /* the mapped registers, or NULL */
    uint64_t reg_offset;
    unsigned reg_shift;
    ks_handle_t irq;            /* the UART's interrupt, as init gave it (0: none) */
    ks_handle_t bound_irq;      /* irq once bound to fs.listener (the first read), else 0;
                                   until then a read returns what is there, or end of file */
    uint8_t ring[RING_SIZE];
    uint32_t head, tail;        /* ring: bytes [tail, head) (free-running counters) */
    struct reader readers[MAX_READERS];
    unsigned nreaders;
    uint64_t bytes_written, write_requests;
    volatile int out_busy;      /* out_lock's word: guards the UART's output and the counters */
} con;

/*
 * The output lock. Held only while bytes go to the UART, never across a
 * system call that blocks, so a thread that finds it taken just yields (on one
 * hart the holder was preempted and runs next). Far cheaper than a pthread
 * mutex on the short-write path, which is what this server is measured by.
 */
static void out_lock(void)
{
    while (__atomic_exchange_n(&con.out_busy, 1, __ATOMIC_ACQUIRE))
        ks_thread_yield();
}

static void out_unlock(void)
{
    __atomic_store_n(&con.out_busy, 0, __ATOMIC_RELEASE);
}

static volatile uint8_t *uart_reg(unsigned n)
{
    return con.regs + con.reg_offset + ((uint64_t)n << con.reg_shift);
}

/* Polled output: each byte once the line status says the transmitter is empty (out_lock held). */
static void console_out(const uint8_t *p, size_t n)
{
    if (!con.regs) {
        ks_debug_write(p, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        while (!(*uart_reg(UART_LSR) & LSR_THRE))
            ;
        *uart_reg(UART_THR) = p[i];
    }
}

/* One console write request, from either thread: out in one piece, and counted. */
static void console_emit(const uint8_t *p, size_t n)
{
    out_lock();
    console_out(p, n);
    con.bytes_written += n;
    con.write_requests++;
    out_unlock();
}

/* Move what the UART has received into the ring (dropping bytes when it is full). */
static void console_drain(void)
{
    if (!con.regs)
        return;
    while (*uart_reg(UART_LSR) & LSR_DR) {
        uint8_t c = *uart_reg(UART_RBR);
        if (con.head - con.tail < RING_SIZE)
            con.ring[con.head++ % RING_SIZE] = c;
    }
}

/* Take up to max bytes from the ring into out. */
static size_t ring_take(uint8_t *out, size_t max)
{
    size_t n = 0;
    while (n < max && con.tail != con.head)
        out[n++] = con.ring[con.tail++ % RING_SIZE];
    return n;
}

/* Answer parked readers, oldest first, while there is input. */
static void readers_serve(void)
{
    while (con.nreaders && con.tail != con.head) {
        struct reader rd = con.readers[0];
        memmove(&con.readers[0], &con.readers[1], --con.nreaders * sizeof con.readers[0]);
        size_t n = ring_take(send_buf, rd.max);
        uint64_t w[KS_IPC_WORDS] = { n };
        struct ks_ipc_desc d = { .send_buf = send_buf, .send_len = n };
        ks_ipc_reply(rd.reply, &d, w);  /* a reader that went away: its bytes are lost */
        ks_handle_close(rd.reply);
    }
}

/* The UART interrupted: collect its input, let the line fire again, wake readers. */
static void console_irq(void)
{
    console_drain();
    ks_irq_ack(con.bound_irq);
    readers_serve();
}

/*
 * Input: bind the UART's interrupt to our listener and enable the receive
 * interrupt, at the first console read. Until then the interrupt line is
 * free: user/udev.c (run by init in the test configuration, before anything
 * reads the console) tests interrupt delivery on this very UART.
 */
static void console_input_on(void)
{
    if (con.bound_irq || !con.regs || !con.irq)
        return;
    if (ks_irq_bind(con.irq, fs.listener, UD_IRQ) == 0) {
        con.bound_irq = con.irq;
        *uart_reg(UART_IER) = 0x01;     /* interrupt on received data */
        console_drain();
    }
}

/* Map the UART's registers; remember its interrupt for console_input_on. */
static void console_init(ks_handle_t mmio, ks_handle_t irq, uint64_t reg_offset, unsigned shift)
{
    con.reg_offset = reg_offset;
    con.reg_shift = shift;
    if (mmio) {
        long size = ks_memobj_size(mmio);
        long a = size > 0 && reg_offset + ((uint64_t)UART_LSR << shift) < (uint64_t)size
                     ? ks_vm_map(KS_PROCESS_SELF, mmio, 0, 0, (size_t)size,
                                 KS_MAP_SHARED | KS_PROT_READ | KS_PROT_WRITE)
                     : -1;
        if (a > 0)
            con.regs = (volatile uint8_t *)a;
    }
    con.irq = irq;
}

static long con_write(struct req *q)
{
    uint64_t len = q->in[1];
    const uint8_t *data;
    if (len <= FS_INLINE_MAX) {
        data = (const uint8_t *)&q->in[2];
    } else {
        data = q->buf;
        if (len > q->len)
            len = q->len;       /* never past what arrived */
    }
    console_emit(data, len);
    return (long)len;
}

/*
 * The console writer: a second thread, serving the write ports (every open
 * of the console hands one out with the console port). It receives
 * without a descriptor, so a short write (the bytes in MR2..MR7) is a
 * register-only message to a waiting receiver, which the kernel's IPC fast
 * path carries both ways. Anything but such a write gets -EINVAL.
 */
static void *console_writer(void *arg)
{
    uint64_t w[KS_IPC_WORDS] = { 0 }, ud, info;
    long reply = ks_ipc_receive(fs.write_listener, NULL, w, &ud, &info);
    for (;;) {
        if (reply <= 0) {       /* an error, or a notification (none is bound here) */
            if (reply == KS_ERR_PEER_CLOSED || ks_handle_info(fs.write_listener) < 0)
                return NULL;
            memset(w, 0, sizeof w);
            reply = ks_ipc_receive(fs.write_listener, NULL, w, &ud, &info);
            continue;
        }
        uint64_t len = w[1];
        if (w[0] == FS_OP_WRITE && len <= FS_INLINE_MAX) {
            console_emit((const uint8_t *)&w[2], len);
            w[0] = len;
        } else {
            w[0] = (uint64_t)-EINVAL;
        }
        memset(&w[1], 0, sizeof w - sizeof w[0]);
        reply = ks_ipc_reply_receive((ks_handle_t)reply, fs.write_listener, NULL, w, &ud, &info);
    }
}

/* Start the console writer; without it (fs.write_listener 0) consoles open without a write port. */
static void console_writer_start(void)
{
    pthread_t t;
    long l = ks_ipc_listener_create();
    if (l < 0)
        return;
    fs.write_listener = (ks_handle_t)l;
    if (pthread_create(&t, NULL, console_writer, NULL) != 0) {
        ks_handle_close(fs.write_listener);
        fs.write_listener = 0;
    }
}

/* A console read: answered now if input is there, else parked until the irq brings some. */
static long con_read(struct req *q, ks_handle_t reply)
{
    uint64_t max = q->in[1] > KS_IPC_MAX_BUF ? KS_IPC_MAX_BUF : q->in[1];
    console_input_on();
    console_drain();
    if (max == 0 || con.tail != con.head || !con.bound_irq) {
        size_t n = ring_take(send_buf, max);
        q->send_buf = send_buf;
        q->send_len = n;
        return (long)n;
    }
    if (con.nreaders == MAX_READERS)
        return -EAGAIN;
    con.readers[con.nreaders++] = (struct reader){ reply, max };
    return DEFERRED;
}

/* ---- operations on the root port ---- */

/* errno for a failure to make a handle to give away: our handle table is full, or memory. */
static long handle_error(long ks)
{
    return ks == KS_ERR_NO_HANDLES ? -ENFILE : -ENOMEM;
}

/* Give the caller a new client port with userdata ud (moved). */
static long give_port(struct req *q, uint64_t ud)
{
    long p = ks_ipc_client_create(fs.listener, ud);
    if (p < 0)
        return handle_error(p);
    q->handles[0] = (ks_handle_t)p;
    q->nhandles = 1;
    return 0;
}

/* The console's ports: the console port and, if the writer runs, a write port. */
static long give_console(struct req *q)
{
    long r = give_port(q, UD_CONSOLE);
    if (r < 0 || !fs.write_listener)
        return r;
    long p = ks_ipc_client_create(fs.write_listener, UD_CONSOLE);
    if (p < 0) {
        ks_handle_close(q->handles[0]);
        q->nhandles = 0;
        return handle_error(p);
    }
    q->handles[1] = (ks_handle_t)p;
    q->nhandles = 2;
    return 0;
}

/* A view (access by open flags) and a memobj handle for file n, both moved to the caller. */
static long give_file(struct req *q, struct node *n, int acc)
{
    uint32_t vr = KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE;
    uint32_t mr = KS_RIGHT_READ | KS_RIGHT_MAP | KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE;
    if (acc != O_WRONLY)
        vr |= KS_RIGHT_READ;
    if (acc != O_RDONLY) {
        vr |= KS_RIGHT_WRITE;
        mr |= KS_RIGHT_WRITE;
    }
    long r = file_load(n);
    if (r < 0)
        return r;
    long v = ks_view_create(n->mo, vr);
    if (v < 0)
        return handle_error(v);
    long m = ks_handle_duplicate(n->mo, mr);
    if (m < 0) {
        ks_handle_close((ks_handle_t)v);
        return handle_error(m);
    }
    q->handles[0] = (ks_handle_t)v;
    q->handles[1] = (ks_handle_t)m;
    q->nhandles = 2;
    return 0;
}

static long op_open(struct req *q)
{
    uint64_t flags = q->in[1];
    int acc = (int)(flags & 3);         /* O_RDONLY, O_WRONLY or O_RDWR */
    struct lookup lk;
    if (acc == 3)
        return -EINVAL;
    long r = resolve((const char *)q->buf, q->len, &lk);
    if (r < 0)
        return r;
    struct node *n = lk.node;
    if (!n) {
        if (!(flags & O_CREAT))
            return -ENOENT;
        if (lk.trailing_slash)
            return -EISDIR;
        if (flags & O_DIRECTORY)
            return -EINVAL;
        n = node_create(lk.dir, lk.name, lk.namelen, NODE_FILE);
        if (!n)
            return create_error();
    } else {
        if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
            return -EEXIST;
        if (n->type == NODE_DIR && (acc != O_RDONLY || (flags & O_CREAT)))
            return -EISDIR;
        if ((flags & O_DIRECTORY) && n->type != NODE_DIR)
            return -ENOTDIR;
        if (n->type == NODE_FILE && (flags & O_TRUNC) && (r = file_truncate(n)) < 0)
            return r;
    }
    switch (n->type) {
    case NODE_FILE:
        r = give_file(q, n, acc);
        break;
    case NODE_DIR:
        r = give_port(q, UD_DIR | n->ino);
        break;
    default:
        r = give_console(q);
        break;
    }
    if (r < 0)
        return r;
    q->out[1] = n->ino;
    q->out[2] = type_mode(n->type);
    return n->type == NODE_FILE ? FS_KIND_FILE : n->type == NODE_DIR ? FS_KIND_DIR : FS_KIND_CONSOLE;
}

static long op_stat(struct req *q)
{
    struct node *n;
    if (q->len == 0) {
        n = ino_find(q->in[1]);
        if (!n)
            return -ENOENT;
    } else {
        struct lookup lk;
        long r = resolve((const char *)q->buf, q->len, &lk);
        if (r < 0)
            return r;
        if (!(n = lk.node))
            return -ENOENT;
    }
    stat_words(n, q->out);
    return 0;
}

static long op_mkdir(struct req *q)
{
    struct lookup lk;
    long r = resolve((const char *)q->buf, q->len, &lk);
    if (r < 0)
        return r;
    if (lk.node)
        return -EEXIST;
    if (!node_create(lk.dir, lk.name, lk.namelen, NODE_DIR))
        return create_error();
    return 0;
}

static long op_unlink(struct req *q)
{
    uint64_t rmdir = q->in[1];
    struct lookup lk;
    if (rmdir > 1)
        return -EINVAL;
    long r = resolve((const char *)q->buf, q->len, &lk);
    if (r < 0)
        return r;
    struct node *n = lk.node;
    if (!n)
        return -ENOENT;
    if (n == fs.root || n == console_node)
        return -EBUSY;
    if (!rmdir) {
        if (n->type == NODE_DIR)
            return -EISDIR;
        node_remove(n);
        return 0;
    }
    if (lk.dotted)
        return -EINVAL;         /* rmdir("x/.") and rmdir("x/..") */
    if (n->type != NODE_DIR)
        return -ENOTDIR;
    if (n->nentries)
        return -ENOTEMPTY;
    node_remove(n);
    return 0;
}

/* Can node `from` take the place of `to` (an existing node) in a rename? 0 or -errno. */
static long rename_replace_ok(const struct node *from, const struct node *to)
{
    if (from->type == NODE_DIR) {
        if (to->type != NODE_DIR)
            return -ENOTDIR;
        if (to->nentries)
            return -ENOTEMPTY;
    } else if (to->type == NODE_DIR) {
        return -EISDIR;
    }
    if (to == fs.root || to == console_node)
        return -EBUSY;
    return 0;
}

static long op_rename(struct req *q)
{
    uint64_t old_len = q->in[1];
    struct lookup a, b;
    if (old_len > q->len)
        return -EINVAL;
    long r = resolve((const char *)q->buf, old_len, &a);
    if (r < 0)
        return r;
    if ((r = resolve((const char *)q->buf + old_len, q->len - old_len, &b)) < 0)
        return r;
    struct node *n = a.node;
    if (!n)
        return -ENOENT;
    if (n == fs.root || a.dotted || b.dotted || b.namelen == 0)
        return -EBUSY;
    if (b.node == n)
        return 0;               /* the same file: nothing to do */
    if (n->type != NODE_DIR && b.trailing_slash)
        return -ENOTDIR;
    if (n->type == NODE_DIR && is_within(b.dir, n))
        return -EINVAL;         /* into its own subtree */
    if (b.node && (r = rename_replace_ok(n, b.node)) < 0)
        return r;
    char *name = name_dup(b.name, b.namelen);
    if (!name)
        return -ENOMEM;
    if (b.node)
        node_remove(b.node);
    dir_unlink(n);
    free(n->name);
    n->name = name;
    n->namelen = b.namelen;
    dir_link(b.dir, n);
    n->ctime_ns = now_ns();
    return 0;
}

/* ---- operations on a directory port ---- */

/* One linux_dirent64 at p (room bytes there); its length, or 0 if it does not fit. */
static size_t dirent_put(uint8_t *p, size_t room, uint64_t ino, uint64_t next_pos,
                         const char *name, uint8_t type)
{
    size_t nl = strlen(name);
    size_t reclen = (offsetof(struct dirent, d_name) + nl + 1 + 7) & ~(size_t)7;
    if (reclen > room)
        return 0;
    struct dirent de;
    memset(p, 0, reclen);
    de.d_ino = ino;
    de.d_off = (off_t)next_pos;
    de.d_reclen = (unsigned short)reclen;
    de.d_type = type;
    memcpy(p, &de, offsetof(struct dirent, d_name));
    memcpy(p + offsetof(struct dirent, d_name), name, nl);
    return reclen;
}

static uint8_t dirent_type(const struct node *n)
{
    return n->type == NODE_DIR ? DT_DIR : n->type == NODE_FILE ? DT_REG : DT_CHR;
}

/*
 * READDIR: entries from position MR1 (0 ".", 1 "..", then the directory's
 * list). MR2, if not 0, is the caller's buffer size: as many whole records as
 * fit. Without it the server cannot know what fits (the kernel would cut the
 * reply), so it sends one record, which always fits a getdents64 buffer.
 *
 * A position past ".." names no index but an entry's seq: position 2 + s is
 * the first entry whose seq is at least s, and an entry's d_off (where the
 * walk goes on after it) is 3 + its seq. Entries keep their seq for life and
 * new ones get higher ones, so unlinking entries, before or after the
 * position, never makes a walk skip or repeat one (an index into the list
 * shifted under it: rm -r of 100 files left 38), and an entry created during
 * a walk comes at its end.
 */
static long op_readdir(struct req *q, struct node *d)
{
    uint64_t pos = q->in[1], cap = q->in[2];
    size_t used = 0;
    if (cap == 0)
        cap = sizeof(struct dirent);            /* 280 bytes: any one record */
    if (cap > sizeof send_buf)
        cap = sizeof send_buf;
    q->send_buf = send_buf;
    q->out[1] = pos;
    if (!d)
        return 0;               /* removed since it was opened: nothing left */
    struct node *e = d->first;
    while (e && pos > 2 && e->seq < pos - 2)
        e = e->next;
    for (;;) {
        uint64_t next = pos == 0 ? 1 : pos == 1 ? 2 : e ? e->seq + 3 : 0;
        size_t n = 0;
        if (pos == 0)
            n = dirent_put(send_buf + used, cap - used, d->ino, next, ".", DT_DIR);
        else if (pos == 1)
            n = dirent_put(send_buf + used, cap - used, d->parent->ino, next, "..", DT_DIR);
        else if (e)
            n = dirent_put(send_buf + used, cap - used, e->ino, next, e->name, dirent_type(e));
        if (n == 0)
            break;              /* the end, or the buffer is full */
        used += n;
        if (pos >= 2)
            e = e->next;
        pos = next;
    }
    if (used == 0 && (pos < 2 || e))
        return -EINVAL;         /* the buffer cannot take even one record */
    q->send_len = used;
    q->out[1] = pos;
    return (long)used;
}

/* ---- dispatch: by the port a request came through ---- */

/* A request on a root port; the reply's status. */
static long op_root(struct req *q)
{
    if (q->truncated)
        return -ENAMETOOLONG;
    switch (q->in[0]) {
    case FS_OP_OPEN: return op_open(q);
    case FS_OP_STAT: return op_stat(q);
    case FS_OP_MKDIR: return op_mkdir(q);
    case FS_OP_UNLINK: return op_unlink(q);
    case FS_OP_RENAME: return op_rename(q);
    case FS_OP_STATS:
        out_lock();
        q->out[1] = con.bytes_written;
        q->out[2] = con.write_requests;
        out_unlock();
        return 0;
    default: return -EINVAL;
    }
}

/* A request on a console port; the status, or DEFERRED for a read that waits for input. */
static long op_console(struct req *q, ks_handle_t reply)
{
    switch (q->in[0]) {
    case FS_OP_WRITE: return con_write(q);
    case FS_OP_READ: return con_read(q, reply);
    case FS_OP_FSTAT: stat_words(console_node, q->out); return 0;
    default: return -EINVAL;
    }
}

/* A request on the directory port of inode `ino` (which may be gone by now); the status. */
static long op_dir(struct req *q, uint64_t ino)
{
    struct node *d = ino_find(ino);
    if (d && d->type != NODE_DIR)
        d = NULL;
    switch (q->in[0]) {
    case FS_OP_READDIR: return op_readdir(q, d);
    case FS_OP_FSTAT:
        if (!d)
            return -ENOENT;
        stat_words(d, q->out);
        return 0;
    default: return -EINVAL;
    }
}

/* Serve request q, which came with reply port `reply`: the reply's status, or DEFERRED. */
static long dispatch(struct req *q, ks_handle_t reply)
{
    if (q->userdata == FS_PORT_ROOT)
        return op_root(q);
    if (q->userdata == UD_CONSOLE)
        return op_console(q, reply);
    if (q->userdata & UD_DIR)
        return op_dir(q, q->userdata & ~UD_DIR);
    return -EBADF;
}

/*
 * A reply-and-receive failed with r: the reply may not have gone out. Handles
 * that were to move and are still ours are closed (values of handles already
 * gone are stale and fail harmlessly: handle values carry a generation); the
 * caller gets a bare -EIO if it still waits, or PEER_CLOSED once the reply
 * port's handle is closed.
 */
static void reply_failed(ks_handle_t reply, const ks_handle_t *sent, uint32_t nsent)
{
    uint64_t w[KS_IPC_WORDS] = { (uint64_t)-EIO };
    for (uint32_t i = 0; i < nsent; i++)
        ks_handle_close(sent[i]);
    if (ks_ipc_reply(reply, NULL, w) < 0)
        ks_handle_close(reply);
}

/*
 * Make q a blank request: no reply words, nothing to send. (Its other fields
 * are set from each message as it arrives.) Field by field, which costs less
 * than clearing the whole struct with memset.
 */
static void req_reset(struct req *q)
{
    _Static_assert(KS_IPC_WORDS == 8 && sizeof q->handles / sizeof q->handles[0] == 2,
                   "req_reset clears each word and handle");
    q->out[0] = q->out[1] = q->out[2] = q->out[3] = 0;
    q->out[4] = q->out[5] = q->out[6] = q->out[7] = 0;
    q->send_buf = NULL;
    q->send_len = 0;
    q->handles[0] = q->handles[1] = 0;
    q->nhandles = 0;
}

/*
 * A request whose path came in MR3..MR7 (FS_PATH_INLINE, fsproto.h): make it
 * look like one that sent the path as its buffer. A length beyond what the
 * registers hold, or a buffer sent as well, makes the request invalid.
 */
static void take_inline_path(struct req *q)
{
    static uint8_t inline_path[FS_PATH_INLINE_MAX];
    size_t len = (q->in[0] >> FS_PATH_INLINE_SHIFT) & 0xff;
    memcpy(inline_path, &q->in[3], sizeof inline_path);
    q->buf = inline_path;
    if (len > FS_PATH_INLINE_MAX || q->len != 0)
        q->in[0] = 0;                   /* no such operation: -EINVAL */
    else
        q->in[0] &= FS_OP_MASK;
    q->len = len;
}

/* Serve until the listener is gone: reply to the last request and wait for the next, in one call. */
static void serve(void)
{
    static struct req q;
    struct ks_ipc_desc d;
    long reply = 0;
    memset(&d, 0, sizeof d);
    for (;;) {
        uint64_t w[KS_IPC_WORDS], ud = 0, info = 0;
        /* d's send part and outputs, as a fresh descriptor has them (its buffers are set below) */
        d.send_buf = NULL;
        d.send_len = 0;
        d.send_nhandles = 0;
        d.recv_len = 0;
        d.recv_nhandles = 0;
        d.flags = 0;
        for (int i = 0; i < KS_IPC_MAX_HANDLES; i++)
            d.recv_handles[i] = 0;
        memcpy(w, q.out, sizeof w);
        if (reply) {
            d.send_buf = q.send_buf;
            d.send_len = q.send_len;
            for (uint32_t i = 0; i < q.nhandles; i++) {
                d.send_handles[i] = q.handles[i];
                d.send_handle_flags[i] = KS_IPC_HANDLE_MOVE;
            }
            d.send_nhandles = q.nhandles;
        }
        d.recv_buf = recv_buf;
        d.recv_cap = sizeof recv_buf;
        long r = reply ? ks_ipc_reply_receive((ks_handle_t)reply, fs.listener, &d, w, &ud, &info)
                       : ks_ipc_receive(fs.listener, &d, w, &ud, &info);
        if (r < 0) {
            if (reply)
                reply_failed((ks_handle_t)reply, q.handles, q.nhandles);
            if (ks_handle_info(fs.listener) < 0 || r == KS_ERR_PEER_CLOSED)
                return;         /* no listener any more */
            if (r == KS_ERR_NO_HANDLES || r == KS_ERR_NO_MEMORY)
                ks_thread_sleep(1000000);   /* no reply port to be had: do not spin */
        }
        reply = 0;
        req_reset(&q);
        if (r < 0)
            continue;
        for (uint32_t i = 0; i < KS_IPC_INFO_HANDLES(info) && i < KS_IPC_MAX_HANDLES; i++)
            ks_handle_close(d.recv_handles[i]);        /* nothing here takes handles */
        if (r == KS_HANDLE_NONE) {
            if (ud == UD_IRQ && con.bound_irq)
                console_irq();
            continue;
        }
        memcpy(q.in, w, sizeof q.in);
        q.userdata = ud;
        q.buf = recv_buf;
        q.len = KS_IPC_INFO_BYTES(info);
        q.truncated = !!(info & KS_IPC_INFO_TRUNCATED);
        if (q.in[0] & FS_PATH_INLINE)
            take_inline_path(&q);
        long status = dispatch(&q, (ks_handle_t)r);
        if (status == DEFERRED) {
            req_reset(&q);
            continue;           /* the reply port waits in con.readers */
        }
        q.out[0] = (uint64_t)status;
        if (status < 0) {       /* an error carries nothing else */
            for (uint32_t i = 0; i < q.nhandles; i++)
                ks_handle_close(q.handles[i]);
            memset(q.out + 1, 0, sizeof q.out - sizeof q.out[0]);
            q.nhandles = 0;
            q.send_len = 0;
        }
        reply = r;
    }
}

/* ---- start ---- */

static __attribute__((noreturn)) void die(const char *why)
{
    ks_debug_write("fsd: ", 5);
    ks_debug_write(why, strlen(why));
    ks_debug_write("\n", 1);
    exit(1);
}

/* /bin/<name> for every program in the boot image; their bytes are copied on first open. */
static void seed_bin(struct node *bin)
{
    static struct ks_bootimg_entry entries[BOOT_MAX_FILES];
    struct ks_bootimg_header h;
    long isize = ks_memobj_size(fs.bootimg);
    if (isize < 0 || ks_memobj_read(fs.bootimg, 0, &h, sizeof h) != sizeof h ||
        memcmp(h.magic, KS_BOOTIMG_MAGIC, 8) != 0)
        return;
    uint32_t count = h.count < BOOT_MAX_FILES ? h.count : BOOT_MAX_FILES;
    long got = ks_memobj_read(fs.bootimg, sizeof h, entries, count * sizeof entries[0]);
    if (got < 0)
        return;
    count = (uint32_t)((size_t)got / sizeof entries[0]);
    for (uint32_t i = 0; i < count; i++) {
        struct ks_bootimg_entry *e = &entries[i];
        size_t nl = strnlen(e->name, sizeof e->name);
        if (nl == 0 || nl == sizeof e->name || memchr(e->name, '/', nl) || dir_find(bin, e->name, nl) ||
            e->offset > (uint64_t)isize || e->size > (uint64_t)isize - e->offset)
            continue;           /* unnamed, odd or duplicate: left out */
        struct node *n = node_new(bin, e->name, nl, NODE_FILE);
        if (!n)
            return;
        n->lazy = 1;
        n->boot_off = e->offset;
        n->boot_size = e->size;
    }
}

static const char motd[] = "Welcome to kestrel: a RISC-V kernel that says hello the hard way.\n";

static void seed_tree(void)
{
    fs.next_ino = 1;
    fs.root = node_create(NULL, "", 0, NODE_DIR);
    struct node *bin = fs.root ? node_create(fs.root, "bin", 3, NODE_DIR) : NULL;
    struct node *dev = fs.root ? node_create(fs.root, "dev", 3, NODE_DIR) : NULL;
    struct node *etc = fs.root ? node_create(fs.root, "etc", 3, NODE_DIR) : NULL;
    if (!bin || !dev || !etc || !node_create(fs.root, "tmp", 3, NODE_DIR))
        die("out of memory building the tree");
    console_node = node_create(dev, "console", 7, NODE_CONSOLE);
    struct node *m = node_create(etc, "motd", 4, NODE_FILE);
    if (!console_node || !m || ks_memobj_write(m->mo, 0, motd, sizeof motd - 1) < 0)
        die("out of memory building the tree");
    seed_bin(bin);
}

static uint64_t arg_number(int argc, char **argv, int i)
{
    return i < argc ? strtoull(argv[i], NULL, 0) : 0;
}

int main(int argc, char **argv)
{
    fs.listener = (ks_handle_t)getauxval(KS_AT_HANDLE_0);
    fs.bootimg = (ks_handle_t)getauxval(KS_AT_BOOTIMAGE);
    if (!fs.listener || (ks_handle_info(fs.listener) >> 8) != KS_OBJ_LISTENER)
        die("no listener (auxv KS_AT_HANDLE_0)");
    seed_tree();
    uint64_t shift = arg_number(argc, argv, 2);
    console_init((ks_handle_t)getauxval(KS_AT_HANDLE_0 + 1), (ks_handle_t)getauxval(KS_AT_HANDLE_0 + 2),
                 arg_number(argc, argv, 1), shift < 8 ? (unsigned)shift : 0);
    console_writer_start();
    serve();
    return 0;
}
