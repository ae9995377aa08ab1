#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "ipns_key.h"
#include "ipns_record.h"

/* The Ed25519 test vector of the libp2p peer-id specification. */
static const char spec_private_hex[] =
    "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d"
    "1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
static const char spec_public_hex[] = "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
/* Both name forms as @libp2p/crypto (tests/js) derives them from that key. */
static const char spec_name[] = "k51qzi5uqu5dgy8qsq67hbz73jqkw87l3fgf4a91qb0d9b5173tir7n4vxk1oe";
static const char spec_peer_id[] = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";

/* The record the `ipns` npm package (10.1.6, v1Compatible) builds with that
 * key for value /ipfs/<empty file>, sequence 42, validity 2030-01-01,
 * TTL 6 s. Ed25519 is deterministic, so ours must be the same bytes. */
static const char independent_record_hex[] =
    "0a412f697066732f6261666b7265696864776463656667683464716b6a763637757a636d77376f6a6565367865647a64"
    "65746f6a757a6a657674656e78717576796b751240a4dda72b69b1ec9e675dae82f942490a982632ef5fd9edf453d8fa"
    "5cf0e9342258802b6d921667a52ff4c4d90ef5a58b416be99d0cbe030ed335442dc375c6071800221e323033302d3031"
    "2d30315430303a30303a30302e3030303030303030305a282a3080f882ad1642407d454bc2b3d76461b2eaefc3b4d18a"
    "b91b18e5f3dbcb2202b768971bfac906933246f5ff31be3f96ab9f569105dda97ac9f7ae28d171a25cab396c2d5966e6"
    "014a9901a56354544c1b0000000165a0bc006556616c756558412f697066732f6261666b726569686477646365666768"
    "3464716b6a763637757a636d77376f6a6565367865647a6465746f6a757a6a657674656e78717576796b756853657175"
    "656e6365182a6856616c6964697479581e323033302d30312d30315430303a30303a30302e3030303030303030305a6c"
    "56616c69646974795479706500";
/* The same record as the package builds it with v1Compatible: false: the
 * signatureV2 and data alone, as the specification allows and newer
 * publishers write. */
static const char independent_v2_only_hex[] =
    "42407d454bc2b3d76461b2eaefc3b4d18ab91b18e5f3dbcb2202b768971bfac906933246f5ff31be3f96ab9f569105dd"
    "a97ac9f7ae28d171a25cab396c2d5966e6014a9901a56354544c1b0000000165a0bc006556616c756558412f69706673"
    "2f6261666b7265696864776463656667683464716b6a763637757a636d77376f6a6565367865647a6465746f6a757a6a"
    "657674656e78717576796b756853657175656e6365182a6856616c6964697479581e323033302d30312d30315430303a"
    "30303a30302e3030303030303030305a6c56616c69646974795479706500";
static const char empty_value[] = "/ipfs/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
#define VALIDITY_2030 "2030-01-01T00:00:00.000000000Z"
#define NOW_2026 1795000000.0

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    assert_int_equal(sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &n, NULL), 0);
    return n;
}

static void spec_key(struct ipns_key *k)
{
    uint8_t pb[IPNS_KEY_PROTOBUF_LEN];
    size_t n = unhex(spec_private_hex, pb, sizeof pb);
    char err[256];
    assert_int_equal(ipns_key_parse(k, pb, n, err, sizeof err), 0);
}

static void name_derived_from_spec_key_matches_spec_and_independent_derivation(void **state)
{
    (void)state;
    struct ipns_key k;
    spec_key(&k);
    unsigned char pub[IPNS_PUBKEY_PROTOBUF_LEN];
    ipns_key_public_protobuf(k.pk, pub);
    uint8_t want[IPNS_PUBKEY_PROTOBUF_LEN];
    unhex(spec_public_hex, want, sizeof want);
    assert_memory_equal(pub, want, sizeof want);
    char name[IPNS_NAME_MAX], peer[IPNS_NAME_MAX];
    assert_int_equal(ipns_key_name(k.pk, name, sizeof name), 0);
    assert_int_equal(ipns_key_peer_id(k.pk, peer, sizeof peer), 0);
    assert_string_equal(name, spec_name);
    assert_string_equal(peer, spec_peer_id);
    unsigned char back[IPNS_KEY_PUBLIC_BYTES];
    assert_int_equal(ipns_key_name_public(spec_name, back), 0);
    assert_memory_equal(back, k.pk, sizeof back);
    memset(back, 0, sizeof back);
    assert_int_equal(ipns_key_name_public(spec_peer_id, back), 0);
    assert_memory_equal(back, k.pk, sizeof back);
    assert_int_not_equal(ipns_key_name_public("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", back), 0);
}

