/*
 * user/init.c - the first process (a musl program). It starts the FS server
 * (user/fsd/), connects its own stdio to it, says hello with printf (which
 * travels musl -> musl_emu -> IPC -> fsd -> the UART), runs what its arguments
 * (the kernel's bootargs) ask for, and exits; its exit status becomes QEMU's.
 *
 *   utest    check the path Hello world took (a KTAP stream of its own), then
 *            run the test programs (each prints its own KTAP stream), then
 *            kill fsd under a blocked client and restart it (a stream of its
 *            own), and exit nonzero if anything failed
 *   fuzz     run user/ufuzz.c, the system-call fuzzer (the arguments after it
 *            that say seeds=A..B, calls=N, verbose or pressure are its
 *            options), then check that fsd still serves
 *   console  run user/mconsole.c, which reads what is typed on the console
 *   blk      run user/ublk.c, the virtio block driver's tests (a disk attached)
 *   disk     run mtest's cases of the disk as /dev/vda (the 4 MiB test disk
 *            attached), kill the block driver, and run the case for a dead one
 *   ext2     the same with mtest's ext2 cases (tools/ext2-test-image's disk,
 *            mounted as "/")
 *   ext2w, ext2r, ext2crash, ext2crashcheck N
 *            mtest's cases that write the disk's ext2, read it back in a
 *            second boot, write and fsync until QEMU is killed, and check
 *            files 0..N after that crash (tools/run-tests runs them in order)
 *   pagefill run utest's pressure suite: a paged file larger than RAM (boot
 *            it with -m 64M)
 *   bench    report boot_to_hello, then run the benchmark programs (ubench,
 *            the native ABI; mbench, the POSIX layer); the arguments after it
 *            that say n=K or only=NAME are passed on (user/lib/bench.h)
 *   benchdisk  the ext2 figures alone (mbench disk), on the file system
 *            tools/bench-disk-image makes; the same options as bench
 *   sh       the last word: print /etc/motd and run busybox's shell on the
 *            console, interactive, and power off when it exits (its status
 *            is QEMU's). Words after it are the shell's arguments instead
 *            ("sh /bin/shtest" runs a script), and then no motd is printed
 *
 * fsd gets, as KS_AT_HANDLE_0 + 0, 1, 2: the listener its ports come from,
 * the console UART's device memobj and its irq (the last two are init's own,
 * from the kernel: KS_AT_CONSOLE_MMIO, KS_AT_CONSOLE_IRQ), and as argv[1],
 * argv[2] where the UART's registers sit in that memobj (offset, shift).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "musl_emu.h"
#include "user/lib/bench.h"
#include "user/lib/fsproto.h"
#include "user/lib/hog.h"
#include "user/lib/ipc.h"
#define KTAP_FLUSH() fflush(stdout)
#include "user/lib/ktap.h"
#include "user/lib/ks.h"
#include "user/lib/loader.h"

static int have_console_mmio;  /* fsd got the UART's registers (else it uses the debug console) */
static ks_handle_t fsd_proc;    /* fsd's process: init kills and restarts it in the utest run */
static ks_handle_t disk_driver;  /* the block driver's process (start_disk), or 0 */

/*
 * Resource limits (KS_SYS_PROCESS_LIMIT), planned once at boot from the free
 * memory then: RESERVE_BYTES stay out of everyone's reach (init's own needs,
 * the kernel's); fsd may take a quarter of the rest (its tree: files live in
 * its memobjs), and each program init runs, with its children, the other
 * three quarters. The two together cannot exhaust the machine.
 */
#define RESERVE_BYTES   (4ul << 20)
static struct ks_limits fsd_limits, program_limits;

static void plan_limits(void)
{
    struct ks_kstat k;
    uint64_t free = ks_kstat(&k) == 0 ? k.free_pages * KS_PAGE_SIZE : 0;
    uint64_t room = free > 2 * RESERVE_BYTES ? free - RESERVE_BYTES : RESERVE_BYTES;
    fsd_limits = (struct ks_limits){ .memory = room / 4, .threads = 64, .processes = 1 };
    program_limits = (struct ks_limits){ .memory = room - room / 4, .threads = 1024, .processes = 1024 };
}

/* Before stdio works: say why on the kernel's debug console and stop. */
static __attribute__((noreturn)) void fail(const char *what, long err)
{
    char msg[160];
    int n = snprintf(msg, sizeof msg, "init: %s (error %ld)\n", what, err);
    ks_debug_write(msg, n > 0 && (size_t)n < sizeof msg ? (size_t)n : strlen(msg));
    exit(2);
}

/*
 * The disk: if the kernel found a virtio block device and the boot is not
 * the driver's own tests (-append blk, whose tests start a driver of their
 * own), start its driver (user/vblk.c) on a listener of ours, and keep a client
 * port for fsd, which makes the disk /dev/vda. KS_HANDLE_NONE: no disk.
 */
