/*
 * kernel/sys_memobj.c - system calls on memobjs, views and address spaces.
 */
#include "clock.h"
#include "dma.h"
#include "handle.h"
#include "ipc.h"
#include "memobj.h"
#include "pager.h"
#include "process.h"
#include "sched.h"
#include "uaccess.h"
#include "syscall.h"
#include "vm.h"

#define MEMOBJ_RIGHTS (KS_RIGHT_READ | KS_RIGHT_WRITE | KS_RIGHT_MAP | KS_RIGHT_EXECUTE | \
                       KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE)

long sys_memobj_create(sysarg_t size)
{
    if (size > MEMOBJ_MAX_SIZE)
        return KS_ERR_RANGE;
    struct memobj *mo = memobj_create(current_process()->acct, size);
    if (!mo)
        return KS_ERR_NO_MEMORY;
    long r = sys_install(&mo->obj, MEMOBJ_RIGHTS);
    object_put(&mo->obj);
    return r;
}

static long with_memobj_rights(sysarg_t h, uint32_t rights, struct memobj **mo, uint32_t *have)
{
    struct object *o;
    long r = sys_lookup(h, KS_OBJ_MEMOBJ, rights, &o, have);
    if (r == 0)
        *mo = memobj_from_object(o);
    return r;
}

static long with_memobj(sysarg_t h, uint32_t rights, struct memobj **mo)
{
    return with_memobj_rights(h, rights, mo, NULL);
}

long sys_memobj_create_paged(sysarg_t size, sysarg_t listener, sysarg_t userdata)
{
    int fixed = (size & KS_PAGED_FIXED_SIZE) != 0;
    size &= ~KS_PAGED_FIXED_SIZE;
    if (size > MEMOBJ_MAX_SIZE)
        return KS_ERR_RANGE;
    struct object *lo;
    long r = sys_lookup(listener, KS_OBJ_LISTENER, KS_RIGHT_READ, &lo, NULL);
    if (r)
        return r;
    struct memobj *mo = memobj_create(current_process()->acct, size);
    if (!mo || pager_attach(mo, listener_from_object(lo), userdata) != 0)
        r = KS_ERR_NO_MEMORY;
    else
        mo->fixed_size = fixed;
    object_put(lo);
    if (r == 0)
        r = sys_install(&mo->obj, MEMOBJ_RIGHTS | KS_RIGHT_PAGER);
    if (mo)
        object_put(&mo->obj);
    return r;
}

/* A paged memobj handle with KS_RIGHT_PAGER, its reference in *mo; an error if not one. */
static long with_pager(sysarg_t m, struct memobj **mo)
{
    long r = with_memobj(m, KS_RIGHT_PAGER, mo);
    if (r == 0 && !(*mo)->pager) {
        object_put(&(*mo)->obj);
        r = KS_ERR_INVALID;
    }
    return r;
}

/* The pager calls: fn on m (a paged memobj with KS_RIGHT_PAGER) and the three arguments. */
static long on_pager(sysarg_t m, long (*fn)(struct memobj *, uint64_t, uint64_t, uint64_t), uint64_t a,
                     uint64_t b, uint64_t c)
{
    struct memobj *mo;
    long r = with_pager(m, &mo);
    if (r)
        return r;
    r = fn(mo, a, b, c);
    object_put(&mo->obj);
    return r;
}

static long requests(struct memobj *mo, uint64_t out, uint64_t max, uint64_t unused)
{
    return pager_requests(mo, out, max);
}

static long supply(struct memobj *mo, uint64_t first, uint64_t buf, uint64_t count)
{
    if (count > MEMOBJ_MAX_SIZE / PAGE_SIZE || !user_range_ok(buf, count * PAGE_SIZE))
        return KS_ERR_FAULT;
    return pager_supply(mo, first, buf, count);
}

static long fail(struct memobj *mo, uint64_t first, uint64_t count, uint64_t unused)
{
    return pager_fail(mo, first, count);
}

