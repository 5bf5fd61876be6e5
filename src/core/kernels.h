/* kernels.h — the kernel interface of core for the modules above it.
 *
 * Not installed and not part of the ABI (libhjdl.so exports only the public
 * headers of include/hjdl/): these are the hj__ internals whose signatures
 * follow the SIMD work — threads and vectorisation macros, the full LSE of
 * one row, the vector exp, top-K selection, layer logits, the kernel-set
 * dispatch, the packed-layer block kernels of the fused readout, and the
 * flush-to-zero guard. A module outside core that needs a kernel includes
 * this header, never core/core-impl.h (core's private parts: tests/arch
 * checks it). Why not include/hjdl/: a public header is a promise to the
 * Python binding and to C users; these change whenever a kernel does.
 *
 * Shapes are in each comment; every array is row-major double.
 */
#ifndef HJDL_CORE_KERNELS_H
#define HJDL_CORE_KERNELS_H

#include <math.h>
#include <stddef.h>

#include "hjdl/status.h"

#ifdef HJDL_HAVE_OPENMP
#include <omp.h>
#define HJ_MAX_THREADS() ((size_t)omp_get_max_threads())
#define HJ_THREAD_ID() ((size_t)omp_get_thread_num())
#else
#define HJ_MAX_THREADS() ((size_t)1)
#define HJ_THREAD_ID() ((size_t)0)
#endif

/* `#pragma omp simd CLAUSES` where OpenMP is on: lets the compiler vectorise
 * a loop it would otherwise leave scalar (possible aliasing, reductions;
 * the order of summation of a reduction is then the vector one). */
#ifdef HJDL_HAVE_OPENMP
#define HJ_SIMD_(x) _Pragma(#x)
#define HJ_SIMD(clauses) HJ_SIMD_(omp simd clauses)
#else
#define HJ_SIMD(clauses)
#endif

/* Hot portable loops are compiled for AVX-512, AVX2 and the baseline, and
 * the loader picks the widest the CPU has (GCC function multiversioning):
 * the library still runs on any x86-64. No FMA contraction happens in
 * ISO C mode, so every clone does the same arithmetic per element; only
 * the grouping of vectorised reductions differs between CPUs. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HJ_WIDE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HJ_WIDE_CLONES
#endif

/* Batches smaller than this run on one thread (thread start-up dominates). */
#define HJ_PARALLEL_MIN_WORK 200000

/* A function compiled with HJ_WIDE_CLONES is an ifunc, which GCC exports
 * whatever the visibility preset; its declaration says hidden, so
 * libhjdl.so keeps it internal (include/hjdl/export.h). */
#if defined(__GNUC__) || defined(__clang__)
#define HJ_INTERNAL __attribute__((visibility("hidden")))
#else
#define HJ_INTERNAL
#endif

/* LSE of z (N) with everything the derived quantities need:
 *   returns f = m + eps*log(s); *m = max z; *log_s = log s,
 *   s = sum_j exp((z_j - m)/eps) in [1, N];
 *   pi (N, may alias z) receives the Gibbs weights.
 * eps == 0: f = m, pi uniform over exact ties, *log_s = log(#ties). */
HJ_INTERNAL double hj__lse_full(const double *z, size_t N, double eps, double *pi,
                    double *m, double *log_s);

/* The derivatives of the attribution entropy H = -sum_j pi_j l_j
 * (l_j = log pi_j) of a Gibbs state whose logits move with x as
 * d l_j / dx = (s_j - sum_i pi_i s_i) / eps, given the centred directions
 * S (N, d) (rows s_j - E_pi s) and eps > 0: one formula for the LSE layer
 * (entropy.c: s_j = w_j) and the Hopf–Cole atoms (the landscape:
 * s_j = y_j / (2t)),
 *   grad H = -sum_j pi_j (l_j + shift) S_j / eps      (grad (d), may be NULL)
 *   hess H = -sum_j pi_j (l_j + H + 1) S_j S_j^T / eps^2   (hess (d, d), may be NULL)
 * where any shift gives the same gradient (sum_j pi_j S_j = 0); each
 * caller keeps the one its numbers were made with (0, or H). Atoms with
 * pi_j == 0 are skipped. */
