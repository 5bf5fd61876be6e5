/* exp_quadrature.c — C8: Hopf–Cole solution of grid atoms (trapezoid quadrature of Lipschitz initial data) converges to the Hopf–Lax solution at O(N^{-1/d}). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiments/exp-common.h"
#include "experiments/experiments-impl.h"
#include "hjdl/hopf.h"
#include "hjdl/lse.h"
#include "hjdl/pde.h"
#include "hjdl/plot.h"
#include "hjdl/rng.h"
#include "hjdl/stats.h"

/*
 * The problem (fixed here, documented in the notes of every run):
 *
 *   initial data  g(y) = sum_k |y_k - c_k|   (Lipschitz, separable; the kink
 *                 offsets c_k are not grid nodes for any m used here),
 *   time          t = 1,
 *   target        the continuous Hopf–Lax solution
 *                   u_0(x,t) = min_y g(y) + |x - y|^2/(4t) = sum_k phi(x_k - c_k),
 *                   phi(s) = s^2/(4t) if |s| <= 2t, |s| - t otherwise
 *                 (per coordinate: the minimiser is z = 0 while the slope
 *                 |s|/(2t) of the quadratic does not exceed the Lipschitz
 *                 constant 1, else z = s - 2t sign(s));
 *   approximation the normalised Hopf–Cole solution u~ (hopf.h) of the N = m^d
 *                 grid atoms on [-2,2]^d: y_j = node j, g_j = g(y_j) - eps
 *                 log(omega_j), omega_j the product trapezoid weight, at
 *                 eps = N^{-1/d} = 1/m (the SPEC's coupling);
 *   error         max over a fixed set of test points in [-1,1]^d of |u~ - u_0|.
 *
 * Two diagnostic components per grid:
 *   grid error    eps -> 0 with the grid fixed: the Hopf–Lax of the atoms
 *                 (min over the nodes) minus u_0, >= 0;
 *   viscosity     grid -> continuum with eps fixed: the continuous normalised
 *   error         Hopf–Cole solution of g minus u_0. It is separable; each
 *                 coordinate has a closed form with erfc (qd_visc1 below).
 */

#define QD_T 1.0            /* time t */
#define QD_BOX 2.0          /* atoms on [-QD_BOX, QD_BOX]^d */
#define QD_TEST_BOX 1.0     /* test points uniform in [-1, 1]^d */
#define QD_NTEST 200        /* number of test points */
#define QD_MAX_D 4          /* the largest dimension this experiment supports */
#define QD_MAX_M 64         /* the most grid sizes per dimension */
/* Claim tolerance, fixed before any number existed: an exponent within 10 % of
 * -1/d is the same rate over the 3-6 decades of N measured here, while the
 * rate of the next dimension, -1/(d+1), is at least 20 % away for d <= 4. */
#define QD_TOL_REL 0.1
#define QD_PI 3.14159265358979323846
#define QD_NAME "quadrature"

/* The kink offsets c_k (digits of pi, e, sqrt 2, chosen off every grid node). */
static const double QD_C[QD_MAX_D] = {0.1234, -0.2718, 0.3142, -0.1414};

/* ---- the problem ---------------------------------------------------------- */

/* phi(s) = min_z |z| + (s - z)^2/(4t): the 1-D Hopf–Lax solution of |.|. */
static double qd_phi(double s, double t)
{
    double a = fabs(s);
    return a <= 2.0 * t ? s * s / (4.0 * t) : a - t;
}

/* The QD_NTEST seeded test points of dimension d, uniform on the test box,
 * into x (QD_NTEST, d); the same points for the sweep and the later checks. */
static void qd_test_points(uint64_t seed, size_t d, double *x)
{
    hj_rng rng;
    hj_rng_seed(&rng, seed * 1000003ULL + 17ULL * d);
    for (size_t i = 0; i < QD_NTEST * d; i++)
        x[i] = hj_rng_range(&rng, -QD_TEST_BOX, QD_TEST_BOX);
}

/* u_0(x, t) for x (d). */
static double qd_u0(const double *x, size_t d, double t)
{
    double u = 0.0;
    for (size_t k = 0; k < d; k++)
        u += qd_phi(x[k] - QD_C[k], t);
    return u;
}

/* g(y) for y (d). */
static double qd_g(const double *y, size_t d)
{
    double v = 0.0;
    for (size_t k = 0; k < d; k++)
        v += fabs(y[k] - QD_C[k]);
    return v;
}

/* g as an hj_scalar_fn (for pde.h's quadrature atoms). */
static double qd_g_fn(const double *y, size_t d, void *ctx)
{
    (void)ctx;
    return qd_g(y, d);
}

/* log erfc(a), also where erfc(a) underflows (a > 25: asymptotic series,
 * truncation error below 1e-10 relative). */
static double qd_log_erfc(double a)
{
    if (a < 25.0)
        return log(erfc(a));
    double r = 1.0 / (2.0 * a * a);
    double ser = 1.0 - r + 3.0 * r * r - 15.0 * r * r * r + 105.0 * r * r * r * r;
    return -a * a - log(a * sqrt(QD_PI)) + log(ser);
}

/* The continuous normalised 1-D Hopf–Cole solution of |.| at s = x - c:
 *   u~(s) = -eps log[(4 pi eps t)^{-1/2} int_R exp(-(|z| + (s - z)^2/(4t))/eps) dz]
 *         = -eps log( (A + B)/2 ),
 *   A = exp(-(s - t)/eps) erfc((2t - s)/sig),  B = exp((s + t)/eps) erfc((s + 2t)/sig),
 * sig = sqrt(4 t eps): completing the square on z > 0 and z < 0. */
static double qd_visc1(double s, double t, double eps)
{
    double sig = sqrt(4.0 * t * eps);
    double la = -(s - t) / eps + qd_log_erfc((2.0 * t - s) / sig);
    double lb = (s + t) / eps + qd_log_erfc((s + 2.0 * t) / sig);
    double m = fmax(la, lb);
    return -eps * (m + log(exp(la - m) + exp(lb - m)) - log(2.0));
}

/* Nodes of the m^d grid on [-QD_BOX, QD_BOX]^d (axis 0 fastest, as in pde.h)
 * into y (N, d) and g (N) = g(y_j) - eps log(omega_j) with omega_j the
 * product trapezoid weight (h/2 at an end node, h inside); at eps == 0 the
 * weights drop out. */
