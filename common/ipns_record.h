/* IPNS records built and signed here, as the IPNS record specification
 * says: a protobuf IpnsEntry whose `data` field is a DAG-CBOR map {TTL,
 * Value, Sequence, Validity, ValidityType} (keys in canonical order) signed
 * as "ipns-signature:" || data (signatureV2). The V1 fields and signature
 * are written too, as Kubo does by default: older validators (js-ipfs
 * among them) refuse a record without them. Ed25519 signatures are
 * deterministic, so the same inputs give the same bytes everywhere. */
#ifndef RADIO_IPNS_RECORD_H
#define RADIO_IPNS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "ipns_key.h"

#define IPNS_RECORD_MAX 10240            /* the specification's size limit */
#define IPNS_VALIDITY_LEN 30             /* 2006-01-02T15:04:05.000000000Z */
#define IPNS_VALIDITY_MIN_LEN 20         /* 2006-01-02T15:04:05Z */
#define IPNS_VALUE_MAX 4096

struct ipns_record_fields {
    const char *value;                   /* e.g. /ipfs/<cid> */
    uint64_t seq;
    char validity[IPNS_VALIDITY_LEN + 1];/* RFC 3339, UTC, up to nanoseconds */
    uint64_t ttl_ns;
};

/* The EOL as the specification writes it, from Unix seconds (ms precision). */
int ipns_record_validity(double eol, char out[IPNS_VALIDITY_LEN + 1]);

/* The DAG-CBOR `data` map. Returns its length, or -1 if cap is too small. */
int ipns_record_data(const struct ipns_record_fields *f, uint8_t *out, size_t cap);

/* The signed, marshalled IpnsEntry. Returns its length, or -1 with a message. */
int ipns_record_build(const struct ipns_key *k, const struct ipns_record_fields *f, uint8_t *out,
                      size_t cap, char *err, size_t errlen);

/* A record read back: the fields point into the record's bytes. */
struct ipns_record_view {
    const uint8_t *value, *validity, *sig_v1, *sig_v2, *data;
    size_t value_len, validity_len, sig_v1_len, sig_v2_len, data_len;
    uint64_t seq, ttl_ns, validity_type;
    int has_seq, has_ttl, has_validity_type;
};

int ipns_record_parse(const uint8_t *rec, size_t len, struct ipns_record_view *v, char *err, size_t errlen);

/* Checks what a validator checks: signatureV2 over data with the name's
 * public key, data equal to the canonical encoding of the protobuf fields
 * (a record without V1 fields, signatureV2 and data alone, is read from
 * data, and v's fields point into it),
 * and the EOL not passed at `now` (Unix seconds). Fills v on success. */
int ipns_record_verify(const uint8_t *rec, size_t len, const unsigned char pk[IPNS_KEY_PUBLIC_BYTES],
                       double now, struct ipns_record_view *v, char *err, size_t errlen);

#endif
