#include "json_file.h"

#include "atomic.h"
#include "err.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int json_file_load(const char *path, size_t max_bytes, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return 0;
    char *text = NULL;
    if (atomic_read(path, max_bytes, &text, NULL, err, errlen) != 0)
        return -1;
    json_error_t je;
    *out = json_loads(text, 0, &je);
    free(text);
    if (!*out)
        return err_set(err, errlen, "%s: line %d: %s", path, je.line, je.text);
    return 0;
}
