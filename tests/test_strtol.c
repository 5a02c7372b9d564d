/*
 * tests/test_strtol.c - host tests for kestrel's strtol family
 * (musl/src/stdlib/strtol.c), which replaces musl's in every program.
 *
 * The file is compiled here with its functions renamed (k_strtol, ...) and
 * each result is compared with the host C library's on the same string and
 * base: the value, where the number ended, and whether ERANGE was set (the C
 * libraries differ only in EINVAL for a string without digits, which musl
 * sets and glibc does not; that case is checked on its own). The strings are
 * the edge cases written out below and a few hundred thousand made from an
 * alphabet of digits, letters, signs, spaces and prefixes by a fixed seed.
 *
 * argv[1] (the DTB path make test passes) is not used.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kernel/ktest.h"

#define strtol k_strtol
#define strtoul k_strtoul
#define strtoll k_strtoll
#define strtoull k_strtoull
#define strtoimax k_strtoimax
#define strtoumax k_strtoumax
#include "musl/src/stdlib/strtol.c"
#undef strtol
#undef strtoul
#undef strtoll
#undef strtoull
#undef strtoimax
#undef strtoumax

static unsigned failures;

/* Compare one conversion of s in base (2 to 36, or 0) with the C library's; report the first few differences. */
static void same(const char *s, int base)
{
    char *ke, *ce;
    errno = 0;
    long kv = k_strtol(s, &ke, base);
    int kr = errno == ERANGE;
    errno = 0;
    long cv = strtol(s, &ce, base);
    int cr = errno == ERANGE;
    errno = 0;
    unsigned long kuv = k_strtoul(s, NULL, base);
    int kur = errno == ERANGE;
    errno = 0;
    unsigned long cuv = strtoul(s, NULL, base);
    int cur = errno == ERANGE;
    if (kv == cv && ke == ce && kr == cr && kuv == cuv && kur == cur)
        return;
    if (failures++ < 5)
        printf("# \"%s\" base %d: strtol %ld end %td erange %d, C library %ld end %td erange %d; "
               "strtoul %lu erange %d, C library %lu erange %d\n", s, base, kv, ke - s, kr, cv, ce - s, cr,
               kuv, kur, cuv, cur);
}

static void edges(void)
{
    static const char *cases[] = {
        "0", "1", "-1", "+1", "  42", "\t\n\v\f\r 7", "- 1", "+-1", "", " ", "-", "+", "x", "0x", "0X",
        "0x1f", "0XfF", "-0x10", "0xg", "0x 1", "08", "0777", "-0", "00x1", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "18446744073709551615",
        "18446744073709551616", "-18446744073709551615", "-18446744073709551616",
        "99999999999999999999999999", "-99999999999999999999999999", "0x7fffffffffffffff",
        "0xffffffffffffffff", "0x10000000000000000", "zz", "ZZ", "1a", "12abc", "0b101", "123 456",
        "1777777777777777777777", "2000000000000000000000",
    };
    static const int bases[] = { 0, 2, 8, 10, 16, 36 };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (unsigned j = 0; j < sizeof bases / sizeof bases[0]; j++)
            same(cases[i], bases[j]);
    KT_EXPECT_EQ(failures, 0);
}

static void generated(void)
{
    static const char alphabet[] = "0123456789abcfxzABFXZ +-\t";
    uint64_t x = 0x9e3779b97f4a7c15ull;
    char s[40];
    for (int n = 0; n < 300000; n++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = x % 30;
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            s[i] = alphabet[x % (sizeof alphabet - 1)];
        }
        s[len] = 0;
        same(s, (int)(x >> 40) % 3 == 0 ? 0 : (int)((x >> 44) % 35) + 2);
    }
    KT_EXPECT_EQ(failures, 0);
}

/* What musl does and the C library need not: EINVAL without digits or with a bad base, *end at the start. */
static void einval(void)
{
    static const char *no_digits[] = { "", "  ", "-", "+ 1", "z", " -x" };
    char *e;
    for (unsigned i = 0; i < sizeof no_digits / sizeof no_digits[0]; i++) {
        errno = 0;
        KT_EXPECT_EQ(k_strtol(no_digits[i], &e, 10), 0);
        KT_EXPECT_EQ(errno, EINVAL);
        KT_EXPECT(e == no_digits[i]);
    }
    static const int bad[] = { 1, 37, -1, INT_MIN };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        KT_EXPECT_EQ(k_strtoull("12", &e, bad[i]), 0);
        KT_EXPECT_EQ(errno, EINVAL);
    }
    errno = 0;
    KT_EXPECT_EQ(k_strtoll("0xq", &e, 0), 0);          /* the 0 is a number: no EINVAL, *end at the x */
    KT_EXPECT_EQ(errno, 0);
    KT_EXPECT_EQ(*e, 'x');
    KT_EXPECT_EQ(k_strtoimax("-12", NULL, 10), -12);
    KT_EXPECT_EQ(k_strtoumax("12", NULL, 10), 12);
}

static const struct ktest_case strtol_cases[] = {
    { "edges_as_the_c_library", edges },
    { "generated_as_the_c_library", generated },
    { "einval_as_musl", einval },
};

KTEST_SUITE(strtol_suite, "strtol", strtol_cases);

int main(void)
{
    alarm(60);
    const struct ktest_suite *suites[] = { &strtol_suite };
    return ktest_run(suites, 1) ? 1 : 0;
}
