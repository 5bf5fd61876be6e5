/* report.h — the HTML report of `hjdl reproduce`: one section per SPEC claim
 * (C1..C13) with its figures, checks table, claims table, parameters and
 * wall time, and a summary of every claim's verdict at the top. */
#ifndef HJDL_REPORT_H
#define HJDL_REPORT_H

#include <stddef.h>

#include "hjdl/experiment.h"
#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Write out_dir/report.html (atomically) from the results of a run
 * (results[i].dir are subdirectories of out_dir; figures are linked by
 * relative path). quick marks the report as a quick run; seconds is the
 * total wall time. */
hj_status hj_report_write_html(const char *out_dir, const hj_result *results, size_t n,
                               int quick, double seconds, hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_REPORT_H */
