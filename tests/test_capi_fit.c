/* test_capi_fit.c — hj_capi_model_fit, _layer, _name, _target_scaling and _parse (capi.h)
 * against independent computations: hand-standardised targets, hand-counted layouts, a file
 * round trip. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hjdl/capi.h"
#include "naive_ref.h"

/* A 1-D regression set far from unit scale: x (n, 1), y (n). */
static void regression_data(size_t n, double *x, double *y)
{
    nr_rng r;
    nr_seed(&r, 5);
    for (size_t i = 0; i < n; i++) {
        x[i] = nr_unif(&r, -1.0, 1.0);
        y[i] = 50.0 + 20.0 * fabs(x[i]);
    }
}

/* Target scaling: the same model as hj_model_fit on targets standardised by hand, with the
 * mean and sample sd of both splits stored; validation keeps the best step. */
static void test_fit_scales_the_target_as_hjdl_fit(void **state)
{
    (void)state;
    enum { n = 30, nv = 10 };
    double x[n + nv], y[n + nv], ys[n + nv];
    regression_data(n + nv, x, y);
    double mu = 0.0, var = 0.0;
    for (size_t i = 0; i < n + nv; i++)
        mu += y[i];
    mu /= n + nv;
    for (size_t i = 0; i < n + nv; i++)
        var += (y[i] - mu) * (y[i] - mu);
    const double sd = sqrt(var / (n + nv - 1));
    for (size_t i = 0; i < n + nv; i++)
        ys[i] = (y[i] - mu) / sd;
    hj_error err = {0};
    hj_model *a = NULL, *b = NULL;
    assert_int_equal(hj_capi_model_create(&a, "lse:4", 1, 0, 1, 0.1, 1.0, 2, HJ_PRE_NONE, 0, NULL, 0, &err), HJ_OK);
    assert_int_equal(hj_capi_model_create(&b, "lse:4", 1, 0, 1, 0.1, 1.0, 2, HJ_PRE_NONE, 0, NULL, 0, &err), HJ_OK);
    hj_train_options o;
    hj_train_options_default(&o);
    o.iters = 60, o.lr = 0.05;
    double vl = 0.0;
    size_t best = 0;
    hj_train_result ra = {0};
    assert_int_equal(hj_capi_model_fit(a, x, y, n, x + n, y + n, nv, &o, 0.01, 5, 0, NULL, 0, 1, &ra, &vl, &best,
                                       &err), HJ_OK);
    hj_fit_options fo;
    hj_fit_options_default(&fo);
    fo.weight_decay = 0.01, fo.val_every = 5, fo.x_val = x + n, fo.y_val = ys + n, fo.n_val = nv;
    double vl2 = 0.0;
    size_t best2 = 0;
    assert_int_equal(hj_model_fit(b, x, ys, n, &o, &fo, NULL, &vl2, &best2, &err), HJ_OK);
    double shift = 0.0, scale = 0.0;
    hj_capi_model_target_scaling(a, &shift, &scale);
    assert_true(fabs(shift - mu) <= 1e-12 * mu && fabs(scale - sd) <= 1e-12 * sd);
    double pa[10], pb[10];   /* lse:4 on 1 input: 4 + 4, then a, c */
    assert_int_equal(hj_capi_model_get_params(a, pa, 10, &err), HJ_OK);
    assert_int_equal(hj_capi_model_get_params(b, pb, 10, &err), HJ_OK);
    for (size_t i = 0; i < 10; i++)
        assert_true(fabs(pa[i] - pb[i]) <= 1e-9 * (1.0 + fabs(pb[i])));
    assert_true(fabs(vl - vl2) <= 1e-9 * vl2 && best == best2 && best % 5 == 0 && best <= ra.steps);
    hj_capi_free(ra.loss_trace);
    /* predictions are in the user's units: shift + scale * (a f + c) */
    double p = 0.0;
    assert_int_equal(hj_model_predict(a, x, 1, &p, &err), HJ_OK);
    assert_true(fabs(p - y[0]) < 0.2 * sd);
    /* eps auto needs the validation split; missing data is refused */
    const double grid[] = {0.05, 0.5};
    assert_int_equal(hj_capi_model_fit(a, x, y, n, NULL, NULL, 0, &o, 0.0, 0, 0, grid, 2, 1, NULL, NULL, NULL, &err),
                     HJ_EINVAL);
    assert_int_equal(hj_capi_model_fit(a, x, y, 0, NULL, NULL, 0, &o, 0.0, 0, 0, NULL, 0, 1, NULL, NULL, NULL, &err),
                     HJ_EINVAL);
    assert_int_equal(hj_capi_model_fit(a, x, y, n, x, y, nv, &o, 0.0, 0, 0, grid, 2, 1, NULL, &vl, NULL, &err), HJ_OK);
    double e = 0.0;
    hj_capi_model_info info;
    hj_capi_model_info_get(a, &info);
    e = info.eps;
    assert_true(e == 0.05 || e == 0.5);
    hj_capi_model_delete(a);
    hj_capi_model_delete(b);
}

