/*
 * tests/test_fdt.c - host tests for the device tree reader (kernel/fdt.c) and the
 * platform parser built on it (kernel/platform.c).
 *
 * Usage: test_fdt VIRT_DTB   (build/virt.dtb: what QEMU's virt machine, -m 256M,
 * hands the kernel). Cases that need that DTB fail, not skip, without it.
 *
 * Suite "fdt" checks the API on the real DTB and on crafted ones, the header
 * checks error by error, and robustness: every truncation of the real DTB and
 * a few thousand seeded random mutations of it are walked node by node and
 * property by property, and handed to platform_parse, with every buffer
 * malloc'ed at its exact size so AddressSanitizer sees any read past it.
 * Suite "platform" checks what platform_parse extracts, and that a DTB the
 * kernel cannot boot with panics with a clear "devtree: ..." message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kernel/fdt.h"
#include "kernel/kprintf.h"
#include "kernel/ktest.h"
#include "kernel/platform.h"
#include "tests/dtb_builder.h"
#include "tests/host.h"

/* ---- blob helpers ---- */

/* Header field offsets (Devicetree Specification v0.4, 5.2). */
enum {
    H_MAGIC = 0, H_TOTALSIZE = 4, H_OFF_STRUCT = 8, H_OFF_STRINGS = 12, H_OFF_RSVMAP = 16,
    H_VERSION = 20, H_LAST_COMP = 24, H_BOOT_CPU = 28, H_SIZE_STRINGS = 32, H_SIZE_STRUCT = 36,
    H_SIZE = 40,
};

enum { TOK_BEGIN_NODE = 1, TOK_END_NODE = 2, TOK_PROP = 3, TOK_NOP = 4, TOK_END = 9 };

