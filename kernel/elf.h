/*
 * kernel/elf.h - reading static RISC-V ELF executables and laying out a new
 * process's initial stack. Shared by the kernel's loader for init
 * (kernel/userboot.c) and init's user-space loader (user/lib/loader.c), which
 * compiles this file too: it depends on nothing but memcpy/memset.
 *
 * elf_parse checks everything before anyone trusts it: header fields, the
 * program header table against the bytes given, every PT_LOAD segment against
 * the file size and user space, overlaps, and the entry point. A malformed file
 * is an ELF_ERR_* code, never an out-of-bounds read.
 */
#ifndef KERNEL_ELF_H
#define KERNEL_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 8

enum {
    ELF_ERR_TRUNCATED = -1,     /* shorter than its headers say */
    ELF_ERR_MAGIC = -2,         /* not an ELF file */
    ELF_ERR_FORMAT = -3,        /* not 64-bit little-endian version 1 */
    ELF_ERR_MACHINE = -4,       /* not RISC-V */
    ELF_ERR_TYPE = -5,          /* not a static executable (ET_EXEC) */
    ELF_ERR_PHDRS = -6,         /* program header table malformed or outside the file */
    ELF_ERR_SEGMENT = -7,       /* a segment is inconsistent (sizes, alignment, file range) */
    ELF_ERR_RANGE = -8,         /* a segment lies outside user space */
    ELF_ERR_OVERLAP = -9,       /* two segments share a page */
    ELF_ERR_ENTRY = -10,        /* the entry point is not in an executable segment */
    ELF_ERR_TOO_MANY = -11,     /* more than ELF_MAX_SEGMENTS loadable segments */
    ELF_ERR_EMPTY = -12,        /* no loadable segment */
    ELF_ERR_NO_FILE = -13,      /* the boot image has no program of that name */
    ELF_ERR_STACK = -14,        /* the arguments do not fit in the stack's top page */
};

struct elf_segment {
    uint64_t vaddr, memsz;
    uint64_t offset, filesz;
    uint32_t prot;              /* KS_PROT_* */
};

struct elf_image {
    uint64_t entry;
    uint64_t phdr_vaddr;        /* where the program headers are mapped (0: not in a segment) */
    uint16_t phnum;             /* for AT_PHDR/AT_PHNUM, through which libc finds PT_TLS */
    unsigned nsegs;
    struct elf_segment seg[ELF_MAX_SEGMENTS];
};

/*
 * Parse an executable whose first `avail` bytes are at `head` (enough for the
 * ELF header and program headers) and whose whole size is file_size.
 */
int elf_parse(const void *head, size_t avail, uint64_t file_size, struct elf_image *out);

const char *elf_strerror(int err);

/* How a loader maps what elf_load asks for; each returns 0 or a negative error. */
struct elf_load_ops {
    /* Map file bytes [file_off, file_off + len) at vaddr, copy-on-write (all page-aligned). */
    int (*map_file)(void *ctx, uint64_t vaddr, uint64_t file_off, uint64_t len, uint32_t prot);
    /* Map len zeroed bytes at vaddr (page-aligned) after putting the data_len file bytes
       at file_off at its start. */
    int (*map_anon)(void *ctx, uint64_t vaddr, uint64_t len, uint32_t prot, uint64_t file_off,
                    uint64_t data_len);
};

/*
 * Map every segment: whole file pages straight from the file, the page where
 * file data ends plus the zero-filled rest (.bss) as fresh memory. Returns 0 or
 * the first error of an op.
 */
int elf_load(const struct elf_image *img, const struct elf_load_ops *ops, void *ctx);

struct elf_auxv {
    uint64_t type, value;
};

#define AT_NULL     0
#define AT_PHDR     3
#define AT_PHENT    4
#define AT_PHNUM    5
#define AT_PAGESZ   6
#define AT_ENTRY    9
#define AT_RANDOM   25

