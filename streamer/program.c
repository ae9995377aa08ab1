#include "program.h"

#include "atomic.h"
#include "err.h"
#include "manifest.h"
#include "playlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The parts' playlists matter only until their orders are built. */
static void free_part_texts(struct program *p)
{
    for (size_t i = 0; p->part_text && i < p->dp.n; i++)
        free(p->part_text[i]);
    free(p->part_text);
    free(p->part_len);
    p->part_text = NULL;
    p->part_len = NULL;
}

void program_free(struct program *p)
{
    order_texts_free(&p->base);
    free_part_texts(p);
    for (size_t i = 0; p->orders && i <= p->dp.n; i++)
        order_free(&p->orders[i]);
    free(p->orders);
    dayparts_free(&p->dp);
    memset(p, 0, sizeof *p);
}

static struct order_texts texts_of(const struct program *p, int part)
{
    struct order_texts t = p->base;
    if (part >= 0) {
        t.playlist = p->part_text[part];
        t.playlist_len = p->part_len[part];
        t.playlist_name = p->dp.parts[part].playlist;
    }
    return t;
}

int program_order(const struct program *p, int part, struct order *o, char *err, size_t errlen)
{
    return order_copy(&p->orders[part + 1], o, err, errlen);
}

/* Builds every order once: refused as a whole when one fails. */
static int build_all(struct program *p, const char *origin, program_check_fn check, void *ctx, char *err,
                     size_t errlen)
{
    if (!(p->orders = calloc(p->dp.n + 1, sizeof *p->orders)))
        return err_set(err, errlen, "out of memory");
    for (int part = -1; part < (int)p->dp.n; part++) {
        struct order_texts t = texts_of(p, part);
        struct order *o = &p->orders[part + 1];
        if (order_parse(&t, origin, o, err, errlen) != 0)
            return part >= 0 ? err_prefix(err, errlen, "day-part \"%s\"", p->dp.parts[part].name) : -1;
        if (check && check(ctx, o, err, errlen) != 0)
            return part >= 0 ? err_prefix(err, errlen, "day-part \"%s\"", p->dp.parts[part].name) : -1;
        p->rate = o->rate;
        if (o->max_rounded > p->max_target)
            p->max_target = o->max_rounded;
    }
    free_part_texts(p);
    return 0;
}

int program_from_texts(struct order_texts *base, const char *origin, struct program *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    snprintf(p->origin, sizeof p->origin, "%s", origin);
    p->base = *base;
    memset(base, 0, sizeof *base);
    if (build_all(p, origin, NULL, NULL, err, errlen) != 0) {
        program_free(p);
        return -1;
    }
    return 0;
}

static int read_dayparts(const char *dir, struct program *p, char *err, size_t errlen)
{
    char path[4200];
    if (fs_path(path, sizeof path, err, errlen, "%s/%s", dir, DAYPARTS_FILE) != 0)
        return -1;
    if (access(path, F_OK) != 0)
        return 0;
    char *text = NULL;
    size_t len = 0;
    if (atomic_read(path, DAYPARTS_MAX_BYTES, &text, &len, err, errlen) != 0)
        return err_prefix(err, errlen, "%s", path);
    int rc = dayparts_parse(text, len, &p->dp, err, errlen);
    free(text);
    if (rc != 0)
        return err_prefix(err, errlen, "%s", path);
    if (!(p->part_text = calloc(p->dp.n + 1, sizeof *p->part_text)) ||
        !(p->part_len = calloc(p->dp.n + 1, sizeof *p->part_len)))
        return err_set(err, errlen, "out of memory");
    for (size_t i = 0; i < p->dp.n; i++) {
        char pp[4200];
        if (fs_path(pp, sizeof pp, err, errlen, "%s/%s", dir, p->dp.parts[i].playlist) != 0 ||
            atomic_read(pp, PLAYLIST_MAX_BYTES, &p->part_text[i], &p->part_len[i], err, errlen) != 0)
            return err_prefix(err, errlen, "day-part \"%s\"", p->dp.parts[i].name);
    }
    return 0;
}

int program_read(const char *processed_dir, program_check_fn check, void *ctx, struct program *p, char *err,
                 size_t errlen)
{
    memset(p, 0, sizeof *p);
    snprintf(p->origin, sizeof p->origin, "%s", processed_dir);
    if (order_read(processed_dir, &p->base, err, errlen) != 0 || read_dayparts(processed_dir, p, err, errlen) != 0 ||
        build_all(p, processed_dir, check, ctx, err, errlen) != 0) {
        program_free(p);
        return -1;
    }
    return 0;
}

int program_part_of(const struct program *p, const char *order_id)
{
    for (size_t i = 0; p->orders && i <= p->dp.n; i++)
        if (strcmp(p->orders[i].id, order_id) == 0)
            return (int)i - 1;
    return -2;
}

int program_opening(const struct program *p, const struct station_memory *mem, double now, struct order *o,
                    int *part, char *err, size_t errlen)
{
    *part = mem && mem->have ? program_part_of(p, mem->anchor.order_id) : -2;
    if (*part == -2)
        *part = dayparts_at(&p->dp, now);
    return program_order(p, *part, o, err, errlen);
}

