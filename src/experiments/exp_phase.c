/* exp_phase.c — placeholder: this experiment is being written. */
#include "experiments/experiments-impl.h"

hj_status hj__exp_phase(const hj_experiment_options *opt, hj_result *res, hj_error *err)
{
    (void)opt, (void)res;
    return hj_error_set(err, HJ_EINVAL, "not implemented yet");
}
