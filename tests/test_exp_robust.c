/* test_exp_robust.c — the C10 experiments (robustness, hessian-fmnist, adversarial) in quick mode: every check passes, summary.json is written, and their CSVs obey the bounds and reproduce the claims' fits when recomputed here. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "hjdl/data.h"
#include "hjdl/dataset.h"
#include "hjdl/experiment.h"

typedef struct tmpdir {
    char path[256];
} tmpdir;

static int make_tmp(void **state)
{
    tmpdir *t = calloc(1, sizeof *t);
    if (t == NULL)
        return -1;
    snprintf(t->path, sizeof t->path, "/tmp/hjdl_test_exp_robust_XXXXXX");
    if (mkdtemp(t->path) == NULL) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static void rm_dir(const char *dir, int levels)
{
    DIR *dp = opendir(dir);
    if (dp == NULL)
        return;
    struct dirent *ent;
    char p[1024];
    while ((ent = readdir(dp)) != NULL) {
        if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, ent->d_name);
        struct stat sb;
        if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (levels > 0)
                rm_dir(p, levels - 1);
        } else {
            unlink(p);
        }
    }
    closedir(dp);
    rmdir(dir);
}

static int drop_tmp(void **state)
{
    tmpdir *t = *state;
    rm_dir(t->path, 1);
    free(t);
    return 0;
}

static int have_fashion_mnist(void)
{
    struct stat sb;
    return stat(HJ_FASHION_MNIST_DIR, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Run `name` quick (smaller still under the sanitizers); every check passes,
 * every claim is C10 with a verdict and a rule, summary.json names the experiment. */
static void run_quick(const tmpdir *t, const char *name, size_t min_checks, size_t n_claims, hj_result *res)
{
    const hj_experiment *e = hj_experiment_find(name);
    assert_non_null(e);
    hj_experiment_options o;
    hj_experiment_options_default(&o);
    o.quick = 1;
    o.out_dir = t->path;
#if defined(__SANITIZE_ADDRESS__)
    if (strcmp(name, "robustness") != 0) {
        o.N = 8;
        o.iters = 20;
    }
#endif
    hj_error err = {0};
    if (hj_experiment_run(e, &o, res, &err) != HJ_OK)
        fail_msg("%s: %s", name, err.msg);
    assert_true(res->checks.n >= min_checks);
    for (size_t i = 0; i < res->checks.n; i++) {
        const hj_check *c = &res->checks.items[i];
        if (!c->pass)
            fail_msg("%s: check '%s' failed: %g > %g", name, c->name, c->value, c->threshold);
        assert_string_equal(c->claim, "C10");
    }
    assert_int_equal(res->n_claims, n_claims);
    for (size_t i = 0; i < res->n_claims; i++) {
        const hj_claim *c = &res->claims[i];
        assert_string_equal(c->claim, "C10");
        assert_true(strlen(c->rule) > 0);
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/summary.json", res->dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 18];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char want[96];
    snprintf(want, sizeof want, "\"experiment\": \"%s\"", name);
    assert_non_null(strstr(buf, want));
}

static void load_csv(const hj_result *res, const char *file, hj_matrix *m)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", res->dir, file);
    hj_error err = {0};
    if (hj_csv_read(path, m, &err) != HJ_OK)
        fail_msg("%s", err.msg);
}

/* Plain least squares slope (and its standard error) of y on x, written out here. */
static double ols(const double *x, const double *y, size_t n, double *se)
{
    double mx = 0.0, my = 0.0;
    for (size_t i = 0; i < n; i++)
        mx += x[i] / (double)n, my += y[i] / (double)n;
    double sxx = 0.0, sxy = 0.0;
    for (size_t i = 0; i < n; i++)
        sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
    const double b = sxy / sxx, a = my - b * mx;
    double rss = 0.0;
    for (size_t i = 0; i < n; i++)
        rss += (y[i] - a - b * x[i]) * (y[i] - a - b * x[i]);
    *se = sqrt(rss / (double)(n - 2) / sxx);
    return b;
}

/* robustness: per run, the max ratio equals max curvature / bound (the bounds are constants
 * of a trained net); in 1-D the MEB and diameter bounds coincide and neither exceeds the
 * paper's; every profile row lies below its bounds; the claim's exponent is the OLS fit of
 * log max curvature on log eps recomputed here. */
