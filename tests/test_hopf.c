/* test_hopf.c — Hopf–Cole / Hopf–Lax solutions, the weights <-> atoms map and the anisotropic metric against independent computations. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/hopf.h"
#include "hjdl/lse.h"
#include "naive_ref.h"

#define U DBL_EPSILON
#define PI_L 3.141592653589793238462643383279502884L

static const double EPS_LIST[] = {1e-6, 1e-3, 0.1, 1.0, 10.0, 1e3};
#define N_EPS (sizeof EPS_LIST / sizeof EPS_LIST[0])

/* ---- helpers ------------------------------------------------------------------- */

static void random_atoms(nr_rng *r, size_t N, size_t d, double *y, double *g)
{
    nr_fill_unif(r, y, N * d, -2.0, 2.0);
    nr_fill_unif(r, g, N, -1.0, 1.0);
}

/* Scale of the costs c_j and of their rounding error: max_j |g_j| + (|x|^2 + |y_j|^2)/(2t),
 * times lam (the largest eigenvalue of A^{-1}; 1 for the identity). */
static double cost_scale(const double *y, const double *g, size_t N, size_t d, const double *x, double t,
                         double lam)
{
    double xx = 0.0, best = 0.0;
    for (size_t k = 0; k < d; k++)
        xx += x[k] * x[k];
    for (size_t j = 0; j < N; j++) {
        double yy = 0.0;
        for (size_t k = 0; k < d; k++)
            yy += y[j * d + k] * y[j * d + k];
        double s = fabs(g[j]) + lam * (xx + yy) / (2.0 * t);
        if (s > best)
            best = s;
    }
    return best;
}

/* max_j |x - y_j| */
static double max_dist(const double *y, size_t N, size_t d, const double *x)
{
    double best = 0.0;
    for (size_t j = 0; j < N; j++) {
        double s = 0.0;
        for (size_t k = 0; k < d; k++)
            s += (x[k] - y[j * d + k]) * (x[k] - y[j * d + k]);
        if (sqrt(s) > best)
            best = sqrt(s);
    }
    return best;
}

/* u at one point through the library. */
typedef struct u_ctx {
    const hj_atoms *a;
    const hj_metric *m;
    double t;
    double eps;
    const double *x; /* for derivatives in t */
} u_ctx;

static double lib_u(const hj_atoms *a, const hj_metric *m, const double *x, double t, double eps)
{
    double u = NAN;
    hj_hc_out out;
    memset(&out, 0, sizeof out);
    out.u = &u;
    hj_error e;
    hj_error_clear(&e);
    if (hj_hopf_cole_eval(a, m, x, 1, t, eps, &out, &e) != HJ_OK)
        fail_msg("hj_hopf_cole_eval failed: %s", e.msg);
    return u;
}

static double u_of_x(const double *x, void *ctx)
{
    u_ctx *c = ctx;
    return lib_u(c->a, c->m, x, c->t, c->eps);
}

static double u_of_t(const double *tt, void *ctx)
{
    u_ctx *c = ctx;
    return lib_u(c->a, c->m, c->x, tt[0], c->eps);
}

/* All outputs for n points. */
typedef struct outs {
    double *u, *un, *grad, *dudt, *hess, *lap, *H, *pi;
    hj_hc_out o;
} outs;

static void outs_alloc(outs *s, size_t n, size_t N, size_t d)
{
    s->u = nr_xmalloc(n * sizeof(double));
    s->un = nr_xmalloc(n * sizeof(double));
    s->grad = nr_xmalloc(n * d * sizeof(double));
    s->dudt = nr_xmalloc(n * sizeof(double));
    s->hess = nr_xmalloc(n * d * d * sizeof(double));
    s->lap = nr_xmalloc(n * sizeof(double));
    s->H = nr_xmalloc(n * sizeof(double));
    s->pi = nr_xmalloc(n * N * sizeof(double));
    hj_hc_out o = {s->u, s->un, s->grad, s->dudt, s->hess, s->lap, s->H, s->pi};
    s->o = o;
}

static void outs_free(outs *s)
{
    free(s->u);
    free(s->un);
    free(s->grad);
    free(s->dudt);
    free(s->hess);
    free(s->lap);
    free(s->H);
    free(s->pi);
}

static int all_finite(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return 0;
    return 1;
}

/* ---- Hopf–Cole vs the naive formula (metric NULL or A) -------------------------------- */

/* Compare every output of hj_hopf_cole_eval at n points with nr_hopf. Ainv may
 * be NULL; lam = largest eigenvalue of Ainv (1 for identity), logdetA for u~. */
static void compare_with_naive(nr_check *c, const hj_atoms *a, const hj_metric *m, const long double *Ainv,
                               double lam, long double logdetA, const double *x, size_t n, double t,
                               double eps, const char *tag)
{
    size_t N = a->N, d = a->d;
    outs s;
    outs_alloc(&s, n, N, d);
    hj_error e;
    hj_error_clear(&e);
    hj_status st = hj_hopf_cole_eval(a, m, x, n, t, eps, &s.o, &e);
    if (!nr_true(c, st == HJ_OK, "%s: hj_hopf_cole_eval failed: %s", tag, e.msg)) {
        outs_free(&s);
        return;
    }
    long double *pr = nr_xmalloc(N * sizeof *pr), *gr = nr_xmalloc(d * sizeof *gr);
    long double *hr = nr_xmalloc(d * d * sizeof *hr);
    for (size_t i = 0; i < n; i++) {
        const double *xi = x + i * d;
        long double ur, dtr, Hr;
        nr_hopf(a->y, a->g, N, d, Ainv, xi, t, eps, &ur, pr, gr, &dtr, hr, &Hr);
        double Cs = cost_scale(a->y, a->g, N, d, xi, t, lam);
        double kappa = 1.0 + Cs / eps;
        double R = lam * (max_dist(a->y, N, d, xi) + 1e-300);
        double tolu = 1e-13 * (Cs + eps * log((double)N));
        nr_close(c, s.u[i], ur, tolu, "%s N=%zu d=%zu t=%g eps=%g i=%zu u", tag, N, d, t, eps, i);
        long double shift = 0.5L * eps * d * logl(4.0L * PI_L * eps * t) + 0.5L * eps * logdetA;
        nr_close(c, s.un[i], ur + shift, tolu + 1e-13 * (double)fabsl(shift), "%s N=%zu d=%zu t=%g eps=%g i=%zu u_norm",
                 tag, N, d, t, eps, i);
        long double sum = 0.0L;
        for (size_t j = 0; j < N; j++) {
            nr_close(c, s.pi[i * N + j], pr[j], 1e-13 * (double)pr[j] * kappa + 1e-300,
                     "%s N=%zu d=%zu t=%g eps=%g i=%zu pi_%zu", tag, N, d, t, eps, i, j);
            sum += s.pi[i * N + j];
        }
        nr_close(c, (double)sum, 1.0L, (double)(N + 16) * U, "%s N=%zu d=%zu t=%g eps=%g i=%zu sum pi", tag, N, d, t,
                 eps, i);
        double pe = 1e-13 * kappa + (double)(N + 8) * U;
        for (size_t k = 0; k < d; k++)
            nr_close(c, s.grad[i * d + k], gr[k], pe * R / (2 * t) + 8 * U * Cs,
                     "%s N=%zu d=%zu t=%g eps=%g i=%zu grad_%zu", tag, N, d, t, eps, i, k);
        nr_close(c, s.dudt[i], dtr, pe * R * R / lam / (4 * t * t) + 8 * U * Cs / t,
                 "%s N=%zu d=%zu t=%g eps=%g i=%zu dudt", tag, N, d, t, eps, i);
        double tolh = (4.0 * pe) * R * R / (4 * t * t * eps) + 8 * U * lam / t;
        long double lr = 0.0L;
        for (size_t k = 0; k < d; k++)
            for (size_t l = 0; l < d; l++) {
                nr_close(c, s.hess[i * d * d + k * d + l], hr[k * d + l], tolh,
                         "%s N=%zu d=%zu t=%g eps=%g i=%zu hess[%zu][%zu]", tag, N, d, t, eps, i, k, l);
                if (m == NULL)
                    lr += (k == l) ? hr[k * d + l] : 0.0L;
                else
                    lr += (long double)hj_metric_A(m)[l * d + k] * hr[k * d + l]; /* tr(A H) */
            }
        double Anorm = (m == NULL) ? 1.0 : 0.0;
        if (m != NULL)
            for (size_t k = 0; k < d * d; k++)
                Anorm += fabs(hj_metric_A(m)[k]);
        nr_close(c, s.lap[i], lr, (double)d * tolh * Anorm, "%s N=%zu d=%zu t=%g eps=%g i=%zu lap", tag, N, d, t, eps,
                 i);
        nr_close(c, s.H[i], Hr, 1e-13 * kappa * (1.0 + log((double)N)) + (double)(N + 8) * U,
                 "%s N=%zu d=%zu t=%g eps=%g i=%zu entropy", tag, N, d, t, eps, i);
    }
    free(pr);
    free(gr);
    free(hr);
    outs_free(&s);
}

