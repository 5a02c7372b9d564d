/*
 * musl_emu/poll.c - ppoll and pselect6 (musl's poll, select, pause and
 * friends), on readiness notifications.
 *
 * Each thread that polls has a listener of its own, which nobody calls. A
 * scan asks every descriptor whether it is ready, and a descriptor that is
 * not arranges to post a notification to that listener when it becomes so:
 *   - a pipe end: KS_SYS_WATCH answers "ready now" or arms a one-shot
 *     watch in the kernel;
 *   - the console: FS_OP_POLL asks fsd, giving it a client port to the
 *     listener (KS_CLIENT_NOTIFY), which fsd notifies when input comes;
 *   - files, directories and the devices are always ready.
 * If nothing was ready, the thread waits on its listener
 * (KS_SYS_LISTENER_WAIT) until a notification, the timeout or a signal, and
 * scans again. A notification left from an earlier poll only costs a scan.
 */
#include "musl_emu/internal.h"

static __thread ks_handle_t poll_listener;

/* This thread's listener (made at its first poll or wait that may wait), or 0. */
ks_handle_t emu_thread_listener(void)
{
    if (!poll_listener) {
        long l = ks_ipc_listener_create();
        poll_listener = l > 0 ? (ks_handle_t)l : 0;
    }
    return poll_listener;
}

void poll_thread_exit(void)
{
    if (poll_listener)
        ks_handle_close(poll_listener);
    poll_listener = 0;
}

void poll_fork_child(void)
{
    if (poll_listener)
        ks_handle_close(poll_listener);     /* the copy names the parent's listener */
    poll_listener = 0;                      /* ours is made anew */
}

/* KS_WATCH_* from poll events, and back (HANGUP: POLLHUP on a read end, POLLERR on a write end). */
static uint32_t to_watch(short ev)
{
    return (ev & (POLLIN | POLLRDNORM) ? KS_WATCH_READABLE : 0) |
           (ev & (POLLOUT | POLLWRNORM) ? KS_WATCH_WRITABLE : 0);
}

static short from_watch(uint32_t w, short asked, int write_end)
{
    short r = 0;
    if (w & KS_WATCH_READABLE)
        r |= asked & (POLLIN | POLLRDNORM);
    if (w & KS_WATCH_WRITABLE)
        r |= asked & (POLLOUT | POLLWRNORM);
    if (w & KS_WATCH_HANGUP)
        r |= write_end ? POLLERR : POLLHUP;
    return r;
}

/* The console through fsd: ready now, or (with l) fsd notifies l when input comes. */
static uint32_t console_ready(const struct fd *f, uint32_t want, ks_handle_t l, long key)
{
    uint64_t w[KS_IPC_WORDS] = { FS_OP_POLL, want };
    struct ks_ipc_desc d;
    memset(&d, 0, sizeof d);
    long port = l ? ks_ipc_client_create_notify(l, (uint64_t)key) : 0;
    if (port > 0) {
        d.send_handles[0] = (ks_handle_t)port;
        d.send_handle_flags[0] = KS_IPC_HANDLE_MOVE;
        d.send_nhandles = 1;
    }
    long r = ks_ipc_call(f->h, &d, w, NULL);
    if (r < 0 || (int64_t)w[0] < 0)
        return KS_WATCH_READABLE | KS_WATCH_WRITABLE;   /* fsd gone or busy: let the read say so */
    return (uint32_t)w[0];
}

/* What fd is ready for of `events` now (POLLNVAL if it is not open); with l, arm a report to l. */
static short fd_revents(int fd, short events, ks_handle_t l)
{
    struct fd f;
    if (!fd_get(fd, &f))
        return POLLNVAL;
    uint32_t want = to_watch(events);
    switch (f.kind) {
    case FD_PIPE: {
        long r = ks_watch(f.h, want ? want : KS_WATCH_HANGUP, l, (uint64_t)fd);
        return r > 0 ? from_watch((uint32_t)r, events, (f.flags & O_ACCMODE) == O_WRONLY) : 0;
    }
    case FD_CONSOLE: {
        uint32_t ready = KS_WATCH_WRITABLE;
        if (want & KS_WATCH_READABLE)
            ready = console_ready(&f, want, l, fd);
        return from_watch(ready, events, 0);
    }
    default:                                            /* files, directories, devices */
        return events & (POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM);
    }
}

/* One pass over fds: the number with something to report. With l, the others report to it. */
static int scan(struct pollfd *fds, nfds_t n, ks_handle_t l)
{
    int count = 0;
    for (nfds_t i = 0; i < n; i++) {
        fds[i].revents = fds[i].fd < 0 ? 0 : fd_revents(fds[i].fd, fds[i].events, l);
        count += fds[i].revents != 0;
    }
    return count;
}

