/*
 * user/mtest.c - the musl test program: checks, through plain POSIX and C
 * library calls, what musl_emu.c and the FS server give a musl program (stdio,
 * files, directories, mmap, malloc, pthreads, time, errno values, ENOSYS,
 * process ids). init runs it after the native suites when the bootargs say
 * "utest". It prints one KTAP stream ("KTAP version 1", "1..N", "# run: NAME"
 * before each case, then "ok N - NAME" or "not ok N - NAME # reason") and exits
 * 0 if every case passed, 1 otherwise.
 *
 * Cases that touch the file system work under /mtest, which main creates, and
 * remove what they made.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "musl_emu.h"
#include "user/lib/fsproto.h"
#include "user/lib/mcase.h"
#include "user/lib/ipc.h"
#include "user/lib/ks.h"

#define DIR_T "/mtest"
#define PAGE 4096

/* ---- helpers ---- */

static uint8_t pat(uint64_t i, unsigned seed) { return (uint8_t)(i * 31 + seed * 7 + (i >> 8)); }

static void fill(void *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)p)[i] = pat(i, seed);
}

/* Index of the first byte that differs from the pattern, or -1. */
static long first_bad(const void *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (((const uint8_t *)p)[i] != pat(i, seed))
            return (long)i;
    return -1;
}

static int all_zero(const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (((const uint8_t *)p)[i])
            return 0;
    return 1;
}

static uint64_t now_ns(clockid_t clk)
{
    struct timespec ts;
    if (clock_gettime(clk, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A new file with `len` pattern bytes; its fd (O_RDWR, offset at the end) or -1. */
static int make_file(const char *path, size_t len, unsigned seed)
{
    static uint8_t buf[8192];
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        FAIL("open(%s, O_CREAT) failed: errno %d", path, errno);
        return -1;
    }
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof buf ? len - done : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = pat(done + i, seed);
        ssize_t w = write(fd, buf, n);
        if (w != (ssize_t)n) {
            FAIL("write(%s) gave %zd of %zu: errno %d", path, w, n, errno);
            close(fd);
            return -1;
        }
        done += n;
    }
    return fd;
}

/* Read all of path into buf (up to cap); the length or -1. */
static long slurp(const char *path, void *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, (char *)buf + got, cap - got);
        if (r < 0) {
            close(fd);
            return -1;
        }
        if (r == 0 || (got += (size_t)r) == cap)
            break;
    }
    close(fd);
    return (long)got;
}

/* Bytes the console has written so far (the FS server's count), or -1. */
static long console_bytes(void)
{
    uint64_t w[KS_IPC_WORDS] = { FS_OP_STATS };
    ks_handle_t root = musl_emu_fs_root();
    if (!root || ks_ipc_call(root, NULL, w, NULL) != 0 || (int64_t)w[0] < 0)
        return -1;
    return (long)w[1];
}

/* ---- stdio ---- */

static void stdio_snprintf_ints_strings(void)
{
    char buf[200];
    int n = snprintf(buf, sizeof buf, "%d|%5d|%-4d|%05d|%ld|%u|%x|%X|%#x|%o|%s|%.3s|%8s|%c|%%",
                     -42, 17, 3, -12, 1234567890123L, 4000000000u, 0xbeefu, 0xbeefu, 255u, 8u,
                     "str", "abcdef", "right", 'Z');
    const char *want = "-42|   17|3   |-0012|1234567890123|4000000000|beef|BEEF|0xff|10|str|abc|   right|Z|%";
    CHECK_STR(buf, want);
    CHECK_EQ(n, strlen(want));
    /* Truncation: the return value is the length it would have had. */
    volatile size_t small = 8;                  /* (hidden from the compiler's checks) */
    n = snprintf(buf, small, "%s-%d", "hello world", 99);
    CHECK_EQ(n, 14);
    CHECK_STR(buf, "hello w");
    CHECK_EQ(snprintf(NULL, 0, "%lu", 18446744073709551615ul), 20);
    CHECK_EQ(snprintf(buf, sizeof buf, "%p", (void *)0x1234), 6);
    CHECK_STR(buf, "0x1234");
    /* A format of one integer conversion alone takes vsnprintf's short way: the same results. */
    CHECK_EQ(snprintf(buf, sizeof buf, "%ld", -9223372036854775807L - 1), 20);
    CHECK_STR(buf, "-9223372036854775808");
    CHECK_EQ(snprintf(buf, sizeof buf, "%d", -2147483647 - 1), 11);
    CHECK_STR(buf, "-2147483648");
    CHECK_EQ(snprintf(buf, sizeof buf, "%u", 4294967295u), 10);
    CHECK_STR(buf, "4294967295");
    CHECK_EQ(snprintf(buf, sizeof buf, "%llu", 18446744073709551615ull), 20);
    CHECK_STR(buf, "18446744073709551615");
    CHECK_EQ(snprintf(buf, sizeof buf, "%jd", (intmax_t)0), 1);
    CHECK_STR(buf, "0");
    CHECK_EQ(snprintf(buf, sizeof buf, "%zd", (ssize_t)-5), 2);
    CHECK_STR(buf, "-5");
    CHECK_EQ(snprintf(buf, sizeof buf, "%i", 1000), 4);
    CHECK_STR(buf, "1000");
    n = snprintf(buf, small, "%ld", 123456789012L);            /* cut short, NUL-terminated */
    CHECK_EQ(n, 12);
    CHECK_STR(buf, "1234567");
    CHECK_EQ(snprintf(NULL, 0, "%d", -1), 2);
    memset(buf, 'x', 4);
    volatile size_t one = 1;
    CHECK_EQ(snprintf(buf, one, "%d", 7), 1);
    CHECK_EQ(buf[0], 0);
    CHECK_EQ(snprintf(buf, sizeof buf, "%ld!", 5L), 2);          /* more than one conversion: the long way */
    CHECK_STR(buf, "5!");
    CHECK_EQ(snprintf(buf, sizeof buf, "%5ld", 5L), 5);
    CHECK_STR(buf, "    5");
    CHECK_EQ(sprintf(buf, "%ld", 42L), 2);
    CHECK_STR(buf, "42");
}

static void stdio_snprintf_double(void)
{
    char buf[120];
    volatile double third = 1.0, big = 1.5e10, neg = -2.75;
    third /= 3.0;
    snprintf(buf, sizeof buf, "%f|%.3f|%.0f|%e|%g|%g|%8.2f", third, 3.14159265, 2.5, big, 0.0001,
             100000.0 * 10, neg);
    CHECK_STR(buf, "0.333333|3.142|2|1.500000e+10|0.0001|1e+06|   -2.75");
    double back = strtod("2.71828", NULL);
    CHECK(back > 2.71827 && back < 2.71829);
    snprintf(buf, sizeof buf, "%.5f", back * 2);
    CHECK_STR(buf, "5.43656");
}

static void stdio_printf_returns_length(void)
{
    const char *word = "stdout";
    int n = printf("# printf to %s, %d bytes\n", word, 29);
    CHECK_EQ(n, (int)strlen("# printf to stdout, 29 bytes\n"));
    CHECK_EQ(fflush(stdout), 0);
}

static void stdio_fprintf_stderr_length(void)
{
    fflush(stdout);
    int n = fprintf(stderr, "# fprintf to stderr: %s %d\n", "value", 12345);
    CHECK_EQ(n, (int)strlen("# fprintf to stderr: value 12345\n"));
    CHECK_EQ(fflush(stderr), 0);
    CHECK(!ferror(stderr));
}

static void stdio_console_is_tty(void)
{
    struct stat st;
    CHECK_EQ(isatty(1), 1);
    CHECK_EQ(isatty(2), 1);
    CHECK_EQ(fstat(1, &st), 0);
    CHECK(S_ISCHR(st.st_mode));
    int fd = open("/dev/console", O_WRONLY);
    REQUIRE(fd >= 0);
    CHECK_EQ(isatty(fd), 1);
    CHECK_EQ(write(fd, "# console write\n", 16), 16);
    close(fd);
    fd = open("/etc/motd", O_RDONLY);
    REQUIRE(fd >= 0);
    errno = 0;
    CHECK_EQ(isatty(fd), 0);
    CHECK_EQ(errno, ENOTTY);
    close(fd);
}

/* writev: a length that is negative as an ssize_t is EINVAL (not a copy that runs off). */
static void stdio_writev_bad_length(void)
{
    char ok[] = "# writev\n";
    struct iovec iov[2] = { { ok, 2 }, { ok, (size_t)-1 } };
    CHECK_ERR(writev(1, iov, 2), EINVAL);
    iov[1].iov_len = (size_t)SSIZE_MAX + 1;
    CHECK_ERR(writev(1, iov, 2), EINVAL);
    iov[0].iov_len = sizeof ok - 1;
    iov[1].iov_len = 0;
    CHECK_EQ(writev(1, iov, 2), sizeof ok - 1);
}

static void stdio_file_write_read_back(void)
{
    const char *path = DIR_T "/stdio.txt";
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    CHECK_EQ(fprintf(f, "line %d: %s\n", 1, "first"), (int)strlen("line 1: first\n"));
    char block[3000];
    memset(block, 'x', sizeof block - 2);
    block[sizeof block - 2] = '\n';
    block[sizeof block - 1] = 0;
    CHECK_EQ(fwrite(block, 1, strlen(block), f), strlen(block));
    CHECK_EQ(fputs("last line\n", f) >= 0, 1);
    CHECK_EQ(fflush(f), 0);
    CHECK_EQ(fclose(f), 0);

    struct stat st;
    CHECK_EQ(stat(path, &st), 0);
    CHECK_EQ(st.st_size, strlen("line 1: first\n") + strlen(block) + strlen("last line\n"));

    f = fopen(path, "r");
    REQUIRE(f != NULL);
    char line[4000];
    CHECK_STR(fgets(line, sizeof line, f), "line 1: first\n");
    CHECK(fgets(line, sizeof line, f) && strcmp(line, block) == 0);
    CHECK_STR(fgets(line, sizeof line, f), "last line\n");
    CHECK(fgets(line, sizeof line, f) == NULL);
    CHECK(feof(f));
    CHECK_EQ(fclose(f), 0);

    /* "a" appends; fseek/ftell agree with what is in the file. */
    f = fopen(path, "a+");
    REQUIRE(f != NULL);
    CHECK_EQ(fputs("appended\n", f) >= 0, 1);
    CHECK_EQ(fseek(f, 0, SEEK_END), 0);
    CHECK_EQ(ftell(f), st.st_size + 9);
    CHECK_EQ(fseek(f, 5, SEEK_SET), 0);
    CHECK_EQ(fgetc(f), '1');
    CHECK_EQ(fclose(f), 0);
    CHECK_EQ(unlink(path), 0);
}

/* ---- files ---- */

static void files_create_excl(void)
{
    const char *path = DIR_T "/excl";
    unlink(path);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
    REQUIRE(fd >= 0);
    CHECK_ERR(open(path, O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST);
    /* Without O_EXCL the same create opens the existing file. */
    CHECK_EQ(write(fd, "abc", 3), 3);
    int fd2 = open(path, O_RDWR | O_CREAT, 0644);
    CHECK(fd2 >= 0);
    char b[4] = { 0 };
    CHECK_EQ(read(fd2, b, 3), 3);
    CHECK_STR(b, "abc");
    close(fd2);
    close(fd);
    CHECK_EQ(unlink(path), 0);
}

static void files_write_read_back(void)
{
    const char *path = DIR_T "/rw";
    enum { LEN = 20000 };
    static uint8_t buf[LEN + 10];
    int fd = make_file(path, LEN, 3);
    REQUIRE(fd >= 0);
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    memset(buf, 0, sizeof buf);
    size_t got = 0;
    ssize_t r;
    while ((r = read(fd, buf + got, sizeof buf - got)) > 0)
        got += (size_t)r;
    CHECK_EQ(r, 0);
    CHECK_EQ(got, LEN);
    CHECK_EQ(first_bad(buf, LEN, 3), -1);
    CHECK_EQ(read(fd, buf, 10), 0);         /* at the end */
    /* Another open sees the same bytes. */
    memset(buf, 0, sizeof buf);
    CHECK_EQ(slurp(path, buf, sizeof buf), LEN);
    CHECK_EQ(first_bad(buf, LEN, 3), -1);
    close(fd);
    CHECK_EQ(unlink(path), 0);
}

static void files_lseek(void)
{
    const char *path = DIR_T "/seek";
    int fd = make_file(path, 5000, 4);
    REQUIRE(fd >= 0);
    uint8_t b[16];
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5000);
    CHECK_EQ(lseek(fd, 100, SEEK_SET), 100);
    CHECK_EQ(read(fd, b, 4), 4);
    CHECK_EQ(b[0], pat(100, 4));
    CHECK_EQ(b[3], pat(103, 4));
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 104);
    CHECK_EQ(lseek(fd, -50, SEEK_CUR), 54);
    CHECK_EQ(read(fd, b, 1), 1);
    CHECK_EQ(b[0], pat(54, 4));
    CHECK_EQ(lseek(fd, 0, SEEK_END), 5000);
    CHECK_EQ(lseek(fd, -10, SEEK_END), 4990);
    CHECK_EQ(read(fd, b, 16), 10);
    CHECK_EQ(b[9], pat(4999, 4));
    CHECK_ERR(lseek(fd, -1, SEEK_SET), EINVAL);
    CHECK_ERR(lseek(fd, -6000, SEEK_END), EINVAL);
    CHECK_ERR(lseek(fd, 0, 7), EINVAL);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5000);     /* failed seeks moved nothing */
    /* Past the end: the gap reads as zeros once something is written after it. */
    CHECK_EQ(lseek(fd, 6000, SEEK_SET), 6000);
    CHECK_EQ(write(fd, "Q", 1), 1);
    struct stat st;
    CHECK_EQ(fstat(fd, &st), 0);
    CHECK_EQ(st.st_size, 6001);
    static uint8_t gap[1001];
    CHECK_EQ(lseek(fd, 5000, SEEK_SET), 5000);
    CHECK_EQ(read(fd, gap, sizeof gap), 1001);
    CHECK(all_zero(gap, 1000));
    CHECK_EQ(gap[1000], 'Q');
    close(fd);
    CHECK_EQ(unlink(path), 0);
}

static void files_ftruncate(void)
{
    const char *path = DIR_T "/trunc";
    static uint8_t buf[9000];
    int fd = make_file(path, 5000, 5);
    REQUIRE(fd >= 0);
    struct stat st;
    CHECK_EQ(ftruncate(fd, 100), 0);
    CHECK_EQ(fstat(fd, &st), 0);
    CHECK_EQ(st.st_size, 100);
    CHECK_EQ(stat(path, &st), 0);
    CHECK_EQ(st.st_size, 100);
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    CHECK_EQ(read(fd, buf, sizeof buf), 100);
    CHECK_EQ(first_bad(buf, 100, 5), -1);
    /* Growing again: what was cut off must come back as zeros, not old bytes. */
    CHECK_EQ(ftruncate(fd, 8192), 0);
    CHECK_EQ(fstat(fd, &st), 0);
    CHECK_EQ(st.st_size, 8192);
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    memset(buf, 0xee, sizeof buf);
    CHECK_EQ(read(fd, buf, sizeof buf), 8192);
    CHECK_EQ(first_bad(buf, 100, 5), -1);
    CHECK(all_zero(buf + 100, 8192 - 100));
    CHECK_EQ(ftruncate(fd, 0), 0);
    CHECK_EQ(fstat(fd, &st), 0);
    CHECK_EQ(st.st_size, 0);
    CHECK_ERR(ftruncate(fd, -1), EINVAL);
    close(fd);
    /* O_TRUNC empties an existing file. */
    fd = make_file(path, 300, 5);
    close(fd);
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0);
    CHECK_EQ(stat(path, &st), 0);
    CHECK_EQ(st.st_size, 0);
    close(fd);
    CHECK_EQ(unlink(path), 0);
}

static void files_unlink_keeps_open_fd(void)
{
    const char *path = DIR_T "/unlinkme";
    uint8_t buf[3000];
    int fd = make_file(path, 3000, 6);
    REQUIRE(fd >= 0);
    CHECK_EQ(unlink(path), 0);
    CHECK_ERR(open(path, O_RDONLY), ENOENT);
    struct stat st;
    CHECK_ERR(stat(path, &st), ENOENT);
    CHECK_ERR(unlink(path), ENOENT);
    /* The open fd still has the file. */
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    CHECK_EQ(read(fd, buf, sizeof buf), 3000);
    CHECK_EQ(first_bad(buf, 3000, 6), -1);
    CHECK_EQ(fstat(fd, &st), 0);
    CHECK_EQ(st.st_size, 3000);
    CHECK_EQ(write(fd, "more", 4), 4);
    /* A new file of the same name is a different file. */
    int fd2 = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
    CHECK(fd2 >= 0);
    CHECK_EQ(read(fd2, buf, 10), 0);
    close(fd2);
    close(fd);
    CHECK_EQ(unlink(path), 0);
}