static void hopf_cole_should_match_naive_formula(void **state)
{
    (void)state;
    nr_check c;
    nr_check_init(&c, "hopf_cole_eval vs naive (A = I)");
    nr_rng r;
    nr_seed(&r, 1001);
    const size_t shapes[][2] = {{1, 1}, {5, 2}, {40, 3}, {200, 4}};
    const double ts[] = {0.25, 1.0, 3.0};
    const size_t n = 4;
    for (size_t sh = 0; sh < 4; sh++) {
        size_t N = shapes[sh][0], d = shapes[sh][1];
        double *y = nr_xmalloc(N * d * sizeof *y), *g = nr_xmalloc(N * sizeof *g), *x = nr_xmalloc(n * d * sizeof *x);
        random_atoms(&r, N, d, y, g);
        nr_fill_unif(&r, x, n * d, -3, 3);
        hj_atoms a = {N, d, y, g};
        hj_error e;
        hj_error_clear(&e);
        assert_int_equal(hj_atoms_check(&a, &e), HJ_OK);
        for (size_t it = 0; it < 3; it++)
            for (size_t ie = 0; ie < N_EPS; ie++)
                compare_with_naive(&c, &a, NULL, NULL, 1.0, 0.0L, x, n, ts[it], EPS_LIST[ie], "iso");
        free(y);
        free(g);
        free(x);
    }
    assert_true(nr_check_report(&c));
}

/* ---- many atoms: u, u_norm, grad, entropy only (the tiled path) -------------------- */

/* With N above the tiled threshold and only u, u_norm, grad and entropy
 * requested, hj_hopf_cole_eval reduces over tiles of atoms; the results must
 * still match the long-double formula, at eps = 0 too, for small d (direct
 * distances) and d >= 8 (GEMM distances with recomputation). */
static void many_atoms_should_match_naive_formula(void **state)
{
    (void)state;
    nr_check c;
    nr_check_init(&c, "hopf_cole_eval, N = 6000, u/u_norm/grad/H only, vs naive");
    nr_rng r;
    nr_seed(&r, 1002);
    const size_t N = 6000, n = 3, dims[] = {2, 9};
    const double eps_list[] = {0.0, 1e-3, 0.1, 1.0, 1e3}, t = 0.7;
    for (size_t id = 0; id < 2; id++) {
        const size_t d = dims[id];
        double *y = nr_xmalloc(N * d * sizeof *y), *g = nr_xmalloc(N * sizeof *g), *x = nr_xmalloc(n * d * sizeof *x);
        random_atoms(&r, N, d, y, g);
        nr_fill_unif(&r, x, n * d, -3, 3);
        hj_atoms a = {N, d, y, g};
        double u[3], un[3], H[3], *grad = nr_xmalloc(n * d * sizeof *grad);
        long double *pr = nr_xmalloc(N * sizeof *pr), *gr = nr_xmalloc(d * sizeof *gr);
        for (size_t ie = 0; ie < sizeof eps_list / sizeof eps_list[0]; ie++) {
            const double eps = eps_list[ie];
            hj_hc_out o = {0};
            o.u = u, o.u_norm = un, o.grad = grad, o.entropy = H;
            hj_error e;
            hj_error_clear(&e);
            if (!nr_true(&c, hj_hopf_cole_eval(&a, NULL, x, n, t, eps, &o, &e) == HJ_OK,
                         "d=%zu eps=%g: %s", d, eps, e.msg))
                continue;
            for (size_t i = 0; i < n; i++) {
                const double *xi = x + i * d;
                long double ur, Hr;
                nr_hopf(y, g, N, d, NULL, xi, t, eps, &ur, pr, gr, NULL, NULL, &Hr);
                const double Cs = cost_scale(y, g, N, d, xi, t, 1.0);
                const double kappa = eps > 0 ? 1.0 + Cs / eps : 1.0;
                const double R = max_dist(y, N, d, xi) + 1e-300;
                const double tolu = 1e-13 * (Cs + eps * log((double)N));
                nr_close(&c, u[i], ur, tolu, "d=%zu eps=%g i=%zu u", d, eps, i);
                const long double shift = eps > 0 ? 0.5L * eps * d * logl(4.0L * PI_L * eps * t) : 0.0L;
                nr_close(&c, un[i], ur + shift, tolu + 1e-13 * (double)fabsl(shift), "d=%zu eps=%g i=%zu u_norm",
                         d, eps, i);
                const double pe = 1e-13 * kappa + (double)(N + 8) * U;
                for (size_t k = 0; k < d; k++)
                    nr_close(&c, grad[i * d + k], gr[k], pe * R / (2 * t) + 8 * U * Cs, "d=%zu eps=%g i=%zu grad_%zu",
                             d, eps, i, k);
                nr_close(&c, H[i], Hr, 1e-13 * kappa * (1.0 + log((double)N)) + (double)(N + 8) * U,
                         "d=%zu eps=%g i=%zu entropy", d, eps, i);
            }
        }
        free(y), free(g), free(x), free(grad), free(pr), free(gr);
    }
    assert_true(nr_check_report(&c));
}

/* ---- eps = 0: Hopf–Lax, brute force ---------------------------------------------------- */

