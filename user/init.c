/*
 * user/init.c - the first process (a musl program). It says hello with printf,
 * runs what its arguments (the kernel's bootargs) ask for, and exits; its exit
 * status becomes QEMU's.
 *
 *   utest    run the test programs (each prints its own KTAP stream) and exit
 *            nonzero if any failed
 *   bench    run the benchmark program
 */
#include <stdio.h>
#include <string.h>
#include "musl_emu.h"
#include "user/lib/ks.h"

static int run(const char *prog)
{
    const char *argv[] = { prog, NULL };
    uint64_t status;
    long r = musl_emu_run(prog, argv, &status);
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
    int status = 0;
    printf("Hello world.\n");
    fflush(stdout);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "utest") == 0) {
            status |= run("utest");
            status |= run("uipc");
            status |= run("ufp");
        } else if (strcmp(argv[i], "bench") == 0) {
            status |= run("ubench");
        }
    }
    return status;
}
