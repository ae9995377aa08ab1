#include "ipns_key.h"

#include "atomic.h"
#include "cid.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYTYPE_ED25519 1

/* RFC 8410 PrivateKeyInfo for Ed25519 up to the 32-byte seed. */
static const unsigned char pkcs8_prefix[] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                             0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
static const char pem_begin[] = "-----BEGIN PRIVATE KEY-----";
static const char pem_end[] = "-----END PRIVATE KEY-----";

int ipns_key_generate(struct ipns_key *k, char *err, size_t errlen)
{
    if (crypto_sign_ed25519_keypair(k->pk, k->sk) != 0)
        return err_set(err, errlen, "cannot generate an Ed25519 key");
    return 0;
}

static int from_seed(struct ipns_key *k, const unsigned char *seed, const unsigned char *pub_copy,
                     char *err, size_t errlen)
{
    if (crypto_sign_ed25519_seed_keypair(k->pk, k->sk, seed) != 0) {
        ipns_key_wipe(k);
        return err_set(err, errlen, "cannot derive the key pair");
    }
    if (pub_copy && sodium_memcmp(pub_copy, k->pk, IPNS_KEY_PUBLIC_BYTES) != 0) {
        ipns_key_wipe(k);
        return err_set(err, errlen, "the key's public half does not belong to its secret half");
    }
    return 0;
}

/* PrivateKey{1: Type, 2: Data}; Data is seed || public (64 bytes), or
 * that followed by the public key again (96, older Go versions). */
static int parse_protobuf(struct ipns_key *k, const unsigned char *b, size_t len, char *err, size_t errlen)
{
    uint64_t type = UINT64_MAX;
    const unsigned char *data = NULL;
    uint64_t dlen = 0;
    size_t o = 0;
    while (o < len) {
        uint64_t tag, v;
        int n = cid_varint_read(b + o, len - o, &tag);
        if (n < 0)
            return err_set(err, errlen, "not a libp2p private key (bad protobuf)");
        o += (size_t)n;
        if ((n = cid_varint_read(b + o, len - o, &v)) < 0)
            return err_set(err, errlen, "not a libp2p private key (bad protobuf)");
        o += (size_t)n;
        if (tag == (1 << 3 | 0)) {
            type = v;
        } else if (tag == (2 << 3 | 2) && v <= len - o) {
            data = b + o;
            dlen = v;
            o += (size_t)v;
        } else {
            return err_set(err, errlen, "not a libp2p private key (unexpected field)");
        }
    }
    if (type != KEYTYPE_ED25519)
        return err_set(err, errlen, "the key is not Ed25519 (libp2p key type %llu)", (unsigned long long)type);
    if (!data || (dlen != 64 && dlen != 96))
        return err_set(err, errlen, "Ed25519 key data has the wrong length");
    if (dlen == 96 && memcmp(data + 32, data + 64, 32) != 0)
        return err_set(err, errlen, "Ed25519 key data: the repeated public key differs");
    return from_seed(k, data, data + 32, err, errlen);
}

