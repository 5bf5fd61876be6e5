/* unavailable.c — what the WebAssembly build of libhjdl leaves out, with a clear
 * error status. Debian's liblbfgs has no wasm32 build, so src/optim/lbfgs_phase.c
 * is not compiled into the explorer and its one internal entry point refuses:
 * `--optimizer lbfgs` / `adam+lbfgs` training fails with HJ_EINVAL and this
 * message; Adam and SGD (src/optim/firstorder.c) are unaffected. */
#include "hjdl/status.h"
#include "optim/optim-impl.h"

hj_status hj__lbfgs_phase(hj__optrun *run, double *params, size_t max_iter, hj_error *err)
{
    (void)run, (void)params, (void)max_iter;
    return hj_error_set(err, HJ_EINVAL,
                        "L-BFGS is not available in the WebAssembly build (no liblbfgs); use adam or sgd");
}
