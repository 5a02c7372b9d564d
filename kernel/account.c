/*
 * kernel/account.c - resource accounts (see account.h).
 *
 * Accounts live in a table indexed by id, so that a charged page can name its
 * account in 32 bits of its struct page. An account is freed when it has no
 * references (its process is dead, no child accounts) and nothing is charged.
 */
#include <kestrel/errors.h>
#include "account.h"
#include "debug.h"
#include "heap.h"
#include "page_alloc.h"
#include "panic.h"
#include "string.h"

struct account *account_table[ACCOUNT_MAX];     /* slot 0 unused: id 0 means "no account" */
static uint32_t next_slot = 1;
static uint32_t live;

struct account *account_create(struct account *parent)
{
    uint32_t id = 0;
    for (uint32_t i = 0; i < ACCOUNT_MAX - 1 && !id; i++) {
        uint32_t s = 1 + (next_slot - 1 + i) % (ACCOUNT_MAX - 1);
        if (!account_table[s])
            id = s;
    }
    if (!id)
        return NULL;
    struct account *a = kzalloc(sizeof *a);
    if (!a)
        return NULL;
    a->parent = parent;
    a->id = id;
    a->refs = 1;
    for (int k = 0; k < ACCOUNT_KINDS; k++)
        a->limit[k] = ACCOUNT_UNLIMITED;
    if (parent)
        parent->refs++;
    account_table[id] = a;
    next_slot = id % (ACCOUNT_MAX - 1) + 1;
    live++;
    return a;
}

static int unused(const struct account *a)
{
    for (int k = 0; k < ACCOUNT_KINDS; k++)
        if (a->used[k])
            return 0;
    return a->refs == 0;
}

/* Free a and then every ancestor that this leaves unused (a loop, not recursion). */
static void free_unused(struct account *a)
{
    while (a && unused(a)) {
        struct account *parent = a->parent;
        account_table[a->id] = NULL;
        live--;
        kfree(a);
        if (parent) {
            BUG_ON(parent->refs == 0);
            parent->refs--;
        }
        a = parent;
    }
}

int account_is_below(const struct account *a, const struct account *above)
{
    for (const struct account *x = a ? a->parent : NULL; x; x = x->parent)
        if (x == above)
            return 1;
    return 0;
}

void account_put(struct account *a)
{
    if (!a)
        return;
    BUG_ON(a->refs == 0);
    a->refs--;
    free_unused(a);
}

int account_charge(struct account *a, enum account_kind kind, uint64_t n)
{
    ASSERT(n <= ACCOUNT_CHARGE_MAX);
    for (struct account *x = a; x; x = x->parent) {
        if (x->used[kind] + n > x->limit[kind]) {      /* cannot wrap: see ACCOUNT_CHARGE_MAX */
            for (struct account *y = a; y != x; y = y->parent)
                y->used[kind] -= n;
            return kind == ACCOUNT_MEMORY ? KS_ERR_NO_MEMORY : KS_ERR_LIMIT;
        }
        x->used[kind] += n;
    }
    return 0;
}

void account_uncharge(struct account *a, enum account_kind kind, uint64_t n)
{
    struct account *first = a;
    for (; a; a = a->parent) {
        if (a->used[kind] < n)
            panic("account_uncharge: account %u gives back %lu of kind %d, has %lu", a->id,
                  (unsigned long)n, kind, (unsigned long)a->used[kind]);
        a->used[kind] -= n;
    }
    if (first && first->refs == 0)  /* only an account without references can go */
        free_unused(first);
}

void *account_kmalloc_charged(struct account *a, size_t size, size_t charge)
{
    if (!charge || account_charge(a, ACCOUNT_MEMORY, charge) != 0)
        return NULL;
    void *p = kmalloc(size);
    if (!p)
        account_uncharge(a, ACCOUNT_MEMORY, charge);
    return p;
}

void *account_kzalloc(struct account *a, size_t size)
{
    void *p = account_kmalloc_charged(a, size, kmalloc_size(size));
    if (p)
        memset(p, 0, size);
    return p;
}

void account_kfree(struct account *a, void *p)
{
    if (!p)
        return;
    account_uncharge(a, ACCOUNT_MEMORY, kfree(p));
}

void *account_page_alloc(struct account *a, unsigned order, int zero)
{
    uint64_t bytes = (uint64_t)PAGE_SIZE << order;
    if (account_charge(a, ACCOUNT_MEMORY, bytes) != 0)
        return NULL;
    void *p = page_alloc_owned(order, a ? a->id : 0);
    if (!p) {
        account_uncharge(a, ACCOUNT_MEMORY, bytes);
        return NULL;
    }
    if (zero)
        memset(p, 0, (size_t)bytes);
    return p;
}

void account_page_freed(uint32_t id, unsigned order)
{
    struct account *a = id < ACCOUNT_MAX ? account_table[id] : NULL;
    if (!a)
        panic("account_page_freed: a page charged to account %u, which does not exist", id);
    account_uncharge(a, ACCOUNT_MEMORY, (uint64_t)PAGE_SIZE << order);
}

uint32_t account_count(void)
{
    return live;
}