void hj__entropy_derivatives(const double *pi, const double *ell, double H, double shift, const double *S,
                             size_t N, size_t d, double eps, double *grad, double *hess);

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
/* v[i] = exp(v[i]) for v[i] <= 0, flushed to exactly 0 below 1e-307 (and
 * for NaN): the exp of the Gibbs weights in the blocked kernels, i.e. the
 * inline exp of the kernel set in force (exp_avx512.h, exp_avx2.h), with
 * the portable set hj__exp_inplace (libmvec, or libm) with the same flush
 * (src/core/vexp.c). */
void hj__exp_nonpos_inplace(double *v, size_t n);
/* The same with the set's inline exp allowed (simd = 1) or not (0: the
 * portable clamp, hj__exp_inplace, flush), for the tests. */
void hj__exp_nonpos_impl(double *v, size_t n, int simd);
/* The K largest of key (N) (K <= N), best first into top_key (K) and
 * top_idx (K); equal keys rank by the smaller index. O(N log K). */
void hj__top_k(const double *key, size_t N, size_t K, double *top_key, size_t *top_idx);
struct hj_lse_layer;
/* z (N) = w x + b for one point x (d) of an LSE layer. Where blocked SIMD
 * kernels run (hj__kernels() != HJ_KERNELS_PORTABLE), by FMA in k order
 * exactly as they do, so every path gives the same logits for a given
 * kernel set. */
void hj__layer_logits(const struct hj_lse_layer *L, const double *x, double *z);

/* True when all n values are finite; *bad gets the first offending index. */
int hj__all_finite(const double *v, size_t n, size_t *bad);


/* ---- blocked SIMD kernels (src/core/lse_simd.c) --------------------------
 * The batch kernels (hj_lse_forward, the fused readout loss) work on blocks
 * of HJ_BLK_P points against the whole layer: logits in registers, one
 * max-shifted exp pass per point through the set's inline exp
 * (exp_avx512.h, exp_avx2.h), then whatever the caller needs. One body
 * (lse_kernels.h) over a small vector abstraction (simd_vec.h) is compiled
 * for AVX-512 and for AVX2 + FMA. A point's numbers never depend on which
 * block or thread it lands in (a short last block is padded with dummy
 * points), so results are independent of the thread count. */
#if defined(__x86_64__) && defined(__GNUC__)
#define HJ_HAVE_SIMD_KERNELS 1
#endif

/* The kernel sets, narrowest first. */
typedef enum hj__kernel_set {
    HJ_KERNELS_PORTABLE = 0, /* row by row, vectorised C loops, libmvec's exp */
    HJ_KERNELS_AVX2 = 1,     /* blocked AVX2 + FMA kernels, exp_avx2.h */
    HJ_KERNELS_AVX512 = 2    /* blocked AVX-512F kernels, exp_avx512.h */
} hj__kernel_set;

/* The set in force: HJDL_KERNELS (avx512, avx2 or portable) when it names a
 * set this CPU runs, else the widest the CPU runs. Read once per process, at
 * the first call (see lse_simd.c for why that is safe). */
hj__kernel_set hj__kernels(void);
/* HJ_OK, or HJ_EINVAL naming the value when HJDL_KERNELS is set to an
 * unknown set or one this CPU lacks (the entry points with a status refuse
 * to run then; status-less internals use hj__kernels()'s fallback). */
hj_status hj__kernels_check(hj_error *err);
/* HJDL_KERNELS's rule for a CPU with the given sets (value NULL or "": the
 * widest): *set the chosen one (the widest when refused). */
hj_status hj__kernels_parse(const char *value, int have_avx512, int have_avx2, hj__kernel_set *set,
                            hj_error *err);
/* "portable", "avx2" or "avx512". */
const char *hj__kernels_name(hj__kernel_set set);

/* Flush-to-zero and denormals-are-zero on the calling thread for the span
 * of a kernel (x86 MXCSR; a no-op elsewhere; the readout kernels set it in
 * each thread): results that would be subnormal become 0, and subnormal
 * operands count as 0, instead of costing a ~100-cycle microcode assist
 * each, which deep in the tail of the Gibbs weights (small eps) they would.
 * Each such value is below 2.2e-308 in magnitude, under the 1e-307 flush of
 * the weights (a subnormal parameter or input is read as 0 too).
 * hj__fp_flush_begin returns the previous state for hj__fp_flush_end. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <xmmintrin.h>
static inline unsigned hj__fp_flush_begin(void)
{
    const unsigned saved = _mm_getcsr();
    _mm_setcsr(saved | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
    return saved;
}
static inline void hj__fp_flush_end(unsigned saved)
{
    _mm_setcsr(saved);
}
#else
static inline unsigned hj__fp_flush_begin(void)
{
    return 0;
}
static inline void hj__fp_flush_end(unsigned saved)
{
    (void)saved;
}
#endif

#define HJ_BLK_P 8 /* points per block */
#define HJ_VEC 8   /* doubles per vector; Np is a multiple of it */


