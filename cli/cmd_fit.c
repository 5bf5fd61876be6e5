/* cmd_fit.c — `hjdl fit`: train a model (choose the initial data of an HJ equation) and save it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_data.h"
#include "hjdl/data.h"
#include "hjdl/dataset.h"
#include "hjdl/dist.h"
#include "hjdl/limits.h"
#include "hjdl/model.h"
#include "hjdl/optim.h"

static const char *DESCRIPTION =
    "Trains a model and writes it to MODEL (.hjm). In HJ terms, training chooses the\n"
    "initial data of a viscous HJ equation whose Hopf-Cole solution fits the data;\n"
    "'hjdl initial-data MODEL' prints them. Data: --data FILE (CSV with a header, or\n"
    ".npy; the target is the last column unless --target names another) or\n"
    "--dataset fashion-mnist (Debian's dataset-fashion-mnist; its official test split\n"
    "is the test set). Architectures end in a readout: lse:N (regression) or\n"
    "lse-class:N (classification, one LSE of N neurons per class), optionally after\n"
    "dense:H, resnet:H and gibbs:M layers, e.g. --arch dense:12,resnet:12,gibbs:16,lse:16.\n"
    "Sequence models (inputs of T steps of d features) start with sequence layers\n"
    "rnn:H[:tanh|:softplus], lstm:H, ssm:H, attn:H[:heads], then a pool (last or mean),\n"
    "e.g. --arch lstm:128,last,lse-class:16. Sequence data: --data X.npy of shape\n"
    "(n, T, d) with --y Y (.npy (n,) or (n, 1), or a one-column CSV/TSV), an .npz\n"
    "with arrays X (n, T, d) and y (n), a CSV/TSV of one row per step grouped by\n"
    "--sequence-id COL (targets from --y, one per sequence), or --dataset\n"
    "fashion-mnist --sequence rows|columns (28 steps of 28 pixels). --standardize on\n"
    "sequences standardises each of the d features over all steps; --pca is refused.\n"
    "--iters counts optimiser steps (full batch unless --batch is given); --epochs\n"
    "counts passes over the data with mini-batches. Final train (and test) metrics go\n"
    "to stdout, e.g. 'test accuracy 0.8712'; progress goes to stderr. Runs are\n"
    "bit-for-bit reproducible for a given --seed and thread count (OMP_NUM_THREADS,\n"
    "OPENBLAS_NUM_THREADS). --trace FILE writes the loss of every step (CSV step,loss).\n\n"
    "Data-parallel: 'mpirun -np P hjdl fit ...' splits the training points into P\n"
    "contiguous shards; every step each rank evaluates the mini-batch members it\n"
    "holds and the loss and gradient sums are all-reduced, so the trajectory is the\n"
    "single-process one up to rounding. Every rank reads the data files; rank 0\n"
    "alone prints and writes the model.";

/* Neurons per layer against HJ_MAX_WIDTH, and the memory training needs
 * (parameters with their gradient and optimiser state, the activations of
 * every layer at every point) against the machine's, before allocating. */
static int check_arch_size(const hj_arch *a, size_t n)
{
    double acts = 0.0;
    for (size_t k = 0; k < a->n_layers; k++) {
        const hj_layer *L = &a->layers[k];
        if (L->width > HJ_MAX_WIDTH)
            return cli_error("fit", "--arch: layer %zu has %zu neurons, more than the limit of %d",
                             k + 1, L->width, HJ_MAX_WIDTH);
        /* per point: the outputs and the cache (pre-activations, Gibbs weights; a
         * sequence layer keeps a few values per unit and step: 8 x its output bounds them) */
        acts += (double)(hj_layer_is_sequence(L->kind) ? 8 * L->out
                                                       : L->width * (L->out > 1 ? L->out : 1) + L->out);
    }
    hj_error err = {0};
    /* training evaluates at most 8192 points at once (model.h: hj_model_train's chunks) */
    const double pts = (double)(n < 8192 ? n : 8192);
    const double bytes = 8.0 * (8.0 * (double)a->n_params + 2.0 * pts * acts);
    if (hj_memory_check(bytes, "--arch: training", &err) != HJ_OK)
        return cli_error("fit", "%s", err.msg);
    return CLI_OK;
}

