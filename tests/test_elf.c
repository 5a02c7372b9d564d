/*
 * tests/test_elf.c - host tests for ELF parsing, the load plan and the initial
 * stack (kernel/elf.c).
 *
 * Executables are built in memory by a small writer (struct efile below): an
 * ELF header, program headers at phoff, and every other byte a pattern of its
 * file offset. Each parse gets a malloc'ed buffer of exactly the file's size,
 * so AddressSanitizer reports any read past the end.
 *
 * argv[1] is the DTB path `make test` passes; the user programs are looked for
 * in DIR/user/ where DIR is the directory holding that DTB (build/ by default).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <kestrel/bootimg.h>
#include <kestrel/layout.h>
#include <kestrel/syscall.h>
#include "kernel/elf.h"
#include "kernel/ktest.h"
#include "tests/host.h"

#define PG              4096ull
#define EHSZ            64
#define PHSZ            56
#define MAX_PH          16

#define PT_NULL_        0
#define PT_LOAD_        1
#define PT_NOTE_        4
#define PT_GNU_STACK_   0x6474e551u
#define PF_X_           1u
#define PF_W_           2u
#define PF_R_           4u

#define RX  (KS_PROT_READ | KS_PROT_EXEC)
#define RW  (KS_PROT_READ | KS_PROT_WRITE)

static const char *build_dir = "build";

/* ---- a little ELF writer ---- */

struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz;
};