static const char *find(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

static int parse_pem(struct ipns_key *k, const char *text, size_t len, char *err, size_t errlen)
{
    const char *b = find(text, len, pem_begin);
    const char *e = b ? find(b, len - (size_t)(b - text), pem_end) : NULL;
    if (!b || !e)
        return err_set(err, errlen, "PEM key must be an unencrypted PKCS#8 \"PRIVATE KEY\"");
    b += sizeof pem_begin - 1;
    unsigned char der[128];
    size_t dlen = 0;
    if (sodium_base642bin(der, sizeof der, b, (size_t)(e - b), " \t\r\n", &dlen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        /* It may have decoded part of the key before the bad character. */
        sodium_memzero(der, sizeof der);
        return err_set(err, errlen, "PEM key: bad base64");
    }
    int rc = 0;
    if (dlen != sizeof pkcs8_prefix + 32 || memcmp(der, pkcs8_prefix, sizeof pkcs8_prefix) != 0)
        rc = err_set(err, errlen, "PEM key is not an Ed25519 PKCS#8 key");
    else
        rc = from_seed(k, der + sizeof pkcs8_prefix, NULL, err, errlen);
    sodium_memzero(der, sizeof der);
    return rc;
}

int ipns_key_parse(struct ipns_key *k, const void *data, size_t len, char *err, size_t errlen)
{
    memset(k, 0, sizeof *k);
    if (find(data, len, "-----BEGIN"))
        return parse_pem(k, data, len, err, errlen);
    return parse_protobuf(k, data, len, err, errlen);
}

int ipns_key_export(const struct ipns_key *k, enum ipns_key_format f, char *out, size_t outlen)
{
    if (f == IPNS_KEY_LIBP2P) {
        if (outlen < IPNS_KEY_PROTOBUF_LEN)
            return -1;
        unsigned char *o = (unsigned char *)out;
        o[0] = 1 << 3 | 0;
        o[1] = KEYTYPE_ED25519;
        o[2] = 2 << 3 | 2;
        o[3] = IPNS_KEY_SECRET_BYTES;
        memcpy(o + 4, k->sk, IPNS_KEY_SECRET_BYTES);
        return IPNS_KEY_PROTOBUF_LEN;
    }
    unsigned char der[sizeof pkcs8_prefix + 32];
    memcpy(der, pkcs8_prefix, sizeof pkcs8_prefix);
    memcpy(der + sizeof pkcs8_prefix, k->sk, 32);
    char b64[sodium_base64_ENCODED_LEN(sizeof der, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, der, sizeof der, sodium_base64_VARIANT_ORIGINAL);
    /* 48 bytes of DER are exactly one 64-character PEM line. */
    int n = snprintf(out, outlen, "%s\n%s\n%s\n", pem_begin, b64, pem_end);
    sodium_memzero(der, sizeof der);
    sodium_memzero(b64, sizeof b64);
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

int ipns_key_save(const char *path, const struct ipns_key *k, char *err, size_t errlen)
{
    char buf[IPNS_KEY_PROTOBUF_LEN];
    int n = ipns_key_export(k, IPNS_KEY_LIBP2P, buf, sizeof buf);
    int rc = atomic_write_private(path, buf, (size_t)n, err, errlen);
    sodium_memzero(buf, sizeof buf);
    return rc;
}

static int read_all(int fd, unsigned char *buf, size_t cap, size_t *n)
{
    *n = 0;
    while (*n < cap) {
        ssize_t got = read(fd, buf + *n, cap - *n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        *n += (size_t)got;
    }
    return 0;
}

/* Checks the file it has open, not the path, so what is checked is what is
 * read; a FIFO or device is refused instead of blocking. *missing (if given)
 * turns a missing file into a success with nothing loaded. */
static int load(const char *path, struct ipns_key *k, int *missing, char *err, size_t errlen)
{
    memset(k, 0, sizeof *k);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && missing && errno == ENOENT) {
        *missing = 1;
        return 0;
    }
    if (fd < 0 && errno == ELOOP)
        return err_set(err, errlen, "%s: is a symbolic link; give the key file's own path", path);
    if (fd < 0)
        return err_set(err, errlen, "%s: %s", path, strerror(errno));
    struct stat sb;
    unsigned char buf[IPNS_KEY_FILE_MAX + 1];
    size_t n = 0;
    int rc = -1;
    if (fstat(fd, &sb) != 0)
        err_set(err, errlen, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        err_set(err, errlen, "%s: the station key must be a regular file", path);
    else if (sb.st_mode & 077)
        err_set(err, errlen, "%s: the station key must be readable by its owner only (chmod 600)", path);
    else if (read_all(fd, buf, sizeof buf, &n) != 0)
        err_set(err, errlen, "read %s: %s", path, strerror(errno));
    else if (n > IPNS_KEY_FILE_MAX)
        err_set(err, errlen, "%s is larger than %d bytes: not a key", path, IPNS_KEY_FILE_MAX);
    else if (ipns_key_parse(k, buf, n, err, errlen) != 0)
        err_prefix(err, errlen, "%s", path);
    else
        rc = 0;
    close(fd);
    sodium_memzero(buf, sizeof buf);
    if (rc != 0)
        ipns_key_wipe(k);
    return rc;
}

int ipns_key_load(const char *path, struct ipns_key *k, char *err, size_t errlen)
{
    return load(path, k, NULL, err, errlen);
}

int ipns_key_open(const char *path, struct ipns_key *k, int *created, char *err, size_t errlen)
{
    *created = 0;
    int missing = 0;
    if (load(path, k, &missing, err, errlen) != 0)
        return -1;
    if (!missing)
        return 0;
    if (ipns_key_generate(k, err, errlen) != 0) {
        ipns_key_wipe(k);
        return -1;
    }
    char buf[IPNS_KEY_PROTOBUF_LEN];
    int n = ipns_key_export(k, IPNS_KEY_LIBP2P, buf, sizeof buf), exists = 0;
    int rc = atomic_create_private(path, buf, (size_t)n, &exists, err, errlen);
    sodium_memzero(buf, sizeof buf);
    if (rc != 0 || exists) {
        ipns_key_wipe(k);
        /* Created by someone else since the check (`key name` while the
         * daemon starts): that key is the station's, never overwrite it. */
        return rc != 0 ? -1 : ipns_key_load(path, k, err, errlen);
    }
    *created = 1;
    return 0;
}

void ipns_key_public_protobuf(const unsigned char pk[IPNS_KEY_PUBLIC_BYTES],
                              unsigned char out[IPNS_PUBKEY_PROTOBUF_LEN])
{
    out[0] = 1 << 3 | 0;
    out[1] = KEYTYPE_ED25519;
    out[2] = 2 << 3 | 2;
    out[3] = IPNS_KEY_PUBLIC_BYTES;
    memcpy(out + 4, pk, IPNS_KEY_PUBLIC_BYTES);
}

/* Identity multihash of the public key protobuf: short keys are inlined. */
static void multihash(const unsigned char *pk, unsigned char out[2 + IPNS_PUBKEY_PROTOBUF_LEN])
{
    out[0] = CID_MH_IDENTITY;
    out[1] = IPNS_PUBKEY_PROTOBUF_LEN;
    ipns_key_public_protobuf(pk, out + 2);
}

int ipns_key_name(const unsigned char pk[IPNS_KEY_PUBLIC_BYTES], char *out, size_t outlen)
{
    unsigned char bin[4 + IPNS_PUBKEY_PROTOBUF_LEN] = {0x01, CID_CODEC_LIBP2P_KEY};
    multihash(pk, bin + 2);
    if (outlen < 2)
        return -1;
    out[0] = 'k';
    return cid_base36_encode(bin, sizeof bin, out + 1, outlen - 1) < 0 ? -1 : 0;
}

int ipns_key_peer_id(const unsigned char pk[IPNS_KEY_PUBLIC_BYTES], char *out, size_t outlen)
{
    unsigned char mh[2 + IPNS_PUBKEY_PROTOBUF_LEN];
    multihash(pk, mh);
    return cid_base58_encode(mh, sizeof mh, out, outlen) < 0 ? -1 : 0;
}

int ipns_key_name_public(const char *name, unsigned char pk[IPNS_KEY_PUBLIC_BYTES])
{
    uint8_t bin[CID_MAX_BIN];
    const uint8_t *mh;
    size_t mhlen;
    if (strncmp(name, "/ipns/", 6) == 0)
        name += 6;
    if (name[0] == '1' || name[0] == 'Q') {
        int n = cid_base58_decode(name, bin, sizeof bin);
        if (n < 0)
            return -1;
        mh = bin;
        mhlen = (size_t)n;
    } else {
        int n = cid_decode(name, bin, sizeof bin);
        uint64_t codec, code;
        const uint8_t *d;
        size_t dl;
        if (n < 0 || cid_inspect(bin, (size_t)n, &codec, &code, &d, &dl) != 0 || codec != CID_CODEC_LIBP2P_KEY)
            return -1;
        if (code != CID_MH_IDENTITY)
            return -1;
        mh = d - 2; /* the identity code and a one-byte length precede the digest */
        mhlen = dl + 2;
    }
    static const unsigned char head[] = {CID_MH_IDENTITY, IPNS_PUBKEY_PROTOBUF_LEN, 1 << 3 | 0,
                                         KEYTYPE_ED25519, 2 << 3 | 2, IPNS_KEY_PUBLIC_BYTES};
    if (mhlen != sizeof head + IPNS_KEY_PUBLIC_BYTES || memcmp(mh, head, sizeof head) != 0)
        return -1;
    memcpy(pk, mh + 6, IPNS_KEY_PUBLIC_BYTES);
    return 0;
}

void ipns_key_sign(const struct ipns_key *k, const void *msg, size_t len, unsigned char sig[IPNS_KEY_SIG_BYTES])
{
    crypto_sign_ed25519_detached(sig, NULL, msg, len, k->sk);
}

void ipns_key_wipe(struct ipns_key *k)
{
    sodium_memzero(k, sizeof *k);
}
