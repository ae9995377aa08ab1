/* Test helper: signs one IPNS record with a key file, so the tests can hand
 * the bytes to an independent validator.
 * usage: ipns_record_tool KEYFILE VALUE SEQUENCE VALIDITY TTL_NS > record */
#include "ipns_key.h"
#include "ipns_record.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s KEYFILE VALUE SEQUENCE VALIDITY TTL_NS\n", argv[0]);
        return 2;
    }
    char err[512];
    struct ipns_key k;
    if (sodium_init() < 0 || ipns_key_load(argv[1], &k, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct ipns_record_fields f = {.value = argv[2], .seq = strtoull(argv[3], NULL, 10),
                                   .ttl_ns = strtoull(argv[5], NULL, 10)};
    snprintf(f.validity, sizeof f.validity, "%s", argv[4]);
    static uint8_t rec[IPNS_RECORD_MAX];
    int n = ipns_record_build(&k, &f, rec, sizeof rec, err, sizeof err);
    ipns_key_wipe(&k);
    if (n < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    return fwrite(rec, 1, (size_t)n, stdout) == (size_t)n ? 0 : 1;
}
