/* test_capi.c — the binding helpers of capi.h against independent computations (naive references, finite differences, hand-counted sizes). */
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
#include "hjdl/entropy.h"
#include "hjdl/landscape.h"
#include "hjdl/robust.h"
#include "naive_ref.h"

/* ---- sizes ------------------------------------------------------------------------ */

static void test_sizeof_table(void **state)
{
    (void)state;
    assert_int_equal(hj_capi_sizeof("hj_error"), sizeof(int) + HJ_ERROR_MSG_LEN);
    assert_int_equal(hj_capi_sizeof("hj_lse_layer"), 2 * sizeof(size_t) + 2 * sizeof(void *) + sizeof(double));
    assert_int_equal(hj_capi_sizeof("hj_atoms"), 2 * sizeof(size_t) + 2 * sizeof(void *));
    assert_int_equal(hj_capi_sizeof("hj_hc_out"), 8 * sizeof(double *));
    assert_int_equal(hj_capi_sizeof("hj_certificate"), 2 * sizeof(size_t) + 2 * sizeof(double));
    assert_int_equal(hj_capi_sizeof("hj_capi_model_info"), 8 * sizeof(size_t) + 2 * sizeof(int) + 2 * sizeof(double));
    assert_int_equal(hj_capi_sizeof("hj_train_options"), sizeof(hj_train_options));
    assert_int_equal(hj_capi_sizeof("hj_bifurcation"), sizeof(hj_bifurcation));
    assert_int_equal(hj_capi_sizeof("hj_model"), 0);   /* deliberately opaque */
    assert_int_equal(hj_capi_sizeof("nonsense"), 0);
    assert_int_equal(hj_capi_sizeof(NULL), 0);
    hj_capi_free(NULL);
}

/* ---- models ------------------------------------------------------------------------ */

static void test_model_create_info_params(void **state)
{
    (void)state;
    const size_t N = 5, d = 3;
    hj_model *m = NULL;
    hj_error err = {0};
    assert_int_equal(hj_capi_model_create(&m, "lse:5", d, 0, 0, 0.25, 0.75, 7, HJ_PRE_NONE, 0, NULL, 0, &err), HJ_OK);
    assert_non_null(m);
    hj_capi_model_info info;
    hj_capi_model_info_get(m, &info);
    assert_int_equal(info.d_raw, d);
    assert_int_equal(info.d_in, d);
    assert_int_equal(info.n_out, 1);
    assert_int_equal(info.n_classes, 0);
    assert_int_equal(info.n_params, N * d + N);   /* w (N, d) then b (N) */
    assert_int_equal(info.n_layers, 1);
    assert_int_equal(info.n_atoms, N);
    assert_int_equal(info.atom_dim, d);
    assert_int_equal(info.pre_kind, HJ_PRE_NONE);
    assert_true(info.eps == 0.25 && info.t == 0.75);
    char buf[64];
    hj_capi_model_arch(m, buf, sizeof buf);
    assert_string_equal(buf, "lse:5");

    double p[20], q[20];
    assert_int_equal(hj_capi_model_get_params(m, p, 19, &err), HJ_ESHAPE);
    assert_int_equal(hj_capi_model_get_params(m, p, 20, &err), HJ_OK);
    for (size_t i = 0; i < 20; i++)
        q[i] = 0.01 * (double)i - 0.1;
    assert_int_equal(hj_capi_model_set_params(m, q, 20, &err), HJ_OK);
    /* the model now is the layer (q[0..15) as w, q[15..20) as b): predictions by the naive LSE */
    const double x[2 * 3] = {0.3, -0.2, 1.0, -1.5, 0.4, 0.0};
    double out[2];
    assert_int_equal(hj_model_predict(m, x, 2, out, &err), HJ_OK);
    for (size_t i = 0; i < 2; i++) {
        long double f;
        nr_lse_layer(q, q + N * d, N, d, 0.25, x + i * d, &f, NULL, NULL, NULL);
        assert_true(fabs(out[i] - (double)f) <= 1e-14 * (1.0 + fabs((double)f)));
    }
    /* a non-finite entry is refused and leaves the parameters as they were */
    double bad[20];
    memcpy(bad, q, sizeof bad);
    bad[7] = NAN;
    assert_int_equal(hj_capi_model_set_params(m, bad, 20, &err), HJ_ENAN);
    assert_int_equal(hj_capi_model_get_params(m, p, 20, &err), HJ_OK);
    assert_memory_equal(p, q, sizeof q);
    hj_capi_model_delete(m);
    hj_capi_model_delete(NULL);

    m = (hj_model *)&err;   /* must be reset to NULL on failure */
    assert_int_equal(hj_capi_model_create(&m, "resnet:4,lse:3", 2, 0, 0, 0.1, 1.0, 1, HJ_PRE_NONE, 0, NULL, 0, &err),
                     HJ_EINVAL);
    assert_null(m);
    assert_non_null(strstr(err.msg, "resnet:4,lse:3"));
    assert_int_equal(hj_capi_model_create(&m, "lse:3", 2, 0, 0, 0.1, 1.0, 1, HJ_PRE_PCA, 1, NULL, 0, &err), HJ_EINVAL);
    assert_null(m);
}

