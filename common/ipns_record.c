#include "ipns_record.h"

#include "cid.h"
#include "err.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* IpnsEntry field numbers. */
enum { F_VALUE = 1, F_SIG_V1, F_VALIDITY_TYPE, F_VALIDITY, F_SEQUENCE, F_TTL, F_PUBKEY, F_SIG_V2, F_DATA };
enum { WIRE_VARINT = 0, WIRE_BYTES = 2 };
#define VALIDITY_EOL 0

static const char sig_v2_prefix[] = "ipns-signature:";

/* A bounded writer: any overflow sticks and fails the whole encoding. */
struct buf {
    uint8_t *p;
    size_t len, cap;
    int bad;
};

static void put(struct buf *b, const void *src, size_t n)
{
    if (b->bad || n > b->cap - b->len) {
        b->bad = 1;
        return;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_varint(struct buf *b, uint64_t v)
{
    uint8_t tmp[10];
    int n = cid_varint_write(v, tmp, sizeof tmp);
    put(b, tmp, (size_t)n);
}

static void pb_varint(struct buf *b, int field, uint64_t v)
{
    put_varint(b, (uint64_t)field << 3 | WIRE_VARINT);
    put_varint(b, v);
}

static void pb_bytes(struct buf *b, int field, const void *src, size_t n)
{
    put_varint(b, (uint64_t)field << 3 | WIRE_BYTES);
    put_varint(b, n);
    put(b, src, n);
}

/* CBOR head: major type and argument, always in the shortest form. */
static void cbor_head(struct buf *b, unsigned major, uint64_t v)
{
    uint8_t h[9];
    size_t n;
    if (v < 24) {
        h[0] = (uint8_t)(major << 5 | v);
        n = 1;
    } else {
        int bytes = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffu ? 4 : 8;
        h[0] = (uint8_t)(major << 5 | (bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27));
        for (int i = 0; i < bytes; i++)
            h[1 + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
        n = 1 + (size_t)bytes;
    }
    put(b, h, n);
}

static void cbor_key(struct buf *b, const char *k)
{
    cbor_head(b, 3, strlen(k));
    put(b, k, strlen(k));
}

int ipns_record_validity(double eol, char out[IPNS_VALIDITY_LEN + 1])
{
    if (!isfinite(eol) || eol < 0)
        return -1;
    long long ms = llround(eol * 1000.0);
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm))
        return -1;
    char date[24];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    int n = snprintf(out, IPNS_VALIDITY_LEN + 1, "%s.%03lld000000Z", date, ms % 1000);
    return n == IPNS_VALIDITY_LEN ? 0 : -1;
}

int ipns_record_data(const struct ipns_record_fields *f, uint8_t *out, size_t cap)
{
    struct buf b = {out, 0, cap, 0};
    /* DAG-CBOR map order: shorter keys first, then bytewise. */
    cbor_head(&b, 5, 5);
    cbor_key(&b, "TTL");
    cbor_head(&b, 0, f->ttl_ns);
    cbor_key(&b, "Value");
    cbor_head(&b, 2, strlen(f->value));
    put(&b, f->value, strlen(f->value));
    cbor_key(&b, "Sequence");
    cbor_head(&b, 0, f->seq);
    cbor_key(&b, "Validity");
    cbor_head(&b, 2, strlen(f->validity));
    put(&b, f->validity, strlen(f->validity));
    cbor_key(&b, "ValidityType");
    cbor_head(&b, 0, VALIDITY_EOL);
    return b.bad ? -1 : (int)b.len;
}

int ipns_record_build(const struct ipns_key *k, const struct ipns_record_fields *f, uint8_t *out,
                      size_t cap, char *err, size_t errlen)
{
    size_t vlen = strlen(f->value);
    if (vlen == 0 || vlen > IPNS_VALUE_MAX)
        return err_set(err, errlen, "IPNS value must be 1 to %d bytes", IPNS_VALUE_MAX);
    size_t tlen = strlen(f->validity);
    if (tlen < IPNS_VALIDITY_MIN_LEN || tlen > IPNS_VALIDITY_LEN)
        return err_set(err, errlen, "IPNS validity must be an RFC 3339 UTC time");
    uint8_t data[IPNS_VALUE_MAX + 128];
    int dlen = ipns_record_data(f, data, sizeof data);
    if (dlen < 0)
        return err_set(err, errlen, "IPNS record data larger than %zu bytes", sizeof data);
    uint8_t signed_v2[sizeof sig_v2_prefix - 1 + sizeof data];
    memcpy(signed_v2, sig_v2_prefix, sizeof sig_v2_prefix - 1);
    memcpy(signed_v2 + sizeof sig_v2_prefix - 1, data, (size_t)dlen);
    unsigned char sig2[IPNS_KEY_SIG_BYTES], sig1[IPNS_KEY_SIG_BYTES];
    ipns_key_sign(k, signed_v2, sizeof sig_v2_prefix - 1 + (size_t)dlen, sig2);
    /* V1 signs value || validity || the validity type's name. */
    uint8_t signed_v1[IPNS_VALUE_MAX + IPNS_VALIDITY_LEN + 3];
    memcpy(signed_v1, f->value, vlen);
    memcpy(signed_v1 + vlen, f->validity, tlen);
    memcpy(signed_v1 + vlen + tlen, "EOL", 3);
    ipns_key_sign(k, signed_v1, vlen + tlen + 3, sig1);

    struct buf b = {out, 0, cap < IPNS_RECORD_MAX ? cap : IPNS_RECORD_MAX, 0};
    pb_bytes(&b, F_VALUE, f->value, vlen);
    pb_bytes(&b, F_SIG_V1, sig1, sizeof sig1);
    pb_varint(&b, F_VALIDITY_TYPE, VALIDITY_EOL);
    pb_bytes(&b, F_VALIDITY, f->validity, tlen);
    pb_varint(&b, F_SEQUENCE, f->seq);
    pb_varint(&b, F_TTL, f->ttl_ns);
    /* No pubKey: an Ed25519 name carries its public key inline. */
    pb_bytes(&b, F_SIG_V2, sig2, sizeof sig2);
    pb_bytes(&b, F_DATA, data, (size_t)dlen);
    if (b.bad)
        return err_set(err, errlen, "IPNS record larger than %zu bytes", b.cap);
    return (int)b.len;
}

int ipns_record_parse(const uint8_t *rec, size_t len, struct ipns_record_view *v, char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    if (len > IPNS_RECORD_MAX)
        return err_set(err, errlen, "IPNS record larger than %d bytes", IPNS_RECORD_MAX);
    size_t o = 0;
    while (o < len) {
        uint64_t tag, x;
        int n = cid_varint_read(rec + o, len - o, &tag);
        if (n < 0)
            return err_set(err, errlen, "IPNS record: bad protobuf tag");
        o += (size_t)n;
        if ((n = cid_varint_read(rec + o, len - o, &x)) < 0)
            return err_set(err, errlen, "IPNS record: bad protobuf value");
        o += (size_t)n;
        int field = (int)(tag >> 3), wire = (int)(tag & 7);
        if (wire == WIRE_VARINT) {
            if (field == F_VALIDITY_TYPE)
                v->validity_type = x, v->has_validity_type = 1;
            else if (field == F_SEQUENCE)
                v->seq = x, v->has_seq = 1;
            else if (field == F_TTL)
                v->ttl_ns = x, v->has_ttl = 1;
            continue;
        }
        if (wire != WIRE_BYTES || x > len - o)
            return err_set(err, errlen, "IPNS record: bad protobuf field %d", field);
        const uint8_t *p = rec + o;
        o += (size_t)x;
        switch (field) {
        case F_VALUE: v->value = p, v->value_len = (size_t)x; break;
        case F_SIG_V1: v->sig_v1 = p, v->sig_v1_len = (size_t)x; break;
        case F_VALIDITY: v->validity = p, v->validity_len = (size_t)x; break;
        case F_SIG_V2: v->sig_v2 = p, v->sig_v2_len = (size_t)x; break;
        case F_DATA: v->data = p, v->data_len = (size_t)x; break;
        default: break; /* pubKey and unknown fields */
        }
    }
    return 0;
}

static int parse_validity(const uint8_t *s, size_t len, double *out)
{
    char buf[64];
    if (len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    struct tm tm = {0};
    int consumed = 0;
    if (sscanf(buf, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    double frac = 0;
    const char *p = buf + consumed;
    if (*p == '.') {
        double scale = 0.1;
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
            frac += (*p - '0') * scale;
    }
    if (strcmp(p, "Z") != 0)
        return -1;
    *out = (double)timegm(&tm) + frac;
    return 0;
}

/* A bounded reader of the signed `data` map. */
struct reader {
    const uint8_t *p;
    size_t len, o;
};

static int cbor_read_head(struct reader *r, unsigned *major, uint64_t *v)
{
    if (r->o >= r->len)
        return -1;
    uint8_t b = r->p[r->o++];
    unsigned ai = b & 31;
    *major = b >> 5;
    if (ai < 24) {
        *v = ai;
        return 0;
    }
    size_t n = ai == 24 ? 1 : ai == 25 ? 2 : ai == 26 ? 4 : ai == 27 ? 8 : 0;
    if (n == 0 || n > r->len - r->o)
        return -1;
    *v = 0;
    while (n--)
        *v = *v << 8 | r->p[r->o++];
    return 0;
}

static int key_is(const uint8_t *k, size_t klen, const char *name)
{
    return klen == strlen(name) && memcmp(k, name, klen) == 0;
}

/* A record with signatureV2 and data alone (the specification allows V1
 * fields to be left out): its fields are read from data, where the
 * signature covers them. */
static int fields_from_data(struct ipns_record_view *v)
{
    struct reader r = {v->data, v->data_len, 0};
    unsigned major;
    uint64_t n;
    if (cbor_read_head(&r, &major, &n) != 0 || major != 5)
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t klen, x;
        if (cbor_read_head(&r, &major, &klen) != 0 || major != 3 || klen > r.len - r.o)
            return -1;
        const uint8_t *k = r.p + r.o;
        r.o += (size_t)klen;
        if (cbor_read_head(&r, &major, &x) != 0)
            return -1;
        if (major == 2) {
            if (x > r.len - r.o)
                return -1;
            const uint8_t *b = r.p + r.o;
            r.o += (size_t)x;
            if (key_is(k, (size_t)klen, "Value"))
                v->value = b, v->value_len = (size_t)x;
            else if (key_is(k, (size_t)klen, "Validity"))
                v->validity = b, v->validity_len = (size_t)x;
        } else if (major == 0) {
            if (key_is(k, (size_t)klen, "Sequence"))
                v->seq = x, v->has_seq = 1;
            else if (key_is(k, (size_t)klen, "TTL"))
                v->ttl_ns = x, v->has_ttl = 1;
            else if (key_is(k, (size_t)klen, "ValidityType"))
                v->validity_type = x, v->has_validity_type = 1;
        } else {
            return -1;
        }
    }
    return r.o == r.len ? 0 : -1;
}

int ipns_record_verify(const uint8_t *rec, size_t len, const unsigned char pk[IPNS_KEY_PUBLIC_BYTES],
                       double now, struct ipns_record_view *v, char *err, size_t errlen)
{
    if (ipns_record_parse(rec, len, v, err, errlen) != 0)
        return -1;
    if (!v->sig_v2 || v->sig_v2_len != IPNS_KEY_SIG_BYTES || !v->data)
        return err_set(err, errlen, "IPNS record has no signatureV2 or data");
    uint8_t msg[sizeof sig_v2_prefix - 1 + IPNS_RECORD_MAX];
    memcpy(msg, sig_v2_prefix, sizeof sig_v2_prefix - 1);
    memcpy(msg + sizeof sig_v2_prefix - 1, v->data, v->data_len);
    if (crypto_sign_ed25519_verify_detached(v->sig_v2, msg, sizeof sig_v2_prefix - 1 + v->data_len, pk) != 0)
        return err_set(err, errlen, "IPNS record: signatureV2 does not verify");
    int v2_only = !v->value && !v->validity && !v->has_seq && !v->has_ttl && !v->has_validity_type && !v->sig_v1;
    if (v2_only && fields_from_data(v) != 0)
        return err_set(err, errlen, "IPNS record: data is not the map of fields the specification defines");
    char value[IPNS_VALUE_MAX + 1];
    struct ipns_record_fields f = {.value = value, .seq = v->seq, .ttl_ns = v->ttl_ns};
    /* Go's RFC3339Nano drops trailing zeros of the fraction: Kubo's
     * validity is 20 to 30 characters long. */
    if (!v->value || v->value_len > IPNS_VALUE_MAX || v->validity_len < IPNS_VALIDITY_MIN_LEN ||
        v->validity_len > IPNS_VALIDITY_LEN ||
        !v->has_seq || !v->has_ttl || v->validity_type != VALIDITY_EOL)
        return err_set(err, errlen, "IPNS record lacks the V1 fields its data must match");
    memcpy(value, v->value, v->value_len);
    value[v->value_len] = '\0';
    memcpy(f.validity, v->validity, v->validity_len);
    f.validity[v->validity_len] = '\0';
    uint8_t want[IPNS_VALUE_MAX + 128];
    int wlen = ipns_record_data(&f, want, sizeof want);
    if (wlen < 0 || (size_t)wlen != v->data_len || memcmp(want, v->data, v->data_len) != 0)
        return err_set(err, errlen, "IPNS record: data does not match the protobuf fields");
    double eol;
    if (parse_validity(v->validity, v->validity_len, &eol) != 0)
        return err_set(err, errlen, "IPNS record: validity is not an RFC 3339 time");
    if (eol <= now)
        return err_set(err, errlen, "IPNS record expired at %s", f.validity);
    return 0;
}
