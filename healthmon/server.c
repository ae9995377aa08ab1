#include "server.h"

#include "err.h"
#include "http_server.h"
#include "metrics.h"

#include <stdlib.h>

#define JSON_TYPE "application/json; charset=utf-8"
#define STATUS_UNAVAILABLE 503
#define STATUS_OK 200

struct hm_server {
    struct http_server *http;
};

int hm_server_start(struct hm_server **out, const struct hm_server_opts *o, char *err, size_t errlen)
{
    const struct http_server_doc docs[] = {
        {"/health", JSON_TYPE, STATUS_UNAVAILABLE, "{\"status\": \"starting\"}\n"},
        {"/metrics", HM_METRICS_CONTENT_TYPE, STATUS_OK, ""},
    };
    struct http_server_opts ho = {o->listen, o->cors_allow_origin, o->max_connections, o->connection_timeout,
                                  docs, sizeof docs / sizeof *docs};
    *out = calloc(1, sizeof **out);
    if (!*out)
        return err_set(err, errlen, "out of memory");
    if (http_server_start(&(*out)->http, &ho, err, errlen) != 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

int hm_server_port(const struct hm_server *s)
{
    return http_server_port(s->http);
}

int hm_server_publish(struct hm_server *s, const char *health_json, int health_status,
                      const char *metrics_text)
{
    struct http_server *h = s->http;
    return http_server_set(h, "/metrics", STATUS_OK, metrics_text) == 0 &&
                   http_server_set(h, "/health", health_status, health_json) == 0
               ? 0
               : -1;
}

void hm_server_stop(struct hm_server *s)
{
    if (!s)
        return;
    http_server_stop(s->http);
    free(s);
}
