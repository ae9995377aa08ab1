/* The last running order the station accepted, kept in the state
 * directory: when another program leaves processed/ broken and the
 * streamer restarts (a reboot, a crash, `restart: unless-stopped`), it
 * plays that order instead of staying off the air. One file holds both
 * texts, so a kill -9 leaves the old pair or the new one, never a mix. */
#ifndef RADIO_ORDER_KEEP_H
#define RADIO_ORDER_KEEP_H

#include <stddef.h>

#include "order.h"

#define ORDER_KEEP_FORMAT "ipfs-radio-last-order"
#define ORDER_KEEP_VERSION 1
#define ORDER_KEEP_FILE "last-order"

/* Writes the texts atomically to path (unchanged bytes are not rewritten). */
int order_keep_save(const char *path, const struct order_texts *t, char *err, size_t errlen);
/* Reads them back. A missing file fails with *missing set. */
int order_keep_load(const char *path, struct order_texts *t, int *missing, char *err, size_t errlen);

#endif
