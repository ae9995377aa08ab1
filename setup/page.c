#include "page.h"

#include "atomic.h"
#include "err.h"
#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PAGE_JSON_MAX (1u << 20)
/* No page file (hls.js is the largest, about 400 KiB) comes near this;
 * it bounds what one read takes into memory. */
#define PAGE_FILE_MAX (64u << 20)
#define PAGE_STAGING ".page-staging"

struct page_files {
    char **names;
    size_t n, cap;
};

static void files_free(struct page_files *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->names[i]);
    free(f->names);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names a gateway serves as they are, without any escaping. */
static int plain_name(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '-' || *s == '_'))
            return 0;
    return 1;
}

/* Top-level regular files only: the folder also holds how hls.js gets in
 * (vendor/), which is no part of the page. */
static int list_files(const char *dir, struct page_files *out, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d)
        return err_set(err, errlen, "open %s: %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        struct stat st;
        if ((rc = fs_path(path, sizeof path, err, errlen, "%s/%s", dir, e->d_name)) != 0)
            break;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (!plain_name(e->d_name)) {
            rc = err_set(err, errlen, "%s: page file names may hold only letters, digits, '.', '-' and '_'",
                         path);
            break;
        }
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 16;
            char **nv = realloc(out->names, cap * sizeof *nv);
            if (!nv) {
                rc = err_set(err, errlen, "out of memory");
                break;
            }
            out->names = nv;
            out->cap = cap;
        }
        if (!(out->names[out->n] = strdup(e->d_name))) {
            rc = err_set(err, errlen, "out of memory");
            break;
        }
        out->n++;
    }
    closedir(d);
    if (rc == 0 && out->n)
        qsort(out->names, out->n, sizeof *out->names, cmp_name);
    return rc;
}

/* [{"name", "bytes", "sha256"}] in name order: what identifies the page. */
static json_t *describe(const char *dir, const struct page_files *f, char *err, size_t errlen)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < f->n; i++) {
        char path[4096], sha[65];
        struct stat st;
        if (fs_path(path, sizeof path, err, errlen, "%s/%s", dir, f->names[i]) != 0 ||
            scan_hash_file(path, sha, err, errlen) != 0) {
            json_decref(a);
            return NULL;
        }
        if (stat(path, &st) != 0) {
            err_set(err, errlen, "stat %s: %s", path, strerror(errno));
            json_decref(a);
            return NULL;
        }
        json_array_append_new(a, json_pack("{s:s, s:I, s:s}", "name", f->names[i], "bytes",
                                           (json_int_t)st.st_size, "sha256", sha));
    }
    if (!a)
        err_set(err, errlen, "out of memory");
    return a;
}

struct pin_probe {
    const char *cid;
    int found;
};

static int probe_pin(void *ctx, const char *cid)
{
    struct pin_probe *p = ctx;
    p->found |= strcmp(p->cid, cid) == 0;
    return 0;
}

/* The previous run's directory CID, when it added exactly these files. */
static void previous_cid(const char *json_path, const json_t *files, char out[CID_MAX_STR])
{
    out[0] = '\0';
    char *text = NULL;
    if (atomic_read(json_path, PAGE_JSON_MAX, &text, NULL, NULL, 0) != 0)
        return;
    json_t *old = json_loads(text, 0, NULL);
    free(text);
    json_t *cid = old ? json_object_get(old, "cid") : NULL;
    if (json_is_string(cid) && json_equal(json_object_get(old, "files"), (json_t *)files))
        snprintf(out, CID_MAX_STR, "%s", json_string_value(cid));
    json_decref(old);
}

static int upload(const struct ipfs_client *c, const char *dir, const struct page_files *f,
                  char cid[CID_MAX_STR], char *err, size_t errlen)
{
    struct ipfs_add_item *items = calloc(f->n, sizeof *items);
    char **paths = calloc(f->n, sizeof *paths);
    int rc = 0;
    if (!items || !paths)
        rc = err_set(err, errlen, "out of memory");
    for (size_t i = 0; rc == 0 && i < f->n; i++) {
        char path[4096];
        if ((rc = fs_path(path, sizeof path, err, errlen, "%s/%s", dir, f->names[i])) != 0)
            break;
        if (!(paths[i] = strdup(path)))
            rc = err_set(err, errlen, "out of memory");
        items[i].path = paths[i];
        items[i].name = f->names[i];
    }
    if (rc == 0)
        rc = ipfs_add_dir(c, items, f->n, cid, err, errlen);
    for (size_t i = 0; paths && i < f->n; i++)
        free(paths[i]);
    free(paths);
    free(items);
    return rc;
}

static const char *const ARTWORK_TYPES[] = {"png", "jpg", "jpeg", "webp", "gif"};

/* The artwork's extension, lower case, when it is an image type browsers show. */
static int artwork_ext(const char *path, char out[8])
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/') || strlen(dot + 1) >= 8)
        return -1;
    size_t i = 0;
    for (const char *p = dot + 1; *p; p++)
        out[i++] = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
    out[i] = '\0';
    for (size_t k = 0; k < sizeof ARTWORK_TYPES / sizeof ARTWORK_TYPES[0]; k++)
        if (strcmp(out, ARTWORK_TYPES[k]) == 0)
            return 0;
    return -1;
}

