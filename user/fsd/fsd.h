/*
 * user/fsd/fsd.h - what the parts of the FS server share: the tree's nodes,
 * the server's state, a request and its reply, and the functions of tree.c
 * (nodes, files, paths) and console.c (the UART and the console's requests)
 * that fsd.c's protocol uses.
 */
#ifndef USER_FSD_FSD_H
#define USER_FSD_FSD_H

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
#define NAME_BUCKETS    512     /* (directory, name) -> node, for dir_find */
#define BOOT_MAX_FILES  256
#define MAX_PAGED       4096    /* paged files (boot image and disk) open at once: pager.c */

/* Userdata of console and directory ports (besides FS_PORT_ROOT's), and of the irq binding. */
#define UD_CONSOLE      1ull
#define UD_IRQ          2ull
#define UD_DIR          (1ull << 63)    /* | gen << UD_GEN_SHIFT | inode number */
#define UD_GEN_SHIFT    40              /* (fsd's own inode numbers stay below 2^40) */
#define UD_GEN_MASK     0x3fffffu
#define UD_MEMBER       (1ull << 62)    /* | pid: a console member ended (tty.c's watch) */

enum { LAZY_BOOT = 1, LAZY_DISK = 2 };

enum node_type { NODE_DIR, NODE_FILE, NODE_CONSOLE, NODE_NULL, NODE_ZERO, NODE_FULL, NODE_SYMLINK };

/*
 * One file system object. Each directory keeps its entries in a doubly linked
 * list in the order they were linked, numbered by seq (READDIR positions are
 * those numbers: an entry added while a reader walks the directory goes at
 * the end); every node is also in a hash chain by inode number, for STAT by
 * inode and directory ports.
 */
struct node {
    uint64_t ino;
    uint8_t type;               /* enum node_type */
    uint8_t lazy;               /* FILE: contents still only in the boot image or on the disk (LAZY_*) */
    uint8_t e2loaded;           /* DIR with e2ino: its disk entries are nodes now (mount.c) */
    uint16_t perm;              /* permission bits given at creation | PERM_SET; 0: the type's own */
    uint16_t links_more;        /* FILE, SYMLINK on the disk: its inode's links beyond this one */
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
    struct node *name_next;     /* chain in name_hash, while in a directory */
    ks_handle_t mo;             /* FILE: its memobj (0 while lazy) */
    uint64_t boot_off, boot_size;   /* FILE, lazy: where its bytes are in the boot image (the size
                                       for LAZY_DISK too) */
    uint32_t e2ino;             /* its inode on the disk's ext2 file system (mount.c), or 0 */
    uint32_t gen;               /* DIR on the disk: which of the directories its inode number has
                                   named (ext2 gives numbers again), in its ports' userdata */
    char *target;               /* SYMLINK: what it points to (malloc'd, NUL-terminated) */
    size_t targetlen;
    uint64_t mtime_ns, ctime_ns;
};

struct fs_state {
    ks_handle_t listener;
    ks_handle_t write_listener;     /* the write ports' (console_writer receives on it), or 0 */
    ks_handle_t bootimg;
    struct node *root;
    struct node *ino_hash[INO_BUCKETS];
    uint64_t next_ino;
    uint64_t seed_ns;               /* while the boot tree is built: its one time (now_ns) */
    uint64_t nnodes;
};
extern struct fs_state fs;

/* /dev/console: console ports answer FSTAT from it, so it is never removed (EBUSY). */
extern struct node *console_node;

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
    int nofollow;               /* MR0 had FS_NOFOLLOW (taken off MR0) */
    uint64_t out[KS_IPC_WORDS];
    const void *send_buf;
    size_t send_len;
    ks_handle_t handles[2];     /* moved to the caller, but for a view's (view_rights) */
    uint32_t nhandles;
    uint32_t view_rights;       /* nonzero: handles[0] is a file's memobj, which stays ours; the
                                   kernel makes the caller a view of it with these rights
                                   (KS_IPC_HANDLE_VIEW) */
    ks_handle_t in_handle;      /* the first handle the request carried (a handler that keeps
                                   it sets this to 0); the main loop closes it and any others */
};

