#include "http_get.h"

#include "err.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_FIRST_BUFFER 16384

struct http_client {
    CURL *h;
};

struct sink {
    char *buf;
    size_t len, cap, max;
    int overflow;
    int oom;
};

int http_client_new(struct http_client **out, char *err, size_t errlen)
{
    *out = NULL;
    struct http_client *c = calloc(1, sizeof *c);
    if (!c)
        return err_set(err, errlen, "out of memory");
    c->h = curl_easy_init();
    if (!c->h) {
        free(c);
        return err_set(err, errlen, "libcurl: cannot create a handle");
    }
    *out = c;
    return 0;
}

void http_client_free(struct http_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->h);
    free(c);
}

void http_response_free(struct http_response *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

const char *http_outcome_name(enum http_outcome o)
{
    switch (o) {
    case HTTP_ANSWERED: return "answered";
    case HTTP_UNREACHABLE: return "unreachable";
    case HTTP_TIMEOUT: return "timeout";
    case HTTP_TOO_LARGE: return "too_large";
    case HTTP_BROKEN: return "broken";
    }
    return "?";
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;
    if (n > s->max - s->len) {
        s->overflow = 1;
        return 0;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : HTTP_FIRST_BUFFER;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (!nb) {
            s->oom = 1;
            return 0;
        }
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

static void media_type(const char *ct, char *out, size_t outlen)
{
    size_t o = 0;
    for (; ct && *ct && *ct != ';' && o + 1 < outlen; ct++)
        if (*ct != ' ' && *ct != '\t')
            out[o++] = (char)tolower((unsigned char)*ct);
    out[o] = '\0';
}

/* A timeout before any connection existed means nobody answered at all,
 * which for a listener is the same as an unreachable gateway. */
static enum http_outcome classify(CURLcode rc, const struct sink *s, int connected)
{
    if (s->overflow || rc == CURLE_FILESIZE_EXCEEDED)
        return HTTP_TOO_LARGE;
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return HTTP_UNREACHABLE;
    case CURLE_OPERATION_TIMEDOUT:
        return connected ? HTTP_TIMEOUT : HTTP_UNREACHABLE;
    default:
        return HTTP_BROKEN;
    }
}

int http_get(struct http_client *c, const char *url, const struct http_get_opts *o,
             struct http_response *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct sink s = {.max = o->max_bytes};
    CURL *h = c->h;
    /* Reset keeps live connections and the DNS cache: the next request to
     * the same gateway reuses them, as a player's would. */
    curl_easy_reset(h);
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    char accept[256];
    if (o->accept) {
        snprintf(accept, sizeof accept, "Accept: %s", o->accept);
        hdrs = curl_slist_append(hdrs, accept);
        if (!hdrs)
            return err_set(err, errlen, "out of memory");
    }
    long ms = (long)(o->timeout * 1000.0);
    if (ms < 1)
        ms = 1;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "ipfs-radio/" RADIO_VERSION);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, o->max_redirects > 0 ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, o->max_redirects);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);

    CURLcode rc = curl_easy_perform(h);

    curl_off_t total = 0, connect = 0;
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total);
    curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect);
    out->seconds = (double)total / 1e6;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    char *ct = NULL;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    media_type(ct, out->content_type, sizeof out->content_type);
    char *eff = NULL;
    curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
    snprintf(out->effective_url, sizeof out->effective_url, "%s", eff ? eff : url);
    curl_slist_free_all(hdrs);
    /* A later reset must not write into this stack buffer. */
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);

    out->body = s.buf;
    out->len = s.len;
    if (s.oom) {
        out->outcome = HTTP_BROKEN;
        return err_set(err, errlen, "out of memory reading the answer");
    }
    if (rc == CURLE_OK) {
        if (!out->body) {
            out->body = calloc(1, 1);
            if (!out->body)
                return err_set(err, errlen, "out of memory");
        }
        out->outcome = HTTP_ANSWERED;
        return 0;
    }
    out->outcome = classify(rc, &s, connect > 0);
    if (out->outcome == HTTP_TOO_LARGE)
        return err_set(err, errlen, "answer larger than %zu bytes", o->max_bytes);
    if (out->outcome == HTTP_TIMEOUT)
        return err_set(err, errlen, "no complete answer within %.3g s", o->timeout);
    return err_set(err, errlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

int http_resolve(const char *base, const char *ref, char *out, size_t outlen,
                 char *err, size_t errlen)
{
    CURLU *u = curl_url();
    if (!u)
        return err_set(err, errlen, "out of memory");
    char *s = NULL;
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, base, 0);
    if (rc == CURLUE_OK)
        rc = curl_url_set(u, CURLUPART_URL, ref, 0);
    if (rc == CURLUE_OK)
        rc = curl_url_get(u, CURLUPART_URL, &s, 0);
    curl_url_cleanup(u);
    if (rc != CURLUE_OK)
        return err_set(err, errlen, "cannot resolve \"%.200s\" against %.200s: %s", ref, base,
                       curl_url_strerror(rc));
    int fits = strlen(s) < outlen;
    if (fits)
        memcpy(out, s, strlen(s) + 1);
    curl_free(s);
    if (!fits)
        return err_set(err, errlen, "resolved URL longer than %zu bytes", outlen - 1);
    return 0;
}
