/* cli_data.c — data loading, metrics and prediction files for the training commands. */
#include "cli_data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hjdl/data.h"
#include "hjdl/lse.h"
#include "hjdl/rng.h"

void cli_data_options_default(cli_data_options *o)
{
    memset(o, 0, sizeof *o);
    o->limit = o->test_limit = o->pca = SIZE_MAX; /* not given */
}

void cli_data_free(cli_data *D)
{
    if (D->x_train != D->x_train_raw)
        free(D->x_train);
    free(D->x_train_raw);
    free(D->y_train);
    free(D->x_test_raw);
    free(D->y_test);
    hj_preprocess_free(&D->pre);
    cli_strings_free(D->names, D->d_raw);
    cli_strings_free(D->labels, D->n_classes);
    free(D->target_name);
    memset(D, 0, sizeof *D);
}

/* Index of the target column: a header name, a 1-based number, or the last. */
static int target_column(const hj_matrix *M, const char *target, const char *path, size_t *col,
                         const char *cmd)
{
    if (target == NULL) {
        *col = M->cols - 1;
        return CLI_OK;
    }
    if (M->names)
        for (size_t k = 0; k < M->cols; k++)
            if (strcmp(M->names[k], target) == 0) {
                *col = k;
                return CLI_OK;
            }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(target, &end, 10);
    if (*end == '\0' && v >= 1 && v <= M->cols && errno == 0) {
        *col = (size_t)v - 1;
        return CLI_OK;
    }
    char list[512];
    cli_list_columns(M, list, sizeof list);
    return cli_error(cmd, "--target %s: %s has no such column; its columns are: %s", target, path, list);
}

/* Split a read matrix into features (n, cols-1) and target (n). */
static int split_xy(const hj_matrix *M, size_t col, double **x, double **y, const char *cmd)
{
    const size_t n = M->rows, d = M->cols - 1;
    *x = malloc((n * d > 0 ? n * d : 1) * sizeof **x);
    *y = malloc(n * sizeof **y);
    if (*x == NULL || *y == NULL)
        return cli_error(cmd, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t k2 = 0;
        for (size_t k = 0; k < M->cols; k++) {
            if (k == col)
                (*y)[i] = M->data[i * M->cols + k];
            else
                (*x)[i * d + k2++] = M->data[i * M->cols + k];
        }
    }
    return CLI_OK;
}

/* The feature names (all but column col) and the target name of M into D. */
static int keep_names(const hj_matrix *M, size_t col, cli_data *D, const char *cmd)
{
    if (M->names == NULL)
        return CLI_OK;
    const size_t d = M->cols - 1;
    D->d_raw = d; /* so that cli_data_free frees the names on a later failure */
    D->names = calloc(d ? d : 1, sizeof *D->names);
    D->target_name = malloc(strlen(M->names[col]) + 1);
    if (D->names == NULL || D->target_name == NULL)
        return cli_error(cmd, "out of memory");
    strcpy(D->target_name, M->names[col]);
    for (size_t k = 0, j = 0; k < M->cols; k++) {
        if (k == col)
            continue;
        if ((D->names[j] = malloc(strlen(M->names[k]) + 1)) == NULL)
            return cli_error(cmd, "out of memory");
        strcpy(D->names[j++], M->names[k]);
    }
    return CLI_OK;
}

/* --holdout FRAC: a seeded shuffle of D's training points, the last
 * fraction becoming the test set. */
static int holdout_split(double holdout, uint64_t seed, cli_data *D, const char *cmd)
{
    /* seeded shuffle, the last fraction becomes the test set */
    size_t n = D->n_train, nt = (size_t)floor(holdout * (double)n);
    if (nt == 0 || nt >= n)
        return cli_error(cmd, "--holdout %g of %zu points leaves an empty split", holdout, n);
    if (D->n_test)
        return cli_error(cmd, "give --test or --holdout, not both");
    size_t *perm = malloc(n * sizeof *perm);
    double *xs = malloc(n * D->d_raw * sizeof *xs), *ys = malloc(n * sizeof *ys);
    if (!perm || !xs || !ys) {
        free(perm), free(xs), free(ys);
        return cli_error(cmd, "out of memory");
    }
    cli_shuffled_order(n, seed ^ 0x5eedf00dULL, perm);
    for (size_t i = 0; i < n; i++) {
        memcpy(xs + i * D->d_raw, D->x_train_raw + perm[i] * D->d_raw, D->d_raw * sizeof *xs);
        ys[i] = D->y_train[perm[i]];
    }
    free(perm), free(D->x_train_raw), free(D->y_train);
    D->x_train_raw = xs, D->y_train = ys;
    D->n_train = n - nt, D->n_test = nt;
    D->x_test_raw = malloc(nt * D->d_raw * sizeof *xs);
    D->y_test = malloc(nt * sizeof *ys);
    if (!D->x_test_raw || !D->y_test)
        return cli_error(cmd, "out of memory");
    memcpy(D->x_test_raw, xs + (n - nt) * D->d_raw, nt * D->d_raw * sizeof *xs);
    memcpy(D->y_test, ys + (n - nt), nt * sizeof *ys);
    return CLI_OK;
}

