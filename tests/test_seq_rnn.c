/* test_seq_rnn.c — the rnn and lstm sequence layers: forward against a naive per-sequence reference and pmp.h's recurrent cells, gradients against finite differences and pmp.h's BPTT, thread-count independence, stacking. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "hjdl/model.h"
#include "hjdl/pmp.h"
#include "hjdl/rng.h"
#include "hjdl/runtime.h"
#include "model/layers.h"
#include "naive_ref.h"

/* ---- naive references, one sequence at a time, plain libm ------------------- */

static double ref_softplus(double z, double eps)
{
    if (eps == 0.0)
        return z > 0.0 ? z : 0.0;
    return fmax(z, 0.0) + eps * log1p(exp(-fabs(z) / eps));
}

static double ref_sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/* rnn: hs (T, H) the states h_1..h_T of one sequence u (T, d); P = [W, U, b]; zs (T, H) the
 * pre-activations, or NULL. */
static void ref_rnn(const double *P, const double *u, size_t T, size_t d, size_t H, int tanh_cell,
                    double eps, double *hs, double *zs)
{
    const double *W = P, *U = P + H * H, *b = U + H * d;
    for (size_t k = 0; k < T; k++)
        for (size_t j = 0; j < H; j++) {
            double z = b[j];
            for (size_t l = 0; l < H && k > 0; l++)
                z += W[j * H + l] * hs[(k - 1) * H + l];
            for (size_t m = 0; m < d; m++)
                z += U[j * d + m] * u[k * d + m];
            hs[k * H + j] = tanh_cell ? tanh(z) : ref_softplus(z, eps);
            if (zs)
                zs[k * H + j] = z;
        }
}

/* lstm: hs, cs (T, H) the states h_k, c_k, k = 1..T; P = [Wg (4H, H + d), bg (4H)]. */
static void ref_lstm(const double *P, const double *u, size_t T, size_t d, size_t H, double *hs,
                     double *cs)
{
    const size_t ld = H + d;
    const double *bg = P + 4 * H * ld;
    double *a = malloc(4 * H * sizeof *a);
    for (size_t k = 0; k < T; k++) {
        for (size_t r = 0; r < 4 * H; r++) {
            double z = bg[r];
            for (size_t l = 0; l < H && k > 0; l++)
                z += P[r * ld + l] * hs[(k - 1) * H + l];
            for (size_t m = 0; m < d; m++)
                z += P[r * ld + H + m] * u[k * d + m];
            a[r] = z;
        }
        for (size_t j = 0; j < H; j++) {
            double gi = ref_sigmoid(a[j]), gf = ref_sigmoid(a[H + j]), gg = tanh(a[2 * H + j]);
            double go = ref_sigmoid(a[3 * H + j]);
            double c = (k > 0 ? gf * cs[(k - 1) * H + j] : 0.0) + gi * gg;
            cs[k * H + j] = c;
            hs[k * H + j] = go * tanh(c);
        }
    }
    free(a);
}

/* ---- helpers ----------------------------------------------------------------- */

static void parse_seq(const char *spec, size_t T, size_t d, size_t C, hj_arch *a)
{
    hj_error err = {0};
    if (hj_arch_parse_sequence(spec, T, d, C, 0, a, &err) != HJ_OK)
        fail_msg("%s: %s", spec, err.msg);
}

/* A model for spec on sequences (T, d), C classes, parameters perturbed so that every
 * bias is exercised; x (n, T d) uniform on [0, 1) (pixel-like) plus a little noise. */
static void make_seq_problem(const char *spec, size_t T, size_t d, size_t C, double eps,
                             uint64_t seed, size_t n, hj_model *m, double **x, double **y)
{
    hj_arch a;
    hj_error err = {0};
    parse_seq(spec, T, d, C, &a);
    assert_int_equal(hj_model_init(m, &a, eps, 1.0, seed, &err), HJ_OK);
    hj_rng r;
    hj_rng_seed(&r, seed + 101);
    for (size_t k = 0; k < a.n_params; k++)
        m->params[k] += 0.2 * hj_rng_normal(&r);
    *x = malloc(n * a.d_in * sizeof **x);
    *y = malloc(n * sizeof **y);
    for (size_t i = 0; i < n * a.d_in; i++)
        (*x)[i] = hj_rng_range(&r, -1.0, 1.5);
    for (size_t i = 0; i < n; i++)
        (*y)[i] = (double)(hj_rng_next(&r) % C);
}

