#include "manifest.h"

#include "atomic.h"
#include "err.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST_MAX_SEGMENTS_PER_TRACK 1000000
#define MANIFEST_MAX_TRACKS 10000000
/* Bounds on artwork entries another program may write: a few renderings
 * of a picture no screen needs larger. */
#define MANIFEST_MAX_ARTWORK 16
#define MANIFEST_MAX_ARTWORK_PX 16384

void manifest_fingerprint(const struct manifest_encoding *e, char out[65])
{
    char canon[512];
    int n = snprintf(canon, sizeof canon,
                     "v%d aac-lc rate=%d channels=%d bitrate=%d segment=%.6f normalize=%d "
                     "cut=whole-frames tail=%.6f",
                     MANIFEST_VERSION, e->sample_rate, e->channels, e->bitrate,
                     e->segment_seconds, e->normalize, e->min_tail_seconds);
    if (e->normalize)
        snprintf(canon + n, sizeof canon - (size_t)n, " target=%.3f true_peak=%.3f",
                 e->target_lufs, e->true_peak_dbtp);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)canon, strlen(canon));
    sodium_bin2hex(out, 65, h, sizeof h);
}

void manifest_artwork_free(struct manifest_artwork *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++)
        free(a[i].file);
    free(a);
}

void manifest_artwork_source_free(struct manifest_artwork_source *s)
{
    free(s->path);
    free(s->error);
    memset(s, 0, sizeof *s);
}

const struct manifest_artwork *manifest_artwork_pick(const struct manifest_track *t, int max_size)
{
    const struct manifest_artwork *best = NULL;
    for (size_t i = 0; i < t->nart; i++)
        if (t->art[i].size <= max_size && (!best || t->art[i].size > best->size))
            best = &t->art[i];
    return best;
}

void manifest_track_free(struct manifest_track *t)
{
    manifest_artwork_free(t->art, t->nart);
    manifest_artwork_source_free(&t->art_src);
    free(t->id);
    free(t->source);
    free(t->artist);
    free(t->title);
    for (size_t i = 0; i < t->nsegs; i++)
        free(t->segs[i].file);
    free(t->segs);
    memset(t, 0, sizeof *t);
}

void manifest_free(struct manifest *m)
{
    for (size_t i = 0; i < m->nskipped; i++) {
        free(m->skipped[i].source);
        free(m->skipped[i].reason);
    }
    free(m->skipped);
    for (size_t i = 0; i < m->ntracks; i++)
        manifest_track_free(&m->tracks[i]);
    free(m->tracks);
    free(m->playlist_options);
    memset(m, 0, sizeof *m);
}

static int cmp_track(const void *a, const void *b)
{
    return strcmp(((const struct manifest_track *)a)->id, ((const struct manifest_track *)b)->id);
}

const struct manifest_skip *manifest_find_skip(const struct manifest *m, enum manifest_kind kind,
                                               const char *source, int64_t size, int64_t mtime_ns)
{
    for (size_t i = 0; i < m->nskipped; i++) {
        const struct manifest_skip *s = &m->skipped[i];
        if (s->kind == kind && s->size == size && s->mtime_ns == mtime_ns && strcmp(s->source, source) == 0)
            return s;
    }
    return NULL;
}

int manifest_add_skip(struct manifest *m, enum manifest_kind kind, const char *source,
                      int64_t size, int64_t mtime_ns, const char *reason)
{
    struct manifest_skip *nv = realloc(m->skipped, (m->nskipped + 1) * sizeof *nv);
    if (!nv)
        return -1;
    m->skipped = nv;
    struct manifest_skip *s = &nv[m->nskipped];
    s->source = strdup(source);
    s->reason = strdup(reason);
    s->kind = kind;
    s->size = size;
    s->mtime_ns = mtime_ns;
    if (!s->source || !s->reason) {
        free(s->source);
        free(s->reason);
        return -1;
    }
    m->nskipped++;
    return 0;
}

