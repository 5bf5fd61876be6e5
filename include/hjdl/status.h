/* status.h — status codes and the error record every fallible hjdl call fills.
 *
 * Contract (GSL-style, but without global state):
 *   - every fallible function returns an hj_status (HJ_OK == 0 on success);
 *   - its last argument is an `hj_error *err` which may be NULL; on failure
 *     the function writes a one-line, human-readable message into err->msg
 *     (naming the file and line where that applies) and sets err->code;
 *   - on success err is left untouched;
 *   - the library never prints and never exits: the caller decides.
 */
#ifndef HJDL_STATUS_H
#define HJDL_STATUS_H

#include "hjdl/export.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hj_status {
    HJ_OK = 0,
    HJ_EINVAL,   /* invalid argument: negative eps or t, N = 0, NULL buffer, ... */
    HJ_ENOMEM,   /* allocation failed */
    HJ_EDOM,     /* argument outside the mathematical domain (e.g. A not SPD) */
    HJ_EIO,      /* file could not be opened, read or written */
    HJ_EFORMAT,  /* malformed input file (ragged CSV, bad header, corrupt data) */
    HJ_ENAN,     /* NaN or Inf found where finite numbers are required */
    HJ_ESHAPE,   /* dimensions do not agree */
    HJ_EMAXITER, /* an iterative method did not converge within its budget */
    HJ_ERANGE    /* result not representable (overflow where it is not allowed) */
} hj_status;

#define HJ_ERROR_MSG_LEN 512

typedef struct hj_error {
    hj_status code;
    char msg[HJ_ERROR_MSG_LEN];
} hj_error;

/* Short fixed text for a status code ("invalid argument", ...). Never NULL. */
HJ_API const char *hj_status_string(hj_status code);

/* Record `code` and a printf-style message in err (if err != NULL) and return
 * code, so callers can write `return hj_error_set(err, HJ_EINVAL, "...")`. */
HJ_API hj_status hj_error_set(hj_error *err, hj_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Reset err to HJ_OK with an empty message (err may be NULL). */
HJ_API void hj_error_clear(hj_error *err);

/* Prefix the message already in err with a printf-style context, e.g. the
 * file name: "atoms.csv: " + "line 3: expected 3 columns, found 2". */
HJ_API void hj_error_prefix(hj_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif /* HJDL_STATUS_H */
