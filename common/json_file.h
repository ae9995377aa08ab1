/* Reading the small JSON files a program keeps for itself (state, sequence
 * numbers, playlist lists): absent is not an error, anything unreadable or
 * larger than the caller allows is. */
#ifndef RADIO_JSON_FILE_H
#define RADIO_JSON_FILE_H

#include <jansson.h>
#include <stddef.h>

/* 0 with *out the parsed document, or 0 with *out NULL when the file does
 * not exist; -1 with a message naming the file (and the line) otherwise. */
int json_file_load(const char *path, size_t max_bytes, json_t **out, char *err, size_t errlen);

/* A versioned document another program writes for this one: a JSON object
 * (duplicate keys refused) whose "format" is `format` and "version" is
 * `version`. 0 with *out the document (the caller frees it), or -1 with a
 * message saying what is wrong. */
int json_versioned_parse(const char *text, size_t len, const char *format, int version, json_t **out, char *err,
                         size_t errlen);

#endif
