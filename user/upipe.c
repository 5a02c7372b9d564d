/*
 * user/upipe.c - tests of kernel pipes (KTAP), run by init with "utest".
 *
 *   upipe          the tests
 *   upipe echo     inherited handles 0 and 1 are a read end and a write end:
 *                  copy one to the other until end of file (the cross-process
 *                  tests' far side)
 *
 * Data, end of file, EPIPE, non-blocking calls and the atomic write size,
 * blocking readers and writers woken by each other (threads, and processes),
 * interrupts, every refused argument, and no leak after any of it.
 */
#include "user/lib/testlib.h"

static uint8_t big[256 << 10];          /* data for the long transfers */
static uint8_t got[256 << 10];

static uint8_t pattern(uint64_t i) { return (uint8_t)(i * 31 + (i >> 9) + 7); }

/* A new pipe: ends[0] reads, ends[1] writes (the case fails if it cannot be made). */
static int make_pipe(ks_handle_t ends[2])
{
    long r = ks_pipe_create(ends);
    if (r != 0)
        ktest_fail(__FILE__, __LINE__, "pipe_create: %ld", r);
    return r == 0;
}

static void close_pipe(ks_handle_t ends[2])
{
    ks_handle_close(ends[0]);
    ks_handle_close(ends[1]);
}

static void data_in_order(void)
{
    struct ks_kstat k = kstat_now();
    ks_handle_t p[2];
    char buf[16] = "";
    KT_ASSERT(make_pipe(p));
    KT_EXPECT_EQ(ks_pipe_write(p[1], "hello", 5, 0), 5);
    KT_EXPECT_EQ(ks_pipe_write(p[1], " pipe", 5, 0), 5);
    KT_EXPECT_EQ(ks_pipe_info(p[0]), 10);
    KT_EXPECT_EQ(ks_pipe_info(p[1]), 10);
    KT_EXPECT_EQ(ks_pipe_read(p[0], buf, 3, 0), 3);             /* a short read takes what it asks */
    KT_EXPECT_EQ(ks_pipe_read(p[0], buf + 3, sizeof buf, 0), 7);   /* a long one what there is */
    KT_EXPECT(memcmp(buf, "hello pipe", 10) == 0);
    KT_EXPECT_EQ(ks_pipe_info(p[0]), 0);
    KT_EXPECT_EQ(ks_pipe_read(p[0], buf, 0, 0), 0);             /* nothing asked, nothing waited for */
    close_pipe(p);
    EXPECT_SAME_KSTAT(&k);
}

static void end_of_file_and_epipe(void)
{
    struct ks_kstat k = kstat_now();
    ks_handle_t p[2];
    char c;
    KT_ASSERT(make_pipe(p));
    long dup = ks_handle_duplicate(p[1], KS_RIGHT_WRITE);
    KT_ASSERT(dup > 0);
    KT_EXPECT_EQ(ks_pipe_write(p[1], "x", 1, 0), 1);
    ks_handle_close(p[1]);
    KT_EXPECT_EQ(ks_pipe_read(p[0], &c, 1, 0), 1);              /* what was written stays readable */
    KT_EXPECT_EQ(ks_pipe_read(p[0], &c, 1, KS_PIPE_NONBLOCK), KS_ERR_AGAIN);   /* a writer is left */
    ks_handle_close((ks_handle_t)dup);
    KT_EXPECT_EQ(ks_pipe_read(p[0], &c, 1, 0), 0);              /* every writer gone: end of file */
    KT_EXPECT_EQ(ks_pipe_read(p[0], &c, 1, KS_PIPE_NONBLOCK), 0);
    ks_handle_close(p[0]);
    KT_ASSERT(make_pipe(p));
    ks_handle_close(p[0]);
    KT_EXPECT_EQ(ks_pipe_write(p[1], "x", 1, 0), KS_ERR_PEER_CLOSED);   /* no reader: EPIPE */
    ks_handle_close(p[1]);
    EXPECT_SAME_KSTAT(&k);
}

/* Fill with non-blocking writes: 64 KiB exactly; a small write never goes in part. */
static void nonblocking_and_atomic(void)
{
    struct ks_kstat k = kstat_now();
    ks_handle_t p[2];
    char c;
    KT_ASSERT(make_pipe(p));
    KT_EXPECT_EQ(ks_pipe_read(p[0], &c, 1, KS_PIPE_NONBLOCK), KS_ERR_AGAIN);
    uint64_t total = 0;
    long r;
    while ((r = ks_pipe_write(p[1], big, 1000, KS_PIPE_NONBLOCK)) > 0)
        total += (uint64_t)r;
    KT_EXPECT_EQ(r, KS_ERR_AGAIN);
    KT_EXPECT_EQ(total, 65000);                 /* 1000-byte writes are atomic: 536 bytes stay free */
    KT_EXPECT_EQ(ks_pipe_write(p[1], big, 600, KS_PIPE_NONBLOCK), KS_ERR_AGAIN);
    KT_EXPECT_EQ(ks_pipe_write(p[1], big, 5000, KS_PIPE_NONBLOCK), 536);   /* over PIPE_BUF: in part */
    KT_EXPECT_EQ(ks_pipe_info(p[0]), 65536);
    KT_EXPECT_EQ(ks_pipe_read(p[0], got, sizeof got, 0), 65536);
    int same = 1;
    for (uint64_t i = 0; i < 65536; i++)
        same &= got[i] == big[i % 1000];
    KT_EXPECT(same);
    close_pipe(p);
    EXPECT_SAME_KSTAT(&k);
}

