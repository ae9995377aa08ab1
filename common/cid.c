#include "cid.h"

#include <sodium.h>
#include <string.h>

static const char b32_alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char b58_alpha[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
static const char b36_alpha[] = "0123456789abcdefghijklmnopqrstuvwxyz";

int cid_varint_read(const uint8_t *in, size_t len, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < len && i < 9; i++) {
        x |= (uint64_t)(in[i] & 0x7f) << (7 * i);
        if (!(in[i] & 0x80)) {
            *v = x;
            return (int)i + 1;
        }
    }
    return -1;
}

int cid_varint_write(uint64_t v, uint8_t *out, size_t outlen)
{
    size_t n = 0;
    do {
        if (n >= outlen)
            return -1;
        uint8_t b = v & 0x7f;
        v >>= 7;
        out[n++] = b | (v ? 0x80 : 0);
    } while (v);
    return (int)n;
}

int cid_base32_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
    size_t need = (len * 8 + 4) / 5;
    if (need + 1 > outlen)
        return -1;
    size_t o = 0;
    uint32_t buf = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        buf = (buf << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32_alpha[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32_alpha[(buf << (5 - bits)) & 31];
    out[o] = '\0';
    return (int)o;
}

int cid_base32_decode(const char *in, uint8_t *out, size_t outlen)
{
    size_t o = 0;
    uint32_t buf = 0;
    int bits = 0;
    for (const char *p = in; *p; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        const char *hit = strchr(b32_alpha, c);
        if (!hit || c == '\0')
            return -1;
        buf = (buf << 5) | (uint32_t)(hit - b32_alpha);
        bits += 5;
        if (bits >= 8) {
            if (o >= outlen)
                return -1;
            out[o++] = (uint8_t)(buf >> (bits - 8));
            bits -= 8;
        }
    }
    return (int)o;
}

/* Big-number conversion between byte strings and an arbitrary alphabet;
 * inputs are small (CIDs, keys), so the quadratic loop is fine. */
static int radix_decode(const char *in, const char *alpha, unsigned base, uint8_t *out, size_t outlen)
{
    size_t inlen = strlen(in);
    uint8_t tmp[CID_MAX_BIN * 2];
    size_t n = 0;
    size_t zeros = 0;
    while (zeros < inlen && in[zeros] == alpha[0])
        zeros++;
    for (size_t i = zeros; i < inlen; i++) {
        const char *hit = strchr(alpha, in[i]);
        if (!hit || in[i] == '\0')
            return -1;
        unsigned carry = (unsigned)(hit - alpha);
        for (size_t j = 0; j < n; j++) {
            carry += (unsigned)tmp[j] * base;
            tmp[j] = carry & 0xff;
            carry >>= 8;
        }
        while (carry) {
            if (n >= sizeof tmp)
                return -1;
            tmp[n++] = carry & 0xff;
            carry >>= 8;
        }
    }
    if (zeros + n > outlen)
        return -1;
    memset(out, 0, zeros);
    for (size_t j = 0; j < n; j++)
        out[zeros + j] = tmp[n - 1 - j];
    return (int)(zeros + n);
}

static int radix_encode(const uint8_t *in, size_t len, const char *alpha, unsigned base, char *out, size_t outlen)
{
    uint8_t digits[CID_MAX_BIN * 2];
    size_t n = 0;
    size_t zeros = 0;
    while (zeros < len && in[zeros] == 0)
        zeros++;
    for (size_t i = zeros; i < len; i++) {
        unsigned carry = in[i];
        for (size_t j = 0; j < n; j++) {
            carry += (unsigned)digits[j] << 8;
            digits[j] = (uint8_t)(carry % base);
            carry /= base;
        }
        while (carry) {
            if (n >= sizeof digits)
                return -1;
            digits[n++] = (uint8_t)(carry % base);
            carry /= base;
        }
    }
    if (zeros + n + 1 > outlen)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < zeros; i++)
        out[o++] = alpha[0];
    for (size_t j = 0; j < n; j++)
        out[o++] = alpha[digits[n - 1 - j]];
    out[o] = '\0';
    return (int)o;
}

