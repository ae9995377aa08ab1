#include "scan.h"

#include "err.h"
#include "log.h"
#include "text.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define SCAN_SLUG_MAX 48
#define SCAN_HASH_HEX 8
#define SCAN_MAX_DEPTH 32
#define SCAN_READ_CHUNK (1u << 20)

void scan_list_free(struct scan_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].relpath);
        free(l->v[i].name);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void scan_track_id(enum manifest_kind kind, const char *relpath, char out[SCAN_ID_MAX])
{
    size_t o = 0;
    int dash = 0;
    const char *dot = strrchr(relpath, '.');
    const char *slash = strrchr(relpath, '/');
    if (dot && slash && dot < slash)
        dot = NULL;
    for (const char *p = relpath; *p && (!dot || p < dot) && o < SCAN_SLUG_MAX; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && o)
                out[o++] = '-';
            out[o++] = c;
            dash = 0;
        } else {
            dash = 1;
        }
    }
    if (o >= SCAN_SLUG_MAX)
        o = SCAN_SLUG_MAX;
    char keyed[4096 + 16];
    snprintf(keyed, sizeof keyed, "%s:%s", kind == MANIFEST_JINGLE ? "jingle" : "music", relpath);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)keyed, strlen(keyed));
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    out[o] = '\0';
    char slug[SCAN_SLUG_MAX + 1];
    memcpy(slug, out, o + 1);
    snprintf(out, SCAN_ID_MAX, "%s%s%s%.*s", kind == MANIFEST_JINGLE ? "jingle-" : "", slug,
             o ? "-" : "", SCAN_HASH_HEX, hex);
}

int scan_hash_file(const char *path, char out[65], char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        if (err_errno_is_environment(e))
            return err_env(err, errlen, "open %s: %s", path, strerror(e));
        return err_set(err, errlen, "open: %s", strerror(e));
    }
    unsigned char *buf = malloc(SCAN_READ_CHUNK);
    if (!buf) {
        fclose(f);
        return err_env(err, errlen, "out of memory");
    }
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    size_t n;
    errno = 0;
    while ((n = fread(buf, 1, SCAN_READ_CHUNK, f)) > 0)
        crypto_hash_sha256_update(&st, buf, n);
    int bad = ferror(f), e = errno;
    fclose(f);
    free(buf);
    /* A read error is the disk's or the network mount's, not the music's. */
    if (bad)
        return err_env(err, errlen, "read %s: %s", path, strerror(e ? e : EIO));
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(out, 65, h, sizeof h);
    return 0;
}

static int has_ext(const char *name, const struct cfg_strlist *exts)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return 0;
    for (size_t i = 0; i < exts->n; i++)
        if (strcasecmp(dot + 1, exts->v[i]) == 0)
            return 1;
    return 0;
}

static int push(struct scan_list *l, const char *root, const char *rel, enum manifest_kind kind,
                const struct stat *st)
{
    if ((l->n & (l->n - 1)) == 0) {
        struct scan_file *nv = realloc(l->v, (l->n ? l->n * 2 : 1) * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
    }
    struct scan_file *f = &l->v[l->n];
    memset(f, 0, sizeof *f);
    size_t plen = strlen(root) + strlen(rel) + 2;
    f->path = malloc(plen);
    f->relpath = strdup(rel);
    /* A Latin-1 byte becomes at most two bytes of UTF-8. */
    size_t nlen = 2 * strlen(rel) + 1;
    f->name = malloc(nlen);
    if (!f->path || !f->relpath || !f->name) {
        free(f->path);
        free(f->relpath);
        free(f->name);
        return -1;
    }
    text_one_line(f->name, nlen, rel);
    snprintf(f->path, plen, "%s/%s", root, rel);
    f->kind = kind;
    f->size = (int64_t)st->st_size;
    f->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    scan_track_id(kind, rel, f->id);
    l->n++;
    return 0;
}

const char *scan_excluded(const char *relpath, const struct cfg_strlist *exclude)
{
    if (!exclude)
        return NULL;
    const char *slash = strrchr(relpath, '/');
    const char *name = slash ? slash + 1 : relpath;
    for (size_t i = 0; i < exclude->n; i++)
        if (fnmatch(exclude->v[i], relpath, 0) == 0 || fnmatch(exclude->v[i], name, 0) == 0)
            return exclude->v[i];
    return NULL;
}

static int walk(const char *root, const char *rel, int depth, enum manifest_kind kind,
                const struct scan_opts *opts, struct scan_list *out, char *err, size_t errlen)
{
    char dirpath[4096];
    snprintf(dirpath, sizeof dirpath, "%s%s%s", root, *rel ? "/" : "", rel);
    if (depth > SCAN_MAX_DEPTH)
        return err_set(err, errlen, "%s: folders nested deeper than %d", dirpath, SCAN_MAX_DEPTH);
    DIR *d = opendir(dirpath);
    if (!d)
        return err_set(err, errlen, "open folder %s: %s", dirpath, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char child[4096];
        if ((size_t)snprintf(child, sizeof child, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >= sizeof child)
            continue;
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", root, child);
        struct stat st;
        char shown[8192];
        if (stat(full, &st) != 0) {
            /* Vanished since readdir: nothing to say. A link to nothing is
             * a track the operator meant to air. */
            struct stat lst;
            if (lstat(full, &lst) == 0 && S_ISLNK(lst.st_mode) && !scan_excluded(child, opts->exclude)) {
                text_one_line(shown, sizeof shown, full);
                log_ev(LOG_WARN, "left out: a symbolic link to nothing", "file", shown, NULL);
                out->left_out++;
            }
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int named_like_audio = has_ext(e->d_name, opts->exts);
            if (opts->recursive && scan_excluded(child, opts->exclude))
                out->excluded++;
            else if (opts->recursive)
                rc = walk(root, child, depth + 1, kind, opts, out, err, errlen);
            if (named_like_audio && !scan_excluded(child, opts->exclude)) {
                text_one_line(shown, sizeof shown, full);
                log_ev(LOG_WARN, opts->recursive ? "a folder named like an audio file; its contents are scanned"
                                                 : "left out: a folder named like an audio file",
                       "folder", shown, NULL);
                if (!opts->recursive)
                    out->left_out++;
            }
        } else if (!S_ISREG(st.st_mode) && has_ext(e->d_name, opts->exts) && !scan_excluded(child, opts->exclude)) {
            text_one_line(shown, sizeof shown, full);
            log_ev(LOG_WARN, "left out: not a regular file", "file", shown, NULL);
            out->left_out++;
        } else if (S_ISREG(st.st_mode) && has_ext(e->d_name, opts->exts)) {
            if (scan_excluded(child, opts->exclude))
                out->excluded++;
            else if (push(out, root, child, kind, &st) != 0)
                rc = err_set(err, errlen, "out of memory");
        }
    }
    closedir(d);
    return rc;
}

static int cmp_rel(const void *a, const void *b)
{
    return strcmp(((const struct scan_file *)a)->relpath, ((const struct scan_file *)b)->relpath);
}

int scan_dir(const char *root, enum manifest_kind kind, const struct scan_opts *opts,
             struct scan_list *out, int *missing, char *err, size_t errlen)
{
    struct stat st;
    *missing = 0;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        *missing = 1;
        return 0;
    }
    size_t first = out->n;
    if (walk(root, "", 0, kind, opts, out, err, errlen) != 0)
        return -1;
    if (out->n > first)
        qsort(out->v + first, out->n - first, sizeof *out->v, cmp_rel);
    return 0;
}
