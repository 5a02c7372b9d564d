/*
 * arch/riscv/asm-offsets.c - struct offsets and constants for assembly,
 * generated at build time.
 *
 * Compiled to assembly only; the Makefile turns each "#define NAME value" line
 * the asm statements leave in the .s file into build/gen/asm-offsets.h, so the
 * C structs are the only place these layouts are written down.
 */
#include <stddef.h>
#include <arch/trapframe.h>
#include <kestrel/errors.h>
#include <kestrel/syscall.h>
#include "kernel/thread.h"

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
    DEFINE(TH_IPC_LISTENER, offsetof(struct thread, ipc.listener_arg));

    DEFINE(SYSCALL_COUNT, KS_SYS_COUNT);
    DEFINE(SYSCALL_IPC_FIRST, KS_SYS_IPC_FIRST);
    DEFINE(SYSCALL_IPC_LAST, KS_SYS_IPC_LAST);
    DEFINE(SYSCALL_ENOSYS, KS_ERR_NOSYS);
}
