/*
 * user/fsd/fsd.c - the FS server: a RAM file system and the console, served over
 * kestrel IPC in the protocol of user/lib/fsproto.h (musl_emu.c is the client).
 *
 * init starts it with three handles (auxv KS_AT_HANDLE_0 + i): the listener
 * its client ports come from, the console UART's device memobj and the UART's
 * irq; argv[1] and argv[2] say where the UART's registers are in that memobj
 * (register n at offset argv[1] + (n << argv[2]); both 0 if absent).
 *
 * The tree: directories, regular files and the console device. A regular file
 * is a memobj; opening it hands the client a view (which gives its memobj
 * handle too, from the kernel), and reads and writes never come back here. The tree is seeded at start with
 * /bin/<program> for every program in the boot image (its memobj made when it is
 * first opened, and paged from the boot image by pager.c), /dev/console, /tmp
 * and /etc/motd.
 *
 * Ports (named as in fsproto.h) and their userdata: a root port has
 * FS_PORT_ROOT (0), a console port UD_CONSOLE, a directory port UD_DIR | its
 * generation (disk directories) | inode;
 * the UART's irq notifications come with UD_IRQ. A directory port keeps no
 * record here at all: it names the inode, and READDIR's position comes with
 * every request, so nothing has to be freed when the client closes the port
 * (which the server cannot see). Inode numbers are never reused, so a port of
 * a removed directory just finds nothing (READDIR: end, FSTAT: ENOENT).
 *
 * Three threads. The pager (pager.c) fills boot-image files. The main one (serve) listens on fs.listener and serves every
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
 *
 * This file is the protocol: the requests on each kind of port, the serve
 * loop and the start. The tree and paths are in tree.c, the console (the
 * 16550 driver and the writer thread) in console.c, what they share in fsd.h.
 */
#include "user/fsd/fsd.h"

/* ---- a request's buffers ---- */

/*
 * The main thread's buffers: recv_buf gets a request's bytes (a path, two for
 * RENAME, or a console write of up to KS_IPC_MAX_BUF); send_buf holds a
 * reply's (READDIR records, console input).
 */
uint8_t recv_buf[KS_IPC_MAX_BUF];
uint8_t send_buf[KS_IPC_MAX_BUF] __attribute__((aligned(8)));    /* (dirent_put stores words) */

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

/*
 * A view of file n for the caller, which the reply asks the kernel to make
 * from n's memobj handle (KS_IPC_HANDLE_VIEW): READ unless opened O_WRONLY, WRITE
 * unless O_RDONLY, MAP, and EXECUTE if a mode bit says so. MAP and EXECUTE
 * are for the memobj handle the client asks the kernel for when it needs one
 * (KS_SYS_VIEW_MEMOBJ: mmap, pread, fstat's size); an O_WRONLY view has READ
 * too, as that handle must (the memobj's size; and a write-only mapping is
 * no mapping), and musl_emu refuses read() on an O_WRONLY descriptor itself.
 */
static long give_file(struct req *q, struct node *n, int acc)
{
    uint32_t vr = KS_RIGHT_READ | KS_RIGHT_MAP | KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE;
    if (disk_node(n))
        mount_disk_shared();            /* (what it reads there is what fsd wrote) */
    if (acc != O_RDONLY) {
        vr |= KS_RIGHT_WRITE;
        if (disk_node(n))
            disk_written_by_client();   /* (its writes are not disk_store's: syncs look at every page) */
    }
    if (node_mode(n) & 0111)
        vr |= KS_RIGHT_EXECUTE;         /* execve and PROT_EXEC map it: it has an execute bit */
    long r = file_load(n);
    if (r < 0)
        return r;
    q->handles[0] = n->mo;              /* the reply makes the view (KS_IPC_HANDLE_VIEW) */
    q->view_rights = vr;
    q->nhandles = 1;
    return 0;
}

