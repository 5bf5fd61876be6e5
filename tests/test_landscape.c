/* test_landscape.c — the entropy landscape (landscape.h): exact derivatives, Newton critical points vs brute-force grids, folds vs a closed-form bisection, continuation step-halving, basins. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/entropy.h"
#include "hjdl/hopf.h"
#include "hjdl/landscape.h"
#include "hjdl/lse.h"
#include "landscape_support.h"
#include "naive_ref.h"

/* ---- naive references (long double, from the definitions) ---------------------- */

/* 1-D: a_k = alpha_k x + beta_k with alpha = y/(2 t eps) (the common x^2
 * term dropped). With pi = softmax(a) and moments over pi:
 *   H'  = -Cov(a, alpha)
 *   H'' = -[Var alpha + Cov(a~ alpha, alpha) - E[alpha] Cov(a~, alpha)],  a~ = a - E[a].
 * (H = log sum e^a - E[a]; d/dx E[f] = E[f'] + Cov(f, alpha).) */
static void naive_dH_1d(const double *y, const double *g, size_t N, double t, double eps, double x,
                        long double *d1, long double *d2)
{
    long double a[64], al[64], pi[64], m = -INFINITY, Z = 0.0L;
    for (size_t j = 0; j < N; j++) {
        al[j] = (long double)y[j] / (2.0L * t * eps);
        a[j] = al[j] * x - ((long double)g[j] + (long double)y[j] * y[j] / (4.0L * t)) / eps;
        if (a[j] > m)
            m = a[j];
    }
    for (size_t j = 0; j < N; j++)
        Z += (pi[j] = expl(a[j] - m));
    long double Ea = 0.0L, Eal = 0.0L;
    for (size_t j = 0; j < N; j++) {
        pi[j] /= Z;
        Ea += pi[j] * a[j];
        Eal += pi[j] * al[j];
    }
    long double cov = 0.0L, var = 0.0L, c3 = 0.0L;
    for (size_t j = 0; j < N; j++) {
        long double at = a[j] - Ea, dal = al[j] - Eal;
        cov += pi[j] * at * dal;
        var += pi[j] * dal * dal;
        c3 += pi[j] * at * al[j] * dal;
    }
    *d1 = -cov;
    *d2 = -(var + c3 - Eal * cov);
}

static hj_landscape *make_L(const double *y, const double *g, size_t N, size_t d, double t)
{
    hj_atoms a = {N, d, y, g};
    hj_landscape *L = NULL;
    hj_error e = {0};
    if (hj_landscape_alloc(&L, &a, t, &e) != HJ_OK)
        fail_msg("hj_landscape_alloc: %s", e.msg);
    return L;
}

/* ---- derivatives ------------------------------------------------------------------- */

/* H, grad, hess agree with entropy.h on the mapped LSE layer; d/deps grad
 * with a central difference of grad in eps; hessvec derivatives with
 * central differences of hess.v in x and in eps. */
