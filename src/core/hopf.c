/* hopf.c — Hopf–Cole / Hopf–Lax solutions from atoms, and the weights <-> initial-data map. */
#include "hjdl/hopf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core-impl.h"
#include "hjdl/partial.h"

/* From this many atoms on, a request for u, u_norm, grad and entropy only
 * goes through the tiled partial reductions of partial.c: cache-sized tiles
 * of atoms (and GEMM for larger d) instead of one N-long scratch row per
 * point that falls out of cache. Smaller problems, and anything needing pi,
 * d_t u or second derivatives, take the per-point path below. */
#define HJ_HC_TILED_MIN_ATOMS 4096

/* out (d) = M v, or v when M == NULL. */
static void matvec(const double *M, const double *v, size_t d, double *out)
{
    for (size_t a = 0; a < d; a++) {
        if (M == NULL) {
            out[a] = v[a];
            continue;
        }
        double r = 0.0;
        for (size_t b = 0; b < d; b++)
            r += M[a * d + b] * v[b];
        out[a] = r;
    }
}

/* q (N): squared metric distances |x - y_j|^2_{A^{-1}}; diff scratch (d). */
static void sq_dists(const hj_atoms *a, const double *Ainv, const double *x,
                     double *diff, double *q)
{
    const size_t d = a->d;
    for (size_t j = 0; j < a->N; j++)
        q[j] = hj_atoms_sqdist(Ainv, x, a->y + j * d, d, diff);
}

double hj_hopf_quadratic(const hj_metric *metric, const double *x, size_t d, double t)
{
    return hj_quad_form(hj_metric_Ainv(metric), x, d) / (4.0 * t);
}

/* What one point's evaluation needs beyond the outputs: per-thread scratch. */
typedef struct point_scratch {
    double *q;      /* (N) squared distances */
    double *z;      /* (N) logits a_j = -(g_j + q_j/(4t)) */
    double *pi;     /* (N) Gibbs weights (when the caller keeps none) */
    double *ybar;   /* (d) */
    double *tmp;    /* (d) */
    double *cov;    /* (d, d) */
    double *m2;     /* (d, d) */
} point_scratch;

static size_t scratch_doubles(size_t N, size_t d) { return 3 * N + 2 * d + 2 * d * d; }

static void scratch_bind(point_scratch *s, double *mem, size_t N, size_t d)
{
    s->q = mem;
    s->z = mem + N;
    s->pi = mem + 2 * N;
    s->ybar = mem + 3 * N;
    s->tmp = s->ybar + d;
    s->cov = s->tmp + d;
    s->m2 = s->cov + d * d;
}

