/*
 * kernel/sys_process.c - system calls on processes and threads.
 */
#include <arch/memlayout.h>
#include "account.h"
#include "futex.h"
#include "handle.h"
#include "process.h"
#include "sched.h"
#include "syscall.h"
#include "string.h"
#include "thread.h"
#include "uaccess.h"
#include "vm.h"

long sys_process_create(sysarg_t name, sysarg_t len)
{
    char buf[sizeof ((struct process *)0)->name];
    if (len > KS_NAME_MAX)
        return KS_ERR_INVALID;
    if (!user_range_ok(name, len))
        return KS_ERR_FAULT;
    uint64_t n = len < sizeof buf ? len : sizeof buf - 1;     /* a long name is cut, as Linux's comm */
    long r = copy_from_user(buf, name, n);
    if (r)
        return r;
    buf[n] = '\0';
    struct process *p;
    r = process_create(buf, current_process()->pid, current_process()->acct, &p);
    if (r)
        return r;
    r = sys_install(&p->obj, KS_RIGHTS_ALL);
    object_put(&p->obj);        /* the handle holds it now (or it dies here) */
    return r;
}

/* Copy one of an account's arrays out as a struct ks_limits (0: not wanted). */
static long limits_out(sysarg_t to, const uint64_t v[ACCOUNT_KINDS])
{
    struct ks_limits l = { v[ACCOUNT_MEMORY], v[ACCOUNT_THREADS], v[ACCOUNT_PROCESSES], 0 };
    return to ? copy_to_user(to, &l, sizeof l) : 0;
}

long sys_process_limit(sysarg_t proc, sysarg_t set, sysarg_t used, sysarg_t limit)
{
    struct ks_limits l = { 0 };
    if (set) {
        long r = copy_from_user(&l, set, sizeof l);
        if (r)
            return r;
        if (l.reserved)
            return KS_ERR_INVALID;
    }
    struct object *o;
    uint32_t need = (set ? KS_RIGHT_MANAGE : 0) | (used || limit ? KS_RIGHT_READ : 0);
    long r = sys_lookup(proc, KS_OBJ_PROCESS, need, &o, NULL);
    if (r)
        return r;
    struct process *p = process_from_object(o);
    struct account *a = p->acct;
    int lowering_own = a && a == current_process()->acct && l.memory <= a->limit[ACCOUNT_MEMORY] &&
                       l.threads <= a->limit[ACCOUNT_THREADS] && l.processes <= a->limit[ACCOUNT_PROCESSES];
    if (!a)
        r = KS_ERR_BAD_STATE;
    else if (set && !account_is_below(a, current_process()->acct) && !lowering_own)
        r = KS_ERR_ACCESS;      /* limits are set from above, never lifted from below or beside */
    if (!r && set) {
        a->limit[ACCOUNT_MEMORY] = l.memory;
        a->limit[ACCOUNT_THREADS] = l.threads;
        a->limit[ACCOUNT_PROCESSES] = l.processes;
    }
    if (!r)
        r = limits_out(used, a->used);
    if (!r)
        r = limits_out(limit, a->limit);
    object_put(o);
    return r;
}

long sys_process_fork(sysarg_t pc, sysarg_t sp, sysarg_t arg, sysarg_t pid_out)
{
    if (pc < USER_BASE || pc >= USER_TOP || sp > USER_TOP)
        return KS_ERR_RANGE;
    if (pid_out && !user_range_ok(pid_out, sizeof(uint32_t)))
        return KS_ERR_FAULT;
    struct process *cur = current_process(), *p;
    long r = process_create(cur->name, cur->pid, cur->acct, &p);
    if (r)
        return r;
    struct thread *t = NULL;
    /* The pid first, while the address space is still only ours: the child sees it too. */
    if (pid_out)
        r = copy_to_user(pid_out, &p->pid, sizeof p->pid);
    if (r == 0)
        r = vm_space_clone(p->vm, cur->vm);
    if (r == 0) {
        handle_table_clone(p->handles, cur->handles, KS_OBJ_REPLY);    /* reply ports stay the thread's */
        p->upcall_pc = cur->upcall_pc;
        p->pgid = cur->pgid;                    /* a child starts in its parent's group */
        p->up_ignore = cur->up_ignore;
        memcpy(p->fault_bit, cur->fault_bit, sizeof p->fault_bit);
        r = thread_create_user(p, pc, sp, arg, &t);
    }
    if (r == 0) {
        t->up_mask = current_thread()->up_mask;
        /* An upcall can divert the child before its first instruction: it must find its tp. */
        arch_thread_copy_tls(t, current_thread());
    }
    if (r == 0 && (r = sys_install(&p->obj, KS_RIGHTS_ALL)) < 0)
        thread_discard(t);
    else if (r >= 0)
        thread_start_running(t);
    object_put(&p->obj);        /* the handle holds it now; or, without threads, it ends here */
    return r;
}

