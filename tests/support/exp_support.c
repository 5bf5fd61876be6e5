/* exp_support.c — helpers shared by the experiment tests: scratch directories, quick runs, look-ups and the common assertions. */
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

#include "exp_support.h"

int es_make_tmp(void **state, const char *tag)
{
    es_tmpdir *t = calloc(1, sizeof *t);
    if (t == NULL)
        return -1;
    snprintf(t->path, sizeof t->path, "/tmp/hjdl_test_exp_%s_XXXXXX", tag);
    if (mkdtemp(t->path) == NULL) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

void es_rm_dir(const char *dir, int levels)
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
                es_rm_dir(p, levels - 1);
        } else {
            unlink(p);
        }
    }
    closedir(dp);
    rmdir(dir);
}

int es_drop_tmp(void **state)
{
    es_tmpdir *t = *state;
    es_rm_dir(t->path, 1);
    free(t);
    return 0;
}

void es_quick_options(const es_tmpdir *t, hj_experiment_options *o)
{
    hj_experiment_options_default(o);
    o->quick = 1;
    o->out_dir = t->path;
}

void es_run(const char *name, const hj_experiment_options *o, hj_result *res)
{
    const hj_experiment *e = hj_experiment_find(name);
    assert_non_null(e);
    hj_error err = {0};
    if (hj_experiment_run(e, o, res, &err) != HJ_OK)
        fail_msg("experiment %s failed: %s", name, err.msg);
}

void es_assert_checks_pass(const hj_result *res, const char *name, size_t min_checks,
                           const char *claim_id)
{
    assert_true(res->checks.n >= min_checks);
    for (size_t i = 0; i < res->checks.n; i++) {
        const hj_check *c = &res->checks.items[i];
        if (!c->pass)
            fail_msg("%s: check failed: [%s] %s: %g > %g", name, c->claim, c->name, c->value,
                     c->threshold);
        if (claim_id != NULL)
            assert_string_equal(c->claim, claim_id);
    }
}

void es_assert_claims(const hj_result *res, const char *claim_id, int flags)
{
    for (size_t i = 0; i < res->n_claims; i++) {
        const hj_claim *c = &res->claims[i];
        if (claim_id != NULL)
            assert_string_equal(c->claim, claim_id);
        assert_true(c->verdict == HJ_VERDICT_AGREES || c->verdict == HJ_VERDICT_DISAGREES ||
                    c->verdict == HJ_VERDICT_INCONCLUSIVE);
        assert_true(strlen(c->rule) > 0);
        if (flags & ES_CLAIM_STATEMENT)
            assert_true(strlen(c->statement) > 0);
        if (flags & ES_CLAIM_FINITE)
            assert_true(isfinite(c->measured) && isfinite(c->predicted));
        if (flags & ES_CLAIM_FORMED) {
            assert_true(c->tolerance >= 0.0 && strlen(c->tolerance_reason) > 0);
            assert_true(c->n_parts >= 1);
            if (c->source == HJ_SOURCE_PAPER)
                assert_true(strlen(c->paper_words) > 0);
            double q = 0.0;
            int budget = 0;
            for (size_t k = 0; k < c->n_parts; k++) {
                q += c->parts[k].half_width * c->parts[k].half_width;
                budget |= strcmp(c->parts[k].name, HJ_CLAIM_PART_BUDGET) == 0;
            }
            if (c->trained)
                assert_true(budget);
            if (isfinite(q) && isfinite(c->measured))
                assert_true(fabs(c->hi - c->lo - 2.0 * sqrt(q)) <= 1e-12 * (1.0 + fabs(c->measured)));
        }
    }
}

void es_assert_summary(const hj_result *res, const char *name, int count_verdicts)
{
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
    if (count_verdicts) {
        size_t verdicts = 0;
        for (const char *p = text; (p = strstr(p, "\"verdict\": \"")) != NULL; p++)
            verdicts++;
        assert_int_equal(verdicts, res->n_claims);
    }
}

void es_read_csv(const hj_result *res, const char *file, hj_matrix *m)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", res->dir, file);
    hj_error err = {0};
    if (hj_csv_read(path, m, &err) != HJ_OK)
        fail_msg("%s: %s", path, err.msg);
}

