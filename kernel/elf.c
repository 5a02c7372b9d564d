/*
 * kernel/elf.c - ELF64 executable parsing, segment loading plan, initial stack
 * (see elf.h). Written against the System V gABI and the RISC-V psABI.
 */
#include <kestrel/bootimg.h>
#include <kestrel/layout.h>
#include <kestrel/syscall.h>
#include "elf.h"
#include "string.h"

#define EHDR_SIZE   64
#define PHDR_SIZE   56
#define PT_LOAD     1
#define ET_EXEC     2
#define EM_RISCV    243
#define PF_X        1
#define PF_W        2
#define PF_R        4
#define PAGE_MASK   ((uint64_t)KS_PAGE_SIZE - 1)

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

const char *elf_strerror(int err)
{
    switch (err) {
    case ELF_ERR_TRUNCATED: return "file shorter than its headers";
    case ELF_ERR_MAGIC: return "not an ELF file";
    case ELF_ERR_FORMAT: return "not a 64-bit little-endian ELF";
    case ELF_ERR_MACHINE: return "not a RISC-V executable";
    case ELF_ERR_TYPE: return "not a static executable";
    case ELF_ERR_PHDRS: return "bad program header table";
    case ELF_ERR_SEGMENT: return "inconsistent segment";
    case ELF_ERR_RANGE: return "segment outside user space";
    case ELF_ERR_OVERLAP: return "segments overlap";
    case ELF_ERR_ENTRY: return "entry point not in an executable segment";
    case ELF_ERR_NO_FILE: return "no such program in the boot image";
    case ELF_ERR_STACK: return "the arguments do not fit in the stack";
    case ELF_ERR_TOO_MANY: return "too many segments";
    case ELF_ERR_EMPTY: return "no loadable segment";
    default: return "ok";
    }
}

static int check_segment(const struct elf_segment *s, uint64_t file_size)
{
    if (s->filesz > s->memsz || s->offset > file_size || s->filesz > file_size - s->offset)
        return ELF_ERR_SEGMENT;
    if ((s->vaddr & PAGE_MASK) != (s->offset & PAGE_MASK) || s->memsz == 0)
        return ELF_ERR_SEGMENT;
    if (s->vaddr < KS_USER_BASE || s->vaddr >= KS_USER_TOP || s->memsz > KS_USER_TOP - s->vaddr)
        return ELF_ERR_RANGE;
    return 0;
}

int elf_parse(const void *head, size_t avail, uint64_t file_size, struct elf_image *out)
{
    const uint8_t *h = head;
    if (avail > file_size)
        avail = (size_t)file_size;
    if (avail < EHDR_SIZE)
        return avail >= 4 && memcmp(h, "\177ELF", 4) != 0 ? ELF_ERR_MAGIC : ELF_ERR_TRUNCATED;
    if (memcmp(h, "\177ELF", 4) != 0)
        return ELF_ERR_MAGIC;
    if (h[4] != 2 || h[5] != 1 || h[6] != 1)
        return ELF_ERR_FORMAT;
    if (rd16(h + 16) != ET_EXEC)
        return ELF_ERR_TYPE;
    if (rd16(h + 18) != EM_RISCV)
        return ELF_ERR_MACHINE;
    uint64_t phoff = rd64(h + 32);
    uint16_t phentsize = rd16(h + 54), phnum = rd16(h + 56);
    if (phentsize != PHDR_SIZE || phnum == 0 || phoff > avail || (uint64_t)phnum * PHDR_SIZE > avail - phoff)
        return ELF_ERR_PHDRS;

    memset(out, 0, sizeof *out);
    out->entry = rd64(h + 24);
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = h + phoff + (uint64_t)i * PHDR_SIZE;
        if (rd32(ph) != PT_LOAD)
            continue;
        if (out->nsegs == ELF_MAX_SEGMENTS)
            return ELF_ERR_TOO_MANY;
        struct elf_segment *s = &out->seg[out->nsegs];
        uint32_t flags = rd32(ph + 4);
        s->offset = rd64(ph + 8);
        s->vaddr = rd64(ph + 16);
        s->filesz = rd64(ph + 32);
        s->memsz = rd64(ph + 40);
        s->prot = (flags & PF_R ? KS_PROT_READ : 0) | (flags & PF_W ? KS_PROT_WRITE : 0) |
                  (flags & PF_X ? KS_PROT_EXEC : 0);
        int err = check_segment(s, file_size);
        if (err)
            return err;
        /* Segments may not share a page: each page gets one protection. */
        uint64_t lo = s->vaddr & ~PAGE_MASK, hi = (s->vaddr + s->memsz + PAGE_MASK) & ~PAGE_MASK;
        for (unsigned j = 0; j < out->nsegs; j++) {
            const struct elf_segment *o = &out->seg[j];
            uint64_t olo = o->vaddr & ~PAGE_MASK, ohi = (o->vaddr + o->memsz + PAGE_MASK) & ~PAGE_MASK;
            if (lo < ohi && olo < hi)
                return ELF_ERR_OVERLAP;
        }
        out->nsegs++;
    }
    if (out->nsegs == 0)
        return ELF_ERR_EMPTY;
    out->phnum = phnum;
    for (unsigned i = 0; i < out->nsegs; i++) {
        const struct elf_segment *s = &out->seg[i];
        if (phoff >= s->offset && phoff - s->offset < s->filesz &&
            (uint64_t)phnum * PHDR_SIZE <= s->filesz - (phoff - s->offset))
            out->phdr_vaddr = s->vaddr + (phoff - s->offset);
    }
    for (unsigned i = 0; i < out->nsegs; i++) {
        const struct elf_segment *s = &out->seg[i];
        if ((s->prot & KS_PROT_EXEC) && out->entry >= s->vaddr && out->entry - s->vaddr < s->memsz)
            return 0;
    }
    return ELF_ERR_ENTRY;
}

