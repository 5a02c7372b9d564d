/*
 * user/lib/loader.c - init's ELF loader: start a program from the boot image in
 * a new process, entirely through system calls.
 *
 * It parses with the kernel's own kernel/elf.c and maps the same way the
 * kernel's loader for init does (kernel/userboot.c): whole file pages
 * copy-on-write from the boot image memobj, the rest from a fresh memobj.
 */
#include <kestrel/bootimg.h>
#include "kernel/elf.h"
#include "kernel/string.h"
#include "user/lib/ks.h"
#include "user/lib/loader.h"

struct spawn {
    ks_handle_t proc, image;
    uint64_t file_base, file_size;
};

static int map_file(void *ctx, uint64_t vaddr, uint64_t file_off, uint64_t len, uint32_t prot)
{
    struct spawn *s = ctx;
    long r = ks_vm_map(s->proc, s->image, s->file_base + file_off, vaddr, len,
                       prot | KS_MAP_PRIVATE | KS_MAP_FIXED);
    return r < 0 ? (int)r : 0;
}

static int map_anon(void *ctx, uint64_t vaddr, uint64_t len, uint32_t prot, uint64_t file_off,
                    uint64_t data_len)
{
    static uint8_t page[KS_PAGE_SIZE];
    struct spawn *s = ctx;
    long mo = ks_memobj_create(len), r = mo;
    if (mo < 0)
        return (int)mo;
    if (data_len) {     /* at most the one page where the file data ends */
        if (data_len > sizeof page || file_off > s->file_size || data_len > s->file_size - file_off)
            r = ELF_ERR_SEGMENT;
        else if ((r = ks_memobj_read(s->image, s->file_base + file_off, page, data_len)) >= 0)
            r = ks_memobj_write((ks_handle_t)mo, 0, page, data_len);
    }
    if (r >= 0)
        r = ks_vm_map(s->proc, (ks_handle_t)mo, 0, vaddr, len, prot | KS_MAP_PRIVATE | KS_MAP_FIXED);
    ks_handle_close((ks_handle_t)mo);
    return r < 0 ? (int)r : 0;
}

/* Find `name` in the boot image: 0 and its offset and size, or KS_ERR_RANGE. */
static long find_file(ks_handle_t image, const char *name, uint64_t *off, uint64_t *size)
{
    struct ks_bootimg_header h;
    struct ks_bootimg_entry e;
    long isize = ks_memobj_size(image);
    if (isize < 0)
        return isize;
    if (ks_memobj_read(image, 0, &h, sizeof h) != sizeof h || memcmp(h.magic, KS_BOOTIMG_MAGIC, 8))
        return ELF_ERR_MAGIC;
    for (uint32_t i = 0; i < h.count; i++) {
        if (ks_memobj_read(image, sizeof h + i * sizeof e, &e, sizeof e) != sizeof e)
            return ELF_ERR_TRUNCATED;
        if (strncmp(e.name, name, sizeof e.name) != 0)
            continue;
        if (e.offset > (uint64_t)isize || e.size > (uint64_t)isize - e.offset)
            return ELF_ERR_TRUNCATED;
        *off = e.offset;
        *size = e.size;
        return 0;
    }
    return KS_ERR_RANGE;
}

/* Build the stack in a new memobj and map it into the child. Returns sp or an error. */
static long setup_stack(struct spawn *s, const char *const argv[], const struct elf_auxv *aux,
                        unsigned naux)
{
    static uint8_t top[KS_PAGE_SIZE];
    long mo = ks_memobj_create(KS_STACK_SIZE), r;
    if (mo < 0)
        return mo;
    uint64_t sp = elf_build_stack(top, sizeof top, KS_STACK_TOP, argv, NULL, aux, naux);
    r = sp ? ks_memobj_write((ks_handle_t)mo, KS_STACK_SIZE - sizeof top, top, sizeof top) : KS_ERR_INVALID;
    if (r >= 0)
        r = ks_vm_map(s->proc, (ks_handle_t)mo, 0, KS_STACK_TOP - KS_STACK_SIZE, KS_STACK_SIZE,
                      KS_PROT_READ | KS_PROT_WRITE | KS_MAP_PRIVATE | KS_MAP_FIXED);
    ks_handle_close((ks_handle_t)mo);
    return r < 0 ? r : (long)sp;
}

long ulib_spawn(ks_handle_t bootimg, const char *name, const char *const argv[],
                const ks_handle_t *given, unsigned ngiven)
{
    return ulib_spawn_tagged(bootimg, name, argv, given, NULL, ngiven);
}

long ulib_spawn_tagged(ks_handle_t bootimg, const char *name, const char *const argv[],
                       const ks_handle_t *given, const uint64_t *tags, unsigned ngiven)
{
    static uint8_t head[KS_PAGE_SIZE];
    struct spawn s = { .image = bootimg };
    struct elf_image img;
    if (ngiven > ULIB_MAX_GIVEN)
        return KS_ERR_INVALID;
    long r = find_file(bootimg, name, &s.file_base, &s.file_size);
    if (r < 0)
        return r;
    r = ks_memobj_read(bootimg, s.file_base, head, s.file_size < sizeof head ? s.file_size : sizeof head);
    if (r < 0)
        return r;
    int err = elf_parse(head, (size_t)r, s.file_size, &img);
    if (err)
        return err;
    r = ks_process_create(name, strlen(name));
    if (r < 0)
        return r;
    s.proc = (ks_handle_t)r;

    struct elf_auxv aux[6 + ULIB_MAX_GIVEN] = {
        { AT_PAGESZ, KS_PAGE_SIZE },
        { AT_ENTRY, img.entry },
    };
    unsigned naux = 2;
    if (img.phdr_vaddr) {
        aux[naux++] = (struct elf_auxv){ AT_PHDR, img.phdr_vaddr };
        aux[naux++] = (struct elf_auxv){ AT_PHENT, 56 };
        aux[naux++] = (struct elf_auxv){ AT_PHNUM, img.phnum };
    }
    if ((r = elf_load(&img, &(struct elf_load_ops){ map_file, map_anon }, &s)) < 0)
        goto fail;
    long h = ks_handle_transfer(s.proc, bootimg, (uint32_t)ks_handle_info(bootimg) & KS_RIGHTS_ALL, 0);
    if ((r = h) < 0)
        goto fail;
    aux[naux++] = (struct elf_auxv){ KS_AT_BOOTIMAGE, (uint64_t)h };
    for (unsigned i = 0; i < ngiven; i++) {
        long info = ks_handle_info(given[i]);
        if ((r = info) < 0 ||
            (r = h = ks_handle_transfer(s.proc, given[i], (uint32_t)info & KS_RIGHTS_ALL, 0)) < 0)
            goto fail;
        aux[naux++] = (struct elf_auxv){ tags ? tags[i] : KS_AT_HANDLE_0 + i, (uint64_t)h };
    }
    long sp = setup_stack(&s, argv, aux, naux);
    if ((r = sp) < 0)
        goto fail;
    long t = ks_thread_create(s.proc, (void *)img.entry, (void *)sp, 0);
    if ((r = t) < 0)
        goto fail;
    ks_handle_close((ks_handle_t)t);
    return s.proc;

fail:
    ks_handle_close(s.proc);
    return r;
}

long ulib_run(ks_handle_t bootimg, const char *name, const char *const argv[], uint64_t *status)
{
    long p = ulib_spawn(bootimg, name, argv, NULL, 0);
    if (p < 0)
        return p;
    long r = ks_process_wait((ks_handle_t)p, status);
    ks_handle_close((ks_handle_t)p);
    return r;
}