long sys_pager_requests(sysarg_t m, sysarg_t out, sysarg_t max) { return on_pager(m, requests, out, max, 0); }
long sys_pager_supply(sysarg_t m, sysarg_t first, sysarg_t buf, sysarg_t count)
{
    return on_pager(m, supply, first, buf, count);
}
long sys_pager_fail(sysarg_t m, sysarg_t first, sysarg_t count) { return on_pager(m, fail, first, count, 0); }

static long dirty(struct memobj *mo, uint64_t first, uint64_t count, uint64_t out)
{
    return pager_dirty(mo, first, count, out);
}

static long writeback(struct memobj *mo, uint64_t index, uint64_t buf, uint64_t unused)
{
    return user_range_ok(buf, PAGE_SIZE) ? pager_writeback(mo, index, buf) : KS_ERR_FAULT;
}

static long evict(struct memobj *mo, uint64_t first, uint64_t count, uint64_t unused)
{
    return pager_evict(mo, first, count);
}

long sys_pager_dirty(sysarg_t m, sysarg_t first, sysarg_t count, sysarg_t out)
{
    return on_pager(m, dirty, first, count, out);
}
long sys_pager_writeback(sysarg_t m, sysarg_t index, sysarg_t buf) { return on_pager(m, writeback, index, buf, 0); }
long sys_pager_evict(sysarg_t m, sysarg_t first, sysarg_t count) { return on_pager(m, evict, first, count, 0); }

static long users(struct memobj *mo, uint64_t flags, uint64_t b, uint64_t c)
{
    if (flags & ~KS_USERS_NOTIFY)
        return KS_ERR_INVALID;
    return pager_users(mo, (flags & KS_USERS_NOTIFY) != 0);
}

long sys_pager_users(sysarg_t m, sysarg_t flags) { return on_pager(m, users, flags, 0, 0); }

static long low_size(struct memobj *mo, uint64_t a, uint64_t b, uint64_t c)
{
    return pager_low_size(mo);
}

long sys_pager_low_size(sysarg_t m) { return on_pager(m, low_size, 0, 0, 0); }

static long accessed(struct memobj *mo, uint64_t first, uint64_t count, uint64_t out)
{
    return pager_accessed_query(mo, first, count & ~KS_ACCESSED_RESET, (count & KS_ACCESSED_RESET) != 0, out);
}

long sys_pager_accessed(sysarg_t m, sysarg_t first, sysarg_t count, sysarg_t out)
{
    return on_pager(m, accessed, first, count, out);
}

static long redirty(struct memobj *mo, uint64_t first, uint64_t count, uint64_t unused)
{
    return pager_redirty(mo, first, count);
}

long sys_pager_redirty(sysarg_t m, sysarg_t first, sysarg_t count) { return on_pager(m, redirty, first, count, 0); }

long sys_pager_supply_from(sysarg_t m, sysarg_t first, sysarg_t src, sysarg_t src_first, sysarg_t count)
{
    struct memobj *mo, *from;
    long r = with_pager(m, &mo);
    if (r)
        return r;
    if ((r = with_memobj(src, KS_RIGHT_READ | KS_RIGHT_WRITE, &from)) == 0) {
        r = pager_supply_from(mo, first, from, src_first, count);
        object_put(&from->obj);
    }
    object_put(&mo->obj);
    return r;
}

#define DMA_RIGHTS (KS_RIGHT_READ | KS_RIGHT_WRITE | KS_RIGHT_MAP | KS_RIGHT_TRANSFER | \
                    KS_RIGHT_DUPLICATE | KS_RIGHT_DMA)

