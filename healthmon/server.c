#include "server.h"

#include "err.h"
#include "hm_config.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define HOST_MAX 256
#define JSON_TYPE "application/json; charset=utf-8"
#define TEXT_TYPE "text/plain; charset=utf-8"
#define STATUS_NO_CONTENT 204
#define STATUS_NOT_FOUND 404
#define STATUS_BAD_METHOD 405
#define STATUS_UNAVAILABLE 503
#define CORS_MAX_AGE "600"

struct hm_server {
    struct MHD_Daemon *d;
    char *cors;
    pthread_mutex_t lock;
    char *health;
    int health_status;
    char *metrics;
};

static void add_common_headers(const struct hm_server *s, struct MHD_Response *r, const char *type)
{
    if (type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (s->cors[0]) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, s->cors);
        MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
        MHD_add_response_header(r, "Access-Control-Allow-Headers", "Content-Type");
        MHD_add_response_header(r, "Access-Control-Max-Age", CORS_MAX_AGE);
    }
}

static enum MHD_Result answer(struct hm_server *s, struct MHD_Connection *c, unsigned status,
                              const char *type, const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    add_common_headers(s, r, type);
    if (status == STATUS_BAD_METHOD)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, OPTIONS");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req)
{
    struct hm_server *s = cls;
    /* Answering on the first call (headers only) is allowed, and none of
     * these requests has a body worth waiting for. */
    (void)version, (void)upload, (void)upload_size, (void)req;
    if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0)
        return answer(s, c, STATUS_NO_CONTENT, NULL, "");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return answer(s, c, STATUS_BAD_METHOD, TEXT_TYPE, "only GET, HEAD and OPTIONS\n");

    int is_health = strcmp(url, "/health") == 0;
    int is_metrics = strcmp(url, "/metrics") == 0;
    if (!is_health && !is_metrics)
        return answer(s, c, STATUS_NOT_FOUND, TEXT_TYPE, "not found; try /health or /metrics\n");
    pthread_mutex_lock(&s->lock);
    char *body = strdup(is_health ? s->health : s->metrics);
    int status = is_health ? s->health_status : MHD_HTTP_OK;
    pthread_mutex_unlock(&s->lock);
    if (!body)
        return MHD_NO;
    enum MHD_Result ret = answer(s, c, (unsigned)status,
                                 is_health ? JSON_TYPE : HM_METRICS_CONTENT_TYPE, body);
    free(body);
    return ret;
}

static int make_addr(const char *listen, struct sockaddr_storage *ss, unsigned *flags,
                     char *err, size_t errlen)
{
    char host[HOST_MAX];
    int port;
    if (hm_parse_listen(listen, host, sizeof host, &port, err, errlen) != 0)
        return -1;
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (!host[0]) {
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = in6addr_any;
        v6->sin6_port = htons((uint16_t)port);
        *flags |= MHD_USE_DUAL_STACK;
    } else if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *flags |= MHD_USE_IPv6;
    } else {
        return err_set(err, errlen, "listen address \"%s\": host must be a numeric IP address", listen);
    }
    return 0;
}

int hm_server_start(struct hm_server **out, const struct hm_server_opts *o, char *err, size_t errlen)
{
    *out = NULL;
    struct sockaddr_storage ss;
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD;
    if (make_addr(o->listen, &ss, &flags, err, errlen) != 0)
        return -1;
    struct hm_server *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(err, errlen, "out of memory");
    pthread_mutex_init(&s->lock, NULL);
    s->cors = strdup(o->cors_allow_origin);
    s->health = strdup("{\"status\": \"starting\"}\n");
    s->metrics = strdup("");
    s->health_status = STATUS_UNAVAILABLE;
    if (!s->cors || !s->health || !s->metrics) {
        hm_server_stop(s);
        return err_set(err, errlen, "out of memory");
    }
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->connection_timeout,
                            MHD_OPTION_END);
    if (!s->d) {
        hm_server_stop(s);
        return err_set(err, errlen, "cannot listen on %s (address in use or not ours?)", o->listen);
    }
    *out = s;
    return 0;
}

int hm_server_port(const struct hm_server *s)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : -1;
}

int hm_server_publish(struct hm_server *s, const char *health_json, int health_status,
                      const char *metrics_text)
{
    char *h = strdup(health_json), *m = strdup(metrics_text);
    if (!h || !m) {
        free(h);
        free(m);
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    char *oh = s->health, *om = s->metrics;
    s->health = h;
    s->metrics = m;
    s->health_status = health_status;
    pthread_mutex_unlock(&s->lock);
    free(oh);
    free(om);
    return 0;
}

void hm_server_stop(struct hm_server *s)
{
    if (!s)
        return;
    if (s->d)
        MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->lock);
    free(s->cors);
    free(s->health);
    free(s->metrics);
    free(s);
}