static void hopf_lax_should_equal_brute_force_min_and_argmin(void **state)
{
    (void)state;
    nr_check c;
    nr_check_init(&c, "Hopf-Lax vs brute force");
    nr_rng r;
    nr_seed(&r, 1002);
    const size_t shapes[][2] = {{1, 1}, {6, 2}, {50, 3}, {300, 5}};
    const size_t n = 6;
    for (size_t sh = 0; sh < 4; sh++)
        for (int rep = 0; rep < 3; rep++) {
            size_t N = shapes[sh][0], d = shapes[sh][1];
            double t = nr_unif(&r, 0.2, 3.0);
            double *y = nr_xmalloc(N * d * sizeof *y), *g = nr_xmalloc(N * sizeof *g), *x = nr_xmalloc(n * d * sizeof *x);
            double *ul = nr_xmalloc(n * sizeof *ul);
            size_t *am = nr_xmalloc(n * sizeof *am);
            long double *cst = nr_xmalloc(N * sizeof *cst);
            random_atoms(&r, N, d, y, g);
            nr_fill_unif(&r, x, n * d, -3, 3);
            hj_atoms a = {N, d, y, g};
            outs s;
            outs_alloc(&s, n, N, d);
            hj_error e;
            hj_error_clear(&e);
            assert_int_equal(hj_hopf_cole_eval(&a, NULL, x, n, t, 0.0, &s.o, &e), HJ_OK);
            assert_int_equal(hj_hopf_lax_eval(&a, NULL, x, n, t, ul, am, &e), HJ_OK);
            for (size_t i = 0; i < n; i++) {
                const double *xi = x + i * d;
                nr_hopf_costs(y, g, N, d, NULL, xi, t, cst);
                size_t j1 = 0;
                for (size_t j = 1; j < N; j++)
                    if (cst[j] < cst[j1])
                        j1 = j;
                long double second = INFINITY;
                for (size_t j = 0; j < N; j++)
                    if (j != j1 && cst[j] < second)
                        second = cst[j];
                double Cs = cost_scale(y, g, N, d, xi, t, 1.0);
                double tol = 16 * U * Cs;
                nr_close(&c, s.u[i], cst[j1], tol, "hopf_cole eps=0 N=%zu d=%zu i=%zu u = min c", N, d, i);
                nr_close(&c, s.un[i], cst[j1], tol, "hopf_cole eps=0 N=%zu d=%zu i=%zu u_norm = u", N, d, i);
                nr_true(&c, s.un[i] == s.u[i], "eps=0: u_norm %.17g != u %.17g", s.un[i], s.u[i]);
                nr_close(&c, ul[i], cst[j1], tol, "hopf_lax N=%zu d=%zu i=%zu u = min c", N, d, i);
                int clear = (second - cst[j1]) > 64 * U * Cs;
                if (clear) {
                    nr_true(&c, am[i] == j1, "hopf_lax N=%zu d=%zu i=%zu argmin %zu != brute force %zu", N, d, i, am[i],
                            j1);
                    for (size_t j = 0; j < N; j++)
                        nr_close(&c, s.pi[i * N + j], j == j1 ? 1.0L : 0.0L, 0.0 + 1e-300, "eps=0 i=%zu pi_%zu", i, j);
                    nr_close(&c, s.H[i], 0.0L, 1e-300, "eps=0 i=%zu entropy", i);
                    for (size_t k = 0; k < d; k++)
                        nr_close(&c, s.grad[i * d + k], ((long double)xi[k] - y[j1 * d + k]) / (2.0L * t),
                                 8 * U * (fabs(xi[k]) + 2.0) / t, "eps=0 i=%zu grad_%zu", i, k);
                    long double D = 0;
                    for (size_t k = 0; k < d; k++)
                        D += ((long double)xi[k] - y[j1 * d + k]) * ((long double)xi[k] - y[j1 * d + k]);
                    nr_close(&c, s.dudt[i], -D / (4.0L * t * t), 16 * U * Cs / t, "eps=0 i=%zu dudt", i);
                    for (size_t k = 0; k < d; k++)
                        for (size_t l = 0; l < d; l++)
                            nr_close(&c, s.hess[i * d * d + k * d + l], k == l ? 1.0L / (2.0L * t) : 0.0L, 4 * U / t,
                                     "eps=0 i=%zu hess[%zu][%zu]", i, k, l);
                    nr_close(&c, s.lap[i], (long double)d / (2.0L * t), 4 * U * d / t, "eps=0 i=%zu lap", i);
                } else {
                    nr_close(&c, (double)cst[am[i]], cst[j1], tol, "hopf_lax near-tie: cost at argmin");
                }
            }
            outs_free(&s);
            free(y);
            free(g);
            free(x);
            free(ul);
            free(am);
            free(cst);
        }

    /* exact ties (dyadic data): atoms symmetric about x with equal heights */
    for (int rep = 0; rep < 20; rep++) {
        const size_t N = 6, d = 2;
        double y[12], g[6], x[2], u, ul;
        size_t am;
        for (size_t k = 0; k < N * d; k++)
            y[k] = nr_dyadic(&r, 16, 8);
        for (size_t j = 0; j < N; j++)
            g[j] = nr_dyadic(&r, 8, 8) + 4.0; /* others high */
        x[0] = nr_dyadic(&r, 8, 8);
        x[1] = nr_dyadic(&r, 8, 8);
        size_t ja = (size_t)nr_int(&r, 0, 2), jb = (size_t)nr_int(&r, 3, 5);
        for (size_t k = 0; k < d; k++)
            y[jb * d + k] = 2.0 * x[k] - y[ja * d + k]; /* mirror image of atom ja */
        if (rep % 2 == 0)
            y[jb * d + 1] = y[ja * d + 1]; /* then the atoms differ in coordinate 0 only */
        if (y[jb * d + 0] == y[ja * d + 0]) { /* atom ja sits on x in coordinate 0: move it */
            y[ja * d + 0] += 0.25;
            y[jb * d + 0] = 2.0 * x[0] - y[ja * d + 0];
        }
        g[ja] = g[jb] = -8.0;
        double t = 0.5;
        hj_atoms a = {N, d, y, g};
        hj_error e;
        hj_error_clear(&e);
        double pi[6], grad[2], hess[4], H, lap, un, dudt;
        hj_hc_out o = {&u, &un, grad, &dudt, hess, &lap, &H, pi};
        assert_int_equal(hj_hopf_cole_eval(&a, NULL, x, 1, t, 0.0, &o, &e), HJ_OK);
        assert_int_equal(hj_hopf_lax_eval(&a, NULL, x, 1, t, &ul, &am, &e), HJ_OK);
        long double cst[6];
        nr_hopf_costs(y, g, N, d, NULL, x, t, cst);
        nr_true(&c, cst[ja] == cst[jb], "tie construction failed");
        nr_true(&c, (long double)u == cst[ja], "tie rep=%d: u=%.17g != %.17Lg", rep, u, cst[ja]);
        nr_true(&c, (long double)ul == cst[ja], "tie rep=%d: hopf_lax u=%.17g != %.17Lg", rep, ul, cst[ja]);
        nr_true(&c, am == ja, "tie rep=%d: argmin %zu, expected smallest index %zu", rep, am, ja);
        for (size_t j = 0; j < N; j++)
            nr_close(&c, pi[j], (j == ja || j == jb) ? 0.5L : 0.0L, 2 * U, "tie rep=%d pi_%zu", rep, j);
        nr_close(&c, H, logl(2.0L), 4 * U, "tie rep=%d entropy = log 2", rep);
        for (size_t k = 0; k < d; k++) { /* ybar = (y_a + y_b)/2 */
            long double yb = 0.5L * ((long double)y[ja * d + k] + y[jb * d + k]);
            nr_close(&c, grad[k], ((long double)x[k] - yb) / (2.0L * t), 8 * U * 4.0 / t, "tie rep=%d grad_%zu", rep, k);
        }
        /* Hessian at the kink: -inf where Var_pi(y_k) > 0, smooth value where Cov = 0 */
        for (size_t k = 0; k < d; k++)
            for (size_t l = 0; l < d; l++) {
                double ck = y[ja * d + k] - y[jb * d + k], cl = y[ja * d + l] - y[jb * d + l];
                double cov = ck * cl; /* 4 Cov_kl */
                double h = hess[k * d + l];
                if (cov == 0.0)
                    nr_close(&c, h, k == l ? 1.0L / (2.0L * t) : 0.0L, 4 * U, "tie rep=%d hess[%zu][%zu] (Cov = 0)", rep,
                             k, l);
                else if (k == l)
                    nr_true(&c, isinf(h) && h < 0, "tie rep=%d hess[%zu][%zu]=%g, expected -inf", rep, k, l, h);
                else
                    nr_true(&c, isinf(h), "tie rep=%d hess[%zu][%zu]=%g, expected infinite", rep, k, l, h);
            }
    }
    assert_true(nr_check_report(&c));
}

