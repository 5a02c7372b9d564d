/*
 * kernel/radix.c - radix tree of RADIX_FANOUT-way nodes (see radix.h).
 */
#include "account.h"
#include "heap.h"
#include "radix.h"

struct radix_node {
    void *slot[RADIX_FANOUT];
};

static unsigned shift_of(unsigned level) { return RADIX_BITS * level; }

/* Does a tree of height h hold index? (Height 11 covers all 64 bits.) */
static int fits(unsigned h, uint64_t index)
{
    return h > 0 && (shift_of(h) >= 64 || index >> shift_of(h) == 0);
}

void *radix_lookup(const struct radix *r, uint64_t index)
{
    if (!fits(r->height, index))
        return NULL;
    struct radix_node *n = r->root;
    for (unsigned level = r->height - 1; n; level--) {
        void *next = n->slot[(index >> shift_of(level)) & (RADIX_FANOUT - 1)];
        if (level == 0)
            return next;
        n = next;
    }
    return NULL;
}

int radix_insert(struct radix *r, uint64_t index, void *p)
{
    void **s = radix_slot(r, index, NULL);
    if (!s)
        return -1;
    *s = p;
    return 0;
}

void **radix_slot(struct radix *r, uint64_t index, uint64_t *room)
{
    if (!r->root) {             /* an empty tree starts just tall enough */
        if (!(r->root = account_kzalloc(r->acct, sizeof *r->root)))
            return NULL;
        for (r->height = 1; !fits(r->height, index); r->height++)
            ;
    }
    /* Grow until the index fits; the old root becomes slot 0 of a new one. */
    while (!fits(r->height, index)) {
        struct radix_node *top = account_kzalloc(r->acct, sizeof *top);
        if (!top)
            return NULL;
        top->slot[0] = r->root;
        r->root = top;
        r->height++;
    }
    struct radix_node *n = r->root;
    for (unsigned level = r->height - 1; level > 0; level--) {
        void **s = &n->slot[(index >> shift_of(level)) & (RADIX_FANOUT - 1)];
        if (!*s && !(*s = account_kzalloc(r->acct, sizeof(struct radix_node))))
            return NULL;
        n = *s;
    }
    if (room)
        *room = RADIX_FANOUT - (index & (RADIX_FANOUT - 1));
    return &n->slot[index & (RADIX_FANOUT - 1)];
}

void *radix_remove(struct radix *r, uint64_t index)
{
    if (!fits(r->height, index))
        return NULL;
    struct radix_node *n = r->root;
    for (unsigned level = r->height - 1; level > 0 && n; level--)
        n = n->slot[(index >> shift_of(level)) & (RADIX_FANOUT - 1)];
    if (!n)
        return NULL;
    void **s = &n->slot[index & (RADIX_FANOUT - 1)];
    void *p = *s;
    *s = NULL;
    return p;
}

/* Remove entries >= first under node n (covering indices base..); returns 1 if n is now empty. */
static int remove_from(struct radix *r, struct radix_node *n, unsigned level, uint64_t base,
                       uint64_t first,
                       void (*fn)(uint64_t, void *, void *), void *arg)
{
    int empty = 1;
    uint64_t span = 1ull << shift_of(level);
    for (unsigned i = 0; i < RADIX_FANOUT; i++) {
        uint64_t lo = base + i * span;
        void *s = n->slot[i];
        if (!s)
            continue;
        if (level > 0 && lo + span - 1 >= first) {
            if (remove_from(r, s, level - 1, lo, first, fn, arg)) {
                account_kfree(r->acct, s);
                n->slot[i] = NULL;
                continue;
            }
        } else if (level == 0 && lo >= first) {
            n->slot[i] = NULL;
            fn(lo, s, arg);
            continue;
        }
        empty = 0;
    }
    return empty;
}

void radix_remove_from(struct radix *r, uint64_t first, void (*fn)(uint64_t index, void *p, void *arg),
                       void *arg)
{
    if (r->height == 0)
        return;
    if (remove_from(r, r->root, r->height - 1, 0, first, fn, arg)) {
        account_kfree(r->acct, r->root);
        r->root = NULL;
        r->height = 0;
    }
}
