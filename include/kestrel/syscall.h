/*
 * include/kestrel/syscall.h - system call numbers and their arguments
 * (user-visible ABI).
 *
 * Calling convention: the number in a7, arguments in a0..a5, `ecall`, the result
 * in a0 (negative: a KS_ERR_* code from <kestrel/errors.h>). Like a function
 * call, an ecall preserves sp, ra, gp, tp and s0..s11 and clobbers t0..t6 and
 * a1..a7, which the kernel returns zeroed: no kernel value reaches user space.
 *
 * Every pointer argument must point into user space (0x1000 .. 0x7fffffffffff)
 * for its whole length; otherwise the call fails with KS_ERR_FAULT.
 */
#ifndef KESTREL_SYSCALL_H
#define KESTREL_SYSCALL_H

#include <stdint.h>

enum ks_syscall {
    KS_SYS_NULL = 0,            /* () -> 0; the cheapest call, for measurements */
    KS_SYS_DEBUG_WRITE,         /* (buf, len) -> len; write to the kernel console */

    KS_SYS_HANDLE_CLOSE,        /* (h) -> 0 */
    KS_SYS_HANDLE_DUPLICATE,    /* (h, rights) -> new handle with rights (a subset); needs DUPLICATE */
    KS_SYS_HANDLE_TRANSFER,     /* (proc, h, rights, flags) -> the handle's value in proc;
                                   needs TRANSFER on h, MANAGE on proc; KS_TRANSFER_MOVE closes h;
                                   a process's own handle cannot go into it (KS_ERR_INVALID) */
    KS_SYS_HANDLE_INFO,         /* (h) -> type << 16 | rights (KS_INFO_TYPE, KS_INFO_RIGHTS) */

    KS_SYS_PROCESS_CREATE,      /* (name, name_len) -> process handle (empty address space);
                                   name_len <= KS_NAME_MAX, the first 31 bytes kept */
    KS_SYS_PROCESS_EXIT,        /* (status) -> does not return; all threads end */
    KS_SYS_PROCESS_WAIT,        /* (proc, uint64_t *status, flags) -> 0 once it has ended; needs
                                   WAIT. KS_WAIT_NOHANG: KS_ERR_AGAIN if it has not ended yet.
                                   KS_WAIT_STOPPED / _CONTINUED: also once it reports a stop
                                   (status KS_STATUS_STOPPED | signal) or a continue
                                   (KS_STATUS_CONTINUED) not yet waited for (KS_SYS_PROCESS_STOPPED);
                                   KS_WAIT_PEEK leaves that report to be waited for again */
    KS_SYS_PROCESS_KILL,        /* (proc, cause) -> 0; needs MANAGE; it ends with KS_STATUS_KILLED |
                                   cause: 0 means KS_KILL_BY_REQUEST, else a KS_KILL_SIGNAL(n) */

    KS_SYS_THREAD_CREATE,       /* (proc, pc, sp, arg, tp) -> thread handle; runs pc(arg) on sp
                                   in proc (KS_PROCESS_SELF or a handle with MANAGE), with tp
                                   (the thread pointer) set from its first instruction and, in
                                   the caller's own process, the caller's gp */
    KS_SYS_THREAD_EXIT,         /* (code, clear) -> does not return; the last thread ends the
                                   process. clear != 0: store a 32-bit 0 there and futex_wake
                                   one waiter on it first (a joiner learns the stack is free) */
    KS_SYS_THREAD_JOIN,         /* (thread) -> its exit code (>= 0 expected); needs WAIT */
    KS_SYS_THREAD_YIELD,        /* () -> 0 */
    KS_SYS_THREAD_SLEEP,        /* (ns) -> 0, or KS_ERR_INTERRUPTED */
    KS_SYS_THREAD_INTERRUPT,    /* (thread) -> 0; its blocking call returns KS_ERR_INTERRUPTED */

    /*
     * Memobjs. A device memobj (the kernel makes them, e.g. KS_AT_CONSOLE_MMIO)
     * is a fixed range of device registers: it can only be mapped KS_MAP_SHARED
     * (private: KS_ERR_INVALID) and never executable (KS_PROT_EXEC:
     * KS_ERR_ACCESS, also through vm_protect), not beyond its size
     * (KS_ERR_RANGE); memobj_read/write/truncate and view_create on it fail
     * with KS_ERR_INVALID; IPC never copies a buffer to or from such a
     * mapping (nothing arrives, as with unmapped memory: KS_IPC_INFO_TRUNCATED).
     * memobj_size gives its size (whole pages). A DMA memobj
     * (KS_SYS_DMA_CREATE) follows the same rules except the last: its pages
     * are RAM, and IPC copies to and from them as to any memory.
     */
    KS_SYS_MEMOBJ_CREATE,       /* (size) -> memobj handle (zero-filled, pages made on first use) */
    KS_SYS_MEMOBJ_READ,         /* (m, offset, buf, len) -> bytes read (0 at or past the end) */
    KS_SYS_MEMOBJ_WRITE,        /* (m, offset, buf, len) -> bytes written (grows the memobj) */
    KS_SYS_MEMOBJ_TRUNCATE,     /* (m, size) -> 0 */
    KS_SYS_MEMOBJ_SIZE,         /* (m) -> size */

