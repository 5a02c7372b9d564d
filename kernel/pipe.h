/*
 * kernel/pipe.h - pipes: a ring of PIPE_SIZE bytes between a read end and a
 * write end, each its own object (KS_OBJ_PIPE), so that the ends can be
 * handed out, duplicated and closed apart.
 *
 * A read takes what is there (at least a byte), or waits; it returns 0 at
 * end of file, once every handle to the write end is closed. A write of at
 * most PIPE_BUF bytes goes in whole, never mixed with another's; a longer
 * one goes in as room appears. Once every handle to the read end is closed,
 * writes fail with KS_ERR_PEER_CLOSED (EPIPE). Waits are interruptible; with
 * KS_PIPE_NONBLOCK a call that would wait fails with KS_ERR_AGAIN instead.
 */
#ifndef KERNEL_PIPE_H
#define KERNEL_PIPE_H

#include <stdint.h>
#include "object.h"

#define PIPE_SIZE   (64u << 10)     /* the ring: 16 pages, as Linux's default */
#define PIPE_BUF    4096u           /* writes up to this size are atomic */

struct account;
struct pipe;

struct pipe_end {
    struct object obj;
    struct pipe *pipe;              /* shared by the two ends; freed with the second */
    int writer;                     /* 1: the write end */
};

/* A new pipe charged to a: its two ends in *rd and *wr (one reference each); 0 or KS_ERR_NO_MEMORY. */
long pipe_create(struct account *a, struct pipe_end **rd, struct pipe_end **wr);

/*
 * Read up to len bytes into user memory at ubuf (the read end): bytes read,
 * 0 at end of file, KS_ERR_AGAIN (nonblock and nothing there),
 * KS_ERR_INTERRUPTED, or KS_ERR_FAULT (nothing could be copied; what was
 * there stays).
 */
long pipe_read(struct pipe_end *e, uintptr_t ubuf, uint64_t len, int nonblock);

/*
 * Write len bytes from user memory at ubuf (the write end): len, or fewer if
 * interrupted, nonblocking or the readers went meanwhile; KS_ERR_PEER_CLOSED
 * if there are no readers, KS_ERR_AGAIN, KS_ERR_INTERRUPTED or KS_ERR_FAULT
 * when nothing was written.
 */
long pipe_write(struct pipe_end *e, uintptr_t ubuf, uint64_t len, int nonblock);

/* What end e is ready for now: KS_WATCH_READABLE (read end: bytes, or end of file),
   KS_WATCH_WRITABLE (write end: room for PIPE_BUF bytes, or no readers), KS_WATCH_HANGUP
   (the other end is gone). */
uint32_t pipe_ready(const struct pipe_end *e);

/*
 * poll's half: if e is ready now for any of `events` (or hung up), or l is
 * NULL, its readiness; else arm l's one-shot watch on e (kernel/watch.h) and
 * 0; or KS_ERR_NO_MEMORY (the record, charged to a).
 */
struct listener;
long pipe_watch(struct pipe_end *e, struct account *a, struct listener *l, uint64_t userdata,
                uint32_t events);

/* Bytes waiting in the pipe of either end (FIONREAD). */
uint32_t pipe_available(const struct pipe_end *e);

static inline struct pipe_end *pipe_end_from_object(struct object *o)
{
    return OBJECT_CAST(o, KS_OBJ_PIPE, struct pipe_end, obj);
}

#endif
