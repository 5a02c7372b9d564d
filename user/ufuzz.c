/*
 * user/ufuzz.c - a seeded system-call fuzzer of the native ABI, run by init
 * when the bootargs say "fuzz" (make test runs a bounded campaign, make fuzz a
 * longer one or a replay).
 *
 *   ufuzz [seeds=A..B] [calls=N] [verbose] [bench] [pressure] [mode=calls|fsd|chaos]
 *                                            the supervisor (a KTAP stream); with
 *                                            bench, also the worst interrupt wait
 *                                            of the run as a make bench figure;
 *                                            with pressure, every child first takes
 *                                            all free memory but PRESSURE_HEADROOM
 *                                            pages, so its calls meet exhaustion;
 *                                            its inherited handle 0 is a root port
 *                                            of fsd (mode=fsd's target)
 *   ufuzz child SEED CALLS verbose|- pressure|- MODE
 *                                            one fuzzing process
 *   ufuzz peer SEED                          a chaos child's peer (see the chaos mode)
 *
 * Modes: calls (the default, below) fuzzes every system call; fsd is a
 * hostile client of the file server; chaos is IPC between processes while
 * buffers are unmapped, callers interrupted and servers killed. Each has its
 * section further down.
 *
 * The supervisor runs one child per seed, one after another, each under a
 * time limit. After each it checks that the kernel's free pages (within the
 * heap's slack), heap objects and objects are back where they were: whatever
 * the child did, its exit must give everything back. A failure prints the
 * seed and the child's last calls (kept in a page the two share), and
 * `make fuzz SEED=S CALLS=N` replays that seed with every call printed.
 *
 * A child makes CALLS calls, each a system call number (every one, the IPC
 * ones and numbers that are none) with arguments from pools: live handles of
 * every type it made, closed and stale ones, pseudo-handles and values that
 * are no handle; pointers to its buffer, unaligned, null, unmapped, in the
 * kernel, at the top of user space, read-only; lengths 0, 1, a page, 64 KiB
 * and one more, huge and negative. Calls that may block (IPC, futexes,
 * sleeps, waits, joins) are mostly made with an interrupt already pending,
 * so they return at once; the rest are interrupted by a watchdog.
 *
 * What it leaves out, so that a run measures the kernel and not the fuzzer
 * killing itself: exiting or killing itself (by handle, by pid or by group;
 * nor a handle to itself, which
 * could kill it later), threads started in its own
 * process (they would run garbage), mappings, unmappings and protection
 * changes at its own code, data and stack (they go to a playground range
 * instead), writes of its buffer to the console, and moving a process handle
 * into a process (two thread-less processes holding each other are never
 * freed: a known limitation, README).
 */
#include "user/lib/fsproto.h"
#include "user/lib/ipc.h"
#include "user/lib/ulib.h"
#include "user/lib/ktap.h"

#define DEFAULT_SEEDS_FROM  1
#define DEFAULT_SEEDS_TO    4
#define DEFAULT_CALLS       25000
#define DEFAULT_CHAOS_CALLS 2000            /* calls there wait for other processes: fewer */
#define CHILD_MS            60000           /* a child still running then is a failure */
#define PAGE_SLACK          8               /* pages the heap may keep as empty slabs */
#define RING                16              /* calls the shared page remembers */
#define PLAYGROUND          0x0000500000000000ul
#define BUF_AT              0x0000600000000000ul    /* the buffer, with nothing mapped after it */
#define BUF_SIZE            (128 << 10)
#define PRESSURE_HEADROOM   16              /* free pages a pressure child leaves */
#define PRESSURE_CHUNK      (4ul << 20)     /* the memobjs it fills, a page at a time */

/* What a child fuzzes (mode=NAME): every system call, or requests to fsd. */
enum fuzz_mode { MODE_CALLS, MODE_FSD, MODE_CHAOS };
static const char *const mode_names[] = { "calls", "fsd", "chaos" };

/* The page the supervisor and a child share: progress and the last calls. */
struct call_rec {
    uint64_t nr, a[6];
    int64_t ret;
};
struct shared {
    uint64_t calls_done;
    uint64_t no_memory;         /* calls that failed with KS_ERR_NO_MEMORY */
    uint64_t answered;          /* chaos mode: calls a peer answered */
    uint64_t ring_next;
    struct call_rec ring[RING];
};

/* ---- the generator: xorshift64*, so a seed replays exactly ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static uint64_t below(uint64_t n)
{
    return rnd() % n;
}

/* ---- the child's pools ---- */

#define MAX_LIVE 48
#define MAX_DEAD 32

static struct {
    ks_handle_t live[MAX_LIVE];
    unsigned nlive;
    ks_handle_t dead[MAX_DEAD];     /* values it closed: stale from now on */
    unsigned ndead;
    uint8_t *buf;                   /* BUF_SIZE bytes, read and write, at BUF_AT: pointers go
                                       to its first half, so a length of up to 64 KiB + 1 stays
                                       inside, and a longer copy faults at its end instead of
                                       running over the fuzzer's own stacks */
    int verbose;
} pool;

static void keep(long h)
{
    if (h <= 0 || h >= (1l << 31))
        return;
    if (pool.nlive < MAX_LIVE)
        pool.live[pool.nlive++] = (ks_handle_t)h;
    else
        ks_handle_close((ks_handle_t)h);        /* enough of them: do not let the table fill */
}

static void forget(ks_handle_t h)
{
    for (unsigned i = 0; i < pool.nlive; i++) {
        if (pool.live[i] == h) {
            pool.live[i] = pool.live[--pool.nlive];
            pool.dead[pool.ndead++ % MAX_DEAD] = h;
            return;
        }
    }
}

/* Mostly a live handle (the deeper paths need one), else one of the bad kinds. */
static uint64_t a_handle(void)
{
    switch (below(20)) {
    case 0: return KS_PROCESS_SELF;
    case 1: return KS_THREAD_SELF;
    case 2: return pool.ndead ? pool.dead[below(pool.ndead < MAX_DEAD ? pool.ndead : MAX_DEAD)] : 0;
    case 3: {
        static const uint64_t odd[] = { 0, 1, 255, 256, 0x7fffffff, 0x80000000, ~0ull, 1ull << 40 };
        return odd[below(sizeof odd / sizeof odd[0])];
    }
    default:
        return pool.nlive ? pool.live[below(pool.nlive)] : 0;
    }
}

/*
 * An outgoing handle's flags: a copy, a move, or (KS_IPC_HANDLE_VIEW) a new
 * view with some of the rights a view takes, now and then with a right no
 * view has or with MOVE as well.
 */
static uint32_t a_handle_flags(void)
{
    static const uint32_t view_rights[] = { KS_RIGHT_READ | KS_RIGHT_TRANSFER, KS_RIGHT_READ | KS_RIGHT_WRITE,
                                            0, KS_RIGHT_MANAGE, KS_RIGHT_READ | KS_RIGHT_MAP | KS_RIGHT_EXECUTE };
    switch (below(8)) {
    case 0: case 1: return 0;
    case 2: return KS_IPC_HANDLE_AS_VIEW(view_rights[below(sizeof view_rights / sizeof view_rights[0])]) |
                   (below(4) ? 0 : KS_IPC_HANDLE_MOVE);
    default: return KS_IPC_HANDLE_MOVE;
    }
}

/* Mostly a pointer into the buffer, else one of the bad kinds. */
static uint64_t a_pointer(void)
{
    static const char rodata[64] = "read-only";
    switch (below(20)) {
    case 0: return 0;
    case 1: return (uint64_t)pool.buf + 1 + below(7);
    case 2: return 0x1000;
    case 3: return 0x0000400000000000ul;
    case 4: return KS_USER_TOP - 8;
    case 5: return 0xffffffc000000000ul;
    case 6: return 0xffffffff80200000ul;
    case 7: return (uint64_t)rodata;
    case 8: return ~0ull - 7;
    default: return (uint64_t)pool.buf + below(BUF_SIZE / 2 - 2);
    }
}

