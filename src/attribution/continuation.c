/* continuation.c — branches of critical points of H(x; eps) followed in eps by pseudo-arclength continuation; fold detection and refinement. */
#include "hjdl/landscape.h"
#include "attribution/landscape-impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/data.h"
#include "hjdl/vec.h"
#include "io/io.h"

/*
 * The branch equation is F(X) = eps grad_x H(x; eps) = 0 for X = (x, s),
 * s = log eps, a curve in R^{d+1}. With J = eps hess H and
 * F_s = d F/ds = eps (grad H + eps d/deps grad H), its Jacobian is
 * A = [J | F_s] (d, d+1); the tangent tau spans the null space of A and is
 * found from the bordered system [A; tau_prev^T] tau = e_{d+1}, which keeps
 * the orientation (tau . tau_prev > 0).
 *
 * One step: predictor X + h tau, then Newton on {F(Y) = 0, tau.(Y - X - h tau) = 0}.
 * The step is refused (and h halved) when the corrector does not converge
 * in 10 iterations or diverges, when it moves further than h, or when the
 * tangent turns by more than about 16 degrees; it grows by 1.4 (up to h_max)
 * after an easy step.
 *
 * A fold lies between two accepted points whose tangents have s-components
 * of opposite sign. It is refined by Newton on the extended system in
 * (x, s, v) (2d+1 unknowns):
 *   F(x, s) = 0,  J(x, s) v = 0,  v0 . v = 1,
 * whose Jacobian needs the third derivatives of H
 * (hj_landscape_hessvec_deriv): d/dx (J v) = eps d/dx(hess H v),
 * d/ds (J v) = eps (hess H v) + eps^2 d/deps (hess H v). At a regular
 * (quadratic) fold this system is nonsingular, so Newton converges
 * quadratically to rounding level. Fallback: bisection along the chord on
 * the sign of the tangent's s-component.
 */

#define COS_MAX_TURN 0.96   /* refuse steps that turn the tangent by more than ~16 degrees */
#define MAX_CORR_IT 10
#define FOLD_LAM_TOL 1e-6   /* |smallest eigenvalue| / scale at an accepted fold */

typedef struct pt {
    double *X;    /* (d+1): x then s */
    double *tau;  /* (d+1) */
} pt;

typedef struct ctx {
    hj_landscape *L;
    size_t d;
    double s_lo, s_hi;
    double *lo, *hi;
    double diam;
    double h_max, h_min;
    size_t max_steps;
    hj_bifurcation *out;
    hj_error *err;
    /* scratch */
    double *grad, *hess, *geps; /* d, d*d, d */
    double *M, *rhs;            /* (2d+1)^2, 2d+1 */
    double *F, *A;              /* d, d*(d+1) */
    double *Y, *dY, *Xp, *tn;   /* d+1 each */
    double *hv, *dx, *de;       /* d, d*d, d */
} ctx;

/* ---- small linear algebra ---- */

/* Row-equilibrated Gaussian elimination: the border rows of the extended
 * systems are O(1) while F and its derivatives can be exponentially small
 * far from the atoms, so each row is scaled by its largest entry first. */
static int lu_solve(double *A, double *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double big = 0.0;
        for (size_t j = 0; j < n; j++)
            big = fmax(big, fabs(A[i * n + j]));
        if (!(big > 0.0) || !isfinite(big))
            return -1;
        for (size_t j = 0; j < n; j++)
            A[i * n + j] /= big;
        b[i] /= big;
    }
    return hj__landscape_lu_solve(A, b, n, 1e-15);
}

static int in_box(const ctx *c, const double *x)
{
    for (size_t k = 0; k < c->d; k++)
        if (!(x[k] >= c->lo[k] && x[k] <= c->hi[k]))
            return 0;
    return 1;
}

/* ---- the branch equation ------------------------------------------------------ */

/* F (d) and A = [J | F_s] (d, d+1) at X = (x, s). */
static void feval(ctx *c, const double *X)
{
    const size_t d = c->d;
    const double eps = exp(X[d]);
    hj_landscape_eval(c->L, eps, X, NULL, c->grad, c->hess, c->geps, NULL);
    for (size_t a = 0; a < d; a++) {
        c->F[a] = eps * c->grad[a];
        for (size_t b = 0; b < d; b++)
            c->A[a * (d + 1) + b] = eps * c->hess[a * d + b];
        c->A[a * (d + 1) + d] = eps * (c->grad[a] + eps * c->geps[a]);
    }
}

/* Unit tangent at X oriented along ref (d+1) into tau. Returns 0 or -1. */
static int tangent(ctx *c, const double *X, const double *ref, double *tau)
{
    const size_t n = c->d + 1;
    feval(c, X);
    for (size_t a = 0; a < c->d; a++)
        for (size_t b = 0; b < n; b++)
            c->M[a * n + b] = c->A[a * n + b];
    for (size_t b = 0; b < n; b++)
        c->M[c->d * n + b] = ref[b];
    for (size_t a = 0; a < n; a++)
        tau[a] = a == c->d ? 1.0 : 0.0;
    if (lu_solve(c->M, tau, n) != 0)
        return -1;
    double len = hj_vec_norm(tau, n);
    if (!(len > 0.0) || !isfinite(len))
        return -1;
    for (size_t a = 0; a < n; a++)
        tau[a] /= len;
    return 0;
}

