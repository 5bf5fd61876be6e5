/* test_seq_ssm_attn.c — the ssm and attn sequence layers: forwards against naive
 * per-sequence references (pmp.h's recurrent SSM for the states, a step-by-step causal
 * transformer block written here), parameter and input gradients of whole models against
 * central differences, the same bits on 1 and 2 threads, and the zero-order hold at
 * extreme step sizes. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hjdl/lse.h"
#include "hjdl/model.h"
#include "hjdl/pmp.h"
#include "hjdl/rng.h"
#include "hjdl/runtime.h"
#include "model/layers.h"

/* A model of spec on sequences of T steps of d features (C classes, 0: regression),
 * its parameters moved off their initial values by N(0, jitter^2), inputs x (n, T d)
 * uniform in [-1, 1] and labels or targets y (n). */
static void build(const char *spec, size_t T, size_t d, size_t C, double eps, double jitter,
                  uint64_t seed, size_t n, hj_model *m, double **x, double **y)
{
    hj_arch arch;
    hj_error err = {0};
    if (hj_arch_parse_sequence(spec, T, d, C, 0, &arch, &err) != HJ_OK)
        fail_msg("%s: %s", spec, err.msg);
    assert_int_equal(hj_model_init(m, &arch, eps, 1.0, seed, &err), HJ_OK);
    hj_rng r;
    hj_rng_seed(&r, seed * 7 + 3);
    for (size_t k = 0; k < arch.n_params; k++)
        m->params[k] += jitter * hj_rng_normal(&r);
    *x = malloc(n * T * d * sizeof **x);
    *y = malloc(n * sizeof **y);
    for (size_t i = 0; i < n * T * d; i++)
        (*x)[i] = hj_rng_range(&r, -1.0, 1.0);
    for (size_t i = 0; i < n; i++)
        (*y)[i] = C ? (double)(hj_rng_next(&r) % C) : hj_rng_normal(&r);
}

/* |a - b| relative to max(|b|, floor). */
static double rel(double a, double b, double floor) { return fabs(a - b) / fmax(fabs(b), floor); }

/* ---- (a) forwards against naive references ------------------------------------ */

/* The ssm's states h_1..h_T (the first H of each cache row) are pmp.h's recurrent SSM
 * states, and its outputs softplus_eps(C h_k + c) of them. */
static void check_ssm_forward(size_t T, size_t d, size_t H, size_t n, double eps)
{
    char spec[64];
    snprintf(spec, sizeof spec, "ssm:%zu,last,lse:3", H);
    hj_model m;
    double *x, *y;
    build(spec, T, d, 0, eps, 0.3, 11 + T + 3 * H, n, &m, &x, &y);
    const hj_layer *L = &m.arch.layers[0];
    const double *P = m.params + L->offset, *C = P + H + H * d, *c = C + H * H + 1;
    double *out = malloc(n * T * H * sizeof *out), *cache = malloc(n * hj__ssm_cache_width(L) * sizeof *cache);
    double *X = malloc((T + 1) * H * sizeof *X);
    hj__ssm_forward(L, out, cache, x, P, n, eps);
    hj_recurrent rec = {HJ_RNN_SSM, d, H, H, P, 0, 0.0};
    hj_error err = {0};
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(hj_recurrent_forward(&rec, x + i * T * d, T, NULL, X, &err), HJ_OK);
        for (size_t k = 0; k < T; k++) {
            const double *h = X + (k + 1) * H;
            for (size_t j = 0; j < H; j++) {
                double z = c[j];
                for (size_t t = 0; t < H; t++)
                    z += C[j * H + t] * h[t];
                worst = fmax(worst, rel(out[(i * T + k) * H + j], hj_softplus(z, eps), 1.0));
                worst = fmax(worst, rel(cache[i * hj__ssm_cache_width(L) + k * 3 * H + j], h[j], 1.0));
            }
        }
    }
    if (!(worst < 1e-13))
        fail_msg("ssm forward T=%zu d=%zu H=%zu eps=%g: %.3e off the recurrent reference", T, d, H, eps,
                 worst);
    free(out), free(cache), free(X), free(x), free(y);
    hj_model_free(&m);
}

