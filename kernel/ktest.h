/*
 * kernel/ktest.h - a small unit-test framework with KTAP output, used both by the
 * in-kernel tests (boot with "ktest" in bootargs) and by the host tests in tests/.
 *
 * A case is a void function; checks record the first failure's reason and go on
 * (KT_EXPECT*) or return from the case (KT_ASSERT). Output, one line per case:
 *   ok 3 - heap.sizes
 *   not ok 4 - page_alloc.reuse # kernel/tests.c:88: expected n == total (0x3 != 0x4)
 * after "KTAP version 1" and the plan "1..N". Before a case runs its name is printed
 * as "# run: NAME", so a harness that times out can say which case hung.
 */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include <stddef.h>
#include <stdint.h>

struct ktest_case {
    const char *name;
    void (*fn)(void);
};

struct ktest_suite {
    const char *name;
    const struct ktest_case *cases;
    size_t ncases;
};

#define KTEST_SUITE(var, suite_name, case_array) \
    const struct ktest_suite var = { suite_name, case_array, sizeof(case_array) / sizeof((case_array)[0]) }

/* Record a failure of the running case (the first reason is the one reported). */
void ktest_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* 1 if the running case has failed so far. */
int ktest_failed(void);

#define KT_EXPECT(c) \
    do { if (!(c)) ktest_fail(__FILE__, __LINE__, "expected %s", #c); } while (0)
#define KT_ASSERT(c) \
    do { if (!(c)) { ktest_fail(__FILE__, __LINE__, "expected %s", #c); return; } } while (0)
#define KT_EXPECT_EQ(a, b) \
    do { \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b); \
        if (a_ != b_) \
            ktest_fail(__FILE__, __LINE__, "expected %s == %s (0x%lx != 0x%lx)", #a, #b, \
                       (unsigned long)a_, (unsigned long)b_); \
    } while (0)
#define KT_EXPECT_STREQ(a, b) \
    do { \
        const char *a_ = (a), *b_ = (b); \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) \
            ktest_fail(__FILE__, __LINE__, "expected %s == \"%s\", got \"%s\"", #a, b_ ? b_ : "(null)", \
                       a_ ? a_ : "(null)"); \
    } while (0)

/* Run the suites as one KTAP stream; returns the number of failed cases. */
int ktest_run(const struct ktest_suite *const *suites, size_t nsuites);

#endif
