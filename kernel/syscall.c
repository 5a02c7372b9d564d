/*
 * kernel/syscall.c - the system call table and the handle helpers every entry
 * point uses.
 */
#include "handle.h"
#include "ipc.h"
#include "process.h"
#include "syscall.h"
#include "thread.h"

long sys_null(void);
long sys_debug_write(sysarg_t buf, sysarg_t len);
long sys_handle_close(sysarg_t h);
long sys_handle_duplicate(sysarg_t h, sysarg_t rights);
long sys_handle_transfer(sysarg_t proc, sysarg_t h, sysarg_t rights, sysarg_t flags);
long sys_handle_info(sysarg_t h);
long sys_process_create(sysarg_t name, sysarg_t len);
long sys_process_exit(sysarg_t status);
long sys_process_wait(sysarg_t proc, sysarg_t status_out, sysarg_t flags);
long sys_process_kill(sysarg_t proc, sysarg_t cause);
long sys_process_signal(sysarg_t kind, sysarg_t who, sysarg_t value, sysarg_t flags);
long sys_process_group(sysarg_t proc, sysarg_t group);
long sys_thread_create(sysarg_t proc, sysarg_t pc, sysarg_t sp, sysarg_t arg, sysarg_t tp);
long sys_thread_exit(sysarg_t code, sysarg_t clear);
long sys_thread_join(sysarg_t th);
long sys_thread_yield(void);
long sys_thread_sleep(sysarg_t ns);
long sys_thread_interrupt(sysarg_t th);
long sys_memobj_create(sysarg_t size);
long sys_memobj_read(sysarg_t m, sysarg_t off, sysarg_t buf, sysarg_t len);
long sys_memobj_write(sysarg_t m, sysarg_t off, sysarg_t buf, sysarg_t len);
long sys_memobj_truncate(sysarg_t m, sysarg_t size);
long sys_memobj_size(sysarg_t m);
long sys_memobj_stat(sysarg_t m, sysarg_t out, sysarg_t flags);
long sys_vm_sync(sysarg_t proc, sysarg_t addr, sysarg_t len);
long sys_vm_map(sysarg_t proc, sysarg_t m, sysarg_t off, sysarg_t addr, sysarg_t len, sysarg_t flags);
long sys_vm_unmap(sysarg_t proc, sysarg_t addr, sysarg_t len);
long sys_vm_protect(sysarg_t proc, sysarg_t addr, sysarg_t len, sysarg_t prot);
long sys_view_create(sysarg_t m, sysarg_t rights);
long sys_view_read(sysarg_t v, sysarg_t buf, sysarg_t len);
long sys_view_write(sysarg_t v, sysarg_t buf, sysarg_t len);
long sys_view_seek(sysarg_t v, sysarg_t off, sysarg_t whence);
long sys_view_memobj(sysarg_t v);
long sys_clock_ns(void);
long sys_kstat(sysarg_t out, sysarg_t flags);
long sys_ipc_control(sysarg_t on, sysarg_t out);
long sys_ipc_listener_create(void);
long sys_ipc_client_create(sysarg_t listener, sysarg_t userdata, sysarg_t flags);
long sys_ipc_notify(sysarg_t client, sysarg_t word);
long sys_random(sysarg_t buf, sysarg_t len);
long sys_process_times(sysarg_t proc, sysarg_t out);
long sys_pid_alive(sysarg_t pid);
long sys_process_stopped(sysarg_t sig);
long sys_klog(sysarg_t op, sysarg_t buf, sysarg_t len);
long sys_dma_create(sysarg_t device, sysarg_t size);
long sys_dma_addr(sysarg_t m, sysarg_t offset);
long sys_dma_pin(sysarg_t m, sysarg_t src, sysarg_t first, sysarg_t count, sysarg_t pa_out);
long sys_dma_unpin(sysarg_t m, sysarg_t pa_in, sysarg_t count);
long sys_memobj_create_paged(sysarg_t size, sysarg_t listener, sysarg_t userdata);
long sys_pager_requests(sysarg_t m, sysarg_t out, sysarg_t max);
long sys_pager_supply(sysarg_t m, sysarg_t first, sysarg_t buf, sysarg_t count);
long sys_pager_fail(sysarg_t m, sysarg_t first, sysarg_t count);
long sys_pager_dirty(sysarg_t m, sysarg_t first, sysarg_t count, sysarg_t out);
long sys_pager_writeback(sysarg_t m, sysarg_t index, sysarg_t buf);
long sys_pager_evict(sysarg_t m, sysarg_t first, sysarg_t count);
long sys_pager_users(sysarg_t m, sysarg_t flags);
long sys_pager_low_size(sysarg_t m);
long sys_pager_redirty(sysarg_t m, sysarg_t first, sysarg_t count);
long sys_pager_accessed(sysarg_t m, sysarg_t first, sysarg_t count, sysarg_t out);
long sys_pager_supply_from(sysarg_t m, sysarg_t first, sysarg_t src, sysarg_t src_first, sysarg_t count);
long sys_thread_robust(sysarg_t head, sysarg_t owner);
long sys_upcall_fault(sysarg_t cause, sysarg_t bit1);
long sys_ipc_call(sysarg_t port, sysarg_t desc);
long sys_ipc_receive(sysarg_t listener, sysarg_t desc);
long sys_ipc_reply(sysarg_t reply, sysarg_t desc);
long sys_ipc_reply_receive(sysarg_t reply, sysarg_t desc);
long sys_futex_wait(sysarg_t addr, sysarg_t expected, sysarg_t timeout_ns);
long sys_futex_wake(sysarg_t addr, sysarg_t count);
long sys_self_ids(sysarg_t out);
long sys_irq_bind(sysarg_t irq, sysarg_t listener, sysarg_t userdata);
long sys_irq_ack(sysarg_t irq);
long sys_process_limit(sysarg_t proc, sysarg_t set, sysarg_t used, sysarg_t limit);
long sys_pipe_create(sysarg_t out);
long sys_pipe_read(sysarg_t h, sysarg_t buf, sysarg_t len, sysarg_t flags);
long sys_pipe_write(sysarg_t h, sysarg_t buf, sysarg_t len, sysarg_t flags);
long sys_pipe_info(sysarg_t h);
long sys_process_fork(sysarg_t pc, sysarg_t sp, sysarg_t arg, sysarg_t pid_out);
long sys_process_exec(sysarg_t image, sysarg_t pc, sysarg_t sp);
long sys_upcall_set(sysarg_t pc, sysarg_t ignore);
long sys_upcall_mask(sysarg_t how, sysarg_t bits, sysarg_t out);
long sys_upcall_raise(sysarg_t target, sysarg_t bits);
long sys_upcall_return(sysarg_t frame);
long sys_upcall_take(sysarg_t bits, sysarg_t timeout_ns);
long sys_upcall_suspend(sysarg_t mask);
long sys_process_on_exit(sysarg_t proc, sysarg_t bits);
long sys_watch(sysarg_t h, sysarg_t events, sysarg_t listener, sysarg_t userdata);
long sys_listener_wait(sysarg_t listener, sysarg_t timeout_ns, sysarg_t out);

