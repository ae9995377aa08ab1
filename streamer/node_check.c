#include "node_check.h"

#include "cid.h"
#include "err.h"
#include "order.h"

#include <jansson.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct pinned {
    char **v;
    size_t n, cap;
};

static int add_pin(struct pinned *p, const char *cid)
{
    char canon[CID_MAX_STR];
    if (cid_to_base32(cid, canon, sizeof canon) != 0)
        return 0; /* not a CID we could name anyway */
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        char **nv = realloc(p->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        p->v = nv;
        p->cap = cap;
    }
    if (!(p->v[p->n] = strdup(canon)))
        return -1;
    p->n++;
    return 0;
}

/* Kubo answers {"Keys": {cid: {"Type": ...}}}, or one {"Cid": ...} per
 * line when streaming: both are read. */
static int read_pins(const char *body, struct pinned *p)
{
    char *copy = strdup(body), *save = NULL;
    if (!copy)
        return -1;
    int rc = 0;
    for (char *line = strtok_r(copy, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j)
            continue;
        json_t *keys = json_object_get(j, "Keys"), *cid = json_object_get(j, "Cid");
        if (json_is_object(keys)) {
            const char *k;
            json_t *v;
            json_object_foreach(keys, k, v) {
                if ((rc = add_pin(p, k)) != 0)
                    break;
            }
        } else if (json_is_string(cid)) {
            rc = add_pin(p, json_string_value(cid));
        }
        json_decref(j);
    }
    free(copy);
    return rc;
}

int node_check_pinned(const struct ipfs_client *c, const char *const *cids, size_t n, char *err, size_t errlen)
{
    struct ipfs_response r;
    if (ipfs_call(c, "pin/ls", "type=all&cid-base=base32", &r, err, errlen) != 0)
        return err_prefix(err, errlen, "cannot ask the node which segments it holds");
    struct pinned p = {0};
    int rc = read_pins(r.body ? r.body : "", &p);
    ipfs_response_free(&r);
    if (rc != 0)
        err_set(err, errlen, "out of memory");
    if (rc == 0 && p.n)
        qsort(p.v, p.n, sizeof *p.v, cmp_str);
    size_t missing = 0;
    const char *first = NULL;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char canon[CID_MAX_STR];
        const char *key = canon;
        if (cid_to_base32(cids[i], canon, sizeof canon) != 0 || !p.n ||
            !bsearch(&key, p.v, p.n, sizeof *p.v, cmp_str)) {
            if (!missing++)
                first = cids[i];
        }
    }
    if (rc == 0 && missing)
        rc = err_set(err, errlen, "the node lacks %zu of %zu segments (first: %s); add and pin them before "
                     "naming them", missing, n, first);
    for (size_t i = 0; i < p.n; i++)
        free(p.v[i]);
    free(p.v);
    return rc;
}

int node_check_order(const struct ipfs_client *c, const struct order *o, const char *processed_dir, char *err,
                     size_t errlen)
{
    const char **cids = calloc(o->n + 1, sizeof *cids);
    if (!cids)
        return err_set(err, errlen, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < o->n; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", processed_dir, o->segs[i].file);
        if (access(path, R_OK) != 0)
            cids[n++] = o->segs[i].cid;
    }
    int rc = n ? node_check_pinned(c, cids, n, err, errlen) : 0;
    free(cids);
    if (rc != 0)
        err_prefix(err, errlen, "segments without a file in %s", processed_dir);
    return rc;
}