long sys_dma_create(sysarg_t device, sysarg_t size)
{
    struct memobj *dev;
    long r = with_memobj(device, KS_RIGHT_DMA, &dev);
    if (r)
        return r;
    struct memobj *mo = NULL;
    if (!memobj_is_device(dev) || memobj_is_dma(dev) || !dev->reset_reg)
        r = KS_ERR_INVALID;             /* only a device the kernel can stop has DMA memory */
    else if (size == 0 || size > KS_DMA_MAX_SIZE)
        r = KS_ERR_RANGE;
    else if (!(mo = memobj_create_dma(current_process()->acct, size, dev)))
        r = KS_ERR_NO_MEMORY;
    object_put(&dev->obj);
    if (r)
        return r;
    r = sys_install(&mo->obj, DMA_RIGHTS);
    object_put(&mo->obj);
    return r;
}

long sys_dma_addr(sysarg_t m, sysarg_t offset)
{
    struct memobj *mo;
    long r = with_memobj(m, KS_RIGHT_DMA, &mo);
    if (r)
        return r;
    if (!memobj_is_dma(mo))
        r = KS_ERR_INVALID;
    else if (offset >= mo->size)
        r = KS_ERR_RANGE;
    else
        r = (long)(mo->device_pa + offset);
    object_put(&mo->obj);
    return r;
}

long sys_dma_pin(sysarg_t m, sysarg_t src, sysarg_t first, sysarg_t count, sysarg_t pa_out)
{
    uint64_t pa[DMA_PIN_BATCH];
    if (count == 0 || count > DMA_PIN_BATCH)
        return KS_ERR_RANGE;
    if (!user_range_ok(pa_out, count * sizeof pa[0]))
        return KS_ERR_FAULT;
    struct memobj *dma, *mo;
    long r = with_memobj(m, KS_RIGHT_DMA, &dma);
    if (r)
        return r;
    if ((r = with_memobj(src, KS_RIGHT_READ | KS_RIGHT_WRITE, &mo)) != 0) {
        object_put(&dma->obj);
        return r;
    }
    if (!memobj_is_dma(dma))
        r = KS_ERR_INVALID;
    else if ((r = dma_pin(dma, mo, first, count, pa)) > 0 && copy_to_user(pa_out, pa, count * sizeof pa[0])) {
        dma_unpin(dma, pa, count);      /* nobody could learn the addresses */
        r = KS_ERR_FAULT;
    }
    object_put(&mo->obj);
    object_put(&dma->obj);
    return r;
}

long sys_dma_unpin(sysarg_t m, sysarg_t pa_in, sysarg_t count)
{
    uint64_t pa[DMA_PIN_BATCH];
    if (count > DMA_PIN_BATCH)
        return KS_ERR_RANGE;
    if (copy_from_user(pa, pa_in, count * sizeof pa[0]))
        return KS_ERR_FAULT;
    struct memobj *dma;
    long r = with_memobj(m, KS_RIGHT_DMA, &dma);
    if (r)
        return r;
    r = memobj_is_dma(dma) ? dma_unpin(dma, pa, count) : KS_ERR_INVALID;
    object_put(&dma->obj);
    return r;
}

/*
 * A copy longer than LONG_COPY goes through memobj_read_long/write_long,
 * which let interrupts in between pages (the caller holds a reference on the
 * memobj); a shorter one is one memobj_read/write, as fast as it can be.
 */
#define LONG_COPY (64ul << 10)

static long memobj_copy_once(int reading, struct memobj *mo, uint64_t off, uintptr_t buf, uint64_t len)
{
    if (len > LONG_COPY)
        return reading ? memobj_read_long(mo, off, buf, len) : memobj_write_long(mo, off, buf, len);
    return reading ? memobj_read(mo, off, buf, len) : memobj_write(mo, off, buf, len);
}

/* 1 if a copy that stopped at byte off of mo stopped for a page its pager has not supplied. */
static int stopped_for_pager(int reading, const struct memobj *mo, uint64_t off)
{
    return (!reading || off < mo->size) && pager_backs(mo, off >> PAGE_SHIFT) &&
           !memobj_lookup((struct memobj *)mo, off >> PAGE_SHIFT);
}