static void record_is_byte_identical_to_independent_implementation(void **state)
{
    (void)state;
    struct ipns_key k;
    spec_key(&k);
    struct ipns_record_fields f = {.value = empty_value, .seq = 42, .validity = VALIDITY_2030,
                                   .ttl_ns = 6000000000ull};
    uint8_t rec[IPNS_RECORD_MAX], want[IPNS_RECORD_MAX];
    char err[256];
    int n = ipns_record_build(&k, &f, rec, sizeof rec, err, sizeof err);
    size_t wn = unhex(independent_record_hex, want, sizeof want);
    assert_int_equal((size_t)n, wn);
    assert_memory_equal(rec, want, wn);
}

/* The data map spelled out from the specification, byte by byte. */
static void data_map_is_canonical_dag_cbor(void **state)
{
    (void)state;
    struct ipns_record_fields f = {.value = "/ipfs/x", .seq = 300, .validity = VALIDITY_2030, .ttl_ns = 5};
    uint8_t got[256];
    int n = ipns_record_data(&f, got, sizeof got);
    uint8_t want[256];
    size_t w = 0;
    want[w++] = 0xa5;                                   /* map(5) */
    memcpy(want + w, "\x63TTL\x05", 5), w += 5;          /* "TTL": 5 */
    memcpy(want + w, "\x65Value\x47/ipfs/x", 14), w += 14;
    memcpy(want + w, "\x68Sequence\x19\x01\x2c", 12), w += 12;  /* uint16 300 */
    memcpy(want + w, "\x68Validity\x58\x1e", 11), w += 11;      /* bytes(30) */
    memcpy(want + w, VALIDITY_2030, 30), w += 30;
    memcpy(want + w, "\x6cValidityType\x00", 14), w += 14;
    assert_int_equal(n, (int)w);
    assert_memory_equal(got, want, w);
    assert_int_equal(ipns_record_data(&f, got, 10), -1);
}

static void signature_v2_verifies_with_libsodium_and_tampering_fails(void **state)
{
    (void)state;
    struct ipns_key k;
    assert_int_equal(ipns_key_generate(&k, NULL, 0), 0);
    struct ipns_record_fields f = {.value = empty_value, .seq = 7, .ttl_ns = 6000000000ull};
    assert_int_equal(ipns_record_validity(NOW_2026 + 3600, f.validity), 0);
    uint8_t rec[IPNS_RECORD_MAX];
    char err[256];
    int n = ipns_record_build(&k, &f, rec, sizeof rec, err, sizeof err);
    assert_true(n > 0);
    struct ipns_record_view v;
    assert_int_equal(ipns_record_parse(rec, (size_t)n, &v, err, sizeof err), 0);
    uint8_t msg[IPNS_RECORD_MAX];
    memcpy(msg, "ipns-signature:", 15);
    memcpy(msg + 15, v.data, v.data_len);
    assert_int_equal(crypto_sign_ed25519_verify_detached(v.sig_v2, msg, 15 + v.data_len, k.pk), 0);
    assert_int_equal(v.seq, 7);
    assert_int_equal(ipns_record_verify(rec, (size_t)n, k.pk, NOW_2026, &v, err, sizeof err), 0);
    /* Expired, wrong key, and every single flipped byte: refused. */
    assert_int_not_equal(ipns_record_verify(rec, (size_t)n, k.pk, NOW_2026 + 7200, &v, err, sizeof err), 0);
    struct ipns_key other;
    ipns_key_generate(&other, NULL, 0);
    assert_int_not_equal(ipns_record_verify(rec, (size_t)n, other.pk, NOW_2026, &v, err, sizeof err), 0);
    for (int i = 0; i < n; i++) {
        rec[i] ^= 0x01;
        int rc = ipns_record_verify(rec, (size_t)n, k.pk, NOW_2026, &v, err, sizeof err);
        rec[i] ^= 0x01;
        /* The V1 signature is not what a validator checks (V2 is). */
        if (rc == 0)
            assert_true(v.sig_v1 && rec + i >= v.sig_v1 && rec + i < v.sig_v1 + v.sig_v1_len);
    }
}

/* A valid record without the V1 fields is read from its data: a target
 * holding one still tells the station the sequence to beat. */
