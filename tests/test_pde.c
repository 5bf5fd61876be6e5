/* test_pde.c — grid PDE cross-check solvers against closed-form solutions derived independently here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/pde.h"

/*
 * Analytic facts used (all derived by hand, none taken from the library):
 *
 * (A) Separable quadratic data g0(y) = sum_k a_k y_k^2 (a_k > 0). With
 *     w = exp(-u/eps), w0 is a Gaussian of variance eps/(2 a_k) per axis;
 *     the heat flow w_t = eps Lap w adds variance 2 eps t, so
 *       u(x,t) = sum_k [ a_k x_k^2/(1 + 4 a_k t) + (eps/2) log(1 + 4 a_k t) ].
 *     Substitution: u_t = sum -4a^2x^2/(1+4at)^2 + 2 eps a/(1+4at),
 *     |u_x|^2 = 4a^2x^2/(1+4at)^2, eps u_xx = 2 eps a/(1+4at): residual 0.
 *     Hopf–Lax (eps = 0): min_y a y^2 + (x-y)^2/(4t) at y = x/(1+4at),
 *     value a x^2/(1+4at) (the eps = 0 limit of the above).
 * (B) g0(y) = |y| (Euclidean): min_y |y| + |x-y|^2/(4t). The minimiser lies
 *     on the ray through x; for |x| >= 2t it is y = x - 2t x/|x|, value
 *     |x| - t; for |x| < 2t it is y = 0, value |x|^2/(4t).
 * (C) 1-D viscous g0 = |y|: w = G_sigma * exp(-|y|/eps), sigma^2 = 2 eps t;
 *     completing the square in each half line,
 *       w = e^{t/eps} [ e^{-x/eps} Phi((x - 2t)/sigma)
 *                     + e^{x/eps} Phi((-x - 2t)/sigma) ],
 *     u = -eps log w, Phi the standard normal CDF.
 * (D) Semigroups of closed-form atom solutions: for atoms (y_j, g_j),
 *     U(x,t) = -eps log sum_j (4 pi eps t)^{-d/2} exp(-(g_j+|x-y_j|^2/(4t))/eps)
 *     propagated by the heat kernel over s is U(x, t+s) (K_s * K_t = K_{t+s});
 *     Hopf–Lax of min_j [g_j + |y-y_j|^2/(4t)] over s is
 *     min_j [g_j + |x-y_j|^2/(4(t+s))].
 */

#define PI 3.14159265358979323846

/* |a - b| <= tol, printing both on failure (this cmocka has no double assert). */
#define assert_near(a, b, tol) assert_near_at((a), (b), (tol), #a, __FILE__, __LINE__)
static void assert_near_at(double a, double b, double tol, const char *what, const char *file,
                           int line)
{
    if (!(fabs(a - b) <= tol)) {
        print_error("%s:%d: %s = %.17g, expected %.17g (|diff| = %.3e > %.1e)\n", file, line,
                    what, a, b, fabs(a - b), tol);
        fail();
    }
}

/* ---- initial data and exact solutions ----------------------------------- */

typedef struct quad_ctx {
    double a[2];
} quad_ctx;

static double g_quad(const double *y, size_t d, void *ctx)
{
    const quad_ctx *q = ctx;
    double s = 0.0;
    for (size_t k = 0; k < d; k++)
        s += q->a[k] * y[k] * y[k];
    return s;
}

static double g_norm(const double *y, size_t d, void *ctx)
{
    (void)ctx;
    double s = 0.0;
    for (size_t k = 0; k < d; k++)
        s += y[k] * y[k];
    return sqrt(s);
}

static double g_affine(const double *y, size_t d, void *ctx)
{
    (void)d;
    (void)ctx;
    return 0.6 * y[0] - 0.8 * y[1];
}

static double g_nan(const double *y, size_t d, void *ctx)
{
    (void)y;
    (void)d;
    (void)ctx;
    return NAN;
}

/* (A) */
static double exact_quad(const quad_ctx *q, const double *x, size_t d, double eps, double t)
{
    double u = 0.0;
    for (size_t k = 0; k < d; k++) {
        double den = 1.0 + 4.0 * q->a[k] * t;
        u += q->a[k] * x[k] * x[k] / den + 0.5 * eps * log(den);
    }
    return u;
}

/* (B) */
static double exact_hl_norm(const double *x, size_t d, double t)
{
    double r = g_norm(x, d, NULL);
    return r >= 2.0 * t ? r - t : r * r / (4.0 * t);
}

/* (C) */
static double exact_viscous_abs_1d(double x, double eps, double t)
{
    double sig = sqrt(2.0 * eps * t);
    double p1 = 0.5 * erfc(-((x - 2.0 * t) / sig) / sqrt(2.0));
    double p2 = 0.5 * erfc(-((-x - 2.0 * t) / sig) / sqrt(2.0));
    return -t - eps * log(exp(-x / eps) * p1 + exp(x / eps) * p2);
}

/* (D) atoms */
typedef struct atoms_ctx {
    size_t N;
    double y[3][2];
    double g[3];
    double t, eps;
} atoms_ctx;