int es_file_exists(const hj_result *res, const char *file)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", res->dir, file);
    struct stat sb;
    return stat(path, &sb) == 0 && sb.st_size > 0;
}

double es_metric(const hj_result *res, const char *key)
{
    for (size_t i = 0; i < res->n_metrics; i++)
        if (strcmp(res->metrics[i].key, key) == 0)
            return res->metrics[i].value;
    fail_msg("metric %s missing", key);
    return NAN;
}

double es_param(const hj_result *res, const char *key)
{
    for (size_t i = 0; i < res->n_params; i++)
        if (strcmp(res->params[i].key, key) == 0)
            return res->params[i].value;
    fail_msg("param %s missing", key);
    return NAN;
}

double es_ols(const double *x, const double *y, size_t n, double *se)
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
    const double b = sxy / sxx;
    if (se != NULL) {
        const double a = my - b * mx;
        double rss = 0.0;
        for (size_t i = 0; i < n; i++)
            rss += (y[i] - a - b * x[i]) * (y[i] - a - b * x[i]);
        *se = sqrt(rss / (double)(n - 2) / sxx);
    }
    return b;
}

double es_claim_part(const hj_claim *c, const char *name)
{
    for (size_t i = 0; i < c->n_parts; i++)
        if (strcmp(c->parts[i].name, name) == 0)
            return c->parts[i].half_width;
    fail_msg("claim '%s': no part '%s'", c->statement, name);
    return NAN;
}

/* The three-way rule of SPEC §4 written out again: 0 agrees, 1 disagrees, 2 inconclusive. */
static int es_rule(hj_claim_form form, double p, double d, double lo, double hi)
{
    if (!isfinite(lo) || !isfinite(hi))
        return 2;
    switch (form) {
    case HJ_FORM_EQUALS:
        return lo >= p - d && hi <= p + d ? 0 : hi < p - d || lo > p + d ? 1 : 2;
    case HJ_FORM_AT_MOST:
    case HJ_FORM_AS_FAST_AS:
        return hi <= p + d ? 0 : lo > p + d ? 1 : 2;
    case HJ_FORM_AT_LEAST:
        return lo >= p - d ? 0 : hi < p - d ? 1 : 2;
    case HJ_FORM_TREND:
        return p * lo > 0.0 && p * hi > 0.0 ? 0 : p * lo < 0.0 && p * hi < 0.0 ? 1 : 2;
    }
    return 2;
}

void es_assert_claim_form(const hj_claim *c, hj_claim_source source, hj_claim_form form, size_t min_parts)
{
    assert_int_equal(c->source, source);
    assert_int_equal(c->form, form);
    assert_true(strlen(c->statement) > 0 && strlen(c->tolerance_reason) > 0 && strlen(c->rule) > 0);
    assert_true(isfinite(c->tolerance) && c->tolerance >= 0.0);
    if (source == HJ_SOURCE_PAPER)
        assert_true(strlen(c->paper_words) > 0);
    if (form == HJ_FORM_TREND)
        assert_true(fabs(c->predicted) == 1.0 && c->tolerance == 0.0);
    assert_true(c->n_parts >= min_parts);
    double s2 = 0.0;
    for (size_t i = 0; i < c->n_parts; i++) {
        assert_true(strlen(c->parts[i].name) > 0);
        s2 += c->parts[i].half_width * c->parts[i].half_width;
    }
    const double hw = sqrt(s2);
    if (isfinite(c->measured) && isfinite(hw)) {
        assert_true(fabs(c->lo - (c->measured - hw)) <= 1e-12 * fmax(1.0, fabs(c->lo)));
        assert_true(fabs(c->hi - (c->measured + hw)) <= 1e-12 * fmax(1.0, fabs(c->hi)));
    }
    if (c->trained) {
        const double b = es_claim_part(c, HJ_CLAIM_PART_BUDGET);
        if (!(b <= c->tolerance)) {
            assert_int_equal(c->verdict, HJ_VERDICT_INCONCLUSIVE);
            return;
        }
    }
    const int v = es_rule(c->form, c->predicted, c->tolerance, c->lo, c->hi);
    assert_int_equal(c->verdict, v == 0 ? HJ_VERDICT_AGREES : v == 1 ? HJ_VERDICT_DISAGREES : HJ_VERDICT_INCONCLUSIVE);
}