/* Training on raw inputs with standardisation = standardising by hand (mean and population
 * standard deviation computed here) and training a no-preprocessing model on the result. */
static void test_train_raw_equals_manual_preprocessing(void **state)
{
    (void)state;
    const size_t n = 40, d = 2;
    nr_rng r;
    nr_seed(&r, 11);
    double *x = nr_xmalloc(n * d * sizeof *x), *xs = nr_xmalloc(n * d * sizeof *xs), *y = nr_xmalloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        x[i * d] = nr_unif(&r, 2.0, 6.0);
        x[i * d + 1] = nr_unif(&r, -30.0, 10.0);
        y[i] = sin(x[i * d]) + 0.01 * x[i * d + 1];
    }
    for (size_t k = 0; k < d; k++) {
        double mu = 0.0, var = 0.0;
        for (size_t i = 0; i < n; i++)
            mu += x[i * d + k];
        mu /= (double)n;
        for (size_t i = 0; i < n; i++)
            var += (x[i * d + k] - mu) * (x[i * d + k] - mu);
        const double sd = sqrt(var / (double)n);
        for (size_t i = 0; i < n; i++)
            xs[i * d + k] = (x[i * d + k] - mu) / sd;
    }
    hj_error err = {0};
    hj_model *a = NULL, *b = NULL;
    assert_int_equal(hj_capi_model_create(&a, "lse:4", d, 0, 0, 0.2, 1.0, 3, HJ_PRE_STANDARDIZE, 0, x, n, &err), HJ_OK);
    assert_int_equal(hj_capi_model_create(&b, "lse:4", d, 0, 0, 0.2, 1.0, 3, HJ_PRE_NONE, 0, NULL, 0, &err), HJ_OK);
    hj_train_options o;
    hj_train_options_default(&o);
    o.iters = 30;
    o.lr = 0.01;
    hj_train_result ra = {0}, rb = {0};
    assert_int_equal(hj_capi_model_train(a, x, y, n, &o, &ra, &err), HJ_OK);
    assert_int_equal(hj_capi_model_train(b, xs, y, n, &o, &rb, &err), HJ_OK);
    assert_int_equal(ra.steps, 30);
    assert_non_null(ra.loss_trace);
    double pa[12], pb[12];
    assert_int_equal(hj_capi_model_get_params(a, pa, 12, &err), HJ_OK);
    assert_int_equal(hj_capi_model_get_params(b, pb, 12, &err), HJ_OK);
    for (size_t i = 0; i < 12; i++)
        assert_true(fabs(pa[i] - pb[i]) <= 1e-9 * (1.0 + fabs(pb[i])));
    assert_true(fabs(ra.final_loss - rb.final_loss) <= 1e-9 * rb.final_loss);
    hj_capi_free(ra.loss_trace);
    hj_capi_free(rb.loss_trace);
    assert_int_equal(hj_capi_model_train(a, x, y, 0, &o, NULL, &err), HJ_EINVAL);
    hj_capi_model_delete(a);
    hj_capi_model_delete(b);
    free(x), free(xs), free(y);
}

/* Explain of an lse:N model = the naive Gibbs weights of its parameters, sorted by hand. */
static void test_model_explain_topk(void **state)
{
    (void)state;
    const size_t N = 7, d = 2, n = 5, K = 3;
    const double eps = 0.3;
    hj_error err = {0};
    hj_model *m = NULL;
    assert_int_equal(hj_capi_model_create(&m, "lse:7", d, 0, 0, eps, 1.0, 5, HJ_PRE_NONE, 0, NULL, 0, &err), HJ_OK);
    nr_rng r;
    nr_seed(&r, 3);
    double p[21], x[10];
    nr_fill_normal(&r, p, 21, 1.0);
    nr_fill_normal(&r, x, 10, 1.0);
    assert_int_equal(hj_capi_model_set_params(m, p, 21, &err), HJ_OK);
    hj_explain ex[5];
    double pt[15];
    size_t it[15];
    assert_int_equal(hj_capi_model_explain(m, x, n, K, ex, pt, it, &err), HJ_OK);
    for (size_t i = 0; i < n; i++) {
        long double f, pi[7];
        nr_lse_layer(p, p + N * d, N, d, eps, x + i * d, &f, pi, NULL, NULL);
        int used[7] = {0};
        for (size_t k = 0; k < K; k++) {   /* k-th largest by selection */
            size_t best = N;
            for (size_t j = 0; j < N; j++)
                if (!used[j] && (best == N || pi[j] > pi[best]))
                    best = j;
            used[best] = 1;
            assert_int_equal(it[i * K + k], best);
            assert_true(fabsl(pt[i * K + k] - pi[best]) <= 1e-13L);
        }
        long double H = nr_entropy(pi, N);
        assert_true(fabsl(ex[i].entropy - H) <= 1e-12L);
        assert_true(fabs(ex[i].n_eff - exp(ex[i].entropy)) <= 1e-12 * ex[i].n_eff);
    }
    assert_int_equal(hj_capi_model_explain(m, x, n, N + 1, ex, pt, it, &err), HJ_EINVAL);
    x[3] = NAN;
    assert_int_equal(hj_capi_model_explain(m, x, n, K, ex, pt, it, &err), HJ_ENAN);
    hj_capi_model_delete(m);
}