    KS_SYS_VM_MAP,              /* (proc, m, offset, addr, len, flags) -> address mapped */
    KS_SYS_VM_UNMAP,            /* (proc, addr, len) -> 0 */
    KS_SYS_VM_PROTECT,          /* (proc, addr, len, prot) -> 0 */

    KS_SYS_VIEW_CREATE,         /* (m, rights) -> view handle at position 0 */
    KS_SYS_VIEW_READ,           /* (v, buf, len) -> bytes read, position advances */
    KS_SYS_VIEW_WRITE,          /* (v, buf, len) -> bytes written, position advances */
    KS_SYS_VIEW_SEEK,           /* (v, offset, whence) -> new position */

    KS_SYS_CLOCK_NS,            /* () -> nanoseconds since boot (monotonic) */
    KS_SYS_KSTAT,               /* (struct ks_kstat *out, flags) -> 0; kernel counters for tests */

    KS_SYS_IPC_LISTENER_CREATE, /* () -> listener handle */
    KS_SYS_IPC_CLIENT_CREATE,   /* (listener, userdata, flags) -> client port handle; needs MANAGE;
                                   flags KS_CLIENT_NOTIFY: it has KS_RIGHT_SIGNAL too */
    KS_SYS_IPC_CONTROL,         /* (fastpath_on, struct ks_ipc_stats *out or 0) -> 0 */

    KS_SYS_FUTEX_WAIT,          /* (uint32_t *addr, expected, timeout_ns) -> 0 once woken;
                                   KS_ERR_AGAIN if *addr != expected, KS_ERR_TIMED_OUT,
                                   KS_ERR_INTERRUPTED. timeout_ns KS_FOREVER: no deadline */
    KS_SYS_FUTEX_WAKE,          /* (uint32_t *addr, count) -> threads woken (at most count) */
    KS_SYS_SELF_IDS,            /* (struct ks_ids *out) -> 0; the caller's pid, parent pid, tid */

    /*
     * Interrupts (KS_OBJ_IRQ). A bound irq posts a notification to its
     * listener when it fires and is masked until acknowledged; a thread
     * receiving on the listener (KS_SYS_IPC_RECEIVE / REPLY_RECEIVE) gets it
     * as a0 = KS_HANDLE_NONE (no reply port), a1 = the bind's userdata,
     * MR0 = the interrupt number, the other MRs 0, info 0. Pending
     * notifications come before queued calls, and coalesce: at most one per
     * irq. Both calls need MANAGE on the irq.
     */
    KS_SYS_IRQ_BIND,            /* (irq, listener, userdata) -> 0; the listener needs READ;
                                   rebinding replaces (a pending notification is dropped);
                                   listener KS_HANDLE_NONE unbinds; binding enables the line */
    KS_SYS_IRQ_ACK,             /* (irq) -> 0: enable the line again once the device is served;
                                   KS_ERR_BAD_STATE if the irq is not bound */

    /*
     * Resource limits (struct ks_limits). Every process has an account of
     * the memory charged to it (its memobjs' pages, page tables, kernel
     * objects, thread stacks), its live threads, and the processes made
     * under it (itself included); a charge counts against every process
     * above too, so children share their maker's limits. Memory over a
     * limit fails like exhaustion (KS_ERR_NO_MEMORY), a thread or process
     * over one with KS_ERR_LIMIT. `set` (0: leave) replaces all three limits
     * (KS_UNLIMITED for none); it needs MANAGE, and the process must be one
     * made under the caller (its child, their children, ...), or the caller
     * itself lowering its own limits (setrlimit): not an ancestor or a
     * sibling, and no limit of one's own raised (KS_ERR_ACCESS). `used` and `limit` (0: not
     * wanted) get what is charged and the limits; they need READ. A dead
     * process has no account: KS_ERR_BAD_STATE (checked first).
     */
    KS_SYS_PROCESS_LIMIT,       /* (proc, const struct ks_limits *set, struct ks_limits *used,
                                   struct ks_limits *limit) -> 0 */