static void ssm_forward_should_match_the_recurrent_ssm(void **state)
{
    (void)state;
    check_ssm_forward(1, 1, 1, 2, 0.5);
    check_ssm_forward(5, 3, 4, 3, 1.0);
    check_ssm_forward(7, 2, 6, 4, 0.0);
    check_ssm_forward(12, 4, 3, 2, 0.25);
}

/* LN without affine part of x (H) into y, in long double. */
static void naive_ln(const long double *x, size_t H, long double *y)
{
    long double mu = 0.0L, var = 0.0L;
    for (size_t j = 0; j < H; j++)
        mu += x[j];
    mu /= (long double)H;
    for (size_t j = 0; j < H; j++)
        var += (x[j] - mu) * (x[j] - mu);
    var /= (long double)H;
    for (size_t j = 0; j < H; j++)
        y[j] = (x[j] - mu) / sqrtl(var + 1e-5L);
}

/* W (rows, cols) times v (cols) into o (rows), long double. */
static void naive_mv(const double *W, const long double *v, size_t rows, size_t cols, long double *o)
{
    for (size_t r = 0; r < rows; r++) {
        o[r] = 0.0L;
        for (size_t t = 0; t < cols; t++)
            o[r] += (long double)W[r * cols + t] * v[t];
    }
}

/* The attn block on one sequence u (T, d), step by step from the definition, out (T, H). */
static void naive_attn(const double *P, const double *u, size_t T, size_t d, size_t H, size_t nh,
                       double eps, double *out)
{
    const double *E = P, *e = E + H * d, *pos = e + H, *Wq = pos + T * H, *Wk = Wq + H * H,
                 *Wv = Wk + H * H, *Wo = Wv + H * H, *K = Wo + H * H, *beta = K + H * H,
                 *V = beta + H;
    const size_t dh = H / nh;
    long double *x = malloc(T * H * sizeof *x), *q = malloc(T * H * sizeof *q),
                *k = malloc(T * H * sizeof *k), *v = malloc(T * H * sizeof *v),
                *y = malloc(H * sizeof *y), *a = malloc(H * sizeof *a), *z = malloc(H * sizeof *z),
                *s = malloc(T * sizeof *s), *o = malloc(H * sizeof *o);
    for (size_t t = 0; t < T; t++) {
        long double ut[64];
        for (size_t j = 0; j < d; j++)
            ut[j] = u[t * d + j];
        naive_mv(E, ut, H, d, x + t * H);
        for (size_t j = 0; j < H; j++)
            x[t * H + j] += (long double)e[j] + pos[t * H + j];
        naive_ln(x + t * H, H, y);
        naive_mv(Wq, y, H, H, q + t * H);
        naive_mv(Wk, y, H, H, k + t * H);
        naive_mv(Wv, y, H, H, v + t * H);
    }
    long double *x1 = malloc(T * H * sizeof *x1);
    for (size_t t = 0; t < T; t++) {
        for (size_t h = 0; h < nh; h++) { /* query t over keys 0..t */
            long double mx = -INFINITY, sum = 0.0L;
            for (size_t j = 0; j <= t; j++) {
                s[j] = 0.0L;
                for (size_t c = 0; c < dh; c++)
                    s[j] += q[t * H + h * dh + c] * k[j * H + h * dh + c];
                s[j] /= sqrtl((long double)dh);
                mx = s[j] > mx ? s[j] : mx;
            }
            for (size_t j = 0; j <= t; j++)
                sum += (s[j] = expl(s[j] - mx));
            for (size_t c = 0; c < dh; c++) {
                a[h * dh + c] = 0.0L;
                for (size_t j = 0; j <= t; j++)
                    a[h * dh + c] += s[j] / sum * v[j * H + h * dh + c];
            }
        }
        naive_mv(Wo, a, H, H, o);
        for (size_t j = 0; j < H; j++)
            x1[t * H + j] = x[t * H + j] + o[j];
        naive_ln(x1 + t * H, H, y);
        naive_mv(K, y, H, H, z);
        long double mx = -INFINITY, sum = 0.0L;
        for (size_t j = 0; j < H; j++) {
            z[j] += beta[j];
            mx = z[j] > mx ? z[j] : mx;
        }
        for (size_t j = 0; j < H; j++) { /* eps = 0: uniform over the maxima */
            z[j] = eps > 0.0 ? expl((z[j] - mx) / eps) : (z[j] == mx ? 1.0L : 0.0L);
            sum += z[j];
        }
        for (size_t c = 0; c < H; c++) {
            long double g = 0.0L;
            for (size_t j = 0; j < H; j++)
                g += z[j] / sum * V[j * H + c];
            out[t * H + c] = (double)(x1[t * H + c] + g);
        }
    }
    free(x), free(q), free(k), free(v), free(y), free(a), free(z), free(s), free(o), free(x1);
}

