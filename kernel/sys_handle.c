/*
 * kernel/sys_handle.c - system calls on handles: close, duplicate, transfer, info.
 */
#include "handle.h"
#include "process.h"
#include "sched.h"
#include "syscall.h"

long sys_handle_close(sysarg_t h)
{
    if (h > INT32_MAX)
        return KS_ERR_BAD_HANDLE;
    sched_long_begin();         /* the last handle may end something huge */
    long r = handle_close(current_process()->handles, (ks_handle_t)h);
    sched_long_end();
    return r;
}

long sys_handle_duplicate(sysarg_t h, sysarg_t rights)
{
    struct object *o;
    uint32_t have;
    long r = sys_lookup(h, 0, KS_RIGHT_DUPLICATE, &o, &have);
    if (r)
        return r;
    if (rights & ~(uint64_t)have)
        r = KS_ERR_ACCESS;
    else
        r = sys_install(o, (uint32_t)rights);
    object_put(o);
    return r;
}

long sys_handle_transfer(sysarg_t proc, sysarg_t h, sysarg_t rights, sysarg_t flags)
{
    if (flags & ~(uint64_t)KS_TRANSFER_MOVE)
        return KS_ERR_INVALID;
    struct object *po, *o;
    uint32_t have;
    long r = sys_lookup(proc, KS_OBJ_PROCESS, KS_RIGHT_MANAGE, &po, NULL);
    if (r)
        return r;
    r = sys_lookup(h, 0, KS_RIGHT_TRANSFER, &o, &have);
    if (r)
        goto put_proc;
    struct process *target = process_from_object(po);
    if (rights & ~(uint64_t)have)
        r = KS_ERR_ACCESS;
    else if (target->state != PROCESS_ALIVE || !target->handles)
        r = KS_ERR_BAD_STATE;
    else if (h == KS_PROCESS_SELF || h == KS_THREAD_SELF)
        r = KS_ERR_INVALID;         /* pseudo-handles name the caller; give a real handle */
    else if (o == po)
        r = KS_ERR_INVALID;         /* a process holding itself could never be freed */
    else
        r = handle_install(target->handles, o, (uint32_t)rights);
    if (r >= 0 && (flags & KS_TRANSFER_MOVE))
        handle_close(current_process()->handles, (ks_handle_t)h);
    object_put(o);
put_proc:
    object_put(po);
    return r;
}

long sys_handle_info(sysarg_t h)
{
    struct object *o;
    uint32_t rights;
    long r = sys_lookup(h, 0, 0, &o, &rights);
    if (r)
        return r;
    r = (long)(o->type << 16 | rights);
    object_put(o);
    return r;
}
