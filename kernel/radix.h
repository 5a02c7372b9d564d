/*
 * kernel/radix.h - a radix tree from 64-bit indices to pointers (sparse arrays).
 *
 * Nodes have RADIX_FANOUT slots; the tree grows in height as larger indices are
 * inserted, so a small memobj costs one 512-byte node. Used for memobj pages.
 */
#ifndef KERNEL_RADIX_H
#define KERNEL_RADIX_H

#include <stdint.h>

#define RADIX_BITS 6
#define RADIX_FANOUT (1u << RADIX_BITS)

struct radix_node;
struct account;

struct radix {
    struct radix_node *root;
    unsigned height;            /* 0: empty; h covers indices < 64^h */
    struct account *acct;       /* charged for the nodes (kernel/account.h) */
};

/* An empty tree whose nodes are charged to a. */
static inline void radix_init(struct radix *r, struct account *a)
{
    r->root = 0;
    r->height = 0;
    r->acct = a;
}

/* The pointer at index, or NULL. */
void *radix_lookup(const struct radix *r, uint64_t index);

/* Store p (non-NULL) at index. 0, or -1 without memory for a node (or over the account's limit). */
int radix_insert(struct radix *r, uint64_t index, void *p);

/*
 * The slot for index, its nodes made if missing (NULL without memory); *room
 * (if room is not NULL) is how many slots, this one first, lie in a row in its
 * leaf, for filling a run of indices with one walk. Storing NULL there is not
 * a removal: use radix_remove.
 */
void **radix_slot(struct radix *r, uint64_t index, uint64_t *room);

/* Remove and return the pointer at index (NULL if none). Empty nodes are kept. */
void *radix_remove(struct radix *r, uint64_t index);

/*
 * Call fn(index, p, arg) for each stored pointer with index >= first, in index
 * order, removing it first (so fn may free it). Nodes that become unused beyond
 * `first` are freed; radix_remove_from(r, 0, ...) empties the tree entirely.
 */
void radix_remove_from(struct radix *r, uint64_t first, void (*fn)(uint64_t index, void *p, void *arg),
                       void *arg);

#endif
