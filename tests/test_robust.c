/* test_robust.c — robustness module: Lanczos vs LAPACK, MEB vs brute force, composition-rule Hessians vs finite differences, sound certified radii, PGD vs the closed-form minimal perturbation of a linear model. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <lapacke.h>

#include "hjdl/dataset.h"
#include "hjdl/lse.h"
#include "hjdl/model.h"
#include "hjdl/rng.h"
#include "hjdl/robust.h"

static double *dalloc(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

/* A random model for spec on d inputs with C classes; every parameter perturbed. */
static void make_model(const char *spec, size_t d, size_t C, int scale, double eps, uint64_t seed,
                       double pscale, hj_model *m)
{
    hj_arch arch;
    hj_error err = {0};
    if (hj_arch_parse(spec, d, C, scale, &arch, &err) != HJ_OK)
        fail_msg("%s: %s", spec, err.msg);
    assert_int_equal(hj_model_init(m, &arch, eps, 1.0, seed, &err), HJ_OK);
    hj_rng r;
    hj_rng_seed(&r, seed * 7 + 3);
    for (size_t k = 0; k < arch.n_params; k++)
        m->params[k] += pscale * hj_rng_normal(&r);
}

/* ---- 1. Lanczos ------------------------------------------------------------- */

typedef struct diag_op {
    const double *lam;
    size_t d;
} diag_op;

/* v -> Q diag(lam) Q^T v with Q a fixed rotation (Householder reflection e - 2uu^T, u = 1/sqrt(d)). */
static void rotated_diag(void *ctx, const double *v, double *out)
{
    const diag_op *o = ctx;
    const size_t d = o->d;
    double s = 0.0, t = 0.0;
    for (size_t k = 0; k < d; k++)
        s += v[k];
    s /= (double)d; /* u.v / sqrt(d) with u = 1/sqrt(d) */
    for (size_t k = 0; k < d; k++)
        out[k] = o->lam[k] * (v[k] - 2.0 * s); /* diag(lam) H v */
    for (size_t k = 0; k < d; k++)
        t += out[k];
    t /= (double)d;
    for (size_t k = 0; k < d; k++)
        out[k] -= 2.0 * t; /* H diag(lam) H v */
}

static void lanczos_should_find_extreme_eigenvalues_of_an_indefinite_operator(void **state)
{
    (void)state;
    const size_t d = 40;
    double lam[40];
    for (size_t k = 0; k < d; k++)
        lam[k] = -3.0 + 0.15 * (double)((k * 17) % 40); /* -3 .. 2.85, distinct */
    diag_op o = {lam, d};
    double lo, hi;
    size_t it;
    hj_error err = {0};
    assert_int_equal(hj_lanczos_extreme(rotated_diag, &o, d, 0, 1e-12, 7, &lo, &hi, &it, &err), HJ_OK);
    assert_true(fabs(lo + 3.0) <= 1e-10);
    assert_true(fabs(hi - 2.85) <= 1e-10);
    assert_true(it <= d);
    /* a too-small budget is reported, not hidden */
    assert_int_equal(hj_lanczos_extreme(rotated_diag, &o, d, 3, 1e-14, 7, &lo, &hi, &it, &err), HJ_EMAXITER);
}

