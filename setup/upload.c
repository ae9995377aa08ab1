#include "upload.h"

#include "err.h"

#include <stdlib.h>
#include <string.h>

void upload_expected_cid(const void *data, size_t len, char out[CID_MAX_STR])
{
    if (len <= CID_CHUNK_SIZE)
        cid_raw_from_bytes(data, len, out);
    else
        out[0] = '\0';
}

int upload_files(const struct ipfs_client *c, struct upload_file *files, size_t n, int batch,
                 char *err, size_t errlen)
{
    if (batch < 1)
        batch = 1;
    struct ipfs_add_item *items = calloc((size_t)batch, sizeof *items);
    if (!items)
        return err_env(err, errlen, "out of memory");
    int rc = 0;
    for (size_t start = 0; start < n && rc == 0; start += (size_t)batch) {
        size_t k = n - start < (size_t)batch ? n - start : (size_t)batch;
        for (size_t i = 0; i < k; i++) {
            memset(&items[i], 0, sizeof items[i]);
            items[i].path = files[start + i].path;
        }
        if ((rc = ipfs_add_many(c, items, k, err, errlen)) != 0)
            break;
        for (size_t i = 0; i < k && rc == 0; i++) {
            struct upload_file *f = &files[start + i];
            memcpy(f->cid, items[i].cid, sizeof f->cid);
            if (f->expect[0] && !cid_equal(f->expect, f->cid))
                rc = err_set(err, errlen, "node's CID %s for %s differs from the local %s", f->cid,
                             f->path, f->expect);
        }
    }
    free(items);
    return rc;
}