static double atoms_viscous(const atoms_ctx *A, const double *x, size_t d, double t)
{
    double e[3], m = -INFINITY;
    for (size_t j = 0; j < A->N; j++) {
        double r2 = 0.0;
        for (size_t k = 0; k < d; k++)
            r2 += (x[k] - A->y[j][k]) * (x[k] - A->y[j][k]);
        e[j] = -(A->g[j] + r2 / (4.0 * t)) / A->eps;
        m = fmax(m, e[j]);
    }
    double s = 0.0;
    for (size_t j = 0; j < A->N; j++)
        s += exp(e[j] - m);
    return -A->eps * (m + log(s)) + 0.5 * A->eps * (double)d * log(4.0 * PI * A->eps * t);
}

static double atoms_hopf_lax(const atoms_ctx *A, const double *x, size_t d, double t)
{
    double best = INFINITY;
    for (size_t j = 0; j < A->N; j++) {
        double r2 = 0.0;
        for (size_t k = 0; k < d; k++)
            r2 += (x[k] - A->y[j][k]) * (x[k] - A->y[j][k]);
        best = fmin(best, A->g[j] + r2 / (4.0 * t));
    }
    return best;
}

static double phi_atoms_viscous(const double *y, size_t d, void *ctx)
{
    const atoms_ctx *A = ctx;
    return atoms_viscous(A, y, d, A->t);
}

static double phi_atoms_hl(const double *y, size_t d, void *ctx)
{
    const atoms_ctx *A = ctx;
    return atoms_hopf_lax(A, y, d, A->t);
}

static const atoms_ctx ATOMS = {3, {{-1.0, 0.5}, {0.3, -0.8}, {1.2, 0.9}}, {0.2, -0.1, 0.4},
                                0.4, 0.3};

/* ---- helpers --------------------------------------------------------------- */

static hj_grid grid1(size_t n, double lo, double hi)
{
    hj_grid G = {1, {n, 0}, {lo, 0.0}, {hi, 0.0}};
    return G;
}

static hj_grid grid2(size_t n0, size_t n1, double lo0, double hi0, double lo1, double hi1)
{
    hj_grid G = {2, {n0, n1}, {lo0, lo1}, {hi0, hi1}};
    return G;
}

/* Coordinates of node idx computed here from the layout stated in pde.h. */
static void node_coords(const hj_grid *G, size_t idx, double *x)
{
    size_t i[2] = {idx % G->n[0], idx / G->n[0]};
    for (size_t k = 0; k < G->d; k++)
        x[k] = G->lo[k] + (double)i[k] * (G->hi[k] - G->lo[k]) / (double)(G->n[k] - 1);
}

static int in_region(const double *x, size_t d, double R)
{
    for (size_t k = 0; k < d; k++)
        if (fabs(x[k]) > R + 1e-12)
            return 0;
    return 1;
}

/* max |u - exact| over nodes with max_k |x_k| <= R */
static double max_err(const hj_grid *G, const double *u, double R,
                      double (*ex)(const double *, size_t, const void *), const void *par)
{
    size_t N = G->d == 1 ? G->n[0] : G->n[0] * G->n[1];
    double e = 0.0, x[2];
    for (size_t j = 0; j < N; j++) {
        node_coords(G, j, x);
        if (!in_region(x, G->d, R))
            continue;
        double diff = fabs(u[j] - ex(x, G->d, par));
        if (!(diff <= e)) /* NaN counts as an error */
            e = isnan(diff) ? INFINITY : diff;
    }
    return e;
}

typedef struct vq_par {
    quad_ctx q;
    double eps, t;
} vq_par;

static double ex_vq(const double *x, size_t d, const void *p)
{
    const vq_par *v = p;
    return exact_quad(&v->q, x, d, v->eps, v->t);
}

static double ex_vabs(const double *x, size_t d, const void *p)
{
    (void)d;
    const vq_par *v = p;
    return exact_viscous_abs_1d(x[0], v->eps, v->t);
}

static void report(const char *what, const double *err, const double *h, size_t m)
{
    for (size_t i = 0; i < m; i++) {
        if (i == 0)
            printf("  %-34s h = %-9.4g err = %.3e\n", what, h[i], err[i]);
        else
            printf("  %-34s h = %-9.4g err = %.3e  order = %.2f\n", what, h[i], err[i],
                   log(err[i - 1] / err[i]) / log(h[i - 1] / h[i]));
    }
}

/* ---- grid ------------------------------------------------------------------ */

static void grid_check_should_reject_bad_grids(void **state)
{
    (void)state;
    hj_error err;
    hj_grid ok = grid2(3, 4, -1.0, 1.0, 0.0, 2.0);
    assert_int_equal(hj_grid_check(&ok, &err), HJ_OK);
    assert_int_equal(hj_grid_check(NULL, &err), HJ_EINVAL);
    assert_true(strlen(err.msg) > 0);
    hj_grid G = ok;
    G.d = 3;
    assert_int_equal(hj_grid_check(&G, &err), HJ_EINVAL);
    G.d = 0;
    assert_int_equal(hj_grid_check(&G, &err), HJ_EINVAL);
    G = ok;
    G.n[1] = 2;
    assert_int_equal(hj_grid_check(&G, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "3 nodes"));
    G = ok;
    G.hi[0] = G.lo[0];
    assert_int_equal(hj_grid_check(&G, &err), HJ_EINVAL);
    G = ok;
    G.lo[1] = NAN;
    assert_int_not_equal(hj_grid_check(&G, &err), HJ_OK);
    G = ok;
    G.hi[0] = INFINITY;
    assert_int_not_equal(hj_grid_check(&G, NULL), HJ_OK);
    /* d = 1 ignores the second axis entirely */
    hj_grid g1 = {1, {5, 0}, {0.0, NAN}, {1.0, NAN}};
    assert_int_equal(hj_grid_check(&g1, &err), HJ_OK);
    G = grid1(2, 0.0, 1.0);
    assert_int_equal(hj_grid_check(&G, &err), HJ_EINVAL);
}