static void matrix_free_spectral_norm_should_match_lapack(void **state)
{
    (void)state;
    static const size_t shapes[][2] = {{1, 1}, {5, 1}, {3, 4}, {12, 6}, {20, 80}, {64, 50}, {200, 10}};
    static const double eps_list[] = {0.05, 0.5, 3.0};
    hj_rng r;
    hj_rng_seed(&r, 11);
    double worst = 0.0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const size_t N = shapes[s][0], d = shapes[s][1];
        double *w = dalloc(N * d), *b = dalloc(N), *x = dalloc(6 * d);
        for (size_t k = 0; k < N * d; k++)
            w[k] = hj_rng_normal(&r);
        for (size_t j = 0; j < N; j++)
            b[j] = 0.5 * hj_rng_normal(&r);
        for (size_t k = 0; k < 6 * d; k++)
            x[k] = hj_rng_range(&r, -1.0, 1.0);
        for (size_t e = 0; e < 3; e++) {
            hj_lse_layer L = {N, d, w, b, eps_list[e]};
            double mf[6], lp[6];
            hj_error err = {0};
            assert_int_equal(hj_robust_lse_hessian_norm(&L, x, 6, mf, &err), HJ_OK);
            assert_int_equal(hj_lse_hessian_norm(&L, x, 6, lp, &err), HJ_OK);
            for (size_t i = 0; i < 6; i++) {
                double rel = fabs(mf[i] - lp[i]) / fmax(lp[i], 1e-300);
                if (lp[i] < 1e-14 * N / eps_list[e])
                    rel = fabs(mf[i] - lp[i]) * eps_list[e];
                worst = fmax(worst, rel);
            }
        }
        free(w), free(b), free(x);
    }
    if (!(worst <= 1e-9))
        fail_msg("matrix-free vs LAPACK spectral norm: worst relative difference %.3e", worst);
}

static void eps0_hessian_norm_should_follow_the_kink_convention(void **state)
{
    (void)state;
    const double w[] = {1, 0, -1, 0, 0, 2};
    const double b[] = {0, 0, -5};
    hj_lse_layer L = {3, 2, w, b, 0.0};
    const double x[] = {0.5, 0.1, 0.0, 0.3}; /* unique arg-max; tie between neurons 0 and 1 */
    double h[2];
    hj_error err = {0};
    assert_int_equal(hj_robust_lse_hessian_norm(&L, x, 2, h, &err), HJ_OK);
    assert_true(h[0] == 0.0);
    assert_true(isinf(h[1]));
}

/* ---- 2. minimum enclosing ball --------------------------------------------- */

/* Smallest ball through all of the k points S (k <= 4) with its centre in their affine hull:
 * solve G lambda = r/2, G_ij = (p_i - p_0).(p_j - p_0), r_i = |p_i - p_0|^2. 0 if singular. */
static int ball_through(const double *p, const size_t *S, size_t k, size_t d, double *c, double *R2)
{
    double G[3][4];
    const double *p0 = p + S[0] * d;
    for (size_t i = 1; i < k; i++) {
        for (size_t j = 1; j < k; j++) {
            double s = 0.0;
            for (size_t q = 0; q < d; q++)
                s += (p[S[i] * d + q] - p0[q]) * (p[S[j] * d + q] - p0[q]);
            G[i - 1][j - 1] = s;
        }
        double s = 0.0;
        for (size_t q = 0; q < d; q++)
            s += (p[S[i] * d + q] - p0[q]) * (p[S[i] * d + q] - p0[q]);
        G[i - 1][k - 1] = 0.5 * s;
    }
    const size_t m = k - 1;
    for (size_t col = 0; col < m; col++) { /* Gaussian elimination with partial pivoting */
        size_t piv = col;
        for (size_t i = col + 1; i < m; i++)
            if (fabs(G[i][col]) > fabs(G[piv][col]))
                piv = i;
        if (fabs(G[piv][col]) < 1e-12)
            return 0;
        for (size_t j = 0; j <= m; j++) {
            double t = G[col][j];
            G[col][j] = G[piv][j];
            G[piv][j] = t;
        }
        for (size_t i = 0; i < m; i++)
            if (i != col) {
                double f = G[i][col] / G[col][col];
                for (size_t j = col; j <= m; j++)
                    G[i][j] -= f * G[col][j];
            }
    }
    for (size_t q = 0; q < d; q++) {
        c[q] = p0[q];
        for (size_t i = 0; i < m; i++)
            c[q] += G[i][m] / G[i][i] * (p[S[i + 1] * d + q] - p0[q]);
    }
    double s = 0.0;
    for (size_t q = 0; q < d; q++)
        s += (c[q] - p0[q]) * (c[q] - p0[q]);
    *R2 = s;
    return 1;
}

