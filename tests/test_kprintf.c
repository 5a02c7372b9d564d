/*
 * tests/test_kprintf.c - host tests for ksnprintf/kformat (kernel/kprintf.c).
 *
 * A table of formats with hand-written expected output, truncation checks, and
 * a systematic byte-for-byte comparison with the host C library's snprintf over
 * flags x widths x length modifiers x conversions x values.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include "kernel/kprintf.h"
#include "kernel/ktest.h"

/* ---- table-driven checks ---- */

enum kind {
    K_NONE,         /* no argument (a dummy int is passed, and must not matter) */
    K_INT, K_UINT, K_LONG, K_ULONG, K_LLONG, K_ULLONG, K_SIZE,
    K_STR, K_CHAR, K_PTR,
    K_STAR_INT,     /* width from *, then an int */
    K_STAR_STR,     /* width from *, then a string */
};

struct fmt_case {
    const char *fmt;
    enum kind kind;
    int64_t i;          /* signed values; the * width for K_STAR_* */
    uint64_t u;         /* unsigned values and pointers; the int for K_STAR_INT */
    const char *s;
    const char *expect;
};

#define NONE(f, e)      { f, K_NONE, 0, 0, NULL, e }
#define INT(f, v, e)    { f, K_INT, v, 0, NULL, e }
#define UINT(f, v, e)   { f, K_UINT, 0, v, NULL, e }
#define LONG(f, v, e)   { f, K_LONG, v, 0, NULL, e }
#define ULONG(f, v, e)  { f, K_ULONG, 0, v, NULL, e }
#define LLONG(f, v, e)  { f, K_LLONG, v, 0, NULL, e }
#define ULLONG(f, v, e) { f, K_ULLONG, 0, v, NULL, e }
#define SIZE(f, v, e)   { f, K_SIZE, 0, v, NULL, e }
#define STR(f, v, e)    { f, K_STR, 0, 0, v, e }
#define CHAR(f, v, e)   { f, K_CHAR, v, 0, NULL, e }
#define PTR(f, v, e)    { f, K_PTR, 0, v, NULL, e }
#define STAR_INT(f, w, v, e) { f, K_STAR_INT, w, (uint64_t)(v), NULL, e }
#define STAR_STR(f, w, v, e) { f, K_STAR_STR, w, 0, v, e }

