/* processed/queue.json: how a program that decides what plays puts tracks
 * (jingles too) on air after the current one, after which the running
 * order goes on where it was. The file is a versioned list of requests,
 * each with an id of the program's choosing; the streamer acts on an id
 * once, refuses a file as a whole when anything in it is wrong (the
 * station plays on), and acknowledges each accepted id with the media
 * sequence and air time it got. The ids acted on are kept in
 * state/state.json, so a restart neither plays a request twice nor loses
 * one. Contract: docs/programming.md. */
#ifndef RADIO_QUEUE_H
#define RADIO_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "ipfs.h"
#include "manifest.h"
#include "station.h"

#define QUEUE_FILE "queue.json"
#define QUEUE_FORMAT "ipfs-radio-queue"
#define QUEUE_VERSION 1
#define QUEUE_MAX_BYTES (1u << 20)
#define QUEUE_MAX_ITEMS 100          /* requests one file may hold */
#define QUEUE_ID_MAX 64              /* characters of an id */
#define QUEUE_TRACK_MAX 255
/* Acknowledged ids remembered: a file still listing an id acted on this
 * many acknowledgements ago would have it played again. */
#define QUEUE_REMEMBER 1000
/* Acknowledgements shown in status.json, newest last. */
#define QUEUE_STATUS_ITEMS QUEUE_MAX_ITEMS

struct queue_request {
    char id[QUEUE_ID_MAX + 1];
    char track[QUEUE_TRACK_MAX + 1];
};

struct queue_file {
    struct queue_request *v;
    size_t n;
};

/* Parses queue.json text: format, version, 1 to QUEUE_MAX_ITEMS items,
 * each a unique id (1 to QUEUE_ID_MAX of A-Z a-z 0-9 . _ : -) and a track
 * id. Unknown fields are ignored (a later version 1 may add some). On
 * failure *q is empty. */
int queue_parse(const char *text, size_t len, struct queue_file *q, char *err, size_t errlen);
void queue_file_free(struct queue_file *q);

enum queue_ack_state { QUEUE_SCHEDULED, QUEUE_AIRED, QUEUE_DROPPED };

struct queue_ack {
    char id[QUEUE_ID_MAX + 1];
    char track[QUEUE_TRACK_MAX + 1];
    int64_t first_seq;               /* its first segment's media sequence */
    double air_time;                 /* and that segment's EXT-X-PROGRAM-DATE-TIME */
    double accepted;                 /* when the streamer took it */
    enum queue_ack_state state;
};

const char *queue_ack_state_name(enum queue_ack_state s);
int queue_ack_state_parse(const char *name, enum queue_ack_state *s);

struct queue {
    char path[4096];
    char manifest_path[4096];
    int64_t sig[6];                  /* queue.json and manifest.json as last read (inode, size, mtime) */
    struct queue_ack *acks;          /* oldest first, at most QUEUE_REMEMBER */
    size_t nacks;
    uint64_t accepted, refused;      /* files */
    char last_error[ERR_MSG_MAX];
    double last_error_time;
    int have_change;                 /* last accepted file: where it took effect */
    int64_t change_seq;
    double change_time;
};

int queue_init(struct queue *q, const char *processed_dir, char *err, size_t errlen);
void queue_free(struct queue *q);
/* Takes the acknowledgements a restart remembers (copied). */
int queue_restore(struct queue *q, const struct queue_ack *acks, size_t n);

/* The requests of f not acknowledged yet, resolved against the manifest
 * (rate must be the station's): every track known and consistent
 * (order_check_track). *segs gets their segments in order (titles and
 * track ids point into m), *cids the same CIDs; *fresh the requests. */
int queue_resolve(const struct queue *q, const struct queue_file *f, const struct manifest *m, int rate,
                  struct sched_hist **segs, size_t *nsegs, struct queue_request **fresh, size_t *nfresh,
                  char *err, size_t errlen);

/* Reads processed/queue.json when it or manifest.json changed (or forced), and puts what it
 * newly asks for on the station's timeline after checking the node holds
 * every segment. Returns 1 when accepted (the caller saves the state), 0
 * when nothing new, -1 when refused (err says why; q->last_error too). */
int queue_poll(struct queue *q, struct station *st, const char *processed_dir, const struct ipfs_client *c,
               double now, int forced, char *err, size_t errlen);

/* Brings each acknowledgement up to date with the timeline: aired once its
 * air time passed, dropped if the timeline no longer plays it there (a
 * clock stepped far back, the order changed while the streamer was off). */
void queue_refresh(struct queue *q, const struct sched *s, double now);

/* The "queue" object of status.json. */
json_t *queue_status_json(const struct queue *q);

#endif
