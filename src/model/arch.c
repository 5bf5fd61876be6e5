/* arch.c — architecture strings, parameter layout and model allocation/initialisation. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/model.h"
#include "hjdl/rng.h"
#include "model/model-impl.h"

static const struct {
    const char *name;
    hj_layer_kind kind;
} LAYER_NAMES[] = {
    {"dense", HJ_LAYER_DENSE}, {"resnet", HJ_LAYER_RESNET}, {"gibbs", HJ_LAYER_GIBBS},
    {"lse", HJ_LAYER_LSE},     {"lse-class", HJ_LAYER_LSE_CLASS},
};

static const char *kind_name(hj_layer_kind k)
{
    for (size_t i = 0; i < sizeof LAYER_NAMES / sizeof LAYER_NAMES[0]; i++)
        if (LAYER_NAMES[i].kind == k)
            return LAYER_NAMES[i].name;
    return "?";
}

/* Width at which a layer's parameter count would overflow sensible memory. */
#define HJ_MAX_WIDTH ((size_t)1 << 24)

hj_status hj_arch_parse(const char *spec, size_t d_in, size_t n_classes, int output_scale,
                        hj_arch *arch, hj_error *err)
{
    if (spec == NULL || arch == NULL)
        return hj_error_set(err, HJ_EINVAL, "architecture: NULL argument");
    if (d_in == 0)
        return hj_error_set(err, HJ_EINVAL, "architecture: input width is 0");
    if (n_classes == 1)
        return hj_error_set(err, HJ_EINVAL, "architecture: a classifier needs at least 2 classes");
    memset(arch, 0, sizeof *arch);
    arch->d_in = d_in;
    arch->n_classes = n_classes;
    arch->output_scale = output_scale && n_classes == 0;
    if (output_scale && n_classes > 0)
        return hj_error_set(err, HJ_EINVAL, "architecture: the output scale applies to regression only");
    const char *p = spec;
    size_t width = d_in, offset = 0, index = 0;
    if (*p == '\0')
        return hj_error_set(err, HJ_EINVAL, "architecture: empty (e.g. 'lse:16' or 'dense:12,lse:16')");
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (colon == NULL)
            return hj_error_set(err, HJ_EINVAL, "architecture: layer %zu '%.*s' needs a width, e.g. 'lse:16'",
                                index + 1, (int)len, p);
        size_t nlen = (size_t)(colon - p);
        int found = -1;
        for (size_t i = 0; i < sizeof LAYER_NAMES / sizeof LAYER_NAMES[0]; i++)
            if (strlen(LAYER_NAMES[i].name) == nlen && strncmp(LAYER_NAMES[i].name, p, nlen) == 0)
                found = (int)i;
        if (found < 0)
            return hj_error_set(err, HJ_EINVAL,
                                "architecture: unknown layer '%.*s' (known: dense, resnet, gibbs, lse, lse-class)",
                                (int)nlen, p);
        const char *num = colon + 1;
        size_t numlen = len - nlen - 1;
        char buf[32];
        if (numlen == 0 || numlen >= sizeof buf)
            return hj_error_set(err, HJ_EINVAL, "architecture: layer %zu '%.*s': bad width", index + 1, (int)len, p);
        memcpy(buf, num, numlen);
        buf[numlen] = '\0';
        for (size_t k = 0; k < numlen; k++)
            if (!isdigit((unsigned char)buf[k]))
                return hj_error_set(err, HJ_EINVAL, "architecture: layer %zu '%.*s': width '%s' is not a positive integer",
                                    index + 1, (int)len, p, buf);
        errno = 0;
        unsigned long long w = strtoull(buf, NULL, 10);
        if (w == 0 || w > HJ_MAX_WIDTH || errno == ERANGE)
            return hj_error_set(err, HJ_EINVAL, "architecture: layer %zu '%.*s': width must be 1..%zu",
                                index + 1, (int)len, p, HJ_MAX_WIDTH);
        if (index >= HJ_MAX_LAYERS)
            return hj_error_set(err, HJ_EINVAL, "architecture: more than %d layers", HJ_MAX_LAYERS);
        if (index > 0) {
            hj_layer_kind prev = arch->layers[index - 1].kind;
            if (prev == HJ_LAYER_LSE || prev == HJ_LAYER_LSE_CLASS)
                return hj_error_set(err, HJ_EINVAL,
                                    "architecture: the readout (%s) must be the last layer", kind_name(prev));
        }
        hj_layer *L = &arch->layers[index];
        L->kind = LAYER_NAMES[found].kind;
        L->width = (size_t)w;
        L->in = width;
        L->offset = offset;
        switch (L->kind) {
        case HJ_LAYER_DENSE:
            L->out = L->width;
            L->count = L->width * L->in + L->width;
            break;
        case HJ_LAYER_RESNET:
            if (L->width != L->in)
                return hj_error_set(err, HJ_EINVAL,
                                    "architecture: layer %zu (resnet:%zu): a residual layer keeps its width, "
                                    "but its input is %zu-dimensional (put dense:%zu before it)",
                                    index + 1, L->width, L->in, L->width);
            L->out = L->width;
            L->count = L->width * L->width + L->width;
            break;
        case HJ_LAYER_GIBBS:
            L->out = L->in;
            L->count = 2 * L->width * L->in + L->width;
            break;
        case HJ_LAYER_LSE:
            if (n_classes > 0)
                return hj_error_set(err, HJ_EINVAL,
                                    "architecture: the data have %zu classes: use the readout lse-class:%zu, not lse:%zu",
                                    n_classes, L->width, L->width);
            L->out = 1;
            L->count = L->width * L->in + L->width;
            break;
        case HJ_LAYER_LSE_CLASS:
            if (n_classes == 0)
                return hj_error_set(err, HJ_EINVAL,
                                    "architecture: lse-class needs class labels; for regression use lse:%zu", L->width);
            L->out = n_classes;
            L->count = n_classes * L->width * (L->in + 1);
            break;
        }
        offset += L->count;
        width = L->out;
        index++;
        p = comma ? comma + 1 : p + len;
        if (comma && *p == '\0')
            return hj_error_set(err, HJ_EINVAL, "architecture: trailing comma");
    }
    arch->n_layers = index;
    hj_layer_kind last = arch->layers[index - 1].kind;
    if (last != HJ_LAYER_LSE && last != HJ_LAYER_LSE_CLASS)
        return hj_error_set(err, HJ_EINVAL, "architecture: must end in a readout (lse:N or lse-class:N), not %s",
                            kind_name(last));
    arch->n_params = offset + (arch->output_scale ? 2 : 0);
    return HJ_OK;
}

