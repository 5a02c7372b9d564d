/*
 * user/lib/ks.h - the native system call wrappers for user programs.
 *
 * One inline function per call in <kestrel/syscall.h>, named after it. The
 * ecall convention: number in a7, arguments in a0..a5, result in a0; the kernel
 * returns t0..t6 and a1..a7 zeroed, so they are all marked clobbered here.
 */
#ifndef USER_KS_H
#define USER_KS_H

#include <stddef.h>
#include <stdint.h>
#include <kestrel/errors.h>
#include <kestrel/handle.h>
#include <kestrel/layout.h>
#include <kestrel/syscall.h>

/*
 * ks_syscallN(n, args...): the number in a7 and N arguments in a0.. ; every
 * argument register is also an output, since the kernel zeroes what it does
 * not return.
 */
#define KS_CLOBBERS "a6", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "memory"

/* Only the registers that carry arguments are set; the rest are merely clobbered. */
static inline long ks_syscall0(long n)
{
    register long r0 __asm__("a0");
    register long r7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "=r"(r0), "+r"(r7) : : "a1", "a2", "a3", "a4", "a5", KS_CLOBBERS);
    return r0;
}

static inline long ks_syscall(long n, long a, long b, long c, long d, long e, long f)
{
    register long r0 __asm__("a0") = a;
    register long r1 __asm__("a1") = b;
    register long r2 __asm__("a2") = c;
    register long r3 __asm__("a3") = d;
    register long r4 __asm__("a4") = e;
    register long r5 __asm__("a5") = f;
    register long r7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r5), "+r"(r7)
                     : : KS_CLOBBERS);
    return r0;
}

#define KS0(n) ks_syscall0(n)
#define KS1(n, a) ks_syscall(n, (long)(a), 0, 0, 0, 0, 0)
#define KS2(n, a, b) ks_syscall(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define KS3(n, a, b, c) ks_syscall(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define KS4(n, a, b, c, d) ks_syscall(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define KS5(n, a, b, c, d, e) ks_syscall(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define KS6(n, a, b, c, d, e, f) ks_syscall(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

static inline long ks_null(void) { return KS0(KS_SYS_NULL); }
static inline long ks_debug_write(const void *buf, size_t len) { return KS2(KS_SYS_DEBUG_WRITE, buf, len); }

static inline long ks_handle_close(ks_handle_t h) { return KS1(KS_SYS_HANDLE_CLOSE, h); }
static inline long ks_handle_duplicate(ks_handle_t h, uint32_t rights) { return KS2(KS_SYS_HANDLE_DUPLICATE, h, rights); }
static inline long ks_handle_transfer(ks_handle_t proc, ks_handle_t h, uint32_t rights, uint32_t flags)
{
    return KS4(KS_SYS_HANDLE_TRANSFER, proc, h, rights, flags);
}
static inline long ks_handle_info(ks_handle_t h) { return KS1(KS_SYS_HANDLE_INFO, h); }

