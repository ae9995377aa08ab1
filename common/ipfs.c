#include "ipfs.h"

#include "err.h"
#include "log.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define IPFS_DEFAULT_TIMEOUT 60.0
#define IPFS_DEFAULT_RETRIES 4
#define IPFS_DEFAULT_BACKOFF 0.5
#define IPFS_DEFAULT_BACKOFF_MAX 10.0
#define IPFS_DEFAULT_MAX_RESPONSE (256u << 20)
#define IPFS_URL_MAX 8192

int ipfs_global_init(char *err, size_t errlen)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
        return err_set(err, errlen, "libcurl init: %s", curl_easy_strerror(rc));
    return 0;
}

int ipfs_same_api(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la && a[la - 1] == '/')
        la--;
    while (lb && b[lb - 1] == '/')
        lb--;
    return la == lb && strncmp(a, b, la) == 0;
}

int ipfs_client_init(struct ipfs_client *c, const char *api, const char *auth, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    size_t l = strlen(api);
    while (l && api[l - 1] == '/')
        l--;
    if (strncmp(api, "http://", 7) != 0 && strncmp(api, "https://", 8) != 0)
        return err_set(err, errlen, "IPFS API URL must start with http:// or https://: %s", api);
    c->api = strndup(api, l);
    c->auth = auth && *auth ? strdup(auth) : NULL;
    if (!c->api || (auth && *auth && !c->auth)) {
        ipfs_client_free(c);
        return err_set(err, errlen, "out of memory");
    }
    c->timeout = IPFS_DEFAULT_TIMEOUT;
    c->retries = IPFS_DEFAULT_RETRIES;
    c->backoff = IPFS_DEFAULT_BACKOFF;
    c->backoff_max = IPFS_DEFAULT_BACKOFF_MAX;
    c->max_response = IPFS_DEFAULT_MAX_RESPONSE;
    return 0;
}

void ipfs_client_free(struct ipfs_client *c)
{
    free(c->api);
    free(c->auth);
    c->api = c->auth = NULL;
}