static void qd_grid_atoms(size_t d, size_t m, double eps, double *y, double *g)
{
    size_t N = 1;
    for (size_t k = 0; k < d; k++)
        N *= m;
    const double h = 2.0 * QD_BOX / (double)(m - 1);
    for (size_t j = 0; j < N; j++) {
        size_t idx = j;
        double logw = 0.0;
        for (size_t k = 0; k < d; k++) {
            size_t i = idx % m;
            idx /= m;
            y[j * d + k] = -QD_BOX + 2.0 * QD_BOX * (double)i / (double)(m - 1);
            logw += log((i == 0 || i == m - 1) ? 0.5 * h : h);
        }
        g[j] = qd_g(y + j * d, d) - (eps > 0.0 ? eps * logw : 0.0);
    }
}

/* Distinct integers, about geometric from lo to hi with `steps` ratios per
 * doubling; returns how many (<= cap). */
static size_t qd_geom(size_t lo, size_t hi, double steps, size_t *out, size_t cap)
{
    if (hi < lo)
        hi = lo;
    size_t K = (size_t)ceil(steps * log2((double)hi / (double)lo)) + 1;
    size_t n = 0;
    for (size_t k = 0; k < K && n < cap; k++) {
        double v = K > 1 ? (double)lo * pow((double)hi / (double)lo, (double)k / (double)(K - 1))
                         : (double)lo;
        size_t m = (size_t)floor(v + 0.5);
        if (n == 0 || m > out[n - 1])
            out[n++] = m;
    }
    return n;
}

static size_t qd_ipow(size_t m, size_t d)
{
    size_t N = 1;
    for (size_t k = 0; k < d; k++)
        N *= m;
    return N;
}

/* ---- one grid ----------------------------------------------------------- */

/* What one (d, m) measures, and the worst check values it saw. */
typedef struct qd_row {
    double d, m, N, eps;
    double err;        /* max |u~ - u_0| */
    double grid_err;   /* max (Hopf–Lax of grid atoms - u_0) */
    double visc_err;   /* max |continuous u~_eps - u_0| */
    double err_plain;  /* max |plain LSE of g(y_j) atoms (no weights, no normalisation) - u_0| */
} qd_row;

typedef struct qd_checks {
    double bound_viol;    /* signed worst violation of 0 <= u_0^grid - u_eps^grid <= eps log N */
    double bound_scale;
    double below_viol;    /* signed worst of u_0 - (Hopf–Lax of grid atoms) */
    double below_scale;
} qd_checks;

typedef struct qd_buf {
    double *y, *g, *g0;        /* (N, d), (N), (N) */
    double *u, *un, *uhl, *uhl0, *up;   /* (n) each */
} qd_buf;

static void qd_buf_free(qd_buf *b)
{
    free(b->y);
    free(b->g);
    free(b->g0);
    free(b->u);
    memset(b, 0, sizeof *b);
}

static hj_status qd_buf_alloc(qd_buf *b, size_t N, size_t d, size_t n, hj_error *err)
{
    memset(b, 0, sizeof *b);
    b->y = malloc(N * d * sizeof *b->y);
    b->g = malloc(N * sizeof *b->g);
    b->g0 = malloc(N * sizeof *b->g0);
    b->u = malloc(5 * n * sizeof *b->u);
    if (!b->y || !b->g || !b->g0 || !b->u) {
        qd_buf_free(b);
        return hj_error_set(err, HJ_ENOMEM, "quadrature: cannot allocate %zu atoms in %zu dimensions",
                            N, d);
    }
    b->un = b->u + n;
    b->uhl = b->u + 2 * n;
    b->uhl0 = b->u + 3 * n;
    b->up = b->u + 4 * n;
    return HJ_OK;
}

/* Evaluate everything for one grid (d, m) at eps on the test points x (n, d). */
static hj_status qd_run_grid(size_t d, size_t m, double eps, const double *x, size_t n,
                             const double *u0, qd_row *row, qd_checks *ck, hj_error *err)
{
    const size_t N = qd_ipow(m, d);
    qd_buf b;
    hj_status st = qd_buf_alloc(&b, N, d, n, err);
    if (st != HJ_OK)
        return st;
    qd_grid_atoms(d, m, eps, b.y, b.g);
    qd_grid_atoms(d, m, 0.0, b.y, b.g0);
    hj_atoms at = {N, d, b.y, b.g}, at0 = {N, d, b.y, b.g0};
    hj_hc_out o;
    memset(&o, 0, sizeof o);
    o.u = b.u;
    o.u_norm = b.un;
    hj_hc_out op;
    memset(&op, 0, sizeof op);
    op.u = b.up;
    if ((st = hj_hopf_cole_eval(&at, NULL, x, n, QD_T, eps, &o, err)) != HJ_OK ||
        (st = hj_hopf_cole_eval(&at0, NULL, x, n, QD_T, eps, &op, err)) != HJ_OK ||
        (st = hj_hopf_lax_eval(&at, NULL, x, n, QD_T, b.uhl, NULL, err)) != HJ_OK ||
        (st = hj_hopf_lax_eval(&at0, NULL, x, n, QD_T, b.uhl0, NULL, err)) != HJ_OK) {
        qd_buf_free(&b);
        return st;
    }
    const double logN = log((double)N);
    row->d = (double)d;
    row->m = (double)m;
    row->N = (double)N;
    row->eps = eps;
    row->err = row->grid_err = row->visc_err = row->err_plain = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double *xi = x + i * d;
        double uv = 0.0;
        for (size_t k = 0; k < d; k++)
            uv += qd_visc1(xi[k] - QD_C[k], QD_T, eps);
        row->err = fmax(row->err, fabs(b.un[i] - u0[i]));
        row->grid_err = fmax(row->grid_err, b.uhl0[i] - u0[i]);
        row->visc_err = fmax(row->visc_err, fabs(uv - u0[i]));
        row->err_plain = fmax(row->err_plain, fabs(b.up[i] - u0[i]));
        /* proved: 0 <= u_0 - u_eps <= eps log N for the same atoms (plain u) */
        double v1 = b.u[i] - b.uhl[i], v2 = b.uhl[i] - b.u[i] - eps * logN;
        ck->bound_viol = fmax(ck->bound_viol, fmax(v1, v2));
        ck->bound_scale = fmax(ck->bound_scale, fabs(b.uhl[i]) + fabs(b.u[i]));
        /* a min over a subset of the box is never below the inf over R^d */
        ck->below_viol = fmax(ck->below_viol, u0[i] - b.uhl0[i]);
        ck->below_scale = fmax(ck->below_scale, fabs(u0[i]));
    }
    qd_buf_free(&b);
    return HJ_OK;
}

