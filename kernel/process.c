/*
 * kernel/process.c - process lifetime: creation, ending, waiting, kill messages.
 */
#include <kestrel/errors.h>
#include <kestrel/syscall.h>
#include "account.h"
#include "futex.h"
#include "heap.h"
#include "kprintf.h"
#include "power.h"
#include "process.h"
#include "sched.h"
#include "string.h"
#include "thread.h"
#include "trace.h"
#include "upcall.h"
#include "vm.h"

_Static_assert(sizeof(struct process) <= 512, "struct process outgrew its heap class (process.h)");

static uint32_t next_pid = 1;
static struct list live = LIST_INIT(live);      /* every process not yet dead */

/*
 * p is dead: its CPU time, and its children's, go to its parent's children
 * times; its children, if any live on, are init's now (their parent pid 1).
 */
static void hand_over(const struct process *p)
{
    LIST_FOR_EACH(n, tmp, &live) {
        struct process *q = LIST_ENTRY(n, struct process, all_link);
        if (q->parent_pid == p->pid)
            q->parent_pid = 1;
        if (q->pid == p->parent_pid) {
            q->cutime_ns += p->utime_ns + p->cutime_ns;
            q->cstime_ns += p->stime_ns + p->cstime_ns;
        }
    }
}

long process_watch(struct process *p, struct account *a, struct listener *l, uint64_t userdata,
                   uint32_t events)
{
    if (p->state == PROCESS_DEAD)
        return KS_WATCH_HANGUP;
    if ((events & KS_WATCH_READABLE) && p->stop_report)
        return KS_WATCH_READABLE;
    if (!l)
        return 0;
    return watch_arm(&p->end_watch, a, l, userdata, KS_WATCH_HANGUP | (events & KS_WATCH_READABLE));
}

void process_report_stop(struct process *p, uint32_t sig)
{
    if (p->state == PROCESS_DEAD || (!sig && !p->stop_signal))
        return;
    p->stop_signal = sig;
    p->stop_report = sig ? KS_WAIT_STOPPED : KS_WAIT_CONTINUED;
    wake_all(&p->exit_waiters, 0);
    watch_fire(&p->end_watch, KS_WATCH_READABLE);
    if (p->exit_notify)
        upcall_raise_process(p->exit_notify, p->exit_bits, p->pid);
}

long process_wait_flags(struct process *p, uint32_t flags, uint64_t *status)
{
    for (;;) {
        if (p->state == PROCESS_DEAD) {
            *status = p->status;
            return 0;
        }
        if (p->stop_report & flags) {
            *status = p->stop_report == KS_WAIT_STOPPED ? KS_STATUS_STOPPED | p->stop_signal
                                                        : KS_STATUS_CONTINUED;
            if (!(flags & KS_WAIT_PEEK))
                p->stop_report = 0;
            return 0;
        }
        if (flags & KS_WAIT_NOHANG)
            return KS_ERR_AGAIN;
        long r = wait_on(&p->exit_waiters, 1);
        if (r == KS_ERR_INTERRUPTED)
            return r;
    }
}

int process_pid_alive(uint32_t pid)
{
    LIST_FOR_EACH(n, tmp, &live)
        if (LIST_ENTRY(n, struct process, all_link)->pid == pid)
            return 1;
    return 0;
}

/* Whether p is below caller in the account tree: made by it, or by one below it. */
static int made_below(const struct process *caller, const struct process *p)
{
    return p->acct && caller->acct && account_is_below(p->acct, caller->acct);
}

/*
 * Whether caller may signal p by number: p is the caller or below it; or, for
 * a raise (not a kill), its parent, which fork already gave it a handle to raise on.
 */
static int in_reach(const struct process *caller, const struct process *p, uint32_t flags)
{
    return p == caller || (!(flags & KS_SIGNAL_KILL) && p->pid == caller->parent_pid) ||
           made_below(caller, p);
}

static int signal_matches(const struct process *caller, const struct process *p, uint32_t kind,
                          uint32_t who)
{
    if (kind == KS_SIGNAL_PID)
        return p->pid == who;
    if (kind == KS_SIGNAL_GROUP)
        return p->pgid == who;
    return made_below(caller, p);       /* KS_SIGNAL_BELOW (never the caller itself) */
}

long process_signal(struct process *caller, uint32_t kind, uint32_t who, uint64_t value,
                    uint32_t flags)
{
    long matched = 0, reached = 0;
    LIST_FOR_EACH(n, tmp, &live) {              /* first count, acting on nothing */
        const struct process *p = LIST_ENTRY(n, struct process, all_link);
        if (signal_matches(caller, p, kind, who)) {
            matched++;
            reached += in_reach(caller, p, flags);
        }
    }
    if (!reached)
        return matched ? KS_ERR_ACCESS : KS_ERR_NO_PROCESS;
again:
    LIST_FOR_EACH(n, tmp, &live) {
        struct process *p = LIST_ENTRY(n, struct process, all_link);
        if (p->state != PROCESS_ALIVE || !signal_matches(caller, p, kind, who) ||
            !in_reach(caller, p, flags))
            continue;
        if (!(flags & KS_SIGNAL_KILL)) {
            if (value)
                upcall_raise_process(p, value, caller->pid);    /* touches only p's threads */
            continue;
        }
        int ends_here = p->nthreads == 0;
        process_exit(p, KS_STATUS_KILLED | value);
        if (ends_here)          /* its handles closed: other processes may have gone from the list */
            goto again;         /* (p is not alive now, so each pass ends one more) */
    }
    return reached;
}

