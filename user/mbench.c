/*
 * user/mbench.c - benchmarks of the POSIX layer (musl -> musl_emu -> kernel or
 * FS server), run by init when the bootargs say "bench".
 *
 * Like user/ubench.c: under `make bench` (QEMU -icount, one hart) rdinstret
 * counts guest instructions exactly, each figure is printed as
 * "bench NAME VALUE UNIT", and only the bare loop's cost is subtracted, so a
 * figure is the whole operation: musl, musl_emu, the kernel and (for the
 * console, open, stat) the FS server.
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BENCH_FLUSH() fflush(stdout)
#include "user/lib/bench.h"
#include "user/lib/ipc.h"

static int fail(const char *what)
{
    printf("mbench: %s failed\n", what);
    return 1;
}

/* write(fd, buf, 1) to a regular file: a view write in the kernel, no IPC. */
static int bench_write_file(void)
{
    long N = bench_n(2000);
    int fd = open("/tmp/bench-w", O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0)
        return fail("open /tmp/bench-w");
    char c = 'x';
    uint64_t t0 = instret();
    for (long i = 0; i < N; i++)
        if (write(fd, &c, 1) != 1)
            return fail("write to a file");
    uint64_t total = instret() - t0;
    close(fd);
    unlink("/tmp/bench-w");
    report("posix_write_file_1b", total - empty_loop(N), N, "insn/op");
    return 0;
}

/*
 * write of one byte to the console: one IPC round trip to the FS server, which
 * puts the byte in the UART. The bytes are spaces, ended by one newline.
 */
static int bench_write_console(const char *name)
{
    long N = bench_n(200);
    int fd = open("/dev/console", O_WRONLY);
    if (fd < 0)
        return fail("open /dev/console");
    char c = ' ';
    uint64_t t0 = instret();
    for (long i = 0; i < N; i++)
        if (write(fd, &c, 1) != 1)
            return fail("write to the console");
    uint64_t total = instret() - t0;
    write(fd, "\n", 1);
    close(fd);
    report(name, total - empty_loop(N), N, "insn/op");
    return 0;
}

/* The file bench_open_close opens and bench_stat looks at. */
static int make_bench_file(void)
{
    int fd = open("/tmp/bench-o", O_CREAT | O_WRONLY, 0644);
    if (fd < 0)
        return fail("create /tmp/bench-o");
    close(fd);
    return 0;
}

static int bench_open_close(void)
{
    long N = bench_n(500);
    uint64_t t0 = instret();
    for (long i = 0; i < N; i++) {
        int fd = open("/tmp/bench-o", O_RDONLY);
        if (fd < 0)
            return fail("open /tmp/bench-o");
        close(fd);
    }
    uint64_t total = instret() - t0;
    report("posix_open_close", total - empty_loop(N), N, "insn/op");
    return 0;
}

static int bench_stat(const char *name)
{
    long N = bench_n(500);
    struct stat st;
    uint64_t t0 = instret();
    for (long i = 0; i < N; i++)
        if (stat("/tmp/bench-o", &st) != 0)
            return fail("stat /tmp/bench-o");
    uint64_t total = instret() - t0;
    report(name, total - empty_loop(N), N, "insn/op");
    return 0;
}

/* read of a 1 MiB file in 64 KiB chunks, per byte (the file's pages exist already). */
static int bench_read_1m(void)
{
    enum { SIZE = 1 << 20, CHUNK = 64 << 10 };
    long ROUNDS = bench_n(4);
    char *buf = malloc(CHUNK);
    int fd = open("/tmp/bench-r", O_CREAT | O_TRUNC | O_RDWR, 0644);
    if (!buf || fd < 0)
        return fail("set up /tmp/bench-r");
    memset(buf, 'r', CHUNK);
    for (long off = 0; off < SIZE; off += CHUNK)
        if (write(fd, buf, CHUNK) != CHUNK)
            return fail("fill /tmp/bench-r");
    memset(buf, 0, CHUNK);              /* touch the buffer's pages before measuring */
    uint64_t total = 0;
    for (int r = 0; r < ROUNDS; r++) {
        lseek(fd, 0, SEEK_SET);
        uint64_t t0 = instret();
        for (long off = 0; off < SIZE; off += CHUNK)
            if (read(fd, buf, CHUNK) != CHUNK)
                return fail("read /tmp/bench-r");
        total += instret() - t0;
    }
    close(fd);
    unlink("/tmp/bench-r");
    free(buf);
    report("posix_read_1m", total - empty_loop(ROUNDS * (SIZE / CHUNK)), (uint64_t)ROUNDS * SIZE,
           "insn/byte");
    return 0;
}

/*
 * fork_exit_wait: fork, the child _exits at once, the parent waitpid()s it;
 * the whole of it (the child's run and exit, the kernel's copy-on-write copy
 * of this process, its teardown) as ANCHORS.md's Linux loop counts it.
 */
static int bench_fork_exit_wait(void)
{
    long N = bench_n(50);
    int st;
    uint64_t t0 = instret();
    for (long i = 0; i < N; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0)
            return fail("fork, _exit, waitpid");
    }
    uint64_t total = instret() - t0;
    report("fork_exit_wait", total - empty_loop(N), N, "insn/op");
    return 0;
}