/* ---- checks that need their own computations ----------------------------- */

/* Network vertex: f of the LSE layer with the mapped weights plus the plain u
 * of the same atoms equals |x|^2/(4t); returns the worst relative residual. */
static hj_status qd_check_network(size_t d, size_t m, double eps, const double *x, size_t n,
                                  double *worst, hj_error *err)
{
    const size_t N = qd_ipow(m, d);
    double *y = malloc(N * d * sizeof *y), *g = malloc(N * sizeof *g);
    double *w = malloc(N * d * sizeof *w), *bb = malloc(N * sizeof *bb);
    double *f = malloc(2 * n * sizeof *f);
    hj_status st = HJ_OK;
    if (!y || !g || !w || !bb || !f) {
        st = hj_error_set(err, HJ_ENOMEM, "quadrature: out of memory (network check)");
        goto done;
    }
    double *u = f + n;
    qd_grid_atoms(d, m, eps, y, g);
    TRY(hj_atoms_to_weights(y, g, N, d, QD_T, NULL, w, bb, err));
    hj_lse_layer L = {N, d, w, bb, eps};
    TRY(hj_lse_forward(&L, x, n, f, NULL, NULL, err));
    hj_atoms at = {N, d, y, g};
    hj_hc_out o;
    memset(&o, 0, sizeof o);
    o.u = u;
    TRY(hj_hopf_cole_eval(&at, NULL, x, n, QD_T, eps, &o, err));
    *worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double q = 0.0;
        for (size_t k = 0; k < d; k++)
            q += x[i * d + k] * x[i * d + k];
        q /= 4.0 * QD_T;
        double scale = fmax(1.0, fmax(fabs(f[i]), fmax(fabs(u[i]), q)));
        *worst = fmax(*worst, fabs(f[i] + u[i] - q) / scale);
    }
done:
    free(y);
    free(g);
    free(w);
    free(bb);
    free(f);
    return st;
}

/* Separability: u~ of the m^d grid atoms equals the sum over coordinates of
 * u~ of the m 1-D atoms (|y - c_k| with the 1-D trapezoid weights), because
 * both the data and the weights are products. Worst relative difference. */
static hj_status qd_check_separable(size_t d, size_t m, double eps, const double *x, size_t n,
                                    double *worst, hj_error *err)
{
    const size_t N = qd_ipow(m, d);
    double *y = malloc(N * d * sizeof *y), *g = malloc(N * sizeof *g);
    double *un = malloc(3 * n * sizeof *un);
    double *y1 = malloc(m * sizeof *y1), *g1 = malloc(m * sizeof *g1);
    hj_status st = HJ_OK;
    if (!y || !g || !un || !y1 || !g1) {
        st = hj_error_set(err, HJ_ENOMEM, "quadrature: out of memory (separability check)");
        goto done;
    }
    double *xk = un + n, *u1 = un + 2 * n;
    qd_grid_atoms(d, m, eps, y, g);
    hj_atoms at = {N, d, y, g};
    hj_hc_out o;
    memset(&o, 0, sizeof o);
    o.u_norm = un;
    TRY(hj_hopf_cole_eval(&at, NULL, x, n, QD_T, eps, &o, err));
    const double h = 2.0 * QD_BOX / (double)(m - 1);
    double *sum = calloc(n, sizeof *sum);
    if (sum == NULL) {
        st = hj_error_set(err, HJ_ENOMEM, "quadrature: out of memory (separability check)");
        goto done;
    }
    for (size_t k = 0; k < d && st == HJ_OK; k++) {
        for (size_t i = 0; i < m; i++) {
            y1[i] = -QD_BOX + 2.0 * QD_BOX * (double)i / (double)(m - 1);
            g1[i] = fabs(y1[i] - QD_C[k]) - eps * log((i == 0 || i == m - 1) ? 0.5 * h : h);
        }
        for (size_t i = 0; i < n; i++)
            xk[i] = x[i * d + k];
        hj_atoms a1 = {m, 1, y1, g1};
        hj_hc_out o1;
        memset(&o1, 0, sizeof o1);
        o1.u_norm = u1;
        st = hj_hopf_cole_eval(&a1, NULL, xk, n, QD_T, eps, &o1, err);
        for (size_t i = 0; i < n && st == HJ_OK; i++)
            sum[i] += u1[i];
    }
    *worst = 0.0;
    for (size_t i = 0; i < n && st == HJ_OK; i++)
        *worst = fmax(*worst, fabs(un[i] - sum[i]) / fmax(1.0, fabs(sum[i])));
    free(sum);
done:
    free(y);
    free(g);
    free(un);
    free(y1);
    free(g1);
    return st;
}

/* The closed form phi against a brute-force minimum over a fine 1-D grid of
 * step hb on about [-6, 6]: for each s, min_z over the nodes of |z - c| + (x - z)^2/(4t)
 * with x = s + c. The scan exceeds the true minimum by at most Lip * hb / 2,
 * Lip the Lipschitz constant of the objective on the box. Returns the worst
 * |scan - phi| and that bound. */
static void qd_check_closed_form(const double *s, size_t ns, double *worst, double *bound)
{
    /* the scan's nodes are shifted by 0.37 steps so that no node sits exactly
     * on a minimiser (z = 0 or z = s -+ 2t on a round grid) */
    const size_t nb = 120001;
    const double hb = 12.0 / (double)(nb - 1), lo = -6.0 + 0.37 * hb, hi = 6.0;
    double smax = 0.0;
    for (size_t i = 0; i < ns; i++)
        smax = fmax(smax, fabs(s[i]));
    /* |d/dz| <= 1 + |x - z|/(2t) with |x| <= smax + |c| and |z| <= 6 */
    double lip = 1.0 + (smax + 1.0 + hi) / (2.0 * QD_T);
    *bound = lip * hb / 2.0;
    *worst = 0.0;
    for (size_t i = 0; i < ns; i++) {
        double best = INFINITY;
        for (size_t j = 0; j < nb; j++) {
            double z = lo + hb * (double)j;   /* offset variable z = y - c */
            double v = fabs(z) + (s[i] - z) * (s[i] - z) / (4.0 * QD_T);
            if (v < best)
                best = v;
        }
        *worst = fmax(*worst, fabs(best - qd_phi(s[i], QD_T)));
    }
}

