/*
 * kernel/uaccess.h - copying to and from user memory.
 *
 * Every pointer and length from user space goes through these. They check that
 * [addr, addr+len) lies inside user space without wrapping, then copy with the
 * architecture's fault-tolerant copy: a page that is mapped lazily is faulted
 * in; an address that is not mapped at all ends the copy with KS_ERR_FAULT
 * instead of a kernel panic.
 *
 * A page of a paged memobj (kernel/pager.h) that its pager has not supplied
 * yet cannot be faulted in at once: vm_fault asks the pager for it and notes
 * it in the thread (miss_vs, miss_addr). Then:
 *   - copy_from_user, copy_to_user and clear_user wait for the pager and copy
 *     again, so a system call's argument in a file mapping just works. They
 *     may sleep: a caller holds no pointer it has not counted (no handle_peek,
 *     no memobj page hint, no static buffer another thread could use) and is
 *     in the middle of nothing another thread could see half done.
 *   - the _nowait copies (and vm_copy, memobj_read/write) never sleep: they
 *     fail, and a caller that can reach a safe point (one that has undone
 *     what it started, or counted what it holds) calls uaccess_pager_wait
 *     there and starts again.
 */
#ifndef KERNEL_UACCESS_H
#define KERNEL_UACCESS_H

#include <stddef.h>
#include <stdint.h>
#include <arch/arch.h>
#include <arch/memlayout.h>
#include <kestrel/errors.h>

/* 1 if [addr, addr+len) is inside user space (len 0 is always fine). */
static inline int user_range_ok(uintptr_t addr, size_t len)
{
    return len == 0 || (addr >= USER_BASE && addr < USER_TOP && len <= USER_TOP - addr);
}

/* 0, KS_ERR_FAULT, or (waiting for a pager) KS_ERR_IO or KS_ERR_INTERRUPTED. May sleep. */
long copy_from_user(void *dst, uintptr_t usrc, size_t len);
long copy_to_user(uintptr_t udst, const void *src, size_t len);
long clear_user(uintptr_t udst, size_t len);

/* 0 or KS_ERR_FAULT; never sleep (a pager's missing page is asked for and noted). Inline: IPC's descriptors. */
static inline long copy_from_user_nowait(void *dst, uintptr_t usrc, size_t len)
{
    if (!user_range_ok(usrc, len))
        return KS_ERR_FAULT;
    return arch_copy_user(dst, (const void *)usrc, len) ? KS_ERR_FAULT : 0;
}

/*
 * copy_from_user_nowait of ARCH_COPY_USER_WORDS13 bytes (an IPC descriptor)
 * into an aligned dst: in a line when usrc is aligned too.
 */
static inline long copy_words13_from_user_nowait(void *dst, uintptr_t usrc)
{
    if ((usrc & 7) || !user_range_ok(usrc, ARCH_COPY_USER_WORDS13))
        return copy_from_user_nowait(dst, usrc, ARCH_COPY_USER_WORDS13);    /* (the bytes, or its FAULT) */
    return arch_copy_user_words13(dst, (const void *)usrc) ? KS_ERR_FAULT : 0;
}

static inline long copy_to_user_nowait(uintptr_t udst, const void *src, size_t len)
{
    if (!user_range_ok(udst, len))
        return KS_ERR_FAULT;
    return arch_copy_user((void *)udst, src, len) ? KS_ERR_FAULT : 0;
}

/* 1 if the current thread's last kernel copy stopped at a page its pager has not supplied. */
int uaccess_missed(void);

/*
 * After a copy that never sleeps failed: if it stopped at a pager's page, wait
 * for it (0: copy again; KS_ERR_IO: the pager failed it or is gone;
 * KS_ERR_INTERRUPTED), else KS_ERR_FAULT. Forgets the note either way.
 */
long uaccess_pager_wait(void);

/* Forget the note (a caller that gives up on the copy instead of waiting). */
void uaccess_miss_forget(void);

#endif
