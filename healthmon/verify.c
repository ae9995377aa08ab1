#include "verify.h"

#include "err.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PB_VARINT 0
#define PB_BYTES 2
#define UNIXFS_RAW 0
#define UNIXFS_FILE 2
#define SHA256_LEN 32
/* A CIDv0 is a bare sha2-256 multihash: 0x12 0x20 + digest. */
#define CIDV0_LEN 34

const char *hm_integrity_name(enum hm_integrity v)
{
    switch (v) {
    case HM_VERIFIED: return "verified";
    case HM_MISMATCH: return "mismatch";
    case HM_UNVERIFIED: return "unverified";
    }
    return "?";
}

static int copy_cid(const char *s, size_t n, char *cid, size_t cidlen, char *why, size_t whylen)
{
    if (n == 0 || n >= cidlen || n >= CID_MAX_STR)
        return err_set(why, whylen, "URL names no CID");
    memcpy(cid, s, n);
    cid[n] = '\0';
    uint8_t bin[CID_MAX_BIN];
    if (cid_decode(cid, bin, sizeof bin) < 0)
        return err_set(why, whylen, "\"%.80s\" is not a CID", cid);
    return 0;
}

int hm_cid_from_url(const char *url, char *cid, size_t cidlen, char *why, size_t whylen)
{
    const char *scheme = strstr(url, "://");
    if (!scheme)
        return err_set(why, whylen, "not an absolute URL");
    const char *host = scheme + 3;
    size_t hostlen = strcspn(host, "/?#");
    const char *path = host + hostlen;
    size_t pathlen = strcspn(path, "?#");

    static const char prefix[] = "/ipfs/";
    if (pathlen > sizeof prefix - 1 && strncmp(path, prefix, sizeof prefix - 1) == 0) {
        const char *c = path + sizeof prefix - 1;
        size_t n = strcspn(c, "/?#");
        const char *rest = c + n;
        if (*rest == '/' && rest + 1 < path + pathlen)
            return err_set(why, whylen, "URL names a file inside a directory, not a CID of its own");
        return copy_cid(c, n, cid, cidlen, why, whylen);
    }
    /* Subdomain gateways: <cid>.ipfs.example.org */
    const char *dot = memchr(host, '.', hostlen);
    if (dot && (size_t)(host + hostlen - dot) > 6 && strncmp(dot, ".ipfs.", 6) == 0 &&
        (pathlen == 0 || (pathlen == 1 && path[0] == '/')))
        return copy_cid(host, (size_t)(dot - host), cid, cidlen, why, whylen);
    return err_set(why, whylen, "URL names no CID (not /ipfs/<cid>)");
}

static int pb_varint(const uint8_t *p, size_t len, size_t *o, uint64_t *v)
{
    int k = cid_varint_read(p + *o, len - *o, v);
    if (k < 0)
        return -1;
    *o += (size_t)k;
    return 0;
}

/* One field of a protobuf message: its number, wire type, and either the
 * varint value or the length-delimited bytes. Only the two wire types
 * dag-pb and UnixFS use are accepted. */
static int pb_field(const uint8_t *p, size_t len, size_t *o, uint64_t *field, int *wire,
                    uint64_t *v, const uint8_t **bytes, size_t *blen)
{
    uint64_t key;
    if (pb_varint(p, len, o, &key) != 0)
        return -1;
    *field = key >> 3;
    *wire = (int)(key & 7);
    if (*wire == PB_VARINT)
        return pb_varint(p, len, o, v);
    if (*wire != PB_BYTES)
        return -1;
    uint64_t n;
    if (pb_varint(p, len, o, &n) != 0 || n > len - *o)
        return -1;
    *bytes = p + *o;
    *blen = (size_t)n;
    *o += (size_t)n;
    return 0;
}

static int parse_link(const uint8_t *p, size_t len, struct hm_dagpb_link *l)
{
    size_t o = 0;
    l->cid = NULL;
    l->cid_len = 0;
    while (o < len) {
        uint64_t field, v;
        int wire;
        const uint8_t *b = NULL;
        size_t bl = 0;
        if (pb_field(p, len, &o, &field, &wire, &v, &b, &bl) != 0)
            return -1;
        if (field == 1 && wire == PB_BYTES) {
            l->cid = b;
            l->cid_len = bl;
        }
    }
    return l->cid ? 0 : -1;
}

