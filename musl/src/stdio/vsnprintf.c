/*
 * musl/src/stdio/vsnprintf.c - kestrel's vsnprintf, in place of musl's.
 *
 * A format that is one decimal integer conversion and nothing else ("%d",
 * "%ld", "%lld", "%jd", "%zd", "%i" and the same with "u") is written here
 * directly. busybox's shell formats every number it computes that way
 * (sprintf and vsnprintf of "%ld"), and musl's general path costs several
 * hundred instructions for it: a FILE set up on the stack, printf_core's
 * tables cleared, the output written through the FILE's hook. Every other
 * format takes that general path: vfprintf on a FILE whose write hook copies
 * what fits into the caller's buffer. mtest's stdio.snprintf_* check both.
 */
#include "stdio_impl.h"
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

/* Where the next byte goes, and how many more fit before the terminating NUL. */
struct dest {
	char *at;
	size_t room;
};

/* Copy what of p[0, len) fits into d. */
static void put_some(struct dest *d, const unsigned char *p, size_t len)
{
	size_t k = len < d->room ? len : d->room;
	memcpy(d->at, p, k);
	d->at += k;
	d->room -= k;
}

/* The FILE's write hook: the bytes it holds, then these; all taken, whatever fits kept. */
static size_t dest_write(FILE *f, const unsigned char *p, size_t len)
{
	struct dest *d = f->cookie;
	put_some(d, f->wbase, (size_t)(f->wpos - f->wbase));
	put_some(d, p, len);
	*d->at = 0;
	f->wbase = f->wpos = f->buf;
	return len;
}

/*
 * If fmt is one decimal integer conversion and nothing else, take its
 * argument: 1, with the value's magnitude in *mag and whether it is
 * negative in *neg; 0 (nothing taken) for any other format.
 */
static int one_integer(const char *fmt, va_list *ap, unsigned long long *mag, int *neg)
{
	int longs = 0, wide = 0;
	const char *p = fmt;
	if (*p++ != '%')
		return 0;
	if (*p == 'l') {
		longs = 1;
		if (*++p == 'l')
			longs = 2, p++;
	} else if (*p == 'j' || *p == 'z') {
		wide = 1;
		p++;
	}
	char conv = *p;
	if (conv != 'd' && conv != 'i' && conv != 'u')
		return 0;
	if (p[1])
		return 0;
	long long v;
	if (conv == 'u') {
		*mag = longs || wide ? va_arg(*ap, unsigned long long) : va_arg(*ap, unsigned);
		*neg = 0;
		return 1;
	}
	v = longs || wide ? va_arg(*ap, long long) : va_arg(*ap, int);
	*neg = v < 0;
	*mag = v < 0 ? -(unsigned long long)v : (unsigned long long)v;
	return 1;
}

int vsnprintf(char *restrict s, size_t n, const char *restrict fmt, va_list ap)
{
	char none[1];
	if (n > INT_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	struct dest d = { n ? s : none, n ? n - 1 : 0 };
	unsigned long long mag;
	int neg;
	va_list mine;
	va_copy(mine, ap);
	if (one_integer(fmt, &mine, &mag, &neg)) {
		unsigned char digits[24], *q = digits + sizeof digits;
		do
			*--q = (unsigned char)('0' + mag % 10);
		while (mag /= 10);
		if (neg)
			*--q = '-';
		size_t len = (size_t)(digits + sizeof digits - q);
		put_some(&d, q, len);
		*d.at = 0;
		va_end(mine);
		return (int)len;
	}
	va_end(mine);
	unsigned char one[1];
	FILE f = { .lbf = EOF, .write = dest_write, .lock = -1, .buf = one, .cookie = &d };
	*d.at = 0;
	return vfprintf(&f, fmt, ap);
}