    /*
     * Pipes: a 64 KiB ring between a read end and a write end (KS_OBJ_PIPE,
     * one object each). A read returns what is there (at least a byte) or
     * waits; 0 once every handle to the write end is closed. A write of at
     * most KS_PIPE_BUF bytes goes in whole and unmixed; longer ones as room
     * appears; with no read end left: KS_ERR_PEER_CLOSED. Waits are
     * interruptible; KS_PIPE_NONBLOCK makes them KS_ERR_AGAIN.
     */
    KS_SYS_PIPE_CREATE,         /* (ks_handle_t out[2]) -> 0; out[0] the read end (READ,
                                   TRANSFER, DUPLICATE), out[1] the write end (WRITE, ...) */
    KS_SYS_PIPE_READ,           /* (end, buf, len, flags) -> bytes; needs READ */
    KS_SYS_PIPE_WRITE,          /* (end, buf, len, flags) -> bytes; needs WRITE */
    KS_SYS_PIPE_INFO,           /* (end) -> bytes waiting in the pipe; needs READ or WRITE */

    /*
     * fork: a new process (its parent the caller, its account a child of the
     * caller's) whose address space is a copy of the caller's (shared
     * mappings shared, private ones copy-on-write) and whose handle table is
     * a copy of the caller's (every handle at the same value and rights,
     * reply ports excepted), with one thread starting at pc(arg) on sp. The
     * caller gets a handle to it; KS_ERR_LIMIT or KS_ERR_NO_MEMORY at a limit.
     */
    KS_SYS_PROCESS_FORK,        /* (pc, sp, arg, uint32_t *pid or 0) -> process handle; *pid its
                                   pid (written before the child runs) */

    /*
     * exec: the caller becomes the program a loader has put into `image`, a
     * process made under the caller (KS_SYS_PROCESS_CREATE) that has never
     * had a thread. The caller keeps its pid, parent, children and account;
     * it takes image's address space, handle table and name and drops its
     * own. Its other threads end first; the calling thread returns 0 at pc
     * with sp, every other register but s0-s11 zero and no FP state. image
     * is left dead and empty. Errors leave everything as it was: image not
     * a process with MANAGE (KS_ERR_BAD_HANDLE, KS_ERR_WRONG_TYPE,
     * KS_ERR_ACCESS), the caller itself, not made under it, or one that has
     * run (KS_ERR_BAD_STATE), pc or sp outside user space (KS_ERR_RANGE).
     * One error comes after the other threads have ended: image killed or
     * given a thread by another holder meanwhile (KS_ERR_BAD_STATE).
     */
    KS_SYS_PROCESS_EXEC,        /* (image, pc, sp) -> 0 in the new program; an error in the old */

    /*
     * Upcalls (include/kestrel/upcall.h): 64 bits a process or thread can
     * have raised on it; a thread not masking a raised bit is diverted, at
     * its next return to user mode, to the process's upcall entry, with its
     * registers saved on its stack for KS_SYS_UPCALL_RETURN. What the bits
     * mean is user space's (musl_emu: signal n is bit n - 1).
     */
    KS_SYS_UPCALL_SET,          /* (pc or 0, ignore) -> 0; the caller's process: its entry, and
                                   the bits a raise drops unless masked (see upcall.h) */
    KS_SYS_UPCALL_MASK,         /* (how, bits, uint64_t out[2] or 0) -> 0; the calling thread's
                                   mask (KS_MASK_*); out[0] the old mask, out[1] what is pending */
    KS_SYS_UPCALL_RAISE,        /* (process or thread, bits) -> 0; needs SIGNAL */
    KS_SYS_UPCALL_RETURN,       /* (struct ks_upcall_frame *) -> resumes the frame; an error if
                                   it cannot be read (KS_ERR_FAULT) or its pc is not user space */
    KS_SYS_UPCALL_TAKE,         /* (bits, timeout_ns) -> the lowest of `bits` pending, taken,
                                   as bit | sender pid << 8 (kestrel/upcall.h); waits for one; KS_ERR_TIMED_OUT; KS_ERR_INTERRUPTED if an
                                   upcall is due first */
    KS_SYS_UPCALL_SUSPEND,      /* (mask) -> KS_ERR_INTERRUPTED once an upcall is due with `mask`
                                   in force; the upcall's frame records the mask from before */
    KS_SYS_PROCESS_ON_EXIT,     /* (proc, bits) -> 0; raise bits on the caller's process when
                                   proc ends or reports a stop or continue (KS_SYS_PROCESS_STOPPED;
                                   at once if it has ended, or has such a report not yet waited
                                   for); needs WAIT; the last call wins */

