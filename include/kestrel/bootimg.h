/*
 * include/kestrel/bootimg.h - the boot image: the user programs the kernel image
 * carries (user-visible ABI; tools/mkbootimg writes it, init reads it).
 *
 * A header, `count` entries, then each file's bytes at a page-aligned offset,
 * so ELF segments can be mapped straight from the boot image memobj.
 */
#ifndef KESTREL_BOOTIMG_H
#define KESTREL_BOOTIMG_H

#include <stdint.h>

#define KS_BOOTIMG_MAGIC "KSBOOT1"     /* 8 bytes with the NUL */

struct ks_bootimg_header {
    char magic[8];
    uint32_t count;
    uint32_t reserved;
};

struct ks_bootimg_entry {
    char name[48];              /* NUL-terminated */
    uint64_t offset;            /* from the start of the image, page-aligned */
    uint64_t size;
};

_Static_assert(sizeof(struct ks_bootimg_header) == 16, "boot image header layout");
_Static_assert(sizeof(struct ks_bootimg_entry) == 64, "boot image entry layout");

#endif