void ipfs_response_free(struct ipfs_response *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

int ipfs_urlencode(const char *s, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~';
        if (o + (plain ? 1 : 3) >= outlen)
            return -1;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return 0;
}

struct sink {
    char *buf;
    size_t len, cap, max;
    int overflow;
    char stream_error[512];
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;
    if (s->len + n > s->max) {
        s->overflow = 1;
        return 0;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (!nb)
            return 0;
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

/* libcurl hands chunked trailers to the header callback too. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;
    static const char name[] = "X-Stream-Error:";
    if (n > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        const char *v = p + sizeof name - 1;
        size_t vl = n - (sizeof name - 1);
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl) {
            if (vl >= sizeof s->stream_error)
                vl = sizeof s->stream_error - 1;
            memcpy(s->stream_error, v, vl);
            s->stream_error[vl] = '\0';
        }
    }
    return n;
}

/* The node's error body is {"Message": "...", "Code": n, "Type": "error"}. */
static void node_message(const char *body, char *out, size_t outlen)
{
    json_t *j = body ? json_loads(body, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
    json_t *m = j ? json_object_get(j, "Message") : NULL;
    if (json_is_string(m))
        snprintf(out, outlen, "%s", json_string_value(m));
    else
        snprintf(out, outlen, "%.200s", body && *body ? body : "(empty answer)");
    json_decref(j);
}

struct upload {
    const struct ipfs_add_item *items; /* add: many files */
    size_t n;
    const void *data;                  /* single in-memory file */
    size_t len;
};

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    const struct ipfs_client *c = ud;
    return c->should_abort && c->should_abort(c->abort_ctx) ? 1 : 0;
}

static int attempt(const struct ipfs_client *c, const char *url, const struct upload *up,
                   struct sink *s, long *status, char *err, size_t errlen)
{
    CURL *h = curl_easy_init();
    if (!h)
        return err_set(err, errlen, "libcurl: cannot create a handle");
    struct curl_slist *hdrs = NULL;
    char authline[4096];
    if (c->auth) {
        snprintf(authline, sizeof authline, "Authorization: %s", c->auth);
        hdrs = curl_slist_append(hdrs, authline);
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_mime *mime = NULL;
    if (up && (up->items || up->data)) {
        mime = curl_mime_init(h);
        size_t count = up->items ? up->n : 1;
        for (size_t i = 0; i < count; i++) {
            curl_mimepart *part = curl_mime_addpart(mime);
            char fname[32];
            /* The index as file name lets the answer be matched to the item. */
            snprintf(fname, sizeof fname, "%zu", i);
            curl_mime_name(part, "file");
            curl_mime_type(part, "application/octet-stream");
            CURLcode mrc;
            if (up->items && up->items[i].path)
                mrc = curl_mime_filedata(part, up->items[i].path);
            else if (up->items)
                mrc = curl_mime_data(part, up->items[i].data, up->items[i].size);
            else
                mrc = curl_mime_data(part, up->data, up->len);
            if (mrc != CURLE_OK) {
                curl_mime_free(mime);
                curl_slist_free_all(hdrs);
                curl_easy_cleanup(h);
                return err_set(err, errlen, "prepare upload: %s", curl_easy_strerror(mrc));
            }
            curl_mime_filename(part, up->items && up->items[i].name ? up->items[i].name : fname);
        }
        curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    } else {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(c->timeout * 1000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->timeout * 1000));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (c->should_abort) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)c);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    if (mime)
        curl_mime_free(mime);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (s->overflow)
        return err_set(err, errlen, "answer larger than %zu bytes", s->max);
    if (rc != CURLE_OK)
        return err_set(err, errlen, "%s", curl_easy_strerror(rc));
    return 0;
}

static int request(const struct ipfs_client *c, const char *cmd, const char *query,
                   const struct upload *up, struct ipfs_response *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char url[IPFS_URL_MAX];
    if ((size_t)snprintf(url, sizeof url, "%s/api/v0/%s%s%s", c->api, cmd,
                         query && *query ? "?" : "", query ? query : "") >= sizeof url)
        return err_set(err, errlen, "%s: request URL too long", cmd);
    double delay = c->backoff;
    char last[ERR_MSG_MAX] = "";
    for (int tryno = 0; tryno <= c->retries; tryno++) {
        if (c->should_abort && c->should_abort(c->abort_ctx))
            return err_set(err, errlen, "%s: aborted", cmd);
        if (tryno > 0) {
            log_ev(LOG_WARN, "IPFS request failed, retrying", "cmd", cmd, "error", last, NULL);
            struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
            nanosleep(&ts, NULL);
            delay = delay * 2 > c->backoff_max ? c->backoff_max : delay * 2;
        }
        struct sink s = {.max = c->max_response};
        long status = 0;
        if (attempt(c, url, up, &s, &status, last, sizeof last) != 0) {
            free(s.buf);
            continue;
        }
        if (status >= 500 && status != 500) {
            snprintf(last, sizeof last, "HTTP %ld", status);
            free(s.buf);
            continue;
        }
        if (status != 200) {
            char msg[ERR_MSG_MAX];
            node_message(s.buf, msg, sizeof msg);
            free(s.buf);
            out->status = status;
            /* 500 is how the node reports a failed command: retrying won't help. */
            return err_set(err, errlen, "%s: node answered HTTP %ld: %s", cmd, status, msg);
        }
        if (s.stream_error[0]) {
            free(s.buf);
            return err_set(err, errlen, "%s: node reported: %s", cmd, s.stream_error);
        }
        out->status = status;
        out->body = s.buf ? s.buf : strdup("");
        out->len = s.len;
        if (!out->body)
            return err_set(err, errlen, "out of memory");
        return 0;
    }
    return err_set(err, errlen, "%s: IPFS node at %s unreachable after %d attempts: %s", cmd,
                   c->api, c->retries + 1, last);
}

int ipfs_call(const struct ipfs_client *c, const char *cmd, const char *query,
              struct ipfs_response *out, char *err, size_t errlen)
{
    return request(c, cmd, query, NULL, out, err, errlen);
}

int ipfs_call_with_data(const struct ipfs_client *c, const char *cmd, const char *query,
                        const void *data, size_t len, struct ipfs_response *out,
                        char *err, size_t errlen)
{
    struct upload up = {.data = data ? data : "", .len = len};
    return request(c, cmd, query, &up, out, err, errlen);
}

/* Where the CID of the file an add answer's line names goes (NULL: none). */
typedef char *(*add_pick_fn)(void *ctx, const char *name);

/* An add answer is one JSON object per line, {"Name", "Hash", "Size"};
 * progress lines carry no Hash. */
static int read_add_answer(char *body, add_pick_fn pick, void *ctx, char *err, size_t errlen)
{
    int rc = 0;
    char *save = NULL;
    for (char *line = strtok_r(body, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        json_t *name = j ? json_object_get(j, "Name") : NULL;
        json_t *hash = j ? json_object_get(j, "Hash") : NULL;
        if (json_is_string(name) && json_is_string(hash)) {
            char *out = pick(ctx, json_string_value(name));
            if (out && cid_to_base32(json_string_value(hash), out, CID_MAX_STR) != 0)
                rc = err_set(err, errlen, "add: node answered an unreadable CID \"%s\"",
                             json_string_value(hash));
        }
        json_decref(j);
    }
    return rc;
}

struct many_pick {
    struct ipfs_add_item *items;
    size_t n, pos;
};

/* Kubo echoes the file name (our index); js-ipfs answers the CID as the
 * name, so the line's position is the fallback. */
static char *pick_by_index(void *ctx, const char *nm)
{
    struct many_pick *m = ctx;
    char *end;
    unsigned long idx = strtoul(nm, &end, 10);
    if (!*nm || *end != '\0' || idx >= m->n)
        idx = m->pos;
    m->pos++;
    return idx < m->n ? m->items[idx].cid : NULL;
}

/* Every import parameter is named: a node's own defaults (Kubo's Import.*
 * config, IPFS Cluster's proxy) may differ, and the CIDs setup computes
 * locally assume exactly these. */
#define STR_(x) #x
#define STR(x) STR_(x)
#define ADD_PARAMS                                                                                           \
    "cid-version=1&raw-leaves=true&hash=sha2-256&chunker=size-" STR(CID_CHUNK_SIZE)                           \
    "&pin=true&cid-base=base32&progress=false"

int ipfs_add_many(const struct ipfs_client *c, struct ipfs_add_item *items, size_t n,
                  char *err, size_t errlen)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        items[i].cid[0] = '\0';
    struct upload up = {.items = items, .n = n};
    struct ipfs_response r;
    if (request(c, "add", ADD_PARAMS "&wrap-with-directory=false",
                &up, &r, err, errlen) != 0)
        return -1;
    struct many_pick m = {items, n, 0};
    int rc = read_add_answer(r.body, pick_by_index, &m, err, errlen);
    ipfs_response_free(&r);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (!items[i].cid[0])
            return err_set(err, errlen, "add: node's answer lacks file %zu of %zu", i + 1, n);
    return 0;
}

struct dir_pick {
    struct ipfs_add_item *items;
    size_t n;
    char *dir_cid;
};

/* Files come back named as uploaded, then the directory, named "". */
static char *pick_by_name(void *ctx, const char *nm)
{
    struct dir_pick *d = ctx;
    if (!nm[0])
        return d->dir_cid;
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->items[i].name, nm) == 0)
            return d->items[i].cid;
    return NULL;
}

