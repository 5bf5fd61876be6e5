/* cli_data.h — loading training/test data for the CLI (files, built-in data sets, preprocessing). */
#ifndef HJDL_CLI_DATA_H
#define HJDL_CLI_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hjdl/data.h"
#include "hjdl/dataset.h"
#include "hjdl/model.h"
#include "hjdl/optim.h"

/* How input tables are read: --format (NULL: by extension; "-": by
 * content), --no-header, and for libsvm the feature count (0: the largest
 * index). */
typedef struct cli_io {
    const char *format;
    int no_header;
    size_t features;
    const char *sequence_id; /* long sequence tables: the id column (NULL: none) */
} cli_io;
/* The two options every verb reading tables has. */
#define CLI_IO_OPTIONS(io)                                                                              \
    {"format", CLI_STRING, &(io).format, "F",                                                            \
     "input tables are csv, tsv, npy, npz or libsvm (default: by extension; '-': by content)", 0},      \
    {"no-header", CLI_FLAG, &(io).no_header, NULL,                                                       \
     "CSV/TSV inputs have no header line; columns are numbered 1, 2, ... (default: a header)", 0}
/* --sequence-id, for the verbs that read sequence inputs. */
#define CLI_SEQUENCE_ID_OPTION(io)                                                                      \
    {"sequence-id", CLI_STRING, &(io).sequence_id, "COL",                                                \
     "sequence inputs as a CSV/TSV of one row per step: consecutive rows with the same COL (name or "    \
     "1-based number) are one sequence", 0}
/* io -> library read options; prints one error and returns CLI_USAGE for an unknown --format. */
int cli_io_options(const cli_io *io, hj_read_options *ro, const char *cmd);
/* cli_read_table without a text column: a whole table (path "-": stdin). */
int cli_read_matrix(const char *path, const cli_io *io, hj_matrix *M, const char *cmd);

typedef struct cli_data_options {
    const char *data, *dataset, *target, *test, *task;
    const char *sequence;            /* --dataset as sequences: "rows" or "columns" (NULL: vectors) */
    const char *y, *test_y;          /* targets of sequence inputs in their own files */
    cli_io io;
    double holdout;
    size_t limit, test_limit, pca;   /* SIZE_MAX: not given; 0 is refused */
    int standardize;
} cli_data_options;

typedef struct cli_data {
    size_t d_raw, d, n_classes;
    size_t steps, step_d;  /* sequence inputs: T steps of step_d features (d_raw = T*step_d); 0: vectors */
    size_t n_train, n_test;
    double *x_train_raw;   /* (n_train, d_raw) */
    double *x_train;       /* (n_train, d): preprocessed (== x_train_raw without preprocessing) */
    double *y_train;       /* (n_train) */
    double *x_test_raw;    /* (n_test, d_raw) */
    double *y_test;        /* (n_test) */
    hj_preprocess pre;     /* fitted on the training inputs */
    char **names;          /* (d_raw) feature column names (CSV header), or NULL */
    char *target_name;     /* the target column's name, or NULL */
    char **labels;         /* (n_classes) the user's class labels, in class order, or NULL */
} cli_data;

void cli_data_options_default(cli_data_options *o);
/* Load, split, validate and preprocess; prints one error line and returns
 * CLI_USAGE on bad input. */
int cli_data_load(const cli_data_options *o, uint64_t seed, cli_data *D, const char *cmd);
void cli_data_free(cli_data *D);

/* Training progress callback (ctx: a cli_progress). */
int cli_fit_progress(const hj_train_progress *p, void *ctx);
/* "LABEL rmse X" / "LABEL accuracy X" (and the loss) on f. */
void cli_print_metrics(FILE *f, const char *label, const hj_model *m, const double *pred, const double *y, size_t n);
/* ---- columns by name, labels as given (cli_columns.c) ------------------- */

/* perm (n) = a seeded Fisher-Yates shuffle of 0..n-1. */
void cli_shuffled_order(size_t n, uint64_t seed, size_t *perm);

/* n strings: free (NULL is a no-op). */
void cli_strings_free(char **s, size_t n);

/* Read path (by io, else extension; "-" standard input). text_col: a column kept as text,
 * given as a header name or a 1-based number (NULL: the last column if
 * text_last, else none); its fields go to *texts (M->rows strings, free
 * with cli_strings_free) and read as 0 in M, so it may hold any labels.
 * *tcol gets its index (SIZE_MAX: none). Not found: an error listing the
 * columns when required, else no text column. .npy: no texts (the column
 * is numeric), *tcol resolved by number or last. Duplicate header names
 * are refused. Prints one error and returns CLI_USAGE on bad input. */
int cli_read_table(const char *path, const cli_io *io, const char *text_col, int text_last, int required,
                   hj_matrix *M, size_t *tcol, char ***texts, const char *cmd);

