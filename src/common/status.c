/* status.c — status strings and the error record (no global state). */
#include "hjdl/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *hj_status_string(hj_status code)
{
    switch (code) {
    case HJ_OK: return "success";
    case HJ_EINVAL: return "invalid argument";
    case HJ_ENOMEM: return "out of memory";
    case HJ_EDOM: return "argument outside the domain";
    case HJ_EIO: return "input/output error";
    case HJ_EFORMAT: return "malformed input";
    case HJ_ENAN: return "NaN or infinite value";
    case HJ_ESHAPE: return "dimension mismatch";
    case HJ_EMAXITER: return "iteration limit reached";
    case HJ_ERANGE: return "result out of range";
    }
    return "unknown status";
}

hj_status hj_error_set(hj_error *err, hj_status code, const char *fmt, ...)
{
    if (err != NULL) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void hj_error_clear(hj_error *err)
{
    if (err != NULL) {
        err->code = HJ_OK;
        err->msg[0] = '\0';
    }
}

void hj_error_prefix(hj_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    char head[HJ_ERROR_MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    /* Concatenate by hand: snprintf("%s%s") trips -Wformat-truncation. */
    char old[HJ_ERROR_MSG_LEN];
    memcpy(old, err->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    size_t hl = strlen(head), ol = strlen(old);
    if (hl > sizeof err->msg - 1)
        hl = sizeof err->msg - 1;
    if (ol > sizeof err->msg - 1 - hl)
        ol = sizeof err->msg - 1 - hl;
    memcpy(err->msg, head, hl);
    memcpy(err->msg + hl, old, ol);
    err->msg[hl + ol] = '\0';
}
