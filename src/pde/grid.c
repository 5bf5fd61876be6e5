/* grid.c — uniform 1-D / 2-D grids: validation, node coordinates, (bi)linear interpolation. */
#include "hjdl/pde.h"

#include <math.h>
#include <stdint.h>

#include "pde/pde-impl.h"

/* Largest node count accepted per grid: keeps the solvers' scratch sizes
 * (a few arrays of n doubles) far from size_t overflow. */
#define HJ_PDE_MAX_NODES (SIZE_MAX / (16 * sizeof(double)))

/* Check G: d in {1, 2}; n[k] >= 3; lo, hi finite with hi > lo and a finite
 * positive spacing; total node count not absurdly large. HJ_EINVAL (or
 * HJ_ENAN for non-finite corners) with a message otherwise. */
hj_status hj_grid_check(const hj_grid *G, hj_error *err)
{
    if (G == NULL)
        return hj_error_set(err, HJ_EINVAL, "grid is NULL");
    if (G->d != 1 && G->d != 2)
        return hj_error_set(err, HJ_EINVAL, "grid dimension d must be 1 or 2 (got %zu)", G->d);
    size_t total = 1;
    for (size_t k = 0; k < G->d; k++) {
        if (G->n[k] < 3)
            return hj_error_set(err, HJ_EINVAL,
                                "grid axis %zu needs at least 3 nodes (got n = %zu)", k, G->n[k]);
        if (!isfinite(G->lo[k]) || !isfinite(G->hi[k]))
            return hj_error_set(err, HJ_ENAN, "grid axis %zu has a non-finite bound [%g, %g]",
                                k, G->lo[k], G->hi[k]);
        if (!(G->hi[k] > G->lo[k]))
            return hj_error_set(err, HJ_EINVAL,
                                "grid axis %zu needs hi > lo (got lo = %g, hi = %g)",
                                k, G->lo[k], G->hi[k]);
        double h = (G->hi[k] - G->lo[k]) / (double)(G->n[k] - 1);
        if (!isfinite(h) || !(h > 0.0))
            return hj_error_set(err, HJ_EINVAL,
                                "grid axis %zu has an unusable spacing h = %g", k, h);
        if (G->n[k] > HJ_PDE_MAX_NODES / total)
            return hj_error_set(err, HJ_EINVAL, "grid has too many nodes (limit %zu)",
                                HJ_PDE_MAX_NODES);
        total *= G->n[k];
    }
    return HJ_OK;
}

/* Number of nodes n[0] (d = 1) or n[0]*n[1] (d = 2); 0 for a NULL grid or a
 * dimension other than 1 or 2. Call hj_grid_check first. */
size_t hj_grid_size(const hj_grid *G)
{
    if (G == NULL)
        return 0;
    if (G->d == 1)
        return G->n[0];
    if (G->d == 2)
        return G->n[0] * G->n[1];
    return 0;
}

double hj__pde_spacing(const hj_grid *G, size_t axis)
{
    return (G->hi[axis] - G->lo[axis]) / (double)(G->n[axis] - 1);
}

double hj__pde_coord(const hj_grid *G, size_t axis, size_t i)
{
    if (i + 1 >= G->n[axis])
        return G->hi[axis];
    return G->lo[axis] + (double)i * hj__pde_spacing(G, axis);
}

/* Coordinates x (d) of node idx = i0 + n[0]*i1 of a checked grid G. The last
 * node of each axis sits exactly on hi. */
void hj_grid_point(const hj_grid *G, size_t idx, double *x)
{
    if (G->d == 1) {
        x[0] = hj__pde_coord(G, 0, idx);
    } else {
        x[0] = hj__pde_coord(G, 0, idx % G->n[0]);
        x[1] = hj__pde_coord(G, 1, idx / G->n[0]);
    }
}

double hj__pde_trap_weight(const hj_grid *G, size_t idx)
{
    size_t i[2] = {idx, 0};
    if (G->d == 2) {
        i[0] = idx % G->n[0];
        i[1] = idx / G->n[0];
    }
    double w = 1.0;
    for (size_t k = 0; k < G->d; k++) {
        double wk = hj__pde_spacing(G, k);
        if (i[k] == 0 || i[k] + 1 == G->n[k])
            wk *= 0.5;
        w *= wk;
    }
    return w;
}

