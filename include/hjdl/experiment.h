/* experiment.h — reproducible experiments: results with checks and claims,
 * the registry behind `hjdl experiment` / `hjdl reproduce`, and summary.json.
 *
 * Two kinds of outcome, never mixed (SPEC §4):
 *   checks  hold whenever hjdl is correct (identities, proved bounds, two
 *           independent computations agreeing); value <= threshold. A
 *           failing check is a bug.
 *   claims  the paper's empirical predictions (rates, exponents, trends),
 *           measured with an uncertainty and given a verdict by a rule that
 *           is fixed in the code before the numbers exist. "disagrees" is a
 *           finding, never an error.
 *
 * An experiment writes into OUT/NAME/: raw numbers as CSV, figures (PNG and
 * SVG, rendered by gnuplot from the CSV with the .gp script kept beside them)
 * and summary.json:
 *   {"experiment", "params", "metrics", "checks", "claims", "figures", "notes", "seconds"}
 */
#ifndef HJDL_EXPERIMENT_H
#define HJDL_EXPERIMENT_H

#include <stddef.h>
#include <stdint.h>

#include "hjdl/check.h"
#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hj_verdict {
    HJ_VERDICT_AGREES = 0,
    HJ_VERDICT_DISAGREES,
    HJ_VERDICT_INCONCLUSIVE
} hj_verdict;

/* "agrees", "disagrees", "inconclusive". */
const char *hj_verdict_name(hj_verdict v);

/* The default rule, fixed before any run:
 *   inconclusive  when measured or uncertainty is not finite, or
 *                 uncertainty > max_uncertainty (the measurement cannot
 *                 discriminate);
 *   agrees        when |measured - predicted| <= 2 * uncertainty;
 *   disagrees     otherwise. */
hj_verdict hj_verdict_two_sigma(double predicted, double measured, double uncertainty,
                                double max_uncertainty);
/* The text of that rule for a given max_uncertainty, for the report. */
void hj_verdict_two_sigma_rule(double max_uncertainty, char *buf, size_t len);

typedef struct hj_claim {
    char claim[8];          /* SPEC id, e.g. "C8" */
    char statement[256];    /* what the paper predicts, one sentence */
    double predicted;
    double measured;
    double uncertainty;     /* standard error or seed spread of measured */
    hj_verdict verdict;
    char rule[192];         /* how the verdict was decided */
} hj_claim;

typedef struct hj_kv {
    char key[64];
    char text[192];         /* used when is_text */
    double value;
    int is_text;
} hj_kv;

typedef struct hj_figure {
    char file[128];         /* base name in the experiment dir, no extension: FILE.png / FILE.svg */
    char caption[512];
} hj_figure;

typedef struct hj_result {
    char experiment[64];
    char dir[1024];         /* OUT/NAME, where the files go */
    hj_kv *params;
    size_t n_params, cap_params;
    hj_kv *metrics;
    size_t n_metrics, cap_metrics;
    hj_check_list checks;
    hj_claim *claims;
    size_t n_claims, cap_claims;
    hj_figure *figures;
    size_t n_figures, cap_figures;
    char notes[4096];       /* what was measured and why a verdict came out as it did */
    double seconds;
} hj_result;

hj_status hj_result_param_num(hj_result *r, const char *key, double v, hj_error *err);
hj_status hj_result_param_text(hj_result *r, const char *key, const char *text, hj_error *err);
hj_status hj_result_metric(hj_result *r, const char *key, double v, hj_error *err);
/* Append a check (value <= threshold). */
hj_status hj_result_check(hj_result *r, const char *claim, const char *name, double value,
                          double threshold, hj_error *err);
/* Append a claim; the verdict is decided by the caller's fixed rule
 * (usually hj_verdict_two_sigma) and its text passed as rule. */
hj_status hj_result_claim(hj_result *r, const char *claim, const char *statement,
                          double predicted, double measured, double uncertainty,
                          hj_verdict verdict, const char *rule, hj_error *err);
/* Record a figure already rendered into r->dir (see plot.h). */
hj_status hj_result_figure(hj_result *r, const char *file, const char *caption, hj_error *err);
/* Append a sentence to the notes (printf-style; truncated when full). */
void hj_result_note(hj_result *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void hj_result_free(hj_result *r);
/* Write summary.json (atomically). */
hj_status hj_result_write_summary(const hj_result *r, const char *path, hj_error *err);
/* Path helper: buf = r->dir + "/" + file (HJ_EINVAL if it does not fit). */
hj_status hj_result_path(const hj_result *r, const char *file, char *buf, size_t len, hj_error *err);

/* Write a table (rows, cols) with header names (cols entries) as CSV into
 * r->dir/file (atomically, %.17g). */
hj_status hj_result_write_csv(const hj_result *r, const char *file, const char *const *names,
                              const double *data, size_t rows, size_t cols, hj_error *err);

/* Progress of a long experiment: stage text and overall fraction in [0, 1]. */
typedef void (*hj_exp_progress_fn)(const char *experiment, const char *stage, double fraction,
                                   void *ctx);

typedef struct hj_experiment_options {
    int quick;               /* small sizes: the whole suite in about a minute */
    size_t seeds;            /* 0: the experiment's default */
    const char *out_dir;     /* the experiment writes into out_dir/NAME */
    /* per-experiment overrides; NaN / 0 means "the experiment's default" */
    double eps;
    size_t N;
    size_t d;
    size_t iters;
    uint64_t seed;           /* base seed (default 1) */
    hj_exp_progress_fn progress;   /* may be NULL */
    void *progress_ctx;
} hj_experiment_options;

/* Defaults: not quick, seeds 0, out_dir "hjdl-out", overrides unset, seed 1. */
void hj_experiment_options_default(hj_experiment_options *o);

typedef struct hj_experiment {
    const char *name;
    const char *claims;        /* e.g. "C8" or "C1-C6" */
    const char *description;   /* one line for `hjdl experiment list` */
    /* Fill res (its dir exists); return non-OK only when the experiment could
     * not run at all (bad option, I/O error) — failing checks and
     * disagreeing claims are results, not errors. */
    hj_status (*run)(const hj_experiment_options *opt, hj_result *res, hj_error *err);
} hj_experiment;

size_t hj_experiment_count(void);
const hj_experiment *hj_experiment_at(size_t i);
const hj_experiment *hj_experiment_find(const char *name);

/* Create out_dir/NAME, run the experiment, time it, and write summary.json.
 * res is initialised here; free it with hj_result_free. */
hj_status hj_experiment_run(const hj_experiment *e, const hj_experiment_options *opt,
                            hj_result *res, hj_error *err);

/* Report progress through opt->progress if set. */
void hj_experiment_progress(const hj_experiment_options *opt, const char *experiment,
                            const char *stage, double fraction);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_EXPERIMENT_H */
