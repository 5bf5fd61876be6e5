/* preprocess.c — input transforms fitted on training data: standardisation and PCA (LAPACK eigensolver).
 *
 * Shapes: X (n, d_raw) row-major, mean (d_raw), scale (d_out),
 * components (d_out, d_raw) with orthonormal rows, out (n, d_out).
 *   STANDARDIZE: out_ij = (x_ij - mean_j) / scale_j, scale_j = population std.
 *   PCA:         out_ir = components_r . (x_i - mean) / scale_r,
 *                scale_r = sqrt(lambda_r), lambda_r the r-th largest eigenvalue
 *                of the covariance C = (1/n) sum_i (x_i - mean)(x_i - mean)^T.
 * A direction whose spread is numerically zero gets scale 1 (see below), so
 * the transform never divides by (almost) zero.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>
#ifdef HJDL_HAVE_CBLAS
#include <cblas.h>
#endif

#include "hjdl/dataset.h"

/* Rows centred at a time when forming the covariance or projecting. */
#define PRE_BLOCK 512
/* A feature whose std is at most this times its largest |x| is constant up
 * to rounding. */
#define PRE_STD_RTOL 1e-9
/* A principal variance at most this times the largest one, or whose root is
 * at most PRE_STD_RTOL times the largest |x| in the data, is zero up to the
 * eigensolver's absolute error (about d * eps * lambda_max). */
#define PRE_EIG_RTOL 1e-10

static int kind_known(hj_preprocess_kind kind)
{
    return kind == HJ_PRE_NONE || kind == HJ_PRE_STANDARDIZE || kind == HJ_PRE_PCA;
}

/* HJ_EINVAL unless p is a consistent, fitted transform. */
static hj_status check_fitted(const hj_preprocess *p, const char *who, hj_error *err)
{
    if (p == NULL)
        return hj_error_set(err, HJ_EINVAL, "%s: NULL transform", who);
    if (!kind_known(p->kind))
        return hj_error_set(err, HJ_EINVAL, "%s: unknown preprocessing kind %d", who, (int)p->kind);
    if (p->d_raw == 0)
        return hj_error_set(err, HJ_EINVAL, "%s: transform is not fitted (d_raw = 0)", who);
    switch (p->kind) {
    case HJ_PRE_NONE:
        if (p->d_out != p->d_raw)
            return hj_error_set(err, HJ_EINVAL, "%s: identity transform with d_out %zu != d_raw %zu",
                                who, p->d_out, p->d_raw);
        break;
    case HJ_PRE_STANDARDIZE:
        if (p->d_out != p->d_raw)
            return hj_error_set(err, HJ_EINVAL, "%s: standardisation with d_out %zu != d_raw %zu",
                                who, p->d_out, p->d_raw);
        if (p->mean == NULL || p->scale == NULL)
            return hj_error_set(err, HJ_EINVAL, "%s: standardisation without mean or scale", who);
        break;
    case HJ_PRE_PCA:
        if (p->d_out == 0 || p->d_out > p->d_raw)
            return hj_error_set(err, HJ_EINVAL, "%s: PCA with d_out %zu outside 1..d_raw (%zu)",
                                who, p->d_out, p->d_raw);
        if (p->mean == NULL || p->scale == NULL || p->components == NULL)
            return hj_error_set(err, HJ_EINVAL, "%s: PCA without mean, scale or components", who);
        break;
    }
    if (p->d_out > SIZE_MAX / sizeof(double) / p->d_raw)
        return hj_error_set(err, HJ_EINVAL, "%s: %zu x %zu overflows size_t", who, p->d_out,
                            p->d_raw);
    return HJ_OK;
}

/* Column means of X (n, d) into mean (d); largest |x| overall into *maxabs. */
static void column_means(const double *X, size_t n, size_t d, double *mean, double *maxabs)
{
    double big = 0.0;
    memset(mean, 0, d * sizeof *mean);
    for (size_t i = 0; i < n; i++) {
        const double *row = X + i * d;
        for (size_t j = 0; j < d; j++) {
            mean[j] += row[j];
            double a = fabs(row[j]);
            big = a > big ? a : big;
        }
    }
    for (size_t j = 0; j < d; j++)
        mean[j] /= (double)n;
    *maxabs = big;
}

/* Centre rows i0 .. i0+b of X (n, d) into blk (b, d). */
static void centre_block(const double *X, size_t i0, size_t b, size_t d, const double *mean,
                         double *blk)
{
    for (size_t r = 0; r < b; r++) {
        const double *row = X + (i0 + r) * d;
        double *o = blk + r * d;
        for (size_t j = 0; j < d; j++)
            o[j] = row[j] - mean[j];
    }
}