#define DEFERRED    (1l << 62)  /* a handler's "no reply now": the reply port was kept */

/* The main thread's request and reply buffers (fsd.c). */
extern uint8_t recv_buf[KS_IPC_MAX_BUF];
extern uint8_t send_buf[KS_IPC_MAX_BUF];

/* ---- locks.c ---- */

/* FS_OP_LOCK (fsproto.h): advisory record locks, per inode and owner pid. */
long op_lock(struct req *q);

/* ---- tree.c ---- */

/* The time for mtime and ctime: CLOCK_REALTIME as musl_emu gives it, in ns. */
uint64_t now_ns(void);

/* A time since boot (ks_clock_ns, KS_SYS_MEMOBJ_STAT's changed_ns) as now_ns gives times. */
uint64_t wall_ns(uint64_t clock_ns);

/* The node with inode number ino, or NULL (removed, or never made). */
struct node *ino_find(uint64_t ino);

/*
 * Disk inode e2ino's memobj was let go (pager.c): every node naming it (one
 * per hard link) is unread again, size bytes long, and if changed_ns (the
 * memobj's last change, KS_SYS_MEMOBJ_STAT) is not 0, modified then.
 */
void disk_nodes_unloaded(uint32_t e2ino, uint64_t size, uint64_t changed_ns);

/* Disk inode e2ino's memobj is mo now (pager.c): every node naming it holds it, so all show one size. */
void disk_nodes_loaded(uint32_t e2ino, ks_handle_t mo);

/*
 * Disk node n was just made from its directory record: if another name of its
 * inode is a node already, n takes that one's mode, times and memobj or size,
 * which are newer than what the inode on the disk says.
 */
void disk_node_join(struct node *n);

/* Disk inode e2ino has `links` names now: every node naming it says so (st_nlink). */
void disk_nodes_links(uint32_t e2ino, uint32_t links);

/* The entry `name` (len bytes) of directory d, or NULL. */
struct node *dir_find(struct node *d, const char *name, size_t len);

/* Append n to directory d's entries. */
void dir_link(struct node *d, struct node *n);

/* Take n out of its directory's entries. */
void dir_unlink(struct node *n);

/* A malloc'd NUL-terminated copy of name (len bytes), or NULL. */
char *name_dup(const char *name, size_t len);

/*
 * A new node of `type` named name (len bytes) in directory d (NULL: the root),
 * without contents. NULL if out of memory or nodes.
 */
struct node *node_new(struct node *d, const char *name, size_t len, enum node_type type);

/* node_new with inode number ino (a disk node's: its ext2 inode; fsd's own are numbered from 2^32). */
struct node *node_new_numbered(struct node *d, const char *name, size_t len, enum node_type type, uint64_t ino);

/* node_new, and a regular file gets an empty memobj. */
struct node *node_create(struct node *d, const char *name, size_t len, enum node_type type);

/*
 * Why creating a node failed. Every regular file holds a memobj handle here, so
 * fsd's handle table (KS_HANDLE_MAX) bounds the number of files: ENOSPC.
 */
long create_error(void);

/* Remove n (a file, or an empty directory) for good. Clients holding its memobj keep it. */
void node_remove(struct node *n);

/*
 * A second name, name (len bytes) in memory directory d, for file n in fsd's
 * memory: a node with n's ino and a handle of n's memobj, so a write through
 * one name is read through the other and the file goes with its last name
 * (and its last client). 0, -EPERM (a symbolic link, a boot-image file),
 * -EMLINK, or -ENOSPC/-ENOMEM.
 */
long node_link(struct node *n, struct node *d, const char *name, size_t len);

/* n's permissions or times were set: its other names (node_link's, or a disk file's hard links) show the same. */
void node_attrs_changed(struct node *n);

/* Give a lazy boot-image file its memobj: paged (pager.c), or a copy without the pager. 0 or -errno. */
long file_load(struct node *n);

