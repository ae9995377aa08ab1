/* Local time in a named IANA zone, read from TZif files (RFC 8536) by this
 * module itself. The streamer is multithreaded and its zone may change
 * while it runs, so the process-global TZ of the C library (setenv("TZ"),
 * tzset, localtime) is not usable there: each struct tz is a value of its
 * own, immutable once loaded, and may be read from any number of threads. */
#ifndef RADIO_TZ_H
#define RADIO_TZ_H

#include <stddef.h>
#include <stdint.h>

/* Zone files larger than this are refused (the largest in tzdata 2025b,
 * Asia/Hebron, has under 4 KiB). */
#define TZ_FILE_MAX (1024 * 1024)
/* Longest zone name accepted (the longest in tzdata has 30 characters). */
#define TZ_NAME_MAX 255
/* Where zone files are looked up when $TZDIR is not set. */
#define TZ_DIR_DEFAULT "/usr/share/zoneinfo"
/* Instants are clamped to [-TZ_T_LIMIT, TZ_T_LIMIT] (about +-31,000 years),
 * so no calendar arithmetic can overflow. */
#define TZ_T_LIMIT INT64_C(1000000000000)

struct tz;

/* Loads an IANA zone by name. "UTC" and "Etc/UTC" need no file; other names
 * are read from $TZDIR if set, else TZ_DIR_DEFAULT. Refused: names with
 * "..", a leading '/', empty components or characters outside
 * [A-Za-z0-9_+-/]; files that are not TZif (version 1, and 2 and later, are read),
 * truncated or inconsistent, larger than TZ_FILE_MAX, or with leap-second
 * records (the "right/" zones count leap seconds, Unix time does not).
 * Returns 0, or -1 (ERR_ENVIRONMENT when memory runs out) with a message
 * in err. */
int tz_load(const char *name, struct tz **out, char *err, size_t errlen);
/* As tz_load, with the directory given (NULL: as tz_load). */
int tz_load_from(const char *dir, const char *name, struct tz **out, char *err, size_t errlen);
void tz_free(struct tz *z);
const char *tz_name(const struct tz *z);

/* Seconds east of UTC in force at Unix time t. Before the file's first
 * transition, time type 0 is in force (RFC 8536 3.2); after its last one,
 * the footer's POSIX TZ rule, or else the last transition's type. */
int32_t tz_offset(const struct tz *z, int64_t t);

/* Local civil time of t in the zone. */
struct tz_local {
    int64_t t;          /* the instant, clamped to +-TZ_T_LIMIT */
    int32_t offset;     /* seconds east of UTC */
    int year, month /* 1-12 */, day, hour, minute, second;
    int weekday;        /* 0 = Monday ... 6 = Sunday */
    int seconds_of_day;
    int64_t local_days; /* days since 1970-01-01 in local time */
};
void tz_local(const struct tz *z, int64_t t, struct tz_local *out);

/* The transition instants of the file, ascending (not those the footer's
 * rule makes); for tests and diagnostics. */
size_t tz_transitions(const struct tz *z, const int64_t **times);

/* A POSIX TZ rule as a TZif footer holds it (RFC 8536 3.3, with the
 * version 3 extensions: transition hours from -167 to 167, all-year DST). */
enum tz_date_kind { TZ_DATE_JULIAN1 /* Jn */, TZ_DATE_JULIAN0 /* n */, TZ_DATE_MONTH /* Mm.w.d */ };
struct tz_rule_date {
    enum tz_date_kind kind;
    int day;            /* Jn: 1-365; n: 0-365; M: weekday 0 = Sunday ... 6 */
    int month, week;    /* M only: 1-12, 1-5 (5 = the last) */
    int32_t time;       /* local seconds after midnight, -167h to 167h */
};
struct tz_rule {
    int32_t std_offset; /* seconds east of UTC */
    int has_dst;
    int32_t dst_offset;
    struct tz_rule_date start, end;
};
/* Parses a footer string such as "CET-1CEST,M3.5.0,M10.5.0/3" or "<+0545>-5:45".
 * A rule with DST but no ",start,end" is refused. Returns 0 or -1 with err. */
int tz_rule_parse(const char *s, struct tz_rule *out, char *err, size_t errlen);
/* Seconds east of UTC the rule gives at Unix time t. */
int32_t tz_rule_offset(const struct tz_rule *r, int64_t t);

#endif