const char *program_part_name(const struct program *p, int part)
{
    return part >= 0 && (size_t)part < p->dp.n ? p->dp.parts[part].name : NULL;
}

void program_memory_put(struct program_memory *m, const char *order_id, int64_t offset)
{
    size_t i = 0;
    while (i < m->n && strcmp(m->v[i].order, order_id) != 0)
        i++;
    if (i == m->n && m->n == PROGRAM_MAX_POSITIONS)
        i = 0; /* the least recently left goes */
    if (i < m->n)
        memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof *m->v);
    else
        m->n++;
    snprintf(m->v[m->n - 1].order, sizeof m->v[m->n - 1].order, "%s", order_id);
    m->v[m->n - 1].offset = offset;
}

/* Where the order goes on: its remembered place when that still starts a
 * track of it, else its top. */
static size_t place_of(const struct program_memory *m, const struct order *o)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i].order, o->id) == 0 && m->v[i].offset >= 0 && m->v[i].offset < (int64_t)o->n &&
            o->segs[m->v[i].offset].track_start)
            return (size_t)m->v[i].offset;
    return 0;
}

int program_step(const struct program *p, struct program_memory *mem, struct station *st, double now, int64_t *at,
                 int *part, char *err, size_t errlen)
{
    *at = -1;
    struct sched *s = &st->sched;
    size_t resume;
    int64_t b = sched_insert_point(s, station_committed(st, now), &resume);
    struct sched_item it;
    if (sched_item(s, b, &it) != 0)
        return err_set(err, errlen, "sequence %lld is not on the timeline", (long long)b);
    *part = dayparts_at(&p->dp, it.pdt);
    if (!p->orders || strcmp(p->orders[*part + 1].id, s->order.id) == 0)
        return 0;
    struct order o;
    if (program_order(p, *part, &o, err, errlen) != 0)
        return -1;
    size_t offset = place_of(mem, &o);
    char leaving[65];
    memcpy(leaving, s->order.id, sizeof leaving);
    size_t leaving_n = s->order.n;
    if (station_switch(st, &o, offset, now, err, errlen) < 0) {
        order_free(&o);
        return -1;
    }
    program_memory_put(mem, leaving, resume < leaving_n ? (int64_t)resume : 0);
    *at = s->anchor.seq;
    return 1;
}

/* The part whose order the boundary at seq would switch to, -2 when it
 * stays, -3 when the timeline does not hold seq. */
static int switch_at(const struct program *p, const struct sched *s, int64_t seq, double *pdt)
{
    struct sched_item it;
    if (sched_item(s, seq, &it) != 0)
        return -3;
    *pdt = it.pdt;
    int part = dayparts_at(&p->dp, it.pdt);
    return strcmp(p->orders[part + 1].id, s->order.id) != 0 ? part : -2;
}

int program_forecast(const struct program *p, const struct program_memory *mem, const struct station *st,
                     double now, double horizon, struct sched *out, char *err, size_t errlen)
{
    if (!p->orders || p->dp.n == 0)
        return 0;
    const struct sched *s = &st->sched;
    size_t resume;
    int64_t decided = sched_insert_point(s, station_committed(st, now), &resume);
    /* Most of the time no boundary in the horizon switches: a look along
     * the timeline as it stands, without copying anything. */
    double pdt = 0;
    for (int64_t b = decided;;) {
        b = sched_insert_point(s, b, &resume);
        int part = switch_at(p, s, b, &pdt);
        if (part == -3 || pdt > now + horizon)
            return 0;
        if (part != -2)
            break;
    }
    struct order o;
    if (order_copy(&s->order, &o, err, errlen) != 0)
        return -1;
    sched_init(out, &o, &s->anchor);
    for (size_t i = 0; i < s->nhist; i++)
        if (sched_hist_push(out, &s->hist[i]) != 0) {
            sched_free(out);
            return err_set(err, errlen, "out of memory");
        }
    struct program_memory m = *mem;
    for (int64_t after = decided;;) {
        int64_t b = sched_insert_point(out, after, &resume);
        int part = switch_at(p, out, b, &pdt);
        if (part == -3 || pdt > now + horizon)
            break;
        if (part != -2) {
            struct order next;
            char leaving[65];
            memcpy(leaving, out->order.id, sizeof leaving);
            size_t leaving_n = out->order.n;
            if (order_copy(&p->orders[part + 1], &next, err, errlen) != 0 ||
                sched_switch(out, &next, b - 1, (size_t)(b - sched_first_seq(out)) + 1, place_of(&m, &next), err,
                             errlen) != 0) {
                order_free(&next);
                sched_free(out);
                return -1;
            }
            program_memory_put(&m, leaving, resume < leaving_n ? (int64_t)resume : 0);
        }
        after = b;
    }
    memcpy(out->order.id, s->order.id, sizeof out->order.id);
    return 1;
}
