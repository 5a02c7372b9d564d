/*
 * user/lib/crt0.S - where a native program starts: the loader left argc, argv,
 * envp and the auxiliary vector on the stack (kernel/elf.c, elf_build_stack).
 * Call ulib_start(sp), which calls main and exits with its result.
 */
    .section .text.start, "ax"
    .globl _start
_start:
    mv      a0, sp
    li      fp, 0
    li      ra, 0
    call    ulib_start
1:  j       1b
