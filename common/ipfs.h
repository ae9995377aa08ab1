/* A small client for the Kubo HTTP RPC API (also spoken by js-ipfs).
 * Every call is a POST; errors come back as a JSON {"Message": ...} body or,
 * once streaming has started, in the X-Stream-Error trailer. */
#ifndef RADIO_IPFS_H
#define RADIO_IPFS_H

#include <stddef.h>
#include <stdint.h>

#include "cid.h"

struct ipfs_client {
    char *api;              /* e.g. http://127.0.0.1:5001, no trailing slash */
    char *auth;             /* full Authorization header value, or NULL */
    double timeout;         /* seconds per request */
    int retries;            /* extra attempts after a transport failure or 5xx */
    double backoff;         /* first retry delay, seconds; doubles per attempt */
    double backoff_max;     /* cap on a single delay, seconds */
    size_t max_response;    /* bytes; larger answers are refused */
    /* Polled during transfers: nonzero aborts the request (shutdown). */
    int (*should_abort)(void *ctx);
    void *abort_ctx;
};

/* Call once per process, before threads start. */
int ipfs_global_init(char *err, size_t errlen);

/* Whether two API base URLs name the same node (trailing slashes aside). */
int ipfs_same_api(const char *a, const char *b);

int ipfs_client_init(struct ipfs_client *c, const char *api, const char *auth, char *err, size_t errlen);
void ipfs_client_free(struct ipfs_client *c);

/* An answer from the node. body is NUL-terminated. After a refusal the
 * call fails but status still holds the node's HTTP status (e.g. 404 for
 * a command the node does not have). */
struct ipfs_response {
    long status;
    char *body;
    size_t len;
};
void ipfs_response_free(struct ipfs_response *r);

/* POST /api/v0/<cmd>?<query> with no body; query is already URL-encoded (may be "").
 * Retries transport failures and 5xx with backoff; returns the final answer
 * or an error with the node's message. */
int ipfs_call(const struct ipfs_client *c, const char *cmd, const char *query,
              struct ipfs_response *out, char *err, size_t errlen);

/* Same, uploading one file as multipart (for dag/put, name publish helpers...). */
int ipfs_call_with_data(const struct ipfs_client *c, const char *cmd, const char *query,
                        const void *data, size_t len, struct ipfs_response *out,
                        char *err, size_t errlen);

/* URL-encodes s into out. Returns 0 or -1 if it does not fit. */
int ipfs_urlencode(const char *s, char *out, size_t outlen);

/* One file to add: from memory (data/size) or from a path on disk. */
struct ipfs_add_item {
    const char *path;       /* file to read, or NULL to use data */
    const char *name;       /* ipfs_add_dir: the file's name in the directory */
    const void *data;
    size_t size;
    char cid[CID_MAX_STR];  /* out: the node's CID, canonical base32 */
};

/* Adds many files in one multipart request: CIDv1, raw leaves, pinned. */
int ipfs_add_many(const struct ipfs_client *c, struct ipfs_add_item *items, size_t n,
                  char *err, size_t errlen);

/* Adds files as one directory (wrap-with-directory), each under its
 * name, which must be a plain file name (no '/'). dir_cid gets the
 * directory's CID (canonical base32); every item its own. Pinned. */
int ipfs_add_dir(const struct ipfs_client *c, struct ipfs_add_item *items, size_t n,
                 char dir_cid[CID_MAX_STR], char *err, size_t errlen);

/* The node's version string, e.g. "0.29.0" (a cheap liveness check). */
int ipfs_version(const struct ipfs_client *c, char *out, size_t outlen, char *err, size_t errlen);

/* Calls fn for each recursively pinned CID (canonical base32). */
typedef int (*ipfs_cid_fn)(void *ctx, const char *cid);
int ipfs_pin_ls_recursive(const struct ipfs_client *c, ipfs_cid_fn fn, void *ctx,
                          char *err, size_t errlen);

/* The id (IPNS name) of the node's key `name`, created as ed25519 if the
 * node lacks it. The name is returned as the node writes it (Kubo: k51...,
 * js-ipfs: 12D3KooW...), since that is the form its gateway resolves. */
int ipfs_key_ensure(const struct ipfs_client *c, const char *name, char *id, size_t idlen,
                    char *err, size_t errlen);

/* Points the key's IPNS name at /ipfs/<cid>. lifetime and ttl in seconds. */
int ipfs_name_publish(const struct ipfs_client *c, const char *key, const char *cid,
                      double lifetime, double ttl, char *err, size_t errlen);

/* Hands the node a signed IPNS record for /ipns/<name> to store and
 * announce: routing/put, or dht/put on a node that only has that (older
 * Kubo, js-ipfs), as js-ipfs's own client does. *use_dht remembers which
 * one the node took (start with 0). */
int ipfs_ipns_put(const struct ipfs_client *c, const char *name, const void *rec, size_t len,
                  int *use_dht, char *err, size_t errlen);

/* Reads the record the node's routing holds for /ipns/<name> (routing/get,
 * or dht/get) into out (cap bytes). Returns 1 with *len set, 0 when the
 * node says it holds none, -1 when it cannot say, with its answer in err. */
int ipfs_ipns_get(const struct ipfs_client *c, const char *name, uint8_t *out, size_t cap, size_t *len,
                  char *err, size_t errlen);

/* Removes a recursive pin; a CID that is not pinned is fine. The blocks
 * stay until the node's garbage collection. */
int ipfs_unpin(const struct ipfs_client *c, const char *cid, char *err, size_t errlen);

/* Unpins and deletes an object we added and no longer need, the blocks
 * under its root too (those another pinned object shares stay); missing
 * is fine. */
int ipfs_forget(const struct ipfs_client *c, const char *cid, char *err, size_t errlen);

#endif