/*
 * The rest of a copy that stopped short (r: what memobj_copy_once gave) for a
 * page some pager has not supplied: the memobj's own (KS_ERR_PAGER_WAIT, or
 * a short count at a missing page) or the user buffer's (uaccess_missed: a
 * file mapping). The caller holds a reference on mo and nothing uncounted, so
 * this waits for each such page and goes on: a read or write is as long as
 * for any memobj.
 */
static __attribute__((noinline)) long memobj_copy_slow(int reading, struct memobj *mo, uint64_t off, uintptr_t buf,
                                                       uint64_t len, long r)
{
    uint64_t done = 0;
    for (;;) {
        if (r > 0)
            done += (uint64_t)r;
        if (done >= len)
            break;
        long w;
        if (r == KS_ERR_PAGER_WAIT)
            w = pager_wait(mo, (off + done) >> PAGE_SHIFT);
        else if (uaccess_missed())
            w = uaccess_pager_wait();
        else if (r > 0 && stopped_for_pager(reading, mo, off + done))
            w = 0;                      /* the next try asks for it */
        else
            break;                      /* the end of the memobj, or a fault in the buffer */
        if (w)
            return done ? (long)done : w;
        r = memobj_copy_once(reading, mo, off + done, buf + done, len - done);
    }
    return done ? (long)done : (r < 0 ? r : 0);
}

/* A copy: one memobj_read/write unless a page of the memobj or of the buffer is missing. */
static inline long memobj_copy(int reading, struct memobj *mo, uint64_t off, uintptr_t buf, uint64_t len)
{
    long r = memobj_copy_once(reading, mo, off, buf, len);
    if (__builtin_expect(r != (long)len, 0) && (mo->pager || uaccess_missed()))
        return memobj_copy_slow(reading, mo, off, buf, len, r);
    return r;
}

long sys_memobj_read(sysarg_t m, sysarg_t off, sysarg_t buf, sysarg_t len)
{
    struct memobj *mo;
    long r = with_memobj(m, KS_RIGHT_READ, &mo);
    if (r)
        return r;
    r = memobj_copy(1, mo, off, buf, len);
    object_put(&mo->obj);
    return r;
}

long sys_memobj_write(sysarg_t m, sysarg_t off, sysarg_t buf, sysarg_t len)
{
    struct memobj *mo;
    long r = with_memobj(m, KS_RIGHT_WRITE, &mo);
    if (r)
        return r;
    r = memobj_copy(0, mo, off, buf, len);
    object_put(&mo->obj);
    return r;
}

long sys_memobj_truncate(sysarg_t m, sysarg_t size)
{
    struct memobj *mo;
    long r = with_memobj(m, KS_RIGHT_WRITE, &mo);
    if (r)
        return r;
    sched_long_begin();
    r = memobj_truncate(mo, size);
    object_put(&mo->obj);
    sched_long_end();
    return r;
}

long sys_memobj_size(sysarg_t m)
{
    struct memobj *mo;
    long r = with_memobj(m, KS_RIGHT_READ, &mo);
    if (r)
        return r;
    r = (long)mo->size;
    object_put(&mo->obj);
    return r;
}

/* KS_SYS_MEMOBJ_STAT's answer for mo. */
static inline struct ks_memobj_stat memobj_stat_of(const struct memobj *mo)
{
    return (struct ks_memobj_stat){ mo->size, mo->changed ? clock_time_to_ns(mo->changed) : 0 };
}