/* Newton on {F(Y) = 0, w.(Y - Xp) = 0} from Y = Xp. Returns the number of
 * iterations, or -1 without convergence. */
static int corrector(ctx *c, const double *Xp, const double *w, double *Y)
{
    const size_t d = c->d, n = d + 1;
    const double tol = 1e-11 * fmax(1.0, c->diam);
    memcpy(Y, Xp, n * sizeof *Y);
    double prev = INFINITY;
    for (int it = 1; it <= MAX_CORR_IT; it++) {
        feval(c, Y);
        for (size_t a = 0; a < d; a++) {
            for (size_t b = 0; b < n; b++)
                c->M[a * n + b] = c->A[a * n + b];
            c->dY[a] = -c->F[a];
        }
        double g = 0.0;
        for (size_t b = 0; b < n; b++) {
            c->M[d * n + b] = w[b];
            g += w[b] * (Y[b] - Xp[b]);
        }
        c->dY[d] = -g;
        if (lu_solve(c->M, c->dY, n) != 0)
            return -1;
        double step = hj_vec_norm(c->dY, n);
        if (!isfinite(step) || (it > 2 && step > 0.5 * prev))
            return -1;
        for (size_t b = 0; b < n; b++)
            Y[b] += c->dY[b];
        if (!isfinite(Y[d]) || Y[d] > 700.0 || Y[d] < -700.0)
            return -1;
        if (step <= tol)
            return it;
        prev = step;
    }
    return -1;
}

/* ---- output --------------------------------------------------------------------- */

static hj_status push_point(ctx *c, const double *X, size_t branch)
{
    hj_bifurcation *b = c->out;
    const size_t d = c->d;
    if (b->n_points == b->cap_points) {
        size_t cap = b->cap_points ? 2 * b->cap_points : 1024;
        double *ne = realloc(b->eps, cap * sizeof *ne);
        if (ne)
            b->eps = ne;
        double *nx = realloc(b->x, cap * d * sizeof *nx);
        if (nx)
            b->x = nx;
        double *nH = realloc(b->H, cap * sizeof *nH);
        if (nH)
            b->H = nH;
        int *ni = realloc(b->index, cap * sizeof *ni);
        if (ni)
            b->index = ni;
        size_t *nb = realloc(b->branch, cap * sizeof *nb);
        if (nb)
            b->branch = nb;
        if (!ne || !nx || !nH || !ni || !nb)
            return hj_error_set(c->err, HJ_ENOMEM, "continuation: out of memory");
        b->cap_points = cap;
    }
    const double eps = exp(X[d]);
    hj_crit_info info = {0};
    hj_landscape_classify(c->L, eps, X, &info, NULL);
    b->eps[b->n_points] = eps;
    memcpy(b->x + b->n_points * d, X, d * sizeof *b->x);
    b->H[b->n_points] = info.H;
    b->index[b->n_points] = info.index;
    b->branch[b->n_points] = branch;
    b->n_points++;
    return HJ_OK;
}

static hj_status push_fold(ctx *c, const hj_fold *f)
{
    hj_bifurcation *b = c->out;
    if (b->n_folds == b->cap_folds) {
        size_t cap = b->cap_folds ? 2 * b->cap_folds : 16;
        hj_fold *nf = realloc(b->folds, cap * sizeof *nf);
        if (nf == NULL)
            return hj_error_set(c->err, HJ_ENOMEM, "continuation: out of memory");
        b->folds = nf;
        b->cap_folds = cap;
    }
    hj_fold *g = &b->folds[b->n_folds];
    *g = *f;
    g->x = malloc(c->d * sizeof *g->x);
    if (g->x == NULL)
        return hj_error_set(c->err, HJ_ENOMEM, "continuation: out of memory");
    memcpy(g->x, f->x, c->d * sizeof *g->x);
    b->n_folds++;
    return HJ_OK;
}

/* ---- folds ------------------------------------------------------------------------ */

/* Newton on the extended system from (x, s) = Z0 (d+1) and v = v0 (d, unit).
 * On success Z (d+1) and v (d) hold the fold. Returns 0 or -1. */
