#include "playlist_check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hm_playlist_memory_free(struct hm_playlist_memory *mem)
{
    free(mem->newest_uri);
    free(mem->age_at);
    free(mem->age);
    memset(mem, 0, sizeof *mem);
}

double hm_segment_pdt(const struct m3u8_playlist *pl, size_t i)
{
    double carried = 0;
    for (size_t k = i + 1; k-- > 0;) {
        if (isfinite(pl->segs[k].pdt))
            return pl->segs[k].pdt + carried;
        if (k > 0)
            carried += pl->segs[k - 1].duration;
    }
    return NAN;
}

static void check_durations(const struct m3u8_playlist *pl, int target, struct hm_problems *probs)
{
    size_t zero = 0, over = 0, first_zero = 0, first_over = 0;
    for (size_t i = 0; i < pl->nsegs; i++) {
        const struct m3u8_segment *s = &pl->segs[i];
        if (!(s->duration > 0) && zero++ == 0)
            first_zero = i;
        /* RFC 8216 4.3.3.1: each EXTINF rounded to the nearest integer
         * must not exceed the target duration; players size buffers on it. */
        if (target > 0 && lround(s->duration) > target && over++ == 0)
            first_over = i;
    }
    if (zero)
        hm_problem_add(probs, HM_EXTINF,
                       "%zu segment(s) have EXTINF 0, first at media sequence %lld: players "
                       "skip or stall on them; check the streamer's segment durations",
                       zero, (long long)pl->segs[first_zero].seq);
    if (over)
        hm_problem_add(probs, HM_EXTINF,
                       "%zu segment(s) are longer than the target duration %d s, first at media "
                       "sequence %lld (EXTINF %.3f): the streamer's target duration is too small",
                       over, target, (long long)pl->segs[first_over].seq,
                       pl->segs[first_over].duration);
}

static size_t check_discontinuities(const struct m3u8_playlist *pl, double tol,
                                    struct hm_problems *probs)
{
    size_t count = 0, missing = 0, first = 0;
    double first_jump = 0;
    double prev_pdt = NAN;
    for (size_t i = 0; i < pl->nsegs; i++) {
        const struct m3u8_segment *s = &pl->segs[i];
        count += s->discontinuity != 0;
        double expected = i > 0 && isfinite(prev_pdt) ? prev_pdt + pl->segs[i - 1].duration : NAN;
        if (isfinite(s->pdt) && isfinite(expected)) {
            double jump = s->pdt - expected;
            if (fabs(jump) > tol && !s->discontinuity && missing++ == 0) {
                first = i;
                first_jump = jump;
            }
        }
        prev_pdt = isfinite(s->pdt) ? s->pdt : expected;
    }
    if (missing)
        hm_problem_add(probs, HM_DISCONTINUITY,
                       "%zu date-time jump(s) without EXT-X-DISCONTINUITY, first %+.3f s before "
                       "media sequence %lld: players lose sync there",
                       missing, first_jump, (long long)pl->segs[first].seq);
    return count;
}

/* The playlist moves forward when its newest segment does: while the
 * streamer's window fills up, EXT-X-MEDIA-SEQUENCE (the oldest segment)
 * rightly stays put. Neither number may ever go back. */
static void check_sequence(const struct m3u8_playlist *pl, double mono, double stale_after,
                           struct hm_playlist_memory *mem, struct hm_playlist_facts *f,
                           struct hm_problems *probs)
{
    f->sequence_advanced = -1;
    f->unchanged_for = 0;
    int64_t newest = f->newest_seq;
    if (!mem->valid) {
        mem->changed_at = mono;
        return;
    }
    if (pl->media_sequence < mem->media_sequence || newest < mem->newest_seq) {
        hm_problem_add(probs, HM_SEQUENCE_BACK,
                       "media sequence went back from %lld..%lld to %lld..%lld: players stop or "
                       "replay; the gateway serves an older playlist or the streamer lost its state",
                       (long long)mem->media_sequence, (long long)mem->newest_seq,
                       (long long)pl->media_sequence, (long long)newest);
        f->sequence_advanced = 0;
        mem->changed_at = mono;
    } else if (newest > mem->newest_seq) {
        f->sequence_advanced = 1;
        mem->changed_at = mono;
    } else {
        f->sequence_advanced = 0;
        f->unchanged_for = mono - mem->changed_at;
        if (stale_after > 0 && f->unchanged_for > stale_after)
            hm_problem_add(probs, HM_SEQUENCE_STUCK,
                           "no new segment for %.1f s (newest media sequence %lld, limit %.1f s): the "
                           "playlist is not being republished or this gateway caches it too long",
                           f->unchanged_for, (long long)newest, stale_after);
    }
    /* The same sequence number must name the same segment in every
     * playlist ever published, or players splice the wrong audio. */
    if (mem->newest_uri && mem->newest_seq >= pl->media_sequence && mem->newest_seq <= newest) {
        const char *now_uri = pl->segs[mem->newest_seq - pl->media_sequence].uri;
        if (strcmp(now_uri, mem->newest_uri) != 0)
            hm_problem_add(probs, HM_SEQUENCE_REMAPPED,
                           "media sequence %lld was %.120s last round and is %.120s now",
                           (long long)mem->newest_seq, mem->newest_uri, now_uri);
    }
}

