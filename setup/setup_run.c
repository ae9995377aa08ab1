#include "setup_run.h"

#include "artwork_track.h"
#include "atomic.h"
#include "cache.h"
#include "dayparts_config.h"
#include "dayparts_file.h"
#include "err.h"
#include "ipfs.h"
#include "log.h"
#include "manifest.h"
#include "order_rules.h"
#include "playlist.h"
#include "progress.h"
#include "scan.h"
#include "transcode.h"
#include "upload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bounds on what is only ever a handful: versions of one track side by
 * side (old and new), and folder depth below processed/segments/. */
#define SETUP_MAX_VERSIONS 1000
#define SETUP_MAX_SEGMENT_DEPTH 4

struct job {
    const struct scan_file *src;
    struct manifest_track *old;      /* in the previous manifest, or NULL */
    struct cache_decision dec;
    int stale;
    int ok;                          /* has a usable track (in `out` if stale) */
    int skipped;                     /* unusable: why says so */
    int damaged;                     /* usable, but decode errors cost some audio */
    int keep_old;                    /* skipped, but the previous version still airs */
    int silent;                      /* airs, but is mostly silence */
    int by_policy;                   /* skipped by a setting, not for its content: not remembered */
    char version[32];                /* the folder under segments/<id>/ its new segments go to */
    struct manifest_track out;
    char why[ERR_MSG_MAX];           /* when skipped */
    struct arttrack art;
};

/* A running order: the main one (playlist.m3u) or a day-part's. */
struct order {
    const struct dayparts_config_part *part;      /* NULL: the main order */
    const struct cfg_strlist *tracks, *jingles;
    enum order_rules_mode mode;
    uint64_t seed;
    long *music_picks, *jingle_picks; /* list entries as indices below each kind's first job, or NULL */
    long *music_order, *jingle_order; /* the running order, as job indices */
    size_t nmusic_order, njingle_order;
};

struct run {
    const struct setup_config *cfg;
    struct tc_params tc;
    struct ipfs_client ipfs;
    char fingerprint[65];
    char staging[4096];
    struct job *jobs;
    size_t njobs;
    size_t nmusic;                   /* jobs[0, nmusic) are music, the rest jingles */
    struct order main;
    struct dayparts_config dayparts;
    struct order *parts;             /* one per day-part */
    size_t next;                     /* next job index for a worker */
    int fatal;
    char fatal_msg[ERR_MSG_MAX];
    char *old_manifest_text;         /* as found on disk, or NULL */
    char *old_playlist_text;
    char *old_dayparts_text;
    struct progress prog;
    struct artwork_opts art_opts;
    struct arttrack_ctx art;
    pthread_mutex_t lock;
};

/* Collects a track's segments as the transcoder cuts them. */
struct seg_sink {
    const char *dir;
    const char *id;
    const char *version;
    struct manifest_segment *segs;
    struct upload_file *files;
    char **paths;
    size_t n, cap;
};

static int sink_segment(void *ctx, const struct tc_segment *seg, char *err, size_t errlen)
{
    struct seg_sink *s = ctx;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct manifest_segment *ns = realloc(s->segs, cap * sizeof *ns);
        if (ns)
            s->segs = ns;
        struct upload_file *nf = realloc(s->files, cap * sizeof *nf);
        if (nf)
            s->files = nf;
        char **np = realloc(s->paths, cap * sizeof *np);
        if (np)
            s->paths = np;
        if (!ns || !nf || !np)
            return err_env(err, errlen, "out of memory");
        s->cap = cap;
    }
    char path[4096], rel[512];
    snprintf(path, sizeof path, "%s/%d.ts", s->dir, seg->index);
    snprintf(rel, sizeof rel, "segments/%s/%s/%d.ts", s->id, s->version, seg->index);
    /* Whatever fails here is the disk's or the system's, never the source's. */
    FILE *f = fopen(path, "wb");
    if (!f)
        return err_env(err, errlen, "create %s: %s", path, strerror(errno));
    size_t w = fwrite(seg->data, 1, seg->size, f);
    int werr = w != seg->size ? errno : 0;
    if (fclose(f) != 0 && !werr)
        werr = errno;
    if (werr || w != seg->size)
        return err_env(err, errlen, "write %s: %s", path, strerror(werr ? werr : EIO));
    struct manifest_segment *ms = &s->segs[s->n];
    struct upload_file *uf = &s->files[s->n];
    memset(ms, 0, sizeof *ms);
    memset(uf, 0, sizeof *uf);
    s->paths[s->n] = strdup(path);
    ms->file = strdup(rel);
    if (!ms->file || !s->paths[s->n]) {
        free(ms->file);
        free(s->paths[s->n]);
        return err_env(err, errlen, "out of memory");
    }
    ms->samples = seg->samples;
    ms->duration = seg->duration;
    ms->bytes = (int64_t)seg->size;
    uf->path = s->paths[s->n];
    uf->size = (int64_t)seg->size;
    upload_expected_cid(seg->data, seg->size, uf->expect);
    s->n++;
    return 0;
}

/* The track is cut again: what was handed out so far goes. */
static int sink_restart(void *ctx, char *err, size_t errlen)
{
    struct seg_sink *s = ctx;
    for (size_t i = 0; i < s->n; i++) {
        if (unlink(s->paths[i]) != 0 && errno != ENOENT)
            return err_env(err, errlen, "remove %s: %s", s->paths[i], strerror(errno));
        free(s->paths[i]);
        free(s->segs[i].file);
    }
    s->n = 0;
    return 0;
}

static void sink_free(struct seg_sink *s, int keep_segs)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->paths[i]);
        if (!keep_segs)
            free(s->segs[i].file);
    }
    free(s->paths);
    free(s->files);
    if (!keep_segs)
        free(s->segs);
}

/* "Artist - Title.ext" is the usual naming when tags are missing. */
static void label_from_name(const char *relpath, char *artist, size_t alen, char *title, size_t tlen)
{
    const char *base = strrchr(relpath, '/');
    base = base ? base + 1 : relpath;
    char name[512];
    snprintf(name, sizeof name, "%s", base);
    char *dot = strrchr(name, '.');
    if (dot && dot != name)
        *dot = '\0';
    char *sep = strstr(name, " - ");
    if (sep && !artist[0]) {
        *sep = '\0';
        snprintf(artist, alen, "%s", name);
        if (!title[0])
            snprintf(title, tlen, "%s", sep + 3);
    } else if (!title[0]) {
        snprintf(title, tlen, "%s", sep ? sep + 3 : name);
    }
}

static void set_fatal(struct run *r, const char *msg)
{
    pthread_mutex_lock(&r->lock);
    if (!r->fatal) {
        r->fatal = 1;
        snprintf(r->fatal_msg, sizeof r->fatal_msg, "%s", msg);
    }
    pthread_mutex_unlock(&r->lock);
}

/* A folder name under processed/segments/<id>/ that nothing uses yet, so
 * new segments never replace files the current manifest names. */
static int pick_version(const struct run *r, const char *id, char *out, size_t outlen,
                        char *err, size_t errlen)
{
    for (int n = 1; n < SETUP_MAX_VERSIONS; n++) {
        char path[4096];
        snprintf(out, outlen, "g%d", n);
        if (fs_path(path, sizeof path, err, errlen, "%s/segments/%s/%s", r->cfg->processed_dir, id, out) != 0)
            return -1;
        struct stat st;
        if (lstat(path, &st) != 0 && errno == ENOENT)
            return 0;
    }
    return err_set(err, errlen, "segments/%s holds %d versions", id, SETUP_MAX_VERSIONS);
}

