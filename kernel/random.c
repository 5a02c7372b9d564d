/*
 * kernel/random.c - the ChaCha20 generator (see random.h).
 */
#include "random.h"
#include "string.h"

static uint32_t key[8];
static uint64_t requests;           /* the nonce: every request its own key stream */

static inline uint32_t rotl(uint32_t v, int n) { return v << n | v >> (32 - n); }

#define QUARTER(a, b, c, d) do { \
        a += b; d ^= a; d = rotl(d, 16); \
        c += d; b ^= c; b = rotl(b, 12); \
        a += b; d ^= a; d = rotl(d, 8); \
        c += d; b ^= c; b = rotl(b, 7); \
    } while (0)

void chacha20_block(const uint32_t k[8], uint32_t counter, const uint32_t nonce[3], uint8_t out[64])
{
    uint32_t s[16] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 };  /* "expand 32-byte k" */
    for (int i = 0; i < 8; i++)
        s[4 + i] = k[i];
    s[12] = counter;
    s[13] = nonce[0];
    s[14] = nonce[1];
    s[15] = nonce[2];
    uint32_t x[16];
    memcpy(x, s, sizeof x);
    for (int round = 0; round < 10; round++) {      /* 20 rounds: column then diagonal */
        QUARTER(x[0], x[4], x[8], x[12]);
        QUARTER(x[1], x[5], x[9], x[13]);
        QUARTER(x[2], x[6], x[10], x[14]);
        QUARTER(x[3], x[7], x[11], x[15]);
        QUARTER(x[0], x[5], x[10], x[15]);
        QUARTER(x[1], x[6], x[11], x[12]);
        QUARTER(x[2], x[7], x[8], x[13]);
        QUARTER(x[3], x[4], x[9], x[14]);
    }
    for (int i = 0; i < 16; i++) {                  /* little-endian words */
        uint32_t v = x[i] + s[i];
        out[4 * i] = (uint8_t)v;
        out[4 * i + 1] = (uint8_t)(v >> 8);
        out[4 * i + 2] = (uint8_t)(v >> 16);
        out[4 * i + 3] = (uint8_t)(v >> 24);
    }
}

/* A new key from the current one's key stream (block 0 of a request nobody else gets). */
static void rekey(void)
{
    uint8_t b[64];
    uint32_t nonce[3] = { (uint32_t)requests, (uint32_t)(requests >> 32), 0x6b657921 };
    requests++;
    chacha20_block(key, 0, nonce, b);
    memcpy(key, b, sizeof key);
    memset(b, 0, sizeof b);
}

void random_mix(const void *seed, size_t len)
{
    const uint8_t *p = seed;
    for (size_t i = 0; i < len; i++)
        ((uint8_t *)key)[i % sizeof key] ^= p[i];
    rekey();
}

void random_bytes(void *out, size_t len)
{
    uint8_t b[64];
    uint8_t *o = out;
    uint32_t nonce[3] = { (uint32_t)requests, (uint32_t)(requests >> 32), 0x6f757421 };
    requests++;
    for (uint32_t ctr = 1; len; ctr++) {
        chacha20_block(key, ctr, nonce, b);
        size_t n = len < sizeof b ? len : sizeof b;
        memcpy(o, b, n);
        o += n;
        len -= n;
    }
    memset(b, 0, sizeof b);
    rekey();                                        /* the state no longer yields this output */
}
