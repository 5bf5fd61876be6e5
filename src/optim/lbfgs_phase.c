/* lbfgs_phase.c — full-batch L-BFGS phase through Debian's liblbfgs (More–Thuente line search).
 *
 * We use the maintained liblbfgs rather than a hand-written L-BFGS: its
 * line search is well tested. Two things it cannot do are handled here:
 *
 *   - Errors from the objective. liblbfgs's evaluate callback returns only
 *     a value, so a failing objective (non-OK status, or a non-finite loss
 *     or gradient) is recorded in the instance struct; evaluate then returns
 *     DBL_MAX with a zero gradient, which no line search accepts (it ends
 *     within max_linesearch cheap calls that no longer touch the objective;
 *     at the starting point the zero gradient ends the run at once as
 *     "already minimized"), and the progress callback returns non-zero if it
 *     is ever reached. After lbfgs() returns, the recorded error wins over
 *     liblbfgs's own code.
 *   - Keeping the best point. Every successful evaluation with a lower loss
 *     than all before is copied aside; the phase returns that point, which
 *     is never worse than the iterate liblbfgs ends on.
 *
 * Convergence tolerance: liblbfgs stops when |g| <= epsilon max(1, |x|).
 * Its default 1e-5 is loose for double precision; we use 1e-8 so that the
 * caller's iteration budget normally governs. Line-search failures near the
 * optimum (rounding errors etc.) then count as normal termination when the
 * phase decreased the loss.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lbfgs.h>

#include "hjdl/optim.h"
#include "optim/optim-impl.h"

#define LBFGS_EPSILON 1e-8

/* Per-run data handed to the liblbfgs callbacks. */
typedef struct lb_instance {
    hj__optrun *run;
    size_t max_iter;
    size_t iter;       /* iterations completed (progress callbacks) */
    size_t evals;      /* objective evaluations */
    double f0;         /* loss at the starting point */
    double *best;      /* (n) lowest-loss point evaluated so far */
    double best_f;
    int have_best;
    hj_status st;      /* first failure of the objective; HJ_OK if none */
    hj_error e;        /* its message */
    int stop;          /* the user callback asked to stop */
    size_t reported;   /* last iteration passed to the callback */
    double last_fx;    /* loss of the latest iteration */
} lb_instance;

/* Text for a liblbfgs return code. */
static const char *lbfgs_reason(int code)
{
    switch (code) {
    case LBFGS_SUCCESS: return "converged";
    case LBFGS_STOP: return "stopped";
    case LBFGS_ALREADY_MINIMIZED: return "the initial point is already a minimizer";
    case LBFGSERR_UNKNOWNERROR: return "unknown error";
    case LBFGSERR_LOGICERROR: return "logic error";
    case LBFGSERR_OUTOFMEMORY: return "out of memory";
    case LBFGSERR_CANCELED: return "canceled";
    case LBFGSERR_INVALID_N: return "invalid number of variables";
    case LBFGSERR_INVALID_N_SSE: return "invalid number of variables for SSE";
    case LBFGSERR_INVALID_X_SSE: return "variable array not 16-byte aligned for SSE";
    case LBFGSERR_INVALID_EPSILON: return "invalid epsilon";
    case LBFGSERR_INVALID_TESTPERIOD: return "invalid past";
    case LBFGSERR_INVALID_DELTA: return "invalid delta";
    case LBFGSERR_INVALID_LINESEARCH: return "invalid line search";
    case LBFGSERR_INVALID_MINSTEP: return "invalid min_step";
    case LBFGSERR_INVALID_MAXSTEP: return "invalid max_step";
    case LBFGSERR_INVALID_FTOL: return "invalid ftol";
    case LBFGSERR_INVALID_WOLFE: return "invalid wolfe";
    case LBFGSERR_INVALID_GTOL: return "invalid gtol";
    case LBFGSERR_INVALID_XTOL: return "invalid xtol";
    case LBFGSERR_INVALID_MAXLINESEARCH: return "invalid max_linesearch";
    case LBFGSERR_INVALID_ORTHANTWISE: return "invalid orthantwise_c";
    case LBFGSERR_INVALID_ORTHANTWISE_START: return "invalid orthantwise_start";
    case LBFGSERR_INVALID_ORTHANTWISE_END: return "invalid orthantwise_end";
    case LBFGSERR_OUTOFINTERVAL: return "line-search step left the interval of uncertainty";
    case LBFGSERR_INCORRECT_TMINMAX: return "interval of uncertainty became too small";
    case LBFGSERR_ROUNDING_ERROR:
        return "rounding errors prevent progress in the line search";
    case LBFGSERR_MINIMUMSTEP: return "line-search step became smaller than min_step";
    case LBFGSERR_MAXIMUMSTEP: return "line-search step became larger than max_step";
    case LBFGSERR_MAXIMUMLINESEARCH: return "line search reached its evaluation limit";
    case LBFGSERR_MAXIMUMITERATION: return "reached the iteration limit";
    case LBFGSERR_WIDTHTOOSMALL: return "line-search interval width below xtol";
    case LBFGSERR_INVALIDPARAMETERS: return "negative line-search step";
    case LBFGSERR_INCREASEGRADIENT:
        return "search direction increases the loss (is the gradient consistent with the loss?)";
    default: return "unrecognised liblbfgs status";
    }
}

