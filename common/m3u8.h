/* HLS media playlists (RFC 8216): rendering the live playlist the streamer
 * publishes, and a bounded parser for playlists read back from gateways,
 * which are untrusted input. */
#ifndef RADIO_M3U8_H
#define RADIO_M3U8_H

#include <stddef.h>
#include <stdint.h>

#define M3U8_MAX_BYTES (4u << 20)
#define M3U8_MAX_LINE 8192
#define M3U8_MAX_SEGMENTS 100000
#define M3U8_TIME_LEN 32          /* "2026-11-21T01:02:03.456Z" + NUL, with room */

struct m3u8_segment {
    int64_t seq;                  /* media sequence number */
    double duration;              /* EXTINF seconds */
    char *uri;
    char *title;                  /* EXTINF title, may be empty */
    int discontinuity;            /* EXT-X-DISCONTINUITY precedes it */
    double pdt;                   /* EXT-X-PROGRAM-DATE-TIME, Unix seconds; NAN if none */
};

/* The class of the streamer's EXT-X-DATERANGE tags, one per track. */
#define M3U8_TRACK_CLASS "org.ipfs-radio.track"

/* The class of the one EXT-X-DATERANGE that announces the next track: a
 * START-DATE in the future, so a page can show what comes next. */
#define M3U8_NEXT_CLASS "org.ipfs-radio.next"

/* A track's time on air, rendered as EXT-X-DATERANGE (parsed back: ID and X-ARTWORK only). */
struct m3u8_daterange {
    int64_t first_seq;            /* the track's first media sequence number: its ID */
    double start;                 /* air time of that segment, Unix seconds */
    double duration;              /* the whole track's, seconds */
    char *title;
    char *artwork;                /* "/ipfs/<cid>" (X-ARTWORK), or NULL */
};

struct m3u8_playlist {
    int version;                  /* EXT-X-VERSION, 0 if absent */
    int target_duration;          /* EXT-X-TARGETDURATION, -1 if absent */
    int64_t media_sequence;       /* EXT-X-MEDIA-SEQUENCE (0 if absent) */
    int64_t discontinuity_sequence;
    int endlist;
    int has_playlist_type;
    int has_start;                /* EXT-X-START present */
    double start_offset;          /* its TIME-OFFSET, seconds (negative: from the end) */
    struct m3u8_segment *segs;
    size_t nsegs;
    struct m3u8_daterange *ranges;  /* rendered after the header tags; parsing reads back
                                     * only track ranges with X-ARTWORK (ID, artwork) */
    size_t nranges;
    struct m3u8_daterange *next;    /* the track after the newest segment's, or NULL */
};

/* Whether s may stand inside a quoted attribute value as it is: no '"',
 * no control characters (RFC 8216 4.2). */
int m3u8_attr_safe(const char *s);

/* Renders a live media playlist: no PLAYLIST-TYPE, no ENDLIST, the lowest
 * EXT-X-VERSION its tags need, PROGRAM-DATE-TIME on every segment. The
 * caller frees *out. Returns 0 or -1 (out of memory). */
int m3u8_render(const struct m3u8_playlist *pl, char **out, size_t *len);

/* Parses a media playlist; never trusts it: bounded sizes, counts and
 * numbers, any byte sequence is either accepted or refused with a reason. */
int m3u8_parse(const char *text, size_t len, struct m3u8_playlist *pl, char *err, size_t errlen);
void m3u8_free(struct m3u8_playlist *pl);

/* ISO 8601 UTC with milliseconds and Z: 2026-11-21T01:02:03.456Z. */
void m3u8_format_time(double unix_seconds, char out[M3U8_TIME_LEN]);
/* Accepts that form and offsets like +00:00 / -05:30. Returns 0 or -1. */
int m3u8_parse_time(const char *s, double *unix_seconds);

#endif