static void remember(const struct m3u8_playlist *pl, struct hm_playlist_memory *mem)
{
    mem->valid = 1;
    mem->media_sequence = pl->media_sequence;
    mem->target_duration = pl->target_duration;
    free(mem->newest_uri);
    mem->newest_uri = NULL;
    if (pl->nsegs) {
        mem->newest_seq = pl->segs[pl->nsegs - 1].seq;
        mem->newest_uri = strdup(pl->segs[pl->nsegs - 1].uri);
    }
}

/* The largest age of the last window seconds, this round's included, so
 * an operator can size listen_delay_seconds from what a gateway served.
 * Out of memory only shortens the history. */
static double note_age(struct hm_playlist_memory *mem, double mono, double age, double window)
{
    size_t keep = 0;
    for (size_t i = 0; i < mem->age_n; i++) {
        if (mono - mem->age_at[i] <= window) {
            mem->age_at[keep] = mem->age_at[i];
            mem->age[keep++] = mem->age[i];
        }
    }
    mem->age_n = keep;
    if (mem->age_n == mem->age_cap) {
        size_t cap = mem->age_cap ? 2 * mem->age_cap : 16;
        double *at = realloc(mem->age_at, cap * sizeof *at);
        if (at)
            mem->age_at = at;
        double *v = at ? realloc(mem->age, cap * sizeof *v) : NULL;
        if (v) {
            mem->age = v;
            mem->age_cap = cap;
        }
    }
    if (mem->age_n < mem->age_cap) {
        mem->age_at[mem->age_n] = mono;
        mem->age[mem->age_n++] = age;
    }
    double worst = age;
    for (size_t i = 0; i < mem->age_n; i++)
        worst = fmax(worst, mem->age[i]);
    return worst;
}

void hm_playlist_check(const struct m3u8_playlist *pl, double now, double mono,
                       const struct hm_playlist_limits *lim, struct hm_playlist_memory *mem,
                       struct hm_playlist_facts *f, struct hm_problems *probs)
{
    memset(f, 0, sizeof *f);
    f->media_sequence = pl->media_sequence;
    f->target_duration = pl->target_duration;
    f->nsegs = pl->nsegs;
    f->newest_pdt = NAN;
    f->age = NAN;
    f->age_max = NAN;
    f->listen_delay = pl->has_start && pl->start_offset < 0 ? -pl->start_offset : 0;
    f->sequence_advanced = -1;
    f->newest_seq = pl->nsegs ? pl->segs[pl->nsegs - 1].seq : pl->media_sequence - 1;

    if (pl->endlist)
        hm_problem_add(probs, HM_NOT_LIVE,
                       "playlist ends with EXT-X-ENDLIST: players treat the station as finished");
    if (pl->has_playlist_type)
        hm_problem_add(probs, HM_PLAYLIST_TYPE,
                       "playlist carries EXT-X-PLAYLIST-TYPE, which a sliding live window must not");
    if (pl->nsegs == 0) {
        hm_problem_add(probs, HM_NOT_LIVE, "playlist lists no segments: nothing to play");
        return;
    }

    int target = pl->target_duration;
    if (target < 0)
        hm_problem_add(probs, HM_TARGET_DURATION,
                       "no EXT-X-TARGETDURATION: players cannot pace their reloads");
    else if (target == 0)
        hm_problem_add(probs, HM_TARGET_DURATION, "EXT-X-TARGETDURATION is 0");
    if (mem->valid && target != mem->target_duration)
        hm_problem_add(probs, HM_TARGET_DURATION,
                       "EXT-X-TARGETDURATION changed from %d to %d; it must stay constant",
                       mem->target_duration, target);
    check_durations(pl, target, probs);
    f->discontinuities = check_discontinuities(pl, lim->jump_tolerance, probs);

    /* Without a usable target the longest segment paces the stream. */
    double pace = target > 0 ? target : 0;
    for (size_t i = 0; pace == 0 && i < pl->nsegs; i++)
        pace = fmax(pace, ceil(pl->segs[i].duration));
    /* Listeners play listen_delay behind air: a playlist that old still
     * lists what they play next, so only an older one leaves them stalled. */
    f->stale_after = fmax(lim->stale_target_durations * pace, f->listen_delay);

    f->newest_pdt = hm_segment_pdt(pl, pl->nsegs - 1);
    if (!isfinite(f->newest_pdt)) {
        hm_problem_add(probs, HM_NO_DATE_TIME,
                       "no EXT-X-PROGRAM-DATE-TIME: freshness is judged by the media sequence only");
    } else {
        f->age = now - f->newest_pdt;
        f->age_max = note_age(mem, mono, f->age, lim->age_window);
        if (f->age > f->stale_after)
            hm_problem_add(probs, HM_STALE,
                           "playlist stale: newest segment (media sequence %lld) aired %.1f s ago, "
                           "limit %.1f s (%g target durations, or the listen delay the playlist "
                           "publishes); is radio-streamer running and are its IPNS publishes "
                           "reaching this gateway?",
                           (long long)f->newest_seq, f->age, f->stale_after,
                           lim->stale_target_durations);
        else if (-f->age > f->stale_after)
            hm_problem_add(probs, HM_FUTURE,
                           "newest segment is dated %.1f s in the future: the streamer's clock or "
                           "this machine's is wrong (check NTP)", -f->age);
    }
    check_sequence(pl, mono, f->stale_after, mem, f, probs);
    remember(pl, mem);
}
