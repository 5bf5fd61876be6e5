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
hj_status hj__exp_sequence(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_influence(const hj_experiment_options *opt, hj_result *res, hj_error *err);
/* Part (b) of `influence` (exp_influence_trained.c): the trained models on Fashion-MNIST. */
hj_status hj__exp_influence_trained(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_bifurcation(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_phase(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_robustness(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_hessian_fmnist(const hj_experiment_options *opt, hj_result *res, hj_error *err);
hj_status hj__exp_adversarial(const hj_experiment_options *opt, hj_result *res, hj_error *err);


#endif /* HJDL_EXPERIMENTS_IMPL_H */