/* A layer in the kernels' layout. wT (d, Np) is w transposed, bT (Np) is b.
 * The N neurons form nseg segments of seg neurons each (one LSE per
 * segment: nseg = 1 for a layer, C for an lse-class readout with seg
 * neurons per class); each segment is padded to segp = seg rounded up to a
 * multiple of HJ_VEC, so Np = nseg * segp and neuron c seg + j sits in
 * column c segp + j. Padding columns are 0 in wT and -inf in bT, so their
 * Gibbs weights come out exactly 0. inv_eps = 1/eps when that is a normal
 * number (the kernels multiply), else 0 (they divide). */
typedef struct hj__packed_layer {
    size_t N, Np, d;
    size_t nseg, seg, segp;
    double *wT, *bT; /* one 64-byte aligned allocation */
    double eps, inv_eps;
} hj__packed_layer;

/* N rounded up to a multiple of HJ_VEC. */
static inline size_t hj__np(size_t N)
{
    return (N + HJ_VEC - 1) / HJ_VEC * HJ_VEC;
}

/* 64-byte aligned allocation of n doubles (free with free()); NULL on failure. */
double *hj__alloc_aligned(size_t n);

/* Pack w (N, d), b (N) for the kernels (eps > 0), one segment. Returns 0,
 * or 1 when out of memory. */
int hj__pack_layer(hj__packed_layer *pk, const double *w, const double *b, size_t N, size_t d,
                   double eps);
/* The same for nseg segments of seg neurons: w (nseg seg, d), b (nseg seg). */
int hj__pack_layer_segments(hj__packed_layer *pk, const double *w, const double *b, size_t seg,
                            size_t nseg, size_t d, double eps);
void hj__packed_free(hj__packed_layer *pk);

/* xT (d, HJ_BLK_P) = the first `valid` (>= 1) points of x (valid, d),
 * transposed; the block is padded with copies of the last point. */
void hj__block_transpose(const double *x, size_t valid, size_t d, double *xT);

/* One block of HJ_BLK_P points with the kernel set `set` (avx512 or avx2;
 * nothing at all for portable), xT (d, HJ_BLK_P): Z
 * (HJ_BLK_P, Np), 64-byte aligned, receives e_ij = exp((z_ij - m_ic)/eps)
 * with m_ic the max logit of point i in the segment c of neuron j, flushed
 * to 0 below 1e-307 (like hj__lse_full) and 0 in the padding;
 * m (HJ_BLK_P, nseg) those maxima, s (HJ_BLK_P, nseg) the segment sums of
 * e (>= 1). */
void hj__lse_block(hj__kernel_set set, const hj__packed_layer *pk, const double *xT, double *Z,
                   double *m, double *s);
/* The gradient terms of one block, set as for hj__lse_block: Z (HJ_BLK_P,
 * Np) holds e_ij, xcT (d, HJ_BLK_P) c_i x_ik and c (HJ_BLK_P) the c_i;
 * dwT (d, Np) += sum_i e_ij (c_i x_ik) and db (Np) += sum_i e_ij c_i, the
 * points in order, one FMA per term (all 64-byte aligned). */
void hj__block_accumulate(hj__kernel_set set, const double *Z, size_t Np, size_t d,
                          const double *xcT, const double *c, double *dwT, double *db);

/* In the blocked forward pass a pi of at least this many bytes is written
 * by streaming (non-temporal) stores, overlapped with the next row's exps:
 * more than the L2 caches of the development machine's two cores (2 MiB
 * each), where plain stores would read every line in only to evict it. */
#define HJ_STREAM_MIN_BYTES ((size_t)16 << 20)

/* hj_lse_forward's work with the kernel chosen explicitly: simd = 1 uses
 * the set in force (hj__kernels(); the portable path when that is portable),
 * simd = 0 the portable row-by-row path. Arguments already validated.
 * Returns 0, or 1 when out of memory. */
struct hj_lse_layer;
int hj__lse_forward_impl(const struct hj_lse_layer *L, const double *x, size_t n, double *f,
                         double *pi, double *grad, int simd);

#endif /* HJDL_CORE_KERNELS_H */
