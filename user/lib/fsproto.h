/*
 * user/lib/fsproto.h - the protocol between musl_emu.c and the FS server
 * (user/fsd/), carried by kestrel IPC (<kestrel/ipc.h>, user/lib/ipc.h).
 *
 * Ports. Every client port the server hands out carries a userdata value that
 * tells the server what the port stands for. The names used on both sides:
 *
 *   root port         userdata FS_PORT_ROOT: the namespace (open, stat, mkdir,
 *                     unlink, rename). Every musl program gets one at start
 *                     (FS_AT_ROOT).
 *   directory port    one open directory (READDIR, FSTAT); from FS_OP_OPEN.
 *   console port      the console: READ, FSTAT and WRITE of any length; from
 *                     FS_OP_OPEN of /dev/console, with the write port.
 *   write port        the console's second port: short WRITEs only, served by
 *                     a server thread that receives without a descriptor, so
 *                     each is one register-only IPC round trip (the fast path).
 *
 * Handles from FS_OP_OPEN are moved to the opener, and closing them is all
 * there is to closing the file: the server keeps no record per open.
 *
 * Requests. MR0 is the operation (FS_OP_*); the other words and the buffer are
 * per operation, below. Paths are absolute ("/tmp/x"), at most FS_PATH_MAX
 * bytes, sent as the buffer without a terminating NUL; musl_emu makes relative
 * paths absolute. The reply's MR0 is its status: >= 0 on success or a negative
 * Linux errno value (ENOENT is -2), which musl_emu hands to musl as is; results
 * follow in MR1... The server always replies with a0 = 0, so a negative result
 * of the call itself is an IPC error (KS_ERR_*), never confused with an errno.
 *
 * Regular files are memobjs. FS_OP_OPEN of a file answers with a view (its
 * position is the file offset; read and write go straight to the kernel, no
 * IPC), and the view gives a handle to the memobj itself when the client
 * needs one (KS_SYS_VIEW_MEMOBJ: for fstat's size, pread, ftruncate and mmap).
 * Only opening, directories, names and the console need the server.
 */
#ifndef USER_FSPROTO_H
#define USER_FSPROTO_H

#include <stdint.h>

#define FS_PORT_ROOT        0           /* userdata of root ports */
#define FS_PORT_INIT        3           /* userdata of init's control port (FS_OP_DISK), which only
                                           init holds: it made fsd's listener */
#define FS_AT_ROOT          0x4b5320    /* auxv: this program's root port (musl_emu_spawn) */
#define FS_PATH_MAX         1024

enum fs_op {
    /* On a root port. */
    FS_OP_OPEN = 1,     /* MR1 = Linux open flags, MR2 = mode; buf = path.
                           status = FS_KIND_*; MR1 = inode, MR2 = st_mode;
                           FILE: handles [view] (KS_SYS_VIEW_MEMOBJ gives its memobj); DIR: [directory port];
                           CONSOLE: [console port, write port] (no write port if the
                           server could not start its writer thread) */
    FS_OP_STAT,         /* buf = path (or MR1 = inode if no buf). status 0; MR1..MR6 =
                           struct fs_stat */
    FS_OP_MKDIR,        /* MR1 = mode; buf = path. status 0 */
    FS_OP_UNLINK,       /* MR1 = 1 to remove a directory (rmdir), 0 for a file; buf = path */
    FS_OP_RENAME,       /* MR1 = length of the old path; buf = old path then new path */
    FS_OP_STATS,        /* status 0; MR1 = bytes written to the console so far,
                           MR2 = console write requests served, MR3 = console reads
                           parked now (waiting for input) */