/* The eps grid of --eps auto (log-spaced; inputs and targets on unit scale). */
static const double EPS_GRID[] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0};
#define EPS_GRID_N (sizeof EPS_GRID / sizeof EPS_GRID[0])

/* How one model is trained (shared by the final fit and each --cv fold). */
typedef struct fit_plan {
    const hj_arch *arch;
    double eps;            /* NAN: --eps auto */
    double t;
    uint64_t seed;
    double validation;     /* fraction held out for validation (0: none) */
    hj_fit_options fo;     /* weight decay, patience (validation set here) */
    int verbose;           /* print the validation loss */
    FILE *say;             /* where the summary lines go: stderr when stdout carries data */
} fit_plan;

/* Split (x, y, n) by a seeded shuffle into a training part (first) and the
 * last `frac` as validation: xs (n, d), ys (n) in shuffled order. */
static int shuffle_split(const double *x, const double *y, size_t n, size_t d, double frac, uint64_t seed,
                         double **xs, double **ys, size_t *nv)
{
    *xs = malloc(n * d * sizeof **xs);
    *ys = malloc(n * sizeof **ys);
    size_t *perm = malloc(n * sizeof *perm);
    if (!*xs || !*ys || !perm) {
        free(perm);
        return cli_error("fit", "out of memory");
    }
    cli_shuffled_order(n, seed ^ 0x7a11da7eULL, perm);
    for (size_t i = 0; i < n; i++) {
        memcpy(*xs + i * d, x + perm[i] * d, d * sizeof **xs);
        (*ys)[i] = y[perm[i]];
    }
    free(perm);
    *nv = (size_t)floor(frac * (double)n);
    if (frac > 0 && (*nv == 0 || *nv >= n))
        return cli_error("fit", "--validation %g of %zu points leaves an empty split", frac, n);
    return CLI_OK;
}

/* Train m (initialised: arch, t, preprocessing, target scaling) on x (n, d_in,
 * preprocessed) and y (n, scaled) as the plan says. */
static int train_planned(hj_model *m, const fit_plan *P, const double *x, const double *y, size_t n,
                         const hj_train_options *to, hj_train_result *res)
{
    hj_error err = {0};
    const size_t d = m->arch.d_in;
    double *xs = NULL, *ys = NULL;
    size_t nv = 0;
    int rc = CLI_OK;
    hj_fit_options fo = P->fo;
    if (P->validation > 0) {
        if ((rc = shuffle_split(x, y, n, d, P->validation, P->seed, &xs, &ys, &nv)) != CLI_OK)
            goto done;
        fo.x_val = xs + (n - nv) * d, fo.y_val = ys + (n - nv), fo.n_val = nv;
    }
    hj_status st;
    if (isnan(P->eps)) {
        st = hj_model_fit_eps_auto(m, P->seed, EPS_GRID, EPS_GRID_N, xs, ys, n - nv, to, &fo, res, &err);
    } else {
        double vl;
        size_t best;
        st = hj_model_fit(m, xs ? xs : x, ys ? ys : y, n - nv, to, &fo, res, &vl, &best, &err);
        if (st == HJ_OK && nv > 0 && P->verbose)
            fprintf(P->say, "validation loss %.6g (best at step %zu)\n", vl, best);
    }
    if (st != HJ_OK)
        rc = cli_report("fit", &err);
done:
    free(xs), free(ys);
    return rc;
}

/* Accuracy (classifiers) or RMSE of m on raw inputs x (n, d_raw) against y
 * (class indices or user-scale targets). */
static int score(const hj_model *m, const double *x, const double *y, size_t n, double *out)
{
    hj_error err = {0};
    const size_t C = m->arch.n_classes, nout = hj_model_n_out(m);
    double *p = malloc((n * nout > 0 ? n * nout : 1) * sizeof *p);
    if (p == NULL)
        return cli_error("fit", "out of memory");
    if (hj_model_predict(m, x, n, p, &err) != HJ_OK) {
        free(p);
        return cli_report("fit", &err);
    }
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (C == 0) {
            s += (p[i] - y[i]) * (p[i] - y[i]);
        } else {
            size_t a = 0;
            for (size_t c = 1; c < C; c++)
                if (p[i * C + c] > p[i * C + a])
                    a = c;
            s += a == (size_t)y[i];
        }
    }
    free(p);
    *out = C ? s / (double)n : sqrt(s / (double)n);
    return CLI_OK;
}