static void derivatives_match_entropy_h_and_finite_differences(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 11);
    const size_t dims[3] = {1, 2, 3};
    const double epss[3] = {0.07, 0.4, 2.5};
    double worst_lib = 0.0, worst_ge = 0.0, worst_dx = 0.0, worst_de = 0.0;
    for (size_t di = 0; di < 3; di++) {
        const size_t d = dims[di], N = 7;
        const double t = 0.8;
        double y[7 * 3], g[7], w[7 * 3], b[7], x[3], v[3];
        nr_fill_normal(&r, y, N * d, 1.0);
        nr_fill_unif(&r, g, N, -0.3, 0.3);
        assert_int_equal(hj_atoms_to_weights(y, g, N, d, t, NULL, w, b, NULL), HJ_OK);
        hj_landscape *L = make_L(y, g, N, d, t);
        for (size_t ei = 0; ei < 3; ei++) {
            const double eps = epss[ei];
            for (int trial = 0; trial < 4; trial++) {
                nr_fill_normal(&r, x, d, 0.8);
                nr_fill_normal(&r, v, d, 1.0);
                double H, gr[3], hs[9], ge[3], H2, gr2[3], hs2[9];
                assert_int_equal(hj_landscape_eval(L, eps, x, &H, gr, hs, ge, NULL), HJ_OK);
                hj_lse_layer lay = {N, d, w, b, eps};
                assert_int_equal(hj_entropy_eval(&lay, x, &H2, gr2, hs2, NULL), HJ_OK);
                double sg = 0.0, sh = 0.0;
                for (size_t k = 0; k < d; k++)
                    sg = fmax(sg, fabs(gr2[k]));
                for (size_t k = 0; k < d * d; k++)
                    sh = fmax(sh, fabs(hs2[k]));
                worst_lib = fmax(worst_lib, fabs(H - H2) / fmax(1.0, H2));
                for (size_t k = 0; k < d; k++)
                    worst_lib = fmax(worst_lib, fabs(gr[k] - gr2[k]) / fmax(sg, 1e-3));
                for (size_t k = 0; k < d * d; k++)
                    worst_lib = fmax(worst_lib, fabs(hs[k] - hs2[k]) / fmax(sh, 1e-3));
                /* d/deps grad by central differences */
                const double he = 1e-5 * eps;
                double gp[3], gm[3];
                assert_int_equal(hj_landscape_eval(L, eps + he, x, NULL, gp, NULL, NULL, NULL), HJ_OK);
                assert_int_equal(hj_landscape_eval(L, eps - he, x, NULL, gm, NULL, NULL, NULL), HJ_OK);
                double sge = 1e-3;
                for (size_t k = 0; k < d; k++)
                    sge = fmax(sge, fabs(ge[k]));
                for (size_t k = 0; k < d; k++)
                    worst_ge = fmax(worst_ge, fabs((gp[k] - gm[k]) / (2.0 * he) - ge[k]) / sge);
                /* third derivatives through hess.v */
                double hv[3], dx[9], de[3];
                assert_int_equal(hj_landscape_hessvec_deriv(L, eps, x, v, hv, dx, de, NULL), HJ_OK);
                double sdx = 1e-3, sde = 1e-3;
                for (size_t k = 0; k < d * d; k++)
                    sdx = fmax(sdx, fabs(dx[k]));
                for (size_t k = 0; k < d; k++)
                    sde = fmax(sde, fabs(de[k]));
                for (size_t b2 = 0; b2 < d; b2++) {
                    double xp[3], xm[3], hp[9], hm[9];
                    const double hx = 1e-5;
                    memcpy(xp, x, sizeof xp);
                    memcpy(xm, x, sizeof xm);
                    xp[b2] += hx, xm[b2] -= hx;
                    hj_landscape_eval(L, eps, xp, NULL, NULL, hp, NULL, NULL);
                    hj_landscape_eval(L, eps, xm, NULL, NULL, hm, NULL, NULL);
                    for (size_t a = 0; a < d; a++) {
                        double fd = 0.0;
                        for (size_t c = 0; c < d; c++)
                            fd += (hp[a * d + c] - hm[a * d + c]) * v[c] / (2.0 * hx);
                        worst_dx = fmax(worst_dx, fabs(fd - dx[a * d + b2]) / sdx);
                    }
                }
                double hp[9], hm[9];
                hj_landscape_eval(L, eps + he, x, NULL, NULL, hp, NULL, NULL);
                hj_landscape_eval(L, eps - he, x, NULL, NULL, hm, NULL, NULL);
                for (size_t a = 0; a < d; a++) {
                    double fd = 0.0, hvv = 0.0;
                    for (size_t c = 0; c < d; c++) {
                        fd += (hp[a * d + c] - hm[a * d + c]) * v[c] / (2.0 * he);
                        hvv += hs[a * d + c] * v[c];
                    }
                    worst_de = fmax(worst_de, fabs(fd - de[a]) / sde);
                    worst_lib = fmax(worst_lib, fabs(hvv - hv[a]) / fmax(sh, 1e-3));
                }
            }
        }
        hj_landscape_free(L);
    }
    printf("  vs entropy.h %.2e, d/deps grad %.2e, d/dx hess.v %.2e, d/deps hess.v %.2e\n",
           worst_lib, worst_ge, worst_dx, worst_de);
    assert_true(worst_lib <= 1e-10);
    assert_true(worst_ge <= 1e-6);
    assert_true(worst_dx <= 1e-6);
    assert_true(worst_de <= 1e-6);
}

