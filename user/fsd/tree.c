/*
 * user/fsd/tree.c - fsd's tree: nodes (directories, regular files, symbolic
 * links, the console device) with inode numbers that are never reused, their hash by inode, the
 * regular files' memobjs (copied from the boot image at first open), and
 * path resolution. See fsd.h for the contracts.
 */
#include "user/fsd/fsd.h"

struct fs_state fs;
struct node *console_node;

uint64_t wall_ns(uint64_t clock_ns)
{
    return clock_ns + MUSL_EMU_REALTIME_BASE_NS;
}

uint64_t now_ns(void)
{
    if (fs.seed_ns)
        return fs.seed_ns;      /* the boot tree: every node made at one instant, one call */
    return wall_ns((uint64_t)ks_clock_ns());
}

struct node *ino_find(uint64_t ino)
{
    for (struct node *n = fs.ino_hash[ino % INO_BUCKETS]; n; n = n->hash_next)
        if (n->ino == ino)
            return n;
    return NULL;
}

void disk_nodes_unloaded(uint32_t e2ino, uint64_t size, uint64_t changed_ns)
{
    for (struct node *n = fs.ino_hash[e2ino % INO_BUCKETS]; n; n = n->hash_next)
        if (n->ino == e2ino && n->e2ino == e2ino && n->type == NODE_FILE) {
            n->mo = 0;
            n->lazy = LAZY_DISK;
            n->boot_size = size;
            if (changed_ns) {
                n->mtime_ns = wall_ns(changed_ns);
                if (n->mtime_ns > n->ctime_ns)
                    n->ctime_ns = n->mtime_ns;
            }
        }
}

void disk_nodes_loaded(uint32_t e2ino, ks_handle_t mo)
{
    for (struct node *n = fs.ino_hash[e2ino % INO_BUCKETS]; n; n = n->hash_next)
        if (n->ino == e2ino && n->e2ino == e2ino && n->type == NODE_FILE) {
            n->mo = mo;
            n->lazy = 0;
        }
}

void disk_nodes_links(uint32_t e2ino, uint32_t links)
{
    for (struct node *n = fs.ino_hash[e2ino % INO_BUCKETS]; n; n = n->hash_next)
        if (n->ino == e2ino && n->e2ino == e2ino && n->type != NODE_DIR)
            n->links_more = (uint16_t)(links ? links - 1 : 0);
}

static void ino_unhash(struct node *n)
{
    struct node **p = &fs.ino_hash[n->ino % INO_BUCKETS];
    while (*p && *p != n)
        p = &(*p)->hash_next;
    if (*p)
        *p = n->hash_next;
}

/*
 * Every linked node is also in name_hash under (its directory, its name), so
 * that a lookup in /bin (300 entries with busybox's applets) is a short chain,
 * not a walk of the directory's list.
 */
static struct node *name_hash[NAME_BUCKETS];

static inline __attribute__((always_inline)) struct node **name_bucket(const struct node *d, const char *name,
                                                                        size_t len)
{
    uint64_t h = (uintptr_t)d * 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 0x100000001b3ull;
    /*
     * FNV's last multiply leaves the last byte in bits 0-17 and 40-47 only, so
     * names that differ at their end ("f0001", "f0002") shared the middle bits
     * a bucket used to come from: a 1,000-file directory made chains of
     * hundreds. Mixed first, every bit of the bucket depends on every byte.
     */
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return &name_hash[h % NAME_BUCKETS];
}