/* Covariance C (d, d) = (1/n) sum_i (x_i - mean)(x_i - mean)^T, full
 * symmetric. Centres PRE_BLOCK rows at a time (exact centring, bounded
 * scratch) and accumulates the upper triangle with dsyrk when CBLAS is there. */
static hj_status covariance(const double *X, size_t n, size_t d, const double *mean, double *C,
                            hj_error *err)
{
    size_t B = n < PRE_BLOCK ? n : PRE_BLOCK;
    double *blk = malloc(B * d * sizeof *blk);
    if (blk == NULL)
        return hj_error_set(err, HJ_ENOMEM, "hj_preprocess_fit: out of memory (covariance)");
    memset(C, 0, d * d * sizeof *C);
    for (size_t i0 = 0; i0 < n; i0 += B) {
        size_t b = n - i0 < B ? n - i0 : B;
        centre_block(X, i0, b, d, mean, blk);
#ifdef HJDL_HAVE_CBLAS
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)b, 1.0, blk, (int)d, 1.0,
                    C, (int)d);
#else
        /* Rank-8 updates: one sweep over C per eight rows (memory bound otherwise). */
        size_t r = 0;
        for (; r + 8 <= b; r += 8) {
            const double *v = blk + r * d;
            for (size_t a = 0; a < d; a++) {
                double a0 = v[a], a1 = v[d + a], a2 = v[2 * d + a], a3 = v[3 * d + a];
                double a4 = v[4 * d + a], a5 = v[5 * d + a], a6 = v[6 * d + a], a7 = v[7 * d + a];
                double *Ca = C + a * d;
                for (size_t c = a; c < d; c++)
                    Ca[c] += a0 * v[c] + a1 * v[d + c] + a2 * v[2 * d + c] + a3 * v[3 * d + c] +
                             a4 * v[4 * d + c] + a5 * v[5 * d + c] + a6 * v[6 * d + c] +
                             a7 * v[7 * d + c];
            }
        }
        for (; r < b; r++) {
            const double *v = blk + r * d;
            for (size_t a = 0; a < d; a++) {
                double va = v[a];
                double *Ca = C + a * d;
                for (size_t c = a; c < d; c++)
                    Ca[c] += va * v[c];
            }
        }
#endif
    }
    free(blk);
    double inv_n = 1.0 / (double)n;
    for (size_t a = 0; a < d; a++)
        for (size_t c = a; c < d; c++) {
            C[a * d + c] *= inv_n;
            C[c * d + a] = C[a * d + c];
        }
    return HJ_OK;
}

/* PCA part of the fit: components (k, d) and scale (k) from mean (d). */
static hj_status fit_pca(const double *X, size_t n, size_t d, size_t k, const double *mean,
                         double maxabs, double *components, double *scale, hj_error *err)
{
    double *C = malloc(d * d * sizeof *C);
    double *w = malloc(d * sizeof *w);
    double *Z = malloc(d * k * sizeof *Z);
    lapack_int *isuppz = malloc(2 * d * sizeof *isuppz);
    hj_status st = HJ_OK;
    if (C == NULL || w == NULL || Z == NULL || isuppz == NULL) {
        st = hj_error_set(err, HJ_ENOMEM, "hj_preprocess_fit: out of memory (%zu x %zu PCA)", d,
                          d);
        goto done;
    }
    st = covariance(X, n, d, mean, C, err);
    if (st != HJ_OK)
        goto done;

    /* The k largest eigenpairs: indices d-k+1 .. d in ascending order. */
    lapack_int m = 0;
    lapack_int info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', (lapack_int)d, C,
                                     (lapack_int)d, 0.0, 0.0, (lapack_int)(d - k + 1),
                                     (lapack_int)d, 0.0, &m, w, Z, (lapack_int)k, isuppz);
    if (info > 0) {
        st = hj_error_set(err, HJ_EMAXITER,
                          "hj_preprocess_fit: the eigensolver (dsyevr) did not converge (info %d)",
                          (int)info);
        goto done;
    }
    if (info < 0 || (size_t)m != k) {
        st = hj_error_set(err, HJ_EINVAL,
                          "hj_preprocess_fit: dsyevr failed (info %d, %d of %zu eigenpairs)",
                          (int)info, (int)m, k);
        goto done;
    }

    double lmax = w[k - 1] > 0.0 ? w[k - 1] : 0.0;
    double floor_abs = PRE_STD_RTOL * maxabs;
    for (size_t r = 0; r < k; r++) {
        size_t col = k - 1 - r; /* descending eigenvalue order */
        double *v = components + r * d;
        size_t jmax = 0;
        double amax = -1.0;
        for (size_t j = 0; j < d; j++) {
            v[j] = Z[j * k + col];
            if (fabs(v[j]) > amax) {
                amax = fabs(v[j]);
                jmax = j;
            }
        }
        if (v[jmax] < 0.0)
            for (size_t j = 0; j < d; j++)
                v[j] = -v[j];
        double lam = w[col];
        int zero = !(lam > PRE_EIG_RTOL * lmax) || !(sqrt(lam) > floor_abs);
        scale[r] = zero ? 1.0 : sqrt(lam);
    }

