/*
 * kernel/fdt.c - flattened device tree reader (see fdt.h for the contract).
 *
 * The structure block is a sequence of big-endian 32-bit tokens:
 *   BEGIN_NODE name\0 (padded to 4)   PROP len nameoff value (padded to 4)
 *   END_NODE   NOP   END
 * read_token() is the only place that decodes one, and it checks every length
 * against the block, so all walks above it stay inside the blob.
 */
#include "fdt.h"
#include "string.h"

#define FDT_MAGIC       0xd00dfeed
#define FDT_BEGIN_NODE  1
#define FDT_END_NODE    2
#define FDT_PROP        3
#define FDT_NOP         4
#define FDT_END         9
#define HEADER_SIZE     40

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t fdt_read_cells(const void *p, int cells)
{
    const uint8_t *b = p;
    uint64_t v = 0;
    for (int i = 0; i < cells; i++)
        v = v << 32 | be32(b + 4 * i);
    return v;
}

const char *fdt_strerror(int err)
{
    switch (err) {
    case 0: return "ok";
    case FDT_ERR_NOTFOUND: return "not found";
    case FDT_ERR_MAGIC: return "bad magic number (not a DTB)";
    case FDT_ERR_VERSION: return "unsupported DTB version";
    case FDT_ERR_TRUNCATED: return "DTB larger than the memory holding it";
    case FDT_ERR_LAYOUT: return "DTB header offsets point outside the blob";
    case FDT_ERR_STRUCT: return "malformed DTB structure block";
    case FDT_ERR_DEPTH: return "DTB nodes nested too deeply";
    default: return "unknown error";
    }
}

/* off + len <= limit, without overflow. */
static int fits(uint32_t off, uint32_t len, uint32_t limit)
{
    return off <= limit && len <= limit - off;
}

static int read_token(const struct fdt *f, uint32_t *off, const char **name,
                      const uint8_t **val, uint32_t *len);

/* Record the properties the index keeps from node entry e's header; *o past them. 0 or an error. */
static int index_props(const struct fdt *f, struct fdt_node_ref *e, uint32_t *o)
{
    int seen_compat = 0, seen_phandle = 0;
    for (;;) {
        uint32_t at = *o;
        const char *name;
        const uint8_t *val;
        uint32_t len;
        int tok = read_token(f, o, &name, &val, &len);
        if (tok == FDT_NOP)
            continue;
        if (tok != FDT_PROP) {
            *o = at;
            return tok < 0 ? tok : 0;
        }
        /* The first of each name counts, as for fdt_prop (a repeated one is ignored). */
        if (strcmp(name, "compatible") == 0 && !seen_compat) {
            seen_compat = 1;
            e->compat = (const char *)val;
            e->compat_len = len;
        } else if (strcmp(name, "phandle") == 0 && !seen_phandle) {
            seen_phandle = 1;
            e->phandle = len == 4 ? (uint32_t)fdt_read_cells(val, 1) : 0;
        }
    }
}

/* One pass over the structure block into f->index (see struct fdt); nindex -1 if it cannot be had. */
static void build_index(struct fdt *f)
{
    int stack[FDT_MAX_DEPTH + 1], depth = 0, n = 0;
    uint32_t o = (uint32_t)fdt_root(f);
    f->nindex = -1;
    for (;;) {
        uint32_t at = o;
        int tok = read_token(f, &o, NULL, NULL, NULL);
        if (tok == FDT_BEGIN_NODE) {
            if (n == FDT_INDEX_MAX || depth + 1 > FDT_MAX_DEPTH)
                return;                 /* (deeper trees: the walks report FDT_ERR_DEPTH as before) */
            struct fdt_node_ref *e = &f->index[n];
            *e = (struct fdt_node_ref){ at, depth ? stack[depth - 1] : -1, 0, 0, NULL };
            if (index_props(f, e, &o) != 0)
                return;
            stack[depth++] = n++;
        } else if (tok == FDT_END_NODE) {
            if (--depth < 0)
                return;
            if (depth == 0)
                break;
        } else if (tok != FDT_NOP) {
            return;                     /* FDT_END inside the tree, a property out of place, an error */
        }
    }
    int tok;
    while ((tok = read_token(f, &o, NULL, NULL, NULL)) == FDT_NOP)
        ;
    if (tok == FDT_END)                 /* anything else after the root: walk, as without an index */
        f->nindex = n;
}