static inline long ks_process_create(const char *name, size_t len) { return KS2(KS_SYS_PROCESS_CREATE, name, len); }
__attribute__((noreturn)) static inline void ks_process_exit(long status)
{
    KS1(KS_SYS_PROCESS_EXIT, status);
    __builtin_unreachable();
}
static inline long ks_process_wait(ks_handle_t p, uint64_t *status) { return KS3(KS_SYS_PROCESS_WAIT, p, status, 0); }
static inline long ks_process_wait_flags(ks_handle_t p, uint64_t *status, uint32_t flags)
{
    return KS3(KS_SYS_PROCESS_WAIT, p, status, flags);
}
static inline long ks_process_kill(ks_handle_t p) { return KS1(KS_SYS_PROCESS_KILL, p); }
static inline long ks_process_kill_cause(ks_handle_t p, uint32_t cause)
{
    return KS2(KS_SYS_PROCESS_KILL, p, cause);
}
static inline long ks_process_on_exit(ks_handle_t p, uint64_t bits) { return KS2(KS_SYS_PROCESS_ON_EXIT, p, bits); }
static inline long ks_upcall_set(uintptr_t pc, uint64_t ignore) { return KS2(KS_SYS_UPCALL_SET, pc, ignore); }
static inline long ks_upcall_mask(int how, uint64_t bits, uint64_t out[2])
{
    return KS3(KS_SYS_UPCALL_MASK, how, bits, out);
}
static inline long ks_upcall_raise(ks_handle_t target, uint64_t bits) { return KS2(KS_SYS_UPCALL_RAISE, target, bits); }
static inline long ks_upcall_return(void *frame) { return KS1(KS_SYS_UPCALL_RETURN, frame); }
static inline long ks_upcall_take(uint64_t bits, uint64_t timeout_ns) { return KS2(KS_SYS_UPCALL_TAKE, bits, timeout_ns); }
static inline long ks_upcall_suspend(uint64_t mask) { return KS1(KS_SYS_UPCALL_SUSPEND, mask); }
static inline long ks_upcall_fault(uint32_t cause, uint32_t bit1) { return KS2(KS_SYS_UPCALL_FAULT, cause, bit1); }
static inline long ks_watch(ks_handle_t obj, uint32_t events, ks_handle_t listener, uint64_t userdata)
{
    return KS4(KS_SYS_WATCH, obj, events, listener, userdata);
}
static inline long ks_listener_wait(ks_handle_t listener, uint64_t timeout_ns, uint64_t out[2])
{
    return KS3(KS_SYS_LISTENER_WAIT, listener, timeout_ns, out);
}
static inline long ks_random(void *buf, size_t len) { return KS2(KS_SYS_RANDOM, buf, len); }
static inline long ks_thread_robust(const void *head, uint32_t owner) { return KS2(KS_SYS_THREAD_ROBUST, head, owner); }
static inline long ks_pid_alive(uint32_t pid) { return KS1(KS_SYS_PID_ALIVE, pid); }
static inline long ks_process_signal(uint32_t kind, uint32_t who, uint64_t value, uint32_t flags)
{
    return KS4(KS_SYS_PROCESS_SIGNAL, kind, who, value, flags);
}
static inline long ks_process_group(ks_handle_t p, uint32_t group) { return KS2(KS_SYS_PROCESS_GROUP, p, group); }
static inline long ks_process_stopped(uint32_t sig) { return KS1(KS_SYS_PROCESS_STOPPED, sig); }
static inline long ks_klog(uint32_t op, void *buf, size_t len) { return KS3(KS_SYS_KLOG, op, buf, len); }
static inline long ks_dma_create(ks_handle_t device, uint64_t size) { return KS2(KS_SYS_DMA_CREATE, device, size); }
static inline long ks_dma_addr(ks_handle_t m, uint64_t offset) { return KS2(KS_SYS_DMA_ADDR, m, offset); }
static inline long ks_dma_pin(ks_handle_t dma, ks_handle_t m, uint64_t first, uint64_t pages, uint64_t *pa)
{
    return KS5(KS_SYS_DMA_PIN, dma, m, first, pages, pa);
}
static inline long ks_dma_unpin(ks_handle_t dma, const uint64_t *pa, uint64_t count)
{
    return KS3(KS_SYS_DMA_UNPIN, dma, pa, count);
}
static inline long ks_memobj_create_paged(uint64_t size, ks_handle_t listener, uint64_t userdata)
{
    return KS3(KS_SYS_MEMOBJ_CREATE_PAGED, size, listener, userdata);
}
static inline long ks_pager_requests(ks_handle_t m, uint64_t *out, uint64_t max)
{
    return KS3(KS_SYS_PAGER_REQUESTS, m, out, max);
}
static inline long ks_pager_supply(ks_handle_t m, uint64_t first, const void *buf, uint64_t pages)
{
    return KS4(KS_SYS_PAGER_SUPPLY, m, first, buf, pages);
}
static inline long ks_pager_fail(ks_handle_t m, uint64_t first, uint64_t pages)
{
    return KS3(KS_SYS_PAGER_FAIL, m, first, pages);
}
static inline long ks_pager_dirty(ks_handle_t m, uint64_t first, uint64_t pages, uint64_t *out)
{
    return KS4(KS_SYS_PAGER_DIRTY, m, first, pages, out);
}
static inline long ks_pager_writeback(ks_handle_t m, uint64_t page, void *buf)
{
    return KS3(KS_SYS_PAGER_WRITEBACK, m, page, buf);
}
static inline long ks_pager_evict(ks_handle_t m, uint64_t first, uint64_t pages)
{
    return KS3(KS_SYS_PAGER_EVICT, m, first, pages);
}
static inline long ks_pager_supply_from(ks_handle_t m, uint64_t first, ks_handle_t src, uint64_t src_first,
                                        uint64_t pages)
{
    return KS5(KS_SYS_PAGER_SUPPLY_FROM, m, first, src, src_first, pages);
}
static inline long ks_pager_users(ks_handle_t m) { return KS2(KS_SYS_PAGER_USERS, m, 0); }
/* ks_pager_users, and KS_PAGER_NOTE_UNUSED armed for when the count reaches 0 (if it is not 0). */
static inline long ks_pager_users_notify(ks_handle_t m) { return KS2(KS_SYS_PAGER_USERS, m, KS_USERS_NOTIFY); }
static inline long ks_pager_low_size(ks_handle_t m) { return KS1(KS_SYS_PAGER_LOW_SIZE, m); }
static inline long ks_pager_accessed(ks_handle_t m, uint64_t first, uint64_t pages, uint64_t *out)
{
    return KS4(KS_SYS_PAGER_ACCESSED, m, first, pages, out);
}
static inline long ks_pager_redirty(ks_handle_t m, uint64_t first, uint64_t pages)
{
    return KS3(KS_SYS_PAGER_REDIRTY, m, first, pages);
}
static inline long ks_process_times(ks_handle_t p, struct ks_times *out) { return KS2(KS_SYS_PROCESS_TIMES, p, out); }
static inline long ks_ipc_notify(ks_handle_t client, uint64_t word) { return KS2(KS_SYS_IPC_NOTIFY, client, word); }
static inline long ks_process_fork(void *pc, void *sp, long arg, uint32_t *pid)
{
    return KS4(KS_SYS_PROCESS_FORK, pc, sp, arg, pid);
}
static inline long ks_process_exec(ks_handle_t image, uint64_t pc, uint64_t sp)
{
    return KS3(KS_SYS_PROCESS_EXEC, image, pc, sp);
}
static inline long ks_pipe_create(ks_handle_t ends[2]) { return KS1(KS_SYS_PIPE_CREATE, ends); }
static inline long ks_pipe_read(ks_handle_t end, void *buf, size_t len, uint32_t flags)
{
    return KS4(KS_SYS_PIPE_READ, end, buf, len, flags);
}
static inline long ks_pipe_write(ks_handle_t end, const void *buf, size_t len, uint32_t flags)
{
    return KS4(KS_SYS_PIPE_WRITE, end, buf, len, flags);
}
static inline long ks_pipe_info(ks_handle_t end) { return KS1(KS_SYS_PIPE_INFO, end); }
static inline long ks_process_limit(ks_handle_t p, const struct ks_limits *set, struct ks_limits *used,
                                    struct ks_limits *limit)
{
    return KS4(KS_SYS_PROCESS_LIMIT, p, set, used, limit);
}

