/* modelfile.c — the .hjm model file: atomic CRC-32-protected writer and a validating parser.
 *
 * Format (text, C locale, one item per line, '\n' line ends):
 *   HJDL-MODEL 2                       (3 for sequence models)
 *   arch dense:12,lse:16
 *   d_in 2
 *   steps 28                           (format 3 on: T of a sequence model
 *                                       (d_in = T*d), 0 for vectors)
 *   classes 0
 *   output_scale 0
 *   eps 0.35
 *   t 1
 *   preprocess none|standardize|pca
 *   d_raw 784                          (only when preprocess != none)
 *   d_out 50                           (only when preprocess != none)
 *   mean <d_raw values>                (only when preprocess != none)
 *   scale <d_out values>               (only when preprocess != none)
 *   components <d_out*d_raw values>    (pca only; row-major (d_out, d_raw))
 *   params <n_params>
 *   <n_params lines, one value each>
 *   target_shift 0                     (format 2 on: regression target scaling,
 *   target_scale 1                      y = shift + scale * f)
 *   target_name <0|1>, then that many lines: the target column's name
 *   feature_names <0|d_raw>, then that many lines: the raw input columns
 *   class_labels <0|classes>, then that many lines: the user's label of
 *                                      class 0, 1, ... (distinct)
 *   eps_curve <k>, then k lines "eps validation_loss" (eps chosen on held-out data)
 *   crc32 <8 lowercase hex digits>     (zlib crc32 of every byte before this line)
 * A name is a whole line: any bytes but control characters, at most
 * HJM_MAX_NAME bytes. Format 1 files end after the parameters (no
 * metadata) and are still read. Vector models are written as format 2 (the
 * files of earlier versions, byte for byte); sequence models as format 3,
 * the first with the steps line, so that a build without sequence models
 * refuses them as written by a newer hjdl.
 * Values are printed with %.17g (exact round trip) and separated by single
 * spaces. Numbers must match [+-](D+[.D*] | .D+)[(e|E)[+-]D+]; NaN and
 * infinities (and overflow to them) are refused with HJ_ENAN.
 *
 * Parsing order: the magic line and version first (so a foreign or newer
 * file gets a message saying so), then the checksum whenever the buffer ends
 * in a well-formed crc32 line (so any corrupted byte reads "checksum
 * mismatch"), then every key in order. A file whose last line is not a
 * crc32 line is parsed structurally and refused for the first problem met
 * (usually "truncated at line N", or trailing garbage after the crc line).
 * The parser never reads past len, needs no NUL terminator, and allocates
 * at most a small multiple of len (array counts are checked against the
 * bytes that could hold them before any allocation).
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hjdl/limits.h"
#include "hjdl/model.h"
#include "io/io.h"
#include "model/model-impl.h"

static int is_digit(char c) { return c >= '0' && c <= '9'; }

#define HJM_MAGIC "HJDL-MODEL"
#define HJM_VERSION 3                       /* the newest format read */
#define HJM_VERSION_VECTOR 2                /* what vector models are written as */
#define HJM_MAX_NAME 4096                   /* bytes of one name or label */
#define HJM_MAX_PARAMS ((size_t)1000000000) /* parameters in one file */
#define HJM_MAX_DIM ((size_t)10000000)      /* d_in, d_raw, d_out */
#define HJM_MAX_ARCH 1024                   /* bytes of the arch string */
#define HJM_MAX_NUMBER 128                  /* bytes of one number */
#define HJM_EXCERPT 40
#define HJM_CRC_LINE 14                     /* strlen("crc32 XXXXXXXX") */

#if defined(__GNUC__)
#define HJM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define HJM_PRINTF(a, b)
#endif

static const char *const PRE_NAMES[] = {"none", "standardize", "pca"};

/* zlib's crc32 over a buffer of any size (its length argument is a uInt). */
static uint32_t crc_update(uint32_t crc, const char *p, size_t n)
{
    uLong c = crc;
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, (const Bytef *)p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)(c & 0xffffffffUL);
}

/* ---- validation shared by the writer ------------------------------------ */

/* HJ_OK if the preprocessing is storable for a model of input width d_in. */
static hj_status check_preprocess(const hj_preprocess *p, size_t d_in, hj_error *err)
{
    if (p->kind == HJ_PRE_NONE)
        return HJ_OK;
    if (p->kind != HJ_PRE_STANDARDIZE && p->kind != HJ_PRE_PCA)
        return hj_error_set(err, HJ_EINVAL, "model: unknown preprocessing kind %d", (int)p->kind);
    if (p->d_raw == 0 || p->d_raw > HJM_MAX_DIM || p->d_out == 0 || p->d_out > p->d_raw)
        return hj_error_set(err, HJ_EINVAL,
                            "model: preprocessing widths d_raw %zu, d_out %zu (need 1 <= d_out <= "
                            "d_raw <= %zu)",
                            p->d_raw, p->d_out, HJM_MAX_DIM);
    if (p->kind == HJ_PRE_STANDARDIZE && p->d_out != p->d_raw)
        return hj_error_set(err, HJ_EINVAL, "model: standardisation keeps the width, but d_raw %zu != d_out %zu",
                            p->d_raw, p->d_out);
    if (p->d_out != d_in)
        return hj_error_set(err, HJ_EINVAL,
                            "model: preprocessing gives %zu features but the model takes d_in %zu",
                            p->d_out, d_in);
    if (p->mean == NULL || p->scale == NULL || (p->kind == HJ_PRE_PCA && p->components == NULL))
        return hj_error_set(err, HJ_EINVAL, "model: preprocessing arrays missing");
    for (size_t i = 0; i < p->d_raw; i++)
        if (!isfinite(p->mean[i]))
            return hj_error_set(err, HJ_ENAN, "model: preprocessing mean %zu is not finite", i + 1);
    for (size_t i = 0; i < p->d_out; i++) {
        if (!isfinite(p->scale[i]))
            return hj_error_set(err, HJ_ENAN, "model: preprocessing scale %zu is not finite", i + 1);
        if (!(p->scale[i] > 0.0))
            return hj_error_set(err, HJ_EINVAL, "model: preprocessing scale %zu is %g; it must be > 0",
                                i + 1, p->scale[i]);
    }
    if (p->kind == HJ_PRE_PCA)
        for (size_t i = 0; i < p->d_out * p->d_raw; i++)
            if (!isfinite(p->components[i]))
                return hj_error_set(err, HJ_ENAN, "model: PCA component entry %zu is not finite", i + 1);
    return HJ_OK;
}

