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

int page_publish(const struct ipfs_client *c, const char *page_dir, const char *processed_dir,
                 struct page_result *res, char *err, size_t errlen)
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
    char json_path[4096], index[4096];
    int rc = -1;
    if (list_files(page_dir, &f, err, errlen) != 0)
        goto out;
    if (fs_path(index, sizeof index, err, errlen, "%s/index.html", page_dir) != 0)
        goto out;
    if (stat(index, &st) != 0 || !S_ISREG(st.st_mode)) {
        err_set(err, errlen, "page folder %s has no index.html", page_dir);
        goto out;
    }
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
    if (rc != 0)
        err_prefix(err, errlen, "listener page");
    free(text);
    json_decref(doc);
    json_decref(files);
    files_free(&f);
    return rc;
}
