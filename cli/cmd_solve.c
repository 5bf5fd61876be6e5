/* cmd_solve.c — `hjdl solve`: the grid-free HJ solver face (Hopf–Cole / Hopf–Lax at points). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hjdl/data.h"
#include "hjdl/dist.h"
#include "hjdl/hopf.h"
#include "hjdl/stream.h"

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
    "or CSV by extension; written atomically).\n\n"
    "Large N: --tile-rows R streams the atoms R rows at a time (memory O(R d), not\n"
    "O(N d)). Under 'mpirun -np P hjdl solve ...' each rank reads its own contiguous\n"
    "slice of the N atoms (in tiles with --tile-rows), the ranks merge their partial\n"
    "log-sum-exp states exactly, and rank 0 writes the output.";

/* Output column names u,f,entropy,grad_u_1..d[,u_norm]; ctx: the dimension d. */
static void column_name(size_t k, char *buf, size_t len, const void *ctx)
{
    const size_t d = *(const size_t *)ctx;
    if (k < 3)
        snprintf(buf, len, "%s", k == 0 ? "u" : k == 1 ? "f" : "entropy");
    else if (k < 3 + d)
        snprintf(buf, len, "grad_u_%zu", k - 2);
    else
        snprintf(buf, len, "u_norm");
}

/* One output row from the solution at point xi. */
static void fill_row(double *row, const hj_metric *metric, const double *xi, size_t d, double t,
                     double u, double H, const double *grad, const double *un)
{
    row[0] = u;
    row[1] = hj_hopf_quadratic(metric, xi, d, t) - u;
    row[2] = H;
    memcpy(row + 3, grad, d * sizeof *row);
    if (un)
        row[3 + d] = *un;
}

/* The solve, streamed and/or sharded (stream.h): every rank reads the points
 * and the metric and opens the atom file; the ranks agree that they read the
 * same inputs; hj_stream_solve folds each rank's slice of the atoms (tile rows
 * at a time; 0: the whole slice at once) and finishes on rank 0, which
 * writes. A single process is the case P = 1. Failures on any rank stop all
 * ranks with one message. */
