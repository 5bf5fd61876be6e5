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
        acts += (double)L->width * (double)(L->out > 1 ? L->out : 1);
    }
    hj_error err = {0};
    const double bytes = 8.0 * (8.0 * (double)a->n_params + 2.0 * (double)n * acts);
    if (hj_memory_check(bytes, "--arch: training", &err) != HJ_OK)
        return cli_error("fit", "%s", err.msg);
    return CLI_OK;
}

int cmd_fit(int argc, char **argv)
{
    cli_data_options dopt;
    cli_data_options_default(&dopt);
    const char *arch_s = NULL, *out_path = NULL, *opt_s = "adam", *train_pred = NULL, *trace_path = NULL;
    double eps = NAN, t = 1.0, lr = 1e-3, momentum = 0.9;
    size_t iters = 0, epochs = 0, batch = 0, lbfgs_iters = 100;
    uint64_t seed = 1;
    int quiet = 0, output_scale = 0;
    const cli_opt opts[] = {
        {"data", CLI_INPUT, &dopt.data, "FILE", "training data (CSV or .npy)", 0},
        {"dataset", CLI_STRING, &dopt.dataset, "NAME", "a built-in data set: fashion-mnist", 0},
        {"target", CLI_STRING, &dopt.target, "COL", "target column of --data: name or 1-based index (default: last)", 0},
        {"test", CLI_INPUT, &dopt.test, "FILE", "test data with the same columns as --data", 0},
        {"holdout", CLI_DOUBLE, &dopt.holdout, "FRAC", "hold out this fraction of --data as the test set (default 0)", 0},
        {"task", CLI_STRING, &dopt.task, "T", "regression or classification (default: regression for --data)", 0},
        {"limit", CLI_SIZE, &dopt.limit, "N", "use only the first N training points (default all)", 0},
        {"test-limit", CLI_SIZE, &dopt.test_limit, "N", "use only the first N test points (default all)", 0},
        {"standardize", CLI_FLAG, &dopt.standardize, NULL, "standardise each input feature (stored in the model)", 0},
        {"pca", CLI_SIZE, &dopt.pca, "K", "project inputs on their top K principal axes, standardised", 0},
        {"arch", CLI_STRING, &arch_s, "A", "architecture, e.g. lse:200 or dense:12,lse-class:32", 1},
        {"eps", CLI_DOUBLE, &eps, "E", "temperature = viscosity of every layer, >= 0", 1},
        {"t", CLI_DOUBLE, &t, "T", "HJ time of the initial-data map (default 1)", 0},
        {"output-scale", CLI_FLAG, &output_scale, NULL, "regression: learn y = a f + c instead of y = f", 0},
        {"optimizer", CLI_STRING, &opt_s, "O", "adam, sgd, lbfgs or adam+lbfgs (default adam)", 0},
        {"iters", CLI_SIZE, &iters, "N", "optimiser steps (default 1000 unless --epochs)", 0},
        {"epochs", CLI_SIZE, &epochs, "N", "passes over the data with mini-batches (needs --batch)", 0},
        {"lr", CLI_DOUBLE, &lr, "LR", "learning rate of Adam/SGD (default 1e-3)", 0},
        {"momentum", CLI_DOUBLE, &momentum, "M", "SGD momentum (default 0.9)", 0},
        {"batch", CLI_SIZE, &batch, "B", "mini-batch size (default: full batch)", 0},
        {"lbfgs-iters", CLI_SIZE, &lbfgs_iters, "N", "L-BFGS iterations after Adam for adam+lbfgs (default 100)", 0},
        {"seed", CLI_U64, &seed, "S", "seed of initialisation, shuffling and --holdout (default 1)", 0},
        {"out", CLI_OUTPUT, &out_path, "MODEL", "where to write the model (.hjm)", 1},
        {"train-predictions", CLI_OUTPUT, &train_pred, "FILE", "also write the in-memory predictions on the training inputs", 0},
        {"quiet", CLI_FLAG, &quiet, NULL, "no progress on stderr", 0},
        {"trace", CLI_OUTPUT, &trace_path, "FILE", "write the loss of every optimiser step (CSV step,loss)", 0},
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    int rc = cli_parse(argc, argv, opts, nopts, NULL, 0, NULL, "fit");
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "fit", "(--data FILE | --dataset NAME) --arch A --eps E --out MODEL [options]",
                       DESCRIPTION, opts, nopts);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
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
    if (strcmp(out_path, "-") == 0)
        return cli_error("fit", "--out -: a model is written to a file, not to standard output");

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
    double *pred = NULL;
    hj_arch arch;
    if (hj_arch_parse(arch_s, D.d, D.n_classes, output_scale, &arch, &err) != HJ_OK) {
        rc = cli_error("fit", "--arch %s: %s", arch_s, err.msg);
        goto done;
    }
    if ((rc = check_arch_size(&arch, D.n_train)) != CLI_OK)
        goto done;
    if (hj_model_init(&model, &arch, eps, t, seed, &err) != HJ_OK) {
        rc = cli_report("fit", &err);
        goto done;
    }
    hj_preprocess_free(&model.pre);
    model.pre = D.pre; /* the model now owns the transform */
    memset(&D.pre, 0, sizeof D.pre);

    cli_progress prog;
    cli_progress_init(&prog, "fit", quiet || rank != 0);
    to.callback = cli_fit_progress;
    to.callback_ctx = &prog;
    to.report_every = 1;
    const double *xs = D.x_train, *ys = D.y_train;
    size_t ns = D.n_train;
    if (nranks > 1) { /* data-parallel: this rank's contiguous shard */
        size_t b, e;
        hj_dist_range(D.n_train, rank, nranks, &b, &e);
        to.allreduce = hj_dist_allreduce_sum_cb;
        to.allreduce_ctx = dist;
        to.shard_begin = b;
        to.n_total = D.n_train;
        xs = D.x_train + b * D.d, ys = D.y_train + b, ns = e - b;
    }
    double t0 = cli_now();
    hj_status tst = hj_model_train(&model, xs, ys, ns, &to, &res, &err);
    if ((rc = cli_dist_fail("fit", tst, &err)) != CLI_OK)
        goto done;
    double secs = cli_now() - t0;
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
    cli_print_metrics("train", &model, pred, D.y_train, D.n_train);
    if (D.n_test > 0) {
        double *tp = malloc(D.n_test * nout * sizeof *tp);
        if (tp == NULL || hj_model_predict(&model, D.x_test_raw, D.n_test, tp, &err) != HJ_OK) {
            free(tp);
            rc = tp ? cli_report("fit", &err) : cli_error("fit", "out of memory");
            goto done;
        }
        cli_print_metrics("test", &model, tp, D.y_test, D.n_test);
        free(tp);
    }
    printf("train loss %.10g\nsteps %zu\nseconds %.3f\n", res.final_loss, res.steps, secs);
    /* every output staged, renamed into place together at the end: all or none */
    train_pred = cli_stage_path(&stage, train_pred);
    trace_path = cli_stage_path(&stage, trace_path);
    const char *model_path = cli_stage_path(&stage, out_path);
    if (train_pred && (rc = cli_write_predictions(train_pred, &model, pred, D.n_train, NULL, NULL, 0, "fit")) != CLI_OK)
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
            ts = strcmp(trace_path, "-") == 0 ? hj_csv_write_stream(stdout, &tr, tnames, &err)
                                              : hj_matrix_write(trace_path, &tr, tnames, &err);
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
    free(res.loss_trace);
    hj_model_free(&model);
    cli_data_free(&D);
    return rc;
}