/* ---- LSE = Hopf–Cole: f + u = |x|^2/(4t); the weights <-> atoms map ---------------------- */

static void lse_plus_hopf_should_equal_quadratic(void **state)
{
    (void)state;
    nr_check cid, cmap, crt, cpi;
    nr_check_init(&cid, "f + u = |x|^2/(4t) (u from atoms, f from mapped weights)");
    nr_check_init(&cmap, "atoms<->weights vs own formula");
    nr_check_init(&crt, "round trips");
    nr_check_init(&cpi, "pi(LSE, mapped) vs pi(Hopf-Cole)");
    nr_rng r;
    nr_seed(&r, 1003);
    const size_t shapes[][2] = {{1, 1}, {7, 2}, {50, 3}, {300, 5}};
    const double epss[] = {0.0, 1e-6, 1e-3, 0.1, 1.0, 10.0, 1e3};
    const double ts[] = {0.3, 2.0};
    const size_t n = 5;
    for (size_t sh = 0; sh < 4; sh++)
        for (size_t it = 0; it < 2; it++) {
            size_t N = shapes[sh][0], d = shapes[sh][1];
            double t = ts[it];
            double *y = nr_xmalloc(N * d * sizeof *y), *g = nr_xmalloc(N * sizeof *g), *x = nr_xmalloc(n * d * sizeof *x);
            double *w = nr_xmalloc(N * d * sizeof *w), *b = nr_xmalloc(N * sizeof *b);
            double *y2 = nr_xmalloc(N * d * sizeof *y2), *g2 = nr_xmalloc(N * sizeof *g2);
            double *w2 = nr_xmalloc(N * d * sizeof *w2), *b2 = nr_xmalloc(N * sizeof *b2);
            double *f = nr_xmalloc(n * sizeof *f), *u = nr_xmalloc(n * sizeof *u);
            double *pl = nr_xmalloc(n * N * sizeof *pl), *ph = nr_xmalloc(n * N * sizeof *ph);
            random_atoms(&r, N, d, y, g);
            nr_fill_unif(&r, x, n * d, -3, 3);
            hj_error e;
            hj_error_clear(&e);
            assert_int_equal(hj_atoms_to_weights(y, g, N, d, t, NULL, w, b, &e), HJ_OK);
            for (size_t j = 0; j < N; j++) {
                long double yy = 0;
                for (size_t k = 0; k < d; k++) {
                    nr_close(&cmap, w[j * d + k], (long double)y[j * d + k] / (2.0L * t),
                             2 * U * fabs(y[j * d + k]) / (2 * t) + 1e-300, "atoms->weights w N=%zu t=%g j=%zu", N, t, j);
                    yy += (long double)y[j * d + k] * y[j * d + k];
                }
                nr_close(&cmap, b[j], -g[j] - yy / (4.0L * t), 8 * U * (fabs(g[j]) + (double)yy / (4 * t)),
                         "atoms->weights b N=%zu t=%g j=%zu", N, t, j);
            }
            /* round trip atoms -> weights -> atoms */
            assert_int_equal(hj_weights_to_atoms(w, b, N, d, t, NULL, y2, g2, &e), HJ_OK);
            for (size_t j = 0; j < N; j++) {
                double yy = 0;
                for (size_t k = 0; k < d; k++) {
                    nr_close(&crt, y2[j * d + k], y[j * d + k], 4 * U * fabs(y[j * d + k]) + 1e-300,
                             "atoms->weights->atoms y N=%zu t=%g j=%zu k=%zu", N, t, j, k);
                    yy += y[j * d + k] * y[j * d + k];
                }
                nr_close(&crt, g2[j], g[j], 32 * U * (fabs(g[j]) + yy / (4 * t)), "atoms->weights->atoms g N=%zu t=%g j=%zu",
                         N, t, j);
            }
            /* weights -> atoms of random weights vs the formula, and back */
            double *wr = nr_xmalloc(N * d * sizeof *wr), *br = nr_xmalloc(N * sizeof *br);
            nr_fill_normal(&r, wr, N * d, 1.0);
            nr_fill_normal(&r, br, N, 1.0);
            assert_int_equal(hj_weights_to_atoms(wr, br, N, d, t, NULL, y2, g2, &e), HJ_OK);
            for (size_t j = 0; j < N; j++) {
                long double ww = 0;
                for (size_t k = 0; k < d; k++) {
                    nr_close(&cmap, y2[j * d + k], 2.0L * t * wr[j * d + k], 2 * U * fabs(2 * t * wr[j * d + k]) + 1e-300,
                             "weights->atoms y N=%zu t=%g j=%zu", N, t, j);
                    ww += (long double)wr[j * d + k] * wr[j * d + k];
                }
                nr_close(&cmap, g2[j], -br[j] - t * ww, 8 * U * (fabs(br[j]) + t * (double)ww),
                         "weights->atoms g N=%zu t=%g j=%zu", N, t, j);
            }
            assert_int_equal(hj_atoms_to_weights(y2, g2, N, d, t, NULL, w2, b2, &e), HJ_OK);
            for (size_t j = 0; j < N; j++) {
                double ww = 0;
                for (size_t k = 0; k < d; k++) {
                    nr_close(&crt, w2[j * d + k], wr[j * d + k], 4 * U * fabs(wr[j * d + k]) + 1e-300,
                             "weights->atoms->weights w N=%zu t=%g j=%zu", N, t, j);
                    ww += wr[j * d + k] * wr[j * d + k];
                }
                nr_close(&crt, b2[j], br[j], 32 * U * (fabs(br[j]) + t * ww), "weights->atoms->weights b N=%zu t=%g j=%zu",
                         N, t, j);
            }
            free(wr);
            free(br);

            /* the identity, non-circular: u from atoms, f from mapped weights */
            hj_atoms a = {N, d, y, g};
            for (size_t ie = 0; ie < sizeof epss / sizeof epss[0]; ie++) {
                double eps = epss[ie];
                hj_lse_layer L = {N, d, w, b, eps};
                hj_hc_out o;
                memset(&o, 0, sizeof o);
                o.u = u;
                o.pi = ph;
                assert_int_equal(hj_lse_forward(&L, x, n, f, pl, NULL, &e), HJ_OK);
                assert_int_equal(hj_hopf_cole_eval(&a, NULL, x, n, t, eps, &o, &e), HJ_OK);
                for (size_t i = 0; i < n; i++) {
                    long double q = nr_quadratic(NULL, x + i * d, d, t);
                    nr_close(&cid, f[i] + u[i], q, 1e-13 * (fabs(f[i]) + fabs(u[i]) + (double)q),
                             "N=%zu d=%zu t=%g eps=%g i=%zu (f=%.17g u=%.17g)", N, d, t, eps, i, f[i], u[i]);
                    nr_close(&cid, hj_hopf_quadratic(NULL, x + i * d, d, t), q, 8 * U * (double)q,
                             "hj_hopf_quadratic d=%zu t=%g i=%zu", d, t, i);
                    double Cs = cost_scale(y, g, N, d, x + i * d, t, 1.0);
                    double kap = (eps > 0.0) ? 1.0 + 2.0 * Cs / eps : 0.0;
                    for (size_t j = 0; j < N; j++) {
                        long double ref = ph[i * N + j];
                        nr_close(&cpi, pl[i * N + j], ref, 1e-13 * (double)ref * kap + 1e-300 + (eps == 0.0 ? 2 * U : 0.0),
                                 "N=%zu d=%zu t=%g eps=%g i=%zu j=%zu", N, d, t, eps, i, j);
                    }
                }
            }
            free(y);
            free(g);
            free(x);
            free(w);
            free(b);
            free(y2);
            free(g2);
            free(w2);
            free(b2);
            free(f);
            free(u);
            free(pl);
            free(ph);
        }
    int ok = nr_check_report(&cid);
    ok &= nr_check_report(&cmap);
    ok &= nr_check_report(&crt);
    ok &= nr_check_report(&cpi);
    assert_true(ok);
}

