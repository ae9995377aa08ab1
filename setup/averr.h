/* FFmpeg error codes turned into the project's error messages. */
#ifndef RADIO_AVERR_H
#define RADIO_AVERR_H

#include <stddef.h>

#include <libavutil/error.h>

#include "err.h"

/* "what: FFmpeg's description of averr"; returns -1 like err_set. */
static inline int averr_set(char *err, size_t errlen, const char *what, int averr)
{
    char msg[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averr, msg, sizeof msg);
    return err_set(err, errlen, "%s: %s", what, msg);
}

#endif
