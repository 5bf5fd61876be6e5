/* exp-common.h — small helpers shared by the experiment files exp_*.c (private, not installed). */
#ifndef HJDL_EXP_COMMON_H
#define HJDL_EXP_COMMON_H

#include <stddef.h>

#include "hjdl/experiment.h"
#include "hjdl/pmp.h"
#include "hjdl/plot.h"
#include "hjdl/rng.h"
#include "hjdl/runtime.h"
#include "hjdl/stats.h"
#include "hjdl/status.h"

/* Evaluate a fallible call; on a non-OK status store it in the local
 * `hj_status st` and jump to the function's single cleanup label `done`. */
#define TRY(expr)                   \
    do {                            \
        if ((st = (expr)) != HJ_OK) \
            goto done;              \
    } while (0)

/* calloc of n doubles (at least one), zeroed; NULL with HJ_ENOMEM recorded in
 * err as "EXP: cannot allocate N doubles" on failure. */
double *hj__exp_dnew(const char *exp, size_t n, hj_error *err);

/* Render figure p into res->dir and record it with its caption. A failed
 * render (no gnuplot, a plot feature missing) is recorded as a note and is
 * not an error; only a failure to record the figure returns non-OK. err may
 * be NULL (the caller then ignores the status). */
hj_status hj__exp_figure(hj_result *res, const hj_plot *p, const char *caption, hj_error *err);

/* Texts for hj__exp_fit_lines; they must live until the plot is rendered. */
typedef struct hj__exp_fit_text {
    char fit[128], fit_title[96], pred[128], pred_title[64];
} hj__exp_fit_text;

/* Add to p (log-log) two functions: the fitted power law exp(icpt) x^slope
 * titled "LABEL: slope S +/- SE", and the line of the predicted slope
 * `pred` through the centroid of (log x, log y) (x, y: n > 0 positive
 * values). Nothing is added when slope is not finite. */
void hj__exp_fit_lines(hj_plot *p, const double *x, const double *y, size_t n, double slope, double se,
                       double icpt, double pred, const char *label, hj__exp_fit_text *t);

/* Fit y ~ x^slope over the n points (x, y > 0, in increasing x) and set
 * m->value to the slope with two interval parts: "fit" (t_{0.975, n-2}
 * times its standard error) and "fit range" (the larger |slope over a half
 * - slope| of the lower and upper halves of the range, each of
 * ceil(n/2) >= 3 points; 0 when n < 6). *icpt (may be NULL) gets the log
 * prefactor. A failed fit leaves m->value NaN (the verdict is then
 * inconclusive) and is noted in res. */
hj_status hj__exp_slope_measurement(hj_result *res, const double *x, const double *y, size_t n,
                                    hj_claim_measurement *m, double *icpt, hj_error *err);

/* The slope of a sweep with repeated x (e.g. several seeds per eps), in any
 * order: fit y = a + b x by OLS over all n points (loglog: log y on log x, a
 * power law; x, y > 0) and set m->value = b with two interval parts: "fit"
 * (t_{0.975, n-2} times its standard error) and "fit range" (the larger
 * |b_half - b| of the fits over the lower and the upper half of the DISTINCT
 * x values, ceil(nx/2) of them each, sharing the middle one when nx is odd;
 * 0 when nx < 3; NaN when a half has too few points to fit). *icpt (may be
 * NULL) gets a (the log prefactor when loglog). A failed fit leaves
 * m->value NaN (the verdict is then inconclusive) and is noted in res. */
hj_status hj__exp_sweep_slope(hj_result *res, const double *x, const double *y, size_t n, int loglog,
                              hj_claim_measurement *m, double *icpt, hj_error *err);

/* The slope of a paired sweep: nx values x (distinct, any order) and S seeds,
 * y[e * S + s] measured at x[e] with seed s, the same seed's runs sharing
 * their data across x. Fit y on x (loglog: log y on log x) for each seed
 * (nx >= 3) and set m->value to the mean slope over seeds with two parts:
 * "seeds" (t_{0.975, S-1} times the standard error of the per-seed slopes;
 * NaN when S < 2) and "fit range" (the larger |mean half slope - value| of
 * the per-seed slopes over the lower and the upper ceil(nx/2) x values). */
hj_status hj__exp_paired_slope(hj_result *res, const double *x, const double *y, size_t nx, size_t S,
                               int loglog, hj_claim_measurement *m, hj_error *err);

/* The local slopes of k <= 4 swept quantities: for consecutive x (nx >= 2
 * values, increasing) the slope of quantity q between x_i and x_{i+1}
 * (loglog: of log y on log x), y (k, nx) row-major, at the midpoint (the
 * geometric one when loglog). Written to NAME.csv (x_mid, one column per
 * quantity, named by titles) and drawn as figure NAME (x log when loglog)
 * with a horizontal line at the predicted slope pred (NaN: none). A figure
 * that cannot be rendered is a note (hj__exp_figure). */
hj_status hj__exp_local_slopes(hj_result *res, const char *name, const char *title, const char *xlabel,
                               const double *x, const double *y, size_t nx, size_t k,
                               const char *const *titles, int loglog, double pred, const char *caption,
                               hj_error *err);
/* The "grid oscillation" part of a slope m->value fitted to n points
 * (x, y > 0, increasing x): the points are split into two interleaved
 * sub-grids (even and odd positions) and the part is the larger |slope of a
 * sub-grid - m->value| (each sub-grid has >= 3 points; NaN when n < 6 or a
 * sub-fit fails). A systematic oscillation of the error with the grid (an
 * error that depends on where nodes fall) moves the two sub-grid slopes
 * apart even where the fit's residuals look small. */