/* A column of M given by header name or 1-based number; SIZE_MAX if none. */
size_t cli_find_column(const hj_matrix *M, const char *spec);

/* "a, b, c" (at most ~400 bytes, then "...") of M's column names into buf. */
void cli_list_columns(const hj_matrix *M, char *buf, size_t len);

/* The model's raw inputs (M->rows, pre.d_raw) from a table read from path:
 * by name when the model and the table both have names (the target and any
 * other extra column are ignored; a missing input column is refused,
 * naming it), else by position (M has exactly d_raw columns, or d_raw + 1
 * when allow_extra_last: the last is then the target). *target_col: the
 * table's target column (by the model's target name, or the extra last
 * column), SIZE_MAX if none. */
int cli_model_inputs(const hj_model *m, const hj_matrix *M, const char *path, const char *model_path,
                     int allow_extra_last, double **x, size_t *target_col, const char *cmd);

/* (cli_sequences.c) Read path for model m (classifiers: its target column may hold text
 * labels) and select the model inputs into *x (rows, d_raw; caller frees).
 * *M keeps the table (free with hj_matrix_free). When labels is not NULL,
 * it gets (rows) the class index of each row's target column, or stays
 * NULL when there is none (*tcol == SIZE_MAX). A sequence model reads
 * (n, T, d) sequences (cli_model_sequences); a vector model refuses them. */
int cli_model_table(const hj_model *m, const char *path, const cli_io *io, const char *model_path,
                    int allow_extra_last, hj_matrix *M, double **x, size_t *tcol, double **labels,
                    const char *cmd);

/* Class index of a label (text, or the number v when text is NULL) of a
 * model with class labels (or class indices 0..C-1 without). */
int cli_label_class(const hj_model *m, const char *text, double v, size_t *cls);

/* Class labels from n label strings: numbers sorted by value when every
 * label is a number, else strings sorted; y (n) gets the class indices.
 * Empty or NaN labels and fewer than 2 classes are refused. */
int cli_labels_build(char *const *texts, size_t n, const char *path, char ***labels, size_t *C, double *y,
                     const char *cmd);
/* Map n label strings to the classes of labels (C); a label not among them is refused. */
int cli_labels_map(char *const *texts, size_t n, const char *path, char *const *labels, size_t C, double *y,
                   const char *cmd);

/* Predictions (n, n_out) as CSV (or .npy when the labels are numbers):
 * "prediction" (regression) or "class" (the arg-max as the model's class
 * label) and, with proba, p_LABEL per class (softmax of the class scores);
 * then K attribution pairs neuron_k,pi_k when K > 0. path NULL = stdout. */
int cli_write_labelled_predictions(const char *path, const hj_model *m, const double *pred, size_t n,
                                   int proba, const double *pi_top, const size_t *idx_top, size_t K,
                                   const char *cmd);

/* ---- sequence inputs (cli_sequences.c) ----------------------------------- */

/* 1 when the inputs at path are sequences: --sequence-id given, or an .npy
 * or .npz (by --format or extension) whose array (X) is 3-D; else 0 (also
 * when it cannot be read: the table reader then reports why). */
int cli_is_sequence_file(const char *path, const cli_io *io);
/* The sequences at path: an (n, T, d) .npy, an .npz with X (n, T, d) [and
 * y], or a long CSV/TSV by io->sequence_id. One error and CLI_USAGE on bad input. */
int cli_read_sequences(const char *path, const cli_io *io, hj_sequences *S, const char *cmd);
/* --dataset NAME --sequence rows|columns: the square images of D as
 * T = side steps of side pixels (rows), or transposed (columns). */
int cli_dataset_sequences(const char *how, const char *dataset, cli_data *D, const char *cmd);
/* Training (and test) sequences of --data (and --test) with their targets
 * (--y / --test-y, or the .npz arrays y) into D. */
int cli_load_sequences(const cli_data_options *o, int classify, cli_data *D, const char *cmd);
/* cli_model_table for a sequence model, and the refusal of sequences for a
 * vector model: see cli_model_table. */
int cli_model_sequences(const hj_model *m, const char *path, const cli_io *io, const char *model_path,
                        hj_matrix *M, double **x, size_t *tcol, double **labels, const char *cmd);
/* Class labels of column col of M (texts, or the numbers when texts is
 * NULL): build = 1 makes D's class list (training data), else maps onto it;
 * y gets the class indices. */
int cli_class_labels_of(char **texts, const hj_matrix *M, size_t col, const char *path, cli_data *D, double *y,
                        int build, const char *cmd);

/* Refuse an output path that cannot be written (a directory, a missing or
 * unwritable directory) before any work; opt names the option. NULL: ok. */
int cli_check_output(const char *path, const char *opt, const char *cmd);

#endif /* HJDL_CLI_DATA_H */