static ks_handle_t shared_end;
static volatile long thread_result;

static void read_all_thread(long len)
{
    uint64_t done = 0;
    long r = 1;
    while (done < (uint64_t)len && (r = ks_pipe_read(shared_end, got + done, (uint64_t)len - done, 0)) > 0)
        done += (uint64_t)r;
    thread_result = r < 0 ? r : (long)done;
    ks_thread_exit(0);
}

/* 256 KiB through the 64 KiB ring: the writer waits for room, the reader for bytes. */
static void blocking_between_threads(void)
{
    struct ks_kstat k = kstat_now();
    ks_handle_t p[2];
    KT_ASSERT(make_pipe(p));
    for (uint64_t i = 0; i < sizeof big; i++)
        big[i] = pattern(i);
    memset(got, 0, sizeof got);
    shared_end = p[0];
    struct uthread t = thread_start(read_all_thread, (long)sizeof big);
    KT_ASSERT(t.h > 0);
    KT_EXPECT_EQ(ks_pipe_write(p[1], big, sizeof big, 0), (long)sizeof big);
    thread_finish(&t);
    KT_EXPECT_EQ(thread_result, (long)sizeof big);
    KT_EXPECT(memcmp(got, big, sizeof big) == 0);
    close_pipe(p);
    EXPECT_SAME_KSTAT(&k);
}

static void interrupted_waits(void)
{
    struct ks_kstat k = kstat_now();
    ks_handle_t p[2];
    KT_ASSERT(make_pipe(p));
    shared_end = p[0];
    thread_result = 1;
    struct uthread t = thread_start(read_all_thread, 1);
    KT_ASSERT(t.h > 0);
    ks_thread_sleep(20000000);                  /* it waits in the read by now */
    KT_EXPECT_EQ(ks_thread_interrupt((ks_handle_t)t.h), 0);
    thread_finish(&t);
    KT_EXPECT_EQ(thread_result, KS_ERR_INTERRUPTED);
    /* A writer waiting for room: interrupted, it says how much went in. */
    KT_EXPECT_EQ(ks_pipe_write(p[1], big, 65536, 0), 65536);
    KT_EXPECT_EQ(ks_thread_interrupt(KS_THREAD_SELF), 0);
    KT_EXPECT_EQ(ks_pipe_write(p[1], big, 10, 0), KS_ERR_INTERRUPTED);
    close_pipe(p);
    EXPECT_SAME_KSTAT(&k);
}

/* 1 MiB to another process and back (upipe echo), with the data compared. */
static void across_processes(void)
{
    struct ks_kstat k = kstat_now();
    ks_handle_t to[2], from[2];
    KT_ASSERT(make_pipe(to));
    KT_ASSERT(make_pipe(from));
    const char *argv[] = { "upipe", "echo", NULL };
    ks_handle_t give[2] = { to[0], from[1] };
    long child = ulib_spawn((ks_handle_t)ulib_auxv(KS_AT_BOOTIMAGE), "upipe", argv, give, 2);
    KT_ASSERT(child > 0);
    ks_handle_close(to[0]);                     /* the child's copies are the ones that count */
    ks_handle_close(from[1]);
    shared_end = from[0];
    struct uthread t = thread_start(read_all_thread, (long)sizeof big);
    KT_ASSERT(t.h > 0);
    int same = 1;
    for (int round = 0; round < 4; round++) {
        for (uint64_t i = 0; i < sizeof big; i++)
            big[i] = pattern(i + (uint64_t)round);
        thread_result = 0;
        if (round) {
            t = thread_start(read_all_thread, (long)sizeof big);
            KT_ASSERT(t.h > 0);
        }
        KT_EXPECT_EQ(ks_pipe_write(to[1], big, sizeof big, 0), (long)sizeof big);
        thread_finish(&t);
        KT_EXPECT_EQ(thread_result, (long)sizeof big);
        same &= memcmp(got, big, sizeof big) == 0;
    }
    KT_EXPECT(same);
    ks_handle_close(to[1]);                     /* end of file for the child: it ends */
    uint64_t status = 1;
    KT_EXPECT_EQ(ks_process_wait((ks_handle_t)child, &status), 0);
    KT_EXPECT_EQ(status, 0);
    char c;
    KT_EXPECT_EQ(ks_pipe_read(from[0], &c, 1, 0), 0);           /* and its write end went with it */
    ks_handle_close((ks_handle_t)child);
    ks_handle_close(from[0]);
    EXPECT_SAME_KSTAT(&k);
}