/* The layout of dense:3,gibbs:2,lse:4 on 2 inputs with the output scale, counted by hand. */
static void test_layer_layout(void **state)
{
    (void)state;
    hj_error err = {0};
    hj_model *m = NULL;
    assert_int_equal(hj_capi_model_create(&m, "dense:3,gibbs:2,lse:4", 2, 0, 1, 0.1, 1.0, 1, HJ_PRE_NONE, 0, NULL, 0,
                                          &err), HJ_OK);
    const size_t want[3][6] = {{HJ_LAYER_DENSE, 3, 2, 3, 0, 3 * 2 + 3},
                               {HJ_LAYER_GIBBS, 2, 3, 3, 9, 2 * 3 + 2 + 2 * 3},
                               {HJ_LAYER_LSE, 4, 3, 1, 23, 4 * 3 + 4}};
    for (size_t k = 0; k < 3; k++) {
        size_t got[6];
        assert_int_equal(hj_capi_model_layer(m, k, got, &err), HJ_OK);
        for (size_t j = 0; j < 6; j++)
            assert_int_equal(got[j], want[k][j]);
    }
    size_t got[6];
    assert_int_equal(hj_capi_model_layer(m, 3, got, &err), HJ_ERANGE);
    assert_non_null(strstr(err.msg, "3 layers"));
    hj_capi_model_info info;
    hj_capi_model_info_get(m, &info);
    assert_int_equal(info.n_params, 39 + 2);
    hj_capi_model_delete(m);
}

/* Names: NULL until set; the strings set, by index; out of range NULL. */
static void test_names(void **state)
{
    (void)state;
    hj_error err = {0};
    hj_model *m = NULL;
    assert_int_equal(hj_capi_model_create(&m, "lse-class:2", 2, 3, 0, 0.1, 1.0, 1, HJ_PRE_NONE, 0, NULL, 0, &err),
                     HJ_OK);
    assert_null(hj_capi_model_name(m, 0, 0));
    assert_null(hj_capi_model_name(m, 1, 0));
    assert_null(hj_capi_model_name(m, 2, 0));
    const char *const f[] = {"u", "v"}, *const l[] = {"cat", "dog", "eel"};
    assert_int_equal(hj_model_set_names(m, f, "animal", l, &err), HJ_OK);
    assert_string_equal(hj_capi_model_name(m, 0, 1), "v");
    assert_string_equal(hj_capi_model_name(m, 1, 7), "animal");
    assert_string_equal(hj_capi_model_name(m, 2, 2), "eel");
    assert_null(hj_capi_model_name(m, 0, 2));
    assert_null(hj_capi_model_name(m, 2, 3));
    assert_null(hj_capi_model_name(m, 5, 0));
    assert_null(hj_capi_model_name(NULL, 0, 0));
    hj_capi_model_delete(m);
}

/* Parse: the bytes of a saved file give the same model; broken text is refused by name. */
static void test_parse_round_trip(void **state)
{
    (void)state;
    hj_error err = {0};
    hj_model *m = NULL, *back = NULL;
    assert_int_equal(hj_capi_model_create(&m, "dense:2,lse:3", 2, 0, 0, 0.3, 2.0, 9, HJ_PRE_NONE, 0, NULL, 0, &err),
                     HJ_OK);
    char path[] = "/tmp/hjdl-capi-fit-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(hj_model_save(m, path, &err), HJ_OK);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char text[8192];
    size_t len = fread(text, 1, sizeof text, f);
    fclose(f);
    unlink(path);
    assert_true(len > 0 && len < sizeof text);
    assert_int_equal(hj_capi_model_parse(&back, text, len, "buf", &err), HJ_OK);
    hj_capi_model_info ia, ib;
    hj_capi_model_info_get(m, &ia);
    hj_capi_model_info_get(back, &ib);
    assert_true(ia.n_params == ib.n_params && ia.eps == ib.eps && ia.t == ib.t);
    double pa[15], pb[15];   /* dense:2 (2*2 + 2), lse:3 (3*2 + 3) */
    assert_int_equal(ia.n_params, 15);
    assert_int_equal(hj_capi_model_get_params(m, pa, 15, &err), HJ_OK);
    assert_int_equal(hj_capi_model_get_params(back, pb, 15, &err), HJ_OK);
    assert_memory_equal(pa, pb, sizeof pa);
    hj_capi_model_delete(back);
    back = m; /* must be reset to NULL on failure */
    assert_int_not_equal(hj_capi_model_parse(&back, text, len / 2, "half", &err), HJ_OK);
    assert_null(back);
    assert_non_null(strstr(err.msg, "half"));
    assert_int_equal(hj_capi_model_parse(NULL, text, len, "x", &err), HJ_EINVAL);
    assert_int_not_equal(hj_capi_model_parse(&back, NULL, 0, NULL, &err), HJ_OK);
    hj_capi_model_delete(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_scales_the_target_as_hjdl_fit),
        cmocka_unit_test(test_layer_layout),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_parse_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