static void robustness_quick_passes_and_csv_recomputes(void **state)
{
    hj_result res;
    run_quick(*state, "robustness", 6, 1, &res);
    hj_matrix m = {0}, p = {0};
    load_csv(&res, "robustness.csv", &m);
    load_csv(&res, "profile.csv", &p);
    assert_int_equal(m.cols, 14);
    assert_true(m.rows >= 6);
    double *lx = malloc(m.rows * sizeof *lx), *ly = malloc(m.rows * sizeof *ly);
    for (size_t r = 0; r < m.rows; r++) {
        const double *row = m.data + r * 14;
        for (int k = 0; k < 3; k++)
            assert_true(fabs(row[7 + k] - row[3] / row[4 + k]) <= 1e-12 * row[7 + k]);
        assert_true(fabs(row[5] - row[6]) <= 1e-9 * row[5]);
        assert_true(row[5] <= row[4] * (1.0 + 1e-15));
        assert_true(row[3] <= row[5]);
        assert_true(row[10] == 0.0);
        lx[r] = log(row[0]);
        ly[r] = log(row[3]);
    }
    double se, slope = ols(lx, ly, m.rows, &se);
    assert_true(fabs(slope - res.claims[0].measured) <= 1e-9);
    assert_true(fabs(se - res.claims[0].uncertainty) <= 1e-9);
    assert_int_equal(p.cols, 6);
    for (size_t r = 0; r < p.rows; r++) {
        const double *row = p.data + r * 6;
        assert_true(row[2] >= 0.0 && row[2] <= row[3] && row[2] <= row[4] && row[2] <= row[5]);
    }
    free(lx), free(ly);
    hj_matrix_free(&m);
    hj_matrix_free(&p);
    hj_result_free(&res);
}

/* hessian-fmnist: every (point, predicted class) row lies below its class's three bounds;
 * the first claim's exponent is the OLS fit of log median curvature on log eps. */
static void hessian_fmnist_quick_passes_and_csv_recomputes(void **state)
{
    if (!have_fashion_mnist()) {
        print_message("SKIP: Fashion-MNIST (dataset-fashion-mnist) is not installed\n");
        skip();
    }
    hj_result res;
    run_quick(*state, "hessian-fmnist", 6, 2, &res);
    hj_matrix m = {0}, p = {0};
    load_csv(&res, "hessian_fmnist.csv", &m);
    load_csv(&res, "points.csv", &p);
    assert_int_equal(p.cols, 8);
    for (size_t r = 0; r < p.rows; r++) {
        const double *row = p.data + r * 8;
        assert_true(row[4] >= 0.0 && row[4] <= row[5] && row[4] <= row[6] && row[4] <= row[7]);
        assert_true(row[6] <= row[5] * (1.0 + 1e-15)); /* MEB bound never above the paper's */
    }
    assert_int_equal(m.cols, 15);
    double lx[64], ly[64];
    assert_true(m.rows >= 5 && m.rows <= 64);
    for (size_t r = 0; r < m.rows; r++) {
        lx[r] = log(m.data[r * 15]);
        ly[r] = log(m.data[r * 15 + 3]);
        assert_true(m.data[r * 15 + 12] == 0.0);
    }
    double se, slope = ols(lx, ly, m.rows, &se);
    assert_true(fabs(slope - res.claims[0].measured) <= 1e-9);
    hj_matrix_free(&m);
    hj_matrix_free(&p);
    hj_result_free(&res);
}

/* adversarial: certified accuracy is non-increasing in the radius and never above PGD
 * robust accuracy, which never exceeds the clean accuracy on the attacked points; each
 * claim's slope is the OLS fit of robust accuracy on log10 eps. */
static void adversarial_quick_passes_and_csv_recomputes(void **state)
{
    if (!have_fashion_mnist()) {
        print_message("SKIP: Fashion-MNIST (dataset-fashion-mnist) is not installed\n");
        skip();
    }
    hj_result res;
    run_quick(*state, "adversarial", 4, 4, &res);
    hj_matrix m = {0};
    load_csv(&res, "adversarial.csv", &m);
    assert_int_equal(m.cols, 16);
    assert_true(m.rows >= 5 && m.rows <= 64);
    double lx[64], ly[64];
    for (size_t r = 0; r < m.rows; r++) {
        const double *row = m.data + r * 16;
        for (int q = 0; q < 4; q++) {
            assert_true(row[7 + q] <= row[3 + q]);
            assert_true(row[3 + q] <= row[14]);
            if (q > 0)
                assert_true(row[7 + q] <= row[7 + q - 1]);
        }
        assert_true(row[15] == 0.0);
        assert_true(row[13] <= 1.0);
    }
    for (int q = 0; q < 4; q++) {
        for (size_t r = 0; r < m.rows; r++) {
            lx[r] = log10(m.data[r * 16]);
            ly[r] = m.data[r * 16 + 3 + q];
        }
        double se, slope = ols(lx, ly, m.rows, &se);
        assert_true(fabs(slope - res.claims[q].measured) <= 1e-9);
        assert_true(fabs(se - res.claims[q].uncertainty) <= 1e-9);
    }
    hj_matrix_free(&m);
    hj_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(robustness_quick_passes_and_csv_recomputes),
        cmocka_unit_test(hessian_fmnist_quick_passes_and_csv_recomputes),
        cmocka_unit_test(adversarial_quick_passes_and_csv_recomputes),
    };
    return cmocka_run_group_tests(tests, make_tmp, drop_tmp);
}
