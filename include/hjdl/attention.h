/* attention.h — attention as a Gibbs average (the HJ characteristic velocity).
 *
 *   Attn(Q, K, V)_i = sum_j softmax_j(q_i . k_j / eps) v_j,   eps = sqrt(d_k)
 *                   = grad_z LSE_eps(z)|_{z = q_i K^T} V.
 * In HJ terms the keys are atoms (w_j = k_j), the query is the evaluation
 * point, and with V = K the output is grad f_eps(q_i).
 *
 * Shapes: Q (n, dk), K (m, dk), V (m, dv), out (n, dv), lse (n).
 * eps = 0 gives hard attention: the average of v_j over the arg-max keys.
 */
#ifndef HJDL_ATTENTION_H
#define HJDL_ATTENTION_H

#include "hjdl/export.h"

#include <stddef.h>

#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Production kernel: tiled over keys with an online (running max / running
 * sum) softmax; never materialises the n x m score matrix (memory
 * O(tile + dv) per query). lse (n) is optional: it receives
 * LSE_eps(q_i K^T) = eps log sum_j exp(q_i . k_j / eps). */
HJ_API hj_status hj_attention_forward(const double *Q, const double *K, const double *V,
                               size_t n, size_t m, size_t dk, size_t dv, double eps,
                               double *out, double *lse, hj_error *err);

/* Reference kernel: materialises all scores of a row, two passes. For tests
 * and benchmarks; same contract as hj_attention_forward. */
HJ_API hj_status hj_attention_reference(const double *Q, const double *K, const double *V,
                                 size_t n, size_t m, size_t dk, size_t dv, double eps,
                                 double *out, double *lse, hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_ATTENTION_H */