/* ---- critical points vs brute force ------------------------------------------------- */

/* 1-D: the strict local minima and maxima of H on a dense grid (naive H)
 * are exactly the library's minima and maxima, within two grid steps. */
static void newton_critical_points_match_dense_grid_1d(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 5);
    for (int trial = 0; trial < 3; trial++) {
        const size_t N = 6;
        double y[6], g[6];
        nr_fill_unif(&r, y, N, -2.0, 2.0);
        nr_fill_unif(&r, g, N, 0.0, 0.5);
        const double t = 1.0, eps = 0.03 + 0.04 * trial;
        hj_landscape *L = make_L(y, g, N, 1, t);
        hj_landscape_options o;
        hj_landscape_options_default(&o);
        double lo, hi;
        hj_landscape_domain(L, o.pad, &lo, &hi);
        hj_crit_list cl;
        assert_int_equal(hj_landscape_critical_points(L, eps, &o, &cl, NULL), HJ_OK);
        const size_t n = 200001;
        const double hx = (hi - lo) / (double)(n - 1);
        double *Hg = nr_xmalloc(n * sizeof *Hg);
        for (size_t i = 0; i < n; i++) {
            double x = lo + hx * (double)i;
            Hg[i] = (double)ls_naive_H(y, g, N, 1, t, eps, &x);
        }
        size_t nmin = 0, nmax = 0, matched = 0;
        for (size_t i = 1; i + 1 < n; i++) {
            int ismin = Hg[i] < Hg[i - 1] && Hg[i] < Hg[i + 1];
            int ismax = Hg[i] > Hg[i - 1] && Hg[i] > Hg[i + 1];
            if (!ismin && !ismax)
                continue;
            nmin += ismin, nmax += ismax;
            double x = lo + hx * (double)i;
            for (size_t c = 0; c < cl.n; c++)
                if (fabs(cl.x[c] - x) <= 2.0 * hx && cl.index[c] == (ismin ? 0 : 1))
                    matched++;
        }
        size_t lmin = 0, lmax = 0;
        for (size_t c = 0; c < cl.n; c++)
            lmin += cl.index[c] == 0, lmax += cl.index[c] == 1;
        printf("  1-D eps %.2f: grid %zu minima %zu maxima; Newton %zu / %zu; matched %zu\n", eps,
               nmin, nmax, lmin, lmax, matched);
        assert_int_equal(lmin, nmin);
        assert_int_equal(lmax, nmax);
        assert_int_equal(matched, nmin + nmax);
        assert_true(nmin + nmax >= 3);
        free(Hg);
        hj_crit_list_free(&cl);
        hj_landscape_free(L);
    }
}

/* Naive Newton on the central-difference gradient and Hessian of naive_H
 * (2-D) from x. Returns the Morse index of the point it converges to (step
 * below 1e-11) by the signs of the difference Hessian, or -1. */
static int naive_newton_2d(const double *y, const double *g, size_t N, double t, double eps,
                           double *x)
{
    for (int it = 0; it < 60; it++) {
        double gr[2], hs[3];
        ls_naive_fd_2d(y, g, N, t, eps, x, 1e-4, gr, hs);
        const double gx = gr[0], gy = gr[1], hxx = hs[0], hxy = hs[1], hyy = hs[2];
        double det = hxx * hyy - hxy * hxy;
        if (det == 0.0)
            return -1;
        double dx = -(hyy * gx - hxy * gy) / det, dy = -(hxx * gy - hxy * gx) / det;
        double len = hypot(dx, dy);
        if (len > 0.05)
            dx *= 0.05 / len, dy *= 0.05 / len;
        x[0] += dx, x[1] += dy;
        if (len < 1e-11)
            return det < 0.0 ? 1 : (hxx > 0.0 ? 0 : 2);
    }
    return -1;
}

/* 2-D: grid local minima and maxima (8 neighbours, naive H) match the
 * library's; every library saddle has an indefinite finite-difference
 * Hessian of the naive H and a vanishing finite-difference gradient. */
