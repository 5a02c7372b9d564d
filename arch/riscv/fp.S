/*
 * arch/riscv/fp.S - saving, loading and clearing the floating-point registers.
 *
 * The kernel itself is built without floating point; these are the only
 * instructions that touch f0-f31 and fcsr, assembled with the D extension
 * switched on locally. Callers have set sstatus.FS to non-Off (see fp.c).
 */
    .option push
    .option arch, +d

    .section .text

/* void arch_fp_save(uint64_t area[33]): f0-f31, then fcsr. */
    .globl arch_fp_save
arch_fp_save:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fsd     f\n, (\n * 8)(a0)
    .endr
    frcsr   t0
    sd      t0, (32 * 8)(a0)
    ret

/* void arch_fp_load(const uint64_t area[33]) */
    .globl arch_fp_load
arch_fp_load:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fld     f\n, (\n * 8)(a0)
    .endr
    ld      t0, (32 * 8)(a0)
    fscsr   t0
    ret

/* void arch_fp_zero(void): every register +0.0, fcsr 0. */
    .globl arch_fp_zero
arch_fp_zero:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fmv.d.x f\n, zero
    .endr
    fscsr   zero
    ret

    .option pop
