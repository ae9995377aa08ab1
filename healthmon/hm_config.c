#include "hm_config.h"

#include "atomic.h"
#include "err.h"
#include "http_server.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define K(name, type, def, lo, hi, choices, doc) \
    {#name, type, offsetof(struct hm_config, name), def, lo, hi, choices, doc}

const struct cfg_key hm_config_keys[] = {
    K(ipns_name, CFG_STRING, "\"\"", 0, 0, NULL,
      "IPNS name of the station (k51...); empty: read `ipns_name` from the streamer's "
      "`<state_dir>/status.json` every round"),
    K(playlist_path, CFG_STRING, "\"\"", 0, 0, NULL,
      "Path of the playlist inside the name when the streamer publishes a directory "
      "(e.g. `/live.m3u8`); empty: the name itself is the playlist"),
    K(state_dir, CFG_STRING, "\"state\"", 0, 0, NULL,
      "The streamer's state directory (holds status.json)"),
    K(local_gateway, CFG_STRING, "\"http://127.0.0.1:8080\"", 0, 0, NULL,
      "The station's own IPFS node's path gateway; its failures make the station down"),
    K(local_timeout_seconds, CFG_NUMBER, "5", 0.1, 600, NULL,
      "Time limit of one request to the local gateway"),
    K(public_gateways, CFG_STRING_LIST, "[\"https://ipfs.io\", \"https://dweb.link\"]", 0, 0,
      NULL, "Public gateways listeners use; their failures make the station degraded"),
    K(public_timeout_seconds, CFG_NUMBER, "20", 0.1, 600, NULL,
      "Time limit of one request to a public gateway"),
    K(slow_fraction, CFG_NUMBER, "0.5", 0.05, 1, NULL,
      "A playlist fetch taking longer than this fraction of its time limit is reported slow"),
    K(max_redirects, CFG_INT, "5", 0, 50, NULL,
      "Redirects followed per request (subdomain gateways redirect /ipns/ paths)"),
    K(max_playlist_kib, CFG_INT, "1024", 1, 4096, NULL,
      "A playlist answer longer than this many KiB is refused as garbage"),
    K(max_segment_kib, CFG_INT, "16384", 64, 262144, NULL,
      "A segment answer longer than this many KiB is refused as garbage"),
    K(interval_seconds, CFG_NUMBER, "10", 0.5, 3600, NULL, "Time between the starts of two rounds"),
    K(stale_target_durations, CFG_NUMBER, "3", 1, 100, NULL,
      "Stale when the newest EXT-X-PROGRAM-DATE-TIME is older than this many target durations "
      "(players stall after about three)"),
    K(playlist_age_window_seconds, CFG_NUMBER, "3600", 1, 604800, NULL,
      "playlist_age_max_seconds is the largest playlist age a gateway served within this many seconds: "
      "size the streamer's listen_delay_seconds above it"),
    K(date_time_jump_tolerance_seconds, CFG_NUMBER, "0.5", 0.001, 60, NULL,
      "A gap or overlap between one segment's date-time plus EXTINF and the next one's larger "
      "than this must carry EXT-X-DISCONTINUITY"),
    K(true_peak, CFG_BOOL, "false", 0, 0, NULL,
      "Also measure true peak (4x oversampled, BS.1770); with libebur128's interpolator it "
      "about triples a round's CPU cost"),
    K(short_term_step_seconds, CFG_NUMBER, "0.5", 0.1, 3, NULL,
      "How often short-term loudness is read for the silence trace and its min/max; "
      "EBU meters display it every 0.1 s, coarser costs less CPU"),
    K(silence_floor_lufs, CFG_NUMBER, "-50", -120, 0, NULL,
      "Short-term (3 s) loudness below this counts as silence"),
    K(short_audio_tolerance_seconds, CFG_NUMBER, "0.1", 0.001, 60, NULL,
      "A segment decoding to this much less audio than its EXTINF says is reported: players that "
      "place segments by the playlist play a gap, those going by timestamps drift off the date-times"),
    K(silence_hold_seconds, CFG_NUMBER, "5", 0.5, 3600, NULL,
      "Silence lasting at least this long in the measured audio is dead air"),
    K(loudness_target_lufs, CFG_NUMBER, "-16", -40, -5, NULL,
      "The station's loudness target (setup's `loudness_target_lufs`)"),
    K(loudness_tolerance_lu, CFG_NUMBER, "4", 0.5, 40, NULL,
      "Drift from the target beyond this, averaged over `loudness_drift_rounds`, is reported"),
    K(loudness_drift_rounds, CFG_INT, "6", 1, 10000, NULL,
      "Rounds with new audio whose loudness is averaged (energy mean) before judging drift"),
    K(clip_level_dbfs, CFG_NUMBER, "-0.1", -20, 6, NULL,
      "A decoded sample at or above this level is at full scale"),
    K(clip_run_samples, CFG_INT, "3", 1, 1000, NULL,
      "This many consecutive full-scale samples in one channel are one clip"),
    K(history_rounds, CFG_INT, "60", 1, 100000, NULL, "Recent rounds kept in the health JSON"),
    K(listen, CFG_STRING, "\"127.0.0.1:8091\"", 0, 0, NULL,
      "HTTP address for GET /health and /metrics (host:port, [v6]:port, :port for all); "
      "empty: no HTTP server"),
    K(cors_allow_origin, CFG_STRING, "\"*\"", 0, 0, NULL,
      "Access-Control-Allow-Origin sent with every answer, so a dashboard page can read it"),
    K(http_max_connections, CFG_INT, "32", 1, 10000, NULL, "Concurrent HTTP connections served"),
    K(http_connection_timeout_seconds, CFG_NUMBER, "10", 1, 3600, NULL,
      "An idle HTTP connection is closed after this"),
    K(output_file, CFG_STRING, "\"state/health.json\"", 0, 0, NULL,
      "health.json written atomically after every round; empty: none"),
    K(log_level, CFG_STRING, "\"info\"", 0, 0, "debug|info|notice|warn|error", "Lowest level logged"),
};
const size_t hm_config_nkeys = sizeof hm_config_keys / sizeof hm_config_keys[0];

static int check_gateway(const char *url, const char *key, const char *origin, char *err,
                         size_t errlen)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return err_set(err, errlen, "%s: key \"%s\": gateway \"%s\" must start with http:// or https://",
                       origin, key, url);
    if (strlen(url) > 1024 || strpbrk(url, " \t\r\n?#"))
        return err_set(err, errlen,
                       "%s: key \"%s\": gateway \"%s\" must be a base URL without spaces, query or fragment",
                       origin, key, url);
    return 0;
}