/* Fine 1-D quadrature u~ (library, trapezoid atoms with step h = eps/16) vs
 * the erfc closed form of the continuous solution, coordinate 0, at the
 * points s + c_0 for s in x0 (n). Worst |difference| and the tolerance
 * eps (h/eps)^2 of the trapezoid rule on a kernel of width eps. */
static hj_status qd_check_visc_closed_form(double eps, const double *x0, size_t n, double *worst,
                                           double *tol, hj_error *err)
{
    const double hwant = eps / 16.0;
    const size_t m = (size_t)ceil(2.0 * QD_BOX / hwant) + 1;
    const double h = 2.0 * QD_BOX / (double)(m - 1);
    double *y = malloc(m * sizeof *y), *g = malloc(m * sizeof *g), *u = malloc(n * sizeof *u);
    hj_status st = HJ_OK;
    if (!y || !g || !u) {
        st = hj_error_set(err, HJ_ENOMEM, "quadrature: out of memory (viscous closed-form check)");
        goto done;
    }
    for (size_t i = 0; i < m; i++) {
        y[i] = -QD_BOX + 2.0 * QD_BOX * (double)i / (double)(m - 1);
        g[i] = fabs(y[i] - QD_C[0]) - eps * log((i == 0 || i == m - 1) ? 0.5 * h : h);
    }
    hj_atoms a = {m, 1, y, g};
    hj_hc_out o;
    memset(&o, 0, sizeof o);
    o.u_norm = u;
    TRY(hj_hopf_cole_eval(&a, NULL, x0, n, QD_T, eps, &o, err));
    *worst = 0.0;
    for (size_t i = 0; i < n; i++)
        *worst = fmax(*worst, fabs(u[i] - qd_visc1(x0[i] - QD_C[0], QD_T, eps)));
    *tol = eps * (h / eps) * (h / eps);
done:
    free(y);
    free(g);
    free(u);
    return st;
}

/* My grid atoms vs pde.h's trapezoid quadrature atoms (d = 1, 2). */
static hj_status qd_check_pde_atoms(size_t d, size_t m, double eps, double *worst, hj_error *err)
{
    const size_t N = qd_ipow(m, d);
    double *mem = malloc(2 * N * (d + 1) * sizeof *mem);
    if (mem == NULL)
        return hj_error_set(err, HJ_ENOMEM, "quadrature: out of memory (atoms check)");
    double *y = mem, *g = y + N * d, *y2 = g + N, *g2 = y2 + N * d;
    qd_grid_atoms(d, m, eps, y, g);
    hj_grid Q;
    memset(&Q, 0, sizeof Q);
    Q.d = d;
    for (size_t k = 0; k < d; k++) {
        Q.n[k] = m;
        Q.lo[k] = -QD_BOX;
        Q.hi[k] = QD_BOX;
    }
    hj_status st = hj_pde_quadrature_atoms(&Q, qd_g_fn, NULL, eps, y2, g2, err);
    if (st == HJ_OK) {
        *worst = 0.0;
        for (size_t j = 0; j < N * d; j++)
            *worst = fmax(*worst, fabs(y[j] - y2[j]));
        for (size_t j = 0; j < N; j++)
            *worst = fmax(*worst, fabs(g[j] - g2[j]) / fmax(1.0, fabs(g[j])));
    }
    free(mem);
    return st;
}

/* ---- claims, tables and figures ------------------------------------------------ */

/* The paper's statement (SPEC C8), which the unnormalised diagnostic tests. */
static const char QD_WORDS[] =
    "With atoms on a grid of N points in [-2,2]^d and Lipschitz initial data, the LSE "
    "(unnormalised) converges at O(N^{-1/d}) (slopes -1, -0.5, -0.25 for d = 1, 2, 4)";

/* What the claims of one dimension measured, for the tables and figures:
 * unnormalised  log error_plain       = icpt_u + slope_u log N,
 * normalised    log(error / log N)    = icpt_n + slope_n log N. */
typedef struct qd_fit {
    size_t d, n;
    const qd_row *rows;       /* the n rows of this dimension */
    double slope_u, icpt_u, half_u;
    double slope_n, icpt_n, half_n;
} qd_fit;

/* The combined 95 % half-width of a measurement (the claim's). */
static double qd_half(const hj_claim_measurement *m)
{
    double s = 0.0;
    for (size_t i = 0; i < m->n_parts; i++)
        s += m->parts[i].half_width * m->parts[i].half_width;
    return sqrt(s);
}

/* One exponent claim: slope of log y on log N with its fit, fit-range and
 * grid-oscillation parts. */
static hj_status qd_exponent_claim(hj_result *res, const hj_claim_spec *spec, const double *Nv,
                                   const double *y, size_t n, double *slope, double *icpt,
                                   double *half, hj_error *err)
{
    hj_claim_measurement m;
    memset(&m, 0, sizeof m);
    hj_status st = hj__exp_slope_measurement(res, Nv, y, n, &m, icpt, err);
    if (st == HJ_OK)
        st = hj__exp_interleave_part(Nv, y, n, &m, err);
    if (st == HJ_OK)
        st = hj_result_claim_add(res, spec, &m, err);
    *slope = m.value;
    *half = qd_half(&m);
    return st;
}

static void qd_metric(hj_result *res, const char *name, size_t d, double v)
{
    char key[64];
    snprintf(key, sizeof key, "%s_d%zu", name, d);
    hj_result_metric(res, key, v, NULL);
}

/* The two claims of dimension d (rows: its n grids, increasing N), their
 * metrics and notes. */
