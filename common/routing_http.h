/* The Delegated Routing HTTP API's IPNS part (specs.ipfs.tech/routing/
 * http-routing-v1): PUT and GET /routing/v1/ipns/{name} carrying a signed
 * record as application/vnd.ipfs.ipns-record. An endpoint that takes the
 * record (someguy, a public one like delegated-ipfs.dev) announces it to
 * the DHT for the station. */
#ifndef RADIO_ROUTING_HTTP_H
#define RADIO_ROUTING_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define ROUTING_IPNS_TYPE "application/vnd.ipfs.ipns-record"

struct routing_http_opts {
    double timeout;                  /* seconds for the whole request */
    int (*should_abort)(void *ctx);  /* polled during the transfer: nonzero aborts */
    void *abort_ctx;
};

/* base: the endpoint without /routing/v1 (e.g. https://delegated-ipfs.dev).
 * Returns 0 on a 2xx answer, -1 with the status and the answer in err. */
int routing_http_put_ipns(const char *base, const char *name, const void *rec, size_t len,
                          const struct routing_http_opts *o, char *err, size_t errlen);

/* Reads the record the endpoint holds for name into out (cap bytes).
 * Returns 1 with *len set, 0 when it holds none (404, or an answer that
 * is not an IPNS record), -1 on failure. */
int routing_http_get_ipns(const char *base, const char *name, const struct routing_http_opts *o, uint8_t *out,
                          size_t cap, size_t *len, char *err, size_t errlen);

#endif