static long op_open(struct req *q)
{
    uint64_t flags = q->in[1];
    int acc = (int)(flags & 3);         /* O_RDONLY, O_WRONLY or O_RDWR */
    struct lookup lk;
    if (acc == 3)
        return -EINVAL;
    int excl = (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
    long r = resolve((const char *)q->buf, q->len, &lk, !(flags & O_NOFOLLOW) && !excl);
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
        if (on_disk(lk.dir)) {          /* on the disk's file system (mount.c) */
            n = mount_create(lk.dir, lk.name, lk.namelen, NODE_FILE, (uint16_t)(q->in[2] & 07777), NULL, 0, &r);
            if (!n)
                return r;
        } else if (!(n = node_create(lk.dir, lk.name, lk.namelen, NODE_FILE))) {
            return create_error();
        }
        n->perm = (uint16_t)(PERM_SET | (q->in[2] & 07777));   /* the mode given (less the umask) */
    } else {
        if (excl)
            return -EEXIST;
        if (n->type == NODE_SYMLINK)
            return -ELOOP;              /* O_NOFOLLOW, and the path names a link */
        if (n->type == NODE_DIR && (acc != O_RDONLY || (flags & O_CREAT)))
            return -EISDIR;
        if ((flags & O_DIRECTORY) && n->type != NODE_DIR)
            return -ENOTDIR;
        if (on_disk(n) && (acc != O_RDONLY || (flags & O_TRUNC)) && !mount_writable())
            return -EROFS;
        if (n->type == NODE_FILE && (flags & O_TRUNC) && (r = file_truncate(n)) < 0)
            return r;
    }
    static const long kinds[] = { [NODE_DIR] = FS_KIND_DIR, [NODE_FILE] = FS_KIND_FILE,
                                  [NODE_CONSOLE] = FS_KIND_CONSOLE, [NODE_NULL] = FS_KIND_NULL,
                                  [NODE_ZERO] = FS_KIND_ZERO, [NODE_FULL] = FS_KIND_FULL };
    switch (n->type) {
    case NODE_FILE:
        r = give_file(q, n, acc);
        break;
    case NODE_DIR:
        r = give_port(q, UD_DIR | (uint64_t)n->gen << UD_GEN_SHIFT | n->ino);
        break;
    case NODE_CONSOLE:
        r = give_console(q);
        break;
    default:
        r = 0;                          /* a device the client serves itself: no handles */
        break;
    }
    if (r < 0)
        return r;
    q->out[1] = n->ino;
    q->out[2] = node_mode(n);
    return kinds[n->type];
}

/* The node a root-port request names: by path in the buffer, else by inode (MR `ino_word`). */
static inline __attribute__((always_inline)) long named_node(struct req *q, int ino_word,
                                                             struct node **out)
{
    if (q->len == 0)
        return (*out = ino_find(q->in[ino_word])) ? 0 : -ENOENT;
    struct lookup lk;
    long r = resolve((const char *)q->buf, q->len, &lk, !q->nofollow);
    if (r < 0)
        return r;
    return (*out = lk.node) ? 0 : -ENOENT;
}

static long op_stat(struct req *q)
{
    struct node *n;
    long r = named_node(q, 1, &n);
    if (r < 0)
        return r;
    stat_words(n, q->out);
    return 0;
}

/* FS_OP_STATFS: the disk's counts for a node on it; MR1 = 0 (the caller asks the kernel) else. */
static long op_statfs(struct req *q)
{
    struct node *n;
    long r = named_node(q, 2, &n);
    if (r < 0)
        return r;
    if (!on_disk(n)) {
        q->out[1] = 0;
        return 0;
    }
    return mount_statfs(q->out);
}

static long op_utimes(struct req *q)
{
    struct node *n;
    long r = named_node(q, 2, &n);
    if (r < 0)
        return r;
    if (on_disk(n) && !mount_writable())
        return -EROFS;
    n->ctime_ns = now_ns();
    n->mtime_ns = q->in[1] == FS_TIME_NOW ? n->ctime_ns : q->in[1];
    node_attrs_changed(n);
    if (on_disk(n))
        return mount_setattr(n, 1);
    file_times_set(n);
    return 0;
}

static long op_chmod(struct req *q)
{
    struct node *n;
    long r = named_node(q, 2, &n);
    if (r < 0)
        return r;
    if (on_disk(n) && !mount_writable())
        return -EROFS;
    n->perm = (uint16_t)((q->in[1] & 07777) | PERM_SET);
    n->ctime_ns = now_ns();
    node_attrs_changed(n);
    return on_disk(n) ? mount_setattr(n, 0) : 0;
}

