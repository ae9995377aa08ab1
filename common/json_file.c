#include "json_file.h"

#include "atomic.h"
#include "err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
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

int json_versioned_parse(const char *text, size_t len, const char *format, int version, json_t **out, char *err,
                         size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    *out = NULL;
    if (!root)
        return err_set(err, errlen, "not JSON (line %d: %s)", je.line, je.text);
    json_t *fmt = json_object_get(root, "format"), *ver = json_object_get(root, "version");
    if (!json_is_object(root) || !json_is_string(fmt) || strcmp(json_string_value(fmt), format) != 0) {
        json_decref(root);
        return err_set(err, errlen, "\"format\" must be \"%s\"", format);
    }
    if (!json_is_integer(ver) || json_integer_value(ver) != version) {
        json_decref(root);
        return err_set(err, errlen, "unknown version (this program reads version %d)", version);
    }
    *out = root;
    return 0;
}