int ipfs_add_dir(const struct ipfs_client *c, struct ipfs_add_item *items, size_t n,
                 char dir_cid[CID_MAX_STR], char *err, size_t errlen)
{
    dir_cid[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        items[i].cid[0] = '\0';
        if (!items[i].name || !items[i].name[0] || strchr(items[i].name, '/'))
            return err_set(err, errlen, "add: \"%s\" is not a plain file name",
                           items[i].name ? items[i].name : "");
    }
    struct upload up = {.items = items, .n = n};
    struct ipfs_response r;
    if (request(c, "add", ADD_PARAMS "&wrap-with-directory=true",
                &up, &r, err, errlen) != 0)
        return -1;
    struct dir_pick d = {items, n, dir_cid};
    int rc = read_add_answer(r.body, pick_by_name, &d, err, errlen);
    ipfs_response_free(&r);
    if (rc != 0)
        return rc;
    if (!dir_cid[0])
        return err_set(err, errlen, "add: node's answer lacks the directory");
    for (size_t i = 0; i < n; i++)
        if (!items[i].cid[0])
            return err_set(err, errlen, "add: node's answer lacks %s", items[i].name);
    return 0;
}

int ipfs_version(const struct ipfs_client *c, char *out, size_t outlen, char *err, size_t errlen)
{
    struct ipfs_response r;
    if (ipfs_call(c, "version", "", &r, err, errlen) != 0)
        return -1;
    json_t *j = json_loads(r.body, 0, NULL);
    json_t *v = j ? json_object_get(j, "Version") : NULL;
    int rc = 0;
    if (json_is_string(v))
        snprintf(out, outlen, "%s", json_string_value(v));
    else
        rc = err_set(err, errlen, "version: unexpected answer from %s", c->api);
    json_decref(j);
    ipfs_response_free(&r);
    return rc;
}

