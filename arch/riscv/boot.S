/*
 * arch/riscv/boot.S - the kernel's first instructions: from OpenSBI to kmain().
 *
 * OpenSBI (fw_jump) enters here in S-mode with the MMU off, at the physical load
 * address 0x80200000, although the image is linked at 0xffffffff80200000. Until
 * the jump high this code uses only pc-relative addresses (lla), which are right
 * at either address, and keeps a0/a1 intact for kmain:
 *
 *   register  from OpenSBI                     handed to kmain
 *   a0        boot hart id                     hartid
 *   a1        physical address of the DTB      dtb_pa
 *
 * Phases:
 *   1. mask interrupts, park stvec, sscratch = 0 (the "in kernel" mark), zero .bss;
 *   2. build three early Sv48 tables out of 1 GiB pages:
 *        identity: the GiB holding the image      (needed until the jump)
 *        direct:   physical 0..4 GiB at DIRECT_MAP_BASE (the DTB and first RAM)
 *        image:    the GiB holding the image at its link address
 *   3. enable Sv48 (satp mode 9) and check that the hart took it;
 *   4. jump to the link address, drop the identity map, call kmain on the boot
 *      stack. kmain then builds the final tables (arch_vm_init, arch/riscv/pagetable.c).
 */
#include <arch/memlayout.h>

#define PTE_V   0x01
#define PTE_RWX 0x0e
#define PTE_G   0x20
#define PTE_AD  0xc0
#define SATP_SV48 (9 << 60)

/* PTE pointing from a table to the next-level table at physical \tbl. */
.macro pt_link table, index, next
    lla     t0, \table
    lla     t1, \next
    srli    t1, t1, 12
    slli    t1, t1, 10
    ori     t1, t1, PTE_V
    li      t2, \index * 8
    add     t0, t0, t2
    sd      t1, 0(t0)
.endm

/* 1 GiB leaf: table[idx] = physical GiB number gib, RWX, global. */
.macro pt_giga table, idx, gib
    lla     t0, \table
    slli    t2, \idx, 3
    add     t0, t0, t2
    slli    t1, \gib, 28
    ori     t1, t1, PTE_V | PTE_RWX | PTE_G | PTE_AD
    sd      t1, 0(t0)
.endm

    .section .text.boot, "ax"
    .globl _start
_start:
    /* The instruction count at kernel entry, for `bench boot_to_hello` (in .data: kept
       by the .bss clearing below). */
    rdinstret t1
    lla     t0, boot_instret
    sd      t1, 0(t0)

    /* Phase 1 */
    csrw    sie, zero
    csrci   sstatus, 2
    csrw    sscratch, zero
    lla     t0, boot_park
    csrw    stvec, t0

    /* .bss: 64 bytes a round while they last, then 8 (both ends are 8-aligned). */
    lla     t0, __bss_start
    lla     t1, __bss_end
    addi    t2, t1, -64
1:  bgtu    t0, t2, 2f
    sd      zero, 0(t0)
    sd      zero, 8(t0)
    sd      zero, 16(t0)
    sd      zero, 24(t0)
    sd      zero, 32(t0)
    sd      zero, 40(t0)
    sd      zero, 48(t0)
    sd      zero, 56(t0)
    addi    t0, t0, 64
    j       1b
2:  bgeu    t0, t1, 3f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       2b
3:
    /* Phase 2. s2 = physical GiB of the image, s3 = link-time minus load address. */
    lla     t0, _start
    srli    s2, t0, 30
    ld      s3, boot_start_va
    sub     s3, s3, t0

    pt_link boot_pt_root, 0, boot_pt_ident
    pt_link boot_pt_root, 256, boot_pt_direct       /* DIRECT_MAP_BASE >> 39 & 511 */
    pt_link boot_pt_root, 511, boot_pt_image        /* KERNEL_VIRT_BASE >> 39 & 511 */

    pt_giga boot_pt_ident, s2, s2

    li      s4, 0
    li      s5, 4
3:  pt_giga boot_pt_direct, s4, s4
    addi    s4, s4, 1
    bltu    s4, s5, 3b

    ld      t3, boot_start_va
    srli    t3, t3, 30
    andi    t3, t3, 511
    pt_giga boot_pt_image, t3, s2

    /* Phase 3 */
    lla     t0, boot_pt_root
    srli    t0, t0, 12
    li      t1, SATP_SV48
    or      t0, t0, t1
    sfence.vma
    csrw    satp, t0
    csrr    t1, satp
    bne     t0, t1, boot_no_sv48
    sfence.vma

    /* Phase 4: continue at the same code's link address. */
    lla     t0, boot_high
    add     t0, t0, s3
    lla     t1, boot_park
    add     t1, t1, s3
    csrw    stvec, t1
    jr      t0

boot_high:
    lla     sp, boot_stack_top
    lla     t0, boot_pt_root
    sd      zero, 0(t0)                 /* the identity map is gone */
    sfence.vma
    li      fp, 0                       /* ends backtraces */
    li      ra, 0
    call    kmain
    /* fall through: kmain never returns */

    .balign 4
    .globl boot_park
boot_park:
    wfi
    j       boot_park

/*
 * satp did not take mode 9: the hart has no Sv48. Say so through the SBI
 * console (legacy putchar, extension 1), then system reset (SRST).
 */
boot_no_sv48:
    lla     s6, boot_no_sv48_msg
1:  lbu     a0, 0(s6)
    beqz    a0, 2f
    li      a7, 1
    ecall
    addi    s6, s6, 1
    j       1b
2:  li      a0, 0                       /* shutdown */
    li      a1, 1                       /* system failure */
    li      a6, 0
    li      a7, 0x53525354              /* "SRST" */
    ecall
    j       boot_park

    .balign 8
boot_start_va:
    .quad   _start
boot_no_sv48_msg:
    .asciz  "boot: this hart does not support Sv48 paging (satp mode 9); cannot boot\r\n"

    .section .bss.boot, "aw", @nobits
    .balign 4096
    .globl boot_pt_root
boot_pt_root:   .space 4096
boot_pt_ident:  .space 4096
boot_pt_direct: .space 4096
boot_pt_image:  .space 4096
    .globl boot_stack_bottom, boot_stack_top
boot_stack_bottom:
    .space 16384
boot_stack_top:

    .section .data
    .balign 8
    .globl boot_instret
boot_instret:
    .dword 0
