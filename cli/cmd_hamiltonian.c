/* cmd_hamiltonian.c — `hjdl hamiltonian`: a trained sequence model's recurrent layer read as a
 * controlled system (states, co-states of the adjoint recursion, discrete Hamiltonian per step,
 * Pontryagin stationarity), set against the model's reverse mode; with the table of the model's
 * own layers and figures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_data.h"
#include "hjdl/data.h"
#include "hjdl/model.h"
#include "hjdl/plot.h"
#include "hjdl/pmp.h"

static const char *DESCRIPTION =
    "Reads one recurrent layer (rnn, lstm or ssm) of a trained sequence model as the\n"
    "controlled system x_{k+1} = F(x_k, u_k, theta) of optimal control: its states x_k\n"
    "(h, or (h, c) for the lstm), the co-states p_k of the adjoint recursion\n"
    "    p_k = grad_x H_k(x_k, p_{k+1}) + (do_k/dx_k)^T g_k,  H_k = p_{k+1} . F(x_k, u_k, theta)\n"
    "(g_k = dL/do_k: what the layers above make of the layer's output o_k), and\n"
    "Pontryagin's stationarity: dL/dtheta = sum_k grad_theta H_k, dL/du_k = grad_u H_k.\n"
    "Both gradients are compared with the model's own reverse mode (backprop through\n"
    "time); they agree to rounding when hjdl is correct (exit 1 if they differ by more\n"
    "than 1e-10 relative). L is the mean loss over the inputs: cross-entropy against the\n"
    "labels given with the data (an .npz y, or the last column of a table) when there\n"
    "are some, else against the model's own predictions; regression models need their\n"
    "targets.\n\n"
    "Writes into DIR (created if needed):\n"
    "  steps.csv      input,step,x_norm,p_norm,x_1..x_S,p_1..p_S for steps 0..T\n"
    "                 (the co-state is dL/dx_k, the backprop sign)\n"
    "  hamiltonian.csv  input,step,H: H_k for steps 0..T-1\n"
    "  gradients.csv  parameter,costate,reverse_mode: the layer's dL/dtheta both ways\n"
    "  layers.md      per layer of the model: state equation, Hamiltonian, co-state and\n"
    "                 source of viscosity (also printed)\n"
    "  costate.png/.svg, hamiltonian.png/.svg  |p_k| and H_k over k for the first\n"
    "                 inputs (figure_costate.csv, figure_hamiltonian.csv hold their numbers)\n"
    "A summary goes to stdout.";

#define HM_MAX_INPUTS 100000
#define HM_PLOT_INPUTS 4

/* steps.csv: one row per input and step 0..T (states and co-states); hamiltonian.csv:
 * one per input and step 0..T-1. */
static hj_status write_steps(const char *path, const char *hpath, const hj_sequence_reading *r, hj_error *err)
{
    const size_t S = r->S, cols = 4 + 2 * S, rows = r->n * (r->T + 1);
    hj_matrix M = {0}, Hm = {0};
    char **names = calloc(cols, sizeof *names);
    hj_status st = names ? hj_matrix_alloc(&M, rows, cols, err)
                         : hj_error_set(err, HJ_ENOMEM, "hamiltonian: out of memory");
    if (st == HJ_OK)
        st = hj_matrix_alloc(&Hm, r->n * r->T, 3, err);
    for (size_t j = 0; st == HJ_OK && j < cols; j++) {
        char b[32];
        static const char *const fixed[] = {"input", "step", "x_norm", "p_norm"};
        if (j < 4)
            snprintf(b, sizeof b, "%s", fixed[j]);
        else
            snprintf(b, sizeof b, "%c_%zu", j < 4 + S ? 'x' : 'p', (j - 4) % S + 1);
        if ((names[j] = strdup(b)) == NULL)
            st = hj_error_set(err, HJ_ENOMEM, "hamiltonian: out of memory");
    }
    for (size_t i = 0; st == HJ_OK && i < r->n; i++)
        for (size_t k = 0; k <= r->T; k++) {
            double *row = M.data + (i * (r->T + 1) + k) * cols;
            const double *x = r->X + (i * (r->T + 1) + k) * S, *p = r->P + (i * (r->T + 1) + k) * S;
            double xx = 0.0, pp = 0.0;
            for (size_t s = 0; s < S; s++) {
                xx += x[s] * x[s], pp += p[s] * p[s];
                row[4 + s] = x[s], row[4 + S + s] = p[s];
            }
            row[0] = (double)(i + 1), row[1] = (double)k, row[2] = sqrt(xx), row[3] = sqrt(pp);
            if (k < r->T) {
                double *h = Hm.data + 3 * (i * r->T + k);
                h[0] = (double)(i + 1), h[1] = (double)k, h[2] = r->H[i * r->T + k];
            }
        }
    static const char *const hnames[] = {"input", "step", "H"};
    if (st == HJ_OK)
        st = hj_matrix_write(path, &M, (const char *const *)names, err);
    if (st == HJ_OK)
        st = hj_matrix_write(hpath, &Hm, hnames, err);
    for (size_t j = 0; names && j < cols; j++)
        free(names[j]);
    free(names);
    hj_matrix_free(&M);
    hj_matrix_free(&Hm);
    return st;
}

