/*
 * arch/riscv/fp.h - lazy floating-point state (private to arch/riscv/).
 */
#ifndef RISCV_FP_H
#define RISCV_FP_H

#include <stdint.h>

struct thread;
struct trap_frame;

void arch_fp_save(uint64_t area[33]);
void arch_fp_load(const uint64_t area[33]);
void arch_fp_zero(void);

/* An illegal-instruction trap from user mode: 1 if it was the first FP use since
   the thread last started running (FP is now on: retry), 0 if really illegal. */
int arch_fp_trap(struct trap_frame *f);

/* If t's FP registers are the hardware's (t uses FP and ran last), copy them into t->arch.fp. */
void arch_fp_sync(struct thread *t);

/* t->arch.fp was rewritten for the running thread t: its next FP use loads it. */
void arch_fp_reload(struct thread *t);

#endif
