/* cli_sequences.c — sequence inputs (n, T, d) for the CLI: files, targets, built-in data sets as
 * sequences; and the inputs of a saved model (cli_model_table: tables or sequences). */
#include "cli_data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hjdl/data.h"

/* The format path is read in for sequences: --format, else its extension. */
static int sequence_format(const char *path, const cli_io *io, hj_format *f, const char *cmd)
{
    hj_read_options ro;
    int rc = cli_io_options(io, &ro, cmd);
    if (rc != CLI_OK)
        return rc;
    *f = ro.format != HJ_FORMAT_AUTO ? ro.format : hj_format_of_path(path);
    return CLI_OK;
}

int cli_is_sequence_file(const char *path, const cli_io *io)
{
    if (io && io->sequence_id)
        return 1;
    hj_error err = {0};
    hj_format f = HJ_FORMAT_AUTO;
    if (path == NULL || strcmp(path, "-") == 0 || (io && io->format && hj_format_parse(io->format, &f, &err) != HJ_OK))
        return 0;
    if (f == HJ_FORMAT_AUTO)
        f = hj_format_of_path(path);
    if (f != HJ_FORMAT_NPY && f != HJ_FORMAT_NPZ)
        return 0;
    size_t shape[3], nd;
    return hj_sequences_probe(path, f, shape, &nd, &err) == HJ_OK && nd == 3;
}

int cli_read_sequences(const char *path, const cli_io *io, hj_sequences *S, const char *cmd)
{
    memset(S, 0, sizeof *S);
    hj_error err = {0};
    if (io && io->sequence_id) { /* a long table: one row per step */
        hj_matrix M = {0};
        int rc = cli_read_matrix(path, io, &M, cmd);
        if (rc != CLI_OK)
            return rc;
        size_t id = cli_find_column(&M, io->sequence_id);
        if (id == SIZE_MAX) {
            char list[512];
            cli_list_columns(&M, list, sizeof list);
            hj_matrix_free(&M);
            return cli_error(cmd, "--sequence-id %s: %s has no such column; its columns are: %s", io->sequence_id,
                             path, list);
        }
        hj_status st = hj_sequences_from_long(&M, id, SIZE_MAX, strcmp(path, "-") ? path : "<stdin>",
                                              io->no_header ? 0 : 1, S, NULL, &err);
        hj_matrix_free(&M);
        return st == HJ_OK ? CLI_OK : cli_report(cmd, &err);
    }
    hj_format f;
    int rc = sequence_format(path, io, &f, cmd);
    if (rc != CLI_OK)
        return rc;
    if (f != HJ_FORMAT_NPY && f != HJ_FORMAT_NPZ && strcmp(path, "-") != 0)
        return cli_error(cmd, "%s: sequences are read from an (n, T, d) .npy, an .npz with X (n, T, d) [and y], "
                              "or a CSV/TSV of one row per step with --sequence-id COL",
                         path);
    if (hj_sequences_read(path, f, S, &err) != HJ_OK)
        return cli_report(cmd, &err);
    return CLI_OK;
}

int cli_dataset_sequences(const char *how, const char *dataset, cli_data *D, const char *cmd)
{
    const int rows = strcmp(how, "rows") == 0, cols = strcmp(how, "columns") == 0;
    if (!rows && !cols)
        return cli_error(cmd, "--sequence must be rows or columns (got '%s')", how);
    const size_t side = (size_t)llround(sqrt((double)D->d_raw));
    if (side * side != D->d_raw)
        return cli_error(cmd, "--sequence %s: the %zu inputs of --dataset %s are not a square image", how, D->d_raw,
                         dataset);
    D->steps = D->step_d = side;
    if (rows) /* pixel (r, c) of an image is already at r * side + c: step r, feature c */
        return CLI_OK;
    double *tmp = malloc(D->d_raw * sizeof *tmp);
    if (tmp == NULL)
        return cli_error(cmd, "out of memory");
    double *sets[2] = {D->x_train_raw, D->x_test_raw};
    const size_t ns[2] = {D->n_train, D->n_test};
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < ns[s]; i++) { /* step c = column c, feature r = row r */
            double *img = sets[s] + i * D->d_raw;
            for (size_t r = 0; r < side; r++)
                for (size_t c = 0; c < side; c++)
                    tmp[c * side + r] = img[r * side + c];
            memcpy(img, tmp, D->d_raw * sizeof *tmp);
        }
    free(tmp);
    return CLI_OK;
}

/* Class labels of column col of M: texts (CSV) or the numbers (.npy), see cli_data.h. */
int cli_class_labels_of(char **texts, const hj_matrix *M, size_t col, const char *path, cli_data *D, double *y,
                        int build, const char *cmd)
{
    char **own = NULL;
    const size_t n = M->rows;
    if (texts == NULL) {
        if ((own = calloc(n ? n : 1, sizeof *own)) == NULL)
            return cli_error(cmd, "out of memory");
        for (size_t i = 0; i < n; i++) {
            char buf[40];
            snprintf(buf, sizeof buf, "%.17g", M->data[i * M->cols + col]);
            if ((own[i] = malloc(strlen(buf) + 1)) == NULL) {
                cli_strings_free(own, n);
                return cli_error(cmd, "out of memory");
            }
            strcpy(own[i], buf);
        }
        texts = own;
    }
    int rc = build ? cli_labels_build(texts, n, path, &D->labels, &D->n_classes, y, cmd)
                   : cli_labels_map(texts, n, path, D->labels, D->n_classes, y, cmd);
    cli_strings_free(own, n);
    return rc;
}

