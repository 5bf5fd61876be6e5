/* verify.h — the self-verification suite behind `hjdl verify` (SPEC C1–C6).
 *
 * Every check compares two *different* computations of the same quantity
 * (closed form vs finite differences, network vs grid PDE solver, closed
 * form vs iterative optimiser, tiled vs reference kernel, ...), or measures
 * a proved bound, and records value <= threshold in an hj_check_list.
 */
#ifndef HJDL_VERIFY_H
#define HJDL_VERIFY_H

#include <stdint.h>

#include "hjdl/check.h"
#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Optional progress report: called with a short stage name before each group. */
typedef void (*hj_progress_fn)(const char *stage, void *ctx);

typedef struct hj_verify_options {
    uint64_t seed;            /* random problems are drawn from this seed */
    hj_progress_fn progress;  /* may be NULL */
    void *progress_ctx;
} hj_verify_options;

/* Run every check group (C1..C6), appending to checks. Returns HJ_OK when
 * the suite *ran* (failing checks are reported in the list, not as an
 * error); a non-OK status means a check could not be computed at all. */
hj_status hj_verify_run(const hj_verify_options *opt, hj_check_list *checks, hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_VERIFY_H */