static int cmp_track_ptr(const void *a, const void *b)
{
    return strcmp((*(const struct manifest_track *const *)a)->id,
                  (*(const struct manifest_track *const *)b)->id);
}

void manifest_sort(struct manifest *m)
{
    if (m->ntracks > 1)
        qsort(m->tracks, m->ntracks, sizeof *m->tracks, cmp_track);
}

const struct manifest_track *manifest_find(const struct manifest *m, const char *id)
{
    size_t lo = 0, hi = m->ntracks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->tracks[mid].id, id);
        if (c == 0)
            return &m->tracks[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void manifest_track_label(const struct manifest_track *t, char *out, size_t outlen)
{
    if (t->artist && *t->artist)
        snprintf(out, outlen, "%s - %s", t->artist, t->title ? t->title : "");
    else
        snprintf(out, outlen, "%s", t->title && *t->title ? t->title : t->id);
}

/* Durations are stored rounded to the microsecond so the text is stable. */
static json_t *jreal(double v) { return json_real(round(v * 1e6) / 1e6); }

/* jansson's builders return NULL for a string that is not UTF-8 (and on
 * out of memory); each result is checked, and the first failure fails the
 * whole document instead of leaving a key out. The set helpers take the
 * reference to v whatever happens. */
static int set(json_t *o, const char *k, json_t *v)
{
    if (!o || !v) {
        json_decref(v);
        return -1;
    }
    return json_object_set_new(o, k, v) == 0 ? 0 : -1;
}

static int append(json_t *a, json_t *v)
{
    if (!a || !v) {
        json_decref(v);
        return -1;
    }
    return json_array_append_new(a, v) == 0 ? 0 : -1;
}

static json_t *track_json(const struct manifest_track *t)
{
    json_t *segs = json_array();
    int bad = 0;
    for (size_t i = 0; i < t->nsegs && !bad; i++) {
        const struct manifest_segment *s = &t->segs[i];
        bad |= append(segs, json_pack("{s:s, s:s, s:I, s:o, s:I}", "file", s->file, "cid", s->cid,
                                      "samples", (json_int_t)s->samples, "duration",
                                      jreal(s->duration), "bytes", (json_int_t)s->bytes));
    }
    json_t *o = json_object();
    bad |= set(o, "id", json_string(t->id));
    bad |= set(o, "kind", json_string(t->kind == MANIFEST_JINGLE ? "jingle" : "music"));
    bad |= set(o, "artist", json_string(t->artist ? t->artist : ""));
    bad |= set(o, "title", json_string(t->title ? t->title : ""));
    bad |= set(o, "samples", json_integer(t->samples));
    bad |= set(o, "duration", jreal(t->duration));
    if (t->source_samples > 0)
        bad |= set(o, "source_samples", json_integer(t->source_samples));
    bad |= set(o, "source", json_pack("{s:s, s:I, s:I, s:s}", "path", t->source, "size",
                                      (json_int_t)t->source_size, "mtime_ns",
                                      (json_int_t)t->source_mtime_ns, "sha256", t->source_sha256));
    bad |= set(o, "fingerprint", json_string(t->fingerprint));
    if (t->normalized)
        bad |= set(o, "loudness",
                   json_pack("{s:o, s:o, s:o}", "measured_lufs", jreal(t->measured_lufs),
                             "measured_true_peak_dbtp", jreal(t->measured_true_peak_dbtp),
                             "gain_db", jreal(t->gain_db)));
    bad |= set(o, "segments", segs);
    if (t->nart) {
        json_t *art = json_array();
        for (size_t i = 0; i < t->nart && !bad; i++) {
            const struct manifest_artwork *a = &t->art[i];
            bad |= append(art, json_pack("{s:i, s:i, s:i, s:s, s:I, s:s}", "size", a->size, "width", a->width,
                                         "height", a->height, "cid", a->cid, "bytes", (json_int_t)a->bytes,
                                         "file", a->file));
        }
        bad |= set(o, "artwork", art);
    }
    if (t->art_src.known) {
        const struct manifest_artwork_source *as = &t->art_src;
        json_t *src = json_pack("{s:s, s:s}", "from", as->from, "params", as->params);
        if (as->path)
            bad |= set(src, "path", json_string(as->path));
        if (strcmp(as->from, "file") == 0) {
            bad |= set(src, "size", json_integer(as->size));
            bad |= set(src, "mtime_ns", json_integer(as->mtime_ns));
            bad |= set(src, "sha256", json_string(as->sha256));
        }
        if (as->error)
            bad |= set(src, "error", json_string(as->error));
        bad |= set(o, "artwork_source", src);
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *encoding_json(const struct manifest_encoding *e)
{
    json_t *enc = json_object();
    int bad = set(enc, "codec", json_string("aac-lc"));
    bad |= set(enc, "container", json_string("mpegts"));
    bad |= set(enc, "sample_rate", json_integer(e->sample_rate));
    bad |= set(enc, "channels", json_integer(e->channels));
    bad |= set(enc, "bitrate", json_integer(e->bitrate));
    bad |= set(enc, "segment_seconds", jreal(e->segment_seconds));
    bad |= set(enc, "min_tail_seconds", jreal(e->min_tail_seconds));
    bad |= set(enc, "loudness", json_pack("{s:b, s:o, s:o}", "normalize", e->normalize,
                                          "target_lufs", jreal(e->target_lufs),
                                          "true_peak_dbtp", jreal(e->true_peak_dbtp)));
    bad |= set(enc, "fingerprint", json_string(e->fingerprint));
    if (bad) {
        json_decref(enc);
        return NULL;
    }
    return enc;
}

char *manifest_to_json(const struct manifest *m)
{
    json_t *root = json_object();
    int bad = set(root, "format", json_string(MANIFEST_FORMAT));
    bad |= set(root, "version", json_integer(MANIFEST_VERSION));
    bad |= set(root, "encoding", encoding_json(&m->enc));
    if (m->playlist_options)
        bad |= set(root, "playlist_options", json_loads(m->playlist_options, 0, NULL));
    /* Sorted by id whatever the array order, so equal content gives equal text. */
    const struct manifest_track **sorted = calloc(m->ntracks + 1, sizeof *sorted);
    if (!sorted) {
        json_decref(root);
        return NULL;
    }
    for (size_t i = 0; i < m->ntracks; i++)
        sorted[i] = &m->tracks[i];
    qsort(sorted, m->ntracks, sizeof *sorted, cmp_track_ptr);
    json_t *tracks = json_array();
    for (size_t i = 0; i < m->ntracks && !bad; i++)
        bad |= append(tracks, track_json(sorted[i]));
    free(sorted);
    bad |= set(root, "tracks", tracks);
    json_t *skipped = json_array();
    for (size_t i = 0; i < m->nskipped && !bad; i++) {
        const struct manifest_skip *k = &m->skipped[i];
        bad |= append(skipped, json_pack("{s:s, s:s, s:I, s:I, s:s}", "source", k->source, "kind",
                                         k->kind == MANIFEST_JINGLE ? "jingle" : "music", "size",
                                         (json_int_t)k->size, "mtime_ns", (json_int_t)k->mtime_ns,
                                         "reason", k->reason));
    }
    bad |= set(root, "skipped", skipped);
    char *text = bad ? NULL : json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    json_decref(root);
    if (!text)
        return NULL;
    /* A trailing newline keeps the file friendly to diff and cat. */
    size_t l = strlen(text);
    char *out = realloc(text, l + 2);
    if (!out) {
        free(text);
        return NULL;
    }
    out[l] = '\n';
    out[l + 1] = '\0';
    return out;
}

/* Parsing: everything read is checked, since another program may have
 * written the file. */

static int get_str(json_t *o, const char *k, char **out, const char *where, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v))
        return err_set(err, errlen, "%s: \"%s\" missing or not a string", where, k);
    if (!(*out = strdup(json_string_value(v))))
        return err_set(err, errlen, "out of memory");
    return 0;
}

static int get_int(json_t *o, const char *k, int64_t min, int64_t *out, const char *where, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v) || json_integer_value(v) < min)
        return err_set(err, errlen, "%s: \"%s\" missing or not an integer >= %lld", where, k, (long long)min);
    *out = json_integer_value(v);
    return 0;
}

