/* cmd_explain.c — `hjdl explain`: per-point attribution summary (entropy, effective atoms, regime, top-K Gibbs weights). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cli_data.h"
#include "hjdl/data.h"
#include "hjdl/dataset.h"
#include "hjdl/dist.h"
#include "hjdl/hopf.h"
#include "hjdl/influence.h"
#include "hjdl/model.h"
#include "hjdl/stream.h"

static const char *DESCRIPTION =
    "Explains each point of X by the Gibbs (attribution) weights of a Hopf-Cole\n"
    "solution, pi_j(x) proportional to exp(-(g_j + |x - y_j|^2/(4t))/eps), over its atoms:\n"
    "either the atoms in ATOMS (rows y_1..y_d, g; --t and --eps required), or the\n"
    "atoms of a saved MODEL's readout LSE layer (the point goes through the\n"
    "model's preprocessing and hidden layers first; for a classifier the weights\n"
    "are those of the predicted class's neurons, as in 'hjdl predict --attribution').\n\n"
    "Output: CSV, one row per point, columns\n"
    "    entropy,n_eff,regime,atom_1,pi_1,...,atom_K,pi_K\n"
    "entropy H = -sum_j pi_j log pi_j in [0, log N]; n_eff = exp(H), the effective\n"
    "number of atoms; regime, a number code (the CSV holds numbers only):\n"
    "    0 particle   h <  1/3\n"
    "    1 mixed      1/3 <= h <= 2/3\n"
    "    2 wave       h >  2/3\n"
    "with h = H/log N (N atoms; N = 1 is particle). h = 1/2 is where a kernel over\n"
    "N spread atoms covers sqrt(N) of them, which happens at the critical scaling\n"
    "eps ~ eps* = N^(-1/d): particle lies below eps*, wave above. atom_k is the\n"
    "0-based row of the k-th largest weight in ATOMS (for a model: the readout\n"
    "neuron index, classes numbered c*N + j), pi_k its weight; descending, equal\n"
    "weights by larger logit then smaller index. Output goes to stdout unless --out\n"
    "is given (.csv or .npy by extension; written atomically).\n\n"
    "Large N (ATOMS): --tile-rows R streams the atoms R rows at a time (memory\n"
    "O(R d + n K)). Under 'mpirun -np P hjdl explain --atoms ...' each rank reads its\n"
    "own slice of the atoms; partial states and top-K lists are merged exactly and\n"
    "rank 0 writes the output. A MODEL is explained by rank 0 alone.";

/* Column names entropy,n_eff,regime,atom_1,pi_1,...,atom_K,pi_K. */
static void column_name(size_t k, char *buf, size_t len, const void *ctx)
{
    (void)ctx;
    if (k < 3)
        snprintf(buf, len, "%s", k == 0 ? "entropy" : k == 1 ? "n_eff" : "regime");
    else
        snprintf(buf, len, (k - 3) % 2 == 0 ? "atom_%zu" : "pi_%zu", (k - 3) / 2 + 1);
}

static void fill_row(double *row, const hj_explain *s, const double *pt, const size_t *it, size_t K)
{
    row[0] = s->entropy;
    row[1] = s->n_eff;
    row[2] = (double)s->regime;
    for (size_t k = 0; k < K; k++) {
        row[3 + 2 * k] = (double)it[k];
        row[4 + 2 * k] = pt[k];
    }
}

/* Atoms mode, streamed (tile rows at a time; 0: the whole slice at once)
 * and/or sharded across ranks (stream.h; a single process is P = 1): out
 * (n, 3 + 2K) filled on rank 0 (other ranks: out left empty). Every failure
 * is agreed on by all ranks, so they stop together. */