/*
 * The disk (a block driver's client port, user/lib/blkproto.h): /dev/vda, a
 * file whose bytes are the disk's, paged from it by the pager. 0 or -errno.
 */
long disk_attach(struct node *dev, ks_handle_t port);

/* FS_OP_SYNC: the disk's dirty pages written back and flushed: 0, or -EIO. */
long disk_sync(void);

/*
 * fsd wrote disk page `page` (of the disk's memobj): the next sync writes it
 * back. A client given /dev/vda to write may write any page: after
 * disk_written_by_client(), every sync looks at all of them.
 */
void disk_page_written(uint64_t page);
void disk_written_by_client(void);

/* 1 if n is the disk's file (/dev/vda). */
int disk_node(const struct node *n);

/* n is being removed: if it is the disk's file, fsd.c's /dev/vda is gone (the disk stays attached). */
void disk_node_removed(const struct node *n);

/*
 * Make disk file n's memobj one the pager thread fills from its ext2 blocks
 * (mount_read_file): 0 or -errno.
 */
long pager_disk_file(struct node *n);

/*
 * Disk inode ino has no link left: every memobj of it (one per name it had)
 * is an orphan, whose pages are not written back, and the inode goes (through
 * mount_orphan_release) with the last of them, now if nobody holds them. 1 if
 * it had any, 0 if not (then the caller frees the inode).
 */
int pager_disk_inode_orphaned(uint32_t ino);

/* Has disk inode ino a memobj (one per name it was opened by)? Only the main thread makes them. */
int pager_disk_inode_has(uint32_t ino);

/*
 * A name of disk inode ino was removed and it keeps others (mount.c): if its
 * memobj is open, a name fsd reads from the disk later must take it
 * (pager_disk_hidden), since no name fsd shows can give it any more.
 */
void pager_disk_name_removed(uint32_t ino);

/* Disk inode ino's open memobj if a name of it was removed meanwhile (pager_disk_name_removed), else 0. */
ks_handle_t pager_disk_hidden(uint32_t ino);

/*
 * Write every disk file's changes (dirty pages, size) to its inode, and let
 * go the memobjs of unlinked files nobody holds any more: 0 or -errno (the
 * last failure). The blocks are in the disk's memobj then: disk_sync writes
 * them to the disk.
 */
long pager_disk_sync(void);

/*
 * Make lazy file n's memobj one the pager (pager.c, a thread started at the
 * first call) fills from the boot image: 0 or -errno (then file_load copies).
 */
long pager_file(struct node *n);

/* Truncate a file to 0 (O_TRUNC): a lazy one gets an empty memobj, nothing copied. */
long file_truncate(struct node *n);

/*
 * Resolve path (len bytes, absolute, no NUL) into *lk: 0, or -errno. A missing
 * last component is not an error (lk->node NULL, lk->dir where it would go).
 * Symbolic links before the last component are followed; the last one is
 * followed only with `follow` (then a dangling link gives lk->node NULL and
 * lk->dir, lk->name where its target would go, as O_CREAT wants). More than
 * FS_SYMLOOP_MAX links: -ELOOP.
 */
long resolve(const char *path, size_t len, struct lookup *lk, int follow);

/* A new symbolic link named name (len bytes) in d, to target (tlen bytes); NULL as node_new. */
struct node *symlink_create(struct node *d, const char *name, size_t len, const char *target,
                            size_t tlen);

/* Is node a, or anything under it, the directory d? */
int is_within(const struct node *d, const struct node *a);

/* st_mode of node n: its type, and the permission bits it was created with (else the type's). */
#define PERM_SET 0x8000u
uint64_t node_mode(const struct node *n);

/*
 * MR1..MR6 of a STAT or FSTAT reply (struct fs_stat). A file with a memobj
 * was modified when the memobj last changed (a client's write, truncate or
 * store: KS_SYS_MEMOBJ_STAT), if that is later than fsd last set its mtime
 * (file_times_set); its ctime is then no earlier.
 */
void stat_words(const struct node *n, uint64_t out[KS_IPC_WORDS]);

/* n's mtime was just set by hand (utimensat, or a copy of the boot image's file): no change before counts. */
void file_times_set(const struct node *n);