static int fold_newton(ctx *c, const double *Z0, const double *v0, double *Z, double *v)
{
    const size_t d = c->d, n = 2 * d + 1;
    memcpy(Z, Z0, (d + 1) * sizeof *Z);
    memcpy(v, v0, d * sizeof *v);
    double *M = c->M, *r = c->rhs;
    int converged = 0;
    for (int it = 0; it < 40; it++) {
        const double eps = exp(Z[d]);
        feval(c, Z);
        if (hj_landscape_hessvec_deriv(c->L, eps, Z, v, c->hv, c->dx, c->de, NULL) != HJ_OK)
            return -1;
        for (size_t i = 0; i < n * n; i++)
            M[i] = 0.0;
        for (size_t a = 0; a < d; a++) {
            /* F = 0 */
            for (size_t b = 0; b <= d; b++)
                M[a * n + b] = c->A[a * (d + 1) + b];
            r[a] = -c->F[a];
            /* J v = 0 */
            size_t row = d + a;
            double Jv = 0.0;
            for (size_t b = 0; b < d; b++) {
                M[row * n + b] = eps * c->dx[a * d + b];
                M[row * n + d + 1 + b] = c->A[a * (d + 1) + b];
                Jv += c->A[a * (d + 1) + b] * v[b];
            }
            M[row * n + d] = eps * c->hv[a] + eps * eps * c->de[a];
            r[row] = -Jv;
        }
        for (size_t b = 0; b < d; b++)
            M[2 * d * n + d + 1 + b] = v0[b];
        r[2 * d] = 1.0 - hj_vec_dot(v0, v, d);
        if (lu_solve(M, r, n) != 0)
            return -1;
        double step = hj_vec_norm(r, n);
        if (!isfinite(step))
            return -1;
        for (size_t b = 0; b <= d; b++)
            Z[b] += r[b];
        for (size_t b = 0; b < d; b++)
            v[b] += r[d + 1 + b];
        if (!isfinite(Z[d]) || fabs(Z[d]) > 700.0)
            return -1;
        if (step <= 1e-14 * (1.0 + hj_vec_norm(Z, d + 1))) {
            converged = 1;
            break;
        }
    }
    return converged ? 0 : -1;
}

/* Fallback: bisection along the chord from X1 to X2 on the sign of the
 * tangent's s-component (oriented along tau1). Z (d+1) receives the fold. */
static int fold_bisect(ctx *c, const double *X1, const double *tau1, const double *X2, double *Z)
{
    const size_t d = c->d, n = d + 1;
    double *w = malloc(3 * n * sizeof *w);
    if (w == NULL)
        return -1;
    double *Xp = w + n, *tau = w + 2 * n;
    double len = hj_vec_dist(X1, X2, n);
    for (size_t b = 0; b < n; b++)
        w[b] = (X2[b] - X1[b]) / len;
    double a = 0.0, bnd = len;
    const double sign1 = tau1[d] > 0.0 ? 1.0 : -1.0;
    int ok = 0;
    memcpy(Z, X1, n * sizeof *Z);
    for (int it = 0; it < 200 && bnd - a > 1e-15 * fmax(1.0, c->diam); it++) {
        double m = 0.5 * (a + bnd);
        for (size_t b = 0; b < n; b++)
            Xp[b] = X1[b] + m * w[b];
        if (corrector(c, Xp, w, Z) < 0 || tangent(c, Z, tau1, tau) != 0) {
            ok = -1;
            break;
        }
        if (tau[d] * sign1 > 0.0)
            a = m;
        else
            bnd = m;
    }
    if (ok == 0) {
        double m = 0.5 * (a + bnd);
        for (size_t b = 0; b < n; b++)
            Xp[b] = X1[b] + m * w[b];
        if (corrector(c, Xp, w, Z) < 0)
            ok = -1;
    }
    free(w);
    return ok;
}

/* Classify the fold at Z (d+1) with null vector v (d): its Hessian
 * eigenvalue, and the branch on both sides at distance delta along (v, 0). */
static void fold_check(ctx *c, const double *Z, const double *v, double delta, hj_fold *f)
{
    const size_t d = c->d, n = d + 1;
    double *w = malloc(3 * n * sizeof *w);
    double *Xp = w ? w + n : NULL, *Y = w ? w + 2 * n : NULL;
    hj_crit_info info = {0};
    f->eps = exp(Z[d]);
    hj_landscape_classify(c->L, f->eps, Z, &info, NULL);
    f->H = info.H;
    f->lam_rel = info.lam_rel;
    f->ok = 0;
    f->type = -1;
    f->dir = 0;
    f->lam_side[0] = f->lam_side[1] = NAN;
    f->index_side[0] = f->index_side[1] = -1;
    if (w == NULL)
        return;
    double vn = hj_vec_norm(v, d);
    for (size_t b = 0; b < d; b++)
        w[b] = v[b] / vn;
    w[d] = 0.0;
    double ds[2] = {NAN, NAN};
    int good = 1;
    for (int side = 0; side < 2; side++) {
        double sg = side == 0 ? -1.0 : 1.0;
        for (size_t b = 0; b < n; b++)
            Xp[b] = Z[b] + sg * delta * w[b];
        if (corrector(c, Xp, w, Y) < 0) {
            good = 0;
            continue;
        }
        hj_crit_info si = {0};
        hj_landscape_classify(c->L, exp(Y[d]), Y, &si, NULL);
        f->index_side[side] = si.index;
        f->lam_side[side] = si.lam_min >= 0.0 ? si.lam_rel : -si.lam_rel;
        ds[side] = Y[d] - Z[d];
    }
    free(w);
    if (!good)
        return;
    int i0 = f->index_side[0], i1 = f->index_side[1];
    if (i0 >= 0 && i1 >= 0 && abs(i0 - i1) == 1)
        f->type = i0 < i1 ? i0 : i1;
    if (ds[0] > 0.0 && ds[1] > 0.0)
        f->dir = 1;
    else if (ds[0] < 0.0 && ds[1] < 0.0)
        f->dir = -1;
    f->ok = f->lam_rel <= FOLD_LAM_TOL && f->type >= 0 && f->dir != 0 &&
            f->lam_side[0] * f->lam_side[1] < 0.0;
}