/* ---- derivatives and the PDE residual by finite differences ------------------------------- */

/* FD of u (library values only) at x: grad (d), dudt, hess (d, d). Steps from
 * the scales of the problem (see the test for the reasoning). */
static void fd_derivs(const hj_atoms *a, const hj_metric *m, double *x, double t, double eps, double hx, double ht,
                      double *grad, double *dudt, double *hess)
{
    size_t d = a->d;
    u_ctx cx = {a, m, t, eps, x};
    for (size_t k = 0; k < d; k++)
        grad[k] = nr_fd1(u_of_x, &cx, x, k, hx);
    for (size_t k = 0; k < d; k++)
        for (size_t l = 0; l < d; l++)
            hess[k * d + l] = (l < k) ? hess[l * d + k] : nr_fd2(u_of_x, &cx, x, k, l, hx);
    double tt[1] = {t};
    *dudt = nr_fd1(u_of_t, &cx, tt, 0, ht);
}

/* Check library derivatives and the residual at one (x, t, eps), metric m
 * (A (d,d) or NULL), lam = ||A^{-1}||_2, Alam = ||A||_2. */
static void check_fd_point(nr_check *cd, nr_check *cr, nr_check *cn, const hj_atoms *a, const hj_metric *m,
                           const long double *Ainv, double lam, double Alam, double *x, double t, double eps,
                           const char *tag)
{
    size_t N = a->N, d = a->d;
    const double *A = (m != NULL) ? hj_metric_A(m) : NULL;
    double grad[3], hess[9], dudt, lap, u, un, H;
    double fg[3], fh[9], fdt;
    hj_hc_out o = {&u, &un, grad, &dudt, hess, &lap, &H, NULL};
    hj_error e;
    hj_error_clear(&e);
    assert_int_equal(hj_hopf_cole_eval(a, m, x, 1, t, eps, &o, &e), HJ_OK);
    /* u is eps times a cumulant generating function: its n-th derivative in x is
     * bounded by C_n Rg^n / eps^(n-1), Rg = max_ij |A^{-1}(y_i - y_j)|/(2t), and in t
     * by C_n Dt^n / eps^(n-1), Dt = max_j |x - y_j|^2_{A^{-1}}/(4t^2) (plus the
     * smooth 1/t dependence). Steps with h Rg / eps = 0.02 (h Dt / eps = 0.02,
     * h <= t/100) make the 4th-order truncation ~ 0.02^4 = 1.6e-7 of those scales. */
    double spread = 0.0;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < i; j++) {
            double s2 = 0.0;
            for (size_t k = 0; k < d; k++)
                s2 += (a->y[i * d + k] - a->y[j * d + k]) * (a->y[i * d + k] - a->y[j * d + k]);
            spread = fmax(spread, sqrt(s2));
        }
    double R = max_dist(a->y, N, d, x);
    double Rg = lam * spread / (2.0 * t) + 1e-300;
    double Dt = lam * R * R / (4.0 * t * t) + 1e-300;
    double hx = fmin(0.02 * eps / Rg, 0.05);
    double ht = fmin(0.02 * eps / Dt, 0.01 * t);
    fd_derivs(a, m, x, t, eps, hx, ht, fg, &fdt, fh);
    double Cs = cost_scale(a->y, a->g, N, d, x, t, lam) + eps * log((double)N);
    /* tolerances: truncation (a safety factor ~20 over 0.02^4 / 30 or / 90 times
     * the derivative's scale) plus round-off ~ u Cs / h^k */
    double tg = 1e-7 * (Rg + lam * R / (2.0 * t)) + 8 * U * Cs / hx;
    double tt = 1e-7 * Dt + 8 * U * Cs / ht;
    double th = 1e-6 * (Rg * Rg / eps + lam / t) + 64 * U * Cs / (hx * hx);
    long double *gr = nr_xmalloc(d * sizeof *gr), *hr = nr_xmalloc(d * d * sizeof *hr);
    long double dtr;
    nr_hopf(a->y, a->g, N, d, Ainv, x, t, eps, NULL, NULL, gr, &dtr, hr, NULL);
    double lap_fd = 0.0, quad_fd = 0.0;
    for (size_t k = 0; k < d; k++) {
        nr_close(cd, grad[k], fg[k], tg, "%s d=%zu t=%g eps=%g grad_%zu vs FD", tag, d, t, eps, k);
        nr_close(cn, fg[k], gr[k], tg, "%s d=%zu t=%g eps=%g FD grad_%zu vs naive closed form", tag, d, t, eps, k);
        for (size_t l = 0; l < d; l++) {
            nr_close(cd, hess[k * d + l], fh[k * d + l], th, "%s d=%zu t=%g eps=%g hess[%zu][%zu] vs FD", tag, d, t, eps,
                     k, l);
            nr_close(cn, fh[k * d + l], hr[k * d + l], th, "%s d=%zu t=%g eps=%g FD hess[%zu][%zu] vs naive", tag, d, t,
                     eps, k, l);
            double akl = (A == NULL) ? (k == l) : A[k * d + l];
            lap_fd += akl * fh[l * d + k];
            quad_fd += fg[k] * akl * fg[l];
        }
    }
    nr_close(cd, dudt, fdt, tt, "%s d=%zu t=%g eps=%g dudt vs FD", tag, d, t, eps);
    nr_close(cn, fdt, dtr, tt, "%s d=%zu t=%g eps=%g FD dudt vs naive", tag, d, t, eps);
    double tl = (double)d * th * Alam;
    nr_close(cd, lap, lap_fd, tl, "%s d=%zu t=%g eps=%g lap vs FD", tag, d, t, eps);
    /* the PDE residual from finite differences only */
    double gnorm = 0.0;
    for (size_t k = 0; k < d; k++)
        gnorm += fabs(fg[k]);
    double res = fdt + quad_fd - eps * lap_fd;
    double tres = tt + 2.0 * gnorm * tg * Alam * (double)d + eps * tl;
    nr_close(cr, res, -(long double)eps * d / (2.0L * t), tres, "%s d=%zu t=%g eps=%g residual (FD) = -eps d/(2t)", tag,
             d, t, eps);
    /* the residual is not trivially satisfied: it differs from 0 by more than its tolerance */
    nr_true(cr, eps * d / (2.0 * t) > 3.0 * tres, "%s d=%zu t=%g eps=%g residual tolerance %g too loose vs %g", tag, d, t,
            eps, tres, eps * d / (2.0 * t));
    free(gr);
    free(hr);
}

