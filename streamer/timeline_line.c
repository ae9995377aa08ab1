#include "timeline_line.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void timeline_line_format(const struct sched_anchor *a, char out[TIMELINE_LINE_MAX])
{
    /* The offset only when the order resumes mid-loop (after queued
     * items), so lines of a timeline without a queue read as before. */
    char offset[48] = "";
    if (a->offset)
        snprintf(offset, sizeof offset, ",ANCHOR-OFFSET=%lld", (long long)a->offset);
    snprintf(out, TIMELINE_LINE_MAX, "%sANCHOR-TIME=%.17g,ANCHOR-SEQUENCE=%lld,ANCHOR-DISCONTINUITIES=%lld%s,ORDER=%s\n",
             TIMELINE_LINE_TAG, a->time, (long long)a->seq, (long long)a->disc_before, offset, a->order_id);
}

int timeline_line_append(char **text, size_t *len, const struct sched_anchor *a)
{
    char line[TIMELINE_LINE_MAX];
    timeline_line_format(a, line);
    size_t l = strlen(line);
    char *grown = realloc(*text, *len + l + 1);
    if (!grown) {
        free(*text);
        *text = NULL;
        return -1;
    }
    memcpy(grown + *len, line, l + 1);
    *text = grown;
    *len += l;
    return 0;
}

int timeline_line_parse(const char *text, size_t len, struct sched_anchor *a)
{
    size_t tl = strlen(TIMELINE_LINE_TAG);
    for (size_t i = 0; i + tl <= len; i++) {
        if ((i > 0 && text[i - 1] != '\n') || memcmp(text + i, TIMELINE_LINE_TAG, tl) != 0)
            continue;
        size_t end = i;
        while (end < len && text[end] != '\n')
            end++;
        char line[TIMELINE_LINE_MAX];
        if (end - i >= sizeof line)
            return -1;
        memcpy(line, text + i, end - i);
        line[end - i] = '\0';
        struct sched_anchor got = {0};
        long long seq, disc, off = 0;
        char order[65];
        int used = 0;
        if ((sscanf(line + tl, "ANCHOR-TIME=%lf,ANCHOR-SEQUENCE=%lld,ANCHOR-DISCONTINUITIES=%lld,ORDER=%64[0-9a-f]%n",
                    &got.time, &seq, &disc, order, &used) != 4 &&
             sscanf(line + tl,
                    "ANCHOR-TIME=%lf,ANCHOR-SEQUENCE=%lld,ANCHOR-DISCONTINUITIES=%lld,ANCHOR-OFFSET=%lld,"
                    "ORDER=%64[0-9a-f]%n", &got.time, &seq, &disc, &off, order, &used) != 5) ||
            line[tl + (size_t)used] != '\0' || !isfinite(got.time) || seq < 0 || disc < 0 || off < 0 ||
            strlen(order) != 64)
            return -1;
        got.offset = off;
        got.seq = seq;
        got.disc_before = disc;
        memcpy(got.order_id, order, sizeof got.order_id);
        *a = got;
        return 0;
    }
    return -1;
}