/* A fold between accepted points (X1, tau1) and (X2, tau2). */
static hj_status refine_fold(ctx *c, const double *X1, const double *tau1, const double *X2,
                             const double *tau2)
{
    const size_t d = c->d, n = d + 1;
    double *mem = malloc((3 * n + d + d) * sizeof *mem);
    if (mem == NULL)
        return hj_error_set(c->err, HJ_ENOMEM, "continuation: out of memory");
    double *Z0 = mem, *Z = mem + n, *v0 = mem + 2 * n, *v = mem + 2 * n + d, *tt = v + d;
    (void)tt;
    double lam = tau1[d] / (tau1[d] - tau2[d]);
    for (size_t b = 0; b < n; b++)
        Z0[b] = X1[b] + lam * (X2[b] - X1[b]);
    for (size_t b = 0; b < d; b++)
        v0[b] = tau1[b] + lam * (tau2[b] - tau1[b]);
    double vn = hj_vec_norm(v0, d);
    if (!(vn > 0.0))
        v0[0] = 1.0, vn = 1.0;
    for (size_t b = 0; b < d; b++)
        v0[b] /= vn;
    const double seg = hj_vec_dist(X1, X2, n);
    hj_fold f = {0};
    f.method = 0;
    int ok = fold_newton(c, Z0, v0, Z, v) == 0;
    if (ok) {
        /* it must be this fold: near the segment, inside the bracket in s */
        double smin = fmin(X1[d], X2[d]) - seg, smax = fmax(X1[d], X2[d]) + seg;
        if (!(Z[d] >= smin && Z[d] <= smax) || hj_vec_dist(Z, Z0, d) > 2.0 * seg + 1e-9)
            ok = 0;
    }
    if (!ok) {
        f.method = 1;
        if (fold_bisect(c, X1, tau1, X2, Z) != 0) {
            free(mem);
            c->out->n_incomplete++;
            return HJ_OK;
        }
        /* null vector: x-part of the tangent there */
        double *tz = malloc(n * sizeof *tz);
        if (tz == NULL) {
            free(mem);
            return hj_error_set(c->err, HJ_ENOMEM, "continuation: out of memory");
        }
        if (tangent(c, Z, tau1, tz) == 0)
            memcpy(v, tz, d * sizeof *v);
        else
            memcpy(v, v0, d * sizeof *v);
        free(tz);
    }
    f.x = Z;
    double delta = fmin(1e-3 * c->diam, 0.25 * seg);
    fold_check(c, Z, v, delta, &f);
    hj_status st = push_fold(c, &f);
    free(mem);
    return st;
}

/* ---- tracing ---------------------------------------------------------------------- */

typedef struct ptlist {
    size_t n, cap, dim;
    double *X;    /* (n, dim) */
} ptlist;

static int ptlist_push(ptlist *p, const double *X)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 256;
        double *nx = realloc(p->X, cap * p->dim * sizeof *nx);
        if (nx == NULL)
            return -1;
        p->X = nx;
        p->cap = cap;
    }
    memcpy(p->X + p->n * p->dim, X, p->dim * sizeof *p->X);
    p->n++;
    return 0;
}

/* Follow the branch from X0 in direction dir (+1: increasing s at the start)
 * and append the accepted points (not X0) to pts. *closed is set when the
 * branch comes back to X0 (an isola). */