/* The first layer's forward on n points: out (n, T, H) and cache, allocated here. */
static void layer_forward(const hj_layer *L, const double *P, const double *x, size_t n, double eps,
                          double **out, double **cache)
{
    *out = malloc(n * L->out * sizeof **out);
    *cache = malloc(n * hj__layer_cache_width(L) * sizeof **cache);
    hj__layer_forward(L, *out, *cache, x, P, n, 1.0, eps);
}

/* Smallest |pre-activation| of a softplus rnn layer P over the n sequences x (naive). */
static double rnn_min_abs_pre(const hj_layer *L, const double *P, const double *x, size_t n, double eps)
{
    const size_t T = L->steps, d = L->step_in, H = L->width;
    double m = INFINITY, *hs = malloc(T * H * sizeof *hs), *zs = malloc(T * H * sizeof *zs);
    for (size_t i = 0; i < n; i++) {
        ref_rnn(P, x + i * T * d, T, d, H, 0, eps, hs, zs);
        for (size_t k = 0; k < T * H; k++)
            m = fmin(m, fabs(zs[k]));
    }
    free(hs), free(zs);
    return m;
}

/* buf = tmpl with '#' replaced by H and '$' by H + 1 (architecture templates). */
static void spec_of(char *buf, size_t len, const char *tmpl, size_t H)
{
    size_t o = 0;
    for (const char *t = tmpl; *t && o + 8 < len; t++) {
        if (*t == '#' || *t == '$')
            o += (size_t)snprintf(buf + o, len - o, "%zu", *t == '#' ? H : H + 1);
        else
            buf[o++] = *t;
    }
    buf[o] = '\0';
}

typedef struct seq_case {
    size_t T, d, H, n;
} seq_case;

static const seq_case CASES[] = {{1, 2, 3, 2}, {4, 3, 5, 3}, {7, 1, 4, 5}, {5, 6, 2, 4}, {3, 4, 8, 6}};
#define N_CASES (sizeof CASES / sizeof CASES[0])

/* ---- (a) forward ------------------------------------------------------------ */

static void forward_should_match_the_naive_reference(void **state)
{
    (void)state;
    static const char *cells[] = {"lstm:#,last,lse-class:2", "rnn:#,last,lse-class:2",
                                  "rnn:#:softplus,last,lse-class:2", "rnn:#:softplus,last,lse-class:2"};
    static const double eps_of[] = {1.0, 1.0, 0.5, 0.0};
    for (size_t c = 0; c < N_CASES; c++)
        for (size_t v = 0; v < 4; v++) {
            const seq_case *s = &CASES[c];
            char spec[64];
            spec_of(spec, sizeof spec, cells[v], s->H);
            hj_model m;
            double *x, *y, *out, *cache;
            make_seq_problem(spec, s->T, s->d, 2, eps_of[v], 7 + c, s->n, &m, &x, &y);
            const hj_layer *L = &m.arch.layers[0];
            const double *P = m.params + L->offset;
            layer_forward(L, P, x, s->n, m.eps, &out, &cache);
            double *hs = malloc(s->T * s->H * sizeof *hs), *cs = malloc(s->T * s->H * sizeof *cs);
            double worst = 0.0;
            for (size_t i = 0; i < s->n; i++) {
                const double *u = x + i * s->T * s->d;
                if (v == 0)
                    ref_lstm(P, u, s->T, s->d, s->H, hs, cs);
                else
                    ref_rnn(P, u, s->T, s->d, s->H, v == 1, m.eps, hs, NULL);
                for (size_t k = 0; k < s->T * s->H; k++)
                    worst = fmax(worst, fabs(hs[k] - out[i * s->T * s->H + k]));
            }
            if (!(worst < 1e-13))
                fail_msg("%s T=%zu d=%zu: forward vs naive %.3e", spec, s->T, s->d, worst);
            free(hs), free(cs), free(out), free(cache), free(x), free(y);
            hj_model_free(&m);
        }
}

/* pmp.h's recurrent cells are an independent implementation of the same equations:
 * its states (h, and c for the lstm) equal the layer's outputs for each sequence. */
