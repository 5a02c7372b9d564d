/*
 * user/mproc.c - the POSIX processes suite: execve, posix_spawn and what
 * survives them, checked through plain libc calls. init runs it after mtest
 * when the bootargs say "utest"; it prints one KTAP stream (user/lib/mcase.h)
 * and exits 0 if every case passed.
 *
 * It is also the program its own cases exec: `mproc probe A B W` reports to
 * descriptor W what the new program sees (its ids, whether descriptors A and
 * B are open, the working directory, umask and environment), `mproc echo
 * TEXT` writes TEXT to stdout, and `mproc waitkid PID` reaps PID and exits
 * with its status plus one.
 *
 * Files it makes are under /mproc, which main creates and removes.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "user/lib/ks.h"
#include "user/lib/mcase.h"

#define DIR_T "/mproc"

extern char **environ;

/* ---- what the exec'd program reports ---- */

static int probe(char **argv)
{
    int a = atoi(argv[2]), b = atoi(argv[3]), w = atoi(argv[4]);
    char cwd[256] = "?", line[512];
    if (!getcwd(cwd, sizeof cwd))
        strcpy(cwd, "?");
    mode_t mask = umask(0);
    const char *env = getenv("MPROC_VAR");
    errno = 0;
    int b_closed = fcntl(b, F_GETFD) < 0 && errno == EBADF;
    int n = snprintf(line, sizeof line, "pid=%d ppid=%d a=%d b_closed=%d cwd=%s umask=%03o env=%s",
                     (int)getpid(), (int)getppid(), fcntl(a, F_GETFD) >= 0, b_closed, cwd,
                     (unsigned)mask, env ? env : "(none)");
    return write(w, line, (size_t)n) == n ? 0 : 1;
}

static int wait_kid(const char *pid_text)
{
    int st;
    pid_t pid = (pid_t)atoi(pid_text);
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return 100;
    return WEXITSTATUS(st) + 1;
}

/* ---- helpers ---- */