/* The name goes into a URL path: keep it to what IPNS names and DNSLink
 * domains are made of. */
static int name_ok(const char *s)
{
    if (!*s || strlen(s) >= HM_NAME_MAX)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '-' || *s == '_'))
            return 0;
    return 1;
}

int hm_config_check(const struct hm_config *c, const char *origin, char *err, size_t errlen)
{
    if (check_gateway(c->local_gateway, "local_gateway", origin, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < c->public_gateways.n; i++)
        if (check_gateway(c->public_gateways.v[i], "public_gateways", origin, err, errlen) != 0)
            return -1;
    if (c->ipns_name[0] && !name_ok(c->ipns_name))
        return err_set(err, errlen,
                       "%s: key \"ipns_name\" is \"%s\", not an IPNS name (letters, digits, . - _)",
                       origin, c->ipns_name);
    if (c->playlist_path[0] &&
        (c->playlist_path[0] != '/' || strlen(c->playlist_path) > 512 ||
         strpbrk(c->playlist_path, " \t\r\n?#") || strstr(c->playlist_path, "/../")))
        return err_set(err, errlen, "%s: key \"playlist_path\" is \"%s\", must be a path starting "
                       "with / without spaces, query or ..", origin, c->playlist_path);
    if (!c->ipns_name[0] && !c->state_dir[0])
        return err_set(err, errlen, "%s: keys \"ipns_name\" and \"state_dir\" are both empty: "
                       "nothing says which station to listen to", origin);
    if (c->listen[0]) {
        char host[256];
        int port;
        if (http_parse_listen(c->listen, host, sizeof host, &port, err, errlen) != 0)
            return err_prefix(err, errlen, "%s: key \"listen\"", origin);
    }
    return 0;
}

int hm_ipns_name(const struct hm_config *c, char *out, size_t outlen, char *err, size_t errlen)
{
    if (c->ipns_name[0]) {
        snprintf(out, outlen, "%s", c->ipns_name);
        return 0;
    }
    char path[4096];
    if (fs_path(path, sizeof path, err, errlen, "%s/status.json", c->state_dir) != 0)
        return -1;
    char *text = NULL;
    size_t len = 0;
    char why[ERR_MSG_MAX];
    if (atomic_read(path, HM_STATUS_MAX_BYTES, &text, &len, why, sizeof why) != 0)
        return err_set(err, errlen,
                       "no IPNS name: config ipns_name is empty and %s (is radio-streamer "
                       "running with state_dir \"%s\"?)", why, c->state_dir);
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    free(text);
    json_t *v = root ? json_object_get(root, "ipns_name") : NULL;
    int rc = 0;
    if (!root)
        rc = err_set(err, errlen, "no IPNS name: %s: line %d: %s", path, je.line, je.text);
    else if (!json_is_string(v) || !name_ok(json_string_value(v)))
        rc = err_set(err, errlen, "no IPNS name: %s has no usable \"ipns_name\" "
                     "(has the streamer published yet?)", path);
    else if (strlen(json_string_value(v)) >= outlen)
        rc = err_set(err, errlen, "no IPNS name: \"ipns_name\" in %s is too long", path);
    else
        snprintf(out, outlen, "%s", json_string_value(v));
    json_decref(root);
    return rc;
}
