#include "http_server.h"

#include "err.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define PORT_MAX 65535
#define TEXT_TYPE "text/plain; charset=utf-8"
#define STATUS_NO_CONTENT 204
#define STATUS_NOT_FOUND 404
#define STATUS_BAD_METHOD 405
#define CORS_MAX_AGE "600"
#define NOT_FOUND_MAX 512

struct doc {
    char *path;
    char *type;
    int status;
    char *body;
};

struct http_server {
    struct MHD_Daemon *d;
    char *cors;
    pthread_mutex_t lock;
    struct doc *docs;
    size_t ndocs;
    char not_found[NOT_FOUND_MAX];
};

int http_parse_listen(const char *s, char *host, size_t hostlen, int *port, char *err, size_t errlen)
{
    const char *colon;
    const char *h = s;
    size_t hl;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return err_set(err, errlen, "listen address \"%s\" must be [v6]:port", s);
        h = s + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return err_set(err, errlen, "listen address \"%s\" must be host:port", s);
        hl = (size_t)(colon - s);
    }
    if (hl >= hostlen)
        return err_set(err, errlen, "listen address \"%s\": host too long", s);
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || p < 0 || p > PORT_MAX)
        return err_set(err, errlen, "listen address \"%s\": port must be 0 to %d", s, PORT_MAX);
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)p;
    return 0;
}

static void add_common_headers(const struct http_server *s, struct MHD_Response *r, const char *type)
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

static enum MHD_Result answer(struct http_server *s, struct MHD_Connection *c, unsigned status,
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

static struct doc *find(struct http_server *s, const char *path)
{
    for (size_t i = 0; i < s->ndocs; i++)
        if (strcmp(s->docs[i].path, path) == 0)
            return &s->docs[i];
    return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req)
{
    struct http_server *s = cls;
    /* Answering on the first call (headers only) is allowed, and none of
     * these requests has a body worth waiting for. */
    (void)version, (void)upload, (void)upload_size, (void)req;
    if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0)
        return answer(s, c, STATUS_NO_CONTENT, NULL, "");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return answer(s, c, STATUS_BAD_METHOD, TEXT_TYPE, "only GET, HEAD and OPTIONS\n");
    const struct doc *d = find(s, url);
    if (!d)
        return answer(s, c, STATUS_NOT_FOUND, TEXT_TYPE, s->not_found);
    pthread_mutex_lock(&s->lock);
    char *body = strdup(d->body);
    int status = d->status;
    pthread_mutex_unlock(&s->lock);
    if (!body)
        return MHD_NO;
    enum MHD_Result ret = answer(s, c, (unsigned)status, d->type, body);
    free(body);
    return ret;
}

static int make_addr(const char *listen, struct sockaddr_storage *ss, unsigned *flags,
                     char *err, size_t errlen)
{
    char host[HTTP_LISTEN_HOST_MAX];
    int port;
    if (http_parse_listen(listen, host, sizeof host, &port, err, errlen) != 0)
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

static int copy_docs(struct http_server *s, const struct http_server_opts *o)
{
    s->docs = calloc(o->ndocs ? o->ndocs : 1, sizeof *s->docs);
    if (!s->docs)
        return -1;
    s->ndocs = o->ndocs;
    size_t used = (size_t)snprintf(s->not_found, sizeof s->not_found, "not found; try");
    for (size_t i = 0; i < o->ndocs; i++) {
        const struct http_server_doc *in = &o->docs[i];
        struct doc *d = &s->docs[i];
        d->path = strdup(in->path);
        d->type = strdup(in->content_type);
        d->body = strdup(in->body);
        d->status = in->status;
        if (!d->path || !d->type || !d->body)
            return -1;
        if (used < sizeof s->not_found)
            used += (size_t)snprintf(s->not_found + used, sizeof s->not_found - used, "%s %s",
                                     i == 0 ? "" : (i + 1 == o->ndocs ? " or" : ","), in->path);
    }
    if (used < sizeof s->not_found)
        snprintf(s->not_found + used, sizeof s->not_found - used, "\n");
    return 0;
}

int http_server_start(struct http_server **out, const struct http_server_opts *o, char *err, size_t errlen)
{
    *out = NULL;
    struct sockaddr_storage ss;
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD;
    if (make_addr(o->listen, &ss, &flags, err, errlen) != 0)
        return -1;
    struct http_server *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(err, errlen, "out of memory");
    pthread_mutex_init(&s->lock, NULL);
    s->cors = strdup(o->cors_allow_origin ? o->cors_allow_origin : "");
    if (!s->cors || copy_docs(s, o) != 0) {
        http_server_stop(s);
        return err_set(err, errlen, "out of memory");
    }
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->connection_timeout,
                            MHD_OPTION_END);
    if (!s->d) {
        http_server_stop(s);
        return err_set(err, errlen, "cannot listen on %s (address in use or not ours?)", o->listen);
    }
    *out = s;
    return 0;
}

int http_server_port(const struct http_server *s)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : -1;
}

int http_server_set(struct http_server *s, const char *path, int status, const char *body)
{
    struct doc *d = find(s, path);
    char *b = d ? strdup(body) : NULL;
    if (!b)
        return -1;
    pthread_mutex_lock(&s->lock);
    char *old = d->body;
    d->body = b;
    d->status = status;
    pthread_mutex_unlock(&s->lock);
    free(old);
    return 0;
}

void http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    if (s->d)
        MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->lock);
    for (size_t i = 0; i < s->ndocs; i++) {
        free(s->docs[i].path);
        free(s->docs[i].type);
        free(s->docs[i].body);
    }
    free(s->docs);
    free(s->cors);
    free(s);
}
