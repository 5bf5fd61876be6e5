/* dataset.h — real data: IDX files (gzip or raw), the Fashion-MNIST data set
 * from Debian's dataset-fashion-mnist package, and input preprocessing
 * (standardisation, PCA) that models store so `predict` applies the same
 * transform. */
#ifndef HJDL_DATASET_H
#define HJDL_DATASET_H

#include "hjdl/export.h"

#include <stddef.h>

#include "hjdl/data.h"
#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parse an IDX buffer (magic 0x00 0x00 type ndim; big-endian dims; types
 * 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64). ndim 1 gives an
 * n x 1 matrix, ndim >= 2 an n x (prod other dims) matrix; values as stored
 * (no scaling). Rejects truncated/oversized data, bad magic, ndim 0 or > 4,
 * zero dims, NaN/Inf. */
HJ_API hj_status hj_idx_parse(const void *buf, size_t len, const char *name, hj_matrix *out,
                       hj_error *err);
/* Read an IDX file, gunzipping it when it is gzip (zlib), raw otherwise. */
HJ_API hj_status hj_idx_read(const char *path, hj_matrix *out, hj_error *err);

typedef struct hj_dataset {
    hj_matrix x_train;   /* (n_train, d), pixels scaled to [0, 1] */
    hj_matrix y_train;   /* (n_train, 1), class labels 0..n_classes-1 */
    hj_matrix x_test;    /* (n_test, d) */
    hj_matrix y_test;    /* (n_test, 1) */
    size_t n_classes;
} hj_dataset;

/* Directory of Debian's dataset-fashion-mnist package. */
#define HJ_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Load a named data set: "fashion-mnist" (60000 train / 10000 test, d = 784,
 * 10 classes) from dir (NULL: HJ_FASHION_MNIST_DIR). The message for a
 * missing directory says which package provides it. */
HJ_API hj_status hj_dataset_load(const char *name, const char *dir, hj_dataset *ds, hj_error *err);
HJ_API void hj_dataset_free(hj_dataset *ds);

/* ---- preprocessing ------------------------------------------------------ */

typedef enum hj_preprocess_kind {
    HJ_PRE_NONE = 0,
    HJ_PRE_STANDARDIZE,  /* (x - mean) / std per feature (std 0 -> 1) */
    HJ_PRE_PCA           /* center, project on the top-k principal axes, scale each to unit variance */
} hj_preprocess_kind;

typedef struct hj_preprocess {
    hj_preprocess_kind kind;
    size_t d_raw;          /* input width */
    size_t d_out;          /* output width (d_raw, or k for PCA) */
    double *mean;          /* (d_raw) owned, NULL for NONE */
    double *scale;         /* (d_out) owned: divide by this after projecting */
    double *components;    /* (d_out, d_raw) owned, PCA only: orthonormal rows */
} hj_preprocess;

/* Fit on X (n, d_raw). k is used by PCA only (1 <= k <= d_raw). PCA uses
 * LAPACK's symmetric eigensolver on the covariance; component signs are
 * fixed (largest-magnitude entry positive) so fits are reproducible. */
HJ_API hj_status hj_preprocess_fit(hj_preprocess *p, hj_preprocess_kind kind, const double *X,
                            size_t n, size_t d_raw, size_t k, hj_error *err);
/* out (n, d_out) = transform of X (n, d_raw); out must not alias X unless NONE. */
HJ_API hj_status hj_preprocess_apply(const hj_preprocess *p, const double *X, size_t n, double *out,
                              hj_error *err);
/* The same for n sequences of T steps of d features, X (n, T*d)
 * step-major (data.h): standardisation of each of the d features over all
 * steps and points, stored as mean and scale of length T*d (the d values
 * repeated for each step), so hj_preprocess_apply is unchanged. PCA is
 * refused (HJ_EINVAL: it would mix the steps). */
HJ_API hj_status hj_preprocess_fit_sequence(hj_preprocess *p, hj_preprocess_kind kind, const double *X,
                                            size_t n, size_t T, size_t d, hj_error *err);
HJ_API void hj_preprocess_free(hj_preprocess *p);
/* Deep copy. */
HJ_API hj_status hj_preprocess_copy(hj_preprocess *dst, const hj_preprocess *src, hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_DATASET_H */