    /* On a directory port. */
    FS_OP_READDIR,      /* MR1 = position (0 at start); MR2 = the size of the caller's
                           recv buf (the server cannot see it; 0: it sends one record per
                           call, which any getdents64 buffer holds); the recv buf gets Linux
                           linux_dirent64 records (what getdents64 returns: d_ino, d_off =
                           the position after this entry, d_reclen, d_type, d_name with
                           its NUL, padded to 8), as many whole ones as fit; status = bytes
                           (0 at the end); MR1 = the next position */
    FS_OP_FSTAT,        /* status 0; MR1..MR6 = struct fs_stat (also on the console port) */

    /* On the console port. The write port takes FS_OP_WRITE of at most FS_INLINE_MAX
       bytes and answers anything else with -EINVAL. */
    FS_OP_WRITE,        /* MR1 = length; data in MR2..MR7 if length <= FS_INLINE_MAX,
                           else in the buffer. status = bytes written */
    FS_OP_READ,         /* MR1 = most bytes wanted; recv buf gets them. Blocks until at
                           least one byte came in from the UART. status = bytes */

    /* On a root port, again. */
    FS_OP_UTIMES,       /* MR1 = the new mtime in realtime ns, or FS_TIME_NOW for the
                           server's clock; buf = path (or MR2 = inode if no buf). status 0 */
    FS_OP_CHMOD,        /* MR1 = the new permission bits (07777); buf = path (or MR2 = inode
                           if no buf). status 0 */

    /* On a console port. */
    FS_OP_POLL,         /* MR1 = KS_WATCH_* wanted; handle 0 (optional, moved): a client port
                           with KS_RIGHT_SIGNAL to the caller's listener. status = what the
                           console is ready for now; if none of MR1's, 0, and the port is
                           notified (word KS_WATCH_READABLE) when input comes */
    FS_OP_TCPGRP,       /* MR1 = 1 to set the console's foreground process group to MR2, 0 to
                           read it. status = the group (0: none set yet) */
    /* On a root port. */
    FS_OP_LOCK,         /* MR1 = FS_LOCK_TEST, _SET or _RELEASE_ALL; MR2 = FS_LOCK_READ, _WRITE
                           or _UNLOCK; MR3 = start; MR4 = length (0: to the end); MR5 = the
                           owner's pid; MR6 = inode. SET: status 0, or -EAGAIN (held by
                           another), -ENOLCK (the table is full). TEST: MR1 = the type of a
                           conflicting lock (or _UNLOCK), MR2 its start, MR3 its length,
                           MR4 its pid. RELEASE_ALL: drop the owner's locks on the inode */
    FS_OP_SYMLINK,      /* MR1 = the target's length; buf = the target, then the link's path.
                           status 0, or -EEXIST */
    FS_OP_READLINK,     /* buf = path. status = the target's length; recv buf gets it
                           (cut to the caller's buffer, as readlink does); -EINVAL if the
                           path does not name a symbolic link */
    /* On a console port. */
    FS_OP_TCATTR,       /* MR1 = FS_TCATTR_*; MR2 = c_iflag | c_oflag << 32, MR3 = c_cflag |
                           c_lflag << 32, MR4..MR6 = c_line then c_cc[0..22] (24 bytes):
                           given by SET, answered by GET. status 0 */
    FS_OP_WINSZ,        /* MR1 = 1 to set the window size to MR2 rows, MR3 columns, 0 to read
                           it. status 0; MR1 = rows, MR2 = columns */
    /* On a root port. */
    FS_OP_TTYJOIN,      /* MR1 = pid, MR2 = its process group (0: it leaves the console);
                           handle 0 (moved): the process, with KS_RIGHT_SIGNAL, WAIT and READ
                           (one with no live thread: -ESRCH). The console's
                           signal characters (^C, ^\, ^Z) are raised on the members of the
                           foreground group. status 0, or -ENOSPC (64 members) */
    /* On init's control port (FS_PORT_INIT) only. */
    FS_OP_DISK,         /* handle 0 (moved): a block driver's client port (user/lib/blkproto.h):
                           the disk becomes /dev/vda. status 0, -EEXIST (one already), -EIO */
    /* On a root port. */
    FS_OP_SYNC,         /* write every dirty page of the disk (/dev/vda) back to it and flush
                           it (fsync, fdatasync, sync, syncfs). status 0 or -EIO */
    FS_OP_STATFS,       /* buf = path (or MR2 = inode if no buf). status 0; MR1 = the file
                           system's magic (0xEF53: the disk's ext2), MR2 = its block size,
                           MR3 = blocks, MR4 = free blocks, MR5 = inodes, MR6 = free inodes;
                           MR1 = 0: in fsd's memory (the caller asks the kernel: statfs) */
    FS_OP_LINK,         /* MR1 = the existing path's length; buf = it, then the new name's path.
                           status 0; -EPERM for a directory or a file in fsd's memory (it
                           makes no links there), -EXDEV between the disk and memory */
    FS_OP_LAST = FS_OP_LINK
};