static void a_v2_only_record_verifies_and_gives_its_fields(void **state)
{
    (void)state;
    struct ipns_key k, other;
    spec_key(&k);
    uint8_t rec[IPNS_RECORD_MAX];
    size_t n = unhex(independent_v2_only_hex, rec, sizeof rec);
    struct ipns_record_view v;
    char err[256];
    if (ipns_record_verify(rec, n, k.pk, NOW_2026, &v, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_true(v.has_seq);
    assert_int_equal(v.seq, 42);
    assert_int_equal(v.ttl_ns, 6000000000ull);
    assert_int_equal(v.value_len, strlen(empty_value));
    assert_memory_equal(v.value, empty_value, v.value_len);
    assert_int_equal(v.validity_len, strlen(VALIDITY_2030));
    assert_memory_equal(v.validity, VALIDITY_2030, v.validity_len);
    /* Expired, another key's name, or any byte of data changed: refused. */
    assert_int_not_equal(ipns_record_verify(rec, n, k.pk, 1900000000.0, &v, err, sizeof err), 0);
    assert_int_equal(ipns_key_generate(&other, err, sizeof err), 0);
    assert_int_not_equal(ipns_record_verify(rec, n, other.pk, NOW_2026, &v, err, sizeof err), 0);
    for (size_t i = n - 150; i < n; i += 7) {
        rec[i] ^= 0x01;
        assert_int_not_equal(ipns_record_verify(rec, n, k.pk, NOW_2026, &v, err, sizeof err), 0);
        rec[i] ^= 0x01;
    }
}

static void validity_is_rfc3339_utc_with_nanoseconds(void **state)
{
    (void)state;
    char s[IPNS_VALIDITY_LEN + 1];
    assert_int_equal(ipns_record_validity(1893456000.25, s), 0);
    assert_string_equal(s, "2030-01-01T00:00:00.250000000Z");
    assert_int_equal(ipns_record_validity(0, s), 0);
    assert_string_equal(s, "1970-01-01T00:00:00.000000000Z");
}

static void key_file_is_private_and_round_trips_in_both_formats(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_ipns_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/station.key", dir);
    struct ipns_key k, again;
    int created = 0;
    char err[256];
    assert_int_equal(ipns_key_open(path, &k, &created, err, sizeof err), 0);
    assert_true(created);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_size, IPNS_KEY_PROTOBUF_LEN);
    assert_int_equal(ipns_key_open(path, &again, &created, err, sizeof err), 0);
    assert_false(created);
    assert_memory_equal(k.sk, again.sk, sizeof k.sk);

    char pem[512];
    int n = ipns_key_export(&k, IPNS_KEY_PEM, pem, sizeof pem);
    assert_true(n > 0);
    assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----\n"));
    memset(&again, 0, sizeof again);
    assert_int_equal(ipns_key_parse(&again, pem, (size_t)n, err, sizeof err), 0);
    assert_memory_equal(k.sk, again.sk, sizeof k.sk);

    /* A public half that does not belong to the secret is refused. */
    char pb[IPNS_KEY_PROTOBUF_LEN];
    ipns_key_export(&k, IPNS_KEY_LIBP2P, pb, sizeof pb);
    pb[IPNS_KEY_PROTOBUF_LEN - 1] ^= 1;
    assert_int_not_equal(ipns_key_parse(&again, pb, sizeof pb, err, sizeof err), 0);
    assert_int_not_equal(ipns_key_parse(&again, "garbage", 7, err, sizeof err), 0);

    /* A key others can read is refused, as ssh refuses it. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_not_equal(ipns_key_load(path, &again, err, sizeof err), 0);
    assert_non_null(strstr(err, "chmod 600"));
    fs_remove_tree(dir, NULL, 0);
}

#define RACERS 4

struct racer {
    const char *path;
    pthread_barrier_t *go;
    struct ipns_key k;
    int rc;
};

static void *race_open(void *arg)
{
    struct racer *r = arg;
    int created;
    pthread_barrier_wait(r->go);
    r->rc = ipns_key_open(r->path, &r->k, &created, NULL, 0);
    return NULL;
}

/* Several first starts at once (the daemon and `key name`): whoever wins,
 * every one of them must end up with the key the file holds. */
static void racing_first_starts_all_get_the_key_in_the_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_ipns_XXXXXX";
    assert_non_null(mkdtemp(dir));
    for (int round = 0; round < 20; round++) {
        char path[256];
        snprintf(path, sizeof path, "%s/station-%d.key", dir, round);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, RACERS);
        struct racer r[RACERS];
        pthread_t th[RACERS];
        for (int i = 0; i < RACERS; i++) {
            r[i] = (struct racer){.path = path, .go = &go, .rc = -1};
            assert_int_equal(pthread_create(&th[i], NULL, race_open, &r[i]), 0);
        }
        for (int i = 0; i < RACERS; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&go);
        struct ipns_key file;
        char err[256];
        assert_int_equal(ipns_key_load(path, &file, err, sizeof err), 0);
        for (int i = 0; i < RACERS; i++) {
            assert_int_equal(r[i].rc, 0);
            if (memcmp(r[i].k.sk, file.sk, sizeof file.sk) != 0)
                fail_msg("round %d: opener %d holds a key other than the file's", round, i);
        }
    }
    fs_remove_tree(dir, NULL, 0);
}