/* HJ_OK if the name can be stored on one line. */
static hj_status check_name(const char *s, const char *what, size_t k, hj_error *err)
{
    if (s == NULL)
        return hj_error_set(err, HJ_EINVAL, "model: %s %zu missing", what, k + 1);
    size_t n = strlen(s);
    if (n > HJM_MAX_NAME)
        return hj_error_set(err, HJ_EINVAL, "model: %s %zu is longer than %d bytes", what, k + 1,
                            HJM_MAX_NAME);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return hj_error_set(err, HJ_EINVAL, "model: %s %zu holds a control character", what,
                                k + 1);
    return HJ_OK;
}

/* HJ_OK if the metadata (format 2) can be written and read back. */
static hj_status check_meta(const hj_model *m, hj_error *err)
{
    if (!isfinite(m->y_shift) || !isfinite(m->y_scale) || !(m->y_scale > 0.0))
        return hj_error_set(err, HJ_EINVAL, "model: target scaling %g + %g f (need finite, scale > 0)",
                            m->y_shift, m->y_scale);
    hj_status st = HJ_OK;
    if (m->target_name)
        st = check_name(m->target_name, "target name", 0, err);
    for (size_t k = 0; st == HJ_OK && m->feature_names && k < m->pre.d_raw; k++)
        st = check_name(m->feature_names[k], "feature name", k, err);
    for (size_t k = 0; st == HJ_OK && m->class_labels && k < m->arch.n_classes; k++) {
        st = check_name(m->class_labels[k], "class label", k, err);
        for (size_t j = 0; st == HJ_OK && j < k; j++)
            if (strcmp(m->class_labels[j], m->class_labels[k]) == 0)
                st = hj_error_set(err, HJ_EINVAL, "model: class labels %zu and %zu are both '%s'", j + 1,
                                  k + 1, m->class_labels[k]);
    }
    for (size_t k = 0; st == HJ_OK && k < m->n_eps_curve; k++)
        if (!(m->eps_grid[k] >= 0.0) || !isfinite(m->eps_grid[k]) || isnan(m->eps_val_loss[k]))
            st = hj_error_set(err, HJ_EINVAL, "model: eps curve point %zu is not finite", k + 1);
    return st;
}

/* HJ_OK if m can be written and read back; spec gets the arch string. */
static hj_status check_model(const hj_model *m, char *spec, size_t speclen, hj_error *err)
{
    if (m->params == NULL || m->arch.n_layers == 0 || m->arch.n_layers > HJ_MAX_LAYERS)
        return hj_error_set(err, HJ_EINVAL, "model: not initialised (no layers or parameters)");
    if (!(m->eps >= 0.0 && m->eps <= HJ_MAX_SCALE))
        return hj_error_set(err, HJ_EINVAL, "model: eps must be in [0, %g] (got %g)", HJ_MAX_SCALE, m->eps);
    if (!(m->t > 0.0 && m->t <= HJ_MAX_SCALE))
        return hj_error_set(err, HJ_EINVAL, "model: t must be in (0, %g] (got %g)", HJ_MAX_SCALE, m->t);
    if (m->arch.d_in > HJM_MAX_DIM || m->arch.n_params > HJM_MAX_PARAMS)
        return hj_error_set(err, HJ_EINVAL, "model: too large to store (d_in %zu, %zu parameters)",
                            m->arch.d_in, m->arch.n_params);
    hj_arch_format(&m->arch, spec, speclen);
    hj_arch again;
    hj_error e2 = {0};
    const size_t T = m->arch.seq_len;
    if (T > 0 && m->arch.d_in % T != 0)
        return hj_error_set(err, HJ_EINVAL, "model: %zu steps do not divide the input width d_in %zu", T,
                            m->arch.d_in);
    if (hj_arch_parse_sequence(spec, T, T > 0 ? m->arch.d_in / T : m->arch.d_in, m->arch.n_classes,
                               m->arch.output_scale, &again, &e2) != HJ_OK)
        return hj_error_set(err, HJ_EINVAL, "model: its architecture does not re-parse: %s", e2.msg);
    if (again.n_params != m->arch.n_params)
        return hj_error_set(err, HJ_EINVAL,
                            "model: architecture '%s' has %zu parameters but the model holds %zu", spec,
                            again.n_params, m->arch.n_params);
    for (size_t i = 0; i < m->arch.n_params; i++)
        if (!isfinite(m->params[i]))
            return hj_error_set(err, HJ_ENAN,
                                "model: parameter %zu is %s; refusing to write a file that cannot be "
                                "loaded",
                                i + 1, isnan(m->params[i]) ? "NaN" : "infinite");
    hj_status st = check_preprocess(&m->pre, m->arch.d_in, err);
    if (st == HJ_OK)
        st = check_meta(m, err);
    return st;
}

/* ---- writer ------------------------------------------------------------- */

typedef struct hjm_out {
    FILE *f;
    uint32_t crc;       /* of everything flushed so far */
    int failed;         /* a write failed */
    size_t used;
    char buf[1 << 16];
} hjm_out;

