/* libFuzzer target: segment verification fed an untrusted dag-pb root
 * block (as a gateway's raw block answer) and untrusted segment bytes. The
 * input is split: the first byte says where the root block ends. The CID
 * is made to match the block, so parsing and leaf checks are reached. */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cid.h"
#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct block {
    const uint8_t *p;
    size_t len;
};

static int give_block(void *ctx, const char *cid, uint8_t **out, size_t *len, char *why, size_t whylen)
{
    const struct block *b = ctx;
    (void)cid, (void)why, (void)whylen;
    *out = malloc(b->len ? b->len : 1);
    if (!*out)
        return -1;
    if (b->len)
        memcpy(*out, b->p, b->len);
    *len = b->len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t split = 1 + (size_t)data[0] * (size - 1) / 255;
    struct block b = {data + 1, split - 1};
    const uint8_t *bytes = data + split;
    size_t len = size - split;

    uint8_t bin[36] = {0x01, CID_CODEC_DAG_PB, CID_MH_SHA2_256, 0x20};
    crypto_hash_sha256(bin + 4, b.p, b.len);
    char cid[CID_MAX_STR] = "b";
    cid_base32_encode(bin, sizeof bin, cid + 1, sizeof cid - 1);
    char detail[HM_DETAIL_MAX];
    (void)hm_verify(cid, bytes, len, give_block, &b, detail, sizeof detail);

    /* And the raw-leaf path on the same bytes. */
    char raw[CID_RAW_STR_LEN + 1];
    cid_raw_from_bytes(b.p, b.len, raw);
    (void)hm_verify(raw, bytes, len, NULL, NULL, detail, sizeof detail);
    return 0;
}
