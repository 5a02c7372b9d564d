/*
 * user/lib/mcase.h - the test framework of the musl test programs (mtest,
 * mproc): a case is a function that checks with the macros below; a failed
 * check prints "# FILE:LINE: what" and marks the case failed with the first
 * such line as its reason. mcase_run_all runs a table of cases as one KTAP
 * stream ("KTAP version 1", "1..N", "# run: NAME", then "ok N - NAME" or
 * "not ok N - NAME # reason"). Included once per program: it defines the
 * framework's state.
 */
#ifndef USER_LIB_MCASE_H
#define USER_LIB_MCASE_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#define KTAP_FLUSH() fflush(stdout)
#include "user/lib/ktap.h"

struct mcase {
    const char *name;
    void (*fn)(void);
};

static int case_failed;
static char reason[240];

static void fail_at(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail_at(const char *file, int line, const char *fmt, ...)
{
    if (strrchr(file, '/'))
        file = strrchr(file, '/') + 1;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("# %s:%d: %s\n", file, line, msg);
    if (!case_failed)
        snprintf(reason, sizeof reason, "%s:%d: %s", file, line, msg);
    case_failed = 1;
}

#define FAIL(...) fail_at(__FILE__, __LINE__, __VA_ARGS__)
#define CHECK(c) do { if (!(c)) FAIL("expected %s", #c); } while (0)
#define REQUIRE(c) do { if (!(c)) { FAIL("expected %s (errno %d)", #c, errno); return; } } while (0)
#define CHECK_EQ(a, b) \
    do { \
        long long a_ = (long long)(a), b_ = (long long)(b); \
        if (a_ != b_) \
            FAIL("expected %s == %s (%lld != %lld, errno %d)", #a, #b, a_, b_, errno); \
    } while (0)
#define CHECK_STR(a, b) \
    do { \
        const char *a_ = (a), *b_ = (b); \
        if (!a_ || strcmp(a_, b_) != 0) \
            FAIL("expected %s == \"%s\", got \"%s\"", #a, b_, a_ ? a_ : "(null)"); \
    } while (0)
/* expr must fail with -1 and errno e. */
#define CHECK_ERR(expr, e) \
    do { \
        errno = 0; \
        long r_ = (long)(expr); \
        int got_ = errno; \
        if (r_ != -1 || got_ != (e)) \
            FAIL("expected %s to fail with %s, got %ld errno %d (%s)", #expr, #e, r_, got_, \
                 strerror(got_)); \
    } while (0)
/* expr must return >= 0. */
#define CHECK_OK(expr) \
    do { \
        errno = 0; \
        long r_ = (long)(expr); \
        if (r_ < 0) \
            FAIL("%s failed: %ld errno %d (%s)", #expr, r_, errno, strerror(errno)); \
    } while (0)

/* Run every case of the table as one KTAP stream (stdout flushed): the number that failed. */
static inline int mcase_run_all(const struct mcase *cases, size_t n)
{
    struct ktap k;
    ktap_plan(&k, (unsigned)n);
    for (size_t i = 0; i < n; i++) {
        ktap_run(cases[i].name);
        case_failed = 0;
        errno = 0;
        cases[i].fn();
        ktap_result(&k, cases[i].name, !case_failed, reason);
    }
    fflush(stdout);
    return (int)k.failed;
}

#endif
