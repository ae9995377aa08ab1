/* Segment integrity: a gateway's bytes against the CID the playlist names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cid.h"
#include "verify.h"

#define LEAF 1000

static size_t put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    do {
        out[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            out[n] |= 0x80;
        n++;
    } while (v);
    return n;
}

static size_t put_bytes_field(uint8_t *out, unsigned field, const uint8_t *b, size_t len)
{
    size_t n = put_varint(out, (uint64_t)field << 3 | 2);
    n += put_varint(out + n, len);
    memcpy(out + n, b, len);
    return n + len;
}

static size_t put_varint_field(uint8_t *out, unsigned field, uint64_t v)
{
    size_t n = put_varint(out, (uint64_t)field << 3);
    return n + put_varint(out + n, v);
}

static void cid_text(uint64_t codec, const uint8_t *block, size_t len, char *out, size_t outlen)
{
    uint8_t bin[36] = {0x01, (uint8_t)codec, CID_MH_SHA2_256, 0x20};
    crypto_hash_sha256(bin + 4, block, len);
    out[0] = 'b';
    assert_true(cid_base32_encode(bin, sizeof bin, out + 1, outlen - 1) > 0);
}

/* A UnixFS file of `n` raw leaves of LEAF bytes (the last may be short),
 * laid out the way js-ipfs and Kubo write it. Returns the root block size. */
static size_t make_root(const uint8_t *file, size_t len, uint8_t *root)
{
    size_t o = 0;
    size_t nleaves = (len + LEAF - 1) / LEAF;
    uint8_t unixfs[512];
    size_t u = put_varint_field(unixfs, 1, 2);
    u += put_varint_field(unixfs + u, 3, len);
    for (size_t i = 0; i < nleaves; i++) {
        size_t sz = i + 1 < nleaves ? LEAF : len - i * LEAF;
        uint8_t link[128];
        uint8_t cid[36] = {0x01, CID_CODEC_RAW, CID_MH_SHA2_256, 0x20};
        crypto_hash_sha256(cid + 4, file + i * LEAF, sz);
        size_t l = put_bytes_field(link, 1, cid, sizeof cid);
        l += put_bytes_field(link + l, 2, (const uint8_t *)"", 0);
        l += put_varint_field(link + l, 3, sz);
        o += put_bytes_field(root + o, 2, link, l);
        u += put_varint_field(unixfs + u, 4, sz);
    }
    o += put_bytes_field(root + o, 1, unixfs, u);
    return o;
}

struct fake_gateway {
    const uint8_t *block;
    size_t len;
    int serves_raw;
    int calls;
};

static int fake_fetch(void *ctx, const char *cid, uint8_t **data, size_t *len, char *why, size_t whylen)
{
    struct fake_gateway *g = ctx;
    (void)cid;
    g->calls++;
    if (!g->serves_raw) {
        snprintf(why, whylen, "gateway does not serve raw blocks");
        return -1;
    }
    *data = malloc(g->len);
    memcpy(*data, g->block, g->len);
    *len = g->len;
    return 0;
}

static void raw_cid_matching_bytes_is_verified_locally(void **state)
{
    (void)state;
    const char *bytes = "a segment's bytes";
    char cid[CID_RAW_STR_LEN + 1], detail[HM_DETAIL_MAX];
    cid_raw_from_bytes(bytes, strlen(bytes), cid);
    struct fake_gateway g = {0};
    assert_int_equal(hm_verify(cid, (const uint8_t *)bytes, strlen(bytes), fake_fetch, &g, detail,
                               sizeof detail),
                     HM_VERIFIED);
    assert_int_equal(g.calls, 0);
}

static void raw_cid_with_wrong_bytes_is_a_mismatch(void **state)
{
    (void)state;
    char cid[CID_RAW_STR_LEN + 1], detail[HM_DETAIL_MAX];
    cid_raw_from_bytes("the right bytes", 15, cid);
    assert_int_equal(hm_verify(cid, (const uint8_t *)"the wrong bytes", 15, NULL, NULL, detail,
                               sizeof detail),
                     HM_MISMATCH);
    /* One byte short is as wrong as different content. */
    assert_int_equal(hm_verify(cid, (const uint8_t *)"the right bytes", 14, NULL, NULL, detail,
                               sizeof detail),
                     HM_MISMATCH);
}

static void raw_cid_in_another_base_is_still_checked(void **state)
{
    (void)state;
    const char *bytes = "base-independent";
    uint8_t bin[36] = {0x01, CID_CODEC_RAW, CID_MH_SHA2_256, 0x20};
    crypto_hash_sha256(bin + 4, (const uint8_t *)bytes, strlen(bytes));
    char hex[2 + 72 + 1] = "f";
    for (size_t i = 0; i < sizeof bin; i++)
        snprintf(hex + 1 + 2 * i, 3, "%02x", bin[i]);
    char detail[HM_DETAIL_MAX];
    assert_int_equal(hm_verify(hex, (const uint8_t *)bytes, strlen(bytes), NULL, NULL, detail,
                               sizeof detail),
                     HM_VERIFIED);
}