hj_status hj__pde_check_grid(const hj_grid *G, const char *what, hj_error *err)
{
    hj_status st = hj_grid_check(G, err);
    if (st != HJ_OK)
        hj_error_prefix(err, "%s: ", what);
    return st;
}

hj_status hj__pde_sample(const hj_grid *G, hj_scalar_fn fn, void *ctx,
                         const char *what, double *vals, hj_error *err)
{
    const size_t N = hj_grid_size(G);
    double y[2];
    for (size_t j = 0; j < N; j++) {
        hj_grid_point(G, j, y);
        vals[j] = fn(y, G->d, ctx);
        if (!isfinite(vals[j])) {
            if (G->d == 1)
                return hj_error_set(err, HJ_ENAN, "%s(%g) = %g is not finite (node %zu)",
                                    what, y[0], vals[j], j);
            return hj_error_set(err, HJ_ENAN, "%s(%g, %g) = %g is not finite (node %zu)",
                                what, y[0], y[1], vals[j], j);
        }
    }
    return HJ_OK;
}

hj_status hj__pde_check_points(const double *x, size_t n, size_t d, hj_error *err)
{
    if (n == 0)
        return hj_error_set(err, HJ_EINVAL, "no query points (n = 0)");
    if (x == NULL)
        return hj_error_set(err, HJ_EINVAL, "query points x are NULL");
    for (size_t i = 0; i < n * d; i++)
        if (!isfinite(x[i]))
            return hj_error_set(err, HJ_ENAN, "query point x[%zu][%zu] = %g is not finite",
                                i / d, i % d, x[i]);
    return HJ_OK;
}

/* Locate coordinate v on axis k: cell index i in [0, n-2] and fraction
 * s in [0, 1] with v = coord(i) + s*h. v must lie in [lo, hi]. */
static void locate(const hj_grid *G, size_t k, double v, size_t *i, double *s)
{
    const double h = hj__pde_spacing(G, k);
    double r = (v - G->lo[k]) / h;
    size_t c = r <= 0.0 ? 0 : (size_t)r;
    if (c > G->n[k] - 2)
        c = G->n[k] - 2;
    double f = r - (double)c;
    if (f < 0.0)
        f = 0.0;
    if (f > 1.0)
        f = 1.0;
    *i = c;
    *s = f;
}

/* Linear (d = 1) / bilinear (d = 2) interpolation of values (grid size) at
 * x (d). x must lie in the closed box (HJ_EDOM otherwise, HJ_ENAN if not
 * finite). Grid values are not validated: +inf values (e.g. underflowed
 * viscous solutions) propagate, but a node whose interpolation weight is
 * exactly 0 never contributes, so exact node hits stay finite. */
hj_status hj_grid_interp(const hj_grid *G, const double *values, const double *x,
                         double *out, hj_error *err)
{
    hj_status st = hj_grid_check(G, err);
    if (st != HJ_OK)
        return st;
    if (values == NULL || x == NULL || out == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_grid_interp: values, x or out is NULL");
    size_t i[2] = {0, 0};
    double s[2] = {0.0, 0.0};
    for (size_t k = 0; k < G->d; k++) {
        if (!isfinite(x[k]))
            return hj_error_set(err, HJ_ENAN, "interpolation point x[%zu] = %g is not finite",
                                k, x[k]);
        if (x[k] < G->lo[k] || x[k] > G->hi[k])
            return hj_error_set(err, HJ_EDOM,
                                "interpolation point x[%zu] = %g lies outside the box [%g, %g]",
                                k, x[k], G->lo[k], G->hi[k]);
        locate(G, k, x[k], &i[k], &s[k]);
    }
    double acc = 0.0;
    if (G->d == 1) {
        if (s[0] < 1.0)
            acc += (1.0 - s[0]) * values[i[0]];
        if (s[0] > 0.0)
            acc += s[0] * values[i[0] + 1];
    } else {
        const size_t n0 = G->n[0];
        for (size_t b = 0; b < 2; b++) {
            double wb = b ? s[1] : 1.0 - s[1];
            if (wb == 0.0)
                continue;
            for (size_t a = 0; a < 2; a++) {
                double wa = a ? s[0] : 1.0 - s[0];
                if (wa == 0.0)
                    continue;
                acc += wa * wb * values[(i[0] + a) + n0 * (i[1] + b)];
            }
        }
    }
    *out = acc;
    return HJ_OK;
}
