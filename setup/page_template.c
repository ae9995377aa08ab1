#include "page_template.h"

#include "err.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct out_buf {
    char *p;
    size_t len, cap;
    int oom;
};

static void put(struct out_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Safe in element text and in quoted attribute values, the two places the
 * template uses. */
static void put_escaped(struct out_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': put(b, "&amp;", 5); break;
        case '<': put(b, "&lt;", 4); break;
        case '>': put(b, "&gt;", 4); break;
        case '"': put(b, "&quot;", 6); break;
        case '\'': put(b, "&#39;", 5); break;
        default: put(b, s, 1);
        }
    }
}

int page_link_check(const char *link, char *err, size_t errlen)
{
    if (!link || !link[0])
        return 0;
    if (strncasecmp(link, "https://", 8) != 0 && strncasecmp(link, "http://", 7) != 0)
        return err_set(err, errlen, "station_link must be an http:// or https:// URL, not \"%s\"", link);
    for (const unsigned char *p = (const unsigned char *)link; *p; p++)
        if (*p <= ' ' || *p == 0x7F)
            return err_set(err, errlen, "station_link must not hold spaces or control characters");
    return 0;
}

int page_template_render(const char *tmpl, size_t len, const struct page_station *s, char **out,
                         size_t *outlen, char *err, size_t errlen)
{
    const struct {
        const char *key;
        const char *value;
    } vars[] = {
        {"{{station_name}}", s->name},
        {"{{station_description}}", s->description},
        {"{{station_link}}", s->link},
        {"{{station_artwork}}", s->artwork},
    };
    struct out_buf b = {0};
    size_t i = 0;
    while (i < len) {
        size_t k = 0, nvars = sizeof vars / sizeof vars[0];
        if (tmpl[i] == '{')
            for (; k < nvars; k++) {
                size_t kl = strlen(vars[k].key);
                if (len - i >= kl && memcmp(tmpl + i, vars[k].key, kl) == 0)
                    break;
            }
        if (tmpl[i] == '{' && k < nvars) {
            put_escaped(&b, vars[k].value);
            i += strlen(vars[k].key);
        } else {
            put(&b, tmpl + i, 1);
            i++;
        }
    }
    put(&b, "", 0);
    if (b.oom) {
        free(b.p);
        return err_set(err, errlen, "out of memory");
    }
    *out = b.p;
    if (outlen)
        *outlen = b.len;
    return 0;
}
