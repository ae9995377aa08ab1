/* The listener page: the files of the page folder (index.html, the player,
 * hls.js) added to IPFS as one directory, so /ipfs/<cid>/ on any path
 * gateway serves a page that needs nothing from elsewhere. What was added is
 * recorded in processed/page.json (the directory's CID and each file's name,
 * size and SHA-256); an unchanged page the node still pins is not added again. */
#ifndef RADIO_PAGE_H
#define RADIO_PAGE_H

#include <stddef.h>

#include "cid.h"
#include "ipfs.h"
#include "page_template.h"

/* The file name the station's artwork gets inside the page, before its
 * extension, and the page's own artwork used when none is configured. */
#define PAGE_ARTWORK_NAME "station-artwork"
#define PAGE_DEFAULT_ARTWORK "artwork.svg"

/* Who the station is, as setup's config says. */
struct page_identity {
    const char *name;
    const char *description;
    const char *link;
    const char *artwork_path;   /* an image file (png, jpg, jpeg, webp, gif), or empty */
};

struct page_result {
    int absent;              /* the folder does not exist: no page */
    int added;               /* uploaded by this run */
    int written;             /* page.json rewritten */
    char cid[CID_MAX_STR];   /* the page directory */
};

/* Checks the identity before anything is cut: the link's scheme, the
 * artwork's type and that it can be read. */
int page_identity_check(const struct page_identity *id, char *err, size_t errlen);

/* Adds page_dir's top-level, non-hidden regular files; it must hold
 * index.html, which gets the station's identity written in (see
 * page_template.h), and the station's artwork joins them. The page is put
 * together in a folder inside processed_dir that is removed afterwards. */
int page_publish(const struct ipfs_client *c, const char *page_dir, const struct page_identity *id,
                 const char *processed_dir, struct page_result *res, char *err, size_t errlen);

#endif