static uint64_t a_length(void)
{
    static const uint64_t len[] = { 0, 1, 7, 64, 4096, 65536, 65537, 1ull << 40, ~0ull, 1ull << 63 };
    return below(4) ? below(256) : len[below(sizeof len / sizeof len[0])];
}

static uint64_t a_word(void)
{
    switch (below(4)) {
    case 0: return below(16);
    case 1: return rnd();
    case 2: return a_length();
    default: return a_handle();
    }
}

/*
 * An IPC descriptor made of pool values, in the last part of the buffer (so
 * the buffer's first half, where pointers point, stays out of its way):
 * buffers, lengths, up to four handles with random flags, and a count that
 * may be too big.
 */
static uint64_t a_desc(void)
{
    struct ks_ipc_desc *d = (struct ks_ipc_desc *)(pool.buf + BUF_SIZE - sizeof *d - 8 * below(4));
    d->send_buf = (const void *)a_pointer();
    d->send_len = a_length();
    for (int i = 0; i < KS_IPC_MAX_HANDLES; i++) {
        d->send_handles[i] = (ks_handle_t)a_handle();
        d->send_handle_flags[i] = below(4) ? a_handle_flags() : (uint32_t)rnd();
    }
    d->send_nhandles = below(8) ? (uint32_t)below(KS_IPC_MAX_HANDLES + 1) : (uint32_t)rnd();
    d->call_flags = below(8) ? 0 : (uint32_t)rnd();
    d->recv_buf = (void *)a_pointer();
    d->recv_cap = a_length();
    return (uint64_t)d;
}

/* An address for a mapping call on our own process: the playground, or garbage. */
static uint64_t a_map_address(void)
{
    switch (below(6)) {
    case 0: return 0;
    case 1: return PLAYGROUND + below(64) * KS_PAGE_SIZE + (below(4) ? 0 : 1 + below(100));
    case 2: return 0xffffffc000000000ul;
    case 3: return KS_USER_TOP - KS_PAGE_SIZE * below(3);
    default: return PLAYGROUND + below(256) * KS_PAGE_SIZE;
    }
}

/* ---- one call ---- */

static const uint64_t numbers[] = {
    KS_SYS_NULL, KS_SYS_DEBUG_WRITE, KS_SYS_HANDLE_CLOSE, KS_SYS_HANDLE_DUPLICATE,
    KS_SYS_HANDLE_TRANSFER, KS_SYS_HANDLE_INFO, KS_SYS_PROCESS_CREATE, KS_SYS_PROCESS_WAIT,
    KS_SYS_PROCESS_KILL, KS_SYS_THREAD_CREATE, KS_SYS_THREAD_JOIN, KS_SYS_THREAD_YIELD,
    KS_SYS_THREAD_SLEEP, KS_SYS_THREAD_INTERRUPT, KS_SYS_MEMOBJ_CREATE, KS_SYS_MEMOBJ_READ,
    KS_SYS_MEMOBJ_WRITE, KS_SYS_MEMOBJ_TRUNCATE, KS_SYS_MEMOBJ_SIZE, KS_SYS_VM_MAP,
    KS_SYS_VM_UNMAP, KS_SYS_VM_PROTECT, KS_SYS_VIEW_CREATE, KS_SYS_VIEW_READ, KS_SYS_VIEW_WRITE,
    KS_SYS_VIEW_SEEK, KS_SYS_CLOCK_NS, KS_SYS_KSTAT, KS_SYS_IPC_LISTENER_CREATE,
    KS_SYS_IPC_CLIENT_CREATE, KS_SYS_IPC_CONTROL, KS_SYS_FUTEX_WAIT, KS_SYS_FUTEX_WAKE,
    KS_SYS_SELF_IDS, KS_SYS_IPC_RECEIVE, KS_SYS_IRQ_BIND, KS_SYS_IRQ_ACK,
    KS_SYS_IPC_CALL, KS_SYS_IPC_REPLY, KS_SYS_IPC_REPLY_RECEIVE, KS_SYS_PROCESS_LIMIT,
    KS_SYS_PIPE_CREATE, KS_SYS_PIPE_READ, KS_SYS_PIPE_WRITE, KS_SYS_PIPE_INFO, KS_SYS_PROCESS_FORK,
    KS_SYS_PROCESS_EXEC, KS_SYS_UPCALL_SET, KS_SYS_UPCALL_MASK, KS_SYS_UPCALL_RAISE,
    KS_SYS_UPCALL_RETURN, KS_SYS_UPCALL_TAKE, KS_SYS_UPCALL_SUSPEND, KS_SYS_PROCESS_ON_EXIT,
    KS_SYS_WATCH, KS_SYS_LISTENER_WAIT, KS_SYS_IPC_NOTIFY, KS_SYS_RANDOM,
    KS_SYS_PROCESS_TIMES, KS_SYS_PID_ALIVE, KS_SYS_THREAD_ROBUST, KS_SYS_UPCALL_FAULT, KS_SYS_KLOG,
    KS_SYS_PROCESS_STOPPED, KS_SYS_DMA_CREATE, KS_SYS_DMA_ADDR,
    KS_SYS_MEMOBJ_CREATE_PAGED, KS_SYS_PAGER_REQUESTS, KS_SYS_PAGER_SUPPLY, KS_SYS_PAGER_FAIL,
    KS_SYS_PAGER_DIRTY, KS_SYS_PAGER_WRITEBACK, KS_SYS_PAGER_EVICT, KS_SYS_PAGER_SUPPLY_FROM, KS_SYS_PAGER_USERS,
    KS_SYS_PAGER_LOW_SIZE, KS_SYS_PAGER_ACCESSED, KS_SYS_PAGER_REDIRTY,
    KS_SYS_PROCESS_SIGNAL, KS_SYS_PROCESS_GROUP, KS_SYS_DMA_PIN, KS_SYS_DMA_UNPIN, KS_SYS_VIEW_MEMOBJ,
    KS_SYS_MEMOBJ_STAT, KS_SYS_VM_SYNC,
    KS_SYS_COUNT, KS_SYS_IPC_LAST + 1, 0x7fffffff,
};

/* The calls the fuzzer leaves out, and why: each would end the child that makes it. */
static const uint64_t not_fuzzed[] = { KS_SYS_PROCESS_EXIT, KS_SYS_THREAD_EXIT };

static int listed(const uint64_t *list, size_t n, uint64_t nr)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == nr)
            return 1;
    return 0;
}

/* Every system call is fuzzed or left out on purpose: a new call nobody added here fails the suite. */
static int covers_every_call(char *why, size_t len)
{
    for (uint64_t nr = 0; nr < KS_SYS_COUNT; nr++)
        if (!listed(numbers, sizeof numbers / sizeof numbers[0], nr) &&
            !listed(not_fuzzed, sizeof not_fuzzed / sizeof not_fuzzed[0], nr)) {
            ksnprintf(why, len, "system call %lu is neither in numbers[] nor in not_fuzzed[]", (unsigned long)nr);
            return 0;
        }
    return 1;
}

static int may_block(uint64_t nr)
{
    return nr == KS_SYS_IPC_CALL || nr == KS_SYS_IPC_RECEIVE || nr == KS_SYS_IPC_REPLY_RECEIVE ||
           nr == KS_SYS_FUTEX_WAIT || nr == KS_SYS_THREAD_SLEEP || nr == KS_SYS_PROCESS_WAIT ||
           nr == KS_SYS_THREAD_JOIN || nr == KS_SYS_PIPE_READ || nr == KS_SYS_PIPE_WRITE ||
           nr == KS_SYS_UPCALL_TAKE || nr == KS_SYS_UPCALL_SUSPEND || nr == KS_SYS_LISTENER_WAIT;
}

/* Where a fuzzed fork's child starts (on a stack in its copy of the buffer): it exits. */
static __attribute__((noinline, noreturn)) void forked_exit(void)
{
    ks_process_exit(0);
}

static int child_pressure;     /* this child filled memory first (pressure) */

