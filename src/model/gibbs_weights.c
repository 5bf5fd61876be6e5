/* gibbs_weights.c — the backward step of Gibbs weights (softmax) of one row, shared by the
 * gibbs layer (layers.c), the attention layer's feed-forward (seq_attn.c) and pmp's
 * transformer; its own file so that the layer files and their dispatch (layers.c) do
 * not call each other in a circle. */
#include "model/layers.h"

void hj__gibbs_weights_backward(double *g, const double *pi, size_t M, double eps)
{
    double mean = 0.0;
    for (size_t j = 0; j < M; j++)
        mean += pi[j] * g[j];
    for (size_t j = 0; j < M; j++)
        g[j] = eps > 0.0 ? pi[j] * (g[j] - mean) / eps : 0.0;
}
