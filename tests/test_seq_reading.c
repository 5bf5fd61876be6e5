/* test_seq_reading.c — the HJ reading of trained-model sequence layers (pmp.h
 * hj_sequence_reading_compute): co-state gradients against the model's reverse mode and
 * against central finite differences of the model's loss; the states against the
 * model's own forward pass; H_k = p_{k+1} . x_{k+1}; refusals; the layer table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/model.h"
#include "hjdl/pmp.h"
#include "hjdl/rng.h"

/* A model of spec on sequences of T steps of d features with C classes, its
 * parameters perturbed away from the initialisation's zeros (biases). */
static void make_model(hj_model *m, const char *spec, size_t T, size_t d, size_t C, double eps, uint64_t seed)
{
    hj_arch a;
    hj_error err = {0};
    assert_int_equal(hj_arch_parse_sequence(spec, T, d, C, 0, &a, &err), HJ_OK);
    assert_int_equal(hj_model_init(m, &a, eps, 1.0, seed, &err), HJ_OK);
    hj_rng rng;
    hj_rng_seed(&rng, seed + 99);
    for (size_t k = 0; k < a.n_params; k++)
        m->params[k] += 0.2 * hj_rng_normal(&rng);
}

static void make_data(double *x, double *y, size_t n, size_t T, size_t d, size_t C, uint64_t seed)
{
    hj_rng rng;
    hj_rng_seed(&rng, seed);
    for (size_t k = 0; k < n * T * d; k++)
        x[k] = hj_rng_normal(&rng);
    for (size_t i = 0; i < n; i++)
        y[i] = (double)(i % C);
}

/* Mean loss of m at its parameters. */
static double loss_at(const hj_model *m, hj_workspace *ws, const double *x, const double *y, size_t n)
{
    double L;
    hj_error err = {0};
    assert_int_equal(hj_model_loss_grad(m, m->params, ws, x, y, n, &L, NULL, &err), HJ_OK);
    return L;
}

/* The reading of layer `layer` of spec: agreements with reverse mode, and with central
 * differences of the model's loss on a spread of the layer's parameters. */
static void check_reading(const char *spec, size_t layer, double eps)
{
    const size_t T = 6, d = 3, C = 3, n = 5;
    hj_model m;
    make_model(&m, spec, T, d, C, eps, 7);
    double x[5 * 6 * 3], y[5];
    make_data(x, y, n, T, d, C, 11);
    hj_sequence_reading r;
    hj_error err = {0};
    hj_status st = hj_sequence_reading_compute(&m, layer, x, y, n, &r, &err);
    if (st != HJ_OK)
        fail_msg("%s: %s", spec, err.msg);
    if (r.grad_rel > 1e-10 || r.gin_rel > 1e-10 || r.out_diff > 1e-12)
        fail_msg("%s: co-state vs reverse mode: parameters %.3g, inputs %.3g, outputs %.3g", spec, r.grad_rel,
                 r.gin_rel, r.out_diff);
    /* H_k = p_{k+1} . F(x_k) = p_{k+1} . x_{k+1} */
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < T; k++) {
            double dot = 0.0;
            for (size_t s = 0; s < r.S; s++)
                dot += r.P[(i * (T + 1) + k + 1) * r.S + s] * r.X[(i * (T + 1) + k + 1) * r.S + s];
            assert_true(fabs(dot - r.H[i * T + k]) <= 1e-12 * (1.0 + fabs(dot)));
        }
    /* finite differences of the loss, independent of both gradients */
    hj_workspace *ws;
    assert_int_equal(hj_workspace_alloc(&ws, &m, n, &err), HJ_OK);
    const hj_layer *L = &m.arch.layers[layer];
    double worst = 0.0, scale = 0.0;
    for (size_t k = 0; k < r.count; k++)
        scale = fmax(scale, fabs(r.grad[k]));
    for (size_t k = 0; k < r.count; k += 1 + r.count / 23) {
        double *p = m.params + L->offset + k, keep = *p, h = 1e-5;
        *p = keep + h;
        double lp = loss_at(&m, ws, x, y, n);
        *p = keep - h;
        double lm = loss_at(&m, ws, x, y, n);
        *p = keep;
        worst = fmax(worst, fabs((lp - lm) / (2 * h) - r.grad[k]));
    }
    if (worst > 1e-7 * fmax(scale, 1e-3))
        fail_msg("%s: co-state gradient vs central differences: %.3g (scale %.3g)", spec, worst, scale);
    assert_true(r.stationarity > 0.0 && isfinite(r.stationarity));
    hj_workspace_free(ws);
    hj_sequence_reading_free(&r);
    hj_model_free(&m);
}