static hj_status qd_claims_dim(hj_result *res, size_t d, const qd_row *rows, size_t n, qd_fit *fit,
                               hj_error *err)
{
    double *v = hj__exp_dnew(QD_NAME, 5 * n, err);
    if (v == NULL)
        return HJ_ENOMEM;
    double *Nv = v, *U = v + n, *B = v + 2 * n, *E = v + 3 * n, *C = v + 4 * n;
    for (size_t i = 0; i < n; i++) {
        Nv[i] = rows[i].N;
        U[i] = rows[i].err_plain;
        E[i] = rows[i].err;
        B[i] = rows[i].err / log(rows[i].N);
    }
    fit->d = d, fit->n = n, fit->rows = rows;
    const double pred = -1.0 / (double)d, tol = QD_TOL_REL / (double)d;
    char su_text[384], sn_text[384], reason[256];
    snprintf(reason, sizeof reason,
             "10 %% of 1/d (%.4g): within it the exponent is the same rate over the 3-6 decades of N "
             "measured, while the next dimension's rate -1/(d+1) is at least 20 %% away",
             tol);
    snprintf(su_text, sizeof su_text,
             "Unnormalised LSE diagnostic u_N (plain Hopf-Cole of the grid atoms g(y_j): no quadrature "
             "weights, no normalising constant), eps = N^(-1/d), d = %zu: the slope of log max|u_N - "
             "u_0| on [-1,1]^d against log N equals -1/d = %.4g",
             d, pred);
    snprintf(sn_text, sizeof sn_text,
             "Normalised u~_N (trapezoid-weighted grid atoms, Gibbs sum normalised by (4 pi eps "
             "t)^(-d/2)), eps = N^(-1/d), d = %zu: the viscous term (eps d/2) log(4 pi eps t) makes the "
             "error N^(-1/d) log N; the slope of log(max|u~_N - u_0| / log N) against log N equals "
             "-1/d = %.4g",
             d, pred);
    const hj_claim_spec su = {"C8", HJ_SOURCE_PAPER, su_text, QD_WORDS, HJ_FORM_EQUALS, pred, tol,
                              reason, 0};
    const hj_claim_spec sn = {"C8", HJ_SOURCE_HJDL, sn_text, NULL, HJ_FORM_EQUALS, pred, tol, reason, 0};
    hj_status st = qd_exponent_claim(res, &su, Nv, U, n, &fit->slope_u, &fit->icpt_u, &fit->half_u, err);
    if (st == HJ_OK)
        st = qd_exponent_claim(res, &sn, Nv, B, n, &fit->slope_n, &fit->icpt_n, &fit->half_n, err);
    if (st != HJ_OK) {
        free(v);
        return st;
    }

    /* diagnostics: the normalised error's own slope (no log removed), its log
     * coefficient (error N^(1/d) = a log N + b, theory a = 1/2) and the components */
    double plain = NAN, a = NAN, cs[2] = {NAN, NAN};
    hj_error fe = {0};
    if (hj_fit_power_law(Nv, E, n, &plain, NULL, NULL, &fe) != HJ_OK)
        plain = NAN;
    for (size_t i = 0; i < n; i++) {
        C[i] = E[i] * pow(Nv[i], 1.0 / (double)d);
        B[i] = log(Nv[i]); /* B is not needed any more */
    }
    if (hj_fit_line(B, C, n, &a, NULL, NULL, &fe) != HJ_OK)
        a = NAN;
    for (int c = 0; c < 2; c++) {
        for (size_t i = 0; i < n; i++)
            C[i] = c == 0 ? rows[i].grid_err : rows[i].visc_err;
        if (hj_fit_power_law(Nv, C, n, &cs[c], NULL, NULL, &fe) != HJ_OK)
            cs[c] = NAN;
    }
    const qd_row *first = &rows[0], *last = &rows[n - 1];
    const double lead = 0.5 * (double)d * last->eps * log(1.0 / last->eps);
    qd_metric(res, "slope_unnormalised", d, fit->slope_u);
    qd_metric(res, "slope_normalised_over_logN", d, fit->slope_n);
    qd_metric(res, "slope_normalised_plain", d, plain);
    qd_metric(res, "normalised_log_coefficient", d, a);
    qd_metric(res, "slope_grid_error", d, cs[0]);
    qd_metric(res, "slope_visc_error", d, cs[1]);
    qd_metric(res, "unnormalised_error_at_Nmax", d, last->err_plain);
    qd_metric(res, "error_at_Nmax", d, last->err);
    qd_metric(res, "grid_error_at_Nmax", d, last->grid_err);
    qd_metric(res, "visc_error_at_Nmax", d, last->visc_err);
    qd_metric(res, "Nmax", d, last->N);
    qd_metric(res, "visc_error_over_lead", d, last->visc_err / lead);
    hj_result_note(res,
                   "d = %zu, N = %.0f..%.0f (%zu grids): unnormalised LSE slope %.3f +- %.3f (95 %%); "
                   "normalised u~: slope of error/log N %.3f +- %.3f, its plain slope %.3f (shallower "
                   "by about 1/log N), and error N^(1/d) = a log N + b with a = %.3f (theory 1/2). At "
                   "N = %.0f: unnormalised %.3g, normalised %.3g, grid component %.3g, viscous "
                   "component %.3g = %.2f x (d/2) eps log(1/eps); component slopes grid %.3f, viscous "
                   "%.3f.",
                   d, first->N, last->N, n, fit->slope_u, fit->half_u, fit->slope_n, fit->half_n, plain,
                   a, last->N, last->err_plain, last->err, last->grid_err, last->visc_err,
                   last->visc_err / lead, cs[0], cs[1]);
    free(v);
    return HJ_OK;
}

/* quadrature.csv (one row per grid), quadrature_local_slopes.csv (between
 * neighbouring grids: d, N_mid, unnormalised, normalised/log N, normalised)
 * and quadrature_theory.csv (d, N, the predicted shapes C N^(-1/d) and
 * C N^(-1/d) log N through the centroid of each estimator's points). */
