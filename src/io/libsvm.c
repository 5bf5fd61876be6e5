/* libsvm.c — libsvm/svmlight text: "LABEL IDX:VALUE ..." lines to a dense matrix (features, then the label).
 *
 * Grammar (one line per point, fields separated by blanks ' ' / '\t'):
 *   line  = [ws] label {ws [qid ":" digits]} {ws index ":" value} [ws] ["#" comment]
 * label and value are decimal numbers (hj_number_syntax), index a positive
 * integer, strictly increasing along the line. Lines that are blank or
 * only a comment are skipped. Two passes: the first validates every line
 * and finds the row count and the largest index, the second fills the
 * dense matrix (features absent from a line are 0).
 * Messages: "NAME:LINE: ..." / "NAME:LINE:FIELD: ...".
 */
#include "io/io-impl.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/limits.h"

#define SVM_MAX_NUMBER 256
#define SVM_MAX_INDEX 16777216 /* 2^24 features: a dense row stays allocatable */

static int is_ws(char c) { return c == ' ' || c == '\t'; }

/* s[0..n) as a finite double, or an error naming line and field. */
static hj_status number(const char *s, size_t n, const char *name, size_t line, size_t field,
                        double *v, hj_error *err)
{
    char ex[40], buf[SVM_MAX_NUMBER + 1];
    hj_io_excerpt(ex, sizeof ex, s, n);
    if (!hj_number_syntax(s, n) || n > SVM_MAX_NUMBER)
        return hj_error_set(err, HJ_EFORMAT, "%s:%zu:%zu: '%s' is not a number", name, line, field, ex);
    memcpy(buf, s, n);
    buf[n] = '\0';
    *v = strtod(buf, NULL);
    if (!isfinite(*v))
        return hj_error_set(err, HJ_EFORMAT, "%s:%zu:%zu: '%s' is out of the range of a double",
                            name, line, field, ex);
    return HJ_OK;
}

/* One line s[0..n) (line end and comment removed, not blank). row NULL:
 * validate and report the largest index in *maxi; else fill row (d + 1). */
static hj_status parse_line(const char *s, size_t n, const char *name, size_t line, size_t d,
                            double *row, size_t *maxi, hj_error *err)
{
    size_t i = 0, field = 1, last = 0;
    while (i < n && is_ws(s[i]))
        i++;
    size_t a = i;
    while (i < n && !is_ws(s[i]))
        i++;
    double label;
    if (memchr(s + a, ':', i - a) != NULL)
        return hj_error_set(err, HJ_EFORMAT, "%s:%zu:1: the line starts with a feature, not a label",
                            name, line);
    hj_status st = number(s + a, i - a, name, line, 1, &label, err);
    if (st != HJ_OK) {
        if (memchr(s + a, ',', i - a))
            return hj_error_set(err, HJ_EFORMAT,
                                "%s:%zu:1: a list of labels (multi-label data is not supported)",
                                name, line);
        return st;
    }
    for (;;) {
        while (i < n && is_ws(s[i]))
            i++;
        if (i >= n)
            break;
        field++;
        size_t t = i;
        while (i < n && !is_ws(s[i]))
            i++;
        const char *colon = memchr(s + t, ':', i - t);
        char ex[40];
        hj_io_excerpt(ex, sizeof ex, s + t, i - t);
        if (colon == NULL)
            return hj_error_set(err, HJ_EFORMAT, "%s:%zu:%zu: '%s' is not INDEX:VALUE", name,
                                line, field, ex);
        size_t il = (size_t)(colon - (s + t));
        if (il == 3 && memcmp(s + t, "qid", 3) == 0)
            continue; /* ranking groups: no meaning here */
        if (il == 0 || strspn(s + t, "0123456789") != il || il > 19)
            return hj_error_set(err, HJ_EFORMAT, "%s:%zu:%zu: '%s': the index must be a positive integer",
                                name, line, field, ex);
        unsigned long long idx = 0;
        for (size_t k = 0; k < il; k++)
            idx = idx * 10 + (unsigned long long)(s[t + k] - '0');
        if (idx == 0)
            return hj_error_set(err, HJ_EFORMAT, "%s:%zu:%zu: index 0 (indices start at 1)", name,
                                line, field);
        if (idx <= last)
            return hj_error_set(err, HJ_EFORMAT,
                                "%s:%zu:%zu: index %llu after %zu (indices must increase)", name,
                                line, field, idx, last);
        if (d != 0 && idx > d)
            return hj_error_set(err, HJ_EFORMAT, "%s:%zu:%zu: index %llu beyond the %zu features",
                                name, line, field, idx, d);
        if (idx > SVM_MAX_INDEX)
            return hj_error_set(err, HJ_EFORMAT, "%s:%zu:%zu: index %llu is too large", name, line,
                                field, idx);
        double v;
        size_t vl = i - t - il - 1;
        st = number(colon + 1, vl, name, line, field, &v, err);
        if (st != HJ_OK)
            return st;
        last = (size_t)idx;
        if (row != NULL)
            row[idx - 1] = v;
    }
    if (row != NULL)
        row[d] = label;
    if (last > *maxi)
        *maxi = last;
    return HJ_OK;
}