static void test_rnn(void **state)
{
    (void)state;
    check_reading("rnn:4,last,lse-class:2", 0, 1.0);
    check_reading("rnn:4,mean,lse-class:2", 0, 0.5);
    check_reading("rnn:4:softplus,mean,dense:3,lse-class:2", 0, 0.7);
}

static void test_lstm(void **state)
{
    (void)state;
    check_reading("lstm:4,last,lse-class:2", 0, 1.0);
    check_reading("lstm:3,mean,lse-class:2", 0, 0.3);
}

static void test_ssm(void **state)
{
    (void)state;
    check_reading("ssm:4,last,lse-class:2", 0, 1.0);
    check_reading("ssm:5,mean,lse-class:2", 0, 0.4);
}

static void test_stacked(void **state)
{
    (void)state;
    /* the upper layer: its inputs are the lower layer's outputs, its g_k from above */
    check_reading("lstm:3,rnn:4,mean,lse-class:2", 1, 1.0);
    check_reading("rnn:3,ssm:4,last,lse-class:2", 1, 0.8);
    check_reading("ssm:4,lstm:3,last,lse-class:2", 0, 0.8);
}

static void test_refusals(void **state)
{
    (void)state;
    hj_model m;
    make_model(&m, "attn:4,last,lse-class:2", 6, 3, 2, 1.0, 3);
    double x[2 * 18], y[2] = {0, 1};
    make_data(x, y, 2, 6, 3, 2, 5);
    hj_sequence_reading r;
    hj_error err = {0};
    assert_int_equal(hj_sequence_reading_compute(&m, 0, x, y, 2, &r, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "depth"));
    assert_int_equal(hj_sequence_reading_compute(&m, 1, x, y, 2, &r, &err), HJ_EINVAL); /* the pool */
    assert_int_equal(hj_sequence_reading_compute(&m, 9, x, y, 2, &r, &err), HJ_EINVAL);
    x[7] = NAN;
    hj_model_free(&m);
    make_model(&m, "rnn:4,last,lse-class:2", 6, 3, 2, 1.0, 3);
    assert_int_equal(hj_sequence_reading_compute(&m, 0, x, y, 2, &r, &err), HJ_ENAN);
    assert_null(r.X);
    hj_model_free(&m);
}

/* hj_model_classify: the argmax of the class scores, chunk by chunk (n > its chunk of
 * 1024), against the scores of one hj_model_forward; regression refused. */
static void test_classify(void **state)
{
    (void)state;
    hj_model m;
    make_model(&m, "rnn:3,mean,lse-class:2", 2, 2, 3, 0.5, 17);
    const size_t n = 1500;
    double *x = malloc(n * 4 * sizeof *x), *y = malloc(n * sizeof *y), *cls = malloc(n * sizeof *cls);
    double *out = malloc(n * 3 * sizeof *out);
    assert_true(x && y && cls && out);
    make_data(x, y, n, 2, 2, 3, 19);
    hj_error err = {0};
    hj_workspace *ws;
    assert_int_equal(hj_workspace_alloc(&ws, &m, n, &err), HJ_OK);
    assert_int_equal(hj_model_forward(&m, ws, x, n, out, &err), HJ_OK);
    assert_int_equal(hj_model_classify(&m, x, n, cls, &err), HJ_OK);
    size_t seen[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        const double *o = out + 3 * i;
        const size_t a = o[0] >= o[1] && o[0] >= o[2] ? 0 : o[1] >= o[2] ? 1 : 2;
        assert_true(cls[i] == (double)a);
        seen[a]++;
    }
    assert_true(seen[0] + seen[1] + seen[2] == n);
    hj_workspace_free(ws);
    hj_model_free(&m);
    make_model(&m, "rnn:3,mean,lse:2", 2, 2, 0, 0.5, 17);
    assert_int_equal(hj_model_classify(&m, x, n, cls, &err), HJ_EINVAL);
    hj_model_free(&m);
    free(x), free(y), free(cls), free(out);
}

static void test_table(void **state)
{
    (void)state;
    for (int k = HJ_LAYER_DENSE; k <= HJ_LAYER_POOL_MEAN; k++) {
        const hj_layer_reading *row = hj_layer_reading_of((hj_layer_kind)k);
        assert_non_null(row);
        assert_int_equal(row->kind, k);
        assert_true(strlen(row->state) > 0 && strlen(row->hamiltonian) > 0 && strlen(row->costate) > 0 &&
                    strlen(row->viscosity) > 0);
    }
    assert_null(hj_layer_reading_of((hj_layer_kind)99));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rnn),     cmocka_unit_test(test_lstm),      cmocka_unit_test(test_ssm),
        cmocka_unit_test(test_stacked), cmocka_unit_test(test_refusals), cmocka_unit_test(test_table),
        cmocka_unit_test(test_classify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
