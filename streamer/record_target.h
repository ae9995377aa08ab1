/* One place the station's signed IPNS records go: a Kubo node (routing/put,
 * or dht/put where that is all it has) or a Delegated Routing HTTP endpoint
 * (PUT /routing/v1/ipns/{name}). Each target has its own thread, so a slow
 * or dead one never holds up the others: only the newest record matters,
 * one that arrives while a put is in flight replaces any still waiting,
 * and failures are retried with doubling backoff and reported. */
#ifndef RADIO_RECORD_TARGET_H
#define RADIO_RECORD_TARGET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "cid.h"
#include "clock.h"
#include "ipfs.h"
#include "ipns_record.h"
#include "latency_hist.h"
#include "playlist_ring.h"

enum record_target_kind { RECORD_TARGET_KUBO, RECORD_TARGET_ROUTING };

struct record_target_opts {
    enum record_target_kind kind;
    const char *url;             /* Kubo RPC base, or Delegated Routing base */
    const char *auth;            /* Kubo: Authorization header value, or NULL */
    const char *name;            /* the station's IPNS name */
    double timeout;              /* seconds per request */
    double backoff, backoff_max;
    int add_playlist;            /* Kubo: add the playlist first (not the node that already has it) */
    size_t keep;                 /* playlists kept pinned on such a node */
    const char *ring_path;       /* add_playlist: file the list of those playlists is kept in */
};

struct record_target_status {
    char url[512];
    enum record_target_kind kind;
    char method[32];             /* how the last put was made */
    int ok;                      /* the last attempt succeeded */
    uint64_t puts, failures, superseded;
    uint64_t last_seq;           /* sequence of the last record the target took, 0 if none */
    double last_ok;              /* wall time of that, 0 if none */
    double last_latency;
    struct latency_hist latency; /* every successful put */
    char last_error[512];        /* empty after a success */
    double last_error_time;
};

struct record_job {
    uint8_t rec[IPNS_RECORD_MAX];
    size_t len;
    uint64_t seq;
    char cid[CID_MAX_STR];       /* the playlist the record points at */
    char *playlist;              /* its bytes (owned) */
    size_t plen;
};

struct record_target {
    struct record_target_opts opts;
    char url[512], name[IPNS_NAME_MAX];
    struct ipfs_client ipfs;
    const struct clock *clock;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started, stop;
    double deadline;             /* monotonic; abort in-flight requests after it (0: none) */
    struct record_job *pending;
    int use_dht;
    struct playlist_ring ring;   /* playlists added to this node */
    char current[CID_MAX_STR];   /* the playlist its last accepted record points at */
    char ring_path[4096];
    struct record_target_status st;
};

int record_target_start(struct record_target *t, const struct record_target_opts *o, const struct clock *clk,
                        char *err, size_t errlen);
/* Takes a copy of the job; returns at once. */
int record_target_submit(struct record_target *t, const struct record_job *job);
void record_target_status(struct record_target *t, struct record_target_status *out);
void record_target_stop(struct record_target *t, double grace);
void record_target_free(struct record_target *t);

#endif
