/* arch.c — architecture strings, parameter layout, and freeing and copying models (their initialisation: init.c). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/model.h"
#include "model/model-impl.h"

static const struct {
    const char *name;
    hj_layer_kind kind;
} LAYER_NAMES[] = {
    {"dense", HJ_LAYER_DENSE}, {"resnet", HJ_LAYER_RESNET}, {"gibbs", HJ_LAYER_GIBBS},
    {"lse", HJ_LAYER_LSE},     {"lse-class", HJ_LAYER_LSE_CLASS},
    {"rnn", HJ_LAYER_RNN},     {"lstm", HJ_LAYER_LSTM},     {"ssm", HJ_LAYER_SSM},
    {"attn", HJ_LAYER_ATTN},   {"last", HJ_LAYER_POOL_LAST}, {"mean", HJ_LAYER_POOL_MEAN},
};
#define KNOWN_LAYERS "dense, resnet, gibbs, rnn, lstm, ssm, attn, last, mean, lse, lse-class"

static const char *kind_name(hj_layer_kind k)
{
    for (size_t i = 0; i < sizeof LAYER_NAMES / sizeof LAYER_NAMES[0]; i++)
        if (LAYER_NAMES[i].kind == k)
            return LAYER_NAMES[i].name;
    return "?";
}

const char *hj_layer_kind_name(hj_layer_kind k) { return kind_name(k); }

int hj_layer_is_sequence(hj_layer_kind k)
{
    return k == HJ_LAYER_RNN || k == HJ_LAYER_LSTM || k == HJ_LAYER_SSM || k == HJ_LAYER_ATTN;
}

int hj_layer_is_pool(hj_layer_kind k) { return k == HJ_LAYER_POOL_LAST || k == HJ_LAYER_POOL_MEAN; }

/* Width at which a layer's parameter count would overflow sensible memory. */
#define HJ_MAX_WIDTH ((size_t)1 << 24)

/* A positive decimal integer of len bytes at s (at most HJ_MAX_WIDTH); 0 if not. */
static size_t parse_count(const char *s, size_t len)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    for (size_t k = 0; k < len; k++)
        if (!isdigit((unsigned char)buf[k]))
            return 0;
    errno = 0;
    unsigned long long w = strtoull(buf, NULL, 10);
    return errno == ERANGE || w > HJ_MAX_WIDTH ? 0 : (size_t)w;
}

/* One layer token "name", "name:W" or "name:W:opt" (len bytes at p, the
 * index-th layer) -> kind, width and option into L. */
static hj_status parse_token(const char *p, size_t len, size_t index, hj_layer *L, hj_error *err)
{
    const char *colon = memchr(p, ':', len);
    size_t nlen = colon ? (size_t)(colon - p) : len;
    int found = -1;
    for (size_t i = 0; i < sizeof LAYER_NAMES / sizeof LAYER_NAMES[0]; i++)
        if (strlen(LAYER_NAMES[i].name) == nlen && strncmp(LAYER_NAMES[i].name, p, nlen) == 0)
            found = (int)i;
    if (found < 0)
        return hj_error_set(err, HJ_EINVAL, "architecture: unknown layer '%.*s' (known: " KNOWN_LAYERS ")",
                            (int)nlen, p);
    L->kind = LAYER_NAMES[found].kind;
    if (hj_layer_is_pool(L->kind)) {
        if (colon)
            return hj_error_set(err, HJ_EINVAL, "architecture: layer %zu '%.*s': a pool takes no width (write '%s')",
                                index + 1, (int)len, p, kind_name(L->kind));
        return HJ_OK;
    }
    if (colon == NULL)
        return hj_error_set(err, HJ_EINVAL, "architecture: layer %zu '%.*s' needs a width, e.g. '%.*s:16'",
                            index + 1, (int)len, p, (int)len, p);
    const char *num = colon + 1, *opt = memchr(num, ':', len - nlen - 1);
    size_t numlen = opt ? (size_t)(opt - num) : len - nlen - 1;
    L->width = parse_count(num, numlen);
    if (L->width == 0)
        return hj_error_set(err, HJ_EINVAL, "architecture: layer %zu '%.*s': width must be 1..%zu (got '%.*s')",
                            index + 1, (int)len, p, HJ_MAX_WIDTH, (int)numlen, num);
    if (L->kind == HJ_LAYER_ATTN)
        L->heads = 1;
    if (opt == NULL)
        return HJ_OK;
    const char *o = opt + 1;
    size_t olen = len - (size_t)(o - p);
    if (L->kind == HJ_LAYER_RNN && olen == 4 && strncmp(o, "tanh", 4) == 0)
        L->activation = HJ_RNN_TANH;
    else if (L->kind == HJ_LAYER_RNN && olen == 8 && strncmp(o, "softplus", 8) == 0)
        L->activation = HJ_RNN_SOFTPLUS;
    else if (L->kind == HJ_LAYER_RNN)
        return hj_error_set(err, HJ_EINVAL, "architecture: layer %zu '%.*s': the activation is tanh or softplus",
                            index + 1, (int)len, p);
    else if (L->kind == HJ_LAYER_ATTN) {
        L->heads = parse_count(o, olen);
        if (L->heads == 0 || L->width % L->heads != 0)
            return hj_error_set(err, HJ_EINVAL,
                                "architecture: layer %zu '%.*s': the heads must be a positive divisor of the width %zu",
                                index + 1, (int)len, p, L->width);
    } else
        return hj_error_set(err, HJ_EINVAL, "architecture: layer %zu '%.*s': %s takes no option after its width",
                            index + 1, (int)len, p, kind_name(L->kind));
    return HJ_OK;
}

