/*
 * kernel/list.h - intrusive circular doubly linked lists.
 *
 * A struct list is a sentinel node; elements embed a struct list_node and are
 * found again with LIST_ENTRY (container_of). An unlinked node points to itself,
 * so list_linked() tells whether a node is on some list.
 */
#ifndef KERNEL_LIST_H
#define KERNEL_LIST_H

#include <stddef.h>

struct list_node {
    struct list_node *next, *prev;
};

struct list {
    struct list_node head;
};

#define LIST_ENTRY(node, T, member) ((T *)((char *)(node) - offsetof(T, member)))

/* A list defined empty: `static struct list l = LIST_INIT(l);` */
#define LIST_INIT(l) { { &(l).head, &(l).head } }

static inline void list_init(struct list *l) { l->head.next = l->head.prev = &l->head; }
static inline void list_node_init(struct list_node *n) { n->next = n->prev = n; }
static inline int list_empty(const struct list *l) { return l->head.next == &l->head; }
static inline int list_linked(const struct list_node *n) { return n->next != n; }

static inline void list_insert_before(struct list_node *pos, struct list_node *n)
{
    n->prev = pos->prev;
    n->next = pos;
    pos->prev->next = n;
    pos->prev = n;
}

static inline void list_push_back(struct list *l, struct list_node *n) { list_insert_before(&l->head, n); }
static inline void list_push_front(struct list *l, struct list_node *n) { list_insert_before(l->head.next, n); }

static inline void list_remove(struct list_node *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    list_node_init(n);
}

/* The first node, or NULL if the list is empty. */
static inline struct list_node *list_first(const struct list *l)
{
    return list_empty(l) ? NULL : l->head.next;
}

static inline struct list_node *list_pop_front(struct list *l)
{
    struct list_node *n = list_first(l);
    if (n)
        list_remove(n);
    return n;
}

/* Iterate; `n` may be removed inside the loop (the next node is fetched first). */
#define LIST_FOR_EACH(n, tmp, l) \
    for (struct list_node *n = (l)->head.next, *tmp = n->next; n != &(l)->head; n = tmp, tmp = n->next)

#endif