    /*
     * Readiness (what poll is built on): an object reports to a listener
     * with a notification (a1 = userdata, MR0 = the KS_WATCH_* that
     * happened), once per arming. KS_SYS_LISTENER_WAIT takes notifications
     * with a timeout, for a listener nobody calls.
     */
    KS_SYS_WATCH,               /* (object, events, listener, userdata) -> the object's KS_WATCH_*
                                   now if any of events (or HANGUP) holds; else 0, with a watch
                                   armed; the listener needs READ; listener 0: only the answer.
                                   A pipe end: READABLE/WRITABLE/HANGUP as below; a process
                                   (needs WAIT): HANGUP once it has ended, READABLE while a stop
                                   or continue it reported waits to be waited for */
    KS_SYS_LISTENER_WAIT,       /* (listener, timeout_ns, uint64_t out[2]) -> 0: out[0] the word,
                                   out[1] the userdata of a notification; KS_ERR_TIMED_OUT,
                                   KS_ERR_INTERRUPTED, KS_ERR_PEER_CLOSED; needs READ */
    KS_SYS_RANDOM,              /* (buf, len) -> bytes written (at most 4,096): random bytes from
                                   the kernel's generator (kernel/random.h) */
    KS_SYS_PROCESS_TIMES,       /* (proc, struct ks_times *out) -> 0; needs READ (KS_PROCESS_SELF:
                                   the caller, whose calling thread's times come too) */
    KS_SYS_PID_ALIVE,           /* (pid) -> 1 if a process with that pid has not ended, else 0
                                   (what kill(pid, 0) tells on Linux; servers use it to drop
                                   what a dead client held, e.g. fsd's file locks) */
    KS_SYS_THREAD_ROBUST,       /* (head, owner) -> 0; head 0: none. When the calling thread
                                   ends without clearing it (killed, say), each lock word in the
                                   Linux-layout robust list at head (next pointers, the word at
                                   futex_offset, list_op_pending) whose low 30 bits are `owner`
                                   gets bit 30 (owner died), bit 31 kept, and one waiter woken */
    KS_SYS_UPCALL_FAULT,        /* (cause, bit + 1 or 0) -> 0; faults of KS_KILL_* cause (2..5)
                                   become that upcall bit for the caller's process instead of a
                                   kill (0: kill again); include/kestrel/upcall.h */
    KS_SYS_IPC_NOTIFY,          /* (client, word) -> 0; post a notification (a1 = the port's
                                   userdata, MR0 = word, OR-ed into one still pending) to its
                                   listener; needs SIGNAL (KS_CLIENT_NOTIFY) */
    KS_SYS_KLOG,                /* (op, buf, len) -> bytes; the kernel log (the console's newest
                                   16 KiB, kprintf's and debug writes): KS_KLOG_READ copies the
                                   newest min(len, kept) bytes to buf, oldest first;
                                   KS_KLOG_READ_CLEAR also empties it, KS_KLOG_CLEAR only
                                   empties it (0), KS_KLOG_SIZE gives its capacity */
    KS_SYS_PROCESS_STOPPED,     /* (signal) -> 0; the caller's process reports that it has
                                   stopped (signal 1..64, the one that stopped it) or continued
                                   (0): what job control's wait reports. Nothing is halted by
                                   the kernel (the process's own code waits for its SIGCONT);
                                   waiters with KS_WAIT_STOPPED/_CONTINUED wake, watches with
                                   KS_WATCH_READABLE fire, and its PROCESS_ON_EXIT bits are
                                   raised (SIGCHLD). A continue with no stop reported: nothing */
    /*
     * Memory a device can reach by DMA: physically contiguous pages, zeroed,
     * pinned for the memobj's life, charged to the caller. Only the holder of a
     * device memobj with KS_RIGHT_DMA (init gives it to the drivers it chooses)
     * can make some, and only the holder of the DMA memobj with KS_RIGHT_DMA
     * learns where it is. There is no IOMMU on QEMU's virt: a driver that can
     * program DMA can reach all of memory, so such a right is trust.
     * A DMA memobj is mapped shared only and cannot be read, written or
     * truncated by system calls (like a device memobj).
     */
    KS_SYS_DMA_CREATE,          /* (device memobj, size 1..KS_DMA_MAX_SIZE) -> DMA memobj handle
                                   (READ|WRITE|MAP|TRANSFER|DUPLICATE|DMA); the size is rounded
                                   up to a power-of-two number of pages */
    KS_SYS_DMA_ADDR,            /* (DMA memobj, offset < size) -> physical address of that byte */
    /*
     * Paged memobjs: a server (the pager) supplies the pages. A thread that
     * touches a page the pager has not supplied (a fault in a mapping, a
     * memobj or view read or write) waits; the pager is told with a
     * notification on its listener (a1 = its userdata, MR0 =
     * KS_PAGER_NOTE), asks which pages are wanted, and supplies them (or fails
     * them: the waiters get KS_ERR_IO, a faulting thread's process is killed
     * with one line). Pages at or past the memobj's size when made (or as
     * truncated since) are not paged: they read as zeros, as in any memobj.
     * If the listener's last handle closes, every wait and every later touch
     * of a page not supplied ends with KS_ERR_IO. See README, "Paged memobjs".
     */
    KS_SYS_MEMOBJ_CREATE_PAGED, /* (size, listener, userdata) -> memobj handle (MEMOBJ rights and
                                   KS_RIGHT_PAGER); the listener needs READ. size |
                                   KS_PAGED_FIXED_SIZE: its size never changes (a disk): a
                                   truncation is KS_ERR_INVALID, a write stops at the end, and
                                   one at or past it is KS_ERR_NO_SPACE */
    KS_SYS_PAGER_REQUESTS,      /* (m, uint64_t *out, max) -> pages wanted now (page indices into
                                   out, oldest first, at most max); needs PAGER */
    KS_SYS_PAGER_SUPPLY,        /* (m, first page, buf, pages <= 256) -> pages installed (missing
                                   ones only; present pages are left as they are; bytes past the
                                   memobj's size become zeros); each waiter on them resumes;
                                   needs PAGER */
    KS_SYS_PAGER_FAIL,          /* (m, first page, pages) -> 0; waiters on those pages, and later
                                   touches until they are supplied, get KS_ERR_IO; needs PAGER */
    /*
     * Write-back and eviction. A supplied page is clean; a write to it (a
     * memobj or view write, a store through a shared mapping, a kernel copy
     * into one) makes it dirty. The pager asks which pages are dirty, takes a
     * dirty page's bytes and marks it clean in one step (a write after that
     * makes it dirty again, so no update is lost), and evicts clean pages
     * (the next touch asks for them again). The kernel evicts clean pages
     * itself when free memory runs low (README, "Paged memobjs").
     */
    KS_SYS_PAGER_DIRTY,         /* (m, first page, pages <= 256, uint64_t out[4]) -> dirty pages
                                   among them (bit i of out: page first + i); pages the memobj
                                   grew by since it was made (past the pager's range, never
                                   supplied) count too, written ones dirty; needs PAGER */
    KS_SYS_PAGER_WRITEBACK,     /* (m, page, buf) -> 1: it was dirty, its bytes are in buf (a
                                   page) and it is clean now; 0: clean or absent, nothing copied;
                                   needs PAGER */
    KS_SYS_PAGER_EVICT,         /* (m, first page, pages <= 256) -> clean pages taken out (dirty
                                   ones stay); needs PAGER */
    KS_SYS_PAGER_SUPPLY_FROM,   /* (m, first page, src memobj, its first page, pages <= 256) ->
                                   pages installed, as SUPPLY, but each is src's own page, shared,
                                   not a copy (a write to one is seen in both); a last page that
                                   passes m's size is copied (its tail zeroed). src needs READ and
                                   WRITE, and stops the supply where it has no page; needs PAGER */
    KS_SYS_PAGER_USERS,         /* (m, flags) -> how many other references hold the memobj: handles
                                   (in any process, m's own not counted), views and mappings; 0:
                                   only m does, so closing m ends it. flags KS_USERS_NOTIFY: if
                                   more than 0, the pager's listener gets KS_PAGER_NOTE_UNUSED once
                                   when they are all gone. needs PAGER */
    KS_SYS_PAGER_LOW_SIZE,      /* (m) -> the least size the memobj has had since the last such
                                   call (or since it was made), and starts over from its size now:
                                   a truncation the pager must apply even if the memobj grew again
                                   since; needs PAGER */
    KS_SYS_PAGER_ACCESSED,      /* (m, first page, pages <= 256 [| KS_ACCESSED_RESET], uint64_t
                                   out[4]) -> accessed pages among them (read, written or faulted
                                   on since they came or were last reset; bit i of out: page
                                   first + i); with KS_ACCESSED_RESET they are not any more, and
                                   leave every shared mapping, so that the next touch there marks
                                   them again (a private mapping that reads one keeps it, unseen);
                                   needs PAGER */
    KS_SYS_PAGER_REDIRTY,       /* (m, first page, pages <= 256) -> pages marked dirty again: those
                                   present (an absent one is not counted). For a write-back the
                                   backing store refused: the next one tries them again; needs
                                   PAGER */
    KS_SYS_PROCESS_SIGNAL,      /* (kind, who, value, flags) -> how many processes that match are
                                   in reach (> 0; ones already ending count, and are left alone).
                                   Processes by number, not by handle, as POSIX's kill names
                                   them. kind KS_SIGNAL_PID: the process whose pid is who;
                                   KS_SIGNAL_GROUP: those whose group (KS_SYS_PROCESS_GROUP) is
                                   who (0: the caller's); KS_SIGNAL_BELOW: every process below
                                   the caller. It acts only on what is in the caller's reach:
                                   itself and the processes below it (made by it, or by one below
                                   it, whoever their parent is now), and for a raise its parent
                                   too. value: upcall bits to raise (0: none, only the count);
                                   with flags KS_SIGNAL_KILL, a kill cause as KS_SYS_PROCESS_KILL
                                   takes. KS_ERR_INVALID for another kind or flag, a who over 32
                                   bits or a cause that is none; KS_ERR_ACCESS if what matches is
                                   all out of reach, KS_ERR_NO_PROCESS if nothing matches */
    KS_SYS_PROCESS_GROUP,       /* (proc, group) -> 0: the number KS_SIGNAL_GROUP finds it by (a
                                   process made by KS_SYS_PROCESS_CREATE starts with its own pid,
                                   a fork child with its parent's; exec keeps it); group > 0;
                                   needs MANAGE */
    KS_SYS_DMA_PIN,             /* (DMA memobj, m, first page, pages 1..64, uint64_t pa[]) -> pages:
                                   lends the device pages of an ordinary memobj m (made zeroed
                                   where missing; not a device, DMA or paged one) until
                                   KS_SYS_DMA_UNPIN, writing each one's physical address to pa[i].
                                   Each holds its page: truncating or closing m frees nothing the
                                   device may write, and the DMA memobj's end resets the device
                                   before its pins go. At most 256 pins a DMA memobj
                                   (KS_ERR_LIMIT). Needs DMA on the DMA memobj, READ and WRITE on
                                   m */
    KS_SYS_DMA_UNPIN,           /* (DMA memobj, const uint64_t pa[], count <= 64) -> pages unpinned,
                                   stopping at the first address not pinned through it (none:
                                   KS_ERR_INVALID; count 0: 0; over 64: KS_ERR_RANGE); needs DMA */
    KS_SYS_VIEW_MEMOBJ,         /* (v) -> a handle to the view's memobj, with the view handle's
                                   rights: a view made with MAP or EXECUTE (which mean nothing
                                   to the view itself) gives them to its memobj handle, so one
                                   handle per open file is enough and the memobj handle comes
                                   only when it is needed */
    KS_SYS_MEMOBJ_STAT,         /* (m, struct ks_memobj_stat *out, flags) -> 0: its size and when
                                   its bytes or size last changed (see struct ks_memobj_stat);
                                   needs READ. flags KS_MEMOBJ_STAT_CLEAR (needs WRITE too):
                                   forget that change after reading it (a file server that set
                                   the file's time by hand); other flags: KS_ERR_INVALID */
    KS_SYS_VM_SYNC,             /* (proc, addr, len) -> 0: every memobj mapped shared and writable
                                   in the range has changed now (its KS_SYS_MEMOBJ_STAT time;
                                   msync: stores through a mapping are not seen otherwise).
                                   addr page-aligned, len > 0 (else KS_ERR_INVALID); all of it
                                   mapped (else KS_ERR_RANGE, and nothing changes); proc as
                                   KS_SYS_VM_PROTECT's */

