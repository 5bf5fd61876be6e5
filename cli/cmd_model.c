/* cmd_model.c — `hjdl predict`, `hjdl initial-data` and `hjdl info` on a saved model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_data.h"
#include "hjdl/data.h"
#include "hjdl/limits.h"
#include "hjdl/model.h"

int cmd_predict(int argc, char **argv)
{
    const char *x_path = NULL, *out_path = NULL, *pos[1];
    size_t K = 0, npos = 0, threads = 0;
    int proba = 0;
    cli_io io = {0};
    const cli_opt opts[] = {
        {"x", CLI_INPUT, &x_path, "FILE", "inputs: the model's feature columns, by name (CSV/TSV with a header, .npz columns) or position; sequence models: (n, T, d) .npy/.npz; '-': stdin", 1},
        {"proba", CLI_FLAG, &proba, NULL, "classifiers: append one probability column p_LABEL per class", 0},
        {"attribution", CLI_SIZE, &K, "K", "append the K largest readout Gibbs weights pi_j and their neurons j", 0},
        {"out", CLI_OUTPUT, &out_path, "FILE", "output file (.csv, .tsv, .npy, .npz; default '-': CSV on stdout)", 0},
        CLI_IO_OPTIONS(io),
        CLI_SEQUENCE_ID_OPTION(io),
        CLI_THREADS_OPTION(threads),
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    int rc = cli_parse(argc, argv, opts, nopts, pos, 1, &npos, "predict");
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "predict", "MODEL --x FILE [--attribution K] [--out FILE]",
                       "Evaluates a model on new inputs (the stored preprocessing is applied first).\n"
                       "Input columns are selected by the names the model was trained on (the\n"
                       "target column and other extra columns are ignored; .npy: by position).\n"
                       "Output CSV, one row per point: 'prediction' for regression; for classifiers\n"
                       "'class' (the arg-max, as the label given at training) and, with --proba,\n"
                       "p_LABEL for each class, the softmax of the class scores.\n"
                       "--attribution K appends neuron_1,pi_1,...,neuron_K,pi_K: the closed-form\n"
                       "attribution of the readout LSE, i.e. the K largest Gibbs weights\n"
                       "pi_j = exp((z_j - f)/eps) (of the predicted class's neurons).",
                       opts, nopts);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_error("predict", "give the model file (see 'hjdl predict --help')");
    hj_model m = {0};
    hj_matrix X = {0};
    hj_error err = {0};
    hj_workspace *ws = NULL;
    double *pred = NULL, *pt = NULL, *xt = NULL, *xin = NULL;
    size_t *it = NULL;
    if ((rc = cli_check_output(out_path, "out", "predict")) != CLI_OK)
        return rc;
    if (hj_model_load(&m, pos[0], &err) != HJ_OK) {
        rc = cli_report("predict", &err);
        goto done;
    }
    if (proba && m.arch.n_classes == 0) { /* before the inputs are read: nothing is written */
        rc = cli_error("predict", "--proba: %s is a regression model (probabilities are for lse-class "
                                  "classifiers)", pos[0]);
        goto done;
    }
    size_t tcol;
    if ((rc = cli_model_table(&m, x_path, &io, pos[0], 1, &X, &xin, &tcol, NULL, "predict")) != CLI_OK)
        goto done;
    size_t N;
    hj_model_readout_shape(&m, &N, NULL);
    const size_t per = m.arch.n_classes ? N / m.arch.n_classes : N;
    if (K > per) {
        rc = cli_error("predict", "--attribution %zu exceeds the %zu neurons of the readout", K, per);
        goto done;
    }
    const size_t n = X.rows;
    pred = malloc(n * hj_model_n_out(&m) * sizeof *pred);
    if (pred == NULL) {
        rc = cli_error("predict", "out of memory");
        goto done;
    }
    if (hj_model_predict(&m, xin, n, pred, &err) != HJ_OK) {
        rc = cli_report("predict", &err);
        goto done;
    }
    if (K > 0) {
        pt = malloc(n * K * sizeof *pt);
        it = malloc(n * K * sizeof *it);
        xt = malloc(n * m.arch.d_in * sizeof *xt);
        if (!pt || !it || !xt) {
            rc = cli_error("predict", "out of memory");
            goto done;
        }
        if (hj_preprocess_apply(&m.pre, xin, n, xt, &err) != HJ_OK ||
            hj_workspace_alloc(&ws, &m, n < 4096 ? n : 4096, &err) != HJ_OK ||
            hj_model_attribution(&m, ws, xt, n, K, pt, it, &err) != HJ_OK) {
            rc = cli_report("predict", &err);
            goto done;
        }
    }
    rc = cli_write_labelled_predictions(out_path, &m, pred, n, proba, pt, it, K, "predict");