static void out_flush(hjm_out *o)
{
    if (o->used == 0)
        return;
    o->crc = crc_update(o->crc, o->buf, o->used);
    if (fwrite(o->buf, 1, o->used, o->f) != o->used)
        o->failed = 1;
    o->used = 0;
}

/* Append printf output (one key or number per call: far below the buffer
 * size); flushes first when it does not fit. */
static void out_printf(hjm_out *o, const char *fmt, ...) HJM_PRINTF(2, 3);
static void out_printf(hjm_out *o, const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        size_t room = sizeof o->buf - o->used;
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(o->buf + o->used, room, fmt, ap);
        va_end(ap);
        if (k < 0)
            break;
        if ((size_t)k < room) {
            o->used += (size_t)k;
            return;
        }
        out_flush(o); /* drops the partial text: o->used was not advanced */
    }
    o->failed = 1;
}

static void out_array(hjm_out *o, const char *key, const double *v, size_t n)
{
    out_printf(o, "%s", key);
    for (size_t i = 0; i < n; i++)
        out_printf(o, " %.17g", v[i]);
    out_printf(o, "\n");
}

/* "KEY k" then k lines, one string each. */
static void out_names(hjm_out *o, const char *key, char *const *names, size_t k)
{
    out_printf(o, "%s %zu\n", key, names ? k : 0);
    for (size_t i = 0; names && i < k; i++)
        out_printf(o, "%s\n", names[i]);
}

/* The format-2 metadata block (after the parameters). */
static void write_meta(hjm_out *o, const hj_model *m)
{
    out_printf(o, "target_shift %.17g\n", m->y_shift);
    out_printf(o, "target_scale %.17g\n", m->y_scale);
    char *target[1] = {m->target_name};
    out_names(o, "target_name", m->target_name ? target : NULL, 1);
    out_names(o, "feature_names", m->feature_names, m->pre.d_raw);
    out_names(o, "class_labels", m->class_labels, m->arch.n_classes);
    out_printf(o, "eps_curve %zu\n", m->n_eps_curve);
    for (size_t k = 0; k < m->n_eps_curve; k++) {
        /* an infinite validation loss (a diverged trial) is stored as a huge number */
        double v = isfinite(m->eps_val_loss[k]) ? m->eps_val_loss[k] : 1.7976931348623157e308;
        out_printf(o, "%.17g %.17g\n", m->eps_grid[k], v);
    }
}

typedef struct save_ctx {
    const hj_model *m;
    const char *spec;
} save_ctx;

static hj_status write_model(FILE *f, const void *vctx, hj_error *err)
{
    const save_ctx *c = vctx;
    const hj_model *m = c->m;
    hjm_out *o = malloc(sizeof *o);
    if (o == NULL)
        return hj_error_set(err, HJ_ENOMEM, "out of memory");
    o->f = f;
    o->crc = crc_update(0, NULL, 0);
    o->failed = 0;
    o->used = 0;

    out_printf(o, "%s %d\n", HJM_MAGIC, m->arch.seq_len > 0 ? HJM_VERSION : HJM_VERSION_VECTOR);
    out_printf(o, "arch %s\n", c->spec);
    out_printf(o, "d_in %zu\n", m->arch.d_in);
    if (m->arch.seq_len > 0)
        out_printf(o, "steps %zu\n", m->arch.seq_len);
    out_printf(o, "classes %zu\n", m->arch.n_classes);
    out_printf(o, "output_scale %d\n", m->arch.output_scale ? 1 : 0);
    out_printf(o, "eps %.17g\n", m->eps);
    out_printf(o, "t %.17g\n", m->t);
    const hj_preprocess *p = &m->pre;
    out_printf(o, "preprocess %s\n", PRE_NAMES[p->kind]);
    if (p->kind != HJ_PRE_NONE) {
        out_printf(o, "d_raw %zu\n", p->d_raw);
        out_printf(o, "d_out %zu\n", p->d_out);
        out_array(o, "mean", p->mean, p->d_raw);
        out_array(o, "scale", p->scale, p->d_out);
        if (p->kind == HJ_PRE_PCA)
            out_array(o, "components", p->components, p->d_out * p->d_raw);
    }
    out_printf(o, "params %zu\n", m->arch.n_params);
    for (size_t i = 0; i < m->arch.n_params; i++)
        out_printf(o, "%.17g\n", m->params[i]);
    write_meta(o, m);
    out_flush(o);
    /* the checksum line itself is not covered by the checksum */
    if (fprintf(f, "crc32 %08lx\n", (unsigned long)o->crc) < 0)
        o->failed = 1;
    int failed = o->failed;
    free(o);
    if (failed)
        return hj_error_set(err, HJ_EIO, "write failed");
    return HJ_OK;
}

/* Write m to path as a .hjm file (see the top of this file), atomically:
 * a temporary file in the same directory, fsync'd and renamed over path.
 * Refuses (HJ_EINVAL / HJ_ENAN, nothing written) a model that could not be
 * loaded back: non-finite values, eps < 0, t <= 0, inconsistent
 * architecture or preprocessing. HJ_EIO "PATH: ..." when writing fails;
 * path is then untouched. */
hj_status hj_model_save(const hj_model *m, const char *path, hj_error *err)
{
    if (m == NULL || path == NULL || path[0] == '\0')
        return hj_error_set(err, HJ_EINVAL, "hj_model_save: NULL model or empty path");
    char spec[HJM_MAX_ARCH];
    hj_status st = check_model(m, spec, sizeof spec, err);
    if (st != HJ_OK) {
        hj_error_prefix(err, "%s: ", path);
        return st;
    }
    hj_io_c_locale loc;
    st = hj_io_c_locale_enter(&loc, err);
    if (st != HJ_OK)
        return st;
    save_ctx ctx = {m, spec};
    st = hj_io_write_atomic(path, write_model, &ctx, err);
    hj_io_c_locale_leave(&loc);
    return st;
}