static int parse_unixfs(const uint8_t *p, size_t len, struct hm_dagpb_file *f)
{
    size_t o = 0;
    f->unixfs_type = -1;
    while (o < len) {
        uint64_t field, v = 0;
        int wire;
        const uint8_t *b = NULL;
        size_t bl = 0;
        if (pb_field(p, len, &o, &field, &wire, &v, &b, &bl) != 0)
            return -1;
        if (field == 1 && wire == PB_VARINT) {
            f->unixfs_type = v > 100 ? 100 : (int)v;
        } else if (field == 2 && wire == PB_BYTES) {
            f->data = b;
            f->data_len = bl;
        } else if (field == 3 && wire == PB_VARINT) {
            f->filesize = v;
            f->has_filesize = 1;
        } else if (field == 4 && wire == PB_VARINT) {
            if (f->nblocksizes >= HM_DAGPB_MAX_LINKS)
                return -1;
            f->blocksizes[f->nblocksizes++] = v;
        } else if (field == 4 && wire == PB_BYTES) {
            /* Some encoders pack repeated varints. */
            size_t q = 0;
            while (q < bl) {
                if (f->nblocksizes >= HM_DAGPB_MAX_LINKS || pb_varint(b, bl, &q, &v) != 0)
                    return -1;
                f->blocksizes[f->nblocksizes++] = v;
            }
        }
    }
    return 0;
}

int hm_dagpb_parse(const uint8_t *block, size_t len, struct hm_dagpb_file *out,
                   char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    out->unixfs_type = -1;
    size_t o = 0;
    while (o < len) {
        uint64_t field, v;
        int wire;
        const uint8_t *b = NULL;
        size_t bl = 0;
        if (pb_field(block, len, &o, &field, &wire, &v, &b, &bl) != 0)
            return err_set(why, whylen, "root block is not valid dag-pb");
        if (field == 2 && wire == PB_BYTES) {
            if (out->nlinks >= HM_DAGPB_MAX_LINKS)
                return err_set(why, whylen, "root block has more than %d links", HM_DAGPB_MAX_LINKS);
            if (parse_link(b, bl, &out->links[out->nlinks++]) != 0)
                return err_set(why, whylen, "root block has a malformed link");
        } else if (field == 1 && wire == PB_BYTES) {
            if (parse_unixfs(b, bl, out) != 0)
                return err_set(why, whylen, "root block has malformed UnixFS data");
        } else {
            return err_set(why, whylen, "root block has an unknown dag-pb field %llu",
                           (unsigned long long)field);
        }
    }
    return 0;
}

static int sha256_is(const uint8_t *data, size_t len, const uint8_t *digest)
{
    uint8_t h[SHA256_LEN];
    crypto_hash_sha256(h, data, len);
    return sodium_memcmp(h, digest, SHA256_LEN) == 0;
}

/* A leaf is checkable when it is a raw block hashed with sha2-256. */
static int raw_leaf_digest(const struct hm_dagpb_link *l, const uint8_t **digest)
{
    uint64_t codec, mh;
    size_t dlen;
    if (cid_inspect(l->cid, l->cid_len, &codec, &mh, digest, &dlen) != 0)
        return -1;
    return codec == CID_CODEC_RAW && mh == CID_MH_SHA2_256 && dlen == SHA256_LEN ? 0 : -1;
}

