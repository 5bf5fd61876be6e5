/* infconv.c — Hopf–Lax propagator by direct numerical minimisation (grid scan + local golden-section refinement). */
#include "hjdl/pde.h"
#include "hjdl/vec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pde/pde-impl.h"

/*
 * For each x: F(y) = phi(y) + |x - y|^2/(4s) is evaluated on every node of
 * Q; the (up to) HJ_INFCONV_CANDIDATES lowest discrete local minima (no
 * axis neighbour lower) are refined locally inside the closed box, and the
 * lowest value found is returned.
 *
 * Refinement = sweeps of exact-ish line minimisations by golden section,
 * each on a segment y + s*dir, |s| <= r, clipped to the box:
 *   1-D: dir = e0;
 *   2-D: dir = e0, e1, then (x - y)/|x - y| (the pull of the quadratic
 *        term: it escapes the convex point-kinks — e.g. phi = |y| at 0 —
 *        where coordinate search alone stalls), then the sweep's net step
 *        (a Powell/pattern direction, which speeds up narrow valleys).
 * r starts at the grid spacing and is then 4x the last sweep's step (so it
 * grows when a search ends on its bracket). Sweeps stop when one brings no
 * decrease (or after HJ_INFCONV_MAX_SWEEPS). Golden section runs down to a
 * bracket of ~1e-15 of the box scale, so F is resolved to ~1e-15 relative
 * even at a kink.
 *
 * Every value returned is F at a point of the box, so it is an upper bound
 * of the true minimum; it is the minimum itself (to rounding) when F is
 * unimodal around the best candidates, the case for convex phi and for
 * the piecewise-quadratic Hopf–Lax data used in the semigroup checks.
 */

#define HJ_INFCONV_CANDIDATES 4
#define HJ_INFCONV_MAX_SWEEPS 200
#define HJ_INFCONV_MAX_GOLDEN 400

typedef struct objective {
    hj_scalar_fn phi;
    void *ctx;
    const hj_grid *Q;
    const double *x; /* (d) */
    size_t d;
    double inv4s;
    double tol;      /* golden-section bracket length at which to stop */
    int bad;         /* phi returned NaN or -inf off the nodes */
    double bad_y[2];
    double bad_v;
} objective;

static double objective_eval(objective *o, const double *y)
{
    double v = o->phi(y, o->d, o->ctx);
    if (isnan(v) || v == -INFINITY) {
        if (!o->bad) {
            o->bad = 1;
            o->bad_v = v;
            o->bad_y[0] = y[0];
            o->bad_y[1] = o->d == 2 ? y[1] : 0.0;
        }
        return INFINITY;
    }
    double r2 = 0.0;
    for (size_t k = 0; k < o->d; k++)
        r2 += (o->x[k] - y[k]) * (o->x[k] - y[k]);
    return v + r2 * o->inv4s;
}

/* F at y + s*dir (point written to tmp (d)). */
static double eval_along(objective *o, const double *y, const double *dir, double s,
                         double *tmp)
{
    for (size_t k = 0; k < o->d; k++)
        tmp[k] = y[k] + s * dir[k];
    /* clip rounding excursions: the box is closed */
    for (size_t k = 0; k < o->d; k++) {
        if (tmp[k] < o->Q->lo[k])
            tmp[k] = o->Q->lo[k];
        if (tmp[k] > o->Q->hi[k])
            tmp[k] = o->Q->hi[k];
    }
    return objective_eval(o, tmp);
}

/* Minimise F along y + s*dir (dir a unit vector), |s| <= r, inside the
 * box, by golden section; move y (d) there and update *fy if F decreases.
 * Returns the length of the move (0 when none). */