/* The index entry of `node`, or -1 (no index, or not a node's offset). */
static int entry_of(const struct fdt *f, int node)
{
    int lo = 0, hi = f->nindex - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (f->index[mid].off == (uint32_t)node)
            return mid;
        if (f->index[mid].off < (uint32_t)node)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int fdt_open(struct fdt *f, const void *blob, size_t avail)
{
    const uint8_t *b = blob;
    if (avail < HEADER_SIZE)
        return FDT_ERR_TRUNCATED;
    if (be32(b) != FDT_MAGIC)
        return FDT_ERR_MAGIC;
    uint32_t size = be32(b + 4);
    uint32_t version = be32(b + 20), last_comp = be32(b + 24);
    if (version < 16 || last_comp > 17)
        return FDT_ERR_VERSION;
    if (size > avail)
        return FDT_ERR_TRUNCATED;
    if (size < HEADER_SIZE)
        return FDT_ERR_LAYOUT;

    f->blob = b;
    f->size = size;
    f->struct_off = be32(b + 8);
    f->strings_off = be32(b + 12);
    f->rsvmap_off = be32(b + 16);
    f->strings_size = be32(b + 32);
    f->struct_size = be32(b + 36);
    if (!fits(f->struct_off, f->struct_size, size) || f->struct_off % 4 || f->struct_size % 4 ||
        !fits(f->strings_off, f->strings_size, size) || f->rsvmap_off % 8 ||
        !fits(f->rsvmap_off, 16, size))
        return FDT_ERR_LAYOUT;
    f->strings_end_nul = f->strings_size > 0 && b[f->strings_off + f->strings_size - 1] == 0;
    if (fdt_root(f) < 0)
        return FDT_ERR_STRUCT;
    build_index(f);
    return 0;
}

/*
 * Decode the token at *off (an offset into the structure block) and advance *off
 * past it and its payload. For BEGIN_NODE *name is the node name; for PROP *name
 * is the property name and *val, *len its value. Returns the token or FDT_ERR_STRUCT.
 */
/* A leaf on every path, called thousands of times at boot: no frame pointer, no memchr call. */
__attribute__((optimize("omit-frame-pointer", "no-tree-loop-distribute-patterns")))
static int read_token(const struct fdt *f, uint32_t *off, const char **name,
                      const uint8_t **val, uint32_t *len)
{
    const uint8_t *s = f->blob + f->struct_off;
    uint32_t end = f->struct_size, o = *off;
    if (o % 4 || !fits(o, 4, end))
        return FDT_ERR_STRUCT;
    uint32_t tok = be32(s + o);
    o += 4;
    switch (tok) {
    case FDT_BEGIN_NODE: {
        /* The name runs to a NUL inside the block. (A loop, not memchr: names are
           short, and with no call in it this function saves no registers.) */
        uint32_t n = o;
        while (n < end && s[n])
            n++;
        if (n == end)
            return FDT_ERR_STRUCT;
        if (name)
            *name = (const char *)(s + o);
        o = (n + 1 + 3) & ~3u;
        break;
    }
    case FDT_PROP: {
        if (!fits(o, 8, end))
            return FDT_ERR_STRUCT;
        uint32_t vlen = be32(s + o), nameoff = be32(s + o + 4);
        o += 8;
        if (!fits(o, vlen, end) || nameoff >= f->strings_size)
            return FDT_ERR_STRUCT;
        const char *strs = (const char *)f->blob + f->strings_off;
        /* A NUL ends the name before the block does; known at once if the block ends with one. */
        if (!f->strings_end_nul) {
            uint32_t n = nameoff;
            while (n < f->strings_size && strs[n])
                n++;
            if (n == f->strings_size)
                return FDT_ERR_STRUCT;
        }
        if (name)
            *name = strs + nameoff;
        if (val)
            *val = s + o;
        if (len)
            *len = vlen;
        o = (o + vlen + 3) & ~3u;
        break;
    }
    case FDT_END_NODE:
    case FDT_NOP:
    case FDT_END:
        break;
    default:
        return FDT_ERR_STRUCT;
    }
    if (o > end)
        return FDT_ERR_STRUCT;
    *off = o;
    return (int)tok;
}

/* Skip NOPs from *off; returns the next real token without consuming it. */
static int peek_token(const struct fdt *f, uint32_t *off)
{
    for (;;) {
        uint32_t o = *off;
        int tok = read_token(f, &o, NULL, NULL, NULL);
        if (tok != FDT_NOP)
            return tok;
        *off = o;
    }
}

/* Offset of the first token after the node's name and properties. */
static int skip_header(const struct fdt *f, int node, uint32_t *off)
{
    uint32_t o = (uint32_t)node;
    if (read_token(f, &o, NULL, NULL, NULL) != FDT_BEGIN_NODE)
        return FDT_ERR_STRUCT;
    for (;;) {
        uint32_t at = o;
        int tok = read_token(f, &o, NULL, NULL, NULL);
        if (tok != FDT_PROP && tok != FDT_NOP) {
            *off = at;
            return tok < 0 ? tok : 0;
        }
    }
}

int fdt_root(const struct fdt *f)
{
    uint32_t o = 0;
    int tok = peek_token(f, &o);
    return tok == FDT_BEGIN_NODE ? (int)o : FDT_ERR_STRUCT;
}

int fdt_first_child(const struct fdt *f, int node)
{
    int e = entry_of(f, node);
    if (e >= 0)
        return e + 1 < f->nindex && f->index[e + 1].parent == e ? (int)f->index[e + 1].off : FDT_ERR_NOTFOUND;
    uint32_t o;
    int err = skip_header(f, node, &o);
    if (err)
        return err;
    int tok = peek_token(f, &o);
    if (tok == FDT_BEGIN_NODE)
        return (int)o;
    return tok == FDT_END_NODE ? FDT_ERR_NOTFOUND : FDT_ERR_STRUCT;
}

int fdt_next_sibling(const struct fdt *f, int node)
{
    int e = entry_of(f, node);
    if (e >= 0) {
        int parent = f->index[e].parent;
        for (int j = e + 1; j < f->nindex && f->index[j].parent >= parent; j++)
            if (f->index[j].parent == parent)
                return (int)f->index[j].off;        /* (later entries with a larger parent are descendants) */
        return FDT_ERR_NOTFOUND;
    }
    uint32_t o = (uint32_t)node;
    int depth = 0;
    do {
        int tok = read_token(f, &o, NULL, NULL, NULL);
        if (tok == FDT_BEGIN_NODE && ++depth > FDT_MAX_DEPTH)
            return FDT_ERR_DEPTH;
        else if (tok == FDT_END_NODE)
            depth--;
        else if (tok < 0 || tok == FDT_END)
            return FDT_ERR_STRUCT;
    } while (depth > 0);
    int tok = peek_token(f, &o);
    if (tok == FDT_BEGIN_NODE)
        return (int)o;
    return tok == FDT_END_NODE || tok == FDT_END ? FDT_ERR_NOTFOUND : FDT_ERR_STRUCT;
}

int fdt_next_node(const struct fdt *f, int node)
{
    int e = entry_of(f, node);
    if (e >= 0)
        return e + 1 < f->nindex ? (int)f->index[e + 1].off : FDT_ERR_NOTFOUND;
    uint32_t o = (uint32_t)node;
    if (read_token(f, &o, NULL, NULL, NULL) != FDT_BEGIN_NODE)
        return FDT_ERR_STRUCT;
    for (;;) {
        uint32_t at = o;
        int tok = read_token(f, &o, NULL, NULL, NULL);
        if (tok == FDT_BEGIN_NODE)
            return (int)at;
        if (tok == FDT_END)
            return FDT_ERR_NOTFOUND;
        if (tok < 0)
            return tok;
    }
}

const char *fdt_node_name(const struct fdt *f, int node)
{
    const char *name = "";
    uint32_t o = (uint32_t)node;
    if (node < 0 || read_token(f, &o, &name, NULL, NULL) != FDT_BEGIN_NODE)
        return "";
    return name;
}

/* Does node name `name` match path component comp[0..len)? */
static int name_matches(const char *name, const char *comp, size_t len)
{
    if (strncmp(name, comp, len) != 0)
        return 0;
    return name[len] == '\0' || (name[len] == '@' && !memchr(comp, '@', len));
}

int fdt_path(const struct fdt *f, const char *path)
{
    if (path[0] != '/')
        return FDT_ERR_NOTFOUND;
    int node = fdt_root(f);
    const char *p = path;
    while (node >= 0) {
        while (*p == '/')
            p++;
        if (!*p)
            return node;
        size_t len = 0;
        while (p[len] && p[len] != '/')
            len++;
        int child = fdt_first_child(f, node);
        while (child >= 0 && !name_matches(fdt_node_name(f, child), p, len))
            child = fdt_next_sibling(f, child);
        node = child;
        p += len;
    }
    return node;
}

const void *fdt_prop(const struct fdt *f, int node, const char *name, uint32_t *len)
{
    uint32_t o = (uint32_t)node;
    if (node < 0 || read_token(f, &o, NULL, NULL, NULL) != FDT_BEGIN_NODE)
        return NULL;
    for (;;) {
        const char *pname;
        const uint8_t *val;
        uint32_t vlen;
        int tok = read_token(f, &o, &pname, &val, &vlen);    /* each token decoded once */
        if (tok == FDT_NOP)
            continue;
        if (tok != FDT_PROP)
            return NULL;
        if (strcmp(pname, name) == 0) {
            if (len)
                *len = vlen;
            return val;
        }
    }
}

const char *fdt_prop_string(const struct fdt *f, int node, const char *name)
{
    uint32_t len;
    const char *s = fdt_prop(f, node, name, &len);
    if (!s || len == 0 || s[len - 1] != '\0')
        return NULL;
    return s;
}

int fdt_prop_u32(const struct fdt *f, int node, const char *name, uint32_t *out)
{
    uint32_t len;
    const void *p = fdt_prop(f, node, name, &len);
    if (!p || len != 4)
        return FDT_ERR_NOTFOUND;
    *out = (uint32_t)fdt_read_cells(p, 1);
    return 0;
}

int fdt_stringlist_contains(const char *list, uint32_t len, const char *s)
{
    size_t slen = strlen(s);
    while (len > 0) {
        const char *nul = memchr(list, 0, len);
        size_t n = nul ? (size_t)(nul - list) : len;
        if (n == slen && memcmp(list, s, n) == 0)
            return 1;
        if (!nul)
            break;
        len -= (uint32_t)n + 1;
        list = nul + 1;
    }
    return 0;
}

int fdt_is_compatible(const struct fdt *f, int node, const char *compat)
{
    int e = entry_of(f, node);
    if (e >= 0)
        return f->index[e].compat && fdt_stringlist_contains(f->index[e].compat, f->index[e].compat_len, compat);
    uint32_t len;
    const char *list = fdt_prop(f, node, "compatible", &len);
    return list && fdt_stringlist_contains(list, len, compat);
}

int fdt_find_compatible(const struct fdt *f, int after, const char *compat)
{
    int node = after < 0 ? fdt_root(f) : fdt_next_node(f, after);
    while (node >= 0 && !fdt_is_compatible(f, node, compat))
        node = fdt_next_node(f, node);
    return node;
}

int fdt_node_by_phandle(const struct fdt *f, uint32_t phandle)
{
    if (phandle == 0 || phandle == 0xffffffffu)
        return FDT_ERR_NOTFOUND;        /* not valid phandle values (spec 2.3.3) */
    if (f->nindex >= 0) {
        for (int i = 0; i < f->nindex; i++)
            if (f->index[i].phandle == phandle)
                return (int)f->index[i].off;
        return FDT_ERR_NOTFOUND;
    }
    for (int node = fdt_root(f); node >= 0; node = fdt_next_node(f, node)) {
        uint32_t v;
        if (fdt_prop_u32(f, node, "phandle", &v) == 0 && v == phandle)
            return node;
    }
    return FDT_ERR_NOTFOUND;
}

int fdt_rsvmap_entry(const struct fdt *f, int i, uint64_t *addr, uint64_t *size)
{
    for (int k = 0; k <= i; k++) {
        uint32_t o = f->rsvmap_off + 16u * (uint32_t)k;
        if (!fits(o, 16, f->size))
            return FDT_ERR_NOTFOUND;
        uint64_t a = fdt_read_cells(f->blob + o, 2), s = fdt_read_cells(f->blob + o + 8, 2);
        if (a == 0 && s == 0)
            return FDT_ERR_NOTFOUND;
        if (k == i) {
            *addr = a;
            *size = s;
        }
    }
    return 0;
}

int fdt_parent(const struct fdt *f, int node)
{
    int e = entry_of(f, node);
    if (e >= 0)
        return f->index[e].parent >= 0 ? (int)f->index[f->index[e].parent].off : FDT_ERR_NOTFOUND;
    if (f->nindex >= 0)
        return FDT_ERR_NOTFOUND;        /* not a node of this tree (the walk would not find it either) */
    int stack[FDT_MAX_DEPTH + 1];
    int depth = 0;
    uint32_t o = (uint32_t)fdt_root(f);
    for (;;) {
        uint32_t at = o;
        int tok = read_token(f, &o, NULL, NULL, NULL);
        if (tok == FDT_BEGIN_NODE) {
            if ((int)at == node)
                return depth > 0 ? stack[depth - 1] : FDT_ERR_NOTFOUND;
            if (depth > FDT_MAX_DEPTH)
                return FDT_ERR_DEPTH;
            stack[depth++] = (int)at;
        } else if (tok == FDT_END_NODE) {
            if (--depth < 0)
                return FDT_ERR_STRUCT;
        } else if (tok == FDT_END) {
            return FDT_ERR_NOTFOUND;
        } else if (tok < 0) {
            return tok;
        }
    }
}