/* 1 if the len bytes at a and b are the same: a loop, not memcmp's call, for a walk's short names. */
static inline __attribute__((always_inline)) int name_eq(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* dir_find in a long directory: through name_hash, with no call. */
static inline __attribute__((always_inline)) struct node *dir_find_long(struct node *d, const char *name,
                                                                        size_t len)
{
    for (struct node *n = *name_bucket(d, name, len); n; n = n->name_next)
        if (n->parent == d && n->namelen == len && name_eq(n->name, name, len))
            return n;
    return NULL;
}

/* dir_find_long out of line, for walk (which has a frame anyway, and its loop is long enough). */
static __attribute__((noinline)) struct node *dir_find_hashed(struct node *d, const char *name, size_t len)
{
    return dir_find_long(d, name, len);
}

/* How many entries a directory may have for dir_find to walk its list rather than hash the name. */
#define DIR_SHORT 16

/* dir_find in a short directory (at most DIR_SHORT entries): its list, no call. */
static inline __attribute__((always_inline)) struct node *dir_find_short(struct node *d, const char *name,
                                                                         size_t len)
{
    for (struct node *n = d->first; n; n = n->next)
        if (n->namelen == len && n->name[0] == name[0] && name_eq(n->name, name, len))
            return n;
    return NULL;
}

/* The entry `name` (len bytes) of directory d, or NULL. (Inlined in walk, the lookup's loop.) */
__attribute__((always_inline)) inline struct node *dir_find(struct node *d, const char *name, size_t len)
{
    if (d->nentries > DIR_SHORT)        /* a short list is quicker to walk than a name to hash */
        return dir_find_hashed(d, name, len);
    return dir_find_short(d, name, len);
}

/* Append n to directory d's entries. */
void dir_link(struct node *d, struct node *n)
{
    struct node **b = name_bucket(d, n->name, n->namelen);
    n->name_next = *b;
    *b = n;
    n->parent = d;
    n->seq = d->next_seq++;
    n->next = NULL;
    n->prev = d->last;
    if (d->last)
        d->last->next = n;
    else
        d->first = n;
    d->last = n;
    d->nentries++;
    if (n->type == NODE_DIR)
        d->nsubdirs++;
    d->mtime_ns = d->ctime_ns = now_ns();
}

/* Take n out of its directory's entries. */
void dir_unlink(struct node *n)
{
    struct node *d = n->parent;
    struct node **b = name_bucket(d, n->name, n->namelen);
    while (*b && *b != n)
        b = &(*b)->name_next;
    if (*b)
        *b = n->name_next;
    if (n->prev)
        n->prev->next = n->next;
    else
        d->first = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        d->last = n->prev;
    n->prev = n->next = NULL;
    d->nentries--;
    if (n->type == NODE_DIR)
        d->nsubdirs--;
    d->mtime_ns = d->ctime_ns = now_ns();
}

char *name_dup(const char *name, size_t len)
{
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, name, len);
        s[len] = 0;
    }
    return s;
}

/*
 * A new node of `type` named name (len bytes) in directory d (NULL: the root),
 * without contents. NULL if out of memory or nodes.
 */
struct node *node_new(struct node *d, const char *name, size_t len, enum node_type type)
{
    return node_new_numbered(d, name, len, type, fs.next_ino);
}

struct node *node_new_numbered(struct node *d, const char *name, size_t len, enum node_type type, uint64_t ino)
{
    if (fs.nnodes >= MAX_NODES)
        return NULL;
    struct node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->name = name_dup(name, len);
    if (!n->name) {
        free(n);
        return NULL;
    }
    n->namelen = len;
    n->type = (uint8_t)type;
    n->ino = ino;
    if (ino == fs.next_ino)
        fs.next_ino++;
    n->mtime_ns = n->ctime_ns = now_ns();
    n->hash_next = fs.ino_hash[n->ino % INO_BUCKETS];
    fs.ino_hash[n->ino % INO_BUCKETS] = n;
    fs.nnodes++;
    if (d)
        dir_link(d, n);
    else
        n->parent = n;
    return n;
}

static int out_of_handles;     /* the last failed create ran out of handles, not memory */

/* node_new, and a regular file gets an empty memobj. */
struct node *node_create(struct node *d, const char *name, size_t len, enum node_type type)
{
    long mo = type == NODE_FILE ? ks_memobj_create(0) : 0;
    out_of_handles = mo == KS_ERR_NO_HANDLES;
    if (mo < 0)
        return NULL;
    struct node *n = node_new(d, name, len, type);
    if (!n) {
        if (mo)
            ks_handle_close((ks_handle_t)mo);
        return NULL;
    }
    n->mo = (ks_handle_t)mo;
    return n;
}

/*
 * Why creating a node failed. Every regular file holds a memobj handle here, so
 * fsd's handle table (KS_HANDLE_MAX) bounds the number of files: ENOSPC.
 */
long create_error(void)
{
    return fs.nnodes >= MAX_NODES || out_of_handles ? -ENOSPC : -ENOMEM;
}

/* Is n a name of a file in fsd's memory that has other names (the same ino, the same memobj)? */
static int memory_linked(const struct node *n)
{
    return !n->e2ino && n->type == NODE_FILE && n->links_more;
}

/* Apply f to every other memory node naming n's file. */
static void memory_names(struct node *n, void (*f)(struct node *m, const struct node *n))
{
    for (struct node *m = fs.ino_hash[n->ino % INO_BUCKETS]; m; m = m->hash_next)
        if (m != n && m->ino == n->ino && !m->e2ino && m->type == NODE_FILE)
            f(m, n);
}

static void one_link_fewer(struct node *m, const struct node *n)
{
    m->links_more--;
}

static void one_link_more(struct node *m, const struct node *n)
{
    m->links_more++;
}