/* The targets of n sequences of data_path: from y_path (one column; text
 * labels for classifiers) or else the sequences' own y; into *y (n, class
 * indices for classifiers: build makes D's classes, else maps onto them). */
static int sequence_targets(const char *y_path, const char *data_path, const hj_sequences *S, const cli_io *io,
                            int classify, int build, cli_data *D, double **y, const char *cmd)
{
    const size_t n = S->x.rows;
    hj_matrix Y = {0};
    char **texts = NULL;
    const char *from = y_path;
    int rc = CLI_OK;
    if (y_path && S->y.rows)
        return cli_error(cmd, "%s holds its targets (the array y) and --%s gives them again; give one", data_path,
                         build ? "y" : "test-y");
    if (y_path == NULL && S->y.rows == 0)
        return cli_error(cmd, "%s: %zu sequences without targets: give --%s FILE (one value per sequence: .npy "
                              "(n,) or (n, 1), or a CSV/TSV column) or an .npz with arrays X and y",
                         data_path, n, build ? "y" : "test-y");
    if (y_path) {
        cli_io yio = io ? *io : (cli_io){0};
        yio.sequence_id = NULL;
        size_t tcol;
        if ((rc = cli_read_table(y_path, &yio, NULL, classify, 0, &Y, &tcol, &texts, cmd)) != CLI_OK)
            return rc;
        if (Y.cols != 1)
            rc = cli_error(cmd, "%s: %zu columns, but targets are one column (a value per sequence)", y_path, Y.cols);
        else if (Y.rows != n)
            rc = cli_error(cmd, "%s: %zu values, but %s holds %zu sequences", y_path, Y.rows, data_path, n);
        if (rc == CLI_OK && build && Y.names && (D->target_name = malloc(strlen(Y.names[0]) + 1)) != NULL)
            strcpy(D->target_name, Y.names[0]);
    } else {
        from = data_path;
    }
    const hj_matrix *src = y_path ? &Y : &S->y;
    if (rc == CLI_OK && (*y = malloc((n ? n : 1) * sizeof **y)) == NULL)
        rc = cli_error(cmd, "out of memory");
    if (rc == CLI_OK) {
        if (classify)
            rc = cli_class_labels_of(texts, src, 0, from, D, *y, build, cmd);
        else
            memcpy(*y, src->data, n * sizeof **y);
    }
    cli_strings_free(texts, Y.rows);
    hj_matrix_free(&Y);
    return rc;
}

int cli_load_sequences(const cli_data_options *o, int classify, cli_data *D, const char *cmd)
{
    hj_sequences S, U;
    memset(&U, 0, sizeof U);
    if (o->target)
        return cli_error(cmd, "--target names a column of a table; the targets of sequences come from --y FILE "
                              "or the .npz array y");
    int rc = cli_read_sequences(o->data, &o->io, &S, cmd);
    if (rc != CLI_OK)
        return rc;
    D->steps = S.steps, D->step_d = S.features;
    D->d_raw = S.x.cols, D->n_train = S.x.rows;
    rc = sequence_targets(o->y, o->data, &S, &o->io, classify, 1, D, &D->y_train, cmd);
    if (rc == CLI_OK && o->test) {
        rc = cli_read_sequences(o->test, &o->io, &U, cmd);
        if (rc == CLI_OK && (U.steps != S.steps || U.features != S.features))
            rc = cli_error(cmd, "%s: sequences of %zu steps of %zu features, but the training data %s have %zu "
                                "steps of %zu",
                           o->test, U.steps, U.features, o->data, S.steps, S.features);
        if (rc == CLI_OK)
            rc = sequence_targets(o->test_y, o->test, &U, &o->io, classify, 0, D, &D->y_test, cmd);
        if (rc == CLI_OK) {
            D->n_test = U.x.rows;
            D->x_test_raw = U.x.data, U.x.data = NULL;
        }
    }
    if (rc == CLI_OK)
        D->x_train_raw = S.x.data, S.x.data = NULL;
    hj_sequences_free(&S);
    hj_sequences_free(&U);
    return rc;
}