int cli_data_load(const cli_data_options *given, uint64_t seed, cli_data *D, const char *cmd)
{
    memset(D, 0, sizeof *D);
    /* 0 has no meaning for these sizes: refused, not read as "the default" */
    const struct { const char *name; size_t v; const char *why; } zero[] = {
        {"limit", given->limit, "no training point"}, {"test-limit", given->test_limit, "no test point"},
        {"pca", given->pca, "no principal axis (leave --pca out for no projection)"}};
    for (size_t k = 0; k < sizeof zero / sizeof zero[0]; k++)
        if (zero[k].v == 0)
            return cli_error(cmd, "--%s 0 would keep %s", zero[k].name, zero[k].why);
    cli_data_options opt = *given, *o = &opt;
    if (o->limit == SIZE_MAX)
        o->limit = 0;
    if (o->test_limit == SIZE_MAX)
        o->test_limit = 0;
    if (o->pca == SIZE_MAX)
        o->pca = 0;
    hj_error err = {0};
    int rc = CLI_OK;
    if ((o->data == NULL) == (o->dataset == NULL))
        return cli_error(cmd, "give exactly one of --data FILE or --dataset NAME");
    if (!(o->holdout >= 0.0 && o->holdout < 1.0))
        return cli_error(cmd, "--holdout must be in [0, 1) (got %g)", o->holdout);
    if (o->standardize && o->pca)
        return cli_error(cmd, "--standardize and --pca are exclusive (--pca standardises its components)");
    if (o->sequence && o->dataset == NULL)
        return cli_error(cmd, "--sequence %s applies to --dataset; sequences in files are (n, T, d) .npy or .npz "
                              "(or one row per step with --sequence-id COL)", o->sequence);
    if ((o->y || o->test_y) && o->data == NULL)
        return cli_error(cmd, "--y and --test-y give the targets of --data sequences, not of --dataset");
    if (o->test_y && !o->test)
        return cli_error(cmd, "--test-y FILE goes with --test FILE");
    int classify;
    if (o->task == NULL)
        classify = o->dataset != NULL;
    else if (strcmp(o->task, "regression") == 0)
        classify = 0;
    else if (strcmp(o->task, "classification") == 0)
        classify = 1;
    else
        return cli_error(cmd, "--task must be regression or classification (got '%s')", o->task);

    if (o->dataset) {
        if (o->test || o->target || o->holdout > 0)
            return cli_error(cmd, "--test, --target and --holdout apply to --data, not --dataset");
        if (!classify)
            return cli_error(cmd, "--dataset %s is a classification data set", o->dataset);
        hj_dataset ds;
        if (hj_dataset_load(o->dataset, NULL, &ds, &err) != HJ_OK)
            return cli_report(cmd, &err);
        D->d_raw = ds.x_train.cols;
        D->n_classes = ds.n_classes;
        D->n_train = ds.x_train.rows, D->n_test = ds.x_test.rows;
        D->x_train_raw = ds.x_train.data, ds.x_train.data = NULL;
        D->y_train = ds.y_train.data, ds.y_train.data = NULL;
        D->x_test_raw = ds.x_test.data, ds.x_test.data = NULL;
        D->y_test = ds.y_test.data, ds.y_test.data = NULL;
        hj_dataset_free(&ds);
        if (o->sequence && (rc = cli_dataset_sequences(o->sequence, o->dataset, D, cmd)) != CLI_OK)
            return rc;
    } else if (o->io.sequence_id || o->y || cli_is_sequence_file(o->data, &o->io)) {
        if ((rc = cli_load_sequences(o, classify, D, cmd)) != CLI_OK)
            return rc;
        if (o->holdout > 0 && (rc = holdout_split(o->holdout, seed, D, cmd)) != CLI_OK)
            return rc;
    } else {
        if (o->y || o->test_y)
            return cli_error(cmd, "--%s goes with sequence inputs ((n, T, d) .npy/.npz or --sequence-id); the "
                                  "target of a table %s is one of its columns (--target COL)",
                             o->y ? "y" : "test-y", o->data);
        hj_matrix M = {0}, T = {0};
        size_t col = 0;
        char **texts = NULL, **ttexts = NULL;
        if ((rc = cli_read_table(o->data, &o->io, classify ? o->target : NULL, classify, 1, &M, &col, &texts, cmd)) != CLI_OK)
            return rc;
        if (M.cols < 2) {
            const size_t found = M.cols;
            cli_strings_free(texts, M.rows);
            hj_matrix_free(&M);
            return cli_error(cmd, "%s: need at least 2 columns (features and a target), found %zu", o->data, found);
        }
        if ((!classify && (rc = target_column(&M, o->target, o->data, &col, cmd)) != CLI_OK) ||
            (rc = split_xy(&M, col, &D->x_train_raw, &D->y_train, cmd)) != CLI_OK ||
            (rc = keep_names(&M, col, D, cmd)) != CLI_OK ||
            (classify && (rc = cli_class_labels_of(texts, &M, col, o->data, D, D->y_train, 1, cmd)) != CLI_OK)) {
            cli_strings_free(texts, M.rows);
            hj_matrix_free(&M);
            return rc;
        }
        cli_strings_free(texts, M.rows);
        D->d_raw = M.cols - 1, D->n_train = M.rows;
        if (o->test) {
            size_t tc = 0;
            const char *tname = M.names ? M.names[col] : NULL;
            char num[32];
            snprintf(num, sizeof num, "%zu", col + 1);
            if ((rc = cli_read_table(o->test, &o->io, classify ? (tname ? tname : num) : NULL, 0, classify, &T, &tc,
                                     &ttexts, cmd)) != CLI_OK) {
                hj_matrix_free(&M);
                return rc;
            }
            if (T.cols != M.cols) {
                rc = cli_error(cmd, "%s: %zu columns, but the training data %s have %zu", o->test, T.cols, o->data, M.cols);
            } else {
                rc = split_xy(&T, classify ? tc : col, &D->x_test_raw, &D->y_test, cmd);
                D->n_test = T.rows;
                if (rc == CLI_OK && classify)
                    rc = cli_class_labels_of(ttexts, &T, tc, o->test, D, D->y_test, 0, cmd);
            }
            cli_strings_free(ttexts, T.rows);
        }
        hj_matrix_free(&M);
        hj_matrix_free(&T);
        if (rc != CLI_OK)
            return rc;
        if (o->holdout > 0 && (rc = holdout_split(o->holdout, seed, D, cmd)) != CLI_OK)
            return rc;
    }
    if (o->limit && o->limit < D->n_train)
        D->n_train = o->limit;
    if (o->test_limit && o->test_limit < D->n_test)
        D->n_test = o->test_limit;
    if (D->n_train == 0)
        return cli_error(cmd, "no training data");

    hj_preprocess_kind kind = o->pca ? HJ_PRE_PCA : o->standardize ? HJ_PRE_STANDARDIZE : HJ_PRE_NONE;
    if (o->pca && D->steps)
        return cli_error(cmd, "--pca %zu: the inputs are sequences (%zu steps of %zu features); PCA would mix "
                              "the steps, so sequence models take --standardize (per feature) or none",
                         o->pca, D->steps, D->step_d);
    if (o->pca > D->d_raw)
        return cli_error(cmd, "--pca %zu exceeds the %zu input features", o->pca, D->d_raw);
    if ((D->steps ? hj_preprocess_fit_sequence(&D->pre, kind, D->x_train_raw, D->n_train, D->steps, D->step_d, &err)
                  : hj_preprocess_fit(&D->pre, kind, D->x_train_raw, D->n_train, D->d_raw, o->pca, &err)) != HJ_OK)
        return cli_report(cmd, &err);
    D->d = D->pre.d_out;
    if (kind == HJ_PRE_NONE) {
        D->x_train = D->x_train_raw;
    } else {
        D->x_train = malloc(D->n_train * D->d * sizeof *D->x_train);
        if (D->x_train == NULL)
            return cli_error(cmd, "out of memory");
        if (hj_preprocess_apply(&D->pre, D->x_train_raw, D->n_train, D->x_train, &err) != HJ_OK)
            return cli_report(cmd, &err);
    }
    return CLI_OK;
}