static hj_status trace_half(ctx *c, const double *X0, double dir, ptlist *pts, int *closed)
{
    const size_t d = c->d, n = d + 1;
    double *mem = malloc(6 * n * sizeof *mem);
    if (mem == NULL)
        return hj_error_set(c->err, HJ_ENOMEM, "continuation: out of memory");
    double *X = mem, *tau = mem + n, *Y = mem + 2 * n, *tauY = mem + 3 * n, *tau0 = mem + 4 * n;
    double *Xp = mem + 5 * n;
    hj_status st = HJ_OK;
    *closed = 0;
    memcpy(X, X0, n * sizeof *X);
    double *e = Xp; /* the start direction e_s * dir, as the border row */
    for (size_t b = 0; b < n; b++)
        e[b] = b == d ? dir : 0.0;
    if (tangent(c, X, e, tau) != 0) {
        free(mem);
        c->out->n_incomplete++;
        return HJ_OK;
    }
    memcpy(tau0, tau, n * sizeof *tau0);
    double h = c->h_max;
    size_t step;
    for (step = 0; step < c->max_steps; step++) {
        for (size_t b = 0; b < n; b++)
            Xp[b] = X[b] + h * tau[b];
        int it = corrector(c, Xp, tau, Y);
        int ok = it >= 0 && hj_vec_dist(Y, Xp, n) <= h;
        if (ok && tangent(c, Y, tau, tauY) != 0)
            ok = 0;
        if (ok && hj_vec_dot(tau, tauY, n) < COS_MAX_TURN)
            ok = 0;
        if (!ok) {
            h *= 0.5;
            if (h < c->h_min) {
                c->out->n_incomplete++;
                break;
            }
            continue;
        }
        /* leaving the eps range: end exactly on the boundary */
        if (Y[d] > c->s_hi || Y[d] < c->s_lo) {
            double sb = Y[d] > c->s_hi ? c->s_hi : c->s_lo;
            if (fabs(X[d] - sb) > 1e-14) {
                double lam = (sb - X[d]) / (Y[d] - X[d]);
                double *xb = Xp, *xs = tauY;
                for (size_t b = 0; b < d; b++)
                    xb[b] = X[b] + lam * (Y[b] - X[b]);
                hj_error e2 = {0};
                if (hj_landscape_newton(c->L, exp(sb), xb, c->lo, c->hi, xs, NULL, &e2) == HJ_OK &&
                    hj_vec_dist(xs, xb, d) <= hj_vec_dist(X, Y, n)) {
                    xs[d] = sb;
                    if (ptlist_push(pts, xs) != 0) {
                        st = hj_error_set(c->err, HJ_ENOMEM, "continuation: out of memory");
                        break;
                    }
                }
            }
            break;
        }
        if (!in_box(c, Y)) {
            /* the branch leaves the domain: is it a minimum that does? */
            hj_crit_info info = {0};
            if (hj_landscape_classify(c->L, exp(X[d]), X, &info, NULL) == HJ_OK && info.index == 0)
                c->out->n_min_exits++;
            break;
        }
        if (tau[d] * tauY[d] < 0.0) {
            if ((st = refine_fold(c, X, tau, Y, tauY)) != HJ_OK)
                break;
        }
        if (ptlist_push(pts, Y) != 0) {
            st = hj_error_set(c->err, HJ_ENOMEM, "continuation: out of memory");
            break;
        }
        /* an isola closes on its seed */
        if (step > 4 && hj_vec_dist(Y, X0, n) < h && hj_vec_dot(tauY, tau0, n) > 0.0) {
            *closed = 1;
            break;
        }
        memcpy(X, Y, n * sizeof *X);
        memcpy(tau, tauY, n * sizeof *tau);
        if (it <= 3)
            h = fmin(1.4 * h, c->h_max);
    }
    if (step == c->max_steps)
        c->out->n_incomplete++;
    free(mem);
    return st;
}

/* Whether the critical point (x_k at s_k) already lies on a traced branch:
 * a branch point there, or a branch segment crossing s_k whose Newton-
 * corrected interpolant is x_k. */
static int covered(ctx *c, double sk, const double *xk, double *scratch)
{
    const hj_bifurcation *b = c->out;
    const size_t d = c->d;
    const double tol = 1e-6 * c->diam;
    double *xint = scratch, *xs = scratch + d;
    for (size_t i = 0; i < b->n_points; i++) {
        double si = log(b->eps[i]);
        const double *xi = b->x + i * d;
        if (fabs(si - sk) <= 1e-12 && hj_vec_dist(xi, xk, d) <= tol)
            return 1;
        if (i + 1 >= b->n_points || b->branch[i + 1] != b->branch[i])
            continue;
        double sj = log(b->eps[i + 1]);
        const double *xj = b->x + (i + 1) * d;
        if (!((si - sk) * (sj - sk) < 0.0))
            continue;
        double lam = (sk - si) / (sj - si), seg = (sj - si) * (sj - si);
        for (size_t k = 0; k < d; k++) {
            xint[k] = xi[k] + lam * (xj[k] - xi[k]);
            seg += (xj[k] - xi[k]) * (xj[k] - xi[k]);
        }
        if (hj_vec_dist(xint, xk, d) > sqrt(seg) + tol)
            continue;
        if (hj_landscape_newton(c->L, exp(sk), xint, c->lo, c->hi, xs, NULL, NULL) == HJ_OK &&
            hj_vec_dist(xs, xk, d) <= tol)
            return 1;
    }
    return 0;
}