/* For the encoding parameters, which are ints in memory: a value that does
 * not fit is refused rather than truncated. */
static int get_int_small(json_t *o, const char *k, int min, int *out, const char *where, char *err,
                         size_t errlen)
{
    int64_t v = 0;
    if (get_int(o, k, min, &v, where, err, errlen) != 0)
        return -1;
    if (v > INT_MAX)
        return err_set(err, errlen, "%s: \"%s\" is larger than %d", where, k, INT_MAX);
    *out = (int)v;
    return 0;
}

static int get_num(json_t *o, const char *k, double *out, const char *where, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return err_set(err, errlen, "%s: \"%s\" missing or not a number", where, k);
    *out = json_number_value(v);
    return 0;
}

static int copy_hex64(json_t *o, const char *k, char out[65], const char *where, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v) || strlen(json_string_value(v)) != 64)
        return err_set(err, errlen, "%s: \"%s\" must be 64 hex digits", where, k);
    memcpy(out, json_string_value(v), 65);
    return 0;
}

static int parse_segment(json_t *js, struct manifest_segment *s, const char *where, char *err, size_t errlen)
{
    if (!json_is_object(js))
        return err_set(err, errlen, "%s: not an object", where);
    if (get_str(js, "file", &s->file, where, err, errlen) != 0)
        return -1;
    json_t *c = json_object_get(js, "cid");
    uint8_t bin[CID_MAX_BIN];
    if (!json_is_string(c) || cid_decode(json_string_value(c), bin, sizeof bin) < 0 ||
        cid_to_base32(json_string_value(c), s->cid, sizeof s->cid) != 0)
        return err_set(err, errlen, "%s: \"cid\" missing or not a CID", where);
    if (get_int(js, "samples", 1, &s->samples, where, err, errlen) != 0 ||
        get_num(js, "duration", &s->duration, where, err, errlen) != 0 ||
        get_int(js, "bytes", 1, &s->bytes, where, err, errlen) != 0)
        return -1;
    if (s->duration <= 0)
        return err_set(err, errlen, "%s: \"duration\" must be positive", where);
    if (strstr(s->file, "..") || s->file[0] == '/')
        return err_set(err, errlen, "%s: \"file\" must stay inside processed/", where);
    return 0;
}