static uint32_t get32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void put32(void *p, uint32_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

static uint32_t hdr(const void *blob, int field)
{
    return get32((const uint8_t *)blob + field);
}

static void set_hdr(void *blob, int field, uint32_t v)
{
    put32((uint8_t *)blob + field, v);
}

/* A malloc'ed copy of exactly n bytes (n may be 0). */
static uint8_t *copy_of(const void *src, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        abort();
    if (n)
        memcpy(p, src, n);
    return p;
}

/* ---- the real DTB from argv[1] ---- */

static uint8_t *virt_file;      /* the whole file as read */
static size_t virt_file_size;
static uint32_t virt_size;      /* its header totalsize; 0 if the file is unusable */

/* Fail (not skip) the running case when argv[1] gave no usable DTB. */
#define NEED_VIRT() \
    do { \
        if (!virt_size) { \
            ktest_fail(__FILE__, __LINE__, "no usable DTB: pass build/virt.dtb as argv[1]"); \
            return; \
        } \
    } while (0)

/* An exact-size copy of the real DTB (totalsize bytes). */
static uint8_t *virt_copy(void)
{
    return copy_of(virt_file, virt_size);
}

/*
 * Independent of kernel/fdt.c: the offsets of all BEGIN_NODE tokens of a DTB
 * known to be well formed, in document order. Returns their number.
 */
static int oracle_nodes(const uint8_t *blob, int *out, int max)
{
    const uint8_t *s = blob + hdr(blob, H_OFF_STRUCT);
    uint32_t end = hdr(blob, H_SIZE_STRUCT), o = 0;
    int n = 0;
    while (o + 4 <= end) {
        uint32_t tok = get32(s + o);
        uint32_t at = o;
        o += 4;
        if (tok == TOK_BEGIN_NODE) {
            if (n < max)
                out[n] = (int)at;
            n++;
            o += (uint32_t)strlen((const char *)s + o) + 1;
        } else if (tok == TOK_PROP) {
            o += 8 + get32(s + o);
        } else if (tok == TOK_END) {
            break;
        }
        o = (o + 3) & ~3u;
    }
    return n;
}

/* Offset of the only occurrence of `needle` (n bytes) in blob[from, to); -1 if none or several. */
static long find_unique(const uint8_t *blob, size_t from, size_t to, const void *needle, size_t n)
{
    long found = -1;
    for (size_t i = from; i + n <= to; i++) {
        if (memcmp(blob + i, needle, n) == 0) {
            if (found >= 0)
                return -1;
            found = (long)i;
        }
    }
    return found;
}

/* ---- platform_parse under catch_panic ---- */

#define TEST_DTB_PA 0x82200000ul

struct parse_job {
    const void *dtb;
    size_t avail;
    unsigned long hartid;
    struct platform p;
};

static void parse_fn(void *arg)
{
    struct parse_job *j = arg;
    platform_parse(&j->p, j->dtb, TEST_DTB_PA, j->avail, j->hartid);
}

/* 1 if platform_parse panicked (message in last_panic_message()), 0 if j->p is filled. */
static int try_parse(struct parse_job *j, const void *dtb, size_t avail, unsigned long hartid)
{
    memset(j, 0, sizeof *j);
    j->dtb = dtb;
    j->avail = avail;
    j->hartid = hartid;
    return catch_panic(parse_fn, j);
}

/* Parse a blob that must panic; the panic message must contain `want`. */
#define EXPECT_PANIC(blob, size, want) \
    do { \
        struct parse_job j_; \
        int panicked_ = try_parse(&j_, (blob), (size), 0); \
        KT_EXPECT(panicked_); \
        if (panicked_ && !strstr(last_panic_message(), (want))) \
            ktest_fail(__FILE__, __LINE__, "panic message \"%s\" lacks \"%s\"", \
                       last_panic_message(), (want)); \
    } while (0)

/* ---- the whole-tree walk used by the robustness cases ---- */

struct walk_stats {
    long nodes;         /* nodes reached by fdt_next_node */
    long props;         /* properties found by name */
    long bad;           /* results pointing outside the blob, or walks that did not end */
    long indexed;       /* blobs fdt_open indexed (see index_agrees) */
    long disagree;      /* lookups where the index and the walk gave different answers */
    unsigned sum;       /* keeps the value reads from being optimized away */
};

#define MAX_NAMES 96

/*
 * The property names to look up on every node: every string in the blob's
 * strings block (fdt_open has checked the block lies inside the blob), plus a
 * name no node has, so that every property token of every node gets decoded.
 */
static int collect_names(const struct fdt *f, const char **names)
{
    const char *strs = (const char *)f->blob + f->strings_off;
    uint32_t size = f->strings_size, off = 0;
    int n = 0;
    names[n++] = "no-such-property";
    while (off < size && n < MAX_NAMES) {
        const char *nul = memchr(strs + off, 0, size - off);
        if (!nul)
            break;
        names[n++] = strs + off;
        off = (uint32_t)(nul - strs) + 1;
    }
    return n;
}

static int in_blob(const struct fdt *f, const void *p, size_t len)
{
    const uint8_t *b = p;
    return b >= f->blob && b <= f->blob + f->size && len <= (size_t)(f->blob + f->size - b);
}

static void touch_node(const struct fdt *f, int node, const char **names, int nnames,
                       struct walk_stats *st)
{
    const char *name = fdt_node_name(f, node);
    if (!in_blob(f, name, strlen(name) + 1))
        st->bad++;
    st->sum += (unsigned)fdt_parent(f, node) + (unsigned)fdt_first_child(f, node);
    st->sum += (unsigned)fdt_next_sibling(f, node);
    st->sum += (unsigned)fdt_is_compatible(f, node, "ns16550a");
    for (int i = 0; i < nnames; i++) {
        uint32_t len = 0, v = 0;
        const uint8_t *val = fdt_prop(f, node, names[i], &len);
        if (!val)
            continue;
        st->props++;
        if (!in_blob(f, val, len))
            st->bad++;
        for (uint32_t k = 0; k < len; k++)
            st->sum += val[k];
        const char *s = fdt_prop_string(f, node, names[i]);
        if (s)
            st->sum += (unsigned)strlen(s);
        if (fdt_prop_u32(f, node, names[i], &v) == 0)
            st->sum += v;
    }
}

/* Preorder through first_child/next_sibling; depth-limited, the tree may be hostile. */
static void walk_children(const struct fdt *f, int node, int depth, long *count)
{
    if (depth > FDT_MAX_DEPTH + 2 || *count > (long)f->size)
        return;
    for (int c = fdt_first_child(f, node); c >= 0; c = fdt_next_sibling(f, c)) {
        if (++*count > (long)f->size)
            return;
        walk_children(f, c, depth + 1, count);
    }
}

/* Call every fdt function on every node of an opened (possibly corrupt) DTB. */
static void walk_everything(const struct fdt *f, struct walk_stats *st)
{
    const char *names[MAX_NAMES];
    int nnames = collect_names(f, names);
    long limit = (long)f->size / 8 + 1;    /* a node takes at least 8 bytes */

    int root = fdt_root(f);
    if (root < 0)
        st->bad++;      /* fdt_open accepted it, so the root must be there */
    long n = 0;
    for (int node = root; node >= 0; node = fdt_next_node(f, node)) {
        if (++n > limit) {
            st->bad++;
            break;
        }
        touch_node(f, node, names, nnames, st);
    }
    st->nodes += n;

    long rec = 0;
    if (root >= 0)
        walk_children(f, root, 0, &rec);
    if (rec > limit)
        st->bad++;

    static const char *const paths[] = {
        "/", "/chosen", "/cpus", "/cpus/cpu@0", "/soc/serial", "/soc/serial@10000000/x",
        "/aliases", "/reserved-memory", "//soc//test@100000/",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        st->sum += (unsigned)fdt_path(f, paths[i]);

    static const char *const compats[] = { "ns16550a", "virtio,mmio", "sifive,test0" };
    for (size_t i = 0; i < sizeof compats / sizeof compats[0]; i++) {
        long k = 0;
        for (int node = fdt_find_compatible(f, -1, compats[i]); node >= 0;
             node = fdt_find_compatible(f, node, compats[i])) {
            if (++k > limit) {
                st->bad++;
                break;
            }
        }
    }

    uint64_t a, s;
    for (int i = 0; i < 64 && fdt_rsvmap_entry(f, i, &a, &s) == 0; i++)
        st->sum += (unsigned)(a + s);
}

/*
 * If fdt_open indexed f, every lookup the index answers must give what the walk
 * gives: compare them on every node with a copy whose index is switched off.
 */
static void index_agrees(const struct fdt *f, struct walk_stats *st)
{
    if (f->nindex < 0)
        return;
    st->indexed++;
    struct fdt *g = malloc(sizeof *g);
    *g = *f;
    g->nindex = -1;
    static const char *const compats[] = { "ns16550a", "virtio,mmio", "sifive,test0", "riscv,plic0", "" };
    long n = 0, limit = (long)f->size / 8 + 1;
    for (int node = fdt_root(g); node >= 0 && n <= limit; node = fdt_next_node(g, node), n++) {
        uint32_t ph;
        st->disagree += fdt_parent(f, node) != fdt_parent(g, node);
        st->disagree += fdt_next_node(f, node) != fdt_next_node(g, node);
        st->disagree += fdt_first_child(f, node) != fdt_first_child(g, node);
        st->disagree += fdt_next_sibling(f, node) != fdt_next_sibling(g, node);
        for (size_t i = 0; i < sizeof compats / sizeof compats[0]; i++)
            st->disagree += fdt_is_compatible(f, node, compats[i]) != fdt_is_compatible(g, node, compats[i]);
        if (fdt_prop_u32(g, node, "phandle", &ph) == 0)
            st->disagree += fdt_node_by_phandle(f, ph) != fdt_node_by_phandle(g, ph);
    }
    st->disagree += n != f->nindex;     /* the index has every node the walk finds */
    for (uint32_t ph = 0; ph < 8; ph++)
        st->disagree += fdt_node_by_phandle(f, ph) != fdt_node_by_phandle(g, ph);
    free(g);
}

struct fuzz_counts {
    long rejected;      /* fdt_open said no */
    long panicked;      /* fdt_open accepted, platform_parse panicked */
    long parsed;        /* platform_parse returned */
    long bad;           /* broken invariants (see check_blob) */
    struct walk_stats walk;
};

/*
 * Everything the robustness cases do with one candidate blob of exactly `avail`
 * bytes: open it; if that works, walk it all; then platform_parse it, which
 * must either fill in a sane struct platform or panic with "devtree: ...".
 */
static void check_blob(const uint8_t *blob, size_t avail, struct fuzz_counts *c)
{
    struct fdt f;
    int err = fdt_open(&f, blob, avail);
    if (err == 0) {
        walk_everything(&f, &c->walk);
        index_agrees(&f, &c->walk);
    }
    else if (err >= 0 || !strcmp(fdt_strerror(err), "unknown error"))
        c->bad++;

    struct parse_job j;
    if (try_parse(&j, blob, avail, 0)) {
        if (strncmp(last_panic_message(), "devtree: ", 9) != 0)
            c->bad++;
        if (err)
            c->rejected++;
        else
            c->panicked++;
        return;
    }
    if (err)
        c->bad++;       /* platform_parse accepted what fdt_open rejected */
    c->parsed++;
    const struct platform *p = &j.p;
    if (p->nram < 1 || p->nram > PLATFORM_MAX_RANGES || p->nreserved < 0 ||
        p->nreserved > PLATFORM_MAX_RANGES || p->timebase_hz == 0 || p->uart_size == 0 ||
        p->dtb_size > avail || !p->uart_path || !p->isa || !p->bootargs)
        c->bad++;
    else
        c->walk.sum += (unsigned)(strlen(p->uart_path) + strlen(p->isa) + strlen(p->bootargs));
}

/* ==== suite "fdt" ==== */

static void test_virt_opens(void)
{
    NEED_VIRT();
    struct fdt f;
    KT_ASSERT(fdt_open(&f, virt_file, virt_file_size) == 0);
    KT_EXPECT_EQ(fdt_size(&f), hdr(virt_file, H_TOTALSIZE));
    KT_EXPECT(fdt_size(&f) <= virt_file_size);
    KT_EXPECT(fdt_root(&f) >= 0);
    KT_EXPECT_STREQ(fdt_node_name(&f, fdt_root(&f)), "");
    uint8_t *exact = virt_copy();
    KT_EXPECT_EQ(fdt_open(&f, exact, virt_size), 0);
    KT_EXPECT_EQ(fdt_open(&f, exact, virt_size - 1), FDT_ERR_TRUNCATED);
    free(exact);
}

static void test_path_lookup(void)
{
    NEED_VIRT();
    struct fdt f;
    KT_ASSERT(fdt_open(&f, virt_file, virt_file_size) == 0);
    int root = fdt_root(&f);
    int serial = fdt_path(&f, "/soc/serial@10000000");
    KT_ASSERT(serial >= 0);
    KT_EXPECT_STREQ(fdt_node_name(&f, serial), "serial@10000000");
    KT_EXPECT_EQ(fdt_path(&f, "/soc/serial"), serial);
    KT_EXPECT_EQ(fdt_path(&f, "/soc//serial/"), serial);
    KT_EXPECT_EQ(fdt_path(&f, "/"), root);
    KT_EXPECT_EQ(fdt_path(&f, "/nope"), FDT_ERR_NOTFOUND);
    KT_EXPECT_EQ(fdt_path(&f, "soc/serial"), FDT_ERR_NOTFOUND);
    KT_EXPECT_EQ(fdt_path(&f, ""), FDT_ERR_NOTFOUND);
    KT_EXPECT_EQ(fdt_path(&f, "/soc/serial@1"), FDT_ERR_NOTFOUND);    /* unit address must match */
    KT_EXPECT_EQ(fdt_path(&f, "/soc/seria"), FDT_ERR_NOTFOUND);       /* no prefix matches */
    KT_EXPECT_EQ(fdt_path(&f, "/soc/serial@10000000/x"), FDT_ERR_NOTFOUND);
    KT_EXPECT_EQ(fdt_path(&f, "/serial"), FDT_ERR_NOTFOUND);          /* not at the root */

    /* Without a unit address the first of several matches, in document order. */
    int first = fdt_find_compatible(&f, -1, "virtio,mmio");
    KT_ASSERT(first >= 0);
    KT_EXPECT_EQ(fdt_path(&f, "/soc/virtio_mmio"), first);
    KT_EXPECT_STREQ(fdt_node_name(&f, first), "virtio_mmio@10008000");
    int v1 = fdt_path(&f, "/soc/virtio_mmio@10001000");
    KT_EXPECT(v1 > first);
    KT_EXPECT_STREQ(fdt_node_name(&f, v1), "virtio_mmio@10001000");

    int core = fdt_path(&f, "/cpus/cpu-map/cluster0/core0");
    KT_ASSERT(core >= 0);
    KT_EXPECT_STREQ(fdt_node_name(&f, core), "core0");
}

/* Unit addresses in paths, on a crafted tree. */
static void test_path_crafted(void)
{
    struct dtb_builder b;
    size_t size;
    dtb_begin(&b);
    dtb_node(&b, "");
    static const char *const kids[] = { "dev@1@2", "dev@10", "dev", "bus@0", "bus" };
    for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++) {
        dtb_node(&b, kids[i]);
        dtb_node(&b, "x");
        dtb_prop_u32(&b, "i", (uint32_t)i);
        dtb_end_node(&b);
        dtb_end_node(&b);
    }
    dtb_end_node(&b);
    uint8_t *blob = dtb_finish(&b, &size);
    struct fdt f;
    KT_ASSERT(fdt_open(&f, blob, size) == 0);
    int kid[5], i = 0;
    for (int n = fdt_first_child(&f, fdt_root(&f)); n >= 0 && i < 5; n = fdt_next_sibling(&f, n))
        kid[i++] = n;
    KT_ASSERT(i == 5);
    KT_EXPECT_EQ(fdt_path(&f, "/dev"), kid[0]);         /* no '@': the first "dev@..." */
    KT_EXPECT_EQ(fdt_path(&f, "/dev@1"), FDT_ERR_NOTFOUND);
    KT_EXPECT_EQ(fdt_path(&f, "/dev@1@2"), kid[0]);
    KT_EXPECT_EQ(fdt_path(&f, "/dev@10"), kid[1]);
    KT_EXPECT_EQ(fdt_path(&f, "/dev@"), FDT_ERR_NOTFOUND);
    KT_EXPECT_EQ(fdt_path(&f, "/bus"), kid[3]);
    uint32_t v = 99;
    KT_EXPECT_EQ(fdt_prop_u32(&f, fdt_path(&f, "/bus@0/x"), "i", &v), 0);
    KT_EXPECT_EQ(v, 3);
    KT_EXPECT_EQ(fdt_prop_u32(&f, fdt_path(&f, "/dev@10/x"), "i", &v), 0);
    KT_EXPECT_EQ(v, 1);
    KT_EXPECT_EQ(fdt_parent(&f, fdt_path(&f, "/bus/x")), kid[3]);
    free(blob);
}

static void test_parent_and_name(void)
{
    NEED_VIRT();
    struct fdt f;
    KT_ASSERT(fdt_open(&f, virt_file, virt_file_size) == 0);
    int root = fdt_root(&f), soc = fdt_path(&f, "/soc"), serial = fdt_path(&f, "/soc/serial");
    int core = fdt_path(&f, "/cpus/cpu-map/cluster0/core0");
    KT_ASSERT(soc >= 0 && serial >= 0 && core >= 0);
    KT_EXPECT_EQ(fdt_parent(&f, serial), soc);
    KT_EXPECT_EQ(fdt_parent(&f, soc), root);
    KT_EXPECT_EQ(fdt_parent(&f, root), FDT_ERR_NOTFOUND);
    KT_EXPECT_EQ(fdt_parent(&f, core), fdt_path(&f, "/cpus/cpu-map/cluster0"));
    KT_EXPECT_EQ(fdt_parent(&f, fdt_parent(&f, core)), fdt_path(&f, "/cpus/cpu-map"));
    KT_EXPECT_STREQ(fdt_node_name(&f, root), "");
    KT_EXPECT_STREQ(fdt_node_name(&f, soc), "soc");
    KT_EXPECT_STREQ(fdt_node_name(&f, FDT_ERR_NOTFOUND), "");
    KT_EXPECT_STREQ(fdt_node_name(&f, serial + 4), "");     /* not a node offset */

    /* Children and siblings in document order. */
    int c = fdt_first_child(&f, root);
    KT_EXPECT_STREQ(fdt_node_name(&f, c), "pmu");
    KT_EXPECT_STREQ(fdt_node_name(&f, fdt_next_sibling(&f, c)), "fw-cfg@10100000");
    KT_EXPECT_EQ(fdt_first_child(&f, serial), FDT_ERR_NOTFOUND);     /* a leaf */
    KT_EXPECT_EQ(fdt_next_sibling(&f, root), FDT_ERR_NOTFOUND);
    KT_EXPECT_EQ(fdt_next_sibling(&f, soc), FDT_ERR_NOTFOUND);       /* last child of / */
    int last = -1;
    for (int n = fdt_first_child(&f, soc); n >= 0; n = fdt_next_sibling(&f, n))
        last = n;
    KT_EXPECT_STREQ(fdt_node_name(&f, last), "clint@2000000");
}

static void test_props(void)
{
    NEED_VIRT();
    struct fdt f;
    KT_ASSERT(fdt_open(&f, virt_file, virt_file_size) == 0);
    int serial = fdt_path(&f, "/soc/serial@10000000"), cpus = fdt_path(&f, "/cpus");
    int fwcfg = fdt_path(&f, "/fw-cfg");
    KT_ASSERT(serial >= 0 && cpus >= 0 && fwcfg >= 0);

    uint32_t len = 0;
    const uint8_t *reg = fdt_prop(&f, serial, "reg", &len);
    KT_ASSERT(reg != NULL);
    KT_EXPECT_EQ(len, 16);
    KT_EXPECT_EQ(fdt_read_cells(reg, 2), 0x10000000);
    KT_EXPECT_EQ(fdt_read_cells(reg + 8, 2), 0x100);
    KT_EXPECT(fdt_prop(&f, serial, "nope", &len) == NULL);
    KT_EXPECT(fdt_prop(&f, serial, "re", &len) == NULL);
    KT_EXPECT(fdt_prop(&f, FDT_ERR_NOTFOUND, "reg", &len) == NULL);
    KT_EXPECT(fdt_prop(&f, serial, "reg", NULL) == reg);

    KT_EXPECT_STREQ(fdt_prop_string(&f, serial, "compatible"), "ns16550a");
    KT_EXPECT(fdt_prop_string(&f, cpus, "timebase-frequency") == NULL);  /* 00 98 96 80: no NUL */
    KT_EXPECT(fdt_prop_string(&f, serial, "nope") == NULL);
    /* An empty property exists, but is no string. */
    KT_EXPECT(fdt_prop(&f, fwcfg, "dma-coherent", &len) != NULL);
    KT_EXPECT_EQ(len, 0);
    KT_EXPECT(fdt_prop_string(&f, fwcfg, "dma-coherent") == NULL);

    uint32_t v = 0;
    KT_EXPECT_EQ(fdt_prop_u32(&f, cpus, "timebase-frequency", &v), 0);
    KT_EXPECT_EQ(v, 10000000);
    KT_EXPECT_EQ(fdt_prop_u32(&f, serial, "clock-frequency", &v), 0);
    KT_EXPECT_EQ(v, 3686400);
    v = 0x5a5a5a5a;
    KT_EXPECT_EQ(fdt_prop_u32(&f, serial, "reg", &v), FDT_ERR_NOTFOUND);     /* 16 bytes */
    KT_EXPECT_EQ(fdt_prop_u32(&f, serial, "compatible", &v), FDT_ERR_NOTFOUND); /* 9 bytes */
    KT_EXPECT_EQ(fdt_prop_u32(&f, fwcfg, "dma-coherent", &v), FDT_ERR_NOTFOUND); /* 0 bytes */
    KT_EXPECT_EQ(fdt_prop_u32(&f, serial, "nope", &v), FDT_ERR_NOTFOUND);
    KT_EXPECT_EQ(v, 0x5a5a5a5a);    /* untouched on failure */

    int cpu0 = fdt_path(&f, "/cpus/cpu@0");
    const char *isa = fdt_prop_string(&f, cpu0, "riscv,isa");
    KT_ASSERT(isa != NULL);
    KT_EXPECT(strncmp(isa, "rv64", 4) == 0);
    KT_EXPECT(strstr(isa, "_sstc") != NULL);
}

static void test_read_cells(void)
{
    static const uint8_t b[8] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0 };
    KT_EXPECT_EQ(fdt_read_cells(b, 1), 0x12345678);
    KT_EXPECT_EQ(fdt_read_cells(b, 2), 0x123456789abcdef0ull);
    KT_EXPECT_EQ(fdt_read_cells(b + 4, 1), 0x9abcdef0);
    KT_EXPECT_EQ(fdt_read_cells(b, 0), 0);
}

