#include "log.h"

#include "text.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum log_level g_min = LOG_INFO;
/* One line must reach stderr whole even when worker threads log at once. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "notice", "warn", "error"};

void log_set_level(enum log_level min) { g_min = min; }
enum log_level log_get_level(void) { return g_min; }

int log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    return -1;
}

static int needs_quotes(const char *v)
{
    if (!*v || !text_is_utf8(v))
        return 1;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            return 1;
    return 0;
}

static void put_value(FILE *f, const char *v)
{
    if (!needs_quotes(v)) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    size_t n;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < ' ' || *p == 0x7f)
            fprintf(f, "\\x%02x", *p);
        else if (*p < 0x80)
            fputc(*p, f);
        else if ((n = text_utf8_seq_len(p)) != 0) {
            fwrite(p, 1, n, f);
            p += n - 1;
        } else {
            /* A file name from an older system (Latin-1): log lines stay UTF-8. */
            fprintf(f, "\\x%02x", *p);
        }
    }
    fputc('"', f);
}

static void emit(enum log_level lvl, const char *msg, const char *const *kv, va_list *ap)
{
    if (lvl < g_min)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

    pthread_mutex_lock(&g_lock);
    fprintf(stderr, "%-6s %s.%03ldZ ", level_names[lvl], when, ts.tv_nsec / 1000000L);
    /* The message is free text; keep it on one line. */
    for (const char *p = msg; *p; p++)
        fputc(*p == '\n' ? ' ' : *p, stderr);
    if (kv) {
        for (size_t i = 0; kv[i] && kv[i + 1]; i += 2) {
            fprintf(stderr, " %s=", kv[i]);
            put_value(stderr, kv[i + 1]);
        }
    } else if (ap) {
        const char *k;
        while ((k = va_arg(*ap, const char *)) != NULL) {
            const char *v = va_arg(*ap, const char *);
            fprintf(stderr, " %s=", k);
            put_value(stderr, v ? v : "");
        }
    }
    fputc('\n', stderr);
    pthread_mutex_unlock(&g_lock);
}

void log_kv(enum log_level lvl, const char *msg, const char *const *kv)
{
    emit(lvl, msg, kv, NULL);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    emit(lvl, buf, NULL, NULL);
}

void log_ev(enum log_level lvl, const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    emit(lvl, msg, NULL, &ap);
    va_end(ap);
}