/* Make the arguments of call nr safe for the fuzzer itself (see the top); 0: skip it. */
static int sanitize(uint64_t nr, uint64_t a[6])
{
    switch (nr) {
    case KS_SYS_PROCESS_KILL:
        return a[0] != KS_PROCESS_SELF;
    case KS_SYS_PROCESS_SIGNAL: {      /* kinds and small numbers often; never a kill that reaches us */
        if (below(2)) {
            a[0] = below(4);
            a[1] = below(64);
        }
        struct ks_ids ids = { 0 };
        ks_self_ids(&ids);
        return !(a[3] & KS_SIGNAL_KILL) || a[0] == KS_SIGNAL_BELOW ||
               (a[0] == KS_SIGNAL_PID && a[1] != ids.pid);
    }
    case KS_SYS_HANDLE_DUPLICATE:       /* a real handle to itself could kill it later */
        return a[0] != KS_PROCESS_SELF;
    case KS_SYS_THREAD_CREATE:
        return a[0] != KS_PROCESS_SELF;
    case KS_SYS_PROCESS_FORK:           /* the copy ends at once (garbage there would fault; account() ends it anyway) */
        if (child_pressure)
            return 0;   /* our pages turn copy-on-write: with no memory, our next write would kill us */
        if (below(4)) {
            a[0] = (uint64_t)forked_exit;
            a[1] = (uint64_t)pool.buf + BUF_SIZE / 2;
        }
        return 1;
    case KS_SYS_VM_MAP:
        if (a[0] == KS_PROCESS_SELF)
            a[3] = a_map_address();
        return 1;
    case KS_SYS_VM_UNMAP:
    case KS_SYS_VM_PROTECT:
        if (a[0] == KS_PROCESS_SELF)
            a[1] = a_map_address();
        return 1;
    case KS_SYS_UPCALL_SET:             /* an entry at a garbage pc would kill us at the next raise */
        a[0] = 0;
        return 1;
    case KS_SYS_UPCALL_RETURN:          /* only frames that cannot be read: garbage registers would kill us */
        a[0] = below(2) ? 0 : 0x0000400000000000ul;
        return 1;
    case KS_SYS_DEBUG_WRITE: {          /* only bytes that cannot be read: garbage would upset KTAP */
        static const uint64_t unreadable[] = { 0, 0x1000, 0x0000400000000000ul, 0xffffffc000000000ul,
                                               ~0ull - 7 };
        if (a[1])
            a[0] = unreadable[below(sizeof unreadable / sizeof unreadable[0])];
        return 1;
    }
    case KS_SYS_HANDLE_TRANSFER:
    case KS_SYS_PROCESS_EXEC: {         /* becoming a half-made process would end the fuzzer */
        long info = ks_handle_info((ks_handle_t)a[nr == KS_SYS_PROCESS_EXEC ? 0 : 1]);
        return info < 0 || KS_INFO_TYPE(info) != KS_OBJ_PROCESS;
    }
    default:
        return 1;
    }
}

static int64_t issue(uint64_t nr, const uint64_t a[6])
{
    if (nr >= KS_SYS_IPC_FIRST && nr <= KS_SYS_IPC_LAST) {
        uint64_t w[KS_IPC_WORDS], desc = below(4) ? a_desc() : a[1];
        for (int i = 0; i < KS_IPC_WORDS; i++)
            w[i] = a_word();
        uint64_t ud, info;
        return ks_ipc_raw((long)nr, (long)a[0], (struct ks_ipc_desc *)desc, (long)a[2], w, &ud, &info);
    }
    return ks_syscall((long)nr, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4], (long)a[5]);
}

/* What a successful call made that should go in the pools. */
static void account(uint64_t nr, const uint64_t a[6], int64_t r)
{
    if (r < 0)
        return;
    switch (nr) {
    case KS_SYS_PIPE_CREATE:            /* both ends, if the array was in the buffer */
        if (a[0] >= (uint64_t)pool.buf && a[0] + 8 <= (uint64_t)pool.buf + BUF_SIZE) {
            keep(((ks_handle_t *)a[0])[0]);
            keep(((ks_handle_t *)a[0])[1]);
        }
        break;
    case KS_SYS_HANDLE_DUPLICATE: case KS_SYS_PROCESS_CREATE: case KS_SYS_MEMOBJ_CREATE:
    case KS_SYS_VIEW_CREATE: case KS_SYS_IPC_LISTENER_CREATE: case KS_SYS_IPC_CLIENT_CREATE:
    case KS_SYS_THREAD_CREATE: case KS_SYS_IPC_RECEIVE: case KS_SYS_IPC_REPLY_RECEIVE:
        keep(r);
        break;
    case KS_SYS_HANDLE_CLOSE:
        forget((ks_handle_t)a[0]);
        break;
    case KS_SYS_PROCESS_FORK: {         /* the copy has its turn, then is ended and waited for: */
        uint64_t status;                /* while it lives our pages are copy-on-write, and with no */
        ks_thread_yield();              /* memory left our next store to one would kill us */
        ks_process_kill((ks_handle_t)r);
        ks_process_wait((ks_handle_t)r, &status);
        ks_handle_close((ks_handle_t)r);
        break;
    }
    case KS_SYS_HANDLE_TRANSFER:
        if (a[3] & KS_TRANSFER_MOVE)
            forget((ks_handle_t)a[1]);
        break;
    }
}

/* Remember call nr(a) in the shared ring before it is made (its result: INT64_MIN until then). */
static void record(struct shared *sh, uint64_t nr, const uint64_t a[6])
{
    struct call_rec *c = &sh->ring[sh->ring_next % RING];
    c->nr = nr;
    for (int i = 0; i < 6; i++)
        c->a[i] = a[i];
    c->ret = INT64_MIN;
    sh->ring_next++;
}

/* ---- the fsd mode: a hostile client of the file server ---- */

/*
 * Names the fuzzer may create, so that the supervisor can remove all it made
 * (files, then directories deepest first) and its leak check still holds:
 * creating calls (open with O_CREAT, mkdir, rename) only ever name these,
 * the files one list, the directories the other. Other calls also get the
 * server's own names (read-only use: O_CREAT, O_TRUNC and write access are
 * taken off) and garbage.
 */
static const char *const fz_files[] = { "/tmp/fz0", "/tmp/fz1", "/tmp/fz2", "/tmp/fzd/f", "/tmp/fzd/g",
                                        "/tmp/fzd/e/f" };
static const char *const fz_dirs[] = { "/tmp/fzd/e", "/tmp/fzd", "/tmp/fze" };     /* deepest first */
static const char *const fz_theirs[] = { "/", "/tmp", "/etc/motd", "/bin/init", "/dev", "/nonexistent",
                                         "/tmp/", "//tmp//fz0", "/tmp/../etc/motd", "" };

#define N_OF(a) (sizeof (a) / sizeof (a)[0])
#define L_O_CREAT   0100
#define L_O_EXCL    0200
#define L_O_TRUNC   01000
#define L_O_ACCMODE 03

enum { FZ_OWN, FZ_DIR, FZ_THEIRS, FZ_GARBAGE };

/* A path of kind k into buf (no NUL); its length. Garbage: random bytes, or a name cut short. */
static uint64_t fz_path(int k, char *buf, uint64_t cap)
{
    const char *p = k == FZ_OWN ? fz_files[below(N_OF(fz_files))]
                  : k == FZ_DIR ? fz_dirs[below(N_OF(fz_dirs))]
                  : k == FZ_THEIRS ? fz_theirs[below(N_OF(fz_theirs))] : NULL;
    uint64_t n;
    if (p) {
        n = strlen(p);
        memcpy(buf, p, n);
        return n;
    }
    n = below(2) ? below(64) : below(cap);
    for (uint64_t i = 0; i < n; i++)
        buf[i] = below(4) ? "/tmpfz.\0\xff"[below(9)] : (char)rnd();
    if (below(2) && n)
        buf[0] = '/';
    return n;
}

/* The fsd child's own pools: the server's ports and files it got, and handles that belong nowhere. */
static struct {
    ks_handle_t root;
    ks_handle_t got[16];            /* from FS_OP_OPEN: directory ports, views, memobjs */
    unsigned ngot;
    ks_handle_t foreign[5];         /* a memobj, a view, a listener, a client port, a process */
} fz;

