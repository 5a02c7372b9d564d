/*
 * kernel/uaccess.c - checked user-memory copies (see uaccess.h).
 */
#include <arch/arch.h>
#include <arch/memlayout.h>
#include <kestrel/errors.h>
#include "uaccess.h"

long copy_from_user(void *dst, uintptr_t usrc, size_t len)
{
    if (!user_range_ok(usrc, len))
        return KS_ERR_FAULT;
    return arch_copy_user(dst, (const void *)usrc, len) ? KS_ERR_FAULT : 0;
}

long copy_to_user(uintptr_t udst, const void *src, size_t len)
{
    if (!user_range_ok(udst, len))
        return KS_ERR_FAULT;
    return arch_copy_user((void *)udst, src, len) ? KS_ERR_FAULT : 0;
}

long clear_user(uintptr_t udst, size_t len)
{
    if (!user_range_ok(udst, len))
        return KS_ERR_FAULT;
    return arch_clear_user((void *)udst, len) ? KS_ERR_FAULT : 0;
}