static void refused(void)
{
    struct ks_kstat k = kstat_now();
    ks_handle_t p[2];
    char buf[8];
    KT_ASSERT(make_pipe(p));
    KT_EXPECT_EQ(ks_pipe_read(p[1], buf, 1, 0), KS_ERR_ACCESS);         /* the write end has no READ */
    KT_EXPECT_EQ(ks_pipe_write(p[0], "x", 1, 0), KS_ERR_ACCESS);
    long ro = ks_handle_duplicate(p[1], KS_RIGHT_TRANSFER);
    KT_ASSERT(ro > 0);
    KT_EXPECT_EQ(ks_pipe_write((ks_handle_t)ro, "x", 1, 0), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_pipe_info((ks_handle_t)ro), 0);             /* any right will do for the count */
    ks_handle_close((ks_handle_t)ro);
    KT_EXPECT_EQ(ks_pipe_read(p[0], buf, 1, 2), KS_ERR_INVALID);       /* an unknown flag */
    KT_EXPECT_EQ(ks_pipe_write(p[1], "x", 1, ~0u), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_pipe_read(KS_HANDLE_NONE, buf, 1, 0), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_pipe_read(KS_PROCESS_SELF, buf, 1, 0), KS_ERR_WRONG_TYPE);
    long mo = ks_memobj_create(KS_PAGE_SIZE);
    KT_EXPECT_EQ(ks_pipe_write((ks_handle_t)mo, "x", 1, 0), KS_ERR_WRONG_TYPE);
    ks_handle_close((ks_handle_t)mo);
    /* Bad buffers: nothing moves, nothing is lost. */
    KT_EXPECT_EQ(ks_pipe_write(p[1], (void *)0x1000, 1, 0), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_pipe_write(p[1], (void *)(KS_USER_TOP - 4), 8, 0), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_pipe_write(p[1], buf, ~0ull >> 1, 0), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_pipe_info(p[0]), 0);
    KT_EXPECT_EQ(ks_pipe_write(p[1], "ab", 2, 0), 2);
    KT_EXPECT_EQ(ks_pipe_read(p[0], (void *)0xffffffff80200000ul, 2, 0), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_pipe_read(p[0], (void *)0x1000, 2, 0), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_pipe_info(p[0]), 2);                        /* the bytes stayed */
    /* The last byte of user space is a byte like any other (mapped there, it reads). */
    uintptr_t top = KS_USER_TOP - KS_PAGE_SIZE;
    long m = ks_memobj_create(KS_PAGE_SIZE);
    KT_ASSERT(m > 0);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)m, 0, top, KS_PAGE_SIZE,
                           KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED | KS_MAP_FIXED), (long)top);
    ks_handle_close((ks_handle_t)m);
    KT_EXPECT_EQ(ks_pipe_read(p[0], (void *)(KS_USER_TOP - 2), 2, 0), 2);
    KT_EXPECT(memcmp((void *)(KS_USER_TOP - 2), "ab", 2) == 0);
    UNMAP(top, KS_PAGE_SIZE);
    /* The out array must be writable; a refused create makes no handles. */
    KT_EXPECT_EQ(ks_pipe_create((ks_handle_t *)0x1000), KS_ERR_FAULT);
    KT_EXPECT_EQ(ks_pipe_create((ks_handle_t *)(KS_USER_TOP - 4)), KS_ERR_FAULT);
    close_pipe(p);
    EXPECT_SAME_KSTAT(&k);
}

static const struct ktest_case pipe_cases[] = {
    { "data_in_order", data_in_order },
    { "end_of_file_and_epipe", end_of_file_and_epipe },
    { "nonblocking_and_atomic", nonblocking_and_atomic },
    { "blocking_between_threads", blocking_between_threads },
    { "interrupted_waits", interrupted_waits },
    { "across_processes", across_processes },
    { "refused", refused },
};
KTEST_SUITE(pipe_suite, "pipe", pipe_cases);

/* upipe echo: copy the read end to the write end until end of file. */
static int echo(void)
{
    static uint8_t buf[8192];
    ks_handle_t in = ulib_inherited(0), out = ulib_inherited(1);
    long n;
    while ((n = ks_pipe_read(in, buf, sizeof buf, 0)) > 0)
        if (ks_pipe_write(out, buf, (size_t)n, 0) != n)
            return 2;
    return n == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "echo") == 0)
        return echo();
    memset(big, 0, sizeof big);                 /* their pages made before any baseline */
    memset(got, 0, sizeof got);
    struct uthread warm = thread_start(read_all_thread, 0);    /* and the tables under thread stacks */
    thread_finish(&warm);
    const struct ktest_suite *suites[] = { &pipe_suite };
    return ktest_run(suites, 1) ? 1 : 0;
}