static int emit_cid(ipfs_cid_fn fn, void *ctx, const char *cid)
{
    char canon[CID_MAX_STR];
    if (cid_to_base32(cid, canon, sizeof canon) != 0)
        return 0; /* not a CID we could have added; ignore */
    return fn(ctx, canon);
}

int ipfs_pin_ls_recursive(const struct ipfs_client *c, ipfs_cid_fn fn, void *ctx,
                          char *err, size_t errlen)
{
    struct ipfs_response r;
    if (ipfs_call(c, "pin/ls", "type=recursive&cid-base=base32", &r, err, errlen) != 0)
        return -1;
    /* Kubo answers {"Keys": {cid: {"Type": ...}}}; streaming variants answer
     * one {"Cid": ..., "Type": ...} per line. Accept both. */
    int rc = 0;
    char *save = NULL;
    for (char *line = strtok_r(r.body, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j)
            continue;
        json_t *keys = json_object_get(j, "Keys");
        json_t *cid = json_object_get(j, "Cid");
        if (json_is_object(keys)) {
            const char *k;
            json_t *v;
            json_object_foreach(keys, k, v) {
                if ((rc = emit_cid(fn, ctx, k)) != 0)
                    break;
            }
        } else if (json_is_string(cid)) {
            rc = emit_cid(fn, ctx, json_string_value(cid));
        }
        json_decref(j);
    }
    ipfs_response_free(&r);
    if (rc != 0)
        return err_set(err, errlen, "pin/ls: stopped by caller");
    return 0;
}

int ipfs_key_ensure(const struct ipfs_client *c, const char *name, char *id, size_t idlen,
                    char *err, size_t errlen)
{
    struct ipfs_response r;
    if (ipfs_call(c, "key/list", "", &r, err, errlen) != 0)
        return -1;
    json_t *j = json_loads(r.body, 0, NULL);
    ipfs_response_free(&r);
    json_t *keys = j ? json_object_get(j, "Keys") : NULL;
    int found = 0;
    for (size_t i = 0; json_is_array(keys) && i < json_array_size(keys) && !found; i++) {
        json_t *k = json_array_get(keys, i);
        json_t *n = json_object_get(k, "Name"), *v = json_object_get(k, "Id");
        if (json_is_string(n) && json_is_string(v) && strcmp(json_string_value(n), name) == 0) {
            snprintf(id, idlen, "%s", json_string_value(v));
            found = 1;
        }
    }
    json_decref(j);
    if (found)
        return 0;
    char q[512], enc[256];
    if (ipfs_urlencode(name, enc, sizeof enc) != 0)
        return err_set(err, errlen, "key name too long");
    snprintf(q, sizeof q, "arg=%s&type=ed25519", enc);
    if (ipfs_call(c, "key/gen", q, &r, err, errlen) != 0)
        return -1;
    j = json_loads(r.body, 0, NULL);
    ipfs_response_free(&r);
    json_t *v = j ? json_object_get(j, "Id") : NULL;
    int rc = 0;
    if (json_is_string(v))
        snprintf(id, idlen, "%s", json_string_value(v));
    else
        rc = err_set(err, errlen, "key/gen: unexpected answer");
    json_decref(j);
    return rc;
}

/* Go duration syntax, which is what the node parses. */
static void go_duration(double seconds, char *out, size_t outlen)
{
    snprintf(out, outlen, "%lldms", (long long)(seconds * 1000.0 + 0.5));
}

int ipfs_name_publish(const struct ipfs_client *c, const char *key, const char *cid,
                      double lifetime, double ttl, char *err, size_t errlen)
{
    char q[1024], enc[256], life[32], t[32];
    if (ipfs_urlencode(key, enc, sizeof enc) != 0)
        return err_set(err, errlen, "key name too long");
    go_duration(lifetime, life, sizeof life);
    go_duration(ttl, t, sizeof t);
    /* resolve=false: the node need not fetch what it was just given (js-ipfs
     * would wait forever on a missing block); allow-offline: a node without
     * peers still stores the record for its own gateway. */
    snprintf(q, sizeof q, "arg=%%2Fipfs%%2F%s&key=%s&lifetime=%s&ttl=%s&allow-offline=true&resolve=false",
             cid, enc, life, t);
    struct ipfs_response r;
    if (ipfs_call(c, "name/publish", q, &r, err, errlen) != 0)
        return -1;
    ipfs_response_free(&r);
    return 0;
}

