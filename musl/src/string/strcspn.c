/*
 * musl/src/string/strcspn.c - kestrel's strcspn, in place of musl's.
 *
 * The length of the start of s that holds no byte of reject. busybox's shell
 * calls it for every word it expands, with a set of nine bytes and words of a
 * few bytes, so building the set is most of the cost: musl's own version
 * clears a 256-bit set with a memset call and sets a bit per byte (sh_loop_1000
 * spent a fifth of its instructions there). With up to 16 reject bytes the
 * set here is one 64-bit word of (byte & 63) bits, built in a register; a
 * byte of s whose bit is clear is not in reject, and one whose bit is set is
 * looked for in reject itself (bytes 64 apart share a bit). Longer sets
 * take the exact 256-bit set. NUL is in both, so a scan has one test per byte.
 * mtest's string.strcspn checks it against the plain definition.
 */
#include <stdint.h>
#include <string.h>

/* Is byte c (not NUL) one of reject's? */
static int in_reject(unsigned c, const unsigned char *r)
{
	for (; *r; r++)
		if (*r == c)
			return 1;
	return 0;
}

/* strcspn with the exact set, for reject sets longer than 16 bytes. */
static size_t cspn_long(const unsigned char *s, const unsigned char *r)
{
	const unsigned char *p = s;
	uint64_t set[4] = { 1, 0, 0, 0 };	/* bit 0: NUL, where every scan stops */
	for (; *r; r++)
		set[*r >> 6] |= (uint64_t)1 << (*r & 63);
	while (!((set[*p >> 6] >> (*p & 63)) & 1))
		p++;
	return (size_t)(p - s);
}

size_t strcspn(const char *s, const char *reject)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *r = (const unsigned char *)reject, *q = r;
	uint64_t bits = 1;			/* bit 0: NUL's (and 64's, 128's, 192's) */
	unsigned c;

	if (!r[0] || !r[1]) {			/* (a loop here: no call, so no stack frame) */
		while ((c = *p) && c != r[0])
			p++;
		return (size_t)(p - (const unsigned char *)s);
	}
	for (; (c = *q); q++)
		bits |= (uint64_t)1 << (c & 63);
	if (q - r > 16)
		return cspn_long(p, r);
	for (;; p++) {
		c = *p;
		if (((bits >> (c & 63)) & 1) && (!c || in_reject(c, r)))
			break;
	}
	return (size_t)(p - (const unsigned char *)s);
}