int elf_load(const struct elf_image *img, const struct elf_load_ops *ops, void *ctx)
{
    for (unsigned i = 0; i < img->nsegs; i++) {
        const struct elf_segment *s = &img->seg[i];
        uint64_t start = s->vaddr & ~PAGE_MASK;
        uint64_t file_start = s->offset & ~PAGE_MASK;
        uint64_t data_end = s->vaddr + s->filesz;               /* end of file bytes */
        uint64_t whole_end = data_end & ~PAGE_MASK;             /* end of whole file pages */
        uint64_t end = (s->vaddr + s->memsz + PAGE_MASK) & ~PAGE_MASK;
        if (whole_end < start)
            whole_end = start;
        int err = 0;
        if (whole_end > start)
            err = ops->map_file(ctx, start, file_start, whole_end - start, s->prot);
        if (!err && end > whole_end)
            err = ops->map_anon(ctx, whole_end, end - whole_end, s->prot,
                                file_start + (whole_end - start),
                                data_end > whole_end ? data_end - whole_end : 0);
        if (err)
            return err;
    }
    return 0;
}

uint64_t elf_build_stack(uint8_t *buf, size_t size, uint64_t stack_top, const char *const argv[],
                         const char *const envp[], const struct elf_auxv *aux, unsigned naux)
{
    size_t argc = 0, envc = 0, strings = 16;    /* 16 bytes for AT_RANDOM */
    for (; argv && argv[argc]; argc++)
        strings += strlen(argv[argc]) + 1;
    for (; envp && envp[envc]; envc++)
        strings += strlen(envp[envc]) + 1;
    size_t words = 1 + argc + 1 + envc + 1 + 2 * ((size_t)naux + 2);
    size_t need = ((strings + 15) & ~(size_t)15) + ((words * 8 + 15) & ~(size_t)15);
    uint64_t base = stack_top - size;           /* user address of buf[0] */
    uint64_t sp = (stack_top - need) & ~(uint64_t)15;   /* the ABI wants it 16-byte aligned */
    if (need > size || sp < base)
        return 0;
    memset(buf + (sp - base), 0, (size_t)(stack_top - sp));    /* the padding too: no earlier bytes */

    /* Strings at the top, growing down; the word area starts at sp. */
    size_t str = size;
    str -= 16;                                  /* AT_RANDOM's bytes: zero; the loader fills them */
    uint64_t random_at = base + str;
    uint64_t *w = (uint64_t *)(buf + (sp - base));
    size_t k = 0;
    w[k++] = argc;
    for (size_t i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]) + 1;
        str -= n;
        memcpy(buf + str, argv[i], n);
        w[k++] = base + str;
    }
    w[k++] = 0;
    for (size_t i = 0; i < envc; i++) {
        size_t n = strlen(envp[i]) + 1;
        str -= n;
        memcpy(buf + str, envp[i], n);
        w[k++] = base + str;
    }
    w[k++] = 0;
    for (unsigned i = 0; i < naux; i++) {
        w[k++] = aux[i].type;
        w[k++] = aux[i].value;
    }
    w[k++] = AT_RANDOM;
    w[k++] = random_at;
    w[k++] = AT_NULL;
    w[k++] = 0;
    return sp;
}

/* ---- the loading plan (elf.h) ---- */

#define SPAWN_MAX_AUX 48

