/* exp_avx2.h — the inline AVX2 + FMA exp of the Gibbs-weight kernels: exp(t) for t <= 0, flushed to 0 below 1e-307.
 *
 * The same contract as exp_avx512.h (read it first): exp(t) for t <= 0,
 * within 1.02 ulp of expl over [HJ_EXP_FLUSH_T, 0] (tests/test_kernels.c
 * measures and prints the worst case), exactly 0 for t < HJ_EXP_FLUSH_T,
 * t = -inf and NaN; t > 0 is outside the contract.
 *
 * Method: no table. AVX2 has no two-register permute (vpermt2q), so a table
 * costs either a gather (slow on many AVX2 CPUs) or several permutes and
 * blends per vector; with only 16 vector registers the kernels also cannot
 * spare registers to hold one. Instead t = k ln2 + r with k = round(t/ln2)
 * (the 1.5 * 2^52 shifter), r = t - k ln2 in two FMAs (ln2 split hi + lo),
 * |r| <= ln2/2 = 0.347; exp(t) = 2^k e^r, 2^k built by adding k << 52 to the
 * bits of 1.0, e^r - 1 by its Taylor polynomial to degree 13 (truncation
 * r^14/14! <= 4.4e-18 relative). The flush guarantees k >= -1020, where
 * 2^k is a normal number.
 */
#ifndef HJDL_EXP_AVX2_H
#define HJDL_EXP_AVX2_H

#include <immintrin.h>

#include "core/exp_avx512.h" /* HJ_EXP_FLUSH_T */

/* exp(t) lane-wise for t <= 0; exactly 0 where t < HJ_EXP_FLUSH_T or t is NaN. */
__attribute__((target("avx2,fma"), always_inline)) static inline __m256d
hj__exp_nonpos_avx2(__m256d t)
{
    /* 2^(j/4) = hi_j + lo_j, j = 0..3: hi_j rounded to nearest, lo_j the
     * rest (computed to 60 digits) */
    const __m256d thi = _mm256_setr_pd(1.0, 0x1.306fe0a31b715p+0, 0x1.6a09e667f3bcdp+0,
                                       0x1.ae89f995ad3adp+0);
    const __m256d tlo = _mm256_setr_pd(0.0, 0x1.6f46ad23182e4p-55, -0x1.bdd3413b26456p-54,
                                       0x1.7a1cd345dcc81p-54);
    const __m256d shifter = _mm256_set1_pd(0x1.8p52);
    const __m256d y = _mm256_fmadd_pd(t, _mm256_set1_pd(0x1.71547652b82fep+2), shifter); /* 4/ln2 */
    const __m256d k = _mm256_sub_pd(y, shifter);
    __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(0x1.62e42fefa39efp-3), t); /* ln2/4, hi */
    r = _mm256_fnmadd_pd(k, _mm256_set1_pd(0x1.abc9e3b39803fp-58), r);       /* and lo */
    const __m256i yi = _mm256_castpd_si256(y);
    /* vpermd indices 2j, 2j + 1 for the two halves of entry j = k & 3 (it
     * reads the low 3 bits of each 32-bit index) */
    const __m256i two_j = _mm256_slli_epi64(yi, 1);
    const __m256i idx = _mm256_or_si256(_mm256_shuffle_epi32(two_j, 0xA0),
                                        _mm256_setr_epi32(0, 1, 0, 1, 0, 1, 0, 1));
    const __m256d hi = _mm256_castsi256_pd(
        _mm256_permutevar8x32_epi32(_mm256_castpd_si256(thi), idx));
    const __m256d lo = _mm256_castsi256_pd(
        _mm256_permutevar8x32_epi32(_mm256_castpd_si256(tlo), idx));
    /* (k >> 2) << 52: the bits of y from bit 2 up, moved to the exponent */
    const __m256i ke = _mm256_and_si256(_mm256_slli_epi64(yi, 50),
                                        _mm256_set1_epi64x((int64_t)0xfff0000000000000));
    /* e^r - 1 = r + r^2 (1/2 + r/6 + ... + r^7/9!) */
    __m256d h = _mm256_fmadd_pd(_mm256_set1_pd(1.0 / 362880.0), r, _mm256_set1_pd(1.0 / 40320.0));
    h = _mm256_fmadd_pd(h, r, _mm256_set1_pd(1.0 / 5040.0));
    h = _mm256_fmadd_pd(h, r, _mm256_set1_pd(1.0 / 720.0));
    h = _mm256_fmadd_pd(h, r, _mm256_set1_pd(1.0 / 120.0));
    h = _mm256_fmadd_pd(h, r, _mm256_set1_pd(1.0 / 24.0));
    h = _mm256_fmadd_pd(h, r, _mm256_set1_pd(1.0 / 6.0));
    h = _mm256_fmadd_pd(h, r, _mm256_set1_pd(0.5));
    const __m256d em1 = _mm256_fmadd_pd(_mm256_mul_pd(r, r), h, r);
    const __m256d keep = _mm256_cmp_pd(t, _mm256_set1_pd(HJ_EXP_FLUSH_T), _CMP_GE_OQ);
    /* 2^(j/4) e^r = hi + (hi em1 + lo (1 + em1)) (lo em1 is below 2^-57 of
     * it), then times 2^(k >> 2) by adding to its exponent (the flush keeps
     * the result normal) */
    const __m256d p = _mm256_add_pd(hi, _mm256_fmadd_pd(hi, em1, lo));
    return _mm256_and_pd(keep, _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(p), ke)));
}

#endif /* HJDL_EXP_AVX2_H */
