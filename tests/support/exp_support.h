/* exp_support.h — helpers shared by the experiment tests (tests/test_exp_*.c): scratch directories, quick runs, result and CSV look-ups, and the assertions every quick run must satisfy. */
#ifndef HJDL_TEST_EXP_SUPPORT_H
#define HJDL_TEST_EXP_SUPPORT_H

#include <stddef.h>

#include "hjdl/data.h"
#include "hjdl/experiment.h"

/* A scratch output directory under /tmp, created by es_make_tmp and removed
 * (with its files and those of its sub-directories) by es_drop_tmp. */
typedef struct es_tmpdir {
    char path[256];
} es_tmpdir;

/* Create /tmp/hjdl_test_exp_TAG_XXXXXX and store a heap es_tmpdir in *state.
 * Returns 0, or -1 on failure (cmocka setup convention). */
int es_make_tmp(void **state, const char *tag);

/* cmocka teardown: remove the scratch dir of *state (two levels) and free it. */
int es_drop_tmp(void **state);

/* Delete dir with its files, recursing into sub-directories `levels` deep. */
void es_rm_dir(const char *dir, int levels);

/* Default options with quick = 1 and out_dir = the scratch dir. */
void es_quick_options(const es_tmpdir *t, hj_experiment_options *o);

/* Find experiment `name`, run it with o into res; fail the test on error. */
void es_run(const char *name, const hj_experiment_options *o, hj_result *res);

/* Every check of res passes (fail_msg naming it otherwise), there are at
 * least min_checks, and when claim_id is not NULL each belongs to it. */
void es_assert_checks_pass(const hj_result *res, const char *name, size_t min_checks,
                           const char *claim_id);

/* Flags for es_assert_claims. */
enum {
    ES_CLAIM_STATEMENT = 1, /* the statement is non-empty */
    ES_CLAIM_FINITE = 2,    /* measured and predicted are finite */
    ES_CLAIM_FORMED = 4     /* recorded by hj_result_claim_add: a tolerance >= 0 with a
                             * reason, at least one interval part, the parts' quadrature sum is the
                             * half-width, a paper claim quotes the paper, a trained claim has the
                             * training-budget part */
};

/* Every claim carries a valid verdict and a non-empty rule; when claim_id is
 * not NULL each belongs to it; `flags` (ES_CLAIM_*) add further checks. */
void es_assert_claims(const hj_result *res, const char *claim_id, int flags);

/* summary.json exists in res->dir and names experiment `name`; when
 * count_verdicts, it holds exactly one verdict per claim. */
void es_assert_summary(const hj_result *res, const char *name, int count_verdicts);

/* Read res->dir/file as a matrix; fail the test on error. */
void es_read_csv(const hj_result *res, const char *file, hj_matrix *m);

/* 1 when res->dir/file exists and is not empty. */
int es_file_exists(const hj_result *res, const char *file);

/* The metric / param `key` of res; fails the test when missing. */
double es_metric(const hj_result *res, const char *key);
double es_param(const hj_result *res, const char *key);

/* Plain least-squares slope of y on x over n points (n >= 2), written out
 * here; when se is not NULL also its standard error sqrt(rss/(n-2)/sxx). */
double es_ols(const double *x, const double *y, size_t n, double *se);

/* A claim recorded through hj_result_claim_add, checked against SPEC §4
 * independently of claim.c: a known form; a finite tolerance
 * >= 0 with its reason (TREND: sign +-1 and tolerance 0); a paper claim has
 * the paper's words; named parts (at least min_parts) whose quadrature sum
 * is the interval's half-width about the measured value; a trained claim
 * carries the training-budget part and is inconclusive whenever that part
 * exceeds the tolerance; otherwise the verdict follows the form's rule on
 * [lo, hi] (recomputed here); source as expected. */
void es_assert_claim_form(const hj_claim *c, hj_claim_source source, hj_claim_form form, size_t min_parts);

/* The half-width of the part `name` of claim c; fails the test when missing. */
double es_claim_part(const hj_claim *c, const char *name);

#endif