/* sys_memobj_stat with a reference, for the copy that may wait, and with the reason for a refusal. */
static __attribute__((noinline)) long memobj_stat_slow(sysarg_t m, sysarg_t out, sysarg_t flags)
{
    struct memobj *mo;
    uaccess_miss_forget();              /* (the quick copy's note, if it stopped at a pager's page) */
    if (flags & ~(sysarg_t)KS_MEMOBJ_STAT_CLEAR)
        return KS_ERR_INVALID;
    long r = with_memobj(m, flags ? KS_RIGHT_READ | KS_RIGHT_WRITE : KS_RIGHT_READ, &mo);
    if (r)
        return r;
    uint64_t changed = mo->changed;
    struct ks_memobj_stat st = memobj_stat_of(mo);
    r = copy_to_user(out, &st, sizeof st);
    if (r == 0 && flags && mo->changed == changed)
        mo->changed = 0;        /* (a change made while the copy waited for a page stays) */
    object_put(&mo->obj);
    return r;
}

/*
 * fsd asks at every stat of an open file, so the common case takes the handle
 * without a reference (handle_peek) and copies with a copy that never waits;
 * anything else starts again in memobj_stat_slow.
 */
long sys_memobj_stat(sysarg_t m, sysarg_t out, sysarg_t flags)
{
    uint32_t rights = flags ? KS_RIGHT_READ | KS_RIGHT_WRITE : KS_RIGHT_READ;
    struct object *o = flags <= KS_MEMOBJ_STAT_CLEAR && m <= INT32_MAX ?
                       handle_peek(current_process()->handles, (ks_handle_t)m, KS_OBJ_MEMOBJ, rights) : NULL;
    if (!o)
        return memobj_stat_slow(m, out, flags);
    struct memobj *mo = (struct memobj *)((char *)o - __builtin_offsetof(struct memobj, obj));
    struct ks_memobj_stat st = memobj_stat_of(mo);
    if (copy_to_user_nowait(out, &st, sizeof st))
        return memobj_stat_slow(m, out, flags);
    if (flags)
        mo->changed = 0;
    return 0;
}

/* The target process's address space, with a reference on the process. */
static long with_vm(sysarg_t proc, struct process **p)
{
    struct object *o;
    long r = sys_lookup(proc, KS_OBJ_PROCESS, KS_RIGHT_MANAGE, &o, NULL);
    if (r)
        return r;
    *p = process_from_object(o);
    if ((*p)->state == PROCESS_DEAD || !(*p)->vm) {
        object_put(o);
        return KS_ERR_BAD_STATE;
    }
    return 0;
}

/*
 * The most a mapping made through a handle with `rights` may ever allow:
 * any mapping needs READ (a writable page is readable too), executing needs
 * EXECUTE, writing a shared mapping WRITE (a private mapping's writes stay
 * private, so READ is enough).
 */
static uint32_t max_prot_for(uint32_t rights, uint64_t flags)
{
    if (!(rights & KS_RIGHT_READ))
        return 0;               /* Sv48 has no write-only pages: every mapping can be read */
    uint32_t max = KS_PROT_READ;
    if (rights & KS_RIGHT_EXECUTE)
        max |= KS_PROT_EXEC;
    if ((flags & KS_MAP_PRIVATE) || (rights & KS_RIGHT_WRITE))
        max |= KS_PROT_WRITE;
    return max;
}

/* The memobj rights a mapping with these flags needs. */
static uint32_t map_rights(uint64_t flags)
{
    uint32_t need = KS_RIGHT_MAP;
    if (flags & (KS_PROT_READ | KS_PROT_WRITE | KS_PROT_EXEC))
        need |= KS_RIGHT_READ;
    if (flags & KS_PROT_EXEC)
        need |= KS_RIGHT_EXECUTE;
    if ((flags & KS_PROT_WRITE) && (flags & KS_MAP_SHARED))
        need |= KS_RIGHT_WRITE;
    return need;
}