static double line_min(objective *o, double *y, double *fy, const double *dir, double r)
{
    const size_t d = o->d;
    double smin = -r, smax = r;
    for (size_t k = 0; k < d; k++) {
        if (dir[k] > 0.0) {
            smin = fmax(smin, (o->Q->lo[k] - y[k]) / dir[k]);
            smax = fmin(smax, (o->Q->hi[k] - y[k]) / dir[k]);
        } else if (dir[k] < 0.0) {
            smin = fmax(smin, (o->Q->hi[k] - y[k]) / dir[k]);
            smax = fmin(smax, (o->Q->lo[k] - y[k]) / dir[k]);
        }
    }
    if (!(smax > smin))
        return 0.0;
    const double gr = 0.6180339887498949; /* (sqrt 5 - 1)/2 */
    double tmp[2];
    double a = smin, b = smax;
    double c = b - gr * (b - a), e = a + gr * (b - a);
    double fc = eval_along(o, y, dir, c, tmp), fe = eval_along(o, y, dir, e, tmp);
    for (int it = 0; it < HJ_INFCONV_MAX_GOLDEN && b - a > o->tol; it++) {
        if (fc <= fe) {
            b = e;
            e = c;
            fe = fc;
            c = b - gr * (b - a);
            fc = eval_along(o, y, dir, c, tmp);
        } else {
            a = c;
            c = e;
            fc = fe;
            e = a + gr * (b - a);
            fe = eval_along(o, y, dir, e, tmp);
        }
    }
    /* best of the two interior probes and the final bracket ends (the
     * minimum may sit on the box or on |s| = r) */
    double sb = c, fb = fc;
    if (fe < fb) {
        sb = e;
        fb = fe;
    }
    double fa = eval_along(o, y, dir, a, tmp), fbb = eval_along(o, y, dir, b, tmp);
    if (fa < fb) {
        sb = a;
        fb = fa;
    }
    if (fbb < fb) {
        sb = b;
        fb = fbb;
    }
    if (!(fb < *fy))
        return 0.0;
    for (size_t k = 0; k < d; k++) {
        y[k] += sb * dir[k];
        if (y[k] < o->Q->lo[k])
            y[k] = o->Q->lo[k];
        if (y[k] > o->Q->hi[k])
            y[k] = o->Q->hi[k];
    }
    *fy = fb;
    return fabs(sb);
}

/* Refine a candidate y (d) with value fy by sweeps of line searches (see the
 * comment at the top); returns the final value. */
static double refine(objective *o, double *y, double fy, double r0)
{
    const size_t d = o->d;
    double r = r0;
    for (int sweep = 0; sweep < HJ_INFCONV_MAX_SWEEPS; sweep++) {
        double ys[2] = {y[0], d == 2 ? y[1] : 0.0};
        double fs = fy;
        for (size_t k = 0; k < d; k++) {
            double dir[2] = {0.0, 0.0};
            dir[k] = 1.0;
            line_min(o, y, &fy, dir, r);
        }
        if (d == 2) {
            double len = hj_vec_dist(o->x, y, d);
            if (len > 0.0) {
                double dir[2] = {(o->x[0] - y[0]) / len, (o->x[1] - y[1]) / len};
                line_min(o, y, &fy, dir, r);
            }
            len = hj_vec_dist(y, ys, d);
            if (len > 0.0) {
                double dir[2] = {(y[0] - ys[0]) / len, (y[1] - ys[1]) / len};
                line_min(o, y, &fy, dir, fmax(r, 2.0 * len));
            }
        }
        if (!(fy < fs))
            break;
        r = fmax(4.0 * hj_vec_dist(y, ys, d), 64.0 * o->tol);
    }
    return fy;
}

/* Hopf–Lax propagator by numerical minimisation (see pde.h and the method
 * comment above): out_i = min over y in Q's box of phi(y) + |x_i - y|^2/(4s).
 * s > 0 finite; phi finite on Q's nodes (off the nodes +inf is allowed and
 * never chosen; NaN or -inf is HJ_ENAN); x (n, d) finite, n >= 1; out (n).
 * HJ_ENOMEM if the node values (2N doubles) cannot be allocated. */