hj_status hj__exp_interleave_part(const double *x, const double *y, size_t n, hj_claim_measurement *m,
                                  hj_error *err);

/* Local log-log slopes between neighbouring points (x, y > 0, n >= 2):
 * xm[i] = sqrt(x[i] x[i+1]) and s[i] = log(y[i+1]/y[i]) / log(x[i+1]/x[i]),
 * i < n - 1 (NaN where not defined). */
void hj__exp_local_log_slopes(const double *x, const double *y, size_t n, double *xm, double *s);

/* The seeds part of a mean over k per-seed values v: the mean into *mean
 * and the half-width t_{0.975, k-1} sd/sqrt(k) (NaN when k < 2). */
double hj__exp_seed_half_width(const double *v, size_t k, double *mean);
/* The slope of y ~ x^slope over seeds: Y (S, n) holds S replicate curves
 * over the n points x (increasing, all entries > 0). m->value and its "fit"
 * and "fit range" parts are those of hj__exp_slope_measurement on the
 * geometric mean over seeds of each column; a third part "seeds" is
 * t_{0.975, S-1} times the standard error of the S per-seed slopes (0 when
 * S = 1). slopes (S, may be NULL) receives the per-seed slopes. */
hj_status hj__exp_seed_slope_measurement(hj_result *res, const double *x, const double *Y, size_t S,
                                         size_t n, hj_claim_measurement *m, double *icpt, double *slopes,
                                         hj_error *err);

/* A 95 % interval of a Spearman (or Pearson) correlation rho over n pairs by
 * Fisher's z: tanh(atanh(rho) +- 1.96 / sqrt(n - 3)); *lo = *hi = NaN when
 * n < 4 or rho is not finite. */
void hj__exp_fisher_interval(double rho, size_t n, double *lo, double *hi);

/* Record the three C10 checks worst[k] <= 1 of a measured curvature against
 * the paper bound (text `paper`), the MEB bound R_MEB^2/eps and the diameter
 * bound diam^2/(4 eps), named "LHS / (BOUND), max over OVER". */
hj_status hj__exp_bound_checks(hj_result *res, const char *lhs, const char *paper, const char *over,
                               const double worst[3], hj_error *err);

/* Progress of a sweep over (eps, seed): stage text "eps E, seed S". */
void hj__exp_progress_eps_seed(const hj_experiment_options *opt, const char *exp, double eps, size_t seed,
                               double fraction);

/* |a - b| / max(scale, 1e-300). */
double hj__exp_relerr(double a, double b, double scale);

/* ||a - b||_2 / max(||b||_2, 1e-300) over n entries. */
double hj__exp_rel_diff(const double *a, const double *b, size_t n);

/* v[i] = scale * standard normal draw from rng, i < n. */
void hj__exp_fill_normal(hj_rng *rng, double *v, size_t n, double scale);

/* Monotonic wall-clock time in seconds: the library's one clock,
 * hj_now_seconds (runtime.h); the old name is kept for the files being
 * rewritten on other branches. */
static inline double hj__exp_now_seconds(void) { return hj_now_seconds(); }

/* Median of v (n), sorting v in place; NaN when n = 0. */
double hj__exp_median(double *v, size_t n);

/* The bifurcation diagram of an entropy landscape: H at every critical
 * point against eps (log axis), minima / saddles / maxima from cp_csv
 * (columns eps, ..., H in 4, type 0/1/2 in 5), folds from folds_csv (eps in
 * 1, H in 5) when with_folds; rendered and recorded under `name`. */
hj_status hj__exp_bifurcation_figure(hj_result *res, const char *name, const char *title,
                                     const char *cp_csv, const char *folds_csv, int with_folds,
                                     const char *caption, hj_error *err);

/* A loss with its arguments bound (ctx), evaluated after the caller
 * perturbed one entry of what ctx points to. */
typedef hj_status (*hj__exp_fd_loss)(const void *ctx, double *loss, hj_error *err);

/* out[i] = (fn(v[i] + step) - fn(v[i] - step)) / (2 step), i < len: central
 * differences of the loss in the entries of v (parameters or a state that
 * ctx points to); v[i] is restored even when an evaluation fails. */
hj_status hj__exp_fd_gradient(hj__exp_fd_loss fn, const void *ctx, double *v, size_t len,
                              double step, double *out, hj_error *err);

/* The terminal loss of a ResNet run from layer `from` on states x (n, D), by
 * the forward sweep alone; work holds (K - from + 1) n D. An hj__exp_fd_loss
 * with ctx a const hj__exp_resnet_eval *. */
typedef struct hj__exp_resnet_eval {
    const hj_resnet *net;
    const hj_pmp_target *tg;
    size_t from, n;
    const double *x;
    double *work;
} hj__exp_resnet_eval;
hj_status hj__exp_resnet_loss(const void *ctx, double *loss, hj_error *err);

/* The scaling / intrinsic sweep engine (exp_sweep.c): D = ambient dimension
 * of the inputs (0: the latent dimension itself, the `scaling` experiment). */
hj_status hj__exp_si_sweep(const hj_experiment_options *opt, hj_result *res, size_t D, hj_error *err);

/* Brute-force leave-one-out of the Hopf–Cole Gibbs predictor at one point x (d):
 * atom k of y (N, d), g (N), v (N, nv) is swapped to the end, hj_hopf_cole_eval
 * runs on the other N-1 (weights into pi, N scratch), Pk (nv) = sum_j pi_j v_j,
 * and the rows are swapped back (for the influence experiment's parts). */
hj_status hj__exp_brute_loo(double *y, double *g, double *v, size_t N, size_t d, size_t nv, const double *x,
                            double t, double eps, size_t k, double *pi, double *Pk, hj_error *err);

#endif /* HJDL_EXP_COMMON_H */
