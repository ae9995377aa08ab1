/* The station's IPNS sequence number, state/ipns.json. A number is written
 * to disk before any record carries it, so no crash, restart or kill -9
 * ever signs two records with the same number. Each number is also at
 * least the wall clock in milliseconds: a station whose state was lost, or
 * whose key moved to another machine, still outbids the records it
 * published before (given clocks that agree to within the time between
 * the last record and the next). */
#ifndef RADIO_IPNS_SEQ_H
#define RADIO_IPNS_SEQ_H

#include <stddef.h>
#include <stdint.h>

#define IPNS_SEQ_FORMAT "ipfs-radio-ipns-sequence"

struct ipns_seq {
    char path[4096];
    char name[128];      /* the name the numbers were used for (informative) */
    uint64_t last;       /* highest number handed out, 0 if none */
};

/* A missing file starts at 0. */
int ipns_seq_load(struct ipns_seq *s, const char *path, const char *name, char *err, size_t errlen);
/* max(last + 1, floor, now in ms), persisted before it is returned. */
int ipns_seq_next(struct ipns_seq *s, double now, uint64_t floor, uint64_t *out, char *err, size_t errlen);

#endif
