/* Plain HTTP GET for reading from gateways the way a listener does: one
 * bounded answer per request, a hard time limit, and a failure sorted into
 * what happened on the wire (nobody answered, too slow, answer broken), so
 * a caller can tell "gateway unreachable" from "our own bug".
 *
 * A client keeps one connection cache, like a player does between
 * playlist reloads. It is not thread-safe: use one per thread. */
#ifndef RADIO_HTTP_GET_H
#define RADIO_HTTP_GET_H

#include <stddef.h>

#define HTTP_URL_MAX 4096

enum http_outcome {
    HTTP_ANSWERED,      /* a complete HTTP answer arrived (any status) */
    HTTP_UNREACHABLE,   /* name did not resolve, or no connection could be made */
    HTTP_TIMEOUT,       /* connected, but the answer did not finish in time */
    HTTP_TOO_LARGE,     /* the body went over the caller's limit */
    HTTP_BROKEN,        /* connection reset, truncated body, TLS or protocol error */
};

struct http_client;

struct http_get_opts {
    double timeout;          /* seconds for the whole request, redirects included */
    size_t max_bytes;        /* body limit (after content decoding) */
    long max_redirects;      /* 0: do not follow */
    const char *accept;      /* Accept header value, or NULL */
};

struct http_response {
    enum http_outcome outcome;
    long status;             /* HTTP status of the final answer, 0 if none */
    char *body;              /* NUL-terminated for convenience; len excludes it */
    size_t len;
    char content_type[128];  /* media type of the final answer, without parameters, lowercase */
    char effective_url[HTTP_URL_MAX];
    double seconds;          /* wall time the request took */
};

/* Call ipfs_global_init (curl_global_init) once before the first client. */
int http_client_new(struct http_client **out, char *err, size_t errlen);
void http_client_free(struct http_client *c);

/* Performs one GET. Returns 0 when an answer arrived (check status),
 * -1 otherwise with out->outcome saying why and a message in err. The
 * body is freed by http_response_free in both cases. */
int http_get(struct http_client *c, const char *url, const struct http_get_opts *o,
             struct http_response *out, char *err, size_t errlen);
void http_response_free(struct http_response *r);

/* Resolves a reference (absolute URL, path-absolute, or relative) against
 * a base URL as RFC 3986 says, so a playlist's segment URIs are read the
 * way a player reads them. Returns 0 or -1. */
int http_resolve(const char *base, const char *ref, char *out, size_t outlen,
                 char *err, size_t errlen);

/* "unreachable", "timeout", ... for reports. */
const char *http_outcome_name(enum http_outcome o);

#endif