static void grid_point_should_follow_documented_layout(void **state)
{
    (void)state;
    hj_grid G = grid2(5, 7, -1.0, 3.0, 2.0, 5.0);
    assert_int_equal(hj_grid_size(&G), 35);
    for (size_t j = 0; j < 35; j++) {
        double x[2], r[2];
        hj_grid_point(&G, j, x);
        node_coords(&G, j, r);
        assert_near(x[0], r[0], 1e-14);
        assert_near(x[1], r[1], 1e-14);
    }
    double x[2];
    hj_grid_point(&G, 34, x);
    assert_true(x[0] == 3.0 && x[1] == 5.0);
    hj_grid g1 = grid1(11, 0.0, 1.0);
    assert_int_equal(hj_grid_size(&g1), 11);
    hj_grid_point(&g1, 3, x);
    assert_near(x[0], 0.3, 1e-15);
}

static void interp_should_reproduce_linear_and_bilinear_functions(void **state)
{
    (void)state;
    hj_error err;
    /* 1-D: linear functions are reproduced exactly */
    hj_grid G1 = grid1(9, -2.0, 2.0);
    double v1[9], x[2], out;
    for (size_t j = 0; j < 9; j++) {
        node_coords(&G1, j, x);
        v1[j] = 1.5 - 0.7 * x[0];
    }
    for (int i = 0; i <= 40; i++) {
        x[0] = -2.0 + 0.1 * i;
        assert_int_equal(hj_grid_interp(&G1, v1, x, &out, &err), HJ_OK);
        assert_near(out, 1.5 - 0.7 * x[0], 1e-13);
    }
    /* 2-D: f = a + b x + c y + e x y is reproduced exactly by bilinear */
    hj_grid G2 = grid2(6, 4, -1.0, 2.0, 0.5, 3.5);
    double v2[24];
    for (size_t j = 0; j < 24; j++) {
        node_coords(&G2, j, x);
        v2[j] = 0.3 + 1.1 * x[0] - 0.4 * x[1] + 0.25 * x[0] * x[1];
    }
    srand(7);
    for (int i = 0; i < 200; i++) {
        x[0] = -1.0 + 3.0 * rand() / (double)RAND_MAX;
        x[1] = 0.5 + 3.0 * rand() / (double)RAND_MAX;
        assert_int_equal(hj_grid_interp(&G2, v2, x, &out, &err), HJ_OK);
        assert_near(out, 0.3 + 1.1 * x[0] - 0.4 * x[1] + 0.25 * x[0] * x[1], 1e-13);
    }
    /* corners, including the upper one */
    x[0] = 2.0;
    x[1] = 3.5;
    assert_int_equal(hj_grid_interp(&G2, v2, x, &out, &err), HJ_OK);
    assert_near(out, v2[23], 1e-14);
    /* +inf at a node does not leak into an exact node hit elsewhere */
    v1[4] = INFINITY;
    x[0] = -0.5; /* node 3 */
    assert_int_equal(hj_grid_interp(&G1, v1, x, &out, &err), HJ_OK);
    assert_true(isfinite(out));
}

static void interp_should_reject_points_outside_the_box(void **state)
{
    (void)state;
    hj_error err;
    hj_grid G = grid2(4, 4, 0.0, 1.0, 0.0, 1.0);
    double v[16] = {0}, x[2] = {0.5, 1.0 + 1e-9}, out;
    assert_int_equal(hj_grid_interp(&G, v, x, &out, &err), HJ_EDOM);
    assert_true(strlen(err.msg) > 0);
    x[1] = -1e-12;
    assert_int_equal(hj_grid_interp(&G, v, x, &out, &err), HJ_EDOM);
    x[0] = NAN;
    x[1] = 0.5;
    assert_int_equal(hj_grid_interp(&G, v, x, &out, &err), HJ_ENAN);
    x[0] = 0.5;
    assert_int_equal(hj_grid_interp(&G, NULL, x, &out, &err), HJ_EINVAL);
    assert_int_equal(hj_grid_interp(&G, v, NULL, &out, &err), HJ_EINVAL);
    assert_int_equal(hj_grid_interp(&G, v, x, NULL, &err), HJ_EINVAL);
    assert_int_equal(hj_grid_interp(NULL, v, x, &out, NULL), HJ_EINVAL);
}

/* ---- viscous solver ---------------------------------------------------------- */

