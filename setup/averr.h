/* FFmpeg error codes turned into the project's error messages. */
#ifndef RADIO_AVERR_H
#define RADIO_AVERR_H

#include <errno.h>
#include <stddef.h>

#include <libavutil/error.h>

#include "err.h"

/* Which FFmpeg errors are the environment's. Only a full or read-only
 * disk: FFmpeg answers EIO for a damaged file as often as for a failing
 * disk (its FLAC demuxer does, on garbage), and ENOMEM when a damaged
 * header asks for an absurd buffer. A source's real read errors show up
 * earlier, when setup hashes it with read(2) (scan_hash_file). */
static inline int averr_is_environment(int averr)
{
    return averr == AVERROR(ENOSPC) || averr == AVERROR(EDQUOT) || averr == AVERROR(EFBIG) ||
           averr == AVERROR(EROFS);
}

/* "what: FFmpeg's description of averr"; returns -1 like err_set, or
 * ERR_ENVIRONMENT (averr_is_environment). */
static inline int averr_set(char *err, size_t errlen, const char *what, int averr)
{
    char msg[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averr, msg, sizeof msg);
    if (averr_is_environment(averr))
        return err_env(err, errlen, "%s: %s", what, msg);
    return err_set(err, errlen, "%s: %s", what, msg);
}

#endif