static int is_linesearch_failure(int code)
{
    return code == LBFGSERR_ROUNDING_ERROR || code == LBFGSERR_MAXIMUMLINESEARCH ||
           code == LBFGSERR_MINIMUMSTEP || code == LBFGSERR_MAXIMUMSTEP ||
           code == LBFGSERR_WIDTHTOOSMALL;
}

static int is_parameter_error(int code)
{
    return (code >= LBFGSERR_INVALID_N && code <= LBFGSERR_INVALID_ORTHANTWISE_END) ||
           code == LBFGSERR_INVALIDPARAMETERS;
}

/* liblbfgs evaluate callback: full-batch loss and gradient at x (n). */
static lbfgsfloatval_t lb_evaluate(void *instance, const lbfgsfloatval_t *x,
                                   lbfgsfloatval_t *g, const int n,
                                   const lbfgsfloatval_t step)
{
    (void)step;
    lb_instance *I = instance;
    const hj__optrun *run = I->run;
    if (I->st != HJ_OK || I->stop) {
        memset(g, 0, (size_t)n * sizeof *g);
        return DBL_MAX;
    }
    I->evals++;
    double loss = NAN;
    hj_error e;
    hj_error_clear(&e);
    hj_status st = run->f(run->ctx, x, NULL, run->opt->n_data, &loss, g, &e);
    if (st != HJ_OK) {
        I->st = hj__objective_error(&I->e, st, &e, "lbfgs iteration %zu (evaluation %zu): ",
                                    I->iter + 1, I->evals);
    } else if (!isfinite(loss)) {
        I->st = hj_error_set(&I->e, HJ_ENAN,
                             "lbfgs iteration %zu (evaluation %zu): loss is %s (parameters "
                             "restored to the best finite point)",
                             I->iter + 1, I->evals, hj__nonfinite_name(loss));
    } else {
        for (size_t i = 0; i < (size_t)n; i++) {
            if (!isfinite(g[i])) {
                I->st = hj_error_set(&I->e, HJ_ENAN,
                                     "lbfgs iteration %zu (evaluation %zu): gradient[%zu] is %s "
                                     "(parameters restored to the best finite point)",
                                     I->iter + 1, I->evals, i, hj__nonfinite_name(g[i]));
                break;
            }
        }
    }
    if (I->st != HJ_OK) {
        memset(g, 0, (size_t)n * sizeof *g);
        return DBL_MAX;
    }
    if (I->evals == 1)
        I->f0 = loss;
    if (!I->have_best || loss < I->best_f) {
        memcpy(I->best, x, (size_t)n * sizeof *x);
        I->best_f = loss;
        I->have_best = 1;
    }
    return loss;
}