long sys_vm_map(sysarg_t proc, sysarg_t m, sysarg_t off, sysarg_t addr, sysarg_t len, sysarg_t flags)
{
    if (flags > UINT32_MAX)
        return KS_ERR_INVALID;
    struct process *p;
    long r = with_vm(proc, &p);
    if (r)
        return r;
    struct memobj *mo;
    uint32_t have;
    if ((r = with_memobj_rights(m, map_rights(flags), &mo, &have)) == 0) {
        r = vm_map(p->vm, mo, off, addr, len, (uint32_t)flags, max_prot_for(have, flags));
        object_put(&mo->obj);
    }
    object_put(&p->obj);
    return r;
}

long sys_vm_unmap(sysarg_t proc, sysarg_t addr, sysarg_t len)
{
    struct process *p;
    long r = with_vm(proc, &p);
    if (r)
        return r;
    sched_long_begin();
    r = vm_unmap(p->vm, addr, len);
    object_put(&p->obj);
    sched_long_end();
    return r;
}

long sys_vm_protect(sysarg_t proc, sysarg_t addr, sysarg_t len, sysarg_t prot)
{
    if (prot > UINT32_MAX)
        return KS_ERR_INVALID;
    struct process *p;
    long r = with_vm(proc, &p);
    if (r)
        return r;
    r = vm_protect(p->vm, addr, len, (uint32_t)prot);
    object_put(&p->obj);
    return r;
}

long sys_vm_sync(sysarg_t proc, sysarg_t addr, sysarg_t len)
{
    struct process *p;
    long r = with_vm(proc, &p);
    if (r)
        return r;
    r = vm_sync(p->vm, addr, len);
    object_put(&p->obj);
    return r;
}

long sys_view_create(sysarg_t m, sysarg_t rights)
{
    if (rights & ~(uint64_t)VIEW_RIGHTS)
        return KS_ERR_INVALID;
    struct memobj *mo;
    long r = with_memobj(m, (uint32_t)rights, &mo);     /* a view never has more than its memobj handle */
    if (r)
        return r;
    struct view *v;
    if (memobj_is_device(mo)) {
        r = KS_ERR_INVALID;             /* device registers are not a file */
    } else if (!(v = view_create(current_process()->acct, mo))) {
        r = KS_ERR_NO_MEMORY;
    } else {
        r = sys_install(&v->obj, (uint32_t)rights);
        object_put(&v->obj);
    }
    object_put(&mo->obj);
    return r;
}

static long with_view(sysarg_t h, uint32_t rights, struct view **v)
{
    struct object *o;
    long r = sys_lookup(h, KS_OBJ_VIEW, rights, &o, NULL);
    if (r == 0)
        *v = view_from_object(o);
    return r;
}

/*
 * Views are how musl_emu reads and writes files, one system call per read()
 * or write(), so these two take the handle without a reference (handle_peek:
 * memobj_read/write never block) and leave the full lookup to the error case.
 */
static inline __attribute__((always_inline)) struct view *view_peek(sysarg_t h, uint32_t rights)
{
    struct object *o = h <= INT32_MAX ? handle_peek(current_process()->handles, (ks_handle_t)h,
                                                    KS_OBJ_VIEW, rights) : NULL;
    /* handle_peek checked the type: no second check (OBJECT_CAST) needed */
    return o ? (struct view *)((char *)o - __builtin_offsetof(struct view, obj)) : NULL;
}

/* Why h is not a view with `rights` (KS_ERR_BAD_HANDLE, WRONG_TYPE or ACCESS). */
static long view_error(sysarg_t h, uint32_t rights)
{
    struct view *v;
    long r = with_view(h, rights, &v);
    if (r == 0) {               /* a pseudo-handle is never a view; but be exact */
        object_put(&v->obj);
        r = KS_ERR_WRONG_TYPE;
    }
    return r;
}

/*
 * A long read or write through a view (see memobj_copy): with a reference on
 * the view, and so on its memobj, for as long as it lasts, since another
 * thread may close the handle while this one waits at a page boundary.
 */
