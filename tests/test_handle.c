/*
 * tests/test_handle.c - host tests for handle tables (kernel/handle.c) and
 * object reference counting (kernel/object.c).
 *
 * A toy object type logs its hooks (on_last_handle, on_one_handle, destroy) with the counts
 * it saw. Each case gets a fresh page allocator and heap over an aligned host
 * buffer (handle tables come from kzalloc), runs under catch_panic, and must
 * leave object_count() and heap_live_objects() where it found them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <kestrel/errors.h>
#include <kestrel/handle.h>
#include "kernel/handle.h"
#include "kernel/heap.h"
#include "kernel/ktest.h"
#include "kernel/object.h"
#include "kernel/page_alloc.h"
#include "kernel/platform.h"
#include "tests/host.h"

#define TOY     KS_OBJ_MEMOBJ
#define OTHER   KS_OBJ_PROCESS
#define NTOYS   16

/* ---- the toy object ---- */

struct toy {
    int id;
    struct object obj;
};

enum { EV_LAST = 1, EV_DESTROY = 2, EV_ONE_HANDLE = 3 };

struct event {
    int kind, id;
    uint64_t refs, handles;     /* as the hook saw them */
};

static struct event events[64];
static unsigned nevents;
static unsigned n_last[NTOYS], n_destroy[NTOYS], n_one_handle[NTOYS];

static void log_event(int kind, struct object *o)
{
    struct toy *t = OBJECT_CAST(o, TOY, struct toy, obj);
    if (nevents < sizeof events / sizeof events[0])
        events[nevents++] = (struct event){ kind, t->id, o->refs, o->handles };
    if (kind == EV_LAST)
        n_last[t->id]++;
    else if (kind == EV_ONE_HANDLE)
        n_one_handle[t->id]++;
    else
        n_destroy[t->id]++;
}

static void toy_last_handle(struct object *o)
{
    log_event(EV_LAST, o);
}

static void toy_destroy(struct object *o)
{
    log_event(EV_DESTROY, o);
    free(OBJECT_CAST(o, TOY, struct toy, obj));
}

static void toy_one_handle(struct object *o)
{
    log_event(EV_ONE_HANDLE, o);
}

static const struct object_ops toy_ops = { toy_destroy, toy_last_handle, NULL };
static const struct object_ops toy_ops_no_hook = { toy_destroy, NULL, NULL };
static const struct object_ops toy_ops_one_handle = { toy_destroy, toy_last_handle, toy_one_handle };

static struct toy *toy_new(int id, const struct object_ops *ops)
{
    struct toy *t = malloc(sizeof *t);
    if (!t)
        abort();
    t->id = id;
    object_init(&t->obj, TOY, ops);
    return t;
}

/* An object of another type (never destroyed here: it lives in static storage). */
static void other_destroy(struct object *o) { (void)o; }
static const struct object_ops other_ops = { other_destroy, NULL, NULL };

/* ---- running a case ---- */

static uint64_t objects_at_start;
static size_t heap_at_start;

struct body {
    void (*fn)(void);
};

static void call_body(void *arg)
{
    ((struct body *)arg)->fn();
}

static void run_case(void (*fn)(void))
{
    memset(events, 0, sizeof events);
    nevents = 0;
    memset(n_last, 0, sizeof n_last);
    memset(n_destroy, 0, sizeof n_destroy);
    memset(n_one_handle, 0, sizeof n_one_handle);
    if (!host_ram_fresh(256)) {
        ktest_fail(__FILE__, __LINE__, "no memory for the RAM buffer");
        return;
    }
    objects_at_start = object_count();
    heap_at_start = heap_live_objects();
    struct body b = { fn };
    if (catch_panic(call_body, &b))
        ktest_fail(__FILE__, __LINE__, "unexpected panic: %s", last_panic_message());
    else if (!ktest_failed()) {
        KT_EXPECT_EQ(object_count(), objects_at_start);
        KT_EXPECT_EQ(heap_live_objects(), heap_at_start);
    }
    host_ram_release();
}