/* Trace the whole branch through X0 (d+1) and append it as branch `id`. */
static hj_status trace_branch(ctx *c, const double *X0, size_t id)
{
    const size_t d = c->d, n = d + 1;
    ptlist fwd = {0, 0, n, NULL}, bwd = {0, 0, n, NULL};
    int closed = 0, closed2 = 0;
    hj_status st = HJ_OK;
    if (X0[d] < c->s_hi)
        st = trace_half(c, X0, 1.0, &fwd, &closed);
    if (st == HJ_OK && !closed && X0[d] > c->s_lo)
        st = trace_half(c, X0, -1.0, &bwd, &closed2);
    for (size_t i = bwd.n; st == HJ_OK && i-- > 0;)
        st = push_point(c, bwd.X + i * n, id);
    if (st == HJ_OK)
        st = push_point(c, X0, id);
    for (size_t i = 0; st == HJ_OK && i < fwd.n; i++)
        st = push_point(c, fwd.X + i * n, id);
    free(fwd.X), free(bwd.X);
    return st;
}

static int cmp_fold(const void *a, const void *b)
{
    const hj_fold *p = a, *q = b;
    return (p->eps > q->eps) - (p->eps < q->eps);
}

void hj_bifurcation_free(hj_bifurcation *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n_folds; i++)
        free(b->folds[i].x);
    free(b->folds), free(b->eps), free(b->x), free(b->H), free(b->index), free(b->branch);
    free(b->lo), free(b->hi);
    memset(b, 0, sizeof *b);
}

hj_status hj_landscape_continue(hj_landscape *L, const hj_landscape_options *o,
                                hj_bifurcation *out, hj_error *err)
{
    if (L == NULL || o == NULL || out == NULL)
        return hj_error_set(err, HJ_EINVAL, "continuation: NULL argument");
    memset(out, 0, sizeof *out);
    const size_t d = hj_landscape_dim(L), n = d + 1;
    const double es = hj_landscape_critical_eps(L);
    double e0 = isnan(o->eps_min) ? es / 25.0 : o->eps_min;
    double e1 = isnan(o->eps_max) ? es * 25.0 : o->eps_max;
    if (!(e0 > 0.0) || !isfinite(e0) || !(e1 > e0) || !isfinite(e1))
        return hj_error_set(err, HJ_EINVAL,
                            "continuation: need 0 < eps_min < eps_max, finite (got %g, %g)", e0, e1);
    if (!(o->h_max > 0.0) || !(o->h_min > 0.0) || !(o->h_min < o->h_max) || !isfinite(o->h_max))
        return hj_error_set(err, HJ_EINVAL,
                            "continuation: need 0 < h_min < h_max (got %g, %g)", o->h_min, o->h_max);
    if (o->seed_levels < 2 || o->max_steps == 0)
        return hj_error_set(err, HJ_EINVAL,
                            "continuation: need at least 2 seed levels and 1 step (got %zu, %zu)",
                            o->seed_levels, o->max_steps);
    if (o->lo && o->hi)
        for (size_t k = 0; k < d; k++)
            if (!(o->lo[k] < o->hi[k]) || !isfinite(o->lo[k]) || !isfinite(o->hi[k]))
                return hj_error_set(err, HJ_EINVAL,
                                    "continuation: domain side %zu is empty or not finite", k + 1);
    ctx c = {0};
    c.L = L, c.d = d, c.out = out, c.err = err;
    c.s_lo = log(e0), c.s_hi = log(e1);
    c.h_max = o->h_max, c.h_min = o->h_min, c.max_steps = o->max_steps;
    const size_t m = 2 * d + 1;
    out->d = d, out->eps_min = e0, out->eps_max = e1;
    out->lo = malloc(d * sizeof *out->lo);
    out->hi = malloc(d * sizeof *out->hi);
    double *mem = malloc((8 * d + 3 * d * d + m * m + m + d * (d + 1) + 4 * n) *
                         sizeof *mem);
    hj_crit_list cl = {0};
    hj_status st = HJ_OK;
    if (!out->lo || !out->hi || !mem) {
        st = hj_error_set(err, HJ_ENOMEM, "continuation: out of memory");
        goto done;
    }
    if (o->lo && o->hi) {
        memcpy(out->lo, o->lo, d * sizeof *out->lo);
        memcpy(out->hi, o->hi, d * sizeof *out->hi);
    } else {
        hj_landscape_domain(L, o->pad, out->lo, out->hi);
    }
    c.lo = out->lo, c.hi = out->hi;
    for (size_t k = 0; k < d; k++)
        c.diam += (c.hi[k] - c.lo[k]) * (c.hi[k] - c.lo[k]);
    c.diam = sqrt(c.diam);
    double *p = mem;
    c.grad = p, p += d;
    c.hess = p, p += d * d;
    c.geps = p, p += d;
    c.M = p, p += m * m;
    c.rhs = p, p += m;
    c.F = p, p += d;
    c.A = p, p += d * (d + 1);
    c.Y = p, p += n;
    c.dY = p, p += n;
    c.Xp = p, p += n;
    c.tn = p, p += n;
    c.hv = p, p += d;
    c.dx = p, p += d * d;
    c.de = p, p += d;
    double *scratch = p; /* 2 d */

    hj_landscape_options lo = *o;
    lo.lo = out->lo, lo.hi = out->hi;
    const size_t K = o->seed_levels;
    double *X0 = c.Y;
    for (size_t q = 0; q < K && st == HJ_OK; q++) {
        /* the two ends first, then the interior levels */
        size_t k = q == 0 ? 0 : q == 1 ? K - 1 : q - 1;
        double sk = k == 0 ? c.s_lo : k == K - 1 ? c.s_hi
                                               : c.s_lo + (c.s_hi - c.s_lo) * (double)k / (double)(K - 1);
        if ((st = hj_landscape_critical_points(L, exp(sk), &lo, &cl, err)) != HJ_OK)
            break;
        for (size_t i = 0; i < cl.n && st == HJ_OK; i++) {
            memcpy(X0, cl.x + i * d, d * sizeof *X0);
            X0[d] = sk;
            if (covered(&c, sk, X0, scratch))
                continue;
            double *Xcopy = malloc(n * sizeof *Xcopy);
            if (Xcopy == NULL) {
                st = hj_error_set(err, HJ_ENOMEM, "continuation: out of memory");
                break;
            }
            memcpy(Xcopy, X0, n * sizeof *Xcopy);
            st = trace_branch(&c, Xcopy, out->n_branches);
            free(Xcopy);
            out->n_branches++;
        }
        hj_crit_list_free(&cl);
    }
    if (st == HJ_OK && out->n_folds > 1) {
        qsort(out->folds, out->n_folds, sizeof *out->folds, cmp_fold);
        /* a fold met twice (two tracings of one branch) is kept once */
        size_t w = 0;
        for (size_t i = 0; i < out->n_folds; i++) {
            int dup = 0;
            for (size_t j = 0; j < w && !dup; j++)
                if (fabs(out->folds[j].eps - out->folds[i].eps) <= 1e-9 * out->folds[i].eps &&
                    hj_vec_dist(out->folds[j].x, out->folds[i].x, d) <= 1e-6 * c.diam)
                    dup = 1;
            if (dup) {
                free(out->folds[i].x);
                continue;
            }
            out->folds[w++] = out->folds[i];
        }
        out->n_folds = w;
    }
done:
    hj_crit_list_free(&cl);
    free(mem);
    if (st != HJ_OK)
        hj_bifurcation_free(out);
    return st;
}