/* ---- mount.c ---- */

/*
 * The disk's memobj (mo, size bytes; fsd's read handle, kept) was attached:
 * if it holds ext2, its root is "/"'s backing from now on; either way one
 * line says what was found.
 */
void mount_disk(ks_handle_t mo, uint64_t size);

/*
 * Directory d (with an e2ino) gets a node for each of its disk entries that
 * it has no node of that name for, once: 0, -EIO for a malformed directory,
 * or -ENOSPC/-ENOMEM (out of nodes; tried again at the next lookup).
 * Entries whose inode is unreadable, a second place for a directory (a loop),
 * and devices are not shown.
 */
long mount_dir_load(struct node *d);

/* Read len bytes at off of disk file ino into buf: bytes read (0 past the end), or -EIO. */
int64_t mount_read_file(uint32_t ino, uint64_t off, void *buf, uint64_t len);

/* Write len bytes at off of disk file ino (blocks taken as needed): bytes written, or -errno. */
int64_t mount_file_write(uint32_t ino, uint64_t off, const void *buf, uint64_t len);

/* Take the blocks [off, off + len) of disk file ino needs, so that writing there cannot fail for space. */
long mount_file_reserve(uint32_t ino, uint64_t off, uint64_t len);

/* Cut disk file ino to size bytes if it is longer (blocks past it freed): 0 or -errno. */
long mount_file_cut(uint32_t ino, uint64_t size);

/*
 * Disk file ino is size bytes long now (blocks past it freed). changes: 0, or
 * its memobj, whose last change (KS_SYS_MEMOBJ_STAT, read under the file
 * system's lock) is then its mtime, and its ctime if later. 0 or -errno.
 */
long mount_file_size(uint32_t ino, uint64_t size, ks_handle_t changes);

/* Unlinked disk file ino's last user went: give its blocks and inode back. */
void mount_orphan_release(uint32_t ino);

/*
 * Make name (len bytes) in disk directory d: a regular file or a directory
 * with permissions perm, or a symbolic link to target (tlen bytes). The new
 * node, or NULL with -errno in *err (-ENOSPC: no inode or block left).
 */
struct node *mount_create(struct node *d, const char *name, size_t len, enum node_type type, uint16_t perm,
                          const char *target, size_t tlen, long *err);

/*
 * Unlink disk node n (a file or symlink, or an empty directory) from its
 * directory, on the disk, then from the tree: 0 or -errno (-ENOTEMPTY for a
 * directory with entries fsd does not show). A file still open keeps its
 * inode until its last close.
 */
long mount_unlink(struct node *n);

/*
 * Move disk node n to name (len bytes) in disk directory d, first
 * unlinking `replaced` (the node there, or NULL): 0 or -errno.
 */
long mount_rename(struct node *n, struct node *d, const char *name, size_t len, struct node *replaced);

/*
 * A second name, name (len bytes) in disk directory d, for disk file or
 * symlink n (its inode's link count up): 0 or -errno.
 */
long mount_link(struct node *n, struct node *d, const char *name, size_t len);

/*
 * Write n's permissions and times (chmod, utimes) to its inode: 0 or -errno.
 * times: they were set by hand (file_times_set, under the file system's lock,
 * so that a write-back running at once on the pager thread sees one or the other).
 */
long mount_setattr(struct node *n, int times);

/* FS_OP_STATFS for a node on the disk: MR1..MR6 of the reply (fsproto.h). 0 or -EIO. */
long mount_statfs(uint64_t out[KS_IPC_WORDS]);

/* Can the disk's file system be changed (mounted, with no feature fsd does not know)? */
int mount_writable(void);

/* O_TRUNC of disk file n: its memobj and its inode emptied, blocks freed. 0 or -errno. */
long mount_file_truncate(struct node *n);

/*
 * FS_OP_SYNC: every disk file's changes into the file system (pager_disk_sync),
 * the cache's changes into the disk's memobj (mount_flush), then its dirty
 * pages to the disk (disk_sync). 0 or the first -errno.
 */
