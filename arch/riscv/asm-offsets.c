/*
 * arch/riscv/asm-offsets.c - struct offsets and constants for assembly,
 * generated at build time.
 *
 * Compiled to assembly only; the Makefile turns each "#define NAME value" line
 * the asm statements leave in the .s file into build/gen/asm-offsets.h, so the
 * C structs are the only place these layouts are written down.
 */
#include <stddef.h>
#include <arch/memlayout.h>
#include <arch/trapframe.h>
#include <kestrel/errors.h>
#include <kestrel/syscall.h>
#include "kernel/handle.h"
#include "kernel/ipc.h"
#include "kernel/memobj.h"
#include "kernel/process.h"
#include "kernel/thread.h"
#include "kernel/upcall.h"
#include "kernel/vm.h"

/* The fast path reads these directly: pin what it assumes. */
_Static_assert(sizeof(struct handle_entry) == 1 << 4, "handle entries are 16 bytes (HT_SLOT_SHIFT)");
_Static_assert(KS_HANDLE_MAX / 64 == 4, "ipc_fast.S: the cached bits are four doublewords");
_Static_assert(offsetof(struct thread, state) % 8 == 0 &&
               offsetof(struct thread, ipc_state) == offsetof(struct thread, state) + 1 &&
               offsetof(struct thread, interrupt_pending) == offsetof(struct thread, state) + 2 &&
               offsetof(struct thread, ipc_fast_off) == offsetof(struct thread, state) + 3 &&
               offsetof(struct thread, flags) == offsetof(struct thread, state) + 4 &&
               sizeof(((struct thread *)0)->flags) == 4 &&
               THREAD_RUNNABLE == 0 && IPC_IDLE == 0 &&
               REPLY_ARMED == (THREAD_BLOCKED | IPC_WAIT_REPLY << 8),
               "one ld reads state to flags (TH_STATEWORD), one sh writes state and ipc_state");
_Static_assert(offsetof(struct handle_table, slots) == 0, "slots start the handle table");
_Static_assert(offsetof(struct client_port, obj) == 0 && offsetof(struct listener, obj) == 0 &&
               offsetof(struct reply_port, obj) == 0, "port objects start with their header");
_Static_assert(sizeof(enum thread_state) == 4 && sizeof(enum ipc_state) == 4 &&
               sizeof(enum reply_state) == 4, "states are read with lw/sw");
_Static_assert(sizeof(((struct object *)0)->refs) == 8 && sizeof(((struct object *)0)->handles) == 8,
               "counts are read with ld/sd");
_Static_assert(KS_HANDLE_MAX == 256, "the fast path takes the slot from the low 8 bits");
_Static_assert(sizeof(struct ks_ipc_desc) == 13 * 8 && sizeof(((struct thread_ipc *)0)->nhandles) == 4 &&
               offsetof(struct thread, ipc.desc) % 8 == 0 &&
               offsetof(struct ks_ipc_desc, flags) == offsetof(struct ks_ipc_desc, recv_nhandles) + 4 &&
               sizeof(((struct vm_area *)0)->prot) == 4,
               "ipc_reply_rdesc: a descriptor is 13 words, copied by ld/sd; recv_nhandles and flags share one");
_Static_assert(KS_SYS_COUNT <= KS_SYS_IPC_FIRST && KS_SYS_IPC_CALL == KS_SYS_IPC_FIRST,
               "entry.S: IPC numbers lie above the syscall table (which ends at the first), the call first");

#define DEFINE(sym, val) __asm__ volatile("\n#define " #sym " %0" :: "i"(val))

