/* robust-impl.h — helpers shared by the robustness module's files (not installed). */
#ifndef HJDL_ROBUST_IMPL_H
#define HJDL_ROBUST_IMPL_H

#include <stddef.h>

#include "hjdl/model.h"
#include "hjdl/robust.h"

/* Index of the largest of v (n >= 1), the lowest index on ties. */
static inline size_t hj__robust_argmax(const double *v, size_t n)
{
    size_t k = 0;
    for (size_t c = 1; c < n; c++)
        if (v[c] > v[k])
            k = c;
    return k;
}

/* Map a gradient with respect to the preprocessed input, g (d_out), to the
 * raw input space, graw (d_raw) = A^T g for x' = A (x - mean): identity,
 * g / scale (standardise), or P^T (g / scale) (PCA). */
void hj__robust_grad_to_raw(const hj_preprocess *p, const double *g, double *graw);

/* Per-coordinate scale s (d_out) such that |A^T u| = |u / s| for every u:
 * 1 (none), the standardisation scale, or the PCA scale (orthonormal
 * components). s (d_out). */
void hj__robust_pre_scale(const hj_preprocess *p, double *s);

/* Fashion-MNIST reduced for the C10 experiments: the first n_train training
 * and n_test test images, PCA to k standardised components fitted on the
 * training subset. x_train (n_train, k), y_train (n_train), x_test
 * (n_test, k), y_test (n_test), all malloc'ed (free with
 * hj__robust_fmnist_free). n_train / n_test are clipped to the split sizes. */
typedef struct hj__fmnist_pca {
    size_t n_train, n_test, k, n_classes;
    double *x_train, *y_train, *x_test, *y_test;
} hj__fmnist_pca;
hj_status hj__robust_fmnist_pca(size_t n_train, size_t n_test, size_t k, hj__fmnist_pca *out,
                                hj_error *err);
void hj__robust_fmnist_free(hj__fmnist_pca *f);

#endif /* HJDL_ROBUST_IMPL_H */
