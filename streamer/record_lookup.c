#include "record_lookup.h"

#include "err.h"
#include "ipfs.h"
#include "ipns_record.h"
#include "log.h"
#include "routing_http.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct probe {
    const char *url;
    int routing;                 /* a Delegated Routing endpoint, else a Kubo node */
    const char *auth;
    const char *name;
    const unsigned char *pk;
    double timeout;
    uint64_t seq;                /* out: 0 when none */
    pthread_t thread;
    int started;
};

static void *probe_run(void *arg)
{
    struct probe *p = arg;
    uint8_t rec[IPNS_RECORD_MAX];
    size_t len = 0;
    char err[ERR_MSG_MAX] = "";
    int got;
    if (p->routing) {
        struct routing_http_opts ro = {.timeout = p->timeout};
        got = routing_http_get_ipns(p->url, p->name, &ro, rec, sizeof rec, &len, err, sizeof err);
    } else {
        struct ipfs_client c;
        got = ipfs_client_init(&c, p->url, p->auth, err, sizeof err);
        if (got == 0) {
            c.timeout = p->timeout;
            c.retries = 0;
            got = ipfs_ipns_get(&c, p->name, rec, sizeof rec, &len, err, sizeof err);
            ipfs_client_free(&c);
        }
    }
    if (got <= 0) {
        log_ev(LOG_INFO, "no current record from a target", "target", p->url, "detail",
               got == 0 ? "none held" : err, NULL);
        return NULL;
    }
    /* Any record this key signed counts, expired or not: the sequence
     * only has to beat it. */
    struct ipns_record_view v;
    if (ipns_record_verify(rec, len, p->pk, 0, &v, err, sizeof err) != 0 || !v.has_seq) {
        log_ev(LOG_WARN, "a target holds a record for the station that does not verify; ignored", "target",
               p->url, "error", err, NULL);
        return NULL;
    }
    p->seq = v.seq;
    char seq[24];
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)v.seq);
    log_ev(LOG_INFO, "current record found", "target", p->url, "sequence", seq, NULL);
    return NULL;
}

uint64_t record_lookup_highest(const struct record_lookup_opts *o, const char *name,
                               const unsigned char pk[IPNS_KEY_PUBLIC_BYTES])
{
    size_t nk = o->kubo->n ? o->kubo->n : 1, n = nk + o->routing->n;
    struct probe *p = calloc(n, sizeof *p);
    if (!p) {
        log_ev(LOG_WARN, "out of memory: the targets' current records were not read", NULL);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        int kubo = i < nk;
        p[i].url = kubo ? (o->kubo->n ? o->kubo->v[i] : o->primary_api) : o->routing->v[i - nk];
        p[i].routing = !kubo;
        /* The primary node's credential goes to the primary node only. */
        p[i].auth = kubo && ipfs_same_api(p[i].url, o->primary_api) ? o->auth : NULL;
        p[i].name = name;
        p[i].pk = pk;
        p[i].timeout = o->timeout;
        p[i].started = pthread_create(&p[i].thread, NULL, probe_run, &p[i]) == 0;
        if (!p[i].started)
            probe_run(&p[i]);
    }
    uint64_t best = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].started)
            pthread_join(p[i].thread, NULL);
        if (p[i].seq > best)
            best = p[i].seq;
    }
    free(p);
    return best;
}