    KS_SYS_COUNT
};

/* KS_SYS_PROCESS_SIGNAL's kinds and flag. */
#define KS_SIGNAL_PID       0
#define KS_SIGNAL_GROUP     1
#define KS_SIGNAL_BELOW     2
#define KS_SIGNAL_KILL      1u      /* value is a kill cause: end the processes (no mask stops it) */

/* The longest name KS_SYS_PROCESS_CREATE takes (the kernel keeps the first 31 bytes). */
#define KS_NAME_MAX         4096

/* KS_SYS_PROCESS_WAIT flags. */
#define KS_KLOG_READ        0
#define KS_KLOG_READ_CLEAR  1
#define KS_KLOG_CLEAR       2
#define KS_KLOG_SIZE        3

#define KS_WAIT_NOHANG      (1u << 0)
#define KS_WAIT_STOPPED     (1u << 1)   /* also report a stop (WUNTRACED) */
#define KS_WAIT_CONTINUED   (1u << 2)   /* also report a continue (WCONTINUED) */
#define KS_WAIT_PEEK        (1u << 3)   /* a stop or continue reported stays to be waited for (WNOWAIT) */

/* KS_SYS_IPC_CLIENT_CREATE flags. */
#define KS_CLIENT_NOTIFY    (1u << 0)

