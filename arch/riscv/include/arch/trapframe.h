/*
 * arch/riscv/include/arch/trapframe.h - the registers a trap saves.
 *
 * x[i] holds register xi (x[0] is unused and reads as 0). entry.S finds the
 * fields through build/gen/asm-offsets.h, generated from arch/riscv/asm-offsets.c,
 * so this struct is the only place the layout is written down.
 */
#ifndef ARCH_TRAPFRAME_H
#define ARCH_TRAPFRAME_H

#include <stdint.h>

struct trap_frame {
    uint64_t x[32];
    uint64_t sepc;      /* pc of the trapping instruction (or the one to resume) */
    uint64_t sstatus;
    uint64_t scause;
    uint64_t stval;
};

_Static_assert(sizeof(struct trap_frame) % 16 == 0, "trap frame keeps sp 16-byte aligned");

/* Register numbers, for x[]. */
enum { REG_RA = 1, REG_SP = 2, REG_GP = 3, REG_TP = 4, REG_S0 = 8, REG_A0 = 10, REG_A7 = 17 };

void trap_kernel(struct trap_frame *f);
void trap_user(struct trap_frame *f);

#endif
