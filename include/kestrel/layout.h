/*
 * include/kestrel/layout.h - the user half of an address space (user-visible ABI).
 */
#ifndef KESTREL_LAYOUT_H
#define KESTREL_LAYOUT_H

#define KS_PAGE_SIZE        4096
#define KS_USER_BASE        0x0000000000001000ul    /* lowest user address */
#define KS_USER_TOP         0x0000800000000000ul    /* first address above user space */
#define KS_STACK_TOP        0x00007ffffff00000ul    /* where loaders put the initial stack */
#define KS_STACK_SIZE       (1ul << 20)

#endif
