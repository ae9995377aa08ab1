/* The station's identity in the listener page: whatever the operator
 * typed, it ends up as text, never as markup or a script URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "page_template.h"

static const char *const HOSTILE = "</title><script>alert(1)</script>\"><img src=x onerror=alert(2)> & 'co'";

static void placeholders_are_replaced_escaped(void **state)
{
    (void)state;
    const char *t = "<title>{{station_name}}</title><meta content=\"{{station_description}}\">"
                    "<a href=\"{{station_link}}\"><img src=\"{{station_artwork}}\"></a>{{other}}";
    struct page_station s = {HOSTILE, "a \"b\"", "https://example.org/?a=1&b=2", "station-artwork.png"};
    char *out;
    size_t len;
    char err[256];
    assert_int_equal(page_template_render(t, strlen(t), &s, &out, &len, err, sizeof err), 0);
    const char *want = "<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x "
                       "onerror=alert(2)&gt; &amp; &#39;co&#39;</title><meta content=\"a &quot;b&quot;\">"
                       "<a href=\"https://example.org/?a=1&amp;b=2\"><img src=\"station-artwork.png\"></a>{{other}}";
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    free(out);
}

/* The page as shipped: a hostile name leaves its markup as it was, with
 * the name in the title, the heading and the social preview tags. */
static void the_shipped_page_takes_a_hostile_name_as_text(void **state)
{
    (void)state;
    char *tmpl;
    size_t tlen;
    char err[256];
    assert_int_equal(atomic_read(RADIO_SOURCE_DIR "/web/index.html", 1 << 20, &tmpl, &tlen, err, sizeof err), 0);
    struct page_station s = {HOSTILE, HOSTILE, "", "artwork.svg"};
    char *out;
    assert_int_equal(page_template_render(tmpl, tlen, &s, &out, NULL, err, sizeof err), 0);
    assert_null(strstr(out, "<script>alert"));
    assert_null(strstr(out, "<img src=x"));
    assert_null(strstr(out, "{{station_"));
    /* As many tags as the template had: nothing was opened by the name. */
    size_t lt_in = 0, lt_out = 0;
    for (const char *p = tmpl; *p; p++)
        lt_in += *p == '<';
    for (const char *p = out; *p; p++)
        lt_out += *p == '<';
    assert_int_equal(lt_in, lt_out);
    const char *esc = "&lt;/title&gt;&lt;script&gt;alert(1)";
    assert_non_null(strstr(out, "<title>"));
    assert_true(strstr(strstr(out, "<title>"), esc) == strstr(out, "<title>") + 7);
    assert_non_null(strstr(out, "property=\"og:title\" content=\"&lt;/title&gt;"));
    assert_non_null(strstr(out, "property=\"og:description\" content=\"&lt;/title&gt;"));
    assert_non_null(strstr(out, "property=\"og:image\" content=\"artwork.svg\""));
    assert_non_null(strstr(out, "name=\"twitter:card\""));
    free(out);
    free(tmpl);
}

static void only_web_links_are_accepted(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(page_link_check("", err, sizeof err), 0);
    assert_int_equal(page_link_check("https://radio.example/", err, sizeof err), 0);
    assert_int_equal(page_link_check("HTTP://radio.example/", err, sizeof err), 0);
    assert_int_equal(page_link_check("javascript:alert(1)", err, sizeof err), -1);
    assert_int_equal(page_link_check(" https://x", err, sizeof err), -1);
    assert_int_equal(page_link_check("https://x y", err, sizeof err), -1);
    assert_int_equal(page_link_check("data:text/html,<b>", err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(placeholders_are_replaced_escaped),
        cmocka_unit_test(the_shipped_page_takes_a_hostile_name_as_text),
        cmocka_unit_test(only_web_links_are_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