/* /dev/console cannot be removed or replaced (fsd answers its fstat from the node). */
static void files_console_stays(void)
{
    struct stat st;
    CHECK_ERR(unlink("/dev/console"), EBUSY);
    int fd = open(DIR_T "/notconsole", O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    close(fd);
    CHECK_ERR(rename(DIR_T "/notconsole", "/dev/console"), EBUSY);
    CHECK_EQ(unlink(DIR_T "/notconsole"), 0);
    CHECK_EQ(stat("/dev/console", &st), 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK_EQ(fstat(1, &st), 0);
    CHECK(S_ISCHR(st.st_mode));
}

static void files_rename(void)
{
    const char *a = DIR_T "/ren_a", *b = DIR_T "/ren_b", *c = DIR_T "/ren_c";
    char buf[32];
    unlink(b);
    unlink(c);
    int fd = open(a, O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    CHECK_EQ(write(fd, "alpha", 5), 5);
    close(fd);
    CHECK_EQ(rename(a, b), 0);
    CHECK_ERR(open(a, O_RDONLY), ENOENT);
    memset(buf, 0, sizeof buf);
    CHECK_EQ(slurp(b, buf, sizeof buf), 5);
    CHECK_STR(buf, "alpha");
    /* Over an existing file: it is replaced. */
    fd = open(c, O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    CHECK_EQ(write(fd, "gamma-longer", 12), 12);
    close(fd);
    CHECK_EQ(rename(b, c), 0);
    CHECK_ERR(open(b, O_RDONLY), ENOENT);
    memset(buf, 0, sizeof buf);
    CHECK_EQ(slurp(c, buf, sizeof buf), 5);
    CHECK_STR(buf, "alpha");
    CHECK_ERR(rename(a, b), ENOENT);
    CHECK_EQ(unlink(c), 0);
}

static void files_stat_sizes(void)
{
    const char *path = DIR_T "/stat";
    int fd = make_file(path, 1234, 7);
    REQUIRE(fd >= 0);
    struct stat fs, ps;
    CHECK_EQ(fstat(fd, &fs), 0);
    CHECK_EQ(stat(path, &ps), 0);
    CHECK(S_ISREG(fs.st_mode));
    CHECK(S_ISREG(ps.st_mode));
    CHECK_EQ(fs.st_size, 1234);
    CHECK_EQ(ps.st_size, 1234);
    CHECK_EQ(fs.st_ino, ps.st_ino);
    CHECK(fs.st_ino != 0);
    CHECK_EQ(write(fd, "x", 1), 1);
    CHECK_EQ(stat(path, &ps), 0);
    CHECK_EQ(ps.st_size, 1235);
    close(fd);
    /* Another file has another inode. */
    struct stat other;
    CHECK_EQ(stat("/etc/motd", &other), 0);
    CHECK(other.st_ino != ps.st_ino);
    CHECK_EQ(unlink(path), 0);
}

/*
 * Paths of up to FS_PATH_INLINE_MAX bytes travel in registers, longer ones in
 * the buffer: create, stat, mkdir and unlink behave the same on both sides
 * of the boundary (39, 40 and 41 bytes, and a relative path).
 */
static void files_inline_path_boundary(void)
{
    for (size_t len = FS_PATH_INLINE_MAX - 1; len <= FS_PATH_INLINE_MAX + 1; len++) {
        char path[64], dir[64];
        memset(path, 'p', len);
        memcpy(path, DIR_T "/", sizeof DIR_T);
        path[len] = 0;
        int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
        REQUIRE(fd >= 0);
        CHECK_EQ(write(fd, "abc", 3), 3);
        close(fd);
        struct stat st;
        CHECK_EQ(stat(path, &st), 0);
        CHECK_EQ(st.st_size, 3);
        CHECK(S_ISREG(st.st_mode));
        CHECK_ERR(open(path, O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
        CHECK_EQ(unlink(path), 0);
        CHECK_ERR(stat(path, &st), ENOENT);
        memcpy(dir, path, len + 1);
        dir[len - 1] = 'd';
        CHECK_EQ(mkdir(dir, 0755), 0);
        CHECK_EQ(stat(dir, &st), 0);
        CHECK(S_ISDIR(st.st_mode));
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);        /* its path kept for openat */
        REQUIRE(dfd >= 0);
        int f = openat(dfd, "f", O_CREAT | O_EXCL | O_WRONLY, 0644);
        CHECK(f >= 0);
        close(f);
        char in_dir[80];
        snprintf(in_dir, sizeof in_dir, "%s/f", dir);
        CHECK_EQ(stat(in_dir, &st), 0);
        CHECK_EQ(unlinkat(dfd, "f", 0), 0);
        close(dfd);
        CHECK_EQ(rmdir(dir), 0);
    }
    int dfd = open(DIR_T, O_RDONLY | O_DIRECTORY);
    REQUIRE(dfd >= 0);
    CHECK_EQ(mkdirat(dfd, "rel", 0755), 0);     /* relative: made absolute, then inline */
    struct stat st;
    CHECK_EQ(stat(DIR_T "/rel", &st), 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK_EQ(fstatat(dfd, "rel", &st, 0), 0);
    CHECK(S_ISDIR(st.st_mode));
    /* longer than the registers as written, short once made absolute */
    CHECK_EQ(stat(DIR_T "/./././././././././././././././././././rel", &st), 0);
    CHECK(S_ISDIR(st.st_mode));
    int rfd = open(DIR_T "/./././././././././././././././././././rel", O_RDONLY | O_DIRECTORY);
    CHECK(rfd >= 0);
    close(rfd);
    CHECK_EQ(unlinkat(dfd, "rel", AT_REMOVEDIR), 0);
    close(dfd);
}

/*
 * fsd resolves a plain absolute path (names one slash apart, no link) without
 * its general walk, and hands the rest of any other path to the walk from
 * where the plain part ended: links on the way (relative and absolute
 * targets), a link at the end (followed or not), a missing component,
 * creation through a path and through a dangling link, a file used as a
 * directory, and "//", "." and ".." must all come out as before.
 */
static void files_walk_plain_and_rest(void)
{
    struct stat st;
    CHECK_OK(mkdir(DIR_T "/wp", 0755));
    CHECK_OK(mkdir(DIR_T "/wp/real", 0755));
    int fd = open(DIR_T "/wp/real/f", O_CREAT | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    CHECK_EQ(write(fd, "xy", 2), 2);
    close(fd);
    CHECK_OK(symlink("real", DIR_T "/wp/rel"));
    CHECK_OK(symlink(DIR_T "/wp/real", DIR_T "/wp/abs"));
    CHECK_OK(stat(DIR_T "/wp/rel/f", &st));
    CHECK_EQ(st.st_size, 2);
    CHECK_OK(stat(DIR_T "/wp/abs/f", &st));
    CHECK_EQ(st.st_size, 2);
    CHECK_OK(lstat(DIR_T "/wp/rel", &st));
    CHECK(S_ISLNK(st.st_mode));
    CHECK_OK(stat(DIR_T "/wp/rel", &st));
    CHECK(S_ISDIR(st.st_mode));
    fd = open(DIR_T "/wp/rel/new", O_CREAT | O_EXCL | O_WRONLY, 0644);
    CHECK(fd >= 0);
    close(fd);
    CHECK_OK(stat(DIR_T "/wp/real/new", &st));
    CHECK_ERR(stat(DIR_T "/wp/real/missing", &st), ENOENT);
    CHECK_ERR(stat(DIR_T "/wp/missing/f", &st), ENOENT);
    CHECK_ERR(stat(DIR_T "/wp/real/f/x", &st), ENOTDIR);
    CHECK_ERR(stat(DIR_T "/wp/real/f/", &st), ENOTDIR);
    CHECK_OK(stat(DIR_T "/wp//real/./f", &st));
    CHECK_EQ(st.st_size, 2);
    CHECK_OK(stat(DIR_T "/wp/real/../real/f", &st));
    CHECK_OK(stat(DIR_T "/wp/real/", &st));
    CHECK(S_ISDIR(st.st_mode));
    CHECK_OK(symlink("nowhere", DIR_T "/wp/dang"));
    fd = open(DIR_T "/wp/dang", O_CREAT | O_WRONLY, 0644);     /* makes the link's target */
    CHECK(fd >= 0);
    close(fd);
    CHECK_OK(stat(DIR_T "/wp/nowhere", &st));
    CHECK(S_ISREG(st.st_mode));
    static const char *const gone[] = { "dang", "nowhere", "rel", "abs", "real/new", "real/f" };
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++) {
        char p[64];
        snprintf(p, sizeof p, DIR_T "/wp/%s", gone[i]);
        CHECK_OK(unlink(p));
    }
    CHECK_OK(rmdir(DIR_T "/wp/real"));
    CHECK_OK(rmdir(DIR_T "/wp"));
}

/*
 * Malformed inline-path requests to the FS server's root port are refused
 * with -EINVAL and the server keeps serving: a length beyond the registers,
 * and an inline path with a buffer as well.
 */
static void files_inline_path_malformed(void)
{
    ks_handle_t root = musl_emu_fs_root();
    REQUIRE(root != 0);
    uint64_t w[KS_IPC_WORDS] = { FS_OP_STAT | FS_PATH_INLINE | (uint64_t)(FS_PATH_INLINE_MAX + 1)
                                 << FS_PATH_INLINE_SHIFT };
    memcpy(&w[3], "/etc/motd", 9);
    CHECK_EQ(ks_ipc_call(root, NULL, w, NULL), 0);
    CHECK_EQ((int64_t)w[0], -EINVAL);
    uint64_t v[KS_IPC_WORDS] = { FS_OP_STAT | FS_PATH_INLINE | 9ull << FS_PATH_INLINE_SHIFT };
    memcpy(&v[3], "/etc/motd", 9);
    struct ks_ipc_desc d = { .send_buf = "/etc/motd", .send_len = 9 };
    CHECK_EQ(ks_ipc_call(root, &d, v, NULL), 0);
    CHECK_EQ((int64_t)v[0], -EINVAL);
    uint64_t u[KS_IPC_WORDS] = { FS_OP_STAT | FS_PATH_INLINE | 9ull << FS_PATH_INLINE_SHIFT };
    memcpy(&u[3], "/etc/motd", 9);
    CHECK_EQ(ks_ipc_call(root, NULL, u, NULL), 0);
    CHECK_EQ((int64_t)u[0], 0);                 /* well formed: served */
    struct stat st;
    CHECK_EQ(stat("/etc/motd", &st), 0);
    CHECK_EQ(u[1], st.st_ino);                  /* struct fs_stat starts with the inode */
}

/* One request to fsd's root port with a buffer and at most one moved handle; fsd's status. */
static int64_t fs_request(uint64_t w[KS_IPC_WORDS], const char *buf, size_t len, long handle)
{
    struct ks_ipc_desc d = { .send_buf = buf, .send_len = len };
    if (handle > 0) {
        d.send_handles[0] = (ks_handle_t)handle;
        d.send_handle_flags[0] = KS_IPC_HANDLE_MOVE;
        d.send_nhandles = 1;
    }
    long r = ks_ipc_call(musl_emu_fs_root(), &d, w, NULL);
    return r < 0 ? r : (int64_t)w[0];
}

/*
 * The requests the shell work added to fsd, malformed: symlink, readlink and
 * joining the console each refuse what they cannot use, and fsd serves on.
 */
static void files_new_ops_malformed(void)
{
    REQUIRE(musl_emu_fs_root() != 0);
    uint64_t w[KS_IPC_WORDS] = { FS_OP_SYMLINK, 99 };          /* target longer than what came */
    CHECK_EQ(fs_request(w, "/x" DIR_T "/l", 8, 0), -EINVAL);
    uint64_t w0[KS_IPC_WORDS] = { FS_OP_SYMLINK, 0 };          /* empty target */
    CHECK_EQ(fs_request(w0, DIR_T "/l", strlen(DIR_T "/l"), 0), -ENOENT);
    uint64_t wn[KS_IPC_WORDS] = { FS_OP_SYMLINK, 3 };          /* a NUL inside the target */
    CHECK_EQ(fs_request(wn, "a\0b" DIR_T "/l", 3 + strlen(DIR_T "/l"), 0), -EINVAL);
    uint64_t r[KS_IPC_WORDS] = { FS_OP_READLINK };             /* not a link */
    CHECK_EQ(fs_request(r, "/etc/motd", 9, 0), -EINVAL);
    uint64_t j0[KS_IPC_WORDS] = { FS_OP_TTYJOIN, 0, 5 };       /* pid 0 */
    CHECK_EQ(fs_request(j0, NULL, 0, 0), -EINVAL);
    uint64_t j1[KS_IPC_WORDS] = { FS_OP_TTYJOIN, (uint64_t)getpid(), 5 };   /* no handle */
    CHECK_EQ(fs_request(j1, NULL, 0, 0), -EINVAL);
    long mo = ks_memobj_create(KS_PAGE_SIZE);                  /* a handle, but no process */
    REQUIRE(mo > 0);
    uint64_t j2[KS_IPC_WORDS] = { FS_OP_TTYJOIN, (uint64_t)getpid(), 5 };
    CHECK_EQ(fs_request(j2, NULL, 0, mo), -EINVAL);
    long self = ks_handle_duplicate(KS_PROCESS_SELF, KS_RIGHT_SIGNAL | KS_RIGHT_TRANSFER);
    REQUIRE(self > 0);                                          /* a process without WAIT and READ */
    uint64_t j3[KS_IPC_WORDS] = { FS_OP_TTYJOIN, (uint64_t)getpid(), 5 };
    CHECK_EQ(fs_request(j3, NULL, 0, self), -EINVAL);
    long idle = ks_process_create("idle", 4);                  /* a process that never runs */
    REQUIRE(idle > 0);
    uint64_t j4[KS_IPC_WORDS] = { FS_OP_TTYJOIN, 77777, 5 };
    CHECK_EQ(fs_request(j4, NULL, 0, idle), -ESRCH);
    struct stat st;
    CHECK_EQ(stat("/etc/motd", &st), 0);                        /* fsd still serves */
}

/* The console's termios and window-size requests refuse what they do not know. */
static void stdio_console_requests_malformed(void)
{
    struct termios t;
    REQUIRE(tcgetattr(1, &t) == 0);
    CHECK_ERR(ioctl(1, TCFLSH, 7), EINVAL);
    CHECK_ERR(ioctl(1, 0x54ff, 0), ENOTTY);
    struct winsize ws = { .ws_row = 30, .ws_col = 90 };
    CHECK_EQ(ioctl(1, TIOCSWINSZ, &ws), 0);
    struct winsize got = { 0 };
    CHECK_EQ(ioctl(1, TIOCGWINSZ, &got), 0);
    CHECK(got.ws_row == 30 && got.ws_col == 90);
    ws = (struct winsize){ .ws_row = 24, .ws_col = 80 };
    CHECK_EQ(ioctl(1, TIOCSWINSZ, &ws), 0);
    CHECK_EQ(tcsetattr(1, TCSANOW, &t), 0);
}

static void files_append(void)
{
    const char *path = DIR_T "/append";
    char buf[32];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    CHECK_EQ(write(fd, "0123456789", 10), 10);
    close(fd);
    fd = open(path, O_WRONLY | O_APPEND);
    REQUIRE(fd >= 0);
    CHECK_EQ(write(fd, "abc", 3), 3);
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    CHECK_EQ(write(fd, "def", 3), 3);           /* still at the end */
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 16);
    /* Another writer extends the file; the appender follows the new end. */
    int other = open(path, O_WRONLY);
    CHECK(other >= 0);
    CHECK_EQ(lseek(other, 0, SEEK_END), 16);
    CHECK_EQ(write(other, "XY", 2), 2);
    close(other);
    CHECK_EQ(write(fd, "!", 1), 1);
    close(fd);
    memset(buf, 0, sizeof buf);
    CHECK_EQ(slurp(path, buf, sizeof buf), 19);
    CHECK_STR(buf, "0123456789abcdefXY!");
    CHECK_EQ(unlink(path), 0);
}

static void files_dup_shares_offset(void)
{
    const char *path = DIR_T "/dup";
    uint8_t b[8];
    int fd = make_file(path, 100, 8);
    REQUIRE(fd >= 0);
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    int d = dup(fd);
    REQUIRE(d >= 0);
    CHECK(d != fd);
    CHECK_EQ(read(fd, b, 3), 3);
    CHECK_EQ(lseek(d, 0, SEEK_CUR), 3);
    CHECK_EQ(read(d, b, 2), 2);
    CHECK_EQ(b[0], pat(3, 8));
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5);
    CHECK_EQ(dup2(fd, 20), 20);
    CHECK_EQ(lseek(20, 10, SEEK_CUR), 15);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 15);
    CHECK_EQ(dup2(20, 20), 20);
    /* dup2 onto an open fd closes what was there. */
    int e = open("/etc/motd", O_RDONLY);
    CHECK(e >= 0);
    CHECK_EQ(dup2(fd, e), e);
    CHECK_EQ(lseek(e, 0, SEEK_CUR), 15);
    close(e);
    /* Closing the original leaves the copies working. */
    close(fd);
    CHECK_EQ(read(d, b, 1), 1);
    CHECK_EQ(b[0], pat(15, 8));
    CHECK_EQ(lseek(20, 0, SEEK_CUR), 16);
    CHECK_EQ(close(20), 0);
    CHECK_EQ(close(d), 0);
    CHECK_ERR(dup(d), EBADF);
    CHECK_ERR(dup2(d, 30), EBADF);
    CHECK_EQ(unlink(path), 0);
}

static void files_fcntl_flags(void)
{
    const char *path = DIR_T "/fcntl";
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    int fl = fcntl(fd, F_GETFL);
    CHECK(fl >= 0);
    CHECK_EQ(fl & O_ACCMODE, O_RDWR);
    CHECK_EQ(fl & O_APPEND, 0);
    CHECK_EQ(fcntl(fd, F_SETFL, fl | O_APPEND), 0);
    CHECK_EQ(fcntl(fd, F_GETFL) & (O_APPEND | O_ACCMODE), O_APPEND | O_RDWR);
    CHECK_EQ(fcntl(fd, F_GETFD), 0);
    CHECK_EQ(fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
    CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(fcntl(fd, F_SETFD, 0), 0);
    CHECK_EQ(fcntl(fd, F_GETFD), 0);
    int r = open(path, O_RDONLY | O_CLOEXEC);
    CHECK(r >= 0);
    CHECK_EQ(fcntl(r, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(fcntl(r, F_GETFL) & O_ACCMODE, O_RDONLY);
    CHECK_ERR(fcntl(r, F_DUPFD, -1), EINVAL);
    CHECK_ERR(fcntl(r, F_DUPFD_CLOEXEC, 1 << 20), EINVAL);
    int d = fcntl(r, F_DUPFD, 40);
    CHECK(d >= 40);
    CHECK_EQ(fcntl(d, F_GETFD), 0);             /* a dup never inherits FD_CLOEXEC */
    close(d);
    close(r);
    int w = open(path, O_WRONLY);
    CHECK_EQ(fcntl(w, F_GETFL) & O_ACCMODE, O_WRONLY);
    close(w);
    close(fd);
    CHECK_ERR(fcntl(fd, F_GETFL), EBADF);
    CHECK_EQ(unlink(path), 0);
}

/* open takes the lowest free fd; when the table is full, EMFILE. */
static void files_fd_table(void)
{
    enum { MAXTRY = 1100 };
    static int fds[MAXTRY];
    int n = 0;
    errno = 0;
    while (n < MAXTRY && (fds[n] = open("/etc/motd", O_RDONLY)) >= 0)
        n++;
    int err = errno;
    CHECK(n < MAXTRY);
    CHECK_EQ(err, EMFILE);
    CHECK(n >= 16);
    for (int i = 1; i < n; i++)
        if (fds[i] <= fds[i - 1])
            FAIL("open %d gave fd %d after %d", i, fds[i], fds[i - 1]);
    if (n > 10) {
        int hole = fds[n / 2];
        CHECK_EQ(close(hole), 0);
        CHECK_EQ(close(fds[n - 1]), 0);
        CHECK_EQ(open("/etc/motd", O_RDONLY), hole);     /* the lowest free one */
        fds[n - 1] = -1;
    }
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    int fd = open("/etc/motd", O_RDONLY);
    CHECK(fd >= 0 && fd <= 3);
    close(fd);
}

static void files_read_bin_init(void)
{
    int fd = open("/bin/init", O_RDONLY);
    REQUIRE(fd >= 0);
    unsigned char h[64];
    CHECK_EQ(read(fd, h, sizeof h), sizeof h);
    CHECK(memcmp(h, "\177ELF", 4) == 0);
    CHECK_EQ(h[4], 2);                          /* ELFCLASS64 */
    CHECK_EQ(h[18] | h[19] << 8, 243);          /* EM_RISCV */
    struct stat st;
    CHECK_EQ(fstat(fd, &st), 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK(st.st_size > 4096);
    CHECK_EQ(lseek(fd, 0, SEEK_END), st.st_size);
    close(fd);
}

static void files_etc_motd(void)
{
    struct stat st;
    char buf[4096];
    REQUIRE(stat("/etc/motd", &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK(st.st_size > 0);
    long n = slurp("/etc/motd", buf, sizeof buf);
    CHECK_EQ(n, st.st_size < (off_t)sizeof buf ? st.st_size : (off_t)sizeof buf);
}

/* ---- directories ---- */

static void dirs_mkdir_eexist(void)
{
    const char *path = DIR_T "/d_exist";
    CHECK_EQ(mkdir(path, 0755), 0);
    CHECK_ERR(mkdir(path, 0755), EEXIST);
    CHECK_ERR(mkdir(path, 0755), EEXIST);
    /* A file of that name is in the way too. */
    int fd = open(DIR_T "/d_file", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    close(fd);
    CHECK_ERR(mkdir(DIR_T "/d_file", 0755), EEXIST);
    CHECK_ERR(open(path, O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST);
    CHECK_EQ(unlink(DIR_T "/d_file"), 0);
    CHECK_EQ(rmdir(path), 0);
}

static void dirs_readdir_lists_entries(void)
{
    static const char *const want[] = { ".", "..", "f1", "file_two", "f3", "sub" };
    enum { N = sizeof want / sizeof want[0] };
    int seen[N] = { 0 };
    REQUIRE(mkdir(DIR_T "/ls", 0755) == 0);
    for (int i = 2; i < 5; i++) {
        char p[64];
        snprintf(p, sizeof p, DIR_T "/ls/%s", want[i]);
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
        CHECK(fd >= 0);
        close(fd);
    }
    CHECK_EQ(mkdir(DIR_T "/ls/sub", 0755), 0);
    DIR *d = opendir(DIR_T "/ls");
    REQUIRE(d != NULL);
    struct dirent *e;
    int total = 0;
    while ((e = readdir(d)) != NULL) {
        total++;
        int k;
        for (k = 0; k < N && strcmp(e->d_name, want[k]) != 0; k++)
            ;
        if (k == N) {
            FAIL("readdir gave an unexpected entry \"%s\"", e->d_name);
            continue;
        }
        seen[k]++;
        if (k >= 2 && k < 5 && e->d_type != DT_REG)
            FAIL("%s has d_type %d, not DT_REG", e->d_name, e->d_type);
        if (k == 5 && e->d_type != DT_DIR)
            FAIL("sub has d_type %d, not DT_DIR", e->d_type);
    }
    for (int k = 0; k < N; k++)
        if (seen[k] != 1)
            FAIL("entry \"%s\" seen %d times", want[k], seen[k]);
    CHECK_EQ(total, N);
    /* rewinddir starts over. */
    rewinddir(d);
    int again = 0;
    while (readdir(d))
        again++;
    CHECK_EQ(again, N);
    CHECK_EQ(closedir(d), 0);
    /* Leave it for dirs.rmdir_nonempty_fails. */
}

/* More entries than one getdents64 call returns (musl reads 2 KiB at a time). */
static void dirs_readdir_many_entries(void)
{
    enum { N = 150 };
    static unsigned char seen[N];
    char p[128];
    memset(seen, 0, sizeof seen);
    REQUIRE(mkdir(DIR_T "/many", 0755) == 0);
    for (int i = 0; i < N; i++) {
        snprintf(p, sizeof p, DIR_T "/many/an-entry-with-a-longer-name-%03d", i);
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd < 0) {
            FAIL("create %s: errno %d", p, errno);
            break;
        }
        close(fd);
    }
    DIR *d = opendir(DIR_T "/many");
    REQUIRE(d != NULL);
    struct dirent *e;
    int total = 0, dots = 0;
    while ((e = readdir(d)) != NULL) {
        total++;
        int k;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            dots++;
        else if (sscanf(e->d_name, "an-entry-with-a-longer-name-%d", &k) == 1 && k >= 0 && k < N)
            seen[k]++;
        else
            FAIL("unexpected entry \"%s\"", e->d_name);
    }
    closedir(d);
    CHECK_EQ(total, N + 2);
    CHECK_EQ(dots, 2);
    for (int i = 0; i < N; i++) {
        if (seen[i] != 1)
            FAIL("entry %d seen %d times", i, seen[i]);
        snprintf(p, sizeof p, DIR_T "/many/an-entry-with-a-longer-name-%03d", i);
        unlink(p);
    }
    CHECK_EQ(rmdir(DIR_T "/many"), 0);
}

/*
 * rm -r's pattern: unlink each entry as readdir returns it, and also unlink
 * entries the walk has not reached yet. Every file is seen once or, if it was
 * unlinked ahead of the walk, at most once (musl may hold it in its buffer
 * already); none is skipped or seen twice, and the directory ends empty. (With positions that were indexes into the list,
 * this left 38 of 100 files behind.)
 */
static void dirs_readdir_stable_under_unlink(void)
{
    enum { N = 100 };
    const char *dir = DIR_T "/rmr";
    char path[64];
    CHECK_EQ(mkdir(dir, 0755), 0);
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "%s/f%03d", dir, i);
        int fd = open(path, O_CREAT | O_WRONLY, 0644);
        REQUIRE(fd >= 0);
        close(fd);
    }
    static unsigned char seen[N], gone_ahead[N];
    memset(seen, 0, sizeof seen);
    memset(gone_ahead, 0, sizeof gone_ahead);
    DIR *d = opendir(dir);
    REQUIRE(d != NULL);
    struct dirent *e;
    int twice = 0, extra = 0, ahead = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int i = atoi(e->d_name + 1);
        if (e->d_name[0] != 'f' || i < 0 || i >= N) {
            extra++;
            continue;
        }
        twice += seen[i]++;
        if (gone_ahead[i])
            continue;           /* it was in musl's buffer before it went: Linux does that too */
        snprintf(path, sizeof path, "%s/f%03d", dir, i);
        CHECK_EQ(unlink(path), 0);
        if (i % 10 == 0 && i + 5 < N && !seen[i + 5]) {      /* one ahead of the walk too */
            snprintf(path, sizeof path, "%s/f%03d", dir, i + 5);
            CHECK_EQ(unlink(path), 0);
            gone_ahead[i + 5] = 1;
            ahead++;
        }
    }
    closedir(d);
    int missed = 0;
    for (int i = 0; i < N; i++)
        missed += !seen[i] && !gone_ahead[i];
    CHECK_EQ(twice, 0);
    CHECK_EQ(extra, 0);
    CHECK_EQ(missed, 0);
    CHECK(ahead > 0);
    CHECK_EQ(rmdir(dir), 0);                    /* nothing left behind */
}

static void dirs_rmdir_nonempty_fails(void)
{
    struct stat st;
    REQUIRE(stat(DIR_T "/ls", &st) == 0);
    CHECK_ERR(rmdir(DIR_T "/ls"), ENOTEMPTY);
    CHECK_EQ(unlink(DIR_T "/ls/f1"), 0);
    CHECK_EQ(unlink(DIR_T "/ls/file_two"), 0);
    CHECK_EQ(unlink(DIR_T "/ls/f3"), 0);
    CHECK_ERR(rmdir(DIR_T "/ls"), ENOTEMPTY);  /* sub is still there */
    CHECK_ERR(unlink(DIR_T "/ls/sub"), EISDIR);
    CHECK_EQ(rmdir(DIR_T "/ls/sub"), 0);
    CHECK_EQ(rmdir(DIR_T "/ls"), 0);
    CHECK_ERR(stat(DIR_T "/ls", &st), ENOENT);
    CHECK_ERR(rmdir(DIR_T "/ls"), ENOENT);
}

static void dirs_path_through_file_enotdir(void)
{
    const char *path = DIR_T "/plain";
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    close(fd);
    struct stat st;
    CHECK_ERR(open(DIR_T "/plain/x", O_RDONLY), ENOTDIR);
    CHECK_ERR(open(DIR_T "/plain/x", O_RDWR | O_CREAT, 0644), ENOTDIR);
    CHECK_ERR(stat(DIR_T "/plain/x", &st), ENOTDIR);
    CHECK_ERR(mkdir(DIR_T "/plain/x", 0755), ENOTDIR);
    CHECK_ERR(rmdir(path), ENOTDIR);
    CHECK(opendir(path) == NULL && errno == ENOTDIR);
    CHECK_EQ(unlink(path), 0);
}

/* *at calls relative to a directory fd. */
static void dirs_openat_relative(void)
{
    REQUIRE(mkdir(DIR_T "/at", 0755) == 0);
    int dfd = open(DIR_T "/at", O_RDONLY | O_DIRECTORY);
    REQUIRE(dfd >= 0);
    int fd = openat(dfd, "rel", O_RDWR | O_CREAT | O_EXCL, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "relative", 8), 8);
    close(fd);
    char buf[16] = { 0 };
    CHECK_EQ(slurp(DIR_T "/at/rel", buf, sizeof buf), 8);
    CHECK_STR(buf, "relative");
    struct stat st;
    CHECK_EQ(fstatat(dfd, "rel", &st, 0), 0);
    CHECK_EQ(st.st_size, 8);
    CHECK_EQ(mkdirat(dfd, "sub", 0755), 0);
    CHECK_EQ(stat(DIR_T "/at/sub", &st), 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK_EQ(renameat(dfd, "rel", dfd, "sub/moved"), 0);
    CHECK_EQ(stat(DIR_T "/at/sub/moved", &st), 0);
    CHECK_EQ(unlinkat(dfd, "sub/moved", 0), 0);
    CHECK_EQ(unlinkat(dfd, "sub", AT_REMOVEDIR), 0);
    CHECK_ERR(openat(dfd, "rel", O_RDONLY), ENOENT);
    /* A file fd is no directory to start from. */
    int ffd = open("/etc/motd", O_RDONLY);
    CHECK(ffd >= 0);
    CHECK_ERR(openat(ffd, "x", O_RDONLY), ENOTDIR);
    close(ffd);
    CHECK_ERR(openat(99, "x", O_RDONLY), EBADF);
    close(dfd);
    CHECK_EQ(rmdir(DIR_T "/at"), 0);
}

/* openat from a directory whose path is longer than 256 bytes (musl_emu once cut it there). */
static void dirs_openat_long_path(void)
{
    char path[600] = DIR_T;
    const char *part = "/a-directory-name-of-forty-bytes-or-so-xx";
    for (int i = 0; i < 8; i++) {
        strcat(path, part);
        REQUIRE(mkdir(path, 0755) == 0);
    }
    CHECK(strlen(path) > 300);
    int dfd = open(path, O_RDONLY | O_DIRECTORY);
    REQUIRE(dfd >= 0);
    int fd = openat(dfd, "deep", O_WRONLY | O_CREAT | O_EXCL, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "deep", 4), 4);
    close(fd);
    close(dfd);
    char file[640];
    snprintf(file, sizeof file, "%s/deep", path);
    struct stat st;
    CHECK_EQ(stat(file, &st), 0);       /* it is where the directory is, not somewhere cut short */
    CHECK_EQ(st.st_size, 4);
    CHECK_EQ(unlink(file), 0);
    for (int i = 0; i < 8; i++) {
        CHECK_EQ(rmdir(path), 0);
        *strrchr(path, '/') = 0;
    }
}

/* A directory renamed takes its contents along; not into itself. */
static void dirs_rename_dir(void)
{
    struct stat st;
    REQUIRE(mkdir(DIR_T "/rd1", 0755) == 0);
    int fd = open(DIR_T "/rd1/inside", O_WRONLY | O_CREAT | O_EXCL, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "in", 2), 2);
    close(fd);
    CHECK_EQ(rename(DIR_T "/rd1", DIR_T "/rd2"), 0);
    CHECK_ERR(stat(DIR_T "/rd1", &st), ENOENT);
    CHECK_EQ(stat(DIR_T "/rd2/inside", &st), 0);
    CHECK_EQ(st.st_size, 2);
    CHECK_EQ(mkdir(DIR_T "/rd2/child", 0755), 0);
    CHECK_ERR(rename(DIR_T "/rd2", DIR_T "/rd2/child/loop"), EINVAL);
    CHECK_EQ(stat(DIR_T "/rd2/child", &st), 0);
    CHECK_EQ(rmdir(DIR_T "/rd2/child"), 0);
    CHECK_EQ(unlink(DIR_T "/rd2/inside"), 0);
    CHECK_EQ(rmdir(DIR_T "/rd2"), 0);
}

static void dirs_stat_dir(void)
{
    struct stat st;
    CHECK_EQ(stat(DIR_T, &st), 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK(!S_ISREG(st.st_mode));
    CHECK_EQ(stat("/", &st), 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK_EQ(stat("/etc", &st), 0);
    CHECK(S_ISDIR(st.st_mode));
    int fd = open(DIR_T, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    CHECK_EQ(fstat(fd, &st), 0);
    CHECK(S_ISDIR(st.st_mode));
    char b[4];
    CHECK_ERR(read(fd, b, 4), EISDIR);
    close(fd);
    CHECK_ERR(open("/etc/motd", O_RDONLY | O_DIRECTORY), ENOTDIR);
}

/* ---- mmap ---- */

static void mmap_anon_rw(void)
{
    size_t len = 16 * PAGE + 100;
    uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    CHECK_EQ((uintptr_t)p % PAGE, 0);
    CHECK(all_zero(p, len));
    fill(p, len, 9);
    CHECK_EQ(first_bad(p, len, 9), -1);
    /* A second mapping is elsewhere and does not share bytes. */
    uint8_t *q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(q != MAP_FAILED);
    if (q != MAP_FAILED) {
        CHECK(q + PAGE <= p || q >= p + len);
        CHECK(all_zero(q, PAGE));
        CHECK_EQ(munmap(q, PAGE), 0);
    }
    CHECK_EQ(first_bad(p, len, 9), -1);
    CHECK_EQ(munmap(p, len), 0);
}

static void mmap_munmap_rules(void)
{
    uint8_t *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    p[0] = 1;
    CHECK_ERR(munmap(p + 1, PAGE), EINVAL);
    CHECK_EQ(p[0], 1);                          /* the failed munmap left it mapped */
    CHECK_EQ(munmap(p, 4 * PAGE), 0);
    /* The page is gone (not touched here: that would kill us); mapping again works. */
    uint8_t *q = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(q != MAP_FAILED);
    CHECK(all_zero(q, 2 * PAGE));
    q[2 * PAGE - 1] = 7;
    CHECK_EQ(munmap(q, 2 * PAGE), 0);
    CHECK_ERR(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
    CHECK_ERR(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 99, 0), EBADF);
    /* A fixed mapping lands where asked. */
    uint8_t *r = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(r != MAP_FAILED);
    r[PAGE] = 5;
    uint8_t *s = mmap(r + PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(s == r + PAGE);
    CHECK_EQ(r[PAGE], 0);                       /* a fresh page replaced the old one */
    CHECK_EQ(munmap(r, 3 * PAGE), 0);
}

/* A MAP_FIXED mmap that fails its checks (bad fd, a directory) leaves what was mapped there. */
static void mmap_fixed_bad_fd_keeps_mapping(void)
{
    uint8_t *r = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(r != MAP_FAILED);
    r[PAGE] = 9;
    CHECK_ERR(mmap(r + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED, 99, 0), EBADF);
    int d = open("/tmp", O_RDONLY | O_DIRECTORY);
    CHECK(d >= 0);
    CHECK_ERR(mmap(r + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED, d, 0), ENODEV);
    close(d);
    /* Still mapped (mprotect fails on a hole; touching one would kill us). */
    CHECK_EQ(mprotect(r + PAGE, PAGE, PROT_READ | PROT_WRITE), 0);
    CHECK_EQ(munmap(r, 2 * PAGE), 0);
}

static void mmap_mprotect_readonly(void)
{
    uint8_t *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    fill(p, 2 * PAGE, 10);
    CHECK_EQ(mprotect(p, PAGE, PROT_READ), 0);
    CHECK_EQ(first_bad(p, 2 * PAGE, 10), -1);  /* still readable, contents kept */
    p[PAGE] = 0x5a;                             /* the other page stays writable */
    CHECK_EQ(mprotect(p, PAGE, PROT_READ | PROT_WRITE), 0);
    p[0] = 0xa5;
    CHECK_EQ(p[0], 0xa5);
    CHECK_EQ(p[PAGE], 0x5a);
    /* (musl's mprotect rounds the address down; the system call itself must refuse.) */
    CHECK_ERR(syscall(SYS_mprotect, p + 1, PAGE, PROT_READ), EINVAL);
    CHECK_EQ(mprotect(p, 0, PROT_NONE), 0);     /* Linux's answers: nothing to do, */
    CHECK_ERR(mprotect(p, SIZE_MAX - PAGE, PROT_READ), ENOMEM); /* past the address space, */
    CHECK_EQ(munmap(p + PAGE, PAGE), 0);
    CHECK_ERR(mprotect(p, 2 * PAGE, PROT_READ), ENOMEM);        /* a hole (nothing changed) */
    p[0] = 0x11;
    CHECK_EQ(munmap(p, PAGE), 0);
}

static void mmap_file_shared(void)
{
    const char *path = DIR_T "/mapped";
    int fd = make_file(path, 3 * PAGE, 11);
    REQUIRE(fd >= 0);
    uint8_t *m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        FAIL("mmap MAP_SHARED failed: errno %d", errno);
        close(fd);
        return;
    }
    CHECK_EQ(first_bad(m, 3 * PAGE, 11), -1);
    /* write() shows through the mapping. */
    CHECK_EQ(lseek(fd, 100, SEEK_SET), 100);
    CHECK_EQ(write(fd, "hello", 5), 5);
    CHECK(memcmp(m + 100, "hello", 5) == 0);
    /* Stores through the mapping show in read(). */
    memcpy(m + PAGE + 7, "world", 5);
    char b[6] = { 0 };
    CHECK_EQ(lseek(fd, PAGE + 7, SEEK_SET), PAGE + 7);
    CHECK_EQ(read(fd, b, 5), 5);
    CHECK_STR(b, "world");
    /* A second shared mapping of a different offset sees the same bytes. */
    uint8_t *m2 = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
    CHECK(m2 != MAP_FAILED);
    if (m2 != MAP_FAILED) {
        CHECK(memcmp(m2 + 7, "world", 5) == 0);
        m[PAGE + 8] = 'X';
        CHECK_EQ(m2[8], 'X');
        CHECK_EQ(munmap(m2, PAGE), 0);
    }
    CHECK_EQ(munmap(m, 3 * PAGE), 0);
    close(fd);
    /* And after unmapping, the stores are in the file. */
    static uint8_t all[3 * PAGE];
    CHECK_EQ(slurp(path, all, sizeof all), 3 * PAGE);
    CHECK(memcmp(all + PAGE + 7, "wXrld", 5) == 0);
    /* Writable shared mappings need a writable fd. */
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    CHECK_ERR(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
    close(fd);
    CHECK_EQ(unlink(path), 0);
}

static void mmap_file_private(void)
{
    const char *path = DIR_T "/private";
    int fd = make_file(path, 2 * PAGE, 12);
    REQUIRE(fd >= 0);
    uint8_t *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        FAIL("mmap MAP_PRIVATE failed: errno %d", errno);
        close(fd);
        return;
    }
    CHECK_EQ(first_bad(m, 2 * PAGE, 12), -1);
    memset(m + 10, 'P', 20);
    uint8_t b[20];
    CHECK_EQ(lseek(fd, 10, SEEK_SET), 10);
    CHECK_EQ(read(fd, b, 20), 20);
    CHECK_EQ(b[0], pat(10, 12));
    CHECK_EQ(b[19], pat(29, 12));
    CHECK_EQ(m[10], 'P');
    CHECK_EQ(munmap(m, 2 * PAGE), 0);
    /* A read-only fd can be mapped privately, even writable. */
    close(fd);
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        m[0] ^= 0xff;
        CHECK_EQ(m[0], (uint8_t)(pat(0, 12) ^ 0xff));
        CHECK_EQ(munmap(m, PAGE), 0);
    }
    close(fd);
    memset(b, 0, sizeof b);
    CHECK_EQ(slurp(path, b, 1), 1);
    CHECK_EQ(b[0], pat(0, 12));
    CHECK_EQ(unlink(path), 0);
}

/* ---- malloc ---- */

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

static void malloc_sizes_patterns(void)
{
    enum { N = 600 };
    static uint8_t *p[N];
    static size_t sz[N];
    int n = 0;
    /* Every power of two and its neighbours, 1 B .. 1 MiB, then random small sizes. */
    for (size_t s = 1; s <= (1u << 20) && n < N; s <<= 1) {
        size_t v[3] = { s - 1, s, s + 1 };
        for (int k = 0; k < 3; k++)
            if (v[k] && v[k] <= (1u << 20))
                sz[n++] = v[k];
    }
    while (n < N)
        sz[n++] = 1 + rng() % 3000;
    for (int i = 0; i < N; i++) {
        p[i] = malloc(sz[i]);
        if (!p[i]) {
            FAIL("malloc(%zu) failed", sz[i]);
            break;
        }
        fill(p[i], sz[i], (unsigned)i);
    }
    /* Check everything only once all exist: overlapping blocks would show. */
    for (int i = 0; i < N && p[i]; i++) {
        long bad = first_bad(p[i], sz[i], (unsigned)i);
        if (bad >= 0)
            FAIL("block %d (%zu bytes) damaged at %ld", i, sz[i], bad);
    }
    /* Free in a shuffled order, half first, then allocate again and check. */
    for (int i = N - 1; i > 0; i--) {
        int j = (int)(rng() % (uint32_t)(i + 1));
        uint8_t *tp = p[i]; p[i] = p[j]; p[j] = tp;
        size_t ts = sz[i]; sz[i] = sz[j]; sz[j] = ts;
    }
    /* (The patterns were seeded by the old index: re-fill under the new one.) */
    for (int i = 0; i < N; i++)
        if (p[i])
            fill(p[i], sz[i], (unsigned)i);
    for (int i = 0; i < N / 2; i++) {
        free(p[i]);
        sz[i] = 1 + rng() % 70000;
        p[i] = malloc(sz[i]);
        if (p[i])
            fill(p[i], sz[i], (unsigned)i);
        else
            FAIL("malloc(%zu) failed after frees", sz[i]);
    }
    for (int i = 0; i < N; i++) {
        if (p[i] && first_bad(p[i], sz[i], (unsigned)i) >= 0)
            FAIL("block %d (%zu bytes) damaged after reuse", i, sz[i]);
        free(p[i]);
        p[i] = NULL;
    }
}

static void malloc_realloc_keeps_contents(void)
{
    size_t s = 8;
    uint8_t *p = malloc(s);
    REQUIRE(p);
    fill(p, s, 13);
    while (s < (1u << 20)) {
        size_t ns = s * 2 + 5;
        uint8_t *q = realloc(p, ns);
        if (!q) {
            FAIL("realloc to %zu failed", ns);
            free(p);
            return;
        }
        long bad = first_bad(q, s, 13);
        if (bad >= 0) {
            FAIL("realloc %zu -> %zu lost byte %ld", s, ns, bad);
            free(q);
            return;
        }
        p = q;
        fill(p, ns, 13);
        s = ns;
    }
    uint8_t *q = realloc(p, 100);             /* shrinking keeps the head */
    REQUIRE(q);
    CHECK_EQ(first_bad(q, 100, 13), -1);
    free(q);
}

static void malloc_calloc_zeroes(void)
{
    static const size_t sizes[] = { 1, 24, 100, 4096, 5000, 70000, 300000 };
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        /* Dirty some memory of that size first so that reuse would show. */
        uint8_t *d = malloc(sizes[i]);
        REQUIRE(d);
        memset(d, 0xab, sizes[i]);
        free(d);
        uint8_t *c = calloc(sizes[i], 1);
        REQUIRE(c);
        if (!all_zero(c, sizes[i]))
            FAIL("calloc(%zu) not zeroed", sizes[i]);
        free(c);
    }
    uint32_t *a = calloc(1000, sizeof *a);
    REQUIRE(a);
    CHECK(all_zero(a, 1000 * sizeof *a));
    free(a);
    errno = 0;
    volatile size_t huge = (size_t)1 << 62;
    CHECK(calloc(huge, 16) == NULL);
    CHECK_EQ(errno, ENOMEM);
}

/* ---- pthreads ---- */

#define NTHREADS 8

static void *ret_arg_squared(void *arg)
{
    long i = (long)arg;
    return (void *)(i * i + 1);
}

/* Threads that wait until released, for pthread_create_at_limit. */
static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t limit_cond = PTHREAD_COND_INITIALIZER;
static int limit_released;

static void *wait_for_release(void *arg)
{
    pthread_mutex_lock(&limit_lock);
    while (!limit_released)
        pthread_cond_wait(&limit_cond, &limit_lock);
    pthread_mutex_unlock(&limit_lock);
    return arg;
}

/*
 * A program's threads are bounded twice: by its account (1,024 from init, see
 * README's Resource accounts) and, first, by musl_emu's table of MAX_THREADS
 * (64). Past the bound pthread_create fails with EAGAIN, as Linux's does at
 * RLIMIT_NPROC, and threads can be made again once some have ended.
 */
static void pthread_create_at_limit(void)
{
    enum { MAX = 100 };
    static pthread_t t[MAX];
    pthread_attr_t attr;
    int made = 0, e = 0;
    REQUIRE(pthread_attr_init(&attr) == 0);
    REQUIRE(pthread_attr_setstacksize(&attr, 16384) == 0);
    limit_released = 0;
    while (made < MAX && (e = pthread_create(&t[made], &attr, wait_for_release, NULL)) == 0)
        made++;
    CHECK_EQ(e, EAGAIN);
    if (made < 60 || made >= 64)        /* the table, less the threads already there */
        FAIL("%d threads made before EAGAIN", made);
    pthread_mutex_lock(&limit_lock);
    limit_released = 1;
    pthread_cond_broadcast(&limit_cond);
    pthread_mutex_unlock(&limit_lock);
    for (int i = 0; i < made; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    pthread_t again;
    CHECK_EQ(pthread_create(&again, &attr, wait_for_release, NULL), 0);
    CHECK_EQ(pthread_join(again, NULL), 0);
    pthread_attr_destroy(&attr);
}

static void pthread_create_join(void)
{
    pthread_t t[NTHREADS];
    int made = 0;
    for (long i = 0; i < NTHREADS; i++) {
        int e = pthread_create(&t[i], NULL, ret_arg_squared, (void *)i);
        if (e) {
            FAIL("pthread_create %ld: %d", i, e);
            break;
        }
        made++;
    }
    for (int i = 0; i < made; i++) {
        void *rv = NULL;
        CHECK_EQ(pthread_join(t[i], &rv), 0);
        CHECK_EQ((long)rv, (long)i * i + 1);
    }
    CHECK_EQ(made, NTHREADS);
}

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *count_up(void *arg)
{
    for (int i = 0; i < 10000; i++) {
        pthread_mutex_lock(&count_lock);
        long v = counter;
        if ((i & 1023) == 0)
            sched_yield();                      /* hold the lock across a switch now and then */
        counter = v + 1;
        pthread_mutex_unlock(&count_lock);
    }
    return NULL;
}

static void pthread_mutex_counter(void)
{
    pthread_t t[NTHREADS];
    counter = 0;
    int made = 0;
    for (int i = 0; i < NTHREADS; i++)
        if (pthread_create(&t[i], NULL, count_up, NULL) == 0)
            made++;
        else
            break;
    for (int i = 0; i < made; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    CHECK_EQ(made, NTHREADS);
    CHECK_EQ(counter, 80000);
    CHECK_EQ(pthread_mutex_trylock(&count_lock), 0);
    CHECK_EQ(pthread_mutex_trylock(&count_lock), EBUSY);
    CHECK_EQ(pthread_mutex_unlock(&count_lock), 0);
}

/* A bounded queue: one producer, several consumers. */
#define QCAP 4
#define ITEMS 2000
#define CONSUMERS 3

static struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    int buf[QCAP];
    int head, count, done;
    long sum[CONSUMERS];
    int taken[CONSUMERS];
} q = { .lock = PTHREAD_MUTEX_INITIALIZER, .not_empty = PTHREAD_COND_INITIALIZER,
        .not_full = PTHREAD_COND_INITIALIZER };

static void *producer(void *arg)
{
    for (int i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&q.lock);
        while (q.count == QCAP)
            pthread_cond_wait(&q.not_full, &q.lock);
        q.buf[(q.head + q.count++) % QCAP] = i;
        pthread_cond_signal(&q.not_empty);
        pthread_mutex_unlock(&q.lock);
    }
    pthread_mutex_lock(&q.lock);
    q.done = 1;
    pthread_cond_broadcast(&q.not_empty);
    pthread_mutex_unlock(&q.lock);
    return NULL;
}

static void *consumer(void *arg)
{
    long me = (long)arg;
    for (;;) {
        pthread_mutex_lock(&q.lock);
        while (q.count == 0 && !q.done)
            pthread_cond_wait(&q.not_empty, &q.lock);
        if (q.count == 0) {
            pthread_mutex_unlock(&q.lock);
            return NULL;
        }
        int v = q.buf[q.head];
        q.head = (q.head + 1) % QCAP;
        q.count--;
        q.sum[me] += v;
        q.taken[me]++;
        pthread_cond_signal(&q.not_full);
        pthread_mutex_unlock(&q.lock);
    }
}

/* Threads parked on one condition, all released by one broadcast. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t gate, arrived;
    int open, waiting, passed;
} g = { .lock = PTHREAD_MUTEX_INITIALIZER, .gate = PTHREAD_COND_INITIALIZER,
        .arrived = PTHREAD_COND_INITIALIZER };

static void *gate_waiter(void *arg)
{
    pthread_mutex_lock(&g.lock);
    g.waiting++;
    pthread_cond_signal(&g.arrived);
    while (!g.open)
        pthread_cond_wait(&g.gate, &g.lock);
    g.passed++;
    pthread_mutex_unlock(&g.lock);
    return NULL;
}

static void pthread_cond_handoff(void)
{
    pthread_t prod, cons[CONSUMERS];
    REQUIRE(pthread_create(&prod, NULL, producer, NULL) == 0);
    int made = 0;
    for (long i = 0; i < CONSUMERS; i++)
        if (pthread_create(&cons[i], NULL, consumer, (void *)i) == 0)
            made++;
    CHECK_EQ(pthread_join(prod, NULL), 0);
    for (int i = 0; i < made; i++)
        CHECK_EQ(pthread_join(cons[i], NULL), 0);
    CHECK_EQ(made, CONSUMERS);
    long sum = 0;
    int taken = 0;
    for (int i = 0; i < CONSUMERS; i++) {
        sum += q.sum[i];
        taken += q.taken[i];
    }
    CHECK_EQ(taken, ITEMS);
    CHECK_EQ(sum, (long)ITEMS * (ITEMS + 1) / 2);
    CHECK_EQ(q.count, 0);

    /* Broadcast: every parked waiter gets through. */
    pthread_t w[NTHREADS];
    made = 0;
    for (int i = 0; i < NTHREADS; i++)
        if (pthread_create(&w[i], NULL, gate_waiter, NULL) == 0)
            made++;
    pthread_mutex_lock(&g.lock);
    while (g.waiting < made)
        pthread_cond_wait(&g.arrived, &g.lock);
    CHECK_EQ(g.passed, 0);
    g.open = 1;
    pthread_cond_broadcast(&g.gate);
    pthread_mutex_unlock(&g.lock);
    for (int i = 0; i < made; i++)
        CHECK_EQ(pthread_join(w[i], NULL), 0);
    CHECK_EQ(made, NTHREADS);
    CHECK_EQ(g.passed, NTHREADS);

    /* A timed wait nobody signals times out. */
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 10000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&m);
    CHECK_EQ(pthread_cond_timedwait(&c, &m, &until), ETIMEDOUT);
    pthread_mutex_unlock(&m);
}

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int finished;
} det = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void *detached_body(void *arg)
{
    volatile char scratch[2048];                /* use the stack that __unmapself frees */
    memset((char *)scratch, (int)(long)arg, sizeof scratch);
    pthread_mutex_lock(&det.lock);
    det.finished += scratch[100] == (char)(long)arg;
    pthread_cond_signal(&det.cond);
    pthread_mutex_unlock(&det.lock);
    return NULL;
}

static void pthread_detached_then_join(void)
{
    /* More detached threads in all than musl_emu has thread slots (64): each one
       that ends must give its slot (and stack) back. */
    enum { ROUNDS = 6, PER = 16 };
    int started = 0;
    for (int r = 0; r < ROUNDS; r++) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        for (int i = 0; i < PER; i++) {
            pthread_t t;
            int e;
            if (i & 1) {
                e = pthread_create(&t, &attr, detached_body, (void *)(long)(i + 1));
            } else {
                e = pthread_create(&t, NULL, detached_body, (void *)(long)(i + 1));
                if (!e)
                    CHECK_EQ(pthread_detach(t), 0);
            }
            if (e) {
                FAIL("round %d: pthread_create of detached thread %d: %d", r, i, e);
                break;
            }
            started++;
        }
        pthread_attr_destroy(&attr);
        pthread_mutex_lock(&det.lock);
        while (det.finished < started)
            pthread_cond_wait(&det.cond, &det.lock);
        pthread_mutex_unlock(&det.lock);
        /* Then joinable threads still come and go. */
        pthread_t t[4];
        for (long i = 0; i < 4; i++) {
            if (pthread_create(&t[i], NULL, ret_arg_squared, (void *)(i + 10)) != 0) {
                FAIL("round %d: pthread_create of joinable thread %ld failed", r, i);
                return;
            }
        }
        for (long i = 0; i < 4; i++) {
            void *rv;
            CHECK_EQ(pthread_join(t[i], &rv), 0);
            CHECK_EQ((long)rv, (i + 10) * (i + 10) + 1);
        }
        if (case_failed)
            return;
    }
    CHECK_EQ(det.finished, ROUNDS * PER);
}

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int open;
} hold = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void *held_until_open(void *arg)
{
    pthread_mutex_lock(&hold.lock);
    while (!hold.open)
        pthread_cond_wait(&hold.cond, &hold.lock);
    pthread_mutex_unlock(&hold.lock);
    return arg;
}

/* Running out of threads is EAGAIN, and every slot comes back after the joins. */
static void pthread_too_many_eagain(void)
{
    enum { MAXT = 300 };
    static pthread_t t[MAXT];
    int n = 0, e = 0;
    hold.open = 0;
    while (n < MAXT && (e = pthread_create(&t[n], NULL, held_until_open, (void *)(long)n)) == 0)
        n++;
    CHECK(n < MAXT);
    CHECK_EQ(e, EAGAIN);
    CHECK(n >= 32);
    pthread_mutex_lock(&hold.lock);
    hold.open = 1;
    pthread_cond_broadcast(&hold.cond);
    pthread_mutex_unlock(&hold.lock);
    for (int i = 0; i < n; i++) {
        void *rv = NULL;
        CHECK_EQ(pthread_join(t[i], &rv), 0);
        CHECK_EQ((long)rv, i);
    }
    /* As many again: none of the slots leaked. */
    hold.open = 0;
    int again = 0;
    while (again < n && pthread_create(&t[again], NULL, held_until_open, (void *)(long)again) == 0)
        again++;
    CHECK_EQ(again, n);
    pthread_mutex_lock(&hold.lock);
    hold.open = 1;
    pthread_cond_broadcast(&hold.cond);
    pthread_mutex_unlock(&hold.lock);
    for (int i = 0; i < again; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
}

static __thread int tls_value = 42;
static __thread char tls_name[16] = "main";

struct tls_report {
    int start_value;
    char start_name[16];
    int *addr;
    int kept;
};

static void *tls_body(void *arg)
{
    struct tls_report *r = arg;
    r->start_value = tls_value;
    memcpy(r->start_name, tls_name, sizeof tls_name);
    r->addr = &tls_value;
    int mine = (int)((uintptr_t)r >> 4) & 0xffff;
    tls_value = mine;
    snprintf(tls_name, sizeof tls_name, "t%d", mine);
    for (int i = 0; i < 5; i++)
        sched_yield();
    char want[16];
    snprintf(want, sizeof want, "t%d", mine);
    r->kept = tls_value == mine && strcmp(tls_name, want) == 0;
    return NULL;
}

static void pthread_tls_distinct(void)
{
    struct tls_report rep[NTHREADS];
    pthread_t t[NTHREADS];
    memset(rep, 0, sizeof rep);
    tls_value = -1;
    strcpy(tls_name, "changed");
    int made = 0;
    for (int i = 0; i < NTHREADS; i++)
        if (pthread_create(&t[i], NULL, tls_body, &rep[i]) == 0)
            made++;
    for (int i = 0; i < made; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    CHECK_EQ(made, NTHREADS);
    for (int i = 0; i < made; i++) {
        CHECK_EQ(rep[i].start_value, 42);       /* each starts from the initial image */
        CHECK_STR(rep[i].start_name, "main");
        CHECK(rep[i].kept);
        CHECK(rep[i].addr != &tls_value);
        for (int j = 0; j < i; j++)
            CHECK(rep[i].addr != rep[j].addr);
    }
    CHECK_EQ(tls_value, -1);                     /* ours untouched */
    CHECK_STR(tls_name, "changed");
}

/* Floating point in several threads at once, switching often: each result must be
   exactly what one thread alone computes. */
static double series(int which)
{
    volatile double s = 0;
    for (int k = 1; k <= 3000; k++) {
        s += (double)(which + 1) / ((double)k * k);
        if (k % 300 == 0)
            sched_yield();
    }
    return s;
}

static void *fp_body(void *arg)
{
    double *out = arg;
    *out = series((int)(out[1]));
    return NULL;
}

static void pthread_fp_per_thread(void)
{
    double want[NTHREADS], got[NTHREADS][2];
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        want[i] = series(i);
    int made = 0;
    for (int i = 0; i < NTHREADS; i++) {
        got[i][0] = -1;
        got[i][1] = i;
        if (pthread_create(&t[i], NULL, fp_body, got[i]) == 0)
            made++;
    }
    volatile double mine = 0.5;
    for (int k = 0; k < 2000; k++) {
        mine = mine * 1.0001 + 0.25;
        if (k % 200 == 0)
            sched_yield();
    }
    for (int i = 0; i < made; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    CHECK_EQ(made, NTHREADS);
    for (int i = 0; i < made; i++)
        if (got[i][0] != want[i])
            FAIL("thread %d: %.17g, alone %.17g", i, got[i][0], want[i]);
    double check = 0.5;
    for (int k = 0; k < 2000; k++)
        check = check * 1.0001 + 0.25;
    CHECK(mine == check);
    char buf[40];
    snprintf(buf, sizeof buf, "%.6f", want[0]);
    CHECK_STR(buf, "1.644601");                  /* sum 1/k^2, k <= 3000: pi^2/6 - ~1/3000 */
}

/* ---- time ---- */

static void time_monotonic_never_backwards(void)
{
    uint64_t prev = now_ns(CLOCK_MONOTONIC), first = prev;
    REQUIRE(prev != 0);
    for (int i = 0; i < 20000; i++) {
        uint64_t t = now_ns(CLOCK_MONOTONIC);
        if (t < prev) {
            FAIL("read %d: %llu after %llu", i, (unsigned long long)t, (unsigned long long)prev);
            return;
        }
        prev = t;
    }
    struct timespec ts = { 0, 2000000 };
    CHECK_EQ(nanosleep(&ts, NULL), 0);
    uint64_t after = now_ns(CLOCK_MONOTONIC);
    CHECK(after >= prev + 2000000);
    CHECK(after > first);
}

static void time_nanosleep_20ms(void)
{
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    struct timespec ts = { 0, 20000000 }, rem = { 99, 99 };
    CHECK_EQ(nanosleep(&ts, &rem), 0);
    uint64_t t1 = now_ns(CLOCK_MONOTONIC);
    CHECK(t1 - t0 >= 20000000);
    CHECK(t1 - t0 < 5000000000ull);             /* and not wildly more */
    /* usleep and clock_nanosleep with an absolute deadline too. */
    t0 = now_ns(CLOCK_MONOTONIC);
    CHECK_EQ(usleep(5000), 0);
    CHECK(now_ns(CLOCK_MONOTONIC) - t0 >= 5000000);
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_nsec += 5000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl, NULL), 0);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    CHECK(now.tv_sec > dl.tv_sec || (now.tv_sec == dl.tv_sec && now.tv_nsec >= dl.tv_nsec));
    ts.tv_nsec = 1000000000;
    CHECK_ERR(nanosleep(&ts, NULL), EINVAL);
}

static void time_realtime_after_2026(void)
{
    struct timespec ts;
    CHECK_EQ(clock_gettime(CLOCK_REALTIME, &ts), 0);
    CHECK(ts.tv_sec >= 1767225600);             /* 2026-01-01 00:00:00 UTC */
    CHECK(ts.tv_sec < 1767225600 + 100 * 365 * 86400L);
    time_t t = time(NULL);
    CHECK(t >= ts.tv_sec && t <= ts.tv_sec + 60);
    struct tm tm;
    CHECK(gmtime_r(&t, &tm) != NULL);
    CHECK(tm.tm_year + 1900 >= 2026);
}

static void time_bad_clock_einval(void)
{
    struct timespec ts;
    CHECK_ERR(clock_gettime((clockid_t)12345, &ts), EINVAL);
    CHECK_ERR(clock_gettime((clockid_t)-100, &ts), EINVAL);
    CHECK_EQ(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
}

/* ---- errno values ---- */

static void errno_open_missing(void)
{
    CHECK_ERR(open("/nonexistent", O_RDONLY), ENOENT);
    CHECK_ERR(open("/nonexistent/deeper/file", O_RDONLY), ENOENT);
    CHECK_ERR(open("", O_RDONLY), ENOENT);
    struct stat st;
    CHECK_ERR(stat("/nonexistent", &st), ENOENT);
    CHECK(fopen("/nonexistent", "r") == NULL && errno == ENOENT);
}

static void errno_path_too_long(void)
{
    static char path[5000];
    memset(path, 'a', sizeof path - 1);
    path[0] = '/';
    path[sizeof path - 1] = 0;
    CHECK_ERR(open(path, O_RDONLY), ENAMETOOLONG);
    CHECK_ERR(open(path, O_RDWR | O_CREAT, 0644), ENAMETOOLONG);
    struct stat st;
    CHECK_ERR(stat(path, &st), ENAMETOOLONG);
    CHECK_ERR(mkdir(path, 0755), ENAMETOOLONG);
    /* One component longer than NAME_MAX (255). */
    char name[400];
    memset(name, 'b', sizeof name - 1);
    memcpy(name, DIR_T "/", 7);
    name[sizeof name - 1] = 0;
    CHECK_ERR(open(name, O_RDWR | O_CREAT, 0644), ENAMETOOLONG);
}

static void errno_bad_fds(void)
{
    char b[4] = "abc";
    CHECK_ERR(read(99, b, 1), EBADF);
    CHECK_ERR(write(99, b, 1), EBADF);
    CHECK_ERR(close(99), EBADF);
    CHECK_ERR(read(-1, b, 1), EBADF);
    CHECK_ERR(write(-1, b, 1), EBADF);
    CHECK_ERR(close(-1), EBADF);
    CHECK_ERR(lseek(99, 0, SEEK_SET), EBADF);
    struct stat st;
    CHECK_ERR(fstat(99, &st), EBADF);
    CHECK_ERR(dup(-1), EBADF);
    CHECK_ERR(read(1000000, b, 1), EBADF);
}

static void errno_write_rdonly(void)
{
    int fd = open("/etc/motd", O_RDONLY);
    REQUIRE(fd >= 0);
    CHECK_ERR(write(fd, "x", 1), EBADF);
    CHECK_ERR(ftruncate(fd, 0), EINVAL);
    close(fd);
    const char *path = DIR_T "/wronly";
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    char b[4];
    CHECK_ERR(read(fd, b, 1), EBADF);
    close(fd);
    CHECK_EQ(unlink(path), 0);
}

/*
 * readv/writev check the fd and its access mode before anything else, as Linux
 * does, even when there is nothing to transfer. (A console opened read-only
 * once took a short writev: its pieces went out in one message unchecked.)
 */
static void errno_rwv_access(void)
{
    char b[4];
    struct iovec none = { b, 0 };
    CHECK_ERR(writev(99, &none, 1), EBADF);
    CHECK_ERR(readv(99, &none, 1), EBADF);
    int fd = open("/dev/console", O_RDONLY);
    REQUIRE(fd >= 0);
    CHECK_ERR(writev(fd, &none, 1), EBADF);
    close(fd);
    fd = open("/etc/motd", O_RDONLY);
    REQUIRE(fd >= 0);
    CHECK_ERR(writev(fd, &none, 1), EBADF);
    CHECK_EQ(readv(fd, &none, 1), 0);
    close(fd);
    const char *path = DIR_T "/rwv";
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    CHECK_ERR(readv(fd, &none, 1), EBADF);
    CHECK_EQ(writev(fd, &none, 1), 0);
    close(fd);
    CHECK_EQ(unlink(path), 0);
}

static void errno_mkdir_missing_parent(void)
{
    CHECK_ERR(mkdir("/nonexistent/child", 0755), ENOENT);
    CHECK_ERR(mkdir(DIR_T "/no/such/dir", 0755), ENOENT);
    CHECK_ERR(open(DIR_T "/nodir/file", O_RDWR | O_CREAT, 0644), ENOENT);
    CHECK_ERR(rename("/nonexistent", DIR_T "/x"), ENOENT);
}

/* ---- ENOSYS ---- */

static void enosys_unserved_call(void)
{
    char buf[64];
    fflush(stdout);
    CHECK_ERR(syscall(SYS_statx, AT_FDCWD, "/", 0, 0, buf), ENOSYS);
    CHECK_ERR(syscall(SYS_statx, AT_FDCWD, "/", 0, 0, buf), ENOSYS);
    CHECK_ERR(syscall(SYS_io_setup, 1, buf), ENOSYS);      /* Linux AIO: not here */
    CHECK_ERR(syscall(4000), ENOSYS);           /* no such Linux call at all */
    /* The process is still fine. */
    CHECK(getpid() > 0);
}

/* The "unsupported system call" line is printed once per call number: count the
   console's bytes around a first and a second use of a call nothing else makes. */
static void enosys_warns_once(void)
{
    fflush(stdout);
    fflush(stderr);
    long b0 = console_bytes();
    REQUIRE(b0 >= 0);
    CHECK_ERR(syscall(SYS_socket, 1, 1, 0), ENOSYS);
    long b1 = console_bytes();
    CHECK_ERR(syscall(SYS_socket, 1, 1, 0), ENOSYS);
    long b2 = console_bytes();
    CHECK_EQ(b1 - b0, strlen("musl_emu: unsupported system call socket\n"));
    CHECK_EQ(b2 - b1, 0);
}

/* ---- process ---- */

struct ids { pid_t pid, tid, sys_tid; };

static void *report_ids(void *arg)
{
    struct ids *r = arg;
    r->pid = getpid();
    r->tid = gettid();
    r->sys_tid = (pid_t)syscall(SYS_gettid);
    return NULL;
}

static void process_ids(void)
{
    pid_t pid = getpid();
    CHECK(pid > 0);
    CHECK_EQ(getpid(), pid);
    CHECK(getppid() > 0);
    CHECK(getppid() != pid);
    CHECK_EQ(gettid(), pid);
    CHECK_EQ(syscall(SYS_gettid), pid);
    struct ids r[2];
    pthread_t t[2];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 2; i++)
        REQUIRE(pthread_create(&t[i], NULL, report_ids, &r[i]) == 0);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(pthread_join(t[i], NULL), 0);
        CHECK_EQ(r[i].pid, pid);
        CHECK(r[i].tid > 0);
        CHECK(r[i].tid != pid);
        CHECK_EQ(r[i].sys_tid, r[i].tid);
    }
    CHECK(r[0].tid != r[1].tid);
    CHECK_EQ(getpid(), pid);
}

static void process_uname(void)
{
    struct utsname u;
    memset(&u, 0xff, sizeof u);
    CHECK_EQ(uname(&u), 0);
    CHECK_STR(u.sysname, "kestrel");
    CHECK_STR(u.machine, "riscv64");
    CHECK(strlen(u.release) > 0);
}

/* ---- pipes ---- */

static void pipes_read_write_eof(void)
{
    int p[2];
    char buf[32] = "";
    REQUIRE(pipe(p) == 0);
    CHECK_EQ(write(p[1], "through", 7), 7);
    CHECK_EQ(read(p[0], buf, sizeof buf), 7);
    CHECK(memcmp(buf, "through", 7) == 0);
    int d = dup(p[1]);                          /* a second writer */
    CHECK(d >= 0);
    close(p[1]);
    int avail = -1;
    CHECK_EQ(write(d, "ab", 2), 2);
    CHECK_EQ(ioctl(p[0], FIONREAD, &avail), 0);
    CHECK_EQ(avail, 2);
    CHECK_EQ(read(p[0], buf, sizeof buf), 2);
    close(d);
    CHECK_EQ(read(p[0], buf, sizeof buf), 0);   /* every writer gone: end of file */
    CHECK_ERR(lseek(p[0], 0, SEEK_SET), ESPIPE);
    CHECK_ERR(write(p[0], "x", 1), EBADF);      /* the read end */
    close(p[0]);
}

static void pipes_epipe_nonblock_flags(void)
{
    int p[2];
    char c = 'x';
    struct stat st;
    REQUIRE(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
    CHECK_EQ(fcntl(p[0], F_GETFD), FD_CLOEXEC);
    CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
    CHECK_ERR(read(p[0], &c, 1), EAGAIN);
    CHECK_EQ(fcntl(p[0], F_GETPIPE_SZ), 65536);
    CHECK_EQ(fstat(p[0], &st), 0);
    CHECK(S_ISFIFO(st.st_mode));
    long total = 0, r;
    static char block[4096];
    while ((r = write(p[1], block, sizeof block)) > 0)
        total += r;
    CHECK_EQ(total, 65536);
    CHECK_EQ(errno, EAGAIN);
    CHECK_EQ(fcntl(p[1], F_SETFL, 0), 0);       /* blocking again */
    CHECK_EQ(fcntl(p[1], F_GETFL) & O_NONBLOCK, 0);
    close(p[0]);
    void (*was)(int) = signal(SIGPIPE, SIG_IGN);    /* else SIGPIPE's default would end us */
    CHECK_ERR(write(p[1], &c, 1), EPIPE);       /* no reader */
    signal(SIGPIPE, was);
    close(p[1]);
    CHECK_ERR(pipe2(p, O_APPEND), EINVAL);
}

static int pipe_rd;
static char pipe_got[200000];

static void *pipe_reader(void *arg)
{
    long want = (long)arg, done = 0, r = 1;
    while (done < want && (r = read(pipe_rd, pipe_got + done, (size_t)(want - done))) > 0)
        done += r;
    return (void *)done;
}

/* 200,000 bytes from one thread to another through the 64 KiB ring, blocking both ways. */
static void pipes_between_threads(void)
{
    int p[2];
    static char data[200000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7 + (i >> 10));
    REQUIRE(pipe(p) == 0);
    pipe_rd = p[0];
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, pipe_reader, (void *)(long)sizeof data) == 0);
    CHECK_EQ(write(p[1], data, sizeof data), (long)sizeof data);
    void *got = NULL;
    CHECK_EQ(pthread_join(t, &got), 0);
    CHECK_EQ((long)got, (long)sizeof data);
    CHECK(memcmp(pipe_got, data, sizeof data) == 0);
    close(p[0]);
    close(p[1]);
}

