/*
 * musl/src/stdlib/strtol.c - kestrel's strtol family, in place of musl's.
 *
 * musl converts through its stdio scanner (__intscan reading a FILE made
 * over the string), about 450 instructions for a short number; busybox's
 * shell converts every number it tests or computes with, and sh_loop_1000
 * spent 3 % of its instructions there. This reads the string directly, with
 * musl's results: leading white space, a sign, base 0 (a 0x prefix is 16, a
 * leading 0 is 8, else 10) or 2 to 36 (16 may have the prefix); no digits is
 * 0 with EINVAL and *end at the start; "0x" without a hex digit after it is
 * the 0, with *end at the x; out of range is the limit with ERANGE (an
 * unsigned result of a negative number is its negation, as C says).
 * tests/test_strtol.c compares it with the C library's on the host.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>

/* The value of digit c in bases up to 36, or 36 or more if it is none. */
static unsigned digit(unsigned char c)
{
	if ((unsigned)c - '0' < 10u)
		return c - '0';
	if ((c | 32u) - 'a' < 26u)
		return (c | 32u) - 'a' + 10;
	return 36;
}

/*
 * The number at s in base, clamped as musl's __intscan clamps it: lim is the
 * type's largest unsigned value (odd) or its most negative value as unsigned
 * (even).
 */
static unsigned long long scan(const char *s, char **end, int base, unsigned long long lim)
{
	const unsigned char *p = (const unsigned char *)s;
	int neg = 0, over = 0;
	if (base < 0 || base == 1 || base > 36) {
		errno = EINVAL;
		if (end)
			*end = (char *)s;
		return 0;
	}
	while (*p == ' ' || (unsigned)*p - '\t' < 5u)
		p++;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if ((base == 0 || base == 16) && *p == '0') {
		if ((p[1] | 32) == 'x') {
			if (digit(p[2]) >= 16) {
				if (end)
					*end = (char *)p + 1;   /* the 0 was a number; the x is not */
				return 0;
			}
			p += 2;
			base = 16;
		} else if (base == 0) {
			base = 8;
		}
	} else if (base == 0) {
		base = 10;
	}
	unsigned b = (unsigned)base, d = digit(*p);
	if (d >= b) {
		errno = EINVAL;
		if (end)
			*end = (char *)s;
		return 0;
	}
	unsigned long long y = 0, cut = ULLONG_MAX / b;
	unsigned cutd = (unsigned)(ULLONG_MAX % b);
	for (; d < b; d = digit(*++p)) {
		if (y > cut || (y == cut && d > cutd))
			over = 1;
		else
			y = y * b + d;
	}
	if (end)
		*end = (char *)p;
	if (over) {
		errno = ERANGE;
		y = lim;
		if (lim & 1)
			neg = 0;
	}
	if (y >= lim) {
		if (!(lim & 1) && !neg) {
			errno = ERANGE;
			return lim - 1;
		}
		if (y > lim) {
			errno = ERANGE;
			return lim;
		}
	}
	return neg ? -y : y;
}

unsigned long long strtoull(const char *restrict s, char **restrict p, int base)
{
	return scan(s, p, base, ULLONG_MAX);
}

long long strtoll(const char *restrict s, char **restrict p, int base)
{
	return (long long)scan(s, p, base, (unsigned long long)LLONG_MIN);
}

unsigned long strtoul(const char *restrict s, char **restrict p, int base)
{
	return scan(s, p, base, ULONG_MAX);
}

long strtol(const char *restrict s, char **restrict p, int base)
{
	return (long)scan(s, p, base, 0UL + LONG_MIN);
}

intmax_t strtoimax(const char *restrict s, char **restrict p, int base)
{
	return strtoll(s, p, base);
}

uintmax_t strtoumax(const char *restrict s, char **restrict p, int base)
{
	return strtoull(s, p, base);
}

#ifdef weak_alias
weak_alias(strtol, __strtol_internal);
weak_alias(strtoul, __strtoul_internal);
weak_alias(strtoll, __strtoll_internal);
weak_alias(strtoull, __strtoull_internal);
weak_alias(strtoimax, __strtoimax_internal);
weak_alias(strtoumax, __strtoumax_internal);
#endif
