/* fuzz_model.c — libFuzzer harness for hj_model_parse: arbitrary bytes must
 * never crash it or make it read outside the buffer; a rejection must leave
 * the model zeroed with a format/NaN status and a message "fuzz.hjm:LINE: ";
 * an accepted model must be internally consistent (arch re-parses to the
 * same layout, finite values, 0 <= eps <= 1e100, 0 < t <= 1e100 (limits.h),
 * preprocessing widths agree)
 * and survive being written again (by a writer in this file) and re-parsed
 * bit for bit.
 *
 * Each input is parsed twice: as given, and with a correct "crc32" line
 * appended, so the fuzzer reaches the checks that sit behind the checksum
 * without having to forge a CRC-32. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hjdl/limits.h"
#include "hjdl/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_model: property violated: %s\n", what);
        abort();
    }
}

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

static void all_finite(const double *v, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        check(isfinite(v[i]), what);
}

static void print_array(FILE *f, const char *key, const double *v, size_t n)
{
    fputs(key, f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, " %.17g", v[i]);
    fputc('\n', f);
}

/* The model as .hjm text (the documented format), with its crc32 line:
 * format 1 for vector models, format 3 (a steps line and the metadata
 * block, without names) for sequence models. */
static char *write_text(const hj_model *m, size_t *len)
{
    static const char *const pre[] = {"none", "standardize", "pca"};
    char *img = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&img, &n);
    check(f != NULL, "open_memstream");
    char spec[1024];
    hj_arch_format(&m->arch, spec, sizeof spec);
    const size_t T = m->arch.seq_len;
    fprintf(f, "HJDL-MODEL %d\narch %s\nd_in %zu\n", T ? 3 : 1, spec, m->arch.d_in);
    if (T)
        fprintf(f, "steps %zu\n", T);
    fprintf(f, "classes %zu\noutput_scale %d\n", m->arch.n_classes, m->arch.output_scale);
    fprintf(f, "eps %.17g\nt %.17g\npreprocess %s\n", m->eps, m->t, pre[m->pre.kind]);
    if (m->pre.kind != HJ_PRE_NONE) {
        fprintf(f, "d_raw %zu\nd_out %zu\n", m->pre.d_raw, m->pre.d_out);
        print_array(f, "mean", m->pre.mean, m->pre.d_raw);
        print_array(f, "scale", m->pre.scale, m->pre.d_out);
        if (m->pre.kind == HJ_PRE_PCA)
            print_array(f, "components", m->pre.components, m->pre.d_out * m->pre.d_raw);
    }
    fprintf(f, "params %zu\n", m->arch.n_params);
    for (size_t i = 0; i < m->arch.n_params; i++)
        fprintf(f, "%.17g\n", m->params[i]);
    if (T)
        fprintf(f, "target_shift %.17g\ntarget_scale %.17g\ntarget_name 0\nfeature_names 0\n"
                   "class_labels 0\neps_curve 0\n", m->y_shift, m->y_scale);
    fflush(f);
    uLong c = crc32(0L, (const Bytef *)img, (uInt)n);
    fprintf(f, "crc32 %08lx\n", c & 0xffffffffUL);
    fclose(f);
    *len = n;
    return img;
}

static void same_bits(const double *a, const double *b, size_t n, const char *what)
{
    check((a == NULL) == (b == NULL), what);
    if (n > 0 && a != NULL)
        check(memcmp(a, b, n * sizeof *a) == 0, what);
}