/* Target standardisation of y (n) into ys: mean and sd (1 if constant). */
static void target_scaling(const double *y, size_t n, double *ys, double *shift, double *scale)
{
    double mu = 0.0, v = 0.0;
    for (size_t i = 0; i < n; i++)
        mu += y[i];
    mu /= (double)n;
    for (size_t i = 0; i < n; i++)
        v += (y[i] - mu) * (y[i] - mu);
    double sd = n > 1 ? sqrt(v / (double)(n - 1)) : 0.0;
    if (!(sd > 0.0) || !isfinite(sd))
        sd = 1.0;
    for (size_t i = 0; i < n; i++)
        ys[i] = (y[i] - mu) / sd;
    *shift = mu, *scale = sd;
}

/* --cv K: K contiguous folds of a seeded shuffle; each trained as planned on
 * the others and scored on itself; prints the mean and sd, writes nothing. */
static int cross_validate(const cli_data *D, const fit_plan *P, const hj_train_options *to, size_t K,
                          int scale_target)
{
    const size_t n = D->n_train, dr = D->d_raw, d = D->d, C = D->n_classes;
    if (K < 2 || K > n)
        return cli_error("fit", "--cv %zu: need 2 <= K <= %zu (the training points)", K, n);
    /* one shuffle of (raw, preprocessed, y) rows: permute the row indices */
    double *idx = malloc(n * sizeof *idx), *xs = NULL, *ys = NULL;
    size_t nv;
    if (idx == NULL)
        return cli_error("fit", "out of memory");
    for (size_t i = 0; i < n; i++)
        idx[i] = (double)i;
    int rc = shuffle_split(idx, idx, n, 1, 0.0, P->seed, &xs, &ys, &nv);
    free(xs);
    free(idx);
    if (rc != CLI_OK) {
        free(ys);
        return rc;
    }
    double *xtr = malloc(n * d * sizeof *xtr), *ytr = malloc(n * sizeof *ytr);
    double *xte = malloc(n * dr * sizeof *xte), *yte = malloc(n * sizeof *yte);
    double sum = 0.0, sum2 = 0.0;
    hj_error err = {0};
    if (!xtr || !ytr || !xte || !yte) {
        rc = cli_error("fit", "out of memory");
        goto done;
    }
    for (size_t k = 0; k < K && rc == CLI_OK; k++) {
        size_t b = k * n / K, e = (k + 1) * n / K, ntr = 0, nte = 0;
        for (size_t i = 0; i < n; i++) {
            size_t r = (size_t)ys[i];
            if (i >= b && i < e) {
                memcpy(xte + nte * dr, D->x_train_raw + r * dr, dr * sizeof *xte);
                yte[nte++] = D->y_train[r];
            } else {
                memcpy(xtr + ntr * d, D->x_train + r * d, d * sizeof *xtr);
                ytr[ntr++] = D->y_train[r];
            }
        }
        hj_model m;
        if (hj_model_init(&m, P->arch, isnan(P->eps) ? 0.1 : P->eps, P->t, P->seed, &err) != HJ_OK) {
            rc = cli_report("fit", &err);
            break;
        }
        hj_preprocess_free(&m.pre);
        if (hj_preprocess_copy(&m.pre, &D->pre, &err) != HJ_OK) {
            hj_model_free(&m);
            rc = cli_report("fit", &err);
            break;
        }
        if (scale_target && C == 0)
            target_scaling(ytr, ntr, ytr, &m.y_shift, &m.y_scale);
        hj_train_result res = {0};
        double sc = NAN;
        rc = train_planned(&m, P, xtr, ytr, ntr, to, &res);
        free(res.loss_trace);
        if (rc == CLI_OK)
            rc = score(&m, xte, yte, nte, &sc);
        if (rc == CLI_OK) {
            printf("cv fold %zu %s %.6g", k + 1, C ? "accuracy" : "rmse", sc);
            if (isnan(P->eps))
                printf(" (eps %g)", m.eps);
            printf("\n");
            sum += sc, sum2 += sc * sc;
        }
        hj_model_free(&m);
    }
    if (rc == CLI_OK) {
        double mean = sum / (double)K, var = (sum2 - (double)K * mean * mean) / (double)(K - 1);
        printf("cv %s %.6g (sd %.3g, %zu folds)\n", C ? "accuracy" : "rmse", mean, var > 0 ? sqrt(var) : 0.0, K);
    }
done:
    free(ys), free(xtr), free(ytr), free(xte), free(yte);
    return rc;
}

