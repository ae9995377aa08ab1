#include "analyze.h"

#include "atomic.h"
#include "audio.h"
#include "err.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define JSON_DIGITS 7

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *render(const struct hm_config *cfg, char *const *files, size_t n,
                      const struct hm_audio_segment *seg, const struct hm_audio_result *a, int ok)
{
    json_t *segs = json_array();
    for (size_t i = 0; segs && i < n; i++) {
        json_t *o = json_pack("{s:s, s:b, s:o, s:I}", "file", files[i], "decoded", seg[i].decoded,
                              "seconds", num(seg[i].seconds), "bad_packets",
                              (json_int_t)seg[i].bad_packets);
        if (o && !seg[i].decoded)
            json_object_set_new(o, "error", json_string(seg[i].error));
        json_array_append_new(segs, o);
    }
    if (!ok)
        return json_pack("{s:o, s:n}", "inputs", segs, "audio");
    return json_pack(
        "{s:o, s:{s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:b, s:b}}",
        "inputs", segs, "audio", "sample_rate", a->sample_rate, "channels", a->channels,
        "seconds", num(a->seconds), "integrated_lufs", num(a->integrated_lufs),
        "short_term_lufs", num(a->short_term_lufs), "short_term_min_lufs",
        num(a->short_term_min_lufs), "short_term_max_lufs", num(a->short_term_max_lufs),
        "true_peak_dbtp", num(a->true_peak_dbtp), "sample_peak_dbfs", num(a->sample_peak_dbfs),
        "rms_dbfs", num(a->rms_dbfs), "silent_seconds", num(a->silent_seconds), "clips",
        (json_int_t)a->clips, "silence", a->silent_seconds >= cfg->silence_hold_seconds,
        "clipping", a->clips > 0);
}

int hm_analyze_files(const struct hm_config *cfg, char *const *files, size_t n,
                     char *err, size_t errlen)
{
    struct hm_audio_input *in = calloc(n ? n : 1, sizeof *in);
    struct hm_audio_segment *seg = calloc(n ? n : 1, sizeof *seg);
    char **bufs = calloc(n ? n : 1, sizeof *bufs);
    int rc = 0;
    if (!in || !seg || !bufs)
        rc = err_set(err, errlen, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t len = 0;
        if (atomic_read(files[i], (size_t)cfg->max_segment_kib * HM_KIB, &bufs[i], &len, err, errlen) != 0)
            rc = -1;
        in[i].data = (const uint8_t *)bufs[i];
        in[i].len = len;
    }
    if (rc == 0) {
        struct hm_audio_params p = {cfg->true_peak, cfg->short_term_step_seconds,
                                    cfg->silence_floor_lufs, cfg->clip_level_dbfs,
                                    cfg->clip_run_samples};
        struct hm_audio_result a;
        char why[ERR_MSG_MAX];
        int ok = hm_audio_analyze(&p, in, n, seg, &a, why, sizeof why) == 0;
        json_t *doc = render(cfg, files, n, seg, &a, ok);
        char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(JSON_DIGITS)) : NULL;
        json_decref(doc);
        if (!text)
            rc = err_set(err, errlen, "out of memory");
        else
            printf("%s\n", text);
        free(text);
        if (rc == 0 && !ok)
            rc = err_set(err, errlen, "%s", why);
    }
    for (size_t i = 0; bufs && i < n; i++)
        free(bufs[i]);
    free(bufs);
    free(in);
    free(seg);
    return rc;
}
