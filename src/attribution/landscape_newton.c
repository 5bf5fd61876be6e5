/* landscape_newton.c — Newton on grad H = 0 in a box, and descent / ascent to the minima and maxima of H. */
#include "hjdl/landscape.h"
#include "attribution/landscape-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "hjdl/vec.h"

/* ---- Newton --------------------------------------------------------------------- */


int hj__landscape_inside(const double *x, const double *lo, const double *hi, size_t d)
{
    if (lo == NULL || hi == NULL)
        return 1;
    for (size_t k = 0; k < d; k++)
        if (!(x[k] >= lo[k] && x[k] <= hi[k]))
            return 0;
    return 1;
}

hj_status hj_landscape_newton(hj_landscape *L, double eps, const double *x0, const double *lo,
                              const double *hi, double *x, size_t *iters, hj_error *err)
{
    hj_status st = hj__landscape_check_point(L, eps, x0, err);
    if (st != HJ_OK)
        return st;
    if (x == NULL)
        return hj_error_set(err, HJ_EINVAL, "landscape: NULL output point");
    const size_t d = L->d;
    double diam = 0.0;
    if (lo && hi) {
        for (size_t k = 0; k < d; k++)
            diam += (hi[k] - lo[k]) * (hi[k] - lo[k]);
    } else {
        /* the default domain (pad 0.5): each side widened by the longest side */
        const double side = hj__landscape_box_side(L);
        for (size_t k = 0; k < d; k++) {
            double e = L->box_hi[k] - L->box_lo[k] + side;
            diam += e * e;
        }
    }
    diam = sqrt(diam);
    if (!(diam > 0.0))
        diam = 1.0;
    const double xtol = 1e-11 * diam, maxstep = 0.25 * diam;
    double *mem = malloc((5 * d + 2 * d * d) * sizeof *mem);
    if (mem == NULL)
        return hj_error_set(err, HJ_ENOMEM, "landscape: out of memory");
    double *F = mem, *dx = mem + d, *xt = mem + 2 * d, *Ft = mem + 3 * d, *rhs = mem + 4 * d;
    double *J = mem + 5 * d, *A = J + d * d;
    memcpy(x, x0, d * sizeof *x);
    st = HJ_EMAXITER;
    size_t it = 0;
    for (it = 0; it < 100; it++) {
        double scale = hj__landscape_residual(L, eps, x, NULL, F, J, NULL);
        double phi = hj_vec_norm(F, d);
        if (!(scale > 0.0) || !isfinite(scale)) {
            st = hj_error_set(err, HJ_EMAXITER, "landscape: Newton reached a flat region");
            break;
        }
        /* Newton step J dx = -F; Levenberg–Marquardt when J is singular */
        memcpy(A, J, d * d * sizeof *A);
        for (size_t k = 0; k < d; k++)
            dx[k] = -F[k];
        int lm = 0;
        if (hj__landscape_lu_solve(A, dx, d, 1e-13 * scale) != 0) {
            double mu = 1e-8 * scale * scale;
            lm = 1;
            for (size_t a = 0; a < d; a++) {
                rhs[a] = 0.0;
                for (size_t b = 0; b < d; b++) {
                    double s = 0.0;
                    for (size_t c = 0; c < d; c++)
                        s += J[c * d + a] * J[c * d + b];
                    A[a * d + b] = s + (a == b ? mu : 0.0);
                }
                for (size_t c = 0; c < d; c++)
                    rhs[a] -= J[c * d + a] * F[c];
            }
            memcpy(dx, rhs, d * sizeof *dx);
            if (hj__landscape_lu_solve(A, dx, d, 0.0) != 0) {
                st = hj_error_set(err, HJ_EMAXITER, "landscape: singular Newton system");
                break;
            }
        }
        double len = hj_vec_norm(dx, d);
        if (!isfinite(len)) {
            st = hj_error_set(err, HJ_EMAXITER, "landscape: Newton step is not finite");
            break;
        }
        if (len > maxstep) {
            for (size_t k = 0; k < d; k++)
                dx[k] *= maxstep / len;
            len = maxstep;
        }
        /* converged when the full Newton step is negligible: take it and stop
         * (a small Levenberg–Marquardt step proves nothing: J is singular) */
        if (len <= xtol && lm) {
            st = hj_error_set(err, HJ_EMAXITER, "landscape: Newton stalled at a singular Hessian");
            break;
        }
        if (len <= xtol) {
            for (size_t k = 0; k < d; k++)
                xt[k] = x[k] + dx[k];
            if (hj__landscape_inside(xt, lo, hi, d))
                memcpy(x, xt, d * sizeof *x);
            st = HJ_OK;
            it++;
            break;
        }
        /* backtracking on |F| */
        double alpha = 1.0;
        int accepted = 0, outside = 0;
        for (int ls = 0; ls < 40; ls++) {
            for (size_t k = 0; k < d; k++)
                xt[k] = x[k] + alpha * dx[k];
            if (!hj__landscape_inside(xt, lo, hi, d)) {
                outside = 1;
                alpha *= 0.5;
                if (alpha < 1.0 / 1024.0)
                    break;
                continue;
            }
            hj__landscape_residual(L, eps, xt, NULL, Ft, NULL, NULL);
            double phit = hj_vec_norm(Ft, d);
            if (phit <= (1.0 - 1e-4 * alpha) * phi) {
                accepted = 1;
                break;
            }
            alpha *= 0.5;
            if (len * alpha < 1e-3 * xtol)
                break;
        }
        if (!accepted) {
            if (outside) {
                st = hj_error_set(err, HJ_EDOM, "landscape: Newton left the domain");
                break;
            }
            /* no decrease possible: rounding level when the full step is already tiny */
            if (len <= xtol * 100.0 && !lm) {
                st = HJ_OK;
                break;
            }
            st = hj_error_set(err, HJ_EMAXITER, "landscape: Newton line search failed");
            break;
        }
        memcpy(x, xt, d * sizeof *x);
    }
    if (st == HJ_EMAXITER && it >= 100)
        hj_error_set(err, HJ_EMAXITER, "landscape: Newton did not converge in 100 iterations");
    if (iters)
        *iters = it;
    free(mem);
    return st;
}

