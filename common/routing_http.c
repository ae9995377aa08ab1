#include "routing_http.h"

#include "err.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ANSWER_MAX 512               /* enough of an error answer for a report */

struct answer {
    char text[ANSWER_MAX];
    size_t len;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct answer *a = ud;
    size_t n = size * nmemb, room = sizeof a->text - 1 - a->len;
    memcpy(a->text + a->len, p, n < room ? n : room);
    a->len += n < room ? n : room;
    a->text[a->len] = '\0';
    return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    const struct routing_http_opts *o = ud;
    return o->should_abort && o->should_abort(o->abort_ctx) ? 1 : 0;
}

struct record_answer {
    uint8_t *buf;
    size_t cap, len;
    int overflow;
};

static size_t on_record(char *p, size_t size, size_t nmemb, void *ud)
{
    struct record_answer *a = ud;
    size_t n = size * nmemb;
    if (n > a->cap - a->len) {
        a->overflow = 1;
        return 0; /* larger than any record may be: stop reading */
    }
    memcpy(a->buf + a->len, p, n);
    a->len += n;
    return n;
}

static int endpoint_url(char *url, size_t cap, const char *base, const char *name)
{
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    return (size_t)snprintf(url, cap, "%.*s/routing/v1/ipns/%s", (int)bl, base, name) >= cap ? -1 : 0;
}

/* Performs the request h was set up for, with the options every request
 * here shares, then frees h and hdrs. is_record, when not NULL, says
 * whether the answer's Content-Type is an IPNS record's. */
static CURLcode perform(CURL *h, const char *url, struct curl_slist *hdrs, curl_write_callback on_data, void *ud,
                        const struct routing_http_opts *o, long *status, int *is_record)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, ud);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->timeout * 1000));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (o->should_abort) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)o);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    CURLcode rc = curl_easy_perform(h);
    *status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    if (is_record) {
        const char *ct = NULL;
        curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
        size_t n = strlen(ROUTING_IPNS_TYPE);
        *is_record = ct && strncasecmp(ct, ROUTING_IPNS_TYPE, n) == 0 && (ct[n] == '\0' || ct[n] == ';');
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return rc;
}


int routing_http_put_ipns(const char *base, const char *name, const void *rec, size_t len,
                          const struct routing_http_opts *o, char *err, size_t errlen)
{
    char url[4096];
    if (endpoint_url(url, sizeof url, base, name) != 0)
        return err_set(err, errlen, "routing URL too long");
    CURL *h = curl_easy_init();
    if (!h)
        return err_set(err, errlen, "libcurl: cannot create a handle");
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: " ROUTING_IPNS_TYPE);
    hdrs = curl_slist_append(hdrs, "Expect:");
    struct answer a = {.len = 0};
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, rec);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
    long status;
    CURLcode rc = perform(h, url, hdrs, on_body, &a, o, &status, NULL);
    if (rc != CURLE_OK)
        return err_set(err, errlen, "PUT %s: %s", url, curl_easy_strerror(rc));
    if (status < 200 || status > 299)
        return err_set(err, errlen, "PUT %s: HTTP %ld: %.200s", url, status, a.text);
    return 0;
}

int routing_http_get_ipns(const char *base, const char *name, const struct routing_http_opts *o, uint8_t *out,
                          size_t cap, size_t *len, char *err, size_t errlen)
{
    char url[4096];
    *len = 0;
    if (endpoint_url(url, sizeof url, base, name) != 0)
        return err_set(err, errlen, "routing URL too long");
    CURL *h = curl_easy_init();
    if (!h)
        return err_set(err, errlen, "libcurl: cannot create a handle");
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: " ROUTING_IPNS_TYPE);
    struct record_answer a = {out, cap, 0, 0};
    long status;
    int is_record = 0;
    CURLcode rc = perform(h, url, hdrs, on_record, &a, o, &status, &is_record);
    /* Kubo's /routing/v1 answers a name it has no record for with 200 and
     * a text body: only a record's content type means a record. */
    if (status == 404 || (rc == CURLE_OK && status == 200 && !is_record))
        return 0;
    if (a.overflow)
        return err_set(err, errlen, "GET %s: an answer over %zu bytes is no IPNS record", url, cap);
    if (rc != CURLE_OK)
        return err_set(err, errlen, "GET %s: %s", url, curl_easy_strerror(rc));
    if (status < 200 || status > 299)
        return err_set(err, errlen, "GET %s: HTTP %ld", url, status);
    *len = a.len;
    return 1;
}
