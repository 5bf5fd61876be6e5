/* fmnist.h — the one Fashion-MNIST + PCA loader of the library, for the
 * experiments (robustness, adversarial, phase, influence) that need real
 * images reduced to a few standardised components.
 *
 * Not installed: a convenience of the experiments over the public
 * dataset.h (hj_dataset_load) and preprocess (hj_preprocess_fit/apply).
 */
#ifndef HJDL_ROBUST_FMNIST_H
#define HJDL_ROBUST_FMNIST_H

#include <stddef.h>

#include "hjdl/status.h"

/* What to load: the first n_train training and n_test test images (file
 * order) whose class c has bit c set in `classes` (0: every class), and k
 * PCA components fitted on those training images and applied to both
 * parts. With exact = 0 fewer images than asked are fine (the counts are
 * clipped); with exact = 1 they are HJ_EINVAL. */
typedef struct hj_fmnist_request {
    size_t n_train, n_test, k;
    unsigned classes;
    int exact;
} hj_fmnist_request;

/* x_train (n_train, k), y_train (n_train), x_test (n_test, k), y_test
 * (n_test): features and class numbers (0..9, as doubles), all malloc'ed
 * (free with hj_fmnist_free); n_classes of the data set (10). */
typedef struct hj_fmnist_pca {
    size_t n_train, n_test, k, n_classes;
    double *x_train, *y_train, *x_test, *y_test;
} hj_fmnist_pca;

/* Load as asked. HJ_EIO / HJ_EFORMAT (from hj_dataset_load) when the data
 * set is missing or malformed; on any failure *out is empty. */
hj_status hj_fmnist_load(const hj_fmnist_request *req, hj_fmnist_pca *out, hj_error *err);
void hj_fmnist_free(hj_fmnist_pca *f);

#endif /* HJDL_ROBUST_FMNIST_H */
