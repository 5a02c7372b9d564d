/*
 * arch/riscv/csr.h - supervisor CSR numbers, bits and accessors (arch/riscv/ only).
 */
#ifndef RISCV_CSR_H
#define RISCV_CSR_H

#include <stdint.h>

#define csr_read(csr) ({ uint64_t v_; __asm__ volatile("csrr %0, " #csr : "=r"(v_)); v_; })
#define csr_write(csr, val) __asm__ volatile("csrw " #csr ", %0" :: "rK"((uint64_t)(val)) : "memory")
#define csr_set(csr, bits) __asm__ volatile("csrs " #csr ", %0" :: "rK"((uint64_t)(bits)) : "memory")
#define csr_clear(csr, bits) __asm__ volatile("csrc " #csr ", %0" :: "rK"((uint64_t)(bits)) : "memory")

#define SSTATUS_SIE     (1ul << 1)
#define SSTATUS_SPIE    (1ul << 5)
#define SSTATUS_SPP     (1ul << 8)
#define SSTATUS_FS      (3ul << 13)     /* floating-point state; 0 = Off */
#define SSTATUS_SUM     (1ul << 18)

#define SIE_STIE        (1ul << 5)
#define SIE_SEIE        (1ul << 9)

#define SCAUSE_INTERRUPT (1ul << 63)
#define IRQ_S_TIMER     5
#define IRQ_S_EXTERNAL  9

enum {
    EXC_INSN_MISALIGNED = 0, EXC_INSN_ACCESS = 1, EXC_ILLEGAL_INSN = 2, EXC_BREAKPOINT = 3,
    EXC_LOAD_MISALIGNED = 4, EXC_LOAD_ACCESS = 5, EXC_STORE_MISALIGNED = 6,
    EXC_STORE_ACCESS = 7, EXC_ECALL_U = 8, EXC_ECALL_S = 9, EXC_INSN_PAGE_FAULT = 12,
    EXC_LOAD_PAGE_FAULT = 13, EXC_STORE_PAGE_FAULT = 15,
};

#define SATP_MODE_SV48  (9ul << 60)

#define CSR_STIMECMP    0x14d   /* Sstc; older assemblers do not know the name */

static inline void sfence_vma_all(void) { __asm__ volatile("sfence.vma" ::: "memory"); }

#endif