static ks_handle_t disk_port = KS_HANDLE_NONE;
static ks_handle_t fsd_control;     /* fsd's control port (FS_PORT_INIT): only init holds one */

/* Hand fsd (a new one too) the disk: /dev/vda. 0, or what fsd said. */
static long attach_disk(void)
{
    if (disk_port == KS_HANDLE_NONE)
        return 0;
    uint64_t w[KS_IPC_WORDS] = { FS_OP_DISK };
    struct ks_ipc_desc d = { .send_handles = { disk_port }, .send_nhandles = 1 };  /* a copy: ours stays */
    long r = ks_ipc_call(fsd_control, &d, w, NULL);
    return r < 0 ? r : (long)w[0];
}

static void start_disk(void)
{
    for (int i = 0; i < KS_DEVICE_MAX; i++) {
        if (getauxval(KS_AT_DEVICE_ID(i)) != 2)     /* virtio's block device */
            continue;
        long l = ks_ipc_listener_create();
        long c = l > 0 ? ks_ipc_client_create((ks_handle_t)l, 1) : l;
        if (c < 0) {
            if (l > 0)
                ks_handle_close((ks_handle_t)l);
            return;
        }
        const char *argv[] = { "vblk", NULL };
        const ks_handle_t given[] = {
            (ks_handle_t)getauxval(KS_AT_DEVICE_MMIO(i)), (ks_handle_t)getauxval(KS_AT_DEVICE_IRQ(i)),
            (ks_handle_t)l,
        };
        long p = ulib_spawn((ks_handle_t)getauxval(KS_AT_BOOTIMAGE), "vblk", argv, given, 3);
        ks_handle_close((ks_handle_t)l);            /* the driver's copy is the one that counts */
        if (p < 0) {
            ks_handle_close((ks_handle_t)c);
            return;
        }
        disk_driver = (ks_handle_t)p;
        disk_port = (ks_handle_t)c;
        return;
    }
}

/*
 * Start fsd and make it our file system and console: at boot, and again after
 * fsd died (the new one starts with a fresh tree; init's own stdio is
 * reattached to it, and the old root port, whose listener is gone, closed).
 */
static void start_fs(void)
{
    ks_handle_t old_root = musl_emu_fs_root();
    char offset[24] = "0", shift[24] = "0";
    ks_handle_t extra[3];
    unsigned n = 0;
    long listener = ks_ipc_listener_create();
    if (listener < 0)
        fail("cannot create the FS server's listener", listener);
    long root = ks_ipc_client_create((ks_handle_t)listener, FS_PORT_ROOT);
    if (root < 0)
        fail("cannot create the FS root port", root);
    extra[n++] = (ks_handle_t)listener;
    ks_handle_t mmio = (ks_handle_t)getauxval(KS_AT_CONSOLE_MMIO);
    ks_handle_t irq = (ks_handle_t)getauxval(KS_AT_CONSOLE_IRQ);
    if (mmio != KS_HANDLE_NONE) {
        extra[n++] = mmio;
        have_console_mmio = 1;
        if (irq != KS_HANDLE_NONE)
            extra[n++] = irq;
    }
    snprintf(offset, sizeof offset, "%lu", getauxval(KS_AT_CONSOLE_REG_OFFSET));
    snprintf(shift, sizeof shift, "%lu", getauxval(KS_AT_CONSOLE_REG_SHIFT));
    const char *argv[] = { "fsd", offset, shift, NULL };
    long control = ks_ipc_client_create((ks_handle_t)listener, FS_PORT_INIT);
    if (control < 0)
        fail("cannot create the FS control port", control);
    if (fsd_control)
        ks_handle_close(fsd_control);
    fsd_control = (ks_handle_t)control;
    /* Not musl_emu_spawn: that would pass fsd our root port, which after a restart is the dead one. */
    ulib_spawn_limits(&fsd_limits);
    long p = ulib_spawn((ks_handle_t)getauxval(KS_AT_BOOTIMAGE), "fsd", argv, extra, n);
    ulib_spawn_limits(&program_limits);
    if (p < 0)
        fail("cannot start the FS server fsd", p);
    fsd_proc = (ks_handle_t)p;
    ks_handle_close((ks_handle_t)listener);     /* fsd's copy is the one that counts */
    if (musl_emu_attach_fs((ks_handle_t)root) < 0)
        fail("cannot open /dev/console on the FS server", -1);
    if (old_root)
        ks_handle_close(old_root);
    clearerr(stdout);
}

/*
 * If fsd has ended (its root port answers KS_ERR_PEER_CLOSED), reap it and
 * start a new one: 1 if it did. init asks before each program it runs.
 */