/* gradients.csv. */
static hj_status write_gradients(const char *path, const hj_sequence_reading *r, hj_error *err)
{
    hj_matrix M = {0};
    hj_status st = hj_matrix_alloc(&M, r->count, 3, err);
    for (size_t k = 0; st == HJ_OK && k < r->count; k++) {
        M.data[3 * k] = (double)(k + 1);
        M.data[3 * k + 1] = r->grad[k];
        M.data[3 * k + 2] = r->grad_rev[k];
    }
    static const char *const names[] = {"parameter", "costate", "reverse_mode"};
    if (st == HJ_OK)
        st = hj_matrix_write(path, &M, names, err);
    hj_matrix_free(&M);
    return st;
}

/* The figures' numbers for the first np inputs: |p_k| for k = 0..T (hamiltonian = 0)
 * or H_k for k = 0..T-1 (hamiltonian = 1), one column per input after the step. */
static hj_status write_figure_data(const char *path, const hj_sequence_reading *r, size_t np, int hamiltonian,
                                   hj_error *err)
{
    const size_t cols = 1 + np, rows = hamiltonian ? r->T : r->T + 1;
    hj_matrix M = {0};
    hj_status st = hj_matrix_alloc(&M, rows, cols, err);
    for (size_t k = 0; st == HJ_OK && k < rows; k++) {
        double *row = M.data + k * cols;
        row[0] = (double)k;
        for (size_t i = 0; i < np; i++) {
            const double *p = r->P + (i * (r->T + 1) + k) * r->S;
            double pp = 0.0;
            for (size_t s = 0; s < r->S; s++)
                pp += p[s] * p[s];
            row[1 + i] = hamiltonian ? r->H[i * r->T + k] : sqrt(pp);
        }
    }
    const char *names[1 + HM_PLOT_INPUTS];
    char buf[HM_PLOT_INPUTS][24];
    names[0] = "step";
    for (size_t i = 0; i < np; i++) {
        snprintf(buf[i], sizeof buf[i], "%s_%zu", hamiltonian ? "H" : "p_norm", i + 1);
        names[1 + i] = buf[i];
    }
    if (st == HJ_OK)
        st = hj_matrix_write(path, &M, names, err);
    hj_matrix_free(&M);
    return st;
}

/* The table of the model's own layers (Markdown) to f. */
static void print_layers(FILE *f, const hj_model *m)
{
    fprintf(f, "| layer | kind | state equation | Hamiltonian | co-state | source of viscosity |\n");
    fprintf(f, "|---|---|---|---|---|---|\n");
    for (size_t l = 0; l < m->arch.n_layers; l++) {
        const hj_layer_reading *row = hj_layer_reading_of(m->arch.layers[l].kind);
        if (row != NULL)
            fprintf(f, "| %zu | %s | %s | %s | %s | %s |\n", l + 1, hj_layer_kind_name(m->arch.layers[l].kind),
                    row->state, row->hamiltonian, row->costate, row->viscosity);
    }
}

/* layers.md. */
static hj_status write_layers(const char *path, const hj_model *m, hj_error *err)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return hj_error_set(err, HJ_EIO, "%s: cannot write", path);
    print_layers(f, m);
    if (fclose(f) != 0)
        return hj_error_set(err, HJ_EIO, "%s: write failed", path);
    return HJ_OK;
}