/* Softmax of class scores F (C) into p (C) (hj_lse_vec at temperature 1);
 * returns log sum exp F; *arg = arg-max (first on ties). */
static double class_softmax(const double *F, size_t C, double *p, size_t *arg)
{
    size_t a = 0;
    for (size_t c = 1; c < C; c++)
        if (F[c] > F[a])
            a = c;
    *arg = a;
    return hj_lse_vec(F, C, 1.0, p);
}

int cli_fit_progress(const hj_train_progress *p, void *ctx)
{
    cli_progress_update(ctx, p->phase, p->step, p->total, p->loss);
    return 0;
}

void cli_print_metrics(FILE *f, const char *label, const hj_model *m, const double *pred, const double *y, size_t n)
{
    const size_t C = m->arch.n_classes;
    if (C == 0) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += (pred[i] - y[i]) * (pred[i] - y[i]);
        fprintf(f, "%s rmse %.6g\n", label, sqrt(s / (double)n));
        return;
    }
    size_t correct = 0;
    double ce = 0.0, *p = malloc(C * sizeof *p);
    if (p == NULL) {
        fprintf(f, "%s accuracy (out of memory)\n", label);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        size_t arg;
        double lse = class_softmax(pred + i * C, C, p, &arg);
        correct += arg == (size_t)y[i];
        ce += lse - pred[i * C + (size_t)y[i]];
    }
    free(p);
    fprintf(f, "%s accuracy %.4f\n%s cross-entropy %.6g\n", label, (double)correct / (double)n, label,
           ce / (double)n);
}