static void same_attrs(struct node *m, const struct node *n)
{
    m->perm = n->perm;
    m->mtime_ns = n->mtime_ns;
    m->ctime_ns = n->ctime_ns;
}

/* A disk file's names also share the size its inode has while none of them holds its memobj. */
static void same_disk_attrs(struct node *m, const struct node *n)
{
    same_attrs(m, n);
    if (m->lazy && n->lazy)
        m->boot_size = n->boot_size;
}

/* Is m another name of disk node n's inode (a hard link: mount_link)? */
static int other_disk_name(const struct node *m, const struct node *n)
{
    return m != n && m->ino == n->ino && m->e2ino == n->e2ino && m->type == n->type;
}

/* Apply f to every other node naming disk node n's inode. */
static void disk_names(struct node *n, void (*f)(struct node *m, const struct node *n))
{
    for (struct node *m = fs.ino_hash[n->ino % INO_BUCKETS]; m; m = m->hash_next)
        if (other_disk_name(m, n))
            f(m, n);
}

void disk_node_join(struct node *n)
{
    for (struct node *m = fs.ino_hash[n->ino % INO_BUCKETS]; m; m = m->hash_next)
        if (other_disk_name(m, n)) {
            same_attrs(n, m);
            n->lazy = m->lazy;
            n->mo = m->mo;
            n->boot_size = m->boot_size;
            return;
        }
}

void node_attrs_changed(struct node *n)
{
    if (memory_linked(n))
        memory_names(n, same_attrs);
    else if (n->e2ino && n->type != NODE_DIR)
        disk_names(n, same_disk_attrs);
}

long node_link(struct node *n, struct node *d, const char *name, size_t len)
{
    if (n->type != NODE_FILE || n->lazy || n->boot_size || !n->mo)
        return -EPERM;          /* symbolic links, and /bin's files (paged from the boot image, whose
                                   memobj the pager may let go and make again) */
    if (n->links_more >= 65000)
        return -EMLINK;
    long mo = ks_handle_duplicate(n->mo, KS_RIGHT_READ | KS_RIGHT_WRITE | KS_RIGHT_MAP | KS_RIGHT_EXECUTE |
                                             KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE);
    if (mo < 0)
        return mo == KS_ERR_NO_HANDLES ? -ENOSPC : -ENOMEM;
    struct node *m = node_new_numbered(d, name, len, NODE_FILE, n->ino);
    if (!m) {
        ks_handle_close((ks_handle_t)mo);
        return create_error();
    }
    m->mo = (ks_handle_t)mo;
    memory_names(m, one_link_more);     /* (n among them) */
    m->links_more = n->links_more;
    n->ctime_ns = now_ns();
    node_attrs_changed(n);              /* every name, the new one too: n's mode and times */
    return 0;
}

/* Remove n (a file, or an empty directory) for good. Clients holding its memobj keep it. */
void node_remove(struct node *n)
{
    if (memory_linked(n))
        memory_names(n, one_link_fewer);    /* its other names: the file stays theirs */
    disk_node_removed(n);
    dir_unlink(n);
    ino_unhash(n);
    if (n->mo && !(n->e2ino && n->type == NODE_FILE))
        ks_handle_close(n->mo);     /* (a disk file's is its pager slot's: its clients may hold it yet) */
    free(n->target);
    free(n->name);
    free(n);
    fs.nnodes--;
}

/* Give a lazy boot-image file its memobj: paged, or copied if the pager cannot have it. 0 or -errno. */
long file_load(struct node *n)
{
    static uint8_t chunk[16384];
    if (!n->lazy || (n->lazy == LAZY_BOOT ? pager_file(n) : pager_disk_file(n)) == 0)
        return 0;
    if (n->lazy == LAZY_DISK)
        return -EIO;            /* (no copy fallback: a disk file may be larger than memory) */
    long mo = ks_memobj_create(n->boot_size);
    if (mo < 0)
        return -ENOMEM;
    for (uint64_t off = 0; off < n->boot_size;) {
        uint64_t want = n->boot_size - off < sizeof chunk ? n->boot_size - off : sizeof chunk;
        long r = ks_memobj_read(fs.bootimg, n->boot_off + off, chunk, want);
        if (r > 0)
            r = ks_memobj_write((ks_handle_t)mo, off, chunk, (size_t)r);
        if (r <= 0) {
            ks_handle_close((ks_handle_t)mo);
            return -EIO;
        }
        off += (uint64_t)r;
    }
    n->mo = (ks_handle_t)mo;
    n->lazy = 0;
    file_times_set(n);          /* (the copy is not a change: the image's time stands) */
    return 0;
}