static ks_handle_t fz_port(void)
{
    switch (below(10)) {
    case 0: return fz.ngot ? fz.got[below(fz.ngot)] : fz.root;
    case 1: return fz.ngot ? fz.got[below(fz.ngot)] : fz.root;
    case 2: return (ks_handle_t)a_handle();
    default: return fz.root;
    }
}

/* Keep what a reply brought (or close it: the table must not fill). */
static void fz_keep(const struct ks_ipc_desc *d)
{
    for (uint32_t i = 0; i < d->recv_nhandles && i < KS_IPC_MAX_HANDLES; i++) {
        if (fz.ngot < N_OF(fz.got) && below(2))
            fz.got[fz.ngot++] = d->recv_handles[i];
        else
            ks_handle_close(d->recv_handles[i]);
    }
    if (fz.ngot && !below(16)) {                /* now and then let one go */
        unsigned i = (unsigned)below(fz.ngot);
        ks_handle_close(fz.got[i]);
        fz.got[i] = fz.got[--fz.ngot];
    }
}

/* The operation word: mostly a real one, sometimes with its path inline, sometimes garbage. */
static uint64_t fz_op(void)
{
    switch (below(10)) {
    case 0: return rnd();
    case 1: return below(256);
    default: return 1 + below(FS_OP_LAST);
    }
}

/*
 * One request. Creating ones name only the fuzzer's own names (see fz_files);
 * open of anything else loses O_CREAT, O_TRUNC and write access. Buffers,
 * lengths and handles are otherwise anything: oversized, truncated, unmapped,
 * handles moved to the server where none belong. The reply's handles go to
 * the pools.
 */
static int64_t fz_request(struct shared *sh)
{
    struct ks_ipc_desc *d = (struct ks_ipc_desc *)(pool.buf + BUF_SIZE - sizeof *d);
    char *path = (char *)pool.buf + BUF_SIZE / 2;       /* the second half: out of a_pointer's way */
    uint64_t w[KS_IPC_WORDS], op = fz_op(), cap = BUF_SIZE / 2 - 2 * sizeof *d;
    for (int i = 1; i < KS_IPC_WORDS; i++)
        w[i] = a_word();
    int kind = (int)below(4);
    uint64_t base = op & FS_OP_MASK;
    int creates = (base == FS_OP_OPEN && (w[1] & L_O_CREAT)) || base == FS_OP_MKDIR ||
                  base == FS_OP_RENAME || base == FS_OP_SYMLINK;
    if (creates)
        kind = base == FS_OP_MKDIR ? FZ_DIR : FZ_OWN;
    if (base == FS_OP_UNLINK && kind == FZ_THEIRS)
        kind = FZ_OWN;                          /* never the server's own files */
    if (base == FS_OP_OPEN && kind != FZ_OWN && kind != FZ_DIR)
        w[1] &= ~(uint64_t)(L_O_CREAT | L_O_TRUNC | L_O_EXCL | L_O_ACCMODE);
    uint64_t n = fz_path(kind, path, cap);
    if (base == FS_OP_UNLINK && kind == FZ_GARBAGE && n)
        path[0] = 'x';                          /* garbage, but never a path of the server's own */
    if (base == FS_OP_RENAME) {                 /* old path, then new: both its own files */
        w[1] = n;
        n += fz_path(FZ_OWN, path + n, cap - n);
    }
    if (base == FS_OP_SYMLINK) {                /* a target, then the link: its own file */
        /* Targets that nothing can be created through (a creating call follows a link). */
        static const char *const targets[] = { "/dev/null", "/", "/dev" };
        const char *t = targets[below(N_OF(targets))];
        w[1] = strlen(t);
        memcpy(path, t, w[1]);
        n = w[1] + fz_path(FZ_OWN, path + w[1], cap - w[1]);
    }
    /* A creating call's path is exact (a prefix or more bytes would be a name nobody removes). */
    int exact = creates || below(8);
    if (below(6) == 0 && n <= FS_PATH_INLINE_MAX && base != FS_OP_RENAME && base != FS_OP_SYMLINK) {
        op = base | FS_PATH_INLINE | (exact ? n : below(256)) << FS_PATH_INLINE_SHIFT;
        memcpy(&w[3], path, n);
    }
    w[0] = op;
    memset(d, 0, sizeof *d);
    d->send_buf = exact ? path : (const void *)a_pointer();
    d->send_len = exact ? n : a_length();
    d->send_nhandles = below(4) ? 0 : (uint32_t)below(KS_IPC_MAX_HANDLES + 1);
    for (uint32_t i = 0; i < d->send_nhandles; i++) {
        d->send_handles[i] = below(4) ? fz.foreign[below(N_OF(fz.foreign))] : (ks_handle_t)a_handle();
        d->send_handle_flags[i] = a_handle_flags();
    }
    d->recv_buf = below(8) ? (void *)pool.buf : (void *)a_pointer();
    d->recv_cap = below(8) ? 4096 : a_length();
    ks_handle_t port = fz_port();
    uint64_t a[6] = { 0x100, port, op, w[1], w[2], n };    /* as the ring shows it: 0x100 = IPC call */
    record(sh, a[0], a);
    uint64_t info;
    int64_t r = ks_ipc_call(port, creates || below(16) ? d : (struct ks_ipc_desc *)a_pointer(), w, &info);
    if (r == 0)
        fz_keep(d);
    sh->no_memory += r == 0 && ((int64_t)w[0] == -12 || (int64_t)w[0] == -28);    /* fsd: ENOMEM, ENOSPC */
    for (unsigned i = 0; i < N_OF(fz.foreign); i++)   /* moved away: make another of the kind */
        if (ks_handle_info(fz.foreign[i]) < 0)
            fz.foreign[i] = KS_HANDLE_NONE;
    return r;
}

/* The handles that belong nowhere in a request to the server. */
static void fz_foreign_refill(void)
{
    for (unsigned i = 0; i < N_OF(fz.foreign); i++) {
        if (fz.foreign[i] != KS_HANDLE_NONE && ks_handle_info(fz.foreign[i]) >= 0)
            continue;
        long h = i == 0 ? ks_memobj_create(KS_PAGE_SIZE)
               : i == 1 ? (fz.foreign[0] != KS_HANDLE_NONE ? ks_view_create(fz.foreign[0], KS_RIGHT_READ) : -1)
               : i == 2 ? ks_ipc_listener_create()
               : i == 3 ? (fz.foreign[2] != KS_HANDLE_NONE ? ks_ipc_client_create(fz.foreign[2], 3) : -1)
               : ks_process_create("fz", 2);
        fz.foreign[i] = h > 0 ? (ks_handle_t)h : KS_HANDLE_NONE;
    }
}

static void fsd_loop(struct shared *sh, uint64_t calls)
{
    for (uint64_t i = 0; i < calls; i++) {
        fz_foreign_refill();
        int64_t r = fz_request(sh);
        sh->ring[(sh->ring_next - 1) % RING].ret = r;
        sh->no_memory += r == KS_ERR_NO_MEMORY;     /* the call's own; fsd's answers count above */
        if (r == KS_ERR_PEER_CLOSED && i == 0)
            break;                              /* no server at all: the supervisor will say */
        if (pool.verbose)
            printf("# call %lu: fsd request = %ld\n", (unsigned long)i, (long)r);
        sh->calls_done = i + 1;
    }
}

/* ---- the chaos mode: IPC between processes while things go away under it ---- */

/*
 * The child runs CHAOS_CALLERS threads calling a listener that CHAOS_PEERS
 * peer processes serve (and the peers call back into the child's server),
 * while a chaos thread unmaps and maps again the region every buffer points
 * into, interrupts callers, and kills a peer and starts another in its
 * place. Peers do their own chaos: they answer with buffers too long and
 * handles (copied and moved), close a reply port instead of answering, end a
 * server thread holding a call, unmap their receive region. A peer ends when
 * the child does: it blocks in a call on a lifeline listener the child holds
 * and never serves, which fails when the child is gone.
 */
