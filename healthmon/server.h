/* The HTTP face of the monitor (libmicrohttpd, its own thread):
 *   GET /health   the health JSON; 200 ok or degraded, 503 down or starting
 *   GET /metrics  Prometheus text
 * Every answer carries CORS headers so a dashboard page on another origin
 * can read it; OPTIONS answers the preflight. The monitor publishes a new
 * snapshot after each round; requests only ever copy a snapshot. */
#ifndef RADIO_HM_SERVER_H
#define RADIO_HM_SERVER_H

#include <stddef.h>

struct hm_server;

struct hm_server_opts {
    const char *listen;              /* host:port, [v6]:port, :port */
    const char *cors_allow_origin;
    int max_connections;
    double connection_timeout;       /* seconds */
};

int hm_server_start(struct hm_server **out, const struct hm_server_opts *o, char *err, size_t errlen);
/* The port actually bound (useful with port 0). */
int hm_server_port(const struct hm_server *s);
/* Replaces the served documents (copied). Returns 0 or -1 (out of memory). */
int hm_server_publish(struct hm_server *s, const char *health_json, int health_status,
                      const char *metrics_text);
void hm_server_stop(struct hm_server *s);

#endif