/* Exact MEB radius by brute force over all subsets of 2..d+1 points (d <= 3). */
static double meb_brute(const double *p, size_t N, size_t d)
{
    double best = INFINITY, c[3], R2;
    size_t S[4];
    for (size_t k = 2; k <= d + 1 && k <= N; k++) {
        /* enumerate k-subsets */
        for (size_t i = 0; i < k; i++)
            S[i] = i;
        for (;;) {
            if (ball_through(p, S, k, d, c, &R2)) {
                int ok = 1;
                for (size_t j = 0; j < N && ok; j++) {
                    double s = 0.0;
                    for (size_t q = 0; q < d; q++)
                        s += (p[j * d + q] - c[q]) * (p[j * d + q] - c[q]);
                    ok = s <= R2 * (1.0 + 1e-12) + 1e-15;
                }
                if (ok && R2 < best)
                    best = R2;
            }
            size_t i = k;
            while (i > 0 && S[i - 1] == N - k + i - 1)
                i--;
            if (i == 0)
                break;
            S[i - 1]++;
            for (size_t j = i; j < k; j++)
                S[j] = S[j - 1] + 1;
        }
    }
    return sqrt(best);
}

static void meb_should_enclose_every_point_and_match_brute_force(void **state)
{
    (void)state;
    hj_rng r;
    hj_rng_seed(&r, 5);
    for (size_t trial = 0; trial < 60; trial++) {
        const size_t d = 1 + trial % 3, N = 3 + trial % 10;
        double p[13 * 3], c[3], R, lo;
        for (size_t k = 0; k < N * d; k++)
            p[k] = trial % 2 ? hj_rng_normal(&r) : hj_rng_range(&r, -1.0, 1.0) * (1.0 + (double)(k % d));
        hj_error err = {0};
        assert_int_equal(hj_meb(p, N, d, 1e-10, c, &R, &lo, &err), HJ_OK);
        double far = 0.0;
        for (size_t j = 0; j < N; j++) {
            double s = 0.0;
            for (size_t q = 0; q < d; q++)
                s += (p[j * d + q] - c[q]) * (p[j * d + q] - c[q]);
            far = fmax(far, sqrt(s));
        }
        assert_true(far <= R * (1.0 + 1e-14)); /* every point inside */
        double exact;
        if (d == 1) {
            double mn = p[0], mx = p[0];
            for (size_t j = 1; j < N; j++)
                mn = fmin(mn, p[j]), mx = fmax(mx, p[j]);
            exact = 0.5 * (mx - mn);
        } else {
            exact = meb_brute(p, N, d);
        }
        if (!(R >= exact * (1.0 - 1e-9) && R <= exact * (1.0 + 1e-6) && lo <= exact * (1.0 + 1e-9)))
            fail_msg("trial %zu (N=%zu d=%zu): radius %.12g lower %.12g, brute force %.12g", trial, N, d, R,
                     lo, exact);
    }
    /* high dimension: no brute force, but the certified bracket must be tight */
    const size_t N = 128, d = 50;
    double *p = dalloc(N * d), R, lo;
    for (size_t k = 0; k < N * d; k++)
        p[k] = hj_rng_normal(&r) * (1.0 + (double)(k % 5));
    hj_error err = {0};
    assert_int_equal(hj_meb(p, N, d, 1e-9, NULL, &R, &lo, &err), HJ_OK);
    assert_true(lo <= R && R <= lo * (1.0 + 1e-6));
    free(p);
}