static int art_bad(struct manifest *m, const char *where, const char *why)
{
    if (m->art_invalid++ == 0)
        snprintf(m->art_invalid_why, sizeof m->art_invalid_why, "%.180s: %s", where, why);
    return -1;
}

/* Artwork only decorates a track: an entry that does not hold up is
 * dropped (and counted), never a reason to refuse the manifest. */
static int parse_artwork_one(json_t *ja, struct manifest_artwork *a, struct manifest *m, const char *where)
{
    json_t *size = json_object_get(ja, "size"), *w = json_object_get(ja, "width");
    json_t *h = json_object_get(ja, "height"), *c = json_object_get(ja, "cid");
    json_t *bytes = json_object_get(ja, "bytes"), *file = json_object_get(ja, "file");
    uint8_t bin[CID_MAX_BIN];
    if (!json_is_integer(size) || !json_is_integer(w) || !json_is_integer(h) ||
        json_integer_value(size) < 1 || json_integer_value(size) > MANIFEST_MAX_ARTWORK_PX ||
        json_integer_value(w) < 1 || json_integer_value(w) > json_integer_value(size) ||
        json_integer_value(h) < 1 || json_integer_value(h) > json_integer_value(size))
        return art_bad(m, where, "\"size\", \"width\" or \"height\" missing or out of range");
    if (!json_is_string(c) || cid_decode(json_string_value(c), bin, sizeof bin) < 0 ||
        cid_to_base32(json_string_value(c), a->cid, sizeof a->cid) != 0)
        return art_bad(m, where, "\"cid\" missing or not a CID");
    if (!json_is_integer(bytes) || json_integer_value(bytes) < 1)
        return art_bad(m, where, "\"bytes\" missing or not a positive integer");
    if (!json_is_string(file) || strstr(json_string_value(file), "..") || json_string_value(file)[0] == '/' ||
        !json_string_value(file)[0])
        return art_bad(m, where, "\"file\" missing or outside processed/");
    if (!(a->file = strdup(json_string_value(file))))
        return -2;
    a->size = (int)json_integer_value(size);
    a->width = (int)json_integer_value(w);
    a->height = (int)json_integer_value(h);
    a->bytes = json_integer_value(bytes);
    return 0;
}

