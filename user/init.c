/*
 * user/init.c - the first process. It says hello, runs what its arguments (the
 * kernel's bootargs) ask for, and exits; its exit status becomes QEMU's.
 *
 *   utest    run the user-space test programs (utest, then the IPC tests uipc;
 *            each prints its own KTAP stream) and exit nonzero if either failed
 *   bench    run the benchmark program
 */
#include "user/lib/ulib.h"

static int run(ks_handle_t image, const char *prog, const char *const argv[])
{
    uint64_t status;
    long r = ulib_run(image, prog, argv, &status);
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
        } else if (strcmp(argv[i], "bench") == 0) {
            const char *args[] = { "ubench", NULL };
            status |= run(image, "ubench", args);
        }
    }
    return status;
}
