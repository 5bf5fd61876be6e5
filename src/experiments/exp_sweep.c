/* exp_sweep.c — the C8 training sweep shared by `scaling` and `intrinsic`: trained LSE networks on a curved Lipschitz target, test error against N, at the paper's eps = N^(-1/k) and at eps chosen on held-out data, each at a training budget B and 2B. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HJDL_HAVE_OPENMP
#include <omp.h>
#endif

#include "experiments/exp-common.h"
#include "hjdl/hopf.h"
#include "hjdl/lse.h"
#include "hjdl/model.h"
#include "hjdl/plot.h"
#include "hjdl/rng.h"
#include "hjdl/stats.h"

/*
 * The sweep. For every dimension k (d for `scaling`, d_int for `intrinsic`),
 * every N of its grid, every seed s and every eps factor c of the grid, one
 * model `lse:N` with eps = c N^(-1/k), t = 1, is trained by full-batch Adam
 * (lr 0.006) for 2B steps; the model is measured at step B (a training
 * callback: the same trajectory, so "budget B" is exactly the run of B
 * steps) and at step 2B. Latent points s ~ U[-2,2]^k;
 *   scaling    inputs x = s, target f(x) = sqrt(1 + |x|^2);
 *   intrinsic  inputs x = R psi(s) in R^D (D = 32) on a curved manifold,
 *              psi(s) = (s, sin(Omega s + phi) / sqrt(D - k)) (random Fourier
 *              features: Omega (D - k, k) standard normal, phi uniform on
 *              [0, 2 pi)), R a random rotation of R^D; target
 *              f(x) = sqrt(1 + |x|^2) in the ambient coordinates.
 * Why this target: it is convex (an lse:N readout is a convex function of
 * its input, so a non-convex target would only measure a misfit floor),
 * 1-Lipschitz and strictly convex, and no finite LSE equals it: exp(f/eps)
 * of an LSE is a finite sum of exponentials, an entire function on every
 * line, while exp(sqrt(1 + |x|^2)/eps) has branch points at |x|^2 = -1 on
 * every line through the origin; and the gradient of an LSE stays in the
 * convex hull of its N weights while x/sqrt(1 + |x|^2) sweeps a ball.
 * (|x|, the former target, is max(x, -x): two neurons in d = 1.)
 *
 * eps: the paper's rule eps = N^(-1/k) (factor 1) and a log grid of factors
 * {1/4, 1, 4} (`scaling`; `intrinsic` uses the paper's rule only): the
 * factor with the smallest RMSE on a held-out validation set (fresh points,
 * not used in training) is chosen per (k, N, seed) and budget; its test
 * RMSE is the "validated" answer. The test set is separate from both.
 *
 * Exponents: per seed, the least-squares slope of log test RMSE on log N;
 * the answer is the mean over seeds at budget 2B. Its 95 % interval parts:
 *   seeds            t_{0.975, S-1} sd / sqrt(S) of the per-seed slopes
 *                    (they contain each fit's residual noise, so no separate
 *                    fit part is added);
 *   fit range        the larger change of the answer when only the lower or
 *                    only the upper part of the N grid is fitted (3 of 4 N
 *                    values; the local slopes of 2 neighbouring N when the
 *                    grid has 3);
 *   training budget  |answer(2B) - answer(B)| (HJ_CLAIM_PART_BUDGET; above
 *                    the tolerance the claim is "not converged").
 *
 * Runs execute concurrently, one OpenMP thread each (the kernels inside a
 * run are told to use a single thread); every run's numbers are independent
 * of the thread count.
 *
 * Budget (2 cores, fixed from run times before any exponent was seen):
 * full B = 2000 steps (2B = 4000), 3 seeds, 4 N values per dimension, 4000
 * train / 800 validation / 800 test points; quick B = 100, 2 seeds, 3 N
 * values, 1000 / 400 / 400.
 */

#define SI_MAX_DIMS 8           /* largest latent dimension accepted */
#define SI_MAX_GRID 8           /* largest number of N values per dimension */
#define SI_MAX_EPS 3            /* eps factors per (k, N, seed) */
#define SI_LR 0.006
#define SI_T 1.0
#define SI_LIP_PAIRS 256        /* per model: this many far pairs and as many near pairs */
#define SI_LIP_NEAR 0.01        /* distance of a near pair */
#define SI_IDENTITY_TOL 1e-12
#define SI_MSE_TOL 1e-9
#define SI_ISO_TOL 1e-12
#define SI_AMP 1.0              /* intrinsic: amplitude of the curved coordinates */
#define SI_PI 3.14159265358979323846
/* Claim tolerance, fixed before any number existed: an exponent within 10 %
 * of -1/k is the same rate over the N range of a sweep, while the next
 * dimension's rate -1/(k+1) is at least 20 % away for k <= 4. */
#define SI_TOL_REL 0.1

static const double SI_EPS_FACTORS[SI_MAX_EPS] = {0.25, 1.0, 4.0};

/* Default grids, full and quick (3 dimensions each). */
static const size_t SCALING_DIMS[3] = {1, 2, 4};
static const size_t SCALING_FULL[3][4] = {{10, 37, 136, 500}, {20, 59, 171, 500}, {40, 117, 342, 1000}};
static const size_t SCALING_QUICK[3][3] = {{10, 40, 150}, {20, 70, 225}, {40, 130, 400}};
static const size_t INTRINSIC_FULL[3][4] = {{8, 16, 32, 64}, {16, 32, 64, 128}, {16, 32, 64, 128}};
static const size_t INTRINSIC_QUICK[3][3] = {{8, 24, 64}, {16, 48, 128}, {16, 48, 128}};

typedef struct si_cfg {
    const char *name;       /* "scaling" or "intrinsic" */
    size_t D;               /* 0: inputs are the latent points; else the ambient dimension */
    size_t n_dims;
    size_t dims[SI_MAX_DIMS];                 /* latent dimensions k */
    size_t n_grid[SI_MAX_DIMS];
    size_t grid[SI_MAX_DIMS][SI_MAX_GRID];    /* N values, increasing */
    size_t n_eps, paper_ci;                   /* eps factors; the index of factor 1 */
    double eps_factor[SI_MAX_EPS];
    size_t seeds, steps, n_train, n_val, n_test;   /* steps = B; runs train 2B */
    double eps;             /* NaN: eps = factor N^(-1/k); else factor * eps */
    uint64_t seed;          /* base seed */
    int default_grid;       /* 1 when the built-in grids are used unchanged */
    int quick;
} si_cfg;

/* The data of one (dimension, seed) pair. */
typedef struct si_data {
    double *xtr, *ytr;      /* (n_train, din), (n_train) */
    double *xva, *yva;      /* (n_val, din), (n_val) */
    double *xte, *yte;      /* (n_test, din), (n_test) */
    double iso;             /* intrinsic: max | |R psi| - |psi| | / |psi| */
} si_data;

/* One (dimension, N, seed, eps factor) training run: what it is, then what
 * it measured at budget b = 0 (B steps) and b = 1 (2B steps). */
typedef struct si_run {
    size_t di, gi, s, ci;
    size_t N;
    double eps;
    uint64_t seed;          /* model initialisation */
    int identity;           /* 1: check the HJ identity on this model */
    double cost;            /* relative cost, for scheduling */
    /* results */
    double test[2], val[2], train[2];   /* RMSEs at B and 2B (NaN: diverged before) */
    double seconds;
    double loss_ratio;      /* final / initial training loss (inf if training diverged) */
    double mse_rel;         /* |MSE of predict on the training set - reported final loss| / final loss */
    double lip_ratio;       /* max |f(x) - f(x')| / (max_j |w_j| |x - x'|) */
    size_t lip_viol;        /* pairs breaking the Lipschitz bound */
    double ident_rel;       /* max relative |f + u - |x|^2/(4t)|, NaN when not checked */
    int diverged;           /* training stopped on a non-finite loss */
    hj_status st;           /* hard failure (not divergence) */
    hj_error err;
} si_run;

/* A seed derived from a and b (hj_rng_seed scrambles it further). */
static uint64_t si_mix(uint64_t a, uint64_t b)
{
    return (a * 0x9E3779B97F4A7C15ULL) ^ (b + 0x632BE59BD9B4E019ULL + (a << 6) + (a >> 2));
}

/* ---- configuration ---------------------------------------------------------------- */

/* Rescale grid g (n values, increasing) so its last value is top, keeping it
 * increasing and >= 2. */
