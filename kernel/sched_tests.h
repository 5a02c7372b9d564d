/*
 * kernel/sched_tests.h - the in-kernel scheduler test suite (see sched_tests.c).
 */
#ifndef KERNEL_SCHED_TESTS_H
#define KERNEL_SCHED_TESTS_H

#include "ktest.h"

extern const struct ktest_suite sched_suite;

#endif