static void newton_critical_points_match_dense_grid_2d(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 9);
    const size_t N = 7;
    double y[14], g[7];
    nr_fill_unif(&r, y, 2 * N, -1.5, 1.5);
    nr_fill_unif(&r, g, N, 0.0, 0.3);
    const double t = 1.0, eps = 0.12;
    hj_landscape *L = make_L(y, g, N, 2, t);
    hj_landscape_options o;
    hj_landscape_options_default(&o);
    double lo[2], hi[2];
    hj_landscape_domain(L, o.pad, lo, hi);
    hj_crit_list cl;
    assert_int_equal(hj_landscape_critical_points(L, eps, &o, &cl, NULL), HJ_OK);
    const size_t n = 801;
    const double hx = (hi[0] - lo[0]) / (double)(n - 1), hy = (hi[1] - lo[1]) / (double)(n - 1);
    double *Hg = nr_xmalloc(n * n * sizeof *Hg);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double x[2] = {lo[0] + hx * (double)i, lo[1] + hy * (double)j};
            Hg[i * n + j] = (double)ls_naive_H(y, g, N, 2, t, eps, x);
        }
    /* grid extrema, each polished by the naive Newton above, classified by
     * its difference Hessian and merged when they land on the same point: a
     * ridge narrower than a cell that does not run along a grid direction
     * shows spurious grid maxima on its crest, which polish into the one
     * maximum or into a saddle on that crest */
    double ref[256][2];
    int refk[256];
    size_t nref = 0, nmin = 0, nmax = 0, matched = 0;
    for (size_t i = 1; i + 1 < n; i++)
        for (size_t j = 1; j + 1 < n; j++) {
            double h0 = Hg[i * n + j];
            int lower = 1, higher = 1;
            for (int a = -1; a <= 1; a++)
                for (int b = -1; b <= 1; b++) {
                    if (!a && !b)
                        continue;
                    double hn = Hg[(i + (size_t)a) * n + j + (size_t)b];
                    lower &= h0 < hn;
                    higher &= h0 > hn;
                }
            if (!lower && !higher)
                continue;
            double x[2] = {lo[0] + hx * (double)i, lo[1] + hy * (double)j};
            int kind = naive_newton_2d(y, g, N, t, eps, x);
            assert_true(kind >= 0);
            if (kind == 1)
                continue;
            lower = kind == 0, higher = kind == 2;
            int dup = 0;
            for (size_t q = 0; q < nref && !dup; q++)
                dup = hypot(ref[q][0] - x[0], ref[q][1] - x[1]) <= 1e-5;
            if (dup)
                continue;
            assert_true(nref < 256);
            ref[nref][0] = x[0], ref[nref][1] = x[1], refk[nref] = lower ? 0 : 2;
            nref++;
            nmin += lower, nmax += higher;
        }
    for (size_t q = 0; q < nref; q++)
        for (size_t c = 0; c < cl.n; c++)
            if (hypot(cl.x[2 * c] - ref[q][0], cl.x[2 * c + 1] - ref[q][1]) <= 1e-6 &&
                cl.index[c] == refk[q])
                matched++;
    size_t lmin = 0, lmax = 0, lsad = 0;
    for (size_t c = 0; c < cl.n; c++) {
        lmin += cl.index[c] == 0, lmax += cl.index[c] == 2;
        if (cl.index[c] != 1)
            continue;
        lsad++;
        double gr[2], hs[3];
        ls_naive_fd_2d(y, g, N, t, eps, cl.x + 2 * c, 1e-4, gr, hs);
        const double gx = gr[0], gy = gr[1], hxx = hs[0], hxy = hs[1], hyy = hs[2];
        double scale = fabs(hxx) + fabs(hyy) + fabs(hxy);
        assert_true(hxx * hyy - hxy * hxy < 0.0);
        assert_true(hypot(gx, gy) <= 1e-6 * fmax(1.0, scale));
    }
    printf("  2-D: grid %zu minima %zu maxima (polished, merged); Newton %zu / %zu (and %zu saddles, "
           "all indefinite); matched %zu to 1e-6\n",
           nmin, nmax, lmin, lmax, lsad, matched);
    assert_int_equal(lmin, nmin);
    assert_int_equal(lmax, nmax);
    assert_int_equal(matched, nmin + nmax);
    assert_true(nmin >= 1 && lsad >= 1);
    free(Hg);
    hj_crit_list_free(&cl);
    hj_landscape_free(L);
}