static void test_compatible(void)
{
    NEED_VIRT();
    struct fdt f;
    KT_ASSERT(fdt_open(&f, virt_file, virt_file_size) == 0);
    int test = fdt_path(&f, "/soc/test@100000"), serial = fdt_path(&f, "/soc/serial");
    int plat = fdt_path(&f, "/platform-bus");
    KT_ASSERT(test >= 0 && serial >= 0 && plat >= 0);
    KT_EXPECT(fdt_is_compatible(&f, test, "sifive,test1"));       /* first entry */
    KT_EXPECT(fdt_is_compatible(&f, test, "sifive,test0"));       /* middle */
    KT_EXPECT(fdt_is_compatible(&f, test, "syscon"));             /* last */
    KT_EXPECT(!fdt_is_compatible(&f, test, "sifive,test"));       /* a prefix */
    KT_EXPECT(!fdt_is_compatible(&f, test, "sifive,test01"));
    KT_EXPECT(!fdt_is_compatible(&f, test, "sys"));
    KT_EXPECT(!fdt_is_compatible(&f, test, ""));
    KT_EXPECT(fdt_is_compatible(&f, plat, "simple-bus"));
    KT_EXPECT(fdt_is_compatible(&f, serial, "ns16550a"));
    KT_EXPECT(!fdt_is_compatible(&f, serial, "ns16550"));
    KT_EXPECT(!fdt_is_compatible(&f, fdt_path(&f, "/cpus/cpu-map"), "riscv"));   /* no compatible */
    KT_EXPECT(!fdt_is_compatible(&f, FDT_ERR_NOTFOUND, "ns16550a"));
}

/* Run fdt_stringlist_contains on an exact-size heap copy, so ASan sees overreads. */
static int list_has(const char *list, uint32_t len, const char *s)
{
    char *copy = (char *)copy_of(list, len);
    int r = fdt_stringlist_contains(copy, len, s);
    free(copy);
    return r;
}

static void test_stringlist(void)
{
    static const char list[] = "abc\0de\0f";   /* 9 bytes with the final NUL */
    KT_EXPECT(list_has(list, 9, "abc"));
    KT_EXPECT(list_has(list, 9, "de"));
    KT_EXPECT(list_has(list, 9, "f"));
    KT_EXPECT(!list_has(list, 9, "ab"));
    KT_EXPECT(!list_has(list, 9, "abcd"));
    KT_EXPECT(!list_has(list, 9, "e"));
    /* No final NUL: the last entry ends where the list does. */
    KT_EXPECT(list_has(list, 8, "f"));
    KT_EXPECT(list_has(list, 6, "de"));         /* "abc\0de" */
    KT_EXPECT(list_has(list, 5, "d"));          /* "abc\0d" */
    KT_EXPECT(!list_has(list, 5, "de"));
    KT_EXPECT(list_has(list, 3, "abc"));        /* "abc" */
    KT_EXPECT(!list_has(list, 2, "abc"));       /* "ab" */
    KT_EXPECT(list_has(list, 2, "ab"));
    KT_EXPECT(!list_has(list, 0, "abc"));
    KT_EXPECT(!list_has(list, 0, ""));
    static const char empty_entry[] = "a\0\0b";
    KT_EXPECT(list_has(empty_entry, 5, ""));
    KT_EXPECT(list_has(empty_entry, 4, "b"));
}

static void test_find_compatible(void)
{
    NEED_VIRT();
    struct fdt f;
    KT_ASSERT(fdt_open(&f, virt_file, virt_file_size) == 0);
    int serial = fdt_find_compatible(&f, -1, "ns16550a");
    KT_EXPECT_EQ(serial, fdt_path(&f, "/soc/serial@10000000"));
    KT_EXPECT_EQ(fdt_find_compatible(&f, serial, "ns16550a"), FDT_ERR_NOTFOUND);
    KT_EXPECT_EQ(fdt_find_compatible(&f, -1, "sifive,test0"), fdt_path(&f, "/soc/test@100000"));
    KT_EXPECT_EQ(fdt_find_compatible(&f, -1, "no,such-device"), FDT_ERR_NOTFOUND);
    KT_EXPECT_EQ(fdt_find_compatible(&f, -1, "riscv-virtio"), fdt_root(&f));  /* the root counts */

    /* Continuing after each match visits all 8 virtio_mmio nodes, in order, once each. */
    static const char *const want[] = {
        "virtio_mmio@10008000", "virtio_mmio@10007000", "virtio_mmio@10006000",
        "virtio_mmio@10005000", "virtio_mmio@10004000", "virtio_mmio@10003000",
        "virtio_mmio@10002000", "virtio_mmio@10001000",
    };
    int n = 0, prev = -1;
    for (int node = fdt_find_compatible(&f, -1, "virtio,mmio"); node >= 0;
         node = fdt_find_compatible(&f, node, "virtio,mmio")) {
        KT_ASSERT(n < 8);
        KT_EXPECT(node > prev);
        KT_EXPECT_STREQ(fdt_node_name(&f, node), want[n]);
        prev = node;
        n++;
    }
    KT_EXPECT_EQ(n, 8);

    /* Continuing after a node's parent finds the node itself. */
    KT_EXPECT_EQ(fdt_find_compatible(&f, fdt_path(&f, "/soc"), "google,goldfish-rtc"),
                 fdt_path(&f, "/soc/rtc"));
}

#define MAX_NODES 512

static void collect_recursive(const struct fdt *f, int node, int *out, int *n)
{
    if (*n < MAX_NODES)
        out[*n] = node;
    (*n)++;
    for (int c = fdt_first_child(f, node); c >= 0; c = fdt_next_sibling(f, c))
        collect_recursive(f, c, out, n);
}

/* fdt_next_node, first_child/next_sibling recursion and an independent scan agree. */
static void check_walks_agree(const uint8_t *blob, size_t size, int min_nodes)
{
    static int by_next[MAX_NODES], by_rec[MAX_NODES], by_scan[MAX_NODES];
    struct fdt f;
    KT_ASSERT(fdt_open(&f, blob, size) == 0);
    int n_next = 0, node;
    for (node = fdt_root(&f); node >= 0 && n_next < MAX_NODES; node = fdt_next_node(&f, node))
        by_next[n_next++] = node;
    KT_EXPECT_EQ(node, FDT_ERR_NOTFOUND);
    int n_rec = 0;
    collect_recursive(&f, fdt_root(&f), by_rec, &n_rec);
    int n_scan = oracle_nodes(blob, by_scan, MAX_NODES);
    KT_EXPECT(n_next >= min_nodes);
    KT_EXPECT_EQ(n_next, n_rec);
    KT_EXPECT_EQ(n_next, n_scan);
    KT_ASSERT(n_next <= MAX_NODES && n_rec <= MAX_NODES && n_scan <= MAX_NODES);
    for (int i = 0; i < n_next && i < n_rec && i < n_scan; i++) {
        if (by_next[i] != by_rec[i] || by_next[i] != by_scan[i]) {
            ktest_fail(__FILE__, __LINE__, "node %d: next_node 0x%x, recursion 0x%x, scan 0x%x",
                       i, by_next[i], by_rec[i], by_scan[i]);
            return;
        }
    }
}

static void test_walk_orders_agree(void)
{
    NEED_VIRT();
    check_walks_agree(virt_file, virt_file_size, 25);
    size_t size;
    uint8_t *m = dtb_make_machine(NULL, &size);
    check_walks_agree(m, size, 8);
    free(m);
}

static void test_rsvmap(void)
{
    NEED_VIRT();
    struct fdt f;
    uint64_t a = 1, s = 1;
    KT_ASSERT(fdt_open(&f, virt_file, virt_file_size) == 0);
    KT_EXPECT_EQ(fdt_rsvmap_entry(&f, 0, &a, &s), FDT_ERR_NOTFOUND);

    struct dtb_builder b;
    size_t size;
    dtb_begin(&b);
    dtb_reserve(&b, 0x80000000, 0x200000);
    dtb_reserve(&b, 0x123456789ull, 0x1000);
    dtb_node(&b, "");
    dtb_end_node(&b);
    uint8_t *blob = dtb_finish(&b, &size);
    KT_ASSERT(fdt_open(&f, blob, size) == 0);
    KT_EXPECT_EQ(fdt_rsvmap_entry(&f, 0, &a, &s), 0);
    KT_EXPECT_EQ(a, 0x80000000);
    KT_EXPECT_EQ(s, 0x200000);
    KT_EXPECT_EQ(fdt_rsvmap_entry(&f, 1, &a, &s), 0);
    KT_EXPECT_EQ(a, 0x123456789ull);
    KT_EXPECT_EQ(s, 0x1000);
    KT_EXPECT_EQ(fdt_rsvmap_entry(&f, 2, &a, &s), FDT_ERR_NOTFOUND);
    KT_EXPECT_EQ(fdt_rsvmap_entry(&f, 7, &a, &s), FDT_ERR_NOTFOUND);
    free(blob);

    /*
     * A reservation map with no terminator, running into the end of the blob:
     * an entry that is only partly inside it ends the map, and is not read.
     */
    dtb_begin(&b);
    dtb_node(&b, "");
    dtb_prop_u32(&b, "a-long-property-name-filling-the-blob-end", 1);
    dtb_end_node(&b);
    blob = dtb_finish(&b, &size);
    /* Entry 0 fully inside; of entry 1, 8 to 15 bytes, then 1 to 8 bytes. */
    const uint32_t rs[] = { ((uint32_t)size - 24) & ~7u, ((uint32_t)size - 17) & ~7u };
    for (int i = 0; i < 2; i++) {
        uint32_t r = rs[i];
        KT_ASSERT(r >= hdr(blob, H_OFF_STRINGS) && r + 16 < size && r + 32 > size);
        set_hdr(blob, H_OFF_RSVMAP, r);
        KT_ASSERT(fdt_open(&f, blob, size) == 0);
        KT_EXPECT_EQ(fdt_rsvmap_entry(&f, 0, &a, &s), 0);
        KT_EXPECT_EQ(a, get32(blob + r) * 0x100000000ull + get32(blob + r + 4));
        KT_EXPECT_EQ(fdt_rsvmap_entry(&f, 1, &a, &s), FDT_ERR_NOTFOUND);
    }
    free(blob);
}

static void test_strerror(void)
{
    static const int codes[] = {
        0, FDT_ERR_NOTFOUND, FDT_ERR_MAGIC, FDT_ERR_VERSION, FDT_ERR_TRUNCATED,
        FDT_ERR_LAYOUT, FDT_ERR_STRUCT, FDT_ERR_DEPTH,
    };
    const size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        const char *s = fdt_strerror(codes[i]);
        KT_EXPECT(s && *s && strcmp(s, "unknown error") != 0);
        for (size_t k = 0; k < i; k++)
            KT_EXPECT(strcmp(s, fdt_strerror(codes[k])) != 0);
    }
    KT_EXPECT_STREQ(fdt_strerror(-99), "unknown error");
    KT_EXPECT(strstr(fdt_strerror(FDT_ERR_MAGIC), "magic") != NULL);
}

/* A small valid DTB: the header tests patch one field of it at a time. */
static uint8_t *small_dtb(size_t *size)
{
    return dtb_make_machine(NULL, size);
}

/* fdt_open on an exact-size copy of blob[0, avail) after set_hdr(field, v). */
static int open_patched(const uint8_t *blob, size_t size, size_t avail, int field, uint32_t v)
{
    uint8_t *copy = copy_of(blob, size > avail ? size : avail);
    if (field >= 0)
        set_hdr(copy, field, v);
    struct fdt f;
    int err = fdt_open(&f, copy, avail);
    free(copy);
    return err;
}