/* Option checks before any work: --eps, --out/--cv, validation options, the
 * task an lse-class readout implies, output paths. */
static int check_fit_options(const char *eps_s, double *eps, const char *out_path, size_t cv, double validation,
                             size_t patience, double weight_decay, const char *arch_s, cli_data_options *dopt,
                             const char *train_pred, const char *trace_path)
{
    if (strcmp(eps_s, "auto") == 0) {
        *eps = NAN;
    } else {
        char *end;
        *eps = strtod(eps_s, &end);
        if (*eps_s == '\0' || *end != '\0' || !isfinite(*eps))
            return cli_error("fit", "--eps: '%s' is not a number or 'auto'", eps_s);
    }
    if (out_path == NULL && cv == 0)
        return cli_error("fit", "--out MODEL is required (or --cv K to score without writing a model)");
    if (out_path != NULL && cv > 0)
        return cli_error("fit", "--cv writes no model; drop --out (or --cv to train and write one)");
    if (cv > 0 && (train_pred || trace_path))
        return cli_error("fit", "--cv writes no files; drop --train-predictions and --trace");
    if (!(validation >= 0.0 && validation < 1.0))
        return cli_error("fit", "--validation must be in [0, 1) (got %g)", validation);
    if (patience > 0 && validation == 0.0 && !isnan(*eps))
        return cli_error("fit", "--patience needs a validation split: add --validation FRAC");
    if (!(weight_decay >= 0.0))
        return cli_error("fit", "--weight-decay must be >= 0 (got %g)", weight_decay);
    int lse_class = arch_s && strstr(arch_s, "lse-class") != NULL;
    if (lse_class && dopt->task == NULL)
        dopt->task = "classification";
    else if (lse_class && strcmp(dopt->task, "regression") == 0)
        return cli_error("fit", "--arch %s has an lse-class readout, a classifier: use --task classification "
                                "(or an lse:N readout for regression)", arch_s);
    else if (arch_s && !lse_class && dopt->task && strcmp(dopt->task, "classification") == 0)
        return cli_error("fit", "--task classification needs an lse-class:N readout in --arch (got %s)", arch_s);
    int rc = cli_check_output(out_path, "out", "fit");
    if (rc == CLI_OK)
        rc = cli_check_output(train_pred, "train-predictions", "fit");
    if (rc == CLI_OK)
        rc = cli_check_output(trace_path, "trace", "fit");
    return rc;
}

