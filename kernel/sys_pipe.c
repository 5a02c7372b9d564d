/*
 * kernel/sys_pipe.c - system calls on pipes (KS_SYS_PIPE_*): resolve the end,
 * check the flags, call kernel/pipe.c.
 */
#include "pipe.h"
#include "process.h"
#include "syscall.h"
#include "uaccess.h"

#define END_RIGHTS (KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE)

_Static_assert(KS_PIPE_BUF == PIPE_BUF, "the ABI's atomic size is the kernel's");

long sys_pipe_create(sysarg_t out)
{
    ks_handle_t h[2];
    if (!user_range_ok(out, sizeof h))
        return KS_ERR_FAULT;
    struct pipe_end *rd, *wr;
    long r = pipe_create(current_process()->acct, &rd, &wr);
    if (r)
        return r;
    long hr = sys_install(&rd->obj, KS_RIGHT_READ | END_RIGHTS);
    long hw = hr < 0 ? hr : sys_install(&wr->obj, KS_RIGHT_WRITE | END_RIGHTS);
    object_put(&rd->obj);                   /* the handles hold them now */
    object_put(&wr->obj);
    if (hw < 0) {
        if (hr >= 0)
            handle_close(current_process()->handles, (ks_handle_t)hr);
        return hw;
    }
    h[0] = (ks_handle_t)hr;
    h[1] = (ks_handle_t)hw;
    r = copy_to_user(out, h, sizeof h);
    if (r) {                                /* unmapped since the check: take them back */
        handle_close(current_process()->handles, h[0]);
        handle_close(current_process()->handles, h[1]);
    }
    return r;
}

/* The pipe end behind handle h with `right`, and a flags check; 0 or an error (then no reference). */
static long with_end(sysarg_t h, uint32_t right, sysarg_t flags, struct pipe_end **e)
{
    if (flags & ~(sysarg_t)KS_PIPE_NONBLOCK)
        return KS_ERR_INVALID;
    struct object *o;
    long r = sys_lookup(h, KS_OBJ_PIPE, right, &o, NULL);
    if (r == 0)
        *e = pipe_end_from_object(o);
    return r;
}

long sys_pipe_read(sysarg_t h, sysarg_t buf, sysarg_t len, sysarg_t flags)
{
    struct pipe_end *e;
    long r = with_end(h, KS_RIGHT_READ, flags, &e);
    if (r)
        return r;
    r = pipe_read(e, buf, len, flags & KS_PIPE_NONBLOCK);
    object_put(&e->obj);
    return r;
}

long sys_pipe_write(sysarg_t h, sysarg_t buf, sysarg_t len, sysarg_t flags)
{
    struct pipe_end *e;
    long r = with_end(h, KS_RIGHT_WRITE, flags, &e);
    if (r)
        return r;
    r = pipe_write(e, buf, len, flags & KS_PIPE_NONBLOCK);
    object_put(&e->obj);
    return r;
}

long sys_pipe_info(sysarg_t h)
{
    struct pipe_end *e;
    long r = with_end(h, 0, 0, &e);
    if (r)
        return r;
    r = pipe_available(e);
    object_put(&e->obj);
    return r;
}
