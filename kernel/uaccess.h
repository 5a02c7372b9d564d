/*
 * kernel/uaccess.h - copying to and from user memory.
 *
 * Every pointer and length from user space goes through these. They check that
 * [addr, addr+len) lies inside user space without wrapping, then copy with the
 * architecture's fault-tolerant copy: a page that is mapped lazily is faulted
 * in; an address that is not mapped at all ends the copy with KS_ERR_FAULT
 * instead of a kernel panic.
 */
#ifndef KERNEL_UACCESS_H
#define KERNEL_UACCESS_H

#include <stddef.h>
#include <stdint.h>
#include <arch/memlayout.h>

/* 1 if [addr, addr+len) is inside user space (len 0 is always fine). */
static inline int user_range_ok(uintptr_t addr, size_t len)
{
    return len == 0 || (addr >= USER_BASE && addr < USER_TOP && len <= USER_TOP - addr);
}

/* 0 or KS_ERR_FAULT. */
long copy_from_user(void *dst, uintptr_t usrc, size_t len);
long copy_to_user(uintptr_t udst, const void *src, size_t len);
long clear_user(uintptr_t udst, size_t len);

#endif
