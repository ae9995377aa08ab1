/* Content identifiers, computed and compared locally.
 *
 * A file of at most one chunk added with CIDv1 and raw leaves is a single
 * raw block, so its CID is b + base32(0x01 0x55 0x12 0x20 + sha256(bytes)):
 * it can be checked without the node, and a gateway's answer verified. */
#ifndef RADIO_CID_H
#define RADIO_CID_H

#include <stddef.h>
#include <stdint.h>

#define CID_RAW_STR_LEN 59          /* "b" + base32 of 36 bytes */
#define CID_MAX_BIN 128
#define CID_MAX_STR 256
#define CID_CHUNK_SIZE 262144       /* the node's default chunk: larger files are DAGs */

#define CID_CODEC_RAW 0x55
#define CID_CODEC_DAG_PB 0x70
#define CID_CODEC_LIBP2P_KEY 0x72
#define CID_MH_SHA2_256 0x12
#define CID_MH_IDENTITY 0x00

/* out must hold CID_RAW_STR_LEN + 1 bytes. */
void cid_raw_from_bytes(const void *data, size_t len, char *out);

/* Decodes a CID string (CIDv0 "Qm...", or multibase b/B base32, z base58btc,
 * k base36, f hex) into binary CIDv1 form (v0 becomes 0x01 0x70 + multihash).
 * Returns the binary length, or -1. */
int cid_decode(const char *s, uint8_t *out, size_t outlen);

/* Same content identifier, whatever base or version each is written in. */
int cid_equal(const char *a, const char *b);

/* Canonical text form: CIDv1 base32. Returns 0 or -1. */
int cid_to_base32(const char *s, char *out, size_t outlen);

/* Fields of a decoded binary CIDv1. Returns 0 or -1. */
int cid_inspect(const uint8_t *bin, size_t len, uint64_t *codec, uint64_t *mh_code,
                const uint8_t **digest, size_t *digest_len);

/* RFC 4648 lowercase base32 without padding. Returns chars written (excl. NUL) or -1. */
int cid_base32_encode(const uint8_t *in, size_t len, char *out, size_t outlen);
int cid_base32_decode(const char *in, uint8_t *out, size_t outlen);
/* Bitcoin-alphabet base58 and lowercase base36. Return bytes or chars, or -1. */
int cid_base58_decode(const char *in, uint8_t *out, size_t outlen);
int cid_base58_encode(const uint8_t *in, size_t len, char *out, size_t outlen);
int cid_base36_encode(const uint8_t *in, size_t len, char *out, size_t outlen);
int cid_base36_decode(const char *in, uint8_t *out, size_t outlen);

/* Unsigned LEB128 as used by multiformats. Return bytes used/written, or -1. */
int cid_varint_read(const uint8_t *in, size_t len, uint64_t *v);
int cid_varint_write(uint64_t v, uint8_t *out, size_t outlen);

#endif
