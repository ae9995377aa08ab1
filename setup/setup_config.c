#include "setup_config.h"

#include "artwork.h"
#include "dayparts_config.h"
#include "err.h"
#include "page.h"
#include "tz.h"

#include <stddef.h>
#include <string.h>

#define K(name, type, def, lo, hi, choices, doc) \
    {#name, type, offsetof(struct setup_config, name), def, lo, hi, choices, doc}

const struct cfg_key setup_config_keys[] = {
    K(processed_dir, CFG_STRING, "\"processed\"", 0, 0, NULL,
      "Output folder: manifest.json, playlist.m3u, segments/ (the streamer's input)"),
    K(jingles_dir, CFG_STRING, "\"jingles\"", 0, 0, NULL,
      "Folder of station jingles; missing or empty means music only"),
    K(playlist_config, CFG_STRING, "\"config/playlist.config.json\"", 0, 0, NULL,
      "Running-order config; its `source` key names the music folder"),
    K(page_dir, CFG_STRING, "\"web\"", 0, 0, NULL,
      "Listener page folder; its files are added to IPFS as one directory, recorded in "
      "processed/page.json. Empty: no page"),
    K(station_name, CFG_STRING, "\"IPFS radio\"", 0, 0, NULL,
      "The station's name: the listener page's heading and title, and its social preview (og:title)"),
    K(station_description, CFG_STRING, "\"\"", 0, 0, NULL,
      "One line about the station, under its name on the page and in its social preview "
      "(og:description)"),
    K(station_link, CFG_STRING, "\"\"", 0, 0, NULL,
      "The station's website, linked from the page; an http:// or https:// URL, or empty for none"),
    K(station_artwork, CFG_STRING, "\"\"", 0, 0, NULL,
      "An image file (png, jpg, jpeg, webp, gif) copied into the page: the station's picture, its "
      "social preview image, and the artwork shown for jingles and tracks without cover art. "
      "Empty: the page's own artwork.svg"),
    K(segment_seconds, CFG_NUMBER, "6", 1, 30,  NULL,
      "Target segment length; cut at AAC frame boundaries, averaging this exactly"),
    K(min_tail_seconds, CFG_NUMBER, "0.5", 0, 15, NULL,
      "A track's last segment shorter than this joins the one before (or borrows from it where "
      "the sum would round above the target duration); at most half of `segment_seconds`"),
    K(bitrate_kbps, CFG_INT, "128", 32, 320, NULL, "AAC-LC bitrate"),
    K(sample_rate, CFG_INT, "48000", 8000, 96000, NULL,
      "Station sample rate in Hz, one AAC supports (every input is resampled to it)"),
    K(channels, CFG_INT, "2", 1, 2, NULL, "Station channels: 1 mono, 2 stereo"),
    K(loudness_normalize, CFG_BOOL, "true", 0, 0, NULL,
      "Measure EBU R128 loudness per track and apply one gain"),
    K(loudness_target_lufs, CFG_NUMBER, "-16", -40, -5, NULL, "Integrated loudness target"),
    K(true_peak_ceiling_dbtp, CFG_NUMBER, "-1", -12, 0, NULL,
      "The gain never pushes a track's true peak above this"),
    K(true_peak_check_margin_db, CFG_NUMBER, "3", 0, 20, NULL,
      "A track whose planned true peak comes this close to the ceiling is decoded after encoding as "
      "a listener would, and cut again with less gain if the AAC went over the ceiling"),
    K(true_peak_max_recuts, CFG_INT, "3", 0, 10, NULL,
      "How often such a track is cut again at most (each time a whole encode); one still over "
      "after that is logged as a warning"),
    K(damaged_max_seconds, CFG_NUMBER, "2", 0, 3600, NULL,
      "A source whose damaged packets cost more audio than this is skipped; any damage is "
      "reported (file, decode errors, seconds lost) and makes the exit status 3"),
    K(trim_silence, CFG_BOOL, "true", 0, 0, NULL,
      "Cut leading and trailing silence (dead air) from every track, as cue points would"),
    K(silence_threshold_dbfs, CFG_NUMBER, "-60", -120, -20, NULL,
      "A moment is silent when every channel's sample is below this level (dBFS)"),
    K(silence_min_seconds, CFG_NUMBER, "0.5", 0, 60, NULL,
      "Silence at a track's start or end shorter than this is kept (a natural pause)"),
    K(silent_track_fraction, CFG_NUMBER, "0.5", 0, 1, NULL,
      "A track at least this share of which is silent is reported as mostly silence"),
    K(silent_track_policy, CFG_STRING, "\"report\"", 0, 0, "report|skip",
      "What happens to a mostly silent track: aired and reported (exit status 3), or skipped"),
    K(jingle_every, CFG_INT, "4", 1, 1000, NULL,
      "Music tracks between two jingles (the jingle cycle N)"),
    K(jobs, CFG_INT, "0", 0, 256, NULL, "Tracks processed in parallel; 0 means one per CPU core"),
    K(ipfs_api, CFG_STRING, "\"http://127.0.0.1:5001\"", 0, 0, NULL, "Kubo RPC API base URL"),
    K(ipfs_auth_env, CFG_STRING, "\"\"", 0, 0, NULL,
      "Name of an environment variable holding the API's Authorization header value"),
    K(ipfs_timeout_seconds, CFG_NUMBER, "120", 1, 3600, NULL, "Timeout of one RPC request"),
    K(ipfs_retries, CFG_INT, "4", 0, 100, NULL,
      "Retries of a request that failed in transport, with doubling backoff"),
    K(ipfs_retry_backoff_seconds, CFG_NUMBER, "0.5", 0.01, 60, NULL, "First retry delay"),
    K(ipfs_add_batch, CFG_INT, "64", 1, 10000, NULL, "Segment files per add request"),
    K(unpin_unreferenced, CFG_BOOL, "true", 0, 0, NULL,
      "After the new manifest is in place, unpin the segments the previous manifest named and "
      "the new one does not (removed or re-encoded tracks); their files are deleted either way"),
    K(artwork_sizes, CFG_STRING, "\"96,256,512\"", 0, 0, NULL,
      "Track artwork renderings: the longer side of each in pixels, comma-separated, ascending "
      "(16 to 4096); never larger than the picture itself. Empty: no track artwork"),
    K(artwork_files, CFG_STRING_LIST, "[\"cover\", \"folder\", \"front\"]", 0, 0, NULL,
      "Cover files beside a track that has no embedded picture, by name without extension "
      "(.jpg, .jpeg or .png; case-insensitive), the first found wins"),
    K(artwork_quality, CFG_INT, "3", 2, 31, NULL, "JPEG quantiser scale of the artwork: 2 best, 31 smallest"),
    K(artwork_max_pixels, CFG_INT, "36000000", 1, 1000000000, NULL,
      "A picture declaring more pixels (width x height) than this is refused before decoding; "
      "the track airs without artwork and is reported"),
    K(artwork_max_bytes, CFG_INT, "16777216", 1, 1073741824, NULL,
      "A picture (embedded or cover file) larger than this many bytes is refused the same way"),
    K(audio_extensions, CFG_STRING_LIST,
      "[\"mp3\", \"flac\", \"wav\", \"ogg\", \"oga\", \"opus\", \"m4a\", \"aac\", \"mp4\", \"wma\", "
      "\"aif\", \"aiff\", \"ape\", \"wv\", \"mka\", \"webm\", \"mpc\", \"ac3\", \"caf\"]",
      0, 0, NULL, "File extensions (case-insensitive) treated as audio; other files are ignored"),
    K(progress, CFG_STRING, "\"auto\"", 0, 0, "auto|bar|lines",
      "Progress display: a bar on a terminal (auto), always a bar, or one log line per track"),
    K(log_level, CFG_STRING, "\"info\"", 0, 0, "debug|info|notice|warn|error", "Lowest level logged"),
};
const size_t setup_config_nkeys = sizeof setup_config_keys / sizeof setup_config_keys[0];

#define P(name, type, def, lo, hi, choices, doc) \
    {#name, type, offsetof(struct playlist_config, name), def, lo, hi, choices, doc}

const struct cfg_key playlist_config_keys[] = {
    P(source, CFG_STRING, "\"music\"", 0, 0, NULL, "Music folder"),
    P(tracks, CFG_STRING_LIST, "[]", 0, 0, NULL,
      "Exactly these files play, in this order (paths relative to `source`, or bare file names "
      "found in any subfolder); a name may repeat; empty means the whole folder"),
    P(mode, CFG_STRING, "\"ordered\"", 0, 0, "ordered|alphabetical|shuffle",
      "`ordered`: as `tracks` lists them, or by path; `alphabetical`: by artist, then title "
      "(file name when untagged); `shuffle`: a permutation fixed by `seed`"),
    P(seed, CFG_INT, "0", 0, 2147483647, NULL,
      "Shuffle seed (SplitMix64 + Fisher-Yates): the same seed gives the same order on every "
      "machine; a new seed reshuffles without re-encoding"),
    P(scan_subdirectories, CFG_BOOL, "true", 0, 0, NULL, "Also take music from folders below `source`"),
    P(exclude, CFG_STRING_LIST, "[]", 0, 0, NULL,
      "Glob patterns (fnmatch) for music files or folders to leave out, matched against the path "
      "below `source` or the name alone"),
    P(jingles, CFG_STRING_LIST, "[]", 0, 0, NULL,
      "Jingle rotation order (paths relative to `jingles_dir`, or bare names); empty means every "
      "jingle, by file name"),
    P(station_id_every_minutes, CFG_NUMBER, "0", 0, 1440, NULL,
      "A station ID (the next jingle of the rotation) at least this often, inserted by the streamer at a "
      "track boundary when the running order has none in time; 0: only the order's own jingles"),
    P(station_id_top_of_hour, CFG_BOOL, "false", 0, 0, NULL,
      "Also a station ID near the top of every hour (in `time_zone`), at a track boundary in the window below"),
    P(station_id_top_before_seconds, CFG_NUMBER, "120", 0, 1800, NULL,
      "How long before hh:00 a track boundary counts as the top of the hour"),
    P(station_id_top_after_seconds, CFG_NUMBER, "120", 0, 1800, NULL,
      "How long after hh:00 a track boundary counts as the top of the hour"),
    P(time_zone, CFG_STRING, "\"UTC\"", 0, 0, NULL,
      "IANA time zone (`Europe/Berlin`) of the day-parts' times and of the station IDs' top of the hour; "
      "it must be in the machine's zoneinfo ($TZDIR or /usr/share/zoneinfo), except `UTC`"),
    P(dayparts, CFG_OBJECT_LIST, "[]", 0, 0, NULL,
      "Running orders for parts of the day or week (`name`, `days`, `start`, `end`, and `tracks`, `mode`, "
      "`seed`, `jingles` as above); outside them the main order plays. See "
      "[docs/playlist.md](docs/playlist.md#day-parts)"),
};
const size_t playlist_config_nkeys = sizeof playlist_config_keys / sizeof playlist_config_keys[0];

int setup_config_check(const struct setup_config *c, const char *origin, char *err, size_t errlen)
{
    static const int rates[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000};
    int ok = 0;
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        ok |= rates[i] == c->sample_rate;
    if (!ok)
        return err_set(err, errlen,
                       "%s: key \"sample_rate\" is %d, not a rate AAC supports (e.g. 44100, 48000)",
                       origin, c->sample_rate);
    if (2 * c->min_tail_seconds > c->segment_seconds)
        return err_set(err, errlen, "%s: key \"min_tail_seconds\" is %g, more than half of "
                       "segment_seconds (%g)", origin, c->min_tail_seconds, c->segment_seconds);
    if (!c->processed_dir[0])
        return err_set(err, errlen, "%s: key \"processed_dir\" must not be empty", origin);
    int sizes[ARTWORK_MAX_SIZES];
    size_t nsizes;
    char why[ERR_MSG_MAX];
    if (artwork_parse_sizes(c->artwork_sizes, SETUP_ARTWORK_MIN_PX, SETUP_ARTWORK_MAX_PX, sizes, &nsizes, why,
                            sizeof why) != 0)
        return err_set(err, errlen, "%s: key \"artwork_sizes\" is %s", origin, why);
    for (size_t i = 0; i < c->artwork_files.n; i++)
        if (!c->artwork_files.v[i][0] || strchr(c->artwork_files.v[i], '/'))
            return err_set(err, errlen, "%s: key \"artwork_files\" item %zu must be a file name without '/'",
                           origin, i + 1);
    struct page_identity id = {c->station_name, c->station_description, c->station_link, c->station_artwork};
    if (c->page_dir[0] && page_identity_check(&id, why, sizeof why) != 0)
        return err_set(err, errlen, "%s: %s", origin, why);
    for (size_t i = 0; i < c->audio_extensions.n; i++)
        if (!c->audio_extensions.v[i][0])
            return err_set(err, errlen, "%s: key \"audio_extensions\" has an empty entry", origin);
    return 0;
}

static int strlist_check(const struct cfg_strlist *l, const char *key, const char *origin, char *err,
                         size_t errlen)
{
    for (size_t i = 0; i < l->n; i++)
        if (!l->v[i][0])
            return err_set(err, errlen, "%s: key \"%s\" item %zu is empty", origin, key, i + 1);
    return 0;
}

int playlist_config_check(const struct playlist_config *c, const char *origin, char *err, size_t errlen)
{
    if (!c->source[0])
        return err_set(err, errlen, "%s: key \"source\" must not be empty", origin);
    if (strlist_check(&c->tracks, "tracks", origin, err, errlen) != 0 ||
        strlist_check(&c->exclude, "exclude", origin, err, errlen) != 0 ||
        strlist_check(&c->jingles, "jingles", origin, err, errlen) != 0)
        return -1;
    /* Read as the streamer will read it: a zone setup accepts airs. */
    char why[ERR_MSG_MAX];
    struct tz *zone;
    if (tz_load(c->time_zone, &zone, why, sizeof why) != 0)
        return err_set(err, errlen, "%s: key \"time_zone\" is \"%s\": %s", origin, c->time_zone, why);
    tz_free(zone);
    struct dayparts_config parts;
    if (dayparts_config_parse(c->dayparts, origin, &parts, err, errlen) != 0)
        return -1;
    dayparts_config_free(&parts);
    return 0;
}