static hj_status qd_write_tables(hj_result *res, const qd_row *rows, size_t total, const qd_fit *fits,
                                 size_t nd, hj_error *err)
{
    static const char *const names[] = {"d", "m", "N", "eps", "error", "grid_error", "visc_error",
                                        "error_plain"};
    static const char *const lnames[] = {"d", "N_mid", "local_slope_unnormalised",
                                         "local_slope_normalised_over_logN",
                                         "local_slope_normalised"};
    static const char *const tnames[] = {"d", "N", "unnormalised_pred", "normalised_pred"};
    double *tab = hj__exp_dnew(QD_NAME, total * 8 + total * 5 + total * 4 + 6 * total, err);
    if (tab == NULL)
        return HJ_ENOMEM;
    double *loc = tab + total * 8, *th = loc + total * 5, *w = th + total * 4;
    size_t nl = 0, nt = 0;
    for (size_t i = 0; i < total; i++) {
        const qd_row *q = &rows[i];
        double v[8] = {q->d, q->m, q->N, q->eps, q->err, q->grid_err, q->visc_err, q->err_plain};
        memcpy(tab + 8 * i, v, sizeof v);
    }
    for (size_t di = 0; di < nd; di++) {
        const qd_fit *f = &fits[di];
        const size_t n = f->n;
        double *Nv = w, *U = w + n, *B = w + 2 * n, *E = w + 3 * n, *xm = w + 4 * n, *s = w + 5 * n;
        double mlx = 0.0, mu = 0.0, mb = 0.0;
        for (size_t i = 0; i < n; i++) {
            Nv[i] = f->rows[i].N, U[i] = f->rows[i].err_plain, E[i] = f->rows[i].err;
            B[i] = E[i] / log(Nv[i]);
            mlx += log(Nv[i]) / (double)n, mu += log(U[i]) / (double)n, mb += log(B[i]) / (double)n;
        }
        const double p = -1.0 / (double)f->d;
        for (size_t i = 0; i < n; i++, nt++) {
            double *row = th + 4 * nt;
            row[0] = (double)f->d, row[1] = Nv[i];
            row[2] = exp(mu + p * (log(Nv[i]) - mlx));
            row[3] = exp(mb + p * (log(Nv[i]) - mlx)) * log(Nv[i]);
        }
        for (int c = 0; c < 3; c++) {
            hj__exp_local_log_slopes(Nv, c == 0 ? U : (c == 1 ? B : E), n, xm, s);
            for (size_t i = 0; i + 1 < n; i++) {
                double *row = loc + 5 * (nl + i);
                row[0] = (double)f->d, row[1] = xm[i], row[2 + c] = s[i];
            }
        }
        nl += n - 1;
    }
    hj_status st = hj_result_write_csv(res, "quadrature.csv", names, tab, total, 8, err);
    if (st == HJ_OK)
        st = hj_result_write_csv(res, "quadrature_local_slopes.csv", lnames, loc, nl, 5, err);
    if (st == HJ_OK)
        st = hj_result_write_csv(res, "quadrature_theory.csv", tnames, th, nt, 4, err);
    free(tab);
    return st;
}

/* The three figures: both estimators against N with the predicted shapes,
 * the local slopes, and the components of the normalised error. */
static void qd_figures(hj_result *res, const size_t *dims, size_t nd, const qd_fit *fits)
{
    char filt[QD_MAX_D][24], tt[4 * QD_MAX_D][96];
    hj_plot p;
    memset(&p, 0, sizeof p);
    p.name = "quadrature";
    p.title = "C8 quadrature: grid atoms, ε = N^{-1/d}: both estimators";
    p.xlabel = "N (atoms)";
    p.ylabel = "max error on [-1,1]^d against u_0";
    p.logx = p.logy = 1;
    for (size_t di = 0; di < nd; di++) {
        const size_t d = dims[di];
        snprintf(filt[di], sizeof filt[di], "$1 == %zu", d);
        snprintf(tt[4 * di], sizeof tt[0], "d = %zu unnormalised LSE (slope %.3f)", d, fits[di].slope_u);
        snprintf(tt[4 * di + 1], sizeof tt[0], "d = %zu: C N^{-1/%zu}", d, d);
        snprintf(tt[4 * di + 2], sizeof tt[0], "d = %zu normalised ũ (slope of error/log N %.3f)", d,
                 fits[di].slope_n);
        snprintf(tt[4 * di + 3], sizeof tt[0], "d = %zu: C N^{-1/%zu} log N", d, d);
        p.series[p.n_series++] = (hj_plot_series){"quadrature.csv", 3, 8, 0, tt[4 * di], "points", filt[di]};
        p.series[p.n_series++] = (hj_plot_series){"quadrature_theory.csv", 2, 3, 0, tt[4 * di + 1], "lines", filt[di]};
        p.series[p.n_series++] = (hj_plot_series){"quadrature.csv", 3, 5, 0, tt[4 * di + 2], "points", filt[di]};
        p.series[p.n_series++] = (hj_plot_series){"quadrature_theory.csv", 2, 4, 0, tt[4 * di + 3], "lines", filt[di]};
    }
    hj__exp_figure(res, &p,
                   "Error against the continuous Hopf-Lax solution u_0 of the unnormalised LSE of the grid "
                   "atoms (the paper's diagnostic) and of the normalised, trapezoid-weighted ũ, each with "
                   "the shape the theory gives it (N^{-1/d}, N^{-1/d} log N) drawn through the centroid of "
                   "its points.",
                   NULL);

    hj_plot l;
    memset(&l, 0, sizeof l);
    char lt[2 * QD_MAX_D][80], fn[QD_MAX_D][24], ft[QD_MAX_D][32];
    l.name = "quadrature_local_slopes";
    l.title = "C8 quadrature: local log-log slopes between neighbouring grids";
    l.xlabel = "N (geometric mid-point of two grids)";
    l.ylabel = "local slope";
    l.logx = 1;
    for (size_t di = 0; di < nd && di < 4; di++) {
        snprintf(lt[2 * di], sizeof lt[0], "d = %zu unnormalised: d log(error)/d log N", dims[di]);
        snprintf(lt[2 * di + 1], sizeof lt[0], "d = %zu normalised: d log(error/log N)/d log N", dims[di]);
        l.series[l.n_series++] = (hj_plot_series){"quadrature_local_slopes.csv", 2, 3, 0, lt[2 * di], "linespoints", filt[di]};
        l.series[l.n_series++] = (hj_plot_series){"quadrature_local_slopes.csv", 2, 4, 0, lt[2 * di + 1], "linespoints", filt[di]};
        snprintf(fn[di], sizeof fn[0], "%.10g + 0*x", -1.0 / (double)dims[di]);
        snprintf(ft[di], sizeof ft[0], "-1/%zu", dims[di]);
        l.functions[l.n_functions] = fn[di];
        l.function_titles[l.n_functions++] = ft[di];
    }
    hj__exp_figure(res, &l,
                   "Local slopes of both estimators between neighbouring grid sizes; the horizontal lines "
                   "are the predicted exponents -1/d. Their drift is what the 'fit range' part measures, "
                   "their zig-zag what the 'grid oscillation' part measures.",
                   NULL);

    hj_plot q;
    memset(&q, 0, sizeof q);
    char qt[3 * QD_MAX_D][64];
    q.name = "quadrature_components";
    q.title = "C8 quadrature: the normalised error and its components";
    q.xlabel = "N (atoms)";
    q.ylabel = "max error on [-1,1]^d";
    q.logx = q.logy = 1;
    static const char *const cname[3] = {"total", "grid (ε → 0)", "viscous (continuum)"};
    for (size_t di = 0; di < nd; di++)
        for (int c = 0; c < 3 && q.n_series < HJ_PLOT_MAX_SERIES; c++) {
            size_t k = q.n_series;
            snprintf(qt[k], sizeof qt[0], "d = %zu %s", dims[di], cname[c]);
            q.series[q.n_series++] = (hj_plot_series){"quadrature.csv", 3, 5 + c, 0, qt[k], "linespoints", filt[di]};
        }
    hj__exp_figure(res, &q,
                   "Normalised error, its grid component (Hopf-Lax of the grid atoms, ε → 0) and its "
                   "viscous component (continuous normalised Hopf-Cole solution at the same ε) per "
                   "dimension.",
                   NULL);
}