long sys_process_exec(sysarg_t image, sysarg_t pc, sysarg_t sp)
{
    if (pc < USER_BASE || pc >= USER_TOP || sp > USER_TOP)
        return KS_ERR_RANGE;
    struct object *o;
    long r = sys_lookup(image, KS_OBJ_PROCESS, KS_RIGHT_MANAGE, &o, NULL);
    if (r)
        return r;
    r = process_exec(current_process(), process_from_object(o), pc, sp);
    object_put(o);
    return r;
}

long sys_process_exit(sysarg_t status)
{
    process_exit(current_process(), (uint32_t)status);
    thread_exit((long)(uint32_t)status);
}

long sys_process_wait(sysarg_t proc, sysarg_t status_out, sysarg_t flags)
{
    if (flags & ~(sysarg_t)(KS_WAIT_NOHANG | KS_WAIT_STOPPED | KS_WAIT_CONTINUED | KS_WAIT_PEEK))
        return KS_ERR_INVALID;
    struct object *o;
    long r = sys_lookup(proc, KS_OBJ_PROCESS, KS_RIGHT_WAIT, &o, NULL);
    if (r)
        return r;
    struct process *p = process_from_object(o);
    uint64_t status = 0;
    if (p == current_process())
        r = KS_ERR_BAD_STATE;
    else if (!user_range_ok(status_out, sizeof status))
        r = KS_ERR_FAULT;
    else if ((r = process_wait_flags(p, (uint32_t)flags, &status)) == 0)
        r = copy_to_user(status_out, &status, sizeof status);
    object_put(o);
    return r;
}

/* A kill cause from user space: KS_KILL_BY_REQUEST for 0, a signal's, or 0 if it is none. */
static uint64_t user_kill_cause(sysarg_t cause)
{
    if (cause == 0)
        return KS_KILL_BY_REQUEST;
    return cause >= KS_KILL_SIGNAL(1) && cause <= KS_KILL_SIGNAL(64) ? cause : 0;
}

long sys_process_kill(sysarg_t proc, sysarg_t cause)
{
    struct object *o;
    if (!(cause = user_kill_cause(cause)))
        return KS_ERR_INVALID;
    long r = sys_lookup(proc, KS_OBJ_PROCESS, KS_RIGHT_MANAGE, &o, NULL);
    if (r)
        return r;
    sched_long_begin();         /* a process without threads ends here */
    process_exit(process_from_object(o), KS_STATUS_KILLED | cause);
    object_put(o);
    sched_long_end();
    return 0;
}

long sys_process_signal(sysarg_t kind, sysarg_t who, sysarg_t value, sysarg_t flags)
{
    if (kind > KS_SIGNAL_BELOW || who > UINT32_MAX || (flags & ~(sysarg_t)KS_SIGNAL_KILL))
        return KS_ERR_INVALID;
    if ((flags & KS_SIGNAL_KILL) && !(value = user_kill_cause(value)))
        return KS_ERR_INVALID;
    sched_long_begin();         /* a process without threads ends here */
    struct process *me = current_process();
    if (kind == KS_SIGNAL_GROUP && who == 0)
        who = me->pgid;
    long r = process_signal(me, (uint32_t)kind, (uint32_t)who, value, (uint32_t)flags);
    sched_long_end();
    return r;
}

long sys_process_group(sysarg_t proc, sysarg_t group)
{
    struct object *o;
    if (group == 0 || group > UINT32_MAX)
        return KS_ERR_INVALID;
    long r = sys_lookup(proc, KS_OBJ_PROCESS, KS_RIGHT_MANAGE, &o, NULL);
    if (r)
        return r;
    process_from_object(o)->pgid = (uint32_t)group;
    object_put(o);
    return 0;
}

