/*
 * musl_emu.h - what musl programs can ask of musl_emu.c beyond POSIX.
 *
 * musl_emu serves musl's Linux system calls. A program normally never calls it
 * directly; init does, to connect itself to the FS server it has just started,
 * and to start other programs (spawn, below).
 */
#ifndef MUSL_EMU_H
#define MUSL_EMU_H

#include <stddef.h>
#include <stdint.h>
#include <kestrel/handle.h>

/*
 * CLOCK_REALTIME is CLOCK_MONOTONIC plus this: kestrel has no RTC driver, so
 * wall-clock time starts at 2026-01-01 00:00:00 UTC at every boot.
 */
#define MUSL_EMU_REALTIME_BASE_NS   (1767225600ull * 1000000000ull)

/* Use `root` (a root port of the FS server, userdata FS_PORT_ROOT) for files from
   now on, and reopen fds 0, 1 and 2 on /dev/console. 0, or -1 if that failed. */
int musl_emu_attach_fs(ks_handle_t root);

/* The FS root port in use (0: none; fds 0-2 then go to the kernel's debug console). */
ks_handle_t musl_emu_fs_root(void);

/* The process handle musl_emu keeps for child pid (from fork or posix_spawn, not yet reaped),
   or 0: what a parent that sets its children's limits needs. The handle stays musl_emu's. */
ks_handle_t musl_emu_child_handle(int pid);

/*
 * Start `name` from the boot image as a new process with argv, giving it copies
 * of up to 3 handles (extra, nextra; it finds them as KS_AT_HANDLE_0 + i) and of
 * our FS root port (FS_AT_ROOT, so its stdio is the console too). Returns the
 * process handle, or a negative KS_ERR_* / ELF_ERR_* code.
 */
long musl_emu_spawn(const char *name, const char *const argv[], const ks_handle_t *extra,
                    unsigned nextra);

#endif
