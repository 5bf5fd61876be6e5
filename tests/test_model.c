/* test_model.c — every layer's exact gradient vs central finite differences; readout attribution and initial data. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hjdl/hopf.h"
#include "hjdl/model.h"
#include "hjdl/rng.h"

/* Build a model for arch on d inputs (C classes), random data x (n, d), y (n). */
static void make_problem(const char *spec, size_t d, size_t C, int scale, double eps, uint64_t seed,
                         size_t n, hj_model *m, double **x, double **y)
{
    hj_arch arch;
    hj_error err = {0};
    assert_int_equal(hj_arch_parse(spec, d, C, scale, &arch, &err), HJ_OK);
    assert_int_equal(hj_model_init(m, &arch, eps, 0.8, seed, &err), HJ_OK);
    hj_rng r;
    hj_rng_seed(&r, seed + 17);
    /* perturb every parameter so biases and output scale are exercised too */
    for (size_t k = 0; k < arch.n_params; k++)
        m->params[k] += 0.3 * hj_rng_normal(&r);
    *x = malloc(n * d * sizeof **x);
    *y = malloc(n * sizeof **y);
    for (size_t i = 0; i < n * d; i++)
        (*x)[i] = hj_rng_range(&r, -1.5, 1.5);
    for (size_t i = 0; i < n; i++)
        (*y)[i] = C ? (double)(hj_rng_next(&r) % C) : hj_rng_normal(&r);
}

/* Max relative difference between the analytic gradient and central differences. */
static double gradient_error(hj_model *m, const double *x, const double *y, size_t n)
{
    hj_workspace *ws;
    hj_error err = {0};
    assert_int_equal(hj_workspace_alloc(&ws, m, n, &err), HJ_OK);
    const size_t P = m->arch.n_params;
    double *g = malloc(P * sizeof *g), loss, lp, lm, worst = 0.0, gmax = 0.0;
    assert_int_equal(hj_model_loss_grad(m, m->params, ws, x, y, n, &loss, g, &err), HJ_OK);
    for (size_t k = 0; k < P; k++)
        gmax = fmax(gmax, fabs(g[k]));
    for (size_t k = 0; k < P; k++) {
        double save = m->params[k], h = 1e-5 * fmax(1.0, fabs(save));
        m->params[k] = save + h;
        assert_int_equal(hj_model_loss_grad(m, m->params, ws, x, y, n, &lp, NULL, &err), HJ_OK);
        m->params[k] = save - h;
        assert_int_equal(hj_model_loss_grad(m, m->params, ws, x, y, n, &lm, NULL, &err), HJ_OK);
        m->params[k] = save;
        double fd = (lp - lm) / (2.0 * h);
        worst = fmax(worst, fabs(fd - g[k]) / fmax(gmax, 1e-8));
    }
    free(g);
    hj_workspace_free(ws);
    return worst;
}

static void check_arch(const char *spec, size_t d, size_t C, int scale, double eps)
{
    hj_model m;
    double *x, *y;
    make_problem(spec, d, C, scale, eps, 42, 23, &m, &x, &y);
    double e = gradient_error(&m, x, y, 23);
    if (!(e < 1e-7))
        fail_msg("%s (d=%zu C=%zu scale=%d eps=%g): gradient vs finite differences %.3e", spec, d, C,
                 scale, eps, e);
    free(x), free(y);
    hj_model_free(&m);
}

static void every_layer_gradient_should_match_finite_differences(void **state)
{
    (void)state;
    static const double eps_list[] = {0.25, 1.0, 3.0};
    for (size_t e = 0; e < 3; e++) {
        double eps = eps_list[e];
        check_arch("lse:7", 3, 0, 0, eps);
        check_arch("lse:7", 3, 0, 1, eps);
        check_arch("lse-class:4", 3, 3, 0, eps);
        check_arch("dense:5,lse:6", 2, 0, 0, eps);
        check_arch("dense:4,resnet:4,resnet:4,lse:5", 3, 0, 0, eps);
        check_arch("gibbs:6,lse:5", 3, 0, 0, eps);
        check_arch("dense:6,gibbs:5,lse-class:3", 4, 4, 0, eps);
        check_arch("dense:12,resnet:12,gibbs:16,lse:16", 2, 0, 1, eps);
    }
}

/* A single lse:N model is the Hopf–Cole solution of its initial data:
 * f(x) + u(x, t) = |x|^2/(4t) with u from hopf.h on the exported atoms. */
