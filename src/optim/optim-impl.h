/* optim-impl.h — internals shared by the optimiser files (not installed). */
#ifndef HJDL_OPTIM_IMPL_H
#define HJDL_OPTIM_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "hjdl/optim.h"
#include "hjdl/rng.h"

/* State of one hj_optimize run, shared by its phases. */
typedef struct hj__optrun {
    hj_objective_fn f;
    void *ctx;
    size_t n;                    /* number of parameters */
    const hj_train_options *opt;
    double *trace;               /* (cap) per-step losses of all phases */
    size_t cap;
    size_t steps;                /* entries of trace used = steps of all phases */
    int stopped;                 /* the callback stopped the run with work left */
} hj__optrun;

/* One Adam step (Kingma & Ba, bias-corrected) at step number t >= 1:
 *   m = b1 m + (1-b1) g,  v = b2 v + (1-b2) g^2,
 *   mhat = m / (1 - b1^t), vhat = v / (1 - b2^t),
 *   p -= lr mhat / (sqrt(vhat) + eps).
 * p, g, m, v are (n); m and v carry the moment state between steps. */
void hj__adam_step(double *p, const double *g, double *m, double *v, size_t t, size_t n,
                   double lr, double b1, double b2, double eps);

/* One heavy-ball SGD step: vel = mu vel + g; p -= lr vel. p, g, vel are (n). */
void hj__sgd_step(double *p, const double *g, double *vel, size_t n, double lr, double mu);

/* Uniform integer in [0, bound) by rejection (no modulo bias); bound >= 1. */
uint64_t hj__rng_below(hj_rng *r, uint64_t bound);

/* perm (n) <- a uniformly random permutation of 0..n-1 (identity, then
 * Fisher–Yates from the top, j uniform in [0, i]). */
void hj__shuffle(hj_rng *r, size_t *perm, size_t n);

/* Number of steps an Adam/SGD phase takes under opt: epochs * ceil(n_data /
 * batch) when epochs > 0 and batch > 0, else iters. 0 on overflow. */
size_t hj__first_order_steps(const hj_train_options *opt);

/* Call the user callback for a report, if any; returns its verdict (0 = go on). */
int hj__report(const hj__optrun *run, const char *phase, size_t step, size_t total,
               size_t epoch, double loss);

/* Whether a periodic report is due after `step` (report_every > 0 divides it). */
int hj__report_due(const hj__optrun *run, size_t step);

/* Run `opt->optimizer`'s first-order phase (which: HJ_OPT_ADAM or HJ_OPT_SGD)
 * on params (n). last_phase: no phase follows (decides res->stopped). */
hj_status hj__first_order_phase(hj__optrun *run, hj_optimizer which, double *params,
                                int last_phase, hj_error *err);

/* Run at most max_iter (>= 1, <= INT_MAX) full-batch L-BFGS iterations from
 * params (n); params receive the best point evaluated. L-BFGS is always the
 * last phase. */
hj_status hj__lbfgs_phase(hj__optrun *run, double *params, size_t max_iter, hj_error *err);

/* Record the objective's failure (status st, its error record e) in err,
 * prefixed with a printf-style context such as "adam step 3: "; an empty
 * message in e becomes the status text. Returns st. */
hj_status hj__objective_error(hj_error *err, hj_status st, const hj_error *e, const char *fmt,
                              ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* "NaN", "+inf" or "-inf" for a non-finite x (for messages). */
const char *hj__nonfinite_name(double x);

#endif /* HJDL_OPTIM_IMPL_H */
