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

#include "hjdl/export.h"

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
HJ_API const char *hj_verdict_name(hj_verdict v);

/* Where a claim comes from (SPEC §4): the paper's own statement, or a
 * further test hjdl adds. The report lists the paper's claims first. */
typedef enum hj_claim_source {
    HJ_SOURCE_PAPER = 0,
    HJ_SOURCE_HJDL
} hj_claim_source;

/* "paper", "hjdl". */
HJ_API const char *hj_claim_source_name(hj_claim_source s);

/* The form of a claim about a measured number m with 95 % interval
 * I = [lo, hi], prediction p and tolerance delta >= 0 (SPEC §4):
 *   EQUALS       m = p:          agrees when I lies inside [p - delta, p + delta],
 *                                disagrees when I misses that band, inconclusive otherwise;
 *   AT_MOST      m <= p:         agrees when hi <= p + delta, disagrees when lo > p + delta;
 *   AT_LEAST     m >= p:         agrees when lo >= p - delta, disagrees when hi < p - delta;
 *   AS_FAST_AS   a decay exponent at least as fast as p (p < 0, an O(.) or
 *                minimax rate):  the AT_MOST rule on the exponent;
 *   TREND        the sign of m is the sign of p (p = +1 or -1, delta = 0):
 *                agrees when I lies strictly on p's side of 0, disagrees when
 *                it lies strictly on the other side, inconclusive when it
 *                contains 0.
 * A non-finite m, lo or hi is inconclusive. */
typedef enum hj_claim_form {
    HJ_FORM_EQUALS = 0,
    HJ_FORM_AT_MOST,
    HJ_FORM_AT_LEAST,
    HJ_FORM_AS_FAST_AS,
    HJ_FORM_TREND
} hj_claim_form;

/* "equals", "at most", "at least", "at least as fast as", "trend". */
HJ_API const char *hj_claim_form_name(hj_claim_form f);

/* The three-way verdict of the rule above (a pure function: the unit tests
 * drive it through every case). why (may be NULL) receives one sentence
 * saying which case decided it. */
HJ_API hj_verdict hj_verdict_decide(hj_claim_form form, double predicted, double tolerance, double lo,
                             double hi, char *why, size_t why_len);

/* The rule's text for a form, prediction and tolerance, for summary.json
 * and the report, e.g. "agrees when the 95 % interval lies inside
 * [-0.55, -0.45]; disagrees when it misses it; inconclusive otherwise". */
HJ_API void hj_claim_rule_text(hj_claim_form form, double predicted, double tolerance, char *buf,
                        size_t len);

/* One part of a claim's 95 % interval: its name ("seeds", "fit range",
 * "training budget", "grid oscillation", ...) and its half-width. The
 * interval is measured +/- sqrt(sum of half_width^2) (parts combined in
 * quadrature), each part also reported on its own. */
#define HJ_CLAIM_MAX_PARTS 6
#define HJ_CLAIM_PART_BUDGET "training budget"
typedef struct hj_interval_part {
    char name[48];
    double half_width;
} hj_interval_part;

/* What a claim declares in the code before its numbers exist. */
typedef struct hj_claim_spec {
    const char *claim;            /* SPEC id, e.g. "C8" */
    hj_claim_source source;
    const char *statement;        /* what is measured and what is predicted, one sentence,
                                   * naming the estimator and the units */
    const char *paper_words;      /* source PAPER: the statement tested, in the paper's words as
                                   * far as known (required); NULL for HJDL */
    hj_claim_form form;
    double predicted;             /* p (TREND: +1 or -1) */
    double tolerance;             /* delta >= 0 (TREND: 0) */
    const char *tolerance_reason; /* one line: what difference would matter, and why */
    int trained;                  /* the number comes from trained models: the measurement
                                   * must carry the HJ_CLAIM_PART_BUDGET part (the shift of
                                   * the answer when the training budget doubles); a shift
                                   * above delta makes the claim "inconclusive: not converged" */
} hj_claim_spec;

/* The measurement: value and the parts of its 95 % interval. */
typedef struct hj_claim_measurement {
    double value;
    hj_interval_part parts[HJ_CLAIM_MAX_PARTS];
    size_t n_parts;
} hj_claim_measurement;

/* Add a part (name, 95 % half-width) to m; parts beyond HJ_CLAIM_MAX_PARTS
 * are refused (HJ_EINVAL). A non-finite half-width is kept (it makes the
 * interval non-finite, hence the verdict inconclusive). */