static inline long ks_thread_create(ks_handle_t proc, void *pc, void *sp, long arg)
{
    return KS4(KS_SYS_THREAD_CREATE, proc, pc, sp, arg);
}
/* ks_thread_create with the new thread's thread pointer (an upcall may come before its first
   instruction: it must find its thread-local storage). */
static inline long ks_thread_create_tls(ks_handle_t proc, void *pc, void *sp, long arg, uintptr_t tp)
{
    return KS5(KS_SYS_THREAD_CREATE, proc, pc, sp, arg, tp);
}
__attribute__((noreturn)) static inline void ks_thread_exit(long code)
{
    KS1(KS_SYS_THREAD_EXIT, code);
    __builtin_unreachable();
}
/* Exit the thread; first store 0 to *clear and wake one futex waiter there (if clear). */
__attribute__((noreturn)) static inline void ks_thread_exit_clear(long code, volatile uint32_t *clear)
{
    KS2(KS_SYS_THREAD_EXIT, code, clear);
    __builtin_unreachable();
}
static inline long ks_thread_join(ks_handle_t t) { return KS1(KS_SYS_THREAD_JOIN, t); }
static inline long ks_thread_yield(void) { return KS0(KS_SYS_THREAD_YIELD); }
static inline long ks_thread_sleep(uint64_t ns) { return KS1(KS_SYS_THREAD_SLEEP, ns); }
static inline long ks_thread_interrupt(ks_handle_t t) { return KS1(KS_SYS_THREAD_INTERRUPT, t); }

