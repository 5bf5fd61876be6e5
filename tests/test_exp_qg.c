/* test_exp_qg.c — the quadrature (C8) and generalization (C9) experiments in quick mode: every check passes, summary.json is written, claims carry a verdict, and their CSVs agree with independent recomputations. */
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
#include "hjdl/experiment.h"

typedef struct tmpdir {
    char path[256];
} tmpdir;

static int make_tmp(void **state)
{
    tmpdir *t = calloc(1, sizeof *t);
    if (t == NULL)
        return -1;
    snprintf(t->path, sizeof t->path, "/tmp/hjdl_test_exp_qg_XXXXXX");
    if (mkdtemp(t->path) == NULL) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

/* Delete dir with its files and the files of its sub-directories. */
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

/* Run `name` quick into the temp dir; every check must pass, every claim
 * must carry a verdict and the given SPEC id, summary.json must exist and
 * hold one verdict per claim. */
static void run_quick(const tmpdir *t, const char *name, const char *spec_id, hj_result *res)
{
    const hj_experiment *e = hj_experiment_find(name);
    assert_non_null(e);
    hj_experiment_options o;
    hj_experiment_options_default(&o);
    o.quick = 1;
    o.out_dir = t->path;
    hj_error err = {0};
    if (hj_experiment_run(e, &o, res, &err) != HJ_OK)
        fail_msg("%s: %s", name, err.msg);
    assert_true(res->checks.n >= 5);
    for (size_t i = 0; i < res->checks.n; i++) {
        const hj_check *c = &res->checks.items[i];
        if (!c->pass)
            fail_msg("%s: check '%s' failed: %g > %g", name, c->name, c->value, c->threshold);
        assert_string_equal(c->claim, spec_id);
    }
    assert_true(res->n_claims >= 3);
    for (size_t i = 0; i < res->n_claims; i++) {
        const hj_claim *c = &res->claims[i];
        assert_string_equal(c->claim, spec_id);
        assert_true(c->verdict == HJ_VERDICT_AGREES || c->verdict == HJ_VERDICT_DISAGREES ||
                    c->verdict == HJ_VERDICT_INCONCLUSIVE);
        assert_true(isfinite(c->measured) && isfinite(c->predicted));
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
    size_t nv = 0;
    for (const char *p = buf; (p = strstr(p, "\"verdict\": ")) != NULL; p++)
        nv++;
    assert_int_equal(nv, res->n_claims);
}

static void load_csv(const hj_result *res, const char *file, hj_matrix *m)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", res->dir, file);
    hj_error err = {0};
    if (hj_csv_read(path, m, &err) != HJ_OK)
        fail_msg("%s", err.msg);
}

/* Plain least-squares slope of y on x (n points), written out here. */
static double ols_slope(const double *x, const double *y, size_t n)
{
    double mx = 0.0, my = 0.0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0.0, sxx = 0.0;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
    }
    return sxy / sxx;
}

/* quadrature: N = m^d and eps = 1/m in every row; the grid error is >= 0 and
 * below the a-priori bound d L h / 2 (the node nearest the kink of each
 * coordinate lies within h/2 of the minimiser, the objective is L-Lipschitz
 * there); each claim's slope equals an OLS fit of log error on log N done
 * here. */
static void quadrature_quick_passes_and_csv_recomputes(void **state)
{
    hj_result res;
    run_quick(*state, "quadrature", "C8", &res);
    assert_int_equal(res.n_claims, 3);
    hj_matrix m = {0};
    load_csv(&res, "quadrature.csv", &m);
    assert_int_equal(m.cols, 8);
    static const double dims[3] = {1, 2, 4};
    for (size_t c = 0; c < 3; c++) {
        double lx[128], ly[128];
        size_t k = 0;
        for (size_t r = 0; r < m.rows; r++) {
            const double *row = m.data + r * 8;
            if (row[0] != dims[c])
                continue;
            double d = row[0], mm = row[1], N = row[2], eps = row[3];
            assert_true(fabs(N - pow(mm, d)) < 0.5);
            assert_true(fabs(eps - 1.0 / mm) <= 1e-15);
            double h = 4.0 / (mm - 1.0), L = 1.0 + (1.0 + 0.32 + 2.0) / 2.0;
            assert_true(row[5] >= 0.0);
            assert_true(row[5] <= d * L * h / 2.0);
            assert_true(row[4] > 0.0 && row[6] > 0.0 && row[7] > 0.0);
            assert_true(k < 128);
            lx[k] = log(N);
            ly[k++] = log(row[4]);
        }
        assert_true(k >= 5);
        double s = ols_slope(lx, ly, k);
        assert_true(fabs(s - res.claims[c].measured) <= 1e-9);
        assert_true(fabs(res.claims[c].predicted + 1.0 / dims[c]) <= 1e-15);
    }
    hj_matrix_free(&m);
    hj_result_free(&res);
}

