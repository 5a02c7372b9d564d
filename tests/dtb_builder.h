/*
 * tests/dtb_builder.h - builds flattened device trees in memory for the FDT and
 * platform tests, so each test can craft exactly the (bad) DTB it needs.
 *
 *   struct dtb_builder b;
 *   dtb_begin(&b);
 *   dtb_node(&b, "");                        // the root
 *   dtb_prop_u32(&b, "#address-cells", 2);
 *   dtb_node(&b, "memory@80000000");
 *   dtb_prop_str(&b, "device_type", "memory");
 *   dtb_prop_cells(&b, "reg", 4, 0, 0x80000000, 0, 0x10000000);
 *   dtb_end_node(&b);
 *   dtb_end_node(&b);
 *   void *blob = dtb_finish(&b, &size);      // malloc'ed, exactly `size` bytes
 */
#ifndef TESTS_DTB_BUILDER_H
#define TESTS_DTB_BUILDER_H

#include <stddef.h>
#include <stdint.h>

struct dtb_builder {
    uint8_t *structs;
    size_t struct_len, struct_cap;
    char *strings;
    size_t strings_len, strings_cap;
    uint64_t rsv[8][2];
    int nrsv;
};

void dtb_begin(struct dtb_builder *b);
void dtb_node(struct dtb_builder *b, const char *name);
void dtb_end_node(struct dtb_builder *b);
void dtb_prop(struct dtb_builder *b, const char *name, const void *val, size_t len);
void dtb_prop_str(struct dtb_builder *b, const char *name, const char *s);
void dtb_prop_u32(struct dtb_builder *b, const char *name, uint32_t v);
/* A property of n (at most 16) big-endian 32-bit cells. */
void dtb_prop_cells(struct dtb_builder *b, const char *name, int n, ...);
/*
 * A raw big-endian word in the structure block: FDT_NOP (4), or anything at all,
 * to craft a malformed tree (a stray token, a node that is never closed, ...).
 */
void dtb_word(struct dtb_builder *b, uint32_t v);
/* An entry in the header's memory reservation block (at most 8). */
void dtb_reserve(struct dtb_builder *b, uint64_t addr, uint64_t size);
/* The finished blob (malloc'ed, exactly *size bytes); frees the builder's buffers. */
void *dtb_finish(struct dtb_builder *b, size_t *size);

/*
 * A small virt-like machine: root (2/2 cells), /chosen (stdout-path), /cpus
 * (timebase, cpu@0 with riscv,isa), memory@80000000 (256 MiB), /soc (2/2 cells)
 * with serial@10000000 ("ns16550a") and test@100000 ("sifive,test0").
 * `omit` names a part to leave out or change, to craft a bad DTB:
 *   "memory", "timebase", "stdout-path", "uart-compatible" (uart is "sifive,uart0"),
 *   or NULL for the complete machine.
 */
void *dtb_make_machine(const char *omit, size_t *size);

#endif
