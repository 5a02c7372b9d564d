/*
 * kernel/sys_watch.c - KS_SYS_WATCH: readiness of a pipe end or a process's
 * end, answered now or reported later to a listener (kernel/watch.h).
 */
#include "ipc.h"
#include "pipe.h"
#include "process.h"
#include "syscall.h"

long sys_watch(sysarg_t h, sysarg_t events, sysarg_t listener, sysarg_t userdata)
{
    struct object *o, *lo = NULL;
    if (!events || (events & ~(sysarg_t)(KS_WATCH_READABLE | KS_WATCH_WRITABLE | KS_WATCH_HANGUP)))
        return KS_ERR_INVALID;
    long r = sys_lookup(h, 0, 0, &o, NULL);
    if (r)
        return r;
    if (o->type != KS_OBJ_PIPE && o->type != KS_OBJ_PROCESS)
        r = KS_ERR_WRONG_TYPE;
    else if (o->type == KS_OBJ_PROCESS)     /* waiting for a process needs WAIT, as process_wait */
        r = sys_lookup(h, KS_OBJ_PROCESS, KS_RIGHT_WAIT, &lo, NULL);
    if (lo) {
        object_put(lo);
        lo = NULL;
    }
    if (!r && listener != KS_HANDLE_NONE)
        r = sys_lookup(listener, KS_OBJ_LISTENER, KS_RIGHT_READ, &lo, NULL);
    if (!r) {
        struct listener *l = lo ? listener_from_object(lo) : NULL;
        struct account *a = current_process()->acct;
        r = o->type == KS_OBJ_PIPE ? pipe_watch(pipe_end_from_object(o), a, l, userdata, (uint32_t)events)
                                   : process_watch(process_from_object(o), a, l, userdata,
                                                   (uint32_t)events);
    }
    if (lo)
        object_put(lo);
    object_put(o);
    return r;
}