#define CHAOS_PEERS     2
#define CHAOS_CALLERS   2
#define CHAOS_AT        0x0000580000000000ul    /* the region buffers point into */
#define CHAOS_SIZE      (64 << 10)

static struct {
    ks_handle_t service;            /* a client port of the listener the peers serve */
    ks_handle_t listener, lifeline; /* that listener, and the lifeline (never served) */
    ks_handle_t back;               /* the child: a client port of its own server; a peer: the same */
    long peers[CHAOS_PEERS];
    long callers[CHAOS_CALLERS];
    volatile uint64_t left;         /* calls still to make, over all callers */
    volatile int callers_done;
} chaos;

/* Map the chaos region (again: the same memobj, made once), or take it away; either may find it so. */
static void chaos_region(int map)
{
    static long mo;
    if (!map) {
        ks_vm_unmap(KS_PROCESS_SELF, CHAOS_AT, CHAOS_SIZE);
        return;
    }
    if (mo <= 0)
        mo = ks_memobj_create(CHAOS_SIZE);
    if (mo > 0)
        ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)mo, 0, CHAOS_AT, CHAOS_SIZE,
                  KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED | KS_MAP_FIXED);
}

/* A pointer into the chaos region (mapped or not), a length that may run past it. */
static void chaos_buffer(const void **p, uint64_t *len)
{
    uint64_t off = below(CHAOS_SIZE);
    *p = (const void *)(CHAOS_AT + off);
    *len = below(16) ? below(CHAOS_SIZE - off + 1) : a_length();
}

/* A descriptor of chaos buffers and up to four handles from the pools (copied or moved). */
static struct ks_ipc_desc *chaos_desc(struct ks_ipc_desc *d)
{
    memset(d, 0, sizeof *d);
    chaos_buffer(&d->send_buf, &d->send_len);
    const void *r;
    chaos_buffer(&r, &d->recv_cap);
    d->recv_buf = (void *)r;
    d->send_nhandles = below(2) ? 0 : (uint32_t)below(KS_IPC_MAX_HANDLES + 1);
    for (uint32_t i = 0; i < d->send_nhandles; i++) {
        ks_handle_t h = (ks_handle_t)a_handle();
        for (int tries = 0; tries < 4 && below(8) && !(ks_handle_info(h) & KS_RIGHT_TRANSFER); tries++)
            h = (ks_handle_t)a_handle();        /* mostly one that may go */
        d->send_handles[i] = h;
        d->send_handle_flags[i] = a_handle_flags();
    }
    return d;
}

/* Close what a message brought. */
static void chaos_drop(const struct ks_ipc_desc *d, long r)
{
    for (uint32_t i = 0; r >= 0 && i < d->recv_nhandles && i < KS_IPC_MAX_HANDLES; i++)
        ks_handle_close(d->recv_handles[i]);
}

static void chaos_caller(long arg)
{
    struct shared *sh = (struct shared *)arg;
    struct ks_ipc_desc d;
    while (chaos.left > 0) {
        chaos.left--;
        uint64_t w[KS_IPC_WORDS], info;
        for (int i = 0; i < KS_IPC_WORDS; i++)
            w[i] = a_word();
        ks_handle_t port = below(8) ? chaos.service : (ks_handle_t)a_handle();
        if (port != chaos.service)
            ks_thread_interrupt(KS_THREAD_SELF);    /* nobody may serve it: return at once */
        struct ks_ipc_desc *dp = below(8) ? chaos_desc(&d) : NULL;
        uint64_t a[6] = { port, (uint64_t)dp, w[0], w[1], dp ? dp->send_len : 0, dp ? dp->recv_cap : 0 };
        record(sh, KS_SYS_IPC_CALL, a);
        long r = ks_ipc_call(port, dp, w, &info);
        if (dp)
            chaos_drop(dp, r);
        sh->no_memory += r == KS_ERR_NO_MEMORY;
        sh->answered += r == 0 && port == chaos.service;
        sh->calls_done++;
        for (unsigned i = 0; i < pool.nlive; i++)      /* what moved away is gone from the pools */
            if (ks_handle_info(pool.live[i]) < 0)
                forget(pool.live[i--]);
    }
    chaos.callers_done++;
    ks_thread_exit(0);
}

static long chaos_spawn_peer(ks_handle_t image)
{
    const char *argv[] = { "ufuzz", "peer", "-", NULL };
    char seed[24];
    ksnprintf(seed, sizeof seed, "%lu", (unsigned long)rnd());
    argv[2] = seed;
    long lc = ks_ipc_client_create(chaos.lifeline, 0);
    if (lc < 0)
        return lc;
    ks_handle_t give[3] = { chaos.listener, chaos.back, (ks_handle_t)lc };
    long p = ulib_spawn(image, "ufuzz", argv, give, 3);
    ks_handle_close((ks_handle_t)lc);
    return p;
}

static void touch(uintptr_t at, size_t len);
static void fill_memory(void);

/*
 * The child's side: callers, a server for the peers' calls back, and the
 * chaos. With `pressure`, memory is filled once the callers exist (their
 * stacks touched first): peers then fail to start, and calls meet exhaustion.
 */
static int chaos_child(struct shared *sh, uint64_t calls, long server_listener, int pressure)
{
    ks_handle_t image = (ks_handle_t)ulib_auxv(KS_AT_BOOTIMAGE);
    long l = ks_ipc_listener_create(), ll = ks_ipc_listener_create();
    long svc = l > 0 ? ks_ipc_client_create((ks_handle_t)l, 11) : l;
    long back = server_listener > 0 ? ks_ipc_client_create((ks_handle_t)server_listener, 12) : -1;
    if (l < 0 || ll < 0 || svc < 0 || back < 0)
        return 2;
    chaos.listener = (ks_handle_t)l;
    chaos.lifeline = (ks_handle_t)ll;
    chaos.service = (ks_handle_t)svc;
    chaos.back = (ks_handle_t)back;
    keep(ks_handle_duplicate((ks_handle_t)svc, KS_RIGHTS_ALL));   /* a copy in the pools: sent, moved, closed */
    chaos_region(1);
    for (int i = 0; i < CHAOS_PEERS; i++)
        chaos.peers[i] = chaos_spawn_peer(image);
    chaos.left = calls;
    for (int i = 0; i < CHAOS_CALLERS; i++) {
        uintptr_t stack = ulib_map_anon(32 << 10);
        if (stack && pressure)
            touch(stack, 32 << 10);
        chaos.callers[i] = stack ? ks_thread_create(KS_PROCESS_SELF, (void *)chaos_caller,
                                                    (void *)(stack + (32 << 10)), (long)sh) : -1;
        if (chaos.callers[i] < 0)
            chaos.callers_done++;
    }
    if (pressure) {
        touch(BUF_AT, BUF_SIZE);
        fill_memory();
    }
    /* Rounds of chaos between yields (the others run in between); one action in a few. */
    while (chaos.callers_done < CHAOS_CALLERS) {
        uint64_t pick = below(1024);
        if (pick < 16) {                        /* the buffers gone for a moment, under the calls */
            chaos_region(0);
            if (pick == 0)
                ks_thread_sleep(1000000);       /* a tick: every call meanwhile faults */
            else
                ks_thread_yield();
            chaos_region(1);
        } else if (pick < 80) {                 /* a caller interrupted, in its call or not */
            long t = chaos.callers[below(CHAOS_CALLERS)];
            if (t > 0)
                ks_thread_interrupt((ks_handle_t)t);
        } else if (pick < 82) {                 /* a peer dies mid-call; another takes its place */
            int i = (int)below(CHAOS_PEERS);
            if (chaos.peers[i] > 0) {
                ks_process_kill((ks_handle_t)chaos.peers[i]);
                ks_handle_close((ks_handle_t)chaos.peers[i]);
            }
            chaos.peers[i] = chaos_spawn_peer(image);
        }
        ks_thread_yield();
    }
    for (int i = 0; i < CHAOS_CALLERS; i++)
        if (chaos.callers[i] > 0)
            ks_thread_join((ks_handle_t)chaos.callers[i]);
    for (int i = 0; i < CHAOS_PEERS; i++) {
        uint64_t status;
        if (chaos.peers[i] > 0) {
            ks_process_kill((ks_handle_t)chaos.peers[i]);
            ks_process_wait((ks_handle_t)chaos.peers[i], &status);
            ks_handle_close((ks_handle_t)chaos.peers[i]);
        }
    }
    return 0;
}