static int restart_fs_if_gone(void)
{
    uint64_t w[KS_IPC_WORDS] = { FS_OP_STATS }, status = 0;
    if (ks_ipc_call(musl_emu_fs_root(), NULL, w, NULL) != KS_ERR_PEER_CLOSED)
        return 0;
    ks_process_wait(fsd_proc, &status);
    ks_handle_close(fsd_proc);
    start_fs();
    attach_disk();
    printf("init: fsd ended (status %#lx); a new one serves, with a fresh tree\n", (unsigned long)status);
    return 1;
}

/* ---- the utest configuration's own checks: how Hello world got out ---- */

/* write() of len bytes (a KTAP comment line, so the harness ignores it) to a new /dev/console fd. */
static long console_write_n(size_t len)
{
    char line[128];
    if (len < 2 || len > sizeof line)
        return -1;
    memset(line, '-', len);
    memcpy(line, "# ", 2);
    line[len - 1] = '\n';
    int fd = open("/dev/console", O_WRONLY | O_NOCTTY);
    if (fd < 0)
        return -1;
    long r = write(fd, line, len);
    close(fd);
    return r;
}

static int init_checks(void)
{
    struct ktap k;
    struct ks_kstat ks;
    ktap_plan(&k, 4);
    ktap_run("init.no_debug_writes");
    long r = ks_kstat(&ks);
    if (have_console_mmio)
        ktap_result(&k, "init.no_debug_writes", r == 0 && ks.debug_write_calls == 0,
                    "the kernel's debug console was used");
    else
        ktap_skip(&k, "init.no_debug_writes", "no console MMIO handle: fsd uses the debug console");

    ktap_run("init.fsd_stats");
    uint64_t w[KS_IPC_WORDS] = { FS_OP_STATS };
    r = ks_ipc_call(musl_emu_fs_root(), NULL, w, NULL);
    ktap_result(&k, "init.fsd_stats", r == 0 && w[0] == 0 && w[1] >= strlen("Hello world.\n") && w[2] >= 1,
                "FS_OP_STATS does not account for Hello world");

    ktap_run("init.console_write_buffer");
    ktap_result(&k, "init.console_write_buffer", console_write_n(100) == 100, "write of 100 bytes");

    ktap_run("init.console_write_regs");
    ktap_result(&k, "init.console_write_regs", console_write_n(10) == 10, "write of 10 bytes");
    return k.failed != 0;
}

/* ---- running programs ---- */

/*
 * Run prog with argv and copies of `given` handles, and wait for it; 0 if it
 * exited 0 and fsd had not ended before it started (init restarts it then). Native programs (utest, uipc, ...) start with the boot image handle
 * and the given handles only, as they always have (their handle counts rely on
 * it); musl programs also get the FS root port (musl_emu_spawn).
 */
/*
 * A musl program runs from /bin as any program would start another: with
 * posix_spawn, then waitpid. Its limits are set as soon as it exists (the
 * moment before, it is a copy of init, which is small); its descriptors are
 * init's standard streams.
 */
