/*
 * tests/host.h - helpers shared by the host unit tests.
 */
#ifndef TESTS_HOST_H
#define TESTS_HOST_H

#include <stddef.h>

/*
 * Run fn(arg). If it calls panic(), return 1 and keep the message (see
 * last_panic_message()); if it returns normally, return 0. The fake panic()
 * longjmps out, so memory fn allocated is not freed: keep such calls small.
 */
int catch_panic(void (*fn)(void *arg), void *arg);
const char *last_panic_message(void);

/* Read a whole file into a malloc'ed buffer of exactly its size; NULL on error. */
void *read_file(const char *path, size_t *size);

/* Deterministic pseudo-random numbers (xorshift64*), so failures reproduce. */
unsigned long test_rand(void);
void test_srand(unsigned long seed);

#endif
