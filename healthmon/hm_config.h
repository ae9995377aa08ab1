/* Everything the health monitor can be told, with defaults, ranges and
 * meanings (config/healthmon.config.json), and where the IPNS name comes
 * from when the config leaves it empty. */
#ifndef RADIO_HM_CONFIG_H
#define RADIO_HM_CONFIG_H

#include <stddef.h>

#include "config.h"

#define HM_NAME_MAX 256
#define HM_KIB 1024

/* status.json is a few hundred bytes; anything far larger is not it. */
#define HM_STATUS_MAX_BYTES (1u << 20)

struct hm_config {
    char *ipns_name;
    char *playlist_path;
    char *state_dir;
    char *local_gateway;
    double local_timeout_seconds;
    struct cfg_strlist public_gateways;
    double public_timeout_seconds;
    double slow_fraction;
    int max_redirects;
    int max_playlist_kib;
    int max_segment_kib;
    double interval_seconds;
    double stale_target_durations;
    double playlist_age_window_seconds;
    double date_time_jump_tolerance_seconds;
    int true_peak;
    double short_term_step_seconds;
    double silence_floor_lufs;
    double silence_hold_seconds;
    double short_audio_tolerance_seconds;
    double loudness_target_lufs;
    double loudness_tolerance_lu;
    int loudness_drift_rounds;
    double clip_level_dbfs;
    int clip_run_samples;
    int history_rounds;
    char *listen;
    char *cors_allow_origin;
    int http_max_connections;
    double http_connection_timeout_seconds;
    char *output_file;
    char *log_level;
};

extern const struct cfg_key hm_config_keys[];
extern const size_t hm_config_nkeys;

/* Cross-key checks after the per-key ones (URLs, the listen address). */
int hm_config_check(const struct hm_config *c, const char *origin, char *err, size_t errlen);

/* The IPNS name to listen to: the config's, or else ipns_name from the
 * streamer's <state_dir>/status.json (read again every round, since the
 * streamer may start after us). Returns 0 or -1 with a reason to act on. */
int hm_ipns_name(const struct hm_config *c, char *out, size_t outlen, char *err, size_t errlen);

#endif
