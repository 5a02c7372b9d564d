/*
 * kernel/power.h - powering off with an exit status QEMU passes on.
 */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H

struct platform;

enum {
    EXIT_OK = 0,
    EXIT_TESTS_FAILED = 1,      /* in-kernel tests reported a failure */
    EXIT_PANIC = 3,             /* panic(): a kernel bug or an unbootable machine */
    EXIT_INIT_KILLED = 4,       /* init died of a fault or was killed */
};

/* Find the power-off device ("sifive,test0") the platform names, if any. */
void power_init(const struct platform *p);

/*
 * Power off. With the test device QEMU exits with `status`; otherwise SBI system
 * reset is the fallback, and Debian's OpenSBI 1.1 then makes QEMU exit 0 whatever
 * the status, so callers print their verdict before calling this.
 */
__attribute__((noreturn)) void shutdown(int status);

#endif
