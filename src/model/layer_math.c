/* layer_math.c — small steps shared by the layer files: the Gibbs-weight (softmax)
 * backward of one row and the column sums of a strided matrix. Their own file so that
 * the layer files and their dispatch (layers.c) do not call each other in a circle. */
#include "core/kernels.h"
#include "model/layers.h"

void hj__add_column_sums(double *acc, const double *G, size_t rows, size_t cols, size_t ld)
{
    for (size_t r = 0; r < rows; r++) {
        const double *g = G + r * ld;
        HJ_SIMD()
        for (size_t j = 0; j < cols; j++)
            acc[j] += g[j];
    }
}

void hj__gibbs_weights_backward(double *g, const double *pi, size_t M, double eps)
{
    double mean = 0.0;
    for (size_t j = 0; j < M; j++)
        mean += pi[j] * g[j];
    for (size_t j = 0; j < M; j++)
        g[j] = eps > 0.0 ? pi[j] * (g[j] - mean) / eps : 0.0;
}
