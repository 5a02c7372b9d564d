/*
 * arch/riscv/probe.S - loads and stores that may fault, with exception-table fixups.
 *
 * Each entry in the __extable section is a pair (address of an instruction that
 * may fault, address to resume at). When a kernel-mode load/store fault hits a
 * listed instruction, trap_kernel() sets sepc to the fixup instead of panicking.
 * The user-memory copies of later issues use the same table.
 */

.macro extable insn, fixup
    .pushsection __extable, "a"
    .balign 8
    .quad   \insn, \fixup
    .popsection
.endm

    .section .text
    /* int arch_probe_read64(uintptr_t addr, uint64_t *out) */
    .globl arch_probe_read64
arch_probe_read64:
1:  ld      t0, 0(a0)
    sd      t0, 0(a1)
    li      a0, 0
    ret
    extable 1b, probe_fault

    /* int arch_probe_write64(uintptr_t addr, uint64_t val) */
    .globl arch_probe_write64
arch_probe_write64:
1:  sd      a1, 0(a0)
    li      a0, 0
    ret
    extable 1b, probe_fault

probe_fault:
    li      a0, -1
    ret
