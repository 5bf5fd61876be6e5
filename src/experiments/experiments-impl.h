/* experiments-impl.h — the experiment entry points (one file each, exp_NAME.c) and shared helpers. */
#ifndef HJDL_EXPERIMENTS_IMPL_H
#define HJDL_EXPERIMENTS_IMPL_H

#include "hjdl/experiment.h"

hj_status hj__exp_identity(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_attention(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_recovery(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_quadrature(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_scaling(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_intrinsic(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_generalization(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_pmp(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_architectures(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_influence(const hj_experiment_options *opt, hj_result *res, hj_error *err);
/* Part (b) of `influence` (exp_influence_trained.c): the trained models on Fashion-MNIST. */
hj_status hj__exp_influence_trained(const hj_experiment_options *opt, hj_result *res, hj_error *err);
/* Brute-force leave-one-out of the Hopf–Cole Gibbs predictor at one point x (d):
 * atom k of y (N, d), g (N), v (N, nv) is swapped to the end, hj_hopf_cole_eval
 * runs on the other N-1 (weights into pi, N scratch), Pk (nv) = sum_j pi_j v_j,
 * and the rows are swapped back (exp_influence.c). */
hj_status hj__exp_influence_brute_loo(double *y, double *g, double *v, size_t N, size_t d, size_t nv,
                                      const double *x, double t, double eps, size_t k, double *pi, double *Pk,
                                      hj_error *err);
hj_status hj__exp_bifurcation(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_phase(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_robustness(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_hessian_fmnist(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_adversarial(const hj_experiment_options *opt, hj_result *res, hj_error *err);


#endif /* HJDL_EXPERIMENTS_IMPL_H */
