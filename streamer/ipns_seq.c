#include "ipns_seq.h"

#include "atomic.h"
#include "err.h"
#include "json_file.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEQ_FILE_MAX 4096

int ipns_seq_load(struct ipns_seq *s, const char *path, const char *name, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (fs_path(s->path, sizeof s->path, err, errlen, "%s", path) != 0)
        return -1;
    snprintf(s->name, sizeof s->name, "%s", name);
    json_t *root;
    if (json_file_load(path, SEQ_FILE_MAX, &root, err, errlen) != 0)
        return -1;
    if (!root)
        return 0;
    const char *fmt = "";
    json_int_t seq = -1;
    if (json_unpack(root, "{s:s, s:I}", "format", &fmt, "sequence", &seq) != 0 ||
        strcmp(fmt, IPNS_SEQ_FORMAT) != 0 || seq < 0) {
        json_decref(root);
        return err_set(err, errlen, "%s: not an IPNS sequence file", path);
    }
    s->last = (uint64_t)seq;
    json_decref(root);
    return 0;
}

int ipns_seq_next(struct ipns_seq *s, double now, uint64_t floor, uint64_t *out, char *err, size_t errlen)
{
    uint64_t next = s->last + 1;
    uint64_t clock_ms = isfinite(now) && now > 0 ? (uint64_t)(now * 1000.0) : 0;
    if (clock_ms > next)
        next = clock_ms;
    if (floor > next)
        next = floor;
    if (next > (uint64_t)INT64_MAX)
        return err_set(err, errlen, "IPNS sequence exhausted");
    char text[512];
    snprintf(text, sizeof text, "{\"format\": \"%s\", \"name\": \"%s\", \"sequence\": %llu}\n", IPNS_SEQ_FORMAT,
             s->name, (unsigned long long)next);
    if (atomic_write(s->path, text, strlen(text), err, errlen) != 0)
        return -1;
    s->last = next;
    *out = next;
    return 0;
}