/*
 * Lay out a new process's initial stack as the Linux RISC-V ABI (and musl's
 * startup code) expects: argc, argv[], NULL, envp[], NULL, auxv pairs ending
 * with AT_NULL, then the strings and 16 zero bytes for AT_RANDOM above them
 * (the top 16 bytes of buf: the loader puts random bytes there). buf is
 * the top `size` bytes of the stack, whose end will be at user address
 * stack_top. Returns the initial sp (16-byte aligned), or 0 if it does not fit.
 */
uint64_t elf_build_stack(uint8_t *buf, size_t size, uint64_t stack_top, const char *const argv[],
                         const char *const envp[], const struct elf_auxv *aux, unsigned naux);

/*
 * The loading plan both loaders follow: the kernel's for init
 * (kernel/userboot.c, on kernel objects) and init's for every other program
 * (user/lib/loader.c, on system calls). A loader supplies the ops; the plan
 * finds the program in the boot image, parses it, maps its segments (whole
 * file pages copy-on-write from the image, the page where file data ends and
 * .bss from fresh memory) and lays out and maps its stack. Each op returns 0
 * or a negative error, which the plan passes on.
 */
struct elf_spawn_ops {
    /* Copy len bytes at offset off of the boot image into buf. */
    int (*read_image)(void *ctx, uint64_t off, void *buf, uint64_t len);
    /* The boot image's size in *size. */
    int (*image_size)(void *ctx, uint64_t *size);
    /* Map image bytes [image_off, image_off + len) at vaddr, copy-on-write (page-aligned). */
    int (*map_file)(void *ctx, uint64_t vaddr, uint64_t image_off, uint64_t len, uint32_t prot);
    /* Map len zeroed bytes at vaddr with the data_len (at most a page) image bytes at image_off first. */
    int (*map_anon)(void *ctx, uint64_t vaddr, uint64_t len, uint32_t prot, uint64_t image_off,
                    uint64_t data_len);
    /* Map the stack ending at KS_STACK_TOP (KS_STACK_SIZE zeroed bytes, or the size the loader
     * was set to), read-write, whose last len bytes (len at most a page) are data[]. */
    int (*map_stack)(void *ctx, const uint8_t *data, uint64_t len);
};

struct elf_spawn {
    uint8_t *page;                  /* set by the caller: a KS_PAGE_SIZE scratch buffer both calls use */
    const char *const *envp;        /* set by the caller: the environment (NULL: none) */
    uint8_t at_random[16];          /* set by the caller: AT_RANDOM's bytes (random ones) */
    uint64_t file_off, file_size;   /* where the program lies in the image */
    struct elf_image img;
    uint64_t sp;                    /* elf_spawn_map: the first thread's stack pointer */
};

/*
 * Find `name` in the boot image and parse it into *s: 0, or ELF_ERR_NO_FILE,
 * ELF_ERR_MAGIC (not a boot image), ELF_ERR_TRUNCATED (the table or the file
 * runs past the image), another ELF_ERR_* from elf_parse, or an op's error.
 */
int elf_spawn_find(const struct elf_spawn_ops *ops, void *ctx, const char *name, struct elf_spawn *s);

/*
 * The image is the executable itself (a file, for execve): parse it into *s.
 * 0, or an ELF_ERR_* from elf_parse, or an op's error.
 */
int elf_spawn_whole(const struct elf_spawn_ops *ops, void *ctx, struct elf_spawn *s);

/*
 * Map the program found by elf_spawn_find or elf_spawn_whole, and its stack:
 * argv, s->envp, and the auxiliary vector AT_PAGESZ, AT_ENTRY, AT_PHDR,
 * AT_PHENT and AT_PHNUM (when the program headers are mapped), then extra[]
 * (the handles and values the loader passes). Sets s->sp. 0 or an error.
 */
int elf_spawn_map(const struct elf_spawn_ops *ops, void *ctx, struct elf_spawn *s, const char *const argv[],
                  const struct elf_auxv *extra, unsigned nextra);

#endif