static const struct fmt_case table[] = {
    /* %d %i */
    INT("%d", 0, "0"),
    INT("%d", 42, "42"),
    INT("%d", -42, "-42"),
    INT("%d", INT_MAX, "2147483647"),
    INT("%d", INT_MIN, "-2147483648"),
    INT("%i", INT_MIN, "-2147483648"),
    INT("%i", -1, "-1"),
    INT("%5d", 42, "   42"),
    INT("%-5d|", 42, "42   |"),
    INT("%05d", 42, "00042"),
    INT("%05d", -42, "-0042"),
    INT("%-05d|", -42, "-42  |"),
    INT("%0-5d|", 7, "7    |"),
    INT("%2d", -123, "-123"),
    INT("%03d", 0, "000"),
    INT("%012d", INT_MIN, "-02147483648"),
    INT("<%d>", 5, "<5>"),
    /* %u %x %X */
    UINT("%u", 0, "0"),
    UINT("%u", UINT_MAX, "4294967295"),
    UINT("%u", 0x80000000u, "2147483648"),
    UINT("%x", 0, "0"),
    UINT("%x", 0xdeadbeef, "deadbeef"),
    UINT("%X", 0xdeadbeef, "DEADBEEF"),
    UINT("%x", UINT_MAX, "ffffffff"),
    UINT("%08x", 0x1f, "0000001f"),
    UINT("%-8X|", 0xab, "AB      |"),
    UINT("%4x", 0x12345, "12345"),
    UINT("%10u", 123, "       123"),
    /* l, ll, z */
    LONG("%ld", LONG_MIN, "-9223372036854775808"),
    LONG("%ld", LONG_MAX, "9223372036854775807"),
    LONG("%li", -1, "-1"),
    LONG("%ld", 0, "0"),
    LONG("%021ld", LONG_MIN, "-09223372036854775808"),
    LONG("%-22ld|", LONG_MIN, "-9223372036854775808  |"),
    ULONG("%lu", ULONG_MAX, "18446744073709551615"),
    ULONG("%lu", 0, "0"),
    ULONG("%lx", ULONG_MAX, "ffffffffffffffff"),
    ULONG("%lX", 0xabcdef0123456789ul, "ABCDEF0123456789"),
    ULONG("%018lx", 0x1ul << 63, "008000000000000000"),
    LLONG("%lld", LLONG_MIN, "-9223372036854775808"),
    LLONG("%lli", 1234567890123ll, "1234567890123"),
    LLONG("%lld", LLONG_MAX, "9223372036854775807"),
    ULLONG("%llu", ULLONG_MAX, "18446744073709551615"),
    ULLONG("%llx", 0x123456789abcdef0ull, "123456789abcdef0"),
    ULLONG("%llX", 255, "FF"),
    SIZE("%zu", SIZE_MAX, "18446744073709551615"),
    SIZE("%zu", 0, "0"),
    SIZE("%zx", 0xabc, "abc"),
    SIZE("%zX", SIZE_MAX, "FFFFFFFFFFFFFFFF"),
    SIZE("%zd", (size_t)-5, "-5"),
    SIZE("%6zu|", 42, "    42|"),
    /* * width, including negative (left-justify) */
    STAR_INT("%*d", 5, 42, "   42"),
    STAR_INT("%*d|", -5, 42, "42   |"),
    STAR_INT("%-*d|", 3, 7, "7  |"),
    STAR_INT("%0*d", 6, -1, "-00001"),
    STAR_INT("%0*d|", -6, -1, "-1    |"),
    STAR_INT("%*d", 0, 9, "9"),
    STAR_INT("%*x", 4, 0xa, "   a"),
    STAR_STR("%*s|", -4, "ab", "ab  |"),
    STAR_STR("%*s", 4, "ab", "  ab"),
    STAR_STR("%*s", 1, "abc", "abc"),
    /* %s */
    STR("%s", "hello", "hello"),
    STR("%s", "", ""),
    STR("%s", NULL, "(null)"),
    STR("%10s", NULL, "    (null)"),
    STR("%-7s|", NULL, "(null) |"),
    STR("%8s", "abc", "     abc"),
    STR("%-8s|", "abc", "abc     |"),
    STR("%2s", "abcdef", "abcdef"),
    STR("%3s|", "", "   |"),
    STR("%08s", "abc", "     abc"),      /* '0' does not apply to strings */
    STR("[%s]", "x y", "[x y]"),
    /* %c */
    CHAR("%c", 'A', "A"),
    CHAR("%3c", 'z', "  z"),
    CHAR("%-3c|", 'z', "z  |"),
    CHAR("%03c", 'z', "  z"),            /* nor to characters */
    CHAR("%c", 0x141, "A"),              /* the int is converted to unsigned char */
    CHAR("<%c>", ' ', "< >"),
    /* %% */
    NONE("%%", "%"),
    NONE("100%%", "100%"),
    NONE("%%d", "%d"),
    NONE("a%%b%%c", "a%b%c"),
    NONE("plain text", "plain text"),
    NONE("", ""),
    /* %p: 0x and exactly 16 hex digits, padded with spaces only beyond that */
    PTR("%p", 0, "0x0000000000000000"),
    PTR("%p", 0x1234, "0x0000000000001234"),
    PTR("%p", 0xdeadbeef, "0x00000000deadbeef"),
    PTR("%p", 0xffffffff80200000ull, "0xffffffff80200000"),
    PTR("%5p", 0x1234, "0x0000000000001234"),
    PTR("%-p|", 0x1234, "0x0000000000001234|"),
    PTR("%20p", 0x1234, "  0x0000000000001234"),
    PTR("%-20p|", 0x1234, "0x0000000000001234  |"),
    PTR("%020p", 0x1234, "  0x0000000000001234"),
    PTR("[%p]", 0xabcdef, "[0x0000000000abcdef]"),
    /* Unknown conversions are printed verbatim and take no argument. */
    NONE("%q", "%q"),
    NONE("a%qb", "a%qb"),
    NONE("%-5q", "%-5q"),
    NONE("%05q", "%05q"),
    NONE("%lq", "%lq"),
    NONE("%llq", "%llq"),
    NONE("%zq", "%zq"),
    NONE("%hd", "%hd"),
    NONE("%.3d", "%.3d"),
    INT("%q %d", 5, "%q 5"),
    INT("%w%d", 7, "%w7"),
    INT("%lw %d", -8, "%lw -8"),
    /* A trailing or incomplete % at the end of the string. */
    NONE("%", "%"),
    NONE("abc%", "abc%"),
    NONE("abc%-", "abc%-"),
    NONE("abc%0", "abc%0"),
    NONE("abc%5", "abc%5"),
    NONE("abc%l", "abc%l"),
    NONE("abc%ll", "abc%ll"),
    NONE("abc%z", "abc%z"),
    STAR_INT("ab%*", 3, 0, "ab%*"),
};

