/*
 * tests/test_memcpy.c - host tests for kestrel's memcpy and memset
 * (musl/src/string/memcpy.c and memset.c), which replace musl's in every
 * program.
 *
 * The files are compiled here with their functions renamed (k_memcpy,
 * k_memset). Each copy or fill is made at offsets 0 to 15 of a buffer whose
 * every other byte holds a guard pattern, at every pair of source and
 * destination alignments mod 16, for every length up to 300 and a few long
 * ones, and compared byte by byte with what a plain loop would leave: the
 * bytes asked for, nothing else touched, and dest returned. A second test
 * copies from sources that end where an inaccessible page begins, so a read
 * past the source's last byte into the next page would kill the test. Loop
 * distribution is off, as musl builds these files, so that the compiler
 * does not turn their byte loops into calls of the host's own memcpy.
 * (The host does not trap misaligned loads; that memcpy makes none is
 * seen in its code: every word it reads or writes is through an aligned
 * pointer.)
 *
 * argv[1] (the DTB path make test passes) is not used.
 */
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "kernel/ktest.h"

#define memcpy k_memcpy
#include "musl/src/string/memcpy.c"
#undef memcpy
#define memset k_memset
#include "musl/src/string/memset.c"
#undef memset

#define ROOM 9000
#define GUARD 0xa5

static unsigned char src_buf[ROOM], dst_buf[ROOM];
static unsigned failures;

static const size_t long_lengths[] = { 511, 512, 513, 4095, 4096, 4097, 8191 };

/* Fill src_buf with bytes that differ from their neighbours and from GUARD. */
static void fill_source(void)
{
    uint32_t x = 12345;
    for (size_t i = 0; i < ROOM; i++) {
        x = x * 1103515245u + 12345u;
        src_buf[i] = (unsigned char)(x >> 16);
        if (src_buf[i] == GUARD)
            src_buf[i] = 0x11;
    }
}

/* dst_buf after a copy of n bytes from src_buf + sa to dst_buf + da: the first few differences, as failures. */
static void check_copy(size_t sa, size_t da, size_t n, const void *ret)
{
    int bad = ret != dst_buf + da;
    for (size_t i = 0; i < ROOM && !bad; i++) {
        unsigned char want = i >= da && i < da + n ? src_buf[sa + (i - da)] : GUARD;
        bad = dst_buf[i] != want;
    }
    if (bad && failures++ < 5)
        printf("# memcpy of %zu bytes from offset %zu to offset %zu: wrong\n", n, sa, da);
}

static void one_copy(size_t sa, size_t da, size_t n)
{
    memset(dst_buf, GUARD, sizeof dst_buf);
    check_copy(sa, da, n, k_memcpy(dst_buf + da, src_buf + sa, n));
}

static void memcpy_alignments(void)
{
    failures = 0;
    fill_source();
    for (size_t sa = 0; sa < 16; sa++)
        for (size_t da = 0; da < 16; da++) {
            for (size_t n = 0; n <= 300; n++)
                one_copy(sa, da, n);
            for (size_t k = 0; k < sizeof long_lengths / sizeof long_lengths[0]; k++)
                one_copy(sa, da, long_lengths[k]);
        }
    KT_EXPECT_EQ(failures, 0);
}

static void one_fill(size_t da, size_t n, int c)
{
    memset(dst_buf, GUARD, sizeof dst_buf);
    int bad = k_memset(dst_buf + da, c, n) != dst_buf + da;
    for (size_t i = 0; i < ROOM && !bad; i++)
        bad = dst_buf[i] != (i >= da && i < da + n ? (unsigned char)c : GUARD);
    if (bad && failures++ < 5)
        printf("# memset of %zu bytes of %#x at offset %zu: wrong\n", n, (unsigned)c, da);
}

/* Every alignment and length as memcpy's; the byte is c's low byte, whatever the rest of c holds. */
static void memset_alignments(void)
{
    static const int values[] = { 0, 0xff, 0x5a, -1, 0x1234 };
    failures = 0;
    for (size_t v = 0; v < sizeof values / sizeof values[0]; v++)
        for (size_t da = 0; da < 16; da++) {
            for (size_t n = 0; n <= 300; n++)
                one_fill(da, n, values[v]);
            for (size_t k = 0; k < sizeof long_lengths / sizeof long_lengths[0]; k++)
                one_fill(da, long_lengths[k], values[v]);
        }
    KT_EXPECT_EQ(failures, 0);
}

/*
 * Sources that end exactly at an inaccessible page (every end alignment,
 * every start alignment, lengths to 100 and one of a page): the shifted
 * path reads whole aligned words, and none of them may reach that page.
 */
static void memcpy_source_at_page_end(void)
{
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *m = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    KT_ASSERT(m != MAP_FAILED);
    KT_ASSERT(mprotect(m + page, (size_t)page, PROT_NONE) == 0);
    for (long i = 0; i < page; i++)
        m[i] = (unsigned char)(i * 7 + 3);
    failures = 0;
    for (size_t cut = 0; cut < 8; cut++)            /* the source ends cut bytes before the page */
        for (size_t da = 0; da < 8; da++)
            for (size_t n = 1; n <= 100 || n == (size_t)page - 8; n = n == 100 ? (size_t)page - 8 : n + 1) {
                const unsigned char *src = m + page - cut - n;
                memset(dst_buf, GUARD, 200 + (size_t)page);
                k_memcpy(dst_buf + da, src, n);
                int bad = memcmp(dst_buf + da, src, n) != 0 || dst_buf[da + n] != GUARD;
                if (bad && failures++ < 5)
                    printf("# memcpy of %zu bytes ending %zu before a page, to offset %zu: wrong\n", n, cut, da);
            }
    KT_EXPECT_EQ(failures, 0);
    munmap(m, 2 * (size_t)page);
}

static const struct ktest_case memcpy_cases[] = {
    { "memcpy_alignments", memcpy_alignments },
    { "memcpy_source_at_page_end", memcpy_source_at_page_end },
    { "memset_alignments", memset_alignments },
};
KTEST_SUITE(memcpy_suite, "string", memcpy_cases);

int main(void)
{
    const struct ktest_suite *suites[] = { &memcpy_suite };
    return ktest_run(suites, 1) ? 1 : 0;
}
