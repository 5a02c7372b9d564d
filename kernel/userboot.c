/*
 * kernel/userboot.c - the kernel's ELF loader, used for init only.
 *
 * init gets: its segments mapped copy-on-write from the boot image memobj, a
 * 1 MiB stack below KS_STACK_TOP with argv/envp/auxv laid out as on Linux, and
 * in its auxiliary vector KS_AT_BOOTIMAGE, a handle to the boot image, and the
 * KS_AT_CONSOLE_* entries: handles to the console UART's device memobj and
 * interrupt, and where its registers lie. It loads everything else itself
 * (user/lib/loader.c). Both follow the loading plan in kernel/elf.c
 * (elf_spawn_find, elf_spawn_map); this file gives it the kernel's ops: the
 * embedded image's bytes, vm_map and memobjs.
 */
#include <kestrel/bootimg.h>
#include <kestrel/errors.h>
#include <kestrel/layout.h>
#include <kestrel/syscall.h>
#include "elf.h"
#include "memobj.h"
#include "page_alloc.h"
#include "panic.h"
#include "process.h"
#include "random.h"
#include "string.h"
#include "thread.h"
#include "userboot.h"
#include "vm.h"

extern const uint8_t bootimage_start[], bootimage_end[];

#define MAX_ARGS 16

struct loader {
    struct process *proc;
    struct memobj *image;       /* the boot image: a memobj holding the embedded image's own pages */
};

static int image_size(void *ctx, uint64_t *size)
{
    *size = (uint64_t)(bootimage_end - bootimage_start);
    return 0;
}

static int read_image(void *ctx, uint64_t off, void *buf, uint64_t len)
{
    uint64_t size = (uint64_t)(bootimage_end - bootimage_start);
    if (off > size || len > size - off)
        return ELF_ERR_TRUNCATED;
    memcpy(buf, bootimage_start + off, len);
    return 0;
}

static int map_file(void *ctx, uint64_t vaddr, uint64_t image_off, uint64_t len, uint32_t prot)
{
    struct loader *l = ctx;
    long r = vm_map(l->proc->vm, l->image, image_off, vaddr, len, prot | KS_MAP_PRIVATE | KS_MAP_FIXED,
                    VM_PROT_ALL);
    return r < 0 ? (int)r : 0;
}

/* A fresh memobj of len bytes with `data` (data_len bytes) at offset `at`, mapped at vaddr. */
static int map_fresh(struct loader *l, uint64_t vaddr, uint64_t len, uint32_t prot, uint64_t at,
                     const void *data, uint64_t data_len)
{
    struct memobj *mo = memobj_create(l->proc->acct, len);
    if (!mo)
        return KS_ERR_NO_MEMORY;
    long r = data_len ? memobj_fill(mo, at, data, data_len) : 0;
    if (r == 0)
        r = vm_map(l->proc->vm, mo, 0, vaddr, len, prot | KS_MAP_PRIVATE | KS_MAP_FIXED, VM_PROT_ALL);
    object_put(&mo->obj);
    return r < 0 ? (int)r : 0;
}

static int map_anon(void *ctx, uint64_t vaddr, uint64_t len, uint32_t prot, uint64_t image_off,
                    uint64_t data_len)
{
    return map_fresh(ctx, vaddr, len, prot, 0, bootimage_start + image_off, data_len);
}

static int map_stack(void *ctx, const uint8_t *data, uint64_t len)
{
    return map_fresh(ctx, KS_STACK_TOP - KS_STACK_SIZE, KS_STACK_SIZE, KS_PROT_READ | KS_PROT_WRITE,
                     KS_STACK_SIZE - len, data, len);
}

static const struct elf_spawn_ops ops = { read_image, image_size, map_file, map_anon, map_stack };

/* A handle in init's table for o with `rights`; KS_HANDLE_NONE if o is NULL. */
static ks_handle_t give(struct process *p, struct object *o, uint32_t rights)
{
    if (!o)
        return KS_HANDLE_NONE;
    ks_handle_t h = handle_install(p->handles, o, rights);
    if (h < 0)
        panic("userboot: no handle slot for init");
    return h;
}