static void lse_model_should_equal_hopf_cole_of_its_initial_data(void **state)
{
    (void)state;
    hj_model m;
    double *x, *y;
    const size_t n = 40, d = 3, N = 9;
    make_problem("lse:9", d, 0, 0, 0.37, 5, n, &m, &x, &y);
    hj_error err = {0};
    double *f = malloc(n * sizeof *f), *u = malloc(n * sizeof *u);
    double *ya = malloc(N * d * sizeof *ya), *ga = malloc(N * sizeof *ga);
    assert_int_equal(hj_model_predict(&m, x, n, f, &err), HJ_OK);
    assert_int_equal(hj_model_initial_data(&m, 0.0, ya, ga, &err), HJ_OK);
    hj_atoms atoms = {N, d, ya, ga};
    hj_hc_out out = {0};
    out.u = u;
    assert_int_equal(hj_hopf_cole_eval(&atoms, NULL, x, n, m.t, m.eps, &out, &err), HJ_OK);
    for (size_t i = 0; i < n; i++) {
        double q = 0.0;
        for (size_t k = 0; k < d; k++)
            q += x[i * d + k] * x[i * d + k];
        q /= 4.0 * m.t;
        assert_true(fabs(f[i] + u[i] - q) <= 1e-12 * fmax(1.0, fabs(q)));
    }
    free(f), free(u), free(ya), free(ga), free(x), free(y);
    hj_model_free(&m);
}

/* Attribution: top-K of the readout Gibbs weights, against a naive softmax + sort. */
static void attribution_should_be_the_largest_gibbs_weights(void **state)
{
    (void)state;
    hj_model m;
    double *x, *y;
    const size_t n = 15, d = 2, N = 11, K = 4;
    make_problem("lse:11", d, 0, 0, 0.5, 9, n, &m, &x, &y);
    hj_workspace *ws;
    hj_error err = {0};
    assert_int_equal(hj_workspace_alloc(&ws, &m, 4, &err), HJ_OK); /* forces chunking */
    double pt[15 * 4];
    size_t it[15 * 4];
    assert_int_equal(hj_model_attribution(&m, ws, x, n, K, pt, it, &err), HJ_OK);
    const double *w = m.params, *b = m.params + N * d;
    for (size_t i = 0; i < n; i++) {
        double z[11], zmax = -INFINITY, s = 0.0, p[11];
        for (size_t j = 0; j < N; j++) {
            z[j] = b[j] + w[j * d] * x[i * d] + w[j * d + 1] * x[i * d + 1];
            zmax = fmax(zmax, z[j]);
        }
        for (size_t j = 0; j < N; j++)
            s += p[j] = exp((z[j] - zmax) / m.eps);
        for (size_t j = 0; j < N; j++)
            p[j] /= s;
        for (size_t k = 0; k < K; k++) {
            /* the k-th largest by counting */
            size_t j = it[i * K + k], larger = 0;
            for (size_t q = 0; q < N; q++)
                larger += p[q] > p[j];
            assert_int_equal(larger, k);
            assert_true(fabs(pt[i * K + k] - p[j]) < 1e-14);
        }
    }
    assert_int_not_equal(hj_model_attribution(&m, ws, x, n, N + 1, pt, it, &err), HJ_OK);
    hj_workspace_free(ws);
    free(x), free(y);
    hj_model_free(&m);
}

static void impossible_architectures_should_be_refused_with_reasons(void **state)
{
    (void)state;
    hj_arch a;
    hj_error err = {0};
    assert_int_equal(hj_arch_parse("resnet:12,lse:4", 2, 0, 0, &a, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "keeps its width"));
    assert_int_equal(hj_arch_parse("dense:4", 2, 0, 0, &a, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "readout"));
    assert_int_equal(hj_arch_parse("lse:4,dense:3", 2, 0, 0, &a, &err), HJ_EINVAL);
    assert_int_equal(hj_arch_parse("lse:0", 2, 0, 0, &a, &err), HJ_EINVAL);
    assert_int_equal(hj_arch_parse("lse:x", 2, 0, 0, &a, &err), HJ_EINVAL);
    assert_int_equal(hj_arch_parse("conv:3,lse:4", 2, 0, 0, &a, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "unknown layer"));
    assert_int_equal(hj_arch_parse("lse:4", 2, 10, 0, &a, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "lse-class"));
    assert_int_equal(hj_arch_parse("lse-class:4", 2, 0, 0, &a, &err), HJ_EINVAL);
    assert_int_equal(hj_arch_parse("lse:4,", 2, 0, 0, &a, &err), HJ_EINVAL);
    assert_int_equal(hj_arch_parse("", 2, 0, 0, &a, &err), HJ_EINVAL);
    assert_int_equal(hj_arch_parse("dense:12,resnet:12,gibbs:16,lse:16", 2, 0, 0, &a, &err), HJ_OK);
    char buf[64];
    hj_arch_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "dense:12,resnet:12,gibbs:16,lse:16");
    /* parameter count by hand: dense 12*2+12, resnet 12*12+12, gibbs 16*12*2+16, lse 16*12+16 */
    assert_int_equal(a.n_params, 36 + 156 + 400 + 208);
}