static void curvature_bounds_should_hold_everywhere_and_be_attained_when_tight(void **state)
{
    (void)state;
    hj_rng r;
    hj_rng_seed(&r, 21);
    const size_t N = 9, d = 4, n = 400;
    double w[9 * 4], b[9], *x = dalloc(n * d), h[400];
    for (size_t trial = 0; trial < 10; trial++) {
        for (size_t k = 0; k < N * d; k++)
            w[k] = 1.5 + hj_rng_normal(&r); /* off-centre: max|w| >> R_MEB */
        for (size_t j = 0; j < N; j++)
            b[j] = hj_rng_normal(&r);
        for (size_t k = 0; k < n * d; k++)
            x[k] = 3.0 * hj_rng_normal(&r);
        const double eps = 0.1 + 0.3 * (double)trial;
        hj_lse_layer L = {N, d, w, b, eps};
        hj_curvature_bounds B;
        hj_error err = {0};
        assert_int_equal(hj_lse_curvature_bounds(&L, &B, &err), HJ_OK);
        assert_int_equal(hj_lse_hessian_norm(&L, x, n, h, &err), HJ_OK);
        /* independent: the paper's bound from lse.h */
        assert_true(fabs(B.paper - hj_lse_curvature_bound(&L)) <= 1e-11 * B.paper);
        assert_true(B.meb <= B.paper && B.best <= B.meb && B.best <= B.diameter);
        for (size_t i = 0; i < n; i++)
            assert_true(h[i] <= B.best);
    }
    /* two neurons at pi = (1/2, 1/2): lambda_max(Cov) = |w1 - w0|^2/4 exactly, so the
     * diameter and MEB bounds are attained */
    const double w2[] = {1.0, 2.0, -0.5, 3.0}, b2[] = {0.3, 0.3};
    const double x0[] = {0.0, 0.0};
    hj_lse_layer L2 = {2, 2, w2, b2, 0.7};
    hj_curvature_bounds B2;
    double h2;
    hj_error err = {0};
    assert_int_equal(hj_lse_curvature_bounds(&L2, &B2, &err), HJ_OK);
    assert_int_equal(hj_robust_lse_hessian_norm(&L2, x0, 1, &h2, &err), HJ_OK);
    const double exact = (1.5 * 1.5 + 1.0) / 4.0 / 0.7;
    assert_true(fabs(h2 - exact) <= 1e-13 * exact);
    assert_true(h2 <= B2.diameter && B2.diameter <= exact * (1.0 + 2e-12));
    assert_true(h2 <= B2.meb && B2.meb <= exact * (1.0 + 2e-9));
    free(x);
}

/* ---- 3. composition rule vs finite differences ----------------------------- */

/* Central finite difference of the input gradient of sum_c gout_c out_c along v. */
static void fd_hvp(const hj_model *m, const double *x, const double *gout, const double *v, double h,
                   double *out)
{
    const size_t d = m->arch.d_in;
    hj_workspace *ws;
    hj_error err = {0};
    assert_int_equal(hj_workspace_alloc(&ws, m, 2, &err), HJ_OK);
    double *xx = dalloc(2 * d), *gg = dalloc(2 * d), *go = dalloc(2 * hj_model_n_out(m));
    for (size_t k = 0; k < d; k++) {
        xx[k] = x[k] + h * v[k];
        xx[d + k] = x[k] - h * v[k];
    }
    for (size_t c = 0; c < hj_model_n_out(m); c++)
        go[c] = go[hj_model_n_out(m) + c] = gout[c];
    assert_int_equal(hj_model_input_gradient(m, ws, xx, 2, go, gg, &err), HJ_OK);
    for (size_t k = 0; k < d; k++)
        out[k] = (gg[k] - gg[d + k]) / (2.0 * h);
    free(xx), free(gg), free(go);
    hj_workspace_free(ws);
}