/* ---- folds ---------------------------------------------------------------------------- */

/* Independent fold finder for 1-D atoms: the folds are where an extremum of
 * H' (a root of H'') reaches H' = 0. For each eps on a log grid the roots of
 * H'' are found by sign changes on a fine x grid plus bisection; a sign
 * change of H' at the k-th root between neighbouring eps brackets a fold,
 * refined by bisection on eps. Returns the number of folds (eps_out, x_out). */
static double inflection(const double *y, const double *g, size_t N, double t, double eps, double a,
                         double b)
{
    long double d1, fa, fb, fm;
    naive_dH_1d(y, g, N, t, eps, a, &d1, &fa);
    naive_dH_1d(y, g, N, t, eps, b, &d1, &fb);
    for (int it = 0; it < 200 && b - a > 1e-15 * fmax(1.0, fabs(a)); it++) {
        double m = 0.5 * (a + b);
        naive_dH_1d(y, g, N, t, eps, m, &d1, &fm);
        if ((fm > 0) == (fa > 0))
            a = m, fa = fm;
        else
            b = m, fb = fm;
    }
    (void)fb;
    return 0.5 * (a + b);
}

static size_t inflections(const double *y, const double *g, size_t N, double t, double eps,
                          double lo, double hi, double *xi, size_t cap)
{
    const size_t n = 6001;
    size_t k = 0;
    long double d1, f0, f1;
    double xprev = lo;
    naive_dH_1d(y, g, N, t, eps, lo, &d1, &f0);
    for (size_t i = 1; i < n; i++) {
        double x = lo + (hi - lo) * (double)i / (double)(n - 1);
        naive_dH_1d(y, g, N, t, eps, x, &d1, &f1);
        if ((f0 > 0) != (f1 > 0) && k < cap)
            xi[k++] = inflection(y, g, N, t, eps, xprev, x);
        f0 = f1, xprev = x;
    }
    return k;
}

/* H' at the root of H'' nearest to xg within [xg - 0.05, xg + 0.05] at eps
 * (its position in *xk); NaN when there is none. */
static double phi_near(const double *y, const double *g, size_t N, double t, double eps,
                       double xg, double *xk)
{
    const size_t n = 401;
    long double d1, f0, f1;
    double best = NAN, bx = NAN, xprev = xg - 0.05;
    naive_dH_1d(y, g, N, t, eps, xprev, &d1, &f0);
    for (size_t i = 1; i < n; i++) {
        double x = xg - 0.05 + 0.1 * (double)i / (double)(n - 1);
        naive_dH_1d(y, g, N, t, eps, x, &d1, &f1);
        if ((f0 > 0) != (f1 > 0)) {
            double xr = inflection(y, g, N, t, eps, xprev, x);
            if (isnan(bx) || fabs(xr - xg) < fabs(bx - xg))
                bx = xr;
        }
        f0 = f1, xprev = x;
    }
    if (isnan(bx))
        return NAN;
    long double d2;
    naive_dH_1d(y, g, N, t, eps, bx, &d1, &d2);
    best = (double)d1;
    *xk = bx;
    return best;
}

static size_t reference_folds(const double *y, const double *g, size_t N, double t, double e0,
                              double e1, double lo, double hi, double *eps_out, double *x_out)
{
    const size_t ne = 80;
    size_t nf = 0;
    double xi0[64], xi1[64];
    double ea = e0;
    size_t m0 = inflections(y, g, N, t, ea, lo, hi, xi0, 64);
    for (size_t s = 1; s < ne; s++) {
        double eb = exp(log(e0) + (log(e1) - log(e0)) * (double)s / (double)(ne - 1));
        size_t m1 = inflections(y, g, N, t, eb, lo, hi, xi1, 64);
        if (m1 == m0) {
            for (size_t k = 0; k < m0; k++) {
                long double pa, pb, d2;
                naive_dH_1d(y, g, N, t, ea, xi0[k], &pa, &d2);
                naive_dH_1d(y, g, N, t, eb, xi1[k], &pb, &d2);
                if (!((pa > 0) != (pb > 0)))
                    continue;
                /* bisection on eps, following this inflection point */
                double a = ea, b = eb, xa = xi0[k], xm = xi0[k];
                for (int it = 0; it < 200 && b - a > 1e-15 * b; it++) {
                    double m = 0.5 * (a + b), xmm;
                    double pm = phi_near(y, g, N, t, m, xa, &xmm);
                    if (isnan(pm))
                        break;
                    xm = xmm;
                    if ((pm > 0) == (pa > 0))
                        a = m, pa = pm, xa = xmm;
                    else
                        b = m;
                }
                eps_out[nf] = 0.5 * (a + b);
                x_out[nf] = xm;
                nf++;
            }
        }
        memcpy(xi0, xi1, sizeof xi0);
        m0 = m1;
        ea = eb;
    }
    return nf;
}