static void multi_block_file_is_verified_against_its_root_and_leaves(void **state)
{
    (void)state;
    uint8_t file[3500];
    for (size_t i = 0; i < sizeof file; i++)
        file[i] = (uint8_t)(i * 7 + 3);
    uint8_t root[1024];
    size_t rlen = make_root(file, sizeof file, root);
    char cid[CID_MAX_STR], detail[HM_DETAIL_MAX];
    cid_text(CID_CODEC_DAG_PB, root, rlen, cid, sizeof cid);
    struct fake_gateway g = {root, rlen, 1, 0};
    assert_int_equal(hm_verify(cid, file, sizeof file, fake_fetch, &g, detail, sizeof detail),
                     HM_VERIFIED);
    assert_int_equal(g.calls, 1);

    /* One flipped byte in the third leaf. */
    file[2500] ^= 1;
    assert_int_equal(hm_verify(cid, file, sizeof file, fake_fetch, &g, detail, sizeof detail),
                     HM_MISMATCH);
    assert_non_null(strstr(detail, "leaf 2"));
    file[2500] ^= 1;
    /* Truncated answer. */
    assert_int_equal(hm_verify(cid, file, sizeof file - 1, fake_fetch, &g, detail, sizeof detail),
                     HM_MISMATCH);
}

static void root_block_that_does_not_hash_to_the_cid_is_a_mismatch(void **state)
{
    (void)state;
    uint8_t file[2500] = {1, 2, 3};
    uint8_t root[1024];
    size_t rlen = make_root(file, sizeof file, root);
    char cid[CID_MAX_STR], detail[HM_DETAIL_MAX];
    cid_text(CID_CODEC_DAG_PB, root, rlen, cid, sizeof cid);
    root[rlen - 1] ^= 0x01;
    struct fake_gateway g = {root, rlen, 1, 0};
    assert_int_equal(hm_verify(cid, file, sizeof file, fake_fetch, &g, detail, sizeof detail),
                     HM_MISMATCH);
}

static void gateway_without_raw_blocks_leaves_a_dag_unverified_not_failed(void **state)
{
    (void)state;
    uint8_t file[2500] = {9};
    uint8_t root[1024];
    size_t rlen = make_root(file, sizeof file, root);
    char cid[CID_MAX_STR], detail[HM_DETAIL_MAX];
    cid_text(CID_CODEC_DAG_PB, root, rlen, cid, sizeof cid);
    struct fake_gateway g = {root, rlen, 0, 0};
    assert_int_equal(hm_verify(cid, file, sizeof file, fake_fetch, &g, detail, sizeof detail),
                     HM_UNVERIFIED);
    assert_non_null(strstr(detail, "raw blocks"));
}

static void malformed_root_blocks_are_refused_without_crashing(void **state)
{
    (void)state;
    static const uint8_t bad[][8] = {
        {0x12, 0x7f},                   /* link longer than the block */
        {0x0b, 0x00},                   /* wire type 3 */
        {0x12, 0x02, 0x0a, 0x05},       /* hash longer than the link */
        {0xff, 0xff, 0xff, 0xff},       /* unterminated varint key */
        {0x0a, 0x02, 0x20, 0xff},       /* unixfs: unterminated blocksize varint */
    };
    static const size_t lens[] = {2, 2, 4, 4, 4};
    struct hm_dagpb_file *f = malloc(sizeof *f);
    char why[128];
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        assert_int_not_equal(hm_dagpb_parse(bad[i], lens[i], f, why, sizeof why), 0);
    free(f);
}

static void cid_is_found_in_path_and_subdomain_urls_only(void **state)
{
    (void)state;
    const char *c = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
    char cid[CID_MAX_STR], why[128], url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:8080/ipfs/%s", c);
    assert_int_equal(hm_cid_from_url(url, cid, sizeof cid, why, sizeof why), 0);
    assert_string_equal(cid, c);
    snprintf(url, sizeof url, "https://ipfs.io/ipfs/%s?filename=x.ts", c);
    assert_int_equal(hm_cid_from_url(url, cid, sizeof cid, why, sizeof why), 0);
    assert_string_equal(cid, c);
    snprintf(url, sizeof url, "https://%s.ipfs.dweb.link/", c);
    assert_int_equal(hm_cid_from_url(url, cid, sizeof cid, why, sizeof why), 0);
    assert_string_equal(cid, c);
    /* A file inside a directory, an IPNS path, and a non-CID are not CIDs. */
    snprintf(url, sizeof url, "http://gw/ipfs/%s/seg1.ts", c);
    assert_int_not_equal(hm_cid_from_url(url, cid, sizeof cid, why, sizeof why), 0);
    assert_int_not_equal(hm_cid_from_url("http://gw/ipns/k51abc/seg1.ts", cid, sizeof cid, why,
                                         sizeof why), 0);
    assert_int_not_equal(hm_cid_from_url("http://gw/ipfs/notacid", cid, sizeof cid, why, sizeof why), 0);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(raw_cid_matching_bytes_is_verified_locally),
        cmocka_unit_test(raw_cid_with_wrong_bytes_is_a_mismatch),
        cmocka_unit_test(raw_cid_in_another_base_is_still_checked),
        cmocka_unit_test(multi_block_file_is_verified_against_its_root_and_leaves),
        cmocka_unit_test(root_block_that_does_not_hash_to_the_cid_is_a_mismatch),
        cmocka_unit_test(gateway_without_raw_blocks_leaves_a_dag_unverified_not_failed),
        cmocka_unit_test(malformed_root_blocks_are_refused_without_crashing),
        cmocka_unit_test(cid_is_found_in_path_and_subdomain_urls_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
