/*
 * musl_emu/mem.c - memory: brk, mmap (anonymous, or a file's memobj), munmap and
 * mprotect, on memobjs and vm_map. See internal.h.
 */
#include "musl_emu/internal.h"

static uint32_t ks_prot(long prot)
{
    return (prot & PROT_READ ? KS_PROT_READ : 0) | (prot & PROT_WRITE ? KS_PROT_WRITE : 0) |
           (prot & PROT_EXEC ? KS_PROT_EXEC : 0);
}

#define PAGE_UP(x) (((x) + KS_PAGE_SIZE - 1) & ~(uintptr_t)(KS_PAGE_SIZE - 1))

/* Map a fresh zero-filled memobj of len bytes at addr with KS_PROT_*|KS_MAP_* flags: the address, or KS_ERR_*. */
static long map_anon(uintptr_t addr, size_t len, uint32_t flags)
{
    long mo = ks_memobj_create(len);
    if (mo < 0)
        return mo;
    long r = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)mo, 0, addr, len, flags);
    ks_handle_close((ks_handle_t)mo);
    return r;
}

/*
 * brk: the heap starts at the first page after the program's bss (_end) and
 * grows by fresh mappings; it fails (returns the old break) once something
 * else is mapped in the way or it would pass BRK_MAX.
 */
extern char _end[];

long sys_brk(uintptr_t want)
{
    if (!emu.brk_base)
        emu.brk_base = emu.brk_cur = emu.brk_mapped = PAGE_UP((uintptr_t)_end);
    if (want < emu.brk_base || want - emu.brk_base > BRK_MAX)
        return (long)emu.brk_cur;
    uintptr_t need = PAGE_UP(want);
    if (need > emu.brk_mapped) {
        long r = map_anon(emu.brk_mapped, need - emu.brk_mapped,
                          KS_PROT_READ | KS_PROT_WRITE | KS_MAP_PRIVATE | KS_MAP_FIXED);
        if (r < 0)
            return (long)emu.brk_cur;
        emu.brk_mapped = need;
    } else if (need < emu.brk_mapped) {
        ks_vm_unmap(KS_PROCESS_SELF, need, emu.brk_mapped - need);
        emu.brk_mapped = need;
    }
    emu.brk_cur = want;
    return (long)want;
}

long sys_mmap(uintptr_t addr, size_t len, long prot, long flags, long fd, long off)
{
    if (len == 0 || (off & (KS_PAGE_SIZE - 1)) || (addr & (KS_PAGE_SIZE - 1)))
        return -EINVAL;
    int type = (int)(flags & MAP_TYPE);
    if (type != MAP_SHARED && type != MAP_PRIVATE)
        return -EINVAL;
    len = PAGE_UP(len);
    uint32_t kflags = ks_prot(prot) | (type == MAP_SHARED ? KS_MAP_SHARED : KS_MAP_PRIVATE);
    struct fd slot, *f = NULL;
    long m = 0;
    if (!(flags & MAP_ANONYMOUS)) {     /* checked before MAP_FIXED unmaps anything */
        if (!fd_get(fd, &slot))
            return -EBADF;
        f = &slot;
        if (f->kind != FD_FILE)
            return -ENODEV;
        if (type == MAP_SHARED && (prot & PROT_WRITE) && (f->flags & O_ACCMODE) == O_RDONLY)
            return -EACCES;
        if ((m = fd_memobj(fd, f)) < 0)
            return m;
    }
    if (flags & MAP_FIXED) {
        ks_vm_unmap(KS_PROCESS_SELF, addr, len);    /* Linux replaces what was there */
        kflags |= KS_MAP_FIXED;
    }
    long r;
    if (!f) {
        r = map_anon(addr, len, kflags);
    } else {
        r = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, (uint64_t)off, addr, len, kflags);
        if (r == KS_ERR_ACCESS)
            return -EACCES;
    }
    return ret_or_err(r);
}

long sys_munmap(uintptr_t addr, size_t len)
{
    if (addr & (KS_PAGE_SIZE - 1))
        return -EINVAL;
    return ret_or_err(ks_vm_unmap(KS_PROCESS_SELF, addr, PAGE_UP(len)));
}

/*
 * msync: a file's memobj is the file, so its bytes need no copying back; a
 * store through a shared writable mapping of it dates the file's change here
 * (KS_SYS_VM_SYNC), and MS_SYNC also writes the disk's files back, as fsync.
 */
long sys_msync(uintptr_t addr, size_t len, long flags)
{
    if ((addr & (KS_PAGE_SIZE - 1)) || (flags & ~(long)(MS_ASYNC | MS_SYNC | MS_INVALIDATE)) ||
        ((flags & MS_ASYNC) && (flags & MS_SYNC)))
        return -EINVAL;
    if (len == 0)
        return 0;
    long r = ks_vm_sync(KS_PROCESS_SELF, addr, PAGE_UP(len));
    if (r < 0)
        return r == KS_ERR_RANGE || r == KS_ERR_INVALID ? -ENOMEM : ret_or_err(r);
    return (flags & MS_SYNC) ? fs_sync() : 0;
}

long sys_mprotect(uintptr_t addr, size_t len, long prot)
{
    if (addr & (KS_PAGE_SIZE - 1))
        return -EINVAL;
    if (len == 0)
        return 0;               /* (as Linux: nothing to change) */
    long r = ks_vm_protect(KS_PROCESS_SELF, addr, PAGE_UP(len), ks_prot(prot));
    if (r == KS_ERR_RANGE || (r == KS_ERR_INVALID && PAGE_UP(len) == 0))
        return -ENOMEM;         /* not all mapped, or past the address space: Linux's error */
    return r == KS_ERR_ACCESS ? -EACCES : ret_or_err(r);
}