/* ---- descent to minima / ascent to maxima ------------------------------------- */

int hj__landscape_sym_eig(double *V, size_t d, double *lam)
{
    if (d == 1) {
        lam[0] = V[0], V[0] = 1.0;
        return 0;
    }
    if (d == 2) {
        double a = V[0], b = V[1], c = V[3];
        double tr = 0.5 * (a + c), df = 0.5 * (a - c), r = hypot(df, b);
        double th = 0.5 * atan2(b, df), cs = cos(th), sn = sin(th);
        lam[0] = tr - r, lam[1] = tr + r;
        V[0] = -sn, V[2] = cs; /* vector of lam[0] */
        V[1] = cs, V[3] = sn;  /* vector of lam[1] */
        return 0;
    }
    return LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)d, V, (lapack_int)d, lam) == 0
               ? 0 : -1;
}

void hj__landscape_abs_newton_step(const double *V, const double *lam, const double *g, size_t d,
                                   double lam_floor, double *p)
{
    for (size_t k = 0; k < d; k++)
        p[k] = 0.0;
    for (size_t i = 0; i < d; i++) {
        double gi = 0.0;
        for (size_t k = 0; k < d; k++)
            gi += V[k * d + i] * g[k];
        double li = fmax(fabs(lam[i]), lam_floor);
        for (size_t k = 0; k < d; k++)
            p[k] -= gi / li * V[k * d + i];
    }
}

/* 1 when x (d) classifies as a minimum (sign +1) or a maximum (sign -1)
 * with a vanishing gradient. */