static int parse_artwork(json_t *jt, struct manifest_track *t, struct manifest *m, const char *where)
{
    json_t *art = json_object_get(jt, "artwork");
    if (art && (!json_is_array(art) || json_array_size(art) > MANIFEST_MAX_ARTWORK)) {
        art_bad(m, where, "\"artwork\" is not a short list");
        art = NULL;
    }
    if (art && json_array_size(art)) {
        if (!(t->art = calloc(json_array_size(art), sizeof *t->art)))
            return -1;
        for (size_t i = 0; i < json_array_size(art); i++) {
            int rc = parse_artwork_one(json_array_get(art, i), &t->art[t->nart], m, where);
            if (rc == -2)
                return -1;
            if (rc == 0)
                t->nart++;
        }
    }
    json_t *src = json_object_get(jt, "artwork_source");
    if (!src)
        return 0;
    json_t *from = json_object_get(src, "from"), *params = json_object_get(src, "params");
    json_t *path = json_object_get(src, "path"), *error = json_object_get(src, "error");
    struct manifest_artwork_source *as = &t->art_src;
    int file = json_is_string(from) && strcmp(json_string_value(from), "file") == 0;
    if (!json_is_string(from) || (!file && strcmp(json_string_value(from), "embedded") != 0 &&
                                  strcmp(json_string_value(from), "none") != 0) ||
        !json_is_string(params) || strlen(json_string_value(params)) != 64 ||
        (error && !json_is_string(error)) || (file && (!json_is_string(path) || strchr(json_string_value(path), '/')))) {
        art_bad(m, where, "\"artwork_source\" is not valid");
        return 0;
    }
    char why[ERR_MSG_MAX];
    if (file && (get_int(src, "size", 0, &as->size, where, why, sizeof why) != 0 ||
                 get_int(src, "mtime_ns", INT64_MIN, &as->mtime_ns, where, why, sizeof why) != 0 ||
                 copy_hex64(src, "sha256", as->sha256, where, why, sizeof why) != 0)) {
        art_bad(m, where, why);
        return 0;
    }
    snprintf(as->from, sizeof as->from, "%s", json_string_value(from));
    memcpy(as->params, json_string_value(params), 65);
    if ((file && !(as->path = strdup(json_string_value(path)))) ||
        (error && !(as->error = strdup(json_string_value(error)))))
        return -1;
    as->known = 1;
    return 0;
}