static int run_bin(const char *prog, const char *const argv[])
{
    extern char **environ;
    char path[64];
    pid_t pid;
    int st = 0;
    snprintf(path, sizeof path, "/bin/%s", prog);
    int lost = restart_fs_if_gone();
    int r = posix_spawn(&pid, path, NULL, NULL, (char *const *)argv, environ);
    if (r != 0) {
        printf("init: cannot run %s: %s\n", path, strerror(r));
        return 1;
    }
    ks_handle_t h = musl_emu_child_handle(pid);
    if (h)
        ks_process_limit(h, &program_limits, NULL, NULL);
    if (waitpid(pid, &st, 0) != pid) {
        printf("init: cannot wait for %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (WIFSIGNALED(st)) {
        printf("init: %s was killed (signal %d)\n", prog, WTERMSIG(st));
        return 1;
    }
    return lost | WEXITSTATUS(st);
}

static int run_args(const char *prog, const char *const argv[], int native,
                    const ks_handle_t *given, unsigned ngiven)
{
    uint64_t status = 0;
    if (!native && !ngiven)
        return run_bin(prog, argv);
    int lost = restart_fs_if_gone();    /* fsd ended during the program before: that one failed */
    long r = native ? ulib_spawn((ks_handle_t)getauxval(KS_AT_BOOTIMAGE), prog, argv, given, ngiven)
                    : musl_emu_spawn(prog, argv, given, ngiven);
    if (r >= 0) {
        ks_handle_t p = (ks_handle_t)r;
        r = ks_process_wait(p, &status);
        ks_handle_close(p);
    }
    if (r < 0) {
        printf("init: cannot run %s: error %ld\n", prog, r);
        return 1;
    }
    if (status & KS_STATUS_KILLED) {
        printf("init: %s was killed (cause %u)\n", prog, (unsigned)status);
        return 1;
    }
    return lost | (int)(status & 0xff);
}

/*
 * busybox's poweroff, halt and reboot signal init (SIGUSR2, SIGUSR1, SIGTERM),
 * as busybox's own init expects: each powers the machine off with status 0
 * (init's exit does; a reboot is a power-off here).
 */
static void shutdown_signal(int sig)
{
    static const char msg[] = "init: the system is going down\n";
    write(1, msg, sizeof msg - 1);
    sync();                     /* every file on the disk written, as a clean power-off should */
    _exit(0);
}

/*
 * The shell: /bin/sh (busybox's ash) in a session of its own with the console
 * as its controlling terminal, run with posix_spawn like any program and
 * waited for; its exit status. With no arguments it is an interactive login
 * shell ("-sh"), after the motd.
 */
static int run_shell(int argc, char **argv)
{
    static char *const env[] = { "PATH=/bin", "HOME=/", "TERM=vt100", "PS1=\\w # ", NULL };
    char *args[32] = { "-sh" };
    int n = 1;
    if (argc > 0)
        args[0] = "sh";
    for (int i = 0; i < argc && n < 31; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    if (argc == 0) {
        FILE *m = fopen("/etc/motd", "r");
        int c;
        while (m && (c = getc(m)) != EOF)
            putchar(c);
        if (m)
            fclose(m);
        fflush(stdout);
    }
    signal(SIGUSR1, shutdown_signal);
    signal(SIGUSR2, shutdown_signal);
    signal(SIGTERM, shutdown_signal);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID);
    pid_t pid;
    int st = 0, r = posix_spawn(&pid, "/bin/sh", NULL, &at, args, env);
    posix_spawnattr_destroy(&at);
    if (r != 0) {
        printf("init: cannot run /bin/sh: %s\n", strerror(r));
        return 1;
    }
    ks_handle_t h = musl_emu_child_handle(pid);
    if (h)
        ks_process_limit(h, &program_limits, NULL, NULL);
    while (waitpid(pid, &st, 0) != pid)
        if (errno != EINTR) {
            printf("init: cannot wait for /bin/sh: %s\n", strerror(errno));
            return 1;
        }
    if (WIFSIGNALED(st)) {
        printf("init: /bin/sh was killed (signal %d)\n", WTERMSIG(st));
        return 128 + WTERMSIG(st);
    }
    return WEXITSTATUS(st);
}

/*
 * The benchmark programs, with init's arguments after "bench" that are
 * benchmark options (n=K, only=NAME: user/lib/bench.h), and `word` first if
 * it is not NULL (mbench's "disk").
 */
static int run_bench(const char *prog, int native, const char *word, int argc, char **argv, int from)
{
    const char *args[8] = { prog, word };
    int n = 1 + (word != NULL);
    for (int i = from; i < argc && n < 7; i++)
        if (strncmp(argv[i], "n=", 2) == 0 || strncmp(argv[i], "only=", 5) == 0)
            args[n++] = argv[i];
    args[n] = NULL;
    return run_args(prog, args, native, NULL, 0);
}

/*
 * The system-call fuzzer (user/ufuzz.c) with init's arguments after "fuzz"
 * that are its options (seeds=A..B, calls=N, verbose, pressure); then a check that fsd,
 * which every fuzzing child could reach only through the kernel, still serves.
 */
static int run_fuzz(int argc, char **argv, int from)
{
    const char *args[8] = { "ufuzz" };
    int n = 1, pressure = 0;
    for (int i = from; i < argc && n < 7; i++)
        if (strncmp(argv[i], "seeds=", 6) == 0 || strncmp(argv[i], "calls=", 6) == 0 ||
            strncmp(argv[i], "mode=", 5) == 0 || strcmp(argv[i], "verbose") == 0 ||
            strcmp(argv[i], "pressure") == 0)
            pressure |= strcmp(args[n++] = argv[i], "pressure") == 0;
    args[n] = NULL;
    /* Under pressure the fuzzer runs without limits, so that its children meet the machine's
       own exhaustion (the page allocator's failures), not their account's. */
    if (pressure)
        ulib_spawn_limits(NULL);
    ks_handle_t root = musl_emu_fs_root();     /* mode=fsd's target; the other modes ignore it */
    int status = run_args("ufuzz", args, 1, &root, 1);
    ulib_spawn_limits(&program_limits);
    struct ktap k;
    struct stat st;
    ktap_plan(&k, 1);
    ktap_run("fuzz.fsd_still_serves");
    int fsd_ok = ktap_result(&k, "fuzz.fsd_still_serves", stat("/etc/motd", &st) == 0 && S_ISREG(st.st_mode),
                             "stat of /etc/motd through fsd failed after the fuzzer ran");
    return status | !fsd_ok;
}

static int run(const char *prog, int native)
{
    const char *argv[] = { prog, NULL };
    return run_args(prog, argv, native, NULL, 0);
}

/*
 * udev (native) tests device memobjs and interrupt delivery on the console's
 * own UART: it gets copies of the console's handles and where the registers
 * are. It runs before anything reads the console, so fsd has not bound the
 * interrupt yet (fsd binds it at the first read).
 */
static int run_udev(void)
{
    char offset[24], shift[24];
    snprintf(offset, sizeof offset, "%lu", getauxval(KS_AT_CONSOLE_REG_OFFSET));
    snprintf(shift, sizeof shift, "%lu", getauxval(KS_AT_CONSOLE_REG_SHIFT));
    const char *argv[] = { "udev", offset, shift, NULL };
    const ks_handle_t given[] = {
        (ks_handle_t)getauxval(KS_AT_CONSOLE_MMIO),
        (ks_handle_t)getauxval(KS_AT_CONSOLE_IRQ),
    };
    if (given[0] == KS_HANDLE_NONE || given[1] == KS_HANDLE_NONE)
        return run_args("udev", argv, 1, NULL, 0);     /* it reports what is missing */
    return run_args("udev", argv, 1, given, 2);
}

/*
 * ublk (native) tests the virtio block driver and DMA memory on the first
 * block device the kernel found (KS_AT_DEVICE_*): copies of its registers'
 * memobj and its interrupt. It starts the driver itself.
 */
static int run_ublk(void)
{
    for (int i = 0; i < KS_DEVICE_MAX; i++) {
        if (getauxval(KS_AT_DEVICE_ID(i)) != 2)     /* virtio's block device */
            continue;
        const char *argv[] = { "ublk", NULL };
        const ks_handle_t given[] = {
            (ks_handle_t)getauxval(KS_AT_DEVICE_MMIO(i)),
            (ks_handle_t)getauxval(KS_AT_DEVICE_IRQ(i)),
        };
        return run_args("ublk", argv, 1, given, 2);
    }
    printf("init: blk: no virtio block device (QEMU needs -drive ... -device virtio-blk-device and "
           "-global virtio-mmio.force-legacy=false)\n");
    return 1;
}

/*
 * The disk through fsd (/dev/vda): mtest's `cases`, then the driver killed
 * and mtest's `dead_cases`, for a disk whose driver is gone (EIO, fsd still
 * serving).
 */
static int run_disk(const char *cases, const char *dead_cases)
{
    if (disk_port == KS_HANDLE_NONE) {
        printf("init: disk: no virtio block device (QEMU needs -drive ... -device virtio-blk-device and "
               "-global virtio-mmio.force-legacy=false)\n");
        return 1;
    }
    const char *argv[] = { "mtest", cases, NULL };
    int status = run_args("mtest", argv, 0, NULL, 0);
    uint64_t st = 0;
    ks_process_kill(disk_driver);
    ks_process_wait(disk_driver, &st);
    const char *dead[] = { "mtest", dead_cases, NULL };
    return status | run_args("mtest", dead, 0, NULL, 0);
}

/* 1 if path can be written with `text` and read back the same through fsd. */
static int write_read_back(const char *path, const char *text)
{
    char got[64] = "";
    long n = (long)strlen(text);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0 || write(fd, text, (size_t)n) != n || close(fd) != 0)
        return 0;
    if ((fd = open(path, O_RDONLY)) < 0)
        return 0;
    int ok = read(fd, got, sizeof got - 1) == n && strcmp(got, text) == 0;
    return close(fd) == 0 && ok;
}