/* Walk the lines; row storage M (NULL on the first pass). */
static hj_status walk(const char *text, size_t len, const char *name, size_t d, hj_matrix *M,
                      size_t *rows, size_t *maxi, hj_error *err)
{
    size_t pos = 0, line = 0;
    *rows = 0;
    while (pos < len) {
        const char *L = text + pos, *nl = memchr(L, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - L) : len - pos;
        pos += ll + 1;
        line++;
        if (ll > 0 && L[ll - 1] == '\r')
            ll--;
        const char *hash = memchr(L, '#', ll);
        if (hash)
            ll = (size_t)(hash - L);
        if (memchr(L, '\r', ll))
            return hj_error_set(err, HJ_EFORMAT, "%s:%zu: carriage return inside a line", name, line);
        size_t k = 0;
        while (k < ll && is_ws(L[k]))
            k++;
        if (k == ll)
            continue;
        double *row = M ? M->data + *rows * M->cols : NULL;
        hj_status st = parse_line(L, ll, name, line, d, row, maxi, err);
        if (st != HJ_OK)
            return st;
        (*rows)++;
    }
    return HJ_OK;
}

hj_status hj_libsvm_parse(const char *text, size_t len, const char *name, size_t features,
                          hj_matrix *out, hj_error *err)
{
    if (out == NULL || (text == NULL && len > 0))
        return hj_error_set(err, HJ_EINVAL, "hj_libsvm_parse: NULL text or output");
    memset(out, 0, sizeof *out);
    if (name == NULL)
        name = "<libsvm>";
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL)
        return hj_error_set(err, HJ_EFORMAT, "%s: NUL byte at offset %zu (binary file?)", name,
                            (size_t)(nul - text));
    hj_io_c_locale loc;
    hj_status st = hj_io_c_locale_enter(&loc, err);
    if (st != HJ_OK)
        return st;
    size_t rows = 0, maxi = 0;
    st = walk(text, len, name, features, NULL, &rows, &maxi, err);
    if (st == HJ_OK && rows == 0)
        st = hj_error_set(err, HJ_EFORMAT, "%s: no data lines", name);
    const size_t d = features ? features : maxi;
    if (st == HJ_OK && d == 0)
        st = hj_error_set(err, HJ_EFORMAT, "%s: no feature on any line", name);
    if (st == HJ_OK) {
        char what[1100];
        snprintf(what, sizeof what, "%s: a %zu x %zu matrix", name, rows, d + 1);
        st = hj_memory_check(8.0 * (double)rows * (double)(d + 1), what, err);
    }
    if (st == HJ_OK)
        st = hj_matrix_alloc(out, rows, d + 1, err);
    if (st == HJ_OK)
        st = walk(text, len, name, d, out, &rows, &maxi, err);
    hj_io_c_locale_leave(&loc);
    if (st != HJ_OK)
        hj_matrix_free(out);
    return st;
}