void process_each_thread(void (*fn)(struct thread *t, void *arg), void *arg)
{
    LIST_FOR_EACH(n, tmp, &live) {
        struct process *p = LIST_ENTRY(n, struct process, all_link);
        LIST_FOR_EACH(m, tmp2, &p->threads)
            fn(LIST_ENTRY(m, struct thread, proc_link), arg);
    }
}

void process_times(const struct process *p, uint64_t *user, uint64_t *system, uint64_t *cuser,
                   uint64_t *csystem)
{
    *user = p->utime_ns;
    *system = p->stime_ns;
    LIST_FOR_EACH(n, tmp, &p->threads) {
        const struct thread *t = LIST_ENTRY(n, struct thread, proc_link);
        *user += t->utime_ns;
        *system += t->stime_ns;
    }
    *cuser = p->cutime_ns;
    *csystem = p->cstime_ns;
}

static void init_ended(uint64_t status);

/* Free what a dead process no longer needs; the object stays for its status. */
static void process_release(struct process *p)
{
    p->state = PROCESS_DEAD;
    list_remove(&p->all_link);
    hand_over(p);
    if (p->vm) {
        struct thread *t = current_thread();
        if (t->proc == p)
            arch_aspace_activate_kernel();
        vm_space_destroy(p->vm);
        p->vm = NULL;
    }
    if (p->handles) {
        struct handle_table *h = p->handles;
        p->handles = NULL;      /* closing may recurse into other objects */
        handle_table_destroy(h);
    }
    if (p->acct) {              /* what is still charged to it keeps the account */
        account_uncharge(p->acct, ACCOUNT_PROCESSES, 1);
        account_put(p->acct);
        p->acct = NULL;
    }
    wake_all(&p->exit_waiters, 0);
    watch_fire(&p->end_watch, KS_WATCH_HANGUP);
    if (p->exit_notify) {       /* KS_SYS_PROCESS_ON_EXIT: tell whoever asked (its parent, say) */
        struct process *to = p->exit_notify;
        p->exit_notify = NULL;
        upcall_raise_process(to, p->exit_bits, p->pid);
        object_put(&to->obj);
    }
    if (p->pid == 1)
        init_ended(p->status);
}

/* init is gone: nothing else can run. Its status becomes QEMU's exit status. */
static void init_ended(uint64_t status)
{
    if (status & KS_STATUS_KILLED) {
        kprintf("kernel: init was killed (cause %u); powering off\n", (uint32_t)status);
        shutdown(EXIT_INIT_KILLED);
    }
    shutdown((int)(status & 0xff));
}

static void process_destroy(struct object *o)
{
    struct process *p = process_from_object(o);
    if (p->state != PROCESS_DEAD)
        process_release(p);
    watch_list_release(&p->end_watch);
    account_kfree(account_of(o), p);
}

/* Nobody can reach a process without threads any more: it can never run. */
static void process_last_handle(struct object *o)
{
    struct process *p = process_from_object(o);
    if (p->nthreads == 0 && p->state == PROCESS_ALIVE)
        process_exit(p, KS_STATUS_KILLED | KS_KILL_BY_REQUEST);
}

static const struct object_ops process_ops = {
    .destroy = process_destroy,
    .on_last_handle = process_last_handle,
};

/* Undo what process_create made before failing with err. */
static long create_failed(struct process *p, struct account *creator, long err)
{
    if (p->vm)
        vm_space_destroy(p->vm);
    if (p->handles)
        handle_table_destroy(p->handles);
    if (p->acct) {
        account_uncharge(p->acct, ACCOUNT_PROCESSES, 1);
        account_put(p->acct);
    }
    account_kfree(creator, p);
    return err;
}

long process_create(const char *name, uint32_t parent_pid, struct account *creator,
                    struct process **out)
{
    struct process *p = account_kzalloc(creator, sizeof *p);
    if (!p)
        return KS_ERR_NO_MEMORY;
    if (!(p->acct = account_create(creator)))
        return create_failed(p, creator, KS_ERR_NO_MEMORY);
    long r = account_charge(p->acct, ACCOUNT_PROCESSES, 1);
    if (r) {
        account_put(p->acct);
        p->acct = NULL;
        return create_failed(p, creator, r);
    }
    p->vm = vm_space_create(p->acct);
    p->handles = handle_table_create(p->acct);
    if (!p->vm || !p->handles)
        return create_failed(p, creator, KS_ERR_NO_MEMORY);
    p->handles->owner = p;
    object_init(&p->obj, KS_OBJ_PROCESS, &process_ops);
    account_set(&p->obj, creator);
    p->pid = next_pid++;
    p->pgid = p->pid;
    list_push_back(&live, &p->all_link);
    p->parent_pid = parent_pid;
    size_t n = strlen(name);
    if (n >= sizeof p->name)
        n = sizeof p->name - 1;
    memcpy(p->name, name, n);
    list_init(&p->threads);
    wait_queue_init(&p->exit_waiters);
    watch_list_init(&p->end_watch);
    *out = p;
    return 0;
}