int cmd_hamiltonian(int argc, char **argv)
{
    const char *x_path = NULL, *out_dir = NULL, *pos[1] = {NULL};
    size_t layer = 0, limit = 256, threads = 0, npos = 0;
    cli_io io = {0};
    const cli_opt opts[] = {
        {"x", CLI_INPUT, &x_path, "FILE", "inputs (as for 'hjdl predict'; an optional last column holds labels)", 1},
        {"out", CLI_OUTDIR, &out_dir, "DIR", "output directory (created if needed)", 1},
        {"layer", CLI_SIZE, &layer, "L", "the layer to read, 1-based (default: the first rnn, lstm or ssm layer)", 0},
        {"limit", CLI_SIZE, &limit, "N", "read the first N inputs (default 256)", 0},
        CLI_IO_OPTIONS(io),
        CLI_THREADS_OPTION(threads),
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    int rc = cli_parse(argc, argv, opts, nopts, pos, 1, &npos, "hamiltonian");
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "hamiltonian", "MODEL --x FILE --out DIR [--layer L] [--limit N]", DESCRIPTION, opts,
                       nopts);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_error("hamiltonian", "give the model file: hjdl hamiltonian MODEL --x FILE --out DIR");
    if (limit == 0 || limit > HM_MAX_INPUTS)
        return cli_error("hamiltonian", "--limit must be in 1..%d (got %zu)", HM_MAX_INPUTS, limit);
    if (out_dir[0] == '\0')
        return cli_error("hamiltonian", "--out must not be empty");
    hj_error err = {0};
    hj_model m = {0};
    hj_matrix M = {0};
    hj_sequence_reading r = {0};
    double *xraw = NULL, *labels = NULL, *x = NULL;
    size_t tcol = SIZE_MAX;
    int created = 0;
    char p_steps[1200] = "", p_ham[1200] = "", p_grad[1200] = "", p_layers[1200] = "", p_fig[2][1200] = {"", ""};
    if (hj_model_load(&m, pos[0], &err) != HJ_OK) {
        rc = cli_report("hamiltonian", &err);
        goto done;
    }
    if (m.arch.seq_len == 0) {
        rc = cli_error("hamiltonian", "%s is not a sequence model (its first layer is %s): the reading is of rnn, "
                                      "lstm and ssm layers",
                       pos[0], hj_layer_kind_name(m.arch.layers[0].kind));
        goto done;
    }
    if (layer == 0) {
        for (size_t l = 0; l < m.arch.n_layers && layer == 0; l++) {
            hj_layer_kind k = m.arch.layers[l].kind;
            if (k == HJ_LAYER_RNN || k == HJ_LAYER_LSTM || k == HJ_LAYER_SSM)
                layer = l + 1;
        }
        if (layer == 0) {
            rc = cli_error("hamiltonian", "%s has no rnn, lstm or ssm layer (an attn layer's HJ time is depth: "
                                          "see 'hjdl experiment architectures')",
                           pos[0]);
            goto done;
        }
    }
    if (layer > m.arch.n_layers) {
        rc = cli_error("hamiltonian", "--layer %zu: %s has %zu layers", layer, pos[0], m.arch.n_layers);
        goto done;
    }
    if ((rc = cli_model_table(&m, x_path, &io, pos[0], 1, &M, &xraw, &tcol, m.arch.n_classes ? &labels : NULL,
                              "hamiltonian")) != CLI_OK)
        goto done;
    const size_t n = M.rows < limit ? M.rows : limit, nout = m.arch.n_classes;
    if (n == 0) {
        rc = cli_error("hamiltonian", "%s: no inputs", x_path);
        goto done;
    }
    if ((x = malloc(n * m.arch.d_in * sizeof *x)) == NULL) {
        rc = cli_error("hamiltonian", "out of memory");
        goto done;
    }
    if (hj_preprocess_apply(&m.pre, xraw, n, x, &err) != HJ_OK) {
        hj_error_prefix(&err, "%s: ", x_path);
        rc = cli_report("hamiltonian", &err);
        goto done;
    }
    const char *label_source = "the labels given with the data";
    if (nout == 0) {
        if (tcol == SIZE_MAX) {
            rc = cli_error("hamiltonian", "%s: a regression model's loss needs the targets: add them as the last "
                                          "column",
                           x_path);
            goto done;
        }
        if ((labels = malloc(n * sizeof *labels)) == NULL) {
            rc = cli_error("hamiltonian", "out of memory");
            goto done;
        }
        for (size_t i = 0; i < n; i++)
            labels[i] = (M.data[i * M.cols + tcol] - m.y_shift) / m.y_scale;
    } else if (labels == NULL) {
        label_source = "the model's own predictions (the data have no label column)";
        if ((labels = malloc(n * sizeof *labels)) == NULL) {
            rc = cli_error("hamiltonian", "out of memory");
            goto done;
        }
        if (hj_model_classify(&m, x, n, labels, &err) != HJ_OK) {
            rc = cli_report("hamiltonian", &err);
            goto done;
        }
    }
    if (hj_sequence_reading_compute(&m, layer - 1, x, labels, n, &r, &err) != HJ_OK) {
        rc = cli_report("hamiltonian", &err);
        goto done;
    }
    /* computed: now the files */
    if ((rc = cli_make_out_dir("hamiltonian", out_dir, &created)) != CLI_OK)
        goto done;
    snprintf(p_steps, sizeof p_steps, "%s/steps.csv", out_dir);
    snprintf(p_grad, sizeof p_grad, "%s/gradients.csv", out_dir);
    snprintf(p_layers, sizeof p_layers, "%s/layers.md", out_dir);
    snprintf(p_ham, sizeof p_ham, "%s/hamiltonian.csv", out_dir);
    snprintf(p_fig[0], sizeof p_fig[0], "%s/figure_costate.csv", out_dir);
    snprintf(p_fig[1], sizeof p_fig[1], "%s/figure_hamiltonian.csv", out_dir);
    const size_t np = n < HM_PLOT_INPUTS ? n : HM_PLOT_INPUTS;
    if (write_steps(p_steps, p_ham, &r, &err) != HJ_OK || write_gradients(p_grad, &r, &err) != HJ_OK ||
        write_figure_data(p_fig[0], &r, np, 0, &err) != HJ_OK || write_figure_data(p_fig[1], &r, np, 1, &err) != HJ_OK ||
        write_layers(p_layers, &m, &err) != HJ_OK) {
        rc = cli_report("hamiltonian", &err);
        goto done;
    }
    {
        char titles[2 * HM_PLOT_INPUTS][32];
        hj_plot p = {0}, q = {0};
        p.name = "costate", p.title = "co-state |p_k| = |dL/dx_k| over the steps", p.xlabel = "step k";
        p.ylabel = "|p_k|", p.logy = 1, p.n_series = np;
        q.name = "hamiltonian", q.title = "discrete Hamiltonian H_k = p_{k+1} . F(x_k, u_k, theta)";
        q.xlabel = "step k", q.ylabel = "H_k", q.n_series = np;
        for (size_t i = 0; i < np; i++) {
            snprintf(titles[i], sizeof titles[i], "input %zu", i + 1);
            p.series[i] = (hj_plot_series){"figure_costate.csv", 1, (int)(2 + i), 0, titles[i], "linespoints", NULL};
            q.series[i] = (hj_plot_series){"figure_hamiltonian.csv", 1, (int)(2 + i), 0, titles[i], "linespoints", NULL};
        }
        hj_error pe = {0};
        if (hj_plot_render(out_dir, &p, &pe) != HJ_OK || hj_plot_render(out_dir, &q, &pe) != HJ_OK)
            fprintf(stderr, "hjdl hamiltonian: note: figures not rendered (%s); CSV files are written\n", pe.msg);
    }
    char arch[512];
    hj_arch_format(&m.arch, arch, sizeof arch);
    const hj_layer *L = &m.arch.layers[layer - 1];
    printf("model %s: %s, %zu steps of %zu features\n", pos[0], arch, m.arch.seq_len, m.arch.d_in / m.arch.seq_len);
    printf("layer %zu (%s:%zu): state dimension %zu, %zu parameters\n", layer, hj_layer_kind_name(L->kind), L->width,
           r.S, r.count);
    printf("inputs %zu; loss %.10g, against %s\n", n, r.loss, label_source);
    printf("co-state vs reverse mode: dL/dtheta %.3g, dL/du_k %.3g (max relative difference); forward outputs %.3g\n",
           r.grad_rel, r.gin_rel, r.out_diff);
    printf("stationarity residual |sum_k grad_theta H_k| = %.6g\n", r.stationarity);
    printf("\n");
    print_layers(stdout, &m);
    printf("\nfiles in %s\n", out_dir);
    if (!(r.grad_rel <= 1e-10) || !(r.gin_rel <= 1e-10)) {
        fprintf(stderr, "hjdl hamiltonian: the co-state gradients differ from reverse mode by more than 1e-10\n");
        rc = CLI_FAIL;
    }
done:
    if (rc == CLI_USAGE && created) {
        unlink(p_steps), unlink(p_ham), unlink(p_grad), unlink(p_layers), unlink(p_fig[0]), unlink(p_fig[1]);
        cli_remove_out_dir(out_dir, created);
    }
    hj_sequence_reading_free(&r);
    hj_matrix_free(&M);
    free(xraw), free(labels), free(x);
    hj_model_free(&m);
    return rc;
}