static void test_header_errors(void)
{
    size_t size;
    uint8_t *m = small_dtb(&size);
    struct fdt f;
    uint32_t st_off = hdr(m, H_OFF_STRUCT), st_size = hdr(m, H_SIZE_STRUCT);
    uint32_t str_off = hdr(m, H_OFF_STRINGS), str_size = hdr(m, H_SIZE_STRINGS);
    KT_ASSERT(st_off + st_size <= str_off && str_off + str_size == size);

    KT_EXPECT_EQ(open_patched(m, size, size, -1, 0), 0);      /* the control */
    for (size_t avail = 0; avail < H_SIZE; avail++) {
        uint8_t *head = copy_of(m, avail);
        KT_EXPECT_EQ(fdt_open(&f, head, avail), FDT_ERR_TRUNCATED);
        free(head);
    }
    KT_EXPECT_EQ(open_patched(m, size, size, H_MAGIC, 0xd00dfeee), FDT_ERR_MAGIC);
    KT_EXPECT_EQ(open_patched(m, size, size, H_MAGIC, 0xedfe0dd0), FDT_ERR_MAGIC);
    KT_EXPECT_EQ(open_patched(m, size, size, H_VERSION, 15), FDT_ERR_VERSION);
    KT_EXPECT_EQ(open_patched(m, size, size, H_VERSION, 0), FDT_ERR_VERSION);
    KT_EXPECT_EQ(open_patched(m, size, size, H_VERSION, 18), 0);   /* newer, still compatible */
    KT_EXPECT_EQ(open_patched(m, size, size, H_LAST_COMP, 18), FDT_ERR_VERSION);
    KT_EXPECT_EQ(open_patched(m, size, size, H_LAST_COMP, 0xffffffff), FDT_ERR_VERSION);
    KT_EXPECT_EQ(open_patched(m, size, size, H_LAST_COMP, 17), 0);
    KT_EXPECT_EQ(open_patched(m, size, size, H_TOTALSIZE, (uint32_t)size + 1), FDT_ERR_TRUNCATED);
    KT_EXPECT_EQ(open_patched(m, size, size, H_TOTALSIZE, 0xffffffff), FDT_ERR_TRUNCATED);
    KT_EXPECT_EQ(open_patched(m, size, size - 1, -1, 0), FDT_ERR_TRUNCATED);
    KT_EXPECT_EQ(open_patched(m, size, size, H_TOTALSIZE, H_SIZE - 1), FDT_ERR_LAYOUT);
    {
        /*
         * A header-only blob whose blocks all lie inside the header, with a
         * "root" found at boot_cpuid_phys (1 = BEGIN_NODE) followed by a 0
         * name: only the totalsize >= 40 rule rejects it.
         */
        uint8_t *h = copy_of(m, H_SIZE);
        set_hdr(h, H_OFF_RSVMAP, 16);
        set_hdr(h, H_OFF_STRUCT, H_BOOT_CPU);
        set_hdr(h, H_SIZE_STRUCT, 8);
        set_hdr(h, H_OFF_STRINGS, 0);
        set_hdr(h, H_SIZE_STRINGS, 0);
        set_hdr(h, H_BOOT_CPU, TOK_BEGIN_NODE);
        set_hdr(h, H_TOTALSIZE, H_SIZE);
        KT_EXPECT_EQ(fdt_open(&f, h, H_SIZE), 0);       /* odd, but consistent */
        set_hdr(h, H_TOTALSIZE, H_SIZE - 4);
        KT_EXPECT_EQ(fdt_open(&f, h, H_SIZE), FDT_ERR_LAYOUT);
        free(h);
    }
    /* Blocks outside the blob, including offsets where off + size wraps. */
    KT_EXPECT_EQ(open_patched(m, size, size, H_SIZE_STRUCT, (uint32_t)size - st_off + 4),
                 FDT_ERR_LAYOUT);
    KT_EXPECT_EQ(open_patched(m, size, size, H_OFF_STRUCT, (uint32_t)size + 4), FDT_ERR_LAYOUT);
    KT_EXPECT_EQ(open_patched(m, size, size, H_OFF_STRUCT, 0xfffffff0), FDT_ERR_LAYOUT);
    KT_EXPECT_EQ(open_patched(m, size, size, H_SIZE_STRUCT, 0xfffffffc), FDT_ERR_LAYOUT);
    KT_EXPECT_EQ(open_patched(m, size, size, H_SIZE_STRINGS, str_size + 1), FDT_ERR_LAYOUT);
    KT_EXPECT_EQ(open_patched(m, size, size, H_OFF_STRINGS, str_off + 1), FDT_ERR_LAYOUT);
    KT_EXPECT_EQ(open_patched(m, size, size, H_OFF_STRINGS, 0xffffffff), FDT_ERR_LAYOUT);
    KT_EXPECT_EQ(open_patched(m, size, size, H_SIZE_STRINGS, 0xffffffff), FDT_ERR_LAYOUT);
    /* The control's strings block ends exactly at totalsize; ending before it is fine too. */
    KT_EXPECT_EQ(open_patched(m, size, size, H_SIZE_STRINGS, str_size - 1), 0);
    /* Misalignment. */
    KT_EXPECT_EQ(open_patched(m, size, size, H_OFF_STRUCT, st_off + 2), FDT_ERR_LAYOUT);
    KT_EXPECT_EQ(open_patched(m, size, size, H_OFF_STRUCT, st_off + 1), FDT_ERR_LAYOUT);
    KT_EXPECT_EQ(open_patched(m, size, size, H_SIZE_STRUCT, st_size - 2), FDT_ERR_LAYOUT);
    KT_EXPECT_EQ(open_patched(m, size, size, H_OFF_RSVMAP, hdr(m, H_OFF_RSVMAP) + 4),
                 FDT_ERR_LAYOUT);
    KT_EXPECT_EQ(open_patched(m, size, size, H_OFF_RSVMAP, (uint32_t)size & ~7u), FDT_ERR_LAYOUT);
    /* A struct block that does not start with the root node. */
    static const uint32_t bad_first[] = { TOK_END_NODE, TOK_PROP, TOK_END, 0, 5, 0x01000000 };
    for (size_t i = 0; i < sizeof bad_first / sizeof bad_first[0]; i++) {
        uint8_t *copy = copy_of(m, size);
        put32(copy + st_off, bad_first[i]);
        KT_EXPECT_EQ(fdt_open(&f, copy, size), FDT_ERR_STRUCT);
        free(copy);
    }
    KT_EXPECT_EQ(open_patched(m, size, size, H_SIZE_STRUCT, 0), FDT_ERR_STRUCT);   /* empty */
    KT_EXPECT_EQ(open_patched(m, size, size, H_SIZE_STRUCT, 4), FDT_ERR_STRUCT);   /* name cut */
    free(m);

    /* The root's name runs to the end of the struct block without a NUL. */
    struct dtb_builder b;
    dtb_begin(&b);
    dtb_node(&b, "abc");
    uint8_t *r = dtb_finish(&b, &size);
    uint32_t off = hdr(r, H_OFF_STRUCT);
    set_hdr(r, H_SIZE_STRUCT, 8);
    KT_EXPECT_EQ(fdt_open(&f, r, size), 0);
    r[off + 7] = 'd';
    KT_EXPECT_EQ(fdt_open(&f, r, size), FDT_ERR_STRUCT);
    free(r);
}

/* NOP tokens may appear anywhere between tokens, and every lookup skips them. */
static void test_nop_tokens(void)
{
    struct dtb_builder b;
    size_t size;
    dtb_begin(&b);
    dtb_word(&b, TOK_NOP);
    dtb_node(&b, "");
    dtb_word(&b, TOK_NOP);
    dtb_prop_u32(&b, "a", 1);
    dtb_word(&b, TOK_NOP);
    dtb_word(&b, TOK_NOP);
    dtb_prop_u32(&b, "b", 2);
    dtb_word(&b, TOK_NOP);
    dtb_node(&b, "c");
    dtb_end_node(&b);
    dtb_word(&b, TOK_NOP);
    dtb_node(&b, "d");
    dtb_word(&b, TOK_NOP);
    dtb_end_node(&b);
    dtb_end_node(&b);
    dtb_word(&b, TOK_NOP);
    uint8_t *blob = dtb_finish(&b, &size);

    struct fdt f;
    uint32_t v = 0;
    KT_ASSERT(fdt_open(&f, blob, size) == 0);
    int root = fdt_root(&f);
    KT_EXPECT_EQ(root, 4);
    KT_EXPECT_EQ(fdt_prop_u32(&f, root, "a", &v), 0);
    KT_EXPECT_EQ(v, 1);
    KT_EXPECT_EQ(fdt_prop_u32(&f, root, "b", &v), 0);
    KT_EXPECT_EQ(v, 2);
    int c = fdt_first_child(&f, root);
    KT_EXPECT_STREQ(fdt_node_name(&f, c), "c");
    int d = fdt_next_sibling(&f, c);
    KT_EXPECT_STREQ(fdt_node_name(&f, d), "d");
    KT_EXPECT_EQ(fdt_next_sibling(&f, d), FDT_ERR_NOTFOUND);
    KT_EXPECT_EQ(fdt_next_node(&f, c), d);
    KT_EXPECT_EQ(fdt_next_node(&f, d), FDT_ERR_NOTFOUND);
    KT_EXPECT_EQ(fdt_parent(&f, d), root);
    KT_EXPECT_EQ(fdt_path(&f, "/d"), d);
    KT_EXPECT_EQ(fdt_next_sibling(&f, root), FDT_ERR_NOTFOUND);
    free(blob);
}

static void print_counts(const char *what, const struct fuzz_counts *c)
{
    kprintf("# %s: %ld rejected by fdt_open, %ld panicked, %ld parsed; "
            "walked %ld nodes, %ld properties; %ld indexed, %ld index disagreements\n",
            what, c->rejected, c->panicked, c->parsed, c->walk.nodes, c->walk.props, c->walk.indexed,
            c->walk.disagree);
}

/*
 * The real DTB laid out as header, reservation map, strings block, struct block
 * (QEMU puts the strings last), so that cutting it short cuts the struct block
 * while every property name stays readable. Exact size, in *size.
 */
static uint8_t *virt_strings_first(uint32_t *size)
{
    const uint32_t st_off = hdr(virt_file, H_OFF_STRUCT), st_size = hdr(virt_file, H_SIZE_STRUCT);
    const uint32_t str_off = hdr(virt_file, H_OFF_STRINGS);
    const uint32_t str_size = hdr(virt_file, H_SIZE_STRINGS);
    const uint32_t rsv = hdr(virt_file, H_OFF_RSVMAP);
    uint32_t new_str = H_SIZE + 16, new_st = (new_str + str_size + 3) & ~3u;
    *size = new_st + st_size;
    uint8_t *b = calloc(1, *size);
    if (!b)
        abort();
    memcpy(b, virt_file, H_SIZE);
    memcpy(b + H_SIZE, virt_file + rsv, 16);        /* the (empty) reservation map */
    memcpy(b + new_str, virt_file + str_off, str_size);
    memcpy(b + new_st, virt_file + st_off, st_size);
    set_hdr(b, H_TOTALSIZE, *size);
    set_hdr(b, H_OFF_RSVMAP, H_SIZE);
    set_hdr(b, H_OFF_STRINGS, new_str);
    set_hdr(b, H_OFF_STRUCT, new_st);
    return b;
}

/* The header of a blob cut to len bytes, rewritten so its blocks fit in what is left. */
static void fit_header(uint8_t *b, uint32_t len, const uint8_t *orig)
{
    uint32_t st_off = hdr(orig, H_OFF_STRUCT), st_size = hdr(orig, H_SIZE_STRUCT);
    uint32_t str_off = hdr(orig, H_OFF_STRINGS), str_size = hdr(orig, H_SIZE_STRINGS);
    set_hdr(b, H_TOTALSIZE, len);
    if (st_off > len) {
        set_hdr(b, H_OFF_STRUCT, len & ~3u);
        set_hdr(b, H_SIZE_STRUCT, 0);
    } else {
        uint32_t room = (len - st_off) & ~3u;
        set_hdr(b, H_SIZE_STRUCT, room < st_size ? room : st_size);
    }
    if (str_off > len) {
        set_hdr(b, H_OFF_STRINGS, len);
        set_hdr(b, H_SIZE_STRINGS, 0);
    } else {
        set_hdr(b, H_SIZE_STRINGS, len - str_off < str_size ? len - str_off : str_size);
    }
}

struct trunc_counts {
    long unpatched_bad;         /* cut copies fdt_open did not reject as FDT_ERR_TRUNCATED */
    struct fuzz_counts plain;   /* totalsize = len, nothing else changed */
    struct fuzz_counts fitted;  /* header blocks cut to fit too */
    struct fuzz_counts reordered;   /* the same, strings block first */
};

/* Every length from 0 to the real DTB's totalsize, each in a buffer of exactly that size. */
static void truncation_pass(struct trunc_counts *t)
{
    struct fdt f;
    for (uint32_t len = 0; len <= virt_size; len++) {
        uint8_t *buf = copy_of(virt_file, len);
        int err = fdt_open(&f, buf, len);
        if (len < virt_size ? err != FDT_ERR_TRUNCATED : err != 0)
            t->unpatched_bad++;
        if (len >= H_TOTALSIZE + 4)
            set_hdr(buf, H_TOTALSIZE, len);
        check_blob(buf, len, &t->plain);
        if (len >= H_SIZE) {
            fit_header(buf, len, virt_file);
            check_blob(buf, len, &t->fitted);
        }
        free(buf);
    }

    uint32_t size;
    uint8_t *sf = virt_strings_first(&size);
    for (uint32_t len = H_SIZE; len <= size; len++) {
        uint8_t *buf = copy_of(sf, len);
        fit_header(buf, len, sf);
        check_blob(buf, len, &t->reordered);
        free(buf);
    }
    free(sf);
}

