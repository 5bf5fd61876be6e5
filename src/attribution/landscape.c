/* landscape.c — the entropy landscape H(x; eps) of Hopf–Cole atoms: the object, evaluation with exact derivatives, classification of critical points. */
#include "hjdl/landscape.h"
#include "attribution/landscape-impl.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "core/kernels.h"
#include "hjdl/vec.h"

/*
 * Derivation (shapes: atoms j = 1..N, x in R^d).
 *
 * Write a_j = -c_j/eps, pi = softmax(a), l = log pi, H = -sum pi l. Every
 * quantity below is invariant under a_j -> a_j + const, so a may be shifted
 * freely. The derivative of a in x along u is (y_j - x).u/(2t eps), which
 * equals s_j.u/eps up to a shift (s_j = (y_j - ybar)/(2t)); in eps it is
 * -a/eps, which equals -l/eps up to a shift.
 *
 * In a-space, with r = l + H (so E_pi[r] = 0):
 *   dH/da_k                = c_k := -pi_k r_k
 *   (d^2H/da^2 p)_k        = T_k(p) = -pi_k [P_k (r_k + 1) - E[P r]],  P = p - E[p]
 *   (d^3H/da^3 [p, q])_k   = dT_k(p; q)
 *     = -pi_k Q_k [P_k (r_k+1) - E[P r]]
 *       - pi_k [-E[PQ] (r_k+1) + P_k (Q_k - E[rQ]) - E[QPr] - E[PQ]],  Q = q - E[q]
 * (from d pi_k = pi_k Q_k, d r_k = Q_k - E[rQ], d E[p] = E[PQ],
 *  d E[Pr] = E[QPr] + E[PQ]). Each of c, T, dT sums to 0 over k, so
 * sum_k (.)_k w_k = sum_k (.)_k s_k for any affine w.
 * Chain rule with p = S v (p_j = s_j.v), q = S u:
 *   grad H         = (1/eps)   sum_k c_k s_k            = -(1/eps) sum pi r s
 *   hess H v       = (1/eps^2) sum_k T_k(Sv) s_k        = -(1/eps^2) sum pi (r+1) s s^T v
 *   d/dx (hess H v) u = (1/eps^3) sum_k dT_k(Sv; Su) s_k
 *   d/deps grad H  = -grad H/eps + (1/eps) sum_k T_k(-l/eps) s_k
 *                  = (1/eps^2) sum pi r (r + 2) s      (T_k(l) = -pi_k (r_k^2 + r_k - E r^2))
 *   d/deps (hess H v) = -(1/eps^3) sum_k (2 T_k(Sv) + dT_k(Sv; r)) s_k.
 */


/* ---- small helpers ---------------------------------------------------------- */

int hj__landscape_all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* Solve A z = b in place (A (n, n) destroyed, b (n) becomes z) by Gaussian
 * elimination with partial pivoting. Returns 0, or -1 when a pivot is at
 * most tiny (numerically singular). */
int hj__landscape_lu_solve(double *A, double *b, size_t n, double tiny)
{
    for (size_t k = 0; k < n; k++) {
        size_t p = k;
        double best = fabs(A[k * n + k]);
        for (size_t i = k + 1; i < n; i++)
            if (fabs(A[i * n + k]) > best)
                best = fabs(A[i * n + k]), p = i;
        if (!(best > tiny))
            return -1;
        if (p != k) {
            for (size_t j = 0; j < n; j++) {
                double tmp = A[k * n + j];
                A[k * n + j] = A[p * n + j];
                A[p * n + j] = tmp;
            }
            double tmp = b[k];
            b[k] = b[p];
            b[p] = tmp;
        }
        for (size_t i = k + 1; i < n; i++) {
            double f = A[i * n + k] / A[k * n + k];
            if (f == 0.0)
                continue;
            for (size_t j = k; j < n; j++)
                A[i * n + j] -= f * A[k * n + j];
            b[i] -= f * b[k];
        }
    }
    for (size_t k = n; k-- > 0;) {
        double s = b[k];
        for (size_t j = k + 1; j < n; j++)
            s -= A[k * n + j] * b[j];
        b[k] = s / A[k * n + k];
    }
    return 0;
}