static void check_attn_forward(size_t T, size_t d, size_t H, size_t nh, size_t n, double eps)
{
    char spec[64];
    snprintf(spec, sizeof spec, "attn:%zu:%zu,mean,lse:2", H, nh);
    hj_model m;
    double *x, *y;
    build(spec, T, d, 0, eps, 0.3, 5 + T + 7 * H + nh, n, &m, &x, &y);
    const hj_layer *L = &m.arch.layers[0];
    assert_int_equal(L->heads, nh);
    const double *P = m.params + L->offset;
    double *out = malloc(n * T * H * sizeof *out), *ref = malloc(T * H * sizeof *ref);
    double *cache = malloc(n * hj__attn_cache_width(L) * sizeof *cache);
    hj__attn_forward(L, out, cache, x, P, n, eps);
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        naive_attn(P, x + i * T * d, T, d, H, nh, eps, ref);
        for (size_t k = 0; k < T * H; k++)
            worst = fmax(worst, rel(out[i * T * H + k], ref[k], 1.0));
    }
    if (!(worst < 1e-12))
        fail_msg("attn forward T=%zu d=%zu H=%zu heads=%zu eps=%g: %.3e off the naive block", T, d, H,
                 nh, eps, worst);
    free(out), free(ref), free(cache), free(x), free(y);
    hj_model_free(&m);
}

static void attn_forward_should_match_a_naive_causal_block(void **state)
{
    (void)state;
    check_attn_forward(1, 2, 4, 1, 2, 0.5);
    check_attn_forward(4, 3, 4, 2, 3, 1.0);
    check_attn_forward(6, 2, 6, 2, 2, 0.3);
    check_attn_forward(5, 4, 6, 3, 2, 0.0);
    check_attn_forward(9, 1, 8, 1, 2, 2.0);
}

/* Causality: changing the input at step k leaves the outputs of steps < k unchanged. */
static void attn_should_be_causal(void **state)
{
    (void)state;
    const size_t T = 6, d = 3, H = 4, n = 1;
    hj_model m;
    double *x, *y;
    build("attn:4:2,last,lse:2", T, d, 0, 0.7, 0.3, 99, n, &m, &x, &y);
    const hj_layer *L = &m.arch.layers[0];
    double *o1 = malloc(T * H * sizeof *o1), *o2 = malloc(T * H * sizeof *o2);
    double *cache = malloc(hj__attn_cache_width(L) * sizeof *cache);
    hj__attn_forward(L, o1, cache, x, m.params + L->offset, n, m.eps);
    for (size_t j = 0; j < d; j++)
        x[3 * d + j] += 0.5;
    hj__attn_forward(L, o2, cache, x, m.params + L->offset, n, m.eps);
    assert_true(memcmp(o1, o2, 3 * H * sizeof *o1) == 0);
    assert_true(memcmp(o1 + 3 * H, o2 + 3 * H, H * sizeof *o1) != 0);
    free(o1), free(o2), free(cache), free(x), free(y);
    hj_model_free(&m);
}

/* ---- (b) gradients against central differences --------------------------------- */

/* Worst error of every parameter's derivative of the mean loss, and of the input
 * gradient of r . out for a random r, against central differences (step 1e-5, errors
 * relative to the largest derivative). */