static void forward_should_match_pmp_recurrent_states(void **state)
{
    (void)state;
    for (size_t c = 0; c < N_CASES; c++)
        for (int lstm = 0; lstm < 2; lstm++) {
            const seq_case *s = &CASES[c];
            char spec[64];
            snprintf(spec, sizeof spec, "%s:%zu,mean,lse-class:3", lstm ? "lstm" : "rnn", s->H);
            hj_model m;
            double *x, *y, *out, *cache;
            make_seq_problem(spec, s->T, s->d, 3, 1.0, 31 + c, s->n, &m, &x, &y);
            const hj_layer *L = &m.arch.layers[0];
            const double *P = m.params + L->offset;
            layer_forward(L, P, x, s->n, m.eps, &out, &cache);
            const hj_rnn_kind kind = lstm ? HJ_RNN_LSTM : HJ_RNN_ELMAN;
            const size_t np = hj_recurrent_num_params(kind, s->d, s->H, 1), S = lstm ? 2 * s->H : s->H;
            double *theta = calloc(np, sizeof *theta), *X = malloc((s->T + 1) * S * sizeof *X);
            memcpy(theta, P, L->count * sizeof *theta); /* the read-out C stays 0: unused here */
            assert_int_equal(np, L->count + s->H);
            hj_recurrent rm = {kind, s->d, s->H, 1, theta, 0, 0.0};
            hj_error err = {0};
            double worst = 0.0;
            for (size_t i = 0; i < s->n; i++) {
                assert_int_equal(hj_recurrent_forward(&rm, x + i * s->T * s->d, s->T, NULL, X, &err), HJ_OK);
                for (size_t k = 1; k <= s->T; k++)
                    for (size_t j = 0; j < s->H; j++)
                        worst = fmax(worst, fabs(X[k * S + j] - out[(i * s->T + k - 1) * s->H + j]));
                if (lstm)
                    for (size_t k = 1; k <= s->T; k++)
                        for (size_t j = 0; j < s->H; j++) {
                            /* seq_rnn.c: C is the cache's last region but one */
                            const double *C = cache + s->n * (hj__layer_cache_width(L) - 2 * s->T * s->H);
                            worst = fmax(worst, fabs(X[k * S + s->H + j] - C[(i * s->T + k - 1) * s->H + j]));
                        }
            }
            if (!(worst < 1e-13))
                fail_msg("%s T=%zu: forward vs hj_recurrent_forward %.3e", spec, s->T, worst);
            free(theta), free(X), free(out), free(cache), free(x), free(y);
            hj_model_free(&m);
        }
}

/* ---- (b) gradients against central differences -------------------------------- */

/* Max over parameters of |fd - g| / max |g| for the mean loss. */
static double param_gradient_error(hj_model *m, const double *x, const double *y, size_t n)
{
    hj_workspace *ws;
    hj_error err = {0};
    assert_int_equal(hj_workspace_alloc(&ws, m, n, &err), HJ_OK);
    const size_t P = m->arch.n_params;
    double *g = malloc(P * sizeof *g), loss, lp, lm, worst = 0.0, gmax = 0.0;
    assert_int_equal(hj_model_loss_grad(m, m->params, ws, x, y, n, &loss, g, &err), HJ_OK);
    for (size_t k = 0; k < P; k++)
        gmax = fmax(gmax, fabs(g[k]));
    assert_true(gmax > 1e-6);
    for (size_t k = 0; k < P; k++) {
        const double save = m->params[k], h = 1e-5 * fmax(1.0, fabs(save));
        m->params[k] = save + h;
        assert_int_equal(hj_model_loss_grad(m, m->params, ws, x, y, n, &lp, NULL, &err), HJ_OK);
        m->params[k] = save - h;
        assert_int_equal(hj_model_loss_grad(m, m->params, ws, x, y, n, &lm, NULL, &err), HJ_OK);
        m->params[k] = save;
        worst = fmax(worst, fabs((lp - lm) / (2.0 * h) - g[k]) / gmax);
    }
    free(g);
    hj_workspace_free(ws);
    return worst;
}

/* The same for the input gradient of sum_i gout_i . out_i (gout random). */
static double input_gradient_error(hj_model *m, double *x, size_t n)
{
    hj_workspace *ws;
    hj_error err = {0};
    assert_int_equal(hj_workspace_alloc(&ws, m, n, &err), HJ_OK);
    const size_t D = m->arch.d_in, C = hj_model_n_out(m);
    double *gout = malloc(n * C * sizeof *gout), *gx = malloc(n * D * sizeof *gx);
    double *op = malloc(n * C * sizeof *op), *om = malloc(n * C * sizeof *om);
    hj_rng r;
    hj_rng_seed(&r, 5);
    for (size_t k = 0; k < n * C; k++)
        gout[k] = hj_rng_normal(&r);
    assert_int_equal(hj_model_input_gradient(m, ws, x, n, gout, gx, &err), HJ_OK);
    double gmax = 0.0, worst = 0.0;
    for (size_t k = 0; k < n * D; k++)
        gmax = fmax(gmax, fabs(gx[k]));
    assert_true(gmax > 1e-6);
    for (size_t k = 0; k < n * D; k++) {
        const double save = x[k], h = 1e-5;
        x[k] = save + h;
        assert_int_equal(hj_model_forward(m, ws, x, n, op, &err), HJ_OK);
        x[k] = save - h;
        assert_int_equal(hj_model_forward(m, ws, x, n, om, &err), HJ_OK);
        x[k] = save;
        double fd = 0.0;
        for (size_t c = 0; c < n * C; c++)
            fd += gout[c] * (op[c] - om[c]) / (2.0 * h);
        worst = fmax(worst, fabs(fd - gx[k]) / gmax);
    }
    free(gout), free(gx), free(op), free(om);
    hj_workspace_free(ws);
    return worst;
}