static void viscous_1d_should_converge_at_second_order_on_quadratic_data(void **state)
{
    (void)state;
    vq_par p = {{{1.0, 0.0}}, 0.5, 0.5};
    size_t ns[3] = {41, 81, 161}, steps[3] = {8, 16, 32};
    double e[3], h[3];
    for (int r = 0; r < 3; r++) {
        hj_grid G = grid1(ns[r], -6.0, 6.0);
        double *u = malloc(ns[r] * sizeof *u);
        hj_error err;
        assert_int_equal(hj_pde_viscous_solve(&G, g_quad, &p.q, p.eps, p.t, steps[r], u, &err),
                         HJ_OK);
        e[r] = max_err(&G, u, 1.5, ex_vq, &p);
        h[r] = 12.0 / (double)(ns[r] - 1);
        free(u);
    }
    report("viscous 1-D, a|y|^2", e, h, 3);
    assert_true(e[2] < 2e-3);
    assert_true(e[1] < e[0] / 3.0 && e[2] < e[1] / 3.0); /* order > 1.58 */
}

static void viscous_2d_should_converge_at_second_order_on_anisotropic_quadratic(void **state)
{
    (void)state;
    vq_par p = {{{1.0, 0.5}}, 0.4, 0.5};
    size_t n0[3] = {31, 61, 121}, n1[3] = {21, 41, 81}, steps[3] = {8, 16, 32};
    double e[3], h[3];
    for (int r = 0; r < 3; r++) {
        hj_grid G = grid2(n0[r], n1[r], -6.0, 6.0, -5.0, 5.0);
        double *u = malloc(n0[r] * n1[r] * sizeof *u);
        hj_error err;
        assert_int_equal(hj_pde_viscous_solve(&G, g_quad, &p.q, p.eps, p.t, steps[r], u, &err),
                         HJ_OK);
        e[r] = max_err(&G, u, 1.5, ex_vq, &p);
        h[r] = 12.0 / (double)(n0[r] - 1);
        free(u);
    }
    report("viscous 2-D, a y0^2 + b y1^2", e, h, 3);
    assert_true(e[2] < 3e-3);
    assert_true(e[1] < e[0] / 3.0 && e[2] < e[1] / 3.0);
}

static void viscous_1d_should_converge_on_nonsmooth_data_with_large_steps(void **state)
{
    (void)state;
    /* g0 = |y|: w0 has a kink, and mu = eps dt/(2h^2) is large (~6 to 25),
     * the regime where plain Crank–Nicolson rings. */
    vq_par p = {{{0.0, 0.0}}, 0.25, 0.5};
    size_t ns[3] = {121, 241, 481}, steps[3] = {4, 8, 16};
    double e[3], h[3];
    for (int r = 0; r < 3; r++) {
        hj_grid G = grid1(ns[r], -6.0, 6.0);
        double *u = malloc(ns[r] * sizeof *u);
        hj_error err;
        assert_int_equal(hj_pde_viscous_solve(&G, g_norm, NULL, p.eps, p.t, steps[r], u, &err),
                         HJ_OK);
        e[r] = max_err(&G, u, 1.5, ex_vabs, &p);
        h[r] = 12.0 / (double)(ns[r] - 1);
        free(u);
    }
    report("viscous 1-D, |y| (Rannacher start)", e, h, 3);
    assert_true(e[2] < 5e-3);
    assert_true(e[1] < e[0] / 3.0 && e[2] < e[1] / 3.0);
}

static void viscous_should_mark_underflow_as_infinity(void **state)
{
    (void)state;
    /* eps tiny: w0 = exp(-a y^2/eps) is exactly 0 for |y| > 0.85, and the
     * implicit solves (whose inverses decay like mu^distance, mu ~ 6e-3)
     * cannot lift it back above the underflow threshold 150 nodes away. */
    quad_ctx q = {{1.0, 0.0}};
    vq_par p = {{{1.0, 0.0}}, 1e-3, 0.01};
    hj_grid G = grid1(401, -4.0, 4.0);
    double u[401];
    hj_error err;
    assert_int_equal(hj_pde_viscous_solve(&G, g_quad, &q, p.eps, p.t, 2, u, &err), HJ_OK);
    assert_true(isinf(u[0]) && u[0] > 0.0);
    assert_true(isinf(u[400]) && u[400] > 0.0);
    for (size_t j = 195; j <= 205; j++) /* near the minimum: finite */
        assert_true(isfinite(u[j]) && u[j] >= 0.0);
}

/* ---- inviscid solver ----------------------------------------------------------- */

typedef struct inv_case {
    const char *name;
    hj_scalar_fn g0;
    quad_ctx q;
    size_t d;
    double L, R, t;
} inv_case;

static double ex_inv(const double *x, size_t d, const void *p)
{
    const inv_case *c = p;
    if (c->g0 == g_norm)
        return exact_hl_norm(x, d, c->t);
    return exact_quad(&c->q, x, d, 0.0, c->t);
}

