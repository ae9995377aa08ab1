/* Is a gateway's answer the content its CID names? A single-block raw CID
 * is checked by hashing the bytes. A UnixFS file of several raw leaves
 * (dag-pb root) is checked by asking the gateway for the root block alone
 * (a trustless-gateway raw block request), hashing it, reading its links
 * and hashing each slice of the answer against them. Anything else is
 * reported as not verifiable, with the reason, never as a match. */
#ifndef RADIO_HM_VERIFY_H
#define RADIO_HM_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "cid.h"

#define HM_DETAIL_MAX 256
/* The media type a trustless gateway answers raw block requests with. */
#define HM_RAW_BLOCK_TYPE "application/vnd.ipld.raw"

enum hm_integrity { HM_VERIFIED, HM_MISMATCH, HM_UNVERIFIED };

/* The CID a segment URL names by itself: a path that is exactly
 * /ipfs/<cid> (any host), or a subdomain <cid>.ipfs.<host>/. A path inside
 * a directory or an IPNS name names no single CID. Returns 0 with the CID
 * text in cid, or -1 with the reason in why. */
int hm_cid_from_url(const char *url, char *cid, size_t cidlen, char *why, size_t whylen);

/* Fetches the raw block of cid. Returns 0 with malloc'd bytes only if the
 * answer was really a raw block; -1 with a reason otherwise. */
typedef int (*hm_block_fetch_fn)(void *ctx, const char *cid, uint8_t **data, size_t *len,
                                 char *why, size_t whylen);

enum hm_integrity hm_verify(const char *cid, const uint8_t *bytes, size_t len,
                            hm_block_fetch_fn fetch, void *ctx, char *detail, size_t detaillen);

const char *hm_integrity_name(enum hm_integrity v);

/* A dag-pb node holding a UnixFS file, as far as verification needs it.
 * Parsing is bounded and refuses anything malformed. */
#define HM_DAGPB_MAX_LINKS 4096
struct hm_dagpb_link {
    const uint8_t *cid;      /* binary CID inside the block */
    size_t cid_len;
};
struct hm_dagpb_file {
    int unixfs_type;         /* 0 raw, 2 file, ...; -1 if no Data */
    const uint8_t *data;     /* UnixFS inline data */
    size_t data_len;
    uint64_t filesize;
    int has_filesize;
    uint64_t blocksizes[HM_DAGPB_MAX_LINKS];
    size_t nblocksizes;
    struct hm_dagpb_link links[HM_DAGPB_MAX_LINKS];
    size_t nlinks;
};
int hm_dagpb_parse(const uint8_t *block, size_t len, struct hm_dagpb_file *out,
                   char *why, size_t whylen);

#endif
