#include "artwork_track.h"

#include "atomic.h"
#include "err.h"
#include "upload.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void dir_of(const char *path, char *out, size_t outlen)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, outlen, ".");
    else if (slash == path)
        snprintf(out, outlen, "/");
    else
        snprintf(out, outlen, "%.*s", (int)(slash - path), path);
}

static int64_t mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

void arttrack_check(const struct arttrack_ctx *c, const struct manifest_track *old, const char *source_path,
                    struct arttrack *out)
{
    memset(out, 0, sizeof *out);
    out->stale = 1;
    if (!old) {
        snprintf(out->why, sizeof out->why, "track cut anew");
        return;
    }
    const struct manifest_artwork_source *s = &old->art_src;
    if (!s->known) {
        snprintf(out->why, sizeof out->why, "no artwork recorded");
        return;
    }
    if (strcmp(s->params, c->params) != 0) {
        snprintf(out->why, sizeof out->why, "artwork settings changed");
        return;
    }
    for (size_t i = 0; i < old->nart; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", c->processed_dir, old->art[i].file);
        if (stat(path, &st) != 0 || (int64_t)st.st_size != old->art[i].bytes) {
            snprintf(out->why, sizeof out->why, "%s missing or resized", old->art[i].file);
            return;
        }
    }
    /* The source is unchanged (the track is fresh), so is its picture;
     * and with artwork turned off no picture matters. */
    if ((strcmp(s->from, "embedded") == 0 && !s->error) || c->opts->nsizes == 0) {
        out->stale = 0;
        return;
    }
    char dir[4096], name[256], path[4400];
    dir_of(source_path, dir, sizeof dir);
    int found = artwork_cover_file(dir, c->opts->names, name, sizeof name);
    /* No picture, or an embedded one that cannot be used: a cover file may come. */
    if (strcmp(s->from, "file") != 0) {
        out->stale = found;
        snprintf(out->why, sizeof out->why, "a cover file appeared");
        return;
    }
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!found || strcmp(name, s->path) != 0 || stat(path, &st) != 0 || (int64_t)st.st_size != s->size ||
        mtime_ns(&st) != s->mtime_ns) {
        snprintf(out->why, sizeof out->why, "cover file changed");
        return;
    }
    out->stale = 0;
}

/* The cover file's bytes, within artwork_max_bytes. */
static int read_cover(const struct arttrack_ctx *c, const char *path, uint8_t **data, size_t *len,
                      struct manifest_artwork_source *src, char *why, size_t whylen)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return err_set(why, whylen, "cover file cannot be read: %s", strerror(errno ? errno : EINVAL));
    src->size = st.st_size;
    src->mtime_ns = mtime_ns(&st);
    if (st.st_size > c->opts->max_bytes)
        return err_set(why, whylen, "cover file of %lld bytes, more than artwork_max_bytes", (long long)st.st_size);
    char *text = NULL;
    if (atomic_read(path, (size_t)c->opts->max_bytes, &text, len, why, whylen) != 0)
        return -1;
    *data = (uint8_t *)text;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, *data, *len);
    sodium_bin2hex(src->sha256, sizeof src->sha256, h, sizeof h);
    return 0;
}

/* Writes the images into processed/artwork/ (named by their content, so
 * a file the current manifest names is never rewritten with other bytes)
 * and adds them to the node. */
