/*
 * tests/fake/fake_arch.c - the host side of the fake architecture: console to
 * stdout, host time, and a panic() that tests can catch (tests/host.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <arch/arch.h>
#include "kernel/handle.h"
#include "kernel/kprintf.h"
#include "kernel/ktest.h"
#include "kernel/panic.h"
#include "tests/host.h"

static jmp_buf *panic_target;

/* Unbuffered stdout: KTAP lines must survive a sanitizer abort. */
__attribute__((constructor)) static void unbuffered_stdout(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
}

static char panic_message[512];

void arch_early_putc(char c)
{
    putchar(c);
}

uint64_t arch_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void arch_system_reset(int status)
{
    fflush(stdout);
    exit(status);
}

void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(panic_message, sizeof panic_message, fmt, ap);
    va_end(ap);
    if (panic_target)
        longjmp(*panic_target, 1);
    fprintf(stdout, "panic: %s\n", panic_message);
    fflush(stdout);
    abort();
}

int catch_panic(void (*fn)(void *arg), void *arg)
{
    jmp_buf here;
    jmp_buf *volatile outer = panic_target;
    panic_message[0] = '\0';
    if (setjmp(here)) {
        panic_target = outer;
        return 1;
    }
    panic_target = &here;
    fn(arg);
    panic_target = outer;
    return 0;
}

static void call_body(void *arg)
{
    (*(void (**)(void))arg)();
}

void run_guarded(void (*body)(void), void (*cleanup)(void))
{
    if (catch_panic(call_body, &body))
        ktest_fail(__FILE__, __LINE__, "unexpected panic: %s", last_panic_message());
    if (cleanup)
        cleanup();
}

const char *last_panic_message(void)
{
    return panic_message;
}

void *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = buf ? (size_t)n : 0;
    return buf;
}

static unsigned long rand_state = 88172645463325252ull;

void test_srand(unsigned long seed)
{
    rand_state = seed ? seed : 1;
}

unsigned long test_rand(void)
{
    rand_state ^= rand_state >> 12;
    rand_state ^= rand_state << 25;
    rand_state ^= rand_state >> 27;
    return rand_state * 2685821657736338717ull;
}

struct host_forgets host_forgets;

void handle_cache_forget(const struct handle_table *t, uint32_t slot)
{
    host_forgets.calls++;
    host_forgets.owner = t->owner;
    host_forgets.slot = slot;
}
