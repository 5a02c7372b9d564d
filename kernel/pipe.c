/*
 * kernel/pipe.c - pipes (see pipe.h).
 *
 * The ring is one block of PIPE_SIZE bytes charged to the pipe's creator.
 * `closed_by_readers` / `closed_by_writers` are set when the last handle to
 * that end goes (its on_last_handle hook), which wakes the other side. The
 * pipe itself is freed with the second end object.
 */
#include <kestrel/errors.h>
#include <kestrel/syscall.h>
#include "account.h"
#include "page_alloc.h"
#include "pipe.h"
#include "uaccess.h"
#include "wait.h"
#include "watch.h"

struct pipe {
    uint8_t *ring;
    uint32_t head;                  /* where the next read starts */
    uint32_t count;                 /* bytes in the ring */
    int ends;                       /* end objects alive (2, then 1) */
    int closed_by_readers, closed_by_writers;
    struct wait_queue readers, writers;     /* waiting for bytes, for room */
    struct watch_list watch_rd, watch_wr;   /* listeners watching the read end, the write end */
    struct account *acct;
};

uint32_t pipe_ready(const struct pipe_end *e)
{
    const struct pipe *p = e->pipe;
    if (!e->writer)
        return (p->count ? KS_WATCH_READABLE : 0) |
               (p->closed_by_writers ? KS_WATCH_READABLE | KS_WATCH_HANGUP : 0);
    return (PIPE_SIZE - p->count >= PIPE_BUF ? KS_WATCH_WRITABLE : 0) |
           (p->closed_by_readers ? KS_WATCH_WRITABLE | KS_WATCH_HANGUP : 0);
}

/* What the read end's and the write end's watchers may now see (nothing to do without watchers:
   the common case, kept to a load and a branch on the read and write paths). */
static inline void fire_read_end(struct pipe *p)
{
    if (!watch_list_empty(&p->watch_rd))
        watch_fire(&p->watch_rd, (p->count ? KS_WATCH_READABLE : 0) |
                                 (p->closed_by_writers ? KS_WATCH_READABLE | KS_WATCH_HANGUP : 0));
}

static inline void fire_write_end(struct pipe *p)
{
    if (!watch_list_empty(&p->watch_wr))
        watch_fire(&p->watch_wr, (PIPE_SIZE - p->count >= PIPE_BUF ? KS_WATCH_WRITABLE : 0) |
                                 (p->closed_by_readers ? KS_WATCH_WRITABLE | KS_WATCH_HANGUP : 0));
}

long pipe_watch(struct pipe_end *e, struct account *a, struct listener *l, uint64_t userdata,
                uint32_t events)
{
    uint32_t ready = pipe_ready(e);
    if ((ready & (events | KS_WATCH_HANGUP)) || !l)
        return ready;
    long r = watch_arm(e->writer ? &e->pipe->watch_wr : &e->pipe->watch_rd, a, l, userdata,
                       events | KS_WATCH_HANGUP);
    return r ? r : 0;
}

_Static_assert((PIPE_SIZE & (PIPE_SIZE - 1)) == 0 && PIPE_SIZE / PAGE_SIZE == 16, "order 4");
#define RING_ORDER 4

static void end_destroy(struct object *o)
{
    struct pipe_end *e = pipe_end_from_object(o);
    struct pipe *p = e->pipe;
    if (p && --p->ends == 0) {              /* NULL: pipe_create failed before joining them */
        watch_list_release(&p->watch_rd);
        watch_list_release(&p->watch_wr);
        page_free(p->ring, RING_ORDER);
        account_kfree(p->acct, p);
    }
    account_kfree(account_of(o), e);
}

static void end_last_handle(struct object *o)
{
    struct pipe_end *e = pipe_end_from_object(o);
    struct pipe *p = e->pipe;
    if (e->writer) {
        p->closed_by_writers = 1;
        wake_all(&p->readers, 0);           /* end of file */
        fire_read_end(p);
    } else {
        p->closed_by_readers = 1;
        wake_all(&p->writers, 0);           /* nobody will read: EPIPE */
        fire_write_end(p);
    }
}

static const struct object_ops end_ops = { .destroy = end_destroy, .on_last_handle = end_last_handle };

