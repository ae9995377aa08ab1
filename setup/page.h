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

struct page_result {
    int absent;              /* the folder does not exist: no page */
    int added;               /* uploaded by this run */
    int written;             /* page.json rewritten */
    char cid[CID_MAX_STR];   /* the page directory */
};

/* Adds page_dir's top-level, non-hidden regular files; it must hold index.html. */
int page_publish(const struct ipfs_client *c, const char *page_dir, const char *processed_dir,
                 struct page_result *res, char *err, size_t errlen);

#endif