long sys_thread_create(sysarg_t proc, sysarg_t pc, sysarg_t sp, sysarg_t arg, sysarg_t tp)
{
    if (pc < USER_BASE || pc >= USER_TOP || sp > USER_TOP)
        return KS_ERR_RANGE;
    struct object *o;
    long r = sys_lookup(proc, KS_OBJ_PROCESS, KS_RIGHT_MANAGE, &o, NULL);
    if (r)
        return r;
    struct process *p = process_from_object(o);
    struct thread *t = NULL;
    r = p->state == PROCESS_ALIVE ? thread_create_user(p, pc, sp, arg, &t) : KS_ERR_BAD_STATE;
    if (r == 0)
        arch_thread_set_tls(t, p == current_process() ? current_thread() : NULL, tp);
    if (r == 0) {
        if ((r = sys_install(&t->obj, KS_RIGHTS_ALL)) < 0)
            thread_discard(t);
        else
            thread_start_running(t);
    }
    object_put(o);
    return r;
}

long sys_thread_exit(sysarg_t code, sysarg_t clear)
{
    uint32_t zero = 0;
    /* A bad clear address is ignored: the thread is leaving either way. */
    if (clear && (clear & 3) == 0 && copy_to_user(clear, &zero, sizeof zero) == 0)
        futex_wake(current_process()->vm, clear, 1);
    thread_exit((long)code);
}

long sys_thread_join(sysarg_t th)
{
    struct object *o;
    long r = sys_lookup(th, KS_OBJ_THREAD, KS_RIGHT_WAIT, &o, NULL);
    if (r)
        return r;
    r = thread_join(thread_from_object(o));
    object_put(o);
    return r;
}

long sys_thread_yield(void)
{
    sched_yield();
    return 0;
}

long sys_futex_wait(sysarg_t addr, sysarg_t expected, sysarg_t timeout_ns)
{
    return futex_wait(addr, (uint32_t)expected, timeout_ns);
}

long sys_futex_wake(sysarg_t addr, sysarg_t count)
{
    return futex_wake(current_process()->vm, addr, (uint32_t)count);
}

long sys_self_ids(sysarg_t out)
{
    struct thread *t = current_thread();
    struct ks_ids ids = { .pid = t->proc->pid, .parent_pid = t->proc->parent_pid, .tid = t->tid,
                          .group = t->proc->pgid };
    return copy_to_user(out, &ids, sizeof ids);
}

long sys_thread_sleep(sysarg_t ns)
{
    return thread_sleep(ns);
}

long sys_thread_interrupt(sysarg_t th)
{
    struct object *o;
    long r = sys_lookup(th, KS_OBJ_THREAD, KS_RIGHT_MANAGE, &o, NULL);
    if (r)
        return r;
    thread_interrupt(thread_from_object(o));
    object_put(o);
    return 0;
}

long sys_process_times(sysarg_t proc, sysarg_t out)
{
    struct ks_times v = { 0 };
    struct object *o;
    if (!user_range_ok(out, sizeof v))
        return KS_ERR_FAULT;
    long r = sys_lookup(proc, KS_OBJ_PROCESS, KS_RIGHT_READ, &o, NULL);
    if (r)
        return r;
    struct process *p = process_from_object(o);
    process_times(p, &v.user_ns, &v.system_ns, &v.children_user_ns, &v.children_system_ns);
    if (p == current_process()) {
        v.thread_user_ns = current_thread()->utime_ns;
        v.thread_system_ns = current_thread()->stime_ns;
    }
    object_put(o);
    return copy_to_user(out, &v, sizeof v);
}

long sys_process_stopped(sysarg_t sig)
{
    if (sig > 64)
        return KS_ERR_INVALID;
    process_report_stop(current_process(), (uint32_t)sig);
    return 0;
}

long sys_pid_alive(sysarg_t pid)
{
    return pid <= UINT32_MAX && process_pid_alive((uint32_t)pid);
}

long sys_thread_robust(sysarg_t head, sysarg_t owner)
{
    if (head && (!user_range_ok(head, 3 * sizeof(uintptr_t)) || (head & 7)))
        return KS_ERR_FAULT;
    current_thread()->robust_head = head;
    current_thread()->robust_owner = (uint32_t)owner & 0x3fffffffu;
    return 0;
}
