/* entropic.c — the entropic programme max_pi [pi.z + eps H(pi)] solved iteratively (dual Newton, mirror descent), never by closed-form softmax. */
#include "hjdl/entropic.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Notation used throughout (N atoms):
 *   m   = max_j z_j                      the tropical value f_0
 *   a_j = (z_j - m) / eps  <= 0          scaled, max-shifted logits
 * Stationarity of the Lagrangian gives pi_j(lambda) = exp((z_j - lambda)/eps - 1).
 * With lambda = m + eps*mu and nu = mu + 1 this is pi_j = exp(a_j - nu): every
 * exponent is <= -nu <= 0, so nothing overflows for any eps > 0 and any finite
 * z, and a_j = -inf (underflow of eps, huge gaps) just gives pi_j = 0.
 * The value is assembled as m + sum_j pi_j (z_j - m) + eps H(pi), so the
 * large common offset m never meets the small corrections. */

/* Neumaier's compensated sum: the residual |sum pi - 1| must be resolvable
 * at the level of a few ulp even for large N. */
typedef struct csum {
    double s; /* running sum */
    double c; /* running compensation */
} csum;

static void csum_add(csum *k, double x)
{
    double t = k->s + x;
    if (fabs(k->s) >= fabs(x))
        k->c += (k->s - t) + x;
    else
        k->c += (x - t) + k->s;
    k->s = t;
}

static double csum_value(const csum *k)
{
    return k->s + k->c;
}

/* Shared argument checks; fn names the caller in the message. */
static hj_status check_args(const char *fn, const double *z, size_t N, double eps,
                            double tol, hj_error *err)
{
    if (N == 0)
        return hj_error_set(err, HJ_EINVAL, "%s: N must be >= 1 (got 0 atoms)", fn);
    if (z == NULL)
        return hj_error_set(err, HJ_EINVAL, "%s: z is NULL", fn);
    if (!isfinite(eps) || eps < 0.0)
        return hj_error_set(err, HJ_EINVAL, "%s: eps must be finite and >= 0 (got %g)",
                            fn, eps);
    if (!(tol > 0.0))
        return hj_error_set(err, HJ_EINVAL, "%s: tol must be > 0 (got %g)", fn, tol);
    for (size_t j = 0; j < N; j++)
        if (!isfinite(z[j]))
            return hj_error_set(err, HJ_ENAN, "%s: z[%zu] = %g is not finite", fn, j,
                                z[j]);
    return HJ_OK;
}

static double max_of(const double *z, size_t N)
{
    double m = z[0];
    for (size_t j = 1; j < N; j++)
        if (z[j] > m)
            m = z[j];
    return m;
}

static void fill_result(hj_entropic_result *res, double value, double kkt, size_t it)
{
    if (res != NULL) {
        res->value = value;
        res->kkt_residual = kkt;
        res->iterations = it;
    }
}

/* eps == 0: the linear programme max_pi pi.z. Its solution set is the face
 * spanned by the arg-max atoms; we return its barycentre (the eps -> 0 limit
 * of the Gibbs weights). */
static hj_status linear_programme(const double *z, size_t N, double m, double *pi,
                                  hj_entropic_result *res)
{
    size_t ties = 0;
    for (size_t j = 0; j < N; j++)
        ties += (z[j] == m);
    double share = 1.0 / (double)ties;
    csum mass = {0.0, 0.0};
    for (size_t j = 0; j < N; j++) {
        double p = (z[j] == m) ? share : 0.0;
        if (pi != NULL)
            pi[j] = p;
        csum_add(&mass, p);
    }
    fill_result(res, m, fabs(csum_value(&mass) - 1.0), 0);
    return HJ_OK;
}

/* S(nu) = sum_j exp(a_j - nu), compensated. */
static double gibbs_mass(const double *z, size_t N, double m, double eps, double nu)
{
    csum k = {0.0, 0.0};
    for (size_t j = 0; j < N; j++)
        csum_add(&k, exp((z[j] - m) / eps - nu));
    return csum_value(&k);
}

/* Writes pi_j = exp(a_j - nu) (if pi != NULL) and returns the objective
 * sum pi z + eps H(pi) at those weights, with *mass = sum pi. log pi_j is
 * a_j - nu exactly (no log(exp()) round trip); 0 log 0 = 0. */