static void check_gradients(const char *spec, size_t T, size_t d, size_t C, double eps)
{
    const size_t n = 4;
    hj_model m;
    double *x, *y;
    build(spec, T, d, C, eps, 0.25, 31 + T + d + C, n, &m, &x, &y);
    hj_workspace *ws;
    hj_error err = {0};
    assert_int_equal(hj_workspace_alloc(&ws, &m, n, &err), HJ_OK);
    const size_t np = m.arch.n_params, D = T * d, no = hj_model_n_out(&m);
    double *g = malloc(np * sizeof *g), loss, lp, lm;
    assert_int_equal(hj_model_loss_grad(&m, m.params, ws, x, y, n, &loss, g, &err), HJ_OK);
    double *fd = malloc(np * sizeof *fd), scale = 1e-8, worst = 0.0;
    size_t at = 0;
    for (size_t k = 0; k < np; k++) {
        const double save = m.params[k], h = 1e-5;
        m.params[k] = save + h;
        assert_int_equal(hj_model_loss_grad(&m, m.params, ws, x, y, n, &lp, NULL, &err), HJ_OK);
        m.params[k] = save - h;
        assert_int_equal(hj_model_loss_grad(&m, m.params, ws, x, y, n, &lm, NULL, &err), HJ_OK);
        m.params[k] = save;
        fd[k] = (lp - lm) / (2.0 * h);
        scale = fmax(scale, fabs(fd[k]));
    }
    for (size_t k = 0; k < np; k++)
        if (fabs(g[k] - fd[k]) / scale > worst)
            worst = fabs(g[k] - fd[k]) / scale, at = k;
    if (!(worst < 1e-7))
        fail_msg("%s (T=%zu d=%zu eps=%g): parameter %zu of %zu, gradient %.12g vs differences %.12g "
                 "(%.3e)", spec, T, d, eps, at, np, g[at], fd[at], worst);
    /* the input gradient of r . out */
    double *r = malloc(n * no * sizeof *r), *gx = malloc(n * D * sizeof *gx);
    double *op = malloc(n * no * sizeof *op), *om = malloc(n * no * sizeof *om);
    double *fdx = malloc(n * D * sizeof *fdx);
    hj_rng rng;
    hj_rng_seed(&rng, 5);
    for (size_t k = 0; k < n * no; k++)
        r[k] = hj_rng_normal(&rng);
    assert_int_equal(hj_model_input_gradient(&m, ws, x, n, r, gx, &err), HJ_OK);
    scale = 1e-8, worst = 0.0;
    for (size_t k = 0; k < n * D; k++) {
        const double save = x[k], h = 1e-5;
        x[k] = save + h;
        assert_int_equal(hj_model_forward(&m, ws, x, n, op, &err), HJ_OK);
        x[k] = save - h;
        assert_int_equal(hj_model_forward(&m, ws, x, n, om, &err), HJ_OK);
        x[k] = save;
        double s = 0.0;
        for (size_t c = 0; c < n * no; c++)
            s += r[c] * (op[c] - om[c]);
        fdx[k] = s / (2.0 * h);
        scale = fmax(scale, fabs(fdx[k]));
    }
    for (size_t k = 0; k < n * D; k++)
        if (fabs(gx[k] - fdx[k]) / scale > worst)
            worst = fabs(gx[k] - fdx[k]) / scale, at = k;
    if (!(worst < 1e-7))
        fail_msg("%s (T=%zu d=%zu eps=%g): input %zu, gradient %.12g vs differences %.12g (%.3e)", spec,
                 T, d, eps, at, gx[at], fdx[at], worst);
    free(g), free(fd), free(r), free(gx), free(op), free(om), free(fdx), free(x), free(y);
    hj_workspace_free(ws);
    hj_model_free(&m);
}

static void ssm_gradients_should_match_finite_differences(void **state)
{
    (void)state;
    check_gradients("ssm:3,last,lse-class:2", 4, 2, 3, 0.5);
    check_gradients("ssm:5,mean,lse-class:3", 6, 3, 2, 1.0);
    check_gradients("ssm:4,last,lse:3", 1, 3, 0, 0.3);
    check_gradients("ssm:4,ssm:3,mean,dense:3,lse:2", 5, 2, 0, 0.7);
}