/* Returns 0 (done or skipped, see j->ok) or -1 for a fatal error: one of
 * the environment (disk full, I/O error, out of memory), which says nothing
 * about the file and must not be remembered as a skip. */
static int process(struct run *r, struct job *j, char *err, size_t errlen)
{
    const struct scan_file *src = j->src;
    char sha[65];
    int rc;
    if (j->dec.hashed) {
        memcpy(sha, j->dec.sha256, sizeof sha);
    } else if ((rc = scan_hash_file(src->path, sha, j->why, sizeof j->why)) != 0) {
        if (rc == ERR_ENVIRONMENT)
            return err_set(err, errlen, "%s", j->why);
        return 0;
    }
    char dir[4096];
    if (pick_version(r, src->id, j->version, sizeof j->version, err, errlen) != 0 ||
        fs_path(dir, sizeof dir, err, errlen, "%s/%s", r->staging, src->id) != 0 ||
        fs_mkdirs(dir, err, errlen) != 0)
        return -1;
    struct seg_sink sink = {.dir = dir, .id = src->id, .version = j->version};
    struct tc_result res;
    if ((rc = tc_transcode_file(src->path, &r->tc, sink_segment, &sink, &res, j->why, sizeof j->why)) != 0) {
        sink_free(&sink, 0);
        fs_remove_tree(dir, NULL, 0);
        if (rc == ERR_ENVIRONMENT)
            return err_set(err, errlen, "%s", j->why);
        return 0;
    }
    if (res.recut) {
        char before[32], after[32], times[16];
        snprintf(before, sizeof before, "%.2f", res.gain_db);
        snprintf(after, sizeof after, "%.2f", res.output_true_peak_dbtp);
        snprintf(times, sizeof times, "%d", res.recut);
        log_ev(res.output_true_peak_dbtp > r->cfg->true_peak_ceiling_dbtp ? LOG_WARN : LOG_INFO,
               "the AAC went over the true-peak ceiling; cut again with less gain", "file", src->path,
               "times", times, "gain_db", before, "true_peak_dbtp", after, NULL);
    }
    if (res.trimmed_start > 0 || res.trimmed_end > 0) {
        char a[32], b[32];
        snprintf(a, sizeof a, "%.3f", res.trimmed_start);
        snprintf(b, sizeof b, "%.3f", res.trimmed_end);
        log_ev(LOG_INFO, "dead air trimmed", "file", src->path, "start_seconds", a, "end_seconds", b, NULL);
    }
    if (isfinite(res.silent_fraction) && res.silent_fraction >= r->cfg->silent_track_fraction) {
        char pct[32];
        snprintf(pct, sizeof pct, "%.0f", 100 * res.silent_fraction);
        if (strcmp(r->cfg->silent_track_policy, "skip") == 0) {
            sink_free(&sink, 0);
            fs_remove_tree(dir, NULL, 0);
            snprintf(j->why, sizeof j->why, "mostly silence (%s%% below %g dBFS)", pct,
                     r->cfg->silence_threshold_dbfs);
            j->by_policy = 1;
            return 0;
        }
        log_ev(LOG_WARN, "mostly silence; it airs (silent_track_policy \"report\")", "file", src->path,
               "silent_percent", pct, NULL);
        j->silent = 1;
    }
    if (upload_files(&r->ipfs, sink.files, sink.n, r->cfg->ipfs_add_batch, err, errlen) != 0) {
        sink_free(&sink, 0);
        return -1;
    }
    if (res.decode_errors > 0) {
        char errors[32], lost[32];
        snprintf(errors, sizeof errors, "%lld", (long long)res.decode_errors);
        snprintf(lost, sizeof lost, "%.3f", res.lost_seconds);
        log_ev(LOG_WARN, "damaged audio; the rest of the file airs", "file", src->path,
               "decode_errors", errors, "lost_seconds", lost, NULL);
        j->damaged = 1;
    }
    struct manifest_track *t = &j->out;
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < sink.n; i++)
        memcpy(sink.segs[i].cid, sink.files[i].cid, sizeof sink.segs[i].cid);
    label_from_name(src->name, res.artist, sizeof res.artist, res.title, sizeof res.title);
    t->id = strdup(src->id);
    t->kind = src->kind;
    t->source = strdup(src->name);
    t->artist = strdup(res.artist);
    t->title = strdup(res.title);
    t->source_size = src->size;
    t->source_mtime_ns = src->mtime_ns;
    memcpy(t->source_sha256, sha, sizeof sha);
    memcpy(t->fingerprint, r->fingerprint, sizeof t->fingerprint);
    t->samples = res.samples;
    t->duration = res.duration;
    t->source_samples = res.source_samples;
    t->normalized = res.normalized;
    t->measured_lufs = res.measured_lufs;
    t->measured_true_peak_dbtp = res.measured_true_peak_dbtp;
    t->gain_db = res.gain_db;
    t->segs = sink.segs;
    t->nsegs = sink.n;
    sink_free(&sink, 1);
    if (!t->id || !t->source || !t->artist || !t->title) {
        manifest_track_free(t);
        return err_env(err, errlen, "out of memory");
    }
    if (t->normalized && (!isfinite(t->measured_lufs) || !isfinite(t->measured_true_peak_dbtp))) {
        /* Digital silence has no loudness; it is kept, with no gain. */
        t->normalized = 0;
    }
    j->ok = 1;
    return 0;
}

/* A track whose new source (or new encoding) fails keeps airing the
 * version it had, while its segments are intact. */
static void keep_previous(struct job *j)
{
    if (!j->old || (j->dec.verdict != CACHE_SOURCE_CHANGED && j->dec.verdict != CACHE_ENCODING_CHANGED))
        return;
    j->keep_old = 1;
    log_ev(LOG_WARN, "the previous version of this track stays on air", "file", j->src->path, NULL);
}

static void *worker(void *arg)
{
    struct run *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        while (r->next < r->njobs && !r->jobs[r->next].stale)
            r->next++;
        size_t i = r->next < r->njobs && !r->fatal ? r->next++ : r->njobs;
        pthread_mutex_unlock(&r->lock);
        if (i >= r->njobs)
            break;
        struct job *j = &r->jobs[i];
        char err[ERR_MSG_MAX];
        if (process(r, j, err, sizeof err) != 0) {
            char msg[ERR_MSG_MAX + 600];
            snprintf(msg, sizeof msg, "%s: %s", j->src->path, err);
            set_fatal(r, msg);
            break;
        }
        if (!j->ok) {
            j->skipped = 1;
            log_ev(LOG_WARN, "skipping file", "file", j->src->path, "reason", j->why, NULL);
            keep_previous(j);
        }
        progress_track_done(&r->prog, j->src->relpath, j->src->size, j->ok ? j->out.duration : 0, j->ok);
    }
    return NULL;
}

static int run_workers(struct run *r, int nstale)
{
    int n = r->cfg->jobs > 0 ? r->cfg->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if (n > nstale)
        n = nstale;
    if (n == 0)
        return 0;
    pthread_t *th = calloc((size_t)n, sizeof *th);
    if (!th)
        return -1;
    int started = 0;
    for (; started < n; started++)
        if (pthread_create(&th[started], NULL, worker, r) != 0)
            break;
    if (started == 0)
        worker(r);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
    return 0;
}

/* --- re-adding what the node lacks --- */

struct cidset {
    char **v;
    size_t n, cap;
};