/* ---- object ----------------------------------------------------------------- */

hj_status hj_landscape_alloc(hj_landscape **out, const hj_atoms *atoms, double t, hj_error *err)
{
    if (out == NULL)
        return hj_error_set(err, HJ_EINVAL, "landscape: NULL output");
    *out = NULL;
    hj_status st = hj_atoms_check(atoms, err);
    if (st == HJ_OK)
        st = hj_check_time(t, "landscape", err);
    if (st != HJ_OK)
        return st;
    const size_t N = atoms->N, d = atoms->d;
    if (d > 4096 || N > SIZE_MAX / 8 / (d + 8))
        return hj_error_set(err, HJ_EINVAL, "landscape: %zu atoms in dimension %zu are too many",
                            N, d);
    hj_landscape *L = calloc(1, sizeof *L);
    if (L == NULL)
        return hj_error_set(err, HJ_ENOMEM, "landscape: out of memory");
    L->N = N, L->d = d, L->t = t;
    L->y = malloc(N * d * sizeof *L->y);
    L->g = malloc(N * sizeof *L->g);
    L->box_lo = malloc(d * sizeof *L->box_lo);
    L->box_hi = malloc(d * sizeof *L->box_hi);
    L->pi = malloc(N * sizeof *L->pi);
    L->l = malloc(N * sizeof *L->l);
    L->r = malloc(N * sizeof *L->r);
    L->S = malloc(N * d * sizeof *L->S);
    L->P = malloc(N * sizeof *L->P);
    L->T = malloc(N * sizeof *L->T);
    L->q = malloc(N * sizeof *L->q);
    L->ybar = malloc(d * sizeof *L->ybar);
    L->work = malloc((4 * d + 2 * d * d) * sizeof *L->work);
    if (!L->y || !L->g || !L->box_lo || !L->box_hi || !L->pi || !L->l || !L->r || !L->S ||
        !L->P || !L->T || !L->q || !L->ybar || !L->work) {
        hj_landscape_free(L);
        return hj_error_set(err, HJ_ENOMEM, "landscape: out of memory");
    }
    memcpy(L->y, atoms->y, N * d * sizeof *L->y);
    memcpy(L->g, atoms->g, N * sizeof *L->g);
    for (size_t k = 0; k < d; k++) {
        L->box_lo[k] = INFINITY, L->box_hi[k] = -INFINITY;
        for (size_t j = 0; j < N; j++) {
            L->box_lo[k] = fmin(L->box_lo[k], L->y[j * d + k]);
            L->box_hi[k] = fmax(L->box_hi[k], L->y[j * d + k]);
        }
    }
    *out = L;
    return HJ_OK;
}

void hj_landscape_free(hj_landscape *L)
{
    if (L == NULL)
        return;
    free(L->y), free(L->g), free(L->box_lo), free(L->box_hi), free(L->pi), free(L->l);
    free(L->r), free(L->S), free(L->P), free(L->T), free(L->q), free(L->ybar), free(L->work);
    free(L);
}

size_t hj_landscape_dim(const hj_landscape *L) { return L ? L->d : 0; }
size_t hj_landscape_size(const hj_landscape *L) { return L ? L->N : 0; }
double hj_landscape_time(const hj_landscape *L) { return L ? L->t : NAN; }

hj_atoms hj_landscape_atoms(const hj_landscape *L)
{
    hj_atoms a = {0, 0, NULL, NULL};
    if (L)
        a.N = L->N, a.d = L->d, a.y = L->y, a.g = L->g;
    return a;
}

double hj_landscape_critical_eps(const hj_landscape *L)
{
    return L ? pow((double)L->N, -1.0 / (double)L->d) : NAN;
}

/* The longest side of the atoms' bounding box (1 when the box is a point). */
double hj__landscape_box_side(const hj_landscape *L)
{
    double side = 0.0;
    for (size_t k = 0; k < L->d; k++)
        side = fmax(side, L->box_hi[k] - L->box_lo[k]);
    return side > 0.0 ? side : 1.0;
}