static void eval_point(const hj_atoms *a, const hj_metric *metric, const double *x,
                       size_t i, double t, double eps, const hj_hc_out *out,
                       point_scratch *s)
{
    const size_t N = a->N, d = a->d;
    const double *Ainv = hj_metric_Ainv(metric);
    const double *xi = x + i * d;
    double *pi = out->pi ? out->pi + i * N : s->pi;
    sq_dists(a, Ainv, xi, s->tmp, s->q);
    for (size_t j = 0; j < N; j++)
        s->z[j] = -hj_atom_cost(a->g[j], s->q[j], t);
    double m, log_s;
    double fz = hj__lse_full(s->z, N, eps, pi, &m, &log_s);
    double u = -fz;
    if (out->u)
        out->u[i] = u;
    if (out->u_norm) {
        double c = 0.0;
        if (eps > 0.0)
            c = 0.5 * eps * ((double)d * log(4.0 * HJ_PI * eps * t) + hj_metric_logdet(metric));
        out->u_norm[i] = u + c;
    }
    if (out->entropy)
        out->entropy[i] = hj__gibbs_entropy(s->z, pi, N, eps, m, log_s);
    if (out->dudt) {
        double e = 0.0;
        for (size_t j = 0; j < N; j++)
            if (pi[j] > 0.0)
                e += pi[j] * s->q[j];
        out->dudt[i] = -e / (4.0 * t * t);
    }
    if (!out->grad && !out->hess && !out->lap)
        return;
    hj__pi_mean(pi, a->y, N, d, s->ybar);
    if (out->grad) {
        for (size_t k = 0; k < d; k++)
            s->tmp[k] = xi[k] - s->ybar[k];
        double *g = out->grad + i * d;
        matvec(Ainv, s->tmp, d, g);
        for (size_t k = 0; k < d; k++)
            g[k] /= 2.0 * t;
    }
    if (!out->hess && !out->lap)
        return;
    hj__pi_cov(pi, a->y, s->ybar, N, d, s->cov);
    /* m2 = A^{-1} C A^{-1} (or C) */
    if (Ainv == NULL) {
        memcpy(s->m2, s->cov, d * d * sizeof *s->m2);
    } else {
        for (size_t r = 0; r < d; r++)
            for (size_t c = 0; c < d; c++) {
                double acc = 0.0;
                for (size_t p = 0; p < d; p++)
                    for (size_t q = 0; q < d; q++)
                        acc += Ainv[r * d + p] * s->cov[p * d + q] * Ainv[q * d + c];
                s->m2[r * d + c] = acc;
            }
    }
    if (out->hess) {
        double *h = out->hess + i * d * d;
        for (size_t r = 0; r < d; r++)
            for (size_t c = 0; c < d; c++) {
                double base = (Ainv ? Ainv[r * d + c] : (double)(r == c)) / (2.0 * t);
                h[r * d + c] = base - hj__over_eps(s->m2[r * d + c] / (4.0 * t * t), eps);
            }
    }
    if (out->lap) {
        /* tr(A hess u) = d/(2t) - tr(C A^{-1})/(4 t^2 eps) */
        double tr = 0.0;
        for (size_t r = 0; r < d; r++)
            for (size_t c = 0; c < d; c++)
                tr += s->cov[r * d + c] * (Ainv ? Ainv[c * d + r] : (double)(r == c));
        out->lap[i] = (double)d / (2.0 * t) - hj__over_eps(tr / (4.0 * t * t), eps);
    }
}

/* u, u_norm, grad, entropy by the partial reductions: one state of 3 (+ d)
 * doubles per point, folded over all atoms in tiles, then finished. */
static hj_status eval_tiled(const hj_atoms *a, const hj_metric *metric, const double *x, size_t n,
                           double t, double eps, const hj_hc_out *out, hj_error *err)
{
    const int with_grad = out->grad != NULL;
    const size_t w = hj_partial_width(with_grad ? a->d : 0);
    double *P = malloc((n ? n : 1) * w * sizeof *P);
    if (P == NULL)
        return hj_error_set(err, HJ_ENOMEM, "Hopf–Cole: cannot allocate %zu doubles", n * w);
    hj_partial_init(P, n, with_grad ? a->d : 0);
    hj_status st = hj_partial_atoms(a, 0, metric, x, n, t, eps, with_grad, P, NULL, err);
    if (st == HJ_OK && n > 0)
        st = hj_partial_atoms_finish(P, n, a->d, metric, x, t, eps, with_grad, out, NULL, NULL, err);
    free(P);
    return st;
}

hj_status hj_hopf_cole_eval(const hj_atoms *a, const hj_metric *metric,
                            const double *x, size_t n, double t, double eps,
                            const hj_hc_out *out, hj_error *err)
{
    hj_status st = hj_atoms_check_eval(a, metric, x, n, t, eps, "Hopf–Cole", err);
    if (st != HJ_OK)
        return st;
    if (out == NULL)
        return hj_error_set(err, HJ_EINVAL, "Hopf–Cole: output descriptor is NULL");
    const size_t N = a->N, d = a->d;
    if (N >= HJ_HC_TILED_MIN_ATOMS && !out->pi && !out->dudt && !out->hess && !out->lap)
        return eval_tiled(a, metric, x, n, t, eps, out, err);
    const int parallel = n * N * d >= HJ_PARALLEL_MIN_WORK;
    const size_t nthreads = parallel ? HJ_MAX_THREADS() : 1;
    const size_t per = scratch_doubles(N, d);
    double *mem = malloc(nthreads * per * sizeof *mem);
    if (mem == NULL)
        return hj_error_set(err, HJ_ENOMEM, "Hopf–Cole: cannot allocate %zu doubles",
                            nthreads * per);
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel num_threads((int)nthreads) if (parallel)
#endif
    {
        point_scratch s;
        scratch_bind(&s, mem + HJ_THREAD_ID() * per, N, d);
#ifdef HJDL_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
        for (size_t i = 0; i < n; i++)
            eval_point(a, metric, x, i, t, eps, out, &s);
    }
    free(mem);
    return HJ_OK;
}