static void creating_never_replaces_a_file_that_appeared(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_ipns_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/f", dir);
    int exists = -1;
    char err[256];
    assert_int_equal(atomic_create_private(path, "first", 5, &exists, err, sizeof err), 0);
    assert_int_equal(exists, 0);
    assert_int_equal(atomic_create_private(path, "second", 6, &exists, err, sizeof err), 0);
    assert_int_equal(exists, 1);
    char *got = NULL;
    size_t len = 0;
    assert_int_equal(atomic_read(path, 100, &got, &len, err, sizeof err), 0);
    assert_string_equal(got, "first");
    free(got);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    fs_remove_tree(dir, NULL, 0);
}

/* What is checked is the file that is read: a FIFO (which would block the
 * read forever), a directory or a symbolic link is refused at once. */
static void key_path_must_be_a_regular_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_ipns_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], real[256];
    snprintf(path, sizeof path, "%s/station.key", dir);
    snprintf(real, sizeof real, "%s/real.key", dir);
    struct ipns_key k;
    int created;
    char err[256];
    alarm(10); /* a blocked read fails the test instead of hanging it */
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_not_equal(ipns_key_load(path, &k, err, sizeof err), 0);
    assert_non_null(strstr(err, "regular file"));
    assert_int_not_equal(ipns_key_open(path, &k, &created, err, sizeof err), 0);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_not_equal(ipns_key_load(path, &k, err, sizeof err), 0);
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(ipns_key_open(real, &k, &created, err, sizeof err), 0);
    assert_int_equal(symlink(real, path), 0);
    assert_int_not_equal(ipns_key_load(path, &k, err, sizeof err), 0);
    assert_non_null(strstr(err, "symbolic link"));
    alarm(0);
    fs_remove_tree(dir, NULL, 0);
}

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

/* A key generated but not saved, or half parsed, must not linger in memory. */
static void failed_open_or_parse_leaves_no_key_material(void **state)
{
    (void)state;
    struct ipns_key k;
    int created;
    char err[256];
    memset(&k, 0xaa, sizeof k);
    assert_int_not_equal(ipns_key_open("/tmp/test_ipns_no_such_dir/x/station.key", &k, &created, err,
                                       sizeof err), 0);
    assert_false(created);
    assert_true(all_zero(&k, sizeof k));

    struct ipns_key good;
    assert_int_equal(ipns_key_generate(&good, NULL, 0), 0);
    char pb[IPNS_KEY_PROTOBUF_LEN];
    ipns_key_export(&good, IPNS_KEY_LIBP2P, pb, sizeof pb);
    pb[IPNS_KEY_PROTOBUF_LEN - 1] ^= 1;
    memset(&k, 0xaa, sizeof k);
    assert_int_not_equal(ipns_key_parse(&k, pb, sizeof pb, err, sizeof err), 0);
    assert_true(all_zero(&k, sizeof k));
}

static void expect_refused(const void *data, size_t len, const char *why, const char *label)
{
    struct ipns_key k;
    char err[256] = "";
    if (ipns_key_parse(&k, data, len, err, sizeof err) == 0)
        fail_msg("%s: accepted", label);
    if (why && !strstr(err, why))
        fail_msg("%s: \"%s\" does not say \"%s\"", label, err, why);
}