done:
    free(C);
    free(w);
    free(Z);
    free(isuppz);
    return st;
}

/* Fit a transform on X (n, d_raw); see dataset.h. *p is treated as
 * uninitialised output: zeroed first, filled only on success (free it with
 * hj_preprocess_free). NONE stores no arrays. STANDARDIZE: mean and
 * population std (1/n); a feature with std <= 1e-9 max|x_j| gets scale 1.
 * PCA: k leading principal axes of the 1/n covariance, descending, each with
 * its largest-|entry| positive (the first such on ties); scale_r =
 * sqrt(lambda_r), or 1 when lambda_r <= 1e-10 lambda_1 or sqrt(lambda_r) <=
 * 1e-9 max|x|, so each output has unit variance on X (or is ~0).
 * Errors: HJ_EINVAL (NULL, n or d_raw 0, k outside 1..d_raw for PCA, unknown
 * kind, sizes beyond LAPACK's int), HJ_ENAN (non-finite X), HJ_ENOMEM,
 * HJ_EMAXITER (eigensolver). */
hj_status hj_preprocess_fit(hj_preprocess *p, hj_preprocess_kind kind, const double *X,
                            size_t n, size_t d_raw, size_t k, hj_error *err)
{
    if (p == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_preprocess_fit: NULL transform");
    memset(p, 0, sizeof *p);
    if (!kind_known(kind))
        return hj_error_set(err, HJ_EINVAL, "hj_preprocess_fit: unknown preprocessing kind %d",
                            (int)kind);
    if (X == NULL || n == 0 || d_raw == 0)
        return hj_error_set(err, HJ_EINVAL,
                            "hj_preprocess_fit: need a non-empty X (got %s, %zu x %zu)",
                            X == NULL ? "NULL" : "data", n, d_raw);
    if (n > SIZE_MAX / sizeof(double) / d_raw)
        return hj_error_set(err, HJ_EINVAL, "hj_preprocess_fit: %zu x %zu overflows size_t", n,
                            d_raw);
    if (kind == HJ_PRE_PCA) {
        if (k < 1 || k > d_raw)
            return hj_error_set(err, HJ_EINVAL,
                                "hj_preprocess_fit: PCA needs 1 <= k <= d_raw (%zu), got k = %zu",
                                d_raw, k);
        if (d_raw > (size_t)INT_MAX / 2 || n > (size_t)INT_MAX ||
            d_raw > SIZE_MAX / sizeof(double) / d_raw)
            return hj_error_set(err, HJ_EINVAL,
                                "hj_preprocess_fit: %zu x %zu is too large for LAPACK", n, d_raw);
    }
    for (size_t t = 0; t < n * d_raw; t++)
        if (!isfinite(X[t]))
            return hj_error_set(err, HJ_ENAN, "hj_preprocess_fit: X row %zu, column %zu is %s",
                                t / d_raw + 1, t % d_raw + 1, isnan(X[t]) ? "NaN" : "infinite");

    hj_preprocess q = {.kind = kind, .d_raw = d_raw, .d_out = d_raw};
    if (kind == HJ_PRE_NONE) {
        *p = q;
        return HJ_OK;
    }
    if (kind == HJ_PRE_PCA)
        q.d_out = k;
    q.mean = malloc(d_raw * sizeof *q.mean);
    q.scale = malloc(q.d_out * sizeof *q.scale);
    if (kind == HJ_PRE_PCA)
        q.components = malloc(k * d_raw * sizeof *q.components);
    if (q.mean == NULL || q.scale == NULL || (kind == HJ_PRE_PCA && q.components == NULL)) {
        hj_preprocess_free(&q);
        return hj_error_set(err, HJ_ENOMEM, "hj_preprocess_fit: out of memory");
    }
    double maxabs;
    column_means(X, n, d_raw, q.mean, &maxabs);

    if (kind == HJ_PRE_STANDARDIZE) {
        /* Two passes: sum of squared deviations, and each column's max |x|. */
        double *big = calloc(d_raw, sizeof *big);
        if (big == NULL) {
            hj_preprocess_free(&q);
            return hj_error_set(err, HJ_ENOMEM, "hj_preprocess_fit: out of memory");
        }
        memset(q.scale, 0, d_raw * sizeof *q.scale);
        for (size_t i = 0; i < n; i++) {
            const double *row = X + i * d_raw;
            for (size_t j = 0; j < d_raw; j++) {
                double c = row[j] - q.mean[j];
                q.scale[j] += c * c;
                double a = fabs(row[j]);
                big[j] = a > big[j] ? a : big[j];
            }
        }
        for (size_t j = 0; j < d_raw; j++) {
            double sd = sqrt(q.scale[j] / (double)n);
            q.scale[j] = (sd > PRE_STD_RTOL * big[j] && sd > 0.0) ? sd : 1.0;
        }
        free(big);
        *p = q;
        return HJ_OK;
    }

    hj_status st = fit_pca(X, n, d_raw, k, q.mean, maxabs, q.components, q.scale, err);
    if (st != HJ_OK) {
        hj_preprocess_free(&q);
        return st;
    }
    *p = q;
    return HJ_OK;
}

hj_status hj_preprocess_fit_sequence(hj_preprocess *p, hj_preprocess_kind kind, const double *X,
                                     size_t n, size_t T, size_t d, hj_error *err)
{
    if (p == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_preprocess_fit_sequence: NULL transform");
    memset(p, 0, sizeof *p);
    if (kind == HJ_PRE_PCA)
        return hj_error_set(err, HJ_EINVAL,
                            "PCA projects the T*d inputs of a sequence onto axes that mix its steps; "
                            "sequence models take standardisation or none");
    if (T == 0 || d == 0 || T > SIZE_MAX / d || n > SIZE_MAX / T)
        return hj_error_set(err, HJ_EINVAL, "hj_preprocess_fit_sequence: %zu sequences of %zu x %zu",
                            n, T, d);
    /* the n sequences of T steps are n*T rows of d features (step-major) */
    hj_preprocess q;
    hj_status st = hj_preprocess_fit(&q, kind, X, n * T, d, 0, err);
    if (st != HJ_OK || kind == HJ_PRE_NONE) {
        if (st == HJ_OK)
            q.d_raw = q.d_out = T * d;
        *p = q;
        return st;
    }
    hj_preprocess r = {.kind = kind, .d_raw = T * d, .d_out = T * d};
    r.mean = malloc(T * d * sizeof *r.mean);
    r.scale = malloc(T * d * sizeof *r.scale);
    if (r.mean == NULL || r.scale == NULL) {
        hj_preprocess_free(&q);
        hj_preprocess_free(&r);
        return hj_error_set(err, HJ_ENOMEM, "hj_preprocess_fit_sequence: out of memory");
    }
    for (size_t k = 0; k < T; k++) {
        memcpy(r.mean + k * d, q.mean, d * sizeof *r.mean);
        memcpy(r.scale + k * d, q.scale, d * sizeof *r.scale);
    }
    hj_preprocess_free(&q);
    *p = r;
    return HJ_OK;
}

/* Do [a, a + na) and [b, b + nb) (in doubles) overlap? */
static int overlaps(const double *a, size_t na, const double *b, size_t nb)
{
    uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
    uintptr_t a1 = a0 + na * sizeof(double), b1 = b0 + nb * sizeof(double);
    return a0 < b1 && b0 < a1;
}

/* out (n, d_out) = transform of X (n, d_raw). n = 0 does nothing. X and out
 * may be the same pointer for NONE and STANDARDIZE (elementwise), must not
 * overlap otherwise. Errors: HJ_EINVAL for NULL buffers, an unfitted or
 * inconsistent p (the shape checks: d_out == d_raw except for PCA, where
 * 1 <= d_out <= d_raw), an overlap, or sizes that overflow; HJ_ENOMEM.
 * Non-finite inputs propagate to the outputs. */
hj_status hj_preprocess_apply(const hj_preprocess *p, const double *X, size_t n, double *out,
                              hj_error *err)
{
    hj_status st = check_fitted(p, "hj_preprocess_apply", err);
    if (st != HJ_OK)
        return st;
    if (n == 0)
        return HJ_OK;
    if (X == NULL || out == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_preprocess_apply: NULL input or output");
    size_t d = p->d_raw, k = p->d_out;
    if (n > SIZE_MAX / sizeof(double) / d)
        return hj_error_set(err, HJ_EINVAL, "hj_preprocess_apply: %zu x %zu overflows size_t", n,
                            d);
    size_t nin = n * d, nout = n * k;

    switch (p->kind) {
    case HJ_PRE_NONE:
        if (out != X)
            memmove(out, X, nin * sizeof *out);
        return HJ_OK;
    case HJ_PRE_STANDARDIZE:
        if (out != X && overlaps(X, nin, out, nout))
            return hj_error_set(err, HJ_EINVAL,
                                "hj_preprocess_apply: output partly overlaps the input");
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++)
                out[i * d + j] = (X[i * d + j] - p->mean[j]) / p->scale[j];
        return HJ_OK;
    case HJ_PRE_PCA:
        break;
    }

    if (overlaps(X, nin, out, nout))
        return hj_error_set(err, HJ_EINVAL, "hj_preprocess_apply: PCA output overlaps the input");
    if (d > (size_t)INT_MAX || k > (size_t)INT_MAX)
        return hj_error_set(err, HJ_EINVAL, "hj_preprocess_apply: width %zu too large for BLAS",
                            d);
    size_t B = n < PRE_BLOCK ? n : PRE_BLOCK;
    double *blk = malloc(B * d * sizeof *blk);
    if (blk == NULL)
        return hj_error_set(err, HJ_ENOMEM, "hj_preprocess_apply: out of memory");
    for (size_t i0 = 0; i0 < n; i0 += B) {
        size_t b = n - i0 < B ? n - i0 : B;
        centre_block(X, i0, b, d, p->mean, blk);
        double *o = out + i0 * k;
#ifdef HJDL_HAVE_CBLAS
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)k, (int)d, 1.0, blk,
                    (int)d, p->components, (int)d, 0.0, o, (int)k);
#else
        for (size_t r = 0; r < b; r++)
            for (size_t c = 0; c < k; c++) {
                const double *v = p->components + c * d, *x = blk + r * d;
                double s = 0.0;
                for (size_t j = 0; j < d; j++)
                    s += v[j] * x[j];
                o[r * k + c] = s;
            }
#endif
        for (size_t r = 0; r < b; r++)
            for (size_t c = 0; c < k; c++)
                o[r * k + c] /= p->scale[c];
    }
    free(blk);
    return HJ_OK;
}

