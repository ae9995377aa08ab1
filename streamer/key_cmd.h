/* `radio-streamer key ...`: the operator's handle on the station key.
 *   key name                 prints the IPNS name (k51...) and its peer id form, creating the key if needed
 *   key export FILE|-        writes the key (libp2p protobuf: Kubo's `key import` default; or --format pem)
 *   key import FILE          makes FILE (libp2p protobuf or PKCS#8 PEM) the station key
 * The secret is never printed unless exported to "-" on purpose. */
#ifndef RADIO_KEY_CMD_H
#define RADIO_KEY_CMD_H

#include <stddef.h>
#include <stdio.h>

#include "streamer_config.h"

struct key_cmd_opts {
    const char *format;  /* export: "libp2p" or "pem" */
    int force;           /* import: replace a different existing key */
};

/* args: what follows "key". Returns 0, or -1 with a message. */
int key_cmd_run(const struct streamer_config *cfg, const struct key_cmd_opts *o, int argc, char **argv,
                FILE *out, char *err, size_t errlen);

/* Where the station key lives under this config. */
int key_cmd_path(const struct streamer_config *cfg, char *out, size_t outlen, char *err, size_t errlen);

#endif