static void run_inviscid(const inv_case *c, const size_t *ns, size_t m, double max_final,
                         double min_ratio)
{
    double e[4], h[4];
    for (size_t r = 0; r < m; r++) {
        hj_grid G = c->d == 1 ? grid1(ns[r], -c->L, c->L)
                              : grid2(ns[r], ns[r] + 4, -c->L, c->L, -c->L - 0.2, c->L + 0.2);
        size_t N = c->d == 1 ? ns[r] : ns[r] * (ns[r] + 4);
        double *u = malloc(N * sizeof *u);
        hj_error err;
        assert_int_equal(hj_pde_inviscid_solve(&G, c->g0, (void *)&c->q, c->t, 0.8, u, &err),
                         HJ_OK);
        e[r] = max_err(&G, u, c->R, ex_inv, c);
        h[r] = 2.0 * c->L / (double)(ns[r] - 1);
        free(u);
    }
    report(c->name, e, h, m);
    assert_true(e[m - 1] < max_final);
    for (size_t r = 1; r < m; r++)
        assert_true(e[r] < e[r - 1] / min_ratio);
}

static void inviscid_should_converge_to_hopf_lax_of_abs(void **state)
{
    (void)state;
    inv_case c1 = {"inviscid 1-D, |y|", g_norm, {{0.0, 0.0}}, 1, 3.0, 2.0, 0.5};
    size_t n1[4] = {61, 121, 241, 481};
    /* The convex kink of |y| opens into an expansion fan (|x| < 2t), where a
     * monotone scheme's error is O(h log(1/h)), not O(h): the error ratio
     * per halving is 2 log(1/h)/log(2/h) ~ 1.6-1.75 here, so require 1.5. */
    run_inviscid(&c1, n1, 4, 0.01, 1.5);
    inv_case c2 = {"inviscid 2-D, |y|", g_norm, {{0.0, 0.0}}, 2, 3.0, 1.8, 0.5};
    size_t n2[3] = {61, 121, 241};
    run_inviscid(&c2, n2, 3, 0.04, 1.5);
}

static void inviscid_should_converge_to_hopf_lax_of_quadratic(void **state)
{
    (void)state;
    inv_case c1 = {"inviscid 1-D, a|y|^2", g_quad, {{1.0, 0.0}}, 1, 3.0, 1.5, 0.5};
    size_t n1[4] = {61, 121, 241, 481};
    run_inviscid(&c1, n1, 4, 0.01, 1.6);
    inv_case c2 = {"inviscid 2-D, a y0^2 + b y1^2", g_quad, {{1.0, 0.3}}, 2, 3.0, 1.5, 0.5};
    size_t n2[3] = {31, 61, 121};
    run_inviscid(&c2, n2, 3, 0.05, 1.6);
}

static void inviscid_should_keep_affine_data_moving_exactly(void **state)
{
    (void)state;
    /* g0 = p.y: u = p.x - |p|^2 t for all x, the boundary extrapolation is
     * exact for affine data. */
    hj_grid G = grid2(9, 7, -1.0, 1.0, 0.0, 2.0);
    double u[63], x[2];
    hj_error err;
    assert_int_equal(hj_pde_inviscid_solve(&G, g_affine, NULL, 0.7, 0.9, u, &err),
                     HJ_OK);
    for (size_t j = 0; j < 63; j++) {
        node_coords(&G, j, x);
        assert_near(u[j], 0.6 * x[0] - 0.8 * x[1] - 0.7, 1e-12);
    }
}

/* ---- quadrature atoms and heat propagator ----------------------------------------- */

static void quadrature_atoms_weights_should_sum_to_box_volume(void **state)
{
    (void)state;
    quad_ctx q = {{1.0, 2.0}};
    hj_grid G = grid2(7, 5, -1.0, 2.0, 0.0, 0.5);
    double y[70], g[35], x[2];
    hj_error err;
    double eps = 0.1;
    assert_int_equal(hj_pde_quadrature_atoms(&G, g_quad, &q, eps, y, g, &err), HJ_OK);
    double sum = 0.0;
    for (size_t j = 0; j < 35; j++) {
        node_coords(&G, j, x);
        assert_near(y[2 * j], x[0], 1e-14);
        assert_near(y[2 * j + 1], x[1], 1e-14);
        sum += exp(-(g[j] - g_quad(x, 2, &q)) / eps);
    }
    assert_near(sum, 3.0 * 0.5, 1e-12);
    /* eps = 0: g = g0 exactly */
    assert_int_equal(hj_pde_quadrature_atoms(&G, g_quad, &q, 0.0, y, g, &err), HJ_OK);
    for (size_t j = 0; j < 35; j++)
        assert_true(g[j] == g_quad(y + 2 * j, 2, &q));
    /* 1-D */
    hj_grid G1 = grid1(10, -3.0, 1.5);
    double y1[10], g1[10];
    assert_int_equal(hj_pde_quadrature_atoms(&G1, g_norm, NULL, 0.5, y1, g1, &err), HJ_OK);
    sum = 0.0;
    for (size_t j = 0; j < 10; j++)
        sum += exp(-(g1[j] - fabs(y1[j])) / 0.5);
    assert_near(sum, 4.5, 1e-12);
}

