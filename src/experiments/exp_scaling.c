/* exp_scaling.c — C8 scaling: trained LSE networks on f(x) = sqrt(1 + |x|^2), x ~ U[-2,2]^d, test error vs N at the paper's eps = N^(-1/d) and at eps chosen on held-out data (the sweep engine is exp_sweep.c). */
#include "experiments/exp-common.h"
#include "experiments/experiments-impl.h"

hj_status hj__exp_scaling(const hj_experiment_options *opt, hj_result *res, hj_error *err)
{
    return hj__exp_si_sweep(opt, res, 0, err);
}
