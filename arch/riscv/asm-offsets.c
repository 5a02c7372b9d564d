/*
 * arch/riscv/asm-offsets.c - struct offsets for assembly, generated at build time.
 *
 * Compiled to assembly only; the Makefile turns each "#define NAME value" line
 * the asm statements leave in the .s file into build/gen/asm-offsets.h.
 */
#include <stddef.h>
#include <arch/trapframe.h>

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
}