/* The console reads parked in fsd now (FS_OP_STATS), or -1. */
static long fsd_parked_reads(void)
{
    uint64_t w[KS_IPC_WORDS] = { FS_OP_STATS };
    return ks_ipc_call(musl_emu_fs_root(), NULL, w, NULL) == 0 && w[0] == 0 ? (long)w[3] : -1;
}

/*
 * fsd dies, the system stays: a client (mtest victim) parks a console read in
 * fsd (init waits until fsd counts it); init kills fsd. The client's read and its next open must fail with
 * EIO, a file init opened before keeps its bytes (they live in a memobj, not
 * in fsd), and init's check before the next program starts a new fsd, whose
 * tree starts fresh and which serves new opens. Nothing may be printed while
 * fsd is down (init's stdout is fsd's console).
 */
static int run_fsd_restart(void)
{
    struct ktap k;
    struct stat st;
    uint64_t child_status = 0;
    char kept[8] = "";
    ktap_plan(&k, 5);
    int made = write_read_back("/restart-before", "kept?\n");
    int fd = open("/restart-before", O_RDONLY);
    const char *argv[] = { "mtest", "victim", NULL };
    long parked_before = fsd_parked_reads(), parked = parked_before;
    long child = musl_emu_spawn("mtest", argv, NULL, 0);
    for (int i = 0; child >= 0 && i < 5000 && parked == parked_before; i++) {
        usleep(1000);           /* until its read waits in fsd for input */
        parked = fsd_parked_reads();
    }
    fflush(stdout);
    long killed = ks_process_kill(fsd_proc);
    long waited = child < 0 ? child : ks_process_wait((ks_handle_t)child, &child_status);
    if (child >= 0)
        ks_handle_close((ks_handle_t)child);
    long got = fd >= 0 ? read(fd, kept, sizeof kept - 1) : -1;
    long closed = fd >= 0 ? close(fd) : -1;
    int restarted = restart_fs_if_gone();
    ktap_run("fsd_restart.killed_and_restarted");
    ktap_result(&k, "fsd_restart.killed_and_restarted", killed == 0 && restarted,
                "fsd could not be killed, or init did not notice and restart it");
    ktap_run("fsd_restart.blocked_client_gets_eio");
    ktap_result(&k, "fsd_restart.blocked_client_gets_eio",
                parked == parked_before + 1 && waited == 0 && child_status == 0,
                "mtest victim: its read never waited in fsd, or its read (status 1) or open (2) did not "
                "fail with EIO");
    if (parked != parked_before + 1 || waited != 0 || child_status != 0)
        printf("# victim: parked reads %ld -> %ld, wait %ld, status %#lx\n", parked_before, parked, waited,
               (unsigned long)child_status);
    ktap_run("fsd_restart.open_file_outlives_fsd");
    ktap_result(&k, "fsd_restart.open_file_outlives_fsd", got == 6 && strcmp(kept, "kept?\n") == 0 && closed == 0,
                "a file open before fsd died could not be read and closed");
    if (got != 6 || closed != 0)
        printf("# open file: read %ld, close %ld, fd %d\n", got, closed, fd);
    ktap_run("fsd_restart.new_fsd_serves");
    ktap_result(&k, "fsd_restart.new_fsd_serves", write_read_back("/restart-after", "served\n"),
                "write and read back through the new fsd failed");
    ktap_run("fsd_restart.tree_starts_fresh");
    errno = 0;
    ktap_result(&k, "fsd_restart.tree_starts_fresh", made && stat("/restart-before", &st) != 0 && errno == ENOENT,
                "a file of the old fsd is still there, or could not be made");
    return k.failed != 0;
}