static void quadrature_atoms_should_give_the_hopf_cole_integral(void **state)
{
    (void)state;
    /* Naive Hopf–Cole sum over the atoms (written here) ~ solution (A). */
    vq_par p = {{{1.0, 0.0}}, 0.3, 0.5};
    hj_grid G = grid1(241, -6.0, 6.0);
    double y[241], g[241];
    hj_error err;
    assert_int_equal(hj_pde_quadrature_atoms(&G, g_quad, &p.q, p.eps, y, g, &err), HJ_OK);
    for (double x = -1.5; x <= 1.5; x += 0.37) {
        double s = 0.0;
        for (size_t j = 0; j < 241; j++)
            s += exp(-(g[j] + (x - y[j]) * (x - y[j]) / (4.0 * p.t)) / p.eps);
        double u = -p.eps * log(s) + 0.5 * p.eps * log(4.0 * PI * p.eps * p.t);
        assert_near(u, exact_quad(&p.q, &x, 1, p.eps, p.t), 1e-9);
    }
}

static void heat_propagate_should_match_the_quadratic_solution(void **state)
{
    (void)state;
    quad_ctx q = {{1.0, 0.5}};
    double eps = 0.3, s = 0.5;
    double x[2 * 9];
    for (int i = 0; i < 9; i++) {
        x[2 * i] = -1.7 + 0.41 * i;
        x[2 * i + 1] = 1.3 - 0.29 * i;
    }
    for (size_t d = 1; d <= 2; d++) {
        double worst[2];
        size_t ns[2] = {13, 61};
        for (int r = 0; r < 2; r++) {
            hj_grid G = d == 1 ? grid1(ns[r], -6.0, 6.0) : grid2(ns[r], ns[r], -6.0, 6.0, -6.0, 6.0);
            double xs[18], out[9];
            for (int i = 0; i < 9; i++)
                for (size_t k = 0; k < d; k++)
                    xs[i * d + k] = x[2 * i + k];
            hj_error err;
            assert_int_equal(hj_pde_heat_propagate(&G, g_quad, &q, xs, 9, s, eps, out, &err),
                             HJ_OK);
            worst[r] = 0.0;
            for (int i = 0; i < 9; i++)
                worst[r] = fmax(worst[r], fabs(out[i] - exact_quad(&q, xs + i * d, d, eps, s)));
        }
        printf("  heat propagate d=%zu: h=1 err=%.3e, h=0.2 err=%.3e\n", d, worst[0], worst[1]);
        assert_true(worst[1] < 1e-10);
        assert_true(worst[0] > worst[1]);
    }
}

static void heat_propagate_should_compose_as_a_semigroup(void **state)
{
    (void)state;
    /* phi = U(., t) of three atoms; propagating by s must give U(., t+s) (D). */
    atoms_ctx A = ATOMS;
    double s = 0.3;
    for (size_t d = 1; d <= 2; d++) {
        hj_grid G = d == 1 ? grid1(241, -6.0, 6.0) : grid2(121, 121, -6.0, 6.0, -6.0, 6.0);
        double xs[2 * 7], out[7];
        for (int i = 0; i < 7; i++) {
            xs[i * d] = -1.5 + 0.5 * i;
            if (d == 2)
                xs[i * d + 1] = 1.2 - 0.4 * i;
        }
        hj_error err;
        assert_int_equal(hj_pde_heat_propagate(&G, phi_atoms_viscous, &A, xs, 7, s, A.eps, out,
                                               &err),
                         HJ_OK);
        for (int i = 0; i < 7; i++)
            assert_near(out[i], atoms_viscous(&A, xs + i * d, d, A.t + s), 1e-9);
    }
}

/* ---- inf-convolution ------------------------------------------------------------- */

static void inf_convolution_should_match_hopf_lax_closed_forms(void **state)
{
    (void)state;
    double t = 0.5;
    quad_ctx q = {{1.0, 0.3}};
    hj_error err;
    /* 1-D, coarse grid so refinement has to do the work */
    hj_grid G1 = grid1(21, -4.0, 4.0);
    double x1[13], out[13];
    for (int i = 0; i < 13; i++)
        x1[i] = -3.0 + 0.5 * i + 0.013 * i * i; /* includes points near |x| = 2t = 1 */
    assert_int_equal(hj_pde_inf_convolution(&G1, g_norm, NULL, x1, 13, t, out, &err), HJ_OK);
    for (int i = 0; i < 13; i++)
        assert_near(out[i], exact_hl_norm(x1 + i, 1, t), 1e-11);
    assert_int_equal(hj_pde_inf_convolution(&G1, g_quad, &q, x1, 13, t, out, &err), HJ_OK);
    for (int i = 0; i < 13; i++)
        assert_near(out[i], exact_quad(&q, x1 + i, 1, 0.0, t), 1e-11);

    /* 2-D, including x just outside the disc |x| <= 2t in a diagonal
     * direction: the minimiser is next to the kink of |y| at 0, where a pure
     * coordinate search would stall. */
    hj_grid G2 = grid2(17, 21, -4.0, 4.0, -4.0, 4.0);
    double x2[2 * 8] = {0.72, 0.72, -0.7, 0.71, 1.9, -0.3, -2.5, -1.7,
                        0.1,  0.2,  0.0,  0.0,  0.33, 0.9, 2.2,  2.1};
    double out2[8];
    assert_int_equal(hj_pde_inf_convolution(&G2, g_norm, NULL, x2, 8, t, out2, &err), HJ_OK);
    for (int i = 0; i < 8; i++)
        assert_near(out2[i], exact_hl_norm(x2 + 2 * i, 2, t), 1e-11);
    assert_int_equal(hj_pde_inf_convolution(&G2, g_quad, &q, x2, 8, t, out2, &err), HJ_OK);
    for (int i = 0; i < 8; i++)
        assert_near(out2[i], exact_quad(&q, x2 + 2 * i, 2, 0.0, t), 1e-11);
}