/* Format one table entry into buf with the argument types its kind says. */
static int format_case(char *buf, size_t size, const struct fmt_case *c)
{
    switch (c->kind) {
    case K_NONE: return ksnprintf(buf, size, c->fmt, 0);
    case K_INT: return ksnprintf(buf, size, c->fmt, (int)c->i);
    case K_UINT: return ksnprintf(buf, size, c->fmt, (unsigned)c->u);
    case K_LONG: return ksnprintf(buf, size, c->fmt, (long)c->i);
    case K_ULONG: return ksnprintf(buf, size, c->fmt, (unsigned long)c->u);
    case K_LLONG: return ksnprintf(buf, size, c->fmt, (long long)c->i);
    case K_ULLONG: return ksnprintf(buf, size, c->fmt, (unsigned long long)c->u);
    case K_SIZE: return ksnprintf(buf, size, c->fmt, (size_t)c->u);
    case K_STR: return ksnprintf(buf, size, c->fmt, c->s);
    case K_CHAR: return ksnprintf(buf, size, c->fmt, (int)c->i);
    case K_PTR: return ksnprintf(buf, size, c->fmt, (void *)(uintptr_t)c->u);
    case K_STAR_INT: return ksnprintf(buf, size, c->fmt, (int)c->i, (int)c->u);
    case K_STAR_STR: return ksnprintf(buf, size, c->fmt, (int)c->i, c->s);
    }
    return -1;
}

static void table_cases(void)
{
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
        const struct fmt_case *c = &table[k];
        char buf[128];
        memset(buf, 0x7f, sizeof buf);
        int n = format_case(buf, sizeof buf, c);
        if (strcmp(buf, c->expect) != 0 || n != (int)strlen(c->expect))
            ktest_fail(__FILE__, __LINE__, "table[%zu] \"%s\": got \"%s\" (%d), want \"%s\" (%d)", k,
                       c->fmt, buf, n, c->expect, (int)strlen(c->expect));
    }
}

/* Several conversions in one format take their arguments in order. */
static void mixed_arguments(void)
{
    char buf[128];
    int n = ksnprintf(buf, sizeof buf, "%s: %d/%u 0x%lx %c%% %zu %p %lld|%-4s|%*d", "cpu", -3, 7u,
                      0xabcul, 'k', (size_t)99, (void *)0x10, -5ll, "ab", 3, 1);
    const char *want = "cpu: -3/7 0xabc k% 99 0x0000000000000010 -5|ab  |  1";
    KT_EXPECT_STREQ(buf, want);
    KT_EXPECT_EQ(n, strlen(want));
}