void hj_landscape_domain(const hj_landscape *L, double pad, double *lo, double *hi)
{
    const double side = hj__landscape_box_side(L);
    for (size_t k = 0; k < L->d; k++) {
        lo[k] = L->box_lo[k] - pad * side;
        hi[k] = L->box_hi[k] + pad * side;
    }
}

/* ---- the kernel --------------------------------------------------------------- */

/* Fill pi, l, r, S, ybar and H at (x, eps). */
void hj__landscape_kernel(hj_landscape *L, double eps, const double *x)
{
    const size_t N = L->N, d = L->d;
    const double q = 1.0 / (4.0 * L->t);
    double m = -INFINITY;
    size_t jm = 0;
    for (size_t j = 0; j < N; j++) {
        double a = -hj_atom_cost_r(L->g[j], hj_vec_sqdist(x, L->y + j * d, d), q) / eps;
        L->l[j] = a;
        if (a > m)
            m = a, jm = j;
    }
    /* Z = 1 + rest; log Z by log1p keeps H relatively accurate where one
     * atom dominates (H ~ rest * log(1/rest), far below rounding of 1) */
    double rest = 0.0;
    for (size_t j = 0; j < N; j++) {
        L->l[j] -= m;
        L->pi[j] = exp(L->l[j]);
        if (j != jm)
            rest += L->pi[j];
    }
    const double Z = 1.0 + rest, logZ = log1p(rest);
    double H = 0.0;
    for (size_t j = 0; j < N; j++) {
        L->pi[j] /= Z;
        L->l[j] -= logZ;
        if (L->pi[j] > 0.0)
            H -= L->pi[j] * L->l[j];
    }
    if (H < 0.0)
        H = 0.0;
    L->H = H;
    for (size_t k = 0; k < d; k++)
        L->ybar[k] = 0.0;
    for (size_t j = 0; j < N; j++) {
        if (L->pi[j] == 0.0)
            continue;
        for (size_t k = 0; k < d; k++)
            L->ybar[k] += L->pi[j] * L->y[j * d + k];
    }
    const double h2 = 1.0 / (2.0 * L->t);
    for (size_t j = 0; j < N; j++) {
        L->r[j] = L->l[j] + H;
        for (size_t k = 0; k < d; k++)
            L->S[j * d + k] = (L->y[j * d + k] - L->ybar[k]) * h2;
    }
}

hj_status hj__landscape_check_point(const hj_landscape *L, double eps, const double *x, hj_error *err)
{
    if (L == NULL)
        return hj_error_set(err, HJ_EINVAL, "landscape: NULL landscape");
    if (!(eps > 0.0) || !isfinite(eps))
        return hj_error_set(err, HJ_EINVAL, "landscape: eps must be finite and > 0 (got %g)", eps);
    if (x == NULL)
        return hj_error_set(err, HJ_EINVAL, "landscape: NULL point");
    if (!hj__landscape_all_finite(x, L->d))
        return hj_error_set(err, HJ_ENAN, "landscape: the point has a non-finite coordinate");
    return HJ_OK;
}

hj_status hj_landscape_eval(hj_landscape *L, double eps, const double *x, double *H,
                            double *grad, double *hess, double *grad_eps, hj_error *err)
{
    hj_status st = hj__landscape_check_point(L, eps, x, err);
    if (st != HJ_OK)
        return st;
    hj__landscape_kernel(L, eps, x);
    const size_t N = L->N, d = L->d;
    if (H)
        *H = L->H;
    /* grad and hess by the one entropy formula of core (kernels.h), with
     * the shift H this module's numbers were made with (r_j = l_j + H) */
    hj__entropy_derivatives(L->pi, L->l, L->H, L->H, L->S, N, d, eps, grad, hess);
    if (grad_eps) {
        /* d grad H / d eps: -sum_j pi_j r_j (r_j + 2) S_j / eps^2 with the opposite sign */
        double *ge = L->work + d;
        for (size_t k = 0; k < d; k++)
            ge[k] = 0.0;
        for (size_t j = 0; j < N; j++) {
            if (L->pi[j] == 0.0)
                continue;
            double c1 = L->pi[j] * L->r[j], c2 = c1 * (L->r[j] + 2.0);
            for (size_t k = 0; k < d; k++)
                ge[k] += c2 * L->S[j * d + k];
        }
        for (size_t k = 0; k < d; k++)
            grad_eps[k] = ge[k] / eps / eps;
    }
    return HJ_OK;
}