void hj_arch_format(const hj_arch *arch, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < arch->n_layers && used < len; i++) {
        int k = snprintf(buf + used, len - used, "%s%s:%zu", i ? "," : "",
                         kind_name(arch->layers[i].kind), arch->layers[i].width);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

size_t hj_model_n_out(const hj_model *m) { return m->arch.n_classes ? m->arch.n_classes : 1; }

void hj_model_readout_shape(const hj_model *m, size_t *n_atoms, size_t *dim)
{
    const hj_layer *R = &m->arch.layers[m->arch.n_layers - 1];
    if (n_atoms)
        *n_atoms = R->kind == HJ_LAYER_LSE_CLASS ? R->width * R->out : R->width;
    if (dim)
        *dim = R->in;
}

hj_status hj_model_init(hj_model *m, const hj_arch *arch, double eps, double t, uint64_t seed,
                        hj_error *err)
{
    if (m == NULL || arch == NULL)
        return hj_error_set(err, HJ_EINVAL, "model: NULL argument");
    memset(m, 0, sizeof *m);
    if (!(eps >= 0.0) || !isfinite(eps))
        return hj_error_set(err, HJ_EINVAL, "model: eps must be a finite number >= 0 (got %g)", eps);
    if (!(t > 0.0) || !isfinite(t))
        return hj_error_set(err, HJ_EINVAL, "model: t must be a finite number > 0 (got %g)", t);
    if (arch->n_layers == 0 || arch->n_params == 0)
        return hj_error_set(err, HJ_EINVAL, "model: empty architecture");
    m->params = calloc(arch->n_params, sizeof *m->params);
    if (m->params == NULL)
        return hj_error_set(err, HJ_ENOMEM, "model: cannot allocate %zu parameters", arch->n_params);
    m->arch = *arch;
    m->eps = eps;
    m->t = t;
    m->pre.kind = HJ_PRE_NONE;
    m->pre.d_raw = m->pre.d_out = arch->d_in;
    m->y_shift = 0.0, m->y_scale = 1.0;
    hj_rng rng;
    hj_rng_seed(&rng, seed);
    for (size_t l = 0; l < arch->n_layers; l++) {
        const hj_layer *L = &arch->layers[l];
        double *p = m->params + L->offset;
        double sd = 1.0 / sqrt((double)L->in);
        size_t nw; /* number of leading weights drawn N(0, 1/in) */
        switch (L->kind) {
        case HJ_LAYER_DENSE:
        case HJ_LAYER_RESNET:
        case HJ_LAYER_LSE:
            nw = L->width * L->in;
            break;
        case HJ_LAYER_LSE_CLASS:
            nw = L->out * L->width * L->in;
            break;
        case HJ_LAYER_GIBBS:
        default:
            nw = L->width * L->in;
            break;
        }
        for (size_t k = 0; k < nw; k++)
            p[k] = sd * hj_rng_normal(&rng);
        if (L->kind == HJ_LAYER_GIBBS) /* values V (M, in) after K and beta */
            for (size_t k = 0; k < L->width * L->in; k++)
                p[nw + L->width + k] = sd * hj_rng_normal(&rng);
    }
    if (arch->output_scale)
        m->params[arch->n_params - 2] = 1.0; /* a = 1, c = 0 */
    return HJ_OK;
}

void hj_model_free(hj_model *m)
{
    if (m == NULL)
        return;
    hj__model_meta_free(m);
    free(m->params);
    hj_preprocess_free(&m->pre);
    memset(m, 0, sizeof *m);
}

hj_status hj_model_copy(hj_model *dst, const hj_model *src, hj_error *err)
{
    memset(dst, 0, sizeof *dst);
    dst->params = malloc(src->arch.n_params * sizeof *dst->params);
    if (dst->params == NULL)
        return hj_error_set(err, HJ_ENOMEM, "model: out of memory");
    memcpy(dst->params, src->params, src->arch.n_params * sizeof *dst->params);
    dst->arch = src->arch;
    dst->eps = src->eps;
    dst->t = src->t;
    hj_status st = hj_preprocess_copy(&dst->pre, &src->pre, err);
    if (st != HJ_OK) {
        free(dst->params);
        memset(dst, 0, sizeof *dst);
        return st;
    }
    if ((st = hj__model_meta_copy(dst, src, err)) != HJ_OK)
        hj_model_free(dst);
    return st;
}
