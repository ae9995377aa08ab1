/* The HTTP pieces, on loopback only: the /health and /metrics server, and
 * the gateway client's sorting of failures (unreachable, timeout, too
 * large) and its URL resolution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_get.h"
#include "server.h"

struct got {
    long status;
    char body[65536];
    size_t len;
    char headers[8192];
    size_t hlen;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct got *g = ud;
    size_t k = size * n;
    if (g->len + k < sizeof g->body) {
        memcpy(g->body + g->len, p, k);
        g->len += k;
        g->body[g->len] = '\0';
    }
    return k;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct got *g = ud;
    size_t k = size * n;
    if (g->hlen + k < sizeof g->headers) {
        memcpy(g->headers + g->hlen, p, k);
        g->hlen += k;
        g->headers[g->hlen] = '\0';
    }
    return k;
}

/* A plain libcurl request, independent of the client under test. */
static struct got *request(int port, const char *method, const char *path)
{
    struct got *g = calloc(1, sizeof *g);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, g);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, g);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    if (strcmp(method, "POST") == 0)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "x=1");
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &g->status);
    curl_easy_cleanup(h);
    return g;
}

static int has_header(const struct got *g, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = g->headers; *p; p++)
        if (strncasecmp(p, line, n) == 0)
            return 1;
    return 0;
}