/* Two atoms in 1-D have no fold at all: pi_1 is a logistic function of an
 * affine function of x, so H is unimodal. Three atoms are the smallest
 * 1-D problem with a fold (a minimum between two maxima dies). */
static void fold_location_matches_closed_form_bisection_1d(void **state)
{
    (void)state;
    const double cases[2][6] = {{-1.0, 0.0, 1.4, 0.0, 0.1, 0.0}, {-1.2, 0.3, 1.0, 0.2, 0.0, 0.4}};
    for (int c = 0; c < 2; c++) {
        const double *y = cases[c], *g = cases[c] + 3, t = 1.0;
        hj_landscape *L = make_L(y, g, 3, 1, t);
        hj_landscape_options o;
        hj_landscape_options_default(&o);
        o.eps_min = 0.01, o.eps_max = 3.0;
        hj_bifurcation b;
        hj_error e = {0};
        if (hj_landscape_continue(L, &o, &b, &e) != HJ_OK)
            fail_msg("continue: %s", e.msg);
        double lo, hi;
        hj_landscape_domain(L, o.pad, &lo, &hi);
        double re[16], rx[16];
        size_t nr = reference_folds(y, g, 3, t, o.eps_min, o.eps_max, lo, hi, re, rx);
        printf("  3 atoms, case %d: %zu reference fold(s), %zu from continuation\n", c, nr, b.n_folds);
        assert_true(nr >= 1);
        assert_int_equal(b.n_folds, nr);
        for (size_t i = 0; i < nr; i++) {
            const hj_fold *f = &b.folds[i];
            printf("    eps %.15f vs %.15f (rel %.1e), x %.10f vs %.10f, type %d dir %d check %d\n",
                   f->eps, re[i], fabs(f->eps - re[i]) / re[i], f->x[0], rx[i], f->type, f->dir,
                   f->ok);
            assert_true(fabs(f->eps - re[i]) <= 1e-8 * re[i]);
            assert_true(fabs(f->x[0] - rx[i]) <= 1e-6);
            assert_true(f->ok);
            assert_int_equal(f->type, 0); /* minimum-maximum in 1-D */
            /* at the fold the naive H' and H'' vanish */
            long double d1, d2;
            naive_dH_1d(y, g, 3, t, f->eps, f->x[0], &d1, &d2);
            assert_true(fabsl(d1) <= 1e-9L && fabsl(d2) <= 1e-6L);
        }
        /* two atoms: no fold */
        hj_landscape *L2 = make_L(y, g, 2, 1, t);
        hj_bifurcation b2;
        assert_int_equal(hj_landscape_continue(L2, &o, &b2, NULL), HJ_OK);
        assert_int_equal(b2.n_folds, 0);
        hj_bifurcation_free(&b2);
        hj_landscape_free(L2);
        hj_bifurcation_free(&b);
        hj_landscape_free(L);
    }
}

/* Halving the continuation step gives the same folds (count, type,
 * direction, eps to 1e-9 relative), each passing its eigenvalue check. */