/* Truncate a file to 0 (O_TRUNC): a lazy one gets an empty memobj, nothing copied. */
long file_truncate(struct node *n)
{
    if (disk_node(n))
        return 0;               /* a disk keeps its size: O_TRUNC means nothing to it, as on Linux */
    if (n->e2ino)
        return mount_file_truncate(n);      /* a file on the disk's file system */
    if (n->lazy) {
        long mo = ks_memobj_create(0);
        if (mo < 0)
            return -ENOMEM;
        n->mo = (ks_handle_t)mo;
        n->lazy = 0;
    } else if (ks_memobj_truncate(n->mo, 0) < 0) {
        return -EIO;
    }
    n->mtime_ns = n->ctime_ns = now_ns();
    node_attrs_changed(n);
    return 0;
}


struct node *symlink_create(struct node *d, const char *name, size_t len, const char *target,
                            size_t tlen)
{
    char *t = name_dup(target, tlen);
    if (!t)
        return NULL;
    struct node *n = node_new(d, name, len, NODE_SYMLINK);
    if (!n) {
        free(t);
        return NULL;
    }
    n->target = t;
    n->targetlen = tlen;
    n->perm = PERM_SET | 0777;
    return n;
}

/*
 * resolve()'s walk: path (len bytes) from directory `from` ("/"-rooted paths
 * from the root), *links the links followed so far in this resolution.
 */
static long walk(struct node *from, const char *path, size_t len, struct lookup *lk, int follow,
                 unsigned *links)
{
    memset(lk, 0, sizeof *lk);
    if (len == 0)
        return -ENOENT;
    lk->dir = lk->node = path[0] == '/' ? fs.root : from;
    size_t i = 0;
    for (;;) {
        while (i < len && path[i] == '/')
            i++;
        if (i == len)
            break;
        size_t j = i;
        while (j < len && path[j] != '/' && path[j])
            j++;
        if (j < len && !path[j])
            return -EINVAL;     /* a NUL inside the path (the scan sees every byte) */
        if (j - i > NAME_MAX_LEN)
            return -ENAMETOOLONG;
        if (!lk->node)
            return -ENOENT;     /* a missing directory on the way */
        if (lk->node->type != NODE_DIR)
            return -ENOTDIR;
        struct node *d = lk->node;
        const char *c = path + i;
        size_t cl = j - i;
        lk->dir = d;
        lk->name = c;
        lk->namelen = cl;
        lk->dotted = (cl == 1 && c[0] == '.') || (cl == 2 && c[0] == '.' && c[1] == '.');
        long r;
        if (lk->dotted)
            lk->node = cl == 1 ? d : d->parent;
        else if (__builtin_expect(d->e2ino && !d->e2loaded, 0) && (r = mount_dir_load(d)) < 0)
            return r;           /* its disk entries could not be read */
        else
            lk->node = dir_find(d, c, cl);
        struct node *n = lk->node;
        size_t rest = j;
        while (n && n->type == NODE_SYMLINK && rest < len && path[rest] == '/')
            rest++;
        if (n && n->type == NODE_SYMLINK && (rest < len || follow || j < len)) {
            /* Followed: on the way, always; the last component, if asked or "link/" */
            if (++*links > FS_SYMLOOP_MAX)
                return -ELOOP;
            struct lookup sub;
            long r = walk(d, n->target, n->targetlen, &sub, 1, links);
            if (r < 0)
                return r;
            if (rest == len && !sub.node) {
                *lk = sub;      /* dangling at the end: where its target would be created */
                lk->trailing_slash = j < len;
                return 0;
            }
            lk->node = sub.node;
            lk->dotted = 0;
        }
        i = j;
    }
    lk->trailing_slash = lk->namelen > 0 && path[len - 1] == '/';
    if (lk->node && lk->trailing_slash && lk->node->type != NODE_DIR)
        return -ENOTDIR;
    return 0;
}

/*
 * walk's commonest case, with no call and so no frame: an absolute path of
 * plain names, one slash apart, through loaded directories to a node that
 * exists and is no symbolic link. PLAIN_DONE, with *lk as walk would set
 * it. PLAIN_FROM: a directory on the way that is not loaded, or a
 * component that is missing or a link, needs walk, from directory *at with
 * the path from *rest on (what came before was plain). PLAIN_NO: anything
 * else (".", "..", "//", a NUL, a long name, a trailing slash): walk all of it.
 */
enum { PLAIN_NO, PLAIN_DONE, PLAIN_FROM };

