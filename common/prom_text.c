#include "prom_text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void prom_put(struct prom_text *o, const char *fmt, ...)
{
    while (!o->oom) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->p ? o->p + o->len : NULL, o->p ? o->cap - o->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->oom = 1;
            return;
        }
        if (o->p && (size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = (o->cap + (size_t)n + 1) * 2;
        char *np = realloc(o->p, cap);
        if (!np) {
            o->oom = 1;
            return;
        }
        o->p = np;
        o->cap = cap;
    }
}

void prom_head(struct prom_text *o, const char *name, const char *type, const char *help)
{
    prom_put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void prom_label(struct prom_text *o, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            prom_put(o, "\\%c", *v);
        else if (*v == '\n')
            prom_put(o, "\\n");
        else
            prom_put(o, "%c", *v);
    }
}

void prom_value(struct prom_text *o, double v)
{
    if (isnan(v))
        prom_put(o, "NaN\n");
    else if (isinf(v))
        prom_put(o, v > 0 ? "+Inf\n" : "-Inf\n");
    else
        prom_put(o, "%.15g\n", v);
}

char *prom_finish(struct prom_text *o)
{
    prom_put(o, "%s", "");
    if (o->oom) {
        free(o->p);
        o->p = NULL;
        return NULL;
    }
    char *p = o->p;
    o->p = NULL;
    return p;
}