static int solve_atoms(const char *atoms_path, const char *x_path, const char *out_path,
                       const char *metric_path, double t, double eps, int normalised, size_t tile)
{
    hj_dist *dist = cli_dist();
    hj_error err = {0};
    hj_matrix X = {0}, M = {0}, out = {0};
    hj_rows *rows = NULL;
    hj_metric *metric = NULL;
    double *u = NULL, *H = NULL, *grad = NULL, *un = NULL;
    size_t d = 0, n = 0;
    int rc;
    /* 1. inputs: points, the atom file's shape, the metric (every rank) */
    hj_status st = hj_stream_open(atoms_path, &rows, &err);
    if (st == HJ_OK)
        st = hj_matrix_read(x_path, &X, &err);
    if (st == HJ_OK) {
        d = hj_rows_cols(rows) - 1, n = X.rows;
        if (X.cols != d)
            st = hj_error_set(&err, HJ_ESHAPE,
                              "%s: points have %zu columns but the atoms in %s are %zu-dimensional "
                              "(%zu columns: y_1%s%.0zu, g)", x_path, X.cols, atoms_path, d, d + 1,
                              d > 1 ? "..y_" : "", d > 1 ? d : 0);
        else if ((st = hj_stream_check_coords(X.data, n, d, d, 0, x_path, &err)) != HJ_OK)
            (void)0; /* named in the message */
    }
    if (st == HJ_OK && metric_path) {
        st = hj_matrix_read(metric_path, &M, &err);
        if (st == HJ_OK && (M.rows != d || M.cols != d))
            st = hj_error_set(&err, HJ_ESHAPE, "%s: metric must be %zu x %zu, found %zu x %zu",
                              metric_path, d, d, M.rows, M.cols);
        if (st == HJ_OK && (st = hj_metric_alloc(&metric, M.data, d, &err)) != HJ_OK)
            hj_error_prefix(&err, "%s: ", metric_path);
    }
    if (st == HJ_OK) {
        u = calloc(n ? n : 1, sizeof *u), H = calloc(n ? n : 1, sizeof *H);
        grad = calloc(n * d + 1, sizeof *grad);
        un = normalised ? calloc(n ? n : 1, sizeof *un) : NULL;
        if (!u || !H || !grad || (normalised && !un) ||
            hj_matrix_alloc(&out, n, 3 + d + (size_t)normalised, &err) != HJ_OK)
            st = hj_error_set(&err, HJ_ENOMEM, "out of memory");
    }
    {   /* every rank read the same atoms, points and metric */
        const cli_input in[3] = {
            {atoms_path, rows ? hj_rows_count(rows) : 0, rows ? hj_rows_cols(rows) : 0,
             rows ? hj_rows_names(rows) : NULL},
            {x_path, X.rows, X.cols, (const char *const *)X.names},
            {metric_path, M.rows, M.cols, (const char *const *)M.names}};
        hj_error aerr = {0};
        hj_status ast = cli_dist_same_inputs(in, metric_path ? 3 : 2, st == HJ_OK, &aerr);
        if (st == HJ_OK && ast != HJ_OK)
            st = ast, err = aerr;
    }
    if ((rc = cli_dist_fail("solve", st, &err)) != CLI_OK)
        goto done;
    /* 2. each rank's slice of the atoms, merged and finished on rank 0 */
    hj_shard shard;
    hj_dist_shard(dist, &shard);
    hj_hc_out ho = {0};
    ho.u = u, ho.entropy = H, ho.grad = grad, ho.u_norm = un;
    if (hj_stream_solve(rows, metric, X.data, n, t, eps, tile, &shard, &ho, &err) != HJ_OK) {
        rc = cli_report("solve", &err);
        goto done;
    }
    if (hj_dist_rank(dist) != 0)
        goto done;
    for (size_t i = 0; i < n; i++)
        fill_row(out.data + i * out.cols, metric, X.data + i * d, d, t, u[i], H[i], grad + i * d,
                 normalised ? un + i : NULL);
    rc = cli_write_table("solve", out_path, &out, column_name, &d);
done:
    hj_rows_close(rows);
    hj_matrix_free(&X), hj_matrix_free(&M), hj_matrix_free(&out);
    hj_metric_free(metric);
    free(u), free(H), free(grad), free(un);
    return rc;
}

int cmd_solve(int argc, char **argv)
{
    const char *atoms_path = NULL, *x_path = NULL, *out_path = NULL, *metric_path = NULL;
    double t = NAN, eps = NAN;
    int normalised = 0;
    size_t tile = (size_t)-1; /* (size_t)-1: --tile-rows not given */
    size_t threads = 0;       /* 0: all cores */
    const cli_opt opts[] = {
        {"atoms", CLI_INPUT, &atoms_path, "FILE", "initial data: rows y_1..y_d, g", 1},
        {"x", CLI_INPUT, &x_path, "FILE", "evaluation points: rows x_1..x_d", 1},
        {"t", CLI_DOUBLE, &t, "T", "time, > 0", 1},
        {"eps", CLI_DOUBLE, &eps, "E", "viscosity, >= 0 (0: Hopf-Lax)", 1},
        {"out", CLI_OUTPUT, &out_path, "FILE", "output file (.csv or .npy); default stdout", 0},
        {"metric", CLI_INPUT, &metric_path, "FILE", "d x d SPD matrix A of H(p) = p^T A p (default I)", 0},
        {"normalised", CLI_FLAG, &normalised, NULL, "also write u_norm, the exact (normalised) solution", 0},
        {"tile-rows", CLI_SIZE, &tile, "R", "stream the atoms R rows at a time (bounded memory; default: all at once)", 0},
        CLI_THREADS_OPTION(threads),
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
    if (tile == 0)
        return cli_error("solve", "--tile-rows must be > 0");
    return solve_atoms(atoms_path, x_path, out_path, metric_path, t, eps, normalised,
                       tile == (size_t)-1 ? 0 : tile);
}