long mount_sync(void);

/*
 * The changes fsd's cache of the disk's pages holds, into the disk's memobj
 * (before its dirty pages are written to the disk): 0, or -EIO if a change
 * was refused (lost) since the last call.
 */
long mount_flush(void);

/*
 * A client opened /dev/vda: the cache's changes go into the disk's memobj now,
 * and every later one at once, so what the client reads there is current.
 */
void mount_disk_shared(void);

/* Is n (a node, or a directory an entry is made in) on the disk's file system? */
static inline int on_disk(const struct node *n)
{
    return n && n->e2ino;
}

/* ---- console.c ---- */

/*
 * The UART interrupted: collect its input, let the line fire again, wake
 * readers. Nothing if the line is not bound yet (it is at the first read).
 */
void console_irq(void);

/* Map the UART's registers; remember its interrupt for console_input_on. */
void console_init(ks_handle_t mmio, ks_handle_t irq, uint64_t reg_offset, unsigned shift);

/* A console write (MR1 bytes, in MR2..MR7 or the buffer) to the UART: the bytes written. */
long con_write(struct req *q);

/* Start the console writer; without it (fs.write_listener 0) consoles open without a write port. */
void console_writer_start(void);

/* A console read: answered now if input is there, else parked until the irq brings some. */
long con_read(struct req *q, ks_handle_t reply);

/*
 * FS_OP_POLL on a console port: the KS_WATCH_* the console is ready for now
 * (always WRITABLE; READABLE with input waiting). If none of MR1's events
 * holds and the request carried a client port, it is kept and notified
 * (KS_SYS_IPC_NOTIFY, READABLE) when input comes, then closed; 0. At most
 * 16 are kept: a new one makes the oldest be notified and let go (its
 * poller scans again, which costs it a scan, never a wrong answer).
 */
long con_poll(struct req *q);

/* Output bytes the line discipline echoes (not counted as written). */
void console_echo(const uint8_t *p, size_t n);

/* The terminal's settings changed: serve the readers and pollers that can be now. */
void console_input_changed(void);

/* ---- tty.c ---- */

/* The terminal's settings as Linux sets a new one up (cooked, echo, ISIG, ONLCR, 80x24). */
void tty_init(void);

/* One byte from the UART: edited, echoed, queued for readers, or a signal character acted on. */
void tty_input(uint8_t c);

/* Is input there for a poll (a whole line in canonical mode, any byte in raw mode)? */
int tty_input_ready(void);

/* Would a read be answered now (input ready, or raw mode with VMIN 0)? */
int tty_read_now(void);

/*
 * Copy what one read of max bytes gets into out (at most one line in
 * canonical mode; 0 at a ^D typed at a line's start), without taking it:
 * tty_consume(n) takes it once it has been delivered.
 */
size_t tty_peek(uint8_t *out, size_t max);
void tty_consume(size_t n);

/* Does output turn \n into \r\n (OPOST | ONLCR)? Any thread may ask. */
int tty_onlcr(void);

/* FS_OP_TCATTR: the termios settings read or set, or input flushed (fsproto.h). */
long tty_tcattr(struct req *q);

/* FS_OP_WINSZ: the window size read or set. */
long tty_winsz(struct req *q);

/* FS_OP_TCPGRP: the console's foreground process group, set or read (^C's target). */
long tty_tcpgrp(struct req *q);

/*
 * FS_OP_TTYJOIN: process MR1 is in group MR2 (0: it leaves) and can be
 * signalled through the handle it sent (KS_RIGHT_SIGNAL, WAIT and READ; a
 * process without a live thread is refused, -ESRCH).
 * A watch on the process tells fs.listener when it ends (userdata UD_MEMBER |
 * pid): tty_member_ended forgets it then. At most 64 members, else -ENOSPC.
 */
long tty_join(struct req *q);
void tty_member_ended(uint32_t pid);

/* FS_OP_STATS: bytes written to the UART and write requests served so far. */
void console_counts(uint64_t *bytes, uint64_t *requests, uint64_t *parked);

#endif