/* 1 if a 1 MiB memobj can be made and every page of it written (then it is closed). */
static int can_take_a_mebibyte(void)
{
    static const char one = 1;
    long mo = ks_memobj_create(1ul << 20);
    int ok = mo >= 0;
    for (uint64_t off = 0; ok && off < (1ul << 20); off += KS_PAGE_SIZE)
        ok = ks_memobj_write((ks_handle_t)mo, off, &one, 1) == 1;
    if (mo >= 0)
        ks_handle_close((ks_handle_t)mo);
    return ok;
}

/* The hog's report against its account: each stage ended at its limit. */
static int hog_at_limits(const struct hog_report *r, long got, const struct ks_limits *used,
                         const struct ks_limits *lim)
{
    int ok = r->done && got == 0 &&
             r->error[HOG_PROCESSES] == KS_ERR_LIMIT && r->made[HOG_PROCESSES] + 1 == lim->processes &&
             used->processes == lim->processes &&
             r->error[HOG_THREADS] == KS_ERR_LIMIT && r->made[HOG_THREADS] + 1 == lim->threads &&
             used->threads == lim->threads &&
             r->made[HOG_TABLES] == 512 && r->error[HOG_TABLES] == 0 &&
             r->error[HOG_MEMORY] == KS_ERR_NO_MEMORY && r->error[HOG_OBJECTS] == KS_ERR_NO_MEMORY &&
             used->memory <= lim->memory && lim->memory - used->memory < KS_PAGE_SIZE;
    if (!ok)
        printf("# hog: done %lu, call %ld; processes %lu (%ld), threads %lu (%ld), tables %lu (%ld), "
               "memory %lu (%ld), objects %lu (%ld); used %lu/%lu bytes, %lu/%lu threads, %lu/%lu processes\n",
               (unsigned long)r->done, got, (unsigned long)r->made[HOG_PROCESSES], (long)r->error[HOG_PROCESSES],
               (unsigned long)r->made[HOG_THREADS], (long)r->error[HOG_THREADS],
               (unsigned long)r->made[HOG_TABLES], (long)r->error[HOG_TABLES],
               (unsigned long)r->made[HOG_MEMORY], (long)r->error[HOG_MEMORY],
               (unsigned long)r->made[HOG_OBJECTS], (long)r->error[HOG_OBJECTS],
               (unsigned long)used->memory, (unsigned long)lim->memory, (unsigned long)used->threads,
               (unsigned long)lim->threads, (unsigned long)used->processes, (unsigned long)lim->processes);
    return ok;
}

/* KS_SYS_PROCESS_LIMIT's refusals: on the dead hog, on fsd, and from a sibling of fsd
   (a process's own limits, which it may only lower, are utest's limits.own_lowered_only). */