static void test_truncation_every_length(void)
{
    NEED_VIRT();
    struct trunc_counts t;
    memset(&t, 0, sizeof t);
    truncation_pass(&t);
    print_counts("totalsize cut", &t.plain);
    print_counts("blocks cut to fit", &t.fitted);
    print_counts("strings first, blocks cut to fit", &t.reordered);
    KT_EXPECT_EQ(t.unpatched_bad, 0);
    KT_EXPECT_EQ(t.plain.bad + t.plain.walk.bad + t.plain.walk.disagree, 0);
    KT_EXPECT_EQ(t.fitted.bad + t.fitted.walk.bad + t.fitted.walk.disagree, 0);
    KT_EXPECT_EQ(t.reordered.bad + t.reordered.walk.bad + t.reordered.walk.disagree, 0);
    /* With only totalsize changed the blocks stick out: just the full length opens. */
    KT_EXPECT_EQ(t.plain.parsed, 1);
    KT_EXPECT_EQ(t.plain.rejected, virt_size);
    /* Fitted headers open, and the walks and platform_parse meet the cut mid-tree. */
    KT_EXPECT(t.fitted.panicked > (long)virt_size / 2);
    KT_EXPECT(t.reordered.panicked > (long)virt_size / 8);
    KT_EXPECT(t.reordered.parsed > (long)virt_size / 8);
    KT_EXPECT(t.reordered.walk.nodes > 4 * (long)virt_size);
    KT_EXPECT(t.reordered.walk.props > 4 * (long)virt_size);
}

/* Change 1-4 bytes of a copy of the real DTB: header, struct block or strings block. */
static void mutate(uint8_t *b)
{
    const uint32_t st_off = hdr(virt_file, H_OFF_STRUCT), st_size = hdr(virt_file, H_SIZE_STRUCT);
    const uint32_t str_off = hdr(virt_file, H_OFF_STRINGS);
    const uint32_t str_size = hdr(virt_file, H_SIZE_STRINGS);
    static const uint32_t words[] = {
        TOK_BEGIN_NODE, TOK_END_NODE, TOK_PROP, TOK_NOP, TOK_END, 0, 1, 3, 4, 0x7ffffffc,
        0xfffffffc, 0xffffffff, 0x80000000,
    };
    int n = 1 + (int)(test_rand() % 4);
    for (int i = 0; i < n; i++) {
        unsigned long r = test_rand();
        uint32_t off;
        switch (r % 8) {
        case 0:
            off = (uint32_t)(r >> 8) % H_SIZE;
            break;
        case 1: case 2: case 3:
            off = st_off + (uint32_t)(r >> 8) % st_size;
            break;
        case 4:
            off = str_off + (uint32_t)(r >> 8) % str_size;
            break;
        default: {
            /* A whole aligned word of the struct block: a token, length or name offset. */
            off = st_off + ((uint32_t)(r >> 8) % st_size & ~3u);
            put32(b + off, words[(r >> 40) % (sizeof words / sizeof words[0])]);
            continue;
        }
        }
        switch ((r >> 40) % 4) {
        case 0: b[off] = (uint8_t)(r >> 48); break;
        case 1: b[off] ^= (uint8_t)(1u << ((r >> 48) % 8)); break;
        case 2: b[off] = 0; break;
        default: b[off] = 0xff; break;
        }
    }
}

#define MUTATIONS 3000

static void test_random_mutations(void)
{
    NEED_VIRT();
    struct fuzz_counts c = { 0 };
    test_srand(0x5eed0fd7);
    for (int i = 0; i < MUTATIONS; i++) {
        uint8_t *buf = virt_copy();
        mutate(buf);
        check_blob(buf, virt_size, &c);
        free(buf);
    }
    print_counts("mutations", &c);
    KT_EXPECT_EQ(c.rejected + c.panicked + c.parsed, MUTATIONS);
    KT_EXPECT_EQ(c.bad, 0);
    KT_EXPECT_EQ(c.walk.bad, 0);
    KT_EXPECT(c.walk.indexed > MUTATIONS / 4);      /* most mutations leave the structure readable */
    KT_EXPECT_EQ(c.walk.disagree, 0);
    KT_EXPECT(c.rejected > 0);
    KT_EXPECT(c.panicked > 0);
    KT_EXPECT(c.parsed > 0);
    KT_EXPECT(c.walk.nodes > MUTATIONS);
}

/* A root with one chain of `levels` nested nodes "n", each with a property, then "/tail". */
static uint8_t *deep_tree(int levels, size_t *size)
{
    struct dtb_builder b;
    dtb_begin(&b);
    dtb_node(&b, "");
    for (int i = 0; i < levels; i++) {
        dtb_node(&b, "n");
        dtb_prop_u32(&b, "level", (uint32_t)i + 1);
    }
    for (int i = 0; i < levels; i++)
        dtb_end_node(&b);
    dtb_node(&b, "tail");
    dtb_end_node(&b);
    dtb_end_node(&b);
    return dtb_finish(&b, size);
}

/* Node at `level` below the root of a deep_tree (0 = the root). */
static int deep_node(const struct fdt *f, int level)
{
    int node = fdt_root(f);
    for (int i = 0; i < level && node >= 0; i++)
        node = fdt_next_node(f, node);
    return node;
}

static void test_depth_limit(void)
{
    size_t size;
    struct fdt f;
    uint32_t v = 0;

    /* FDT_MAX_DEPTH levels counting the root: everything works. */
    uint8_t *ok = deep_tree(FDT_MAX_DEPTH - 1, &size);
    KT_ASSERT(fdt_open(&f, ok, size) == 0);
    int root = fdt_root(&f), first = fdt_first_child(&f, root);
    int deepest = deep_node(&f, FDT_MAX_DEPTH - 1);
    KT_EXPECT_EQ(fdt_prop_u32(&f, deepest, "level", &v), 0);
    KT_EXPECT_EQ(v, FDT_MAX_DEPTH - 1);
    KT_EXPECT_EQ(fdt_next_sibling(&f, root), FDT_ERR_NOTFOUND);
    KT_EXPECT_STREQ(fdt_node_name(&f, fdt_next_sibling(&f, first)), "tail");
    KT_EXPECT_EQ(fdt_parent(&f, deepest), deep_node(&f, FDT_MAX_DEPTH - 2));
    KT_EXPECT_EQ(fdt_path(&f, "/tail"), fdt_next_sibling(&f, first));
    free(ok);

    /* One level more, and anything that has to skip the whole chain says so. */
    uint8_t *over = deep_tree(FDT_MAX_DEPTH, &size);
    KT_ASSERT(fdt_open(&f, over, size) == 0);
    root = fdt_root(&f);
    first = fdt_first_child(&f, root);
    KT_EXPECT_EQ(fdt_next_sibling(&f, root), FDT_ERR_DEPTH);
    int tail = fdt_next_sibling(&f, first);     /* a chain of FDT_MAX_DEPTH is fine */
    KT_EXPECT_STREQ(fdt_node_name(&f, tail), "tail");
    KT_EXPECT_EQ(fdt_path(&f, "/tail"), tail);
    free(over);

    /* Far too deep: fdt_parent refuses too, and platform_parse panics cleanly. */
    uint8_t *deep = deep_tree(3 * FDT_MAX_DEPTH, &size);
    KT_ASSERT(fdt_open(&f, deep, size) == 0);
    root = fdt_root(&f);
    first = fdt_first_child(&f, root);
    deepest = deep_node(&f, 3 * FDT_MAX_DEPTH);
    KT_EXPECT_EQ(fdt_prop_u32(&f, deepest, "level", &v), 0);
    KT_EXPECT_EQ(v, 3 * FDT_MAX_DEPTH);
    KT_EXPECT_EQ(fdt_next_sibling(&f, root), FDT_ERR_DEPTH);
    KT_EXPECT_EQ(fdt_next_sibling(&f, first), FDT_ERR_DEPTH);
    KT_EXPECT_EQ(fdt_parent(&f, deepest), FDT_ERR_DEPTH);
    KT_EXPECT_EQ(fdt_parent(&f, deep_node(&f, 2 * FDT_MAX_DEPTH)), FDT_ERR_DEPTH);
    KT_EXPECT_EQ(fdt_parent(&f, deep_node(&f, 3)), deep_node(&f, 2));    /* shallow ones work */
    KT_EXPECT_EQ(fdt_path(&f, "/tail"), FDT_ERR_DEPTH);
    KT_EXPECT_EQ(fdt_first_child(&f, deep_node(&f, 3 * FDT_MAX_DEPTH - 1)), deepest);
    EXPECT_PANIC(deep, size, "devtree: ");
    free(deep);

    /* Begin-node tokens that are never closed. */
    struct dtb_builder b;
    dtb_begin(&b);
    dtb_node(&b, "");
    for (int i = 0; i < 2 * FDT_MAX_DEPTH; i++)
        dtb_node(&b, "open");
    uint8_t *open = dtb_finish(&b, &size);
    KT_ASSERT(fdt_open(&f, open, size) == 0);
    KT_EXPECT_EQ(fdt_next_sibling(&f, fdt_root(&f)), FDT_ERR_DEPTH);
    KT_EXPECT_EQ(fdt_parent(&f, deep_node(&f, 2 * FDT_MAX_DEPTH)), FDT_ERR_DEPTH);
    EXPECT_PANIC(open, size, "devtree: ");
    free(open);
}

/*
 * Root with properties "a" = 1 and "b" = 2 and a child "c" with "dd" = 3. The
 * struct block starts: BEGIN_NODE, "" (4 bytes), then "a": PROP, len, nameoff, value.
 */
#define A_LEN 12
#define A_NAMEOFF 16
static uint8_t *three_props(size_t *size)
{
    struct dtb_builder b;
    dtb_begin(&b);
    dtb_node(&b, "");
    dtb_prop_u32(&b, "a", 1);
    dtb_prop_u32(&b, "b", 2);
    dtb_node(&b, "c");
    dtb_prop_u32(&b, "dd", 3);
    dtb_end_node(&b);
    dtb_end_node(&b);
    return dtb_finish(&b, size);
}

/* With "a" broken, nothing past it in the root can be read, and walks report it. */
static void expect_root_props_broken(const uint8_t *blob, size_t size, const char *what)
{
    struct fdt f;
    uint32_t len, v;
    if (fdt_open(&f, blob, size) != 0) {
        ktest_fail(__FILE__, __LINE__, "%s: fdt_open failed", what);
        return;
    }
    int root = fdt_root(&f);
    if (fdt_prop(&f, root, "a", &len) || fdt_prop(&f, root, "b", &len) ||
        fdt_prop_u32(&f, root, "b", &v) == 0 || fdt_prop_string(&f, root, "a"))
        ktest_fail(__FILE__, __LINE__, "%s: a property past the bad one was returned", what);
    if (fdt_first_child(&f, root) != FDT_ERR_STRUCT || fdt_next_node(&f, root) != FDT_ERR_STRUCT ||
        fdt_next_sibling(&f, root) != FDT_ERR_STRUCT || fdt_path(&f, "/c") != FDT_ERR_STRUCT ||
        fdt_parent(&f, root + 1000) != FDT_ERR_STRUCT)
        ktest_fail(__FILE__, __LINE__, "%s: a walk did not stop with FDT_ERR_STRUCT", what);
    EXPECT_PANIC(blob, size, "devtree: ");
}

static void test_prop_past_struct_block(void)
{
    size_t size;
    uint8_t *blob = three_props(&size);
    uint32_t st = hdr(blob, H_OFF_STRUCT), st_size = hdr(blob, H_SIZE_STRUCT);
    struct fdt f;
    uint32_t v = 0;

    /* The control: intact, everything is found. */
    KT_ASSERT(fdt_open(&f, blob, size) == 0);
    KT_ASSERT(get32(blob + st + A_LEN) == 4);
    KT_EXPECT_EQ(fdt_prop_u32(&f, fdt_root(&f), "b", &v), 0);
    KT_EXPECT_EQ(fdt_prop_u32(&f, fdt_path(&f, "/c"), "dd", &v), 0);
    KT_EXPECT_EQ(v, 3);

    /* The value of "a" ends exactly at the end of the struct block: allowed by itself... */
    uint32_t rest = st_size - (A_LEN + 8);
    put32(blob + st + A_LEN, rest);
    KT_ASSERT(fdt_open(&f, blob, size) == 0);
    uint32_t len = 0;
    KT_EXPECT(fdt_prop(&f, fdt_root(&f), "a", &len) != NULL);
    KT_EXPECT_EQ(len, rest);
    /* ...one byte more runs past it (the blob goes on: the struct block is the limit). */
    KT_ASSERT(st + st_size < size);
    const uint32_t too_long[] = { rest + 1, rest + 4, 0x7ffffff0, 0xfffffff0, 0xffffffff };
    for (size_t i = 0; i < sizeof too_long / sizeof too_long[0]; i++) {
        put32(blob + st + A_LEN, too_long[i]);
        expect_root_props_broken(blob, size, "value past the struct block");
    }
    free(blob);
}