static void continuation_folds_stable_under_step_halving(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 21);
    const size_t N = 10;
    double y[20], g[10];
    for (size_t j = 0; j < N; j++) {
        double c = j < N / 2 ? -1.0 : 1.0;
        y[2 * j] = c + 0.4 * nr_normal(&r);
        y[2 * j + 1] = c + 0.4 * nr_normal(&r);
        g[j] = j < N / 2 ? 0.0 : 1.0;
    }
    hj_landscape *L = make_L(y, g, N, 2, 1.0);
    hj_landscape_options o;
    hj_landscape_options_default(&o);
    o.eps_min = 0.01, o.eps_max = 6.3;
    hj_bifurcation b1, b2;
    assert_int_equal(hj_landscape_continue(L, &o, &b1, NULL), HJ_OK);
    o.h_max *= 0.5;
    assert_int_equal(hj_landscape_continue(L, &o, &b2, NULL), HJ_OK);
    printf("  folds: %zu (step %.3f), %zu (step %.3f); branch points %zu, %zu\n", b1.n_folds,
           2 * o.h_max, b2.n_folds, o.h_max, b1.n_points, b2.n_points);
    assert_true(b1.n_folds >= 3);
    assert_int_equal(b1.n_folds, b2.n_folds);
    assert_true(b2.n_points > b1.n_points);
    double worst = 0.0;
    for (size_t i = 0; i < b1.n_folds; i++) {
        const hj_fold *f = &b1.folds[i], *h = &b2.folds[i];
        worst = fmax(worst, fabs(f->eps - h->eps) / f->eps);
        assert_true(hypot(f->x[0] - h->x[0], f->x[1] - h->x[1]) <= 1e-7);
        assert_int_equal(f->type, h->type);
        assert_int_equal(f->dir, h->dir);
        assert_true(f->ok && h->ok);
    }
    printf("  worst relative eps difference %.2e\n", worst);
    assert_true(worst <= 1e-9);
    hj_bifurcation_free(&b1);
    hj_bifurcation_free(&b2);
    hj_landscape_free(L);
}

/* 1-D: the continuation's number of minima at many eps equals the number of
 * strict local minima of the naive H on a dense grid; the basin count is
 * that number plus the outside basin, and basin labels change only at the
 * maxima. */
static void continuation_counts_and_basins_match_dense_grid_1d(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 33);
    const size_t N = 7;
    double y[7], g[7];
    nr_fill_unif(&r, y, N, -2.0, 2.0);
    nr_fill_unif(&r, g, N, 0.0, 0.3);
    hj_landscape *L = make_L(y, g, N, 1, 1.0);
    hj_landscape_options o;
    hj_landscape_options_default(&o);
    o.eps_min = 0.01, o.eps_max = 3.0;
    hj_bifurcation b;
    assert_int_equal(hj_landscape_continue(L, &o, &b, NULL), HJ_OK);
    double lo, hi;
    hj_landscape_domain(L, o.pad, &lo, &hi);
    const size_t n = 50001;
    double *Hg = nr_xmalloc(n * sizeof *Hg);
    const double hx = (hi - lo) / (double)(n - 1);
    size_t compared = 0, changes = 0;
    for (size_t k = 0; k < 25; k++) {
        double eps = exp(log(0.012) + (log(2.5) - log(0.012)) * (double)k / 24.0);
        /* stay off the folds: the grid cannot resolve a pair about to merge */
        int near = 0;
        for (size_t f = 0; f < b.n_folds; f++)
            near |= fabs(log(eps / b.folds[f].eps)) < 0.02;
        if (near)
            continue;
        size_t nmin = 0, cm = 0, cmax = 0, nmax = 0;
        for (size_t i = 0; i < n; i++) {
            double x = lo + hx * (double)i;
            Hg[i] = (double)ls_naive_H(y, g, N, 1, 1.0, eps, &x);
        }
        for (size_t i = 1; i + 1 < n; i++) {
            nmin += Hg[i] < Hg[i - 1] && Hg[i] < Hg[i + 1];
            nmax += Hg[i] > Hg[i - 1] && Hg[i] > Hg[i + 1];
        }
        assert_int_equal(hj_bifurcation_count(L, &b, eps, 0, &cm, NULL), HJ_OK);
        assert_int_equal(hj_bifurcation_count(L, &b, eps, 1, &cmax, NULL), HJ_OK);
        assert_int_equal(cm, nmin);
        assert_int_equal(cmax, nmax);
        hj_basins bs;
        double blo = lo, bhi = hi;
        assert_int_equal(hj_landscape_basins(L, eps, &blo, &bhi, 4001, &bs, NULL), HJ_OK);
        assert_int_equal(bs.n_minima, nmin);
        assert_int_equal(bs.n_unresolved, 0);
        assert_int_equal(bs.n_basins, nmin + (size_t)bs.outside);
        /* each label change lies at a maximum of H */
        for (size_t i = 1; i < bs.n; i++) {
            if (bs.label[i] == bs.label[i - 1])
                continue;
            changes++;
            double xm = blo + (bhi - blo) * ((double)i - 0.5) / (double)(bs.n - 1);
            int found = 0;
            for (size_t j = 1; j + 1 < n && !found; j++)
                if (Hg[j] > Hg[j - 1] && Hg[j] > Hg[j + 1] &&
                    fabs(lo + hx * (double)j - xm) <= (bhi - blo) / (double)(bs.n - 1))
                    found = 1;
            assert_true(found);
        }
        hj_basins_free(&bs);
        compared++;
    }
    printf("  1-D: minima counts agree at %zu eps values (%zu folds, %zu basin boundaries checked)\n",
           compared, b.n_folds, changes);
    assert_true(compared >= 20);
    assert_true(b.n_folds >= 1);
    free(Hg);
    hj_bifurcation_free(&b);
    hj_landscape_free(L);
}

