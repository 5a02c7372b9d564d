/*
 * arch/riscv/plic.h - the PLIC driver's entry from the trap handler (arch/riscv only).
 */
#ifndef RISCV_PLIC_H
#define RISCV_PLIC_H

/* A supervisor external interrupt: claim, dispatch and complete every pending line. */
void plic_interrupt(void);

#endif
