/* cli_data.h — loading training/test data for the CLI (files, built-in data sets, preprocessing). */
#ifndef HJDL_CLI_DATA_H
#define HJDL_CLI_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "hjdl/dataset.h"
#include "hjdl/model.h"
#include "hjdl/optim.h"

typedef struct cli_data_options {
    const char *data, *dataset, *target, *test, *task;
    double holdout;
    size_t limit, test_limit, pca;   /* SIZE_MAX: not given; 0 is refused */
    int standardize;
} cli_data_options;

typedef struct cli_data {
    size_t d_raw, d, n_classes;
    size_t n_train, n_test;
    double *x_train_raw;   /* (n_train, d_raw) */
    double *x_train;       /* (n_train, d): preprocessed (== x_train_raw without preprocessing) */
    double *y_train;       /* (n_train) */
    double *x_test_raw;    /* (n_test, d_raw) */
    double *y_test;        /* (n_test) */
    hj_preprocess pre;     /* fitted on the training inputs */
} cli_data;

void cli_data_options_default(cli_data_options *o);
/* Load, split, validate and preprocess; prints one error line and returns
 * CLI_USAGE on bad input. */
int cli_data_load(const cli_data_options *o, uint64_t seed, cli_data *D, const char *cmd);
void cli_data_free(cli_data *D);

/* Training progress callback (ctx: a cli_progress). */
int cli_fit_progress(const hj_train_progress *p, void *ctx);
/* "LABEL rmse X" / "LABEL accuracy X" (and the loss) on stdout. */
void cli_print_metrics(const char *label, const hj_model *m, const double *pred, const double *y, size_t n);
/* Predictions (n, n_out) as CSV: "prediction" (regression) or
 * "class,p_0..p_{C-1}" (classifier: arg-max and softmax of the class scores),
 * then K attribution pairs neuron_k,pi_k when K > 0. path NULL = stdout. */
int cli_write_predictions(const char *path, const hj_model *m, const double *pred, size_t n,
                          const double *pi_top, const size_t *idx_top, size_t K, const char *cmd);

#endif /* HJDL_CLI_DATA_H */