/* The program is the image's bytes [off, off + size): read its head and parse it into s. */
static int spawn_parse_at(const struct elf_spawn_ops *ops, void *ctx, uint64_t off, uint64_t size,
                          struct elf_spawn *s)
{
    s->file_off = off;
    s->file_size = size;
    uint64_t n = size < KS_PAGE_SIZE ? size : KS_PAGE_SIZE;
    int r = ops->read_image(ctx, off, s->page, n);
    return r ? r : elf_parse(s->page, (size_t)n, size, &s->img);
}

int elf_spawn_find(const struct elf_spawn_ops *ops, void *ctx, const char *name, struct elf_spawn *s)
{
    struct ks_bootimg_header h;
    struct ks_bootimg_entry e;
    uint64_t size;
    int r = ops->image_size(ctx, &size);
    if (r)
        return r;
    if (size < sizeof h)
        return ELF_ERR_MAGIC;
    if ((r = ops->read_image(ctx, 0, &h, sizeof h)) != 0)
        return r;
    if (memcmp(h.magic, KS_BOOTIMG_MAGIC, 8) != 0)
        return ELF_ERR_MAGIC;           /* not a boot image */
    if (h.count > (size - sizeof h) / sizeof e)
        return ELF_ERR_TRUNCATED;
    for (uint32_t i = 0; i < h.count; i++) {
        if ((r = ops->read_image(ctx, sizeof h + (uint64_t)i * sizeof e, &e, sizeof e)) != 0)
            return r;
        if (strncmp(e.name, name, sizeof e.name) != 0)
            continue;
        if (e.offset > size || e.size > size - e.offset)
            return ELF_ERR_TRUNCATED;   /* the file runs past the image */
        if (e.offset & PAGE_MASK)
            return ELF_ERR_SEGMENT;     /* its pages could not be mapped from the image */
        return spawn_parse_at(ops, ctx, e.offset, e.size, s);
    }
    return ELF_ERR_NO_FILE;
}

int elf_spawn_whole(const struct elf_spawn_ops *ops, void *ctx, struct elf_spawn *s)
{
    uint64_t size;
    int r = ops->image_size(ctx, &size);
    return r ? r : spawn_parse_at(ops, ctx, 0, size, s);
}

/* elf_load's ops on top of the loader's: file offsets made image offsets, the anon data checked. */
struct spawn_ctx {
    const struct elf_spawn_ops *ops;
    void *ctx;
    const struct elf_spawn *s;
};

static int spawn_map_file(void *c, uint64_t vaddr, uint64_t file_off, uint64_t len, uint32_t prot)
{
    const struct spawn_ctx *x = c;
    return x->ops->map_file(x->ctx, vaddr, x->s->file_off + file_off, len, prot);
}

static int spawn_map_anon(void *c, uint64_t vaddr, uint64_t len, uint32_t prot, uint64_t file_off,
                          uint64_t data_len)
{
    const struct spawn_ctx *x = c;
    if (data_len > KS_PAGE_SIZE || file_off > x->s->file_size || data_len > x->s->file_size - file_off)
        return ELF_ERR_SEGMENT;
    return x->ops->map_anon(x->ctx, vaddr, len, prot, x->s->file_off + file_off, data_len);
}

int elf_spawn_map(const struct elf_spawn_ops *ops, void *ctx, struct elf_spawn *s, const char *const argv[],
                  const struct elf_auxv *extra, unsigned nextra)
{
    uint8_t *top = s->page;     /* the program headers are parsed: the page is free again */
    struct spawn_ctx x = { ops, ctx, s };
    static const struct elf_load_ops load = { spawn_map_file, spawn_map_anon };
    int r = elf_load(&s->img, &load, &x);
    if (r)
        return r;
    struct elf_auxv aux[SPAWN_MAX_AUX] = {
        { AT_PAGESZ, KS_PAGE_SIZE },
        { AT_ENTRY, s->img.entry },
    };
    unsigned naux = 2;
    if (s->img.phdr_vaddr) {
        aux[naux++] = (struct elf_auxv){ AT_PHDR, s->img.phdr_vaddr };
        aux[naux++] = (struct elf_auxv){ AT_PHENT, 56 };
        aux[naux++] = (struct elf_auxv){ AT_PHNUM, s->img.phnum };
    }
    if (nextra > SPAWN_MAX_AUX - naux)
        return ELF_ERR_STACK;
    for (unsigned i = 0; i < nextra; i++)
        aux[naux++] = extra[i];
    s->sp = elf_build_stack(top, KS_PAGE_SIZE, KS_STACK_TOP, argv, s->envp, aux, naux);
    if (!s->sp)
        return ELF_ERR_STACK;
    memcpy(top + KS_PAGE_SIZE - 16, s->at_random, 16);     /* where elf_build_stack left room */
    uint64_t used = KS_STACK_TOP - s->sp;   /* only what is above sp: nothing of an earlier stack */
    return ops->map_stack(ctx, top + KS_PAGE_SIZE - used, used);
}
