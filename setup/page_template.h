/* The station's identity written into the listener page: index.html holds
 * {{station_name}}, {{station_description}}, {{station_link}} and
 * {{station_artwork}}, which setup replaces, HTML-escaped, before the page
 * is added. They must be in the HTML itself, not filled in by script:
 * social previews (og:, twitter:) are read by crawlers that run none. */
#ifndef RADIO_PAGE_TEMPLATE_H
#define RADIO_PAGE_TEMPLATE_H

#include <stddef.h>

struct page_station {
    const char *name;
    const char *description;
    const char *link;          /* empty, or an http:// or https:// URL */
    const char *artwork;       /* the artwork's file name inside the page */
};

/* 0 when link is empty or an http(s) URL; -1 with a reason otherwise (a
 * javascript: URL in an href would run on a click). */
int page_link_check(const char *link, char *err, size_t errlen);

/* The template with every placeholder replaced by its value, escaped for
 * HTML text and attribute values alike. *out is malloc'd. */
int page_template_render(const char *tmpl, size_t len, const struct page_station *s, char **out,
                         size_t *outlen, char *err, size_t errlen);

#endif