static int parse_track(json_t *jt, struct manifest_track *t, struct manifest *m, const char *origin, size_t idx,
                       char *err, size_t errlen)
{
    char where[256];
    snprintf(where, sizeof where, "%s: track %zu", origin, idx + 1);
    if (!json_is_object(jt))
        return err_set(err, errlen, "%s: not an object", where);
    if (get_str(jt, "id", &t->id, where, err, errlen) != 0)
        return -1;
    snprintf(where, sizeof where, "%s: track \"%.120s\"", origin, t->id);
    json_t *kind = json_object_get(jt, "kind");
    if (!json_is_string(kind) || (strcmp(json_string_value(kind), "music") != 0 &&
                                  strcmp(json_string_value(kind), "jingle") != 0))
        return err_set(err, errlen, "%s: \"kind\" must be \"music\" or \"jingle\"", where);
    t->kind = strcmp(json_string_value(kind), "jingle") == 0 ? MANIFEST_JINGLE : MANIFEST_MUSIC;
    if (get_str(jt, "artist", &t->artist, where, err, errlen) != 0 ||
        get_str(jt, "title", &t->title, where, err, errlen) != 0 ||
        get_int(jt, "samples", 1, &t->samples, where, err, errlen) != 0 ||
        get_num(jt, "duration", &t->duration, where, err, errlen) != 0 ||
        copy_hex64(jt, "fingerprint", t->fingerprint, where, err, errlen) != 0)
        return -1;
    /* Older manifests lack it; it is only reported, never relied on. */
    if (json_object_get(jt, "source_samples") &&
        get_int(jt, "source_samples", 1, &t->source_samples, where, err, errlen) != 0)
        return -1;
    json_t *src = json_object_get(jt, "source");
    if (!json_is_object(src))
        return err_set(err, errlen, "%s: \"source\" missing", where);
    if (get_str(src, "path", &t->source, where, err, errlen) != 0 ||
        get_int(src, "size", 0, &t->source_size, where, err, errlen) != 0 ||
        get_int(src, "mtime_ns", INT64_MIN, &t->source_mtime_ns, where, err, errlen) != 0 ||
        copy_hex64(src, "sha256", t->source_sha256, where, err, errlen) != 0)
        return -1;
    json_t *loud = json_object_get(jt, "loudness");
    if (json_is_object(loud)) {
        t->normalized = 1;
        if (get_num(loud, "measured_lufs", &t->measured_lufs, where, err, errlen) != 0 ||
            get_num(loud, "measured_true_peak_dbtp", &t->measured_true_peak_dbtp, where, err, errlen) != 0 ||
            get_num(loud, "gain_db", &t->gain_db, where, err, errlen) != 0)
            return -1;
    }
    json_t *segs = json_object_get(jt, "segments");
    if (!json_is_array(segs) || json_array_size(segs) == 0 ||
        json_array_size(segs) > MANIFEST_MAX_SEGMENTS_PER_TRACK)
        return err_set(err, errlen, "%s: \"segments\" must be a non-empty list", where);
    t->nsegs = json_array_size(segs);
    if (!(t->segs = calloc(t->nsegs, sizeof *t->segs)))
        return err_set(err, errlen, "out of memory");
    for (size_t i = 0; i < t->nsegs; i++) {
        char sw[320];
        snprintf(sw, sizeof sw, "%s segment %zu", where, i);
        if (parse_segment(json_array_get(segs, i), &t->segs[i], sw, err, errlen) != 0)
            return -1;
    }
    if (t->kind == MANIFEST_MUSIC && parse_artwork(jt, t, m, where) != 0)
        return err_set(err, errlen, "out of memory");
    return 0;
}