/* %c of 0 writes a NUL byte and counts it. */
static void char_nul(void)
{
    char buf[8];
    memset(buf, 0x7f, sizeof buf);
    int n = ksnprintf(buf, sizeof buf, "a%cb", 0);
    KT_EXPECT_EQ(n, 3);
    KT_EXPECT(memcmp(buf, "a\0b\0", 4) == 0);
    KT_EXPECT_EQ((unsigned char)buf[4], 0x7f);
}

/* ---- truncation ---- */

static void check_truncation(const char *fmt, int kind, int64_t iv, const char *sv)
{
    char full[64], buf[64];
    int len = kind == 0 ? ksnprintf(full, sizeof full, fmt, (int)iv) : ksnprintf(full, sizeof full, fmt, sv);
    KT_ASSERT(len > 0 && len < (int)sizeof full - 4);
    KT_EXPECT_EQ(strlen(full), len);
    for (size_t size = 0; size <= (size_t)len + 3; size++) {
        memset(buf, 0x7f, sizeof buf);
        int n = kind == 0 ? ksnprintf(buf, size, fmt, (int)iv) : ksnprintf(buf, size, fmt, sv);
        size_t keep = size == 0 ? 0 : size - 1 < (size_t)len ? size - 1 : (size_t)len;
        int ok = n == len;
        if (size > 0)
            ok = ok && memcmp(buf, full, keep) == 0 && buf[keep] == '\0';
        /* Nothing at or beyond buf[size] is touched (for size 0: nothing at all). */
        for (size_t i = size == 0 ? 0 : keep + 1; i < sizeof buf; i++)
            ok = ok && buf[i] == 0x7f;
        if (!ok)
            ktest_fail(__FILE__, __LINE__, "\"%s\" into %zu bytes: returned %d (want %d), got \"%.*s\"", fmt,
                       size, n, len, (int)keep, buf);
    }
    /* size 0 with no buffer at all only measures. */
    int n = kind == 0 ? ksnprintf(NULL, 0, fmt, (int)iv) : ksnprintf(NULL, 0, fmt, sv);
    KT_EXPECT_EQ(n, len);
}

static void truncation(void)
{
    check_truncation("hello %d", 0, 12345, NULL);
    check_truncation("%-8d|", 0, -7, NULL);
    check_truncation("%08x", 0, 0xbeef, NULL);
    check_truncation("[%12s]", 1, 0, "abc");
    check_truncation("%s and more", 1, 0, "a string");
    check_truncation("%q%d", 0, 42, NULL);
    check_truncation("x%", 0, 0, NULL);
}

/* Long output: the count keeps going far past any buffer. */
static void long_output(void)
{
    static char longstr[5001];
    memset(longstr, 'a', 5000);
    char buf[16];
    KT_EXPECT_EQ(ksnprintf(NULL, 0, "%s", longstr), 5000);
    KT_EXPECT_EQ(ksnprintf(buf, sizeof buf, "%6000s|", longstr), 6001);
    KT_EXPECT_STREQ(buf, "               ");
    KT_EXPECT_EQ(ksnprintf(buf, sizeof buf, "%-3000d|", -1), 3001);
    KT_EXPECT_STREQ(buf, "-1             ");
    KT_EXPECT_EQ(ksnprintf(buf, sizeof buf, "%*x", 2500, 0xfu), 2500);
}