static void inf_convolution_should_compose_as_a_semigroup(void **state)
{
    (void)state;
    /* phi = Hopf–Lax of three atoms at t (non-convex, three basins);
     * inf-convolution over s gives the same atoms at t + s (D). */
    atoms_ctx A = ATOMS;
    double s = 0.35;
    for (size_t d = 1; d <= 2; d++) {
        hj_grid G = d == 1 ? grid1(25, -4.0, 4.0) : grid2(25, 23, -4.0, 4.0, -4.0, 4.0);
        double xs[2 * 11], out[11];
        for (int i = 0; i < 11; i++) {
            xs[i * d] = -2.0 + 0.4 * i;
            if (d == 2)
                xs[i * d + 1] = 1.5 - 0.31 * i;
        }
        hj_error err;
        assert_int_equal(hj_pde_inf_convolution(&G, phi_atoms_hl, &A, xs, 11, s, out, &err),
                         HJ_OK);
        for (int i = 0; i < 11; i++)
            assert_near(out[i], atoms_hopf_lax(&A, xs + i * d, d, A.t + s), 1e-11);
    }
}

/* ---- error paths ------------------------------------------------------------------ */

static void solvers_should_reject_invalid_arguments(void **state)
{
    (void)state;
    quad_ctx q = {{1.0, 1.0}};
    hj_grid G = grid1(11, -1.0, 1.0), bad = grid1(2, -1.0, 1.0);
    double u[11], y[11], g[11], x[1] = {0.0}, xn[1] = {NAN}, out[1];
    hj_error err;
#define EXPECT(want, call)                                      \
    do {                                                        \
        memset(&err, 0, sizeof err);                            \
        assert_int_equal((call), (want));                       \
        assert_int_equal(err.code, (want));                     \
        assert_true(strlen(err.msg) > 0);                       \
    } while (0)
    /* viscous */
    EXPECT(HJ_EINVAL, hj_pde_viscous_solve(&bad, g_quad, &q, 0.1, 1.0, 4, u, &err));
    EXPECT(HJ_EINVAL, hj_pde_viscous_solve(NULL, g_quad, &q, 0.1, 1.0, 4, u, &err));
    EXPECT(HJ_EINVAL, hj_pde_viscous_solve(&G, NULL, &q, 0.1, 1.0, 4, u, &err));
    EXPECT(HJ_EINVAL, hj_pde_viscous_solve(&G, g_quad, &q, 0.1, 1.0, 4, NULL, &err));
    EXPECT(HJ_EINVAL, hj_pde_viscous_solve(&G, g_quad, &q, -0.1, 1.0, 4, u, &err));
    EXPECT(HJ_EINVAL, hj_pde_viscous_solve(&G, g_quad, &q, 0.0, 1.0, 4, u, &err));
    EXPECT(HJ_EINVAL, hj_pde_viscous_solve(&G, g_quad, &q, NAN, 1.0, 4, u, &err));
    EXPECT(HJ_EINVAL, hj_pde_viscous_solve(&G, g_quad, &q, 0.1, 0.0, 4, u, &err));
    EXPECT(HJ_EINVAL, hj_pde_viscous_solve(&G, g_quad, &q, 0.1, -1.0, 4, u, &err));
    EXPECT(HJ_EINVAL, hj_pde_viscous_solve(&G, g_quad, &q, 0.1, 1.0, 0, u, &err));
    EXPECT(HJ_ENAN, hj_pde_viscous_solve(&G, g_nan, NULL, 0.1, 1.0, 4, u, &err));
    assert_int_equal(hj_pde_viscous_solve(&G, g_quad, &q, -0.1, 1.0, 4, u, NULL), HJ_EINVAL);
    /* inviscid */
    EXPECT(HJ_EINVAL, hj_pde_inviscid_solve(&bad, g_quad, &q, 1.0, 0.5, u, &err));
    EXPECT(HJ_EINVAL, hj_pde_inviscid_solve(&G, g_quad, &q, 0.0, 0.5, u, &err));
    EXPECT(HJ_EINVAL, hj_pde_inviscid_solve(&G, g_quad, &q, -2.0, 0.5, u, &err));
    EXPECT(HJ_EINVAL, hj_pde_inviscid_solve(&G, g_quad, &q, 1.0, 0.0, u, &err));
    EXPECT(HJ_EINVAL, hj_pde_inviscid_solve(&G, g_quad, &q, 1.0, 0.95, u, &err));
    EXPECT(HJ_EINVAL, hj_pde_inviscid_solve(&G, g_quad, &q, 1.0, NAN, u, &err));
    EXPECT(HJ_EINVAL, hj_pde_inviscid_solve(&G, NULL, &q, 1.0, 0.5, u, &err));
    EXPECT(HJ_EINVAL, hj_pde_inviscid_solve(&G, g_quad, &q, 1.0, 0.5, NULL, &err));
    EXPECT(HJ_ENAN, hj_pde_inviscid_solve(&G, g_nan, NULL, 1.0, 0.5, u, &err));
    /* quadrature atoms */
    EXPECT(HJ_EINVAL, hj_pde_quadrature_atoms(&G, g_quad, &q, -0.1, y, g, &err));
    EXPECT(HJ_EINVAL, hj_pde_quadrature_atoms(&G, g_quad, &q, INFINITY, y, g, &err));
    EXPECT(HJ_EINVAL, hj_pde_quadrature_atoms(&bad, g_quad, &q, 0.1, y, g, &err));
    EXPECT(HJ_EINVAL, hj_pde_quadrature_atoms(&G, g_quad, &q, 0.1, NULL, g, &err));
    EXPECT(HJ_EINVAL, hj_pde_quadrature_atoms(&G, NULL, &q, 0.1, y, g, &err));
    EXPECT(HJ_ENAN, hj_pde_quadrature_atoms(&G, g_nan, NULL, 0.1, y, g, &err));
    /* heat propagate */
    EXPECT(HJ_EINVAL, hj_pde_heat_propagate(&G, g_quad, &q, x, 1, 0.5, 0.0, out, &err));
    EXPECT(HJ_EINVAL, hj_pde_heat_propagate(&G, g_quad, &q, x, 1, 0.5, -1.0, out, &err));
    EXPECT(HJ_EINVAL, hj_pde_heat_propagate(&G, g_quad, &q, x, 1, 0.0, 0.1, out, &err));
    EXPECT(HJ_EINVAL, hj_pde_heat_propagate(&G, g_quad, &q, x, 1, -0.5, 0.1, out, &err));
    EXPECT(HJ_EINVAL, hj_pde_heat_propagate(&G, g_quad, &q, x, 0, 0.5, 0.1, out, &err));
    EXPECT(HJ_EINVAL, hj_pde_heat_propagate(&G, g_quad, &q, NULL, 1, 0.5, 0.1, out, &err));
    EXPECT(HJ_EINVAL, hj_pde_heat_propagate(&G, g_quad, &q, x, 1, 0.5, 0.1, NULL, &err));
    EXPECT(HJ_EINVAL, hj_pde_heat_propagate(&bad, g_quad, &q, x, 1, 0.5, 0.1, out, &err));
    EXPECT(HJ_ENAN, hj_pde_heat_propagate(&G, g_quad, &q, xn, 1, 0.5, 0.1, out, &err));
    EXPECT(HJ_ENAN, hj_pde_heat_propagate(&G, g_nan, NULL, x, 1, 0.5, 0.1, out, &err));
    /* inf-convolution */
    EXPECT(HJ_EINVAL, hj_pde_inf_convolution(&G, g_quad, &q, x, 1, 0.0, out, &err));
    EXPECT(HJ_EINVAL, hj_pde_inf_convolution(&G, g_quad, &q, x, 1, -1.0, out, &err));
    EXPECT(HJ_EINVAL, hj_pde_inf_convolution(&G, g_quad, &q, NULL, 1, 0.5, out, &err));
    EXPECT(HJ_EINVAL, hj_pde_inf_convolution(&G, NULL, &q, x, 1, 0.5, out, &err));
    EXPECT(HJ_EINVAL, hj_pde_inf_convolution(&bad, g_quad, &q, x, 1, 0.5, out, &err));
    EXPECT(HJ_ENAN, hj_pde_inf_convolution(&G, g_quad, &q, xn, 1, 0.5, out, &err));
    EXPECT(HJ_ENAN, hj_pde_inf_convolution(&G, g_nan, NULL, x, 1, 0.5, out, &err));
#undef EXPECT
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grid_check_should_reject_bad_grids),
        cmocka_unit_test(grid_point_should_follow_documented_layout),
        cmocka_unit_test(interp_should_reproduce_linear_and_bilinear_functions),
        cmocka_unit_test(interp_should_reject_points_outside_the_box),
        cmocka_unit_test(viscous_1d_should_converge_at_second_order_on_quadratic_data),
        cmocka_unit_test(viscous_2d_should_converge_at_second_order_on_anisotropic_quadratic),
        cmocka_unit_test(viscous_1d_should_converge_on_nonsmooth_data_with_large_steps),
        cmocka_unit_test(viscous_should_mark_underflow_as_infinity),
        cmocka_unit_test(inviscid_should_converge_to_hopf_lax_of_abs),
        cmocka_unit_test(inviscid_should_converge_to_hopf_lax_of_quadratic),
        cmocka_unit_test(inviscid_should_keep_affine_data_moving_exactly),
        cmocka_unit_test(quadrature_atoms_weights_should_sum_to_box_volume),
        cmocka_unit_test(quadrature_atoms_should_give_the_hopf_cole_integral),
        cmocka_unit_test(heat_propagate_should_match_the_quadratic_solution),
        cmocka_unit_test(heat_propagate_should_compose_as_a_semigroup),
        cmocka_unit_test(inf_convolution_should_match_hopf_lax_closed_forms),
        cmocka_unit_test(inf_convolution_should_compose_as_a_semigroup),
        cmocka_unit_test(solvers_should_reject_invalid_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
