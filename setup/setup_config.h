/* Everything setup can be told, with defaults, ranges and meanings. */
#ifndef RADIO_SETUP_CONFIG_H
#define RADIO_SETUP_CONFIG_H

#include <stddef.h>

#include "config.h"

struct setup_config {
    char *processed_dir;
    char *jingles_dir;
    char *playlist_config;
    char *page_dir;
    char *station_name;
    char *station_description;
    char *station_link;
    char *station_artwork;
    double segment_seconds;
    double min_tail_seconds;
    int bitrate_kbps;
    int sample_rate;
    int channels;
    int loudness_normalize;
    double loudness_target_lufs;
    double true_peak_ceiling_dbtp;
    double true_peak_check_margin_db;
    int true_peak_max_recuts;
    double damaged_max_seconds;
    int trim_silence;
    double silence_threshold_dbfs;
    double silence_min_seconds;
    double silent_track_fraction;
    char *silent_track_policy;
    int jingle_every;
    int jobs;
    char *ipfs_api;
    char *ipfs_auth_env;
    double ipfs_timeout_seconds;
    int ipfs_retries;
    double ipfs_retry_backoff_seconds;
    int ipfs_add_batch;
    int unpin_unreferenced;
    char *artwork_sizes;
    struct cfg_strlist artwork_files;
    int artwork_quality;
    int artwork_max_pixels;
    int artwork_max_bytes;
    struct cfg_strlist audio_extensions;
    char *progress;
    char *log_level;
};

struct playlist_config {
    char *source;
    struct cfg_strlist tracks;           /* empty: the whole folder */
    char *mode;
    int seed;
    int scan_subdirectories;
    struct cfg_strlist exclude;
    struct cfg_strlist jingles;          /* empty: every jingle, by file name */
    double station_id_every_minutes;     /* 0: no station IDs on the clock by interval */
    int station_id_top_of_hour;
    double station_id_top_before_seconds;
    double station_id_top_after_seconds;
    char *time_zone;                     /* of the day-parts and the top of the hour */
    char *dayparts;                      /* JSON text of the list; dayparts_config_parse reads it */
};

extern const struct cfg_key setup_config_keys[];
extern const size_t setup_config_nkeys;
extern const struct cfg_key playlist_config_keys[];
extern const size_t playlist_config_nkeys;

/* Smallest and largest artwork size a setting may ask for, in pixels. */
#define SETUP_ARTWORK_MIN_PX 16
#define SETUP_ARTWORK_MAX_PX 4096

/* Extra cross-key checks after the per-key ones. */
int setup_config_check(const struct setup_config *c, const char *origin, char *err, size_t errlen);
int playlist_config_check(const struct playlist_config *c, const char *origin, char *err, size_t errlen);

#endif