static int limit_rules_hold(ks_handle_t dead)
{
    struct ks_limits l = program_limits, got;
    int ok = ks_process_limit(dead, NULL, &got, NULL) == KS_ERR_BAD_STATE &&
             ks_process_limit(dead, (const struct ks_limits *)1, NULL, NULL) == KS_ERR_FAULT &&
             ks_process_limit(fsd_proc, NULL, NULL, (struct ks_limits *)(KS_USER_TOP - 8)) == KS_ERR_FAULT;
    l.reserved = 1;
    ok = ok && ks_process_limit(fsd_proc, &l, NULL, NULL) == KS_ERR_INVALID;
    long ro = ks_handle_duplicate(fsd_proc, KS_RIGHT_READ);
    ok = ok && ro >= 0 && ks_process_limit((ks_handle_t)ro, &program_limits, NULL, NULL) == KS_ERR_ACCESS &&
         ks_process_limit((ks_handle_t)ro, NULL, &got, &l) == 0 && got.processes == 1 &&
         l.memory == fsd_limits.memory && l.threads == fsd_limits.threads && l.processes == 1;
    if (ro >= 0)
        ks_handle_close((ks_handle_t)ro);
    /* A sibling handed MANAGE on fsd still may not set fsd's limits: fsd is not below it. */
    const char *argv[] = { "uhog", "sibling", NULL };
    long sib = ulib_spawn((ks_handle_t)getauxval(KS_AT_BOOTIMAGE), "uhog", argv, &fsd_proc, 1);
    uint64_t status = 1;
    ok = ok && sib >= 0 && ks_process_wait((ks_handle_t)sib, &status) == 0 && status == 0;
    if (sib >= 0)
        ks_handle_close((ks_handle_t)sib);
    return ok;
}

/*
 * Bounded resources: uhog, started like any program (program_limits), takes
 * everything it can in every way; init, fsd and a new program keep working
 * meanwhile, and killing uhog gives back every page and object it had.
 */
static int run_limits(void)
{
    struct ktap k;
    struct ks_kstat before = { 0 }, after = { 0 };
    struct ks_limits used = { 0 }, lim = { 0 };
    uint64_t status = 0;
    ktap_plan(&k, 4);
    /* What the checks below do, once first: the heaps they grow are then in the baseline. */
    const char *ok_argv[] = { "uhog", "ok", NULL };
    uint64_t ok_status = 1;
    write_read_back("/tmp/limits", "warm\n");
    unlink("/tmp/limits");
    ulib_run((ks_handle_t)getauxval(KS_AT_BOOTIMAGE), "uhog", ok_argv, &ok_status);
    can_take_a_mebibyte();
    long mo = ks_memobj_create(KS_PAGE_SIZE);
    long at = mo < 0 ? mo : ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)mo, 0, 0, KS_PAGE_SIZE,
                                      KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    struct hog_report *r = at < 0 ? NULL : (struct hog_report *)at;
    if (r)
        r->done = 0;            /* its page and page tables made now, before the baseline */
    ks_kstat(&before);
    const char *argv[] = { "uhog", NULL };
    ks_handle_t given = (ks_handle_t)mo;
    long hog = r ? ulib_spawn((ks_handle_t)getauxval(KS_AT_BOOTIMAGE), "uhog", argv, &given, 1) : at;
    for (int i = 0; hog >= 0 && i < 30000 && !r->done; i++)
        usleep(1000);
    long got = hog < 0 ? hog : ks_process_limit((ks_handle_t)hog, NULL, &used, &lim);

    ktap_run("limits.hog_stopped_at_each_limit");
    ktap_result(&k, "limits.hog_stopped_at_each_limit", r && hog_at_limits(r, got, &used, &lim),
                "uhog did not finish, or a stage did not end at its limit");

    ktap_run("limits.others_keep_working");
    ok_status = 1;
    int fs_ok = write_read_back("/tmp/limits", "still here\n");
    unlink("/tmp/limits");
    ktap_result(&k, "limits.others_keep_working",
                can_take_a_mebibyte() && fs_ok &&
                    ulib_run((ks_handle_t)getauxval(KS_AT_BOOTIMAGE), "uhog", ok_argv, &ok_status) == 0 &&
                    ok_status == 0,
                "init could not take 1 MiB, fsd could not store a file, or a new program did not run");

    long killed = hog < 0 ? hog : ks_process_kill((ks_handle_t)hog);
    long waited = hog < 0 ? hog : ks_process_wait((ks_handle_t)hog, &status);
    ktap_run("limits.set_from_above_only");
    ktap_result(&k, "limits.set_from_above_only", hog >= 0 && limit_rules_hold((ks_handle_t)hog),
                "KS_SYS_PROCESS_LIMIT accepted a call it must refuse, or refused a good one");
    if (hog >= 0)
        ks_handle_close((ks_handle_t)hog);
    ks_kstat(&after);
    ktap_run("limits.exit_gives_everything_back");
    ktap_result(&k, "limits.exit_gives_everything_back",
                killed == 0 && waited == 0 && after.objects == before.objects &&
                    after.heap_objects == before.heap_objects && after.free_pages + 8 >= before.free_pages,
                "pages, heap objects or kernel objects of the hog stayed after it was killed");
    if (after.objects != before.objects || after.heap_objects != before.heap_objects ||
        after.free_pages + 8 < before.free_pages)
        printf("# free pages %lu -> %lu, heap objects %lu -> %lu, objects %lu -> %lu\n",
               (unsigned long)before.free_pages, (unsigned long)after.free_pages,
               (unsigned long)before.heap_objects, (unsigned long)after.heap_objects,
               (unsigned long)before.objects, (unsigned long)after.objects);
    if (at >= 0)
        ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)at, KS_PAGE_SIZE);
    if (mo >= 0)
        ks_handle_close((ks_handle_t)mo);
    return k.failed != 0;
}