HJ_API hj_status hj_claim_part(hj_claim_measurement *m, const char *name, double half_width, hj_error *err);

/* The 95 % half-width of a mean (or fitted coefficient) from its standard
 * error se with dof degrees of freedom: t_{0.975, dof} * se (dof = 0: 1.96,
 * the normal quantile). */
HJ_API double hj_claim_half_width_se(double se, size_t dof);

/* The 0.975 quantile of Student's t with dof >= 1 degrees of freedom
 * (dof = 0: the normal 1.959964). */
HJ_API double hj_student_t975(size_t dof);

typedef struct hj_claim {
    char claim[8];          /* SPEC id, e.g. "C8" */
    hj_claim_source source;
    char statement[384];    /* what is measured and predicted */
    char paper_words[384];  /* the paper's statement (source paper), else "" */
    hj_claim_form form;
    double predicted;
    double tolerance;
    char tolerance_reason[256];
    int trained;
    double measured;
    double lo, hi;          /* the 95 % interval */
    hj_interval_part parts[HJ_CLAIM_MAX_PARTS];
    size_t n_parts;
    double uncertainty;     /* (hi - lo) / 2, the combined half-width */
    hj_verdict verdict;
    char why[256];          /* the case of the rule that decided the verdict */
    char rule[320];         /* the rule's text */
    int provisional;        /* measured in a --quick run: provisional */
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

HJ_API hj_status hj_result_param_num(hj_result *r, const char *key, double v, hj_error *err);
HJ_API hj_status hj_result_param_text(hj_result *r, const char *key, const char *text, hj_error *err);
HJ_API hj_status hj_result_metric(hj_result *r, const char *key, double v, hj_error *err);
/* Append a check (value <= threshold). */
HJ_API hj_status hj_result_check(hj_result *r, const char *claim, const char *name, double value,
                          double threshold, hj_error *err);
/* Append a claim by the rule of hj_verdict_decide: spec is validated
 * (tolerance >= 0 and finite with a reason, a paper claim with its words,
 * TREND with p = +-1 and delta = 0, a trained claim with the budget part;
 * HJ_EINVAL naming what is missing otherwise), the interval is
 * m.value +/- sqrt(sum half_width^2), and the verdict is decided here. */
HJ_API hj_status hj_result_claim_add(hj_result *r, const hj_claim_spec *spec, const hj_claim_measurement *m,
                              hj_error *err);
/* Record a figure already rendered into r->dir (see plot.h). */
HJ_API hj_status hj_result_figure(hj_result *r, const char *file, const char *caption, hj_error *err);
/* Append a sentence to the notes (printf-style; truncated when full). */
HJ_API void hj_result_note(hj_result *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
HJ_API void hj_result_free(hj_result *r);
/* Write summary.json (atomically). */
HJ_API hj_status hj_result_write_summary(const hj_result *r, const char *path, hj_error *err);
/* Path helper: buf = r->dir + "/" + file (HJ_EINVAL if it does not fit). */
HJ_API hj_status hj_result_path(const hj_result *r, const char *file, char *buf, size_t len, hj_error *err);

/* Write a table (rows, cols) with header names (cols entries) as CSV into
 * r->dir/file (atomically, %.17g). */
HJ_API hj_status hj_result_write_csv(const hj_result *r, const char *file, const char *const *names,
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
HJ_API void hj_experiment_options_default(hj_experiment_options *o);

typedef struct hj_experiment {
    const char *name;
    const char *claims;        /* e.g. "C8" or "C1-C6" */
    const char *description;   /* one line for `hjdl experiment list` */
    /* Fill res (its dir exists); return non-OK only when the experiment could
     * not run at all (bad option, I/O error) — failing checks and
     * disagreeing claims are results, not errors. */
    hj_status (*run)(const hj_experiment_options *opt, hj_result *res, hj_error *err);
} hj_experiment;

HJ_API size_t hj_experiment_count(void);
HJ_API const hj_experiment *hj_experiment_at(size_t i);
HJ_API const hj_experiment *hj_experiment_find(const char *name);

/* Create out_dir/NAME, run the experiment, time it, and write summary.json.
 * res is initialised here; free it with hj_result_free. */
HJ_API hj_status hj_experiment_run(const hj_experiment *e, const hj_experiment_options *opt,
                            hj_result *res, hj_error *err);

/* Report progress through opt->progress if set. */
HJ_API void hj_experiment_progress(const hj_experiment_options *opt, const char *experiment,
                            const char *stage, double fraction);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_EXPERIMENT_H */
