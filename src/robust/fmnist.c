/* fmnist.c — Fashion-MNIST reduced to standardised PCA features for the robustness experiments (internal). */
#include <stdlib.h>
#include <string.h>

#include "hjdl/dataset.h"
#include "robust/robust-impl.h"

void hj__robust_fmnist_free(hj__fmnist_pca *f)
{
    if (f == NULL)
        return;
    free(f->x_train), free(f->y_train), free(f->x_test), free(f->y_test);
    memset(f, 0, sizeof *f);
}

hj_status hj__robust_fmnist_pca(size_t n_train, size_t n_test, size_t k, hj__fmnist_pca *out,
                                hj_error *err)
{
    memset(out, 0, sizeof *out);
    hj_dataset ds = {0};
    hj_preprocess pre = {0};
    hj_status st = hj_dataset_load("fashion-mnist", NULL, &ds, err);
    if (st != HJ_OK)
        return st;
    const size_t d = ds.x_train.cols;
    n_train = n_train < ds.x_train.rows ? n_train : ds.x_train.rows;
    n_test = n_test < ds.x_test.rows ? n_test : ds.x_test.rows;
    out->n_train = n_train, out->n_test = n_test, out->k = k, out->n_classes = ds.n_classes;
    out->x_train = malloc(n_train * k * sizeof(double));
    out->x_test = malloc((n_test ? n_test : 1) * k * sizeof(double));
    out->y_train = malloc(n_train * sizeof(double));
    out->y_test = malloc((n_test ? n_test : 1) * sizeof(double));
    if (!out->x_train || !out->x_test || !out->y_train || !out->y_test) {
        st = hj_error_set(err, HJ_ENOMEM, "fashion-mnist: out of memory");
        goto done;
    }
    if ((st = hj_preprocess_fit(&pre, HJ_PRE_PCA, ds.x_train.data, n_train, d, k, err)) != HJ_OK ||
        (st = hj_preprocess_apply(&pre, ds.x_train.data, n_train, out->x_train, err)) != HJ_OK ||
        (n_test && (st = hj_preprocess_apply(&pre, ds.x_test.data, n_test, out->x_test, err)) != HJ_OK))
        goto done;
    for (size_t i = 0; i < n_train; i++)
        out->y_train[i] = ds.y_train.data[i];
    for (size_t i = 0; i < n_test; i++)
        out->y_test[i] = ds.y_test.data[i];
done:
    if (st != HJ_OK)
        hj__robust_fmnist_free(out);
    hj_preprocess_free(&pre);
    hj_dataset_free(&ds);
    return st;
}