static long op_mkdir(struct req *q)
{
    struct lookup lk;
    long r = resolve((const char *)q->buf, q->len, &lk, 0);
    if (r < 0)
        return r;
    if (lk.node)
        return -EEXIST;
    struct node *n;
    if (on_disk(lk.dir))
        return mount_create(lk.dir, lk.name, lk.namelen, NODE_DIR, (uint16_t)(q->in[1] & 07777), NULL, 0, &r) ?
               0 : r;
    if (!(n = node_create(lk.dir, lk.name, lk.namelen, NODE_DIR)))
        return create_error();
    n->perm = (uint16_t)(PERM_SET | (q->in[1] & 07777));
    return 0;
}

/* Unlink n (checked already): from the disk too if it is the disk's. */
static long remove_node(struct node *n)
{
    if (on_disk(n))
        return mount_unlink(n);
    node_remove(n);
    return 0;
}

static long op_unlink(struct req *q)
{
    uint64_t rmdir = q->in[1];
    struct lookup lk;
    if (rmdir > 1)
        return -EINVAL;
    long r = resolve((const char *)q->buf, q->len, &lk, 0);
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
        return remove_node(n);
    }
    if (lk.dotted)
        return -EINVAL;         /* rmdir("x/.") and rmdir("x/..") */
    if (n->type != NODE_DIR)
        return -ENOTDIR;
    if (n->e2ino && !n->e2loaded && (r = mount_dir_load(n)) < 0)
        return r;
    if (n->nentries)
        return -ENOTEMPTY;
    return remove_node(n);
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

/* The two paths of a rename or link (MR1: the first's length; the buffer: both), not followed. */
static long resolve_two(struct req *q, struct lookup *a, struct lookup *b)
{
    uint64_t old_len = q->in[1];
    if (old_len > q->len)
        return -EINVAL;
    long r = resolve((const char *)q->buf, old_len, a, 0);
    return r < 0 ? r : resolve((const char *)q->buf + old_len, q->len - old_len, b, 0);
}

static long op_rename(struct req *q)
{
    struct lookup a, b;
    long r = resolve_two(q, &a, &b);
    if (r < 0)
        return r;
    struct node *n = a.node;
    if (!n)
        return -ENOENT;
    if (n == fs.root || a.dotted || b.dotted || b.namelen == 0)
        return -EBUSY;
    if (b.node == n)
        return 0;               /* the same file: nothing to do */
    if (on_disk(n) != on_disk(b.dir) || (b.node && on_disk(b.node) != on_disk(n)))
        return -EXDEV;          /* between the disk and fsd's memory: no rename (mv copies) */
    if (b.node && b.node->e2ino && !b.node->e2loaded && (r = mount_dir_load(b.node)) < 0)
        return r;
    if (n->type != NODE_DIR && b.trailing_slash)
        return -ENOTDIR;
    if (n->type == NODE_DIR && is_within(b.dir, n))
        return -EINVAL;         /* into its own subtree */
    if (b.node && (r = rename_replace_ok(n, b.node)) < 0)
        return r;
    char *name = name_dup(b.name, b.namelen);
    if (!name)
        return -ENOMEM;
    if (on_disk(n) && (r = mount_rename(n, b.dir, b.name, b.namelen, b.node)) < 0) {
        free(name);
        return r;
    } else if (!on_disk(n) && b.node) {
        node_remove(b.node);            /* (mount_rename unlinks it itself) */
    }
    dir_unlink(n);
    free(n->name);
    n->name = name;
    n->namelen = b.namelen;
    dir_link(b.dir, n);
    n->ctime_ns = now_ns();
    return 0;
}

/* FS_OP_LINK: a second name for a file, on the disk (mount_link) or in fsd's memory (node_link). */
static long op_link(struct req *q)
{
    struct lookup a, b;
    long r = resolve_two(q, &a, &b);
    if (r < 0)
        return r;
    if (!a.node)
        return -ENOENT;
    if (b.node)
        return -EEXIST;
    if (b.namelen == 0 || b.trailing_slash || b.dotted)
        return -ENOENT;
    if (a.node->type == NODE_DIR)
        return -EPERM;          /* no links to directories, as in every Unix */
    if (on_disk(a.node) != on_disk(b.dir))
        return -EXDEV;
    if (!on_disk(a.node))
        return node_link(a.node, b.dir, b.name, b.namelen);
    if (a.node->type != NODE_FILE && a.node->type != NODE_SYMLINK)
        return -EPERM;
    return mount_link(a.node, b.dir, b.name, b.namelen);
}