static void si_rescale_grid(size_t *g, size_t n, size_t top)
{
    const double f = (double)top / (double)g[n - 1];
    for (size_t i = 0; i < n; i++) {
        double v = floor((double)g[i] * f + 0.5);
        g[i] = v < 2.0 ? 2 : (size_t)v;
        if (i > 0 && g[i] <= g[i - 1])
            g[i] = g[i - 1] + 1;
    }
}

/* The default grid for dimension k: the table when k is 1, 2 or 4, else
 * log-spaced from 10k to 100k (full: 4 values, quick: 3). */
static void si_default_grid(size_t D, int quick, size_t k, size_t *g, size_t *n)
{
    *n = quick ? 3 : 4;
    for (size_t i = 0; i < 3; i++) {
        if (SCALING_DIMS[i] != k)
            continue;
        for (size_t j = 0; j < *n; j++)
            g[j] = D ? (quick ? INTRINSIC_QUICK[i][j] : INTRINSIC_FULL[i][j])
                     : (quick ? SCALING_QUICK[i][j] : SCALING_FULL[i][j]);
        return;
    }
    for (size_t j = 0; j < *n; j++)
        g[j] = (size_t)floor(10.0 * (double)k * pow(10.0, (double)j / (double)(*n - 1)) + 0.5);
}

static hj_status si_config(const hj_experiment_options *opt, size_t D, si_cfg *c, hj_error *err)
{
    memset(c, 0, sizeof *c);
    c->name = D ? "intrinsic" : "scaling";
    c->D = D;
    const int quick = opt->quick != 0;
    c->quick = quick;
    c->seeds = opt->seeds ? opt->seeds : (quick ? 2 : 3);
    c->steps = opt->iters ? opt->iters : (quick ? 100 : 2000);
    c->n_train = quick ? 1000 : 4000;
    c->n_val = c->n_test = quick ? 400 : 800;
    c->eps = opt->eps;
    c->seed = opt->seed;
    c->default_grid = opt->d == 0 && opt->N == 0;
    /* scaling: the paper's eps and a log grid around it; intrinsic: the paper's eps only */
    c->n_eps = D ? 1 : SI_MAX_EPS;
    c->paper_ci = D ? 0 : 1;
    for (size_t j = 0; j < c->n_eps; j++)
        c->eps_factor[j] = D ? 1.0 : SI_EPS_FACTORS[j];
    if (!isnan(c->eps) && !(c->eps >= 0.0 && isfinite(c->eps)))
        return hj_error_set(err, HJ_EINVAL, "%s: eps override must be finite and >= 0 (got %g)",
                            c->name, c->eps);
    if (c->seeds > 1000)
        return hj_error_set(err, HJ_EINVAL, "%s: at most 1000 seeds (got %zu)", c->name, c->seeds);
    if (opt->d) {
        if (opt->d > SI_MAX_DIMS || (D && opt->d >= D))
            return hj_error_set(err, HJ_EINVAL, "%s: d must be between 1 and %d%s (got %zu)",
                                c->name, SI_MAX_DIMS, D ? " and below the ambient dimension" : "",
                                opt->d);
        c->n_dims = 1;
        c->dims[0] = opt->d;
    } else {
        c->n_dims = 3;
        for (size_t i = 0; i < 3; i++)
            c->dims[i] = SCALING_DIMS[i];
    }
    for (size_t i = 0; i < c->n_dims; i++) {
        si_default_grid(D, quick, c->dims[i], c->grid[i], &c->n_grid[i]);
        if (opt->N) {
            if (opt->N < c->n_grid[i] + 2)
                return hj_error_set(err, HJ_EINVAL,
                                    "%s: N = %zu is too small for a grid of %zu values (the "
                                    "override sets the largest N)", c->name, opt->N, c->n_grid[i]);
            si_rescale_grid(c->grid[i], c->n_grid[i], opt->N);
        }
    }
    return HJ_OK;
}

/* Comma-separated list of the grid of dimension i. */
static void si_grid_text(const si_cfg *c, size_t i, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < c->n_grid[i] && o < len; j++) {
        int k = snprintf(buf + o, len - o, "%s%zu", j ? "," : "", c->grid[i][j]);
        if (k < 0)
            break;
        o += (size_t)k;
    }
}

/* eps of factor index ci at latent dimension k and width N. */
static double si_eps(const si_cfg *c, size_t k, size_t N, size_t ci)
{
    return c->eps_factor[ci] * (isnan(c->eps) ? pow((double)N, -1.0 / (double)k) : c->eps);
}

/* The run of (dimension i, grid index g, seed s, eps index ci). */
static size_t si_index(const si_cfg *c, const size_t *base, size_t i, size_t g, size_t s, size_t ci)
{
    return base[i] + (g * c->seeds + s) * c->n_eps + ci;
}

/* ---- data ------------------------------------------------------------------------- */

static void si_orthonormal(hj_rng *rng, double *Q, size_t D, size_t k)
{
    for (size_t i = 0; i < D * k; i++)
        Q[i] = hj_rng_normal(rng);
    for (size_t c = 0; c < k; c++) {
        double nrm = 0.0;
        for (int attempt = 0; attempt < 8; attempt++) {
            for (int pass = 0; pass < 2; pass++)
                for (size_t p = 0; p < c; p++) {
                    double dot = 0.0;
                    for (size_t a = 0; a < D; a++)
                        dot += Q[a * k + p] * Q[a * k + c];
                    for (size_t a = 0; a < D; a++)
                        Q[a * k + c] -= dot * Q[a * k + p];
                }
            nrm = 0.0;
            for (size_t a = 0; a < D; a++)
                nrm += Q[a * k + c] * Q[a * k + c];
            nrm = sqrt(nrm);
            if (nrm > 1e-6)
                break;
            for (size_t a = 0; a < D; a++) /* (practically never) a degenerate draw: redraw */
                Q[a * k + c] = hj_rng_normal(rng);
        }
        for (size_t a = 0; a < D; a++)
            Q[a * k + c] /= nrm;
    }
}


static void si_data_free(si_data *d)
{
    free(d->xtr), free(d->ytr), free(d->xva), free(d->yva), free(d->xte), free(d->yte);
    memset(d, 0, sizeof *d);
}

/* The target sqrt(1 + |x|^2) of x (n). */
static double si_target(const double *x, size_t n)
{
    double q = 1.0;
    for (size_t a = 0; a < n; a++)
        q += x[a] * x[a];
    return sqrt(q);
}

/* The embedding's random parts: R (D, D) orthonormal, Omega (D - k, k), phi (D - k). */
typedef struct si_embed {
    double *R, *Om, *ph;
} si_embed;

/* x = R psi(s), psi(s) = (s, SI_AMP sin(Omega s + phi) / sqrt(D - k)); psi (D) scratch.
 * Returns | |x| - |psi| | / |psi|. */
static double si_embed_point(const si_embed *e, size_t D, size_t k, const double *s, double *psi,
                             double *x)
{
    const size_t K = D - k;
    memcpy(psi, s, k * sizeof *psi);
    for (size_t a = 0; a < K; a++) {
        double z = e->ph[a];
        for (size_t j = 0; j < k; j++)
            z += e->Om[a * k + j] * s[j];
        psi[k + a] = SI_AMP * sin(z) / sqrt((double)K);
    }
    double xx = 0.0, pp = 0.0;
    for (size_t a = 0; a < D; a++) {
        double v = 0.0;
        for (size_t b = 0; b < D; b++)
            v += e->R[a * D + b] * psi[b];
        x[a] = v;
        xx += v * v;
        pp += psi[a] * psi[a];
    }
    return fabs(sqrt(xx) - sqrt(pp)) / (pp > 0.0 ? sqrt(pp) : 1.0);
}

