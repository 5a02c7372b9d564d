/*
 * user/lib/loader.c - init's ELF loader: start a program from the boot image in
 * a new process, entirely through system calls.
 *
 * It follows the loading plan in kernel/elf.c (elf_spawn_find, elf_spawn_map),
 * as the kernel's loader for init does (kernel/userboot.c); this file gives
 * it the ops, on system calls: the boot image memobj's bytes, vm_map and
 * fresh memobjs.
 */
#include <kestrel/bootimg.h>
#include "kernel/elf.h"
#include "kernel/string.h"
#include "user/lib/ks.h"
#include "user/lib/loader.h"

struct spawn {
    ks_handle_t proc, image;
    uint8_t *page;              /* the plan's scratch page, free while segments are mapped */
    uint64_t stack;             /* the stack's size (ulib_load_file's; else KS_STACK_SIZE) */
};

static int read_image(void *ctx, uint64_t off, void *buf, uint64_t len)
{
    struct spawn *s = ctx;
    long r = ks_memobj_read(s->image, off, buf, len);
    return r < 0 ? (int)r : (uint64_t)r == len ? 0 : ELF_ERR_TRUNCATED;
}

static int image_size(void *ctx, uint64_t *size)
{
    struct spawn *s = ctx;
    long r = ks_memobj_size(s->image);
    *size = r < 0 ? 0 : (uint64_t)r;
    return r < 0 ? (int)r : 0;
}

static int map_file(void *ctx, uint64_t vaddr, uint64_t image_off, uint64_t len, uint32_t prot)
{
    struct spawn *s = ctx;
    long r = ks_vm_map(s->proc, s->image, image_off, vaddr, len, prot | KS_MAP_PRIVATE | KS_MAP_FIXED);
    return r < 0 ? (int)r : 0;
}

/* A fresh memobj of len bytes with data (data_len bytes) at offset `at`, mapped at vaddr. */
static int map_fresh(struct spawn *s, uint64_t vaddr, uint64_t len, uint32_t prot, uint64_t at,
                     const void *data, uint64_t data_len)
{
    long mo = ks_memobj_create(len), r = mo;
    if (mo < 0)
        return (int)mo;
    if (data_len)
        r = ks_memobj_write((ks_handle_t)mo, at, data, data_len);
    if (r >= 0)
        r = ks_vm_map(s->proc, (ks_handle_t)mo, 0, vaddr, len, prot | KS_MAP_PRIVATE | KS_MAP_FIXED);
    ks_handle_close((ks_handle_t)mo);
    return r < 0 ? (int)r : 0;
}

static int map_anon(void *ctx, uint64_t vaddr, uint64_t len, uint32_t prot, uint64_t image_off,
                    uint64_t data_len)
{
    struct spawn *s = ctx;      /* data_len is at most a page (elf_spawn_map) */
    int r = data_len ? read_image(s, image_off, s->page, data_len) : 0;
    return r ? r : map_fresh(s, vaddr, len, prot, 0, s->page, data_len);
}

static int map_stack(void *ctx, const uint8_t *data, uint64_t len)
{
    struct spawn *s = ctx;
    uint64_t size = s->stack ? s->stack : KS_STACK_SIZE;
    return map_fresh(ctx, KS_STACK_TOP - size, size, KS_PROT_READ | KS_PROT_WRITE, size - len, data, len);
}

static const struct elf_spawn_ops ops = { read_image, image_size, map_file, map_anon, map_stack };

/* The loading plan's scratch page, for both loaders here (neither is reentrant). */
static uint8_t scratch[KS_PAGE_SIZE];

static struct ks_limits spawn_limits;
static int have_spawn_limits;

void ulib_spawn_limits(const struct ks_limits *limits)
{
    have_spawn_limits = limits != NULL;
    if (limits)
        spawn_limits = *limits;
}

long ulib_spawn(ks_handle_t bootimg, const char *name, const char *const argv[],
                const ks_handle_t *given, unsigned ngiven)
{
    return ulib_spawn_tagged(bootimg, name, argv, given, NULL, ngiven);
}

long ulib_spawn_tagged(ks_handle_t bootimg, const char *name, const char *const argv[],
                       const ks_handle_t *given, const uint64_t *tags, unsigned ngiven)
{
    struct spawn s = { .image = bootimg, .page = scratch };
    struct elf_spawn sp = { .page = scratch };
    ks_random(sp.at_random, sizeof sp.at_random);
    if (ngiven > ULIB_MAX_GIVEN)
        return KS_ERR_INVALID;
    long r = elf_spawn_find(&ops, &s, name, &sp);
    if (r == ELF_ERR_NO_FILE)
        return KS_ERR_RANGE;
    if (r < 0)
        return r;
    r = ks_process_create(name, strlen(name));
    if (r < 0)
        return r;
    s.proc = (ks_handle_t)r;
    if (have_spawn_limits && (r = ks_process_limit(s.proc, &spawn_limits, NULL, NULL)) < 0)
        goto fail;
    /* The handles it gets, copied into it first: the auxiliary vector names their values there. */
    struct elf_auxv extra[1 + ULIB_MAX_GIVEN];
    unsigned nextra = 0;
    long h = ks_handle_transfer(s.proc, bootimg, (uint32_t)ks_handle_info(bootimg) & KS_RIGHTS_ALL, 0);
    if ((r = h) < 0)
        goto fail;
    extra[nextra++] = (struct elf_auxv){ KS_AT_BOOTIMAGE, (uint64_t)h };
    for (unsigned i = 0; i < ngiven; i++) {
        long info = ks_handle_info(given[i]);
        if ((r = info) < 0 ||
            (r = h = ks_handle_transfer(s.proc, given[i], (uint32_t)info & KS_RIGHTS_ALL, 0)) < 0)
            goto fail;
        extra[nextra++] = (struct elf_auxv){ tags ? tags[i] : KS_AT_HANDLE_0 + i, (uint64_t)h };
    }
    if ((r = elf_spawn_map(&ops, &s, &sp, argv, extra, nextra)) < 0)
        goto fail;
    long t = ks_thread_create(s.proc, (void *)sp.img.entry, (void *)sp.sp, 0);
    if ((r = t) < 0)
        goto fail;
    ks_handle_close((ks_handle_t)t);
    return s.proc;

fail:
    ks_handle_close(s.proc);
    return r;
}

long ulib_load_file(ks_handle_t proc, ks_handle_t file, const char *const argv[],
                    const char *const envp[], const struct elf_auxv *extra, unsigned nextra,
                    uint64_t stack, uint64_t *entry, uint64_t *sp)
{
    uint64_t size = (stack + KS_PAGE_SIZE - 1) & ~(uint64_t)(KS_PAGE_SIZE - 1);
    struct spawn s = { .proc = proc, .image = file, .page = scratch,
                       .stack = stack == 0 ? KS_STACK_SIZE : size < 16384 ? 16384 : size };
    struct elf_spawn sp_ = { .page = scratch, .envp = envp };
    ks_random(sp_.at_random, sizeof sp_.at_random);
    long r = elf_spawn_whole(&ops, &s, &sp_);
    if (r == 0)
        r = elf_spawn_map(&ops, &s, &sp_, argv, extra, nextra);
    if (r == 0) {
        *entry = sp_.img.entry;
        *sp = sp_.sp;
    }
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
