/* result.c — experiment results (params, metrics, checks, claims, figures) and summary.json. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/data.h"
#include "hjdl/experiment.h"
#include "io/io.h"

const char *hj_verdict_name(hj_verdict v)
{
    switch (v) {
    case HJ_VERDICT_AGREES: return "agrees";
    case HJ_VERDICT_DISAGREES: return "disagrees";
    case HJ_VERDICT_INCONCLUSIVE: return "inconclusive";
    }
    return "inconclusive";
}

/* Grow an array of `size`-byte items to hold one more. */
static int grow(void **items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 1;
    size_t c = *cap ? 2 * *cap : 16;
    void *p = realloc(*items, c * size);
    if (p == NULL)
        return 0;
    *items = p;
    *cap = c;
    return 1;
}

static hj_status add_kv(hj_kv **arr, size_t *n, size_t *cap, const char *key, const char *text,
                        double v, hj_error *err)
{
    if (key == NULL)
        return hj_error_set(err, HJ_EINVAL, "result: NULL key");
    if (!grow((void **)arr, cap, *n, sizeof **arr))
        return hj_error_set(err, HJ_ENOMEM, "result: out of memory");
    hj_kv *kv = &(*arr)[(*n)++];
    memset(kv, 0, sizeof *kv);
    snprintf(kv->key, sizeof kv->key, "%s", key);
    if (text) {
        kv->is_text = 1;
        snprintf(kv->text, sizeof kv->text, "%s", text);
    }
    kv->value = v;
    return HJ_OK;
}

hj_status hj_result_param_num(hj_result *r, const char *key, double v, hj_error *err)
{
    return add_kv(&r->params, &r->n_params, &r->cap_params, key, NULL, v, err);
}

hj_status hj_result_param_text(hj_result *r, const char *key, const char *text, hj_error *err)
{
    return add_kv(&r->params, &r->n_params, &r->cap_params, key, text ? text : "", 0.0, err);
}

hj_status hj_result_metric(hj_result *r, const char *key, double v, hj_error *err)
{
    return add_kv(&r->metrics, &r->n_metrics, &r->cap_metrics, key, NULL, v, err);
}

hj_status hj_result_check(hj_result *r, const char *claim, const char *name, double value,
                          double threshold, hj_error *err)
{
    return hj_check_add(&r->checks, claim, name, value, threshold, err);
}

static hj_claim *new_claim(hj_result *r, hj_error *err)
{
    if (!grow((void **)&r->claims, &r->cap_claims, r->n_claims, sizeof *r->claims)) {
        hj_error_set(err, HJ_ENOMEM, "result: out of memory");
        return NULL;
    }
    hj_claim *c = &r->claims[r->n_claims++];
    memset(c, 0, sizeof *c);
    return c;
}

/* A claim: validated, its interval from the parts, its verdict by the rule
 * of claim.c (hj_verdict_decide). */
static const hj_interval_part *find_part(const hj_claim_measurement *m, const char *name)
{
    for (size_t i = 0; i < m->n_parts; i++)
        if (strcmp(m->parts[i].name, name) == 0)
            return &m->parts[i];
    return NULL;
}