hj_status hj_landscape_batch(hj_landscape *L, double eps, const double *x, size_t n, double *H,
                             hj_error *err)
{
    if (L == NULL || (n > 0 && (x == NULL || H == NULL)))
        return hj_error_set(err, HJ_EINVAL, "landscape: NULL argument");
    for (size_t i = 0; i < n; i++) {
        hj_status st = hj__landscape_check_point(L, eps, x + i * L->d, err);
        if (st != HJ_OK)
            return st;
        hj__landscape_kernel(L, eps, x + i * L->d);
        H[i] = L->H;
    }
    return HJ_OK;
}

/* T (N) = T(p) for p_j = S_j . v; returns E[P r]; P (N) = p - E[p]. */
static double t_of(hj_landscape *L, const double *v)
{
    const size_t N = L->N, d = L->d;
    double pbar = 0.0;
    for (size_t j = 0; j < N; j++) {
        double p = 0.0;
        for (size_t k = 0; k < d; k++)
            p += L->S[j * d + k] * v[k];
        L->P[j] = p;
        pbar += L->pi[j] * p;
    }
    double Epr = 0.0;
    for (size_t j = 0; j < N; j++) {
        L->P[j] -= pbar;
        Epr += L->pi[j] * L->P[j] * L->r[j];
    }
    for (size_t j = 0; j < N; j++)
        L->T[j] = -L->pi[j] * (L->P[j] * (L->r[j] + 1.0) - Epr);
    return Epr;
}

/* acc (d) += coef * sum_k dT_k(P; Q) s_k for the direction Q (N, not yet
 * centred: q_k), P and Epr from t_of. */
static void dt_apply(hj_landscape *L, const double *q, double Epr, double coef, double *acc)
{
    const size_t N = L->N, d = L->d;
    double qbar = 0.0;
    for (size_t j = 0; j < N; j++)
        qbar += L->pi[j] * q[j];
    double Erq = 0.0, Cpq = 0.0, Eqpr = 0.0;
    for (size_t j = 0; j < N; j++) {
        double Q = q[j] - qbar;
        Erq += L->pi[j] * L->r[j] * Q;
        Cpq += L->pi[j] * L->P[j] * Q;
        Eqpr += L->pi[j] * Q * L->P[j] * L->r[j];
    }
    for (size_t j = 0; j < N; j++) {
        if (L->pi[j] == 0.0)
            continue;
        double Q = q[j] - qbar, P = L->P[j], r1 = L->r[j] + 1.0;
        double dT = -L->pi[j] * Q * (P * r1 - Epr) -
                    L->pi[j] * (-Cpq * r1 + P * (Q - Erq) - Eqpr - Cpq);
        for (size_t k = 0; k < d; k++)
            acc[k] += coef * dT * L->S[j * d + k];
    }
}

