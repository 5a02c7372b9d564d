/*
 * kernel/bootimage.S - embeds the boot image (build/bootimage.img, made by
 * tools/mkbootimg from the user programs) in the kernel's read-only data.
 * Only assembler directives: nothing here is specific to an architecture.
 */
    .section .rodata.bootimage, "a"
    .balign 4096
    .globl bootimage_start, bootimage_end
bootimage_start:
    .incbin BOOTIMAGE_PATH
bootimage_end:
    .balign 4096                /* zeros: the last page holds nothing else (its pages become a memobj's) */
