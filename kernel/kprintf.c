/*
 * kernel/kprintf.c - printf-style formatting for the kernel (see kprintf.h).
 */
#include <stdint.h>
#include "kprintf.h"
#include "console.h"

struct spec {
    int left;       /* '-' */
    int zero;       /* '0' */
    int width;
    int size;       /* 0 int, 1 long, 2 long long, 3 size_t */
};

struct out {
    void (*put)(char c, void *arg);
    void *arg;
    int count;
};

static void emit(struct out *o, char c)
{
    o->put(c, o->arg);
    o->count++;
}

static void emit_padding(struct out *o, char c, int n)
{
    while (n-- > 0)
        emit(o, c);
}

/* Write s (len bytes) padded to the field width; zero padding goes after a sign. */
static void emit_field(struct out *o, const struct spec *sp, const char *prefix,
                       const char *s, int len)
{
    int plen = 0;
    while (prefix[plen])
        plen++;
    int pad = sp->width - len - plen;
    if (!sp->left && !sp->zero)
        emit_padding(o, ' ', pad);
    for (int i = 0; i < plen; i++)
        emit(o, prefix[i]);
    if (!sp->left && sp->zero)
        emit_padding(o, '0', pad);
    for (int i = 0; i < len; i++)
        emit(o, s[i]);
    if (sp->left)
        emit_padding(o, ' ', pad);
}

static void emit_number(struct out *o, const struct spec *sp, uint64_t v, int negative,
                        unsigned base, int upper, const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24];
    int n = sizeof buf;
    do {
        buf[--n] = digits[v % base];
        v /= base;
    } while (v);
    emit_field(o, sp, negative ? "-" : prefix, buf + n, (int)sizeof buf - n);
}

static uint64_t arg_unsigned(const struct spec *sp, va_list *ap)
{
    switch (sp->size) {
    case 0: return va_arg(*ap, unsigned int);
    case 1: return va_arg(*ap, unsigned long);
    case 2: return va_arg(*ap, unsigned long long);
    default: return va_arg(*ap, size_t);
    }
}

static int64_t arg_signed(const struct spec *sp, va_list *ap)
{
    switch (sp->size) {
    case 0: return va_arg(*ap, int);
    case 1: return va_arg(*ap, long);
    case 2: return va_arg(*ap, long long);
    default: return (int64_t)va_arg(*ap, size_t);
    }
}

int kformat(void (*put)(char c, void *arg), void *arg, const char *fmt, va_list ap_in)
{
    struct out o = { put, arg, 0 };
    va_list ap;
    va_copy(ap, ap_in);

    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            emit(&o, *p);
            continue;
        }
        const char *start = p++;
        struct spec sp = { 0, 0, 0, 0 };
        for (;; p++) {
            if (*p == '-')
                sp.left = 1;
            else if (*p == '0')
                sp.zero = 1;
            else
                break;
        }
        if (*p == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0) {
                sp.left = 1;
                sp.width = -sp.width;
            }
            p++;
        } else {
            while (*p >= '0' && *p <= '9')
                sp.width = sp.width * 10 + (*p++ - '0');
        }
        if (*p == 'l') {
            sp.size = 1;
            if (*++p == 'l') {
                sp.size = 2;
                p++;
            }
        } else if (*p == 'z') {
            sp.size = 3;
            p++;
        }
        if (sp.left)
            sp.zero = 0;

        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = arg_signed(&sp, &ap);
            uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
            emit_number(&o, &sp, mag, v < 0, 10, 0, "");
            break;
        }
        case 'u':
            emit_number(&o, &sp, arg_unsigned(&sp, &ap), 0, 10, 0, "");
            break;
        case 'x':
        case 'X':
            emit_number(&o, &sp, arg_unsigned(&sp, &ap), 0, 16, *p == 'X', "");
            break;
        case 'p': {
            /* Always 0x and 16 digits; a wider field is padded with spaces. */
            uint64_t v = (uintptr_t)va_arg(ap, void *);
            char digits[16];
            for (int i = 15; i >= 0; i--, v >>= 4)
                digits[i] = "0123456789abcdef"[v & 15];
            sp.zero = 0;
            emit_field(&o, &sp, "0x", digits, 16);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            sp.zero = 0;
            emit_field(&o, &sp, "", &c, 1);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int len = 0;
            while (s[len])
                len++;
            sp.zero = 0;
            emit_field(&o, &sp, "", s, len);
            break;
        }
        case '%':
            emit(&o, '%');
            break;
        default:
            /* Unknown or truncated conversion: show it verbatim. */
            for (const char *q = start; q <= p && *q; q++)
                emit(&o, *q);
            if (!*p)
                p--;
            break;
        }
    }
    va_end(ap);
    return o.count;
}

struct bufsink {
    char *buf;
    size_t size;
    size_t pos;
};

static void put_buf(char c, void *arg)
{
    struct bufsink *b = arg;
    if (b->pos + 1 < b->size)
        b->buf[b->pos] = c;
    b->pos++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct bufsink b = { buf, size, 0 };
    int n = kformat(put_buf, &b, fmt, ap);
    if (size)
        buf[b.pos < size ? b.pos : size - 1] = '\0';
    return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static void put_console(char c, void *arg)
{
    (void)arg;
    console_putc(c);
}

int kvprintf(const char *fmt, va_list ap)
{
    return kformat(put_console, NULL, fmt, ap);
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}
