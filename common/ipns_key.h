/* The station's own IPNS identity: an Ed25519 key pair kept in a file the
 * streamer owns, and the IPNS name derived from it locally.
 *
 * The file holds the key as a libp2p PrivateKey protobuf (the bytes Kubo's
 * `key export` writes and `key import` reads by default), readable by its
 * owner only. The name is the CIDv1 (libp2p-key codec) of the identity
 * multihash of the public key protobuf, written in base36: k51... The
 * secret never leaves this module except through ipns_key_export. */
#ifndef RADIO_IPNS_KEY_H
#define RADIO_IPNS_KEY_H

#include <stddef.h>
#include <stdint.h>

#define IPNS_KEY_SECRET_BYTES 64         /* libsodium's seed || public key */
#define IPNS_KEY_PUBLIC_BYTES 32
#define IPNS_KEY_SIG_BYTES 64
#define IPNS_KEY_PROTOBUF_LEN 68         /* PrivateKey{Type: Ed25519, Data: 64 bytes} */
#define IPNS_PUBKEY_PROTOBUF_LEN 36      /* PublicKey{Type: Ed25519, Data: 32 bytes} */
#define IPNS_NAME_MAX 128
#define IPNS_KEY_FILE_MAX 4096           /* larger files are not keys */

struct ipns_key {
    unsigned char sk[IPNS_KEY_SECRET_BYTES];
    unsigned char pk[IPNS_KEY_PUBLIC_BYTES];
};

enum ipns_key_format {
    IPNS_KEY_LIBP2P,                     /* binary PrivateKey protobuf (Kubo: libp2p-protobuf-cleartext) */
    IPNS_KEY_PEM,                        /* PKCS#8 PEM (Kubo: pem-pkcs8-cleartext, OpenSSL) */
};

int ipns_key_generate(struct ipns_key *k, char *err, size_t errlen);

/* Reads either format (PEM is recognised by its BEGIN line). The public
 * half is recomputed from the seed and must match any copy in the input. */
int ipns_key_parse(struct ipns_key *k, const void *data, size_t len, char *err, size_t errlen);

/* Writes the key in the given format; returns the length, or -1. */
int ipns_key_export(const struct ipns_key *k, enum ipns_key_format f, char *out, size_t outlen);

/* The key file: saved atomically with mode 0600; load refuses a file that
 * others can read, as ssh does, and anything but a regular file (a symbolic
 * link too). On failure *k is left wiped. */
int ipns_key_save(const char *path, const struct ipns_key *k, char *err, size_t errlen);
int ipns_key_load(const char *path, struct ipns_key *k, char *err, size_t errlen);
/* Loads the file, or creates a new key there when it does not exist; a
 * file that appears meanwhile is loaded, never replaced. */
int ipns_key_open(const char *path, struct ipns_key *k, int *created, char *err, size_t errlen);

void ipns_key_public_protobuf(const unsigned char pk[IPNS_KEY_PUBLIC_BYTES],
                              unsigned char out[IPNS_PUBKEY_PROTOBUF_LEN]);
/* k51... (what Kubo prints and path gateways resolve). */
int ipns_key_name(const unsigned char pk[IPNS_KEY_PUBLIC_BYTES], char *out, size_t outlen);
/* 12D3KooW... (the base58 peer id form, the one js-ipfs resolves). */
int ipns_key_peer_id(const unsigned char pk[IPNS_KEY_PUBLIC_BYTES], char *out, size_t outlen);
/* The public key inside a name in either form (k51..., bafzaa..., 12D3KooW...). */
int ipns_key_name_public(const char *name, unsigned char pk[IPNS_KEY_PUBLIC_BYTES]);

void ipns_key_sign(const struct ipns_key *k, const void *msg, size_t len,
                   unsigned char sig[IPNS_KEY_SIG_BYTES]);
void ipns_key_wipe(struct ipns_key *k);

#endif