int cmd_fit(int argc, char **argv)
{
    cli_data_options dopt;
    cli_data_options_default(&dopt);
    const char *arch_s = NULL, *out_path = NULL, *opt_s = "adam", *train_pred = NULL, *trace_path = NULL;
    double eps = NAN, t = 1.0, lr = NAN, momentum = 0.9;
    size_t iters = 0, epochs = 0, batch = 0, lbfgs_iters = 100;
    uint64_t seed = 1;
    int quiet = 0, output_scale = 0, no_target_scaling = 0, no_output_scale = 0;
    const char *eps_s = NULL;
    double weight_decay = 0.0, validation = 0.0;
    size_t patience = 0, cv = 0, threads = 0;
    const cli_opt opts[] = {
        {"data", CLI_INPUT, &dopt.data, "FILE", "training data (CSV, TSV, .npy, .npz X and y, libsvm; '-': stdin)", 0},
        {"dataset", CLI_STRING, &dopt.dataset, "NAME", "a built-in data set: fashion-mnist", 0},
        {"sequence", CLI_STRING, &dopt.sequence, "HOW", "--dataset as sequences: rows (T = 28 rows of 28 pixels) or columns", 0},
        {"y", CLI_INPUT, &dopt.y, "FILE", "targets or class labels of (n, T, d) --data sequences, one per sequence (.npy, CSV/TSV)", 0},
        {"test-y", CLI_INPUT, &dopt.test_y, "FILE", "targets or class labels of --test sequences", 0},
        CLI_SEQUENCE_ID_OPTION(dopt.io),
        {"target", CLI_STRING, &dopt.target, "COL", "target column of --data: name or 1-based index (default: last)", 0},
        {"test", CLI_INPUT, &dopt.test, "FILE", "test data with the same columns as --data", 0},
        {"holdout", CLI_DOUBLE, &dopt.holdout, "FRAC", "hold out this fraction of --data as the test set (default 0)", 0},
        {"task", CLI_STRING, &dopt.task, "T", "regression or classification (default: regression for --data)", 0},
        {"limit", CLI_SIZE, &dopt.limit, "N", "use only the first N training points (default all)", 0},
        {"test-limit", CLI_SIZE, &dopt.test_limit, "N", "use only the first N test points (default all)", 0},
        {"standardize", CLI_FLAG, &dopt.standardize, NULL, "standardise each input feature (stored in the model)", 0},
        {"pca", CLI_SIZE, &dopt.pca, "K", "project inputs on their top K principal axes, standardised", 0},
        {"arch", CLI_STRING, &arch_s, "A", "architecture, e.g. lse:200 or dense:12,lse-class:32", 1},
        {"eps", CLI_STRING, &eps_s, "E", "temperature = viscosity of every layer, >= 0, or 'auto': chosen on the validation split", 1},
        {"t", CLI_DOUBLE, &t, "T", "HJ time of the initial-data map (default 1)", 0},
        {"output-scale", CLI_FLAG, &output_scale, NULL, "regression: learn y = a f + c instead of y = f (default with target scaling)", 0},
        {"no-output-scale", CLI_FLAG, &no_output_scale, NULL, "regression: y = f, no learned a, c", 0},
        {"no-target-scaling", CLI_FLAG, &no_target_scaling, NULL, "regression: train on the raw target (default: standardised, stored in the model)", 0},
        {"weight-decay", CLI_DOUBLE, &weight_decay, "L", "L2 penalty (L/2)|W|^2 on the weight matrices (default 0)", 0},
        {"validation", CLI_DOUBLE, &validation, "FRAC", "hold out this fraction of the training data to keep the best model (default 0; 0.2 with --eps auto)", 0},
        {"patience", CLI_SIZE, &patience, "K", "stop after K validation checks (every 10 steps) without improvement (needs --validation)", 0},
        {"cv", CLI_SIZE, &cv, "K", "K-fold cross-validation: print the score of each fold and their mean; no model is written", 0},
        {"optimizer", CLI_STRING, &opt_s, "O", "adam, sgd, lbfgs or adam+lbfgs (default adam)", 0},
        {"iters", CLI_SIZE, &iters, "N", "optimiser steps (default 1000 unless --epochs)", 0},
        {"epochs", CLI_SIZE, &epochs, "N", "passes over the data with mini-batches (needs --batch)", 0},
        {"lr", CLI_DOUBLE, &lr, "LR", "learning rate of Adam/SGD (default 1e-3; 1e-2 with --eps auto, whose validation split keeps the best step)", 0},
        {"momentum", CLI_DOUBLE, &momentum, "M", "SGD momentum (default 0.9)", 0},
        {"batch", CLI_SIZE, &batch, "B", "mini-batch size (default: full batch)", 0},
        {"lbfgs-iters", CLI_SIZE, &lbfgs_iters, "N", "L-BFGS iterations after Adam for adam+lbfgs (default 100)", 0},
        {"seed", CLI_U64, &seed, "S", "seed of initialisation, shuffling and --holdout (default 1)", 0},
        {"out", CLI_MODEL_OUT, &out_path, "MODEL", "where to write the model (.hjm; '-': stdout; required unless --cv)", 0},
        {"train-predictions", CLI_OUTPUT, &train_pred, "FILE", "also write the in-memory predictions on the training inputs", 0},
        CLI_QUIET_OPTION(quiet),
        CLI_THREADS_OPTION(threads),
        CLI_IO_OPTIONS(dopt.io),
        {"trace", CLI_OUTPUT, &trace_path, "FILE", "write the loss of every optimiser step (CSV step,loss)", 0},
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    int rc = cli_parse(argc, argv, opts, nopts, NULL, 0, NULL, "fit");
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "fit", "(--data FILE | --dataset NAME) --arch A --eps E|auto (--out MODEL | --cv K) [options]",
                       DESCRIPTION, opts, nopts);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if ((rc = check_fit_options(eps_s, &eps, out_path, cv, validation, patience, weight_decay, arch_s, &dopt,
                                train_pred, trace_path)) != CLI_OK)
        return rc;
    if (isnan(eps) && validation == 0.0)
        validation = 0.2;
    if (isnan(lr))
        lr = isnan(eps) ? 1e-2 : 1e-3;
    if (output_scale && no_output_scale)
        return cli_error("fit", "give --output-scale or --no-output-scale, not both");
    if (!no_target_scaling && !no_output_scale)
        output_scale = 1; /* regression default: y = a f + c on the standardised target */
    if (eps < 0.0)
        return cli_error("fit", "--eps must be >= 0 (got %g)", eps);
    if (!(t > 0.0))
        return cli_error("fit", "--t must be > 0 (got %g)", t);
    if (eps > HJ_MAX_SCALE || t > HJ_MAX_SCALE)
        return cli_error("fit", "--%s must be in %s, %g] (got %g): the model's outputs would overflow",
                         eps > HJ_MAX_SCALE ? "eps" : "t", eps > HJ_MAX_SCALE ? "[0" : "(0", HJ_MAX_SCALE,
                         eps > HJ_MAX_SCALE ? eps : t);
    if (iters > HJ_MAX_ITERS || lbfgs_iters > HJ_MAX_ITERS)
        return cli_error("fit", "--%s %zu is more than the limit of %d steps", iters > HJ_MAX_ITERS ? "iters" : "lbfgs-iters",
                         iters > HJ_MAX_ITERS ? iters : lbfgs_iters, HJ_MAX_ITERS);
    if (epochs > HJ_MAX_ITERS)
        return cli_error("fit", "--epochs %zu is more than the limit of %d", epochs, HJ_MAX_ITERS);
    if (!(lr > 0.0))
        return cli_error("fit", "--lr must be > 0 (got %g)", lr);
    if (epochs > 0 && batch == 0)
        return cli_error("fit", "--epochs needs --batch (mini-batch size)");
    if (epochs > 0 && iters > 0)
        return cli_error("fit", "give --iters or --epochs, not both");
    if (iters == 0 && epochs == 0)
        iters = 1000;

    hj_error err = {0};
    hj_train_options to;
    hj_train_options_default(&to);
    if (hj_optimizer_parse(opt_s, &to.optimizer, &err) != HJ_OK)
        return cli_error("fit", "--optimizer: %s", err.msg);
    to.lr = lr, to.momentum = momentum, to.iters = iters, to.epochs = epochs, to.batch = batch;
    to.lbfgs_iters = lbfgs_iters, to.seed = seed;

    /* Under mpirun every rank loads the same data (rank 0 first, so a bad
     * file is reported once), then trains on its shard of the points. */
    hj_dist *dist = cli_dist();
    const int rank = hj_dist_rank(dist), nranks = hj_dist_size(dist);
    cli_data D;
    memset(&D, 0, sizeof D);
    if (rank == 0)
        rc = cli_data_load(&dopt, seed, &D, "fit");
    if (nranks > 1) {
        int ok0 = rc == CLI_OK ? 0 : rc;
        if (hj_dist_barrier(dist, &err) != HJ_OK || hj_dist_bcast(dist, &ok0, sizeof ok0, 0, &err) != HJ_OK)
            ok0 = CLI_FAIL;
        if (ok0 != CLI_OK) {
            cli_data_free(&D);
            return ok0;
        }
        if (rank != 0)
            rc = cli_data_load(&dopt, seed, &D, "fit");
        /* every rank read the same points: sizes and whole-file checksums */
        const cli_input in[2] = {{dopt.data, D.n_train + D.n_test, D.d_raw + 1, NULL},
                                 {dopt.test, D.n_test, D.d_raw + 1, NULL}};
        hj_status ast = cli_dist_same_inputs(in, dopt.test ? 2 : 1, rc == CLI_OK, &err);
        if (rc != CLI_OK)
            hj_error_set(&err, HJ_EINVAL, "could not load the data that rank 0 loaded");
        rc = cli_dist_fail("fit", rc != CLI_OK ? HJ_EINVAL : ast, &err);
        hj_error_clear(&err);
    }
    if (rc != CLI_OK) {
        cli_data_free(&D);
        return rc;
    }
    hj_model model = {0};
    hj_train_result res = {0};
    cli_stage stage = {0};
    double *pred = NULL, *yscaled = NULL;
    hj_arch arch;
    if ((D.steps ? hj_arch_parse_sequence(arch_s, D.steps, D.step_d, D.n_classes, output_scale && D.n_classes == 0,
                                          &arch, &err)
                 : hj_arch_parse(arch_s, D.d, D.n_classes, output_scale && D.n_classes == 0, &arch, &err)) != HJ_OK) {
        const char *opt = dopt.data ? "data" : "dataset", *src = dopt.data ? dopt.data : dopt.dataset;
        if (D.steps)
            rc = cli_error("fit", "--arch %s: %s (--%s %s: %zu sequences of shape (T, d) = (%zu, %zu))", arch_s,
                           err.msg, opt, src, D.n_train, D.steps, D.step_d);
        else
            rc = cli_error("fit", "--arch %s: %s (--%s %s: %zu vectors of %zu features)", arch_s, err.msg, opt, src,
                           D.n_train, D.d);
        goto done;
    }
    if ((rc = check_arch_size(&arch, D.n_train)) != CLI_OK)
        goto done;
    /* progress and summaries never share standard output with data */
    FILE *say = (out_path && strcmp(out_path, "-") == 0) || (trace_path && strcmp(trace_path, "-") == 0) ||
                        (train_pred && strcmp(train_pred, "-") == 0)
                    ? stderr
                    : stdout;
    fit_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.say = stdout;
    plan.arch = &arch, plan.eps = eps, plan.t = t, plan.seed = seed, plan.validation = validation;
    plan.fo.weight_decay = weight_decay, plan.fo.patience = patience;
    if (nranks > 1 && (validation > 0 || cv > 0)) {
        rc = cli_error("fit", "--validation, --eps auto and --cv run on one process; drop them or mpirun");
        goto done;
    }
    if (cv > 0) {
        rc = cross_validate(&D, &plan, &to, cv, !no_target_scaling);
        goto done;
    }
    if (hj_model_init(&model, &arch, isnan(eps) ? 0.1 : eps, t, seed, &err) != HJ_OK) {
        rc = cli_report("fit", &err);
        goto done;
    }
    hj_preprocess_free(&model.pre);
    model.pre = D.pre; /* the model now owns the transform */
    memset(&D.pre, 0, sizeof D.pre);
    if (hj_model_set_names(&model, (const char *const *)D.names, D.target_name, (const char *const *)D.labels,
                           &err) != HJ_OK) {
        rc = cli_report("fit", &err);
        goto done;
    }
    if (D.n_classes == 0 && !no_target_scaling) {
        if ((yscaled = malloc(D.n_train * sizeof *yscaled)) == NULL) {
            rc = cli_error("fit", "out of memory");
            goto done;
        }
        target_scaling(D.y_train, D.n_train, yscaled, &model.y_shift, &model.y_scale);
    }

    cli_progress prog;
    cli_progress_init(&prog, "fit", quiet || rank != 0);
    to.callback = cli_fit_progress;
    to.callback_ctx = &prog;
    to.report_every = 1;
    const double *xs = D.x_train, *ys = yscaled ? yscaled : D.y_train;
    size_t ns = D.n_train;
    if (nranks > 1) { /* data-parallel: this rank's contiguous shard */
        size_t b, e;
        hj_dist_range(D.n_train, rank, nranks, &b, &e);
        to.allreduce = hj_dist_allreduce_sum_cb;
        to.allreduce_ctx = dist;
        to.shard_begin = b;
        to.n_total = D.n_train;
        xs = D.x_train + b * D.d, ys += b, ns = e - b;
    }
    double t0 = cli_now();
    if (validation > 0 || weight_decay > 0) {
        plan.verbose = 1;
        plan.say = say;
        if ((rc = train_planned(&model, &plan, xs, ys, ns, &to, &res)) != CLI_OK)
            goto done;
    } else {
        hj_status tst = hj_model_train(&model, xs, ys, ns, &to, &res, &err);
        if ((rc = cli_dist_fail("fit", tst, &err)) != CLI_OK)
            goto done;
    }
    double secs = cli_now() - t0;
    if (model.n_eps_curve > 0) {
        for (size_t k = 0; k < model.n_eps_curve; k++)
            fprintf(say, "eps_curve %g validation loss %.6g\n", model.eps_grid[k], model.eps_val_loss[k]);
        fprintf(say, "eps chosen %g (lowest validation loss)\n", model.eps);
    }
    if (rank != 0) /* rank 0 alone evaluates, prints and writes */
        goto done;
    const size_t nout = hj_model_n_out(&model);
    pred = malloc(D.n_train * nout * sizeof *pred);
    if (pred == NULL) {
        rc = cli_error("fit", "out of memory");
        goto done;
    }
    /* predictions through the same path `hjdl predict` uses (raw inputs) */
    if (hj_model_predict(&model, D.x_train_raw, D.n_train, pred, &err) != HJ_OK) {
        rc = cli_report("fit", &err);
        goto done;
    }
    cli_print_metrics(say, "train", &model, pred, D.y_train, D.n_train);
    if (D.n_test > 0) {
        double *tp = malloc(D.n_test * nout * sizeof *tp);
        if (tp == NULL || hj_model_predict(&model, D.x_test_raw, D.n_test, tp, &err) != HJ_OK) {
            free(tp);
            rc = tp ? cli_report("fit", &err) : cli_error("fit", "out of memory");
            goto done;
        }
        cli_print_metrics(say, "test", &model, tp, D.y_test, D.n_test);
        free(tp);
    }
    fprintf(say, "train loss %.10g\nsteps %zu\nseconds %.3f\n", res.final_loss, res.steps, secs);
    /* every output staged, renamed into place together at the end: all or none */
    train_pred = cli_stage_path(&stage, train_pred);
    trace_path = cli_stage_path(&stage, trace_path);
    const char *model_path = cli_stage_path(&stage, out_path);
    if (train_pred && (rc = cli_write_labelled_predictions(train_pred, &model, pred, D.n_train, 1, NULL, NULL, 0, "fit")) != CLI_OK)
        goto done;
    if (trace_path) {
        hj_matrix tr = {0};
        const char *const tnames[] = {"step", "loss"};
        hj_status ts = hj_matrix_alloc(&tr, res.steps, 2, &err);
        for (size_t k = 0; ts == HJ_OK && k < res.steps; k++) {
            tr.data[2 * k] = (double)(k + 1);
            tr.data[2 * k + 1] = res.loss_trace ? res.loss_trace[k] : NAN;
        }
        if (ts == HJ_OK)
            ts = hj_matrix_write(trace_path, &tr, tnames, &err); /* "-": standard output */
        hj_matrix_free(&tr);
        if (ts != HJ_OK) {
            rc = cli_report("fit", &err);
            goto done;
        }
    }
    if (hj_model_save(&model, model_path, &err) != HJ_OK) {
        char msg[sizeof err.msg]; /* name the user's path, not the staged one */
        const size_t sl = strlen(model_path);
        snprintf(msg, sizeof msg, "%s", strncmp(err.msg, model_path, sl) == 0 ? err.msg + sl : err.msg);
        hj_error_set(&err, err.code, "%s%s", strncmp(err.msg, model_path, sl) == 0 ? out_path : "", msg);
        rc = cli_report("fit", &err);
        goto done;
    }
    rc = cli_stage_commit(&stage, "fit");
done:
    cli_stage_abort(&stage);
    free(pred);
    free(yscaled);
    free(res.loss_trace);
    hj_model_free(&model);
    cli_data_free(&D);
    return rc;
}
