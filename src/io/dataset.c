/* dataset.c — named real data sets: Fashion-MNIST from Debian's dataset-fashion-mnist package. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hjdl/data.h"
#include "hjdl/dataset.h"

/* Fashion-MNIST: 28 x 28 grey-level images, 10 classes. */
#define FMNIST_D 784
#define FMNIST_CLASSES 10

/* The known data set names, for the "unknown data set" message. */
static const char known_names[] = "fashion-mnist";

/* dir + "/" + file into a fresh string (NULL when out of memory). */
static char *join_path(const char *dir, const char *file)
{
    size_t dl = strlen(dir), fl = strlen(file);
    char *p = malloc(dl + fl + 2);
    if (p == NULL)
        return NULL;
    memcpy(p, dir, dl);
    size_t k = dl;
    if (dl == 0 || dir[dl - 1] != '/')
        p[k++] = '/';
    memcpy(p + k, file, fl + 1);
    return p;
}

/* Read dir/file as IDX into m. */
static hj_status read_part(const char *dir, const char *file, hj_matrix *m, hj_error *err)
{
    char *path = join_path(dir, file);
    if (path == NULL)
        return hj_error_set(err, HJ_ENOMEM, "%s/%s: out of memory", dir, file);
    hj_status st = hj_idx_read(path, m, err);
    free(path);
    return st;
}

/* Images: d columns of integer grey levels 0..255, scaled in place to [0, 1]. */
static hj_status check_images(const char *dir, const char *file, hj_matrix *x, size_t d,
                              hj_error *err)
{
    if (x->cols != d)
        return hj_error_set(err, HJ_EFORMAT, "%s/%s: images have %zu pixels, expected %zu", dir,
                            file, x->cols, d);
    size_t n = x->rows * x->cols;
    for (size_t k = 0; k < n; k++) {
        double v = x->data[k];
        if (!(v >= 0.0 && v <= 255.0) || v != floor(v))
            return hj_error_set(err, HJ_EFORMAT,
                                "%s/%s: image %zu, pixel %zu is %g, not a grey level 0..255", dir,
                                file, k / d + 1, k % d + 1, v);
        x->data[k] = v / 255.0;
    }
    return HJ_OK;
}

/* Labels: one column of integers 0..n_classes-1, as many as there are images. */
static hj_status check_labels(const char *dir, const char *file, const hj_matrix *y,
                              size_t n_images, size_t n_classes, hj_error *err)
{
    if (y->cols != 1)
        return hj_error_set(err, HJ_EFORMAT,
                            "%s/%s: labels must be a 1-D IDX file, found %zu values per item", dir,
                            file, y->cols);
    if (y->rows != n_images)
        return hj_error_set(err, HJ_EFORMAT, "%s/%s: %zu labels for %zu images", dir, file,
                            y->rows, n_images);
    for (size_t i = 0; i < y->rows; i++) {
        double v = y->data[i];
        if (!(v >= 0.0 && v < (double)n_classes) || v != floor(v))
            return hj_error_set(err, HJ_EFORMAT, "%s/%s: label %zu is %g, expected 0..%zu", dir,
                                file, i + 1, v, n_classes - 1);
    }
    return HJ_OK;
}

static hj_status load_fashion_mnist(const char *dir, hj_dataset *ds, hj_error *err)
{
    struct stat sb;
    int rc = stat(dir, &sb);
    if (rc != 0 || !S_ISDIR(sb.st_mode))
        return hj_error_set(err, HJ_EIO,
                            "%s: %s; the Fashion-MNIST files are there once you install the "
                            "Debian package dataset-fashion-mnist (scripts/setup does)",
                            dir, rc != 0 ? strerror(errno) : "not a directory");
    static const char *const files[4] = {
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    hj_matrix *parts[4] = {&ds->x_train, &ds->y_train, &ds->x_test, &ds->y_test};
    hj_status st = HJ_OK;
    for (int i = 0; i < 4 && st == HJ_OK; i++) {
        st = read_part(dir, files[i], parts[i], err);
        if (st == HJ_EIO)
            hj_error_prefix(err, "fashion-mnist: ");
    }
    if (st == HJ_OK)
        st = check_images(dir, files[0], &ds->x_train, FMNIST_D, err);
    if (st == HJ_OK)
        st = check_labels(dir, files[1], &ds->y_train, ds->x_train.rows, FMNIST_CLASSES, err);
    if (st == HJ_OK)
        st = check_images(dir, files[2], &ds->x_test, FMNIST_D, err);
    if (st == HJ_OK)
        st = check_labels(dir, files[3], &ds->y_test, ds->x_test.rows, FMNIST_CLASSES, err);
    if (st != HJ_OK)
        return st;
    ds->n_classes = FMNIST_CLASSES;
    return HJ_OK;
}

/* Load a named data set (see dataset.h). *ds is zeroed first and left zeroed
 * on failure. Errors: HJ_EINVAL for a NULL argument or an unknown name (the
 * message lists the known ones), HJ_EIO for a missing directory (naming the
 * Debian package) or file, HJ_EFORMAT for corrupt files, image/label counts
 * that differ, a wrong image size or labels outside 0..9, HJ_ENOMEM. */
hj_status hj_dataset_load(const char *name, const char *dir, hj_dataset *ds, hj_error *err)
{
    if (ds != NULL)
        memset(ds, 0, sizeof *ds);
    if (name == NULL || ds == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_dataset_load: NULL name or output");
    hj_status st;
    if (strcmp(name, "fashion-mnist") == 0)
        st = load_fashion_mnist(dir != NULL ? dir : HJ_FASHION_MNIST_DIR, ds, err);
    else
        return hj_error_set(err, HJ_EINVAL, "unknown data set \"%s\" (known: %s)", name,
                            known_names);
    if (st != HJ_OK)
        hj_dataset_free(ds);
    return st;
}

/* Free the four matrices and zero *ds; safe on a zeroed or NULL data set. */
void hj_dataset_free(hj_dataset *ds)
{
    if (ds == NULL)
        return;
    hj_matrix_free(&ds->x_train);
    hj_matrix_free(&ds->y_train);
    hj_matrix_free(&ds->x_test);
    hj_matrix_free(&ds->y_test);
    memset(ds, 0, sizeof *ds);
}