#define ENTRY(n, fn) [n] = (syscall_fn)(void (*)(void))(fn)

/* What a number with no call of its own below KS_SYS_IPC_FIRST runs. */
static long sys_nosys(void)
{
    return KS_ERR_NOSYS;
}

/*
 * Every number below KS_SYS_IPC_FIRST has an entry, so entry.S needs one
 * bound check, against the number that starts the IPC calls: the first
 * initializer fills the table, and the calls' own entries replace it.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const syscall_fn syscall_table[KS_SYS_IPC_FIRST] = {
    [0 ... KS_SYS_IPC_FIRST - 1] = (syscall_fn)(void (*)(void))sys_nosys,
    ENTRY(KS_SYS_NULL, sys_null),
    ENTRY(KS_SYS_DEBUG_WRITE, sys_debug_write),
    ENTRY(KS_SYS_HANDLE_CLOSE, sys_handle_close),
    ENTRY(KS_SYS_HANDLE_DUPLICATE, sys_handle_duplicate),
    ENTRY(KS_SYS_HANDLE_TRANSFER, sys_handle_transfer),
    ENTRY(KS_SYS_HANDLE_INFO, sys_handle_info),
    ENTRY(KS_SYS_PROCESS_CREATE, sys_process_create),
    ENTRY(KS_SYS_PROCESS_EXIT, sys_process_exit),
    ENTRY(KS_SYS_PROCESS_WAIT, sys_process_wait),
    ENTRY(KS_SYS_PROCESS_KILL, sys_process_kill),
    ENTRY(KS_SYS_THREAD_CREATE, sys_thread_create),
    ENTRY(KS_SYS_THREAD_EXIT, sys_thread_exit),
    ENTRY(KS_SYS_THREAD_JOIN, sys_thread_join),
    ENTRY(KS_SYS_THREAD_YIELD, sys_thread_yield),
    ENTRY(KS_SYS_THREAD_SLEEP, sys_thread_sleep),
    ENTRY(KS_SYS_THREAD_INTERRUPT, sys_thread_interrupt),
    ENTRY(KS_SYS_MEMOBJ_CREATE, sys_memobj_create),
    ENTRY(KS_SYS_MEMOBJ_READ, sys_memobj_read),
    ENTRY(KS_SYS_MEMOBJ_WRITE, sys_memobj_write),
    ENTRY(KS_SYS_MEMOBJ_TRUNCATE, sys_memobj_truncate),
    ENTRY(KS_SYS_MEMOBJ_SIZE, sys_memobj_size),
    ENTRY(KS_SYS_VM_MAP, sys_vm_map),
    ENTRY(KS_SYS_VM_UNMAP, sys_vm_unmap),
    ENTRY(KS_SYS_VM_PROTECT, sys_vm_protect),
    ENTRY(KS_SYS_VIEW_CREATE, sys_view_create),
    ENTRY(KS_SYS_VIEW_READ, sys_view_read),
    ENTRY(KS_SYS_VIEW_WRITE, sys_view_write),
    ENTRY(KS_SYS_VIEW_SEEK, sys_view_seek),
    ENTRY(KS_SYS_VIEW_MEMOBJ, sys_view_memobj),
    ENTRY(KS_SYS_MEMOBJ_STAT, sys_memobj_stat),
    ENTRY(KS_SYS_VM_SYNC, sys_vm_sync),
    ENTRY(KS_SYS_CLOCK_NS, sys_clock_ns),
    ENTRY(KS_SYS_KSTAT, sys_kstat),
    ENTRY(KS_SYS_IPC_LISTENER_CREATE, sys_ipc_listener_create),
    ENTRY(KS_SYS_IPC_CLIENT_CREATE, sys_ipc_client_create),
    ENTRY(KS_SYS_IPC_CONTROL, sys_ipc_control),
    ENTRY(KS_SYS_FUTEX_WAIT, sys_futex_wait),
    ENTRY(KS_SYS_FUTEX_WAKE, sys_futex_wake),
    ENTRY(KS_SYS_SELF_IDS, sys_self_ids),
    ENTRY(KS_SYS_IRQ_BIND, sys_irq_bind),
    ENTRY(KS_SYS_IRQ_ACK, sys_irq_ack),
    ENTRY(KS_SYS_PROCESS_LIMIT, sys_process_limit),
    ENTRY(KS_SYS_PIPE_CREATE, sys_pipe_create),
    ENTRY(KS_SYS_PIPE_READ, sys_pipe_read),
    ENTRY(KS_SYS_PIPE_WRITE, sys_pipe_write),
    ENTRY(KS_SYS_PIPE_INFO, sys_pipe_info),
    ENTRY(KS_SYS_PROCESS_FORK, sys_process_fork),
    ENTRY(KS_SYS_PROCESS_EXEC, sys_process_exec),
    ENTRY(KS_SYS_UPCALL_SET, sys_upcall_set),
    ENTRY(KS_SYS_UPCALL_MASK, sys_upcall_mask),
    ENTRY(KS_SYS_UPCALL_RAISE, sys_upcall_raise),
    ENTRY(KS_SYS_UPCALL_RETURN, sys_upcall_return),
    ENTRY(KS_SYS_UPCALL_TAKE, sys_upcall_take),
    ENTRY(KS_SYS_UPCALL_SUSPEND, sys_upcall_suspend),
    ENTRY(KS_SYS_PROCESS_ON_EXIT, sys_process_on_exit),
    ENTRY(KS_SYS_WATCH, sys_watch),
    ENTRY(KS_SYS_LISTENER_WAIT, sys_listener_wait),
    ENTRY(KS_SYS_IPC_NOTIFY, sys_ipc_notify),
    ENTRY(KS_SYS_RANDOM, sys_random),
    ENTRY(KS_SYS_PROCESS_TIMES, sys_process_times),
    ENTRY(KS_SYS_PID_ALIVE, sys_pid_alive),
    ENTRY(KS_SYS_THREAD_ROBUST, sys_thread_robust),
    ENTRY(KS_SYS_UPCALL_FAULT, sys_upcall_fault),
    ENTRY(KS_SYS_KLOG, sys_klog),
    ENTRY(KS_SYS_PROCESS_STOPPED, sys_process_stopped),
    ENTRY(KS_SYS_DMA_CREATE, sys_dma_create),
    ENTRY(KS_SYS_DMA_ADDR, sys_dma_addr),
    ENTRY(KS_SYS_MEMOBJ_CREATE_PAGED, sys_memobj_create_paged),
    ENTRY(KS_SYS_PAGER_REQUESTS, sys_pager_requests),
    ENTRY(KS_SYS_PAGER_SUPPLY, sys_pager_supply),
    ENTRY(KS_SYS_PAGER_FAIL, sys_pager_fail),
    ENTRY(KS_SYS_PAGER_DIRTY, sys_pager_dirty),
    ENTRY(KS_SYS_PAGER_WRITEBACK, sys_pager_writeback),
    ENTRY(KS_SYS_PAGER_EVICT, sys_pager_evict),
    ENTRY(KS_SYS_PAGER_SUPPLY_FROM, sys_pager_supply_from),
    ENTRY(KS_SYS_PAGER_USERS, sys_pager_users),
    ENTRY(KS_SYS_PAGER_LOW_SIZE, sys_pager_low_size),
    ENTRY(KS_SYS_PAGER_ACCESSED, sys_pager_accessed),
    ENTRY(KS_SYS_PAGER_REDIRTY, sys_pager_redirty),
    ENTRY(KS_SYS_PROCESS_SIGNAL, sys_process_signal),
    ENTRY(KS_SYS_PROCESS_GROUP, sys_process_group),
    ENTRY(KS_SYS_DMA_PIN, sys_dma_pin),
    ENTRY(KS_SYS_DMA_UNPIN, sys_dma_unpin),
};
#pragma GCC diagnostic pop

/* KS_SYS_IPC_FIRST .. KS_SYS_IPC_LAST, entered through entry.S's ipc_entry. */
const syscall_fn ipc_syscall_table[KS_SYS_IPC_LAST - KS_SYS_IPC_FIRST + 1] = {
    [KS_SYS_IPC_CALL - KS_SYS_IPC_FIRST] = (syscall_fn)(void (*)(void))sys_ipc_call,
    [KS_SYS_IPC_RECEIVE - KS_SYS_IPC_FIRST] = (syscall_fn)(void (*)(void))sys_ipc_receive,
    [KS_SYS_IPC_REPLY - KS_SYS_IPC_FIRST] = (syscall_fn)(void (*)(void))sys_ipc_reply,
    [KS_SYS_IPC_REPLY_RECEIVE - KS_SYS_IPC_FIRST] = (syscall_fn)(void (*)(void))sys_ipc_reply_receive,
};

long sys_lookup(sysarg_t h, uint32_t type, uint32_t rights, struct object **out, uint32_t *rights_out)
{
    struct object *o = NULL;
    if (h == KS_PROCESS_SELF)
        o = &current_process()->obj;
    else if (h == KS_THREAD_SELF)
        o = &current_thread()->obj;
    if (o) {
        if (type && o->type != type)
            return KS_ERR_WRONG_TYPE;
        object_get(o);
        *out = o;
        if (rights_out)
            *rights_out = KS_RIGHTS_ALL;
        return 0;
    }
    if (h > INT32_MAX)
        return KS_ERR_BAD_HANDLE;
    const struct handle_entry *e = handle_entry_of(current_process()->handles, (ks_handle_t)h);
    if (!e || (type && e->obj->type != type) || (e->rights & rights) != rights)   /* handle_lookup says why */
        return handle_lookup(current_process()->handles, (ks_handle_t)h, type, rights, out, rights_out);
    object_get(e->obj);
    *out = e->obj;
    if (rights_out)
        *rights_out = e->rights;
    return 0;
}

long sys_install(struct object *o, uint32_t rights)
{
    return handle_install(current_process()->handles, o, rights);
}