/* ---- the working directory ---- */

static void cwd_chdir_getcwd(void)
{
    char buf[FS_PATH_MAX], small[3];
    struct stat st;
    CHECK_STR(getcwd(buf, sizeof buf), "/");
    REQUIRE(chdir("/tmp") == 0);
    CHECK_STR(getcwd(buf, sizeof buf), "/tmp");
    int fd = open("cwd-file", O_CREAT | O_WRONLY, 0644);      /* relative: under /tmp */
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ(stat("/tmp/cwd-file", &st), 0);
    CHECK_EQ(stat("cwd-file", &st), 0);
    CHECK_EQ(unlink("cwd-file"), 0);
    errno = 0;
    CHECK(getcwd(small, sizeof small) == NULL && errno == ERANGE);
    CHECK_EQ(chdir("./../tmp/."), 0);
    CHECK_STR(getcwd(buf, sizeof buf), "/tmp");
    CHECK_EQ(chdir(".."), 0);
    CHECK_STR(getcwd(buf, sizeof buf), "/");
    CHECK_EQ(chdir("../.."), 0);                /* above the root is the root */
    CHECK_STR(getcwd(buf, sizeof buf), "/");
    CHECK_ERR(chdir("/etc/motd"), ENOTDIR);
    CHECK_ERR(chdir("/nonexistent"), ENOENT);
    CHECK_ERR(chdir(""), ENOENT);
    int d = open("/tmp", O_RDONLY | O_DIRECTORY);
    REQUIRE(d >= 0);
    CHECK_EQ(fchdir(d), 0);
    CHECK_STR(getcwd(buf, sizeof buf), "/tmp");
    close(d);
    CHECK_ERR(fchdir(d), EBADF);
    /* A forked child starts where its parent is. */
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        char c[16] = "";
        _exit(getcwd(c, sizeof c) && write(p[1], c, strlen(c)) == (long)strlen(c) ? 0 : 1);
    }
    REQUIRE(pid > 0);
    close(p[1]);
    memset(buf, 0, sizeof buf);
    CHECK_EQ(read(p[0], buf, sizeof buf - 1), 4);
    CHECK_STR(buf, "/tmp");
    int st2;
    CHECK_EQ(waitpid(pid, &st2, 0), pid);
    close(p[0]);
    CHECK_EQ(chdir("/"), 0);
}

