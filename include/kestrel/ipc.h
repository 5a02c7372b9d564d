/*
 * include/kestrel/ipc.h - IPC through ports with call/reply (user-visible ABI).
 *
 * A server creates a listener port and, from it, client ports, each carrying a
 * 64-bit userdata value, and hands the client ports out. A client CALLS through
 * a client port: the message goes to the listener, the caller blocks until the
 * reply. A server thread RECEIVES on the listener: it gets the message, the
 * userdata of the client port used (never a handle to it) and a one-shot reply
 * port, which REPLY consumes. Reply-and-receive is one call.
 *
 * Registers. An IPC call is an ecall like any other (<kestrel/syscall.h>), with
 * the message in eight registers:
 *
 *   in:   a7 = KS_SYS_IPC_*   a0 = port handle   a1 = struct ks_ipc_desc * or 0
 *         MR0..MR7 = a2 a3 a4 a5 a6 t0 t1 t2     t3 = listener (reply-and-receive)
 *   out:  a0 = result (call: the server's reply status; receive: the reply port
 *              handle), or a negative KS_ERR_*
 *         a1 = userdata of the client port (receive), 0 otherwise
 *         a7 = info: bytes of buffer received | handles received << 32 |
 *              KS_IPC_INFO_TRUNCATED if the incoming buffer did not fit
 *         MR0..MR7 = the words received
 *   kept: sp, ra, gp, tp, s0-s11 (as for every system call)
 *   zero: t3-t6 and any MR the message did not carry
 *
 * A message is up to KS_IPC_WORDS words in registers, plus, when a descriptor is
 * given, a byte buffer of up to KS_IPC_MAX_BUF bytes copied once from the
 * sender's memory into the receiver's, and up to KS_IPC_MAX_HANDLES handles.
 * A call to a listener with a thread already waiting, carrying no handles,
 * takes the assembly fast path (arch/riscv/ipc_fast.S) when nothing needs
 * writing back to the receiver's descriptor, and so does a reply-and-receive
 * whose reply carries words and handles, no buffer; everything else the C
 * path (kernel/ipc.c), with identical results.
 *
 * A receive buffer is lent to the kernel while its thread waits: what it
 * holds past the bytes of the message finally received (recv_len) is not
 * specified. A call whose send buffer turns out to be partly unreadable
 * fails with KS_ERR_FAULT and is delivered to nobody, but the fast path may
 * have copied its readable start into a waiting receiver's buffer first.
 */
#ifndef KESTREL_IPC_H
#define KESTREL_IPC_H

#include <stdint.h>
#include <kestrel/handle.h>

#define KS_IPC_WORDS        8
#define KS_IPC_MAX_BUF      (64 * 1024)
#define KS_IPC_MAX_HANDLES  4

/* info word (a7 on return) */
#define KS_IPC_INFO_BYTES(i)    ((uint32_t)(i))
#define KS_IPC_INFO_HANDLES(i)  ((uint32_t)((i) >> 32) & 0xff)
#define KS_IPC_INFO_TRUNCATED   (1ull << 40)    /* the incoming buffer was cut to recv_cap */

/* ks_ipc_desc.flags, set by the kernel */
#define KS_IPC_PEER_TRUNCATED   (1u << 0)       /* what we sent did not fit the receiver */

/* call_flags: a call waiting for its reply (the server has it) is ended by an upcall due to
   the caller (a signal) only if it says so; the reply is then lost. Otherwise the upcall waits
   for the reply, so a request the server has carried out is never reported as failed. */
#define KS_IPC_CALL_INTERRUPTIBLE (1u << 0)
/* A call that fails before any server took it (interrupted while queued, say) returns with its
   message registers as it sent them, so it can be sent again as it is; once a server has taken
   it, a failure returns them cleared. */

/* send_handle_flags[i] */
#define KS_IPC_HANDLE_MOVE      (1u << 0)       /* close ours once sent (else: copy) */
/*
 * Send a new view (position 0) of this memobj handle instead of the handle,
 * with the rights KS_IPC_VIEW_RIGHTS(flags) names: what sys_view_create and
 * moving the view would do, in the message itself. The handle must have
 * those rights and TRANSFER, and stays ours; the rights must be ones a view
 * takes (READ, WRITE, TRANSFER, DUPLICATE, MAP, EXECUTE); not with MOVE, and
 * not of a device's memobj (KS_ERR_INVALID). The view is charged to the
 * sender's account, as one it made itself.
 */
#define KS_IPC_HANDLE_VIEW      (1u << 1)
#define KS_IPC_VIEW_RIGHTS_SHIFT 8
#define KS_IPC_HANDLE_AS_VIEW(rights) (KS_IPC_HANDLE_VIEW | (uint32_t)(rights) << KS_IPC_VIEW_RIGHTS_SHIFT)
#define KS_IPC_VIEW_RIGHTS(flags) ((uint32_t)(flags) >> KS_IPC_VIEW_RIGHTS_SHIFT)

struct ks_ipc_desc {
    /* what to send */
    const void *send_buf;
    uint64_t send_len;
    ks_handle_t send_handles[KS_IPC_MAX_HANDLES];
    uint32_t send_handle_flags[KS_IPC_MAX_HANDLES];
    uint32_t send_nhandles;
    uint32_t call_flags;                        /* KS_IPC_CALL_*; other bits are ignored */
    /* where received data goes */
    void *recv_buf;
    uint64_t recv_cap;
    /* written by the kernel when the call returns (one aligned block: KS_IPC_DESC_OUT) */
    uint64_t recv_len;                          /* length the sender sent (may exceed recv_cap) */
    uint32_t recv_nhandles;
    uint32_t flags;                             /* KS_IPC_PEER_TRUNCATED */
    ks_handle_t recv_handles[KS_IPC_MAX_HANDLES];
};

#define KS_IPC_DESC_OUT     72                  /* offset of the outputs: recv_len .. the end */

_Static_assert(sizeof(struct ks_ipc_desc) == 104, "ks_ipc_desc layout is ABI");
_Static_assert(__builtin_offsetof(struct ks_ipc_desc, recv_len) == KS_IPC_DESC_OUT, "outputs block");

#endif
