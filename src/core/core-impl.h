/* core-impl.h — internals shared by the core kernels (not installed). */
#ifndef HJDL_CORE_IMPL_H
#define HJDL_CORE_IMPL_H

#include <math.h>
#include <stddef.h>

#ifdef HJDL_HAVE_OPENMP
#include <omp.h>
#define HJ_MAX_THREADS() ((size_t)omp_get_max_threads())
#define HJ_THREAD_ID() ((size_t)omp_get_thread_num())
#else
#define HJ_MAX_THREADS() ((size_t)1)
#define HJ_THREAD_ID() ((size_t)0)
#endif

#define HJ_PI 3.14159265358979323846

/* Batches smaller than this run on one thread (thread start-up dominates). */
#define HJ_PARALLEL_MIN_WORK 200000

/* LSE of z (N) with everything the derived quantities need:
 *   returns f = m + eps*log(s); *m = max z; *log_s = log s,
 *   s = sum_j exp((z_j - m)/eps) in [1, N];
 *   pi (N, may alias z) receives the Gibbs weights.
 * eps == 0: f = m, pi uniform over exact ties, *log_s = log(#ties). */
double hj__lse_full(const double *z, size_t N, double eps, double *pi,
                    double *m, double *log_s);

/* log pi_j = (z_j - m)/eps - log_s, for a j with pi_j > 0 and eps > 0. */
static inline double hj__log_pi(double zj, double m, double eps, double log_s)
{
    return (zj - m) / eps - log_s;
}

/* A second-derivative term c/eps, with the eps == 0 convention of the
 * public headers: 0 stays 0 (f locally affine), anything else is +-inf. */
static inline double hj__over_eps(double c, double eps)
{
    if (eps > 0.0)
        return c / eps;
    return c == 0.0 ? 0.0 : (c > 0.0 ? INFINITY : -INFINITY);
}

/* v[i] = exp(v[i]) for i < n (vectorised where the CPU allows; src/core/vexp.c). */
void hj__exp_inplace(double *v, size_t n);

/* The K largest of key (N) (K <= N), best first into top_key (K) and
 * top_idx (K); equal keys rank by the smaller index. O(N log K). */
void hj__top_k(const double *key, size_t N, size_t K, double *top_key, size_t *top_idx);

/* Entropy of the Gibbs weights: -sum pi log pi (0 log 0 = 0). */
double hj__gibbs_entropy(const double *z, const double *pi, size_t N, double eps,
                         double m, double log_s);

struct hj_lse_layer;
/* z (N) = w x + b for one point x (d) of an LSE layer. */
void hj__layer_logits(const struct hj_lse_layer *L, const double *x, double *z);

/* mean (d) = sum_j pi_j v_j over rows v_j of v (N, d). */
void hj__pi_mean(const double *pi, const double *v, size_t N, size_t d, double *mean);

/* cov (d, d) = sum_j pi_j (v_j - mean)(v_j - mean)^T (two-pass, symmetric). */
void hj__pi_cov(const double *pi, const double *v, const double *mean, size_t N,
                size_t d, double *cov);

/* Largest eigenvalue of a symmetric (d, d) matrix (LAPACK dsyev).
 * Returns 0 on success, non-zero if LAPACK failed or memory ran out. */
int hj__sym_max_eig(const double *a, size_t d, double *lmax);

/* True when all n values are finite; *bad gets the first offending index. */
int hj__all_finite(const double *v, size_t n, size_t *bad);

#endif /* HJDL_CORE_IMPL_H */