/* ---- /dev/null, /dev/zero, /dev/full; pread and pwrite ---- */

static void devices_null_zero_full(void)
{
    char buf[16];
    struct stat st;
    int n = open("/dev/null", O_RDWR), z = open("/dev/zero", O_RDONLY), f = open("/dev/full", O_WRONLY);
    REQUIRE(n >= 0 && z >= 0 && f >= 0);
    CHECK_EQ(write(n, "gone", 4), 4);
    CHECK_EQ(read(n, buf, sizeof buf), 0);
    memset(buf, 'x', sizeof buf);
    CHECK_EQ(read(z, buf, sizeof buf), (long)sizeof buf);
    CHECK(buf[0] == 0 && buf[15] == 0);
    CHECK_ERR(write(f, "x", 1), ENOSPC);
    CHECK_EQ(fstat(z, &st), 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK_EQ(st.st_rdev, (1 << 8) | 5);
    CHECK_EQ(stat("/dev/full", &st), 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK_EQ(st.st_mode & 0777, 0666);
    int d = dup(n);
    CHECK(d >= 0);
    CHECK_EQ(write(d, "x", 1), 1);
    close(d);
    close(n);
    close(z);
    close(f);
}

static void files_pread_pwrite(void)
{
    char buf[16] = "";
    int fd = open("/tmp/prw", O_CREAT | O_TRUNC | O_RDWR, 0644);
    REQUIRE(fd >= 0);
    CHECK_EQ(write(fd, "0123456789", 10), 10);
    CHECK_EQ(pread(fd, buf, 4, 3), 4);
    CHECK(memcmp(buf, "3456", 4) == 0);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 10);       /* the position did not move */
    CHECK_EQ(pwrite(fd, "ab", 2, 1), 2);
    CHECK_EQ(pread(fd, buf, sizeof buf, 0), 10);
    CHECK(memcmp(buf, "0ab3456789", 10) == 0);
    CHECK_EQ(pread(fd, buf, 4, 100), 0);        /* past the end */
    CHECK_ERR(pread(fd, buf, 4, -1), EINVAL);
    CHECK_EQ(access("/tmp/prw", R_OK | W_OK), 0);
    CHECK_ERR(access("/tmp/prw", X_OK), EACCES);        /* 0644: no execute bit, even for root */
    CHECK_EQ(access("/bin/mtest", X_OK), 0);            /* programs are 0755 */
    CHECK_EQ(access("/tmp", X_OK), 0);
    CHECK_ERR(access("/nonexistent", F_OK), ENOENT);
    close(fd);
    int p[2];
    REQUIRE(pipe(p) == 0);
    CHECK_ERR(pread(p[0], buf, 1, 0), ESPIPE);
    close(p[0]);
    close(p[1]);
    unlink("/tmp/prw");
}

/* ---- file times and the file system's numbers ---- */

/*
 * A program in the boot image is paged from it (fsd's pager.c), not copied at
 * its first open: mapping busybox (512 KiB) and touching three of its pages
 * takes at most three read-aheads of 16 pages (and page tables), and every
 * byte the mapping shows is the byte read() gives, zeros past the end.
 */
static void files_boot_image_paged(void)
{
    struct stat st;
    struct statfs a, b;
    CHECK_EQ(statfs("/", &a), 0);
    int fd = open("/bin/busybox", O_RDONLY);
    REQUIRE(fd >= 0);
    REQUIRE(fstat(fd, &st) == 0 && st.st_size > 256 * 1024);
    size_t size = (size_t)st.st_size, pages = (size + 4095) / 4096;
    const uint8_t *m = mmap(NULL, pages * 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    REQUIRE(m != MAP_FAILED);
    CHECK(m[0] == 0x7f && m[1] == 'E' && m[2] == 'L' && m[3] == 'F');
    volatile uint8_t sink = m[(pages / 2) * 4096 + 7] ^ m[size - 1];
    (void)sink;
    CHECK_EQ(statfs("/", &b), 0);
    CHECK(a.f_bfree - b.f_bfree < 64);          /* a copy at open would take 129 pages */
    uint8_t *all = malloc(size);
    REQUIRE(all != NULL);
    size_t got = 0;
    for (ssize_t r; got < size && (r = read(fd, all + got, size - got)) > 0;)
        got += (size_t)r;
    CHECK_EQ(got, size);
    CHECK(memcmp(all, m, size) == 0);
    int zeros = 1;
    for (size_t i = size; i < pages * 4096; i++)
        zeros &= m[i] == 0;
    CHECK(zeros);
    free(all);
    munmap((void *)m, pages * 4096);
    close(fd);
}

static void files_times_and_statfs(void)
{
    struct stat st;
    struct statfs sf;
    int fd = open("/tmp/times", O_CREAT | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    struct timespec t[2] = { { 0, UTIME_OMIT }, { 1000000000, 500 } };
    CHECK_EQ(utimensat(AT_FDCWD, "/tmp/times", t, 0), 0);
    CHECK_EQ(stat("/tmp/times", &st), 0);
    CHECK_EQ(st.st_mtim.tv_sec, 1000000000);
    CHECK_EQ(st.st_mtim.tv_nsec, 500);
    t[1].tv_sec = 1200000000;
    CHECK_EQ(futimens(fd, t), 0);               /* by the open file */
    CHECK_EQ(fstat(fd, &st), 0);
    CHECK_EQ(st.st_mtim.tv_sec, 1200000000);
    t[1].tv_nsec = UTIME_OMIT;
    CHECK_EQ(futimens(fd, t), 0);               /* kept */
    CHECK_EQ(stat("/tmp/times", &st), 0);
    CHECK_EQ(st.st_mtim.tv_sec, 1200000000);
    CHECK_EQ(utimensat(AT_FDCWD, "/tmp/times", NULL, 0), 0);   /* now */
    CHECK_EQ(stat("/tmp/times", &st), 0);
    CHECK(st.st_mtim.tv_sec > 1700000000);
    t[1].tv_nsec = 2000000000;
    CHECK_ERR(utimensat(AT_FDCWD, "/tmp/times", t, 0), EINVAL);
    CHECK_ERR(utimensat(AT_FDCWD, "/nonexistent", NULL, 0), ENOENT);
    close(fd);
    unlink("/tmp/times");
    CHECK_EQ(statfs("/tmp", &sf), 0);
    CHECK_EQ(sf.f_bsize, 4096);
    CHECK(sf.f_blocks > 0 && sf.f_bfree > 0 && sf.f_bfree <= sf.f_blocks);
    CHECK_ERR(statfs("/nonexistent", &sf), ENOENT);
    CHECK_EQ(fstatfs(0, &sf), 0);
    CHECK_ERR(fstatfs(63, &sf), EBADF);
}

/* Is a at or after b? */
static int ts_not_before(struct timespec a, struct timespec b)
{
    return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec >= b.tv_nsec);
}

/*
 * A write, an ftruncate or an O_TRUNC moves a file's mtime and ctime to when
 * it happened, seen through every name and by fstat; a time set by hand stands
 * until the next change, and reading is no change.
 */
static void files_mtime_follows_writes(void)
{
    struct timespec set[2] = { { 0, UTIME_OMIT }, { 1000000000, 0 } }, t0, t1;
    struct stat st, l;
    char c;
    unlink("/tmp/mt2");
    int fd = open("/tmp/mt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    CHECK_OK(link("/tmp/mt", "/tmp/mt2"));
    CHECK_OK(utimensat(AT_FDCWD, "/tmp/mt", set, 0));
    CHECK(stat("/tmp/mt2", &st) == 0 && st.st_mtime == 1000000000);
    clock_gettime(CLOCK_REALTIME, &t0);
    CHECK_EQ(write(fd, "x", 1), 1);
    clock_gettime(CLOCK_REALTIME, &t1);
    CHECK_OK(stat("/tmp/mt2", &l));
    CHECK(ts_not_before(l.st_mtim, t0) && ts_not_before(t1, l.st_mtim));      /* the write's time */
    CHECK(ts_not_before(l.st_ctim, l.st_mtim));
    CHECK(fstat(fd, &st) == 0 && st.st_mtim.tv_sec == l.st_mtim.tv_sec && st.st_mtim.tv_nsec == l.st_mtim.tv_nsec);
    CHECK_OK(futimens(fd, set));
    CHECK(pread(fd, &c, 1, 0) == 1 && c == 'x');
    CHECK(fstat(fd, &st) == 0 && st.st_mtime == 1000000000);    /* by hand, and a read since */
    CHECK_OK(ftruncate(fd, 0));
    CHECK(stat("/tmp/mt", &st) == 0 && st.st_mtime > 1000000000 && ts_not_before(st.st_mtim, t1));
    CHECK_OK(utimensat(AT_FDCWD, "/tmp/mt2", set, 0));
    int g = open("/tmp/mt2", O_WRONLY | O_TRUNC);
    CHECK(g >= 0);
    CHECK(fstat(fd, &st) == 0 && st.st_mtime > 1000000000);
    if (g >= 0)
        close(g);
    close(fd);
    CHECK_OK(unlink("/tmp/mt"));
    CHECK_OK(unlink("/tmp/mt2"));
}

/*
 * msync: a store through a shared mapping of a file in memory dates the
 * file's change only there; its errors are Linux's.
 */
static void files_msync(void)
{
    struct timespec set[2] = { { 0, UTIME_OMIT }, { 1000000000, 0 } }, t0;
    struct stat st;
    int fd = open("/tmp/ms", O_CREAT | O_RDWR | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    CHECK_OK(ftruncate(fd, 8192));
    CHECK_OK(futimens(fd, set));
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    REQUIRE(m != MAP_FAILED);
    m[4096] = 's';
    CHECK(fstat(fd, &st) == 0 && st.st_mtime == 1000000000);     /* not seen yet */
    clock_gettime(CLOCK_REALTIME, &t0);
    CHECK_OK(msync(m + 4096, 1, MS_ASYNC));
    CHECK(fstat(fd, &st) == 0 && ts_not_before(st.st_mtim, t0));
    CHECK_OK(msync(m, 8192, MS_SYNC | MS_INVALIDATE));
    CHECK_OK(msync(m, 0, MS_SYNC));
    CHECK_ERR(msync(m + 1, 4096, MS_SYNC), EINVAL);
    CHECK_ERR(msync(m, 4096, MS_SYNC | MS_ASYNC), EINVAL);
    CHECK_ERR(msync(m, 4096, 8), EINVAL);
    munmap(m + 4096, 4096);
    CHECK_ERR(msync(m, 8192, MS_ASYNC), ENOMEM);
    munmap(m, 4096);
    close(fd);
    CHECK_OK(unlink("/tmp/ms"));
}

/* ---- ids, umask, limits, CPUs ---- */

static void proc_ids_umask_limits(void)
{
    struct rlimit rl;
    struct stat st;
    cpu_set_t set;
    CHECK_EQ(getuid(), 0);
    CHECK_EQ(geteuid(), 0);
    CHECK_EQ(getgid(), 0);
    CHECK_EQ(getegid(), 0);
    mode_t old = umask(027);
    CHECK_EQ(old, 022);
    int fd = open("/tmp/umask-file", O_CREAT | O_WRONLY, 0666);
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ(stat("/tmp/umask-file", &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0640);          /* 0666 less the umask */
    unlink("/tmp/umask-file");
    CHECK_EQ(umask(old), 027);
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    CHECK_EQ(rl.rlim_cur, 64);
    CHECK_EQ(getrlimit(RLIMIT_NPROC, &rl), 0);
    CHECK_EQ(rl.rlim_cur, 1024);                /* init's limit for a program */
    CHECK_EQ(getrlimit(RLIMIT_AS, &rl), 0);
    CHECK(rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > (64ul << 20));
    CHECK_ERR(setrlimit(RLIMIT_NOFILE, &rl), EPERM);
    CHECK_EQ(sched_getaffinity(0, sizeof set, &set), 0);
    CHECK_EQ(CPU_COUNT(&set), 1);
    CHECK_EQ(sysconf(_SC_NPROCESSORS_ONLN), 1);
}

/* ---- fork and wait ---- */

static int cow_value = 1;

/* Fork a child that runs fn(arg) and exits with its result; the child's pid, or -1. */
static pid_t fork_run(int (*fn)(long), long arg)
{
    pid_t p = fork();
    if (p == 0)
        _exit(fn(arg));
    return p;
}

static int send_ids(long fd)
{
    long ids[2] = { getpid(), getppid() };
    return write((int)fd, ids, sizeof ids) == sizeof ids ? 7 : 1;
}

static void fork_exit_status_and_ids(void)
{
    int p[2], st = 0;
    long ids[2] = { 0, 0 };
    REQUIRE(pipe(p) == 0);
    pid_t pid = fork_run(send_ids, p[1]);
    REQUIRE(pid > 0);
    close(p[1]);
    CHECK_EQ(read(p[0], ids, sizeof ids), (long)sizeof ids);
    CHECK_EQ(ids[0], pid);                      /* the child's getpid is what fork returned */
    CHECK_EQ(ids[1], getpid());                 /* and its parent is us */
    CHECK_EQ(read(p[0], ids, 1), 0);            /* its copy of the write end went with it */
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 7);
    CHECK_ERR(waitpid(pid, &st, 0), ECHILD);    /* reaped */
    CHECK_ERR(wait(&st), ECHILD);
    close(p[0]);
}

static int change_memory(long arg)
{
    (void)arg;
    int ok = cow_value == 42;                   /* what the parent had at the fork */
    cow_value = 99;
    return ok ? 0 : 1;
}

static void fork_copy_on_write(void)
{
    int st = 0;
    char *heap = malloc(100000);
    REQUIRE(heap != NULL);
    memset(heap, 'p', 100000);
    cow_value = 42;
    pid_t pid = fork();
    if (pid == 0) {
        int ok = heap[0] == 'p' && heap[99999] == 'p';
        memset(heap, 'c', 100000);
        _exit(change_memory(0) || !ok);
    }
    REQUIRE(pid > 0);
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK_EQ(st, 0);                            /* the child saw our values, */
    CHECK_EQ(cow_value, 42);                    /* and its writes stayed its own */
    CHECK(heap[0] == 'p' && heap[99999] == 'p');
    free(heap);
}

/* arg: a pipe's read end | its write end << 16. Close our copy of the write end, read until EOF. */
static int read_until_eof(long arg)
{
    char c;
    close((int)(arg >> 16));
    while (read((int)(arg & 0xffff), &c, 1) > 0)
        ;
    return 3;
}

static void fork_wnohang_and_any(void)
{
    int p[2], st = 0;
    REQUIRE(pipe(p) == 0);
    pid_t a = fork_run(read_until_eof, p[0] | p[1] << 16), b = fork_run(read_until_eof, p[0] | p[1] << 16);
    REQUIRE(a > 0 && b > 0);
    CHECK_EQ(waitpid(-1, &st, WNOHANG), 0);     /* both wait for the pipe's end of file */
    CHECK_EQ(waitpid(a, &st, WNOHANG), 0);
    close(p[1]);                                /* now they end */
    close(p[0]);
    pid_t got1 = wait(&st);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    pid_t got2 = wait(&st);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    CHECK((got1 == a && got2 == b) || (got1 == b && got2 == a));
    CHECK_ERR(wait(&st), ECHILD);
}

static int store_to_null(long arg)
{
    (void)arg;
    *(volatile int *)0 = 1;
    return 0;
}

static void fork_killed_by_fault(void)
{
    int st = 0;
    pid_t pid = fork_run(store_to_null, 0);
    REQUIRE(pid > 0);
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGSEGV);
}

/* Bytes i..i+n of the pipeline's stream. */
static void stream_fill(unsigned char *b, uint64_t i, size_t n)
{
    for (size_t k = 0; k < n; k++, i++)
        b[k] = (unsigned char)(i * 131 + (i >> 13));
}

/*
 * Three processes in a pipeline: a producer writes 10 MiB into one pipe, a
 * middle process copies it to a second pipe, and we read it, compare every
 * byte and sum it (the same data, 10 MiB, both ends' checksums equal).
 */
static void fork_pipeline_10m(void)
{
    enum { TOTAL = 10 << 20, CHUNK = 8192 };
    static unsigned char buf[CHUNK], want[CHUNK];
    int a[2], b[2], st;
    REQUIRE(pipe(a) == 0 && pipe(b) == 0);
    pid_t producer = fork();
    if (producer == 0) {
        close(a[0]);
        close(b[0]);
        close(b[1]);
        for (uint64_t at = 0; at < TOTAL; at += CHUNK) {
            stream_fill(buf, at, CHUNK);
            if (write(a[1], buf, CHUNK) != CHUNK)
                _exit(1);
        }
        _exit(0);
    }
    pid_t middle = fork();
    if (middle == 0) {
        close(a[1]);
        close(b[0]);
        long n;
        while ((n = read(a[0], buf, sizeof buf)) > 0)
            if (write(b[1], buf, (size_t)n) != n)
                _exit(1);
        _exit(n == 0 ? 0 : 2);
    }
    REQUIRE(producer > 0 && middle > 0);
    close(a[0]);
    close(a[1]);
    close(b[1]);
    uint64_t got = 0, sum = 0, want_sum = 0;
    int same = 1;
    long n;
    while ((n = read(b[0], buf, sizeof buf)) > 0) {
        stream_fill(want, got, (size_t)n);
        same &= memcmp(buf, want, (size_t)n) == 0;
        for (long k = 0; k < n; k++) {
            sum = sum * 31 + buf[k];
            want_sum = want_sum * 31 + want[k];
        }
        got += (uint64_t)n;
    }
    close(b[0]);
    CHECK_EQ(got, TOTAL);
    CHECK(same);
    CHECK_EQ(sum, want_sum);
    CHECK_EQ(waitpid(producer, &st, 0), producer);
    CHECK_EQ(st, 0);
    CHECK_EQ(waitpid(middle, &st, 0), middle);
    CHECK_EQ(st, 0);
}

/*
 * A fork bomb is bounded: every unreaped child is a process handle in its
 * parent, so the parent's 256-entry handle table stops it first (init's
 * process limit, 1,024, would next). fork fails with EAGAIN, the system
 * goes on (fsd answers), and once the children end every page and object is
 * back.
 */
static void fork_bomb_bounded(void)
{
    static pid_t kids[1100];
    int p[2], n = 0, st;
    struct ks_kstat before, after;
    struct stat sb;
    REQUIRE(ks_kstat(&before) == 0);
    REQUIRE(pipe(p) == 0);
    pid_t pid;
    while (n < 1100 && (pid = fork_run(read_until_eof, p[0] | p[1] << 16)) > 0)
        kids[n++] = pid;
    CHECK_EQ(errno, EAGAIN);
    CHECK(n >= 200 && n < 256);
    CHECK_EQ(stat("/etc/motd", &sb), 0);        /* fsd still serves */
    close(p[1]);
    close(p[0]);
    int reaped = 0;
    for (int i = 0; i < n; i++)
        reaped += waitpid(kids[i], &st, 0) == kids[i] && WIFEXITED(st);
    CHECK_EQ(reaped, n);
    REQUIRE(ks_kstat(&after) == 0);
    CHECK_EQ(after.objects, before.objects);
    if (after.free_pages + 8 < before.free_pages)
        FAIL("free pages %lu -> %lu", (unsigned long)before.free_pages, (unsigned long)after.free_pages);
}

/* ---- main ---- */

/* The plain definition strcspn must agree with (musl/src/string/strcspn.c is kestrel's own). */
static size_t strcspn_reference(const char *s, const char *reject)
{
    size_t n = 0;
    while (s[n] && !strchr(reject, s[n]))
        n++;
    return n;
}

static void string_strcspn(void)
{
    static const char *const strs[] = { "", "a", "hello, world", "x=$((i+1))", "\x80\xff?@\x7f abc",
                                        "????@@@@", "no match here at all", "\x01\x02\x03" };
    static const char *const rejects[] = { "", "a", ",", "$(", "@?", "\xff\x80", "\x7f ", "=$'\"\\`",
                                           "abcdefghijklmnopqrstuvwxyz", "\x01", "\x03\x02" };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        for (size_t j = 0; j < sizeof rejects / sizeof rejects[0]; j++)
            CHECK_EQ(strcspn(strs[i], rejects[j]), strcspn_reference(strs[i], rejects[j]));
    CHECK_EQ(strcspn("abc?def", "?"), 3);
    CHECK_EQ(strcspn("abc@def", "@?"), 3);          /* 64 and 63: either side of a word */
    CHECK_EQ(strcspn("abc\xc0" "def", "\xbf\xc0"), 3);   /* 191 and 192 */
    CHECK_EQ(strcspn("abcdef", ""), 6);
    CHECK_EQ(strcspn("@A\x81\xc1" "a", "a\x01"), 4);        /* bytes 64 apart share a bit: not in the set */
    CHECK_EQ(strcspn("@\x80\xc0" "b", "\x01" "b"), 3);      /* (bit 0 is NUL's too) */
    CHECK_EQ(strcspn("xyz!", "0123456789abcde!"), 3);         /* 16 bytes: one word */
    CHECK_EQ(strcspn("xyz!", "0123456789abcdef!"), 3);        /* 17: the exact set */
    /* Sets and strings drawn from bytes that share bits, of every length to 20. */
    static const char pool[] = "\x01\x41\x81\xc1\x02\x42\x3d\x7d\xbd\x3a\x40\x80\xc0" "ab";
    uint64_t x = 88172645463325252ull;
    char str[24], rej[24];
    for (int n = 0; n < 3000; n++) {
        size_t ls = (size_t)(x % 21), lr = (size_t)(x >> 8) % 21;
        for (size_t i = 0; i < 23; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            str[i] = pool[x % (sizeof pool - 1)];
            rej[i] = pool[(x >> 20) % (sizeof pool - 1)];
        }
        str[ls] = rej[lr] = 0;
        CHECK_EQ(strcspn(str, rej), strcspn_reference(str, rej));
    }
}

/*
 * The disk as /dev/vda (fsd's pager reads it through the block driver;
 * FS_OP_SYNC writes it back). Run as "mtest disk" on the 4 MiB test disk,
 * into whose third MiB tools/run-tests wrote DISK_READ_WORD's pattern first;
 * run-tests checks afterwards, on the host, that the second MiB holds
 * DISK_WRITE_WORD's. "mtest disk-dead" runs after init killed the driver.
 */
#define MIB (1u << 20)
#define DISK_READ_WORD(off)  (0x5245414400000000ull | (uint64_t)(off))     /* "READ" */
#define DISK_WRITE_WORD(off) (0x5752495400000000ull | (uint64_t)(off))     /* "WRIT" */

static int disk_open(int flags)
{
    struct stat st;
    int fd = open("/dev/vda", flags);
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size != 4 * MIB) {
        if (fd >= 0)
            close(fd);
        return -1;                      /* not the test disk: leave it alone */
    }
    return fd;
}

/* A first read comes from the disk (the pattern run-tests wrote), a second from memory: the same. */
static void disk_read_cold_warm(void)
{
    static uint64_t a[MIB / 8], b[MIB / 8];
    int fd = disk_open(O_RDONLY);
    REQUIRE(fd >= 0);
    CHECK_EQ(pread(fd, a, MIB, 2 * MIB), (ssize_t)MIB);
    long bad = 0;
    for (uint64_t i = 0; i < MIB / 8; i++)
        bad += a[i] != DISK_READ_WORD(2 * MIB + 8 * i);
    CHECK_EQ(bad, 0);
    CHECK_EQ(pread(fd, b, MIB, 2 * MIB), (ssize_t)MIB);
    CHECK(memcmp(a, b, MIB) == 0);
    close(fd);
}

/* Written through the file and fsync'd: read back now, and on the host after power-off (run-tests). */
static void disk_write_sync(void)
{
    static uint64_t a[MIB / 8], b[MIB / 8];
    int fd = disk_open(O_RDWR | O_TRUNC);       /* a disk keeps its size: O_TRUNC means nothing */
    REQUIRE(fd >= 0);
    for (uint64_t i = 0; i < MIB / 8; i++)
        a[i] = DISK_WRITE_WORD(MIB + 8 * i);
    CHECK_EQ(pwrite(fd, a, MIB / 2, MIB), (ssize_t)(MIB / 2));          /* through write() */
    uint8_t *m = mmap(NULL, MIB / 2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, MIB + MIB / 2);
    REQUIRE(m != MAP_FAILED);
    memcpy(m, (uint8_t *)a + MIB / 2, MIB / 2);                       /* and through a mapping */
    CHECK_EQ(fsync(fd), 0);
    CHECK_EQ(fsync(fd), 0);                                            /* nothing dirty: still fine */
    CHECK_EQ(pread(fd, b, MIB, MIB), (ssize_t)MIB);
    CHECK(memcmp(a, b, MIB) == 0);
    munmap(m, MIB / 2);
    close(fd);
}

/*
 * A disk's size is fixed (KS_PAGED_FIXED_SIZE): ftruncate is EINVAL and
 * changes nothing, a write stops at the end (short), and one at the end is
 * ENOSPC, as Linux's block devices answer; no byte is taken and dropped.
 */
static void disk_fixed_size(void)
{
    uint8_t tail[16], back[16];
    struct stat st;
    int fd = disk_open(O_RDWR);
    REQUIRE(fd >= 0);
    errno = 0;
    CHECK_EQ(ftruncate(fd, MIB), -1);
    CHECK_EQ(errno, EINVAL);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 4 * MIB);
    CHECK_EQ(pread(fd, tail, 8, 4 * MIB - 8), 8);
    memcpy(tail + 8, "pastend!", 8);
    CHECK_EQ(pwrite(fd, tail, 16, 4 * MIB - 8), 8);                  /* its own last 8 bytes, again */
    errno = 0;
    CHECK_EQ(pwrite(fd, tail + 8, 8, 4 * MIB), -1);
    CHECK_EQ(errno, ENOSPC);
    CHECK_EQ(pwrite(fd, tail, 0, 8 * MIB), 0);                         /* nothing, past the end: no growth */
    CHECK(fstat(fd, &st) == 0 && st.st_size == 4 * MIB);
    CHECK_EQ(pread(fd, back, 16, 4 * MIB - 8), 8);                   /* the end is where it was */
    CHECK(memcmp(back, tail, 8) == 0);
    close(fd);
}

/* The driver is dead: a page not read before gives EIO, at once; fsd still serves. */
static void disk_dead_gives_eio(void)
{
    uint8_t b[512];
    struct stat st;
    int fd = disk_open(O_RDONLY);
    REQUIRE(fd >= 0);
    errno = 0;
    CHECK_EQ(pread(fd, b, sizeof b, 3 * MIB + 64 * 1024), -1);
    CHECK_EQ(errno, EIO);
    CHECK_EQ(pread(fd, b, sizeof b, 2 * MIB), (ssize_t)sizeof b);    /* read before: in memory */
    CHECK_EQ(stat("/etc/motd", &st), 0);
    close(fd);
}

static const struct mcase disk_cases[] = {
    { "disk.read_cold_warm", disk_read_cold_warm },
    { "disk.write_sync", disk_write_sync },
    { "disk.fixed_size", disk_fixed_size },
};
static const struct mcase disk_dead_cases[] = {
    { "disk.dead_gives_eio", disk_dead_gives_eio },
};

/*
 * The disk's ext2 file system as "/" (fsd's mount.c), on the image
 * tools/ext2-test-image made: "mtest ext2" checks every file, directory and
 * link its /MANIFEST lists, that a walk of "/" finds exactly those, that a
 * mapping reads what read() does, the changes the disk refuses, and that the
 * damaged /bad gives errors while fsd goes on serving. "mtest ext2-dead"
 * runs after init killed the block driver.
 */
#define EXT2_HASH_OFFSET 0xcbf29ce484222325ull
#define EXT2_HASH_PRIME  0x100000001b3ull
#define EXT2_MAX_ENTRIES 1100

/* ext2-test-image's word_hash: FNV-1a steps over 8-byte words (zero-padded), xor the size. */
static uint64_t ext2_hash_words(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w = 0;
        memcpy(&w, p + i, n - i < 8 ? n - i : 8);
        h = (h ^ w) * EXT2_HASH_PRIME;
    }
    return h;
}