static void derivatives_and_residual_should_match_finite_differences(void **state)
{
    (void)state;
    nr_check cd, cr, cn;
    nr_check_init(&cd, "grad/dudt/hess/lap vs FD of u");
    nr_check_init(&cr, "PDE residual from FD = -eps d/(2t)");
    nr_check_init(&cn, "FD vs naive closed form (validates the FD)");
    nr_rng r;
    nr_seed(&r, 1004);
    const size_t shapes[][2] = {{6, 1}, {10, 2}, {25, 3}};
    const double epss[] = {0.05, 0.3, 1.0, 10.0};
    const double ts[] = {0.5, 2.0};
    for (size_t sh = 0; sh < 3; sh++)
        for (int rep = 0; rep < 2; rep++) {
            size_t N = shapes[sh][0], d = shapes[sh][1];
            double y[75], g[25], x[3];
            random_atoms(&r, N, d, y, g);
            nr_fill_unif(&r, x, d, -2, 2);
            hj_atoms a = {N, d, y, g};
            for (size_t it = 0; it < 2; it++)
                for (size_t ie = 0; ie < 4; ie++)
                    check_fd_point(&cd, &cr, &cn, &a, NULL, NULL, 1.0, 1.0, x, ts[it], epss[ie], "iso");
        }
    int ok = nr_check_report(&cd);
    ok &= nr_check_report(&cr);
    ok &= nr_check_report(&cn);
    assert_true(ok);
}

/* ---- bounds: tropical rate and entropy range ------------------------------------------------- */

static void hopf_should_obey_tropical_and_entropy_bounds(void **state)
{
    (void)state;
    nr_check c;
    nr_check_init(&c, "0 <= u_0 - u_eps <= eps log N, 0 <= H <= log N, finite");
    nr_rng r;
    nr_seed(&r, 1005);
    const size_t Ns[] = {1, 3, 30, 400};
    const double epss[] = {1e-300, 1e-6, 1e-3, 0.1, 1.0, 10.0, 1e3, 1e300};
    const size_t d = 3, n = 5;
    for (size_t a0 = 0; a0 < 4; a0++) {
        size_t N = Ns[a0];
        double t = nr_unif(&r, 0.2, 2.0);
        double *y = nr_xmalloc(N * d * sizeof *y), *g = nr_xmalloc(N * sizeof *g), x[15], u0[5];
        random_atoms(&r, N, d, y, g);
        nr_fill_unif(&r, x, n * d, -3, 3);
        hj_atoms a = {N, d, y, g};
        hj_error e;
        hj_error_clear(&e);
        assert_int_equal(hj_hopf_lax_eval(&a, NULL, x, n, t, u0, NULL, &e), HJ_OK);
        for (size_t ie = 0; ie < sizeof epss / sizeof epss[0]; ie++) {
            double eps = epss[ie];
            outs s;
            outs_alloc(&s, n, N, d);
            assert_int_equal(hj_hopf_cole_eval(&a, NULL, x, n, t, eps, &s.o, &e), HJ_OK);
            nr_true(&c, all_finite(s.u, n) && all_finite(s.un, n) && all_finite(s.grad, n * d) &&
                            all_finite(s.dudt, n) && all_finite(s.H, n) && all_finite(s.pi, n * N),
                    "N=%zu eps=%g: a non-finite output", N, eps);
            nr_true(&c, all_finite(s.hess, n * d * d) && all_finite(s.lap, n), "N=%zu eps=%g: non-finite hess/lap", N, eps);
            for (size_t i = 0; i < n; i++) {
                double Cs = cost_scale(y, g, N, d, x + i * d, t, 1.0);
                double slack = 16 * U * (Cs + eps * log((double)N));
                double diff = u0[i] - s.u[i];
                nr_true(&c, diff >= -slack, "N=%zu eps=%g i=%zu u_0 - u_eps = %g < 0", N, eps, i, diff);
                nr_true(&c, diff <= eps * log((double)N) + slack, "N=%zu eps=%g i=%zu u_0 - u_eps = %.17g > eps log N %.17g",
                        N, eps, i, diff, eps * log((double)N));
                nr_true(&c, s.H[i] >= 0.0 && s.H[i] <= log((double)N) * (1 + 1e-14) + 1e-15,
                        "N=%zu eps=%g i=%zu entropy %.17g outside [0, log N]", N, eps, i, s.H[i]);
            }
            outs_free(&s);
        }
        free(y);
        free(g);
    }
    assert_true(nr_check_report(&c));
}

/* ---- anisotropic metric ----------------------------------------------------------------------- */

/* A = B B^T / d + 0.5 I, B ~ N(0, 1). */
static void random_spd(nr_rng *r, size_t d, double *A)
{
    double B[9];
    nr_fill_normal(r, B, d * d, 1.0);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j <= i; j++) {
            double s = 0.0;
            for (size_t k = 0; k < d; k++)
                s += B[i * d + k] * B[j * d + k];
            s = s / (double)d + ((i == j) ? 0.5 : 0.0);
            A[i * d + j] = A[j * d + i] = s;
        }
}

