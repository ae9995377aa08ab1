/* A small HTTP server of documents (libmicrohttpd, its own thread), for
 * the programs' /health and /metrics. The program replaces a document
 * whenever it has a new one; a request only copies the current one under
 * a lock, so a slow or stuck client never holds up the program: it costs
 * one of max_connections until connection_timeout cuts it off, and
 * libmicrohttpd bounds what a client may send (a GET has no body here).
 * Every answer carries CORS headers so a dashboard page on another origin
 * can read it; OPTIONS answers the preflight. */
#ifndef RADIO_HTTP_SERVER_H
#define RADIO_HTTP_SERVER_H

#include <stddef.h>

#define HTTP_LISTEN_HOST_MAX 256

struct http_server;

struct http_server_doc {
    const char *path;                /* "/metrics" */
    const char *content_type;
    int status;                      /* until the first http_server_set */
    const char *body;                /* until the first http_server_set */
};

struct http_server_opts {
    const char *listen;              /* host:port, [v6]:port, :port (all addresses) */
    const char *cors_allow_origin;   /* "" for none */
    int max_connections;
    double connection_timeout;       /* seconds */
    const struct http_server_doc *docs;
    size_t ndocs;
};

/* Splits a listen address; the host is "" for all addresses. */
int http_parse_listen(const char *s, char *host, size_t hostlen, int *port, char *err, size_t errlen);

int http_server_start(struct http_server **out, const struct http_server_opts *o, char *err, size_t errlen);
/* The port actually bound (useful with port 0). */
int http_server_port(const struct http_server *s);
/* Replaces the document served at path (copied). Returns 0, or -1 when
 * out of memory or path is not one of the server's documents. */
int http_server_set(struct http_server *s, const char *path, int status, const char *body);
void http_server_stop(struct http_server *s);

#endif