static void test_nameoff_past_strings(void)
{
    size_t size;
    uint8_t *blob = three_props(&size);
    uint32_t st = hdr(blob, H_OFF_STRUCT), str_size = hdr(blob, H_SIZE_STRINGS);
    uint32_t str_off = hdr(blob, H_OFF_STRINGS);
    struct fdt f;
    uint32_t v = 0;

    KT_ASSERT(str_size == sizeof "a" + sizeof "b" + sizeof "dd");
    const uint32_t past[] = { str_size, str_size + 1, str_size + 2, 1000, 0x7fffffff, 0xffffffff };
    for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
        put32(blob + st + A_NAMEOFF, past[i]);
        expect_root_props_broken(blob, size, "name offset past the strings block");
    }
    /* A name offset inside the block but a suffix: "a\0b\0dd\0" at 5 names "d". */
    put32(blob + st + A_NAMEOFF, 5);
    KT_ASSERT(fdt_open(&f, blob, size) == 0);
    KT_EXPECT_EQ(fdt_prop_u32(&f, fdt_root(&f), "d", &v), 0);
    KT_EXPECT_EQ(v, 1);
    put32(blob + st + A_NAMEOFF, 0);

    /* The strings block ends without a NUL: the last name ("dd") is unusable, others not. */
    blob[str_off + str_size - 1] = 'x';
    KT_ASSERT(fdt_open(&f, blob, size) == 0);
    int c = fdt_path(&f, "/c");
    KT_EXPECT(c >= 0);
    KT_EXPECT_EQ(fdt_prop_u32(&f, fdt_root(&f), "b", &v), 0);
    KT_EXPECT_EQ(v, 2);
    KT_EXPECT(fdt_prop(&f, c, "dd", NULL) == NULL);
    KT_EXPECT(fdt_prop(&f, c, "ddx", NULL) == NULL);
    KT_EXPECT_EQ(fdt_next_node(&f, c), FDT_ERR_STRUCT);
    /* The strings block shrunk by one so the NUL is outside it: the same. */
    blob[str_off + str_size - 1] = 0;
    set_hdr(blob, H_SIZE_STRINGS, str_size - 1);
    KT_ASSERT(fdt_open(&f, blob, size) == 0);
    KT_EXPECT(fdt_prop(&f, fdt_path(&f, "/c"), "dd", NULL) == NULL);
    free(blob);
}

static const struct ktest_case fdt_cases[] = {
    { "virt_opens", test_virt_opens },
    { "path_lookup", test_path_lookup },
    { "path_crafted", test_path_crafted },
    { "parent_and_name", test_parent_and_name },
    { "props", test_props },
    { "read_cells", test_read_cells },
    { "compatible", test_compatible },
    { "stringlist", test_stringlist },
    { "find_compatible", test_find_compatible },
    { "walk_orders_agree", test_walk_orders_agree },
    { "rsvmap", test_rsvmap },
    { "strerror", test_strerror },
    { "header_errors", test_header_errors },
    { "nop_tokens", test_nop_tokens },
    { "truncation_every_length", test_truncation_every_length },
    { "random_mutations", test_random_mutations },
    { "depth_limit", test_depth_limit },
    { "prop_past_struct_block", test_prop_past_struct_block },
    { "nameoff_past_strings", test_nameoff_past_strings },
};
KTEST_SUITE(fdt_suite, "fdt", fdt_cases);

/* ==== suite "platform" ==== */

/* Parse a blob that must not panic; on a panic, fail the case, free blob and return. */
#define PARSE_OK(j, blob, size, hartid) \
    do { \
        if (try_parse((j), (blob), (size), (hartid))) { \
            ktest_fail(__FILE__, __LINE__, "unexpected panic: %s", last_panic_message()); \
            free(blob); \
            return; \
        } \
    } while (0)

static void test_virt(void)
{
    NEED_VIRT();
    struct parse_job j;
    uint8_t *blob = virt_copy();
    PARSE_OK(&j, blob, virt_size, 0);
    const struct platform *p = &j.p;
    KT_EXPECT_EQ(p->hartid, 0);
    KT_EXPECT_EQ(p->dtb_pa, TEST_DTB_PA);
    KT_EXPECT_EQ(p->dtb_size, virt_size);
    KT_EXPECT_EQ(p->nram, 1);
    KT_EXPECT_EQ(p->ram[0].base, 0x80000000);
    KT_EXPECT_EQ(p->ram[0].size, 256ull << 20);
    KT_EXPECT_EQ(p->nreserved, 0);
    KT_EXPECT_EQ(p->uart_pa, 0x10000000);
    KT_EXPECT_EQ(p->uart_size, 0x100);
    KT_EXPECT_STREQ(p->uart_path, "/soc/serial@10000000");
    KT_EXPECT_EQ(p->uart_reg_shift, 0);
    KT_EXPECT_EQ(p->uart_clock, 3686400);
    KT_EXPECT_EQ(p->poweroff_pa, 0x100000);
    KT_EXPECT_EQ(p->plic_pa, 0xc000000);
    KT_EXPECT_EQ(p->plic_size, 0x600000);
    KT_EXPECT_EQ(p->plic_ndev, 0x60);
    KT_EXPECT_EQ(p->plic_context, 1);      /* interrupts-extended: <&intc 11>, <&intc 9> */
    KT_EXPECT_EQ(p->uart_irq, 10);
    KT_EXPECT_EQ(p->nvirtio, 8);           /* listed downwards in the DTB, kept in address order */
    for (int i = 0; i < p->nvirtio; i++) {
        KT_EXPECT_EQ(p->virtio[i].pa, 0x10001000ull + 0x1000ull * (uint64_t)i);
        KT_EXPECT_EQ(p->virtio[i].size, 0x1000);
        KT_EXPECT_EQ(p->virtio[i].irq, 1u + (uint32_t)i);
    }
    KT_EXPECT_EQ(p->timebase_hz, 10000000);
    KT_EXPECT(p->isa && strstr(p->isa, "sstc") != NULL);
    KT_EXPECT(p->isa && strncmp(p->isa, "rv64", 4) == 0);
    KT_EXPECT_STREQ(p->bootargs, "");
    KT_EXPECT(!platform_has_arg(p, "ktest"));
    free(blob);

    /* Without a usable PLIC the virtio slots are still found, with no interrupts. */
    blob = virt_copy();
    static const char *const plics[] = { "riscv,plic0", "sifive,plic-1.0.0" };
    for (int i = 0; i < 2; i++) {
        long at = find_unique(blob, hdr(blob, H_OFF_STRUCT), hdr(blob, H_OFF_STRINGS), plics[i],
                              strlen(plics[i]) + 1);
        KT_ASSERT(at >= 0);
        blob[at + 2] = 'X';
    }
    PARSE_OK(&j, blob, virt_size, 0);
    KT_EXPECT_EQ(j.p.plic_pa, 0);
    KT_EXPECT_EQ(j.p.nvirtio, 8);
    KT_EXPECT_EQ(j.p.virtio[0].pa, 0x10001000);
    KT_EXPECT_EQ(j.p.virtio[0].irq, 0);
    KT_EXPECT_EQ(j.p.virtio[7].irq, 0);
    free(blob);

    /* The whole file as avail (the kernel passes a maximum size) gives the same. */
    KT_ASSERT(!try_parse(&j, virt_file, virt_file_size, 0));
    KT_EXPECT_EQ(j.p.dtb_size, virt_size);
    KT_EXPECT_EQ(j.p.uart_pa, 0x10000000);
}

static void test_machine_complete(void)
{
    struct parse_job j;
    size_t size;
    uint8_t *blob = dtb_make_machine(NULL, &size);
    PARSE_OK(&j, blob, size, 0);
    const struct platform *p = &j.p;
    KT_EXPECT_EQ(p->dtb_size, size);
    KT_EXPECT_EQ(p->nram, 1);
    KT_EXPECT_EQ(p->ram[0].base, 0x80000000);
    KT_EXPECT_EQ(p->ram[0].size, 0x10000000);
    KT_EXPECT_EQ(p->nreserved, 0);
    KT_EXPECT_STREQ(p->uart_path, "/soc/serial@10000000");
    KT_EXPECT_EQ(p->uart_pa, 0x10000000);
    KT_EXPECT_EQ(p->uart_size, 0x100);
    KT_EXPECT_EQ(p->uart_reg_shift, 0);
    KT_EXPECT_EQ(p->uart_clock, 3686400);
    KT_EXPECT_EQ(p->poweroff_pa, 0x100000);
    KT_EXPECT_EQ(p->timebase_hz, 10000000);
    KT_EXPECT_STREQ(p->isa, "rv64imafdc_zicsr_zifencei_sstc");
    KT_EXPECT_STREQ(p->bootargs, "");
    KT_EXPECT_EQ(p->nvirtio, 0);

    /* Without a sifive,test0 device there is no power-off address. */
    long at = find_unique(blob, hdr(blob, H_OFF_STRUCT), hdr(blob, H_OFF_STRINGS),
                          "sifive,test0", sizeof "sifive,test0");
    KT_ASSERT(at >= 0);
    blob[at + 11] = '9';
    PARSE_OK(&j, blob, size, 0);
    KT_EXPECT_EQ(j.p.poweroff_pa, 0);
    free(blob);
}

/*
 * A virt-like machine with a choice of consoles, for the platform cases:
 *   /chosen       stdout-path and bootargs as given (NULL: left out)
 *   /aliases      serial0 -> serial@10001000, serial1 -> serial@10000000,
 *                 uart0 -> serial@10004000, gone -> /soc/nothing
 *   /cpus         timebase 10 MHz; cpu@0 (rv64imafdc_sstc), cpu@1 (rv64imac, own 25 MHz)
 *   /soc          (2/2 cells) test@100000 and the UARTs:
 *     serial@10000000  ns16550a, clock 3686400
 *     serial@10001000  snps,dw-apb-uart + ns16550a, reg-shift 2, reg-io-width 1, clock 1843200
 *     serial@10002000  ns16550a, reg-io-width 4
 *     serial@10003000  ns16550, reg-shift 4
 *     serial@10004000  sifive,uart0
 *     serial@10005000  ns16550a, reg-shift 5
 *     serial@10006000  ns16550a without reg
 * No memory: machine_begin leaves the root open for the case to add its own nodes,
 * machine_end closes it.
 */
struct mach {
    const char *stdout_path;
    const char *bootargs;
    int ac, sc;         /* root #address-cells/#size-cells; -1 leaves one out; both 0: 2 and 2 */
    int no_cpus, no_timebase;
};

static void uart(struct dtb_builder *b, uint32_t addr, uint32_t size, const void *compat,
                 size_t compat_len)
{
    char name[32];
    snprintf(name, sizeof name, "serial@%x", addr);
    dtb_node(b, name);
    if (size)
        dtb_prop_cells(b, "reg", 4, 0, addr, 0, size);
    dtb_prop(b, "compatible", compat, compat_len);
}

#define COMPAT(s) s, sizeof s

static void machine_begin(struct dtb_builder *b, const struct mach *m)
{
    int ac = m->ac, sc = m->sc;
    if (ac == 0 && sc == 0)
        ac = sc = 2;
    dtb_begin(b);
    dtb_node(b, "");
    if (ac >= 0)
        dtb_prop_u32(b, "#address-cells", (uint32_t)ac);
    if (sc >= 0)
        dtb_prop_u32(b, "#size-cells", (uint32_t)sc);
    dtb_prop_str(b, "compatible", "riscv-virtio");

    dtb_node(b, "chosen");
    if (m->bootargs)
        dtb_prop_str(b, "bootargs", m->bootargs);
    if (m->stdout_path)
        dtb_prop_str(b, "stdout-path", m->stdout_path);
    dtb_end_node(b);

    dtb_node(b, "aliases");
    dtb_prop_str(b, "serial0", "/soc/serial@10001000");
    dtb_prop_str(b, "serial1", "/soc/serial@10000000");
    dtb_prop_str(b, "uart0", "/soc/serial@10004000");
    dtb_prop_str(b, "gone", "/soc/nothing");
    dtb_end_node(b);

    if (!m->no_cpus) {
        dtb_node(b, "cpus");
        dtb_prop_u32(b, "#address-cells", 1);
        dtb_prop_u32(b, "#size-cells", 0);
        if (!m->no_timebase)
            dtb_prop_u32(b, "timebase-frequency", 10000000);
        dtb_node(b, "cpu@0");
        dtb_prop_str(b, "device_type", "cpu");
        dtb_prop_u32(b, "reg", 0);
        dtb_prop_str(b, "riscv,isa", "rv64imafdc_sstc");
        dtb_end_node(b);
        dtb_node(b, "cpu@1");
        dtb_prop_str(b, "device_type", "cpu");
        dtb_prop_u32(b, "reg", 1);
        dtb_prop_str(b, "riscv,isa", "rv64imac_zicsr");
        if (!m->no_timebase)
            dtb_prop_u32(b, "timebase-frequency", 25000000);
        dtb_end_node(b);
        dtb_end_node(b);
    }

    dtb_node(b, "soc");
    dtb_prop_u32(b, "#address-cells", 2);
    dtb_prop_u32(b, "#size-cells", 2);
    dtb_node(b, "test@100000");
    dtb_prop(b, "compatible", COMPAT("sifive,test1\0sifive,test0"));
    dtb_prop_cells(b, "reg", 4, 0, 0x100000, 0, 0x1000);
    dtb_end_node(b);
    uart(b, 0x10000000, 0x100, COMPAT("ns16550a"));
    dtb_prop_u32(b, "clock-frequency", 3686400);
    dtb_end_node(b);
    uart(b, 0x10001000, 0x1000, COMPAT("snps,dw-apb-uart\0ns16550a"));
    dtb_prop_u32(b, "reg-shift", 2);
    dtb_prop_u32(b, "reg-io-width", 1);
    dtb_prop_u32(b, "clock-frequency", 1843200);
    dtb_end_node(b);
    uart(b, 0x10002000, 0x100, COMPAT("ns16550a"));
    dtb_prop_u32(b, "reg-io-width", 4);
    dtb_end_node(b);
    uart(b, 0x10003000, 0x100, COMPAT("ns16550"));
    dtb_prop_u32(b, "reg-shift", 4);
    dtb_end_node(b);
    uart(b, 0x10004000, 0x100, COMPAT("sifive,uart0"));
    dtb_end_node(b);
    uart(b, 0x10005000, 0x100, COMPAT("ns16550a"));
    dtb_prop_u32(b, "reg-shift", 5);
    dtb_end_node(b);
    uart(b, 0x10006000, 0, COMPAT("ns16550a"));
    dtb_end_node(b);
    dtb_end_node(b);
}