/* Training, validation and test data for latent dimension k from seed. */
static hj_status si_make_data(const si_cfg *c, size_t k, uint64_t seed, si_data *out,
                              hj_error *err)
{
    const size_t D = c->D, din = D ? D : k, ntr = c->n_train, nva = c->n_val, nte = c->n_test;
    memset(out, 0, sizeof *out);
    out->xtr = malloc(ntr * din * sizeof *out->xtr);
    out->ytr = malloc(ntr * sizeof *out->ytr);
    out->xva = malloc(nva * din * sizeof *out->xva);
    out->yva = malloc(nva * sizeof *out->yva);
    out->xte = malloc(nte * din * sizeof *out->xte);
    out->yte = malloc(nte * sizeof *out->yte);
    si_embed e = {NULL, NULL, NULL};
    double *psi = NULL;
    if (D) {
        e.R = malloc(D * D * sizeof *e.R);
        e.Om = malloc((D - k) * k * sizeof *e.Om);
        e.ph = malloc((D - k) * sizeof *e.ph);
        psi = malloc(D * sizeof *psi);
    }
    hj_status st = HJ_OK;
    if (out->xtr == NULL || out->ytr == NULL || out->xva == NULL || out->yva == NULL ||
        out->xte == NULL || out->yte == NULL ||
        (D && (e.R == NULL || e.Om == NULL || e.ph == NULL || psi == NULL))) {
        si_data_free(out);
        st = hj_error_set(err, HJ_ENOMEM, "%s: cannot allocate the data", c->name);
        goto done;
    }
    hj_rng rng;
    hj_rng_seed(&rng, seed);
    if (D) {
        si_orthonormal(&rng, e.R, D, D);
        for (size_t a = 0; a < (D - k) * k; a++)
            e.Om[a] = hj_rng_normal(&rng);
        for (size_t a = 0; a < D - k; a++)
            e.ph[a] = hj_rng_range(&rng, 0.0, 2.0 * SI_PI);
    }
    double s[SI_MAX_DIMS];
    for (size_t i = 0; i < ntr + nva + nte; i++) {
        double *x, *y;
        if (i < ntr)
            x = out->xtr + i * din, y = out->ytr + i;
        else if (i < ntr + nva)
            x = out->xva + (i - ntr) * din, y = out->yva + (i - ntr);
        else
            x = out->xte + (i - ntr - nva) * din, y = out->yte + (i - ntr - nva);
        for (size_t j = 0; j < k; j++)
            s[j] = hj_rng_range(&rng, -2.0, 2.0);
        if (D) {
            const double dev = si_embed_point(&e, D, k, s, psi, x);
            if (!(dev <= out->iso))
                out->iso = dev;
        } else {
            memcpy(x, s, k * sizeof *x);
        }
        *y = si_target(x, din);
    }
done:
    free(e.R), free(e.Om), free(e.ph), free(psi);
    return st;
}


/* ---- one run ------------------------------------------------------------------------ */

/* max(a, b) that keeps a NaN b. */
static double si_max(double a, double b) { return b <= a ? a : b; }

/* Lipschitz bound |f(x) - f(x')| <= max_j |w_j| |x - x'| on SI_LIP_PAIRS
 * random pairs in [-2,2]^din and as many pairs SI_LIP_NEAR apart. */
static hj_status si_lipschitz(const hj_model *m, size_t din, si_run *r, hj_error *err)
{
    const size_t P = 2 * SI_LIP_PAIRS, N = r->N;
    const double *w = m->params + m->arch.layers[0].offset; /* (N, din) */
    double L = 0.0;
    for (size_t j = 0; j < N; j++) {
        double s = 0.0;
        for (size_t k = 0; k < din; k++)
            s += w[j * din + k] * w[j * din + k];
        L = si_max(L, sqrt(s));
    }
    double *x = malloc(2 * P * din * sizeof *x), *f = malloc(2 * P * sizeof *f);
    if (x == NULL || f == NULL) {
        free(x), free(f);
        return hj_error_set(err, HJ_ENOMEM, "Lipschitz pairs: out of memory");
    }
    hj_rng rng;
    hj_rng_seed(&rng, si_mix(r->seed, 0x4C495053ULL));
    for (size_t p = 0; p < P; p++) {
        double *x0 = x + 2 * p * din, *x1 = x0 + din;
        for (size_t k = 0; k < din; k++)
            x0[k] = hj_rng_range(&rng, -2.0, 2.0);
        if (p < SI_LIP_PAIRS) {
            for (size_t k = 0; k < din; k++)
                x1[k] = hj_rng_range(&rng, -2.0, 2.0);
            continue;
        }
        double nrm = 0.0;
        for (size_t k = 0; k < din; k++) {
            x1[k] = hj_rng_normal(&rng);
            nrm += x1[k] * x1[k];
        }
        nrm = sqrt(nrm);
        for (size_t k = 0; k < din; k++)
            x1[k] = x0[k] + SI_LIP_NEAR * x1[k] / (nrm > 0.0 ? nrm : 1.0);
    }
    hj_status st = hj_model_predict(m, x, 2 * P, f, err);
    r->lip_ratio = 0.0;
    r->lip_viol = 0;
    for (size_t p = 0; st == HJ_OK && p < P; p++) {
        const double *x0 = x + 2 * p * din, *x1 = x0 + din;
        double dx = 0.0;
        for (size_t k = 0; k < din; k++)
            dx += (x0[k] - x1[k]) * (x0[k] - x1[k]);
        const double bound = L * sqrt(dx), df = fabs(f[2 * p] - f[2 * p + 1]);
        /* rounding of the two evaluations and of the bound itself */
        const double tol = 1e-12 * bound + 1e-13 * (fabs(f[2 * p]) + fabs(f[2 * p + 1]));
        if (!(df <= bound + tol))
            r->lip_viol++;
        if (bound > 0.0)
            r->lip_ratio = si_max(r->lip_ratio, df / bound);
    }
    free(x), free(f);
    return st;
}

/* f + u = |x|^2/(4t) on the test points, u from the Hopf–Cole formula on the
 * model's atoms (an evaluation that never calls the model). f (n_test). */
static hj_status si_identity(const hj_model *m, size_t din, const si_cfg *c, const si_data *data,
                             const double *f, si_run *r, hj_error *err)
{
    size_t na, dim;
    hj_model_readout_shape(m, &na, &dim);
    double *y = malloc(na * dim * sizeof *y), *g = malloc(na * sizeof *g);
    double *u = malloc(c->n_test * sizeof *u);
    hj_status st = HJ_OK;
    if (y == NULL || g == NULL || u == NULL)
        st = hj_error_set(err, HJ_ENOMEM, "identity: out of memory");
    if (st == HJ_OK)
        st = hj_model_initial_data(m, 0.0, y, g, err);
    if (st == HJ_OK) {
        hj_atoms at = {na, dim, y, g};
        hj_hc_out out;
        memset(&out, 0, sizeof out);
        out.u = u;
        st = hj_hopf_cole_eval(&at, NULL, data->xte, c->n_test, m->t, m->eps, &out, err);
    }
    if (st == HJ_OK) {
        double worst = 0.0;
        for (size_t i = 0; i < c->n_test; i++) {
            const double *xi = data->xte + i * din;
            double q = 0.0;
            for (size_t k = 0; k < din; k++)
                q += xi[k] * xi[k];
            q /= 4.0 * m->t;
            const double den = fabs(f[i]) + fabs(u[i]) + q;
            worst = si_max(worst, fabs(f[i] + u[i] - q) / (den > 0.0 ? den : 1.0));
        }
        r->ident_rel = worst;
    }
    free(y), free(g), free(u);
    return st;
}

/* RMSE of the model against y on x (n, din); f (n) scratch. */
static hj_status si_rmse(const hj_model *m, const double *x, const double *y, size_t n, double *f,
                         double *rmse, hj_error *err)
{
    hj_status st = hj_model_predict(m, x, n, f, err);
    if (st != HJ_OK)
        return st;
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (f[i] - y[i]) * (f[i] - y[i]);
    *rmse = sqrt(s / (double)n);
    return HJ_OK;
}

/* Test, validation and training RMSE of m at budget index b into r; f
 * (max(n_train, n_val, n_test)) scratch, left holding the test predictions. */
static hj_status si_measure(const hj_model *m, const si_cfg *c, const si_data *data, double *f,
                            si_run *r, int b, hj_error *err)
{
    hj_status st = si_rmse(m, data->xtr, data->ytr, c->n_train, f, &r->train[b], err);
    if (st == HJ_OK)
        st = si_rmse(m, data->xva, data->yva, c->n_val, f, &r->val[b], err);
    if (st == HJ_OK)
        st = si_rmse(m, data->xte, data->yte, c->n_test, f, &r->test[b], err);
    return st;
}

/* The training callback: at step B (the base budget) measure the model the
 * optimiser is updating in place. */
typedef struct si_snap {
    const si_cfg *c;
    const si_data *data;
    const hj_model *m;
    si_run *r;
    double *f;
    hj_status st;
} si_snap;