/* init's argv from the bootargs: "init", then each word (at most MAX_ARGS). */
static void split_args(const char *args, const char *argv[MAX_ARGS + 2])
{
    static char argbuf[256];
    int argc = 1;
    size_t n = strlen(args) < sizeof argbuf - 1 ? strlen(args) : sizeof argbuf - 1;
    memcpy(argbuf, args, n);
    argbuf[n] = '\0';
    argv[0] = "init";
    for (char *s = argbuf; *s && argc <= MAX_ARGS;) {
        while (*s == ' ')
            *s++ = '\0';
        if (!*s)
            break;
        argv[argc++] = s;
        while (*s && *s != ' ')
            s++;
    }
    argv[argc] = NULL;
}

/* The KS_AT_DEVICE_* entries of the ndev devices, in out (3 each); how many entries. */
static int device_auxv(struct process *p, const struct userboot_device *devs, int ndev, struct elf_auxv *out)
{
    int n = 0;
    for (int i = 0; i < ndev && i < KS_DEVICE_MAX; i++) {
        out[n++] = (struct elf_auxv){ KS_AT_DEVICE_MMIO(i), (uint64_t)give(p, devs[i].mmio,
            KS_RIGHT_READ | KS_RIGHT_WRITE | KS_RIGHT_MAP | KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE | KS_RIGHT_DMA) };
        out[n++] = (struct elf_auxv){ KS_AT_DEVICE_IRQ(i), (uint64_t)give(p, devs[i].irq,
            KS_RIGHT_READ | KS_RIGHT_MANAGE | KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE) };
        out[n++] = (struct elf_auxv){ KS_AT_DEVICE_ID(i), devs[i].virtio_id };
    }
    return n;
}

struct process *userboot_start_init(const char *args, const struct userboot_console *con,
                                    const struct userboot_device *devs, int ndev)
{
    struct elf_spawn sp = { .page = page_alloc(0) };
    if (!sp.page)
        panic("userboot: out of memory");
    random_bytes(sp.at_random, sizeof sp.at_random);
    int err = elf_spawn_find(&ops, NULL, "init", &sp);
    if (err)
        panic("userboot: init: %s", elf_strerror(err));
    struct loader l = { NULL, memobj_create(NULL, 0) };
    if (process_create("init", 0, NULL, &l.proc) != 0 || !l.image)
        panic("userboot: out of memory");
    if (memobj_adopt(l.image, bootimage_start, (uint64_t)(bootimage_end - bootimage_start)) != 0)
        panic("userboot: cannot give the boot image's pages to its memobj");
    const char *argv[MAX_ARGS + 2];
    split_args(args, argv);
    struct elf_auxv extra[5 + 3 * KS_DEVICE_MAX] = {
        { KS_AT_BOOTIMAGE, (uint64_t)give(l.proc, &l.image->obj, KS_RIGHT_READ | KS_RIGHT_MAP |
                                          KS_RIGHT_EXECUTE | KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE) },
        { KS_AT_CONSOLE_MMIO, (uint64_t)give(l.proc, con->mmio, KS_RIGHT_READ | KS_RIGHT_WRITE |
                                             KS_RIGHT_MAP | KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE) },
        { KS_AT_CONSOLE_IRQ, (uint64_t)give(l.proc, con->irq, KS_RIGHT_READ | KS_RIGHT_MANAGE |
                                            KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE) },
        { KS_AT_CONSOLE_REG_OFFSET, con->reg_offset },
        { KS_AT_CONSOLE_REG_SHIFT, con->reg_shift },
    };
    int nextra = 5 + device_auxv(l.proc, devs, ndev, extra + 5);
    if ((err = elf_spawn_map(&ops, &l, &sp, argv, extra, (size_t)nextra)) != 0)
        panic("userboot: cannot map init: %s (%d)", elf_strerror(err), err);
    object_put(&l.image->obj);
    page_free(sp.page, 0);
    struct thread *t;
    if (thread_create_user(l.proc, sp.img.entry, sp.sp, 0, &t) != 0)
        panic("userboot: out of memory for init's thread");
    thread_start_running(t);
    return l.proc;
}
