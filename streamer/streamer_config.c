#include "streamer_config.h"

#include "err.h"

#include <string.h>

#define K(name, type, def, lo, hi, choices, doc) \
    {#name, type, offsetof(struct streamer_config, name), def, lo, hi, choices, doc}

const struct cfg_key streamer_config_keys[] = {
    K(processed_dir, CFG_STRING, "\"processed\"", 0, 0, NULL,
      "setup's output: manifest.json, playlist.m3u, segments/ (watched for changes)"),
    K(state_dir, CFG_STRING, "\"state\"", 0, 0, NULL,
      "Where the timeline, the last published playlist and status.json are kept"),
    K(window_segments, CFG_INT, "50", 1, 10000, NULL, "Segments in the live playlist"),
    K(publish_every_segments, CFG_INT, "1", 1, 1000, NULL,
      "Publish a new playlist every this many segment boundaries"),
    K(ipfs_api, CFG_STRING, "\"http://127.0.0.1:5001\"", 0, 0, NULL, "Kubo RPC API base URL"),
    K(ipfs_auth_env, CFG_STRING, "\"\"", 0, 0, NULL,
      "Name of an environment variable holding the API's Authorization header value"),
    K(ipfs_timeout_seconds, CFG_NUMBER, "60", 1, 3600, NULL,
      "Timeout of one RPC request (a publish that takes longer is retried)"),
    K(ipns_key, CFG_STRING, "\"ipfs-radio\"", 0, 0, NULL,
      "Name of the node's key that signs the station's IPNS record (created as ed25519 if missing)"),
    K(ipns_mode, CFG_STRING, "\"node\"", 0, 0, "node|station",
      "Who signs the IPNS record: the node's key ipns_key (node), or the streamer with the station's own key (station)"),
    K(station_key_file, CFG_STRING, "\"\"", 0, 0, NULL,
      "Station mode: the station's Ed25519 key, created on first start (empty: station.key in state_dir)"),
    K(ipns_kubo_targets, CFG_STRING_LIST, "[]", 0, 0, NULL,
      "Station mode: Kubo RPC URLs that get every record by routing/put (empty: just ipfs_api)"),
    K(ipns_routing_targets, CFG_STRING_LIST, "[]", 0, 0, NULL,
      "Station mode: Delegated Routing HTTP endpoints that get every record by PUT /routing/v1/ipns/{name}"),
    K(ipns_target_timeout_seconds, CFG_NUMBER, "30", 1, 3600, NULL,
      "Station mode: time limit of one put to one target (a slow target never holds up the others)"),
    K(ipns_lookup_seconds, CFG_NUMBER, "5", 0, 600, NULL,
      "Station mode: at start, how long to wait for the targets' current records, whose sequence the "
      "new ones must beat (0: do not ask)"),
    K(ipns_lifetime_seconds, CFG_NUMBER, "86400", 60, 31536000, NULL,
      "Validity of each IPNS record"),
    K(ipns_ttl_seconds, CFG_NUMBER, "6", 1, 3600, NULL,
      "IPNS record TTL: how long gateways may cache /ipns/ answers; keep it near one segment"),
    K(uri_mode, CFG_STRING, "\"path\"", 0, 0, "path|gateway",
      "Segment URIs: path-absolute /ipfs/<cid> (path gateways) or full URLs on segment_gateway"),
    K(segment_uri_suffix, CFG_STRING, "\"?filename=segment.ts\"", 0, 0, NULL,
      "Query appended to every segment URI; the file name's .ts extension satisfies players that "
      "refuse segments without one (FFmpeg 5.1.4+ and ffplay); empty: none"),
    K(segment_gateway, CFG_STRING, "\"https://ipfs.io\"", 0, 0, NULL,
      "Gateway base for uri_mode gateway (works from subdomain gateways too)"),
    K(listen_delay_seconds, CFG_NUMBER, "0", 0, 3600, NULL,
      "Published as EXT-X-START:TIME-OFFSET=-this: players that honour it (Safari, hls.js, ffmpeg with "
      "-prefer_x_start 1) start this far behind the segment on air, so a playlist this stale still lists "
      "what they play next. 0: no EXT-X-START"),
    K(publish_backoff_seconds, CFG_NUMBER, "1", 0.01, 600, NULL, "First retry delay after a failed publish"),
    K(publish_backoff_max_seconds, CFG_NUMBER, "30", 0.01, 3600, NULL, "Longest retry delay"),
    K(keep_playlists, CFG_INT, "20", 2, 100000, NULL,
      "Published playlists kept pinned on the node; older ones are deleted"),
    K(reload_check_seconds, CFG_NUMBER, "2", 0.1, 3600, NULL,
      "How often processed/ is checked for a new running order (SIGHUP checks at once)"),
    K(shutdown_grace_seconds, CFG_NUMBER, "5", 0, 300, NULL,
      "On SIGTERM/SIGINT, how long an in-flight publish may still take"),
    K(local_gateway, CFG_STRING, "\"http://127.0.0.1:8080\"", 0, 0, NULL,
      "Gateway printed in the listen URL for local listeners"),
    K(public_gateway, CFG_STRING, "\"https://ipfs.io\"", 0, 0, NULL,
      "Public path gateway printed in the listen URL"),
    K(failover_role, CFG_STRING, "\"off\"", 0, 0, "off|active|standby",
      "Station mode, two streamers on two nodes with one key (see docs/streamer.md, Standby): active goes on "
      "air at start unless its node holds a newer record the other streamer signed; standby follows the "
      "other's records and goes on air when they stop advancing. off: one streamer, no watching"),
    K(failover_takeover_seconds, CFG_NUMBER, "0", 0, 3600, NULL,
      "Failover: how long the station's record may stand still before this streamer takes over "
      "(0: two target durations)"),
    K(failover_poll_seconds, CFG_NUMBER, "0.5", 0.05, 60, NULL,
      "Failover: how often the record the node holds is read"),
    K(log_level, CFG_STRING, "\"info\"", 0, 0, "debug|info|notice|warn|error", "Lowest level logged"),
};
const size_t streamer_config_nkeys = sizeof streamer_config_keys / sizeof streamer_config_keys[0];

int streamer_config_check(const struct streamer_config *c, const char *origin, char *err, size_t errlen)
{
    if (!c->processed_dir[0] || !c->state_dir[0])
        return err_set(err, errlen, "%s: keys \"processed_dir\" and \"state_dir\" must not be empty", origin);
    if (!c->ipns_key[0])
        return err_set(err, errlen, "%s: key \"ipns_key\" must not be empty", origin);
    for (size_t i = 0; i < c->ipns_kubo_targets.n + c->ipns_routing_targets.n; i++) {
        const char *u = i < c->ipns_kubo_targets.n ? c->ipns_kubo_targets.v[i]
                                                   : c->ipns_routing_targets.v[i - c->ipns_kubo_targets.n];
        if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
            return err_set(err, errlen, "%s: IPNS target \"%s\" must be an http(s) URL", origin, u);
    }
    if (strcmp(c->uri_mode, "gateway") == 0 && strncmp(c->segment_gateway, "http", 4) != 0)
        return err_set(err, errlen, "%s: key \"segment_gateway\" must be an http(s) URL when uri_mode is gateway",
                       origin);
    if (c->segment_uri_suffix[0] && (c->segment_uri_suffix[0] != '?' ||
                                     strcspn(c->segment_uri_suffix, " \t\r\n#") != strlen(c->segment_uri_suffix)))
        return err_set(err, errlen, "%s: key \"segment_uri_suffix\" must be empty or a query starting with '?', "
                       "without spaces or '#'", origin);
    if (strcmp(c->failover_role, "off") != 0 && strcmp(c->ipns_mode, "station") != 0)
        return err_set(err, errlen, "%s: key \"failover_role\" needs ipns_mode \"station\": both streamers sign "
                       "with the one station key", origin);
    /* Kubo (0.43 on) refuses a name/publish whose TTL exceeds its lifetime. */
    if (c->ipns_ttl_seconds > c->ipns_lifetime_seconds)
        return err_set(err, errlen, "%s: key \"ipns_ttl_seconds\" is above ipns_lifetime_seconds", origin);
    if (c->publish_backoff_max_seconds < c->publish_backoff_seconds)
        return err_set(err, errlen, "%s: key \"publish_backoff_max_seconds\" is below publish_backoff_seconds",
                       origin);
    return 0;
}