static struct hm_server *start(void)
{
    struct hm_server_opts o = {"127.0.0.1:0", "*", 8, 5};
    struct hm_server *s = NULL;
    char err[256];
    if (hm_server_start(&s, &o, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_true(hm_server_port(s) > 0);
    return s;
}

static void health_is_503_until_the_first_round_then_follows_the_status(void **state)
{
    (void)state;
    struct hm_server *s = start();
    int port = hm_server_port(s);
    struct got *g = request(port, "GET", "/health");
    assert_int_equal(g->status, 503);
    assert_non_null(strstr(g->body, "starting"));
    free(g);

    assert_int_equal(hm_server_publish(s, "{\"status\": \"degraded\"}", 200, "m 1\n"), 0);
    g = request(port, "GET", "/health");
    assert_int_equal(g->status, 200);
    assert_string_equal(g->body, "{\"status\": \"degraded\"}");
    assert_true(has_header(g, "Content-Type: application/json"));
    assert_true(has_header(g, "Access-Control-Allow-Origin: *"));
    /* Dashboards poll: a cache between them and healthmon must not answer for it. */
    assert_true(has_header(g, "Cache-Control: no-store"));
    free(g);

    assert_int_equal(hm_server_publish(s, "{\"status\": \"down\"}", 503, "m 2\n"), 0);
    g = request(port, "GET", "/health");
    assert_int_equal(g->status, 503);
    assert_string_equal(g->body, "{\"status\": \"down\"}");
    free(g);
    hm_server_stop(s);
}

static void metrics_are_served_as_prometheus_text(void **state)
{
    (void)state;
    struct hm_server *s = start();
    assert_int_equal(hm_server_publish(s, "{}", 200, "radio_healthmon_status 0\n"), 0);
    struct got *g = request(hm_server_port(s), "GET", "/metrics");
    assert_int_equal(g->status, 200);
    assert_string_equal(g->body, "radio_healthmon_status 0\n");
    assert_true(has_header(g, "Content-Type: text/plain; version=0.0.4"));
    assert_true(has_header(g, "Access-Control-Allow-Origin: *"));
    assert_true(has_header(g, "Cache-Control: no-store"));
    free(g);
    hm_server_stop(s);
}

static void preflight_other_methods_and_unknown_paths_get_proper_answers(void **state)
{
    (void)state;
    struct hm_server *s = start();
    int port = hm_server_port(s);
    struct got *g = request(port, "OPTIONS", "/health");
    assert_int_equal(g->status, 204);
    assert_true(has_header(g, "Access-Control-Allow-Origin: *"));
    assert_true(has_header(g, "Access-Control-Allow-Methods: GET"));
    free(g);
    g = request(port, "POST", "/health");
    assert_int_equal(g->status, 405);
    assert_true(has_header(g, "Allow: GET"));
    free(g);
    g = request(port, "GET", "/nope");
    assert_int_equal(g->status, 404);
    free(g);
    hm_server_stop(s);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

static void refused_and_unresolvable_gateways_are_unreachable(void **state)
{
    (void)state;
    struct http_client *c;
    char err[512], url[128];
    assert_int_equal(http_client_new(&c, err, sizeof err), 0);
    struct http_get_opts o = {5, 1 << 20, 0, NULL};
    struct http_response r;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ipns/x", free_port());
    assert_int_not_equal(http_get(c, url, &o, &r, err, sizeof err), 0);
    assert_int_equal(r.outcome, HTTP_UNREACHABLE);
    http_response_free(&r);
    /* .invalid never resolves (RFC 2606). */
    assert_int_not_equal(http_get(c, "http://gateway.invalid/ipns/x", &o, &r, err, sizeof err), 0);
    assert_int_equal(r.outcome, HTTP_UNREACHABLE);
    http_response_free(&r);
    http_client_free(c);
}

static void gateway_that_accepts_but_never_answers_times_out_on_time(void **state)
{
    (void)state;
    /* The kernel completes connections into the backlog; nobody reads. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    char url[128], err[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ipns/x", ntohs(a.sin_port));
    struct http_client *c;
    assert_int_equal(http_client_new(&c, err, sizeof err), 0);
    struct http_get_opts o = {0.5, 1 << 20, 0, NULL};
    struct http_response r;
    assert_int_not_equal(http_get(c, url, &o, &r, err, sizeof err), 0);
    assert_int_equal(r.outcome, HTTP_TIMEOUT);
    assert_true(r.seconds >= 0.45 && r.seconds < 2.0);
    http_response_free(&r);
    http_client_free(c);
    close(fd);
}

static void answer_over_the_limit_is_too_large_and_within_it_is_kept(void **state)
{
    (void)state;
    struct hm_server *s = start();
    static char big[40000];
    memset(big, 'x', sizeof big - 1);
    assert_int_equal(hm_server_publish(s, "{}", 200, big), 0);
    char url[128], err[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", hm_server_port(s));
    struct http_client *c;
    assert_int_equal(http_client_new(&c, err, sizeof err), 0);
    struct http_get_opts small = {5, 1000, 0, NULL};
    struct http_response r;
    assert_int_not_equal(http_get(c, url, &small, &r, err, sizeof err), 0);
    assert_int_equal(r.outcome, HTTP_TOO_LARGE);
    http_response_free(&r);
    struct http_get_opts enough = {5, sizeof big, 0, NULL};
    assert_int_equal(http_get(c, url, &enough, &r, err, sizeof err), 0);
    assert_int_equal(r.outcome, HTTP_ANSWERED);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, sizeof big - 1);
    assert_string_equal(r.content_type, "text/plain");
    http_response_free(&r);
    http_client_free(c);
    hm_server_stop(s);
}

static void segment_uris_resolve_like_a_player_resolves_them(void **state)
{
    (void)state;
    char out[HTTP_URL_MAX], err[256];
    const char *base = "http://127.0.0.1:8080/ipns/k51name";
    assert_int_equal(http_resolve(base, "/ipfs/bafyseg", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "http://127.0.0.1:8080/ipfs/bafyseg");
    assert_int_equal(http_resolve(base, "seg/1.ts", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "http://127.0.0.1:8080/ipns/seg/1.ts");
    assert_int_equal(http_resolve("http://gw/ipns/k51name/", "1.ts", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "http://gw/ipns/k51name/1.ts");
    assert_int_equal(http_resolve(base, "https://ipfs.io/ipfs/bafyseg", out, sizeof out, err,
                                  sizeof err), 0);
    assert_string_equal(out, "https://ipfs.io/ipfs/bafyseg");
    assert_int_not_equal(http_resolve(base, "http://bad host/x", out, sizeof out, err, sizeof err), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(health_is_503_until_the_first_round_then_follows_the_status),
        cmocka_unit_test(metrics_are_served_as_prometheus_text),
        cmocka_unit_test(preflight_other_methods_and_unknown_paths_get_proper_answers),
        cmocka_unit_test(refused_and_unresolvable_gateways_are_unreachable),
        cmocka_unit_test(gateway_that_accepts_but_never_answers_times_out_on_time),
        cmocka_unit_test(answer_over_the_limit_is_too_large_and_within_it_is_kept),
        cmocka_unit_test(segment_uris_resolve_like_a_player_resolves_them),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