static int store(const struct arttrack_ctx *c, struct artwork_image *img, size_t n, struct arttrack *out, char *err,
                 size_t errlen)
{
    char dir[4096];
    struct upload_file files[ARTWORK_MAX_SIZES];
    char paths[ARTWORK_MAX_SIZES][4096];
    memset(files, 0, sizeof files);
    if (fs_path(dir, sizeof dir, err, errlen, "%s/%s", c->processed_dir, ARTWORK_TRACK_DIR) != 0 ||
        fs_mkdirs(dir, err, errlen) != 0)
        return -1;
    if (!(out->art = calloc(n, sizeof *out->art)))
        return err_env(err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++) {
        unsigned char h[crypto_hash_sha256_BYTES];
        char hex[65], rel[128];
        crypto_hash_sha256(h, img[i].data, img[i].len);
        sodium_bin2hex(hex, sizeof hex, h, sizeof h);
        snprintf(rel, sizeof rel, "%s/%s.jpg", ARTWORK_TRACK_DIR, hex);
        if (fs_path(paths[i], sizeof paths[i], err, errlen, "%s/%s", c->processed_dir, rel) != 0)
            return -1;
        if (!atomic_same_content(paths[i], img[i].data, img[i].len) &&
            atomic_write(paths[i], img[i].data, img[i].len, err, errlen) != 0)
            return -1;
        struct manifest_artwork *a = &out->art[out->nart++];
        a->size = img[i].size;
        a->width = img[i].width;
        a->height = img[i].height;
        a->bytes = (int64_t)img[i].len;
        if (!(a->file = strdup(rel)))
            return err_env(err, errlen, "out of memory");
        files[i].path = paths[i];
        files[i].size = a->bytes;
        upload_expected_cid(img[i].data, img[i].len, files[i].expect);
    }
    if (upload_files(c->ipfs, files, n, c->add_batch, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        memcpy(out->art[i].cid, files[i].cid, sizeof out->art[i].cid);
    return 0;
}

/* Renders a picture and stores the images. Returns 0 when stored, 1 when
 * the picture is unusable (why says so), -1 for the environment's errors. */
static int try_picture(const struct arttrack_ctx *c, uint8_t *data, size_t len, struct arttrack *out, char *why,
                       size_t whylen, char *err, size_t errlen)
{
    struct artwork_image img[ARTWORK_MAX_SIZES];
    size_t n = 0;
    int rc = artwork_render(data, len, c->opts, img, &n, why, whylen);
    free(data);
    if (rc == ERR_ENVIRONMENT)
        return err_env(err, errlen, "%s", why);
    if (rc != 0)
        return 1;
    rc = store(c, img, n, out, err, errlen);
    artwork_images_free(img, n);
    return rc == 0 ? 0 : -1;
}

int arttrack_make(const struct arttrack_ctx *c, const char *source_path, struct arttrack *out, char *err,
                  size_t errlen)
{
    struct manifest_artwork_source *src = &out->src;
    manifest_artwork_source_free(src);
    src->known = 1;
    memcpy(src->params, c->params, sizeof src->params);
    out->made = 1;
    snprintf(src->from, sizeof src->from, "none");
    if (c->opts->nsizes == 0)
        return 0;
    char why[ERR_MSG_MAX] = "", embedded_why[ERR_MSG_MAX] = "";
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = artwork_embedded(source_path, c->opts->max_bytes, &data, &len, why, sizeof why);
    if (rc == ERR_ENVIRONMENT)
        return err_env(err, errlen, "%s", why);
    if (rc == 1 && (rc = try_picture(c, data, len, out, why, sizeof why, err, errlen)) <= 0) {
        snprintf(src->from, sizeof src->from, "embedded");
        return rc;
    }
    /* An embedded picture that cannot be used gives way to a cover file beside the track. */
    if (rc != 0)
        snprintf(embedded_why, sizeof embedded_why, "embedded picture: %s", why);
    char dir[4096], name[256], path[4400];
    dir_of(source_path, dir, sizeof dir);
    if (!artwork_cover_file(dir, c->opts->names, name, sizeof name)) {
        if (embedded_why[0]) {
            snprintf(src->from, sizeof src->from, "embedded");
            if (!(src->error = strdup(embedded_why)))
                return err_env(err, errlen, "out of memory");
        }
        return 0;
    }
    snprintf(src->from, sizeof src->from, "file");
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(src->path = strdup(name)))
        return err_env(err, errlen, "out of memory");
    rc = read_cover(c, path, &data, &len, src, why, sizeof why);
    if (rc == ERR_ENVIRONMENT)
        return err_env(err, errlen, "%s", why);
    if (rc == 0 && (rc = try_picture(c, data, len, out, why, sizeof why, err, errlen)) <= 0)
        return rc;
    char msg[2 * ERR_MSG_MAX + 300];
    snprintf(msg, sizeof msg, "%s%s%s: %s", embedded_why, embedded_why[0] ? "; " : "", name, why);
    if (!(src->error = strdup(msg)))
        return err_env(err, errlen, "out of memory");
    return 0;
}

void arttrack_apply(struct arttrack *a, struct manifest_track *t)
{
    if (!a->made)
        return;
    manifest_artwork_free(t->art, t->nart);
    manifest_artwork_source_free(&t->art_src);
    t->art = a->art;
    t->nart = a->nart;
    t->art_src = a->src;
    a->art = NULL;
    a->nart = 0;
    memset(&a->src, 0, sizeof a->src);
    a->made = 0;
}

void arttrack_free(struct arttrack *a)
{
    manifest_artwork_free(a->art, a->nart);
    manifest_artwork_source_free(&a->src);
    memset(a, 0, sizeof *a);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void arttrack_prune(const char *processed_dir, const struct manifest *m)
{
    char dir[4096];
    if (fs_path(dir, sizeof dir, NULL, 0, "%s/%s", processed_dir, ARTWORK_TRACK_DIR) != 0)
        return;
    size_t n = 0;
    for (size_t i = 0; i < m->ntracks; i++)
        n += m->tracks[i].nart;
    const char **names = calloc(n + 1, sizeof *names);
    DIR *d = names ? opendir(dir) : NULL;
    if (!d) {
        free(names);
        return;
    }
    n = 0;
    for (size_t i = 0; i < m->ntracks; i++)
        for (size_t k = 0; k < m->tracks[i].nart; k++)
            names[n++] = m->tracks[i].art[k].file;
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char rel[512], path[4400];
        if (e->d_name[0] == '.' || (size_t)snprintf(rel, sizeof rel, "%s/%s", ARTWORK_TRACK_DIR, e->d_name) >= sizeof rel)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        const char *key = rel;
        if (!n || !bsearch(&key, names, n, sizeof *names, cmp_str))
            unlink(path);
    }
    closedir(d);
    free(names);
}
