/* seq_ssm.c — STUB (to be replaced): ssm sequence layers. */
#include <string.h>

#include "model/layers.h"

size_t hj__ssm_cache_width(const hj_layer *L) { return L->out; }
void hj__ssm_forward(const hj_layer *L, double *out, double *cache, const double *in, const double *P,
                     size_t n, double eps)
{
    (void)cache, (void)in, (void)P, (void)eps;
    memset(out, 0, n * L->out * sizeof *out);
}
void hj__ssm_backward(const hj_layer *L, double *din, double *dP, double *dz, const double *dout,
                      const double *cache, const double *in, const double *P, size_t n, double eps)
{
    (void)dP, (void)dz, (void)dout, (void)cache, (void)in, (void)P, (void)eps;
    if (din)
        memset(din, 0, n * L->in * sizeof *din);
}
void hj__ssm_init(const hj_layer *L, double *P, hj_rng *rng)
{
    (void)rng;
    memset(P, 0, L->count * sizeof *P);
}