static void attn_gradients_should_match_finite_differences(void **state)
{
    (void)state;
    check_gradients("attn:4:2,mean,lse-class:2", 4, 2, 3, 0.5);
    check_gradients("attn:4,last,lse-class:3", 5, 3, 2, 1.0);
    check_gradients("attn:6:2,last,lse:2", 3, 2, 0, 0.3);
    check_gradients("attn:6:3,mean,lse:3", 1, 2, 0, 2.0);
    check_gradients("ssm:4,attn:4,last,lse:3", 4, 2, 0, 0.6);
    check_gradients("attn:4:2,ssm:3,mean,lse-class:2", 3, 2, 2, 0.8);
}

/* ---- (c) the same bits on 1 and 2 threads -------------------------------------- */

static void check_threads(const char *spec, size_t T, size_t d, size_t n)
{
    hj_model m;
    double *x, *y;
    build(spec, T, d, 4, 0.5, 0.1, 77, n, &m, &x, &y);
    hj_workspace *ws;
    hj_error err = {0};
    assert_int_equal(hj_workspace_alloc(&ws, &m, n, &err), HJ_OK);
    const size_t np = m.arch.n_params;
    double *g1 = malloc(np * sizeof *g1), *g2 = malloc(np * sizeof *g2), l1, l2;
    double *x1 = malloc(n * T * d * sizeof *x1), *x2 = malloc(n * T * d * sizeof *x2);
    double *r = calloc(n * 4, sizeof *r);
    for (size_t i = 0; i < n; i++)
        r[i * 4 + i % 4] = 1.0;
    const size_t saved = hj_get_threads();
    hj_set_threads(1);
    assert_int_equal(hj_model_loss_grad(&m, m.params, ws, x, y, n, &l1, g1, &err), HJ_OK);
    assert_int_equal(hj_model_input_gradient(&m, ws, x, n, r, x1, &err), HJ_OK);
    hj_set_threads(2);
    assert_int_equal(hj_model_loss_grad(&m, m.params, ws, x, y, n, &l2, g2, &err), HJ_OK);
    assert_int_equal(hj_model_input_gradient(&m, ws, x, n, r, x2, &err), HJ_OK);
    hj_set_threads(saved);
    assert_true(memcmp(&l1, &l2, sizeof l1) == 0);
    assert_true(memcmp(g1, g2, np * sizeof *g1) == 0);
    assert_true(memcmp(x1, x2, n * T * d * sizeof *x1) == 0);
    free(g1), free(g2), free(x1), free(x2), free(r), free(x), free(y);
    hj_workspace_free(ws);
    hj_model_free(&m);
}

static void one_and_two_threads_should_give_the_same_bits(void **state)
{
    (void)state;
    /* large enough that every threaded loop runs on two threads */
    check_threads("ssm:40,last,lse-class:3", 28, 6, 200);
    check_threads("attn:16:2,last,lse-class:3", 16, 5, 64);
}

/* ---- (d) the zero-order hold at extreme step sizes ------------------------------ */

/* beta = expm1(x)/A = Delta sum_k x^k / (k+1)! and d beta / d a = Delta sum_{k>=1} k x^k / (k+1)!
 * (x = Delta A, dA/da = A), as series for |x| < 1/2 and closed forms otherwise. */
static void zoh_reference(double a, double log_dt, long double *Abar, long double *beta,
                          long double *dbeta_da)
{
    const long double dt = expl((long double)log_dt), A = -expl((long double)a), x = dt * A;
    *Abar = expl(x);
    if (fabsl(x) < 0.5L) {
        long double t = 1.0L, b = 0.0L, db = 0.0L; /* t = x^k / (k+1)! */
        for (int k = 0; k < 40; k++) {
            if (k > 0)
                t *= x / (long double)(k + 1);
            b += t;
            db += (long double)k * t;
        }
        *beta = dt * b;
        *dbeta_da = dt * db;
    } else {
        *beta = expm1l(x) / A;
        *dbeta_da = (x * expl(x) - expm1l(x)) / A;
    }
}

