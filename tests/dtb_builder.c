/*
 * tests/dtb_builder.c - in-memory DTB construction for tests (see dtb_builder.h).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "tests/dtb_builder.h"

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    while (*cap < need)
        *cap = *cap ? *cap * 2 : 256;
    *buf = realloc(*buf, *cap);
    if (!*buf)
        abort();
}

static void emit(struct dtb_builder *b, const void *data, size_t len)
{
    size_t padded = (len + 3) & ~(size_t)3;
    grow(&b->structs, &b->struct_cap, b->struct_len + padded);
    if (len)
        memcpy(b->structs + b->struct_len, data, len);
    memset(b->structs + b->struct_len + len, 0, padded - len);
    b->struct_len += padded;
}

static void emit_u32(struct dtb_builder *b, uint32_t v)
{
    uint8_t w[4];
    put_be32(w, v);
    emit(b, w, 4);
}

static uint32_t string_offset(struct dtb_builder *b, const char *s)
{
    for (size_t off = 0; off < b->strings_len; off += strlen(b->strings + off) + 1)
        if (strcmp(b->strings + off, s) == 0)
            return (uint32_t)off;
    size_t len = strlen(s) + 1, off = b->strings_len;
    grow((uint8_t **)&b->strings, &b->strings_cap, off + len);
    memcpy(b->strings + off, s, len);
    b->strings_len += len;
    return (uint32_t)off;
}

void dtb_begin(struct dtb_builder *b)
{
    memset(b, 0, sizeof *b);
}

void dtb_node(struct dtb_builder *b, const char *name)
{
    emit_u32(b, 1);
    emit(b, name, strlen(name) + 1);
}

void dtb_end_node(struct dtb_builder *b)
{
    emit_u32(b, 2);
}

void dtb_prop(struct dtb_builder *b, const char *name, const void *val, size_t len)
{
    emit_u32(b, 3);
    emit_u32(b, (uint32_t)len);
    emit_u32(b, string_offset(b, name));
    emit(b, val, len);
}

void dtb_prop_str(struct dtb_builder *b, const char *name, const char *s)
{
    dtb_prop(b, name, s, strlen(s) + 1);
}

void dtb_prop_u32(struct dtb_builder *b, const char *name, uint32_t v)
{
    uint8_t w[4];
    put_be32(w, v);
    dtb_prop(b, name, w, 4);
}

void dtb_prop_cells(struct dtb_builder *b, const char *name, int n, ...)
{
    uint8_t buf[64];
    va_list ap;
    if (n < 0 || n > 16)
        abort();
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        put_be32(buf + 4 * i, va_arg(ap, uint32_t));
    va_end(ap);
    dtb_prop(b, name, buf, 4 * (size_t)n);
}

void dtb_word(struct dtb_builder *b, uint32_t v)
{
    emit_u32(b, v);
}

void dtb_reserve(struct dtb_builder *b, uint64_t addr, uint64_t size)
{
    if (b->nrsv == (int)(sizeof b->rsv / sizeof b->rsv[0]))
        abort();
    b->rsv[b->nrsv][0] = addr;
    b->rsv[b->nrsv][1] = size;
    b->nrsv++;
}

void *dtb_finish(struct dtb_builder *b, size_t *size)
{
    emit_u32(b, 9);     /* FDT_END */
    size_t rsv_off = 40, rsv_len = 16 * ((size_t)b->nrsv + 1);
    size_t struct_off = rsv_off + rsv_len;
    size_t strings_off = struct_off + b->struct_len;
    size_t total = strings_off + b->strings_len;
    uint8_t *blob = calloc(1, total);
    put_be32(blob + 0, 0xd00dfeed);
    put_be32(blob + 4, (uint32_t)total);
    put_be32(blob + 8, (uint32_t)struct_off);
    put_be32(blob + 12, (uint32_t)strings_off);
    put_be32(blob + 16, (uint32_t)rsv_off);
    put_be32(blob + 20, 17);
    put_be32(blob + 24, 16);
    put_be32(blob + 28, 0);
    put_be32(blob + 32, (uint32_t)b->strings_len);
    put_be32(blob + 36, (uint32_t)b->struct_len);
    for (int i = 0; i < b->nrsv; i++) {
        uint8_t *e = blob + rsv_off + 16 * (size_t)i;
        put_be32(e, (uint32_t)(b->rsv[i][0] >> 32));
        put_be32(e + 4, (uint32_t)b->rsv[i][0]);
        put_be32(e + 8, (uint32_t)(b->rsv[i][1] >> 32));
        put_be32(e + 12, (uint32_t)b->rsv[i][1]);
    }
    memcpy(blob + struct_off, b->structs, b->struct_len);
    if (b->strings_len)     /* no properties: b->strings is NULL */
        memcpy(blob + strings_off, b->strings, b->strings_len);
    free(b->structs);
    free(b->strings);
    *size = total;
    return blob;
}

static int is(const char *omit, const char *what)
{
    return omit && strcmp(omit, what) == 0;
}

void *dtb_make_machine(const char *omit, size_t *size)
{
    struct dtb_builder b;
    dtb_begin(&b);
    dtb_node(&b, "");
    dtb_prop_u32(&b, "#address-cells", 2);
    dtb_prop_u32(&b, "#size-cells", 2);
    dtb_prop_str(&b, "compatible", "riscv-virtio");

    dtb_node(&b, "chosen");
    if (!is(omit, "stdout-path"))
        dtb_prop_str(&b, "stdout-path", "/soc/serial@10000000");
    dtb_end_node(&b);

    dtb_node(&b, "cpus");
    dtb_prop_u32(&b, "#address-cells", 1);
    dtb_prop_u32(&b, "#size-cells", 0);
    if (!is(omit, "timebase"))
        dtb_prop_u32(&b, "timebase-frequency", 10000000);
    dtb_node(&b, "cpu@0");
    dtb_prop_str(&b, "device_type", "cpu");
    dtb_prop_u32(&b, "reg", 0);
    dtb_prop_str(&b, "riscv,isa", "rv64imafdc_zicsr_zifencei_sstc");
    dtb_end_node(&b);
    dtb_end_node(&b);

    if (!is(omit, "memory")) {
        dtb_node(&b, "memory@80000000");
        dtb_prop_str(&b, "device_type", "memory");
        dtb_prop_cells(&b, "reg", 4, 0, 0x80000000, 0, 0x10000000);
        dtb_end_node(&b);
    }

    dtb_node(&b, "soc");
    dtb_prop_u32(&b, "#address-cells", 2);
    dtb_prop_u32(&b, "#size-cells", 2);
    dtb_node(&b, "serial@10000000");
    dtb_prop_cells(&b, "reg", 4, 0, 0x10000000, 0, 0x100);
    if (is(omit, "uart-compatible"))
        dtb_prop_str(&b, "compatible", "sifive,uart0");
    else
        dtb_prop_str(&b, "compatible", "ns16550a");
    dtb_prop_u32(&b, "clock-frequency", 3686400);
    dtb_end_node(&b);
    dtb_node(&b, "test@100000");
    static const char test_compat[] = "sifive,test1\0sifive,test0\0syscon";
    dtb_prop(&b, "compatible", test_compat, sizeof test_compat);
    dtb_prop_cells(&b, "reg", 4, 0, 0x100000, 0, 0x1000);
    dtb_end_node(&b);
    dtb_end_node(&b);

    dtb_end_node(&b);
    return dtb_finish(&b, size);
}
