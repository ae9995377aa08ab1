/* Everything the streamer can be told, with defaults, ranges and meanings. */
#ifndef RADIO_STREAMER_CONFIG_H
#define RADIO_STREAMER_CONFIG_H

#include <stddef.h>

#include "config.h"

struct streamer_config {
    char *processed_dir;
    char *state_dir;
    int window_segments;
    int publish_every_segments;
    char *ipfs_api;
    char *ipfs_auth_env;
    double ipfs_timeout_seconds;
    char *ipns_key;
    char *ipns_mode;
    char *station_key_file;
    struct cfg_strlist ipns_kubo_targets;
    struct cfg_strlist ipns_routing_targets;
    double ipns_target_timeout_seconds;
    double ipns_lifetime_seconds;
    double ipns_ttl_seconds;
    double ipns_lookup_seconds;
    char *uri_mode;
    char *segment_uri_suffix;
    char *segment_gateway;
    double listen_delay_seconds;
    double publish_backoff_seconds;
    double publish_backoff_max_seconds;
    int keep_playlists;
    double reload_check_seconds;
    double recover_from_node_seconds;
    double status_heartbeat_seconds;
    double schedule_horizon_seconds;
    double queue_check_seconds;
    double clock_back_hold_targets;
    double shutdown_grace_seconds;
    char *local_gateway;
    char *public_gateway;
    char *log_level;
    char *failover_role;
    double failover_takeover_seconds;
    double failover_poll_seconds;
    char *metrics_listen;
    int metrics_max_connections;
    double metrics_connection_timeout_seconds;
};

extern const struct cfg_key streamer_config_keys[];
extern const size_t streamer_config_nkeys;

int streamer_config_check(const struct streamer_config *c, const char *origin, char *err, size_t errlen);
/* What can be checked once the running order is known: the shortest
 * playlist the window gives (seconds) lists three target durations, and
 * no playlist players read is older than they play behind its edge. */
int streamer_config_check_timing(const struct streamer_config *c, const char *origin, int target,
                                 double shortest_window, char *err, size_t errlen);

#endif