long pipe_create(struct account *a, struct pipe_end **rd, struct pipe_end **wr)
{
    struct pipe *p = account_kzalloc(a, sizeof *p);
    if (!p)
        return KS_ERR_NO_MEMORY;
    p->ring = account_page_alloc(a, RING_ORDER, 0);
    struct pipe_end *r = ACCOUNT_OBJECT_NEW(a, struct pipe_end, obj, KS_OBJ_PIPE, &end_ops);
    struct pipe_end *w = ACCOUNT_OBJECT_NEW(a, struct pipe_end, obj, KS_OBJ_PIPE, &end_ops);
    p->acct = a;
    wait_queue_init(&p->readers);
    wait_queue_init(&p->writers);
    watch_list_init(&p->watch_rd);
    watch_list_init(&p->watch_wr);
    if (!p->ring || !r || !w) {
        if (r)
            object_put(&r->obj);            /* ends 0: destroy frees only the end */
        if (w)
            object_put(&w->obj);
        if (p->ring)
            page_free(p->ring, RING_ORDER);
        account_kfree(a, p);
        return KS_ERR_NO_MEMORY;
    }
    p->ends = 2;
    r->pipe = w->pipe = p;
    w->writer = 1;
    *rd = r;
    *wr = w;
    return 0;
}

/*
 * Copy n bytes between the ring at `at` (wrapping) and user memory; 0 or
 * KS_ERR_FAULT. It never waits for a pager (another thread could take the same
 * bytes meanwhile): a caller that finds uaccess_missed() waits for the page
 * with nothing taken and starts again.
 */
static long ring_copy(struct pipe *p, uint32_t at, uintptr_t u, uint32_t n, int to_user)
{
    while (n) {
        uint32_t off = at & (PIPE_SIZE - 1), m = PIPE_SIZE - off < n ? PIPE_SIZE - off : n;
        long r = to_user ? copy_to_user_nowait(u, p->ring + off, m) : copy_from_user_nowait(p->ring + off, u, m);
        if (r)
            return r;
        at += m;
        u += m;
        n -= m;
    }
    return 0;
}

long pipe_read(struct pipe_end *e, uintptr_t ubuf, uint64_t len, int nonblock)
{
    struct pipe *p = e->pipe;
    if (e->writer)
        return KS_ERR_ACCESS;
    if (!user_range_ok(ubuf, len))
        return KS_ERR_FAULT;
    if (!len)
        return 0;
again:
    while (!p->count) {
        if (p->closed_by_writers)
            return 0;
        if (nonblock)
            return KS_ERR_AGAIN;
        long r = wait_on(&p->readers, 1);
        if (r == KS_ERR_INTERRUPTED)
            return r;
    }
    uint32_t n = len < p->count ? (uint32_t)len : p->count;
    long r = ring_copy(p, p->head, ubuf, n, 1);
    if (r && uaccess_missed() && (r = uaccess_pager_wait()) == 0)
        goto again;                         /* the buffer's page is there now */
    if (r)
        return r;                           /* the bytes stay for the next read */
    p->head = (p->head + n) & (PIPE_SIZE - 1);
    p->count -= n;
    wake_all(&p->writers, 0);
    fire_write_end(p);
    return n;
}

long pipe_write(struct pipe_end *e, uintptr_t ubuf, uint64_t len, int nonblock)
{
    struct pipe *p = e->pipe;
    if (!e->writer)
        return KS_ERR_ACCESS;
    if (!user_range_ok(ubuf, len))
        return KS_ERR_FAULT;
    uint64_t done = 0;
    while (done < len) {
        long r = 0;
        if (p->closed_by_readers)
            return done ? (long)done : KS_ERR_PEER_CLOSED;
        uint32_t room = PIPE_SIZE - p->count;
        uint64_t want = len - done;
        /* A write of at most PIPE_BUF waits for room for all of it (atomic); a longer one takes what there is. */
        if (room && (len > PIPE_BUF || room >= want)) {
            uint32_t n = want < room ? (uint32_t)want : room;
            r = ring_copy(p, p->head + p->count, ubuf + done, n, 0);
            if (r && uaccess_missed() && (r = uaccess_pager_wait()) == 0)
                continue;                   /* nothing was added: again, from the top */
            if (r)
                return done ? (long)done : r;
            p->count += n;
            done += n;
            wake_all(&p->readers, 0);
            fire_read_end(p);
            continue;
        }
        if (nonblock)
            return done ? (long)done : KS_ERR_AGAIN;
        r = wait_on(&p->writers, 1);
        if (r == KS_ERR_INTERRUPTED)
            return done ? (long)done : r;
    }
    return (long)done;
}

uint32_t pipe_available(const struct pipe_end *e)
{
    return e->pipe->count;
}