static int si_at_budget(const hj_train_progress *p, void *ctx)
{
    si_snap *k = ctx;
    if (p->step == k->c->steps && strcmp(p->phase, "adam") == 0 && k->st == HJ_OK)
        k->st = si_measure(k->m, k->c, k->data, k->f, k->r, 0, &k->r->err);
    return k->st != HJ_OK;
}

/* Train and measure one run; the outcome goes into r (r->st for hard errors). */
static void si_train_one(const si_cfg *c, size_t din, const si_data *data, si_run *r)
{
    hj_error *err = &r->err;
    hj_arch arch;
    hj_model m;
    int have_model = 0;
    double *f = NULL;
    char spec[32];
    for (int b = 0; b < 2; b++)
        r->test[b] = r->val[b] = r->train[b] = NAN;
    r->mse_rel = r->lip_ratio = r->ident_rel = NAN;
    r->loss_ratio = INFINITY;
    snprintf(spec, sizeof spec, "lse:%zu", r->N);
    hj_status st = hj_arch_parse(spec, din, 0, 0, &arch, err);
    if (st == HJ_OK && (st = hj_model_init(&m, &arch, r->eps, SI_T, r->seed, err)) == HJ_OK)
        have_model = 1;
    if (st != HJ_OK)
        goto done;
    size_t nf = c->n_train > c->n_test ? c->n_train : c->n_test;
    nf = nf > c->n_val ? nf : c->n_val;
    if ((f = malloc(nf * sizeof *f)) == NULL) {
        st = hj_error_set(err, HJ_ENOMEM, "%s: out of memory", c->name);
        goto done;
    }

    si_snap snap = {c, data, &m, r, f, HJ_OK};
    hj_train_options o;
    hj_train_options_default(&o);
    o.optimizer = HJ_OPT_ADAM;
    o.lr = SI_LR;
    o.iters = 2 * c->steps;
    o.batch = 0;
    o.seed = r->seed;
    o.report_every = c->steps;
    o.callback = si_at_budget;
    o.callback_ctx = &snap;
    hj_train_result tr;
    memset(&tr, 0, sizeof tr);
    const double t0 = hj__exp_now_seconds();
    st = hj_model_train(&m, data->xtr, data->ytr, c->n_train, &o, &tr, err);
    r->seconds = hj__exp_now_seconds() - t0;
    const double loss0 = tr.loss_trace && tr.steps > 0 ? tr.loss_trace[0] : NAN;
    free(tr.loss_trace);
    if (snap.st != HJ_OK) { /* the measurement at B failed: a hard error */
        st = snap.st;
        goto done;
    }
    if (st == HJ_ENAN) { /* a result, not an error: the loss check below fails */
        r->diverged = 1;
        st = HJ_OK;
        goto done;
    }
    if (st != HJ_OK)
        goto done;
    r->loss_ratio = loss0 > 0.0 ? tr.final_loss / loss0 : NAN;
    TRY(si_measure(&m, c, data, f, r, 1, err));
    const double mse = r->train[1] * r->train[1];
    r->mse_rel = fabs(mse - tr.final_loss) / (tr.final_loss > 0.0 ? tr.final_loss : 1.0);
    if (r->identity && (st = si_identity(&m, din, c, data, f, r, err)) != HJ_OK)
        goto done;
    st = si_lipschitz(&m, din, r, err);
done:
    if (have_model)
        hj_model_free(&m);
    free(f);
    r->st = st;
}

/* ---- the sweep ---------------------------------------------------------------------- */
/* ---- the sweep ---------------------------------------------------------------------- */

typedef struct si_order {
    double cost;
    size_t idx;
} si_order;

