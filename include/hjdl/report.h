/* report.h — the HTML report of `hjdl reproduce`: one section per SPEC claim
 * (C1..C13) with its figures, checks table, claims table, parameters and
 * wall time, and a summary of every claim's verdict at the top. */
#ifndef HJDL_REPORT_H
#define HJDL_REPORT_H

#include "hjdl/export.h"

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
HJ_API hj_status hj_report_write_html(const char *out_dir, const hj_result *results, size_t n,
                               int quick, double seconds, hj_error *err);

/* One claim of a run, as kept in a run's claims.tsv: enough to compare the
 * verdicts of two runs (quick vs full, or two base seeds). Claims of two runs
 * are matched by experiment, claim id and order among that id (statements may
 * name run sizes that differ between a quick and a full run). */
typedef struct hj_report_claim_row {
    char experiment[64];
    char claim[8];
    char source[8];          /* "paper" / "hjdl" */
    char statement[384];
    hj_verdict verdict;
    double measured, lo, hi; /* value and 95 % interval */
    int provisional;         /* from a --quick run */
} hj_report_claim_row;

/* Options of hj_report_write. */
typedef struct hj_report_options {
    int quick;                           /* a --quick run: every verdict provisional */
    double seconds;                      /* total wall time */
    int self_contained;                  /* embed the PNG figures as data: URIs */
    const hj_report_claim_row *compare;  /* another run's claims (may be NULL) */
    size_t n_compare;
    const char *compare_label;           /* where they came from, e.g. the other run's folder */
} hj_report_options;

/* Write out_dir/report.html as hj_report_write_html does, with the options
 * above: the paper's claims first in their own verdict table, hjdl's own
 * tests after; with compare, a verdict-stability table (this run next to
 * the other, flips between agrees and disagrees flagged). */
HJ_API hj_status hj_report_write(const char *out_dir, const hj_result *results, size_t n,
                          const hj_report_options *opt, hj_error *err);

/* Write out_dir/claims.tsv (atomically): a header line, then one line per
 * claim, tab-separated: experiment, claim, source, verdict, provisional (0/1),
 * measured, lo, hi (%.17g), statement (tabs and newlines replaced by spaces). */
HJ_API hj_status hj_report_write_claims(const char *out_dir, const hj_result *results, size_t n,
                                 hj_error *err);

/* Read a claims.tsv written by hj_report_write_claims; *rows (free with
 * free()) and *n_rows. A malformed file is refused naming the file and line. */
HJ_API hj_status hj_report_read_claims(const char *path, hj_report_claim_row **rows, size_t *n_rows,
                                hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_REPORT_H */