done:
    hj_workspace_free(ws);
    free(pred), free(pt), free(it), free(xt), free(xin);
    hj_matrix_free(&X);
    hj_model_free(&m);
    return rc;
}

/* Atom columns y_1..y_d, g; ctx: the dimension d. */
static void atom_column_name(size_t k, char *buf, size_t len, const void *ctx)
{
    const size_t d = *(const size_t *)ctx;
    if (k < d)
        snprintf(buf, len, "y_%zu", k + 1);
    else
        snprintf(buf, len, "g");
}

int cmd_initial_data(int argc, char **argv)
{
    const char *out_path = NULL, *pos[1];
    double t = NAN; /* not given: the model's t */
    size_t npos = 0;
    const cli_opt opts[] = {
        {"t", CLI_DOUBLE, &t, "T", "time of the map (default: the model's t)", 0},
        {"out", CLI_OUTPUT, &out_path, "FILE", "output file (.csv, .tsv, .npy, .npz; default '-': CSV on stdout)", 0},
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    int rc = cli_parse(argc, argv, opts, nopts, pos, 1, &npos, "initial-data");
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "initial-data", "MODEL [--t T] [--out FILE]",
                       "Prints the atoms (y_j, g_j) = (2t w_j, -b_j - t|w_j|^2) of the model's readout\n"
                       "LSE layer: the initial-value problem that training selected. Columns\n"
                       "y_1..y_d,g, the format 'hjdl solve --atoms' reads; then\n"
                       "f(h) = |h|^2/(4t) - u(h, t) reproduces the readout at its input h (for a\n"
                       "single lse:N layer without preprocessing or output scale, h is the raw input,\n"
                       "so 'hjdl solve' on these atoms reproduces 'hjdl predict').",
                       opts, nopts);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_error("initial-data", "give the model file (see 'hjdl initial-data --help')");
    if (!isnan(t) && !(t > 0.0 && t <= HJ_MAX_SCALE))
        return cli_error("initial-data", "--t must be in (0, %g] (got %g)", HJ_MAX_SCALE, t);
    hj_model m = {0};
    hj_matrix A = {0};
    hj_error err = {0};
    size_t N = 0, d = 0;
    if (hj_model_load(&m, pos[0], &err) != HJ_OK) {
        rc = cli_report("initial-data", &err);
        goto done;
    }
    hj_model_readout_shape(&m, &N, &d);
    double *y = malloc(N * d * sizeof *y), *g = malloc(N * sizeof *g);
    if (!y || !g || hj_matrix_alloc(&A, N, d + 1, &err) != HJ_OK) {
        free(y), free(g);
        rc = cli_error("initial-data", "out of memory");
        goto done;
    }
    if (hj_model_initial_data(&m, isnan(t) ? m.t : t, y, g, &err) != HJ_OK) {
        free(y), free(g);
        rc = cli_report("initial-data", &err);
        goto done;
    }
    for (size_t j = 0; j < N; j++) {
        memcpy(A.data + j * (d + 1), y + j * d, d * sizeof *y);
        A.data[j * (d + 1) + d] = g[j];
    }
    free(y), free(g);
    if (m.arch.n_layers > 1 || m.pre.kind != HJ_PRE_NONE || m.arch.output_scale)
        fprintf(stderr, "hjdl initial-data: note: these atoms live in the readout's input space "
                        "(after %s), not in the raw inputs\n",
                m.arch.n_layers > 1 ? "the hidden layers" : m.pre.kind != HJ_PRE_NONE ? "preprocessing"
                                                                                    : "the output scale");
    rc = cli_write_table("initial-data", out_path, &A, atom_column_name, &d);
done:
    hj_matrix_free(&A);
    hj_model_free(&m);
    return rc;
}