int cli_model_sequences(const hj_model *m, const char *path, const cli_io *io, const char *model_path,
                        hj_matrix *M, double **x, size_t *tcol, double **labels, const char *cmd)
{
    const size_t T = m->arch.seq_len, d = T ? m->pre.d_raw / T : m->pre.d_raw;
    hj_format f;
    hj_error err = {0};
    int rc = sequence_format(path, io, &f, cmd);
    if (rc != CLI_OK)
        return rc;
    size_t shape[3], nd = 0;
    const int binary = (f == HJ_FORMAT_NPY || f == HJ_FORMAT_NPZ) && strcmp(path, "-") != 0;
    if (binary && !(io && io->sequence_id) && hj_sequences_probe(path, f, shape, &nd, &err) != HJ_OK)
        return cli_report(cmd, &err);
    if (T == 0) { /* a vector model: a 3-D array is refused here, tables go to the table reader */
        if (nd == 3)
            return cli_error(cmd, "%s: sequences of shape (n, T, d) = (%zu, %zu, %zu), but the model %s takes vectors "
                                  "of %zu features",
                             path, shape[0], shape[1], shape[2], model_path, d);
        return cli_error(cmd, "%s: --sequence-id reads sequences, but the model %s takes vectors of %zu features",
                         path, model_path, d);
    }
    if (!(io && io->sequence_id) && (!binary || nd != 3)) {
        char got[96];
        if (binary)
            snprintf(got, sizeof got, "a %zu-D array of shape %zu x %zu", nd, shape[0], shape[1] * shape[2]);
        else
            snprintf(got, sizeof got, "a table");
        return cli_error(cmd, "%s: %s, but the model %s takes sequences of shape (n, T, d) = (n, %zu, %zu): give "
                              "an (n, %zu, %zu) .npy, an .npz with X, or one row per step with --sequence-id COL",
                         path, got, model_path, T, d, T, d);
    }
    hj_sequences S;
    if ((rc = cli_read_sequences(path, io, &S, cmd)) != CLI_OK)
        return rc;
    if (S.steps != T || S.features != d) {
        rc = cli_error(cmd, "%s: sequences of shape (n, T, d) = (%zu, %zu, %zu), but the model %s takes (n, %zu, %zu)",
                       path, S.x.rows, S.steps, S.features, model_path, T, d);
        hj_sequences_free(&S);
        return rc;
    }
    const size_t n = S.x.rows;
    *x = malloc(n * S.x.cols * sizeof **x);
    if (*x == NULL) {
        hj_sequences_free(&S);
        return cli_error(cmd, "out of memory");
    }
    memcpy(*x, S.x.data, n * S.x.cols * sizeof **x);
    *tcol = SIZE_MAX;
    if (S.y.rows && labels) {
        *tcol = 0;
        double *y = malloc(n * sizeof *y);
        if (y == NULL)
            rc = cli_error(cmd, "out of memory");
        for (size_t i = 0; y && i < n && rc == CLI_OK; i++) {
            size_t c = 0;
            if (!cli_label_class(m, NULL, S.y.data[i], &c))
                rc = cli_error(cmd, "%s: y[%zu] = %.17g is not one of the model's classes", path, i, S.y.data[i]);
            y[i] = (double)c;
        }
        if (rc == CLI_OK)
            *labels = y;
        else
            free(y);
    }
    if (rc != CLI_OK) {
        free(*x);
        *x = NULL;
        hj_sequences_free(&S);
        return rc;
    }
    *M = S.x;
    S.x.data = NULL;
    hj_sequences_free(&S);
    return CLI_OK;
}

int cli_model_table(const hj_model *m, const char *path, const cli_io *io, const char *model_path,
                    int allow_extra_last, hj_matrix *M, double **x, size_t *tcol, double **labels,
                    const char *cmd)
{
    char **texts = NULL;
    size_t tc;
    *x = NULL;
    if (labels)
        *labels = NULL;
    if (m->arch.seq_len > 0 || cli_is_sequence_file(path, io)) /* (n, T, d) inputs, or refused */
        return cli_model_sequences(m, path, io, model_path, M, x, tcol, labels, cmd);
    cli_io mio = io ? *io : (cli_io){0};
    mio.features = m->pre.d_raw; /* libsvm: the model's width, whatever the largest index here */
    int rc = cli_read_table(path, &mio, m->arch.n_classes ? m->target_name : NULL, 0, 0, M, &tc, &texts, cmd);
    if (rc != CLI_OK)
        return rc;
    rc = cli_model_inputs(m, M, path, model_path, allow_extra_last, x, tcol, cmd);
    if (rc == CLI_OK && labels && *tcol != SIZE_MAX) {
        double *y = malloc((M->rows ? M->rows : 1) * sizeof *y);
        if (y == NULL)
            rc = cli_error(cmd, "out of memory");
        for (size_t i = 0; y && i < M->rows && rc == CLI_OK; i++) {
            size_t c = 0;
            const char *t = texts && *tcol == tc ? texts[i] : NULL;
            if (!cli_label_class(m, t, M->data[i * M->cols + *tcol], &c)) {
                char v[40];
                snprintf(v, sizeof v, "%.17g", M->data[i * M->cols + *tcol]);
                rc = cli_error(cmd, "%s: data row %zu: label '%s' is not one of the model's classes", path, i + 1,
                               t ? t : v);
            }
            y[i] = (double)c;
        }
        if (rc == CLI_OK)
            *labels = y;
        else
            free(y);
    }
    cli_strings_free(texts, M->rows);
    if (rc != CLI_OK) {
        free(*x);
        *x = NULL;
        hj_matrix_free(M);
    }
    return rc;
}