static void truncated_or_mistyped_protobuf_keys_are_refused(void **state)
{
    (void)state;
    uint8_t pb[IPNS_KEY_PROTOBUF_LEN];
    size_t n = unhex(spec_private_hex, pb, sizeof pb);
    for (size_t len = 0; len < n; len++) {
        char label[32];
        snprintf(label, sizeof label, "first %zu bytes", len);
        expect_refused(pb, len, NULL, label);
    }
    /* RSA (0), secp256k1 (2), ECDSA (3) with Ed25519-sized data. */
    for (uint8_t type = 0; type <= 3; type++) {
        if (type == 1)
            continue;
        pb[1] = type;
        expect_refused(pb, n, "not Ed25519", "another key type");
    }
    pb[1] = 1;
    pb[3] = 63; /* a length one short, the rest then an unknown field */
    expect_refused(pb, n, "libp2p private key", "short data field");
    uint8_t extra[IPNS_KEY_PROTOBUF_LEN + 2];
    unhex(spec_private_hex, extra, sizeof extra);
    extra[n] = 3 << 3 | 0; /* an unknown field 3 */
    extra[n + 1] = 0;
    expect_refused(extra, sizeof extra, "unexpected field", "unknown field");
}

/* Older go-libp2p wrote seed || public || public (96 bytes); it reads the
 * same key, and the two copies of the public key must agree. */
static void the_96_byte_form_reads_the_same_key(void **state)
{
    (void)state;
    struct ipns_key want, k;
    spec_key(&want);
    uint8_t pb[4 + 96];
    unhex(spec_private_hex, pb, sizeof pb);
    pb[3] = 96;
    memcpy(pb + 4 + 64, want.pk, 32);
    char err[256];
    assert_int_equal(ipns_key_parse(&k, pb, sizeof pb, err, sizeof err), 0);
    assert_memory_equal(k.sk, want.sk, sizeof k.sk);
    assert_memory_equal(k.pk, want.pk, sizeof k.pk);
    pb[sizeof pb - 1] ^= 1;
    expect_refused(pb, sizeof pb, "repeated public key", "96 bytes, copies differ");
}