static void truncation_pointer(void)
{
    char buf[8];
    memset(buf, 0x7f, sizeof buf);
    int n = ksnprintf(buf, 5, "%p", (void *)0xabc);
    KT_EXPECT_EQ(n, 18);
    KT_EXPECT_STREQ(buf, "0x00");
    KT_EXPECT_EQ((unsigned char)buf[5], 0x7f);
    memset(buf, 0x7f, sizeof buf);
    n = ksnprintf(buf, 1, "%p", (void *)0xabc);
    KT_EXPECT_EQ(n, 18);
    KT_EXPECT_EQ(buf[0], '\0');
    KT_EXPECT_EQ((unsigned char)buf[1], 0x7f);
}

/* ---- comparison with the host's snprintf ---- */

static const char *const flag_set[] = { "", "-", "0", "-0" };
static const char *const width_set[] = { "", "1", "5", "12", "20", "*" };
static const int star_set[] = { 7, -7, 0, 25 };
static const char *const mod_set[] = { "", "l", "ll", "z" };
static const uint64_t value_set[] = {
    0, 1, (uint64_t)-1, 7, 10, (uint64_t)-10, 42, (uint64_t)-42, 255, 4096, 123456789,
    INT32_MAX, (uint64_t)INT32_MIN, UINT32_MAX, 0x80000000u, INT64_MAX, (uint64_t)INT64_MIN,
    (uint64_t)1 << 40, (uint64_t)-((int64_t)1 << 40), 0xdeadbeefcafef00dull, 0x0123456789abcdefull,
};
static const char *const string_set[] = { "", "x", "hello", "a longer string than the widths" };
static const int char_set[] = { 'a', 'Z', ' ', '0', '%' };

struct compare_stats {
    size_t checked, mismatched;
};

static void compare_result(struct compare_stats *st, const char *fmt, const char *what,
                           int kn, const char *kb, int hn, const char *hb)
{
    st->checked++;
    if (kn == hn && strcmp(kb, hb) == 0)
        return;
    st->mismatched++;
    if (st->mismatched <= 5)
        ktest_fail(__FILE__, __LINE__, "\"%s\" %s: ksnprintf \"%s\" (%d), snprintf \"%s\" (%d)", fmt, what, kb,
                   kn, hb, hn);
}

/*
 * Call ksnprintf and snprintf with the same arguments, both into a roomy buffer
 * and into a 6-byte one (truncation), and compare bytes and return values.
 */
#define COMPARE(st, fmt, what, ...) \
    do { \
        char kb_[96], hb_[96]; \
        int kn_ = ksnprintf(kb_, sizeof kb_, fmt, __VA_ARGS__); \
        int hn_ = snprintf(hb_, sizeof hb_, fmt, __VA_ARGS__); \
        compare_result(st, fmt, what, kn_, kb_, hn_, hb_); \
        kn_ = ksnprintf(kb_, 6, fmt, __VA_ARGS__); \
        hn_ = snprintf(hb_, 6, fmt, __VA_ARGS__); \
        compare_result(st, fmt, what " (6-byte buffer)", kn_, kb_, hn_, hb_); \
    } while (0)

/* With the star width (if any) in front of the argument. */
#define COMPARE_ARG(st, fmt, star, use_star, what, arg) \
    do { \
        if (use_star) \
            COMPARE(st, fmt, what, star, arg); \
        else \
            COMPARE(st, fmt, what, arg); \
    } while (0)

static void compare_integer(struct compare_stats *st, const char *fmt, const char *mod, char conv,
                            int star, int use_star, uint64_t v)
{
    int is_signed = conv == 'd' || conv == 'i';
    if (mod[0] == '\0') {
        if (is_signed)
            COMPARE_ARG(st, fmt, star, use_star, "int", (int)v);
        else
            COMPARE_ARG(st, fmt, star, use_star, "unsigned", (unsigned)v);
    } else if (strcmp(mod, "l") == 0) {
        if (is_signed)
            COMPARE_ARG(st, fmt, star, use_star, "long", (long)v);
        else
            COMPARE_ARG(st, fmt, star, use_star, "unsigned long", (unsigned long)v);
    } else if (strcmp(mod, "ll") == 0) {
        if (is_signed)
            COMPARE_ARG(st, fmt, star, use_star, "long long", (long long)v);
        else
            COMPARE_ARG(st, fmt, star, use_star, "unsigned long long", (unsigned long long)v);
    } else {
        if (is_signed)
            COMPARE_ARG(st, fmt, star, use_star, "ssize_t", (ssize_t)v);
        else
            COMPARE_ARG(st, fmt, star, use_star, "size_t", (size_t)v);
    }
}