/* ---- parser ------------------------------------------------------------- */

typedef struct reader {
    const char *s;
    size_t len;
    size_t pos;         /* start of the next line */
    size_t line;        /* 1-based number of the line last returned */
    const char *name;
    hj_error *err;
    size_t crc_ok_at;   /* offset of a crc32 line already verified, or SIZE_MAX */
    unsigned version;   /* format of the file (1 to 3) */
} reader;

/* A message "NAME:LINE: ..." into r->err. */
static hj_status fail(const reader *r, hj_status code, size_t line, const char *fmt, ...)
    HJM_PRINTF(4, 5);
static hj_status fail(const reader *r, hj_status code, size_t line, const char *fmt, ...)
{
    char msg[HJ_ERROR_MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hj_error_set(r->err, code, "%s:%zu: %s", r->name, line, msg);
}

/* Next line [*p, *p + *n) without its '\n'; *term says whether it had one.
 * Returns 0 at the end of the buffer. */
static int next_line(reader *r, const char **p, size_t *n, int *term)
{
    if (r->pos >= r->len)
        return 0;
    const char *start = r->s + r->pos;
    const char *nl = memchr(start, '\n', r->len - r->pos);
    *p = start;
    if (nl != NULL) {
        *n = (size_t)(nl - start);
        *term = 1;
        r->pos += *n + 1;
    } else {
        *n = r->len - r->pos;
        *term = 0;
        r->pos = r->len;
    }
    r->line++;
    return 1;
}

static hj_status truncated(const reader *r, size_t line, const char *expect)
{
    return fail(r, HJ_EFORMAT, line, "truncated at line %zu (expected %s)", line, expect);
}

/* The line "KEY VALUE": *v, *vn get VALUE. A missing or unterminated line is
 * truncation; another key is an error naming both. */
static hj_status want_key(reader *r, const char *key, const char **v, size_t *vn)
{
    char expect[64];
    snprintf(expect, sizeof expect, "'%s ...'", key);
    const char *p;
    size_t n;
    int term;
    if (!next_line(r, &p, &n, &term))
        return truncated(r, r->line + 1, expect);
    if (!term)
        return truncated(r, r->line, expect);
    size_t kl = strlen(key);
    if (n <= kl || memcmp(p, key, kl) != 0 || p[kl] != ' ') {
        char ex[HJM_EXCERPT];
        hj_io_excerpt(ex, sizeof ex, p, n);
        return fail(r, HJ_EFORMAT, r->line, "expected %s, found '%s'", expect, ex);
    }
    *v = p + kl + 1;
    *vn = n - kl - 1;
    return HJ_OK;
}


/* Case-insensitive: does s[0..n) (after an optional sign) start with word? */
static int starts_with_word(const char *s, size_t n, const char *word)
{
    size_t i = 0;
    if (n > 0 && (s[0] == '+' || s[0] == '-'))
        i = 1;
    size_t wl = strlen(word);
    if (n - i < wl)
        return 0;
    for (size_t k = 0; k < wl; k++) {
        char c = s[i + k];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[k])
            return 0;
    }
    return 1;
}

/* One finite double from s[0..n); `what` names it in messages ("eps",
 * "parameter 17", "value 3 of mean"). */
static hj_status parse_double(const reader *r, const char *s, size_t n, const char *what, double *out)
{
    char ex[HJM_EXCERPT];
    if (starts_with_word(s, n, "nan"))
        return fail(r, HJ_ENAN, r->line, "%s is NaN; a model must hold finite numbers", what);
    if (starts_with_word(s, n, "inf"))
        return fail(r, HJ_ENAN, r->line, "%s is infinite; a model must hold finite numbers", what);
    if (n == 0)
        return fail(r, HJ_EFORMAT, r->line, "%s is empty (values are separated by single spaces)", what);
    if (n >= HJM_MAX_NUMBER || !hj_number_syntax(s, n)) {
        hj_io_excerpt(ex, sizeof ex, s, n);
        return fail(r, HJ_EFORMAT, r->line, "%s is not a decimal number: '%s'", what, ex);
    }
    char buf[HJM_MAX_NUMBER];
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end != buf + n) {
        hj_io_excerpt(ex, sizeof ex, s, n);
        return fail(r, HJ_EFORMAT, r->line, "%s is not a decimal number: '%s'", what, ex);
    }
    if (!isfinite(v)) {
        hj_io_excerpt(ex, sizeof ex, s, n);
        return fail(r, HJ_ENAN, r->line, "%s '%s' overflows to infinity; a model must hold finite numbers",
                    what, ex);
    }
    *out = v;
    return HJ_OK;
}

/* The line "KEY N" with 0 <= N <= max (decimal digits only). */
static hj_status want_size(reader *r, const char *key, size_t max, size_t *out)
{
    const char *v;
    size_t n;
    hj_status st = want_key(r, key, &v, &n);
    if (st != HJ_OK)
        return st;
    char ex[HJM_EXCERPT];
    size_t x = 0;
    int ok = n > 0 && n <= 19;
    for (size_t i = 0; ok && i < n; i++) {
        if (!is_digit(v[i]))
            ok = 0;
        else
            x = x * 10 + (size_t)(v[i] - '0'); /* 19 digits fit in 64 bits */
    }
    if (!ok) {
        hj_io_excerpt(ex, sizeof ex, v, n);
        return fail(r, HJ_EFORMAT, r->line, "%s: '%s' is not a non-negative integer", key, ex);
    }
    if (x > max)
        return fail(r, HJ_EFORMAT, r->line, "%s %zu exceeds the limit of %zu", key, x, max);
    *out = x;
    return HJ_OK;
}