/* liblbfgs progress callback: one call per completed iteration. */
static int lb_progress(void *instance, const lbfgsfloatval_t *x, const lbfgsfloatval_t *g,
                       const lbfgsfloatval_t fx, const lbfgsfloatval_t xnorm,
                       const lbfgsfloatval_t gnorm, const lbfgsfloatval_t step, int n, int k,
                       int ls)
{
    (void)x, (void)g, (void)xnorm, (void)gnorm, (void)step, (void)n, (void)k, (void)ls;
    lb_instance *I = instance;
    hj__optrun *run = I->run;
    if (I->st != HJ_OK)
        return 1;
    I->iter++;
    I->last_fx = fx;
    if (run->steps < run->cap)
        run->trace[run->steps] = fx;
    run->steps++;
    if (hj__report_due(run, I->iter)) {
        I->reported = I->iter;
        if (hj__report(run, "lbfgs", I->iter, I->max_iter, 0, fx)) {
            if (I->iter < I->max_iter)
                run->stopped = 1;
            I->stop = 1;
            return 1;
        }
    }
    return 0;
}

hj_status hj__lbfgs_phase(hj__optrun *run, double *params, size_t max_iter, hj_error *err)
{
    const size_t n = run->n;
    if (n > (size_t)INT_MAX || max_iter == 0 || max_iter > (size_t)INT_MAX)
        return hj_error_set(err, HJ_EINVAL,
                            "lbfgs: %zu parameters / %zu iterations exceed liblbfgs's int range",
                            n, max_iter);
    lbfgsfloatval_t *x = lbfgs_malloc((int)n);
    double *best = malloc(n * sizeof *best);
    if (x == NULL || best == NULL) {
        if (x != NULL)
            lbfgs_free(x);
        free(best);
        return hj_error_set(err, HJ_ENOMEM, "lbfgs: cannot allocate %zu parameters", n);
    }
    memcpy(x, params, n * sizeof *x);

    lb_instance I;
    memset(&I, 0, sizeof I);
    I.run = run;
    I.max_iter = max_iter;
    I.f0 = NAN;
    I.best = best;
    I.best_f = INFINITY;
    I.st = HJ_OK;
    hj_error_clear(&I.e);

    lbfgs_parameter_t param;
    lbfgs_parameter_init(&param);
    param.max_iterations = (int)max_iter;
    param.epsilon = LBFGS_EPSILON;

    lbfgsfloatval_t fx = NAN;
    int ret = lbfgs((int)n, x, &fx, lb_evaluate, lb_progress, &I, &param);
    lbfgs_free(x);

    if (I.have_best)
        memcpy(params, best, n * sizeof *params);
    free(best);

    if (I.st != HJ_OK) {
        if (err != NULL)
            *err = I.e;
        return I.st;
    }
    if (I.stop)
        return HJ_OK;

    int normal = ret == LBFGS_SUCCESS || ret == LBFGS_STOP || ret == LBFGS_ALREADY_MINIMIZED ||
                 ret == LBFGSERR_MAXIMUMITERATION;
    if (!normal && is_linesearch_failure(ret)) {
        if (I.have_best && I.best_f < I.f0)
            normal = 1;
        else
            return hj_error_set(err, HJ_EMAXITER,
                                "lbfgs: the line search failed without decreasing the loss "
                                "from %.17g after %zu iterations: %s (liblbfgs code %d)",
                                I.f0, I.iter, lbfgs_reason(ret), ret);
    }
    if (!normal) {
        if (ret == LBFGSERR_OUTOFMEMORY)
            return hj_error_set(err, HJ_ENOMEM, "lbfgs: liblbfgs ran out of memory");
        return hj_error_set(err, is_parameter_error(ret) ? HJ_EINVAL : HJ_EMAXITER,
                            "lbfgs failed after %zu iterations: %s (liblbfgs code %d)", I.iter,
                            lbfgs_reason(ret), ret);
    }

    /* end-of-phase report (step 0 with the starting loss if no iteration ran) */
    if (I.reported != I.iter || I.iter == 0) {
        (void)hj__report(run, "lbfgs", I.iter, max_iter, 0, I.iter > 0 ? I.last_fx : I.f0);
    }
    return HJ_OK;
}
