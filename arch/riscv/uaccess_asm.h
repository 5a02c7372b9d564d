/*
 * arch/riscv/uaccess_asm.h - assembly shared by the code that touches user
 * memory from the kernel (uaccess.S, and the IPC fast path's own descriptor
 * copy in ipc_fast.S): the SUM bit, the __extable entry trap.c looks up, and
 * the 13-word copy of an IPC descriptor.
 */
#ifndef ARCH_RISCV_UACCESS_ASM_H
#define ARCH_RISCV_UACCESS_ASM_H

#define SSTATUS_SUM (1 << 18)           /* S-mode may touch U pages (set only around a copy) */

/* A load/store fault with the pc in [start, end) resumes at fixup (trap.c's fault_fixup). */
.macro extable start, end, fixup
    .pushsection __extable, "a"
    .balign 8
    .quad   \start, \end, \fixup
    .popsection
.endm

/*
 * Copy 13 words (ARCH_COPY_USER_WORDS13 bytes) from \src to \dst + \off,
 * upwards, through \tmp; both aligned, SUM set by the caller. A fault leaves
 * nothing stored beyond the faulting word.
 */
.macro copy_words13 dst, off, src, tmp
    .irp w, 0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96
    ld      \tmp, \w(\src)
    sd      \tmp, (\off + \w)(\dst)
    .endr
.endm

#endif
