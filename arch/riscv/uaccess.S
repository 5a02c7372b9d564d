/*
 * arch/riscv/uaccess.S - memory accesses that may fault: user-memory copies and
 * the kernel's address probes.
 *
 * Each __extable entry is (start, end, fixup): a load/store fault with the pc in
 * [start, end) does not panic. trap_kernel() first lets the VM resolve a fault
 * on a user address (a lazily mapped page); if it cannot, execution resumes at
 * the fixup, which reports the failure to the C caller.
 *
 * User copies run with sstatus.SUM set (S-mode may touch U pages) and clear it
 * on every way out, so a stray kernel access to user memory still faults.
 */

#include "uaccess_asm.h"

    .section .text

/*
 * int arch_copy_user(void *dst, const void *src, size_t len): 0, or -1 on a fault.
 * Aligned copies move 512 bytes per loop iteration, tested at its bottom (the
 * 1 MiB read benchmark and IPC buffers spend their time here: 133
 * instructions per 512 bytes), then the remaining whole words in one pass
 * through an unrolled block entered part-way (an IPC descriptor is 13 words).
 * A copy not aligned at both ends goes a byte at a time until the destination
 * is aligned, then by words (11 instructions each when the source's alignment
 * differs), and ends with bytes. Every part goes upwards through memory.
 */
    .globl arch_copy_user
arch_copy_user:
    li      t6, SSTATUS_SUM
    csrs    sstatus, t6
copy_start:
    or      t0, a0, a1
    andi    t0, t0, 7
    bnez    t0, 7f
9:  li      t6, 512
    bltu    a2, t6, 2f
1:  .irp off, 0, 64, 128, 192, 256, 320, 384, 448
    ld      t0, (\off + 0)(a1)
    ld      t1, (\off + 8)(a1)
    ld      t2, (\off + 16)(a1)
    ld      t3, (\off + 24)(a1)
    ld      t4, (\off + 32)(a1)
    ld      t5, (\off + 40)(a1)
    ld      a6, (\off + 48)(a1)
    ld      a7, (\off + 56)(a1)
    sd      t0, (\off + 0)(a0)
    sd      t1, (\off + 8)(a0)
    sd      t2, (\off + 16)(a0)
    sd      t3, (\off + 24)(a0)
    sd      t4, (\off + 32)(a0)
    sd      t5, (\off + 40)(a0)
    sd      a6, (\off + 48)(a0)
    sd      a7, (\off + 56)(a0)
    .endr
    addi    a1, a1, 512
    addi    a0, a0, 512
    addi    a2, a2, -512
    bgeu    a2, t6, 1b
2:  /*
     * Fewer than 512 bytes: the n whole words in ascending order, from the
     * pair for word 0, addressed back from just past them. Ascending matters:
     * after a fault nothing beyond the faulting address has been stored (a
     * copy that fails with nothing done must change nothing).
     */
    beqz    a2, 5f                      /* nothing left (whole pages end here) */
    srli    t1, a2, 3
    andi    a2, a2, 7
    slli    t1, t1, 3                   /* n * 8: bytes copied, and code bytes skipped */
    add     a1, a1, t1
    add     a0, a0, t1
    lla     t2, 6f
    sub     t2, t2, t1
    jr      t2
    .option push
    .option norvc                       /* each ld/sd pair exactly 8 bytes of code */
    .irp i, 64,63,62,61,60,59,58,57,56,55,54,53,52,51,50,49,48,47,46,45,44,43,42,41,40,39,38,37,36,35,34,33,32,31,30,29,28,27,26,25,24,23,22,21,20,19,18,17,16,15,14,13,12,11,10,9,8,7,6,5,4,3,2,1
    ld      t0, -(\i * 8)(a1)
    sd      t0, -(\i * 8)(a0)
    .endr
    .option pop
6:
3:  beqz    a2, 5f
    lbu     t0, 0(a1)
    sb      t0, 0(a0)
    addi    a1, a1, 1
    addi    a0, a0, 1
    addi    a2, a2, -1
    j       3b
7:  /*
     * Not both aligned: bytes until the destination is, then words. With the
     * same misalignment that is the aligned path; with another, each word
     * stored is put together from the two aligned source words it spans (a
     * load never touches a word holding no byte of the source, so it faults
     * only where a byte copy would).
     */
    li      a3, 16
    bltu    a2, a3, 3b                  /* short: bytes */
11: andi    t0, a0, 7
    beqz    t0, 8f
    lbu     t0, 0(a1)
    sb      t0, 0(a0)
    addi    a1, a1, 1
    addi    a0, a0, 1
    addi    a2, a2, -1
    j       11b
8:  andi    t1, a1, 7
    beqz    t1, 9b                      /* the source is aligned now too */
    slli    t1, t1, 3                   /* the source's offset in its word, in bits */
    li      t2, 64
    sub     t2, t2, t1
    andi    t3, a1, -8
    ld      t4, 0(t3)                   /* the word the source starts in */
    li      a3, 8
10: ld      t5, 8(t3)
    srl     t0, t4, t1
    sll     t6, t5, t2
    or      t0, t0, t6
    sd      t0, 0(a0)
    mv      t4, t5
    addi    t3, t3, 8
    addi    a1, a1, 8
    addi    a0, a0, 8
    addi    a2, a2, -8
    bgeu    a2, a3, 10b
    j       3b                          /* the last bytes, one at a time */
copy_end:
5:  li      t6, SSTATUS_SUM
    csrc    sstatus, t6
    li      a0, 0
    ret
    extable copy_start, copy_end, user_fault

/*
 * int arch_copy_user_words13(void *dst, const void *src): 13 aligned words,
 * upwards (as arch_copy_user), 0; or -1 on a fault.
 */
    .globl arch_copy_user_words13
arch_copy_user_words13:
    li      t6, SSTATUS_SUM
    csrs    sstatus, t6
words13_start:
    copy_words13 a0, 0, a1, t0
words13_end:
    csrc    sstatus, t6
    li      a0, 0
    ret
    extable words13_start, words13_end, user_fault

/* int arch_clear_user(void *dst, size_t len): 0, or -1 on a fault. */
    .globl arch_clear_user
arch_clear_user:
    li      t6, SSTATUS_SUM
    csrs    sstatus, t6
clear_start:
1:  beqz    a1, 2f
    andi    t0, a0, 7
    bnez    t0, 3f
    li      t0, 8
    bltu    a1, t0, 3f
    sd      zero, 0(a0)
    addi    a0, a0, 8
    addi    a1, a1, -8
    j       1b
3:  sb      zero, 0(a0)
    addi    a0, a0, 1
    addi    a1, a1, -1
    j       1b
clear_end:
2:  li      t6, SSTATUS_SUM
    csrc    sstatus, t6
    li      a0, 0
    ret
    extable clear_start, clear_end, user_fault

user_fault:
    li      t6, SSTATUS_SUM
    csrc    sstatus, t6
    li      a0, -1
    ret

/* int arch_probe_read64(uintptr_t addr, uint64_t *out) */
    .globl arch_probe_read64
arch_probe_read64:
1:  ld      t0, 0(a0)
2:  sd      t0, 0(a1)
    li      a0, 0
    ret
    extable 1b, 2b, probe_fault

/* int arch_probe_write64(uintptr_t addr, uint64_t val) */
    .globl arch_probe_write64
arch_probe_write64:
1:  sd      a1, 0(a0)
2:  li      a0, 0
    ret
    extable 1b, 2b, probe_fault

probe_fault:
    li      a0, -1
    ret