/* Free the arrays and zero *p; safe on NULL and on a zeroed struct. */
void hj_preprocess_free(hj_preprocess *p)
{
    if (p == NULL)
        return;
    free(p->mean);
    free(p->scale);
    free(p->components);
    memset(p, 0, sizeof *p);
}

/* Deep copy of a fitted src into dst (treated as uninitialised; zeroed on
 * failure). Errors: HJ_EINVAL for NULL or an inconsistent src, HJ_ENOMEM. */
hj_status hj_preprocess_copy(hj_preprocess *dst, const hj_preprocess *src, hj_error *err)
{
    if (dst == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_preprocess_copy: NULL destination");
    memset(dst, 0, sizeof *dst);
    hj_status st = check_fitted(src, "hj_preprocess_copy", err);
    if (st != HJ_OK)
        return st;
    hj_preprocess q = {.kind = src->kind, .d_raw = src->d_raw, .d_out = src->d_out};
    if (src->kind == HJ_PRE_NONE) {
        *dst = q;
        return HJ_OK;
    }
    q.mean = malloc(q.d_raw * sizeof *q.mean);
    q.scale = malloc(q.d_out * sizeof *q.scale);
    if (src->kind == HJ_PRE_PCA)
        q.components = malloc(q.d_out * q.d_raw * sizeof *q.components);
    if (q.mean == NULL || q.scale == NULL || (src->kind == HJ_PRE_PCA && q.components == NULL)) {
        hj_preprocess_free(&q);
        return hj_error_set(err, HJ_ENOMEM, "hj_preprocess_copy: out of memory");
    }
    memcpy(q.mean, src->mean, q.d_raw * sizeof *q.mean);
    memcpy(q.scale, src->scale, q.d_out * sizeof *q.scale);
    if (q.components != NULL)
        memcpy(q.components, src->components, q.d_out * q.d_raw * sizeof *q.components);
    *dst = q;
    return HJ_OK;
}
