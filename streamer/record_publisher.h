/* Station-key IPNS publishing: the streamer signs each record itself with
 * the station's key (state/station.key unless configured otherwise), takes
 * the sequence number from state/ipns.json, and hands the record to every
 * target at once. The name never depends on a node: a node that is wiped,
 * replaced or added publishes for the same station. */
#ifndef RADIO_RECORD_PUBLISHER_H
#define RADIO_RECORD_PUBLISHER_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "ipns_key.h"
#include "ipns_seq.h"
#include "record_target.h"

struct record_publisher_opts {
    const char *key_path;
    const char *seq_path;
    const char *state_dir;               /* where each other Kubo target's playlist list is kept */
    const struct cfg_strlist *kubo;      /* Kubo RPC targets; empty: just primary_api */
    const struct cfg_strlist *routing;   /* Delegated Routing HTTP endpoints */
    const char *primary_api;             /* the node the publisher adds playlists to */
    const char *auth;                    /* Authorization header for primary_api only, or NULL */
    double timeout;
    double backoff, backoff_max;
    double lifetime, ttl;                /* record validity and TTL, seconds */
    size_t keep;
    double lookup_timeout;               /* read the targets' current records first; 0: do not */
};

/* Failover (standby.h): asked around each signature, under one lock the
 * guard holds from begin to end, so that stepping back and signing never
 * interleave. begin returns 0 to sign, raising *floor to what the sequence
 * must reach, or RECORD_PUBLISHER_REFUSED; end gets the sequence signed
 * (0: none). */
struct record_guard {
    int (*begin)(void *ctx, uint64_t *floor);
    void (*end)(void *ctx, uint64_t seq);
    void *ctx;
};

#define RECORD_PUBLISHER_REFUSED 1

struct record_publisher {
    struct ipns_key key;
    char name[IPNS_NAME_MAX];
    struct ipns_seq seq;
    uint64_t floor;                      /* above the highest sequence the targets held at start */
    double lifetime, ttl;
    const struct clock *clock;
    struct record_target *targets;
    size_t ntargets;
    const struct record_guard *guard;    /* NULL: always sign */
};

int record_publisher_start(struct record_publisher *rp, const struct record_publisher_opts *o,
                           const struct clock *clk, char *err, size_t errlen);
/* Signs a record pointing at /ipfs/<cid> with the next sequence number and
 * hands it to every target; returns at once. Called from one thread only.
 * RECORD_PUBLISHER_REFUSED: the guard said this streamer is not on air. */
int record_publisher_publish(struct record_publisher *rp, const char *cid, const char *playlist, size_t len,
                             uint64_t *seq, char *err, size_t errlen);
/* Copies every target's status; caller frees *out. */
int record_publisher_status(struct record_publisher *rp, struct record_target_status **out, size_t *n);
void record_publisher_stop(struct record_publisher *rp, double grace);
void record_publisher_free(struct record_publisher *rp);

#endif