static int cidset_add(void *ctx, const char *cid)
{
    struct cidset *s = ctx;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        char **nv = realloc(s->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        s->v = nv;
        s->cap = cap;
    }
    if (!(s->v[s->n] = strdup(cid)))
        return -1;
    s->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void cidset_free(struct cidset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

static int restore_pins(struct run *r, int *reuploaded, char *err, size_t errlen)
{
    struct cidset pins = {0};
    if (ipfs_pin_ls_recursive(&r->ipfs, cidset_add, &pins, err, errlen) != 0) {
        cidset_free(&pins);
        return -1;
    }
    /* An empty set has no array: qsort and bsearch must not see NULL. */
    if (pins.n)
        qsort(pins.v, pins.n, sizeof *pins.v, cmp_str);
    size_t cap = 0, n = 0;
    struct upload_file *files = NULL;
    char **paths = NULL;
    int rc = 0;
    for (size_t i = 0; i < r->njobs && rc == 0; i++) {
        struct job *j = &r->jobs[i];
        if ((j->stale && !j->keep_old) || !j->old)
            continue;
        /* Artwork made again in this run was just added; the old one needs no pin. */
        size_t nart = j->art.stale ? 0 : j->old->nart;
        for (size_t s = 0; s < j->old->nsegs + nart; s++) {
            int is_art = s >= j->old->nsegs;
            const char *cid = is_art ? j->old->art[s - j->old->nsegs].cid : j->old->segs[s].cid;
            if (pins.n && bsearch(&cid, pins.v, pins.n, sizeof *pins.v, cmp_str))
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                struct upload_file *nf = realloc(files, cap * sizeof *nf);
                char **np = nf ? realloc(paths, cap * sizeof *np) : NULL;
                if (nf)
                    files = nf;
                if (np)
                    paths = np;
                if (!nf || !np) {
                    rc = err_env(err, errlen, "out of memory");
                    break;
                }
            }
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", r->cfg->processed_dir,
                     is_art ? j->old->art[s - j->old->nsegs].file : j->old->segs[s].file);
            paths[n] = strdup(path);
            memset(&files[n], 0, sizeof files[n]);
            files[n].path = paths[n];
            files[n].size = is_art ? j->old->art[s - j->old->nsegs].bytes : j->old->segs[s].bytes;
            snprintf(files[n].expect, sizeof files[n].expect, "%s", cid);
            n++;
        }
    }
    if (rc == 0 && n > 0) {
        char cnt[32];
        snprintf(cnt, sizeof cnt, "%zu", n);
        log_ev(LOG_NOTICE, "node lacks segments or artwork the manifest names; re-adding them from processed/",
               "segments", cnt, NULL);
        rc = upload_files(&r->ipfs, files, n, r->cfg->ipfs_add_batch, err, errlen);
    }
    *reuploaded = rc == 0 ? (int)n : 0;
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    free(files);
    cidset_free(&pins);
    return rc;
}

/* --- finishing: swap segments in, write playlist and manifest --- */

/* Moves a new version's segments in beside the old ones: no file the
 * current manifest names is touched, so a reader still sees the old set. */
static int move_in(struct run *r, const struct job *j, char *err, size_t errlen)
{
    char from[4096], parent[4096], to[4096];
    if (fs_path(from, sizeof from, err, errlen, "%s/%s", r->staging, j->src->id) != 0 ||
        fs_path(parent, sizeof parent, err, errlen, "%s/segments/%s", r->cfg->processed_dir, j->src->id) != 0 ||
        fs_path(to, sizeof to, err, errlen, "%s/%s", parent, j->version) != 0 ||
        fs_mkdirs(parent, err, errlen) != 0)
        return -1;
    if (rename(from, to) != 0)
        return err_set(err, errlen, "move %s to %s: %s", from, to, strerror(errno));
    return 0;
}

static int write_if_changed(const char *path, const char *text, int *written, char *err, size_t errlen)
{
    size_t len = strlen(text);
    *written = 0;
    if (atomic_same_content(path, text, len))
        return 0;
    if (atomic_write(path, text, len, err, errlen) != 0)
        return -1;
    *written = 1;
    return 0;
}

static int build_playlist(struct run *r, const struct order *o, struct manifest *m, struct playlist *pl, char *err,
                          size_t errlen)
{
    long count = playlist_interleave(o->nmusic_order, o->njingle_order, r->cfg->jingle_every, NULL, 0);
    long *order = calloc((size_t)count + 1, sizeof *order);
    if (!order)
        return err_env(err, errlen, "out of memory");
    playlist_interleave(o->nmusic_order, o->njingle_order, r->cfg->jingle_every, order, (size_t)count);
    int rc = 0;
    for (long i = 0; i < count && rc == 0; i++) {
        long job = order[i] < 0 ? o->jingle_order[-order[i] - 1] : o->music_order[order[i]];
        const struct manifest_track *t = manifest_find(m, r->jobs[job].src->id);
        char label[600];
        manifest_track_label(t, label, sizeof label);
        if (playlist_append(pl, t->id, label, t->duration) != 0)
            rc = err_env(err, errlen, "out of memory");
    }
    free(order);
    return rc;
}

