#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cid.h"

/* Vectors computed with an independent implementation (Python's hashlib and
 * base64) and, for the empty file, the value DESIGN.md gives. */
static void raw_cid_of_empty_file_matches_known_vector(void **state)
{
    (void)state;
    char cid[CID_RAW_STR_LEN + 1];
    cid_raw_from_bytes("", 0, cid);
    assert_string_equal(cid, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
}

static void raw_cid_of_bytes_matches_independent_vectors(void **state)
{
    (void)state;
    char cid[CID_RAW_STR_LEN + 1];
    cid_raw_from_bytes("hello world", 11, cid);
    assert_string_equal(cid, "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
    char *big = malloc(CID_CHUNK_SIZE);
    assert_non_null(big);
    memset(big, 'a', CID_CHUNK_SIZE);
    cid_raw_from_bytes(big, CID_CHUNK_SIZE, cid);
    assert_string_equal(cid, "bafkreig5hxpioyr5tjvtktdizfb5dcoitrrwklmulz5334eynsxjdjevee");
    free(big);
}

static void same_cid_in_base32_base58_base36_compares_equal(void **state)
{
    (void)state;
    const char *b32 = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
    const char *b58 = "zb2rhj7crUKTQYRGCRATFaQ6YFLTde2YzdqbbhAASkL9uRDXn";
    const char *b36 = "k2cwued9o1pvrt3q271rrqbo49x30tbxwpoeaq75z14e5ui2rzygpbe1";
    assert_true(cid_equal(b32, b58));
    assert_true(cid_equal(b32, b36));
    assert_false(cid_equal(b32, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"));
    char canon[CID_MAX_STR];
    assert_int_equal(cid_to_base32(b58, canon, sizeof canon), 0);
    assert_string_equal(canon, b32);
}

static void cidv0_decodes_as_dag_pb_sha256(void **state)
{
    (void)state;
    uint8_t bin[CID_MAX_BIN];
    int n = cid_decode("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH", bin, sizeof bin);
    assert_int_equal(n, 36);
    uint64_t codec, mh;
    const uint8_t *d;
    size_t dl;
    assert_int_equal(cid_inspect(bin, (size_t)n, &codec, &mh, &d, &dl), 0);
    assert_int_equal(codec, CID_CODEC_DAG_PB);
    assert_int_equal(mh, CID_MH_SHA2_256);
    assert_int_equal(dl, 32);
}

static void garbage_is_not_a_cid(void **state)
{
    (void)state;
    uint8_t bin[CID_MAX_BIN];
    const char *bad[] = {"", "b", "bafy!!", "xyz", "Qm", "zzzz", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk",
                         "f0155", "k"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_true(cid_decode(bad[i], bin, sizeof bin) < 0);
    char longs[600];
    memset(longs, 'a', sizeof longs - 1);
    longs[0] = 'b';
    longs[sizeof longs - 1] = '\0';
    assert_true(cid_decode(longs, bin, sizeof bin) < 0);
}

static void base32_round_trips_every_length(void **state)
{
    (void)state;
    uint8_t in[40], out[40];
    char text[80];
    for (size_t len = 0; len <= sizeof in; len++) {
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)(i * 37 + len);
        assert_true(cid_base32_encode(in, len, text, sizeof text) >= 0);
        assert_int_equal(cid_base32_decode(text, out, sizeof out), (int)len);
        assert_memory_equal(in, out, len);
    }
}

static void varint_round_trips(void **state)
{
    (void)state;
    uint64_t vals[] = {0, 1, 127, 128, 300, 0x72, 0xe7, 1u << 20, 0xffffffffu};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint8_t buf[10];
        uint64_t back;
        int n = cid_varint_write(vals[i], buf, sizeof buf);
        assert_true(n > 0);
        assert_int_equal(cid_varint_read(buf, (size_t)n, &back), n);
        assert_true(back == vals[i]);
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(raw_cid_of_empty_file_matches_known_vector),
        cmocka_unit_test(raw_cid_of_bytes_matches_independent_vectors),
        cmocka_unit_test(same_cid_in_base32_base58_base36_compares_equal),
        cmocka_unit_test(cidv0_decodes_as_dag_pb_sha256),
        cmocka_unit_test(garbage_is_not_a_cid),
        cmocka_unit_test(base32_round_trips_every_length),
        cmocka_unit_test(varint_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
