/*
 * user/lib/ulib.h - the small native user library: start-up, console output,
 * process spawning. printf-style output is the kernel's own formatter
 * (kernel/kprintf.c, compiled into user programs too) writing through
 * console_putc, which here buffers a line and sends it with ks_debug_write.
 */
#ifndef USER_ULIB_H
#define USER_ULIB_H

#include <stddef.h>
#include <stdint.h>
#include "kernel/kprintf.h"
#include "kernel/string.h"
#include "user/lib/ks.h"
#include "user/lib/loader.h"

#define printf kprintf

/* Send buffered console output now. */
void ulib_flush(void);

/* The value of auxiliary-vector entry `type` (0 if absent). */
uint64_t ulib_auxv(uint64_t type);

/* A private read/write anonymous mapping of len bytes (a stack, a heap); 0 on failure. */
uintptr_t ulib_map_anon(size_t len);

/* Exit the process after flushing output. */
__attribute__((noreturn)) void ulib_exit(int status);

/* Handles a parent passed with ulib_spawn, in order (KS_HANDLE_NONE if absent). */
ks_handle_t ulib_inherited(unsigned i);

int main(int argc, char **argv);

#endif