hj_status hj_result_claim_add(hj_result *r, const hj_claim_spec *spec, const hj_claim_measurement *m,
                              hj_error *err)
{
    if (r == NULL || spec == NULL || m == NULL || spec->claim == NULL || spec->statement == NULL)
        return hj_error_set(err, HJ_EINVAL, "claim: NULL argument");
    const char *id = spec->claim;
    if (!isfinite(spec->tolerance) || spec->tolerance < 0.0)
        return hj_error_set(err, HJ_EINVAL, "claim %s: tolerance must be finite and >= 0 (got %g)", id,
                            spec->tolerance);
    if (spec->tolerance_reason == NULL || spec->tolerance_reason[0] == '\0')
        return hj_error_set(err, HJ_EINVAL, "claim %s: the tolerance needs its reason", id);
    if (spec->source == HJ_SOURCE_PAPER && (spec->paper_words == NULL || spec->paper_words[0] == '\0'))
        return hj_error_set(err, HJ_EINVAL, "claim %s: a paper claim needs the paper's statement", id);
    if (spec->form == HJ_FORM_TREND && (fabs(spec->predicted) != 1.0 || spec->tolerance != 0.0))
        return hj_error_set(err, HJ_EINVAL, "claim %s: a trend predicts a sign (+1 or -1) with tolerance 0",
                            id);
    if ((unsigned)spec->form > (unsigned)HJ_FORM_TREND)
        return hj_error_set(err, HJ_EINVAL, "claim %s: unknown form %d", id, (int)spec->form);
    const hj_interval_part *budget = find_part(m, HJ_CLAIM_PART_BUDGET);
    if (spec->trained && budget == NULL)
        return hj_error_set(err, HJ_EINVAL,
                            "claim %s is about trained models: its measurement needs the '%s' part", id,
                            HJ_CLAIM_PART_BUDGET);
    double sum2 = 0.0;
    for (size_t i = 0; i < m->n_parts; i++)
        sum2 += m->parts[i].half_width * m->parts[i].half_width;
    const double half = sqrt(sum2);

    hj_claim *c = new_claim(r, err);
    if (c == NULL)
        return HJ_ENOMEM;
    snprintf(c->claim, sizeof c->claim, "%s", id);
    snprintf(c->statement, sizeof c->statement, "%s", spec->statement);
    c->predicted = spec->predicted;
    c->measured = m->value;
    c->uncertainty = half;
    c->source = spec->source;
    snprintf(c->paper_words, sizeof c->paper_words, "%s", spec->paper_words ? spec->paper_words : "");
    c->form = spec->form;
    c->tolerance = spec->tolerance;
    snprintf(c->tolerance_reason, sizeof c->tolerance_reason, "%s", spec->tolerance_reason);
    c->trained = spec->trained;
    c->lo = m->value - half;
    c->hi = m->value + half;
    c->n_parts = m->n_parts;
    memcpy(c->parts, m->parts, m->n_parts * sizeof *m->parts);
    hj_claim_rule_text(spec->form, spec->predicted, spec->tolerance, c->rule, sizeof c->rule);
    if (spec->trained && !(budget->half_width <= spec->tolerance)) {
        c->verdict = HJ_VERDICT_INCONCLUSIVE;
        snprintf(c->why, sizeof c->why,
                 "not converged: the answer moves by %.4g when the training budget doubles, more than "
                 "the tolerance %.4g",
                 budget->half_width, spec->tolerance);
        return HJ_OK;
    }
    c->verdict = hj_verdict_decide(spec->form, spec->predicted, spec->tolerance, c->lo, c->hi, c->why,
                                   sizeof c->why);
    return HJ_OK;
}

hj_status hj_result_figure(hj_result *r, const char *file, const char *caption, hj_error *err)
{
    if (file == NULL)
        return hj_error_set(err, HJ_EINVAL, "result: NULL figure");
    if (!grow((void **)&r->figures, &r->cap_figures, r->n_figures, sizeof *r->figures))
        return hj_error_set(err, HJ_ENOMEM, "result: out of memory");
    hj_figure *f = &r->figures[r->n_figures++];
    snprintf(f->file, sizeof f->file, "%s", file);
    snprintf(f->caption, sizeof f->caption, "%s", caption ? caption : "");
    return HJ_OK;
}

void hj_result_note(hj_result *r, const char *fmt, ...)
{
    size_t used = strlen(r->notes);
    if (used + 2 >= sizeof r->notes)
        return;
    if (used > 0)
        r->notes[used++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->notes + used, sizeof r->notes - used, fmt, ap);
    va_end(ap);
}

void hj_result_free(hj_result *r)
{
    if (r == NULL)
        return;
    free(r->params);
    free(r->metrics);
    hj_check_list_free(&r->checks);
    free(r->claims);
    free(r->figures);
    memset(r, 0, sizeof *r);
}

hj_status hj_result_path(const hj_result *r, const char *file, char *buf, size_t len, hj_error *err)
{
    int k = snprintf(buf, len, "%s/%s", r->dir, file);
    if (k < 0 || (size_t)k >= len)
        return hj_error_set(err, HJ_EINVAL, "path too long: %s/%s", r->dir, file);
    return HJ_OK;
}

static void write_kvs(FILE *f, const hj_kv *kv, size_t n)
{
    fputc('{', f);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", f);
        hj_json_write_string(f, kv[i].key);
        fputs(": ", f);
        if (kv[i].is_text)
            hj_json_write_string(f, kv[i].text);
        else
            hj_json_write_number(f, kv[i].value);
    }
    fputc('}', f);
}