static void malformed_pem_keys_are_refused(void **state)
{
    (void)state;
    struct ipns_key k;
    spec_key(&k);
    char pem[512];
    int n = ipns_key_export(&k, IPNS_KEY_PEM, pem, sizeof pem);
    assert_true(n > 0);
    char *body = strchr(pem, '\n') + 1;
    char bad[512];

    snprintf(bad, sizeof bad, "%.*s", (int)(strstr(pem, "-----END") - pem), pem);
    expect_refused(bad, strlen(bad), "PKCS#8", "no END line");
    snprintf(bad, sizeof bad, "-----BEGIN RSA PRIVATE KEY-----\n%s", body);
    expect_refused(bad, strlen(bad), "PKCS#8", "another PEM type");
    snprintf(bad, sizeof bad, "%s", pem);
    bad[body - pem + 10] = '*';
    expect_refused(bad, strlen(bad), "base64", "a bad base64 character");
    snprintf(bad, sizeof bad, "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n");
    expect_refused(bad, strlen(bad), "not an Ed25519", "empty body");
    /* Well-formed base64 of a DER that is one byte short, and of one with
     * another algorithm's OID (1.3.101.113, Ed448) in the prefix. */
    uint8_t der[48];
    size_t dlen = 0;
    assert_int_equal(sodium_base642bin(der, sizeof der, body, 64, NULL, &dlen, NULL,
                                       sodium_base64_VARIANT_ORIGINAL), 0);
    assert_int_equal(dlen, 48);
    char b64[sodium_base64_ENCODED_LEN(48, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, der, 47, sodium_base64_VARIANT_ORIGINAL);
    snprintf(bad, sizeof bad, "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n", b64);
    expect_refused(bad, strlen(bad), "not an Ed25519", "DER one byte short");
    der[11] = 0x71;
    sodium_bin2base64(b64, sizeof b64, der, 48, sodium_base64_VARIANT_ORIGINAL);
    snprintf(bad, sizeof bad, "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n", b64);
    expect_refused(bad, strlen(bad), "not an Ed25519", "Ed448 OID");
    der[11] = 0x70;
    sodium_bin2base64(b64, sizeof b64, der, 48, sodium_base64_VARIANT_ORIGINAL);
    snprintf(bad, sizeof bad, "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n", b64);
    struct ipns_key again;
    char err[256];
    assert_int_equal(ipns_key_parse(&again, bad, strlen(bad), err, sizeof err), 0); /* the control */
    assert_memory_equal(again.sk, k.sk, sizeof k.sk);
}

/* Kubo 0.43.1's name/publish, fetched back with routing/get: Go's
 * RFC3339Nano dropped the fraction's trailing zero, so its validity is 29
 * characters. Refusing it once made a streamer with its state lost start
 * its name's timeline again from 0. */
static const char kubo_name[] = "k51qzi5uqu5dkkl0m35fndpys96kfb7tc30owhtr0bxtjn396sgar983c9piop";
static const char kubo_record_b64[] =
    "CkEvaXBmcy9iYWZrcmVpYmhtdm02aHZ3ZHZzeW9qZWFvcG96dGxsM3Zmb2pxdXVweXV5aGRraWF1YzU0eWF2bmM3bRJAQpfksJ63TCdeCF4S"
    "unov86rTIuPQT/f5d0gBOekXz5gNxX8RaHCNkWrMx6gGJfew0Fmw5KWLYOhl4UV80neoCBgAIh0yMDI2LTEyLTAyVDE4OjUzOjA4Ljg2MzI2"
    "MzY0WigFMIDwksvdCEJAN4zFaWnNUj6A0mxZQDbXdyxzKY8FtcZk2lJHwwImLNz5ZuTA7c6bAzru6ydnR5Vu2aaTESHd4PP67Lz7LJhtCkqX"
    "AaVjVFRMGwAAAEXZZLgAZVZhbHVlWEEvaXBmcy9iYWZrcmVpYmhtdm02aHZ3ZHZzeW9qZWFvcG96dGxsM3Zmb2pxdXVweXV5aGRraWF1YzU0"
    "eWF2bmM3bWhTZXF1ZW5jZQVoVmFsaWRpdHlYHTIwMjYtMTItMDJUMTg6NTM6MDguODYzMjYzNjRabFZhbGlkaXR5VHlwZQA=";

static void a_kubo_record_with_a_trimmed_validity_verifies(void **state)
{
    (void)state;
    unsigned char pk[IPNS_KEY_PUBLIC_BYTES];
    assert_int_equal(ipns_key_name_public(kubo_name, pk), 0);
    uint8_t rec[IPNS_RECORD_MAX];
    size_t n = 0;
    assert_int_equal(sodium_base642bin(rec, sizeof rec, kubo_record_b64, strlen(kubo_record_b64), NULL, &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    struct ipns_record_view v;
    char err[256] = "";
    /* Before the record's end of validity (2026-12-02T18:53:08Z). */
    assert_int_equal(ipns_record_verify(rec, n, pk, 1796237000.0, &v, err, sizeof err), 0);
    assert_int_equal(v.validity_len, 29);
    assert_int_equal(v.seq, 5);
    assert_int_not_equal(ipns_record_verify(rec, n, pk, 1796237600.0, &v, err, sizeof err), 0);

    /* Built here with the shortest form, it verifies too. */
    struct ipns_key k;
    assert_int_equal(ipns_key_generate(&k, err, sizeof err), 0);
    struct ipns_record_fields f = {.value = "/ipfs/bafkqaaa", .seq = 7, .ttl_ns = 1000000000};
    snprintf(f.validity, sizeof f.validity, "%s", "2030-01-01T00:00:00Z");
    int len = ipns_record_build(&k, &f, rec, sizeof rec, err, sizeof err);
    assert_true(len > 0);
    assert_int_equal(ipns_record_verify(rec, (size_t)len, k.pk, NOW_2026, &v, err, sizeof err), 0);
    assert_int_equal(v.validity_len, 20);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(name_derived_from_spec_key_matches_spec_and_independent_derivation),
        cmocka_unit_test(record_is_byte_identical_to_independent_implementation),
        cmocka_unit_test(data_map_is_canonical_dag_cbor),
        cmocka_unit_test(signature_v2_verifies_with_libsodium_and_tampering_fails),
        cmocka_unit_test(a_v2_only_record_verifies_and_gives_its_fields),
        cmocka_unit_test(validity_is_rfc3339_utc_with_nanoseconds),
        cmocka_unit_test(a_kubo_record_with_a_trimmed_validity_verifies),
        cmocka_unit_test(key_file_is_private_and_round_trips_in_both_formats),
        cmocka_unit_test(racing_first_starts_all_get_the_key_in_the_file),
        cmocka_unit_test(creating_never_replaces_a_file_that_appeared),
        cmocka_unit_test(key_path_must_be_a_regular_file),
        cmocka_unit_test(failed_open_or_parse_leaves_no_key_material),
        cmocka_unit_test(truncated_or_mistyped_protobuf_keys_are_refused),
        cmocka_unit_test(the_96_byte_form_reads_the_same_key),
        cmocka_unit_test(malformed_pem_keys_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
