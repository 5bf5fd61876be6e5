/* fmnist.c — Fashion-MNIST reduced to standardised PCA features: the loader of fmnist.h. */
#include "robust/fmnist.h"

#include <stdlib.h>
#include <string.h>

#include "hjdl/dataset.h"

void hj_fmnist_free(hj_fmnist_pca *f)
{
    if (f == NULL)
        return;
    free(f->x_train), free(f->y_train), free(f->x_test), free(f->y_test);
    memset(f, 0, sizeof *f);
}

/* Copy the first `want` images of the chosen classes of (X, Y) into x (got,
 * D) and their labels into y (got); returns got. */
static size_t pick(const hj_matrix *X, const hj_matrix *Y, unsigned classes, size_t want,
                   double *x, double *y)
{
    const size_t D = X->cols;
    size_t got = 0;
    for (size_t i = 0; i < X->rows && got < want; i++) {
        const int c = (int)Y->data[i];
        if (classes != 0 && (c < 0 || c > 31 || !(classes >> c & 1u)))
            continue;
        memcpy(x + got * D, X->data + i * D, D * sizeof *x);
        y[got++] = Y->data[i];
    }
    return got;
}

hj_status hj_fmnist_load(const hj_fmnist_request *req, hj_fmnist_pca *out, hj_error *err)
{
    memset(out, 0, sizeof *out);
    if (req == NULL || req->k == 0 || req->n_train == 0)
        return hj_error_set(err, HJ_EINVAL, "fashion-mnist: need n_train >= 1 and k >= 1");
    hj_dataset ds = {0};
    hj_preprocess pre = {0};
    hj_status st = hj_dataset_load("fashion-mnist", NULL, &ds, err);
    if (st != HJ_OK)
        return st;
    const size_t D = ds.x_train.cols, k = req->k;
    size_t n_train = req->n_train < ds.x_train.rows ? req->n_train : ds.x_train.rows;
    size_t n_test = req->n_test < ds.x_test.rows ? req->n_test : ds.x_test.rows;
    double *rtr = malloc(n_train * D * sizeof *rtr);
    double *rte = malloc((n_test ? n_test : 1) * D * sizeof *rte);
    out->y_train = malloc(n_train * sizeof(double));
    out->y_test = malloc((n_test ? n_test : 1) * sizeof(double));
    if (!rtr || !rte || !out->y_train || !out->y_test) {
        st = hj_error_set(err, HJ_ENOMEM, "fashion-mnist: out of memory");
        goto done;
    }
    const size_t got_tr = pick(&ds.x_train, &ds.y_train, req->classes, n_train, rtr, out->y_train);
    const size_t got_te = pick(&ds.x_test, &ds.y_test, req->classes, n_test, rte, out->y_test);
    if (req->exact && (got_tr < req->n_train || got_te < req->n_test)) {
        st = hj_error_set(err, HJ_EINVAL, "fashion-mnist: only %zu training and %zu test images "
                                          "of the chosen classes (asked for %zu and %zu)",
                          got_tr, got_te, req->n_train, req->n_test);
        goto done;
    }
    n_train = got_tr, n_test = got_te;
    out->n_train = n_train, out->n_test = n_test, out->k = k, out->n_classes = ds.n_classes;
    out->x_train = malloc((n_train ? n_train : 1) * k * sizeof(double));
    out->x_test = malloc((n_test ? n_test : 1) * k * sizeof(double));
    if (!out->x_train || !out->x_test) {
        st = hj_error_set(err, HJ_ENOMEM, "fashion-mnist: out of memory");
        goto done;
    }
    if ((st = hj_preprocess_fit(&pre, HJ_PRE_PCA, rtr, n_train, D, k, err)) != HJ_OK ||
        (st = hj_preprocess_apply(&pre, rtr, n_train, out->x_train, err)) != HJ_OK ||
        (n_test && (st = hj_preprocess_apply(&pre, rte, n_test, out->x_test, err)) != HJ_OK))
        goto done;
done:
    if (st != HJ_OK)
        hj_fmnist_free(out);
    free(rtr), free(rte);
    hj_preprocess_free(&pre);
    hj_dataset_free(&ds);
    return st;
}