int cid_base58_decode(const char *in, uint8_t *out, size_t outlen)
{
    return radix_decode(in, b58_alpha, 58, out, outlen);
}

int cid_base58_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
    return radix_encode(in, len, b58_alpha, 58, out, outlen);
}

int cid_base36_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
    return radix_encode(in, len, b36_alpha, 36, out, outlen);
}

int cid_base36_decode(const char *in, uint8_t *out, size_t outlen)
{
    return radix_decode(in, b36_alpha, 36, out, outlen);
}

void cid_raw_from_bytes(const void *data, size_t len, char *out)
{
    uint8_t bin[4 + crypto_hash_sha256_BYTES] = {0x01, CID_CODEC_RAW, CID_MH_SHA2_256, 0x20};
    crypto_hash_sha256(bin + 4, data, len);
    out[0] = 'b';
    cid_base32_encode(bin, sizeof bin, out + 1, CID_RAW_STR_LEN);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cid_decode(const char *s, uint8_t *out, size_t outlen)
{
    size_t len = strlen(s);
    if (len < 2 || len >= CID_MAX_STR)
        return -1;
    if (len == 46 && s[0] == 'Q' && s[1] == 'm') {
        if (outlen < 2)
            return -1;
        int n = cid_base58_decode(s, out + 2, outlen - 2);
        if (n != 34 || out[2] != CID_MH_SHA2_256 || out[3] != 0x20)
            return -1;
        out[0] = 0x01;
        out[1] = CID_CODEC_DAG_PB;
        return n + 2;
    }
    int n;
    switch (s[0]) {
    case 'b':
    case 'B':
        n = cid_base32_decode(s + 1, out, outlen);
        break;
    case 'z':
        n = cid_base58_decode(s + 1, out, outlen);
        break;
    case 'k':
        n = cid_base36_decode(s + 1, out, outlen);
        break;
    case 'f':
        if ((len - 1) % 2 || (len - 1) / 2 > outlen)
            return -1;
        n = (int)((len - 1) / 2);
        for (int i = 0; i < n; i++) {
            int hi = hexval(s[1 + 2 * i]), lo = hexval(s[2 + 2 * i]);
            if (hi < 0 || lo < 0)
                return -1;
            out[i] = (uint8_t)(hi << 4 | lo);
        }
        break;
    default:
        return -1;
    }
    if (n < 4 || out[0] != 0x01)
        return -1;
    uint64_t codec, mh;
    const uint8_t *d;
    size_t dl;
    if (cid_inspect(out, (size_t)n, &codec, &mh, &d, &dl) != 0)
        return -1;
    return n;
}

int cid_inspect(const uint8_t *bin, size_t len, uint64_t *codec, uint64_t *mh_code,
                const uint8_t **digest, size_t *digest_len)
{
    uint64_t version, dlen;
    size_t o = 0;
    int k = cid_varint_read(bin, len, &version);
    if (k < 0 || version != 1)
        return -1;
    o += (size_t)k;
    if ((k = cid_varint_read(bin + o, len - o, codec)) < 0)
        return -1;
    o += (size_t)k;
    if ((k = cid_varint_read(bin + o, len - o, mh_code)) < 0)
        return -1;
    o += (size_t)k;
    if ((k = cid_varint_read(bin + o, len - o, &dlen)) < 0)
        return -1;
    o += (size_t)k;
    if (dlen != len - o)
        return -1;
    *digest = bin + o;
    *digest_len = (size_t)dlen;
    return 0;
}

int cid_equal(const char *a, const char *b)
{
    uint8_t x[CID_MAX_BIN], y[CID_MAX_BIN];
    int nx = cid_decode(a, x, sizeof x);
    int ny = cid_decode(b, y, sizeof y);
    return nx > 0 && nx == ny && memcmp(x, y, (size_t)nx) == 0;
}

int cid_to_base32(const char *s, char *out, size_t outlen)
{
    uint8_t bin[CID_MAX_BIN];
    int n = cid_decode(s, bin, sizeof bin);
    if (n < 0 || outlen < 2)
        return -1;
    out[0] = 'b';
    return cid_base32_encode(bin, (size_t)n, out + 1, outlen - 1) < 0 ? -1 : 0;
}