static double newton_objective(const double *z, size_t N, double m, double eps, double nu,
                               double *pi, double *mass)
{
    csum lin = {0.0, 0.0}, ent = {0.0, 0.0}, tot = {0.0, 0.0};
    for (size_t j = 0; j < N; j++) {
        double lp = (z[j] - m) / eps - nu;
        double p = exp(lp);
        if (pi != NULL)
            pi[j] = p;
        if (p == 0.0)
            continue;
        csum_add(&tot, p);
        csum_add(&lin, p * (z[j] - m));
        csum_add(&ent, -p * lp);
    }
    *mass = csum_value(&tot);
    return m + csum_value(&lin) + eps * csum_value(&ent);
}

/* Newton's method on phi(nu) = S(nu) - 1, nu = (lambda - m)/eps + 1.
 *
 * phi is strictly decreasing and convex (phi' = -S, phi'' = S), and
 *   phi(0)     = sum_j exp(a_j) - 1     >= 0   (the arg-max term is 1),
 *   phi(log N) = mean_j exp(a_j) - 1    <= 0   (every term is <= 1),
 * so the root lies in [0, log N], i.e. lambda in [m - eps, m + eps (log N - 1)].
 * Started from the left end, undamped Newton is monotone for a convex
 * decreasing function; the bracket is still maintained and a bisection
 * replaces any step that leaves it (rounding near the root). If the bracket
 * shrinks to adjacent doubles before |phi| <= tol, tol is below what double
 * precision can resolve and the solver stops with HJ_EMAXITER.
 *
 * Contract: z (N) finite, eps >= 0 finite, tol > 0. pi (N) and res may be
 * NULL. On HJ_OK, |sum pi - 1| <= tol and res->value = sum pi z + eps H(pi).
 * On HJ_EMAXITER (budget max_iter exhausted or tol unreachable) pi and res
 * still hold the last iterate. HJ_ERANGE if the value overflows (only for
 * eps near DBL_MAX). eps == 0: value max z, pi uniform on exact ties,
 * 0 iterations. */
hj_status hj_entropic_dual_newton(const double *z, size_t N, double eps, double tol,
                                  size_t max_iter, double *pi,
                                  hj_entropic_result *res, hj_error *err)
{
    static const char fn[] = "hj_entropic_dual_newton";
    hj_status st = check_args(fn, z, N, eps, tol, err);
    if (st != HJ_OK)
        return st;
    double m = max_of(z, N);
    if (eps == 0.0)
        return linear_programme(z, N, m, pi, res);

    /* Widen the right end by a few ulp so rounding of log cannot cut off a
     * root at log N (all atoms tied). */
    double lo = 0.0, hi = log((double)N) * (1.0 + 8.0 * DBL_EPSILON);
    double nu = 0.0, phi = 0.0;
    size_t it = 0;
    int converged = 0, stalled = 0;
    for (;;) {
        double S = gibbs_mass(z, N, m, eps, nu);
        phi = S - 1.0;
        if (fabs(phi) <= tol) {
            converged = 1;
            break;
        }
        if (phi > 0.0)
            lo = nu;
        else
            hi = nu;
        if (it == max_iter)
            break;
        double next = nu + phi / S; /* Newton: nu - phi / phi' */
        if (!(next > lo && next < hi)) {
            next = lo + 0.5 * (hi - lo);
            if (!(next > lo && next < hi)) {
                stalled = 1;
                break;
            }
        }
        nu = next;
        it++;
    }

    double mass;
    double value = newton_objective(z, N, m, eps, nu, pi, &mass);
    double kkt = fabs(mass - 1.0);
    fill_result(res, value, kkt, it);
    if (!converged) {
        if (stalled)
            return hj_error_set(err, HJ_EMAXITER,
                                "%s: |sum pi - 1| = %.3g > tol = %.3g but the bracket has "
                                "shrunk to rounding level after %zu iterations (tol is "
                                "below double-precision resolution)",
                                fn, kkt, tol, it);
        return hj_error_set(err, HJ_EMAXITER,
                            "%s: |sum pi - 1| = %.3g > tol = %.3g after max_iter = %zu "
                            "iterations",
                            fn, kkt, tol, it);
    }
    if (!isfinite(value))
        return hj_error_set(err, HJ_ERANGE,
                            "%s: the value overflows (eps = %g, N = %zu)", fn, eps, N);
    return HJ_OK;
}

