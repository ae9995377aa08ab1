/* Setup benchmark helper (issue 2, upload): adds a list of segment files to
 * the node exactly as radio-setup does -- upload_files(), `batch` files per
 * multipart add request (CIDv1, raw leaves, pinned), each node CID checked
 * against the one computed locally -- and prints how long the adds took.
 * The expected CIDs are computed before the clock starts (setup computes
 * them while encoding, from the bytes in memory).
 *
 *   bench_upload API_URL BATCH LIST_FILE
 *
 * LIST_FILE holds one path per line. Prints "files=N requests=R seconds=S". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomic.h"
#include "bench_util.h"
#include "ipfs.h"
#include "upload.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_upload API_URL BATCH LIST_FILE\n");
        return 2;
    }
    int batch = atoi(argv[2]);
    if (batch < 1)
        bench_die("batch", "must be at least 1");
    char err[1024];
    char *list = NULL;
    size_t listlen = 0;
    if (atomic_read(argv[3], 64u << 20, &list, &listlen, err, sizeof err) != 0)
        bench_die("read list", err);
    size_t cap = 0, n = 0;
    struct upload_file *files = NULL;
    char *save = NULL;
    for (char *line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!*line)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            files = realloc(files, cap * sizeof *files);
            if (!files)
                bench_die("realloc", "out of memory");
        }
        memset(&files[n], 0, sizeof files[n]);
        files[n].path = line;
        char *data = NULL;
        size_t len = 0;
        if (atomic_read(line, 64u << 20, &data, &len, err, sizeof err) != 0)
            bench_die("read segment", err);
        files[n].size = (int64_t)len;
        upload_expected_cid(data, len, files[n].expect);
        free(data);
        n++;
    }
    if (ipfs_global_init(err, sizeof err) != 0)
        bench_die("ipfs_global_init", err);
    struct ipfs_client c;
    if (ipfs_client_init(&c, argv[1], NULL, err, sizeof err) != 0)
        bench_die("ipfs_client_init", err);
    c.timeout = 300;
    c.retries = 0;
    double t0 = bench_clock(CLOCK_MONOTONIC);
    if (upload_files(&c, files, n, batch, err, sizeof err) != 0)
        bench_die("upload_files", err);
    double t1 = bench_clock(CLOCK_MONOTONIC);
    printf("files=%zu requests=%zu seconds=%.6f\n", n, (n + (size_t)batch - 1) / (size_t)batch, t1 - t0);
    ipfs_client_free(&c);
    free(files);
    free(list);
    return 0;
}
