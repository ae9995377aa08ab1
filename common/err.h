/* Error reporting convention: functions return 0 on success and a negative
 * value on failure, and fill a caller-owned message buffer the caller can log. */
#ifndef RADIO_ERR_H
#define RADIO_ERR_H

#include <stddef.h>

#define ERR_MSG_MAX 512

#if defined(__GNUC__)
#define ERR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ERR_PRINTF(f, a)
#endif

/* Formats into err (if non-NULL) and returns -1, so callers can write
 * `return err_set(err, errlen, "...")`. */
int err_set(char *err, size_t errlen, const char *fmt, ...) ERR_PRINTF(3, 4);

/* A failure of the environment, not of the input being worked on: disk full,
 * an I/O error, out of memory. Callers keep the code (never turn it into -1)
 * so that nobody holds it against the input. */
#define ERR_ENVIRONMENT (-2)

/* err_set that returns ERR_ENVIRONMENT. */
int err_env(char *err, size_t errlen, const char *fmt, ...) ERR_PRINTF(3, 4);

/* 1 for an errno that says the environment failed (ENOSPC, EDQUOT, EFBIG,
 * EIO, ENOMEM, EROFS, EMFILE, ENFILE), 0 otherwise. */
int err_errno_is_environment(int e);

/* Prefixes an existing message in place: "prefix: old message". */
int err_prefix(char *err, size_t errlen, const char *fmt, ...) ERR_PRINTF(3, 4);

#endif