/* Readiness events (KS_SYS_WATCH, the word of its notification). */
#define KS_WATCH_READABLE   (1u << 0)   /* bytes to read, or end of file */
#define KS_WATCH_WRITABLE   (1u << 1)   /* room for an atomic write, or nobody to read */
#define KS_WATCH_HANGUP     (1u << 2)   /* the other end is gone (always reported) */

/* KS_SYS_PIPE_READ / WRITE flags, and the atomic write size. */
#define KS_PIPE_NONBLOCK    (1u << 0)
#define KS_PIPE_BUF         4096

/* KS_SYS_PROCESS_LIMIT's three quantities. */
struct ks_limits {
    uint64_t memory;            /* bytes */
    uint64_t threads;
    uint64_t processes;
    uint64_t reserved;          /* 0 */
};
_Static_assert(sizeof(struct ks_limits) == 32, "ks_limits layout is ABI");
#define KS_UNLIMITED        UINT64_MAX

/* futex_wait: wait without a deadline. Futexes are keyed by (address space, address). */
#define KS_FOREVER          UINT64_MAX

/*
 * From KS_SYS_PROCESS_TIMES: CPU time in ns, sampled by the 100 Hz tick (a
 * tick's worth goes to whoever it finds running, as user or system time).
 * A dead child's times, and its dead children's, count as "children" times.
 */
