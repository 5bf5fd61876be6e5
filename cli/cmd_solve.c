/* cmd_solve.c — `hjdl solve`: the grid-free HJ solver face (Hopf–Cole / Hopf–Lax at points). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hjdl/data.h"
#include "hjdl/hopf.h"

static const char *DESCRIPTION =
    "Evaluates the solution of the viscous Hamilton-Jacobi equation\n"
    "    u_t + |grad u|^2 = eps Lap u,   u(y, 0) given by atoms (y_j, g_j),\n"
    "at the points X and time T, by the Hopf-Cole formula\n"
    "    u(x,t) = -eps log sum_j exp(-(g_j + |x - y_j|^2/(4t))/eps)\n"
    "(eps = 0: the Hopf-Lax formula u = min_j g_j + |x - y_j|^2/(4t)). No grid.\n\n"
    "ATOMS: one row per atom, columns y_1..y_d then g (CSV with a header line,\n"
    "or .npy). X: one row per point, d columns. Output: CSV with header\n"
    "u,f,entropy,grad_u_1..grad_u_d, one row per point, where f = |x|^2/(4t) - u\n"
    "is the value of the equivalent log-sum-exp layer and entropy is that of the\n"
    "Gibbs weights over the atoms. u is the plain Hopf-Cole value, which solves\n"
    "the PDE up to the constant -eps d/(2t) in the residual; --normalised adds a\n"
    "column u_norm = u + (eps d/2) log(4 pi eps t) (+ (eps/2) log det A), the exact\n"
    "solution. --metric A (a d x d SPD matrix) solves u_t + grad u^T A grad u =\n"
    "eps tr(A hess u) instead. Output goes to stdout unless --out is given (.npy\n"
    "or CSV by extension; written atomically).";

int cmd_solve(int argc, char **argv)
{
    const char *atoms_path = NULL, *x_path = NULL, *out_path = NULL, *metric_path = NULL;
    double t = NAN, eps = NAN;
    int normalised = 0;
    const cli_opt opts[] = {
        {"atoms", CLI_STRING, &atoms_path, "FILE", "initial data: rows y_1..y_d, g", 1},
        {"x", CLI_STRING, &x_path, "FILE", "evaluation points: rows x_1..x_d", 1},
        {"t", CLI_DOUBLE, &t, "T", "time, > 0", 1},
        {"eps", CLI_DOUBLE, &eps, "E", "viscosity, >= 0 (0: Hopf-Lax)", 1},
        {"out", CLI_STRING, &out_path, "FILE", "output file (.csv or .npy); default stdout", 0},
        {"metric", CLI_STRING, &metric_path, "FILE", "d x d SPD matrix A of H(p) = p^T A p (default I)", 0},
        {"normalised", CLI_FLAG, &normalised, NULL, "also write u_norm, the exact (normalised) solution", 0},
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    int rc = cli_parse(argc, argv, opts, nopts, NULL, 0, NULL, "solve");
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "solve", "--atoms FILE --x FILE --t T --eps E [--out FILE] [--metric FILE] [--normalised]",
                       DESCRIPTION, opts, nopts);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (!(t > 0.0))
        return cli_error("solve", "--t must be > 0 (got %g)", t);
    if (eps < 0.0)
        return cli_error("solve", "--eps must be >= 0 (got %g)", eps);

    hj_error err = {0};
    hj_matrix A = {0}, X = {0}, M = {0}, out = {0};
    hj_metric *metric = NULL;
    char **names = NULL;
    rc = CLI_OK;
    if (hj_matrix_read(atoms_path, &A, &err) != HJ_OK || hj_matrix_read(x_path, &X, &err) != HJ_OK) {
        rc = cli_report("solve", &err);
        goto done;
    }
    if (A.cols < 2) {
        rc = cli_error("solve", "%s: atoms need at least 2 columns (y_1..y_d, g), found %zu",
                       atoms_path, A.cols);
        goto done;
    }
    const size_t d = A.cols - 1, N = A.rows, n = X.rows;
    if (X.cols != d) {
        rc = cli_error("solve", "%s: points have %zu columns but the atoms in %s are %zu-dimensional "
                       "(%zu columns: y_1%s%.0zu, g)", x_path, X.cols, atoms_path, d, A.cols,
                       d > 1 ? "..y_" : "", d > 1 ? d : 0);
        goto done;
    }
    if (metric_path) {
        if (hj_matrix_read(metric_path, &M, &err) != HJ_OK) {
            rc = cli_report("solve", &err);
            goto done;
        }
        if (M.rows != d || M.cols != d) {
            rc = cli_error("solve", "%s: metric must be %zu x %zu, found %zu x %zu", metric_path,
                           d, d, M.rows, M.cols);
            goto done;
        }
        if (hj_metric_alloc(&metric, M.data, d, &err) != HJ_OK) {
            hj_error_prefix(&err, "%s: ", metric_path);
            rc = cli_report("solve", &err);
            goto done;
        }
    }
    /* split the atom table into y (N, d) and g (N) */
    double *y = malloc(N * d * sizeof *y), *g = malloc(N * sizeof *g);
    const size_t cols = 3 + d + (size_t)normalised;
    if (y == NULL || g == NULL || hj_matrix_alloc(&out, n, cols, &err) != HJ_OK) {
        free(y);
        free(g);
        rc = cli_error("solve", "out of memory");
        goto done;
    }
    for (size_t j = 0; j < N; j++) {
        memcpy(y + j * d, A.data + j * A.cols, d * sizeof *y);
        g[j] = A.data[j * A.cols + d];
    }
    double *u = calloc(n, sizeof *u), *H = calloc(n, sizeof *H), *grad = calloc(n * d, sizeof *grad);
    double *un = normalised ? calloc(n, sizeof *un) : NULL;
    hj_atoms atoms = {N, d, y, g};
    hj_hc_out ho = {0};
    ho.u = u, ho.entropy = H, ho.grad = grad, ho.u_norm = un;
    hj_status st = (u && H && grad && (un || !normalised))
                       ? hj_hopf_cole_eval(&atoms, metric, X.data, n, t, eps, &ho, &err)
                       : hj_error_set(&err, HJ_ENOMEM, "out of memory");
    if (st == HJ_OK) {
        for (size_t i = 0; i < n; i++) {
            double *row = out.data + i * cols;
            row[0] = u[i];
            row[1] = hj_hopf_quadratic(metric, X.data + i * d, d, t) - u[i];
            row[2] = H[i];
            memcpy(row + 3, grad + i * d, d * sizeof *row);
            if (normalised)
                row[3 + d] = un[i];
        }
    }
    free(y), free(g), free(u), free(H), free(grad), free(un);
    if (st != HJ_OK) {
        rc = cli_report("solve", &err);
        goto done;
    }
    names = calloc(cols, sizeof *names);
    if (names == NULL) {
        rc = cli_error("solve", "out of memory");
        goto done;
    }
    for (size_t k = 0; k < cols; k++) {
        names[k] = malloc(32);
        if (names[k] == NULL) {
            rc = cli_error("solve", "out of memory");
            goto done;
        }
        if (k < 3)
            strcpy(names[k], k == 0 ? "u" : k == 1 ? "f" : "entropy");
        else if (k < 3 + d)
            snprintf(names[k], 32, "grad_u_%zu", k - 2);
        else
            strcpy(names[k], "u_norm");
    }
    st = out_path ? hj_matrix_write(out_path, &out, (const char *const *)names, &err)
                  : hj_csv_write_stream(stdout, &out, (const char *const *)names, &err);
    if (st != HJ_OK)
        rc = cli_report("solve", &err);
done:
    if (names)
        for (size_t k = 0; k < out.cols; k++)
            free(names[k]);
    free(names);
    hj_matrix_free(&A), hj_matrix_free(&X), hj_matrix_free(&M), hj_matrix_free(&out);
    hj_metric_free(metric);
    return rc;
}