#define CASE(name) \
    static void name##_body(void); \
    static void name(void) { run_case(name##_body); } \
    static void name##_body(void)

/* Look h up expecting success and drop the reference again; the rights it has, or ~0 on failure. */
static uint32_t rights_of(struct handle_table *t, ks_handle_t h)
{
    struct object *o;
    uint32_t r;
    if (handle_lookup(t, h, 0, 0, &o, &r) != 0)
        return ~0u;
    object_put(o);
    return r;
}

/* ---- cases ---- */

CASE(install_lookup_close)
{
    struct handle_table *t = handle_table_create(NULL);
    KT_ASSERT(t != NULL);
    KT_EXPECT_EQ(handle_count(t), 0);
    struct toy *a = toy_new(0, &toy_ops);
    ks_handle_t h = handle_install(t, &a->obj, KS_RIGHT_READ | KS_RIGHT_MAP);
    KT_EXPECT(h >= 256);
    KT_EXPECT_EQ(handle_count(t), 1);
    KT_EXPECT_EQ(a->obj.refs, 2);
    KT_EXPECT_EQ(a->obj.handles, 1);

    struct object *o = NULL;
    uint32_t rights = 0;
    KT_EXPECT_EQ(handle_lookup(t, h, TOY, KS_RIGHT_READ, &o, &rights), 0);
    KT_EXPECT(o == &a->obj);
    KT_EXPECT_EQ(rights, KS_RIGHT_READ | KS_RIGHT_MAP);
    KT_EXPECT_EQ(a->obj.refs, 3);
    object_put(o);
    /* Without rights_out, and with type 0 (any type). */
    o = NULL;
    KT_EXPECT_EQ(handle_lookup(t, h, TOY, 0, &o, NULL), 0);
    KT_EXPECT(o == &a->obj);
    object_put(o);
    o = NULL;
    KT_EXPECT_EQ(handle_lookup(t, h, 0, KS_RIGHT_MAP, &o, NULL), 0);
    KT_EXPECT(o == &a->obj);
    object_put(o);
    KT_EXPECT_EQ(a->obj.refs, 2);

    /* A second handle to the same object is a different value. */
    ks_handle_t h2 = handle_install(t, &a->obj, KS_RIGHT_READ);
    KT_EXPECT(h2 >= 256 && h2 != h);
    KT_EXPECT_EQ(handle_count(t), 2);
    KT_EXPECT_EQ(rights_of(t, h2), KS_RIGHT_READ);
    KT_EXPECT_EQ(handle_close(t, h2), 0);

    KT_EXPECT_EQ(handle_close(t, h), 0);
    KT_EXPECT_EQ(handle_count(t), 0);
    KT_EXPECT_EQ(a->obj.refs, 1);
    KT_EXPECT_EQ(a->obj.handles, 0);
    KT_EXPECT_EQ(n_last[0], 1);
    KT_EXPECT_EQ(n_destroy[0], 0);
    KT_EXPECT_EQ(handle_lookup(t, h, TOY, 0, &o, NULL), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(handle_close(t, h), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(handle_count(t), 0);
    object_put(&a->obj);
    KT_EXPECT_EQ(n_destroy[0], 1);
    handle_table_destroy(t);
}

/* Every (held, asked) pair of rights: granted exactly when asked is a subset of held. */
CASE(rights_subset)
{
    static const uint32_t held[] = { 0, KS_RIGHT_READ, KS_RIGHT_READ | KS_RIGHT_MAP,
                                     KS_RIGHT_WAIT | KS_RIGHT_TRANSFER, KS_RIGHTS_ALL & ~KS_RIGHT_WRITE,
                                     KS_RIGHTS_ALL };
    struct handle_table *t = handle_table_create(NULL);
    KT_ASSERT(t != NULL);
    struct toy *a = toy_new(0, &toy_ops);
    unsigned wrong = 0;
    for (unsigned i = 0; i < sizeof held / sizeof held[0]; i++) {
        ks_handle_t h = handle_install(t, &a->obj, held[i]);
        KT_ASSERT(h >= 256);
        uint32_t refs = a->obj.refs;
        for (uint32_t ask = 0; ask <= KS_RIGHTS_ALL; ask++) {
            struct object *o = NULL;
            uint32_t got = 0xdead;
            int err = handle_lookup(t, h, TOY, ask, &o, &got);
            if ((ask & ~held[i]) == 0) {
                wrong += err != 0 || o != &a->obj || got != held[i] || a->obj.refs != refs + 1;
                if (err == 0)
                    object_put(o);
            } else {
                wrong += err != KS_ERR_ACCESS || a->obj.refs != refs;
            }
        }
        KT_EXPECT_EQ(handle_close(t, h), 0);
    }
    KT_EXPECT_EQ(wrong, 0);
    object_put(&a->obj);
    handle_table_destroy(t);
}

/* Bad handle beats wrong type beats missing right. */
CASE(check_order)
{
    static struct object other;
    object_init(&other, OTHER, &other_ops);
    struct handle_table *t = handle_table_create(NULL);
    KT_ASSERT(t != NULL);
    struct toy *a = toy_new(0, &toy_ops);
    ks_handle_t ha = handle_install(t, &a->obj, KS_RIGHT_READ);
    ks_handle_t hx = handle_install(t, &other, KS_RIGHT_WRITE);
    ks_handle_t gone = handle_install(t, &a->obj, KS_RIGHT_READ);
    KT_EXPECT_EQ(handle_close(t, gone), 0);
    struct object *o;
    KT_EXPECT_EQ(handle_lookup(t, gone, OTHER, KS_RIGHT_WRITE, &o, NULL), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(handle_lookup(t, 12345, OTHER, KS_RIGHT_WRITE, &o, NULL), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(handle_lookup(t, ha, OTHER, KS_RIGHT_WRITE, &o, NULL), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(handle_lookup(t, ha, OTHER, KS_RIGHT_READ, &o, NULL), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(handle_lookup(t, ha, OTHER, 0, &o, NULL), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(handle_lookup(t, ha, TOY, KS_RIGHT_WRITE, &o, NULL), KS_ERR_ACCESS);
    KT_EXPECT_EQ(handle_lookup(t, ha, 0, KS_RIGHT_WRITE, &o, NULL), KS_ERR_ACCESS);
    KT_EXPECT_EQ(handle_lookup(t, hx, TOY, KS_RIGHT_READ, &o, NULL), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(handle_lookup(t, hx, OTHER, KS_RIGHT_READ, &o, NULL), KS_ERR_ACCESS);
    KT_EXPECT_EQ(handle_lookup(t, hx, OTHER, KS_RIGHT_WRITE, &o, NULL), 0);
    object_put(o);
    /* Failed lookups took no references. */
    KT_EXPECT_EQ(a->obj.refs, 2);
    KT_EXPECT_EQ(other.refs, 2);
    handle_table_destroy(t);
    KT_EXPECT_EQ(other.refs, 1);
    object_put(&other);
    object_put(&a->obj);
}

/* Values that never name a handle: below 256, negative, wrong generation, free slot. */
CASE(bad_values)
{
    struct handle_table *t = handle_table_create(NULL);
    KT_ASSERT(t != NULL);
    struct toy *a = toy_new(0, &toy_ops);
    ks_handle_t h = handle_install(t, &a->obj, KS_RIGHTS_ALL);
    KT_ASSERT(h >= 256);
    uint32_t slot = (uint32_t)h & 0xff;
    const ks_handle_t bad[] = {
        KS_HANDLE_NONE, KS_PROCESS_SELF, KS_THREAD_SELF, 3, 255, (ks_handle_t)slot,
        -1, -255, -256, -257, INT32_MIN, INT32_MAX,
        (ks_handle_t)((uint32_t)h | 0x80000000u),       /* negative, same low bits */
        h + 256, h - 256, h + 512, h | (1 << 30), h | (1 << 20),
        h + 1, h + 2, (ks_handle_t)((uint32_t)h ^ 0xff),   /* same generation, free slots */
    };
    unsigned wrong = 0;
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct object *o = NULL;
        int l = handle_lookup(t, bad[i], 0, 0, &o, NULL), c = handle_close(t, bad[i]);
        if (l != KS_ERR_BAD_HANDLE || c != KS_ERR_BAD_HANDLE) {
            wrong++;
            ktest_fail(__FILE__, __LINE__, "value 0x%x (handle 0x%x): lookup %d, close %d",
                       (unsigned)bad[i], (unsigned)h, l, c);
            if (l == 0)
                object_put(o);
        }
    }
    KT_EXPECT_EQ(wrong, 0);
    /* The real handle was not disturbed. */
    KT_EXPECT_EQ(handle_count(t), 1);
    KT_EXPECT_EQ(a->obj.refs, 2);
    KT_EXPECT_EQ(rights_of(t, h), KS_RIGHTS_ALL);
    KT_EXPECT_EQ(n_last[0], 0);
    handle_table_destroy(t);
    object_put(&a->obj);
}

/* A closed handle stays invalid after its slot is reused, and closing it touches nothing. */
CASE(stale_after_reuse)
{
    enum { ROUNDS = 1000 };
    static ks_handle_t old[ROUNDS];
    struct handle_table *t = handle_table_create(NULL);
    KT_ASSERT(t != NULL);
    struct toy *a = toy_new(0, &toy_ops), *b = toy_new(1, &toy_ops);
    ks_handle_t h1 = handle_install(t, &a->obj, KS_RIGHT_READ);
    KT_EXPECT_EQ(handle_close(t, h1), 0);
    ks_handle_t h2 = handle_install(t, &b->obj, KS_RIGHT_WRITE);
    KT_EXPECT_EQ((uint32_t)h2 & 0xff, (uint32_t)h1 & 0xff);      /* the same slot... */
    KT_EXPECT(h2 != h1);                                        /* ...a new value */
    struct object *o;
    KT_EXPECT_EQ(handle_lookup(t, h1, 0, 0, &o, NULL), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(handle_close(t, h1), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(handle_count(t), 1);
    KT_EXPECT_EQ(n_last[1], 0);
    KT_EXPECT_EQ(b->obj.handles, 1);
    KT_EXPECT_EQ(handle_lookup(t, h2, TOY, KS_RIGHT_WRITE, &o, NULL), 0);
    KT_EXPECT(o == &b->obj);
    object_put(o);

    /* Many rounds on one slot: every value new, every older one dead. */
    unsigned repeats = 0, alive = 0;
    ks_handle_t cur = h2;
    for (unsigned i = 0; i < ROUNDS; i++) {
        old[i] = cur;
        KT_ASSERT(handle_close(t, cur) == 0);
        cur = handle_install(t, &b->obj, KS_RIGHT_WRITE);
        KT_ASSERT(cur >= 256);
        for (unsigned j = 0; j <= i; j++) {
            repeats += cur == old[j];
            alive += handle_close(t, old[j]) != KS_ERR_BAD_HANDLE;
        }
    }
    KT_EXPECT_EQ(repeats, 0);
    KT_EXPECT_EQ(alive, 0);
    KT_EXPECT(cur != h1);
    KT_EXPECT_EQ(handle_count(t), 1);
    KT_EXPECT_EQ(handle_close(t, cur), 0);
    KT_EXPECT_EQ(n_last[1], ROUNDS + 1);
    handle_table_destroy(t);
    object_put(&a->obj);
    object_put(&b->obj);
}

CASE(table_full)
{
    static ks_handle_t hs[KS_HANDLE_MAX];
    struct handle_table *t = handle_table_create(NULL);
    KT_ASSERT(t != NULL);
    struct toy *a = toy_new(0, &toy_ops), *b = toy_new(1, &toy_ops);
    unsigned low = 0, dup = 0;
    for (unsigned i = 0; i < KS_HANDLE_MAX; i++) {
        hs[i] = handle_install(t, &a->obj, i & KS_RIGHTS_ALL);
        low += hs[i] < 256;
        for (unsigned j = 0; j < i; j++)
            dup += hs[i] == hs[j];
    }
    KT_EXPECT_EQ(low, 0);
    KT_EXPECT_EQ(dup, 0);
    KT_EXPECT_EQ(handle_count(t), KS_HANDLE_MAX);
    KT_EXPECT_EQ(a->obj.handles, KS_HANDLE_MAX);
    KT_EXPECT_EQ(a->obj.refs, KS_HANDLE_MAX + 1);

    /* Full: nothing installed, no reference taken. */
    KT_EXPECT_EQ(handle_install(t, &b->obj, KS_RIGHTS_ALL), KS_ERR_NO_HANDLES);
    KT_EXPECT_EQ(handle_install(t, &a->obj, KS_RIGHTS_ALL), KS_ERR_NO_HANDLES);
    KT_EXPECT_EQ(b->obj.refs, 1);
    KT_EXPECT_EQ(b->obj.handles, 0);
    KT_EXPECT_EQ(a->obj.refs, KS_HANDLE_MAX + 1);
    KT_EXPECT_EQ(handle_count(t), KS_HANDLE_MAX);

    /* A freed slot is reused; the value that named it is dead. */
    KT_EXPECT_EQ(handle_close(t, hs[100]), 0);
    ks_handle_t hb = handle_install(t, &b->obj, KS_RIGHT_READ);
    KT_EXPECT(hb >= 256);
    KT_EXPECT(hb != hs[100]);
    KT_EXPECT_EQ((uint32_t)hb & 0xff, (uint32_t)hs[100] & 0xff);
    KT_EXPECT_EQ(rights_of(t, hs[100]), ~0u);
    KT_EXPECT_EQ(handle_install(t, &b->obj, KS_RIGHT_READ), KS_ERR_NO_HANDLES);
    struct object *o = NULL;
    KT_EXPECT_EQ(handle_lookup(t, hb, TOY, KS_RIGHT_READ, &o, NULL), 0);
    KT_EXPECT(o == &b->obj);
    if (o)
        object_put(o);
    unsigned wrong = 0;
    for (unsigned i = 0; i < KS_HANDLE_MAX; i++)
        wrong += i != 100 && rights_of(t, hs[i]) != (i & KS_RIGHTS_ALL);
    KT_EXPECT_EQ(wrong, 0);
    KT_EXPECT_EQ(n_last[0], 0);

    handle_table_destroy(t);
    KT_EXPECT_EQ(n_last[0], 1);
    KT_EXPECT_EQ(n_last[1], 1);
    KT_EXPECT_EQ(a->obj.refs, 1);
    KT_EXPECT_EQ(b->obj.refs, 1);
    object_put(&a->obj);
    object_put(&b->obj);
}

/* on_last_handle runs when the handle count reaches zero, across tables, and only then. */
CASE(last_handle_hook)
{
    struct handle_table *t1 = handle_table_create(NULL), *t2 = handle_table_create(NULL);
    KT_ASSERT(t1 && t2);
    struct toy *a = toy_new(0, &toy_ops);
    ks_handle_t x = handle_install(t1, &a->obj, KS_RIGHT_READ);
    ks_handle_t y = handle_install(t1, &a->obj, KS_RIGHT_READ);
    ks_handle_t z = handle_install(t2, &a->obj, KS_RIGHT_READ);
    KT_EXPECT_EQ(a->obj.handles, 3);
    KT_EXPECT_EQ(handle_close(t1, x), 0);
    KT_EXPECT_EQ(n_last[0], 0);
    KT_EXPECT_EQ(handle_close(t2, z), 0);
    KT_EXPECT_EQ(n_last[0], 0);
    /* A lookup reference is not a handle. */
    struct object *o;
    KT_ASSERT(handle_lookup(t1, y, TOY, 0, &o, NULL) == 0);
    KT_EXPECT_EQ(handle_close(t1, y), 0);
    KT_EXPECT_EQ(n_last[0], 1);
    KT_ASSERT(nevents == 1);
    KT_EXPECT_EQ(events[0].kind, EV_LAST);
    KT_EXPECT_EQ(events[0].handles, 0);
    KT_EXPECT_EQ(events[0].refs, 3);       /* creator, lookup, and the closing handle's */
    KT_EXPECT_EQ(a->obj.refs, 2);
    object_put(o);
    KT_EXPECT_EQ(n_destroy[0], 0);

    /* New handles after that: the hook runs again when they are gone. */
    x = handle_install(t2, &a->obj, 0);
    KT_EXPECT_EQ(handle_close(t2, x), 0);
    KT_EXPECT_EQ(n_last[0], 2);

    /* The hook is optional. */
    struct toy *b = toy_new(1, &toy_ops_no_hook);
    x = handle_install(t1, &b->obj, 0);
    KT_EXPECT_EQ(handle_close(t1, x), 0);
    KT_EXPECT_EQ(n_last[1], 0);
    KT_EXPECT_EQ(b->obj.refs, 1);

    handle_table_destroy(t1);
    handle_table_destroy(t2);
    KT_EXPECT_EQ(n_last[0], 2);
    object_put(&a->obj);
    object_put(&b->obj);
    KT_EXPECT_EQ(n_destroy[0], 1);
    KT_EXPECT_EQ(n_destroy[1], 1);
}

/* destroy runs when the last reference goes, whoever holds it, after on_last_handle. */
CASE(destroy_on_last_ref)
{
    struct handle_table *t = handle_table_create(NULL);
    KT_ASSERT(t != NULL);
    struct toy *a = toy_new(0, &toy_ops);
    ks_handle_t h = handle_install(t, &a->obj, KS_RIGHT_READ);
    struct object *o1, *o2;
    KT_ASSERT(handle_lookup(t, h, TOY, 0, &o1, NULL) == 0);
    KT_ASSERT(handle_lookup(t, h, TOY, 0, &o2, NULL) == 0);
    object_put(&a->obj);                    /* the creator's reference */
    KT_EXPECT_EQ(n_destroy[0], 0);
    KT_EXPECT_EQ(handle_close(t, h), 0);
    KT_EXPECT_EQ(n_last[0], 1);
    KT_EXPECT_EQ(n_destroy[0], 0);
    object_put(o1);
    KT_EXPECT_EQ(n_destroy[0], 0);
    object_put(o2);
    KT_EXPECT_EQ(n_destroy[0], 1);
    KT_ASSERT(nevents == 2);
    KT_EXPECT_EQ(events[1].kind, EV_DESTROY);
    KT_EXPECT_EQ(events[1].refs, 0);
    KT_EXPECT_EQ(events[1].handles, 0);

    /* The handle holding the only reference: closing it runs both hooks, in order. */
    struct toy *b = toy_new(1, &toy_ops);
    h = handle_install(t, &b->obj, 0);
    object_put(&b->obj);
    KT_EXPECT_EQ(n_destroy[1], 0);
    KT_EXPECT_EQ(handle_close(t, h), 0);
    KT_ASSERT(nevents == 4);
    KT_EXPECT(events[2].kind == EV_LAST && events[2].id == 1 && events[2].refs == 1);
    KT_EXPECT(events[3].kind == EV_DESTROY && events[3].id == 1 && events[3].refs == 0);
    handle_table_destroy(t);
}

/* Destroying a table closes every handle: hooks once per object, references dropped. */
CASE(table_destroy_closes_all)
{
    struct handle_table *t = handle_table_create(NULL);
    KT_ASSERT(t != NULL);
    struct toy *a = toy_new(0, &toy_ops), *b = toy_new(1, &toy_ops), *c = toy_new(2, &toy_ops);
    for (int i = 0; i < 3; i++)
        handle_install(t, &a->obj, KS_RIGHT_READ);
    ks_handle_t hb = handle_install(t, &b->obj, KS_RIGHT_READ);
    handle_install(t, &c->obj, KS_RIGHT_READ);
    ks_handle_t closed = handle_install(t, &c->obj, KS_RIGHT_READ);
    KT_EXPECT_EQ(handle_close(t, closed), 0);
    struct object *ob;
    KT_ASSERT(handle_lookup(t, hb, TOY, 0, &ob, NULL) == 0);
    object_put(&a->obj);
    object_put(&b->obj);
    KT_EXPECT_EQ(object_count(), objects_at_start + 3);
    KT_EXPECT_EQ(n_last[0] + n_last[1] + n_last[2], 0);

    handle_table_destroy(t);
    KT_EXPECT_EQ(n_last[0], 1);
    KT_EXPECT_EQ(n_last[1], 1);
    KT_EXPECT_EQ(n_last[2], 1);
    KT_EXPECT_EQ(n_destroy[0], 1);         /* held only by its handles */
    KT_EXPECT_EQ(n_destroy[1], 0);         /* the lookup reference remains */
    KT_EXPECT_EQ(n_destroy[2], 0);         /* the creator's reference remains */
    KT_EXPECT_EQ(object_count(), objects_at_start + 2);
    KT_EXPECT_EQ(heap_live_objects(), heap_at_start);
    object_put(ob);
    object_put(&c->obj);
    KT_EXPECT_EQ(n_destroy[1], 1);
    KT_EXPECT_EQ(n_destroy[2], 1);

    /* An empty table. */
    t = handle_table_create(NULL);
    KT_ASSERT(t != NULL);
    handle_table_destroy(t);
    KT_EXPECT_EQ(nevents, 6);
}

CASE(object_count_tracks)
{
    struct toy *t[3];
    for (int i = 0; i < 3; i++) {
        t[i] = toy_new(i, &toy_ops);
        KT_EXPECT_EQ(object_count(), objects_at_start + (uint64_t)i + 1);
    }
    object_get(&t[1]->obj);
    object_put(&t[1]->obj);
    KT_EXPECT_EQ(object_count(), objects_at_start + 3);
    for (int i = 0; i < 3; i++) {
        object_put(&t[i]->obj);
        KT_EXPECT_EQ(object_count(), objects_at_start + 2 - (uint64_t)i);
        KT_EXPECT_EQ(n_destroy[i], 1);
    }
}

static struct object underflow_obj;

static void put_underflow(void *arg)
{
    (void)arg;
    object_put(&underflow_obj);
}

/* A put too many is a kernel bug: it panics instead of destroying twice. */
CASE(put_underflow_panics)
{
    object_init(&underflow_obj, OTHER, &other_ops);
    object_put(&underflow_obj);
    KT_EXPECT_EQ(object_count(), objects_at_start);
    KT_EXPECT_EQ(catch_panic(put_underflow, NULL), 1);
    KT_EXPECT_EQ(object_count(), objects_at_start);
    KT_EXPECT_EQ(underflow_obj.refs, 0);
}

static struct object *cast_obj;

static void cast_wrong(void *arg)
{
    *(struct toy **)arg = OBJECT_CAST(cast_obj, OTHER, struct toy, obj);
}

CASE(object_cast_checks_type)
{
    struct toy *a = toy_new(0, &toy_ops);
    KT_EXPECT(OBJECT_CAST(&a->obj, TOY, struct toy, obj) == a);
    cast_obj = &a->obj;
    struct toy *got = NULL;
    KT_EXPECT_EQ(catch_panic(cast_wrong, &got), 1);
    KT_EXPECT(got == NULL);
    KT_EXPECT(strstr(last_panic_message(), "object_check") != NULL);
    object_put(&a->obj);
}

/* Generations wrap before a handle value could turn negative. */
CASE(generation_wraps_positive)
{
    struct handle_table *t = handle_table_create(NULL);
    KT_ASSERT(t != NULL);
    struct toy *a = toy_new(0, &toy_ops_no_hook);
    ks_handle_t first = handle_install(t, &a->obj, 0), prev = first, h = first;
    unsigned bad = 0, same = 0;
    uint32_t rounds = 0;
    KT_EXPECT_EQ(handle_close(t, first), 0);
    /* Until the first value comes round again (or far past where it should have). */
    for (rounds = 1; rounds < (1u << 25); rounds++) {
        h = handle_install(t, &a->obj, 0);
        bad += h < 256 || ((uint32_t)h & 0xff) != ((uint32_t)first & 0xff);
        same += h == prev;
        prev = h;
        handle_close(t, h);
        if (h == first)
            break;
    }
    KT_EXPECT_EQ(bad, 0);
    KT_EXPECT_EQ(same, 0);
    KT_EXPECT(h == first);
    /* A value is used again only after millions of closes of its slot. */
    KT_EXPECT(rounds >= (1u << 20));
    handle_table_destroy(t);
    object_put(&a->obj);
}

/* Without memory there is no table. */
CASE(create_no_memory)
{
    enum { MAXP = 512 };
    static void *pages[MAXP];
    unsigned n = 0;
    while (n < MAXP && (pages[n] = kmalloc(PAGE_SIZE)) != NULL)
        n++;
    KT_ASSERT(n < MAXP);
    KT_EXPECT(handle_table_create(NULL) == NULL);
    for (unsigned i = 0; i < n; i++)
        kfree(pages[i]);
    struct handle_table *t = handle_table_create(NULL);
    KT_EXPECT(t != NULL);
    if (t)
        handle_table_destroy(t);
}

/*
 * A count past 2^32 does not wrap: with 32-bit counts, 2^32 leaked references
 * (one per failed system call, before the take_desc fix) brought a live
 * object's count back to zero, and the next lookup and put freed it.
 */
CASE(refs_past_32_bits)
{
    struct handle_table *t = handle_table_create(NULL);
    KT_ASSERT(t != NULL);
    struct toy *a = toy_new(0, &toy_ops);
    ks_handle_t h = handle_install(t, &a->obj, KS_RIGHT_READ);
    a->obj.refs = UINT32_MAX;                   /* as if 2^32 - 3 references leaked */
    struct object *o;
    KT_ASSERT(handle_lookup(t, h, TOY, 0, &o, NULL) == 0);
    KT_EXPECT(a->obj.refs == (uint64_t)UINT32_MAX + 1);
    object_put(o);
    KT_EXPECT_EQ(n_destroy[0], 0);              /* still alive: nothing wrapped to zero */
    KT_EXPECT(a->obj.refs == UINT32_MAX);
    a->obj.refs = 2;                            /* back to the truth: the creator and the handle */
    KT_EXPECT_EQ(handle_close(t, h), 0);
    object_put(&a->obj);
    KT_EXPECT_EQ(n_destroy[0], 1);
    handle_table_destroy(t);
}

/*
 * on_one_handle runs each time a close leaves one handle (not two, not none,
 * where on_last_handle runs); references alone never run it.
 */
CASE(one_handle_hook)
{
    struct handle_table *t = handle_table_create(NULL);
    KT_ASSERT(t != NULL);
    struct toy *a = toy_new(0, &toy_ops_one_handle);
    ks_handle_t h1 = handle_install(t, &a->obj, KS_RIGHT_READ);
    ks_handle_t h2 = handle_install(t, &a->obj, KS_RIGHT_READ);
    ks_handle_t h3 = handle_install(t, &a->obj, KS_RIGHT_READ);
    object_put(&a->obj);                    /* the creator's reference: the handles hold it */
    object_get(&a->obj);
    object_put(&a->obj);
    KT_EXPECT_EQ(handle_close(t, h1), 0);
    KT_EXPECT_EQ(n_one_handle[0], 0);       /* two left */
    KT_EXPECT_EQ(handle_close(t, h2), 0);
    KT_EXPECT_EQ(n_one_handle[0], 1);
    KT_ASSERT(nevents == 1);
    KT_EXPECT_EQ(events[0].handles, 1);
    KT_EXPECT_EQ(handle_close(t, h3), 0);
    KT_EXPECT_EQ(n_one_handle[0], 1);
    KT_EXPECT_EQ(n_last[0], 1);
    KT_EXPECT_EQ(n_destroy[0], 1);
    handle_table_destroy(t);
}

/*
 * Emptying a slot whose `cached` bit is set (an IPC handle cache of the
 * owner's may name it) calls handle_cache_forget once with the owner and the
 * slot, and clears the bit; a slot without the bit, or a table with no owner
 * (one being destroyed), calls nothing.
 */
CASE(cached_slot_forgotten)
{
    struct handle_table *t = handle_table_create(NULL);
    KT_ASSERT(t != NULL);
    struct process *owner = (struct process *)t;    /* any pointer: only passed along */
    t->owner = owner;
    struct toy *a = toy_new(0, &toy_ops);
    ks_handle_t h1 = handle_install(t, &a->obj, KS_RIGHT_READ);
    ks_handle_t h2 = handle_install(t, &a->obj, KS_RIGHT_READ);
    ks_handle_t h3 = handle_install(t, &a->obj, KS_RIGHT_READ);
    ks_handle_t h4 = handle_install(t, &a->obj, KS_RIGHT_READ);
    object_put(&a->obj);
    uint32_t s1 = h1 & 255, s3 = h3 & 255, s4 = h4 & 255;
    t->cached[s1 / 64] |= 1ull << (s1 % 64);
    t->cached[s3 / 64] |= 1ull << (s3 % 64);
    t->cached[s4 / 64] |= 1ull << (s4 % 64);
    host_forgets = (struct host_forgets){ 0 };
    KT_EXPECT_EQ(handle_close(t, h2), 0);          /* no bit: nothing to forget */
    KT_EXPECT_EQ(host_forgets.calls, 0);
    KT_EXPECT_EQ(handle_close(t, h1), 0);
    KT_EXPECT_EQ(host_forgets.calls, 1);
    KT_EXPECT(host_forgets.owner == owner);
    KT_EXPECT_EQ(host_forgets.slot, s1);
    KT_EXPECT_EQ(t->cached[s1 / 64] & (1ull << (s1 % 64)), 0);
    struct object *o;
    uint32_t rights;
    KT_EXPECT_EQ(handle_take(t, h3, &o, &rights), 0);   /* moved out: forgotten too */
    KT_EXPECT_EQ(host_forgets.calls, 2);
    KT_EXPECT_EQ(host_forgets.slot, s3);
    handle_release_taken(o);
    KT_EXPECT_EQ(n_destroy[0], 0);
    handle_table_destroy(t);                        /* the owner is gone with it: no call */
    KT_EXPECT_EQ(host_forgets.calls, 2);
    KT_EXPECT_EQ(n_destroy[0], 1);
}

static const struct ktest_case handle_cases[] = {
    { "refs_past_32_bits", refs_past_32_bits },
    { "install_lookup_close", install_lookup_close },
    { "rights_subset", rights_subset },
    { "check_order", check_order },
    { "bad_values", bad_values },
    { "stale_after_reuse", stale_after_reuse },
    { "table_full", table_full },
    { "last_handle_hook", last_handle_hook },
    { "destroy_on_last_ref", destroy_on_last_ref },
    { "one_handle_hook", one_handle_hook },
    { "table_destroy_closes_all", table_destroy_closes_all },
    { "object_count_tracks", object_count_tracks },
    { "put_underflow_panics", put_underflow_panics },
    { "object_cast_checks_type", object_cast_checks_type },
    { "generation_wraps_positive", generation_wraps_positive },
    { "create_no_memory", create_no_memory },
    { "cached_slot_forgotten", cached_slot_forgotten },
};

KTEST_SUITE(handle_suite, "handle", handle_cases);

int main(void)
{
    alarm(60);      /* a hang fails the run instead of stalling it */
    const struct ktest_suite *suites[] = { &handle_suite };
    return ktest_run(suites, 1) ? 1 : 0;
}
