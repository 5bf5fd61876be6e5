/* cmd_certify.c — `hjdl certify`: certified l2 radii of an lse-class model at given points. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cli_data.h"
#include "hjdl/data.h"
#include "hjdl/model.h"
#include "hjdl/robust.h"

static const char DESCRIPTION[] =
    "For each input point: the predicted class y, the margin F_y - max_{c != y} F_c of\n"
    "the class scores, and a certified radius r: no perturbation delta with\n"
    "||delta||_2 < r (in the raw feature space of --x, through the model's stored\n"
    "preprocessing) can change the predicted class. For each rival class c the\n"
    "margin m_c = F_y - F_c can fall along a ray at most at rate\n"
    "min(G_c + kappa_c s, L_yc): G_c = ||grad m_c(x)||, kappa_c the curvature bound of\n"
    "F_c (min of R_MEB^2/eps and diameter^2/(4 eps) of class c's weights; F_y is convex\n"
    "and can only help), L_yc = max |w_j - w_k| over j in y, k in c; r is where the\n"
    "accumulated fall first reaches the margin, minimised over c. Defined for\n"
    "single-readout lse-class:N models (any eps >= 0); models with hidden layers are\n"
    "refused, since a sound radius would need a global curvature bound of the stack.\n"
    "Output CSV, one row per point: class,runner_up,margin,radius (runner_up: the\n"
    "class whose bound gave the radius).";

/* The class's label when the model's labels are numbers, else its index. */
static double class_value(const hj_model *m, size_t c)
{
    char *end;
    double v = m->class_labels ? strtod(m->class_labels[c], &end) : (double)c;
    return m->class_labels && (*end != '\0' || end == m->class_labels[c]) ? (double)c : v;
}

int cmd_certify(int argc, char **argv)
{
    const char *x_path = NULL, *out_path = NULL, *pos[1];
    size_t npos = 0, threads = 0;
    cli_io io = {0};
    const cli_opt opts[] = {
        {"x", CLI_INPUT, &x_path, "FILE", "inputs, one row per point, the model's raw feature columns; '-': stdin", 1},
        {"out", CLI_OUTPUT, &out_path, "FILE", "output file (.csv, .tsv, .npy, .npz; default '-': CSV on stdout)", 0},
        CLI_IO_OPTIONS(io),
        CLI_THREADS_OPTION(threads),
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    int rc = cli_parse(argc, argv, opts, nopts, pos, 1, &npos, "certify");
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "certify", "MODEL --x FILE [--out FILE]", DESCRIPTION, opts, nopts);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_error("certify", "give the model file (see 'hjdl certify --help')");
    hj_model m = {0};
    hj_matrix X = {0}, O = {0};
    hj_error err = {0};
    hj_certificate *cert = NULL;
    double *xin = NULL;
    size_t tcol;
    if ((rc = cli_check_output(out_path, "out", "certify")) != CLI_OK)
        return rc;
    if (hj_model_load(&m, pos[0], &err) != HJ_OK) {
        rc = cli_report("certify", &err);
        goto done;
    }
    /* a model certify cannot handle is reported before any shape mismatch of --x */
    if ((m.arch.n_classes < 2 || m.arch.n_layers != 1) && hj_certify(&m, NULL, 0, NULL, &err) != HJ_OK) {
        rc = cli_report("certify", &err);
        goto done;
    }
    if ((rc = cli_model_table(&m, x_path, &io, pos[0], 1, &X, &xin, &tcol, NULL, "certify")) != CLI_OK)
        goto done;
    cert = malloc((X.rows ? X.rows : 1) * sizeof *cert);
    if (cert == NULL || hj_matrix_alloc(&O, X.rows, 4, &err) != HJ_OK) {
        rc = cli_error("certify", "out of memory");
        goto done;
    }
    if (hj_certify(&m, xin, X.rows, cert, &err) != HJ_OK) {
        rc = cli_report("certify", &err);
        goto done;
    }
    for (size_t i = 0; i < X.rows; i++) {
        O.data[i * 4 + 0] = class_value(&m, cert[i].cls);
        O.data[i * 4 + 1] = class_value(&m, cert[i].runner_up);
        O.data[i * 4 + 2] = cert[i].margin;
        O.data[i * 4 + 3] = cert[i].radius;
    }
    static const char *const names[] = {"class", "runner_up", "margin", "radius"};
    hj_status st = out_path ? hj_matrix_write(out_path, &O, names, &err) : hj_csv_write_stream(stdout, &O, names, &err);
    if (st != HJ_OK)
        rc = cli_report("certify", &err);
done:
    free(cert);
    free(xin);
    hj_matrix_free(&O);
    hj_matrix_free(&X);
    hj_model_free(&m);
    return rc;
}