static void anisotropic_metric_should_match_naive_and_pde(void **state)
{
    (void)state;
    nr_check cm, cn, cid, cd, cr, cv, cx;
    nr_check_init(&cm, "metric: A, A^{-1}, log det vs own Gauss-Jordan");
    nr_check_init(&cn, "anisotropic hopf_cole vs naive");
    nr_check_init(&cid, "anisotropic f + u = x^T A^{-1} x/(4t), mapping, round trip");
    nr_check_init(&cd, "anisotropic derivatives vs FD");
    nr_check_init(&cr, "anisotropic PDE residual (FD) = -eps d/(2t)");
    nr_check_init(&cv, "anisotropic FD vs naive closed form");
    nr_check_init(&cx, "anisotropic Hopf-Lax vs brute force");
    nr_rng r;
    nr_seed(&r, 1006);
    for (size_t d = 2; d <= 3; d++)
        for (int rep = 0; rep < 3; rep++) {
            double A[9];
            random_spd(&r, d, A);
            long double Ainv[9], logdet, S[9], ev[3];
            assert_int_equal(nr_inverse(A, d, Ainv, &logdet), 0);
            for (size_t k = 0; k < d * d; k++)
                S[k] = A[k];
            nr_sym_eigvals(S, d, ev);
            long double emin = ev[0], emax = ev[0];
            for (size_t k = 1; k < d; k++) {
                emin = fminl(emin, ev[k]);
                emax = fmaxl(emax, ev[k]);
            }
            double lam = (double)(1.0L / emin), Alam = (double)emax, cond = (double)(emax / emin);
            hj_metric *m = NULL;
            hj_error e;
            hj_error_clear(&e);
            assert_int_equal(hj_metric_alloc(&m, A, d, &e), HJ_OK);
            assert_non_null(m);
            nr_true(&cm, hj_metric_dim(m) == d, "metric dim %zu != %zu", hj_metric_dim(m), d);
            for (size_t k = 0; k < d * d; k++) {
                nr_true(&cm, hj_metric_A(m)[k] == A[k], "metric A[%zu] = %.17g != %.17g", k, hj_metric_A(m)[k], A[k]);
                nr_close(&cm, hj_metric_Ainv(m)[k], Ainv[k], 16 * U * cond * lam, "d=%zu rep=%d Ainv[%zu]", d, rep, k);
            }
            nr_close(&cm, hj_metric_logdet(m), logdet, 16 * U * (cond + fabsl(logdet)), "d=%zu rep=%d log det A", d, rep);

            const size_t N = 12, n = 4;
            double y[36], g[12], x[12], w[36], b[12], y2[36], g2[12], f[4], u[4];
            random_atoms(&r, N, d, y, g);
            nr_fill_unif(&r, x, n * d, -2.5, 2.5);
            hj_atoms a = {N, d, y, g};
            const double ts[] = {0.4, 1.5};
            for (size_t it = 0; it < 2; it++) {
                double t = ts[it];
                for (size_t ie = 0; ie < N_EPS; ie++)
                    compare_with_naive(&cn, &a, m, Ainv, lam * cond, logdet, x, n, t, EPS_LIST[ie], "aniso");
                /* mapping vs own formula w = A^{-1} y/(2t), b = -g - y^T A^{-1} y/(4t) */
                assert_int_equal(hj_atoms_to_weights(y, g, N, d, t, m, w, b, &e), HJ_OK);
                for (size_t j = 0; j < N; j++) {
                    long double yAy = 0;
                    for (size_t k = 0; k < d; k++) {
                        long double s = 0;
                        for (size_t l = 0; l < d; l++)
                            s += Ainv[k * d + l] * y[j * d + l];
                        nr_close(&cid, w[j * d + k], s / (2.0L * t), 32 * U * cond * lam * 2.0 / t,
                                 "aniso d=%zu t=%g j=%zu w_%zu", d, t, j, k);
                        yAy += y[j * d + k] * s;
                    }
                    nr_close(&cid, b[j], -g[j] - yAy / (4.0L * t), 32 * U * cond * (1.0 + lam * 12.0 / t),
                             "aniso d=%zu t=%g j=%zu b", d, t, j);
                }
                assert_int_equal(hj_weights_to_atoms(w, b, N, d, t, m, y2, g2, &e), HJ_OK);
                for (size_t j = 0; j < N; j++) {
                    for (size_t k = 0; k < d; k++)
                        nr_close(&cid, y2[j * d + k], y[j * d + k], 32 * U * cond * 2.0, "aniso round trip d=%zu t=%g y[%zu][%zu]",
                                 d, t, j, k);
                    nr_close(&cid, g2[j], g[j], 64 * U * cond * (1.0 + lam * 12.0 / t), "aniso round trip d=%zu t=%g g[%zu]",
                             d, t, j);
                }
                /* f + u = x^T A^{-1} x / (4t), eps = 0 included */
                const double epss[] = {0.0, 1e-6, 1e-3, 0.1, 1.0, 10.0, 1e3};
                for (size_t ie = 0; ie < 7; ie++) {
                    double eps = epss[ie];
                    hj_lse_layer L = {N, d, w, b, eps};
                    hj_hc_out o;
                    memset(&o, 0, sizeof o);
                    o.u = u;
                    assert_int_equal(hj_lse_forward(&L, x, n, f, NULL, NULL, &e), HJ_OK);
                    assert_int_equal(hj_hopf_cole_eval(&a, m, x, n, t, eps, &o, &e), HJ_OK);
                    for (size_t i = 0; i < n; i++) {
                        long double q = nr_quadratic(Ainv, x + i * d, d, t);
                        nr_close(&cid, f[i] + u[i], q, 1e-13 * cond * (fabs(f[i]) + fabs(u[i]) + (double)q),
                                 "aniso d=%zu t=%g eps=%g i=%zu f+u", d, t, eps, i);
                        nr_close(&cid, hj_hopf_quadratic(m, x + i * d, d, t), q, 32 * U * cond * (double)q,
                                 "aniso hj_hopf_quadratic d=%zu t=%g i=%zu", d, t, i);
                    }
                }
                /* Hopf–Lax with the metric */
                double ul[4];
                size_t am[4];
                long double cst[12];
                assert_int_equal(hj_hopf_lax_eval(&a, m, x, n, t, ul, am, &e), HJ_OK);
                for (size_t i = 0; i < n; i++) {
                    nr_hopf_costs(y, g, N, d, Ainv, x + i * d, t, cst);
                    size_t j1 = 0;
                    for (size_t j = 1; j < N; j++)
                        if (cst[j] < cst[j1])
                            j1 = j;
                    double Cs = cost_scale(y, g, N, d, x + i * d, t, lam);
                    nr_close(&cx, ul[i], cst[j1], 16 * U * cond * Cs, "aniso hopf_lax d=%zu t=%g i=%zu", d, t, i);
                    nr_close(&cx, (double)cst[am[i]], cst[j1], 16 * U * cond * Cs, "aniso hopf_lax argmin cost d=%zu i=%zu",
                             d, i);
                }
                /* derivatives and residual by FD */
                const double fe[] = {0.1, 0.5, 2.0};
                for (size_t ie = 0; ie < 3; ie++)
                    for (size_t i = 0; i < 2; i++)
                        check_fd_point(&cd, &cr, &cv, &a, m, Ainv, lam, Alam, x + i * d, t, fe[ie], "aniso");
            }
            hj_metric_free(m);
        }

    /* non-SPD matrices are refused with HJ_EDOM */
    const double bad[][4] = {
        {1, 2, 2, 1},    /* indefinite */
        {2, 1, 0, 2},    /* not symmetric */
        {1, 1, 1, 1},    /* singular */
        {-1, 0, 0, -1},  /* negative definite */
        {0, 0, 0, 0},    /* zero */
        {1, 0, 0, -1e-3} /* barely indefinite */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hj_metric *m = NULL;
        hj_error e;
        hj_error_clear(&e);
        hj_status st = hj_metric_alloc(&m, bad[i], 2, &e);
        nr_true(&cm, st == HJ_EDOM, "non-SPD A #%zu: status %d, expected HJ_EDOM (%d)", i, (int)st, (int)HJ_EDOM);
        nr_true(&cm, st == HJ_OK || (e.code == st && e.msg[0] != '\0'), "non-SPD A #%zu: err not filled", i);
        if (st == HJ_OK)
            hj_metric_free(m);
    }
    {
        const double nanA[4] = {1, NAN, NAN, 1};
        hj_metric *m = NULL;
        hj_error e;
        hj_error_clear(&e);
        hj_status st = hj_metric_alloc(&m, nanA, 2, &e);
        nr_true(&cm, st != HJ_OK && e.msg[0] != '\0', "A with NaN accepted (status %d)", (int)st);
        if (st == HJ_OK)
            hj_metric_free(m);
    }
    int ok = nr_check_report(&cm);
    ok &= nr_check_report(&cn);
    ok &= nr_check_report(&cid);
    ok &= nr_check_report(&cd);
    ok &= nr_check_report(&cr);
    ok &= nr_check_report(&cv);
    ok &= nr_check_report(&cx);
    assert_true(ok);
}

/* ---- error paths ------------------------------------------------------------------------------ */