/* The hash of the file at path through read() (its size in *size), or 0 with *size -1 on an error. */
static uint64_t ext2_hash_file(const char *path, long long *size)
{
    static uint8_t buf[65536];
    uint64_t h = EXT2_HASH_OFFSET, total = 0;
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : 0;
    while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0) {
        h = ext2_hash_words(h, buf, (size_t)n);     /* (reads are whole 8-byte words but at the end) */
        total += (uint64_t)n;
    }
    if (fd >= 0)
        close(fd);
    *size = n < 0 ? -1 : (long long)total;
    return n < 0 ? 0 : h ^ total;
}

static struct ext2_entry {
    char kind;                  /* F, D, L or H */
    char path[160];
    char arg[160];              /* L: the target; H: the other name */
    long long size;
    uint64_t hash;
    int seen;
} ext2_manifest[EXT2_MAX_ENTRIES];
static int ext2_entries;

/* Read /MANIFEST (once): the number of entries, or -1. */
static int ext2_manifest_load(void)
{
    if (ext2_entries)
        return ext2_entries;
    FILE *f = fopen("/MANIFEST", "r");
    char line[400];
    if (!f)
        return -1;
    while (ext2_entries < EXT2_MAX_ENTRIES && fgets(line, sizeof line, f)) {
        struct ext2_entry *e = &ext2_manifest[ext2_entries];
        unsigned long long h = 0;
        e->kind = line[0];
        int got = sscanf(line + 1, " %159s %159s", e->path, e->arg);
        if (e->kind == 'F' && sscanf(line + 1, " %159s %lld %llx", e->path, &e->size, &h) == 3)
            e->hash = h;
        else if (e->kind == 'F' || (e->kind != 'D' && got != 2) || got < 1)
            continue;
        ext2_entries++;
    }
    fclose(f);
    return ext2_entries;
}