static int si_by_cost_desc(const void *a, const void *b)
{
    const si_order *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost < y->cost ? 1 : -1;
    return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* Run every training, largest first, concurrently (one thread per run). */
static hj_status si_run_all(const hj_experiment_options *opt, const si_cfg *c, const si_data *data,
                            si_run *runs, size_t n_runs, hj_error *err)
{
    si_order *ord = malloc(n_runs * sizeof *ord);
    if (ord == NULL)
        return hj_error_set(err, HJ_ENOMEM, "%s: out of memory", c->name);
    double total = 0.0, done_cost = 0.0;
    for (size_t i = 0; i < n_runs; i++) {
        ord[i].cost = runs[i].cost;
        ord[i].idx = i;
        total += runs[i].cost;
    }
    qsort(ord, n_runs, sizeof *ord, si_by_cost_desc);
    size_t done = 0;
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
    for (size_t k = 0; k < n_runs; k++) {
#ifdef HJDL_HAVE_OPENMP
        omp_set_num_threads(1); /* this thread's nested kernels: one thread */
#endif
        si_run *r = &runs[ord[k].idx];
        const size_t din = c->D ? c->D : c->dims[r->di];
        si_train_one(c, din, &data[r->di * c->seeds + r->s], r);
#ifdef HJDL_HAVE_OPENMP
#pragma omp critical(hj_exp_si_progress)
#endif
        {
            char stage[96];
            done++;
            done_cost += r->cost;
            snprintf(stage, sizeof stage, "trained %zu/%zu (%s %zu, N %zu, seed %zu)", done,
                     n_runs, c->D ? "d_int" : "d", c->dims[r->di], r->N, r->s);
            hj_experiment_progress(opt, c->name, stage, 0.02 + 0.93 * done_cost / total);
        }
    }
    free(ord);
    for (size_t i = 0; i < n_runs; i++)
        if (runs[i].st != HJ_OK) {
            if (err) {
                *err = runs[i].err;
                hj_error_prefix(err, "%s (N %zu, seed %zu): ", c->name, runs[i].N, runs[i].s);
            }
            return runs[i].st;
        }
    return HJ_OK;
}

/* ---- analysis ----------------------------------------------------------------------- */

/* Least-squares slope of log y on log x over n >= 2 points (NaN when n < 2). */
static double si_slope(const double *x, const double *y, size_t n)
{
    if (n < 2)
        return NAN;
    double mx = 0.0, my = 0.0, sxy = 0.0, sxx = 0.0;
    for (size_t i = 0; i < n; i++)
        mx += log(x[i]) / (double)n, my += log(y[i]) / (double)n;
    for (size_t i = 0; i < n; i++) {
        sxy += (log(x[i]) - mx) * (log(y[i]) - my);
        sxx += (log(x[i]) - mx) * (log(x[i]) - mx);
    }
    return sxx > 0.0 ? sxy / sxx : NAN;
}

/* The test RMSE of (dimension i, grid g, seed s) at budget b by rule 0 (the
 * paper's eps) or 1 (the factor with the smallest validation RMSE; ties: the
 * smaller factor); NaN when missing. *ci (may be NULL) gets the factor index. */
static double si_pick(const si_cfg *c, const si_run *runs, const size_t *base, size_t i, size_t g,
                      size_t s, int b, int rule, size_t *ci)
{
    size_t best = c->paper_ci;
    if (rule == 1) {
        double v = INFINITY;
        for (size_t e = 0; e < c->n_eps; e++) {
            const si_run *r = &runs[si_index(c, base, i, g, s, e)];
            if (isfinite(r->val[b]) && r->val[b] < v)
                v = r->val[b], best = e;
        }
    }
    if (ci)
        *ci = best;
    const double t = runs[si_index(c, base, i, g, s, best)].test[b];
    return isfinite(t) && t > 0.0 ? t : NAN;
}

/* One exponent: per-seed slopes of log test RMSE on log N over the grid
 * indices [g0, g1), averaged over the seeds that have >= 2 points. */
static double si_mean_slope(const si_cfg *c, const si_run *runs, const size_t *base, size_t i, int b,
                            int rule, size_t g0, size_t g1, double *per_seed, size_t *k)
{
    double x[SI_MAX_GRID], y[SI_MAX_GRID], mean = NAN;
    *k = 0;
    for (size_t s = 0; s < c->seeds; s++) {
        size_t n = 0;
        for (size_t g = g0; g < g1; g++) {
            const double t = si_pick(c, runs, base, i, g, s, b, rule, NULL);
            if (isfinite(t))
                x[n] = (double)c->grid[i][g], y[n++] = t;
        }
        const double sl = n >= (g1 - g0 > 2 ? 3 : 2) ? si_slope(x, y, n) : NAN;
        if (isfinite(sl))
            per_seed[(*k)++] = sl;
    }
    if (*k > 0)
        hj_mean_sd(per_seed, *k, &mean, NULL);
    return mean;
}

/* An exponent at one budget with its seed and fit-range half-widths. */
typedef struct si_expo {
    double value;       /* mean over seeds of the per-seed slopes, whole grid */
    double seeds_half;  /* t_{0.975, k-1} sd / sqrt(k) */
    double lo, hi;      /* the same over the lower / upper part of the grid */
    double range_half;  /* max(|lo - value|, |hi - value|) */
    size_t k;           /* seeds with a slope */
} si_expo;

static void si_exponent(const si_cfg *c, const si_run *runs, const size_t *base, size_t i, int b,
                        int rule, si_expo *e, double *scratch)
{
    const size_t ng = c->n_grid[i];
    const size_t h = ng >= 6 ? (ng + 1) / 2 : (ng >= 4 ? 3 : 2);
    size_t k;
    si_mean_slope(c, runs, base, i, b, rule, 0, ng, scratch, &e->k);
    e->seeds_half = hj__exp_seed_half_width(scratch, e->k, &e->value);
    e->lo = si_mean_slope(c, runs, base, i, b, rule, 0, h, scratch, &k);
    e->hi = si_mean_slope(c, runs, base, i, b, rule, ng - h, ng, scratch, &k);
    e->range_half = fmax(fabs(e->lo - e->value), fabs(e->hi - e->value));
    if (!isfinite(e->lo) || !isfinite(e->hi))
        e->range_half = NAN;
}

/* The claim measurement of an exponent: the answer at 2B with its seeds,
 * fit-range and training-budget parts. */
static hj_status si_measurement(const si_expo *e2, const si_expo *e1, hj_claim_measurement *m,
                                hj_error *err)
{
    memset(m, 0, sizeof *m);
    m->value = e2->value;
    hj_status st = hj_claim_part(m, "seeds", e2->seeds_half, err);
    if (st == HJ_OK)
        st = hj_claim_part(m, "fit range", e2->range_half, err);
    if (st == HJ_OK)
        st = hj_claim_part(m, HJ_CLAIM_PART_BUDGET, fabs(e2->value - e1->value), err);
    return st;
}

/* ---- output ------------------------------------------------------------------------- */

static hj_status si_params(const si_cfg *c, hj_result *res, int threads, hj_error *err)
{
    hj_status st;
    char buf[192];
    const char *inputs = c->D ? "s ~ U[-2,2]^d_int, x = R psi(s) in R^D, psi(s) = (s, sin(Omega s + phi)/sqrt(D - d_int))"
                              : "x ~ U[-2,2]^d";
    const char *eps = !isnan(c->eps) ? "factor x override" : c->D ? "N^(-1/d_int)" : "factor x N^(-1/d), factor in {1/4, 1, 4} chosen on validation data; factor 1 = the paper's rule";
    if ((st = hj_result_param_num(res, "quick", (double)c->quick, err)) ||
        (st = hj_result_param_text(res, "target", "f(x) = sqrt(1 + |x|^2) (noiseless)", err)) ||
        (st = hj_result_param_text(res, "inputs", inputs, err)) ||
        (st = hj_result_param_text(res, "model", "lse:N, no output scale, t = 1", err)) ||
        (st = hj_result_param_text(res, "eps", eps, err)) ||
        (st = hj_result_param_text(res, "optimizer", "adam, full batch", err)) ||
        (st = hj_result_param_num(res, "lr", SI_LR, err)) ||
        (st = hj_result_param_num(res, "budget_B_steps", (double)c->steps, err)) ||
        (st = hj_result_param_num(res, "budget_2B_steps", (double)(2 * c->steps), err)) ||
        (st = hj_result_param_num(res, "seeds", (double)c->seeds, err)) ||
        (st = hj_result_param_num(res, "n_train", (double)c->n_train, err)) ||
        (st = hj_result_param_num(res, "n_val", (double)c->n_val, err)) ||
        (st = hj_result_param_num(res, "n_test", (double)c->n_test, err)) ||
        (st = hj_result_param_num(res, "base_seed", (double)c->seed, err)) ||
        (st = hj_result_param_num(res, "concurrent_runs", (double)threads, err)) ||
        (st = hj_result_param_num(res, "tolerance_relative", SI_TOL_REL, err)))
        return st;
    if (!isnan(c->eps) && (st = hj_result_param_num(res, "eps_value", c->eps, err)))
        return st;
    if (c->D && ((st = hj_result_param_num(res, "D", (double)c->D, err)) ||
                 (st = hj_result_param_text(res, "embedding",
                                            "curved: random Fourier features psi(s) = (s, sin(Omega s + "
                                            "phi)/sqrt(D - d_int)), Omega ~ N(0,1), phi ~ U[0, 2 pi), then a "
                                            "random rotation R of R^D; one per seed", err))))
        return st;
    for (size_t i = 0; i < c->n_dims; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s%zu_N", c->D ? "grid_dint" : "grid_d", c->dims[i]);
        si_grid_text(c, i, buf, sizeof buf);
        if ((st = hj_result_param_text(res, key, buf, err)))
            return st;
    }
    return HJ_OK;
}

static const char SI_WORDS_SCALING[] =
    "Trained LSE networks with eps = N^{-1/d} (x ~ U[-2,2]^d, 4000 train, 800 test, Adam) on a target "
    "that no finite LSE represents exactly show exponents set by the dimension";
static const char SI_WORDS_INTRINSIC[] =
    "Intrinsic dimension: data on a curved d_int-dimensional manifold (a smooth nonlinear embedding) in "
    "D >> d_int dimensions gives exponents set by d_int, not D";

/* Claims, metrics and notes of dimension i; e[rule][b] the exponents. */
static hj_status si_report_dim(const si_cfg *c, hj_result *res, size_t i, si_expo e[2][2],
                               hj_error *err)
{
    const size_t k = c->dims[i];
    const double pred = -1.0 / (double)k, tol = SI_TOL_REL / (double)k;
    char reason[256], stmt[384], key[64];
    const char *pre = c->D ? "dint" : "d";
    snprintf(reason, sizeof reason,
             "10 %% of 1/k (%.4g): within it the exponent is the same rate over the N range swept, "
             "while the next dimension's rate -1/(k+1) is at least 20 %% away",
             tol);
    hj_status st = HJ_OK;
    for (int rule = 0; rule < (c->D ? 1 : 2) && st == HJ_OK; rule++) {
        if (c->D)
            snprintf(stmt, sizeof stmt,
                     "Trained lse:N on inputs on a curved %zu-dim. manifold in R^%zu (rotated random "
                     "Fourier features), target sqrt(1 + |x|^2), eps = N^(-1/d_int), Adam %zu steps: the "
                     "slope of log test RMSE on log N equals -1/d_int = %.4g (ambient -1/D = %.4g)",
                     k, c->D, 2 * c->steps, pred, -1.0 / (double)c->D);
        else if (rule == 0)
            snprintf(stmt, sizeof stmt,
                     "Trained lse:N on f(x) = sqrt(1 + |x|^2), x ~ U[-2,2]^%zu, the paper's eps = "
                     "N^(-1/d), Adam %zu steps: the slope of log test RMSE on log N (mean of per-seed "
                     "fits) equals -1/d = %.4g",
                     k, 2 * c->steps, pred);
        else
            snprintf(stmt, sizeof stmt,
                     "Trained lse:N on f(x) = sqrt(1 + |x|^2), x ~ U[-2,2]^%zu, eps chosen per (N, seed) "
                     "on held-out validation data from {1/4, 1, 4} x N^(-1/d), Adam %zu steps: the "
                     "slope of log test RMSE on log N is at least as fast as -1/d = %.4g",
                     k, 2 * c->steps, pred);
        const hj_claim_spec spec = {"C8", rule == 0 ? HJ_SOURCE_PAPER : HJ_SOURCE_HJDL, stmt,
                                    rule == 0 ? (c->D ? SI_WORDS_INTRINSIC : SI_WORDS_SCALING) : NULL,
                                    rule == 0 ? HJ_FORM_EQUALS : HJ_FORM_AS_FAST_AS, pred, tol, reason, 1};
        hj_claim_measurement m;
        if ((st = si_measurement(&e[rule][1], &e[rule][0], &m, err)) == HJ_OK)
            st = hj_result_claim_add(res, &spec, &m, err);
        if (st != HJ_OK)
            break;
        const hj_claim *cl = &res->claims[res->n_claims - 1];
        static const char *const rname[2] = {"paper_eps", "validated_eps"};
        const struct { const char *name; double v; } mets[] = {
            {"slope_B", e[rule][0].value},        {"slope_2B", e[rule][1].value},
            {"seeds_half", e[rule][1].seeds_half}, {"fit_range_half", e[rule][1].range_half},
            {"slope_lower_range", e[rule][1].lo}, {"slope_upper_range", e[rule][1].hi},
        };
        for (size_t j = 0; j < sizeof mets / sizeof mets[0] && st == HJ_OK; j++) {
            snprintf(key, sizeof key, "%s%zu_%s_%s", pre, k, rname[rule], mets[j].name);
            st = hj_result_metric(res, key, mets[j].v, err);
        }
        hj_result_note(res,
                       "%s = %zu, %s: exponent %.3f at 2B (%.3f at B), interval [%.3f, %.3f] (seeds "
                       "%.3f, fit range %.3f: lower grid %.3f, upper grid %.3f; budget %.3f) -> %s (%s).",
                       c->D ? "d_int" : "d", k, rule == 0 ? "paper's eps = N^(-1/k)" : "validated eps",
                       e[rule][1].value, e[rule][0].value, cl->lo, cl->hi, e[rule][1].seeds_half,
                       e[rule][1].range_half, e[rule][1].lo, e[rule][1].hi,
                       fabs(e[rule][1].value - e[rule][0].value), hj_verdict_name(cl->verdict), cl->why);
    }
    if (c->D && st == HJ_OK)
        hj_result_note(res, "d_int = %zu: the ambient alternative -1/D = %.4f lies %.3f from the measured "
                            "exponent (the paper's -1/d_int lies %.3f from it).",
                       k, -1.0 / (double)c->D, fabs(e[0][1].value + 1.0 / (double)c->D),
                       fabs(e[0][1].value - pred));
    return st;
}

/* The raw table, one row per run: d (d_int, D), N, seed, eps_factor, eps,
 * test/val/train RMSE at B, the same at 2B, seconds. */
static hj_status si_write_raw(const si_cfg *c, hj_result *res, const si_run *runs, size_t n_runs,
                              hj_error *err)
{
    static const char *const names_s[] = {"d", "N", "seed", "eps_factor", "eps", "test_B", "val_B",
                                          "train_B", "test_2B", "val_2B", "train_2B", "seconds"};
    static const char *const names_i[] = {"d_int", "D", "N", "seed", "eps_factor", "eps", "test_B",
                                          "val_B", "train_B", "test_2B", "val_2B", "train_2B", "seconds"};
    const size_t cols = c->D ? 13 : 12;
    double *table = hj__exp_dnew(c->name, n_runs * cols, err);
    if (table == NULL)
        return HJ_ENOMEM;
    for (size_t j = 0; j < n_runs; j++) {
        const si_run *r = &runs[j];
        double *row = table + cols * j;
        *row++ = (double)c->dims[r->di];
        if (c->D)
            *row++ = (double)c->D;
        const double v[11] = {(double)r->N, (double)r->s, c->eps_factor[r->ci], r->eps, r->test[0],
                              r->val[0], r->train[0], r->test[1], r->val[1], r->train[1], r->seconds};
        memcpy(row, v, sizeof v);
    }
    hj_status st = hj_result_write_csv(res, c->D ? "intrinsic.csv" : "scaling.csv",
                                       c->D ? names_i : names_s, table, n_runs, cols, err);
    free(table);
    return st;
}

/* NAME_by_N.csv (k, N, paper eps, geometric means over seeds of the test
 * RMSE: paper eps at 2B, validated at 2B, paper eps at B; the chosen factor)
 * and NAME_local_slopes.csv (k, N_mid, the local slopes of those three). */
static hj_status si_tables(const si_cfg *c, hj_result *res, const si_run *runs, const size_t *base,
                           hj_error *err)
{
    static const char *const bn[] = {"k", "N", "eps_paper", "test_paper_2B", "test_validated_2B",
                                     "test_paper_B", "eps_factor_validated_2B"};
    static const char *const ln[] = {"k", "N_mid", "local_paper_2B", "local_validated_2B",
                                     "local_paper_B"};
    const size_t rows = c->n_dims * SI_MAX_GRID;
    double *by = hj__exp_dnew(c->name, rows * 7 + rows * 5 + 4 * SI_MAX_GRID, err);
    if (by == NULL)
        return HJ_ENOMEM;
    double *loc = by + rows * 7, *Nv = loc + rows * 5, *yv = Nv + SI_MAX_GRID, *xm = yv + SI_MAX_GRID,
           *sl = xm + SI_MAX_GRID;
    size_t nb = 0, nl = 0;
    for (size_t i = 0; i < c->n_dims; i++) {
        const size_t ng = c->n_grid[i], b0 = nb;
        for (size_t g = 0; g < ng; g++, nb++) {
            double *row = by + 7 * nb;
            row[0] = (double)c->dims[i], row[1] = (double)c->grid[i][g];
            row[2] = si_eps(c, c->dims[i], c->grid[i][g], c->paper_ci);
            for (int col = 0; col < 4; col++) {
                double s = 0.0;
                size_t cnt = 0;
                for (size_t sd = 0; sd < c->seeds; sd++) {
                    size_t ci;
                    const int b = col == 2 ? 0 : 1, rule = col == 1 || col == 3;
                    const double t = si_pick(c, runs, base, i, g, sd, b, rule, &ci);
                    const double v = col == 3 ? c->eps_factor[ci] : t;
                    if (isfinite(v) && v > 0.0)
                        s += log(v), cnt++;
                }
                row[3 + col] = cnt ? exp(s / (double)cnt) : NAN;
            }
        }
        for (int col = 0; col < 3; col++) {
            for (size_t g = 0; g < ng; g++)
                Nv[g] = by[7 * (b0 + g) + 1], yv[g] = by[7 * (b0 + g) + 3 + col];
            hj__exp_local_log_slopes(Nv, yv, ng, xm, sl);
            for (size_t g = 0; g + 1 < ng; g++) {
                double *row = loc + 5 * (nl + g);
                row[0] = (double)c->dims[i], row[1] = xm[g], row[2 + col] = sl[g];
            }
        }
        nl += ng - 1;
    }
    char f1[64], f2[64];
    snprintf(f1, sizeof f1, "%s_by_N.csv", c->name);
    snprintf(f2, sizeof f2, "%s_local_slopes.csv", c->name);
    hj_status st = hj_result_write_csv(res, f1, bn, by, nb, 7, err);
    if (st == HJ_OK)
        st = hj_result_write_csv(res, f2, ln, loc, nl, 5, err);
    free(by);
    return st;
}

/*
 * `scaling` only: what an LSE of N neurons *can* reach, without training.
 * The constructed lse:N is the N tangent planes of the target at the first
 * N training inputs x_j (w_j = grad f(x_j) = x_j / f(x_j), b_j = f(x_j) -
 * w_j . x_j), at the paper's eps = N^(-1/d) and at eps = 0 (their max, the
 * approximation error alone), plus the one constant that minimises its
 * training MSE (LSE_eps exceeds the max of the planes by up to eps log N, a
 * level shift any trained bias absorbs). Its test RMSE over N next to the
 * trained models says whether a trained exponent is the rate of the model
 * class or the optimiser's (a diagnostic, no claim: the constructed model
 * is one choice of weights, not the best lse:N). Writes
 * scaling_constructed.csv (k, N, eps, test RMSE at eps, at eps = 0;
 * geometric means over seeds) and the per-seed mean slopes as metrics.
 */
static hj_status si_constructed(const si_cfg *c, hj_result *res, const si_data *data, hj_error *err)
{
    static const char *const names[] = {"k", "N", "eps_paper", "test_constructed", "test_constructed_eps0"};
    size_t nmax = 0, rows = 0;
    for (size_t i = 0; i < c->n_dims; i++) {
        rows += c->n_grid[i];
        for (size_t g = 0; g < c->n_grid[i]; g++)
            nmax = c->grid[i][g] > nmax ? c->grid[i][g] : nmax;
    }
    const size_t nf = c->n_train > c->n_test ? c->n_train : c->n_test;
    double *W = hj__exp_dnew(c->name, nmax * SI_MAX_DIMS + nmax + nf + rows * 5 + 2 * c->seeds * SI_MAX_GRID + 2 * SI_MAX_GRID, err);
    if (W == NULL)
        return HJ_ENOMEM;
    double *w = W, *bias = w + nmax * SI_MAX_DIMS, *f = bias + nmax, *tab = f + nf;
    double *Y = tab + rows * 5, *Y0 = Y + c->seeds * SI_MAX_GRID, *lN = Y0 + c->seeds * SI_MAX_GRID;
    double *ly = lN + SI_MAX_GRID;
    hj_status st = HJ_OK;
    size_t row = 0;
    char key[64];
    for (size_t i = 0; i < c->n_dims && st == HJ_OK; i++) {
        const size_t k = c->dims[i], ng = c->n_grid[i];
        for (size_t g = 0; g < ng && st == HJ_OK; g++) {
            const size_t N = c->grid[i][g];
            const double eps = si_eps(c, k, N, c->paper_ci);
            for (size_t s = 0; s < c->seeds && st == HJ_OK; s++) {
                const si_data *dt = &data[i * c->seeds + s];
                for (size_t j = 0; j < N; j++) {
                    const double *x = dt->xtr + j * k, fx = si_target(x, k);
                    double wx = 0.0;
                    for (size_t a = 0; a < k; a++)
                        w[j * k + a] = x[a] / fx, wx += w[j * k + a] * x[a];
                    bias[j] = fx - wx;
                }
                for (int e0 = 0; e0 < 2 && st == HJ_OK; e0++) {
                    const hj_lse_layer L = {N, k, w, bias, e0 ? 0.0 : eps};
                    double shift = 0.0, sq = 0.0;
                    if ((st = hj_lse_forward(&L, dt->xtr, c->n_train, f, NULL, NULL, err)) != HJ_OK)
                        break;
                    for (size_t q = 0; q < c->n_train; q++)
                        shift += (dt->ytr[q] - f[q]) / (double)c->n_train;
                    if ((st = hj_lse_forward(&L, dt->xte, c->n_test, f, NULL, NULL, err)) != HJ_OK)
                        break;
                    for (size_t q = 0; q < c->n_test; q++) {
                        const double r = f[q] + shift - si_target(dt->xte + q * k, k);
                        sq += r * r;
                    }
                    (e0 ? Y0 : Y)[s * ng + g] = sqrt(sq / (double)c->n_test);
                }
            }
            double *r = tab + 5 * row++;
            r[0] = (double)k, r[1] = (double)N, r[2] = eps;
            for (int e0 = 0; e0 < 2; e0++) {
                double sl = 0.0;
                for (size_t s = 0; s < c->seeds; s++)
                    sl += log((e0 ? Y0 : Y)[s * ng + g]) / (double)c->seeds;
                r[3 + e0] = exp(sl);
            }
        }
        if (st != HJ_OK)
            break;
        /* per-seed log-log slopes (si_slope takes the logs), mean over seeds */
        for (int e0 = 0; e0 < 2; e0++) {
            double m = 0.0;
            for (size_t s = 0; s < c->seeds; s++) {
                for (size_t g = 0; g < ng; g++)
                    lN[g] = (double)c->grid[i][g], ly[g] = (e0 ? Y0 : Y)[s * ng + g];
                m += si_slope(lN, ly, ng) / (double)c->seeds;
            }
            snprintf(key, sizeof key, "constructed_slope_%s_k%zu", e0 ? "eps0" : "paper_eps", k);
            hj_result_metric(res, key, m, NULL);
        }
    }
    if (st == HJ_OK)
        st = hj_result_write_csv(res, "scaling_constructed.csv", names, tab, row, 5, err);
    free(W);
    return st;
}

/* The two figures: test RMSE against N, and the local slopes. */
static void si_figures(const si_cfg *c, hj_result *res)
{
    const char *kn = c->D ? "d_{int}" : "d";
    char csv[2][64], filt[SI_MAX_DIMS][24], tt[2][HJ_PLOT_MAX_SERIES][96], fn[4][32], ft[4][32];
    char title[2][128];
    snprintf(csv[0], sizeof csv[0], "%s_by_N.csv", c->name);
    snprintf(csv[1], sizeof csv[1], "%s_local_slopes.csv", c->name);
    for (int f = 0; f < 2; f++) {
        hj_plot p;
        memset(&p, 0, sizeof p);
        char name[64];
        snprintf(name, sizeof name, "%s%s", c->name, f ? "_local_slopes" : "");
        snprintf(title[f], sizeof title[f], "C8 %s: %s LSE, f = sqrt(1 + |x|^2)%s", c->name,
                 !f && c->D == 0 ? "trained and constructed" : "trained", f ? ": local log-log slopes" : "");
        p.name = name;
        p.title = title[f];
        p.xlabel = f ? "N (geometric mid-point of neighbouring N)" : "N (neurons)";
        p.ylabel = f ? "local slope of the test RMSE" : "test RMSE (geometric mean over seeds)";
        p.logx = 1;
        p.logy = f == 0;
        for (size_t i = 0; i < c->n_dims && i < 4; i++) {
            snprintf(filt[i], sizeof filt[i], "$1 == %zu", c->dims[i]);
            for (int col = 0; col < 3; col++) {
                if (col == 1 && c->n_eps == 1)
                    continue;
                static const char *const what[3] = {"ε = N^{-1/k}, 2B", "validated ε, 2B",
                                                    "ε = N^{-1/k}, B"};
                char *t = tt[f][p.n_series];
                snprintf(t, sizeof tt[0][0], "%s = %zu: %s", kn, c->dims[i], what[col]);
                p.series[p.n_series++] = (hj_plot_series){csv[f], 2, (f ? 3 : 4) + col, 0, t,
                                                          "linespoints", filt[i]};
            }
            if (!f && c->D == 0) {
                char *t = tt[f][p.n_series];
                snprintf(t, sizeof tt[0][0], "%s = %zu: constructed (tangent planes), ε = N^{-1/k}", kn,
                         c->dims[i]);
                p.series[p.n_series++] = (hj_plot_series){"scaling_constructed.csv", 2, 4, 0, t, "lines",
                                                          filt[i]};
            }
            if (f) {
                snprintf(fn[i], sizeof fn[i], "%.10g + 0*x", -1.0 / (double)c->dims[i]);
                snprintf(ft[i], sizeof ft[i], "-1/%zu", c->dims[i]);
                p.functions[p.n_functions] = fn[i];
                p.function_titles[p.n_functions++] = ft[i];
            }
        }
        hj__exp_figure(res, &p,
                       f ? "Local slopes of the test RMSE between neighbouring N (the drift the 'fit "
                           "range' part measures); horizontal lines: the predicted -1/k."
                         : "Test RMSE of trained lse:N models against N (log-log), geometric means over "
                           "seeds: the paper's eps at budgets B and 2B and (scaling) eps chosen on "
                           "validation data.",
                       NULL);
    }
}

/* The checks (things that hold whenever hjdl is correct) and run metrics. */
static hj_status si_checks(const si_cfg *c, hj_result *res, const si_run *runs, const size_t *base,
                           size_t n_runs, double iso, hj_error *err)
{
    double ratio = 0.0, mse_rel = 0.0, lip_ratio = 0.0;
    size_t viol = 0, diverged = 0;
    for (size_t j = 0; j < n_runs; j++) {
        ratio = si_max(ratio, runs[j].loss_ratio);
        mse_rel = si_max(mse_rel, runs[j].mse_rel);
        lip_ratio = si_max(lip_ratio, runs[j].lip_ratio);
        viol += runs[j].lip_viol;
        diverged += (size_t)runs[j].diverged;
    }
    char name[128];
    hj_status st;
    snprintf(name, sizeof name, "training loss decreased in all %zu runs (max final/initial loss)",
             n_runs);
    if ((st = hj_result_check(res, "C8", name, ratio, 1.0, err)) != HJ_OK)
        return st;
    if ((st = hj_result_check(res, "C8",
                              "final training loss = MSE of hj_model_predict on the training set "
                              "(max rel. diff.)",
                              mse_rel, SI_MSE_TOL, err)) != HJ_OK)
        return st;
    for (size_t i = 0; i < c->n_dims; i++) {
        const si_run *r = &runs[si_index(c, base, i, c->n_grid[i] - 1, 0, c->paper_ci)];
        snprintf(name, sizeof name,
                 "trained model %s = %zu, N = %zu: f + u_HopfCole = |x|^2/(4t) (max rel. error)",
                 c->D ? "d_int" : "d", c->dims[i], r->N);
        if ((st = hj_result_check(res, "C1", name, r->ident_rel, SI_IDENTITY_TOL, err)) != HJ_OK)
            return st;
    }
    snprintf(name, sizeof name,
             "|f(x)-f(x')| <= max_j|w_j| |x-x'| on %zu pairs per trained model (violations)",
             (size_t)(2 * SI_LIP_PAIRS));
    if ((st = hj_result_check(res, "C3", name, (double)viol, 0.0, err)) != HJ_OK)
        return st;
    if (c->D && (st = hj_result_check(res, "C8",
                                      "the embedding's rotation preserves norms: max | |R psi| - |psi| | "
                                      "/ |psi|",
                                      iso, SI_ISO_TOL, err)) != HJ_OK)
        return st;
    if ((st = hj_result_metric(res, "runs", (double)n_runs, err)) ||
        (st = hj_result_metric(res, "runs_diverged", (double)diverged, err)) ||
        (st = hj_result_metric(res, "max_loss_ratio", ratio, err)) ||
        (st = hj_result_metric(res, "lipschitz_max_ratio", lip_ratio, err)))
        return st;
    if (diverged)
        hj_result_note(res, "%zu of %zu runs stopped on a non-finite loss.", diverged, n_runs);
    return HJ_OK;
}

static void si_note_protocol(const si_cfg *c, hj_result *res)
{
    hj_result_note(res,
                   "Protocol: per (%s, N, seed%s) an lse:N model (t = 1) is trained by full-batch Adam "
                   "(lr %g) for 2B = %zu steps and measured at B = %zu and at 2B (the same trajectory); "
                   "%zu training points, %s; target f(x) = sqrt(1 + |x|^2) (convex, 1-Lipschitz, "
                   "strictly convex: no finite LSE equals it, unlike |x| = max(x, -x)); test RMSE "
                   "against the noiseless target on %zu fresh points%s.",
                   c->D ? "d_int" : "d", c->n_eps > 1 ? ", eps factor" : "", SI_LR, 2 * c->steps,
                   c->steps, c->n_train,
                   c->D ? "inputs on a curved manifold x = R psi(s), psi(s) = (s, sin(Omega s + "
                          "phi)/sqrt(D - d_int)), s ~ U[-2,2]^d_int, D = 32"
                        : "x ~ U[-2,2]^d",
                   c->n_test,
                   c->n_eps > 1 ? "; eps = c N^(-1/d) with c in {1/4, 1, 4}, c = 1 the paper's rule, "
                                  "the validated answer taking per (d, N, seed) the c with the smallest "
                                  "RMSE on a separate validation set"
                                : "; eps = N^(-1/d_int), the paper's rule");
    hj_result_note(res,
                   "Exponents: mean over seeds of the per-seed least-squares slopes of log test RMSE "
                   "on log N, at 2B. Interval parts: seeds (t quantile x sd/sqrt(S)), fit range (the "
                   "same over the lower and the upper part of the N grid), training budget "
                   "(|answer(2B) - answer(B)|; above the tolerance the claim is not converged).");
    if (c->quick)
        hj_result_note(res, "Quick mode: %zu seeds, B = %zu steps, %zu/%zu/%zu train/validation/test "
                            "points, 3 N values per dimension: provisional.",
                       c->seeds, c->steps, c->n_train, c->n_val, c->n_test);
}

static hj_status si_sweep(const hj_experiment_options *opt, hj_result *res, size_t D, hj_error *err)
{
    si_cfg c;
    hj_status st = si_config(opt, D, &c, err);
    if (st != HJ_OK)
        return st;
    int threads = 1;
#ifdef HJDL_HAVE_OPENMP
    threads = omp_get_max_threads();
#endif
    if ((st = si_params(&c, res, threads, err)) != HJ_OK)
        return st;

    size_t base[SI_MAX_DIMS], n_runs = 0;
    for (size_t i = 0; i < c.n_dims; i++) {
        base[i] = n_runs;
        n_runs += c.n_grid[i] * c.seeds * c.n_eps;
    }
    si_data *data = calloc(c.n_dims * c.seeds, sizeof *data);
    si_run *runs = calloc(n_runs, sizeof *runs);
    double *scratch = hj__exp_dnew(c.name, c.seeds, err);
    if (data == NULL || runs == NULL || scratch == NULL) {
        st = hj_error_set(err, HJ_ENOMEM, "%s: out of memory", c.name);
        goto done;
    }

    hj_experiment_progress(opt, c.name, "making data", 0.01);
    double iso = 0.0;
    for (size_t i = 0; i < c.n_dims && st == HJ_OK; i++)
        for (size_t s = 0; s < c.seeds && st == HJ_OK; s++) {
            const uint64_t ds = si_mix(si_mix(c.seed, 1000 + c.dims[i]), s);
            st = si_make_data(&c, c.dims[i], ds, &data[i * c.seeds + s], err);
            if (st == HJ_OK)
                iso = si_max(iso, data[i * c.seeds + s].iso);
        }
    if (st != HJ_OK)
        goto done;
    for (size_t i = 0; i < c.n_dims; i++)
        for (size_t g = 0; g < c.n_grid[i]; g++)
            for (size_t s = 0; s < c.seeds; s++)
                for (size_t ci = 0; ci < c.n_eps; ci++) {
                    si_run *r = &runs[si_index(&c, base, i, g, s, ci)];
                    r->di = i, r->gi = g, r->s = s, r->ci = ci;
                    r->N = c.grid[i][g];
                    r->eps = si_eps(&c, c.dims[i], r->N, ci);
                    r->seed = si_mix(si_mix(si_mix(c.seed, 2000 + c.dims[i]), r->N), s);
                    r->identity = s == 0 && g == c.n_grid[i] - 1 && ci == c.paper_ci;
                    r->cost = (double)r->N * (double)((c.D ? c.D : c.dims[i]) + 4) + 20.0;
                }

    const double t0 = hj__exp_now_seconds();
    TRY(si_run_all(opt, &c, data, runs, n_runs, err));
    const double wall = hj__exp_now_seconds() - t0;
    double train_sum = 0.0;
    for (size_t j = 0; j < n_runs; j++)
        train_sum += runs[j].seconds;

    TRY(si_write_raw(&c, res, runs, n_runs, err));
    TRY(si_tables(&c, res, runs, base, err));
    si_note_protocol(&c, res);
    for (size_t i = 0; i < c.n_dims; i++) {
        si_expo e[2][2];
        for (int rule = 0; rule < 2; rule++)
            for (int b = 0; b < 2; b++)
                si_exponent(&c, runs, base, i, b, rule, &e[rule][b], scratch);
        TRY(si_report_dim(&c, res, i, e, err));
    }
    TRY(si_checks(&c, res, runs, base, n_runs, iso, err));
    if (c.D == 0) {
        TRY(si_constructed(&c, res, data, err));
        hj_result_note(res, "Constructed lse:N (no training; scaling_constructed.csv, the lines in the first "
                            "figure): the N tangent planes of the target at the first N training inputs, at the "
                            "paper's eps and at eps = 0, shifted by the constant that minimises the training MSE. "
                            "It shows the error an lse:N of that eps can reach, so a trained exponent far from "
                            "it is the optimiser's, not the model class's rate.");
    }
    TRY(hj_result_metric(res, "sweep_wall_seconds", wall, err));
    TRY(hj_result_metric(res, "train_seconds_sum", train_sum, err));
    hj_result_note(res, "Training: %zu runs of 2B steps, %.1f s of training in %.1f s wall (%d "
                        "concurrent runs, one thread each).", n_runs, train_sum, wall, threads);
    hj_experiment_progress(opt, c.name, "figure", 0.97);
    si_figures(&c, res);
done:
    if (data)
        for (size_t j = 0; j < c.n_dims * c.seeds; j++)
            si_data_free(&data[j]);
    free(data), free(runs), free(scratch);
    return st;
}

/* Entry point of `scaling` and `intrinsic` (declared in exp-common.h; one engine, two experiments). */
hj_status hj__exp_si_sweep(const hj_experiment_options *opt, hj_result *res, size_t D, hj_error *err)
{
    if (opt == NULL || res == NULL)
        return hj_error_set(err, HJ_EINVAL, "experiment: NULL argument");
    return si_sweep(opt, res, D, err);
}