/* The line "KEY v1 v2 ... vcount" into a fresh array *out (caller frees). */
static hj_status want_array(reader *r, const char *key, size_t count, double **out)
{
    const char *v;
    size_t n;
    *out = NULL;
    hj_status st = want_key(r, key, &v, &n);
    if (st != HJ_OK)
        return st;
    /* count values need at least 2 count - 1 bytes: check before allocating */
    if (count > (n + 1) / 2) {
        size_t found = 0; /* runs of non-spaces */
        for (size_t i = 0; i < n; i++)
            found += v[i] != ' ' && (i == 0 || v[i - 1] == ' ');
        return fail(r, HJ_EFORMAT, r->line, "%s: expected %zu values, found %zu", key, count, found);
    }
    double *a = malloc(count * sizeof *a);
    if (a == NULL)
        return fail(r, HJ_ENOMEM, r->line, "%s: cannot allocate %zu values", key, count);
    size_t i = 0, k = 0;
    for (; k < count; k++) {
        size_t j = i;
        while (j < n && v[j] != ' ')
            j++;
        if (j == i && j >= n) {
            free(a);
            return fail(r, HJ_EFORMAT, r->line, "%s: expected %zu values, found %zu", key, count, k);
        }
        char what[64];
        snprintf(what, sizeof what, "value %zu of %s", k + 1, key);
        st = parse_double(r, v + i, j - i, what, &a[k]);
        if (st != HJ_OK) {
            free(a);
            return st;
        }
        i = j + 1; /* past the space (or past the end) */
    }
    if (i <= n) { /* the last value was followed by a space */
        free(a);
        return fail(r, HJ_EFORMAT, r->line, "%s: more than %zu values (or a trailing space)", key, count);
    }
    *out = a;
    return HJ_OK;
}

/* The arch, its line and the numbers it depends on (T: steps of a
 * sequence model, d_in = T*d; 0: vectors) -> arch. Guards the classifier's
 * parameter count against overflow before the real parse. */
static hj_status build_arch(const reader *r, const char *spec, size_t line, size_t d_in, size_t T,
                            size_t classes, int oscale, hj_arch *arch)
{
    hj_error e2 = {0};
    const size_t d = T > 0 ? d_in / T : d_in;
    if (classes >= 2) {
        /* the readout's count is classes * N * (in + 1): parse with 2 classes
         * first to learn N and in, which hj_arch_parse bounds */
        if (hj_arch_parse_sequence(spec, T, d, 2, oscale, arch, &e2) != HJ_OK)
            return fail(r, HJ_EFORMAT, line, "arch '%s': %s", spec, e2.msg);
        const hj_layer *R = &arch->layers[arch->n_layers - 1];
        size_t per_class = R->width * (R->in + 1);
        if (classes > HJM_MAX_PARAMS / per_class)
            return fail(r, HJ_EFORMAT, line,
                        "arch '%s' with %zu classes has more than %zu parameters", spec, classes,
                        HJM_MAX_PARAMS);
    }
    if (hj_arch_parse_sequence(spec, T, d, classes, oscale, arch, &e2) != HJ_OK)
        return fail(r, HJ_EFORMAT, line, "arch '%s': %s", spec, e2.msg);
    return HJ_OK;
}

/* If the buffer ends in "crc32 XXXXXXXX" (+ optional '\n'), the offset of
 * that "crc32" and the stored value; otherwise 0. */
static int find_crc_tail(const char *s, size_t len, size_t *at, uint32_t *stored)
{
    size_t n = len;
    if (n > 0 && s[n - 1] == '\n')
        n--;
    if (n < HJM_CRC_LINE)
        return 0;
    const char *p = s + n - HJM_CRC_LINE;
    if (memcmp(p, "crc32 ", 6) != 0)
        return 0;
    uint32_t x = 0;
    for (size_t i = 6; i < HJM_CRC_LINE; i++) {
        char c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return 0;
        x = (x << 4) | d;
    }
    *at = n - HJM_CRC_LINE;
    *stored = x;
    return 1;
}