/* One spec at one eps on every case: both gradients to 1e-7 relative. At eps = 0 the
 * seed is chosen so that no rnn pre-activation sits near the ReLU kink. */
static void check_gradients(const char *fmt, double eps)
{
    for (size_t c = 0; c < N_CASES; c++) {
        const seq_case *s = &CASES[c];
        char spec[96];
        spec_of(spec, sizeof spec, fmt, s->H);
        hj_model m;
        double *x, *y;
        uint64_t seed = 100 + c;
        for (;; seed += 1000) {
            make_seq_problem(spec, s->T, s->d, 3, eps, seed, s->n, &m, &x, &y);
            const hj_layer *L = &m.arch.layers[0];
            if (eps > 0.0 || L->kind != HJ_LAYER_RNN)
                break;
            if (rnn_min_abs_pre(L, m.params + L->offset, x, s->n, eps) > 1e-3)
                break;
            free(x), free(y);
            hj_model_free(&m);
        }
        const double ep = param_gradient_error(&m, x, y, s->n);
        const double ex = input_gradient_error(&m, x, s->n);
        if (!(ep < 1e-7 && ex < 1e-7))
            fail_msg("%s eps=%g T=%zu d=%zu n=%zu: parameter gradient %.3e, input gradient %.3e vs "
                     "finite differences", spec, eps, s->T, s->d, s->n, ep, ex);
        free(x), free(y);
        hj_model_free(&m);
    }
}

static void gradients_should_match_finite_differences(void **state)
{
    (void)state;
    check_gradients("lstm:#,last,lse-class:$", 1.0);
    check_gradients("lstm:#,mean,lse-class:$", 0.5);
    check_gradients("rnn:#,last,lse-class:$", 1.0);
    check_gradients("rnn:#,mean,dense:4,lse-class:$", 0.7);
    check_gradients("rnn:#:softplus,last,lse-class:$", 0.5);
    check_gradients("rnn:#:softplus,mean,lse-class:$", 0.0);
}

/* (e) stacked sequence layers. */
static void stacked_layers_should_have_exact_gradients(void **state)
{
    (void)state;
    check_gradients("lstm:#,rnn:$,last,lse-class:3", 1.0);
    check_gradients("rnn:#:softplus,lstm:$,mean,lse-class:3", 0.5);
    check_gradients("lstm:#,lstm:$,last,lse-class:3", 1.0);
}

/* ---- (c) parameter gradient against pmp.h's BPTT and co-state recursion ----------- */

/* With dout_k = dL/dh_k of pmp's loss L = sum_k |C h_k - y_{k-1}|^2, the layer's backward
 * gives that loss's gradient in the cell parameters: summed over the sequences it equals
 * hj_recurrent_bptt_grad's and hj_recurrent_costate_grad's (their first L->count entries). */