static int explain_atoms(const char *atoms_path, const hj_matrix *X, const char *x_path, double t,
                         double eps, size_t K, int K_given, size_t tile, hj_matrix *out, size_t *Kout)
{
    hj_dist *dist = cli_dist();
    hj_error err = {0};
    hj_rows *rows = NULL;
    double *pt = NULL;
    size_t *index = NULL;
    hj_explain *sum = NULL;
    size_t d = 0, N = 0;
    const size_t n = X->rows;
    int rc;
    hj_status st = hj_stream_open(atoms_path, &rows, &err);
    if (st == HJ_OK) {
        d = hj_rows_cols(rows) - 1, N = hj_rows_count(rows);
        if (X->cols != d)
            st = hj_error_set(&err, HJ_ESHAPE, "%s: points have %zu columns but the atoms in %s are %zu-dimensional",
                              x_path, X->cols, atoms_path, d);
        if (!K_given)
            K = N < 3 ? N : 3;
        if (st == HJ_OK && K > N)
            st = hj_error_set(&err, HJ_EINVAL, "--top %zu exceeds the %zu atoms in %s", K, N, atoms_path);
    }
    if (st == HJ_OK) {
        pt = malloc((n * K + 1) * sizeof *pt);
        index = malloc((n * K + 1) * sizeof *index);
        sum = malloc((n ? n : 1) * sizeof *sum);
        if (!pt || !index || !sum || hj_matrix_alloc(out, n, 3 + 2 * K, &err) != HJ_OK)
            st = hj_error_set(&err, HJ_ENOMEM, "out of memory");
    }
    {   /* every rank read the same atoms and points */
        const cli_input in[2] = {
            {atoms_path, rows ? hj_rows_count(rows) : 0, rows ? hj_rows_cols(rows) : 0,
             rows ? hj_rows_names(rows) : NULL},
            {x_path, X->rows, X->cols, (const char *const *)X->names}};
        hj_error aerr = {0};
        hj_status ast = cli_dist_same_inputs(in, 2, st == HJ_OK, &aerr);
        if (st == HJ_OK && ast != HJ_OK)
            st = ast, err = aerr;
    }
    if ((rc = cli_dist_fail("explain", st, &err)) != CLI_OK)
        goto done;
    hj_shard shard;
    hj_dist_shard(dist, &shard);
    if (hj_stream_explain(rows, X->data, n, t, eps, K, tile, &shard, sum, pt, index, &err) != HJ_OK) {
        rc = cli_report("explain", &err);
        goto done;
    }
    if (hj_dist_rank(dist) != 0)
        goto done;
    for (size_t i = 0; i < n; i++)
        fill_row(out->data + i * out->cols, sum + i, pt + i * K, index + i * K, K);
    *Kout = K;
done:
    hj_rows_close(rows);
    free(pt), free(index), free(sum);
    return rc;
}

/* Model mode: the readout's Gibbs weights via hj_model_attribution with all
 * N weights, in chunks of points so no (n, N) matrix is held. */
static int explain_model(const char *model_path, const char *x_path, const cli_io *io, size_t K, int K_given,
                         hj_matrix *out, size_t *Kout)
{
    hj_error err = {0};
    hj_model m = {0};
    hj_matrix Xm = {0};
    const hj_matrix *X = &Xm;
    hj_workspace *ws = NULL;
    double *xt = NULL, *pall = NULL, *pt = NULL, *xsel = NULL;
    size_t *iall = NULL, *it = NULL;
    int rc = CLI_OK;
    if (hj_model_load(&m, model_path, &err) != HJ_OK) {
        rc = cli_report("explain", &err);
        goto done;
    }
    size_t tcol;
    if ((rc = cli_model_table(&m, x_path, io, model_path, 1, &Xm, &xsel, &tcol, NULL, "explain")) != CLI_OK)
        goto done;
    size_t Ntot;
    hj_model_readout_shape(&m, &Ntot, NULL);
    const size_t W = m.arch.n_classes ? Ntot / m.arch.n_classes : Ntot, n = X->rows;
    if (!K_given)
        K = W < 3 ? W : 3;
    if (K > W) {
        rc = cli_error("explain", "--top %zu exceeds the %zu neurons of the readout%s", K, W,
                       m.arch.n_classes ? " (per class)" : "");
        goto done;
    }
    size_t chunk = (size_t)1 << 16;
    chunk = chunk / W > 0 ? chunk / W : 1;
    chunk = chunk < n ? chunk : n;
    xt = malloc(chunk * m.arch.d_in * sizeof *xt);
    pall = malloc(chunk * W * sizeof *pall);
    iall = malloc(chunk * W * sizeof *iall);
    pt = malloc((K + 1) * sizeof *pt);
    it = malloc((K + 1) * sizeof *it);
    if (!xt || !pall || !iall || !pt || !it || hj_matrix_alloc(out, n, 3 + 2 * K, &err) != HJ_OK) {
        rc = cli_error("explain", "out of memory");
        goto done;
    }
    if (hj_workspace_alloc(&ws, &m, chunk, &err) != HJ_OK) {
        rc = cli_report("explain", &err);
        goto done;
    }
    for (size_t start = 0; start < n; start += chunk) {
        const size_t len = n - start < chunk ? n - start : chunk;
        if (hj_preprocess_apply(&m.pre, xsel + start * m.pre.d_raw, len, xt, &err) != HJ_OK ||
            hj_model_attribution(&m, ws, xt, len, W, pall, iall, &err) != HJ_OK) {
            hj_error_prefix(&err, "%s: ", x_path);
            rc = cli_report("explain", &err);
            goto done;
        }
        for (size_t i = 0; i < len; i++) {
            hj_explain s;
            if (hj_explain_pi(pall + i * W, W, K, &s, pt, it, &err) != HJ_OK) {
                rc = cli_report("explain", &err);
                goto done;
            }
            for (size_t k = 0; k < K; k++)   /* positions in the sorted list -> neuron indices */
                it[k] = iall[i * W + it[k]];
            fill_row(out->data + (start + i) * out->cols, &s, pt, it, K);
        }
    }
    *Kout = K;
done:
    hj_workspace_free(ws);
    hj_model_free(&m);
    hj_matrix_free(&Xm);
    free(xt), free(pall), free(iall), free(pt), free(it), free(xsel);
    return rc;
}

