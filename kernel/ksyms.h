/*
 * kernel/ksyms.h - the kernel's own symbol table, for naming addresses in backtraces.
 *
 * The table is generated from the linked image by tools/gen-ksyms (see Makefile).
 */
#ifndef KERNEL_KSYMS_H
#define KERNEL_KSYMS_H

#include <stdint.h>

/*
 * The function containing `addr`: its name, with the offset into it in *off.
 * NULL if no function contains it.
 */
const char *ksym_lookup(uintptr_t addr, uintptr_t *off);

/* The address of the function called `name`, or 0. */
uintptr_t ksym_address(const char *name);

#endif
