/*
 * kernel/userboot.c - the kernel's ELF loader, used for init only.
 *
 * init gets: its segments mapped copy-on-write from the boot image memobj, a
 * 1 MiB stack below KS_STACK_TOP with argv/envp/auxv laid out as on Linux, and
 * in its auxiliary vector KS_AT_BOOTIMAGE, a handle to the boot image, and the
 * KS_AT_CONSOLE_* entries: handles to the console UART's device memobj and
 * interrupt, and where its registers lie. It loads everything else itself
 * (user/lib/loader.c), with the same elf.c.
 */
#include <kestrel/bootimg.h>
#include <kestrel/layout.h>
#include <kestrel/syscall.h>
#include "elf.h"
#include "memobj.h"
#include "page_alloc.h"
#include "panic.h"
#include "process.h"
#include "string.h"
#include "thread.h"
#include "userboot.h"
#include "vm.h"

extern const uint8_t bootimage_start[], bootimage_end[];

#define MAX_ARGS 16

struct loader {
    struct process *proc;
    struct memobj *image;       /* the boot image */
    uint64_t file_base;         /* offset of init's file in the image */
};

static int map_file(void *ctx, uint64_t vaddr, uint64_t file_off, uint64_t len, uint32_t prot)
{
    struct loader *l = ctx;
    long r = vm_map(l->proc->vm, l->image, l->file_base + file_off, vaddr, len,
                    prot | KS_MAP_PRIVATE | KS_MAP_FIXED, VM_PROT_ALL);
    return r < 0 ? (int)r : 0;
}

static int map_anon(void *ctx, uint64_t vaddr, uint64_t len, uint32_t prot, uint64_t file_off,
                    uint64_t data_len)
{
    struct loader *l = ctx;
    struct memobj *mo = memobj_create(len);
    if (!mo)
        return -1;
    if (data_len)
        if (memobj_fill(mo, 0, bootimage_start + l->file_base + file_off, data_len) != 0)
            panic("userboot: out of memory loading init");
    long r = vm_map(l->proc->vm, mo, 0, vaddr, len, prot | KS_MAP_PRIVATE | KS_MAP_FIXED, VM_PROT_ALL);
    object_put(&mo->obj);
    return r < 0 ? (int)r : 0;
}

static const struct ks_bootimg_entry *find_file(const char *name)
{
    const struct ks_bootimg_header *h = (const void *)bootimage_start;
    uint64_t size = (uint64_t)(bootimage_end - bootimage_start);
    if (size < sizeof *h || memcmp(h->magic, KS_BOOTIMG_MAGIC, 8) != 0 ||
        h->count > (size - sizeof *h) / sizeof(struct ks_bootimg_entry))
        panic("userboot: the embedded boot image is malformed");
    const struct ks_bootimg_entry *e = (const void *)(h + 1);
    for (uint32_t i = 0; i < h->count; i++)
        if (strncmp(e[i].name, name, sizeof e[i].name) == 0) {
            if (e[i].offset > size || e[i].size > size - e[i].offset || e[i].offset % PAGE_SIZE)
                panic("userboot: boot image entry %s is out of bounds", name);
            return &e[i];
        }
    panic("userboot: no %s in the boot image", name);
}

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

/* Build init's stack in a fresh memobj and map it. Returns the initial sp. */
static uint64_t setup_stack(struct process *p, const char *args, const struct elf_image *img,
                            ks_handle_t image, const struct userboot_console *con)
{
    static char argbuf[256];
    const char *argv[MAX_ARGS + 2] = { "init" };
    int argc = 1;
    size_t n = strlen(args) < sizeof argbuf - 1 ? strlen(args) : sizeof argbuf - 1;
    memcpy(argbuf, args, n);
    argbuf[n] = '\0';
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

    struct memobj *stack = memobj_create(KS_STACK_SIZE);
    uint8_t *top_page = stack ? memobj_page(stack, KS_STACK_SIZE / PAGE_SIZE - 1, 1) : NULL;
    if (!top_page)
        panic("userboot: out of memory for init's stack");
    const struct elf_auxv aux[] = {
        { AT_PAGESZ, PAGE_SIZE },
        { AT_ENTRY, img->entry },
        { KS_AT_BOOTIMAGE, (uint64_t)image },
        { KS_AT_CONSOLE_MMIO, (uint64_t)give(p, con->mmio, KS_RIGHT_READ | KS_RIGHT_WRITE | KS_RIGHT_MAP |
                                                           KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE) },
        { KS_AT_CONSOLE_IRQ, (uint64_t)give(p, con->irq, KS_RIGHT_READ | KS_RIGHT_MANAGE |
                                                         KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE) },
        { KS_AT_CONSOLE_REG_OFFSET, con->reg_offset },
        { KS_AT_CONSOLE_REG_SHIFT, con->reg_shift },
        { AT_PHENT, 56 },
        { AT_PHNUM, img->phnum },
        { AT_PHDR, img->phdr_vaddr },   /* last: left out when 0 */
    };
    unsigned naux = sizeof aux / sizeof aux[0] - (img->phdr_vaddr == 0);
    uint64_t sp = elf_build_stack(top_page, PAGE_SIZE, KS_STACK_TOP, argv, NULL, aux, naux);
    if (!sp)
        panic("userboot: init's arguments do not fit in a page");
    if (vm_map(p->vm, stack, 0, KS_STACK_TOP - KS_STACK_SIZE, KS_STACK_SIZE,
               KS_PROT_READ | KS_PROT_WRITE | KS_MAP_PRIVATE | KS_MAP_FIXED, VM_PROT_ALL) < 0)
        panic("userboot: cannot map init's stack");
    object_put(&stack->obj);
    return sp;
}

struct process *userboot_start_init(const char *args, const struct userboot_console *console)
{
    const struct ks_bootimg_entry *file = find_file("init");
    struct elf_image img;
    int err = elf_parse(bootimage_start + file->offset, file->size, file->size, &img);
    if (err)
        panic("userboot: init: %s", elf_strerror(err));

    uint64_t image_size = (uint64_t)(bootimage_end - bootimage_start);
    struct memobj *image = memobj_create(0);
    struct process *p = process_create("init", 0);
    if (!image || !p)
        panic("userboot: out of memory");
    if (memobj_fill(image, 0, bootimage_start, image_size) != 0)
        panic("userboot: out of memory copying the boot image");

    struct loader l = { p, image, file->offset };
    static const struct elf_load_ops ops = { map_file, map_anon };
    if ((err = elf_load(&img, &ops, &l)) != 0)
        panic("userboot: cannot map init (%d)", err);

    ks_handle_t h = give(p, &image->obj, KS_RIGHT_READ | KS_RIGHT_MAP | KS_RIGHT_EXECUTE |
                                          KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE);
    object_put(&image->obj);
    uint64_t sp = setup_stack(p, args, &img, h, console);
    struct thread *t = thread_create_user(p, img.entry, sp, 0);
    if (!t)
        panic("userboot: out of memory for init's thread");
    thread_start_running(t);
    return p;
}