int ipfs_ipns_put(const struct ipfs_client *c, const char *name, const void *rec, size_t len,
                  int *use_dht, char *err, size_t errlen)
{
    char q[512], enc[256];
    if (ipfs_urlencode(name, enc, sizeof enc) != 0)
        return err_set(err, errlen, "IPNS name too long");
    struct ipfs_response r;
    if (!*use_dht) {
        /* allow-offline: a node without peers still keeps the record for its gateway. */
        snprintf(q, sizeof q, "arg=%%2Fipns%%2F%s&allow-offline=true", enc);
        if (ipfs_call_with_data(c, "routing/put", q, rec, len, &r, err, errlen) == 0) {
            ipfs_response_free(&r);
            return 0;
        }
        if (r.status != 404)
            return -1;
        *use_dht = 1;
    }
    snprintf(q, sizeof q, "arg=%%2Fipns%%2F%s", enc);
    if (ipfs_call_with_data(c, "dht/put", q, rec, len, &r, err, errlen) != 0) {
        if (r.status == 404)
            *use_dht = 0; /* neither: try routing/put again next time (the node may be upgraded) */
        return -1;
    }
    ipfs_response_free(&r);
    return 0;
}

static int base64_record(const char *b64, uint8_t *out, size_t cap, size_t *len)
{
    return sodium_base642bin(out, cap, b64, strlen(b64), NULL, len, NULL, sodium_base64_VARIANT_ORIGINAL);
}

/* Kubo answers a JSON string holding the record in base64; js-ipfs (and
 * Kubo before 0.18) one query event per line, the record in "Extra" of the
 * event of type 5 (a value). */
static int record_from_answer(char *body, size_t blen, uint8_t *out, size_t cap, size_t *len)
{
    size_t skip = strspn(body, " \t\r\n");
    if (body[skip] == '"') {
        json_t *j = json_loads(body + skip, JSON_DECODE_ANY, NULL);
        int rc = json_is_string(j) ? base64_record(json_string_value(j), out, cap, len) : -1;
        json_decref(j);
        return rc;
    }
    if (body[skip] == '{') {
        char *save = NULL;
        for (char *line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            json_t *j = json_loads(line, 0, NULL);
            json_t *extra = j ? json_object_get(j, "Extra") : NULL;
            json_t *type = j ? json_object_get(j, "Type") : NULL;
            int rc = json_integer_value(type) == 5 && json_is_string(extra) && json_string_length(extra) > 0
                         ? base64_record(json_string_value(extra), out, cap, len)
                         : -1;
            json_decref(j);
            if (rc == 0)
                return 0;
        }
        return -1;
    }
    if (blen > cap)
        return -1;
    memcpy(out, body, blen);
    *len = blen;
    return 0;
}

/* Kubo says it holds no record with HTTP 500 and "routing: not found". */
static int holds_none(const struct ipfs_response *r, const char *err)
{
    return r->status == 500 && strstr(err, "routing: not found") != NULL;
}

int ipfs_ipns_get(const struct ipfs_client *c, const char *name, uint8_t *out, size_t cap, size_t *len,
                  char *err, size_t errlen)
{
    char q[512], enc[256];
    if (ipfs_urlencode(name, enc, sizeof enc) != 0)
        return err_set(err, errlen, "IPNS name too long");
    snprintf(q, sizeof q, "arg=%%2Fipns%%2F%s", enc);
    struct ipfs_response r;
    if (ipfs_call(c, "routing/get", q, &r, err, errlen) != 0) {
        if (r.status != 404)
            return holds_none(&r, err) ? 0 : -1;
        if (ipfs_call(c, "dht/get", q, &r, err, errlen) != 0)
            return holds_none(&r, err) ? 0 : -1;
    }
    int rc = r.body ? record_from_answer(r.body, r.len, out, cap, len) : -1;
    ipfs_response_free(&r);
    if (rc != 0)
        return err_set(err, errlen, "the node's answer holds no IPNS record");
    return 1;
}

static int block_gone(const char *msg)
{
    return strstr(msg, "not found") || strstr(msg, "not present");
}