static void bad_labels_and_nan_inputs_should_be_refused(void **state)
{
    (void)state;
    hj_model m;
    double *x, *y;
    make_problem("lse-class:3", 2, 3, 0, 1.0, 3, 5, &m, &x, &y);
    hj_workspace *ws;
    hj_error err = {0};
    double loss;
    assert_int_equal(hj_workspace_alloc(&ws, &m, 5, &err), HJ_OK);
    y[2] = 3.0;
    assert_int_equal(hj_model_loss_grad(&m, m.params, ws, x, y, 5, &loss, NULL, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "label"));
    y[2] = 1.5;
    assert_int_equal(hj_model_loss_grad(&m, m.params, ws, x, y, 5, &loss, NULL, &err), HJ_EINVAL);
    y[2] = 1.0;
    x[3] = NAN;
    assert_int_equal(hj_model_loss_grad(&m, m.params, ws, x, y, 5, &loss, NULL, &err), HJ_ENAN);
    assert_int_equal(hj_model_loss_grad(&m, m.params, ws, x, y, 6, &loss, NULL, &err), HJ_EINVAL);
    hj_workspace_free(ws);
    free(x), free(y);
    hj_model_free(&m);
    /* a non-finite parameter (inf or NaN), in a readout-only model and a
     * deeper one, on every kernel path: refused with its index, never a
     * finite loss */
    const char *specs[] = {"lse:9", "lse-class:9", "dense:4,lse:5"};
    const size_t classes[] = {0, 3, 0};
    for (int q = 0; q < 3; q++) {
        make_problem(specs[q], 2, classes[q], 0, 0.3, 4, 20, &m, &x, &y);
        assert_int_equal(hj_workspace_alloc(&ws, &m, 20, &err), HJ_OK);
        const size_t k = m.arch.n_params / 2;
        const double saved = m.params[k];
        for (int v = 0; v < 2; v++) {
            m.params[k] = v ? NAN : INFINITY;
            assert_int_equal(hj_model_loss_grad(&m, m.params, ws, x, y, 20, &loss, NULL, &err), HJ_ENAN);
            char want[64];
            snprintf(want, sizeof want, "parameter %zu is not finite", k);
            assert_non_null(strstr(err.msg, want));
        }
        m.params[k] = saved;
        assert_int_equal(hj_model_loss_grad(&m, m.params, ws, x, y, 20, &loss, NULL, &err), HJ_OK);
        assert_true(isfinite(loss));
        hj_workspace_free(ws);
        free(x), free(y);
        hj_model_free(&m);
    }
}

/* Train a little, predict, save, load, predict again: bit-identical; and
 * training twice from the same seed gives bit-identical parameters. */
static void fit_save_load_predict_should_round_trip_bit_for_bit(void **state)
{
    (void)state;
    const size_t n = 64;
    hj_model m, m2, m3;
    double *x, *y, *x2, *y2;
    make_problem("dense:5,gibbs:4,lse-class:3", 3, 3, 0, 0.4, 11, n, &m, &x, &y);
    make_problem("dense:5,gibbs:4,lse-class:3", 3, 3, 0, 0.4, 11, n, &m2, &x2, &y2);
    hj_train_options o;
    hj_train_options_default(&o);
    o.iters = 40, o.batch = 16, o.lr = 0.01, o.seed = 5;
    hj_error err = {0};
    assert_int_equal(hj_model_train(&m, x, y, n, &o, NULL, &err), HJ_OK);
    assert_int_equal(hj_model_train(&m2, x2, y2, n, &o, NULL, &err), HJ_OK);
    assert_memory_equal(m.params, m2.params, m.arch.n_params * sizeof(double));
    double *p1 = malloc(n * 3 * sizeof *p1), *p2 = malloc(n * 3 * sizeof *p2);
    assert_int_equal(hj_model_predict(&m, x, n, p1, &err), HJ_OK);
    char path[] = "/tmp/hjdl_test_model_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(hj_model_save(&m, path, &err), HJ_OK);
    assert_int_equal(hj_model_load(&m3, path, &err), HJ_OK);
    remove(path);
    assert_int_equal(hj_model_predict(&m3, x, n, p2, &err), HJ_OK);
    assert_memory_equal(p1, p2, n * 3 * sizeof(double));
    free(p1), free(p2), free(x), free(y), free(x2), free(y2);
    hj_model_free(&m), hj_model_free(&m2), hj_model_free(&m3);
}