/* ---- the experiment ------------------------------------------------------ */

hj_status hj__exp_quadrature(const hj_experiment_options *opt, hj_result *res, hj_error *err)
{
    hj_status st;
    size_t dims[3] = {1, 2, 4}, nd = 3;
    if (opt->d != 0) {
        if (opt->d > QD_MAX_D)
            return hj_error_set(err, HJ_EINVAL, "quadrature: d = %zu is not supported (1 to %d)",
                                opt->d, QD_MAX_D);
        dims[0] = opt->d;
        nd = 1;
    }
    const double eps_pref = isnan(opt->eps) ? 1.0 : opt->eps;
    if (!(eps_pref > 0.0) || !isfinite(eps_pref))
        return hj_error_set(err, HJ_EINVAL, "quadrature: --eps (the prefactor c of eps = c N^(-1/d)) "
                            "must be > 0 (got %g)", eps_pref);
    const uint64_t seed = opt->seed;

    /* grid sizes: m_min .. m_max with m_max^d <= N_max */
    size_t ms[QD_MAX_D][QD_MAX_M], nms[QD_MAX_D];
    size_t total_rows = 0;
    double total_work = 0.0;
    for (size_t di = 0; di < nd; di++) {
        size_t d = dims[di];
        size_t m_min = d == 1 ? 8 : (d == 2 ? 4 : 3);
        double Nmax;
        if (opt->N != 0)
            Nmax = (double)opt->N;
        else if (opt->quick)
            Nmax = d == 1 ? 4096.0 : (d == 2 ? 16384.0 : 20736.0);
        else
            Nmax = d == 1 ? 65536.0 : (d == 2 ? 262144.0 : 1048576.0);
        size_t m_max = (size_t)floor(pow(Nmax, 1.0 / (double)d) + 1e-9);
        if (m_max < m_min + 2)
            return hj_error_set(err, HJ_EINVAL, "quadrature: N = %.0f leaves fewer than 3 grid sizes "
                                "in d = %zu", Nmax, d);
        nms[di] = qd_geom(m_min, m_max, d <= 2 ? 2.0 : 4.0, ms[di], QD_MAX_M);
        total_rows += nms[di];
        for (size_t i = 0; i < nms[di]; i++)
            total_work += (double)qd_ipow(ms[di][i], d) * (double)d;
    }

    hj_result_param_text(res, "initial_data", "g(y) = sum_k |y_k - c_k|, c = (0.1234, -0.2718, 0.3142, -0.1414)", NULL);
    hj_result_param_num(res, "t", QD_T, NULL);
    hj_result_param_num(res, "box", QD_BOX, NULL);
    hj_result_param_text(res, "coupling", "eps = c N^(-1/d) = c/m", NULL);
    hj_result_param_num(res, "eps_prefactor_c", eps_pref, NULL);
    hj_result_param_num(res, "n_test", QD_NTEST, NULL);
    hj_result_param_num(res, "test_box", QD_TEST_BOX, NULL);
    hj_result_param_num(res, "seed", (double)seed, NULL);
    hj_result_param_num(res, "quick", opt->quick ? 1.0 : 0.0, NULL);
    hj_result_param_num(res, "tolerance_relative", QD_TOL_REL, NULL);

    hj_result_note(res,
                   "Quadrature (C8): initial data g(y) = sum_k |y_k - c_k| (Lipschitz, kinks off the grid), "
                   "t = 1; target the continuous Hopf-Lax solution u_0 = sum_k phi(x_k - c_k), phi(s) = "
                   "s^2/4t for |s| <= 2t and |s| - t beyond; N = m^d grid atoms on [-2,2]^d at eps = "
                   "N^(-1/d); error = max over %d seeded test points in [-1,1]^d of |estimate - u_0|. Two "
                   "estimators, each with its own claim: the unnormalised LSE of the atoms g(y_j) (the "
                   "paper's diagnostic, predicted error N^(-1/d)) and the normalised, trapezoid-weighted "
                   "u~ (predicted N^(-1/d) log N, fitted as error/log N).",
                   QD_NTEST);

    qd_row *rows = calloc(total_rows, sizeof *rows);
    double *x = malloc(QD_NTEST * QD_MAX_D * sizeof *x), *u0 = malloc(QD_NTEST * sizeof *u0);
    if (!rows || !x || !u0) {
        free(rows);
        free(x);
        free(u0);
        return hj_error_set(err, HJ_ENOMEM, "quadrature: out of memory");
    }

    /* ---- runs ---- */
    qd_checks ck = {-INFINITY, 0.0, -INFINITY, 0.0};
    qd_fit fits[QD_MAX_D];
    size_t r = 0;
    double done_work = 0.0;
    st = HJ_OK;
    for (size_t di = 0; di < nd && st == HJ_OK; di++) {
        const size_t d = dims[di];
        qd_test_points(seed, d, x);
        for (size_t i = 0; i < QD_NTEST; i++)
            u0[i] = qd_u0(x + i * d, d, QD_T);
        size_t r0 = r;
        for (size_t mi = 0; mi < nms[di] && st == HJ_OK; mi++, r++) {
            size_t m = ms[di][mi];
            char stage[96];
            snprintf(stage, sizeof stage, "d = %zu, m = %zu (N = %zu)", d, m, qd_ipow(m, d));
            hj_experiment_progress(opt, QD_NAME, stage, 0.9 * done_work / total_work);
            st = qd_run_grid(d, m, eps_pref / (double)m, x, QD_NTEST, u0, &rows[r], &ck, err);
            done_work += (double)qd_ipow(m, d) * (double)d;
        }
        if (st != HJ_OK)
            break;

        st = qd_claims_dim(res, d, rows + r0, r - r0, &fits[di], err);
    }
    if (st != HJ_OK)
        goto out;

    /* ---- checks ---- */
    hj_experiment_progress(opt, QD_NAME, "checks", 0.92);
    {
        char name[128];
        /* proved bound on the same atoms; rounding tolerance 1e-12 of the values' size */
        st = hj_result_check(res, "C8",
                             "0 <= u_0^grid - u_eps^grid <= eps log N (plain solutions, all grids): worst signed violation",
                             ck.bound_viol, 1e-12 * fmax(1.0, ck.bound_scale), err);
        if (st == HJ_OK)
            st = hj_result_check(res, "C8",
                                 "Hopf-Lax of grid atoms >= continuous u_0 (min over a subset): worst u_0 - u_grid",
                                 ck.below_viol, 1e-12 * fmax(1.0, ck.below_scale), err);
        for (size_t di = 0; di < nd && st == HJ_OK; di++) {
            const size_t d = dims[di];
            qd_test_points(seed, d, x);
            size_t m = ms[di][nms[di] / 2];
            double worst = NAN;
            if ((st = qd_check_network(d, m, eps_pref / (double)m, x, QD_NTEST, &worst, err)) != HJ_OK)
                break;
            snprintf(name, sizeof name, "network vertex: LSE(mapped weights) + u = |x|^2/(4t), d = %zu, m = %zu (relative)", d, m);
            if ((st = hj_result_check(res, "C8", name, worst, 1e-12, err)) != HJ_OK)
                break;
            if (d >= 2) {
                if ((st = qd_check_separable(d, m, eps_pref / (double)m, x, QD_NTEST, &worst, err)) != HJ_OK)
                    break;
                snprintf(name, sizeof name, "u~ of %zu-D grid atoms = sum of 1-D u~ (separable data, product weights), m = %zu (relative)", d, m);
                if ((st = hj_result_check(res, "C8", name, worst, 1e-12, err)) != HJ_OK)
                    break;
            }
            if (d <= 2) {
                if ((st = qd_check_pde_atoms(d, 9, 0.1, &worst, err)) != HJ_OK)
                    break;
                snprintf(name, sizeof name, "grid atoms = pde.h trapezoid quadrature atoms, d = %zu, m = 9, eps = 0.1", d);
                if ((st = hj_result_check(res, "C8", name, worst, 1e-14, err)) != HJ_OK)
                    break;
            }
        }
        if (st != HJ_OK)
            goto out;
        /* closed form u_0 (phi) vs brute force: the test coordinates of d = 1 plus a sweep
         * through both branches |s| <= 2t and |s| > 2t */
        const size_t nsweep = 141;
        double *s = malloc((QD_NTEST + nsweep) * sizeof *s);
        if (s == NULL) {
            st = hj_error_set(err, HJ_ENOMEM, "quadrature: out of memory");
            goto out;
        }
        qd_test_points(seed, 1, s);
        for (size_t i = 0; i < QD_NTEST; i++)
            s[i] -= QD_C[0];
        for (size_t i = 0; i < nsweep; i++)
            s[QD_NTEST + i] = -3.5 + 7.0 * (double)i / (double)(nsweep - 1);
        double worst = NAN, bound = NAN;
        qd_check_closed_form(s, QD_NTEST + nsweep, &worst, &bound);
        st = hj_result_check(res, "C8",
                             "closed-form Hopf-Lax phi(s) vs brute-force min on a 1-D grid (bound Lip*h/2)",
                             worst, bound, err);
        /* the erfc closed form of the continuous viscous solution vs fine quadrature */
        const double epsc[2] = {0.05, 0.01};
        for (size_t i = 0; i < QD_NTEST; i++)
            s[i] += QD_C[0];   /* back to x */
        for (size_t k = 0; k < 2 && st == HJ_OK; k++) {
            double tol = NAN;
            if ((st = qd_check_visc_closed_form(epsc[k], s, QD_NTEST, &worst, &tol, err)) != HJ_OK)
                break;
            char nm[128];
            snprintf(nm, sizeof nm, "continuous viscous u~ (erfc closed form) vs fine-grid quadrature u~, eps = %g (tol eps (h/eps)^2)", epsc[k]);
            st = hj_result_check(res, "C8", nm, worst, tol, err);
        }
        free(s);
        if (st != HJ_OK)
            goto out;
    }

    /* ---- raw numbers ---- */
    hj_experiment_progress(opt, QD_NAME, "writing results", 0.96);
    if ((st = qd_write_tables(res, rows, total_rows, fits, nd, err)) != HJ_OK)
        goto out;

    /* ---- figures ---- */
    qd_figures(res, dims, nd, fits);

    hj_result_note(res,
                   "Why two rates. The normalised u~ differs from the weighted plain LSE by the constant "
                   "(eps d/2) log(4 pi eps t) and from the unweighted one by (eps d/2) log(4 pi eps t / h^2) "
                   "= (eps/2) log N + O(eps) at h ~ 4 eps: a shift uniform in x that the unnormalised "
                   "diagnostic does not carry. So the unnormalised error is Theta(N^(-1/d)) (grid error "
                   "O(h), Gibbs-sum term O(eps)) and the normalised one is N^(-1/d) (log N / 2 + O(1)); its "
                   "plain log-log slope is shallower than -1/d by about 1/log N, which is why its claim "
                   "fits log(error / log N). The grid component oscillates with where the kinks fall "
                   "between nodes; the 'grid oscillation' part of each interval is the larger change of "
                   "the slope when only every other grid size is fitted.");
out:
    free(rows);
    free(x);
    free(u0);
    return st;
}