/*
 * Scan, and wait on this thread's listener until something is ready, the
 * timeout (ns, KS_FOREVER: none) passes or a signal comes (-EINTR).
 */
static long poll_wait(struct pollfd *fds, nfds_t n, uint64_t ns)
{
    uint64_t start = (uint64_t)ks_clock_ns();
    ks_handle_t l = ns ? emu_thread_listener() : 0;
    if (ns && !l)
        return -ENOMEM;
    for (;;) {
        int count = scan(fds, n, l);
        if (count || !ns)
            return count;
        uint64_t left = KS_FOREVER;
        if (ns != KS_FOREVER) {
            uint64_t spent = (uint64_t)ks_clock_ns() - start;
            if (spent >= ns)
                return 0;
            left = ns - spent;
        }
        uint64_t note[2];
        long r = ks_listener_wait(l, left, note);
        if (r == KS_ERR_TIMED_OUT)
            return scan(fds, n, 0);
        if (r == KS_ERR_INTERRUPTED)
            return -EINTR;                          /* poll is never restarted (as Linux) */
        if (r < 0)
            return linux_err(r);
    }
}

/* poll_wait with ppoll's and pselect6's signal mask (NULL: the thread's own) in force meanwhile. */
static long poll_masked(struct pollfd *fds, nfds_t n, uint64_t ns, const uint64_t *mask)
{
    uint64_t out[2];
    if (!mask)
        return poll_wait(fds, n, ns);
    long r = ks_upcall_mask(KS_MASK_SET, *mask & ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1))), out);
    if (r < 0)
        return linux_err(r);
    r = poll_wait(fds, n, ns);
    ks_upcall_mask(KS_MASK_SET, out[0], NULL);
    return r;
}

long sys_ppoll(struct pollfd *fds, unsigned long n, const struct timespec *ts, const uint64_t *mask,
               size_t mask_size)
{
    uint64_t ns = KS_FOREVER;
    if (ts && ts_to_ns(ts, &ns))
        return -EINVAL;
    if (n > MAX_FDS * 16)
        return -EINVAL;
    if (mask && mask_size != 8)
        return -EINVAL;
    return poll_masked(fds, n, ns, mask);
}

/* pselect6: the sets become a pollfd array (at most MAX_FDS descriptors), and back. */
long sys_pselect6(long nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *ts,
                  const void *sigdata)
{
    struct pollfd p[MAX_FDS];
    uint64_t ns = KS_FOREVER;
    const uint64_t *mask = NULL;
    if (nfds < 0 || nfds > FD_SETSIZE)
        return -EINVAL;
    if (ts && ts_to_ns(ts, &ns))
        return -EINVAL;
    if (sigdata) {                      /* { const sigset_t *ss; size_t ss_len; } */
        const uintptr_t *sd = sigdata;
        mask = (const uint64_t *)sd[0];
        if (mask && sd[1] != 8)
            return -EINVAL;
    }
    nfds_t n = 0;
    for (int fd = 0; fd < nfds; fd++) {
        short ev = (rd && FD_ISSET(fd, rd) ? POLLIN : 0) | (wr && FD_ISSET(fd, wr) ? POLLOUT : 0) |
                   (ex && FD_ISSET(fd, ex) ? POLLPRI : 0);
        if (!ev)
            continue;
        struct fd f;
        if (fd >= MAX_FDS || !fd_get(fd, &f))
            return -EBADF;
        if (ev == POLLPRI)
            continue;                   /* nothing here has exceptional conditions: never ready
                                           (and a hang-up, which poll reports, is not one) */
        p[n++] = (struct pollfd){ fd, ev, 0 };
    }
    long r = poll_masked(p, n, ns, mask);
    if (r < 0)
        return r;
    for (nfds_t i = 0; i < n; i++)
        if (p[i].revents & POLLNVAL)
            return -EBADF;
    if (rd)
        FD_ZERO(rd);
    if (wr)
        FD_ZERO(wr);
    if (ex)
        FD_ZERO(ex);
    long count = 0;
    for (nfds_t i = 0; i < n; i++) {
        short re = p[i].revents;
        if (rd && (re & (POLLIN | POLLHUP | POLLERR)) && (p[i].events & POLLIN)) {
            FD_SET(p[i].fd, rd);
            count++;
        }
        if (wr && (re & (POLLOUT | POLLERR)) && (p[i].events & POLLOUT)) {
            FD_SET(p[i].fd, wr);
            count++;
        }
    }
    return count;
}