static inline __attribute__((always_inline)) int walk_plain(const char *path, size_t len, struct lookup *lk,
                                                            struct node **at, size_t *rest)
{
    struct node *d = fs.root, *n = fs.root;
    const char *name = NULL;
    size_t i = 1, nl = 0;               /* path[0] is '/' */
    while (i < len) {
        size_t j = i;
        for (; j < len && path[j] != '/'; j++)
            if (!path[j])
                return PLAIN_NO;
        nl = j - i;
        name = path + i;
        if (nl == 0 || nl > NAME_MAX_LEN || (name[0] == '.' && (nl == 1 || (nl == 2 && name[1] == '.'))))
            return PLAIN_NO;
        if (n->type != NODE_DIR)
            return PLAIN_NO;
        *at = n;
        *rest = i;
        if (n->e2ino && !n->e2loaded)
            return PLAIN_FROM;
        d = n;
        n = d->nentries > DIR_SHORT ? dir_find_long(d, name, nl) : dir_find_short(d, name, nl);
        if (!n || n->type == NODE_SYMLINK)
            return PLAIN_FROM;
        i = j + 1;
    }
    if (!name || path[len - 1] == '/')
        return PLAIN_NO;                /* "/" itself, or a trailing slash */
    lk->dir = d;
    lk->node = n;
    lk->name = name;
    lk->namelen = nl;
    lk->dotted = 0;
    lk->trailing_slash = 0;
    return PLAIN_DONE;
}

long resolve(const char *path, size_t len, struct lookup *lk, int follow)
{
    if (len && len <= FS_PATH_MAX && path[0] == '/') {
        struct node *at;
        size_t rest;
        int how = walk_plain(path, len, lk, &at, &rest);
        if (how == PLAIN_DONE)
            return 0;
        if (how == PLAIN_FROM) {        /* the plain part done: walk the rest from there */
            unsigned links = 0;
            return walk(at, path + rest, len - rest, lk, follow, &links);
        }
    }
    unsigned links = 0;
    if (len <= FS_PATH_MAX && (len == 0 || path[0] == '/'))
        return walk(fs.root, path, len, lk, follow, &links);    /* it clears *lk */
    memset(lk, 0, sizeof *lk);
    return len > FS_PATH_MAX ? -ENAMETOOLONG : -EINVAL;     /* musl_emu sends absolute paths */
}

/* Is node a, or anything under it, the directory d? */
int is_within(const struct node *d, const struct node *a)
{
    for (;;) {
        if (d == a)
            return 1;
        if (d == fs.root)
            return 0;
        d = d->parent;
    }
}


__attribute__((always_inline)) inline uint64_t node_mode(const struct node *n)
{
    uint64_t type = n->type == NODE_DIR ? S_IFDIR : n->type == NODE_FILE ? S_IFREG :
                    n->type == NODE_SYMLINK ? S_IFLNK : S_IFCHR;
    if (n->perm & PERM_SET)
        return type | (n->perm & 07777);
    return type | (n->type == NODE_DIR ? 0755 : n->type == NODE_FILE ? 0644 :
                   n->type == NODE_CONSOLE ? 0620 : 0666);
}

void file_times_set(const struct node *n)
{
    struct ks_memobj_stat ms;
    if (n->type == NODE_FILE && !n->lazy && n->mo)
        ks_memobj_stat(n->mo, &ms, KS_MEMOBJ_STAT_CLEAR);
}

/* A file with a memobj: its size and times as stat_words says. */
static void loaded_file_stat(const struct node *n, struct fs_stat *s)
{
    struct ks_memobj_stat ms;
    if (ks_memobj_stat(n->mo, &ms, 0) < 0)
        ms = (struct ks_memobj_stat){ 0 };
    s->size = ms.size;
    if (ms.changed_ns) {
        s->mtime_ns = wall_ns(ms.changed_ns);
        if (s->mtime_ns > s->ctime_ns)
            s->ctime_ns = s->mtime_ns;
    }
}

void stat_words(const struct node *n, uint64_t out[KS_IPC_WORDS])
{
    struct fs_stat *s = (struct fs_stat *)&out[1];
    s->ino = n->ino;
    s->mode = node_mode(n);
    s->size = n->type == NODE_FILE ? n->boot_size : n->type == NODE_DIR ? 4096 :
              n->type == NODE_SYMLINK ? n->targetlen : 0;
    s->nlink = n->type == NODE_DIR ? 2 + n->nsubdirs : 1u + n->links_more;
    s->mtime_ns = n->mtime_ns;
    s->ctime_ns = n->ctime_ns;
    if (n->type == NODE_FILE && !n->lazy)
        loaded_file_stat(n, s);
}