/* Shapes and parameter count of L (kind and width set) on an input of width
 * `width` per step, over T steps (0: the input is a vector). */
static hj_status layer_shape(hj_layer *L, size_t index, size_t width, size_t T, size_t n_classes,
                             hj_error *err)
{
    const size_t H = L->width;
    if (hj_layer_is_sequence(L->kind) || hj_layer_is_pool(L->kind)) {
        if (T == 0)
            return hj_error_set(err, HJ_EINVAL,
                                "architecture: layer %zu (%s) reads sequences, but its input is a vector%s",
                                index + 1, kind_name(L->kind),
                                index == 0 ? " (sequence inputs: an (n, T, d) .npy, or --sequence rows)" : "");
        L->steps = T;
        if (hj_layer_is_pool(L->kind)) {
            L->width = width, L->in = T * width, L->out = width, L->count = 0;
            return HJ_OK;
        }
        const size_t d = width;
        L->step_in = d, L->in = T * d, L->out = T * H;
        switch (L->kind) {
        case HJ_LAYER_RNN: L->count = H * H + H * d + H; break;
        case HJ_LAYER_LSTM: L->count = 4 * H * (H + d) + 4 * H; break;
        case HJ_LAYER_SSM: L->count = H + H * d + H * H + 1 + H; break;
        default: /* attn */ L->count = H * d + H + T * H + 6 * H * H + H; break;
        }
        return HJ_OK;
    }
    if (T > 0)
        return hj_error_set(err, HJ_EINVAL,
                            "architecture: layer %zu (%s) takes vectors, but its input is a sequence of %zu steps: "
                            "%s",
                            index + 1, kind_name(L->kind), T,
                            index == 0 ? "start with a sequence layer (rnn, lstm, ssm, attn) and a pool (last, mean)"
                                       : "pool it first with 'last' or 'mean'");
    L->in = width;
    switch (L->kind) {
    case HJ_LAYER_DENSE:
        L->out = H;
        L->count = H * L->in + H;
        break;
    case HJ_LAYER_RESNET:
        if (H != L->in)
            return hj_error_set(err, HJ_EINVAL,
                                "architecture: layer %zu (resnet:%zu): a residual layer keeps its width, "
                                "but its input is %zu-dimensional (put dense:%zu before it)",
                                index + 1, H, L->in, H);
        L->out = H;
        L->count = H * H + H;
        break;
    case HJ_LAYER_GIBBS:
        L->out = L->in;
        L->count = 2 * H * L->in + H;
        break;
    case HJ_LAYER_LSE:
        if (n_classes > 0)
            return hj_error_set(err, HJ_EINVAL,
                                "architecture: the data have %zu classes: use the readout lse-class:%zu, not lse:%zu",
                                n_classes, H, H);
        L->out = 1;
        L->count = H * L->in + H;
        break;
    case HJ_LAYER_LSE_CLASS:
        if (n_classes == 0)
            return hj_error_set(err, HJ_EINVAL,
                                "architecture: lse-class needs class labels; for regression use lse:%zu", H);
        L->out = n_classes;
        L->count = n_classes * H * (L->in + 1);
        break;
    default:
        break;
    }
    return HJ_OK;
}

