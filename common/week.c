#include "week.h"

#include <stdio.h>
#include <string.h>

const char *const week_day_names[WEEK_DAYS] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

int week_day(const char *name)
{
    for (int d = 0; name && d < WEEK_DAYS; d++)
        if (strcmp(name, week_day_names[d]) == 0)
            return d;
    return -1;
}

static int two_digits(const char *p, int *v)
{
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
        return -1;
    *v = (p[0] - '0') * 10 + (p[1] - '0');
    return 0;
}

int week_parse_time(const char *s, int is_end, int *out)
{
    size_t len = strlen(s);
    int h, m, sec = 0;
    if ((len != 5 && len != 8) || two_digits(s, &h) != 0 || s[2] != ':' || two_digits(s + 3, &m) != 0 ||
        (len == 8 && (s[5] != ':' || two_digits(s + 6, &sec) != 0)))
        return -1;
    if (h > 24 || m > 59 || sec > 59)
        return -1;
    int t = (h * 60 + m) * 60 + sec;
    if (t > WEEK_DAY_SECONDS || (t == WEEK_DAY_SECONDS && !is_end) || (t == 0 && is_end))
        return -1;
    *out = t;
    return 0;
}

void week_time_text(int seconds, char *out, size_t len)
{
    int h = seconds / 3600, m = seconds / 60 % 60, s = seconds % 60;
    if (s)
        snprintf(out, len, "%02d:%02d:%02d", h, m, s);
    else
        snprintf(out, len, "%02d:%02d", h, m);
}

int week_name_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > WEEK_NAME_MAX)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '_' || *p == '-'))
            return 0;
    return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

json_t *week_days_json(unsigned days)
{
    json_t *a = json_array();
    for (int d = 0; a && d < WEEK_DAYS; d++)
        if ((days & (1u << d)) && json_array_append_new(a, json_string(week_day_names[d])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static int64_t length(const struct week_span *s)
{
    return s->end > s->start ? s->end - s->start : s->end + WEEK_DAY_SECONDS - s->start;
}

int week_holds(const struct week_span *s, int64_t w)
{
    for (int d = 0; d < WEEK_DAYS; d++) {
        if (!(s->days & (1u << d)))
            continue;
        int64_t since = ((w - ((int64_t)d * WEEK_DAY_SECONDS + s->start)) % WEEK_SECONDS + WEEK_SECONDS) % WEEK_SECONDS;
        if (since < length(s))
            return 1;
    }
    return 0;
}

/* Two spans overlap exactly when one is on air at the other's first second. */
int week_overlap(const struct week_span *a, const struct week_span *b, int64_t *at)
{
    for (int d = 0; d < WEEK_DAYS; d++) {
        int64_t day = (int64_t)d * WEEK_DAY_SECONDS;
        if ((a->days & (1u << d)) && week_holds(b, day + a->start)) {
            *at = day + a->start;
            return 1;
        }
        if ((b->days & (1u << d)) && week_holds(a, day + b->start)) {
            *at = day + b->start;
            return 1;
        }
    }
    return 0;
}
