#include "order_rules.h"

#include "shuffle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int order_rules_mode_parse(const char *name, enum order_rules_mode *mode)
{
    static const struct {
        const char *name;
        enum order_rules_mode mode;
    } modes[] = {
        {"ordered", ORDER_RULES_ORDERED},
        {"alphabetical", ORDER_RULES_ALPHABETICAL},
        {"shuffle", ORDER_RULES_SHUFFLE},
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(name, modes[i].name) == 0) {
            *mode = modes[i].mode;
            return 0;
        }
    return -1;
}

static const char *base_name(const char *relpath)
{
    const char *slash = strrchr(relpath, '/');
    return slash ? slash + 1 : relpath;
}

enum order_rules_match order_rules_find(const char *const *relpaths, size_t n, const char *entry,
                                        size_t *index, char *why, size_t whylen)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(relpaths[i], entry) == 0) {
            *index = i;
            return ORDER_RULES_FOUND;
        }
    if (strchr(entry, '/'))
        return ORDER_RULES_MISSING;
    size_t found = 0, o = 0;
    if (whylen)
        why[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (strcmp(base_name(relpaths[i]), entry) != 0)
            continue;
        if (found++ == 0)
            *index = i;
        if (o < whylen) {
            int w = snprintf(why + o, whylen - o, "%s%s", o ? ", " : "", relpaths[i]);
            o += w > 0 ? (size_t)w : 0;
        }
    }
    if (found == 0)
        return ORDER_RULES_MISSING;
    return found == 1 ? ORDER_RULES_FOUND : ORDER_RULES_AMBIGUOUS;
}

struct sort_key {
    const char *first;       /* the artist, or the title when there is none */
    const char *second;      /* the title, or the file name when there is none */
    const char *relpath;
    size_t pos;              /* place in the list: equal keys keep it */
    long index;
};

/* ASCII letters ignore case; everything else compares by byte, which for
 * UTF-8 is code point order: the same on every machine, whatever its locale. */
static int cmp_text(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y || !x)
            return (x > y) - (x < y);
    }
}

static int cmp_key(const void *pa, const void *pb)
{
    const struct sort_key *a = pa, *b = pb;
    int c = cmp_text(a->first, b->first);
    if (!c)
        c = cmp_text(a->second, b->second);
    if (!c)
        c = strcmp(a->relpath, b->relpath);
    if (!c)
        c = (a->pos > b->pos) - (a->pos < b->pos);
    return c;
}

static int sort_alphabetical(const struct order_rules_item *items, long *v, size_t n)
{
    if (n < 2)
        return 0;
    struct sort_key *keys = calloc(n, sizeof *keys);
    if (!keys)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const struct order_rules_item *it = &items[v[i]];
        const char *title = it->title && it->title[0] ? it->title : base_name(it->relpath);
        keys[i].first = it->artist && it->artist[0] ? it->artist : title;
        keys[i].second = title;
        keys[i].relpath = it->relpath;
        keys[i].pos = i;
        keys[i].index = v[i];
    }
    qsort(keys, n, sizeof *keys, cmp_key);
    for (size_t i = 0; i < n; i++)
        v[i] = keys[i].index;
    free(keys);
    return 0;
}

long order_rules_arrange(const struct order_rules_item *items, size_t nitems, const long *picks,
                         size_t npicks, enum order_rules_mode mode, uint64_t seed, long *out)
{
    size_t n = picks ? npicks : nitems;
    for (size_t i = 0; i < n; i++)
        out[i] = picks ? picks[i] : (long)i;
    if (mode == ORDER_RULES_SHUFFLE)
        shuffle_longs(out, n, seed);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (out[i] >= 0 && (size_t)out[i] < nitems && items[out[i]].playable)
            out[kept++] = out[i];
    if (mode == ORDER_RULES_ALPHABETICAL && sort_alphabetical(items, out, kept) != 0)
        return -1;
    return (long)kept;
}
