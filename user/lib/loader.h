/*
 * user/lib/loader.h - start a program from the boot image in a new process
 * (user/lib/loader.c). Used by native programs (through ulib.h) and by musl
 * programs (through musl_emu.c's spawn), so it needs nothing but the native
 * system call wrappers and memcpy-style functions.
 */
#ifndef USER_LOADER_H
#define USER_LOADER_H

#include <stdint.h>
#include <kestrel/handle.h>

#define ULIB_MAX_GIVEN 4          /* handles a spawn can give (musl_emu_spawn keeps one for FS_AT_ROOT) */

/*
 * Start program `name` from the boot image `bootimg` in a new process, with
 * argv (NULL-terminated) and copies of up to ULIB_MAX_GIVEN handles (their
 * rights kept; the child finds them in its auxiliary vector as KS_AT_HANDLE_0,
 * KS_AT_HANDLE_0 + 1, ...). The boot image handle itself is passed on too
 * (KS_AT_BOOTIMAGE). Returns the process handle or a negative error (KS_ERR_*
 * or an ELF_ERR_* from kernel/elf.h).
 */
long ulib_spawn(ks_handle_t bootimg, const char *name, const char *const argv[],
                const ks_handle_t *given, unsigned ngiven);

/*
 * From now on, every process ulib_spawn makes gets these limits
 * (KS_SYS_PROCESS_LIMIT) before anything is loaded into it; NULL: none (the
 * default). init sets them for the programs it runs.
 */
struct ks_limits;
void ulib_spawn_limits(const struct ks_limits *limits);

/* ulib_spawn, with given[i] found under auxv type tags[i] instead. */
long ulib_spawn_tagged(ks_handle_t bootimg, const char *name, const char *const argv[],
                       const ks_handle_t *given, const uint64_t *tags, unsigned ngiven);

/*
 * execve's loader: map the static executable held by memobj `file` into
 * `proc` (new, never run): its segments copy-on-write from the file, and a
 * stack of `stack` bytes (rounded up to pages, at least 16 KiB; 0:
 * KS_STACK_SIZE, what ulib_spawn's stacks always have) with argv, envp
 * (NULL: none) and the auxiliary vector, extra[] last.
 * *entry and *sp: where its first thread starts. 0 or a negative error
 * (KS_ERR_*, or ELF_ERR_* from kernel/elf.h: ELF_ERR_STACK if the arguments
 * do not fit in a page). Not reentrant: it has one scratch page.
 */
struct elf_auxv;

long ulib_load_file(ks_handle_t proc, ks_handle_t file, const char *const argv[],
                    const char *const envp[], const struct elf_auxv *extra, unsigned nextra,
                    uint64_t stack, uint64_t *entry, uint64_t *sp);

/* Spawn, wait and return the status (KS_STATUS_* encoding), or a negative error. */
long ulib_run(ks_handle_t bootimg, const char *name, const char *const argv[], uint64_t *status);

#endif