static void composition_rule_hvp_should_match_finite_differences(void **state)
{
    (void)state;
    static const struct {
        const char *spec;
        size_t d, C;
        int scale;
        double eps;
    } cases[] = {
        {"lse:7", 3, 0, 0, 0.4},
        {"lse:7", 3, 0, 1, 0.4},
        {"lse-class:4", 5, 3, 0, 0.3},
        {"dense:6,lse:5", 4, 0, 0, 0.5},
        {"dense:5,resnet:5,gibbs:4,lse:6", 3, 0, 1, 0.7},
        {"gibbs:3,resnet:4,lse-class:3", 4, 3, 0, 0.6},
        {"dense:4,dense:4,lse-class:2", 2, 4, 0, 1.3},
    };
    hj_rng r;
    hj_rng_seed(&r, 99);
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        hj_model m;
        make_model(cases[t].spec, cases[t].d, cases[t].C, cases[t].scale, cases[t].eps, 40 + t, 0.4, &m);
        const size_t d = m.arch.d_in, no = hj_model_n_out(&m);
        double *x = dalloc(d), *v = dalloc(d), *u = dalloc(d), *hv = dalloc(d), *hu = dalloc(d);
        double *fd = dalloc(d), *gout = dalloc(no), *H = dalloc(d * d), *ev = dalloc(d);
        for (size_t trial = 0; trial < 5; trial++) {
            for (size_t k = 0; k < d; k++) {
                x[k] = hj_rng_range(&r, -1.5, 1.5);
                v[k] = hj_rng_normal(&r);
                u[k] = hj_rng_normal(&r);
            }
            for (size_t c = 0; c < no; c++)
                gout[c] = hj_rng_normal(&r);
            hj_error err = {0};
            assert_int_equal(hj_model_hvp(&m, x, gout, v, hv, &err), HJ_OK);
            assert_int_equal(hj_model_hvp(&m, x, gout, u, hu, &err), HJ_OK);
            fd_hvp(&m, x, gout, v, 1e-5, fd);
            double num = 0.0, den = 0.0;
            for (size_t k = 0; k < d; k++) {
                num = fmax(num, fabs(fd[k] - hv[k]));
                den = fmax(den, fabs(hv[k]));
            }
            if (!(num <= 1e-6 * fmax(den, 1e-3)))
                fail_msg("%s: HVP vs finite differences: max diff %.3e (scale %.3e)", cases[t].spec, num, den);
            /* symmetry u.Hv = v.Hu */
            double a = 0.0, bb = 0.0;
            for (size_t k = 0; k < d; k++)
                a += u[k] * hv[k], bb += v[k] * hu[k];
            assert_true(fabs(a - bb) <= 1e-10 * fmax(1.0, fabs(a)));
            /* spectral norm vs a dense finite-difference Hessian and LAPACK */
            for (size_t k = 0; k < d; k++) {
                memset(v, 0, d * sizeof *v);
                v[k] = 1.0;
                fd_hvp(&m, x, gout, v, 1e-5, fd);
                for (size_t q = 0; q < d; q++)
                    H[k * d + q] = fd[q];
            }
            for (size_t k = 0; k < d; k++)
                for (size_t q = k + 1; q < d; q++)
                    H[k * d + q] = H[q * d + k] = 0.5 * (H[k * d + q] + H[q * d + k]);
            assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)d, H, (lapack_int)d, ev), 0);
            double ref = fmax(fabs(ev[0]), fabs(ev[d - 1])), got;
            assert_int_equal(hj_model_hessian_norm(&m, x, 1, gout, &got, &err), HJ_OK);
            if (!(fabs(got - ref) <= 1e-6 * fmax(ref, 1e-3)))
                fail_msg("%s: Hessian norm %.10g vs finite-difference Hessian %.10g", cases[t].spec, got, ref);
        }
        free(x), free(v), free(u), free(hv), free(hu), free(fd), free(gout), free(H), free(ev);
        hj_model_free(&m);
    }
}

static void single_readout_class_hessian_should_equal_cov_over_eps(void **state)
{
    (void)state;
    hj_model m;
    make_model("lse-class:6", 4, 3, 0, 0.25, 3, 0.5, &m);
    double x[4] = {0.3, -0.2, 0.7, 0.1}, gout[3] = {0, 1, 0}, h1, h2;
    hj_lse_layer L;
    hj_error err = {0};
    assert_int_equal(hj_model_readout_layer(&m, 1, &L, &err), HJ_OK);
    assert_int_equal(hj_model_hessian_norm(&m, x, 1, gout, &h1, &err), HJ_OK);
    assert_int_equal(hj_lse_hessian_norm(&L, x, 1, &h2, &err), HJ_OK);
    assert_true(fabs(h1 - h2) <= 1e-10 * h2);
    /* eps = 0 is refused for products, follows the convention for the single-readout norm */
    m.eps = 0.0;
    double v[4] = {1, 0, 0, 0}, hv[4];
    assert_int_equal(hj_model_hvp(&m, x, gout, v, hv, &err), HJ_EDOM);
    assert_int_equal(hj_model_hessian_norm(&m, x, 1, gout, &h1, &err), HJ_OK);
    assert_true(h1 == 0.0);
    hj_model_free(&m);
}

