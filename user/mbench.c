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
#define _GNU_SOURCE         /* getdents */
#include <dirent.h>
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
#include "user/lib/ks.h"

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

/*
 * The ext2 figures ("mbench disk": init's word benchdisk, a boot with
 * tools/bench-disk-image's file system as "/"), each the loop ANCHORS.md's
 * Linux row runs on the same QEMU, disk and image. "Cold" is the first touch
 * since boot: nothing of the file or directory is in memory, and its blocks
 * come through the virtio driver.
 */

/*
 * A window that may wait for the disk. While the hart sleeps in the idle
 * loop, QEMU -icount jumps the virtual clock to its next timer, and rdinstret
 * counts the jump as instructions; the kernel counts that advance
 * (ks_kstat.idle_instret), and a window subtracts it: what remains is the
 * instructions executed, which is what tools/profile's trace counts.
 */
static uint64_t idle_instret(void)
{
    struct ks_kstat k;
    return ks_kstat(&k) == 0 ? k.idle_instret : 0;
}

struct window {
    uint64_t t0, idle0;
};

static inline void window_open(struct window *w)
{
    w->idle0 = idle_instret();
    w->t0 = instret();
}

static inline uint64_t window_close(const struct window *w)
{
    uint64_t t1 = instret();
    return t1 - w->t0 - (idle_instret() - w->idle0);
}

#define BENCH_BIG "/bench/big"
#define BENCH_DIR "/bench/dir"
enum { DIR_FILES = 1000, BIG_SIZE = 1 << 20 };

/* open, one read of the whole 1 MiB file, close: 0, or -1 on any failure. */
static int read_big(char *buf)
{
    int fd = open(BENCH_BIG, O_RDONLY);
    if (fd < 0)
        return -1;
    long got = read(fd, buf, BIG_SIZE);
    return close(fd) == 0 && got == BIG_SIZE ? 0 : -1;
}

/*
 * ext2_read_1m_cold (the file's first read since boot), then _warm (the same
 * again, its pages in memory): open + read 1 MiB + close, per byte. Every
 * measured window ends in a report (tools/profile ends a figure there), so
 * the cold read is measured only when its figure is wanted.
 */
static int bench_ext2_read(void)
{
    char *buf = malloc(BIG_SIZE);
    if (!buf)
        return fail("malloc 1 MiB");
    memset(buf, 0, BIG_SIZE);                 /* the buffer's pages, before measuring */
    struct window w;
    int cold = bench_wanted("ext2_read_1m_cold"), bad;
    if (cold)
        window_open(&w);
    bad = read_big(buf);
    uint64_t total = cold ? window_close(&w) : 0;
    if (bad)
        return fail("open+read+close " BENCH_BIG " (cold)");
    if (cold)
        report("ext2_read_1m_cold", total, BIG_SIZE, "insn/byte");
    long rounds = bench_n(4), measure = bench_wanted("ext2_read_1m_warm");
    if (measure)
        window_open(&w);
    for (long r = 0; r < rounds; r++)
        bad |= read_big(buf);
    uint64_t warm = measure ? window_close(&w) : 0;
    free(buf);
    if (bad)
        return fail("open+read+close " BENCH_BIG " (warm)");
    if (measure)
        report("ext2_read_1m_warm", warm - empty_loop(rounds), (uint64_t)rounds * BIG_SIZE, "insn/byte");
    return 0;
}

/*
 * The names of the 1,000-file directory's files, made before any loop is
 * measured; on the heap, since a larger bss would make every fork of the
 * main boot's figures copy more.
 */
static char (*dir_names)[24];

static int make_dir_names(void)
{
    if (!(dir_names = malloc(DIR_FILES * sizeof *dir_names)))
        return -1;
    for (int i = 0; i < DIR_FILES; i++)
        sprintf(dir_names[i], BENCH_DIR "/f%04d", i);
    return 0;
}

/* stat of every file of the 1,000-file directory in order, per stat (measured if wanted). */
static int bench_ext2_stat(const char *name)
{
    long n = bench_n(DIR_FILES), bad = 0, measure = bench_wanted(name);
    struct stat st;
    struct window w;
    if (measure)
        window_open(&w);
    for (long i = 0; i < n; i++)
        bad |= stat(dir_names[i], &st) != 0 || !S_ISREG(st.st_mode);
    uint64_t total = measure ? window_close(&w) : 0;
    if (bad)
        return fail("stat " BENCH_DIR "/fNNNN");
    if (measure)
        report(name, total - empty_loop(n), n, "insn/op");
    return 0;
}

