/*
 * kernel/ktest.c - runs ktest suites and prints KTAP (see ktest.h).
 */
#include <stdarg.h>
#include "ktest.h"
#include "kprintf.h"

static int case_failed;
static char reason[200];

void ktest_fail(const char *file, int line, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kprintf("# %s:%d: %s\n", file, line, msg);
    if (!case_failed)
        ksnprintf(reason, sizeof reason, "%s:%d: %s", file, line, msg);
    case_failed = 1;
}

int ktest_failed(void)
{
    return case_failed;
}

int ktest_run(const struct ktest_suite *const *suites, size_t nsuites)
{
    size_t total = 0, n = 0;
    int failures = 0;
    for (size_t s = 0; s < nsuites; s++)
        total += suites[s]->ncases;
    kprintf("KTAP version 1\n1..%zu\n", total);
    for (size_t s = 0; s < nsuites; s++) {
        for (size_t c = 0; c < suites[s]->ncases; c++) {
            const struct ktest_case *tc = &suites[s]->cases[c];
            n++;
            kprintf("# run: %s.%s\n", suites[s]->name, tc->name);
            case_failed = 0;
            tc->fn();
            if (case_failed) {
                failures++;
                kprintf("not ok %zu - %s.%s # %s\n", n, suites[s]->name, tc->name, reason);
            } else {
                kprintf("ok %zu - %s.%s\n", n, suites[s]->name, tc->name);
            }
        }
    }
    return failures;
}
