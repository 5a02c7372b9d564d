/*
 * kernel/account.h - resource accounts: what each process may take from the kernel.
 *
 * Every process has an account, made with it as a child of its creator's
 * account (init's has no parent). An account counts three things: the bytes
 * of memory charged to it (pages and heap objects), the threads alive in its
 * process, and the processes made under it. Each has a limit (unlimited until
 * someone holding the process with MANAGE sets one). A charge counts at the
 * account and at every ancestor, and fails if any of them would pass its
 * limit, so a process cannot escape its limit by making children: whatever
 * they take is its too.
 *
 * What is charged where:
 *   - a memobj's pages, and its radix nodes, to the account of the process that
 *     made the memobj (whoever's write or fault brings the page in);
 *   - page tables, mapping records and private (copy-on-write) copies to the
 *     account of the address space's process;
 *   - kernel objects and handle tables to the process whose call made them;
 *   - a thread's object, kernel stack and FP state to its process.
 * A charged page records its account in its struct page (page_alloc.h), so the
 * charge goes when the page is freed, whoever drops the last reference.
 *
 * Lifetime: an account stays while its process lives, while a child account
 * exists, or while anything is charged to it (a memobj given away outlives its
 * maker's process). A NULL account is the kernel's own: charging it does
 * nothing and never fails.
 *
 * Failures: memory over a limit is KS_ERR_NO_MEMORY, as real exhaustion is;
 * threads or processes over theirs, KS_ERR_LIMIT.
 */
#ifndef KERNEL_ACCOUNT_H
#define KERNEL_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>
#include "heap.h"
#include "object.h"

enum account_kind {
    ACCOUNT_MEMORY,         /* bytes */
    ACCOUNT_THREADS,        /* live threads of the process */
    ACCOUNT_PROCESSES,      /* processes made under it, not yet dead */
    ACCOUNT_KINDS
};

#define ACCOUNT_UNLIMITED UINT64_MAX
#define ACCOUNT_MAX 4096    /* ids: 0 is "none", so ACCOUNT_MAX - 1 accounts at once */

struct account {
    struct account *parent;
    uint32_t id;            /* 1..ACCOUNT_MAX-1; what a charged struct page records */
    uint32_t refs;          /* its process (until it is dead) and its child accounts */
    uint64_t used[ACCOUNT_KINDS];
    uint64_t limit[ACCOUNT_KINDS];
};

/* A new account under parent (NULL: a root), unlimited; NULL if every id is in use or no memory. */
struct account *account_create(struct account *parent);

/* 1 if a is strictly below `above` (a descendant), else 0. */
int account_is_below(const struct account *a, const struct account *above);

/* Drop a reference from account_create; the account goes when nothing is charged to it either. */
void account_put(struct account *a);

/*
 * Charge n of kind to a and its ancestors: 0, or the error above with nothing
 * charged. n is at most ACCOUNT_CHARGE_MAX (the largest block is 4 MiB), and
 * what is charged is real (bytes of RAM, threads, processes), so a count plus
 * a charge stays far below 2^64 and the limit check is one compare per level
 * (a limit lowered below what is used refuses every charge).
 */
#define ACCOUNT_CHARGE_MAX (1ull << 40)
int account_charge(struct account *a, enum account_kind kind, uint64_t n);

/* Give back a charge. */
void account_uncharge(struct account *a, enum account_kind kind, uint64_t n);

/* Zero-filled heap memory charged to a (its size class), or NULL. Free with account_kfree. */
void *account_kzalloc(struct account *a, size_t size);
void account_kfree(struct account *a, void *p);

/*
 * A block of 2^order pages charged to a, zero-filled if `zero`, or NULL.
 * page_free (so also page_unref) gives the charge back.
 */
void *account_page_alloc(struct account *a, unsigned order, int zero);

/* page_free's half: the block of 2^order pages charged to account `id` is gone. */
void account_page_freed(uint32_t id, unsigned order);

/* Accounts in existence (for leak checks). */
uint32_t account_count(void);

/* The account with this id (0: none, NULL). */
extern struct account *account_table[ACCOUNT_MAX];
static inline struct account *account_by_id(uint32_t id) { return account_table[id]; }

/*
 * A zeroed kernel object of `size` bytes charged to a, its header (at
 * `offset`) initialised by object_init and naming a; NULL without memory or
 * over a's limit. Its destroy hook frees it with account_kfree(account_of(o), ...).
 * ACCOUNT_OBJECT_NEW(a, T, member, type, ops) is the typed form.
 */
static inline void *account_object_new(struct account *a, size_t size, size_t offset, uint32_t type,
                                       const struct object_ops *ops);
#define ACCOUNT_OBJECT_NEW(a, T, member, type, ops) \
    ((T *)account_object_new((a), sizeof(T), __builtin_offsetof(T, member), (type), (ops)))

/* The account an object is charged to, and charging it (its memory came from account_kzalloc). */
static inline struct account *account_of(const struct object *o) { return account_by_id(o->acct_id); }
static inline void account_set(struct object *o, struct account *a) { o->acct_id = a ? a->id : 0; }

/* account_kzalloc's allocation and charge, `charge` being kmalloc_size(size); not zeroed. */
void *account_kmalloc_charged(struct account *a, size_t size, size_t charge);

/* (Inline so that, for a sizeof, the charge is a constant and the zeroing a few stores.) */
static inline void *account_object_new(struct account *a, size_t size, size_t offset, uint32_t type,
                                       const struct object_ops *ops)
{
    char *p = account_kmalloc_charged(a, size, kmalloc_size_fixed(size));
    if (p) {
        p = __builtin_assume_aligned(p, HEAP_MIN_SLAB);     /* (so the zeroing can store words) */
        __builtin_memset(p, 0, size);
        struct object *o = (struct object *)(p + offset);
        object_init(o, type, ops);
        account_set(o, a);
    }
    return p;
}

#endif