int cmd_explain(int argc, char **argv)
{
    const char *atoms_path = NULL, *x_path = NULL, *out_path = NULL, *pos[1];
    double t = NAN, eps = NAN;
    size_t K = (size_t)-1, npos = 0;   /* (size_t)-1: --top not given */
    size_t tile = (size_t)-1;          /* (size_t)-1: --tile-rows not given */
    size_t threads = 0;                /* 0: all cores */
    cli_io io = {0};                   /* model mode: --sequence-id */
    const cli_opt opts[] = {
        {"x", CLI_INPUT, &x_path, "FILE", "points to explain, one row each (raw features for a model)", 1},
        {"atoms", CLI_INPUT, &atoms_path, "FILE", "initial data: rows y_1..y_d, g (instead of MODEL)", 0},
        {"t", CLI_DOUBLE, &t, "T", "time, > 0 (with --atoms)", 0},
        {"eps", CLI_DOUBLE, &eps, "E", "viscosity, >= 0 (with --atoms; 0: Hopf-Lax, weights uniform on ties)", 0},
        {"top", CLI_SIZE, &K, "K", "number of largest weights listed (default 3, or N if fewer atoms)", 0},
        {"out", CLI_OUTPUT, &out_path, "FILE", "output file (.csv or .npy); default stdout", 0},
        {"tile-rows", CLI_SIZE, &tile, "R", "with --atoms: stream the atoms R rows at a time (default: all at once)", 0},
        CLI_THREADS_OPTION(threads),
        CLI_SEQUENCE_ID_OPTION(io),
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    int rc = cli_parse(argc, argv, opts, nopts, pos, 1, &npos, "explain");
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "explain", "MODEL --x FILE [--top K] [--out FILE]\n"
                                          "       hjdl explain --atoms FILE --t T --eps E --x FILE [--top K] [--out FILE]",
                       DESCRIPTION, opts, nopts);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    const int K_given = K != (size_t)-1;
    if (npos == 1 && atoms_path)
        return cli_error("explain", "give either a MODEL or --atoms, not both");
    if (npos == 0 && !atoms_path)
        return cli_error("explain", "give a MODEL file or --atoms FILE (see 'hjdl explain --help')");
    if (npos == 1 && (!isnan(t) || !isnan(eps)))
        return cli_error("explain", "--t and --eps go with --atoms; a model carries its own t and eps");
    if (atoms_path) {
        if (isnan(t))
            return cli_error("explain", "missing required option --t (with --atoms)");
        if (isnan(eps))
            return cli_error("explain", "missing required option --eps (with --atoms)");
        if (!(t > 0.0))
            return cli_error("explain", "--t must be > 0 (got %g)", t);
        if (eps < 0.0)
            return cli_error("explain", "--eps must be >= 0 (got %g)", eps);
    } else if (tile != (size_t)-1) {
        return cli_error("explain", "--tile-rows goes with --atoms");
    }
    if (tile == 0)
        return cli_error("explain", "--tile-rows must be > 0");
    hj_dist *dist = cli_dist();
    hj_error err = {0};
    hj_matrix X = {0}, out = {0};
    size_t Kused = 0;
    if (atoms_path && io.sequence_id) {
        rc = cli_error("explain", "--sequence-id goes with a sequence MODEL, not --atoms");
        goto done;
    }
    if (atoms_path) {
        hj_status xs = hj_matrix_read(x_path, &X, &err);
        if ((rc = cli_dist_fail("explain", xs, &err)) != CLI_OK)
            goto done;
        rc = explain_atoms(atoms_path, &X, x_path, t, eps, K, K_given, tile == (size_t)-1 ? 0 : tile,
                           &out, &Kused);
    } else if (hj_dist_rank(dist) != 0) { /* a MODEL under mpirun: rank 0 alone */
        goto done;
    } else {
        rc = explain_model(pos[0], x_path, &io, K, K_given, &out, &Kused);
    }
    if (rc != CLI_OK || hj_dist_rank(dist) != 0)
        goto done;
    rc = cli_write_table("explain", out_path, &out, column_name, NULL);
done:
    hj_matrix_free(&X);
    hj_matrix_free(&out);
    return rc;
}
