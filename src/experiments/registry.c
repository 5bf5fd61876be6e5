/* registry.c — the list of experiments and the driver that runs one into OUT/NAME. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "experiments/exp-common.h"
#include "experiments/experiments-impl.h"
#include "hjdl/data.h"
#include "hjdl/experiment.h"
#include "hjdl/limits.h"

static const hj_experiment EXPERIMENTS[] = {
    {"identity", "C1-C6", "LSE = Hopf-Cole, PDE residual, the four-vertex diagram, semigroup, ReLU, attention: tables and figures", hj__exp_identity},
    {"attention", "C6", "attention = Gibbs average for d_k = 4..64; LSE-transformer identities per layer", hj__exp_attention},
    {"recovery", "C7", "training selects initial data: recovered atoms approach g*(y) = |y| as eps -> 0", hj__exp_recovery},
    {"quadrature", "C8", "grid atoms, Lipschitz initial data: unnormalised LSE ~ N^(-1/d), normalised ~ N^(-1/d) log N", hj__exp_quadrature},
    {"scaling", "C8", "trained LSE networks on sqrt(1 + |x|^2), eps = N^(-1/d) and validated: test error exponents vs -1/d", hj__exp_scaling},
    {"intrinsic", "C8", "data on a curved d_int-dimensional manifold in D = 32: the exponent follows d_int", hj__exp_intrinsic},
    {"generalization", "C9", "Hopf-Cole estimator on noisy Lipschitz data: test RMSE ~ n^(-1/(d+2))", hj__exp_generalization},
    {"pmp", "C11", "residual networks: backprop = Pontryagin co-state; MSA vs Adam; viscosity = noise (Monte Carlo)", hj__exp_pmp},
    {"architectures", "C11", "ResNet, RNN, LSTM, SSM, transformer as HJ discretisations: state, Hamiltonian, co-state, viscosity", hj__exp_architectures},
    {"sequence", "C11", "RNN, LSTM, SSM trained on row-sequential Fashion-MNIST: co-state = reverse mode, H_k per step, stationarity", hj__exp_sequence},
    {"influence", "C12", "closed-form O(N) leave-one-out and neuron ablation vs brute force; attribution vs retraining", hj__exp_influence},
    {"bifurcation", "C13", "critical points of the entropy landscape by continuation in eps; folds merging basins", hj__exp_bifurcation},
    {"phase", "C13", "entropy vs eps at query points: particle <-> wave; synthetic clusters and Fashion-MNIST", hj__exp_phase},
    {"robustness", "C10", "exact curvature of trained 1-D LSE nets vs the bound max|w|^2/eps and tighter certificates", hj__exp_robustness},
    {"hessian-fmnist", "C10", "Fashion-MNIST PCA-50, N = 128: measured curvature vs bounds across eps", hj__exp_hessian_fmnist},
    {"adversarial", "C10", "lse-class on Fashion-MNIST: clean / PGD-robust accuracy and certified radius vs eps", hj__exp_adversarial},
};

size_t hj_experiment_count(void) { return sizeof EXPERIMENTS / sizeof EXPERIMENTS[0]; }

const hj_experiment *hj_experiment_at(size_t i)
{
    return i < hj_experiment_count() ? &EXPERIMENTS[i] : NULL;
}

const hj_experiment *hj_experiment_find(const char *name)
{
    for (size_t i = 0; name && i < hj_experiment_count(); i++)
        if (strcmp(EXPERIMENTS[i].name, name) == 0)
            return &EXPERIMENTS[i];
    return NULL;
}

void hj_experiment_options_default(hj_experiment_options *o)
{
    memset(o, 0, sizeof *o);
    o->out_dir = "hjdl-out";
    o->eps = NAN;
    o->seed = 1;
}

/* Remove the directory dir that this run created, with what the experiment
 * wrote into it (files and subdirectories of its own; links are removed, never
 * followed). Best effort: a failed run's error is what the caller reports. */
static void remove_created_dir(const char *dir, int depth)
{
    DIR *d = depth < 8 ? opendir(dir) : NULL;
    if (d != NULL) {
        struct dirent *ent;
        while ((ent = readdir(d)) != NULL) {
            if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
                continue;
            char path[1400];
            int k = snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
            if (k < 0 || (size_t)k >= sizeof path)
                continue;
            struct stat sb;
            if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
                remove_created_dir(path, depth + 1);
            else
                (void)unlink(path);
        }
        closedir(d);
    }
    (void)rmdir(dir);
}

hj_status hj_experiment_run(const hj_experiment *e, const hj_experiment_options *opt,
                            hj_result *res, hj_error *err)
{
    if (e == NULL || opt == NULL || res == NULL)
        return hj_error_set(err, HJ_EINVAL, "experiment: NULL argument");
    memset(res, 0, sizeof *res);
    snprintf(res->experiment, sizeof res->experiment, "%s", e->name);
    /* the sizes a caller chooses, against limits.h, before anything runs */
    const struct { const char *name; size_t v, max; } lim[] = {
        {"N", opt->N, HJ_MAX_EXP_N}, {"d", opt->d, HJ_MAX_EXP_D},
        {"iters", opt->iters, HJ_MAX_ITERS}, {"seeds", opt->seeds, HJ_MAX_SEEDS}};
    for (size_t k = 0; k < sizeof lim / sizeof lim[0]; k++)
        if (lim[k].v > lim[k].max)
            return hj_error_set(err, HJ_EINVAL, "experiment %s: %s = %zu is more than the limit of %zu",
                                e->name, lim[k].name, lim[k].v, lim[k].max);
    if (opt->N > 0 && opt->d > 0) { /* N points of d coordinates, at least */
        char what[96];
        snprintf(what, sizeof what, "experiment %s: N = %zu points in d = %zu", e->name, opt->N, opt->d);
        hj_status mst = hj_memory_check(8.0 * (double)opt->N * (double)opt->d, what, err);
        if (mst != HJ_OK)
            return mst;
    }
    if (!(opt->eps >= 0.0) && !isnan(opt->eps))
        return hj_error_set(err, HJ_EINVAL, "experiment %s: eps = %g is negative", e->name, opt->eps);
    int k = snprintf(res->dir, sizeof res->dir, "%s/%s", opt->out_dir ? opt->out_dir : "hjdl-out", e->name);
    if (k < 0 || (size_t)k >= sizeof res->dir)
        return hj_error_set(err, HJ_EINVAL, "experiment %s: output path too long", e->name);
    struct stat before;
    const int existed = stat(res->dir, &before) == 0;
    hj_status st = hj_make_dirs(res->dir, err);
    if (st != HJ_OK)
        return st;
    double t0 = hj__exp_now_seconds();
    hj_experiment_progress(opt, e->name, "start", 0.0);
    st = e->run(opt, res, err);
    res->seconds = hj__exp_now_seconds() - t0;
    if (st != HJ_OK) {
        /* a run that could not finish leaves no partial output folder of its own making */
        if (!existed)
            remove_created_dir(res->dir, 0);
        hj_error_prefix(err, "experiment %s: ", e->name);
        return st;
    }
    hj_experiment_progress(opt, e->name, "done", 1.0);
    for (size_t i = 0; i < res->n_claims; i++)
        res->claims[i].provisional = opt->quick != 0; /* SPEC §4: quick verdicts are provisional */
    char path[1100];
    if ((st = hj_result_path(res, "summary.json", path, sizeof path, err)) != HJ_OK)
        return st;
    return hj_result_write_summary(res, path, err);
}