static enum hm_integrity verify_file(const struct hm_dagpb_file *f, const uint8_t *bytes,
                                     size_t len, char *detail, size_t detaillen)
{
    if (f->unixfs_type != UNIXFS_FILE && f->unixfs_type != UNIXFS_RAW) {
        snprintf(detail, detaillen, "root is not a UnixFS file (type %d)", f->unixfs_type);
        return HM_UNVERIFIED;
    }
    if (f->nlinks == 0) {
        if (f->data_len == len && (len == 0 || memcmp(f->data, bytes, len) == 0)) {
            snprintf(detail, detaillen, "bytes equal the data of the verified root block");
            return HM_VERIFIED;
        }
        snprintf(detail, detaillen, "bytes differ from the data in the root block");
        return HM_MISMATCH;
    }
    if (f->data_len || f->nblocksizes != f->nlinks) {
        snprintf(detail, detaillen, "root block layout not supported for verification");
        return HM_UNVERIFIED;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < f->nlinks; i++) {
        const uint8_t *digest;
        if (raw_leaf_digest(&f->links[i], &digest) != 0) {
            snprintf(detail, detaillen, "link %zu is not a raw sha2-256 leaf (deeper DAG)", i);
            return HM_UNVERIFIED;
        }
        if (f->blocksizes[i] > len - total) {
            snprintf(detail, detaillen, "answer is %zu bytes, shorter than the blocks the CID lists", len);
            return HM_MISMATCH;
        }
        if (!sha256_is(bytes + total, (size_t)f->blocksizes[i], digest)) {
            snprintf(detail, detaillen, "bytes %llu..%llu do not match leaf %zu of the CID",
                     (unsigned long long)total, (unsigned long long)(total + f->blocksizes[i]), i);
            return HM_MISMATCH;
        }
        total += f->blocksizes[i];
    }
    if (total != len) {
        snprintf(detail, detaillen, "answer is %zu bytes, the CID's file is %llu", len,
                 (unsigned long long)total);
        return HM_MISMATCH;
    }
    snprintf(detail, detaillen, "root block and all %zu leaves match the CID", f->nlinks);
    return HM_VERIFIED;
}

enum hm_integrity hm_verify(const char *cid, const uint8_t *bytes, size_t len,
                            hm_block_fetch_fn fetch, void *ctx, char *detail, size_t detaillen)
{
    uint8_t bin[CID_MAX_BIN];
    int n = cid_decode(cid, bin, sizeof bin);
    uint64_t codec, mh;
    const uint8_t *digest;
    size_t dlen;
    if (n < 0 || cid_inspect(bin, (size_t)n, &codec, &mh, &digest, &dlen) != 0) {
        snprintf(detail, detaillen, "\"%.80s\" is not a CID", cid);
        return HM_UNVERIFIED;
    }
    if (mh != CID_MH_SHA2_256 && mh != CID_MH_IDENTITY) {
        snprintf(detail, detaillen, "hash function 0x%llx is not checked here", (unsigned long long)mh);
        return HM_UNVERIFIED;
    }
    if (mh == CID_MH_SHA2_256 && dlen != SHA256_LEN) {
        snprintf(detail, detaillen, "truncated sha2-256 digest in the CID");
        return HM_UNVERIFIED;
    }
    if (codec == CID_CODEC_RAW) {
        int same = mh == CID_MH_IDENTITY ? dlen == len && memcmp(digest, bytes, len) == 0
                                         : sha256_is(bytes, len, digest);
        snprintf(detail, detaillen, same ? "sha256 of the bytes matches the raw CID"
                                         : "sha256 of the bytes does not match the raw CID");
        return same ? HM_VERIFIED : HM_MISMATCH;
    }
    if (codec != CID_CODEC_DAG_PB) {
        snprintf(detail, detaillen, "codec 0x%llx is not checked here", (unsigned long long)codec);
        return HM_UNVERIFIED;
    }

    uint8_t *block = NULL;
    size_t blen = 0;
    const uint8_t *root = digest;
    size_t rootlen = dlen;
    if (mh == CID_MH_SHA2_256) {
        char why[HM_DETAIL_MAX] = "";
        if (!fetch || fetch(ctx, cid, &block, &blen, why, sizeof why) != 0) {
            snprintf(detail, detaillen, "could not be verified: %s", why[0] ? why : "no raw block fetcher");
            free(block);
            return HM_UNVERIFIED;
        }
        if (!sha256_is(block, blen, digest)) {
            snprintf(detail, detaillen, "the gateway's raw root block does not match the CID");
            free(block);
            return HM_MISMATCH;
        }
        root = block;
        rootlen = blen;
    }
    struct hm_dagpb_file *f = malloc(sizeof *f);
    enum hm_integrity v = HM_UNVERIFIED;
    char why[HM_DETAIL_MAX] = "";
    if (!f)
        snprintf(detail, detaillen, "out of memory");
    else if (hm_dagpb_parse(root, rootlen, f, why, sizeof why) != 0)
        snprintf(detail, detaillen, "could not be verified: %s", why);
    else
        v = verify_file(f, bytes, len, detail, detaillen);
    free(f);
    free(block);
    return v;
}