/* dL/dx from hj_model_input_gradient vs central differences of the outputs. */
static void input_gradient_should_match_finite_differences(void **state)
{
    (void)state;
    static const char *archs[] = {"lse:6", "dense:5,resnet:5,gibbs:4,lse:6", "dense:4,lse-class:3"};
    static const size_t classes[] = {0, 0, 3};
    for (size_t a = 0; a < 3; a++) {
        hj_model m;
        double *x, *y;
        const size_t n = 7, d = 3;
        make_problem(archs[a], d, classes[a], 0, 0.6, 21, n, &m, &x, &y);
        const size_t no = hj_model_n_out(&m);
        hj_workspace *ws;
        hj_error err = {0};
        assert_int_equal(hj_workspace_alloc(&ws, &m, 3, &err), HJ_OK); /* chunked */
        double gout[7 * 3], gx[7 * 3], op[3], om[3], xp[3];
        for (size_t k = 0; k < n * no; k++)
            gout[k] = 0.5 + 0.25 * (double)(k % 5);
        assert_int_equal(hj_model_input_gradient(&m, ws, x, n, gout, gx, &err), HJ_OK);
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < d; k++) {
                const double h = 1e-6;
                memcpy(xp, x + i * d, sizeof xp);
                xp[k] += h;
                assert_int_equal(hj_model_forward(&m, ws, xp, 1, op, &err), HJ_OK);
                xp[k] -= 2 * h;
                assert_int_equal(hj_model_forward(&m, ws, xp, 1, om, &err), HJ_OK);
                double fd = 0.0;
                for (size_t c = 0; c < no; c++)
                    fd += gout[i * no + c] * (op[c] - om[c]) / (2 * h);
                if (fabs(fd - gx[i * d + k]) > 1e-7 * fmax(1.0, fabs(fd)))
                    fail_msg("%s point %zu coord %zu: analytic %.12g vs FD %.12g", archs[a], i, k, gx[i * d + k], fd);
            }
        hj_workspace_free(ws);
        free(x), free(y);
        hj_model_free(&m);
    }
}

/* |W|^2 counts the weight matrices only: dense A (3, 2) at 0..5, its bias
 * c at 6..8, then the lse readout w (2, 3) at 9..14 and b at 15..16. */
static void weight_norm_counts_weights_not_biases(void **state)
{
    (void)state;
    hj_arch a;
    hj_model m;
    hj_error e = {0};
    assert_int_equal(hj_arch_parse("dense:3,lse:2", 2, 0, 1, &a, &e), HJ_OK);
    assert_int_equal(hj_model_init(&m, &a, 0.5, 1.0, 3, &e), HJ_OK);
    assert_int_equal(a.n_params, 19); /* + output scale a, c */
    for (size_t i = 0; i < a.n_params; i++)
        m.params[i] = (double)(i + 1);
    double want = 0.0;
    for (size_t i = 0; i < 6; i++)
        want += (double)((i + 1) * (i + 1));
    for (size_t i = 9; i < 15; i++)
        want += (double)((i + 1) * (i + 1));
    assert_true(hj_model_weight_norm2(&m) == want);
    hj_model_free(&m);
}

/* With a validation split the kept parameters have the lowest validation
 * loss seen: recomputing that loss on the returned model gives *val_loss,
 * and it is no worse than the loss of the model trained without keeping. */