/* Entropic mirror descent (exponentiated gradient ascent) on
 *   F(pi) = sum_j pi_j z_j + eps H(pi),  dF/dpi_j = z_j - eps (log pi_j + 1),
 * with step eta = 1/(2 eps):
 *   log pi_j <- log pi_j + eta dF/dpi_j - log Z
 *            =  (log pi_j + a_j)/2 - log Z'   (constants absorbed in Z').
 * The iterate is kept as log pi (pi itself underflows for tiny eps); the
 * normalisation is the Bregman (KL) projection onto the simplex. In log
 * space the distance to the Gibbs weights halves at every step (modulo the
 * constant), so convergence is linear with rate 1/2 from any start.
 *
 * Contract: as hj_entropic_dual_newton but eps > 0 (HJ_EINVAL otherwise);
 * stops when sum_j |pi_new - pi_old| <= tol (HJ_OK) or after max_iter steps
 * (HJ_EMAXITER, pi and res filled with the last iterate). res->kkt_residual
 * is the stationarity residual sum_j pi_j |g_j - E_pi g|, g_j = a_j - log pi_j
 * (dimensionless; zero exactly when pi is the Gibbs distribution).
 * Allocates 2N doubles of scratch (HJ_ENOMEM). */
hj_status hj_entropic_mirror_descent(const double *z, size_t N, double eps, double tol,
                                     size_t max_iter, double *pi,
                                     hj_entropic_result *res, hj_error *err)
{
    static const char fn[] = "hj_entropic_mirror_descent";
    hj_status st = check_args(fn, z, N, eps, tol, err);
    if (st != HJ_OK)
        return st;
    if (eps == 0.0)
        return hj_error_set(err, HJ_EINVAL,
                            "%s: eps must be > 0 (the step is 1/(2 eps)); "
                            "use hj_entropic_dual_newton for eps = 0",
                            fn);
    if (N > SIZE_MAX / (2 * sizeof(double)))
        return hj_error_set(err, HJ_ENOMEM, "%s: N = %zu is too large", fn, N);
    double *lp = malloc(2 * N * sizeof *lp); /* (N) log pi */
    if (lp == NULL)
        return hj_error_set(err, HJ_ENOMEM, "%s: cannot allocate %zu doubles of scratch",
                            fn, 2 * N);
    double *t = lp + N; /* (N) unnormalised next log pi */
    double m = max_of(z, N);

    double l0 = -log((double)N);
    for (size_t j = 0; j < N; j++)
        lp[j] = l0;
    double change = INFINITY;
    size_t it = 0;
    while (change > tol && it < max_iter) {
        /* t_j finite for the arg-max atoms, so tmax is finite; -inf entries
         * (a_j = -inf) stay -inf and give pi_j = 0. */
        double tmax = -INFINITY;
        for (size_t j = 0; j < N; j++) {
            t[j] = 0.5 * lp[j] + 0.5 * ((z[j] - m) / eps);
            if (t[j] > tmax)
                tmax = t[j];
        }
        csum s = {0.0, 0.0};
        for (size_t j = 0; j < N; j++)
            csum_add(&s, exp(t[j] - tmax));
        double logZ = tmax + log(csum_value(&s));
        csum d = {0.0, 0.0};
        for (size_t j = 0; j < N; j++) {
            double ln = t[j] - logZ;
            csum_add(&d, fabs(exp(ln) - exp(lp[j])));
            lp[j] = ln;
        }
        change = csum_value(&d);
        it++;
    }

    /* Objective, mass-independent since the iterate is normalised. */
    csum lin = {0.0, 0.0}, ent = {0.0, 0.0}, gbar = {0.0, 0.0};
    for (size_t j = 0; j < N; j++) {
        double p = exp(lp[j]);
        if (pi != NULL)
            pi[j] = p;
        if (p == 0.0)
            continue;
        csum_add(&lin, p * (z[j] - m));
        csum_add(&ent, -p * lp[j]);
        csum_add(&gbar, p * ((z[j] - m) / eps - lp[j]));
    }
    double value = m + csum_value(&lin) + eps * csum_value(&ent);
    double gmean = csum_value(&gbar);
    csum dev = {0.0, 0.0};
    for (size_t j = 0; j < N; j++) {
        double p = exp(lp[j]);
        if (p == 0.0)
            continue;
        csum_add(&dev, p * fabs((z[j] - m) / eps - lp[j] - gmean));
    }
    fill_result(res, value, csum_value(&dev), it);
    free(lp);

    if (change > tol)
        return hj_error_set(err, HJ_EMAXITER,
                            "%s: l1 change %.3g > tol = %.3g after max_iter = %zu "
                            "iterations",
                            fn, change, tol, it);
    if (!isfinite(value))
        return hj_error_set(err, HJ_ERANGE,
                            "%s: the value overflows (eps = %g, N = %zu)", fn, eps, N);
    return HJ_OK;
}
