/*
 * tests/test_random.c - host tests for the kernel's random generator
 * (kernel/random.c): the ChaCha20 block function against RFC 8439's test
 * vector, and the generator's promises (output changes from request to
 * request, different seeds give different streams, lengths are exact).
 */
#include <stdint.h>
#include <string.h>
#include "kernel/ktest.h"
#include "kernel/random.h"

/* RFC 8439, section 2.3.2: key 00 01 .. 1f, nonce 00000009 0000004a 00000000, counter 1. */
static const uint8_t rfc_block[64] = {
    0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3, 0x20, 0x71, 0xc4,
    0xc7, 0xd1, 0xf4, 0xc7, 0x33, 0xc0, 0x68, 0x03, 0x04, 0x22, 0xaa, 0x9a, 0xc3, 0xd4, 0x6c, 0x4e,
    0xd2, 0x82, 0x64, 0x46, 0x07, 0x9f, 0xaa, 0x09, 0x14, 0xc2, 0xd7, 0x05, 0xd9, 0x8b, 0x02, 0xa2,
    0xb5, 0x12, 0x9c, 0xd1, 0xde, 0x16, 0x4e, 0xb9, 0xcb, 0xd0, 0x83, 0xe8, 0xa2, 0x50, 0x3c, 0x4e,
};

static void block_matches_rfc8439(void)
{
    uint32_t key[8], nonce[3] = { 0x09000000, 0x4a000000, 0 };
    uint8_t out[64];
    for (int i = 0; i < 8; i++)
        key[i] = (uint32_t)(4 * i) | (uint32_t)(4 * i + 1) << 8 | (uint32_t)(4 * i + 2) << 16 |
                 (uint32_t)(4 * i + 3) << 24;
    chacha20_block(key, 1, nonce, out);
    KT_EXPECT(memcmp(out, rfc_block, sizeof out) == 0);
    chacha20_block(key, 2, nonce, out);             /* another counter: another block */
    KT_EXPECT(memcmp(out, rfc_block, sizeof out) != 0);
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void requests_differ(void)
{
    uint8_t a[100], b[100];
    random_mix("seed one", 8);
    random_bytes(a, sizeof a);
    random_bytes(b, sizeof b);
    KT_EXPECT(!all_zero(a, sizeof a));
    KT_EXPECT(memcmp(a, b, sizeof a) != 0);
}

static void lengths_exact(void)
{
    uint8_t buf[200];
    for (size_t len = 0; len <= 130; len += 13) {
        memset(buf, 0xee, sizeof buf);
        random_bytes(buf, len);
        int tail_kept = 1;
        for (size_t i = len; i < sizeof buf; i++)
            tail_kept &= buf[i] == 0xee;
        KT_EXPECT(tail_kept);
    }
}

static void seeds_matter(void)
{
    uint8_t a[32], b[32];
    random_mix("same", 4);
    random_bytes(a, sizeof a);
    random_mix("other", 5);
    random_bytes(b, sizeof b);
    KT_EXPECT(memcmp(a, b, sizeof a) != 0);
}

static const struct ktest_case random_cases[] = {
    { "block_matches_rfc8439", block_matches_rfc8439 },
    { "requests_differ", requests_differ },
    { "lengths_exact", lengths_exact },
    { "seeds_matter", seeds_matter },
};
KTEST_SUITE(random_suite, "random", random_cases);

int main(void)
{
    const struct ktest_suite *suites[] = { &random_suite };
    return ktest_run(suites, 1) ? 1 : 0;
}
