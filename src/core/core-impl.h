/* core-impl.h — internals private to the core module (not installed).
 * The part other modules may use is core/kernels.h, included here. */
#ifndef HJDL_CORE_IMPL_H
#define HJDL_CORE_IMPL_H

#include <stddef.h>

#include "core/kernels.h"

#define HJ_PI 3.14159265358979323846

/* log pi_j = (z_j - m)/eps - log_s, for a j with pi_j > 0 and eps > 0. */
static inline double hj__log_pi(double zj, double m, double eps, double log_s)
{
    return (zj - m) / eps - log_s;
}

/* w (N) = exp((z_j - m)/eps) for z_j <= m, eps > 0: the unnormalised Gibbs
 * weights of every kernel. The exponent is a product with 1/eps when that
 * is a normal number (one rounding more than a division, as in the blocked
 * kernels), else a division; the exp is hj__exp_nonpos_inplace (flushed
 * below 1e-307). w may alias z. */
HJ_INTERNAL void hj__shifted_exp(const double *z, size_t N, double m, double eps, double *w);

/* The ranking under hj__top_k and the streaming top-K (partial.c): entry
 * (ka, ia) ranks below (kb, ib) when ka < kb, or ka == kb and ia > ib. */
int hj__ranks_below(double ka, size_t ia, double kb, size_t ib);
/* Swap entries a and b of the parallel arrays key and idx. */
void hj__swap_ranked(double *key, size_t *idx, size_t a, size_t b);
/* Restore the min-heap (root = lowest ranked) over n entries below p. */
void hj__heap_sift_down(double *key, size_t *idx, size_t n, size_t p);

/* The streaming top-K of partial.c (topk.c): a best-first row (K) becomes a
 * min-heap (worst first) and back; hj__topk_offer offers the logits a (T)
 * of global atoms off + j to the heap (key, idx) (K). */
void hj__topk_row_to_heap(double *key, size_t *idx, size_t K);
void hj__topk_heap_to_row(double *key, size_t *idx, size_t K);
void hj__topk_offer(double *key, size_t *idx, size_t K, const double *a, size_t T, size_t off);

/* Entropy of the Gibbs weights: -sum pi log pi (0 log 0 = 0). */
double hj__gibbs_entropy(const double *z, const double *pi, size_t N, double eps,
                         double m, double log_s);

/* mean (d) = sum_j pi_j v_j over rows v_j of v (N, d). */
void hj__pi_mean(const double *pi, const double *v, size_t N, size_t d, double *mean);

/* cov (d, d) = sum_j pi_j (v_j - mean)(v_j - mean)^T (two-pass, symmetric). */
void hj__pi_cov(const double *pi, const double *v, const double *mean, size_t N,
                size_t d, double *cov);

/* Largest eigenvalue of a symmetric (d, d) matrix (LAPACK dsyev).
 * Returns 0 on success, non-zero if LAPACK failed or memory ran out. */
int hj__sym_max_eig(const double *a, size_t d, double *lmax);

#endif /* HJDL_CORE_IMPL_H */