int cmd_info(int argc, char **argv)
{
    const char *pos[1];
    size_t npos = 0;
    int rc = cli_parse(argc, argv, NULL, 0, pos, 1, &npos, "info");
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "info", "MODEL", "Describes a saved model: architecture, eps, t, sizes,\n"
                                              "preprocessing and the readout's curvature bound.", NULL, 0);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_error("info", "give the model file (see 'hjdl info --help')");
    hj_model m = {0};
    hj_error err = {0};
    if (hj_model_load(&m, pos[0], &err) != HJ_OK)
        return cli_report("info", &err);
    char arch[512];
    hj_arch_format(&m.arch, arch, sizeof arch);
    static const char *PRE[] = {"none", "standardize", "pca"};
    size_t N, d;
    hj_model_readout_shape(&m, &N, &d);
    const hj_layer *R = &m.arch.layers[m.arch.n_layers - 1];
    double r2 = 0.0;
    for (size_t j = 0; j < N; j++) {
        double s = 0.0;
        for (size_t k = 0; k < d; k++)
            s += m.params[R->offset + j * d + k] * m.params[R->offset + j * d + k];
        r2 = fmax(r2, s);
    }
    printf("model        %s\n", pos[0]);
    printf("task         %s\n", m.arch.n_classes ? "classification" : "regression");
    if (m.arch.n_classes) {
        printf("classes      %zu", m.arch.n_classes);
        for (size_t c = 0; m.class_labels && c < m.arch.n_classes; c++)
            printf("%s%s", c ? ", " : ": ", m.class_labels[c]);
        printf("\n");
    }
    if (m.target_name)
        printf("target       %s\n", m.target_name);
    if (m.feature_names) {
        printf("features    ");
        for (size_t k = 0; k < m.pre.d_raw; k++)
            printf("%s%s", k ? ", " : " ", m.feature_names[k]);
        printf("\n");
    }
    if (m.arch.n_classes == 0 && (m.y_shift != 0.0 || m.y_scale != 1.0))
        printf("target scale y = %.6g + %.6g f (standardised target)\n", m.y_shift, m.y_scale);
    for (size_t k = 0; k < m.n_eps_curve; k++)
        printf("eps curve    eps %g validation loss %.6g%s\n", m.eps_grid[k], m.eps_val_loss[k],
               m.eps_grid[k] == m.eps ? " (chosen)" : "");
    printf("arch         %s\n", arch);
    char num[32];
    printf("eps          %s\n", hj_double_text(m.eps, num, sizeof num));
    printf("t            %s\n", hj_double_text(m.t, num, sizeof num));
    printf("inputs       %zu raw -> %s -> %zu\n", m.pre.d_raw, PRE[m.pre.kind], m.arch.d_in);
    if (m.arch.seq_len > 0)
        printf("sequences    %zu steps of %zu features (inputs (n, %zu, %zu), step-major)\n", m.arch.seq_len,
               m.arch.d_in / m.arch.seq_len, m.arch.seq_len, m.arch.d_in / m.arch.seq_len);
    printf("parameters   %zu\n", m.arch.n_params);
    printf("readout      %zu neurons on %zu inputs (%zu atoms)\n", R->width, d, N);
    printf("output scale %s\n", m.arch.output_scale ? "yes" : "no");
    printf("max |w_j|    %.6g (Lipschitz constant of the readout)\n", sqrt(r2));
    if (m.eps > 0)
        printf("curvature    <= %.6g = max|w_j|^2/eps (readout Hessian bound)\n", r2 / m.eps);
    hj_model_free(&m);
    return CLI_OK;
}
