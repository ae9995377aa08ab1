/* Schema-driven JSON configuration. Each program declares its keys once
 * (type, default, range, meaning); the same table validates files, fills
 * defaults, and prints the README reference, so they cannot drift apart. */
#ifndef RADIO_CONFIG_H
#define RADIO_CONFIG_H

#include <stddef.h>
#include <stdio.h>

/* CFG_OBJECT_LIST: a list of JSON objects, kept as the list's compact JSON
 * text (char *); the program checks the objects itself (each has its own keys). */
enum cfg_type { CFG_BOOL, CFG_INT, CFG_NUMBER, CFG_STRING, CFG_STRING_LIST, CFG_OBJECT_LIST };

struct cfg_strlist {
    char **v;
    size_t n;
};

struct cfg_key {
    const char *name;
    enum cfg_type type;
    size_t offset;              /* field in the program's config struct: int, double, char *, cfg_strlist, char * */
    const char *def;            /* default as JSON text, e.g. "6", "true", "\"music\"", "[]" */
    double min, max;            /* CFG_INT and CFG_NUMBER bounds, inclusive */
    const char *choices;        /* CFG_STRING: '|'-separated allowed values, or NULL for any */
    const char *doc;            /* one line for the README table */
};

/* Fills defaults, then applies the file at path (NULL: defaults only).
 * Refuses unknown keys, wrong types, out-of-range values, naming key and file. */
int cfg_load(const char *path, const struct cfg_key *keys, size_t nkeys, void *out,
             char *err, size_t errlen);

/* Applies a JSON object already in memory (used by cfg_load and tests). */
int cfg_apply_json(const char *json_text, const char *origin, const struct cfg_key *keys,
                   size_t nkeys, void *out, char *err, size_t errlen);

void cfg_free(const struct cfg_key *keys, size_t nkeys, void *out);

/* The README table for these keys, as Markdown. */
void cfg_print_reference(const struct cfg_key *keys, size_t nkeys, FILE *f);

/* The defaults as a JSON config file (what config/ ships). */
void cfg_print_defaults(const struct cfg_key *keys, size_t nkeys, FILE *f);

#endif