/* memory@80000000, 256 MiB, with the root's default 2/2 cells. */
static void memory_256m(struct dtb_builder *b)
{
    dtb_node(b, "memory@80000000");
    dtb_prop_str(b, "device_type", "memory");
    dtb_prop_cells(b, "reg", 4, 0, 0x80000000, 0, 0x10000000);
    dtb_end_node(b);
}

static uint8_t *machine_end(struct dtb_builder *b, size_t *size)
{
    dtb_end_node(b);
    return dtb_finish(b, size);
}

/* A machine with 256 MiB of RAM and the given stdout-path and bootargs. */
static uint8_t *console_machine(const char *stdout_path, const char *bootargs, size_t *size)
{
    struct dtb_builder b;
    struct mach m = { .stdout_path = stdout_path, .bootargs = bootargs };
    machine_begin(&b, &m);
    memory_256m(&b);
    return machine_end(&b, size);
}

/* Which UART a stdout-path selects (0 if platform_parse panicked; the case fails then). */
static uint64_t console_of(const char *stdout_path, struct platform *out)
{
    size_t size;
    struct parse_job j;
    uint8_t *blob = console_machine(stdout_path, NULL, &size);
    int panicked = try_parse(&j, blob, size, 0);
    free(blob);
    if (panicked) {
        ktest_fail(__FILE__, __LINE__, "stdout-path \"%s\": unexpected panic: %s",
                   stdout_path ? stdout_path : "(none)", last_panic_message());
        return 0;
    }
    if (out)
        *out = j.p;
    return j.p.uart_pa;
}

static void test_stdout_absolute(void)
{
    struct platform p;
    KT_EXPECT_EQ(console_of("/soc/serial@10001000", &p), 0x10001000);
    KT_EXPECT_STREQ(p.uart_path, "/soc/serial@10001000");
    KT_EXPECT_EQ(p.uart_size, 0x1000);
    KT_EXPECT_EQ(console_of("/soc/serial@10001000:115200n8", &p), 0x10001000);
    KT_EXPECT_STREQ(p.uart_path, "/soc/serial@10001000");
    KT_EXPECT_EQ(console_of("/soc/serial@10003000:", &p), 0x10003000);
    KT_EXPECT_EQ(console_of("/soc/serial:9600", &p), 0x10000000);     /* first "serial@..." */
}

static void test_stdout_alias(void)
{
    struct platform p;
    KT_EXPECT_EQ(console_of("serial0:115200n8", &p), 0x10001000);
    KT_EXPECT_STREQ(p.uart_path, "/soc/serial@10001000");
    KT_EXPECT_EQ(p.uart_reg_shift, 2);
    KT_EXPECT_EQ(console_of("serial0", &p), 0x10001000);
    KT_EXPECT_EQ(console_of("serial1:115200", &p), 0x10000000);
    KT_EXPECT_STREQ(p.uart_path, "/soc/serial@10000000");
}

static void test_stdout_fallback(void)
{
    struct platform p;
    /* No stdout-path, or one naming nothing: the first ns16550a in the tree. */
    KT_EXPECT_EQ(console_of(NULL, &p), 0x10000000);
    KT_EXPECT_STREQ(p.uart_path, "/soc/serial@10000000");
    KT_EXPECT_EQ(p.uart_clock, 3686400);
    KT_EXPECT_EQ(console_of("gone:115200", &p), 0x10000000);
    KT_EXPECT_EQ(console_of("nosuchalias", &p), 0x10000000);
    KT_EXPECT_EQ(console_of("/soc/serial@20000000", &p), 0x10000000);

    /* dtb_make_machine without stdout-path. */
    size_t size;
    struct parse_job j;
    uint8_t *blob = dtb_make_machine("stdout-path", &size);
    PARSE_OK(&j, blob, size, 0);
    KT_EXPECT_EQ(j.p.uart_pa, 0x10000000);
    KT_EXPECT_STREQ(j.p.uart_path, "/soc/serial@10000000");
    free(blob);
}

static void test_uart_props(void)
{
    struct platform p;
    KT_EXPECT_EQ(console_of("/soc/serial@10001000", &p), 0x10001000);
    KT_EXPECT_EQ(p.uart_reg_shift, 2);
    KT_EXPECT_EQ(p.uart_clock, 1843200);
    KT_EXPECT_EQ(console_of("/soc/serial@10000000", &p), 0x10000000);
    KT_EXPECT_EQ(p.uart_reg_shift, 0);
    KT_EXPECT_EQ(p.uart_clock, 3686400);
    KT_EXPECT_EQ(console_of("/soc/serial@10003000", &p), 0x10003000);     /* plain ns16550 */
    KT_EXPECT_EQ(p.uart_reg_shift, 4);
    KT_EXPECT_EQ(p.uart_clock, 0);      /* not given */
}

/* Build console_machine(stdout_path) and expect a panic mentioning `want`. */
#define EXPECT_CONSOLE_PANIC(stdout_path, want) \
    do { \
        size_t size_; \
        uint8_t *blob_ = console_machine((stdout_path), NULL, &size_); \
        EXPECT_PANIC(blob_, size_, (want)); \
        free(blob_); \
    } while (0)

static void test_bad_uarts(void)
{
    EXPECT_CONSOLE_PANIC("/soc/serial@10002000", "reg-io-width 4");
    EXPECT_CONSOLE_PANIC("/soc/serial@10005000", "reg-shift 5");
    EXPECT_CONSOLE_PANIC("/soc/serial@10006000", "has no usable reg");
    EXPECT_CONSOLE_PANIC("/soc/serial@10004000", "is not a 16550");
    EXPECT_CONSOLE_PANIC("uart0", "(compatible \"sifive,uart0\")");
    EXPECT_CONSOLE_PANIC("/soc/test@100000", "is not a 16550");
    /* The message names the console. */
    EXPECT_CONSOLE_PANIC("/soc/serial@10002000", "/soc/serial@10002000");
}

static void test_memory_ranges(void)
{
    struct dtb_builder b;
    struct mach m = { .stdout_path = "serial1" };
    size_t size;
    struct parse_job j;
    machine_begin(&b, &m);
    dtb_node(&b, "memory@80000000");
    dtb_prop_str(&b, "device_type", "memory");
    dtb_prop_cells(&b, "reg", 4, 0, 0x80000000, 0, 0x8000000);
    dtb_end_node(&b);
    dtb_node(&b, "framebuffer@90000000");      /* a reg, but not memory */
    dtb_prop_str(&b, "device_type", "display");
    dtb_prop_cells(&b, "reg", 4, 0, 0x90000000, 0, 0x1000000);
    dtb_end_node(&b);
    dtb_node(&b, "memory@100000000");
    dtb_prop_str(&b, "device_type", "memory");
    dtb_prop_cells(&b, "reg", 12, 1, 0, 0, 0x10000000,
                   3, 0, 0, 0,                  /* empty: skipped */
                   2, 0x40000000, 1, 0);
    dtb_end_node(&b);
    uint8_t *blob = machine_end(&b, &size);
    PARSE_OK(&j, blob, size, 0);
    KT_EXPECT_EQ(j.p.nram, 3);
    KT_EXPECT_EQ(j.p.ram[0].base, 0x80000000);
    KT_EXPECT_EQ(j.p.ram[0].size, 0x8000000);
    KT_EXPECT_EQ(j.p.ram[1].base, 0x100000000ull);
    KT_EXPECT_EQ(j.p.ram[1].size, 0x10000000);
    KT_EXPECT_EQ(j.p.ram[2].base, 0x240000000ull);
    KT_EXPECT_EQ(j.p.ram[2].size, 0x100000000ull);
    free(blob);

    /* A reg with one and a half entries: the half is not an entry. */
    machine_begin(&b, &m);
    dtb_node(&b, "memory@80000000");
    dtb_prop_str(&b, "device_type", "memory");
    dtb_prop_cells(&b, "reg", 6, 0, 0x80000000, 0, 0x8000000, 0, 0x90000000);
    dtb_end_node(&b);
    blob = machine_end(&b, &size);
    PARSE_OK(&j, blob, size, 0);
    KT_EXPECT_EQ(j.p.nram, 1);
    KT_EXPECT_EQ(j.p.ram[0].base, 0x80000000);
    free(blob);
}

/* Root cells 1/1, the spec's defaults 2/1, and cells the parser cannot take. */
static void test_memory_cells(void)
{
    struct dtb_builder b;
    size_t size;
    struct parse_job j;

    struct mach m11 = { .stdout_path = "serial1", .ac = 1, .sc = 1 };
    machine_begin(&b, &m11);
    dtb_node(&b, "memory@80000000");
    dtb_prop_str(&b, "device_type", "memory");
    dtb_prop_cells(&b, "reg", 4, 0x80000000, 0x4000000, 0x88000000, 0x2000000);
    dtb_end_node(&b);
    uint8_t *blob = machine_end(&b, &size);
    PARSE_OK(&j, blob, size, 0);
    KT_EXPECT_EQ(j.p.nram, 2);
    KT_EXPECT_EQ(j.p.ram[0].base, 0x80000000);
    KT_EXPECT_EQ(j.p.ram[0].size, 0x4000000);
    KT_EXPECT_EQ(j.p.ram[1].base, 0x88000000);
    KT_EXPECT_EQ(j.p.ram[1].size, 0x2000000);
    free(blob);

    struct mach mdef = { .stdout_path = "serial1", .ac = -1, .sc = -1 };
    machine_begin(&b, &mdef);
    dtb_node(&b, "memory@80000000");
    dtb_prop_str(&b, "device_type", "memory");
    dtb_prop_cells(&b, "reg", 3, 0, 0x80000000, 0x10000000);
    dtb_end_node(&b);
    blob = machine_end(&b, &size);
    PARSE_OK(&j, blob, size, 0);
    KT_EXPECT_EQ(j.p.nram, 1);
    KT_EXPECT_EQ(j.p.ram[0].base, 0x80000000);
    KT_EXPECT_EQ(j.p.ram[0].size, 0x10000000);
    free(blob);

    struct mach m3 = { .stdout_path = "serial1", .ac = 3, .sc = 2 };
    machine_begin(&b, &m3);
    memory_256m(&b);
    blob = machine_end(&b, &size);
    EXPECT_PANIC(blob, size, "#address-cells 3");
    free(blob);

    struct mach m03 = { .stdout_path = "serial1", .ac = 2, .sc = 3 };
    machine_begin(&b, &m03);
    dtb_node(&b, "memory@80000000");
    dtb_prop_str(&b, "device_type", "memory");
    dtb_prop_cells(&b, "reg", 5, 0, 0x80000000, 0, 0, 0x10000000);
    dtb_end_node(&b);
    blob = machine_end(&b, &size);
    EXPECT_PANIC(blob, size, "#size-cells 3");
    free(blob);

    /* #size-cells 0: memory without sizes is no memory. */
    struct mach m20 = { .stdout_path = "serial1", .ac = 2, .sc = 0 };
    machine_begin(&b, &m20);
    dtb_node(&b, "memory@80000000");
    dtb_prop_str(&b, "device_type", "memory");
    dtb_prop_cells(&b, "reg", 2, 0, 0x80000000);
    dtb_end_node(&b);
    blob = machine_end(&b, &size);
    EXPECT_PANIC(blob, size, "no memory node");
    free(blob);
}