/* ---- a peer (ufuzz peer SEED): serves the child's calls, badly ---- */

static volatile int peer_servers;     /* server threads started and not ended */

static void peer_server(long arg)
{
    (void)arg;
    static uint8_t out[2 * CHAOS_SIZE];
    for (;;) {
        struct ks_ipc_desc d = { 0 };
        const void *rb;
        chaos_buffer(&rb, &d.recv_cap);
        d.recv_buf = (void *)rb;
        uint64_t w[KS_IPC_WORDS] = { 0 }, ud, info;
        long r = ks_ipc_receive(chaos.listener, &d, w, &ud, &info);
        if (r == KS_ERR_PEER_CLOSED || r == KS_ERR_BAD_HANDLE)
            break;
        chaos_drop(&d, r);
        if (r < 0 || r == KS_HANDLE_NONE)
            continue;
        ks_handle_t reply = (ks_handle_t)r;
        switch (below(10)) {
        case 0:                                 /* nobody will answer */
            ks_handle_close(reply);
            break;
        case 1:                                 /* this thread ends holding the call */
            if (below(8) == 0) {
                peer_servers--;
                ks_thread_exit(0);
            }
            /* fall through */
        case 2: {                               /* a call back into the child first */
            uint64_t w2[KS_IPC_WORDS] = { 1 }, info2;
            ks_ipc_call(chaos.back, NULL, w2, &info2);
        }
            /* fall through */
        default: {
            struct ks_ipc_desc rd = { .send_buf = out, .send_len = below(sizeof out) };
            long m = below(2) ? ks_memobj_create(KS_PAGE_SIZE) : -1;
            if (m > 0) {
                rd.send_handles[0] = (ks_handle_t)m;
                rd.send_handle_flags[0] = below(3) ? a_handle_flags() : KS_IPC_HANDLE_AS_VIEW(KS_RIGHT_READ);
                rd.send_nhandles = 1;
            }
            for (int i = 0; i < KS_IPC_WORDS; i++)
                w[i] = a_word();
            ks_ipc_reply(reply, below(4) ? &rd : NULL, w);
            if (m > 0)
                ks_handle_close((ks_handle_t)m);    /* a copy or a view sent, or the value stale: either way */
        }
        }
    }
    peer_servers--;
    ks_thread_exit(0);
}

/* A peer's lifeline: blocked in a call nobody serves until the child is gone, then the end. */
static void peer_lifeline(long lifeline)
{
    for (;;) {
        uint64_t w[KS_IPC_WORDS] = { 0 }, info;
        long r = ks_ipc_call((ks_handle_t)lifeline, NULL, w, &info);
        if (r == KS_ERR_PEER_CLOSED || r == KS_ERR_BAD_HANDLE)
            ks_process_exit(0);
    }
}

/* Start a thread running fn(arg) on a fresh stack; 0 or an error. */
static long start(void (*fn)(long), long arg)
{
    uintptr_t stack = ulib_map_anon(16 << 10);
    long t = stack ? ks_thread_create(KS_PROCESS_SELF, (void *)fn, (void *)(stack + (16 << 10)), arg) : -1;
    if (t > 0)
        ks_handle_close((ks_handle_t)t);
    return t < 0 ? t : 0;
}

static int peer_main(uint64_t seed)
{
    rng_state = seed | 1;
    chaos.listener = ulib_inherited(0);
    chaos.back = ulib_inherited(1);
    ks_handle_t lifeline = ulib_inherited(2);
    pool.buf = (uint8_t *)ulib_map_anon(BUF_SIZE);
    if (!pool.buf)
        return 2;
    keep(ks_memobj_create(KS_PAGE_SIZE));       /* a_handle's pool: something to send */
    chaos_region(1);
    if (start(peer_lifeline, lifeline) < 0)
        return 2;
    for (;;) {                                  /* three servers, a new one for each that ended */
        while (peer_servers < 3 && start(peer_server, 0) == 0)
            peer_servers++;                     /* counted now: it may not have run yet */
        ks_thread_yield();
        if (below(64) == 0)
            chaos_region(below(2));
    }
}

/* ---- the child ---- */

static volatile int fuzz_done, fuzz_go;
static enum fuzz_mode child_mode;

/*
 * A server for the fuzzer's calls to reach: it receives on listener `arg`
 * with a descriptor (a buffer and handle slots), closes the handles that came
 * and answers with the words plus one, until receiving fails for good (the
 * fuzzer may close the listener, or its reply port).
 */
static void serve_loop(long arg)
{
    static uint8_t rbuf[4096];
    ks_handle_t l = (ks_handle_t)arg;
    struct ks_ipc_desc d = { .recv_buf = rbuf, .recv_cap = sizeof rbuf };
    uint64_t w[KS_IPC_WORDS] = { 0 }, ud, info;
    long r = ks_ipc_receive(l, &d, w, &ud, &info);
    for (;;) {
        if (r < 0 && r != KS_ERR_INTERRUPTED && r != KS_ERR_PEER_CLOSED)
            break;
        for (uint32_t i = 0; r >= 0 && i < d.recv_nhandles && i < KS_IPC_MAX_HANDLES; i++)
            ks_handle_close(d.recv_handles[i]);
        for (int i = 0; i < KS_IPC_WORDS; i++)
            w[i]++;
        r = r >= 0 ? ks_ipc_reply_receive((ks_handle_t)r, l, &d, w, &ud, &info)
                   : ks_ipc_receive(l, &d, w, &ud, &info);
    }
    ks_thread_exit(0);
}

static void fuzz_loop(long arg)
{
    struct shared *sh = (struct shared *)arg;
    while (!fuzz_go)
        ks_thread_yield();                      /* until memory is filled, with pressure */
    uint64_t calls = sh->calls_done;            /* the target, handed over in the page */
    sh->calls_done = 0;
    if (child_mode == MODE_FSD) {
        fsd_loop(sh, calls);
        calls = 0;                              /* the loop below makes none */
    }
    for (uint64_t i = 0; i < calls; i++) {
        /* a third of the calls are IPC, the kernel's busiest code; the rest any number */
        uint64_t nr = below(3) ? numbers[below(sizeof numbers / sizeof numbers[0])]
                               : KS_SYS_IPC_FIRST + below(KS_SYS_IPC_LAST - KS_SYS_IPC_FIRST + 1), a[6];
        for (int k = 0; k < 6; k++) {
            uint64_t pick = below(4);
            a[k] = pick == 0 ? a_handle() : pick == 1 ? a_pointer() : pick == 2 ? a_length() : a_word();
        }
        if (!sanitize(nr, a))
            continue;
        if (may_block(nr) && below(10))
            ks_thread_interrupt(KS_THREAD_SELF);    /* the wait ends at once, INTERRUPTED */
        record(sh, nr, a);
        int64_t r = issue(nr, a);
        sh->ring[(sh->ring_next - 1) % RING].ret = r;
        sh->no_memory += r == KS_ERR_NO_MEMORY;
        account(nr, a, r);
        if (pool.verbose)
            printf("# call %lu: %lx(%lx, %lx, %lx, %lx, %lx, %lx) = %ld\n", (unsigned long)i,
                   (unsigned long)nr, (unsigned long)a[0], (unsigned long)a[1], (unsigned long)a[2],
                   (unsigned long)a[3], (unsigned long)a[4], (unsigned long)a[5], (long)r);
        sh->calls_done = i + 1;
    }
    ks_thread_sleep(1);                         /* take a pending interrupt before leaving */
    fuzz_done = 1;
    ks_thread_exit(0);
}

/* Write a byte into each page of [at, at + len): its pages exist before memory runs out. */
static void touch(uintptr_t at, size_t len)
{
    for (size_t off = 0; off < len; off += KS_PAGE_SIZE)
        ((volatile uint8_t *)at)[off] = 0;
}