static void backward_should_match_pmp_bptt(void **state)
{
    (void)state;
    for (size_t c = 0; c < N_CASES; c++)
        for (int lstm = 0; lstm < 2; lstm++) {
            const seq_case *s = &CASES[c];
            const size_t T = s->T, d = s->d, H = s->H, n = s->n, no = 2;
            char spec[64];
            snprintf(spec, sizeof spec, "%s:%zu,last,lse-class:2", lstm ? "lstm" : "rnn", H);
            hj_model m;
            double *x, *y, *out, *cache;
            make_seq_problem(spec, T, d, 2, 1.0, 57 + c, n, &m, &x, &y);
            const hj_layer *L = &m.arch.layers[0];
            const double *P = m.params + L->offset;
            layer_forward(L, P, x, n, m.eps, &out, &cache);
            const hj_rnn_kind kind = lstm ? HJ_RNN_LSTM : HJ_RNN_ELMAN;
            const size_t np = hj_recurrent_num_params(kind, d, H, no);
            double *theta = malloc(np * sizeof *theta), *tg = malloc(n * T * no * sizeof *tg);
            memcpy(theta, P, L->count * sizeof *theta);
            hj_rng r;
            hj_rng_seed(&r, 3 + c);
            double *Cm = theta + L->count; /* read-out C (no, H) */
            for (size_t k = 0; k < no * H; k++)
                Cm[k] = hj_rng_normal(&r);
            for (size_t k = 0; k < n * T * no; k++)
                tg[k] = hj_rng_normal(&r);
            /* dout_k = 2 C^T (C h_k - y_{k-1}) */
            double *dout = calloc(n * T * H, sizeof *dout);
            for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < T; k++) {
                    const double *h = out + (i * T + k) * H;
                    for (size_t o = 0; o < no; o++) {
                        double e = -tg[(i * T + k) * no + o];
                        for (size_t j = 0; j < H; j++)
                            e += Cm[o * H + j] * h[j];
                        for (size_t j = 0; j < H; j++)
                            dout[(i * T + k) * H + j] += 2.0 * e * Cm[o * H + j];
                    }
                }
            double *dP = calloc(L->count, sizeof *dP), *dz = malloc(n * hj__layer_cache_width(L) * sizeof *dz);
            double *din = malloc(n * T * d * sizeof *din);
            hj__layer_backward(L, din, dP, dz, dout, cache, x, P, n, 1.0, m.eps);
            double *gb = calloc(np, sizeof *gb), *gc = calloc(np, sizeof *gc), *g1 = malloc(np * sizeof *g1);
            hj_recurrent rm = {kind, d, H, no, theta, 0, 0.0};
            hj_error err = {0};
            for (size_t i = 0; i < n; i++) {
                double loss;
                assert_int_equal(hj_recurrent_bptt_grad(&rm, x + i * T * d, tg + i * T * no, T, NULL,
                                                        &loss, g1, &err), HJ_OK);
                for (size_t k = 0; k < np; k++)
                    gb[k] += g1[k];
                assert_int_equal(hj_recurrent_costate_grad(&rm, x + i * T * d, tg + i * T * no, T, NULL,
                                                           &loss, g1, NULL, &err), HJ_OK);
                for (size_t k = 0; k < np; k++)
                    gc[k] += g1[k];
            }
            double gmax = 0.0, eb = 0.0, ec = 0.0;
            for (size_t k = 0; k < L->count; k++)
                gmax = fmax(gmax, fabs(gb[k]));
            for (size_t k = 0; k < L->count; k++) {
                eb = fmax(eb, fabs(dP[k] - gb[k]) / gmax);
                ec = fmax(ec, fabs(dP[k] - gc[k]) / gmax);
            }
            if (!(gmax > 1e-6 && eb < 1e-12 && ec < 1e-12))
                fail_msg("%s T=%zu: backward vs hj_recurrent_bptt_grad %.3e, costate %.3e", spec, T, eb, ec);
            free(theta), free(tg), free(dout), free(dP), free(dz), free(din), free(gb), free(gc), free(g1);
            free(out), free(cache), free(x), free(y);
            hj_model_free(&m);
        }
}

/* ---- (d) thread count -------------------------------------------------------- */

#ifdef _OPENMP
/* Loss, parameter gradient and input gradient of m on x, y (n points) at the current
 * thread settings: out = [loss, grad (n_params), gx (n, d_in)]. */
static void evaluate_all(hj_model *m, hj_workspace *ws, const double *x, const double *y,
                         const double *gout, size_t n, double *out)
{
    hj_error err = {0};
    assert_int_equal(hj_model_loss_grad(m, m->params, ws, x, y, n, &out[0], out + 1, &err), HJ_OK);
    assert_int_equal(hj_model_input_gradient(m, ws, x, n, gout, out + 1 + m->arch.n_params, &err), HJ_OK);
}
#endif

/* For a given thread count the bits repeat; the OpenMP thread count does not change them
 * (1 vs 2 with OpenBLAS on one: identical; the rnn and lstm cell loops run on the calling
 * thread, seq_rnn.c says why, so this guards against a threaded loop that would split a
 * sum by thread); OpenBLAS itself is not
 * bitwise independent of its thread count for every shape (its threads split the output
 * into blocks whose edges take other kernels: e.g. 300 x 40 x 192 differs in the last
 * bits), so 1 vs 2 threads in both agree to rounding only. */