static inline long ks_memobj_create(uint64_t size) { return KS1(KS_SYS_MEMOBJ_CREATE, size); }
static inline long ks_memobj_read(ks_handle_t m, uint64_t off, void *buf, size_t len)
{
    return KS4(KS_SYS_MEMOBJ_READ, m, off, buf, len);
}
static inline long ks_memobj_write(ks_handle_t m, uint64_t off, const void *buf, size_t len)
{
    return KS4(KS_SYS_MEMOBJ_WRITE, m, off, buf, len);
}
static inline long ks_memobj_truncate(ks_handle_t m, uint64_t size) { return KS2(KS_SYS_MEMOBJ_TRUNCATE, m, size); }
static inline long ks_memobj_size(ks_handle_t m) { return KS1(KS_SYS_MEMOBJ_SIZE, m); }
/* Its size and when it last changed (struct ks_memobj_stat); flags KS_MEMOBJ_STAT_CLEAR forgets that. */
static inline long ks_memobj_stat(ks_handle_t m, struct ks_memobj_stat *out, uint32_t flags)
{
    return KS3(KS_SYS_MEMOBJ_STAT, m, out, flags);
}

static inline long ks_vm_map(ks_handle_t proc, ks_handle_t m, uint64_t off, uintptr_t addr, size_t len,
                             uint32_t flags)
{
    return KS6(KS_SYS_VM_MAP, proc, m, off, addr, len, flags);
}
static inline long ks_vm_unmap(ks_handle_t proc, uintptr_t addr, size_t len) { return KS3(KS_SYS_VM_UNMAP, proc, addr, len); }
/* The memobjs mapped shared and writable in [addr, addr + len) have changed now (msync). */
static inline long ks_vm_sync(ks_handle_t proc, uintptr_t addr, size_t len)
{
    return KS3(KS_SYS_VM_SYNC, proc, addr, len);
}
static inline long ks_vm_protect(ks_handle_t proc, uintptr_t addr, size_t len, uint32_t prot)
{
    return KS4(KS_SYS_VM_PROTECT, proc, addr, len, prot);
}

static inline long ks_view_create(ks_handle_t m, uint32_t rights) { return KS2(KS_SYS_VIEW_CREATE, m, rights); }
static inline long ks_view_read(ks_handle_t v, void *buf, size_t len) { return KS3(KS_SYS_VIEW_READ, v, buf, len); }
static inline long ks_view_write(ks_handle_t v, const void *buf, size_t len) { return KS3(KS_SYS_VIEW_WRITE, v, buf, len); }
static inline long ks_view_seek(ks_handle_t v, int64_t off, int whence) { return KS3(KS_SYS_VIEW_SEEK, v, off, whence); }
static inline long ks_view_memobj(ks_handle_t v) { return KS1(KS_SYS_VIEW_MEMOBJ, v); }

static inline long ks_irq_bind(ks_handle_t irq, ks_handle_t listener, uint64_t userdata)
{
    return KS3(KS_SYS_IRQ_BIND, irq, listener, userdata);
}
static inline long ks_irq_ack(ks_handle_t irq) { return KS1(KS_SYS_IRQ_ACK, irq); }

static inline long ks_clock_ns(void) { return KS0(KS_SYS_CLOCK_NS); }
static inline long ks_kstat(struct ks_kstat *k) { return KS1(KS_SYS_KSTAT, k); }
static inline long ks_kstat_flags(struct ks_kstat *k, uint32_t flags) { return KS2(KS_SYS_KSTAT, k, flags); }

static inline long ks_futex_wait(volatile uint32_t *addr, uint32_t expected, uint64_t timeout_ns)
{
    return KS3(KS_SYS_FUTEX_WAIT, addr, expected, timeout_ns);
}
static inline long ks_futex_wake(volatile uint32_t *addr, uint32_t count) { return KS2(KS_SYS_FUTEX_WAKE, addr, count); }
static inline long ks_self_ids(struct ks_ids *out) { return KS1(KS_SYS_SELF_IDS, out); }

#endif