/*
 * Take every free page but PRESSURE_HEADROOM into memobjs nobody maps (kept
 * out of the pools: the fuzzer cannot give them back), one page at a time.
 * The pages go back when the process ends, which the leak check then sees.
 */
static void fill_memory(void)
{
    static const uint8_t one = 1;
    struct ks_kstat k;
    while (ks_kstat(&k) == 0 && k.free_pages > PRESSURE_HEADROOM) {
        long mo = ks_memobj_create(PRESSURE_CHUNK);
        if (mo < 0)
            return;
        for (uint64_t off = 0; off < PRESSURE_CHUNK; off += KS_PAGE_SIZE) {
            if ((off / KS_PAGE_SIZE) % 8 == 0 && (ks_kstat(&k) != 0 || k.free_pages <= PRESSURE_HEADROOM))
                return;
            if (ks_memobj_write((ks_handle_t)mo, off, &one, 1) < 0)
                return;
        }
    }
}

static int child_main(uint64_t seed, uint64_t calls, int verbose, int pressure, enum fuzz_mode mode)
{
    child_mode = mode;
    child_pressure = pressure;
    fz.root = ulib_inherited(1);                /* fsd mode: a root port of the server */
    ks_handle_t mo = ulib_inherited(0);
    long at = ks_vm_map(KS_PROCESS_SELF, mo, 0, 0, KS_PAGE_SIZE, KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    if (at < 0)
        return 2;
    ks_handle_close(mo);
    struct shared *sh = (struct shared *)at;
    rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
    pool.verbose = verbose;
    long bmo = ks_memobj_create(BUF_SIZE);
    if (bmo < 0 || ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)bmo, 0, BUF_AT, BUF_SIZE,
                             KS_PROT_READ | KS_PROT_WRITE | KS_MAP_PRIVATE | KS_MAP_FIXED) != (long)BUF_AT)
        return 2;
    ks_handle_close((ks_handle_t)bmo);
    pool.buf = (uint8_t *)BUF_AT;
    /* a few objects of each kind to start from */
    long l = ks_ipc_listener_create();
    keep(l);
    keep(ks_ipc_client_create((ks_handle_t)l, 7));
    long m = ks_memobj_create(3 * KS_PAGE_SIZE);
    keep(m);
    keep(ks_view_create((ks_handle_t)m, KS_RIGHT_READ | KS_RIGHT_WRITE));
    keep(ks_process_create("fuzzed", 6));
    long sl = ks_ipc_listener_create();         /* the server's: its port and itself in the pools */
    keep(sl);
    keep(ks_ipc_client_create((ks_handle_t)sl, 9));
    uintptr_t sstack = ulib_map_anon(16 << 10);
    if (sl > 0 && sstack)
        ks_thread_create(KS_PROCESS_SELF, (void *)serve_loop, (void *)(sstack + (16 << 10)), sl);
    if (mode == MODE_CHAOS) {
        if (pressure && sstack)
            touch(sstack, 16 << 10);
        return chaos_child(sh, calls, sl, pressure);
    }
    sh->calls_done = calls;
    uintptr_t stack = ulib_map_anon(64 << 10);
    long t = stack ? ks_thread_create(KS_PROCESS_SELF, (void *)fuzz_loop, (void *)(stack + (64 << 10)),
                                      (long)sh) : -1;
    if (t < 0)
        return 2;
    if (pressure) {             /* its thread and stacks exist before memory runs out */
        touch(stack, 64 << 10);
        if (sstack)
            touch(sstack, 16 << 10);
        touch(BUF_AT, BUF_SIZE);
        fill_memory();
    }
    fuzz_go = 1;
    while (!fuzz_done) {                        /* the watchdog: no call waits for long */
        ks_thread_sleep(10000000);
        ks_thread_interrupt((ks_handle_t)t);
    }
    ks_thread_join((ks_handle_t)t);
    ks_ipc_control(1, 0);                       /* the fast path back on, whatever it was set to */
    return 0;
}

/* ---- the supervisor ---- */

struct reaper {
    long child;
    volatile int ended;
};

static void time_limit(long arg)
{
    struct reaper *r = (struct reaper *)arg;
    for (int ms = 0; ms < CHILD_MS && !r->ended; ms += 10)
        ks_thread_sleep(10000000);
    if (!r->ended)
        ks_process_kill((ks_handle_t)r->child);
    ks_thread_exit(0);
}

static void show_ring(const struct shared *sh)
{
    uint64_t n = sh->ring_next < RING ? sh->ring_next : RING;
    for (uint64_t k = sh->ring_next - n; k < sh->ring_next; k++) {
        const struct call_rec *c = &sh->ring[k % RING];
        printf("#   %lx(%lx, %lx, %lx, %lx, %lx, %lx) = %ld\n", (unsigned long)c->nr,
               (unsigned long)c->a[0], (unsigned long)c->a[1], (unsigned long)c->a[2],
               (unsigned long)c->a[3], (unsigned long)c->a[4], (unsigned long)c->a[5], (long)c->ret);
    }
}

/* A root-port request with an inline path; the status (MR0), or the IPC error. */
static long fs_inline(ks_handle_t root, uint64_t op, uint64_t arg, const char *path, uint64_t w[KS_IPC_WORDS])
{
    uint64_t n = strlen(path), info;
    memset(w, 0, KS_IPC_WORDS * sizeof w[0]);
    w[0] = op | FS_PATH_INLINE | n << FS_PATH_INLINE_SHIFT;
    w[1] = arg;
    memcpy(&w[3], path, n);
    long r = ks_ipc_call(root, NULL, w, &info);
    return r < 0 ? r : (long)w[0];
}

/*
 * After an fsd child: remove what it may have made (its own names only), then
 * check that fsd still serves: /etc/motd is still a regular file. 1 if so.
 */
static int fsd_cleanup_and_check(ks_handle_t root, char *why, size_t whylen)
{
    uint64_t w[KS_IPC_WORDS];
    for (unsigned i = 0; i < N_OF(fz_files); i++)
        fs_inline(root, FS_OP_UNLINK, 0, fz_files[i], w);
    for (unsigned i = 0; i < N_OF(fz_dirs); i++)
        fs_inline(root, FS_OP_UNLINK, 1, fz_dirs[i], w);
    long r = fs_inline(root, FS_OP_STAT, 0, "/etc/motd", w);
    if (r == 0 && (w[2] & 0170000) == 0100000)
        return 1;
    ksnprintf(why, whylen, "fsd no longer serves: stat of /etc/motd gave %ld", r);
    return 0;
}

/*
 * Open each of the server's own files the fuzzer names, once, read-only, read
 * it all, and close it: fsd makes a boot-image file's memobj (/bin/init) at
 * its first open and its pager fills the pages as they are read, and both stay.
 * The warm-up seed usually does that first, but not when the host is so loaded
 * that its time limit ends it before the call (a leak of 26 file pages, its
 * memobj and radix nodes, then reported at seed 1); done here, it never falls
 * into a checked seed.
 */
static void fsd_open_theirs(ks_handle_t root)
{
    for (unsigned i = 0; i < N_OF(fz_theirs); i++) {
        uint64_t w[KS_IPC_WORDS] = { FS_OP_OPEN, 0 };   /* O_RDONLY */
        struct ks_ipc_desc d;
        memset(&d, 0, sizeof d);
        d.send_buf = fz_theirs[i];
        d.send_len = strlen(fz_theirs[i]);
        if (d.send_len == 0 || ks_ipc_call(root, &d, w, NULL) < 0)
            continue;
        for (uint32_t k = 0; k < d.recv_nhandles; k++) {
            static uint8_t chunk[16384];
            long info = ks_handle_info(d.recv_handles[k]);
            for (uint64_t off = 0; info >= 0 && KS_INFO_TYPE(info) == KS_OBJ_MEMOBJ &&
                                   ks_memobj_read(d.recv_handles[k], off, chunk, sizeof chunk) > 0;)
                off += sizeof chunk;
            ks_handle_close(d.recv_handles[k]);
        }
    }
}