static struct ext2_entry *ext2_find(const char *path)
{
    for (int i = 0; i < ext2_entries; i++)
        if (strcmp(ext2_manifest[i].path, path) == 0)
            return &ext2_manifest[i];
    return NULL;
}

/* Every entry of the manifest, as stat, read and readlink see it. */
static void ext2_manifest_matches(void)
{
    REQUIRE(ext2_manifest_load() > 1000);
    int bad = 0;
    for (int i = 0; i < ext2_entries; i++) {
        const struct ext2_entry *e = &ext2_manifest[i];
        struct stat st, other;
        char target[200];
        long long size;
        int ok = lstat(e->path, &st) == 0;
        if (ok && e->kind == 'F') {
            uint64_t h = ext2_hash_file(e->path, &size);
            ok = S_ISREG(st.st_mode) && st.st_size == e->size && size == e->size && h == e->hash;
        } else if (ok && e->kind == 'D') {
            ok = S_ISDIR(st.st_mode);
        } else if (ok && e->kind == 'L') {
            ssize_t n = readlink(e->path, target, sizeof target);
            ok = S_ISLNK(st.st_mode) && n == (ssize_t)strlen(e->arg) && memcmp(target, e->arg, (size_t)n) == 0 &&
                 stat(e->path, &other) == 0;        /* and it resolves */
        } else if (ok && e->kind == 'H') {
            ok = stat(e->arg, &other) == 0 && other.st_ino == st.st_ino && st.st_nlink == 2 && other.st_nlink == 2;
        }
        if (!ok && bad++ < 5)
            FAIL("%c %s: not as the manifest says (errno %d)", e->kind, e->path, errno);
    }
    CHECK_EQ(bad, 0);
}

/* Walk dir (path, len bytes used of 160) recursively, marking manifest entries seen: entries not in it. */
static int ext2_walk(char *path, size_t len, int depth)
{
    int extra = 0;
    DIR *d = opendir(len ? path : "/");
    struct dirent *de;
    if (!d)
        return 1;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (len == 0 && (strcmp(de->d_name, "bin") == 0 || strcmp(de->d_name, "dev") == 0 ||
                         strcmp(de->d_name, "etc") == 0 || strcmp(de->d_name, "tmp") == 0 ||
                         strcmp(de->d_name, "bad") == 0 || strcmp(de->d_name, "MANIFEST") == 0 ||
                         strcmp(de->d_name, "cold") == 0 || strcmp(de->d_name, "pair") == 0))
            continue;           /* fsd's own folders, the damaged one, the manifest, the dead case's */
        size_t n = len + 1 + strlen(de->d_name);
        if (n >= 160)
            return extra + 1;
        snprintf(path + len, 160 - len, "/%s", de->d_name);
        struct ext2_entry *e = ext2_find(path);
        if (e)
            e->seen++;
        else if (extra++ < 3)
            FAIL("%s: found, not in the manifest", path);
        if (de->d_type == DT_DIR && depth < 8)
            extra += ext2_walk(path, n, depth + 1);
        path[len] = 0;
    }
    closedir(d);
    return extra;
}

/* A walk of "/" finds every path of the manifest once (H's second name too) and nothing else. */
static void ext2_walk_matches(void)
{
    char path[160] = "";
    REQUIRE(ext2_manifest_load() > 1000);
    for (int i = 0; i < ext2_entries; i++)
        ext2_manifest[i].seen = 0;
    CHECK_EQ(ext2_walk(path, 0, 0), 0);
    int missing = 0;
    for (int i = 0; i < ext2_entries; i++)
        if (ext2_manifest[i].seen != 1 && missing++ < 3)
            FAIL("%s: seen %d times", ext2_manifest[i].path, ext2_manifest[i].seen);
    CHECK_EQ(missing, 0);
}

/* A mapping of the 10 MiB file holds what read() gives (its pages come through the same pager). */
static void ext2_mmap_matches(void)
{
    REQUIRE(ext2_manifest_load() > 1000);
    const struct ext2_entry *e = ext2_find("/big");
    REQUIRE(e && e->size == 10 << 20);
    int fd = open("/big", O_RDONLY);
    REQUIRE(fd >= 0);
    uint8_t *m = mmap(NULL, (size_t)e->size, PROT_READ, MAP_PRIVATE, fd, 0);
    REQUIRE(m != MAP_FAILED);
    CHECK_EQ(ext2_hash_words(EXT2_HASH_OFFSET, m, (size_t)e->size) ^ (uint64_t)e->size, e->hash);
    munmap(m, (size_t)e->size);
    close(fd);
}

