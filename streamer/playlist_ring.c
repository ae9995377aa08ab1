#include "playlist_ring.h"

#include "atomic.h"
#include "err.h"
#include "json_file.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void playlist_ring_free(struct playlist_ring *r)
{
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

int playlist_ring_set(struct playlist_ring *r, char (*v)[CID_MAX_STR], size_t n)
{
    playlist_ring_free(r);
    for (size_t i = 0; i < n; i++)
        if (playlist_ring_push(r, v[i]) != 0)
            return -1;
    return 0;
}

void playlist_ring_remove(struct playlist_ring *r, const char *cid)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->v[i], cid) == 0) {
            memmove(r->v + i, r->v + i + 1, (r->n - i - 1) * sizeof *r->v);
            r->n--;
            return;
        }
    }
}

int playlist_ring_push(struct playlist_ring *r, const char *cid)
{
    /* Kept once, as the newest: trimming the older entry would delete the
     * playlist now on air. */
    playlist_ring_remove(r, cid);
    char (*nv)[CID_MAX_STR] = realloc(r->v, (r->n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    r->v = nv;
    snprintf(r->v[r->n++], CID_MAX_STR, "%s", cid);
    return 0;
}

const char *playlist_ring_excess(const struct playlist_ring *r, size_t keep, const char *current)
{
    if (r->n <= keep)
        return NULL;
    for (size_t i = 0; i < r->n - keep; i++)
        if (!current || strcmp(r->v[i], current) != 0)
            return r->v[i];
    return NULL;
}

int playlist_ring_save(const char *path, const char *url, const struct playlist_ring *r, const char *current,
                       char *err, size_t errlen)
{
    json_t *pls = json_array();
    for (size_t i = 0; i < r->n; i++)
        json_array_append_new(pls, json_string(r->v[i]));
    json_t *root = json_pack("{s:s, s:i, s:s, s:s, s:o}", "format", PLAYLIST_RING_FORMAT, "version",
                             PLAYLIST_RING_VERSION, "url", url, "current", current ? current : "",
                             "playlists", pls);
    char *text = root ? json_dumps(root, JSON_INDENT(1)) : NULL;
    json_decref(root);
    if (!text)
        return err_set(err, errlen, "out of memory");
    int rc = atomic_write(path, text, strlen(text), err, errlen);
    free(text);
    return rc;
}

int playlist_ring_load(const char *path, struct playlist_ring *r, char *current, size_t curlen,
                       char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (curlen)
        current[0] = '\0';
    json_t *root;
    if (json_file_load(path, PLAYLIST_RING_MAX_BYTES, &root, err, errlen) != 0)
        return -1;
    if (!root)
        return 0;
    json_error_t je;
    const char *fmt, *cur;
    json_int_t ver;
    json_t *pls;
    int rc = -1;
    if (json_unpack_ex(root, &je, 0, "{s:s, s:I, s:s, s:o}", "format", &fmt, "version", &ver, "current", &cur,
                       "playlists", &pls) != 0) {
        err_set(err, errlen, "%s: %s", path, je.text);
    } else if (strcmp(fmt, PLAYLIST_RING_FORMAT) != 0 || ver != PLAYLIST_RING_VERSION || !json_is_array(pls)) {
        err_set(err, errlen, "%s: not a version %d playlist list", path, PLAYLIST_RING_VERSION);
    } else {
        rc = 0;
        for (size_t i = 0; rc == 0 && i < json_array_size(pls); i++) {
            const char *c = json_string_value(json_array_get(pls, i));
            if (!c || strlen(c) >= CID_MAX_STR)
                rc = err_set(err, errlen, "%s: playlist %zu is not a CID", path, i);
            else if (playlist_ring_push(r, c) != 0)
                rc = err_set(err, errlen, "out of memory");
        }
        if (rc == 0)
            snprintf(current, curlen, "%s", cur);
    }
    json_decref(root);
    if (rc != 0)
        playlist_ring_free(r);
    return rc;
}