struct ks_times {
    uint64_t user_ns, system_ns;                    /* the process: all its threads, live or not */
    uint64_t children_user_ns, children_system_ns;
    uint64_t thread_user_ns, thread_system_ns;      /* the calling thread (0 for another process) */
    uint64_t reserved[2];
};
_Static_assert(sizeof(struct ks_times) == 64, "ks_times layout is ABI");

/* From KS_SYS_SELF_IDS: the kernel's numbers for the caller (for POSIX emulation, logs). */
struct ks_ids {
    uint32_t pid, parent_pid, tid;
    uint32_t group;             /* KS_SYS_PROCESS_GROUP's number (a parent may have changed it) */
};
_Static_assert(sizeof(struct ks_ids) == 16, "ks_ids layout is ABI");

/*
 * The IPC calls proper are numbered apart: entry.S sends every number from
 * KS_SYS_IPC_FIRST on to the IPC entry, which passes the message registers
 * (see <kestrel/ipc.h>).
 */
#define KS_SYS_IPC_FIRST            0x100
#define KS_SYS_IPC_CALL             0x100   /* (client, desc) -> 0 or error; reply in MRs */
#define KS_SYS_IPC_RECEIVE          0x101   /* (listener, desc) -> reply port; a1 = userdata */
#define KS_SYS_IPC_REPLY            0x102   /* (reply, desc) -> 0 or error */
#define KS_SYS_IPC_REPLY_RECEIVE    0x103   /* (reply, desc, t3 = listener) -> as RECEIVE */
#define KS_SYS_IPC_LAST             0x103

/* vm_map flags: protection, sharing, placement. */
#define KS_PROT_READ        (1u << 0)
#define KS_PROT_WRITE       (1u << 1)
#define KS_PROT_EXEC        (1u << 2)
#define KS_MAP_SHARED       (1u << 4)   /* writes go to the memobj, seen by every mapping */
#define KS_MAP_PRIVATE      (1u << 5)   /* copy-on-write: writes stay in this mapping */
#define KS_MAP_FIXED        (1u << 6)   /* map exactly at addr (fails if anything is there) */

/* view_seek whence, as in lseek. */
#define KS_SEEK_SET 0
#define KS_SEEK_CUR 1
#define KS_SEEK_END 2

/* handle_transfer flags */
#define KS_TRANSFER_MOVE    (1u << 0)

/*
 * Process status from process_wait: bits 0..31 the exit status, or, if
 * KS_STATUS_KILLED is set, the cause (KS_KILL_*) in bits 0..31.
 */
#define KS_STATUS_KILLED    (1ull << 32)
#define KS_STATUS_STOPPED   (1ull << 33)    /* | the signal: a stop reported, not an end */
#define KS_STATUS_CONTINUED (1ull << 34)    /* a continue reported, not an end */
#define KS_KILL_BY_REQUEST  1   /* process_kill */
#define KS_KILL_PAGE_FAULT  2
#define KS_KILL_ILLEGAL     3   /* illegal instruction */
#define KS_KILL_MISALIGNED  4
#define KS_KILL_ACCESS      5   /* access fault, breakpoint or other exception */
#define KS_KILL_SIGNAL(n)   (0x100 + (n))   /* KS_SYS_PROCESS_KILL's cause for POSIX signal n
                                               (1..64): user space's meaning, kept as given */

/* Counters from KS_SYS_KSTAT (for leak checks in tests). */
struct ks_kstat {
    uint64_t free_pages;
    uint64_t total_pages;
    uint64_t heap_objects;      /* live kmalloc objects */
    uint64_t objects;           /* live kernel objects (processes, threads, memobjs, ...) */
    uint64_t debug_write_calls; /* KS_SYS_DEBUG_WRITE calls since boot */
    uint64_t context_switches;
    uint64_t boot_instret;      /* the instruction counter at kernel entry (exact under icount) */
    uint64_t irq_latency_max_ns;    /* worst timer-interrupt lateness since boot or the last
                                       KS_KSTAT_RESET_LATENCY (how long interrupts were off) */
    uint64_t idle_instret;      /* the instruction counter's advance while the hart slept in the
                                   idle loop (under -icount: the virtual time it skipped) */
};
_Static_assert(sizeof(struct ks_kstat) == 72, "ks_kstat layout is ABI");

/* KS_SYS_KSTAT flags: after reading, start a new irq_latency_max_ns measurement. */
#define KS_KSTAT_RESET_LATENCY  (1u << 0)

