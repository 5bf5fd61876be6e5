/* landscape_basins.c — basins of the gradient flow -grad H on a 1-D or 2-D grid (steepest descent on the grid graph). */
#include "hjdl/landscape.h"
#include "attribution/landscape-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hj_basins_free(hj_basins *b)
{
    if (b == NULL)
        return;
    free(b->H), free(b->label), free(b->minima);
    memset(b, 0, sizeof *b);
}

/* Node coordinates of node `id` (d = 1: i; d = 2: i*n + j). */
static void node_x(const hj_basins *b, size_t id, double *x)
{
    const size_t n = b->n;
    size_t idx[2] = {id, 0};
    if (b->d == 2)
        idx[0] = id / n, idx[1] = id % n;
    for (size_t k = 0; k < b->d; k++)
        x[k] = b->lo[k] + (b->hi[k] - b->lo[k]) * (double)idx[k] / (double)(n - 1);
}

/* Newton from x (d) to a minimum within `reach` of x: 1 with xr, else 0. */
static int refine_min(hj_landscape *L, double eps, const double *x, const double *lo,
                      const double *hi, double reach, double *xr)
{
    const size_t d = hj_landscape_dim(L);
    hj_crit_info info;
    if (hj_landscape_newton(L, eps, x, lo, hi, xr, NULL, NULL) != HJ_OK ||
        hj_landscape_classify(L, eps, xr, &info, NULL) != HJ_OK || info.index != 0 ||
        !(info.grad_rel <= 1e-8))
        return 0;
    double dd = 0.0;
    for (size_t k = 0; k < d; k++)
        dd += (xr[k] - x[k]) * (xr[k] - x[k]);
    return sqrt(dd) <= reach;
}

/* Go downhill from x (d) by a modified Newton descent on H (the Hessian's
 * eigenvalues replaced by their absolute values, floored; steps of at most
 * `step`, each decreasing H) until a minimum (1, refined into xr), the grid's
 * edge or H = 0 (0: outside), or no progress (-1). Used where the grid
 * descent stops at a node that is not near a minimum: a valley narrower
 * than a cell running between grid directions, where plain steepest descent
 * would zigzag. */
static int descend(hj_landscape *L, double eps, const double *x, const double *lo,
                   const double *hi, double step, double *xr)
{
    const size_t d = hj_landscape_dim(L);
    double cur[2], trial[2], grad[2], lam[2], V[4], p[2];
    memcpy(cur, x, d * sizeof *cur);
    for (int it = 0; it < 2000; it++) {
        double H, Ht;
        hj_landscape_eval(L, eps, cur, &H, grad, V, NULL, NULL);
        if (H == 0.0)
            return 0;
        hj__landscape_sym_eig(V, d, lam); /* closed form for d <= 2: cannot fail */
        double big = 0.0;
        for (size_t k = 0; k < d; k++)
            big = fmax(big, fabs(lam[k]));
        if (!(big > 0.0))
            return -1;
        int pd = 1;
        for (size_t k = 0; k < d; k++)
            pd &= lam[k] > 0.0;
        hj__landscape_abs_newton_step(V, lam, grad, d, 1e-8 * big, p);
        double len = 0.0;
        for (size_t k = 0; k < d; k++)
            len += p[k] * p[k];
        len = sqrt(len);
        if (pd && refine_min(L, eps, cur, lo, hi, 2.0 * step, xr))
            return 1;
        if (!(len > 0.0))
            return -1;
        if (len > step) {
            for (size_t k = 0; k < d; k++)
                p[k] *= step / len;
            len = step;
        }
        double slope = 0.0;
        for (size_t k = 0; k < d; k++)
            slope += grad[k] * p[k];
        double alpha = 1.0;
        for (;;) {
            int out = 0;
            for (size_t k = 0; k < d; k++) {
                trial[k] = cur[k] + alpha * p[k];
                if (!(trial[k] > lo[k] && trial[k] < hi[k]))
                    out = 1;
            }
            if (out)
                return 0;
            hj_landscape_eval(L, eps, trial, &Ht, NULL, NULL, NULL, NULL);
            if (Ht <= H + 1e-4 * alpha * slope && Ht < H)
                break;
            alpha *= 0.5;
            if (alpha * len < 1e-12 * step)
                return refine_min(L, eps, cur, lo, hi, 2.0 * step, xr) ? 1 : -1;
        }
        memcpy(cur, trial, d * sizeof *cur);
    }
    return -1;
}

