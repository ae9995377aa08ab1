#include "streamer_config.h"

#include "err.h"
#include "http_server.h"
#include "station.h"

#include <string.h>

#define K(name, type, def, lo, hi, choices, doc) \
    {#name, type, offsetof(struct streamer_config, name), def, lo, hi, choices, doc}

const struct cfg_key streamer_config_keys[] = {
    K(processed_dir, CFG_STRING, "\"processed\"", 0, 0, NULL,
      "setup's output: manifest.json, playlist.m3u, segments/ (watched for changes)"),
    K(state_dir, CFG_STRING, "\"state\"", 0, 0, NULL,
      "Where the timeline, the last published playlist and status.json are kept"),
    K(window_segments, CFG_INT, "50", STATION_MIN_TARGETS, 10000, NULL,
      "Segments in the live playlist; at start (and for each new running order) they must list at least three "
      "target durations wherever the window falls in the order"),
    K(publish_every_segments, CFG_INT, "1", 1, 1000, NULL,
      "Publish a new playlist every this many segment boundaries; with ipns_ttl_seconds, a playlist must never "
      "be older than the three target durations (plus listen_delay_seconds) players play behind its live edge"),
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
    K(listen_delay_seconds, CFG_NUMBER, "45", 0, 3600, NULL,
      "How far behind air listeners play, published as EXT-X-START:TIME-OFFSET=-this: the listener page "
      "plays this far behind the segments' date-times (every listener at the same moment), Safari, hls.js "
      "and ffmpeg -prefer_x_start 1 start this far behind the newest segment. Listeners keep playing "
      "through gateways serving playlists up to about this old. At most the window minus three target "
      "durations; 0: no EXT-X-START"),
    K(publish_backoff_seconds, CFG_NUMBER, "1", 0.01, 600, NULL, "First retry delay after a failed publish"),
    K(publish_backoff_max_seconds, CFG_NUMBER, "30", 0.01, 3600, NULL, "Longest retry delay"),
    K(keep_playlists, CFG_INT, "20", 2, 100000, NULL,
      "Published playlists kept pinned on the node; older ones are deleted"),
    K(reload_check_seconds, CFG_NUMBER, "2", 0.1, 3600, NULL,
      "How often processed/ is checked for a new running order (SIGHUP checks at once)"),
    K(recover_from_node_seconds, CFG_NUMBER, "10", 0, 600, NULL,
      "At start, how long to wait for the node's answer to what the station's name points at: with state_dir "
      "lost or behind, the timeline goes on after that playlist (0: do not ask)"),
    K(schedule_horizon_seconds, CFG_NUMBER, "3600", 0, 604800, NULL,
      "state_dir/schedule.json lists the tracks due on air this far ahead (track, first sequence, air time, "
      "duration), for a program that decides what plays; rewritten when it changes. 0: no file"),
    K(queue_check_seconds, CFG_NUMBER, "5", 0.1, 600, NULL,
      "Time limit of the node check (are the segments pinned?) before processed/queue.json or a new running "
      "order is accepted; a node that does not answer in time gets the change refused, the station plays on"),
    K(status_heartbeat_seconds, CFG_NUMBER, "60", 0, 86400, NULL,
      "status.json is written when something in it changes, and unchanged at most this often (its \"updated\" "
      "time then shows the streamer alive; 0: only on change)"),
    K(clock_back_hold_targets, CFG_NUMBER, "2", 0, 1000000, NULL,
      "A wall clock stepped back by up to this many target durations (behind the newest segment's start) holds "
      "the station until it catches up; further back, the timeline goes on at once from the new clock: next "
      "sequence number, EXT-X-DISCONTINUITY, the running order from its top"),
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
    K(metrics_listen, CFG_STRING, "\"\"", 0, 0, NULL,
      "HTTP address serving GET /metrics in Prometheus text (host:port, [v6]:port, :port for all; "
      "docs/operating.md lists the metrics); empty: none. Port 8092 beside healthmon's 8091 is the "
      "shipped Prometheus configuration's choice"),
    K(metrics_max_connections, CFG_INT, "8", 1, 10000, NULL,
      "Concurrent connections the metrics server serves; more wait"),
    K(metrics_connection_timeout_seconds, CFG_NUMBER, "10", 1, 3600, NULL,
      "A metrics connection idle (or a client sending nothing) this long is closed"),
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
    /* Players play three target durations behind the newest segment they
     * were given; a playlist replaced only every third segment or later
     * runs them dry before the next arrives, unless they start further back. */
    if (c->listen_delay_seconds <= 0 && c->publish_every_segments >= STATION_MIN_TARGETS)
        return err_set(err, errlen, "%s: key \"publish_every_segments\" is %d: players play %d target durations "
                       "behind the newest playlist and would stall before the next (at most %d, or set "
                       "listen_delay_seconds)", origin, c->publish_every_segments, STATION_MIN_TARGETS,
                       STATION_MIN_TARGETS - 1);
    char host[HTTP_LISTEN_HOST_MAX];
    int port;
    if (c->metrics_listen[0] && http_parse_listen(c->metrics_listen, host, sizeof host, &port, err, errlen) != 0)
        return err_prefix(err, errlen, "%s: key \"metrics_listen\"", origin);
    if (c->publish_backoff_max_seconds < c->publish_backoff_seconds)
        return err_set(err, errlen, "%s: key \"publish_backoff_max_seconds\" is below publish_backoff_seconds",
                       origin);
    return 0;
}

int streamer_config_check_timing(const struct streamer_config *c, const char *origin, int target,
                                 double shortest_window, char *err, size_t errlen)
{
    double need = (double)STATION_MIN_TARGETS * target;
    if (shortest_window < need)
        return err_set(err, errlen, "%s: key \"window_segments\" is %d: where the running order has its "
                       "shortest segments a playlist lists only %.3f s, under %d target durations (%.0f s) that "
                       "players need; raise it", origin, c->window_segments, shortest_window,
                       STATION_MIN_TARGETS, need);
    /* The oldest playlist a player may hold: the last one published just
     * before the next is due, kept by a gateway for the record's TTL. */
    double age = (double)c->publish_every_segments * target + c->ipns_ttl_seconds;
    double tolerance =
        need + station_published_delay((size_t)c->window_segments, c->listen_delay_seconds, target);
    if (age > tolerance)
        return err_set(err, errlen, "%s: keys \"publish_every_segments\" (%d) and \"ipns_ttl_seconds\" (%g) "
                       "let a playlist be %.0f s old when players read it, more than the %.0f s they play behind "
                       "its live edge (%d target durations of %d s plus listen_delay_seconds): they would stall",
                       origin, c->publish_every_segments, c->ipns_ttl_seconds, age, tolerance,
                       STATION_MIN_TARGETS, target);
    return 0;
}
