/* Before a change airs (a queue, a running order with tracks cut
 * elsewhere): does the node hold every segment it names? Held means
 * pinned, directly or under a pinned folder, so a garbage collection
 * cannot take it while it is on the timeline. One pin/ls answer, checked
 * locally: a block the node lacks is never fetched from the network on
 * the station's clock. */
#ifndef RADIO_NODE_CHECK_H
#define RADIO_NODE_CHECK_H

#include <stddef.h>

#include "ipfs.h"

/* 0 when every CID is pinned on the node; -1 naming the first that is not
 * (and how many are missing), or why the node could not say. */
int node_check_pinned(const struct ipfs_client *c, const char *const *cids, size_t n, char *err, size_t errlen);

/* A running order's segments must each be pinned on the node or have its
 * file in processed/ (the publisher adds those): asks the node only about
 * segments without a file, so an order setup cut costs no request. */
struct order;
int node_check_order(const struct ipfs_client *c, const struct order *o, const char *processed_dir, char *err,
                     size_t errlen);

#endif