hj_status hj_hopf_lax_eval(const hj_atoms *a, const hj_metric *metric,
                           const double *x, size_t n, double t,
                           double *u, size_t *argmin, hj_error *err)
{
    hj_status st = hj_atoms_check_eval(a, metric, x, n, t, 0.0, "Hopf–Lax", err);
    if (st != HJ_OK)
        return st;
    if (u == NULL)
        return hj_error_set(err, HJ_EINVAL, "Hopf–Lax: output u is NULL");
    const size_t d = a->d;
    const double *Ainv = hj_metric_Ainv(metric);
    double *diff = malloc(d * sizeof *diff);
    if (diff == NULL)
        return hj_error_set(err, HJ_ENOMEM, "Hopf–Lax: out of memory");
    for (size_t i = 0; i < n; i++) {
        double best = INFINITY;
        size_t arg = 0;
        for (size_t j = 0; j < a->N; j++) {
            double v = hj_atom_cost(a->g[j], hj_atoms_sqdist(Ainv, x + i * d, a->y + j * d, d, diff), t);
            if (v < best) {
                best = v;
                arg = j;
            }
        }
        u[i] = best;
        if (argmin)
            argmin[i] = arg;
    }
    free(diff);
    return HJ_OK;
}

/* Shared validation for the two maps. */
static hj_status check_map(const double *p, const double *q, size_t N, size_t d, double t,
                           const hj_metric *metric, const double *o1, const double *o2,
                           hj_error *err)
{
    if (p == NULL || q == NULL || o1 == NULL || o2 == NULL)
        return hj_error_set(err, HJ_EINVAL, "map: NULL buffer");
    if (N == 0 || d == 0)
        return hj_error_set(err, HJ_EINVAL, "map: N and d must be >= 1");
    hj_status st = hj_check_time(t, "map", err);
    return st != HJ_OK ? st : hj_metric_check_dim(metric, d, "map", err);
}

hj_status hj_weights_to_atoms(const double *w, const double *b, size_t N, size_t d,
                              double t, const hj_metric *metric,
                              double *y, double *g, hj_error *err)
{
    hj_status st = check_map(w, b, N, d, t, metric, y, g, err);
    if (st != HJ_OK)
        return st;
    const double *A = hj_metric_A(metric);
    for (size_t j = 0; j < N; j++) {
        /* y_j = 2t A w_j ; g_j = -b_j - t w_j^T A w_j */
        double qa = hj_quad_form(A, w + j * d, d);
        matvec(A, w + j * d, d, y + j * d);
        for (size_t k = 0; k < d; k++)
            y[j * d + k] *= 2.0 * t;
        g[j] = -b[j] - t * qa;
    }
    return HJ_OK;
}

hj_status hj_atoms_to_weights(const double *y, const double *g, size_t N, size_t d,
                              double t, const hj_metric *metric,
                              double *w, double *b, hj_error *err)
{
    hj_status st = check_map(y, g, N, d, t, metric, w, b, err);
    if (st != HJ_OK)
        return st;
    const double *Ainv = hj_metric_Ainv(metric);
    for (size_t j = 0; j < N; j++) {
        /* w_j = A^{-1} y_j/(2t) ; b_j = -g_j - y_j^T A^{-1} y_j/(4t) */
        double qa = hj_quad_form(Ainv, y + j * d, d);
        matvec(Ainv, y + j * d, d, w + j * d);
        for (size_t k = 0; k < d; k++)
            w[j * d + k] /= 2.0 * t;
        b[j] = -g[j] - qa / (4.0 * t);
    }
    return HJ_OK;
}