/* ---- 4. certified radius ----------------------------------------------------- */

static size_t predict_class(const hj_model *m, const double *xraw)
{
    double F[16];
    hj_error err = {0};
    assert_int_equal(hj_model_predict(m, xraw, 1, F, &err), HJ_OK);
    size_t k = 0;
    for (size_t c = 1; c < m->arch.n_classes; c++)
        if (F[c] > F[k])
            k = c;
    return k;
}

/* No random perturbation (inside and on the sphere of 0.999 r) and no PGD attack
 * (l2, restarts) within 0.999 r changes the class. Returns the number of points
 * with a positive radius. */
static size_t certificate_survives_attacks(const hj_model *m, const double *x, size_t n, hj_rng *r)
{
    const size_t dr = m->pre.d_raw;
    hj_certificate *cert = calloc(n, sizeof *cert);
    assert_non_null(cert);
    hj_error err = {0};
    assert_int_equal(hj_certify(m, x, n, cert, &err), HJ_OK);
    double *rad = dalloc(n), *lab = dalloc(n), *xadv = dalloc(n * dr), *xp = dalloc(dr);
    size_t *cls = calloc(n, sizeof *cls), positive = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(cert[i].radius >= 0.0 && isfinite(cert[i].radius));
        assert_int_equal(cert[i].cls, predict_class(m, x + i * dr));
        rad[i] = 0.999 * cert[i].radius;
        lab[i] = (double)cert[i].cls;
        positive += cert[i].radius > 0.0;
        for (size_t trial = 0; trial < 300; trial++) {
            double s = 0.0;
            for (size_t k = 0; k < dr; k++) {
                xp[k] = hj_rng_normal(r);
                s += xp[k] * xp[k];
            }
            double f = rad[i] * (trial % 2 ? 1.0 : hj_rng_uniform(r)) / sqrt(s);
            for (size_t k = 0; k < dr; k++)
                xp[k] = x[i * dr + k] + f * xp[k];
            if (predict_class(m, xp) != cert[i].cls)
                fail_msg("random perturbation of norm %.6g < certified %.6g changed point %zu", f * sqrt(s),
                         cert[i].radius, i);
        }
    }
    hj_attack_options o;
    hj_attack_options_default(&o);
    o.steps = 60;
    o.restarts = 6;
    assert_int_equal(hj_attack(m, x, lab, n, &o, rad, xadv, cls, &err), HJ_OK);
    for (size_t i = 0; i < n; i++)
        if (cls[i] != cert[i].cls)
            fail_msg("PGD broke the certificate of point %zu (radius %.6g)", i, cert[i].radius);
    /* the margin loss too, and the cross-entropy */
    o.loss = HJ_ATTACK_XENT;
    assert_int_equal(hj_attack(m, x, lab, n, &o, rad, xadv, cls, &err), HJ_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(cls[i], cert[i].cls);
    free(cert), free(rad), free(lab), free(xadv), free(xp), free(cls);
    return positive;
}

