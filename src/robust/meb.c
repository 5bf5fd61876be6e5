/* meb.c — certified global curvature bounds of LSE layers: minimum enclosing ball, diameter, the paper's bound.
 *
 * Minimum enclosing ball by Frank–Wolfe with away steps on the dual
 *   maximise phi(u) = sum_j u_j |p_j - c(u)|^2,  c(u) = sum_j u_j p_j,
 * over distributions u on the N points (Yildirim's algorithm). For every u,
 * phi(u) <= r*^2 (the exact squared MEB radius), and for every centre c,
 * r* <= max_j |p_j - c|: the pair brackets r* and certifies both sides.
 * Along u(l) = (1 - l) u + l e_k the objective is exactly the quadratic
 *   phi(l) = phi + l (|p_k - c|^2 - phi) - l^2 |p_k - c|^2,
 * which gives the exact line search of both the toward step (k the farthest
 * point, l > 0) and the away step (k the nearest support point, l < 0).
 *
 * Shapes: p (N, d) points, u (N) dual weights, c (d) centre, dist (N).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/robust.h"
#include "hjdl/vec.h"

#define MEB_MAX_ITERS 100000

/* c (d) = sum_j u_j p_j over the support of u. */
static void centre_of(const double *p, const double *u, size_t N, size_t d, double *c)
{
    memset(c, 0, d * sizeof *c);
    for (size_t j = 0; j < N; j++)
        if (u[j] > 0.0)
            for (size_t k = 0; k < d; k++)
                c[k] += u[j] * p[j * d + k];
}

hj_status hj_meb(const double *p, size_t N, size_t d, double tol, double *centre, double *radius,
                 double *lower, hj_error *err)
{
    if (p == NULL || radius == NULL)
        return hj_error_set(err, HJ_EINVAL, "minimum enclosing ball: NULL points or output");
    if (N == 0 || d == 0)
        return hj_error_set(err, HJ_EINVAL, "minimum enclosing ball: N = %zu, d = %zu", N, d);
    for (size_t i = 0; i < N * d; i++)
        if (!isfinite(p[i]))
            return hj_error_set(err, HJ_ENAN, "minimum enclosing ball: point %zu, coordinate %zu is not finite",
                                i / d, i % d);
    if (!(tol > 0.0))
        tol = 1e-9;
    double *mem = malloc((2 * N + 2 * d) * sizeof *mem);
    if (mem == NULL)
        return hj_error_set(err, HJ_ENOMEM, "minimum enclosing ball: cannot allocate %zu doubles", 2 * N + 2 * d);
    double *u = mem, *dist = u + N, *c = dist + N, *best_c = c + d;
    /* start on the two ends of an approximate diameter */
    size_t a = 0, b = 0;
    double fa = -1.0, fb = -1.0;
    for (size_t j = 0; j < N; j++) {
        double t = hj_vec_sqdist(p + j * d, p, d);
        if (t > fa)
            fa = t, a = j;
    }
    for (size_t j = 0; j < N; j++) {
        double t = hj_vec_sqdist(p + j * d, p + a * d, d);
        if (t > fb)
            fb = t, b = j;
    }
    memset(u, 0, N * sizeof *u);
    u[a] += 0.5;
    u[b] += 0.5;
    double best_R2 = INFINITY, best_phi = 0.0;
    const double stop = (1.0 + tol) * (1.0 + tol);
    for (size_t it = 0; it < MEB_MAX_ITERS; it++) {
        centre_of(p, u, N, d, c);
        double phi = 0.0, R2 = -1.0;
        size_t jf = 0, jn = N;
        for (size_t j = 0; j < N; j++) {
            dist[j] = hj_vec_sqdist(p + j * d, c, d);
            if (dist[j] > R2)
                R2 = dist[j], jf = j;
            if (u[j] > 0.0) {
                phi += u[j] * dist[j];
                if (jn == N || dist[j] < dist[jn])
                    jn = j;
            }
        }
        if (R2 < best_R2) {
            best_R2 = R2;
            memcpy(best_c, c, d * sizeof *c);
        }
        best_phi = fmax(best_phi, phi);
        if (best_R2 <= stop * best_phi || best_R2 == 0.0)
            break;
        const double gain_fw = R2 - phi, gain_aw = phi - dist[jn];
        if (gain_fw >= gain_aw) {
            double l = R2 > 0.0 ? (R2 - phi) / (2.0 * R2) : 0.0;
            l = l < 0.0 ? 0.0 : (l > 1.0 ? 1.0 : l);
            for (size_t j = 0; j < N; j++)
                u[j] *= 1.0 - l;
            u[jf] += l;
        } else {
            double lmax = u[jn] < 1.0 ? u[jn] / (1.0 - u[jn]) : 0.0;
            double l = dist[jn] > 0.0 ? (phi - dist[jn]) / (2.0 * dist[jn]) : lmax;
            int drop = l >= lmax;
            l = drop ? lmax : l;
            for (size_t j = 0; j < N; j++)
                u[j] *= 1.0 + l;
            u[jn] = drop ? 0.0 : u[jn] - l;
        }
        double s = 0.0;
        for (size_t j = 0; j < N; j++) {
            u[j] = u[j] > 0.0 ? u[j] : 0.0;
            s += u[j];
        }
        for (size_t j = 0; j < N; j++)
            u[j] /= s;
    }
    *radius = sqrt(best_R2);
    if (lower)
        *lower = sqrt(best_phi) < *radius ? sqrt(best_phi) : *radius;
    if (centre)
        memcpy(centre, best_c, d * sizeof *centre);
    free(mem);
    return HJ_OK;
}

