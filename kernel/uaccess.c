/*
 * kernel/uaccess.c - checked user-memory copies (see uaccess.h).
 */
#include <arch/arch.h>
#include <arch/memlayout.h>
#include <kestrel/errors.h>
#include "sched.h"
#include "thread.h"
#include "uaccess.h"
#include "process.h"
#include "vm.h"

int uaccess_missed(void)
{
    return current_thread()->miss_vs != NULL;
}

void uaccess_miss_forget(void)
{
    current_thread()->miss_vs = NULL;
}

long uaccess_pager_wait(void)
{
    struct thread *t = current_thread();
    struct vm_space *vs = t->miss_vs;
    t->miss_vs = NULL;
    if (!vs || !t->proc || vs != t->proc->vm)
        return KS_ERR_FAULT;    /* only its own space (a note left from before can name no other) */
    return vm_pager_wait(vs, t->miss_addr);
}

/* A failed copy: wait for its pager page and say to try again (0), or the error. */
static __attribute__((noinline)) long copy_failed(void)
{
    long r = uaccess_pager_wait();
    return r == 0 ? 0 : r == KS_ERR_IO || r == KS_ERR_INTERRUPTED ? r : KS_ERR_FAULT;
}

long copy_from_user(void *dst, uintptr_t usrc, size_t len)
{
    if (!user_range_ok(usrc, len))
        return KS_ERR_FAULT;
    for (;;) {
        if (arch_copy_user(dst, (const void *)usrc, len) == 0)
            return 0;
        long r = copy_failed();
        if (r)
            return r;
    }
}

long copy_to_user(uintptr_t udst, const void *src, size_t len)
{
    if (!user_range_ok(udst, len))
        return KS_ERR_FAULT;
    for (;;) {
        if (arch_copy_user((void *)udst, src, len) == 0)
            return 0;
        long r = copy_failed();
        if (r)
            return r;
    }
}

long clear_user(uintptr_t udst, size_t len)
{
    if (!user_range_ok(udst, len))
        return KS_ERR_FAULT;
    for (;;) {
        if (arch_clear_user((void *)udst, len) == 0)
            return 0;
        long r = copy_failed();
        if (r)
            return r;
    }
}

