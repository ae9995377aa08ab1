/* Track artwork: the picture a music file carries (its attached picture
 * stream: ID3 APIC, FLAC or Ogg METADATA_BLOCK_PICTURE, MP4 covr) or, when
 * it has none, a cover file beside it, decoded and rendered as JPEG at a
 * few sizes for the listener page and players' lock screens. */
#ifndef RADIO_ARTWORK_H
#define RADIO_ARTWORK_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define ARTWORK_MAX_SIZES 8

struct artwork_opts {
    int sizes[ARTWORK_MAX_SIZES];   /* longer sides in pixels, ascending */
    size_t nsizes;
    int quality;                    /* JPEG quantiser scale: 2 best, 31 worst */
    int64_t max_pixels;             /* a picture declaring more is refused undecoded */
    int64_t max_bytes;              /* a picture file larger than this is refused */
    const struct cfg_strlist *names; /* cover file names without extension, in order of preference */
};

/* "96,256,512" into ascending, distinct sizes within [min, max]. */
int artwork_parse_sizes(const char *text, int min, int max, int *sizes, size_t *n, char *err, size_t errlen);

/* Fingerprint of the settings that decide which picture is taken and the
 * images' bytes: a change re-renders every track's artwork. */
void artwork_params(const struct artwork_opts *o, char out[65]);

/* The attached picture of a media file (the front cover when it holds
 * several). Returns 1 with *data (caller frees) when there is one, 0 when
 * there is none, -1 when the file cannot be opened or the picture is
 * larger than max_bytes (err says why). */
int artwork_embedded(const char *path, int64_t max_bytes, uint8_t **data, size_t *len, char *err, size_t errlen);

/* The cover file in dir: the first of names that exists with extension
 * jpg, jpeg or png, matched case-insensitively. Returns 1 with its file
 * name in out, or 0. */
int artwork_cover_file(const char *dir, const struct cfg_strlist *names, char *out, size_t outlen);

struct artwork_image {
    int size;                       /* longer side */
    int width, height;
    uint8_t *data;                  /* JPEG */
    size_t len;
};

/* Decodes a JPEG or PNG picture and renders it once per size, the longer
 * side scaled to that size, never above the picture's own: sizes at or
 * above it give one image at the picture's size. A picture that is empty,
 * truncated, undecodable or declares more than max_pixels is refused
 * (-1, err says why); nothing else can fail but memory (ERR_ENVIRONMENT). */
int artwork_render(const uint8_t *data, size_t len, const struct artwork_opts *o,
                   struct artwork_image *out, size_t *nout, char *err, size_t errlen);
void artwork_images_free(struct artwork_image *v, size_t n);

#endif