static long op_symlink(struct req *q)
{
    uint64_t tlen = q->in[1];
    struct lookup lk;
    if (tlen == 0 || tlen > q->len)
        return tlen ? -EINVAL : -ENOENT;        /* symlink("", ...) is ENOENT, as in Linux */
    if (tlen >= FS_PATH_MAX)
        return -ENAMETOOLONG;
    if (memchr(q->buf, 0, tlen))
        return -EINVAL;
    long r = resolve((const char *)q->buf + tlen, q->len - tlen, &lk, 0);
    if (r < 0)
        return r;
    if (lk.node)
        return -EEXIST;
    if (lk.namelen == 0 || lk.trailing_slash)
        return -ENOENT;
    if (on_disk(lk.dir))
        return mount_create(lk.dir, lk.name, lk.namelen, NODE_SYMLINK, 0777, (const char *)q->buf, tlen, &r) ?
               0 : r;
    if (!symlink_create(lk.dir, lk.name, lk.namelen, (const char *)q->buf, tlen))
        return create_error();
    return 0;
}

static long op_readlink(struct req *q)
{
    struct lookup lk;
    long r = resolve((const char *)q->buf, q->len, &lk, 0);
    if (r < 0)
        return r;
    if (!lk.node)
        return -ENOENT;
    if (lk.node->type != NODE_SYMLINK)
        return -EINVAL;
    memcpy(send_buf, lk.node->target, lk.node->targetlen);
    q->send_buf = send_buf;
    q->send_len = lk.node->targetlen;
    return (long)lk.node->targetlen;
}

/* ---- operations on a directory port ---- */

/*
 * One linux_dirent64 at p (8-byte aligned, room bytes there) for the name of
 * nl bytes; its length, or 0 if it does not fit. Stored field by field, with
 * only the padding after the name cleared: through memset and memcpy, which
 * musl does a byte at a time for such sizes, a 1,000-entry directory's
 * readdir cost 200 instructions an entry more.
 */
__attribute__((optimize("no-tree-loop-distribute-patterns")))     /* (no memset, memcpy calls) */
static size_t dirent_put(uint8_t *p, size_t room, uint64_t ino, uint64_t next_pos,
                         const char *name, size_t nl, uint8_t type)
{
    size_t reclen = (offsetof(struct dirent, d_name) + nl + 1 + 7) & ~(size_t)7;
    if (reclen > room)
        return 0;
    uint64_t *w = (uint64_t *)p;
    _Static_assert(offsetof(struct dirent, d_name) == 19 && offsetof(struct dirent, d_reclen) == 16,
                   "linux_dirent64's layout");
    w[0] = ino;
    w[1] = (uint64_t)next_pos;
    for (size_t i = 2; i < reclen / 8; i++)
        w[i] = 0;               /* d_reclen, d_type, the name's end and the padding */
    p[16] = (uint8_t)reclen;
    p[17] = (uint8_t)(reclen >> 8);
    p[18] = type;
    for (size_t i = 0; i < nl; i++)
        p[19 + i] = (uint8_t)name[i];
    return reclen;
}