static int is_extremum(hj_landscape *L, double eps, const double *x, double sign)
{
    hj_crit_info info;
    return hj_landscape_classify(L, eps, x, &info, NULL) == HJ_OK &&
           info.index == (sign > 0 ? 0 : (int)L->d) && info.grad_rel <= 1e-8;
}

/* Minimise sign * H (sign +1: to a minimum, -1: to a maximum) from x0 by a
 * modified Newton method: the Hessian's eigenvalues replaced by their
 * absolute values (floored at 1e-6 of the largest), steps of at most
 * maxstep, backtracking on sign * H. Converged when the Hessian of sign * H
 * is positive definite and the (then plain Newton) step is below
 * 1e-11 * diam; the point must then classify as a minimum (maximum) with a
 * vanishing gradient. 0 with x (d), or -1. Newton alone goes to whichever
 * critical point is near; this finds the minimum (maximum) whose basin
 * holds x0. mem: 5 d + d^2 doubles. */
int hj__landscape_descend(hj_landscape *L, double eps, const double *x0, const double *lo,
                   const double *hi, double sign, double maxstep, double diam, double *x,
                   double *mem)
{
    const size_t d = L->d;
    double *cur = mem, *g = mem + d, *p = mem + 2 * d, *xt = mem + 3 * d, *lam = mem + 4 * d;
    double *V = mem + 5 * d;
    const double xtol = 1e-11 * diam;
    double trust = maxstep; /* the last accepted step, doubled: where the search starts */
    memcpy(cur, x0, d * sizeof *cur);
    for (int it = 0; it < 200; it++) {
        double H, Ht;
        hj_landscape_eval(L, eps, cur, &H, g, V, NULL, NULL);
        if (H == 0.0)
            return -1; /* underflow: the flat far field */
        for (size_t k = 0; k < d; k++)
            g[k] *= sign;
        for (size_t k = 0; k < d * d; k++)
            V[k] *= sign;
        if (hj__landscape_sym_eig(V, d, lam) != 0)
            return -1;
        double big = 0.0;
        int pd = 1;
        for (size_t k = 0; k < d; k++) {
            big = fmax(big, fabs(lam[k]));
            pd &= lam[k] > 1e-10 * big;
        }
        if (!(big > 0.0) || !isfinite(big))
            return -1;
        hj__landscape_abs_newton_step(V, lam, g, d, 1e-6 * big, p);
        double len = hj_vec_norm(p, d), slope = 0.0;
        if (!isfinite(len))
            return -1;
        if (pd && len <= xtol) {
            for (size_t k = 0; k < d; k++)
                x[k] = cur[k] + p[k];
            return is_extremum(L, eps, x, sign) ? 0 : -1;
        }
        if (len > trust) {
            for (size_t k = 0; k < d; k++)
                p[k] *= trust / len;
            len = trust;
        }
        for (size_t k = 0; k < d; k++)
            slope += g[k] * p[k];
        double alpha = 1.0;
        int ok = 0;
        for (int ls = 0; ls < 40; ls++, alpha *= 0.5) {
            for (size_t k = 0; k < d; k++)
                xt[k] = cur[k] + alpha * p[k];
            if (!hj__landscape_inside(xt, lo, hi, d))
                return -1;
            hj_landscape_eval(L, eps, xt, &Ht, NULL, NULL, NULL, NULL);
            if (sign * Ht <= sign * H + 1e-4 * alpha * slope) {
                ok = 1;
                break;
            }
        }
        if (!ok) {
            /* rounding level near a minimum: let Newton finish */
            return pd && hj_landscape_newton(L, eps, cur, lo, hi, x, NULL, NULL) == HJ_OK &&
                           is_extremum(L, eps, x, sign)
                       ? 0 : -1;
        }
        memcpy(cur, xt, d * sizeof *cur);
        trust = fmin(maxstep, 2.0 * alpha * len);
    }
    return -1;
}

