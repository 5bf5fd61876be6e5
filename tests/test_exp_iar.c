/* test_exp_iar.c — the identity, attention and recovery experiments in quick mode: every check passes, summary.json is written, claims carry a verdict, and their CSVs agree with independent recomputations. */
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

/* A scratch output directory, removed (two levels deep) at the end. */
typedef struct scratch {
    char dir[256];
} scratch;

static int setup(void **state)
{
    scratch *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -1;
    snprintf(s->dir, sizeof s->dir, "/tmp/hjdl_test_exp_iar_XXXXXX");
    if (mkdtemp(s->dir) == NULL) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

/* Remove the files of dir (and one level of sub-directories), then dir. */
static void remove_tree(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (depth > 0)
                remove_tree(path, depth - 1);
        } else {
            unlink(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

static int teardown(void **state)
{
    scratch *s = *state;
    remove_tree(s->dir, 1);
    free(s);
    return 0;
}

/* Run experiment `name` in quick mode into the scratch dir and assert the
 * outcome every experiment must have. res is left filled for the caller. */
static void run_quick(const scratch *s, const char *name, hj_result *res)
{
    const hj_experiment *e = hj_experiment_find(name);
    assert_non_null(e);
    hj_experiment_options o;
    hj_experiment_options_default(&o);
    o.quick = 1;
    o.out_dir = s->dir;
    hj_error err = {0};
    hj_status st = hj_experiment_run(e, &o, res, &err);
    if (st != HJ_OK)
        fail_msg("experiment %s failed: %s", name, err.msg);
    assert_true(res->checks.n > 0);
    for (size_t i = 0; i < res->checks.n; i++) {
        const hj_check *c = &res->checks.items[i];
        if (!c->pass)
            fail_msg("%s: check failed: [%s] %s: %g > %g", name, c->claim, c->name, c->value,
                     c->threshold);
        assert_true(c->claim[0] == 'C');
    }
    for (size_t i = 0; i < res->n_claims; i++) {
        const hj_claim *c = &res->claims[i];
        assert_true(c->verdict == HJ_VERDICT_AGREES || c->verdict == HJ_VERDICT_DISAGREES ||
                    c->verdict == HJ_VERDICT_INCONCLUSIVE);
        assert_true(strlen(c->rule) > 0);
        assert_true(strlen(c->statement) > 0);
    }
    /* summary.json exists and names the experiment, with a verdict per claim */
    char path[1200];
    snprintf(path, sizeof path, "%s/summary.json", res->dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char text[1 << 18];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    char needle[128];
    snprintf(needle, sizeof needle, "\"experiment\": \"%s\"", name);
    assert_non_null(strstr(text, needle));
    size_t verdicts = 0;
    for (const char *p = text; (p = strstr(p, "\"verdict\": \"")) != NULL; p++)
        verdicts++;
    assert_int_equal(verdicts, res->n_claims);
}

static void read_csv(const hj_result *res, const char *file, hj_matrix *m)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", res->dir, file);
    hj_error err = {0};
    if (hj_csv_read(path, m, &err) != HJ_OK)
        fail_msg("%s: %s", path, err.msg);
}

static double param(const hj_result *res, const char *key)
{
    for (size_t i = 0; i < res->n_params; i++)
        if (strcmp(res->params[i].key, key) == 0)
            return res->params[i].value;
    fail_msg("param %s missing", key);
    return NAN;
}

static double metric(const hj_result *res, const char *key)
{
    for (size_t i = 0; i < res->n_metrics; i++)
        if (strcmp(res->metrics[i].key, key) == 0)
            return res->metrics[i].value;
    fail_msg("metric %s missing", key);
    return NAN;
}

/* identity: checks of the whole verify suite are included; the C1 table has
 * eps = 0 first and rounding-level errors; on the tropical arrow the sup
 * stays below eps log N and, at the smallest eps, equals eps log 2 at the
 * kinks (two-neuron ties, where f_eps - f_0 = eps log(1 + e^{-gap/eps})
 * with gap = 0 for the tied pair and the others exponentially small). */
static void identity_quick_passes_and_tables_hold(void **state)
{
    hj_result res;
    run_quick(*state, "identity", &res);
    assert_true(metric(&res, "verify_checks") >= 50);
    assert_true(res.checks.n > (size_t)metric(&res, "verify_checks"));
    hj_matrix m = {0};
    read_csv(&res, "c1_identity_vs_eps.csv", &m);
    assert_int_equal(m.cols, 3);
    assert_true(m.rows >= 8);
    assert_true(m.data[0] == 0.0);
    for (size_t r = 1; r < m.rows; r++) {
        assert_true(m.data[r * 3] > m.data[(r - 1) * 3]);
        assert_true(m.data[r * 3 + 1] <= 1e-13);
    }
    assert_true(fabs(m.data[1 * 3] - 1e-6) < 1e-18);
    assert_true(fabs(m.data[(m.rows - 1) * 3] - 1e3) < 1e-9);
    hj_matrix_free(&m);

    read_csv(&res, "tropical_arrow.csv", &m);
    const double N = param(&res, "tropical_N");
    assert_int_equal(m.cols, 7);
    for (size_t r = 0; r < m.rows; r++) {
        const double *row = m.data + r * 7, eps = row[0];
        assert_true(fabs(row[3] - eps * log(N)) <= 1e-15 * eps * log(N));
        assert_true(row[1] >= 0.0 && row[1] <= eps * log(N));
    }
    if (metric(&res, "tropical_kinks_on_points") > 0) {
        const double eps = m.data[0], kink = m.data[5];
        assert_true(fabs(kink / (eps * log(2.0)) - 1.0) < 1e-6);
    }
    hj_matrix_free(&m);

    /* the diagram: every vertex column close to the Hopf–Cole column; the
     * eps -> 0 gap inside [0, eps log N] */
    read_csv(&res, "diagram.csv", &m);
    assert_int_equal(m.cols, 11);
    for (size_t r = 0; r < m.rows; r++) {
        const double *row = m.data + r * 11;
        assert_true(fabs(row[1] - row[2]) < 1e-12);
        assert_true(fabs(row[4] - row[2]) < 1e-12);
        assert_true(fabs(row[3] - row[2]) < 1e-3);
        assert_true(fabs(row[6] - row[7]) < 2e-2);
        assert_true(row[9] >= -1e-14 && row[9] <= row[10]);
    }
    hj_matrix_free(&m);
    hj_result_free(&res);
}

/* attention: d_k = 4..64 with eps = sqrt(d_k) and errors under the
 * thresholds; per-layer entropies are normalised into [0, 1]. */
static void attention_quick_passes_and_tables_hold(void **state)
{
    hj_result res;
    run_quick(*state, "attention", &res);
    hj_matrix m = {0};
    read_csv(&res, "attention_vs_dk.csv", &m);
    assert_int_equal(m.rows, 5);
    assert_int_equal(m.cols, 6);
    static const double dks[] = {4, 8, 16, 32, 64};
    for (size_t r = 0; r < 5; r++) {
        const double *row = m.data + r * 6;
        assert_true(row[0] == dks[r]);
        assert_true(fabs(row[1] - sqrt(dks[r])) < 1e-15);
        assert_true(row[2] <= 1e-13);
        assert_true(row[3] <= 1e-7);
    }
    hj_matrix_free(&m);
    read_csv(&res, "transformer_layers.csv", &m);
    assert_int_equal(m.rows, 4);
    for (size_t r = 0; r < m.rows; r++) {
        const double *row = m.data + r * m.cols;
        assert_true(row[0] == (double)(r + 1));
        for (size_t k = 6; k < 8; k++)
            assert_true(row[k] >= 0.0 && row[k] <= 1.0 + 1e-12);
    }
    hj_matrix_free(&m);
    assert_true(metric(&res, "timing_tiled_seconds") > 0.0);
    assert_true(metric(&res, "timing_reference_seconds") > 0.0);
    hj_result_free(&res);
}

/* recovery: one claim with a verdict; D recomputed from the atom table
 * (sum_j pibar_j |g_j - |y_j||) matches the D table; the usages of a run sum
 * to 1 (the Gibbs weights are a distribution at every point). */
static void recovery_quick_passes_and_D_recomputes(void **state)
{
    hj_result res;
    run_quick(*state, "recovery", &res);
    assert_int_equal(res.n_claims, 1);
    assert_string_equal(res.claims[0].claim, "C7");
    hj_matrix A = {0}, D = {0};
    read_csv(&res, "recovery_atoms.csv", &A);
    read_csv(&res, "recovery_D.csv", &D);
    const size_t N = (size_t)param(&res, "neurons");
    assert_int_equal(A.cols, 6);
    assert_int_equal(A.rows, D.rows * N);
    for (size_t r = 0; r < D.rows; r++) {
        double sum = 0.0, usage = 0.0;
        for (size_t j = 0; j < N; j++) {
            const double *a = A.data + (r * N + j) * 6;
            assert_true(a[0] == D.data[r * D.cols] && a[1] == D.data[r * D.cols + 1]);
            assert_true(a[5] >= 0.0 && a[5] <= 1.0 + 1e-12);
            sum += a[5] * fabs(a[4] - fabs(a[3]));
            usage += a[5];
        }
        assert_true(fabs(sum - D.data[r * D.cols + 2]) <= 1e-12 * fmax(1.0, sum));
        assert_true(fabs(usage - 1.0) < 1e-12);
        /* training decreased the loss */
        assert_true(D.data[r * D.cols + 4] < D.data[r * D.cols + 3]);
    }
    /* the claim's measured ratio is the ratio of the seed means of D */
    double m_hi = 0.0, m_lo = 0.0;
    size_t n_hi = 0, n_lo = 0;
    for (size_t r = 0; r < D.rows; r++) {
        double eps = D.data[r * D.cols], d = D.data[r * D.cols + 2];
        if (fabs(eps - 0.5) < 1e-12)
            m_hi += d, n_hi++;
        if (fabs(eps - 0.04) < 1e-12)
            m_lo += d, n_lo++;
    }
    assert_true(n_hi > 0 && n_hi == n_lo);
    double R = (m_lo / (double)n_lo) / (m_hi / (double)n_hi);
    assert_true(fabs(R - res.claims[0].measured) <= 1e-12 * R);
    hj_matrix_free(&A);
    hj_matrix_free(&D);
    hj_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(identity_quick_passes_and_tables_hold, setup, teardown),
        cmocka_unit_test_setup_teardown(attention_quick_passes_and_tables_hold, setup, teardown),
        cmocka_unit_test_setup_teardown(recovery_quick_passes_and_D_recomputes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