/*
 * Run one seed; 1 if it passed. `warm_up`: a run whose only purpose is what it
 * leaves behind in servers (fsd copies a boot-image file into a memobj at its
 * first open and keeps it; its own heap grows once): no leak check, no report.
 */
static int run_seed(ks_handle_t image, uint64_t seed, uint64_t calls, int verbose, int pressure,
                    enum fuzz_mode mode, ks_handle_t root, int warm_up, char *why, size_t whylen)
{
    struct ks_kstat before, after;
    ks_kstat(&before);
    long mo = ks_memobj_create(KS_PAGE_SIZE);
    long at = mo > 0 ? ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)mo, 0, 0, KS_PAGE_SIZE,
                                 KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED) : -1;
    if (at < 0) {
        ksnprintf(why, whylen, "no shared page (%ld)", at);
        return 0;
    }
    struct shared *sh = (struct shared *)at;
    char s_seed[24], s_calls[24];
    ksnprintf(s_seed, sizeof s_seed, "%lu", (unsigned long)seed);
    ksnprintf(s_calls, sizeof s_calls, "%lu", (unsigned long)calls);
    const char *argv[] = { "ufuzz", "child", s_seed, s_calls, verbose ? "verbose" : "-",
                           pressure ? "pressure" : "-", mode_names[mode], NULL };
    ks_handle_t give[2] = { (ks_handle_t)mo, root };
    struct reaper r = { ulib_spawn(image, "ufuzz", argv, give, mode == MODE_FSD ? 2 : 1), 0 };
    if (r.child < 0) {
        ksnprintf(why, whylen, "cannot spawn (%ld)", r.child);
        return 0;
    }
    uintptr_t stack = ulib_map_anon(16 << 10);
    long t = stack ? ks_thread_create(KS_PROCESS_SELF, (void *)time_limit, (void *)(stack + (16 << 10)),
                                      (long)&r) : -1;
    uint64_t status = 0;
    long w = ks_process_wait((ks_handle_t)r.child, &status);
    r.ended = 1;
    if (t >= 0) {
        ks_thread_interrupt((ks_handle_t)t);
        ks_thread_join((ks_handle_t)t);
        ks_handle_close((ks_handle_t)t);
    }
    ks_vm_unmap(KS_PROCESS_SELF, stack, 16 << 10);
    ks_handle_close((ks_handle_t)r.child);
    uint64_t done = sh->calls_done;
    int ok = 1;
    if (w != 0 || status != 0) {
        ksnprintf(why, whylen, "seed %lu: child ended with status %lx after %lu calls%s",
                  (unsigned long)seed, (unsigned long)status, (unsigned long)done,
                  status & KS_STATUS_KILLED ? " (killed: time limit or a fault)" : "");
        ok = 0;
    }
    struct shared last = *sh;
    if (ok && mode == MODE_FSD && !fsd_cleanup_and_check(root, why, whylen))
        ok = 0;
    ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)at, KS_PAGE_SIZE);
    ks_handle_close((ks_handle_t)mo);
    ks_kstat(&after);
    int64_t dpages = (int64_t)after.free_pages - (int64_t)before.free_pages;
    if (warm_up)
        return ok;
    if (ok && (dpages < -PAGE_SLACK || dpages > PAGE_SLACK || after.objects != before.objects ||
               after.heap_objects != before.heap_objects)) {
        ksnprintf(why, whylen, "seed %lu: leak: free pages %lu -> %lu, heap objects %lu -> %lu, objects %lu -> %lu",
                  (unsigned long)seed, (unsigned long)before.free_pages, (unsigned long)after.free_pages,
                  (unsigned long)before.heap_objects, (unsigned long)after.heap_objects,
                  (unsigned long)before.objects, (unsigned long)after.objects);
        ok = 0;
    }
    if (!ok) {
        printf("# %s; its last calls:\n", why);
        show_ring(&last);
        printf("# replay: make fuzz SEED=%lu CALLS=%lu MODE=%s\n", (unsigned long)seed, (unsigned long)done + 1,
               mode_names[mode]);
    } else {
        printf("# seed %lu: %lu calls, %lu of them out of memory", (unsigned long)seed, (unsigned long)done,
               (unsigned long)last.no_memory);
        if (mode == MODE_CHAOS)
            printf(", %lu answered by a peer", (unsigned long)last.answered);
        printf("\n");
    }
    return ok;
}

static enum fuzz_mode mode_named(const char *s)
{
    for (unsigned m = 0; m < N_OF(mode_names); m++)
        if (strcmp(s, mode_names[m]) == 0)
            return (enum fuzz_mode)m;
    return MODE_CALLS;
}

static uint64_t number(const char *s)
{
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t)(*s++ - '0');
    return v;
}

int main(int argc, char **argv)
{
    if (argc >= 7 && strcmp(argv[1], "child") == 0)
        return child_main(number(argv[2]), number(argv[3]), strcmp(argv[4], "verbose") == 0,
                          strcmp(argv[5], "pressure") == 0, mode_named(argv[6]));
    if (argc >= 3 && strcmp(argv[1], "peer") == 0)
        return peer_main(number(argv[2]));
    uint64_t from = DEFAULT_SEEDS_FROM, to = DEFAULT_SEEDS_TO, calls = 0;
    int verbose = 0, bench = 0, pressure = 0;
    enum fuzz_mode mode = MODE_CALLS;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "seeds=", 6) == 0) {
            const char *p = argv[i] + 6;
            from = to = number(p);
            while (*p >= '0' && *p <= '9')
                p++;
            if (p[0] == '.' && p[1] == '.')
                to = number(p + 2);
        } else if (strncmp(argv[i], "calls=", 6) == 0) {
            calls = number(argv[i] + 6);
        } else if (strcmp(argv[i], "verbose") == 0) {
            verbose = 1;
        } else if (strcmp(argv[i], "bench") == 0) {
            bench = 1;
        } else if (strcmp(argv[i], "pressure") == 0) {
            pressure = 1;
        } else if (strncmp(argv[i], "mode=", 5) == 0) {
            mode = mode_named(argv[i] + 5);
        }
    }
    if (!calls)
        calls = mode == MODE_CHAOS ? DEFAULT_CHAOS_CALLS : DEFAULT_CALLS;
    ks_handle_t image = (ks_handle_t)ulib_auxv(KS_AT_BOOTIMAGE);
    ks_handle_t root = ulib_inherited(0);       /* init's root port of fsd (the fsd mode's target) */
    if (mode == MODE_FSD && root == KS_HANDLE_NONE) {
        printf("ufuzz: mode=fsd needs a root port of fsd (init gives one)\n");
        return 2;
    }
    char why[200] = "";
    if (mode == MODE_FSD) {                     /* seed 0, unchecked: see run_seed */
        fsd_open_theirs(root);
        run_seed(image, 0, calls / 4, 0, 0, mode, root, 1, why, sizeof why);
    }
    struct ks_kstat ks;
    ks_kstat_flags(&ks, KS_KSTAT_RESET_LATENCY);
    struct ktap k;
    ktap_plan(&k, (unsigned)(to - from + 2));
    ktap_run("fuzz.covers_every_call");
    ktap_result(&k, "fuzz.covers_every_call", covers_every_call(why, sizeof why), why);
    for (uint64_t seed = from; seed <= to; seed++) {
        char name[40];
        why[0] = '\0';
        ksnprintf(name, sizeof name, "fuzz.seed_%lu", (unsigned long)seed);
        ktap_run(name);
        ktap_result(&k, name, run_seed(image, seed, calls, verbose, pressure, mode, root, 0, why, sizeof why), why);
    }
    ks_kstat(&ks);
    printf("# the worst wait of a timer interrupt during the run: %lu ns\n",
           (unsigned long)ks.irq_latency_max_ns);
    if (bench)                          /* make bench: a figure of its own (see ubench's irq_latency_64m) */
        printf("bench irq_latency_fuzz %lu ns\n", (unsigned long)ks.irq_latency_max_ns);
    return k.failed ? 1 : 0;
}
