/* Building Prometheus' text exposition format (version 0.0.4): a growing
 * buffer that remembers running out of memory, so a renderer writes every
 * line and checks once at the end. */
#ifndef RADIO_PROM_TEXT_H
#define RADIO_PROM_TEXT_H

#include <stddef.h>

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct prom_text {
    char *p;
    size_t len, cap;
    int oom;
};

void prom_put(struct prom_text *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* # HELP and # TYPE lines of the metric `name`. */
void prom_head(struct prom_text *o, const char *name, const char *type, const char *help);
/* A label value, escaped as the format requires (backslash, quote, newline). */
void prom_label(struct prom_text *o, const char *v);
/* A sample value and the line's end (NaN, +Inf, -Inf spelt as the format wants). */
void prom_value(struct prom_text *o, double v);
/* The text (caller frees), or NULL when memory ran out on the way. */
char *prom_finish(struct prom_text *o);

#endif