/*
 * spawn_exit_wait: posix_spawn of /bin/mtrue (a static musl program that
 * returns 0 from main), then waitpid; the whole of it: musl's posix_spawn
 * (a copy-on-write fork here), execve in the child (open, load, the kernel's
 * exec), the program's own start-up and exit, and the reaping. ANCHORS.md's
 * Linux loop is the same posix_spawn of a static ELF, one that runs 3
 * instructions rather than a C program's start-up.
 */
static int bench_spawn_exit_wait(void)
{
    extern char **environ;
    long N = bench_n(20);
    int st;
    char *const argv[] = { "mtrue", NULL };
    uint64_t t0 = instret();
    for (long i = 0; i < N; i++) {
        pid_t pid;
        if (posix_spawn(&pid, "/bin/mtrue", NULL, NULL, argv, environ) != 0 ||
            waitpid(pid, &st, 0) != pid || st != 0)
            return fail("posix_spawn /bin/mtrue, waitpid");
    }
    uint64_t total = instret() - t0;
    report("spawn_exit_wait", total - empty_loop(N), N, "insn/op");
    return 0;
}

/*
 * Run busybox's sh with `sh -c script` N times, spawned and reaped as
 * spawn_exit_wait does: the instructions of all N. 0, or -1 if a run failed.
 */
static int sh_runs(const char *script, long n, uint64_t *total)
{
    extern char **environ;
    char *const argv[] = { "sh", "-c", (char *)script, NULL };
    int st;
    uint64_t t0 = instret();
    for (long i = 0; i < n; i++) {
        pid_t pid;
        if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0 ||
            waitpid(pid, &st, 0) != pid || st != 0)
            return -1;
    }
    *total = instret() - t0;
    return 0;
}

/*
 * sh_spawn: busybox's sh started with -c true, run and reaped: posix_spawn of
 * /bin/sh (a symbolic link to /bin/busybox), busybox's start-up, ash's
 * parsing and running of the builtin `true`, exit and waitpid. ANCHORS.md's
 * Linux row is the same loop with Debian's busybox-static.
 */
static int bench_sh_spawn(void)
{
    long N = bench_n(10);
    uint64_t total;
    if (sh_runs("true", N, &total) < 0)
        return fail("posix_spawn /bin/sh -c true, waitpid");
    report("sh_spawn", total - empty_loop(N), N, "insn/op");
    return 0;
}

/*
 * sh_loop_1000: a shell loop of 1,000 iterations (a test and an arithmetic
 * expansion each, both ash builtins), from spawn to reaping, as ANCHORS.md's
 * Linux row counts it.
 */
static int bench_sh_loop(void)
{
    long N = bench_n(1);     /* 19 million instructions: once is exact, and enough */
    uint64_t total;
    if (sh_runs("i=0; while [ $i -lt 1000 ]; do i=$((i+1)); done", N, &total) < 0)
        return fail("posix_spawn /bin/sh -c (a 1,000-iteration loop), waitpid");
    report("sh_loop_1000", total - empty_loop(N), N, "insn/op");
    return 0;
}

static volatile long handled;

static void count_signal(int sig)
{
    handled++;
}

/*
 * signal_rt: raise(SIGUSR1) with a handler installed, as the program sees it:
 * musl's raise (mask the application's signals, tkill, restore the mask),
 * the kernel's diversion at the mask call's return, musl_emu's upcall entry
 * (the handler's mask, the handler, the return to the interrupted state).
 */
static int bench_signal_rt(void)
{
    long N = bench_n(200);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_signal;
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        return fail("sigaction SIGUSR1");
    handled = 0;
    uint64_t t0 = instret();
    for (long i = 0; i < N; i++)
        raise(SIGUSR1);
    uint64_t total = instret() - t0;
    signal(SIGUSR1, SIG_DFL);
    if (handled != N)
        return fail("raise: the handler did not run every time");
    report("signal_rt", total - empty_loop(N), N, "insn/op");
    return 0;
}

int main(int argc, char **argv)
{
    int bad = 0;
    bench_options(argc, argv);
    if (bench_wanted("posix_write_file_1b"))
        bad |= bench_write_file();
    if (bench_wanted("posix_write_console_1b"))
        bad |= bench_write_console("posix_write_console_1b");
    bad |= make_bench_file();
    if (bench_wanted("posix_open_close"))
        bad |= bench_open_close();
    if (bench_wanted("posix_stat"))
        bad |= bench_stat("posix_stat");
    /* The same two with the IPC fast path switched off: what it is worth to a POSIX call. */
    ks_ipc_control(0, 0);
    if (bench_wanted("posix_write_console_1b_slowpath"))
        bad |= bench_write_console("posix_write_console_1b_slowpath");
    if (bench_wanted("posix_stat_slowpath"))
        bad |= bench_stat("posix_stat_slowpath");
    ks_ipc_control(1, 0);
    unlink("/tmp/bench-o");
    if (bench_wanted("posix_read_1m"))
        bad |= bench_read_1m();
    if (bench_wanted("fork_exit_wait"))
        bad |= bench_fork_exit_wait();
    if (bench_wanted("spawn_exit_wait"))
        bad |= bench_spawn_exit_wait();
    if (bench_wanted("sh_spawn"))
        bad |= bench_sh_spawn();
    if (bench_wanted("sh_loop_1000"))
        bad |= bench_sh_loop();
    if (bench_wanted("signal_rt"))
        bad |= bench_signal_rt();
    return bad;
}