/* Kubo answers block/rm with 200 and puts each block's failure in its line
 * ({"Hash": ..., "Error": "pinned: recursive"}). */
static int block_rm_answer(char *body, char *err, size_t errlen)
{
    char *save = NULL;
    for (char *line = body ? strtok_r(body, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *e = json_string_value(json_object_get(j, "Error"));
        int bad = e && e[0] && !block_gone(e);
        if (bad)
            err_set(err, errlen, "block/rm: %s", e);
        json_decref(j);
        if (bad)
            return -1;
    }
    return 0;
}

/* Blocks under a root, as the node lists them from what it holds (offline:
 * a block it lacks is not fetched, the listing just stops short). One
 * answer line per block: {"Ref": "<cid>", "Err": ""}. */
#define FORGET_BATCH 16

static int children_of(const struct ipfs_client *c, const char *cid, char (**out)[CID_MAX_STR], size_t *n)
{
    *out = NULL;
    *n = 0;
    char q[CID_MAX_STR + 64];
    snprintf(q, sizeof q, "arg=%s&recursive=true&unique=true&offline=true", cid);
    struct ipfs_response r;
    if (ipfs_call(c, "refs", q, &r, NULL, 0) != 0)
        return -1;
    int rc = 0;
    char *save = NULL;
    for (char *line = r.body ? strtok_r(r.body, "\n", &save) : NULL; line && rc == 0;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *ref = json_string_value(json_object_get(j, "Ref"));
        if (ref && ref[0] && strlen(ref) < CID_MAX_STR) {
            char (*v)[CID_MAX_STR] = realloc(*out, (*n + 1) * sizeof *v);
            if (v) {
                *out = v;
                snprintf(v[(*n)++], CID_MAX_STR, "%s", ref);
            } else {
                rc = -1;
            }
        }
        json_decref(j);
    }
    ipfs_response_free(&r);
    return rc;
}

/* The blocks under a root we no longer need. One another pinned object
 * still uses stays (Kubo refuses it: "pinned"), and that is as it should. */
static void remove_children(const struct ipfs_client *c, char (*v)[CID_MAX_STR], size_t n)
{
    for (size_t i = 0; i < n; i += FORGET_BATCH) {
        char q[FORGET_BATCH * (CID_MAX_STR + 8) + 32] = "force=true";
        size_t l = strlen(q);
        for (size_t k = i; k < n && k < i + FORGET_BATCH; k++)
            l += (size_t)snprintf(q + l, sizeof q - l, "&arg=%s", v[k]);
        struct ipfs_response r;
        if (ipfs_call(c, "block/rm", q, &r, NULL, 0) == 0)
            ipfs_response_free(&r);
    }
}

int ipfs_unpin(const struct ipfs_client *c, const char *cid, char *err, size_t errlen)
{
    char q[CID_MAX_STR + 64];
    struct ipfs_response r;
    snprintf(q, sizeof q, "arg=%s", cid);
    if (ipfs_call(c, "pin/rm", q, &r, err, errlen) != 0)
        return strstr(err, "not pinned") ? 0 : -1;
    ipfs_response_free(&r);
    return 0;
}

int ipfs_forget(const struct ipfs_client *c, const char *cid, char *err, size_t errlen)
{
    char q[CID_MAX_STR + 64];
    struct ipfs_response r;
    /* Listed while the root is still there: a playlist larger than one
     * chunk is a root over leaves, and removing the root alone would leave
     * the leaves on the node for ever. */
    char (*kids)[CID_MAX_STR] = NULL;
    size_t nkids = 0;
    if (children_of(c, cid, &kids, &nkids) != 0)
        nkids = 0;
    snprintf(q, sizeof q, "arg=%s", cid);
    /* Either may fail because it was already done; what matters is the end state. */
    if (ipfs_call(c, "pin/rm", q, &r, err, errlen) == 0)
        ipfs_response_free(&r);
    snprintf(q, sizeof q, "arg=%s&force=true", cid);
    int rc;
    if (ipfs_call(c, "block/rm", q, &r, err, errlen) != 0) {
        rc = block_gone(err) ? 0 : -1;
    } else {
        rc = block_rm_answer(r.body, err, errlen);
        ipfs_response_free(&r);
    }
    if (rc == 0)
        remove_children(c, kids, nkids);
    free(kids);
    return rc;
}
