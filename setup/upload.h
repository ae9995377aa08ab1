/* Adding segment files to the node in batches, and checking the node's
 * CIDs against the ones computed locally. */
#ifndef RADIO_UPLOAD_H
#define RADIO_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "cid.h"
#include "ipfs.h"

struct upload_file {
    const char *path;
    int64_t size;
    char expect[CID_MAX_STR];   /* locally computed CID, or empty when the file spans chunks */
    char cid[CID_MAX_STR];      /* out */
};

/* Adds all files, `batch` per request. A CID that differs from the one
 * computed locally is an error: the node would serve other bytes. */
int upload_files(const struct ipfs_client *c, struct upload_file *files, size_t n, int batch,
                 char *err, size_t errlen);

/* The CID to expect for these bytes, or "" when they span several chunks. */
void upload_expected_cid(const void *data, size_t len, char out[CID_MAX_STR]);

#endif