void process_exit(struct process *p, uint64_t status)
{
    if (p->state != PROCESS_ALIVE)
        return;
    p->state = PROCESS_EXITING;
    p->status = status;
    LIST_FOR_EACH(n, tmp, &p->threads) {
        struct thread *t = LIST_ENTRY(n, struct thread, proc_link);
        t->flags |= THREAD_KILLED;
        if (t->state == THREAD_BLOCKED && !t->uninterruptible)
            sched_wake(t, KS_ERR_INTERRUPTED);
    }
    if (p->nthreads == 0)
        process_release(p);
}

void process_thread_gone(struct process *p, long code)
{
    struct thread *t = current_thread();
    if (t->proc == p) {             /* the thread's CPU time stays the process's */
        p->utime_ns += t->utime_ns;
        p->stime_ns += t->stime_ns;
    }
    p->nthreads--;
    if (p->nthreads == 0) {
        if (p->state == PROCESS_ALIVE) {        /* the last thread's code becomes the status */
            p->state = PROCESS_EXITING;
            p->status = (uint32_t)code;
        }
        process_release(p);
    }
}

long process_wait(struct process *p, uint64_t *status)
{
    while (p->state != PROCESS_DEAD) {
        long r = wait_on(&p->exit_waiters, 1);
        if (r == KS_ERR_INTERRUPTED)
            return r;
    }
    *status = p->status;
    return 0;
}

/*
 * Before exec: tell p's other threads to end, and wait until they have (each
 * leaves at its next return to user mode, or at once if it is blocked and
 * interruptible). 0, or KS_ERR_INTERRUPTED if the caller itself is told to end.
 */
static long exec_end_other_threads(struct process *p)
{
    struct thread *self = current_thread();
    while (p->nthreads > 1) {
        if (self->flags & THREAD_KILLED)
            return KS_ERR_INTERRUPTED;
        LIST_FOR_EACH(n, tmp, &p->threads) {    /* each pass: a thread made meanwhile too */
            struct thread *t = LIST_ENTRY(n, struct thread, proc_link);
            if (t == self || (t->flags & THREAD_KILLED))
                continue;
            t->flags |= THREAD_KILLED;
            if (t->state == THREAD_BLOCKED && !t->uninterruptible)
                sched_wake(t, KS_ERR_INTERRUPTED);
        }
        sched_yield();                  /* they run and leave meanwhile */
        if (p->nthreads > 1)
            thread_sleep(100000);       /* (at once if an upcall is due: the yield still lets them run) */
    }
    return self->flags & THREAD_KILLED ? KS_ERR_INTERRUPTED : 0;
}

long process_exec(struct process *p, struct process *image, uint64_t pc, uint64_t sp)
{
    struct thread *self = current_thread();
    if (image == p || image->state != PROCESS_ALIVE || image->nthreads || !image->acct ||
        !account_is_below(image->acct, p->acct))
        return KS_ERR_BAD_STATE;
    long r = exec_end_other_threads(p);
    if (r)
        return r;
    if (image->state != PROCESS_ALIVE || image->nthreads)  /* killed or started while we waited */
        return KS_ERR_BAD_STATE;        /* (the caller's other threads are gone by now) */
    ipc_thread_exec(self);              /* its reply port and handle cache name the old table */
    if (self->robust_head)
        futex_robust_release(self);     /* its robust list lives in the old address space */
    struct vm_space *old_vm = p->vm;
    struct handle_table *old_handles = p->handles;
    p->vm = image->vm;
    p->handles = image->handles;
    p->handles->owner = p;
    image->vm = NULL;
    image->handles = NULL;
    memcpy(p->name, image->name, sizeof p->name);
    p->upcall_pc = 0;                   /* the new program sets its own entry (ignore bits stay) */
    memset(p->fault_bit, 0, sizeof p->fault_bit);   /* and its own fault handlers */
    memcpy(self->name, image->name, sizeof self->name - 1);
    self->name[sizeof self->name - 1] = '\0';
    trace_name(self);
    arch_thread_exec(self, &p->vm->as, pc, sp);     /* runs on the new address space from here */
    process_exit(image, 0);             /* nothing left in it: dead at once */
    sched_long_begin();
    vm_space_destroy(old_vm);
    handle_table_destroy(old_handles);
    sched_long_end();
    return 0;
}

void process_kill_fault(struct process *p, uint32_t cause, const char *what, uint64_t addr,
                        uint64_t pc)
{
    kprintf("killed: %s (pid %u): %s at 0x%lx, pc 0x%lx\n", p->name, p->pid, what,
            (unsigned long)addr, (unsigned long)pc);
    process_exit(p, KS_STATUS_KILLED | cause);
}