hj_status hj_landscape_basins(hj_landscape *L, double eps, const double *lo, const double *hi,
                              size_t n, hj_basins *out, hj_error *err)
{
    if (L == NULL || lo == NULL || hi == NULL || out == NULL)
        return hj_error_set(err, HJ_EINVAL, "basins: NULL argument");
    memset(out, 0, sizeof *out);
    const size_t d = hj_landscape_dim(L);
    if (d != 1 && d != 2)
        return hj_error_set(err, HJ_EINVAL, "basins: only d = 1 or 2 (got d = %zu)", d);
    if (n < 3 || n > 20000)
        return hj_error_set(err, HJ_EINVAL, "basins: need 3 <= n <= 20000 nodes per side (got %zu)", n);
    if (!(eps > 0.0) || !isfinite(eps))
        return hj_error_set(err, HJ_EINVAL, "basins: eps must be finite and > 0 (got %g)", eps);
    for (size_t k = 0; k < d; k++)
        if (!(lo[k] < hi[k]) || !isfinite(lo[k]) || !isfinite(hi[k]))
            return hj_error_set(err, HJ_EINVAL, "basins: grid side %zu is empty or not finite", k + 1);
    out->d = d, out->n = n;
    for (size_t k = 0; k < d; k++)
        out->lo[k] = lo[k], out->hi[k] = hi[k];
    const size_t nodes = d == 1 ? n : n * n;
    out->H = malloc(nodes * sizeof *out->H);
    out->label = malloc(nodes * sizeof *out->label);
    long *next = malloc(nodes * sizeof *next);
    size_t *stack = malloc(nodes * sizeof *stack);
    double x[2], xr[2];
    hj_status st = HJ_OK;
    if (!out->H || !out->label || !next || !stack) {
        st = hj_error_set(err, HJ_ENOMEM, "basins: out of memory");
        goto done;
    }
    for (size_t id = 0; id < nodes; id++) {
        node_x(out, id, x);
        if ((st = hj_landscape_eval(L, eps, x, &out->H[id], NULL, NULL, NULL, err)) != HJ_OK)
            goto done;
    }
    double hstep[2] = {0.0, 0.0}, cell = 0.0;
    for (size_t k = 0; k < d; k++) {
        hstep[k] = (hi[k] - lo[k]) / (double)(n - 1);
        cell = fmax(cell, hstep[k]);
    }
    /* steepest strict descent to a neighbour */
    for (size_t id = 0; id < nodes; id++) {
        long best = -1;
        double slope = 0.0;
        long i = d == 2 ? (long)(id / n) : (long)id, j = d == 2 ? (long)(id % n) : 0;
        for (long di = -1; di <= 1; di++)
            for (long dj = (d == 2 ? -1 : 0); dj <= (d == 2 ? 1 : 0); dj++) {
                if (di == 0 && dj == 0)
                    continue;
                long a = i + di, b = j + dj;
                if (a < 0 || a >= (long)n || b < 0 || (d == 2 && b >= (long)n))
                    continue;
                size_t nb = d == 2 ? (size_t)a * n + (size_t)b : (size_t)a;
                double len = sqrt((double)(di * di) * hstep[0] * hstep[0] +
                                  (double)(dj * dj) * hstep[1] * hstep[1]);
                double sl = (out->H[id] - out->H[nb]) / len;
                if (out->H[nb] < out->H[id] && sl > slope)
                    slope = sl, best = (long)nb;
            }
        next[id] = best;
    }
    /* sinks: outside (edge or underflowed H), refined minima, unresolved */
    for (size_t id = 0; id < nodes; id++)
        out->label[id] = -1;
    double diam = 0.0;
    for (size_t k = 0; k < d; k++)
        diam += (hi[k] - lo[k]) * (hi[k] - lo[k]);
    diam = sqrt(diam);
    size_t cap = 0;
    for (size_t id = 0; id < nodes; id++) {
        if (next[id] >= 0)
            continue;
        size_t i = d == 2 ? id / n : id, j = d == 2 ? id % n : 1;
        int edge = i == 0 || i == n - 1 || (d == 2 && (j == 0 || j == n - 1));
        if (edge || out->H[id] == 0.0) {
            out->label[id] = 0;
            out->outside = 1;
            continue;
        }
        node_x(out, id, x);
        int kind = refine_min(L, eps, x, lo, hi, 2.0 * cell * sqrt((double)d), xr) ? 1 : 2;
        if (kind == 2)
            kind = descend(L, eps, x, lo, hi, 0.5 * cell, xr);
        if (kind == 0) {
            out->label[id] = 0;
            out->outside = 1;
            continue;
        }
        if (kind < 0) {
            out->label[id] = -2; /* unresolved, numbered below */
            continue;
        }
        size_t m;
        for (m = 0; m < out->n_minima; m++) {
            double dd = 0.0;
            for (size_t k = 0; k < d; k++)
                dd += (out->minima[m * d + k] - xr[k]) * (out->minima[m * d + k] - xr[k]);
            if (sqrt(dd) <= 1e-7 * diam)
                break;
        }
        if (m == out->n_minima) {
            if (out->n_minima == cap) {
                cap = cap ? 2 * cap : 32;
                double *nm = realloc(out->minima, cap * d * sizeof *nm);
                if (nm == NULL) {
                    st = hj_error_set(err, HJ_ENOMEM, "basins: out of memory");
                    goto done;
                }
                out->minima = nm;
            }
            memcpy(out->minima + m * d, xr, d * sizeof *xr);
            out->n_minima++;
        }
        out->label[id] = (int)(m + 1);
    }
    for (size_t id = 0; id < nodes; id++)
        if (out->label[id] == -2)
            out->label[id] = (int)(out->n_minima + 1 + out->n_unresolved++);
    /* every node takes its sink's label (descent paths are acyclic) */
    for (size_t id = 0; id < nodes; id++) {
        size_t top = 0, cur = id;
        while (out->label[cur] == -1) {
            stack[top++] = cur;
            cur = (size_t)next[cur];
        }
        int lab = out->label[cur];
        while (top > 0)
            out->label[stack[--top]] = lab;
    }
    out->n_basins = out->n_minima + out->n_unresolved + (size_t)out->outside;
done:
    free(next), free(stack);
    if (st != HJ_OK)
        hj_basins_free(out);
    return st;
}