double hj_point_diameter(const double *p, size_t N, size_t d)
{
    double D2 = 0.0;
    for (size_t j = 0; j < N; j++)
        for (size_t k = j + 1; k < N; k++) {
            double t = hj_vec_sqdist(p + j * d, p + k * d, d);
            if (t > D2)
                D2 = t;
        }
    return sqrt(D2);
}

hj_status hj_lse_curvature_bounds(const hj_lse_layer *L, hj_curvature_bounds *b, hj_error *err)
{
    hj_status st = hj_lse_check(L, err);
    if (st != HJ_OK)
        return st;
    if (b == NULL)
        return hj_error_set(err, HJ_EINVAL, "curvature bounds: NULL output");
    memset(b, 0, sizeof *b);
    double r2 = 0.0;
    for (size_t j = 0; j < L->N; j++) {
        double s = 0.0;
        for (size_t k = 0; k < L->d; k++)
            s += L->w[j * L->d + k] * L->w[j * L->d + k];
        r2 = fmax(r2, s);
    }
    b->max_norm = sqrt(r2);
    if ((st = hj_meb(L->w, L->N, L->d, 1e-9, NULL, &b->meb_radius, &b->meb_lower, err)) != HJ_OK)
        return st;
    b->diam = hj_point_diameter(L->w, L->N, L->d);
    const double up = 1.0 + HJ_ROBUST_ROUNDING;
    if (L->eps > 0.0) {
        b->paper = up * r2 / L->eps;
        b->meb = up * b->meb_radius * b->meb_radius / L->eps;
        b->diameter = up * 0.25 * b->diam * b->diam / L->eps;
    } else {
        b->paper = b->meb = b->diameter = INFINITY;
    }
    b->best = fmin(b->meb, b->diameter);
    return HJ_OK;
}

hj_status hj_model_readout_layer(const hj_model *m, size_t block, hj_lse_layer *L, hj_error *err)
{
    if (m == NULL || L == NULL || m->params == NULL || m->arch.n_layers == 0)
        return hj_error_set(err, HJ_EINVAL, "readout layer: NULL or empty model");
    const hj_layer *R = &m->arch.layers[m->arch.n_layers - 1];
    if (R->kind != HJ_LAYER_LSE && R->kind != HJ_LAYER_LSE_CLASS)
        return hj_error_set(err, HJ_EINVAL, "readout layer: the last layer is not an LSE readout");
    const size_t blocks = R->kind == HJ_LAYER_LSE ? 1 : R->out;
    if (block >= blocks)
        return hj_error_set(err, HJ_EINVAL, "readout layer: block %zu out of range (the readout has %zu)",
                            block, blocks);
    const size_t W = R->width, d = R->in;
    const double *w = m->params + R->offset, *b = w + W * blocks * d;
    L->N = W;
    L->d = d;
    L->w = w + block * W * d;
    L->b = b + block * W;
    L->eps = m->eps;
    return HJ_OK;
}