/* Changes the disk refuses: the same errors as Linux's ext2 would give, and EXDEV across to memory. */
static void ext2_refusals(void)
{
    struct stat st;
    CHECK_ERR(rename("/hello.txt", "/tmp/moved"), EXDEV);     /* the disk and fsd's memory */
    CHECK_ERR(rename("/tmp", "/tmp2"), EXDEV);
    CHECK_ERR(rmdir("/dir"), ENOTEMPTY);
    CHECK_ERR(rename("/dir/sub", "/dir/sub/deeper"), EINVAL);  /* into itself */
    CHECK_ERR(mkdir("/dir", 0755), EEXIST);
    CHECK_ERR(open("/hello.txt", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
    CHECK_ERR(unlink("/dir"), EISDIR);
    CHECK_ERR(mkdir("/bad/baddir/new", 0755), EIO);           /* its records are past the disk */
    CHECK_ERR(mkdir("/fifo", 0755), EEXIST);                   /* a record fsd does not show */
    CHECK_ERR(open("/fifo", O_CREAT | O_WRONLY, 0644), EEXIST);
    CHECK_ERR(rename("/hello.txt", "/fifo"), EEXIST);
    CHECK_EQ(stat("/hello.txt", &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0644);
}

/* Both names of a file unlinked while one is open: it reads on, and goes at the close. */
static void ext2_hard_links_unlinked_open(void)
{
    static uint8_t a[20000], b[20000];
    int fd = open("/pair/a", O_RDONLY);
    REQUIRE(fd >= 0);
    CHECK_EQ(read(fd, a, sizeof a), (ssize_t)sizeof a);
    CHECK_OK(unlink("/pair/a"));
    CHECK_OK(unlink("/pair/b"));
    sync();
    CHECK_EQ(pread(fd, b, sizeof b, 0), (ssize_t)sizeof b);
    CHECK(memcmp(a, b, sizeof a) == 0);
    close(fd);
    int made = open("/pair/new", O_CREAT | O_WRONLY, 0644);     /* the freed inode may be this one */
    CHECK(made >= 0 && write(made, "new", 3) == 3 && fsync(made) == 0);
    close(made);
    fd = open("/pair/new", O_RDONLY);
    CHECK(fd >= 0 && read(fd, b, 8) == 3 && memcmp(b, "new", 3) == 0);
    close(fd);
}

/* The damaged /bad: errors, and fsd goes on serving. */
static void ext2_damage_gives_errors(void)
{
    char b[64];
    struct stat st;
    int fd = open("/bad/outside", O_RDONLY);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK_ERR(read(fd, b, sizeof b), EIO);      /* its first block is past the disk */
        close(fd);
    }
    DIR *d = opendir("/bad/baddir");
    REQUIRE(d != NULL);
    errno = 0;
    CHECK(readdir(d) == NULL && errno == EIO);     /* its records are past the disk */
    closedir(d);
    errno = 0;
    CHECK(stat("/bad/loop", &st) != 0);     /* /bad inside itself: not shown */
    CHECK(stat("/bad/loop/loop/loop", &st) != 0);
    CHECK_EQ(stat("/hello.txt", &st), 0);
    CHECK_EQ(stat("/etc/motd", &st), 0);
}

/* The driver is dead: a file never read gives EIO at once, what was read stays readable. */
static void ext2_dead_gives_eio(void)
{
    char b[64];
    long long size;
    struct stat st;
    int fd = open("/cold", O_RDONLY);       /* (its inode was read with "/": its blocks never) */
    REQUIRE(fd >= 0);
    CHECK_ERR(pread(fd, b, sizeof b, 512 * 1024), EIO);
    close(fd);
    CHECK(ext2_hash_file("/hello.txt", &size) != 0 && size == 20);
    CHECK_EQ(stat("/etc/motd", &st), 0);
}

static const struct mcase ext2_cases[] = {
    { "ext2.manifest_matches", ext2_manifest_matches },
    { "ext2.walk_matches_manifest", ext2_walk_matches },
    { "ext2.mmap_matches_read", ext2_mmap_matches },
    { "ext2.refusals", ext2_refusals },
    { "ext2.hard_links_unlinked_open", ext2_hard_links_unlinked_open },
    { "ext2.damage_gives_errors", ext2_damage_gives_errors },
};
static const struct mcase ext2_dead_cases[] = {
    { "ext2.dead_gives_eio", ext2_dead_gives_eio },
};

/*
 * Writing the disk's ext2 (run-tests boots a fresh mke2fs image twice):
 * "mtest ext2w" makes files, directories, links, a 10 MiB file and a sparse
 * one, renames and unlinks, fsyncs and lets init power off; the harness
 * runs e2fsck -fn and debugfs on the image; "mtest ext2r" (the second boot)
 * finds every byte as written. "mtest ext2crash" writes and fsyncs file
 * after file until the harness kills QEMU; "mtest ext2crashcheck" (after
 * e2fsck -fy) finds every file it said was fsynced.
 */
#define W_PERIOD 4099           /* the content repeats every W_PERIOD bytes (a prime) */
#define W_BIG (10u << 20)

/* Byte i of content `seed` (tools/run-tests computes the same: w_content). */
static uint8_t w_byte(unsigned seed, uint64_t i)
{
    uint32_t j = (uint32_t)(i % W_PERIOD);
    return (uint8_t)((j * 2654435761u + seed * 40503u) >> 11);
}

static void w_fill(uint8_t *p, size_t n, unsigned seed, uint64_t from)
{
    for (size_t i = 0; i < n; i++)
        p[i] = w_byte(seed, from + i);
}

/* Write n bytes of content seed to path (made, or emptied), in 64 KiB writes, fsync'd: 0 or -1. */
static int w_write(const char *path, unsigned seed, uint64_t n)
{
    static uint8_t chunk[65536];
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0)
        return -1;
    for (uint64_t off = 0; off < n;) {
        size_t k = n - off < sizeof chunk ? (size_t)(n - off) : sizeof chunk;
        w_fill(chunk, k, seed, off);
        if (write(fd, chunk, k) != (ssize_t)k)
            break;
        off += k;
    }
    int r = fsync(fd);
    return close(fd) == 0 && r == 0 ? 0 : -1;
}

/* Does path hold exactly n bytes of content seed? */
static int w_is(const char *path, unsigned seed, uint64_t n)
{
    static uint8_t chunk[65536], want[65536];
    struct stat st;
    int fd = open(path, O_RDONLY), ok = fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size == n;
    for (uint64_t off = 0; ok && off < n;) {
        size_t k = n - off < sizeof chunk ? (size_t)(n - off) : sizeof chunk;
        w_fill(want, k, seed, off);
        ok = read(fd, chunk, k) == (ssize_t)k && memcmp(chunk, want, k) == 0;
        off += k;
    }
    if (fd >= 0)
        close(fd);
    return ok;
}

static const char w_slow[] = "../w/./././././././././././././././././././././././small.txt";

/* Files, directories, links, renames, a mapping: written and fsync'd, then read back in this boot. */
static void ext2w_files(void)
{
    CHECK_OK(mkdir("/w", 0755));
    CHECK_OK(mkdir("/w/sub", 0700));
    int fd = open("/w/small.txt", O_CREAT | O_WRONLY, 0640);
    REQUIRE(fd >= 0);
    CHECK_EQ(write(fd, "hello, disk\n", 12), 12);
    CHECK_OK(fsync(fd));
    close(fd);
    CHECK_OK(w_write("/w/big", 1, W_BIG));
    fd = open("/w/sub/mapped", O_CREAT | O_RDWR, 0644);     /* written through a shared mapping */
    REQUIRE(fd >= 0);
    CHECK_OK(ftruncate(fd, 100000));
    uint8_t *m = mmap(NULL, 100000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    REQUIRE(m != MAP_FAILED);
    w_fill(m, 100000, 2, 0);
    CHECK_OK(fsync(fd));
    munmap(m, 100000);
    close(fd);
    CHECK_OK(symlink("small.txt", "/w/fast"));
    CHECK_OK(symlink(w_slow, "/w/slow"));
    CHECK_OK(w_write("/w/sub/before", 3, 5000));
    CHECK_OK(rename("/w/sub/before", "/w/after"));      /* across directories */
    CHECK_OK(mkdir("/w/sub/inner", 0755));
    CHECK_OK(rename("/w/sub/inner", "/w/moved"));        /* a directory: its ".." follows */
    CHECK_OK(w_write("/w/moved/x", 4, 10));
    CHECK_OK(w_write("/w/victim", 13, 7000));          /* rename over a file: it goes */
    CHECK_OK(w_write("/w/winner", 14, 300));
    CHECK_OK(rename("/w/winner", "/w/victim"));
    CHECK_OK(mkdir("/w/emptydir", 0755));               /* and a directory over an empty one */
    CHECK_OK(mkdir("/w/otherdir", 0755));
    CHECK_OK(w_write("/w/otherdir/inside", 15, 20));
    CHECK_OK(rename("/w/otherdir", "/w/emptydir"));
    CHECK_ERR(rename("/w/sub", "/w/emptydir"), ENOTEMPTY);
    CHECK_OK(w_write("/w/trunc", 5, 200000));
    fd = open("/w/trunc", O_WRONLY);
    REQUIRE(fd >= 0);
    CHECK_OK(ftruncate(fd, 5000));
    CHECK_EQ(pwrite(fd, "end", 3, 1 << 20), 3);                /* a hole, then 3 bytes */
    CHECK_OK(fsync(fd));
    close(fd);
    CHECK(w_is("/w/big", 1, W_BIG));
    CHECK(w_is("/w/sub/mapped", 2, 100000));
    CHECK(w_is("/w/after", 3, 5000));
    char t[128];
    CHECK_EQ(readlink("/w/slow", t, sizeof t), (ssize_t)strlen(w_slow));
    CHECK_ERR(rename("/w/after", "/tmp/after"), EXDEV);        /* between the disk and memory */
}

/*
 * Cuts the pager must apply before it reads the inode again: a file cut
 * and synced reads what is left (no EIO past the new end); a cut then a
 * regrowth reads zeros where the cut went, not the old bytes.
 */
static void ext2w_cut_then_read(void)
{
    static uint8_t b[8192], want[10000];
    CHECK_OK(w_write("/w/cut1", 8, 100000));
    CHECK_OK(w_write("/w/cut2", 9, 100000));
    sync();                                 /* both let go: their next opens page from the disk */
    int fd = open("/w/cut1", O_RDWR);
    REQUIRE(fd >= 0);
    CHECK_OK(ftruncate(fd, 10000));
    CHECK_OK(fsync(fd));
    w_fill(want, sizeof want, 8, 0);
    CHECK_EQ(pread(fd, b, 8192, 4096), 8192 - 2288);
    CHECK(memcmp(b, want + 4096, 10000 - 4096) == 0);
    close(fd);
    fd = open("/w/cut2", O_RDWR);
    REQUIRE(fd >= 0);
    CHECK_OK(ftruncate(fd, 100));
    CHECK_OK(ftruncate(fd, 8192));
    CHECK_EQ(pread(fd, b, 4096, 0), 4096);
    static const uint8_t zeros[4096];
    CHECK(memcmp(b + 100, zeros, 4096 - 100) == 0);
    close(fd);
}

/* 300 files made, the even ones unlinked: a directory of several blocks, records freed in the middle. */
static void ext2w_many(void)
{
    char p[64];
    CHECK_OK(mkdir("/w/many", 0755));
    for (int i = 0; i < 300; i++) {
        snprintf(p, sizeof p, "/w/many/file-%03d", i);
        int fd = open(p, O_CREAT | O_WRONLY, 0644);
        CHECK(fd >= 0 && write(fd, p, strlen(p)) == (ssize_t)strlen(p));
        if (fd >= 0)
            close(fd);
    }
    for (int i = 0; i < 300; i += 2) {
        snprintf(p, sizeof p, "/w/many/file-%03d", i);
        CHECK_OK(unlink(p));
    }
    sync();
}

/* Reading a directory while unlinking each entry read: every entry once, none skipped (rm -r). */
static void ext2w_readdir_unlink(void)
{
    char p[64];
    int seen[100] = { 0 }, n = 0, i;
    CHECK_OK(mkdir("/w/rd", 0755));
    for (i = 0; i < 100; i++) {
        snprintf(p, sizeof p, "/w/rd/e%02d", i);
        int fd = open(p, O_CREAT | O_WRONLY, 0644);
        CHECK(fd >= 0);
        if (fd >= 0)
            close(fd);
    }
    DIR *d = opendir("/w/rd");
    REQUIRE(d != NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (sscanf(e->d_name, "e%d", &i) != 1 || i < 0 || i >= 100)
            continue;
        seen[i]++;
        n++;
        snprintf(p, sizeof p, "/w/rd/e%02d", i);
        CHECK_OK(unlink(p));
    }
    closedir(d);
    CHECK_EQ(n, 100);
    for (i = 0; i < 100; i++)
        CHECK_EQ(seen[i], 1);
    CHECK_OK(rmdir("/w/rd"));
}

/* An unlinked file open still reads; its inode goes at the last close (e2fsck checks the count). */
static void ext2w_unlink_open(void)
{
    struct statfs before, after;
    CHECK_OK(statfs("/w", &before));
    CHECK_OK(w_write("/w/gone", 6, 300000));
    int fd = open("/w/gone", O_RDONLY);
    REQUIRE(fd >= 0);
    CHECK_OK(unlink("/w/gone"));
    static uint8_t b[300000], want[300000];
    w_fill(want, sizeof want, 6, 0);
    CHECK_EQ(pread(fd, b, sizeof b, 0), (ssize_t)sizeof b);
    CHECK(memcmp(b, want, sizeof b) == 0);
    close(fd);
    struct stat st;
    CHECK_ERR(stat("/w/gone", &st), ENOENT);
    CHECK_ERR(rmdir("/w"), ENOTEMPTY);
    /* The last close gives the inode and its blocks back by itself (fsd hears KS_PAGER_NOTE_UNUSED), no sync. */
    for (int i = 0; i < 200 && statfs("/w", &after) == 0 && after.f_bfree != before.f_bfree; i++)
        usleep(10000);
    CHECK_EQ(after.f_bfree, before.f_bfree);
    CHECK_EQ(after.f_ffree, before.f_ffree);
}

/*
 * More than the disk holds (run-tests makes it 32 MiB): fsync says ENOSPC (the
 * bytes are not lost silently); unlinked, the space is back.
 */
static void ext2w_disk_full(void)
{
    static uint8_t chunk[1 << 20];
    int fd = open("/w/huge", O_CREAT | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    memset(chunk, 0x77, sizeof chunk);
    for (int i = 0; i < 36; i++)                    /* 36 MiB onto a 32 MiB disk */
        CHECK_EQ(write(fd, chunk, sizeof chunk), (ssize_t)sizeof chunk);
    errno = 0;
    CHECK_EQ(fsync(fd), -1);
    CHECK_EQ(errno, ENOSPC);
    close(fd);
    CHECK_OK(unlink("/w/huge"));
    CHECK_OK(w_write("/w/after-full", 7, 1 << 20));    /* room again */
}

/*
 * Files written and closed without fsync, more of them than fsd keeps memobjs
 * for (DISK_KEPT, pager.c), so the first ones' memobjs are let go: their bytes
 * are then in fsd's cache of the disk, not yet in the disk's memobj, and
 * reading them again must find them there.
 */
static void ext2w_unsynced_read_back(void)
{
    static uint8_t chunk[12288], back[12288];
    char p[48];
    for (unsigned i = 0; i < 48; i++) {
        snprintf(p, sizeof p, "/w/unsynced-%u", i);
        w_fill(chunk, sizeof chunk, 100 + i, 0);
        int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0644);
        CHECK(fd >= 0 && write(fd, chunk, sizeof chunk) == (ssize_t)sizeof chunk);
        if (fd >= 0)
            close(fd);
    }
    for (unsigned i = 0; i < 48; i++) {
        snprintf(p, sizeof p, "/w/unsynced-%u", i);
        w_fill(chunk, sizeof chunk, 100 + i, 0);
        int fd = open(p, O_RDONLY);
        CHECK(fd >= 0 && read(fd, back, sizeof back) == (ssize_t)sizeof back && memcmp(back, chunk, sizeof back) == 0);
        if (fd >= 0)
            close(fd);
    }
    for (unsigned i = 0; i < 48; i++) {
        snprintf(p, sizeof p, "/w/unsynced-%u", i);
        CHECK_OK(unlink(p));
    }
}

/* What one name of a disk file's hard link is told, the other shows: mode, times, size. */
static void ext2w_hard_link_attrs(void)
{
    struct stat a, b;
    struct timespec ts[2] = { { 0, UTIME_OMIT }, { 1700000000, 0 } };
    CHECK_OK(mkdir("/w/hl", 0755));
    CHECK_OK(mkdir("/w/hl2", 0755));
    CHECK_OK(w_write("/w/hl/one", 21, 5000));
    CHECK_OK(link("/w/hl/one", "/w/hl2/two"));
    CHECK_OK(chmod("/w/hl/one", 0604));
    CHECK(stat("/w/hl2/two", &b) == 0 && (b.st_mode & 07777) == 0604);
    CHECK_OK(utimensat(AT_FDCWD, "/w/hl2/two", ts, 0));
    CHECK(stat("/w/hl/one", &a) == 0 && a.st_mtime == 1700000000);
    CHECK(stat("/w/hl2/two", &b) == 0 && a.st_ctime == b.st_ctime);
    int fd = open("/w/hl/one", O_RDWR);                 /* grown through one name, never opened */
    REQUIRE(fd >= 0);                                   /* through the other */
    CHECK_EQ(pwrite(fd, "end", 3, 9000), 3);
    CHECK(stat("/w/hl2/two", &b) == 0 && b.st_size == 9003);
    CHECK_OK(ftruncate(fd, 6000));
    CHECK(stat("/w/hl2/two", &b) == 0 && b.st_size == 6000);
    CHECK_OK(fsync(fd));
    close(fd);
    fd = open("/w/hl2/two", O_WRONLY | O_TRUNC);        /* cut through the other */
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    CHECK(stat("/w/hl/one", &a) == 0 && a.st_size == 0);
    CHECK_OK(w_write("/w/hl/one", 22, 7000));           /* what the second boot starts from */
    CHECK_OK(chmod("/w/hl/one", 0640));
    CHECK_OK(mkdir("/w/hl3", 0755));
    CHECK_OK(link("/w/hl2/two", "/w/hl3/three"));
    CHECK_OK(mkdir("/w/hl4", 0755));
    CHECK_OK(link("/w/hl2/two", "/w/hl4/four"));
}

/* Hard links on the disk: one inode, two names, one set of bytes; the refusals elsewhere. */
static void ext2w_hard_links(void)
{
    struct stat a, b;
    char t[32];
    CHECK_OK(w_write("/w/linked", 11, 30000));
    int fd = open("/w/linked", O_RDWR);                 /* open (its memobj made) before the link */
    REQUIRE(fd >= 0);
    CHECK_OK(link("/w/linked", "/w/sub/second-name"));
    CHECK(stat("/w/linked", &a) == 0 && stat("/w/sub/second-name", &b) == 0 && a.st_ino == b.st_ino);
    CHECK(a.st_nlink == 2 && b.st_nlink == 2);
    CHECK_EQ(pwrite(fd, "via-first", 9, 100), 9);       /* written through one name... */
    int g = open("/w/sub/second-name", O_RDONLY);
    CHECK(g >= 0 && pread(g, t, 9, 100) == 9 && memcmp(t, "via-first", 9) == 0);   /* ...read through the other */
    if (g >= 0)
        close(g);
    CHECK_OK(fsync(fd));
    close(fd);
    CHECK_OK(link("/w/linked", "/w/third"));
    CHECK_OK(unlink("/w/third"));
    CHECK_ERR(link("/w/linked", "/w/after"), EEXIST);
    CHECK_ERR(link("/w/sub", "/w/subdir-link"), EPERM);
    CHECK_ERR(link("/w/linked", "/tmp/linked"), EXDEV);
    CHECK_ERR(link("/w/nothing", "/w/x2"), ENOENT);
    CHECK_OK(w_write("/tmp/mem", 12, 10));
    CHECK_OK(link("/tmp/mem", "/tmp/mem2"));            /* fsd's memory links too (mproc shm.link_memory_file) */
    CHECK_ERR(link("/tmp/mem", "/w/mem3"), EXDEV);
    CHECK_OK(unlink("/tmp/mem"));
    CHECK_OK(unlink("/tmp/mem2"));
    CHECK_OK(link("/w/fast", "/w/fast-too"));           /* a symbolic link itself */
    CHECK_EQ(readlink("/w/fast-too", t, sizeof t), 9);
    CHECK_OK(unlink("/w/linked"));                      /* the first name goes, the bytes stay */
    CHECK(stat("/w/sub/second-name", &b) == 0 && b.st_nlink == 1);
    ext2w_hard_link_attrs();
}

/*
 * A directory removed while open, whose inode number ext2 gives to a new
 * directory: the old descriptor reads nothing of the new one.
 */
static void ext2w_removed_dir_stays_removed(void)
{
    struct stat st, now;
    char p[48];
    CHECK_OK(mkdir("/w/gone-dir", 0755));
    REQUIRE(stat("/w/gone-dir", &st) == 0);
    DIR *old = opendir("/w/gone-dir");
    REQUIRE(old != NULL);
    CHECK_OK(rmdir("/w/gone-dir"));
    int i, reused = 0;
    for (i = 0; i < 400 && !reused; i++) {       /* until ext2 gives that number again */
        snprintf(p, sizeof p, "/w/r%d", i);
        CHECK_OK(mkdir(p, 0755));
        reused = stat(p, &now) == 0 && now.st_ino == st.st_ino;
    }
    REQUIRE(reused);
    snprintf(p, sizeof p, "/w/r%d/visible", i - 1);
    CHECK_OK(w_write(p, 16, 5));
    errno = 0;
    struct dirent *e = readdir(old);
    CHECK(e == NULL);                            /* not "visible", nor even "." */
    CHECK_ERR(fstat(dirfd(old), &now), ENOENT);
    closedir(old);
    CHECK_OK(unlink(p));
    while (i-- > 0) {
        snprintf(p, sizeof p, "/w/r%d", i);
        CHECK_OK(rmdir(p));
    }
}

/*
 * A disk file's mtime is when it was written, not when fsd wrote it back; a
 * time set by hand after a write (cp -p, tar) is the one written back; a
 * store through a shared mapping is a write too. /w/mt-late.when holds the
 * realtime seconds before and after /w/mt-late's write, for ext2r.mtimes to
 * check against its inode after the reboot.
 */
static void ext2w_mtimes(void)
{
    struct timespec set[2] = { { 0, UTIME_OMIT }, { 1000000000, 0 } }, t0, t1;
    struct stat st;
    char text[48];
    int fd = open("/w/mt-set", O_CREAT | O_TRUNC | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    CHECK_EQ(write(fd, "copied", 6), 6);        /* dirty, not written back yet, */
    CHECK_OK(futimens(fd, set));                /* then the copy's time */
    close(fd);
    fd = open("/w/mt-late", O_CREAT | O_TRUNC | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    clock_gettime(CLOCK_REALTIME, &t0);
    CHECK_EQ(write(fd, "-", 1), 1);
    clock_gettime(CLOCK_REALTIME, &t1);
    close(fd);
    fd = open("/w/mt-late.when", O_CREAT | O_TRUNC | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    int len = snprintf(text, sizeof text, "%lld %lld", (long long)t0.tv_sec, (long long)t1.tv_sec);
    CHECK_EQ(write(fd, text, (size_t)len), len);
    close(fd);
    struct timespec pause = { 1, 500000000 };
    nanosleep(&pause, NULL);                    /* written back well after the write */
    sync();
    CHECK(stat("/w/mt-set", &st) == 0 && st.st_mtime == 1000000000);
    CHECK(stat("/w/mt-late", &st) == 0 && st.st_mtime >= t0.tv_sec && st.st_mtime <= t1.tv_sec);
    CHECK_OK(w_write("/w/mt-map", 7, 4096));
    CHECK_OK(utimensat(AT_FDCWD, "/w/mt-map", set, 0));
    fd = open("/w/mt-map", O_RDWR);
    REQUIRE(fd >= 0);
    volatile char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        m[100] = 'm';
        munmap((void *)m, 4096);
    }
    CHECK(fstat(fd, &st) == 0 && st.st_mtime > 1000000000);
    close(fd);
    CHECK_OK(mkdir("/w/ut1", 0755));            /* for ext2r.mtimes: one file, two names */
    CHECK_OK(mkdir("/w/ut2", 0755));
    CHECK_OK(w_write("/w/ut1/a", 8, 100));
    CHECK_OK(link("/w/ut1/a", "/w/ut2/b"));
}

/* statfs and fstatfs: the disk's counts for what is on it (as e2fsprogs keeps them), memory's else. */
static void ext2w_statfs(void)
{
    struct statfs a, b, t;
    CHECK_OK(statfs("/w", &a));
    CHECK_EQ(a.f_type, 0xef53);
    CHECK_EQ(a.f_bsize, 4096);
    CHECK_EQ(a.f_blocks, 8192);                 /* run-tests' 32 MiB image */
    CHECK(a.f_bfree > 0 && a.f_bfree < a.f_blocks && a.f_ffree > 0 && a.f_ffree < a.f_files);
    CHECK_OK(w_write("/w/statfs-mib", 10, 1 << 20));
    int fd = open("/w/statfs-mib", O_RDONLY);
    REQUIRE(fd >= 0);
    CHECK_OK(fstatfs(fd, &b));
    close(fd);
    CHECK_EQ(b.f_type, 0xef53);
    CHECK(a.f_bfree - b.f_bfree >= 256);        /* the MiB's blocks (and an indirect one) */
    CHECK_EQ(a.f_ffree - b.f_ffree, 1);
    CHECK_OK(statfs("/tmp", &t));
    CHECK_EQ(t.f_type, 0x01021994);             /* fsd's memory */
    CHECK_ERR(statfs("/w/nothing", &t), ENOENT);
}

/*
 * The second boot, one inode with four names in four directories not read
 * yet: /w/hl2/two is found first (nobody has the file open), then /w/hl/one,
 * which is opened and grown, then /w/hl3/three, found on the disk only after
 * that. Every name shows the size, bytes and mode the open one has, not the
 * older ones its inode still has on the disk.
 */
static void ext2r_hard_link_found_later(void)
{
    struct stat b;
    char t[4];
    CHECK(stat("/w/hl2/two", &b) == 0 && b.st_size == 7000 && b.st_nlink == 4);
    REQUIRE(w_is("/w/hl/one", 22, 7000));
    int fd = open("/w/hl/one", O_RDWR);
    REQUIRE(fd >= 0);
    CHECK_EQ(pwrite(fd, "new", 3, 12000), 3);
    CHECK_OK(fchmod(fd, 0600));
    CHECK(stat("/w/hl2/two", &b) == 0 && b.st_size == 12003 && (b.st_mode & 07777) == 0600);
    CHECK(stat("/w/hl3/three", &b) == 0 && b.st_size == 12003 && (b.st_mode & 07777) == 0600);
    int g = open("/w/hl3/three", O_RDONLY);
    CHECK(g >= 0 && pread(g, t, 3, 12000) == 3 && memcmp(t, "new", 3) == 0);
    if (g >= 0)
        close(g);
    CHECK_OK(fsync(fd));
    close(fd);
    /*
     * Every name fsd shows removed while the file is open; the last one, in a
     * directory read only now, opened with O_TRUNC: the open file is cut.
     */
    fd = open("/w/hl/one", O_RDWR);
    REQUIRE(fd >= 0);
    CHECK_EQ(pwrite(fd, "more", 4, 20000), 4);
    CHECK_OK(unlink("/w/hl/one"));
    CHECK_OK(unlink("/w/hl2/two"));
    CHECK_OK(unlink("/w/hl3/three"));
    CHECK(stat("/w/hl4/four", &b) == 0 && b.st_size == 20004);   /* read now: the open file's size */
    g = open("/w/hl4/four", O_WRONLY | O_TRUNC);
    CHECK(g >= 0);
    CHECK(fstat(fd, &b) == 0 && b.st_size == 0);
    if (g >= 0)
        close(g);
    CHECK_OK(fsync(fd));
    close(fd);
    CHECK(stat("/w/hl4/four", &b) == 0 && b.st_size == 0 && b.st_nlink == 1);
}

/* The second boot: everything the first wrote, byte for byte. */
static void ext2r_persisted(void)
{
    char p[64], t[128];
    struct stat st;
    int fd = open("/w/small.txt", O_RDONLY);
    REQUIRE(fd >= 0);
    CHECK_EQ(read(fd, t, sizeof t), 12);
    CHECK(memcmp(t, "hello, disk\n", 12) == 0);
    CHECK(fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0640);
    close(fd);
    CHECK(w_is("/w/big", 1, W_BIG));
    CHECK(w_is("/w/sub/mapped", 2, 100000));
    CHECK(w_is("/w/after", 3, 5000));
    CHECK(w_is("/w/moved/x", 4, 10));
    CHECK(w_is("/w/victim", 14, 300));
    CHECK(w_is("/w/emptydir/inside", 15, 20));
    CHECK_ERR(stat("/w/winner", &st), ENOENT);
    CHECK_ERR(stat("/w/otherdir", &st), ENOENT);
    CHECK(w_is("/w/after-full", 7, 1 << 20));
    CHECK(stat("/w/sub", &st) == 0 && (st.st_mode & 0777) == 0700);
    CHECK_EQ(readlink("/w/fast", t, sizeof t), 9);
    CHECK_EQ(readlink("/w/slow", t, sizeof t), (ssize_t)strlen(w_slow));
    CHECK(memcmp(t, w_slow, strlen(w_slow)) == 0);
    CHECK(stat("/w/slow", &st) == 0 && st.st_size == 12);       /* it resolves */
    CHECK_ERR(stat("/w/sub/before", &st), ENOENT);
    uint8_t lk[9];
    fd = open("/w/sub/second-name", O_RDONLY);      /* the hard link, its first name gone */
    CHECK(fd >= 0 && pread(fd, lk, 9, 100) == 9 && memcmp(lk, "via-first", 9) == 0);
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 30000);
    if (fd >= 0)
        close(fd);
    CHECK_ERR(stat("/w/linked", &st), ENOENT);
    CHECK_EQ(readlink("/w/fast-too", t, sizeof t), 9);
    CHECK_ERR(stat("/w/gone", &st), ENOENT);
    CHECK_ERR(stat("/w/huge", &st), ENOENT);
    CHECK_ERR(stat("/w/rd", &st), ENOENT);
    CHECK_OK(stat("/w/moved/..", &st));
    struct stat w;
    CHECK(stat("/w", &w) == 0 && st.st_ino == w.st_ino);       /* the moved directory's ".." */
    uint8_t head[5000], want[5000];
    fd = open("/w/trunc", O_RDONLY);
    REQUIRE(fd >= 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == (1 << 20) + 3);
    w_fill(want, sizeof want, 5, 0);
    CHECK(read(fd, head, sizeof head) == (ssize_t)sizeof head && memcmp(head, want, sizeof head) == 0);
    CHECK(pread(fd, head, 8, 5000) == 8 && memcmp(head, "\0\0\0\0\0\0\0\0", 8) == 0);
    CHECK(pread(fd, head, 8, 1 << 20) == 3 && memcmp(head, "end", 3) == 0);
    close(fd);
    int bad = 0;
    for (int i = 0; i < 300; i++) {
        snprintf(p, sizeof p, "/w/many/file-%03d", i);
        fd = open(p, O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, t, sizeof t) : -1;
        bad += (i % 2) ? !(n == (ssize_t)strlen(p) && memcmp(t, p, (size_t)n) == 0) : fd >= 0;
        if (fd >= 0)
            close(fd);
    }
    CHECK_EQ(bad, 0);
}

/* Write and fsync file after file, saying so, until the harness kills QEMU. */
static void ext2_crash_loop(void)
{
    char p[32];
    CHECK_OK(mkdir("/c", 0755));
    for (unsigned i = 0; i < 1000; i++) {
        snprintf(p, sizeof p, "/c/f%u", i);
        if (w_write(p, 100 + i, 65536 + i) != 0) {
            FAIL("%s: write or fsync failed (errno %d)", p, errno);
            return;
        }
        int dfd = open("/c", O_RDONLY | O_DIRECTORY);      /* its name, too, as fsync of the directory */
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        printf("# fsynced %u\n", i);
        fflush(stdout);
    }
}

/* After the crash and e2fsck -fy: every file said fsynced is whole (argv: the last one said). */
static unsigned crash_last;
static void ext2_crash_check(void)
{
    char p[32];
    int bad = 0;
    for (unsigned i = 0; i <= crash_last; i++) {
        snprintf(p, sizeof p, "/c/f%u", i);
        if (!w_is(p, 100 + i, 65536 + i) && bad++ < 3)
            FAIL("%s: not as fsynced", p);
    }
    CHECK_EQ(bad, 0);
}

/*
 * A client that reads /dev/vda sees what fsd changed: fsd's cache of the
 * disk's pages goes into the disk's memobj when /dev/vda is opened, and every
 * later change at once. (Last of ext2w: the cache stays written through.)
 */
static void ext2w_dev_vda_current(void)
{
    struct statfs a, b;
    uint32_t raw = 0;
    int made = open("/w/vda-seen-1", O_CREAT | O_EXCL | O_WRONLY, 0644);
    CHECK(made >= 0 && close(made) == 0);
    CHECK_OK(statfs("/w", &a));
    int fd = open("/dev/vda", O_RDONLY);
    REQUIRE(fd >= 0);
    CHECK_EQ(pread(fd, &raw, 4, 1024 + 16), 4);        /* the superblock's s_free_inodes_count */
    CHECK_EQ(raw, a.f_ffree);
    made = open("/w/vda-seen-2", O_CREAT | O_EXCL | O_WRONLY, 0644);
    CHECK(made >= 0 && close(made) == 0);
    CHECK_OK(statfs("/w", &b));
    CHECK_EQ(a.f_ffree - b.f_ffree, 1);
    CHECK_EQ(pread(fd, &raw, 4, 1024 + 16), 4);
    CHECK_EQ(raw, b.f_ffree);
    close(fd);
}

/* The second boot: the times ext2w.mtimes left, as the inodes hold them. */
static void ext2r_mtimes(void)
{
    struct stat st;
    char text[48] = { 0 };
    long long t0 = 0, t1 = 0;
    CHECK(stat("/w/mt-set", &st) == 0 && st.st_mtime == 1000000000 && st.st_size == 6);
    int fd = open("/w/mt-late.when", O_RDONLY);
    REQUIRE(fd >= 0);
    CHECK(read(fd, text, sizeof text - 1) > 0 && sscanf(text, "%lld %lld", &t0, &t1) == 2);
    close(fd);
    CHECK(stat("/w/mt-late", &st) == 0 && st.st_mtime >= t0 && st.st_mtime <= t1);   /* not the sync's */
    CHECK(stat("/w/mt-map", &st) == 0 && st.st_mtime > 1000000000);
    /*
     * A name found only after the one open was removed: a time set through it
     * is the file's, not the earlier write's, once the file is let go.
     */
    struct timespec set[2] = { { 0, UTIME_OMIT }, { 1000000000, 0 } };
    fd = open("/w/ut1/a", O_RDWR);
    REQUIRE(fd >= 0);
    CHECK_EQ(pwrite(fd, "late", 4, 0), 4);
    CHECK_OK(unlink("/w/ut1/a"));
    CHECK_OK(utimensat(AT_FDCWD, "/w/ut2/b", set, 0));
    close(fd);
    sync();                                     /* written back, and let go */
    CHECK(stat("/w/ut2/b", &st) == 0 && st.st_mtime == 1000000000 && st.st_size == 100);
}

static const struct mcase ext2w_cases[] = {
    { "ext2w.files", ext2w_files },
    { "ext2w.cut_then_read", ext2w_cut_then_read },
    { "ext2w.many", ext2w_many },
    { "ext2w.readdir_during_unlink", ext2w_readdir_unlink },
    { "ext2w.unlink_open", ext2w_unlink_open },
    { "ext2w.disk_full", ext2w_disk_full },
    { "ext2w.statfs", ext2w_statfs },
    { "ext2w.hard_links", ext2w_hard_links },
    { "ext2w.mtimes", ext2w_mtimes },
    { "ext2w.unsynced_read_back", ext2w_unsynced_read_back },
    { "ext2w.removed_dir_stays_removed", ext2w_removed_dir_stays_removed },
    { "ext2w.dev_vda_current", ext2w_dev_vda_current },
};
static const struct mcase ext2r_cases[] = {
    { "ext2r.hard_link_found_later", ext2r_hard_link_found_later },
    { "ext2r.mtimes", ext2r_mtimes },
    { "ext2r.persisted", ext2r_persisted },
};
static const struct mcase ext2crash_cases[] = {
    { "ext2crash.write_fsync_loop", ext2_crash_loop },
};
static const struct mcase ext2crashcheck_cases[] = {
    { "ext2crash.fsynced_files_intact", ext2_crash_check },
};

static const struct mcase cases[] = {
    { "string.strcspn", string_strcspn },
    { "files.new_ops_malformed", files_new_ops_malformed },
    { "stdio.console_requests_malformed", stdio_console_requests_malformed },
    { "stdio.snprintf_ints_strings", stdio_snprintf_ints_strings },
    { "stdio.snprintf_double", stdio_snprintf_double },
    { "stdio.printf_returns_length", stdio_printf_returns_length },
    { "stdio.fprintf_stderr_length", stdio_fprintf_stderr_length },
    { "stdio.console_is_tty", stdio_console_is_tty },
    { "stdio.writev_bad_length", stdio_writev_bad_length },
    { "stdio.file_write_read_back", stdio_file_write_read_back },
    { "files.create_excl", files_create_excl },
    { "files.write_read_back", files_write_read_back },
    { "files.lseek", files_lseek },
    { "files.ftruncate_shrink_grow", files_ftruncate },
    { "files.unlink_keeps_open_fd", files_unlink_keeps_open_fd },
    { "files.rename", files_rename },
    { "files.console_stays", files_console_stays },
    { "files.stat_sizes", files_stat_sizes },
    { "files.inline_path_boundary", files_inline_path_boundary },
    { "files.inline_path_malformed", files_inline_path_malformed },
    { "files.walk_plain_and_rest", files_walk_plain_and_rest },
    { "files.append", files_append },
    { "files.dup_shares_offset", files_dup_shares_offset },
    { "files.fcntl_flags", files_fcntl_flags },
    { "files.fd_table", files_fd_table },
    { "files.read_bin_init", files_read_bin_init },
    { "files.etc_motd", files_etc_motd },
    { "dirs.mkdir_eexist", dirs_mkdir_eexist },
    { "dirs.readdir_lists_entries", dirs_readdir_lists_entries },
    { "dirs.readdir_many_entries", dirs_readdir_many_entries },
    { "dirs.readdir_stable_under_unlink", dirs_readdir_stable_under_unlink },
    { "dirs.rmdir_nonempty_fails", dirs_rmdir_nonempty_fails },
    { "dirs.path_through_file_enotdir", dirs_path_through_file_enotdir },
    { "dirs.openat_relative", dirs_openat_relative },
    { "dirs.openat_long_path", dirs_openat_long_path },
    { "dirs.rename_dir", dirs_rename_dir },
    { "dirs.stat_dir", dirs_stat_dir },
    { "mmap.anon_rw", mmap_anon_rw },
    { "mmap.munmap_rules", mmap_munmap_rules },
    { "mmap.fixed_bad_fd_keeps_mapping", mmap_fixed_bad_fd_keeps_mapping },
    { "mmap.mprotect_readonly", mmap_mprotect_readonly },
    { "mmap.file_shared", mmap_file_shared },
    { "mmap.file_private", mmap_file_private },
    { "malloc.sizes_patterns", malloc_sizes_patterns },
    { "malloc.realloc_keeps_contents", malloc_realloc_keeps_contents },
    { "malloc.calloc_zeroes", malloc_calloc_zeroes },
    { "pthread.create_join", pthread_create_join },
    { "pipes.read_write_eof", pipes_read_write_eof },
    { "pipes.epipe_nonblock_flags", pipes_epipe_nonblock_flags },
    { "pipes.between_threads", pipes_between_threads },
    { "devices.null_zero_full", devices_null_zero_full },
    { "files.pread_pwrite", files_pread_pwrite },
    { "files.times_and_statfs", files_times_and_statfs },
    { "files.mtime_follows_writes", files_mtime_follows_writes },
    { "files.msync", files_msync },
    { "files.boot_image_paged", files_boot_image_paged },
    { "cwd.chdir_getcwd", cwd_chdir_getcwd },
    { "proc.ids_umask_limits", proc_ids_umask_limits },
    { "fork.exit_status_and_ids", fork_exit_status_and_ids },
    { "fork.copy_on_write", fork_copy_on_write },
    { "fork.wnohang_and_any", fork_wnohang_and_any },
    { "fork.killed_by_fault", fork_killed_by_fault },
    { "fork.pipeline_10m", fork_pipeline_10m },
    { "fork.bomb_bounded", fork_bomb_bounded },
    { "pthread.create_at_limit", pthread_create_at_limit },
    { "pthread.mutex_counter", pthread_mutex_counter },
    { "pthread.cond_handoff", pthread_cond_handoff },
    { "pthread.detached_then_join", pthread_detached_then_join },
    { "pthread.too_many_eagain", pthread_too_many_eagain },
    { "pthread.tls_distinct", pthread_tls_distinct },
    { "pthread.fp_per_thread", pthread_fp_per_thread },
    { "time.monotonic_never_backwards", time_monotonic_never_backwards },
    { "time.nanosleep_20ms", time_nanosleep_20ms },
    { "time.realtime_after_2026", time_realtime_after_2026 },
    { "time.bad_clock_einval", time_bad_clock_einval },
    { "errno.open_missing", errno_open_missing },
    { "errno.path_too_long", errno_path_too_long },
    { "errno.bad_fds", errno_bad_fds },
    { "errno.write_rdonly", errno_write_rdonly },
    { "errno.rwv_access", errno_rwv_access },
    { "errno.mkdir_missing_parent", errno_mkdir_missing_parent },
    { "enosys.unserved_call", enosys_unserved_call },
    { "enosys.warns_once", enosys_warns_once },
    { "process.ids", process_ids },
    { "process.uname", process_uname },
};

/*
 * init's fsd restart test (user/init.c): park a console read in fsd, which
 * init kills once fsd counts the read as waiting. Exit status: bit 0 if the
 * read did not fail with EIO, bit 1 if a later open did not either. Prints
 * nothing: its stdout is the dying fsd's console.
 */
static int victim(void)
{
    char c;
    errno = 0;
    int bad = !(read(0, &c, 1) < 0 && errno == EIO);
    errno = 0;
    bad |= !(open("/etc/motd", O_RDONLY) < 0 && errno == EIO) << 1;
    return bad;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "victim") == 0)
        return victim();
    if (argc > 1 && strcmp(argv[1], "disk") == 0)
        return mcase_run_all(disk_cases, sizeof disk_cases / sizeof disk_cases[0]) ? 1 : 0;
    if (argc > 1 && strcmp(argv[1], "disk-dead") == 0)
        return mcase_run_all(disk_dead_cases, sizeof disk_dead_cases / sizeof disk_dead_cases[0]) ? 1 : 0;
    if (argc > 1 && strcmp(argv[1], "ext2") == 0)
        return mcase_run_all(ext2_cases, sizeof ext2_cases / sizeof ext2_cases[0]) ? 1 : 0;
    if (argc > 1 && strcmp(argv[1], "ext2-dead") == 0)
        return mcase_run_all(ext2_dead_cases, sizeof ext2_dead_cases / sizeof ext2_dead_cases[0]) ? 1 : 0;
    if (argc > 1 && strcmp(argv[1], "ext2w") == 0)
        return mcase_run_all(ext2w_cases, sizeof ext2w_cases / sizeof ext2w_cases[0]) ? 1 : 0;
    if (argc > 1 && strcmp(argv[1], "ext2r") == 0)
        return mcase_run_all(ext2r_cases, sizeof ext2r_cases / sizeof ext2r_cases[0]) ? 1 : 0;
    if (argc > 1 && strcmp(argv[1], "ext2crash") == 0)
        return mcase_run_all(ext2crash_cases, sizeof ext2crash_cases / sizeof ext2crash_cases[0]) ? 1 : 0;
    if (argc > 2 && strcmp(argv[1], "ext2crashcheck") == 0) {
        crash_last = (unsigned)strtoul(argv[2], NULL, 10);
        return mcase_run_all(ext2crashcheck_cases, sizeof ext2crashcheck_cases / sizeof ext2crashcheck_cases[0]) ? 1 : 0;
    }
    if (mkdir(DIR_T, 0755) != 0 && errno != EEXIST)
        printf("# mtest: cannot make %s: errno %d\n", DIR_T, errno);
    int failures = mcase_run_all(cases, sizeof cases / sizeof cases[0]);
    rmdir(DIR_T);
    return failures ? 1 : 0;
}