hj_status hj_bifurcation_count(hj_landscape *L, const hj_bifurcation *b, double eps, int index,
                               size_t *count, hj_error *err)
{
    if (L == NULL || b == NULL || count == NULL)
        return hj_error_set(err, HJ_EINVAL, "continuation: NULL argument");
    if (!(eps > 0.0) || !isfinite(eps))
        return hj_error_set(err, HJ_EINVAL, "continuation: eps must be finite and > 0");
    const size_t d = b->d;
    if (d != hj_landscape_dim(L))
        return hj_error_set(err, HJ_ESHAPE, "continuation: landscape and branches differ in d");
    *count = 0;
    const double s = log(eps);
    double diam = 0.0;
    for (size_t k = 0; k < d; k++)
        diam += (b->hi[k] - b->lo[k]) * (b->hi[k] - b->lo[k]);
    diam = sqrt(diam);
    double *found = NULL, *xi = malloc(2 * d * sizeof *xi);
    size_t nf = 0, cap = 0;
    if (xi == NULL)
        return hj_error_set(err, HJ_ENOMEM, "continuation: out of memory");
    double *xs = xi + d;
    hj_status st = HJ_OK;
    for (size_t i = 0; i < b->n_points; i++) {
        int first = i == 0 || b->branch[i - 1] != b->branch[i];
        double si = log(b->eps[i]);
        int hit_point = first && si == s;
        int has_next = i + 1 < b->n_points && b->branch[i + 1] == b->branch[i];
        double sj = has_next ? log(b->eps[i + 1]) : NAN;
        int hit_seg = has_next && (((si - s) * (sj - s) < 0.0) || sj == s);
        if (!hit_point && !hit_seg)
            continue;
        int idx;
        if (hit_point) {
            memcpy(xs, b->x + i * d, d * sizeof *xs);
            idx = b->index[i];
        } else {
            double lam = (s - si) / (sj - si);
            for (size_t k = 0; k < d; k++)
                xi[k] = b->x[i * d + k] + lam * (b->x[(i + 1) * d + k] - b->x[i * d + k]);
            hj_crit_info info;
            double seg = hj_vec_dist(b->x + i * d, b->x + (i + 1) * d, d) + fabs(sj - si);
            if (hj_landscape_newton(L, eps, xi, b->lo, b->hi, xs, NULL, NULL) == HJ_OK &&
                hj_vec_dist(xs, xi, d) <= seg && hj_landscape_classify(L, eps, xs, &info, NULL) == HJ_OK &&
                info.index >= 0) {
                idx = info.index;
            } else {
                memcpy(xs, xi, d * sizeof *xs);
                idx = lam < 0.5 ? b->index[i] : b->index[i + 1];
            }
        }
        if (index != -2 && idx != index)
            continue;
        int dup = 0;
        for (size_t f = 0; f < nf && !dup; f++)
            if (hj_vec_dist(found + f * d, xs, d) <= 1e-7 * diam)
                dup = 1;
        if (dup)
            continue;
        if (nf == cap) {
            cap = cap ? 2 * cap : 64;
            double *nfp = realloc(found, cap * d * sizeof *nfp);
            if (nfp == NULL) {
                st = hj_error_set(err, HJ_ENOMEM, "continuation: out of memory");
                break;
            }
            found = nfp;
        }
        memcpy(found + nf * d, xs, d * sizeof *xs);
        nf++;
    }
    free(found), free(xi);
    if (st == HJ_OK)
        *count = nf;
    return st;
}