/* Rewind, then getdents64 with a 32 KiB buffer to the directory's end; per pass, whole. */
static int bench_ext2_readdir(void)
{
    long rounds = bench_n(10), entries = 0, got = 0, measure = bench_wanted("ext2_readdir_1000");
    char *buf = malloc(32 << 10);
    int fd = open(BENCH_DIR, O_RDONLY | O_DIRECTORY);
    if (!buf || fd < 0)
        return fail("open " BENCH_DIR);
    struct window w;
    if (measure)
        window_open(&w);
    for (long r = 0; r < rounds; r++) {
        lseek(fd, 0, SEEK_SET);
        while ((got = getdents(fd, (struct dirent *)buf, 32 << 10)) > 0)
            for (long off = 0; off < got; off += ((struct dirent *)(buf + off))->d_reclen)
                entries++;
    }
    uint64_t total = measure ? window_close(&w) : 0;
    close(fd);
    free(buf);
    if (got < 0 || entries != rounds * (DIR_FILES + 2))
        return fail("getdents64 of " BENCH_DIR ": not 1,002 entries a pass");
    if (measure)
        report("ext2_readdir_1000", total - empty_loop(rounds), rounds, "insn/dir");
    return 0;
}

/* unlink the directory's files in order, per file (rm -r's work, as ANCHORS.md counts it). */
static int bench_ext2_unlink(void)
{
    long n = bench_n(DIR_FILES), bad = 0, measure = bench_wanted("ext2_unlink");
    struct window w;
    if (measure)
        window_open(&w);
    for (long i = 0; i < n; i++)
        bad |= unlink(dir_names[i]) != 0;
    uint64_t total = measure ? window_close(&w) : 0;
    if (bad)
        return fail("unlink " BENCH_DIR "/fNNNN");
    if (measure)
        report("ext2_unlink", total - empty_loop(n), n, "insn/file");
    return 0;
}

/* open(O_CREAT|O_EXCL), write 4 KiB, fsync, close; per file, each a new file in /bench/new. */
static int bench_ext2_create(void)
{
    enum { FILES = 100 };
    char (*names)[24] = malloc(FILES * sizeof *names), *block = malloc(4096);
    long n = bench_n(FILES), bad = 0;
    if (!names || !block)
        return fail("malloc");
    for (long i = 0; i < n; i++)
        sprintf(names[i], "/bench/new/c%04ld", i);
    memset(block, 'c', 4096);
    struct window w;
    window_open(&w);
    for (long i = 0; i < n; i++) {
        int fd = open(names[i], O_CREAT | O_EXCL | O_WRONLY, 0644);
        bad |= fd < 0 || write(fd, block, 4096) != 4096 || fsync(fd) != 0;
        bad |= close(fd) != 0;
    }
    uint64_t total = window_close(&w);
    free(names);
    free(block);
    if (bad)
        return fail("create+write 4 KiB+fsync+close in /bench/new");
    report("ext2_create_4k_fsync", total - empty_loop(n), n, "insn/file");
    return 0;
}

/*
 * The ext2 figures, in the order that keeps each one's "cold" cold. When
 * only= names one figure, the reads, stats and readdir still run (unmeasured
 * unless named), and the unlinks when the creates are named, so that a figure
 * profiled alone starts from the state it has in make bench's run (an unlink
 * finds the directory fsd read for the stats).
 */
static int bench_disk(void)
{
    int bad = 0;
    if (make_dir_names() < 0)
        return fail("malloc");
    bad |= bench_ext2_read();
    bad |= bench_ext2_stat("ext2_stat_cold") || bench_ext2_stat("ext2_stat_warm");
    bad |= bench_ext2_readdir();
    if (bench_wanted("ext2_unlink") || bench_wanted("ext2_create_4k_fsync"))
        bad |= bench_ext2_unlink();
    if (bench_wanted("ext2_create_4k_fsync"))
        bad |= bench_ext2_create();
    return bad;
}

int main(int argc, char **argv)
{
    int bad = 0;
    bench_options(argc, argv);
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "disk") == 0)
            return bench_disk();
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