static void validation_keeps_the_best_parameters(void **state)
{
    (void)state;
    enum { N = 80, NV = 40 };
    double x[N], y[N], xv[NV], yv[NV];
    for (size_t i = 0; i < N; i++)
        x[i] = -2.0 + 4.0 * (double)i / N, y[i] = fabs(x[i]) + 0.3 * sin(37.0 * x[i]);
    for (size_t i = 0; i < NV; i++)
        xv[i] = -2.0 + 4.0 * ((double)i + 0.5) / NV, yv[i] = fabs(xv[i]);
    hj_arch a;
    hj_model m, plain;
    hj_error e = {0};
    assert_int_equal(hj_arch_parse("lse:8", 1, 0, 0, &a, &e), HJ_OK);
    assert_int_equal(hj_model_init(&m, &a, 0.1, 1.0, 5, &e), HJ_OK);
    assert_int_equal(hj_model_copy(&plain, &m, &e), HJ_OK);
    hj_train_options o;
    hj_train_options_default(&o);
    o.iters = 300, o.lr = 0.05;
    hj_fit_options fo;
    hj_fit_options_default(&fo);
    fo.x_val = xv, fo.y_val = yv, fo.n_val = NV, fo.weight_decay = 1e-3;
    double vl = NAN;
    size_t best = 0;
    assert_int_equal(hj_model_fit(&m, x, y, N, &o, &fo, NULL, &vl, &best, &e), HJ_OK);
    assert_true(best >= 1 && best <= 300);
    hj_workspace *ws = NULL;
    assert_int_equal(hj_workspace_alloc(&ws, &m, NV, &e), HJ_OK);
    double l;
    assert_int_equal(hj_model_loss_grad(&m, m.params, ws, xv, yv, NV, &l, NULL, &e), HJ_OK);
    assert_true(l == vl);
    hj_fit_options f2 = fo;
    f2.n_val = 0, f2.x_val = f2.y_val = NULL;
    assert_int_equal(hj_model_fit(&plain, x, y, N, &o, &f2, NULL, NULL, NULL, &e), HJ_OK);
    double lp;
    assert_int_equal(hj_model_loss_grad(&plain, plain.params, ws, xv, yv, NV, &lp, NULL, &e), HJ_OK);
    assert_true(vl <= lp);
    hj_workspace_free(ws);
    hj_model_free(&m);
    hj_model_free(&plain);
}

/* The loss at an explicit parameter vector is the loss of a model holding those
 * parameters (bit for bit, gradient included), and the model evaluated is not
 * changed: the general path (hidden layers, output scale, classifier) and the
 * fused single-readout path. */
static void loss_at_other_parameters_should_leave_the_model_unchanged(void **state)
{
    (void)state;
    static const struct { const char *spec; size_t C; int scale; } CASES[] = {
        {"dense:5,resnet:5,gibbs:4,lse:6", 0, 1}, {"gibbs:3,lse-class:4", 3, 0}, {"lse:7", 0, 1}};
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        hj_model m, other;
        double *x, *y;
        hj_error e = {0};
        make_problem(CASES[c].spec, 3, CASES[c].C, CASES[c].scale, 0.3, 7 + c, 19, &m, &x, &y);
        assert_int_equal(hj_model_copy(&other, &m, &e), HJ_OK);
        const size_t P = m.arch.n_params;
        for (size_t k = 0; k < P; k++)
            other.params[k] += 0.01 * (double)(k % 7) - 0.03;
        double *saved = malloc(P * sizeof *saved), *g1 = malloc(P * sizeof *g1);
        double *g2 = malloc(P * sizeof *g2);
        memcpy(saved, m.params, P * sizeof *saved);
        hj_workspace *ws = NULL;
        assert_int_equal(hj_workspace_alloc(&ws, &m, 19, &e), HJ_OK);
        double l1 = NAN, l2 = NAN, l0 = NAN;
        assert_int_equal(hj_model_loss_grad(&m, other.params, ws, x, y, 19, &l1, g1, &e), HJ_OK);
        assert_int_equal(hj_model_loss_grad(&other, other.params, ws, x, y, 19, &l2, g2, &e), HJ_OK);
        assert_int_equal(hj_model_loss_grad(&m, m.params, ws, x, y, 19, &l0, NULL, &e), HJ_OK);
        assert_true(l1 == l2);
        assert_true(l1 != l0); /* the other parameters were really used */
        assert_memory_equal(g1, g2, P * sizeof *g1);
        assert_memory_equal(m.params, saved, P * sizeof *saved);
        hj_workspace_free(ws);
        free(saved), free(g1), free(g2), free(x), free(y);
        hj_model_free(&m);
        hj_model_free(&other);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loss_at_other_parameters_should_leave_the_model_unchanged),
        cmocka_unit_test(every_layer_gradient_should_match_finite_differences),
        cmocka_unit_test(lse_model_should_equal_hopf_cole_of_its_initial_data),
        cmocka_unit_test(attribution_should_be_the_largest_gibbs_weights),
        cmocka_unit_test(impossible_architectures_should_be_refused_with_reasons),
        cmocka_unit_test(bad_labels_and_nan_inputs_should_be_refused),
        cmocka_unit_test(fit_save_load_predict_should_round_trip_bit_for_bit),
        cmocka_unit_test(input_gradient_should_match_finite_differences),
        cmocka_unit_test(weight_norm_counts_weights_not_biases),
        cmocka_unit_test(validation_keeps_the_best_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
