#include "config.h"

#include "err.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CFG_MAX_FILE (1u << 20)

static const struct cfg_key *find_key(const struct cfg_key *keys, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static int choice_ok(const char *choices, const char *v)
{
    size_t vl = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == vl && strncmp(p, v, l) == 0)
            return 1;
        if (!bar)
            break;
        p = bar + 1;
    }
    return 0;
}

static void free_field(const struct cfg_key *k, void *out)
{
    char *field = (char *)out + k->offset;
    if (k->type == CFG_STRING || k->type == CFG_OBJECT_LIST) {
        free(*(char **)field);
        *(char **)field = NULL;
    } else if (k->type == CFG_STRING_LIST) {
        struct cfg_strlist *l = (struct cfg_strlist *)field;
        for (size_t i = 0; i < l->n; i++)
            free(l->v[i]);
        free(l->v);
        l->v = NULL;
        l->n = 0;
    }
}

static int set_value(const struct cfg_key *k, json_t *v, const char *origin, void *out,
                     char *err, size_t errlen)
{
    char *field = (char *)out + k->offset;
    switch (k->type) {
    case CFG_BOOL:
        if (!json_is_boolean(v))
            return err_set(err, errlen, "%s: key \"%s\" must be true or false", origin, k->name);
        *(int *)field = json_is_true(v);
        return 0;
    case CFG_INT: {
        double d;
        if (json_is_integer(v))
            d = (double)json_integer_value(v);
        else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)))
            d = json_real_value(v);
        else
            return err_set(err, errlen, "%s: key \"%s\" must be an integer", origin, k->name);
        if (d < k->min || d > k->max)
            return err_set(err, errlen, "%s: key \"%s\" is %.0f, outside %.0f..%.0f", origin, k->name,
                           d, k->min, k->max);
        *(int *)field = (int)d;
        return 0;
    }
    case CFG_NUMBER: {
        if (!json_is_number(v))
            return err_set(err, errlen, "%s: key \"%s\" must be a number", origin, k->name);
        double d = json_number_value(v);
        if (!isfinite(d) || d < k->min || d > k->max)
            return err_set(err, errlen, "%s: key \"%s\" is %g, outside %g..%g", origin, k->name,
                           d, k->min, k->max);
        *(double *)field = d;
        return 0;
    }
    case CFG_STRING: {
        if (!json_is_string(v))
            return err_set(err, errlen, "%s: key \"%s\" must be a string", origin, k->name);
        const char *s = json_string_value(v);
        if (k->choices && !choice_ok(k->choices, s))
            return err_set(err, errlen, "%s: key \"%s\" is \"%s\", must be one of %s", origin,
                           k->name, s, k->choices);
        char *dup = strdup(s);
        if (!dup)
            return err_set(err, errlen, "out of memory");
        free_field(k, out);
        *(char **)field = dup;
        return 0;
    }
    case CFG_STRING_LIST: {
        if (!json_is_array(v))
            return err_set(err, errlen, "%s: key \"%s\" must be a list of strings", origin, k->name);
        size_t n = json_array_size(v);
        char **list = calloc(n ? n : 1, sizeof *list);
        if (!list)
            return err_set(err, errlen, "out of memory");
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(v, i);
            if (!json_is_string(e) || !(list[i] = strdup(json_string_value(e)))) {
                for (size_t j = 0; j < i; j++)
                    free(list[j]);
                free(list);
                return err_set(err, errlen, "%s: key \"%s\" item %zu must be a string", origin,
                               k->name, i + 1);
            }
        }
        free_field(k, out);
        struct cfg_strlist *l = (struct cfg_strlist *)field;
        l->v = list;
        l->n = n;
        return 0;
    }
    case CFG_OBJECT_LIST: {
        if (!json_is_array(v))
            return err_set(err, errlen, "%s: key \"%s\" must be a list of objects", origin, k->name);
        for (size_t i = 0; i < json_array_size(v); i++)
            if (!json_is_object(json_array_get(v, i)))
                return err_set(err, errlen, "%s: key \"%s\" item %zu must be an object", origin, k->name, i + 1);
        char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text)
            return err_set(err, errlen, "%s: key \"%s\": out of memory, or text that is not UTF-8", origin,
                           k->name);
        free_field(k, out);
        *(char **)field = text;
        return 0;
    }
    }
    return err_set(err, errlen, "%s: key \"%s\" has an unknown type", origin, k->name);
}

