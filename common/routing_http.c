#include "routing_http.h"

#include "err.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

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

int routing_http_put_ipns(const char *base, const char *name, const void *rec, size_t len,
                          const struct routing_http_opts *o, char *err, size_t errlen)
{
    char url[4096];
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    if ((size_t)snprintf(url, sizeof url, "%.*s/routing/v1/ipns/%s", (int)bl, base, name) >= sizeof url)
        return err_set(err, errlen, "routing URL too long");
    CURL *h = curl_easy_init();
    if (!h)
        return err_set(err, errlen, "libcurl: cannot create a handle");
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: " ROUTING_IPNS_TYPE);
    hdrs = curl_slist_append(hdrs, "Expect:");
    struct answer a = {.len = 0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, rec);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->timeout * 1000));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (o->should_abort) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)o);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK)
        return err_set(err, errlen, "PUT %s: %s", url, curl_easy_strerror(rc));
    if (status < 200 || status > 299)
        return err_set(err, errlen, "PUT %s: HTTP %ld: %.200s", url, status, a.text);
    return 0;
}