static void ssm_should_stay_accurate_at_extreme_step_sizes(void **state)
{
    (void)state;
    /* (a, log_dt): tiny Delta A (series regime), huge Delta A (Abar = 0), both huge */
    static const double cases[][2] = {{-40.0, 30.0}, {-30.0, 0.0}, {-5.0, -20.0}, {5.0, 20.0},
                                      {0.0, 3.0},    {-1.0, -1.0}};
    const size_t T = 2, d = 1, n = 1;
    hj_model m;
    double *x, *y;
    build("ssm:1,last,lse:2", T, d, 0, 0.5, 0.0, 3, n, &m, &x, &y);
    const hj_layer *L = &m.arch.layers[0];
    double *P = m.params + L->offset, *dP = calloc(L->count, sizeof *dP);
    double out[2], cache[6], dz[6], dout[2] = {0.7, -1.3};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const double a = cases[c][0], log_dt = cases[c][1];
        P[0] = a, P[1] = 0.9, P[2] = 1.1, P[3] = log_dt, P[4] = 0.2; /* a, B, C, log_dt, c */
        x[0] = 0.8, x[1] = -0.4;
        hj__ssm_forward(L, out, cache, x, P, n, 0.5);
        memset(dP, 0, L->count * sizeof *dP);
        hj__ssm_backward(L, NULL, dP, dz, dout, cache, x, P, n, 0.5);
        long double Ab, be, dbe;
        zoh_reference(a, log_dt, &Ab, &be, &dbe);
        /* h_1 = beta B u_0, h_2 = Abar h_1 + beta B u_1, out_k = softplus(C h_k + c) */
        const long double bu0 = 0.9L * x[0], bu1 = 0.9L * x[1];
        const long double h1 = be * bu0, h2 = Ab * h1 + be * bu1;
        const long double z1 = 1.1L * h1 + 0.2L, z2 = 1.1L * h2 + 0.2L;
        const long double s1 = 1.0L / (1.0L + expl(-z1 / 0.5L)), s2 = 1.0L / (1.0L + expl(-z2 / 0.5L));
        /* lam_2 = dL/dh_2, lam_1 = dL/dh_1; dL/dbeta = lam_1 bu0 + lam_2 bu1, dL/dAbar = lam_2 h1 */
        const long double lam2 = dout[1] * s2 * 1.1L, lam1 = dout[0] * s1 * 1.1L + Ab * lam2;
        const long double gb = lam1 * bu0 + lam2 * bu1, gA = lam2 * h1;
        const long double dt = expl((long double)log_dt), A = -expl((long double)a), xx = dt * A;
        const long double da = gA * xx * Ab + gb * dbe, dlog = gA * xx * Ab + gb * dt * Ab;
        for (size_t k = 0; k < L->count; k++)
            assert_true(isfinite(dP[k]));
        assert_true(isfinite(out[0]) && isfinite(out[1]));
        assert_true(rel(cache[0], (double)h1, 1e-300) < 1e-14);
        assert_true(rel(cache[3], (double)h2, 1e-300) < 1e-14);
        if (!(rel(dP[0], (double)da, 1e-300) < 1e-12 && rel(dP[3], (double)dlog, 1e-300) < 1e-12))
            fail_msg("a=%g log_dt=%g: d/da %.17g vs %.17Lg, d/dlog_dt %.17g vs %.17Lg", a, log_dt,
                     dP[0], da, dP[3], dlog);
    }
    free(dP), free(x), free(y);
    hj_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ssm_forward_should_match_the_recurrent_ssm),
        cmocka_unit_test(attn_forward_should_match_a_naive_causal_block),
        cmocka_unit_test(attn_should_be_causal),
        cmocka_unit_test(ssm_gradients_should_match_finite_differences),
        cmocka_unit_test(attn_gradients_should_match_finite_differences),
        cmocka_unit_test(one_and_two_threads_should_give_the_same_bits),
        cmocka_unit_test(ssm_should_stay_accurate_at_extreme_step_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
