/*
 * musl_emu/process.c - starting programs: musl_emu_spawn loads a program from the boot
 * image into a new process with the FS root port. See musl_emu.h.
 */
#include "musl_emu/internal.h"

long musl_emu_spawn(const char *name, const char *const argv[], const ks_handle_t *extra,
                    unsigned nextra)
{
    ks_handle_t given[ULIB_MAX_GIVEN];
    uint64_t tags[ULIB_MAX_GIVEN];
    unsigned n = 0;
    if (nextra > ULIB_MAX_GIVEN - 1)
        return KS_ERR_INVALID;
    if (!emu.ready)
        emu_init();
    for (unsigned i = 0; i < nextra; i++) {
        tags[n] = KS_AT_HANDLE_0 + i;
        given[n++] = extra[i];
    }
    if (emu.root) {
        tags[n] = FS_AT_ROOT;
        given[n++] = emu.root;
    }
    return ulib_spawn_tagged((ks_handle_t)getauxval(KS_AT_BOOTIMAGE), name, argv, given, tags, n);
}
