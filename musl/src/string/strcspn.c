/*
 * musl/src/string/strcspn.c - kestrel's strcspn, in place of musl's.
 *
 * The length of the start of s that holds no byte of reject. With two or more
 * reject bytes, a 256-bit set of them is built in four registers' worth of
 * words, which the compiler zeroes with plain stores: musl's own version
 * clears its set with a memset call, and busybox's shell calls strcspn for
 * every word it expands (sh_loop_1000 spent a fifth of its instructions in
 * strcspn and that memset). NUL is put in the set, so the scan has one test
 * per byte.
 */
#include <stdint.h>
#include <string.h>

char *__strchrnul(const char *, int);

size_t strcspn(const char *s, const char *reject)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *r = (const unsigned char *)reject;
	uint64_t set[4] = { 1, 0, 0, 0 };	/* bit 0: NUL, where every scan stops */

	if (!r[0] || !r[1])
		return (size_t)((const unsigned char *)__strchrnul(s, r[0]) - p);
	for (; *r; r++)
		set[*r >> 6] |= (uint64_t)1 << (*r & 63);
	while (!((set[*p >> 6] >> (*p & 63)) & 1))
		p++;
	return (size_t)(p - (const unsigned char *)s);
}