int page_identity_check(const struct page_identity *id, char *err, size_t errlen)
{
    if (page_link_check(id->link, err, errlen) != 0)
        return -1;
    if (!id->artwork_path || !id->artwork_path[0])
        return 0;
    char ext[8];
    struct stat st;
    if (artwork_ext(id->artwork_path, ext) != 0)
        return err_set(err, errlen, "station_artwork %s: not a png, jpg, jpeg, webp or gif file", id->artwork_path);
    if (stat(id->artwork_path, &st) != 0)
        return err_set(err, errlen, "station_artwork %s: %s", id->artwork_path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return err_set(err, errlen, "station_artwork %s: not a regular file", id->artwork_path);
    if ((size_t)st.st_size > PAGE_FILE_MAX)
        return err_set(err, errlen, "station_artwork %s: larger than %u MiB", id->artwork_path,
                       PAGE_FILE_MAX >> 20);
    return 0;
}

static int copy_file(const char *from, const char *to, char *err, size_t errlen)
{
    char *data = NULL;
    size_t len = 0;
    int rc = atomic_read(from, PAGE_FILE_MAX, &data, &len, err, errlen);
    if (rc == 0)
        rc = atomic_write(to, data, len, err, errlen);
    free(data);
    return rc;
}

static int render_index(const char *from, const char *to, const struct page_station *s, char *err,
                        size_t errlen)
{
    char *tmpl = NULL, *out = NULL;
    size_t len = 0, outlen = 0;
    int rc = atomic_read(from, PAGE_FILE_MAX, &tmpl, &len, err, errlen);
    if (rc == 0)
        rc = page_template_render(tmpl, len, s, &out, &outlen, err, errlen);
    if (rc == 0)
        rc = atomic_write(to, out, outlen, err, errlen);
    free(tmpl);
    free(out);
    return rc;
}

/* The page as it is added: page_dir's files, index.html with the station
 * written in, and the station's artwork. */
static int stage(const char *page_dir, const struct page_identity *id, const char *staging,
                 struct page_files *f, char *err, size_t errlen)
{
    char artwork[64] = PAGE_DEFAULT_ARTWORK;
    if (id->artwork_path && id->artwork_path[0]) {
        char ext[8];
        if (page_identity_check(id, err, errlen) != 0 || artwork_ext(id->artwork_path, ext) != 0)
            return -1;
        snprintf(artwork, sizeof artwork, "%s.%s", PAGE_ARTWORK_NAME, ext);
    }
    struct page_station s = {id->name, id->description, id->link, artwork};
    if (fs_remove_tree(staging, err, errlen) != 0 || fs_mkdirs(staging, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < f->n; i++) {
        char from[4096], to[4096];
        if (fs_path(from, sizeof from, err, errlen, "%s/%s", page_dir, f->names[i]) != 0 ||
            fs_path(to, sizeof to, err, errlen, "%s/%s", staging, f->names[i]) != 0)
            return -1;
        int rc = strcmp(f->names[i], "index.html") == 0 ? render_index(from, to, &s, err, errlen)
                                                         : copy_file(from, to, err, errlen);
        if (rc != 0)
            return -1;
    }
    if (strcmp(artwork, PAGE_DEFAULT_ARTWORK) == 0)
        return 0;
    char to[4096];
    if (fs_path(to, sizeof to, err, errlen, "%s/%s", staging, artwork) != 0 ||
        copy_file(id->artwork_path, to, err, errlen) != 0)
        return -1;
    files_free(f);
    memset(f, 0, sizeof *f);
    return list_files(staging, f, err, errlen);
}

int page_publish(const struct ipfs_client *c, const char *page_dir, const struct page_identity *id,
                 const char *processed_dir, struct page_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    struct stat st;
    if (stat(page_dir, &st) != 0 && errno == ENOENT) {
        res->absent = 1;
        return 0;
    }
    struct page_files f = {0};
    json_t *files = NULL, *doc = NULL;
    char *text = NULL;
    char json_path[4096], index[4096], staging[4096];
    int rc = -1;
    staging[0] = '\0';
    if (list_files(page_dir, &f, err, errlen) != 0)
        goto out;
    if (fs_path(index, sizeof index, err, errlen, "%s/index.html", page_dir) != 0)
        goto out;
    if (stat(index, &st) != 0 || !S_ISREG(st.st_mode)) {
        err_set(err, errlen, "page folder %s has no index.html", page_dir);
        goto out;
    }
    if (fs_path(staging, sizeof staging, err, errlen, "%s/" PAGE_STAGING, processed_dir) != 0 ||
        stage(page_dir, id, staging, &f, err, errlen) != 0)
        goto out;
    page_dir = staging;
    if (!(files = describe(page_dir, &f, err, errlen)) ||
        fs_path(json_path, sizeof json_path, err, errlen, "%s/page.json", processed_dir) != 0)
        goto out;

    previous_cid(json_path, files, res->cid);
    struct pin_probe probe = {.cid = res->cid};
    if (res->cid[0] && ipfs_pin_ls_recursive(c, probe_pin, &probe, err, errlen) != 0)
        goto out;
    if (!probe.found) {
        if (upload(c, page_dir, &f, res->cid, err, errlen) != 0)
            goto out;
        res->added = 1;
    }
    doc = json_pack("{s:s, s:O}", "cid", res->cid, "files", files);
    text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    if (!text) {
        err_set(err, errlen, "out of memory");
        goto out;
    }
    size_t len = strlen(text);
    res->written = !atomic_same_content(json_path, text, len);
    if (res->written && atomic_write(json_path, text, len, err, errlen) != 0)
        goto out;
    rc = 0;
out:
    if (staging[0])
        fs_remove_tree(staging, NULL, 0);
    if (rc != 0)
        err_prefix(err, errlen, "listener page");
    free(text);
    json_decref(doc);
    json_decref(files);
    files_free(&f);
    return rc;
}
