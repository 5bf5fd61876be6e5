/* seq_rnn.c — STUB (to be replaced): rnn and lstm sequence layers. */
#include <string.h>

#include "model/layers.h"

size_t hj__rnn_cache_width(const hj_layer *L) { return L->out; }
void hj__rnn_forward(const hj_layer *L, double *out, double *cache, const double *in, const double *P,
                     size_t n, double eps)
{
    (void)cache, (void)in, (void)P, (void)eps;
    memset(out, 0, n * L->out * sizeof *out);
}
void hj__rnn_backward(const hj_layer *L, double *din, double *dP, double *dz, const double *dout,
                      const double *cache, const double *in, const double *P, size_t n, double eps)
{
    (void)dP, (void)dz, (void)dout, (void)cache, (void)in, (void)P, (void)eps;
    if (din)
        memset(din, 0, n * L->in * sizeof *din);
}
size_t hj__lstm_cache_width(const hj_layer *L) { return L->out; }
void hj__lstm_forward(const hj_layer *L, double *out, double *cache, const double *in, const double *P,
                      size_t n)
{
    (void)cache, (void)in, (void)P;
    memset(out, 0, n * L->out * sizeof *out);
}
void hj__lstm_backward(const hj_layer *L, double *din, double *dP, double *dz, const double *dout,
                       const double *cache, const double *in, const double *P, size_t n)
{
    (void)dP, (void)dz, (void)dout, (void)cache, (void)in, (void)P;
    if (din)
        memset(din, 0, n * L->in * sizeof *din);
}
void hj__rnn_init(const hj_layer *L, double *P, hj_rng *rng)
{
    (void)rng;
    memset(P, 0, L->count * sizeof *P);
}
void hj__lstm_init(const hj_layer *L, double *P, hj_rng *rng)
{
    (void)rng;
    memset(P, 0, L->count * sizeof *P);
}