struct efile {
    uint8_t cls, data, ver;             /* e_ident[EI_CLASS], [EI_DATA], [EI_VERSION] */
    uint16_t type, machine, phentsize;
    uint32_t version;
    uint64_t entry, phoff;
    uint16_t phnum;                     /* written to the header */
    unsigned nph;                       /* headers actually written (<= MAX_PH) */
    struct phdr ph[MAX_PH];
    size_t size;                        /* 0: just big enough for headers and segments */
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/* What the writer puts at file offset o outside the headers. */
static uint8_t filler(uint64_t o) { return (uint8_t)(o * 131 + (o >> 8) * 7 + 3); }

static void add_ph(struct efile *e, uint32_t type, uint32_t flags, uint64_t offset, uint64_t vaddr,
                   uint64_t filesz, uint64_t memsz)
{
    if (e->nph < MAX_PH)
        e->ph[e->nph++] = (struct phdr){ type, flags, offset, vaddr, filesz, memsz };
    e->phnum = (uint16_t)e->nph;
}

/* An empty, well-formed header: no program headers yet. */
static void efile_init(struct efile *e)
{
    memset(e, 0, sizeof *e);
    e->cls = 2;
    e->data = 1;
    e->ver = 1;
    e->version = 1;
    e->type = 2;
    e->machine = 243;
    e->phentsize = PHSZ;
    e->phoff = EHSZ;
}

/*
 * The reference executable: text (R+X) holding the headers, a PT_GNU_STACK
 * between the loads, and data (R+W) whose file bytes end the file and whose
 * .bss runs on for two more pages.
 */
#define DEF_ENTRY       0x10100ull
#define DEF_SIZE        0x1545ull
#define DEF_HDRS        (EHSZ + 3 * PHSZ)
static void default_file(struct efile *e)
{
    efile_init(e);
    e->entry = DEF_ENTRY;
    add_ph(e, PT_LOAD_, PF_R_ | PF_X_, 0, 0x10000, 0x1200, 0x1200);
    add_ph(e, PT_GNU_STACK_, PF_R_ | PF_W_, 0, 0, 0, 0);
    add_ph(e, PT_LOAD_, PF_R_ | PF_W_, 0x1200, 0x12200, 0x345, 0x2000);
}

static size_t efile_size(const struct efile *e)
{
    if (e->size)
        return e->size;
    uint64_t size = EHSZ;
    if (e->phoff < (1u << 20) && e->phoff + (uint64_t)e->nph * PHSZ > size)
        size = e->phoff + (uint64_t)e->nph * PHSZ;
    for (unsigned i = 0; i < e->nph; i++) {
        const struct phdr *p = &e->ph[i];
        if (p->offset < (1u << 20) && p->filesz < (1u << 20) && p->offset + p->filesz > size)
            size = p->offset + p->filesz;
    }
    return (size_t)size;
}

/* The file's bytes in a malloc'ed buffer of exactly *size bytes (caller frees). */
static uint8_t *efile_build(const struct efile *e, size_t *size)
{
    size_t n = efile_size(e);
    uint8_t hdr[EHSZ] = { 0x7f, 'E', 'L', 'F', e->cls, e->data, e->ver };
    put16(hdr + 16, e->type);
    put16(hdr + 18, e->machine);
    put32(hdr + 20, e->version);
    put64(hdr + 24, e->entry);
    put64(hdr + 32, e->phoff);
    put16(hdr + 52, EHSZ);
    put16(hdr + 54, e->phentsize);
    put16(hdr + 56, e->phnum);

    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        abort();
    for (size_t i = 0; i < n; i++)
        buf[i] = filler(i);
    memcpy(buf, hdr, n < EHSZ ? n : EHSZ);
    for (unsigned i = 0; i < e->nph; i++) {
        uint8_t ph[PHSZ] = { 0 };
        const struct phdr *p = &e->ph[i];
        put32(ph, p->type);
        put32(ph + 4, p->flags);
        put64(ph + 8, p->offset);
        put64(ph + 16, p->vaddr);
        put64(ph + 24, p->vaddr);       /* p_paddr */
        put64(ph + 32, p->filesz);
        put64(ph + 40, p->memsz);
        put64(ph + 48, PG);             /* p_align */
        uint64_t at = e->phoff + (uint64_t)i * PHSZ;
        for (unsigned k = 0; k < PHSZ; k++)
            if (at < n && k < n - at)
                buf[at + k] = ph[k];
    }
    *size = n;
    return buf;
}

/* Build e and parse it whole (avail == file size == the buffer's size). */
static int parse_efile(const struct efile *e, struct elf_image *out)
{
    struct elf_image scratch;
    size_t n;
    uint8_t *f = efile_build(e, &n);
    int err = elf_parse(f, n, n, out ? out : &scratch);
    free(f);
    return err;
}

/* Parse the reference file after `...` (statements on `e`) changed it. */
#define EXPECT_PARSE(expected, ...) \
    do { \
        struct efile e_; \
        default_file(&e_); \
        { struct efile *e = &e_; (void)e; __VA_ARGS__; } \
        KT_EXPECT_EQ(parse_efile(&e_, NULL), (expected)); \
    } while (0)

/* ---- recording elf_load callbacks ---- */

enum { OP_FILE = 1, OP_ANON = 2 };

struct op {
    int kind;
    uint64_t vaddr, len, file_off, data_len;
    uint32_t prot;
};

struct recorder {
    struct op ops[64];
    unsigned n, calls;
    unsigned fail_at;           /* 1-based call number that fails; 0: none */
    int fail_code;
};

static int record(struct recorder *r, struct op op)
{
    r->calls++;
    if (r->n < sizeof r->ops / sizeof r->ops[0])
        r->ops[r->n++] = op;
    return r->calls == r->fail_at ? r->fail_code : 0;
}

static int rec_map_file(void *ctx, uint64_t vaddr, uint64_t file_off, uint64_t len, uint32_t prot)
{
    return record(ctx, (struct op){ OP_FILE, vaddr, len, file_off, 0, prot });
}

static int rec_map_anon(void *ctx, uint64_t vaddr, uint64_t len, uint32_t prot, uint64_t file_off,
                        uint64_t data_len)
{
    return record(ctx, (struct op){ OP_ANON, vaddr, len, file_off, data_len, prot });
}

static const struct elf_load_ops rec_ops = { rec_map_file, rec_map_anon };

static int op_is(const struct op *o, int kind, uint64_t vaddr, uint64_t len, uint32_t prot)
{
    return o->kind == kind && o->vaddr == vaddr && o->len == len && o->prot == prot;
}

/*
 * What a loaded byte holds: its file offset, or ZERO. A plan maps each page
 * once; `what` says where addr's byte would come from (0 if no op maps it).
 */
#define ZERO UINT64_MAX

static int byte_source(const struct recorder *r, uint64_t addr, uint64_t *what)
{
    for (unsigned i = 0; i < r->n; i++) {
        const struct op *o = &r->ops[i];
        if (addr < o->vaddr || addr - o->vaddr >= o->len)
            continue;
        uint64_t k = addr - o->vaddr;
        *what = o->kind == OP_FILE || k < o->data_len ? o->file_off + k : ZERO;
        return 1;
    }
    return 0;
}

/* One address of segment s holds what it should after the plan (file byte or zero). */
static int byte_ok(const struct recorder *r, const struct elf_segment *s, uint64_t addr)
{
    uint64_t what;
    if (!byte_source(r, addr, &what))
        return 0;
    uint64_t k = addr - s->vaddr;
    return what == (k < s->filesz ? s->offset + k : ZERO);
}

/*
 * Run elf_load on a parsed image and check its plan against the segments: ops
 * page-aligned, tiling each segment's pages in order with its prot, file ranges
 * inside the file, and (checking the interesting addresses, or every byte of
 * small segments) file bytes where the segment has them and zeros after.
 * Returns NULL or what is wrong.
 */
static const char *check_plan(const struct elf_image *img, uint64_t file_size)
{
    static struct recorder r;
    memset(&r, 0, sizeof r);
    if (elf_load(img, &rec_ops, &r) != 0)
        return "elf_load failed without a callback failing";
    if (r.calls != r.n)
        return "too many ops to record";
    unsigned k = 0;
    for (unsigned i = 0; i < img->nsegs; i++) {
        const struct elf_segment *s = &img->seg[i];
        uint64_t lo = s->vaddr & ~(PG - 1), hi = (s->vaddr + s->memsz + PG - 1) & ~(PG - 1);
        unsigned first = k;
        for (uint64_t at = lo; at < hi; k++) {
            if (k >= r.n)
                return "a segment's pages are not all mapped";
            const struct op *o = &r.ops[k];
            if (o->vaddr != at || o->len == 0 || o->len % PG || o->len > hi - at)
                return "ops do not tile the segment's pages in order";
            if (o->prot != s->prot)
                return "op prot differs from the segment's";
            if (o->kind == OP_FILE && (o->file_off % PG || o->file_off > file_size ||
                                       o->len > file_size - o->file_off))
                return "map_file range not whole pages inside the file";
            if (o->kind == OP_ANON && (o->data_len >= PG || o->data_len > o->len ||
                                       o->file_off > file_size || o->data_len > file_size - o->file_off))
                return "map_anon data not a partial page inside the file";
            at += o->len;
        }
        if (k - first > 2)
            return "more than two ops for one segment";
        uint64_t end = s->vaddr + s->memsz, fend = s->vaddr + s->filesz;
        if (s->memsz <= 0x4000) {
            for (uint64_t a = s->vaddr; a < end; a++)
                if (!byte_ok(&r, s, a))
                    return "wrong byte in a small segment";
        } else {
            uint64_t probe[] = { s->vaddr, end - 1, fend, fend - 1, fend & ~(PG - 1),
                                 (fend & ~(PG - 1)) - 1, (fend + PG) & ~(PG - 1) };
            for (unsigned j = 0; j < sizeof probe / sizeof probe[0]; j++)
                if (probe[j] >= s->vaddr && probe[j] < end && !byte_ok(&r, s, probe[j]))
                    return "wrong byte in a large segment";
        }
    }
    if (k != r.n)
        return "ops beyond the segments";
    return NULL;
}

/* Everything a successful parse promises about its image. NULL or what is wrong. */
static const char *check_image(const struct elf_image *img, uint64_t file_size)
{
    if (img->nsegs == 0 || img->nsegs > ELF_MAX_SEGMENTS)
        return "segment count out of range";
    int entry_ok = 0;
    for (unsigned i = 0; i < img->nsegs; i++) {
        const struct elf_segment *s = &img->seg[i];
        if (s->filesz > s->memsz || s->offset > file_size || s->filesz > file_size - s->offset)
            return "segment sizes or file range wrong";
        if ((s->vaddr ^ s->offset) & (PG - 1))
            return "vaddr and offset not congruent";
        if (s->vaddr < KS_USER_BASE || s->vaddr >= KS_USER_TOP || s->memsz > KS_USER_TOP - s->vaddr)
            return "segment outside user space";
        if (s->prot & ~(uint32_t)(KS_PROT_READ | KS_PROT_WRITE | KS_PROT_EXEC))
            return "unknown prot bits";
        for (unsigned j = 0; j < i; j++) {
            const struct elf_segment *o = &img->seg[j];
            if ((s->vaddr & ~(PG - 1)) < ((o->vaddr + o->memsz + PG - 1) & ~(PG - 1)) &&
                (o->vaddr & ~(PG - 1)) < ((s->vaddr + s->memsz + PG - 1) & ~(PG - 1)))
                return "segments share a page";
        }
        if ((s->prot & KS_PROT_EXEC) && img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
            entry_ok = 1;
    }
    return entry_ok ? NULL : "entry not in an executable segment";
}

/* ---- parsing a good file ---- */

static void parse_valid(void)
{
    struct efile e;
    struct elf_image img;
    default_file(&e);
    memset(&img, 0xcc, sizeof img);
    KT_ASSERT(parse_efile(&e, &img) == 0);
    KT_EXPECT_EQ(img.entry, DEF_ENTRY);
    KT_ASSERT(img.nsegs == 2);
    KT_EXPECT_EQ(img.seg[0].vaddr, 0x10000);
    KT_EXPECT_EQ(img.seg[0].memsz, 0x1200);
    KT_EXPECT_EQ(img.seg[0].offset, 0);
    KT_EXPECT_EQ(img.seg[0].filesz, 0x1200);
    KT_EXPECT_EQ(img.seg[0].prot, RX);
    KT_EXPECT_EQ(img.seg[1].vaddr, 0x12200);
    KT_EXPECT_EQ(img.seg[1].memsz, 0x2000);
    KT_EXPECT_EQ(img.seg[1].offset, 0x1200);
    KT_EXPECT_EQ(img.seg[1].filesz, 0x345);
    KT_EXPECT_EQ(img.seg[1].prot, RW);
    KT_EXPECT(check_image(&img, DEF_SIZE) == NULL);
    KT_EXPECT_STREQ(elf_strerror(0), "ok");
}

/* Each p_flags combination gives its prot; unknown flag bits are ignored. */
static void prot_from_flags(void)
{
    struct efile e;
    struct elf_image img;
    efile_init(&e);
    e.entry = 0x10000;
    static const uint32_t flags[8] = { PF_X_, 0, PF_R_, PF_W_, PF_R_ | PF_W_, PF_R_ | PF_X_,
                                       PF_W_ | PF_X_, PF_R_ | PF_W_ | PF_X_ | 0x0ff00000u };
    static const uint32_t prot[8] = { KS_PROT_EXEC, 0, KS_PROT_READ, KS_PROT_WRITE, RW, RX,
                                      KS_PROT_WRITE | KS_PROT_EXEC,
                                      KS_PROT_READ | KS_PROT_WRITE | KS_PROT_EXEC };
    for (unsigned i = 0; i < 8; i++)
        add_ph(&e, PT_LOAD_, flags[i], 0x1000 * i, 0x10000 + 0x10000 * i, 0x100, 0x100);
    KT_ASSERT(parse_efile(&e, &img) == 0);
    KT_ASSERT(img.nsegs == 8);
    for (unsigned i = 0; i < 8; i++) {
        KT_EXPECT_EQ(img.seg[i].prot, prot[i]);
        KT_EXPECT_EQ(img.seg[i].vaddr, 0x10000 + 0x10000 * i);
        KT_EXPECT_EQ(img.seg[i].offset, 0x1000 * i);
    }
}

/* Edge values that are still valid. */
static void parse_boundaries(void)
{
    /* A segment ending exactly at the top of user space, one starting at its base. */
    EXPECT_PARSE(0, e->ph[2].vaddr = KS_USER_TOP - 0x2000 + 0x200; e->ph[2].memsz = 0x2000 - 0x200);
    EXPECT_PARSE(0, e->ph[0].vaddr = KS_USER_BASE; e->entry = KS_USER_BASE + 0x100);
    /* Segments in adjacent pages, the first ending exactly at a page boundary. */
    EXPECT_PARSE(0, e->ph[0].memsz = 0x2000);
    /* The same, listed the other way round: a later segment ending where text starts. */
    EXPECT_PARSE(0, add_ph(e, PT_LOAD_, PF_R_, 0x0, 0xf000, 0x10, 0x1000));
    EXPECT_PARSE(0, add_ph(e, PT_LOAD_, PF_R_, 0x800, 0xe800, 0x10, 0x1800));
    /* Entry on the first and the last byte of the text segment. */
    EXPECT_PARSE(0, e->entry = 0x10000);
    EXPECT_PARSE(0, e->entry = 0x10000 + 0x1200 - 1);
    /* Entry in the bss of an executable segment. */
    EXPECT_PARSE(0, e->ph[0].memsz = 0x1800; e->entry = 0x11700);
    /* No file bytes, starting right at the end of the file. */
    EXPECT_PARSE(0, e->ph[2].offset = DEF_SIZE; e->ph[2].vaddr = 0x12000 + (DEF_SIZE & 0xfff);
                 e->ph[2].filesz = 0; e->size = DEF_SIZE);
    /* filesz == memsz, and filesz == 0. */
    EXPECT_PARSE(0, e->ph[2].memsz = 0x345);
    EXPECT_PARSE(0, e->ph[2].filesz = 0);
    /* Program headers at the very end of the file. */
    EXPECT_PARSE(0, e->phoff = DEF_SIZE; e->size = DEF_SIZE + 3 * PHSZ);
    /* Non-load headers (PT_NULL, PT_NOTE) are skipped whatever they hold. */
    EXPECT_PARSE(0, e->ph[1] = (struct phdr){ PT_NULL_, 0, ~0ull, ~0ull, ~0ull, 1 });
    EXPECT_PARSE(0, e->ph[1] = (struct phdr){ PT_NOTE_, 7, 0x10000, 0, 0x10, 0 });
}

/* ---- every error code from a file made for it ---- */

static void err_truncated(void)
{
    struct efile e;
    default_file(&e);
    size_t n;
    uint8_t *full = efile_build(&e, &n);
    for (size_t len = 0; len < EHSZ; len += 7) {
        uint8_t *f = malloc(len ? len : 1);
        memcpy(f, full, len);
        struct elf_image img;
        KT_EXPECT_EQ(elf_parse(f, len, len, &img), ELF_ERR_TRUNCATED);
        /* The whole file is shorter than a header even if more bytes are at hand. */
        KT_EXPECT_EQ(elf_parse(full, n, len, &img), ELF_ERR_TRUNCATED);
        free(f);
    }
    struct elf_image img;
    KT_EXPECT_EQ(elf_parse(full, EHSZ - 1, n, &img), ELF_ERR_TRUNCATED);
    free(full);
}

static void err_magic(void)
{
    for (unsigned i = 0; i < 4; i++) {
        struct efile e;
        default_file(&e);
        size_t n;
        uint8_t *f = efile_build(&e, &n);
        f[i] ^= 0x20;
        struct elf_image img;
        KT_EXPECT_EQ(elf_parse(f, n, n, &img), ELF_ERR_MAGIC);
        free(f);
    }
}

static void err_format(void)
{
    EXPECT_PARSE(ELF_ERR_FORMAT, e->cls = 1);          /* ELFCLASS32 */
    EXPECT_PARSE(ELF_ERR_FORMAT, e->cls = 0);
    EXPECT_PARSE(ELF_ERR_FORMAT, e->cls = 3);
    EXPECT_PARSE(ELF_ERR_FORMAT, e->data = 2);         /* big-endian */
    EXPECT_PARSE(ELF_ERR_FORMAT, e->data = 0);
    EXPECT_PARSE(ELF_ERR_FORMAT, e->ver = 0);          /* EI_VERSION */
    EXPECT_PARSE(ELF_ERR_FORMAT, e->ver = 2);
}

static void err_machine(void)
{
    EXPECT_PARSE(ELF_ERR_MACHINE, e->machine = 62);    /* x86-64 */
    EXPECT_PARSE(ELF_ERR_MACHINE, e->machine = 0);
    EXPECT_PARSE(ELF_ERR_MACHINE, e->machine = 243 | 0x100);
    EXPECT_PARSE(ELF_ERR_MACHINE, e->machine = 183);   /* aarch64 */
}

static void err_type(void)
{
    EXPECT_PARSE(ELF_ERR_TYPE, e->type = 3);           /* ET_DYN (PIE) */
    EXPECT_PARSE(ELF_ERR_TYPE, e->type = 1);           /* ET_REL */
    EXPECT_PARSE(ELF_ERR_TYPE, e->type = 4);           /* ET_CORE */
    EXPECT_PARSE(ELF_ERR_TYPE, e->type = 0);
    EXPECT_PARSE(ELF_ERR_TYPE, e->type = 2 | 0x100);
}

static void err_phdrs(void)
{
    EXPECT_PARSE(ELF_ERR_PHDRS, e->phentsize = 0);
    EXPECT_PARSE(ELF_ERR_PHDRS, e->phentsize = PHSZ - 1);
    EXPECT_PARSE(ELF_ERR_PHDRS, e->phentsize = PHSZ + 1);
    EXPECT_PARSE(ELF_ERR_PHDRS, e->phentsize = 64);
    EXPECT_PARSE(ELF_ERR_PHDRS, e->phentsize = 32);     /* the ELF32 size */
    /* The table (or its start) beyond the file. */
    EXPECT_PARSE(ELF_ERR_PHDRS, e->phoff = DEF_SIZE; e->size = DEF_SIZE);
    EXPECT_PARSE(ELF_ERR_PHDRS, e->phoff = DEF_SIZE + 1; e->size = DEF_SIZE);
    EXPECT_PARSE(ELF_ERR_PHDRS, e->phoff = DEF_SIZE - 3 * PHSZ + 1; e->size = DEF_SIZE);
    EXPECT_PARSE(ELF_ERR_PHDRS, e->phoff = 1ull << 40);
    EXPECT_PARSE(ELF_ERR_PHDRS, e->phoff = UINT64_MAX - 10);
    EXPECT_PARSE(ELF_ERR_PHDRS, e->phoff = UINT64_MAX - 3 * PHSZ + 1);
    /* More headers than the file holds. */
    EXPECT_PARSE(ELF_ERR_PHDRS, e->phnum = (DEF_SIZE - EHSZ) / PHSZ + 1);
    EXPECT_PARSE(ELF_ERR_PHDRS, e->phnum = 0xffff);    /* PN_XNUM */
    EXPECT_PARSE(ELF_ERR_PHDRS, e->phnum = 0);

    /* Inside the file but outside the bytes given. */
    struct efile e;
    default_file(&e);
    size_t n;
    uint8_t *f = efile_build(&e, &n);
    struct elf_image img;
    KT_EXPECT_EQ(elf_parse(f, DEF_HDRS - 1, n, &img), ELF_ERR_PHDRS);
    KT_EXPECT_EQ(elf_parse(f, EHSZ, n, &img), ELF_ERR_PHDRS);
    free(f);
    default_file(&e);
    e.phoff = 0x1600;
    e.size = 0x1600 + 3 * PHSZ;
    f = efile_build(&e, &n);
    KT_EXPECT_EQ(elf_parse(f, n, n, &img), 0);
    KT_EXPECT_EQ(elf_parse(f, 0x1600, n, &img), ELF_ERR_PHDRS);
    KT_EXPECT_EQ(elf_parse(f, n - 1, n, &img), ELF_ERR_PHDRS);
    free(f);
}

static void err_segment(void)
{
    EXPECT_PARSE(ELF_ERR_SEGMENT, e->ph[2].memsz = 0x344);             /* filesz > memsz */
    EXPECT_PARSE(ELF_ERR_SEGMENT, e->ph[0].memsz = 0x11ff);
    /* The file range ends one byte past the file, starts past it, or wraps. */
    EXPECT_PARSE(ELF_ERR_SEGMENT, e->size = DEF_SIZE - 1);
    EXPECT_PARSE(ELF_ERR_SEGMENT, e->ph[2].filesz = 0x346; e->ph[2].memsz = 0x346;
                 e->size = DEF_SIZE);
    EXPECT_PARSE(ELF_ERR_SEGMENT, e->ph[2].offset = DEF_SIZE + 0x10;
                 e->ph[2].vaddr = 0x12000 + ((DEF_SIZE + 0x10) & 0xfff); e->size = DEF_SIZE);
    EXPECT_PARSE(ELF_ERR_SEGMENT, e->ph[2].offset = 0x7ffffffffffff200ull; e->size = DEF_SIZE);
    EXPECT_PARSE(ELF_ERR_SEGMENT, e->ph[2].offset = UINT64_MAX - 0xdff; e->size = DEF_SIZE);
    EXPECT_PARSE(ELF_ERR_SEGMENT, e->ph[2].offset = 0x200; e->ph[2].filesz = UINT64_MAX - 0x100;
                 e->ph[2].memsz = UINT64_MAX; e->size = DEF_SIZE);
    /* Not congruent modulo the page size (either way, by one byte or by half a page). */
    EXPECT_PARSE(ELF_ERR_SEGMENT, e->ph[2].vaddr += 1);
    EXPECT_PARSE(ELF_ERR_SEGMENT, e->ph[2].vaddr -= 1);
    EXPECT_PARSE(ELF_ERR_SEGMENT, e->ph[2].vaddr += 0x800);
    EXPECT_PARSE(ELF_ERR_SEGMENT, e->ph[0].vaddr = 0x10008; e->entry = 0x10100);
    /* A loadable segment of no size at all (the parser refuses it rather than skip it). */
    EXPECT_PARSE(ELF_ERR_SEGMENT, e->ph[2].filesz = 0; e->ph[2].memsz = 0);
}

static void err_range(void)
{
    /* Below user space: the null page. */
    EXPECT_PARSE(ELF_ERR_RANGE, e->ph[0].vaddr = 0; e->entry = 0x100);
    EXPECT_PARSE(ELF_ERR_RANGE, e->ph[2].vaddr = 0x200);
    /* At or above the top of user space, in the kernel half, or ending past the top. */
    EXPECT_PARSE(ELF_ERR_RANGE, e->ph[2].vaddr = KS_USER_TOP + 0x200);
    EXPECT_PARSE(ELF_ERR_RANGE, e->ph[2].vaddr = KS_USER_TOP - 0x2000 + 0x200);
    EXPECT_PARSE(ELF_ERR_RANGE, e->ph[2].vaddr = KS_USER_TOP - 0x1e00; e->ph[2].memsz = 0x1e01);
    EXPECT_PARSE(ELF_ERR_RANGE, e->ph[2].vaddr = 0xffffffff80000200ull);
    EXPECT_PARSE(ELF_ERR_RANGE, e->ph[2].vaddr = 0xffffffc000000200ull);
    EXPECT_PARSE(ELF_ERR_RANGE, e->ph[0].vaddr = 0xffffffff80200000ull;
                 e->entry = 0xffffffff80200100ull);
    /* vaddr + memsz wrapping around to a small address. */
    EXPECT_PARSE(ELF_ERR_RANGE, e->ph[2].vaddr = 0x12200; e->ph[2].memsz = UINT64_MAX - 0x12000);
    EXPECT_PARSE(ELF_ERR_RANGE, e->ph[2].vaddr = UINT64_MAX - 0xdff; e->ph[2].memsz = 0x2000);
    EXPECT_PARSE(ELF_ERR_RANGE, e->ph[2].memsz = KS_USER_TOP);
}

static void err_overlap(void)
{
    /* Data starting in the page where text ends (0x11000..0x12000). */
    EXPECT_PARSE(ELF_ERR_OVERLAP, e->ph[2].vaddr = 0x11200);
    /* Data's .bss running into the next segment's page. */
    EXPECT_PARSE(ELF_ERR_OVERLAP, e->ph[2].vaddr = 0x8200; e->ph[2].memsz = 0x7e01);
    /* Two segments at the same address; one inside another. */
    EXPECT_PARSE(ELF_ERR_OVERLAP, e->ph[2].vaddr = 0x10200);
    EXPECT_PARSE(ELF_ERR_OVERLAP, e->ph[0].memsz = 0x100000; e->ph[2].vaddr = 0x50200);
    /* A third segment clashing with the first, not the one just before it. */
    EXPECT_PARSE(ELF_ERR_OVERLAP,
                 add_ph(e, PT_LOAD_, PF_R_, 0x1000, 0x11000, 0x10, 0x10));
    EXPECT_PARSE(0, add_ph(e, PT_LOAD_, PF_R_, 0x1000, 0x20000, 0x10, 0x10));
    /* A later segment whose last page is text's first. */
    EXPECT_PARSE(ELF_ERR_OVERLAP, add_ph(e, PT_LOAD_, PF_R_, 0x0, 0xf000, 0x10, 0x1001));
}

static void err_entry(void)
{
    EXPECT_PARSE(ELF_ERR_ENTRY, e->entry = 0);
    EXPECT_PARSE(ELF_ERR_ENTRY, e->entry = 0x10000 - 1);
    EXPECT_PARSE(ELF_ERR_ENTRY, e->entry = 0x10000 + 0x1200);          /* one past text */
    EXPECT_PARSE(ELF_ERR_ENTRY, e->entry = 0x12200);                   /* in data (R+W) */
    EXPECT_PARSE(ELF_ERR_ENTRY, e->entry = 0x12200 + 0x1fff);
    EXPECT_PARSE(ELF_ERR_ENTRY, e->entry = UINT64_MAX);
    EXPECT_PARSE(ELF_ERR_ENTRY, e->ph[0].flags = PF_R_ | PF_W_);       /* nothing executable */
    /* An executable PT_NOTE does not count. */
    EXPECT_PARSE(ELF_ERR_ENTRY, e->ph[0].flags = PF_R_; e->ph[1].type = PT_NOTE_;
                 e->ph[1].flags = PF_X_; e->ph[1].vaddr = 0x10000; e->ph[1].memsz = 0x1200);
}

static void err_too_many(void)
{
    struct efile e;
    efile_init(&e);
    e.entry = 0x10000;
    for (unsigned i = 0; i < ELF_MAX_SEGMENTS; i++)
        add_ph(&e, PT_LOAD_, PF_R_ | PF_X_, 0x1000 * i, 0x10000 + 0x2000 * i, 0x80, 0x80);
    KT_EXPECT_EQ(parse_efile(&e, NULL), 0);
    /* Non-load headers do not count. */
    for (unsigned i = 0; i < 4; i++)
        add_ph(&e, PT_NOTE_, 0, 0, 0, 0, 0);
    KT_EXPECT_EQ(parse_efile(&e, NULL), 0);
    add_ph(&e, PT_LOAD_, PF_R_, 0x1000, 0x80000, 0x80, 0x80);
    KT_EXPECT_EQ(parse_efile(&e, NULL), ELF_ERR_TOO_MANY);
}

static void err_empty(void)
{
    struct efile e;
    efile_init(&e);
    e.entry = 0x10000;
    add_ph(&e, PT_NOTE_, PF_R_ | PF_X_, 0, 0x10000, 0x80, 0x80);
    add_ph(&e, PT_GNU_STACK_, PF_R_ | PF_W_, 0, 0, 0, 0);
    add_ph(&e, PT_NULL_, 0, 0, 0, 0, 0);
    KT_EXPECT_EQ(parse_efile(&e, NULL), ELF_ERR_EMPTY);
}

/* Every code has its own message, none of them the success one. */
static void error_strings(void)
{
    for (int a = ELF_ERR_STACK; a <= ELF_ERR_TRUNCATED; a++) {
        const char *s = elf_strerror(a);
        KT_EXPECT(s != NULL && s[0] != '\0' && strcmp(s, elf_strerror(0)) != 0);
        for (int b = ELF_ERR_STACK; b < a; b++)
            KT_EXPECT(strcmp(s, elf_strerror(b)) != 0);
    }
}

/* Only the headers in memory (the rest of the file elsewhere) is enough. */
static void partial_avail(void)
{
    struct efile e;
    default_file(&e);
    size_t n;
    uint8_t *full = efile_build(&e, &n);
    struct elf_image want, got;
    KT_ASSERT(elf_parse(full, n, n, &want) == 0);
    uint8_t *head = malloc(DEF_HDRS);
    memcpy(head, full, DEF_HDRS);
    memset(&got, 0xcc, sizeof got);
    KT_EXPECT_EQ(elf_parse(head, DEF_HDRS, n, &got), 0);
    KT_EXPECT(memcmp(&got, &want, sizeof got) == 0);
    /* A file size that cuts the last segment short is still caught. */
    KT_EXPECT_EQ(elf_parse(head, DEF_HDRS, n - 1, &got), ELF_ERR_SEGMENT);
    /* avail larger than the file is clamped to it. */
    KT_EXPECT_EQ(elf_parse(full, n, DEF_HDRS - 1, &got), ELF_ERR_PHDRS);
    free(head);
    free(full);
}

/*
 * Every prefix of the reference file in a buffer of exactly its length: as a
 * whole file (only the full length parses) and as the available head of the
 * full file (parses once the headers are in).
 */
static void every_truncation(void)
{
    struct efile e;
    default_file(&e);
    size_t n;
    uint8_t *full = efile_build(&e, &n);
    unsigned bad_whole = 0, bad_head = 0, bad_short = 0;
    for (size_t len = 0; len <= n; len++) {
        uint8_t *f = malloc(len);
        if (len)
            memcpy(f, full, len);
        struct elf_image img;
        int err = elf_parse(f, len, len, &img);
        if (len < EHSZ ? err != ELF_ERR_TRUNCATED
            : len < DEF_HDRS ? err != ELF_ERR_PHDRS && err != ELF_ERR_TRUNCATED
            : len < n ? err != ELF_ERR_SEGMENT
            : err != 0)
            bad_whole++;
        err = elf_parse(f, len, n, &img);
        if (len < EHSZ ? err != ELF_ERR_TRUNCATED
            : len < DEF_HDRS ? err != ELF_ERR_PHDRS
            : err != 0 || check_image(&img, n) != NULL)
            bad_head++;
        if (len >= EHSZ) {      /* a file size shorter than the bytes at hand */
            err = elf_parse(f, len, len - 1, &img);
            bad_short += err == 0 && len - 1 < n;
        }
        free(f);
    }
    KT_EXPECT_EQ(bad_whole, 0);
    KT_EXPECT_EQ(bad_head, 0);
    KT_EXPECT_EQ(bad_short, 0);
    free(full);
}

/*
 * Thousands of copies of good files with a few bytes changed (mostly in the
 * headers): each parse must finish without a sanitizer report, and whatever
 * parses must satisfy every promise and load by a sound plan.
 */
static void random_mutations(void)
{
    struct efile files[2];
    default_file(&files[0]);
    efile_init(&files[1]);
    files[1].entry = 0x10010;
    for (unsigned i = 0; i < ELF_MAX_SEGMENTS; i++)
        add_ph(&files[1], i == 3 ? PT_NOTE_ : PT_LOAD_, PF_R_ | (i & 1 ? PF_W_ : PF_X_),
               0x300 * i, 0x10000 + 0x3300 * i, 0x200, 0x200 + 0x1000 * (i & 1));
    test_srand(0x5eed1e1f);
    unsigned parsed = 0, broken = 0, plan_bad = 0;
    const char *why = NULL;
    for (unsigned iter = 0; iter < 6000; iter++) {
        const struct efile *e = &files[iter & 1];
        size_t n, hdrs = EHSZ + (size_t)e->nph * PHSZ;
        uint8_t *f = efile_build(e, &n);
        unsigned nmut = 1 + (unsigned)(test_rand() % 6);
        for (unsigned m = 0; m < nmut; m++) {
            size_t at = test_rand() % 4 ? test_rand() % hdrs : test_rand() % n;
            static const uint8_t special[] = { 0, 0xff, 0x80, 0x7f, 1, 0x10, 0xf0 };
            unsigned r = (unsigned)test_rand();
            f[at] = r % 3 == 0 ? special[(r >> 4) % sizeof special]
                  : r % 3 == 1 ? (uint8_t)(f[at] ^ (1u << ((r >> 4) % 8)))
                  : (uint8_t)(r >> 8);
        }
        /* Sometimes pass only the headers, sometimes claim a different file size. */
        size_t avail = n;
        uint64_t file_size = n;
        switch (test_rand() % 4) {
        case 0: avail = hdrs + test_rand() % (n - hdrs + 1); break;
        case 1: file_size = n + test_rand() % 0x3000; break;
        case 2: file_size = test_rand() % (n + 1); break;
        default: break;
        }
        uint8_t *g = malloc(avail);
        memcpy(g, f, avail);
        struct elf_image img;
        int err = elf_parse(g, avail, file_size, &img);
        if (err == 0) {
            parsed++;
            const char *w = check_image(&img, file_size);
            if (!w)
                w = check_plan(&img, file_size), plan_bad += w != NULL;
            else
                broken++;
            if (w && !why)
                why = w;
        } else if (err < ELF_ERR_EMPTY || err > 0) {
            broken++;
        }
        free(g);
        free(f);
    }
    KT_EXPECT_EQ(broken, 0);
    KT_EXPECT_EQ(plan_bad, 0);
    if (why)
        ktest_fail(__FILE__, __LINE__, "first problem: %s", why);
    /* The mutations must not be so gentle that nothing parses, or so rough that all does. */
    KT_EXPECT(parsed > 100);
    KT_EXPECT(parsed < 5000);
}

/* ---- the real user programs ---- */

static void check_program(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/user/%s.elf", build_dir, name);
    size_t n;
    uint8_t *f = read_file(path, &n);
    if (!f) {
        ktest_fail(__FILE__, __LINE__, "cannot read %s (the Makefile builds it before the tests)", path);
        return;
    }
    struct elf_image img;
    int err = elf_parse(f, n, n, &img);
    if (err) {
        ktest_fail(__FILE__, __LINE__, "%s: %s (%d)", path, elf_strerror(err), err);
        free(f);
        return;
    }
    const char *why = check_image(&img, n);
    if (!why)
        why = check_plan(&img, n);
    if (why)
        ktest_fail(__FILE__, __LINE__, "%s: %s", path, why);

    /* Compare with a direct reading of the headers. */
    KT_EXPECT_EQ(img.entry, get64(f + 24));
    uint64_t phoff = get64(f + 32);
    unsigned loads = 0;
    for (unsigned i = 0; i < get16(f + 56); i++) {
        const uint8_t *ph = f + phoff + (uint64_t)i * PHSZ;
        if (get32(ph) != PT_LOAD_)
            continue;
        if (loads < img.nsegs) {
            KT_EXPECT_EQ(img.seg[loads].offset, get64(ph + 8));
            KT_EXPECT_EQ(img.seg[loads].vaddr, get64(ph + 16));
            KT_EXPECT_EQ(img.seg[loads].filesz, get64(ph + 32));
            KT_EXPECT_EQ(img.seg[loads].memsz, get64(ph + 40));
        }
        loads++;
    }
    KT_EXPECT_EQ(loads, img.nsegs);

    /* The loaders read a first page (or less) and parse that. */
    size_t head = n < 4096 ? n : 4096;
    uint8_t *h = malloc(head);
    memcpy(h, f, head);
    struct elf_image img2;
    KT_EXPECT_EQ(elf_parse(h, head, n, &img2), 0);
    KT_EXPECT(memcmp(&img, &img2, sizeof img) == 0);
    free(h);
    free(f);
}

static void user_init(void) { check_program("init"); }
static void user_utest(void) { check_program("utest"); }

/* ---- elf_load plans ---- */

static void load_partial_page(void)
{
    struct recorder r;
    memset(&r, 0, sizeof r);
    /* File data ends mid-page at 0x22445; .bss runs on to 0x25100. */
    struct elf_image img = { .entry = 0x10000, .nsegs = 1 };
    img.seg[0] = (struct elf_segment){ 0x20100, 0x5000, 0x3100, 0x2345, RW };
    KT_EXPECT_EQ(elf_load(&img, &rec_ops, &r), 0);
    KT_ASSERT(r.n == 2);
    KT_EXPECT(op_is(&r.ops[0], OP_FILE, 0x20000, 0x2000, RW));
    KT_EXPECT_EQ(r.ops[0].file_off, 0x3000);
    KT_EXPECT(op_is(&r.ops[1], OP_ANON, 0x22000, 0x4000, RW));
    KT_EXPECT_EQ(r.ops[1].file_off, 0x5000);
    KT_EXPECT_EQ(r.ops[1].data_len, 0x445);

    /* All file data inside the first, partial page: no map_file at all. */
    memset(&r, 0, sizeof r);
    img.seg[0] = (struct elf_segment){ 0x20100, 0x3000, 0x3100, 0x200, RX };
    KT_EXPECT_EQ(elf_load(&img, &rec_ops, &r), 0);
    KT_ASSERT(r.n == 1);
    KT_EXPECT(op_is(&r.ops[0], OP_ANON, 0x20000, 0x4000, RX));
    KT_EXPECT_EQ(r.ops[0].file_off, 0x3000);
    KT_EXPECT_EQ(r.ops[0].data_len, 0x300);

    /* No .bss, file data ending mid-page: the last page is still copied, not shared. */
    memset(&r, 0, sizeof r);
    img.seg[0] = (struct elf_segment){ 0x20000, 0x1800, 0x1000, 0x1800, KS_PROT_READ };
    KT_EXPECT_EQ(elf_load(&img, &rec_ops, &r), 0);
    KT_ASSERT(r.n == 2);
    KT_EXPECT(op_is(&r.ops[0], OP_FILE, 0x20000, 0x1000, KS_PROT_READ));
    KT_EXPECT_EQ(r.ops[0].file_off, 0x1000);
    KT_EXPECT(op_is(&r.ops[1], OP_ANON, 0x21000, 0x1000, KS_PROT_READ));
    KT_EXPECT_EQ(r.ops[1].file_off, 0x2000);
    KT_EXPECT_EQ(r.ops[1].data_len, 0x800);
}

static void load_aligned_filesz(void)
{
    struct recorder r;
    memset(&r, 0, sizeof r);
    struct elf_image img = { .entry = 0x10000, .nsegs = 1 };
    img.seg[0] = (struct elf_segment){ 0x10000, 0x2000, 0x1000, 0x2000, RX };
    KT_EXPECT_EQ(elf_load(&img, &rec_ops, &r), 0);
    KT_ASSERT(r.n == 1);
    KT_EXPECT(op_is(&r.ops[0], OP_FILE, 0x10000, 0x2000, RX));
    KT_EXPECT_EQ(r.ops[0].file_off, 0x1000);

    /* One byte of .bss after a page-aligned end: a fresh page with no file data. */
    memset(&r, 0, sizeof r);
    img.seg[0] = (struct elf_segment){ 0x10000, 0x2001, 0x1000, 0x2000, RW };
    KT_EXPECT_EQ(elf_load(&img, &rec_ops, &r), 0);
    KT_ASSERT(r.n == 2);
    KT_EXPECT(op_is(&r.ops[0], OP_FILE, 0x10000, 0x2000, RW));
    KT_EXPECT_EQ(r.ops[0].file_off, 0x1000);
    KT_EXPECT(op_is(&r.ops[1], OP_ANON, 0x12000, 0x1000, RW));
    KT_EXPECT_EQ(r.ops[1].data_len, 0);
}

static void load_bss_only(void)
{
    struct recorder r;
    memset(&r, 0, sizeof r);
    struct elf_image img = { .entry = 0x10000, .nsegs = 1 };
    img.seg[0] = (struct elf_segment){ 0x30000, 0x1800, 0x1000, 0, RW };
    KT_EXPECT_EQ(elf_load(&img, &rec_ops, &r), 0);
    KT_ASSERT(r.n == 1);
    KT_EXPECT(op_is(&r.ops[0], OP_ANON, 0x30000, 0x2000, RW));
    KT_EXPECT_EQ(r.ops[0].data_len, 0);
}

/* Several segments are mapped in order, each with its own prot. */
static void load_segments_in_order(void)
{
    struct efile e;
    default_file(&e);
    add_ph(&e, PT_LOAD_, PF_R_, 0x1000, 0x40000, 0x100, 0x100);
    size_t n;
    uint8_t *f = efile_build(&e, &n);
    struct elf_image img;
    KT_ASSERT(elf_parse(f, n, n, &img) == 0);
    struct recorder r;
    memset(&r, 0, sizeof r);
    KT_EXPECT_EQ(elf_load(&img, &rec_ops, &r), 0);
    KT_ASSERT(r.n == 4);
    KT_EXPECT(op_is(&r.ops[0], OP_FILE, 0x10000, 0x1000, RX));
    KT_EXPECT(op_is(&r.ops[1], OP_ANON, 0x11000, 0x1000, RX));
    KT_EXPECT_EQ(r.ops[1].data_len, 0x200);
    KT_EXPECT_EQ(r.ops[1].file_off, 0x1000);
    KT_EXPECT(op_is(&r.ops[2], OP_ANON, 0x12000, 0x3000, RW));
    KT_EXPECT_EQ(r.ops[2].data_len, 0x545);
    KT_EXPECT_EQ(r.ops[2].file_off, 0x1000);
    KT_EXPECT(op_is(&r.ops[3], OP_ANON, 0x40000, 0x1000, KS_PROT_READ));
    KT_EXPECT_EQ(r.ops[3].data_len, 0x100);
    KT_EXPECT(check_plan(&img, n) == NULL);
    free(f);
}

static void load_error_stops(void)
{
    struct elf_image img = { .entry = 0x10000, .nsegs = 3 };
    img.seg[0] = (struct elf_segment){ 0x10000, 0x2000, 0x0, 0x2000, RX };         /* file only */
    img.seg[1] = (struct elf_segment){ 0x20000, 0x3000, 0x2000, 0x1800, RW };      /* file + anon */
    img.seg[2] = (struct elf_segment){ 0x30000, 0x1000, 0x4000, 0x0, RW };         /* anon only */
    struct recorder r;
    /* Fail each of the 4 calls in turn: the error comes back and nothing more is asked. */
    for (unsigned fail = 1; fail <= 4; fail++) {
        memset(&r, 0, sizeof r);
        r.fail_at = fail;
        r.fail_code = -20 - (int)fail;
        KT_EXPECT_EQ(elf_load(&img, &rec_ops, &r), -20 - (int)fail);
        KT_EXPECT_EQ(r.calls, fail);
    }
    memset(&r, 0, sizeof r);
    KT_EXPECT_EQ(elf_load(&img, &rec_ops, &r), 0);
    KT_EXPECT_EQ(r.calls, 4);
    KT_EXPECT(r.ops[1].kind == OP_FILE && r.ops[2].kind == OP_ANON);
}

/* ---- elf_build_stack ---- */

#define GUARD 64
#define GUARD_BYTE 0xa5
#define STACK_TOP ((uint64_t)KS_STACK_TOP)

/*
 * A stack buffer of `size` bytes between guards, standing for user addresses
 * [top - size, top). Host and user addresses agree modulo 16, as they do for
 * the kernel's page-aligned stack page.
 */
struct stackbuf {
    uint8_t *mem, *buf;
    size_t size;
    uint64_t top;
};

static void stackbuf_new(struct stackbuf *s, size_t size, uint64_t top)
{
    size_t total = GUARD + 16 + size + GUARD;
    s->mem = aligned_alloc(16, (total + 15) & ~(size_t)15);
    memset(s->mem, GUARD_BYTE, total);
    s->buf = s->mem + GUARD + ((top - size) & 15);
    memset(s->buf, 0xee, size);
    s->size = size;
    s->top = top;
}

static int guards_intact(const struct stackbuf *s)
{
    for (uint8_t *p = s->mem; p < s->buf; p++)
        if (*p != GUARD_BYTE)
            return 0;
    for (size_t i = 0; i < GUARD; i++)
        if (s->buf[s->size + i] != GUARD_BYTE)
            return 0;
    return 1;
}

/* The host address of user range [addr, addr+len) in the buffer, or NULL if outside it. */
static const uint8_t *user_ptr(const struct stackbuf *s, uint64_t addr, uint64_t len)
{
    uint64_t base = s->top - s->size;
    if (addr < base || addr > s->top || len > s->top - addr)
        return NULL;
    return s->buf + (addr - base);
}

static uint64_t user_word(const struct stackbuf *s, uint64_t addr, int *ok)
{
    const uint8_t *p = user_ptr(s, addr, 8);
    if (!p) {
        *ok = 0;
        return 0;
    }
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Ranges a layout uses, to check they do not overlap. */
struct span {
    uint64_t lo, hi;
};

static int spans_disjoint(const struct span *sp, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < i; j++)
            if (sp[i].lo < sp[j].hi && sp[j].lo < sp[i].hi)
                return 0;
    return 1;
}

/*
 * Walk the stack at sp as a program's startup code would and compare with what
 * was passed. Returns NULL or what is wrong.
 */
static const char *walk_stack(const struct stackbuf *s, uint64_t sp, const char *const argv[],
                              const char *const envp[], const struct elf_auxv *aux, unsigned naux)
{
    static struct span used[256];
    unsigned nused = 0;
    int ok = 1;
    if (sp % 16)
        return "sp not 16-byte aligned";
    if (!user_ptr(s, sp, 8))
        return "sp outside the buffer";
    uint64_t at = sp;
    uint64_t argc = user_word(s, at, &ok);
    at += 8;
    size_t want_argc = 0, want_envc = 0;
    while (argv && argv[want_argc])
        want_argc++;
    while (envp && envp[want_envc])
        want_envc++;
    if (!ok || argc != want_argc)
        return "wrong argc";
    for (int list = 0; list < 2; list++) {
        const char *const *want = list ? envp : argv;
        size_t count = list ? want_envc : want_argc;
        for (size_t i = 0; i <= count; i++, at += 8) {
            uint64_t p = user_word(s, at, &ok);
            if (!ok)
                return "pointer array runs out of the buffer";
            if (i == count) {
                if (p != 0)
                    return "pointer array not NULL-terminated";
                at += 8;
                break;
            }
            size_t len = strlen(want[i]) + 1;
            const uint8_t *str = user_ptr(s, p, len);
            if (!str)
                return "string pointer outside the buffer";
            if (memcmp(str, want[i], len) != 0)
                return "string differs";
            if (nused < 250)
                used[nused++] = (struct span){ p, p + len };
        }
    }
    int seen_random = 0;
    for (unsigned i = 0;; i++, at += 16) {
        uint64_t type = user_word(s, at, &ok), value = user_word(s, at + 8, &ok);
        if (!ok)
            return "auxv runs out of the buffer";
        if (i < naux) {
            if (type != aux[i].type || value != aux[i].value)
                return "auxv entry differs from the one passed";
        } else if (i == naux) {
            if (type != AT_RANDOM)
                return "AT_RANDOM does not follow the given auxv";
            if (!user_ptr(s, value, 16))
                return "AT_RANDOM bytes outside the buffer";
            used[nused++] = (struct span){ value, value + 16 };
            seen_random = 1;
        } else {
            if (type != AT_NULL || value != 0)
                return "auxv not ended by AT_NULL";
            at += 16;
            break;
        }
    }
    if (!seen_random)
        return "no AT_RANDOM";
    used[nused++] = (struct span){ sp, at };
    if (!spans_disjoint(used, nused))
        return "strings, random bytes and the pointer area overlap";
    if (!guards_intact(s))
        return "wrote outside the buffer";
    return NULL;
}

static const char *const t_argv[] = { "init", "hello", "", "with spaces and a longer argument",
                                      "x", NULL };
static const char *const t_envp[] = { "HOME=/", "TERM=dumb", "EMPTY=", NULL };
static const struct elf_auxv t_aux[] = {
    { AT_PHDR, 0x10040 }, { AT_PAGESZ, 4096 }, { AT_ENTRY, 0x10100 }, { 0x1000, UINT64_MAX },
};

static void stack_layout(void)
{
    struct stackbuf s;
    stackbuf_new(&s, 4096, STACK_TOP);
    uint64_t sp = elf_build_stack(s.buf, s.size, STACK_TOP, t_argv, t_envp, t_aux, 4);
    KT_ASSERT(sp != 0);
    const char *why = walk_stack(&s, sp, t_argv, t_envp, t_aux, 4);
    if (why)
        ktest_fail(__FILE__, __LINE__, "%s", why);
    /* The pointer area starts at sp; the stack is used from the top down. */
    KT_EXPECT(sp >= STACK_TOP - s.size && sp < STACK_TOP);
    KT_EXPECT(STACK_TOP - sp < 512);
    free(s.mem);
}

static void stack_no_args(void)
{
    struct stackbuf s;
    stackbuf_new(&s, 256, STACK_TOP);
    uint64_t sp = elf_build_stack(s.buf, s.size, STACK_TOP, NULL, NULL, NULL, 0);
    KT_ASSERT(sp != 0);
    const char *why = walk_stack(&s, sp, NULL, NULL, NULL, 0);
    if (why)
        ktest_fail(__FILE__, __LINE__, "%s", why);
    /* Empty lists (just the NULL) are the same as none. */
    static const char *const none[] = { NULL };
    memset(s.buf, 0xee, s.size);
    sp = elf_build_stack(s.buf, s.size, STACK_TOP, none, none, t_aux, 1);
    KT_ASSERT(sp != 0);
    why = walk_stack(&s, sp, none, none, t_aux, 1);
    if (why)
        ktest_fail(__FILE__, __LINE__, "%s", why);
    free(s.mem);
}

/* Stack tops that are not page-aligned, or not even 16-byte aligned, still give an aligned sp. */
static void stack_other_top(void)
{
    static const uint64_t tops[] = { 0x3ff0, 0x3ff8, 0x10008, STACK_TOP - 8 };
    for (unsigned i = 0; i < sizeof tops / sizeof tops[0]; i++) {
        struct stackbuf s;
        stackbuf_new(&s, 1024, tops[i]);
        uint64_t sp = elf_build_stack(s.buf, s.size, tops[i], t_argv, NULL, t_aux, 2);
        KT_ASSERT(sp != 0);
        const char *why = walk_stack(&s, sp, t_argv, NULL, t_aux, 2);
        if (why)
            ktest_fail(__FILE__, __LINE__, "top 0x%lx: %s", (unsigned long)tops[i], why);
        free(s.mem);
    }
}

/*
 * Every buffer size from 0 up (in steps of 8): too small gives 0 and writes
 * nothing; big enough gives a correct layout; fitting is monotonic; and the
 * smallest size that fits wastes little. Sizes that are not multiples of 16
 * still have to give a 16-byte aligned sp.
 */
static void stack_sizes(void)
{
    size_t content = 16;        /* AT_RANDOM bytes */
    unsigned argc = 5, envc = 3, naux = 4;
    for (unsigned i = 0; i < argc; i++)
        content += strlen(t_argv[i]) + 1;
    for (unsigned i = 0; i < envc; i++)
        content += strlen(t_envp[i]) + 1;
    content += 8 * (1 + argc + 1 + envc + 1 + 2 * (naux + 2));

    size_t smallest = 0;
    unsigned wrote_when_failing = 0, bad_layout = 0, not_monotonic = 0, misaligned = 0;
    const char *why = NULL;
    for (size_t size = 0; size <= content + 256; size += 8) {
        struct stackbuf s;
        stackbuf_new(&s, size, STACK_TOP);
        uint64_t sp = elf_build_stack(s.buf, size, STACK_TOP, t_argv, t_envp, t_aux, naux);
        if (!sp) {
            int untouched = guards_intact(&s);
            for (size_t i = 0; i < size; i++)
                untouched &= s.buf[i] == 0xee;
            wrote_when_failing += !untouched;
            not_monotonic += smallest != 0;
        } else {
            if (!smallest)
                smallest = size;
            misaligned += sp % 16 != 0;
            const char *w = walk_stack(&s, sp, t_argv, t_envp, t_aux, naux);
            if (w && sp % 16 == 0) {
                bad_layout++;
                if (!why)
                    why = w;
            }
        }
        free(s.mem);
    }
    KT_EXPECT_EQ(wrote_when_failing, 0);
    KT_EXPECT_EQ(bad_layout, 0);
    KT_EXPECT_EQ(not_monotonic, 0);
    KT_EXPECT_EQ(misaligned, 0);
    if (why)
        ktest_fail(__FILE__, __LINE__, "first bad layout: %s", why);
    KT_EXPECT(smallest >= content);
    KT_EXPECT(smallest <= content + 32);
}

/* A string too long for the buffer, with a tiny buffer and a huge argument. */
static void stack_too_small(void)
{
    struct stackbuf s;
    stackbuf_new(&s, 4096, STACK_TOP);
    char *big = malloc(5000);
    memset(big, 'a', 4999);
    big[4999] = '\0';
    const char *argv[] = { "prog", big, NULL };
    KT_EXPECT_EQ(elf_build_stack(s.buf, s.size, STACK_TOP, argv, NULL, NULL, 0), 0);
    const char *envp[] = { big, NULL };
    KT_EXPECT_EQ(elf_build_stack(s.buf, s.size, STACK_TOP, NULL, envp, NULL, 0), 0);
    KT_EXPECT_EQ(elf_build_stack(s.buf, s.size, STACK_TOP, NULL, NULL, NULL, 300), 0);
    KT_EXPECT_EQ(elf_build_stack(s.buf, 0, STACK_TOP, NULL, NULL, NULL, 0), 0);
    KT_EXPECT(guards_intact(&s));
    int untouched = 1;
    for (size_t i = 0; i < s.size; i++)
        untouched &= s.buf[i] == 0xee;
    KT_EXPECT(untouched);
    free(big);
    free(s.mem);
}

/* ---- the loading plan both loaders follow (elf_spawn_find, elf_spawn_map) ---- */

/* A boot image in memory: "other" (a page of junk) then "init" (build/user/init.elf). */
struct fake_image {
    uint8_t *bytes;
    uint64_t size;
    int size_error;             /* image_size fails with this, if not 0 */
    unsigned files, anons, stacks;
    uint64_t stack_len;
    uint8_t stack[4096];        /* what map_stack was given, ending at its end */
};

static int fi_read(void *ctx, uint64_t off, void *buf, uint64_t len)
{
    struct fake_image *f = ctx;
    if (off > f->size || len > f->size - off)
        return ELF_ERR_TRUNCATED;
    memcpy(buf, f->bytes + off, len);
    return 0;
}

static int fi_size(void *ctx, uint64_t *size)
{
    struct fake_image *f = ctx;
    *size = f->size;
    return f->size_error;
}

static int fi_file(void *ctx, uint64_t vaddr, uint64_t image_off, uint64_t len, uint32_t prot)
{
    struct fake_image *f = ctx;
    f->files++;
    return image_off % PG == 0 && len % PG == 0 && vaddr % PG == 0 && image_off + len <= f->size ? 0 : -99;
}

static int fi_anon(void *ctx, uint64_t vaddr, uint64_t len, uint32_t prot, uint64_t image_off, uint64_t data_len)
{
    struct fake_image *f = ctx;
    f->anons++;
    return data_len <= PG && image_off + data_len <= f->size ? 0 : -98;
}

static int fi_stack(void *ctx, const uint8_t *data, uint64_t len)
{
    struct fake_image *f = ctx;
    f->stacks++;
    f->stack_len = len;
    if (len > sizeof f->stack)
        return -97;
    memcpy(f->stack + sizeof f->stack - len, data, len);
    return 0;
}

static const struct elf_spawn_ops fi_ops = { fi_read, fi_size, fi_file, fi_anon, fi_stack };

static int fake_image_new(struct fake_image *fi)
{
    char path[512];
    size_t n;
    snprintf(path, sizeof path, "%s/user/init.elf", build_dir);
    uint8_t *elf = read_file(path, &n);
    if (!elf) {
        ktest_fail(__FILE__, __LINE__, "cannot read %s (the Makefile builds it before the tests)", path);
        return -1;
    }
    memset(fi, 0, sizeof *fi);
    fi->size = 2 * PG + n;
    fi->bytes = calloc(1, fi->size);
    struct ks_bootimg_header h = { KS_BOOTIMG_MAGIC, 2, 0 };
    struct ks_bootimg_entry e[2] = { { "other", PG, 100 }, { "init", 2 * PG, n } };
    memcpy(fi->bytes, &h, sizeof h);
    memcpy(fi->bytes + sizeof h, e, sizeof e);
    memset(fi->bytes + PG, 0x77, 100);
    memcpy(fi->bytes + 2 * PG, elf, n);
    free(elf);
    return 0;
}

static void spawn_find(void)
{
    struct fake_image fi;
    static uint8_t page[4096];
    struct elf_spawn s = { .page = page };
    if (fake_image_new(&fi))
        return;
    KT_EXPECT_EQ(elf_spawn_find(&fi_ops, &fi, "init", &s), 0);
    KT_EXPECT_EQ(s.file_off, 2 * PG);
    KT_EXPECT_EQ(s.file_size, fi.size - 2 * PG);
    KT_EXPECT(s.img.entry != 0 && s.img.nsegs > 0);
    KT_EXPECT_EQ(elf_spawn_find(&fi_ops, &fi, "nosuch", &s), ELF_ERR_NO_FILE);
    KT_EXPECT_EQ(elf_spawn_find(&fi_ops, &fi, "other", &s), ELF_ERR_MAGIC);     /* not an ELF file */
    fi.size_error = -7;         /* an op's error comes back as it is */
    KT_EXPECT_EQ(elf_spawn_find(&fi_ops, &fi, "init", &s), -7);
    fi.size_error = 0;
    struct ks_bootimg_header *h = (struct ks_bootimg_header *)fi.bytes;
    h->count = 1u << 30;        /* a table longer than the image */
    KT_EXPECT_EQ(elf_spawn_find(&fi_ops, &fi, "init", &s), ELF_ERR_TRUNCATED);
    h->count = 2;
    struct ks_bootimg_entry *e = (struct ks_bootimg_entry *)(fi.bytes + sizeof *h);
    e[1].size = fi.size;        /* a file running past the image */
    KT_EXPECT_EQ(elf_spawn_find(&fi_ops, &fi, "init", &s), ELF_ERR_TRUNCATED);
    e[1].size = fi.size - 2 * PG - 8;
    e[1].offset = 2 * PG + 8;   /* not page-aligned: its pages could not be mapped */
    KT_EXPECT_EQ(elf_spawn_find(&fi_ops, &fi, "init", &s), ELF_ERR_SEGMENT);
    fi.bytes[0] ^= 1;
    KT_EXPECT_EQ(elf_spawn_find(&fi_ops, &fi, "init", &s), ELF_ERR_MAGIC);
    fi.size = 8;
    KT_EXPECT_EQ(elf_spawn_find(&fi_ops, &fi, "init", &s), ELF_ERR_MAGIC);
    free(fi.bytes);
}

static void spawn_map(void)
{
    struct fake_image fi;
    static uint8_t page[4096];
    struct elf_spawn s = { .page = page };
    if (fake_image_new(&fi))
        return;
    KT_ASSERT(elf_spawn_find(&fi_ops, &fi, "init", &s) == 0);
    memset(page, 0xee, sizeof page);    /* what an earlier spawn left in the scratch page */
    const char *argv[] = { "init", "utest", NULL };
    const struct elf_auxv extra[] = { { 0x1000, 42 }, { 0x1001, 43 } };
    KT_EXPECT_EQ(elf_spawn_map(&fi_ops, &fi, &s, argv, extra, 2), 0);
    KT_EXPECT_EQ(fi.stacks, 1);
    KT_EXPECT(fi.files + fi.anons >= s.img.nsegs);
    KT_EXPECT_EQ(fi.stack_len, STACK_TOP - s.sp);
    KT_EXPECT(s.sp % 16 == 0);
    /* The padding is zeroed, not the earlier bytes: built again over other scratch bytes, the
       stack comes out the same (a fill value alone could match an address by chance). */
    static uint8_t first[sizeof fi.stack];
    uint64_t first_len = fi.stack_len;
    memcpy(first, fi.stack, sizeof first);
    memset(page, 0x11, sizeof page);
    KT_EXPECT_EQ(elf_spawn_map(&fi_ops, &fi, &s, argv, extra, 2), 0);
    KT_EXPECT_EQ(fi.stack_len, first_len);
    KT_EXPECT(memcmp(fi.stack + sizeof fi.stack - first_len, first + sizeof first - first_len, first_len) == 0);
    const uint64_t *w = (const uint64_t *)(fi.stack + sizeof fi.stack - fi.stack_len);
    KT_EXPECT_EQ(w[0], 2);      /* argc */
    int found = 0;              /* the loader's entries are in the auxiliary vector */
    for (uint64_t i = 5; i + 1 < fi.stack_len / 8 && w[i] != 0; i += 2)   /* argc, 2 argv, 2 NULLs */
        found += (w[i] == 0x1000 && w[i + 1] == 42) + (w[i] == 0x1001 && w[i + 1] == 43);
    KT_EXPECT_EQ(found, 2);

    struct elf_auxv many[64];         /* more than SPAWN_MAX_AUX (48) with the loader's own */
    memset(many, 0, sizeof many);
    KT_EXPECT_EQ(elf_spawn_map(&fi_ops, &fi, &s, argv, many, 64), ELF_ERR_STACK);
    free(fi.bytes);
}

static const struct ktest_case elf_cases[] = {
    { "parse_valid", parse_valid },
    { "prot_from_flags", prot_from_flags },
    { "parse_boundaries", parse_boundaries },
    { "err_truncated", err_truncated },
    { "err_magic", err_magic },
    { "err_format", err_format },
    { "err_machine", err_machine },
    { "err_type", err_type },
    { "err_phdrs", err_phdrs },
    { "err_segment", err_segment },
    { "err_range", err_range },
    { "err_overlap", err_overlap },
    { "err_entry", err_entry },
    { "err_too_many", err_too_many },
    { "err_empty", err_empty },
    { "error_strings", error_strings },
    { "partial_avail", partial_avail },
    { "every_truncation", every_truncation },
    { "random_mutations", random_mutations },
    { "user_init", user_init },
    { "user_utest", user_utest },
    { "load_partial_page", load_partial_page },
    { "load_aligned_filesz", load_aligned_filesz },
    { "load_bss_only", load_bss_only },
    { "load_segments_in_order", load_segments_in_order },
    { "load_error_stops", load_error_stops },
    { "stack_layout", stack_layout },
    { "stack_no_args", stack_no_args },
    { "stack_other_top", stack_other_top },
    { "stack_sizes", stack_sizes },
    { "stack_too_small", stack_too_small },
    { "spawn_find", spawn_find },
    { "spawn_map", spawn_map },
};

KTEST_SUITE(elf_suite, "elf", elf_cases);

int main(int argc, char **argv)
{
    alarm(60);      /* a hang fails the run instead of stalling it */
    static char dir[512];
    if (argc > 1) {
        snprintf(dir, sizeof dir, "%s", argv[1]);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
            build_dir = dir;
        } else {
            build_dir = ".";
        }
    }
    const struct ktest_suite *suites[] = { &elf_suite };
    return ktest_run(suites, 1) ? 1 : 0;
}