static void certified_radius_should_survive_random_search_and_pgd(void **state)
{
    (void)state;
    static const double eps_list[] = {0.05, 0.3, 1.0, 0.0};
    hj_rng r;
    hj_rng_seed(&r, 1234);
    const size_t n = 30, d = 3;
    double *x = dalloc(n * 6);
    for (size_t e = 0; e < 4; e++) {
        hj_model m;
        make_model("lse-class:4", d, 3, 0, eps_list[e], 77 + e, 0.8, &m);
        for (size_t k = 0; k < n * d; k++)
            x[k] = hj_rng_range(&r, -1.0, 1.0);
        size_t pos = certificate_survives_attacks(&m, x, n, &r);
        assert_true(pos >= n / 2); /* not vacuous */
        hj_model_free(&m);
    }
    /* raw-space certificate through preprocessing: standardise, and PCA 6 -> 3 */
    for (int kind = 0; kind < 2; kind++) {
        hj_model m;
        make_model("lse-class:3", d, 3, 0, 0.4, 91 + (uint64_t)kind, 0.8, &m);
        const size_t draw = kind == 0 ? 3 : 6, nf = 200;
        double *X = dalloc(nf * draw);
        for (size_t i = 0; i < nf; i++)
            for (size_t k = 0; k < draw; k++)
                X[i * draw + k] = (0.3 + (double)k) * hj_rng_normal(&r) + (double)k;
        hj_preprocess_free(&m.pre);
        hj_error err = {0};
        assert_int_equal(hj_preprocess_fit(&m.pre, kind == 0 ? HJ_PRE_STANDARDIZE : HJ_PRE_PCA, X, nf, draw, 3, &err),
                         HJ_OK);
        size_t pos = certificate_survives_attacks(&m, X, n, &r);
        assert_true(pos >= n / 2);
        free(X);
        hj_model_free(&m);
    }
    free(x);
}

static void certify_should_refuse_stacks_and_regression(void **state)
{
    (void)state;
    hj_model m;
    make_model("dense:4,lse-class:2", 3, 3, 0, 0.5, 1, 0.1, &m);
    double x[3] = {0, 0, 0};
    hj_certificate c;
    hj_error err = {0};
    assert_int_equal(hj_certify(&m, x, 1, &c, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "hidden layers"));
    hj_model_free(&m);
    make_model("lse:4", 3, 0, 0, 0.5, 1, 0.1, &m);
    assert_int_equal(hj_certify(&m, x, 1, &c, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "regression"));
    double lab = 0, xa[3];
    hj_attack_options o;
    hj_attack_options_default(&o);
    o.radius = 1.0;
    assert_int_equal(hj_attack(&m, x, &lab, 1, &o, NULL, xa, NULL, &err), HJ_EINVAL);
    hj_model_free(&m);
    make_model("lse-class:2", 3, 2, 0, 0.5, 1, 0.1, &m);
    lab = 2.0;
    assert_int_equal(hj_attack(&m, x, &lab, 1, &o, NULL, xa, NULL, &err), HJ_EINVAL);
    lab = 0.0;
    o.radius = 0.0;
    assert_int_equal(hj_attack(&m, x, &lab, 1, &o, NULL, xa, NULL, &err), HJ_EINVAL);
    o.radius = 1.0;
    o.restarts = 0;
    assert_int_equal(hj_attack(&m, x, &lab, 1, &o, NULL, xa, NULL, &err), HJ_EINVAL);
    hj_model_free(&m);
}

/* ---- 5. PGD on a linear model ------------------------------------------------- */

/* Smallest radius at which the attack flips point x (bisection, 40 halvings of [0, hi]). */
static double min_flip_radius(const hj_model *m, const double *x, double label, hj_attack_options *o, double hi)
{
    double lo = 0.0, xa[8];
    size_t cls;
    hj_error err = {0};
    for (int it = 0; it < 40; it++) {
        o->radius = 0.5 * (lo + hi);
        assert_int_equal(hj_attack(m, x, &label, 1, o, NULL, xa, &cls, &err), HJ_OK);
        if (cls != (size_t)label)
            hi = o->radius;
        else
            lo = o->radius;
    }
    return hi;
}