void asm_offsets(void);
void asm_offsets(void)
{
    DEFINE(TF_SIZE, sizeof(struct trap_frame));
    DEFINE(TF_X0, offsetof(struct trap_frame, x));
    DEFINE(TF_SEPC, offsetof(struct trap_frame, sepc));
    DEFINE(TF_SSTATUS, offsetof(struct trap_frame, sstatus));
    DEFINE(TF_SCAUSE, offsetof(struct trap_frame, scause));
    DEFINE(TF_STVAL, offsetof(struct trap_frame, stval));

    DEFINE(TH_KSTACK_TOP, offsetof(struct thread, arch.kstack_top));
    DEFINE(TH_FRAME, offsetof(struct thread, arch.frame));
    DEFINE(TH_FLAGS, offsetof(struct thread, flags));
    DEFINE(TH_CTX_RA, offsetof(struct thread, arch.ctx.ra));
    DEFINE(TH_CTX_SP, offsetof(struct thread, arch.ctx.sp));
    DEFINE(TH_CTX_S, offsetof(struct thread, arch.ctx.s));

    DEFINE(TH_IPC_MR, offsetof(struct thread, ipc.mr));
    DEFINE(TH_IPC_A1, offsetof(struct thread, ipc.out_a1));
    DEFINE(TH_IPC_INFO, offsetof(struct thread, ipc.out_info));
    DEFINE(TH_IPC_LISTENER_ARG, offsetof(struct thread, ipc.listener_arg));

    /* For the IPC fast path (arch/riscv/ipc_fast.S) */
    DEFINE(TH_STATE, offsetof(struct thread, state));
    DEFINE(TH_STATEWORD, offsetof(struct thread, state));  /* state to flags, one doubleword */
    DEFINE(TH_INTR_PENDING, offsetof(struct thread, interrupt_pending));
    DEFINE(TH_WAITING_ON, offsetof(struct thread, waiting_on));
    DEFINE(TH_PROC, offsetof(struct thread, proc));
    DEFINE(TH_SATP, offsetof(struct thread, arch.satp));
    DEFINE(TH_IPC_LISTENER, offsetof(struct thread, ipc.listener));
    DEFINE(TH_IPC_NEXT_RECEIVER, offsetof(struct thread, ipc.next_receiver));
    DEFINE(TH_IPC_REPLY, offsetof(struct thread, ipc.reply));
    DEFINE(TH_IPC_RPORT, offsetof(struct thread, ipc.rport));
    DEFINE(TH_IPC_RPORT_HANDLE, offsetof(struct thread, ipc.rport_handle));
    DEFINE(TH_IPC_DESC_USER, offsetof(struct thread, ipc.desc_user));
    DEFINE(TH_IPC_DESC, offsetof(struct thread, ipc.desc));
    DEFINE(TH_IPC_DESC_OUT_WAS, offsetof(struct thread, ipc.desc_out_was));
    DEFINE(TH_IPC_NHANDLES, offsetof(struct thread, ipc.nhandles));
    DEFINE(D_SEND_LEN, offsetof(struct ks_ipc_desc, send_len));
    DEFINE(D_SEND_NHANDLES, offsetof(struct ks_ipc_desc, send_nhandles));
    DEFINE(D_RECV_BUF, offsetof(struct ks_ipc_desc, recv_buf));
    DEFINE(D_RECV_CAP, offsetof(struct ks_ipc_desc, recv_cap));
    DEFINE(D_RECV_LEN, offsetof(struct ks_ipc_desc, recv_len));
    DEFINE(D_RECV_NHANDLES, offsetof(struct ks_ipc_desc, recv_nhandles));
    DEFINE(D_OUT, KS_IPC_DESC_OUT);
    DEFINE(D_SIZE, sizeof(struct ks_ipc_desc));
    DEFINE(C_IPC_MAX_BUF, KS_IPC_MAX_BUF);
    DEFINE(C_DESC_ROOM, USER_TOP - USER_BASE - sizeof(struct ks_ipc_desc));
    DEFINE(C_USER_BASE, USER_BASE);
    DEFINE(PROC_VM, offsetof(struct process, vm));
    DEFINE(VS_LAST_AREA, offsetof(struct vm_space, last_area));
    DEFINE(VA_START, offsetof(struct vm_area, start));
    DEFINE(VA_END, offsetof(struct vm_area, end));
    DEFINE(VA_PROT, offsetof(struct vm_area, prot));
    DEFINE(VA_MO, offsetof(struct vm_area, mo));
    DEFINE(MO_PAGER, offsetof(struct memobj, pager));
    DEFINE(C_PROT_WRITE, KS_PROT_WRITE);
    DEFINE(PROC_HANDLES, offsetof(struct process, handles));
    DEFINE(HT_SLOT_SHIFT, 4);
    DEFINE(HT_CACHED, offsetof(struct handle_table, cached));
    DEFINE(TH_HC_CALL, offsetof(struct thread, ipc.hc[IPC_HC_CALL]));
    DEFINE(TH_HC_REPLY, offsetof(struct thread, ipc.hc[IPC_HC_REPLY]));
    DEFINE(TH_HC_LISTENER, offsetof(struct thread, ipc.hc[IPC_HC_LISTENER]));
    DEFINE(HC_HANDLE, offsetof(struct ipc_hcache, handle));
    DEFINE(HC_OBJ, offsetof(struct ipc_hcache, obj));
    DEFINE(HE_OBJ, offsetof(struct handle_entry, obj));
    DEFINE(HE_RIGHTS, offsetof(struct handle_entry, rights));
    DEFINE(HE_GEN, offsetof(struct handle_entry, gen));
    DEFINE(OBJ_TYPE, offsetof(struct object, type));
    DEFINE(CP_LISTENER, offsetof(struct client_port, listener));
    DEFINE(CP_USERDATA, offsetof(struct client_port, userdata));
    DEFINE(L_CLOSED, offsetof(struct listener, closed));
    DEFINE(L_RECEIVERS, offsetof(struct listener, receivers));
    DEFINE(RP_STATE, offsetof(struct reply_port, state));
    DEFINE(RP_CALLER, offsetof(struct reply_port, caller));
    DEFINE(L_FAST_CALLS, offsetof(struct listener, fast_calls));
    DEFINE(L_CALL_RESUME, offsetof(struct listener, call_resume));
    DEFINE(L_RECV_RESUME, offsetof(struct listener, recv_resume));
    DEFINE(L_FAST_REPLIES, offsetof(struct listener, fast_replies));
    DEFINE(C_THREAD_BLOCKED, THREAD_BLOCKED);
    DEFINE(C_THREAD_FULL_RETURN, THREAD_FULL_RETURN);
    DEFINE(C_UPCALL_FROM_ECALL, UPCALL_FROM_ECALL);
    DEFINE(C_UPCALL_FROM_IPC, UPCALL_FROM_IPC);
    DEFINE(C_THREAD_RUNNABLE, THREAD_RUNNABLE);
    DEFINE(C_IPC_IDLE, IPC_IDLE);
    DEFINE(C_IPC_WAIT_REPLY, IPC_WAIT_REPLY);
    DEFINE(C_IPC_RECEIVING, IPC_RECEIVING);
    DEFINE(C_REPLY_IDLE, REPLY_IDLE);
    DEFINE(C_REPLY_ARMED, REPLY_ARMED);
    DEFINE(C_HW_RECEIVING, THREAD_BLOCKED | IPC_RECEIVING << 8);   /* state halfwords */
    DEFINE(C_IPC_FAST_BAIL, IPC_FAST_BAIL);
    DEFINE(C_OBJ_CLIENT, KS_OBJ_CLIENT);
    DEFINE(C_OBJ_LISTENER, KS_OBJ_LISTENER);
    DEFINE(C_OBJ_REPLY, KS_OBJ_REPLY);
    DEFINE(C_RIGHT_READ, KS_RIGHT_READ);
    DEFINE(C_RIGHT_WRITE, KS_RIGHT_WRITE);
    DEFINE(C_SYS_IPC_REPLY_RECEIVE, KS_SYS_IPC_REPLY_RECEIVE);

    DEFINE(SYSCALL_IPC_FIRST, KS_SYS_IPC_FIRST);
    DEFINE(SYSCALL_IPC_LAST, KS_SYS_IPC_LAST);
    DEFINE(SYSCALL_ENOSYS, KS_ERR_NOSYS);
}