/*
 * bench boot_to_hello: instructions from the kernel's first one to the moment
 * "Hello world." has gone out through fsd (printf and fflush returned). Exact
 * under `make bench` (-icount); it includes OpenSBI's hand-off nothing, since
 * the kernel saves the counter at its entry (struct ks_kstat.boot_instret).
 */
static void report_boot_to_hello(uint64_t hello_instret)
{
    struct ks_kstat k;
    if (ks_kstat(&k) == 0)
        report("boot_to_hello", hello_instret - k.boot_instret, 1, "insn");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int status = 0;
    plan_limits();
    start_fs();
    printf("Hello world.\n");
    fflush(stdout);
    uint64_t hello_instret = instret();
    int blk_tests = 0;
    for (int i = 1; i < argc; i++)
        blk_tests |= strcmp(argv[i], "blk") == 0;
    if (!blk_tests) {                   /* after the line: the disk costs the boot nothing */
        start_disk();
        if (attach_disk() < 0)
            printf("init: the disk's driver did not start: no /dev/vda\n");
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "utest") == 0) {
            status |= init_checks();
            status |= run("utest", 1);
            status |= run("uipc", 1);
            status |= run("ufp", 1);
            status |= run("upipe", 1);
            status |= run_udev();
            status |= run("mtest", 0);
            status |= run("mproc", 0);
            status |= run_limits();
            status |= run_fsd_restart();
        } else if (strcmp(argv[i], "fuzz") == 0) {
            status |= run_fuzz(argc, argv, i + 1);
        } else if (strcmp(argv[i], "sh") == 0) {
            status |= run_shell(argc - i - 1, argv + i + 1);
            break;
        } else if (strcmp(argv[i], "console") == 0) {
            status |= run("mconsole", 0);
        } else if (strcmp(argv[i], "blk") == 0) {
            status |= run_ublk();
        } else if (strcmp(argv[i], "disk") == 0) {
            status |= run_disk("disk", "disk-dead");
        } else if (strcmp(argv[i], "ext2") == 0) {
            status |= run_disk("ext2", "ext2-dead");
        } else if (strcmp(argv[i], "ext2w") == 0 || strcmp(argv[i], "ext2r") == 0 ||
                   strcmp(argv[i], "ext2crash") == 0 || strcmp(argv[i], "ext2crashcheck") == 0) {
            const char *margv[] = { "mtest", argv[i], i + 1 < argc ? argv[i + 1] : NULL, NULL };
            i += strcmp(argv[i], "ext2crashcheck") == 0;     /* (its word: the last file fsynced) */
            status |= run_args("mtest", margv, 0, NULL, 0);
        } else if (strcmp(argv[i], "pagefill") == 0) {
            const char *pargv[] = { "utest", "pressure", NULL };   /* a paged file larger than RAM */
            status |= run_args("utest", pargv, 1, NULL, 0);
        } else if (strcmp(argv[i], "bench") == 0) {
            bench_options(argc - i, argv + i);
            if (bench_wanted("boot_to_hello"))
                report_boot_to_hello(hello_instret);
            status |= run_bench("ubench", 1, NULL, argc, argv, i + 1);
            status |= run_bench("mbench", 0, NULL, argc, argv, i + 1);
            if (!bench_cap && bench_wanted("irq_latency_fuzz")) {
                /* the worst interrupt wait during a short fuzzing run */
                const char *fuzz[] = { "ufuzz", "seeds=1..4", "calls=25000", "bench", NULL };
                status |= run_args("ufuzz", fuzz, 1, NULL, 0);
            }
        } else if (strcmp(argv[i], "benchdisk") == 0) {
            bench_options(argc - i, argv + i);
            status |= run_bench("mbench", 0, "disk", argc, argv, i + 1);
        }
    }
    if (disk_port != KS_HANDLE_NONE)
        sync();                 /* a clean power-off: every file on the disk written first */
    return status;
}