static __attribute__((noinline)) long view_copy_long(int reading, sysarg_t h, uintptr_t buf, uint64_t len)
{
    struct view *v;
    long r = with_view(h, reading ? KS_RIGHT_READ : KS_RIGHT_WRITE, &v);
    if (r)
        return r;
    r = memobj_copy(reading, v->mo, v->pos, buf, len);
    if (r > 0)
        v->pos += (uint64_t)r;
    object_put(&v->obj);
    return r;
}

/* A view write into a paged memobj that stopped after r bytes: the rest with a reference. */
static __attribute__((noinline)) long view_write_paged(struct view *v, sysarg_t h, uintptr_t buf, uint64_t len,
                                                       long r)
{
    if (r > 0)
        v->pos += (uint64_t)r;
    long rest = view_copy_long(0, h, buf + (r > 0 ? (uint64_t)r : 0), len - (r > 0 ? (uint64_t)r : 0));
    return r > 0 ? (rest > 0 ? r + rest : r) : rest;
}

long sys_view_read(sysarg_t h, sysarg_t buf, sysarg_t len)
{
    if (len > LONG_COPY)
        return view_copy_long(1, h, buf, len);
    struct view *v = view_peek(h, KS_RIGHT_READ);
    if (!v)
        return view_error(h, KS_RIGHT_READ);
    long r = memobj_read(v->mo, v->pos, buf, len);
    if (__builtin_expect(r != (long)len, 0) && (v->mo->pager || uaccess_missed()))
        return view_copy_long(1, h, buf, len);  /* a page to wait for: start again, with a reference */
    if (r > 0)
        v->pos += (uint64_t)r;
    return r;
}

long sys_view_write(sysarg_t h, sysarg_t buf, sysarg_t len)
{
    if (len > LONG_COPY)
        return view_copy_long(0, h, buf, len);
    struct view *v = view_peek(h, KS_RIGHT_WRITE);
    if (!v)
        return view_error(h, KS_RIGHT_WRITE);
    long r = memobj_write(v->mo, v->pos, buf, len);
    if (__builtin_expect(r != (long)len, 0) && (v->mo->pager || uaccess_missed()))
        return view_write_paged(v, h, buf, len, r);
    if (r > 0)
        v->pos += (uint64_t)r;
    return r;
}

/*
 * A handle to view h's memobj with h's rights (KS_SYS_VIEW_MEMOBJ). No right
 * is needed: the view's rights were the memobj handle's at most when it was
 * made (sys_view_create), so the new handle gives nothing the maker did not.
 */
long sys_view_memobj(sysarg_t h)
{
    struct object *o;
    uint32_t have;
    long r = sys_lookup(h, KS_OBJ_VIEW, 0, &o, &have);
    if (r)
        return r;
    r = sys_install(&view_from_object(o)->mo->obj, have);
    object_put(o);
    return r;
}

long sys_view_seek(sysarg_t h, sysarg_t off, sysarg_t whence)
{
    struct view *v;
    uint32_t have;
    struct object *o;
    long r = sys_lookup(h, KS_OBJ_VIEW, 0, &o, &have);
    if (r)
        return r;
    v = view_from_object(o);
    if (!(have & (KS_RIGHT_READ | KS_RIGHT_WRITE))) {     /* SEEK_END would tell the size */
        object_put(o);
        return KS_ERR_ACCESS;
    }
    int64_t base = whence == KS_SEEK_SET ? 0 : whence == KS_SEEK_CUR ? (int64_t)v->pos
                 : whence == KS_SEEK_END ? (int64_t)v->mo->size : -1;
    int64_t delta = (int64_t)off, pos;
    if (base < 0)
        r = KS_ERR_INVALID;
    else if (__builtin_add_overflow(base, delta, &pos) || pos < 0)
        r = KS_ERR_INVALID;
    else if ((uint64_t)pos > MEMOBJ_MAX_SIZE)
        r = KS_ERR_RANGE;
    else
        r = (long)(v->pos = (uint64_t)pos);
    object_put(&v->obj);
    return r;
}