static void results_should_not_depend_on_the_thread_count(void **state)
{
    (void)state;
#ifdef _OPENMP
    static const char *specs[] = {"lstm:48,last,lse-class:4", "rnn:64:softplus,mean,lse-class:4",
                                  "lstm:40,rnn:33,last,lse-class:4"};
    const size_t T = 9, d = 7, n = 300;
    const int saved = omp_get_max_threads();
    for (size_t sp = 0; sp < 3; sp++) {
        hj_model m;
        double *x, *y;
        make_seq_problem(specs[sp], T, d, 4, 0.5, 77, n, &m, &x, &y);
        const size_t C = hj_model_n_out(&m), len = 1 + m.arch.n_params + n * m.arch.d_in;
        double *gout = malloc(n * C * sizeof *gout), *r[5];
        for (size_t k = 0; k < n * C; k++)
            gout[k] = (double)(k % 7) - 3.0;
        hj_workspace *ws;
        hj_error err = {0};
        assert_int_equal(hj_workspace_alloc(&ws, &m, n, &err), HJ_OK);
        for (int t = 0; t < 5; t++)
            r[t] = malloc(len * sizeof *r[t]);
        hj_set_threads(1);
        evaluate_all(&m, ws, x, y, gout, n, r[0]);
        evaluate_all(&m, ws, x, y, gout, n, r[1]);
        omp_set_num_threads(2); /* OpenBLAS stays on one thread */
        evaluate_all(&m, ws, x, y, gout, n, r[2]);
        hj_set_threads(2);
        evaluate_all(&m, ws, x, y, gout, n, r[3]);
        evaluate_all(&m, ws, x, y, gout, n, r[4]);
        hj_set_threads((size_t)saved);
        assert_memory_equal(r[0], r[1], len * sizeof *r[0]);
        assert_memory_equal(r[0], r[2], len * sizeof *r[0]);
        assert_memory_equal(r[3], r[4], len * sizeof *r[0]);
        const double scale = fmax(nr_max_abs(r[0] + 1, len - 1), 1e-300);
        for (size_t k = 0; k < len; k++)
            assert_true(fabs(r[0][k] - r[3][k]) <= 1e-12 * (k == 0 ? fabs(r[0][0]) : scale));
        for (int t = 0; t < 5; t++)
            free(r[t]);
        free(gout), free(x), free(y);
        hj_workspace_free(ws);
        hj_model_free(&m);
    }
#else
    skip();
#endif
}

/* ---- initialisation ----------------------------------------------------------- */

/* Weights within +-1/sqrt(H), the lstm's forget-gate biases 1, the rnn's biases 0. */
static void init_should_follow_its_documented_distribution(void **state)
{
    (void)state;
    const size_t T = 3, d = 5, H = 16;
    for (int lstm = 0; lstm < 2; lstm++) {
        hj_arch a;
        hj_model m;
        hj_error err = {0};
        parse_seq(lstm ? "lstm:16,last,lse-class:2" : "rnn:16,last,lse-class:2", T, d, 2, &a);
        assert_int_equal(hj_model_init(&m, &a, 1.0, 1.0, 9, &err), HJ_OK);
        const hj_layer *L = &m.arch.layers[0];
        const double *P = m.params + L->offset, bound = 1.0 / sqrt((double)H);
        const size_t nw = lstm ? 4 * H * (H + d) : H * H + H * d, nb = lstm ? 4 * H : H;
        double mx = 0.0;
        for (size_t k = 0; k < nw; k++)
            mx = fmax(mx, fabs(P[k]));
        assert_true(mx <= bound && mx > 0.8 * bound);
        for (size_t j = 0; j < nb; j++) {
            const int forget = lstm && j >= H && j < 2 * H;
            if (forget)
                assert_true(P[nw + j] == 1.0);
            else if (lstm)
                assert_true(fabs(P[nw + j]) <= bound);
            else
                assert_true(P[nw + j] == 0.0);
        }
        hj_model_free(&m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forward_should_match_the_naive_reference),
        cmocka_unit_test(forward_should_match_pmp_recurrent_states),
        cmocka_unit_test(gradients_should_match_finite_differences),
        cmocka_unit_test(stacked_layers_should_have_exact_gradients),
        cmocka_unit_test(backward_should_match_pmp_bptt),
        cmocka_unit_test(results_should_not_depend_on_the_thread_count),
        cmocka_unit_test(init_should_follow_its_documented_distribution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