static void compare_with_libc(void)
{
    struct compare_stats st = { 0, 0 };
    static const char convs[] = "diuxXsc";
    char fmt[32];
    for (size_t f = 0; f < sizeof flag_set / sizeof flag_set[0]; f++)
        for (size_t w = 0; w < sizeof width_set / sizeof width_set[0]; w++) {
            int use_star = width_set[w][0] == '*';
            size_t nstar = use_star ? sizeof star_set / sizeof star_set[0] : 1;
            for (size_t sidx = 0; sidx < nstar; sidx++) {
                int star = star_set[sidx];
                for (const char *c = convs; *c; c++) {
                    int text = *c == 's' || *c == 'c';
                    /* '0' with %s/%c is undefined in C; l/ll/z only apply to integers here. */
                    if (text && strchr(flag_set[f], '0'))
                        continue;
                    size_t nmod = text ? 1 : sizeof mod_set / sizeof mod_set[0];
                    for (size_t m = 0; m < nmod; m++) {
                        snprintf(fmt, sizeof fmt, "<%%%s%s%s%c>", flag_set[f], width_set[w], mod_set[m], *c);
                        if (*c == 's') {
                            for (size_t i = 0; i < sizeof string_set / sizeof string_set[0]; i++)
                                COMPARE_ARG(&st, fmt, star, use_star, "string", string_set[i]);
                        } else if (*c == 'c') {
                            for (size_t i = 0; i < sizeof char_set / sizeof char_set[0]; i++)
                                COMPARE_ARG(&st, fmt, star, use_star, "char", char_set[i]);
                        } else {
                            for (size_t i = 0; i < sizeof value_set / sizeof value_set[0]; i++)
                                compare_integer(&st, fmt, mod_set[m], *c, star, use_star, value_set[i]);
                        }
                    }
                }
            }
        }
    KT_EXPECT(st.checked > 20000);
    KT_EXPECT_EQ(st.mismatched, 0);
}

/* kformat drives any sink and returns the byte count. */
struct collect {
    char buf[64];
    size_t n;
};

static void collect_put(char c, void *arg)
{
    struct collect *col = arg;
    if (col->n < sizeof col->buf)
        col->buf[col->n] = c;
    col->n++;
}

static int collect_format(struct collect *col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kformat(collect_put, col, fmt, ap);
    va_end(ap);
    return n;
}

static void kformat_sink(void)
{
    struct collect col = { { 0 }, 0 };
    int n = collect_format(&col, "[%5d|%-3s|%x]", -12, "ab", 255u);
    const char *want = "[  -12|ab |ff]";
    KT_EXPECT_EQ(n, strlen(want));
    KT_EXPECT_EQ(col.n, strlen(want));
    KT_EXPECT(col.n < sizeof col.buf && memcmp(col.buf, want, col.n) == 0);
}

static const struct ktest_case kprintf_cases[] = {
    { "table", table_cases },
    { "mixed_arguments", mixed_arguments },
    { "char_nul", char_nul },
    { "truncation", truncation },
    { "truncation_pointer", truncation_pointer },
    { "long_output", long_output },
    { "compare_with_libc", compare_with_libc },
    { "kformat_sink", kformat_sink },
};
KTEST_SUITE(kprintf_suite, "kprintf", kprintf_cases);

int main(void)
{
    const struct ktest_suite *suites[] = { &kprintf_suite };
    return ktest_run(suites, 1) ? 1 : 0;
}