static int parse_encoding(json_t *je, struct manifest_encoding *e, const char *origin, char *err, size_t errlen)
{
    char where[256];
    snprintf(where, sizeof where, "%s: encoding", origin);
    if (!json_is_object(je))
        return err_set(err, errlen, "%s: missing", where);
    if (get_int_small(je, "sample_rate", 1, &e->sample_rate, where, err, errlen) != 0 ||
        get_int_small(je, "channels", 1, &e->channels, where, err, errlen) != 0 ||
        get_int_small(je, "bitrate", 1, &e->bitrate, where, err, errlen) != 0 ||
        get_num(je, "segment_seconds", &e->segment_seconds, where, err, errlen) != 0 ||
        copy_hex64(je, "fingerprint", e->fingerprint, where, err, errlen) != 0)
        return -1;
    if (json_object_get(je, "min_tail_seconds") &&
        get_num(je, "min_tail_seconds", &e->min_tail_seconds, where, err, errlen) != 0)
        return -1;
    json_t *loud = json_object_get(je, "loudness");
    if (json_is_object(loud)) {
        e->normalize = json_is_true(json_object_get(loud, "normalize"));
        if (get_num(loud, "target_lufs", &e->target_lufs, where, err, errlen) != 0 ||
            get_num(loud, "true_peak_dbtp", &e->true_peak_dbtp, where, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int manifest_parse(const char *json_text, const char *origin, struct manifest *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    json_error_t je;
    json_t *root = json_loads(json_text, 0, &je);
    if (!root)
        return err_set(err, errlen, "%s: line %d: %s", origin, je.line, je.text);
    int rc = -1;
    json_t *fmt = json_object_get(root, "format");
    json_t *ver = json_object_get(root, "version");
    json_t *tracks = json_object_get(root, "tracks");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), MANIFEST_FORMAT) != 0) {
        err_set(err, errlen, "%s: not an %s file", origin, MANIFEST_FORMAT);
        goto out;
    }
    if (!json_is_integer(ver) || json_integer_value(ver) != MANIFEST_VERSION) {
        err_set(err, errlen, "%s: unsupported manifest version", origin);
        goto out;
    }
    if (parse_encoding(json_object_get(root, "encoding"), &m->enc, origin, err, errlen) != 0)
        goto out;
    json_t *po = json_object_get(root, "playlist_options");
    if (po && !(m->playlist_options = json_dumps(po, JSON_COMPACT | JSON_SORT_KEYS))) {
        err_set(err, errlen, "out of memory");
        goto out;
    }
    if (!json_is_array(tracks) || json_array_size(tracks) > MANIFEST_MAX_TRACKS) {
        err_set(err, errlen, "%s: \"tracks\" must be a list", origin);
        goto out;
    }
    m->ntracks = json_array_size(tracks);
    if (m->ntracks && !(m->tracks = calloc(m->ntracks, sizeof *m->tracks))) {
        err_set(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < m->ntracks; i++)
        if (parse_track(json_array_get(tracks, i), &m->tracks[i], m, origin, i, err, errlen) != 0)
            goto out;
    /* Remembered failures only save work; an unreadable list is ignored. */
    json_t *sk = json_object_get(root, "skipped");
    for (size_t i = 0; json_is_array(sk) && i < json_array_size(sk); i++) {
        json_t *e = json_array_get(sk, i);
        json_t *src = json_object_get(e, "source"), *kind = json_object_get(e, "kind");
        json_t *size = json_object_get(e, "size"), *mt = json_object_get(e, "mtime_ns");
        json_t *why = json_object_get(e, "reason");
        if (json_is_string(src) && json_is_string(kind) && json_is_integer(size) &&
            json_is_integer(mt) && json_is_string(why) &&
            manifest_add_skip(m, strcmp(json_string_value(kind), "jingle") == 0 ? MANIFEST_JINGLE : MANIFEST_MUSIC,
                              json_string_value(src), json_integer_value(size),
                              json_integer_value(mt), json_string_value(why)) != 0) {
            err_set(err, errlen, "out of memory");
            goto out;
        }
    }
    manifest_sort(m);
    for (size_t i = 1; i < m->ntracks; i++)
        if (strcmp(m->tracks[i - 1].id, m->tracks[i].id) == 0) {
            err_set(err, errlen, "%s: track id \"%s\" appears twice", origin, m->tracks[i].id);
            goto out;
        }
    rc = 0;
out:
    json_decref(root);
    if (rc != 0)
        manifest_free(m);
    return rc;
}

int manifest_load(const char *path, struct manifest *m, char *err, size_t errlen)
{
    char *text = NULL;
    memset(m, 0, sizeof *m);
    if (atomic_read(path, MANIFEST_MAX_BYTES, &text, NULL, err, errlen) != 0)
        return -1;
    int rc = manifest_parse(text, path, m, err, errlen);
    free(text);
    return rc;
}