static json_t *strlist_json(const struct cfg_strlist *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->n; i++)
        if (json_array_append_new(a, json_string(l->v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* A day-part as it decided its playlist (the seed only with shuffle, as for the main order). */
static json_t *part_options_json(const struct dayparts_config_part *p)
{
    json_t *days = week_days_json(p->when.days);
    char start[16], end[16];
    week_time_text(p->when.start, start, sizeof start);
    week_time_text(p->when.end, end, sizeof end);
    json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:s, s:o, s:o}", "name", p->name, "days", days, "start", start, "end",
                          end, "mode", p->mode, "tracks", strlist_json(&p->tracks), "jingles", strlist_json(&p->jingles));
    if (o && strcmp(p->mode, "shuffle") == 0 && json_object_set_new(o, "seed", json_integer(p->seed)) != 0) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* Everything that decided playlist.m3u and the day-parts' playlists; the
 * seed only when it mattered, and the day-parts only when there are any,
 * so that editing an unused seed leaves the manifest as it was. */
static char *playlist_options_json(const struct run *r, const struct playlist_config *pc)
{
    const struct setup_config *cfg = r->cfg;
    json_t *o = json_pack("{s:i, s:s, s:s, s:b, s:o, s:o, s:o}", "jingle_every", cfg->jingle_every,
                          "mode", pc->mode, "source", pc->source, "scan_subdirectories",
                          pc->scan_subdirectories, "tracks", strlist_json(&pc->tracks), "exclude",
                          strlist_json(&pc->exclude), "jingles", strlist_json(&pc->jingles));
    if (o && strcmp(pc->mode, "shuffle") == 0 && json_object_set_new(o, "seed", json_integer(pc->seed)) != 0) {
        json_decref(o);
        o = NULL;
    }
    if (o && r->dayparts.n) {
        json_t *parts = json_array();
        for (size_t i = 0; parts && i < r->dayparts.n; i++)
            if (json_array_append_new(parts, part_options_json(&r->dayparts.v[i])) != 0) {
                json_decref(parts);
                parts = NULL;
            }
        if (!parts || json_object_set_new(o, "dayparts", parts) != 0 ||
            json_object_set_new(o, "time_zone", json_string(pc->time_zone)) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

/* processed/clock.json: the station IDs on the clock, for the streamer
 * (docs/programming.md). The jingles are the rotation's, by track id. */
static char *clock_json(const struct run *r, const struct playlist_config *pc)
{
    json_t *jl = json_array();
    for (size_t i = 0; jl && i < r->main.njingle_order; i++)
        if (json_array_append_new(jl, json_string(r->jobs[r->main.jingle_order[i]].src->id)) != 0) {
            json_decref(jl);
            jl = NULL;
        }
    if (!jl)
        return NULL;
    json_t *o = json_pack("{s:s, s:i, s:s, s:{s:f, s:b, s:f, s:f, s:o}}", "format", CLOCK_FORMAT, "version",
                          CLOCK_VERSION, "time_zone", pc->time_zone, "station_ids", "every_seconds", pc->station_id_every_minutes * 60.0, "top_of_hour",
                          pc->station_id_top_of_hour, "top_of_hour_before_seconds",
                          pc->station_id_top_before_seconds, "top_of_hour_after_seconds",
                          pc->station_id_top_after_seconds, "jingles", jl);
    char *s = o ? json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

/* --- after the switch: what no manifest names any more goes --- */

struct strset {
    char **v;
    size_t n;
};

static int strset_has(const struct strset *s, const char *x)
{
    return s->n && bsearch(&x, s->v, s->n, sizeof *s->v, cmp_str) != NULL;
}

/* The segment files, or the CIDs of segments and artwork, a manifest names (borrowed strings). */
static int manifest_strings(const struct manifest *m, int cids, struct strset *out)
{
    size_t n = 0;
    for (size_t i = 0; i < m->ntracks; i++)
        n += m->tracks[i].nsegs + m->tracks[i].nart;
    out->n = 0;
    out->v = calloc(n + 1, sizeof *out->v);
    if (!out->v)
        return -1;
    for (size_t i = 0; i < m->ntracks; i++)
        for (size_t k = 0; k < m->tracks[i].nsegs; k++)
            out->v[out->n++] = cids ? m->tracks[i].segs[k].cid : m->tracks[i].segs[k].file;
    for (size_t i = 0; cids && i < m->ntracks; i++)
        for (size_t k = 0; k < m->tracks[i].nart; k++)
            out->v[out->n++] = m->tracks[i].art[k].cid;
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return 0;
}

/* Deletes every file below processed/segments/ that the manifest does not
 * name, and the folders left empty. */
static void remove_unnamed(const char *abs, const char *rel, const struct strset *named, int depth)
{
    DIR *d = depth < SETUP_MAX_SEGMENT_DEPTH ? opendir(abs) : NULL;
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char a[4096], rl[4096];
        if ((size_t)snprintf(a, sizeof a, "%s/%s", abs, e->d_name) >= sizeof a ||
            (size_t)snprintf(rl, sizeof rl, "%s/%s", rel, e->d_name) >= sizeof rl)
            continue;
        struct stat st;
        if (lstat(a, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            remove_unnamed(a, rl, named, depth + 1);
            rmdir(a); /* only if now empty */
        } else if (!strset_has(named, rl)) {
            unlink(a);
        }
    }
    closedir(d);
}

/* The previous manifest's CIDs that the new one lacks: unpinned, so a
 * bitrate change or a removed track does not stay pinned for ever. */
static void unpin_retired(struct run *r, const struct manifest *old, const struct manifest *m, int *unpinned)
{
    struct strset keep = {0}, gone = {0};
    if (manifest_strings(m, 1, &keep) != 0 || manifest_strings(old, 1, &gone) != 0) {
        log_ev(LOG_WARN, "out of memory; old segments left pinned", NULL);
        goto out;
    }
    for (size_t i = 0; i < gone.n; i++) {
        if ((i > 0 && strcmp(gone.v[i], gone.v[i - 1]) == 0) || strset_has(&keep, gone.v[i]))
            continue;
        char err[ERR_MSG_MAX];
        if (ipfs_unpin(&r->ipfs, gone.v[i], err, sizeof err) != 0) {
            log_ev(LOG_WARN, "could not unpin a segment no manifest names", "cid", gone.v[i], "error", err, NULL);
            continue;
        }
        (*unpinned)++;
    }
out:
    free(keep.v);
    free(gone.v);
}

/* A manifest holding the new tracks and the old ones the new set drops:
 * both the old and the new running order resolve against it. */
static char *union_json(const struct manifest *m, const struct manifest *old, int *needed)
{
    *needed = 0;
    struct manifest u = *m;
    u.tracks = calloc(m->ntracks + old->ntracks + 1, sizeof *u.tracks);
    if (!u.tracks)
        return NULL;
    memcpy(u.tracks, m->tracks, m->ntracks * sizeof *u.tracks);
    u.ntracks = m->ntracks;
    for (size_t i = 0; i < old->ntracks; i++)
        if (old->tracks[i].id && !manifest_find(m, old->tracks[i].id)) {
            u.tracks[u.ntracks++] = old->tracks[i];
            *needed = 1;
        }
    char *json = NULL;
    if (*needed) {
        manifest_sort(&u);
        json = manifest_to_json(&u);
    }
    free(u.tracks);
    return json;
}

/* The day-parts' playlists and dayparts.json as they are to be, and what
 * was there before, to put back if the switch fails. */
struct parts_out {
    char **m3u;                      /* per part */
    char **before;                   /* per part: the file as it was, or NULL */
    int *written;                    /* per part */
    char *index;                     /* dayparts.json; NULL with no parts */
    int index_changed;               /* written, or removed */
    char index_path[4096];
};

static int parts_prepare(struct run *r, const struct playlist_config *pc, struct manifest *m, struct parts_out *po,
                         char *err, size_t errlen)
{
    size_t n = r->dayparts.n;
    snprintf(po->index_path, sizeof po->index_path, "%s/" DAYPARTS_FILE, r->cfg->processed_dir);
    po->m3u = calloc(n + 1, sizeof *po->m3u);
    po->before = calloc(n + 1, sizeof *po->before);
    po->written = calloc(n + 1, sizeof *po->written);
    if (!po->m3u || !po->before || !po->written)
        return err_env(err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct playlist pl = {0};
        int rc = build_playlist(r, &r->parts[i], m, &pl, err, errlen);
        po->m3u[i] = rc == 0 ? playlist_to_m3u(&pl) : NULL;
        playlist_free(&pl);
        if (rc != 0)
            return rc;
        if (!po->m3u[i])
            return err_env(err, errlen, "out of memory");
    }
    if (n && !(po->index = dayparts_file_json(&r->dayparts, pc->time_zone)))
        return err_env(err, errlen, "out of memory");
    return 0;
}

static int parts_write_playlists(struct run *r, struct parts_out *po, char *err, size_t errlen)
{
    if (r->dayparts.n == 0)
        return 0;
    char dir[4096];
    if (fs_path(dir, sizeof dir, err, errlen, "%s/" DAYPARTS_DIR, r->cfg->processed_dir) != 0 ||
        fs_mkdirs(dir, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < r->dayparts.n; i++) {
        char rel[WEEK_NAME_MAX + 32], path[4096];
        dayparts_file_playlist(&r->dayparts.v[i], rel, sizeof rel);
        if (fs_path(path, sizeof path, err, errlen, "%s/%s", r->cfg->processed_dir, rel) != 0)
            return -1;
        size_t len;
        if (atomic_read(path, MANIFEST_MAX_BYTES, &po->before[i], &len, NULL, 0) != 0)
            po->before[i] = NULL;
        if (write_if_changed(path, po->m3u[i], &po->written[i], err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* With no parts, the file goes: outside parts and without it, playlist.m3u plays. */
static int parts_write_index(struct run *r, struct parts_out *po, char *err, size_t errlen)
{
    if (po->index)
        return write_if_changed(po->index_path, po->index, &po->index_changed, err, errlen);
    if (!r->old_dayparts_text)
        return 0;
    if (unlink(po->index_path) != 0)
        return err_set(err, errlen, "remove %s: %s", po->index_path, strerror(errno));
    po->index_changed = 1;
    return 0;
}

static void parts_put_back(struct run *r, struct parts_out *po)
{
    if (po->index_changed) {
        if (r->old_dayparts_text)
            atomic_write(po->index_path, r->old_dayparts_text, strlen(r->old_dayparts_text), NULL, 0);
        else
            unlink(po->index_path);
    }
    for (size_t i = 0; i < r->dayparts.n; i++) {
        char rel[WEEK_NAME_MAX + 32], path[4096];
        dayparts_file_playlist(&r->dayparts.v[i], rel, sizeof rel);
        if (!po->written || !po->written[i] ||
            fs_path(path, sizeof path, NULL, 0, "%s/%s", r->cfg->processed_dir, rel) != 0)
            continue;
        if (po->before[i])
            atomic_write(path, po->before[i], strlen(po->before[i]), NULL, 0);
        else
            unlink(path);
    }
    char dir[4096];
    /* A folder this run made, now empty again. */
    if (fs_path(dir, sizeof dir, NULL, 0, "%s/" DAYPARTS_DIR, r->cfg->processed_dir) == 0)
        rmdir(dir);
}

static void parts_out_free(struct run *r, struct parts_out *po)
{
    for (size_t i = 0; i < r->dayparts.n; i++) {
        free(po->m3u ? po->m3u[i] : NULL);
        free(po->before ? po->before[i] : NULL);
    }
    free(po->m3u);
    free(po->before);
    free(po->written);
    free(po->index);
}

static int finish(struct run *r, struct manifest *old, const struct playlist_config *pc,
                  struct setup_result *res, char *err, size_t errlen)
{
    struct manifest m = {0};
    m.enc.sample_rate = r->tc.sample_rate;
    m.enc.channels = r->tc.channels;
    m.enc.bitrate = r->tc.bitrate;
    m.enc.segment_seconds = r->tc.segment_seconds;
    m.enc.normalize = r->tc.normalize;
    m.enc.target_lufs = r->tc.target_lufs;
    m.enc.true_peak_dbtp = r->tc.true_peak_dbtp;
    m.enc.min_tail_seconds = r->tc.min_tail_seconds;
    memcpy(m.enc.fingerprint, r->fingerprint, sizeof m.enc.fingerprint);
    m.playlist_options = playlist_options_json(r, pc);
    m.tracks = calloc(r->njobs + 1, sizeof *m.tracks);
    int *moved = calloc(r->njobs + 1, sizeof *moved);
    if (!m.tracks || !m.playlist_options || !moved) {
        manifest_free(&m);
        free(moved);
        return err_env(err, errlen, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; i < r->njobs && rc == 0; i++) {
        struct job *j = &r->jobs[i];
        if (j->skipped && !j->by_policy && manifest_add_skip(&m, j->src->kind, j->src->name, j->src->size,
                                            j->src->mtime_ns, j->why) != 0)
            rc = err_env(err, errlen, "out of memory");
        if (j->keep_old) {
            /* Its old segments still air; the skip above stops a retry until the file changes. */
            m.tracks[m.ntracks++] = *j->old;
            memset(j->old, 0, sizeof *j->old);
            continue;
        }
        if (!j->ok)
            continue;
        if (j->stale) {
            if ((rc = move_in(r, j, err, errlen)) != 0)
                break;
            moved[i] = 1;
            arttrack_apply(&j->art, &j->out);
            m.tracks[m.ntracks++] = j->out;
            memset(&j->out, 0, sizeof j->out);
        } else {
            /* Reuse the previous entry; only the source's stat may be newer. */
            m.tracks[m.ntracks] = *j->old;
            memset(j->old, 0, sizeof *j->old);
            struct manifest_track *t = &m.tracks[m.ntracks++];
            t->source_size = j->src->size;
            t->source_mtime_ns = j->src->mtime_ns;
            if (j->dec.hashed)
                memcpy(t->source_sha256, j->dec.sha256, sizeof t->source_sha256);
            arttrack_apply(&j->art, t);
        }
    }
    manifest_sort(&m);
    struct playlist pl = {0};
    char mpath[4096], ppath[4096];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", r->cfg->processed_dir);
    snprintf(ppath, sizeof ppath, "%s/playlist.m3u", r->cfg->processed_dir);
    if (rc == 0)
        rc = build_playlist(r, &r->main, &m, &pl, err, errlen);
    struct parts_out po = {0};
    if (rc == 0)
        rc = parts_prepare(r, pc, &m, &po, err, errlen);
    char *m3u = rc == 0 ? playlist_to_m3u(&pl) : NULL;
    char *json = rc == 0 ? manifest_to_json(&m) : NULL;
    int need_union = 0;
    char *ujson = rc == 0 ? union_json(&m, old, &need_union) : NULL;
    if (rc == 0 && !m3u)
        rc = err_env(err, errlen, "out of memory");
    if (rc == 0 && (!json || (need_union && !ujson)))
        rc = err_set(err, errlen, "cannot build manifest.json (a text that is not UTF-8, or out of memory)");
    /* The switch. The streamer reads several files, so they change in an
     * order where every pair a reader can meet resolves: first a manifest
     * that holds the old tracks and the new, then the new running orders
     * (the day-parts' playlists, dayparts.json that names them, then
     * playlist.m3u), then the new manifest. Nothing the old manifest or the
     * old dayparts.json names has been touched before this point. */
    int union_written = 0, playlist_written = 0;
    if (rc == 0 && need_union && (rc = atomic_write(mpath, ujson, strlen(ujson), err, errlen)) == 0)
        union_written = 1;
    /* Nothing dropped: the new manifest is that union itself, so it goes first. */
    if (rc == 0 && !need_union)
        rc = write_if_changed(mpath, json, &res->manifest_written, err, errlen);
    if (rc == 0)
        rc = parts_write_playlists(r, &po, err, errlen);
    if (rc == 0)
        rc = parts_write_index(r, &po, err, errlen);
    if (rc == 0)
        rc = write_if_changed(ppath, m3u, &playlist_written, err, errlen);
    /* After the order, before a manifest without dropped jingles: every
     * jingle it names is in the manifest a reader meets with it. */
    if (rc == 0) {
        char cpath[4096];
        int clock_written;
        snprintf(cpath, sizeof cpath, "%s/" CLOCK_FILE, r->cfg->processed_dir);
        char *cj = clock_json(r, pc);
        rc = cj ? write_if_changed(cpath, cj, &clock_written, err, errlen) : err_env(err, errlen, "out of memory");
        free(cj);
    }
    if (rc == 0 && need_union)
        rc = write_if_changed(mpath, json, &res->manifest_written, err, errlen);
    res->playlist_written = playlist_written;
    if (rc != 0) {
        /* Put back what a reader could meet: the old files, and no new folders. */
        if (playlist_written && r->old_playlist_text)
            atomic_write(ppath, r->old_playlist_text, strlen(r->old_playlist_text), NULL, 0);
        parts_put_back(r, &po);
        if ((union_written || res->manifest_written) && r->old_manifest_text)
            atomic_write(mpath, r->old_manifest_text, strlen(r->old_manifest_text), NULL, 0);
        for (size_t i = 0; i < r->njobs; i++) {
            char dir[4096];
            if (moved[i] && fs_path(dir, sizeof dir, NULL, 0, "%s/segments/%s/%s", r->cfg->processed_dir,
                                    r->jobs[i].src->id, r->jobs[i].version) == 0)
                fs_remove_tree(dir, NULL, 0);
        }
    } else {
        for (size_t i = 0; i < old->ntracks; i++)
            if (old->tracks[i].id && !manifest_find(&m, old->tracks[i].id))
                res->removed++;
        struct strset named = {0};
        char segdir[4096];
        if (manifest_strings(&m, 0, &named) == 0 &&
            fs_path(segdir, sizeof segdir, NULL, 0, "%s/segments", r->cfg->processed_dir) == 0)
            remove_unnamed(segdir, "segments", &named, 0);
        free(named.v);
        arttrack_prune(r->cfg->processed_dir, &m);
        dayparts_file_prune(r->cfg->processed_dir, &r->dayparts);
        /* Files first: a streamer that still airs the old order re-adds
         * missing pins from files, and must find none. */
        struct manifest before = {0};
        char perr[ERR_MSG_MAX];
        if (r->cfg->unpin_unreferenced && r->old_manifest_text &&
            manifest_parse(r->old_manifest_text, mpath, &before, perr, sizeof perr) == 0)
            unpin_retired(r, &before, &m, &res->unpinned);
        manifest_free(&before);
    }
    free(moved);
    free(m3u);
    free(json);
    free(ujson);
    parts_out_free(r, &po);
    playlist_free(&pl);
    manifest_free(&m);
    return rc;
}

/* Why a list entry names no file the scan kept: the likely mistakes first. */
static const char *missing_reason(const char *entry, const struct playlist_config *pc, int music)
{
    if (music && scan_excluded(entry, &pc->exclude))
        return "excluded by an exclude pattern";
    if (music && !pc->scan_subdirectories && strchr(entry, '/'))
        return "in a subfolder, and scan_subdirectories is false";
    return "no such audio file";
}

/* A `tracks` or `jingles` list as indices into files->v[first, first + n).
 * An entry that names nothing is reported and kept as -1; one that names
 * several files is refused, since guessing would play the wrong one. */
static int resolve_list(const struct cfg_strlist *list, const char *key, const char *origin,
                        const struct dayparts_config_part *part, const struct playlist_config *pc, const char *folder,
                        const struct scan_list *files, size_t first, size_t n, long **picks, struct setup_result *res, char *err, size_t errlen)
{
    *picks = NULL;
    if (list->n == 0)
        return 0;
    const char **rel = calloc(n + 1, sizeof *rel);
    *picks = calloc(list->n, sizeof **picks);
    if (!rel || !*picks) {
        free(rel);
        return err_env(err, errlen, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        rel[i] = files->v[first + i].relpath;
    int rc = 0;
    for (size_t e = 0; e < list->n && rc == 0; e++) {
        size_t idx = 0;
        char why[ERR_MSG_MAX];
        switch (order_rules_find(rel, n, list->v[e], &idx, why, sizeof why)) {
        case ORDER_RULES_FOUND:
            (*picks)[e] = (long)idx;
            break;
        case ORDER_RULES_MISSING:
            (*picks)[e] = -1;
            res->missing++;
            log_ev(LOG_WARN, "listed file not found; left out of the running order", "key", key,
                   "entry", list->v[e], "folder", folder, "reason",
                   missing_reason(list->v[e], pc, strcmp(key, "tracks") == 0), part ? "daypart" : NULL,
                   part ? part->name : NULL, NULL);
            break;
        case ORDER_RULES_AMBIGUOUS:
            res->bad_config = 1;
            rc = err_set(err, errlen,
                         "%s: key \"%s\" entry \"%s\" names several files in %s (%s); "
                         "give its path instead",
                         origin, key, list->v[e], folder, why);
            break;
        }
    }
    free(rel);
    return rc;
}

/* The running order of one kind, as job indices. */
static int arrange_kind(struct run *r, size_t first, size_t n, const long *picks, size_t npicks,
                        enum order_rules_mode mode, uint64_t seed, long **order, size_t *count)
{
    struct order_rules_item *items = calloc(n + 1, sizeof *items);
    *order = calloc((picks ? npicks : n) + 1, sizeof **order);
    if (!items || !*order) {
        free(items);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct job *j = &r->jobs[first + i];
        const struct manifest_track *t = j->keep_old ? j->old : !j->ok ? NULL : j->stale ? &j->out : j->old;
        items[i].relpath = j->src->relpath;
        items[i].artist = t ? t->artist : "";
        items[i].title = t ? t->title : "";
        items[i].playable = t != NULL;
    }
    long k = order_rules_arrange(items, n, picks, npicks, mode, seed, *order);
    free(items);
    if (k < 0)
        return -1;
    for (long i = 0; i < k; i++)
        (*order)[i] += (long)first;
    *count = (size_t)k;
    return 0;
}

/* The order's `tracks` and `jingles` lists as job indices, checked before any work. */
static int order_resolve(struct run *r, struct order *o, const struct playlist_config *pc, const struct scan_list *files,
                         struct setup_result *res, char *err, size_t errlen)
{
    char origin[4096];
    if (o->part)
        snprintf(origin, sizeof origin, "%s: dayparts \"%s\"", r->cfg->playlist_config, o->part->name);
    else
        snprintf(origin, sizeof origin, "%s", r->cfg->playlist_config);
    if (resolve_list(o->tracks, "tracks", origin, o->part, pc, pc->source, files, 0, r->nmusic, &o->music_picks, res,
                     err, errlen) != 0 ||
        resolve_list(o->jingles, "jingles", origin, o->part, pc, r->cfg->jingles_dir, files, r->nmusic,
                     files->n - r->nmusic, &o->jingle_picks, res, err, errlen) != 0)
        return -1;
    return 0;
}

/* The order itself, once it is known which files can be played. */
static int order_arrange(struct run *r, struct order *o, const char *source, char *err, size_t errlen)
{
    if (arrange_kind(r, 0, r->nmusic, o->music_picks, o->tracks->n, o->mode, o->seed, &o->music_order,
                     &o->nmusic_order) != 0 ||
        arrange_kind(r, r->nmusic, r->njobs - r->nmusic, o->jingle_picks, o->jingles->n, ORDER_RULES_ORDERED, 0,
                     &o->jingle_order, &o->njingle_order) != 0)
        return err_env(err, errlen, "out of memory");
    if (o->nmusic_order)
        return 0;
    char in[128] = "";
    if (o->part)
        snprintf(in, sizeof in, " in dayparts \"%s\"", o->part->name);
    if (o->tracks->n)
        return err_set(err, errlen, "no playable music%s: none of the %zu files in key \"tracks\" could be played", in,
                       o->tracks->n);
    return err_set(err, errlen, "no playable music%s: every file in %s was skipped", in, source);
}

static void order_free(struct order *o)
{
    free(o->music_picks);
    free(o->jingle_picks);
    free(o->music_order);
    free(o->jingle_order);
}

static int lock_processed(const char *dir, int *fd, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/.setup.lock", dir);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0)
        return err_set(err, errlen, "open %s: %s", path, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        close(*fd);
        *fd = -1;
        return err_set(err, errlen, "another setup is running on %s", dir);
    }
    return 0;
}

/* Leftovers of an interrupted run are never part of processed/'s content. */
static void clean_stale_staging(const char *dir)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, ".staging-");
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, pattern, strlen(pattern)) == 0) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            fs_remove_tree(p, NULL, 0);
        }
    }
    closedir(d);
}

/* Every playable music track's artwork: kept where it still stands, made
 * again where not. Jingles get none (the page shows the station's). */
static int artwork_stage(struct run *r, struct setup_result *res, char *err, size_t errlen)
{
    for (size_t i = 0; i < r->nmusic; i++) {
        struct job *j = &r->jobs[i];
        if (j->keep_old || !j->ok)
            continue;
        const struct manifest_track *old = j->stale ? NULL : j->old;
        arttrack_check(&r->art, old, j->src->path, &j->art);
        const char *error = j->art.stale ? NULL : old->art_src.error;
        if (j->art.stale) {
            log_ev(LOG_DEBUG, "artwork is stale", "file", j->src->path, "reason", j->art.why, NULL);
            char why[ERR_MSG_MAX];
            if (arttrack_make(&r->art, j->src->path, &j->art, why, sizeof why) != 0)
                return err_set(err, errlen, "%s: artwork: %s", j->src->path, why);
            res->artwork_made++;
            error = j->art.src.error;
        }
        if (error) {
            log_ev(LOG_WARN, "artwork unusable; the track airs without it", "file", j->src->path, "reason", error,
                   j->art.stale ? NULL : "note", "unchanged since it failed", NULL);
            res->artwork_errors++;
        }
    }
    return 0;
}

int setup_run(const struct setup_config *cfg, const struct playlist_config *pc,
              struct setup_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    struct run r = {.cfg = cfg};
    r.tc.sample_rate = cfg->sample_rate;
    r.tc.channels = cfg->channels;
    r.tc.bitrate = cfg->bitrate_kbps * 1000;
    r.tc.segment_seconds = cfg->segment_seconds;
    r.tc.min_tail_seconds = cfg->min_tail_seconds;
    r.tc.max_lost_seconds = cfg->damaged_max_seconds;
    r.tc.trim_silence = cfg->trim_silence;
    r.tc.silence_dbfs = cfg->silence_threshold_dbfs;
    r.tc.silence_min_seconds = cfg->silence_min_seconds;
    r.tc.spool_dir = r.staging; /* filled in below, before any worker starts */
    r.tc.true_peak_margin_db = cfg->true_peak_check_margin_db;
    r.tc.true_peak_max_recuts = cfg->true_peak_max_recuts;
    r.tc.on_restart = sink_restart;
    r.tc.normalize = cfg->loudness_normalize;
    r.tc.target_lufs = cfg->loudness_target_lufs;
    r.tc.true_peak_dbtp = cfg->true_peak_ceiling_dbtp;
    struct manifest_encoding enc = {
        .sample_rate = r.tc.sample_rate, .channels = r.tc.channels, .bitrate = r.tc.bitrate,
        .segment_seconds = r.tc.segment_seconds, .normalize = r.tc.normalize,
        .target_lufs = r.tc.target_lufs, .true_peak_dbtp = r.tc.true_peak_dbtp,
        .min_tail_seconds = r.tc.min_tail_seconds};
    manifest_fingerprint(&enc, r.fingerprint);
    /* Mono loudness is measured as dual mono, dead air is trimmed, and the
     * AAC's true peak is checked, since this version: each changes a
     * segment's bytes, so they are part of the fingerprint, added only
     * where they apply (a library with trimming and normalisation off
     * keeps the fingerprint it had). */
    char extra[160];
    snprintf(extra, sizeof extra, "%s", enc.channels == 1 ? ":dual-mono" : "");
    if (cfg->trim_silence)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), ":trim:%.17g:%.17g",
                 cfg->silence_threshold_dbfs, cfg->silence_min_seconds);
    if (cfg->loudness_normalize)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), ":tp-check:%.17g:%d",
                 cfg->true_peak_check_margin_db, cfg->true_peak_max_recuts);
    if (extra[0]) {
        unsigned char h[crypto_hash_sha256_BYTES];
        char keyed[256];
        snprintf(keyed, sizeof keyed, "%s%s", r.fingerprint, extra);
        crypto_hash_sha256(h, (const unsigned char *)keyed, strlen(keyed));
        sodium_bin2hex(r.fingerprint, sizeof r.fingerprint, h, sizeof h);
    }

    r.art_opts.quality = cfg->artwork_quality;
    r.art_opts.max_pixels = cfg->artwork_max_pixels;
    r.art_opts.max_bytes = cfg->artwork_max_bytes;
    r.art_opts.names = &cfg->artwork_files;
    /* Checked with the config already; cannot fail here. */
    artwork_parse_sizes(cfg->artwork_sizes, SETUP_ARTWORK_MIN_PX, SETUP_ARTWORK_MAX_PX, r.art_opts.sizes,
                        &r.art_opts.nsizes, NULL, 0);
    r.art.opts = &r.art_opts;
    artwork_params(&r.art_opts, r.art.params);
    r.art.processed_dir = cfg->processed_dir;
    r.art.ipfs = &r.ipfs;
    r.art.add_batch = cfg->ipfs_add_batch;

    struct scan_list files = {0};
    struct manifest old = {0};
    int lockfd = -1, rc = -1, missing = 0;
    pthread_mutex_init(&r.lock, NULL);

    r.main = (struct order){.tracks = &pc->tracks, .jingles = &pc->jingles, .seed = (uint64_t)pc->seed};
    if (order_rules_mode_parse(pc->mode, &r.main.mode) != 0) {
        res->bad_config = 1;
        err_set(err, errlen, "%s: key \"mode\" is \"%s\", not a known mode", cfg->playlist_config, pc->mode);
        goto out;
    }
    if (dayparts_config_parse(pc->dayparts, cfg->playlist_config, &r.dayparts, err, errlen) != 0) {
        res->bad_config = 1;
        goto out;
    }
    r.parts = calloc(r.dayparts.n + 1, sizeof *r.parts);
    if (!r.parts) {
        err_env(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < r.dayparts.n; i++) {
        const struct dayparts_config_part *p = &r.dayparts.v[i];
        r.parts[i] = (struct order){.part = p, .tracks = &p->tracks, .jingles = &p->jingles, .seed = (uint64_t)p->seed};
        if (order_rules_mode_parse(p->mode, &r.parts[i].mode) != 0) {
            res->bad_config = 1;
            err_set(err, errlen, "%s: dayparts \"%s\": key \"mode\" is \"%s\", not a known mode",
                    cfg->playlist_config, p->name, p->mode);
            goto out;
        }
    }
    const struct scan_opts music_scan = {.exts = &cfg->audio_extensions,
                                         .recursive = pc->scan_subdirectories, .exclude = &pc->exclude};
    const struct scan_opts jingle_scan = {.exts = &cfg->audio_extensions, .recursive = 1};
    if (scan_dir(pc->source, MANIFEST_MUSIC, &music_scan, &files, &missing, err, errlen) != 0)
        goto out;
    if (missing) {
        err_set(err, errlen, "music folder %s does not exist", pc->source);
        goto out;
    }
    size_t nmusic = files.n;
    if (nmusic == 0) {
        err_set(err, errlen, "no music: %s holds no audio files%s", pc->source,
                files.excluded ? " that the exclude patterns let through" : "");
        goto out;
    }
    if (files.excluded) {
        char n[32];
        snprintf(n, sizeof n, "%zu", files.excluded);
        log_ev(LOG_INFO, "music left out by exclude patterns", "files_or_folders", n, NULL);
    }
    if (scan_dir(cfg->jingles_dir, MANIFEST_JINGLE, &jingle_scan, &files, &missing, err, errlen) != 0)
        goto out;
    if (files.n == nmusic)
        log_ev(LOG_NOTICE, "no jingles found: the running order is music only", "jingles_dir",
               cfg->jingles_dir, NULL);
    r.nmusic = nmusic;
    if (order_resolve(&r, &r.main, pc, &files, res, err, errlen) != 0)
        goto out;
    for (size_t i = 0; i < r.dayparts.n; i++)
        if (order_resolve(&r, &r.parts[i], pc, &files, res, err, errlen) != 0)
            goto out;

    if (fs_mkdirs(cfg->processed_dir, err, errlen) != 0 ||
        lock_processed(cfg->processed_dir, &lockfd, err, errlen) != 0)
        goto out;
    clean_stale_staging(cfg->processed_dir);

    char mpath[4096];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", cfg->processed_dir);
    if (access(mpath, F_OK) == 0 && manifest_load(mpath, &old, err, errlen) != 0) {
        log_ev(LOG_WARN, "previous manifest unreadable; treating every track as new", "error", err, NULL);
        memset(&old, 0, sizeof old);
    }
    /* Kept to put back if the switch fails half way. */
    {
        char ppath[4096];
        size_t len;
        snprintf(ppath, sizeof ppath, "%s/playlist.m3u", cfg->processed_dir);
        if (atomic_read(mpath, MANIFEST_MAX_BYTES, &r.old_manifest_text, &len, NULL, 0) != 0)
            r.old_manifest_text = NULL;
        if (atomic_read(ppath, MANIFEST_MAX_BYTES, &r.old_playlist_text, &len, NULL, 0) != 0)
            r.old_playlist_text = NULL;
        snprintf(ppath, sizeof ppath, "%s/" DAYPARTS_FILE, cfg->processed_dir);
        if (atomic_read(ppath, MANIFEST_MAX_BYTES, &r.old_dayparts_text, &len, NULL, 0) != 0)
            r.old_dayparts_text = NULL;
    }

    const char *auth = cfg->ipfs_auth_env[0] ? getenv(cfg->ipfs_auth_env) : NULL;
    if (ipfs_client_init(&r.ipfs, cfg->ipfs_api, auth, err, errlen) != 0)
        goto out;
    r.ipfs.timeout = cfg->ipfs_timeout_seconds;
    r.ipfs.retries = cfg->ipfs_retries;
    r.ipfs.backoff = cfg->ipfs_retry_backoff_seconds;
    char version[64];
    if (ipfs_version(&r.ipfs, version, sizeof version, err, errlen) != 0) {
        err_prefix(err, errlen, "IPFS node not usable");
        goto out;
    }
    log_ev(LOG_INFO, "IPFS node ready", "api", cfg->ipfs_api, "version", version, NULL);

    r.njobs = files.n;
    r.jobs = calloc(files.n, sizeof *r.jobs);
    if (!r.jobs) {
        err_env(err, errlen, "out of memory");
        goto out;
    }
    int nstale = 0;
    int64_t stale_bytes = 0;
    for (size_t i = 0; i < files.n; i++) {
        struct job *j = &r.jobs[i];
        j->src = &files.v[i];
        j->old = (struct manifest_track *)manifest_find(&old, j->src->id);
        cache_check(j->old, j->src, r.fingerprint, cfg->processed_dir, &j->dec);
        j->stale = j->dec.verdict != CACHE_FRESH;
        j->ok = !j->stale;
        const struct manifest_skip *known_bad =
            !j->stale ? NULL : manifest_find_skip(&old, j->src->kind, j->src->name, j->src->size, j->src->mtime_ns);
        if (known_bad) {
            /* Unchanged since it failed: report it again, but don't decode it again. */
            j->stale = 0;
            j->ok = 0;
            j->skipped = 1;
            snprintf(j->why, sizeof j->why, "%s", known_bad->reason);
            log_ev(LOG_WARN, "skipping file, unchanged since it failed", "file", j->src->path,
                   "reason", j->why, NULL);
            keep_previous(j);
        } else if (j->stale) {
            nstale++;
            stale_bytes += j->src->size;
            log_ev(LOG_DEBUG, "track is stale", "file", j->src->path, "reason",
                   cache_verdict_name(j->dec.verdict), "detail", j->dec.detail, NULL);
        } else {
            res->cached++;
        }
    }

    snprintf(r.staging, sizeof r.staging, "%s/.staging-%ld", cfg->processed_dir, (long)getpid());
    if (nstale) {
        int bar = strcmp(cfg->progress, "bar") == 0 ||
                  (strcmp(cfg->progress, "auto") == 0 && isatty(STDERR_FILENO));
        char n[32];
        snprintf(n, sizeof n, "%d", nstale);
        log_ev(LOG_INFO, "processing stale tracks", "tracks", n, NULL);
        progress_init(&r.prog, bar, nstale, stale_bytes);
        if (fs_mkdirs(r.staging, err, errlen) != 0 || run_workers(&r, nstale) != 0) {
            progress_finish(&r.prog);
            goto out;
        }
        progress_finish(&r.prog);
        if (r.fatal) {
            err_set(err, errlen, "%s", r.fatal_msg);
            goto out;
        }
    }
    if (artwork_stage(&r, res, err, errlen) != 0)
        goto out;
    /* After the workers: a track whose new version failed keeps its old segments, which need their pins too. */
    if (restore_pins(&r, &res->reuploaded, err, errlen) != 0) {
        err_prefix(err, errlen, "checking the node's pins");
        goto out;
    }
    for (size_t i = 0; i < r.njobs; i++) {
        struct job *j = &r.jobs[i];
        if (j->stale && j->ok)
            res->encoded++;
        if (j->skipped)
            res->skipped++;
        if (j->damaged)
            res->damaged++;
        if (j->silent)
            res->silent++;
    }
    res->left_out = (int)files.left_out;
    if (order_arrange(&r, &r.main, pc->source, err, errlen) != 0)
        goto out;
    res->music = (int)r.main.nmusic_order;
    res->jingles = (int)r.main.njingle_order;
    for (size_t i = 0; i < r.dayparts.n; i++)
        if (order_arrange(&r, &r.parts[i], pc->source, err, errlen) != 0)
            goto out;
    rc = finish(&r, &old, pc, res, err, errlen);
    if (rc == 0 && cfg->page_dir[0]) {
        struct page_identity id = {cfg->station_name, cfg->station_description, cfg->station_link,
                                   cfg->station_artwork};
        page_publish(&r.ipfs, cfg->page_dir, &id, cfg->processed_dir, &res->page, res->page_error,
                     sizeof res->page_error);
    }
out:
    if (r.staging[0])
        fs_remove_tree(r.staging, NULL, 0);
    for (size_t i = 0; r.jobs && i < r.njobs; i++) {
        manifest_track_free(&r.jobs[i].out);
        arttrack_free(&r.jobs[i].art);
    }
    free(r.jobs);
    free(r.old_manifest_text);
    free(r.old_playlist_text);
    free(r.old_dayparts_text);
    order_free(&r.main);
    for (size_t i = 0; r.parts && i < r.dayparts.n; i++)
        order_free(&r.parts[i]);
    free(r.parts);
    dayparts_config_free(&r.dayparts);
    ipfs_client_free(&r.ipfs);
    manifest_free(&old);
    scan_list_free(&files);
    pthread_mutex_destroy(&r.lock);
    if (lockfd >= 0)
        close(lockfd);
    return rc;
}