static void pgd_should_find_the_closed_form_minimal_perturbation_of_a_linear_model(void **state)
{
    (void)state;
    /* lse-class with one neuron per class: F_c = w_c.x + b_c, so F_1 - F_0 is linear and the
     * minimal perturbation has norm |margin| / ||w_1 - w_0|| (l2) or / ||w_1 - w_0||_1 (linf) */
    hj_rng r;
    hj_rng_seed(&r, 8);
    const size_t d = 5;
    double worst2 = 0.0, worstinf = 0.0, worstcert = 0.0;
    for (size_t trial = 0; trial < 6; trial++) {
        hj_model m;
        make_model("lse-class:1", d, 2, 0, 0.2 + 0.3 * (double)trial, 500 + trial, 1.0, &m);
        const double *w = m.params, *b = m.params + 2 * d;
        double x[5], n2 = 0.0, n1 = 0.0, F0, F1;
        for (size_t k = 0; k < d; k++)
            x[k] = hj_rng_range(&r, -1.0, 1.0);
        F0 = b[0], F1 = b[1];
        for (size_t k = 0; k < d; k++) {
            F0 += w[k] * x[k];
            F1 += w[d + k] * x[k];
            double u = w[d + k] - w[k];
            n2 += u * u;
            n1 += fabs(u);
        }
        n2 = sqrt(n2);
        const double label = F1 > F0 ? 1.0 : 0.0, margin = fabs(F1 - F0);
        hj_attack_options o;
        hj_attack_options_default(&o);
        o.steps = 50;
        double r2 = min_flip_radius(&m, x, label, &o, 4.0 * margin / n2);
        worst2 = fmax(worst2, fabs(r2 / (margin / n2) - 1.0));
        o.norm = HJ_ATTACK_LINF;
        double ri = min_flip_radius(&m, x, label, &o, 4.0 * margin / n1);
        worstinf = fmax(worstinf, fabs(ri / (margin / n1) - 1.0));
        /* FGSM is exact on a linear model: it flips at 1.01 r*, not at 0.99 r* */
        o.norm = HJ_ATTACK_L2;
        o.method = HJ_ATTACK_FGSM;
        double xa[5];
        size_t cls;
        hj_error err = {0};
        o.radius = 1.01 * margin / n2;
        assert_int_equal(hj_attack(&m, x, &label, 1, &o, NULL, xa, &cls, &err), HJ_OK);
        assert_true(cls != (size_t)label);
        o.radius = 0.99 * margin / n2;
        assert_int_equal(hj_attack(&m, x, &label, 1, &o, NULL, xa, &cls, &err), HJ_OK);
        assert_true(cls == (size_t)label);
        /* the certificate is exact here: curvature 0, gradient = Lipschitz constant */
        hj_certificate c;
        assert_int_equal(hj_certify(&m, x, 1, &c, &err), HJ_OK);
        worstcert = fmax(worstcert, fabs(c.radius / (margin / n2) - 1.0));
        assert_true(c.radius <= margin / n2);
        hj_model_free(&m);
    }
    print_message("linear model: PGD l2 minimal radius within %.2e, linf within %.2e, certificate within %.2e "
                  "of the closed form\n", worst2, worstinf, worstcert);
    assert_true(worst2 <= 0.01);
    assert_true(worstinf <= 0.01);
    assert_true(worstcert <= 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lanczos_should_find_extreme_eigenvalues_of_an_indefinite_operator),
        cmocka_unit_test(matrix_free_spectral_norm_should_match_lapack),
        cmocka_unit_test(eps0_hessian_norm_should_follow_the_kink_convention),
        cmocka_unit_test(meb_should_enclose_every_point_and_match_brute_force),
        cmocka_unit_test(curvature_bounds_should_hold_everywhere_and_be_attained_when_tight),
        cmocka_unit_test(composition_rule_hvp_should_match_finite_differences),
        cmocka_unit_test(single_readout_class_hessian_should_equal_cov_over_eps),
        cmocka_unit_test(certified_radius_should_survive_random_search_and_pgd),
        cmocka_unit_test(certify_should_refuse_stacks_and_regression),
        cmocka_unit_test(pgd_should_find_the_closed_form_minimal_perturbation_of_a_linear_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