static void test_memory_limits(void)
{
    struct dtb_builder b;
    struct mach m = { .stdout_path = "serial1" };
    size_t size;

    /* A range that wraps past 2^64. */
    machine_begin(&b, &m);
    dtb_node(&b, "memory@fffffffff0000000");
    dtb_prop_str(&b, "device_type", "memory");
    dtb_prop_cells(&b, "reg", 4, 0xffffffff, 0xf0000000, 0, 0x20000000);
    dtb_end_node(&b);
    uint8_t *blob = machine_end(&b, &size);
    EXPECT_PANIC(blob, size, "wraps around");
    free(blob);

    /* One range more than the table holds, in separate nodes. */
    machine_begin(&b, &m);
    for (int i = 0; i <= PLATFORM_MAX_RANGES; i++) {
        dtb_node(&b, "memory");
        dtb_prop_str(&b, "device_type", "memory");
        dtb_prop_cells(&b, "reg", 4, i + 1, 0, 0, 0x1000);
        dtb_end_node(&b);
    }
    blob = machine_end(&b, &size);
    EXPECT_PANIC(blob, size, "more than 16 memory ranges");
    free(blob);

    /* Exactly PLATFORM_MAX_RANGES is fine. */
    machine_begin(&b, &m);
    for (int i = 0; i < PLATFORM_MAX_RANGES; i++) {
        dtb_node(&b, "memory");
        dtb_prop_str(&b, "device_type", "memory");
        dtb_prop_cells(&b, "reg", 4, i + 1, 0, 0, 0x1000);
        dtb_end_node(&b);
    }
    blob = machine_end(&b, &size);
    struct parse_job j;
    PARSE_OK(&j, blob, size, 0);
    KT_EXPECT_EQ(j.p.nram, PLATFORM_MAX_RANGES);
    KT_EXPECT_EQ(j.p.ram[PLATFORM_MAX_RANGES - 1].base, (uint64_t)PLATFORM_MAX_RANGES << 32);
    free(blob);
}

static void test_reserved(void)
{
    struct dtb_builder b;
    struct mach m = { .stdout_path = "serial1" };
    size_t size;
    struct parse_job j;
    machine_begin(&b, &m);
    dtb_reserve(&b, 0x80000000, 0x200000);
    dtb_reserve(&b, 0x8fe00000, 0x1000);
    memory_256m(&b);
    dtb_node(&b, "reserved-memory");
    dtb_prop_u32(&b, "#address-cells", 1);
    dtb_prop_u32(&b, "#size-cells", 1);
    dtb_prop(&b, "ranges", NULL, 0);
    dtb_node(&b, "mmode_resv0@80040000");
    dtb_prop_cells(&b, "reg", 2, 0x80040000, 0x20000);
    dtb_prop(&b, "no-map", NULL, 0);
    dtb_end_node(&b);
    dtb_node(&b, "pool");           /* no reg (dynamic allocation): nothing to reserve */
    dtb_prop_u32(&b, "size", 0x100000);
    dtb_end_node(&b);
    dtb_node(&b, "split@88000000");
    dtb_prop_cells(&b, "reg", 4, 0x88000000, 0x1000, 0x89000000, 0x2000);
    dtb_end_node(&b);
    dtb_end_node(&b);
    uint8_t *blob = machine_end(&b, &size);
    PARSE_OK(&j, blob, size, 0);
    static const struct mem_range want[] = {
        { 0x80000000, 0x200000 }, { 0x8fe00000, 0x1000 },    /* header entries first */
        { 0x80040000, 0x20000 }, { 0x88000000, 0x1000 }, { 0x89000000, 0x2000 },
    };
    KT_EXPECT_EQ(j.p.nreserved, 5);
    for (int i = 0; i < 5 && i < j.p.nreserved; i++) {
        KT_EXPECT_EQ(j.p.reserved[i].base, want[i].base);
        KT_EXPECT_EQ(j.p.reserved[i].size, want[i].size);
    }
    KT_EXPECT_EQ(j.p.nram, 1);      /* reserved memory is not taken out of RAM here */
    free(blob);

    /* Too many reserved ranges. */
    machine_begin(&b, &m);
    memory_256m(&b);
    dtb_node(&b, "reserved-memory");
    dtb_prop_u32(&b, "#address-cells", 2);
    dtb_prop_u32(&b, "#size-cells", 2);
    for (int i = 0; i <= PLATFORM_MAX_RANGES; i++) {
        dtb_node(&b, "r");
        dtb_prop_cells(&b, "reg", 4, 0, 0x80000000 + 0x1000 * (uint32_t)i, 0, 0x1000);
        dtb_end_node(&b);
    }
    dtb_end_node(&b);
    blob = machine_end(&b, &size);
    EXPECT_PANIC(blob, size, "more than 16 reserved ranges");
    free(blob);
}

static void test_bootargs(void)
{
    size_t size;
    struct parse_job j;
    uint8_t *blob = console_machine("serial1", "  console=ttyS0 ktest.panic  quiet ", &size);
    PARSE_OK(&j, blob, size, 0);
    const struct platform *p = &j.p;
    KT_EXPECT_STREQ(p->bootargs, "  console=ttyS0 ktest.panic  quiet ");
    KT_EXPECT(platform_has_arg(p, "ktest.panic"));
    KT_EXPECT(!platform_has_arg(p, "ktest"));           /* a prefix of a word is no match */
    KT_EXPECT(!platform_has_arg(p, "panic"));
    KT_EXPECT(!platform_has_arg(p, "ktest.pani"));
    KT_EXPECT(platform_has_arg(p, "quiet"));
    KT_EXPECT(platform_has_arg(p, "console=ttyS0"));
    KT_EXPECT(!platform_has_arg(p, "console"));
    KT_EXPECT(!platform_has_arg(p, "console=ttyS"));
    KT_EXPECT(!platform_has_arg(p, "quiet "));
    free(blob);

    blob = console_machine("serial1", "ktest", &size);
    PARSE_OK(&j, blob, size, 0);
    KT_EXPECT(platform_has_arg(&j.p, "ktest"));
    KT_EXPECT(!platform_has_arg(&j.p, "ktest.panic"));
    KT_EXPECT(!platform_has_arg(&j.p, "ktes"));
    free(blob);

    blob = console_machine("serial1", NULL, &size);
    PARSE_OK(&j, blob, size, 0);
    KT_EXPECT_STREQ(j.p.bootargs, "");
    KT_EXPECT(!platform_has_arg(&j.p, "ktest"));
    free(blob);
}

static void test_hartid_selects_cpu(void)
{
    size_t size;
    struct parse_job j;
    uint8_t *blob = console_machine("serial1", NULL, &size);
    PARSE_OK(&j, blob, size, 0);
    KT_EXPECT_STREQ(j.p.isa, "rv64imafdc_sstc");
    KT_EXPECT_EQ(j.p.timebase_hz, 10000000);
    PARSE_OK(&j, blob, size, 1);
    KT_EXPECT_EQ(j.p.hartid, 1);
    KT_EXPECT_STREQ(j.p.isa, "rv64imac_zicsr");
    KT_EXPECT_EQ(j.p.timebase_hz, 25000000);        /* the cpu node's own wins */
    PARSE_OK(&j, blob, size, 7);                    /* no such hart: /cpus values */
    KT_EXPECT_STREQ(j.p.isa, "");
    KT_EXPECT_EQ(j.p.timebase_hz, 10000000);
    free(blob);

    struct dtb_builder b;
    struct mach m = { .stdout_path = "serial1", .no_cpus = 1 };
    machine_begin(&b, &m);
    memory_256m(&b);
    blob = machine_end(&b, &size);
    EXPECT_PANIC(blob, size, "no /cpus");
    free(blob);
}

static void test_no_memory(void)
{
    size_t size;
    uint8_t *blob = dtb_make_machine("memory", &size);
    EXPECT_PANIC(blob, size, "no memory node");
    free(blob);
}

static void test_uart_not_16550(void)
{
    size_t size;
    uint8_t *blob = dtb_make_machine("uart-compatible", &size);
    EXPECT_PANIC(blob, size, "is not a 16550");
    EXPECT_PANIC(blob, size, "sifive,uart0");
    free(blob);
}

/* The real DTB with its UART's compatible changed in place from "ns16550a" to "xx16550a". */
static void test_virt_uart_not_16550(void)
{
    NEED_VIRT();
    uint8_t *blob = virt_copy();
    uint32_t st = hdr(blob, H_OFF_STRUCT);
    long at = find_unique(blob, st, st + hdr(blob, H_SIZE_STRUCT), "ns16550a", sizeof "ns16550a");
    KT_ASSERT(at >= 0);
    struct parse_job j;
    KT_ASSERT(!try_parse(&j, blob, virt_size, 0));     /* the control */
    blob[at] = 'x';
    blob[at + 1] = 'x';
    EXPECT_PANIC(blob, virt_size, "is not a 16550");
    EXPECT_PANIC(blob, virt_size, "/soc/serial@10000000");
    EXPECT_PANIC(blob, virt_size, "xx16550a");
    free(blob);
}

static void test_no_timebase(void)
{
    size_t size;
    uint8_t *blob = dtb_make_machine("timebase", &size);
    EXPECT_PANIC(blob, size, "timebase");
    free(blob);

    struct dtb_builder b;
    struct mach m = { .stdout_path = "serial1", .no_timebase = 1 };
    machine_begin(&b, &m);
    memory_256m(&b);
    blob = machine_end(&b, &size);
    EXPECT_PANIC(blob, size, "no timebase-frequency");
    free(blob);
}

static void test_no_console(void)
{
    /* No stdout-path, and the only UART is no ns16550a. */
    size_t size;
    uint8_t *blob = dtb_make_machine("stdout-path", &size);
    uint32_t st = hdr(blob, H_OFF_STRUCT);
    long at = find_unique(blob, st, st + hdr(blob, H_SIZE_STRUCT), "ns16550a", sizeof "ns16550a");
    KT_ASSERT(at >= 0);
    blob[at] = 'x';
    EXPECT_PANIC(blob, size, "no console");
    free(blob);
}

static void test_bad_blobs(void)
{
    /* Garbage. */
    uint8_t *junk = malloc(256);
    KT_ASSERT(junk != NULL);
    test_srand(42);
    for (int i = 0; i < 256; i++)
        junk[i] = (uint8_t)test_rand();
    junk[0] = 0x12;
    EXPECT_PANIC(junk, 256, "bad magic");
    EXPECT_PANIC(junk, 256, "devtree: DTB at 0x82200000");
    free(junk);

    /* A DTB claiming more bytes than there are, and one too short for a header. */
    size_t size;
    uint8_t *blob = dtb_make_machine(NULL, &size);
    EXPECT_PANIC(blob, size - 1, fdt_strerror(FDT_ERR_TRUNCATED));
    EXPECT_PANIC(blob, 20, fdt_strerror(FDT_ERR_TRUNCATED));
    set_hdr(blob, H_VERSION, 3);
    EXPECT_PANIC(blob, size, fdt_strerror(FDT_ERR_VERSION));
    free(blob);
}

static const struct ktest_case platform_cases[] = {
    { "virt", test_virt },
    { "machine_complete", test_machine_complete },
    { "stdout_absolute", test_stdout_absolute },
    { "stdout_alias", test_stdout_alias },
    { "stdout_fallback", test_stdout_fallback },
    { "uart_props", test_uart_props },
    { "bad_uarts", test_bad_uarts },
    { "memory_ranges", test_memory_ranges },
    { "memory_cells", test_memory_cells },
    { "memory_limits", test_memory_limits },
    { "reserved", test_reserved },
    { "bootargs", test_bootargs },
    { "hartid_selects_cpu", test_hartid_selects_cpu },
    { "no_memory", test_no_memory },
    { "uart_not_16550", test_uart_not_16550 },
    { "virt_uart_not_16550", test_virt_uart_not_16550 },
    { "no_timebase", test_no_timebase },
    { "no_console", test_no_console },
    { "bad_blobs", test_bad_blobs },
};
KTEST_SUITE(platform_suite, "platform", platform_cases);

int main(int argc, char **argv)
{
    alarm(120);     /* a hang fails the run instead of stalling it */
    if (argc > 1)
        virt_file = read_file(argv[1], &virt_file_size);
    if (virt_file) {
        struct fdt f;
        if (fdt_open(&f, virt_file, virt_file_size) == 0)
            virt_size = fdt_size(&f);
    }
    if (!virt_size)
        printf("# no usable DTB in argv[1] (%s): the cases that need it fail\n",
               argc > 1 ? argv[1] : "missing");
    static const struct ktest_suite *const suites[] = { &fdt_suite, &platform_suite };
    int failed = ktest_run(suites, sizeof suites / sizeof suites[0]);
    free(virt_file);
    return failed ? 1 : 0;
}
