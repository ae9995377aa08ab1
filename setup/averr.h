/* FFmpeg error codes turned into the project's error messages. */
#ifndef RADIO_AVERR_H
#define RADIO_AVERR_H

#include <stddef.h>

#include <libavutil/error.h>

#include "err.h"

/* "what: FFmpeg's description of averr"; returns -1 like err_set, or
 * ERR_ENVIRONMENT when averr is an errno of the environment (disk full,
 * I/O error, out of memory). */
static inline int averr_set(char *err, size_t errlen, const char *what, int averr)
{
    char msg[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averr, msg, sizeof msg);
    int e = averr < 0 && averr > -4096 ? -averr : 0;
    if (e && err_errno_is_environment(e))
        return err_env(err, errlen, "%s: %s", what, msg);
    return err_set(err, errlen, "%s: %s", what, msg);
}

#endif
