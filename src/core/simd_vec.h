/* simd_vec.h — the small vector abstraction the blocked kernels are written over: one kernel set (AVX-512 or AVX2 + FMA) per inclusion.
 *
 * Define HJ_VSET_AVX512 or HJ_VSET_AVX2 and include this header, then the
 * kernel body (lse_kernels.h); include it again with the other set for the
 * second copy. It defines, for that set:
 *   V          a vector of VW doubles (VW = 8 or 4; HJ_VEC = 8, the packing
 *              unit, is a multiple of it, so every packed row is whole
 *              vectors and 64-byte alignment is alignment for both);
 *   V_LP       points per register block of the logits and gradient loops
 *              (8 with 32 registers, 4 with AVX2's 16: 2 V_LP accumulators,
 *              V_LP maxima and 3 operands must fit) and V_REP(X), X(p) for
 *              p = 0 .. V_LP - 1;
 *   V_TARGET   the function attribute compiling for the set;
 *   V_NAME(f)  f with the set's suffix (f_avx512, f_avx2);
 *   V_LOAD / V_LOADU / V_STORE / V_STOREU / V_STREAM (aligned = VW * 8
 *   bytes), V_SET1, V_ZERO, V_ADD, V_SUB, V_MUL, V_DIV, V_MAX, V_FMA(a, b, c)
 *   = a b + c rounded once, V_RADD / V_RMAX (horizontal, a fixed order per
 *   set), V_EXP_SETUP (a statement, once per loop) and V_EXP(t): the set's
 *   inline Gibbs-weight exp (exp_avx512.h, exp_avx2.h); V_EXP_SCALED(zm,
 *   s, vc) = exp(zm s) with vc = s V_EXP_C (the exp's k/t ratio, 16/ln2 or
 *   8/ln2) computed once per row; V_EXP_PAIRS 1 when
 *   the exp loop takes two vectors per iteration (AVX-512), 0 for one (AVX2:
 *   with 16 registers two interleaved exps spill, the running sum among
 *   them, and its store-reload chain then limits the loop).
 */
#undef V
#undef VW
#undef V_LP
#undef V_REP
#undef V_TARGET
#undef V_NAME
#undef V_LOAD
#undef V_LOADU
#undef V_STORE
#undef V_STOREU
#undef V_STREAM
#undef V_SET1
#undef V_ZERO
#undef V_ADD
#undef V_SUB
#undef V_MUL
#undef V_DIV
#undef V_MAX
#undef V_FMA
#undef V_RADD
#undef V_RMAX
#undef V_EXP_SETUP
#undef V_EXP
#undef V_EXP_SCALED
#undef V_EXP_C
#undef V_EXP_PAIRS

#include <immintrin.h>

#if defined(HJ_VSET_AVX512)
#include "core/exp_avx512.h"
#define V __m512d
#define VW 8
#define V_LP 8
#define V_REP(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define V_TARGET __attribute__((target("avx512f")))
#define V_NAME(f) f##_avx512
#define V_LOAD _mm512_load_pd
#define V_LOADU _mm512_loadu_pd
#define V_STORE _mm512_store_pd
#define V_STOREU _mm512_storeu_pd
#define V_STREAM _mm512_stream_pd
#define V_SET1 _mm512_set1_pd
#define V_ZERO _mm512_setzero_pd
#define V_ADD _mm512_add_pd
#define V_SUB _mm512_sub_pd
#define V_MUL _mm512_mul_pd
#define V_DIV _mm512_div_pd
#define V_MAX _mm512_max_pd
#define V_FMA _mm512_fmadd_pd
#define V_RADD _mm512_reduce_add_pd
#define V_RMAX _mm512_reduce_max_pd
#define V_EXP_SETUP const hj__exp_table exp_table_ = hj__exp_table_load()
#define V_EXP(t) hj__exp_nonpos((t), exp_table_)
#define V_EXP_SCALED(zm, s, vc) hj__exp_nonpos_scaled((zm), (s), (vc), exp_table_)
#define V_EXP_C HJ_EXP_AVX512_C
#define V_EXP_PAIRS 1

#elif defined(HJ_VSET_AVX2)
#include "core/exp_avx2.h"
#define V __m256d
#define VW 4
#define V_LP 4
#define V_REP(X) X(0) X(1) X(2) X(3)
#define V_TARGET __attribute__((target("avx2,fma")))
#define V_NAME(f) f##_avx2
#define V_LOAD _mm256_load_pd
#define V_LOADU _mm256_loadu_pd
#define V_STORE _mm256_store_pd
#define V_STOREU _mm256_storeu_pd
#define V_STREAM _mm256_stream_pd
#define V_SET1 _mm256_set1_pd
#define V_ZERO _mm256_setzero_pd
#define V_ADD _mm256_add_pd
#define V_SUB _mm256_sub_pd
#define V_MUL _mm256_mul_pd
#define V_DIV _mm256_div_pd
#define V_MAX _mm256_max_pd
#define V_FMA _mm256_fmadd_pd
#define V_RADD hj__radd_avx2
#define V_RMAX hj__rmax_avx2
#define V_EXP_SETUP ((void)0)
#define V_EXP(t) hj__exp_nonpos_avx2(t)
#define V_EXP_SCALED(zm, s, vc) hj__exp_nonpos_avx2_scaled((zm), (s), (vc))
#define V_EXP_C HJ_EXP_AVX2_C
#define V_EXP_PAIRS 0

#ifndef HJDL_SIMD_VEC_AVX2_REDUCE
#define HJDL_SIMD_VEC_AVX2_REDUCE
/* (v0 + v2) + (v1 + v3), and the same order for the max. */
__attribute__((target("avx2,fma"), always_inline)) static inline double hj__radd_avx2(__m256d v)
{
    const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
__attribute__((target("avx2,fma"), always_inline)) static inline double hj__rmax_avx2(__m256d v)
{
    const __m128d s = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_max_sd(s, _mm_unpackhi_pd(s, s)));
}
#endif

#else
#error "simd_vec.h: define HJ_VSET_AVX512 or HJ_VSET_AVX2 first"
#endif