/* Wait for pid: its exit status, or -1 if it did not exit normally (or is not our child). */
static int exit_status(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Write a file of `len` bytes from `data` with mode `mode`: 0 or -1. */
static int put_file(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    int ok = write(fd, data, len) == (ssize_t)len;
    close(fd);
    return ok && chmod(path, mode) == 0 ? 0 : -1;
}

/* Read what is in the pipe until end of file (at most cap - 1 bytes), NUL-terminated. */
static long read_all(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    long n;
    while (got < cap - 1 && (n = read(fd, buf + got, cap - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    return (long)got;
}

/* ---- execve ---- */

/* In a child: exec path, or say why not and exit 99. */
static void exec_or_exit(const char *path, char *const argv[], char *const envp[])
{
    execve(path, argv, envp);
    printf("# mproc: execve %s: %s\n", path, strerror(errno));
    fflush(stdout);
    _exit(99);
}

static void exec_fork_exec_status(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *const argv[] = { "mtrue", "7", NULL };
        exec_or_exit("/bin/mtrue", argv, environ);
    }
    REQUIRE(pid > 0);
    CHECK_EQ(exit_status(pid), 7);
}

/*
 * What survives an exec: the pid and parent, descriptors without
 * FD_CLOEXEC (and not those with it), the working directory, the umask,
 * and the environment passed.
 */
static void exec_keeps_ids_fds_cwd(void)
{
    int p[2];
    char want[512], got[512];
    REQUIRE(pipe(p) == 0);
    REQUIRE(mkdir(DIR_T "/wd", 0755) == 0 || errno == EEXIST);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        int a = open("/etc/motd", O_RDONLY), b = open("/etc/motd", O_RDONLY | O_CLOEXEC);
        char sa[16], sb[16], sw[16];
        snprintf(sa, sizeof sa, "%d", a);
        snprintf(sb, sizeof sb, "%d", b);
        snprintf(sw, sizeof sw, "%d", p[1]);
        if (a < 0 || b < 0 || chdir(DIR_T "/wd") != 0)
            _exit(98);
        umask(027);
        char *const argv[] = { "mproc", "probe", sa, sb, sw, NULL };
        char *const envp[] = { "MPROC_VAR=kept", NULL };
        exec_or_exit("/bin/mproc", argv, envp);
    }
    REQUIRE(pid > 0);
    close(p[1]);
    read_all(p[0], got, sizeof got);
    close(p[0]);
    snprintf(want, sizeof want, "pid=%d ppid=%d a=1 b_closed=1 cwd=%s/wd umask=027 env=kept",
             (int)pid, (int)getpid(), DIR_T);
    CHECK_STR(got, want);
    CHECK_EQ(exit_status(pid), 0);
    rmdir(DIR_T "/wd");
}

/* Every way an exec can fail returns its errno and leaves the caller as it was. */
static void exec_failures_leave_caller(void)
{
    static char big[64][128];
    char *argv_big[65], head[200];
    char *const argv[] = { "x", NULL };
    struct ks_kstat before, after;
    REQUIRE(ks_kstat(&before) == 0);
    int keep = open("/etc/motd", O_RDONLY);
    REQUIRE(keep >= 0);
    CHECK_ERR(execve(DIR_T "/missing", argv, environ), ENOENT);
    CHECK_ERR(execve(DIR_T, argv, environ), EACCES);                 /* a directory */
    CHECK_ERR(execve("/etc/motd/x", argv, environ), ENOTDIR);
    REQUIRE(put_file(DIR_T "/text", "just text\n", 10, 0755) == 0);
    CHECK_ERR(execve(DIR_T "/text", argv, environ), ENOEXEC);        /* not an ELF file */
    REQUIRE(put_file(DIR_T "/noexec", "x", 1, 0644) == 0);
    CHECK_ERR(execve(DIR_T "/noexec", argv, environ), EACCES);       /* no execute bit */
    int bin = open("/bin/mtrue", O_RDONLY);
    REQUIRE(bin >= 0 && read(bin, head, sizeof head) == (ssize_t)sizeof head);
    close(bin);
    REQUIRE(put_file(DIR_T "/cut", head, sizeof head, 0755) == 0);
    CHECK_ERR(execve(DIR_T "/cut", argv, environ), ENOEXEC);         /* an ELF cut short */
    for (int i = 0; i < 64; i++) {
        memset(big[i], 'a' + i % 26, sizeof big[i] - 1);
        argv_big[i] = big[i];
    }
    argv_big[64] = NULL;
    CHECK_ERR(execve("/bin/mtrue", argv_big, environ), E2BIG);       /* 8 KiB of arguments */
    /* still here, with the same descriptors and nothing left over in the kernel */
    CHECK(fcntl(keep, F_GETFD) >= 0);
    close(keep);
    unlink(DIR_T "/text");
    unlink(DIR_T "/noexec");
    unlink(DIR_T "/cut");
    REQUIRE(ks_kstat(&after) == 0);
    CHECK_EQ(after.objects, before.objects);
}

static void *block_in_read(void *arg)
{
    char c;
    return (void *)(long)read((int)(long)arg, &c, 1);
}

static void *spin(void *arg)
{
    for (volatile long i = 0;; i++)
        ;
    return arg;
}

/* exec ends the caller's other threads: one blocked in a read, one computing. */
static void exec_ends_other_threads(void)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t a, b;
        if (pthread_create(&a, NULL, block_in_read, (void *)(long)p[0]) ||
            pthread_create(&b, NULL, spin, NULL))
            _exit(98);
        sched_yield();
        char *const argv[] = { "mtrue", "3", NULL };
        exec_or_exit("/bin/mtrue", argv, environ);
    }
    REQUIRE(pid > 0);
    CHECK_EQ(exit_status(pid), 3);
    close(p[0]);
    close(p[1]);
}