/*
 * KS_SYS_MEMOBJ_STAT's answer. changed_ns is the time (ks_clock_ns) of the
 * last change: a write system call into it (memobj or view) that wrote a
 * byte, a truncate (to any size, the same one too), a store through a
 * shared mapping of a paged memobj that faults (the first since the page
 * was mapped or written back), or KS_SYS_VM_SYNC over a shared writable
 * mapping of it. 0: none since it was made, or since KS_MEMOBJ_STAT_CLEAR.
 * Other stores through a mapping are not seen (nothing traps them).
 */
struct ks_memobj_stat {
    uint64_t size;
    uint64_t changed_ns;
};
#define KS_MEMOBJ_STAT_CLEAR    1u

/* IPC path counters from KS_SYS_IPC_CONTROL. */
struct ks_ipc_stats {
    uint64_t fast_calls, fast_replies;  /* served by the assembly fast path */
    uint64_t slow_calls, slow_replies;  /* served by kernel/ipc.c */
    uint64_t fastpath_on;
};
_Static_assert(sizeof(struct ks_ipc_stats) == 40, "ks_ipc_stats layout is ABI");

/* Auxiliary vector entries (initial stack) beyond Linux's, for handles given at start. */
#define KS_AT_BOOTIMAGE     0x4b5301    /* handle of the boot image memobj */
/*
 * init only: the console UART, for the server that will drive it. MMIO is a
 * device memobj of its registers (READ|WRITE|MAP|TRANSFER|DUPLICATE), register
 * n at offset REG_OFFSET + (n << REG_SHIFT); IRQ is its interrupt (READ|MANAGE|
 * TRANSFER|DUPLICATE). A handle entry is KS_HANDLE_NONE if the kernel found no
 * interrupt controller or no interrupt for the UART in the device tree.
 */
#define KS_AT_CONSOLE_MMIO       0x4b5302
#define KS_AT_CONSOLE_IRQ        0x4b5303
#define KS_AT_CONSOLE_REG_OFFSET 0x4b5304
#define KS_AT_CONSOLE_REG_SHIFT  0x4b5305
#define KS_AT_HANDLE_0      0x4b5310    /* handles a parent passed on: _0, _0 + 1, ... */

/* KS_SYS_PAGER_ACCESSED's flag, or'd into its page count: reset what it reports. */
#define KS_ACCESSED_RESET   (1ull << 63)

/* KS_SYS_MEMOBJ_CREATE_PAGED's size flag: the memobj's size is fixed. */
#define KS_PAGED_FIXED_SIZE (1ull << 63)

/* The word of a pager's notification (KS_SYS_MEMOBJ_CREATE_PAGED). */
#define KS_PAGER_NOTE       0x70616765ull   /* "page" */
/* The word of a pager's other notification: the memobj's size changed (truncated, or grown by a
   write or a truncate); the pager reads the new size with KS_SYS_MEMOBJ_SIZE. */
#define KS_PAGER_NOTE_SIZE  0x73697a65ull   /* "size" */
/* And a third: memory is short and the kernel found dirty pages of the memobj it could not evict;
   the pager should write them back (KS_SYS_PAGER_DIRTY, _WRITEBACK), after which they can go. */
#define KS_PAGER_NOTE_CLEAN 0x636c6e21ull   /* "cln!" */
/* And a fourth, armed by KS_SYS_PAGER_USERS with KS_USERS_NOTIFY: nothing but one handle (the
   pager's) holds the memobj any more; posted once per arming. */
#define KS_PAGER_NOTE_UNUSED 0x756e7573ull  /* "unus" */
/* KS_SYS_PAGER_USERS's flag: arm KS_PAGER_NOTE_UNUSED. */
#define KS_USERS_NOTIFY     1ull

/* The largest KS_SYS_DMA_CREATE (256 contiguous pages). */
#define KS_DMA_MAX_SIZE     (1ul << 20)

/*
 * init only: the virtio-mmio devices the device tree lists and the kernel
 * found a device behind (magic "virt", a device ID other than 0), at most
 * KS_DEVICE_MAX, in address order. Device i: KS_AT_DEVICE_MMIO(i) a device
 * memobj of its registers (READ|WRITE|MAP|TRANSFER|DUPLICATE|DMA),
 * KS_AT_DEVICE_IRQ(i) its interrupt (as the console's; KS_HANDLE_NONE if
 * none), KS_AT_DEVICE_ID(i) its virtio device ID (2: block). Absent entries
 * read as 0.
 */
#define KS_DEVICE_MAX           8
#define KS_AT_DEVICE_MMIO(i)    (0x4b5400 + 4 * (i))
#define KS_AT_DEVICE_IRQ(i)     (0x4b5401 + 4 * (i))
#define KS_AT_DEVICE_ID(i)      (0x4b5402 + 4 * (i))

#endif