#define FS_TIME_NOW         UINT64_MAX

/* FS_OP_TCATTR's MR1: TCGETS, TCSETS (and TCSETSW: output is never queued), TCSETSF, TCFLSH. */
enum { FS_TCATTR_GET, FS_TCATTR_SET, FS_TCATTR_SET_FLUSH, FS_TCATTR_FLUSH };
#define FS_TCATTR_CC            24      /* bytes of c_line and c_cc in MR4..MR6 */

/* FS_OP_LOCK's operations and lock types. */
enum { FS_LOCK_TEST, FS_LOCK_SET, FS_LOCK_RELEASE_ALL };
enum { FS_LOCK_READ, FS_LOCK_WRITE, FS_LOCK_UNLOCK };

/* FS_OP_WRITE carries this many bytes in registers (MR2..MR7), no buffer: one fast-path
   IPC round trip for a short console write. */
#define FS_INLINE_MAX       48

/*
 * A short path travels in registers instead of the buffer: MR0 = op |
 * FS_PATH_INLINE | length << FS_PATH_INLINE_SHIFT, the path's bytes in
 * MR3..MR7 (at most FS_PATH_INLINE_MAX, no NUL; MR1 and MR2 keep their
 * meaning). A stat, mkdir or unlink of such a path is then a call with no
 * descriptor: the IPC fast path both ways. Any root-port operation may use it.
 */
#define FS_PATH_INLINE          (1u << 8)
#define FS_PATH_INLINE_SHIFT    16
#define FS_PATH_INLINE_MAX      40
#define FS_OP_MASK              0xff

/*
 * MR0 | FS_NOFOLLOW: a path operation that acts on a symbolic link itself
 * when the path's last component is one (lstat, open with O_NOFOLLOW, which
 * then fails with ELOOP). Without it the link is followed, as every link
 * before the last component always is; UNLINK, RENAME, MKDIR and SYMLINK never
 * follow a last component. 40 links in one resolution: ELOOP.
 */
#define FS_NOFOLLOW             (1u << 9)
#define FS_SYMLOOP_MAX          40

/*
 * What FS_OP_OPEN opened. The three devices come with no handles: the
 * client serves them itself (reading /dev/null gives end of file, /dev/zero
 * and /dev/full zeros; writing to /dev/full fails with ENOSPC, to the others
 * succeeds), as they hold no state and need no server.
 */
enum fs_kind {
    FS_KIND_FILE = 1,
    FS_KIND_DIR = 2,
    FS_KIND_CONSOLE = 3,
    FS_KIND_NULL = 4,
    FS_KIND_ZERO = 5,
    FS_KIND_FULL = 6,
};

/* The reply words of FS_OP_STAT / FS_OP_FSTAT (MR1..MR6; MR0 is the status). */
struct fs_stat {
    uint64_t ino;
    uint64_t mode;          /* Linux st_mode: S_IFREG | 0644 etc. */
    uint64_t size;
    uint64_t nlink;
    uint64_t mtime_ns;      /* realtime nanoseconds */
    uint64_t ctime_ns;
};

#endif
