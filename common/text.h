/* Text from outside (tags, file names) made fit for JSON and #EXTINF
 * lines: one line of valid UTF-8. Old ID3v1 tags and file names from
 * older systems are often Latin-1, so text that is not UTF-8 is read as
 * Latin-1 rather than refused. */
#ifndef RADIO_TEXT_H
#define RADIO_TEXT_H

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at s, or 0 if it is not one
 * (overlong forms, surrogates and values past U+10FFFF included). */
size_t text_utf8_seq_len(const unsigned char *s);

int text_is_utf8(const char *s);

/* Control characters and line breaks become single spaces, leading ones
 * are dropped; a character that does not fit whole is dropped, not cut.
 * src may be NULL (an empty result). */
void text_one_line(char *dst, size_t dstlen, const char *src);

#endif
