/*
 * kernel/fdt.h - a small, bounds-checked reader for flattened device trees (DTB).
 *
 * Written against the Devicetree Specification v0.4, chapter 5. Every offset and
 * length in the blob is checked before use, so a corrupt or hostile DTB yields an
 * error code, never a read outside the blob. A node is named by the offset of its
 * FDT_BEGIN_NODE token in the structure block; functions returning a node return
 * a negative FDT_ERR_* code instead when there is none.
 */
#ifndef KERNEL_FDT_H
#define KERNEL_FDT_H

#include <stddef.h>
#include <stdint.h>

enum {
    FDT_ERR_NOTFOUND = -1,  /* no such node or property */
    FDT_ERR_MAGIC = -2,     /* not a DTB: bad magic number */
    FDT_ERR_VERSION = -3,   /* a format version this reader does not know */
    FDT_ERR_TRUNCATED = -4, /* totalsize larger than the bytes available */
    FDT_ERR_LAYOUT = -5,    /* header offsets or sizes point outside the blob */
    FDT_ERR_STRUCT = -6,    /* malformed structure block (bad token, name, length) */
    FDT_ERR_DEPTH = -7,     /* nodes nested deeper than FDT_MAX_DEPTH */
};

#define FDT_MAX_DEPTH 32
#define FDT_INDEX_MAX 128       /* nodes fdt_open indexes; a bigger tree is walked every time */

/* One node as the index keeps it (see struct fdt). */
struct fdt_node_ref {
    uint32_t off;               /* its FDT_BEGIN_NODE token */
    int32_t parent;             /* the parent's entry, -1 for the root */
    uint32_t phandle;           /* 0: none */
    uint32_t compat_len;
    const char *compat;         /* the "compatible" value, NULL if none */
};

/*
 * An open DTB. fdt_open also reads the whole structure block once into
 * `index`, every node in document order with its parent, phandle and
 * compatible list, so that finding a parent, the next node, a phandle or a
 * compatible node reads no tokens; if the tree has more than FDT_INDEX_MAX
 * nodes or a malformed token anywhere, nindex is -1 and every lookup walks
 * the blob as it would without an index (with the same results and errors).
 */
struct fdt {
    const uint8_t *blob;
    uint32_t size;              /* header totalsize */
    uint32_t struct_off, struct_size;
    uint32_t strings_off, strings_size;
    uint32_t rsvmap_off;
    int strings_end_nul;        /* the strings block ends with a NUL: every name in it does too */
    int nindex;
    struct fdt_node_ref index[FDT_INDEX_MAX];
};

/* Check the header of the DTB at blob, of which `avail` bytes may be read. 0 or FDT_ERR_*. */
int fdt_open(struct fdt *f, const void *blob, size_t avail);

/* Total size the header claims (valid only after a successful fdt_open). */
static inline uint32_t fdt_size(const struct fdt *f) { return f->size; }

/* A one-line description of an FDT_ERR_* code. */
const char *fdt_strerror(int err);

int fdt_root(const struct fdt *f);
int fdt_first_child(const struct fdt *f, int node);
int fdt_next_sibling(const struct fdt *f, int node);

/* The next node after `node` in document order, at any depth (for whole-tree scans). */
int fdt_next_node(const struct fdt *f, int node);

/* The parent of `node` (FDT_ERR_NOTFOUND for the root). */
int fdt_parent(const struct fdt *f, int node);

/* The node's name including any unit address ("serial@10000000"); "" for the root. */
const char *fdt_node_name(const struct fdt *f, int node);

/* Look up an absolute path; a component without '@' also matches "name@unit". */
int fdt_path(const struct fdt *f, const char *path);

/* A property of `node`: its value, with its length in *len. NULL if absent or malformed. */
const void *fdt_prop(const struct fdt *f, int node, const char *name, uint32_t *len);

/* A string property, checked to be NUL-terminated inside its value. NULL if not. */
const char *fdt_prop_string(const struct fdt *f, int node, const char *name);

/* Read a u32 property into *out. 0, or FDT_ERR_NOTFOUND if absent or not 4 bytes. */
int fdt_prop_u32(const struct fdt *f, int node, const char *name, uint32_t *out);

/* 1 if a NUL-separated string list of `len` bytes contains `s`. */
int fdt_stringlist_contains(const char *list, uint32_t len, const char *s);

/* 1 if the node's "compatible" list contains `compat`. */
int fdt_is_compatible(const struct fdt *f, int node, const char *compat);

/* The first node after `after` (or from the root, if after < 0) compatible with `compat`. */
int fdt_find_compatible(const struct fdt *f, int after, const char *compat);

/* The node whose "phandle" property is `phandle`, or FDT_ERR_NOTFOUND. */
int fdt_node_by_phandle(const struct fdt *f, uint32_t phandle);

/* Read a big-endian number of `cells` 32-bit cells (1 or 2) from p. */
uint64_t fdt_read_cells(const void *p, int cells);

/* Entry i of the memory reservation block: 0 with *addr and *size set, or FDT_ERR_NOTFOUND past the end. */
int fdt_rsvmap_entry(const struct fdt *f, int i, uint64_t *addr, uint64_t *size);

#endif