/* Bad arguments are refused with the right codes and no crash. */
static void bad_arguments_are_refused(void **state)
{
    (void)state;
    double y[2] = {0.0, 1.0}, g[2] = {0.0, 0.0}, x = 0.5, H;
    hj_atoms a = {2, 1, y, g};
    hj_landscape *L = NULL;
    hj_error e = {0};
    assert_int_equal(hj_landscape_alloc(&L, &a, 0.0, &e), HJ_EINVAL);
    assert_null(L);
    hj_atoms bad = {2, 1, NULL, g};
    assert_int_not_equal(hj_landscape_alloc(&L, &bad, 1.0, &e), HJ_OK);
    assert_int_equal(hj_landscape_alloc(&L, &a, 1.0, &e), HJ_OK);
    assert_int_equal(hj_landscape_eval(L, 0.0, &x, &H, NULL, NULL, NULL, &e), HJ_EINVAL);
    assert_int_equal(hj_landscape_eval(L, NAN, &x, &H, NULL, NULL, NULL, &e), HJ_EINVAL);
    double xn = NAN;
    assert_int_equal(hj_landscape_eval(L, 0.1, &xn, &H, NULL, NULL, NULL, &e), HJ_ENAN);
    hj_landscape_options o;
    hj_landscape_options_default(&o);
    o.eps_min = 1.0, o.eps_max = 0.5;
    hj_bifurcation b;
    assert_int_equal(hj_landscape_continue(L, &o, &b, &e), HJ_EINVAL);
    hj_basins bs;
    double lo = -1, hi = 1;
    assert_int_equal(hj_landscape_basins(L, 0.1, &lo, &hi, 2, &bs, &e), HJ_EINVAL);
    assert_int_equal(hj_landscape_basins(L, 0.1, &hi, &lo, 10, &bs, &e), HJ_EINVAL);
    hj_landscape_free(L);
    double y3[3] = {0, 0, 0}, g1[1] = {0};
    hj_atoms a3 = {1, 3, y3, g1};
    assert_int_equal(hj_landscape_alloc(&L, &a3, 1.0, &e), HJ_OK);
    assert_int_equal(hj_landscape_basins(L, 0.1, y3, y3, 10, &bs, &e), HJ_EINVAL);
    hj_landscape_free(L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(derivatives_match_entropy_h_and_finite_differences),
        cmocka_unit_test(newton_critical_points_match_dense_grid_1d),
        cmocka_unit_test(newton_critical_points_match_dense_grid_2d),
        cmocka_unit_test(fold_location_matches_closed_form_bisection_1d),
        cmocka_unit_test(continuation_folds_stable_under_step_halving),
        cmocka_unit_test(continuation_counts_and_basins_match_dense_grid_1d),
        cmocka_unit_test(bad_arguments_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