static void test_model_load_errors(void **state)
{
    (void)state;
    hj_error err = {0};
    hj_model *m = (hj_model *)&err;
    assert_int_equal(hj_capi_model_load(&m, "/nonexistent/dir/model.hjm", &err), HJ_EIO);
    assert_null(m);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/model.hjm"));
    /* save + load round trip */
    char path[] = "/tmp/hjdl_capi_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    hj_model *a = NULL;
    assert_int_equal(hj_capi_model_create(&a, "lse:3", 2, 0, 1, 0.5, 2.0, 9, HJ_PRE_NONE, 0, NULL, 0, &err), HJ_OK);
    assert_int_equal(hj_model_save(a, path, &err), HJ_OK);
    assert_int_equal(hj_capi_model_load(&m, path, &err), HJ_OK);
    hj_capi_model_info ia, ib;
    hj_capi_model_info_get(a, &ia);
    hj_capi_model_info_get(m, &ib);
    assert_int_equal(ib.n_params, 3 * 2 + 3 + 2);   /* with the output scale a, c */
    assert_int_equal(ib.output_scale, 1);
    assert_memory_equal(&ia, &ib, sizeof ia);
    double pa[11], pb[11];
    assert_int_equal(hj_capi_model_get_params(a, pa, 11, &err), HJ_OK);
    assert_int_equal(hj_capi_model_get_params(m, pb, 11, &err), HJ_OK);
    assert_memory_equal(pa, pb, sizeof pa);
    hj_capi_model_delete(a);
    hj_capi_model_delete(m);
    unlink(path);
}

/* ---- batches ------------------------------------------------------------------------ */

static void test_entropy_grad_batch(void **state)
{
    (void)state;
    const size_t N = 6, d = 3, n = 4;
    const double eps = 0.5, h = 1e-5;
    nr_rng r;
    nr_seed(&r, 5);
    double w[18], b[6], x[12], H[4], G[12];
    nr_fill_normal(&r, w, N * d, 1.0);
    nr_fill_normal(&r, b, N, 1.0);
    nr_fill_normal(&r, x, n * d, 1.0);
    hj_lse_layer L = {N, d, w, b, eps};
    hj_error err = {0};
    assert_int_equal(hj_capi_entropy_grad(&L, x, n, H, G, &err), HJ_OK);
    for (size_t i = 0; i < n; i++) {
        assert_true(fabsl(H[i] - nr_layer_entropy(w, b, N, d, eps, x + i * d)) <= 1e-12L);
        for (size_t k = 0; k < d; k++) {
            double xp[3], xm[3];
            memcpy(xp, x + i * d, sizeof xp);
            memcpy(xm, x + i * d, sizeof xm);
            xp[k] += h;
            xm[k] -= h;
            const double fd = (double)(nr_layer_entropy(w, b, N, d, eps, xp) - nr_layer_entropy(w, b, N, d, eps, xm)) / (2 * h);
            assert_true(fabs(G[i * d + k] - fd) <= 1e-7 * (1.0 + fabs(fd)));
        }
    }
    assert_int_equal(hj_capi_entropy_grad(&L, x, n, H, NULL, &err), HJ_OK);
    x[5] = INFINITY;
    assert_int_equal(hj_capi_entropy_grad(&L, x, n, H, G, &err), HJ_ENAN);
    assert_non_null(strstr(err.msg, "point 1"));
}

/* ---- experiments --------------------------------------------------------------------- */

static void test_experiment_unknown_name(void **state)
{
    (void)state;
    hj_experiment_options o;
    hj_experiment_options_default(&o);
    hj_error err = {0};
    assert_int_equal(hj_capi_experiment_run("no-such-experiment", &o, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "no-such-experiment"));
    assert_non_null(strstr(err.msg, hj_experiment_at(0)->name));
    assert_int_equal(hj_capi_experiment_run(NULL, &o, &err), HJ_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizeof_table),
        cmocka_unit_test(test_model_create_info_params),
        cmocka_unit_test(test_train_raw_equals_manual_preprocessing),
        cmocka_unit_test(test_model_explain_topk),
        cmocka_unit_test(test_model_load_errors),
        cmocka_unit_test(test_entropy_grad_batch),
        cmocka_unit_test(test_experiment_unknown_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