static int apply_object(json_t *root, const char *origin, const struct cfg_key *keys, size_t nkeys,
                        void *out, char *err, size_t errlen)
{
    if (!json_is_object(root))
        return err_set(err, errlen, "%s: must be a JSON object", origin);
    const char *name;
    json_t *v;
    json_object_foreach(root, name, v) {
        /* Keys starting with an underscore are comments by convention. */
        if (name[0] == '_')
            continue;
        const struct cfg_key *k = find_key(keys, nkeys, name);
        if (!k)
            return err_set(err, errlen, "%s: unknown key \"%s\"", origin, name);
        if (set_value(k, v, origin, out, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int cfg_apply_json(const char *json_text, const char *origin, const struct cfg_key *keys,
                   size_t nkeys, void *out, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loads(json_text, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return err_set(err, errlen, "%s: line %d: %s", origin, je.line, je.text);
    int rc = apply_object(root, origin, keys, nkeys, out, err, errlen);
    json_decref(root);
    return rc;
}

static int apply_defaults(const struct cfg_key *keys, size_t nkeys, void *out, char *err, size_t errlen)
{
    for (size_t i = 0; i < nkeys; i++) {
        json_error_t je;
        json_t *v = json_loads(keys[i].def, JSON_DECODE_ANY, &je);
        if (!v)
            return err_set(err, errlen, "built-in default of \"%s\" is not JSON", keys[i].name);
        int rc = set_value(&keys[i], v, "built-in defaults", out, err, errlen);
        json_decref(v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int cfg_load(const char *path, const struct cfg_key *keys, size_t nkeys, void *out,
             char *err, size_t errlen)
{
    if (apply_defaults(keys, nkeys, out, err, errlen) != 0)
        return -1;
    if (!path)
        return 0;
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return err_set(err, errlen, "%s: line %d: %s", path, je.line, je.text);
    int rc = apply_object(root, path, keys, nkeys, out, err, errlen);
    json_decref(root);
    return rc;
}

void cfg_free(const struct cfg_key *keys, size_t nkeys, void *out)
{
    for (size_t i = 0; i < nkeys; i++)
        free_field(&keys[i], out);
}

static const char *type_name(enum cfg_type t)
{
    switch (t) {
    case CFG_BOOL: return "bool";
    case CFG_INT: return "integer";
    case CFG_NUMBER: return "number";
    case CFG_STRING: return "string";
    case CFG_STRING_LIST: return "list of strings";
    case CFG_OBJECT_LIST: return "list of objects";
    }
    return "?";
}

void cfg_print_reference(const struct cfg_key *keys, size_t nkeys, FILE *f)
{
    fputs("| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n", f);
    for (size_t i = 0; i < nkeys; i++) {
        const struct cfg_key *k = &keys[i];
        char allowed[256] = "";
        if (k->type == CFG_INT)
            snprintf(allowed, sizeof allowed, "%.0f to %.0f", k->min, k->max);
        else if (k->type == CFG_NUMBER)
            snprintf(allowed, sizeof allowed, "%g to %g", k->min, k->max);
        else if (k->type == CFG_STRING && k->choices) {
            size_t o = 0;
            for (const char *p = k->choices; *p && o + 3 < sizeof allowed; p++) {
                if (*p == '|') {
                    allowed[o++] = ',';
                    allowed[o++] = ' ';
                } else {
                    allowed[o++] = *p;
                }
            }
            allowed[o] = '\0';
        }
        fprintf(f, "| `%s` | %s | `%s` | %s | %s |\n", k->name, type_name(k->type), k->def,
                allowed, k->doc);
    }
}

void cfg_print_defaults(const struct cfg_key *keys, size_t nkeys, FILE *f)
{
    fputs("{\n", f);
    for (size_t i = 0; i < nkeys; i++)
        fprintf(f, "  \"%s\": %s%s\n", keys[i].name, keys[i].def, i + 1 < nkeys ? "," : "");
    fputs("}\n", f);
}
