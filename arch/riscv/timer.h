/*
 * arch/riscv/timer.h - the supervisor timer (private to arch/riscv/).
 */
#ifndef RISCV_TIMER_H
#define RISCV_TIMER_H

/* Handle a supervisor timer interrupt: re-arm, then call clock_tick(). */
void timer_interrupt(void);

#endif
