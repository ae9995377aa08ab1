#include "text.h"

#include <stdint.h>
#include <string.h>

size_t text_utf8_seq_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n;
    uint32_t cp, min;
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2, cp = s[0] & 0x1F, min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3, cp = s[0] & 0x0F, min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4, cp = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

int text_is_utf8(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        size_t n = text_utf8_seq_len(s);
        if (!n)
            return 0;
        s += n;
    }
    return 1;
}

/* Decodes one code point; non-UTF-8 text is read as Latin-1. */
static uint32_t next_code_point(const unsigned char **s, int utf8)
{
    const unsigned char *p = *s;
    size_t n = utf8 ? text_utf8_seq_len(p) : 1;
    uint32_t cp = n == 1 ? p[0] : (uint32_t)(p[0] & (0xFF >> (n + 1)));
    for (size_t i = 1; i < n; i++)
        cp = cp << 6 | (p[i] & 0x3F);
    *s = p + n;
    return cp;
}

static size_t utf8_encode(uint32_t cp, unsigned char *out)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static int is_space_or_control(uint32_t cp)
{
    return cp <= 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

void text_one_line(char *dst, size_t dstlen, const char *src)
{
    if (!dstlen)
        return;
    dst[0] = '\0';
    if (!src)
        return;
    const unsigned char *s = (const unsigned char *)src;
    int utf8 = text_is_utf8(src);
    size_t len = 0;
    int pending_space = 0;
    while (*s) {
        uint32_t cp = next_code_point(&s, utf8);
        if (is_space_or_control(cp)) {
            pending_space = len > 0;
            continue;
        }
        unsigned char buf[5];
        size_t n = 0;
        if (pending_space)
            buf[n++] = ' ';
        n += utf8_encode(cp, buf + n);
        if (len + n >= dstlen)
            break;
        memcpy(dst + len, buf, n);
        len += n;
        dst[len] = '\0';
        pending_space = 0;
    }
}
