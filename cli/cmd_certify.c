/* cmd_certify.c — `hjdl certify`: certified l2 radii of an lse-class model at given points. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
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

int cmd_certify(int argc, char **argv)
{
    const char *x_path = NULL, *out_path = NULL, *pos[1];
    size_t npos = 0;
    const cli_opt opts[] = {
        {"x", CLI_INPUT, &x_path, "FILE", "inputs (CSV or .npy), one row per point, the model's raw feature columns", 1},
        {"out", CLI_OUTPUT, &out_path, "FILE", "output file (.csv or .npy); default stdout", 0},
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
    if (hj_model_load(&m, pos[0], &err) != HJ_OK || hj_matrix_read(x_path, &X, &err) != HJ_OK) {
        rc = cli_report("certify", &err);
        goto done;
    }
    /* a model certify cannot handle is reported before any shape mismatch of --x */
    if ((m.arch.n_classes < 2 || m.arch.n_layers != 1) && hj_certify(&m, NULL, 0, NULL, &err) != HJ_OK) {
        rc = cli_report("certify", &err);
        goto done;
    }
    if (X.cols != m.pre.d_raw) {
        rc = cli_error("certify", "%s: %zu columns, but the model %s takes %zu input features", x_path, X.cols,
                       pos[0], m.pre.d_raw);
        goto done;
    }
    cert = malloc((X.rows ? X.rows : 1) * sizeof *cert);
    if (cert == NULL || hj_matrix_alloc(&O, X.rows, 4, &err) != HJ_OK) {
        rc = cli_error("certify", "out of memory");
        goto done;
    }
    if (hj_certify(&m, X.data, X.rows, cert, &err) != HJ_OK) {
        rc = cli_report("certify", &err);
        goto done;
    }
    for (size_t i = 0; i < X.rows; i++) {
        O.data[i * 4 + 0] = (double)cert[i].cls;
        O.data[i * 4 + 1] = (double)cert[i].runner_up;
        O.data[i * 4 + 2] = cert[i].margin;
        O.data[i * 4 + 3] = cert[i].radius;
    }
    static const char *const names[] = {"class", "runner_up", "margin", "radius"};
    hj_status st = out_path ? hj_matrix_write(out_path, &O, names, &err) : hj_csv_write_stream(stdout, &O, names, &err);
    if (st != HJ_OK)
        rc = cli_report("certify", &err);
done:
    free(cert);
    hj_matrix_free(&O);
    hj_matrix_free(&X);
    hj_model_free(&m);
    return rc;
}