static uint8_t dirent_type(const struct node *n)
{
    return n->type == NODE_DIR ? DT_DIR : n->type == NODE_FILE ? DT_REG :
           n->type == NODE_SYMLINK ? DT_LNK : DT_CHR;
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
    long r;
    if (d->e2ino && !d->e2loaded && (r = mount_dir_load(d)) < 0)
        return r;
    struct node *e = d->first;
    while (e && pos > 2 && e->seq < pos - 2)
        e = e->next;
    for (;;) {
        uint64_t next = pos == 0 ? 1 : pos == 1 ? 2 : e ? e->seq + 3 : 0;
        size_t n = 0;
        if (pos == 0)
            n = dirent_put(send_buf + used, cap - used, d->ino, next, ".", 1, DT_DIR);
        else if (pos == 1)
            n = dirent_put(send_buf + used, cap - used, d->parent->ino, next, "..", 2, DT_DIR);
        else if (e)
            n = dirent_put(send_buf + used, cap - used, e->ino, next, e->name, e->namelen,
                           dirent_type(e));
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
    case FS_OP_UTIMES: return op_utimes(q);
    case FS_OP_CHMOD: return op_chmod(q);
    case FS_OP_LOCK: return op_lock(q);
    case FS_OP_MKDIR: return op_mkdir(q);
    case FS_OP_UNLINK: return op_unlink(q);
    case FS_OP_RENAME: return op_rename(q);
    case FS_OP_SYMLINK: return op_symlink(q);
    case FS_OP_TTYJOIN: return tty_join(q);
    case FS_OP_SYNC: return mount_sync();
    case FS_OP_STATFS: return op_statfs(q);
    case FS_OP_LINK: return op_link(q);
    case FS_OP_READLINK: return op_readlink(q);
    case FS_OP_STATS:
        console_counts(&q->out[1], &q->out[2], &q->out[3]);
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
    case FS_OP_POLL: return con_poll(q);
    case FS_OP_TCPGRP: return tty_tcpgrp(q);
    case FS_OP_TCATTR: return tty_tcattr(q);
    case FS_OP_WINSZ: return tty_winsz(q);
    case FS_OP_FSTAT: stat_words(console_node, q->out); return 0;
    default: return -EINVAL;
    }
}

