/* At start, the station asks its targets for the record they hold: a
 * record signed by this key with a higher sequence than state/ipns.json
 * knows (the state was lost, or the key published from another machine
 * whose clock ran ahead) would make every new record lose to it. */
#ifndef RADIO_RECORD_LOOKUP_H
#define RADIO_RECORD_LOOKUP_H

#include <stdint.h>

#include "config.h"
#include "ipns_key.h"

struct record_lookup_opts {
    const struct cfg_strlist *kubo;      /* Kubo RPC targets; empty: just primary_api */
    const struct cfg_strlist *routing;   /* Delegated Routing HTTP endpoints */
    const char *primary_api;
    const char *auth;                    /* for primary_api only, or NULL */
    double timeout;                      /* seconds, for all targets at once */
};

/* The highest sequence of the records signed by pk that the targets hold
 * (0 when none holds one or none answers in time). Each target's answer is
 * logged; a target that fails is no error. */
uint64_t record_lookup_highest(const struct record_lookup_opts *o, const char *name,
                               const unsigned char pk[IPNS_KEY_PUBLIC_BYTES]);

#endif