/* Is s[0..n) a prefix of "crc32 " followed by lowercase hex digits? */
static int crc_prefix(const char *s, size_t n)
{
    static const char head[] = "crc32 ";
    if (n > HJM_CRC_LINE)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (i < 6 ? c != head[i] : !(is_digit(c) || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

/* "KEY k" (k == 0 or k == want) then k name lines into a fresh array
 * *out (NULL for k == 0; entries allocated as read, so a partial array is
 * freed by hj__strings_free(*out, want)). distinct: refuse repeats. */
static hj_status want_names(reader *r, const char *key, size_t want, int distinct, char ***out)
{
    size_t k;
    *out = NULL;
    hj_status st = want_size(r, key, HJM_MAX_DIM, &k);
    if (st != HJ_OK)
        return st;
    if (k == 0)
        return HJ_OK;
    if (k != want)
        return fail(r, HJ_EFORMAT, r->line, "%s %zu: expected 0 or %zu names", key, k, want);
    /* k complete lines must follow: count them before allocating */
    size_t lines = 0;
    for (const char *q = r->s + r->pos, *e = r->s + r->len; lines < k && q < e; lines++) {
        if ((q = memchr(q, '\n', (size_t)(e - q))) == NULL)
            break;
        q++;
    }
    if (lines < k)
        return truncated(r, r->line + lines + 1, key);
    char **a = calloc(k, sizeof *a);
    if (a == NULL)
        return fail(r, HJ_ENOMEM, r->line, "%s: cannot allocate %zu names", key, k);
    *out = a;
    for (size_t i = 0; i < k; i++) {
        const char *p;
        size_t n;
        int term;
        if (!next_line(r, &p, &n, &term) || !term) /* cannot happen: counted above */
            return truncated(r, r->line, key);
        if (n > HJM_MAX_NAME)
            return fail(r, HJ_EFORMAT, r->line, "%s: name %zu is longer than %d bytes", key, i + 1,
                        HJM_MAX_NAME);
        for (size_t j = 0; j < n; j++)
            if ((unsigned char)p[j] < 0x20 || p[j] == 0x7f)
                return fail(r, HJ_EFORMAT, r->line, "%s: name %zu holds a control character", key, i + 1);
        if ((a[i] = malloc(n + 1)) == NULL)
            return fail(r, HJ_ENOMEM, r->line, "%s: out of memory", key);
        memcpy(a[i], p, n);
        a[i][n] = '\0';
        for (size_t j = 0; distinct && j < i; j++)
            if (strcmp(a[j], a[i]) == 0)
                return fail(r, HJ_EFORMAT, r->line, "%s: names %zu and %zu are both '%s'", key, j + 1,
                            i + 1, a[i]);
    }
    return HJ_OK;
}

/* The format-2 metadata block after the parameters, into m. */
static hj_status parse_meta(reader *r, hj_model *m)
{
    const char *v;
    size_t n;
    hj_status st;
    if ((st = want_key(r, "target_shift", &v, &n)) != HJ_OK ||
        (st = parse_double(r, v, n, "target_shift", &m->y_shift)) != HJ_OK)
        return st;
    if ((st = want_key(r, "target_scale", &v, &n)) != HJ_OK ||
        (st = parse_double(r, v, n, "target_scale", &m->y_scale)) != HJ_OK)
        return st;
    if (!(m->y_scale > 0.0))
        return fail(r, HJ_EFORMAT, r->line, "target_scale must be > 0 (got %.17g)", m->y_scale);
    char **t = NULL;
    st = want_names(r, "target_name", 1, 0, &t);
    if (t) {
        m->target_name = t[0];
        free(t);
    }
    if (st != HJ_OK)
        return st;
    if ((st = want_names(r, "feature_names", m->pre.d_raw, 1, &m->feature_names)) != HJ_OK)
        return st;
    if ((st = want_names(r, "class_labels", m->arch.n_classes, 1, &m->class_labels)) != HJ_OK)
        return st;
    size_t k;
    if ((st = want_size(r, "eps_curve", 64, &k)) != HJ_OK)
        return st;
    if (k == 0)
        return HJ_OK;
    double g[64], l[64];
    for (size_t i = 0; i < k; i++) {
        const char *p;
        int term;
        if (!next_line(r, &p, &n, &term) || !term)
            return truncated(r, r->line + (term ? 1 : 0), "an eps_curve line");
        const char *sp = memchr(p, ' ', n);
        if (sp == NULL)
            return fail(r, HJ_EFORMAT, r->line, "eps_curve: expected 'eps validation_loss'");
        if ((st = parse_double(r, p, (size_t)(sp - p), "eps_curve eps", &g[i])) != HJ_OK ||
            (st = parse_double(r, sp + 1, n - (size_t)(sp - p) - 1, "eps_curve loss", &l[i])) != HJ_OK)
            return st;
        if (!(g[i] >= 0.0))
            return fail(r, HJ_EFORMAT, r->line, "eps_curve: eps must be >= 0 (got %.17g)", g[i]);
    }
    hj_error e2 = {0};
    if (hj__model_set_eps_curve(m, g, l, k, &e2) != HJ_OK)
        return fail(r, HJ_ENOMEM, r->line, "eps_curve: out of memory");
    return HJ_OK;
}

static hj_status parse_body(reader *r, hj_model *m, double **mean, double **scale, double **comp,
                            double **params)
{
    const char *v;
    size_t n;
    hj_status st;

    /* line 1: the magic (its version was checked by the caller) */
    const char *p;
    int term;
    (void)next_line(r, &p, &n, &term);
    if (!term)
        return truncated(r, 1, "'HJDL-MODEL 2'");
    if (n != strlen(HJM_MAGIC) + 2) {
        char ex[HJM_EXCERPT];
        hj_io_excerpt(ex, sizeof ex, p, n);
        return fail(r, HJ_EFORMAT, 1, "not an hjdl model file: the first line is '%s', not 'HJDL-MODEL 1'",
                    ex);
    }

    /* arch: kept until d_in, classes and output_scale are known */
    st = want_key(r, "arch", &v, &n);
    if (st != HJ_OK)
        return st;
    size_t arch_line = r->line;
    if (n >= HJM_MAX_ARCH)
        return fail(r, HJ_EFORMAT, r->line, "arch: longer than %d bytes", HJM_MAX_ARCH - 1);
    char spec[HJM_MAX_ARCH];
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f)
            return fail(r, HJ_EFORMAT, r->line, "arch: byte %zu is not a printable character", i + 1);
    memcpy(spec, v, n);
    spec[n] = '\0';

    size_t d_in, classes, oscale;
    if ((st = want_size(r, "d_in", HJM_MAX_DIM, &d_in)) != HJ_OK)
        return st;
    if (d_in == 0)
        return fail(r, HJ_EFORMAT, r->line, "d_in must be at least 1");
    size_t steps = 0;
    if (r->version >= 3) {
        if ((st = want_size(r, "steps", HJM_MAX_DIM, &steps)) != HJ_OK)
            return st;
        if (steps > 0 && d_in % steps != 0)
            return fail(r, HJ_EFORMAT, r->line,
                        "steps %zu does not divide the input width d_in %zu (a sequence of T steps "
                        "of d features has d_in = T*d)",
                        steps, d_in);
    }
    if ((st = want_size(r, "classes", HJM_MAX_PARAMS, &classes)) != HJ_OK)
        return st;
    if ((st = want_size(r, "output_scale", 1, &oscale)) != HJ_OK)
        return st;
    if ((st = build_arch(r, spec, arch_line, d_in, steps, classes, (int)oscale, &m->arch)) != HJ_OK)
        return st;

    /* eps >= 0 and t > 0 */
    if ((st = want_key(r, "eps", &v, &n)) != HJ_OK || (st = parse_double(r, v, n, "eps", &m->eps)) != HJ_OK)
        return st;
    if (!(m->eps >= 0.0))
        return fail(r, HJ_EFORMAT, r->line, "eps must be >= 0 (got %.17g)", m->eps);
    if (!(m->eps <= HJ_MAX_SCALE))
        return fail(r, HJ_EFORMAT, r->line,
                    "model parameter eps = %.17g is outside [0, %g]: the model's outputs would "
                    "overflow", m->eps, HJ_MAX_SCALE);
    if ((st = want_key(r, "t", &v, &n)) != HJ_OK || (st = parse_double(r, v, n, "t", &m->t)) != HJ_OK)
        return st;
    if (!(m->t > 0.0))
        return fail(r, HJ_EFORMAT, r->line, "t must be > 0 (got %.17g)", m->t);
    if (!(m->t <= HJ_MAX_SCALE))
        return fail(r, HJ_EFORMAT, r->line,
                    "model parameter t = %.17g is outside (0, %g]: the model's outputs would "
                    "overflow", m->t, HJ_MAX_SCALE);

    /* preprocessing */
    if ((st = want_key(r, "preprocess", &v, &n)) != HJ_OK)
        return st;
    int kind = -1;
    for (int k = 0; k < 3; k++)
        if (strlen(PRE_NAMES[k]) == n && memcmp(PRE_NAMES[k], v, n) == 0)
            kind = k;
    if (kind < 0) {
        char ex[HJM_EXCERPT];
        hj_io_excerpt(ex, sizeof ex, v, n);
        return fail(r, HJ_EFORMAT, r->line, "unknown preprocessing '%s' (none, standardize or pca)", ex);
    }
    hj_preprocess *pre = &m->pre;
    pre->kind = (hj_preprocess_kind)kind;
    pre->d_raw = pre->d_out = d_in;
    if (pre->kind != HJ_PRE_NONE) {
        if ((st = want_size(r, "d_raw", HJM_MAX_DIM, &pre->d_raw)) != HJ_OK)
            return st;
        if (pre->d_raw == 0)
            return fail(r, HJ_EFORMAT, r->line, "d_raw must be at least 1");
        if ((st = want_size(r, "d_out", HJM_MAX_DIM, &pre->d_out)) != HJ_OK)
            return st;
        if (pre->d_out != d_in)
            return fail(r, HJ_EFORMAT, r->line,
                        "d_out %zu does not match the model's input width d_in %zu", pre->d_out, d_in);
        if (pre->kind == HJ_PRE_STANDARDIZE && pre->d_out != pre->d_raw)
            return fail(r, HJ_EFORMAT, r->line, "standardize keeps the width, but d_raw %zu != d_out %zu",
                        pre->d_raw, pre->d_out);
        if (pre->kind == HJ_PRE_PCA && pre->d_out > pre->d_raw)
            return fail(r, HJ_EFORMAT, r->line, "pca keeps at most d_raw %zu axes, not d_out %zu",
                        pre->d_raw, pre->d_out);
        if ((st = want_array(r, "mean", pre->d_raw, mean)) != HJ_OK)
            return st;
        if ((st = want_array(r, "scale", pre->d_out, scale)) != HJ_OK)
            return st;
        for (size_t i = 0; i < pre->d_out; i++)
            if (!((*scale)[i] > 0.0))
                return fail(r, HJ_EFORMAT, r->line, "value %zu of scale is %.17g; scales must be > 0",
                            i + 1, (*scale)[i]);
        /* both widths <= HJM_MAX_DIM: the product fits in 64 bits */
        if (pre->kind == HJ_PRE_PCA &&
            (st = want_array(r, "components", pre->d_out * pre->d_raw, comp)) != HJ_OK)
            return st;
    }

    /* parameters, one per line */
    size_t np;
    if ((st = want_size(r, "params", HJM_MAX_PARAMS, &np)) != HJ_OK)
        return st;
    if (np != m->arch.n_params)
        return fail(r, HJ_EFORMAT, r->line,
                    "arch '%s' (d_in %zu, classes %zu, output_scale %zu) has %zu parameters, but the "
                    "file says params %zu",
                    spec, d_in, classes, oscale, m->arch.n_params, np);
    /* np complete lines must follow: count them before allocating */
    size_t lines = 0;
    for (const char *q = r->s + r->pos, *e = r->s + r->len; lines < np && q < e; lines++) {
        q = memchr(q, '\n', (size_t)(e - q));
        if (q == NULL)
            break;
        q++;
    }
    if (lines < np)
        return truncated(r, r->line + lines + 1, "a parameter value");
    *params = malloc(np * sizeof **params);
    if (*params == NULL)
        return fail(r, HJ_ENOMEM, r->line, "cannot allocate %zu parameters", np);
    for (size_t i = 0; i < np; i++) {
        if (!next_line(r, &p, &n, &term) || !term) /* cannot happen: counted above */
            return truncated(r, r->line, "a parameter value");
        char what[48];
        snprintf(what, sizeof what, "parameter %zu", i + 1);
        if ((st = parse_double(r, p, n, what, &(*params)[i])) != HJ_OK)
            return st;
    }
    m->y_shift = 0.0, m->y_scale = 1.0;
    if (r->version >= 2 && (st = parse_meta(r, m)) != HJ_OK)
        return st;

    /* the checksum line, last */
    size_t crc_at = r->pos;
    if (!next_line(r, &p, &n, &term))
        return truncated(r, r->line + 1, "'crc32 XXXXXXXX'");
    if (n != HJM_CRC_LINE || !crc_prefix(p, n)) {
        if (!term && crc_prefix(p, n))
            return truncated(r, r->line, "'crc32 XXXXXXXX'");
        char ex[HJM_EXCERPT];
        hj_io_excerpt(ex, sizeof ex, p, n);
        return fail(r, HJ_EFORMAT, r->line, "expected 'crc32 XXXXXXXX' (8 lowercase hex digits), found '%s'",
                    ex);
    }
    if (r->pos < r->len)
        return fail(r, HJ_EFORMAT, r->line + 1, "trailing garbage after the crc32 line");
    /* The caller verified the checksum of a buffer ending in a crc32 line;
     * reaching here means that line is this one (check anyway if not). */
    size_t at;
    uint32_t stored;
    if (r->crc_ok_at != crc_at &&
        (!find_crc_tail(r->s, r->len, &at, &stored) || at != crc_at ||
         crc_update(crc_update(0, NULL, 0), r->s, crc_at) != stored))
        return fail(r, HJ_EFORMAT, r->line, "checksum mismatch: the file is corrupted");
    return HJ_OK;
}

/* Parse a .hjm image text[0..len) (need not be NUL-terminated; any bytes).
 * On success *m holds the model (free with hj_model_free); on failure *m is
 * all zeros and err reads "NAME:LINE: ..." with HJ_EFORMAT (malformed,
 * truncated, corrupted, inconsistent, foreign or newer file), HJ_ENAN
 * (NaN or infinite value) or HJ_ENOMEM. name may be NULL ("<buffer>"). */
hj_status hj_model_parse(hj_model *m, const char *text, size_t len, const char *name, hj_error *err)
{
    if (m == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_model_parse: NULL model");
    memset(m, 0, sizeof *m);
    if (text == NULL && len > 0)
        return hj_error_set(err, HJ_EINVAL, "hj_model_parse: NULL text");
    if (text == NULL)
        text = "";
    reader r = {text, len, 0, 0, name ? name : "<buffer>", err, SIZE_MAX, 0};

    /* magic and version first: a foreign or newer file says so */
    static const char magic[] = HJM_MAGIC " ";
    size_t ml = sizeof magic - 1;
    static const char full[] = HJM_MAGIC " 2";
    if (len == 0)
        return fail(&r, HJ_EFORMAT, 1, "empty file: truncated at line 1 (not an hjdl model file)");
    const char *nl = memchr(text, '\n', len);
    size_t l1 = nl ? (size_t)(nl - text) : len;
    if (nl == NULL && l1 < sizeof full && memcmp(text, full, l1) == 0)
        return fail(&r, HJ_EFORMAT, 1, "truncated at line 1 (expected 'HJDL-MODEL 1')");
    if (l1 < ml || memcmp(text, magic, ml) != 0)
        return fail(&r, HJ_EFORMAT, 1, "not an hjdl model file (the first line should be 'HJDL-MODEL 1')");
    size_t vd = 0;
    unsigned long long version = 0;
    while (ml + vd < l1 && vd < 18 && is_digit(text[ml + vd])) {
        version = version * 10 + (unsigned)(text[ml + vd] - '0');
        vd++;
    }
    if (vd == 0)
        return fail(&r, HJ_EFORMAT, 1, "not an hjdl model file (the first line should be 'HJDL-MODEL 1')");
    if (version > HJM_VERSION)
        return fail(&r, HJ_EFORMAT, 1, "written by a newer hjdl (format %llu); this build reads format %d",
                    version, HJM_VERSION);
    if (version < 1)
        return fail(&r, HJ_EFORMAT, 1, "unknown model format %llu; this build reads formats 1 to %d",
                    version, HJM_VERSION);
    r.version = (unsigned)version;

    /* then the checksum, whenever the buffer ends in a crc32 line */
    size_t at;
    uint32_t stored;
    if (find_crc_tail(text, len, &at, &stored)) {
        if (crc_update(crc_update(0, NULL, 0), text, at) != stored) {
            size_t line = 1;
            for (const char *q = text, *e = text + at; (q = memchr(q, '\n', (size_t)(e - q))) != NULL;
                 q++)
                line++;
            return fail(&r, HJ_EFORMAT, line, "checksum mismatch: the file is corrupted");
        }
        r.crc_ok_at = at;
    }

    hj_io_c_locale loc;
    hj_status st = hj_io_c_locale_enter(&loc, err);
    if (st != HJ_OK)
        return st;
    hj_model tmp;
    memset(&tmp, 0, sizeof tmp);
    double *mean = NULL, *scale = NULL, *comp = NULL, *params = NULL;
    st = parse_body(&r, &tmp, &mean, &scale, &comp, &params);
    hj_io_c_locale_leave(&loc);
    if (st != HJ_OK) {
        hj__model_meta_free(&tmp);
        free(mean);
        free(scale);
        free(comp);
        free(params);
        return st;
    }
    tmp.params = params;
    tmp.pre.mean = mean;
    tmp.pre.scale = scale;
    tmp.pre.components = comp;
    *m = tmp;
    return HJ_OK;
}

/* Read and parse the .hjm file at path (see hj_model_parse); HJ_EIO
 * "PATH: reason" when it cannot be read. */
hj_status hj_model_load(hj_model *m, const char *path, hj_error *err)
{
    if (m == NULL || path == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_model_load: NULL argument");
    memset(m, 0, sizeof *m);
    char *buf = NULL;
    size_t len = 0;
    hj_status st = hj_io_read_file(path, &buf, &len, err);
    if (st != HJ_OK)
        return st;
    st = hj_model_parse(m, buf, len, path, err);
    free(buf);
    return st;
}