hj_status hj_pde_inf_convolution(const hj_grid *Q, hj_scalar_fn phi, void *ctx,
                                 const double *x, size_t n, double s,
                                 double *out, hj_error *err)
{
    hj_status st = hj__pde_check_grid(Q, "quadrature grid Q", err);
    if (st != HJ_OK)
        return st;
    if (phi == NULL)
        return hj_error_set(err, HJ_EINVAL, "inf-convolution: function phi is NULL");
    if (out == NULL)
        return hj_error_set(err, HJ_EINVAL, "inf-convolution: output buffer out is NULL");
    if (!isfinite(s) || !(s > 0.0))
        return hj_error_set(err, HJ_EINVAL,
                            "inf-convolution: time s must be finite and > 0 (got %g)", s);
    const size_t d = Q->d;
    if ((st = hj__pde_check_points(x, n, d, err)) != HJ_OK)
        return st;

    const size_t N = hj_grid_size(Q), n0 = Q->n[0];
    double *buf = malloc(2 * N * sizeof *buf);
    if (buf == NULL)
        return hj_error_set(err, HJ_ENOMEM, "inf-convolution: cannot allocate %zu doubles",
                            2 * N);
    double *ph = buf;    /* (N) phi at the nodes */
    double *v = buf + N; /* (N) F at the nodes for one x */
    if ((st = hj__pde_sample(Q, phi, ctx, "phi", ph, err)) != HJ_OK) {
        free(buf);
        return st;
    }

    double scale = 0.0, r0 = 0.0;
    for (size_t k = 0; k < d; k++) {
        scale = fmax(scale, fmax(fabs(Q->lo[k]), fabs(Q->hi[k])));
        r0 = fmax(r0, hj__pde_spacing(Q, k));
    }
    objective o = {phi, ctx, Q, NULL, d, 1.0 / (4.0 * s), 4e-16 * scale, 0, {0.0, 0.0}, 0.0};

    for (size_t i = 0; i < n; i++) {
        const double *xi = x + i * d;
        o.x = xi;
        double y[2];
        for (size_t j = 0; j < N; j++) {
            hj_grid_point(Q, j, y);
            double r2 = 0.0;
            for (size_t k = 0; k < d; k++)
                r2 += (xi[k] - y[k]) * (xi[k] - y[k]);
            v[j] = ph[j] + r2 * o.inv4s;
        }
        /* the lowest discrete local minima, sorted ascending */
        size_t cand[HJ_INFCONV_CANDIDATES];
        size_t ncand = 0;
        for (size_t j = 0; j < N; j++) {
            size_t i0 = j % n0, i1 = j / n0;
            double vj = v[j];
            if ((i0 > 0 && v[j - 1] < vj) || (i0 + 1 < n0 && v[j + 1] < vj))
                continue;
            if (d == 2 && ((i1 > 0 && v[j - n0] < vj) || (i1 + 1 < Q->n[1] && v[j + n0] < vj)))
                continue;
            if (ncand == HJ_INFCONV_CANDIDATES && !(vj < v[cand[ncand - 1]]))
                continue;
            size_t pos = ncand < HJ_INFCONV_CANDIDATES ? ncand++ : ncand - 1;
            while (pos > 0 && v[cand[pos - 1]] > vj) {
                cand[pos] = cand[pos - 1];
                pos--;
            }
            cand[pos] = j;
        }
        double best = INFINITY;
        for (size_t c = 0; c < ncand; c++) {
            hj_grid_point(Q, cand[c], y);
            double f = refine(&o, y, v[cand[c]], r0);
            if (f < best)
                best = f;
        }
        if (o.bad) {
            free(buf);
            if (d == 1)
                return hj_error_set(err, HJ_ENAN, "phi(%g) = %g during refinement for x[%zu]",
                                    o.bad_y[0], o.bad_v, i);
            return hj_error_set(err, HJ_ENAN, "phi(%g, %g) = %g during refinement for x[%zu]",
                                o.bad_y[0], o.bad_y[1], o.bad_v, i);
        }
        out[i] = best;
    }
    free(buf);
    return HJ_OK;
}