/* Children made before an exec are still children after it: the new program reaps them. */
static void exec_children_survive(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        pid_t kid = fork();
        if (kid == 0)
            _exit(9);
        char text[16];
        snprintf(text, sizeof text, "%d", (int)kid);
        char *const argv[] = { "mproc", "waitkid", text, NULL };
        exec_or_exit("/bin/mproc", argv, environ);
    }
    REQUIRE(pid > 0);
    CHECK_EQ(exit_status(pid), 10);
}

/* ---- posix_spawn ---- */

static void spawn_status(void)
{
    pid_t pid = 0;
    char *const argv[] = { "mtrue", "5", NULL };
    CHECK_EQ(posix_spawn(&pid, "/bin/mtrue", NULL, NULL, argv, environ), 0);
    REQUIRE(pid > 0);
    CHECK_EQ(exit_status(pid), 5);
}

static void spawn_file_actions_redirect(void)
{
    int p[2];
    char got[64];
    pid_t pid = 0;
    posix_spawn_file_actions_t fa;
    REQUIRE(pipe(p) == 0);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    posix_spawn_file_actions_addclose(&fa, p[1]);
    char *const argv[] = { "mproc", "echo", "through the pipe", NULL };
    CHECK_EQ(posix_spawn(&pid, "/bin/mproc", &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    read_all(p[0], got, sizeof got);
    close(p[0]);
    CHECK_STR(got, "through the pipe");
    CHECK_EQ(exit_status(pid), 0);
}

static void spawn_missing_enoent(void)
{
    pid_t pid = 0;
    int st;
    char *const argv[] = { "none", NULL };
    CHECK_EQ(posix_spawn(&pid, DIR_T "/none", NULL, NULL, argv, environ), ENOENT);
    CHECK_ERR(waitpid(-1, &st, WNOHANG), ECHILD);     /* the child that tried was reaped */
}

static void spawnp_searches_path(void)
{
    pid_t pid = 0;
    char *const argv[] = { "mtrue", "4", NULL };
    char *const envp[] = { "PATH=" DIR_T ":/bin", NULL };
    char **saved = environ;
    environ = (char **)envp;            /* posix_spawnp searches the caller's PATH */
    int r = posix_spawnp(&pid, "mtrue", NULL, NULL, argv, envp);
    environ = saved;
    CHECK_EQ(r, 0);
    REQUIRE(pid > 0);
    CHECK_EQ(exit_status(pid), 4);
}

/* ---- main ---- */

static const struct mcase cases[] = {
    { "exec.fork_exec_status", exec_fork_exec_status },
    { "exec.keeps_ids_fds_cwd", exec_keeps_ids_fds_cwd },
    { "exec.failures_leave_caller", exec_failures_leave_caller },
    { "exec.ends_other_threads", exec_ends_other_threads },
    { "exec.children_survive", exec_children_survive },
    { "spawn.status", spawn_status },
    { "spawn.file_actions_redirect", spawn_file_actions_redirect },
    { "spawn.missing_enoent", spawn_missing_enoent },
    { "spawn.spawnp_searches_path", spawnp_searches_path },
};

int main(int argc, char **argv)
{
    if (argc > 4 && strcmp(argv[1], "probe") == 0)
        return probe(argv);
    if (argc > 2 && strcmp(argv[1], "echo") == 0)
        return write(1, argv[2], strlen(argv[2])) == (ssize_t)strlen(argv[2]) ? 0 : 1;
    if (argc > 2 && strcmp(argv[1], "waitkid") == 0)
        return wait_kid(argv[2]);
    if (mkdir(DIR_T, 0755) != 0 && errno != EEXIST)
        printf("# mproc: cannot make %s: errno %d\n", DIR_T, errno);
    int failures = mcase_run_all(cases, sizeof cases / sizeof cases[0]);
    rmdir(DIR_T);
    return failures ? 1 : 0;
}