hj_status hj_arch_parse_sequence(const char *spec, size_t T, size_t d, size_t n_classes, int output_scale,
                                 hj_arch *arch, hj_error *err)
{
    if (spec == NULL || arch == NULL)
        return hj_error_set(err, HJ_EINVAL, "architecture: NULL argument");
    if (d == 0)
        return hj_error_set(err, HJ_EINVAL, "architecture: input width is 0");
    if (T > 0 && d > (size_t)-1 / T)
        return hj_error_set(err, HJ_EINVAL, "architecture: %zu steps of %zu features is too large", T, d);
    if (n_classes == 1)
        return hj_error_set(err, HJ_EINVAL, "architecture: a classifier needs at least 2 classes");
    memset(arch, 0, sizeof *arch);
    arch->d_in = T > 0 ? T * d : d;
    arch->seq_len = T;
    arch->n_classes = n_classes;
    arch->output_scale = output_scale && n_classes == 0;
    if (output_scale && n_classes > 0)
        return hj_error_set(err, HJ_EINVAL, "architecture: the output scale applies to regression only");
    const char *p = spec;
    size_t width = d, steps = T, offset = 0, index = 0;
    if (*p == '\0')
        return hj_error_set(err, HJ_EINVAL, "architecture: empty (e.g. 'lse:16' or 'dense:12,lse:16')");
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (index >= HJ_MAX_LAYERS)
            return hj_error_set(err, HJ_EINVAL, "architecture: more than %d layers", HJ_MAX_LAYERS);
        if (index > 0) {
            hj_layer_kind prev = arch->layers[index - 1].kind;
            if (prev == HJ_LAYER_LSE || prev == HJ_LAYER_LSE_CLASS)
                return hj_error_set(err, HJ_EINVAL,
                                    "architecture: the readout (%s) must be the last layer", kind_name(prev));
        }
        hj_layer *L = &arch->layers[index];
        hj_status st = parse_token(p, len, index, L, err);
        if (st == HJ_OK)
            st = layer_shape(L, index, width, steps, n_classes, err);
        if (st != HJ_OK)
            return st;
        if (L->count > (size_t)-1 / 16 - offset)
            return hj_error_set(err, HJ_EINVAL, "architecture: layer %zu has too many parameters", index + 1);
        L->offset = offset;
        offset += L->count;
        if (hj_layer_is_sequence(L->kind))
            width = L->width;
        else
            width = L->out, steps = 0;
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

hj_status hj_arch_parse(const char *spec, size_t d_in, size_t n_classes, int output_scale,
                        hj_arch *arch, hj_error *err)
{
    return hj_arch_parse_sequence(spec, 0, d_in, n_classes, output_scale, arch, err);
}

void hj_arch_format(const hj_arch *arch, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < arch->n_layers && used < len; i++) {
        const hj_layer *L = &arch->layers[i];
        int k;
        if (hj_layer_is_pool(L->kind))
            k = snprintf(buf + used, len - used, "%s%s", i ? "," : "", kind_name(L->kind));
        else if (L->kind == HJ_LAYER_ATTN && L->heads > 1)
            k = snprintf(buf + used, len - used, "%sattn:%zu:%zu", i ? "," : "", L->width, L->heads);
        else
            k = snprintf(buf + used, len - used, "%s%s:%zu%s", i ? "," : "", kind_name(L->kind), L->width,
                         L->kind == HJ_LAYER_RNN && L->activation == HJ_RNN_SOFTPLUS ? ":softplus" : "");
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