/* generalization: rule (a) uses eps = c n^(-2/(d+2)) with c recomputed here
 * from the documented balance formula; rule (b) picks a power of two in
 * [2^-21, 1]; RMSEs are positive and, at the largest n, below half the
 * standard deviation of the target (sqrt(d/12)); each claim's slope is the
 * mean over seeds of per-seed OLS slopes computed here, its uncertainty the
 * standard error of that mean. */
static void generalization_quick_passes_and_csv_recomputes(void **state)
{
    hj_result res;
    run_quick(*state, "generalization", "C9", &res);
    assert_int_equal(res.n_claims, 6);
    hj_matrix m = {0};
    load_csv(&res, "generalization.csv", &m);
    assert_int_equal(m.cols, 6);
    const size_t S = 2, NN = 6;
    assert_int_equal(m.rows, 3 * 2 * S * NN);
    const double sigma = 0.1, pi = 3.14159265358979323846;
    for (size_t di = 0; di < 3; di++) {
        const double d = (double)(di + 1);
        double A = 2.0 / pi * d * d, B = sigma * sigma * pow(2.0, d) * pow(4.0 * pi, -d / 2.0);
        double b = pow(d * B / (2.0 * A), 1.0 / (d + 2.0));
        const double c = b * b / 2.0;
        for (int rule = 0; rule < 2; rule++) {
            double slopes[2];
            for (size_t s = 0; s < S; s++) {
                double lx[16], ly[16];
                size_t k = 0;
                double nlast = 0.0, rlast = 0.0;
                for (size_t r = 0; r < m.rows; r++) {
                    const double *row = m.data + r * 6;
                    if (row[0] != d || row[1] != (double)rule || row[2] != (double)s)
                        continue;
                    double n = row[3], eps = row[4], rmse = row[5];
                    if (rule == 0) {
                        assert_true(fabs(eps - c * pow(n, -2.0 / (d + 2.0))) <= 1e-12 * eps);
                    } else {
                        double k2 = -log2(eps);
                        assert_true(fabs(k2 - floor(k2 + 0.5)) < 1e-12 && k2 > -0.5 && k2 < 21.5);
                    }
                    assert_true(isfinite(rmse) && rmse > 0.0);
                    assert_true(k < 16);
                    lx[k] = log(n);
                    ly[k++] = log(rmse);
                    if (n > nlast) {
                        nlast = n;
                        rlast = rmse;
                    }
                }
                assert_int_equal(k, NN);
                assert_true(rlast < 0.5 * sqrt(d / 12.0));
                slopes[s] = ols_slope(lx, ly, k);
            }
            const hj_claim *cl = &res.claims[di * 2 + (size_t)rule];
            double mean = 0.5 * (slopes[0] + slopes[1]);
            double se = fabs(slopes[0] - slopes[1]) / 2.0;   /* sd/sqrt(2) with sd = |a-b|/sqrt(2) */
            assert_true(fabs(cl->measured - mean) <= 1e-9);
            assert_true(fabs(cl->uncertainty - se) <= 1e-9);
            assert_true(fabs(cl->predicted + 1.0 / (d + 2.0)) <= 1e-15);
        }
    }
    hj_matrix_free(&m);
    hj_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(quadrature_quick_passes_and_csv_recomputes, make_tmp, drop_tmp),
        cmocka_unit_test_setup_teardown(generalization_quick_passes_and_csv_recomputes, make_tmp, drop_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