/* A request on the directory port of inode `ino` (which may be gone by now); the status. */
static long op_dir(struct req *q, uint64_t ud)
{
    struct node *d = ino_find(ud & ((1ull << UD_GEN_SHIFT) - 1));
    if (d && (d->type != NODE_DIR || d->gen != (ud >> UD_GEN_SHIFT & UD_GEN_MASK)))
        d = NULL;               /* removed, and its number given to another since */
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
/* init's control port: FS_OP_DISK, the block driver's port (kept: q->in_handle taken). */
static long op_init(struct req *q)
{
    if (q->in[0] != FS_OP_DISK || !q->in_handle)
        return -EINVAL;
    struct node *dev = dir_find(fs.root, "dev", 3);
    long r = dev ? disk_attach(dev, q->in_handle) : -ENOENT;
    if (r == 0)
        q->in_handle = 0;
    return r;
}

static long dispatch(struct req *q, ks_handle_t reply)
{
    if (q->userdata == FS_PORT_ROOT)
        return op_root(q);
    if (q->userdata == FS_PORT_INIT)
        return op_init(q);
    if (q->userdata == UD_CONSOLE)
        return op_console(q, reply);
    if (q->userdata & UD_DIR)
        return op_dir(q, q->userdata & ~UD_DIR);
    return -EBADF;
}

/* Close the handles q was to move (a file's memobj, sent as a view, stays), and send none. */
static __attribute__((noinline)) void req_drop_handles(struct req *q)
{
    for (uint32_t i = q->view_rights ? 1 : 0; i < q->nhandles; i++)
        ks_handle_close(q->handles[i]);
    q->nhandles = 0;
    q->view_rights = 0;
}

/*
 * A reply-and-receive failed with err: the reply may not have gone out.
 * Handles that were to move and are still ours are closed (values of handles
 * already gone are stale and fail harmlessly: handle values carry a
 * generation); the caller gets a bare -ENOMEM (the view the reply was to
 * make, say, found no memory) or -EIO if it still waits, or PEER_CLOSED once
 * the reply port's handle is closed.
 */
static __attribute__((noinline)) void reply_failed(ks_handle_t reply, struct req *q, long err)
{
    uint64_t w[KS_IPC_WORDS] = { (uint64_t)(err == KS_ERR_NO_MEMORY ? -ENOMEM : -EIO) };
    req_drop_handles(q);
    if (ks_ipc_reply(reply, NULL, w) < 0)
        ks_handle_close(reply);
}

/*
 * Make q a blank request: no reply words, nothing to send. (Its other fields
 * are set from each message as it arrives; handles[] means nothing past
 * nhandles.) Field by field, which costs less than clearing the whole struct
 * with memset.
 */
static void req_reset(struct req *q)
{
    _Static_assert(KS_IPC_WORDS == 8, "req_reset clears each word");
    q->out[0] = q->out[1] = q->out[2] = q->out[3] = 0;
    q->out[4] = q->out[5] = q->out[6] = q->out[7] = 0;
    q->send_buf = NULL;
    q->send_len = 0;
    q->nhandles = 0;
    q->view_rights = 0;
    q->in_handle = 0;
}

/*
 * A request whose path came in MR3..MR7 (FS_PATH_INLINE, fsproto.h): make it
 * look like one that sent the path as its buffer. A length beyond what the
 * registers hold, or a buffer sent as well, makes the request invalid.
 */
static void take_inline_path(struct req *q)
{
    size_t len = (q->in[0] >> FS_PATH_INLINE_SHIFT) & 0xff;
    q->buf = (const uint8_t *)&q->in[3];        /* read where it is: no handler writes q->in[3..7] */
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
                d.send_handle_flags[i] = i == 0 && q.view_rights ? KS_IPC_HANDLE_AS_VIEW(q.view_rights)
                                                                 : KS_IPC_HANDLE_MOVE;
            }
            d.send_nhandles = q.nhandles;
        }
        d.recv_buf = recv_buf;
        d.recv_cap = sizeof recv_buf;
        long r = reply ? ks_ipc_reply_receive((ks_handle_t)reply, fs.listener, &d, w, &ud, &info)
                       : ks_ipc_receive(fs.listener, &d, w, &ud, &info);
        if (r < 0) {
            if (reply)
                reply_failed((ks_handle_t)reply, &q, r);
            if (ks_handle_info(fs.listener) < 0 || r == KS_ERR_PEER_CLOSED)
                return;         /* no listener any more */
            if (r == KS_ERR_NO_HANDLES || r == KS_ERR_NO_MEMORY)
                ks_thread_sleep(1000000);   /* no reply port, or view, to be had: do not spin */
        }
        reply = 0;
        req_reset(&q);
        if (r < 0)
            continue;
        for (uint32_t i = 1; i < KS_IPC_INFO_HANDLES(info) && i < KS_IPC_MAX_HANDLES; i++)
            ks_handle_close(d.recv_handles[i]);        /* only FS_OP_POLL takes one, the first */
        q.in_handle = KS_IPC_INFO_HANDLES(info) ? d.recv_handles[0] : 0;
        if (r == KS_HANDLE_NONE) {
            if (q.in_handle)
                ks_handle_close(q.in_handle);
            if (ud == UD_IRQ)
                console_irq();
            else if (ud & UD_MEMBER)
                tty_member_ended((uint32_t)ud);
            continue;
        }
        memcpy(q.in, w, sizeof q.in);
        q.userdata = ud;
        q.buf = recv_buf;
        q.len = KS_IPC_INFO_BYTES(info);
        q.truncated = !!(info & KS_IPC_INFO_TRUNCATED);
        q.nofollow = !!(q.in[0] & FS_NOFOLLOW);
        q.in[0] &= ~(uint64_t)FS_NOFOLLOW;
        if (q.in[0] & FS_PATH_INLINE)
            take_inline_path(&q);
        long status = dispatch(&q, (ks_handle_t)r);
        if (q.in_handle)
            ks_handle_close(q.in_handle);       /* not kept by the handler */
        if (status == DEFERRED) {
            req_reset(&q);
            continue;           /* the reply port waits among the console's readers */
        }
        q.out[0] = (uint64_t)status;
        if (status < 0) {       /* an error carries nothing else */
            req_drop_handles(&q);
            memset(q.out + 1, 0, sizeof q.out - sizeof q.out[0]);
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

/*
 * A boot-image entry NAME.links lists paths, one a line (busybox's
 * busybox.links: "/bin/ls", "/usr/bin/wc", ...): each one's last component
 * becomes a symbolic link /bin/COMPONENT -> NAME, unless /bin has that name
 * already. That is how every busybox applet is /bin/APPLET.
 */
static void seed_links(struct node *bin, const struct ks_bootimg_entry *e, size_t nl)
{
    static char text[16384];
    size_t tl = nl - 6;                 /* the target: the entry's name less ".links" */
    long got = e->size < sizeof text ? ks_memobj_read(fs.bootimg, e->offset, text, e->size) : -1;
    for (long i = 0; i < got;) {
        long j = i;
        while (j < got && text[j] != '\n')
            j++;
        long b = j;
        while (b > i && text[b - 1] != '/')
            b--;
        if (j > b && j - b <= NAME_MAX_LEN && !dir_find(bin, text + b, (size_t)(j - b)) &&
            !symlink_create(bin, text + b, (size_t)(j - b), e->name, tl))
            return;
        i = j + 1;
    }
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
        if (nl > 6 && memcmp(e->name + nl - 6, ".links", 6) == 0)
            continue;           /* seed_links's, after every program is there */
        struct node *n = node_new(bin, e->name, nl, NODE_FILE);
        if (!n)
            return;
        n->lazy = 1;
        n->perm = PERM_SET | 0755;      /* programs */
        n->boot_off = e->offset;
        n->boot_size = e->size;
    }
    for (uint32_t i = 0; i < count; i++) {
        size_t nl = strnlen(entries[i].name, sizeof entries[i].name);
        if (nl > 6 && nl < sizeof entries[i].name && memcmp(entries[i].name + nl - 6, ".links", 6) == 0 &&
            entries[i].offset <= (uint64_t)isize && entries[i].size <= (uint64_t)isize - entries[i].offset)
            seed_links(bin, &entries[i], nl);
    }
}