/* "x_1".."x_d" style names into a freshly allocated array of cols strings. */
static char **make_names(const char *const *head, size_t nh, size_t d, const char *const *tail,
                         size_t nt)
{
    size_t cols = nh + d + nt;
    char **names = calloc(cols, sizeof *names);
    if (names == NULL)
        return NULL;
    for (size_t i = 0; i < cols; i++) {
        names[i] = malloc(32);
        if (names[i] == NULL) {
            for (size_t j = 0; j < i; j++)
                free(names[j]);
            free(names);
            return NULL;
        }
        if (i < nh)
            snprintf(names[i], 32, "%s", head[i]);
        else if (i < nh + d)
            snprintf(names[i], 32, "x_%zu", i - nh + 1);
        else
            snprintf(names[i], 32, "%s", tail[i - nh - d]);
    }
    return names;
}

static void free_names(char **names, size_t cols)
{
    if (names == NULL)
        return;
    for (size_t i = 0; i < cols; i++)
        free(names[i]);
    free(names);
}

hj_status hj_bifurcation_write(const hj_bifurcation *b, const char *crit_path,
                               const char *folds_path, hj_error *err)
{
    if (b == NULL)
        return hj_error_set(err, HJ_EINVAL, "continuation: NULL branches");
    const size_t d = b->d;
    hj_status st = HJ_OK;
    if (crit_path) {
        static const char *const head[] = {"eps"};
        static const char *const tail[] = {"H", "type", "branch"};
        const size_t cols = 1 + d + 3;
        hj_matrix m = {0};
        char **names = make_names(head, 1, d, tail, 3);
        if (names == NULL)
            return hj_error_set(err, HJ_ENOMEM, "continuation: out of memory");
        if (b->n_points == 0) {
            st = hj_error_set(err, HJ_EINVAL, "%s: no critical points to write", crit_path);
        } else if ((st = hj_matrix_alloc(&m, b->n_points, cols, err)) == HJ_OK) {
            for (size_t i = 0; i < b->n_points; i++) {
                double *row = m.data + i * cols;
                row[0] = b->eps[i];
                memcpy(row + 1, b->x + i * d, d * sizeof *row);
                row[1 + d] = b->H[i];
                row[2 + d] = b->index[i];
                row[3 + d] = (double)b->branch[i];
            }
            st = hj_matrix_write(crit_path, &m, (const char *const *)names, err);
        }
        hj_matrix_free(&m);
        free_names(names, cols);
        if (st != HJ_OK)
            return st;
    }
    if (folds_path) {
        static const char *const head[] = {"eps"};
        static const char *const tail[] = {"type", "H", "direction", "lambda_rel", "check"};
        const size_t cols = 1 + d + 5;
        char **names = make_names(head, 1, d, tail, 5);
        if (names == NULL)
            return hj_error_set(err, HJ_ENOMEM, "continuation: out of memory");
        if (b->n_folds == 0) {
            /* a header-only CSV: no folds in the range */
            st = hj_csv_write_header(folds_path, (const char *const *)names, cols, err);
        } else {
            hj_matrix m = {0};
            if ((st = hj_matrix_alloc(&m, b->n_folds, cols, err)) == HJ_OK) {
                for (size_t i = 0; i < b->n_folds; i++) {
                    const hj_fold *f = &b->folds[i];
                    double *row = m.data + i * cols;
                    row[0] = f->eps;
                    memcpy(row + 1, f->x, d * sizeof *row);
                    row[1 + d] = f->type;
                    row[2 + d] = f->H;
                    row[3 + d] = f->dir;
                    row[4 + d] = f->lam_rel;
                    row[5 + d] = f->ok;
                }
                st = hj_matrix_write(folds_path, &m, (const char *const *)names, err);
            }
            hj_matrix_free(&m);
        }
        free_names(names, cols);
    }
    return st;
}
