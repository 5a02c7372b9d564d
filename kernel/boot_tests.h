/*
 * kernel/boot_tests.h - the in-kernel test run ("ktest" in bootargs) and the
 * deliberate fault behind "ktest.panic".
 */
#ifndef KERNEL_BOOT_TESTS_H
#define KERNEL_BOOT_TESTS_H

/* Run the in-kernel suites, printing KTAP. Returns the number of failures. */
int boot_tests_run(void);

/* Store to an unmapped address: the kernel must panic naming this function. */
void ktest_panic_fault(void);

/*
 * "ktest.uaf": free a heap object, write into it, and allocate again. The
 * debug kernel (kernel/debug.h) must panic at that allocation ("written after
 * it was freed"); the other kernel says it was not caught.
 */
void ktest_use_after_free(void);

#endif