static void invalid_arguments_should_be_refused_with_message(void **state)
{
    (void)state;
    nr_check c;
    nr_check_init(&c, "hopf error paths");
    double y[4] = {0, 1, 1, 0}, g[2] = {0, 0.5}, x[2] = {0.3, 0.2}, xn[2] = {0.3, NAN};
    double yn[4] = {0, NAN, 1, 0}, gi[2] = {0, INFINITY};
    double u[1], un[1], grad[2], dudt[1], hess[4], lap[1], H[1], pi[2], w[4], b[2], y2[4], g2[2];
    size_t am[1];
    hj_hc_out o = {u, un, grad, dudt, hess, lap, H, pi};
    hj_atoms ok = {2, 2, y, g};
    struct {
        const char *what;
        hj_atoms a;
    } bad[] = {
        {"N = 0", {0, 2, y, g}},       {"d = 0", {2, 0, y, g}},        {"y = NULL", {2, 2, NULL, g}},
        {"g = NULL", {2, 2, y, NULL}}, {"NaN in y", {2, 2, yn, g}}, {"inf in g", {2, 2, y, gi}},
    };
    char what[160];
    hj_error e;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hj_error_clear(&e);
        snprintf(what, sizeof what, "hj_atoms_check(%s)", bad[i].what);
        nr_expect_error(&c, hj_atoms_check(&bad[i].a, &e), &e, what);
        hj_error_clear(&e);
        snprintf(what, sizeof what, "hj_hopf_cole_eval(%s)", bad[i].what);
        nr_expect_error(&c, hj_hopf_cole_eval(&bad[i].a, NULL, x, 1, 1.0, 0.5, &o, &e), &e, what);
        hj_error_clear(&e);
        snprintf(what, sizeof what, "hj_hopf_lax_eval(%s)", bad[i].what);
        nr_expect_error(&c, hj_hopf_lax_eval(&bad[i].a, NULL, x, 1, 1.0, u, am, &e), &e, what);
        nr_true(&c, hj_hopf_cole_eval(&bad[i].a, NULL, x, 1, 1.0, 0.5, &o, NULL) != HJ_OK,
                "hj_hopf_cole_eval(%s, err=NULL) returned HJ_OK", bad[i].what);
    }
    const double bad_t[] = {0.0, -1.0, NAN};
    for (size_t i = 0; i < 3; i++) {
        hj_error_clear(&e);
        snprintf(what, sizeof what, "hj_hopf_cole_eval(t=%g)", bad_t[i]);
        nr_expect_error(&c, hj_hopf_cole_eval(&ok, NULL, x, 1, bad_t[i], 0.5, &o, &e), &e, what);
        hj_error_clear(&e);
        snprintf(what, sizeof what, "hj_hopf_lax_eval(t=%g)", bad_t[i]);
        nr_expect_error(&c, hj_hopf_lax_eval(&ok, NULL, x, 1, bad_t[i], u, am, &e), &e, what);
        hj_error_clear(&e);
        snprintf(what, sizeof what, "hj_atoms_to_weights(t=%g)", bad_t[i]);
        nr_expect_error(&c, hj_atoms_to_weights(y, g, 2, 2, bad_t[i], NULL, w, b, &e), &e, what);
        hj_error_clear(&e);
        snprintf(what, sizeof what, "hj_weights_to_atoms(t=%g)", bad_t[i]);
        nr_expect_error(&c, hj_weights_to_atoms(y, g, 2, 2, bad_t[i], NULL, y2, g2, &e), &e, what);
    }
    const double bad_eps[] = {-1.0, -1e-300, NAN, INFINITY};
    for (size_t i = 0; i < 4; i++) {
        hj_error_clear(&e);
        snprintf(what, sizeof what, "hj_hopf_cole_eval(eps=%g)", bad_eps[i]);
        nr_expect_error(&c, hj_hopf_cole_eval(&ok, NULL, x, 1, 1.0, bad_eps[i], &o, &e), &e, what);
    }
    hj_error_clear(&e);
    nr_expect_error(&c, hj_hopf_cole_eval(&ok, NULL, xn, 1, 1.0, 0.5, &o, &e), &e, "hj_hopf_cole_eval(NaN in x)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_hopf_cole_eval(&ok, NULL, NULL, 1, 1.0, 0.5, &o, &e), &e, "hj_hopf_cole_eval(x = NULL)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_hopf_cole_eval(NULL, NULL, x, 1, 1.0, 0.5, &o, &e), &e, "hj_hopf_cole_eval(atoms = NULL)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_hopf_lax_eval(&ok, NULL, xn, 1, 1.0, u, am, &e), &e, "hj_hopf_lax_eval(NaN in x)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_hopf_lax_eval(&ok, NULL, x, 1, 1.0, NULL, am, &e), &e, "hj_hopf_lax_eval(u = NULL)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_atoms_to_weights(NULL, g, 2, 2, 1.0, NULL, w, b, &e), &e, "hj_atoms_to_weights(y = NULL)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_atoms_to_weights(y, g, 2, 2, 1.0, NULL, NULL, b, &e), &e, "hj_atoms_to_weights(w = NULL)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_atoms_to_weights(y, g, 0, 2, 1.0, NULL, w, b, &e), &e, "hj_atoms_to_weights(N = 0)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_weights_to_atoms(y, NULL, 2, 2, 1.0, NULL, y2, g2, &e), &e, "hj_weights_to_atoms(b = NULL)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_weights_to_atoms(y, g, 0, 2, 1.0, NULL, y2, g2, &e), &e, "hj_weights_to_atoms(N = 0)");
    hj_error_clear(&e);
    const double I2[4] = {1, 0, 0, 1};
    nr_expect_error(&c, hj_metric_alloc(NULL, I2, 2, &e), &e, "hj_metric_alloc(out = NULL)");
    {
        hj_metric *m = NULL;
        hj_error_clear(&e);
        nr_expect_error(&c, hj_metric_alloc(&m, NULL, 2, &e), &e, "hj_metric_alloc(A = NULL)");
        hj_error_clear(&e);
        const double A1[1] = {1.0};
        nr_expect_error(&c, hj_metric_alloc(&m, A1, 0, &e), &e, "hj_metric_alloc(d = 0)");
        /* metric of the wrong dimension */
        const double A3[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
        hj_error_clear(&e);
        assert_int_equal(hj_metric_alloc(&m, A3, 3, &e), HJ_OK);
        hj_error_clear(&e);
        nr_expect_error(&c, hj_hopf_cole_eval(&ok, m, x, 1, 1.0, 0.5, &o, &e), &e, "hj_hopf_cole_eval(metric d=3, atoms d=2)");
        hj_error_clear(&e);
        nr_expect_error(&c, hj_hopf_lax_eval(&ok, m, x, 1, 1.0, u, am, &e), &e, "hj_hopf_lax_eval(metric d=3, atoms d=2)");
        hj_error_clear(&e);
        nr_expect_error(&c, hj_atoms_to_weights(y, g, 2, 2, 1.0, m, w, b, &e), &e, "hj_atoms_to_weights(metric d=3, d=2)");
        hj_metric_free(m);
    }
    hj_error_clear(&e);
    nr_true(&c, hj_hopf_cole_eval(&ok, NULL, x, 1, 1.0, 0.5, &o, &e) == HJ_OK && e.msg[0] == '\0',
            "valid hj_hopf_cole_eval did not succeed cleanly: %s", e.msg);
    assert_true(nr_check_report(&c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hopf_cole_should_match_naive_formula),
        cmocka_unit_test(many_atoms_should_match_naive_formula),
        cmocka_unit_test(hopf_lax_should_equal_brute_force_min_and_argmin),
        cmocka_unit_test(lse_plus_hopf_should_equal_quadratic),
        cmocka_unit_test(derivatives_and_residual_should_match_finite_differences),
        cmocka_unit_test(hopf_should_obey_tropical_and_entropy_bounds),
        cmocka_unit_test(anisotropic_metric_should_match_naive_and_pde),
        cmocka_unit_test(invalid_arguments_should_be_refused_with_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
