/* landscape.c — the entropy landscape H(x; eps) of Hopf–Cole atoms: exact derivatives, Newton, critical points. */
#include "hjdl/landscape.h"
#include "attribution/landscape-impl.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "hjdl/rng.h"

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

struct hj_landscape {
    size_t N, d;
    double t;
    double *y;      /* (N, d) */
    double *g;      /* (N) */
    double *box_lo; /* (d) atoms' bounding box */
    double *box_hi; /* (d) */
    /* scratch filled by kernel() */
    double *pi;     /* (N) */
    double *l;      /* (N) log pi */
    double *r;      /* (N) l + H */
    double *S;      /* (N, d) (y - ybar)/(2t) */
    double *P;      /* (N) */
    double *T;      /* (N) */
    double *q;      /* (N) a direction in atom space */
    double *ybar;   /* (d) */
    double *work;   /* (4 d + 2 d^2) */
    double H;
};

/* ---- small helpers ---------------------------------------------------------- */

static int all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

static double norm2(const double *v, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += v[i] * v[i];
    return sqrt(s);
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
static double box_side(const hj_landscape *L)
{
    double side = 0.0;
    for (size_t k = 0; k < L->d; k++)
        side = fmax(side, L->box_hi[k] - L->box_lo[k]);
    return side > 0.0 ? side : 1.0;
}

void hj_landscape_domain(const hj_landscape *L, double pad, double *lo, double *hi)
{
    const double side = box_side(L);
    for (size_t k = 0; k < L->d; k++) {
        lo[k] = L->box_lo[k] - pad * side;
        hi[k] = L->box_hi[k] + pad * side;
    }
}

/* ---- the kernel --------------------------------------------------------------- */

/* Fill pi, l, r, S, ybar and H at (x, eps). */
static void kernel(hj_landscape *L, double eps, const double *x)
{
    const size_t N = L->N, d = L->d;
    const double q = 1.0 / (4.0 * L->t);
    double m = -INFINITY;
    size_t jm = 0;
    for (size_t j = 0; j < N; j++) {
        double a = -hj_atom_cost_r(L->g[j], hj_sqdist(x, L->y + j * d, d), q) / eps;
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

static hj_status check_point(const hj_landscape *L, double eps, const double *x, hj_error *err)
{
    if (L == NULL)
        return hj_error_set(err, HJ_EINVAL, "landscape: NULL landscape");
    if (!(eps > 0.0) || !isfinite(eps))
        return hj_error_set(err, HJ_EINVAL, "landscape: eps must be finite and > 0 (got %g)", eps);
    if (x == NULL)
        return hj_error_set(err, HJ_EINVAL, "landscape: NULL point");
    if (!all_finite(x, L->d))
        return hj_error_set(err, HJ_ENAN, "landscape: the point has a non-finite coordinate");
    return HJ_OK;
}

hj_status hj_landscape_eval(hj_landscape *L, double eps, const double *x, double *H,
                            double *grad, double *hess, double *grad_eps, hj_error *err)
{
    hj_status st = check_point(L, eps, x, err);
    if (st != HJ_OK)
        return st;
    kernel(L, eps, x);
    const size_t N = L->N, d = L->d;
    if (H)
        *H = L->H;
    if (grad || grad_eps) {
        double *ga = L->work, *ge = L->work + d;
        for (size_t k = 0; k < d; k++)
            ga[k] = ge[k] = 0.0;
        for (size_t j = 0; j < N; j++) {
            if (L->pi[j] == 0.0)
                continue;
            double c1 = L->pi[j] * L->r[j], c2 = c1 * (L->r[j] + 2.0);
            for (size_t k = 0; k < d; k++) {
                ga[k] += c1 * L->S[j * d + k];
                ge[k] += c2 * L->S[j * d + k];
            }
        }
        for (size_t k = 0; k < d; k++) {
            if (grad)
                grad[k] = -ga[k] / eps;
            if (grad_eps)
                grad_eps[k] = ge[k] / eps / eps;
        }
    }
    if (hess) {
        for (size_t a = 0; a < d * d; a++)
            hess[a] = 0.0;
        for (size_t j = 0; j < N; j++) {
            if (L->pi[j] == 0.0)
                continue;
            double c = L->pi[j] * (L->r[j] + 1.0);
            const double *sj = L->S + j * d;
            for (size_t a = 0; a < d; a++)
                for (size_t b = a; b < d; b++)
                    hess[a * d + b] += c * sj[a] * sj[b];
        }
        for (size_t a = 0; a < d; a++)
            for (size_t b = a; b < d; b++) {
                double v = -hess[a * d + b] / eps / eps;
                hess[a * d + b] = v;
                hess[b * d + a] = v;
            }
    }
    return HJ_OK;
}

hj_status hj_landscape_batch(hj_landscape *L, double eps, const double *x, size_t n, double *H,
                             hj_error *err)
{
    if (L == NULL || (n > 0 && (x == NULL || H == NULL)))
        return hj_error_set(err, HJ_EINVAL, "landscape: NULL argument");
    for (size_t i = 0; i < n; i++) {
        hj_status st = check_point(L, eps, x + i * L->d, err);
        if (st != HJ_OK)
            return st;
        kernel(L, eps, x + i * L->d);
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
    hj_status st = check_point(L, eps, x, err);
    if (st != HJ_OK)
        return st;
    if (v == NULL || !all_finite(v, L->d))
        return hj_error_set(err, HJ_EINVAL, "landscape: direction v is NULL or not finite");
    kernel(L, eps, x);
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
static double residual(hj_landscape *L, double eps, const double *x, double *H, double *F,
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
    hj_status st = check_point(L, eps, x, err);
    if (st != HJ_OK)
        return st;
    if (info == NULL)
        return hj_error_set(err, HJ_EINVAL, "landscape: NULL info");
    const size_t d = L->d;
    /* work[0, 2d) is used inside hj_landscape_eval */
    double *J = L->work + 4 * d, *lam = L->work + 3 * d, *F = L->work + 2 * d;
    double gscale;
    const double scale = residual(L, eps, x, &info->H, F, J, &gscale);
    info->grad_rel = gscale > 0.0 ? norm2(F, d) / gscale : (norm2(F, d) > 0.0 ? INFINITY : 0.0);
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

/* ---- Newton --------------------------------------------------------------------- */


static int inside(const double *x, const double *lo, const double *hi, size_t d)
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
    hj_status st = check_point(L, eps, x0, err);
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
        const double side = box_side(L);
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
        double scale = residual(L, eps, x, NULL, F, J, NULL);
        double phi = norm2(F, d);
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
        double len = norm2(dx, d);
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
            if (inside(xt, lo, hi, d))
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
            if (!inside(xt, lo, hi, d)) {
                outside = 1;
                alpha *= 0.5;
                if (alpha < 1.0 / 1024.0)
                    break;
                continue;
            }
            residual(L, eps, xt, NULL, Ft, NULL, NULL);
            double phit = norm2(Ft, d);
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
static int descend(hj_landscape *L, double eps, const double *x0, const double *lo,
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
        double len = norm2(p, d), slope = 0.0;
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
            if (!inside(xt, lo, hi, d))
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

/* ---- multi-start ------------------------------------------------------------------ */

void hj_landscape_options_default(hj_landscape_options *o)
{
    memset(o, 0, sizeof *o);
    o->eps_min = NAN;
    o->eps_max = NAN;
    o->pad = 0.5;
    o->lo = o->hi = NULL;
    o->h_max = 0.05;
    o->h_min = 1e-8;
    o->max_steps = 20000;
    o->seed_levels = 16;
    o->grid_seeds = 0;
    o->neighbours = 8;
}

void hj_crit_list_free(hj_crit_list *c)
{
    if (c == NULL)
        return;
    free(c->x), free(c->H), free(c->index), free(c->lam_rel);
    memset(c, 0, sizeof *c);
}

static hj_status crit_push(hj_crit_list *c, const double *x, const hj_crit_info *info,
                           hj_error *err)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 32;
        double *nx = realloc(c->x, cap * c->d * sizeof *nx);
        if (nx)
            c->x = nx;
        double *nH = realloc(c->H, cap * sizeof *nH);
        if (nH)
            c->H = nH;
        int *ni = realloc(c->index, cap * sizeof *ni);
        if (ni)
            c->index = ni;
        double *nl = realloc(c->lam_rel, cap * sizeof *nl);
        if (nl)
            c->lam_rel = nl;
        if (!nx || !nH || !ni || !nl)
            return hj_error_set(err, HJ_ENOMEM, "landscape: out of memory");
        c->cap = cap;
    }
    memcpy(c->x + c->n * c->d, x, c->d * sizeof *x);
    c->H[c->n] = info->H;
    c->index[c->n] = info->index;
    c->lam_rel[c->n] = info->lam_rel;
    c->n++;
    return HJ_OK;
}

typedef struct key_idx {
    double key;
    size_t i;
} key_idx;

static int cmp_key(const void *a, const void *b)
{
    const key_idx *p = a, *q = b;
    return (p->key > q->key) - (p->key < q->key);
}

/* Resolve the options' domain into lo, hi (d). */
static void options_domain(const hj_landscape *L, const hj_landscape_options *o, double *lo,
                           double *hi)
{
    if (o->lo && o->hi) {
        memcpy(lo, o->lo, L->d * sizeof *lo);
        memcpy(hi, o->hi, L->d * sizeof *hi);
    } else {
        hj_landscape_domain(L, o->pad, lo, hi);
    }
}

hj_status hj_landscape_critical_points(hj_landscape *L, double eps, const hj_landscape_options *o,
                                       hj_crit_list *out, hj_error *err)
{
    if (L == NULL || o == NULL || out == NULL)
        return hj_error_set(err, HJ_EINVAL, "landscape: NULL argument");
    memset(out, 0, sizeof *out);
    out->d = L->d;
    if (!(eps > 0.0) || !isfinite(eps))
        return hj_error_set(err, HJ_EINVAL, "landscape: eps must be finite and > 0 (got %g)", eps);
    const size_t N = L->N, d = L->d;
    size_t ng = o->grid_seeds;
    if (ng == 0)
        ng = d == 1 ? 96 : d == 2 ? 20 : d == 3 ? 6 : 0;
    /* two seed grids: ng^d over the atoms' box (widened by 10%) and
     * (ng/2)^d over the whole domain, for minima far from the atoms */
    size_t n_in = 1, n_out = 1, ng2 = ng / 2 > 1 ? ng / 2 : (ng ? 2 : 0);
    if (ng == 0 || d > 6)
        n_in = n_out = 0;
    else
        for (size_t k = 0; k < d; k++)
            n_in *= ng, n_out *= ng2;
    size_t kn = o->neighbours < N ? o->neighbours : N - 1;
    const size_t n_seeds = N + N * kn + n_in + n_out;
    double *seeds = malloc(n_seeds * d * sizeof *seeds);
    double *lo = malloc(d * sizeof *lo), *hi = malloc(d * sizeof *hi);
    double *xs = malloc(d * sizeof *xs);
    double *dmem = malloc((5 * d + d * d) * sizeof *dmem);
    key_idx *nb = malloc((N ? N : 1) * sizeof *nb);
    hj_status st = HJ_OK;
    if (!seeds || !lo || !hi || !xs || !dmem || !nb) {
        st = hj_error_set(err, HJ_ENOMEM, "landscape: out of memory");
        goto done;
    }
    options_domain(L, o, lo, hi);
    double diam = 0.0;
    for (size_t k = 0; k < d; k++)
        diam += (hi[k] - lo[k]) * (hi[k] - lo[k]);
    diam = sqrt(diam);
    size_t ns = 0;
    for (size_t j = 0; j < N; j++)
        memcpy(seeds + (ns++) * d, L->y + j * d, d * sizeof *seeds);
    for (size_t j = 0; j < N && kn > 0; j++) {
        size_t m = 0;
        for (size_t i = 0; i < N; i++) {
            if (i == j)
                continue;
            double s2 = 0.0;
            for (size_t k = 0; k < d; k++) {
                double e = L->y[i * d + k] - L->y[j * d + k];
                s2 += e * e;
            }
            nb[m].key = s2, nb[m].i = i, m++;
        }
        qsort(nb, m, sizeof *nb, cmp_key);
        for (size_t a = 0; a < kn && a < m; a++) {
            double *sd = seeds + (ns++) * d;
            for (size_t k = 0; k < d; k++)
                sd[k] = 0.5 * (L->y[j * d + k] + L->y[nb[a].i * d + k]);
        }
    }
    const double side = box_side(L);
    for (int pass = 0; pass < 2; pass++) {
        const size_t cnt = pass == 0 ? n_in : n_out, per = pass == 0 ? ng : ng2;
        for (size_t gi = 0; gi < cnt; gi++) {
            size_t rem = gi;
            double *sd = seeds + (ns++) * d;
            for (size_t k = 0; k < d; k++) {
                size_t ik = rem % per;
                rem /= per;
                double a = pass == 0 ? L->box_lo[k] - 0.1 * side : lo[k];
                double b = pass == 0 ? L->box_hi[k] + 0.1 * side : hi[k];
                sd[k] = a + (b - a) * ((double)ik + 0.5) / (double)per;
            }
        }
    }
    const size_t mid_lo = N, mid_hi = N + N * kn; /* the midpoint seeds */
    for (size_t i = 0; i < ns * 3; i++) {
        /* from each seed: Newton (any critical point), descent (a minimum),
         * ascent (a maximum); from the midpoints, placed for saddles, Newton only */
        const double *sd = seeds + (i / 3) * d;
        hj_error e2 = {0};
        if (i % 3 != 0 && i / 3 >= mid_lo && i / 3 < mid_hi)
            continue;
        if (i % 3 == 0) {
            if (hj_landscape_newton(L, eps, sd, lo, hi, xs, NULL, &e2) != HJ_OK)
                continue;
        } else if (descend(L, eps, sd, lo, hi, i % 3 == 1 ? 1.0 : -1.0, 0.05 * diam, diam, xs,
                           dmem) != 0) {
            continue;
        }
        if (!inside(xs, lo, hi, d))
            continue;
        hj_crit_info info;
        if (hj_landscape_classify(L, eps, xs, &info, &e2) != HJ_OK)
            continue;
        if (info.index < 0 || !(info.grad_rel <= 1e-8))
            continue;
        int dup = 0;
        for (size_t c = 0; c < out->n && !dup; c++) {
            double s2 = 0.0;
            for (size_t k = 0; k < d; k++) {
                double e = out->x[c * d + k] - xs[k];
                s2 += e * e;
            }
            if (sqrt(s2) <= 1e-7 * diam)
                dup = 1;
        }
        if (dup)
            continue;
        if ((st = crit_push(out, xs, &info, err)) != HJ_OK)
            goto done;
    }
    /* sort by x_1 */
    if (out->n > 1) {
        key_idx *ord = malloc(out->n * sizeof *ord);
        hj_crit_list tmp = {0};
        tmp.d = d;
        if (ord == NULL) {
            st = hj_error_set(err, HJ_ENOMEM, "landscape: out of memory");
            goto done;
        }
        for (size_t c = 0; c < out->n; c++)
            ord[c].key = out->x[c * d], ord[c].i = c;
        qsort(ord, out->n, sizeof *ord, cmp_key);
        for (size_t c = 0; c < out->n && st == HJ_OK; c++) {
            hj_crit_info info = {0};
            size_t i = ord[c].i;
            info.H = out->H[i], info.index = out->index[i], info.lam_rel = out->lam_rel[i];
            st = crit_push(&tmp, out->x + i * d, &info, err);
        }
        free(ord);
        if (st != HJ_OK) {
            hj_crit_list_free(&tmp);
            goto done;
        }
        hj_crit_list_free(out);
        *out = tmp;
    }
done:
    if (st != HJ_OK)
        hj_crit_list_free(out);
    free(seeds), free(lo), free(hi), free(xs), free(nb), free(dmem);
    return st;
}

void hj_landscape_two_clusters(size_t n, double spread, uint64_t seed, double *y, double *g)
{
    hj_rng r;
    hj_rng_seed(&r, seed);
    for (size_t j = 0; j < 2 * n; j++) {
        const double c = j < n ? -1.0 : 1.0;
        y[2 * j] = c + spread * hj_rng_normal(&r);
        y[2 * j + 1] = c + spread * hj_rng_normal(&r);
        g[j] = j < n ? 0.0 : 1.0;
    }
}
