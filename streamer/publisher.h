/* Publishing beside the clock. The timeline hands over each new playlist
 * and goes on; a thread adds it to IPFS and points the IPNS name at it.
 * Only the newest playlist matters: one that arrives while a publish is in
 * flight replaces any still waiting. Failures are retried with doubling
 * backoff and counted, never fatal. Old playlists are unpinned and deleted
 * once `keep` newer ones exist, so a node's repository stays bounded. The
 * thread also makes sure the node holds the running order's segments,
 * re-adding them from processed/ when it does not (a fresh or wiped node). */
#ifndef RADIO_PUBLISHER_H
#define RADIO_PUBLISHER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "cid.h"
#include "clock.h"
#include "ipfs.h"
#include "latency_hist.h"
#include "playlist_ring.h"
#include "record_publisher.h"

struct publisher_opts {
    const char *key;             /* node key name for the IPNS name */
    double lifetime;             /* IPNS record validity, seconds */
    double ttl;                  /* IPNS record TTL, seconds */
    double backoff;              /* first retry delay */
    double backoff_max;
    size_t keep;                 /* playlists kept on the node */
    const char *processed_dir;
    const char *known_name;      /* the name from the last run, shown until the node confirms it */
    struct record_publisher *records; /* station mode: signs and sends the records (NULL: node's key) */
};

/* Counters and the latest outcome, copied out under the lock. */
struct publisher_status {
    char name[128];              /* IPNS name, empty until the key is known */
    int node_ok;                 /* last request to the node succeeded */
    uint64_t publishes, failures, superseded;
    double last_ok;              /* wall time of the last successful publish, 0 if none */
    double last_latency;         /* seconds the last successful publish took */
    struct latency_hist latency; /* every successful publish */
    int64_t last_seq;            /* newest segment of the last published playlist */
    uint64_t ipns_seq;           /* station mode: sequence of the last signed record */
    char last_cid[CID_MAX_STR];
    char last_error[512];        /* empty after a success */
    double last_error_time;
    uint64_t segments_readded;
    char check_error[512];       /* the last segment check's failure; empty after a success */
};

struct publisher_seg {
    char cid[CID_MAX_STR];
    char *path;
};

struct publisher {
    struct publisher_opts opts;
    struct ipfs_client ipfs;
    const struct clock *clock;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started;
    int stop;
    double deadline;             /* monotonic; abort in-flight requests after it (0: none) */
    char *pending;               /* newest playlist not yet taken by the thread */
    size_t pending_len;
    int64_t pending_seq;
    struct publisher_seg *check; /* segments the node must hold */
    size_t ncheck;
    int need_check;
    double check_at;             /* monotonic: no check before this (backoff after a failure) */
    double check_delay;
    int key_checked;             /* the key's name is known for the node as it is now */
    struct publisher_status st;
    struct playlist_ring ring;   /* published playlists still on the node */
};

/* Takes over *ipfs. ring/nring: playlists remembered from an earlier run. */
int publisher_start(struct publisher *p, const struct publisher_opts *o, struct ipfs_client *ipfs,
                    const struct clock *clk, char (*ring)[CID_MAX_STR], size_t nring,
                    char *err, size_t errlen);
/* Hands over a playlist (copied); returns at once. */
int publisher_submit(struct publisher *p, const char *text, size_t len, int64_t newest_seq);
/* The segments of the running order, to be checked on the node (copied). */
int publisher_set_segments(struct publisher *p, const struct publisher_seg *segs, size_t n);
void publisher_status(struct publisher *p, struct publisher_status *out);
/* Copies the ring for persisting; caller frees *ring. */
int publisher_ring(struct publisher *p, char (**ring)[CID_MAX_STR], size_t *n);
/* Stops the thread: a publish in flight gets until `grace` seconds from
 * now. Status and ring stay readable until publisher_free. */
void publisher_stop(struct publisher *p, double grace);
void publisher_free(struct publisher *p);

#endif