hj_status hj_landscape_hessvec_deriv(hj_landscape *L, double eps, const double *x,
                                     const double *v, double *hv, double *dx, double *deps,
                                     hj_error *err)
{
    hj_status st = hj__landscape_check_point(L, eps, x, err);
    if (st != HJ_OK)
        return st;
    if (v == NULL || !hj__landscape_all_finite(v, L->d))
        return hj_error_set(err, HJ_EINVAL, "landscape: direction v is NULL or not finite");
    hj__landscape_kernel(L, eps, x);
    const size_t N = L->N, d = L->d;
    double Epr = t_of(L, v);
    double *acc = L->work, *q = L->q;
    /* hess H v = (1/eps^2) sum T s */
    for (size_t k = 0; k < d; k++)
        acc[k] = 0.0;
    for (size_t j = 0; j < N; j++)
        for (size_t k = 0; k < d; k++)
            acc[k] += L->T[j] * L->S[j * d + k];
    if (hv)
        for (size_t k = 0; k < d; k++)
            hv[k] = acc[k] / eps / eps;
    if (dx) {
        double *col = L->work + d;
        for (size_t b = 0; b < d; b++) {
            for (size_t j = 0; j < N; j++)
                q[j] = L->S[j * d + b];
            for (size_t k = 0; k < d; k++)
                col[k] = 0.0;
            dt_apply(L, q, Epr, 1.0, col);
            for (size_t a = 0; a < d; a++)
                dx[a * d + b] = col[a] / eps / eps / eps;
        }
    }
    if (deps) {
        double *col = L->work + 2 * d;
        for (size_t k = 0; k < d; k++)
            col[k] = 2.0 * acc[k];
        for (size_t j = 0; j < N; j++)
            q[j] = L->r[j];
        dt_apply(L, q, Epr, 1.0, col);
        for (size_t k = 0; k < d; k++)
            deps[k] = -col[k] / eps / eps / eps;
    }
    return HJ_OK;
}

/* ---- classification ------------------------------------------------------------ */

/* Scaled residual F = eps grad H (d), Jacobian J = eps hess H (d, d) (may
 * be NULL) and the curvature scale (1/eps) sum pi (|r|+1)|s|^2 at x; H and
 * gscale = sum pi |r| |s| (the gradient's scale) when not NULL. */
double hj__landscape_residual(hj_landscape *L, double eps, const double *x, double *H, double *F,
                       double *J, double *gscale)
{
    hj_landscape_eval(L, eps, x, H, F, J, NULL, NULL);
    const size_t N = L->N, d = L->d;
    double scale = 0.0, gs = 0.0;
    for (size_t j = 0; j < N; j++) {
        if (L->pi[j] == 0.0)
            continue;
        double s2 = 0.0;
        for (size_t k = 0; k < d; k++)
            s2 += L->S[j * d + k] * L->S[j * d + k];
        scale += L->pi[j] * (fabs(L->r[j]) + 1.0) * s2;
        if (gscale)
            gs += L->pi[j] * fabs(L->r[j]) * sqrt(s2);
    }
    for (size_t k = 0; k < d; k++)
        F[k] *= eps;
    if (J)
        for (size_t a = 0; a < d * d; a++)
            J[a] *= eps;
    if (gscale)
        *gscale = gs;
    return scale / eps;
}

hj_status hj_landscape_classify(hj_landscape *L, double eps, const double *x, hj_crit_info *info,
                                hj_error *err)
{
    hj_status st = hj__landscape_check_point(L, eps, x, err);
    if (st != HJ_OK)
        return st;
    if (info == NULL)
        return hj_error_set(err, HJ_EINVAL, "landscape: NULL info");
    const size_t d = L->d;
    /* work[0, 2d) is used inside hj_landscape_eval */
    double *J = L->work + 4 * d, *lam = L->work + 3 * d, *F = L->work + 2 * d;
    double gscale;
    const double scale = hj__landscape_residual(L, eps, x, &info->H, F, J, &gscale);
    info->grad_rel = gscale > 0.0 ? hj_vec_norm(F, d) / gscale : (hj_vec_norm(F, d) > 0.0 ? INFINITY : 0.0);
    if (d == 1) {
        lam[0] = J[0];
    } else {
        lapack_int rc = LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)d, J,
                                      (lapack_int)d, lam);
        if (rc != 0)
            return hj_error_set(err, HJ_EMAXITER, "landscape: eigensolver failed (info %d)",
                                (int)rc);
    }
    double lmin = lam[0];
    int neg = 0;
    for (size_t k = 0; k < d; k++) {
        if (fabs(lam[k]) < fabs(lmin))
            lmin = lam[k];
        if (lam[k] < 0.0)
            neg++;
    }
    info->lam_min = lmin;
    info->lam_rel = scale > 0.0 ? fabs(lmin) / scale : 0.0;
    info->index = (scale > 0.0 && info->lam_rel > 1e-12) ? neg : -1;
    return HJ_OK;
}