static void run(const char *text, size_t len)
{
    hj_model m;
    memset(&m, 0xab, sizeof m);
    hj_error e = {0};
    hj_status st = hj_model_parse(&m, text, len, "fuzz.hjm", &e);
    if (st != HJ_OK) {
        check(st == e.code, "status recorded in err");
        check(st == HJ_EFORMAT || st == HJ_ENAN, "only format/NaN errors for bytes");
        check(strncmp(e.msg, "fuzz.hjm:", 9) == 0, "message names the file");
        const char *p = e.msg + 9;
        check(*p >= '1' && *p <= '9', "message gives a line number");
        while (*p >= '0' && *p <= '9')
            p++;
        check(p[0] == ':' && p[1] == ' ', "message is NAME:LINE: ...");
        check(all_zero(&m, sizeof m), "model zeroed on failure");
        return;
    }

    /* consistency of what was accepted */
    const hj_arch *a = &m.arch;
    check(a->n_layers >= 1 && a->n_params >= 1 && m.params != NULL, "non-empty model");
    check(m.eps >= 0.0 && m.eps <= HJ_MAX_SCALE, "0 <= eps <= HJ_MAX_SCALE");
    check(m.t > 0.0 && m.t <= HJ_MAX_SCALE, "0 < t <= HJ_MAX_SCALE");
    all_finite(m.params, a->n_params, "finite parameters");
    char spec[1024];
    hj_arch_format(a, spec, sizeof spec);
    hj_arch again;
    check(a->seq_len == 0 || a->d_in % a->seq_len == 0, "steps divide d_in");
    check(hj_arch_parse_sequence(spec, a->seq_len, a->seq_len ? a->d_in / a->seq_len : a->d_in,
                                 a->n_classes, a->output_scale, &again, &e) == HJ_OK,
          "arch re-parses");
    check(again.n_params == a->n_params && again.n_layers == a->n_layers, "arch layout");
    for (size_t l = 0; l < a->n_layers; l++)
        check(again.layers[l].offset == a->layers[l].offset &&
                  again.layers[l].count == a->layers[l].count,
              "layer slices");
    const hj_preprocess *p = &m.pre;
    check(p->kind == HJ_PRE_NONE || p->kind == HJ_PRE_STANDARDIZE || p->kind == HJ_PRE_PCA,
          "preprocess kind");
    check(p->d_out == a->d_in && p->d_out >= 1 && p->d_out <= p->d_raw, "preprocess widths");
    if (p->kind == HJ_PRE_NONE) {
        check(p->mean == NULL && p->scale == NULL && p->components == NULL, "no arrays for none");
    } else {
        check(p->mean != NULL && p->scale != NULL, "mean and scale");
        all_finite(p->mean, p->d_raw, "finite mean");
        for (size_t i = 0; i < p->d_out; i++)
            check(p->scale[i] > 0.0 && isfinite(p->scale[i]), "scale > 0");
        check((p->kind == HJ_PRE_PCA) == (p->components != NULL), "components iff pca");
        if (p->kind == HJ_PRE_STANDARDIZE)
            check(p->d_raw == p->d_out, "standardize keeps the width");
        else
            all_finite(p->components, p->d_out * p->d_raw, "finite components");
    }

    /* written again and re-parsed: the same bits */
    size_t n2;
    char *img = write_text(&m, &n2);
    hj_model r;
    st = hj_model_parse(&r, img, n2, "again.hjm", &e);
    if (st != HJ_OK)
        fprintf(stderr, "fuzz_model: re-parse failed: %s\n", e.msg);
    check(st == HJ_OK, "written model parses");
    check(r.arch.n_params == a->n_params && r.arch.d_in == a->d_in && r.arch.seq_len == a->seq_len &&
              r.arch.n_classes == a->n_classes && r.arch.output_scale == a->output_scale,
          "round trip arch");
    check(memcmp(&r.eps, &m.eps, sizeof m.eps) == 0 && memcmp(&r.t, &m.t, sizeof m.t) == 0,
          "round trip eps, t");
    same_bits(r.params, m.params, a->n_params, "round trip params");
    check(r.pre.kind == p->kind && r.pre.d_raw == p->d_raw && r.pre.d_out == p->d_out,
          "round trip preprocess");
    same_bits(r.pre.mean, p->mean, p->d_raw, "round trip mean");
    same_bits(r.pre.scale, p->scale, p->d_out, "round trip scale");
    same_bits(r.pre.components, p->components, p->d_out * p->d_raw, "round trip components");
    hj_model_free(&r);
    free(img);
    hj_model_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run((const char *)data, size);

    /* the same bytes followed by the crc32 line they deserve */
    char *buf = malloc(size + 16);
    check(buf != NULL, "malloc");
    if (size > 0)
        memcpy(buf, data, size);
    uLong c = crc32(0L, (const Bytef *)data, (uInt)size);
    int k = snprintf(buf + size, 16, "crc32 %08lx\n", c & 0xffffffffUL);
    check(k == 15, "crc line");
    run(buf, size + 15);
    free(buf);
    return 0;
}