/* A field of a JSON object: the text before it (separator and "key": ),
 * then its value. */
static void json_str(FILE *f, const char *before, const char *s)
{
    fputs(before, f);
    hj_json_write_string(f, s);
}

static void json_num(FILE *f, const char *before, double v)
{
    fputs(before, f);
    hj_json_write_number(f, v);
}

static void json_bool(FILE *f, const char *before, int b)
{
    fputs(before, f);
    fputs(b ? "true" : "false", f);
}

static void write_claim(FILE *f, const hj_claim *c)
{
    json_str(f, "\"claim\": ", c->claim);
    json_str(f, ", \"statement\": ", c->statement);
    json_num(f, ", \"predicted\": ", c->predicted);
    json_num(f, ", \"measured\": ", c->measured);
    json_num(f, ", \"uncertainty\": ", c->uncertainty);
    json_str(f, ", \"verdict\": ", hj_verdict_name(c->verdict));
    json_str(f, ", \"rule\": ", c->rule);
    json_str(f, ",\n   \"source\": ", hj_claim_source_name(c->source));
    json_str(f, ", \"paper_words\": ", c->paper_words);
    json_str(f, ", \"form\": ", hj_claim_form_name(c->form));
    json_num(f, ", \"tolerance\": ", c->tolerance);
    json_str(f, ", \"tolerance_reason\": ", c->tolerance_reason);
    json_num(f, ",\n   \"interval\": [", c->lo);
    json_num(f, ", ", c->hi);
    fputs("], \"parts\": {", f);
    for (size_t k = 0; k < c->n_parts; k++) {
        json_str(f, k ? ", " : "", c->parts[k].name);
        json_num(f, ": ", c->parts[k].half_width);
    }
    json_bool(f, "}, \"trained\": ", c->trained);
    json_str(f, ", \"why\": ", c->why);
    json_bool(f, ", \"provisional\": ", c->provisional);
    fputc('}', f);
}

static hj_status write_summary(FILE *f, const void *ctx, hj_error *err)
{
    const hj_result *r = ctx;
    json_str(f, "{\"experiment\": ", r->experiment);
    fputs(",\n \"params\": ", f);
    write_kvs(f, r->params, r->n_params);
    fputs(",\n \"metrics\": ", f);
    write_kvs(f, r->metrics, r->n_metrics);
    fputs(",\n \"checks\": ", f);
    hj_status st = hj_check_list_write_json(f, &r->checks, err);
    if (st != HJ_OK)
        return st;
    fputs(",\n \"claims\": [", f);
    for (size_t i = 0; i < r->n_claims; i++) {
        fputs(i ? ",\n  {" : "\n  {", f);
        write_claim(f, &r->claims[i]);
    }
    fputs(r->n_claims ? "\n ],\n \"figures\": [" : "],\n \"figures\": [", f);
    for (size_t i = 0; i < r->n_figures; i++) {
        json_str(f, i ? ", {\"file\": " : "{\"file\": ", r->figures[i].file);
        json_str(f, ", \"caption\": ", r->figures[i].caption);
        fputc('}', f);
    }
    json_str(f, "],\n \"notes\": ", r->notes);
    json_num(f, ",\n \"seconds\": ", r->seconds);
    fputs("}\n", f);
    return ferror(f) ? hj_error_set(err, HJ_EIO, "write error") : HJ_OK;
}

hj_status hj_result_write_summary(const hj_result *r, const char *path, hj_error *err)
{
    hj_io_c_locale loc;
    hj_status st = hj_io_c_locale_enter(&loc, err);
    if (st != HJ_OK)
        return st;
    st = hj_io_write_atomic(path, write_summary, r, err);
    hj_io_c_locale_leave(&loc);
    return st;
}

hj_status hj_result_write_csv(const hj_result *r, const char *file, const char *const *names,
                              const double *data, size_t rows, size_t cols, hj_error *err)
{
    char path[1200];
    hj_status st = hj_result_path(r, file, path, sizeof path, err);
    if (st != HJ_OK)
        return st;
    hj_matrix m = {rows, cols, (double *)data, NULL};
    return hj_csv_write(path, &m, names, err);
}
