/*
 * kernel/random.h - the kernel's random numbers (KS_SYS_RANDOM, AT_RANDOM):
 * a ChaCha20 generator (the block function of RFC 8439) keyed at boot from
 * the device tree's /chosen/rng-seed, which QEMU fills from the host's
 * entropy at every boot (the same bytes under -seed, which tests and
 * benchmarks use to be repeatable), mixed with the time and cycle counters.
 * After every request the key is replaced by output nobody saw (fast key
 * erasure), so what came out earlier cannot be computed from the state.
 */
#ifndef KERNEL_RANDOM_H
#define KERNEL_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* RFC 8439's block function: 64 bytes of key stream for key, counter and nonce. */
void chacha20_block(const uint32_t key[8], uint32_t counter, const uint32_t nonce[3], uint8_t out[64]);

/* Mix len bytes of seed material into the key (at boot; more is welcome any time). */
void random_mix(const void *seed, size_t len);

/* len random bytes into out. */
void random_bytes(void *out, size_t len);

#endif
