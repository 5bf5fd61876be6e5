/* partial.h — mergeable partial reductions over shards of atoms, and
 * streaming top-K attribution.
 *
 * A Hopf–Cole solution (or an LSE layer) is a reduction over its N atoms.
 * Split the atoms into shards — tiles streamed through one process, the row
 * range an MPI rank holds, blocks of a file too large for memory — and each
 * shard yields, per evaluation point, a small partial state; states merge
 * exactly (up to rounding) in any order and grouping. Nothing here ever
 * forms an (n, N) matrix: memory is O(n (3 + dv + K)) plus one tile.
 *
 * Logits. For atoms (y_j, g_j) at time t (metric A; NULL = identity)
 *     a_j(x) = -(g_j + (x - y_j)^T A^{-1} (x - y_j)/(4t)),
 * so that u_eps(x,t) = -eps log sum_j exp(a_j/eps) (hopf.h, plain u) and the
 * Gibbs weights are pi_j = exp((a_j - F)/eps), F = -u. For a generic fold
 * the caller supplies the logits.
 *
 * The partial state of one point is a record of width 3 + dv doubles:
 *     rec[0] = m  = max_j a_j over the shard        (-inf: empty shard)
 *     rec[1] = s  = sum_j exp((a_j - m)/eps)        (eps = 0: #{j : a_j = m})
 *     rec[2] = sa = sum_j exp((a_j - m)/eps) (a_j - m)   (always 0 at eps = 0)
 *     rec[3 + c] = sum_j exp((a_j - m)/eps) v_jc,  c < dv
 * (terms with (a_j - m)/eps below -708 are flushed to 0, as in lse.h).
 * Merging two records with maxima m1 >= m2 rescales the second by
 * r = exp((m2 - m1)/eps) (r = [m2 == m1] at eps = 0): s = s1 + r s2,
 * sa = sa1 + r (sa2 + s2 (m2 - m1)), v likewise. From the merged record:
 *     F = m + eps log s,   u = -F,
 *     H = log s - sa/(eps s)   (entropy of pi; log s at eps = 0),
 *     E_pi[v] = rec[3..]/s.
 * For atoms with values v = y (dv = d): grad u = A^{-1}(x - E_pi[y])/(2t).
 *
 * Top-K: per point the K largest logits seen so far with their GLOBAL atom
 * indices (shard offset + local row), best first; equal logits rank by the
 * smaller index (so the result does not depend on how atoms were sharded).
 * Empty slots hold logit -inf and index SIZE_MAX. The final weights are
 * pi_k = exp((a_k - m)/eps)/s with the merged m and s (eps = 0: 1/s for
 * a_k == m, else 0).
 */
#ifndef HJDL_PARTIAL_H
#define HJDL_PARTIAL_H

#include "hjdl/export.h"

#include <stddef.h>
#include <stdint.h>

#include "hjdl/hopf.h"
#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HJ_PARTIAL_HEAD 3

/* Width of one record: 3 + dv. */
HJ_API size_t hj_partial_width(size_t dv);

/* P (n, 3 + dv) <- empty states (m = -inf, everything else 0). */
HJ_API void hj_partial_init(double *P, size_t n, size_t dv);

/* P <- P (+) Q for n records of width 3 + dv (Q unchanged). Commutative and
 * associative up to rounding; an empty Q leaves P bit-identical. */
HJ_API void hj_partial_merge(double *P, const double *Q, size_t n, size_t dv, double eps);

/* Per-point top-K state over caller-owned buffers. */
typedef struct hj_topk {
    size_t n;        /* points */
    size_t K;        /* slots per point (K >= 1) */
    double *logit;   /* (n, K) descending; -inf = empty */
    size_t *index;   /* (n, K) global atom indices; SIZE_MAX = empty */
} hj_topk;

/* Wrap buffers logit (n, K) and index (n, K) and empty them. */
HJ_API void hj_topk_init(hj_topk *tk, size_t n, size_t K, double *logit, size_t *index);

/* dst <- the K best of dst and src, point by point (same n and K). */
HJ_API void hj_topk_merge(hj_topk *dst, const hj_topk *src);

/* Fold a tile of logits a (n, T) — column k belongs to global atom
 * offset + k — with values v (T, dv) (NULL iff dv == 0) into the states
 * P (n, 3 + dv) and, if top != NULL, into the top-K. eps >= 0 finite;
 * logits must not be NaN or +inf (HJ_ENAN / HJ_EDOM otherwise; checked
 * before anything is changed); -inf is allowed and means weight 0 (such an
 * atom can still fill an otherwise empty top-K slot, with pi 0). T == 0 or
 * n == 0 is a no-op. P must hold states (hj_partial_init or earlier folds /
 * merges with the same dv and eps); top must have n points. */
HJ_API hj_status hj_partial_fold_logits(const double *a, size_t n, size_t T, size_t offset,
                                 const double *v, size_t dv, double eps, double *P,
                                 hj_topk *top, hj_error *err);

/* Fold a shard of atoms a (its row k is global atom offset + k) at points
 * x (n, a->d), time t > 0, viscosity eps >= 0 into P (n, 3 + dv) and top
 * (may be NULL). with_grad: dv = d and v = y (for the gradient), else dv = 0.
 * Works in tiles (points x atoms) sized for the cache, threaded over points;
 * never allocates more than one tile per thread. offset + a->N < SIZE_MAX.
 * Exactness: the maximum logit, eps = 0 ties and every top-K logit are
 * bit-identical to the logits of hj_hopf_cole_eval / hj_explain_atoms (the
 * same direct formula in the same order), so sharding never changes which
 * atoms are selected; for d >= 8 the other logits come from a GEMM
 * expansion whose cancellation-prone pairs are recomputed directly (rel.
 * error of a logit's distance term ~1e-16 typical, < 1e-12 bound). Call it
 * from one thread per P (it threads internally with OpenMP). */
HJ_API hj_status hj_partial_atoms(const hj_atoms *a, size_t offset, const hj_metric *metric,
                           const double *x, size_t n, double t, double eps, int with_grad,
                           double *P, hj_topk *top, hj_error *err);

/* Results from merged atom states P (n, 3 + dv), dv = d if with_grad else 0,
 * at the same points x (n, d), t and eps: any of u, u_norm, entropy (n) and,
 * when with_grad, grad (n, d) in out (every other field of out must be
 * NULL: HJ_EINVAL otherwise). If top != NULL, pi_top (n, top->K) receives
 * the final weights of the top-K atoms (0 for empty slots). An empty state
 * (no atoms folded) is HJ_EINVAL. dudt, hess, lap and pi cannot be had
 * from partial states. The entropy is clamped at 0 (not at log N: N is
 * not known here; hj_partial_explain clamps at log N_total). Entropy is
 * accurate to ~1e-16 absolute (not relative when H << 1: log s rounds). */
HJ_API hj_status hj_partial_atoms_finish(const double *P, size_t n, size_t d, const hj_metric *metric,
                                  const double *x, double t, double eps, int with_grad,
                                  const hj_hc_out *out, const hj_topk *top, double *pi_top,
                                  hj_error *err);

/* Gibbs entropy H (n) over N_total atoms from merged states P (n, 3 + dv)
 * (only the first 3 columns are read), clamped to [0, log N_total]; errors
 * start with `who`; H == NULL only validates. influence.h's
 * hj_partial_explain builds on it. */
HJ_API hj_status hj_partial_entropy(const double *P, size_t n, size_t dv, double eps, size_t N_total,
                             double *H, const char *who, hj_error *err);

#ifdef __cplusplus
}
#endif

#endif /* HJDL_PARTIAL_H */
