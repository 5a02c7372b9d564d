/*
 * user/init.c - the first process. It says hello, runs what its arguments (the
 * kernel's bootargs) ask for, and exits; its exit status becomes QEMU's.
 *
 *   utest    run the user-space test programs (utest, the IPC tests uipc, the
 *            FP tests ufp, then udev, which gets copies of the console's device
 *            memobj and irq handles; each prints its own KTAP stream) and exit
 *            nonzero if any failed
 *
 * The KS_AT_CONSOLE_* handles are otherwise unused here for now; the FS server
 * will get them.
 *   bench    run the benchmark program
 */
#include "user/lib/ulib.h"

/* Run prog with copies of `given` handles; 0 if it exited 0. */
static int run_given(ks_handle_t image, const char *prog, const char *const argv[],
                     const ks_handle_t *given, unsigned ngiven)
{
    uint64_t status = 0;
    long r = ulib_spawn(image, prog, argv, given, ngiven);
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
    return (int)(status & 0xff);
}

static int run(ks_handle_t image, const char *prog, const char *const argv[])
{
    return run_given(image, prog, argv, NULL, 0);
}

/* udev: the console's handles, and where its registers are, as arguments. */
static int run_udev(ks_handle_t image)
{
    char offset[24], shift[24];
    ksnprintf(offset, sizeof offset, "%lu", (unsigned long)ulib_auxv(KS_AT_CONSOLE_REG_OFFSET));
    ksnprintf(shift, sizeof shift, "%lu", (unsigned long)ulib_auxv(KS_AT_CONSOLE_REG_SHIFT));
    const char *args[] = { "udev", offset, shift, NULL };
    const ks_handle_t given[] = {
        (ks_handle_t)ulib_auxv(KS_AT_CONSOLE_MMIO),
        (ks_handle_t)ulib_auxv(KS_AT_CONSOLE_IRQ),
    };
    if (given[0] == KS_HANDLE_NONE || given[1] == KS_HANDLE_NONE)
        return run(image, "udev", args);        /* it reports what is missing */
    return run_given(image, "udev", args, given, 2);
}

int main(int argc, char **argv)
{
    ks_handle_t image = (ks_handle_t)ulib_auxv(KS_AT_BOOTIMAGE);
    int status = 0;
    printf("Hello world.\n");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "utest") == 0) {
            const char *args[] = { "utest", NULL };
            status |= run(image, "utest", args);
            const char *ipc_args[] = { "uipc", NULL };
            status |= run(image, "uipc", ipc_args);
            const char *fp_args[] = { "ufp", NULL };
            status |= run(image, "ufp", fp_args);
            status |= run_udev(image);
        } else if (strcmp(argv[i], "bench") == 0) {
            const char *args[] = { "ubench", NULL };
            status |= run(image, "ubench", args);
        }
    }
    return status;
}