static const char motd[] = "Welcome to kestrel: a RISC-V kernel that says hello the hard way.\n";

static void seed_tree(void)
{
    fs.next_ino = 1ull << 32;     /* fsd's own: never a disk inode (ext2's are 32 bits) */
    fs.seed_ns = now_ns();
    fs.root = node_create(NULL, "", 0, NODE_DIR);
    struct node *bin = fs.root ? node_create(fs.root, "bin", 3, NODE_DIR) : NULL;
    struct node *dev = fs.root ? node_create(fs.root, "dev", 3, NODE_DIR) : NULL;
    struct node *etc = fs.root ? node_create(fs.root, "etc", 3, NODE_DIR) : NULL;
    if (!bin || !dev || !etc || !node_create(fs.root, "tmp", 3, NODE_DIR))
        die("out of memory building the tree");
    console_node = node_create(dev, "console", 7, NODE_CONSOLE);
    if (!symlink_create(dev, "tty", 3, "console", 7))      /* the one terminal is everyone's */
        die("out of memory building the tree");
    if (!node_create(dev, "null", 4, NODE_NULL) || !node_create(dev, "zero", 4, NODE_ZERO) ||
        !node_create(dev, "full", 4, NODE_FULL) ||
        !node_create(dev, "shm", 3, NODE_DIR))      /* shm_open's files: memobjs like any other */
        die("out of memory building the tree");
    struct node *m = node_create(etc, "motd", 4, NODE_FILE);
    if (!console_node || !m || ks_memobj_write(m->mo, 0, motd, sizeof motd - 1) < 0)
        die("out of memory building the tree");
    file_times_set(m);          /* (made with the tree, not changed since) */
    seed_bin(bin);
    fs.seed_ns = 0;
}

static uint64_t arg_number(int argc, char **argv, int i)
{
    return i < argc ? strtoull(argv[i], NULL, 0) : 0;
}

int main(int argc, char **argv)
{
    fs.listener = (ks_handle_t)getauxval(KS_AT_HANDLE_0);
    fs.bootimg = (ks_handle_t)getauxval(KS_AT_BOOTIMAGE);
    if (!fs.listener || KS_INFO_TYPE(ks_handle_info(fs.listener)) != KS_OBJ_LISTENER)
        die("no listener (auxv KS_AT_HANDLE_0)");
    seed_tree();
    tty_init();
    uint64_t shift = arg_number(argc, argv, 2);
    console_init((ks_handle_t)getauxval(KS_AT_HANDLE_0 + 1), (ks_handle_t)getauxval(KS_AT_HANDLE_0 + 2),
                 arg_number(argc, argv, 1), shift < 8 ? (unsigned)shift : 0);
    console_writer_start();
    serve();
    return 0;
}
